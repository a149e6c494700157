"""Sphinx configuration: the guide, the protocol reference and the rule catalogue."""

from __future__ import annotations

import sys
from pathlib import Path

# The rule catalogue page and the subject graph table are generated from the suite's data by
# local extensions.
sys.path.insert(0, str(Path(__file__).resolve().parent / "_ext"))

project = "streamspec"
author = "the streamspec developers"
copyright = "2026, the streamspec developers"
extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.intersphinx",
    "sphinx.ext.viewcode",
    "rule_catalogue",
    "subject_graph",
]
autodoc_member_order = "bysource"
autodoc_typehints = "signature"
autodoc_default_options = {"members": True, "show-inheritance": True}
# The docs build offline (CI has no network), so cross-references to AnyIO, Trio and Python
# render as plain text instead of being resolved.
intersphinx_mapping: dict[str, tuple[str, str | None]] = {}
nitpicky = False
html_theme = "alabaster"
exclude_patterns = ["_build", "_ext"]
