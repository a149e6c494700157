"""asyncio's ``StreamReader``/``StreamWriter`` pair as a byte stream, and back.

:func:`from_asyncio_streams` wraps the pair that :func:`asyncio.open_connection` returns (or
that :func:`asyncio.start_server` hands its callback): ``receive()`` reads, ``send()`` writes
and waits in ``drain()`` while the transport applies back-pressure, ``send_eof()`` is
``write_eof()``. OS errors are translated to AnyIO's at the edge by :func:`_translated`.

:func:`to_asyncio_streams` goes the other way: it gives code written for asyncio's streams a
``StreamReader``/``StreamWriter`` pair over any conforming byte stream. A small
:class:`asyncio.Transport` pumps bytes between the two in background tasks, with flow control
both ways: the reader's buffer limit pauses the receiving pump, and a write buffer above its
high-water mark makes ``drain()`` wait.

Both need an asyncio event loop (uvloop included), so they work under AnyIO's asyncio
backend only.
"""

from __future__ import annotations

import asyncio
import socket
from collections import deque
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager, suppress
from typing import Any

import anyio
import anyio.abc
import anyio.lowlevel
from anyio.abc import SocketAttribute

from .._args import count, provides
from .._busy import BusyGuard
from ..protocols import ByteStream

__all__ = ["StreamReaderWriterByteStream", "from_asyncio_streams", "to_asyncio_streams"]


@contextmanager
def _translated() -> Iterator[None]:
    """Re-raise asyncio's transport failures as :exc:`anyio.BrokenResourceError`, chained."""
    try:
        yield
    except OSError as exc:  # ConnectionResetError, BrokenPipeError and their kin
        raise anyio.BrokenResourceError from exc


def _address(address: Any) -> Any:
    # AnyIO reports IP addresses as (host, port), without IPv6's flowinfo and scope_id.
    return address[:2] if isinstance(address, tuple) else address


class StreamReaderWriterByteStream(anyio.abc.ByteStream):
    """An asyncio ``StreamReader``/``StreamWriter`` pair as a byte stream.

    Concurrent receives (or sends) raise :exc:`~anyio.BusyResourceError`. Closing the stream
    closes the writer's transport, and wakes a task blocked in ``receive()`` with
    :exc:`~anyio.ClosedResourceError`.
    """

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self._reader = provides("reader", reader, "read", what="a StreamReader")
        self._writer = provides(
            "writer",
            writer,
            *("write", "drain", "is_closing", "write_eof", "can_write_eof", "close"),
            what="a StreamWriter",
        )
        self._closed = False
        self._eof_sent = False
        self._receiving = BusyGuard("receiving from")
        self._sending = BusyGuard("sending to")

    async def receive(self, max_bytes: int = 65536) -> bytes:
        """Read at most ``max_bytes`` bytes; raise EndOfStream where asyncio returns ``b""``."""
        max_bytes = count("max_bytes", max_bytes, 1)
        await anyio.lowlevel.checkpoint()
        self._check_open()
        with self._receiving, _translated():
            data = await self._reader.read(max_bytes)
        # A local close feeds the reader EOF; that is ClosedResourceError for us, not the end.
        self._check_open()
        if not data:
            raise anyio.EndOfStream
        return data

    async def send(self, item: bytes) -> None:
        """Write ``item`` and wait in ``drain()`` while the transport's buffer is full."""
        await anyio.lowlevel.checkpoint()
        self._check_open()
        if self._eof_sent:
            raise anyio.ClosedResourceError
        with self._sending, _translated():
            if self._writer.is_closing():
                # A write to a closing transport is silently dropped; say so instead.
                raise anyio.BrokenResourceError
            self._writer.write(item)
            await self._writer.drain()

    async def send_eof(self) -> None:
        """``write_eof()``; a second call does nothing.

        :raises NotImplementedError: the transport cannot half-close (``can_write_eof()`` is
            false, as for TLS).
        """
        await anyio.lowlevel.checkpoint()
        self._check_open()
        if self._eof_sent:
            return
        if not self._writer.can_write_eof():
            raise NotImplementedError(
                "this asyncio transport cannot half-close (can_write_eof() is false)"
            )
        with _translated():
            self._writer.write_eof()
        self._eof_sent = True

    async def aclose(self) -> None:
        """Close the writer (and so the connection), and wait until it is closed.

        The bytes already written are flushed first. A failure while closing (the peer reset
        the connection, say) is not raised; a cancelled ``aclose()`` aborts the connection,
        dropping what was not sent yet.
        """
        if not self._closed:
            self._closed = True
            self._writer.close()
        try:
            # Shielded: cancelling a wait on the writer's close future would cancel the future
            # itself, and every later wait_closed() would then raise CancelledError at once.
            await asyncio.shield(_wait_closed(self._writer))
        except asyncio.CancelledError:
            self._writer.transport.abort()  # cancelled: drop what is unsent, close now
            raise
        await anyio.lowlevel.checkpoint()

    @property
    def extra_attributes(self) -> Mapping[Any, Callable[[], Any]]:
        writer = self._writer
        sock = writer.get_extra_info("socket")
        if sock is None:
            return {}
        attributes: dict[Any, Callable[[], Any]] = {
            SocketAttribute.family: lambda: socket.AddressFamily(sock.family),
            SocketAttribute.local_address: lambda: _address(writer.get_extra_info("sockname")),
        }
        peername = writer.get_extra_info("peername")
        if peername is not None:
            attributes[SocketAttribute.remote_address] = lambda: _address(peername)
        if sock.family in (socket.AF_INET, socket.AF_INET6):
            attributes[SocketAttribute.local_port] = lambda: writer.get_extra_info("sockname")[1]
            if peername is not None:
                attributes[SocketAttribute.remote_port] = lambda: peername[1]
        return attributes

    def _check_open(self) -> None:
        if self._closed:
            raise anyio.ClosedResourceError


async def _wait_closed(writer: asyncio.StreamWriter) -> None:
    with suppress(OSError):  # the peer reset the connection: it is closed all the same
        await writer.wait_closed()


def from_asyncio_streams(
    reader: asyncio.StreamReader, writer: asyncio.StreamWriter, /
) -> ByteStream:
    """Adapt an asyncio reader/writer pair (one connection) to a byte stream."""
    return StreamReaderWriterByteStream(reader, writer)


# -- a byte stream as asyncio streams ----------------------------------------------------------

#: Write-buffer sizes at which ``drain()`` starts and stops waiting (asyncio's defaults).
_HIGH_WATER = 64 * 1024
_LOW_WATER = 16 * 1024


def _lost(exc: Exception) -> Exception:
    """What asyncio-stream code sees when the byte stream fails: a connection reset."""
    lost = ConnectionResetError(f"the byte stream failed: {exc!r}")
    lost.__cause__ = exc
    return lost


class _ByteStreamTransport(asyncio.Transport):
    """An asyncio transport over a byte stream: two pumps, each a task.

    The receiving pump hands what the stream receives to the protocol (the reader), and
    stops while the reader has paused it. The sending pump writes the buffered bytes to the
    stream, then sends EOF or closes it when asked. The first failure of either ends the
    connection with ``connection_lost(exc)``; a clean close with ``connection_lost(None)``.
    """

    def __init__(self, stream: ByteStream, protocol: asyncio.StreamReaderProtocol) -> None:
        super().__init__()
        self._stream = stream
        self._protocol = protocol
        self._loop = asyncio.get_running_loop()
        self._buffer: deque[bytes] = deque()
        self._buffered = 0
        self._writing_paused = False
        self._reading = asyncio.Event()
        self._reading.set()
        self._wake_sender = asyncio.Event()
        self._eof_wanted = False
        self._closing = False
        self._lost = False
        self._closer: asyncio.Task[None] | None = None
        protocol.connection_made(self)
        self._receiver = self._loop.create_task(self._receive_pump())
        self._sender = self._loop.create_task(self._send_pump())

    # -- the pumps -----------------------------------------------------------------------------

    async def _receive_pump(self) -> None:
        try:
            while True:
                await self._reading.wait()
                try:
                    data = await self._stream.receive()
                except anyio.EndOfStream:
                    self._protocol.eof_received()
                    return
                self._protocol.data_received(data)
        except Exception as exc:
            self._connection_lost(_lost(exc))

    async def _send_pump(self) -> None:
        try:
            while True:
                while self._buffer:
                    data = self._buffer.popleft()
                    await self._stream.send(data)
                    self._buffered -= len(data)
                    if self._writing_paused and self._buffered <= _LOW_WATER:
                        self._writing_paused = False
                        self._protocol.resume_writing()
                if self._closing:
                    break
                if self._eof_wanted:
                    await self._stream.send_eof()
                    self._eof_wanted = False
                self._wake_sender.clear()
                await self._wake_sender.wait()
        except Exception as exc:
            self._connection_lost(_lost(exc))
            return
        await self._shut_down(None)

    async def _shut_down(self, exc: Exception | None) -> None:
        self._receiver.cancel()
        with suppress(Exception):
            await self._stream.aclose()
        self._connection_lost(exc)

    def _connection_lost(self, exc: Exception | None) -> None:
        if self._lost:
            return
        self._lost = True
        self._closing = True
        self._buffer.clear()
        self._buffered = 0
        current = asyncio.current_task()
        for pump in (self._receiver, self._sender):
            if pump is not current:
                pump.cancel()
        self._closer = self._loop.create_task(self._close_stream())
        self._protocol.connection_lost(exc)

    async def _close_stream(self) -> None:
        with suppress(Exception):
            await self._stream.aclose()

    # -- asyncio.Transport -----------------------------------------------------------------------

    def write(self, data: bytes | bytearray | memoryview) -> None:
        if self._closing or self._eof_wanted:
            return  # asyncio's transports drop writes once closing, too
        if not data:
            return
        chunk = bytes(data)
        self._buffer.append(chunk)
        self._buffered += len(chunk)
        self._wake_sender.set()
        if not self._writing_paused and self._buffered > _HIGH_WATER:
            self._writing_paused = True
            self._protocol.pause_writing()

    def can_write_eof(self) -> bool:
        return True

    def write_eof(self) -> None:
        self._eof_wanted = True
        self._wake_sender.set()

    def get_write_buffer_size(self) -> int:
        return self._buffered

    def get_write_buffer_limits(self) -> tuple[int, int]:
        return (_LOW_WATER, _HIGH_WATER)

    def pause_reading(self) -> None:
        self._reading.clear()

    def resume_reading(self) -> None:
        self._reading.set()

    def is_reading(self) -> bool:
        return self._reading.is_set()

    def is_closing(self) -> bool:
        return self._closing

    def close(self) -> None:
        """Flush the write buffer, then close the byte stream."""
        self._closing = True
        self._wake_sender.set()

    def abort(self) -> None:
        """Close at once, dropping the write buffer."""
        self._connection_lost(None)

    def get_extra_info(self, name: str, default: Any = None) -> Any:
        if name == "byte_stream":
            return self._stream
        return default


async def to_asyncio_streams(
    stream: ByteStream, /, *, limit: int = 2**16
) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
    """Give asyncio-stream code a ``StreamReader``/``StreamWriter`` pair over ``stream``.

    Like :func:`asyncio.open_connection`'s pair: ``writer.close()`` flushes what was written
    and then closes ``stream``; ``writer.write_eof()`` calls ``stream.send_eof()`` after the
    bytes written before it; a failure of ``stream`` surfaces as :exc:`ConnectionResetError`.
    ``writer.get_extra_info("byte_stream")`` returns ``stream``.

    :param limit: the reader's buffer limit, as for :func:`asyncio.open_connection`.
    :raises ValueError: ``limit`` is less than 1.
    :raises TypeError: ``limit`` is not an integer, or ``stream`` is not a byte stream.
    """
    provides("stream", stream, "receive", "send", "send_eof", "aclose")
    limit = count("limit", limit, 1)
    await anyio.lowlevel.checkpoint()
    loop = asyncio.get_running_loop()
    reader = asyncio.StreamReader(limit=limit, loop=loop)
    protocol = asyncio.StreamReaderProtocol(reader, loop=loop)
    transport = _ByteStreamTransport(stream, protocol)
    return reader, asyncio.StreamWriter(transport, protocol, reader, loop)
