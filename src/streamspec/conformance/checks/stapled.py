"""Checks of the ``stapled`` role: the target's StapledByteStream and StapledObjectStream
over two :class:`~..instruments.ProbeStream` halves, which record what is done to them.

The byte-level behaviour of a stapled pair over real streams is the ``byte`` role's business
(its subjects include the stapled memory pair); here each half is observed on its own.

Check failures carry their own messages, so pytest must not rewrite this module's asserts
(PYTEST_DONT_REWRITE): the pytest plugin's report then reads like the CLI's.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import anyio

from ..instruments import ProbeStream
from ..observe import PATIENCE
from ..registry import Context, check
from ..subjects import close_quietly

__all__: list[str] = []


class _Half(anyio.TypedAttributeSet):
    """Attributes that tell the halves apart."""

    sending: str = anyio.typed_attribute()
    receiving: str = anyio.typed_attribute()
    shared: str = anyio.typed_attribute()


def _kinds(ctx: Context) -> list[tuple[str, Callable[[Any, Any], Any], object, object]]:
    """(name, constructor, an item to send, what receive() returns from a probe)."""
    kinds: list[tuple[str, Callable[[Any, Any], Any], object, object]] = []
    if ctx.target.stapled_byte_stream is not None:
        kinds.append(("stapled byte stream", ctx.target.stapled_byte_stream, b"out", b"in"))
    if ctx.target.stapled_object_stream is not None:
        kinds.append(("stapled object stream", ctx.target.stapled_object_stream, b"out", b"in"))
    if not kinds:
        ctx.not_provided("StapledByteStream or StapledObjectStream")
    return kinds


@check("STAPLED-DELEGATE")
async def delegate(ctx: Context) -> None:
    for name, build, item, incoming in _kinds(ctx):
        send_half, receive_half = ProbeStream(), ProbeStream(data=b"in")
        stapled = build(send_half, receive_half)
        try:
            with anyio.fail_after(PATIENCE):
                got = await stapled.receive()
                await stapled.send(item)
            assert got == incoming, (
                f"{name}: receive() returned {got!r}; the receive half holds {incoming!r}"
            )
            assert send_half.sent == [item], (
                f"{name}: after send({item!r}) the send half got {send_half.sent!r}"
            )
            assert receive_half.sent == [], (
                f"{name}: send() wrote to the receive half: {receive_half.sent!r}"
            )
            if hasattr(stapled, "send_nowait"):
                stapled.send_nowait(b"now")
                assert send_half.sent == [item, b"now"], (
                    f"{name}: after send_nowait(b'now') the send half got {send_half.sent!r}"
                )
        finally:
            await close_quietly(stapled)


@check("STAPLED-SEND-EOF")
async def send_eof(ctx: Context) -> None:
    for name, build, _, incoming in _kinds(ctx):
        send_half, receive_half = ProbeStream(), ProbeStream(data=b"in")
        stapled = build(send_half, receive_half)
        try:
            with anyio.fail_after(PATIENCE):
                await stapled.send_eof()
                assert send_half.closed or send_half.eof_sent, (
                    f"{name}: send_eof() neither closed the send half nor sent it EOF"
                )
                assert not receive_half.closed, f"{name}: send_eof() closed the receive half"
                got = await stapled.receive()
            assert got == incoming, f"{name}: after send_eof(), receive() returned {got!r}"
        finally:
            await close_quietly(stapled)


class _CloseFailed(Exception):
    """Raised by a probe half's aclose()."""


@check("STAPLED-ACLOSE-BOTH")
async def aclose_both(ctx: Context) -> None:
    for name, build, _, _ in _kinds(ctx):
        for failing in ("send", "receive", "both"):
            send_error = _CloseFailed("send half") if failing in ("send", "both") else None
            receive_error = _CloseFailed("receive half") if failing in ("receive", "both") else None
            send_half = ProbeStream(close_error=send_error)
            receive_half = ProbeStream(close_error=receive_error)
            stapled = build(send_half, receive_half)
            raised: BaseException | None = None
            try:
                with anyio.fail_after(PATIENCE):
                    await stapled.aclose()
            except Exception as exc:
                raised = exc
            closed = {"send": send_half.closed, "receive": receive_half.closed}
            assert all(closed.values()), (
                f"{name}: when closing the {failing} half raised, aclose() left "
                + " and ".join(f"the {half} half open" for half, ok in closed.items() if not ok)
            )
            first = send_error or receive_error
            assert raised is first, (
                f"{name}: when closing the {failing} half raised, aclose() raised {raised!r}, "
                f"not the first error {first!r}"
            )


@check("STAPLED-ATTRIBUTES")
async def attributes(ctx: Context) -> None:
    for name, build, _, _ in _kinds(ctx):
        send_half = ProbeStream(attributes={_Half.sending: "s", _Half.shared: "from send"})
        receive_half = ProbeStream(attributes={_Half.receiving: "r", _Half.shared: "from receive"})
        stapled = build(send_half, receive_half)
        try:
            seen = {key: stapled.extra(key, None) for key in (_Half.sending, _Half.receiving)}
            assert seen == {_Half.sending: "s", _Half.receiving: "r"}, (
                f"{name}: extra() of the send half's and receive half's attributes gave "
                f"{list(seen.values())!r}, not ['s', 'r']"
            )
            shared = stapled.extra(_Half.shared, None)
            assert shared in ("from send", "from receive"), (
                f"{name}: extra() of an attribute both halves have gave {shared!r}"
            )
        finally:
            await close_quietly(stapled)
