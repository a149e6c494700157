"""A buffered receive stream whose receive_exactly() empties the buffer on IncompleteRead:
breaks [BUF-EXACTLY-INCOMPLETE].

The bytes that arrived before the end are lost, so a caller cannot report or salvage them.
"""

from __future__ import annotations

import dataclasses

import anyio

from streamspec.buffered import BufferedByteReceiveStream
from streamspec.conformance.target import Target
from streamspec.conformance.targets import STREAMSPEC

__all__ = ["BREAKS", "target"]


class ForgetfulBufferedByteReceiveStream(BufferedByteReceiveStream):
    async def receive_exactly(self, nbytes: int) -> bytes:
        try:
            return await super().receive_exactly(nbytes)
        except anyio.IncompleteRead:
            self._take(len(self.buffer))  # the bug: what was read is thrown away
            raise


target: Target = dataclasses.replace(
    STREAMSPEC,
    name="broken_buffered_incomplete",
    buffered_byte_receive_stream=ForgetfulBufferedByteReceiveStream,
    buffered_byte_stream=None,  # it would not inherit the bug
)
BREAKS: tuple[str, ...] = ("BUF-EXACTLY-INCOMPLETE",)
