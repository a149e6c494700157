"""The event loops every workload runs on, and how to start one.

Each measurement starts a fresh loop and times only the work inside it, so loop start-up
never counts and no state leaks from one variant to the next.
"""

from __future__ import annotations

import asyncio
import importlib.util
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TypeVar

import anyio

__all__ = ["ASYNCIO", "BACKENDS", "MEASURE_TIMEOUT", "TRIO", "UVLOOP", "Backend", "by_name"]

T = TypeVar("T")

#: Seconds one measurement may take before it is cancelled and its variant reported as
#: failed: an implementation caught mid-change may deadlock, and must not hang the run.
MEASURE_TIMEOUT = 300.0


@dataclass(frozen=True)
class Backend:
    """An AnyIO backend: asyncio, asyncio on uvloop, or trio."""

    name: str
    anyio_backend: str
    use_uvloop: bool = False

    @property
    def is_asyncio(self) -> bool:
        """True when asyncio's own classes (Queue, StreamReader) run on this loop."""
        return self.anyio_backend == "asyncio"

    @property
    def missing(self) -> str | None:
        """Why this backend cannot run here, or None."""
        needed = "uvloop" if self.use_uvloop else self.anyio_backend
        if importlib.util.find_spec(needed) is None:
            return f"n/a ({needed} not installed)"
        return None

    def run(self, main: Callable[[], Awaitable[T]], timeout: float = MEASURE_TIMEOUT) -> T:
        """Run ``main`` in a new event loop of this backend and return its result.

        :raises TimeoutError: ``main`` took more than ``timeout`` seconds (it is cancelled).
        """

        async def guarded() -> T:
            if not self.is_asyncio:  # a Trio deadline costs nothing per checkpoint
                with anyio.fail_after(timeout):
                    return await main()
            # On asyncio an enclosing AnyIO cancel scope makes every checkpoint of the job
            # walk one more scope (~10-30% of a cancellation check), which the plain-code
            # floors would not pay; a native timer cancelling the task costs nothing per call.
            task = asyncio.current_task()
            assert task is not None
            expired: list[bool] = []

            def expire() -> None:
                expired.append(True)
                task.cancel()

            timer = asyncio.get_running_loop().call_later(timeout, expire)
            try:
                return await main()
            except asyncio.CancelledError:
                if expired:
                    raise TimeoutError(f"took more than {timeout} s") from None
                raise
            finally:
                timer.cancel()

        options = {"use_uvloop": True} if self.use_uvloop else {}
        return anyio.run(guarded, backend=self.anyio_backend, backend_options=options)


ASYNCIO = Backend("asyncio", "asyncio")
UVLOOP = Backend("uvloop", "asyncio", use_uvloop=True)
TRIO = Backend("trio", "trio")
BACKENDS = (ASYNCIO, UVLOOP, TRIO)


def by_name(name: str) -> Backend:
    """The backend called ``name``.

    :raises ValueError: no backend has that name.
    """
    for backend in BACKENDS:
        if backend.name == name:
            return backend
    raise ValueError(f"unknown backend {name!r}; choose from {[b.name for b in BACKENDS]}")
