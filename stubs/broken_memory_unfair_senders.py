"""A memory object stream that lets the newest waiting sender in first: breaks
[MEM-SENDER-FAIR].

When a receiver frees a slot, the sender that started waiting last gets it.
"""

from __future__ import annotations

from typing import Any

import anyio
from anyio import ClosedResourceError, EndOfStream, WouldBlock
from anyio.streams.memory import MemoryObjectReceiveStream, MemoryObjectSendStream

from streamspec.conformance.target import Target

__all__ = ["BREAKS", "create_memory_object_stream", "target"]


class UnfairReceiveStream(MemoryObjectReceiveStream[Any]):
    def receive_nowait(self) -> Any:
        if self._closed:
            raise ClosedResourceError
        state = self._state
        if state.waiting_senders:
            event, item = state.waiting_senders.popitem(last=True)  # the bug: newest first
            state.buffer.append(item)
            event.set()
        if state.buffer:
            return state.buffer.popleft()
        if not state.open_send_channels:
            raise EndOfStream
        raise WouldBlock

    def clone(self) -> UnfairReceiveStream:
        if self._closed:
            raise ClosedResourceError
        return UnfairReceiveStream(_state=self._state)


def create_memory_object_stream(
    max_buffer_size: float = 0,
) -> tuple[MemoryObjectSendStream[Any], UnfairReceiveStream]:
    send, receive = anyio.create_memory_object_stream[Any](max_buffer_size)
    broken = UnfairReceiveStream(_state=receive._state)
    receive.close()
    return send, broken


target = Target(
    name="broken_memory_unfair_senders", create_memory_object_stream=create_memory_object_stream
)
BREAKS: tuple[str, ...] = ("MEM-SENDER-FAIR",)
