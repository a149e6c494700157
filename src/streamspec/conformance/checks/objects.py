"""Checks of the ``object`` role: every object stream the target provides.

Each check runs over every subject of :func:`~streamspec.conformance.subjects.object_pairs`
(the memory object stream, the stapled memory object pair, the target's
``object_stream_pair``) and names the subject in its failure message. The subjects buffer at
most one item, so senders and receivers interleave.

Check failures carry their own messages, so pytest must not rewrite this module's asserts
(PYTEST_DONT_REWRITE): the pytest plugin's report then reads like the CLI's.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable
from functools import partial
from typing import Any

import anyio
import anyio.lowlevel
from anyio import ClosedResourceError, EndOfStream
from anyio.abc import TaskGroup

from ..instruments import Drain
from ..observe import (
    PATIENCE,
    Op,
    describe,
    expect_raises,
    expect_returns,
    expect_waiting,
    settle,
    start,
    until_really_blocked,
)
from ..registry import Context, NotProvided, check
from ..subjects import ObjectPair, Subject, object_pairs

__all__: list[str] = []
#: Items each object check sends.
_COUNT = 30


def fail(subject: str, observed: str) -> AssertionError:
    """The failure of a check on ``subject``: what was observed, naming the subject."""
    return AssertionError(f"{subject}: {observed}")


async def _each(
    ctx: Context, body: Callable[[str, ObjectPair, TaskGroup], Awaitable[None]]
) -> None:
    subjects: Iterable[Subject[ObjectPair]] = object_pairs(ctx.target)
    ran = False
    for subject in subjects:
        ran = True
        async with subject.open() as pair, anyio.create_task_group() as tg:
            await body(subject.name, pair, tg)
            tg.cancel_scope.cancel()
    if not ran:
        ctx.not_provided("an object stream")


_OBJECT_FACTORIES = ("create_memory_object_stream", "object_stream_pair")


def _needs_object_stream(ctx: Context) -> None:
    if not any(ctx.target.provides(name) for name in _OBJECT_FACTORIES):
        ctx.not_provided("an object stream (create_memory_object_stream or object_stream_pair)")


async def _send_all(sender: Any, items: Iterable[object], close: bool) -> None:
    for item in items:
        await sender.send(item)
    if close:
        await sender.aclose()


async def _receive_n(subject: str, receiver: Any, count: int) -> list[Any]:
    return [
        await expect_returns(
            f"{subject}: receive() after {index} of {count} items", receiver.receive
        )
        for index in range(count)
    ]


# -- the checks --------------------------------------------------------------------------------


@check("OBJ-FIFO")
async def obj_fifo(ctx: Context) -> None:
    _needs_object_stream(ctx)

    async def body(subject: str, pair: ObjectPair, tg: TaskGroup) -> None:
        items = [pair.item(n) for n in range(_COUNT)]
        # The sender runs ahead until it blocks, so items pile up before the first receive.
        tg.start_soon(_send_all, pair.sender, items, False)
        await settle()
        received = await _receive_n(subject, pair.receiver, _COUNT)
        if received != items:
            first = next(i for i, (a, b) in enumerate(zip(received, items, strict=True)) if a != b)
            raise fail(
                subject,
                f"items sent as {items[: first + 3]}... were received as "
                f"{received[: first + 3]}... (item {items[first]!r} expected at position "
                f"{first})",
            )

    await _each(ctx, body)


@check("OBJ-EXACTLY-ONCE")
async def obj_exactly_once(ctx: Context) -> None:
    _needs_object_stream(ctx)
    senders, receivers, per_sender = 4, 4, 25

    async def body(subject: str, pair: ObjectPair, tg: TaskGroup) -> None:
        received: list[Any] = []
        errors: list[str] = []

        async def send_batch(first: int) -> None:
            for value in range(first, first + per_sender):
                await pair.sender.send(pair.item(value))

        async def receive_all() -> None:
            while True:
                try:
                    received.append(await pair.receiver.receive())
                except EndOfStream:
                    return
                except Exception as exc:
                    errors.append(describe(exc))
                    return

        async with anyio.create_task_group() as inner:
            for _ in range(receivers):
                inner.start_soon(receive_all)
            async with anyio.create_task_group() as sending:
                for n in range(senders):
                    sending.start_soon(send_batch, n * per_sender)
            await pair.sender.aclose()
        if errors:
            raise fail(subject, f"a concurrent receive() raised {errors[0]}")
        expected = {pair.item(n) for n in range(senders * per_sender)}
        counts: dict[Any, int] = {}
        for item in received:
            counts[item] = counts.get(item, 0) + 1
        twice = sorted((i for i, n in counts.items() if n > 1), key=repr)
        lost = sorted(expected - counts.keys(), key=repr)
        if twice:
            raise fail(subject, f"item {twice[0]!r} was received {counts[twice[0]]} times")
        if lost:
            raise fail(subject, f"item {lost[0]!r} was sent (send() returned) but never received")
        extra = sorted(counts.keys() - expected, key=repr)
        if extra:
            raise fail(subject, f"{extra[0]!r} was received but never sent")

    await _each(ctx, body)


class _Token:
    """An object without value equality: only identity can tell it apart."""

    __slots__ = ("label",)

    def __init__(self, label: str) -> None:
        self.label = label

    def __repr__(self) -> str:
        return f"<token {self.label}>"


@check("OBJ-IDENTITY")
async def obj_identity(ctx: Context) -> None:
    _needs_object_stream(ctx)
    if ctx.target.create_memory_object_stream is None and ctx.target.object_items != "any":
        ctx.not_provided(
            f"an object stream that carries any object (object_items is "
            f"{ctx.target.object_items!r}, so items arrive as copies)"
        )

    async def body(subject: str, pair: ObjectPair, tg: TaskGroup) -> None:
        if pair.items != "any":
            return  # a stream of copies (pickled objects, bytes) keeps no identity
        items: list[object] = [_Token("a"), [1, 2], {"k": []}, _Token("b"), bytearray(b"x")]
        tg.start_soon(_send_all, pair.sender, items, False)
        received = await _receive_n(subject, pair.receiver, len(items))
        for sent, got in zip(items, received, strict=True):
            if got is not sent:
                # No object addresses in the message: they would differ from run to run.
                raise fail(
                    subject,
                    f"received {got!r}, an equal object but not the very object {sent!r} "
                    "that was sent: a copy",
                )

    await _each(ctx, body)


@check("OBJ-EOF")
async def obj_eof(ctx: Context) -> None:
    _needs_object_stream(ctx)

    async def body(subject: str, pair: ObjectPair, tg: TaskGroup) -> None:
        items = [pair.item(letter) for letter in "abc"]
        tg.start_soon(_send_all, pair.sender, items, True)
        received = await _receive_n(subject, pair.receiver, len(items))
        if received != items:
            raise fail(subject, f"sent {items}, received {received} before closing")
        for attempt in ("first", "second", "third"):
            problem = await expect_raises(EndOfStream, pair.receiver.receive)
            if problem is not None:
                raise fail(
                    subject,
                    f"the {attempt} receive() after the sender closed and every item arrived "
                    f"should raise EndOfStream, but {problem}",
                )

    await _each(ctx, body)


async def _expect_closed(subject: str, what: str, func: Callable[[], Awaitable[Any]]) -> None:
    problem = await expect_raises(ClosedResourceError, func)
    if problem is not None:
        raise fail(subject, f"{what} should raise ClosedResourceError, but {problem}")


@check("OBJ-CLOSED")
async def obj_closed(ctx: Context) -> None:
    _needs_object_stream(ctx)

    async def body(subject: str, pair: ObjectPair, tg: TaskGroup) -> None:
        await pair.sender.aclose()
        await _expect_closed(
            subject, "send() on the closed send end", partial(pair.sender.send, pair.item(1))
        )
        await pair.receiver.aclose()
        await _expect_closed(subject, "receive() on the closed receive end", pair.receiver.receive)

    await _each(ctx, body)


@check("OBJ-SEND-EOF")
async def obj_send_eof(ctx: Context) -> None:
    _needs_object_stream(ctx)
    ran = False
    for subject in object_pairs(ctx.target):
        async with subject.open() as pair, anyio.create_task_group() as tg:
            left: Any = pair.sender
            right: Any = pair.receiver
            if not (hasattr(left, "send_eof") and hasattr(right, "send")):
                continue
            ran = True
            await _send_eof_exchange(subject.name, pair, left, right, tg)
            tg.cancel_scope.cancel()
    if not ran:
        ctx.not_provided("a bidirectional object stream (one with send_eof)")


async def _send_eof_exchange(
    subject: str, pair: ObjectPair, left: Any, right: Any, tg: TaskGroup
) -> None:
    sent = [pair.item("x"), pair.item("y")]

    async def send_then_eof() -> None:
        for item in sent:
            await left.send(item)
        await left.send_eof()

    tg.start_soon(send_then_eof)
    received = await _receive_n(subject, right, 2)
    if received != sent:
        raise fail(subject, f"sent {sent!r} then send_eof(), the peer received {received!r}")
    try:
        extra = await right.receive()
    except EndOfStream:
        pass
    except Exception as exc:
        raise fail(
            subject, f"after send_eof() the peer's receive() raised {describe(exc)}"
        ) from exc
    else:
        raise fail(subject, f"after send_eof() the peer's receive() returned {extra!r}")
    # The other direction still works.
    reply = pair.item("back")
    tg.start_soon(_send_all, right, [reply], False)
    try:
        back = await left.receive()
    except Exception as exc:
        raise fail(
            subject, f"after send_eof(), receiving the peer's reply raised {describe(exc)}"
        ) from exc
    if back != reply:
        raise fail(subject, f"after send_eof(), the peer sent {reply!r} and {back!r} arrived")
    await expect_returns(f"{subject}: a second send_eof()", left.send_eof)


@check("OBJ-SEND-AFTER-EOF")
async def obj_send_after_eof(ctx: Context) -> None:
    _needs_object_stream(ctx)
    ran = False
    for subject in object_pairs(ctx.target):
        async with subject.open() as pair:
            left: Any = pair.sender
            right: Any = pair.receiver
            if not (hasattr(left, "send_eof") and hasattr(right, "send")):
                continue
            ran = await _send_after_eof(subject.name, pair, left, right) or ran
    if not ran:
        ctx.not_provided("a bidirectional object stream (one with send_eof)")


async def _send_after_eof(subject: str, pair: ObjectPair, left: Any, right: Any) -> bool:
    """Check send() after send_eof() on ``left``; False when send_eof() raised
    NotImplementedError (the stream cannot half-close, and nothing was checked)."""
    # Receiving all along: a stream without a buffer hands items over only to a receiver.
    drain = Drain(right)
    async with anyio.create_task_group() as tg:
        tg.start_soon(drain.run)
        with anyio.fail_after(PATIENCE):
            await left.send(pair.item("before"))
        try:
            with anyio.fail_after(PATIENCE):
                await left.send_eof()
        except NotImplementedError:
            tg.cancel_scope.cancel()
            return False
        after = pair.item("after")
        problem = await expect_raises(
            (ClosedResourceError, anyio.BrokenResourceError), partial(left.send, after)
        )
        if problem is not None:
            raise fail(
                subject,
                f"send({after!r}) after send_eof() should raise ClosedResourceError or "
                f"BrokenResourceError, but {problem}",
            )
        await drain.wait(PATIENCE)
        tg.cancel_scope.cancel()
    if after in drain.received:
        raise fail(
            subject,
            f"send({after!r}) after send_eof() raised, yet the peer received {drain.received}",
        )
    if drain.ending == "EndOfStream":
        # Whether the end arrives is OBJ-SEND-EOF's business; once it has, nothing may follow.
        with anyio.move_on_after(PATIENCE):
            try:
                late = await right.receive()
            except Exception:
                return True
            raise fail(
                subject, f"the peer saw EndOfStream after send_eof(), then received {late!r}"
            )
    return True


@check("OBJ-CLOSE-WAKES")
async def obj_close_wakes(ctx: Context) -> None:
    _needs_object_stream(ctx)
    for subject in object_pairs(ctx.target):
        async with subject.open() as pair, anyio.create_task_group() as tg:
            await _close_wakes_receive(subject.name, pair, tg)
            tg.cancel_scope.cancel()
        async with subject.open() as pair, anyio.create_task_group() as tg:
            await _close_wakes_send(subject.name, pair, tg)
            tg.cancel_scope.cancel()


async def _woken_by_close(subject: str, op: Op, end: str, stream: Any) -> None:
    """Close ``stream`` while ``op`` is blocked in it; ``op`` must end in ClosedResourceError."""
    await until_really_blocked()
    if op.done:
        return  # it ended by itself: what it did is the business of another rule
    with anyio.move_on_after(PATIENCE):
        await stream.aclose()
    if not await op.wait(PATIENCE):
        raise fail(
            subject, f"closing the {end} left a task blocked in its {op.label} for {PATIENCE:g} s"
        )
    if op.outcome != ("error", "ClosedResourceError"):
        raise fail(
            subject,
            f"closing the {end} woke the task blocked in its {op.label}, which ended with "
            f"{op.outcome!r} instead of raising ClosedResourceError",
        )


async def _close_wakes_receive(subject: str, pair: ObjectPair, tg: TaskGroup) -> None:
    receiving = await start(tg, "receive()", pair.receiver.receive)
    await _woken_by_close(subject, receiving, "receive end", pair.receiver)


#: Sends OBJ-CLOSE-WAKES makes to fill a stream's buffer; a stream that takes them all
#: without blocking has no send that closing could wake.
_FILL = 64


async def _close_wakes_send(subject: str, pair: ObjectPair, tg: TaskGroup) -> None:
    for index in range(_FILL):
        item = pair.item(index)
        sending = await start(tg, f"send({item!r})", partial(pair.sender.send, item))
        if not sending.done:
            await _woken_by_close(subject, sending, "send end", pair.sender)
            return
        if sending.outcome is not None and sending.outcome[0] != "value":
            return  # the send failed: the other object rules judge that


@check("OBJ-CLONE")
async def obj_clone(ctx: Context) -> None:
    _needs_object_stream(ctx)
    ran = False
    for subject in object_pairs(ctx.target):
        async with subject.open() as pair, anyio.create_task_group() as tg:
            if hasattr(pair.sender, "clone"):
                ran = True
                await _send_clones(subject.name, pair, tg)
            tg.cancel_scope.cancel()
        async with subject.open() as pair, anyio.create_task_group() as tg:
            if hasattr(pair.receiver, "clone"):
                ran = True
                await _receive_clones(subject.name, pair, tg)
            tg.cancel_scope.cancel()
    if not ran:
        ctx.not_provided("an object stream with clone()")


def _clone_of_closed(subject: str, end: str, stream: Any) -> None:
    try:
        clone = stream.clone()
    except ClosedResourceError:
        return
    except Exception as exc:
        raise fail(
            subject,
            f"clone() of a closed {end} raised {describe(exc)} instead of ClosedResourceError",
        ) from exc
    raise fail(subject, f"clone() of a closed {end} returned {clone!r}")


async def _receive_one(subject: str, receiver: Any, what: str) -> Any:
    return await expect_returns(f"{subject}: {what}: receive()", receiver.receive)


async def _send_clones(subject: str, pair: ObjectPair, tg: TaskGroup) -> None:
    sender: Any = pair.sender
    clone = sender.clone()
    await sender.aclose()
    await sender.aclose()  # closing a closed handle again must not count twice
    await _expect_closed(
        subject, "send() on a closed send handle", partial(sender.send, pair.item("x"))
    )
    _clone_of_closed(subject, "send handle", sender)
    # The clone is still open, so the stream has not ended: a receive() waits.
    receiving = await start(tg, "receive()", pair.receiver.receive)
    problem = await expect_waiting(receiving)
    if problem is not None:
        raise fail(
            subject,
            "after one of two send handles was closed (aclose() twice, which must count once), "
            f"receive() should wait, but {problem}: the stream ended while a clone was still "
            "open",
        )
    item = pair.item("from clone")
    what = f"after one send handle was closed, its clone sent {item!r}"
    sending = await start(tg, f"send({item!r})", partial(clone.send, item))
    if sending.outcome is not None and sending.outcome[0] == "error":
        raise fail(
            subject,
            f"after one send handle was closed, send() on its clone raised {sending.outcome[1]}: "
            "closing one handle closed the other",
        )
    if not await receiving.wait(PATIENCE):
        raise fail(subject, f"{what}, and receive() went on waiting for {PATIENCE:g} s")
    if receiving.outcome != ("value", item):
        raise fail(subject, f"{what}, and the waiting receive() ended with {receiving.outcome!r}")
    await clone.aclose()
    problem = await expect_raises(EndOfStream, pair.receiver.receive)
    if problem is not None:
        raise fail(
            subject,
            "once the last send handle (a clone) was closed, receive() should raise "
            f"EndOfStream, but {problem}",
        )


async def _receive_clones(subject: str, pair: ObjectPair, tg: TaskGroup) -> None:
    receiver: Any = pair.receiver
    clone = receiver.clone()
    await receiver.aclose()
    await receiver.aclose()  # closing a closed handle again must not count twice
    await _expect_closed(subject, "receive() on a closed receive handle", receiver.receive)
    _clone_of_closed(subject, "receive handle", receiver)
    item = pair.item("to clone")
    sending = await start(tg, f"send({item!r})", partial(pair.sender.send, item))
    what = f"after one receive handle was closed, {item!r} was sent to its clone"
    if sending.outcome is not None and sending.outcome[0] == "error":
        raise fail(subject, f"{what}, and send() raised {sending.outcome[1]}")
    got = await _receive_one(subject, clone, what)
    if got != item:
        raise fail(subject, f"{what}, and {got!r} arrived")
    await clone.aclose()
    problem = await expect_raises(
        anyio.BrokenResourceError, partial(pair.sender.send, pair.item("nobody"))
    )
    if problem is not None:
        raise fail(
            subject,
            "once the last receive handle (a clone) was closed, send() should raise "
            f"BrokenResourceError, but {problem}",
        )


#: The cancellation of a receive() is tried this many scheduler turns after an item is sent.
_CANCEL_DELAYS = range(8)


@check("OBJ-RECEIVE-CANCELLED")
async def obj_receive_cancelled(ctx: Context) -> None:
    _needs_object_stream(ctx)

    async def body(subject: str, pair: ObjectPair, tg: TaskGroup) -> None:
        await _cancel_waiting_receive(subject, pair, tg)
        await _cancel_around_handover(subject, pair, tg)

    await _each(ctx, body)


async def _cancel_waiting_receive(subject: str, pair: ObjectPair, tg: TaskGroup) -> None:
    # A receive() that swallows the cancellation goes on waiting; an item sent to end the
    # wait then shows what it does with it.
    op = await start(tg, "receive()", pair.receiver.receive)
    op.cancel()
    if not await op.wait(PATIENCE):
        tg.start_soon(pair.sender.send, pair.item("unblock"))
        then = f"; sent an item, it ended with {op.outcome!r}" if await op.wait(PATIENCE) else ""
        raise fail(
            subject,
            f"a receive() waiting for an item went on waiting for {PATIENCE:g} s after its "
            f"cancel scope was cancelled{then}",
        )
    if op.outcome != ("cancelled",):
        raise fail(
            subject,
            f"a receive() waiting for an item, when its cancel scope was cancelled, ended with "
            f"{op.outcome!r} instead of raising the cancellation",
        )


async def _cancel_around_handover(subject: str, pair: ObjectPair, tg: TaskGroup) -> None:
    # The cancellation lands before, while or after the item reaches the waiting receive();
    # whichever, the item must then be received exactly once.
    for delay in _CANCEL_DELAYS:
        op = await start(tg, "receive()", pair.receiver.receive)
        item = pair.item(delay)
        sending = await _start_now(tg, f"send({item!r})", partial(pair.sender.send, item))
        for _ in range(delay):
            await anyio.lowlevel.checkpoint()
        op.cancel()
        await op.wait(PATIENCE)
        turns = "turn" if delay == 1 else "turns"
        when = f"cancelled {delay} scheduler {turns} after send({item!r}) began"
        _judge_only_a_handover(sending, item)
        if not op.done:
            raise fail(subject, f"a receive() {when} went on waiting for {PATIENCE:g} s")
        got = [op.outcome[1]] if op.outcome and op.outcome[0] == "value" else []
        with anyio.move_on_after(PATIENCE if not got else 0):
            got.append(await pair.receiver.receive())
        if got != [item]:
            _judge_only_a_handover(sending, item)
            missing = "was lost" if not got else f"was followed by {got[1:]!r}"
            raise fail(
                subject,
                f"a receive() {when} ended with {op.outcome!r}, and item {item!r} {missing}",
            )


def _judge_only_a_handover(sending: Op, item: object) -> None:
    """Stop the check when ``sending`` failed: no item was handed over, so there is nothing
    OBJ-RECEIVE-CANCELLED can judge (send() itself is the other object rules' business)."""
    if sending.outcome is not None and sending.outcome[0] == "error":
        raise NotProvided(
            f"an object stream that accepts the item {item!r} (send({item!r}) raised "
            f"{sending.outcome[1]}, so no item reached the receive() to be cancelled)"
        )


async def _start_now(tg: TaskGroup, label: str, func: Callable[[], Awaitable[Any]]) -> Op:
    """Start ``func`` in a new task without waiting for it to run."""
    op = Op(label)
    tg.start_soon(op._scoped, func)
    return op


#: Times OBJ-SEND-CANCELLED tries each delay. Trio runs the tasks of a batch in random order,
#: so whether a cancellation lands between a send's commit and its return (the bug of a send
#: that checks for cancellation, commits, then yields) is a matter of chance each time. Over
#: Trio, one round missed such a send in about one run of ten, four rounds in one of 300,
#: sixteen in none of 900; a passing stream costs a few milliseconds per round.
_SEND_CANCEL_ROUNDS = 16


@check("OBJ-SEND-CANCELLED")
async def obj_send_cancelled(ctx: Context) -> None:
    _needs_object_stream(ctx)

    async def body(subject: str, pair: ObjectPair, tg: TaskGroup) -> None:
        # A receive() waits each time, so that the send() hands its item over at once even on
        # a stream without a buffer; the cancellation lands before, while or after it does.
        for delay in list(_CANCEL_DELAYS) * _SEND_CANCEL_ROUNDS:
            item = pair.item(delay)
            receiving = await start(tg, "receive()", pair.receiver.receive)
            sending = await _start_now(tg, f"send({item!r})", partial(pair.sender.send, item))
            for _ in range(delay):
                await anyio.lowlevel.checkpoint()
            sending.cancel()
            turns = "turn" if delay == 1 else "turns"
            when = f"a send({item!r}) cancelled {delay} scheduler {turns} after it began"
            if not await sending.wait(PATIENCE):
                raise fail(subject, f"{when} went on waiting for {PATIENCE:g} s")
            if sending.outcome == ("value", None):
                if not await receiving.wait(PATIENCE):
                    raise fail(subject, f"{when} returned, but item {item!r} never arrived")
            else:
                await settle()
                receiving.cancel()
                await receiving.wait(PATIENCE)
            if sending.outcome == ("cancelled",) and receiving.outcome == ("value", item):
                raise fail(
                    subject,
                    f"{when} raised the cancellation, yet item {item!r} was received: a sender "
                    "that retries would deliver it twice",
                )
            if receiving.outcome not in (("value", item), ("cancelled",)):
                raise fail(
                    subject,
                    f"{when} ended with {sending.outcome!r}; the receive() waiting for it ended "
                    f"with {receiving.outcome!r}",
                )

    await _each(ctx, body)


@check("OBJ-ITER")
async def obj_iter(ctx: Context) -> None:
    _needs_object_stream(ctx)

    async def body(subject: str, pair: ObjectPair, tg: TaskGroup) -> None:
        items = [pair.item(n) for n in range(10)]
        received: list[Any] = []
        ended = anyio.Event()

        async def iterate() -> None:
            async for item in pair.receiver:
                received.append(item)
            ended.set()

        tg.start_soon(iterate)
        await _send_all(pair.sender, items, True)
        await settle()
        # An object stream over real I/O may need a moment for the end to arrive (in-memory
        # streams need none: settle() has let every task run until it blocked).
        with anyio.move_on_after(PATIENCE):
            await ended.wait()
        if not ended.is_set():
            raise fail(
                subject,
                f"async iteration did not stop after the sender closed (it had yielded {received})",
            )
        if received != items:
            raise fail(subject, f"async iteration yielded {received}, {items} were sent")

    await _each(ctx, body)
