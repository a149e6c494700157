"""A user's first run, as they meet it: a target module in a fresh folder, checked by the
``streamspec`` script and by plain ``pytest`` (the installed scripts, not ``python -m``, which
would put the folder on ``sys.path`` by itself), and the same planted bug reported the same way
by two identical runs.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from streamspec.conformance import run_checks
from stubs import broken_object_copy, broken_object_duplicate

SCRIPTS = Path(sys.executable).parent
#: A user's own target module: a socket pair, with the defect of AnyIO's that it declares.
TARGET_MODULE = textwrap.dedent(
    """
    from streamspec.conformance import Divergence, Target
    from streamspec.conformance.examples.socketpair import socket_pair

    target = Target(
        name="mine",
        byte_stream_pair=socket_pair,
        known_divergences=(Divergence("BYTE-CLOSED", "AnyIO's socket streams raise OSError"),),
    )
    """
)


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    (tmp_path / "mymod.py").write_text(TARGET_MODULE, encoding="utf-8")
    return tmp_path


def _run(folder: Path, script: str, *argv: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTHON", "PYTEST"))}
    return subprocess.run(
        [str(SCRIPTS / script), *argv],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
        cwd=folder,
        env=env,
    )


def test_the_command_line_finds_the_target_in_the_folder_and_runs_both_backends(
    folder: Path,
) -> None:
    done = _run(folder, "streamspec", "check", "mymod:target", "--role", "byte", "-q")
    assert done.returncode == 0, done.stdout + done.stderr
    assert done.stdout.splitlines()[:4] == [
        "streamspec conformance report for mine",
        "  target:     mymod:target",
        "  backends:   asyncio, trio",
        "  hypothesis: profile ci, seed 0",
    ]
    assert re.search(r"^role +asyncio +trio$", done.stdout, re.MULTILINE), done.stdout
    assert done.stdout.splitlines()[-1].startswith("OK: ")


def test_plain_pytest_with_the_ini_file_runs_both_backends_and_takes_ids_back(
    folder: Path,
) -> None:
    (folder / "pytest.ini").write_text(
        "[pytest]\nstreamspec_target = mymod:target\nstreamspec_rules = BYTE-INTACT BYTE-CLOSED\n",
        encoding="utf-8",
    )
    done = _run(folder, "pytest", "-v", "-p", "no:cacheprovider")
    assert done.returncode == 0, done.stdout + done.stderr
    assert (
        "streamspec: target mymod:target, backends asyncio, trio, hypothesis profile ci, seed 0"
        in done.stdout
    )
    for line in (
        "mymod.py::streamspec[BYTE-INTACT-asyncio] PASSED",
        "mymod.py::streamspec[BYTE-INTACT-trio] PASSED",
        "mymod.py::streamspec[BYTE-CLOSED-asyncio] XFAIL",
        "mymod.py::streamspec[BYTE-CLOSED-trio] XFAIL",
    ):
        assert line in done.stdout, done.stdout
    again = _run(
        folder, "pytest", "-v", "-p", "no:cacheprovider", "mymod.py::streamspec[BYTE-INTACT-trio]"
    )
    assert again.returncode == 0, again.stdout + again.stderr
    assert "1 passed" in again.stdout
    assert "BYTE-INTACT-asyncio" not in again.stdout


def test_plain_pytest_with_a_test_module_finds_the_target_in_the_starting_folder(
    folder: Path,
) -> None:
    tests = folder / "tests"
    tests.mkdir()
    (tests / "test_conformance.py").write_text(
        'streamspec_target = "mymod:target"\nstreamspec_rules = ["BYTE-EOF"]\n', encoding="utf-8"
    )
    done = _run(folder, "pytest", "-v", "-p", "no:cacheprovider", "tests")
    assert done.returncode == 0, done.stdout + done.stderr
    assert "tests/test_conformance.py::streamspec[BYTE-EOF-asyncio] PASSED" in done.stdout
    assert "tests/test_conformance.py::streamspec[BYTE-EOF-trio] PASSED" in done.stdout


@pytest.mark.parametrize("stub", [broken_object_duplicate, broken_object_copy])
def test_a_planted_bug_gives_the_same_messages_in_two_identical_runs(stub: object) -> None:
    # Trio runs ready tasks in a random order unless the run's seed seeds it: these stubs'
    # messages (which item was duplicated; which objects were copied) used to change.
    def messages() -> list[tuple[str, str, str]]:
        results = run_checks(stub.target, rules=stub.BREAKS, backends=["asyncio", "trio"])  # type: ignore[attr-defined]
        return [(r.rule.id, r.backend, r.message) for r in results]

    first = messages()
    assert all(message for _, _, message in first)
    assert messages() == first
