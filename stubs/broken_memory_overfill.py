"""A memory object stream whose send_nowait() never refuses: breaks [MEM-BUFFER-ZERO] and
[MEM-BUFFER-N].

With the buffer full and no receiver waiting, send_nowait() buffers the item anyway instead
of raising WouldBlock.
"""

from __future__ import annotations

from typing import Any

import anyio
from anyio import ClosedResourceError, WouldBlock
from anyio.streams.memory import MemoryObjectReceiveStream, MemoryObjectSendStream

from streamspec.conformance.target import Target

__all__ = ["BREAKS", "create_memory_object_stream", "target"]


class OverfillSendStream(MemoryObjectSendStream[Any]):
    def send_nowait(self, item: Any) -> None:
        try:
            super().send_nowait(item)
        except WouldBlock:
            self._state.buffer.append(item)  # the bug: the buffer size is ignored

    def clone(self) -> OverfillSendStream:
        if self._closed:
            raise ClosedResourceError
        return OverfillSendStream(_state=self._state)


def create_memory_object_stream(
    max_buffer_size: float = 0,
) -> tuple[OverfillSendStream, MemoryObjectReceiveStream[Any]]:
    send, receive = anyio.create_memory_object_stream[Any](max_buffer_size)
    broken = OverfillSendStream(_state=send._state)
    send.close()
    return broken, receive


target = Target(
    name="broken_memory_overfill", create_memory_object_stream=create_memory_object_stream
)
BREAKS: tuple[str, ...] = ("MEM-BUFFER-ZERO", "MEM-BUFFER-N")
