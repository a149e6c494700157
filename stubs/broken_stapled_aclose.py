"""A stapled byte stream whose aclose() stops at the first failing half: breaks
[STAPLED-ACLOSE-BOTH].

When closing the send half raises, the receive half is never closed and leaks.
"""

from __future__ import annotations

import dataclasses

from streamspec.conformance.target import Target
from streamspec.conformance.targets import STREAMSPEC
from streamspec.stapled import StapledByteStream

__all__ = ["BREAKS", "target"]


@dataclasses.dataclass(eq=False)
class HalfClosingStapledByteStream(StapledByteStream):
    async def aclose(self) -> None:
        await self.send_stream.aclose()  # the bug: if this raises, the next line never runs
        await self.receive_stream.aclose()


target: Target = dataclasses.replace(
    STREAMSPEC, name="broken_stapled_aclose", stapled_byte_stream=HalfClosingStapledByteStream
)
BREAKS: tuple[str, ...] = ("STAPLED-ACLOSE-BOTH",)
