"""Object streams: streams of Python objects ("channels" in Trio's words).

Reliable and unreliable object streams have the same shape; what separates them is the
guarantee of order and delivery, which no type can express. The reliable roles are therefore
distinct protocols only so that code can *say* which guarantee it relies on; the conformance
suite is what checks that an implementation keeps it (decision 3 in docs/design.rst).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Protocol, runtime_checkable

from ._typevars import T, T_co, T_contra
from .resources import AsyncResource, TypedAttributeProvider

__all__ = [
    "ObjectReceiveStream",
    "ObjectSendStream",
    "ObjectStream",
    "UnreliableObjectReceiveStream",
    "UnreliableObjectSendStream",
    "UnreliableObjectStream",
]


@runtime_checkable
class UnreliableObjectReceiveStream(AsyncResource, TypedAttributeProvider, Protocol[T_co]):
    """Receives objects, with no promise of order or completeness (a UDP socket, say).

    What it does promise:

    * Every item received is one that was sent, whole and unchanged: never cut, merged,
      corrupted or invented. Items may be lost or overtaken. [UNREL-WHOLE]

    ``async for item in stream`` calls :meth:`receive` until it raises
    :exc:`~anyio.EndOfStream`, which ends the loop quietly; any other exception propagates.
    """

    def __aiter__(self) -> AsyncIterator[T_co]:
        """Return an iterator over the received items (usually the stream itself)."""
        ...

    async def __anext__(self) -> T_co:
        """Receive the next item; raise :exc:`StopAsyncIteration` at the end of the stream."""
        ...

    async def receive(self) -> T_co:
        """Wait for the next item and return it.

        :raises ~anyio.EndOfStream: the sending side has finished (closed, or sent EOF) and
            everything it sent has been received; raised again on every later call.
        :raises ~anyio.ClosedResourceError: this stream was closed locally, before the call or
            while the call was waiting.
        :raises ~anyio.BrokenResourceError: the stream became unusable for a reason outside
            this process's control (a transport failure, or for a memory object stream no
            longer anything to receive from).

        This is a checkpoint: inside a cancelled scope it raises the cancellation even when an
        item is ready, and it then takes no item. [ASYNC-CHECKPOINT] A call that is waiting
        raises the cancellation as soon as its scope is cancelled, and takes no item.
        [UNREL-RECEIVE-CANCELLED] After a local close it raises ClosedResourceError.
        [UNREL-CLOSED]
        """
        ...


@runtime_checkable
class UnreliableObjectSendStream(AsyncResource, TypedAttributeProvider, Protocol[T_contra]):
    """Sends objects, with no promise that they arrive, or arrive in order."""

    async def send(self, item: T_contra, /) -> None:
        """Send ``item``, waiting while the stream applies back-pressure.

        :raises ~anyio.ClosedResourceError: this stream was closed locally, before the call or
            while the call was waiting; the item was not sent.
        :raises ~anyio.BrokenResourceError: the receiving side is gone (closed, or the transport
            failed); the item was not delivered.

        This is a checkpoint: inside a cancelled scope it raises the cancellation and sends
        nothing. [ASYNC-CHECKPOINT]
        """
        ...


@runtime_checkable
class UnreliableObjectStream(
    UnreliableObjectReceiveStream[T], UnreliableObjectSendStream[T], Protocol[T]
):
    """Sends and receives objects, with no promise of order or completeness."""


@runtime_checkable
class ObjectReceiveStream(UnreliableObjectReceiveStream[T_co], Protocol[T_co]):
    """Receives objects in the order they were sent, missing none.

    Guarantees, on top of :class:`UnreliableObjectReceiveStream`:

    * Items from one sender arrive in the order that sender sent them. [OBJ-FIFO]
    * Every item whose ``send()`` returned is received exactly once, by one receiver, even
      with many senders and receivers at work. [OBJ-EXACTLY-ONCE]
    * In-process streams hand over the object itself, not a copy. [OBJ-IDENTITY]
    * After the sending side finishes, the remaining items come first, then
      :exc:`~anyio.EndOfStream` on this and every later call. [OBJ-EOF]
    * After a local close, ``receive()`` raises :exc:`~anyio.ClosedResourceError`.
      [OBJ-CLOSED] So does a ``receive()`` already waiting when the stream is closed: closing
      wakes it. [OBJ-CLOSE-WAKES]
    * ``async for`` yields the items in order and stops at the end. [OBJ-ITER]
    * A cancelled ``receive()`` either returns an item or takes none, so no item is lost; one
      waiting for an item raises the cancellation as soon as its scope is cancelled.
      [OBJ-RECEIVE-CANCELLED]
    """


@runtime_checkable
class ObjectSendStream(UnreliableObjectSendStream[T_contra], Protocol[T_contra]):
    """Sends objects that arrive in order, none missing.

    An item is delivered exactly once or its ``send()`` raises: a send that returned was
    accepted, and one that raised (cancellation included) was not. [OBJ-EXACTLY-ONCE]
    So a cancelled ``send()`` either returns, its item received, or raises the cancellation,
    its item never received: a sender that retries neither loses nor duplicates it.
    [OBJ-SEND-CANCELLED]
    After a local close, ``send()`` raises :exc:`~anyio.ClosedResourceError`. [OBJ-CLOSED]
    So does a ``send()`` already waiting when the stream is closed. [OBJ-CLOSE-WAKES]
    """


@runtime_checkable
class ObjectStream(ObjectReceiveStream[T], ObjectSendStream[T], Protocol[T]):
    """Sends and receives objects reliably, and can end one direction only."""

    async def send_eof(self) -> None:
        """Tell the peer that nothing more will be sent, and keep receiving.

        The peer receives every item sent before this call, then
        :exc:`~anyio.EndOfStream`; items keep flowing in the other direction. A second call
        does nothing. [OBJ-SEND-EOF] A ``send()`` after this raises
        :exc:`~anyio.ClosedResourceError` (or :exc:`~anyio.BrokenResourceError`), and its item
        is never received. [OBJ-SEND-AFTER-EOF]

        :raises ~anyio.ClosedResourceError: the stream was closed locally.
        """
        ...
