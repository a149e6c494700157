"""Property: whatever the interleaving, every delivered item arrives exactly once, in order.

Hypothesis draws a scenario: the buffer size, how many items each sender sends and whether it
tries ``send_nowait()`` first, how receivers receive, how many extra checkpoints each task takes
before each operation (this is what varies the interleaving), and when a chaos task cancels
the scope around one of the pending operations. The checks [OBJ-EXACTLY-ONCE] [OBJ-FIFO]
[MEM-CANCEL-NO-LOSS]:

* the items received are exactly the items whose send completed (returned, or
  ``send_nowait()`` succeeded), each received once; a send cancelled by its scope delivered
  nothing;
* each receiver gets each sender's items in the order they were sent.
"""

from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass
from itertools import cycle

import anyio
import anyio.lowlevel
import pytest
from anyio import CancelScope, EndOfStream, WouldBlock
from hypothesis import given
from hypothesis import strategies as st

from streamspec.memory import (
    MemoryObjectReceiveStream,
    MemoryObjectSendStream,
    create_memory_object_stream,
)

pytestmark = pytest.mark.anyio

Item = tuple[int, int]  # (sender number, sequence number within that sender)


# -- what Hypothesis draws --------------------------------------------------------------------


@dataclass(frozen=True)
class Scenario:
    buffer_size: float
    #: Per sender, per item: try send_nowait() first (True) or go straight to send().
    senders: list[list[bool]]
    #: Per receiver, how it receives: "blocking", or "nowait" (receive_nowait, waiting on
    #: WouldBlock with a checkpoint).
    receivers: list[str]
    #: Extra checkpoints before each operation, used cyclically by every task.
    pauses: list[int]
    #: The chaos task's plan: (checkpoints to wait, which pending operation to cancel).
    cancellations: list[tuple[int, int]]


scenarios = st.builds(
    Scenario,
    buffer_size=st.sampled_from([0, 1, 3, math.inf]),
    senders=st.lists(st.lists(st.booleans(), max_size=8), min_size=1, max_size=4),
    receivers=st.lists(st.sampled_from(["blocking", "nowait"]), min_size=1, max_size=3),
    pauses=st.lists(st.integers(0, 3), min_size=1, max_size=8),
    cancellations=st.lists(st.tuples(st.integers(0, 4), st.integers(0, 10)), max_size=6),
)


# -- running a scenario -----------------------------------------------------------------------


class Run:
    """The shared record of one scenario run."""

    def __init__(self, scenario: Scenario) -> None:
        self.scenario = scenario
        self.delivered: list[Item] = []
        self.cancelled_sends: list[Item] = []
        self.received: list[list[Item]] = [[] for _ in scenario.receivers]
        #: Scopes around operations now pending, oldest first; the chaos task picks from them.
        self.pending: list[CancelScope] = []

    async def pause(self, pauses: cycle[int]) -> None:
        for _ in range(next(pauses)):
            await anyio.lowlevel.checkpoint()

    async def sender(self, who: int, send: MemoryObjectSendStream[Item]) -> None:
        pauses = cycle(self.scenario.pauses[who:] + self.scenario.pauses[:who])
        with send:
            for number, try_nowait in enumerate(self.scenario.senders[who]):
                item = (who, number)
                await self.pause(pauses)
                if try_nowait:
                    try:
                        send.send_nowait(item)
                    except WouldBlock:
                        pass
                    else:
                        self.delivered.append(item)
                        continue
                with CancelScope() as scope:
                    self.pending.append(scope)
                    try:
                        await send.send(item)
                    finally:
                        self.pending.remove(scope)
                    self.delivered.append(item)
                if scope.cancelled_caught:
                    self.cancelled_sends.append(item)

    async def receiver(self, who: int, receive: MemoryObjectReceiveStream[Item]) -> None:
        pauses = cycle(self.scenario.pauses[::-1])
        into = self.received[who]
        with receive:
            while True:
                await self.pause(pauses)
                if self.scenario.receivers[who] == "nowait":
                    try:
                        into.append(receive.receive_nowait())
                    except WouldBlock:
                        await anyio.lowlevel.checkpoint()
                    except EndOfStream:
                        return
                    continue
                with CancelScope() as scope:
                    self.pending.append(scope)
                    try:
                        into.append(await receive.receive())
                    except EndOfStream:
                        return
                    finally:
                        self.pending.remove(scope)

    async def chaos(self) -> None:
        for wait, target in self.scenario.cancellations:
            for _ in range(wait):
                await anyio.lowlevel.checkpoint()
            if self.pending:
                self.pending[target % len(self.pending)].cancel()


@given(scenario=scenarios)
async def test_every_delivered_item_arrives_exactly_once_in_order(scenario: Scenario) -> None:
    run = Run(scenario)
    send, receive = create_memory_object_stream[Item](scenario.buffer_size)
    with send, receive, anyio.fail_after(10):
        async with anyio.create_task_group() as tg:
            for who in range(len(scenario.senders)):
                tg.start_soon(run.sender, who, send.clone())
            for who in range(len(scenario.receivers)):
                tg.start_soon(run.receiver, who, receive.clone())
            tg.start_soon(run.chaos)
            send.close()
            receive.close()

    received = [item for items in run.received for item in items]
    assert Counter(received) == Counter(run.delivered)
    assert len(set(received)) == len(received)
    assert not set(received) & set(run.cancelled_sends)
    attempted = {(who, n) for who, items in enumerate(scenario.senders) for n in range(len(items))}
    assert set(run.delivered) | set(run.cancelled_sends) == attempted
    for items in run.received:
        for who in range(len(scenario.senders)):
            numbers = [number for sender, number in items if sender == who]
            assert numbers == sorted(numbers)
