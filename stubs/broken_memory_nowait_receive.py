"""A memory object stream whose receive_nowait() overlooks waiting senders: breaks
[MEM-RECEIVE-NOWAIT].

With the buffer empty and a sender waiting, receive_nowait() raises WouldBlock instead of
taking the sender's item (receive() still takes it).
"""

from __future__ import annotations

from typing import Any

import anyio
import anyio.lowlevel
from anyio import ClosedResourceError, EndOfStream, WouldBlock
from anyio.streams.memory import MemoryObjectReceiveStream, MemoryObjectSendStream

from streamspec.conformance.target import Target

__all__ = ["BREAKS", "create_memory_object_stream", "target"]


class BufferOnlyReceiveStream(MemoryObjectReceiveStream[Any]):
    def receive_nowait(self) -> Any:
        if self._closed:
            raise ClosedResourceError
        if self._state.buffer:
            return super().receive_nowait()
        if not self._state.open_send_channels:
            raise EndOfStream
        raise WouldBlock  # the bug: waiting senders are not looked at

    async def receive(self) -> Any:
        await anyio.lowlevel.checkpoint()
        if not self._state.buffer and self._state.waiting_senders:
            return super().receive_nowait()
        return await super().receive()

    def clone(self) -> BufferOnlyReceiveStream:
        if self._closed:
            raise ClosedResourceError
        return BufferOnlyReceiveStream(_state=self._state)


def create_memory_object_stream(
    max_buffer_size: float = 0,
) -> tuple[MemoryObjectSendStream[Any], BufferOnlyReceiveStream]:
    send, receive = anyio.create_memory_object_stream[Any](max_buffer_size)
    broken = BufferOnlyReceiveStream(_state=receive._state)
    receive.close()
    return send, broken


target = Target(
    name="broken_memory_nowait_receive", create_memory_object_stream=create_memory_object_stream
)
BREAKS: tuple[str, ...] = ("MEM-RECEIVE-NOWAIT",)
