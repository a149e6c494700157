"""The runnable examples of the docs print exactly what the docs (and AnyIO's seed) show.

Every ``docs/examples/NAME.py`` that has a sibling ``NAME.out`` is run as a script in a fresh
interpreter, and its standard output must equal the ``.out`` file byte for byte. Examples that
need a peer (the TLS server and client) are driven by their own tests instead.
"""

from __future__ import annotations

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
