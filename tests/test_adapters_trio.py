"""Trio adapters: Trio streams and channels as our roles, and our byte streams as Trio's.

Trio objects need a Trio event loop, so this module runs on the Trio backend only: the
``anyio_backend`` fixture below overrides the one that parametrises over every backend.
"""

from __future__ import annotations

import anyio
import anyio.abc
import pytest
import trio
import trio.abc
import trio.testing
from anyio.abc import SocketAttribute
from typing_extensions import assert_type

import streamspec.conformance.checks  # noqa: F401  (registered, and rewritten, at collection)
from streamspec import ByteReceiveStream, ByteSendStream, ByteStream, ObjectReceiveStream, checked
from streamspec.adapters.trio import (
    from_trio_channel,
    from_trio_listener,
    from_trio_stream,
    to_trio_stream,
)
from streamspec.conformance.runner import Outcome, run_checks
from streamspec.conformance.targets_trio import TRIO
from streamspec.testing import Split, byte_stream_pair

pytestmark = pytest.mark.anyio


@pytest.fixture
def anyio_backend() -> str:
    """Trio-only: the adapted objects are Trio's."""
    return "trio"


async def receive_all(stream: ByteReceiveStream) -> bytes:
    return b"".join([chunk async for chunk in stream])


# -- Trio streams as byte streams --------------------------------------------------------------


async def test_memory_stream_pair_as_byte_streams() -> None:
    trio_left, trio_right = trio.testing.memory_stream_pair()
    left = checked(from_trio_stream(trio_left))
    right = checked(from_trio_stream(trio_right))
    assert_type(left, ByteStream)
    with anyio.fail_after(5):
        await left.send(b"hello world")
        assert await right.receive(5) == b"hello"
        await left.send_eof()
        assert await receive_all(right) == b" world"
        with pytest.raises(anyio.EndOfStream):
            await right.receive()
        await right.send(b"other way")
        await right.aclose()
        assert await receive_all(left) == b"other way"
        await left.aclose()
        with pytest.raises(anyio.ClosedResourceError) as info:
            await left.receive()
        assert isinstance(info.value.__cause__, trio.ClosedResourceError)
        with pytest.raises(anyio.ClosedResourceError):
            await left.send(b"x")


async def test_tcp_socket_stream_data_and_attributes() -> None:
    listeners = await trio.open_tcp_listeners(0, host="127.0.0.1")
    async with listeners[0]:
        with anyio.fail_after(5):
            client_trio = await trio.testing.open_stream_to_socket_listener(listeners[0])
            server_trio = await listeners[0].accept()
            client, server = from_trio_stream(client_trio), from_trio_stream(server_trio)
            async with client, server:
                port = server.extra(SocketAttribute.local_port)
                assert client.extra(SocketAttribute.remote_port) == port
                assert client.extra(SocketAttribute.remote_address) == ("127.0.0.1", port)
                assert server.extra(SocketAttribute.remote_port) == client.extra(
                    SocketAttribute.local_port
                )
                payload = bytes(range(256)) * 1000
                async with anyio.create_task_group() as tg:

                    async def send() -> None:
                        await client.send(payload)
                        await client.send_eof()

                    tg.start_soon(send)
                    assert await receive_all(checked(server)) == payload


async def test_busy_is_translated() -> None:
    trio_left, trio_right = trio.testing.memory_stream_pair()
    right = from_trio_stream(trio_right)
    with anyio.fail_after(5):
        async with anyio.create_task_group() as tg:
            tg.start_soon(right.receive)
            await anyio.wait_all_tasks_blocked()
            with pytest.raises(anyio.BusyResourceError) as info:
                await right.receive()
            assert isinstance(info.value.__cause__, trio.BusyResourceError)
            await trio_left.send_all(b"x")


class BrokenTrioStream(trio.abc.Stream):
    """A Trio stream whose transport has failed, and that cannot half-close."""

    async def send_all(self, data: bytes | bytearray | memoryview) -> None:
        raise trio.BrokenResourceError("connection reset")

    async def wait_send_all_might_not_block(self) -> None:
        raise trio.BrokenResourceError("connection reset")

    async def receive_some(self, max_bytes: int | None = None) -> bytes:
        raise trio.BrokenResourceError("connection reset")

    async def aclose(self) -> None:
        pass


async def test_broken_is_translated_and_send_eof_needs_half_close() -> None:
    stream = from_trio_stream(BrokenTrioStream())
    with pytest.raises(anyio.BrokenResourceError) as info:
        await stream.receive()
    assert isinstance(info.value.__cause__, trio.BrokenResourceError)
    with pytest.raises(anyio.BrokenResourceError):
        await stream.send(b"x")
    with pytest.raises(NotImplementedError, match="HalfCloseableStream"):
        await stream.send_eof()


async def test_one_way_trio_streams_keep_their_direction() -> None:
    send_trio, receive_trio = trio.testing.memory_stream_one_way_pair()
    send = from_trio_stream(send_trio)
    receive = from_trio_stream(receive_trio)
    assert_type(send, ByteSendStream)
    assert_type(receive, ByteReceiveStream)
    assert not isinstance(send, anyio.abc.ByteReceiveStream)
    assert not isinstance(receive, anyio.abc.ByteSendStream)
    with anyio.fail_after(5):
        await send.send(b"one way")
        await send.aclose()
        assert await receive_all(receive) == b"one way"


async def test_invalid_max_bytes() -> None:
    _, trio_right = trio.testing.memory_stream_pair()
    right = from_trio_stream(trio_right)
    with pytest.raises(ValueError, match="max_bytes"):
        await right.receive(0)
    with pytest.raises(TypeError):
        from_trio_stream(object())  # type: ignore[call-overload]


# -- Trio channels as object streams -----------------------------------------------------------


async def test_memory_channel_as_object_streams() -> None:
    trio_send, trio_receive = trio.open_memory_channel[object](1)
    send = from_trio_channel(trio_send)
    receive = checked(from_trio_channel(trio_receive))
    assert_type(receive, ObjectReceiveStream[object])
    item = object()
    with anyio.fail_after(5):
        await send.send(item)
        assert await receive.receive() is item
        await send.aclose()
        with pytest.raises(anyio.EndOfStream) as info:
            await receive.receive()
        assert isinstance(info.value.__cause__, trio.EndOfChannel)
        with pytest.raises(anyio.ClosedResourceError):
            await send.send(item)
        await receive.aclose()
        with pytest.raises(anyio.ClosedResourceError):
            await receive.receive()


async def test_channel_closed_receiver_breaks_sender() -> None:
    trio_send, trio_receive = trio.open_memory_channel[int](0)
    send = from_trio_channel(trio_send)
    await from_trio_channel(trio_receive).aclose()
    with pytest.raises(anyio.BrokenResourceError):
        await send.send(1)
    with pytest.raises(TypeError):
        from_trio_channel(object())  # type: ignore[call-overload]


# -- Trio listeners as listeners ----------------------------------------------------------------


async def test_listener_serves_adapted_connections_until_closed() -> None:
    (socket_listener,) = await trio.open_tcp_listeners(0, host="127.0.0.1")
    listener = from_trio_listener(socket_listener)
    port = listener.extra(SocketAttribute.local_port)
    assert listener.extra(SocketAttribute.local_address) == ("127.0.0.1", port)
    served = anyio.Event()

    async def shout(stream: ByteStream) -> None:
        async with stream:
            await stream.send((await stream.receive()).upper())
        served.set()

    with anyio.fail_after(5):
        async with anyio.create_task_group() as tg:

            async def serve() -> None:
                with pytest.raises(anyio.ClosedResourceError):
                    await listener.serve(shout, tg)

            tg.start_soon(serve)
            client = from_trio_stream(
                await trio.testing.open_stream_to_socket_listener(socket_listener)
            )
            async with client:
                await client.send(b"hi")
                assert await client.receive() == b"HI"
            await served.wait()
            await listener.aclose()


# -- byte streams as Trio streams --------------------------------------------------------------


@pytest.mark.parametrize(
    ("split", "merge"),
    [(None, False), (3, True), ([4096, 1], False)],
    ids=["whole", "3+merge", "4096,1"],
)
async def test_fake_pair_passes_trios_own_stream_checks(split: Split, merge: bool) -> None:
    async def maker() -> tuple[trio.abc.HalfCloseableStream, trio.abc.HalfCloseableStream]:
        left, right = byte_stream_pair(split=split, merge=merge)
        return to_trio_stream(left), to_trio_stream(right)

    with anyio.fail_after(30):
        await trio.testing.check_half_closeable_stream(maker, None)


async def test_anyio_tcp_streams_pass_trios_own_stream_checks() -> None:
    async with await anyio.create_tcp_listener(local_host="127.0.0.1") as multi:
        listener = multi.listeners[0]
        assert isinstance(listener, anyio.abc.SocketListener)
        port = listener.extra(SocketAttribute.local_port)

        async def maker() -> tuple[trio.abc.HalfCloseableStream, trio.abc.HalfCloseableStream]:
            client = await anyio.connect_tcp("127.0.0.1", port)
            server = await listener.accept()
            return to_trio_stream(client), to_trio_stream(server)

        with anyio.fail_after(30):
            await trio.testing.check_half_closeable_stream(maker, None)


async def test_round_trip_keeps_the_contract() -> None:
    left, right = byte_stream_pair(split=2)
    there = checked(from_trio_stream(to_trio_stream(left)))
    back = checked(from_trio_stream(to_trio_stream(right)))
    with anyio.fail_after(5):
        await there.send(b"round trip")
        await there.send_eof()
        assert await receive_all(back) == b"round trip"
        with pytest.raises(anyio.EndOfStream):
            await back.receive()
        await back.aclose()
        with pytest.raises(anyio.ClosedResourceError):
            await back.receive()


# -- the built-in trio target ------------------------------------------------------------------


def test_trio_target_passes_on_trio_and_is_not_provided_elsewhere() -> None:
    rules = ["BYTE-EOF", "BYTE-CLOSED-WAKES", "OBJ-EOF", "OBJ-CLOSED", "LISTEN-SERVE"]
    results = run_checks(TRIO, backends=["trio", "asyncio"], rules=rules)
    outcomes = {(result.rule.id, result.backend): result for result in results}
    assert len(outcomes) == 2 * len(rules)
    for rule in rules:
        on_trio = outcomes[rule, "trio"]
        assert on_trio.outcome is Outcome.PASSED, on_trio
        elsewhere = outcomes[rule, "asyncio"]
        assert elsewhere.outcome is Outcome.NOT_PROVIDED, elsewhere
        assert "trio backend" in elsewhere.message
