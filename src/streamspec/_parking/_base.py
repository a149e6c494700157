"""The two halves every backend provides: a token to park on, and a record of what differs."""

from __future__ import annotations

import enum
import warnings
from collections.abc import Awaitable, Callable, Generator
from typing import Any, Final, Literal, Protocol, TypeAlias

__all__ = [
    "NO_VALUE",
    "Backend",
    "FastPathWarning",
    "NoValue",
    "Token",
    "fast_path_unavailable",
    "value_despite_interrupt",
]


class FastPathWarning(RuntimeWarning):
    """A fast path that reads another library's private state is off: streamspec stays
    correct, only slower."""


#: The libraries whose fast path has been reported unavailable in this process.
_reported: set[str] = set()


def fast_path_unavailable(library: str, fallback: str) -> None:
    """Warn, once per process and library, that the fast path reading ``library``'s private
    state is off, because that state is not what this version of streamspec expects (a
    release of ``library`` changed it); ``fallback`` says what is used instead.

    Without the warning the fallback would be silent, and only a benchmark would tell.
    """
    if library in _reported:
        return
    _reported.add(library)
    version = _version_of(library)
    warnings.warn(
        f"streamspec: the private state of {library} {version} is not what streamspec's fast "
        f"path reads, so {fallback} is used instead: correct, but slower. Please report it "
        "with the versions of both.",
        FastPathWarning,
        stacklevel=2,
    )


def _version_of(library: str) -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version(library)
    except PackageNotFoundError:
        return "(version unknown)"


class Token(Protocol):
    """What a parked task waits on: resolved once, with a value or an exception.

    :meth:`done` is true once the token is resolved *or* its wait was cancelled; a waker must
    skip a done token, because its task no longer waits for it. Awaiting the token parks the
    calling task until then and returns the value (or raises the exception).

    Nothing is told when a wait is cancelled: the parked task learns it when it resumes, and
    a waker sees a done token. (Telling at once would need a subclass of asyncio's future,
    which costs each wait the C task's fast path for plain futures.)
    """

    def done(self) -> bool: ...
    def cancelled(self) -> bool: ...
    def result(self) -> Any: ...
    def exception(self) -> BaseException | None: ...
    def set_result(self, value: Any, /) -> None: ...
    def set_exception(self, exception: BaseException, /) -> None: ...
    def __await__(self) -> Generator[Any, None, Any]: ...


class Backend:
    """What differs per backend: how to check in, how to make a token, how to re-arm."""

    __slots__ = (
        "checkpoint",
        "checkpoint_if_cancelled",
        "defer_cancellation",
        "new_token",
        "pending_cancellation",
        "schedule_point",
    )

    def __init__(
        self,
        *,
        checkpoint: Callable[[], Awaitable[None]],
        schedule_point: Callable[[], Awaitable[None]] | None,
        checkpoint_if_cancelled: Callable[[], Awaitable[None]],
        pending_cancellation: Callable[[], Awaitable[None] | None],
        new_token: Callable[[], Token],
        defer_cancellation: Callable[[BaseException], bool],
    ) -> None:
        #: Await before an operation takes effect: raises the cancellation if the calling task
        #: is cancelled, so a cancelled operation has no effect.
        self.checkpoint = checkpoint
        #: Await after an operation that completed without parking; ``None`` when
        #: :attr:`checkpoint` already was a schedule point.
        self.schedule_point = schedule_point
        #: Await before an operation that takes effect without ever yielding: raises a
        #: pending cancellation, and otherwise returns without a trip through the event loop.
        self.checkpoint_if_cancelled = checkpoint_if_cancelled
        #: The same check without a coroutine when nothing is pending: return None, or an
        #: awaitable that raises the cancellation (see
        #: :func:`~streamspec._parking.pending_cancellation`, which first finds the backend).
        self.pending_cancellation = pending_cancellation
        #: Return a fresh token for the calling task to park on (a task for which
        #: :func:`~streamspec._parking.current_backend` returned this backend).
        self.new_token = new_token
        #: Called with the exception that interrupted a wait whose operation completed anyway:
        #: if it is a cancellation, make it strike at the task's next suspension instead and
        #: return True; otherwise return False (the caller re-raises it).
        self.defer_cancellation = defer_cancellation


class _NoValue(enum.Enum):
    NO_VALUE = enum.auto()


#: What :func:`value_despite_interrupt` returns when nothing was handed over (and what a
#: stream's non-blocking attempt returns when it would have to wait).
NO_VALUE: Final = _NoValue.NO_VALUE
#: The type of :data:`NO_VALUE`, for annotations.
NoValue: TypeAlias = Literal[_NoValue.NO_VALUE]


def value_despite_interrupt(token: Token) -> Any:
    """For a wait that raised, return the value its token was resolved with, or NO_VALUE.

    A value means the handover happened before the interruption (possible on asyncio only):
    the caller owns that value and must not drop it.
    """
    if token.done() and not token.cancelled() and token.exception() is None:
        return token.result()
    return NO_VALUE
