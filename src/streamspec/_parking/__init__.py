"""How a task waits inside streamspec's streams: one mechanism, with a fast path per backend.

A waiting task parks on a :class:`Token`, a small future-like object that another task
resolves with a value or an exception. Stream code sees only the token interface and the
:class:`Backend` record returned by :func:`current_backend` (picked once per call), so the
same stream code runs everywhere; ``_asyncio`` and ``_trio`` hold what differs.

The contract a stream relies on, on every backend:

* ``await backend.checkpoint()`` raises the cancellation of a cancelled task before the
  operation takes effect; after an operation that completed without parking,
  ``backend.schedule_point`` (when not ``None``) is awaited as well.
* ``await backend.checkpoint_if_cancelled()`` (or, cheaper still, awaiting what
  :func:`pending_cancellation` returns when it returns anything) raises a pending
  cancellation and otherwise does not yield: for an operation served without waiting, or
  one about to park (parking is a schedule point of its own).
* A waker resolves only tokens that are not :meth:`Token.done`, and removes them from its
  queue as it does.
* A wait that raises either left its token unresolved (then the waiter withdraws from the
  queue) or, on asyncio only, was interrupted after the token was resolved (then
  :func:`value_despite_interrupt` returns what was handed over, and the waiter must honour
  it: give a received item back, or count a send as done and
  :attr:`Backend.defer_cancellation`).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from ._asyncio import ASYNCIO, make_pending_cancellation, running_entry
from ._base import NO_VALUE, Backend, NoValue, Token, value_despite_interrupt

__all__ = [
    "NO_VALUE",
    "Backend",
    "NoValue",
    "Token",
    "current_backend",
    "pending_cancellation",
    "value_despite_interrupt",
]

# Not named ``_trio``: importing the submodule of that name (a test may) would set the package
# attribute to the module, which current_backend() would then take for the backend.
_trio_backend: Backend | None = None
#: Trio's per-thread run context once Trio is loaded (its ``task`` is the running Trio task).
_trio_context: Any = None


def _load_trio() -> Backend:
    # Imported on first use, so that asyncio programs never pay for importing Trio.
    global _trio_backend, _trio_context
    from ._trio import TRIO, run_context

    _trio_backend, _trio_context = TRIO, run_context
    return TRIO


def current_backend() -> Backend:
    """Return the parking backend of the calling task.

    An asyncio task is recognised by :func:`asyncio.current_task` (which also tells a Trio
    guest run inside an asyncio loop apart from the loop's own tasks), or, quicker, by the
    record the task left in its context on its first call. Anything else is taken
    to be Trio, the only other backend AnyIO supports; outside a Trio run, Trio raises
    :exc:`RuntimeError` as soon as the stream needs it.
    """
    # asyncio first: once Trio is loaded, asking its thread-local run context costs more
    # than the whole asyncio lookup, and asyncio programs should not pay for Trio.
    if running_entry() is not None:
        return ASYNCIO
    if getattr(_trio_context, "task", None) is not None:
        return _trio_backend  # type: ignore[return-value]  # set with _trio_context
    return _trio_backend or _load_trio()


def _first_trio_pending() -> Awaitable[None] | None:
    # Trio's check takes this function's place once Trio is loaded: a call level less.
    _load_trio()
    from ._trio import pending_cancellation as trio_pending_cancellation

    _outside_asyncio[0] = trio_pending_cancellation
    return trio_pending_cancellation()


_outside_asyncio: list[Callable[[], Awaitable[None] | None]] = [_first_trio_pending]
pending_cancellation = make_pending_cancellation(_outside_asyncio)
pending_cancellation.__doc__ = """Return None if the calling task surely has no cancellation
pending; otherwise an awaitable that raises it (and returns, having yielded, if there was none
after all).

Use: ``if (pending := pending_cancellation()) is not None: await pending``. On asyncio the
common answer, None, costs no coroutine and no trip through AnyIO's backend dispatch; a
pending cancellation counts whether it comes from an AnyIO cancel scope (not hidden by a
shield) or from a native ``Task.cancel()``. On Trio, None likewise costs no coroutine, and
anything else is Trio's own ``checkpoint_if_cancelled()``.
"""
