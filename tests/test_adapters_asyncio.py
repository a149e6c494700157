"""asyncio adapters, over real loopback TCP connections made with asyncio's own streams.

asyncio's streams need an asyncio event loop, so this module runs on the asyncio backends
only (plain asyncio and uvloop): the ``anyio_backend`` fixture below overrides the one that
parametrises over every backend.
"""

from __future__ import annotations

import asyncio
import socket
import struct
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import anyio
import anyio.abc
import pytest
from anyio.abc import SocketAttribute

import streamspec.conformance.checks  # noqa: F401  (registered, and rewritten, at collection)
from streamspec import ByteReceiveStream, ByteStream, checked
from streamspec.adapters.asyncio import from_asyncio_streams, to_asyncio_streams
from streamspec.buffered import BufferedByteReceiveStream
from streamspec.conformance.registry import NotProvided
from streamspec.conformance.runner import Outcome, run_checks
from streamspec.conformance.target import ByteStreamPairFactory, Target
from streamspec.testing import byte_stream_pair, lockstep_byte_stream_pair

pytestmark = pytest.mark.anyio


@pytest.fixture(
    params=[
        pytest.param("asyncio", id="asyncio"),
        pytest.param(("asyncio", {"use_uvloop": True}), id="uvloop"),
    ]
)
def anyio_backend(request: pytest.FixtureRequest) -> Any:
    """asyncio-only: the adapted objects are asyncio's."""
    return request.param


Connection = tuple[asyncio.StreamReader, asyncio.StreamWriter]


@asynccontextmanager
async def tcp_connection() -> AsyncIterator[tuple[Connection, Connection]]:
    """A loopback TCP connection: the client's reader/writer and the server's."""
    accepted: asyncio.Queue[Connection] = asyncio.Queue()

    async def on_connect(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await accepted.put((reader, writer))

    server = await asyncio.start_server(on_connect, "127.0.0.1", 0)
    try:
        port = server.sockets[0].getsockname()[1]
        client = await asyncio.open_connection("127.0.0.1", port)
        yield client, await accepted.get()
    finally:
        server.close()
        await server.wait_closed()


@asynccontextmanager
async def adapted_pair() -> AsyncIterator[tuple[ByteStream, ByteStream]]:
    async with tcp_connection() as (client, server):
        left, right = from_asyncio_streams(*client), from_asyncio_streams(*server)
        async with left, right:
            yield left, right


async def receive_all(stream: ByteReceiveStream) -> bytes:
    return b"".join([chunk async for chunk in stream])


# -- asyncio streams as a byte stream ----------------------------------------------------------


async def test_data_eof_and_attributes() -> None:
    with anyio.fail_after(10):
        async with adapted_pair() as (raw_left, raw_right):
            left, right = checked(raw_left), checked(raw_right)
            port = right.extra(SocketAttribute.local_port)
            assert left.extra(SocketAttribute.remote_port) == port
            assert left.extra(SocketAttribute.remote_address) == ("127.0.0.1", port)
            assert left.extra(SocketAttribute.family) == socket.AF_INET
            await left.send(b"hello ")
            await left.send(b"world")
            await left.send_eof()
            await left.send_eof()  # a second call does nothing
            assert await receive_all(right) == b"hello world"
            with pytest.raises(anyio.EndOfStream):
                await right.receive()
            with pytest.raises(anyio.ClosedResourceError):  # checked() would flag the misuse
                await raw_left.send(b"after eof")
            await right.send(b"still flowing back")
            assert await left.receive(5) == b"still"


async def test_back_pressure_holds_send_until_the_peer_reads() -> None:
    payload = b"x" * (32 * 1024 * 1024)  # more than loopback's socket buffers hold
    with anyio.fail_after(30):
        async with adapted_pair() as (left, right):
            done = anyio.Event()

            async def sender() -> None:
                await left.send(payload)
                await left.send_eof()
                done.set()

            async with anyio.create_task_group() as tg:
                tg.start_soon(sender)
                await anyio.wait_all_tasks_blocked()
                assert not done.is_set()
                received = 0
                async for chunk in right:
                    received += len(chunk)
            assert done.is_set()
            assert received == len(payload)


async def test_close_wakes_a_blocked_receive_and_stays_closed() -> None:
    with anyio.fail_after(10):
        async with adapted_pair() as (left, _right):
            async with anyio.create_task_group() as tg:

                async def receiver() -> None:
                    with pytest.raises(anyio.ClosedResourceError):
                        await left.receive()

                tg.start_soon(receiver)
                await anyio.wait_all_tasks_blocked()
                await left.aclose()
            with pytest.raises(anyio.ClosedResourceError):
                await left.receive()
            with pytest.raises(anyio.ClosedResourceError):
                await left.send(b"x")
            with pytest.raises(anyio.ClosedResourceError):
                await left.send_eof()
            await left.aclose()


async def test_peer_close_is_the_end_of_the_stream() -> None:
    with anyio.fail_after(10):
        async with adapted_pair() as (left, right):
            await right.send(b"bye")
            await right.aclose()
            assert await receive_all(left) == b"bye"


async def send_until_broken(stream: ByteStream) -> None:
    for _ in range(100):
        await stream.send(b"x" * 65536)


async def test_connection_reset_is_broken() -> None:
    with anyio.fail_after(10):
        async with tcp_connection() as (client, server):
            left = from_asyncio_streams(*client)
            sock = server[1].get_extra_info("socket")
            # Linger 0 makes close() send a reset instead of a clean FIN.
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            server[1].close()
            with pytest.raises(anyio.BrokenResourceError) as info:
                await left.receive()
            assert isinstance(info.value.__cause__, ConnectionResetError)
            with pytest.raises(anyio.BrokenResourceError):
                await send_until_broken(left)
            await left.aclose()


async def test_concurrent_receives_are_busy_and_bad_max_bytes() -> None:
    with anyio.fail_after(10):
        async with adapted_pair() as (left, right):
            with pytest.raises(ValueError, match="max_bytes"):
                await left.receive(0)
            with pytest.raises(TypeError, match="max_bytes"):
                await left.receive("1")  # type: ignore[arg-type]
            async with anyio.create_task_group() as tg:
                tg.start_soon(left.receive)
                await anyio.wait_all_tasks_blocked()
                with pytest.raises(anyio.BusyResourceError):
                    await left.receive()
                await right.send(b"x")


# -- a byte stream as asyncio streams ----------------------------------------------------------


async def test_reader_and_writer_over_a_hostile_byte_stream() -> None:
    left, right = byte_stream_pair(split=1)
    with anyio.fail_after(10):
        reader, writer = await to_asyncio_streams(left)
        await right.send(b"line one\nline two\nrest")
        await right.send_eof()
        assert await reader.readline() == b"line one\n"
        assert await reader.readexactly(9) == b"line two\n"
        assert await reader.read() == b"rest"
        assert reader.at_eof()
        writer.write(b"from asyncio")
        await writer.drain()
        writer.write_eof()
        assert await receive_all(right) == b"from asyncio"
        await right.aclose()
        writer.close()
        await writer.wait_closed()
        assert writer.get_extra_info("byte_stream") is left
        with pytest.raises(anyio.ClosedResourceError):
            await left.receive()


async def test_reader_and_writer_over_loopback_tcp() -> None:
    """asyncio-stream code, over our byte stream, over asyncio's own TCP streams."""
    with anyio.fail_after(10):
        async with adapted_pair() as (left, right):
            reader, writer = await to_asyncio_streams(left)
            writer.write(b"ping\n")
            await writer.drain()
            buffered = BufferedByteReceiveStream(right)
            assert await buffered.receive_until(b"\n", 100) == b"ping"
            await right.send(b"pong\n")
            assert await reader.readline() == b"pong\n"
            writer.close()
            await writer.wait_closed()
            with pytest.raises(anyio.EndOfStream):
                await right.receive()


async def test_drain_waits_while_the_byte_stream_applies_back_pressure() -> None:
    left, right = lockstep_byte_stream_pair()
    with anyio.fail_after(10):
        _reader, writer = await to_asyncio_streams(left)
        payload = b"y" * (256 * 1024)
        drained = anyio.Event()

        async def write() -> None:
            writer.write(payload)
            await writer.drain()
            drained.set()

        async with anyio.create_task_group() as tg:
            tg.start_soon(write)
            await anyio.wait_all_tasks_blocked()
            assert not drained.is_set()
            assert writer.transport.get_write_buffer_size() > 0
            received = 0
            while received < len(payload) or not drained.is_set():
                received += len(await right.receive())
                await anyio.wait_all_tasks_blocked()
        assert received == len(payload)
        writer.close()
        await writer.wait_closed()


async def test_failure_of_the_byte_stream_is_a_connection_reset() -> None:
    left, right = byte_stream_pair()
    left.outgoing.break_after(3)
    with anyio.fail_after(10):
        reader, writer = await to_asyncio_streams(left)
        writer.write(b"abcdef")
        with pytest.raises(ConnectionResetError):
            await reader.read()
        assert await right.receive() == b"abc"
        with pytest.raises(ConnectionResetError):
            await writer.drain()
        writer.close()
        with pytest.raises(ConnectionResetError):  # as asyncio's own transports report it
            await writer.wait_closed()


async def test_bad_limit() -> None:
    left, _ = byte_stream_pair()
    with pytest.raises(ValueError, match="limit"):
        await to_asyncio_streams(left, limit=0)
    with pytest.raises(TypeError, match="limit"):
        await to_asyncio_streams(left, limit="64")  # type: ignore[arg-type]


# -- the conformance suite over the adapters ---------------------------------------------------


def require_asyncio() -> None:
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        raise NotProvided("asyncio streams outside an asyncio backend") from None


@asynccontextmanager
async def adapted_tcp_pair() -> AsyncIterator[tuple[ByteStream, ByteStream]]:
    require_asyncio()
    async with adapted_pair() as pair:
        yield pair


@asynccontextmanager
async def round_trip_pair() -> AsyncIterator[tuple[ByteStream, ByteStream]]:
    """Our doubles, seen through asyncio's streams, seen as byte streams again."""
    require_asyncio()
    left, right = byte_stream_pair(split=3)
    there = from_asyncio_streams(*await to_asyncio_streams(left))
    back = from_asyncio_streams(*await to_asyncio_streams(right))
    try:
        yield there, back
    finally:
        await there.aclose()
        await back.aclose()


@pytest.mark.parametrize("factory", [adapted_tcp_pair, round_trip_pair], ids=["tcp", "round-trip"])
def test_adapters_pass_the_conformance_suite(factory: ByteStreamPairFactory) -> None:
    target = Target(name="asyncio adapters", byte_stream_pair=factory)
    results = run_checks(target, backends=["asyncio", "uvloop"], roles=["resource", "byte"])
    assert results
    failures = [r for r in results if r.outcome is not Outcome.PASSED]
    assert not failures, "\n".join(f"{r.rule.id} {r.backend}: {r.message}" for r in failures)
