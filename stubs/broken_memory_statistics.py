"""A memory object stream whose statistics() miss the tasks waiting to send: breaks
[MEM-STATISTICS].
"""

from __future__ import annotations

from typing import Any

import anyio
from anyio import ClosedResourceError
from anyio.streams.memory import MemoryObjectReceiveStream, MemoryObjectSendStream

from streamspec.conformance.target import Target

__all__ = ["BREAKS", "create_memory_object_stream", "target"]


class MiscountingSendStream(MemoryObjectSendStream[Any]):
    def statistics(self) -> Any:
        return super().statistics()._replace(tasks_waiting_send=0)  # the bug

    def clone(self) -> MiscountingSendStream:
        if self._closed:
            raise ClosedResourceError
        return MiscountingSendStream(_state=self._state)


def create_memory_object_stream(
    max_buffer_size: float = 0,
) -> tuple[MiscountingSendStream, MemoryObjectReceiveStream[Any]]:
    send, receive = anyio.create_memory_object_stream[Any](max_buffer_size)
    broken = MiscountingSendStream(_state=send._state)
    send.close()
    return broken, receive


target = Target(
    name="broken_memory_statistics", create_memory_object_stream=create_memory_object_stream
)
BREAKS: tuple[str, ...] = ("MEM-STATISTICS",)
