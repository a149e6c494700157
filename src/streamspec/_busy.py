"""The one busy guard: lets one task at a time into an operation of a stream.

Every stream of the package that refuses a second concurrent receiver or sender (rule
BYTE-BUSY) uses :class:`BusyGuard`, each with the exception its own contract names:
:exc:`anyio.BusyResourceError` by default, ``trio.BusyResourceError`` in the Trio adapter,
:exc:`~streamspec.StreamContractError` in :func:`~streamspec.checked`.

Two ways to use it::

    with self._receive_guard:            # the plain way
        ...

    guard = self._receive_guard          # written out, on a path where a call counts
    guard.enter()
    try:
        ...
    finally:
        guard.busy = False

Unlike :class:`anyio.ResourceGuard` it can be asked whether it is taken (:attr:`BusyGuard.busy`),
takes no ``await`` and no lookup of the running backend.
"""

from __future__ import annotations

from collections.abc import Callable

import anyio

__all__ = ["BusyGuard"]


class BusyGuard:
    """Lets one task at a time in; another one gets ``error(action)`` raised at once.

    :param action: what the refused task was doing, for the message: ``"receiving from"``,
        ``"sending to"`` (AnyIO's wording: "Another task is already receiving from this
        resource").
    :param error: builds the exception from ``action``; :exc:`anyio.BusyResourceError` unless
        the stream's contract names another.
    """

    __slots__ = ("action", "busy", "error")

    def __init__(
        self,
        action: str,
        error: Callable[[str], BaseException] = anyio.BusyResourceError,
    ) -> None:
        #: What the refused task was doing.
        self.action = action
        #: Builds the exception a refused task gets.
        self.error = error
        #: Whether a task is in. Leaving is setting it back to False.
        self.busy = False

    def enter(self) -> None:
        """Take the guard.

        :raises BaseException: ``error(action)``, if another task holds it; the guard stays
            with that task.
        """
        if self.busy:
            raise self.error(self.action)
        self.busy = True

    __enter__ = enter

    def __exit__(self, *exc_info: object) -> None:
        self.busy = False
