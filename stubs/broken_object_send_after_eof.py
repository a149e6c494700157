"""A stapled object stream whose send() after send_eof() returns quietly: breaks
[OBJ-SEND-AFTER-EOF].

The ClosedResourceError of the closed send half is swallowed, so the caller believes the item
was sent.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import anyio

from streamspec.conformance.target import Target
from streamspec.memory import create_memory_object_stream
from streamspec.stapled import StapledObjectStream

__all__ = ["BREAKS", "target"]


@dataclasses.dataclass(eq=False)
class QuietAfterEofStapledObjectStream(StapledObjectStream[Any]):
    async def send(self, item: Any) -> None:
        try:
            await super().send(item)
        except anyio.ClosedResourceError:
            if self._closed:
                raise
            # the bug: after send_eof() the send half is closed, and the error is dropped


target = Target(
    name="broken_object_send_after_eof",
    create_memory_object_stream=create_memory_object_stream,
    stapled_object_stream=QuietAfterEofStapledObjectStream,
)
BREAKS: tuple[str, ...] = ("OBJ-SEND-AFTER-EOF",)
