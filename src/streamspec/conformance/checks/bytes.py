"""Checks of the ``byte`` role: every byte stream the target provides (see
:mod:`..subjects`), each named in the failure message.

The properties draw where the sender splits its data and what ``max_bytes`` the receiver asks
for (:mod:`..strategies`); what arrives must not depend on either.

Check failures carry their own messages, so pytest must not rewrite this module's asserts
(PYTEST_DONT_REWRITE): the pytest plugin's report then reads like the CLI's.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from contextlib import suppress
from functools import partial
from typing import TypeVar

import anyio
import anyio.lowlevel
from hypothesis import given

from ...protocols import ByteReceiveStream, ByteSendStream, ByteStream
from ..instruments import Drain, first_arrival, receive_chunks, send_all, transfer
from ..observe import PATIENCE, describe, expect_raises, expect_returns, named, until_really_blocked
from ..registry import Context, check
from ..strategies import Chunked, chunked_payloads, receive_sizes
from ..subjects import (
    ByteChannel,
    BytePair,
    Subject,
    byte_channels,
    byte_pairs,
    end_problem,
    half_close_problem,
    one_way_channels,
)

__all__: list[str] = []

T = TypeVar("T")


def _channels(ctx: Context) -> list[Subject[ByteChannel]]:
    channels = byte_channels(ctx.target)
    if not channels:
        ctx.not_provided(
            "a byte stream (byte_stream_pair, one_way_byte_stream, or memory "
            "object streams with StapledByteStream and BufferedByteReceiveStream)"
        )
    return channels


def _pairs(ctx: Context) -> list[Subject[BytePair]]:
    pairs = byte_pairs(ctx.target)
    if not pairs:
        ctx.not_provided(
            "a bidirectional byte stream (byte_stream_pair, or memory object "
            "streams with StapledByteStream and BufferedByteReceiveStream)"
        )
    return pairs


def _for_each_chunking(
    ctx: Context, verify: Callable[[Subject[ByteChannel], Chunked, list[int]], Awaitable[None]]
) -> None:
    """Run ``verify`` on every channel, for drawn chunkings and receive sizes."""
    for subject in _channels(ctx):
        _chunking_property(ctx, subject, verify)()


def _chunking_property(
    ctx: Context,
    subject: Subject[ByteChannel],
    verify: Callable[[Subject[ByteChannel], Chunked, list[int]], Awaitable[None]],
) -> Callable[[], None]:
    @given(chunked_payloads(), receive_sizes())
    def prop(case: Chunked, sizes: list[int]) -> None:
        ctx.run(verify, subject, case, sizes)

    return prop


async def _received(subject: Subject[ByteChannel], case: Chunked, sizes: list[int]) -> list[bytes]:
    async with named(subject) as channel:
        return await transfer(
            channel.sender,
            channel.receiver,
            channel.finish,
            case.chunks,
            sizes,
            channel.ends,
            counted=channel.never_ends is not None,
        )


@check("BYTE-INTACT")
def byte_intact(ctx: Context) -> None:
    async def verify(subject: Subject[ByteChannel], case: Chunked, sizes: list[int]) -> None:
        got = b"".join(await _received(subject, case, sizes))
        assert got == case.data, (
            f"{subject.name}: sent {case.data!r} in chunks {case.chunks!r}, received with "
            f"max_bytes {sizes!r} (cycled): got {got!r}"
        )

    _for_each_chunking(ctx, verify)


@check("BYTE-NO-EMPTY")
def byte_no_empty(ctx: Context) -> None:
    async def verify(subject: Subject[ByteChannel], case: Chunked, sizes: list[int]) -> None:
        chunks = await _received(subject, case, sizes)
        assert all(chunks), (
            f"{subject.name}: receive() returned b'' before the end of the stream: chunks "
            f"{chunks!r} (sent {case.chunks!r}, max_bytes {sizes!r})"
        )

    _for_each_chunking(ctx, verify)


@check("BYTE-RETURNS-BYTES")
async def byte_returns_bytes(ctx: Context) -> None:
    # Whole chunks, parts of chunks and several chunks at once: a stream may build each kind
    # of result differently.
    chunks = [b"first", b"second chunk", b"x", b"last"]
    for subject in _channels(ctx):
        async with named(subject) as channel:
            with anyio.fail_after(PATIENCE):
                # Typed as objects: a broken target's receive() returns whatever it returns.
                received: list[object] = list(
                    await transfer(
                        channel.sender,
                        channel.receiver,
                        channel.finish,
                        chunks,
                        [3, 65536],
                        channel.ends,
                        counted=channel.never_ends is not None,
                    )
                )
        wrong = [chunk for chunk in received if not isinstance(chunk, bytes)]
        assert not wrong, (
            f"{subject.name}: receive() returned {type(wrong[0]).__name__} {wrong[0]!r}, not bytes"
        )


@check("BYTE-MAX-BYTES")
def byte_max_bytes(ctx: Context) -> None:
    async def verify(subject: Subject[ByteChannel], case: Chunked, sizes: list[int]) -> None:
        chunks = await _received(subject, case, sizes)
        for index, chunk in enumerate(chunks):
            limit = sizes[index % len(sizes)]
            assert len(chunk) <= limit, (
                f"{subject.name}: receive({limit}) returned {len(chunk)} bytes ({chunk!r}); "
                f"sent {case.chunks!r}"
            )

    _for_each_chunking(ctx, verify)


@check("BYTE-MAX-BYTES-INVALID")
async def byte_max_bytes_invalid(ctx: Context) -> None:
    for subject in _channels(ctx):
        async with named(subject) as channel:
            await _max_bytes_invalid(subject.name, channel)


async def _max_bytes_invalid(name: str, channel: ByteChannel) -> None:
    invalid_calls_done = anyio.Event()

    async def send_then_finish() -> None:
        # The data is ended only once send() has returned: a stream may refuse a send_eof()
        # that overlaps its own send() (BusyResourceError), and a send waiting for the
        # transport to be writable counts as blocked for wait_all_tasks_blocked().
        await channel.sender.send(b"abc")
        await invalid_calls_done.wait()
        await channel.finish()

    async with anyio.create_task_group() as tg:
        tg.start_soon(send_then_finish)
        await anyio.wait_all_tasks_blocked()
        for bad in (0, -1):
            problem = await expect_raises(ValueError, partial(channel.receiver.receive, bad))
            assert problem is None, f"{name}: receive({bad}) should raise ValueError, but {problem}"
        invalid_calls_done.set()
        length = 3 if channel.never_ends is not None else None
        got = b"".join(await receive_chunks(channel.receiver, ends=channel.ends, length=length))
    assert got == b"abc", (
        f"{name}: after receive(0) and receive(-1) raised, the data left was {got!r}, not "
        "b'abc': the invalid calls consumed bytes"
    )


@check("BYTE-EOF")
async def byte_eof(ctx: Context) -> None:
    for subject in _channels(ctx):
        async with named(subject) as channel:
            assert channel.never_ends is None, f"{subject.name}: {channel.never_ends}"
            got = await transfer(
                channel.sender, channel.receiver, channel.finish, [b"abc", b"de"], ends=channel.ends
            )
            assert b"".join(got) == b"abcde", f"{subject.name}: received {got!r}"
            # Data ended by aclose() may end in BrokenResourceError, as BYTE-PEER-CLOSED allows
            # (channel.ends): one meaning of "the peer ended" for every rule.
            ending = " or ".join(error.__name__ for error in channel.ends)
            for attempt in ("again", "a third time"):
                problem = await expect_raises(channel.ends, channel.receiver.receive)
                assert problem is None, (
                    f"{subject.name}: receive() after the end of the stream, {attempt}, should "
                    f"raise {ending}, but {problem}"
                )


@check("BYTE-SEND-DELIVERS")
async def byte_send_delivers(ctx: Context) -> None:
    # The peer's receive(1) waits first; the first byte must come within PATIENCE of the
    # send() with no further call on the sender (no flush, send_eof() or aclose()). What the
    # receive returns is the business of the other rules (BYTE-MAX-BYTES, BYTE-INTACT).
    problems: list[str] = []
    for subject in _channels(ctx):
        async with named(subject) as channel, anyio.create_task_group() as tasks:
            arrival = await first_arrival(channel, b"delivered", tasks)
            tasks.cancel_scope.cancel()
        if arrival.error is not None:
            problems.append(f"{subject.name}: {arrival.error}")
        elif arrival.data is None:
            then = (
                f"; it got {arrival.released!r} once the sender was closed"
                if arrival.released is not None
                else ""
            )
            problems.append(
                f"{subject.name}: after send(b'delivered'), a receive(1) waiting on the peer "
                f"got nothing for {PATIENCE:g} s while the sender stayed open{then}"
            )
    assert not problems, "\n".join(problems)


@check("BYTE-SEND-EOF")
async def byte_send_eof(ctx: Context) -> None:
    # A pair whose send_eof() raises NotImplementedError cannot half-close, which the spec
    # allows (a TLS stream may not): it is left out, and the rule is not provided only when
    # no pair could be checked.
    cannot: list[str] = []
    pairs = _pairs(ctx)
    for subject in pairs:
        instead = (
            "the other rules end this stream's data by aclose() instead"
            if await end_problem(ctx.target, subject) is None
            else "nor does its aclose(): the other rules read this stream's data by byte count"
        )
        async with named(subject) as pair:
            refusal = await _send_eof(subject.name, pair.left, pair.right, instead)
        if refusal is not None:
            cannot.append(f"{subject.name} ({refusal})")
    if len(cannot) == len(pairs):
        ctx.not_provided(
            "a byte pair that can half-close: send_eof() raised NotImplementedError on "
            + "; ".join(cannot)
        )


async def _released(sender: ByteSendStream, receiver: ByteReceiveStream, count: int) -> bytes:
    """Close ``sender`` and return up to ``count`` bytes that ``receiver`` then gets within
    PATIENCE (shielded: the caller may be cancelling)."""
    got = b""
    with anyio.CancelScope(shield=True), anyio.move_on_after(PATIENCE), suppress(Exception):
        await sender.aclose()
        while len(got) < count:
            got += await receiver.receive(count - len(got))
    return got


async def _send_eof(name: str, left: ByteStream, right: ByteStream, instead: str) -> str | None:
    """Check send_eof() on ``left``; return the message of its NotImplementedError if it
    raised that (and nothing was checked), else None. ``instead`` says how the other rules
    end the data when send_eof() does not."""
    refusals: list[str] = []

    async def send_then_eof() -> None:
        await left.send(b"before eof")
        try:
            await left.send_eof()
        except NotImplementedError as exc:
            refusals.append(str(exc) or "no reason given")
            tg.cancel_scope.cancel()
        eof_sent.set()

    reverse: list[str] = []
    eof_sent = anyio.Event()

    async def reply() -> None:
        try:
            await right.send(b"reply")
        except Exception as exc:
            reverse.append(f"the peer's send(b'reply') raised {describe(exc)}")

    async with anyio.create_task_group() as tg:
        tg.start_soon(send_then_eof)
        chunks: list[bytes] = []
        with anyio.move_on_after(PATIENCE) as waiting:
            with suppress(anyio.EndOfStream):
                while True:
                    chunks.append(await right.receive())
        got = b"".join(chunks)
        assert not waiting.cancelled_caught or refusals, (
            f"{name}: after send(b'before eof') and send_eof(), the peer received "
            f"{got!r} and then no end for {PATIENCE:g} s: send_eof() did not deliver the end "
            f"({instead})"
        )
        assert got == b"before eof" or refusals, (
            f"{name}: after send_eof() the peer received {got!r}, not b'before eof' then the end"
        )
        # The other way must work once send_eof() has returned, not only while it runs.
        with anyio.move_on_after(PATIENCE):
            await eof_sent.wait()
        tg.start_soon(reply)
        back = b""
        try:
            with anyio.move_on_after(PATIENCE):
                while len(back) < len(b"reply"):
                    back += await left.receive()
        except Exception as exc:
            reverse.append(f"receive() on the end that sent EOF raised {describe(exc)}")
    if refusals:
        return refusals[0]
    if not reverse and not back and await _released(right, left, len(b"reply")) == b"reply":
        # b'reply' came only once its sender closed: BYTE-SEND-DELIVERS's to report. The
        # other direction works; the rest needs the peer open, so nothing more is checked.
        return None
    assert not reverse, (
        f"{name}: after send_eof(), the other direction stopped working: {reverse[0]}"
    )
    assert back == b"reply", (
        f"{name}: after send_eof(), the peer sent b'reply' the other way and {back!r} arrived "
        f"within {PATIENCE:g} s: the other direction stopped working"
    )
    await expect_returns(f"{name}: a second send_eof()", left.send_eof)
    problem = await expect_raises(anyio.EndOfStream, right.receive)
    assert problem is None, (
        f"{name}: after a second send_eof(), the peer's receive() should still raise "
        f"EndOfStream, but {problem}"
    )
    return None


#: What send() may raise on a stream whose sending is over (after send_eof(), or once the peer
#: has closed): AnyIO's exceptions, never a raw OSError (decision 2 in docs/design.rst).
_SENDING_OVER: tuple[type[Exception], ...] = (anyio.ClosedResourceError, anyio.BrokenResourceError)


@check("BYTE-SEND-AFTER-EOF")
async def byte_send_after_eof(ctx: Context) -> None:
    # A pair that cannot half-close is left out: one whose send_eof() raises
    # NotImplementedError, and one whose send_eof() does not deliver the end (BYTE-SEND-EOF
    # reports that; a send after such a send_eof() has nothing to be refused for).
    cannot: list[str] = []
    pairs = _pairs(ctx)
    for subject in pairs:
        problem = await half_close_problem(ctx.target, subject)
        if problem is None:
            async with named(subject) as pair:
                problem = await _send_after_eof(subject.name, pair.left, pair.right)
        if problem is not None:
            cannot.append(f"{subject.name} ({problem})")
    if len(cannot) == len(pairs):
        ctx.not_provided("a byte pair that can half-close: " + "; ".join(cannot))


async def _send_after_eof(name: str, left: ByteStream, right: ByteStream) -> str | None:
    """Check send() after send_eof() on ``left``; return why it cannot half-close if its
    send_eof() raised NotImplementedError (and nothing was checked), else None."""
    # Receiving all along: a lock-step stream's send() returns once its bytes are taken.
    drain = Drain(right)
    async with anyio.create_task_group() as tg:
        tg.start_soon(drain.run)
        with anyio.fail_after(PATIENCE):
            await left.send(b"before")
        try:
            with anyio.fail_after(PATIENCE):
                await left.send_eof()
        except NotImplementedError as exc:
            tg.cancel_scope.cancel()
            return f"its send_eof() raised NotImplementedError: {str(exc) or 'no reason given'}"
        problem = await expect_raises(_SENDING_OVER, partial(left.send, b"after"))
        assert problem is None, (
            f"{name}: send(b'after') after send_eof() should raise ClosedResourceError or "
            f"BrokenResourceError, but {problem}"
        )
        await drain.wait(PATIENCE)
        tg.cancel_scope.cancel()
    got = b"".join(drain.received)
    assert b"after" not in got, (
        f"{name}: send(b'after') after send_eof() raised, yet the peer received {got!r}"
    )
    if drain.ending == "EndOfStream":
        # Whether the end arrives at all is BYTE-SEND-EOF's business; once it has, nothing
        # may follow it.
        with anyio.move_on_after(PATIENCE):
            try:
                late = await right.receive()
            except Exception:
                return None
            raise AssertionError(
                f"{name}: the peer saw EndOfStream after send_eof(), then receive() returned "
                f"{late!r}"
            )
    return None


@check("BYTE-PEER-CLOSED")
async def byte_peer_closed(ctx: Context) -> None:
    for subject in _channels(ctx):
        async with named(subject) as channel:
            await _peer_closed(subject.name, channel)


async def _peer_closed(name: str, channel: ByteChannel) -> None:
    async def send_then_close() -> None:
        await channel.sender.send(b"last words")
        await channel.sender.aclose()

    got = b""
    ending: str | None = None
    async with anyio.create_task_group() as tg:
        tg.start_soon(send_then_close)
        with anyio.move_on_after(PATIENCE):
            while True:
                try:
                    got += await channel.receiver.receive()
                except (anyio.EndOfStream, anyio.BrokenResourceError) as exc:
                    ending = type(exc).__name__
                    break
                except Exception as exc:
                    raise AssertionError(
                        f"{name}: after the peer closed, receive() raised {describe(exc)} "
                        f"(received {got!r} before)"
                    ) from exc
    assert ending is not None, (
        f"{name}: after the peer closed, receive() blocked for {PATIENCE:g} s (received {got!r})"
        + ("" if channel.never_ends is None else f"; {channel.never_ends}")
    )
    assert got == b"last words" or ending == "BrokenResourceError", (
        f"{name}: after the peer closed, received {got!r} then {ending}: the data sent before "
        "closing was lost"
    )


#: BYTE-SEND-PEER-CLOSED: how much a stream may accept after its peer has closed, and in
#: what sends. A TCP send to a closed peer succeeds until the peer's reset comes back (one or
#: two sends on loopback); kernel buffers, which hold data only for a peer that may still read
#: it, are no excuse. 4 MiB is far beyond either, so a stream still accepting then is
#: dropping what it is given.
_PEER_CLOSED_LIMIT = 4 * 1024 * 1024
_PEER_CLOSED_CHUNK = b"x" * (64 * 1024)


@check("BYTE-SEND-PEER-CLOSED")
async def byte_send_peer_closed(ctx: Context) -> None:
    for subject in _channels(ctx):
        async with named(subject) as channel:
            await _send_to_closed_peer(subject.name, channel)


async def _send_to_closed_peer(name: str, channel: ByteChannel) -> None:
    await channel.receiver.aclose()
    accepted = 0
    while accepted < _PEER_CLOSED_LIMIT:
        try:
            with anyio.fail_after(PATIENCE):
                await channel.sender.send(_PEER_CLOSED_CHUNK)
        except anyio.BrokenResourceError:
            return
        except TimeoutError:
            raise AssertionError(
                f"{name}: after the peer closed, send() blocked for {PATIENCE:g} s (after "
                f"{accepted} bytes were accepted) instead of raising BrokenResourceError"
            ) from None
        except Exception as exc:
            raise AssertionError(
                f"{name}: after the peer closed, send() raised {describe(exc)} instead of "
                "BrokenResourceError"
            ) from exc
        accepted += len(_PEER_CLOSED_CHUNK)
        # A turn of the event loop between sends, for the peer's reset to come back.
        await anyio.lowlevel.checkpoint()
    raise AssertionError(
        f"{name}: after the peer closed, send() accepted {accepted} bytes without raising "
        "BrokenResourceError: data that can never arrive is dropped unannounced"
    )


#: What an operation on a closed stream raises.
_CLOSED: tuple[type[Exception], ...] = (anyio.ClosedResourceError,)


@check("BYTE-CLOSED")
async def byte_closed(ctx: Context) -> None:
    for pair_subject in _pairs(ctx):
        # A stream that cannot half-close may say so after it is closed too.
        eof_errors = _CLOSED
        if not await _can_half_close(pair_subject):
            eof_errors += (NotImplementedError,)
        async with named(pair_subject) as pair:
            await pair.left.aclose()
            await _all_closed(
                pair_subject.name,
                [
                    ("receive()", pair.left.receive, _CLOSED),
                    ("send(b'x')", partial(pair.left.send, b"x"), _CLOSED),
                    ("send_eof()", pair.left.send_eof, eof_errors),
                ],
            )
    for subject in one_way_channels(ctx.target):  # the pairs were covered above
        async with named(subject) as channel:
            await channel.sender.aclose()
            await channel.receiver.aclose()
            await _all_closed(
                subject.name,
                [
                    ("send(b'x')", partial(channel.sender.send, b"x"), _CLOSED),
                    ("receive()", channel.receiver.receive, _CLOSED),
                ],
            )


async def _can_half_close(subject: Subject[BytePair]) -> bool:
    """Whether the left end's ``send_eof()`` does not raise NotImplementedError (tried on a
    fresh instance of the subject; any other failure is BYTE-SEND-EOF's to report)."""
    async with named(subject) as pair:
        try:
            with anyio.fail_after(PATIENCE):
                await pair.left.send_eof()
        except NotImplementedError:
            return False
        except Exception:
            return True
    return True


async def _all_closed(
    name: str,
    operations: list[tuple[str, Callable[[], Awaitable[object]], tuple[type[Exception], ...]]],
) -> None:
    for label, operation, expected in operations:
        problem = await expect_raises(expected, operation)
        names = " or ".join(error.__name__ for error in expected)
        assert problem is None, (
            f"{name}: {label} on a closed stream should raise {names}, but {problem}"
        )


@check("BYTE-CLOSED-WAKES")
async def byte_closed_wakes(ctx: Context) -> None:
    for subject in _channels(ctx):
        async with named(subject) as channel:
            await _closed_wakes(subject.name, channel)


async def _closed_wakes(name: str, channel: ByteChannel) -> None:
    outcome: list[str] = []
    woken = anyio.Event()

    async def blocked_receive() -> None:
        try:
            chunk = await channel.receiver.receive()
        except anyio.ClosedResourceError:
            outcome.append("ClosedResourceError")
        except Exception as exc:
            outcome.append(f"raised {describe(exc)}")
        else:
            outcome.append(f"returned {chunk!r}")
        woken.set()

    async with anyio.create_task_group() as tg:
        tg.start_soon(blocked_receive)
        await until_really_blocked()
        await channel.receiver.aclose()
        with anyio.move_on_after(PATIENCE):
            await woken.wait()
        tg.cancel_scope.cancel()
    assert outcome == ["ClosedResourceError"], f"{name}: closing the stream while a task was " + (
        f"blocked in its receive() left that task blocked for {PATIENCE:g} s"
        if not outcome
        else f"blocked in its receive() woke it, but receive() {outcome[0]}"
    )


@check("BYTE-RECEIVE-CANCELLED")
async def byte_receive_cancelled(ctx: Context) -> None:
    for subject in _channels(ctx):
        async with named(subject) as channel:
            await _receive_cancelled(subject.name, channel)


async def _receive_cancelled(name: str, channel: ByteChannel) -> None:
    # A receive() that swallows the cancellation of its scope goes on waiting; the data sent
    # to end the wait then shows whether it also took bytes meant for the next receive().
    outcome: list[str] = []
    ended = anyio.Event()

    async def blocked_receive(scope: anyio.CancelScope) -> None:
        with scope:
            try:
                chunk = await channel.receiver.receive()
            except Exception as exc:
                outcome.append(f"raised {describe(exc)}")
            else:
                outcome.append(f"returned {chunk!r}")
        ended.set()

    # The sends run in tasks of their own: on a lock-step stream, send() returns only once
    # the data is received.
    scope = anyio.CancelScope()
    got = b""
    async with anyio.create_task_group() as tg:
        tg.start_soon(blocked_receive, scope)
        await anyio.wait_all_tasks_blocked()
        scope.cancel()
        with anyio.move_on_after(PATIENCE):
            await ended.wait()
        still_waiting = not ended.is_set()
        tg.start_soon(channel.sender.send, b"next")
        if still_waiting:
            with anyio.move_on_after(PATIENCE):
                await ended.wait()
        elif not outcome:
            with anyio.move_on_after(PATIENCE):
                while len(got) < 4:
                    got += await channel.receiver.receive(4 - len(got))
            if not got:
                # A stream that delivers only once its sender is closed (BYTE-SEND-DELIVERS's
                # business) lets b'next' go now; this rule asks only which receive gets it.
                got = await _released(channel.sender, channel.receiver, 4)
        tg.cancel_scope.cancel()
    if still_waiting:
        then = f"; given b'next', it {outcome[0]}" if outcome else ""
        raise AssertionError(
            f"{name}: a receive() waiting for data went on waiting for {PATIENCE:g} s after "
            f"its cancel scope was cancelled{then}"
        )
    assert not outcome, (
        f"{name}: a receive() waiting for data, when its cancel scope was cancelled, "
        f"{outcome[0]} instead of raising the cancellation"
    )
    assert got == b"next", (
        f"{name}: after a receive() waiting for data was cancelled, b'next' was sent and the "
        f"next receive() got {got!r}"
    )


@check("BYTE-ITER")
def byte_iter(ctx: Context) -> None:
    async def verify(subject: Subject[ByteChannel], case: Chunked, sizes: list[int]) -> None:
        del sizes  # iteration asks for the default size
        got: list[bytes] = []
        async with named(subject) as channel, anyio.create_task_group() as tg:
            tg.start_soon(send_all, channel.sender, case.chunks, channel.finish)
            # Data ended by aclose() may end in BrokenResourceError (see channel.ends), which
            # iteration passes on: BYTE-PEER-CLOSED's meaning of "the peer ended".
            cut_short = tuple(error for error in channel.ends if error is not anyio.EndOfStream)
            try:
                async for chunk in channel.receiver:
                    got.append(chunk)
                    if len(got) > 10_000:
                        break
            except cut_short:
                pass
        assert all(got), f"{subject.name}: iteration yielded b'' among {got!r}"
        assert b"".join(got) == case.data, (
            f"{subject.name}: iterating yielded {got!r} for {case.chunks!r} sent"
        )

    # Iteration stops only at the end: a channel whose data cannot be ended fails once, and
    # the others are still judged.
    endless: list[str] = []
    for subject in _channels(ctx):
        never_ends = ctx.run(_never_ends, subject)
        if never_ends is not None:
            endless.append(f"{subject.name}: {never_ends}")
        else:
            _chunking_property(ctx, subject, verify)()
    assert not endless, "\n".join(endless)


async def _never_ends(subject: Subject[ByteChannel]) -> str | None:
    async with named(subject) as channel:
        return channel.never_ends
