"""The built-in targets: ``streamspec`` (the reference implementation) and ``anyio``.

The ``anyio`` target names AnyIO's stream classes, its TCP streams and listener, and its
streams over the operating system (:mod:`.targets_anyio_os`): UNIX stream and datagram
sockets, UDP sockets, a child process's pipes and file streams over a FIFO.

These are the only places where the suite names an implementation; the checks themselves
receive a :class:`~.target.Target` and never import one. AnyIO's known divergences are listed
here as data, each with the reason and where it is discussed.
"""

from __future__ import annotations

import math
import os
import tempfile
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import anyio
import anyio.abc
import anyio.streams.buffered
import anyio.streams.stapled
import anyio.streams.text
import anyio.streams.tls

from .. import buffered, files, memory, stapled, text, tls
from ..protocols import ByteReceiveStream, ByteSendStream, ByteStream, Listener
from .target import Divergence, Target
from .targets_anyio_os import (
    anyio_fifo,
    anyio_process_pipe,
    anyio_udp_socket_pair,
    anyio_unix_datagram_socket_pair,
    anyio_unix_stream_pair,
)

__all__ = [
    "ANYIO",
    "ANYIO_DIVERGENCES",
    "STREAMSPEC",
    "anyio_tcp_listener",
    "anyio_tcp_stream_pair",
    "streamspec_memory_as_unreliable",
    "file_streams_over_a_fifo",
    "file_streams_over_a_pipe",
]


@asynccontextmanager
async def streamspec_memory_as_unreliable() -> AsyncIterator[tuple[Any, Any]]:
    """A memory object stream of the reference, as an unreliable object stream: a reliable
    stream keeps every promise an unreliable one makes."""
    send, receive = memory.create_memory_object_stream[Any](math.inf)
    async with send, receive:
        yield send, receive


@asynccontextmanager
async def file_streams_over_a_pipe() -> AsyncIterator[tuple[ByteSendStream, ByteReceiveStream]]:
    """The reference file streams on the two ends of an OS pipe."""
    read_fd, write_fd = os.pipe()
    # Wrapping a pipe end opens nothing and never blocks.
    sender = files.FileWriteStream(open(write_fd, "wb"))  # noqa: SIM115, ASYNC230
    receiver = files.FileReadStream(open(read_fd, "rb"))  # noqa: SIM115, ASYNC230
    async with sender, receiver:
        yield sender, receiver


@asynccontextmanager
async def file_streams_over_a_fifo() -> AsyncIterator[tuple[ByteSendStream, ByteReceiveStream]]:
    """The reference file streams on a FIFO, both opened with ``from_path``: the reader first,
    which does not wait for a writer, then the writer, which finds the reader there."""
    with tempfile.TemporaryDirectory(prefix="streamspec-fifo-") as folder:
        path = Path(folder) / "fifo"
        os.mkfifo(path)
        async with (
            await files.FileReadStream.from_path(path) as receiver,
            await files.FileWriteStream.from_path(path) as sender,
        ):
            yield sender, receiver


STREAMSPEC = Target.from_namespace(
    SimpleNamespace(
        create_memory_object_stream=memory.create_memory_object_stream,
        StapledByteStream=stapled.StapledByteStream,
        StapledObjectStream=stapled.StapledObjectStream,
        MultiListener=stapled.MultiListener,
        BufferedByteReceiveStream=buffered.BufferedByteReceiveStream,
        BufferedByteStream=buffered.BufferedByteStream,
        TextReceiveStream=text.TextReceiveStream,
        TextSendStream=text.TextSendStream,
        TextStream=text.TextStream,
        TLSStream=tls.TLSStream,
        TLSListener=tls.TLSListener,
    ),
    name="streamspec",
    unreliable_object_stream=streamspec_memory_as_unreliable,
    one_way_byte_stream={
        "file streams over a pipe": file_streams_over_a_pipe,
        "file streams over a FIFO": file_streams_over_a_fifo,
    },
)

_ANYIO_SOURCE = "https://github.com/agronholm/anyio/blob/4.16.0/src/anyio/streams/"

#: Rules that AnyIO 4.16 breaks, found by running ``streamspec check anyio``; each closing
#: note of the suite's issue has a standalone reproduction.
ANYIO_DIVERGENCES: tuple[Divergence, ...] = (
    Divergence(
        "ASYNC-CHECKPOINT",
        "BufferedByteReceiveStream serves receive() and receive_exactly() from its buffer "
        "without a checkpoint, so a cancelled scope does not stop them and they consume data "
        "(TextReceiveStream likewise, with text ready). "
        "On asyncio, a child process's stdout receive() returns data already buffered inside "
        "a cancelled scope. TLSStream.send() has "
        "no checkpoint before its work: in a cancelled scope the cancellation reaches it inside "
        "the transport's send, which leaves the TLS stream broken. Reproduce: over a TLSStream "
        "on a loopback TCP connection, send(b'lost') inside a cancelled CancelScope, then "
        "send(b'kept'): it raises BrokenResourceError.",
        _ANYIO_SOURCE + "buffered.py",
    ),
    Divergence(
        "BYTE-CLOSED",
        "send_eof() after aclose() does not raise ClosedResourceError: StapledByteStream closes "
        "its closed send half again, which succeeds silently, a TCP SocketStream returns "
        "on asyncio and raises a bare OSError (EBADF) on Trio, and a UNIX socket stream raises "
        "a bare OSError (EBADF) on both.",
        _ANYIO_SOURCE + "stapled.py",
    ),
    Divergence(
        "BYTE-CLOSED-WAKES",
        "FileReadStream over a FIFO: aclose() does not wake a receive() waiting in its worker "
        "thread; the receive() ends only when the writer sends or closes (and aclose() itself "
        "waits for it, behind the file's lock).",
        _ANYIO_SOURCE + "file.py",
    ),
    Divergence(
        "BYTE-SEND-DELIVERS",
        "FileWriteStream over a FIFO: send() writes into the file object's buffer and never "
        "flushes it, so the data reaches the reader only when the writer is closed. "
        "Reproduce: over os.mkfifo(), FileWriteStream.from_path() and "
        "FileReadStream.from_path(); await writer.send(b'x'); a reader.receive() then waits "
        "until writer.aclose().",
        _ANYIO_SOURCE + "file.py",
    ),
    Divergence(
        "BYTE-RECEIVE-CANCELLED",
        "FileReadStream over a FIFO: a waiting receive() runs in a worker thread that "
        "cancellation cannot stop; it returns the next data sent, inside its cancelled scope.",
        _ANYIO_SOURCE + "file.py",
    ),
    Divergence(
        "MEM-CANCEL-NO-LOSS",
        "A blocked send() whose scope is cancelled stays on the waiting list until it resumes; "
        "a receiver can take its item in between, and send() then raises the cancellation for "
        "an item that was delivered, so a retrying sender duplicates it.",
        "https://github.com/agronholm/anyio/pull/147",
    ),
    Divergence(
        "MEM-NATIVE-CANCEL-NO-LOSS",
        "An item handed to a waiting receiver is lost when that task is cancelled with "
        "asyncio's Task.cancel() before it resumes: only cancel scopes pass the item on.",
        _ANYIO_SOURCE + "memory.py",
    ),
    Divergence(
        "STAPLED-ACLOSE-BOTH",
        "StapledByteStream.aclose() closes the send half and, when that raises, never closes "
        "the receive half.",
        _ANYIO_SOURCE + "stapled.py",
    ),
    Divergence(
        "TLS-ACLOSE-QUIET",
        "With standard_compatible=True, TLSStream.aclose() raises what its closing handshake "
        "ran into: BrokenResourceError when the peer's transport is gone, BusyResourceError "
        "when another task is receiving (it reads the transport to wait for the peer's "
        "close_notify). After an aclose() in a cancelled scope, receive() raises "
        "BrokenResourceError instead of ClosedResourceError, and after a completed one, "
        "send() raises ssl.SSLError (PROTOCOL_IS_SHUTDOWN).",
        _ANYIO_SOURCE + "tls.py",
    ),
    Divergence(
        "BUF-UNTIL-NOT-FOUND",
        "receive_until() searches the whole buffer before applying max_bytes, so the same bytes "
        "return data in one chunk and raise DelimiterNotFound in two.",
        "https://github.com/agronholm/anyio/pull/1340",
    ),
    Divergence(
        "BYTE-SEND-AFTER-EOF",
        "On asyncio, SocketStream.send() after send_eof() raises asyncio's RuntimeError "
        "('Cannot call write() after write_eof()') instead of an AnyIO exception. "
        "Reproduce: connect_tcp() to a local listener, await send_eof(), await send(b'x').",
        "https://github.com/agronholm/anyio/blob/4.16.0/src/anyio/_backends/_asyncio.py",
        backends=("asyncio",),
    ),
    Divergence(
        "BYTE-SEND-PEER-CLOSED",
        "On asyncio, aclose() of a child process's stdout stream does not close the pipe, so "
        "the child never learns that its reader is gone: cat goes on holding its output and "
        "stops reading, and a send() to its stdin blocks instead of raising "
        "BrokenResourceError (on Trio it raises). Reproduce: open_process(['cat']), "
        "await process.stdout.aclose(), then send 64 KiB chunks to process.stdin: it blocks "
        "after about 450 KiB.",
        "https://github.com/agronholm/anyio/blob/4.16.0/src/anyio/_backends/_asyncio.py",
        backends=("asyncio",),
    ),
    Divergence(
        "BUF-ARGS",
        "receive_exactly() accepts a negative nbytes (returning all but the last buffered "
        "bytes) and receive_until() an empty delimiter.",
        "https://github.com/agronholm/anyio/issues/1081",
    ),
)


@asynccontextmanager
async def anyio_tcp_stream_pair() -> AsyncIterator[tuple[ByteStream, ByteStream]]:
    """Both ends of a loopback TCP connection made by AnyIO: its most used byte stream."""
    # create_tcp_listener() returns a MultiListener; on 127.0.0.1 it holds exactly one.
    async with await anyio.create_tcp_listener(local_host="127.0.0.1") as listeners:
        (listener,) = listeners.listeners
        assert isinstance(listener, anyio.abc.SocketListener)
        port = listener.extra(anyio.abc.SocketAttribute.local_port)
        client = await anyio.connect_tcp("127.0.0.1", port)
        try:
            server = await listener.accept()
        except BaseException:
            await anyio.aclose_forcefully(client)
            raise
    async with client, server:
        yield client, server


@asynccontextmanager
async def anyio_tcp_listener() -> AsyncIterator[
    tuple[Listener[ByteStream], Callable[[], Awaitable[ByteStream]]]
]:
    """An AnyIO TCP listener on a loopback port, and a way to connect to it."""
    async with await anyio.create_tcp_listener(local_host="127.0.0.1") as listener:
        port = listener.extra(anyio.abc.SocketAttribute.local_port)

        async def connect() -> ByteStream:
            return await anyio.connect_tcp("127.0.0.1", port)

        yield listener, connect


ANYIO = Target.from_namespace(
    SimpleNamespace(
        create_memory_object_stream=anyio.create_memory_object_stream,
        StapledByteStream=anyio.streams.stapled.StapledByteStream,
        StapledObjectStream=anyio.streams.stapled.StapledObjectStream,
        MultiListener=anyio.streams.stapled.MultiListener,
        BufferedByteReceiveStream=anyio.streams.buffered.BufferedByteReceiveStream,
        BufferedByteStream=anyio.streams.buffered.BufferedByteStream,
        TextReceiveStream=anyio.streams.text.TextReceiveStream,
        TextSendStream=anyio.streams.text.TextSendStream,
        TextStream=anyio.streams.text.TextStream,
        TLSStream=anyio.streams.tls.TLSStream,
        TLSListener=anyio.streams.tls.TLSListener,
    ),
    name="anyio",
    known_divergences=ANYIO_DIVERGENCES,
    byte_stream_pair={
        "TCP socket pair": anyio_tcp_stream_pair,
        "UNIX socket pair": anyio_unix_stream_pair,
    },
    one_way_byte_stream={
        "process pipe (cat)": anyio_process_pipe,
        "file streams over a FIFO": anyio_fifo,
    },
    unreliable_object_stream={
        "UDP socket pair": anyio_udp_socket_pair,
        "UNIX datagram socket pair": anyio_unix_datagram_socket_pair,
    },
    object_items="bytes",  # datagram sockets carry bytes; memory streams carry any object
    listener=anyio_tcp_listener,
)
