"""The memory rules the model covers fail with the program, the step and both outcomes."""

from __future__ import annotations

from streamspec.conformance import Outcome, run_checks
from stubs import broken_memory_close_no_wake, broken_memory_finite_inf


def test_a_rule_program_failure_names_the_program_the_step_and_both_outcomes() -> None:
    [result] = run_checks(
        broken_memory_close_no_wake.target, rules=("MEM-CLOSE-WAKES",), backends=["asyncio"]
    )
    assert result.outcome is Outcome.FAILED
    lines = result.message.splitlines()
    assert lines[:3] == [
        "memory object stream (max_buffer_size=0): closing a receive clone wakes its own "
        "waiter only; it then refuses to receive: step 3 (r0.aclose()) breaks the rule:",
        "  expected: returned; task 0 (step 1: r0.receive()) -> raised ClosedResourceError",
        "  observed: returned; task 0 (step 1: r0.receive()) -> still waiting",
    ]
    assert "   3: r0.aclose()  <--" in lines


def test_a_long_program_is_folded_around_the_failing_step() -> None:
    [result] = run_checks(
        broken_memory_finite_inf.target, rules=("MEM-BUFFER-INF",), backends=["trio"]
    )
    assert result.outcome is Outcome.FAILED
    assert "step 100 (s0.send(100)) breaks the rule" in result.message
    assert "   0-99: s0.send(0) ... s0.send(99)" in result.message.splitlines()
    assert len(result.message.splitlines()) < 12
