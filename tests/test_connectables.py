"""The wrapping connectables: each connection of the wrapped connectable gets the layer.

A TLS connectable whose handshake fails closes the connection it got; bad arguments are
refused when the connectable is made, not at its first connect.
"""

from __future__ import annotations

import ssl
from typing import Any

import anyio
import anyio.abc
import pytest
import trustme

from streamspec import ByteStreamConnectable, ObjectStreamConnectable, create_memory_object_stream
from streamspec.buffered import BufferedByteStream, BufferedConnectable
from streamspec.stapled import StapledObjectStream
from streamspec.text import TextConnectable, TextStream
from streamspec.tls import TLSConnectable, TLSStream

pytestmark = pytest.mark.anyio

#: A wrong argument of any type, to mypy.
NOT_A: Any = 1.5


class OnePair:
    """Hands out the near end of one crossed pair of memory object streams, once."""

    def __init__(self) -> None:
        near_send, far_receive = create_memory_object_stream[bytes](10)
        far_send, near_receive = create_memory_object_stream[bytes](10)
        self.near = StapledObjectStream(near_send, near_receive)
        self.far = StapledObjectStream(far_send, far_receive)
        self.connects = 0

    async def connect(self) -> StapledObjectStream[bytes]:
        self.connects += 1
        return self.near


class Nowhere:
    """A connectable for tests that never connect."""

    async def connect(self) -> StapledObjectStream[bytes]:
        raise AssertionError("not to be called")


@pytest.fixture(scope="module")
def ca() -> trustme.CA:
    return trustme.CA()


def test_they_are_anyios_kinds_and_fit_the_roles() -> None:
    pair = Nowhere()
    buffered, text = BufferedConnectable(pair), TextConnectable(pair)
    tls = TLSConnectable(pair, hostname="localhost")
    assert isinstance(buffered, anyio.abc.ByteStreamConnectable)
    assert isinstance(text, anyio.abc.ObjectStreamConnectable)
    assert isinstance(tls, anyio.abc.ByteStreamConnectable)
    assert isinstance(buffered, ByteStreamConnectable)
    assert isinstance(text, ObjectStreamConnectable)
    assert (buffered.connectable, text.connectable, tls.connectable) == (pair, pair, pair)


async def test_buffered_connections() -> None:
    pair = OnePair()
    async with pair.far, await BufferedConnectable(pair).connect() as stream:
        assert isinstance(stream, BufferedByteStream)
        await pair.far.send(b"ab")
        await pair.far.send(b"cd\n")
        assert await stream.receive_until(b"\n", 10) == b"abcd"
        await stream.send(b"out")
        assert await pair.far.receive() == b"out"


async def test_text_connections() -> None:
    pair = OnePair()
    async with pair.far, await TextConnectable(pair).connect() as stream:
        assert isinstance(stream, TextStream)
        await pair.far.send("å".encode()[:1])
        await pair.far.send("å".encode()[1:])
        assert await stream.receive() == "å"


async def test_tls_connections_are_clients_checking_the_hostname(ca: trustme.CA) -> None:
    server_context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert("localhost").configure_cert(server_context)
    client_context = ssl.create_default_context()
    ca.configure_trust(client_context)
    pair = OnePair()
    connectable = TLSConnectable(pair, hostname="localhost", ssl_context=client_context)
    async with anyio.create_task_group() as tg:

        async def serve() -> None:
            server = await TLSStream.wrap(pair.far, server_side=True, ssl_context=server_context)
            async with server:
                await server.send(await server.receive())

        tg.start_soon(serve)
        async with await connectable.connect() as stream:
            assert stream.extra(anyio.streams.tls.TLSAttribute.server_side) is False
            await stream.send(b"echo")
            assert await stream.receive() == b"echo"


async def test_a_failed_handshake_closes_the_connection(ca: trustme.CA) -> None:
    pair = OnePair()
    client_context = ssl.create_default_context()
    ca.configure_trust(client_context)
    connectable = TLSConnectable(pair, hostname="localhost", ssl_context=client_context)
    await pair.far.send(b"this is not TLS\n" * 10)
    with pytest.raises((ssl.SSLError, anyio.BrokenResourceError)):
        await connectable.connect()
    with pytest.raises(anyio.ClosedResourceError):
        await pair.near.send(b"x")  # closed by connect()
    await pair.far.aclose()


@pytest.mark.parametrize(
    ("make", "error", "words"),
    [
        (lambda: BufferedConnectable(NOT_A), TypeError, "connectable must be"),
        (lambda: TextConnectable(NOT_A), TypeError, "connectable must be"),
        (lambda: TLSConnectable(NOT_A, hostname="a"), TypeError, "connectable must be"),
        (lambda: TLSConnectable(Nowhere(), hostname=NOT_A), TypeError, "hostname must be"),
        (
            lambda: TLSConnectable(Nowhere(), hostname="a", ssl_context=NOT_A),
            TypeError,
            "ssl_context",
        ),
        (
            lambda: TLSConnectable(Nowhere(), hostname="a", standard_compatible=NOT_A),
            TypeError,
            "standard_compatible must be a bool",
        ),
        (lambda: TLSConnectable(Nowhere()), ValueError, "hostname is required"),
    ],
    ids=["buffered", "text", "tls", "hostname", "context", "standard_compatible", "no-hostname"],
)
def test_bad_arguments_are_refused_when_made(make: Any, error: type[Exception], words: str) -> None:
    with pytest.raises(error, match=words):
        make()


def test_no_hostname_is_fine_when_the_context_checks_none() -> None:
    context = ssl.create_default_context()
    context.check_hostname = False
    assert TLSConnectable(Nowhere(), ssl_context=context).hostname is None
