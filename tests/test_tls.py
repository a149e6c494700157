"""The reference TLS streams: :class:`streamspec.tls.TLSStream` and ``TLSListener``.

Every connection test runs over a real TCP connection on loopback and over a stapled pair of
memory object streams, on every backend. Certificates come from trustme.
"""

from __future__ import annotations

import functools
import inspect
import itertools
import logging
import math
import ssl
import tracemalloc
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from typing import Any

import anyio
import anyio.abc
import anyio.streams.tls
import pytest
import trustme
from anyio.abc import SocketAttribute
from anyio.streams.tls import TLSAttribute

import streamspec.tls
from streamspec import create_memory_object_stream
from streamspec.protocols import AnyByteStream
from streamspec.stapled import StapledObjectStream
from streamspec.tls import TLSListener, TLSStream

pytestmark = pytest.mark.anyio

IDN = "bücher.example"
IDN_ASCII = "xn--bcher-kva.example"


# -- certificates -------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def ca() -> trustme.CA:
    return trustme.CA()


def _server_context(ca: trustme.CA, *names: str, alpn: list[str] | None = None) -> ssl.SSLContext:
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert(*(names or ("localhost",))).configure_cert(context)
    if alpn:
        context.set_alpn_protocols(alpn)
    return context


@pytest.fixture(scope="module")
def server_context(ca: trustme.CA) -> ssl.SSLContext:
    return _server_context(ca)


@pytest.fixture(scope="module")
def client_context(ca: trustme.CA) -> ssl.SSLContext:
    context = ssl.create_default_context(ssl.Purpose.SERVER_AUTH)
    ca.configure_trust(context)
    return context


@pytest.fixture
def tls12_client_context(ca: trustme.CA) -> ssl.SSLContext:
    context = ssl.create_default_context(ssl.Purpose.SERVER_AUTH)
    ca.configure_trust(context)
    context.maximum_version = ssl.TLSVersion.TLSv1_2
    return context


# -- transports ---------------------------------------------------------------------------------

Transport = AnyByteStream


@asynccontextmanager
async def tcp_pair() -> AsyncIterator[tuple[Transport, Transport]]:
    """A (client, server) pair of TCP streams connected on loopback."""
    multi = await anyio.create_tcp_listener(local_host="127.0.0.1")
    async with multi:
        listener = multi.listeners[0]
        assert isinstance(listener, anyio.abc.SocketListener)
        port = listener.extra(SocketAttribute.local_port)
        accepted: list[anyio.abc.SocketStream] = []

        async def accept() -> None:
            accepted.append(await listener.accept())

        async with anyio.create_task_group() as tg:
            tg.start_soon(accept)
            client = await anyio.connect_tcp("127.0.0.1", port)
        async with client, accepted[0]:
            yield client, accepted[0]


@asynccontextmanager
async def memory_pair(buffer: float = math.inf) -> AsyncIterator[tuple[Transport, Transport]]:
    """A (client, server) pair of stapled memory object streams of bytes."""
    to_server, from_client = create_memory_object_stream[bytes](buffer)
    to_client, from_server = create_memory_object_stream[bytes](buffer)
    client = StapledObjectStream(to_server, from_server)
    server = StapledObjectStream(to_client, from_client)
    async with client, server:
        yield client, server


@pytest.fixture(params=["tcp", "memory"])
def transport_kind(request: pytest.FixtureRequest) -> str:
    return str(request.param)


def transports(kind: str) -> Any:
    return tcp_pair() if kind == "tcp" else memory_pair()


async def handshake(
    client_transport: Transport,
    server_transport: Transport,
    server_context: ssl.SSLContext,
    client_context: ssl.SSLContext,
    *,
    hostname: str = "localhost",
    client_compatible: bool = True,
    server_compatible: bool = True,
) -> tuple[TLSStream, TLSStream]:
    """Both ends' handshakes at once; returns (client, server)."""
    result: dict[str, TLSStream] = {}

    async def server() -> None:
        result["server"] = await TLSStream.wrap(
            server_transport,
            server_side=True,
            ssl_context=server_context,
            standard_compatible=server_compatible,
        )

    with anyio.fail_after(5):
        async with anyio.create_task_group() as tg:
            tg.start_soon(server)
            result["client"] = await TLSStream.wrap(
                client_transport,
                hostname=hostname,
                ssl_context=client_context,
                standard_compatible=client_compatible,
            )
    return result["client"], result["server"]


async def failed_handshake(
    server_context: ssl.SSLContext, client_context: ssl.SSLContext, *, hostname: str
) -> tuple[BaseException, BaseException]:
    """Both ends' handshakes at once, each expected to fail; returns (client's, server's)
    exception."""
    errors: dict[str, BaseException] = {}

    async def wrap(side: str, transport: Transport, **options: Any) -> None:
        try:
            await TLSStream.wrap(transport, **options)
        except Exception as exc:
            errors[side] = exc
            await transport.aclose()  # so that the other side's handshake ends too

    async with memory_pair() as (client_transport, server_transport):
        with anyio.fail_after(5):
            async with anyio.create_task_group() as tg:
                tg.start_soon(
                    functools.partial(
                        wrap,
                        "server",
                        server_transport,
                        server_side=True,
                        ssl_context=server_context,
                    )
                )
                await wrap(
                    "client", client_transport, hostname=hostname, ssl_context=client_context
                )
    return errors["client"], errors["server"]


@asynccontextmanager
async def tls_pair(
    kind: str, server_context: ssl.SSLContext, client_context: ssl.SSLContext, **options: Any
) -> AsyncIterator[tuple[TLSStream, TLSStream]]:
    async with transports(kind) as (client_transport, server_transport):
        client, server = await handshake(
            client_transport, server_transport, server_context, client_context, **options
        )
        try:
            yield client, server
        finally:
            await anyio.aclose_forcefully(client)
            await anyio.aclose_forcefully(server)


@asynccontextmanager
async def narrow_pair(
    server_context: ssl.SSLContext, client_context: ssl.SSLContext
) -> AsyncIterator[tuple[TLSStream, TLSStream]]:
    """A (client, server) pair over transports that hold one chunk each way, so that a big
    send blocks while the peer is not reading."""
    async with memory_pair(buffer=1) as (client_transport, server_transport):
        yield await handshake(client_transport, server_transport, server_context, client_context)


async def receive_all(stream: TLSStream) -> bytes:
    """Everything until the end of the stream."""
    received = bytearray()
    while True:
        try:
            received += await stream.receive()
        except anyio.EndOfStream:
            return bytes(received)


async def receive_exactly(stream: TLSStream, size: int) -> bytes:
    received = bytearray()
    while len(received) < size:
        received += await stream.receive()
    return bytes(received)


def cause_chain(exc: BaseException) -> Iterator[BaseException]:
    seen: BaseException | None = exc
    while seen is not None:
        yield seen
        seen = seen.__cause__


# -- data ---------------------------------------------------------------------------------------


async def test_data_crosses_both_ways_and_close_notify_ends_it(
    transport_kind: str, server_context: ssl.SSLContext, client_context: ssl.SSLContext
) -> None:
    request = bytes(range(256)) * 4096  # 1 MiB: many records, many transport chunks
    response = b"response" * 1000
    async with tls_pair(transport_kind, server_context, client_context) as (client, server):
        with anyio.fail_after(10):
            async with anyio.create_task_group() as tg:
                tg.start_soon(client.send, request)
                assert await receive_exactly(server, len(request)) == request
            await server.send(response)
            assert await receive_exactly(client, len(response)) == response
            await client.aclose()
            with pytest.raises(anyio.EndOfStream):
                await server.receive()
            with pytest.raises(anyio.ClosedResourceError):
                await client.send(b"x")
            with pytest.raises(anyio.ClosedResourceError):
                await client.receive()


async def test_both_ends_send_and_receive_at_once(
    transport_kind: str, server_context: ssl.SSLContext, client_context: ssl.SSLContext
) -> None:
    # Each end sends more than a socket buffers while the other does the same: this only
    # finishes if receiving goes on while a send waits for the transport.
    size = 4 * 1024 * 1024
    upstream, downstream = bytes(range(251)) * (size // 251), bytes(range(241)) * (size // 241)
    received: dict[str, bytes] = {}

    async def talk(name: str, stream: TLSStream, payload: bytes, expected: int) -> None:
        async with anyio.create_task_group() as tg:
            tg.start_soon(stream.send, payload)
            received[name] = await receive_exactly(stream, expected)

    async with tls_pair(transport_kind, server_context, client_context) as (client, server):
        with anyio.fail_after(30):
            async with anyio.create_task_group() as tg:
                tg.start_soon(talk, "client", client, upstream, len(downstream))
                tg.start_soon(talk, "server", server, downstream, len(upstream))
    assert received["server"] == upstream
    assert received["client"] == downstream


class _Trickle(anyio.abc.ObjectStream[bytes]):
    """A transport that delivers what is sent to it a few bytes at a time, so that TLS records
    arrive in pieces (a record header split from its body, a record split anywhere)."""

    def __init__(self, inner: StapledObjectStream[bytes], sizes: tuple[int, ...]) -> None:
        self._inner = inner
        self._sizes = itertools.cycle(sizes)
        self._pending = b""

    async def receive(self) -> bytes:
        if not self._pending:
            self._pending = await self._inner.receive()
        size = next(self._sizes)
        piece, self._pending = self._pending[:size], self._pending[size:]
        return piece

    async def send(self, item: bytes) -> None:
        await self._inner.send(item)

    async def send_eof(self) -> None:
        await self._inner.send_eof()

    async def aclose(self) -> None:
        await self._inner.aclose()


async def test_records_that_arrive_in_pieces(
    server_context: ssl.SSLContext, client_context: ssl.SSLContext
) -> None:
    async with memory_pair() as (client_inner, server_inner):
        assert isinstance(client_inner, StapledObjectStream)
        assert isinstance(server_inner, StapledObjectStream)
        client_transport = _Trickle(client_inner, (1, 4, 2, 7, 5, 3))
        server_transport = _Trickle(server_inner, (3, 1, 6, 2))
        client, server = await handshake(
            client_transport, server_transport, server_context, client_context
        )
        request, response = b"q" * 20000, b"r" * 30000
        with anyio.fail_after(20):
            await client.send(request)
            assert await receive_exactly(server, len(request)) == request
            await client.send_eof()
            with pytest.raises(anyio.EndOfStream):
                await server.receive()
            await server.send(response)
            await server.aclose()
            assert await receive_all(client) == response
        await client.aclose()


async def test_receive_respects_max_bytes_and_loses_nothing(
    server_context: ssl.SSLContext, client_context: ssl.SSLContext
) -> None:
    async with tls_pair("memory", server_context, client_context) as (client, server):
        with anyio.fail_after(5):
            await client.send(b"abcdefghij")
            pieces = [await server.receive(3) for _ in range(3)]
            pieces.append(await server.receive(100))
        assert pieces == [b"abc", b"def", b"ghi", b"j"]
        with pytest.raises(ValueError, match="max_bytes"):
            await server.receive(0)
        with pytest.raises(TypeError, match="max_bytes"):
            await server.receive("3")  # type: ignore[arg-type]
        with pytest.raises(TypeError, match="item must be bytes, not str"):
            await client.send("text")  # type: ignore[arg-type]
        await client.send(b"still usable")  # the failed send left the stream intact
        assert await server.receive() == b"still usable"


async def test_concurrent_receives_are_refused(
    server_context: ssl.SSLContext, client_context: ssl.SSLContext
) -> None:
    async with tls_pair("memory", server_context, client_context) as (client, server):
        with anyio.fail_after(5):
            async with anyio.create_task_group() as tg:
                tg.start_soon(server.receive)
                await anyio.wait_all_tasks_blocked()
                with pytest.raises(anyio.BusyResourceError):
                    await server.receive()
                await client.send(b"wake")


async def test_closing_wakes_a_blocked_receive(
    transport_kind: str, server_context: ssl.SSLContext, client_context: ssl.SSLContext
) -> None:
    async with tls_pair(transport_kind, server_context, client_context) as (client, server):
        with anyio.fail_after(5):
            async with anyio.create_task_group() as tg:

                async def blocked_receive() -> None:
                    with pytest.raises(anyio.ClosedResourceError):
                        await client.receive()

                tg.start_soon(blocked_receive)
                await anyio.wait_all_tasks_blocked()
                await client.aclose()
            with pytest.raises(anyio.EndOfStream):  # and the peer got a close_notify
                await server.receive()


async def test_closing_under_a_blocked_send_cuts_the_stream_visibly(
    server_context: ssl.SSLContext, client_context: ssl.SSLContext
) -> None:
    async with narrow_pair(server_context, client_context) as (client, server):
        with anyio.fail_after(5):
            async with anyio.create_task_group() as tg:

                async def blocked_send() -> None:
                    with pytest.raises(anyio.ClosedResourceError):
                        await client.send(bytes(4 * 1024 * 1024))

                tg.start_soon(blocked_send)
                await anyio.wait_all_tasks_blocked()
                await client.aclose()
            # No close_notify after half a message: the server must not see a clean end.
            with pytest.raises(anyio.BrokenResourceError):
                await receive_all(server)
        await server.aclose()


async def test_a_second_send_is_refused_and_a_send_cancelled_midway_breaks_the_stream(
    server_context: ssl.SSLContext, client_context: ssl.SSLContext
) -> None:
    async with narrow_pair(server_context, client_context) as (client, server):
        with anyio.fail_after(5):
            async with anyio.create_task_group() as tg:
                tg.start_soon(client.send, bytes(4 * 1024 * 1024))
                await anyio.wait_all_tasks_blocked()
                with pytest.raises(anyio.BusyResourceError):
                    await client.send(b"second")
                with pytest.raises(anyio.BusyResourceError):
                    await client.send_eof()
                tg.cancel_scope.cancel()  # part of the first send's records went out
            with pytest.raises(anyio.BrokenResourceError):
                await client.send(b"after")
            await client.aclose()  # no close_notify after half a message
            with pytest.raises(anyio.BrokenResourceError):
                await receive_all(server)
        await server.aclose()


async def test_a_send_cancelled_before_it_starts_leaves_the_stream_intact(
    server_context: ssl.SSLContext, client_context: ssl.SSLContext
) -> None:
    async with tls_pair("memory", server_context, client_context) as (client, server):
        with anyio.CancelScope() as scope:
            scope.cancel()
            await client.send(b"never sent")
        assert scope.cancelled_caught
        with anyio.fail_after(5):
            await client.send(b"sent")
            assert await server.receive() == b"sent"


async def test_receive_is_a_checkpoint_even_with_data_at_hand(
    server_context: ssl.SSLContext, client_context: ssl.SSLContext
) -> None:
    async with tls_pair("memory", server_context, client_context) as (client, server):
        with anyio.fail_after(5):
            await client.send(b"0123456789" * 5000)  # several records
            assert await server.receive(10) == b"0123456789"  # the rest is decrypted or near
        with anyio.CancelScope() as scope:
            scope.cancel()
            await server.receive(10)
        assert scope.cancelled_caught
        with anyio.fail_after(5):  # and nothing was lost
            assert await receive_exactly(server, 49990) == b"0123456789" * 4999


async def test_receive_with_data_at_hand_lets_other_tasks_run(
    server_context: ssl.SSLContext, client_context: ssl.SSLContext
) -> None:
    async with tls_pair("memory", server_context, client_context) as (client, server):
        with anyio.fail_after(5):
            await client.send(b"0123456789" * 5000)  # several records
            assert await server.receive(10) == b"0123456789"
            ran: list[str] = []

            async def other_task() -> None:
                ran.append("other task")

            async with anyio.create_task_group() as tg:
                tg.start_soon(other_task)
                # Served without waiting for the transport, each is still a schedule point.
                # (Trio may run this task first after the first one, but not after both.)
                assert await server.receive(10) == b"0123456789"
                assert await server.receive(10) == b"0123456789"
                assert ran == ["other task"]
            assert await receive_exactly(server, 49970) == b"0123456789" * 4997


async def test_a_huge_send_holds_little_ciphertext(
    server_context: ssl.SSLContext, client_context: ssl.SSLContext
) -> None:
    size = 32 * 1024 * 1024
    payload = bytes(size)
    # A transport that holds two chunks: the sender waits until the receiver takes them.
    async with memory_pair(buffer=2) as (client_transport, server_transport):
        client, server = await handshake(
            client_transport, server_transport, server_context, client_context
        )
        received = 0

        async def drain() -> None:
            nonlocal received
            while received < size:
                received += len(await server.receive())

        tracemalloc.start()
        try:
            with anyio.fail_after(60):
                async with anyio.create_task_group() as tg:
                    tg.start_soon(drain)
                    await client.send(payload)
            _, peak = tracemalloc.get_traced_memory()
        finally:
            tracemalloc.stop()
        assert received == size
        assert peak < 8 * 1024 * 1024, f"peak traced memory {peak} bytes"
        await client.aclose()
        await server.aclose()


# -- attributes ---------------------------------------------------------------------------------


async def test_every_tls_attribute_and_the_transports_pass_through(
    ca: trustme.CA, client_context: ssl.SSLContext
) -> None:
    server_context = _server_context(ca, "localhost", alpn=["h2", "http/1.1"])
    client_context = ssl.create_default_context(ssl.Purpose.SERVER_AUTH)
    ca.configure_trust(client_context)
    client_context.set_alpn_protocols(["http/1.1"])
    async with tls_pair("tcp", server_context, client_context) as (client, server):
        for stream, side in ((client, False), (server, True)):
            assert stream.extra(TLSAttribute.server_side) is side
            assert stream.extra(TLSAttribute.alpn_protocol) == "http/1.1"
            assert stream.extra(TLSAttribute.tls_version) == "TLSv1.3"
            name, version, bits = stream.extra(TLSAttribute.cipher)
            assert (version, name[:4]) == ("TLSv1.3", "TLS_")
            assert bits >= 128
            assert stream.extra(TLSAttribute.standard_compatible) is True
            assert isinstance(stream.extra(TLSAttribute.ssl_object), ssl.SSLObject)
            assert stream.extra(SocketAttribute.remote_address)[0] == "127.0.0.1"
            assert stream.extra(SocketAttribute.local_address)[0] == "127.0.0.1"
        # tls-unique is the first Finished message of the handshake: the same on both ends.
        binding = client.extra(TLSAttribute.channel_binding_tls_unique)
        assert len(binding) >= 12
        assert server.extra(TLSAttribute.channel_binding_tls_unique) == binding
        peer = client.extra(TLSAttribute.peer_certificate)
        assert peer is not None
        assert ("DNS", "localhost") in peer["subjectAltName"]
        binary = client.extra(TLSAttribute.peer_certificate_binary)
        assert isinstance(binary, bytes)
        assert binary.startswith(b"\x30")  # a DER sequence
        assert server.extra(TLSAttribute.peer_certificate) is None  # no client certificate
        assert server.extra(TLSAttribute.peer_certificate_binary) is None
        shared = server.extra(TLSAttribute.shared_ciphers)
        assert shared
        assert all(len(entry) == 3 for entry in shared)
        assert client.extra(TLSAttribute.shared_ciphers) is None
        assert client.extra(SocketAttribute.remote_port) == server.extra(SocketAttribute.local_port)


async def test_a_client_certificate_reaches_the_server(ca: trustme.CA) -> None:
    server_context = _server_context(ca)
    server_context.verify_mode = ssl.CERT_REQUIRED
    ca.configure_trust(server_context)
    client_context = ssl.create_default_context(ssl.Purpose.SERVER_AUTH)
    ca.configure_trust(client_context)
    ca.issue_cert("client@example.org").configure_cert(client_context)
    async with tls_pair("memory", server_context, client_context) as (client, server):
        await client.send(b"who am I")
        assert await server.receive() == b"who am I"  # TLS 1.3 checks the client's here
        peer = server.extra(TLSAttribute.peer_certificate)
        assert peer is not None
        assert ("email", "client@example.org") in peer["subjectAltName"]
        assert isinstance(server.extra(TLSAttribute.peer_certificate_binary), bytes)


async def test_a_missing_client_certificate_breaks_the_client_after_its_handshake(
    ca: trustme.CA, client_context: ssl.SSLContext
) -> None:
    # In TLS 1.3 the client finishes its handshake before the server judges it; the server's
    # alert reaches the client at its next receive(), as a broken stream.
    server_context = _server_context(ca)
    server_context.verify_mode = ssl.CERT_REQUIRED
    ca.configure_trust(server_context)
    server_errors: list[Exception] = []

    async def serve(transport: Transport) -> None:
        try:
            await TLSStream.wrap(transport, server_side=True, ssl_context=server_context)
        except ssl.SSLError as exc:
            server_errors.append(exc)

    async with memory_pair() as (client_transport, server_transport):
        with anyio.fail_after(5):
            async with anyio.create_task_group() as tg:
                tg.start_soon(serve, server_transport)
                client = await TLSStream.wrap(
                    client_transport, hostname="localhost", ssl_context=client_context
                )
                with pytest.raises(anyio.BrokenResourceError) as info:
                    await client.receive()
        assert isinstance(info.value.__cause__, ssl.SSLError)
        assert "CERTIFICATE_REQUIRED" in str(info.value.__cause__)
        assert len(server_errors) == 1
        await client.aclose()


async def test_tls12_channel_binding_and_no_alpn(
    server_context: ssl.SSLContext, tls12_client_context: ssl.SSLContext
) -> None:
    async with tls_pair("memory", server_context, tls12_client_context) as (client, server):
        assert client.extra(TLSAttribute.tls_version) == "TLSv1.2"
        assert client.extra(TLSAttribute.alpn_protocol) is None
        binding = client.extra(TLSAttribute.channel_binding_tls_unique)
        assert len(binding) == 12
        assert server.extra(TLSAttribute.channel_binding_tls_unique) == binding


def test_the_classes_are_anyios_kind_with_anyios_signatures() -> None:
    assert issubclass(TLSStream, anyio.abc.ByteStream)
    assert issubclass(TLSListener, anyio.abc.Listener)
    assert streamspec.tls.TLSAttribute is TLSAttribute

    def shape(function: Any) -> list[tuple[str, Any, Any]]:
        return [
            (parameter.name, parameter.kind, parameter.default)
            for parameter in inspect.signature(function).parameters.values()
        ]

    for ours, theirs in (
        (TLSStream, anyio.streams.tls.TLSStream),
        (TLSListener, anyio.streams.tls.TLSListener),
    ):
        public = {name for name in dir(theirs) if not name.startswith("_")}
        assert public <= set(dir(ours))
        for name in public:
            if callable(getattr(theirs, name)):
                assert shape(getattr(ours, name)) == shape(getattr(theirs, name)), name
    assert shape(TLSListener) == shape(anyio.streams.tls.TLSListener)
    assert isinstance(inspect.getattr_static(TLSListener, "handle_handshake_error"), staticmethod)


# -- verification -------------------------------------------------------------------------------


@pytest.mark.parametrize("hostname", [IDN, IDN_ASCII])
async def test_an_internationalised_hostname_verifies(
    ca: trustme.CA, client_context: ssl.SSLContext, hostname: str
) -> None:
    server_context = _server_context(ca, IDN)
    async with tls_pair("memory", server_context, client_context, hostname=hostname) as (
        client,
        server,
    ):
        await client.send(b"hi")
        assert await server.receive() == b"hi"
        peer = client.extra(TLSAttribute.peer_certificate)
        assert peer is not None
        assert ("DNS", IDN_ASCII) in peer["subjectAltName"]


@pytest.mark.parametrize(
    ("certified", "hostname"),
    [("localhost", "example.org"), (IDN, "bucher.example"), ("straße.example", "strasse.example")],
)
async def test_a_certificate_for_another_host_is_refused(
    ca: trustme.CA, client_context: ssl.SSLContext, certified: str, hostname: str
) -> None:
    server_context = _server_context(ca, certified)
    client_error, server_error = await failed_handshake(
        server_context, client_context, hostname=hostname
    )
    assert isinstance(client_error, ssl.SSLCertVerificationError)
    assert "mismatch" in str(client_error)
    # The client's alert reached the server before its transport closed.
    assert isinstance(server_error, ssl.SSLError)
    assert "BAD_CERTIFICATE" in str(server_error)


async def test_an_untrusted_certificate_is_refused(server_context: ssl.SSLContext) -> None:
    stranger = ssl.create_default_context(ssl.Purpose.SERVER_AUTH)
    trustme.CA().configure_trust(stranger)
    client_error, server_error = await failed_handshake(
        server_context, stranger, hostname="localhost"
    )
    assert isinstance(client_error, ssl.SSLCertVerificationError)
    assert "unable to get local issuer" in str(client_error)
    assert isinstance(server_error, ssl.SSLError)
    assert "UNKNOWN_CA" in str(server_error)


async def test_wrap_checks_its_arguments(client_context: ssl.SSLContext) -> None:
    async with memory_pair() as (client_transport, _):
        with pytest.raises(TypeError, match="ssl_context"):
            await TLSStream.wrap(client_transport, hostname="x", ssl_context="ctx")  # type: ignore[arg-type]
        with pytest.raises(ValueError, match="hostname"):
            await TLSStream.wrap(client_transport, server_side=True, hostname="localhost")
        with pytest.raises(TypeError, match="hostname must be a str, not int"):
            await TLSStream.wrap(client_transport, hostname=5, ssl_context=client_context)  # type: ignore[arg-type]
        with pytest.raises(ValueError, match="hostname"):
            await TLSStream.wrap(
                client_transport, hostname="bad..\u00fc", ssl_context=client_context
            )
        with pytest.raises(ValueError, match="hostname must not contain NUL"):
            await TLSStream.wrap(
                client_transport, hostname="localhost\0.evil", ssl_context=client_context
            )
        with pytest.raises(TypeError, match="server_side must be a bool, not str"):
            await TLSStream.wrap(client_transport, server_side="no", hostname="localhost")  # type: ignore[arg-type]
        with pytest.raises(TypeError, match="standard_compatible must be a bool, not int"):
            await TLSStream.wrap(client_transport, hostname="x", standard_compatible=0)  # type: ignore[arg-type]
        with pytest.raises(TypeError, match="transport_stream must be a stream with send"):
            await TLSStream.wrap(b"not a stream", hostname="localhost")  # type: ignore[arg-type]
        with pytest.raises(TypeError, match=r"transport_stream must be a stream .*, not None"):
            await TLSStream.wrap(None, server_side=True)  # type: ignore[arg-type]


@pytest.mark.parametrize("hostname", [None, ""])
async def test_a_client_without_a_hostname_is_refused_unless_its_context_says_so(
    hostname: str | None, server_context: ssl.SSLContext, ca: trustme.CA
) -> None:
    async with memory_pair() as (client_transport, server_transport):
        for context in (None, ssl.create_default_context()):
            with pytest.raises(ValueError, match="hostname is required on the client side"):
                await TLSStream.wrap(
                    client_transport, server_side=False, hostname=hostname, ssl_context=context
                )
        # A caller who turns the name check off on purpose gets what it asked for: the chain
        # is verified, the name is not.
        blind = ssl.create_default_context()
        blind.check_hostname = False
        ca.configure_trust(blind)
        with anyio.fail_after(5):
            async with anyio.create_task_group() as tg:
                tg.start_soon(
                    functools.partial(TLSStream.wrap, server_transport, ssl_context=server_context)
                )
                client = await TLSStream.wrap(
                    client_transport, server_side=False, hostname=hostname, ssl_context=blind
                )
        async with client:
            # The refused wraps sent nothing: this handshake found fresh transports.
            assert client.extra(TLSAttribute.server_side) is False
            assert client.extra(TLSAttribute.tls_version) == "TLSv1.3"


async def test_receive_refuses_a_bool_as_max_bytes(
    server_context: ssl.SSLContext, client_context: ssl.SSLContext
) -> None:
    async with tls_pair("memory", server_context, client_context) as (client, server):
        await server.send(b"kept")
        for bad in (True, False):
            with pytest.raises(TypeError, match="max_bytes must be an int, not bool"):
                await client.receive(bad)
        with pytest.raises(TypeError, match="max_bytes"):
            await client.receive("5")  # type: ignore[arg-type]
        assert await client.receive() == b"kept"


# -- endings ------------------------------------------------------------------------------------


@pytest.mark.parametrize("standard_compatible", [True, False])
async def test_ragged_eof(
    transport_kind: str,
    server_context: ssl.SSLContext,
    client_context: ssl.SSLContext,
    standard_compatible: bool,
) -> None:
    async with tls_pair(
        transport_kind, server_context, client_context, client_compatible=standard_compatible
    ) as (client, server):
        await server.send(b"last words")
        await server.transport_stream.aclose()  # cut the connection: no close_notify
        with anyio.fail_after(5):
            assert await client.receive() == b"last words"
            if standard_compatible:
                with pytest.raises(anyio.BrokenResourceError) as info:
                    await client.receive()
                assert isinstance(info.value.__cause__, ssl.SSLError)
                with pytest.raises(anyio.BrokenResourceError):
                    await client.receive()  # and it stays broken
            else:
                with pytest.raises(anyio.EndOfStream):
                    await client.receive()


@pytest.mark.parametrize("standard_compatible", [True, False])
async def test_ragged_eof_is_told_apart_even_when_openssl_hides_it(
    ca: trustme.CA, server_context: ssl.SSLContext, standard_compatible: bool
) -> None:
    # With OP_IGNORE_UNEXPECTED_EOF, OpenSSL reports a cut connection as if the peer had sent
    # close_notify. The stream still tells a cut from a clean close.
    client_context = ssl.create_default_context(ssl.Purpose.SERVER_AUTH)
    ca.configure_trust(client_context)
    client_context.options |= ssl.OP_IGNORE_UNEXPECTED_EOF
    options = {"client_compatible": standard_compatible}
    async with tls_pair("memory", server_context, client_context, **options) as (client, server):
        await server.send(b"cut")
        await server.transport_stream.aclose()
        with anyio.fail_after(5):
            assert await client.receive() == b"cut"
            expected = anyio.BrokenResourceError if standard_compatible else anyio.EndOfStream
            with pytest.raises(expected):
                await client.receive()
    async with tls_pair("memory", server_context, client_context, **options) as (client, server):
        await server.send(b"clean")
        await server.aclose()  # close_notify, then the transport's end
        with anyio.fail_after(5):
            assert await receive_all(client) == b"clean"


async def test_aclose_does_not_wait_for_the_peers_close_notify(
    transport_kind: str, server_context: ssl.SSLContext, client_context: ssl.SSLContext
) -> None:
    async with tls_pair(transport_kind, server_context, client_context) as (client, server):
        with anyio.fail_after(5):
            await client.aclose()  # the server is not receiving, so it cannot answer
            assert await receive_all(server) == b""
            await server.aclose()  # its close_notify cannot be delivered: not an error


async def test_aclose_does_not_hang_on_a_transport_that_takes_nothing(
    server_context: ssl.SSLContext, client_context: ssl.SSLContext
) -> None:
    # A transport that holds one chunk each way; the server reads nothing, so once a record
    # fills the client's direction, our close_notify cannot leave. aclose() gives up on it
    # and closes all the same.
    async with narrow_pair(server_context, client_context) as (client, server):
        with anyio.fail_after(5):
            await client.send(b"fills the transport")
            await client.aclose()
        with pytest.raises(anyio.ClosedResourceError):
            await client.send(b"x")
        with anyio.fail_after(5):  # the server gets the data, then a cut: no close_notify
            assert await server.receive() == b"fills the transport"
            with pytest.raises(anyio.BrokenResourceError):
                await server.receive()
        await server.aclose()


async def test_aclose_with_unread_data_still_ends_the_stream_cleanly(
    transport_kind: str, server_context: ssl.SSLContext, client_context: ssl.SSLContext
) -> None:
    async with tls_pair(transport_kind, server_context, client_context) as (client, server):
        with anyio.fail_after(5):
            await server.send(b"never read")
            assert await client.receive(1) == b"n"  # the rest waits, decrypted or not
            await server.send(b"nor this")
            await anyio.wait_all_tasks_blocked()
            await client.aclose()
            with pytest.raises(anyio.EndOfStream):  # a close_notify, not a cut
                await server.receive()


async def test_a_handshake_cut_short_is_broken_even_when_lenient(
    server_context: ssl.SSLContext,
) -> None:
    async with memory_pair() as (client_transport, server_transport):
        await client_transport.aclose()
        with pytest.raises(anyio.BrokenResourceError):
            await TLSStream.wrap(
                server_transport,
                server_side=True,
                ssl_context=server_context,
                standard_compatible=False,
            )


async def test_garbage_in_the_handshake_is_an_ssl_error(server_context: ssl.SSLContext) -> None:
    async with memory_pair() as (client_transport, server_transport):
        await client_transport.send(b"GET / HTTP/1.1\r\n\r\n")
        with pytest.raises(ssl.SSLError):
            await TLSStream.wrap(server_transport, server_side=True, ssl_context=server_context)


async def test_a_corrupted_record_is_broken_resource_with_the_ssl_error(
    transport_kind: str, server_context: ssl.SSLContext, client_context: ssl.SSLContext
) -> None:
    async with tls_pair(transport_kind, server_context, client_context) as (client, server):
        # An application-data record whose contents cannot authenticate.
        await client.transport_stream.send(b"\x17\x03\x03\x00\x20" + bytes(32))
        with anyio.fail_after(5), pytest.raises(anyio.BrokenResourceError) as info:
            await server.receive()
        assert isinstance(info.value.__cause__, ssl.SSLError)
        with pytest.raises(anyio.BrokenResourceError):
            await server.send(b"after")


def _cause_chain(exc: BaseException) -> list[BaseException]:
    """``exc`` and its causes and contexts, failing on a loop (which would make any code that
    walks the chain, a logger's say, run forever)."""
    chain: list[BaseException] = []
    seen: BaseException | None = exc
    while seen is not None:
        assert all(seen is not earlier for earlier in chain), f"the chain loops: {chain!r}"
        chain.append(seen)
        seen = seen.__cause__ or seen.__context__
    return chain


@pytest.mark.parametrize("operation", ["send", "send_eof"])
async def test_a_transport_error_passes_through_with_a_chain_that_ends(
    operation: str, server_context: ssl.SSLContext, client_context: ssl.SSLContext
) -> None:
    async with tls_pair("memory", server_context, client_context) as (client, server):
        await server.transport_stream.aclose()  # the client's sends now fail in the transport
        call = (
            client.send_eof if operation == "send_eof" else functools.partial(client.send, b"void")
        )
        with anyio.fail_after(5), pytest.raises(anyio.BrokenResourceError) as info:
            await call()
        _cause_chain(info.value)
        with pytest.raises(anyio.BrokenResourceError) as again:
            await client.send(b"again")
        _cause_chain(again.value)


async def test_unwrap_hands_back_the_transport(
    transport_kind: str, server_context: ssl.SSLContext, client_context: ssl.SSLContext
) -> None:
    async with tls_pair(transport_kind, server_context, client_context) as (client, server):
        await client.send(b"secret")
        assert await server.receive() == b"secret"
        results: dict[str, tuple[Transport, bytes]] = {}

        async def unwrap(name: str, stream: TLSStream) -> None:
            results[name] = await stream.unwrap()

        with anyio.fail_after(5):
            async with anyio.create_task_group() as tg:
                tg.start_soon(unwrap, "client", client)
                tg.start_soon(unwrap, "server", server)
            (client_plain, client_rest), (server_plain, server_rest) = (
                results["client"],
                results["server"],
            )
            assert client_plain is client.transport_stream
            assert server_plain is server.transport_stream
            assert client_rest == server_rest == b""
            await client_plain.send(b"plain")
            assert await server_plain.receive() == b"plain"
        with pytest.raises(anyio.ClosedResourceError):
            await client.send(b"x")
        await client.aclose()  # leaves the transport, which is the caller's now, open
        await server_plain.send(b"still open")
        assert await client_plain.receive() == b"still open"


# -- send_eof -----------------------------------------------------------------------------------


async def test_send_eof_half_closes_a_tls13_session(
    transport_kind: str, server_context: ssl.SSLContext, client_context: ssl.SSLContext
) -> None:
    async with tls_pair(transport_kind, server_context, client_context) as (client, server):
        with anyio.fail_after(5):
            await client.send(b"request")
            await client.send_eof()
            await client.send_eof()  # a second call does nothing
            with pytest.raises(anyio.ClosedResourceError):
                await client.send(b"more")
            assert await receive_all(server) == b"request"
            # The server goes on sending after it saw the client's close_notify.
            await server.send(b"response 1, ")
            await server.send(b"response 2")
            await server.aclose()
            assert await receive_all(client) == b"response 1, response 2"


async def test_send_eof_keeps_data_that_was_already_in_flight(
    server_context: ssl.SSLContext, client_context: ssl.SSLContext
) -> None:
    async with tls_pair("memory", server_context, client_context) as (client, server):
        with anyio.fail_after(5):
            await server.send(b"sent before the server saw close_notify")
            await anyio.wait_all_tasks_blocked()
            # Pull the record in without consuming its plaintext: receive 1 byte.
            assert await client.receive(1) == b"s"
            await server.send(b"; and another record")
            await client.send_eof()  # must not trip over the data already in flight
            await server.aclose()
            assert await receive_all(client) == (
                b"ent before the server saw close_notify; and another record"
            )


async def test_send_eof_is_refused_before_tls13(
    server_context: ssl.SSLContext, tls12_client_context: ssl.SSLContext
) -> None:
    async with tls_pair("memory", server_context, tls12_client_context) as (client, server):
        with pytest.raises(NotImplementedError, match=r"TLS 1\.3"):
            await client.send_eof()
        await client.send(b"still usable")
        assert await server.receive() == b"still usable"


# -- the listener -------------------------------------------------------------------------------


class _RecordingListener(TLSListener):
    """Counts handshake failures, and lets a test wait for them."""

    failures: list[BaseException]
    failed: anyio.Event

    @classmethod
    async def handle_handshake_error(
        cls, exc: BaseException, stream: anyio.abc.AnyByteStream
    ) -> None:
        if isinstance(exc, Exception):
            cls.failures.append(exc)
            if len(cls.failures) == 3:
                cls.failed.set()
        await TLSListener.handle_handshake_error(exc, stream)


async def test_the_listener_survives_bad_clients_and_logs_each_once(
    server_context: ssl.SSLContext,
    client_context: ssl.SSLContext,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO, logger="streamspec.tls")
    listener_class = _RecordingListener
    listener_class.failures = []
    listener_class.failed = anyio.Event()
    tcp = await anyio.create_tcp_listener(local_host="127.0.0.1")
    port = tcp.extra(SocketAttribute.local_port)
    listener = listener_class(tcp, server_context, handshake_timeout=1)
    served: list[bytes] = []

    async def handle(stream: TLSStream) -> None:
        async with stream:
            served.append(await stream.receive())
            await stream.send(b"welcome")

    with anyio.fail_after(10):
        async with listener, anyio.create_task_group() as tg:
            tg.start_soon(listener.serve, handle)
            garbage = await anyio.connect_tcp("127.0.0.1", port)
            await garbage.send(b"GET / HTTP/1.0\r\n\r\n")
            staller = await anyio.connect_tcp("127.0.0.1", port)  # says nothing at all
            vanisher = await anyio.connect_tcp("127.0.0.1", port)
            await vanisher.send(b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03")  # half a hello
            await vanisher.aclose()
            await listener_class.failed.wait()
            await garbage.aclose()
            await staller.aclose()
            # The listener still serves a well-behaved client.
            client = await anyio.connect_tcp("127.0.0.1", port, tls=True,
                                             ssl_context=client_context,
                                             tls_hostname="localhost")  # fmt: skip
            async with client:
                await client.send(b"hello")
                assert await client.receive() == b"welcome"
            tg.cancel_scope.cancel()
    assert served == [b"hello"]
    failures = listener_class.failures
    assert len(failures) == 3
    assert sum(isinstance(exc, ssl.SSLError) for exc in failures) == 1  # the garbage
    assert sum(isinstance(exc, TimeoutError) for exc in failures) == 1  # the staller
    assert sum(isinstance(exc, anyio.BrokenResourceError) for exc in failures) == 1  # vanished
    records = [record for record in caplog.records if record.name == "streamspec.tls"]
    assert len(records) == 3
    # Only the garbage is worth a WARNING; the staller and the vanished client are INFO.
    assert sorted(record.levelno for record in records) == [logging.INFO] * 2 + [logging.WARNING]
    assert all("('127.0.0.1', " in record.getMessage() for record in records)
    assert all(record.exc_info is None for record in records)  # tracebacks at DEBUG only


async def test_an_overriding_hook_replaces_the_logging(
    server_context: ssl.SSLContext, caplog: pytest.LogCaptureFixture
) -> None:
    seen: list[BaseException] = []
    done = anyio.Event()

    class Quiet(TLSListener):
        @staticmethod
        async def handle_handshake_error(exc: BaseException, stream: Transport) -> None:
            await stream.aclose()
            seen.append(exc)
            done.set()

    caplog.set_level(logging.DEBUG)
    tcp = await anyio.create_tcp_listener(local_host="127.0.0.1")
    port = tcp.extra(SocketAttribute.local_port)
    with anyio.fail_after(5):
        listener = Quiet(tcp, server_context)
        async with listener, anyio.create_task_group() as tg:
            tg.start_soon(listener.serve, TLSStream.aclose)
            async with await anyio.connect_tcp("127.0.0.1", port) as garbage:
                await garbage.send(b"\x00" * 64)
                await done.wait()
            tg.cancel_scope.cancel()
    assert len(seen) == 1
    assert isinstance(seen[0], ssl.SSLError)
    assert not [record for record in caplog.records if record.name == "streamspec.tls"]


async def test_the_listener_checks_its_timeout_and_passes_attributes_through(
    server_context: ssl.SSLContext,
) -> None:
    tcp = await anyio.create_tcp_listener(local_host="127.0.0.1")
    async with tcp:
        for bad in (0, -1, math.nan):
            with pytest.raises(ValueError, match="handshake_timeout"):
                TLSListener(tcp, server_context, handshake_timeout=bad)
        listener = TLSListener(tcp, server_context, standard_compatible=False)
        assert listener.extra(TLSAttribute.standard_compatible) is False
        assert listener.extra(SocketAttribute.local_address)[0] == "127.0.0.1"
