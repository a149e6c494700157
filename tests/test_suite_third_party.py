"""The suite on a stream written as a third party would: plain classes, no ``anyio.abc``.

Its receive() can be made to skip its checkpoint, so that the failure messages a third-party
maintainer reads can be checked: each line names the subject it is about, and nothing else.
"""

from __future__ import annotations

import dataclasses
import select
import socket
import time
from collections import deque
from collections.abc import AsyncIterator, Callable, Mapping
from contextlib import asynccontextmanager
from typing import Any

import anyio
import anyio.lowlevel
import anyio.to_thread
import pytest

from streamspec import ByteStream
from streamspec.conformance import Outcome, Target, observe, run_checks


class _Pipe:
    def __init__(self) -> None:
        self.buffer = bytearray()
        self.ended = False
        #: The writer closed (rather than sent EOF), and the reader is told it was cut.
        self.cut = False
        self.reader_closed = False
        self.changed = anyio.Event()

    def wake(self) -> None:
        self.changed.set()
        self.changed = anyio.Event()


class PlainByteStream:
    """One end of an in-memory byte stream pair; ``eager`` skips receive()'s checkpoint, a
    ``touchy`` one raises when closed twice, a ``lockstep`` send() returns only once its
    bytes are received, a ``cut_on_close`` one cannot half-close and tells its peer of a
    close with BrokenResourceError (as a transport that cannot tell a clean end may), and a
    ``silent`` one never tells its peer of an end at all: its send_eof() only stops its own
    sending and its aclose() is not seen by the peer (a serial line, whose wire stays up)."""

    def __init__(
        self,
        incoming: _Pipe,
        outgoing: _Pipe,
        *,
        eager: bool,
        touchy: bool = False,
        lockstep: bool = False,
        cut_on_close: bool = False,
        silent: bool = False,
    ) -> None:
        self._in, self._out, self._eager, self._touchy = incoming, outgoing, eager, touchy
        self._lockstep, self._cut_on_close, self._silent = lockstep, cut_on_close, silent
        self._eof_sent = False
        self._closed = False

    @property
    def extra_attributes(self) -> Mapping[Any, Callable[[], Any]]:
        return {}

    def extra(self, attribute: Any, default: Any = ...) -> Any:
        if default is ...:
            raise anyio.TypedAttributeLookupError(f"{attribute!r} is not provided")
        return default

    async def receive(self, max_bytes: int = 65536) -> bytes:
        if not self._eager:
            await anyio.lowlevel.checkpoint_if_cancelled()
        if max_bytes < 1:
            raise ValueError("max_bytes must be at least 1")
        while True:
            if self._closed:
                raise anyio.ClosedResourceError
            if self._in.buffer:
                chunk = bytes(self._in.buffer[:max_bytes])
                del self._in.buffer[:max_bytes]
                if self._lockstep:
                    self._in.wake()  # a sender waits for its bytes to be taken
                if not self._eager:
                    await anyio.lowlevel.cancel_shielded_checkpoint()
                return chunk
            if self._in.ended:
                raise anyio.BrokenResourceError if self._in.cut else anyio.EndOfStream
            await self._in.changed.wait()

    async def send(self, item: bytes) -> None:
        await anyio.lowlevel.checkpoint_if_cancelled()
        if self._closed or self._out.ended or self._eof_sent:
            raise anyio.ClosedResourceError
        if self._out.reader_closed:
            raise anyio.BrokenResourceError
        self._out.buffer += item
        self._out.wake()
        if self._lockstep:
            while self._out.buffer and not self._gone():
                await self._out.changed.wait()
            return
        await anyio.lowlevel.cancel_shielded_checkpoint()

    def _gone(self) -> bool:
        """Whether this end or the peer's receiving is closed: sent bytes will not be taken."""
        return self._closed or self._out.reader_closed

    async def send_eof(self) -> None:
        await anyio.lowlevel.checkpoint()
        if self._closed:
            raise anyio.ClosedResourceError
        if self._cut_on_close:
            raise NotImplementedError("this transport cannot end one direction alone")
        self._eof_sent = True
        if not self._silent:
            self._out.ended = True
            self._out.wake()

    async def aclose(self) -> None:
        if self._touchy and self._closed:
            raise anyio.ClosedResourceError("closed twice")
        if not self._closed:
            self._closed = True
            if not self._silent:
                self._out.ended = True
                self._out.cut = self._cut_on_close
                self._in.reader_closed = True
                self._out.wake()
            self._in.wake()
        await anyio.lowlevel.checkpoint()

    async def __aenter__(self) -> PlainByteStream:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()

    def __aiter__(self) -> PlainByteStream:
        return self

    async def __anext__(self) -> bytes:
        try:
            return await self.receive()
        except anyio.EndOfStream:
            raise StopAsyncIteration from None


def plain_target(
    *,
    eager: bool = False,
    touchy: bool = False,
    lockstep: bool = False,
    cut_on_close: bool = False,
    silent: bool = False,
) -> Target:
    @asynccontextmanager
    async def pair() -> AsyncIterator[tuple[PlainByteStream, PlainByteStream]]:
        there, back = _Pipe(), _Pipe()
        options = {
            "touchy": touchy,
            "lockstep": lockstep,
            "cut_on_close": cut_on_close,
            "silent": silent,
        }
        left = PlainByteStream(back, there, eager=eager, **options)
        right = PlainByteStream(there, back, eager=eager, **options)
        async with left, right:
            yield left, right

    @asynccontextmanager
    async def one_way() -> AsyncIterator[tuple[PlainByteStream, PlainByteStream]]:
        async with pair() as ends:
            yield ends

    return Target(name="plain", byte_stream_pair=pair, one_way_byte_stream=one_way)


@pytest.mark.parametrize("lockstep", [False, True], ids=["buffered", "lockstep"])
def test_a_plain_byte_stream_keeps_the_byte_rules(lockstep: bool) -> None:
    # A lock-step stream, whose send() returns once its bytes are received, is valid too.
    results = run_checks(plain_target(lockstep=lockstep), roles=["byte"], backends=["asyncio"])
    assert [r.outcome for r in results] == [Outcome.PASSED] * len(results), [
        (r.rule.id, r.message) for r in results if r.outcome is not Outcome.PASSED
    ]


def test_each_checkpoint_problem_names_its_own_subject_only() -> None:
    (result,) = run_checks(
        plain_target(eager=True), rules=["ASYNC-CHECKPOINT"], backends=["asyncio"]
    )
    assert result.outcome is Outcome.FAILED
    lines = result.message.splitlines()
    subjects = ("one_way_byte_stream", "byte_stream_pair")
    assert {line.split(":")[0] for line in lines} == set(subjects), lines
    for line in lines:
        assert sum(name in line for name in subjects) == 1, line
    assert any("receive() with data ready inside a cancelled scope" in line for line in lines)


def test_a_factory_that_fails_to_close_is_named_as_such() -> None:
    (result,) = run_checks(plain_target(touchy=True), rules=["BYTE-CLOSED"], backends=["trio"])
    assert result.outcome is Outcome.FAILED
    assert result.message == (
        "byte_stream_pair: closing it after the check raised ClosedResourceError: closed twice"
    )


def test_a_factory_that_fails_to_close_does_not_hide_the_verdict() -> None:
    (result,) = run_checks(
        plain_target(touchy=True), rules=["RES-ACLOSE-IDEMPOTENT"], backends=["asyncio"]
    )
    assert result.outcome is Outcome.FAILED
    assert result.message.splitlines() == [
        "byte_stream_pair: a second aclose() of the left end raised ClosedResourceError: "
        "closed twice",
        "byte_stream_pair: closing it then raised ClosedResourceError: closed twice",
    ]


async def connect_to_nobody() -> None:
    await anyio.lowlevel.checkpoint()
    raise ConnectionRefusedError("no server")


def test_a_factory_that_fails_to_open_is_named_as_such() -> None:
    ((_, pair_of_target),) = plain_target().factories("byte_stream_pair")

    @asynccontextmanager
    async def refused() -> AsyncIterator[tuple[ByteStream, ByteStream]]:
        await connect_to_nobody()
        async with pair_of_target() as ends:  # never reached
            yield ends

    target = Target(name="refused", byte_stream_pair=refused)
    (result,) = run_checks(target, rules=["BYTE-CLOSED"], backends=["asyncio"])
    assert result.outcome is Outcome.FAILED
    assert result.message == "byte_stream_pair: opening it raised ConnectionRefusedError: no server"


def test_a_property_failure_shows_the_example_and_no_advice_for_a_test_function() -> None:
    # The project's ci profile prints reproduction blobs for the project's own tests; a
    # conformance run uses that profile without them, since a target's author has no test
    # function to decorate: the report's command line with the run's seed repeats the failure.
    from hypothesis import settings

    from stubs.broken_byte_max_bytes import target

    (result,) = run_checks(target, rules=["BYTE-MAX-BYTES"], backends=["asyncio"], profile="ci")
    assert result.outcome is Outcome.FAILED
    assert "Failing test case" in result.message
    assert "@reproduce_failure(" not in result.message
    assert settings.get_profile("ci").print_blob


def test_a_send_eof_that_ends_both_directions_says_which_call_failed() -> None:
    from stubs.broken_byte_send_eof_both_ways import target

    (result,) = run_checks(target, rules=["BYTE-SEND-EOF"], backends=["trio"])
    assert result.outcome is Outcome.FAILED
    # Which end notices first (the receive, or the peer's send) is the scheduler's choice.
    assert result.message.startswith(
        "stapled memory pair: after send_eof(), the other direction stopped working: "
    ), result.message


def test_a_rendezvous_object_stream_keeps_the_object_and_resource_rules() -> None:
    # Without a buffer, send() returns only once a receiver has taken the item: valid, and
    # the checks must not deadlock on it.
    from streamspec.memory import create_memory_object_stream

    @asynccontextmanager
    async def rendezvous() -> AsyncIterator[tuple[Any, Any]]:
        send, receive = create_memory_object_stream[object](0)
        async with send, receive:
            yield send, receive

    target = Target(name="rendezvous", object_stream_pair=rendezvous)
    results = run_checks(target, roles=["object", "resource"], backends=["asyncio"])
    assert all(r.outcome is not Outcome.FAILED for r in results), [
        (r.rule.id, r.message) for r in results if r.outcome is Outcome.FAILED
    ]
    assert sum(r.outcome is Outcome.PASSED for r in results) >= 10


# -- a socket pair and a ring buffer, as a library author writes them ---------------------------
#
# Plain classes over socket.socketpair() and a deque, written from the docs alone, with
# explicit Target factories. Each takes a set of planted bugs, one per class of bug the suite
# once let through; the clean classes pass, and each planted bug fails its rule on both
# backends.


class SocketByteStream:
    """One end of a socket.socketpair(), non-blocking, waiting with AnyIO's fd readiness."""

    def __init__(self, sock: socket.socket, bugs: frozenset[str]) -> None:
        sock.setblocking(False)
        self._sock, self._bugs = sock, bugs
        self._closed = False
        self._eof_sent = False
        self._sending = False

    @property
    def extra_attributes(self) -> Mapping[Any, Callable[[], Any]]:
        return {}

    def extra(self, attribute: Any, default: Any = ...) -> Any:
        if default is ...:
            raise anyio.TypedAttributeLookupError(f"{attribute!r} is not provided")
        return default

    async def receive(self, max_bytes: int = 65536) -> bytes:
        await anyio.lowlevel.checkpoint_if_cancelled()
        if max_bytes < 1:
            raise ValueError("max_bytes must be at least 1")
        while True:
            if self._closed:
                raise anyio.ClosedResourceError
            try:
                data = self._sock.recv(max_bytes)
            except BlockingIOError:
                await anyio.wait_readable(self._sock)
                continue
            except OSError as exc:
                raise anyio.BrokenResourceError from exc
            if not data:
                raise anyio.EndOfStream
            await anyio.lowlevel.cancel_shielded_checkpoint()
            return data

    async def send(self, item: bytes) -> None:
        await anyio.lowlevel.checkpoint_if_cancelled()
        if self._closed:
            raise anyio.ClosedResourceError
        if self._sending:
            raise anyio.BusyResourceError("sending")
        self._sending = True
        try:
            # Waiting for writability first, as a serial port's write does: the task counts
            # as blocked for a moment even when the socket has room.
            await anyio.wait_writable(self._sock)
            await self._send_all(memoryview(item))
        finally:
            self._sending = False
        await anyio.lowlevel.cancel_shielded_checkpoint()

    async def _send_all(self, view: memoryview) -> None:
        while view:
            if self._closed:
                raise anyio.ClosedResourceError
            try:
                sent = self._sock.send(view)
            except BlockingIOError:
                await anyio.wait_writable(self._sock)
                continue
            except OSError as exc:
                if "swallow-after-eof" in self._bugs and self._eof_sent:
                    return  # planted: EPIPE after shutdown(SHUT_WR) taken for success
                if "swallow-peer-closed" in self._bugs and not self._eof_sent:
                    return  # planted: EPIPE of a closed peer taken for success
                raise anyio.BrokenResourceError from exc
            view = view[sent:]

    async def send_eof(self) -> None:
        await anyio.lowlevel.checkpoint()
        if self._closed:
            raise anyio.ClosedResourceError
        if self._sending:  # a correct stream may refuse to end what it is still sending
            raise anyio.BusyResourceError("sending")
        if "eof-drains-only" in self._bugs:
            return  # planted: like a serial port's, it only waits for the output to drain
        if not self._eof_sent:
            self._eof_sent = True
            self._sock.shutdown(socket.SHUT_WR)

    async def aclose(self) -> None:
        if not self._closed:
            self._closed = True
            anyio.notify_closing(self._sock)
            self._sock.close()
        await anyio.lowlevel.checkpoint()

    async def __aenter__(self) -> SocketByteStream:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()

    def __aiter__(self) -> SocketByteStream:
        return self

    async def __anext__(self) -> bytes:
        try:
            return await self.receive()
        except anyio.EndOfStream:
            raise StopAsyncIteration from None


class _Ring:
    """One direction of a ring-buffer object stream: the items, and who can still use it."""

    def __init__(self, capacity: int) -> None:
        self.items: deque[Any] = deque()
        self.capacity = capacity
        self.senders = 1
        self.receivers = 1
        self.eof = False
        self.changed = anyio.Event()

    def wake(self) -> None:
        self.changed.set()
        self.changed = anyio.Event()


class _HandleState:
    closed = False


class RingObjectStream:
    """One end of a bidirectional object stream over two bounded deques; clone() makes
    another handle of the same end (a send clone and a receive clone at once)."""

    def __init__(
        self, outgoing: _Ring, incoming: _Ring, bugs: frozenset[str], state: _HandleState
    ) -> None:
        self._out, self._in, self._bugs, self._state = outgoing, incoming, bugs, state

    @property
    def extra_attributes(self) -> Mapping[Any, Callable[[], Any]]:
        return {}

    def extra(self, attribute: Any, default: Any = ...) -> Any:
        if default is ...:
            raise anyio.TypedAttributeLookupError(f"{attribute!r} is not provided")
        return default

    async def receive(self) -> Any:
        await anyio.lowlevel.checkpoint_if_cancelled()
        ring = self._in
        while True:
            if self._state.closed:
                raise anyio.ClosedResourceError
            if ring.items:
                item = ring.items.popleft()
                ring.wake()
                await anyio.lowlevel.cancel_shielded_checkpoint()
                return item
            if ring.eof or ring.senders == 0:
                raise anyio.EndOfStream
            await ring.changed.wait()

    async def send(self, item: Any) -> None:
        ring = self._out
        if "yield-after-commit" in self._bugs and len(ring.items) < ring.capacity:
            await anyio.lowlevel.checkpoint_if_cancelled()
            ring.items.append(item)  # planted: a cancellation point after the commit
            ring.wake()
            await anyio.lowlevel.checkpoint()
            return
        if "commit-then-yield" in self._bugs and len(ring.items) < ring.capacity:
            ring.items.append(item)  # planted: committed before the checkpoint
            ring.wake()
            await anyio.lowlevel.checkpoint()
            return
        await anyio.lowlevel.checkpoint_if_cancelled()
        while True:
            if self._state.closed:
                raise anyio.ClosedResourceError
            if ring.eof and "send-after-eof" not in self._bugs:  # planted: no such test
                raise anyio.ClosedResourceError
            if ring.receivers == 0:
                raise anyio.BrokenResourceError
            if len(ring.items) < ring.capacity:
                ring.items.append(item)
                ring.wake()
                break
            await ring.changed.wait()
        await anyio.lowlevel.cancel_shielded_checkpoint()

    async def send_eof(self) -> None:
        await anyio.lowlevel.checkpoint()
        if self._state.closed:
            raise anyio.ClosedResourceError
        self._out.eof = True
        self._out.wake()

    def clone(self) -> RingObjectStream:
        if self._state.closed:
            raise anyio.ClosedResourceError
        self._out.senders += 1
        self._in.receivers += 1
        # planted: the clone shares the original's closed state
        state = self._state if "shared-close" in self._bugs else _HandleState()
        return RingObjectStream(self._out, self._in, self._bugs, state)

    async def aclose(self) -> None:
        if "double-count" in self._bugs and self._state.closed:
            self._out.senders -= 1  # planted: a second aclose() counts the handle again
            self._in.receivers -= 1
        if not self._state.closed:
            self._state.closed = True
            self._out.senders -= 1
            self._in.receivers -= 1
            if "eager-end" in self._bugs:
                self._out.eof = True  # planted: any handle's close ends the stream
            self._out.wake()
            if "close-no-wake" not in self._bugs:  # planted: own receivers left waiting
                self._in.wake()
        await anyio.lowlevel.checkpoint()

    async def __aenter__(self) -> RingObjectStream:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()

    def __aiter__(self) -> RingObjectStream:
        return self

    async def __anext__(self) -> Any:
        try:
            return await self.receive()
        except anyio.EndOfStream:
            raise StopAsyncIteration from None


def third_party_target(*bugs: str) -> Target:
    planted = frozenset(bugs)

    @asynccontextmanager
    async def socket_pair() -> AsyncIterator[tuple[SocketByteStream, SocketByteStream]]:
        left_sock, right_sock = socket.socketpair()
        left = SocketByteStream(left_sock, planted)
        right = SocketByteStream(right_sock, planted)
        async with left, right:
            yield left, right

    @asynccontextmanager
    async def ring_pair() -> AsyncIterator[tuple[RingObjectStream, RingObjectStream]]:
        there, back = _Ring(1), _Ring(1)
        left = RingObjectStream(there, back, planted, _HandleState())
        right = RingObjectStream(back, there, planted, _HandleState())
        async with left, right:
            yield left, right

    return Target(
        name="third party" + "".join(f" +{bug}" for bug in bugs),
        byte_stream_pair=socket_pair,
        object_stream_pair=ring_pair,
    )


#: For the command line: a stream whose send_eof() never delivers the end, as anyserial's
#: socketpair test double (``streamspec check tests.test_suite_third_party:NEVER_ENDING``).
NEVER_ENDING = third_party_target("eof-drains-only")


#: A line whose ends never see each other's end (a serial cable: neither send_eof() nor aclose()
#: reaches the peer), in memory (``streamspec check tests.test_suite_third_party:SILENT_LINE``).
SILENT_LINE = dataclasses.replace(
    plain_target(silent=True), name="silent line", one_way_byte_stream=None
)


def _failures(results: list[Any]) -> list[tuple[str, str, str]]:
    return [(r.rule.id, r.backend, r.message) for r in results if r.outcome is Outcome.FAILED]


def test_the_third_party_streams_pass_the_suite() -> None:
    results = run_checks(
        third_party_target(), roles=["byte", "object", "resource"], backends=["asyncio", "trio"]
    )
    assert not _failures(results), _failures(results)
    passed = {r.rule.id for r in results if r.outcome is Outcome.PASSED}
    assert {"BYTE-SEND-AFTER-EOF", "BYTE-SEND-PEER-CLOSED", "OBJ-CLONE"} <= passed


@pytest.mark.parametrize(
    ("bug", "rule"),
    [
        ("swallow-after-eof", "BYTE-SEND-AFTER-EOF"),
        ("swallow-peer-closed", "BYTE-SEND-PEER-CLOSED"),
        ("send-after-eof", "OBJ-SEND-AFTER-EOF"),
        ("close-no-wake", "OBJ-CLOSE-WAKES"),
        ("shared-close", "OBJ-CLONE"),
        ("eager-end", "OBJ-CLONE"),
        ("double-count", "OBJ-CLONE"),
        ("commit-then-yield", "OBJ-SEND-CANCELLED"),
        ("yield-after-commit", "OBJ-SEND-CANCELLED"),
    ],
)
def test_each_planted_bug_fails_its_rule_on_both_backends(bug: str, rule: str) -> None:
    results = run_checks(third_party_target(bug), rules=[rule], backends=["asyncio", "trio"])
    assert [(r.backend, r.outcome) for r in results] == [
        ("asyncio", Outcome.FAILED),
        ("trio", Outcome.FAILED),
    ], [(r.backend, r.outcome, r.message) for r in results]
    subjects = ("byte_stream_pair: ", "object_stream_pair: ")
    assert all(r.message.startswith(subjects) for r in results), results


# -- no false failure, no wasted minute --------------------------------------------------------


def test_a_stream_whose_send_eof_never_ends_fails_byte_send_eof_only() -> None:
    # Its send_eof() only drains (as anyserial's socketpair double's): once BYTE-SEND-EOF has
    # said so, the other rules end the data by aclose() and neither fail nor wait in vain.
    results = run_checks(NEVER_ENDING, roles=["byte", "resource"], backends=["asyncio", "trio"])
    assert {(rule_id, backend) for rule_id, backend, _ in _failures(results)} == {
        ("BYTE-SEND-EOF", "asyncio"),
        ("BYTE-SEND-EOF", "trio"),
    }, _failures(results)
    (message,) = {message for _, _, message in _failures(results)}
    assert "send_eof() did not deliver the end" in message
    after_eof = [r.outcome for r in results if r.rule.id == "BYTE-SEND-AFTER-EOF"]
    assert after_eof == [Outcome.NOT_PROVIDED] * 2


#: The rules about the end, which a line whose data cannot be ended breaks; every other rule
#: reads its data by byte count instead of waiting for an end.
_END_RULES = {"BYTE-SEND-EOF", "BYTE-EOF", "BYTE-PEER-CLOSED", "BYTE-ITER", "BYTE-SEND-PEER-CLOSED"}


def test_a_stream_that_never_ends_fails_only_the_rules_about_the_end_and_quickly() -> None:
    started = time.monotonic()
    results = run_checks(SILENT_LINE, roles=["byte", "resource"], backends=["asyncio", "trio"])
    took = time.monotonic() - started
    failed = {(rule_id, backend) for rule_id, backend, _ in _failures(results)}
    assert failed == {(rule, b) for rule in _END_RULES for b in ("asyncio", "trio")}, _failures(
        results
    )
    messages = {rule_id: message for rule_id, _, message in _failures(results)}
    never = (
        "the peer never saw the end: neither send_eof() nor aclose() of the sender made "
        "receive() raise EndOfStream or BrokenResourceError within 3 s"
    )
    assert messages["BYTE-EOF"] == f"byte_stream_pair: {never}"
    assert messages["BYTE-ITER"] == f"byte_stream_pair: {never}"
    assert messages["BYTE-PEER-CLOSED"].endswith(never)
    assert "nor does its aclose()" in messages["BYTE-SEND-EOF"]
    # Each probe and each end rule waits a few PATIENCE (3 s) at most, never a check's budget.
    assert took < 90, f"the run took {took:.0f} s"


def test_a_peer_that_ends_in_broken_resource_error_has_ended_for_every_rule() -> None:
    # One meaning of "the peer ended": BYTE-EOF accepts what BYTE-PEER-CLOSED accepts from a
    # transport that cannot tell a clean end (its data is ended by aclose()).
    target = plain_target(cut_on_close=True)
    rules = ["BYTE-EOF", "BYTE-PEER-CLOSED", "BYTE-INTACT", "BYTE-ITER", "BYTE-MAX-BYTES-INVALID"]
    results = run_checks(target, rules=rules, backends=["asyncio", "trio"])
    assert [r.outcome for r in results] == [Outcome.PASSED] * len(rules) * 2, _failures(results)


def test_a_send_eof_refused_while_sending_is_not_raced_by_the_suite() -> None:
    # The socket stream refuses a send_eof() overlapping its own send() (BusyResourceError),
    # and its send() waits for writability first, so its task looks blocked for a moment.
    results = run_checks(
        third_party_target(), rules=["BYTE-MAX-BYTES-INVALID"], backends=["asyncio", "trio"]
    )
    assert [r.outcome for r in results] == [Outcome.PASSED] * 2, _failures(results)


class ThreadedReceiveStream(SocketByteStream):
    """Receives in a worker thread (as file and serial streams often do); its aclose() marks
    the stream closed but does not wake the thread, which only looks at the mark when it
    starts."""

    async def receive(self, max_bytes: int = 65536) -> bytes:
        await anyio.lowlevel.checkpoint_if_cancelled()
        if max_bytes < 1:
            raise ValueError("max_bytes must be at least 1")
        if self._closed:
            raise anyio.ClosedResourceError
        data = await anyio.to_thread.run_sync(
            self._wait_and_receive, max_bytes, abandon_on_cancel=True
        )
        if not data:
            raise anyio.EndOfStream
        return data

    def _wait_and_receive(self, max_bytes: int) -> bytes:
        if self._closed:
            raise anyio.ClosedResourceError
        select.select([self._sock], [], [])
        return self._sock.recv(max_bytes)

    async def aclose(self) -> None:
        self._closed = True  # the socket is closed by the factory, once the peer is
        await anyio.lowlevel.checkpoint()


def test_a_close_that_does_not_wake_a_receiving_thread_fails_byte_closed_wakes(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # More time than the suite's default for the worker thread to reach its select(), so
    # that a busy machine cannot make this test pass the stream by luck.
    monkeypatch.setattr(observe, "THREAD_SETTLE", 1.0)

    @asynccontextmanager
    async def pair() -> AsyncIterator[tuple[SocketByteStream, SocketByteStream]]:
        left_sock, right_sock = socket.socketpair()
        with left_sock, right_sock:
            left = SocketByteStream(left_sock, frozenset())
            right = ThreadedReceiveStream(right_sock, frozenset())
            async with right:
                yield left, right
                await left.aclose()  # the thread's select() returns: its peer has gone

    target = Target(name="threaded", byte_stream_pair=pair)
    results = run_checks(target, rules=["BYTE-CLOSED-WAKES"], backends=["asyncio", "trio"])
    assert [r.outcome for r in results] == [Outcome.FAILED] * 2
    for r in results:
        assert r.message.startswith(
            "byte_stream_pair: closing the stream while a task was blocked in its receive() "
            "left that task blocked"
        ), r.message


class BytesOnly:
    """An object stream end that carries bytes only (a datagram socket, say)."""

    def __init__(self, inner: Any) -> None:
        self._inner = inner

    async def send(self, item: object) -> None:
        if not isinstance(item, bytes):
            raise TypeError(f"only bytes can be sent, not {type(item).__name__}")
        await self._inner.send(item)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)


def test_an_object_stream_that_refuses_the_item_is_not_said_to_lose_it() -> None:
    ((_, ring_pair),) = third_party_target().factories("object_stream_pair")

    @asynccontextmanager
    async def bytes_only() -> AsyncIterator[tuple[Any, Any]]:
        async with ring_pair() as (left, right):
            yield BytesOnly(left), right

    target = Target(name="bytes only", object_stream_pair=bytes_only)
    results = run_checks(target, rules=["OBJ-RECEIVE-CANCELLED"], backends=["asyncio", "trio"])
    assert [r.outcome for r in results] == [Outcome.NOT_PROVIDED] * 2, results
    for r in results:
        assert "send(0) raised TypeError" in r.message, r.message
        assert "lost" not in r.message, r.message
