"""Memory object streams under native ``asyncio.Task.cancel()``. [MEM-NATIVE-CANCEL-NO-LOSS]

Only asyncio can cancel a task whose wait already completed: ``Task.cancel()`` called after
the other side handed the item over, but before the waiting task resumed, makes the task
resume with ``CancelledError`` all the same. The rule kept here:

* a receiver cancelled so gives its item back: the next waiting receiver gets it, or it goes
  to the front of the buffer;
* a sender cancelled so has delivered, so ``send()`` returns normally and the cancellation
  is raised at the task's next suspension.

The tests drive plain asyncio tasks, so this module runs on the asyncio and uvloop backends
only: its ``anyio_backend`` fixture replaces the one of conftest.py.
"""

from __future__ import annotations

import asyncio
import importlib.util
import math
import sys
from collections import Counter
from collections.abc import Coroutine, Iterator
from dataclasses import dataclass
from itertools import cycle
from typing import Any

import anyio
import pytest
from anyio import WouldBlock
from hypothesis import given
from hypothesis import strategies as st

from streamspec.memory import create_memory_object_stream

pytestmark = pytest.mark.anyio

ASYNCIO_BACKENDS: list[Any] = [pytest.param("asyncio", id="asyncio")]
if importlib.util.find_spec("uvloop") is not None:
    ASYNCIO_BACKENDS.append(pytest.param(("asyncio", {"use_uvloop": True}), id="uvloop"))


@pytest.fixture(params=ASYNCIO_BACKENDS)
def anyio_backend(request: pytest.FixtureRequest) -> Any:
    """The backends whose tasks can be cancelled natively."""
    return request.param


def spawn(coroutine: Coroutine[Any, Any, Any]) -> asyncio.Task[Any]:
    return asyncio.get_running_loop().create_task(coroutine)


async def settle(*tasks: asyncio.Task[Any]) -> None:
    """Wait for the tasks to finish, failing instead of hanging."""
    with anyio.fail_after(5):
        await asyncio.wait(tasks)


@pytest.mark.parametrize("size", [0, 3])
async def test_a_receiver_cancelled_after_the_handover_gives_the_item_back(size: int) -> None:
    send, receive = create_memory_object_stream[str](size)
    with send, receive:
        task = spawn(receive.receive())
        await anyio.wait_all_tasks_blocked()
        send.send_nowait("first")  # handed to the waiting task
        if size:
            send.send_nowait("second")
        task.cancel()  # before it resumed
        await settle(task)
        assert task.cancelled()
        assert receive.receive_nowait() == "first"
        if size:
            assert receive.receive_nowait() == "second"
        with pytest.raises(WouldBlock):
            receive.receive_nowait()


async def test_an_item_given_back_goes_to_the_next_waiting_receiver() -> None:
    send, receive = create_memory_object_stream[str](0)
    with send, receive:
        first = spawn(receive.receive())
        await anyio.wait_all_tasks_blocked()
        second = spawn(receive.receive())
        await anyio.wait_all_tasks_blocked()
        send.send_nowait("item")  # handed to the first
        first.cancel()
        await settle(first, second)
        assert first.cancelled()
        assert second.result() == "item"


async def test_a_sender_cancelled_after_the_handover_returns_then_is_cancelled() -> None:
    send, receive = create_memory_object_stream[str](0)
    steps: list[str] = []

    async def sender() -> None:
        await send.send("item")
        steps.append("send returned")
        await asyncio.sleep(0)
        steps.append("not reached")

    with send, receive:
        task = spawn(sender())
        await anyio.wait_all_tasks_blocked()
        assert receive.receive_nowait() == "item"  # taken from the waiting sender
        task.cancel()  # before it resumed
        await settle(task)
        assert task.cancelled()
        assert steps == ["send returned"]
        with pytest.raises(WouldBlock):
            receive.receive_nowait()


async def test_a_deferred_cancellation_is_counted_once() -> None:
    send, receive = create_memory_object_stream[str](0)
    cancelling: list[int] = []

    async def sender() -> None:
        await send.send("item")
        task = asyncio.current_task()
        assert task is not None
        if sys.version_info >= (3, 11):
            cancelling.append(task.cancelling())
        else:  # nothing counts cancellation requests before Python 3.11
            cancelling.append(1)
        await asyncio.sleep(0)

    with send, receive:
        task = spawn(sender())
        await anyio.wait_all_tasks_blocked()
        receive.receive_nowait()
        task.cancel()
        await settle(task)
        assert task.cancelled()
        assert cancelling == [1]


async def test_a_sender_refilling_a_freed_slot_then_cancelled_still_delivers() -> None:
    send, receive = create_memory_object_stream[str](1)
    send.send_nowait("buffered")
    steps: list[str] = []

    async def sender() -> None:
        await send.send("refill")
        steps.append("send returned")

    with send, receive:
        task = spawn(sender())
        await anyio.wait_all_tasks_blocked()
        assert receive.receive_nowait() == "buffered"  # frees the slot for "refill"
        task.cancel()
        await settle(task)
        assert steps == ["send returned"]
        # asyncio marks a task cancelled when cancel() came before its coroutine finished,
        # even though the coroutine itself returned.
        assert task.cancelled()
        assert receive.receive_nowait() == "refill"


async def test_a_natively_cancelled_waiting_sender_delivers_nothing() -> None:
    send, receive = create_memory_object_stream[str](0)
    with send, receive:
        task = spawn(send.send("withdrawn"))
        await anyio.wait_all_tasks_blocked()
        task.cancel()
        # Withdrawn at once, before the task resumes: nobody can take the item.
        with pytest.raises(WouldBlock):
            receive.receive_nowait()
        await settle(task)
        assert task.cancelled()
        assert send.statistics().tasks_waiting_send == 0


async def test_a_natively_cancelled_waiting_receiver_takes_nothing() -> None:
    send, receive = create_memory_object_stream[str](0)
    with send, receive:
        task = spawn(receive.receive())
        await anyio.wait_all_tasks_blocked()
        task.cancel()
        with pytest.raises(WouldBlock):
            send.send_nowait("nobody waits")
        await settle(task)
        assert task.cancelled()
        assert receive.statistics().tasks_waiting_receive == 0


async def test_cancelling_many_tasks_mid_flow_loses_and_duplicates_nothing() -> None:
    send, receive = create_memory_object_stream[int](0)
    sent: list[int] = []
    received: list[int] = []

    async def producer(offset: int) -> None:
        number = offset
        while True:
            await send.send(number)
            sent.append(number)
            number += 10

    enough = asyncio.Event()

    async def consumer() -> None:
        while True:
            received.append(await receive.receive())
            if len(received) >= 300:
                enough.set()

    with send, receive:
        tasks = [spawn(producer(offset)) for offset in range(5)]
        tasks += [spawn(consumer()) for _ in range(5)]
        with anyio.fail_after(5):
            await enough.wait()
        for task in tasks:
            task.cancel()
        await settle(*tasks)
        leftovers: list[int] = []
        while True:
            try:
                leftovers.append(receive.receive_nowait())
            except WouldBlock:
                break
        assert sorted(received + leftovers) == sorted(sent)
        assert len(set(received + leftovers)) == len(received) + len(leftovers)


# -- property: native cancellation at random moments ------------------------------------------


@dataclass(frozen=True)
class NativeChaos:
    buffer_size: float
    #: Items per sender task.
    senders: list[int]
    receivers: int
    #: Extra loop passes each task takes before each operation, used cyclically.
    pauses: list[int]
    #: (loop passes to wait, which live task to cancel with Task.cancel()).
    cancellations: list[tuple[int, int]]


native_chaos = st.builds(
    NativeChaos,
    buffer_size=st.sampled_from([0, 1, 3, math.inf]),
    senders=st.lists(st.integers(0, 8), min_size=1, max_size=4),
    receivers=st.integers(1, 3),
    pauses=st.lists(st.integers(0, 3), min_size=1, max_size=8),
    cancellations=st.lists(st.tuples(st.integers(0, 4), st.integers(0, 10)), max_size=6),
)


@given(chaos=native_chaos)
async def test_native_cancellation_at_any_moment_loses_and_duplicates_nothing(
    chaos: NativeChaos,
) -> None:
    send, receive = create_memory_object_stream[tuple[int, int]](chaos.buffer_size)
    delivered: list[tuple[int, int]] = []  # items whose send() returned
    received: list[list[tuple[int, int]]] = [[] for _ in range(chaos.receivers)]

    async def pause(pauses: Iterator[int]) -> None:
        for _ in range(next(pauses)):
            await asyncio.sleep(0)

    async def sender(who: int) -> None:
        pauses = cycle(chaos.pauses[who:] + chaos.pauses[:who])
        for number in range(chaos.senders[who]):
            await pause(pauses)
            await send.send((who, number))
            delivered.append((who, number))

    async def receiver(who: int) -> None:
        pauses = cycle(chaos.pauses[::-1])
        while True:
            await pause(pauses)
            received[who].append(await receive.receive())

    with send, receive:
        senders = [spawn(sender(who)) for who in range(len(chaos.senders))]
        receivers = [spawn(receiver(who)) for who in range(chaos.receivers)]
        tasks = senders + receivers
        for wait, target in chaos.cancellations:
            for _ in range(wait):
                await asyncio.sleep(0)
            live = [task for task in tasks if not task.done()]
            if live:
                live[target % len(live)].cancel()
        # Keep draining, in case every receiver was cancelled, until every sender is done.
        leftovers: list[tuple[int, int]] = []
        with anyio.fail_after(5):
            while not all(task.done() for task in senders):
                try:
                    leftovers.append(receive.receive_nowait())
                except WouldBlock:
                    await asyncio.sleep(0)
        for task in receivers:
            task.cancel()
        await settle(*tasks)
        while True:
            try:
                leftovers.append(receive.receive_nowait())
            except WouldBlock:
                break

    everything = [item for items in received for item in items] + leftovers
    assert Counter(everything) == Counter(delivered)
    for items in [*received, leftovers]:
        for who in range(len(chaos.senders)):
            numbers = [number for sender_, number in items if sender_ == who]
            assert numbers == sorted(numbers)
