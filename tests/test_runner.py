"""The runner's own behaviour, on tiny fake checks that are never registered.

The fakes are :class:`~streamspec.conformance.registry.Check` records passed to the runner
directly (``iter_results(checks=...)``), so the real registry and the real checks play no part.
"""

from __future__ import annotations

import threading
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager

import anyio
import pytest

from streamspec.conformance import Divergence, Outcome, Target, run_suite
from streamspec.conformance import runner as runner_module
from streamspec.conformance.catalogue import RULES
from streamspec.conformance.observe import named
from streamspec.conformance.registry import Check, Context, NotProvided
from streamspec.conformance.report import format_report, tally, verdict
from streamspec.conformance.runner import BACKENDS, iter_results, run_check, run_checks
from streamspec.conformance.subjects import Subject

FAKE = Target(name="fake")


def fake(rule_id: str, body: object, needs: tuple[str, ...] = ()) -> Check:
    return Check(RULES[rule_id], needs, body)  # type: ignore[arg-type]


async def passes(ctx: Context) -> None:
    await anyio.lowlevel.checkpoint()


async def fails(ctx: Context) -> None:
    await anyio.lowlevel.checkpoint()
    raise AssertionError("received b'ba', expected b'ab'")


async def crashes(ctx: Context) -> None:
    raise RuntimeError("boom")


def test_a_passing_check_passes() -> None:
    (result,) = run_checks(FAKE, checks=[fake("OBJ-FIFO", passes)], backends=["asyncio"])
    assert (result.rule.id, result.backend, result.outcome) == ("OBJ-FIFO", "asyncio", "passed")
    assert result.message == ""
    assert result.ok


def test_every_check_runs_on_every_backend_in_catalogue_order() -> None:
    checks = [fake("OBJ-IDENTITY", passes), fake("OBJ-FIFO", passes)]
    results = run_checks(FAKE, checks=checks, backends=["trio", "asyncio"])
    assert [(r.rule.id, r.backend) for r in results] == [
        ("OBJ-IDENTITY", "trio"),
        ("OBJ-IDENTITY", "asyncio"),
        ("OBJ-FIFO", "trio"),
        ("OBJ-FIFO", "asyncio"),
    ]


def test_an_assertion_is_a_failure_with_its_message() -> None:
    (result,) = run_checks(FAKE, checks=[fake("OBJ-FIFO", fails)], backends=["trio"])
    assert result.outcome is Outcome.FAILED
    assert result.message == "received b'ba', expected b'ab'"
    assert not result.ok
    assert not result.stale


def test_a_crash_is_a_failure_naming_the_exception_and_where() -> None:
    (result,) = run_checks(FAKE, checks=[fake("OBJ-FIFO", crashes)], backends=["asyncio"])
    assert result.outcome is Outcome.FAILED
    assert result.message.startswith("RuntimeError: boom (at ")
    assert "test_runner.py" in result.message
    assert "in crashes" in result.message


def test_a_crash_inside_a_task_group_is_reported_by_its_leaf() -> None:
    async def body(ctx: Context) -> None:
        async with anyio.create_task_group() as tg:
            tg.start_soon(crashes, ctx)

    (result,) = run_checks(FAKE, checks=[fake("OBJ-FIFO", body)], backends=["trio"])
    assert result.outcome is Outcome.FAILED
    assert "RuntimeError: boom" in result.message


def test_a_missing_field_is_not_provided_and_the_check_does_not_run() -> None:
    ran = []

    async def body(ctx: Context) -> None:
        ran.append(ctx)

    check = fake("OBJ-FIFO", body, needs=("object_stream_pair",))
    (result,) = run_checks(FAKE, checks=[check], backends=["asyncio"])
    assert result.outcome is Outcome.NOT_PROVIDED
    assert result.message == "fake does not provide object_stream_pair"
    assert ran == []


def test_not_provided_found_late_is_not_provided() -> None:
    def body(ctx: Context) -> None:
        ctx.not_provided("an object stream")

    (result,) = run_checks(FAKE, checks=[fake("OBJ-FIFO", body)], backends=["asyncio"])
    assert result.outcome is Outcome.NOT_PROVIDED
    assert result.message == "fake does not provide an object stream"


def test_not_provided_is_never_counted_as_passed() -> None:
    async def body(ctx: Context) -> None:
        raise NotProvided("an object stream")

    checks = [fake("OBJ-FIFO", body), fake("OBJ-IDENTITY", passes)]
    results = run_checks(FAKE, checks=checks, backends=["asyncio"])
    assert [r.outcome for r in results] == [Outcome.NOT_PROVIDED, Outcome.PASSED]
    cell = tally(results)["object"]["asyncio"]
    assert (cell.passed, cell.not_provided, cell.failed) == (1, 1, 0)
    assert verdict(results).startswith("OK: 1 passed, 0 failed, 0 known divergences, 1 not ")


def test_an_interrupted_run_is_never_ok() -> None:
    results = run_checks(FAKE, checks=[fake("OBJ-FIFO", passes)], backends=["asyncio"])
    assert verdict(results, interrupted=True) == (
        "INTERRUPTED: 1 passed, 0 failed, 0 known divergences, 0 not provided (rule x backend); "
        "interrupted, these are the checks that finished"
    )
    assert format_report(results, interrupted=True).endswith("checks that finished\n")
    failed = run_checks(FAKE, checks=[fake("OBJ-FIFO", fails)], backends=["asyncio"])
    assert verdict(failed, interrupted=True).startswith("FAILED: 0 passed, 1 failed")


def test_a_known_divergence_that_fails_is_reported_as_known() -> None:
    divergence = Divergence("OBJ-FIFO", "reorders on purpose", "https://example.invalid/1")
    target = Target(name="fake", known_divergences=(divergence,))
    (result,) = run_checks(target, checks=[fake("OBJ-FIFO", fails)], backends=["asyncio"])
    assert result.outcome is Outcome.KNOWN_DIVERGENCE
    assert result.divergence == divergence
    assert result.message == "received b'ba', expected b'ab'"
    assert result.ok


def test_a_stale_known_divergence_fails() -> None:
    divergence = Divergence("OBJ-FIFO", "reorders on purpose")
    target = Target(name="fake", known_divergences=(divergence,))
    (result,) = run_checks(target, checks=[fake("OBJ-FIFO", passes)], backends=["trio"])
    assert result.outcome is Outcome.FAILED
    assert result.stale
    assert not result.ok
    assert result.divergence == divergence
    assert "stale known divergence" in result.message
    assert "reorders on purpose" in result.message
    assert "Stale known divergences (1)" in format_report([result])


def test_a_divergence_of_an_unknown_rule_is_rejected() -> None:
    target = Target(name="fake", known_divergences=(Divergence("NO-SUCH-RULE", "?"),))
    with pytest.raises(ValueError, match="NO-SUCH-RULE"):
        run_checks(target, checks=[fake("OBJ-FIFO", passes)])


@pytest.fixture
def release() -> Iterator[threading.Event]:
    """Set at teardown, so that a thread a test abandoned can finish."""
    event = threading.Event()
    yield event
    event.set()


def test_a_check_that_ignores_cancellation_is_reported_hung_and_the_run_goes_on(
    release: threading.Event,
) -> None:
    async def blocks_the_loop(ctx: Context) -> None:
        release.wait(60)  # blocks the event loop thread: no cancellation can get in

    checks = [fake("OBJ-FIFO", blocks_the_loop), fake("OBJ-IDENTITY", passes)]
    started = time.monotonic()
    results = run_checks(FAKE, checks=checks, backends=["asyncio"], timeout=0.2)
    elapsed = time.monotonic() - started
    assert [r.outcome for r in results] == [Outcome.FAILED, Outcome.PASSED]
    assert results[0].message.startswith("hung: did not respond to cancellation")
    assert elapsed < 10, elapsed


def test_a_hung_check_names_the_subject_it_had_open(release: threading.Event) -> None:
    @asynccontextmanager
    async def nothing() -> AsyncIterator[None]:
        yield None

    async def hangs_in_a_subject(ctx: Context) -> None:
        async with named(Subject("stuck pair", nothing)), named(Subject("spare", nothing)):
            pass
        async with named(Subject("stuck pair", nothing)):
            release.wait(60)

    (result,) = run_checks(
        FAKE, checks=[fake("OBJ-FIFO", hangs_in_a_subject)], backends=["asyncio"], timeout=0.2
    )
    assert result.outcome is Outcome.FAILED
    assert result.message.startswith("stuck pair: hung: did not respond to cancellation")


@pytest.mark.parametrize("backend", ["asyncio", "trio"])
def test_a_timed_out_check_names_the_subject_it_had_open(backend: str) -> None:
    @asynccontextmanager
    async def nothing() -> AsyncIterator[None]:
        yield None

    async def waits_in_a_subject(ctx: Context) -> None:
        with anyio.move_on_after(0):  # a deadline of the check's own, not the time limit
            async with named(Subject("earlier pair", nothing)):
                await anyio.Event().wait()
        async with named(Subject("stuck pair", nothing)):
            await anyio.Event().wait()

    (result,) = run_checks(
        FAKE, checks=[fake("OBJ-FIFO", waits_in_a_subject)], backends=[backend], timeout=0.2
    )
    assert result.outcome is Outcome.FAILED
    assert result.message.startswith("stuck pair: did not finish within 0.2 s"), result.message


def test_a_check_that_waits_too_long_fails_on_its_timeout() -> None:
    async def waits(ctx: Context) -> None:
        await anyio.Event().wait()

    (result,) = run_checks(FAKE, checks=[fake("OBJ-FIFO", waits)], backends=["trio"], timeout=0.2)
    assert result.outcome is Outcome.FAILED
    assert result.message.startswith("did not finish within 0.2 s")


def test_a_property_check_past_its_budget_is_reported_hung(release: threading.Event) -> None:
    def never_ends(ctx: Context) -> None:
        release.wait(60)

    result = run_check(fake("OBJ-FIFO", never_ends), FAKE, BACKENDS["asyncio"], budget=0.3)
    assert result.outcome is Outcome.FAILED
    assert result.message.startswith("hung: the check did not finish within its budget of 0.3 s")


def test_rules_without_a_check_are_not_provided(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(runner_module, "_registered_checks", lambda: [fake("OBJ-FIFO", passes)])
    results = run_checks(FAKE, roles=["object"], backends=["asyncio"])
    by_rule = {r.rule.id: r for r in results}
    assert by_rule["OBJ-FIFO"].outcome is Outcome.PASSED
    unchecked = [r for r in results if r.rule.id != "OBJ-FIFO"]
    assert unchecked
    assert {r.outcome for r in unchecked} == {Outcome.NOT_PROVIDED}
    assert not any(r.checked for r in unchecked)
    assert "Rules the suite has no check for yet" in format_report(results)


def test_the_start_callback_sees_each_check_before_it_runs() -> None:
    seen: list[tuple[str, str]] = []
    results = iter_results(
        FAKE,
        checks=[fake("OBJ-FIFO", passes)],
        backends=["asyncio", "trio"],
        on_start=lambda rule, backend: seen.append((rule.id, backend)),
    )
    first = next(results)
    assert seen == [("OBJ-FIFO", "asyncio")]
    assert first.backend == "asyncio"
    assert len(list(results)) == 1
    assert seen == [("OBJ-FIFO", "asyncio"), ("OBJ-FIFO", "trio")]


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"roles": ["nope"]}, "unknown role nope"),
        ({"rules": ["NOPE"]}, "no rule NOPE"),
        ({"backends": ["curio"]}, "unknown backend 'curio'"),
        ({"timeout": 0}, "timeout must be positive"),
    ],
)
def test_bad_selections_are_value_errors(options: dict[str, object], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        run_checks(FAKE, checks=[fake("OBJ-FIFO", passes)], **options)


@pytest.mark.anyio
async def test_run_suite_runs_from_async_code(
    anyio_backend: object, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(
        runner_module,
        "_registered_checks",
        lambda: [fake("OBJ-FIFO", passes), fake("OBJ-EOF", fails)],
    )
    with anyio.fail_after(30):
        results = await run_suite(FAKE, rules=["OBJ-FIFO", "OBJ-EOF"], backends=["asyncio"])
    assert [(r.rule.id, r.outcome) for r in results] == [
        ("OBJ-FIFO", Outcome.PASSED),
        ("OBJ-EOF", Outcome.FAILED),
    ]


# -- the seed of a run ---------------------------------------------------------------------


def _drawn(profile: str, seed: int | None = None) -> list[int]:
    """The examples a tiny property check draws in a run with ``profile`` and ``seed``."""
    from hypothesis import given
    from hypothesis import strategies as st

    seen: list[int] = []

    def draws(ctx: Context) -> None:
        @given(st.integers(0, 10**9))
        def prop(value: int) -> None:
            seen.append(value)

        prop()

    run_checks(
        FAKE, checks=[fake("BYTE-INTACT", draws)], backends=["asyncio"], profile=profile, seed=seed
    )
    return seen


def test_a_seed_decides_the_examples_whatever_the_profile() -> None:
    assert _drawn("ci", 12) == _drawn("ci", 12)
    assert _drawn("ci", 12) != _drawn("ci", 13)
    assert _drawn("dev", 12) == _drawn("dev", 12)
    # ci's runs are the same run: its default seed is fixed, and it is 0.
    assert _drawn("ci") == _drawn("ci") == _drawn("ci", 0)
    # dev explores: each run draws a fresh seed.
    assert _drawn("dev") != _drawn("dev")


def test_the_run_restores_the_profile_and_seed_before_it() -> None:
    from hypothesis import core, settings

    before = (settings.get_current_profile_name(), core.global_force_seed)
    _drawn("dev", 5)
    assert (settings.get_current_profile_name(), core.global_force_seed) == before


@pytest.mark.parametrize("profile", ["ci", "dev"])
def test_a_failing_property_carries_no_advice_for_a_test_function(profile: str) -> None:
    from hypothesis import given
    from hypothesis import strategies as st

    def fails_for_big_values(ctx: Context) -> None:
        @given(st.integers(0, 1000))
        def prop(value: int) -> None:
            assert value < 10, f"got {value}"

        prop()

    (result,) = run_checks(
        FAKE,
        checks=[fake("BYTE-INTACT", fails_for_big_values)],
        backends=["asyncio"],
        profile=profile,
    )
    assert result.outcome is Outcome.FAILED
    assert "got 10" in result.message  # shrunk to the smallest failing value
    for advice in ("reproduce_failure", "your test function", "@seed", "Explanation"):
        assert advice not in result.message


class _Stuck:
    """A stream end whose receive() shields itself from cancellation until ``released``."""

    def __init__(self, released: anyio.Event) -> None:
        self._released = released

    async def receive(self, max_bytes: int = 65536) -> bytes:
        with anyio.CancelScope(shield=True):
            await self._released.wait()
        return b"late"

    async def aclose(self) -> None:
        await anyio.lowlevel.checkpoint()


def stuck_target(cleaned: threading.Event) -> Target:
    @asynccontextmanager
    async def pair() -> AsyncIterator[tuple[_Stuck, _Stuck]]:
        released = anyio.Event()
        try:
            yield _Stuck(released), _Stuck(released)
        finally:
            cleaned.set()  # as a factory kills the child process it started
            released.set()

    return Target(name="stuck", byte_stream_pair=pair)  # type: ignore[arg-type]


async def receives_on_the_pair(ctx: Context) -> None:
    # Through the suite's own helper, as the real checks call a target's operations.
    from streamspec.conformance.observe import expect_raises
    from streamspec.conformance.subjects import byte_pairs

    async with named(byte_pairs(ctx.target)[0]) as pair:
        await expect_raises(anyio.EndOfStream, pair.right.receive)


@pytest.mark.parametrize("backend", ["asyncio", "trio"])
def test_an_abandoned_check_has_the_targets_clean_up_run_and_says_so(backend: str) -> None:
    cleaned = threading.Event()
    (result,) = run_checks(
        stuck_target(cleaned),
        checks=[fake("BYTE-INTACT", receives_on_the_pair)],
        backends=[backend],
        timeout=0.2,
    )
    assert cleaned.is_set()
    assert result.outcome is Outcome.FAILED
    assert result.message.startswith("byte_stream_pair: hung: did not respond to cancellation"), (
        result.message
    )
    assert "; pending: _Stuck.receive() at test_runner.py:" in result.message, result.message
    assert result.message.endswith("; abandoned: the target's clean-up was run"), result.message


@pytest.mark.parametrize("backend", ["asyncio", "trio"])
def test_a_timed_out_check_names_the_pending_operation(backend: str) -> None:
    class Forever:
        async def receive(self) -> bytes:
            await anyio.Event().wait()
            return b""

    async def waits_in_receive(ctx: Context) -> None:
        from streamspec.conformance.observe import expect_raises

        await expect_raises(anyio.EndOfStream, Forever().receive)

    (result,) = run_checks(
        FAKE, checks=[fake("OBJ-FIFO", waits_in_receive)], backends=[backend], timeout=0.2
    )
    assert result.outcome is Outcome.FAILED
    assert result.message.startswith("did not finish within 0.2 s"), result.message
    assert "; pending: Forever.receive() at test_runner.py:" in result.message, result.message


def test_the_budget_of_a_check_is_an_option_of_a_run(release: threading.Event) -> None:
    def never_ends(ctx: Context) -> None:
        release.wait(60)

    (result,) = run_checks(
        FAKE, checks=[fake("OBJ-FIFO", never_ends)], backends=["asyncio"], budget=0.3
    )
    assert result.outcome is Outcome.FAILED
    assert result.message.startswith("hung: the check did not finish within its budget of 0.3 s")
    with pytest.raises(ValueError, match="budget must be positive"):
        run_checks(FAKE, checks=[fake("OBJ-FIFO", passes)], budget=0)


def test_a_divergence_declared_for_one_backend_is_known_there_only() -> None:
    target = Target(
        name="fake",
        known_divergences=(Divergence("OBJ-EOF", "asyncio's code only", backends=("asyncio",)),),
    )
    results = run_checks(target, checks=[fake("OBJ-EOF", fails)], backends=["asyncio", "trio"])
    assert [(r.backend, r.outcome) for r in results] == [
        ("asyncio", Outcome.KNOWN_DIVERGENCE),
        ("trio", Outcome.FAILED),
    ]
    passing = run_checks(target, checks=[fake("OBJ-EOF", passes)], backends=["asyncio", "trio"])
    assert [(r.backend, r.outcome, r.stale) for r in passing] == [
        ("asyncio", Outcome.FAILED, True),
        ("trio", Outcome.PASSED, False),
    ]
