"""The runtime validator: each violation it names, and a correct stream passing untouched."""

from __future__ import annotations

import math
from collections.abc import AsyncIterator, Callable, Mapping
from contextlib import asynccontextmanager
from typing import Any

import anyio
import anyio.abc
import pytest
from anyio.abc import SocketAttribute
from typing_extensions import assert_type

import streamspec.conformance.checks  # noqa: F401  (registered, and rewritten, at collection)
from streamspec import (
    ByteReceiveStream,
    ByteSendStream,
    ByteStream,
    ObjectReceiveStream,
    ObjectSendStream,
    ObjectStream,
    StreamContractError,
    UnreliableObjectStream,
    checked,
)
from streamspec.conformance.runner import Outcome, run_checks
from streamspec.conformance.target import Target
from streamspec.memory import create_memory_object_stream
from streamspec.stapled import StapledObjectStream
from streamspec.testing import byte_stream_pair

pytestmark = pytest.mark.anyio


class Misbehaving(anyio.abc.ByteStream):
    """A byte stream that receives whatever its script says and ignores being closed."""

    def __init__(self, *script: bytes | type[Exception]) -> None:
        self.script = list(script)
        self.sent: list[bytes] = []
        self.closes = 0
        self.gate: anyio.Event | None = None

    async def receive(self, max_bytes: int = 65536) -> bytes:
        await anyio.lowlevel.checkpoint()
        if self.gate is not None:
            await self.gate.wait()
        step = self.script.pop(0)
        if isinstance(step, bytes):
            return step
        raise step

    async def send(self, item: bytes) -> None:
        await anyio.lowlevel.checkpoint()
        self.sent.append(item)

    async def send_eof(self) -> None:
        await anyio.lowlevel.checkpoint()

    async def aclose(self) -> None:
        self.closes += 1
        if self.closes > 1:
            raise RuntimeError("closed twice")

    @property
    def extra_attributes(self) -> Mapping[Any, Callable[[], Any]]:
        return {}


async def test_empty_chunk_before_the_end() -> None:
    stream = checked(Misbehaving(b""))
    with pytest.raises(StreamContractError) as info:
        await stream.receive()
    assert info.value.rule == "BYTE-NO-EMPTY"
    assert "[BYTE-NO-EMPTY]" in str(info.value)
    assert isinstance(info.value, AssertionError)


async def test_chunk_over_max_bytes() -> None:
    stream = checked(Misbehaving(b"abcdef"))
    with pytest.raises(StreamContractError) as info:
        await stream.receive(4)
    assert info.value.rule == "BYTE-MAX-BYTES"
    assert "returned 6 bytes" in str(info.value)


async def test_invalid_max_bytes_accepted() -> None:
    stream = checked(Misbehaving(b"a"))
    with pytest.raises(StreamContractError) as info:
        await stream.receive(0)
    assert info.value.rule == "BYTE-MAX-BYTES-INVALID"


async def test_receive_after_close_returns_data() -> None:
    stream = checked(Misbehaving(b"zombie"))
    await stream.aclose()
    with pytest.raises(StreamContractError) as info:
        await stream.receive()
    assert info.value.rule == "BYTE-CLOSED"
    assert "b'zombie'" in str(info.value)


async def test_send_after_close_succeeds() -> None:
    inner = Misbehaving()
    stream = checked(inner)
    await stream.aclose()
    with pytest.raises(StreamContractError) as info:
        await stream.send(b"x")
    assert info.value.rule == "BYTE-CLOSED"
    assert inner.sent == [b"x"]


async def test_concurrent_receives() -> None:
    inner = Misbehaving(b"first")
    inner.gate = anyio.Event()
    stream = checked(inner)
    received: list[bytes] = []

    async def first() -> None:
        received.append(await stream.receive())

    with anyio.fail_after(5):
        async with anyio.create_task_group() as tg:
            tg.start_soon(first)
            await anyio.wait_all_tasks_blocked()
            with pytest.raises(StreamContractError) as info:
                await stream.receive()
            inner.gate.set()
    assert info.value.rule == "BYTE-BUSY"
    assert received == [b"first"]


async def test_data_after_the_end() -> None:
    stream = checked(Misbehaving(anyio.EndOfStream, b"late"))
    with pytest.raises(anyio.EndOfStream):
        await stream.receive()
    with pytest.raises(StreamContractError) as info:
        await stream.receive()
    assert info.value.rule == "BYTE-EOF"


async def test_send_after_send_eof() -> None:
    inner = Misbehaving()
    stream = checked(inner)
    await stream.send(b"ok")
    await stream.send_eof()
    with pytest.raises(StreamContractError) as info:
        await stream.send(b"too late")
    # Sending after send_eof() is defined (it raises); this stream accepted the data instead.
    assert info.value.rule == "BYTE-SEND-AFTER-EOF"
    assert inner.sent == [b"ok", b"too late"]


async def test_second_close_raises() -> None:
    stream = checked(Misbehaving())
    await stream.aclose()
    with pytest.raises(StreamContractError) as info:
        await stream.aclose()
    assert info.value.rule == "RES-ACLOSE-IDEMPOTENT"


class MisbehavingObjects(anyio.abc.ObjectStream[int]):
    """An object stream that yields an item after its end and accepts sends when closed."""

    def __init__(self) -> None:
        self.script: list[int | type[Exception]] = [anyio.EndOfStream, 7]
        self.sent: list[int] = []

    async def receive(self) -> int:
        step = self.script.pop(0)
        if isinstance(step, int):
            return step
        raise step

    async def send(self, item: int) -> None:
        self.sent.append(item)

    async def send_eof(self) -> None:
        pass

    async def aclose(self) -> None:
        pass


async def test_object_stream_violations() -> None:
    stream = checked(MisbehavingObjects())
    assert_type(stream, ObjectStream[int])
    with pytest.raises(anyio.EndOfStream):
        await stream.receive()
    with pytest.raises(StreamContractError) as info:
        await stream.receive()
    assert info.value.rule == "OBJ-EOF"
    await stream.send_eof()
    with pytest.raises(StreamContractError) as info:
        await stream.send(1)
    assert info.value.rule == "OBJ-SEND-AFTER-EOF"

    other = checked(MisbehavingObjects())
    await other.aclose()
    with pytest.raises(StreamContractError) as info:
        await other.send(1)
    assert info.value.rule == "OBJ-CLOSED"


async def test_correct_byte_stream_passes_through() -> None:
    async with await anyio.create_tcp_listener(local_host="127.0.0.1") as listener:
        port = listener.extra(SocketAttribute.local_port)
        with anyio.fail_after(5):
            client = checked(await anyio.connect_tcp("127.0.0.1", port))
            assert_type(client, ByteStream)
            assert isinstance(client, anyio.abc.ByteStream)
            accepted = await listener.listeners[0].accept()  # type: ignore[attr-defined]
            server: anyio.abc.SocketStream = accepted
            async with client, server:
                assert client.extra(SocketAttribute.remote_port) == port
                assert client.extra(SocketAttribute.family) == server.extra(SocketAttribute.family)
                await client.send(b"hello ")
                await client.send(b"world")
                await client.send_eof()
                got = b""
                async for chunk in server:
                    got += chunk
                assert got == b"hello world"
                await server.send(b"back")
                await server.aclose()
                received = [chunk async for chunk in client]
                assert b"".join(received) == b"back"
                with pytest.raises(anyio.EndOfStream):
                    await client.receive()
            with pytest.raises(anyio.ClosedResourceError):
                await client.receive()


async def test_correct_object_stream_passes_through() -> None:
    with anyio.fail_after(5):
        send, receive = create_memory_object_stream[object](math.inf)
        stream = checked(StapledObjectStream(send, receive))
        assert isinstance(stream, anyio.abc.ObjectStream)
        item = object()
        await stream.send(item)
        assert await stream.receive() is item
        await stream.send_eof()
        with pytest.raises(anyio.EndOfStream):
            await stream.receive()
        await stream.aclose()
        with pytest.raises(anyio.ClosedResourceError):
            await stream.send(item)


def test_one_way_roles_are_kept() -> None:
    send, receive = create_memory_object_stream[bytes](1)
    receive_only = checked(receive)
    assert isinstance(receive_only, anyio.abc.ObjectReceiveStream)
    assert not isinstance(receive_only, anyio.abc.ObjectSendStream)

    class OneWay(anyio.abc.ByteReceiveStream):
        async def receive(self, max_bytes: int = 65536) -> bytes:
            return b"x"

        async def aclose(self) -> None:
            pass

    byte_receive = checked(OneWay())
    assert_type(byte_receive, ByteReceiveStream)
    assert isinstance(byte_receive, anyio.abc.ByteReceiveStream)
    assert not isinstance(byte_receive, anyio.abc.ByteSendStream)
    byte_send: ByteSendStream = checked(send, kind="bytes")
    assert isinstance(byte_send, anyio.abc.ByteSendStream)
    send.close()
    receive.close()


async def test_kind_is_told_from_duck_typed_signatures() -> None:
    """Streams that subclass no AnyIO class: ``receive(max_bytes)`` and a ``send`` annotated
    ``bytes`` make a byte stream, a bare ``receive()`` an object stream."""

    class DuckBytes:
        async def receive(self, max_bytes: int = 65536) -> bytes:
            return b"too long"

        async def aclose(self) -> None:
            pass

    class DuckObjects:
        async def receive(self) -> bytes:
            return b""  # an empty item is fine for an object stream

        async def aclose(self) -> None:
            pass

    class DuckByteSender:
        async def send(self, item: bytes) -> None:
            pass

        async def aclose(self) -> None:
            pass

    byte_receiver = checked(DuckBytes())  # type: ignore[call-overload]
    assert isinstance(byte_receiver, anyio.abc.ByteReceiveStream)
    with pytest.raises(StreamContractError) as info:
        await byte_receiver.receive(2)
    assert info.value.rule == "BYTE-MAX-BYTES"
    object_receiver = checked(DuckObjects())  # type: ignore[call-overload]
    assert isinstance(object_receiver, anyio.abc.ObjectReceiveStream)
    assert await object_receiver.receive() == b""
    assert isinstance(checked(DuckByteSender()), anyio.abc.ByteSendStream)  # type: ignore[call-overload]


async def test_a_receive_with_keyword_only_parameters_is_an_object_stream() -> None:
    """Only a positional parameter can be ``max_bytes``: a ``receive(*, timeout=None)``
    belongs to an object stream, and must not be called with 65536."""

    class DuckObjectsWithOptions:
        async def receive(self, *, timeout: float | None = None) -> int:
            return 7

        async def aclose(self) -> None:
            pass

    receiver = checked(DuckObjectsWithOptions())  # type: ignore[call-overload]
    assert isinstance(receiver, anyio.abc.ObjectReceiveStream)
    assert await receiver.receive() == 7


async def test_a_two_way_stream_without_send_eof_keeps_both_directions() -> None:
    """A datagram-like object stream (receive and send, no send_eof) is wrapped with both
    directions checked; a byte stream like it is refused, since every two-way byte stream
    can end its sending direction."""

    class Datagrams(anyio.abc.UnreliableObjectStream[str]):
        def __init__(self) -> None:
            self.sent: list[str] = []

        async def receive(self) -> str:
            return ""

        async def send(self, item: str) -> None:
            self.sent.append(item)

        async def aclose(self) -> None:
            pass

    inner = Datagrams()
    wrapped = checked(inner)
    assert_type(wrapped, UnreliableObjectStream[str])
    assert isinstance(wrapped, anyio.abc.UnreliableObjectStream)
    assert not hasattr(wrapped, "send_eof")
    await wrapped.send("ping")
    assert inner.sent == ["ping"]
    assert await wrapped.receive() == ""
    await wrapped.aclose()
    with pytest.raises(StreamContractError) as info:
        await wrapped.send("after close")  # Datagrams ignores its own closing
    assert info.value.rule == "OBJ-CLOSED"

    class BytesBothWays:
        async def receive(self, max_bytes: int = 65536) -> bytes:
            return b"x"

        async def send(self, item: bytes) -> None:
            pass

        async def aclose(self) -> None:
            pass

    with pytest.raises(TypeError, match="send_eof"):
        checked(BytesBothWays())  # type: ignore[call-overload]


def test_bad_arguments() -> None:
    class SendsSomething:
        async def send(self, item: object) -> None:
            pass

        async def aclose(self) -> None:
            pass

    with pytest.raises(TypeError, match="kind="):
        checked(SendsSomething())  # type: ignore[call-overload]
    with pytest.raises(ValueError, match="kind"):
        checked(SendsSomething(), kind="text")  # type: ignore[call-overload]
    with pytest.raises(TypeError, match="receive"):
        checked(object())  # type: ignore[call-overload]


# -- the wrapper is transparent: a conforming stream still passes the whole suite ------------


@asynccontextmanager
async def checked_pair() -> AsyncIterator[tuple[ByteStream, ByteStream]]:
    left, right = byte_stream_pair(split=2)
    wrapped_left, wrapped_right = checked(left), checked(right)
    try:
        yield wrapped_left, wrapped_right
    finally:
        await wrapped_left.aclose()
        await wrapped_right.aclose()


ObjectEnds = tuple[ObjectSendStream[Any], ObjectReceiveStream[Any]]


@asynccontextmanager
async def checked_objects() -> AsyncIterator[
    tuple[ObjectSendStream[Any], ObjectReceiveStream[Any]]
]:
    send, receive = create_memory_object_stream[Any](1)
    wrapped_send, wrapped_receive = checked(send), checked(receive)
    try:
        yield wrapped_send, wrapped_receive
    finally:
        await wrapped_send.aclose()
        await wrapped_receive.aclose()


def test_checked_streams_pass_the_conformance_suite() -> None:
    target = Target(
        name="checked", byte_stream_pair=checked_pair, object_stream_pair=checked_objects
    )
    results = run_checks(target, backends=["asyncio", "trio"], roles=["resource", "byte", "object"])
    assert results
    # A one-way object stream without clones has no send_eof() and no clone(), so those
    # rules are not provided.
    one_way = {"OBJ-SEND-EOF", "OBJ-SEND-AFTER-EOF", "OBJ-CLONE"}
    failures = [
        r
        for r in results
        if r.outcome is not Outcome.PASSED
        and not (r.rule.id in one_way and r.outcome is Outcome.NOT_PROVIDED)
    ]
    assert not failures, "\n".join(f"{r.rule.id} {r.backend}: {r.message}" for r in failures)
