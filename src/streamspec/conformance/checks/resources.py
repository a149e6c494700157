"""Checks of the ``resource`` role: closing, context management, typed attributes and
checkpoints, over every stream and listener the target provides (see :mod:`..subjects`).

Each subject opens as a list of handles; a handle names one resource and an operation that
must raise :exc:`~anyio.ClosedResourceError` once the resource is closed, which is how the
checks see that it is.

Check failures carry their own messages, so pytest must not rewrite this module's asserts
(PYTEST_DONT_REWRITE): the pytest plugin's report then reads like the CLI's.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from functools import partial
from typing import Any

import anyio
from anyio import TypedAttributeLookupError

from ..instruments import Arrival, ProbeStream, first_arrival
from ..observe import PATIENCE, describe, expect_returns, named, only
from ..registry import Context, check
from ..subjects import (
    BufferedChannel,
    ByteChannel,
    Handle,
    ObjectPair,
    Subject,
    TextChannel,
    TextSink,
    buffered_channels,
    byte_channels,
    close_quietly,
    object_pairs,
    resource_subjects,
    text_channels,
    text_sinks,
    unreliable_pairs,
)

__all__: list[str] = []


class _Missing(anyio.TypedAttributeSet):
    """An attribute no stream provides."""

    nothing: object = anyio.typed_attribute()


class _Probe(anyio.TypedAttributeSet):
    """Attributes the checks' probe streams carry, to see them looked up through wrappers."""

    colour: str = anyio.typed_attribute()
    size: int = anyio.typed_attribute()


def _subjects(ctx: Context) -> list[Subject[list[Handle]]]:
    subjects = resource_subjects(ctx.target)
    if not subjects:
        ctx.not_provided("any stream or listener")
    return subjects


async def _is_closed(handle: Handle) -> str | None:
    """``None`` when the handle's resource behaves as closed, else what it did instead."""
    try:
        with anyio.fail_after(PATIENCE):
            result = await handle.use_after_close()
    except TimeoutError:
        return f"{_use_after_close(handle)} blocked for {PATIENCE:g} s instead of raising"
    except Exception as exc:
        if only(exc, anyio.ClosedResourceError):
            return None
        return f"{_use_after_close(handle)} raised {describe(exc)}"
    return f"{_use_after_close(handle)} returned {result!r}"


def _use_after_close(handle: Handle) -> str:
    return f"using the {handle.label} after it was closed (expecting ClosedResourceError)"


@check("RES-ACLOSE-IDEMPOTENT")
async def aclose_idempotent(ctx: Context) -> None:
    for subject in _subjects(ctx):
        async with named(subject) as handles:
            for handle in handles:
                await handle.resource.aclose()
                await expect_returns(
                    f"{subject.name}: a second aclose() of the {handle.label}",
                    handle.resource.aclose,
                )
                problem = await _is_closed(handle)
                assert problem is None, f"{subject.name}: {problem}"


@check("RES-ACLOSE-CANCELLED")
async def aclose_cancelled(ctx: Context) -> None:
    for subject in _subjects(ctx):
        async with named(subject) as handles:
            for handle in handles:
                with anyio.CancelScope() as scope:
                    scope.cancel()
                    await handle.resource.aclose()
                problem = await _is_closed(handle)
                assert problem is None, (
                    f"{subject.name}: aclose() of the {handle.label} inside a cancelled scope "
                    f"did not close it: {problem}"
                )


class _Boom(Exception):
    """Raised inside an 'async with' block to see the resource closed all the same."""


@check("RES-CONTEXT")
async def context_manager(ctx: Context) -> None:
    for subject in _subjects(ctx):
        async with named(subject) as handles:
            for handle in handles:
                async with handle.resource as entered:
                    assert entered is handle.resource, (
                        f"{subject.name}: 'async with' on the {handle.label} yielded "
                        f"{entered!r}, not the resource itself"
                    )
                problem = await _is_closed(handle)
                assert problem is None, (
                    f"{subject.name}: leaving 'async with' normally did not close the "
                    f"{handle.label}: {problem}"
                )
        async with named(subject) as handles:
            for handle in handles:
                try:
                    async with handle.resource:
                        raise _Boom
                except _Boom:
                    pass
                problem = await _is_closed(handle)
                assert problem is None, (
                    f"{subject.name}: leaving 'async with' by an exception did not close the "
                    f"{handle.label}: {problem}"
                )


# -- attributes --------------------------------------------------------------------------------


_PROBE_ATTRIBUTES = {_Probe.colour: "teal", _Probe.size: 3}


def _wrapped_probes(ctx: Context) -> list[tuple[str, Callable[[], Any]]]:
    """The target's wrappers over probe streams carrying attributes (name, constructor)."""
    target = ctx.target
    wrappers: list[tuple[str, Callable[[], Any]]] = []

    def probe() -> ProbeStream:
        return ProbeStream(attributes=_PROBE_ATTRIBUTES)

    if target.stapled_byte_stream is not None:
        build = target.stapled_byte_stream
        wrappers.append(("stapled byte stream over probes", lambda: build(probe(), probe())))
    if target.stapled_object_stream is not None:
        build_obj = target.stapled_object_stream
        wrappers.append(("stapled object stream over probes", lambda: build_obj(probe(), probe())))
    for field_name in (
        "buffered_byte_receive_stream",
        "buffered_byte_stream",
        "text_receive_stream",
        "text_send_stream",
        "text_stream",
    ):
        factory = getattr(target, field_name)
        if factory is not None:
            wrappers.append((f"{field_name} over a probe", partial(_call, factory, probe)))
    return wrappers


def _call(factory: Callable[[Any], Any], probe: Callable[[], ProbeStream]) -> Any:
    return factory(probe())


def _lookup_problems(name: str, resource: Any) -> list[str]:
    problems: list[str] = []
    sentinel = object()
    for key, getter in resource.extra_attributes.items():
        expected = getter()
        try:
            value = resource.extra(key)
        except Exception as exc:
            problems.append(f"{name}: extra({key!r}) raised {describe(exc)}")
            continue
        if value != expected:
            problems.append(f"{name}: extra({key!r}) is {value!r}, the getter says {expected!r}")
        with_default = resource.extra(key, sentinel)
        if with_default != expected:
            problems.append(
                f"{name}: extra({key!r}, default) is {with_default!r}, not {expected!r}"
            )
    try:
        value = resource.extra(_Missing.nothing)
    except TypedAttributeLookupError:
        pass
    except Exception as exc:
        problems.append(
            f"{name}: extra() of a missing attribute raised {type(exc).__name__}, not "
            "TypedAttributeLookupError"
        )
    else:
        problems.append(f"{name}: extra() of a missing attribute returned {value!r}")
    try:
        default = resource.extra(_Missing.nothing, sentinel)
    except Exception as exc:
        problems.append(f"{name}: extra(missing, default) raised {describe(exc)}")
    else:
        if default is not sentinel:
            problems.append(f"{name}: extra(missing, default) returned {default!r}, not default")
    return problems


@check("ATTR-LOOKUP")
async def attribute_lookup(ctx: Context) -> None:
    problems: list[str] = []
    wrappers = _wrapped_probes(ctx)
    for name, build in wrappers:
        resource = build()
        try:
            problems += _lookup_problems(name, resource)
            if not any(
                resource.extra(key, None) == value for key, value in _PROBE_ATTRIBUTES.items()
            ):
                problems.append(f"{name}: none of the probe's attributes is visible")
        finally:
            await close_quietly(resource)
    subjects = resource_subjects(ctx.target)
    if not subjects and not wrappers:
        ctx.not_provided("any stream or listener")
    for subject in subjects:
        async with named(subject) as handles:
            for handle in handles:
                problems += _lookup_problems(f"{subject.name} ({handle.label})", handle.resource)
    assert not problems, "\n".join(problems)


# -- checkpoints -------------------------------------------------------------------------------


async def _cancelled(operation: Callable[[], Awaitable[object]]) -> str | None:
    """Call ``operation`` inside an already-cancelled scope: ``None`` when it raised the
    cancellation, else what it did."""
    return (await _cancelled_result(operation))[0]


async def _cancelled_result(
    operation: Callable[[], Awaitable[object]],
) -> tuple[str | None, object]:
    """As :func:`_cancelled`, and the value the operation returned (``None`` if none)."""
    outcome: str | None = None
    result: object = None
    with anyio.CancelScope() as scope:
        scope.cancel()
        try:
            result = await operation()
        except anyio.get_cancelled_exc_class():
            raise
        except Exception as exc:
            outcome = f"raised {describe(exc)}"
        else:
            outcome = f"completed, returning {result!r}"
    return (None if scope.cancelled_caught else outcome), result


_CheckpointSubject = tuple[Subject[Any], Callable[..., Awaitable[None]]]


def _checkpoint_subjects(ctx: Context) -> list[_CheckpointSubject]:
    target = ctx.target
    found: list[_CheckpointSubject] = []
    found += [(channel, _byte_checkpoints) for channel in byte_channels(target)]
    found += [(channel, _buffered_checkpoints) for channel in buffered_channels(target)]
    found += [
        (channel, _text_in_checkpoints) for channel in text_channels(target, "utf-8", "strict")
    ]
    found += [(sink, _text_out_checkpoints) for sink in text_sinks(target, "utf-8", "strict")]
    found += [(pair, _object_checkpoints) for pair in object_pairs(target)]
    found += [(pair, _object_checkpoints) for pair in unreliable_pairs(target)]
    return found


#: How long ASYNC-CHECKPOINT gives one subject: a byte stream's data may take PATIENCE not to
#: arrive, and as long again to be let go by closing the sender (see first_arrival()).
_CHECKPOINTS_BOUND = 3 * PATIENCE


@check("ASYNC-CHECKPOINT")
def async_checkpoint(ctx: Context) -> None:
    # Each subject in an event-loop run of its own: one whose data does not arrive takes a few
    # seconds to find out (see _CHECKPOINTS_BOUND), and must not eat the others' time.
    subjects = _checkpoint_subjects(ctx)
    if not subjects:
        ctx.not_provided("any stream")
    problems: list[str] = []
    untold: list[str] = []
    for subject, verify in subjects:
        ctx.run(_checkpoints_of, subject, verify, problems, untold)
    assert not problems, "\n".join(problems)
    if len(untold) == len(subjects):
        ctx.not_provided("a stream whose checkpoints could be tried: " + "; ".join(untold))


async def _checkpoints_of(
    subject: Subject[Any],
    verify: Callable[..., Awaitable[None]],
    problems: list[str],
    untold: list[str],
) -> None:
    earlier = len(problems)
    async with named(subject) as opened:
        try:
            with anyio.fail_after(_CHECKPOINTS_BOUND):
                await verify(subject.name, opened, problems)
        except _CouldNotTell as exc:
            untold.append(str(exc))
        except TimeoutError:
            # Most often the consequence of a problem just noted (a receive that completed
            # in its cancelled scope took the data the check then waits for).
            after = " after the problem above" if len(problems) > earlier else ""
            problems.append(
                f"{subject.name}: the check blocked for {_CHECKPOINTS_BOUND:g} s{after}"
            )


class _CouldNotTell(Exception):
    """A subject's checkpoints could not be tried (its data never arrived): the check judges
    the other subjects, and is not provided when none could be judged."""


def _note(problems: list[str], name: str, what: str, outcome: str | None) -> None:
    if outcome is not None:
        problems.append(
            f"{name}: {what} inside a cancelled scope {outcome} instead of raising the cancellation"
        )


async def _receive_exactly(receiver: Any, count: int) -> bytes:
    got = b""
    while len(got) < count:
        got += await receiver.receive(count - len(got))
    return got


async def _byte_checkpoints(name: str, channel: ByteChannel, problems: list[str]) -> None:
    # Only the checkpoints are judged: the data is never ended, as a stream whose end is slow
    # or missing (BYTE-SEND-EOF's business) must not fail here, and its first byte is awaited
    # (bounded) before "data ready" is tried, as a stream that delivers only at aclose()
    # (BYTE-SEND-DELIVERS's business) must not either. The sends run in tasks of their own:
    # a stream without a buffer (a lock-step pair) only completes a send once the data is
    # received.
    async with anyio.create_task_group() as tg:
        arrival = await first_arrival(channel, b"ready", tg)
        if arrival.data == b"r":
            outcome = await _cancelled(channel.receiver.receive)
            _note(problems, name, "receive() with data ready", outcome)
            if outcome is None:  # nothing may have been consumed
                got = await _receive_exactly(channel.receiver, len(b"eady"))
                if got != b"eady":
                    problems.append(
                        f"{name}: after a cancelled receive(), the data was {got!r}, not the "
                        "b'eady' left of b'ready'"
                    )
            else:
                # The receive took data; the send may wait for ever for the rest to be taken.
                # Otherwise it is left to finish: a cancelled send may break a stream (TLS).
                tg.cancel_scope.cancel()
        else:
            tg.cancel_scope.cancel()  # the sender is closed (see first_arrival())
    if arrival.data != b"r":
        why = _why(arrival, b"ready")
        raise _CouldNotTell(f"{name}: receive() with data ready could not be tried: {why}")
    outcome = await _cancelled(partial(channel.sender.send, b"lost"))
    _note(problems, name, "send() with room to send", outcome)
    if outcome is not None:
        return  # it went through, as noted
    try:
        async with anyio.create_task_group() as tg:
            tg.start_soon(channel.sender.send, b"kept")
            got = await _receive_exactly(channel.receiver, len(b"kept"))
    except Exception as exc:
        problems.append(
            f"{name}: after a send() cancelled at its checkpoint, sending b'kept' failed "
            f"({describe(exc)}): the cancelled send left the stream broken"
        )
        return
    if got != b"kept":
        problems.append(
            f"{name}: after a send() cancelled at its checkpoint, the next bytes to arrive were "
            f"{got!r}, not b'kept': the cancelled send delivered its data"
        )


def _why(arrival: Arrival, sent: bytes) -> str:
    """Why the data ``sent`` was not there to try a receive() on."""
    if arrival.error is not None:
        return arrival.error
    if arrival.data is not None:
        return f"the first byte of {sent!r} arrived as {arrival.data!r}"
    return f"{sent!r} did not reach the peer within {PATIENCE:g} s (BYTE-SEND-DELIVERS)"


async def _buffered_checkpoints(name: str, channel: BufferedChannel, problems: list[str]) -> None:
    # The first byte is awaited (bounded), as in _byte_checkpoints().
    async with anyio.create_task_group() as tg:
        arrival = await first_arrival(channel, b"abcdef", tg)
        if arrival.data is None:
            tg.cancel_scope.cancel()
    if not isinstance(arrival.data, bytes):
        why = _why(arrival, b"abcdef")
        raise _CouldNotTell(f"{name}: receives with data buffered could not be tried: {why}")
    first = arrival.data
    taken = b""
    # Whatever else of the chunk arrived now sits in a buffer, here or below.
    for label, operation in [
        ("receive(1) with data buffered", partial(channel.receiver.receive, 1)),
        ("receive_exactly(1) with data buffered", partial(channel.receiver.receive_exactly, 1)),
        ("receive_until(b'c', 10) with data buffered",
         partial(channel.receiver.receive_until, b"c", 10)),
    ]:  # fmt: skip
        outcome, result = await _cancelled_result(operation)
        _note(problems, name, label, outcome)
        if isinstance(result, bytes):
            taken += result + (b"c" if "receive_until" in label else b"")
    # Only the checkpoints are judged: the rest is read by count, never by waiting for an end.
    rest = await channel.receiver.receive_exactly(len(b"abcdef") - len(first) - len(taken))
    if first + taken + rest != b"abcdef":
        problems.append(
            f"{name}: after cancelled receives, the data read was {first + taken + rest!r}, "
            "not b'abcdef'"
        )


async def _text_in_checkpoints(name: str, channel: TextChannel, problems: list[str]) -> None:
    # Text ready is text that has arrived once (bounded, as in _byte_checkpoints()).
    async with anyio.create_task_group() as tg:
        arrival = await first_arrival(channel, b"first", tg, channel.receiver.receive)
        tg.cancel_scope.cancel()
    if arrival.data != "first":
        why = _why(arrival, b"first")
        raise _CouldNotTell(f"{name}: receive() with text ready could not be tried: {why}")
    await channel.sender.send(b"ready")
    outcome = await _cancelled(channel.receiver.receive)
    _note(problems, name, "receive() with text ready", outcome)
    if outcome is not None:
        return  # it took the text, as noted
    got = await channel.receiver.receive()
    if got != "ready":
        problems.append(f"{name}: after a cancelled receive(), the text was {got!r}, not 'ready'")


async def _text_out_checkpoints(name: str, sink: TextSink, problems: list[str]) -> None:
    outcome = await _cancelled(partial(sink.sender.send, "lost"))
    _note(problems, name, "send() with room to send", outcome)
    if outcome is not None:
        return  # it went through: the path may now be full
    async with anyio.create_task_group() as tg:
        arrival = await first_arrival(sink, "kept", tg, sink.receiver.receive)
        tg.cancel_scope.cancel()
    if arrival.data is None:
        why = _why(arrival, b"kept")
        raise _CouldNotTell(f"{name}: what a cancelled send() left could not be seen: {why}")
    got = arrival.data
    if got != b"kept":
        problems.append(f"{name}: after a send() cancelled at its checkpoint, {got!r} arrived")


async def _object_checkpoints(name: str, pair: ObjectPair, problems: list[str]) -> None:
    # The sends run in tasks of their own: a target's object stream may have no buffer (a
    # rendezvous), where send() returns only once a receiver has taken the item.
    ready, lost, kept = pair.item("ready"), pair.item("lost"), pair.item("kept")
    async with anyio.create_task_group() as tg:
        tg.start_soon(pair.sender.send, ready)
        await anyio.wait_all_tasks_blocked()
        outcome = await _cancelled(pair.receiver.receive)
        _note(problems, name, "receive() with an item ready", outcome)
        got = await pair.receiver.receive()
    if got != ready:
        problems.append(f"{name}: after a cancelled receive(), the item was {got!r}, not {ready!r}")
    outcome = await _cancelled(partial(pair.sender.send, lost))
    _note(problems, name, "send() with room to send", outcome)
    if outcome is not None:
        return  # it went through: the path may now be full
    async with anyio.create_task_group() as tg:
        tg.start_soon(pair.sender.send, kept)
        got = await pair.receiver.receive()
    if got != kept:
        problems.append(f"{name}: after a send() cancelled at its checkpoint, {got!r} arrived")
