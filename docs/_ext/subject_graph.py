"""Sphinx extension: ``.. subject-graph::`` renders the suite's subject graph as a table.

The table is generated at build time from :data:`streamspec.conformance.subjects.SUBJECT_GRAPH`,
the same data the suite builds its subjects by (``tests/test_subject_graph.py`` keeps the two
in step), so the docs cannot disagree with which streams a rule runs over.
"""

from __future__ import annotations

from typing import Any

from rule_catalogue import GeneratedDirective, escaped
from sphinx.application import Sphinx

from streamspec.conformance.subjects import SUBJECT_GRAPH


def _literal(text: str) -> str:
    return f"``{text}``"


def graph_lines() -> list[str]:
    """The subject graph as a reStructuredText list table, one row per kind of subject."""
    lines = [
        ".. list-table::",
        "   :header-rows: 1",
        "   :widths: 25 20 25 30",
        "",
        "   * - Subject",
        "     - Built from",
        "     - What a check gets (rule roles)",
        "     - What it is",
    ]
    for kind in SUBJECT_GRAPH:
        name = _literal(kind.name) + (" (or each key of its mapping)" if kind.explicit else "")
        roles = ", ".join(f":ref:`{role} <role-{role}>`" for role in kind.roles)
        lines += [
            f"   * - {name}",
            f"     - {', '.join(map(_literal, kind.fields))}",
            f"     - {', '.join(kind.shapes)} ({roles})",
            f"     - {escaped(kind.what)}",
        ]
    return lines


class SubjectGraph(GeneratedDirective):
    """Insert the table of the kinds of subject a target yields."""

    def lines(self) -> list[str]:
        return graph_lines()


def setup(app: Sphinx) -> dict[str, Any]:
    app.add_directive("subject-graph", SubjectGraph)
    return {"version": "1", "parallel_read_safe": True, "parallel_write_safe": True}
