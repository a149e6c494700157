"""A stapled byte stream whose send() after send_eof() returns quietly: breaks
[BYTE-SEND-AFTER-EOF].

The error that the closed send half raises is swallowed, as a socket stream that ignores the
EPIPE of a write after ``shutdown(SHUT_WR)`` does: the caller believes its data was sent.
"""

from __future__ import annotations

import dataclasses

import anyio

from streamspec.conformance.target import Target
from streamspec.conformance.targets import STREAMSPEC
from streamspec.stapled import StapledByteStream

__all__ = ["BREAKS", "target"]


@dataclasses.dataclass(eq=False)
class QuietAfterEofStapledByteStream(StapledByteStream):
    async def send(self, item: bytes) -> None:
        try:
            await super().send(item)
        except anyio.ClosedResourceError:
            if self._closed:
                raise
            # the bug: after send_eof() the send half is closed, and the error is dropped


target: Target = dataclasses.replace(
    STREAMSPEC,
    name="broken_byte_send_after_eof",
    stapled_byte_stream=QuietAfterEofStapledByteStream,
)
BREAKS: tuple[str, ...] = ("BYTE-SEND-AFTER-EOF",)
