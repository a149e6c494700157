"""Trio streams and channels as streamspec roles, and byte streams as Trio streams.

Trio and AnyIO split the same ideas differently (decision 1 in docs/design.rst):

=================================== ===============================================
Trio                                streamspec (AnyIO's shape)
=================================== ===============================================
``receive_some()`` returns ``b""``  ``receive()`` raises :exc:`~anyio.EndOfStream` (ever after)
``send_all(data)``                  ``send(data)``
``trio.EndOfChannel``               :exc:`~anyio.EndOfStream`
``trio.ClosedResourceError`` ...    :exc:`anyio.ClosedResourceError` ...
=================================== ===============================================

:func:`from_trio_stream` and :func:`from_trio_channel` go one way, :func:`to_trio_stream` the
other. :class:`TrioTLSStream` and :class:`TrioTLSListener` give ``trio.SSLStream`` the shape of
AnyIO's ``TLSStream`` and ``TLSListener``. Each adapter is a thin delegation; exceptions are
translated at the edge by :func:`_translated`, one table per direction. Trio objects need a
Trio event loop, so these adapters work under AnyIO's Trio backend only.
"""

from __future__ import annotations

import logging
import ssl
from collections.abc import Callable, Iterator, Mapping
from contextlib import AsyncExitStack, contextmanager
from typing import Any, Generic, TypeVar, overload

import anyio
import anyio.abc
import trio
import trio.abc
from anyio.abc import SocketAttribute
from anyio.streams.tls import TLSAttribute
from typing_extensions import Self

from .._args import count, provides, serve_arguments
from .._busy import BusyGuard
from .._serving import (
    accept_forever,
    check_tls_listener_arguments,
    contained,
    remember_peer,
    report_failed_handshake,
    run_connection,
    serve_listener,
)
from ..protocols import (
    ByteReceiveStream,
    ByteSendStream,
    ByteStream,
    Listener,
    ObjectReceiveStream,
    ObjectSendStream,
)
from ..tls_common import tls_attributes, wrap_settings

__all__ = [
    "ByteStreamAsTrioStream",
    "TrioByteReceiveStream",
    "TrioByteSendStream",
    "TrioByteStream",
    "TrioListener",
    "TrioObjectReceiveStream",
    "TrioObjectSendStream",
    "TrioTLSListener",
    "TrioTLSStream",
    "from_trio_channel",
    "from_trio_listener",
    "from_trio_stream",
    "to_trio_stream",
]

T = TypeVar("T")

_logger = logging.getLogger(__name__)
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
    """``receive()`` over ``receive_some()``: ``b""`` becomes EndOfStream, every time."""

    _receive_stream: trio.abc.ReceiveStream
    #: Whether Trio reported the end of the stream.
    _ended = False

    async def receive(self, max_bytes: int = 65536) -> bytes:
        """Receive at most ``max_bytes`` bytes; raise EndOfStream where Trio returns ``b""``,
        and on every call after that. [BYTE-EOF]"""
        if type(max_bytes) is not int or max_bytes < 1:
            max_bytes = count("max_bytes", max_bytes, 1)
        try:
            with _translated(_FROM_TRIO):
                data = await self._receive_stream.receive_some(max_bytes)
        except anyio.BrokenResourceError:
            # trio.SSLStream reports a lenient ragged end as b"" once, then as broken; the
            # stream ended all the same, and nothing can come after its end.
            if self._ended:
                raise anyio.EndOfStream from None
            raise
        if not data:
            self._ended = True
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
    """Closing and typed attributes of a wrapped Trio stream, shared by the wrappers."""

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
        provides("stream", stream, "receive_some", "aclose")
        self._resource = self._receive_stream = stream


class TrioByteSendStream(_FromTrioSend, _FromTrioResource, anyio.abc.ByteSendStream):
    """A ``trio.abc.SendStream`` as a byte send stream."""

    def __init__(self, stream: trio.abc.SendStream) -> None:
        provides("stream", stream, "send_all", "aclose")
        self._resource = self._send_stream = stream


class TrioByteStream(_FromTrioReceive, _FromTrioSend, _FromTrioResource, anyio.abc.ByteStream):
    """A ``trio.abc.Stream`` as a byte stream.

    ``send_eof()`` needs a ``trio.abc.HalfCloseableStream``; over any other Trio stream it
    raises :exc:`NotImplementedError`, as the byte-stream protocol allows.
    """

    def __init__(self, stream: trio.abc.Stream) -> None:
        provides("stream", stream, "receive_some", "send_all", "aclose")
        self._resource = self._receive_stream = self._send_stream = self._stream = stream

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
        provides("channel", channel, "receive", "aclose", what="a Trio channel")
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
        provides("channel", channel, "send", "aclose", what="a Trio channel")
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
        provides("listener", listener, "accept", "aclose", what="a Trio listener")
        self._listener = listener

    async def serve(
        self, handler: Callable[[ByteStream], Any], task_group: anyio.abc.TaskGroup | None = None
    ) -> None:
        """Accept connections until closed, each adapted and handed to ``handler`` in a task.

        A server outlives its clients (decision 10 in docs/design.rst), as with
        :class:`~streamspec.tls.TLSListener`: running out of file descriptors (``accept()``
        failing with EMFILE, ENFILE, ENOBUFS or ENOMEM) is logged once per burst and accepting
        resumes when it passes; a failure that a client causes in its own connection and that
        reaches the end of ``handler`` closes that connection and is logged at ``INFO`` on the
        ``streamspec.adapters.trio`` logger. Anything else ``handler`` raises propagates.

        :raises ~anyio.ClosedResourceError: the listener was closed, before or during the call.
        :raises TypeError: ``handler`` is not callable, or ``task_group`` is not a task group.
        """
        serve_arguments(handler, task_group)
        task = contained(handler, _logger)
        async with AsyncExitStack() as stack:
            if task_group is None:
                task_group = await stack.enter_async_context(anyio.create_task_group())
            await accept_forever(self._accept, task, task_group, _logger)

    async def _accept(self) -> ByteStream:
        with _translated(_FROM_TRIO):
            return TrioByteStream(await self._listener.accept())

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


def _trio_busy(action: str) -> trio.BusyResourceError:
    return trio.BusyResourceError(f"another task is already {action} this stream")


class ByteStreamAsTrioStream(trio.abc.HalfCloseableStream):
    """Any conforming byte stream as a ``trio.abc.HalfCloseableStream``.

    Keeps Trio's contract on top of ours: ``receive_some()`` returns ``b""`` at the end of the
    stream (and again on every later call); a second task in ``receive_some()``, or in
    ``send_all()``/``send_eof()``/``wait_send_all_might_not_block()``, gets
    ``trio.BusyResourceError``; every method is a checkpoint. Since the byte-stream protocol
    says nothing about readiness, ``wait_send_all_might_not_block()`` returns at once.
    """

    def __init__(self, stream: ByteStream) -> None:
        provides("stream", stream, "receive", "send", "send_eof", "aclose")
        self._stream = stream
        self._closed = False
        self._eof_sent = False
        self._receiving = BusyGuard("receiving from", _trio_busy)
        self._sending = BusyGuard("sending to", _trio_busy)

    async def send_all(self, data: bytes | bytearray | memoryview) -> None:
        """Send all of ``data``."""
        with self._sending, _translated(_TO_TRIO):
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
        with self._sending:
            self._check_open()
            await trio.lowlevel.checkpoint()

    async def send_eof(self) -> None:
        """End the sending direction."""
        with self._sending, _translated(_TO_TRIO):
            self._check_open()
            await self._stream.send_eof()
            self._eof_sent = True
            # AnyIO 4.16's socket streams end the direction without a checkpoint.
            await trio.lowlevel.checkpoint()

    async def receive_some(self, max_bytes: int | None = None) -> bytes:
        """Receive up to ``max_bytes`` bytes (65536 by default); ``b""`` at the end."""
        size = 65536 if max_bytes is None else count("max_bytes", max_bytes, 1)
        with self._receiving, _translated(_TO_TRIO):
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


# -- Trio's TLS as TLS byte streams -------------------------------------------------------------


def _as_trio_stream(stream: ByteStream) -> trio.abc.Stream:
    """The Trio stream beneath ``stream`` if :func:`from_trio_stream` made it, so that Trio's
    TLS runs straight on Trio's own stream; any other byte stream through :func:`to_trio_stream`.
    """
    if isinstance(stream, TrioByteStream):
        return stream._stream
    return to_trio_stream(stream)


class TrioTLSStream(_FromTrioReceive, _FromTrioSend, anyio.abc.ByteStream):
    """A ``trio.SSLStream`` as a TLS byte stream of AnyIO's shape
    (:class:`anyio.streams.tls.TLSStream`'s). Make one with :meth:`wrap`.

    Trio does the TLS; this class only changes the shape. Trio's ``https_compatible`` is the
    opposite of ``standard_compatible``: when ``standard_compatible`` is ``True``, ``aclose()``
    sends ``close_notify`` [TLS-CLOSE-NOTIFY] and a transport that ends without the peer's is
    :exc:`~anyio.BrokenResourceError` [TLS-RAGGED-EOF-STRICT]; when ``False``, ``aclose()`` just
    closes the transport and such an end is :exc:`~anyio.EndOfStream`
    [TLS-RAGGED-EOF-LENIENT]. Every :class:`~anyio.streams.tls.TLSAttribute` is provided, and
    the transport's attributes pass through [TLS-ATTRIBUTES] [TLS-ALPN].

    Where Trio's design shows through:

    * A refused certificate, like every other TLS failure, raises
      :exc:`~anyio.BrokenResourceError` with the :exc:`ssl.SSLError` (an
      :exc:`ssl.SSLCertVerificationError` for a refused certificate) at the end of its
      ``__cause__`` chain, where AnyIO raises the ``ssl`` error itself.
    * ``aclose()`` sends ``close_notify`` and closes the transport without waiting for the
      peer's, where AnyIO's waits for it.
    * :meth:`send_eof` raises :exc:`NotImplementedError`: ``trio.SSLStream`` is not a
      ``trio.abc.HalfCloseableStream``.
    """

    #: The byte stream the TLS records travel over, as given to :meth:`wrap`.
    transport_stream: ByteStream
    #: Whether this stream sends ``close_notify`` on close and insists on the peer's.
    standard_compatible: bool

    def __init__(
        self,
        ssl_stream: trio.SSLStream[trio.abc.Stream],
        transport_stream: ByteStream,
        standard_compatible: bool,
    ) -> None:
        """Not public: use :meth:`wrap`, which also does the handshake."""
        self._ssl_stream = self._receive_stream = self._send_stream = ssl_stream
        self.transport_stream = transport_stream
        self.standard_compatible = standard_compatible
        self._closed = False  # by aclose() or unwrap(): Trio's own state is private
        # Trio forwards the ssl object's methods but not the object itself; a forwarded bound
        # method knows it, which spares us Trio's private attribute.
        ssl_object = ssl_stream.pending.__self__
        assert isinstance(ssl_object, ssl.SSLObject)
        self._ssl_object = ssl_object

    @classmethod
    async def wrap(
        cls,
        transport_stream: ByteStream,
        *,
        server_side: bool | None = None,
        hostname: str | None = None,
        ssl_context: ssl.SSLContext | None = None,
        standard_compatible: bool = True,
    ) -> Self:
        """Do a TLS handshake with ``trio.SSLStream`` over ``transport_stream`` and return the
        TLS stream.

        The parameters are :meth:`anyio.streams.tls.TLSStream.wrap`'s, and so are the
        defaults: ``server_side`` is ``True`` when no ``hostname`` is given, and without an
        ``ssl_context`` one comes from :func:`ssl.create_default_context` for the right
        purpose. A transport made by :func:`from_trio_stream` is unwrapped, so Trio's TLS runs
        directly on Trio's stream; any other goes through :func:`to_trio_stream`.

        :param transport_stream: a byte stream connected to the peer; the TLS stream owns it
            from now on, except when the handshake fails (then the caller closes it).
        :raises ~anyio.BrokenResourceError: the handshake failed: the peer's certificate was
            refused [TLS-HOSTNAME] [TLS-UNTRUSTED], the peer sent an alert or bytes that are
            not TLS, or the transport ended or failed. The :exc:`ssl.SSLError`, if any, ends
            the ``__cause__`` chain.
        :raises TypeError: ``transport_stream`` is not a stream, ``server_side`` or
            ``standard_compatible`` is not a bool, ``hostname`` is not a str (or None), or
            ``ssl_context`` is not an :class:`ssl.SSLContext`.
        :raises ValueError: a client has no ``hostname`` and its context checks host names
            (without a name, any trusted certificate for any host would do); ``hostname``
            holds a NUL or is not a valid domain name; a server was given a ``hostname``.
        """
        settings = wrap_settings(
            transport_stream,
            server_side=server_side,
            hostname=hostname,
            ssl_context=ssl_context,
            standard_compatible=standard_compatible,
        )
        ssl_stream = trio.SSLStream(
            _as_trio_stream(transport_stream),
            settings.ssl_context,
            server_hostname=settings.server_hostname,
            server_side=settings.server_side,
            https_compatible=not standard_compatible,
        )
        with _translated(_FROM_TRIO):
            await ssl_stream.do_handshake()
        return cls(ssl_stream, transport_stream, standard_compatible)

    async def send_eof(self) -> None:
        """Raise :exc:`NotImplementedError`: Trio's TLS cannot end one direction alone.

        :raises ~anyio.ClosedResourceError: the stream was closed or unwrapped. [BYTE-CLOSED]
        """
        await trio.lowlevel.checkpoint()
        if self._closed:
            raise anyio.ClosedResourceError
        raise NotImplementedError(
            "trio.SSLStream is not a trio.abc.HalfCloseableStream, so it cannot end one "
            "direction alone"
        )

    async def unwrap(self) -> tuple[ByteStream, bytes]:
        """Exchange ``close_notify`` with the peer and return the transport with the bytes
        already read past the session's end, which belong to whatever comes next.
        [TLS-UNWRAP]

        :raises ~anyio.BrokenResourceError: the closing exchange failed.
        """
        with _translated(_FROM_TRIO):
            _, leftover = await self._ssl_stream.unwrap()
        self._closed = True
        return self.transport_stream, bytes(leftover)

    async def aclose(self) -> None:
        """Close the TLS stream and its transport; with ``standard_compatible``, send
        ``close_notify`` first (without waiting for the peer's)."""
        self._closed = True
        with _translated(_FROM_TRIO):
            await self._ssl_stream.aclose()

    @property
    def extra_attributes(self) -> Mapping[Any, Callable[[], Any]]:
        return {
            **self.transport_stream.extra_attributes,
            **tls_attributes(self._ssl_object, self.standard_compatible),
        }


class TrioTLSListener(anyio.abc.Listener[TrioTLSStream]):
    """Wraps a listener of byte streams so that every connection gets a handshake with Trio's
    TLS before it reaches the handler, as AnyIO's :class:`~anyio.streams.tls.TLSListener`
    does.

    ``trio.SSLListener`` is not adapted: it hands out each stream before its handshake (Trio
    does the handshake lazily, on the first send or receive) and has no handshake timeout, so
    a client that stalls would hold a handler forever. This listener does the handshake first,
    in the connection's own task and under ``handshake_timeout``; a handshake that fails or
    times out (a client that sends garbage, stalls or vanishes) goes to
    :meth:`handle_handshake_error`, and the listener keeps serving. [TLS-LISTENER-SURVIVES]

    :param listener: the listener to wrap (one from :func:`from_trio_listener`, say); closing
        this listener closes it.
    :param ssl_context: the server's settings, with its certificate loaded.
    :param standard_compatible: passed to :meth:`TrioTLSStream.wrap` for every connection.
    :param handshake_timeout: seconds a client gets to complete its handshake.
    :raises TypeError, ValueError: as :class:`streamspec.tls.TLSListener` does, for the same
        arguments.
    """

    def __init__(
        self,
        listener: Listener[ByteStream],
        ssl_context: ssl.SSLContext,
        standard_compatible: bool = True,
        handshake_timeout: float = 30,
    ) -> None:
        check_tls_listener_arguments(listener, ssl_context, standard_compatible, handshake_timeout)
        self.listener = listener
        self.ssl_context = ssl_context
        self.standard_compatible = standard_compatible
        self.handshake_timeout = handshake_timeout

    @staticmethod
    async def handle_handshake_error(exc: BaseException, stream: ByteStream) -> None:
        """Deal with a connection whose handshake failed as
        :meth:`streamspec.tls.TLSListener.handle_handshake_error` does, on the
        ``streamspec.adapters.trio`` logger."""
        await report_failed_handshake(exc, stream, _logger)

    async def serve(
        self,
        handler: Callable[[TrioTLSStream], Any],
        task_group: anyio.abc.TaskGroup | None = None,
    ) -> None:
        """Serve as the wrapped listener does, handing ``handler`` each connection after its
        TLS handshake, with :meth:`streamspec.tls.TLSListener.serve`'s guarantees: a failure
        a client causes in its own connection stays there, and AnyIO's and streamspec's
        listeners ride out running out of file descriptors.

        :raises TypeError: ``handler`` is not callable, or ``task_group`` is not a task group.
        """
        serve_arguments(handler, task_group)

        async def handshake_then_handle(transport: ByteStream) -> None:
            peer = remember_peer(transport)
            try:
                with anyio.fail_after(self.handshake_timeout):
                    stream = await TrioTLSStream.wrap(
                        transport,
                        server_side=True,
                        ssl_context=self.ssl_context,
                        standard_compatible=self.standard_compatible,
                    )
            except BaseException as exc:
                await self.handle_handshake_error(exc, transport)
            else:
                await run_connection(handler, stream, peer, _logger)

        await serve_listener(self.listener, handshake_then_handle, task_group, _logger)

    async def aclose(self) -> None:
        """Close the wrapped listener."""
        await self.listener.aclose()

    @property
    def extra_attributes(self) -> Mapping[Any, Callable[[], Any]]:
        return {
            **self.listener.extra_attributes,
            TLSAttribute.standard_compatible: lambda: self.standard_compatible,
        }
