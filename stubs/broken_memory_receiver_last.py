"""A memory object stream that buffers an item while a receiver waits: breaks
[MEM-RECEIVER-FIRST].

When the buffer has room, send_nowait() puts the item there even though a receiver is
already waiting, and that receiver is not woken.
"""

from __future__ import annotations

from typing import Any

import anyio
from anyio import BrokenResourceError, ClosedResourceError
from anyio.streams.memory import MemoryObjectReceiveStream, MemoryObjectSendStream

from streamspec.conformance.target import Target

__all__ = ["BREAKS", "create_memory_object_stream", "target"]


class BufferFirstSendStream(MemoryObjectSendStream[Any]):
    def send_nowait(self, item: Any) -> None:
        if self._closed:
            raise ClosedResourceError
        if not self._state.open_receive_channels:
            raise BrokenResourceError
        if len(self._state.buffer) < self._state.max_buffer_size:
            self._state.buffer.append(item)  # the bug: waiting receivers are passed over
            return
        super().send_nowait(item)

    def clone(self) -> BufferFirstSendStream:
        if self._closed:
            raise ClosedResourceError
        return BufferFirstSendStream(_state=self._state)


def create_memory_object_stream(
    max_buffer_size: float = 0,
) -> tuple[BufferFirstSendStream, MemoryObjectReceiveStream[Any]]:
    send, receive = anyio.create_memory_object_stream[Any](max_buffer_size)
    broken = BufferFirstSendStream(_state=send._state)
    send.close()
    return broken, receive


target = Target(
    name="broken_memory_receiver_last", create_memory_object_stream=create_memory_object_stream
)
BREAKS: tuple[str, ...] = ("MEM-RECEIVER-FIRST",)
