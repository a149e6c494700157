"""The clock every measurement reads: CPU time of this process by default, or wall time.

On a shared machine a process is descheduled at random while it runs; wall time charges
those gaps to whichever variant was running, CPU time does not. Every job here runs on one
thread, never sleeps and never waits for I/O (its transports are in memory), so its CPU time
is the whole of its cost. ``--clock wall`` is there for an idle machine, or to check that
claim.
"""

from __future__ import annotations

import time
from collections.abc import Callable

__all__ = ["CLOCKS", "kind", "now", "use"]

#: The clocks ``--clock`` offers.
CLOCKS: dict[str, Callable[[], float]] = {
    "cpu": time.process_time,
    "wall": time.perf_counter,
}

_current = ["cpu"]


def use(name: str) -> None:
    """Read ``name`` ("cpu" or "wall") from now on.

    :raises ValueError: no clock has that name.
    """
    if name not in CLOCKS:
        raise ValueError(f"unknown clock {name!r}; choose from {sorted(CLOCKS)}")
    _current[0] = name


def kind() -> str:
    """The name of the clock in use."""
    return _current[0]


def now() -> float:
    """Seconds on the clock in use; only differences mean anything."""
    return CLOCKS[_current[0]]()
