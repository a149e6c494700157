"""Parking on asyncio (and uvloop): the token is a plain future of the running loop.

AnyIO's cancel scopes cancel a task with ``Task.cancel()``, which cancels the future the task
awaits, so scope and native cancellation both reach a parked task as a cancelled token. AnyIO
never re-cancels a task whose awaited future is already done; a native ``Task.cancel()``,
however, can land after a token was resolved and before its task resumes. The task then sees
a ``CancelledError`` although the token holds a value, and the caller recovers that value
with :func:`~streamspec._parking.value_despite_interrupt`.

The check that :func:`make_pending_cancellation` builds tells, without awaiting, whether the
running task has a cancellation waiting to strike: a native ``Task.cancel()`` not yet
delivered, or a cancelled AnyIO cancel scope that no shield hides. Asking AnyIO's public
``checkpoint_if_cancelled()`` costs about a microsecond (backend dispatch and a coroutine);
reading AnyIO's scope chain directly costs a third of that. The chain is private to AnyIO,
so it is read only when, at import, AnyIO's internals look as this module expects;
otherwise every check goes through AnyIO's public function, and a
:class:`~streamspec._parking._base.FastPathWarning` says so, once.
"""

from __future__ import annotations

import asyncio
import sys
import types
import weakref
from asyncio import AbstractEventLoop, Task
from collections.abc import Awaitable, Callable, Generator
from contextvars import ContextVar
from threading import get_ident
from typing import Any, Final

import anyio.lowlevel

from ._base import Backend, Token, fast_path_unavailable

__all__ = [
    "ASYNCIO",
    "SCOPE_INTERNALS",
    "make_pending_cancellation",
    "running_entry",
]

#: The running loop or None: the C function behind :func:`asyncio.get_running_loop`.
running_loop = asyncio._get_running_loop
#: The task of a loop (or None): the quickest lookup there is on each Python version.
current_task: Callable[[AbstractEventLoop], Task[Any] | None]
if sys.version_info >= (3, 12):
    current_task = asyncio.current_task  # implemented in C
else:
    # asyncio.current_task() is a Python wrapper around this lookup before 3.12; calling the
    # lookup directly saves a third of the cost of a non-blocking send or receive.
    current_task = asyncio.tasks._current_tasks.get  # type: ignore[attr-defined]


@types.coroutine
def _checkpoint() -> Generator[None, None, None]:
    # A bare yield gives the loop one iteration, exactly like ``asyncio.sleep(0)``: a pending
    # Task.cancel() or AnyIO scope cancellation is raised here, before the operation runs.
    yield


def _new_token() -> Token:
    # Called only after current_backend() answered ASYNCIO for this task, which leaves this
    # task's record (defined below) in its context: its loop is the running loop, found
    # without asyncio.get_running_loop()'s system call. A plain future, not a subclass: the
    # C task awaits exactly asyncio's future class without a Python-level detour.
    return _entry.get()[1].create_future()  # type: ignore[no-any-return]


def _defer_cancellation(exception: BaseException) -> bool:
    if not isinstance(exception, asyncio.CancelledError):
        return False
    entry = running_entry()
    assert entry is not None
    task: Task[Any] = entry[0]()
    # Request the cancellation again without counting it twice: asyncio.timeout() and
    # TaskGroup compare Task.cancelling() with the requests they made themselves.
    if sys.version_info >= (3, 11):
        task.uncancel()
    task.cancel(exception.args[0] if exception.args else None)
    return True


def _scope_states() -> dict[Any, Any] | None:
    """Return AnyIO's private map of task states (weak task reference -> state), or None when
    AnyIO's internals are not what the pending-cancellation check reads."""
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
if _states is None:
    fast_path_unavailable("anyio", "AnyIO's public checkpoint_if_cancelled()")
#: Whether the pending-cancellation check reads AnyIO's cancel scopes directly (else it calls
#: AnyIO's public ``checkpoint_if_cancelled()``).
SCOPE_INTERNALS: Final = _states is not None
_task_ref = weakref.ref


async def _deliver() -> None:
    # A yield lets a native cancellation strike, and AnyIO's delivery callback cancel the
    # task; AnyIO's own check then covers whatever is still pending after that yield.
    await _checkpoint()
    await anyio.lowlevel.checkpoint_if_cancelled()


async def _public_check(task: Task[Any]) -> None:
    await anyio.lowlevel.checkpoint_if_cancelled()
    # AnyIO's check ignores a native Task.cancel(); Task.cancelling() counts one, perhaps
    # already delivered, so at worst this yields once for nothing.
    if sys.version_info < (3, 11) or task.cancelling():
        await _checkpoint()


PendingCheck = Callable[[], "Awaitable[None] | None"]

# Which asyncio task is running, found cheaply. The standard lookup (the running loop, then its
# current task) costs a system call per call before Python 3.12: the C function behind
# asyncio._get_running_loop() compares the process id to detect a fork. Instead, each task that
# uses a stream remembers itself in a context variable: [its task (weakly), its loop, its
# thread, its AnyIO task state (weakly)], indexed by number (a named index costs a lookup).
# Tasks copy their creator's context, so an entry found there may be the creator's; it is
# believed only when its loop's current task, in its own thread, is the task it names, which
# holds only inside that task's own steps.
_entry: ContextVar[list[Any]] = ContextVar("streamspec._parking.task")


class _Gone:
    """A weak reference to a new instance of this class is dead at once."""


#: Where no task state is known yet: a reference that is always dead.
_dead_ref = weakref.ref(_Gone())
_get_entry = _entry.get


def _remember(task: Task[Any], loop: AbstractEventLoop) -> list[Any]:
    """Record ``task`` (the running task of ``loop``) as the running task of its context, and
    return the record."""
    entry = [_task_ref(task), loop, get_ident(), _dead_ref]
    _entry.set(entry)
    return entry


def running_entry() -> list[Any] | None:
    """Return the record of the running asyncio task (see above), made on its first call; None
    when no asyncio task runs in this thread. The one way the package asks "which asyncio task
    am I": :func:`~streamspec._parking.current_backend` and the pending-cancellation check
    both ask it here."""
    entry = _get_entry(None)
    if entry is not None:
        task = entry[0]()
        if task is not None and current_task(entry[1]) is task and entry[2] == get_ident():
            return entry
    loop = running_loop()
    if loop is None or (task := current_task(loop)) is None:
        return None
    return _remember(task, loop)


def make_pending_cancellation(otherwise: list[PendingCheck]) -> PendingCheck:
    """Return ``pending_cancellation()`` (see :mod:`streamspec._parking`): the check for an
    asyncio task, and ``otherwise[0]()`` outside any (a list, so that the caller can put the
    check it resolves lazily, Trio's, in place once it has it).

    Everything but the task lookup (:func:`running_entry`, shared with
    :func:`~streamspec._parking.current_backend`) is inlined in one function, because a
    buffered receive calls it every time and each Python call level costs as much as a step
    of the scope walk.
    """
    states, deliver, running = _states, _deliver, running_entry

    if states is None:

        def public_check() -> Awaitable[None] | None:
            entry = running()
            if entry is not None and (task := entry[0]()) is not None:
                return _public_check(task)
            return otherwise[0]()

        return public_check

    def pending_cancellation() -> Awaitable[None] | None:
        entry = running()
        if entry is None:
            return otherwise[0]()
        task = entry[0]()
        try:
            if task._must_cancel:
                return deliver()  # a native Task.cancel() (or AnyIO's delivery) not yet raised
        except AttributeError:
            return deliver()  # a task class of its own: let a real yield find out
        state = entry[3]()
        if state is None:
            # AnyIO creates a task's state once, when the task starts or first enters a scope,
            # and drops it when the task ends; a state it dropped or replaced is garbage, so
            # the dead reference sends the check back to AnyIO's map. Only a task started
            # eagerly by a custom task factory has its state replaced while it runs, so with a
            # task factory the state is looked up every time.
            state = states.get(entry[0])
            if state is None:
                return None  # the task never entered an AnyIO cancel scope
            if entry[1].get_task_factory() is None:
                entry[3] = _task_ref(state)
        # The same walk as AnyIO's own check: the innermost scope first, up to a shield.
        scope = state.cancel_scope
        while scope is not None:
            if scope._cancel_called:
                return deliver()
            if scope._shield:
                return None
            scope = scope._parent_scope
        return None

    return pending_cancellation


def _not_asyncio() -> None:
    raise RuntimeError("no asyncio task is running")


_pending_cancellation = make_pending_cancellation([_not_asyncio])


async def _checkpoint_if_cancelled() -> None:
    if (pending := _pending_cancellation()) is not None:
        await pending


ASYNCIO: Final = Backend(
    # The operation itself never yields, so the checkpoint before it is also the schedule point.
    checkpoint=_checkpoint,
    schedule_point=None,
    checkpoint_if_cancelled=_checkpoint_if_cancelled,
    pending_cancellation=_pending_cancellation,
    new_token=_new_token,
    defer_cancellation=_defer_cancellation,
)
