"""A TLS listener that ignores handshake_timeout: breaks [TLS-LISTENER-SURVIVES].

A client that connects and never speaks keeps its connection, and a task, for ever; enough of
them exhaust the server.
"""

from __future__ import annotations

import math
from typing import Any

from streamspec.conformance.target import Target
from streamspec.tls import TLSListener, TLSStream

__all__ = ["BREAKS", "target"]


class TimelessTLSListener(TLSListener):
    # AnyIO's TLSListener is a dataclass without __post_init__, so its generated __init__
    # would never call one: override __init__ itself.
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.handshake_timeout = math.inf  # the bug


target = Target(
    name="broken_tls_listener_timeout", tls_stream=TLSStream, tls_listener=TimelessTLSListener
)
BREAKS: tuple[str, ...] = ("TLS-LISTENER-SURVIVES",)
