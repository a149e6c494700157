"""A MultiListener that runs each handler to completion before accepting the next
connection: breaks [LISTEN-SERVE].

One slow client then holds up every other one.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any

import anyio
from anyio.abc import TaskGroup

from streamspec.conformance.target import Target
from streamspec.conformance.targets import STREAMSPEC
from streamspec.stapled import MultiListener

__all__ = ["BREAKS", "target"]


@dataclasses.dataclass(eq=False)
class SerialMultiListener(MultiListener[Any]):
    async def serve(
        self, handler: Callable[[Any], Any], task_group: TaskGroup | None = None
    ) -> None:
        queue_send, queue_receive = anyio.create_memory_object_stream[Any](1)

        async def enqueue(connection: Any) -> None:
            await queue_send.send(connection)

        async with anyio.create_task_group() as tg:
            tg.start_soon(super().serve, enqueue, task_group)
            async for connection in queue_receive:
                await handler(connection)  # the bug: one handler at a time


target: Target = dataclasses.replace(
    STREAMSPEC, name="broken_listener_serial", multi_listener=SerialMultiListener
)
BREAKS: tuple[str, ...] = ("LISTEN-SERVE",)
