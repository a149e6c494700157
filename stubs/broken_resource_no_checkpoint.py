"""A buffered receive stream that hands out buffered bytes without a checkpoint: breaks
[ASYNC-CHECKPOINT].

A loop reading a well-filled buffer then never yields to other tasks and never notices that
it was cancelled.
"""

from __future__ import annotations

import dataclasses

from streamspec.buffered import BufferedByteReceiveStream
from streamspec.conformance.target import Target
from streamspec.conformance.targets import STREAMSPEC

__all__ = ["BREAKS", "target"]


class EagerBufferedByteReceiveStream(BufferedByteReceiveStream):
    async def receive(self, max_bytes: int = 65536) -> bytes:
        if max_bytes >= 1 and self.buffer:
            return self._take(max_bytes)  # the bug: returns at once, no checkpoint
        return await super().receive(max_bytes)


target: Target = dataclasses.replace(
    STREAMSPEC,
    name="broken_resource_no_checkpoint",
    buffered_byte_receive_stream=EagerBufferedByteReceiveStream,
)
BREAKS: tuple[str, ...] = ("ASYNC-CHECKPOINT",)
