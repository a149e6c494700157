"""TLS over any byte stream: :class:`TLSStream`, and :class:`TLSListener` for servers.

A drop-in for :mod:`anyio.streams.tls` (same names, signatures, exceptions and attribute keys),
with the differences the TLS guide (``docs/guide/tls.rst``) lists.

How a :class:`TLSStream` works. One :class:`ssl.SSLObject` does the TLS; two
:class:`ssl.MemoryBIO` buffers connect it to the transport: ``incoming`` holds ciphertext read
from the transport and not yet decrypted, ``outgoing`` ciphertext written by the ``ssl`` object
and not yet sent. One task may receive while another sends, and both drive the same ``ssl``
object (a receive may have to answer a TLS 1.3 key update, a send may have to wait for a TLS 1.2
renegotiation). These rules keep that safe:

1. Ciphertext leaves only through :meth:`TLSStream._flush` (or the copy of it written out in
   ``send()``), under the flush lock. The holder sends until ``outgoing`` is empty, so bytes
   the ``ssl`` object writes while it waits on the transport go out after the ones before
   them, sent by the holder itself.
2. Ciphertext enters only through :meth:`TLSStream._pull` (or the copy of it written out in
   ``receive()``), under the pull lock. A task that waited for that lock while another one
   read does not read again: the ``ssl`` object has new bytes to try first.
3. Nobody holds the flush lock while waiting for incoming bytes, and whoever is about to wait
   for them first flushes: the peer may be waiting for what we wrote.
4. ``send()`` encrypts and flushes at most :data:`_SEND_SLICE` bytes at a time, so a huge
   ``send()`` never holds all its ciphertext in memory. A ``send()`` that fails or is
   cancelled after it began encrypting breaks the stream: a lost TLS record makes every later
   one undecryptable to the peer.
"""

from __future__ import annotations

import contextlib
import functools
import logging
import ssl
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any, NoReturn, TypeVar

import anyio
import anyio.abc
import anyio.lowlevel
from anyio.streams.tls import TLSAttribute
from typing_extensions import Self

from ._args import connectable as _check_connectable
from ._args import count
from ._parking import current_backend, pending_cancellation
from ._serving import (
    check_tls_listener_arguments,
    remember_peer,
    report_failed_handshake,
    run_connection,
    serve_listener,
)
from ._tls_errors import Failure, Phase, classify, translate
from .protocols import AnyByteStream, AnyByteStreamConnectable, AsyncResource

__all__ = ["TLSAttribute", "TLSConnectable", "TLSListener", "TLSStream", "tls_attributes"]

_T = TypeVar("_T")

_logger = logging.getLogger(__name__)

#: Plaintext encrypted per transport send: the most ciphertext a ``send()`` holds at once.
_SEND_SLICE = 256 * 1024
#: What a read from a byte-stream transport asks for: several full TLS records at once.
_TRANSPORT_READ_SIZE = 256 * 1024
#: The most plaintext one TLS record carries: one ``SSLObject.read()`` never returns more, so
#: asking for more would only allocate memory to give back.
_RECORD_PLAINTEXT = 16384


def _encode_hostname(hostname: str) -> str:
    """Return ``hostname`` as the ASCII name a certificate carries, converting an
    internationalised name with IDNA 2008 and UTS #46 (as AnyIO and browsers do; the ``ssl``
    module's own conversion is IDNA 2003, which maps ``ß`` to ``ss`` and so names another host).

    :raises ValueError: ``hostname`` is not a valid internationalised domain name.
    """
    if hostname.isascii():
        return hostname
    import idna  # AnyIO depends on idna; only non-ASCII names need it.

    try:
        return idna.encode(hostname, uts46=True).decode("ascii")
    except idna.IDNAError as exc:
        raise ValueError(f"hostname {hostname!r} is not a valid domain name: {exc}") from exc


def _slices(plaintext: memoryview, size: int) -> Iterable[memoryview]:
    """The slices of a big ``send()``, made one at a time as they are encrypted (rule 4)."""
    return (plaintext[at : at + _SEND_SLICE] for at in range(0, size, _SEND_SLICE))


def _transport_reader(transport: AnyByteStream) -> Callable[[], Any]:
    """Return a call that reads the transport's next chunk: a large one from a byte stream, the
    next item from an object stream of bytes (whose ``receive()`` takes no size)."""
    if isinstance(transport, anyio.abc.ByteReceiveStream):
        return functools.partial(transport.receive, _TRANSPORT_READ_SIZE)
    return transport.receive


async def _close_at_once(resource: AsyncResource) -> None:
    """Close ``resource`` without letting it wait for anything (AnyIO's ``aclose_forcefully``
    for any resource, not only AnyIO's)."""
    with anyio.CancelScope() as scope:
        scope.cancel()
        await resource.aclose()


def _wrap_settings(
    server_side: bool | None, hostname: str | None, ssl_context: ssl.SSLContext | None
) -> tuple[bool, ssl.SSLContext]:
    """The side and the settings a ``wrap()`` with these arguments uses, with AnyIO's
    defaults: a server when no ``hostname`` is given, and :func:`ssl.create_default_context`
    for that side's purpose (shared with the Trio adapter's ``wrap()``).

    :raises TypeError: ``hostname`` is not a str (or None), or ``ssl_context`` is not an
        :class:`ssl.SSLContext`.
    :raises ValueError: a server was given a ``hostname``.
    """
    if hostname is not None and not isinstance(hostname, str):
        raise TypeError(f"hostname must be a str or None, not {type(hostname).__name__}")
    if server_side is None:
        server_side = not hostname
    if ssl_context is None:
        purpose = ssl.Purpose.CLIENT_AUTH if server_side else ssl.Purpose.SERVER_AUTH
        ssl_context = ssl.create_default_context(purpose)
    elif not isinstance(ssl_context, ssl.SSLContext):
        raise TypeError(f"ssl_context must be an ssl.SSLContext, not {type(ssl_context).__name__}")
    if hostname and server_side:
        raise ValueError("hostname is for the client side; a server does not check one")
    return server_side, ssl_context


def _as_bytes(item: object) -> memoryview:
    """A bytes-like ``item`` as a memoryview of bytes, or a TypeError naming ``item``."""
    try:
        return memoryview(item).cast("B")  # type: ignore[arg-type]
    except TypeError:
        raise TypeError(f"item must be bytes, not {type(item).__name__}") from None


class _Mutex:
    """A lock for the tasks of one stream (at most a sender, a receiver and a closer), used as
    ``if lock.held: await lock.wait_free()``, then ``lock.held = True`` before the next
    ``await`` and, in a ``finally``, ``lock.release()``. Taking it when it is free costs a flag
    and no call, which shows in bulk transfers; a task that finds it taken waits for a release
    and checks again. Cancelling a waiting task leaves nothing to undo."""

    __slots__ = ("_released", "held")

    def __init__(self) -> None:
        #: Whether a task holds the lock.
        self.held = False
        self._released: anyio.Event | None = None

    async def wait_free(self) -> None:
        """Return once the lock is free; take it before the next ``await``."""
        while self.held:
            if self._released is None:
                self._released = anyio.Event()
            await self._released.wait()

    def release(self) -> None:
        self.held = False
        if self._released is not None:
            self._released.set()
            self._released = None


class _Guard:
    """Lets one task at a time in; another one gets :exc:`~anyio.BusyResourceError`. Like
    :class:`anyio.ResourceGuard`, but it can be asked whether it is taken."""

    __slots__ = ("action", "busy")

    def __init__(self, action: str) -> None:
        #: What the task that finds it busy was doing, for the exception's message.
        self.action = action
        #: Whether a task is in; ``send()`` and ``receive()`` set and clear it themselves.
        self.busy = False

    def __enter__(self) -> None:
        if self.busy:
            raise anyio.BusyResourceError(self.action)
        self.busy = True

    def __exit__(self, *exc_info: object) -> None:
        self.busy = False


def tls_attributes(
    ssl_object: ssl.SSLObject, standard_compatible: bool
) -> dict[Any, Callable[[], Any]]:
    """Every :class:`~anyio.streams.tls.TLSAttribute` of a TLS session, read from its
    ``ssl_object`` when asked (shared with the Trio adapter, whose sessions are SSLObjects too).
    """
    return {
        TLSAttribute.alpn_protocol: ssl_object.selected_alpn_protocol,
        TLSAttribute.channel_binding_tls_unique: ssl_object.get_channel_binding,
        TLSAttribute.cipher: ssl_object.cipher,
        TLSAttribute.peer_certificate: lambda: ssl_object.getpeercert(False),
        TLSAttribute.peer_certificate_binary: lambda: ssl_object.getpeercert(True),
        TLSAttribute.server_side: lambda: ssl_object.server_side,
        # Only a server knows which ciphers both sides offered.
        TLSAttribute.shared_ciphers: lambda: (
            ssl_object.shared_ciphers() if ssl_object.server_side else None
        ),
        TLSAttribute.ssl_object: lambda: ssl_object,
        TLSAttribute.standard_compatible: lambda: standard_compatible,
        TLSAttribute.tls_version: ssl_object.version,
    }


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
        self._ssl_object = ssl_object
        self._incoming = incoming
        self._outgoing = outgoing
        self._read_transport = _transport_reader(transport_stream)
        self._flush_lock = _Mutex()
        self._pull_lock = _Mutex()
        self._chunks_pulled = 0  # lets a task waiting on the pull lock see that another read
        self._receive_guard = _Guard("receiving from")
        self._send_guard = _Guard("sending to")
        # Plaintext decrypted before it was asked for: only send_eof() puts any here.
        self._unread = bytearray()
        self._transport_ended = False  # the transport's EOF was fed to the ssl object
        self._peer_finished = False  # the TLS data from the peer has ended (EndOfStream)
        self._broken_by: BaseException | None = None
        self._close_notify_sent = False
        self._closed = False

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
            against it; an internationalised name is converted with IDNA 2008 (UTS #46), so
            ``"bücher.example"`` verifies against a certificate for
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
        :raises TypeError: ``hostname`` is not a str (or None), or ``ssl_context`` is not an
            :class:`ssl.SSLContext`.
        :raises ValueError: ``hostname`` is not a valid domain name, or a server was given a
            ``hostname``.

        When the handshake fails, the transport is left open for the caller to close. Our
        side's alert, if OpenSSL wrote one, is sent before the exception is raised.
        """
        server_side, ssl_context = _wrap_settings(server_side, hostname, ssl_context)
        incoming, outgoing = ssl.MemoryBIO(), ssl.MemoryBIO()
        make_ssl_object = functools.partial(
            ssl_context.wrap_bio,
            incoming,
            outgoing,
            server_side=server_side,
            server_hostname=_encode_hostname(hostname) if hostname else None,
        )
        if type(ssl_context) is ssl.SSLContext:
            ssl_object = make_ssl_object()
        else:
            ssl_object = await anyio.to_thread.run_sync(make_ssl_object)
        stream = cls(
            transport_stream,
            standard_compatible,
            ssl_object,
            incoming,
            outgoing,
        )
        if server_side:
            # A server's handshake starts with the client's hello: read it first, rather
            # than let the first do_handshake() find nothing and ask for it.
            await stream._pull()
        await stream._drive(ssl_object.do_handshake, phase=Phase.HANDSHAKE)
        if outgoing.pending:  # our side's last flight (a client's Finished)
            await stream._flush()
        return stream

    # -- the byte stream ------------------------------------------------------------------------

    async def receive(self, max_bytes: int = 65536) -> bytes:
        """Decrypt and return up to ``max_bytes`` bytes, as
        :meth:`streamspec.ByteReceiveStream.receive` describes. It returns every byte
        already decrypted or decryptable (up to ``max_bytes``) and waits only when there is
        none.

        :raises TypeError: ``max_bytes`` is not an integer; nothing is read.
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
            max_bytes = count("max_bytes", max_bytes, 1)
        # The guard is written out, as in send().
        guard = self._receive_guard
        if guard.busy:
            raise anyio.BusyResourceError(guard.action)
        guard.busy = True
        try:
            # When nothing can be returned without reading the transport (the usual case in a
            # busy stream), the transport's receive() comes first and is the checkpoint, as
            # every AnyIO stream's is; the cancellation check is then left to it.
            must_read = self._must_read_transport()
            if must_read and not self._pull_lock.held:
                # _pull(), written out: a coroutine call per receive shows in bulk transfers.
                backend = None
                self._pull_lock.held = True
                try:
                    chunk = await self._read_transport()
                except anyio.EndOfStream:
                    self._incoming.write_eof()
                    self._transport_ended = True
                except Exception as exc:
                    self._raise_transport_error(exc)
                else:
                    self._incoming.write(chunk)
                finally:
                    self._pull_lock.release()
                self._chunks_pulled += 1
                waited = True
            elif must_read:
                backend = None
                waited = await self._pull()
            else:
                # Check in before taking anything, so a cancelled receive() takes nothing. On
                # asyncio this is a yield, and so also the schedule point; Trio's is a
                # cancellation check, and its schedule point comes after (see _parking).
                backend = current_backend()
                await backend.checkpoint()
                waited = False
            while True:
                if self._closed or self._broken_by is not None:
                    self._check_usable()
                data = self._take_unread(max_bytes) if self._unread else self._decrypt(max_bytes)
                if data:
                    break
                self._check_usable()  # the data may have ended in a failure
                if self._peer_finished:
                    raise anyio.EndOfStream
                if self._outgoing.pending and not self._flush_lock.held:
                    # A key update or handshake answer is waiting, and no send is underway
                    # to carry it (rule 3).
                    await self._flush()
                waited = await self._pull() or waited
            if not waited:
                if backend is None:  # another task read the transport for this one
                    await anyio.lowlevel.cancel_shielded_checkpoint()
                elif backend.schedule_point is not None:
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
        # The guard and the flush lock are written out here: method calls per send show in
        # bulk transfers.
        guard = self._send_guard
        if guard.busy:
            raise anyio.BusyResourceError(guard.action)
        guard.busy = True
        try:
            if self._closed or self._broken_by is not None:
                self._check_usable()
            if self._close_notify_sent:
                raise anyio.ClosedResourceError("send_eof() was called on this TLS stream")
            plaintext: bytes | memoryview = item if type(item) is bytes else _as_bytes(item)
            size = len(plaintext)
            if not size:
                await anyio.lowlevel.cancel_shielded_checkpoint()
                return
            # Slices of a big item are made one at a time, as they are encrypted (rule 4).
            pieces: Iterable[bytes | memoryview] = (
                (plaintext,) if size <= _SEND_SLICE else _slices(memoryview(plaintext), size)
            )
            ssl_object, outgoing, flush_lock = self._ssl_object, self._outgoing, self._flush_lock
            send = self.transport_stream.send
            try:
                for piece in pieces:
                    # Written inline, not through _drive(): a coroutine call per send shows in
                    # bulk transfers, and the write almost never needs the peer's bytes.
                    try:
                        ssl_object.write(piece)
                    except ssl.SSLWantReadError:  # it needs the peer's bytes (a renegotiation)
                        await self._drive(ssl_object.write, piece, phase=Phase.SEND)
                    except ssl.SSLError as exc:
                        raise await self._failure(exc, Phase.SEND) from None
                    if flush_lock.held:
                        await self._flush()
                        continue
                    # _flush(), written out for the same reason as the write above.
                    flush_lock.held = True
                    try:
                        while outgoing.pending:
                            await send(outgoing.read())
                    except Exception as exc:
                        self._break(exc)
                        self._raise_transport_error(exc)
                    finally:
                        flush_lock.release()
            except BaseException as exc:
                self._break(exc)
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
            self._check_usable()
            if self._close_notify_sent:
                await anyio.lowlevel.cancel_shielded_checkpoint()
                return
            version = self._ssl_object.version()
            if version != "TLSv1.3":
                raise NotImplementedError(
                    f"send_eof() needs TLS 1.3, and this session uses {version}: before TLS "
                    "1.3 a close_notify obliges the peer to close its direction too"
                )
            # OpenSSL's shutdown reads on after sending close_notify, and a fatal error
            # ("application data after close notify") ends the session if it meets data the
            # peer sent before it saw ours. So every decryptable byte is decrypted first and
            # kept for receive(); what is left can only be an incomplete record, which the
            # shutdown leaves alone.
            while chunk := self._decrypt(_SEND_SLICE):
                self._unread += chunk
            self._check_usable()  # what was decrypted may have been a fatal alert
            try:
                self._ssl_object.unwrap()
            except ssl.SSLWantReadError:
                pass  # close_notify is written; the peer's is not in yet, as expected
            except ssl.SSLError as exc:
                self._break(exc)
                raise await self._failure(exc, Phase.SEND) from None
            self._close_notify_sent = True
            try:
                await self._flush()
            except BaseException as exc:
                self._break(exc)
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
            self._check_usable()
            if self._unread:
                raise anyio.BrokenResourceError(
                    f"unwrap() would discard {len(self._unread)} bytes of application data "
                    "that the peer sent and that were not received yet"
                )
            try:
                await self._drive(self._ssl_object.unwrap, phase=Phase.CLOSING)
                await self._flush()
            except BaseException as exc:
                self._break(exc)
                raise
            self._closed = True
            return self.transport_stream, self._incoming.read()

    async def aclose(self) -> None:
        """Close the stream and its transport, as :meth:`streamspec.AsyncResource.aclose`
        describes. [RES-ACLOSE-IDEMPOTENT] [RES-ACLOSE-CANCELLED] [BYTE-CLOSED-WAKES]
        [TLS-ACLOSE-QUIET]

        When ``standard_compatible`` is ``True``, it first sends ``close_notify``
        [TLS-CLOSE-NOTIFY], unless the stream is broken, a send is underway (the transport is
        then closed under it, and the peer sees the stream cut short), or :meth:`send_eof`
        already sent it. It does not wait for the peer's ``close_notify``: TLS does not require
        it, and a peer that never answers would make closing hang. A failure to send
        ``close_notify`` is not raised; the transport is closed all the same.
        """
        if self._closed:
            return
        self._closed = True
        try:
            if self._should_send_close_notify():
                # close_notify is in ``outgoing`` whether or not this raises: OpenSSL writes
                # it before it looks for the peer's.
                with contextlib.suppress(ssl.SSLError):
                    self._ssl_object.unwrap()
                self._close_notify_sent = True
                await self._flush()
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
            **tls_attributes(self._ssl_object, self.standard_compatible),
        }

    # -- state ----------------------------------------------------------------------------------

    def _check_usable(self) -> None:
        if self._closed:
            raise anyio.ClosedResourceError
        broken = self._broken_by
        if isinstance(broken, anyio.BrokenResourceError):
            # Already translated (see _end_of_peer_data): a fresh copy with the same cause,
            # so the ssl error stays one step away, however often this is raised.
            raise anyio.BrokenResourceError(*broken.args) from broken.__cause__
        if broken is not None:
            raise anyio.BrokenResourceError("the TLS stream is broken") from broken

    def _break(self, cause: BaseException) -> None:
        if self._broken_by is None and not self._closed:
            self._broken_by = cause

    def _should_send_close_notify(self) -> bool:
        return (
            self.standard_compatible
            and self._broken_by is None
            and not self._close_notify_sent
            and not self._flush_lock.held
            and not self._send_guard.busy  # a send is underway (rule 4)
        )

    # -- decrypting -----------------------------------------------------------------------------

    def _eof_looks_clean(self) -> bool:
        """Whether OpenSSL reports the transport's end as a ``close_notify`` (see
        :func:`classify`). Looked up when needed: reading a context's options costs more than
        the rest of setting up a stream. (OpenSSL copies the options when the ``ssl`` object is
        made; changing the context's options while its streams are open is not supported.)"""
        return bool(self._ssl_object.context.options & ssl.OP_IGNORE_UNEXPECTED_EOF)

    def _must_read_transport(self) -> bool:
        """Whether ``receive()`` can do nothing but read the transport: there is no plaintext
        or ciphertext to decrypt, no end or failure to report, nothing to flush first."""
        incoming = self._incoming
        return not (
            self._unread
            or incoming.pending
            or incoming.eof
            or self._ssl_object.pending()
            or self._outgoing.pending
            or self._closed
            or self._broken_by is not None
            or self._peer_finished
        )

    def _take_unread(self, max_bytes: int) -> bytes:
        data = bytes(self._unread[:max_bytes])
        del self._unread[:max_bytes]
        return data

    def _decrypt(self, max_bytes: int) -> bytes:
        """Return up to ``max_bytes`` of plaintext that needs no more ciphertext, possibly none.

        The end of the peer's data, or a failure, is recorded (``_peer_finished``,
        ``_broken_by``) rather than raised, so the bytes decrypted before it are returned
        first.
        """
        if self._peer_finished or self._broken_by is not None:
            return b""
        pieces: list[bytes] = []
        size = 0
        incoming, ssl_object = self._incoming, self._ssl_object
        while size < max_bytes:
            if not (incoming.pending or incoming.eof or ssl_object.pending()):
                # Nothing to decrypt: no ciphertext waits (OpenSSL reads no further ahead than
                # the record it is assembling), no plaintext is buffered, and no end of the
                # transport is to be reported. A read would only raise SSLWantReadError,
                # whose cost shows in bulk transfers.
                break
            left = max_bytes - size
            try:
                piece = ssl_object.read(left if left < _RECORD_PLAINTEXT else _RECORD_PLAINTEXT)
            except ssl.SSLWantReadError:
                break
            except ssl.SSLError as exc:
                self._end_of_peer_data(exc)
                break
            if not piece:
                self._end_of_peer_data(None)
                break
            pieces.append(piece)
            size += len(piece)
        return pieces[0] if len(pieces) == 1 else b"".join(pieces)

    def _end_of_peer_data(self, exc: ssl.SSLError | None) -> None:
        failure = classify(
            exc, transport_ended=self._transport_ended, eof_looks_clean=self._eof_looks_clean()
        )
        outcome = translate(
            exc, failure, Phase.RECEIVE, standard_compatible=self.standard_compatible
        )
        if isinstance(outcome, anyio.EndOfStream):
            self._peer_finished = True
        else:
            self._broken_by = outcome

    # -- moving ciphertext ----------------------------------------------------------------------

    async def _drive(self, operation: Callable[..., _T], *args: Any, phase: Phase) -> _T:
        """Call an ``ssl`` object method until it stops asking for more ciphertext."""
        while True:
            try:
                return operation(*args)
            except ssl.SSLWantReadError:
                if self._outgoing.pending:
                    await self._flush()  # rule 3
                await self._pull()
            except ssl.SSLError as exc:
                raise await self._failure(exc, phase) from None

    async def _failure(self, exc: ssl.SSLError, phase: Phase) -> BaseException:
        """What to raise for ``exc``, which the ``ssl`` object raised during ``phase``. A
        handshake that failed on our side first sends the alert OpenSSL wrote."""
        failure = classify(
            exc, transport_ended=self._transport_ended, eof_looks_clean=self._eof_looks_clean()
        )
        if phase is Phase.HANDSHAKE and failure is Failure.PROTOCOL:
            await self._send_alert()
        return translate(exc, failure, phase, standard_compatible=self.standard_compatible)

    async def _pull(self) -> bool:
        """Read the transport's next chunk into ``incoming`` (rule 2). Returns whether this
        call read the transport (rather than finding that another task just had)."""
        chunks_seen = self._chunks_pulled
        lock = self._pull_lock
        if lock.held:
            await lock.wait_free()
        if self._chunks_pulled != chunks_seen or self._transport_ended:
            return False
        lock.held = True
        try:
            chunk = await self._read_transport()
        except anyio.EndOfStream:
            self._incoming.write_eof()
            self._transport_ended = True
        except Exception as exc:
            self._raise_transport_error(exc)
        else:
            self._incoming.write(chunk)
        finally:
            lock.release()
        self._chunks_pulled += 1
        return True

    async def _flush(self) -> None:
        """Send everything in ``outgoing`` (rule 1). A task that finds another one sending
        waits for it: the holder may have sent this task's bytes too."""
        outgoing = self._outgoing
        if not outgoing.pending:
            return
        lock = self._flush_lock
        if lock.held:
            await lock.wait_free()
        lock.held = True
        try:
            while outgoing.pending:
                await self.transport_stream.send(outgoing.read())
        except BaseException as exc:
            self._break(exc)
            if isinstance(exc, Exception):
                self._raise_transport_error(exc)
            raise
        finally:
            lock.release()

    async def _send_alert(self) -> None:
        """Send the alert OpenSSL wrote for a failed handshake, if the transport takes it."""
        with contextlib.suppress(Exception):  # the handshake's own error is the one to report
            await self._flush()

    def _raise_transport_error(self, exc: Exception) -> NoReturn:
        """Raise what the transport's exception means to our caller: a closed stream stays
        closed (whatever the transport says after we closed it), a plain :exc:`OSError` from a
        transport that does not translate its errors is a broken stream (caused by it), and
        AnyIO's own exceptions go on as they are (``raise exc from exc`` would make one its
        own cause, a loop that anything walking the chain would follow forever)."""
        if self._closed:
            raise anyio.ClosedResourceError from exc
        if isinstance(exc, OSError):
            raise anyio.BrokenResourceError(f"the transport failed: {exc}") from exc
        raise exc


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
        if hostname is not None and not isinstance(hostname, str):
            raise TypeError(f"hostname must be a str or None, not {type(hostname).__name__}")
        if ssl_context is None:
            ssl_context = ssl.create_default_context(ssl.Purpose.SERVER_AUTH)
        elif not isinstance(ssl_context, ssl.SSLContext):
            raise TypeError(
                f"ssl_context must be an ssl.SSLContext, not {type(ssl_context).__name__}"
            )
        if not isinstance(standard_compatible, bool):
            raise TypeError(
                f"standard_compatible must be a bool, not {type(standard_compatible).__name__}"
            )
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
