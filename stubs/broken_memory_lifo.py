"""A memory object stream that hands out the newest buffered item first: breaks [OBJ-FIFO].

A receiver takes from the back of the buffer, so once two items are waiting they come out in
reverse order.
"""

from __future__ import annotations

from typing import Any

import anyio
from anyio import ClosedResourceError, EndOfStream, WouldBlock
from anyio.streams.memory import MemoryObjectReceiveStream, MemoryObjectSendStream

from streamspec.conformance.target import Target

__all__ = ["BREAKS", "create_memory_object_stream", "target"]


class LIFOReceiveStream(MemoryObjectReceiveStream[Any]):
    def receive_nowait(self) -> Any:
        if self._closed:
            raise ClosedResourceError
        state = self._state
        if state.waiting_senders:
            event, item = state.waiting_senders.popitem(last=False)
            state.buffer.append(item)
            event.set()
        if state.buffer:
            return state.buffer.pop()  # the bug: newest first
        if not state.open_send_channels:
            raise EndOfStream
        raise WouldBlock

    def clone(self) -> LIFOReceiveStream:
        if self._closed:
            raise ClosedResourceError
        return LIFOReceiveStream(_state=self._state)


def create_memory_object_stream(
    max_buffer_size: float = 0,
) -> tuple[MemoryObjectSendStream[Any], LIFOReceiveStream]:
    send, receive = anyio.create_memory_object_stream[Any](max_buffer_size)
    broken = LIFOReceiveStream(_state=receive._state)
    receive.close()
    return send, broken


target = Target(name="broken_memory_lifo", create_memory_object_stream=create_memory_object_stream)
BREAKS: tuple[str, ...] = ("OBJ-FIFO", "MEM-MODEL")
