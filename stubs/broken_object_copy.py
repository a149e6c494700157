"""An object stream that delivers copies of the objects sent: breaks [OBJ-IDENTITY].

A stand-in for a stream that serialises its items (pickling them through a pipe, say) and so
cannot keep identity, offered as a reliable in-process object stream.
"""

from __future__ import annotations

import copy
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import anyio
from anyio.abc import ObjectReceiveStream, ObjectSendStream
from anyio.streams.memory import MemoryObjectSendStream

from streamspec.conformance.target import Target

__all__ = ["BREAKS", "target"]


class CopyingSendStream(ObjectSendStream[Any]):
    def __init__(self, inner: MemoryObjectSendStream[Any]) -> None:
        self._inner = inner

    async def send(self, item: Any) -> None:
        await self._inner.send(copy.deepcopy(item))  # the bug: a copy, not the object

    async def aclose(self) -> None:
        await self._inner.aclose()


@asynccontextmanager
async def _pair() -> AsyncIterator[tuple[ObjectSendStream[Any], ObjectReceiveStream[Any]]]:
    send, receive = anyio.create_memory_object_stream[Any](1)
    async with send, receive:
        yield CopyingSendStream(send), receive


target = Target(name="broken_object_copy", object_stream_pair=_pair)
BREAKS: tuple[str, ...] = ("OBJ-IDENTITY",)
