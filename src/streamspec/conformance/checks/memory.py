"""Checks of the ``memory`` role: the target's ``create_memory_object_stream``.

Every check drives the streams from tasks it controls: an operation that may wait runs in a
task of its own (:func:`~.objects.start`), and the check lets every task run until it blocks
(:func:`~.objects.settle`) before looking at what happened. So "send() waits" is observed as
"the sending task had not finished once every task was blocked", and no check sleeps. A
stream that loses a wake-up leaves a task waiting forever; the context's time limit turns
that into a failure.

``MEM-MODEL`` runs drawn programs against the implementation and the pure model of
:mod:`streamspec.conformance.model`, comparing every step.

Check failures carry their own messages, so pytest must not rewrite this module's asserts
(PYTEST_DONT_REWRITE): the pytest plugin's report then reads like the CLI's.
"""

from __future__ import annotations

import math
from collections.abc import Awaitable, Callable
from contextlib import asynccontextmanager
from fractions import Fraction
from functools import partial
from typing import Any

import anyio
from anyio import BrokenResourceError, ClosedResourceError, EndOfStream, WouldBlock
from anyio.abc import TaskGroup
from hypothesis import example, given

from ..model import (
    BLOCKED,
    EXAMPLES,
    KINDS,
    OK,
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
from ..registry import Context, NotProvided, check
from ..subjects import close_quietly
from .objects import Op, describe, settle, start

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


def _outcome_text(op: Op) -> str:
    if op.outcome is None:
        return "was still waiting"
    kind, *rest = op.outcome
    if kind == "value":
        return f"returned {rest[0]!r}"
    if kind == "error":
        return f"raised {rest[0]}"
    return "was cancelled"


def _expect(op: Op, expected: Outcome, what: str, size: float | None = None) -> None:
    if op.outcome != expected:
        wanted = _outcome_text(_Done(op.label, expected))
        raise _fail(f"{what}: {op.label} {_outcome_text(op)}, expected it {wanted}", size)


class _Done(Op):
    def __init__(self, label: str, outcome: Outcome) -> None:
        super().__init__(label)
        self.outcome = outcome


def _waiting(op: Op, what: str, size: float | None = None) -> None:
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


def _nowait_value(func: Callable[[], object], what: str, size: float | None = None) -> object:
    try:
        return func()
    except Exception as exc:
        raise _fail(f"{what} raised {describe(exc)}", size) from exc


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


@check("MEM-BUFFER-ZERO", needs=_NEEDS)
async def mem_buffer_zero(ctx: Context) -> None:
    async with _stream(ctx, 0) as (send, receive, tg, _):
        _raises(lambda: send.send_nowait("early"), WouldBlock, "send_nowait() with no receiver", 0)
        _raises(
            receive.receive_nowait,
            WouldBlock,
            "receive_nowait() after a send_nowait() that raised WouldBlock",
            0,
        )
        sender = await start(tg, "send('a')", lambda: send.send("a"))
        _waiting(sender, "with no receiver", 0)
        got = _nowait_value(receive.receive_nowait, "receive_nowait() with a sender waiting", 0)
        await settle()
        if got != "a":
            raise _fail(f"receive_nowait() returned {got!r}, the waiting sender sent 'a'", 0)
        _expect(sender, ("value", None), "after its item was received", 0)
        receiver = await start(tg, "receive()", receive.receive)
        _nowait_value(lambda: send.send_nowait("b"), "send_nowait() with a receiver waiting", 0)
        await settle()
        _expect(receiver, ("value", "b"), "after send_nowait('b')", 0)


@check("MEM-BUFFER-N", needs=_NEEDS)
async def mem_buffer_n(ctx: Context) -> None:
    for size in (1, 3):
        async with _stream(ctx, size) as (send, receive, tg, _):
            items = list(range(size))
            for item in items[:-1]:
                _nowait_value(partial(send.send_nowait, item), f"send_nowait({item})", size)
            last = await start(tg, f"send({items[-1]})", partial(send.send, items[-1]))
            _expect(last, ("value", None), f"with {size - 1} item(s) buffered", size)
            _raises(
                lambda: send.send_nowait("refused"),
                WouldBlock,
                f"send_nowait() with {size} items buffered",
                size,
            )
            extra = await start(tg, "send('waits')", lambda: send.send("waits"))
            _waiting(extra, f"with {size} items buffered", size)
            received = [receive.receive_nowait() for _ in range(size + 1)]
            await settle()
            if received != [*items, "waits"]:
                raise _fail(
                    f"received {received}, expected {[*items, 'waits']} (the item refused "
                    "with WouldBlock must not be accepted)",
                    size,
                )
            _expect(extra, ("value", None), "after the buffer drained", size)
            _raises(receive.receive_nowait, WouldBlock, "receive_nowait() once drained", size)


@check("MEM-BUFFER-INF", needs=_NEEDS)
async def mem_buffer_inf(ctx: Context) -> None:
    count = 500
    async with _stream(ctx, math.inf) as (send, receive, tg, _):

        async def send_many() -> None:
            for item in range(count):
                await send.send(item)
            for item in range(count, 2 * count):
                send.send_nowait(item)

        sender = await start(tg, f"{count} send() then {count} send_nowait()", send_many)
        _expect(sender, ("value", None), "with no receiver", math.inf)
        received = await _drain(receive)
        if received != list(range(2 * count)):
            raise _fail(
                f"received {len(received)} items, not the {2 * count} sent in order", math.inf
            )


# -- receiving ---------------------------------------------------------------------------------


@check("MEM-RECEIVE-NOWAIT", needs=_NEEDS)
async def mem_receive_nowait(ctx: Context) -> None:
    async with _stream(ctx, 1) as (send, receive, tg, handles):
        _raises(receive.receive_nowait, WouldBlock, "receive_nowait() on an empty stream", 1)
        send.send_nowait("buffered")
        sender = await start(tg, "send('waiting')", lambda: send.send("waiting"))
        _waiting(sender, "with the buffer full", 1)
        first = _nowait_value(receive.receive_nowait, "receive_nowait() with an item buffered", 1)
        await settle()
        if first != "buffered":
            raise _fail(f"receive_nowait() returned {first!r}, not the buffered item", 1)
        _expect(sender, ("value", None), "after receive_nowait() freed its slot", 1)
        second = _nowait_value(receive.receive_nowait, "the second receive_nowait()", 1)
        if second != "waiting":
            raise _fail(f"the second receive_nowait() returned {second!r}, not 'waiting'", 1)
        _raises(receive.receive_nowait, WouldBlock, "receive_nowait() once drained", 1)
    async with _stream(ctx, 0) as (send, receive, tg, handles):
        sender = await start(tg, "send('direct')", lambda: send.send("direct"))
        got = _nowait_value(receive.receive_nowait, "receive_nowait() with a sender waiting", 0)
        await settle()
        if got != "direct":
            raise _fail(f"receive_nowait() returned {got!r}, the waiting sender sent 'direct'", 0)
        _expect(sender, ("value", None), "after receive_nowait() took its item", 0)
    async with _stream(ctx, 2) as (send, receive, tg, handles):
        clone = send.clone()
        handles.append(clone)
        send.send_nowait("last")
        send.close()
        clone.close()
        got = _nowait_value(receive.receive_nowait, "receive_nowait() after the senders closed", 2)
        if got != "last":
            raise _fail(
                f"receive_nowait() returned {got!r} after the senders closed, not the "
                "item still buffered",
                2,
            )
        for attempt in ("first", "second"):
            _raises(
                receive.receive_nowait,
                EndOfStream,
                f"the {attempt} receive_nowait() after every send clone closed and the "
                "buffer drained",
                2,
            )


@check("MEM-RECEIVER-FIRST", needs=_NEEDS)
async def mem_receiver_first(ctx: Context) -> None:
    for size in (0, 2):
        async with _stream(ctx, size) as (send, receive, tg, handles):
            clone = receive.clone()
            handles.append(clone)
            first = await start(tg, "receive() (first waiter)", receive.receive)
            second = await start(tg, "receive() on a clone (second waiter)", clone.receive)
            _nowait_value(
                lambda: send.send_nowait(1), "send_nowait(1) with receivers waiting", size
            )
            await settle()
            _expect(first, ("value", 1), "the oldest waiting receiver", size)
            _waiting(second, "before a second item was sent", size)
            await send.send(2)
            await settle()
            _expect(second, ("value", 2), "the next waiting receiver", size)
            stats = send.statistics()
            if stats.current_buffer_used:
                raise _fail(
                    f"items sent to waiting receivers were buffered: statistics() "
                    f"shows {stats.current_buffer_used} buffered",
                    size,
                )


@check("MEM-SENDER-FAIR", needs=_NEEDS)
async def mem_sender_fair(ctx: Context) -> None:
    async with _stream(ctx, 1) as (send, receive, tg, handles):
        clone = send.clone()
        handles.append(clone)
        send.send_nowait(0)
        waiting: list[Op] = []
        for item, handle in ((1, send), (2, clone), (3, send)):
            waiting.append(await start(tg, f"send({item})", partial(handle.send, item)))
        got = await receive.receive()
        await settle()
        if got != 0:
            raise _fail(f"receive() returned {got!r}, not the buffered 0", 1)
        _expect(waiting[0], ("value", None), "the oldest waiting sender, once a slot freed", 1)
        for op in waiting[1:]:
            _waiting(op, "while an older sender took the only free slot", 1)
        rest = [await receive.receive() for _ in range(3)]
        if rest != [1, 2, 3]:
            raise _fail(f"waiting senders sent 1, 2, 3 in that order; received {rest}", 1)


# -- clones and closing ------------------------------------------------------------------------


@check("MEM-CLONE", needs=_NEEDS)
async def mem_clone(ctx: Context) -> None:
    async with _stream(ctx, 2) as (send, receive, _tg, handles):
        send2 = send.clone()
        receive2 = receive.clone()
        handles += [send2, receive2]
        if send2 is send or receive2 is receive:
            raise _fail("clone() returned the same handle, not a new one")
        await send2.send("via clone")
        got = await receive.receive()
        if got != "via clone":
            raise _fail(f"sent 'via clone' on a send clone, received {got!r}")
        await send.send("to clone")
        got = await receive2.receive()
        if got != "to clone":
            raise _fail(f"a receive clone got {got!r}, not 'to clone'")
        await send.aclose()
        _raises(
            receive2.receive_nowait,
            WouldBlock,
            "receive_nowait() on an empty stream after the original send end closed, while "
            "its clone is open,",
        )
        try:
            await send2.send("after original closed")
        except Exception as exc:
            raise _fail(
                f"send() on a clone raised {describe(exc)} after only the original "
                "send end was closed"
            ) from exc
        got = await receive2.receive()
        if got != "after original closed":
            raise _fail(f"received {got!r}, not 'after original closed'")
        await receive.aclose()
        _raises(send.clone, ClosedResourceError, "clone() of a closed send end")
        _raises(receive.clone, ClosedResourceError, "clone() of a closed receive end")
        send3 = send2.clone()
        handles.append(send3)
        await send2.aclose()
        await send3.send("from a clone of a clone")
        got = await receive2.receive()
        if got != "from a clone of a clone":
            raise _fail(f"received {got!r} from a clone of a clone")


@check("MEM-CLOSE-WAKES", needs=_NEEDS)
async def mem_close_wakes(ctx: Context) -> None:
    async with _stream(ctx, 0) as (send, receive, tg, handles):
        other = receive.clone()
        handles.append(other)
        mine = await start(tg, "receive() on the handle being closed", receive.receive)
        theirs = await start(tg, "receive() on another receive clone", other.receive)
        await receive.aclose()
        await settle()
        _expect(mine, ("error", "ClosedResourceError"), "after its handle was closed")
        _waiting(theirs, "after a different receive clone was closed")
        await send.send("for the other clone")
        await settle()
        _expect(theirs, ("value", "for the other clone"), "after a send")
        _raises(receive.receive_nowait, ClosedResourceError, "receive_nowait() on a closed handle")
        try:
            await receive.receive()
        except ClosedResourceError:
            pass
        except Exception as exc:
            raise _fail(f"receive() on a closed handle raised {describe(exc)}") from exc
        else:
            raise _fail("receive() on a closed handle returned instead of raising")
    async with _stream(ctx, 0) as (send, receive, tg, handles):
        other = send.clone()
        handles.append(other)
        mine = await start(
            tg, "send('withdrawn') on the handle being closed", lambda: send.send("withdrawn")
        )
        theirs = await start(tg, "send('kept') on another send clone", lambda: other.send("kept"))
        await send.aclose()
        await settle()
        _expect(mine, ("error", "ClosedResourceError"), "after its handle was closed")
        _waiting(theirs, "after a different send clone was closed")
        got = await receive.receive()
        await settle()
        if got != "kept":
            raise _fail(
                f"received {got!r} after closing a waiting sender's handle; its item "
                "must be withdrawn and 'kept' arrive"
            )
        _raises(
            receive.receive_nowait, WouldBlock, "receive_nowait() after the withdrawn sender's item"
        )
        _raises(
            lambda: send.send_nowait(1), ClosedResourceError, "send_nowait() on a closed handle"
        )
        try:
            await send.send(1)
        except ClosedResourceError:
            pass
        except Exception as exc:
            raise _fail(f"send() on a closed handle raised {describe(exc)}") from exc
        else:
            raise _fail("send() on a closed handle returned instead of raising")


@check("MEM-LAST-SENDER-CLOSED", needs=_NEEDS)
async def mem_last_sender_closed(ctx: Context) -> None:
    async with _stream(ctx, 2) as (send, receive, tg, handles):
        clone = send.clone()
        handles.append(clone)
        send.send_nowait(1)
        clone.send_nowait(2)
        await send.aclose()
        await clone.aclose()
        got = [await receive.receive(), await receive.receive()]
        if got != [1, 2]:
            raise _fail(f"after the last send clone closed, the buffered [1, 2] came out as {got}")
        for attempt in ("first", "second"):
            try:
                extra = await receive.receive()
            except EndOfStream:
                continue
            except Exception as exc:
                raise _fail(
                    f"the {attempt} receive() after the buffer drained raised "
                    f"{describe(exc)}, not EndOfStream"
                ) from exc
            raise _fail(f"the {attempt} receive() after the buffer drained returned {extra!r}")
    async with _stream(ctx, 0) as (send, receive, tg, handles):
        send2 = send.clone()
        receive2 = receive.clone()
        handles += [send2, receive2]
        first = await start(tg, "receive()", receive.receive)
        second = await start(tg, "receive() on a clone", receive2.receive)
        await send.aclose()
        await settle()
        _waiting(first, "after one of two send clones closed")
        _waiting(second, "after one of two send clones closed")
        await send2.aclose()
        await settle()
        _expect(first, ("error", "EndOfStream"), "after the last send clone closed")
        _expect(second, ("error", "EndOfStream"), "after the last send clone closed")


@check("MEM-LAST-RECEIVER-CLOSED", needs=_NEEDS)
async def mem_last_receiver_closed(ctx: Context) -> None:
    async with _stream(ctx, 0) as (send, receive, tg, handles):
        send2 = send.clone()
        receive2 = receive.clone()
        handles += [send2, receive2]
        first = await start(tg, "send(1)", lambda: send.send(1))
        second = await start(tg, "send(2) on a clone", lambda: send2.send(2))
        await receive.aclose()
        await settle()
        _waiting(first, "after one of two receive clones closed")
        _waiting(second, "after one of two receive clones closed")
        await receive2.aclose()
        await settle()
        _expect(first, ("error", "BrokenResourceError"), "after the last receive clone closed")
        _expect(second, ("error", "BrokenResourceError"), "after the last receive clone closed")
        _raises(
            lambda: send.send_nowait(3),
            BrokenResourceError,
            "send_nowait() after the last receive clone closed",
        )
        later = await start(tg, "send(4)", lambda: send2.send(4))
        _expect(later, ("error", "BrokenResourceError"), "after the last receive clone closed")
    async with _stream(ctx, 3) as (send, receive, tg, handles):
        send.send_nowait("buffered")
        await receive.aclose()
        later = await start(tg, "send('more')", lambda: send.send("more"))
        _expect(
            later,
            ("error", "BrokenResourceError"),
            "with room in the buffer but every receive clone closed",
            3,
        )


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
        self.sends: dict[int, Op] = {}
        self.receives: list[Op] = []
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


def _observed(op: Op, kind: str) -> Outcome:
    if op.outcome is None:
        return BLOCKED
    if op.outcome[0] == "value" and kind.startswith("send"):
        return OK if op.outcome[1] is None else op.outcome
    return op.outcome


async def _run_program(ctx: Context, program: Program) -> None:
    expected = run_model(program)
    factory = ctx.target.create_memory_object_stream
    assert factory is not None
    send, receive = factory(program.max_buffer_size)
    ends: dict[str, list[Any]] = {"send": [send], "receive": [receive]}
    tasks: list[Op] = []
    starts = task_steps(program)
    disagreement = ""
    try:
        async with anyio.create_task_group() as tg:
            for index, op in enumerate(program.ops):
                finished = {n for n, t in enumerate(tasks) if t.done}
                step = await _apply(tg, ends, tasks, index, op)
                own = len(tasks) - 1 if KINDS[op.kind][1] else None
                woken = tuple(
                    (n, _observed(t, program.ops[starts[n]].kind))
                    for n, t in enumerate(tasks)
                    if t.done and n not in finished and n != own
                )
                actual = Step(step, woken)
                if actual != expected[index]:
                    disagreement = (
                        f"step {index} ({op.label(index)}): the model predicts "
                        f"{format_step(expected[index], program)}, the stream did "
                        f"{format_step(actual, program)}\n"
                        f"program:\n{format_program(program, index)}"
                    )
                    break
            tg.cancel_scope.cancel()
    finally:
        await close_quietly(*ends["send"], *ends["receive"])
    if disagreement:
        raise AssertionError(disagreement)


async def _apply(
    tg: TaskGroup, ends: dict[str, list[Any]], tasks: list[Op], index: int, op: Any
) -> Outcome:
    kind = op.kind
    if kind == "cancel":
        tasks[op.target].cancel()
        await settle()
        return OK
    end, blocking = KINDS[kind]
    assert end is not None
    handle = ends[end][op.target]
    if blocking:
        func = (lambda: handle.send(index)) if kind == "send" else handle.receive
        task = await start(tg, op.label(index), func)
        tasks.append(task)
        return _observed(task, kind)
    try:
        if kind == "send_nowait":
            handle.send_nowait(index)
            result: Outcome = OK
        elif kind == "receive_nowait":
            result = ("value", handle.receive_nowait())
        elif kind.startswith("clone"):
            ends[end].append(handle.clone())
            result = OK
        elif kind.startswith("aclose"):
            await handle.aclose()
            result = OK
        else:
            handle.close()
            result = OK
    except Exception as exc:
        result = ("error", type(exc).__name__)
    await settle()
    return result


@check("MEM-MODEL", needs=_NEEDS)
def mem_model(ctx: Context) -> None:
    @given(program=programs())
    def agrees_with_model(program: Program) -> None:
        ctx.run(_run_program, ctx, program)

    for program in reversed(EXAMPLES):
        agrees_with_model = example(program=normalize(program))(agrees_with_model)

    agrees_with_model()
