"""A stapled byte stream whose receive() hands out a bytearray: breaks [BYTE-RETURNS-BYTES].

The bytes are right, so every comparison with ``==`` passes; but the caller gets a mutable
object where the protocol promises ``bytes``: it cannot be hashed or used as a dict key, and
a stream that reused such a buffer would change data it already handed out.
"""

from __future__ import annotations

import dataclasses

from streamspec.conformance.target import Target
from streamspec.conformance.targets import STREAMSPEC
from streamspec.stapled import StapledByteStream

__all__ = ["BREAKS", "target"]


@dataclasses.dataclass(eq=False)
class MutableStapledByteStream(StapledByteStream):
    async def receive(self, max_bytes: int = 65536) -> bytes:
        chunk = await super().receive(max_bytes)
        return bytearray(chunk)  # type: ignore[return-value]  # the bug


target: Target = dataclasses.replace(
    STREAMSPEC, name="broken_byte_returns_bytearray", stapled_byte_stream=MutableStapledByteStream
)
BREAKS: tuple[str, ...] = ("BYTE-RETURNS-BYTES",)
