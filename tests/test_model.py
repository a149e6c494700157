"""The pure model of a memory object stream: each rule as a tiny program and its outcomes."""

from __future__ import annotations

import math

import pytest
from hypothesis import given

from streamspec.conformance.catalogue import RULES
from streamspec.conformance.model import (
    BLOCKED,
    EXAMPLES,
    RULE_PROGRAMS,
    TRANSITIONS,
    Kind,
    Model,
    Op,
    Program,
    Step,
    When,
    format_program,
    normalize,
    programs,
    run_model,
)

OK = ("ok",)
CANCELLED = ("cancelled",)


def value(item: object) -> tuple[object, ...]:
    return ("value", item)


def error(name: str) -> tuple[object, ...]:
    return ("error", name)


def steps(size: float, *ops: tuple[str, int]) -> list[Step]:
    program = Program(size, tuple(Op(Kind(kind), target) for kind, target in ops))
    assert normalize(program) == program, "the test program names a handle that does not exist"
    return run_model(program)


def test_buffer_zero_send_waits_for_a_receiver() -> None:
    assert steps(0, ("send_nowait", 0), ("send", 0), ("receive", 0)) == [
        Step(error("WouldBlock")),
        Step(BLOCKED),
        Step(value(1), ((0, OK),)),
    ]


def test_buffer_n_accepts_n_then_waits_and_refuses() -> None:
    assert steps(2, ("send", 0), ("send_nowait", 0), ("send_nowait", 0), ("send", 0)) == [
        Step(OK),
        Step(OK),
        Step(error("WouldBlock")),
        Step(BLOCKED),
    ]


def test_unbounded_buffer_never_waits() -> None:
    assert all(s.outcome == OK for s in steps(math.inf, *[("send", 0)] * 10))


def test_freed_slot_goes_to_the_oldest_waiting_sender() -> None:
    result = steps(1, ("send", 0), ("send", 0), ("send", 0), ("receive", 0), ("receive", 0))
    assert result[3] == Step(value(0), ((1, OK),))
    assert result[4] == Step(value(1), ((2, OK),))


def test_receive_nowait_takes_a_waiting_senders_item_or_raises() -> None:
    assert steps(0, ("receive_nowait", 0), ("send", 0), ("receive_nowait", 0)) == [
        Step(error("WouldBlock")),
        Step(BLOCKED),
        Step(value(1), ((0, OK),)),
    ]


def test_waiting_receivers_get_items_oldest_first_even_with_room() -> None:
    result = steps(1, ("clone_receive", 0), ("receive", 1), ("receive", 0), ("send", 0))
    assert result[1:] == [Step(BLOCKED), Step(BLOCKED), Step(OK, ((0, value(3)),))]


def test_clone_of_a_closed_handle_raises() -> None:
    assert steps(0, ("close_send", 0), ("clone_send", 0), ("clone_receive", 0))[1:] == [
        Step(error("ClosedResourceError")),
        Step(OK),
    ]


def test_closing_a_handle_wakes_only_its_own_waiters() -> None:
    result = steps(0, ("clone_receive", 0), ("receive", 0), ("receive", 1), ("close_receive", 0))
    assert result[3] == Step(OK, ((0, error("ClosedResourceError")),))
    result = steps(0, ("clone_send", 0), ("send", 0), ("send", 1), ("aclose_send", 0))
    assert result[3] == Step(OK, ((0, error("ClosedResourceError")),))


def test_operations_on_a_closed_handle_raise() -> None:
    result = steps(1, ("close_receive", 0), ("receive", 0), ("receive_nowait", 0))
    assert [s.outcome for s in result[1:]] == [error("ClosedResourceError")] * 2
    result = steps(1, ("clone_send", 0), ("close_send", 0), ("send", 0), ("send_nowait", 0))
    assert [s.outcome for s in result[2:]] == [error("ClosedResourceError")] * 2


def test_a_withdrawn_senders_item_is_never_delivered() -> None:
    result = steps(0, ("clone_send", 0), ("send", 0), ("close_send", 0), ("receive_nowait", 0))
    assert result[3] == Step(error("WouldBlock"))


def test_last_send_handle_ends_the_stream_after_the_buffer_drains() -> None:
    result = steps(
        2,
        ("send", 0),
        ("clone_send", 0),
        ("close_send", 0),
        ("receive", 0),
        ("receive", 0),
        ("close_send", 1),
        ("receive_nowait", 0),
    )
    assert result[3] == Step(value(0))
    assert result[4] == Step(BLOCKED)
    assert result[5] == Step(OK, ((2, error("EndOfStream")),))
    assert result[6] == Step(error("EndOfStream"))


def test_last_receive_handle_breaks_every_sender() -> None:
    result = steps(
        0,
        ("clone_receive", 0),
        ("clone_send", 0),
        ("send", 0),
        ("send", 1),
        ("close_receive", 0),
        ("aclose_receive", 1),
        ("send_nowait", 0),
    )
    assert result[4] == Step(OK)
    broken = error("BrokenResourceError")
    assert result[5] == Step(OK, ((0, broken), (1, broken)))
    assert result[6] == Step(broken)


def test_closed_handle_check_comes_before_broken_stream() -> None:
    assert steps(0, ("close_receive", 0), ("close_send", 0), ("send", 0))[2] == Step(
        error("ClosedResourceError")
    )


def test_closing_twice_does_nothing() -> None:
    result = steps(0, ("receive", 0), ("close_send", 0), ("close_send", 0))
    assert result[1:] == [Step(OK, ((0, error("EndOfStream")),)), Step(OK)]


def test_cancelled_waiters_lose_their_turn_and_their_item() -> None:
    result = steps(0, ("send", 0), ("cancel", 0), ("receive_nowait", 0))
    assert result[1:] == [Step(OK, ((0, CANCELLED),)), Step(error("WouldBlock"))]
    result = steps(0, ("receive", 0), ("cancel", 0), ("send_nowait", 0))
    assert result[1:] == [Step(OK, ((0, CANCELLED),)), Step(error("WouldBlock"))]


def test_cancelling_a_finished_task_does_nothing() -> None:
    assert steps(1, ("send", 0), ("cancel", 0)) == [Step(OK), Step(OK)]


def test_normalize_maps_indices_onto_existing_handles_and_tasks() -> None:
    raw = Program(
        0, (Op(Kind.CANCEL, 2), Op(Kind.SEND, 3), Op(Kind.CLONE_SEND, 0), Op(Kind.SEND, 3))
    )
    assert normalize(raw).ops == (Op(Kind.SEND, 0), Op(Kind.CLONE_SEND, 0), Op(Kind.SEND, 1))


def test_normalize_counts_only_clones_that_succeed() -> None:
    raw = Program(0, (Op(Kind.CLOSE_SEND, 0), Op(Kind.CLONE_SEND, 0), Op(Kind.SEND, 1)))
    assert normalize(raw).ops[2] == Op(Kind.SEND, 0)


def test_op_rejects_unknown_kinds_and_negative_targets() -> None:
    with pytest.raises(TypeError, match="kind"):
        Op("send")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="target"):
        Op(Kind.SEND, -1)


def test_examples_are_normalized() -> None:
    for program in EXAMPLES:
        assert normalize(program) == program


def test_format_program_marks_the_step() -> None:
    text = format_program(Program(math.inf, (Op(Kind.SEND, 0), Op(Kind.RECEIVE, 0))), mark=1)
    assert "create_memory_object_stream(math.inf)" in text
    assert text.splitlines()[2].endswith("r0.receive()  <--")


@given(programs())
def test_drawn_programs_run_on_the_model(program: Program) -> None:
    assert normalize(program) == program
    model = Model(program.max_buffer_size)
    for index, op in enumerate(program.ops):
        model.apply(op, index)
    assert len(model.buffer) <= program.max_buffer_size
    assert not (model.buffer and model.waiting_receivers)


def test_format_program_folds_long_runs_but_not_the_marked_step() -> None:
    program = Program(math.inf, tuple(Op(Kind.SEND, 0) for _ in range(10)))
    assert format_program(program).splitlines()[1:] == ["   0-9: s0.send(0) ... s0.send(9)"]
    assert format_program(program, mark=5).splitlines()[1:] == [
        "   0-4: s0.send(0) ... s0.send(4)",
        "   5: s0.send(5)  <--",
        "   6-9: s0.send(6) ... s0.send(9)",
    ]


def test_every_kind_names_a_handle_method_or_is_cancel() -> None:
    for kind in Kind:
        if kind is Kind.CANCEL:
            assert kind.end is None
            assert not kind.method
        else:
            assert kind.end in ("send", "receive")
            assert kind.method in {"send", "send_nowait", "receive", "receive_nowait", "clone",
                                   "close", "aclose"}  # fmt: skip
    assert [kind for kind in Kind if kind.in_task] == [Kind.SEND, Kind.RECEIVE]


def test_rule_programs_belong_to_memory_rules_and_are_normalized() -> None:
    for rule_id, programs_of_rule in RULE_PROGRAMS.items():
        assert RULES[rule_id].role == "memory", rule_id
        assert programs_of_rule, rule_id
        for program in programs_of_rule:
            assert program.title, rule_id
            assert normalize(program) == program, (rule_id, program.title)


def test_rule_programs_end_with_every_task_settled_as_the_rule_says() -> None:
    # Spot checks that the fixed programs say what their rule says, on the model itself.
    zero = run_model(RULE_PROGRAMS["MEM-BUFFER-ZERO"][0])
    assert [s.outcome for s in zero[:3]] == [error("WouldBlock"), error("WouldBlock"), BLOCKED]
    unbounded = run_model(RULE_PROGRAMS["MEM-BUFFER-INF"][0])
    assert BLOCKED not in [s.outcome for s in unbounded]
    closing = run_model(RULE_PROGRAMS["MEM-LAST-SENDER-CLOSED"][1])
    assert closing[4] == Step(OK)
    assert closing[5] == Step(OK, ((0, error("EndOfStream")), (1, error("EndOfStream"))))


def test_every_kind_has_rows_ending_with_a_default() -> None:
    assert set(TRANSITIONS) == set(Kind)
    for kind, rows in TRANSITIONS.items():
        assert rows[-1].when is When.ALWAYS, kind
        assert all(row.when is not When.ALWAYS for row in rows[:-1]), kind


def test_the_table_cites_real_rules_and_each_rule_program_has_rows() -> None:
    cited = {rule_id for rows in TRANSITIONS.values() for row in rows for rule_id in row.rules}
    assert cited <= RULES.keys()
    assert set(RULE_PROGRAMS) <= cited
