"""Checks of the ``memory`` role: the target's ``create_memory_object_stream``.

Every check drives the streams from tasks it controls: an operation that may wait runs in a
task of its own (:func:`~.objects.start`), and the check lets every task run until it blocks
(:func:`~.objects.settle`) before looking at what happened. So "send() waits" is observed as
"the sending task had not finished once every task was blocked", and no check sleeps. A
stream that loses a wake-up leaves a task waiting forever; the context's time limit turns
that into a failure.

The rules that the pure model of :mod:`streamspec.conformance.model` covers are checked by
running programs on the implementation and on the model, comparing every step: their fixed
programs (:data:`~streamspec.conformance.model.RULE_PROGRAMS`) for MEM-BUFFER-ZERO, -N, -INF,
MEM-RECEIVE-NOWAIT, MEM-RECEIVER-FIRST, MEM-SENDER-FAIR, MEM-CLONE, MEM-CLOSE-WAKES,
MEM-LAST-SENDER-CLOSED and MEM-LAST-RECEIVER-CLOSED, and drawn ones for ``MEM-MODEL``. The
other rules (invalid sizes, cancellation races, statistics, ``with``, ``async for``) are beyond
the model and have checks of their own.

Check failures carry their own messages, so pytest must not rewrite this module's asserts
(PYTEST_DONT_REWRITE): the pytest plugin's report then reads like the CLI's.
"""

from __future__ import annotations

import inspect
import math
from collections.abc import Awaitable, Callable
from contextlib import asynccontextmanager
from fractions import Fraction
from functools import partial
from typing import Any

import anyio
from anyio import ClosedResourceError, EndOfStream, WouldBlock
from anyio.abc import TaskGroup
from hypothesis import example, given

from ..model import (
    BLOCKED,
    EXAMPLES,
    OK,
    RULE_PROGRAMS,
    End,
    Kind,
    Outcome,
    Program,
    Step,
    format_program,
    format_step,
    normalize,
    programs,
    run_model,
    task_steps,
)
from ..model import Op as ProgramOp
from ..observe import Op as Task
from ..observe import describe, settle, start
from ..registry import Context, NotProvided, check
from ..subjects import close_quietly

__all__: list[str] = []

_NEEDS = ("create_memory_object_stream",)
_SUBJECT = "memory object stream"


def _fail(observed: str, size: float | None = None) -> AssertionError:
    where = _SUBJECT if size is None else f"{_SUBJECT} (max_buffer_size={_size(size)})"
    return AssertionError(f"{where}: {observed}")


def _size(size: float) -> str:
    return "math.inf" if size == math.inf else repr(size)


@asynccontextmanager
async def _stream(ctx: Context, size: float) -> Any:
    """A fresh stream and a task group; every handle made from it is closed afterwards."""
    factory = ctx.target.create_memory_object_stream
    assert factory is not None
    send, receive = factory(size)
    handles: list[Any] = [send, receive]
    try:
        async with anyio.create_task_group() as tg:
            yield send, receive, tg, handles
            tg.cancel_scope.cancel()
    finally:
        await close_quietly(*handles)


def _outcome_text(op: Task) -> str:
    if op.outcome is None:
        return "was still waiting"
    kind, *rest = op.outcome
    if kind == "value":
        return f"returned {rest[0]!r}"
    if kind == "error":
        return f"raised {rest[0]}"
    return "was cancelled"


def _expect(op: Task, expected: Outcome, what: str, size: float | None = None) -> None:
    if op.outcome != expected:
        wanted = _outcome_text(_Done(op.label, expected))
        raise _fail(f"{what}: {op.label} {_outcome_text(op)}, expected it {wanted}", size)


class _Done(Task):
    def __init__(self, label: str, outcome: Outcome) -> None:
        super().__init__(label)
        self.outcome = outcome


def _waiting(op: Task, what: str, size: float | None = None) -> None:
    if op.done:
        raise _fail(f"{what}: {op.label} {_outcome_text(op)} instead of waiting", size)


def _raises(
    func: Callable[[], object], error: type[Exception], what: str, size: float | None = None
) -> None:
    try:
        result = func()
    except error:
        return
    except Exception as exc:
        raise _fail(f"{what} raised {describe(exc)}, not {error.__name__}", size) from exc
    raise _fail(f"{what} returned {result!r} instead of raising {error.__name__}", size)


async def _drain(receive: Any) -> list[Any]:
    """Every item receive_nowait() can still get (stops at WouldBlock or EndOfStream)."""
    items = []
    while True:
        try:
            items.append(receive.receive_nowait())
        except (WouldBlock, EndOfStream):
            return items


# -- buffer sizes ------------------------------------------------------------------------------

_INVALID_VALUE = (-1, -(10**9), 0.5, 2.5, -math.inf, math.nan, Fraction(1, 2))
_INVALID_TYPE = ("3", None, object(), [1])


@check("MEM-BUFFER-INVALID", needs=_NEEDS)
async def mem_buffer_invalid(ctx: Context) -> None:
    factory = ctx.target.create_memory_object_stream
    assert factory is not None
    cases: list[tuple[object, tuple[type[Exception], ...]]]
    cases = [(v, (ValueError,)) for v in _INVALID_VALUE]
    cases += [(v, (TypeError, ValueError)) for v in _INVALID_TYPE]
    for value, errors in cases:
        try:
            ends = factory(value)
        except errors:
            continue
        except Exception as exc:
            wanted = " or ".join(e.__name__ for e in errors)
            raise AssertionError(
                f"create_memory_object_stream({value!r}) raised {describe(exc)}, not {wanted}"
            ) from exc
        await close_quietly(*ends)
        raise AssertionError(f"create_memory_object_stream({value!r}) was accepted")
    for valid in (0, 1, 7, math.inf):
        try:
            ends = factory(valid)
        except Exception as exc:
            raise AssertionError(
                f"create_memory_object_stream({_size(valid)}) raised {describe(exc)}"
            ) from exc
        await close_quietly(*ends)


# -- cancellation ------------------------------------------------------------------------------


async def _cancel_trials(ctx: Context, *, native: bool) -> None:
    """Cancel waiting senders and receivers around the moment an item is handed over, and
    check that every item whose send returned is received exactly once, and no other."""
    how = "Task.cancel()" if native else "a cancel scope"
    for size in (0, 1):
        for scenario in _SCENARIOS:
            async with _stream(ctx, size) as (send, receive, tg, _handles):
                ledger = _Ledger()
                await scenario(send, receive, tg, ledger, native)
                await settle()
                await send.aclose()
                leftovers = await _drain(receive)
                ledger.received += [("drained afterwards", item) for item in leftovers]
                problem = ledger.problem()
                if problem:
                    raise _fail(f"{scenario.__doc__} (cancelled with {how}): {problem}", size)


class _Ledger:
    def __init__(self) -> None:
        self.sends: dict[int, Task] = {}
        self.receives: list[Task] = []
        self.received: list[tuple[str, Any]] = []

    def problem(self) -> str:
        got = [
            ("receive()", op.outcome[1])
            for op in self.receives
            if op.outcome and op.outcome[0] == "value"
        ]
        got += self.received
        items = [item for _, item in got]
        for item in set(items):
            if items.count(item) > 1:
                return f"item {item!r} was received {items.count(item)} times"
        for item, op in self.sends.items():
            if op.outcome == ("value", None) and item not in items:
                return f"send({item!r}) returned but item {item!r} was never received (lost)"
            if op.outcome == ("cancelled",) and item in items:
                return (
                    f"send({item!r}) raised the cancellation, yet item {item!r} was "
                    "received: a retrying sender would duplicate it"
                )
            if op.outcome is not None and op.outcome[0] == "error" and item in items:
                return f"send({item!r}) {_outcome_text(op)}, yet item {item!r} was received"
        return ""


async def _receiver_cancelled_then_send(
    send: Any, receive: Any, tg: TaskGroup, ledger: _Ledger, native: bool
) -> None:
    """a waiting receiver is cancelled, then an item is sent before it resumes"""
    op = await start(tg, "receive()", receive.receive, native=native)
    ledger.receives.append(op)
    op.cancel()
    try:
        send.send_nowait(1)
    except WouldBlock:
        pass
    else:
        ledger.sends[1] = _Done("send_nowait(1)", ("value", None))


async def _send_then_receiver_cancelled(
    send: Any, receive: Any, tg: TaskGroup, ledger: _Ledger, native: bool
) -> None:
    """an item is handed to a waiting receiver, which is cancelled before it resumes"""
    op = await start(tg, "receive()", receive.receive, native=native)
    ledger.receives.append(op)
    send.send_nowait(2)
    ledger.sends[2] = _Done("send_nowait(2)", ("value", None))
    op.cancel()


async def _sender_cancelled_then_receive(
    send: Any, receive: Any, tg: TaskGroup, ledger: _Ledger, native: bool
) -> None:
    """a waiting sender is cancelled, then a receiver takes items before it resumes"""
    await _fill(send, ledger)
    op = await start(tg, "send(3)", lambda: send.send(3), native=native)
    ledger.sends[3] = op
    op.cancel()
    await _take_all(receive, ledger)


async def _receive_then_sender_cancelled(
    send: Any, receive: Any, tg: TaskGroup, ledger: _Ledger, native: bool
) -> None:
    """a receiver takes a waiting sender's item, and the sender is cancelled before it resumes"""
    await _fill(send, ledger)
    op = await start(tg, "send(4)", lambda: send.send(4), native=native)
    ledger.sends[4] = op
    await _take_all(receive, ledger)
    op.cancel()


async def _fill(send: Any, ledger: _Ledger) -> None:
    try:
        send.send_nowait(0)
    except WouldBlock:
        return
    ledger.sends[0] = _Done("send_nowait(0)", ("value", None))


async def _take_all(receive: Any, ledger: _Ledger) -> None:
    while True:
        try:
            ledger.received.append(("receive_nowait()", receive.receive_nowait()))
        except (WouldBlock, EndOfStream):
            return


_SCENARIOS: tuple[Callable[[Any, Any, TaskGroup, _Ledger, bool], Awaitable[None]], ...] = (
    _receiver_cancelled_then_send,
    _send_then_receiver_cancelled,
    _sender_cancelled_then_receive,
    _receive_then_sender_cancelled,
)


@check("MEM-CANCEL-NO-LOSS", needs=_NEEDS)
async def mem_cancel_no_loss(ctx: Context) -> None:
    await _cancel_trials(ctx, native=False)


@check("MEM-NATIVE-CANCEL-NO-LOSS", needs=_NEEDS)
async def mem_native_cancel_no_loss(ctx: Context) -> None:
    if ctx.backend != "asyncio":
        raise NotProvided(
            "asyncio's Task.cancel() on the trio backend (the rule is for asyncio backends only)"
        )
    await _cancel_trials(ctx, native=True)


# -- the rest ----------------------------------------------------------------------------------

_FIELDS = (
    "current_buffer_used",
    "max_buffer_size",
    "open_send_streams",
    "open_receive_streams",
    "tasks_waiting_send",
    "tasks_waiting_receive",
)


def _check_stats(handles: list[Any], expected: tuple[float, ...], when: str) -> None:
    for handle in handles:
        stats = handle.statistics()
        seen = tuple(getattr(stats, name, "<missing>") for name in _FIELDS)
        if seen != expected:
            diffs = ", ".join(
                f"{name}={s!r} (expected {e!r})"
                for name, s, e in zip(_FIELDS, seen, expected, strict=True)
                if s != e
            )
            raise _fail(f"statistics() {when}: {diffs}")


@check("MEM-STATISTICS", needs=_NEEDS)
async def mem_statistics(ctx: Context) -> None:
    async with _stream(ctx, 2) as (send, receive, tg, handles):
        _check_stats([send, receive], (0, 2, 1, 1, 0, 0), "of a new stream")
        send2 = send.clone()
        handles.append(send2)
        _check_stats([send, send2, receive], (0, 2, 2, 1, 0, 0), "after cloning the send end")
        send.send_nowait("a")
        await send2.send("b")
        _check_stats([send, receive], (2, 2, 2, 1, 0, 0), "with two items buffered")
        sender = await start(tg, "send('c')", lambda: send.send("c"))
        _check_stats([send2, receive], (2, 2, 2, 1, 1, 0), "with a sender waiting")
        await receive.receive()
        await settle()
        _check_stats(
            [send, receive], (2, 2, 2, 1, 0, 0), "after a receive let the waiting sender in"
        )
        _expect(sender, ("value", None), "after a receive freed a slot")
        await _drain(receive)
        receiver = await start(tg, "receive()", receive.receive)
        _check_stats([send, receive], (0, 2, 2, 1, 0, 1), "with a receiver waiting")
        receiver.cancel()
        await settle()
        _check_stats(
            [send, receive], (0, 2, 2, 1, 0, 0), "after the waiting receiver was cancelled"
        )
        receive2 = receive.clone()
        handles.append(receive2)
        await send2.aclose()
        _check_stats(
            [send, receive2],
            (0, 2, 1, 2, 0, 0),
            "after cloning the receive end and closing a send clone",
        )


@check("MEM-SYNC-CLOSE", needs=_NEEDS)
async def mem_sync_close(ctx: Context) -> None:
    async with _stream(ctx, 0) as (send, receive, tg, handles):
        receiver = await start(tg, "receive()", receive.receive)
        send.close()
        await settle()
        _expect(receiver, ("error", "EndOfStream"), "after close() of the only send end")
        _raises(lambda: send.send_nowait(1), ClosedResourceError, "send_nowait() after close()")
        try:
            send.close()
        except Exception as exc:
            raise _fail(f"a second close() raised {describe(exc)}") from exc
    async with _stream(ctx, 0) as (send, receive, tg, handles):
        receiver_clone = receive.clone()
        handles.append(receiver_clone)
        waiting = await start(tg, "receive() on a clone", receiver_clone.receive)
        with receiver_clone:
            pass
        await settle()
        _expect(waiting, ("error", "ClosedResourceError"), "after 'with' closed its handle")
        sender = await start(tg, "send(1)", lambda: send.send(1))
        _waiting(sender, "while another receive clone is still open")
        receive.close()
        await settle()
        _expect(sender, ("error", "BrokenResourceError"), "after close() of the last receive clone")
        _raises(receive.receive_nowait, ClosedResourceError, "receive_nowait() after close()")
        with send:
            pass
        _raises(
            lambda: send.send_nowait(1),
            ClosedResourceError,
            "send_nowait() after 'with' closed the send end",
        )


@check("MEM-ITER-END", needs=_NEEDS)
async def mem_iter_end(ctx: Context) -> None:
    async with _stream(ctx, 3) as (send, receive, tg, handles):
        clone = send.clone()
        handles.append(clone)
        received: list[Any] = []

        async def iterate() -> None:
            async for item in receive:
                received.append(item)

        loop = await start(tg, "async for over the receive end", iterate)
        await send.send(1)
        await send.aclose()
        await settle()
        _waiting(loop, "after one of two send clones closed")
        for item in (2, 3, 4):
            clone.send_nowait(item)
        await clone.aclose()
        await settle()
        _expect(loop, ("value", None), "after the last send clone closed")
        if received != [1, 2, 3, 4]:
            raise _fail(f"iteration yielded {received}, expected [1, 2, 3, 4]")
    async with _stream(ctx, 2) as (send, receive, tg, handles):
        send.send_nowait("x")
        send.send_nowait("y")
        send.close()
        got: list[Any] = []

        async def iterate_buffered() -> None:
            async for item in receive:
                got.append(item)

        loop = await start(
            tg, "async for over a closed stream with 2 items buffered", iterate_buffered
        )
        _expect(loop, ("value", None), "over the drained stream", 2)
        if got != ["x", "y"]:
            raise _fail(
                f"iteration after the senders closed yielded {got}, not the buffered ['x', 'y']", 2
            )


# -- the model ---------------------------------------------------------------------------------


def _observed(kind: Kind, outcome: Outcome | None) -> Outcome:
    """What an operation of ``kind`` did, as the model states outcomes."""
    if outcome is None:
        return BLOCKED
    if outcome[0] != "value" or kind.returns_item:
        return outcome
    # send() returns None; clone() returns the new handle, which is no outcome of its own.
    return OK if outcome[1] is None or not kind.in_task else outcome


async def _perform(
    tg: TaskGroup, handles: dict[End, list[Any]], tasks: list[Task], index: int, op: ProgramOp
) -> Outcome:
    """Perform ``op``, step ``index`` of its program, on the real handles, as its
    :class:`~streamspec.conformance.model.Kind` names it, and let every task settle."""
    kind = op.kind
    if kind.end is None:
        tasks[op.target].cancel()
        await settle()
        return OK
    method = getattr(handles[kind.end][op.target], kind.method)
    call = partial(method, index) if kind.sends_item else method
    if kind.in_task:
        task = await start(tg, op.label(index), call)
        tasks.append(task)
        return _observed(kind, task.outcome)
    try:
        result = call()
        if inspect.isawaitable(result):
            result = await result
    except Exception as exc:
        outcome: Outcome = ("error", type(exc).__name__)
    else:
        if kind.method == "clone":
            handles[kind.end].append(result)
        outcome = _observed(kind, ("value", result))
    await settle()
    return outcome


async def _run_program(ctx: Context, program: Program) -> None:
    """Run ``program`` on a fresh stream of the target and fail at the first step where the
    stream and the model disagree, naming the program and the step."""
    expected = run_model(program)
    factory = ctx.target.create_memory_object_stream
    assert factory is not None
    send, receive = factory(program.max_buffer_size)
    handles: dict[End, list[Any]] = {"send": [send], "receive": [receive]}
    tasks: list[Task] = []
    starts = task_steps(program)
    disagreement = ""
    try:
        async with anyio.create_task_group() as tg:
            for index, op in enumerate(program.ops):
                finished = {n for n, t in enumerate(tasks) if t.done}
                outcome = await _perform(tg, handles, tasks, index, op)
                own = len(tasks) - 1 if op.kind.in_task else None
                woken = tuple(
                    (n, _observed(program.ops[starts[n]].kind, t.outcome))
                    for n, t in enumerate(tasks)
                    if t.done and n not in finished and n != own
                )
                actual = Step(outcome, woken)
                if actual != expected[index]:
                    # Tasks the model ends here that are still waiting are shown as such.
                    still = tuple(
                        (n, BLOCKED) for n, _ in expected[index].woken if not tasks[n].done
                    )
                    shown = Step(outcome, tuple(sorted(woken + still)))
                    disagreement = (
                        f"step {index} ({op.label(index)}) breaks the rule:\n"
                        f"  expected: {format_step(expected[index], program)}\n"
                        f"  observed: {format_step(shown, program)}\n"
                        f"program:\n{format_program(program, index)}"
                    )
                    break
            tg.cancel_scope.cancel()
    finally:
        await close_quietly(*handles["send"], *handles["receive"])
    if disagreement:
        title = f"{program.title}: " if program.title else ""
        raise _fail(f"{title}{disagreement}", program.max_buffer_size)


async def _run_rule_programs(programs: tuple[Program, ...], ctx: Context) -> None:
    for program in programs:
        await _run_program(ctx, program)


# The rules the model covers are checked by running their fixed programs.
for _rule_id, _programs in RULE_PROGRAMS.items():
    check(_rule_id, needs=_NEEDS)(partial(_run_rule_programs, _programs))


@check("MEM-MODEL", needs=_NEEDS)
def mem_model(ctx: Context) -> None:
    @given(program=programs())
    def agrees_with_model(program: Program) -> None:
        ctx.run(_run_program, ctx, program)

    for program in reversed(EXAMPLES):
        agrees_with_model = example(program=normalize(program))(agrees_with_model)

    agrees_with_model()
