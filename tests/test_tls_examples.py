"""The guide's TLS server and client examples work together over real TCP on loopback.

The server runs as a script in the background on a free port; the client script runs against
it and must print exactly what the seed's flow implies: the server answers the client's name,
``b"Client\\n"``, with ``b"Hello, Client\\n\\n"``, which the client prints as a bytes repr.
This is done once with trustme certificates, and once with the self-signed certificate made by
the seed's own ``openssl`` command, in the working directory the examples expect by default.
"""

from __future__ import annotations

import socket
import ssl
import struct
import subprocess
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import anyio
import anyio.abc
import pytest
import trustme

from streamspec.tls import TLSStream

pytestmark = pytest.mark.anyio

EXAMPLES = Path(__file__).resolve().parent.parent / "docs" / "examples"
SEED_OPENSSL_COMMAND = (
    "openssl req -x509 -newkey rsa:2048 -subj '/CN=localhost' -keyout key.pem -out cert.pem "
    "-nodes -days 365"
)
EXPECTED_OUTPUT = "b'Hello, Client\\n\\n'\n"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@pytest.fixture(params=["trustme", "openssl"])
def certificates(request: pytest.FixtureRequest, tmp_path: Path) -> tuple[list[str], list[str]]:
    """Extra arguments for (the server, the client), with their certificate files in
    ``tmp_path``. The openssl case passes none: the examples' defaults (``cert.pem`` and
    ``key.pem`` in the working directory) are what the seed's command makes."""
    if request.param == "openssl":
        subprocess.run(
            SEED_OPENSSL_COMMAND, shell=True, cwd=tmp_path, check=True, capture_output=True
        )
        return [], []
    ca = trustme.CA()
    ca.issue_cert("localhost").private_key_and_cert_chain_pem.write_to_path(
        str(tmp_path / "server.pem")
    )
    ca.cert_pem.write_to_path(str(tmp_path / "ca.pem"))
    return ["--certfile", "server.pem", "--keyfile", "server.pem"], ["--cafile", "ca.pem"]


@asynccontextmanager
async def example_server(
    tmp_path: Path, port: int, arguments: list[str]
) -> AsyncIterator[anyio.abc.Process]:
    server = await anyio.open_process(
        [sys.executable, "-W", "error", str(EXAMPLES / "tls_server.py"), "--host", "127.0.0.1",
         "--port", str(port), *arguments],
        cwd=tmp_path,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )  # fmt: skip
    async with server:
        try:
            yield server
        finally:
            server.terminate()
            await server.wait()


async def wait_until_serving(port: int, trust: ssl.SSLContext) -> None:
    """Connect in a loop until the server accepts, and check it answers like the seed's."""
    with anyio.fail_after(20):
        while True:
            try:
                connection = await anyio.connect_tcp("127.0.0.1", port)
            except OSError:
                await anyio.sleep(0.05)  # polling for readiness, not synchronisation
                continue
            async with await TLSStream.wrap(
                connection, hostname="localhost", ssl_context=trust
            ) as probe:
                await probe.send(b"probe")
                assert await probe.receive() == b"Hello, probe\n"
            return


async def test_the_tls_examples_greet_each_other(
    tmp_path: Path, certificates: tuple[list[str], list[str]]
) -> None:
    server_arguments, client_arguments = certificates
    trust = ssl.create_default_context(ssl.Purpose.SERVER_AUTH)
    trust.load_verify_locations(
        cafile=str(tmp_path / (client_arguments[1] if client_arguments else "cert.pem"))
    )
    port = free_port()
    async with example_server(tmp_path, port, server_arguments) as server:
        await wait_until_serving(port, trust)
        with anyio.fail_after(30):
            client = await anyio.run_process(
                [sys.executable, "-W", "error", str(EXAMPLES / "tls_client.py"),
                 "--port", str(port), *client_arguments],
                cwd=tmp_path,
                check=False,
            )  # fmt: skip
        assert server.returncode is None, "the server stopped"
    assert client.returncode == 0, client.stderr.decode()
    assert client.stdout.decode() == EXPECTED_OUTPUT
    assert client.stderr == b""


def _stdlib_client_half_closes(port: int, trust: ssl.SSLContext) -> bytes:
    """A standard-library client that completes the handshake, then ends its side of TCP
    without a ``close_notify`` (as ``SSLSocket.close()`` does) before sending its name, and
    reads whatever arrives until the server closes the connection."""
    with (
        socket.create_connection(("127.0.0.1", port), timeout=10) as raw,
        trust.wrap_socket(raw, server_hostname="localhost") as tls,
    ):
        tls.shutdown(socket.SHUT_WR)  # a TCP FIN, no TLS close_notify; plain socket from here
        received = b""
        while chunk := tls.recv(4096):
            received += chunk
        return received


async def _read_to_the_end(stream: anyio.abc.ByteStream) -> None:
    while True:
        await stream.receive()


def _reset_on_close(stream: anyio.abc.ByteStream) -> None:
    raw = stream.extra(anyio.abc.SocketAttribute.raw_socket)
    raw.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))


async def test_no_client_stops_the_example_server(
    tmp_path: Path, certificates: tuple[list[str], list[str]]
) -> None:
    """The documented server, written the way the guide teaches, against clients that
    misbehave in each way a server meets on a network; then a good client is still served."""
    server_arguments, client_arguments = certificates
    trust = ssl.create_default_context(ssl.Purpose.SERVER_AUTH)
    trust.load_verify_locations(
        cafile=str(tmp_path / (client_arguments[1] if client_arguments else "cert.pem"))
    )
    port = free_port()
    async with example_server(tmp_path, port, server_arguments) as server:
        await wait_until_serving(port, trust)
        with anyio.fail_after(30):
            async with await anyio.connect_tcp("127.0.0.1", port):  # silent all along
                health_check = await anyio.connect_tcp("127.0.0.1", port)
                await health_check.aclose()
                async with await anyio.connect_tcp("127.0.0.1", port) as garbage:
                    await garbage.send(b"GET / HTTP/1.0\r\n\r\n")
                    with pytest.raises((anyio.EndOfStream, anyio.BrokenResourceError)):
                        await _read_to_the_end(garbage)
                aborting = await anyio.connect_tcp("127.0.0.1", port)
                await aborting.send(b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03")
                _reset_on_close(aborting)
                await anyio.aclose_forcefully(aborting)
                # Handshakes, then leaves without a name: politely, and with a reset.
                polite = await anyio.connect_tcp("127.0.0.1", port)
                await (
                    await TLSStream.wrap(polite, hostname="localhost", ssl_context=trust)
                ).aclose()
                rude = await anyio.connect_tcp("127.0.0.1", port)
                await TLSStream.wrap(rude, hostname="localhost", ssl_context=trust)
                _reset_on_close(rude)
                await anyio.aclose_forcefully(rude)
                # Python's own client closing without close_notify: the issue's case.
                await anyio.to_thread.run_sync(_stdlib_client_half_closes, port, trust)
                await wait_until_serving(port, trust)
        assert server.returncode is None, "the server stopped"
