"""Subjects: the concrete streams a target yields for the checks, each opened fresh and named.

A byte-level rule holds for every byte stream an implementation offers, so each check runs
over every *subject* the target provides and names it in its failure message
(``"stapled memory pair: receive(3) returned 4 bytes"``). Subjects are built only from the
target's own factories (the suite never imports an implementation), are opened anew for every
use, and are closed afterwards however the check ends. Opening one costs a few object
constructions: nothing is built until a check opens it.

What each target field yields is one table, :data:`SUBJECT_GRAPH` (the docs render it in
"Which streams a rule runs over"): every kind of subject, what it is, the fields it is built
from, what a check gets from it and the roles whose rules run over it.

An explicit factory field given as a mapping yields one subject per entry, named by its key.
Object pairs of the target's own factories carry the items its ``object_items`` declares.

Every byte pair is also a byte channel (its left end sends, its right end receives), finished
by the left end's ``send_eof()``. A pair whose ``send_eof()`` raises NotImplementedError, which
the spec allows (AnyIO's TLS stream always does), is finished by ``aclose()`` instead and is
left out of BYTE-SEND-EOF. A pair whose ``send_eof()`` does not deliver the end fails
BYTE-SEND-EOF, and the other rules finish it by ``aclose()`` too, instead of each waiting in
vain: :func:`half_close_problem` finds either out once per target, pair and backend. Data
ended by ``aclose()`` may end in BrokenResourceError instead of EndOfStream
(:attr:`ByteChannel.ends`), the meaning of "the peer ended" that BYTE-PEER-CLOSED gives. A
pair whose ``aclose()`` does not deliver the end either (a serial line: the wire stays up)
cannot end its data at all (:func:`end_problem`, :attr:`ByteChannel.never_ends`): the rules
about the end fail once each, and the others read its data by byte count.

The TLS pair is lenient because a standard-compatible ``aclose()`` may wait for the peer's
``close_notify`` (AnyIO's does), so a rule that closes one end while the other idles would hang
over something the spec allows; closing by ``close_notify`` is what the TLS rules check. The
resource rules run over every stream and listener above (:func:`resource_subjects`),
ASYNC-CHECKPOINT over every stream.

Check failures carry their own messages, so pytest must not rewrite this module's asserts
(PYTEST_DONT_REWRITE): the pytest plugin's report then reads like the CLI's.
"""

from __future__ import annotations

import asyncio
import math
import threading
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Mapping
from contextlib import AbstractAsyncContextManager, AsyncExitStack, asynccontextmanager, suppress
from dataclasses import dataclass
from functools import partial
from typing import Any, Generic, Protocol, TypeVar

import anyio
import anyio.lowlevel
from anyio.abc import TaskGroup
from anyio.streams.buffered import BufferedByteReceiveStream as _AnyIOBufferedReceive
from anyio.streams.stapled import StapledByteStream as _AnyIOStapledByteStream

from ..protocols import (
    AnyByteReceiveStream,
    AnyByteSendStream,
    AsyncResource,
    BufferedByteReceiver,
    ByteReceiveStream,
    ByteSendStream,
    ByteStream,
    Listener,
    ObjectReceiveStream,
    ObjectSendStream,
    TypedAttributeProvider,
)
from ._hang import CleanUp
from .observe import PATIENCE
from .strategies import item_of
from .target import (
    ByteStreamPairFactory,
    ItemKind,
    ListenerFactory,
    ObjectStreamPairFactory,
    OneWayByteStreamFactory,
    Target,
    UnreliableObjectStreamFactory,
)

__all__ = [
    "CLEANUP_TIMEOUT",
    "MEMORY_BUFFER",
    "PEER_CLOSED_ENDS",
    "SUBJECT_GRAPH",
    "TLS_PAIR",
    "BufferedChannel",
    "ByteChannel",
    "BytePair",
    "Handle",
    "ListenerSetup",
    "MemoryListener",
    "ObjectPair",
    "Subject",
    "SubjectKind",
    "TextChannel",
    "TextSink",
    "byte_channels",
    "byte_pairs",
    "buffered_channels",
    "close_quietly",
    "end_problem",
    "half_close_problem",
    "listener_subjects",
    "object_pairs",
    "one_way_channels",
    "resource_subjects",
    "text_channels",
    "text_sinks",
    "unreliable_pairs",
]

T = TypeVar("T")

#: The buffer of the memory object streams the suite builds subjects from: one item, so a
#: sender parks after each chunk and sends interleave with receives (checks never assume
#: more buffering than that).
MEMORY_BUFFER = 1
#: The name of the TLS byte pair: the target's ``tls_stream`` on both ends (client left,
#: server right) of an in-memory transport, the handshake done.
TLS_PAIR = "TLS stream over an in-memory transport"
#: Seconds a subject's clean-up may take: a broken ``aclose()`` that hangs must not hang the
#: check (the failure it causes belongs to the resource rules).
CLEANUP_TIMEOUT = 1.0


@dataclass(frozen=True)
class Subject(Generic[T]):
    """One stream (or set of streams) the target provides, under the name failures use."""

    name: str
    #: Opens a fresh instance; leaving the context closes everything it opened.
    open: Callable[[], AbstractAsyncContextManager[T]]


class _Resource(AsyncResource, TypedAttributeProvider, Protocol):
    """A closeable resource with typed attributes: every stream and listener."""


# -- the subject graph ------------------------------------------------------------------------


@dataclass(frozen=True)
class SubjectKind:
    """One kind of subject: a row of :data:`SUBJECT_GRAPH`."""

    #: The name failures use; ``<pair>``, ``<channel>`` or ``<listener>`` stands for the name
    #: of the subject it wraps. An ``explicit`` kind is named by its field, or by each key of
    #: the mapping the field holds.
    name: str
    #: What a check gets: ``byte pair``, ``byte channel``, ``buffered channel``,
    #: ``text channel``, ``text sink``, ``object pair``, ``unreliable object pair`` or
    #: ``listener`` (a kind may be several).
    shapes: tuple[str, ...]
    #: The target fields it needs, every one of them.
    fields: tuple[str, ...]
    #: What it is, in a sentence of the docs.
    what: str
    #: The roles (keys of :data:`~.catalogue.ROLES`) whose rules run over it.
    roles: tuple[str, ...]
    #: Named by the target's own factories (the field, or each key of its mapping).
    explicit: bool = False


#: Every kind of subject a target can yield. "pair" is the first of ``byte_stream_pair`` and
#: the stapled memory pair that the target provides; "channel" the first of the memory object
#: stream, ``one_way_byte_stream`` and that pair. Every byte pair is also a byte channel (its
#: left end sends, its right end receives), and the resource rules and ASYNC-CHECKPOINT run
#: over every stream and listener (see :func:`resource_subjects`).
SUBJECT_GRAPH: tuple[SubjectKind, ...] = (
    SubjectKind(
        "byte_stream_pair",
        ("byte pair", "byte channel"),
        ("byte_stream_pair",),
        "the target's own connected byte streams",
        ("byte", "resource"),
        explicit=True,
    ),
    SubjectKind(
        "one_way_byte_stream",
        ("byte channel",),
        ("one_way_byte_stream",),
        "the target's own one-way byte stream, ended by aclose()",
        ("byte", "resource"),
        explicit=True,
    ),
    SubjectKind(
        "stapled memory pair",
        ("byte pair", "byte channel"),
        ("create_memory_object_stream", "stapled_byte_stream", "buffered_byte_receive_stream"),
        f"two memory object streams (buffer {MEMORY_BUFFER}) crossed; each end staples one "
        "stream's send end to a BufferedByteReceiveStream over the other's receive end (a "
        "memory receive() takes no max_bytes, so a memory receive end is not a byte stream by "
        "itself)",
        ("byte", "resource"),
    ),
    SubjectKind(
        "buffered stream over <pair>",
        ("byte pair", "byte channel", "buffered channel"),
        ("buffered_byte_stream",),
        "BufferedByteStream over both ends of the pair",
        ("byte", "buffered", "resource"),
    ),
    SubjectKind(
        TLS_PAIR,
        ("byte pair", "byte channel"),
        ("tls_stream",),
        "tls_stream.wrap on both ends of the suite's in-memory transport, the client left and "
        "the server right, both standard_compatible=False, the handshake done (never a base "
        "for wrappers)",
        ("byte", "resource"),
    ),
    SubjectKind(
        "buffered receive stream over <channel>",
        ("buffered channel",),
        ("buffered_byte_receive_stream",),
        "BufferedByteReceiveStream over the channel's receive end",
        ("buffered", "resource"),
    ),
    SubjectKind(
        "text receive stream over <channel>",
        ("text channel",),
        ("text_receive_stream",),
        "TextReceiveStream over the channel's receive end",
        ("text", "resource"),
    ),
    SubjectKind(
        "text send stream over <channel>",
        ("text sink",),
        ("text_send_stream",),
        "TextSendStream over the channel's send end",
        ("text", "resource"),
    ),
    SubjectKind(
        "text stream over <pair>",
        ("text channel", "text sink"),
        ("text_stream",),
        "TextStream over both ends of the pair",
        ("text", "resource"),
    ),
    SubjectKind(
        "memory object stream",
        ("object pair",),
        ("create_memory_object_stream",),
        f"a memory object stream (buffer {MEMORY_BUFFER})",
        ("object", "resource"),
    ),
    SubjectKind(
        "object_stream_pair",
        ("object pair",),
        ("object_stream_pair",),
        "the target's own object stream, carrying the items its object_items declares",
        ("object", "resource"),
        explicit=True,
    ),
    SubjectKind(
        "stapled memory object pair",
        ("object pair",),
        ("stapled_object_stream", "create_memory_object_stream"),
        "StapledObjectStream over two memory object streams",
        ("object", "resource"),
    ),
    SubjectKind(
        "unreliable_object_stream",
        ("unreliable object pair",),
        ("unreliable_object_stream",),
        "the target's own unreliable object stream, carrying the items its object_items declares",
        ("unreliable", "resource"),
        explicit=True,
    ),
    SubjectKind(
        "listener",
        ("listener",),
        ("listener",),
        "the target's own listener",
        ("listener", "resource"),
        explicit=True,
    ),
    SubjectKind(
        "multi listener over <listener>",
        ("listener",),
        ("multi_listener",),
        "a MultiListener over two instances of the target's listener, or of the suite's "
        "in-memory listener",
        ("listener", "resource"),
    ),
)


# -- what subjects yield ------------------------------------------------------------------------


@dataclass(frozen=True)
class BytePair:
    """Two connected byte streams: what one sends, the other receives."""

    left: ByteStream
    right: ByteStream


@dataclass(frozen=True)
class ByteChannel:
    """A one-way byte path: ``receiver`` gets what ``sender`` sends."""

    sender: ByteSendStream
    receiver: ByteReceiveStream
    #: Ends the data: ``send_eof()`` on a pair's end that can half-close (see
    #: :func:`half_close_problem`), ``aclose()`` on a one-way one or a pair's that cannot.
    finish: Callable[[], Awaitable[None]]
    #: What the receiver may raise once the data has ended: EndOfStream after a
    #: ``send_eof()``; after an ``aclose()``, also BrokenResourceError, as BYTE-PEER-CLOSED
    #: allows for a transport that cannot tell a clean end from a cut one.
    ends: tuple[type[Exception], ...] = (anyio.EndOfStream,)
    #: Why the receiver never sees the end of the data (neither ``send_eof()`` nor
    #: ``aclose()`` of the sender delivers it, see :func:`end_problem`), or None when
    #: ``finish`` ends it. When set, ``finish`` does nothing and a rule that is not about the
    #: end reads the data by byte count instead of waiting for the end.
    never_ends: str | None = None


@dataclass(frozen=True)
class BufferedChannel:
    """A one-way byte path into a buffered receiver."""

    sender: AnyByteSendStream
    receiver: BufferedByteReceiver
    finish: Callable[[], Awaitable[None]]


@dataclass(frozen=True)
class TextChannel:
    """Raw bytes in, text out: ``receiver`` decodes what ``sender`` sends."""

    sender: AnyByteSendStream
    receiver: ObjectReceiveStream[str]
    finish: Callable[[], Awaitable[None]]


@dataclass(frozen=True)
class TextSink:
    """Text in, raw bytes out: ``receiver`` gets the bytes ``sender`` encodes."""

    sender: ObjectSendStream[str]
    receiver: AnyByteReceiveStream
    #: Ends the text stream: ``send_eof()`` on a text stream, ``aclose()`` on a send stream.
    finish: Callable[[], Awaitable[None]]


@dataclass(frozen=True)
class ObjectPair:
    """A one-way object path: ``receiver`` gets what ``sender`` sends."""

    sender: ObjectSendStream[Any]
    receiver: ObjectReceiveStream[Any]
    #: Every resource opened (both ends, or both stapled ends), for the resource rules.
    resources: tuple[_Resource, ...]
    #: What the path carries (the target's ``object_items`` for its own object streams).
    items: ItemKind = "any"

    def item(self, value: int | str) -> object:
        """The item standing for ``value`` on this path (see :func:`.strategies.item_of`)."""
        return item_of(self.items, value)


@dataclass(frozen=True)
class ListenerSetup:
    """A listener and a coroutine function that connects a new client to it."""

    listener: Listener[ByteStream]
    connect: Callable[[], Awaitable[ByteStream]]


@dataclass(frozen=True)
class Handle:
    """One resource a subject opened, with an operation that must raise ClosedResourceError
    once the resource is closed (and must not, while it is open, raise it)."""

    label: str
    resource: _Resource
    use_after_close: Callable[[], Awaitable[object]]


# -- clean-up -----------------------------------------------------------------------------------


async def close_quietly(*resources: AsyncResource) -> None:
    """Close every resource, shielded from cancellation and bounded by CLEANUP_TIMEOUT.

    Errors are swallowed: clean-up must not mask a check's own verdict, and a resource that
    fails to close is the business of the resource rules, which call ``aclose()`` directly.
    """
    with anyio.move_on_after(CLEANUP_TIMEOUT, shield=True):
        for resource in resources:
            with suppress(Exception):
                await resource.aclose()


# -- byte streams ------------------------------------------------------------------------------


@asynccontextmanager
async def _memory_channel(target: Target) -> AsyncIterator[tuple[Any, Any]]:
    assert target.create_memory_object_stream is not None
    send, receive = target.create_memory_object_stream(MEMORY_BUFFER)
    try:
        yield send, receive
    finally:
        await close_quietly(send, receive)


@asynccontextmanager
async def _stapled_memory_pair(target: Target) -> AsyncIterator[BytePair]:
    assert target.stapled_byte_stream is not None
    assert target.buffered_byte_receive_stream is not None
    async with (
        _memory_channel(target) as (to_right, from_left),
        _memory_channel(target) as (to_left, from_right),
    ):
        left = target.stapled_byte_stream(to_right, target.buffered_byte_receive_stream(from_right))
        right = target.stapled_byte_stream(to_left, target.buffered_byte_receive_stream(from_left))
        try:
            yield BytePair(left, right)
        finally:
            await close_quietly(left, right)


@asynccontextmanager
async def _explicit_pair(factory: ByteStreamPairFactory) -> AsyncIterator[BytePair]:
    async with CleanUp(factory()) as (left, right):
        yield BytePair(left, right)


@asynccontextmanager
async def _tls_pair(target: Target) -> AsyncIterator[BytePair]:
    # Imported here, not at the top: the TLS pair needs trustme (the ``check`` extra), and
    # importing this module must not (the runner reports a missing extra by itself).
    from ._tls_pair import connection

    # Both ends lenient (standard_compatible=False): aclose() is then a local act, as the byte
    # rules expect of every stream. A standard-compatible aclose() may wait for the peer's
    # close_notify (AnyIO's does), and a rule that closes one end while the other idles would
    # then hang over what the spec allows. Closing by close_notify is the TLS rules' business.
    async with connection(
        target, client_compatible=False, server_compatible=False, name=TLS_PAIR
    ) as tls:
        yield BytePair(tls.client, tls.server)


def _base_pairs(target: Target) -> list[Subject[BytePair]]:
    """The byte pairs not built from another pair, the TLS pair excepted (wrappers are put
    over the first of these; see :func:`byte_pairs`)."""
    pairs: list[Subject[BytePair]] = []
    for name, factory in target.factories("byte_stream_pair"):
        pairs.append(Subject(name, partial(_explicit_pair, factory)))
    if (
        target.create_memory_object_stream is not None
        and target.stapled_byte_stream is not None
        and target.buffered_byte_receive_stream is not None
    ):
        pairs.append(Subject("stapled memory pair", partial(_stapled_memory_pair, target)))
    return pairs


@asynccontextmanager
async def _buffered_ends(target: Target, base: Subject[BytePair]) -> AsyncIterator[tuple[Any, Any]]:
    assert target.buffered_byte_stream is not None
    async with base.open() as pair:
        left = target.buffered_byte_stream(pair.left)
        right = target.buffered_byte_stream(pair.right)
        try:
            yield left, right
        finally:
            await close_quietly(left, right)


@asynccontextmanager
async def _buffered_pair(target: Target, base: Subject[BytePair]) -> AsyncIterator[BytePair]:
    async with _buffered_ends(target, base) as (left, right):
        yield BytePair(left, right)


def byte_pairs(target: Target) -> list[Subject[BytePair]]:
    """Every connected byte-stream pair the target provides (see the module's table)."""
    pairs = _base_pairs(target)
    if pairs and target.buffered_byte_stream is not None:
        base = pairs[0]
        pairs.append(
            Subject(f"buffered stream over {base.name}", partial(_buffered_pair, target, base))
        )
    if target.tls_stream is not None:
        pairs.append(Subject(TLS_PAIR, partial(_tls_pair, target)))
    return pairs


async def _end_sending(stream: Any, closing: TaskGroup, half_closes: bool) -> None:
    """End what ``stream`` sends: ``send_eof()`` where the pair it belongs to can half-close
    (``half_closes``), else ``aclose()``.

    The ``aclose()`` runs in ``closing``, and this returns once it has started: a TLS stream's
    ``aclose()`` may wait for the peer's ``close_notify``, which the receiving end of a
    channel never sends before the subject is closed.
    """
    if half_closes:
        try:
            await stream.send_eof()
            return
        except NotImplementedError:
            pass
    closing.start_soon(_close_reporting_nothing, stream)


@dataclass(frozen=True)
class _Ending:
    """How the data a byte pair's left end sends can be ended, found by :func:`_probe_ending`."""

    #: Why ``send_eof()`` does not end it (see :func:`half_close_problem`), or None.
    half_close: str | None
    #: Why ``aclose()`` does not end it either (see :func:`end_problem`), or None.
    never: str | None


#: (id of the target, byte pair name, event loop library) -> the target (so that a reused id
#: is not mistaken for it) and how the pair's data ends; found once (see _ending()).
_ENDINGS: dict[tuple[int, str, str], tuple[Target, _Ending]] = {}
_ENDINGS_LOCK = threading.Lock()


def _library() -> str:
    """The event loop library running the calling task: ``asyncio`` or ``trio``."""
    try:
        asyncio.current_task()
    except RuntimeError:  # no asyncio loop in this thread
        return "trio"
    return "asyncio"


async def _ending(target: Target, pair: Subject[BytePair]) -> _Ending:
    key = (id(target), pair.name, _library())
    with _ENDINGS_LOCK:
        known = _ENDINGS.get(key)
    if known is not None and known[0] is target:
        return known[1]
    ending = await _probe_ending(pair)
    with _ENDINGS_LOCK:
        _ENDINGS[key] = (target, ending)
    return ending


async def half_close_problem(target: Target, pair: Subject[BytePair]) -> str | None:
    """Why ``send_eof()`` on the left end of ``pair`` does not end the data that the right
    end receives, or ``None`` when it does.

    A pair may be unable to half-close (its ``send_eof()`` raises NotImplementedError, which
    the spec allows), or its ``send_eof()`` may not deliver the end at all (a serial port's
    that only drains its output). Every rule but BYTE-SEND-EOF then ends its data by
    ``aclose()`` instead, rather than each waiting in vain for the end: this is found out once
    per target, pair and backend, on a fresh instance, within PATIENCE for each step, and
    remembered for the rest of the run.
    """
    return (await _ending(target, pair)).half_close


async def end_problem(target: Target, pair: Subject[BytePair]) -> str | None:
    """Why the right end of ``pair`` never sees the end of what the left end sends, neither
    after its ``send_eof()`` nor after its ``aclose()``, or ``None`` when one of them ends it.

    Found with :func:`half_close_problem` (once per target, pair and backend), ``aclose()``
    tried on another fresh instance within PATIENCE only when ``send_eof()`` does not end it.
    """
    return (await _ending(target, pair)).never


async def _probe_ending(pair: Subject[BytePair]) -> _Ending:
    half_close = await _try_half_close(pair)
    if half_close is None:
        return _Ending(None, None)
    if await _close_delivers_end(pair):
        return _Ending(half_close, None)
    return _Ending(
        half_close,
        "the peer never saw the end: neither send_eof() nor aclose() of the sender made "
        f"receive() raise EndOfStream or BrokenResourceError within {PATIENCE:g} s",
    )


async def _try_half_close(pair: Subject[BytePair]) -> str | None:
    async with pair.open() as streams:
        try:
            with anyio.fail_after(PATIENCE):
                await streams.left.send_eof()
        except NotImplementedError as exc:
            return f"its send_eof() raised NotImplementedError: {str(exc) or 'no reason given'}"
        except TimeoutError:
            return f"its send_eof() blocked for {PATIENCE:g} s"
        except Exception:
            return None  # BYTE-SEND-EOF's to report; the other rules go on with send_eof()
        try:
            with anyio.fail_after(PATIENCE):
                await streams.right.receive()
        except TimeoutError:
            return f"after its send_eof(), the peer saw no end for {PATIENCE:g} s"
        except Exception:
            pass  # EndOfStream, as it should; anything else is BYTE-SEND-EOF's to report
    return None


async def _close_delivers_end(pair: Subject[BytePair]) -> bool:
    """Whether the right end of a fresh ``pair`` sees an end within PATIENCE once the left end
    is closed. Anything but silence counts as an end here: what a receive() after the peer's
    close should raise is BYTE-PEER-CLOSED's to report."""
    async with pair.open() as streams, _background() as closing:
        # In the background, as _end_sending does: a TLS aclose() may wait for the peer.
        closing.start_soon(_close_reporting_nothing, streams.left)
        with anyio.move_on_after(PATIENCE):
            with suppress(Exception):
                while await streams.right.receive():
                    pass
            return True
    return False


async def _close_reporting_nothing(stream: ByteStream) -> None:
    # How aclose() ends is the resource rules' business, not that of the rule using the channel.
    with suppress(Exception):
        await stream.aclose()


@asynccontextmanager
async def _background() -> AsyncIterator[TaskGroup]:
    """A task group for the block, whose tasks are cancelled when the block ends.

    An exception of the block comes out as itself, not inside an exception group, so a
    check's verdict reads the same whether or not its subject started a task.
    """
    failure: Exception | None = None
    async with anyio.create_task_group() as tasks:
        try:
            yield tasks
        except Exception as exc:
            failure = exc
        tasks.cancel_scope.cancel()
    if failure is not None:
        raise failure


#: What a receiver may raise once its peer has closed (see :attr:`ByteChannel.ends`).
PEER_CLOSED_ENDS: tuple[type[Exception], ...] = (anyio.EndOfStream, anyio.BrokenResourceError)


@asynccontextmanager
async def _pair_as_channel(target: Target, pair: Subject[BytePair]) -> AsyncIterator[ByteChannel]:
    ending = await _ending(target, pair)
    half_closes = ending.half_close is None
    async with pair.open() as streams, _background() as closing:
        finish: Callable[[], Awaitable[None]] = partial(
            _end_sending, streams.left, closing, half_closes
        )
        if ending.never is not None:
            finish = anyio.lowlevel.checkpoint  # nothing would end it; the data is counted
        ends = (anyio.EndOfStream,) if half_closes else PEER_CLOSED_ENDS
        yield ByteChannel(streams.left, streams.right, finish, ends, ending.never)


@asynccontextmanager
async def _explicit_channel(factory: OneWayByteStreamFactory) -> AsyncIterator[ByteChannel]:
    async with CleanUp(factory()) as (sender, receiver):
        yield ByteChannel(sender, receiver, sender.aclose, PEER_CLOSED_ENDS)


def one_way_channels(target: Target) -> list[Subject[ByteChannel]]:
    """The target's own one-way byte streams (``one_way_byte_stream``), not those over a pair."""
    return [
        Subject(name, partial(_explicit_channel, factory))
        for name, factory in target.factories("one_way_byte_stream")
    ]


def byte_channels(target: Target) -> list[Subject[ByteChannel]]:
    """Every one-way byte path: ``one_way_byte_stream`` and each byte pair, left to right."""
    channels = one_way_channels(target)
    channels += [Subject(p.name, partial(_pair_as_channel, target, p)) for p in byte_pairs(target)]
    return channels


# The raw path a wrapper (buffered receive, text) is put on: (name, opener of
# (sender, receiver, finish)). A memory object stream is preferred: each send is one chunk, so
# the chunking a check draws is exactly what the wrapper sees.
_Raw = tuple[str, Callable[[], AbstractAsyncContextManager[tuple[Any, Any, Any]]]]


@asynccontextmanager
async def _raw_memory(target: Target) -> AsyncIterator[tuple[Any, Any, Any]]:
    async with _memory_channel(target) as (send, receive):
        yield send, receive, send.aclose


@asynccontextmanager
async def _raw_from_channel(channel: Subject[ByteChannel]) -> AsyncIterator[tuple[Any, Any, Any]]:
    async with channel.open() as opened:
        yield opened.sender, opened.receiver, opened.finish


def _raw_channel(target: Target) -> _Raw | None:
    if target.create_memory_object_stream is not None:
        return "memory stream", partial(_raw_memory, target)
    channels = byte_channels(target)
    if channels:
        return channels[0].name, partial(_raw_from_channel, channels[0])
    return None


@asynccontextmanager
async def _buffered_receive(target: Target, raw: _Raw) -> AsyncIterator[BufferedChannel]:
    assert target.buffered_byte_receive_stream is not None
    async with raw[1]() as (sender, receiver, finish):
        buffered = target.buffered_byte_receive_stream(receiver)
        try:
            yield BufferedChannel(sender, buffered, finish)
        finally:
            await close_quietly(buffered)


@asynccontextmanager
async def _buffered_stream(
    target: Target, base: Subject[BytePair]
) -> AsyncIterator[BufferedChannel]:
    half_closes = await half_close_problem(target, base) is None
    async with _buffered_ends(target, base) as (left, right), _background() as closing:
        yield BufferedChannel(left, right, partial(_end_sending, left, closing, half_closes))


def buffered_channels(target: Target) -> list[Subject[BufferedChannel]]:
    """Every buffered receiver the target provides, each fed by a one-way path."""
    channels: list[Subject[BufferedChannel]] = []
    raw = _raw_channel(target)
    if target.buffered_byte_receive_stream is not None and raw is not None:
        name = f"buffered receive stream over {raw[0]}"
        channels.append(Subject(name, partial(_buffered_receive, target, raw)))
    pairs = _base_pairs(target)
    if target.buffered_byte_stream is not None and pairs:
        name = f"buffered stream over {pairs[0].name}"
        channels.append(Subject(name, partial(_buffered_stream, target, pairs[0])))
    return channels


# -- text streams -------------------------------------------------------------------------------


@asynccontextmanager
async def _text_receive(
    target: Target, raw: _Raw, encoding: str, errors: str
) -> AsyncIterator[TextChannel]:
    assert target.text_receive_stream is not None
    async with raw[1]() as (sender, receiver, finish):
        text = target.text_receive_stream(receiver, encoding=encoding, errors=errors)
        try:
            yield TextChannel(sender, text, finish)
        finally:
            await close_quietly(text)


@asynccontextmanager
async def _text_stream_pair(
    target: Target, base: Subject[BytePair], encoding: str, errors: str
) -> AsyncIterator[tuple[Any, Any, BytePair]]:
    assert target.text_stream is not None
    async with base.open() as pair:
        left = target.text_stream(pair.left, encoding=encoding, errors=errors)
        right = target.text_stream(pair.right, encoding=encoding, errors=errors)
        try:
            yield left, right, pair
        finally:
            await close_quietly(left, right)


def _text_subjects(
    target: Target,
    kind: str,
    wrapper: object,
    over_raw: Callable[[Target, _Raw, str, str], AbstractAsyncContextManager[T]],
    over_pair: Callable[[Target, Subject[BytePair], str, str], AbstractAsyncContextManager[T]],
    encoding: str,
    errors: str,
) -> list[Subject[T]]:
    """The text subjects of one direction: the target's text ``kind`` stream (``wrapper``, the
    field, or None) opened by ``over_raw`` on the raw path, and its text stream opened by
    ``over_pair`` on the first base pair."""
    subjects: list[Subject[T]] = []
    raw = _raw_channel(target)
    if wrapper is not None and raw is not None:
        opener = partial(over_raw, target, raw, encoding, errors)
        subjects.append(Subject(f"text {kind} stream over {raw[0]}", opener))
    pairs = _base_pairs(target)
    if target.text_stream is not None and pairs:
        opener = partial(over_pair, target, pairs[0], encoding, errors)
        subjects.append(Subject(f"text stream over {pairs[0].name}", opener))
    return subjects


@asynccontextmanager
async def _text_stream_in(
    target: Target, base: Subject[BytePair], encoding: str, errors: str
) -> AsyncIterator[TextChannel]:
    half_closes = await half_close_problem(target, base) is None
    async with (
        _text_stream_pair(target, base, encoding, errors) as (_, right, pair),
        _background() as closing,
    ):
        yield TextChannel(pair.left, right, partial(_end_sending, pair.left, closing, half_closes))


def text_channels(target: Target, encoding: str, errors: str) -> list[Subject[TextChannel]]:
    """Every text receiver the target provides, decoding ``encoding`` with ``errors``, each
    fed raw bytes by a one-way path."""
    return _text_subjects(
        target,
        "receive",
        target.text_receive_stream,
        _text_receive,
        _text_stream_in,
        encoding,
        errors,
    )


@asynccontextmanager
async def _text_send(
    target: Target, raw: _Raw, encoding: str, errors: str
) -> AsyncIterator[TextSink]:
    assert target.text_send_stream is not None
    async with raw[1]() as (sender, receiver, _):
        text = target.text_send_stream(sender, encoding=encoding, errors=errors)
        try:
            yield TextSink(text, receiver, text.aclose)
        finally:
            await close_quietly(text)


@asynccontextmanager
async def _text_stream_out(
    target: Target, base: Subject[BytePair], encoding: str, errors: str
) -> AsyncIterator[TextSink]:
    half_closes = await half_close_problem(target, base) is None
    async with (
        _text_stream_pair(target, base, encoding, errors) as (left, _, pair),
        _background() as closing,
    ):
        yield TextSink(left, pair.right, partial(_end_sending, left, closing, half_closes))


def text_sinks(target: Target, encoding: str, errors: str) -> list[Subject[TextSink]]:
    """Every text sender the target provides, encoding ``encoding`` with ``errors``, each with
    the raw receiving end of its path."""
    return _text_subjects(
        target, "send", target.text_send_stream, _text_send, _text_stream_out, encoding, errors
    )


# -- object streams -----------------------------------------------------------------------------


@asynccontextmanager
async def _memory_objects(target: Target) -> AsyncIterator[ObjectPair]:
    async with _memory_channel(target) as (send, receive):
        yield ObjectPair(send, receive, (send, receive))


@asynccontextmanager
async def _explicit_objects(
    factory: ObjectStreamPairFactory | UnreliableObjectStreamFactory, items: ItemKind
) -> AsyncIterator[ObjectPair]:
    async with CleanUp(factory()) as (send, receive):
        yield ObjectPair(send, receive, (send, receive), items)


@asynccontextmanager
async def _stapled_objects(target: Target) -> AsyncIterator[ObjectPair]:
    assert target.stapled_object_stream is not None
    async with (
        _memory_channel(target) as (to_right, from_left),
        _memory_channel(target) as (to_left, from_right),
    ):
        left = target.stapled_object_stream(to_right, from_right)
        right = target.stapled_object_stream(to_left, from_left)
        try:
            yield ObjectPair(left, right, (left, right))
        finally:
            await close_quietly(left, right)


def object_pairs(target: Target) -> list[Subject[ObjectPair]]:
    """Every object stream the target provides, for the resource and checkpoint rules."""
    pairs: list[Subject[ObjectPair]] = []
    if target.create_memory_object_stream is not None:
        pairs.append(Subject("memory object stream", partial(_memory_objects, target)))
        if target.stapled_object_stream is not None:
            opener = partial(_stapled_objects, target)
            pairs.append(Subject("stapled memory object pair", opener))
    for name, factory in target.factories("object_stream_pair"):
        pairs.append(Subject(name, partial(_explicit_objects, factory, target.object_items)))
    return pairs


def unreliable_pairs(target: Target) -> list[Subject[ObjectPair]]:
    """Every unreliable object stream the target provides (``unreliable_object_stream``)."""
    return [
        Subject(name, partial(_explicit_objects, factory, target.object_items))
        for name, factory in target.factories("unreliable_object_stream")
    ]


# -- listeners -----------------------------------------------------------------------------------


class _BytesSender(anyio.abc.ByteSendStream):
    """A memory object send stream of ``bytes`` seen as a byte send stream, which is what
    AnyIO's StapledByteStream asks for (a memory stream is only an *object* send stream to the
    type checker, though it carries bytes unchanged). An empty send carries nothing, as on any
    byte stream, so it is not queued as an item."""

    def __init__(self, items: anyio.abc.ObjectSendStream[bytes]) -> None:
        self._items = items

    async def send(self, item: bytes) -> None:
        if item:
            await self._items.send(item)
        else:
            await anyio.lowlevel.checkpoint()

    async def aclose(self) -> None:
        await self._items.aclose()

    @property
    def extra_attributes(self) -> Mapping[Any, Callable[[], Any]]:
        return self._items.extra_attributes


class MemoryListener(anyio.abc.Listener[ByteStream]):
    """An in-process listener the suite uses under a MultiListener when the target has no
    ``listener`` of its own. Built on AnyIO's memory streams, not the target's: only the
    MultiListener is under test."""

    def __init__(self) -> None:
        self._incoming, self._accepted = anyio.create_memory_object_stream[ByteStream](math.inf)

    async def connect(self) -> ByteStream:
        """Open a connection; the server end is queued for :meth:`serve`.

        :raises ~anyio.ClosedResourceError: the listener is closed.
        """
        client_out, server_in = anyio.create_memory_object_stream[bytes](math.inf)
        server_out, client_in = anyio.create_memory_object_stream[bytes](math.inf)
        client = _AnyIOStapledByteStream(_BytesSender(client_out), _AnyIOBufferedReceive(client_in))
        server = _AnyIOStapledByteStream(_BytesSender(server_out), _AnyIOBufferedReceive(server_in))
        try:
            self._incoming.send_nowait(server)
        except (anyio.ClosedResourceError, anyio.BrokenResourceError):
            await close_quietly(client, server)
            raise anyio.ClosedResourceError from None
        return client

    async def serve(
        self, handler: Callable[[ByteStream], Any], task_group: TaskGroup | None = None
    ) -> None:
        """Hand each connection made to :meth:`connect` to ``handler`` until closed."""
        async with AsyncExitStack() as stack:
            if task_group is None:
                task_group = await stack.enter_async_context(anyio.create_task_group())
            while True:
                try:
                    connection = await self._accepted.receive()
                except anyio.EndOfStream:
                    raise anyio.ClosedResourceError from None
                task_group.start_soon(handler, connection)

    async def aclose(self) -> None:
        """Stop accepting, close the connections never served and wake :meth:`serve`."""
        self._incoming.close()
        # Connections queued but never served are closed with the listener.
        while True:
            try:
                await close_quietly(self._accepted.receive_nowait())
            except (anyio.WouldBlock, anyio.EndOfStream, anyio.ClosedResourceError):
                break
        self._accepted.close()  # wakes a running serve() with ClosedResourceError

    @property
    def extra_attributes(self) -> Mapping[Any, Callable[[], Any]]:
        return {}


@asynccontextmanager
async def _explicit_listener(factory: ListenerFactory) -> AsyncIterator[ListenerSetup]:
    async with CleanUp(factory()) as (listener, connect):
        yield ListenerSetup(listener, connect)


@asynccontextmanager
async def _memory_listener() -> AsyncIterator[ListenerSetup]:
    listener = MemoryListener()
    try:
        yield ListenerSetup(listener, listener.connect)
    finally:
        await close_quietly(listener)


@asynccontextmanager
async def _multi_listener(
    target: Target, part: Callable[[], AbstractAsyncContextManager[ListenerSetup]]
) -> AsyncIterator[ListenerSetup]:
    assert target.multi_listener is not None
    async with part() as first, part() as second:
        multi = target.multi_listener([first.listener, second.listener])
        turn = 0

        async def connect() -> ByteStream:
            # Alternate, so every part listener gets connections.
            nonlocal turn
            turn += 1
            return await (first if turn % 2 else second).connect()

        try:
            yield ListenerSetup(multi, connect)
        finally:
            await close_quietly(multi)


def listener_subjects(target: Target) -> list[Subject[ListenerSetup]]:
    """The target's ``listener``, and its MultiListener over two part listeners."""
    subjects: list[Subject[ListenerSetup]] = []
    part: Callable[[], AbstractAsyncContextManager[ListenerSetup]] = _memory_listener
    part_name = "memory listeners"
    for index, (name, factory) in enumerate(target.factories("listener")):
        subjects.append(Subject(name, partial(_explicit_listener, factory)))
        if index == 0:  # the MultiListener is put over the first
            part = subjects[0].open
            part_name = "listeners"
    if target.multi_listener is not None:
        name = f"multi listener over two {part_name}"
        subjects.append(Subject(name, partial(_multi_listener, target, part)))
    return subjects


# -- every resource ------------------------------------------------------------------------------


def _receive_one(stream: Any) -> Callable[[], Awaitable[object]]:
    return partial(stream.receive, 1)


def _receive_item(stream: Any) -> Callable[[], Awaitable[object]]:
    return partial(stream.receive)


def _send(stream: Any, item: object) -> Callable[[], Awaitable[object]]:
    return partial(stream.send, item)


async def _serve_nothing(listener: Listener[ByteStream]) -> None:
    await listener.serve(lambda connection: None)


def _handles_of_pair(pair: BytePair) -> list[Handle]:
    return [
        Handle("left end", pair.left, _receive_one(pair.left)),
        Handle("right end", pair.right, _receive_one(pair.right)),
    ]


def _handles_of_channel(channel: ByteChannel | BufferedChannel) -> list[Handle]:
    return [
        Handle("send end", channel.sender, _send(channel.sender, b"x")),
        Handle("receive end", channel.receiver, _receive_one(channel.receiver)),
    ]


def _handles_of_text(channel: TextChannel | None, sink: TextSink | None) -> list[Handle]:
    handles = []
    if channel is not None:
        handles.append(Handle("text receiver", channel.receiver, _receive_item(channel.receiver)))
    if sink is not None:
        handles.append(Handle("text sender", sink.sender, _send(sink.sender, "x")))
    return handles


def _handles_of_objects(pair: ObjectPair) -> list[Handle]:
    handles = [Handle("send end", pair.sender, _send(pair.sender, pair.item("item")))]
    handles.append(Handle("receive end", pair.receiver, _receive_item(pair.receiver)))
    return handles


def _handles_of_listener(setup: ListenerSetup) -> list[Handle]:
    return [Handle("listener", setup.listener, partial(_serve_nothing, setup.listener))]


@asynccontextmanager
async def _mapped(
    subject: Subject[T], to_handles: Callable[[T], list[Handle]]
) -> AsyncIterator[list[Handle]]:
    async with subject.open() as opened:
        yield to_handles(opened)


def _handles(
    subjects: Iterable[Subject[T]], to_handles: Callable[[T], list[Handle]]
) -> list[Subject[list[Handle]]]:
    return [Subject(s.name, partial(_mapped, s, to_handles)) for s in subjects]


def resource_subjects(target: Target) -> list[Subject[list[Handle]]]:
    """Every stream and listener the target provides, as handles for the resource rules.

    The channels built over a byte pair are left out: their streams are the pair's own.
    """
    channels = one_way_channels(target)
    text_in = text_channels(target, "utf-8", "strict")
    text_out = text_sinks(target, "utf-8", "strict")
    return [
        *_handles(byte_pairs(target), _handles_of_pair),
        *_handles(channels, _handles_of_channel),
        *_handles(buffered_channels(target)[:1], _handles_of_channel),
        *_handles(text_in, lambda c: _handles_of_text(c, None)),
        *_handles(text_out, lambda s: _handles_of_text(None, s)),
        *_handles(object_pairs(target), _handles_of_objects),
        *_handles(unreliable_pairs(target), _handles_of_objects),
        *_handles(listener_subjects(target), _handles_of_listener),
    ]
