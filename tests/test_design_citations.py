"""The code's citations of design decisions point into docs/design.rst, at decisions it has."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).parent.parent
DESIGN = ROOT / "docs" / "design.rst"
CITATION = re.compile(r"[Dd]ecision\s+(\d+)\s+in\s+docs/design\.rst")
ANCHOR = re.compile(r"^\.\. _decision-(\d+):$", re.MULTILINE)
# How the code cited the decisions before the repository had its design page.
OLD_CITATION = re.compile(r"DESIGN(?:\s+decision)?\s+\d+")


def cited_files() -> list[Path]:
    folders = ("src", "tests", "stubs", "benchmarks", "docs")
    files = [
        p for folder in folders for p in (ROOT / folder).rglob("*") if p.suffix in {".py", ".rst"}
    ]
    return [*files, ROOT / "README.md"]


def test_every_decision_has_an_anchor() -> None:
    assert sorted(map(int, ANCHOR.findall(DESIGN.read_text()))) == list(range(1, 14))


def test_citations_name_decisions_the_design_page_has() -> None:
    anchors = set(map(int, ANCHOR.findall(DESIGN.read_text())))
    cited = {
        (path.relative_to(ROOT).as_posix(), int(number))
        for path in cited_files()
        for number in CITATION.findall(path.read_text())
    }
    assert cited, "no citation found: the pattern no longer matches how the code cites"
    assert {(path, n) for path, n in cited if n not in anchors} == set()


def test_no_citation_of_the_old_design_document() -> None:
    stale = [
        f"{path.relative_to(ROOT)}: {match.group()}"
        for path in cited_files()
        if path.name != Path(__file__).name
        for match in OLD_CITATION.finditer(path.read_text())
    ]
    assert not stale, "cite 'decision N in docs/design.rst' instead: " + ", ".join(stale)
