"""A stapled byte stream whose send_eof() shuts both directions: breaks [BYTE-SEND-EOF].

The socket habit of ``shutdown(SHUT_RDWR)`` where ``SHUT_WR`` was meant: the peer sees the
end, as it should, but the reply it then sends can no longer be received.
"""

from __future__ import annotations

import dataclasses

from streamspec.conformance.target import Target
from streamspec.conformance.targets import STREAMSPEC
from streamspec.stapled import StapledByteStream

__all__ = ["BREAKS", "target"]


@dataclasses.dataclass(eq=False)
class ShutdownStapledByteStream(StapledByteStream):
    async def send_eof(self) -> None:
        await super().send_eof()
        await self.receive_stream.aclose()  # the bug: the receiving direction ends too


target: Target = dataclasses.replace(
    STREAMSPEC, name="broken_byte_send_eof_both_ways", stapled_byte_stream=ShutdownStapledByteStream
)
BREAKS: tuple[str, ...] = ("BYTE-SEND-EOF",)
