"""The built-in ``asyncio`` target: asyncio's own streams, through the asyncio adapter.

asyncio has none of AnyIO's names, so the target gives one explicit factory,
``byte_stream_pair``, with two subjects: both ends of a loopback TCP connection made by
:func:`asyncio.start_server` and :func:`asyncio.open_connection`, and both ends of a UNIX
``socketpair`` opened by :func:`asyncio.open_connection` (``sock=``). Each end is a
``StreamReader``/``StreamWriter`` pair seen as a byte stream by
:func:`~streamspec.adapters.asyncio.from_asyncio_streams`.

asyncio's streams need an asyncio event loop: on any other backend the factories raise
:exc:`~streamspec.conformance.registry.NotProvided`, so the rules come out as not provided
there, with the reason, rather than as failures.
"""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from ..adapters.asyncio import from_asyncio_streams
from ..protocols import ByteStream
from .registry import NotProvided
from .subjects import close_quietly
from .target import Divergence, Target

__all__ = ["ASYNCIO", "ASYNCIO_DIVERGENCES"]


def _require_asyncio() -> None:
    """Raise NotProvided unless an asyncio event loop runs: asyncio's streams need one."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        raise NotProvided("asyncio streams outside an asyncio backend") from None


@asynccontextmanager
async def asyncio_tcp_stream_pair() -> AsyncIterator[tuple[ByteStream, ByteStream]]:
    """Both ends of a loopback TCP connection of asyncio streams."""
    _require_asyncio()
    accepted: asyncio.Queue[tuple[asyncio.StreamReader, asyncio.StreamWriter]] = asyncio.Queue()

    async def on_connection(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await accepted.put((reader, writer))

    server = await asyncio.start_server(on_connection, "127.0.0.1", 0)
    try:
        port = server.sockets[0].getsockname()[1]
        client = from_asyncio_streams(*await asyncio.open_connection("127.0.0.1", port))
        try:
            server_end = from_asyncio_streams(*await accepted.get())
        except BaseException:
            await close_quietly(client)
            raise
    finally:
        server.close()
    try:
        yield client, server_end
    finally:
        await close_quietly(client, server_end)


@asynccontextmanager
async def asyncio_socketpair_streams() -> AsyncIterator[tuple[ByteStream, ByteStream]]:
    """Both ends of a UNIX ``socketpair``, each opened with asyncio.open_connection(sock=)."""
    _require_asyncio()
    first, second = socket.socketpair()
    try:
        left = from_asyncio_streams(*await asyncio.open_connection(sock=first))
    except BaseException:
        first.close()
        second.close()
        raise
    try:
        right = from_asyncio_streams(*await asyncio.open_connection(sock=second))
    except BaseException:
        second.close()
        await close_quietly(left)
        raise
    try:
        yield left, right
    finally:
        await close_quietly(left, right)


#: Rules that asyncio's streams break through the adapter, found by running
#: ``streamspec check asyncio``: none.
ASYNCIO_DIVERGENCES: tuple[Divergence, ...] = ()

ASYNCIO = Target(
    name="asyncio",
    byte_stream_pair={
        "asyncio TCP connection": asyncio_tcp_stream_pair,
        "asyncio socketpair": asyncio_socketpair_streams,
    },
    known_divergences=ASYNCIO_DIVERGENCES,
)
