"""An object receive stream whose aclose() does not wake its own blocked receive(): breaks
[OBJ-CLOSE-WAKES].

aclose() only marks the stream closed, so later calls raise ClosedResourceError as they
should, but a task already waiting in receive() goes on waiting.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import anyio
from anyio.abc import ObjectReceiveStream, ObjectSendStream

from streamspec.conformance.target import Target
from streamspec.memory import MemoryObjectReceiveStream, create_memory_object_stream

__all__ = ["BREAKS", "target"]


class MarkingReceiveStream(ObjectReceiveStream[Any]):
    def __init__(self, inner: MemoryObjectReceiveStream[Any]) -> None:
        self._inner = inner
        self._closed = False

    async def receive(self) -> Any:
        if self._closed:
            await anyio.lowlevel.checkpoint()
            raise anyio.ClosedResourceError
        return await self._inner.receive()

    async def aclose(self) -> None:
        self._closed = True  # the bug: the inner stream, where a receive() waits, stays open
        await anyio.lowlevel.checkpoint()


@asynccontextmanager
async def _pair() -> AsyncIterator[tuple[ObjectSendStream[Any], ObjectReceiveStream[Any]]]:
    send, receive = create_memory_object_stream[Any](1)
    async with send, receive:
        yield send, MarkingReceiveStream(receive)


target = Target(name="broken_object_close_no_wake", object_stream_pair=_pair)
BREAKS: tuple[str, ...] = ("OBJ-CLOSE-WAKES",)
