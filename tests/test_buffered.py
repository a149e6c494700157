"""The reference buffered byte streams: results decided by the bytes alone, nothing lost.

The property tests run a drawn program of receive operations against a source that hands out
drawn chunks, and compare every outcome with a model that sees only the concatenated bytes
(decision 8 in docs/design.rst): whatever the chunking, the same results and the same
exceptions; and after every operation, failed or cancelled ones included, the buffer holds
exactly the bytes read from the source and not yet returned.
"""

from __future__ import annotations

import asyncio
import socket
import sys
from collections import deque
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any, Literal
from unittest import mock

import anyio
import anyio.abc
import anyio.lowlevel
import anyio.streams.buffered
import pytest
from anyio.abc import SocketAttribute
from hypothesis import example, given
from hypothesis import strategies as st

import streamspec.buffered
from streamspec import BufferedByteDuplex, BufferedByteReceiver, create_memory_object_stream
from streamspec.buffered import BufferedByteReceiveStream, BufferedByteStream
from streamspec.stapled import StapledObjectStream

pytestmark = pytest.mark.anyio

End = Literal["eof", "broken", "block"]


class ChunkSource(anyio.abc.ByteReceiveStream):
    """A byte stream that hands out ``chunks`` in order (cut to ``max_bytes``, the rest kept
    for the next call), then ends as ``end`` says: EOF, a broken transport, or waiting
    forever. ``handed_out`` records every byte it returned."""

    def __init__(self, chunks: Sequence[bytes], end: End = "eof") -> None:
        self.chunks = deque(chunk for chunk in chunks if chunk)
        self.end = end
        self.handed_out = bytearray()
        self.closed = False

    async def receive(self, max_bytes: int = 65536) -> bytes:
        await anyio.lowlevel.checkpoint()
        if not self.chunks:
            if self.end == "block":
                await anyio.sleep_forever()
            raise anyio.EndOfStream if self.end == "eof" else anyio.BrokenResourceError
        chunk = self.chunks.popleft()
        if len(chunk) > max_bytes:
            self.chunks.appendleft(chunk[max_bytes:])
            chunk = chunk[:max_bytes]
        self.handed_out += chunk
        return chunk

    async def aclose(self) -> None:
        self.closed = True

    @property
    def extra_attributes(self) -> dict[Any, Callable[[], Any]]:
        return {SocketAttribute.family: lambda: socket.AF_INET6}


class ItemSource(anyio.abc.ObjectReceiveStream[bytes]):
    """An object stream of bytes: the same as :class:`ChunkSource`, but ``receive()`` takes no
    size and hands out whole items, empty ones included."""

    def __init__(self, chunks: Sequence[bytes], end: End = "eof") -> None:
        self._source = ChunkSource([], end)
        self._source.chunks = deque(chunks)
        self.handed_out = self._source.handed_out

    async def receive(self) -> bytes:
        return await self._source.receive(1 << 62)

    async def aclose(self) -> None:
        await self._source.aclose()


def chunked(data: bytes, sizes: Sequence[int]) -> list[bytes]:
    """Cut ``data`` at the drawn sizes (cycled); the last piece takes what is left."""
    chunks, start = [], 0
    for index in range(len(data)):
        if start >= len(data):
            break
        size = sizes[index % len(sizes)] if sizes else len(data)
        chunks.append(data[start : start + size])
        start += size
    return chunks


# -- the model --------------------------------------------------------------------------------

Op = tuple[str, Any, Any]


@dataclass
class Model:
    """What a buffered stream must do, judged from the whole data: ``pos`` bytes consumed."""

    data: bytes
    pos: int = 0

    def expect(self, op: Op) -> tuple[str, Any]:
        """``("ok", result)``, ``("more", None)`` (needs bytes past the end: EOF, a broken
        transport or a wait) or ``("not-found", None)``. ``receive`` results are checked by
        the caller, since their length depends on the chunking."""
        name, first, second = op
        rest = len(self.data) - self.pos
        if name == "receive":
            return ("ok", None) if rest else ("more", None)
        if name == "exactly":
            if rest < first:
                return ("more", None)
            return ("ok", self.data[self.pos : self.pos + first])
        index = self.data.find(first, self.pos, self.pos + second)
        if index >= 0:
            return ("ok", self.data[self.pos : index])
        return ("not-found", None) if rest >= second else ("more", None)


def call(stream: BufferedByteReceiveStream, op: Op) -> Callable[[], Awaitable[bytes]]:
    name, first, second = op
    if name == "receive":
        return lambda: stream.receive(first)
    if name == "exactly":
        return lambda: stream.receive_exactly(first)
    return lambda: stream.receive_until(first, second)


_OPS: dict[str, Op] = {
    "receive": ("receive", 2, None),
    "exactly": ("exactly", 2, None),
    "until": ("until", b"\n", 10),
}


def _on_asyncio() -> bool:
    try:
        return asyncio.current_task() is not None
    except RuntimeError:
        return False


async def cancelled_while_waiting(operation: Callable[[], Awaitable[bytes]]) -> bool:
    """Run ``operation`` until every task is blocked, cancel it, and tell whether it was
    still waiting (rather than returning or raising on its own)."""
    outcome: list[str] = []
    scope = anyio.CancelScope()

    async def run() -> None:
        with scope:
            await operation()
            outcome.append("returned")

    async with anyio.create_task_group() as group:
        group.start_soon(run)
        await anyio.wait_all_tasks_blocked()
        scope.cancel()
    return scope.cancelled_caught and not outcome


#: Few distinct bytes, so that delimiters occur, straddle chunks and overlap themselves.
bytes_data = st.lists(st.sampled_from(b"aab\n"), max_size=80).map(bytes)
#: Where the source cuts the data; large sizes put whole lines, and more, in one chunk.
sizes = st.lists(st.integers(1, 64), min_size=1, max_size=6)
delimiters = st.sampled_from([b"\n", b"ab", b"\na", b"aa\n", b"aaa"])
#: The program a receiver runs: sizes and limits small next to the data, to reach the edges.
ops = st.lists(
    st.one_of(
        st.tuples(st.just("receive"), st.integers(1, 20), st.none()),
        st.tuples(st.just("exactly"), st.integers(0, 20), st.none()),
        st.tuples(st.just("until"), delimiters, st.integers(1, 16)),
    ),
    max_size=10,
)


@pytest.mark.parametrize("rest_limit", [None, 2], ids=["bytes", "bytearray"])
@pytest.mark.parametrize("source_kind", ["bytes", "items"])
@pytest.mark.parametrize("end", ["eof", "broken", "block"])
@given(data=bytes_data, chunk_sizes=sizes, program=ops)
@example(data=b"abc\n", chunk_sizes=[4], program=[("until", b"\n", 3)])
@example(data=b"abc\nd", chunk_sizes=[2], program=[("until", b"c\n", 4), ("exactly", 2, None)])
@example(data=b"aaaaaa", chunk_sizes=[1], program=[("receive", 1, None), ("until", b"aaa", 5)])
async def test_outcomes_depend_on_the_bytes_alone_and_no_byte_is_ever_lost(
    rest_limit: int | None,
    source_kind: str,
    end: End,
    data: bytes,
    chunk_sizes: list[int],
    program: list[Op],
) -> None:
    """``rest_limit=2`` makes the buffer keep any rest longer than 2 bytes (and than the new
    chunk) in its bytearray form, which otherwise only lines of kilobytes reach."""
    if rest_limit is not None:
        with mock.patch.object(streamspec.buffered, "_SMALL", rest_limit):
            await _run_program(source_kind, end, data, chunk_sizes, program)
    else:
        await _run_program(source_kind, end, data, chunk_sizes, program)


async def _run_program(
    source_kind: str, end: End, data: bytes, chunk_sizes: list[int], program: list[Op]
) -> None:
    chunks = chunked(data, chunk_sizes)
    source = ChunkSource(chunks, end) if source_kind == "bytes" else ItemSource(chunks, end)
    stream = BufferedByteReceiveStream(source)
    model = Model(data)
    with anyio.fail_after(5):
        for op in program:
            kind, expected = model.expect(op)
            operation = call(stream, op)
            if kind == "ok" and op[0] == "receive":
                got = await operation()
                assert 1 <= len(got) <= op[1], op
                assert got == data[model.pos : model.pos + len(got)], op
                model.pos += len(got)
            elif kind == "ok":
                assert await operation() == expected, op
                model.pos += len(expected) + (len(op[1]) if op[0] == "until" else 0)
            elif kind == "not-found":
                with pytest.raises(anyio.DelimiterNotFound):
                    await operation()
            elif end == "block":
                assert await cancelled_while_waiting(operation), op
            else:
                incomplete = anyio.EndOfStream if op[0] == "receive" else anyio.IncompleteRead
                expected_error = incomplete if end == "eof" else anyio.BrokenResourceError
                with pytest.raises(expected_error):
                    await operation()
            # Everything read from the source and not returned is in the buffer, in order.
            assert stream.buffer == bytes(source.handed_out[model.pos :]), op
            assert source.handed_out == data[: len(source.handed_out)]


# -- decision 8 against AnyIO 4.16 ------------------------------------------------------------


@pytest.mark.parametrize(
    "chunks", [[b"abc\n"], [b"abc", b"\n"], [b"a", b"bc\n"]], ids=["whole", "split", "early"]
)
async def test_a_delimiter_ending_past_max_bytes_is_not_found_however_chunked(
    chunks: list[bytes],
) -> None:
    stream = BufferedByteReceiveStream(ChunkSource(chunks))
    with pytest.raises(anyio.DelimiterNotFound):
        await stream.receive_until(b"\n", 3)
    assert stream.buffer == b"abc\n"[: len(stream.buffer)]
    assert await stream.receive_until(b"\n", 4) == b"abc"


async def test_anyio_4_16_decides_the_same_bytes_differently_by_chunking() -> None:
    """AnyIO searches whatever happens to be buffered, so ``max_bytes=3`` finds a delimiter
    at bytes 4 when it arrived in one chunk, and not when it arrived in two: a divergence from
    decision 8 in docs/design.rst (ours raises DelimiterNotFound for both, test above)."""
    whole = anyio.streams.buffered.BufferedByteReceiveStream(ChunkSource([b"abc\n"]))
    assert await whole.receive_until(b"\n", 3) == b"abc"
    split = anyio.streams.buffered.BufferedByteReceiveStream(ChunkSource([b"abc", b"\n"]))
    with pytest.raises(anyio.DelimiterNotFound):
        await split.receive_until(b"\n", 3)


async def test_a_delimiter_ending_exactly_at_max_bytes_is_found() -> None:
    stream = BufferedByteReceiveStream(ChunkSource([b"ab", b"c\r", b"\nrest"]))
    assert await stream.receive_until(b"\r\n", 5) == b"abc"
    assert stream.buffer == b"rest"


async def test_a_delimiter_straddling_chunks_is_found_once() -> None:
    stream = BufferedByteReceiveStream(ChunkSource([b"one--", b"-two---", b"three"]))
    assert await stream.receive_until(b"---", 100) == b"one"
    assert await stream.receive_until(b"---", 100) == b"two"
    assert stream.buffer == b""
    with pytest.raises(anyio.IncompleteRead):
        await stream.receive_until(b"---", 100)
    assert stream.buffer == b"three"


# -- receive, receive_exactly, feed_data ------------------------------------------------------


async def test_receive_serves_the_buffer_first_and_never_more_than_max_bytes() -> None:
    stream = BufferedByteReceiveStream(ItemSource([b"0123456789", b"abc"]))
    stream.feed_data(b"xyz")
    assert await stream.receive(2) == b"xy"
    assert await stream.receive(5) == b"z"
    assert await stream.receive(4) == b"0123"  # an item larger than max_bytes is split
    assert stream.buffer == b"456789"
    assert await stream.receive() == b"456789"
    assert await stream.receive() == b"abc"
    with pytest.raises(anyio.EndOfStream):
        await stream.receive()


async def test_receive_exactly_waits_for_as_many_chunks_as_it_takes() -> None:
    stream = BufferedByteReceiveStream(ChunkSource([b"a", b"bc", b"defg"]))
    assert await stream.receive_exactly(0) == b""
    assert await stream.receive_exactly(5) == b"abcde"
    with pytest.raises(anyio.IncompleteRead):
        await stream.receive_exactly(3)
    assert stream.buffer == b"fg"
    assert await stream.receive_exactly(2) == b"fg"


@pytest.mark.parametrize(
    "cls",
    [BufferedByteReceiveStream, anyio.streams.buffered.BufferedByteReceiveStream],
    ids=["streamspec", "anyio"],
)
async def test_feed_data_appends_to_the_buffer_end_as_anyio_does(cls: Any) -> None:
    stream = cls(ChunkSource([b"+wire"]))
    stream.feed_data(b"ab")
    stream.feed_data([99, 100])
    assert stream.buffer == b"abcd"
    assert await stream.receive_exactly(6) == b"abcd+w"


async def test_feed_data_of_bad_values_appends_nothing() -> None:
    stream = BufferedByteReceiveStream(ChunkSource([]))
    stream.feed_data(b"ok")
    for wrong in (["x"], "text", 5, None):
        with pytest.raises(TypeError, match="data"):
            stream.feed_data(wrong)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match=r"data.*range"):
        stream.feed_data([1, 256])
    assert stream.buffer == b"ok"


@pytest.mark.parametrize(
    ("call_it", "error", "argument"),
    [
        (lambda s: s.receive(0), ValueError, "max_bytes"),
        (lambda s: s.receive("1"), TypeError, "max_bytes"),
        (lambda s: s.receive_exactly(-1), ValueError, "nbytes"),
        (lambda s: s.receive_exactly(2.0), TypeError, "nbytes"),
        (lambda s: s.receive_until(b"", 5), ValueError, "delimiter"),
        (lambda s: s.receive_until("\n", 5), TypeError, "delimiter"),
        (lambda s: s.receive_until(b"\n", 0), ValueError, "max_bytes"),
        (lambda s: s.receive_until(b"\n", None), TypeError, "max_bytes"),
    ],
)
async def test_bad_arguments_are_refused_naming_them_and_consume_nothing(
    call_it: Callable[[BufferedByteReceiveStream], Awaitable[bytes]],
    error: type[Exception],
    argument: str,
) -> None:
    source = ChunkSource([b"data\n"])
    stream = BufferedByteReceiveStream(source)
    stream.feed_data(b"fed")
    with pytest.raises(error, match=argument):
        await call_it(stream)
    assert stream.buffer == b"fed"
    assert source.handed_out == b""


async def test_anyio_4_16_takes_negative_sizes_and_empty_delimiters() -> None:
    """A divergence from decision 8 in docs/design.rst: AnyIO validates neither, and consumes
    bytes for them (ours raises ValueError, test above)."""
    stream = anyio.streams.buffered.BufferedByteReceiveStream(ChunkSource([]))
    stream.feed_data(b"abc")
    assert await stream.receive_exactly(-1) == b"ab"  # all but the last byte
    assert await stream.receive_until(b"", 5) == b""
    assert stream.buffer == b"c"


@pytest.mark.parametrize("method", ["receive", "exactly", "until"])
async def test_every_receive_is_a_checkpoint_even_from_the_buffer(method: str) -> None:
    stream = BufferedByteReceiveStream(ChunkSource([]))
    stream.feed_data(b"ab\ncd")
    op: Op = {"receive": ("receive", 10, None), "exactly": ("exactly", 2, None)}.get(
        method, ("until", b"\n", 10)
    )
    with anyio.CancelScope() as scope:
        scope.cancel()
        await call(stream, op)()
    assert scope.cancelled_caught
    assert stream.buffer == b"ab\ncd"


@pytest.mark.parametrize("method", ["receive", "exactly", "until"])
async def test_a_cancel_scope_cancelled_by_another_task_strikes_from_the_buffer(
    method: str,
) -> None:
    """The receiver was woken before its scope was cancelled, so it runs on; its next
    receive, served from the buffer, still raises the pending cancellation."""
    stream = BufferedByteReceiveStream(ChunkSource([]))
    stream.feed_data(b"ab\ncd")
    woken = anyio.Event()
    scope = anyio.CancelScope()
    reached: list[str] = []

    async def receiver() -> None:
        with scope:
            await woken.wait()
            reached.append("woken")
            await call(stream, _OPS[method])()
            reached.append("received")

    with anyio.fail_after(5):
        async with anyio.create_task_group() as group:
            group.start_soon(receiver)
            await anyio.wait_all_tasks_blocked()
            woken.set()
            scope.cancel()
    assert reached == ["woken"]
    assert scope.cancelled_caught
    assert stream.buffer == b"ab\ncd"


@pytest.mark.parametrize("method", ["receive", "exactly", "until"])
async def test_a_shielded_receive_in_a_cancelled_scope_is_served(method: str) -> None:
    stream = BufferedByteReceiveStream(ChunkSource([]))
    stream.feed_data(b"ab\ncd")
    with anyio.CancelScope() as outer:
        outer.cancel()
        with anyio.CancelScope(shield=True):
            assert await call(stream, _OPS[method])() == b"ab"
    assert stream.buffer == (b"cd" if method == "until" else b"\ncd")


@pytest.mark.parametrize("method", ["receive", "exactly", "until"])
async def test_a_native_task_cancel_strikes_from_the_buffer(method: str) -> None:
    """asyncio's own ``Task.cancel()``, requested before the receive, strikes in it (on
    Trio, which has no such thing, the receive is simply served)."""
    stream = BufferedByteReceiveStream(ChunkSource([]))
    stream.feed_data(b"ab\ncd")
    if _on_asyncio():
        task = asyncio.current_task()
        assert task is not None
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await call(stream, _OPS[method])()
        if sys.version_info >= (3, 11):
            task.uncancel()
        assert stream.buffer == b"ab\ncd"
    assert await call(stream, _OPS[method])() == b"ab"


async def test_a_receive_until_waiting_while_another_task_takes_bytes() -> None:
    """The waiting receive_until resumes its search where it stopped, in stream terms: the
    bytes another task took meanwhile are neither searched nor returned."""
    send, receive = create_memory_object_stream[bytes](10)
    stream = BufferedByteReceiveStream(receive)
    lines: list[bytes] = []

    async def read_line() -> None:
        lines.append(await stream.receive_until(b"--", 100))

    with anyio.fail_after(5):
        async with send, stream, anyio.create_task_group() as group:
            await send.send(b"abc-")
            group.start_soon(read_line)
            await anyio.wait_all_tasks_blocked()  # searched "abc-", waits for more
            assert await stream.receive(2) == b"ab"
            await send.send(b"-def")
            await anyio.wait_all_tasks_blocked()
    assert lines == [b"c"]
    assert stream.buffer == b"def"


async def test_close_closes_the_wrapped_stream_and_keeps_the_buffer() -> None:
    source = ChunkSource([b"abc"])
    stream = BufferedByteReceiveStream(source)
    assert await stream.receive_exactly(1) == b"a"
    await stream.receive_exactly(0)
    await stream.aclose()
    assert source.closed
    for operation in (stream.receive(), stream.receive_exactly(1), stream.receive_until(b"c", 9)):
        with pytest.raises(anyio.ClosedResourceError):
            await operation
    assert stream.buffer == b"bc"


async def test_attributes_are_the_wrapped_streams() -> None:
    stream = BufferedByteReceiveStream(ChunkSource([]))
    assert stream.extra(SocketAttribute.family) is socket.AF_INET6


# -- over memory object streams, and the bidirectional form ----------------------------------


async def test_over_a_memory_object_stream_of_bytes() -> None:
    send, receive = create_memory_object_stream[bytes](10)
    async with send, BufferedByteReceiveStream(receive) as buffered:
        for part in b"GET / HTTP/1.1\r", b"\nHost: x\r\n\r\n", b"", b"body":
            await send.send(part)
        await send.aclose()
        assert await buffered.receive_until(b"\r\n", 100) == b"GET / HTTP/1.1"
        assert await buffered.receive_until(b"\r\n\r\n", 100) == b"Host: x"
        assert await buffered.receive() == b"body"
        with pytest.raises(anyio.EndOfStream):
            await buffered.receive()


async def test_buffered_byte_stream_sends_and_sends_eof_through() -> None:
    out_send, out_receive = create_memory_object_stream[bytes](10)
    in_send, in_receive = create_memory_object_stream[bytes](10)
    async with out_receive, in_send:
        duplex = BufferedByteStream(StapledObjectStream(out_send, in_receive))
        await in_send.send(b"ping\npong")
        assert await duplex.receive_until(b"\n", 10) == b"ping"
        await duplex.send(b"hello")
        await duplex.send_eof()
        assert await out_receive.receive() == b"hello"
        with pytest.raises(anyio.EndOfStream):
            await out_receive.receive()
        assert await duplex.receive() == b"pong"  # receiving goes on after send_eof
        await duplex.aclose()
        with pytest.raises(anyio.BrokenResourceError):
            await in_send.send(b"late")


async def test_the_classes_fit_the_protocols_and_anyios_abcs() -> None:
    send, receive = create_memory_object_stream[bytes]()
    receiver: BufferedByteReceiver = BufferedByteReceiveStream(receive)
    duplex: BufferedByteDuplex = BufferedByteStream(StapledObjectStream(send, receive))
    assert isinstance(receiver, anyio.abc.ByteReceiveStream)
    assert isinstance(duplex, anyio.abc.ByteStream)
    assert isinstance(receiver, BufferedByteReceiver)
    assert isinstance(duplex, BufferedByteDuplex)
    await duplex.aclose()
