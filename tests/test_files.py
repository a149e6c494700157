"""The reference file streams, over regular files and, where AnyIO's fail, pipes and FIFOs.

Over a pipe or FIFO a waiting ``receive()`` or ``send()`` must obey cancellation without
losing bytes, and ``aclose()`` must wake it with ClosedResourceError and return (decision 6
in docs/design.rst). Waits are observed with ``wait_all_tasks_blocked()``, never with sleeps.
"""

from __future__ import annotations

import io
import os
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any

import anyio
import anyio.abc
import anyio.streams.file
import pytest

from streamspec import ByteReceiveStream, ByteSendStream
from streamspec.files import FileReadStream, FileStreamAttribute, FileWriteStream

pytestmark = pytest.mark.anyio

#: More than any Linux pipe buffer holds (64 KiB by default, 1 MiB at most unprivileged).
OVERFLOW = 4 * 1024 * 1024


@pytest.fixture
def pipe() -> Iterator[tuple[io.BufferedReader, io.BufferedWriter]]:
    """The two ends of an anonymous pipe as the file objects ``open()`` makes."""
    read_fd, write_fd = os.pipe()
    reader, writer = open(read_fd, "rb"), open(write_fd, "wb")  # noqa: SIM115
    with reader, writer:
        yield reader, writer


@pytest.fixture
async def pipe_streams(
    pipe: tuple[io.BufferedReader, io.BufferedWriter],
) -> AsyncIterator[tuple[FileWriteStream, FileReadStream]]:
    async with FileWriteStream(pipe[1]) as sender, FileReadStream(pipe[0]) as receiver:
        yield sender, receiver


@pytest.fixture
def fifo(tmp_path: Path) -> Path:
    path = tmp_path / "fifo"
    os.mkfifo(path)
    return path


async def receive_all(stream: ByteReceiveStream) -> bytes:
    return b"".join([chunk async for chunk in stream])


# -- regular files ----------------------------------------------------------------------------


def test_the_attribute_keys_are_anyios() -> None:
    assert FileStreamAttribute is anyio.streams.file.FileStreamAttribute


def test_the_streams_are_anyios_kinds() -> None:
    assert issubclass(FileReadStream, anyio.abc.ByteReceiveStream)
    assert issubclass(FileWriteStream, anyio.abc.ByteSendStream)


@pytest.mark.parametrize("as_str", [False, True], ids=["Path", "str"])
async def test_a_file_written_then_read_by_path(tmp_path: Path, as_str: bool) -> None:
    path = tmp_path / "data"
    async with await FileWriteStream.from_path(str(path) if as_str else path) as sender:
        await sender.send(b"hello ")
        await sender.send(bytearray(b"world"))  # type: ignore[arg-type]  # bytes-like will do
    async with await FileReadStream.from_path(str(path) if as_str else path) as receiver:
        assert await receiver.receive(3) == b"hel"
        assert await receive_all(receiver) == b"lo world"
        with pytest.raises(anyio.EndOfStream):
            await receiver.receive()


async def test_append_keeps_what_was_there(tmp_path: Path) -> None:
    path = tmp_path / "data"
    path.write_bytes(b"one,")
    async with await FileWriteStream.from_path(path, append=True) as sender:
        await sender.send(b"two")
    assert path.read_bytes() == b"one,two"
    async with await FileWriteStream.from_path(path) as sender:
        await sender.send(b"three")
    assert path.read_bytes() == b"three"


async def test_sent_bytes_are_in_the_file_before_aclose(tmp_path: Path) -> None:
    path = tmp_path / "data"
    async with await FileWriteStream.from_path(path) as sender:
        await sender.send(b"visible")
        assert path.read_bytes() == b"visible"


async def test_seek_and_tell(tmp_path: Path) -> None:
    path = tmp_path / "data"
    path.write_bytes(b"0123456789")
    async with await FileReadStream.from_path(path) as receiver:
        assert await receiver.seek(4) == 4
        assert await receiver.receive(2) == b"45"
        assert await receiver.tell() == 6
        assert await receiver.seek(-1, os.SEEK_END) == 9
        assert await receiver.receive() == b"9"


async def test_attributes_of_a_file_opened_by_path(tmp_path: Path) -> None:
    path = tmp_path / "data"
    path.write_bytes(b"x")
    async with await FileReadStream.from_path(path) as receiver:
        file = receiver.extra(FileStreamAttribute.file)
        assert receiver.extra(FileStreamAttribute.path) == path
        assert receiver.extra(FileStreamAttribute.fileno) == file.fileno()


async def test_attributes_of_a_file_without_name_or_descriptor() -> None:
    async with FileReadStream(io.BytesIO(b"abc")) as receiver:
        assert isinstance(receiver.extra(FileStreamAttribute.file), io.BytesIO)
        assert receiver.extra(FileStreamAttribute.path, None) is None
        assert receiver.extra(FileStreamAttribute.fileno, None) is None
        assert await receiver.receive() == b"abc"


async def test_a_cancelled_receive_consumes_nothing(tmp_path: Path) -> None:
    path = tmp_path / "data"
    path.write_bytes(b"abc")
    async with await FileReadStream.from_path(path) as receiver:
        with anyio.CancelScope() as scope:
            scope.cancel()
            await receiver.receive()
        assert scope.cancelled_caught
        assert await receiver.receive() == b"abc"


async def test_aclose_in_a_cancelled_scope_closes_the_file(tmp_path: Path) -> None:
    stream = await FileWriteStream.from_path(tmp_path / "data")
    file = stream.extra(FileStreamAttribute.file)
    with anyio.CancelScope() as scope:
        scope.cancel()
        await stream.aclose()
    assert scope.cancelled_caught
    assert file.closed


@pytest.mark.parametrize("kind", ["receive", "send", "seek", "tell"])
async def test_a_closed_stream_raises_closed(tmp_path: Path, kind: str) -> None:
    path = tmp_path / "data"
    path.write_bytes(b"abc")
    receiver = await FileReadStream.from_path(path)
    sender = await FileWriteStream.from_path(tmp_path / "out")
    await receiver.aclose()
    await sender.aclose()
    await receiver.aclose()  # a second close does nothing
    operations: dict[str, Callable[[], Awaitable[object]]] = {
        "receive": receiver.receive,
        "send": lambda: sender.send(b"x"),
        "seek": lambda: receiver.seek(0),
        "tell": receiver.tell,
    }
    with pytest.raises(anyio.ClosedResourceError):
        await operations[kind]()


# -- bad input ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "make",
    [
        lambda: FileReadStream("data.txt"),  # type: ignore[arg-type]
        lambda: FileReadStream(io.StringIO("text")),  # type: ignore[arg-type]
        lambda: FileWriteStream(None),  # type: ignore[arg-type]
        lambda: FileWriteStream(io.StringIO()),  # type: ignore[arg-type]
    ],
    ids=["str", "text-reader", "None", "text-writer"],
)
def test_a_file_that_is_no_binary_file_is_refused(make: Any) -> None:
    with pytest.raises(TypeError, match="file must be"):
        make()


async def test_bad_arguments_name_themselves(tmp_path: Path) -> None:
    with pytest.raises(TypeError, match="path must be"):
        await FileReadStream.from_path(3)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="append must be a bool"):
        await FileWriteStream.from_path(tmp_path / "x", append="yes")  # type: ignore[arg-type]
    async with FileReadStream(io.BytesIO(b"abc")) as receiver:
        with pytest.raises(ValueError, match="max_bytes"):
            await receiver.receive(0)
        with pytest.raises(TypeError, match="max_bytes"):
            await receiver.receive(1.5)  # type: ignore[arg-type]
        assert await receiver.receive() == b"abc"
    async with FileWriteStream(io.BytesIO()) as sender:
        with pytest.raises(TypeError, match="item must be bytes"):
            await sender.send("text")  # type: ignore[arg-type]


# -- pipes ----------------------------------------------------------------------------------


async def test_bytes_cross_a_pipe_and_its_end_is_the_streams(
    pipe_streams: tuple[FileWriteStream, FileReadStream],
) -> None:
    sender, receiver = pipe_streams
    payload = bytes(range(256)) * 1000  # more than the pipe holds: the sender waits for room

    async with anyio.create_task_group() as tg:

        async def send_then_close() -> None:
            await sender.send(payload)
            await sender.aclose()

        tg.start_soon(send_then_close)
        assert await receive_all(receiver) == payload
    with pytest.raises(anyio.EndOfStream):
        await receiver.receive()


async def test_a_pipe_has_no_positions(
    pipe_streams: tuple[FileWriteStream, FileReadStream],
) -> None:
    _, receiver = pipe_streams
    with pytest.raises(OSError, match="no positions"):
        await receiver.seek(0)
    with pytest.raises(OSError, match="no positions"):
        await receiver.tell()


async def test_a_waiting_receive_obeys_cancellation_and_loses_nothing(
    pipe_streams: tuple[FileWriteStream, FileReadStream],
) -> None:
    sender, receiver = pipe_streams
    with anyio.fail_after(10):
        async with anyio.create_task_group() as tg:
            scope = anyio.CancelScope()

            async def wait_in_scope() -> None:
                with scope:
                    await receiver.receive()
                    pytest.fail("receive() returned in a cancelled scope")

            tg.start_soon(wait_in_scope)
            await anyio.wait_all_tasks_blocked()
            scope.cancel()
        assert scope.cancelled_caught
        await sender.send(b"after")
        assert await receiver.receive() == b"after"


async def test_aclose_wakes_a_waiting_receive(
    pipe_streams: tuple[FileWriteStream, FileReadStream],
) -> None:
    _, receiver = pipe_streams
    with anyio.fail_after(10):
        async with anyio.create_task_group() as tg:

            async def receive_until_closed() -> None:
                with pytest.raises(anyio.ClosedResourceError):
                    await receiver.receive()

            tg.start_soon(receive_until_closed)
            await anyio.wait_all_tasks_blocked()
            await receiver.aclose()


async def test_aclose_wakes_a_send_waiting_for_room(
    pipe_streams: tuple[FileWriteStream, FileReadStream],
) -> None:
    sender, _ = pipe_streams
    with anyio.fail_after(10):
        async with anyio.create_task_group() as tg:

            async def send_until_closed() -> None:
                with pytest.raises(anyio.ClosedResourceError):
                    await sender.send(b"x" * OVERFLOW)

            tg.start_soon(send_until_closed)
            await anyio.wait_all_tasks_blocked()
            await sender.aclose()


async def test_a_send_cancelled_while_waiting_for_room_leaves_a_prefix(
    pipe_streams: tuple[FileWriteStream, FileReadStream],
) -> None:
    """As documented: the bytes that went out stay out, and they are the item's first ones."""
    sender, receiver = pipe_streams
    payload = bytes(range(256)) * (OVERFLOW // 256)
    with anyio.fail_after(10):
        async with anyio.create_task_group() as tg:
            scope = anyio.CancelScope()

            async def send_in_scope() -> None:
                with scope:
                    await sender.send(payload)

            tg.start_soon(send_in_scope)
            await anyio.wait_all_tasks_blocked()
            scope.cancel()
        assert scope.cancelled_caught
        await sender.aclose()
        received = await receive_all(receiver)
    assert 0 < len(received) < len(payload)
    assert payload.startswith(received)


async def test_a_send_to_a_pipe_nobody_reads_is_broken(
    pipe: tuple[io.BufferedReader, io.BufferedWriter],
) -> None:
    reader, writer = pipe
    reader.close()
    async with FileWriteStream(writer) as sender:
        with pytest.raises(anyio.BrokenResourceError):
            await sender.send(b"x")


async def test_bytes_the_file_object_buffered_come_first(
    pipe: tuple[io.BufferedReader, io.BufferedWriter],
) -> None:
    reader, writer = pipe
    writer.write(b"abcdef")
    writer.flush()
    assert reader.read(2) == b"ab"  # the file object now holds b"cdef" in its buffer
    writer.close()
    async with FileReadStream(reader) as receiver:
        assert await receive_all(receiver) == b"cdef"


async def test_bytes_the_file_object_held_are_written_first(
    pipe: tuple[io.BufferedReader, io.BufferedWriter],
) -> None:
    reader, writer = pipe
    writer.write(b"held ")  # in the file object's buffer, not yet in the pipe
    async with FileWriteStream(writer) as sender:
        await sender.send(b"sent")
    assert reader.read() == b"held sent"


async def test_the_descriptors_blocking_mode_is_restored_on_close(
    pipe: tuple[io.BufferedReader, io.BufferedWriter],
) -> None:
    reader, _ = pipe
    twin = os.dup(reader.fileno())  # shares the open file description, and so its mode
    try:
        receiver = FileReadStream(reader)
        assert not os.get_blocking(twin)
        await receiver.aclose()
        assert os.get_blocking(twin)
    finally:
        os.close(twin)


# -- FIFOs --------------------------------------------------------------------------------------


async def test_a_fifo_reader_waits_for_a_writer_instead_of_ending(fifo: Path) -> None:
    with anyio.fail_after(10):
        async with await FileReadStream.from_path(fifo) as receiver:
            async with anyio.create_task_group() as tg:
                received: list[bytes] = []

                async def read_all() -> None:
                    received.append(await receive_all(receiver))

                tg.start_soon(read_all)
                await anyio.wait_all_tasks_blocked()
                assert not received  # no writer yet: waiting, not at the end
                async with await FileWriteStream.from_path(fifo) as sender:
                    await sender.send(b"hello")
            assert received == [b"hello"]


async def test_aclose_wakes_a_fifo_receive(fifo: Path) -> None:
    receiver = await FileReadStream.from_path(fifo)
    with anyio.fail_after(10):
        async with anyio.create_task_group() as tg:

            async def receive_until_closed() -> None:
                with pytest.raises(anyio.ClosedResourceError):
                    await receiver.receive()

            tg.start_soon(receive_until_closed)
            await anyio.wait_all_tasks_blocked()
            await receiver.aclose()


async def test_a_fifo_receive_obeys_cancellation(fifo: Path) -> None:
    async with await FileReadStream.from_path(fifo) as receiver:
        with anyio.fail_after(10):
            async with anyio.create_task_group() as tg:
                tg.start_soon(receiver.receive)
                await anyio.wait_all_tasks_blocked()
                tg.cancel_scope.cancel()


async def test_opening_a_fifo_to_write_waits_for_a_reader_and_can_be_cancelled(
    fifo: Path,
) -> None:
    with anyio.fail_after(10):
        async with anyio.create_task_group() as tg:
            opened: list[FileWriteStream] = []

            async def open_writer() -> None:
                opened.append(await FileWriteStream.from_path(fifo))

            tg.start_soon(open_writer)
            await anyio.wait_all_tasks_blocked()
            assert not opened  # no reader yet: waiting
            tg.cancel_scope.cancel()
        assert not opened
        # Nothing is left holding the FIFO: a reader and a writer pair up as usual, and the
        # writer's close is the reader's end.
        async with await FileReadStream.from_path(fifo) as receiver:
            async with await FileWriteStream.from_path(fifo) as sender:
                await sender.send(b"data")
            assert await receive_all(receiver) == b"data"


async def test_a_fifo_writer_opened_first_meets_its_reader(fifo: Path) -> None:
    with anyio.fail_after(10):
        async with anyio.create_task_group() as tg:

            async def write() -> None:
                async with await FileWriteStream.from_path(fifo) as sender:
                    await sender.send(b"first")

            tg.start_soon(write)
            await anyio.wait_all_tasks_blocked()
            async with await FileReadStream.from_path(fifo) as receiver:
                assert await receive_all(receiver) == b"first"


# -- roles --------------------------------------------------------------------------------------


def test_the_streams_fit_the_byte_roles(
    pipe: tuple[io.BufferedReader, io.BufferedWriter],
) -> None:
    receiver: ByteReceiveStream = FileReadStream(io.BytesIO())
    sender: ByteSendStream = FileWriteStream(io.BytesIO())
    assert isinstance(receiver, ByteReceiveStream)
    assert isinstance(sender, ByteSendStream)
