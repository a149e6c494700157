"""A stapled byte stream whose receive() finishes its read when cancelled: breaks
[BYTE-RECEIVE-CANCELLED].

Its author wanted no read cut short, so a cancelled receive() waits on, shielded, for the data
it was waiting for: the cancellation is lost, a timeout around it never fires, and the chunk
it then returns is taken from the next receive().
"""

from __future__ import annotations

import dataclasses

import anyio

from streamspec.conformance.target import Target
from streamspec.conformance.targets import STREAMSPEC
from streamspec.stapled import StapledByteStream

__all__ = ["BREAKS", "target"]


@dataclasses.dataclass(eq=False)
class StubbornStapledByteStream(StapledByteStream):
    async def receive(self, max_bytes: int = 65536) -> bytes:
        try:
            chunk = await super().receive(max_bytes)
        except anyio.get_cancelled_exc_class():
            with anyio.CancelScope(shield=True):  # the bug: the cancellation is dropped
                chunk = await super().receive(max_bytes)
        return chunk


target: Target = dataclasses.replace(
    STREAMSPEC, name="broken_byte_swallows_cancel", stapled_byte_stream=StubbornStapledByteStream
)
BREAKS: tuple[str, ...] = ("BYTE-RECEIVE-CANCELLED",)
