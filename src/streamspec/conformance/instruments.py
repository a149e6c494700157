"""Instruments: what the checks drive a stream with, and record what it did by.

* :class:`ProbeStream`, a stand-in stream that records what a wrapper does to it;
* :func:`send_all`, :func:`receive_chunks` and :func:`transfer`, which move data through a
  subject the way every byte rule does (empty chunks left out, until the end the channel
  declares);
* :func:`first_arrival`, which sends to a receive() already waiting on the peer and tells what
  it got while the sender stayed open (BYTE-SEND-DELIVERS, and any check that needs data ready);
* :class:`Drain`, a receiver that takes everything until the end, in a task of its own, and
  records what arrived and how it ended.

The subjects themselves are in :mod:`.subjects`; how an outcome becomes a verdict is in
:mod:`.observe`.
"""

from __future__ import annotations

import math
from collections.abc import Awaitable, Callable, Iterable, Mapping
from contextlib import suppress
from dataclasses import dataclass, field
from functools import partial
from typing import Any, TypeVar

import anyio
import anyio.abc
import anyio.lowlevel

from .observe import PATIENCE, describe, until_really_blocked

__all__ = [
    "Arrival",
    "Drain",
    "ProbeStream",
    "first_arrival",
    "receive_chunks",
    "send_all",
    "transfer",
]

T = TypeVar("T")


@dataclass(eq=False)
class ProbeStream(anyio.abc.ByteStream):
    """A stand-in stream that records what is done to it, for checking wrappers (stapled and
    text streams) in isolation: it hands out ``data``, keeps what is sent, carries the given
    typed attributes and can be told to fail when closed."""

    data: bytes = b""
    attributes: Mapping[Any, Any] = field(default_factory=dict)
    close_error: Exception | None = None
    sent: list[object] = field(default_factory=list)
    closed: bool = False
    eof_sent: bool = False

    async def receive(self, max_bytes: int = 65536) -> bytes:
        """Hand out the next at most ``max_bytes`` of :attr:`data`."""
        await anyio.lowlevel.checkpoint()
        if self.closed:
            raise anyio.ClosedResourceError
        if not self.data:
            raise anyio.EndOfStream
        chunk, self.data = self.data[:max_bytes], self.data[max_bytes:]
        return chunk

    async def send(self, item: object) -> None:
        """Record ``item`` in :attr:`sent`, after a checkpoint."""
        await anyio.lowlevel.checkpoint()
        self.send_nowait(item)

    def send_nowait(self, item: object) -> None:
        """Record ``item`` in :attr:`sent`."""
        if self.closed:
            raise anyio.ClosedResourceError
        self.sent.append(item)

    async def send_eof(self) -> None:
        """Record that the end of data was sent."""
        self.eof_sent = True

    async def aclose(self) -> None:
        """Close; the first close raises :attr:`close_error` if one was given."""
        already, self.closed = self.closed, True
        if self.close_error is not None and not already:
            raise self.close_error

    @property
    def extra_attributes(self) -> Mapping[Any, Callable[[], Any]]:
        return {key: _constant(value) for key, value in self.attributes.items()}


def _constant(value: T) -> Callable[[], T]:
    """A function returning ``value`` (one per attribute, so each keeps its own value)."""
    return lambda: value


# -- moving data through a stream ------------------------------------------------------------

#: Receives a drain makes before it decides the stream never ends (a stream that keeps
#: returning empty chunks, say).
_MAX_RECEIVES = 10_000


async def send_all(
    sender: Any, chunks: Iterable[bytes], finish: Callable[[], Awaitable[None]]
) -> None:
    """Send the non-empty ``chunks`` in order, then ``finish``.

    Empty chunks are not sent: a memory object stream, which some subjects are built from,
    would carry ``b""`` as an item, and the rules are about byte streams.
    """
    for chunk in chunks:
        if chunk:
            await sender.send(chunk)
    await finish()


async def receive_chunks(
    receiver: Any,
    sizes: Iterable[int] | None = None,
    ends: tuple[type[Exception], ...] = (anyio.EndOfStream,),
    length: int | None = None,
) -> list[bytes]:
    """Receive until the end (one of ``ends``), asking for ``sizes`` in turn (cycled;
    ``None``: the default), and return every chunk received, empty ones included.

    With a ``length`` (for data that cannot be ended, see ``ByteChannel.never_ends``), stop
    instead once that many bytes have arrived, or once no more arrive for PATIENCE: the
    caller then sees what is missing.
    """
    chunks: list[bytes] = []
    cycle = list(sizes or ())
    received = 0
    for index in range(_MAX_RECEIVES):
        if length is not None and received >= length:
            return chunks
        try:
            with anyio.move_on_after(math.inf if length is None else PATIENCE) as waiting:
                if cycle:
                    chunk = await receiver.receive(cycle[index % len(cycle)])
                else:
                    chunk = await receiver.receive()
        except ends:
            return chunks
        if waiting.cancelled_caught:  # nothing more arrived for PATIENCE
            return chunks
        chunks.append(chunk)
        received += len(chunk)
    raise AssertionError(f"no end of stream after {_MAX_RECEIVES} receives: {chunks[-3:]!r}...")


async def transfer(
    sender: Any,
    receiver: Any,
    finish: Callable[[], Awaitable[None]],
    chunks: Iterable[bytes],
    sizes: Iterable[int] | None = None,
    ends: tuple[type[Exception], ...] = (anyio.EndOfStream,),
    *,
    counted: bool = False,
) -> list[bytes]:
    """Send ``chunks`` then finish, concurrently receive until the end (one of ``ends``);
    return what arrived. ``counted``: the data cannot be ended, so receive only as many bytes
    as were sent (see :func:`receive_chunks`)."""
    sent = list(chunks)
    length = sum(len(chunk) for chunk in sent) if counted else None
    received: list[bytes] = []
    async with anyio.create_task_group() as tg:
        tg.start_soon(send_all, sender, sent, finish)
        received = await receive_chunks(receiver, sizes, ends, length)
    return received


@dataclass(frozen=True)
class Arrival:
    """What :func:`first_arrival` saw: the first bytes a waiting receive() got, or why none."""

    #: What arrived within PATIENCE while the sender stayed open (bytes; text from a text
    #: receiver), or None.
    data: bytes | str | None = None
    #: What the waiting receive() or the send() raised instead, described.
    error: str | None = None
    #: When nothing arrived in time: what the receive() got once the sender was closed.
    released: bytes | str | None = None


async def first_arrival(
    channel: Any,
    data: bytes | str,
    tasks: anyio.abc.TaskGroup,
    receive: Callable[[], Awaitable[bytes | str]] | None = None,
) -> Arrival:
    """Send ``data`` on ``channel.sender`` to a ``receive`` (``receive(1)`` of
    ``channel.receiver`` by default) already waiting, both in ``tasks``, and return what that
    receive got within PATIENCE while the sender stayed open (the subject of
    BYTE-SEND-DELIVERS; a check that needs data ready uses it to know that it is).

    When nothing arrives, the sender is closed (bounded, and shielded from the cancellation
    of the check): a stream that holds its data back until ``aclose()`` then lets it go, and
    with it a receive() that cannot be cancelled (one in a worker thread). The caller then
    cancels ``tasks`` and uses the channel no further.
    """
    got: list[Arrival] = []
    arrived = anyio.Event()
    receiving = receive or partial(channel.receiver.receive, 1)

    async def wait_for_data() -> None:
        try:
            got.append(Arrival(data=await receiving()))
        except Exception as exc:
            got.append(Arrival(error=f"the waiting receive raised {describe(exc)}"))
        arrived.set()

    async def send() -> None:
        # In a task of its own: a lock-step stream's send() returns once its bytes are taken.
        try:
            await channel.sender.send(data)
        except Exception as exc:
            got.append(Arrival(error=f"send({data!r}) raised {describe(exc)}"))
            arrived.set()

    tasks.start_soon(wait_for_data)
    await until_really_blocked()
    tasks.start_soon(send)
    with anyio.move_on_after(PATIENCE):
        await arrived.wait()
    if got:
        return got[0]
    with anyio.CancelScope(shield=True), anyio.move_on_after(PATIENCE):
        with suppress(Exception):  # how it closes is the resource rules' business
            await channel.sender.aclose()
        await arrived.wait()
    late = got[0].data if got else None
    return Arrival(released=late)


class Drain:
    """Receives from ``receiver`` until it ends, once :meth:`run` is started in a task: what
    arrived (:attr:`received`), and how it ended (:attr:`ending`)."""

    def __init__(self, receiver: Any) -> None:
        self._receiver = receiver
        self.received: list[Any] = []
        #: ``"EndOfStream"``, or the description of what receive() raised instead; ``None``
        #: while it has not ended.
        self.ending: str | None = None
        self._ended = anyio.Event()

    async def run(self) -> None:
        try:
            while True:
                self.received.append(await self._receiver.receive())
        except anyio.EndOfStream:
            self.ending = "EndOfStream"
        except Exception as exc:
            self.ending = describe(exc)
        self._ended.set()

    async def wait(self, seconds: float) -> None:
        """Wait at most ``seconds`` for the end."""
        with anyio.move_on_after(seconds):
            await self._ended.wait()
