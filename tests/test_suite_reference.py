"""The reference implementation passes every rule of the suite, on asyncio and on Trio.

One test per rule and backend, so that a failure names the rule; and one test per catalogue
rule that the suite has a check for it (those fail while the checks are being written).
"""

from __future__ import annotations

import pytest

from streamspec.conformance import RULES, Outcome, run_checks
from streamspec.conformance.registry import all_checks
from streamspec.conformance.targets import STREAMSPEC

BACKENDS = ["asyncio", "trio"]
CHECKED = [c.rule.id for c in all_checks()]
#: Rules that cannot apply on a backend, with the reason the check gives.
NOT_APPLICABLE = {
    ("MEM-NATIVE-CANCEL-NO-LOSS", "trio"): "asyncio backends only",
}


@pytest.mark.parametrize(
    ("rule_id", "backend"),
    [(rule_id, backend) for rule_id in CHECKED for backend in BACKENDS],
    ids=[f"{rule_id}-{backend}" for rule_id in CHECKED for backend in BACKENDS],
)
def test_the_reference_passes(rule_id: str, backend: str) -> None:
    (result,) = run_checks(STREAMSPEC, rules=[rule_id], backends=[backend])
    reason = NOT_APPLICABLE.get((rule_id, backend))
    if reason is not None:
        assert result.outcome is Outcome.NOT_PROVIDED
        assert reason in result.message
        return
    assert result.outcome is Outcome.PASSED, (
        f"[{rule_id}] {RULES[rule_id].sentence}\n{result.outcome.value} on {backend}: "
        f"{result.message}"
    )


@pytest.mark.parametrize("rule_id", list(RULES))
def test_the_rule_has_a_check(rule_id: str) -> None:
    assert rule_id in CHECKED, (
        f"rule {rule_id} ({RULES[rule_id].role}) has no registered check: {RULES[rule_id].sentence}"
    )
