"""The built-in ``trio`` target: Trio's own streams and channels, through the Trio adapters.

Trio has none of AnyIO's names, so the target gives explicit factories:

* ``byte_stream_pair``: a loopback TCP connection of ``trio.SocketStream`` objects;
* ``one_way_byte_stream``: ``trio.testing.memory_stream_one_way_pair()``;
* ``object_stream_pair``: ``trio.open_memory_channel(1)`` (one slot, as the suite's other
  object subjects);
* ``listener``: a ``trio.SocketListener`` on a loopback port;

and the AnyIO-style TLS names:

* ``tls_stream``: :class:`~streamspec.adapters.trio.TrioTLSStream`, ``trio.SSLStream`` in
  AnyIO's shape;
* ``tls_listener``: :class:`~streamspec.adapters.trio.TrioTLSListener`, which does each
  handshake with ``trio.SSLStream`` before the handler runs.

Trio objects need a Trio event loop. The suite runs every check on every backend it is
given, so on any other backend these factories raise
:exc:`~streamspec.conformance.registry.NotProvided`, and the rules come out as not provided
there rather than as failures. Rules that Trio's streams break, seen through the adapters,
are listed in :data:`TRIO_DIVERGENCES` with the reason.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager, suppress
from typing import Any

import trio
import trio.testing

from ..adapters.trio import (
    TrioTLSListener,
    TrioTLSStream,
    from_trio_channel,
    from_trio_listener,
    from_trio_stream,
)
from ..protocols import (
    ByteReceiveStream,
    ByteSendStream,
    ByteStream,
    Listener,
    ObjectReceiveStream,
    ObjectSendStream,
)
from .registry import NotProvided
from .target import Divergence, Target

__all__ = ["TRIO", "TRIO_DIVERGENCES"]


def _require_trio() -> None:
    """Raise NotProvided unless running under Trio: Trio objects need its event loop."""
    try:
        trio.lowlevel.current_trio_token()
    except RuntimeError:
        raise NotProvided("Trio streams outside the trio backend") from None


async def _close_quietly(*resources: trio.abc.AsyncResource | Any) -> None:
    for resource in resources:
        with suppress(Exception):
            await resource.aclose()


@asynccontextmanager
async def trio_socket_stream_pair() -> AsyncIterator[tuple[ByteStream, ByteStream]]:
    """Two ends of a loopback TCP connection made by Trio, as byte streams."""
    _require_trio()
    listeners = await trio.open_tcp_listeners(0, host="127.0.0.1")
    try:
        client = await trio.testing.open_stream_to_socket_listener(listeners[0])
        server = await listeners[0].accept()
    finally:
        await _close_quietly(*listeners)
    left, right = from_trio_stream(client), from_trio_stream(server)
    try:
        yield left, right
    finally:
        await _close_quietly(left, right)


@asynccontextmanager
async def trio_memory_one_way_stream() -> AsyncIterator[tuple[ByteSendStream, ByteReceiveStream]]:
    """Trio's in-memory one-way stream, as a byte send stream and a byte receive stream."""
    _require_trio()
    send, receive = trio.testing.memory_stream_one_way_pair()
    sender, receiver = from_trio_stream(send), from_trio_stream(receive)
    try:
        yield sender, receiver
    finally:
        await _close_quietly(sender, receiver)


@asynccontextmanager
async def trio_memory_channel() -> AsyncIterator[
    tuple[ObjectSendStream[Any], ObjectReceiveStream[Any]]
]:
    """A Trio memory channel with one slot, as an object send and receive stream."""
    _require_trio()
    send, receive = trio.open_memory_channel[Any](1)
    sender, receiver = from_trio_channel(send), from_trio_channel(receive)
    try:
        yield sender, receiver
    finally:
        await _close_quietly(sender, receiver)


@asynccontextmanager
async def trio_tcp_listener() -> AsyncIterator[
    tuple[Listener[ByteStream], Callable[[], Awaitable[ByteStream]]]
]:
    """A Trio TCP listener on a loopback port, and a way to connect to it."""
    _require_trio()
    (socket_listener,) = await trio.open_tcp_listeners(0, host="127.0.0.1")
    listener = from_trio_listener(socket_listener)

    async def connect() -> ByteStream:
        return from_trio_stream(await trio.testing.open_stream_to_socket_listener(socket_listener))

    try:
        yield listener, connect
    finally:
        await _close_quietly(listener)


class _TrioTLSStreamOnTrio(TrioTLSStream):
    """:class:`~streamspec.adapters.trio.TrioTLSStream`, not provided outside Trio."""

    @classmethod
    async def wrap(cls, transport_stream: ByteStream, **options: Any) -> _TrioTLSStreamOnTrio:
        _require_trio()
        return await super().wrap(transport_stream, **options)


def trio_tls_listener(
    listener: Listener[ByteStream], ssl_context: Any, **options: Any
) -> TrioTLSListener:
    """:class:`~streamspec.adapters.trio.TrioTLSListener`, not provided outside Trio."""
    _require_trio()
    return TrioTLSListener(listener, ssl_context, **options)


#: Rules that Trio's streams break as seen through the adapters, found by running
#: ``streamspec check trio --backend trio``: none. (Trio's lenient TLS reports a ragged end as
#: the end once and then as broken; the adapter keeps reporting the end, as BYTE-EOF asks.)
#: How Trio's TLS differs from AnyIO's where no rule looks is in the adapters guide.
TRIO_DIVERGENCES: tuple[Divergence, ...] = ()

TRIO = Target(
    name="trio",
    byte_stream_pair=trio_socket_stream_pair,
    one_way_byte_stream=trio_memory_one_way_stream,
    object_stream_pair=trio_memory_channel,
    listener=trio_tcp_listener,
    tls_stream=_TrioTLSStreamOnTrio,
    tls_listener=trio_tls_listener,
    known_divergences=TRIO_DIVERGENCES,
)
