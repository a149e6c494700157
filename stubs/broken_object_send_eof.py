"""A stapled object stream whose send_eof() closes both directions: breaks [OBJ-SEND-EOF].

After send_eof(), the stream can no longer receive what the peer sends back.
"""

from __future__ import annotations

from typing import Any

import anyio
from anyio.streams.stapled import StapledObjectStream

from streamspec.conformance.target import Target

__all__ = ["BREAKS", "target"]


class HalfDeafStapledObjectStream(StapledObjectStream[Any]):
    async def send_eof(self) -> None:
        await self.aclose()  # the bug: ends the receiving direction too


target = Target(
    name="broken_object_send_eof",
    create_memory_object_stream=anyio.create_memory_object_stream,
    stapled_object_stream=HalfDeafStapledObjectStream,
)
BREAKS: tuple[str, ...] = ("OBJ-SEND-EOF",)
