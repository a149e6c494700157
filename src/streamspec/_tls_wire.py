"""The wire driver of a :class:`~streamspec.tls.TLSStream`: the only code that awaits the
transport. Every TLS operation (handshake, receive, send, the closing exchanges) is a call on
the session (:mod:`streamspec._tls_session`) that :meth:`WireDriver.retry` repeats, moving
ciphertext between the session's buffers and the transport, until it stops asking for the
peer's bytes.

One task may receive while another sends, and both drive the same ``ssl`` object (a receive
may have to answer a TLS 1.3 key update, a send may have to wait for a TLS 1.2 renegotiation).
Two locks keep that safe; this is their whole discipline:

1. **The send lock** is held by the task awaiting the transport's ``send()``, and only then.
   Its holder sends until ``outgoing`` is empty, so bytes the ``ssl`` object writes while it
   waits go out after the ones before them, sent by the holder itself. A task whose own
   ciphertext must be on its way before it returns (handshake, send, closing) waits for the
   lock; a receive does not: what it wrote (a key update's answer) is the holder's to send,
   and a receive must never wait behind a send that waits for the peer to read.
2. **The receive lock** is held by the task awaiting the transport's ``receive()``, and only
   then. A task that waited for it while another read does not read in turn: the ``ssl``
   object has new bytes to try first.
3. Nobody holds the send lock while waiting for incoming bytes, and whoever is about to wait
   for them first sends what is pending: the peer may be waiting for it.
4. A ``send()`` encrypts at most :data:`SEND_SLICE` bytes before it sends them, so a huge
   ``send()`` never holds all its ciphertext in memory.
"""

from __future__ import annotations

import contextlib
import functools
import ssl
from collections.abc import Callable
from typing import Any, NoReturn, TypeVar

import anyio
import anyio.abc

from ._tls_errors import Failure, Phase
from ._tls_session import State, TLSSession
from .protocols import AnyByteStream

__all__ = ["LINGER", "SEND_SLICE", "WireDriver"]

_T = TypeVar("_T")

#: Plaintext encrypted per transport send: the most ciphertext a ``send()`` holds at once.
SEND_SLICE = 256 * 1024
#: What a read from a byte-stream transport asks for: several full TLS records at once.
_TRANSPORT_READ_SIZE = 256 * 1024
#: Seconds ``aclose()`` spends sending our ``close_notify`` and taking in what the peer sends
#: until its own. Closing a TCP socket with unread bytes in it makes the kernel reset the
#: connection, which a peer still closing politely sees as an error; a peer that answers at
#: once costs a round trip, one that does not costs this much and no more.
LINGER = 0.25


def _transport_reader(transport: AnyByteStream) -> Callable[[], Any]:
    """Return a call that reads the transport's next chunk: a large one from a byte stream, the
    next item from an object stream of bytes (whose ``receive()`` takes no size)."""
    if isinstance(transport, anyio.abc.ByteReceiveStream):
        return functools.partial(transport.receive, _TRANSPORT_READ_SIZE)
    return transport.receive


class _Lock:
    """A lock for the tasks of one stream (at most a sender, a receiver and a closer), used as
    ``if lock.held: await lock.wait_free()``, then ``lock.held = True`` before the next
    ``await`` and, in a ``finally``, ``lock.release()``. Taking it when it is free costs a flag
    and no call, which shows in bulk transfers; a task that finds it taken waits for a release
    and checks again. Cancelling a waiting task leaves nothing to undo."""

    __slots__ = ("_released", "held")

    def __init__(self) -> None:
        #: Whether a task holds the lock.
        self.held = False
        self._released: anyio.Event | None = None

    async def wait_free(self) -> None:
        """Return once the lock is free; take it before the next ``await``."""
        while self.held:
            if self._released is None:
                self._released = anyio.Event()
            await self._released.wait()

    def release(self) -> None:
        self.held = False
        if self._released is not None:
            self._released.set()
            self._released = None


class WireDriver:
    """Moves one session's ciphertext over one transport; see the module docstring."""

    __slots__ = (
        "_incoming",
        "_outgoing",
        "_read_transport",
        "_reads",
        "receive_lock",
        "send_lock",
        "session",
        "transport",
    )

    def __init__(self, session: TLSSession, transport: AnyByteStream) -> None:
        self.session = session
        self.transport = transport
        self._incoming, self._outgoing = session.incoming, session.outgoing
        self._read_transport = _transport_reader(transport)
        self.send_lock = _Lock()
        self.receive_lock = _Lock()
        self._reads = 0  # lets a task that waited for the receive lock see that another read

    async def retry(
        self, operation: Callable[..., _T], *args: Any, phase: Phase, sender: bool = True
    ) -> _T:
        """Call ``operation(*args)`` (a session or ``ssl`` object method) until it stops asking
        for the peer's bytes, sending what it writes, and return its result.

        :param sender: whether the caller's own ciphertext must be on its way when this
            returns (rule 1); ``False`` for a receive.
        :raises BaseException: what the ``ssl`` object raised, translated for ``phase``; what
            the transport raised (see :meth:`_transport_failed`).

        A hot path (``receive()``, ``send()``) may make the first call itself and hand the
        operation to ``retry()`` only when it asks for the peer's bytes, or to
        :meth:`failure` when it fails: what it saves is a coroutine call per operation.
        """
        outgoing = self._outgoing
        while True:
            try:
                result = operation(*args)
            except ssl.SSLWantReadError:
                await self.await_input(sender=sender)
                continue
            except ssl.SSLError as exc:
                raise await self.failure(exc, phase) from None
            # A receiver awaits nothing once it holds its data: a cancellation then would lose
            # it. What it wrote goes out before it next waits for input (rule 3).
            if sender and outgoing.pending:
                await self.flush()
            return result

    async def await_input(self, *, sender: bool = True) -> bool:
        """Send what is pending (rule 3), then read the transport's next chunk into the session
        (rule 2). Returns whether this call read it, rather than finding that another task
        just had."""
        if self._outgoing.pending:
            await self.flush(sender=sender)
        reads_seen = self._reads
        lock = self.receive_lock
        if lock.held:
            await lock.wait_free()
            if self._reads != reads_seen:
                return False
        lock.held = True
        try:
            chunk = await self._read_transport()
        except anyio.EndOfStream:
            self._incoming.write_eof()
        except Exception as exc:
            self._transport_failed(exc)
        else:
            self._incoming.write(chunk)
        finally:
            lock.release()
        self._reads += 1
        return True

    async def flush(self, *, sender: bool = True) -> None:
        """Send everything in ``outgoing`` (rule 1). A sender that finds another task sending
        waits for it (the holder may have sent this task's bytes too); a receiver leaves its
        bytes to the holder."""
        outgoing = self._outgoing
        lock = self.send_lock
        if lock.held:
            if not sender:
                return
            await lock.wait_free()
        lock.held = True
        send = self.transport.send
        try:
            while outgoing.pending:
                await send(outgoing.read())
        except BaseException as exc:
            self.session.fail(exc)
            if isinstance(exc, Exception):
                self._transport_failed(exc)
            raise
        finally:
            lock.release()

    async def say_goodbye(self, *, take_in_answer: bool) -> None:
        """Send our ``close_notify`` (already written) and, when ``take_in_answer``, take in
        and drop what the peer sends until its own ``close_notify`` or the end of the
        transport: ``aclose()``'s exchange, over after :data:`LINGER` seconds however far it
        got, so that a peer that neither reads nor answers cannot make closing hang."""
        with anyio.move_on_after(LINGER):
            await self.flush()
            if take_in_answer:
                await self.retry(self.session.discard_input, phase=Phase.CLOSING)

    async def failure(self, exc: ssl.SSLError, phase: Phase) -> BaseException:
        """Break the session and return what to raise for ``exc``, which the ``ssl`` object
        raised during ``phase``. A handshake that failed on our side first sends the alert
        OpenSSL wrote."""
        session = self.session
        failure = session.classify(exc)
        outcome = session.translate(exc, failure, phase)
        session.fail(outcome)
        if phase is Phase.HANDSHAKE and failure is Failure.PROTOCOL:
            with contextlib.suppress(Exception):  # the handshake's own error is the one to report
                await self.flush()
        return outcome

    def _transport_failed(self, exc: Exception) -> NoReturn:
        """Raise what the transport's exception means to our caller: a closed stream stays
        closed (whatever the transport says after we closed it), a plain :exc:`OSError` from a
        transport that does not translate its errors is a broken stream (caused by it), and
        AnyIO's own exceptions go on as they are (``raise exc from exc`` would make one its
        own cause, a loop that anything walking the chain would follow forever)."""
        if self.session.state is State.CLOSED:
            raise anyio.ClosedResourceError from exc
        if isinstance(exc, OSError):
            raise anyio.BrokenResourceError(f"the transport failed: {exc}") from exc
        raise exc
