"""An object stream whose receive() acknowledges an item after taking it: breaks
[OBJ-RECEIVE-CANCELLED].

The acknowledgement is a checkpoint; a receive() cancelled there has already taken the item
off the stream and drops it, so an item is lost each time a timeout strikes at that moment.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import anyio
import anyio.lowlevel
from anyio.abc import ObjectReceiveStream, ObjectSendStream

from streamspec.conformance.target import Target
from streamspec.memory import MemoryObjectReceiveStream, create_memory_object_stream

__all__ = ["BREAKS", "target"]


class AcknowledgingReceiveStream(ObjectReceiveStream[Any]):
    def __init__(self, inner: MemoryObjectReceiveStream[Any]) -> None:
        self._inner = inner

    async def receive(self) -> Any:
        item = await self._inner.receive()
        await anyio.lowlevel.checkpoint()  # the bug: a cancellation here drops the item
        return item

    async def aclose(self) -> None:
        await self._inner.aclose()


@asynccontextmanager
async def _pair() -> AsyncIterator[tuple[ObjectSendStream[Any], ObjectReceiveStream[Any]]]:
    send, receive = create_memory_object_stream[Any](1)
    async with send, receive:
        yield send, AcknowledgingReceiveStream(receive)


target = Target(name="broken_object_cancel_loss", object_stream_pair=_pair)
BREAKS: tuple[str, ...] = ("OBJ-RECEIVE-CANCELLED",)
