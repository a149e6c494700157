"""Peak-memory meters: Python allocations (tracemalloc) and resident memory (Linux's VmHWM).

Each meter is a context manager yielding a function that returns the peak growth so far, in
bytes, over what was in use when the block began.

* :func:`traced` sees every allocation Python makes while it runs, and nothing made before;
  it is blind to memory that C libraries allocate themselves (OpenSSL's BIO buffers).
* :func:`resident` sees everything the process touches, OpenSSL included, but also memory
  the allocator hands back out after a previous variant freed it; so it is only sound in a
  fresh interpreter.
"""

from __future__ import annotations

import gc
import tracemalloc
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

__all__ = ["METERS", "resident", "traced"]

_STATUS = Path("/proc/self/status")
_CLEAR_REFS = Path("/proc/self/clear_refs")


@contextmanager
def traced() -> Iterator[Callable[[], float]]:
    """Trace allocations inside the block; the yielded function returns the peak traced
    bytes so far."""
    tracemalloc.start()
    try:
        baseline, _ = tracemalloc.get_traced_memory()

        def peak() -> float:
            return float(tracemalloc.get_traced_memory()[1] - baseline)

        yield peak
    finally:
        tracemalloc.stop()


@contextmanager
def resident() -> Iterator[Callable[[], float]]:
    """Reset the process's resident high-water mark; the yielded function returns how far it
    rose above the resident size at the start.

    :raises OSError: no ``/proc/self/clear_refs`` (not Linux, or not allowed).
    """
    gc.collect()
    _CLEAR_REFS.write_text("5")  # "5" resets VmHWM to the current resident size
    baseline = _status_bytes("VmRSS")

    def peak() -> float:
        # Never below 0: the resident size may shrink between the reset and the baseline.
        return float(max(_status_bytes("VmHWM") - baseline, 0))

    yield peak


def _status_bytes(field: str) -> int:
    for line in _STATUS.read_text().splitlines():
        if line.startswith(f"{field}:"):
            return int(line.split()[1]) * 1024  # reported in kB
    raise OSError(f"no {field} in {_STATUS}")


#: The meters by the name a probe is given.
METERS = {"traced": traced, "resident": resident}
