"""A stapled byte stream whose send() ignores a peer that has closed: breaks
[BYTE-SEND-PEER-CLOSED].

The BrokenResourceError of the send half is swallowed, so everything sent after the peer has
gone is dropped for ever without a word.
"""

from __future__ import annotations

import contextlib
import dataclasses

import anyio

from streamspec.conformance.target import Target
from streamspec.conformance.targets import STREAMSPEC
from streamspec.stapled import StapledByteStream

__all__ = ["BREAKS", "target"]


@dataclasses.dataclass(eq=False)
class DeafToPeerStapledByteStream(StapledByteStream):
    async def send(self, item: bytes) -> None:
        # the bug: the peer is gone, and the data with it
        with contextlib.suppress(anyio.BrokenResourceError):
            await super().send(item)


target: Target = dataclasses.replace(
    STREAMSPEC,
    name="broken_byte_send_peer_closed",
    stapled_byte_stream=DeafToPeerStapledByteStream,
)
BREAKS: tuple[str, ...] = ("BYTE-SEND-PEER-CLOSED",)
