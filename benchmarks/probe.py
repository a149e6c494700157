"""Memory measurements, optionally each in a fresh interpreter.

tracemalloc counts only what is allocated while it traces, so measuring in-process is sound;
still, a long run leaves caches, interned objects and a grown allocator behind, and the full
run rules all that out by running each measurement as ``python -m benchmarks.probe
module:function arg...`` in a new process, which prints one number (the function's result)
as its last line of output.
"""

from __future__ import annotations

import importlib
import subprocess
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

__all__ = ["PROBE_TIMEOUT", "main", "run_probe"]

#: The repository root: the child's working directory, so that ``benchmarks`` imports.
ROOT = Path(__file__).resolve().parent.parent
#: Seconds a probe may take before it is reported as failed.
PROBE_TIMEOUT = 600.0


def run_probe(target: str, *args: str, fresh: bool = True) -> float:
    """Run the probe function ``target`` (``module:function``) with ``args`` in a new
    interpreter and return the number it printed.

    With ``fresh`` false the function runs in this process instead: cheaper, and enough
    when the figure does not matter (the smoke test's tiny sizes).

    :raises RuntimeError: the child failed; the message ends with its last stderr lines.
    :raises subprocess.TimeoutExpired: the child took longer than :data:`PROBE_TIMEOUT`.
    """
    if not fresh:
        return float(_load(target)(list(args)))
    completed = subprocess.run(
        [sys.executable, "-m", "benchmarks.probe", target, *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=PROBE_TIMEOUT,
        check=False,
    )
    if completed.returncode != 0:
        tail = " | ".join(completed.stderr.strip().splitlines()[-3:])
        raise RuntimeError(f"probe {target} {' '.join(args)} exited {completed.returncode}: {tail}")
    return float(completed.stdout.strip().splitlines()[-1])


def main(argv: Sequence[str]) -> int:
    """The child's side: call ``module:function`` with the remaining arguments."""
    target, *args = argv
    print(float(_load(target)(args)))
    return 0


def _load(target: str) -> Callable[[Sequence[str]], float]:
    module_name, _, function_name = target.partition(":")
    probe: Callable[[Sequence[str]], float] = getattr(
        importlib.import_module(module_name), function_name
    )
    return probe


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
