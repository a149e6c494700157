"""The typing negatives in stubs/typing are rejected by mypy, each for the reason it names.

A line marked ``# E: code`` must get exactly that error code; ``# E: code [member]`` also
requires mypy's notes to blame that protocol member. Any error on an unmarked line fails too.
"""

from __future__ import annotations

import re
from collections import defaultdict
from pathlib import Path

import pytest
from mypy import api

NEGATIVES = Path(__file__).parent.parent / "stubs" / "typing"
MARKER = re.compile(r"#\s*E:\s*(?P<code>[a-z-]+)(?:\s*\[(?P<member>\w+)\])?")
REPORT = re.compile(r"^(?P<file>[^:]+):(?P<line>\d+): (?P<kind>error|note): (?P<text>.*)$")
# A note blames a member either as missing ("    send_eof" after "is missing ...") or as
# conflicting ("def receive(...)" under "Expected:"/"Got:").
BLAMED = re.compile(r"^\s+(?:def )?(?P<member>\w+)(?:\(|$|, )")

Case = tuple[str, int]


def expected_cases() -> dict[Case, tuple[str, str | None]]:
    cases: dict[Case, tuple[str, str | None]] = {}
    for path in sorted(NEGATIVES.glob("*.py")):
        for number, text in enumerate(path.read_text().splitlines(), start=1):
            if match := MARKER.search(text):
                cases[(path.name, number)] = (match["code"], match["member"])
    return cases


@pytest.fixture(scope="module")
def mypy_report() -> tuple[dict[Case, set[str]], dict[Case, set[str]]]:
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


def test_every_negative_file_has_cases() -> None:
    files = {name for name, _ in expected_cases()}
    assert files == {p.name for p in NEGATIVES.glob("*.py")}


@pytest.mark.parametrize(("case", "expected"), sorted(expected_cases().items()), ids=str)
def test_negative_is_rejected_for_its_reason(
    case: Case,
    expected: tuple[str, str | None],
    mypy_report: tuple[dict[Case, set[str]], dict[Case, set[str]]],
) -> None:
    codes, members = mypy_report
    code, member = expected
    assert codes.get(case) == {code}, f"{case}: mypy reported {codes.get(case)}, not {code!r}"
    if member is not None:
        assert member in members[case], f"{case}: mypy blamed {members[case]}, not {member!r}"


def test_no_unexpected_errors(
    mypy_report: tuple[dict[Case, set[str]], dict[Case, set[str]]],
) -> None:
    codes, _ = mypy_report
    unexpected = set(codes) - set(expected_cases())
    assert not unexpected, f"errors on unmarked lines: {sorted(unexpected)}"
