"""An object stream that delivers some items twice under concurrency: breaks
[OBJ-EXACTLY-ONCE].

receive() remembers the last item it returned; when two receivers are waiting at once, the
second one can be handed that remembered item again.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import anyio
import anyio.lowlevel
from anyio.abc import ObjectReceiveStream, ObjectSendStream
from anyio.streams.memory import MemoryObjectReceiveStream

from streamspec.conformance.target import Target

__all__ = ["BREAKS", "target"]

_NOTHING = object()


class EchoingReceiveStream(ObjectReceiveStream[Any]):
    def __init__(self, inner: MemoryObjectReceiveStream[Any]) -> None:
        self._inner = inner
        self._last: Any = _NOTHING
        self._waiting = 0

    async def receive(self) -> Any:
        if self._waiting and self._last is not _NOTHING:
            await anyio.lowlevel.checkpoint()
            return self._last  # the bug: another waiter gets the same item
        self._waiting += 1
        try:
            self._last = await self._inner.receive()
        finally:
            self._waiting -= 1
        return self._last

    async def aclose(self) -> None:
        await self._inner.aclose()


@asynccontextmanager
async def _pair() -> AsyncIterator[tuple[ObjectSendStream[Any], ObjectReceiveStream[Any]]]:
    send, receive = anyio.create_memory_object_stream[Any](1)
    async with send, receive:
        yield send, EchoingReceiveStream(receive)


target = Target(name="broken_object_duplicate", object_stream_pair=_pair)
BREAKS: tuple[str, ...] = ("OBJ-EXACTLY-ONCE",)
