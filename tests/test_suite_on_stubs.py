"""The suite rejects every deliberately broken implementation, for the rule it breaks.

Each ``stubs/broken_*.py`` defines ``target`` (a :class:`~streamspec.conformance.Target`) and
``BREAKS`` (the IDs of the rules it breaks). A new stub is picked up here by its file name
alone. Only the broken rules run, so that each stub costs a few seconds.
"""

from __future__ import annotations

import gc
import importlib
from pathlib import Path
from types import ModuleType

import pytest
from hypothesis import Phase, settings

from streamspec.conformance import RULES, Outcome, Target, run_checks
from streamspec.conformance.registry import all_checks

STUBS = Path(__file__).resolve().parent.parent / "stubs"
NAMES = sorted(path.stem for path in STUBS.glob("broken_*.py"))
BACKENDS = ["asyncio", "trio"]
#: Rules that cannot apply on a backend (their check reports them as not provided there).
NOT_APPLICABLE = {("MEM-NATIVE-CANCEL-NO-LOSS", "trio")}
#: The ci profile without shrinking: a stub only has to fail, and shrinking the failures of
#: some property checks takes minutes.
settings.register_profile(
    "stubs-no-shrink",
    parent=settings.get_profile("ci"),
    phases=[Phase.explicit, Phase.reuse, Phase.generate],
)


def load(name: str) -> ModuleType:
    return importlib.import_module(f"stubs.{name}")


def test_there_are_stubs() -> None:
    assert NAMES, f"no broken_*.py in {STUBS}"


@pytest.mark.parametrize("name", NAMES)
def test_the_stub_declares_what_it_breaks(name: str) -> None:
    stub = load(name)
    assert isinstance(stub.target, Target), f"{name}.target is {stub.target!r}"
    breaks = stub.BREAKS
    assert isinstance(breaks, tuple)
    assert breaks, f"{name}.BREAKS is empty"
    assert not set(breaks) - RULES.keys(), f"{name} breaks rules not in the catalogue"
    checked = {c.rule.id for c in all_checks()}
    assert not set(breaks) - checked, (
        f"{name} breaks rules that have no check yet: {sorted(set(breaks) - checked)}"
    )


# A broken implementation may leak what it was given (a listener that drops a connection
# without closing it, say): that is part of being broken, not a fault of the test.
@pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning")
@pytest.mark.filterwarnings("ignore::ResourceWarning")
@pytest.mark.parametrize("name", NAMES)
def test_the_suite_rejects_the_stub_for_each_rule_it_breaks(name: str) -> None:
    stub = load(name)
    breaks: tuple[str, ...] = stub.BREAKS
    results = run_checks(stub.target, rules=breaks, backends=BACKENDS, profile="stubs-no-shrink")
    gc.collect()  # so that what the stub leaked is reported (and ignored) here
    seen = {(r.rule.id, r.backend): r for r in results}
    expected = {(rule_id, backend) for rule_id in breaks for backend in BACKENDS}
    assert seen.keys() == expected
    not_rejected = {
        f"{rule_id} on {backend}: {r.outcome.value} {r.message}".strip()
        for (rule_id, backend), r in seen.items()
        if (rule_id, backend) not in NOT_APPLICABLE
        and (r.outcome is not Outcome.FAILED or not r.message)
    }
    for key in NOT_APPLICABLE & seen.keys():
        assert seen[key].outcome in (Outcome.FAILED, Outcome.NOT_PROVIDED), seen[key]
    assert not not_rejected, f"{name} was not rejected:\n" + "\n".join(sorted(not_rejected))
