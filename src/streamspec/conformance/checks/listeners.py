"""Checks of the ``listener`` role: the target's ``listener`` and its MultiListener (over
two of the target's listeners, or two of the suite's in-memory ones; see :mod:`..subjects`).

Check failures carry their own messages, so pytest must not rewrite this module's asserts
(PYTEST_DONT_REWRITE): the pytest plugin's report then reads like the CLI's.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import anyio
from anyio.abc import TaskGroup

from ...protocols import ByteStream
from ..observe import PATIENCE, leaves, named
from ..registry import Context, check
from ..subjects import ListenerSetup, Subject, close_quietly, listener_subjects

__all__: list[str] = []

#: Connections each check makes.
_CLIENTS = 3


def _subjects(ctx: Context) -> list[Subject[ListenerSetup]]:
    subjects = listener_subjects(ctx.target)
    if not subjects:
        ctx.not_provided("a listener (listener or MultiListener)")
    return subjects


@check("LISTEN-SERVE")
async def serve(ctx: Context) -> None:
    for subject in _subjects(ctx):
        async with named(subject) as setup:
            await _serve_all(subject.name, setup)


async def _serve_all(name: str, setup: ListenerSetup) -> None:
    greetings: list[bytes] = []
    all_running = anyio.Event()
    clients: list[ByteStream] = []

    async def handler(connection: ByteStream) -> None:
        # Each handler waits until every one is running: handlers run one after another
        # (not each in a task of its own) never get there.
        try:
            greetings.append(await connection.receive())
            if len(greetings) == _CLIENTS:
                all_running.set()
            await all_running.wait()
        finally:
            await close_quietly(connection)

    async with anyio.create_task_group() as tg:
        tg.start_soon(_serve_in, setup, handler, tg)
        try:
            with anyio.move_on_after(PATIENCE):
                for number in range(_CLIENTS):
                    client = await setup.connect()
                    clients.append(client)
                    await client.send(b"client %d" % number)
                await all_running.wait()
        finally:
            tg.cancel_scope.cancel()
            await close_quietly(*clients)
    assert sorted(greetings) == [b"client %d" % n for n in range(_CLIENTS)], (
        f"{name}: {_CLIENTS} clients connected and each sent a greeting; within {PATIENCE:g} s "
        f"the handlers, all running at once, received {sorted(greetings)!r}"
    )


async def _serve_in(
    setup: ListenerSetup, handler: Callable[[ByteStream], Any], task_group: TaskGroup
) -> None:
    await setup.listener.serve(handler, task_group)


@check("LISTEN-CLOSE")
async def close(ctx: Context) -> None:
    for subject in _subjects(ctx):
        async with named(subject) as setup:
            await _close_stops(subject.name, setup)


async def _close_stops(name: str, setup: ListenerSetup) -> None:
    handled: list[ByteStream] = []
    ended: list[str] = []
    serve_ended = anyio.Event()

    async def handler(connection: ByteStream) -> None:
        handled.append(connection)

    async def serve() -> None:
        try:
            await setup.listener.serve(handler)
            ended.append("returned")
        except Exception as exc:
            ended.append(" and ".join(sorted({type(leaf).__name__ for leaf in leaves(exc)})))
        finally:
            serve_ended.set()

    late: ByteStream | None = None
    async with anyio.create_task_group() as tg:
        tg.start_soon(serve)
        await anyio.wait_all_tasks_blocked()
        await setup.listener.aclose()
        with anyio.move_on_after(PATIENCE):
            await serve_ended.wait()
        try:
            with anyio.move_on_after(PATIENCE):
                late = await setup.connect()
        except Exception:
            late = None  # refused: that is what closing is for
        if late is not None:
            await anyio.wait_all_tasks_blocked()
        tg.cancel_scope.cancel()
    if late is not None:
        await close_quietly(late)
    await close_quietly(*handled)
    assert serve_ended.is_set(), (
        f"{name}: serve() was still running {PATIENCE:g} s after aclose(): closing did not stop "
        "serving"
    )
    assert not handled, f"{name}: a client that connected after aclose() was handed to the handler"
    assert ended in (["returned"], ["ClosedResourceError"]), (
        f"{name}: after aclose(), serve() ended with {ended[0]}, not by returning or raising "
        "ClosedResourceError"
    )
