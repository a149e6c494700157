"""A TLS stream whose client accepts a certificate for any host name: breaks TLS-HOSTNAME.

The classic shortcut taken "so that it works with IP addresses": the client side switches
hostname checking off in the context it is given. The certificate chain is still verified, so
an untrusted issuer is still refused; only the host name goes unchecked. The docs' example
of a failing report: ``streamspec check
streamspec.conformance.examples.broken_tls_hostname:target --role tls``.
"""

from __future__ import annotations

import ssl

from typing_extensions import Self

from streamspec.conformance.target import Target
from streamspec.protocols import AnyByteStream
from streamspec.tls import TLSStream

__all__ = ["HostnameBlindTLSStream", "target"]


class HostnameBlindTLSStream(TLSStream):
    """The reference TLS stream, except that a client checks no host name."""

    @classmethod
    async def wrap(
        cls,
        transport_stream: AnyByteStream,
        *,
        server_side: bool | None = None,
        hostname: str | None = None,
        ssl_context: ssl.SSLContext | None = None,
        standard_compatible: bool = True,
    ) -> Self:
        """Wrap as :meth:`TLSStream.wrap` does, with host name checking off for a client."""
        if ssl_context is not None and not server_side:
            ssl_context.check_hostname = False  # the bug
        return await super().wrap(
            transport_stream,
            server_side=server_side,
            hostname=hostname,
            ssl_context=ssl_context,
            standard_compatible=standard_compatible,
        )


target: Target = Target(name="broken_tls_hostname", tls_stream=HostnameBlindTLSStream)
