"""A create_memory_object_stream() that takes a negative or fractional buffer size for zero:
breaks [MEM-BUFFER-INVALID].
"""

from __future__ import annotations

import math
from typing import Any

import anyio
from anyio.streams.memory import MemoryObjectReceiveStream, MemoryObjectSendStream

from streamspec.conformance.target import Target

__all__ = ["BREAKS", "create_memory_object_stream", "target"]


def create_memory_object_stream(
    max_buffer_size: Any = 0,
) -> tuple[MemoryObjectSendStream[Any], MemoryObjectReceiveStream[Any]]:
    if isinstance(max_buffer_size, (int, float)) and max_buffer_size != math.inf:
        max_buffer_size = max(0, int(max_buffer_size))  # the bug: bad sizes are "fixed"
    return anyio.create_memory_object_stream[Any](max_buffer_size)


target = Target(
    name="broken_memory_negative_buffer", create_memory_object_stream=create_memory_object_stream
)
BREAKS: tuple[str, ...] = ("MEM-BUFFER-INVALID",)
