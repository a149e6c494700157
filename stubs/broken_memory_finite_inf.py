"""A memory object stream that takes math.inf for a large finite buffer: breaks
[MEM-BUFFER-INF].

An "unbounded" stream holds 100 items; the 101st send() waits.
"""

from __future__ import annotations

import math
from typing import Any

import anyio
from anyio.streams.memory import MemoryObjectReceiveStream, MemoryObjectSendStream

from streamspec.conformance.target import Target

__all__ = ["BREAKS", "create_memory_object_stream", "target"]


def create_memory_object_stream(
    max_buffer_size: float = 0,
) -> tuple[MemoryObjectSendStream[Any], MemoryObjectReceiveStream[Any]]:
    if max_buffer_size == math.inf:
        max_buffer_size = 100  # the bug: "unbounded" has a bound
    return anyio.create_memory_object_stream[Any](max_buffer_size)


target = Target(
    name="broken_memory_finite_inf", create_memory_object_stream=create_memory_object_stream
)
BREAKS: tuple[str, ...] = ("MEM-BUFFER-INF",)
