"""A cloneable object send stream whose clones share one closed flag: breaks [OBJ-CLONE].

Closing any clone closes them all, so a task still sending on its own clone gets
ClosedResourceError although it never closed anything.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import anyio
from anyio.abc import ObjectReceiveStream, ObjectSendStream

from streamspec.conformance.target import Target
from streamspec.memory import MemoryObjectSendStream, create_memory_object_stream

__all__ = ["BREAKS", "target"]


class _Flag:
    closed = False


class SharedCloseSendStream(ObjectSendStream[Any]):
    def __init__(self, inner: MemoryObjectSendStream[Any], flag: _Flag) -> None:
        self._inner = inner
        self._flag = flag

    async def send(self, item: Any) -> None:
        if self._flag.closed:
            await anyio.lowlevel.checkpoint()
            raise anyio.ClosedResourceError
        await self._inner.send(item)

    def clone(self) -> SharedCloseSendStream:
        if self._flag.closed:
            raise anyio.ClosedResourceError
        return SharedCloseSendStream(self._inner.clone(), self._flag)  # the bug: one flag

    async def aclose(self) -> None:
        self._flag.closed = True
        await self._inner.aclose()


@asynccontextmanager
async def _pair() -> AsyncIterator[tuple[ObjectSendStream[Any], ObjectReceiveStream[Any]]]:
    send, receive = create_memory_object_stream[Any](1)
    async with send, receive:
        yield SharedCloseSendStream(send, _Flag()), receive


target = Target(name="broken_object_clone_shared_close", object_stream_pair=_pair)
BREAKS: tuple[str, ...] = ("OBJ-CLONE",)
