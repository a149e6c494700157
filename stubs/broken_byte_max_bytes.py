"""A stapled byte stream whose receive(max_bytes) may return one byte more: breaks
[BYTE-MAX-BYTES].
"""

from __future__ import annotations

import dataclasses

from streamspec.conformance.target import Target
from streamspec.conformance.targets import STREAMSPEC
from streamspec.stapled import StapledByteStream

__all__ = ["BREAKS", "target"]


@dataclasses.dataclass(eq=False)
class GreedyStapledByteStream(StapledByteStream):
    async def receive(self, max_bytes: int = 65536) -> bytes:
        if max_bytes < 1:
            raise ValueError(f"max_bytes must be a positive integer, not {max_bytes!r}")
        return await self.receive_stream.receive(max_bytes + 1)  # the bug: off by one


target: Target = dataclasses.replace(
    STREAMSPEC, name="broken_byte_max_bytes", stapled_byte_stream=GreedyStapledByteStream
)
BREAKS: tuple[str, ...] = ("BYTE-MAX-BYTES",)
