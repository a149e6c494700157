"""Parking on asyncio (and uvloop): the token is a plain future of the running loop.

AnyIO's cancel scopes cancel a task with ``Task.cancel()``, which cancels the future the task
awaits, so scope and native cancellation both reach a parked task as a cancelled token. AnyIO
never re-cancels a task whose awaited future is already done; a native ``Task.cancel()``,
however, can land after a token was resolved and before its task resumes. The task then sees
a ``CancelledError`` although the token holds a value, and the caller recovers that value
with :func:`~streamspec._parking.value_despite_interrupt`.

:func:`pending_cancellation` tells, without awaiting, whether the running task has a
cancellation waiting to strike: a native ``Task.cancel()`` not yet delivered, or a cancelled
AnyIO cancel scope that no shield hides. Asking AnyIO's public
``checkpoint_if_cancelled()`` costs about a microsecond (backend dispatch and a coroutine);
reading AnyIO's scope chain directly costs a fraction of that. The chain is private to AnyIO,
so it is read only when, at import, AnyIO's internals look as this module expects;
otherwise every check goes through AnyIO's public function.
"""

from __future__ import annotations

import asyncio
import sys
import types
import weakref
from collections.abc import Awaitable, Callable, Generator
from typing import Any, Final

import anyio.lowlevel

from ._base import Backend, Token

__all__ = ["ASYNCIO", "SCOPE_INTERNALS", "pending_cancellation"]


@types.coroutine
def _checkpoint() -> Generator[None, None, None]:
    # A bare yield gives the loop one iteration, exactly like ``asyncio.sleep(0)``: a pending
    # Task.cancel() or AnyIO scope cancellation is raised here, before the operation runs.
    yield


def _new_token() -> Token:
    return asyncio.get_running_loop().create_future()


def _defer_cancellation(exception: BaseException) -> bool:
    if not isinstance(exception, asyncio.CancelledError):
        return False
    task = asyncio.current_task()
    assert task is not None
    # Request the cancellation again without counting it twice: asyncio.timeout() and
    # TaskGroup compare Task.cancelling() with the requests they made themselves.
    if sys.version_info >= (3, 11):
        task.uncancel()
    task.cancel(exception.args[0] if exception.args else None)
    return True


def _scope_states() -> dict[Any, Any] | None:
    """Return AnyIO's private map of task states (weak task reference -> state), or None when
    AnyIO's internals are not what :func:`_cancel_pending` reads."""
    try:
        from anyio._backends import _asyncio as anyio_asyncio

        states: Any = anyio_asyncio._task_states
        scope_slots = set(anyio_asyncio.CancelScope.__slots__)
        state_slots = set(anyio_asyncio.TaskState.__slots__)
    except (ImportError, AttributeError, TypeError):
        return None
    if not (
        isinstance(states, weakref.WeakKeyDictionary)
        and isinstance(getattr(states, "data", None), dict)
        and {"_cancel_called", "_shield", "_parent_scope"} <= scope_slots
        and "cancel_scope" in state_slots
        and hasattr(asyncio.Task, "_must_cancel")
    ):
        return None
    data: dict[Any, Any] = getattr(states, "data")  # noqa: B009 (WeakKeyDictionary's store)
    return data


_states = _scope_states()
#: Whether :func:`pending_cancellation` reads AnyIO's cancel scopes directly (else it calls
#: AnyIO's public ``checkpoint_if_cancelled()``).
SCOPE_INTERNALS: Final = _states is not None
_task_ref = weakref.ref


def _cancel_pending(task: asyncio.Task[Any]) -> bool:
    """Whether ``task`` (the running task) would be cancelled at its next yield."""
    try:
        if task._must_cancel:  # type: ignore[attr-defined]
            return True  # a native Task.cancel() (or AnyIO's delivery) not yet raised
    except AttributeError:
        return True  # a task class of its own: let a real yield find out
    assert _states is not None
    state = _states.get(_task_ref(task))
    if state is not None:
        # The same walk as AnyIO's own check: the innermost scope first, up to a shield.
        scope = state.cancel_scope
        while scope is not None:
            if scope._cancel_called:
                return True
            if scope._shield:
                return False
            scope = scope._parent_scope
    return False


async def _deliver() -> None:
    # A yield lets a native cancellation strike, and AnyIO's delivery callback cancel the
    # task; AnyIO's own check then covers whatever is still pending after that yield.
    await _checkpoint()
    await anyio.lowlevel.checkpoint_if_cancelled()


async def _public_check(task: asyncio.Task[Any]) -> None:
    await anyio.lowlevel.checkpoint_if_cancelled()
    # AnyIO's check ignores a native Task.cancel(); Task.cancelling() counts one, perhaps
    # already delivered, so at worst this yields once for nothing.
    if sys.version_info < (3, 11) or task.cancelling():
        await _checkpoint()


def _pending_fast(task: asyncio.Task[Any]) -> Awaitable[None] | None:
    return _deliver() if _cancel_pending(task) else None


def _pending_public(task: asyncio.Task[Any]) -> Awaitable[None] | None:
    return _public_check(task)


#: For the running asyncio ``task``: None when no cancellation is pending, else an awaitable
#: that raises it (through a real yield, so asyncio and AnyIO deliver it themselves).
pending_cancellation: Final[Callable[[asyncio.Task[Any]], Awaitable[None] | None]] = (
    _pending_fast if SCOPE_INTERNALS else _pending_public
)


async def _checkpoint_if_cancelled() -> None:
    task = asyncio.current_task()
    assert task is not None
    pending = pending_cancellation(task)
    if pending is not None:
        await pending


ASYNCIO: Final = Backend(
    # The operation itself never yields, so the checkpoint before it is also the schedule point.
    checkpoint=_checkpoint,
    schedule_point=None,
    checkpoint_if_cancelled=_checkpoint_if_cancelled,
    new_token=_new_token,
    defer_cancellation=_defer_cancellation,
)
