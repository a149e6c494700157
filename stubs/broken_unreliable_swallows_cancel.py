"""An unreliable object stream whose waiting receive() swallows its cancellation and returns
an empty datagram instead: breaks [UNREL-RECEIVE-CANCELLED].

A receive() called inside an already-cancelled scope still raises (its first checkpoint does),
so only a receive() that is waiting for an item is wrong.
"""

from __future__ import annotations

import math
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import anyio
import anyio.lowlevel
from anyio.abc import ObjectReceiveStream, ObjectSendStream
from anyio.streams.memory import MemoryObjectReceiveStream

from streamspec.conformance.target import Target

__all__ = ["BREAKS", "target"]


class SwallowingReceiveStream(ObjectReceiveStream[bytes]):
    def __init__(self, inner: MemoryObjectReceiveStream[bytes]) -> None:
        self._inner = inner

    async def receive(self) -> bytes:
        await anyio.lowlevel.checkpoint_if_cancelled()
        try:
            return await self._inner.receive()
        except anyio.get_cancelled_exc_class():
            return b""  # the bug: the cancellation is swallowed

    async def aclose(self) -> None:
        await self._inner.aclose()


@asynccontextmanager
async def _pair() -> AsyncIterator[tuple[ObjectSendStream[bytes], ObjectReceiveStream[bytes]]]:
    send, receive = anyio.create_memory_object_stream[bytes](math.inf)
    async with send, receive:
        yield send, SwallowingReceiveStream(receive)


target = Target(
    name="broken_unreliable_swallows_cancel",
    unreliable_object_stream=_pair,
    object_items="bytes",
)
BREAKS: tuple[str, ...] = ("UNREL-RECEIVE-CANCELLED",)
