"""An unreliable object stream of bytes that cuts long items short: breaks [UNREL-WHOLE].

Like a datagram socket read into a buffer too small for what was sent, receive() returns only
the first 8 bytes of a longer item: an item arrives that was never sent.
"""

from __future__ import annotations

import math
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import anyio
from anyio.abc import ObjectReceiveStream, ObjectSendStream
from anyio.streams.memory import MemoryObjectReceiveStream

from streamspec.conformance.target import Target

__all__ = ["BREAKS", "target"]

_BUFFER = 8


class TruncatingReceiveStream(ObjectReceiveStream[bytes]):
    def __init__(self, inner: MemoryObjectReceiveStream[bytes]) -> None:
        self._inner = inner

    async def receive(self) -> bytes:
        return (await self._inner.receive())[:_BUFFER]  # the bug: the rest is dropped

    async def aclose(self) -> None:
        await self._inner.aclose()


@asynccontextmanager
async def _pair() -> AsyncIterator[tuple[ObjectSendStream[bytes], ObjectReceiveStream[bytes]]]:
    send, receive = anyio.create_memory_object_stream[bytes](math.inf)
    async with send, receive:
        yield send, TruncatingReceiveStream(receive)


target = Target(
    name="broken_unreliable_truncates", unreliable_object_stream=_pair, object_items="bytes"
)
BREAKS: tuple[str, ...] = ("UNREL-WHOLE",)
