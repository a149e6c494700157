"""``streamspec check`` and ``streamspec rules``: exit statuses, the report, the JSON records.

The runs are restricted to a few TLS rules, which take a fraction of a second each.
"""

from __future__ import annotations

import io
import json
import re
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from streamspec._cli import main
from streamspec.conformance import Target, load_target, run_checks
from streamspec.conformance.catalogue import RULES
from streamspec.conformance.report import Progress

QUICK = ["--rule", "TLS-HOSTNAME", "--rule", "TLS-UNTRUSTED"]
#: A target that provides nothing, which the command line refuses (``tests.test_cli:EMPTY``).
EMPTY = Target(name="empty")


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    status = main(list(argv))
    out, err = capsys.readouterr()
    return status, out, err


@pytest.fixture
def divergent_target(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    """A target that breaks TLS-HOSTNAME knowingly and declares TLS-UNTRUSTED wrongly."""
    (tmp_path / "divergent_target.py").write_text(
        textwrap.dedent(
            """
            from stubs.broken_tls_hostname import HostnameBlindTLSStream
            from streamspec.conformance import Divergence, Target

            target = Target(
                name="divergent",
                tls_stream=HostnameBlindTLSStream,
                known_divergences=(
                    Divergence("TLS-HOSTNAME", "checks no host name", "https://example.invalid/7"),
                    Divergence("TLS-UNTRUSTED", "thought to accept any issuer"),
                ),
            )
            """
        )
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    return "divergent_target:target"


def test_the_reference_passes_and_exits_0(capsys: pytest.CaptureFixture[str]) -> None:
    status, out, err = run(capsys, "check", *QUICK)
    assert status == 0, out
    assert "streamspec conformance report for streamspec" in out
    assert out.rstrip().endswith(
        "OK: 4 passed, 0 failed, 0 known divergences, 0 not provided (rule x backend)"
    )
    # Progress went to stderr, one line per check when not on a terminal.
    assert err.count("\n") == 4
    assert "[1/4] TLS-HOSTNAME on asyncio: passed" in err


def test_the_matrix_counts_roles_by_backend(capsys: pytest.CaptureFixture[str]) -> None:
    status, out, _ = run(capsys, "check", "stubs.broken_tls_hostname:target", "--role", "tls")
    assert status == 1
    lines = out.splitlines()
    header = lines.index("role   asyncio               trio")
    assert lines[header + 2] == "tls    9 ok  1 FAIL  1 n/p   9 ok  1 FAIL  1 n/p"


def test_a_failure_names_the_rule_the_backend_and_the_observation(
    capsys: pytest.CaptureFixture[str],
) -> None:
    status, out, _ = run(capsys, "check", "stubs.broken_tls_hostname:target", *QUICK, "-q")
    assert status == 1
    assert "Failed (2)" in out
    assert "[TLS-HOSTNAME] on asyncio" in out
    assert "[TLS-HOSTNAME] on trio" in out
    assert "A client refuses a server certificate issued for another host name" in out
    assert "the client completed the handshake" in out
    assert "[TLS-UNTRUSTED]" not in out.split("Failed (2)")[1]
    assert out.rstrip().endswith(
        "FAILED: 2 passed, 2 failed, 0 known divergences, 0 not provided (rule x backend)"
    )


def test_known_and_stale_divergences_are_reported(
    capsys: pytest.CaptureFixture[str], divergent_target: str
) -> None:
    status, out, _ = run(capsys, "check", divergent_target, *QUICK, "--backend", "trio", "-q")
    assert status == 1  # the stale entry is a failure
    assert "Known divergences (1)" in out
    assert "checks no host name" in out
    assert "link: https://example.invalid/7" in out
    assert "Stale known divergences (1)" in out
    assert "[TLS-UNTRUSTED] on trio: passed, but declared as a divergence" in out
    assert "Failed (" not in out


def test_json_has_one_record_per_rule_and_backend(
    capsys: pytest.CaptureFixture[str], divergent_target: str, tmp_path: Path
) -> None:
    report = tmp_path / "report.json"
    status, _, _ = run(
        capsys, "check", divergent_target, *QUICK, "--rule", "TLS-LISTENER-SURVIVES",
        "--json", str(report), "-q",
    )  # fmt: skip
    assert status == 1
    records = json.loads(report.read_text())
    assert [(r["rule"], r["backend"], r["outcome"]) for r in records] == [
        ("TLS-HOSTNAME", "asyncio", "known-divergence"),
        ("TLS-HOSTNAME", "trio", "known-divergence"),
        ("TLS-UNTRUSTED", "asyncio", "failed"),
        ("TLS-UNTRUSTED", "trio", "failed"),
        ("TLS-LISTENER-SURVIVES", "asyncio", "not-provided"),
        ("TLS-LISTENER-SURVIVES", "trio", "not-provided"),
    ]
    first = records[0]
    assert first["role"] == "tls"
    assert first["sentence"] == RULES["TLS-HOSTNAME"].sentence
    assert "the client completed the handshake" in first["message"]
    assert first["divergence"] == {
        "reason": "checks no host name",
        "link": "https://example.invalid/7",
    }
    assert [r["stale"] for r in records] == [False, False, True, True, False, False]
    assert records[4]["message"] == "divergent does not provide tls_listener"


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["check", "no_such_module_here"], "target module 'no_such_module_here' cannot be"),
        (["check", "streamspec:NOPE"], "module 'streamspec' has no attribute 'NOPE'"),
        (["check", "a:b:c"], "target must be 'module' or 'module:attribute'"),
        (
            ["check", "streamspec.conformance.subjects:PATIENCE"],
            "'streamspec.conformance.subjects:PATIENCE' (float) is neither a Target nor a "
            "namespace with any of AnyIO's names",
        ),
        (["check", "tests.test_cli:EMPTY"], "target 'empty' provides no stream at all"),
        (
            ["check", "tests.crashing_target"],
            "target module 'tests.crashing_target' raised ZeroDivisionError: integer division "
            "or modulo by zero while being imported (at ",
        ),
        (["check", "--role", "sockets"], "unknown role sockets; roles are resource, byte"),
        (["check", "--rule", "BYTE-NOPE"], "no rule BYTE-NOPE in the catalogue"),
        (["check", "--backend", "curio"], "unknown backend 'curio'"),
        (["check", "--timeout", "-1"], "--timeout must be a positive number"),
        (["check", "--budget", "0"], "--budget must be a positive number"),
        (["check", "--profile", "fast"], "unknown Hypothesis profile 'fast'"),
    ],
)
def test_usage_errors_exit_2_with_one_line(
    capsys: pytest.CaptureFixture[str], argv: list[str], message: str
) -> None:
    status, out, err = run(capsys, *argv)
    assert status == 2
    assert out == ""
    assert err.startswith("streamspec check: error: " + message)
    assert err.count("\n") == 1
    assert "Traceback" not in err


def test_a_module_named_without_its_target_attribute_gets_a_hint(
    capsys: pytest.CaptureFixture[str],
) -> None:
    status, _, err = run(capsys, "check", "tests.test_cli")
    assert status == 2
    assert err.rstrip().endswith("did you mean tests.test_cli:EMPTY?")


def test_the_budget_option_reaches_the_run(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from streamspec.conformance import runner

    seen: list[object] = []

    def recording(target: Target, **options: object) -> list[object]:
        seen.append(options["budget"])
        return []

    monkeypatch.setattr(runner, "iter_results", recording)
    run(capsys, "check", "--rule", "BYTE-INTACT", "--budget", "7.5", "-q")
    assert seen == [7.5]


def test_argparse_errors_exit_2(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exc:
        main(["check", "--timeout", "soon"])
    assert exc.value.code == 2
    assert "invalid float value: 'soon'" in capsys.readouterr().err


@pytest.mark.parametrize("command", ["check", "rules"])
def test_an_unknown_option_is_refused_with_its_commands_usage(
    capsys: pytest.CaptureFixture[str], command: str
) -> None:
    with pytest.raises(SystemExit) as exc:
        main([command, "--bogus"])
    assert exc.value.code == 2
    err = capsys.readouterr().err
    assert err.startswith(f"usage: streamspec {command} ")
    assert err.endswith(f"streamspec {command}: error: unrecognized arguments: --bogus\n")


def test_rules_lists_the_catalogue_by_role(capsys: pytest.CaptureFixture[str]) -> None:
    status, out, _ = run(capsys, "rules")
    assert status == 0
    assert out.startswith("resource: closeable resources and typed attributes\n")
    for rule in RULES.values():
        assert f"  {rule.id:28} {rule.sentence}\n" in out


def test_the_console_script_runs_the_check_command(tmp_path: Path) -> None:
    completed = subprocess.run(
        [sys.executable, "-m", "streamspec", "check", "--rule", "TLS-ALPN", "--json", "-"],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=tmp_path,
    )
    assert completed.returncode == 0, completed.stdout + completed.stderr
    # Standard output is the JSON alone, so that it can be piped; the report is on stderr.
    records = json.loads(completed.stdout)
    assert [r["outcome"] for r in records] == ["passed", "passed"]
    assert "OK: 2 passed" in completed.stderr
    bad = subprocess.run(
        [sys.executable, "-m", "streamspec._cli", "check", "--role", "nope"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert bad.returncode == 2
    assert bad.stderr.strip().splitlines() == [
        "streamspec check: error: unknown role nope; roles are resource, byte, object, unreliable, "
        "memory, stapled, buffered, text, tls, listener"
    ]


def test_on_a_terminal_progress_keeps_one_line_and_shows_failures() -> None:
    results = run_checks(
        load_target("stubs.broken_tls_hostname:target"),
        rules=["TLS-UNTRUSTED", "TLS-HOSTNAME"],
        backends=["asyncio"],
    )
    stream = io.StringIO()
    progress = Progress(stream, total=2, tty=True)
    for result in results:
        progress.started(result.rule, result.backend)
        progress.finished(result)
    progress.close()
    text = stream.getvalue()
    assert text.startswith("\r\x1b[K[1/2] TLS-HOSTNAME on asyncio ...")
    assert re.search(r"\r\x1b\[K\[1/2\] TLS-HOSTNAME on asyncio: failed \d+\.\ds\n", text)
    assert "\r\x1b[K[2/2] TLS-UNTRUSTED on asyncio ..." in text
    assert "TLS-UNTRUSTED on asyncio: passed" not in text  # a pass only moves the line on
    assert text.endswith("\r\x1b[K")


def test_a_closed_pipe_ends_the_output_quietly() -> None:
    completed = subprocess.run(
        f"{sys.executable} -m streamspec._cli rules | head -n 1",
        shell=True,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert completed.stdout == "resource: closeable resources and typed attributes\n"
    assert completed.stderr == ""


def test_a_tls_stream_that_ignores_max_bytes_fails_the_byte_rule(
    capsys: pytest.CaptureFixture[str],
) -> None:
    # The stub has nothing but a TLS stream: only the TLS byte subject can catch it.
    status, out, _ = run(
        capsys, "check", "stubs.broken_tls_max_bytes:target", "--rule", "BYTE-MAX-BYTES"
    )
    assert status == 1
    assert "[BYTE-MAX-BYTES] on asyncio" in out
    assert re.search(
        r"TLS stream over an in-memory transport: receive\(\d+\) returned \d+ bytes", out
    )
    assert out.rstrip().endswith(
        "FAILED: 0 passed, 2 failed, 0 known divergences, 0 not provided (rule x backend)"
    )


def test_the_header_names_the_target_backends_profile_and_seed(
    capsys: pytest.CaptureFixture[str],
) -> None:
    status, out, _ = run(capsys, "check", *QUICK, "--profile", "dev", "--seed", "41", "-q")
    assert status == 0, out
    assert out.splitlines()[:4] == [
        "streamspec conformance report for streamspec",
        "  target:     streamspec",
        "  backends:   asyncio, trio",
        "  hypothesis: profile dev, seed 41",
    ]


def test_a_default_backend_that_is_not_installed_is_named_as_skipped(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from streamspec.conformance.runner import BACKENDS, Backend

    monkeypatch.setitem(BACKENDS, "trio", Backend("trio", "trio", requires="no_such_trio"))
    status, out, _ = run(capsys, "check", *QUICK, "-q")
    assert status == 0, out
    assert "  backends:   asyncio\n" in out
    assert "  skipped:    trio (not installed (pip install no_such_trio))\n" in out
    assert "  hypothesis: profile ci, seed 0\n" in out
    # Asked for by name, a backend that is not installed is a usage error instead.
    status, _, err = run(capsys, "check", *QUICK, "--backend", "trio")
    assert status == 2
    assert "needs the no_such_trio package installed" in err


def _failures(out: str) -> dict[str, tuple[str, str]]:
    """Each failure's heading -> (what was observed, the command that repeats it)."""
    found: dict[str, tuple[str, str]] = {}
    for block in out.split("\n\n[")[1:]:
        heading, _, rest = block.partition("\n")
        observed, _, command = rest.partition("  reproduce:\n")
        found["[" + heading] = (observed, command.splitlines()[0].strip())
    return found


def test_a_planted_bug_gives_the_same_report_twice_and_its_command_repeats_it(
    capsys: pytest.CaptureFixture[str],
) -> None:
    argv = ["check", "stubs.broken_byte_max_bytes:target", "--role", "byte", "-q"]
    first = run(capsys, *argv)
    second = run(capsys, *argv)
    assert first == second
    failures = _failures(first[1])
    assert list(failures) == ["[BYTE-MAX-BYTES] on asyncio", "[BYTE-MAX-BYTES] on trio"]
    observed, command = failures["[BYTE-MAX-BYTES] on trio"]
    assert "returned 2 bytes" in observed
    assert "reproduce_failure" not in first[1]
    assert "your test function" not in first[1]
    assert command == (
        "streamspec check stubs.broken_byte_max_bytes:target --rule BYTE-MAX-BYTES "
        "--backend trio --profile ci --seed 0"
    )
    status, out, _ = run(capsys, *command.split()[1:], "-q")
    assert status == 1
    assert _failures(out) == {"[BYTE-MAX-BYTES] on trio": (observed, command)}


def test_a_dev_run_names_its_random_seed_and_the_command_repeats_it(
    capsys: pytest.CaptureFixture[str],
) -> None:
    argv = ["check", "stubs.broken_byte_drops_remainder:target", "--profile", "dev", "-q"]
    status, out, _ = run(capsys, *argv, "--rule", "BYTE-INTACT", "--backend", "asyncio")
    assert status == 1
    seed = re.search(r"hypothesis: profile dev, seed (\d+)\n", out)
    assert seed is not None
    ((_, command),) = _failures(out).values()
    assert command.endswith(f"--profile dev --seed {seed[1]}")
    status, again, _ = run(capsys, *command.split()[1:], "-q")
    assert status == 1
    assert _failures(again) == _failures(out)


def test_a_reproducing_command_keeps_a_budget_given() -> None:
    from streamspec.conformance.report import RunInfo

    run = RunInfo(target="mypkg:target", profile="ci", seed=0, timeout=2.0, budget=120.0)
    assert run.reproduce("BYTE-INTACT", "trio") == (
        "streamspec check mypkg:target --rule BYTE-INTACT --backend trio --profile ci --seed 0 "
        "--timeout 2 --budget 120"
    )
