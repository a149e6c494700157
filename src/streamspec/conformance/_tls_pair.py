"""A TLS connection over an in-memory transport, made by the target: what the ``tls`` checks
and the TLS byte subject (:mod:`.subjects`) both run over.

:class:`MemoryTransport` is a byte stream of the suite's own, built on two AnyIO memory object
streams (the transport is not what is under test). It behaves like a socket with a generous
buffer, and it can also

* deliver what it receives in chunks of planned sizes, splitting and coalescing TLS records;
* end one direction without ``close_notify`` (``send_eof()``), which is a ragged EOF to TLS;
* hold delivery back, so that bytes pile up and arrive together (``hold``/``release``);
* expose an attribute of its own, to see it pass through the TLS stream.

Both ends of a :func:`connection` are the target's: its ``tls_stream.wrap`` makes the client
and the server, with the certificates of :mod:`._certs`.

Failures carry their own messages, so pytest must not rewrite this module's asserts
(PYTEST_DONT_REWRITE).
"""

from __future__ import annotations

import itertools
import math
import ssl
from collections.abc import AsyncIterator, Callable, Mapping, Sequence
from contextlib import asynccontextmanager, suppress
from dataclasses import dataclass
from typing import Any

import anyio
import anyio.lowlevel
from anyio.abc import ByteStream
from anyio.streams.memory import MemoryObjectReceiveStream, MemoryObjectSendStream

from ._certs import SERVER_HOSTNAME, client_context, server_context
from .observe import describe
from .subjects import CLEANUP_TIMEOUT
from .target import Target

__all__ = [
    "Connection",
    "MemoryTransport",
    "ProbeAttribute",
    "close_forcefully",
    "connection",
    "handshake",
    "transport_pair",
]


# -- the transport ------------------------------------------------------------------------------


class ProbeAttribute(anyio.TypedAttributeSet):
    """An attribute only the checks' transport has, to see it through a TLS stream."""

    #: Which end of the transport this is ("client transport" or "server transport").
    label: str = anyio.typed_attribute()


class MemoryTransport(ByteStream):
    """One end of an in-memory byte connection, delivering in chunks of planned sizes.

    Each ``receive()`` returns at most the next size of ``chunk_sizes`` (cycled), joining
    pieces that have already arrived to reach it. Concurrent receives raise
    :exc:`~anyio.BusyResourceError`, as a socket stream's do.
    """

    def __init__(
        self,
        outgoing: MemoryObjectSendStream[bytes],
        incoming: MemoryObjectReceiveStream[bytes],
        *,
        label: str,
        chunk_sizes: Sequence[int],
    ) -> None:
        self._outgoing = outgoing
        self._incoming = incoming
        self._label = label
        self._chunk_sizes = itertools.cycle(chunk_sizes)
        self._buffer = bytearray()
        self._receiving = False
        self._gate: anyio.Event | None = None

    def hold(self) -> None:
        """Deliver nothing until :meth:`release`, so what arrives meanwhile comes as one."""
        self._gate = anyio.Event()

    def release(self) -> None:
        """Resume delivery after :meth:`hold`."""
        if self._gate is not None:
            self._gate.set()
            self._gate = None

    async def receive(self, max_bytes: int = 65536) -> bytes:
        if max_bytes < 1:
            raise ValueError("max_bytes must be at least 1")
        if self._receiving:
            raise anyio.BusyResourceError("receiving from")
        self._receiving = True
        try:
            if self._gate is not None:
                await self._gate.wait()
            if self._buffer:
                await anyio.lowlevel.checkpoint()
            else:
                self._buffer += await self._incoming.receive()
            limit = min(max_bytes, next(self._chunk_sizes))
            while len(self._buffer) < limit:
                try:
                    self._buffer += self._incoming.receive_nowait()
                except (anyio.WouldBlock, anyio.EndOfStream):
                    break
            chunk = bytes(self._buffer[:limit])
            del self._buffer[:limit]
            return chunk
        finally:
            self._receiving = False

    async def send(self, item: bytes) -> None:
        await self._outgoing.send(bytes(item))

    async def send_eof(self) -> None:
        """End this direction without a word to TLS: a ragged EOF for the peer."""
        await self._outgoing.aclose()

    async def aclose(self) -> None:
        await self._outgoing.aclose()
        await self._incoming.aclose()

    @property
    def extra_attributes(self) -> Mapping[Any, Callable[[], Any]]:
        return {ProbeAttribute.label: lambda: self._label}


@asynccontextmanager
async def transport_pair(
    *, client_chunks: Sequence[int] = (65536,), server_chunks: Sequence[int] = (65536,)
) -> AsyncIterator[tuple[MemoryTransport, MemoryTransport]]:
    """A connected (client, server) pair of transports, closed on exit.

    ``client_chunks`` plans what the client's end delivers (the server's bytes), and
    ``server_chunks`` the reverse. The buffers are unbounded, like a socket's that is never full,
    so two sides that both send before they receive do not deadlock.
    """
    to_server_send, to_server_receive = anyio.create_memory_object_stream[bytes](math.inf)
    to_client_send, to_client_receive = anyio.create_memory_object_stream[bytes](math.inf)
    client = MemoryTransport(
        to_server_send, to_client_receive, label="client transport", chunk_sizes=client_chunks
    )
    server = MemoryTransport(
        to_client_send, to_server_receive, label="server transport", chunk_sizes=server_chunks
    )
    try:
        yield client, server
    finally:
        await client.aclose()
        await server.aclose()


# -- connections --------------------------------------------------------------------------------


async def close_forcefully(resource: Any) -> None:
    """Close ``resource`` at once (a cancelled ``aclose()``), bounded by CLEANUP_TIMEOUT.

    Cleanup after a check: a stream that is already broken may raise from aclose(), and that
    is not what the rule being checked is about; nor may a stream that ignores the
    cancellation hang the check.
    """
    with anyio.move_on_after(CLEANUP_TIMEOUT, shield=True), suppress(Exception):
        await anyio.aclose_forcefully(resource)


@dataclass
class Connection:
    """Both ends of a TLS connection made by the target, and the transports beneath them."""

    client: Any
    server: Any
    client_transport: MemoryTransport
    server_transport: MemoryTransport


async def handshake(
    target: Target,
    client_transport: MemoryTransport,
    server_transport: MemoryTransport,
    *,
    client_tls: ssl.SSLContext,
    server_tls: ssl.SSLContext,
    hostname: str = SERVER_HOSTNAME,
    client_compatible: bool = True,
    server_compatible: bool = True,
) -> tuple[Any, Any]:
    """Wrap both transports at once; each side's result is its stream or what wrap() raised.

    A side whose handshake fails closes its transport, so the peer's handshake ends too.
    """
    outcomes: dict[str, Any] = {}

    async def wrap(side: str, transport: MemoryTransport, **options: Any) -> None:
        try:
            outcomes[side] = await target.tls_stream.wrap(transport, **options)
        except Exception as exc:
            outcomes[side] = exc
            await transport.aclose()

    async with anyio.create_task_group() as tg:
        tg.start_soon(
            lambda: wrap(
                "client",
                client_transport,
                server_side=False,
                hostname=hostname,
                ssl_context=client_tls,
                standard_compatible=client_compatible,
            )
        )
        tg.start_soon(
            lambda: wrap(
                "server",
                server_transport,
                server_side=True,
                ssl_context=server_tls,
                standard_compatible=server_compatible,
            )
        )
    return outcomes["client"], outcomes["server"]


@asynccontextmanager
async def connection(
    target: Target,
    *,
    client_chunks: Sequence[int] = (65536,),
    server_chunks: Sequence[int] = (65536,),
    client_alpn: Sequence[str] = (),
    server_alpn: Sequence[str] = (),
    client_compatible: bool = True,
    server_compatible: bool = True,
    name: str = "",
) -> AsyncIterator[Connection]:
    """A TLS connection over fresh transports, with a trusted certificate for the right host.
    Leaving the context closes both streams at once (see :func:`close_forcefully`), then the
    transports.

    :param name: what the failure message starts with (a subject's name), if anything.
    :raises AssertionError: the handshake failed.
    """
    async with transport_pair(
        client_chunks=client_chunks, server_chunks=server_chunks
    ) as transports:
        client, server = await handshake(
            target,
            *transports,
            client_tls=client_context(alpn=client_alpn),
            server_tls=server_context(alpn=server_alpn),
            client_compatible=client_compatible,
            server_compatible=server_compatible,
        )
        try:
            failures = [
                f"the {side}'s wrap() raised {describe(outcome, causes=True)}"
                for side, outcome in (("client", client), ("server", server))
                if isinstance(outcome, BaseException)
            ]
            if failures:
                raise AssertionError(
                    f"{name + ': ' if name else ''}the TLS handshake failed with a trusted "
                    f"certificate for "
                    f"{SERVER_HOSTNAME!r}: {'; '.join(failures)}"
                )
            yield Connection(client, server, *transports)
        finally:
            for stream in (client, server):
                if not isinstance(stream, BaseException):
                    await close_forcefully(stream)
