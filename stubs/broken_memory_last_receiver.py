"""A memory object stream whose last receive clone, when closed, leaves blocked senders
waiting: breaks [MEM-LAST-RECEIVER-CLOSED].

Later sends still raise BrokenResourceError; only the senders already waiting are forgotten.
"""

from __future__ import annotations

from typing import Any

import anyio
from anyio import ClosedResourceError
from anyio.streams.memory import MemoryObjectReceiveStream, MemoryObjectSendStream

from streamspec.conformance.target import Target

__all__ = ["BREAKS", "create_memory_object_stream", "target"]


class ForgetfulReceiveStream(MemoryObjectReceiveStream[Any]):
    def close(self) -> None:
        if not self._closed and self._state.open_receive_channels == 1:
            self._state.open_receive_channels += 1  # the bug: skip waking the senders
            super().close()
            self._state.open_receive_channels -= 1
            return
        super().close()

    def clone(self) -> ForgetfulReceiveStream:
        if self._closed:
            raise ClosedResourceError
        return ForgetfulReceiveStream(_state=self._state)


def create_memory_object_stream(
    max_buffer_size: float = 0,
) -> tuple[MemoryObjectSendStream[Any], ForgetfulReceiveStream]:
    send, receive = anyio.create_memory_object_stream[Any](max_buffer_size)
    broken = ForgetfulReceiveStream(_state=receive._state)
    receive.close()
    return send, broken


target = Target(
    name="broken_memory_last_receiver", create_memory_object_stream=create_memory_object_stream
)
BREAKS: tuple[str, ...] = ("MEM-LAST-RECEIVER-CLOSED",)
