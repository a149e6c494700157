"""An unreliable object stream whose closed send end silently drops what it is given, as if
the datagram were lost: breaks [UNREL-CLOSED].
"""

from __future__ import annotations

import math
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import anyio
from anyio.abc import ObjectReceiveStream, ObjectSendStream
from anyio.streams.memory import MemoryObjectSendStream

from streamspec.conformance.target import Target

__all__ = ["BREAKS", "target"]


class SilentSendStream(ObjectSendStream[bytes]):
    def __init__(self, inner: MemoryObjectSendStream[bytes]) -> None:
        self._inner = inner
        self._closed = False

    async def send(self, item: bytes) -> None:
        if self._closed:
            return  # the bug: "lost", where a closed stream must say it is closed
        await self._inner.send(item)

    async def aclose(self) -> None:
        self._closed = True
        await self._inner.aclose()


@asynccontextmanager
async def _pair() -> AsyncIterator[tuple[ObjectSendStream[bytes], ObjectReceiveStream[bytes]]]:
    send, receive = anyio.create_memory_object_stream[bytes](math.inf)
    async with send, receive:
        yield SilentSendStream(send), receive


target = Target(
    name="broken_unreliable_closed", unreliable_object_stream=_pair, object_items="bytes"
)
BREAKS: tuple[str, ...] = ("UNREL-CLOSED",)
