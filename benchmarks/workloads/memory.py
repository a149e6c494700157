"""Memory object streams: pipes, rendezvous, many waiters, and the cost of a buffered item.

The async jobs below are written once against the small protocols :class:`Sender` and
:class:`Receiver`, which AnyIO's, streamspec's and Trio's memory streams all satisfy, so the
same code times each of them. asyncio's Queue has another shape and gets its own job.
"""

from __future__ import annotations

import asyncio
import collections
import math
import tracemalloc
import types
from collections.abc import AsyncIterator, Awaitable, Callable, Generator, Sequence
from functools import partial
from typing import Protocol, TypeVar

import anyio
import trio

from ..backends import TRIO, Backend, by_name
from ..clock import now
from ..harness import Measure, Role, Unit, Workload
from ..implementations import load
from ..probe import run_probe
from .common import (
    Context,
    asyncio_variants,
    expect,
    implementation_variants,
    plain_variant,
    probe_variants,
    trio_variant,
    where,
)

__all__ = [
    "Receiver",
    "Sender",
    "buffered_bytes_probe",
    "buffered_item_cost",
    "buffered_pipe",
    "rendezvous",
    "rendezvous_fan",
    "waiters_series",
]

T_co = TypeVar("T_co", covariant=True)
T_contra = TypeVar("T_contra", contravariant=True)

PER_ITEM = Unit("µs/item", 1e6)
BYTES_PER_ITEM = Unit("B/item", 1)
BUFFER = 100
FAN_TASKS = 10


class Sender(Protocol[T_contra]):
    """The part of a memory stream's send end (or a Trio send channel) the jobs use."""

    async def send(self, item: T_contra, /) -> None: ...

    def send_nowait(self, item: T_contra, /) -> None: ...

    def clone(self) -> Sender[T_contra]: ...

    async def aclose(self) -> None: ...


class Receiver(Protocol[T_co]):
    """The part of a memory stream's receive end (or a Trio receive channel) the jobs use."""

    def __aiter__(self) -> AsyncIterator[T_co]: ...

    def clone(self) -> Receiver[T_co]: ...

    async def aclose(self) -> None: ...


#: Makes a stream of ints with the given buffer size: ``create_memory_object_stream[int]``
#: or ``trio.open_memory_channel[int]``.
Factory = Callable[[float], tuple[Sender[int], Receiver[int]]]


def _trio_channel(buffer: float) -> tuple[Sender[int], Receiver[int]]:
    return trio.open_memory_channel[int](buffer)


# -- the jobs ---------------------------------------------------------------------------------


async def pipe(factory: Factory, items: int, buffer: int) -> float:
    """One producer sends ``items`` ints to one consumer; returns the seconds taken."""
    send, receive = factory(buffer)
    received = 0

    async def produce() -> None:
        try:
            for item in range(items):
                await send.send(item)
        finally:
            await send.aclose()

    start = now()
    async with anyio.create_task_group() as tg:
        tg.start_soon(produce)
        async for _ in receive:
            received += 1
    elapsed = now() - start
    await receive.aclose()
    expect(received == items, f"{items} items received, got {received}")
    return elapsed


async def fan(factory: Factory, items: int, tasks: int) -> float:
    """``tasks`` producers (clones) send ``items`` ints in all to ``tasks`` consumers
    (clones) through a rendezvous; consumers stop when the last producer closes its clone."""
    send, receive = factory(0)
    share, rest = divmod(items, tasks)
    expect(rest == 0, f"items ({items}) divisible by the producers ({tasks})")
    counts: list[int] = []

    async def produce(clone: Sender[int]) -> None:
        try:
            for item in range(share):
                await clone.send(item)
        finally:
            await clone.aclose()

    async def consume(clone: Receiver[int]) -> None:
        count = 0
        try:
            async for _ in clone:
                count += 1
        finally:
            await clone.aclose()
        counts.append(count)

    start = now()
    async with anyio.create_task_group() as tg:
        for _ in range(tasks):
            tg.start_soon(produce, send.clone())
            tg.start_soon(consume, receive.clone())
        await send.aclose()
        await receive.aclose()
    elapsed = now() - start
    expect(sum(counts) == items, f"{items} items received, got {sum(counts)}")
    return elapsed


async def many_waiters(factory: Factory, waiters: int, items: int) -> float:
    """``waiters`` tasks block in ``receive`` on one rendezvous stream's receive end; then
    one sender hands them ``items`` ints (at least one each). Times from the first send
    until the last item is received."""
    send, receive = factory(0)
    received = ready = 0
    all_received, all_ready = anyio.Event(), anyio.Event()

    async def consume() -> None:
        nonlocal received, ready
        ready += 1
        if ready == waiters:
            all_ready.set()
        # No await between here and the receive: when the last consumer has counted itself,
        # it blocks in receive before the sender can run again.
        async for _ in receive:
            received += 1
            if received == items:
                all_received.set()

    try:
        async with anyio.create_task_group() as tg:
            for _ in range(waiters):
                tg.start_soon(consume)
            # (wait_all_tasks_blocked would do too, but costs O(tasks) per pass on asyncio.)
            await all_ready.wait()
            start = now()
            try:
                for item in range(items):
                    await send.send(item)
                await all_received.wait()
                elapsed = now() - start
            finally:
                await send.aclose()  # every waiter's receive ends
    finally:
        await receive.aclose()
    expect(received == items, f"{items} items received, got {received}")
    return elapsed


async def queue_pipe(items: int, checkpoint: bool) -> float:
    """asyncio.Queue(100) between one producer and one consumer; with ``checkpoint``, both
    also yield to the loop once per item (what a checkpointing stream does, at least)."""
    queue: asyncio.Queue[int | None] = asyncio.Queue(BUFFER)
    received = 0

    async def produce() -> None:
        for item in range(items):
            await queue.put(item)
            if checkpoint:
                await asyncio.sleep(0)
        await queue.put(None)

    start = now()
    producer = asyncio.get_running_loop().create_task(produce())
    while await queue.get() is not None:
        received += 1
        if checkpoint:
            await asyncio.sleep(0)
    await producer
    elapsed = now() - start
    expect(received == items, f"{items} items received, got {received}")
    return elapsed


@types.coroutine
def _bare_yield() -> Generator[None, None, None]:
    # What asyncio.sleep(0) does underneath, without its two coroutine calls.
    yield


async def deque_pipe(items: int) -> float:
    """A deque between one producer and one consumer, each making one bare yield per put and
    per get, and waiting by yielding again (no futures, no checks, no backend lookup): the
    least that yielding on every call costs, for context."""
    buffer: collections.deque[int] = collections.deque()
    received = 0

    async def produce() -> None:
        for item in range(items):
            while len(buffer) >= BUFFER:
                await _bare_yield()
            buffer.append(item)
            await _bare_yield()

    start = now()
    producer = asyncio.get_running_loop().create_task(produce())
    while received < items:
        while not buffer:
            await _bare_yield()
        buffer.popleft()
        received += 1
        await _bare_yield()
    await producer
    elapsed = now() - start
    expect(received == items, f"{items} items received, got {received}")
    return elapsed


# -- the workloads ----------------------------------------------------------------------------


def _on(backend: Backend, job: Callable[[], Awaitable[float]]) -> Measure:
    return partial(backend.run, job)


def buffered_pipe(ctx: Context) -> Workload:
    items = ctx.profile.pipe_items
    job = partial(pipe, items=items, buffer=BUFFER)
    return Workload(
        title=f"1 producer, 1 consumer, buffer {BUFFER}",
        unit=PER_ITEM,
        size=f"{items:,} items",
        rounds=ctx.profile.rounds,
        variants=(
            *implementation_variants(ctx, lambda i: i.memory, items, job),
            *trio_variant(
                ctx,
                f"trio.open_memory_channel({BUFFER})",
                Role.PEER,
                items,
                partial(TRIO.run, partial(job, _trio_channel)),
            ),
            *asyncio_variants(
                ctx,
                f"asyncio.Queue({BUFFER}), no yields",
                Role.CONTEXT,
                items,
                lambda backend: _on(backend, partial(queue_pipe, items, checkpoint=False)),
            ),
            *asyncio_variants(
                ctx,
                "deque + one bare yield per put and get",
                Role.CONTEXT,
                items,
                lambda backend: _on(backend, partial(deque_pipe, items)),
            ),
            *asyncio_variants(
                ctx,
                f"floor: asyncio.Queue({BUFFER}) + sleep(0)",
                Role.FLOOR,
                items,
                lambda backend: _on(backend, partial(queue_pipe, items, checkpoint=True)),
            ),
        ),
        notes=(
            "floor: asyncio.Queue where producer and consumer each await asyncio.sleep(0) "
            "per item, so it yields on every put and get like a checkpointing stream.",
            "deque + one bare yield per put and get: a deque with a bare yield (what "
            "asyncio.sleep(0) does underneath) after every put and get, waiting by yielding "
            "again; no futures, checks or backend lookup: what the yields alone cost. Context "
            "only.",
        ),
    )


def rendezvous(ctx: Context) -> Workload:
    items = ctx.profile.pipe_items
    job = partial(pipe, items=items, buffer=0)
    return Workload(
        title="1 producer, 1 consumer, buffer 0 (rendezvous)",
        unit=PER_ITEM,
        size=f"{items:,} items",
        rounds=ctx.profile.rounds,
        variants=(
            *implementation_variants(ctx, lambda i: i.memory, items, job),
            *trio_variant(
                ctx,
                "trio.open_memory_channel(0)",
                Role.PEER,
                items,
                partial(TRIO.run, partial(job, _trio_channel)),
            ),
        ),
        notes=("no floor: asyncio has no rendezvous queue (asyncio.Queue(0) is unbounded).",),
    )


def rendezvous_fan(ctx: Context) -> Workload:
    items = ctx.profile.fan_items
    job = partial(fan, items=items, tasks=FAN_TASKS)
    return Workload(
        title=f"{FAN_TASKS} producers, {FAN_TASKS} consumers, buffer 0, clones closed at the end",
        unit=PER_ITEM,
        size=f"{items:,} items in all",
        rounds=ctx.profile.rounds,
        variants=(
            *implementation_variants(ctx, lambda i: i.memory, items, job),
            *trio_variant(
                ctx,
                "trio.open_memory_channel(0)",
                Role.PEER,
                items,
                partial(TRIO.run, partial(job, _trio_channel)),
            ),
        ),
    )


def waiters_series(ctx: Context) -> Workload:
    variants = []
    for waiters in ctx.profile.waiters:
        items = max(ctx.profile.waiter_items, waiters)
        job = partial(many_waiters, waiters=waiters, items=items)
        variants += implementation_variants(ctx, lambda i: i.memory, items, job, point=waiters)
        variants += trio_variant(
            ctx,
            "trio.open_memory_channel(0)",
            Role.PEER,
            items,
            partial(TRIO.run, partial(job, _trio_channel)),
            point=waiters,
        )
    return Workload(
        title="cost per item with N receivers waiting on one rendezvous stream",
        unit=PER_ITEM,
        size=(
            f"{ctx.profile.waiter_items:,} items (or 1 per waiter, if more), "
            "timed from the first send to the last receive"
        ),
        rounds=ctx.profile.series_rounds,
        variants=tuple(variants),
        point_label="waiters",
        warmup=ctx.profile.series_warmup,
        notes=(
            "growth: cost at this N / cost at the smallest N, same variant and backend; "
            "a cost that does not depend on N stays near 1.",
        ),
    )


def buffered_item_cost(ctx: Context) -> Workload:
    ctx = ctx.for_footprint()
    items = ctx.profile.buffered_items
    target = f"{__name__}:buffered_bytes_probe"

    def measure(kind: str, backend: str, path: str = "-") -> Measure:
        return partial(
            run_probe, target, kind, backend, str(items), path, fresh=ctx.profile.fresh_interpreter
        )

    variants = probe_variants(
        ctx, lambda i: i.memory, items, lambda path, backend: measure("stream", backend.name, path)
    )
    return Workload(
        title="peak memory of items buffered in one memory object stream (buffer inf)",
        unit=BYTES_PER_ITEM,
        size=f"{items:,} items (the same int), tracemalloc peak{where(ctx)}",
        rounds=ctx.profile.footprint_rounds,
        warmup=False,
        variants=(
            *variants,
            *trio_variant(
                ctx, "trio.open_memory_channel(inf)", Role.PEER, items, measure("trio", TRIO.name)
            ),
            *asyncio_variants(
                ctx,
                "asyncio.Queue()",
                Role.PEER,
                items,
                lambda backend: measure("queue", backend.name),
            ),
            plain_variant("floor: collections.deque", Role.FLOOR, items, measure("deque", "-")),
        ),
    )


# -- the memory probe (in a fresh interpreter in the full run) -------------------------------


def buffered_bytes_probe(args: Sequence[str]) -> float:
    """Peak bytes allocated while ``items`` ints are buffered: ``kind backend items path``.

    ``kind`` is "stream" (the memory stream factory at ``path``), "trio", "queue" or "deque".
    """
    kind, backend_name, items_text, path = args
    items = int(items_text)
    if kind == "deque":
        return _traced(lambda: collections.deque[int]().append, items)
    backend = by_name(backend_name)

    async def fill() -> float:
        if kind == "queue":
            queue: asyncio.Queue[int] = asyncio.Queue()
            return _traced(lambda: queue.put_nowait, items)
        factory: Factory = _trio_channel if kind == "trio" else load(path)  # type: ignore[assignment]
        send, receive = factory(math.inf)
        try:
            return _traced(lambda: send.send_nowait, items)
        finally:
            await send.aclose()
            await receive.aclose()

    return TRIO.run(fill) if kind == "trio" else backend.run(fill)


def _traced(make_put: Callable[[], Callable[[int], None]], items: int) -> float:
    """The peak of bytes allocated (tracemalloc) while calling the ``put`` that ``make_put``
    returns ``items`` times; the container is made before tracing starts, so only its
    growth counts."""
    put = make_put()
    tracemalloc.start()
    try:
        before, _ = tracemalloc.get_traced_memory()
        for _ in range(items):
            put(0)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    return float(peak - before)
