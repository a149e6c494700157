"""A stapled byte stream whose aclose() checkpoints before closing: breaks
[RES-ACLOSE-CANCELLED].

Under a cancelled scope the checkpoint raises the cancellation first, so the stream stays
open (and its halves leak) however often the caller tries to close it that way.
"""

from __future__ import annotations

import dataclasses

import anyio.lowlevel

from streamspec.conformance.target import Target
from streamspec.conformance.targets import STREAMSPEC
from streamspec.stapled import StapledByteStream

__all__ = ["BREAKS", "target"]


@dataclasses.dataclass(eq=False)
class LeakyStapledByteStream(StapledByteStream):
    async def aclose(self) -> None:
        await anyio.lowlevel.checkpoint()  # the bug: cancellation lands before closing
        await super().aclose()


target: Target = dataclasses.replace(
    STREAMSPEC, name="broken_resource_aclose_cancelled", stapled_byte_stream=LeakyStapledByteStream
)
BREAKS: tuple[str, ...] = ("RES-ACLOSE-CANCELLED",)
