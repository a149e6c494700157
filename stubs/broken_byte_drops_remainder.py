"""A buffered receive stream that drops what does not fit in max_bytes: breaks [BYTE-INTACT].

Over an object stream whose items are larger than ``max_bytes``, the rest of each item is lost
instead of kept for the next call: the classic "datagram habit" bug.
"""

from __future__ import annotations

import dataclasses

from streamspec.buffered import BufferedByteReceiveStream
from streamspec.conformance.target import Target
from streamspec.conformance.targets import STREAMSPEC

__all__ = ["BREAKS", "target"]


class LossyBufferedByteReceiveStream(BufferedByteReceiveStream):
    async def receive(self, max_bytes: int = 65536) -> bytes:
        chunk = await super().receive(max_bytes)
        self._take(len(self.buffer))  # the bug: the rest of the item is thrown away
        return chunk


target: Target = dataclasses.replace(
    STREAMSPEC,
    name="broken_byte_drops_remainder",
    buffered_byte_receive_stream=LossyBufferedByteReceiveStream,
)
BREAKS: tuple[str, ...] = ("BYTE-INTACT",)
