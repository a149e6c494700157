"""A memory object stream where closing any send clone ends the stream for receivers:
breaks [MEM-LAST-SENDER-CLOSED] and [MEM-CLONE].

close() on a send handle acts as if it were the last one open, so receivers get EndOfStream
while other clones are still open and sending.
"""

from __future__ import annotations

from typing import Any

import anyio
from anyio import ClosedResourceError
from anyio.streams.memory import MemoryObjectReceiveStream, MemoryObjectSendStream

from streamspec.conformance.target import Target

__all__ = ["BREAKS", "create_memory_object_stream", "target"]


class EagerCloseSendStream(MemoryObjectSendStream[Any]):
    def close(self) -> None:
        if not self._closed:
            self._state.open_send_channels = 1  # the bug: every clone counts as the last
        super().close()

    def clone(self) -> EagerCloseSendStream:
        if self._closed:
            raise ClosedResourceError
        return EagerCloseSendStream(_state=self._state)


def create_memory_object_stream(
    max_buffer_size: float = 0,
) -> tuple[EagerCloseSendStream, MemoryObjectReceiveStream[Any]]:
    send, receive = anyio.create_memory_object_stream[Any](max_buffer_size)
    broken = EagerCloseSendStream(_state=send._state)
    send.close()
    return broken, receive


target = Target(
    name="broken_memory_clone_close", create_memory_object_stream=create_memory_object_stream
)
BREAKS: tuple[str, ...] = ("MEM-LAST-SENDER-CLOSED", "MEM-CLONE", "MEM-ITER-END", "MEM-MODEL")
