"""AnyIO's streams over the operating system, as factories of the built-in ``anyio`` target.

Each factory opens a fresh, private instance and closes it however the check ends:

* :func:`anyio_udp_socket_pair`, :func:`anyio_unix_datagram_socket_pair`: two connected
  datagram sockets (UDP on 127.0.0.1, and a UNIX ``socketpair``), the first sending to the
  second, as an unreliable object stream of ``bytes``;
* :func:`anyio_unix_stream_pair`: both ends of a UNIX stream ``socketpair``, a byte pair;
* :func:`anyio_process_pipe`: ``cat`` run by :func:`anyio.open_process`, its stdin the send
  end and its stdout the receive end of a one-way byte stream;
* :func:`anyio_fifo`: AnyIO's file streams over a FIFO made in a temporary folder, the write
  stream the send end and the read stream the receive end.

Only loopback addresses and UNIX sockets are used. A child process is killed and reaped when
its factory exits; one left behind by a check that was abandoned as hung (whose clean-up never
runs) is killed and reaped when the interpreter exits.
"""

from __future__ import annotations

import atexit
import os
import shutil
import signal
import socket
import tempfile
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager, suppress
from pathlib import Path
from typing import Any

import anyio
import anyio.abc
from anyio.streams.file import FileReadStream, FileWriteStream

from ..protocols import (
    ByteReceiveStream,
    ByteSendStream,
    ByteStream,
    UnreliableObjectReceiveStream,
    UnreliableObjectSendStream,
)
from .subjects import close_quietly

__all__ = [
    "anyio_fifo",
    "anyio_process_pipe",
    "anyio_udp_socket_pair",
    "anyio_unix_datagram_socket_pair",
    "anyio_unix_stream_pair",
]

_DatagramEnds = tuple[UnreliableObjectSendStream[Any], UnreliableObjectReceiveStream[Any]]


def _connected_udp_sockets() -> tuple[socket.socket, socket.socket]:
    """Two UDP sockets on 127.0.0.1, each connected to the other."""
    first = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    second = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        for sock in (first, second):
            sock.bind(("127.0.0.1", 0))
        first.connect(second.getsockname())
        second.connect(first.getsockname())
    except BaseException:
        first.close()
        second.close()
        raise
    return first, second


@asynccontextmanager
async def anyio_udp_socket_pair() -> AsyncIterator[_DatagramEnds]:
    """Two connected UDP sockets of AnyIO on 127.0.0.1: the first sends to the second."""
    first, second = _connected_udp_sockets()
    async with (
        await anyio.abc.ConnectedUDPSocket.from_socket(first) as sender,
        await anyio.abc.ConnectedUDPSocket.from_socket(second) as receiver,
    ):
        yield sender, receiver


@asynccontextmanager
async def anyio_unix_datagram_socket_pair() -> AsyncIterator[_DatagramEnds]:
    """Both ends of a UNIX datagram ``socketpair``, as AnyIO's connected UNIX datagram
    sockets: the first sends to the second."""
    first, second = socket.socketpair(socket.AF_UNIX, socket.SOCK_DGRAM)
    async with (
        await anyio.abc.ConnectedUNIXDatagramSocket.from_socket(first) as sender,
        await anyio.abc.ConnectedUNIXDatagramSocket.from_socket(second) as receiver,
    ):
        yield sender, receiver


@asynccontextmanager
async def anyio_unix_stream_pair() -> AsyncIterator[tuple[ByteStream, ByteStream]]:
    """Both ends of a UNIX stream ``socketpair``, as AnyIO's UNIX socket streams."""
    first, second = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
    async with (
        await anyio.abc.UNIXSocketStream.from_socket(first) as left,
        await anyio.abc.UNIXSocketStream.from_socket(second) as right,
    ):
        yield left, right


#: Process IDs of the children started here and not yet reaped.
_CHILDREN: set[int] = set()


def _reap_left_behind() -> None:
    # The children of checks abandoned as hung: their factories' clean-up never ran.
    for pid in list(_CHILDREN):
        with suppress(OSError):
            os.kill(pid, signal.SIGKILL)
        with suppress(OSError):
            os.waitpid(pid, 0)
        _CHILDREN.discard(pid)


atexit.register(_reap_left_behind)


@asynccontextmanager
async def anyio_process_pipe() -> AsyncIterator[tuple[ByteSendStream, ByteReceiveStream]]:
    """``cat`` started by :func:`anyio.open_process`: what is sent to its stdin comes back
    from its stdout, and closing stdin ends the data."""
    cat = shutil.which("cat")
    if cat is None:
        raise RuntimeError("no 'cat' on PATH: the process pipe subject needs it")
    process = await anyio.open_process([cat])
    _CHILDREN.add(process.pid)
    try:
        assert process.stdin is not None
        assert process.stdout is not None
        yield process.stdin, process.stdout
    finally:
        with anyio.CancelScope(shield=True):
            await close_quietly(process.stdin, process.stdout)  # type: ignore[arg-type]
            with suppress(ProcessLookupError):
                process.kill()
            with anyio.move_on_after(5):
                await process.wait()
                _CHILDREN.discard(process.pid)
            await close_quietly(process)


@asynccontextmanager
async def anyio_fifo() -> AsyncIterator[tuple[ByteSendStream, ByteReceiveStream]]:
    """AnyIO's file streams over a FIFO: FileWriteStream writes, FileReadStream reads."""
    with tempfile.TemporaryDirectory(prefix="streamspec-fifo-") as folder:
        path = Path(folder) / "fifo"
        os.mkfifo(path)
        ends: dict[str, Any] = {}

        async def open_end(name: str, opener: Any) -> None:
            ends[name] = await opener(path)

        # Opening one end of a FIFO blocks until the other end is opened too.
        try:
            async with anyio.create_task_group() as tg:
                tg.start_soon(open_end, "read", FileReadStream.from_path)
                tg.start_soon(open_end, "write", FileWriteStream.from_path)
            yield ends["write"], ends["read"]
        finally:
            # The writer first: a read blocked in a worker thread ends when it sees the end,
            # and only then can the reader be closed (closing waits for that read).
            await close_quietly(*(ends[name] for name in ("write", "read") if name in ends))
