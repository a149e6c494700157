"""Trio streams and channels as streamspec roles, and byte streams as Trio streams.

Trio and AnyIO split the same ideas differently (DESIGN decision 1):

=================================== ===============================================
Trio                                streamspec (AnyIO's shape)
=================================== ===============================================
``receive_some()`` returns ``b""``  ``receive()`` raises :exc:`~anyio.EndOfStream`
``send_all(data)``                  ``send(data)``
``trio.EndOfChannel``               :exc:`~anyio.EndOfStream`
``trio.ClosedResourceError`` ...    :exc:`anyio.ClosedResourceError` ...
=================================== ===============================================

:func:`from_trio_stream` and :func:`from_trio_channel` go one way, :func:`to_trio_stream` the
other. Each adapter is a thin delegation; exceptions are translated at the edge by
:func:`_translated`, one table per direction. Trio objects need a Trio event loop, so these
adapters work under AnyIO's Trio backend only.
"""

from __future__ import annotations

import inspect
import operator
from collections.abc import Callable, Iterator, Mapping
from contextlib import AsyncExitStack, contextmanager
from typing import Any, Generic, TypeVar, overload

import anyio
import anyio.abc
import trio
import trio.abc
from anyio.abc import SocketAttribute

from ..protocols import (
    ByteReceiveStream,
    ByteSendStream,
    ByteStream,
    Listener,
    ObjectReceiveStream,
    ObjectSendStream,
)

__all__ = [
    "ByteStreamAsTrioStream",
    "TrioByteReceiveStream",
    "TrioByteSendStream",
    "TrioByteStream",
    "TrioListener",
    "TrioObjectReceiveStream",
    "TrioObjectSendStream",
    "from_trio_channel",
    "from_trio_listener",
    "from_trio_stream",
    "to_trio_stream",
]

T = TypeVar("T")
T_co = TypeVar("T_co", covariant=True)
T_contra = TypeVar("T_contra", contravariant=True)

#: Trio's exception -> the AnyIO exception our side raises instead.
_FROM_TRIO: tuple[tuple[type[Exception], Callable[[], Exception]], ...] = (
    (trio.ClosedResourceError, anyio.ClosedResourceError),
    (trio.BrokenResourceError, anyio.BrokenResourceError),
    (trio.BusyResourceError, lambda: anyio.BusyResourceError("using")),
    (trio.EndOfChannel, anyio.EndOfStream),
)
#: AnyIO's exception -> the Trio exception Trio's side raises instead.
_TO_TRIO: tuple[tuple[type[Exception], Callable[[], Exception]], ...] = (
    (anyio.ClosedResourceError, trio.ClosedResourceError),
    (anyio.BrokenResourceError, trio.BrokenResourceError),
    (anyio.BusyResourceError, trio.BusyResourceError),
)


@contextmanager
def _translated(
    table: tuple[tuple[type[Exception], Callable[[], Exception]], ...],
) -> Iterator[None]:
    """Re-raise a foreign exception listed in ``table`` as its counterpart, chained."""
    try:
        yield
    except Exception as exc:
        for foreign, ours in table:
            if isinstance(exc, foreign):
                raise ours() from exc
        raise


def _socket_attributes(stream: object) -> Mapping[Any, Callable[[], Any]]:
    """AnyIO's socket attributes of a ``trio.SocketStream`` (and nothing for other streams)."""
    if not isinstance(stream, trio.SocketStream):
        return {}
    sock = stream.socket
    attributes: dict[Any, Callable[[], Any]] = {
        SocketAttribute.family: lambda: sock.family,
        SocketAttribute.local_address: lambda: _address(sock.getsockname()),
    }
    try:
        peer = sock.getpeername()
    except OSError:
        peer = None
    if peer is not None:
        attributes[SocketAttribute.remote_address] = lambda: _address(peer)
    if isinstance(sock.getsockname(), tuple):
        attributes[SocketAttribute.local_port] = lambda: sock.getsockname()[1]
        if peer is not None:
            attributes[SocketAttribute.remote_port] = lambda: peer[1]
    return attributes


def _address(address: Any) -> Any:
    # AnyIO reports IP addresses as (host, port), without IPv6's flowinfo and scope_id.
    return address[:2] if isinstance(address, tuple) else address


# -- Trio streams as byte streams ------------------------------------------------------------


class _FromTrioReceive:
    """``receive()`` over ``receive_some()``: ``b""`` becomes EndOfStream."""

    _receive_stream: trio.abc.ReceiveStream

    async def receive(self, max_bytes: int = 65536) -> bytes:
        """Receive at most ``max_bytes`` bytes; raise EndOfStream where Trio returns ``b""``."""
        if operator.index(max_bytes) < 1:
            raise ValueError(f"max_bytes must be at least 1, got {max_bytes}")
        with _translated(_FROM_TRIO):
            data = await self._receive_stream.receive_some(max_bytes)
        if not data:
            raise anyio.EndOfStream
        return bytes(data)


class _FromTrioSend:
    """``send()`` over ``send_all()``."""

    _send_stream: trio.abc.SendStream

    async def send(self, item: bytes) -> None:
        """Send all of ``item``."""
        with _translated(_FROM_TRIO):
            await self._send_stream.send_all(item)


class _FromTrioResource:
    _resource: trio.abc.AsyncResource

    async def aclose(self) -> None:
        """Close the Trio stream."""
        with _translated(_FROM_TRIO):
            await self._resource.aclose()

    @property
    def extra_attributes(self) -> Mapping[Any, Callable[[], Any]]:
        return _socket_attributes(self._resource)


class TrioByteReceiveStream(_FromTrioReceive, _FromTrioResource, anyio.abc.ByteReceiveStream):
    """A ``trio.abc.ReceiveStream`` as a byte receive stream."""

    def __init__(self, stream: trio.abc.ReceiveStream) -> None:
        self._resource = self._receive_stream = stream


class TrioByteSendStream(_FromTrioSend, _FromTrioResource, anyio.abc.ByteSendStream):
    """A ``trio.abc.SendStream`` as a byte send stream."""

    def __init__(self, stream: trio.abc.SendStream) -> None:
        self._resource = self._send_stream = stream


class TrioByteStream(_FromTrioReceive, _FromTrioSend, _FromTrioResource, anyio.abc.ByteStream):
    """A ``trio.abc.Stream`` as a byte stream.

    ``send_eof()`` needs a ``trio.abc.HalfCloseableStream``; over any other Trio stream it
    raises :exc:`NotImplementedError`, as the byte-stream protocol allows.
    """

    def __init__(self, stream: trio.abc.Stream) -> None:
        self._resource = self._receive_stream = self._send_stream = stream

    async def send_eof(self) -> None:
        """Send EOF through the Trio stream's ``send_eof()``."""
        stream = self._resource
        if not isinstance(stream, trio.abc.HalfCloseableStream):
            raise NotImplementedError(
                f"{type(stream).__name__} is not a trio.abc.HalfCloseableStream, so it cannot "
                "end one direction alone"
            )
        with _translated(_FROM_TRIO):
            await stream.send_eof()


@overload
def from_trio_stream(stream: trio.abc.Stream, /) -> ByteStream: ...
@overload
def from_trio_stream(stream: trio.abc.ReceiveStream, /) -> ByteReceiveStream: ...
@overload
def from_trio_stream(stream: trio.abc.SendStream, /) -> ByteSendStream: ...
def from_trio_stream(stream: trio.abc.AsyncResource, /) -> Any:
    """Adapt a Trio stream to the byte-stream role of the same direction.

    :raises TypeError: ``stream`` is not a ``trio.abc`` send or receive stream.
    """
    if isinstance(stream, trio.abc.Stream):
        return TrioByteStream(stream)
    if isinstance(stream, trio.abc.ReceiveStream):
        return TrioByteReceiveStream(stream)
    if isinstance(stream, trio.abc.SendStream):
        return TrioByteSendStream(stream)
    raise TypeError(f"stream must be a trio.abc stream, got {type(stream).__name__}")


# -- Trio channels as object streams -----------------------------------------------------------


class TrioObjectReceiveStream(anyio.abc.ObjectReceiveStream[T_co], Generic[T_co]):
    """A ``trio.abc.ReceiveChannel`` as an object receive stream."""

    def __init__(self, channel: trio.abc.ReceiveChannel[T_co]) -> None:
        self._channel = channel

    async def receive(self) -> T_co:
        """Receive the next item; ``trio.EndOfChannel`` becomes EndOfStream."""
        with _translated(_FROM_TRIO):
            return await self._channel.receive()

    async def aclose(self) -> None:
        """Close the channel."""
        with _translated(_FROM_TRIO):
            await self._channel.aclose()


class TrioObjectSendStream(anyio.abc.ObjectSendStream[T_contra], Generic[T_contra]):
    """A ``trio.abc.SendChannel`` as an object send stream."""

    def __init__(self, channel: trio.abc.SendChannel[T_contra]) -> None:
        self._channel = channel

    async def send(self, item: T_contra) -> None:
        """Send ``item`` through the channel."""
        with _translated(_FROM_TRIO):
            await self._channel.send(item)

    async def aclose(self) -> None:
        """Close the channel: receivers get EndOfStream once it drains."""
        with _translated(_FROM_TRIO):
            await self._channel.aclose()


@overload
def from_trio_channel(channel: trio.abc.ReceiveChannel[T], /) -> ObjectReceiveStream[T]: ...
@overload
def from_trio_channel(channel: trio.abc.SendChannel[T], /) -> ObjectSendStream[T]: ...
def from_trio_channel(channel: Any, /) -> Any:
    """Adapt one end of a Trio channel (``trio.open_memory_channel()``, say) to an object
    stream of the same direction.

    :raises TypeError: ``channel`` is not a ``trio.abc`` send or receive channel.
    """
    if isinstance(channel, trio.abc.ReceiveChannel):
        return TrioObjectReceiveStream(channel)
    if isinstance(channel, trio.abc.SendChannel):
        return TrioObjectSendStream(channel)
    raise TypeError(f"channel must be a trio.abc channel, got {type(channel).__name__}")


# -- Trio listeners as listeners ----------------------------------------------------------------


class TrioListener(anyio.abc.Listener[ByteStream]):
    """A ``trio.abc.Listener`` of Trio streams as a listener of byte streams."""

    def __init__(self, listener: trio.abc.Listener[trio.abc.Stream]) -> None:
        self._listener = listener

    async def serve(
        self, handler: Callable[[ByteStream], Any], task_group: anyio.abc.TaskGroup | None = None
    ) -> None:
        """Accept connections until closed, each adapted and handed to ``handler`` in a task.

        :raises ~anyio.ClosedResourceError: the listener was closed, before or during the call.
        """

        async def run_handler(stream: ByteStream) -> None:
            result = handler(stream)
            if inspect.isawaitable(result):
                await result

        async with AsyncExitStack() as stack:
            if task_group is None:
                task_group = await stack.enter_async_context(anyio.create_task_group())
            while True:
                with _translated(_FROM_TRIO):
                    connection = await self._listener.accept()
                task_group.start_soon(run_handler, TrioByteStream(connection))

    async def aclose(self) -> None:
        """Stop accepting: a running :meth:`serve` raises ClosedResourceError."""
        with _translated(_FROM_TRIO):
            await self._listener.aclose()

    @property
    def extra_attributes(self) -> Mapping[Any, Callable[[], Any]]:
        if not isinstance(self._listener, trio.SocketListener):
            return {}
        sock = self._listener.socket
        attributes: dict[Any, Callable[[], Any]] = {
            SocketAttribute.family: lambda: sock.family,
            SocketAttribute.local_address: lambda: _address(sock.getsockname()),
        }
        if isinstance(sock.getsockname(), tuple):
            attributes[SocketAttribute.local_port] = lambda: sock.getsockname()[1]
        return attributes


def from_trio_listener(listener: trio.abc.Listener[trio.abc.Stream], /) -> Listener[ByteStream]:
    """Adapt a Trio listener (``trio.open_tcp_listeners()``'s, say) to a listener of byte
    streams."""
    return TrioListener(listener)


# -- byte streams as Trio streams --------------------------------------------------------------


class _Exclusive:
    """Lets one task at a time in; a second one gets ``trio.BusyResourceError`` at once."""

    def __init__(self, action: str) -> None:
        self._action = action
        self._busy = False

    @contextmanager
    def __call__(self) -> Iterator[None]:
        if self._busy:
            raise trio.BusyResourceError(f"another task is already {self._action} this stream")
        self._busy = True
        try:
            yield
        finally:
            self._busy = False


class ByteStreamAsTrioStream(trio.abc.HalfCloseableStream):
    """Any conforming byte stream as a ``trio.abc.HalfCloseableStream``.

    Keeps Trio's contract on top of ours: ``receive_some()`` returns ``b""`` at the end of the
    stream (and again on every later call); a second task in ``receive_some()``, or in
    ``send_all()``/``send_eof()``/``wait_send_all_might_not_block()``, gets
    ``trio.BusyResourceError``; every method is a checkpoint. Since the byte-stream protocol
    says nothing about readiness, ``wait_send_all_might_not_block()`` returns at once.
    """

    def __init__(self, stream: ByteStream) -> None:
        self._stream = stream
        self._closed = False
        self._eof_sent = False
        self._receiving = _Exclusive("receiving from")
        self._sending = _Exclusive("sending to")

    async def send_all(self, data: bytes | bytearray | memoryview) -> None:
        """Send all of ``data``."""
        with self._sending(), _translated(_TO_TRIO):
            if self._eof_sent:
                # Trio's contract; byte streams may raise BrokenResourceError here instead.
                raise trio.ClosedResourceError("send_eof() was called already")
            if not data:
                # Trio wants ClosedResourceError and a checkpoint even here; some byte streams
                # return from an empty send at once, closed or not (AnyIO 4.16's sockets).
                self._check_open()
                await trio.lowlevel.checkpoint()
            await self._stream.send(bytes(data))

    async def wait_send_all_might_not_block(self) -> None:
        """Return at once (after a checkpoint): readiness is not part of the byte-stream role."""
        with self._sending():
            self._check_open()
            await trio.lowlevel.checkpoint()

    async def send_eof(self) -> None:
        """End the sending direction."""
        with self._sending(), _translated(_TO_TRIO):
            self._check_open()
            await self._stream.send_eof()
            self._eof_sent = True
            # AnyIO 4.16's socket streams end the direction without a checkpoint.
            await trio.lowlevel.checkpoint()

    async def receive_some(self, max_bytes: int | None = None) -> bytes:
        """Receive up to ``max_bytes`` bytes (65536 by default); ``b""`` at the end."""
        size = 65536 if max_bytes is None else operator.index(max_bytes)
        if size < 1:
            raise ValueError(f"max_bytes must be at least 1, got {size}")
        with self._receiving(), _translated(_TO_TRIO):
            try:
                return await self._stream.receive(size)
            except anyio.EndOfStream:
                return b""

    def _check_open(self) -> None:
        if self._closed:
            raise trio.ClosedResourceError("this stream was closed")

    async def aclose(self) -> None:
        """Close the byte stream; a checkpoint even when it was closed already."""
        self._closed = True
        try:
            with _translated(_TO_TRIO):
                await self._stream.aclose()
        finally:
            await trio.lowlevel.checkpoint()


def to_trio_stream(stream: ByteStream, /) -> trio.abc.HalfCloseableStream:
    """Adapt a byte stream to a ``trio.abc.HalfCloseableStream``."""
    return ByteStreamAsTrioStream(stream)
