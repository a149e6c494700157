"""The conformance suite: checks any stream implementation against the spec, rule by rule.

Run it from the command line (``streamspec check mypkg:target``), from pytest (the
``streamspec`` plugin) or from code::

    results = await run_suite("mypkg:target", roles=["byte"])

A :class:`Target` names what is tested; each rule of the catalogue (:data:`RULES`) ends as one
:class:`CheckResult` per backend, whose :class:`Outcome` is passed, failed, known divergence or
not provided.
"""

from __future__ import annotations

from .catalogue import ROLES, RULES, Rule
from .registry import Context, NotProvided, check
from .report import format_report, json_records
from .runner import (
    BACKENDS,
    CheckResult,
    Outcome,
    SuiteUnavailable,
    iter_results,
    run_checks,
    run_suite,
)
from .target import (
    BUILTIN_TARGETS,
    ByteStreamPairFactory,
    Divergence,
    ItemKind,
    ListenerFactory,
    ObjectStreamPairFactory,
    OneWayByteStreamFactory,
    Target,
    UnreliableObjectStreamFactory,
    load_target,
)

__all__ = [
    "BACKENDS",
    "BUILTIN_TARGETS",
    "ROLES",
    "RULES",
    "ByteStreamPairFactory",
    "CheckResult",
    "Context",
    "Divergence",
    "ItemKind",
    "ListenerFactory",
    "NotProvided",
    "ObjectStreamPairFactory",
    "OneWayByteStreamFactory",
    "Outcome",
    "Rule",
    "SuiteUnavailable",
    "Target",
    "UnreliableObjectStreamFactory",
    "check",
    "format_report",
    "iter_results",
    "json_records",
    "load_target",
    "run_checks",
    "run_suite",
]
