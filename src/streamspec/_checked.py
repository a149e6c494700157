"""A runtime validator for streams, in the spirit of :mod:`wsgiref.validate`.

:func:`checked` wraps a stream and watches both sides of its contract: the implementation
(what ``receive()`` returns, whether a closed stream stays closed) and the caller (two tasks
receiving from one byte stream at once). The first violation
raises :exc:`StreamContractError`, an :exc:`AssertionError` that names the rule broken, so a
test suite fails at the call that broke it rather than later, somewhere downstream.

The wrapper keeps the role of the stream it wraps: a wrapped byte stream is a byte stream, a
wrapped object receive stream is an object receive stream, and each wrapper also subclasses the
matching :mod:`anyio.abc` class. Everything that conforms passes through untouched: data,
exceptions and typed attributes.

Rules checked, by the catalogue's IDs (``OBJ-*`` in place of ``BYTE-*`` for object streams):

* the stream's side: ``receive()`` returned ``b""`` [BYTE-NO-EMPTY]; ``receive(n)`` returned
  more than ``n`` bytes [BYTE-MAX-BYTES], or returned at all for ``n < 1``
  [BYTE-MAX-BYTES-INVALID]; ``receive()`` returned data after it had raised
  :exc:`~anyio.EndOfStream` [BYTE-EOF]; an operation started after ``aclose()`` returned
  instead of raising :exc:`~anyio.ClosedResourceError` [BYTE-CLOSED]; ``send()`` after
  ``send_eof()`` returned instead of raising [BYTE-SEND-AFTER-EOF]; a second ``aclose()``
  raised [RES-ACLOSE-IDEMPOTENT].
* the caller's side: a second task entering ``receive()`` (or ``send()``) of a byte stream
  while another is still in it [BYTE-BUSY].

Calling an operation on a stream you closed, or sending after ``send_eof()``, is *not* a
violation: the contract says what it does (it raises :exc:`~anyio.ClosedResourceError`, or
:exc:`~anyio.BrokenResourceError` after ``send_eof()``), and closing a stream is the documented
way to wake a task blocked in it. The validator checks that the stream keeps that promise.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Mapping
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass
from typing import Any, Literal, TypeAlias, overload

import anyio
import anyio.abc

from ._args import takes_max_bytes
from ._busy import BusyGuard
from .conformance import catalogue
from .protocols import (
    AsyncResource,
    ByteReceiveStream,
    ByteSendStream,
    ByteStream,
    ObjectReceiveStream,
    ObjectSendStream,
    ObjectStream,
    UnreliableObjectStream,
)
from .protocols._typevars import T, T_co, T_contra

__all__ = [
    "CheckedByteReceiveStream",
    "CheckedByteSendStream",
    "CheckedByteStream",
    "CheckedObjectReceiveStream",
    "CheckedObjectSendStream",
    "CheckedObjectStream",
    "CheckedUnreliableObjectStream",
    "StreamContractError",
    "checked",
]

#: What kind of stream :func:`checked` wraps, when it cannot tell by itself.
Kind: TypeAlias = Literal["bytes", "objects"]

# The IDs of the rules checked here, looked up in the catalogue when this module loads, so that
# a misspelt ID fails at import rather than when a stream first breaks the rule.
_BUSY = catalogue.rule("BYTE-BUSY").id
_ACLOSE_IDEMPOTENT = catalogue.rule("RES-ACLOSE-IDEMPOTENT").id
_NO_EMPTY = catalogue.rule("BYTE-NO-EMPTY").id
_MAX_BYTES = catalogue.rule("BYTE-MAX-BYTES").id
_MAX_BYTES_INVALID = catalogue.rule("BYTE-MAX-BYTES-INVALID").id


@dataclass(frozen=True)
class _KindRules:
    """The rules that byte and object streams each state in their own words."""

    closed: str
    eof: str
    send_eof: str
    send_after_eof: str


_BYTE_RULES = _KindRules(
    catalogue.rule("BYTE-CLOSED").id,
    catalogue.rule("BYTE-EOF").id,
    catalogue.rule("BYTE-SEND-EOF").id,
    catalogue.rule("BYTE-SEND-AFTER-EOF").id,
)
_OBJECT_RULES = _KindRules(
    catalogue.rule("OBJ-CLOSED").id,
    catalogue.rule("OBJ-EOF").id,
    catalogue.rule("OBJ-SEND-EOF").id,
    catalogue.rule("OBJ-SEND-AFTER-EOF").id,
)


class StreamContractError(AssertionError):
    """A stream or its caller broke the stream contract.

    ``str(error)`` names the rule, what was observed and the rule's sentence.
    """

    #: The ID of the rule broken, such as ``"BYTE-NO-EMPTY"``.
    rule: str

    def __init__(self, rule: str, observed: str) -> None:
        super().__init__(f"[{rule}] {observed} (rule: {catalogue.rule(rule).sentence})")
        self.rule = rule


def _busy_violation(observed: str) -> StreamContractError:
    return StreamContractError(_BUSY, observed)


def _receive_guard() -> BusyGuard:
    return BusyGuard("receive() was called while another task was still receiving", _busy_violation)


def _send_guard() -> BusyGuard:
    return BusyGuard("send() was called while another task was still sending", _busy_violation)


class _Checked:
    """State shared by every wrapper: the closed flag and the attribute pass-through."""

    _stream: AsyncResource
    _rules: _KindRules
    _closed: bool = False

    @property
    def extra_attributes(self) -> Mapping[Any, Callable[[], Any]]:
        attributes: Mapping[Any, Callable[[], Any]] = getattr(self._stream, "extra_attributes", {})
        return attributes

    async def aclose(self) -> None:
        """Close the wrapped stream; a second close that raises is a violation."""
        already_closed = self._closed
        self._closed = True
        try:
            await self._stream.aclose()
        except Exception as exc:
            if already_closed:
                raise StreamContractError(
                    _ACLOSE_IDEMPOTENT, f"the second aclose() raised {exc!r}"
                ) from exc
            raise

    def _returned_after_close(self, operation: str, result: object) -> StreamContractError:
        return StreamContractError(
            self._rules.closed,
            f"{operation} was called after aclose() and returned {result!r} instead of "
            "raising ClosedResourceError",
        )


class _ReceiveChecks(_Checked):
    """``receive()`` for both kinds: end of stream, closed stream, and (bytes) chunk checks."""

    _receiver: Any
    _eof_seen: bool = False
    # Object streams may be shared by receiving tasks; byte streams set a BusyGuard.
    _receive_guard: AbstractContextManager[None] = nullcontext()

    async def _checked_receive(self, *args: int) -> Any:
        with self._receive_guard:
            closed_at_start = self._closed
            try:
                item = await self._receiver.receive(*args)
            except anyio.EndOfStream:
                self._eof_seen = True
                raise
        if closed_at_start:
            raise self._returned_after_close("receive()", item)
        if self._eof_seen:
            raise StreamContractError(
                self._rules.eof,
                f"receive() returned {_short(item)} after it had raised EndOfStream",
            )
        return item


class _SendChecks(_Checked):
    """``send()`` for both kinds: closed stream, send after ``send_eof()``, busy (bytes)."""

    _sender: Any
    _eof_sent: bool = False
    # Object streams may be shared by sending tasks; byte streams set a BusyGuard.
    _send_guard: AbstractContextManager[None] = nullcontext()

    async def _checked_send(self, item: object) -> None:
        after_eof = self._eof_sent and not self._closed
        with self._send_guard:
            closed_at_start = self._closed
            await self._sender.send(item)
        if closed_at_start:
            raise self._returned_after_close("send()", None)
        if after_eof:
            raise StreamContractError(
                self._rules.send_after_eof,
                f"send({_short(item)}) after send_eof() returned instead of raising "
                "ClosedResourceError: the stream accepted data it will not deliver",
            )

    async def _checked_send_eof(self) -> None:
        closed_at_start = self._closed
        await self._sender.send_eof()
        self._eof_sent = True
        if closed_at_start:
            raise self._returned_after_close("send_eof()", None)


def _short(item: object) -> str:
    text = repr(item)
    return text if len(text) <= 60 else text[:57] + "..."


# -- byte streams ------------------------------------------------------------------------------


class _ByteReceiveChecks(_ReceiveChecks):
    async def receive(self, max_bytes: int = 65536) -> bytes:
        """Receive as the wrapped stream does, and check the chunk it returns."""
        chunk: bytes = await self._checked_receive(max_bytes)
        if max_bytes < 1:
            raise StreamContractError(
                _MAX_BYTES_INVALID,
                f"receive({max_bytes}) returned {_short(chunk)} instead of raising ValueError",
            )
        if not chunk:
            raise StreamContractError(
                _NO_EMPTY,
                f"receive() returned {chunk!r}; the end of a stream is EndOfStream",
            )
        if len(chunk) > max_bytes:
            raise StreamContractError(
                _MAX_BYTES,
                f"receive({max_bytes}) returned {len(chunk)} bytes",
            )
        return chunk


class _ByteSendChecks(_SendChecks):
    async def send(self, item: bytes, /) -> None:
        """Send as the wrapped stream does."""
        await self._checked_send(item)


class CheckedByteReceiveStream(_ByteReceiveChecks, anyio.abc.ByteReceiveStream):
    """A byte receive stream whose contract is checked at every call."""

    def __init__(self, stream: ByteReceiveStream) -> None:
        self._stream = self._receiver = stream
        self._rules = _BYTE_RULES
        self._receive_guard = _receive_guard()


class CheckedByteSendStream(_ByteSendChecks, anyio.abc.ByteSendStream):
    """A byte send stream whose contract is checked at every call."""

    def __init__(self, stream: ByteSendStream) -> None:
        self._stream = self._sender = stream
        self._rules = _BYTE_RULES
        self._send_guard = _send_guard()


class CheckedByteStream(_ByteReceiveChecks, _ByteSendChecks, anyio.abc.ByteStream):
    """A bidirectional byte stream whose contract is checked at every call."""

    def __init__(self, stream: ByteStream) -> None:
        self._stream = self._receiver = self._sender = stream
        self._rules = _BYTE_RULES
        self._receive_guard = _receive_guard()
        self._send_guard = _send_guard()

    async def send_eof(self) -> None:
        """End the sending direction; any later ``send()`` is a violation [BYTE-SEND-EOF]."""
        await self._checked_send_eof()


# -- object streams ----------------------------------------------------------------------------


class CheckedObjectReceiveStream(_ReceiveChecks, anyio.abc.ObjectReceiveStream[T_co]):
    """An object receive stream whose contract is checked at every call."""

    def __init__(self, stream: ObjectReceiveStream[T_co]) -> None:
        self._stream = self._receiver = stream
        self._rules = _OBJECT_RULES

    async def receive(self) -> T_co:
        """Receive as the wrapped stream does."""
        item: T_co = await self._checked_receive()
        return item


class CheckedObjectSendStream(_SendChecks, anyio.abc.ObjectSendStream[T_contra]):
    """An object send stream whose contract is checked at every call."""

    def __init__(self, stream: ObjectSendStream[T_contra]) -> None:
        self._stream = self._sender = stream
        self._rules = _OBJECT_RULES

    async def send(self, item: T_contra, /) -> None:
        """Send as the wrapped stream does."""
        await self._checked_send(item)


class CheckedUnreliableObjectStream(
    _ReceiveChecks, _SendChecks, anyio.abc.UnreliableObjectStream[T]
):
    """An object stream with both directions and no ``send_eof()`` (such as a datagram
    stream) whose contract is checked at every call."""

    def __init__(self, stream: UnreliableObjectStream[T]) -> None:
        self._stream = self._receiver = self._sender = stream
        self._rules = _OBJECT_RULES

    async def receive(self) -> T:
        """Receive as the wrapped stream does."""
        item: T = await self._checked_receive()
        return item

    async def send(self, item: T, /) -> None:
        """Send as the wrapped stream does."""
        await self._checked_send(item)


class CheckedObjectStream(CheckedUnreliableObjectStream[T], anyio.abc.ObjectStream[T]):
    """A bidirectional object stream whose contract is checked at every call."""

    def __init__(self, stream: ObjectStream[T]) -> None:
        super().__init__(stream)

    async def send_eof(self) -> None:
        """End the sending direction; any later ``send()`` is a violation [OBJ-SEND-EOF]."""
        await self._checked_send_eof()


# -- the entry point ---------------------------------------------------------------------------


# Each overload returns the role it was given: the wrapper is that role and more, but callers
# should depend on the role only (so swapping checked() in and out changes no types).
@overload
def checked(stream: ByteStream, /, *, kind: Kind | None = None) -> ByteStream: ...
@overload
def checked(stream: ByteReceiveStream, /, *, kind: Kind | None = None) -> ByteReceiveStream: ...
@overload
def checked(stream: ByteSendStream, /, *, kind: Kind | None = None) -> ByteSendStream: ...
@overload
def checked(stream: ObjectStream[T], /, *, kind: Kind | None = None) -> ObjectStream[T]: ...
@overload
def checked(
    stream: UnreliableObjectStream[T], /, *, kind: Kind | None = None
) -> UnreliableObjectStream[T]: ...
@overload
def checked(
    stream: ObjectReceiveStream[T], /, *, kind: Kind | None = None
) -> ObjectReceiveStream[T]: ...
@overload
def checked(stream: ObjectSendStream[T], /, *, kind: Kind | None = None) -> ObjectSendStream[T]: ...
def checked(stream: Any, /, *, kind: Kind | None = None) -> Any:
    """Wrap ``stream`` so that every breach of the stream contract raises at once.

    The wrapper has the role of ``stream`` (receive, send or both; bytes or objects) and
    passes data, exceptions and typed attributes through unchanged. A breach raises
    :exc:`StreamContractError` naming the rule; see the module documentation for the list.

    :param stream: any byte or object stream.
    :param kind: ``"bytes"`` or ``"objects"``. Needed only when it cannot be told from the
        stream: a byte stream's ``receive`` takes a positional argument (``max_bytes``), an object
        stream's none; a send-only stream must subclass :class:`anyio.abc.ByteSendStream` or
        annotate ``send``'s item as ``bytes``.
    :raises TypeError: ``stream`` neither receives nor sends, or its kind cannot be told, or
        it is a byte stream that receives and sends but has no ``send_eof()`` (which every
        two-way byte stream has). A two-way object stream without ``send_eof()`` is wrapped
        as an :class:`~streamspec.UnreliableObjectStream`.
    :raises ValueError: ``kind`` is neither ``"bytes"`` nor ``"objects"``.
    """
    if kind not in (None, "bytes", "objects"):
        raise ValueError(f"kind must be 'bytes' or 'objects', got {kind!r}")
    receives = callable(getattr(stream, "receive", None))
    sends = callable(getattr(stream, "send", None))
    if not (receives or sends):
        raise TypeError(f"stream must have receive() or send(), got {type(stream).__name__}")
    if kind is None:
        kind = _kind_of(stream, receives)
    two_way = receives and sends
    ends_sending = callable(getattr(stream, "send_eof", None))
    if kind == "bytes":
        if two_way and not ends_sending:
            raise TypeError(
                f"{type(stream).__name__} receives and sends bytes but has no send_eof(); "
                "a two-way byte stream needs one (wrap each direction on its own instead)"
            )
        if two_way:
            return CheckedByteStream(stream)
        return CheckedByteReceiveStream(stream) if receives else CheckedByteSendStream(stream)
    if two_way:
        return (
            CheckedObjectStream(stream) if ends_sending else CheckedUnreliableObjectStream(stream)
        )
    return CheckedObjectReceiveStream(stream) if receives else CheckedObjectSendStream(stream)


def _kind_of(stream: Any, receives: bool) -> Kind:
    """Tell a byte stream from an object stream by its AnyIO base class or its signature."""
    if isinstance(stream, anyio.abc.ByteReceiveStream | anyio.abc.ByteSendStream):
        return "bytes"
    if isinstance(stream, anyio.abc.ObjectReceiveStream | anyio.abc.ObjectSendStream):
        return "objects"
    if receives:
        return "bytes" if takes_max_bytes(stream) else "objects"
    send_parameters = list(inspect.signature(stream.send).parameters.values())
    if send_parameters and send_parameters[0].annotation in (bytes, "bytes"):
        return "bytes"
    raise TypeError(
        f"cannot tell whether {type(stream).__name__} sends bytes or objects; "
        "pass kind='bytes' or kind='objects'"
    )
