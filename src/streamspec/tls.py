"""TLS over any byte stream: :class:`TLSStream`, and :class:`TLSListener` for servers.

A drop-in for :mod:`anyio.streams.tls` (same names, signatures, exceptions and attribute keys),
with the differences the TLS guide (``docs/guide/tls.rst``) lists.

How a :class:`TLSStream` works: a :class:`~streamspec._tls_session.TLSSession` holds the TLS
session (the ``ssl`` object, its two buffers, plaintext decrypted ahead, and one state value
with its table of transitions) and never waits; a :class:`~streamspec._tls_wire.WireDriver`
is the only code that awaits the transport, and every operation goes through its
:meth:`~streamspec._tls_wire.WireDriver.retry`. The rules that let one task receive while
another sends are stated once, in :mod:`streamspec._tls_wire`. This class checks arguments,
keeps out a second concurrent receiver or sender, and decides what each operation asks of the
two.
"""

from __future__ import annotations

import functools
import logging
import ssl
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import anyio
import anyio.abc
import anyio.lowlevel
from anyio.streams.tls import TLSAttribute
from typing_extensions import Self

from ._args import connectable as _check_connectable
from ._args import count, flag, instance, string
from ._busy import BusyGuard
from ._parking import current_backend, pending_cancellation
from ._serving import (
    check_tls_listener_arguments,
    remember_peer,
    report_failed_handshake,
    run_connection,
    serve_listener,
)
from ._tls_errors import Phase
from ._tls_session import State, TLSSession
from ._tls_wire import SEND_SLICE, WireDriver
from .protocols import AnyByteStream, AnyByteStreamConnectable, AsyncResource
from .tls_common import tls_attributes, wrap_settings

__all__ = ["TLSAttribute", "TLSConnectable", "TLSListener", "TLSStream", "tls_attributes"]

_logger = logging.getLogger(__name__)


def _slices(plaintext: memoryview, size: int) -> Iterable[memoryview]:
    """The slices of a big ``send()``, made one at a time as they are encrypted."""
    return (plaintext[at : at + SEND_SLICE] for at in range(0, size, SEND_SLICE))


async def _close_at_once(resource: AsyncResource) -> None:
    """Close ``resource`` without letting it wait for anything (AnyIO's ``aclose_forcefully``
    for any resource, not only AnyIO's)."""
    with anyio.CancelScope() as scope:
        scope.cancel()
        await resource.aclose()


def _as_bytes(item: object) -> memoryview:
    """A bytes-like ``item`` as a memoryview of bytes, or a TypeError naming ``item``."""
    try:
        return memoryview(item).cast("B")  # type: ignore[arg-type]
    except TypeError:
        raise TypeError(f"item must be bytes, not {type(item).__name__}") from None


class TLSStream(anyio.abc.ByteStream):
    """A byte stream that encrypts what it sends and decrypts what it receives, over any byte
    stream or object stream of bytes. Make one with :meth:`wrap`.

    It keeps the :class:`streamspec.TLSByteStream` contract: data crosses intact whatever the
    transport's chunking [TLS-INTACT]; clients refuse certificates for other hosts
    [TLS-HOSTNAME] and from untrusted issuers [TLS-UNTRUSTED]; ``aclose()`` sends
    ``close_notify`` [TLS-CLOSE-NOTIFY]; a transport that ends without it is
    :exc:`~anyio.BrokenResourceError` [TLS-RAGGED-EOF-STRICT] or, with
    ``standard_compatible=False``, :exc:`~anyio.EndOfStream` [TLS-RAGGED-EOF-LENIENT]; every
    :class:`~anyio.streams.tls.TLSAttribute` is provided and the transport's attributes pass
    through [TLS-ATTRIBUTES] [TLS-ALPN]; ``unwrap()`` hands the transport back [TLS-UNWRAP].

    One task may receive while another sends. A second concurrent ``receive()``, or a second
    concurrent ``send()``/``send_eof()``, raises :exc:`~anyio.BusyResourceError` and changes
    nothing. Every operation is a checkpoint. [ASYNC-CHECKPOINT]

    After a failure of the TLS session or of a send (see :meth:`send`) the stream is broken:
    every operation raises :exc:`~anyio.BrokenResourceError`, and :meth:`aclose` closes the
    transport without a ``close_notify``.
    """

    #: The stream the TLS records travel over.
    transport_stream: AnyByteStream
    #: Whether this stream sends ``close_notify`` on close and insists on the peer's.
    standard_compatible: bool

    def __init__(
        self,
        transport_stream: AnyByteStream,
        standard_compatible: bool,
        ssl_object: ssl.SSLObject,
        incoming: ssl.MemoryBIO,
        outgoing: ssl.MemoryBIO,
    ) -> None:
        """Not public: use :meth:`wrap`, which also does the handshake."""
        self.transport_stream = transport_stream
        self.standard_compatible = standard_compatible
        session = TLSSession(ssl_object, incoming, outgoing, standard_compatible)
        self._session = session
        self._wire = WireDriver(session, transport_stream)
        self._receive_guard = BusyGuard("receiving from")
        self._send_guard = BusyGuard("sending to")

    # -- making one -----------------------------------------------------------------------------

    @classmethod
    async def wrap(
        cls,
        transport_stream: AnyByteStream,
        *,
        server_side: bool | None = None,
        hostname: str | None = None,
        ssl_context: ssl.SSLContext | None = None,
        standard_compatible: bool = True,
    ) -> Self:
        """Do a TLS handshake over ``transport_stream`` and return the TLS stream.

        :param transport_stream: a byte stream, or an object stream of bytes, connected to the
            peer. The TLS stream owns it from now on, except when the handshake fails.
        :param server_side: whether this is the server end; by default it is when no
            ``hostname`` is given.
        :param hostname: the peer's host name. A client checks the server's certificate
            against it, and must be given one unless its ``ssl_context`` has
            :attr:`~ssl.SSLContext.check_hostname` off (without a name, any trusted
            certificate for any host would do). An internationalised name is converted with
            IDNA 2008 (UTS #46), so ``"bücher.example"`` verifies against a certificate for
            ``"xn--bcher-kva.example"``.
        :param ssl_context: the settings; by default :func:`ssl.create_default_context` for
            the right purpose (a client verifies the server against the system's trusted CAs
            and checks its host name; a server has no certificate until you load one). A
            context whose class is not exactly :class:`ssl.SSLContext` creates its ``ssl``
            object in a worker thread, since it may do blocking I/O there.
        :param standard_compatible: ``True`` to send ``close_notify`` on close and to treat a
            transport that ends without the peer's ``close_notify`` as broken; ``False`` to
            skip the former and accept the latter as the end of the stream.
        :raises ssl.SSLCertVerificationError: the peer's certificate was refused: it is not for
            ``hostname`` [TLS-HOSTNAME], or not from a trusted issuer [TLS-UNTRUSTED]. As in
            AnyIO and the standard library, a refusal stays an :mod:`ssl` error, so callers
            can tell "not who it claims to be" from a network failure.
        :raises ssl.SSLError: the TLS handshake failed otherwise: the peer sent an alert (it
            refused our certificate, or no protocol version is acceptable to both) or bytes
            that are not TLS.
        :raises ~anyio.BrokenResourceError: the transport ended or failed before the handshake
            completed (whatever ``standard_compatible`` says).
        :raises TypeError: ``transport_stream`` is not a stream, ``server_side`` or
            ``standard_compatible`` is not a bool, ``hostname`` is not a str (or None), or
            ``ssl_context`` is not an :class:`ssl.SSLContext`.
        :raises ValueError: a client has no ``hostname`` and its context checks host names;
            ``hostname`` holds a NUL or is not a valid domain name; a server was given a
            ``hostname``.

        When the handshake fails, the transport is left open for the caller to close. Our
        side's alert, if OpenSSL wrote one, is sent before the exception is raised.
        """
        settings = wrap_settings(
            transport_stream,
            server_side=server_side,
            hostname=hostname,
            ssl_context=ssl_context,
            standard_compatible=standard_compatible,
        )
        incoming, outgoing = ssl.MemoryBIO(), ssl.MemoryBIO()
        make_ssl_object = functools.partial(
            settings.ssl_context.wrap_bio,
            incoming,
            outgoing,
            server_side=settings.server_side,
            server_hostname=settings.server_hostname,
        )
        if type(settings.ssl_context) is ssl.SSLContext:
            ssl_object = make_ssl_object()
        else:
            ssl_object = await anyio.to_thread.run_sync(make_ssl_object)
        stream = cls(transport_stream, standard_compatible, ssl_object, incoming, outgoing)
        wire = stream._wire
        if settings.server_side:
            # A server's handshake starts with the client's hello: read it first, rather
            # than let the first do_handshake() find nothing and ask for it.
            await wire.await_input()
        await wire.retry(ssl_object.do_handshake, phase=Phase.HANDSHAKE)
        stream._session.handshake_done()
        return stream

    # -- the byte stream ------------------------------------------------------------------------

    async def receive(self, max_bytes: int = 65536) -> bytes:
        """Decrypt and return up to ``max_bytes`` bytes, as
        :meth:`streamspec.ByteReceiveStream.receive` describes. It returns every byte
        already decrypted or decryptable (up to ``max_bytes``) and waits only when there is
        none.

        :raises TypeError: ``max_bytes`` is not an integer (a ``bool`` is not one); nothing is
            read.
        :raises ValueError: ``max_bytes`` is less than 1; nothing is read.
            [BYTE-MAX-BYTES-INVALID]
        :raises ~anyio.EndOfStream: the peer sent ``close_notify``; or, when
            ``standard_compatible`` is ``False``, the transport ended without it.
            [TLS-CLOSE-NOTIFY] [TLS-RAGGED-EOF-LENIENT]
        :raises ~anyio.BrokenResourceError: the transport ended without the peer's
            ``close_notify`` and ``standard_compatible`` is ``True`` [TLS-RAGGED-EOF-STRICT];
            or the TLS session failed (a corrupted record, an alert from the peer), with the
            :exc:`ssl.SSLError` as ``__cause__``; or the stream was already broken.
        :raises ~anyio.BusyResourceError: another task is receiving.

        A cancelled ``receive()`` loses nothing: the ciphertext it read is decrypted by the
        next one. It is a checkpoint [ASYNC-CHECKPOINT]; when it has to read the transport
        first, the transport's ``receive()`` is that checkpoint (as every AnyIO stream's is).
        """
        if type(max_bytes) is not int or max_bytes < 1:
            if isinstance(max_bytes, bool):
                raise TypeError("max_bytes must be an int, not bool")
            max_bytes = count("max_bytes", max_bytes, 1)
        guard = self._receive_guard
        guard.enter()  # not ``with``: its two calls per receive show in bulk transfers
        try:
            session, wire = self._session, self._wire
            backend = None
            if session.needs_input():
                # The usual case in a busy stream: the transport's receive() comes first and
                # is the checkpoint, as every AnyIO stream's is.
                await wire.await_input(sender=False)
            else:
                # Check in before taking anything, so a cancelled receive() takes nothing. On
                # asyncio this is a yield, and so also the schedule point; Trio's is a
                # cancellation check, and its schedule point comes after (see _parking).
                backend = current_backend()
                await backend.checkpoint()
            # The first read is made here, and handed to the driver only when it needs more
            # of the peer's bytes (the driver's wait is then the schedule point): a coroutine
            # call per receive shows in bulk transfers.
            try:
                data = session.read(max_bytes)
            except ssl.SSLWantReadError:
                return await wire.retry(session.read, max_bytes, phase=Phase.RECEIVE, sender=False)
            if backend is not None and backend.schedule_point is not None:
                await backend.schedule_point()
            return data
        finally:
            guard.busy = False

    async def send(self, item: bytes) -> None:
        """Encrypt ``item`` and send it, as :meth:`streamspec.ByteSendStream.send` describes.

        The ciphertext goes out in slices of a bounded size as it is made, so sending even
        hundreds of megabytes holds no more than one slice's ciphertext in memory.

        If ``send()`` is cancelled or fails after it began encrypting, an unknown prefix of
        ``item`` reached the peer and the stream is broken: the next operation raises
        :exc:`~anyio.BrokenResourceError`. Cancelled before that (in its first checkpoint), it
        sent nothing and the stream is intact.

        :raises ~anyio.ClosedResourceError: the stream was closed, or :meth:`send_eof` was
            called. [BYTE-CLOSED]
        :raises ~anyio.BrokenResourceError: the stream is broken, the TLS session failed (with
            the :exc:`ssl.SSLError` as ``__cause__``), or the transport did (its own error).
        :raises ~anyio.BusyResourceError: another task is sending.
        :raises TypeError: ``item`` is not bytes-like; nothing is sent.
        """
        # The transport's send() is the schedule point; a cancellation must strike before
        # anything is encrypted, so it is checked first: by the parking layer, which costs a
        # fraction of AnyIO's checkpoint_if_cancelled() and its backend dispatch.
        if (pending := pending_cancellation()) is not None:
            await pending
        guard = self._send_guard
        guard.enter()  # not ``with``, as in receive()
        try:
            session = self._session
            if session.state is not State.OPEN:
                session.check_sendable()
            plaintext: bytes | memoryview = item if type(item) is bytes else _as_bytes(item)
            size = len(plaintext)
            if not size:
                await anyio.lowlevel.cancel_shielded_checkpoint()
                return
            # Slices of a big item are made one at a time, as they are encrypted (rule 4 of
            # _tls_wire).
            pieces: Iterable[bytes | memoryview] = (
                (plaintext,) if size <= SEND_SLICE else _slices(memoryview(plaintext), size)
            )
            wire, write = self._wire, session.ssl_core.write
            try:
                for piece in pieces:
                    # The write is made here, and handed to the driver only when it needs the
                    # peer's bytes (a renegotiation): a coroutine call per send shows in bulk
                    # transfers.
                    try:
                        write(piece)
                    except ssl.SSLWantReadError:
                        await wire.retry(write, piece, phase=Phase.SEND)
                    except ssl.SSLError as exc:
                        raise await wire.failure(exc, Phase.SEND) from None
                    await wire.flush()
            except BaseException as exc:
                session.fail(exc)
                raise
        finally:
            guard.busy = False

    async def send_eof(self) -> None:
        """End the sending direction with a TLS 1.3 ``close_notify`` and keep receiving, as
        :meth:`streamspec.ByteStream.send_eof` describes. [BYTE-SEND-EOF]

        TLS 1.3 (RFC 8446, section 6.1) lets each side close its writing direction alone; the
        peer's ``receive()`` raises :exc:`~anyio.EndOfStream` while it can still send. Bytes
        the peer sends later are received normally, and its own ``close_notify`` then ends
        this side too. A second call does nothing.

        :raises NotImplementedError: the session is older than TLS 1.3, whose ``close_notify``
            obliges the peer to close at once and discard what it was still sending.
        :raises ~anyio.ClosedResourceError: the stream was closed. [BYTE-CLOSED]
        :raises ~anyio.BrokenResourceError: the stream is broken, or sending failed.
        :raises ~anyio.BusyResourceError: another task is sending.
        """
        await anyio.lowlevel.checkpoint_if_cancelled()
        with self._send_guard:
            session = self._session
            session.check_usable()
            if session.we_ended:
                await anyio.lowlevel.cancel_shielded_checkpoint()
                return
            version = session.ssl_object.version()
            if version != "TLSv1.3":
                raise NotImplementedError(
                    f"send_eof() needs TLS 1.3, and this session uses {version}: before TLS "
                    "1.3 a close_notify obliges the peer to close its direction too"
                )
            session.end_sending()
            try:
                await self._wire.flush()
            except BaseException as exc:
                session.fail(exc)
                raise

    async def unwrap(self) -> tuple[AnyByteStream, bytes]:
        """End the TLS session with a closing handshake and hand back the transport, as
        :meth:`streamspec.SupportsUnwrap.unwrap` describes. [TLS-UNWRAP]

        It sends ``close_notify`` (unless :meth:`send_eof` already did) and waits for the
        peer's. Afterwards this stream is finished: its operations raise
        :exc:`~anyio.ClosedResourceError`, and :meth:`aclose` leaves the transport, which now
        belongs to the caller, open.

        :returns: the transport, and the bytes read from it past the peer's ``close_notify``.
        :raises ~anyio.BrokenResourceError: the closing handshake failed: the transport ended
            first, or the peer sent more application data instead (including data decrypted
            by :meth:`send_eof` and not yet received, which would otherwise be lost).
        :raises ~anyio.ClosedResourceError: the stream was closed.
        :raises ~anyio.BusyResourceError: another task is sending or receiving.
        """
        await anyio.lowlevel.checkpoint_if_cancelled()
        with self._receive_guard, self._send_guard:
            session = self._session
            session.check_usable()
            if session.unread_size:
                raise anyio.BrokenResourceError(
                    f"unwrap() would discard {session.unread_size} bytes of application data "
                    "that the peer sent and that were not received yet"
                )
            try:
                await self._wire.retry(session.ssl_object.unwrap, phase=Phase.CLOSING)
            except BaseException as exc:
                session.fail(exc)
                raise
            session.close()
            return self.transport_stream, session.take_leftover()

    async def aclose(self) -> None:
        """Close the stream and its transport, as :meth:`streamspec.AsyncResource.aclose`
        describes. [RES-ACLOSE-IDEMPOTENT] [RES-ACLOSE-CANCELLED] [BYTE-CLOSED-WAKES]
        [TLS-ACLOSE-QUIET]

        When ``standard_compatible`` is ``True`` and the stream is not broken, it first sends
        ``close_notify`` [TLS-CLOSE-NOTIFY] (unless :meth:`send_eof` already did, or a send
        is underway: the transport is then closed under it, and the peer sees the stream cut
        short). Then, unless another task is reading the transport, it takes in and drops
        what the peer sends until the peer's own ``close_notify``: a TCP connection closed
        with unread bytes in it (TLS 1.3 session tickets, say) is reset by the kernel, which a
        peer still closing gracefully sees as an error. Sending and taking in stop after a
        quarter of a second together, since TLS does not require the peer's answer and a
        peer that is not reading would make closing hang. A failure to send ``close_notify``
        is not raised; the transport is closed all the same.
        """
        session, wire = self._session, self._wire
        if session.state is State.CLOSED:
            return
        polite = (
            session.may_end_politely
            and not self._send_guard.busy  # a send is underway
            and not wire.send_lock.held
        )
        try:
            if polite:
                session.write_close_notify()
                session.close()
                # Another task reading the transport is woken by the close instead.
                await wire.say_goodbye(take_in_answer=not wire.receive_lock.held)
            else:
                session.close()
        except Exception:
            pass  # a failed close_notify must not stop the close
        except BaseException:
            await _close_at_once(self.transport_stream)
            raise
        await self.transport_stream.aclose()

    @property
    def extra_attributes(self) -> Mapping[Any, Callable[[], Any]]:
        """The transport's attributes, and every :class:`~anyio.streams.tls.TLSAttribute`.
        [TLS-ATTRIBUTES]"""
        return {
            **self.transport_stream.extra_attributes,
            **tls_attributes(self._session.ssl_object, self.standard_compatible),
        }


@dataclass(eq=False)
class TLSListener(anyio.abc.Listener[TLSStream]):
    """Wraps a listener so that every connection it accepts gets a TLS handshake before it
    reaches the handler, as :class:`streamspec.Listener` describes.

    A server outlives its clients (decision 10 in docs/design.rst):

    * Each handshake runs in the connection's own task under ``handshake_timeout``, so a slow
      client delays nobody else. A handshake that fails or times out (a client that sends
      garbage, stalls or vanishes) goes to :meth:`handle_handshake_error`, which closes the
      connection and logs it once; the listener keeps serving. [TLS-LISTENER-SURVIVES]
    * A failure that a client causes in its own connection after the handshake (it resets,
      vanishes, ends TCP without ``close_notify``) and that reaches the end of the handler is
      kept to that connection: the stream is closed and one ``INFO`` line logged. Any other
      exception of the handler propagates out of :meth:`serve`.
    * Running out of file descriptors (``accept()`` failing with EMFILE, ENFILE, ENOBUFS or
      ENOMEM) is logged once per burst, and accepting resumes when it passes. This holds for
      AnyIO's socket listeners and multi-listeners and for streamspec's; another listener's
      ``serve()`` is its own.

    Its attributes are the wrapped listener's (its local address, say) and
    :attr:`~anyio.streams.tls.TLSAttribute.standard_compatible`.

    :param listener: the listener to wrap; closing this listener closes it.
    :param ssl_context: the server's settings, with its certificate loaded.
    :param standard_compatible: passed to :meth:`TLSStream.wrap` for every connection.
    :param handshake_timeout: seconds a client gets to complete its handshake.
    :raises TypeError: ``listener`` is not a listener, ``ssl_context`` not an
        :class:`ssl.SSLContext`, ``standard_compatible`` not a bool, or ``handshake_timeout``
        not a real number.
    :raises ValueError: ``ssl_context`` is a client's context (``ssl.PROTOCOL_TLS_CLIENT``, or
        ``check_hostname`` on), or ``handshake_timeout`` is not finite and positive.
    """

    listener: anyio.abc.Listener[Any]
    ssl_context: ssl.SSLContext
    standard_compatible: bool = True
    handshake_timeout: float = 30

    def __post_init__(self) -> None:
        check_tls_listener_arguments(
            self.listener, self.ssl_context, self.standard_compatible, self.handshake_timeout
        )

    @staticmethod
    async def handle_handshake_error(exc: BaseException, stream: anyio.abc.AnyByteStream) -> None:
        """Deal with a connection whose handshake failed: close ``stream`` at once and log one
        line on the ``streamspec.tls`` logger, naming the client's address as it was when the
        connection was accepted and what went wrong, with the traceback only when the logger
        is enabled for ``DEBUG``. A client that went away or timed out is logged at ``INFO``,
        a handshake that failed on its merits (not TLS, a refused version or certificate) at
        ``WARNING``.

        Override it to do something else; a static or an instance method works. ``stream`` is
        annotated with AnyIO's type, as in AnyIO, so an override written for
        :class:`anyio.streams.tls.TLSListener` type-checks here too. A
        cancellation or other :exc:`BaseException` (one that is not an :exc:`Exception`) is
        not logged but raised again after the close, as it is not the client's doing.
        """
        await report_failed_handshake(exc, stream, _logger)

    async def serve(
        self, handler: Callable[[TLSStream], Any], task_group: anyio.abc.TaskGroup | None = None
    ) -> None:
        """Serve as :meth:`streamspec.Listener.serve` describes, handing ``handler`` each
        connection after its TLS handshake. [LISTEN-SERVE]

        :raises ~anyio.ClosedResourceError: the listener was closed, before the call or while
            it was serving.
        :raises Exception: what ``handler`` raised, unless it is a failure its client caused
            (see the class docstring).
        """

        async def handshake_then_handle(transport: anyio.abc.AnyByteStream) -> None:
            peer = remember_peer(transport)
            try:
                with anyio.fail_after(self.handshake_timeout):
                    stream = await TLSStream.wrap(
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
        """Close the wrapped listener. [LISTEN-CLOSE]"""
        await self.listener.aclose()

    @property
    def extra_attributes(self) -> Mapping[Any, Callable[[], Any]]:
        """The wrapped listener's attributes, and ``standard_compatible``."""
        return {
            **self.listener.extra_attributes,
            TLSAttribute.standard_compatible: lambda: self.standard_compatible,
        }


class TLSConnectable(anyio.abc.ByteStreamConnectable):
    """Makes every connection of another connectable a client-side :class:`TLSStream`, as
    :class:`streamspec.ByteStreamConnectable` describes.

    Unlike AnyIO's, it always takes the client side (AnyIO's takes the server side when no
    ``hostname`` is given), and it refuses, when made, a missing ``hostname`` that the
    context would refuse at every connect (decision 10 in docs/design.rst).

    :param connectable: the connectable to wrap; it may make byte streams or object streams
        of bytes.
    :param hostname: the server's host name, which its certificate must match.
    :param ssl_context: the settings; by default :func:`ssl.create_default_context` for
        clients, made once here and shared by every connection.
    :param standard_compatible: as for :meth:`TLSStream.wrap`.
    :raises TypeError: ``connectable`` has no ``connect()`` method, ``hostname`` is not a str
        (or None), ``ssl_context`` is not an :class:`ssl.SSLContext` or
        ``standard_compatible`` is not a bool.
    :raises ValueError: ``hostname`` is missing while ``ssl_context`` checks host names.
    """

    def __init__(
        self,
        connectable: AnyByteStreamConnectable,
        *,
        hostname: str | None = None,
        ssl_context: ssl.SSLContext | None = None,
        standard_compatible: bool = True,
    ) -> None:
        _check_connectable("connectable", connectable)
        if hostname is not None:
            string("hostname", hostname)
        if ssl_context is None:
            ssl_context = ssl.create_default_context(ssl.Purpose.SERVER_AUTH)
        else:
            instance("ssl_context", ssl_context, ssl.SSLContext)
        flag("standard_compatible", standard_compatible)
        if not hostname and ssl_context.check_hostname:
            raise ValueError(
                "hostname is required: ssl_context checks the server's host name "
                "(check_hostname is True)"
            )
        #: The wrapped connectable.
        self.connectable = connectable
        #: The server's host name, if one was given.
        self.hostname = hostname
        #: The settings every connection uses.
        self.ssl_context = ssl_context
        #: Whether connections send and require ``close_notify``.
        self.standard_compatible = standard_compatible

    async def connect(self) -> TLSStream:
        """Connect with the wrapped connectable, then do the client's TLS handshake.

        :raises ssl.SSLError: as :meth:`TLSStream.wrap` does; the connection is then closed.
        :raises ~anyio.BrokenResourceError: as :meth:`TLSStream.wrap` does; the connection is
            then closed.
        """
        transport = await self.connectable.connect()
        try:
            return await TLSStream.wrap(
                transport,
                server_side=False,
                hostname=self.hostname,
                ssl_context=self.ssl_context,
                standard_compatible=self.standard_compatible,
            )
        except BaseException:
            # wrap() leaves a failed handshake's transport to its caller; here nobody else
            # has it, so close it, also when the handshake was cancelled.
            await _close_at_once(transport)
            raise
