"""An object stream whose closed send end silently drops what it is given: breaks
[OBJ-CLOSED].
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import anyio
from anyio.abc import ObjectReceiveStream, ObjectSendStream
from anyio.streams.memory import MemoryObjectSendStream

from streamspec.conformance.target import Target

__all__ = ["BREAKS", "target"]


class SilentSendStream(ObjectSendStream[Any]):
    def __init__(self, inner: MemoryObjectSendStream[Any]) -> None:
        self._inner = inner
        self._closed = False

    async def send(self, item: Any) -> None:
        if self._closed:
            return  # the bug: no ClosedResourceError, the item just vanishes
        await self._inner.send(item)

    async def aclose(self) -> None:
        self._closed = True
        await self._inner.aclose()


@asynccontextmanager
async def _pair() -> AsyncIterator[tuple[ObjectSendStream[Any], ObjectReceiveStream[Any]]]:
    send, receive = anyio.create_memory_object_stream[Any](1)
    async with send, receive:
        yield SilentSendStream(send), receive


target = Target(name="broken_object_closed", object_stream_pair=_pair)
BREAKS: tuple[str, ...] = ("OBJ-CLOSED",)
