"""An object stream whose send() flushes after handing its item over: breaks
[OBJ-SEND-CANCELLED].

The flush is a checkpoint; a send() cancelled there raises the cancellation although its item
was delivered, so a sender that retries on cancellation delivers the item twice.
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


class FlushingSendStream(ObjectSendStream[Any]):
    def __init__(self, inner: MemoryObjectSendStream[Any]) -> None:
        self._inner = inner

    async def send(self, item: Any) -> None:
        await self._inner.send(item)
        await anyio.lowlevel.checkpoint()  # the bug: cancellable after the item is delivered

    async def aclose(self) -> None:
        await self._inner.aclose()


@asynccontextmanager
async def _pair() -> AsyncIterator[tuple[ObjectSendStream[Any], ObjectReceiveStream[Any]]]:
    send, receive = create_memory_object_stream[Any](1)
    async with send, receive:
        yield FlushingSendStream(send), receive


target = Target(name="broken_object_send_cancel_dup", object_stream_pair=_pair)
BREAKS: tuple[str, ...] = ("OBJ-SEND-CANCELLED",)
