"""Parking on Trio: the token reschedules the task parked in ``wait_task_rescheduled``.

Trio calls the abort callback only while the task is still parked, and never after the task
was rescheduled, so a resolved token is never followed by a cancellation of the same wait.
The checkpoint is Trio's own split: a cancel point before the operation and a shielded
schedule point after it, as Trio's memory channels do.

The cancel point is Trio's ``checkpoint_if_cancelled()`` with its common outcome, "not
cancelled", answered without a coroutine: :func:`pending_cancellation` reads the running
task's cancel status the way that function does, and counts the cancel point the same way
(``trio.testing.assert_checkpoints`` sees it). Those attributes are private to Trio, so they are
read only when, at import, Trio's task looks as this module expects; otherwise every check
goes through Trio's public function, and a :class:`~streamspec._parking._base.FastPathWarning`
says so, once.
"""

from __future__ import annotations

from collections.abc import Awaitable, Generator, Iterator
from typing import Any, Final, cast

from outcome import Error, Value
from trio.lowlevel import (
    Abort,
    cancel_shielded_checkpoint,
    checkpoint_if_cancelled,
    current_task,
    reschedule,
    wait_task_rescheduled,
)

from ._base import Backend, fast_path_unavailable

__all__ = ["TASK_INTERNALS", "TRIO", "pending_cancellation", "run_context"]

_PENDING: Final = 0
_RESOLVED: Final = 1
_ABORTED: Final = 2


class _TrioToken:
    __slots__ = ("_error", "_state", "_task", "_value")

    def __init__(self) -> None:
        self._task = current_task()
        self._state = _PENDING
        self._value: Any = None
        self._error: BaseException | None = None

    def done(self) -> bool:
        return self._state != _PENDING

    def cancelled(self) -> bool:
        return self._state == _ABORTED

    def result(self) -> Any:
        return self._value

    def exception(self) -> BaseException | None:
        return self._error

    def set_result(self, value: Any, /) -> None:
        self._state = _RESOLVED
        self._value = value
        reschedule(self._task, Value(value))

    def set_exception(self, exception: BaseException, /) -> None:
        self._state = _RESOLVED
        self._error = exception
        reschedule(self._task, Error(exception))

    def _abort(self, _raise_cancel: Any) -> Abort:
        # Trio aborts only a task still parked, never after reschedule().
        self._state = _ABORTED
        return Abort.SUCCEEDED

    def __await__(self) -> Generator[Any, None, Any]:
        # Awaiting the token awaits this coroutine.
        return wait_task_rescheduled(self._abort).__await__()  # noqa: ASYNC105


def _never_deferred(_exception: BaseException) -> bool:
    return False


def _run_context() -> Any:
    """Return Trio's per-thread run context (whose ``task`` attribute is the running task,
    and is absent between task steps), or None when Trio's internals are not what
    :func:`pending_cancellation` reads."""
    try:
        from trio._core import _run

        context: Any = _run.GLOBAL_RUN_CONTEXT
        task_fields = {field.name for field in _run.Task.__attrs_attrs__}
        status_fields = {field.name for field in _run.CancelStatus.__attrs_attrs__}
        runner_fields = {field.name for field in _run.Runner.__attrs_attrs__}
    except (ImportError, AttributeError, TypeError):
        return None
    if (
        {"_cancel_status", "_runner", "_cancel_points"} <= task_fields
        and "effectively_cancelled" in status_fields
        and "ki_pending" in runner_fields
    ):
        return context
    return None


#: Trio's per-thread run context, or None if its internals are not as expected.
run_context: Final = _run_context()
if run_context is None:
    fast_path_unavailable("trio", "Trio's public checkpoint_if_cancelled()")
_context = run_context
#: Whether :func:`pending_cancellation` reads Trio's task directly (else it always returns
#: Trio's public ``checkpoint_if_cancelled()``).
TASK_INTERNALS: Final = _context is not None


def pending_cancellation() -> Awaitable[None] | None:
    """Return None if the running Trio task has no cancellation pending (counting the cancel
    point as Trio does); otherwise Trio's ``checkpoint_if_cancelled()``, which raises it.

    Outside a Trio task, Trio's own function raises :exc:`RuntimeError` when awaited.
    """
    task = getattr(_context, "task", None)
    if task is None:
        return checkpoint_if_cancelled()  # noqa: ASYNC105 (the caller awaits it)
    # Trio's own test, written out; a KeyboardInterrupt pending for any task is left to
    # Trio's function to sort out, since it is rare and only the main task receives it.
    if task._cancel_status.effectively_cancelled or task._runner.ki_pending:
        return checkpoint_if_cancelled()  # noqa: ASYNC105 (the caller awaits it)
    task._cancel_points += 1
    return None


class _Passed:
    """An awaitable that completes at once: what :func:`_checkpoint` returns when the task is
    not cancelled, far cheaper to await than a coroutine."""

    __slots__ = ()

    def __await__(self) -> Iterator[None]:
        return iter(())


_PASSED: Final = cast("Awaitable[None]", _Passed())


def _checkpoint() -> Awaitable[None]:
    return pending_cancellation() or _PASSED


TRIO: Final = Backend(
    checkpoint=_checkpoint if TASK_INTERNALS else checkpoint_if_cancelled,
    schedule_point=cancel_shielded_checkpoint,
    checkpoint_if_cancelled=checkpoint_if_cancelled,
    pending_cancellation=pending_cancellation,
    new_token=_TrioToken,
    defer_cancellation=_never_deferred,
)
