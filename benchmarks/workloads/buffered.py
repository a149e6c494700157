"""Buffered byte streams: lines with ``receive_until``, frames with ``receive_exactly``, and
the cost per byte as lines grow from 1 KiB to 16 MiB.

Every variant reads the same pre-built 64 KiB chunks from a :class:`ChunkSource` (asyncio's
StreamReader gets them through ``feed_data``), so the transport costs the same for all.
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import Awaitable, Callable, Sequence
from functools import partial
from typing import Protocol

import anyio
import anyio.lowlevel
from anyio.abc import ByteReceiveStream

from ..backends import Backend
from ..clock import now
from ..harness import Measure, Role, Unit, Variant, Workload
from ..profiles import KiB, MiB
from .common import (
    Context,
    asyncio_variants,
    backend_variants,
    expect,
    implementation_variants,
    plain_variant,
)
from .source import CHUNK, ChunkSource, chunked

__all__ = ["BareReader", "Buffered", "frames", "line_length_series", "lines"]

LINE_MIN, LINE_MAX = 60, 99  # bytes per line, newline included
FRAME_PAYLOAD = 100
HEADER = 4
SEED = 6  # the number: the same data on every run


class Buffered(Protocol):
    """The part of a buffered byte receive stream the jobs use."""

    async def receive_exactly(self, nbytes: int, /) -> bytes: ...

    async def receive_until(self, delimiter: bytes, /, max_bytes: int) -> bytes: ...

    async def aclose(self) -> None: ...


#: ``anyio.lowlevel.checkpoint`` or ``checkpoint_if_cancelled``.
Checkpoint = Callable[[], Awaitable[None]]

#: ``BufferedByteReceiveStream``: wraps a byte receive stream.
BufferedClass = Callable[[ByteReceiveStream], Buffered]


# -- the data ---------------------------------------------------------------------------------


def line_data(total: int) -> tuple[list[bytes], int, int]:
    """Lines of 60-99 bytes (newline included) of printable ASCII, about ``total`` bytes in
    all, cut into 64 KiB chunks; returns the chunks, the line count and the bytes of the
    lines without their newlines."""
    rng = random.Random(SEED)
    letters = bytes(range(33, 127))
    lines = []
    size = 0
    while size < total:
        length = rng.randint(LINE_MIN, LINE_MAX)
        lines.append(bytes(rng.choices(letters, k=length - 1)) + b"\n")
        size += length
    return chunked(b"".join(lines)), len(lines), size - len(lines)


def frame_data(total: int) -> tuple[list[bytes], int]:
    """Frames of a 4-byte big-endian length (100) and a 100-byte payload, about ``total``
    bytes in all, cut into 64 KiB chunks; returns the chunks and the frame count."""
    count = total // (HEADER + FRAME_PAYLOAD)
    rng = random.Random(SEED)
    header = FRAME_PAYLOAD.to_bytes(HEADER, "big")
    data = b"".join(header + rng.randbytes(FRAME_PAYLOAD) for _ in range(count))
    return chunked(data), count


def long_line_chunks(length: int, total: int) -> list[bytes]:
    """Lines of ``length`` bytes (newline included; a power of two), ``total`` bytes in all.

    The chunk list repeats at most two bytes objects, so even 32 MiB of 16 MiB lines costs
    no memory to hold.
    """
    if length <= CHUNK:
        line = b"x" * (length - 1) + b"\n"
        return [line * (CHUNK // length)] * (total // CHUNK)
    filler, last = b"x" * CHUNK, b"x" * (CHUNK - 1) + b"\n"
    return ([filler] * (length // CHUNK - 1) + [last]) * (total // length)


# -- the least a reader class can do ----------------------------------------------------------


class BareReader:
    """A buffered reader with nothing but the work: no argument checks, no cancellation check,
    ``max_bytes`` ignored, and bytes searched again after each chunk arrives (quadratic on long
    lines, so it only reads the short lines and frames of ``buf-lines`` and ``buf-frames``).

    It answers one question for context: how far above the floor does any reader land once
    its work sits behind an ``async`` method and the position lives on an object? Not a usable
    stream: at the end of the data it raises whatever the source raises.
    """

    def __init__(self, source: ByteReceiveStream) -> None:
        self._source = source
        self._data = b""
        self._pos = 0

    async def _fill(self) -> None:
        chunk = await self._source.receive()
        self._data = self._data[self._pos :] + chunk
        self._pos = 0

    async def receive_until(self, delimiter: bytes, /, max_bytes: int) -> bytes:
        while (index := self._data.find(delimiter, self._pos)) < 0:
            await self._fill()
        start = self._pos
        self._pos = index + len(delimiter)
        return self._data[start:index]

    async def receive_exactly(self, nbytes: int, /) -> bytes:
        while len(self._data) - self._pos < nbytes:
            await self._fill()
        start = self._pos
        self._pos = end = start + nbytes
        return self._data[start:end]

    async def aclose(self) -> None:
        await self._source.aclose()


# -- the jobs ---------------------------------------------------------------------------------


async def read_lines(
    buffered: BufferedClass, chunks: Sequence[bytes], count: int, size: int, max_bytes: int
) -> float:
    """``count`` calls of ``receive_until(b"\\n", max_bytes)``; returns the seconds taken."""
    stream = buffered(ChunkSource(chunks))
    received = 0
    start = now()
    for _ in range(count):
        received += len(await stream.receive_until(b"\n", max_bytes))
    elapsed = now() - start
    await stream.aclose()
    expect(received == size, f"{size} bytes of lines, got {received}")
    return elapsed


async def read_frames(buffered: BufferedClass, chunks: Sequence[bytes], count: int) -> float:
    """``count`` frames read as ``receive_exactly(4)`` then ``receive_exactly(length)``."""
    stream = buffered(ChunkSource(chunks))
    received = 0
    start = now()
    for _ in range(count):
        header = await stream.receive_exactly(HEADER)
        received += len(await stream.receive_exactly(int.from_bytes(header, "big")))
    elapsed = now() - start
    await stream.aclose()
    expect(received == count * FRAME_PAYLOAD, f"{count} frames, got {received} payload bytes")
    return elapsed


async def stream_reader(
    chunks: Sequence[bytes], count: int, read: Callable[[asyncio.StreamReader], Awaitable[int]]
) -> tuple[float, int]:
    """asyncio.StreamReader fed one chunk at a time by a task that yields after each
    ``feed_data``, so the reader empties its buffer between chunks; ``read`` is called
    ``count`` times and returns the payload bytes it got."""
    reader = asyncio.StreamReader()

    async def feed() -> None:
        for chunk in chunks:
            reader.feed_data(chunk)
            await asyncio.sleep(0)
        reader.feed_eof()

    received = 0
    start = now()
    feeder = asyncio.get_running_loop().create_task(feed())
    for _ in range(count):
        received += await read(reader)
    elapsed = now() - start
    await feeder
    return elapsed, received


async def reader_lines(chunks: Sequence[bytes], count: int, size: int) -> float:
    async def line(reader: asyncio.StreamReader) -> int:
        return len(await reader.readuntil(b"\n")) - 1

    elapsed, received = await stream_reader(chunks, count, line)
    expect(received == size, f"{size} bytes of lines, got {received}")
    return elapsed


async def reader_frames(chunks: Sequence[bytes], count: int) -> float:
    async def frame(reader: asyncio.StreamReader) -> int:
        header = await reader.readexactly(HEADER)
        return len(await reader.readexactly(int.from_bytes(header, "big")))

    elapsed, received = await stream_reader(chunks, count, frame)
    expect(received == count * FRAME_PAYLOAD, f"{count} frames, got {received} payload bytes")
    return elapsed


def find_lines(chunks: Sequence[bytes], count: int, size: int) -> float:
    """The floor for lines: each newline found with ``bytes.find`` in the chunk where it
    lies, and each line copied once into a ``bytes``, a slice of that chunk. The start of a
    line that continues into the next chunk is gathered in a ``bytearray`` (which grows in
    place, so a 16 MiB line costs linear time) and copied out once its newline arrives.

    This is the least any buffered reader must do: find the delimiter without searching any
    byte twice and hand out an immutable copy of the line, with nothing else per line.
    """
    received = lines = 0
    start = now()
    head = bytearray()  # the start of a line that began in an earlier chunk
    for chunk in chunks:
        pos = 0
        if head:
            end = chunk.find(b"\n")
            with memoryview(chunk) as view, view[: len(chunk) if end < 0 else end] as part:
                head += part
            if end < 0:
                continue
            received += len(bytes(head))
            lines += 1
            head.clear()
            pos = end + 1
        while (end := chunk.find(b"\n", pos)) >= 0:
            received += len(chunk[pos:end])
            lines += 1
            pos = end + 1
        with memoryview(chunk) as view, view[pos:] as part:
            head += part
    elapsed = now() - start
    expect(lines == count and received == size, f"{count} lines, got {lines}")
    return elapsed


async def find_lines_checkpointed(
    chunks: Sequence[bytes], count: int, size: int, checkpoint: Checkpoint
) -> float:
    """:func:`find_lines` (for lines within one chunk, as in ``buf-lines``) awaiting
    ``checkpoint()`` once per line: what a stream that does so on every call can at best
    spend. For context, next to the floor, which the issue's targets are relative to."""
    received = lines = 0
    start = now()
    rest = b""  # under 100 bytes here, so carrying it over costs little
    for chunk in chunks:
        data = rest + chunk if rest else chunk
        pos = 0
        while (end := data.find(b"\n", pos)) >= 0:
            received += len(data[pos:end])
            await checkpoint()
            lines += 1
            pos = end + 1
        rest = data[pos:]
    elapsed = now() - start
    expect(lines == count and received == size, f"{count} lines, got {lines}")
    return elapsed


def slice_frames(chunks: Sequence[bytes], count: int) -> float:
    """The floor for frames: each header read and each payload copied once into a ``bytes``,
    both slices of the chunk (the few bytes of a frame cut by a chunk's end are carried over
    into the next chunk, one copy of it per chunk)."""
    received = frames = 0
    start = now()
    rest = b""
    for chunk in chunks:
        data = rest + chunk if rest else chunk
        pos, available = 0, len(data)
        while available - pos >= HEADER:
            length = int.from_bytes(data[pos : pos + HEADER], "big")
            if available - pos - HEADER < length:
                break
            received += len(data[pos + HEADER : pos + HEADER + length])
            frames += 1
            pos += HEADER + length
        rest = data[pos:]
    elapsed = now() - start
    expect(frames == count, f"{count} frames, got {frames}")
    expect(received == count * FRAME_PAYLOAD, f"{count} frames, got {received} payload bytes")
    return elapsed


async def slice_frames_checkpointed(
    chunks: Sequence[bytes], count: int, checkpoint: Checkpoint
) -> float:
    """:func:`slice_frames` awaiting ``checkpoint()`` per header and per payload (two calls
    per frame), for context as :func:`find_lines_checkpointed` is."""
    received = frames = 0
    start = now()
    rest = b""
    for chunk in chunks:
        data = rest + chunk if rest else chunk
        pos, available = 0, len(data)
        while available - pos >= HEADER:
            length = int.from_bytes(data[pos : pos + HEADER], "big")
            if available - pos - HEADER < length:
                break
            await checkpoint()
            received += len(data[pos + HEADER : pos + HEADER + length])
            await checkpoint()
            frames += 1
            pos += HEADER + length
        rest = data[pos:]
    elapsed = now() - start
    expect(frames == count, f"{count} frames, got {frames}")
    expect(received == count * FRAME_PAYLOAD, f"{count} frames, got {received} payload bytes")
    return elapsed


# -- the workloads ----------------------------------------------------------------------------


def _size(nbytes: int) -> str:
    """``nbytes`` as "16 MiB", "64 KiB" or "100 B"."""
    for unit, name in ((MiB, "MiB"), (KiB, "KiB")):
        if nbytes >= unit and nbytes % unit == 0:
            return f"{nbytes // unit} {name}"
    return f"{nbytes} B"


_CHECKPOINT_NOTE = (
    "floor + empty coroutine / + coroutine with streamspec's cancel check / + cancel check / "
    "+ yield: the floor's loop awaiting, once per call it stands for, a coroutine that does "
    "nothing (the least any async method costs), a coroutine doing the cancellation check "
    "streamspec's streams do on every call (streamspec._parking.pending_cancellation), "
    "anyio.lowlevel.checkpoint_if_cancelled() (no yield) or anyio.lowlevel.checkpoint() (a "
    "yield to the event loop): the least a stream doing so on every call can spend. Context "
    "only: the targets are relative to the floor."
)

_BARE_LABEL = "bare async reader: no checks, no cancellation check"
_BARE_NOTE = (
    f"{_BARE_LABEL}: the floor's work behind an async method of a class (BareReader), with "
    "nothing else: what any buffered reader with this API costs at the least. Context only."
)


async def _nothing() -> None:
    """Does nothing: awaiting it costs what awaiting any async method costs at the least."""


def _checkpointed(
    ctx: Context, count: int, job: Callable[[Checkpoint], Awaitable[float]]
) -> list[Variant]:
    """The context rows: ``job`` with each kind of checkpoint, on every backend."""
    # Imported here, not at the top: the harness loads streamspec's modules only when a
    # workload is built, so that a broken module shows as an unavailable row.
    from streamspec._parking import pending_cancellation

    async def streamspec_check() -> None:
        if (pending := pending_cancellation()) is not None:
            await pending

    kinds: tuple[tuple[str, Checkpoint], ...] = (
        ("floor + empty coroutine per call", _nothing),
        ("floor + coroutine with streamspec's cancel check per call", streamspec_check),
        ("floor + cancel check per call", anyio.lowlevel.checkpoint_if_cancelled),
        ("floor + yield per call", anyio.lowlevel.checkpoint),
    )

    def maker(checkpoint: Checkpoint) -> Callable[[Backend], Measure]:
        return lambda backend: partial(backend.run, partial(job, checkpoint))

    rows = []
    for label, checkpoint in kinds:
        rows += backend_variants(ctx, label, Role.CONTEXT, count, maker(checkpoint))
    return rows


def _bare(
    ctx: Context, count: int, job: Callable[[BufferedClass], Awaitable[float]]
) -> list[Variant]:
    """The context row of :class:`BareReader` running ``job``, on every backend."""
    return backend_variants(
        ctx,
        _BARE_LABEL,
        Role.CONTEXT,
        count,
        lambda backend: partial(backend.run, partial(job, BareReader)),
    )


def lines(ctx: Context) -> Workload:
    chunks, count, size = line_data(ctx.profile.stream_bytes)
    job = partial(read_lines, chunks=chunks, count=count, size=size, max_bytes=KiB)
    return Workload(
        title=f'receive_until(b"\\n") over 64 KiB chunks, lines of {LINE_MIN}-{LINE_MAX} bytes',
        unit=Unit("µs/line", 1e6),
        size=f"{count:,} lines, {ctx.profile.stream_bytes // KiB:,} KiB",
        rounds=ctx.profile.rounds,
        variants=(
            *implementation_variants(ctx, lambda i: i.buffered, count, job),
            *asyncio_variants(
                ctx,
                'asyncio.StreamReader.readuntil(b"\\n")',
                Role.PEER,
                count,
                lambda backend: partial(backend.run, partial(reader_lines, chunks, count, size)),
            ),
            plain_variant(
                "floor: bytes.find loop",
                Role.FLOOR,
                count,
                partial(find_lines, chunks, count, size),
            ),
            *_checkpointed(ctx, count, partial(find_lines_checkpointed, chunks, count, size)),
            *_bare(ctx, count, job),
        ),
        notes=(_CHECKPOINT_NOTE, _BARE_NOTE),
    )


def frames(ctx: Context) -> Workload:
    chunks, count = frame_data(ctx.profile.stream_bytes)
    job = partial(read_frames, chunks=chunks, count=count)
    return Workload(
        title=f"receive_exactly({HEADER}) + receive_exactly({FRAME_PAYLOAD}) over 64 KiB chunks",
        unit=Unit("µs/frame", 1e6),
        size=f"{count:,} frames, {ctx.profile.stream_bytes // KiB:,} KiB",
        rounds=ctx.profile.rounds,
        variants=(
            *implementation_variants(ctx, lambda i: i.buffered, count, job),
            *asyncio_variants(
                ctx,
                "asyncio.StreamReader.readexactly",
                Role.PEER,
                count,
                lambda backend: partial(backend.run, partial(reader_frames, chunks, count)),
            ),
            plain_variant(
                "floor: bytes slicing loop",
                Role.FLOOR,
                count,
                partial(slice_frames, chunks, count),
            ),
            *_checkpointed(ctx, count, partial(slice_frames_checkpointed, chunks, count)),
            *_bare(ctx, count, job),
        ),
        notes=(_CHECKPOINT_NOTE, _BARE_NOTE),
    )


def line_length_series(ctx: Context) -> Workload:
    total = ctx.profile.line_length_bytes
    variants = []
    for length in ctx.profile.line_lengths:
        count = total // length
        job = partial(
            read_lines,
            chunks=long_line_chunks(length, total),
            count=count,
            size=count * (length - 1),
            max_bytes=2 * length,
        )
        variants += implementation_variants(ctx, lambda i: i.buffered, total, job, point=length)
        variants.append(
            plain_variant(
                "floor: bytes.find loop",
                Role.FLOOR,
                total,
                partial(find_lines, long_line_chunks(length, total), count, count * (length - 1)),
                point=length,
            )
        )
    return Workload(
        title='receive_until(b"\\n") cost per byte as lines grow',
        unit=Unit("ns/byte", 1e9),
        size=f"{total // MiB} MiB of lines at each length, 64 KiB chunks",
        rounds=ctx.profile.series_rounds,
        variants=tuple(variants),
        point_label="line length",
        growth_base=CHUNK if CHUNK in ctx.profile.line_lengths else None,
        show_point=_size,
        warmup=ctx.profile.series_warmup,
        notes=(
            "growth: cost per byte at this length / at 64 KiB (one transport chunk per line), "
            "same variant and backend. Shorter lines cost more per byte (the per-call "
            "overhead is spread over fewer bytes) and are not judged; from a few MiB on, lines "
            "outgrow the CPU caches and every copy costs more per byte, the floor's too. A "
            "linear implementation grows like the floor; a quadratic one ~256x at 16 MiB.",
        ),
    )
