"""A TLS stream that hides its transport's attributes: breaks [TLS-ATTRIBUTES].

It reports every TLSAttribute, but not what the stream below knows (a socket's addresses, say),
so ``extra(SocketAttribute.remote_address)`` fails on a TLS connection.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from streamspec.conformance.target import Target
from streamspec.tls import TLSStream

__all__ = ["BREAKS", "target"]


class OpaqueTLSStream(TLSStream):
    @property
    def extra_attributes(self) -> Mapping[Any, Callable[[], Any]]:
        hidden = self.transport_stream.extra_attributes.keys()  # the bug
        return {k: v for k, v in super().extra_attributes.items() if k not in hidden}


target = Target(name="broken_tls_attributes", tls_stream=OpaqueTLSStream)
BREAKS: tuple[str, ...] = ("TLS-ATTRIBUTES",)
