"""The reference stapled streams and MultiListener: delegation, and closing every part."""

from __future__ import annotations

import math
import socket
from collections.abc import Callable
from typing import Any

import anyio
import anyio.abc
import anyio.lowlevel
import anyio.streams.stapled
import pytest
from anyio.abc import SocketAttribute

from streamspec import ByteStream, Listener, ObjectStream, create_memory_object_stream
from streamspec.stapled import MultiListener, StapledByteStream, StapledObjectStream

pytestmark = pytest.mark.anyio


class Half(anyio.abc.ByteStream):
    """A byte stream half that records what is done to it; ``aclose`` raises ``close_error``
    (after recording the close) when one is given."""

    def __init__(
        self, name: str, incoming: list[bytes] | None = None, close_error: Exception | None = None
    ) -> None:
        self.name = name
        self.incoming = incoming or []
        self.sent: list[bytes] = []
        self.max_bytes: list[int] = []
        self.closed = False
        self.close_error = close_error

    async def receive(self, max_bytes: int = 65536) -> bytes:
        await anyio.lowlevel.checkpoint()
        self.max_bytes.append(max_bytes)
        if not self.incoming:
            raise anyio.EndOfStream
        return self.incoming.pop(0)

    async def send(self, item: bytes) -> None:
        await anyio.lowlevel.checkpoint()
        self.sent.append(item)

    async def send_eof(self) -> None:
        raise AssertionError("a stapled stream closes its send half instead")

    async def aclose(self) -> None:
        self.closed = True
        if self.close_error is not None:
            raise self.close_error

    @property
    def extra_attributes(self) -> dict[Any, Callable[[], Any]]:
        attributes: dict[Any, Callable[[], Any]] = {SocketAttribute.local_address: self.who}
        if self.name == "send":
            attributes[SocketAttribute.remote_address] = self.who
        return attributes

    def who(self) -> str:
        return self.name


# -- StapledByteStream ------------------------------------------------------------------------


async def test_byte_stream_receives_from_one_half_and_sends_on_the_other() -> None:
    send, receive = Half("send"), Half("receive", [b"in"])
    stream = StapledByteStream(send, receive)
    assert stream.send_stream is send
    assert stream.receive_stream is receive
    assert await stream.receive(7) == b"in"
    assert receive.max_bytes == [7]
    await stream.send(b"out")
    assert send.sent == [b"out"]
    assert receive.sent == []
    with pytest.raises(anyio.EndOfStream):
        await stream.receive()


async def test_byte_stream_refuses_max_bytes_below_one_without_receiving() -> None:
    receive = Half("receive", [b"in"])
    with pytest.raises(ValueError, match="max_bytes"):
        await StapledByteStream(Half("send"), receive).receive(0)
    with pytest.raises(TypeError, match="max_bytes"):
        await StapledByteStream(Half("send"), receive).receive("1")  # type: ignore[arg-type]
    assert receive.max_bytes == []


async def test_byte_stream_send_eof_closes_only_the_send_half() -> None:
    send, receive = Half("send"), Half("receive", [b"still"])
    stream = StapledByteStream(send, receive)
    await stream.send_eof()
    assert send.closed
    assert not receive.closed
    assert await stream.receive() == b"still"


@pytest.mark.parametrize("cls", [StapledByteStream, StapledObjectStream])
async def test_send_eof_after_aclose_raises_closed_resource_error(cls: Any) -> None:
    # Closing the send half again would succeed silently; the stream itself refuses [BYTE-CLOSED].
    send, receive = Half("send"), Half("receive")
    stream = cls(send, receive)
    await stream.aclose()
    with pytest.raises(anyio.ClosedResourceError):
        await stream.send_eof()


@pytest.mark.parametrize("cls", [StapledByteStream, StapledObjectStream])
async def test_anyio_4_16_send_eof_after_aclose_succeeds_silently(cls: Any) -> None:
    anyio_cls = getattr(anyio.streams.stapled, cls.__name__)
    stream = anyio_cls(Half("send"), Half("receive"))
    await stream.aclose()
    await stream.send_eof()  # no ClosedResourceError: the divergence recorded for BYTE-CLOSED


@pytest.mark.parametrize("cls", [StapledByteStream, StapledObjectStream])
async def test_aclose_closes_both_halves_and_raises_the_first_error(cls: Any) -> None:
    send = Half("send", close_error=OSError("send half"))
    receive = Half("receive", close_error=OSError("receive half"))
    with pytest.raises(OSError, match="send half"):
        await cls(send, receive).aclose()
    assert send.closed
    assert receive.closed


async def test_anyio_4_16_leaves_the_receive_half_open_when_the_send_half_fails() -> None:
    """The difference the test above guards against."""
    send, receive = Half("send", close_error=OSError("send half")), Half("receive")
    with pytest.raises(OSError, match="send half"):
        await anyio.streams.stapled.StapledByteStream(send, receive).aclose()
    assert not receive.closed


@pytest.mark.parametrize("cls", [StapledByteStream, StapledObjectStream])
async def test_attributes_merge_with_the_receive_half_winning(cls: Any) -> None:
    stream = cls(Half("send"), Half("receive"))
    assert stream.extra(SocketAttribute.local_address) == "receive"
    assert stream.extra(SocketAttribute.remote_address) == "send"


# -- StapledObjectStream ----------------------------------------------------------------------


async def test_object_stream_delegates_each_direction() -> None:
    out_send, out_receive = create_memory_object_stream[int](math.inf)
    in_send, in_receive = create_memory_object_stream[int](math.inf)
    async with out_receive, in_send:
        stream = StapledObjectStream(out_send, in_receive)
        await in_send.send(1)
        assert await stream.receive() == 1
        await stream.send(2)
        stream.send_nowait(3)
        assert [out_receive.receive_nowait() for _ in range(2)] == [2, 3]
        await stream.send_eof()
        with pytest.raises(anyio.EndOfStream):
            await out_receive.receive()
        await in_send.send(4)
        assert await stream.receive() == 4  # receiving goes on after send_eof
        await stream.aclose()
        with pytest.raises(anyio.BrokenResourceError):
            await in_send.send(5)


async def test_object_stream_send_nowait_passes_the_halfs_errors_through() -> None:
    send, receive = create_memory_object_stream[int](1)
    async with send, receive:
        stream = StapledObjectStream(send, receive)
        stream.send_nowait(1)
        with pytest.raises(anyio.WouldBlock):
            stream.send_nowait(2)
        assert receive.receive_nowait() == 1


async def test_object_stream_send_nowait_without_support_in_the_half() -> None:
    class Plain(anyio.abc.ObjectSendStream[int]):
        async def send(self, item: int) -> None:
            pass

        async def aclose(self) -> None:
            pass

    send, receive = create_memory_object_stream[int]()
    async with receive:
        stream = StapledObjectStream(Plain(), receive)
        with pytest.raises(NotImplementedError, match="send_nowait"):
            stream.send_nowait(1)
        send.close()


async def test_aclose_in_a_cancelled_scope_still_closes_both_halves() -> None:
    out_send, out_receive = create_memory_object_stream[int](1)
    in_send, in_receive = create_memory_object_stream[int](1)
    stream = StapledObjectStream(out_send, in_receive)
    with anyio.CancelScope() as scope:
        scope.cancel()
        await stream.aclose()
    with anyio.fail_after(5):
        with pytest.raises(anyio.ClosedResourceError):
            await out_send.send(1)
        with pytest.raises(anyio.ClosedResourceError):
            await in_receive.receive()
    out_receive.close()
    in_send.close()


# -- MultiListener ----------------------------------------------------------------------------


class FakeListener(anyio.abc.Listener[str]):
    """Hands each of ``connections`` to the handler, then waits to be cancelled."""

    def __init__(self, name: str, *connections: str, close_error: Exception | None = None):
        self.name = name
        self.connections = connections
        self.close_error = close_error
        self.closed = False
        self.task_groups: list[anyio.abc.TaskGroup | None] = []

    async def serve(
        self, handler: Callable[[str], Any], task_group: anyio.abc.TaskGroup | None = None
    ) -> None:
        self.task_groups.append(task_group)
        for connection in self.connections:
            await handler(connection)
        await anyio.sleep_forever()

    async def aclose(self) -> None:
        self.closed = True
        if self.close_error is not None:
            raise self.close_error

    @property
    def extra_attributes(self) -> dict[Any, Callable[[], Any]]:
        attributes: dict[Any, Callable[[], Any]] = {SocketAttribute.local_address: self.who}
        if self.name == "a":
            attributes[SocketAttribute.remote_address] = self.who
        return attributes

    def who(self) -> str:
        return self.name


async def test_every_connection_of_every_listener_reaches_the_handler() -> None:
    listener = MultiListener([FakeListener("a", "a1", "a2"), FakeListener("b", "b1")])
    received: list[str] = []
    all_in = anyio.Event()

    async def handler(connection: str) -> None:
        received.append(connection)
        if len(received) == 3:
            all_in.set()

    with anyio.fail_after(5):
        async with anyio.create_task_group() as group:
            group.start_soon(listener.serve, handler, group)
            await all_in.wait()
            group.cancel_scope.cancel()
    assert sorted(received) == ["a1", "a2", "b1"]
    parts = [part for part in listener.listeners if isinstance(part, FakeListener)]
    assert [part.task_groups for part in parts] == [[group], [group]]


async def test_serves_tcp_listeners_on_two_ports_as_one() -> None:
    first = await anyio.create_tcp_listener(local_host="127.0.0.1")
    second = await anyio.create_tcp_listener(local_host="127.0.0.1")
    ports = [part.extra(SocketAttribute.local_port) for part in (first, second)]
    listener = MultiListener([first, second])
    greeted: list[bytes] = []

    async def handler(client: anyio.abc.SocketStream) -> None:
        async with client:
            await client.send(b"hello " + await client.receive())

    with anyio.fail_after(5):
        async with anyio.create_task_group() as group:
            group.start_soon(listener.serve, handler)
            for index, port in enumerate(ports):
                async with await anyio.connect_tcp("127.0.0.1", port) as client:
                    await client.send(b"%d" % index)
                    greeted.append(await client.receive())
            group.cancel_scope.cancel()
        await listener.aclose()
    assert greeted == [b"hello 0", b"hello 1"]
    for port in ports:
        with pytest.raises(OSError, match="connection attempts failed"):
            await anyio.connect_tcp("127.0.0.1", port)


async def test_aclose_closes_every_listener_and_raises_the_first_error() -> None:
    parts = [
        FakeListener("a", close_error=OSError("a failed")),
        FakeListener("b", close_error=OSError("b failed")),
        FakeListener("c"),
    ]
    listener = MultiListener(parts)
    with pytest.raises(OSError, match="a failed"):
        await listener.aclose()
    assert all(part.closed for part in parts)
    with pytest.raises(anyio.ClosedResourceError):
        await listener.serve(lambda connection: None)


@pytest.mark.parametrize(
    "inner_cls", [MultiListener, anyio.streams.stapled.MultiListener], ids=["ours", "anyio"]
)
async def test_nested_multilisteners_are_flattened(inner_cls: Any) -> None:
    a, b, c = FakeListener("a"), FakeListener("b"), FakeListener("c")
    inner = inner_cls([a, b])
    outer = MultiListener([inner, c])
    assert outer.listeners == [a, b, c]
    assert list(inner.listeners) == []  # the inner one no longer owns (or closes) them
    await inner.aclose()
    assert not a.closed
    await outer.aclose()
    assert [a.closed, b.closed, c.closed] == [True, True, True]


async def test_attributes_merge_with_the_last_listener_winning() -> None:
    listener = MultiListener([FakeListener("a"), FakeListener("b")])
    assert listener.extra(SocketAttribute.local_address) == "b"
    assert listener.extra(SocketAttribute.remote_address) == "a"


async def test_the_classes_fit_the_protocols_and_anyios_abcs() -> None:
    send, receive = create_memory_object_stream[bytes]()
    byte_stream: ByteStream = StapledByteStream(Half("send"), Half("receive"))
    object_stream: ObjectStream[bytes] = StapledObjectStream(send, receive)
    listener: Listener[str] = MultiListener([FakeListener("a")])
    tcp: Listener[anyio.abc.SocketStream] = MultiListener(
        [await anyio.create_tcp_listener(local_host="127.0.0.1", family=socket.AF_INET)]
    )
    assert isinstance(byte_stream, anyio.abc.ByteStream)
    assert isinstance(object_stream, anyio.abc.ObjectStream)
    assert isinstance(listener, anyio.abc.Listener)
    await object_stream.aclose()
    await tcp.aclose()
