"""Memory object streams: creation, the operations one by one, closing, statistics.

Ordering, fairness and the close rules with waiting tasks live in test_memory_semantics.py;
cancellation in test_memory_cancel.py and test_memory_native_cancel.py.
"""

from __future__ import annotations

import gc
import math
from decimal import Decimal
from fractions import Fraction
from typing import Any

import anyio
import anyio.abc
import pytest
from anyio import (
    BrokenResourceError,
    CancelScope,
    ClosedResourceError,
    EndOfStream,
    WouldBlock,
)
from anyio.streams.memory import MemoryObjectStreamStatistics

import streamspec
from streamspec.memory import (
    MemoryObjectReceiveStream,
    MemoryObjectSendStream,
    create_memory_object_stream,
)

pytestmark = pytest.mark.anyio


# -- creation ---------------------------------------------------------------------------------


def test_returns_a_send_end_and_a_receive_end() -> None:
    send, receive = create_memory_object_stream[int](3)
    with send, receive:
        assert isinstance(send, MemoryObjectSendStream)
        assert isinstance(receive, MemoryObjectReceiveStream)
        assert isinstance(send, anyio.abc.ObjectSendStream)
        assert isinstance(receive, anyio.abc.ObjectReceiveStream)
        assert isinstance(send, streamspec.MemoryObjectSender)
        assert isinstance(receive, streamspec.MemoryObjectReceiver)
        assert send.statistics().max_buffer_size == 3


def test_is_the_function_the_package_exports() -> None:
    assert streamspec.create_memory_object_stream is create_memory_object_stream


def test_default_buffer_size_is_zero() -> None:
    send, receive = create_memory_object_stream[str]()
    with send, receive:
        assert send.statistics().max_buffer_size == 0


def test_unsubscripted_call_works() -> None:
    send: MemoryObjectSendStream[str]
    receive: MemoryObjectReceiveStream[str]
    send, receive = create_memory_object_stream(1)
    with send, receive:
        send.send_nowait("x")
        assert receive.receive_nowait() == "x"


@pytest.mark.parametrize("size", [0, 1, 7, math.inf])
def test_accepts_integers_and_infinity(size: float) -> None:
    send, receive = create_memory_object_stream[int](max_buffer_size=size)
    with send, receive:
        assert receive.statistics().max_buffer_size == size


def test_accepts_an_object_with_index_as_an_integer() -> None:
    class Two:
        def __index__(self) -> int:
            return 2

    send, receive = create_memory_object_stream[int](Two())  # type: ignore[arg-type]
    with send, receive:
        assert type(send.statistics().max_buffer_size) is int
        assert send.statistics().max_buffer_size == 2


@pytest.mark.parametrize(
    "size",
    [-1, -math.inf, 1.5, 3.0, math.nan, Fraction(1, 2), Decimal("2")],
    ids=["negative", "minus-inf", "fraction-float", "integral-float", "nan", "Fraction", "Decimal"],
)
def test_rejects_bad_numbers_with_value_error(size: Any) -> None:
    with pytest.raises(ValueError, match="max_buffer_size"):
        create_memory_object_stream[int](size)


@pytest.mark.parametrize("size", ["3", None, [1], True, False], ids=repr)
def test_rejects_non_numbers_and_bools_with_type_error(size: Any) -> None:
    # Deliberate difference from AnyIO, which takes True as a buffer of size 1.
    with pytest.raises(TypeError, match="max_buffer_size"):
        create_memory_object_stream[int](size)


def test_item_type_argument_is_deprecated() -> None:
    send: MemoryObjectSendStream[int]
    receive: MemoryObjectReceiveStream[int]
    with pytest.warns(DeprecationWarning, match="item_type"):
        send, receive = create_memory_object_stream(0, int)
    send.close()
    receive.close()


# -- non-blocking operations ------------------------------------------------------------------


def test_send_nowait_fills_the_buffer_then_would_block() -> None:
    send, receive = create_memory_object_stream[int](2)
    with send, receive:
        send.send_nowait(1)
        send.send_nowait(2)
        with pytest.raises(WouldBlock):
            send.send_nowait(3)
        assert [receive.receive_nowait(), receive.receive_nowait()] == [1, 2]
        with pytest.raises(WouldBlock):
            receive.receive_nowait()


def test_send_nowait_on_a_rendezvous_stream_without_receiver_would_block() -> None:
    send, receive = create_memory_object_stream[int](0)
    with send, receive:
        with pytest.raises(WouldBlock):
            send.send_nowait(1)
        assert send.statistics().current_buffer_used == 0


def test_infinite_buffer_never_blocks() -> None:
    send, receive = create_memory_object_stream[int](math.inf)
    with send, receive:
        for number in range(10_000):
            send.send_nowait(number)
        assert [receive.receive_nowait() for _ in range(10_000)] == list(range(10_000))


def test_receive_nowait_raises_end_of_stream_only_once_drained() -> None:
    send, receive = create_memory_object_stream[int](2)
    with receive:
        send.send_nowait(1)
        send.close()
        assert receive.receive_nowait() == 1
        for _ in range(2):
            with pytest.raises(EndOfStream):
                receive.receive_nowait()


def test_the_object_received_is_the_object_sent() -> None:
    send, receive = create_memory_object_stream[object](1)
    item = object()
    with send, receive:
        send.send_nowait(item)
        assert receive.receive_nowait() is item


# -- closing ----------------------------------------------------------------------------------


def test_closed_handles_raise_closed_resource_error() -> None:
    send, receive = create_memory_object_stream[int](1)
    send.close()
    receive.close()
    send.close()  # idempotent
    receive.close()
    with pytest.raises(ClosedResourceError):
        send.send_nowait(1)
    with pytest.raises(ClosedResourceError):
        receive.receive_nowait()
    with pytest.raises(ClosedResourceError):
        send.clone()
    with pytest.raises(ClosedResourceError):
        receive.clone()


async def test_async_operations_on_closed_handles_raise_closed_resource_error() -> None:
    send, receive = create_memory_object_stream[int](1)
    await send.aclose()
    await receive.aclose()
    await send.aclose()  # idempotent
    await receive.aclose()
    with pytest.raises(ClosedResourceError):
        await send.send(1)
    with pytest.raises(ClosedResourceError):
        await receive.receive()


async def test_send_after_every_receiver_closed_is_broken() -> None:
    send, receive = create_memory_object_stream[int](5)
    clone = receive.clone()
    receive.close()
    send.send_nowait(1)  # one receive clone is still open
    clone.close()
    with send:
        with pytest.raises(BrokenResourceError):
            send.send_nowait(2)
        with pytest.raises(BrokenResourceError):
            await send.send(2)


async def test_receive_after_every_sender_closed_drains_then_ends() -> None:
    send, receive = create_memory_object_stream[int](5)
    clone = send.clone()
    send.send_nowait(1)
    send.close()
    clone.send_nowait(2)
    await clone.aclose()
    with receive, anyio.fail_after(5):
        assert await receive.receive() == 1
        assert await receive.receive() == 2
        for _ in range(2):
            with pytest.raises(EndOfStream):
                await receive.receive()


def test_with_closes_the_handle_even_on_error() -> None:
    send, receive = create_memory_object_stream[int](1)
    entered: list[object] = []
    try:
        with send as entered_send, receive as entered_receive:
            entered += [entered_send, entered_receive]
            raise KeyError("inside")
    except KeyError:
        pass
    assert entered == [send, receive]
    assert send.statistics().open_send_streams == 0
    assert send.statistics().open_receive_streams == 0


async def test_async_with_closes_the_handle() -> None:
    send, receive = create_memory_object_stream[int](1)
    async with send as entered_send, receive as entered_receive:
        assert entered_send is send
        assert entered_receive is receive
    with pytest.raises(ClosedResourceError):
        send.send_nowait(1)
    with pytest.raises(ClosedResourceError):
        receive.receive_nowait()


async def test_aclose_in_a_cancelled_scope_closes_then_raises() -> None:
    # Deliberate difference from AnyIO 4.16, whose aclose() is no checkpoint (decision 11 in
    # docs/design.rst).
    send, receive = create_memory_object_stream[int](1)
    with CancelScope() as scope:
        scope.cancel()
        try:
            await send.aclose()
        finally:
            assert send.statistics().open_send_streams == 0
        pytest.fail("aclose() in a cancelled scope did not raise the cancellation")
    assert scope.cancelled_caught
    receive.close()


# -- clones -----------------------------------------------------------------------------------


def test_clones_share_the_stream_and_count_as_open_handles() -> None:
    send, receive = create_memory_object_stream[int](2)
    send_clone = send.clone()
    receive_clone = receive.clone()
    assert isinstance(send_clone, MemoryObjectSendStream)
    assert isinstance(receive_clone, MemoryObjectReceiveStream)
    stats = send.statistics()
    assert (stats.open_send_streams, stats.open_receive_streams) == (2, 2)
    send_clone.send_nowait(1)
    send.send_nowait(2)
    assert receive_clone.receive_nowait() == 1
    assert receive.receive_nowait() == 2
    for handle in (send, send_clone, receive, receive_clone):
        handle.close()
    stats = receive.statistics()
    assert (stats.open_send_streams, stats.open_receive_streams) == (0, 0)


def test_closing_a_clone_leaves_the_others_working() -> None:
    send, receive = create_memory_object_stream[int](2)
    clone = send.clone()
    clone.close()
    with send, receive:
        send.send_nowait(1)
        assert receive.receive_nowait() == 1
        with pytest.raises(WouldBlock):
            receive.receive_nowait()


# -- iteration --------------------------------------------------------------------------------


async def test_iteration_ends_when_every_sender_closed_and_buffer_drained() -> None:
    send, receive = create_memory_object_stream[int](10)
    clone = send.clone()
    for number in range(3):
        send.send_nowait(number)
    send.close()
    clone.send_nowait(3)
    received: list[int] = []
    async with receive:
        with anyio.fail_after(5):
            async with anyio.create_task_group() as tg:

                async def consume() -> None:
                    async for item in receive:
                        received.append(item)

                tg.start_soon(consume)
                await anyio.wait_all_tasks_blocked()
                assert received == [0, 1, 2, 3]  # still iterating: a clone is open
                clone.send_nowait(4)
                await clone.aclose()
    assert received == [0, 1, 2, 3, 4]


# -- statistics -------------------------------------------------------------------------------


async def test_statistics_track_buffer_handles_and_waiting_tasks() -> None:
    send, receive = create_memory_object_stream[int](1)
    stats = send.statistics()
    assert isinstance(stats, MemoryObjectStreamStatistics)
    assert stats == MemoryObjectStreamStatistics(
        current_buffer_used=0,
        max_buffer_size=1,
        open_send_streams=1,
        open_receive_streams=1,
        tasks_waiting_send=0,
        tasks_waiting_receive=0,
    )
    with send, receive, anyio.fail_after(5):
        async with anyio.create_task_group() as tg:
            for _ in range(2):
                tg.start_soon(receive.receive)
                await anyio.wait_all_tasks_blocked()
            assert receive.statistics().tasks_waiting_receive == 2
            send.send_nowait(1)
            send.send_nowait(2)
            await anyio.wait_all_tasks_blocked()
            assert receive.statistics().tasks_waiting_receive == 0
            send.send_nowait(3)
            for item in (4, 5):
                tg.start_soon(send.send, item)
                await anyio.wait_all_tasks_blocked()
            assert send.statistics() == MemoryObjectStreamStatistics(
                current_buffer_used=1,
                max_buffer_size=1,
                open_send_streams=1,
                open_receive_streams=1,
                tasks_waiting_send=2,
                tasks_waiting_receive=0,
            )
            assert [receive.receive_nowait() for _ in range(3)] == [3, 4, 5]


# -- unclosed handles -------------------------------------------------------------------------


def leak_a_send_end() -> None:
    send, receive = create_memory_object_stream[int]()
    receive.close()
    del send  # never closed
    gc.collect()


def leak_a_receive_end() -> None:
    send, receive = create_memory_object_stream[int]()
    send.close()
    del receive  # never closed
    gc.collect()


def test_an_unclosed_send_end_warns_when_collected() -> None:
    with pytest.warns(ResourceWarning, match="MemoryObjectSendStream"):
        leak_a_send_end()


def test_an_unclosed_receive_end_warns_when_collected() -> None:
    with pytest.warns(ResourceWarning, match="MemoryObjectReceiveStream"):
        leak_a_receive_end()


def test_closed_handles_do_not_warn_when_collected() -> None:
    # filterwarnings=error turns a stray ResourceWarning into a failure of this test.
    send, receive = create_memory_object_stream[int]()
    clone = send.clone()
    for handle in (send, receive, clone):
        handle.close()
    del send, receive, clone
    gc.collect()
