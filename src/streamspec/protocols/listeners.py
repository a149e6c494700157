"""Listeners: things that accept incoming connections and hand each to a handler."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Protocol, runtime_checkable

from anyio.abc import TaskGroup

from ._typevars import T_co
from .resources import AsyncResource, TypedAttributeProvider

__all__ = ["Listener"]


@runtime_checkable
class Listener(AsyncResource, TypedAttributeProvider, Protocol[T_co]):
    """Accepts connections of type ``T_co`` (a byte stream, usually) and serves them.

    Closing the listener stops it accepting: connections that arrive afterwards are refused,
    and a running :meth:`serve` stops. Connections already handed to a handler are theirs to
    close. [LISTEN-CLOSE]
    """

    async def serve(
        self, handler: Callable[[T_co], Any], /, task_group: TaskGroup | None = None
    ) -> None:
        """Accept connections for ever, starting ``handler(connection)`` in a task for each.

        :param handler: called with each accepted connection, in a task of its own; it may be a
            coroutine function. The handler owns the connection and should close it.
        :param task_group: where the handler tasks run. When omitted, ``serve()`` makes a task
            group of its own and does not return until every handler it started has finished.

        Every accepted connection reaches the handler; a connection whose set-up fails (a TLS
        handshake, say) is reported and dropped without stopping the listener.
        [LISTEN-SERVE] [TLS-LISTENER-SURVIVES]

        :raises ~anyio.ClosedResourceError: the listener was closed, before the call or while
            it was serving.
        """
        ...
