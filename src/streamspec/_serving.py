"""How streamspec's listeners serve: an accept loop that outlives a shortage of descriptors, a
connection runner that keeps what one client does to that client's connection, and the log
line for a failed TLS handshake. (Decision 10 in docs/design.rst: a server outlives its clients.)

Three things could stop a ``serve()`` that should not stop:

* **Accept-capacity errors.** When the process or the system runs out of file descriptors,
  kernel buffers or memory, ``accept()`` fails with EMFILE, ENFILE, ENOBUFS or ENOMEM while the
  connection waits in the backlog. That is a passing state of this process, not a client's
  doing: a handler closes its connection and a descriptor is free again. AnyIO reports it as
  the :exc:`OSError` on asyncio and as a :exc:`~anyio.BrokenResourceError` caused by it on
  Trio. :func:`accept_forever` logs one ``ERROR`` per burst, waits
  :data:`ACCEPT_RETRY_DELAY` and accepts again, as Trio's ``serve_listeners`` does.
* **Failures a peer causes in its own connection.** A client that resets, vanishes or ends
  its TLS session without ``close_notify`` makes the handler's next ``receive()`` or ``send()``
  raise; left alone, that exception would end ``serve()`` and every other connection with it.
  :func:`run_connection` contains a failure to its connection when it is one of
  :data:`PEER_FAILURES` *and* that connection's stream raised it (or raised the failure it
  came from, as an :exc:`~anyio.IncompleteRead` comes from an :exc:`~anyio.EndOfStream`): it
  closes the stream and logs one ``INFO`` line. Anything else (a bug in the handler, the
  failure of a database it talks to) propagates out of ``serve()`` as in AnyIO and Trio.
* **AnyIO's own accept loops**, which have neither behaviour. :func:`serve_listener` runs our
  loop in place of AnyIO's generic ``SocketListener.serve`` and ``MultiListener.serve``, and
  calls any other listener's own ``serve()``.
"""

from __future__ import annotations

import contextvars
import errno
import inspect
import logging
import os
import ssl
from collections.abc import Awaitable, Callable, Coroutine, Iterator
from contextlib import AsyncExitStack
from typing import Any

import anyio
import anyio.abc
import anyio.streams.stapled
from anyio.abc import SocketAttribute

from ._args import duration, flag, instance, provides

__all__ = [
    "ACCEPT_CAPACITY_ERRNOS",
    "ACCEPT_RETRY_DELAY",
    "ConnectionTask",
    "PEER_FAILURES",
    "accept_forever",
    "caused_by_peer",
    "check_tls_listener_arguments",
    "contained",
    "peer_address",
    "remember_peer",
    "report_failed_handshake",
    "run_connection",
    "serve_listener",
]

#: The ``errno`` values with which ``accept()`` says "not now, I am out of resources".
ACCEPT_CAPACITY_ERRNOS = frozenset({errno.EMFILE, errno.ENFILE, errno.ENOBUFS, errno.ENOMEM})

#: Seconds :func:`accept_forever` waits after an accept-capacity error (Trio waits as long).
#: Read at each wait, so a test may make it tiny.
ACCEPT_RETRY_DELAY = 0.1

#: The exceptions by which a stream reports what its peer did to it: vanished, reset, cut the
#: TLS session short, broke the protocol. Contained only when that connection's stream raised
#: them (:func:`run_connection`).
PEER_FAILURES: tuple[type[BaseException], ...] = (
    anyio.BrokenResourceError,
    anyio.EndOfStream,
    anyio.IncompleteRead,
    ssl.SSLError,
    OSError,
)

#: The peer's address as captured when its connection was accepted, for the log line of a
#: failed handshake: the hook that writes it has AnyIO's signature (exception, stream), and a
#: socket that was reset may no longer know its peer. Each connection runs in its own task,
#: hence its own context.
_accepted_peer: contextvars.ContextVar[object] = contextvars.ContextVar("_accepted_peer")

_Handler = Callable[[Any], Any]
#: What a listener starts for each accepted connection.
ConnectionTask = Callable[[Any], Coroutine[Any, Any, None]]


def peer_address(stream: object) -> object:
    """The peer's address (``SocketAttribute.remote_address``), or ``"a client"`` when the
    stream cannot say (it is not a socket, or its socket already failed)."""
    try:
        return stream.extra(SocketAttribute.remote_address)  # type: ignore[attr-defined]
    except Exception:  # not a provider; no such attribute; OSError, or worse on uvloop
        return "a client"


def remember_peer(stream: object) -> object:
    """Capture the peer's address of a connection just accepted, for
    :func:`report_failed_handshake` and the connection's own log lines, and return it."""
    peer = peer_address(stream)
    _accepted_peer.set(peer)
    return peer


def _causes(exc: BaseException) -> Iterator[BaseException]:
    """``exc`` and the exceptions it was explicitly raised from (``raise ... from``), each
    once: what it means. (An exception's context may be an unrelated one that was being
    handled, such as the ``SSLWantReadError`` after which a read found the socket reset.)"""
    return _links(exc, lambda link: link.__cause__)


def _history(exc: BaseException) -> Iterator[BaseException]:
    """``exc`` and every exception it came from, explicitly or while handling it (even a
    suppressed context, as ``raise IncompleteRead from None`` after an ``EndOfStream``)."""
    return _links(exc, lambda link: link.__cause__ or link.__context__)


def _links(
    exc: BaseException, previous: Callable[[BaseException], BaseException | None]
) -> Iterator[BaseException]:
    seen: set[int] = set()  # a chain may loop
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        yield current
        current = previous(current)


def _capacity_errno(exc: BaseException) -> int | None:
    """The accept-capacity ``errno`` that ``exc`` reports, directly or as its cause."""
    for link in _causes(exc):
        if isinstance(link, OSError) and link.errno in ACCEPT_CAPACITY_ERRNOS:
            return link.errno
    return None


def _raised_by(exc: BaseException, stream: object) -> bool:
    """Whether ``exc`` was raised while a method of ``stream`` was running: one of the frames
    it passed through on its way out belongs to a method of that very object. Only called on
    a failure, so a connection pays nothing for it while it works."""
    # The first entry is the frame that caught ``exc``, still running for the exception at
    # hand (reading a running frame's locals is best avoided); the raiser is further in.
    traceback = exc.__traceback__ and exc.__traceback__.tb_next
    while traceback is not None:
        if traceback.tb_frame.f_locals.get("self") is stream:
            return True
        traceback = traceback.tb_next
    return False


def caused_by_peer(exc: BaseException, stream: object) -> bool:
    """Whether ``exc``, out of a handler of ``stream``, is the peer's doing: one of
    :data:`PEER_FAILURES` that the stream raised, or that came from one the stream raised.
    (A handler's own ``fail_after()`` raises TimeoutError, an OSError, from the cancellation
    of a read of the stream: the cancellation is not a peer failure, so neither is the
    timeout.)"""
    return isinstance(exc, PEER_FAILURES) and any(
        isinstance(link, PEER_FAILURES) and _raised_by(link, stream) for link in _history(exc)
    )


def _describe(exc: BaseException) -> str:
    """``exc`` in one line, with the exception at the root of its chain: the ssl or socket
    error behind an AnyIO (or a translated Trio) exception says what really happened."""
    root = exc
    for link in _causes(exc):
        root = link
    text = _one(exc)
    return text if root is exc else f"{text} (from {_one(root)})"


def _one(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__


def _traceback_if_debugging(logger: logging.Logger, exc: BaseException) -> BaseException | None:
    """The ``exc_info`` for a one-line record: the traceback only when DEBUG is on."""
    return exc if logger.isEnabledFor(logging.DEBUG) else None


async def _close_at_once(stream: object) -> None:
    """Close ``stream`` without letting it wait for anything."""
    await anyio.aclose_forcefully(stream)  # type: ignore[arg-type]


async def run_connection(
    handler: _Handler, stream: object, peer: object, logger: logging.Logger
) -> None:
    """Run ``handler(stream)``, containing a failure the peer caused (see the module
    docstring): the stream is closed and one ``INFO`` line naming ``peer`` is logged (``peer``
    is also the record's attribute of that name).
    Everything else ``handler`` raises propagates."""
    try:
        result = handler(stream)
        if inspect.isawaitable(result):
            await result
    except Exception as exc:
        if not caused_by_peer(exc, stream):
            raise
        await _close_at_once(stream)
        logger.info(
            "connection from %s ended by the peer: %s",
            peer,
            _describe(exc),
            exc_info=_traceback_if_debugging(logger, exc),
            extra={"peer": peer},
        )


def contained(handler: _Handler, logger: logging.Logger) -> ConnectionTask:
    """``handler`` as a connection task for a listener of plain streams: it captures the
    peer's address at once, then goes through :func:`run_connection`."""

    async def connection_task(stream: object) -> None:
        await run_connection(handler, stream, peer_address(stream), logger)

    return connection_task


async def accept_forever(
    accept: Callable[[], Awaitable[Any]],
    task: ConnectionTask,
    task_group: anyio.abc.TaskGroup,
    logger: logging.Logger,
) -> None:
    """Start ``task(connection)`` in ``task_group`` for each connection ``accept()`` returns,
    for ever, riding out accept-capacity errors; any other error of ``accept()`` propagates."""
    refused = 0  # accepts refused in the current burst of capacity errors
    while True:
        try:
            connection = await accept()
        except Exception as exc:
            code = _capacity_errno(exc)
            if code is None:
                raise
            if not refused:
                logger.error(
                    "accept() failed with %s (%s); retrying every %s s until it succeeds",
                    errno.errorcode[code],
                    os.strerror(code),
                    ACCEPT_RETRY_DELAY,
                    exc_info=_traceback_if_debugging(logger, exc),
                )
            refused += 1
            await anyio.sleep(ACCEPT_RETRY_DELAY)
            continue
        if refused:
            logger.debug("accept() succeeded again after %d refusals", refused)
            refused = 0
        task_group.start_soon(task, connection)


async def serve_listener(
    listener: Any,
    task: ConnectionTask,
    task_group: anyio.abc.TaskGroup | None,
    logger: logging.Logger,
) -> None:
    """Serve ``listener``, starting ``task(connection)`` for each connection in
    ``task_group`` (one of this call when it is None), as ``Listener.serve`` describes.

    AnyIO's generic accept loops are replaced by :func:`accept_forever`, with the listeners
    of an AnyIO ``MultiListener`` served each by its own loop; any other listener's ``serve()``
    is its own business and is called as it is. ``logger`` gets the loop's records.
    """
    async with AsyncExitStack() as stack:
        if task_group is None:
            task_group = await stack.enter_async_context(anyio.create_task_group())
        serve = type(listener).serve
        if serve is anyio.abc.SocketListener.serve:
            await accept_forever(listener.accept, task, task_group, logger)
        elif serve is anyio.streams.stapled.MultiListener.serve:
            async with anyio.create_task_group() as serving:
                for each in listener.listeners:
                    serving.start_soon(serve_listener, each, task, task_group, logger)
        else:
            await listener.serve(task, task_group)


async def report_failed_handshake(
    exc: BaseException, stream: object, logger: logging.Logger
) -> None:
    """A TLS listener's ``handle_handshake_error()``: close ``stream`` at once, then log one
    line naming the peer's address as captured at accept (also the record's ``peer``
    attribute; the traceback at DEBUG only), or raise ``exc`` again if it is a cancellation
    or another :exc:`BaseException`.

    A client that went away (closed or reset before its handshake ended: a health check, a
    port scan, an impatient user) or let ``handshake_timeout`` pass is logged at ``INFO``:
    that is ordinary traffic for a server on a network. A handshake that failed on its merits
    (bytes that are not TLS, a protocol version or a certificate refused by either side) is a
    ``WARNING``: someone may have to act on it.
    """
    peer = _accepted_peer.get(None)
    if peer is None:
        peer = peer_address(stream)  # before the close: a closed socket may not know it
    await _close_at_once(stream)
    if isinstance(exc, anyio.get_cancelled_exc_class()) or not isinstance(exc, Exception):
        raise exc
    if isinstance(exc, TimeoutError):
        level, what = logging.INFO, "timed out"
    elif _went_away(exc):
        level, what = logging.INFO, "ended: the client went away"
    else:
        level, what = logging.WARNING, "failed"
    logger.log(
        level,
        "TLS handshake with %s %s: %s",
        peer,
        what,
        _describe(exc),
        exc_info=_traceback_if_debugging(logger, exc),
        extra={"peer": peer},
    )


def _went_away(exc: BaseException) -> bool:
    """Whether a handshake failure says that the transport ended or broke (a broken stream,
    an end of stream, a socket error), rather than that the peer spoke badly (an
    :exc:`ssl.SSLError` other than an unexpected EOF, anywhere in the chain: streamspec keeps
    it as the exception, Trio puts it behind its BrokenResourceError)."""
    for link in _causes(exc):
        if isinstance(link, ssl.SSLError) and not _is_eof(link):
            return False
    return isinstance(exc, anyio.BrokenResourceError | anyio.EndOfStream | OSError)


def _is_eof(exc: ssl.SSLError) -> bool:
    # Python maps OpenSSL 3's "unexpected EOF while reading" to SSLEOFError; the reason string
    # catches the builds that report it as a plain SSLError.
    eof_classes = ssl.SSLEOFError | ssl.SSLZeroReturnError | ssl.SSLSyscallError
    return isinstance(exc, eof_classes) or "UNEXPECTED_EOF" in str(exc)


def check_tls_listener_arguments(
    listener: object, ssl_context: object, standard_compatible: object, handshake_timeout: object
) -> None:
    """Refuse, when a TLS listener is made, the settings with which it would fail every
    connection while looking healthy.

    :raises TypeError: ``listener`` has no ``serve()`` and ``aclose()``; ``ssl_context`` is not
        an :class:`ssl.SSLContext`; ``standard_compatible`` is not a bool; ``handshake_timeout``
        is not a real number (a bool is not one here).
    :raises ValueError: ``ssl_context`` is a client's (``PROTOCOL_TLS_CLIENT`` or
        ``check_hostname`` on); ``handshake_timeout`` is not finite and positive.
    """
    provides("listener", listener, "serve", "aclose", what="a listener")
    context = instance("ssl_context", ssl_context, ssl.SSLContext)
    if context.protocol is ssl.PROTOCOL_TLS_CLIENT or context.check_hostname:
        raise ValueError(
            "ssl_context must be a server's context (ssl.create_default_context("
            "ssl.Purpose.CLIENT_AUTH), say), not a client's: it has protocol "
            f"{context.protocol.name} and check_hostname={context.check_hostname}"
        )
    flag("standard_compatible", standard_compatible)
    duration("handshake_timeout", handshake_timeout, positive=True, finite=True)
