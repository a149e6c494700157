"""File streams: a byte stream that reads a file, and one that writes one.

A drop-in for :mod:`anyio.streams.file` (same names, signatures and attribute keys), also
correct where AnyIO's is not: over pipes, FIFOs, terminals and sockets.

How a file is read or written depends on what it is, found once, when the stream is made:

* A **regular file** (or block device, or a file object without a descriptor) never makes a
  reader wait for a writer, so each ``receive()``/``send()`` runs the file object's own
  ``read``/``write`` in a worker thread, as AnyIO does. The thread is never abandoned: a
  cancelled call waits for it, returns its result and leaves the cancellation to the caller's
  next checkpoint, so no byte read is dropped and no byte written is reported unwritten.
* Anything else that :func:`select.select` can wait on (a **pipe or FIFO**, a terminal, a
  socket), opened as a plain :func:`open` file object, is switched to non-blocking mode and
  read and written with :func:`os.read`/:func:`os.write` on the event loop, waiting with
  :func:`anyio.wait_readable`/:func:`anyio.wait_writable`. A waiting call is then a plain
  cancellation point, and :meth:`~FileReadStream.aclose` wakes it with
  :exc:`~anyio.ClosedResourceError` (:func:`anyio.notify_closing`; decision 6 in
  docs/design.rst). A worker thread blocked in ``read()`` on a pipe could not be interrupted:
  that is why AnyIO's ``receive()`` on a FIFO ignores cancellation and its ``aclose()`` never
  returns.
"""

from __future__ import annotations

import errno
import io
import os
import stat
import threading
from collections.abc import Callable, Mapping
from io import SEEK_SET
from os import PathLike
from pathlib import Path
from typing import IO, Any

import anyio
import anyio.abc
import anyio.to_thread
from anyio.streams.file import FileStreamAttribute

from ._args import count
from ._parking import pending_cancellation

__all__ = ["FileReadStream", "FileStreamAttribute", "FileWriteStream"]

# The file objects whose reads and writes are exactly the descriptor's, so that the stream may
# bypass them and use the descriptor itself. A GzipFile, say, also has a fileno(), but its
# bytes are not the descriptor's.
_PLAIN_FILES = (io.FileIO, io.BufferedReader, io.BufferedWriter)


def _pollable_descriptor(file: IO[bytes]) -> int | None:
    """The descriptor to use in non-blocking mode, or None to use ``file`` in a worker thread:
    for a regular file, a block device, a file object that is not a plain one, or one without
    a descriptor."""
    if not isinstance(file, _PLAIN_FILES) or file.closed:
        return None
    fd = file.fileno()
    mode = os.fstat(fd).st_mode
    return None if stat.S_ISREG(mode) or stat.S_ISBLK(mode) else fd


def _check_binary(file: object, method: str) -> None:
    """Raise a TypeError naming ``file`` unless it is a binary file object with ``method``."""
    if isinstance(file, io.TextIOBase) or not callable(getattr(file, method, None)):
        raise TypeError(
            f"file must be a file object opened in binary mode with a {method}() method, "
            f"not {type(file).__name__}"
        )


def _as_path(path: str | PathLike[str]) -> Path:
    """``path`` as a Path, or a TypeError naming it."""
    if not isinstance(path, (str, PathLike)):
        raise TypeError(f"path must be a str or an os.PathLike, not {type(path).__name__}")
    return Path(path)


def _open_nonblocking(path: str, flags: int) -> int:
    """An ``opener`` for :func:`open` that adds ``O_NONBLOCK``, so that opening a FIFO does not
    wait for the other end; a regular file goes back to blocking mode (it reads the same
    either way, but a user of ``FileStreamAttribute.file`` should find it as ``open()`` makes
    it)."""
    fd = os.open(path, flags | os.O_NONBLOCK)
    if stat.S_ISREG(os.fstat(fd).st_mode):
        os.set_blocking(fd, True)
    return fd


class _FileStream:
    """What both file streams share: the file, the way to use it, closing and attributes."""

    def __init__(self, file: IO[bytes]) -> None:
        self._file = file
        self._closed = False
        #: The descriptor used directly, in non-blocking mode (None: the file in a thread).
        self._fd = _pollable_descriptor(file)
        #: The descriptor's blocking mode before the stream changed it, restored on close,
        #: since other processes (a shell sharing a terminal) may share that mode.
        self._was_blocking = True
        if self._fd is not None:
            self._was_blocking = os.get_blocking(self._fd)
            os.set_blocking(self._fd, False)

    async def aclose(self) -> None:
        """Close the file. A task blocked in ``receive()`` or ``send()`` on a pipe, FIFO,
        terminal or socket is woken with :exc:`~anyio.ClosedResourceError`; one working on a
        regular file in a worker thread finishes first. The file is closed also in a
        cancelled scope, which then raises the cancellation."""
        if not self._closed:
            self._closed = True
            if self._fd is None:
                # A regular file's close may flush a write buffer: not on the event loop.
                with anyio.CancelScope(shield=True):
                    await anyio.to_thread.run_sync(self._file.close)
            else:
                anyio.notify_closing(self._fd)
                if self._was_blocking:
                    os.set_blocking(self._fd, True)
                self._file.close()  # nothing is buffered in the file object: it does not wait
        if (pending := pending_cancellation()) is not None:
            await pending

    @property
    def extra_attributes(self) -> Mapping[Any, Callable[[], Any]]:
        """:class:`FileStreamAttribute`: ``file`` always; ``path`` when the file was opened by
        name; ``fileno`` when it has a descriptor."""
        attributes: dict[Any, Callable[[], Any]] = {FileStreamAttribute.file: lambda: self._file}
        name = getattr(self._file, "name", None)
        if isinstance(name, (str, PathLike)):
            attributes[FileStreamAttribute.path] = lambda: Path(name)
        try:
            fileno = self._file.fileno()
        except (OSError, ValueError):  # io.UnsupportedOperation is both; closed is ValueError
            pass
        else:
            attributes[FileStreamAttribute.fileno] = lambda: fileno
        return attributes

    def _check_open(self) -> None:
        if self._closed:
            raise anyio.ClosedResourceError


class FileReadStream(_FileStream, anyio.abc.ByteReceiveStream):
    """A byte stream that reads a file, as :class:`streamspec.ByteReceiveStream` describes,
    with :meth:`seek` and :meth:`tell` for files that have positions.

    On a pipe, FIFO, terminal or socket, a waiting ``receive()`` is a plain cancellation point
    that consumes nothing, and ``aclose()`` wakes it (see the module docstring). The descriptor
    is in non-blocking mode while the stream is open; bytes the file object had already
    buffered come first.

    :param file: a file opened for reading in binary mode; the stream owns it and closes it.
    :raises TypeError: ``file`` is not a binary file object with a ``read()`` method.
    """

    def __init__(self, file: IO[bytes]) -> None:
        _check_binary(file, "read")
        super().__init__(file)
        # What the file object had buffered before the stream bypassed it.
        self._pending = b""
        self._fifo = self._fd is not None and stat.S_ISFIFO(os.fstat(self._fd).st_mode)
        if self._fd is not None and isinstance(file, io.BufferedReader):
            # Now non-blocking, peek() returns the buffer, or reads once if it is empty.
            self._pending = file.read1(len(file.peek()))

    @classmethod
    async def from_path(cls, path: str | PathLike[str]) -> FileReadStream:
        """Open the file at ``path`` for reading.

        Opening a FIFO does not wait for a writer; ``receive()`` does.

        :raises TypeError: ``path`` is not a str or path.
        :raises OSError: the file cannot be opened.
        """
        file = await anyio.to_thread.run_sync(
            lambda: open(_as_path(path), "rb", opener=_open_nonblocking)  # noqa: SIM115
        )
        return cls(file)

    async def receive(self, max_bytes: int = 65536) -> bytes:
        """Return the next bytes of the file, at most ``max_bytes``.

        :raises TypeError: ``max_bytes`` is not an integer.
        :raises ValueError: ``max_bytes`` is less than 1. [BYTE-MAX-BYTES-INVALID]
        :raises ~anyio.EndOfStream: the file is at its end, or every writer of the pipe or
            FIFO has closed it.
        :raises ~anyio.ClosedResourceError: the stream was closed, before the call or while
            it waited. [BYTE-CLOSED]
        :raises ~anyio.BrokenResourceError: reading failed (the :exc:`OSError` is the cause).
        """
        if type(max_bytes) is not int or max_bytes < 1:
            max_bytes = count("max_bytes", max_bytes, 1)
        self._check_open()
        if (pending := pending_cancellation()) is not None:
            await pending
        if self._fd is None:
            data = await self._read_in_thread(max_bytes)
        elif self._pending:
            data, self._pending = self._pending[:max_bytes], self._pending[max_bytes:]
        else:
            data = await self._read_when_ready(self._fd, max_bytes)
        if not data:
            raise anyio.EndOfStream
        return data

    async def _read_in_thread(self, max_bytes: int) -> bytes:
        try:
            return await anyio.to_thread.run_sync(self._file.read, max_bytes)
        except ValueError:  # the file was closed meanwhile
            raise anyio.ClosedResourceError from None
        except OSError as exc:
            raise anyio.BrokenResourceError from exc

    async def _read_when_ready(self, fd: int, max_bytes: int) -> bytes:
        """Read at once if bytes are there, else wait for them; ``b""`` at the end.

        A FIFO that no writer has opened yet also reads as ``b""``, though its data is still to
        come; readiness tells the two apart (Linux reports a hang-up only after a writer has
        come and gone), so an empty read of a FIFO counts as the end only after a wait.
        """
        waited = not self._fifo
        while True:
            try:
                data = os.read(fd, max_bytes)
            except BlockingIOError:
                data = None
            except OSError as exc:
                raise anyio.BrokenResourceError from exc
            if data or (data is not None and waited):
                return data
            await anyio.wait_readable(fd)  # ClosedResourceError if aclose() comes first
            self._check_open()
            waited = True

    async def seek(self, position: int, whence: int = SEEK_SET) -> int:
        """Move to ``position`` (as :meth:`io.IOBase.seek` does) and return the new absolute
        position.

        :raises ~anyio.ClosedResourceError: the stream was closed.
        :raises OSError: the file has no positions (a pipe, say).
        """
        self._check_open()
        if (pending := pending_cancellation()) is not None:
            await pending
        if self._fd is not None:
            raise io.UnsupportedOperation("seek: a pipe, terminal or socket has no positions")
        return await anyio.to_thread.run_sync(self._file.seek, position, whence)

    async def tell(self) -> int:
        """Return the current absolute position.

        :raises ~anyio.ClosedResourceError: the stream was closed.
        :raises OSError: the file has no positions (a pipe, say).
        """
        self._check_open()
        if (pending := pending_cancellation()) is not None:
            await pending
        if self._fd is not None:
            raise io.UnsupportedOperation("tell: a pipe, terminal or socket has no positions")
        return await anyio.to_thread.run_sync(self._file.tell)


class FileWriteStream(_FileStream, anyio.abc.ByteSendStream):
    """A byte stream that writes a file, as :class:`streamspec.ByteSendStream` describes.

    On a pipe, FIFO, terminal or socket, ``send()`` writes what the pipe takes and waits for
    room for the rest; ``aclose()`` wakes a waiting ``send()`` (see the module docstring).
    A cancelled ``send()`` wrote nothing if it was cancelled before the first byte went out;
    cancelled while it waited for room, it had already written a prefix of ``item``, which
    stays written: the bytes cannot be taken back, so the reader gets that prefix, and the
    stream is then in an unknown state, as a socket after a cancelled send is. On a regular
    file a ``send()`` that started is never cut short, and when it returns its bytes are in
    the file (flushed from the file object's buffer), where readers see them.

    :param file: a file opened for writing in binary mode; the stream owns it and closes it.
        Bytes the file object holds in its buffer are written out first (a blocking write).
    :raises TypeError: ``file`` is not a binary file object with a ``write()`` method.
    """

    def __init__(self, file: IO[bytes]) -> None:
        _check_binary(file, "write")
        if isinstance(file, _PLAIN_FILES) and not file.closed:
            file.flush()  # before any byte the stream writes past the file object
        super().__init__(file)

    @classmethod
    async def from_path(cls, path: str | PathLike[str], append: bool = False) -> FileWriteStream:
        """Open the file at ``path`` for writing: appending if ``append``, else truncating it
        (a file that does not exist is created).

        Opening a FIFO waits, as :func:`open` does, until a reader opens it; cancelling that
        wait works.

        :raises TypeError: ``path`` is not a str or path, or ``append`` is not a bool.
        :raises OSError: the file cannot be opened.
        """
        if not isinstance(append, bool):
            raise TypeError(f"append must be a bool, not {type(append).__name__}")
        file_path, mode = _as_path(path), ("ab" if append else "wb")

        def open_without_waiting() -> IO[bytes] | None:
            try:
                return open(file_path, mode, opener=_open_nonblocking)
            except OSError as exc:
                if exc.errno == errno.ENXIO:  # a FIFO with no reader
                    return None
                raise

        file = await anyio.to_thread.run_sync(open_without_waiting)
        if file is None:
            file = await _open_when_read(file_path, mode)
        return cls(file)

    async def send(self, item: bytes) -> None:
        """Write all of ``item``.

        :raises TypeError: ``item`` is not bytes-like; nothing is written.
        :raises ~anyio.ClosedResourceError: the stream was closed, before the call or while it
            waited for room. [BYTE-CLOSED]
        :raises ~anyio.BrokenResourceError: writing failed, as when every reader of a pipe has
            closed it (the :exc:`OSError` is the cause).
        """
        try:
            view = memoryview(item).cast("B")
        except TypeError:
            raise TypeError(f"item must be bytes, not {type(item).__name__}") from None
        self._check_open()
        if (pending := pending_cancellation()) is not None:
            await pending
        if self._fd is None:
            await self._write_in_thread(view)
        else:
            await self._write_when_ready(self._fd, view)

    async def _write_in_thread(self, view: memoryview) -> None:
        def write_all() -> None:
            rest = view
            while rest:  # a raw file may take less than all
                rest = rest[self._file.write(rest) :]
            # Sent means in the file, where its readers see it (AnyIO's stays in the file
            # object's buffer until aclose()); the flush costs nothing beside the thread hop.
            self._file.flush()

        try:
            await anyio.to_thread.run_sync(write_all)
        except ValueError:  # the file was closed meanwhile
            raise anyio.ClosedResourceError from None
        except OSError as exc:
            raise anyio.BrokenResourceError from exc

    async def _write_when_ready(self, fd: int, view: memoryview) -> None:
        while view:
            try:
                view = view[os.write(fd, view) :]
            except BlockingIOError:
                await anyio.wait_writable(fd)  # ClosedResourceError if aclose() comes first
                self._check_open()
            except OSError as exc:
                raise anyio.BrokenResourceError from exc


async def _open_when_read(path: Path, mode: str) -> IO[bytes]:
    """Open the FIFO at ``path`` for writing, waiting in a worker thread until a reader opens
    it, as :func:`open` does, but cancellably.

    A thread blocked in ``open()`` cannot be interrupted; it can be released. On cancellation
    this task opens the FIFO for reading itself, which lets the thread's ``open()`` return,
    waits for the thread (now quick) and closes both ends.
    """
    opened: list[IO[bytes]] = []
    finished = threading.Event()
    # "waiting" until the worker starts; then "opening", or "abandoned" if cancelled first
    # (the worker may start after the cancellation, or never: do not wait for it then).
    state = ["waiting"]
    state_lock = threading.Lock()

    def open_blocking() -> None:
        with state_lock:
            if state[0] == "abandoned":
                return
            state[0] = "opening"
        try:
            opened.append(open(path, mode))  # noqa: SIM115  (the stream owns it)
        finally:
            finished.set()

    try:
        await anyio.to_thread.run_sync(open_blocking, abandon_on_cancel=True)
    except anyio.get_cancelled_exc_class():
        with state_lock:
            started, state[0] = state[0] == "opening", "abandoned"
        if started:
            reader = os.open(path, os.O_RDONLY | os.O_NONBLOCK)
            try:
                with anyio.CancelScope(shield=True):
                    await anyio.to_thread.run_sync(finished.wait)
            finally:
                os.close(reader)
                for file in opened:
                    file.close()
        raise
    return opened[0]
