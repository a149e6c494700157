"""streamspec's TLS streams talk to other TLS implementations: the ``openssl`` command line
tool (both ends), the standard library's blocking ``ssl`` sockets, and AnyIO's ``TLSStream``.

Everything runs on loopback. Certificates come from trustme and are written to ``tmp_path``
for the tools that read files.
"""

from __future__ import annotations

import math
import socket
import ssl
import subprocess
import threading
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from pathlib import Path

import anyio
import anyio.abc
import anyio.streams.tls
import pytest
import trustme
from anyio.abc import SocketAttribute
from anyio.streams.tls import TLSAttribute

from streamspec import create_memory_object_stream
from streamspec.stapled import StapledObjectStream
from streamspec.tls import TLSListener, TLSStream

pytestmark = pytest.mark.anyio


@pytest.fixture(scope="module")
def ca() -> trustme.CA:
    return trustme.CA()


@pytest.fixture(scope="module")
def server_cert(ca: trustme.CA) -> trustme.LeafCert:
    return ca.issue_cert("localhost")


@pytest.fixture(scope="module")
def server_context(server_cert: trustme.LeafCert) -> ssl.SSLContext:
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    server_cert.configure_cert(context)
    return context


@pytest.fixture(scope="module")
def client_context(ca: trustme.CA) -> ssl.SSLContext:
    context = ssl.create_default_context(ssl.Purpose.SERVER_AUTH)
    ca.configure_trust(context)
    return context


@pytest.fixture
def pem_files(ca: trustme.CA, server_cert: trustme.LeafCert, tmp_path: Path) -> tuple[Path, Path]:
    """(server key and certificate chain, CA certificate) as PEM files."""
    server_pem, ca_pem = tmp_path / "server.pem", tmp_path / "ca.pem"
    server_cert.private_key_and_cert_chain_pem.write_to_path(str(server_pem))
    ca.cert_pem.write_to_path(str(ca_pem))
    return server_pem, ca_pem


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


async def connect_when_ready(port: int) -> anyio.abc.SocketStream:
    """Connect to a server that is starting up, retrying until it accepts."""
    with anyio.fail_after(10):
        while True:
            try:
                return await anyio.connect_tcp("127.0.0.1", port)
            except OSError:
                await anyio.sleep(0.02)  # polling for readiness, not synchronisation


@pytest.fixture
def s_server(pem_files: tuple[Path, Path]) -> tuple[list[str], int]:
    """``openssl s_server`` arguments for a free port; the test adds its mode and starts it
    with :func:`start_s_server`."""
    port = free_port()
    server_pem, _ = pem_files
    return (
        [
            "openssl", "s_server", "-accept", f"127.0.0.1:{port}", "-cert", str(server_pem),
            "-naccept", "1",
        ],
        port,
    )  # fmt: skip


@asynccontextmanager
async def running(arguments: list[str]) -> AsyncIterator[anyio.abc.Process]:
    """The process, killed on exit. Its output is discarded: s_server writes a lot of it."""
    process = await anyio.open_process(
        arguments, stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    async with process:
        try:
            yield process
        finally:
            process.kill()
            await process.wait()


async def receive_all(stream: anyio.abc.ByteStream) -> bytes:
    received = bytearray()
    while True:
        try:
            received += await stream.receive()
        except anyio.EndOfStream:
            return bytes(received)


# -- against openssl s_server -------------------------------------------------------------------


async def test_our_client_fetches_a_page_from_openssl_s_server(
    s_server: tuple[list[str], int], client_context: ssl.SSLContext
) -> None:
    arguments, port = s_server
    async with running([*arguments, "-www"]):
        transport = await connect_when_ready(port)
        with anyio.fail_after(10):
            async with await TLSStream.wrap(
                transport, hostname="localhost", ssl_context=client_context
            ) as client:
                await client.send(b"GET / HTTP/1.0\r\n\r\n")
                page = await receive_all(client)  # ends with s_server's close_notify
                version = client.extra(TLSAttribute.tls_version)
    assert page.startswith(b"HTTP/1.0 200 ok\r\n")
    assert b"CIPHER is" in page or b"Ciphers" in page
    assert version == "TLSv1.3"


async def test_our_client_half_closes_against_openssl_s_server(
    s_server: tuple[list[str], int], client_context: ssl.SSLContext
) -> None:
    arguments, port = s_server
    async with running([*arguments, "-rev"]):  # answers each line reversed
        transport = await connect_when_ready(port)
        with anyio.fail_after(10):
            async with await TLSStream.wrap(
                transport, hostname="localhost", ssl_context=client_context
            ) as client:
                await client.send(b"streamspec\n")
                await client.send_eof()  # close_notify; s_server answers all the same
                assert await receive_all(client) == b"cepsmaerts\n"


# -- against the standard library's ssl sockets ------------------------------------------------


@pytest.fixture
def stdlib_server(
    server_context: ssl.SSLContext,
) -> Iterator[tuple[int, list[object], threading.Thread]]:
    """A blocking ``ssl`` server in a thread that answers one connection: it echoes what it
    reads in upper case until it reads ``b"bye"``, then ends the session with
    ``SSLSocket.unwrap()`` (its close_notify, and waiting for ours). Yields the port, a list
    that gets what the thread saw (its result or its exception), and the thread."""
    outcome: list[object] = []
    listener = socket.create_server(("127.0.0.1", 0))
    port = listener.getsockname()[1]

    def serve() -> None:
        try:
            connection, _ = listener.accept()
            connection.settimeout(10)
            with server_context.wrap_socket(connection, server_side=True) as tls:
                while (data := tls.recv(65536)) != b"bye":
                    tls.sendall(data.upper())
                plain = tls.unwrap()  # sends close_notify and waits for the client's
                outcome.append("unwrapped")
                plain.close()
        except Exception as exc:
            outcome.append(exc)

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        yield port, outcome, thread
    finally:
        thread.join(10)
        listener.close()


async def test_our_client_talks_to_a_stdlib_ssl_server(
    stdlib_server: tuple[int, list[object], threading.Thread], client_context: ssl.SSLContext
) -> None:
    port, outcome, thread = stdlib_server
    with anyio.fail_after(10):
        transport = await anyio.connect_tcp("127.0.0.1", port)
        client = await TLSStream.wrap(transport, hostname="localhost", ssl_context=client_context)
        async with client:
            for word in (b"hello", b"world"):
                await client.send(word)
                assert await client.receive() == word.upper()
            await client.send(b"bye")
            with pytest.raises(anyio.EndOfStream):  # the server's close_notify
                await client.receive()
        # Our aclose() sent the close_notify that the server's unwrap() waited for.
        await anyio.to_thread.run_sync(thread.join)
    assert outcome == ["unwrapped"]


#: Closes in a row in the unwrap test: 30 of 30 failed over TLS 1.3 before aclose() took in the
#: server's session tickets, so a pass here is not luck.
GRACEFUL_CLOSES = 30


@pytest.mark.parametrize("greeting", [False, True], ids=["silent", "greeting"])
@pytest.mark.parametrize(
    "version", [ssl.TLSVersion.TLSv1_2, ssl.TLSVersion.TLSv1_3], ids=["TLSv1.2", "TLSv1.3"]
)
async def test_a_stdlib_server_unwraps_cleanly_after_our_aclose(
    version: ssl.TLSVersion,
    greeting: bool,
    server_cert: trustme.LeafCert,
    client_context: ssl.SSLContext,
) -> None:
    # The server ends each session as a polite peer does: SSLSocket.unwrap() sends its
    # close_notify and waits for ours. A client that closes its socket with bytes still unread
    # in it (over TLS 1.3, the session tickets the server sends after the handshake; here also
    # a greeting the client never reads) makes the kernel reset the connection, and unwrap()
    # fails with a reset, a broken pipe or a cut session.
    server_context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    server_cert.configure_cert(server_context)
    server_context.minimum_version = server_context.maximum_version = version
    outcomes: list[object] = []
    listener = socket.create_server(("127.0.0.1", 0))
    port = listener.getsockname()[1]

    def serve() -> None:
        for _ in range(GRACEFUL_CLOSES):
            connection, _ = listener.accept()
            connection.settimeout(10)
            try:
                with server_context.wrap_socket(connection, server_side=True) as tls:
                    if greeting:
                        tls.sendall(b"hello, never read")
                        while tls.recv(1024):  # until our close_notify
                            pass
                    tls.unwrap().close()
                outcomes.append("unwrapped")
            except Exception as exc:
                outcomes.append(exc)

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        with anyio.fail_after(30):
            for _ in range(GRACEFUL_CLOSES):
                transport = await anyio.connect_tcp("127.0.0.1", port)
                client = await TLSStream.wrap(
                    transport, hostname="localhost", ssl_context=client_context
                )
                assert client.extra(TLSAttribute.tls_version) == version.name.replace("_", ".")
                await client.aclose()
            await anyio.to_thread.run_sync(thread.join)
    finally:
        listener.close()
        thread.join(10)
    assert outcomes == ["unwrapped"] * GRACEFUL_CLOSES


# -- openssl s_client against our listener ------------------------------------------------------


async def test_openssl_s_client_talks_to_our_listener(
    server_context: ssl.SSLContext, pem_files: tuple[Path, Path]
) -> None:
    _, ca_pem = pem_files

    async def shout(stream: TLSStream) -> None:
        async with stream:
            line = b""
            while not line.endswith(b"\n"):
                line += await stream.receive()
            await stream.send(line.upper())
            # aclose() sends close_notify; s_client then exits.

    tcp = await anyio.create_tcp_listener(local_host="127.0.0.1")
    port = tcp.extra(SocketAttribute.local_port)
    listener = TLSListener(tcp, server_context)
    with anyio.fail_after(20):
        async with listener, anyio.create_task_group() as tg:
            tg.start_soon(listener.serve, shout)
            result = await anyio.run_process(
                [
                    "openssl", "s_client", "-connect", f"127.0.0.1:{port}",
                    "-servername", "localhost", "-verify_hostname", "localhost",
                    "-CAfile", str(ca_pem), "-verify_return_error", "-quiet",
                ],
                input=b"hello from s_client\n",
                check=False,
            )  # fmt: skip
            tg.cancel_scope.cancel()
    assert result.returncode == 0, result.stderr
    assert result.stdout == b"HELLO FROM S_CLIENT\n"


# -- against AnyIO's TLSStream ------------------------------------------------------------------


@asynccontextmanager
async def memory_pair() -> AsyncIterator[tuple[anyio.abc.AnyByteStream, anyio.abc.AnyByteStream]]:
    to_server, from_client = create_memory_object_stream[bytes](math.inf)
    to_client, from_server = create_memory_object_stream[bytes](math.inf)
    async with (
        StapledObjectStream(to_server, from_server) as client,
        StapledObjectStream(to_client, from_client) as server,
    ):
        yield client, server


@pytest.mark.parametrize("ours", ["client", "server"])
async def test_we_interoperate_with_anyio_tls_streams(
    ours: str, server_context: ssl.SSLContext, client_context: ssl.SSLContext
) -> None:
    client_class = TLSStream if ours == "client" else anyio.streams.tls.TLSStream
    server_class = TLSStream if ours == "server" else anyio.streams.tls.TLSStream
    streams: dict[str, anyio.abc.ByteStream] = {}

    async def serve(transport: anyio.abc.AnyByteStream) -> None:
        streams["server"] = await server_class.wrap(
            transport, server_side=True, ssl_context=server_context
        )

    async with memory_pair() as (client_transport, server_transport):
        with anyio.fail_after(10):
            async with anyio.create_task_group() as tg:
                tg.start_soon(serve, server_transport)
                client = await client_class.wrap(
                    client_transport, hostname="localhost", ssl_context=client_context
                )
            server = streams["server"]
            payload = bytes(range(256)) * 1000
            async with anyio.create_task_group() as tg:
                tg.start_soon(client.send, payload)
                received = bytearray()
                while len(received) < len(payload):
                    received += await server.receive()
            assert received == payload
            await server.send(b"answer")
            assert await client.receive() == b"answer"
            assert client.extra(TLSAttribute.tls_version) == "TLSv1.3"
            async with anyio.create_task_group() as tg:
                # close_notify: a clean end for the other side. AnyIO's aclose() also waits
                # for the answering close_notify, which comes from the server's aclose().
                tg.start_soon(client.aclose)
                with pytest.raises(anyio.EndOfStream):
                    await server.receive()
                if ours == "server":
                    await server.aclose()
                else:
                    # AnyIO's aclose() raises BrokenResourceError when its close_notify
                    # cannot be sent, here because our client closed its transport at once
                    # (see the guide); that is not what this test is about.
                    await anyio.aclose_forcefully(server)


async def test_our_half_close_works_with_an_anyio_server(
    server_context: ssl.SSLContext, client_context: ssl.SSLContext
) -> None:
    streams: dict[str, anyio.abc.ByteStream] = {}

    async def serve(transport: anyio.abc.AnyByteStream) -> None:
        streams["server"] = await anyio.streams.tls.TLSStream.wrap(
            transport, server_side=True, ssl_context=server_context
        )

    async with memory_pair() as (client_transport, server_transport):
        with anyio.fail_after(10):
            async with anyio.create_task_group() as tg:
                tg.start_soon(serve, server_transport)
                client = await TLSStream.wrap(
                    client_transport, hostname="localhost", ssl_context=client_context
                )
            server = streams["server"]
            await client.send(b"question")
            await client.send_eof()
            assert await receive_all(server) == b"question"
            await server.send(b"answer after the client's close_notify")
            await server.aclose()
            assert await receive_all(client) == b"answer after the client's close_notify"
            await client.aclose()
