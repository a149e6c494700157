"""The amenities: single capabilities a stream may offer, and the roles built from them.

Each ``Supports...`` protocol is one capability that a wrapper or a user can require on its
own (``def drain(s: SupportsReceiveNowait[bytes])``). The combined roles below describe the
reference streams' full surface (memory ends, buffered, TLS), so code can ask for
"a memory-stream receive end" without naming a class.
"""

from __future__ import annotations

from collections.abc import Iterable
from types import TracebackType
from typing import Protocol, SupportsIndex, TypeAlias, runtime_checkable

from typing_extensions import Self

from ._typevars import T_co, T_contra
from .byte_streams import AnyByteStream, ByteReceiveStream, ByteStream
from .object_streams import ObjectReceiveStream, ObjectSendStream, ObjectStream

__all__ = [
    "BufferedByteDuplex",
    "BufferedByteReceiver",
    "MemoryObjectReceiver",
    "MemoryObjectSender",
    "StreamStatistics",
    "StrReceiveStream",
    "StrSendStream",
    "StrStream",
    "SupportsBufferedReceive",
    "SupportsClone",
    "SupportsReceiveNowait",
    "SupportsSendNowait",
    "SupportsStatistics",
    "SupportsSyncClose",
    "SupportsUnwrap",
    "TLSByteStream",
]


# -- single capabilities ----------------------------------------------------------------------


@runtime_checkable
class SupportsClone(Protocol):
    """An end of a stream that can be cloned, as memory object stream ends can.

    Clones share one stream; each is closed on its own, and the end as a whole counts as closed
    only when every clone is. Items are not copied to each clone: every item still goes to
    exactly one receiver. [OBJ-CLONE]
    """

    def clone(self) -> Self:
        """Return a new, open handle on the same end of the same stream.

        :raises ~anyio.ClosedResourceError: this handle is closed. [MEM-CLONE]
        """
        ...


@runtime_checkable
class SupportsSyncClose(Protocol):
    """A resource that can also be closed synchronously, and used in a plain ``with``.

    ``close()`` is for callbacks and finalisers that cannot await; it does exactly what
    ``aclose()`` does. ``with handle:`` closes the handle on exit. [MEM-SYNC-CLOSE]
    """

    def close(self) -> None:
        """Close this handle at once; a second call does nothing."""
        ...

    def __enter__(self) -> Self:
        """Return the handle itself."""
        ...

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc_val: BaseException | None,
        exc_tb: TracebackType | None,
        /,
    ) -> bool | None:
        """Close the handle; never suppress the block's exception."""
        ...


@runtime_checkable
class SupportsSendNowait(Protocol[T_contra]):
    """A send end that can try to send without waiting."""

    def send_nowait(self, item: T_contra, /) -> None:
        """Send ``item`` if that needs no waiting, else leave it unsent and raise.

        For a memory object stream this succeeds when a receiver is waiting (it gets the item)
        or the buffer has room. [MEM-RECEIVER-FIRST] [MEM-BUFFER-N]

        :raises ~anyio.WouldBlock: sending would have to wait; the item was not accepted.
        :raises ~anyio.ClosedResourceError: this handle is closed.
        :raises ~anyio.BrokenResourceError: no receiver is left to take the item.
            [MEM-LAST-RECEIVER-CLOSED]
        """
        ...


@runtime_checkable
class SupportsReceiveNowait(Protocol[T_co]):
    """A receive end that can try to receive without waiting."""

    def receive_nowait(self) -> T_co:
        """Return the next item if it is available without waiting, else raise.

        The next item is the oldest buffered one, else the item of the oldest waiting sender
        (whose ``send()`` then completes). [MEM-RECEIVE-NOWAIT]

        :raises ~anyio.WouldBlock: no item is available now.
        :raises ~anyio.EndOfStream: no item is available and every send handle is closed.
        :raises ~anyio.ClosedResourceError: this handle is closed.
        """
        ...


@runtime_checkable
class StreamStatistics(Protocol):
    """A snapshot of a memory object stream's state, as :meth:`SupportsStatistics.statistics`
    returns it. AnyIO's ``MemoryObjectStreamStatistics`` is one. [MEM-STATISTICS]"""

    @property
    def current_buffer_used(self) -> int:
        """Items in the buffer now."""
        ...

    @property
    def max_buffer_size(self) -> float:
        """The buffer's capacity (``math.inf`` when unbounded)."""
        ...

    @property
    def open_send_streams(self) -> int:
        """Send handles (clones included) not yet closed."""
        ...

    @property
    def open_receive_streams(self) -> int:
        """Receive handles (clones included) not yet closed."""
        ...

    @property
    def tasks_waiting_send(self) -> int:
        """Tasks blocked in ``send()``. One whose wait was cancelled may count until it
        resumes (in AnyIO's streams and in streamspec's)."""
        ...

    @property
    def tasks_waiting_receive(self) -> int:
        """Tasks blocked in ``receive()``. One whose wait was cancelled may count until it
        resumes (in AnyIO's streams and in streamspec's)."""
        ...


@runtime_checkable
class SupportsStatistics(Protocol):
    """A stream that reports its state."""

    def statistics(self) -> StreamStatistics:
        """Return a snapshot of the stream's state at the moment of the call. It is the same
        from either end and any clone. [MEM-STATISTICS]"""
        ...


@runtime_checkable
class SupportsBufferedReceive(Protocol):
    """Receiving that needs a buffer: exact sizes, delimiters, and pushing bytes back.

    Whatever the error, no byte read from the transport is ever lost: a call that raises
    leaves every byte it read in :attr:`buffer`, where the next call finds it.
    """

    @property
    def buffer(self) -> bytes:
        """The bytes read from the transport (or fed) and not yet returned to the caller."""
        ...

    def feed_data(self, data: Iterable[SupportsIndex], /) -> None:
        """Append ``data`` to the buffer, after the bytes already there and before any not yet
        read from the transport. [BUF-FEED]"""
        ...

    async def receive_exactly(self, nbytes: int, /) -> bytes:
        """Return exactly the next ``nbytes`` bytes, waiting for as many chunks as it takes.

        The result does not depend on how the data was chunked. [BUF-EXACTLY]

        :raises ValueError: ``nbytes`` is negative; nothing is consumed. [BUF-ARGS]
        :raises ~anyio.IncompleteRead: the stream ended before ``nbytes`` bytes arrived; every
            byte read stays in the buffer. [BUF-EXACTLY-INCOMPLETE]
        """
        ...

    async def receive_until(self, delimiter: bytes, /, max_bytes: int) -> bytes:
        """Return the bytes before the first ``delimiter``, and consume the delimiter too.

        The delimiter is found when the whole of it lies within the first ``max_bytes`` bytes
        of the stream; the answer does not depend on how the data was chunked. [BUF-UNTIL]

        :raises ValueError: ``delimiter`` is empty or ``max_bytes`` is less than 1; nothing is
            consumed. [BUF-ARGS]
        :raises ~anyio.DelimiterNotFound: the first ``max_bytes`` bytes hold no whole
            delimiter; every byte read stays in the buffer. [BUF-UNTIL-NOT-FOUND]
        :raises ~anyio.IncompleteRead: the stream ended before a delimiter; every byte read
            stays in the buffer. [BUF-UNTIL-INCOMPLETE]
        """
        ...


@runtime_checkable
class SupportsUnwrap(Protocol):
    """A protocol layer (TLS) that can be ended while keeping the transport below it."""

    async def unwrap(self) -> tuple[AnyByteStream, bytes]:
        """End the layer cleanly and return the transport with the bytes already read from it
        past the layer's end, which belong to whatever comes next. [TLS-UNWRAP]

        :raises ~anyio.BrokenResourceError: the closing handshake failed.
        """
        ...


# -- roles combined from the capabilities -----------------------------------------------------


@runtime_checkable
class MemoryObjectReceiver(
    ObjectReceiveStream[T_co],
    SupportsReceiveNowait[T_co],
    SupportsClone,
    SupportsSyncClose,
    SupportsStatistics,
    Protocol[T_co],
):
    """The receive end of a memory object stream.

    Beyond :class:`ObjectReceiveStream`: a waiting receiver owns the next item sent, oldest
    waiter first [MEM-RECEIVER-FIRST]; closing this handle wakes the tasks blocked on it, and
    only them, with :exc:`~anyio.ClosedResourceError` [MEM-CLOSE-WAKES]; once every send
    handle is closed, the buffered items still arrive and then :exc:`~anyio.EndOfStream`,
    blocked receivers included [MEM-LAST-SENDER-CLOSED]; iteration stops exactly then
    [MEM-ITER-END]. A cancelled ``receive()`` took no item [MEM-CANCEL-NO-LOSS]
    [MEM-NATIVE-CANCEL-NO-LOSS].
    """


@runtime_checkable
class MemoryObjectSender(
    ObjectSendStream[T_contra],
    SupportsSendNowait[T_contra],
    SupportsClone,
    SupportsSyncClose,
    SupportsStatistics,
    Protocol[T_contra],
):
    """The send end of a memory object stream.

    Beyond :class:`ObjectSendStream`: with a buffer of size N, N items are accepted with no
    receiver and the next ``send()`` waits [MEM-BUFFER-N] (size 0 is a rendezvous
    [MEM-BUFFER-ZERO], ``math.inf`` never waits [MEM-BUFFER-INF]); when room frees up, the
    oldest waiting sender goes first [MEM-SENDER-FAIR]; once every receive handle is closed,
    every send raises :exc:`~anyio.BrokenResourceError`, blocked senders included, and their
    items are not delivered [MEM-LAST-RECEIVER-CLOSED]. A cancelled ``send()`` delivered
    nothing [MEM-CANCEL-NO-LOSS] [MEM-NATIVE-CANCEL-NO-LOSS].
    """


@runtime_checkable
class BufferedByteReceiver(ByteReceiveStream, SupportsBufferedReceive, Protocol):
    """A byte receive stream with a buffer: ``receive()`` returns buffered bytes first, never
    more than ``max_bytes`` [BUF-RECEIVE], and the buffered amenities work on top."""


@runtime_checkable
class BufferedByteDuplex(ByteStream, SupportsBufferedReceive, Protocol):
    """A byte stream whose receiving side is buffered."""


@runtime_checkable
class TLSByteStream(ByteStream, SupportsUnwrap, Protocol):
    """A byte stream secured by TLS.

    After the handshake it provides every :class:`anyio.streams.tls.TLSAttribute` (ALPN
    protocol, cipher, peer certificate, TLS version and the rest) and passes the transport's
    attributes through. [TLS-ATTRIBUTES] [TLS-ALPN] Data crosses it intact whatever the
    transport's chunking [TLS-INTACT]. A client refuses a certificate for another host name
    [TLS-HOSTNAME] or from an untrusted issuer [TLS-UNTRUSTED]. ``aclose()`` sends
    ``close_notify`` [TLS-CLOSE-NOTIFY]; when that cannot be done (the peer's transport is
    gone, another task is reading the transport), ``aclose()`` raises nothing and closes the
    stream all the same, and in a cancelled scope it raises only the cancellation; either way
    the stream's operations then raise :exc:`~anyio.ClosedResourceError` [TLS-ACLOSE-QUIET].
    A transport that ends without ``close_notify`` is :exc:`~anyio.BrokenResourceError` when
    the stream is standard-compatible [TLS-RAGGED-EOF-STRICT] and :exc:`~anyio.EndOfStream`
    otherwise [TLS-RAGGED-EOF-LENIENT].
    """


#: A stream of decoded text, such as a text stream over a byte stream: ``receive()`` never
#: returns ``""`` [TEXT-NO-EMPTY] and what arrives does not depend on how the bytes were
#: chunked [TEXT-DECODE]; a character cut short by the end is reported according to the
#: stream's error policy [TEXT-TRUNCATED] [TEXT-ERRORS]; attributes pass through
#: [TEXT-ATTRIBUTES].
StrReceiveStream: TypeAlias = ObjectReceiveStream[str]
#: A stream that encodes text: the bytes sent for several ``send()`` calls are the encoding of
#: their concatenation [TEXT-ENCODE], a byte-order mark written once [TEXT-BOM-ONCE].
StrSendStream: TypeAlias = ObjectSendStream[str]
#: A text stream in both directions.
StrStream: TypeAlias = ObjectStream[str]
