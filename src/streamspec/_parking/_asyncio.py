"""Parking on asyncio (and uvloop): the token is a plain future of the running loop.

AnyIO's cancel scopes cancel a task with ``Task.cancel()``, which cancels the future the task
awaits, so scope and native cancellation both reach a parked task as a cancelled token. AnyIO
never re-cancels a task whose awaited future is already done; a native ``Task.cancel()``,
however, can land after a token was resolved and before its task resumes. The task then sees
a ``CancelledError`` although the token holds a value, and the caller recovers that value
with :func:`~streamspec._parking.value_despite_interrupt`.
"""

from __future__ import annotations

import asyncio
import sys
import types
from collections.abc import Generator
from typing import Final

from ._base import Backend, Token

__all__ = ["ASYNCIO"]


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


ASYNCIO: Final = Backend(
    # The operation itself never yields, so the checkpoint before it is also the schedule point.
    checkpoint=_checkpoint,
    schedule_point=None,
    new_token=_new_token,
    defer_cancellation=_defer_cancellation,
)
