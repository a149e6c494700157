"""Checks of the ``buffered`` role: every buffered receiver the target provides (see
:mod:`..subjects`), fed by a one-way path whose chunking the properties draw.

Decision 8 in docs/design.rst is the model: ``receive_until`` is decided by the bytes
alone, never by how they were chunked, and no error loses a byte
(:class:`~..strategies.UntilCase` computes the expected answer).

Check failures carry their own messages, so pytest must not rewrite this module's asserts
(PYTEST_DONT_REWRITE): the pytest plugin's report then reads like the CLI's.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from functools import partial
from typing import Any

import anyio
from hypothesis import given
from hypothesis import strategies as st

from ..instruments import receive_chunks, send_all
from ..observe import PATIENCE, expect_raises, named
from ..registry import Context, check
from ..strategies import (
    Chunked,
    UntilCase,
    chunked_payloads,
    exact_sizes,
    receive_sizes,
    until_cases,
)
from ..subjects import BufferedChannel, Subject, buffered_channels

__all__: list[str] = []


def _channels(ctx: Context) -> list[Subject[BufferedChannel]]:
    channels = buffered_channels(ctx.target)
    if not channels:
        ctx.not_provided("BufferedByteReceiveStream or BufferedByteStream")
    return channels


def _for_each_channel(
    ctx: Context,
    strategy: st.SearchStrategy[Any],
    verify: Callable[[Subject[BufferedChannel], Any], Awaitable[None]],
) -> None:
    """Run ``verify(subject, drawn)`` on every buffered channel for values of ``strategy``."""
    for subject in _channels(ctx):
        _property(ctx, subject, strategy, verify)()


def _property(
    ctx: Context,
    subject: Subject[BufferedChannel],
    strategy: st.SearchStrategy[Any],
    verify: Callable[[Subject[BufferedChannel], Any], Awaitable[None]],
) -> Callable[[], None]:
    @given(strategy)
    def prop(drawn: Any) -> None:
        ctx.run(verify, subject, drawn)

    return prop


async def _with_sender(
    channel: BufferedChannel, chunks: list[bytes], body: Callable[[], Awaitable[None]]
) -> None:
    """Run ``body`` while a task sends ``chunks`` and then ends the stream."""
    async with anyio.create_task_group() as tg:
        tg.start_soon(send_all, channel.sender, chunks, channel.finish)
        await body()


@st.composite
def _receive_plans(draw: st.DrawFn) -> tuple[Chunked, int, list[int]]:
    case = draw(chunked_payloads())
    return case, draw(st.integers(0, len(case.data))), draw(receive_sizes())


@check("BUF-RECEIVE")
def buf_receive(ctx: Context) -> None:
    async def verify(
        subject: Subject[BufferedChannel], plan: tuple[Chunked, int, list[int]]
    ) -> None:
        case, first, sizes = plan
        got: list[bytes] = []
        async with named(subject) as channel:

            async def body() -> None:
                got.append(await channel.receiver.receive_exactly(first))
                got.extend(await receive_chunks(channel.receiver, sizes))

            await _with_sender(channel, case.chunks, body)
        for index, chunk in enumerate(got[1:]):
            limit = sizes[index % len(sizes)]
            assert 0 < len(chunk) <= limit, (
                f"{subject.name}: receive({limit}) returned {chunk!r} (sent {case.chunks!r}, "
                f"receive_exactly({first}) first)"
            )
        assert b"".join(got) == case.data, (
            f"{subject.name}: sent {case.chunks!r}; receive_exactly({first}) then receive() with "
            f"max_bytes {sizes!r} gave {got!r}: buffered bytes must come first"
        )

    _for_each_channel(ctx, _receive_plans(), verify)


@st.composite
def _exact_plans(draw: st.DrawFn) -> tuple[Chunked, list[int]]:
    case = draw(chunked_payloads())
    return case, draw(exact_sizes(len(case.data)))


@check("BUF-EXACTLY")
def buf_exactly(ctx: Context) -> None:
    async def verify(subject: Subject[BufferedChannel], plan: tuple[Chunked, list[int]]) -> None:
        case, sizes = plan
        got: list[bytes] = []
        async with named(subject) as channel:

            async def body() -> None:
                for size in sizes:
                    got.append(await channel.receiver.receive_exactly(size))
                got.append(b"".join(await receive_chunks(channel.receiver)))

            await _with_sender(channel, case.chunks, body)
        offset = 0
        for size, piece in zip(sizes, got, strict=False):
            expected = case.data[offset : offset + size]
            assert piece == expected, (
                f"{subject.name}: sent {case.chunks!r}; receive_exactly({size}) at offset "
                f"{offset} returned {piece!r}, not {expected!r}"
            )
            offset += size
        assert got[-1] == case.data[offset:], (
            f"{subject.name}: after receive_exactly() calls {sizes!r}, the rest was {got[-1]!r}, "
            f"not {case.data[offset:]!r}"
        )

    _for_each_channel(ctx, _exact_plans(), verify)


@check("BUF-EXACTLY-INCOMPLETE")
def buf_exactly_incomplete(ctx: Context) -> None:
    async def verify(subject: Subject[BufferedChannel], case: Chunked) -> None:
        rest = b""
        async with named(subject) as channel:

            async def body() -> None:
                nonlocal rest
                nbytes = len(case.data) + 1
                problem = await expect_raises(
                    anyio.IncompleteRead, partial(channel.receiver.receive_exactly, nbytes)
                )
                assert problem is None, (
                    f"{subject.name}: sent {case.chunks!r} and ended the stream; "
                    f"receive_exactly({nbytes}) should raise IncompleteRead, but {problem}"
                )
                rest = b"".join(await receive_chunks(channel.receiver))

            await _with_sender(channel, case.chunks, body)
        assert rest == case.data, (
            f"{subject.name}: after IncompleteRead, {rest!r} was left to read of {case.data!r} "
            f"sent in {case.chunks!r}: bytes read were lost"
        )

    _for_each_channel(ctx, chunked_payloads(), verify)


async def _until(subject: Subject[BufferedChannel], case: UntilCase) -> tuple[str, bytes, bytes]:
    """Call receive_until over the case, then read the rest: (outcome, returned, rest)."""
    outcome, returned, rest = "", b"", b""
    async with named(subject) as channel:

        async def body() -> None:
            nonlocal outcome, returned, rest
            try:
                with anyio.fail_after(PATIENCE):
                    returned = await channel.receiver.receive_until(case.delimiter, case.max_bytes)
                outcome = "found"
            except anyio.DelimiterNotFound:
                outcome = "not-found"
            except anyio.IncompleteRead:
                outcome = "incomplete"
            except TimeoutError:
                outcome = f"blocked for {PATIENCE:g} s"
            rest = b"".join(await receive_chunks(channel.receiver))

        await _with_sender(channel, case.chunks, body)
    return outcome, returned, rest


def _case_name(subject: Subject[BufferedChannel], case: UntilCase) -> str:
    return (
        f"{subject.name}: receive_until({case.delimiter!r}, max_bytes={case.max_bytes}) over "
        f"{case.data!r} sent in chunks {case.chunks!r}"
    )


_OUTCOMES = {"found": "returned", "not-found": "DelimiterNotFound", "incomplete": "IncompleteRead"}


def _until_check(ctx: Context, expected_outcome: str) -> None:
    async def verify(subject: Subject[BufferedChannel], case: UntilCase) -> None:
        outcome, returned, rest = await _until(subject, case)
        what = _OUTCOMES.get(outcome, outcome)
        assert outcome == expected_outcome, (
            f"{_case_name(subject, case)}: expected {_OUTCOMES[expected_outcome]}, got {what}"
            + (f" {returned!r}" if outcome == "found" else "")
        )
        if outcome == "found":
            expected = case.expected or b""
            assert returned == expected, f"{_case_name(subject, case)} returned {returned!r}"
            after = case.data[len(expected) + len(case.delimiter) :]
            assert rest == after, (
                f"{_case_name(subject, case)}: the bytes after the delimiter were {rest!r}, "
                f"not {after!r}"
            )
        else:
            assert rest == case.data, (
                f"{_case_name(subject, case)}: after {what}, {rest!r} was left to read, not "
                "every byte sent"
            )

    _for_each_channel(ctx, until_cases(expected_outcome), verify)


@check("BUF-UNTIL")
def buf_until(ctx: Context) -> None:
    _until_check(ctx, "found")


@check("BUF-UNTIL-NOT-FOUND")
def buf_until_not_found(ctx: Context) -> None:
    _until_check(ctx, "not-found")


@check("BUF-UNTIL-INCOMPLETE")
def buf_until_incomplete(ctx: Context) -> None:
    _until_check(ctx, "incomplete")


@st.composite
def _feed_plans(draw: st.DrawFn) -> tuple[Chunked, int, bytes]:
    case = draw(chunked_payloads(max_size=24))
    return case, draw(st.integers(0, len(case.data))), draw(st.binary(min_size=1, max_size=8))


@check("BUF-FEED")
def buf_feed(ctx: Context) -> None:
    async def verify(subject: Subject[BufferedChannel], plan: tuple[Chunked, int, bytes]) -> None:
        case, first, fed = plan
        head, buffered, rest = b"", b"", b""
        async with named(subject) as channel:

            async def body() -> None:
                nonlocal head, buffered, rest
                head = await channel.receiver.receive_exactly(first)
                buffered = bytes(channel.receiver.buffer)
                channel.receiver.feed_data(fed)
                rest = b"".join(await receive_chunks(channel.receiver))

            await _with_sender(channel, case.chunks, body)
        unread = case.data[len(head) + len(buffered) :]
        expected = buffered + fed + unread
        assert rest == expected, (
            f"{subject.name}: sent {case.chunks!r}; after receive_exactly({first}) the buffer "
            f"held {buffered!r}; feed_data({fed!r}) then reading to the end gave {rest!r}, not "
            f"{expected!r}"
        )

    _for_each_channel(ctx, _feed_plans(), verify)


@check("BUF-ARGS")
async def buf_args(ctx: Context) -> None:
    for subject in _channels(ctx):
        async with named(subject) as channel:
            await _args(subject.name, channel)


async def _args(name: str, channel: BufferedChannel) -> None:
    receiver = channel.receiver
    calls: list[tuple[str, Callable[[], Awaitable[object]]]] = [
        ("receive_exactly(-1)", partial(receiver.receive_exactly, -1)),
        ("receive_until(b'', 10)", partial(receiver.receive_until, b"", 10)),
        ("receive_until(b'x', 0)", partial(receiver.receive_until, b"x", 0)),
        ("receive_until(b'x', -1)", partial(receiver.receive_until, b"x", -1)),
    ]
    rest = b""

    async def body() -> None:
        nonlocal rest
        assert await receiver.receive_exactly(1) == b"a", f"{name}: the first byte was wrong"
        for label, call in calls:
            problem = await expect_raises(ValueError, call)
            assert problem is None, f"{name}: {label} should raise ValueError, but {problem}"
        rest = b"".join(await receive_chunks(receiver))

    await _with_sender(channel, [b"abcxyz"], body)
    assert rest == b"bcxyz", (
        f"{name}: after the invalid calls raised, {rest!r} was left to read, not b'bcxyz': "
        "they consumed bytes"
    )
