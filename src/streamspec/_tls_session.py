"""The TLS session of a :class:`~streamspec.tls.TLSStream`, with no I/O: what the ``ssl`` object
has done, what it may do next, and what a stream operation returns or raises for it.

One :class:`ssl.SSLObject` does the TLS; two :class:`ssl.MemoryBIO` buffers connect it to the
world: ``incoming`` holds ciphertext from the peer not yet decrypted, ``outgoing`` ciphertext
not yet sent. Moving ciphertext between the BIOs and the transport is the wire driver's job
(:mod:`streamspec._tls_wire`); this module never awaits.

The session is in exactly one :class:`State`. It changes only through :meth:`TLSSession._advance`,
along the arrows of :data:`_TRANSITIONS`, the whole table::

    HANDSHAKING --handshake done--> OPEN
    OPEN        --peer ended-----> PEER_ENDED    --we ended--> ENDED
    OPEN        --we ended-------> WE_ENDED      --peer ended--> ENDED
    any state but CLOSED --failed--> BROKEN      (the first failure is the one kept)
    any state --closed--> CLOSED                 (aclose() or unwrap(): the end)

"Peer ended" is the end of the peer's TLS data: its ``close_notify``, or with
``standard_compatible=False`` a transport that ended without one. "We ended" is our
``close_notify`` written (``send_eof()``). What each state allows:

=============  ===========================  ==================================
state          receive()                    send()
=============  ===========================  ==================================
HANDSHAKING    (not handed out yet)         (not handed out yet)
OPEN           data                         yes
PEER_ENDED     EndOfStream                  yes
WE_ENDED       data                         ClosedResourceError
ENDED          EndOfStream                  ClosedResourceError
BROKEN         BrokenResourceError          BrokenResourceError
CLOSED         ClosedResourceError          ClosedResourceError
=============  ===========================  ==================================

Failures are classified and translated by :mod:`streamspec._tls_errors`, the one error policy.
"""

from __future__ import annotations

import contextlib
import enum
import ssl

import anyio

from ._parking._base import fast_path_unavailable
from ._tls_errors import Failure, Phase, classify, translate

__all__ = ["State", "TLSSession"]

#: The most plaintext one TLS record carries: one ``SSLObject.read()`` never returns more, so
#: asking for more would only allocate memory to give back.
_RECORD_PLAINTEXT = 16384


class State(enum.Enum):
    """Where a TLS session is (see the module docstring for the transitions)."""

    HANDSHAKING = enum.auto()
    OPEN = enum.auto()
    PEER_ENDED = enum.auto()
    WE_ENDED = enum.auto()
    ENDED = enum.auto()
    BROKEN = enum.auto()
    CLOSED = enum.auto()


class _Event(enum.Enum):
    HANDSHAKE_DONE = enum.auto()
    PEER_ENDED = enum.auto()
    WE_ENDED = enum.auto()
    FAILED = enum.auto()
    CLOSED = enum.auto()


_TRANSITIONS: dict[tuple[State, _Event], State] = {
    (State.HANDSHAKING, _Event.HANDSHAKE_DONE): State.OPEN,
    (State.OPEN, _Event.PEER_ENDED): State.PEER_ENDED,
    (State.OPEN, _Event.WE_ENDED): State.WE_ENDED,
    (State.PEER_ENDED, _Event.WE_ENDED): State.ENDED,
    (State.WE_ENDED, _Event.PEER_ENDED): State.ENDED,
    **{(state, _Event.FAILED): State.BROKEN for state in State if state is not State.CLOSED},
    **{(state, _Event.CLOSED): State.CLOSED for state in State},
}

#: States in which the peer's TLS data may still come. A tuple, not a set: a membership test
#: then compares identities, where a set would call ``Enum.__hash__``, a Python function, on
#: every receive.
_RECEIVING = (State.OPEN, State.WE_ENDED, State.HANDSHAKING)


def _core_of(ssl_object: ssl.SSLObject) -> ssl.SSLObject:
    """Return the C object behind ``ssl_object``: its ``read()``, ``write()`` and ``pending()``
    are the same calls without the Python wrapper's call level, which a bulk transfer makes
    five times per 64 KiB. Return ``ssl_object`` itself when it is a subclass (a context's
    ``sslobject_class``, whose overrides must run), or when this Python's ``SSLObject`` keeps
    no such object (a :class:`~streamspec._parking._base.FastPathWarning` then says so)."""
    if type(ssl_object) is not ssl.SSLObject:
        return ssl_object
    core: ssl.SSLObject | None = getattr(ssl_object, "_sslobj", None)
    if not all(callable(getattr(core, name, None)) for name in ("read", "write", "pending")):
        fast_path_unavailable("ssl", "SSLObject's own methods")
        return ssl_object
    assert core is not None  # the check above refused None
    return core


class TLSSession:
    """One TLS session's state, its ``ssl`` object and its buffers; see the module docstring.

    Its methods never wait: one that needs ciphertext from the peer raises
    :exc:`ssl.SSLWantReadError`, as the ``ssl`` object does, and leaves it to the wire driver
    to read some and call again.
    """

    __slots__ = (
        "_unread",
        "failure",
        "incoming",
        "outgoing",
        "ssl_core",
        "ssl_object",
        "standard_compatible",
        "state",
    )

    def __init__(
        self,
        ssl_object: ssl.SSLObject,
        incoming: ssl.MemoryBIO,
        outgoing: ssl.MemoryBIO,
        standard_compatible: bool,
    ) -> None:
        self.ssl_object = ssl_object
        #: What the hot paths call ``read()``, ``write()`` and ``pending()`` on: see
        #: :func:`_core_of`.
        self.ssl_core = _core_of(ssl_object)
        #: Ciphertext from the peer, not yet decrypted.
        self.incoming = incoming
        #: Ciphertext for the peer, not yet sent.
        self.outgoing = outgoing
        self.standard_compatible = standard_compatible
        self.state = State.HANDSHAKING
        #: Why the session is BROKEN (what to raise, or the cause of what is raised).
        self.failure: BaseException | None = None
        # Plaintext decrypted before it was asked for: only end_sending() puts any here.
        self._unread = bytearray()

    def _advance(self, event: _Event) -> None:
        self.state = _TRANSITIONS[self.state, event]

    # -- the state, as the stream's operations see it --------------------------------------------

    def handshake_done(self) -> None:
        self._advance(_Event.HANDSHAKE_DONE)

    def fail(self, cause: BaseException) -> None:
        """Record that the session cannot go on, because of ``cause``; a session already broken
        keeps its first cause, and a closed one stays closed."""
        if self.state is not State.BROKEN and self.state is not State.CLOSED:
            self.failure = cause
            self._advance(_Event.FAILED)

    def close(self) -> None:
        self._advance(_Event.CLOSED)

    def check_usable(self) -> None:
        """Raise what an operation on a closed or broken session raises.

        :raises ~anyio.ClosedResourceError: the stream was closed.
        :raises ~anyio.BrokenResourceError: the session is broken.
        """
        state = self.state
        if state is State.CLOSED:
            raise anyio.ClosedResourceError
        if state is State.BROKEN:
            failure = self.failure
            if isinstance(failure, anyio.BrokenResourceError):
                # Already translated (see _end_of_peer_data): a fresh copy with the same
                # cause, so the ssl error stays one step away, however often this is raised.
                raise anyio.BrokenResourceError(*failure.args) from failure.__cause__
            raise anyio.BrokenResourceError("the TLS stream is broken") from failure

    def check_sendable(self) -> None:
        """Raise what a ``send()`` raises when the session cannot take more plaintext.

        :raises ~anyio.ClosedResourceError: the stream was closed, or our ``close_notify``
            was sent.
        :raises ~anyio.BrokenResourceError: the session is broken.
        """
        state = self.state
        if state is State.OPEN or state is State.PEER_ENDED:
            return
        self.check_usable()
        raise anyio.ClosedResourceError("send_eof() was called on this TLS stream")

    @property
    def may_end_politely(self) -> bool:
        """Whether closing should send our ``close_notify`` and take in the peer's: the
        stream is ``standard_compatible`` and the session is intact."""
        return self.standard_compatible and self.state in (
            State.OPEN,
            State.PEER_ENDED,
            State.WE_ENDED,
            State.ENDED,
        )

    @property
    def we_ended(self) -> bool:
        """Whether our ``close_notify`` was written."""
        return self.state is State.WE_ENDED or self.state is State.ENDED

    def classify(self, exc: ssl.SSLError | None) -> Failure:
        """What ``exc`` (or ``None``, a read's ``b""``) means for this session."""
        return classify(
            exc,
            transport_ended=self.incoming.eof,
            # Looked up when needed: reading a context's options costs more than the rest of
            # setting up a stream. (OpenSSL copies the options when the ssl object is made;
            # changing the context's options while its streams are open is not supported.)
            eof_looks_clean=bool(self.ssl_object.context.options & ssl.OP_IGNORE_UNEXPECTED_EOF),
        )

    def translate(self, exc: ssl.SSLError | None, failure: Failure, phase: Phase) -> BaseException:
        """What to raise for ``failure`` during ``phase`` (see :mod:`._tls_errors`)."""
        return translate(exc, failure, phase, standard_compatible=self.standard_compatible)

    # -- receiving ------------------------------------------------------------------------------

    def needs_input(self) -> bool:
        """Whether a ``receive()`` can do nothing before it reads the transport: there is no
        plaintext or ciphertext at hand, and no end or failure to report."""
        incoming = self.incoming
        return (
            self.state in _RECEIVING
            and not self._unread
            and not incoming.pending
            and not incoming.eof
            and not self.ssl_core.pending()
        )

    def read(self, max_bytes: int) -> bytes:
        """Return up to ``max_bytes`` bytes of plaintext, at least one.

        :raises ssl.SSLWantReadError: the peer's next bytes are needed first.
        :raises ~anyio.EndOfStream: the peer's data has ended (its ``close_notify``, or with
            ``standard_compatible=False`` a transport that ended without one).
        :raises ~anyio.BrokenResourceError: the session failed (now or before).
        :raises ~anyio.ClosedResourceError: the stream was closed.
        """
        state = self.state
        if state is State.BROKEN or state is State.CLOSED:
            self.check_usable()
        if self._unread:
            data = bytes(self._unread[:max_bytes])
            del self._unread[:max_bytes]
            return data
        data = self._decrypt(max_bytes)
        if data:
            return data
        state = self.state  # decrypting may have ended the peer's data, or failed
        if state in _RECEIVING:
            raise ssl.SSLWantReadError
        if state is State.PEER_ENDED or state is State.ENDED:
            raise anyio.EndOfStream
        self.check_usable()
        raise AssertionError(f"no reading in state {state}")  # pragma: no cover

    def _decrypt(self, max_bytes: int) -> bytes:
        """Return up to ``max_bytes`` of plaintext that needs no more ciphertext, possibly none.

        The end of the peer's data, or a failure, is recorded in the state rather than
        raised, so the bytes decrypted before it are returned first.
        """
        if self.state not in _RECEIVING:
            return b""
        pieces: list[bytes] = []
        size = 0
        incoming, ssl_object = self.incoming, self.ssl_core
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
        outcome = self.translate(exc, self.classify(exc), Phase.RECEIVE)
        if isinstance(outcome, anyio.EndOfStream):
            self._advance(_Event.PEER_ENDED)
        else:
            self.fail(outcome)

    def take_leftover(self) -> bytes:
        """The bytes read from the transport and not decrypted: after ``unwrap()``, what the
        peer sent past its ``close_notify``."""
        return self.incoming.read()

    @property
    def unread_size(self) -> int:
        """How many bytes of plaintext were decrypted ahead and not yet received."""
        return len(self._unread)

    # -- ending ---------------------------------------------------------------------------------

    def end_sending(self) -> None:
        """Write our ``close_notify`` and keep receiving (``send_eof()``), a TLS 1.3 session.

        OpenSSL's shutdown reads on after writing ``close_notify``, and a fatal error
        ("application data after close notify") ends the session if it meets data the peer
        sent before it saw ours. So every decryptable byte is decrypted first and kept for
        ``read()``; what is left can only be an incomplete record, which the shutdown leaves
        alone.

        :raises ~anyio.BrokenResourceError: the session failed, now or before.
        """
        while chunk := self._decrypt(1 << 20):
            self._unread += chunk
        self.check_usable()  # what was decrypted may have been a fatal alert
        try:
            self.ssl_object.unwrap()
        except ssl.SSLWantReadError:
            pass  # close_notify is written; the peer's is not in yet, as expected
        except ssl.SSLError as exc:
            outcome = self.translate(exc, self.classify(exc), Phase.SEND)
            self.fail(outcome)
            raise outcome from None
        self._advance(_Event.WE_ENDED)

    def write_close_notify(self) -> None:
        """Write our ``close_notify`` for ``aclose()``, unless it was written already. Whatever
        OpenSSL says about the peer's side is not our concern here: the close goes on."""
        if not self.we_ended:
            # close_notify is in ``outgoing`` whether or not this raises: OpenSSL writes it
            # before it looks for the peer's.
            with contextlib.suppress(ssl.SSLError):
                self.ssl_object.unwrap()
            self._advance(_Event.WE_ENDED)

    def discard_input(self) -> None:
        """Decrypt and drop whatever the peer sent, until its data ends: what ``aclose()``
        does with what arrives after our ``close_notify``. Returns at the end of the peer's
        data, or at any failure.

        :raises ssl.SSLWantReadError: more of the peer's bytes are needed.
        """
        ssl_object = self.ssl_object
        while True:
            try:
                if not ssl_object.read(_RECORD_PLAINTEXT):
                    return
            except ssl.SSLWantReadError:
                if self.incoming.eof:
                    return
                raise
            except ssl.SSLError:
                return
