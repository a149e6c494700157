"""An object stream whose send() commits the item at once and yields afterwards: breaks
[OBJ-SEND-CANCELLED].

The item is in the buffer before the first checkpoint; a send() whose scope is already
cancelled then raises the cancellation with its item delivered, so a sender that retries
delivers it twice. Unlike broken_object_send_cancel_dup, no checkpoint comes before the commit,
so the bug shows whatever order the scheduler runs tasks in (Trio's is randomised).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import anyio.lowlevel
from anyio.abc import ObjectReceiveStream, ObjectSendStream

from streamspec.conformance.target import Target
from streamspec.memory import MemoryObjectSendStream, create_memory_object_stream

__all__ = ["BREAKS", "target"]


class CommitFirstSendStream(ObjectSendStream[Any]):
    def __init__(self, inner: MemoryObjectSendStream[Any]) -> None:
        self._inner = inner

    async def send(self, item: Any) -> None:
        while True:
            try:
                self._inner.send_nowait(item)  # the bug: committed before any checkpoint
                break
            except anyio.WouldBlock:
                await anyio.lowlevel.checkpoint()
        await anyio.lowlevel.checkpoint()

    async def aclose(self) -> None:
        await self._inner.aclose()


@asynccontextmanager
async def _pair() -> AsyncIterator[tuple[ObjectSendStream[Any], ObjectReceiveStream[Any]]]:
    send, receive = create_memory_object_stream[Any](1)
    async with send, receive:
        yield CommitFirstSendStream(send), receive


target = Target(name="broken_object_send_commit_then_yield", object_stream_pair=_pair)
BREAKS: tuple[str, ...] = ("OBJ-SEND-CANCELLED",)
