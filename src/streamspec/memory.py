"""Memory object streams: the reference implementation, a drop-in for AnyIO's.

:func:`create_memory_object_stream` returns a send end and a receive end that share one
:class:`_StreamState`: a buffer of accepted items, the parked receivers and the parked senders
(each parked with the item it offers), oldest first. The ends are thin handles; clones are
more handles on the same state. The state keeps these invariants between operations:

* a parked receiver exists only while the buffer is empty and no sender is parked;
* a parked sender exists only while the buffer is full (or, after a cancelled receiver gave
  its item back, fuller than its size).

From them follow the rules this module keeps (IDs from the conformance catalogue): items come
out first in, first out [OBJ-FIFO], each exactly once [OBJ-EXACTLY-ONCE], as the very objects
sent [OBJ-IDENTITY]; a parked receiver owns the next item sent, oldest first
[MEM-RECEIVER-FIRST]; a freed slot goes to the oldest parked sender [MEM-SENDER-FAIR]; buffer
sizes 0, N and ``math.inf`` [MEM-BUFFER-ZERO] [MEM-BUFFER-N] [MEM-BUFFER-INF]; closing a
handle wakes the tasks parked on that handle only [MEM-CLOSE-WAKES]; the last send handle
ends the stream once the buffer drains [MEM-LAST-SENDER-CLOSED] [OBJ-EOF] [MEM-ITER-END];
the last receive handle breaks every sender [MEM-LAST-RECEIVER-CLOSED]; cancellation, by a
cancel scope or by asyncio's ``Task.cancel()``, never loses or duplicates an item
[MEM-CANCEL-NO-LOSS] [MEM-NATIVE-CANCEL-NO-LOSS]; every async operation is a checkpoint
[ASYNC-CHECKPOINT].

Parking goes through :mod:`streamspec._parking`, which has a fast path for each backend.
"""

from __future__ import annotations

import contextlib
import math
import numbers
import operator
import warnings
from collections import deque
from collections.abc import Callable
from types import TracebackType
from typing import Any, Generic, TypeAlias, TypeVar

from anyio import BrokenResourceError, ClosedResourceError, EndOfStream, WouldBlock
from anyio.abc import ObjectReceiveStream, ObjectSendStream
from anyio.lowlevel import checkpoint
from anyio.streams import memory as _anyio_memory
from typing_extensions import Self

from ._parking import (
    NO_VALUE,
    NoValue,
    Token,
    current_backend,
    value_despite_interrupt,
)
from .protocols._typevars import T, T_co, T_contra

__all__ = [
    "MemoryObjectReceiveStream",
    "MemoryObjectSendStream",
    "MemoryObjectStreamStatistics",
    "create_memory_object_stream",
]


#: A parked receiver: its token and the handle it parked on.
_ParkedReceiver: TypeAlias = "tuple[Token, MemoryObjectReceiveStream[Any]]"
#: A parked sender: its token, the item it offers and the handle it parked on.
_ParkedSender: TypeAlias = "tuple[Token, Any, MemoryObjectSendStream[Any]]"
_Entry = TypeVar("_Entry", bound="tuple[Any, ...]")

#: What :meth:`~MemoryObjectReceiveStream.statistics` returns: AnyIO's own record (the same
#: class, so code that checks for AnyIO's type accepts ours).
MemoryObjectStreamStatistics: TypeAlias = _anyio_memory.MemoryObjectStreamStatistics


class _StreamState(Generic[T]):
    """Everything the ends of one stream share."""

    __slots__ = (
        "buffer",
        "max_buffer_size",
        "open_receive_streams",
        "open_send_streams",
        "parked_receivers",
        "parked_senders",
    )

    def __init__(self, max_buffer_size: float) -> None:
        self.buffer: deque[T] = deque()
        self.max_buffer_size: float = max_buffer_size
        self.open_send_streams: int = 0
        self.open_receive_streams: int = 0
        self.parked_receivers: _WaitQueue[_ParkedReceiver] = _WaitQueue()
        self.parked_senders: _WaitQueue[_ParkedSender] = _WaitQueue()

    def give_back(self, item: T) -> None:
        """Put back an item whose receiver was cancelled before it could return it.

        The item was the oldest in flight, so it goes to the oldest parked receiver or to the
        front of the buffer (which may then hold one item more than its size).
        """
        if (receiver := self.parked_receivers.take()) is not None:
            receiver[0].set_result(item)
        else:
            self.buffer.appendleft(item)


class _WaitQueue(deque[_Entry]):
    """Parked tasks, oldest first; each entry starts with the task's token, ends with its handle.

    A task whose wait was cancelled leaves its entry behind with a done token, which every
    waker skips. Removing the entry at once would scan the queue on every cancellation, which
    turns cancelling thousands of waiters (a task group's scope, say) quadratic. Instead the
    queue counts abandoned entries and sweeps them out in one pass once they may make up half
    of it: each cancellation costs O(1) amortised, and dead entries never outnumber live ones
    for long.

    :attr:`waiting` counts the parked tasks that no waker has resolved and that have not
    withdrawn, kept as they change, so reading it costs no scan: a task that parks appends its
    entry and adds one, a waker that resolves a token takes one off (:meth:`take`,
    :meth:`release`), and a task whose wait was cancelled takes itself off when it resumes
    (:meth:`leave`), as AnyIO's count does. (Counting it off the moment it is cancelled would
    need a hook in asyncio's future, and a future subclass costs every wait more than the
    exact count is worth.) The hot paths of the streams write out parking and :meth:`take`
    rather than call a method: a call level costs a rendezvous several percent.
    """

    __slots__ = ("_abandoned", "waiting")

    def __init__(self) -> None:
        super().__init__()
        self._abandoned = 0
        #: How many parked tasks wait: not yet resolved by a waker, not yet withdrawn.
        self.waiting: int = 0

    def take(self) -> _Entry | None:
        """Remove and return the oldest entry still waiting, dropping abandoned ones before
        it; None if there is none. The caller resolves its token at once.

        A dropped entry's task still counts in :attr:`waiting` until it leaves."""
        while self:
            entry = self.popleft()
            if not entry[0].done():
                self.waiting -= 1
                return entry
        return None

    def leave(self, entry: _Entry) -> None:
        """Withdraw ``entry``, whose task's wait raised without being handed anything."""
        token = entry[0]
        if token.cancelled():
            # Its entry goes in a later sweep, if take() has not dropped it already.
            self.waiting -= 1
            self._abandoned += 1
            if self._abandoned * 2 > len(self):
                self._sweep(lambda _entry: False)
        elif not token.done():
            # Interrupted by something other than a cancellation (rare): nothing marks the
            # entry dead, so it must go now.
            with contextlib.suppress(ValueError):
                self.remove(entry)
                self.waiting -= 1
        # Otherwise a waker or a close resolved the token and already dequeued the entry.

    def release(self, owner: object | None, error: type[BaseException]) -> None:
        """Wake the tasks parked on handle ``owner`` (all of them if None) with ``error``."""
        released = self._sweep(lambda entry: owner is None or entry[-1] is owner)
        self.waiting -= len(released)
        for entry in released:
            entry[0].set_exception(error())

    def _sweep(self, selected: Callable[[_Entry], bool]) -> list[_Entry]:
        """Drop abandoned entries and remove and return the live ones ``selected`` picks
        (the tasks of dropped entries still count in :attr:`waiting` until they leave)."""
        picked: list[_Entry] = []
        kept: list[_Entry] = []
        for entry in self:
            if not entry[0].done():
                (picked if selected(entry) else kept).append(entry)
        self.clear()
        self.extend(kept)
        self._abandoned = 0
        return picked


def _warn_unclosed(handle: object) -> None:
    warnings.warn(
        f"{handle!r} was garbage-collected without being closed",
        ResourceWarning,
        stacklevel=2,
        source=handle,
    )


class _Handle:
    """What both ends do alike: a handle on the shared state, closed once.

    Each end defines ``close()``; closing, statistics, the context managers and the warning
    for a handle dropped while open are the same for both.
    """

    __slots__ = ("_closed", "_state")

    _closed: bool
    _state: _StreamState[Any]

    def close(self) -> None:
        """Close this handle at once, without a checkpoint (each end says what follows)."""
        raise NotImplementedError

    async def aclose(self) -> None:
        """Close this handle as :meth:`close` does, then checkpoint.

        The handle is closed even when the calling scope is cancelled; the cancellation is
        raised afterwards. [RES-ACLOSE-CANCELLED] [ASYNC-CHECKPOINT]
        """
        self.close()
        await checkpoint()

    def statistics(self) -> MemoryObjectStreamStatistics:
        """Return a snapshot of the stream, the same from any handle. [MEM-STATISTICS]

        ``tasks_waiting_send`` and ``tasks_waiting_receive`` count parked tasks that have not
        been handed an item or an error; a task whose wait was cancelled counts until it
        resumes, as in AnyIO. The call takes constant time, however many tasks wait.
        """
        state = self._state
        # Positional, in the record's field order: keywords would double the cost of the call.
        return MemoryObjectStreamStatistics(
            len(state.buffer),  # current_buffer_used
            state.max_buffer_size,
            state.open_send_streams,
            state.open_receive_streams,
            state.parked_senders.waiting,  # tasks_waiting_send
            state.parked_receivers.waiting,  # tasks_waiting_receive
        )

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc_val: BaseException | None,
        exc_tb: TracebackType | None,
    ) -> None:
        self.close()

    def __del__(self) -> None:
        if not self._closed:
            _warn_unclosed(self)

    def __repr__(self) -> str:
        status = "closed" if self._closed else "open"
        return f"<{type(self).__name__} at {id(self):#x}, {status}>"


class MemoryObjectReceiveStream(_Handle, ObjectReceiveStream[T_co]):
    """The receive end of a memory object stream, one handle of possibly many clones.

    It fits :class:`streamspec.MemoryObjectReceiver`, whose docstrings are the contract; the
    methods below document only what is particular to this implementation.
    """

    __slots__ = ()
    _state: _StreamState[T_co]

    def __init__(self, state: _StreamState[T_co]) -> None:
        self._closed = False
        self._state = state
        state.open_receive_streams += 1

    def _receive_now(self) -> T_co | NoValue:
        """Return the oldest buffered item (refilling the freed slot from the oldest parked
        sender), else the oldest parked sender's item, else NO_VALUE if the caller would have
        to wait.

        (The hot path of both receive methods, so it is written out in one function.)
        """
        if self._closed:
            raise ClosedResourceError
        state = self._state
        senders = state.parked_senders
        buffer = state.buffer
        if buffer:
            item = buffer.popleft()
            while senders and len(buffer) < state.max_buffer_size:
                if (sender := senders.take()) is None:
                    break
                sender[0].set_result(None)
                buffer.append(sender[1])
            return item
        while senders:  # senders.take() written out, as the hot path
            token, offered, _ = senders.popleft()
            if not token.done():
                senders.waiting -= 1
                token.set_result(None)
                return offered  # type: ignore[no-any-return]
        if not state.open_send_streams:
            raise EndOfStream
        return NO_VALUE

    async def receive(self) -> T_co:
        """Wait for the next item and return it.

        The next item is the oldest buffered one, else the offer of the oldest parked sender,
        else the first item sent while this task waits, unless a task that started waiting
        earlier gets it. [OBJ-FIFO] [MEM-RECEIVER-FIRST]

        :raises ~anyio.EndOfStream: every send handle is closed and nothing is left to
            receive, before the call or while the task waits. [MEM-LAST-SENDER-CLOSED]
        :raises ~anyio.ClosedResourceError: this handle was closed, before the call or while
            the task waits (closing another clone does not wake it). [MEM-CLOSE-WAKES]

        A cancelled call took no item: if an item had already been handed to the task when a
        native ``Task.cancel()`` struck, the item goes back to the oldest parked receiver or
        to the front of the buffer. [MEM-CANCEL-NO-LOSS] [MEM-NATIVE-CANCEL-NO-LOSS]
        """
        backend = current_backend()
        state = self._state
        if state.max_buffer_size or state.buffer or state.parked_senders:
            await backend.checkpoint()
        elif (pending := backend.pending_cancellation()) is not None:
            # A rendezvous with no sender waiting: the task is about to wait, which is a
            # schedule point of its own (or to fail at once), so only a pending cancellation
            # is looked for; a yield first would not spare the wait, as one side of every
            # rendezvous waits. (With a buffer, a yield first often lets a sender fill it.)
            await pending
        item = self._receive_now()
        if item is not NO_VALUE:
            if backend.schedule_point is not None:
                await backend.schedule_point()
            return item
        receivers = state.parked_receivers
        token = backend.new_token()
        entry = (token, self)
        receivers.append(entry)  # parked: counted until resolved or withdrawn
        receivers.waiting += 1
        try:
            return await token  # type: ignore[no-any-return]
        except BaseException:
            handed = value_despite_interrupt(token)
            if handed is not NO_VALUE:
                state.give_back(handed)
            else:
                receivers.leave(entry)
            raise

    def receive_nowait(self) -> T_co:
        """Return the next item if one is available without waiting.

        The next item is the oldest buffered one, else the offer of the oldest parked sender,
        whose ``send()`` then returns. [MEM-RECEIVE-NOWAIT]

        :raises ~anyio.WouldBlock: no item is available now.
        :raises ~anyio.EndOfStream: no item is available and every send handle is closed.
        :raises ~anyio.ClosedResourceError: this handle is closed.
        """
        item = self._receive_now()
        if item is NO_VALUE:
            raise WouldBlock
        return item

    def clone(self) -> MemoryObjectReceiveStream[T_co]:
        """Return a new handle on this receive end; items are shared, not copied. [MEM-CLONE]

        :raises ~anyio.ClosedResourceError: this handle is closed.
        """
        if self._closed:
            raise ClosedResourceError
        return MemoryObjectReceiveStream(self._state)

    def close(self) -> None:
        """Close this handle; a second call does nothing. [MEM-SYNC-CLOSE]

        Tasks parked in ``receive()`` on this handle get :exc:`~anyio.ClosedResourceError`;
        those parked on other clones keep waiting. [MEM-CLOSE-WAKES] When this was the last
        open receive handle, every parked sender gets :exc:`~anyio.BrokenResourceError` and
        its item is not delivered, and so does every later send.
        [MEM-LAST-RECEIVER-CLOSED] Items still buffered then are never received.
        """
        if self._closed:
            return
        self._closed = True
        state = self._state
        state.open_receive_streams -= 1
        if state.parked_receivers:
            state.parked_receivers.release(self, ClosedResourceError)
        if not state.open_receive_streams and state.parked_senders:
            state.parked_senders.release(None, BrokenResourceError)


class MemoryObjectSendStream(_Handle, ObjectSendStream[T_contra]):
    """The send end of a memory object stream, one handle of possibly many clones.

    It fits :class:`streamspec.MemoryObjectSender`, whose docstrings are the contract; the
    methods below document only what is particular to this implementation.
    """

    __slots__ = ()
    _state: _StreamState[T_contra]

    def __init__(self, state: _StreamState[T_contra]) -> None:
        self._closed = False
        self._state = state
        state.open_send_streams += 1

    def _send_now(self, item: T_contra) -> bool:
        """Hand ``item`` to the oldest parked receiver, else buffer it if there is room;
        return False, changing nothing, if the caller would have to wait.

        (The hot path of both send methods, so it is written out in one function.)
        """
        if self._closed:
            raise ClosedResourceError
        state = self._state
        if not state.open_receive_streams:
            raise BrokenResourceError
        receivers = state.parked_receivers
        while receivers:  # receivers.take() written out, as the hot path
            token = receivers.popleft()[0]
            if not token.done():
                receivers.waiting -= 1
                token.set_result(item)
                return True
        if len(state.buffer) < state.max_buffer_size:
            state.buffer.append(item)
            return True
        return False

    async def send(self, item: T_contra) -> None:
        """Send ``item``, waiting until a receiver takes it or the buffer has room.

        A parked receiver gets the item at once [MEM-RECEIVER-FIRST]; a sender that has to
        wait is served before any sender that starts waiting later [MEM-SENDER-FAIR].

        :raises ~anyio.BrokenResourceError: every receive handle is closed, before the call
            or while the task waits; the item was not delivered. [MEM-LAST-RECEIVER-CLOSED]
        :raises ~anyio.ClosedResourceError: this handle was closed, before the call or while
            the task waits; the item was not delivered. [MEM-CLOSE-WAKES]

        A send that raised delivered nothing, and one that returned delivered its item
        exactly once. If a native ``Task.cancel()`` strikes after a receiver already took the
        item, the send returns normally and the cancellation is raised at the task's next
        suspension instead. [MEM-CANCEL-NO-LOSS] [MEM-NATIVE-CANCEL-NO-LOSS]
        """
        backend = current_backend()
        state = self._state
        if state.max_buffer_size or state.parked_receivers:
            await backend.checkpoint()
        elif (pending := backend.pending_cancellation()) is not None:
            # A rendezvous with no receiver waiting: as in receive(), the task is about to
            # wait (or to fail at once).
            await pending
        if self._send_now(item):
            if backend.schedule_point is not None:
                await backend.schedule_point()
            return
        senders = state.parked_senders
        token = backend.new_token()
        entry = (token, item, self)
        senders.append(entry)  # parked: counted until resolved or withdrawn
        senders.waiting += 1
        try:
            await token
        except BaseException as exc:
            if value_despite_interrupt(token) is NO_VALUE:
                senders.leave(entry)
                raise
            # A receiver took the item: the send happened, so it must not raise.
            if not backend.defer_cancellation(exc):
                raise

    def send_nowait(self, item: T_contra) -> None:
        """Send ``item`` if that needs no waiting: a receiver is parked (the oldest one gets
        it) or the buffer has room. [MEM-BUFFER-N] [MEM-BUFFER-ZERO] [MEM-BUFFER-INF]

        :raises ~anyio.WouldBlock: sending would have to wait; the item was not accepted.
        :raises ~anyio.BrokenResourceError: every receive handle is closed.
        :raises ~anyio.ClosedResourceError: this handle is closed.
        """
        if not self._send_now(item):
            raise WouldBlock

    def clone(self) -> MemoryObjectSendStream[T_contra]:
        """Return a new handle on this send end. [MEM-CLONE]

        :raises ~anyio.ClosedResourceError: this handle is closed.
        """
        if self._closed:
            raise ClosedResourceError
        return MemoryObjectSendStream(self._state)

    def close(self) -> None:
        """Close this handle; a second call does nothing. [MEM-SYNC-CLOSE]

        Tasks parked in ``send()`` on this handle get :exc:`~anyio.ClosedResourceError` and
        their items are withdrawn; those parked on other clones keep waiting.
        [MEM-CLOSE-WAKES] When this was the last open send handle, receivers still get the
        buffered items and then :exc:`~anyio.EndOfStream`, parked receivers at once.
        [MEM-LAST-SENDER-CLOSED]
        """
        if self._closed:
            return
        self._closed = True
        state = self._state
        state.open_send_streams -= 1
        if state.parked_senders:
            state.parked_senders.release(self, ClosedResourceError)
        if not state.open_send_streams and state.parked_receivers:
            state.parked_receivers.release(None, EndOfStream)


def _validated_buffer_size(max_buffer_size: object) -> float:
    """Return ``max_buffer_size`` as an int or ``math.inf``; raise if it is not one.

    [MEM-BUFFER-INVALID]
    """
    expected = "max_buffer_size must be a non-negative integer or math.inf"
    if isinstance(max_buffer_size, bool):
        raise TypeError(f"{expected}, not a bool ({max_buffer_size!r})")
    if isinstance(max_buffer_size, float):
        if max_buffer_size == math.inf:
            return math.inf
        raise ValueError(f"{expected}, got {max_buffer_size!r}")
    try:
        size = operator.index(max_buffer_size)  # type: ignore[arg-type]
    except TypeError:
        if isinstance(max_buffer_size, numbers.Number):
            raise ValueError(f"{expected}, got {max_buffer_size!r}") from None
        raise TypeError(f"{expected}, not {type(max_buffer_size).__name__}") from None
    if size < 0:
        raise ValueError(f"{expected}, got {size!r}")
    return size


class create_memory_object_stream(
    tuple[MemoryObjectSendStream[T], MemoryObjectReceiveStream[T]],
):
    """Create a memory object stream and return its ``(send end, receive end)``.

    Subscript it to type the items: ``create_memory_object_stream[int](5)``. It is a class
    only so that the subscription works at run time; calling it returns a plain tuple.

    :param max_buffer_size: how many items the stream holds with no receiver waiting: ``0``
        (the default) makes every ``send()`` wait for a receiver [MEM-BUFFER-ZERO], an integer
        N lets N items wait in the buffer [MEM-BUFFER-N], and ``math.inf`` never makes a
        sender wait [MEM-BUFFER-INF]. Any object with ``__index__`` counts as an integer.
    :param item_type: ignored; the pre-AnyIO-4 way to type the items.

        .. deprecated:: 0.1
           Subscript instead: ``create_memory_object_stream[int](...)``.

    :raises ValueError: ``max_buffer_size`` is negative, or a number that is neither an
        integer nor ``math.inf`` (``2.5``, ``3.0``, ``nan``, ``-math.inf``, a ``Fraction``).
        [MEM-BUFFER-INVALID]
    :raises TypeError: ``max_buffer_size`` is not a number (``"3"``, ``None``), or is a
        ``bool``, which is almost certainly a mistake. [MEM-BUFFER-INVALID]
    """

    def __new__(  # type: ignore[misc]  # returns a plain tuple, not an instance of the class
        cls, max_buffer_size: float = 0, item_type: object = None
    ) -> tuple[MemoryObjectSendStream[T], MemoryObjectReceiveStream[T]]:
        size = _validated_buffer_size(max_buffer_size)
        if item_type is not None:
            warnings.warn(
                "create_memory_object_stream(item_type=...) is deprecated and does nothing; "
                "subscript the function instead: create_memory_object_stream[ItemType](...)",
                DeprecationWarning,
                stacklevel=2,
            )
        state: _StreamState[T] = _StreamState(size)
        return MemoryObjectSendStream(state), MemoryObjectReceiveStream(state)
