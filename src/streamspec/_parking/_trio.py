"""Parking on Trio: the token reschedules the task parked in ``wait_task_rescheduled``.

Trio calls the abort callback only while the task is still parked, and never after the task
was rescheduled, so a resolved token is never followed by a cancellation of the same wait.
The checkpoint is Trio's own split: a cancel point before the operation and a shielded
schedule point after it, as Trio's memory channels do.
"""

from __future__ import annotations

from collections.abc import Generator
from typing import Any, Final

from outcome import Error, Value
from trio.lowlevel import (
    Abort,
    cancel_shielded_checkpoint,
    checkpoint_if_cancelled,
    current_task,
    reschedule,
    wait_task_rescheduled,
)

from ._base import Backend

__all__ = ["TRIO"]

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
        self._state = _ABORTED
        return Abort.SUCCEEDED

    def __await__(self) -> Generator[Any, None, Any]:
        # Awaiting the token awaits this coroutine.
        return wait_task_rescheduled(self._abort).__await__()  # noqa: ASYNC105


def _never_deferred(_exception: BaseException) -> bool:
    return False


TRIO: Final = Backend(
    checkpoint=checkpoint_if_cancelled,
    schedule_point=cancel_shielded_checkpoint,
    checkpoint_if_cancelled=checkpoint_if_cancelled,
    new_token=_TrioToken,
    defer_cancellation=_never_deferred,
)
