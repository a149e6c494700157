"""A MultiListener whose aclose() forgets its listeners: breaks [LISTEN-CLOSE].

After closing it, serve() goes on accepting connections and handing them to the handler.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from streamspec.conformance.target import Target
from streamspec.conformance.targets import STREAMSPEC
from streamspec.stapled import MultiListener

__all__ = ["BREAKS", "target"]


@dataclasses.dataclass(eq=False)
class UnclosableMultiListener(MultiListener[Any]):
    async def aclose(self) -> None:
        pass  # the bug: the listeners stay open


target: Target = dataclasses.replace(
    STREAMSPEC, name="broken_listener_close", multi_listener=UnclosableMultiListener
)
BREAKS: tuple[str, ...] = ("LISTEN-CLOSE",)
