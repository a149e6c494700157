"""A TLS stream whose receive() returns b"" once at the end before raising EndOfStream:
breaks [BYTE-NO-EMPTY] and [BYTE-ITER].

Code typed against ByteStream reads until EndOfStream, so an empty chunk at the end is handed
to it as data (and an ``async for`` loop yields it). No TLS rule looks at that: only the byte
rules, run over the TLS subject, catch it.
"""

from __future__ import annotations

import anyio

from streamspec.conformance.target import Target
from streamspec.tls import TLSStream

__all__ = ["BREAKS", "target"]


class EmptyAtEndTLSStream(TLSStream):
    _said_empty = False

    async def receive(self, max_bytes: int = 65536) -> bytes:
        try:
            return await super().receive(max_bytes)
        except anyio.EndOfStream:
            if self._said_empty:
                raise
            self._said_empty = True
            return b""  # the bug: the end of the stream as an empty chunk, once


# Only the TLS stream: the byte rules then run over the TLS subject alone.
target: Target = Target(name="broken_tls_empty_receive", tls_stream=EmptyAtEndTLSStream)
BREAKS: tuple[str, ...] = ("BYTE-NO-EMPTY", "BYTE-ITER")
