"""A memory object stream whose synchronous close() skips the wake-ups: breaks
[MEM-SYNC-CLOSE].

aclose() is right; close() (and so ``with``) only marks the handle closed, leaving the
receivers waiting though the last send end is gone.
"""

from __future__ import annotations

from typing import Any

import anyio
from anyio import ClosedResourceError
from anyio.streams.memory import MemoryObjectReceiveStream, MemoryObjectSendStream

from streamspec.conformance.target import Target

__all__ = ["BREAKS", "create_memory_object_stream", "target"]


class QuietCloseSendStream(MemoryObjectSendStream[Any]):
    def close(self) -> None:
        if not self._closed:  # the bug: nobody waiting is told
            self._closed = True
            self._state.open_send_channels -= 1

    async def aclose(self) -> None:
        MemoryObjectSendStream.close(self)

    def clone(self) -> QuietCloseSendStream:
        if self._closed:
            raise ClosedResourceError
        return QuietCloseSendStream(_state=self._state)


def create_memory_object_stream(
    max_buffer_size: float = 0,
) -> tuple[QuietCloseSendStream, MemoryObjectReceiveStream[Any]]:
    send, receive = anyio.create_memory_object_stream[Any](max_buffer_size)
    broken = QuietCloseSendStream(_state=send._state)
    send.close()
    return broken, receive


target = Target(
    name="broken_memory_sync_close", create_memory_object_stream=create_memory_object_stream
)
BREAKS: tuple[str, ...] = ("MEM-SYNC-CLOSE",)
