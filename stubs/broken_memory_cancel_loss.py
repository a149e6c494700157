"""A memory object stream whose receive() drops its item when cancelled right after taking it:
breaks [MEM-CANCEL-NO-LOSS] and [MEM-NATIVE-CANCEL-NO-LOSS].

After taking an item, receive() passes one more checkpoint before returning; a cancellation
delivered there loses the item, though its send returned.
"""

from __future__ import annotations

from typing import Any

import anyio
from anyio import ClosedResourceError
from anyio.lowlevel import checkpoint
from anyio.streams.memory import MemoryObjectReceiveStream, MemoryObjectSendStream

from streamspec.conformance.target import Target

__all__ = ["BREAKS", "create_memory_object_stream", "target"]


class LossyReceiveStream(MemoryObjectReceiveStream[Any]):
    async def receive(self) -> Any:
        item = await super().receive()
        await checkpoint()  # the bug: a cancellation here loses the item
        return item

    def clone(self) -> LossyReceiveStream:
        if self._closed:
            raise ClosedResourceError
        return LossyReceiveStream(_state=self._state)


def create_memory_object_stream(
    max_buffer_size: float = 0,
) -> tuple[MemoryObjectSendStream[Any], LossyReceiveStream]:
    send, receive = anyio.create_memory_object_stream[Any](max_buffer_size)
    broken = LossyReceiveStream(_state=receive._state)
    receive.close()
    return send, broken


target = Target(
    name="broken_memory_cancel_loss", create_memory_object_stream=create_memory_object_stream
)
BREAKS: tuple[str, ...] = ("MEM-CANCEL-NO-LOSS", "MEM-NATIVE-CANCEL-NO-LOSS")
