"""How checks are declared: one function per rule, registered with :func:`check`.

A check is either

* an ``async def`` taking a :class:`Context`: run once, inside a fresh event loop of the
  context's backend, under the context's timeout; or
* a plain ``def`` taking a :class:`Context`: for property checks, which drive Hypothesis
  themselves and call :meth:`Context.run` once per example.

A check passes by returning. It fails by raising :exc:`AssertionError` whose message says what
was observed (the report prints it next to the rule's sentence). It declares the target fields
it needs; when any is missing the rule is reported as not provided. A check may also call
:meth:`Context.not_provided` when it finds out late that the target lacks something.
"""

from __future__ import annotations

import inspect
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from typing import Any, TypeVar

import anyio

from ._hang import CURRENT, HangRecord, pending_in_tasks, run_clean_ups
from .catalogue import Rule, rule
from .target import Target

__all__ = [
    "Check",
    "CheckBody",
    "Context",
    "NotProvided",
    "all_checks",
    "check",
]

T = TypeVar("T")
CheckBody = Callable[["Context"], Awaitable[None]] | Callable[["Context"], None]


class NotProvided(BaseException):
    """Raised by a check, or by a target's factory, when the target lacks what the rule needs.

    A :exc:`BaseException`, like a cancellation, so that nothing between the raise and the
    runner mistakes it for a failure of the stream: neither a check's ``except Exception``
    around a call into the target, nor Hypothesis, which would otherwise shrink it as a
    failing example.
    """


#: Seconds a run whose time limit has passed gets to stop before the target's clean-ups are
#: run for it (its check ignores the cancellation, and the watcher will abandon it).
_CLEAN_UP_AFTER = 0.5


@dataclass(frozen=True)
class Context:
    """What a check runs against: the target, one backend and a time limit."""

    target: Target
    #: ``"asyncio"`` or ``"trio"``.
    backend: str
    #: Passed to :func:`anyio.run` (``{"use_uvloop": True}``, say).
    backend_options: tuple[tuple[str, Any], ...] = ()
    #: Seconds one event-loop run may take before the check fails as hung.
    timeout: float = 10.0
    #: What the runs leave for reporting a hang (shared by the copies of a context).
    hang: HangRecord = field(default_factory=HangRecord, compare=False, repr=False)

    def run(self, func: Callable[..., Awaitable[T]], *args: Any) -> T:
        """Run ``await func(*args)`` in a fresh event loop of this backend, under the timeout.

        When the time is up, the subjects open and the target's operations pending are noted,
        and the call is cancelled. If it does not stop (the stream ignores the cancellation),
        the target's clean-ups are run for it shortly afterwards, from a task of their own.

        :raises AssertionError: the call did not finish within :attr:`timeout` (a deadlock or
            a lost wake-up in the implementation under test).
        """

        async def limited() -> T:
            record = self.hang
            record.start_run()
            CURRENT.set(record)
            call = anyio.CancelScope()
            result: list[T] = []
            failure: BaseException | None = None
            subjects: list[str] = []
            async with anyio.create_task_group() as watching:
                watching.start_soon(self._watch, call, subjects)
                try:
                    with call:
                        result.append(await func(*args))
                except BaseException as exc:  # raised below, outside the task group
                    failure = exc
                watching.cancel_scope.cancel()
            where = f"{', '.join(dict.fromkeys(subjects))}: " if subjects else ""
            pending = "".join(f"; pending: {name}" for name in record.pending)
            if record.clean_up_outcome is not None:  # it ignored the cancellation
                raise AssertionError(
                    f"{where}hung: did not respond to cancellation within "
                    f"{self.timeout + _CLEAN_UP_AFTER:g} s (the time limit is {self.timeout:g} s)"
                    f"{pending}; abandoned: {record.clean_up_outcome}"
                )
            if record.deadline_passed:  # the watch cancelled the call: the time was up
                raise AssertionError(
                    f"{where}did not finish within {self.timeout:g} s: the stream hung "
                    f"(a deadlock or a lost wake-up){pending}"
                )
            if failure is not None:
                raise failure
            return result[0]

        return anyio.run(limited, backend=self.backend, backend_options=dict(self.backend_options))

    async def _watch(
        self,
        call: anyio.CancelScope,
        subjects: list[str],
    ) -> None:
        """Stop ``call`` when the time is up, noting what it was doing; if it does not stop,
        run the target's clean-ups for it."""
        await anyio.sleep(self.timeout)
        subjects += self.hang.open_subjects
        self.hang.pending = pending_in_tasks()
        self.hang.deadline_passed = True
        call.cancel()
        await anyio.sleep(_CLEAN_UP_AFTER)
        self.hang.clean_up_ran(await run_clean_ups(self.hang))

    def not_provided(self, what: str) -> None:
        """Stop the check: the target does not provide ``what``."""
        raise NotProvided(what)


@dataclass(frozen=True)
class Check:
    """A registered check: the rule it verifies, the target fields it needs, its body."""

    rule: Rule
    needs: tuple[str, ...]
    body: CheckBody

    @property
    def is_async(self) -> bool:
        return inspect.iscoroutinefunction(self.body)

    def missing(self, target: Target) -> list[str]:
        """The needed fields that ``target`` does not provide."""
        return [name for name in self.needs if not target.provides(name)]


_CHECKS: dict[str, Check] = {}


def check(rule_id: str, *, needs: tuple[str, ...] = ()) -> Callable[[CheckBody], CheckBody]:
    """Register the decorated function as the check of ``rule_id``.

    :param needs: :class:`~streamspec.conformance.target.Target` fields the check requires.
    """
    checked_rule = rule(rule_id)

    def register(body: CheckBody) -> CheckBody:
        if rule_id in _CHECKS:
            raise ValueError(f"rule {rule_id} already has a check: {_CHECKS[rule_id].body}")
        _CHECKS[rule_id] = Check(checked_rule, needs, body)
        return body

    return register


def all_checks() -> Iterator[Check]:
    """Every registered check, in catalogue order (importing the check modules first)."""
    from . import checks  # noqa: F401  (importing registers the checks)
    from .catalogue import RULES

    for rule_id in RULES:
        if rule_id in _CHECKS:
            yield _CHECKS[rule_id]
