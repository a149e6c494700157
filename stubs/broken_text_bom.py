"""A text send stream that encodes each send() on its own: breaks [TEXT-BOM-ONCE] and
[TEXT-ENCODE].

With ``utf-16`` or ``utf-32`` every send starts with a byte-order mark, which the peer decodes
as stray U+FEFF characters in the middle of the text.
"""

from __future__ import annotations

import dataclasses

from streamspec.conformance.target import Target
from streamspec.conformance.targets import STREAMSPEC
from streamspec.protocols import AnyByteSendStream
from streamspec.text import TextSendStream

__all__ = ["BREAKS", "target"]


class PerSendTextSendStream(TextSendStream):
    def __init__(
        self, transport_stream: AnyByteSendStream, encoding: str = "utf-8", errors: str = "strict"
    ) -> None:
        super().__init__(transport_stream, encoding, errors)
        self._codec = encoding

    async def send(self, item: str) -> None:
        await self.transport_stream.send(item.encode(self._codec, self.errors))  # the bug


target: Target = dataclasses.replace(
    STREAMSPEC, name="broken_text_bom", text_send_stream=PerSendTextSendStream
)
BREAKS: tuple[str, ...] = ("TEXT-BOM-ONCE", "TEXT-ENCODE")
