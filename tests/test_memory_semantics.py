"""Memory object streams with waiting tasks: order, fairness, checkpoints, and who a close wakes.

Every test runs on asyncio, trio and uvloop (the ``anyio_backend`` fixture of conftest.py).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, Coroutine
from contextlib import asynccontextmanager
from typing import Any

import anyio
import anyio.lowlevel
import pytest
from anyio import (
    BrokenResourceError,
    CancelScope,
    ClosedResourceError,
    EndOfStream,
    WouldBlock,
)
from anyio.abc import TaskGroup

from streamspec.memory import (
    MemoryObjectReceiveStream,
    MemoryObjectSendStream,
    create_memory_object_stream,
)

pytestmark = pytest.mark.anyio


@asynccontextmanager
async def bounded_task_group() -> AsyncIterator[TaskGroup]:
    """A task group that fails the test instead of hanging."""
    with anyio.fail_after(5):
        async with anyio.create_task_group() as tg:
            yield tg


async def outcome_of(operation: Awaitable[Any], outcomes: list[Any]) -> None:
    """Await ``operation`` and record its value, or the type of exception it raised."""
    try:
        outcomes.append(await operation)
    except Exception as exc:
        outcomes.append(type(exc))


async def start_in_order(tg: TaskGroup, *calls: Callable[[], Coroutine[Any, Any, Any]]) -> None:
    """Start each call and let it block before starting the next, so waiting order is known."""
    for call in calls:
        tg.start_soon(call)
        await anyio.wait_all_tasks_blocked()


# -- order and fairness -----------------------------------------------------------------------


@pytest.mark.parametrize("size", [0, 1, 4])
async def test_items_from_one_sender_arrive_in_order(size: int) -> None:
    send, receive = create_memory_object_stream[int](size)
    received: list[int] = []

    async def produce() -> None:
        async with send:
            for number in range(100):
                await send.send(number)

    async def consume() -> None:
        async with receive:
            async for item in receive:
                received.append(item)

    async with bounded_task_group() as tg:
        tg.start_soon(produce)
        tg.start_soon(consume)
    assert received == list(range(100))


async def test_every_item_reaches_exactly_one_of_many_receivers() -> None:
    send, receive = create_memory_object_stream[tuple[int, int]](0)
    per_receiver: list[list[tuple[int, int]]] = [[] for _ in range(4)]

    async def produce(sender: MemoryObjectSendStream[tuple[int, int]], who: int) -> None:
        async with sender:
            for number in range(50):
                await sender.send((who, number))

    async def consume(
        receiver: MemoryObjectReceiveStream[tuple[int, int]], into: list[Any]
    ) -> None:
        async with receiver:
            async for item in receiver:
                into.append(item)

    async with bounded_task_group() as tg:
        for who in range(3):
            tg.start_soon(produce, send.clone(), who)
        for into in per_receiver:
            tg.start_soon(consume, receive.clone(), into)
        send.close()
        receive.close()
    everything = sorted(item for items in per_receiver for item in items)
    assert everything == sorted((who, number) for who in range(3) for number in range(50))
    for items in per_receiver:
        for who in range(3):
            numbers = [number for sender, number in items if sender == who]
            assert numbers == sorted(numbers)


async def test_a_waiting_receiver_owns_the_next_item() -> None:
    send, receive = create_memory_object_stream[str](0)
    outcomes: list[Any] = []
    async with bounded_task_group() as tg:
        await start_in_order(tg, lambda: outcome_of(receive.receive(), outcomes))
        send.send_nowait("first")
        # The item is the waiting task's, even before it resumes: nobody can take it.
        with pytest.raises(WouldBlock):
            receive.receive_nowait()
        assert send.statistics().current_buffer_used == 0
    assert outcomes == ["first"]
    send.close()
    receive.close()


async def test_waiting_receivers_are_served_oldest_first() -> None:
    send, receive = create_memory_object_stream[int](0)
    clone = receive.clone()
    outcomes: list[Any] = []
    async with bounded_task_group() as tg:
        await start_in_order(
            tg,
            lambda: outcome_of(receive.receive(), outcomes),
            lambda: outcome_of(clone.receive(), outcomes),
            lambda: outcome_of(receive.receive(), outcomes),
        )
        for number in range(3):
            send.send_nowait(number)
            await anyio.wait_all_tasks_blocked()
    assert outcomes == [0, 1, 2]
    for handle in (send, receive, clone):
        handle.close()


async def test_a_freed_slot_goes_to_the_oldest_waiting_sender() -> None:
    send, receive = create_memory_object_stream[str](1)
    clone = send.clone()
    send.send_nowait("buffered")
    async with bounded_task_group() as tg:
        await start_in_order(tg, lambda: send.send("old"), lambda: clone.send("young"))
        assert receive.receive_nowait() == "buffered"
        # The slot went to "old" at once; a newcomer cannot jump ahead of "young" either.
        with pytest.raises(WouldBlock):
            send.send_nowait("newcomer")
        assert receive.receive_nowait() == "old"
        assert receive.receive_nowait() == "young"
        with pytest.raises(WouldBlock):
            receive.receive_nowait()
    for handle in (send, receive, clone):
        handle.close()


async def test_receive_nowait_takes_a_waiting_senders_item_on_a_rendezvous_stream() -> None:
    send, receive = create_memory_object_stream[str](0)
    returned: list[str] = []

    async def sender() -> None:
        await send.send("item")
        returned.append("sent")

    async with bounded_task_group() as tg:
        await start_in_order(tg, sender)
        assert receive.receive_nowait() == "item"
    assert returned == ["sent"]
    send.close()
    receive.close()


# -- checkpoints ------------------------------------------------------------------------------


async def test_send_in_a_cancelled_scope_delivers_nothing() -> None:
    send, receive = create_memory_object_stream[str](1)
    with CancelScope() as scope:
        scope.cancel()
        await send.send("never")
    assert scope.cancelled_caught
    with pytest.raises(WouldBlock):
        receive.receive_nowait()
    send.close()
    receive.close()


async def test_send_in_a_cancelled_scope_does_not_feed_a_waiting_receiver() -> None:
    send, receive = create_memory_object_stream[str](0)
    outcomes: list[Any] = []
    async with bounded_task_group() as tg:
        await start_in_order(tg, lambda: outcome_of(receive.receive(), outcomes))
        with CancelScope() as scope:
            scope.cancel()
            await send.send("never")
        assert scope.cancelled_caught
        await anyio.wait_all_tasks_blocked()
        assert outcomes == []
        await send.send("real")
    assert outcomes == ["real"]
    send.close()
    receive.close()


async def test_receive_in_a_cancelled_scope_takes_nothing() -> None:
    send, receive = create_memory_object_stream[str](1)
    send.send_nowait("kept")
    with CancelScope() as scope:
        scope.cancel()
        await receive.receive()
    assert scope.cancelled_caught
    assert receive.receive_nowait() == "kept"
    send.close()
    receive.close()


async def test_operations_that_complete_at_once_still_let_other_tasks_run() -> None:
    send, receive = create_memory_object_stream[int](100)
    turns = 0
    done = anyio.Event()

    async def other() -> None:
        nonlocal turns
        while not done.is_set():
            turns += 1
            await anyio.lowlevel.checkpoint()

    async with bounded_task_group() as tg:
        tg.start_soon(other)
        for number in range(20):
            await send.send(number)
        assert turns >= 10, "send() completing at once was no schedule point"
        turns = 0
        for number in range(20):
            assert await receive.receive() == number
        assert turns >= 10, "receive() completing at once was no schedule point"
        done.set()
    send.close()
    receive.close()


# -- closing with waiting tasks ---------------------------------------------------------------


async def test_closing_a_receive_handle_wakes_only_its_own_waiters() -> None:
    send, receive = create_memory_object_stream[str](0)
    clone = receive.clone()
    mine: list[Any] = []
    theirs: list[Any] = []
    async with bounded_task_group() as tg:
        await start_in_order(
            tg,
            lambda: outcome_of(receive.receive(), mine),
            lambda: outcome_of(clone.receive(), theirs),
        )
        receive.close()
        await anyio.wait_all_tasks_blocked()
        assert mine == [ClosedResourceError]
        assert theirs == []
        assert send.statistics().tasks_waiting_receive == 1
        send.send_nowait("for the clone")
    assert theirs == ["for the clone"]
    send.close()
    clone.close()


async def test_closing_a_send_handle_wakes_only_its_own_waiters() -> None:
    send, receive = create_memory_object_stream[str](0)
    clone = send.clone()
    mine: list[Any] = []
    theirs: list[Any] = []
    async with bounded_task_group() as tg:
        await start_in_order(
            tg,
            lambda: outcome_of(send.send("withdrawn"), mine),
            lambda: outcome_of(clone.send("kept"), theirs),
        )
        send.close()
        await anyio.wait_all_tasks_blocked()
        assert mine == [ClosedResourceError]
        assert theirs == []
        assert receive.receive_nowait() == "kept"
    assert theirs == [None]
    with pytest.raises(WouldBlock):
        receive.receive_nowait()
    clone.close()
    receive.close()


async def test_last_sender_closed_ends_waiting_receivers() -> None:
    send, receive = create_memory_object_stream[str](0)
    clone = receive.clone()
    outcomes: list[Any] = []
    async with bounded_task_group() as tg:
        await start_in_order(
            tg,
            lambda: outcome_of(receive.receive(), outcomes),
            lambda: outcome_of(clone.receive(), outcomes),
        )
        await send.aclose()
    assert outcomes == [EndOfStream, EndOfStream]
    receive.close()
    clone.close()


async def test_last_sender_closed_lets_receivers_drain_the_buffer_first() -> None:
    send, receive = create_memory_object_stream[int](3)
    for number in range(3):
        send.send_nowait(number)
    send.close()
    outcomes: list[Any] = []
    with receive:
        for _ in range(4):
            await outcome_of(receive.receive(), outcomes)
    assert outcomes == [0, 1, 2, EndOfStream]


async def test_last_receiver_closed_breaks_every_waiting_sender() -> None:
    send, receive = create_memory_object_stream[str](1)
    clone = send.clone()
    send.send_nowait("buffered")
    outcomes: list[Any] = []
    async with bounded_task_group() as tg:
        await start_in_order(
            tg,
            lambda: outcome_of(send.send("a"), outcomes),
            lambda: outcome_of(clone.send("b"), outcomes),
        )
        await receive.aclose()
    assert outcomes == [BrokenResourceError, BrokenResourceError]
    assert send.statistics().tasks_waiting_send == 0
    with pytest.raises(BrokenResourceError):
        await clone.send("c")
    send.close()
    clone.close()


async def test_a_receiver_closed_while_another_clone_remains_does_not_break_senders() -> None:
    send, receive = create_memory_object_stream[str](0)
    clone = receive.clone()
    outcomes: list[Any] = []
    async with bounded_task_group() as tg:
        await start_in_order(tg, lambda: outcome_of(send.send("x"), outcomes))
        receive.close()
        await anyio.wait_all_tasks_blocked()
        assert outcomes == []
        assert await clone.receive() == "x"
    assert outcomes == [None]
    send.close()
    clone.close()


async def test_iteration_over_clones_ends_when_the_last_sender_closes() -> None:
    send, receive = create_memory_object_stream[int](0)
    per_receiver: list[list[int]] = [[], []]

    async def consume(receiver: MemoryObjectReceiveStream[int], into: list[int]) -> None:
        async with receiver:
            async for item in receiver:
                into.append(item)

    async with bounded_task_group() as tg:
        tg.start_soon(consume, receive, per_receiver[0])
        tg.start_soon(consume, receive.clone(), per_receiver[1])
        async with send:
            for number in range(20):
                await send.send(number)
    assert sorted(per_receiver[0] + per_receiver[1]) == list(range(20))
