"""Test doubles: connected in-memory stream pairs whose behaviour the test controls.

A protocol that works over a loopback socket can still fail in production, because a socket
on a real network splits, delays and drops data in ways loopback never does. The pairs here do
those things on request, deterministically:

* **split** every send into given sizes (one byte at a time, a fixed pattern, a function of
  the data, or sizes drawn by Hypothesis with :func:`drawn_split`), or **merge** what is
  waiting into one receive;
* **hold** data back until the test releases it (:meth:`Wire.hold`, :meth:`Wire.release`);
* **break** the connection after byte (or item) N: the peer receives exactly N, then
  :exc:`~anyio.BrokenResourceError` (:meth:`Wire.break_after`);
* **vanish**: close one end without telling the peer, whose receives then wait forever and
  whose sends go nowhere, as when a host drops off the network (:meth:`FakeByteStream.vanish`);
* **lock step**: a pair with no buffering at all, where ``send()`` returns only once the peer
  has received every byte of it (:func:`lockstep_byte_stream_pair`).

Each direction of a pair is a :class:`Wire`; an end's :attr:`~FakeByteStream.outgoing` wire
carries what it sends and its :attr:`~FakeByteStream.incoming` wire what it receives, so
``left.outgoing is right.incoming``. Apart from what the test asks for, the ends keep the
whole stream contract, which the conformance suite checks.
"""

from __future__ import annotations

import itertools
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import AbstractContextManager, nullcontext
from typing import TYPE_CHECKING, Any, Generic, TypeAlias, TypeVar, cast

import anyio
import anyio.abc
import anyio.lowlevel

from ._args import count, flag, provides
from ._busy import BusyGuard

if TYPE_CHECKING:
    from hypothesis.strategies import DataObject

__all__ = [
    "FakeByteStream",
    "FakeObjectStream",
    "Split",
    "Wire",
    "byte_stream_pair",
    "drawn_split",
    "lockstep_byte_stream_pair",
    "object_stream_pair",
]

T = TypeVar("T")
U = TypeVar("U")

#: How a byte wire splits each send into the chunks its receiver may see: ``None`` keeps each
#: send whole; an int ``k`` cuts it into pieces of ``k`` bytes; a sequence of sizes is applied
#: in turn, cycling, from the start of each send; a callable gets the sent bytes and returns
#: the sizes (what they leave over is one more piece).
Split: TypeAlias = int | Sequence[int] | Callable[[bytes], Iterable[int]] | None


def _sizes(split: Split, data: bytes) -> Iterator[int]:
    """The sizes of the pieces ``data`` is cut into, each at least 1, summing to its length."""
    if split is None:
        requested: Iterable[int] = ()
    elif isinstance(split, int):
        requested = itertools.repeat(split)
    elif callable(split):
        requested = split(data)
    else:
        requested = itertools.cycle(split) if split else ()
    left = len(data)
    for size in requested:
        if left == 0:
            return
        if type(size) is not int or size < 1:
            size = count("split", size, 1)
        size = min(size, left)
        yield size
        left -= size
    if left:
        yield left


def _check_split(split: Split) -> Split:
    if split is None or callable(split):
        return split
    if isinstance(split, (str, bytes)) or not isinstance(split, (int, Sequence)):
        raise TypeError(
            "split must be an int, a sequence of ints, a callable or None, "
            f"not {type(split).__name__}"
        )
    for size in (split,) if isinstance(split, int) else split:
        count("split", size, 1)
    return split


def drawn_split(data: DataObject, *, max_cuts: int = 8) -> Callable[[bytes], list[int]]:
    """A :data:`Split` whose cut points Hypothesis draws from ``data``, one send at a time.

    Use it inside a test decorated with ``@given(data=st.data())``. Each send is cut at up to
    ``max_cuts`` distinct offsets; a failing chunking shrinks to the fewest cuts that still
    fail, usually a single one.

    :raises TypeError: ``max_cuts`` is not an int, or ``data`` has no ``draw()``.
    :raises ValueError: ``max_cuts`` is negative.
    """
    max_cuts = count("max_cuts", max_cuts, 0)
    provides("data", data, "draw", what="Hypothesis's st.data()")
    from hypothesis import strategies as st

    def split(sent: bytes) -> list[int]:
        if len(sent) < 2:
            return [len(sent)] if sent else []
        offsets = st.integers(min_value=1, max_value=len(sent) - 1)
        cuts = sorted(data.draw(st.sets(offsets, max_size=max_cuts), label="cut offsets"))
        return [end - start for start, end in zip([0, *cuts], [*cuts, len(sent)], strict=True)]

    return split


class _Connection:
    """The two wires of a pair and whether the connection between them broke."""

    def __init__(self) -> None:
        self.broken: bool = False
        self.wires: list[Wire[Any]] = []

    def break_(self) -> None:
        """Break the connection: every operation on either wire now fails."""
        self.broken = True
        for wire in self.wires:
            wire._notify()


class Wire(Generic[T]):
    """One direction of a pair: the items in flight, and the test's controls over them.

    Units are bytes on a byte wire and items on an object wire.
    """

    def __init__(
        self,
        connection: _Connection,
        *,
        split: Split = None,
        merge: bool = False,
        items: bool = False,
    ):
        self._connection = connection
        # An object wire counts items, even items that are bytes, and never cuts one.
        self._items = items
        connection.wires.append(self)
        self.split = split
        #: Whether one receive may return several pieces at once (byte wires only).
        self.merge: bool = flag("merge", merge)
        self._visible: deque[T] = deque()
        self._held: deque[T] = deque()
        self._holding = False
        self._accepted = 0
        self._delivered = 0
        self._limit: int | None = None
        self._eof = False
        self._receiver_gone = False
        self._discard = False
        self._waiters: list[anyio.Event] = []

    # -- controls ------------------------------------------------------------------------------

    @property
    def split(self) -> Split:
        """How each send is split (byte wires only); may be changed at any time.

        :raises TypeError: set to something that is not a :data:`Split`, or to a size that is
            not an int (a ``bool`` included).
        :raises ValueError: set to a size less than 1.
        """
        return self._split

    @split.setter
    def split(self, split: Split) -> None:
        self._split: Split = _check_split(split)

    @property
    def accepted(self) -> int:
        """Units that sends have handed to this wire so far."""
        return self._accepted

    @property
    def delivered(self) -> int:
        """Units that the receiver has received so far."""
        return self._delivered

    @property
    def held(self) -> int:
        """Units held back by :meth:`hold`, not yet released."""
        return sum(self._measure(item) for item in self._held)

    def hold(self) -> None:
        """Hold back everything sent from now on, until :meth:`release`."""
        self._holding = True

    def release(self, amount: int | None = None) -> None:
        """Let held units through: all of them (and stop holding), or the first ``amount``
        (and keep holding the rest and what comes next).

        :raises TypeError: ``amount`` is neither None nor an int.
        :raises ValueError: ``amount`` is negative.
        """
        if amount is None:
            self._holding = False
            self._visible.extend(self._held)
            self._held.clear()
        else:
            amount = count("amount", amount, 0)
            while amount and self._held:
                first = self._held[0]
                size = self._measure(first)
                if size <= amount:
                    self._visible.append(self._held.popleft())
                    amount -= size
                else:
                    assert isinstance(first, bytes)
                    self._visible.append(first[:amount])  # type: ignore[arg-type]
                    self._held[0] = first[amount:]  # type: ignore[assignment]
                    amount = 0
        self._notify()

    def break_after(self, amount: int) -> None:
        """Break the connection once ``amount`` units in total have crossed this wire.

        The send that carries the unit number ``amount`` delivers up to it and raises
        :exc:`~anyio.BrokenResourceError`; the receiver gets exactly ``amount`` units, then
        :exc:`~anyio.BrokenResourceError`; every later operation on either end, in either
        direction, raises it too (once data already in flight is drained). When ``amount``
        units have crossed already, the connection breaks at once.

        :raises TypeError: ``amount`` is not an int.
        :raises ValueError: ``amount`` is negative.
        """
        amount = count("amount", amount, 0)
        self._limit = amount
        if self._accepted >= amount:
            self._connection.break_()

    # -- used by the ends ----------------------------------------------------------------------

    def _discarding(self) -> bool:
        """Whether the receiving end vanished, so sends go nowhere."""
        # A method, not the attribute itself: a sender reads it again after waiting, and
        # mypy would otherwise keep the narrowing from before the await (unreachable code).
        return self._discard

    def _notify(self) -> None:
        waiters, self._waiters = self._waiters, []
        for event in waiters:
            event.set()

    async def _wait(self) -> None:
        event = anyio.Event()
        self._waiters.append(event)
        try:
            await event.wait()
        finally:
            if event in self._waiters:
                self._waiters.remove(event)

    def _accept(self, pieces: Iterable[T], size: int) -> bool:
        """Take ``size`` units in ``pieces``; return False if the connection broke here."""
        cut = None
        if self._limit is not None and self._accepted + size >= self._limit:
            cut = self._limit - self._accepted
        target = self._held if self._holding else self._visible
        taken = 0
        for piece in pieces:
            if cut is not None and taken + self._measure(piece) > cut:
                if cut > taken:
                    target.append(piece[: cut - taken])  # type: ignore[index]
                break
            target.append(piece)
            taken += self._measure(piece)
        self._accepted += size if cut is None else cut
        self._notify()
        if cut is not None:
            self._connection.break_()
            return False
        return True

    def _measure(self, piece: object) -> int:
        """The units in ``piece``: its length on a byte wire, 1 on an object wire."""
        return 1 if self._items else len(cast(bytes, piece))

    def _take(self, max_bytes: int | None) -> T:
        if max_bytes is None:
            item = self._visible.popleft()
            self._delivered += 1
        else:
            item = cast(T, self._take_bytes(cast("deque[bytes]", self._visible), max_bytes))
        self._notify()
        return item

    def _take_bytes(self, visible: deque[bytes], max_bytes: int) -> bytes:
        chunk = visible.popleft()
        if self.merge:
            parts = [chunk]
            total = len(chunk)
            while visible and total < max_bytes:
                parts.append(visible.popleft())
                total += len(parts[-1])
            chunk = b"".join(parts)
        if len(chunk) > max_bytes:
            visible.appendleft(chunk[max_bytes:])
            chunk = chunk[:max_bytes]
        self._delivered += len(chunk)
        return chunk


class _End(Generic[T]):
    """What both kinds of end share: closing, vanishing, waiting on the wires."""

    def __init__(self, incoming: Wire[T], outgoing: Wire[T], lockstep: bool) -> None:
        #: The wire this end receives from (the peer's :attr:`outgoing`).
        self.incoming = incoming
        #: The wire this end sends on (the peer's :attr:`incoming`).
        self.outgoing = outgoing
        self._lockstep = lockstep
        self._closed = False
        self._eof_sent = False
        # Byte ends let one task at a time receive and send, as a socket does; object ends
        # take items whole, so concurrent tasks cannot interleave them.
        self._receive_guard: AbstractContextManager[None] = (
            nullcontext() if incoming._items else BusyGuard("receiving from")
        )
        self._send_guard: AbstractContextManager[None] = (
            nullcontext() if outgoing._items else BusyGuard("sending to")
        )

    @property
    def extra_attributes(self) -> Mapping[Any, Callable[[], Any]]:
        return {}

    async def aclose(self) -> None:
        """Close this end: the peer receives what was sent, then EndOfStream; the peer's
        sends raise BrokenResourceError; tasks blocked on this end get ClosedResourceError."""
        if not self._closed:
            self._closed = True
            self.outgoing._eof = True
            self.incoming._receiver_gone = True
            self.outgoing._notify()
            self.incoming._notify()
        # A checkpoint like every async operation, taken after closing, so that a cancelled
        # aclose() still closes. [RES-ACLOSE-CANCELLED]
        await anyio.lowlevel.checkpoint()

    def vanish(self) -> None:
        """Close this end without telling the peer.

        Operations on this end raise :exc:`~anyio.ClosedResourceError`. The peer is never told:
        its receives wait (until its own timeout), its sends succeed and go nowhere.
        """
        self._closed = True
        self.incoming._discard = True
        self.incoming._visible.clear()
        self.incoming._held.clear()
        self.incoming._notify()
        self.outgoing._notify()

    async def _receive(self, max_bytes: int | None) -> T:
        await anyio.lowlevel.checkpoint()
        with self._receive_guard:
            wire = self.incoming
            while True:
                if self._closed:
                    raise anyio.ClosedResourceError
                if wire._visible:
                    return wire._take(max_bytes)
                if self._connection_broken():
                    raise anyio.BrokenResourceError
                if wire._eof and not wire._held:
                    raise anyio.EndOfStream
                await wire._wait()

    async def _send(self, pieces: Iterable[T], size: int) -> None:
        await anyio.lowlevel.checkpoint()
        with self._send_guard:
            if self._closed or self._eof_sent:
                raise anyio.ClosedResourceError
            wire = self.outgoing
            if self._connection_broken() or wire._receiver_gone:
                raise anyio.BrokenResourceError
            if wire._discard or size == 0:
                return
            if not wire._accept(pieces, size):
                raise anyio.BrokenResourceError
            target = wire._accepted
            while self._lockstep and wire._delivered < target:
                await wire._wait()
                if self._closed:
                    raise anyio.ClosedResourceError
                if self._connection_broken() or wire._receiver_gone:
                    raise anyio.BrokenResourceError
                if wire._discarding():
                    return

    async def _send_eof(self) -> None:
        await anyio.lowlevel.checkpoint()
        if self._closed:
            raise anyio.ClosedResourceError
        self._eof_sent = True
        self.outgoing._eof = True
        self.outgoing._notify()

    def _connection_broken(self) -> bool:
        return self.incoming._connection.broken


class FakeByteStream(_End[bytes], anyio.abc.ByteStream):
    """One end of a :func:`byte_stream_pair`: a byte stream that keeps the contract, with the
    test in control of its wires.

    Concurrent receives (or sends) raise :exc:`~anyio.BusyResourceError`, as on a socket.
    """

    async def receive(self, max_bytes: int = 65536) -> bytes:
        """Receive at most ``max_bytes`` bytes: at most one piece of a split send, unless the
        wire merges."""
        return await self._receive(count("max_bytes", max_bytes, 1))

    async def send(self, item: bytes) -> None:
        """Send ``item``, split as the outgoing wire says.

        :raises TypeError: ``item`` is not bytes-like (``bytes(5)`` would be five NUL bytes).
        """
        if not isinstance(item, (bytes, bytearray, memoryview)):
            raise TypeError(f"item must be bytes-like, not {type(item).__name__}")
        data = bytes(item)
        pieces = [data[i : i + n] for i, n in _offsets(_sizes(self.outgoing.split, data))]
        await self._send(pieces, len(data))

    async def send_eof(self) -> None:
        """Let the peer receive what was sent, then EndOfStream; later sends raise
        ClosedResourceError."""
        await self._send_eof()


def _offsets(sizes: Iterable[int]) -> Iterator[tuple[int, int]]:
    offset = 0
    for size in sizes:
        yield offset, size
        offset += size


class FakeObjectStream(_End[T], anyio.abc.ObjectStream[T]):
    """One end of an :func:`object_stream_pair`; units on its wires are items."""

    async def receive(self) -> T:
        """Receive the next item."""
        return await self._receive(None)

    async def send(self, item: T) -> None:
        """Send ``item``."""
        await self._send((item,), 1)

    async def send_eof(self) -> None:
        """Let the peer receive what was sent, then EndOfStream."""
        await self._send_eof()


def byte_stream_pair(
    *, split: Split = None, merge: bool = False
) -> tuple[FakeByteStream, FakeByteStream]:
    """Return two connected byte streams: what one sends, the other receives.

    :param split: how both wires split each send (see :data:`Split`); each wire's
        :attr:`Wire.split` can be changed later on its own.
    :param merge: whether a receive may join pieces (two sends arrive as one chunk, as on a
        socket); by default a receive returns at most one piece.
    :raises ValueError: a split size is less than 1.
    """
    return _pair(FakeByteStream, split=split, merge=merge, lockstep=False)


def lockstep_byte_stream_pair(*, split: Split = None) -> tuple[FakeByteStream, FakeByteStream]:
    """Return two connected byte streams with no buffering between them.

    ``send()`` returns only once the peer has received every byte of it, so a protocol that
    sends before it reads on both sides deadlocks here, as it would over a full socket.
    """
    return _pair(FakeByteStream, split=split, merge=False, lockstep=True)


def object_stream_pair() -> tuple[FakeObjectStream[Any], FakeObjectStream[Any]]:
    """Return two connected object streams; their wires count items, not bytes."""
    return _pair(FakeObjectStream[Any], split=None, merge=False, lockstep=False, items=True)


_E = TypeVar("_E", bound=_End[Any])


def _pair(cls: Callable[[Wire[Any], Wire[Any], bool], _E], **options: Any) -> tuple[_E, _E]:
    connection = _Connection()
    lockstep = options.pop("lockstep")
    left_to_right: Wire[Any] = Wire(connection, **options)
    right_to_left: Wire[Any] = Wire(connection, **options)
    return cls(right_to_left, left_to_right, lockstep), cls(left_to_right, right_to_left, lockstep)
