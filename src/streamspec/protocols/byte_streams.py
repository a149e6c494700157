"""Byte streams: streams of bytes with no message boundaries ("streams" in Trio's words).

Like a stream socket, a byte stream keeps the bytes and their order but not the way they were
split: ``send(b"hello ")`` then ``send(b"world")`` may arrive as ``b"hello world"``, or as
``b"hel"``, ``b"lo wo"``, ``b"rld"``. Code that reads a byte stream must never depend on the
chunking; the conformance suite draws chunkings at random to prove that implementations keep
the bytes whatever it is. [BYTE-INTACT]
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Protocol, TypeAlias, runtime_checkable

from .object_streams import (
    ObjectReceiveStream,
    ObjectSendStream,
    ObjectStream,
    UnreliableObjectReceiveStream,
    UnreliableObjectSendStream,
    UnreliableObjectStream,
)
from .resources import AsyncResource, TypedAttributeProvider

__all__ = [
    "AnyByteReceiveStream",
    "AnyByteSendStream",
    "AnyByteStream",
    "AnyUnreliableByteReceiveStream",
    "AnyUnreliableByteSendStream",
    "AnyUnreliableByteStream",
    "ByteReceiveStream",
    "ByteSendStream",
    "ByteStream",
]


@runtime_checkable
class ByteReceiveStream(AsyncResource, TypedAttributeProvider, Protocol):
    """Receives bytes from a single peer.

    ``async for chunk in stream`` yields chunks as :meth:`receive` returns them, each at most
    65536 bytes, and stops at the end of the stream. [BYTE-ITER]
    """

    def __aiter__(self) -> AsyncIterator[bytes]:
        """Return an iterator over the received chunks (usually the stream itself)."""
        ...

    async def __anext__(self) -> bytes:
        """Receive the next chunk; raise :exc:`StopAsyncIteration` at the end of the stream."""
        ...

    async def receive(self, max_bytes: int = 65536) -> bytes:
        """Wait until some bytes are available and return at most ``max_bytes`` of them.

        :param max_bytes: the largest chunk the caller accepts; a positive integer.
        :return: a non-empty chunk of at most ``max_bytes`` bytes, the next bytes of the
            stream in order. It is never empty: the end of the stream is an exception, not
            ``b""``. [BYTE-NO-EMPTY] [BYTE-MAX-BYTES] It is a ``bytes`` object, never a
            ``bytearray`` or ``memoryview`` the stream could still change. [BYTE-RETURNS-BYTES]
        :raises ValueError: ``max_bytes`` is less than 1; nothing is consumed.
            [BYTE-MAX-BYTES-INVALID]
        :raises ~anyio.EndOfStream: the peer sent EOF or closed, and every byte it sent before
            has been received; raised again on every later call. [BYTE-EOF]
            [BYTE-PEER-CLOSED]
        :raises ~anyio.ClosedResourceError: this stream was closed locally, before the call or
            while it was waiting. [BYTE-CLOSED] [BYTE-CLOSED-WAKES]
        :raises ~anyio.BrokenResourceError: the transport failed, or the peer vanished in a way
            that cannot be told from a failure (a TLS stream cut without ``close_notify``).
        :raises ~anyio.BusyResourceError: the implementation does not allow concurrent
            receives and another task is already receiving.

        This is a checkpoint: inside a cancelled scope it raises the cancellation even when
        data is ready, and then consumes nothing. [ASYNC-CHECKPOINT] A call waiting for data
        raises the cancellation as soon as its scope is cancelled, having consumed nothing: the
        bytes that arrive later go to the next call. [BYTE-RECEIVE-CANCELLED]
        """
        ...


@runtime_checkable
class ByteSendStream(AsyncResource, TypedAttributeProvider, Protocol):
    """Sends bytes to a single peer."""

    async def send(self, item: bytes, /) -> None:
        """Send all of ``item``, waiting while the transport applies back-pressure.

        When ``send()`` returns, every byte of ``item`` has been accepted by the stream and
        will reach the peer in order after the bytes sent before, unless the stream breaks,
        without any further call on this stream: a ``receive()`` waiting on the peer gets them
        while this stream stays open, not only at a flush, ``send_eof()`` or ``aclose()``.
        [BYTE-SEND-DELIVERS]
        If ``send()`` is cancelled or raises, an unknown prefix of ``item`` may have been
        sent; the stream should then be treated as broken. Sending ``b""`` is allowed and
        sends nothing.

        :raises ~anyio.ClosedResourceError: this stream was closed locally [BYTE-CLOSED], or
            EOF was already sent (or :exc:`~anyio.BrokenResourceError` for that); bytes sent
            after ``send_eof()`` are never delivered. [BYTE-SEND-AFTER-EOF]
        :raises ~anyio.BrokenResourceError: the peer is gone or the transport failed. A stream
            whose peer has closed raises it soon, not after accepting data without end: a few
            sends may succeed first, as a TCP send does until the peer's reset comes back.
            [BYTE-SEND-PEER-CLOSED]
        :raises ~anyio.BusyResourceError: the implementation does not allow concurrent sends
            and another task is already sending.
        """
        ...


@runtime_checkable
class ByteStream(ByteReceiveStream, ByteSendStream, Protocol):
    """Sends and receives bytes, and can end the sending direction alone."""

    async def send_eof(self) -> None:
        """Tell the peer that nothing more will be sent, and keep receiving.

        The peer receives every byte sent before this call and then
        :exc:`~anyio.EndOfStream`; bytes keep flowing towards this side. A second call does
        nothing. [BYTE-SEND-EOF]

        :raises ~anyio.ClosedResourceError: the stream was closed locally.
        :raises NotImplementedError: the protocol cannot end one direction alone (TLS over a
            peer that cannot half-close); the reason is in the message.
        """
        ...


#: Anything that receives bytes without order guarantees: an unreliable object stream of
#: ``bytes`` (a datagram socket) or a byte stream.
AnyUnreliableByteReceiveStream: TypeAlias = UnreliableObjectReceiveStream[bytes] | ByteReceiveStream
#: Anything that sends bytes without order guarantees.
AnyUnreliableByteSendStream: TypeAlias = UnreliableObjectSendStream[bytes] | ByteSendStream
#: Anything that sends and receives bytes without order guarantees.
AnyUnreliableByteStream: TypeAlias = UnreliableObjectStream[bytes] | ByteStream
#: Anything that receives bytes reliably: an object stream of ``bytes`` or a byte stream.
#: A wrapper that accepts this works over both (a buffered or text stream, say).
AnyByteReceiveStream: TypeAlias = ObjectReceiveStream[bytes] | ByteReceiveStream
#: Anything that sends bytes reliably: an object stream of ``bytes`` or a byte stream.
AnyByteSendStream: TypeAlias = ObjectSendStream[bytes] | ByteSendStream
#: Anything that sends and receives bytes reliably.
AnyByteStream: TypeAlias = ObjectStream[bytes] | ByteStream
