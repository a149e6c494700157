"""A TLS stream that takes a cut connection for a clean end: breaks [TLS-RAGGED-EOF-STRICT].

Even with ``standard_compatible=True``, a transport that ends without ``close_notify`` makes
``receive()`` raise EndOfStream instead of BrokenResourceError, so a truncation attack looks
like the peer finishing.
"""

from __future__ import annotations

from anyio import BrokenResourceError, EndOfStream

from streamspec.conformance.target import Target
from streamspec.tls import TLSStream

__all__ = ["BREAKS", "target"]


class TruncationBlindTLSStream(TLSStream):
    async def receive(self, max_bytes: int = 65536) -> bytes:
        try:
            return await super().receive(max_bytes)
        except BrokenResourceError:
            raise EndOfStream from None  # the bug


target = Target(name="broken_tls_ragged_eof", tls_stream=TruncationBlindTLSStream)
BREAKS: tuple[str, ...] = ("TLS-RAGGED-EOF-STRICT",)
