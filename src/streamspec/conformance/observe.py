"""How the checks observe a stream: the shared vocabulary in which every check awaits an
operation of the target and turns what it did into a failure message.

* :func:`describe` names an exception the same way in every message (``Type: message``; the
  leaves of an exception group joined by ``;``).
* :func:`leaves` flattens an exception group, and :func:`only` says whether all a task
  group's failures are of one kind.
* :func:`expect_raises`, :func:`expect_returns` and :func:`expect_waiting` await (or start) one
  operation within :data:`PATIENCE` and say what it did instead of what was expected.
* :func:`named` opens a subject for a check, so that whatever escapes reads as an
  observation that names it.
* :class:`Op` runs one operation in a task of its own and records its outcome as data;
  :func:`settle` and :func:`until_really_blocked` wait until the other tasks are blocked.

Every check reads the same way and gives the same messages for the same observation, as
array-api-tests' shared ``pytest_helpers`` do for its tests.
"""

from __future__ import annotations

import asyncio
import sys
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from contextlib import asynccontextmanager, suppress
from typing import TYPE_CHECKING, Any, TypeVar

import anyio
from anyio.abc import TaskGroup

from ._hang import CURRENT
from .registry import NotProvided

if TYPE_CHECKING:
    from .subjects import Subject

__all__ = [
    "PATIENCE",
    "THREAD_SETTLE",
    "Op",
    "Outcome",
    "chain",
    "describe",
    "expect_raises",
    "expect_returns",
    "expect_waiting",
    "leaves",
    "named",
    "only",
    "settle",
    "start",
    "until_really_blocked",
]

T = TypeVar("T")

if sys.version_info >= (3, 11):
    _ExceptionGroup = BaseExceptionGroup  # noqa: F821  (a builtin since 3.11)
else:  # the backport, which AnyIO itself requires on 3.10
    from exceptiongroup import (  # type: ignore[import-not-found]
        BaseExceptionGroup as _ExceptionGroup,
    )

#: How long something that should happen at once may take before a check calls it missing.
#: Generous, because the machine may be busy; a correct implementation never waits for it.
PATIENCE = 3.0

#: Seconds a check waits, once every task is blocked, before it acts on a blocked operation.
#: A stream may do its blocking call in a worker thread (to_thread.run_sync around a read):
#: its task looks blocked as soon as the thread is asked to run, before the thread is in the
#: call, and a close that comes first is seen by the thread before it blocks, so the check
#: would pass by luck. The suite cannot see into the thread; a correct stream never waits
#: for this.
THREAD_SETTLE = 0.2

#: An exception class or a tuple of them, as ``except`` and :func:`isinstance` take.
Kinds = type[BaseException] | tuple[type[BaseException], ...]

#: What an operation may end with: ("value", x), ("error", name) or ("cancelled",).
Outcome = tuple[Any, ...]


# -- exceptions ------------------------------------------------------------------------------


def leaves(error: BaseException) -> list[BaseException]:
    """The exceptions inside ``error``, exception groups flattened."""
    if isinstance(error, _ExceptionGroup):
        return [leaf for inner in error.exceptions for leaf in leaves(inner)]
    return [error]


def only(
    error: BaseException, kinds: type[BaseException] | tuple[type[BaseException], ...]
) -> bool:
    """Whether every exception inside ``error`` (a task group's, say) is one of ``kinds``."""
    return all(isinstance(leaf, kinds) for leaf in leaves(error))


def describe(error: BaseException, *, causes: bool = False) -> str:
    """``Type: message`` (``Type`` alone when the message is empty); the leaves of an
    exception group, each so, joined by ``"; "``.

    :param causes: follow each exception with its causes or contexts, as
        ``"Type: message (from Cause: message)"``.
    """
    return "; ".join(_with_causes(leaf) if causes else _one(leaf) for leaf in leaves(error))


def _one(error: BaseException) -> str:
    text = str(error)
    return f"{type(error).__name__}: {text}" if text else type(error).__name__


def _with_causes(error: BaseException) -> str:
    texts = [_one(each) for each in chain(error)]
    return "".join(f"{text} (from " for text in texts[:-1]) + texts[-1] + ")" * (len(texts) - 1)


def chain(error: BaseException) -> Iterator[BaseException]:
    """The exception, then its causes and contexts, each once: a chain that loops back (an
    exception raised "from" itself, say) ends where it would repeat."""
    seen: list[BaseException] = []
    current: BaseException | None = error
    while current is not None and all(current is not earlier for earlier in seen):
        seen.append(current)
        yield current
        current = current.__cause__ or current.__context__


# -- one operation, awaited ------------------------------------------------------------------


async def expect_raises(
    expected: Kinds,
    operation: Callable[[], Awaitable[object]],
) -> str | None:
    """Await ``operation()`` (within PATIENCE) and return ``None`` if it raised ``expected``,
    else what happened instead (``"it blocked for 3 s"``, ``"it raised ..."``,
    ``"it returned ..."``)."""
    try:
        with anyio.fail_after(PATIENCE):
            result = await operation()
    except expected:
        return None
    except TimeoutError:
        return f"it blocked for {PATIENCE:g} s"
    except Exception as exc:  # what it raised instead is the observation
        return f"it raised {describe(exc)}"
    return f"it returned {result!r}"


async def expect_returns(what: str, operation: Callable[[], Awaitable[T]]) -> T:
    """Await ``operation()`` (within PATIENCE) and return its value.

    :param what: names the operation in the failure (``"byte_stream_pair: send_eof()"``).
    :raises AssertionError: ``"<what> blocked for 3 s"`` or ``"<what> raised <exception>"``.
    """
    try:
        with anyio.fail_after(PATIENCE):
            return await operation()
    except TimeoutError:
        raise AssertionError(f"{what} blocked for {PATIENCE:g} s") from None
    except Exception as exc:
        raise AssertionError(f"{what} raised {describe(exc)}") from exc


async def expect_waiting(op: Op) -> str | None:
    """``None`` if ``op`` (just started) is still waiting once the other tasks are blocked,
    else what it ended with instead (``"it ended at once with ('value', 1)"``)."""
    await settle()
    return None if not op.done else f"it ended at once with {op.outcome!r}"


# -- operations in tasks of their own --------------------------------------------------------


async def until_really_blocked() -> None:
    """Return once every other task is blocked, and a blocking call that a worker thread
    makes for one of them has had THREAD_SETTLE seconds to begin."""
    await anyio.wait_all_tasks_blocked()
    await anyio.sleep(THREAD_SETTLE)
    await anyio.wait_all_tasks_blocked()


def _asyncio_all_blocked() -> bool:
    this = asyncio.current_task()
    for task in asyncio.all_tasks():
        if task is this:
            continue
        waiter = task._fut_waiter  # type: ignore[attr-defined]
        if waiter is None or waiter.done():
            return False
    return True


async def settle() -> None:
    """Return once every other task is blocked (as :func:`anyio.wait_all_tasks_blocked`).

    On asyncio, AnyIO's version sleeps 0.1 s whenever a task is still runnable, which makes a
    program of many small steps slow; here the loop is turned with zero-length sleeps first,
    falling back to AnyIO's version only if the tasks keep running.
    """
    if _on_asyncio():
        for _ in range(64):
            await asyncio.sleep(0)
            if _asyncio_all_blocked():
                return
    await anyio.wait_all_tasks_blocked()


def _on_asyncio() -> bool:
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return False
    return asyncio.current_task() is not None


class Op:
    """One operation running in a task of its own; its outcome is recorded when it ends.

    The task runs either in an AnyIO cancel scope (``native=False``) or as a plain asyncio
    task (``native=True``, asyncio only), and :meth:`cancel` cancels it the same way.
    """

    def __init__(self, label: str) -> None:
        self.label = label
        self.outcome: Outcome | None = None
        # Made now, not when the task starts: a cancel() that comes before the task has run
        # must still cancel the operation (it then raises at its first checkpoint).
        self._scope = anyio.CancelScope()
        self._task: asyncio.Task[None] | None = None
        self._ended = anyio.Event()

    @property
    def done(self) -> bool:
        return self.outcome is not None

    async def _run(self, func: Callable[[], Awaitable[Any]]) -> None:
        try:
            value = await func()
        except anyio.get_cancelled_exc_class():
            self.outcome = ("cancelled",)
            raise
        except Exception as exc:
            self.outcome = ("error", type(exc).__name__)
        else:
            self.outcome = ("value", value)
        finally:
            self._ended.set()

    async def wait(self, seconds: float) -> bool:
        """Wait at most ``seconds`` for the operation to end; return whether it has."""
        with anyio.move_on_after(seconds):
            await self._ended.wait()
        return self.done

    async def _scoped(self, func: Callable[[], Awaitable[Any]]) -> None:
        with self._scope:
            await self._run(func)

    async def _native(self, func: Callable[[], Awaitable[Any]]) -> None:
        with suppress(asyncio.CancelledError):  # recorded already; the task ends quietly
            await self._run(func)

    def cancel(self) -> None:
        """Cancel the operation's task, natively or through its cancel scope."""
        if self._task is not None:
            self._task.cancel()
        else:
            self._scope.cancel()

    def __repr__(self) -> str:
        return f"{self.label} -> {self.outcome!r}" if self.done else f"{self.label} (blocked)"


async def start(
    tg: TaskGroup, label: str, func: Callable[[], Awaitable[Any]], *, native: bool = False
) -> Op:
    """Start ``func`` in a new task, let it run until it blocks or ends, and return its Op."""
    op = Op(label)
    if native:
        op._task = asyncio.get_running_loop().create_task(op._native(func))
        tg.start_soon(_await_native, op._task)
    else:
        tg.start_soon(op._scoped, func)
    await settle()
    return op


async def _await_native(task: asyncio.Task[None]) -> None:
    # Keeps the task group open until the native task ends, and cancels it with the group.
    try:
        await asyncio.shield(task)
    except asyncio.CancelledError:
        task.cancel()
        raise


# -- a subject, opened for a check -----------------------------------------------------------


@asynccontextmanager
async def named(subject: Subject[T]) -> AsyncIterator[T]:
    """Open ``subject``; an unexpected exception escaping the block becomes an AssertionError
    that names the subject and says what was raised, so the failure reads as an observation.

    Assertion failures, :class:`~.registry.NotProvided` and Hypothesis's own control-flow
    exceptions pass through unchanged.
    """
    # Noted in the record of the check's run (its Context's), whose watchers name the open
    # subjects when they give up on a hung check (the check itself cannot say any more).
    record = CURRENT.get()
    open_here = record.open_subjects if record is not None else []
    open_here.append(subject.name)
    try:
        async with _named(subject) as opened:
            yield opened
    finally:
        open_here.remove(subject.name)


@asynccontextmanager
async def _named(subject: Subject[T]) -> AsyncIterator[T]:
    # An error of the target's own factory (opening or closing the subject) would otherwise
    # reach the report bare, blamed on whatever rule happened to run, or hide the verdict.
    stage = "opening it"
    verdict: AssertionError | None = None
    try:
        async with subject.open() as opened:
            stage = ""
            try:
                yield opened
            except AssertionError as exc:
                verdict = exc
                raise
            except NotProvided:
                raise
            except Exception as exc:
                if type(exc).__module__.startswith("hypothesis"):
                    raise
                if only(exc, AssertionError):
                    # A task group's wrapping of a check's own verdict: unwrap it.
                    verdict = AssertionError("\n".join(map(str, leaves(exc))))
                else:
                    verdict = AssertionError(f"{subject.name}: unexpectedly raised {describe(exc)}")
                raise verdict from exc
            stage = "closing it after the check"
    except (AssertionError, NotProvided):
        raise
    except Exception as exc:
        if type(exc).__module__.startswith("hypothesis"):
            raise
        if verdict is not None:
            raise AssertionError(
                f"{verdict}\n{subject.name}: closing it then raised {describe(exc)}"
            ) from exc
        if not stage:
            raise
        raise AssertionError(f"{subject.name}: {stage} raised {describe(exc)}") from exc
