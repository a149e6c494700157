"""Memory object streams under cancel scopes: nothing lost, nothing duplicated. [MEM-CANCEL-NO-LOSS]

The rule: a ``send()`` that raised the cancellation delivered nothing, one that returned
delivered its item exactly once; a ``receive()`` that raised took no item. The hard cases are
the races, where the scope is cancelled right after the other side completed the handover but
before the waiting task resumed. Native ``Task.cancel()`` is in test_memory_native_cancel.py.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager, suppress
from typing import Any

import anyio
import anyio.lowlevel
import pytest
from anyio import CancelScope, WouldBlock
from anyio.abc import TaskGroup

from streamspec.memory import create_memory_object_stream

pytestmark = pytest.mark.anyio


@asynccontextmanager
async def bounded_task_group() -> AsyncIterator[TaskGroup]:
    with anyio.fail_after(5):
        async with anyio.create_task_group() as tg:
            yield tg


async def test_a_cancelled_waiting_receiver_takes_nothing_and_stops_waiting() -> None:
    send, receive = create_memory_object_stream[str](0)
    outcomes: list[Any] = []
    scope = CancelScope()
    resumed = anyio.Event()

    async def receiver() -> None:
        with scope:
            outcomes.append(await receive.receive())
        outcomes.append(("cancelled", scope.cancelled_caught))
        resumed.set()

    with send, receive:
        async with bounded_task_group() as tg:
            tg.start_soon(receiver)
            await anyio.wait_all_tasks_blocked()
            assert receive.statistics().tasks_waiting_receive == 1
            scope.cancel()
            # The waiter no longer owns the next item, though it counts until it resumes (as
            # in AnyIO).
            with pytest.raises(WouldBlock):
                send.send_nowait("nobody waits")
            assert receive.statistics().tasks_waiting_receive == 1
            await resumed.wait()
            assert receive.statistics().tasks_waiting_receive == 0
        assert outcomes == [("cancelled", True)]


async def test_a_cancelled_waiting_sender_delivers_nothing() -> None:
    send, receive = create_memory_object_stream[str](1)
    send.send_nowait("buffered")
    outcomes: list[Any] = []
    scope = CancelScope()

    async def sender() -> None:
        with scope:
            await send.send("withdrawn")
            outcomes.append("sent")
        outcomes.append(("cancelled", scope.cancelled_caught))

    with send, receive:
        async with bounded_task_group() as tg:
            tg.start_soon(sender)
            await anyio.wait_all_tasks_blocked()
            scope.cancel()
            assert receive.receive_nowait() == "buffered"
            with pytest.raises(WouldBlock):
                receive.receive_nowait()
        assert outcomes == [("cancelled", True)]
        assert send.statistics().current_buffer_used == 0
        assert send.statistics().tasks_waiting_send == 0


async def test_a_cancelled_waiting_receiver_is_skipped_for_the_next() -> None:
    send, receive = create_memory_object_stream[str](0)
    first = CancelScope()
    outcomes: list[Any] = []

    async def cancelled_receiver() -> None:
        with first:
            outcomes.append(await receive.receive())

    async def receiver() -> None:
        outcomes.append(await receive.receive())

    with send, receive:
        async with bounded_task_group() as tg:
            tg.start_soon(cancelled_receiver)
            await anyio.wait_all_tasks_blocked()
            tg.start_soon(receiver)
            await anyio.wait_all_tasks_blocked()
            first.cancel()
            send.send_nowait("for the second")
        assert outcomes == ["for the second"]


async def test_a_cancelled_waiting_sender_is_skipped_for_the_next() -> None:
    send, receive = create_memory_object_stream[str](1)
    send.send_nowait("buffered")
    first = CancelScope()

    async def cancelled_sender() -> None:
        with first:
            await send.send("withdrawn")

    with send, receive:
        async with bounded_task_group() as tg:
            tg.start_soon(cancelled_sender)
            await anyio.wait_all_tasks_blocked()
            tg.start_soon(send.send, "second")
            await anyio.wait_all_tasks_blocked()
            first.cancel()
            assert receive.receive_nowait() == "buffered"
            assert receive.receive_nowait() == "second"
            with pytest.raises(WouldBlock):
                receive.receive_nowait()


@pytest.mark.parametrize("size", [0, 1])
async def test_a_receiver_cancelled_after_the_handover_keeps_the_item(size: int) -> None:
    send, receive = create_memory_object_stream[str](size)
    scope = CancelScope()
    outcomes: list[Any] = []

    async def receiver() -> None:
        with scope:
            outcomes.append(await receive.receive())
            await anyio.lowlevel.checkpoint()  # where the cancellation lands

    with send, receive:
        async with bounded_task_group() as tg:
            tg.start_soon(receiver)
            await anyio.wait_all_tasks_blocked()
            send.send_nowait("handed over")
            scope.cancel()  # before the receiver resumed
        # Exactly once: either the receiver returned it, or it is still in the stream.
        with suppress(WouldBlock):
            outcomes.append(receive.receive_nowait())
        assert outcomes == ["handed over"]
        assert scope.cancelled_caught


@pytest.mark.parametrize("size", [0, 1])
async def test_a_sender_cancelled_after_the_handover_reports_success(size: int) -> None:
    send, receive = create_memory_object_stream[str](size)
    for number in range(size):
        send.send_nowait(f"buffered {number}")
    scope = CancelScope()
    outcomes: list[Any] = []

    async def sender() -> None:
        with scope:
            await send.send("handed over")
            outcomes.append("send returned")
            await anyio.lowlevel.checkpoint()  # where the cancellation lands

    with send, receive:
        async with bounded_task_group() as tg:
            tg.start_soon(sender)
            await anyio.wait_all_tasks_blocked()
            received = [receive.receive_nowait() for _ in range(size)]
            if size:
                received.append(receive.receive_nowait())  # from the refilled slot
            else:
                received.append(receive.receive_nowait())  # straight from the sender
            scope.cancel()  # before the sender resumed
        assert received[-1] == "handed over"
        assert outcomes == ["send returned"]
        assert scope.cancelled_caught
        with pytest.raises(WouldBlock):
            receive.receive_nowait()


async def test_a_task_group_cancelled_while_items_flow_loses_nothing() -> None:
    send, receive = create_memory_object_stream[int](0)
    sent: list[int] = []
    received: list[int] = []

    async def producer(offset: int) -> None:
        number = offset
        while True:
            await send.send(number)
            sent.append(number)
            number += 10

    async def consumer() -> None:
        while True:
            received.append(await receive.receive())

    with send, receive:
        async with bounded_task_group() as tg:
            for offset in range(3):
                tg.start_soon(producer, offset)
            for _ in range(3):
                tg.start_soon(consumer)
            while len(received) < 200:
                await anyio.lowlevel.checkpoint()
            tg.cancel_scope.cancel()
        # Whatever a cancelled receiver did not take is still in the stream.
        leftovers: list[int] = []
        while True:
            try:
                leftovers.append(receive.receive_nowait())
            except WouldBlock:
                break
        assert sorted(received + leftovers) == sorted(sent)
        assert len(set(received)) == len(received)


@pytest.mark.parametrize("side", ["receivers", "senders"])
async def test_cancelling_some_of_many_waiters_keeps_the_others_in_order(side: str) -> None:
    # Enough waiters, cancelled out of order, to make the queue sweep abandoned entries.
    send, receive = create_memory_object_stream[int](0)
    scopes = [CancelScope() for _ in range(60)]
    outcomes: dict[int, Any] = {}

    async def waiter(number: int) -> None:
        with scopes[number]:
            if side == "receivers":
                outcomes[number] = await receive.receive()
            else:
                await send.send(number)
                outcomes[number] = "sent"

    def waiting() -> int:
        stats = send.statistics()
        return stats.tasks_waiting_receive + stats.tasks_waiting_send

    with send, receive:
        async with bounded_task_group() as tg:
            for number in range(60):
                tg.start_soon(waiter, number)
                while waiting() <= number:  # parked in the order started
                    await anyio.lowlevel.checkpoint()
            survivors = [number for number in range(60) if number % 3 == 1]
            for number in [*range(59, -1, -3), *range(0, 60, 3)]:
                scopes[number].cancel()
            await anyio.wait_all_tasks_blocked()
            stats = send.statistics()
            assert stats.tasks_waiting_receive + stats.tasks_waiting_send == len(survivors)
            if side == "receivers":
                for item in range(len(survivors)):
                    send.send_nowait(item)
            else:
                received = [receive.receive_nowait() for _ in survivors]
                assert received == survivors
        if side == "receivers":
            assert outcomes == {number: index for index, number in enumerate(survivors)}
        else:
            assert outcomes == dict.fromkeys(survivors, "sent")


@pytest.mark.parametrize("side", ["receivers", "senders"])
async def test_waiting_counts_stay_exact_through_cancels_closes_and_wakes(side: str) -> None:
    """statistics() keeps its count as waits begin and end, rather than scanning the queue, so
    after each kind of ending the count must equal the tasks that really still wait: at once
    for a task woken by a waker or by a close of its clone, once it has resumed for a task
    whose wait was cancelled."""
    send, receive = create_memory_object_stream[int](0)
    clone = receive.clone() if side == "receivers" else send.clone()
    scopes = [CancelScope() for _ in range(30)]
    ended = [anyio.Event() for _ in range(30)]
    waiting: set[int] = set()

    async def waiter(number: int) -> None:
        handle: Any = (
            (receive, clone)[number % 2] if side == "receivers" else (send, clone)[number % 2]
        )
        # A close of its handle wakes a waiter with ClosedResourceError, as intended here.
        with scopes[number], suppress(anyio.ClosedResourceError):
            if side == "receivers":
                await handle.receive()
            else:
                await handle.send(number)
        ended[number].set()

    async def cancel(number: int) -> None:
        scopes[number].cancel()
        waiting.discard(number)
        # Counted until it resumes, as in AnyIO; then no longer.
        assert counted() == len(waiting) + 1
        await ended[number].wait()
        assert counted() == len(waiting)

    def counted() -> int:
        stats = send.statistics()
        assert (
            stats.tasks_waiting_receive if side == "receivers" else stats.tasks_waiting_send
        ) == (
            receive.statistics().tasks_waiting_receive
            if side == "receivers"
            else receive.statistics().tasks_waiting_send
        )
        return stats.tasks_waiting_receive + stats.tasks_waiting_send

    def wake_one() -> None:
        if side == "receivers":
            send.send_nowait(0)
        else:
            receive.receive_nowait()

    with send, receive, clone:
        async with bounded_task_group() as tg:
            for number in range(30):
                tg.start_soon(waiter, number)
                waiting.add(number)
                while counted() < len(waiting):
                    await anyio.lowlevel.checkpoint()
            # Cancel a third, newest first.
            for number in range(29, -1, -3):
                await cancel(number)
            # Wake the oldest waiters one at a time; each stops counting at once.
            for _ in range(5):
                wake_one()
                waiting.remove(min(waiting))
                assert counted() == len(waiting)
            await anyio.wait_all_tasks_blocked()
            assert counted() == len(waiting)
            # Closing the clone wakes the odd-numbered waiters parked on it.
            clone.close()
            waiting = {number for number in waiting if number % 2 == 0}
            assert counted() == len(waiting)
            # The rest are woken or cancelled in turns.
            while waiting:
                oldest = min(waiting)
                if oldest % 4 == 0:
                    await cancel(oldest)
                else:
                    wake_one()
                    waiting.remove(oldest)
                    assert counted() == len(waiting)
        assert counted() == 0
