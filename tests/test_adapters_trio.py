"""Trio adapters: Trio streams and channels as our roles, and our byte streams as Trio's.

Trio objects need a Trio event loop, so this module runs on the Trio backend only: the
``anyio_backend`` fixture below overrides the one that parametrises over every backend.
"""

from __future__ import annotations

import logging
import ssl
from typing import Any

import anyio
import anyio.abc
import pytest
import trio
import trio.abc
import trio.testing
from anyio.abc import SocketAttribute
from anyio.streams.tls import TLSAttribute
from typing_extensions import assert_type

import streamspec.conformance.checks  # noqa: F401  (registered, and rewritten, at collection)
from streamspec import (
    ByteReceiveStream,
    ByteSendStream,
    ByteStream,
    ObjectReceiveStream,
    TLSByteStream,
    checked,
)
from streamspec.adapters.trio import (
    TrioTLSListener,
    TrioTLSStream,
    from_trio_channel,
    from_trio_listener,
    from_trio_stream,
    to_trio_stream,
)
from streamspec.conformance._certs import (
    SERVER_HOSTNAME,
    client_context,
    server_certificate_der,
    server_context,
)
from streamspec.conformance.runner import Outcome, run_checks
from streamspec.conformance.targets_trio import TRIO, TRIO_DIVERGENCES
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
    with pytest.raises(TypeError, match="max_bytes"):
        await right.receive("1")  # type: ignore[arg-type]
    as_trio = to_trio_stream(right)
    with pytest.raises(TypeError, match="max_bytes"):
        await as_trio.receive_some("1")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="max_bytes"):
        await as_trio.receive_some(0)
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


def test_the_whole_suite_passes_on_the_trio_target_and_is_not_provided_elsewhere() -> None:
    results = run_checks(TRIO, backends=["trio", "asyncio"])
    failed = [result for result in results if result.outcome is Outcome.FAILED]
    assert not failed, failed
    on_trio = {result.rule.id for result in results if result.backend == "trio"}
    # Each rule passes, or Trio breaks it and the target lists it as a known divergence.
    known = {divergence.rule for divergence in TRIO_DIVERGENCES}
    passed_on_trio = {
        result.rule.id
        for result in results
        if result.backend == "trio"
        and (
            result.outcome is Outcome.PASSED
            or (result.outcome is Outcome.KNOWN_DIVERGENCE and result.rule.id in known)
        )
    }
    # Byte, object, listener, resource and TLS rules: everything Trio has a stream for.
    for prefix in ("BYTE-", "OBJ-", "LISTEN-", "RES-", "TLS-"):
        # A Trio channel is one-way: no object stream of Trio's has send_eof(); and the
        # adapter's channel ends do not offer Trio's clone().
        not_trios = {"OBJ-SEND-EOF", "OBJ-SEND-AFTER-EOF", "OBJ-CLONE"}
        role_rules = {rule for rule in on_trio if rule.startswith(prefix)} - not_trios
        assert role_rules, prefix
        assert role_rules <= passed_on_trio, role_rules - passed_on_trio
    elsewhere = [result for result in results if result.backend == "asyncio"]
    assert all(result.outcome is Outcome.NOT_PROVIDED for result in elsewhere), elsewhere


def test_trio_tls_rules_pass_on_trio_and_are_not_provided_elsewhere() -> None:
    # The TLS checks catch what wrap() raises as a failed handshake; outside Trio the target's
    # wrap() must still come out as not provided, not as a failure.
    rules = ["TLS-RAGGED-EOF-LENIENT", "TLS-UNWRAP", "TLS-LISTENER-SURVIVES"]
    results = run_checks(TRIO, backends=["trio", "asyncio"], rules=rules)
    outcomes = {(result.rule.id, result.backend): result for result in results}
    assert len(outcomes) == 2 * len(rules)
    for rule in rules:
        assert outcomes[rule, "trio"].outcome is Outcome.PASSED, outcomes[rule, "trio"]
        elsewhere = outcomes[rule, "asyncio"]
        assert elsewhere.outcome is Outcome.NOT_PROVIDED, elsewhere
        assert "trio backend" in elsewhere.message


# -- Trio's TLS as TLS byte streams --------------------------------------------------------------


async def tls_pair(
    client_transport: ByteStream,
    server_transport: ByteStream,
    *,
    hostname: str = SERVER_HOSTNAME,
    standard_compatible: bool = True,
    alpn: list[str] | None = None,
) -> tuple[TrioTLSStream, TrioTLSStream]:
    """Handshake both ends at once: (client, server)."""
    client_tls, server_tls = client_context(), server_context()
    if alpn:
        client_tls.set_alpn_protocols(alpn)
        server_tls.set_alpn_protocols(alpn)
    ends: dict[str, TrioTLSStream] = {}

    async def client() -> None:
        ends["client"] = await TrioTLSStream.wrap(
            client_transport,
            hostname=hostname,
            ssl_context=client_tls,
            standard_compatible=standard_compatible,
        )

    async def server() -> None:
        ends["server"] = await TrioTLSStream.wrap(
            server_transport,
            server_side=True,
            ssl_context=server_tls,
            standard_compatible=standard_compatible,
        )

    with anyio.fail_after(5):
        async with anyio.create_task_group() as tg:
            tg.start_soon(client)
            tg.start_soon(server)
    return ends["client"], ends["server"]


async def test_tls_over_trio_socket_streams() -> None:
    (socket_listener,) = await trio.open_tcp_listeners(0, host="127.0.0.1")
    async with socket_listener:
        client_tcp = from_trio_stream(
            await trio.testing.open_stream_to_socket_listener(socket_listener)
        )
        server_tcp = from_trio_stream(await socket_listener.accept())
    client, server = await tls_pair(client_tcp, server_tcp, alpn=["streamspec/1"])
    async with client, server:
        assert client.extra(TLSAttribute.alpn_protocol) == "streamspec/1"
        assert client.extra(TLSAttribute.server_side) is False
        assert server.extra(TLSAttribute.server_side) is True
        assert client.extra(TLSAttribute.peer_certificate_binary) == server_certificate_der()
        assert server.extra(TLSAttribute.peer_certificate) is None
        assert client.extra(TLSAttribute.shared_ciphers) is None
        assert server.extra(TLSAttribute.shared_ciphers)
        assert client.extra(TLSAttribute.cipher) == server.extra(TLSAttribute.cipher)
        assert client.extra(TLSAttribute.tls_version) == "TLSv1.3"
        ssl_object = client.extra(TLSAttribute.ssl_object)
        assert isinstance(ssl_object, ssl.SSLObject)
        assert ssl_object.server_side is False
        assert client.extra(TLSAttribute.standard_compatible) is True
        # The socket's attributes pass through.
        assert client.extra(SocketAttribute.remote_port) == server.extra(SocketAttribute.local_port)
        payload = bytes(range(256)) * 400  # several TLS records
        with anyio.fail_after(5):
            async with anyio.create_task_group() as tg:
                tg.start_soon(client.send, payload)
                received = bytearray()
                while len(received) < len(payload):
                    chunk = await server.receive(5000)
                    assert 0 < len(chunk) <= 5000
                    received += chunk
            assert received == payload
            await server.send(b"farewell")
            await server.aclose()
            assert await receive_all(checked(client)) == b"farewell"


async def test_tls_refused_certificate_is_broken_resource_with_the_ssl_cause() -> None:
    client_end, server_end = byte_stream_pair()
    failures: dict[str, BaseException] = {}

    async def wrap(side: str, transport: ByteStream, **options: Any) -> None:
        try:
            await TrioTLSStream.wrap(transport, **options)
        except Exception as exc:
            failures[side] = exc
            await transport.aclose()

    with anyio.fail_after(5):
        async with anyio.create_task_group() as tg:
            tg.start_soon(
                lambda: wrap(
                    "client", client_end, hostname="wrong-host.test", ssl_context=client_context()
                )
            )
            tg.start_soon(
                lambda: wrap("server", server_end, server_side=True, ssl_context=server_context())
            )
    refusal = failures["client"]
    assert isinstance(refusal, anyio.BrokenResourceError)
    assert isinstance(refusal.__cause__, trio.BrokenResourceError)
    assert isinstance(refusal.__cause__.__cause__, ssl.SSLCertVerificationError)
    assert isinstance(failures["server"], anyio.BrokenResourceError)


@pytest.mark.parametrize("standard_compatible", [True, False])
async def test_tls_ragged_eof(standard_compatible: bool) -> None:
    client_end, server_end = byte_stream_pair()
    client, server = await tls_pair(client_end, server_end, standard_compatible=standard_compatible)
    with anyio.fail_after(5):
        await client.send(b"last words")
        await client_end.send_eof()  # below TLS: no close_notify
        assert await server.receive() == b"last words"
        if standard_compatible:
            with pytest.raises(anyio.BrokenResourceError):
                await server.receive()
        else:
            # Trio marks its stream broken once it reported the ragged end as the end; the
            # adapter reports the end every time, as every byte stream must.
            for _ in range(2):
                with pytest.raises(anyio.EndOfStream):
                    await server.receive()
        # The client's transport can no longer carry a close_notify.
        await anyio.aclose_forcefully(client)
        await server.aclose()


async def test_tls_unwrap_returns_the_given_transport_and_leftover() -> None:
    trio_left, trio_right = trio.testing.memory_stream_pair()
    client_end, server_end = from_trio_stream(trio_left), from_trio_stream(trio_right)
    client, server = await tls_pair(client_end, server_end)
    unwrapped: dict[str, tuple[Any, bytes]] = {}

    async def unwrap_client() -> None:
        unwrapped["client"] = await client.unwrap()

    async def unwrap_server_then_send() -> None:
        unwrapped["server"] = transport, _ = await server.unwrap()
        await transport.send(b"plaintext")

    with anyio.fail_after(5):
        async with anyio.create_task_group() as tg:
            tg.start_soon(unwrap_client)
            tg.start_soon(unwrap_server_then_send)
        transport, leftover = unwrapped["client"]
        assert transport is client_end
        assert unwrapped["server"][0] is server_end
        rest = b"" if leftover == b"plaintext" else await transport.receive()
        assert leftover + rest == b"plaintext"
        with pytest.raises(anyio.ClosedResourceError):
            await client.send(b"x")


async def test_tls_send_eof_and_bad_arguments() -> None:
    client_end, server_end = byte_stream_pair()
    with pytest.raises(TypeError, match="ssl_context"):
        await TrioTLSStream.wrap(client_end, ssl_context=object())  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="hostname"):
        await TrioTLSStream.wrap(client_end, server_side=True, hostname="localhost")
    for hostname in (None, ""):
        with pytest.raises(ValueError, match="hostname is required on the client side"):
            await TrioTLSStream.wrap(client_end, server_side=False, hostname=hostname)
    with pytest.raises(ValueError, match="hostname must not contain NUL"):
        await TrioTLSStream.wrap(client_end, hostname="localhost\0x")
    with pytest.raises(TypeError, match="server_side must be a bool, not str"):
        await TrioTLSStream.wrap(client_end, server_side="no")  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="transport_stream must be a stream with send"):
        await TrioTLSStream.wrap(object(), hostname="localhost")  # type: ignore[arg-type]
    client, server = await tls_pair(client_end, server_end)
    as_protocol: TLSByteStream = client  # mypy checks the shape, isinstance the methods
    assert isinstance(as_protocol, TLSByteStream)
    async with client, server:
        with pytest.raises(NotImplementedError, match="HalfCloseableStream"):
            await client.send_eof()
    for operation in (client.receive, client.send_eof, lambda: client.send(b"x")):
        with pytest.raises(anyio.ClosedResourceError):
            await operation()


async def test_tls_listener_drops_a_stalled_client_and_serves_the_next(
    caplog: pytest.LogCaptureFixture,
) -> None:
    (socket_listener,) = await trio.open_tcp_listeners(0, host="127.0.0.1")
    listener = TrioTLSListener(
        from_trio_listener(socket_listener), server_context(), handshake_timeout=1
    )
    assert listener.extra(TLSAttribute.standard_compatible) is True
    assert listener.extra(SocketAttribute.local_port) == socket_listener.socket.getsockname()[1]

    async def connect() -> ByteStream:
        return from_trio_stream(await trio.testing.open_stream_to_socket_listener(socket_listener))

    async def echo(stream: TrioTLSStream) -> None:
        async with stream:
            await stream.send(b"echo: " + await stream.receive())

    with anyio.fail_after(10), caplog.at_level(logging.INFO, "streamspec.adapters.trio"):
        async with anyio.create_task_group() as tg:

            async def serve() -> None:
                with pytest.raises(anyio.ClosedResourceError):
                    await listener.serve(echo, tg)

            tg.start_soon(serve)
            stalled = await connect()
            with pytest.raises((anyio.EndOfStream, anyio.BrokenResourceError)):
                await stalled.receive()  # dropped after handshake_timeout
            await stalled.aclose()
            good = await TrioTLSStream.wrap(
                await connect(), hostname=SERVER_HOSTNAME, ssl_context=client_context()
            )
            async with good:
                await good.send(b"hi")
                assert await good.receive() == b"echo: hi"
            await listener.aclose()
    failures = [r for r in caplog.records if "TLS handshake" in r.getMessage()]
    assert len(failures) == 1
    assert failures[0].levelno == logging.INFO
    assert "timed out" in failures[0].getMessage()
    with pytest.raises(ValueError, match="handshake_timeout"):
        TrioTLSListener(from_trio_listener(socket_listener), server_context(), handshake_timeout=0)
    with pytest.raises(TypeError, match="ssl_context"):
        TrioTLSListener(from_trio_listener(socket_listener), None)  # type: ignore[arg-type]
