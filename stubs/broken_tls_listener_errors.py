"""A TLS listener that lets a failed handshake end serve(): breaks [TLS-LISTENER-SURVIVES].

It closes the client's stream as it should, then re-raises the handshake error, which escapes
the connection's task and takes the whole listener down: one client sending garbage stops the
service for everyone.
"""

from __future__ import annotations

from anyio import aclose_forcefully
from anyio.abc import AnyByteStream

from streamspec.conformance.target import Target
from streamspec.tls import TLSListener, TLSStream

__all__ = ["BREAKS", "target"]


class FragileTLSListener(TLSListener):
    @staticmethod
    async def handle_handshake_error(exc: BaseException, stream: AnyByteStream) -> None:
        await aclose_forcefully(stream)
        raise exc  # the bug


target = Target(
    name="broken_tls_listener_errors", tls_stream=TLSStream, tls_listener=FragileTLSListener
)
BREAKS: tuple[str, ...] = ("TLS-LISTENER-SURVIVES",)
