"""A stapled byte stream whose first receive() returns b"": breaks [BYTE-NO-EMPTY].

A caller that reads until it gets ``b""`` (the socket habit) takes that for the end of the
stream and stops before the data.
"""

from __future__ import annotations

import dataclasses

import anyio.lowlevel

from streamspec.conformance.target import Target
from streamspec.conformance.targets import STREAMSPEC
from streamspec.stapled import StapledByteStream

__all__ = ["BREAKS", "target"]


@dataclasses.dataclass(eq=False)
class HiccupStapledByteStream(StapledByteStream):
    _hiccuped: bool = dataclasses.field(default=False, init=False)

    async def receive(self, max_bytes: int = 65536) -> bytes:
        if not self._hiccuped:
            self._hiccuped = True
            await anyio.lowlevel.checkpoint()
            return b""  # the bug
        return await super().receive(max_bytes)


target: Target = dataclasses.replace(
    STREAMSPEC, name="broken_byte_empty_chunk", stapled_byte_stream=HiccupStapledByteStream
)
BREAKS: tuple[str, ...] = ("BYTE-NO-EMPTY",)
