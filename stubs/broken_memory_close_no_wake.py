"""A memory object stream whose receive end, when closed, leaves its blocked receivers waiting:
breaks [MEM-CLOSE-WAKES].

close() forgets the tasks parked on the handle instead of waking them, so they wait until an
item or the end of the stream comes along, on a handle that is already closed.
"""

from __future__ import annotations

from typing import Any

import anyio
from anyio import ClosedResourceError
from anyio.streams.memory import MemoryObjectReceiveStream, MemoryObjectSendStream

from streamspec.conformance.target import Target

__all__ = ["BREAKS", "create_memory_object_stream", "target"]


class SleepyReceiveStream(MemoryObjectReceiveStream[Any]):
    def close(self) -> None:
        self._waiters = None  # the bug: the parked receivers are never woken
        super().close()

    def clone(self) -> SleepyReceiveStream:
        if self._closed:
            raise ClosedResourceError
        return SleepyReceiveStream(_state=self._state)


def create_memory_object_stream(
    max_buffer_size: float = 0,
) -> tuple[MemoryObjectSendStream[Any], SleepyReceiveStream]:
    send, receive = anyio.create_memory_object_stream[Any](max_buffer_size)
    broken = SleepyReceiveStream(_state=receive._state)
    receive.close()
    return send, broken


target = Target(
    name="broken_memory_close_no_wake", create_memory_object_stream=create_memory_object_stream
)
BREAKS: tuple[str, ...] = ("MEM-CLOSE-WAKES", "MEM-SYNC-CLOSE", "MEM-MODEL")
