"""The runnable examples of the docs print exactly what the docs (and AnyIO's seed) show.

Every ``docs/examples/NAME.py`` that has a sibling ``NAME.out`` is run as a script in a fresh
interpreter, and its standard output must equal the ``.out`` file byte for byte. Examples that
need a peer (the TLS server and client) are driven by their own tests instead. The example
targets shipped in ``streamspec.conformance.examples`` are checked from a folder outside the
repository, and must get the verdict the docs give them.
"""

from __future__ import annotations

import json
import pkgutil
import subprocess
import sys
from pathlib import Path

import pytest

EXAMPLES = Path(__file__).resolve().parent.parent / "docs" / "examples"
SCRIPTS = sorted(path for path in EXAMPLES.glob("*.py") if path.with_suffix(".out").exists())


def test_there_are_examples_to_run() -> None:
    assert SCRIPTS, f"no example with an expected output in {EXAMPLES}"


@pytest.mark.parametrize("script", SCRIPTS, ids=[path.stem for path in SCRIPTS])
def test_example_prints_its_documented_output(script: Path) -> None:
    completed = subprocess.run(
        [sys.executable, "-W", "error", str(script)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert completed.returncode == 0, completed.stderr
    assert completed.stdout == script.with_suffix(".out").read_text(encoding="utf-8")


# -- the example targets the wheel ships for the docs ------------------------------------------

#: Every shipped example target -> the exit status of ``streamspec check`` on it, and every
#: rule that does not pass there (on both backends) with its outcome, as the docs say.
SHIPPED_VERDICTS = {
    "socketpair": (0, {"BYTE-CLOSED": "known-divergence"}),
    "broken_tls_hostname": (1, {"TLS-HOSTNAME": "failed"}),
}


def _check(*argv: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    """``streamspec check`` as a user runs it, from a folder holding nothing of this repo."""
    return subprocess.run(
        [sys.executable, "-W", "error", "-m", "streamspec", "check", *argv],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
        cwd=cwd,
    )


def test_every_shipped_example_target_has_its_verdict() -> None:
    import streamspec.conformance.examples as package

    shipped = {info.name for info in pkgutil.iter_modules(package.__path__)}
    assert shipped == SHIPPED_VERDICTS.keys()


@pytest.mark.parametrize("name", sorted(SHIPPED_VERDICTS))
def test_a_shipped_example_target_gets_the_verdict_the_docs_give(name: str, tmp_path: Path) -> None:
    status, broken = SHIPPED_VERDICTS[name]
    completed = _check(
        f"streamspec.conformance.examples.{name}:target", "--json", "-", cwd=tmp_path
    )
    assert completed.returncode == status, completed.stderr
    records = json.loads(completed.stdout)
    assert {r["backend"] for r in records} == {"asyncio", "trio"}
    not_passing = {
        (r["rule"], r["backend"]): r["outcome"]
        for r in records
        if r["outcome"] not in ("passed", "not-provided")
    }
    assert not_passing == {
        (rule, backend): outcome
        for rule, outcome in broken.items()
        for backend in ("asyncio", "trio")
    }


def test_the_docs_failing_report_is_the_real_one(tmp_path: Path) -> None:
    # docs/check.rst shows this command's report (literalinclude of the .out file).
    target = "streamspec.conformance.examples.broken_tls_hostname:target"
    completed = _check(target, "--role", "tls", "--quiet", cwd=tmp_path)
    assert completed.returncode == 1, completed.stderr
    expected = (EXAMPLES / "check_broken_tls_hostname.out").read_text(encoding="utf-8")
    assert completed.stdout == expected
