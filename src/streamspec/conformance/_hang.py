"""What the suite knows when a check hangs: the operations pending, and the target's clean-ups.

A hung check is reported by the subject it had open and the operation of the target it was
waiting in (``"byte_stream_pair: SocketStream.receive pending: ..."``), found by walking the
coroutines of the event loop's tasks (or, when the loop thread itself is stuck, that thread's
stack) down from the suite's own frames to the first frame of the target's code.

The target's factories are context managers whose exit is the target's clean-up (closing a
child process, say). Each is entered through :class:`CleanUp`, which registers it with the
event-loop run in progress, so that a run whose check is abandoned as hung can still run the
clean-ups from a task of its own; a clean-up runs once, whoever runs it first.
"""

from __future__ import annotations

import asyncio
import os
import sys
import threading
from collections.abc import Iterable
from contextlib import AbstractAsyncContextManager
from contextvars import ContextVar
from dataclasses import dataclass, field
from types import FrameType, TracebackType
from typing import Any, Generic, TypeVar

import anyio

__all__ = ["CleanUp", "HangRecord", "pending_in_stack", "pending_in_tasks", "run_clean_ups"]

T = TypeVar("T")

#: Seconds one clean-up of an abandoned run may take.
_CLEAN_UP_LIMIT = 1.0
#: Modules whose frames are neither the suite's nor the target's: the event loop and its
#: primitives, which a pending operation of the target ends up waiting in.
_MACHINERY = tuple(
    os.sep + os.path.join(*parts) + os.sep
    for parts in [
        ("anyio", "_core"),
        ("anyio", "_backends"),
        ("anyio", "lowlevel"),
        ("asyncio",),
        ("trio", "_core"),
        ("hypothesis",),
    ]
) + tuple(os.sep + name + ".py" for name in ("contextlib", "selectors", "threading"))
_SUITE = os.path.dirname(os.path.abspath(__file__)) + os.sep


@dataclass
class HangRecord:
    """What the event-loop runs of one check leave for the watcher to report a hang with."""

    #: The clean-ups of the target's factories still open in the current run.
    clean_ups: list[CleanUp[Any]] = field(default_factory=list)
    #: The names of the subjects open in the current run, outermost first (see
    #: :func:`~streamspec.conformance.observe.named`): a hang is reported by them.
    open_subjects: list[str] = field(default_factory=list)
    #: The operations pending when a run's time limit passed (see :func:`pending_in_tasks`).
    pending: list[str] = field(default_factory=list)
    #: Set once a run's time limit passed and the run was told to stop.
    deadline_passed: bool = False
    #: What became of the clean-ups of a run that did not stop: ``None`` until they ran.
    clean_up_outcome: str | None = None
    #: Set once :attr:`clean_up_outcome` is, for the watcher's thread to wait on.
    cleaned_up: threading.Event = field(default_factory=threading.Event)

    def start_run(self) -> None:
        """Forget what the previous event-loop run of the check left."""
        self.pending, self.open_subjects = [], []
        self.deadline_passed, self.clean_up_outcome = False, None
        self.cleaned_up.clear()

    def clean_up_ran(self, outcome: str) -> None:
        """Record what became of the clean-ups of a run that did not stop."""
        self.clean_up_outcome = outcome
        self.cleaned_up.set()


#: The record of the event-loop run in progress in this context (set by Context.run).
CURRENT: ContextVar[HangRecord | None] = ContextVar("streamspec_hang_record", default=None)


class CleanUp(AbstractAsyncContextManager[T], Generic[T]):
    """A target's factory context, entered for a check: its exit runs exactly once, either
    when the check leaves it or, for a check abandoned as hung, by :func:`run_clean_ups`."""

    def __init__(self, context: AbstractAsyncContextManager[T]) -> None:
        self._context = context
        self._exited = False
        self._record: HangRecord | None = None

    async def __aenter__(self) -> T:
        value = await self._context.__aenter__()
        self._record = CURRENT.get()
        if self._record is not None:
            self._record.clean_ups.append(self)
        return value

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> bool | None:
        if self._record is not None and self in self._record.clean_ups:
            self._record.clean_ups.remove(self)
        if self._exited:
            return None
        self._exited = True
        return await self._context.__aexit__(exc_type, exc, traceback)


async def run_clean_ups(record: HangRecord) -> str:
    """Run the clean-ups still open, newest first, each shielded and bounded; say how it went."""
    from .observe import describe  # observe imports this module

    failures: list[str] = []
    while record.clean_ups:
        clean_up = record.clean_ups.pop()
        with anyio.move_on_after(_CLEAN_UP_LIMIT, shield=True) as scope:
            try:
                await clean_up.__aexit__(None, None, None)
            except Exception as exc:
                failures.append(describe(exc))
        if scope.cancelled_caught:
            failures.append(f"a clean-up took more than {_CLEAN_UP_LIMIT:g} s")
    if failures:
        return "the target's clean-up was run, and failed: " + "; ".join(failures)
    return "the target's clean-up was run"


# -- pending operations ----------------------------------------------------------------------------


def _frames_of(awaitable: Any) -> list[FrameType]:
    """The frames of a chain of coroutines, outermost first, down to what the last awaits."""
    frames: list[FrameType] = []
    while awaitable is not None:
        frame = getattr(awaitable, "cr_frame", None) or getattr(awaitable, "ag_frame", None)
        if frame is None:
            break
        frames.append(frame)
        awaitable = getattr(awaitable, "cr_await", None) or getattr(awaitable, "ag_await", None)
    return frames


def _where(frame: FrameType) -> str:
    name = frame.f_code.co_name
    owner = frame.f_locals.get("self")
    if owner is not None:
        name = f"{type(owner).__name__}.{name}"
    return f"{name}() at {os.path.basename(frame.f_code.co_filename)}:{frame.f_lineno}"


def _pending(frames: Iterable[FrameType]) -> str | None:
    """The target's operation that a chain of frames (outermost first) is waiting in: the
    innermost frame called by the suite's own code that is not the event loop's."""
    found: FrameType | None = None
    called_by_suite = False
    for frame in frames:
        filename = os.path.abspath(frame.f_code.co_filename)
        in_suite = filename.startswith(_SUITE)
        if called_by_suite and not in_suite and not any(p in filename for p in _MACHINERY):
            found = frame
        called_by_suite = in_suite
    return None if found is None else _where(found)


def _task_coroutines() -> list[Any]:
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        pass
    else:
        return [task.get_coro() for task in asyncio.all_tasks()]
    import trio

    coroutines: list[Any] = []
    tasks = [trio.lowlevel.current_root_task()]
    while tasks:
        task = tasks.pop()
        if task is None:
            continue
        coroutines.append(task.coro)
        tasks += [child for nursery in task.child_nurseries for child in nursery.child_tasks]
    return coroutines


def pending_in_tasks() -> list[str]:
    """The target's operations that the event loop's tasks are waiting in."""
    found = (_pending(_frames_of(coroutine)) for coroutine in _task_coroutines())
    return list(dict.fromkeys(name for name in found if name is not None))


def pending_in_stack(thread_id: int | None) -> list[str]:
    """The target's operation that thread ``thread_id`` is stuck in, when its event loop is
    blocked (nothing else can run there, so its stack says what is happening)."""
    frame = sys._current_frames().get(thread_id) if thread_id is not None else None
    frames: list[FrameType] = []
    while frame is not None:
        frames.append(frame)
        frame = frame.f_back
    found = _pending(reversed(frames))
    return [] if found is None else [found]
