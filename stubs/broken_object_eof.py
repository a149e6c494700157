"""An object stream that reports the end of the stream only once: breaks [OBJ-EOF].

After the first EndOfStream, receive() returns None instead of raising again.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import anyio
from anyio import EndOfStream
from anyio.abc import ObjectReceiveStream, ObjectSendStream
from anyio.streams.memory import MemoryObjectReceiveStream

from streamspec.conformance.target import Target

__all__ = ["BREAKS", "target"]


class OnceEOFReceiveStream(ObjectReceiveStream[Any]):
    def __init__(self, inner: MemoryObjectReceiveStream[Any]) -> None:
        self._inner = inner
        self._ended = False

    async def receive(self) -> Any:
        if self._ended:
            return None  # the bug: the end is forgotten
        try:
            return await self._inner.receive()
        except EndOfStream:
            self._ended = True
            raise

    async def aclose(self) -> None:
        await self._inner.aclose()


@asynccontextmanager
async def _pair() -> AsyncIterator[tuple[ObjectSendStream[Any], ObjectReceiveStream[Any]]]:
    send, receive = anyio.create_memory_object_stream[Any](1)
    async with send, receive:
        yield send, OnceEOFReceiveStream(receive)


target = Target(name="broken_object_eof", object_stream_pair=_pair)
BREAKS: tuple[str, ...] = ("OBJ-EOF",)
