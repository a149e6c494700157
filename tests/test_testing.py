"""The test doubles: each control does what it says, and a parser is tested against them.

The parser tests are the point of the module: a naive length-prefixed frame reader that
assumes one receive is one frame is shown to FAIL under hostile chunking (split, merged), and
the fixed reader, which buffers, passes under every chunking Hypothesis draws.
"""

from __future__ import annotations

import struct
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import anyio
import pytest
from hypothesis import given
from hypothesis import strategies as st

import streamspec.conformance.checks  # noqa: F401  (registered, and rewritten, at collection)
from streamspec import (
    ByteReceiveStream,
    ByteSendStream,
    ByteStream,
    ObjectReceiveStream,
    ObjectSendStream,
    ObjectStream,
    checked,
)
from streamspec.buffered import BufferedByteReceiveStream
from streamspec.conformance.runner import Outcome, run_checks
from streamspec.conformance.target import Target
from streamspec.testing import (
    FakeByteStream,
    byte_stream_pair,
    drawn_split,
    lockstep_byte_stream_pair,
    object_stream_pair,
)

pytestmark = pytest.mark.anyio

# -- a tiny protocol: frames of a 2-byte big-endian length, then that many bytes ---------------


async def send_frame(stream: ByteSendStream, payload: bytes) -> None:
    await stream.send(struct.pack(">H", len(payload)) + payload)


async def naive_read_frame(stream: ByteReceiveStream) -> bytes:
    """Wrong: assumes that one receive() returns exactly one whole frame."""
    data = await stream.receive()
    (length,) = struct.unpack(">H", data[:2])
    return data[2 : 2 + length]


async def read_frame(stream: BufferedByteReceiveStream) -> bytes:
    """Right: reads exactly the header, then exactly the payload, however they arrive."""
    (length,) = struct.unpack(">H", await stream.receive_exactly(2))
    return await stream.receive_exactly(length)


FRAMES = [b"hello", b"", b"x" * 300, b"bye"]


async def send_all_frames(stream: ByteStream) -> None:
    for payload in FRAMES:
        await send_frame(stream, payload)
    await stream.aclose()


async def test_naive_parser_fails_when_a_frame_is_split() -> None:
    left, right = byte_stream_pair(split=1)
    with anyio.fail_after(5):
        await send_frame(left, b"hello")
        with pytest.raises(struct.error):
            await naive_read_frame(right)


async def test_naive_parser_returns_a_truncated_frame_when_split_mid_payload() -> None:
    left, right = byte_stream_pair(split=[4])
    with anyio.fail_after(5):
        await send_frame(left, b"hello")
        assert await naive_read_frame(right) == b"he"


async def test_naive_parser_loses_a_frame_when_two_arrive_at_once() -> None:
    left, right = byte_stream_pair(merge=True)
    with anyio.fail_after(5):
        await send_frame(left, b"one")
        await send_frame(left, b"two")
        await left.aclose()
        assert await naive_read_frame(right) == b"one"
        with pytest.raises(anyio.EndOfStream):  # b"two" was received and thrown away
            await naive_read_frame(right)


@pytest.mark.parametrize("split", [1, 2, [3, 1, 7], None], ids=str)
@pytest.mark.parametrize("merge", [False, True], ids=["whole", "merged"])
async def test_buffered_parser_passes_under_fixed_chunkings(
    split: int | list[int] | None, merge: bool
) -> None:
    left, right = byte_stream_pair(split=split, merge=merge)
    reader = BufferedByteReceiveStream(checked(right))
    with anyio.fail_after(5):
        await send_all_frames(left)
        assert [await read_frame(reader) for _ in FRAMES] == FRAMES
        with pytest.raises(anyio.EndOfStream):
            await reader.receive()


@given(split=st.lists(st.integers(1, 64), min_size=1, max_size=8), merge=st.booleans())
async def test_buffered_parser_passes_under_drawn_chunkings(split: list[int], merge: bool) -> None:
    # Drawn up front: a draw inside the event loop that Hypothesis aborts (an overrun) would
    # kill AnyIO's pytest runner task and log "Task exception was never retrieved".
    left, right = byte_stream_pair(split=split, merge=merge)
    reader = BufferedByteReceiveStream(checked(right))
    with anyio.fail_after(5):
        await send_all_frames(left)
        assert [await read_frame(reader) for _ in FRAMES] == FRAMES


@given(data=st.data(), sent=st.binary(max_size=200))
def test_drawn_split_cuts_each_send_into_valid_pieces(data: st.DataObject, sent: bytes) -> None:
    split = drawn_split(data, max_cuts=3)
    sizes = split(sent)
    assert sum(sizes) == len(sent)
    assert all(size >= 1 for size in sizes)
    assert len(sizes) <= 4


# -- the controls, one by one ---------------------------------------------------------------------


async def receive_all(stream: ByteReceiveStream, max_bytes: int = 65536) -> list[bytes]:
    return [chunk async for chunk in _chunks(stream, max_bytes)]


async def _chunks(stream: ByteReceiveStream, max_bytes: int) -> AsyncIterator[bytes]:
    while True:
        try:
            yield await stream.receive(max_bytes)
        except anyio.EndOfStream:
            return


async def test_split_sizes_cycle_within_each_send() -> None:
    with anyio.fail_after(5):
        left, right = byte_stream_pair(split=[1, 2])
        await left.send(b"abcdef")
        await left.send(b"gh")
        await left.send_eof()
        assert await receive_all(right) == [b"a", b"bc", b"d", b"ef", b"g", b"h"]


async def test_split_by_callable_and_max_bytes() -> None:
    with anyio.fail_after(5):
        left, right = byte_stream_pair(split=lambda data: [len(data) - 1])
        await left.send(b"abcdef")
        await left.aclose()
        assert await receive_all(right, max_bytes=3) == [b"abc", b"de", b"f"]


async def test_merge_joins_pieces_up_to_max_bytes() -> None:
    with anyio.fail_after(5):
        left, right = byte_stream_pair(split=2, merge=True)
        await left.send(b"abcde")
        await left.send(b"fg")
        await left.send_eof()
        assert await receive_all(right, max_bytes=6) == [b"abcdef", b"g"]


async def test_hold_and_release() -> None:
    left, right = byte_stream_pair()
    left.outgoing.hold()
    received: list[bytes] = []

    async def receiver() -> None:
        received.extend(await receive_all(right))

    with anyio.fail_after(5):
        async with anyio.create_task_group() as tg:
            tg.start_soon(receiver)
            await left.send(b"abcd")
            await left.send_eof()
            await anyio.wait_all_tasks_blocked()
            assert received == []
            assert left.outgoing.held == 4
            left.outgoing.release(3)
            await anyio.wait_all_tasks_blocked()
            assert right.incoming.delivered == 3
            left.outgoing.release()
    assert received == [b"abc", b"d"]


async def test_break_after_byte_n() -> None:
    with anyio.fail_after(5):
        left, right = byte_stream_pair()
        left.outgoing.break_after(5)
        await left.send(b"abc")
        with pytest.raises(anyio.BrokenResourceError):
            await left.send(b"defg")
        assert await right.receive() == b"abc"
        assert await right.receive() == b"de"
        with pytest.raises(anyio.BrokenResourceError):
            await right.receive()
        with pytest.raises(anyio.BrokenResourceError):
            await right.send(b"reply")
        with pytest.raises(anyio.BrokenResourceError):
            await left.receive()


async def test_break_wakes_a_blocked_receiver() -> None:
    left, right = byte_stream_pair()
    with anyio.fail_after(5):
        async with anyio.create_task_group() as tg:

            async def receiver() -> None:
                with pytest.raises(anyio.BrokenResourceError):
                    await left.receive()

            tg.start_soon(receiver)
            await anyio.wait_all_tasks_blocked()
            right.outgoing.break_after(0)


async def test_vanish_tells_the_peer_nothing() -> None:
    with anyio.fail_after(5):
        left, right = byte_stream_pair()
        await left.send(b"in flight")
        left.vanish()
        with pytest.raises(anyio.ClosedResourceError):
            await left.receive()
        await right.send(b"into the void")  # accepted, delivered nowhere
        assert await right.receive() == b"in flight"
        with anyio.CancelScope() as scope:

            async def wait_forever() -> None:
                await right.receive()

            async with anyio.create_task_group() as tg:
                tg.start_soon(wait_forever)
                await anyio.wait_all_tasks_blocked()
                scope.cancel()
        assert scope.cancelled_caught


async def test_close_ends_the_peer_and_breaks_its_sends() -> None:
    with anyio.fail_after(5):
        left, right = byte_stream_pair()
        await left.send(b"last")
        await left.aclose()
        assert await right.receive() == b"last"
        with pytest.raises(anyio.EndOfStream):
            await right.receive()
        with pytest.raises(anyio.BrokenResourceError):
            await right.send(b"anyone?")
        with pytest.raises(anyio.ClosedResourceError):
            await left.send(b"x")
        await left.aclose()


async def test_send_eof_keeps_the_other_direction() -> None:
    with anyio.fail_after(5):
        left, right = byte_stream_pair()
        await left.send_eof()
        with pytest.raises(anyio.ClosedResourceError):
            await left.send(b"x")
        with pytest.raises(anyio.EndOfStream):
            await right.receive()
        await right.send(b"still here")
        assert await left.receive() == b"still here"


async def test_lockstep_send_returns_when_the_peer_has_everything() -> None:
    left, right = lockstep_byte_stream_pair()
    done = anyio.Event()

    async def sender() -> None:
        await left.send(b"abcd")
        done.set()

    with anyio.fail_after(5):
        async with anyio.create_task_group() as tg:
            tg.start_soon(sender)
            await anyio.wait_all_tasks_blocked()
            assert not done.is_set()
            assert await right.receive(3) == b"abc"
            await anyio.wait_all_tasks_blocked()
            assert not done.is_set()
            assert await right.receive() == b"d"
            await done.wait()


async def test_lockstep_sender_is_broken_when_the_peer_closes() -> None:
    left, right = lockstep_byte_stream_pair()
    with anyio.fail_after(5):
        async with anyio.create_task_group() as tg:

            async def sender() -> None:
                with pytest.raises(anyio.BrokenResourceError):
                    await left.send(b"abcd")

            tg.start_soon(sender)
            await anyio.wait_all_tasks_blocked()
            await right.aclose()


async def test_close_wakes_own_blocked_receiver() -> None:
    left, _right = byte_stream_pair()
    with anyio.fail_after(5):
        async with anyio.create_task_group() as tg:

            async def receiver() -> None:
                with pytest.raises(anyio.ClosedResourceError):
                    await left.receive()

            tg.start_soon(receiver)
            await anyio.wait_all_tasks_blocked()
            await left.aclose()


async def test_concurrent_receives_are_busy() -> None:
    left, right = byte_stream_pair()
    with anyio.fail_after(5):
        async with anyio.create_task_group() as tg:
            tg.start_soon(right.receive)
            await anyio.wait_all_tasks_blocked()
            with pytest.raises(anyio.BusyResourceError):
                await right.receive()
            await left.send(b"x")


async def test_cancelled_receive_consumes_nothing() -> None:
    with anyio.fail_after(5):
        left, right = byte_stream_pair()
        await left.send(b"kept")
        with anyio.CancelScope() as scope:
            scope.cancel()
            await right.receive()
        assert await right.receive() == b"kept"


async def test_object_pair_controls() -> None:
    with anyio.fail_after(5):
        left, right = object_stream_pair()
        stream: ObjectStream[object] = left
        item = object()
        await stream.send(item)
        assert await right.receive() is item
        left.outgoing.hold()
        await left.send(1)
        await left.send(2)
        assert left.outgoing.held == 2
        left.outgoing.release(1)
        assert await right.receive() == 1
        left.outgoing.release()
        left.outgoing.break_after(4)  # the object, 1 and 2 crossed already
        with pytest.raises(anyio.BrokenResourceError):
            await left.send(3)
        assert await right.receive() == 2
        assert await right.receive() == 3
        with pytest.raises(anyio.BrokenResourceError):
            await right.receive()


async def test_object_wire_counts_bytes_items_as_one_unit_each() -> None:
    # An object stream of bytes keeps its items whole: hold/release and break_after count
    # items, never the bytes inside them.
    with anyio.fail_after(5):
        left, right = object_stream_pair()
        left.outgoing.hold()
        await left.send(b"hello")
        await left.send(b"world")
        assert left.outgoing.held == 2
        left.outgoing.release(1)
        assert await right.receive() == b"hello"
        left.outgoing.release()
        assert await right.receive() == b"world"
        left.outgoing.break_after(3)
        with pytest.raises(anyio.BrokenResourceError):
            await left.send(b"abc")
        assert await right.receive() == b"abc"
        with pytest.raises(anyio.BrokenResourceError):
            await right.receive()


def test_bad_arguments() -> None:
    with pytest.raises(ValueError, match="split"):
        byte_stream_pair(split=0)
    with pytest.raises(ValueError, match="split"):
        byte_stream_pair(split=[2, 0])
    left, _ = byte_stream_pair()
    with pytest.raises(ValueError, match="amount"):
        left.outgoing.release(-1)
    with pytest.raises(ValueError, match="amount"):
        left.outgoing.break_after(-1)


async def test_bad_max_bytes() -> None:
    with anyio.fail_after(5):
        left, right = byte_stream_pair()
        await left.send(b"x")
        with pytest.raises(ValueError, match="max_bytes"):
            await right.receive(0)
        assert await right.receive() == b"x"


async def test_bad_send_and_receive_arguments_name_the_argument() -> None:
    # bytes(5) would be five NUL bytes: a byte stream must refuse an int, not send those.
    with anyio.fail_after(5):
        left, right = byte_stream_pair()
        for wrong in (5, "text", None):
            with pytest.raises(TypeError, match="item"):
                await left.send(wrong)  # type: ignore[arg-type]
        with pytest.raises(TypeError, match="max_bytes"):
            await right.receive("1")  # type: ignore[arg-type]
        await left.send(b"ok")
        assert await right.receive() == b"ok"
        assert left.outgoing.accepted == 2


def test_split_of_the_wrong_type_names_the_argument() -> None:
    for wrong in ("ab", [1.5], 2.0):
        with pytest.raises(TypeError, match="split"):
            byte_stream_pair(split=wrong)  # type: ignore[arg-type]


def test_ends_are_byte_streams() -> None:
    left, right = byte_stream_pair()
    stream: ByteStream = left
    assert isinstance(stream, FakeByteStream)
    assert left.outgoing is right.incoming


# -- the doubles keep the contract: the conformance suite says so ------------------------------


@asynccontextmanager
async def hostile_pair() -> AsyncIterator[tuple[ByteStream, ByteStream]]:
    left, right = byte_stream_pair(split=[3, 1], merge=True)
    try:
        yield left, right
    finally:
        await left.aclose()
        await right.aclose()


@asynccontextmanager
async def objects() -> AsyncIterator[tuple[ObjectSendStream[Any], ObjectReceiveStream[Any]]]:
    left, right = object_stream_pair()
    try:
        yield left, right
    finally:
        await left.aclose()
        await right.aclose()


def test_doubles_pass_the_conformance_suite() -> None:
    target = Target(name="doubles", byte_stream_pair=hostile_pair, object_stream_pair=objects)
    results = run_checks(target, backends=["asyncio", "trio"], roles=["resource", "byte", "object"])
    assert results
    # The doubles' object stream has no clone(): the one rule they cannot be checked by.
    failures = [
        r
        for r in results
        if r.outcome is not Outcome.PASSED
        and not (r.rule.id == "OBJ-CLONE" and r.outcome is Outcome.NOT_PROVIDED)
    ]
    assert not failures, "\n".join(f"{r.rule.id} {r.backend}: {r.message}" for r in failures)
