"""How a TLS stream reports what the ``ssl`` module raised: one table, consulted at the edge.

An :exc:`ssl.SSLError` means one of three things, whatever its subclass or OpenSSL reason:

* ``CLOSE_NOTIFY``: the peer ended its side of the TLS session cleanly.
* ``RAGGED_EOF``: the transport ended with no ``close_notify`` before it. This is how a
  truncation attack looks, and also how many HTTP peers hang up.
* ``PROTOCOL``: anything else. The peer sent an alert (an unknown CA, a protocol version we
  refuse), sent bytes that are not TLS, failed a MAC check, or refused our certificate; or we
  refused its certificate. The TLS session cannot go on.

What the caller sees depends on when it happened (:class:`Phase`); the table below is the whole
policy. ``KEEP`` re-raises the :exc:`ssl.SSLError` itself: during the handshake, a certificate
or protocol failure answers "is this the peer it claims to be, and do we agree on TLS?", so it
stays the exception that AnyIO, asyncio and the standard library raise there
(:exc:`ssl.SSLCertVerificationError` for a refused certificate). Everywhere else the failure
becomes AnyIO's exception, with the :exc:`ssl.SSLError` as its ``__cause__``.
"""

from __future__ import annotations

import enum
import ssl

import anyio

__all__ = ["Failure", "Phase", "classify", "translate"]


class Phase(enum.Enum):
    """What the TLS stream was doing when the ``ssl`` module raised."""

    HANDSHAKE = "the TLS handshake"
    RECEIVE = "receiving"
    SEND = "sending"
    CLOSING = "the closing TLS handshake"


class Failure(enum.Enum):
    """What an :exc:`ssl.SSLError` means, whatever its subclass (see the module docstring)."""

    CLOSE_NOTIFY = enum.auto()
    RAGGED_EOF = enum.auto()
    PROTOCOL = enum.auto()


class _Outcome(enum.Enum):
    END = enum.auto()  # anyio.EndOfStream
    BROKEN = enum.auto()  # anyio.BrokenResourceError from the ssl error
    END_IF_LENIENT = enum.auto()  # END when standard_compatible is False, else BROKEN
    KEEP = enum.auto()  # the ssl error itself


_POLICY: dict[tuple[Phase, Failure], _Outcome] = {
    # A handshake cut short is never a clean end, whatever standard_compatible says.
    (Phase.HANDSHAKE, Failure.CLOSE_NOTIFY): _Outcome.BROKEN,
    (Phase.HANDSHAKE, Failure.RAGGED_EOF): _Outcome.BROKEN,
    (Phase.HANDSHAKE, Failure.PROTOCOL): _Outcome.KEEP,
    (Phase.RECEIVE, Failure.CLOSE_NOTIFY): _Outcome.END,
    (Phase.RECEIVE, Failure.RAGGED_EOF): _Outcome.END_IF_LENIENT,
    (Phase.RECEIVE, Failure.PROTOCOL): _Outcome.BROKEN,
    (Phase.SEND, Failure.CLOSE_NOTIFY): _Outcome.BROKEN,
    (Phase.SEND, Failure.RAGGED_EOF): _Outcome.BROKEN,
    (Phase.SEND, Failure.PROTOCOL): _Outcome.BROKEN,
    # unwrap() promises the peer's close_notify; anything else means the promise failed.
    (Phase.CLOSING, Failure.CLOSE_NOTIFY): _Outcome.BROKEN,
    (Phase.CLOSING, Failure.RAGGED_EOF): _Outcome.BROKEN,
    (Phase.CLOSING, Failure.PROTOCOL): _Outcome.BROKEN,
}

_EXPLANATION = {
    Failure.CLOSE_NOTIFY: "the peer closed the TLS session",
    Failure.RAGGED_EOF: (
        "the transport ended without a TLS close_notify (a truncated connection; pass "
        "standard_compatible=False to accept this as the end of the stream)"
    ),
    Failure.PROTOCOL: "the TLS session failed",
}


def classify(exc: ssl.SSLError | None, *, transport_ended: bool, eof_looks_clean: bool) -> Failure:
    """Say what an :exc:`ssl.SSLError` means.

    :param exc: the error, or ``None`` when a read returned ``b""`` (the ``ssl`` module's other
        way of reporting the end of the TLS data).
    :param transport_ended: the transport's end of stream has been fed to the ``ssl`` object.
    :param eof_looks_clean: the context has ``ssl.OP_IGNORE_UNEXPECTED_EOF``, with which OpenSSL
        reports a transport EOF as if it were a ``close_notify``. The stream then tells the two
        apart itself: the TLS data can only end at the transport's EOF when no ``close_notify``
        came first, because the stream feeds the EOF only after every byte before it has been
        read and found to hold no ``close_notify``.
    """
    if exc is None or isinstance(exc, ssl.SSLZeroReturnError):
        if transport_ended and eof_looks_clean:
            return Failure.RAGGED_EOF
        return Failure.CLOSE_NOTIFY
    # Python maps OpenSSL 3's "unexpected EOF while reading" to SSLEOFError; the reason string
    # catches the builds that still report it as a plain SSLError.
    if isinstance(exc, ssl.SSLEOFError | ssl.SSLSyscallError) or "UNEXPECTED_EOF" in str(exc):
        return Failure.RAGGED_EOF
    return Failure.PROTOCOL


def translate(
    exc: ssl.SSLError | None, failure: Failure, phase: Phase, *, standard_compatible: bool
) -> BaseException:
    """Return the exception to raise for ``failure`` during ``phase``: ``exc`` itself, or one
    of AnyIO's with ``exc`` as its ``__cause__`` (raise it with a plain ``raise``)."""
    outcome = _POLICY[phase, failure]
    if outcome is _Outcome.END_IF_LENIENT:
        outcome = _Outcome.BROKEN if standard_compatible else _Outcome.END
    if outcome is _Outcome.KEEP and exc is not None:
        return exc
    translated: BaseException
    if outcome is _Outcome.END:
        translated = anyio.EndOfStream()
    else:
        translated = anyio.BrokenResourceError(f"{_EXPLANATION[failure]} during {phase.value}")
    translated.__cause__ = exc
    translated.__suppress_context__ = True
    return translated
