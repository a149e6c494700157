"""An in-memory, socket-like byte pipe: the transport under the TLS workloads.

:func:`pipe_pair` returns two connected :class:`PipeEnd` byte streams, as a socket pair
would be. Each direction has a buffer of :data:`PIPE_BUFFER` bytes, like a socket: a
``send()`` returns at once while the pipe holds fewer bytes than that, and waits for the
reader to make room otherwise (so a direction holds at most the bound plus one ``send()``'s
bytes). A ``receive()`` returns buffered bytes at once when there are any, and waits only when
there are none.

It is a benchmark fixture, not a stream to build on: neither operation is a checkpoint when
it need not wait (a stream from :mod:`streamspec` or AnyIO must be one on every call). The
TLS floor has no transport at all, so a transport that yielded to the event loop on every
call would add the same few microseconds to every variant and hide the TLS layer's own cost,
which is what the TLS workloads measure. A TLS stream that checkpoints on its own pays for
it here, as it would on any transport.
"""

from __future__ import annotations

import asyncio
import functools
from collections import deque
from collections.abc import Awaitable, Callable
from typing import Any, Protocol

import anyio
import sniffio
from anyio.abc import ByteStream

__all__ = ["PIPE_BUFFER", "PipeEnd", "pipe_pair"]

#: Bytes one direction holds before ``send()`` waits. A socket buffer's order of magnitude
#: (Linux starts a TCP send buffer at 16 KiB and grows it to 4 MiB; a Unix socket pair holds
#: about 208 KiB): the bulk transfer's 64 KiB sends (each a little over 64 KiB of ciphertext)
#: go four at a time, so sender and receiver take turns every few sends, as they do over a
#: socket, rather than on every one. Counted in bytes, not items, so that what waits in the
#: pipe stays bounded however large the items are.
PIPE_BUFFER = 256 * 1024


class _Waiter(Protocol):
    """One task's wait for the other end: made by the task about to wait, which then awaits
    what :meth:`wait` returns at once; :meth:`wake` ends the wait, and does nothing once it
    ended (woken or cancelled)."""

    def wait(self) -> Awaitable[Any]: ...

    def wake(self) -> None: ...


class _FutureWaiter:
    """A wait on asyncio (and uvloop): an asyncio future, awaited directly. Half the cost of
    an :class:`anyio.Event` per wait, which a transport that waits every few sends feels."""

    __slots__ = ("_future",)

    def __init__(self) -> None:
        self._future: asyncio.Future[None] = asyncio.get_running_loop().create_future()

    def wait(self) -> Awaitable[None]:
        return self._future  # a cancelled task cancels the future, so wake() skips it

    def wake(self) -> None:
        if not self._future.done():
            self._future.set_result(None)


class _TrioWaiter:
    """A wait on Trio: the task parks until rescheduled, Trio's cheapest wait."""

    __slots__ = ("_lowlevel", "_task")

    def __init__(self, lowlevel: Any) -> None:
        #: ``trio.lowlevel``, passed in so that asyncio runs never import Trio.
        self._lowlevel = lowlevel
        self._task: Any = lowlevel.current_task()

    def wait(self) -> Awaitable[Any]:
        return self._lowlevel.wait_task_rescheduled(self._abort)  # type: ignore[no-any-return]

    def _abort(self, _: object) -> Any:
        self._task = None  # cancelled: a later wake() must not reschedule the task
        return self._lowlevel.Abort.SUCCEEDED

    def wake(self) -> None:
        if self._task is not None:
            self._lowlevel.reschedule(self._task)
            self._task = None


class _Direction:
    """The bytes in flight from one end to the other, and who waits for them."""

    __slots__ = (
        "arrived",
        "chunks",
        "ended",
        "new_waiter",
        "offset",
        "reader_closed",
        "room",
        "size",
    )

    def __init__(self, new_waiter: Callable[[], _Waiter]) -> None:
        #: Makes a :class:`_Waiter` for the event loop the pipe was made in.
        self.new_waiter = new_waiter
        #: What was sent and not yet received, a ``send()`` per item, oldest first.
        self.chunks: deque[bytes] = deque()
        #: Where the unread part of ``chunks[0]`` begins.
        self.offset = 0
        #: Unread bytes in ``chunks``.
        self.size = 0
        #: The writing end sent EOF or was closed: once ``chunks`` is empty, that is the end.
        self.ended = False
        #: The reading end was closed: nothing sent from now on would be read.
        self.reader_closed = False
        #: A waiting reader, woken when bytes arrive or the direction ends.
        self.arrived: _Waiter | None = None
        #: A waiting writer, woken when the reader takes bytes or goes away.
        self.room: _Waiter | None = None

    def wake_reader(self) -> None:
        if self.arrived is not None:
            self.arrived.wake()
            self.arrived = None

    def wake_writer(self) -> None:
        if self.room is not None:
            self.room.wake()
            self.room = None


class PipeEnd(ByteStream):
    """One end of a :func:`pipe_pair`: it sends to the other end and receives from it.

    ``send()`` raises :exc:`~anyio.ClosedResourceError` after this end's ``aclose()`` or
    ``send_eof()``, and :exc:`~anyio.BrokenResourceError` once the other end is closed.
    ``receive()`` raises :exc:`~anyio.EndOfStream` once every byte sent before the other
    end's ``send_eof()`` or ``aclose()`` was received, and
    :exc:`~anyio.ClosedResourceError` after this end's ``aclose()``. Neither is a checkpoint
    unless it has to wait (see the module's docstring); a cancelled wait loses nothing. A
    second task that would wait in ``receive()`` (or in ``send()``) while one already does
    gets :exc:`~anyio.BusyResourceError`, as on a socket stream.
    """

    def __init__(self, incoming: _Direction, outgoing: _Direction) -> None:
        """Not public: use :func:`pipe_pair`."""
        self._incoming = incoming
        self._outgoing = outgoing
        self._sending_closed = False  # send_eof() or aclose() was called
        self._closed = False

    async def receive(self, max_bytes: int = 65536) -> bytes:
        """Return the oldest buffered ``send()``'s bytes, or their first ``max_bytes``.

        One ``send()`` at a time, as a socket read on loopback typically returns what one
        write put in: joining several would copy them, and a reader that wants more asks
        again at the cost of a call.
        """
        if max_bytes < 1:
            raise ValueError(f"max_bytes must be at least 1, not {max_bytes}")
        incoming = self._incoming
        while not incoming.size:
            if self._closed:
                raise anyio.ClosedResourceError
            if incoming.ended:
                raise anyio.EndOfStream
            if incoming.arrived is not None:
                raise anyio.BusyResourceError("receiving from")
            waiter = incoming.arrived = incoming.new_waiter()
            try:
                await waiter.wait()
            finally:
                if incoming.arrived is waiter:  # cancelled, not woken
                    incoming.arrived = None
        if self._closed:
            raise anyio.ClosedResourceError
        chunk, offset = incoming.chunks[0], incoming.offset
        end = offset + max_bytes
        if end >= len(chunk):
            incoming.chunks.popleft()
            incoming.offset = 0
            data = chunk[offset:] if offset else chunk
        else:
            incoming.offset = end
            data = chunk[offset:end]
        incoming.size -= len(data)
        if incoming.room is not None:
            incoming.wake_writer()
        return data

    async def send(self, item: bytes) -> None:
        """Buffer ``item`` for the other end; first, if the pipe already holds
        :data:`PIPE_BUFFER` bytes or more, wait for the reader to make room."""
        data = bytes(item)
        outgoing = self._outgoing
        while True:
            if self._sending_closed:
                raise anyio.ClosedResourceError
            if outgoing.reader_closed:
                raise anyio.BrokenResourceError("the other end of the pipe was closed")
            if outgoing.size < PIPE_BUFFER:
                break
            if outgoing.room is not None:
                raise anyio.BusyResourceError("sending to")
            waiter = outgoing.room = outgoing.new_waiter()
            try:
                await waiter.wait()
            finally:
                if outgoing.room is waiter:  # cancelled, not woken
                    outgoing.room = None
        if data:
            outgoing.chunks.append(data)
            outgoing.size += len(data)
            if outgoing.arrived is not None:
                outgoing.wake_reader()

    async def send_eof(self) -> None:
        """End the sending direction: the other end's ``receive()`` raises
        :exc:`~anyio.EndOfStream` once it has every byte sent before."""
        self._sending_closed = True
        self._outgoing.ended = True
        self._outgoing.wake_reader()

    async def aclose(self) -> None:
        """End both directions: the other end receives what was sent, then the end of the
        stream; its sends fail. This end's waiting calls raise
        :exc:`~anyio.ClosedResourceError`."""
        self._closed = self._sending_closed = True
        self._outgoing.ended = True
        self._incoming.reader_closed = True
        for direction in (self._incoming, self._outgoing):
            direction.wake_reader()
            direction.wake_writer()


def pipe_pair() -> tuple[PipeEnd, PipeEnd]:
    """Two connected pipe ends, like ``socket.socketpair()``: what one sends, the other
    receives. Call it in the event loop (asyncio, uvloop or Trio) that will use them."""
    new_waiter: Callable[[], _Waiter] = _FutureWaiter
    if sniffio.current_async_library() == "trio":
        import trio

        new_waiter = functools.partial(_TrioWaiter, trio.lowlevel)
    one_way, other_way = _Direction(new_waiter), _Direction(new_waiter)
    return PipeEnd(other_way, one_way), PipeEnd(one_way, other_way)
