"""Running the checks: one outcome per rule and backend, whatever the implementation does.

Every check runs in a daemon worker thread of its own, watched from the calling thread. A check
normally ends by itself: the registry's :meth:`~.registry.Context.run` turns a stream that
waits too long into an assertion failure. A stream that ignores cancellation (it blocks the
event loop thread, or shields itself) defeats that limit, so the watcher gives up on such a
check after a grace period, reports the rule as hung and moves on, leaving the stuck thread
behind. No check, however broken, can stop the run: every exception becomes an outcome.

Outcomes:

* ``passed``: the check returned.
* ``failed``: the check raised (or hung); the message says what was observed. A *stale* known
  divergence is a failure too: the target declared that it breaks the rule, yet the rule
  passed on that backend, so the entry must go. Such a result has :attr:`CheckResult.stale`
  set, and keeps the divergence, so that nobody can overlook it and the exit status shows it.
* ``known-divergence``: the check failed, and the target declares that it breaks this rule.
* ``not-provided``: the target lacks what the rule needs, or the suite has no check for the
  rule yet (:attr:`CheckResult.checked` is then false). Never counted as passed.
"""

from __future__ import annotations

import functools
import importlib.util
import threading
import time
import traceback
from collections.abc import Awaitable, Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from enum import Enum
from typing import Any, TypeVar

import anyio
import anyio.to_thread

from ._hang import HangRecord, pending_in_stack
from .catalogue import ROLES, RULES, Rule
from .observe import describe, leaves, only
from .registry import Check, Context, NotProvided, all_checks
from .target import Divergence, Target, load_target

__all__ = [
    "BACKENDS",
    "DEFAULT_BACKENDS",
    "DEFAULT_BUDGET",
    "DEFAULT_TIMEOUT",
    "Backend",
    "CheckResult",
    "Outcome",
    "SuiteUnavailable",
    "default_backends",
    "default_budget",
    "hypothesis_profile",
    "iter_results",
    "resolve_backends",
    "run_check",
    "run_checks",
    "run_suite",
    "selected_rules",
    "skipped_backends",
    "validate_target",
]

T = TypeVar("T")

#: Seconds one event-loop run of a check may take (see :attr:`.registry.Context.timeout`).
DEFAULT_TIMEOUT = 10.0
#: Seconds a whole check may take by default: a property check runs an event loop per
#: example, and shrinking a failure runs more. The default is the larger of this and six
#: time limits (:func:`default_budget`).
DEFAULT_BUDGET = 60.0
#: Extra seconds a run gets, past its time limit, to deliver the cancellation and return.
#: Beyond them the stream is ignoring cancellation and the check is abandoned as hung.
_GRACE = 2.0
#: The time limit of the event-loop runs of a check after one of them timed out.
_SHRINK_TIMEOUT = 1.0
#: How often the watcher wakes to look at a running check.
_POLL = 0.2
#: Seconds the watcher waits, when it abandons a check, for the target's clean-ups that the
#: check's event loop is running for it (each is bounded; see :mod:`._hang`).
_CLEAN_UP_WAIT = 5.0
#: Messages that a dependency of the ``check`` extra is missing name the install command.
_EXTRA_MODULES = ("hypothesis", "trustme")


class Outcome(str, Enum):
    """What became of one rule on one backend."""

    PASSED = "passed"
    FAILED = "failed"
    KNOWN_DIVERGENCE = "known-divergence"
    NOT_PROVIDED = "not-provided"


@dataclass(frozen=True)
class CheckResult:
    """The outcome of one rule on one backend."""

    rule: Rule
    #: The backend's name: ``"asyncio"``, ``"trio"`` or ``"uvloop"``.
    backend: str
    outcome: Outcome
    #: What was observed (failures and known divergences), what is missing (not provided),
    #: or why a divergence entry is stale; empty when the rule passed.
    message: str = ""
    #: The target's entry for this rule, for known divergences and stale entries.
    divergence: Divergence | None = None
    #: Set on a failure that is a stale known divergence (the rule passed after all).
    stale: bool = False
    #: Seconds the check took (up to the moment the watcher gave up on it).
    duration: float = 0.0
    #: False when the suite has no check for the rule yet (the outcome is then not provided).
    checked: bool = True

    @property
    def ok(self) -> bool:
        """Whether this result lets a run succeed: anything but a failure (stale included)."""
        return self.outcome is not Outcome.FAILED


@dataclass(frozen=True)
class Backend:
    """An event loop the checks run on."""

    #: The name used on the command line and in results.
    name: str
    #: The name :func:`anyio.run` knows.
    anyio_backend: str
    #: Passed to :func:`anyio.run` as ``backend_options``.
    options: tuple[tuple[str, Any], ...] = ()
    #: The module that must be importable for this backend, if any beyond the standard library.
    requires: str | None = None

    @property
    def installed(self) -> bool:
        return self.requires is None or importlib.util.find_spec(self.requires) is not None


#: Every backend the suite knows, by name.
BACKENDS: dict[str, Backend] = {
    "asyncio": Backend("asyncio", "asyncio"),
    "trio": Backend("trio", "trio", requires="trio"),
    "uvloop": Backend("uvloop", "asyncio", (("use_uvloop", True),), requires="uvloop"),
}
#: The backends a run uses unless told otherwise (those installed).
DEFAULT_BACKENDS = ("asyncio", "trio")


class SuiteUnavailable(RuntimeError):
    """The suite cannot run here: a package of the ``check`` extra is not installed."""


def default_backends() -> tuple[Backend, ...]:
    """The default backends that are installed (see :func:`skipped_backends` for the others)."""
    return tuple(BACKENDS[name] for name in DEFAULT_BACKENDS if BACKENDS[name].installed)


def skipped_backends(names: Iterable[str] | None) -> dict[str, str]:
    """The backends a run asked for by default but cannot use, each with the reason, for the
    report to name: a run never drops a backend without a word. Empty when ``names`` are
    given, since asking for a backend that is not installed is an error instead."""
    if names is not None:
        return {}
    return {
        name: f"not installed (pip install {BACKENDS[name].requires})"
        for name in DEFAULT_BACKENDS
        if not BACKENDS[name].installed
    }


def default_budget(timeout: float) -> float:
    """The budget of a whole check when none is given: DEFAULT_BUDGET, or six time limits of
    one event-loop run when that is more."""
    return max(DEFAULT_BUDGET, 6 * timeout)


def resolve_backends(names: Iterable[str] | None) -> tuple[Backend, ...]:
    """Turn backend names into backends; ``None`` means :func:`default_backends`.

    :raises ValueError: a name is unknown, or names a backend whose package is not installed.
    """
    if names is None:
        return default_backends()
    chosen: list[Backend] = []
    for name in names:
        backend = BACKENDS.get(name)
        if backend is None:
            raise ValueError(f"unknown backend {name!r}; choose from {', '.join(BACKENDS)}")
        if not backend.installed:
            raise ValueError(f"backend {name!r} needs the {backend.requires} package installed")
        if backend not in chosen:
            chosen.append(backend)
    if not chosen:
        raise ValueError("no backend chosen")
    return tuple(chosen)


def _registered_checks() -> list[Check]:
    """Every registered check, or a clear error when the ``check`` extra is missing."""
    try:
        return list(all_checks())
    except ModuleNotFoundError as exc:
        if exc.name in _EXTRA_MODULES:
            raise SuiteUnavailable(
                f"the conformance suite needs {exc.name}, which is not installed: "
                "pip install 'streamspec[check]'"
            ) from exc
        raise


def selected_rules(
    roles: Iterable[str] | None = None, rules: Iterable[str] | None = None
) -> list[Rule]:
    """The catalogue rules in the selection, checked or not, in catalogue order.

    :raises ValueError: a role or rule ID is not in the catalogue.
    """
    role_set, rule_set = _validated(roles, rules)
    return [r for r in RULES.values() if _in_selection(r, role_set, rule_set)]


def _in_selection(rule: Rule, role_set: set[str] | None, rule_set: set[str] | None) -> bool:
    if role_set is None and rule_set is None:
        return True
    return rule.role in (role_set or ()) or rule.id in (rule_set or ())


def _validated(
    roles: Iterable[str] | None, rules: Iterable[str] | None
) -> tuple[set[str] | None, set[str] | None]:
    role_set = None if roles is None else set(roles)
    rule_set = None if rules is None else set(rules)
    if unknown := sorted((role_set or set()) - ROLES.keys()):
        raise ValueError(f"unknown role {', '.join(unknown)}; roles are {', '.join(ROLES)}")
    if unknown := sorted((rule_set or set()) - RULES.keys()):
        raise ValueError(f"no rule {', '.join(unknown)} in the catalogue (see 'streamspec rules')")
    return role_set, rule_set


def validate_target(target: Target) -> None:
    """Reject a target whose known divergences name rules the catalogue does not have.

    :raises ValueError: naming the unknown rule IDs.
    """
    unknown = sorted({d.rule for d in target.known_divergences} - RULES.keys())
    if unknown:
        raise ValueError(
            f"target {target.name!r} declares known divergences for unknown rules: "
            + ", ".join(unknown)
        )


# -- running one check under the watchdog ----------------------------------------------------


class _Abandoned(BaseException):
    """Unwinds an abandoned check's thread at its next event-loop run.

    A BaseException, so that Hypothesis does not take it for a failing example and shrink.
    """


class _Watch:
    """What the watcher knows about a check running in its worker thread."""

    def __init__(self) -> None:
        #: When the event-loop run in progress started (``None`` between runs).
        self.run_started: float | None = None
        #: Set by the watcher once it has given up on the check.
        self.abandoned = False
        #: Set once a run failed by reaching its time limit.
        self.timed_out = False

    def entering_run(self) -> None:
        if self.abandoned:
            raise _Abandoned
        self.run_started = time.monotonic()

    def left_run(self) -> None:
        self.run_started = None


@dataclass(frozen=True)
class _WatchedContext(Context):
    """A context whose event-loop runs the watcher can see, and refuse once it gave up."""

    watch: _Watch = field(default_factory=_Watch)

    def run(self, func: Callable[..., Awaitable[T]], *args: Any) -> T:
        """Run as :meth:`Context.run` does, in view of the watcher.

        Once a run of this check has failed by reaching its time limit, Hypothesis shrinks
        that failure by running smaller examples, most of which hang too; each later run
        gets a shorter limit, so shrinking takes seconds instead of minutes.
        """
        shorter = min(self.timeout, _SHRINK_TIMEOUT)
        limited = replace(self, timeout=shorter) if self.watch.timed_out else self
        self.watch.entering_run()
        started = time.monotonic()
        try:
            return Context.run(limited, func, *args)
        except AssertionError:
            if time.monotonic() - started >= limited.timeout:
                self.watch.timed_out = True
            raise
        finally:
            self.watch.left_run()


@dataclass
class _Finished:
    """What the worker thread hands back: the exception raised (if any) and Hypothesis's output."""

    error: BaseException | None = None
    reported: list[str] = field(default_factory=list)


def _execute(check: Check, ctx: Context, finished: _Finished) -> None:
    """The worker thread's body: run the check, keep what it raised and what Hypothesis said."""
    from hypothesis.reporting import with_reporter  # the check modules need Hypothesis anyway

    from .profiles import repeatable_randomness

    try:
        with (
            repeatable_randomness(),
            with_reporter(lambda value: finished.reported.append(str(value))),
        ):
            if check.is_async:
                ctx.run(check.body, ctx)  # type: ignore[arg-type]
            else:
                check.body(ctx)
    except _Abandoned:
        pass  # nobody is waiting for this outcome any more
    except BaseException as exc:  # a check's crash is its rule's outcome, not the run's end
        finished.error = exc


def run_check(
    check: Check,
    target: Target,
    backend: Backend,
    *,
    timeout: float = DEFAULT_TIMEOUT,
    budget: float | None = None,
) -> CheckResult:
    """Run one check on one backend and return its outcome; never raises for the check's sake.

    :param timeout: seconds each event-loop run of the check may take.
    :param budget: seconds the whole check may take (a property runs many event loops);
        default :func:`default_budget`.
    """
    started = time.monotonic()
    missing = check.missing(target)
    if missing:
        return CheckResult(
            check.rule,
            backend.name,
            Outcome.NOT_PROVIDED,
            f"{target.name} does not provide {', '.join(missing)}",
        )
    watch = _Watch()
    ctx = _WatchedContext(
        target=target,
        backend=backend.anyio_backend,
        backend_options=backend.options,
        timeout=timeout,
        watch=watch,
    )
    finished = _Finished()
    worker = threading.Thread(
        target=_execute,
        args=(check, ctx, finished),
        name=f"streamspec-check {check.rule.id} {backend.name}",
        daemon=True,  # a hung check must not keep the process alive
    )
    worker.start()
    hung = _watch_until_done(
        worker, watch, started, timeout, default_budget(timeout) if budget is None else budget
    )
    if hung is not None:
        watch.abandoned = True
        reason, stuck = hung
        message = _abandoned(reason, worker, ctx.hang, stuck=stuck)
        duration = time.monotonic() - started
        return _judge(check.rule, backend, target, AssertionError(message), [], duration)
    duration = time.monotonic() - started
    return _judge(check.rule, backend, target, finished.error, finished.reported, duration)


def _watch_until_done(
    worker: threading.Thread, watch: _Watch, started: float, timeout: float, budget: float
) -> tuple[str, bool] | None:
    """Wait for the worker; return why it is hung and whether an event-loop run ignored its
    time limit (else the budget is spent), or ``None`` once it has finished."""
    run_limit = timeout + _GRACE
    while True:
        worker.join(_POLL)
        if not worker.is_alive():
            return None
        now = time.monotonic()
        run_started = watch.run_started
        if run_started is not None and now - run_started > run_limit:
            return (
                f"hung: did not respond to cancellation within {run_limit:g} s (the time limit "
                f"is {timeout:g} s): the stream blocked the event loop thread or shielded itself "
                "from cancellation",
                True,
            )
        if now - started > budget:
            return (
                f"hung: the check did not finish within its budget of {budget:g} s (it hangs, "
                "or Hypothesis was still shrinking a failing example)",
                False,
            )


def _abandoned(hung: str, worker: threading.Thread, record: HangRecord, *, stuck: bool) -> str:
    """The message of a check abandoned as hung: the subjects it had open, why it is hung,
    the target's operations pending, and what became of the target's clean-ups.

    :param stuck: an event-loop run ignored its time limit (rather than a property check
        that ran out of budget, whose current example ends and cleans up by itself).
    """
    names = list(record.open_subjects)
    parts = [f"{', '.join(dict.fromkeys(names))}: {hung}" if names else hung]
    clean_up: str | None = None
    pending: list[str] = []
    if record.deadline_passed:
        # The loop is alive and the check ignores its cancellation: the run's own watch is
        # running the target's clean-ups; they are bounded, so wait for their outcome.
        record.cleaned_up.wait(_CLEAN_UP_WAIT)
        pending = record.pending
        clean_up = record.clean_up_outcome or "the target's clean-up was still running"
    elif stuck:
        # Nothing can run in a blocked event loop: the thread's stack says what blocks it.
        pending = pending_in_stack(worker.ident)
        if record.clean_ups:
            clean_up = "the target's clean-up could not run (the event loop thread is blocked)"
    parts += [f"pending: {name}" for name in pending]
    parts.append(f"abandoned: {clean_up}" if clean_up else "abandoned")
    return "; ".join(parts)


def _judge(
    rule: Rule,
    backend: Backend,
    target: Target,
    error: BaseException | None,
    reported: list[str],
    duration: float,
) -> CheckResult:
    """Turn what the check did into an outcome, applying the target's known divergences."""
    divergence = target.divergence(rule.id, backend.anyio_backend)
    result = functools.partial(CheckResult, rule, backend.name, duration=duration)
    if error is None:
        if divergence is None:
            return result(Outcome.PASSED)
        return result(
            Outcome.FAILED,
            f"stale known divergence: the rule passes on {backend.name}, so the target's entry "
            f"for it is out of date (it said: {divergence.reason})",
            divergence=divergence,
            stale=True,
        )
    found = leaves(error)
    if only(error, NotProvided):
        return result(
            Outcome.NOT_PROVIDED, "; ".join(f"{target.name} does not provide {e}" for e in found)
        )
    message = _observed(error, found, reported)
    if divergence is not None:
        return result(Outcome.KNOWN_DIVERGENCE, message, divergence=divergence)
    return result(Outcome.FAILED, message)


def _observed(error: BaseException, leaves: list[BaseException], reported: list[str]) -> str:
    """What was observed: each failure's message and notes, then Hypothesis's own output."""
    parts = [_failure_text(leaf) for leaf in leaves if not isinstance(leaf, NotProvided)]
    if error not in leaves:
        parts.extend(getattr(error, "__notes__", []))  # notes on the group itself
    parts.extend(line for line in reported if line.strip())
    return "\n".join(part.strip("\n") for part in parts)


def _failure_text(error: BaseException) -> str:
    text = str(error)
    if not isinstance(error, AssertionError) or not text:
        # A crash, or a bare assert: say what was raised and where, to find it quickly.
        text = describe(error)
        frames = traceback.extract_tb(error.__traceback__)
        if frames:
            last = frames[-1]
            text += f" (at {last.filename}:{last.lineno} in {last.name})"
    notes = getattr(error, "__notes__", [])
    return "\n".join([text, *(note.strip("\n") for note in notes)])


# -- running many -------------------------------------------------------------------------


@contextmanager
def hypothesis_profile(profile: str | None = None, seed: int | None = None) -> Iterator[int]:
    """Load a Hypothesis profile for a run as :func:`.profiles.conformance_run` does, yield
    the run's seed, and restore the previous profile and seed afterwards.

    :param profile: ``ci``, ``dev`` or any registered profile; default
        ``$HYPOTHESIS_PROFILE`` or ``ci``.
    :param seed: the seed of the run (see :func:`.profiles.run_seed`).
    :raises SuiteUnavailable: Hypothesis is not installed.
    """
    try:
        from . import profiles
    except ModuleNotFoundError as exc:
        if exc.name == "hypothesis":
            raise SuiteUnavailable(
                "the conformance suite needs Hypothesis, which is not installed: "
                "pip install 'streamspec[check]'"
            ) from exc
        raise
    with profiles.conformance_run(profile, seed) as chosen_seed:
        yield chosen_seed


def iter_results(
    target: Target,
    *,
    backends: Sequence[str] | None = None,
    roles: Iterable[str] | None = None,
    rules: Iterable[str] | None = None,
    timeout: float = DEFAULT_TIMEOUT,
    budget: float | None = None,
    profile: str | None = None,
    seed: int | None = None,
    stop: threading.Event | None = None,
    checks: Iterable[Check] | None = None,
    on_start: Callable[[Rule, str], None] | None = None,
) -> Iterator[CheckResult]:
    """Run the selected checks on each backend, yielding each outcome as soon as it is known.

    Rules come in catalogue order (so grouped by role), each on every backend in turn. A
    selected rule that has no check yet gives a not-provided result per backend, with
    :attr:`CheckResult.checked` false, so that it is reported and never passes unnoticed.

    :param backends: backend names (default: :func:`default_backends`).
    :param roles: only the rules of these roles (combined with ``rules``: either selects).
    :param rules: only these rule IDs.
    :param timeout: seconds each event-loop run of a check may take.
    :param budget: seconds a whole check may take before it is abandoned as hung (default
        :func:`default_budget`); a property check runs many event loops.
    :param profile: the Hypothesis profile to load for the run (``ci``, ``dev``, or any
        registered one; default ``$HYPOTHESIS_PROFILE`` or ``ci``). The profile loaded before
        is restored afterwards.
    :param seed: the seed every property of the run draws its examples from (default 0 for
        a repeatable profile such as ``ci``, a random one otherwise): the same seed, profile,
        target and rule give the same examples.
    :param stop: when set, the run ends after the check in progress.
    :param checks: run exactly these checks instead of the registered ones (``roles`` and
        ``rules`` then filter them; rules without a check are not reported).
    :param on_start: called with the rule and the backend's name before each check starts
        (to show progress).
    :raises ValueError: an unknown backend, role or rule; a known divergence of an unknown rule;
        a timeout or budget that is not positive.
    :raises SuiteUnavailable: a package of the ``check`` extra is not installed.
    """
    if not timeout > 0:
        raise ValueError(f"timeout must be positive, got {timeout!r}")
    if budget is not None and not budget > 0:
        raise ValueError(f"budget must be positive, got {budget!r}")
    chosen = resolve_backends(backends)
    validate_target(target)
    role_set, rule_set = _validated(roles, rules)
    if checks is None:
        by_rule = {c.rule.id: c for c in _registered_checks()}
        plan: list[tuple[Rule, Check | None]] = [
            (r, by_rule.get(r.id)) for r in selected_rules(roles, rules)
        ]
    else:
        plan = [(c.rule, c) for c in checks if _in_selection(c.rule, role_set, rule_set)]
    with hypothesis_profile(profile, seed):
        for checked_rule, check in plan:
            for backend in chosen:
                if stop is not None and stop.is_set():
                    return
                if check is None:
                    yield CheckResult(
                        checked_rule,
                        backend.name,
                        Outcome.NOT_PROVIDED,
                        "the suite has no check for this rule yet",
                        checked=False,
                    )
                    continue
                if on_start is not None:
                    on_start(checked_rule, backend.name)
                yield run_check(check, target, backend, timeout=timeout, budget=budget)


def run_checks(target: Target, **options: Any) -> list[CheckResult]:
    """Run the selected checks and return every outcome (see :func:`iter_results`)."""
    return list(iter_results(target, **options))


async def run_suite(
    target: Target | str,
    *,
    backends: Sequence[str] | None = None,
    roles: Iterable[str] | None = None,
    rules: Iterable[str] | None = None,
    timeout: float = DEFAULT_TIMEOUT,
    budget: float | None = None,
    profile: str | None = None,
    seed: int | None = None,
) -> list[CheckResult]:
    """Run the suite from async code and return every outcome.

    Each check starts event loops of its own, so the run happens in a worker thread and this
    coroutine only waits for it. Cancelling the wait stops the run after the check in progress.
    ``target`` may be a :class:`Target` or a name for :func:`.target.load_target`. The other
    arguments are those of :func:`iter_results`, and so are the exceptions, plus
    :exc:`LookupError` for a target that cannot be found.
    """
    resolved = load_target(target) if isinstance(target, str) else target
    stop = threading.Event()
    run = functools.partial(
        run_checks,
        resolved,
        backends=backends,
        roles=roles,
        rules=rules,
        timeout=timeout,
        budget=budget,
        profile=profile,
        seed=seed,
        stop=stop,
    )
    try:
        return await anyio.to_thread.run_sync(run, abandon_on_cancel=True)
    finally:
        stop.set()
