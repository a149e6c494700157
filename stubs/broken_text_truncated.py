"""A text receive stream that never finishes its decoder: breaks [TEXT-TRUNCATED].

A character cut short by the end of the stream disappears silently, whatever ``errors`` says.
"""

from __future__ import annotations

import codecs
import dataclasses
from typing import Any

from typing_extensions import Buffer

from streamspec.conformance.target import Target
from streamspec.conformance.targets import STREAMSPEC
from streamspec.text import TextReceiveStream

__all__ = ["BREAKS", "target"]


class _NeverFinal(codecs.IncrementalDecoder):
    """Passes every call to the real decoder, except that no call is ever the final one."""

    def __init__(self, decoder: codecs.IncrementalDecoder) -> None:
        super().__init__(decoder.errors)
        self._decoder = decoder

    def decode(self, input: Buffer, final: bool = False) -> str:
        return self._decoder.decode(input, False)  # the bug: the end is never final

    def reset(self) -> None:
        self._decoder.reset()


class ForgetfulTextReceiveStream(TextReceiveStream):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._decoder = _NeverFinal(self._decoder)


target: Target = dataclasses.replace(
    STREAMSPEC, name="broken_text_truncated", text_receive_stream=ForgetfulTextReceiveStream
)
BREAKS: tuple[str, ...] = ("TEXT-TRUNCATED",)
