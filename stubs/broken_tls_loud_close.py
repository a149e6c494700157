"""A TLS stream whose aclose() raises when close_notify cannot be sent: breaks
[TLS-ACLOSE-QUIET].

It ends the session with ``send_eof()`` (close_notify on TLS 1.3) before closing and lets that
fail, so closing a stream whose peer has vanished raises BrokenResourceError: the caller's
cleanup, often in a ``finally`` or an ``async with`` exit, then fails over a peer that is gone.
"""

from __future__ import annotations

from streamspec.conformance.target import Target
from streamspec.tls import TLSStream

__all__ = ["BREAKS", "target"]


class LoudCloseTLSStream(TLSStream):
    async def aclose(self) -> None:
        if self.standard_compatible:
            await self.send_eof()  # the bug: a failure here is raised and skips the close
        await super().aclose()


target: Target = Target(name="broken_tls_loud_close", tls_stream=LoudCloseTLSStream)
BREAKS: tuple[str, ...] = ("TLS-ACLOSE-QUIET",)
