"""A server outlives its clients (decision 10 in docs/design.rst): TLSListener, MultiListener
and the Trio adapter's listeners against hostile clients over real TCP on loopback, against
accept() failing for lack of descriptors (faked, and real under a low RLIMIT_NOFILE in a
subprocess), and with bad settings at construction; and the log lines they write.
"""

from __future__ import annotations

import errno
import logging
import os
import socket
import ssl
import struct
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from contextlib import contextmanager
from fractions import Fraction
from pathlib import Path
from typing import Any, ClassVar

import anyio
import anyio.abc
import anyio.lowlevel
import pytest
import trio
import trio.abc
import trio.lowlevel
import trio.testing
import trustme
from anyio.abc import SocketAttribute

import streamspec._serving
from streamspec.adapters.trio import TrioTLSListener, from_trio_listener
from streamspec.buffered import BufferedByteReceiveStream
from streamspec.stapled import MultiListener
from streamspec.testing import byte_stream_pair
from streamspec.tls import TLSListener, TLSStream

pytestmark = pytest.mark.anyio

LOOPBACK = "127.0.0.1"
#: A TLS 1.x record header and the start of a ClientHello: a handshake begun, never finished.
HALF_A_HELLO = b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03"
#: The hostile-client tests' handshake_timeout: what the silent client waits, and what every
#: other client's handshake must beat even on a loaded machine.
SILENCE_TIMEOUT = 2.0


@pytest.fixture(scope="module")
def ca() -> trustme.CA:
    return trustme.CA()


@pytest.fixture(scope="module")
def server_context(ca: trustme.CA) -> ssl.SSLContext:
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert("localhost").configure_cert(context)
    return context


@pytest.fixture(scope="module")
def client_context(ca: trustme.CA) -> ssl.SSLContext:
    context = ssl.create_default_context(ssl.Purpose.SERVER_AUTH)
    ca.configure_trust(context)
    return context


@pytest.fixture(autouse=True)
def no_accept_back_off(monkeypatch: pytest.MonkeyPatch) -> None:
    """Tests need not wait a tenth of a second per refused accept."""
    monkeypatch.setattr(streamspec._serving, "ACCEPT_RETRY_DELAY", 0)


async def echo(stream: Any) -> None:
    """The README's handler, exactly: the pattern the docs teach."""
    async with stream:
        async for chunk in stream:
            await stream.send(chunk)


class RecordWaiter(logging.Handler):
    """Collects a logger's records and lets a test wait until there are enough of them."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.records: list[logging.LogRecord] = []
        self._changed = anyio.Event()

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)
        self._changed.set()  # records come from tasks of the test's own event loop

    async def wait_for(self, count: int) -> list[logging.LogRecord]:
        while len(self.records) < count:
            self._changed = anyio.Event()
            await self._changed.wait()
        return self.records


@pytest.fixture
def tls_log() -> Iterator[RecordWaiter]:
    with _watching("streamspec.tls") as waiter:
        yield waiter


@contextmanager
def _watching(name: str) -> Iterator[RecordWaiter]:
    logger = logging.getLogger(name)
    waiter = RecordWaiter()
    previous = logger.level
    logger.addHandler(waiter)
    logger.setLevel(logging.INFO)
    try:
        yield waiter
    finally:
        logger.removeHandler(waiter)
        logger.setLevel(previous)


# -- hostile clients over real TCP -------------------------------------------------------------


async def _drain(stream: anyio.abc.ByteStream) -> None:
    """Read until the server closes ``stream``, so the test knows the server is done with it."""
    while True:
        try:
            await stream.receive()
        except (anyio.EndOfStream, anyio.BrokenResourceError):
            return


def _reset(stream: anyio.abc.ByteStream) -> None:
    """Make closing ``stream`` send a TCP reset instead of a FIN (SO_LINGER with 0 seconds)."""
    raw = stream.extra(SocketAttribute.raw_socket)
    raw.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))


def _stdlib_client_closes_without_close_notify(
    port: int, context: ssl.SSLContext, message: bytes
) -> bytes:
    """A standard-library client: it completes the handshake, has one exchange, then
    ``SSLSocket.close()``, which closes TCP without a ``close_notify``."""
    with socket.create_connection((LOOPBACK, port), timeout=10) as raw:
        tls = context.wrap_socket(raw, server_hostname="localhost")
        tls.sendall(message)
        answer = tls.recv(100)
        tls.close()
        return answer


async def _good_client(port: int, context: ssl.SSLContext, message: bytes) -> bytes:
    transport = await anyio.connect_tcp(LOOPBACK, port)
    async with await TLSStream.wrap(transport, hostname="localhost", ssl_context=context) as tls:
        await tls.send(message)
        return await tls.receive()


async def _hostile_clients(port: int, context: ssl.SSLContext, log: RecordWaiter) -> None:
    """One of each hostile client, one after another, each waited for until the server has
    logged it (one record each)."""
    health_check = await anyio.connect_tcp(LOOPBACK, port)
    await health_check.aclose()  # connects, sends nothing, leaves
    await log.wait_for(1)

    garbage = await anyio.connect_tcp(LOOPBACK, port)
    async with garbage:
        await garbage.send(b"GET / HTTP/1.0\r\n\r\n")
        await _drain(garbage)
    await log.wait_for(2)

    silent = await anyio.connect_tcp(LOOPBACK, port)
    async with silent:
        await _drain(silent)  # dropped after handshake_timeout
    await log.wait_for(3)

    aborting = await anyio.connect_tcp(LOOPBACK, port)
    await aborting.send(HALF_A_HELLO)
    _reset(aborting)
    await anyio.aclose_forcefully(aborting)
    await log.wait_for(4)

    answer = await anyio.to_thread.run_sync(
        _stdlib_client_closes_without_close_notify, port, context, b"ragged"
    )
    assert answer == b"ragged"
    await log.wait_for(5)

    transport = await anyio.connect_tcp(LOOPBACK, port)
    resetting = await TLSStream.wrap(transport, hostname="localhost", ssl_context=context)
    await resetting.send(b"reset")
    assert await resetting.receive() == b"reset"
    _reset(transport)
    await anyio.aclose_forcefully(transport)
    await log.wait_for(6)


async def test_no_client_stops_a_tls_listener_serving_the_readme_handler(
    server_context: ssl.SSLContext, client_context: ssl.SSLContext, tls_log: RecordWaiter
) -> None:
    tcp = await anyio.create_tcp_listener(local_host=LOOPBACK)
    port = tcp.extra(SocketAttribute.local_port)
    listener = TLSListener(tcp, server_context, handshake_timeout=SILENCE_TIMEOUT)
    serve_ended: list[str] = []

    async def serve() -> None:
        try:
            await listener.serve(echo)  # no task group: the README's way
        finally:
            serve_ended.append("serve() ended")

    with anyio.fail_after(20):
        async with listener, anyio.create_task_group() as tg:
            tg.start_soon(serve)
            await _hostile_clients(port, client_context, tls_log)
            assert await _good_client(port, client_context, b"still here") == b"still here"
            assert serve_ended == []
            tg.cancel_scope.cancel()

    _check_hostile_records(tls_log.records)
    assert "close_notify" in tls_log.records[4].getMessage()


def _check_hostile_records(records: list[logging.LogRecord]) -> None:
    """One line for each of :func:`_hostile_clients`, each at its level and with the address."""
    assert len(records) == 6, [r.getMessage() for r in records]
    health, garbage, silent, aborted, ragged, reset = records
    for record in records:
        assert "('127.0.0.1', " in record.getMessage()  # the peer, as captured at accept
        assert record.__dict__["peer"][0] == "127.0.0.1"  # and as an attribute, for structured logs
        assert record.exc_info is None  # a traceback only at DEBUG
        assert "\n" not in record.getMessage()
    assert health.levelno < logging.WARNING
    assert "went away" in health.getMessage()
    assert garbage.levelno == logging.WARNING
    assert "HTTP_REQUEST" in garbage.getMessage()
    assert silent.levelno == logging.INFO
    assert "timed out" in silent.getMessage()
    assert aborted.levelno == logging.INFO
    assert "went away" in aborted.getMessage()
    for record in (ragged, reset):
        assert record.levelno == logging.INFO
        assert "ended by the peer" in record.getMessage()


async def test_a_failed_handshake_carries_its_traceback_at_debug(
    server_context: ssl.SSLContext, tls_log: RecordWaiter
) -> None:
    logging.getLogger("streamspec.tls").setLevel(logging.DEBUG)
    tcp = await anyio.create_tcp_listener(local_host=LOOPBACK)
    port = tcp.extra(SocketAttribute.local_port)
    with anyio.fail_after(10):
        async with TLSListener(tcp, server_context) as listener, anyio.create_task_group() as tg:
            tg.start_soon(listener.serve, echo)
            async with await anyio.connect_tcp(LOOPBACK, port) as garbage:
                await garbage.send(b"\x00" * 64)
                await _drain(garbage)
            [record] = await tls_log.wait_for(1)
            tg.cancel_scope.cancel()
    assert record.levelno == logging.WARNING
    assert record.exc_info is not None
    assert isinstance(record.exc_info[1], ssl.SSLError)


async def test_a_failure_through_a_wrapper_of_the_stream_is_contained_too(
    server_context: ssl.SSLContext, client_context: ssl.SSLContext, tls_log: RecordWaiter
) -> None:
    """A handler that reads through a buffered stream gets IncompleteRead when its client
    leaves early: it comes from the connection's EndOfStream, so it is the client's doing."""

    async def reads_a_header(stream: TLSStream) -> None:
        async with stream:
            header = await BufferedByteReceiveStream(stream).receive_exactly(10)
            await stream.send(header)

    tcp = await anyio.create_tcp_listener(local_host=LOOPBACK)
    port = tcp.extra(SocketAttribute.local_port)
    with anyio.fail_after(10):
        async with TLSListener(tcp, server_context) as listener, anyio.create_task_group() as tg:
            tg.start_soon(listener.serve, reads_a_header)
            transport = await anyio.connect_tcp(LOOPBACK, port)
            async with await TLSStream.wrap(
                transport, hostname="localhost", ssl_context=client_context
            ) as client:
                await client.send(b"short")
            [record] = await tls_log.wait_for(1)
            assert await _good_client(port, client_context, b"0123456789") == b"0123456789"
            tg.cancel_scope.cancel()
    assert record.levelno == logging.INFO
    assert "IncompleteRead" in record.getMessage()


async def test_a_bug_in_the_handler_still_ends_serve(
    server_context: ssl.SSLContext, client_context: ssl.SSLContext
) -> None:
    """Only failures of the connection's own stream are contained: a handler's own error, or
    a BrokenResourceError from another resource it uses, propagates as in AnyIO."""
    send, receive = anyio.create_memory_object_stream[bytes](1)
    receive.close()

    async def forwards_to_a_closed_queue(stream: TLSStream) -> None:
        async with stream:
            await send.send(await stream.receive())  # BrokenResourceError, not the peer's

    tcp = await anyio.create_tcp_listener(local_host=LOOPBACK)
    port = tcp.extra(SocketAttribute.local_port)
    with anyio.fail_after(10):
        async with TLSListener(tcp, server_context) as listener:
            with pytest.raises(Exception) as raised:  # noqa: PT011, PT012 (a group, see below)
                async with anyio.create_task_group() as tg:
                    tg.start_soon(listener.serve, forwards_to_a_closed_queue)
                    transport = await anyio.connect_tcp(LOOPBACK, port)
                    async with await TLSStream.wrap(
                        transport, hostname="localhost", ssl_context=client_context
                    ) as client:
                        await client.send(b"hello")
                        await _drain(client)
    assert [type(leaf) for leaf in _leaves(raised.value)] == [anyio.BrokenResourceError]
    send.close()


async def test_a_timeout_of_the_handler_still_ends_serve(
    server_context: ssl.SSLContext, client_context: ssl.SSLContext
) -> None:
    """A handler's own timeout on a read of its stream is the handler's policy, not a failure
    of the connection: it propagates (a handler that wants to drop idle clients catches it)."""

    async def impatient(stream: TLSStream) -> None:
        async with stream:
            with anyio.fail_after(0.1):
                await stream.receive()

    tcp = await anyio.create_tcp_listener(local_host=LOOPBACK)
    port = tcp.extra(SocketAttribute.local_port)
    with anyio.fail_after(10):
        async with TLSListener(tcp, server_context) as listener:
            with pytest.raises(Exception) as raised:  # noqa: PT011, PT012 (a group, see below)
                async with anyio.create_task_group() as tg:
                    tg.start_soon(listener.serve, impatient)
                    transport = await anyio.connect_tcp(LOOPBACK, port)
                    async with await TLSStream.wrap(
                        transport, hostname="localhost", ssl_context=client_context
                    ) as client:
                        await _drain(client)  # says nothing until the server gives up
    assert [type(leaf) for leaf in _leaves(raised.value)] == [TimeoutError]


def _leaves(exc: BaseException) -> Iterator[BaseException]:
    """The exceptions in ``exc``, a task group's exception group or a single one."""
    inner = getattr(exc, "exceptions", None)
    if inner is None:
        yield exc
    else:
        for each in inner:
            yield from _leaves(each)


async def _serve_plain_echo_through_a_reset(
    listener: Any, port: int, logger_name: str
) -> list[logging.LogRecord]:
    """Serve the README's handler on a plain TCP ``listener``; a client resets its connection
    mid-conversation, then a good client is echoed. Returns the logger's records."""
    with _watching(logger_name) as log, anyio.fail_after(10):
        async with listener, anyio.create_task_group() as tg:
            tg.start_soon(listener.serve, echo)
            resetting = await anyio.connect_tcp(LOOPBACK, port)
            await resetting.send(b"reset")
            assert await resetting.receive() == b"reset"
            _reset(resetting)
            await anyio.aclose_forcefully(resetting)
            await log.wait_for(1)
            async with await anyio.connect_tcp(LOOPBACK, port) as good:
                await good.send(b"still here")
                assert await good.receive() == b"still here"
            tg.cancel_scope.cancel()
    return log.records


async def test_a_multilistener_keeps_a_reset_to_its_connection() -> None:
    """Plain TCP behaves as TLS does: the same handler, the same rule."""
    tcp = await anyio.create_tcp_listener(local_host=LOOPBACK)
    port = tcp.extra(SocketAttribute.local_port)
    [record] = await _serve_plain_echo_through_a_reset(
        MultiListener([tcp]), port, "streamspec.stapled"
    )
    assert record.levelno == logging.INFO
    assert "ended by the peer" in record.getMessage()
    assert "ConnectionResetError" in record.getMessage()


# -- running out of descriptors -----------------------------------------------------------------


def _broken_by(code: int) -> anyio.BrokenResourceError:
    """A capacity error as AnyIO's Trio backend reports it: BrokenResourceError from OSError."""
    broken = anyio.BrokenResourceError()
    broken.__cause__ = OSError(code, os.strerror(code))
    return broken


class ScriptedListener(anyio.abc.SocketListener):
    """An AnyIO socket listener (with AnyIO's own ``serve()``) whose ``accept()`` follows a
    script: an exception in it is raised, anything else is returned as the connection; after
    the script it waits until closed."""

    def __init__(self, script: list[Any]) -> None:
        self.script = script
        self.accepts = 0
        self._closed = anyio.Event()

    async def accept(self) -> Any:
        await anyio.lowlevel.checkpoint()
        self.accepts += 1
        if self.script:
            step = self.script.pop(0)
            if isinstance(step, BaseException):
                raise step
            return step
        await self._closed.wait()
        raise anyio.ClosedResourceError

    async def aclose(self) -> None:
        self._closed.set()

    @property
    def _raw_socket(self) -> socket.socket:
        raise NotImplementedError


CAPACITY_ERRORS = [
    pytest.param(lambda: OSError(errno.EMFILE, "Too many open files"), id="EMFILE"),
    pytest.param(lambda: OSError(errno.ENFILE, "Too many open files in system"), id="ENFILE"),
    pytest.param(lambda: OSError(errno.ENOBUFS, "No buffer space"), id="ENOBUFS"),
    pytest.param(lambda: OSError(errno.ENOMEM, "Cannot allocate memory"), id="ENOMEM"),
    pytest.param(lambda: _broken_by(errno.EMFILE), id="trio-shape"),
]


@pytest.mark.parametrize("error", CAPACITY_ERRORS)
async def test_a_multilistener_rides_out_capacity_errors_logging_once_per_burst(
    error: Any,
) -> None:
    first, second = object(), object()
    scripted = ScriptedListener([error(), error(), error(), first, error(), error(), second])
    handled: list[object] = []
    both = anyio.Event()

    def handler(connection: object) -> None:
        handled.append(connection)
        if len(handled) == 2:
            both.set()

    log = RecordWaiter()
    logging.getLogger("streamspec.stapled").addHandler(log)
    try:
        with anyio.fail_after(10):
            async with MultiListener([scripted]) as listener, anyio.create_task_group() as tg:
                tg.start_soon(listener.serve, handler)
                await both.wait()
                tg.cancel_scope.cancel()
    finally:
        logging.getLogger("streamspec.stapled").removeHandler(log)
    assert handled == [first, second]
    assert scripted.accepts >= 7
    refusals = [r for r in log.records if r.levelno >= logging.WARNING]
    assert len(refusals) == 2  # one per burst, not one per refused accept
    assert all(r.levelno == logging.ERROR for r in refusals)
    assert all("retrying" in r.getMessage() for r in refusals)


async def test_a_tls_listener_rides_out_emfile(
    server_context: ssl.SSLContext, client_context: ssl.SSLContext, tls_log: RecordWaiter
) -> None:
    client_end, server_end = byte_stream_pair()
    emfile = OSError(errno.EMFILE, "Too many open files")
    scripted = ScriptedListener([emfile, emfile, server_end])
    listener = TLSListener(scripted, server_context)
    with anyio.fail_after(10):
        async with listener, anyio.create_task_group() as tg:
            tg.start_soon(listener.serve, echo)
            async with await TLSStream.wrap(
                client_end, hostname="localhost", ssl_context=client_context
            ) as client:
                await client.send(b"served")
                assert await client.receive() == b"served"
            tg.cancel_scope.cancel()
    [refusal] = [r for r in tls_log.records if r.levelno >= logging.WARNING]
    assert "EMFILE" in refusal.getMessage()


async def test_another_accept_error_still_ends_serve(server_context: ssl.SSLContext) -> None:
    scripted = ScriptedListener([OSError(errno.EBADF, "Bad file descriptor")])
    listener = TLSListener(scripted, server_context)
    with anyio.fail_after(10):
        async with listener, anyio.create_task_group() as tg:
            with pytest.raises(OSError, match="Bad file descriptor"):
                await listener.serve(echo, tg)


_SHORT_OF_DESCRIPTORS = textwrap.dedent(
    """
    import os, resource, ssl, sys
    import anyio
    from streamspec.tls import TLSListener

    async def hold(stream):  # keeps its descriptor until the client hangs up
        async with stream:
            async for chunk in stream:
                await stream.send(chunk)

    async def main(certfile, headroom):
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(certfile)
        tcp = await anyio.create_tcp_listener(local_host="127.0.0.1")
        # A limit that leaves exactly `headroom` descriptor numbers free below it: new
        # descriptors take the lowest free numbers, and inherited ones may leave gaps.
        def in_use(fd):
            try:
                os.fstat(fd)
            except OSError:
                return False
            return True

        limit = free = 0
        while free < headroom:
            free += not in_use(limit)
            limit += 1
        resource.setrlimit(resource.RLIMIT_NOFILE, (limit, limit))
        print(tcp.extra(anyio.abc.SocketAttribute.local_port), flush=True)
        async with TLSListener(tcp, context) as listener:
            await listener.serve(hold)

    backend = sys.argv[3]
    options = {"use_uvloop": True} if backend == "uvloop" else {}
    anyio.run(
        main,
        sys.argv[1],
        int(sys.argv[2]),
        backend="asyncio" if backend == "uvloop" else backend,
        backend_options=options,
    )
    """
)


async def test_a_real_shortage_of_descriptors_passes(
    ca: trustme.CA,
    client_context: ssl.SSLContext,
    tmp_path: Path,
    anyio_backend: Any,
    anyio_backend_name: str,
) -> None:
    """A server (on the test's backend) whose RLIMIT_NOFILE leaves room for 3 connections: a
    4th waits in the backlog while accept() fails with EMFILE, and is served once a descriptor
    is free again."""
    certfile = tmp_path / "server.pem"
    ca.issue_cert("localhost").private_key_and_cert_chain_pem.write_to_path(str(certfile))
    script = tmp_path / "short_of_descriptors.py"
    script.write_text(_SHORT_OF_DESCRIPTORS)
    backend = "uvloop" if anyio_backend == ("asyncio", {"use_uvloop": True}) else anyio_backend_name
    # uvloop takes one more descriptor for a moment while it makes a transport of an accepted
    # socket, so it needs one more free descriptor to accept the third connection.
    headroom = 4 if backend == "uvloop" else 3
    with anyio.fail_after(30):
        server = await anyio.open_process(
            [sys.executable, str(script), str(certfile), str(headroom), backend],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        async with server:
            try:
                assert server.stdout is not None
                assert server.stderr is not None
                port = int((await server.stdout.receive()).decode())
                held: list[TLSStream] = []
                for number in range(3):
                    transport = await anyio.connect_tcp(LOOPBACK, port)
                    held.append(
                        await TLSStream.wrap(
                            transport, hostname="localhost", ssl_context=client_context
                        )
                    )
                    await held[-1].send(b"%d" % number)
                    assert await held[-1].receive() == b"%d" % number
                waiting = await anyio.connect_tcp(LOOPBACK, port)  # in the backlog: EMFILE
                stderr = b""
                while b"EMFILE" not in stderr:
                    stderr += await server.stderr.receive()
                for stream in held:
                    await stream.aclose()
                async with await TLSStream.wrap(
                    waiting, hostname="localhost", ssl_context=client_context
                ) as late:
                    await late.send(b"late")
                    assert await late.receive() == b"late"
                assert server.returncode is None
                server.terminate()
                await server.wait()
                async for chunk in server.stderr:  # what it wrote until the end
                    stderr += chunk
            finally:
                if server.returncode is None:
                    server.terminate()
                    await server.wait()
    assert stderr.count(b"EMFILE") == 1, stderr.decode()  # once for the whole burst


# -- arguments ---------------------------------------------------------------------------------


class DuckListener:
    """A listener by its methods alone, inheriting from nothing."""

    extra_attributes: ClassVar[dict[Any, Any]] = {}

    async def serve(self, handler: Any, task_group: Any = None) -> None:
        raise NotImplementedError

    async def aclose(self) -> None:
        pass


TLS_LISTENERS = [
    pytest.param(TLSListener, id="TLSListener"),
    pytest.param(TrioTLSListener, id="TrioTLSListener"),
]


@pytest.mark.parametrize("listener_class", TLS_LISTENERS)
@pytest.mark.parametrize(
    ("arguments", "error", "names"),
    [
        ({"ssl_context": None}, TypeError, "ssl_context"),
        ({"ssl_context": "server.pem"}, TypeError, "ssl_context"),
        ({"ssl_context": "client"}, ValueError, "ssl_context"),
        ({"ssl_context": "client-protocol"}, ValueError, "ssl_context"),
        ({"handshake_timeout": 0}, ValueError, "handshake_timeout"),
        ({"handshake_timeout": -1.5}, ValueError, "handshake_timeout"),
        ({"handshake_timeout": float("nan")}, ValueError, "handshake_timeout"),
        ({"handshake_timeout": float("inf")}, ValueError, "handshake_timeout"),
        ({"handshake_timeout": 10**400}, ValueError, "handshake_timeout"),
        ({"handshake_timeout": True}, TypeError, "handshake_timeout"),
        ({"handshake_timeout": "30"}, TypeError, "handshake_timeout"),
        ({"handshake_timeout": None}, TypeError, "handshake_timeout"),
        ({"standard_compatible": "no"}, TypeError, "standard_compatible"),
        ({"listener": object()}, TypeError, "listener"),
        ({"listener": None}, TypeError, "listener"),
    ],
)
def test_a_tls_listener_refuses_an_unusable_setup(
    server_context: ssl.SSLContext,
    listener_class: Any,
    arguments: dict[str, Any],
    error: type[Exception],
    names: str,
) -> None:
    if arguments.get("ssl_context") == "client":
        arguments["ssl_context"] = ssl.create_default_context(ssl.Purpose.SERVER_AUTH)
    elif arguments.get("ssl_context") == "client-protocol":
        client = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        client.check_hostname = False
        arguments["ssl_context"] = client
    settings = {"listener": DuckListener(), "ssl_context": server_context, **arguments}
    with pytest.raises(error, match=names):
        listener_class(**settings)


@pytest.mark.parametrize("listener_class", TLS_LISTENERS)
@pytest.mark.parametrize("timeout", [1, 0.25, Fraction(1, 3), 1e9])
def test_a_tls_listener_takes_any_finite_positive_timeout(
    server_context: ssl.SSLContext, listener_class: Any, timeout: Any
) -> None:
    listener = listener_class(DuckListener(), server_context, handshake_timeout=timeout)
    assert listener.handshake_timeout == timeout


# -- the Trio adapter's listeners (Trio only) ---------------------------------------------------

on_trio = pytest.mark.parametrize("anyio_backend", [pytest.param("trio", id="trio")])


@on_trio
@pytest.mark.parametrize("transport_listener", ["trio", "anyio"])
async def test_no_client_stops_a_trio_tls_listener(
    server_context: ssl.SSLContext, client_context: ssl.SSLContext, transport_listener: str
) -> None:
    """The issue saw a descriptor shortage stop TrioTLSListener over AnyIO's listener; both
    kinds of listener under it now serve on."""
    if transport_listener == "trio":
        (socket_listener,) = await trio.open_tcp_listeners(0, host=LOOPBACK)
        tcp: Any = from_trio_listener(socket_listener)
    else:
        tcp = await anyio.create_tcp_listener(local_host=LOOPBACK)
    port = tcp.extra(SocketAttribute.local_port)
    listener = TrioTLSListener(tcp, server_context, handshake_timeout=SILENCE_TIMEOUT)
    serve_ended: list[str] = []

    async def serve() -> None:
        try:
            await listener.serve(echo)
        finally:
            serve_ended.append("serve() ended")

    with _watching("streamspec.adapters.trio") as log, anyio.fail_after(20):
        async with listener, anyio.create_task_group() as tg:
            tg.start_soon(serve)
            await _hostile_clients(port, client_context, log)
            assert await _good_client(port, client_context, b"still here") == b"still here"
            assert serve_ended == []
            tg.cancel_scope.cancel()
    _check_hostile_records(log.records)


@on_trio
async def test_the_trio_listener_keeps_a_reset_to_its_connection() -> None:
    (socket_listener,) = await trio.open_tcp_listeners(0, host=LOOPBACK)
    listener = from_trio_listener(socket_listener)
    port = listener.extra(SocketAttribute.local_port)
    [record] = await _serve_plain_echo_through_a_reset(listener, port, "streamspec.adapters.trio")
    assert record.levelno == logging.INFO
    assert "ended by the peer" in record.getMessage()


class ScriptedTrioListener(trio.abc.Listener[trio.abc.Stream]):
    """A Trio listener whose ``accept()`` follows a script, as :class:`ScriptedListener`."""

    def __init__(self, script: list[Any]) -> None:
        self.script = script
        self._closed = trio.Event()

    async def accept(self) -> trio.abc.Stream:
        await trio.lowlevel.checkpoint()
        if self.script:
            step = self.script.pop(0)
            if isinstance(step, BaseException):
                raise step
            return step  # type: ignore[no-any-return]
        await self._closed.wait()
        raise trio.ClosedResourceError

    async def aclose(self) -> None:
        self._closed.set()


@on_trio
async def test_the_trio_listener_rides_out_emfile() -> None:
    emfile = OSError(errno.EMFILE, "Too many open files")
    client_end, server_end = trio.testing.memory_stream_pair()
    listener = from_trio_listener(ScriptedTrioListener([emfile, emfile, emfile, server_end]))
    served = anyio.Event()

    async def shout(stream: Any) -> None:
        async with stream:
            await stream.send((await stream.receive()).upper())
        served.set()

    with _watching("streamspec.adapters.trio") as log, anyio.fail_after(10):
        async with listener, anyio.create_task_group() as tg:
            tg.start_soon(listener.serve, shout)
            await client_end.send_all(b"hi")
            assert await client_end.receive_some() == b"HI"
            await served.wait()
            tg.cancel_scope.cancel()
    [refusal] = [r for r in log.records if r.levelno >= logging.WARNING]
    assert "EMFILE" in refusal.getMessage()
