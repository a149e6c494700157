"""A text receive stream that never finishes its decoder: breaks [TEXT-TRUNCATED].

A character cut short by the end of the stream disappears silently, whatever ``errors`` says.
"""

from __future__ import annotations

import dataclasses

from streamspec.conformance.target import Target
from streamspec.conformance.targets import STREAMSPEC
from streamspec.text import TextReceiveStream

__all__ = ["BREAKS", "target"]


class ForgetfulTextReceiveStream(TextReceiveStream):
    def _decode(self, data: bytes, final: bool = False) -> str:
        return super()._decode(data, final=False)  # the bug: the end is never final


target: Target = dataclasses.replace(
    STREAMSPEC, name="broken_text_truncated", text_receive_stream=ForgetfulTextReceiveStream
)
BREAKS: tuple[str, ...] = ("TEXT-TRUNCATED",)
