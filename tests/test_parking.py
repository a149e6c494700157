"""The parking layer's cheap "is a cancellation pending?" check, pinned to AnyIO's answers.

On asyncio, :func:`streamspec._parking.pending_cancellation` reads AnyIO's private cancel
scope chain instead of calling AnyIO's public ``checkpoint_if_cancelled()``. These tests hold
it to the public answers in every situation that decides it: AnyIO's
``TaskInfo.has_pending_cancellation()`` (which also sees a native ``Task.cancel()``) and, for
cancel scopes, whether the public ``checkpoint_if_cancelled()`` raises. On Trio it reads the
running task's cancel status, held to Trio's own ``checkpoint_if_cancelled()`` the same way.
The running asyncio task is found through a record it leaves in its context; the last tests
show that a copy of that record (in a child task, or in another thread) is not believed.
"""

from __future__ import annotations

import asyncio
import importlib
import importlib.util
import math
import sys
import types
import warnings
from collections.abc import Awaitable, Callable, Coroutine

import anyio
import anyio.lowlevel
import pytest

from streamspec._parking import _asyncio as parking_asyncio
from streamspec._parking import _base as parking_base
from streamspec._parking import current_backend, pending_cancellation

pytestmark = pytest.mark.anyio


async def _raises(check: Callable[[], Awaitable[None] | None]) -> bool:
    """Whether awaiting ``check()`` (when it returns something) raises the cancellation."""
    try:
        awaitable = check()
        if awaitable is not None:
            await awaitable
    except anyio.get_cancelled_exc_class():
        return True
    return False


def _on_asyncio() -> bool:
    return current_backend() is parking_asyncio.ASYNCIO


def _without_internals() -> Callable[[], Awaitable[None] | None]:
    """The check as built when AnyIO's internals are not what _parking expects."""
    saved = parking_asyncio._states
    parking_asyncio._states = None
    try:
        return parking_asyncio.make_pending_cancellation([pending_cancellation])
    finally:
        parking_asyncio._states = saved


_FALLBACK = _without_internals()
# Imported at collection, before any test runs on Trio: the package must still find its backend.
parking_trio = importlib.import_module("streamspec._parking._trio")


async def _answers(*, scopes_only: bool = True) -> tuple[bool, bool]:
    """Return AnyIO's answer and ours for the calling task, checking that our three ways of
    asking agree with each other (and, for scope cancellation, with AnyIO's public check)."""
    expected = anyio.get_current_task().has_pending_cancellation()
    pending = pending_cancellation()  # the answer without awaiting anything
    assert (pending is not None) == expected
    if isinstance(pending, Coroutine):
        pending.close()
    ours = await _raises(pending_cancellation)
    if scopes_only:  # a scope cancellation strikes again at every check: ask the others too
        assert await _raises(current_backend().checkpoint_if_cancelled) == ours
        assert await _raises(anyio.lowlevel.checkpoint_if_cancelled) == ours
        assert await _raises(_FALLBACK) == ours
    return expected, ours


def test_anyio_internals_are_read_directly() -> None:
    # If this fails, AnyIO changed its internals: the fallback keeps streamspec correct, but
    # slower; update _parking/_asyncio.py.
    assert parking_asyncio.SCOPE_INTERNALS


def _fresh_copy(module: types.ModuleType) -> types.ModuleType:
    """Run ``module``'s code again as a new module (its import-time checks included), without
    touching the module everyone else uses."""
    assert module.__file__ is not None
    spec = importlib.util.spec_from_file_location(f"{module.__name__}_copy", module.__file__)
    assert spec is not None
    assert spec.loader is not None
    copy = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(copy)
    return copy


@pytest.mark.parametrize("library", ["anyio", "trio"])
def test_a_fast_path_that_is_unavailable_is_reported_once(
    library: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """When another library's private state is not what a fast path reads, streamspec falls
    back to the public API and says so with one FastPathWarning per process, not silently."""
    monkeypatch.setattr(parking_base, "_reported", set())
    if library == "anyio":
        from anyio._backends import _asyncio as anyio_asyncio

        monkeypatch.setattr(anyio_asyncio, "_task_states", {})  # not the map _parking reads
        module: types.ModuleType = parking_asyncio
    else:
        from trio._core import _run

        monkeypatch.setattr(_run.Task, "__attrs_attrs__", ())  # no fields _parking reads
        module = parking_trio
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        copy = _fresh_copy(module)
        _fresh_copy(module)  # a second look in the same process stays quiet
    assert [type(w.message) for w in caught] == [parking_base.FastPathWarning]
    message = str(caught[0].message)
    assert f"private state of {library} " in message
    assert "public checkpoint_if_cancelled()" in message
    internals = copy.SCOPE_INTERNALS if library == "anyio" else copy.TASK_INTERNALS
    assert internals is False


def test_fast_paths_in_use_are_not_reported() -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        _fresh_copy(parking_asyncio)
        _fresh_copy(parking_trio)


async def test_no_scope_and_an_uncancelled_scope() -> None:
    assert await _answers() == (False, False)
    with anyio.CancelScope():
        assert await _answers() == (False, False)


async def test_a_scope_cancelled_by_its_own_task() -> None:
    with anyio.CancelScope() as scope:
        scope.cancel()
        assert await _answers() == (True, True)


async def test_a_scope_cancelled_by_another_task_while_this_one_was_ready() -> None:
    woken = anyio.Event()
    answers: list[tuple[bool, bool]] = []
    scope = anyio.CancelScope()

    async def victim() -> None:
        with scope:
            await woken.wait()  # resolved before the cancel, so it returns normally
            answers.append(await _answers())

    with anyio.fail_after(5):
        async with anyio.create_task_group() as group:
            group.start_soon(victim)
            await anyio.wait_all_tasks_blocked()
            woken.set()
            scope.cancel()
    assert answers == [(True, True)]


@pytest.mark.parametrize("inner_shielded", [False, True])
async def test_nested_scopes_and_shields(inner_shielded: bool) -> None:
    with anyio.CancelScope() as outer:
        outer.cancel()
        with anyio.CancelScope(shield=inner_shielded):
            with anyio.CancelScope():
                assert await _answers() == (not inner_shielded,) * 2


async def test_a_cancelled_scope_inside_a_shield_inside_a_cancelled_scope() -> None:
    with anyio.CancelScope() as outer:
        outer.cancel()
        with anyio.CancelScope(shield=True):
            assert await _answers() == (False, False)
            with anyio.CancelScope() as inner:
                inner.cancel()
                assert await _answers() == (True, True)
            assert await _answers() == (False, False)


async def test_a_deadline_already_passed() -> None:
    with anyio.CancelScope(deadline=anyio.current_time() - 1):
        assert await _answers() == (True, True)
    with anyio.CancelScope(deadline=-math.inf):
        assert await _answers() == (True, True)


async def test_the_backends_own_cancellation_of_the_running_task() -> None:
    """asyncio: ``Task.cancel()`` of the running task; Trio: a cancelled Trio scope."""
    if _on_asyncio():
        task = asyncio.current_task()
        assert task is not None
        task.cancel()
        assert await _answers(scopes_only=False) == (True, True)
        task.cancel()
        assert await _raises(_FALLBACK)
        if sys.version_info >= (3, 11):
            task.uncancel()
            task.uncancel()
        assert await _answers() == (False, False)
    else:
        import trio

        with trio.CancelScope() as scope:
            scope.cancel()
            assert await _answers() == (True, True)


async def test_a_delivered_native_cancel_is_no_longer_pending() -> None:
    """A caught ``Task.cancel()`` leaves ``Task.cancelling()`` raised but nothing pending."""
    if not _on_asyncio():
        # Trio has no task-level cancel; its scopes are covered above.
        assert await _answers() == (False, False)
        return
    task = asyncio.current_task()
    assert task is not None
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await asyncio.sleep(0)
    assert await _answers() == (False, False)
    if sys.version_info >= (3, 11):
        assert task.cancelling() == 1
        task.uncancel()


async def test_a_replaced_task_state_is_looked_up_again() -> None:
    """The check remembers the last task's AnyIO state weakly; a state AnyIO replaces is
    garbage at once, so the new one is read (here: one holding a cancelled scope)."""
    if not _on_asyncio():
        assert await _answers() == (False, False)
        return
    from anyio._backends._asyncio import CancelScope, TaskState, _task_states

    task = asyncio.current_task()
    assert task is not None
    with anyio.CancelScope():  # so that this task surely has a state
        assert await _answers() == (False, False)  # remembers this task's state
        original = _task_states[task]
        parent_id, scope = original.parent_id, original.cancel_scope
        del original
        cancelled = CancelScope()
        cancelled.cancel()
        _task_states[task] = TaskState(parent_id, cancelled)
        try:
            pending = pending_cancellation()
            assert pending is not None
            assert isinstance(pending, Coroutine)
            pending.close()
        finally:
            _task_states[task] = TaskState(parent_id, scope)
        assert pending_cancellation() is None


async def test_a_child_task_is_not_taken_for_its_parent() -> None:
    """A task remembers itself in its context, and a child task starts with a copy of that
    context: the child's checks must still read the child's own scopes."""
    assert await _answers() == (False, False)  # the parent is remembered now
    seen: list[object] = []

    async def child() -> None:
        with anyio.CancelScope() as scope:
            scope.cancel()
            # The child's first call into the parking layer: it finds only its parent's record.
            pending = pending_cancellation()
            seen.append(pending is not None)
            if isinstance(pending, Coroutine):
                pending.close()
            seen.append(await _answers())
        seen.append(await _answers())

    with anyio.fail_after(5):
        async with anyio.create_task_group() as tg:
            tg.start_soon(child)
    assert seen == [True, (True, True), (False, False)]
    assert await _answers() == (False, False)  # and the parent is still itself


def _check_in_a_new_asyncio_loop() -> tuple[bool, bool, bool]:
    """Run in a worker thread that inherited the caller's context: a fresh asyncio task's
    check before and after it cancels itself, and whether it is taken for an asyncio task."""

    async def main() -> tuple[bool, bool, bool]:
        before = pending_cancellation()  # the first call: it finds only the caller's record
        task = asyncio.current_task()
        assert task is not None
        task.cancel()
        after = pending_cancellation()
        with pytest.raises(asyncio.CancelledError):
            await (asyncio.sleep(0) if after is None else after)
        if sys.version_info >= (3, 11):
            task.uncancel()
        return before is not None, after is not None, current_backend() is parking_asyncio.ASYNCIO

    return asyncio.run(main())


def _backend_in_a_new_trio_run() -> bool:
    """Run in a worker thread that inherited the caller's context: whether a Trio task there
    is taken for a Trio task."""
    import trio

    async def main() -> bool:
        return current_backend() is not parking_asyncio.ASYNCIO

    return trio.run(main)


async def test_a_copied_context_in_another_thread_is_not_believed() -> None:
    """anyio.to_thread copies the caller's context into the worker thread; an event loop run
    there must not take its task for the caller's."""
    assert await _answers() == (False, False)  # the caller is remembered now
    with anyio.fail_after(10):
        assert await anyio.to_thread.run_sync(_check_in_a_new_asyncio_loop) == (False, True, True)
        assert await anyio.to_thread.run_sync(_backend_in_a_new_trio_run)


def test_without_trios_internals_every_check_is_trios_own(monkeypatch: pytest.MonkeyPatch) -> None:
    """When Trio's task does not look as _parking expects, it asks Trio's public function,
    which still raises a pending cancellation and lets a clean task through."""
    import importlib

    import trio

    trio_parking = importlib.import_module("streamspec._parking._trio")
    monkeypatch.setattr(trio_parking, "_context", None)

    async def main() -> bool:
        calm = trio_parking.pending_cancellation()
        assert isinstance(calm, Coroutine)  # Trio's checkpoint_if_cancelled(), every time
        await calm
        with trio.CancelScope() as scope:
            scope.cancel()
            pending = trio_parking.pending_cancellation()
            assert pending is not None
            await pending
            raise AssertionError("the pending cancellation was not raised")
        return scope.cancelled_caught

    assert trio.run(main)


def test_on_trio_our_checkpoints_count_as_trios_own() -> None:
    """The check without a coroutine counts its cancel point as Trio's does, so
    ``trio.testing.assert_checkpoints`` accepts a memory stream's calls (a cancel point, then
    a schedule point), even served at once from the buffer."""
    import trio
    import trio.testing

    from streamspec import create_memory_object_stream

    async def main() -> None:
        send, receive = create_memory_object_stream[int](1)
        with send, receive:
            with trio.testing.assert_checkpoints():
                await send.send(1)
            with trio.testing.assert_checkpoints():
                assert await receive.receive() == 1

    trio.run(main)
