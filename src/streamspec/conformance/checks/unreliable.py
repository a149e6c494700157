"""Checks of the ``unreliable`` role: the target's ``unreliable_object_stream`` (a connected
datagram socket, say), over every subject of
:func:`~streamspec.conformance.subjects.unreliable_pairs`.

Such a stream promises less than a reliable one (decision 3 in docs/design.rst): an item may
be lost or overtaken, so these checks never ask for order or for every item. What it does
promise is that what arrives is what was sent, whole; that a closed stream says so; and that
a waiting ``receive()`` can be cancelled. The resource rules and ASYNC-CHECKPOINT cover these
streams too. The items sent are those the target declares (``object_items``).

Check failures carry their own messages, so pytest must not rewrite this module's asserts
(PYTEST_DONT_REWRITE): the pytest plugin's report then reads like the CLI's.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial

import anyio
from anyio import ClosedResourceError
from hypothesis import given
from hypothesis import strategies as st

from ..observe import PATIENCE, expect_raises, expect_returns, named, start
from ..registry import Context, check
from ..strategies import items
from ..subjects import ObjectPair, Subject, unreliable_pairs

__all__: list[str] = []

_NEEDS = ("unreliable_object_stream",)
#: Seconds UNREL-WHOLE waits for an item before it takes it as lost. An idle loopback path
#: delivers at once; the margin is for a busy machine.
_LOST_AFTER = 1.0


def _subjects(ctx: Context) -> list[Subject[ObjectPair]]:
    return unreliable_pairs(ctx.target)


@check("UNREL-WHOLE", needs=_NEEDS)
def unrel_whole(ctx: Context) -> None:
    for subject in _subjects(ctx):
        _whole_property(ctx, subject)()


def _whole_property(ctx: Context, subject: Subject[ObjectPair]) -> Callable[[], None]:
    @given(sent=st.lists(items(ctx.target.object_items), min_size=1, max_size=8))
    def arrive_whole(sent: list[object]) -> None:
        ctx.run(_sent_one_at_a_time, subject, sent)

    return arrive_whole


async def _sent_one_at_a_time(subject: Subject[ObjectPair], sent: list[object]) -> None:
    # One item at a time, each awaited before the next is sent: nothing can overtake it, and
    # an idle path has no reason to drop it, so whatever arrives can be judged item by item.
    async with named(subject) as pair:
        arrived: list[object] = []
        for index, item in enumerate(sent):
            await pair.sender.send(item)
            with anyio.move_on_after(_LOST_AFTER):
                got = await pair.receiver.receive()
                arrived.append(got)
                if got != item:
                    seen = "an earlier item again" if got in sent[:index] else "never sent"
                    raise AssertionError(
                        f"{subject.name}: item {index} sent was {_short(item)}, the item "
                        f"received was {_short(got)} ({seen})"
                    )
        assert arrived, (
            f"{subject.name}: none of the {len(sent)} items sent one at a time arrived "
            f"within {_LOST_AFTER:g} s each"
        )


def _short(item: object) -> str:
    text = repr(item)
    return text if len(text) <= 80 else f"{text[:60]}... ({len(text)} characters of repr)"


@check("UNREL-CLOSED", needs=_NEEDS)
async def unrel_closed(ctx: Context) -> None:
    for subject in _subjects(ctx):
        async with named(subject) as pair:
            await pair.sender.aclose()
            problem = await expect_raises(
                ClosedResourceError, partial(pair.sender.send, pair.item(1))
            )
            assert problem is None, (
                f"{subject.name}: send() on the closed send end should raise "
                f"ClosedResourceError, but {problem}"
            )
            await pair.receiver.aclose()
            problem = await expect_raises(ClosedResourceError, pair.receiver.receive)
            assert problem is None, (
                f"{subject.name}: receive() on the closed receive end should raise "
                f"ClosedResourceError, but {problem}"
            )


@check("UNREL-RECEIVE-CANCELLED", needs=_NEEDS)
async def unrel_receive_cancelled(ctx: Context) -> None:
    for subject in _subjects(ctx):
        async with named(subject) as pair, anyio.create_task_group() as tg:
            waiting = await start(tg, "receive()", pair.receiver.receive)
            waiting.cancel()
            if not await waiting.wait(PATIENCE):
                raise AssertionError(
                    f"{subject.name}: a receive() waiting for an item went on waiting for "
                    f"{PATIENCE:g} s after its cancel scope was cancelled"
                )
            if waiting.outcome != ("cancelled",):
                raise AssertionError(
                    f"{subject.name}: a receive() waiting for an item, when its cancel scope "
                    f"was cancelled, ended with {waiting.outcome!r} instead of raising the "
                    "cancellation"
                )
            item = pair.item("next")
            await pair.sender.send(item)
            got = await expect_returns(
                f"{subject.name}: after a cancelled receive(), the next receive()",
                pair.receiver.receive,
            )
            assert got == item, (
                f"{subject.name}: after a cancelled receive(), {item!r} was sent and the next "
                f"receive() returned {got!r}"
            )
            tg.cancel_scope.cancel()
