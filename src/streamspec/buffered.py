"""Buffered byte streams: exact sizes, delimiters and pushed-back bytes over any byte source.

The buffer is one bytes object and an offset: the bytes before the offset are consumed. Bytes
read from the transport are appended to it as soon as a read returns, and consumed (the offset
moved) only by an operation that is about to succeed, with no ``await`` in between; so an
operation that fails or is cancelled (while waiting for the transport, or in its own
checkpoint) leaves every byte it read in the buffer.

Consuming is one slice of an immutable ``bytes``: a single copy per result, nothing deleted or
moved. Appending copies the unconsumed rest together with the new chunk, which costs no more
than the chunk while the rest is short; a rest longer than both the chunk and :data:`_SMALL`
(a long line or a big exact read in progress) is kept in a :class:`bytearray` instead, which
grows in place, so the cost stays linear in the bytes however they are chunked.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable, Mapping
from typing import Any, SupportsIndex, cast

import anyio
import anyio.abc

from ._args import connectable as _check_connectable
from ._args import count, provides, takes_max_bytes
from ._parking import pending_cancellation
from .protocols import (
    AnyByteReceiveStream,
    AnyByteStream,
    AnyByteStreamConnectable,
    ByteReceiveStream,
)

__all__ = ["BufferedByteReceiveStream", "BufferedByteStream", "BufferedConnectable"]

#: How much to ask a byte stream for when any amount will do (AnyIO's default ``max_bytes``).
_READ_SIZE = 65536
#: A rest of up to this size is copied along with each appended chunk; a longer one (if also
#: longer than the chunk) accumulates in a bytearray. From a bytearray, a result up to this
#: size is sliced out (two quick copies), a longer one through a memoryview (one copy, which
#: matters for a 16 MiB line).
_SMALL = 4096


def _chunk_reader(stream: AnyByteReceiveStream) -> Callable[[int], Awaitable[bytes]]:
    """Return ``read(size)``, which awaits the stream's next non-empty chunk.

    A byte stream is asked for at most ``size`` bytes. An object stream's items come whole,
    whatever their size, and an empty item is skipped: a byte stream never returns one, and
    the buffered stream must not either.
    """
    if takes_max_bytes(stream):
        return cast(ByteReceiveStream, stream).receive
    receive_item = stream.receive  # a byte stream is an object stream of bytes, to mypy

    async def read_item(size: int) -> bytes:
        while not (chunk := await receive_item()):
            pass
        return chunk

    return read_item


class BufferedByteReceiveStream(anyio.abc.ByteReceiveStream):
    """A byte receive stream with a buffer, over any bytes-oriented receive stream.

    It wraps a byte stream or an object stream of bytes (whose items may have any size) and
    adds :meth:`receive_exactly`, :meth:`receive_until`, :attr:`buffer` and :meth:`feed_data`,
    as :class:`streamspec.BufferedByteReceiver` describes. Beyond that contract:

    * The results depend only on the bytes, never on how the transport chunked them
      [BUF-EXACTLY] [BUF-UNTIL]; ``receive(max_bytes)`` returns buffered bytes first and never
      more than ``max_bytes``, even over an object stream with larger items [BUF-RECEIVE].
    * After any error (end of stream, a transport failure, cancellation) every byte read from
      the transport is still in :attr:`buffer`. [BUF-EXACTLY-INCOMPLETE] [BUF-UNTIL-NOT-FOUND]
      [BUF-UNTIL-INCOMPLETE]
    * Every operation is a checkpoint in the sense of [ASYNC-CHECKPOINT]: inside a cancelled
      scope it raises the cancellation and consumes nothing, also when the buffer could serve
      it. It yields to the event loop whenever it waits for the transport; served from the
      buffer it does not, as asyncio's ``StreamReader`` does not (a yield per line would cost
      more than the line).

    Bytes come out of the buffer in order, each exactly once, whichever tasks receive; a
    protocol normally has one receiving task at a time.

    :param receive_stream: the stream to read from; closing this stream closes it.
    :raises TypeError: ``receive_stream`` has no ``receive()`` or ``aclose()``.
    """

    def __init__(self, receive_stream: AnyByteReceiveStream) -> None:
        provides("receive_stream", receive_stream, "receive", "aclose")
        #: The wrapped stream.
        self.receive_stream = receive_stream
        self._read = _chunk_reader(receive_stream)
        # The buffered bytes are self._data[self._pos:]; self._data is a bytearray only while
        # a long rest accumulates (see the module docstring).
        self._data: bytes | bytearray = b""
        self._pos = 0
        # The position in the whole stream of self._data[0]: receive_until() remembers how far
        # it searched in these terms, which stay valid whatever other tasks consume meanwhile.
        self._base = 0
        self._closed = False

    @property
    def buffer(self) -> bytes:
        """The bytes read from the transport (or fed) and not yet returned, as a copy."""
        return bytes(self._data[self._pos :])

    @property
    def extra_attributes(self) -> Mapping[Any, Callable[[], Any]]:
        """The wrapped stream's attributes."""
        return self.receive_stream.extra_attributes

    def feed_data(self, data: Iterable[SupportsIndex], /) -> None:
        """Append ``data`` (bytes, or any iterable of integers 0-255) to the buffer, as
        :class:`streamspec.SupportsBufferedReceive` describes. [BUF-FEED]

        Bytes fed while a receive waits for the transport come before the chunk it is waiting
        for. Feeding a closed stream is allowed (the bytes stay readable through
        :attr:`buffer`).

        :raises TypeError: ``data`` is neither bytes-like nor an iterable of integers; nothing
            is appended.
        :raises ValueError: an integer in ``data`` is outside 0-255; nothing is appended.
        """
        if type(data) is not bytes:
            converted = bytearray()
            try:
                converted.extend(data)  # all or nothing: extend() converts before it appends
            except TypeError as exc:
                raise TypeError(
                    "data must be bytes or an iterable of integers, "
                    f"not {type(data).__name__} ({exc})"
                ) from None
            except ValueError as exc:
                raise ValueError(f"data must hold integers in range(0, 256) ({exc})") from None
            data = converted
        if data:
            self._append(data)

    async def receive(self, max_bytes: int = 65536) -> bytes:
        """Return the buffered bytes first, up to ``max_bytes``; with an empty buffer, the
        transport's next chunk, never more than ``max_bytes`` of it. [BUF-RECEIVE]

        :raises TypeError: ``max_bytes`` is not an integer; nothing is consumed.
        :raises ValueError: ``max_bytes`` is less than 1; nothing is consumed.
            [BYTE-MAX-BYTES-INVALID]
        :raises ~anyio.ClosedResourceError: this stream was closed. [BYTE-CLOSED]
        """
        if type(max_bytes) is not int or max_bytes < 1:
            max_bytes = count("max_bytes", max_bytes, 1)
        if self._closed:
            raise anyio.ClosedResourceError
        if self._pos < len(self._data):
            if (pending := pending_cancellation()) is not None:
                await pending
            # Checked again: another task may have emptied the buffer meanwhile.
            if self._pos < len(self._data):
                return self._take(max_bytes)
        # The transport's receive is the checkpoint on this path.
        chunk = await self._read(max_bytes)
        if len(chunk) <= max_bytes and self._pos >= len(self._data):
            return chunk
        # An object stream's item may exceed max_bytes, and bytes fed meanwhile come first.
        self._append(chunk)
        return self._take(max_bytes)

    async def receive_exactly(self, nbytes: int) -> bytes:
        """Return exactly the next ``nbytes`` bytes, as
        :class:`streamspec.SupportsBufferedReceive` describes. [BUF-EXACTLY]

        :raises TypeError: ``nbytes`` is not an integer; nothing is consumed.
        :raises ValueError: ``nbytes`` is negative; nothing is consumed. [BUF-ARGS]
        :raises ~anyio.IncompleteRead: the stream ended first; every byte read stays in the
            buffer. [BUF-EXACTLY-INCOMPLETE]
        :raises ~anyio.ClosedResourceError: this stream was closed.
        """
        if type(nbytes) is not int or nbytes < 0:
            nbytes = count("nbytes", nbytes, 0)
        if self._closed:
            raise anyio.ClosedResourceError
        if (pending := pending_cancellation()) is not None:
            await pending
        data, start = self._data, self._pos
        end = start + nbytes
        # The common case, inlined; one that empties the buffer goes through _take(), which
        # lets go of the spent chunk.
        if end < len(data) and type(data) is bytes:
            self._pos = end
            return data[start:end]
        # A loop, not a single read: each chunk may be short, and another task may take bytes
        # during any await.
        while (missing := nbytes - len(self._data) + self._pos) > 0:
            try:
                chunk = await self._read(max(missing, _READ_SIZE))
            except anyio.EndOfStream as exc:
                raise anyio.IncompleteRead from exc
            self._append(chunk)
        return self._take(nbytes)

    async def receive_until(self, delimiter: bytes, max_bytes: int) -> bytes:
        """Return the bytes before the first ``delimiter`` and consume the delimiter too, as
        :class:`streamspec.SupportsBufferedReceive` describes. [BUF-UNTIL]

        The delimiter counts only when the whole of it lies within the first ``max_bytes``
        bytes; so the outcome is decided by the bytes alone, never by how the transport
        chunked them or by how much is already buffered. Bytes already searched are not
        searched again when more arrive, so the cost grows linearly with the line.

        :raises TypeError: ``delimiter`` is not bytes or bytearray, or ``max_bytes`` is not an
            integer; nothing is consumed.
        :raises ValueError: ``delimiter`` is empty or ``max_bytes`` is less than 1; nothing is
            consumed. [BUF-ARGS]
        :raises ~anyio.DelimiterNotFound: ``max_bytes`` bytes arrived without a whole delimiter
            among them; every byte read stays in the buffer. [BUF-UNTIL-NOT-FOUND]
        :raises ~anyio.IncompleteRead: the stream ended, with fewer than ``max_bytes`` bytes
            and no delimiter; every byte read stays in the buffer. [BUF-UNTIL-INCOMPLETE]
        :raises ~anyio.ClosedResourceError: this stream was closed.
        """
        if type(delimiter) is not bytes:
            if not isinstance(delimiter, (bytes, bytearray)):
                raise TypeError(f"delimiter must be bytes, not {type(delimiter).__name__}")
            delimiter = bytes(delimiter)  # a bytearray could change while we wait
        if not delimiter:
            raise ValueError("delimiter must not be empty")
        if type(max_bytes) is not int or max_bytes < 1:
            max_bytes = count("max_bytes", max_bytes, 1)
        if self._closed:
            raise anyio.ClosedResourceError
        if (pending := pending_cancellation()) is not None:
            await pending
        data, start = self._data, self._pos
        # The end bound keeps the match inside the first max_bytes bytes.
        index = data.find(delimiter, start, start + max_bytes)
        if index >= 0 and type(data) is bytes:  # the common case, inlined
            self._pos = index + len(delimiter)
            return data[start:index]
        while index < 0:
            if len(data) - start >= max_bytes:
                raise anyio.DelimiterNotFound(max_bytes)
            searched = self._base + len(data)  # no delimiter begins before searched - len + 1
            try:
                chunk = await self._read(_READ_SIZE)
            except anyio.EndOfStream as exc:
                raise anyio.IncompleteRead from exc
            self._append(chunk)
            # A delimiter may straddle the old end; bytes other tasks took meanwhile are gone.
            data, start = self._data, self._pos
            resume = max(searched - len(delimiter) + 1 - self._base, start)
            index = data.find(delimiter, resume, start + max_bytes)
        return self._take(index - start, discard=len(delimiter))

    async def aclose(self) -> None:
        """Close this stream and the wrapped one; :attr:`buffer` stays readable."""
        self._closed = True
        await self.receive_stream.aclose()

    def _append(self, chunk: bytes | bytearray) -> None:
        """Append ``chunk`` to the buffered bytes, copying it (unless it is ``bytes``)."""
        data, start = self._data, self._pos
        rest = len(data) - start
        if not rest:
            self._base += len(data)
            self._data, self._pos = bytes(chunk) if type(chunk) is not bytes else chunk, 0
        elif rest <= _SMALL or rest <= len(chunk):
            # Copying the rest costs no more than copying the chunk: stay with bytes.
            self._base += start
            rest_bytes = data[start:] if type(data) is bytes else bytes(data[start:])
            self._data, self._pos = rest_bytes + chunk, 0
        else:
            if isinstance(data, bytes):
                with memoryview(data) as view, view[start:] as part:
                    data = bytearray(part)
            elif start:
                del data[:start]
            self._base += start
            data += chunk
            self._data, self._pos = data, 0

    def _take(self, nbytes: int, discard: int = 0) -> bytes:
        """Consume the first ``nbytes`` buffered bytes (fewer if fewer are buffered) and return
        them; then consume ``discard`` more bytes, unreturned (a delimiter)."""
        data, start = self._data, self._pos
        end = min(start + nbytes, len(data))
        if type(data) is bytes:
            taken = data[start:end]
        elif end - start <= _SMALL:
            taken = bytes(data[start:end])  # copies twice, but is the quickest for small sizes
        else:
            with memoryview(data) as view, view[start:end] as part:
                taken = bytes(part)  # one copy
        self._pos = end = end + discard
        if end >= len(data):
            self._base += len(data)  # let spent bytes go at once
            self._data, self._pos = b"", 0
        return taken


class BufferedByteStream(BufferedByteReceiveStream, anyio.abc.ByteStream):
    """A byte stream whose receiving side is buffered; sending passes straight through.

    Everything :class:`BufferedByteReceiveStream` says holds for receiving. See
    :class:`streamspec.BufferedByteDuplex`.

    :param stream: the bidirectional stream to wrap (a byte stream or an object stream of
        bytes); closing this stream closes it.
    :raises TypeError: ``stream`` lacks one of ``receive()``, ``send()``, ``send_eof()`` and
        ``aclose()``.
    """

    def __init__(self, stream: AnyByteStream) -> None:
        provides("stream", stream, "receive", "send", "send_eof", "aclose")
        super().__init__(stream)
        self._stream = stream

    async def send(self, item: bytes) -> None:
        """Send ``item`` on the wrapped stream."""
        await self._stream.send(item)

    async def send_eof(self) -> None:
        """Send EOF on the wrapped stream; receiving goes on."""
        await self._stream.send_eof()


class BufferedConnectable(anyio.abc.ByteStreamConnectable):
    """Makes every connection of another connectable a :class:`BufferedByteStream`, as
    :class:`streamspec.ByteStreamConnectable` describes.

    :param connectable: the connectable to wrap; it may make byte streams or object streams
        of bytes.
    :raises TypeError: ``connectable`` has no ``connect()`` method.
    """

    def __init__(self, connectable: AnyByteStreamConnectable) -> None:
        _check_connectable("connectable", connectable)
        #: The wrapped connectable.
        self.connectable = connectable

    async def connect(self) -> BufferedByteStream:
        """Connect with the wrapped connectable and return the stream, buffered."""
        return BufferedByteStream(await self.connectable.connect())
