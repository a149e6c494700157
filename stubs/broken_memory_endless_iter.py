"""A memory object stream whose iteration never ends: breaks [MEM-ITER-END] and [OBJ-ITER].

At the end of the stream, ``async for`` waits forever instead of stopping.
"""

from __future__ import annotations

from typing import Any

import anyio
from anyio import ClosedResourceError, EndOfStream
from anyio.streams.memory import MemoryObjectReceiveStream, MemoryObjectSendStream

from streamspec.conformance.target import Target

__all__ = ["BREAKS", "create_memory_object_stream", "target"]


class EndlessReceiveStream(MemoryObjectReceiveStream[Any]):
    async def __anext__(self) -> Any:
        try:
            return await self.receive()
        except EndOfStream:
            await anyio.sleep_forever()  # the bug: the loop never stops
            raise

    def clone(self) -> EndlessReceiveStream:
        if self._closed:
            raise ClosedResourceError
        return EndlessReceiveStream(_state=self._state)


def create_memory_object_stream(
    max_buffer_size: float = 0,
) -> tuple[MemoryObjectSendStream[Any], EndlessReceiveStream]:
    send, receive = anyio.create_memory_object_stream[Any](max_buffer_size)
    broken = EndlessReceiveStream(_state=receive._state)
    receive.close()
    return send, broken


target = Target(
    name="broken_memory_endless_iter", create_memory_object_stream=create_memory_object_stream
)
BREAKS: tuple[str, ...] = ("MEM-ITER-END", "OBJ-ITER")
