"""A buffered receive stream whose receive_until() looks past max_bytes in whatever happens
to be buffered: breaks [BUF-UNTIL-NOT-FOUND].

Whether a delimiter beyond the limit is found then depends on how the bytes were chunked:
with one big chunk it is, with small chunks DelimiterNotFound is raised.
"""

from __future__ import annotations

import dataclasses

import anyio

from streamspec.buffered import BufferedByteReceiveStream
from streamspec.conformance.target import Target
from streamspec.conformance.targets import STREAMSPEC

__all__ = ["BREAKS", "target"]


class ChunkingDependentBufferedByteReceiveStream(BufferedByteReceiveStream):
    async def receive_until(self, delimiter: bytes, max_bytes: int) -> bytes:
        try:
            return await super().receive_until(delimiter, max_bytes)
        except anyio.DelimiterNotFound:
            index = self.buffer.find(delimiter)  # the bug: searches past max_bytes
            if index < 0:
                raise
            return (await self.receive_exactly(index + len(delimiter)))[:index]


target: Target = dataclasses.replace(
    STREAMSPEC,
    name="broken_buffered_until_chunking",
    buffered_byte_receive_stream=ChunkingDependentBufferedByteReceiveStream,
)
BREAKS: tuple[str, ...] = ("BUF-UNTIL-NOT-FOUND",)
