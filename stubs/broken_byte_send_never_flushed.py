"""A stapled byte stream whose send() keeps the data in a buffer until the buffer is full or
the sending ends (send_eof(), aclose()): breaks [BYTE-SEND-DELIVERS].

Like a file object's write buffer that nothing flushes (AnyIO's FileWriteStream over a FIFO):
every byte arrives in the end, in order, but a peer waiting for a few bytes waits until the
sender ends its data or closes.
"""

from __future__ import annotations

import dataclasses
import io

import anyio
import anyio.lowlevel

from streamspec.conformance.target import Target
from streamspec.conformance.targets import STREAMSPEC
from streamspec.stapled import StapledByteStream

__all__ = ["BREAKS", "target"]


@dataclasses.dataclass(eq=False)
class UnflushedStapledByteStream(StapledByteStream):
    held: bytearray = dataclasses.field(default_factory=bytearray)
    sending_over: bool = False

    async def send(self, item: bytes) -> None:
        await anyio.lowlevel.checkpoint()
        if self.sending_over:
            raise anyio.ClosedResourceError
        self.held += item  # the bug: kept back until the buffer is full or the sending ends
        if len(self.held) >= io.DEFAULT_BUFFER_SIZE:
            await self._flush()

    async def _flush(self) -> None:
        if self.held:
            data, self.held = bytes(self.held), bytearray()
            await self.send_stream.send(data)

    async def send_eof(self) -> None:
        await self._flush()
        self.sending_over = True
        await super().send_eof()

    async def aclose(self) -> None:
        self.sending_over = True
        try:
            await self._flush()
        finally:
            await super().aclose()


target: Target = dataclasses.replace(
    STREAMSPEC,
    name="broken_byte_send_never_flushed",
    stapled_byte_stream=UnflushedStapledByteStream,
)
BREAKS: tuple[str, ...] = ("BYTE-SEND-DELIVERS",)
