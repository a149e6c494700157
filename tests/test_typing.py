"""The typing cases hold under mypy and under pyright (strict), as decision 13 in
docs/design.rst asks.

stubs/typing holds the negatives: a line marked ``# E: code`` must be rejected, by mypy with
exactly that error code and by pyright with the rule that code corresponds to;
``# E: code [member]`` also requires each checker to blame that protocol member. Any error on
an unmarked line fails too. tests/static holds the positives, which both checkers must accept
(mypy through the project's own ``mypy --strict`` run, pyright here). The package's public
interface must also be completely typed by pyright's measure (``--verifytypes``).
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from collections import defaultdict
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from mypy import api

ROOT = Path(__file__).parent.parent
NEGATIVES = ROOT / "stubs" / "typing"
POSITIVES = Path(__file__).parent / "static"
PYRIGHT_CONFIG = NEGATIVES / "pyright-strict.json"
MARKER = re.compile(r"#\s*E:\s*(?P<code>[a-z-]+)(?:\s*\[(?P<member>\w+)\])?")
REPORT = re.compile(r"^(?P<file>[^:]+):(?P<line>\d+): (?P<kind>error|note): (?P<text>.*)$")
# A mypy note blames a member either as missing ("    send_eof" after "is missing ...") or as
# conflicting ("def receive(...)" under "Expected:"/"Got:").
BLAMED = re.compile(r"^\s+(?:def )?(?P<member>\w+)(?:\(|$|, )")
# pyright names the member in its message: '"receive" is an incompatible type' or
# '"send_eof" is not present'.
PYRIGHT_BLAMED = re.compile(r'"(?P<member>\w+)" is (?:an incompatible type|not present)')
# The pyright rule that reports what each mypy error code in the markers stands for.
PYRIGHT_RULE = {
    "assignment": "reportAssignmentType",
    "arg-type": "reportArgumentType",
    "return-value": "reportReturnType",
}

Case = tuple[str, int]
# Per checker: the error codes (mypy) or rules (pyright) reported on each line, and the
# protocol members blamed there.
Report = tuple[dict[Case, set[str]], dict[Case, set[str]]]


def expected_cases() -> dict[Case, tuple[str, str | None]]:
    cases: dict[Case, tuple[str, str | None]] = {}
    for path in sorted(NEGATIVES.glob("*.py")):
        for number, text in enumerate(path.read_text().splitlines(), start=1):
            if match := MARKER.search(text):
                cases[(path.name, number)] = (match["code"], match["member"])
    return cases


def run_mypy() -> Report:
    """Run mypy once over every negative; return error codes and blamed members per line."""
    files = [str(p) for p in sorted(NEGATIVES.glob("*.py"))]
    config = str(NEGATIVES / "mypy-negatives.ini")
    stdout, stderr, _ = api.run(["--config-file", config, "--no-incremental", *files])
    assert not stderr, stderr
    codes: dict[Case, set[str]] = defaultdict(set)
    members: dict[Case, set[str]] = defaultdict(set)
    for line in stdout.splitlines():
        if not (match := REPORT.match(line)):
            continue
        case = (Path(match["file"]).name, int(match["line"]))
        if match["kind"] == "error":
            code = re.search(r"\[([a-z-]+)\]$", match["text"])
            codes[case].add(code.group(1) if code else "?")
        elif blamed := BLAMED.match(match["text"]):
            members[case].add(blamed["member"])
    return codes, members


def pyright(*args: str) -> dict[str, Any]:
    """Run the pinned pyright on this interpreter's packages; return its JSON report."""
    # pyright finds the packages to check against through the first `python` on PATH.
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"}
    done = subprocess.run(
        [sys.executable, "-m", "pyright", "--outputjson", *args],
        capture_output=True,
        text=True,
        env=env,
        cwd=ROOT,
        check=False,
    )
    # Exit status 1 means "errors found", which the negatives must produce; more is a failure
    # of pyright itself.
    assert done.returncode in (0, 1), done.stderr or done.stdout
    report: dict[str, Any] = json.loads(done.stdout)
    return report


def pyright_diagnostics(*files: Path) -> list[dict[str, Any]]:
    """pyright's diagnostics for ``files`` in strict mode."""
    report = pyright("-p", str(PYRIGHT_CONFIG), *map(str, files))
    assert report["summary"]["filesAnalyzed"] == len(files), report["summary"]
    diagnostics: list[dict[str, Any]] = report["generalDiagnostics"]
    return diagnostics


def run_pyright() -> Report:
    """Run pyright strict once over every negative; return rules and blamed members per line."""
    rules: dict[Case, set[str]] = defaultdict(set)
    members: dict[Case, set[str]] = defaultdict(set)
    for diagnostic in pyright_diagnostics(*sorted(NEGATIVES.glob("*.py"))):
        case = (Path(diagnostic["file"]).name, diagnostic["range"]["start"]["line"] + 1)
        rules[case].add(diagnostic.get("rule", diagnostic["severity"]))
        members[case].update(m["member"] for m in PYRIGHT_BLAMED.finditer(diagnostic["message"]))
    return rules, members


# The checkers, and how each names the error a marker's mypy code stands for.
CHECKERS: dict[str, tuple[Callable[[], Report], Callable[[str], str]]] = {
    "mypy": (run_mypy, lambda code: code),
    "pyright": (run_pyright, lambda code: PYRIGHT_RULE.get(code, f"<no pyright rule for {code}>")),
}


@pytest.fixture(scope="module", params=sorted(CHECKERS))
def checker(request: pytest.FixtureRequest) -> tuple[str, Report, Callable[[str], str]]:
    """A checker's name, its report on the negatives, and its name for each marker's code."""
    name: str = request.param
    run, translate = CHECKERS[name]
    return name, run(), translate


def test_every_negative_file_has_cases() -> None:
    files = {name for name, _ in expected_cases()}
    assert files == {p.name for p in NEGATIVES.glob("*.py")}


@pytest.mark.parametrize(("case", "expected"), sorted(expected_cases().items()), ids=str)
def test_negative_is_rejected_for_its_reason(
    case: Case,
    expected: tuple[str, str | None],
    checker: tuple[str, Report, Callable[[str], str]],
) -> None:
    name, (codes, members), translate = checker
    code, member = expected
    assert codes.get(case) == {translate(code)}, (
        f"{case}: {name} reported {codes.get(case)}, not {translate(code)!r}"
    )
    if member is not None:
        assert member in members[case], f"{case}: {name} blamed {members[case]}, not {member!r}"


def test_no_unexpected_errors(checker: tuple[str, Report, Callable[[str], str]]) -> None:
    name, (codes, _), _ = checker
    unexpected = set(codes) - set(expected_cases())
    assert not unexpected, f"{name}: errors on unmarked lines: {sorted(unexpected)}"


def test_pyright_strict_accepts_the_positives() -> None:
    diagnostics = pyright_diagnostics(*sorted(POSITIVES.glob("*.py")))
    assert not diagnostics, [
        f"{Path(d['file']).name}:{d['range']['start']['line'] + 1}: {d['message']}"
        for d in diagnostics
    ]


def test_pyright_finds_the_public_interface_completely_typed() -> None:
    report = pyright("--verifytypes", "streamspec", "--ignoreexternal")
    completeness = report["typeCompleteness"]
    gaps = [
        f"{symbol['name']}: {diagnostic['message'].splitlines()[0]}"
        for symbol in completeness["symbols"]
        for diagnostic in symbol["diagnostics"]
        if diagnostic["severity"] == "error"
    ]
    assert completeness["packageRootDirectory"], "pyright did not find the installed streamspec"
    assert not gaps, gaps
    assert completeness["completenessScore"] == 1
