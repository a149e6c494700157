"""A TLS stream whose receive() ignores max_bytes and returns whatever one TLS record held:
breaks [BYTE-MAX-BYTES].

A reader that asks for a header of 4 bytes gets the body too, and drops it or misparses it.
No TLS rule passes a max_bytes smaller than what arrives and looks only at that; the byte rules
over the TLS subject do.
"""

from __future__ import annotations

from streamspec.conformance.target import Target
from streamspec.tls import TLSStream

__all__ = ["BREAKS", "target"]


class GreedyTLSStream(TLSStream):
    async def receive(self, max_bytes: int = 65536) -> bytes:
        if max_bytes < 1:
            raise ValueError(f"max_bytes must be a positive integer, not {max_bytes!r}")
        return await super().receive(65536)  # the bug: max_bytes is not passed on


target: Target = Target(name="broken_tls_max_bytes", tls_stream=GreedyTLSStream)
BREAKS: tuple[str, ...] = ("BYTE-MAX-BYTES",)
