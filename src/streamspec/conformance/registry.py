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
import threading
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass
from typing import Any, TypeVar

import anyio

from .catalogue import Rule, rule
from .target import Target

__all__ = [
    "Check",
    "CheckBody",
    "Context",
    "NotProvided",
    "all_checks",
    "check",
    "note_timed_out_subject",
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


#: Thread ident -> the subject that a deadline's cancellation last left (innermost first).
_TIMED_OUT: dict[int, str] = {}


def note_timed_out_subject(name: str | None) -> None:
    """Record that a deadline cancelled the check while subject ``name`` was open, so that a
    timeout can name it; ``None`` forgets an earlier record (a subject is being opened)."""
    thread_id = threading.get_ident()
    if name is None:
        _TIMED_OUT.pop(thread_id, None)
    else:
        _TIMED_OUT.setdefault(thread_id, name)


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

    def run(self, func: Callable[..., Awaitable[T]], *args: Any) -> T:
        """Run ``await func(*args)`` in a fresh event loop of this backend, under the timeout.

        :raises AssertionError: the call did not finish within :attr:`timeout` (a deadlock or
            a lost wake-up in the implementation under test).
        """

        async def limited() -> T:
            _TIMED_OUT.pop(threading.get_ident(), None)
            try:
                with anyio.fail_after(self.timeout):
                    return await func(*args)
            except TimeoutError:
                subject = _TIMED_OUT.pop(threading.get_ident(), None)
                raise AssertionError(
                    ("" if subject is None else f"{subject}: ")
                    + f"did not finish within {self.timeout:g} s: the stream hung "
                    "(a deadlock or a lost wake-up)"
                ) from None

        return anyio.run(limited, backend=self.backend, backend_options=dict(self.backend_options))

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
