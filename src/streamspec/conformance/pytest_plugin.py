"""pytest plugin (``pytest11`` entry point): inert unless a project asks for the suite."""

from __future__ import annotations

import pytest


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("streamspec", "streamspec conformance suite")
    group.addoption(
        "--streamspec-target",
        action="store",
        default=None,
        help="run the streamspec conformance suite against TARGET (module or module:attribute)",
    )
