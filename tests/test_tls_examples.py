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
