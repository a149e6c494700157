"""Sphinx extension: ``.. rule-catalogue::`` renders the suite's rules from the catalogue data.

The page is generated at build time from :data:`streamspec.conformance.catalogue.RULES`, so the
docs can never disagree with what ``streamspec rules`` prints and the suite checks. Each role
becomes a section; each rule a labelled entry (``rule-<ID>`` in lower case) that other pages
can link to with ``:ref:``.
"""

from __future__ import annotations

from typing import Any

from docutils import nodes
from docutils.statemachine import StringList
from sphinx.application import Sphinx
from sphinx.util.docutils import SphinxDirective
from sphinx.util.nodes import nested_parse_with_titles

from streamspec.conformance.catalogue import CALLER_RULES, ROLES, RULES, Rule


def escaped(text: str) -> str:
    """``text`` as plain reStructuredText: no character of it starts markup."""
    return "".join("\\" + c if c in "\\*`|_" else c for c in text)


def catalogue_lines(underline: str = "-") -> list[str]:
    """The catalogue as reStructuredText: a section per role, a definition per rule."""
    lines: list[str] = []
    for role, title in ROLES.items():
        rules = [r for r in RULES.values() if r.role == role]
        heading = f"{role}: {title}"
        lines += [f".. _role-{role}:", "", heading, underline * len(heading), ""]
        lines += [f"{len(rules)} rules.", ""]
        for rule in rules:
            lines += _entry(rule)
    heading = "Rules for callers"
    lines += [".. _role-callers:", "", heading, underline * len(heading), ""]
    lines += [
        "What code that *uses* a stream must not do. A stream may refuse it, so the suite does "
        "not check these on streams; :func:`streamspec.checked` checks them on their callers.",
        "",
    ]
    for rule in CALLER_RULES.values():
        lines += _entry(rule)
    return lines


def _entry(rule: Rule) -> list[str]:
    """One rule as a labelled definition."""
    return [
        f".. _rule-{rule.id.lower()}:",
        "",
        f"``{rule.id}``",
        "   " + escaped(rule.sentence),
        "",
    ]


class GeneratedDirective(SphinxDirective):
    """A directive that inserts reStructuredText generated from the suite's data."""

    has_content = False

    def lines(self) -> list[str]:
        raise NotImplementedError

    def run(self) -> list[nodes.Node]:
        container = nodes.section()
        container.document = self.state.document
        source = StringList(self.lines(), source=f"<{self.name}>")
        nested_parse_with_titles(self.state, source, container)
        return list(container.children)


class RuleCatalogue(GeneratedDirective):
    """Insert the whole rule catalogue, grouped by role, in catalogue order."""

    def lines(self) -> list[str]:
        return catalogue_lines()


def setup(app: Sphinx) -> dict[str, Any]:
    app.add_directive("rule-catalogue", RuleCatalogue)
    return {"version": "1", "parallel_read_safe": True, "parallel_write_safe": True}
