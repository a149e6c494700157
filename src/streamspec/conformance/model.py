"""The reference model of a memory object stream with clones, and the programs run against it.

The model is pure: no I/O, no tasks, no time. Its state is data (the buffer, which handles of
each end are open, the tasks waiting to send and to receive, oldest first), and each
operation is a function of the state that returns what every affected task observes. The
operations are the members of :class:`Kind`, which the runner of :mod:`.checks.memory` also
uses to call the handle methods; :data:`TRANSITIONS` is the model as a table (for each kind,
situation by situation, what the operation does and which rules say so). A program runs on an
implementation and on this model, step by step, and every outcome must agree: ``MEM-MODEL``
runs drawn programs, and the rules the model covers run the fixed programs of
:data:`RULE_PROGRAMS`.

The rules the model encodes (decision 6 in docs/design.rst and the seed's "Memory object
streams"):

* ``send`` on a closed handle raises ClosedResourceError; with every receive handle closed it
  raises BrokenResourceError; otherwise the oldest waiting receiver gets the item, else the
  buffer takes it if it has room, else the sender waits (``send_nowait`` raises WouldBlock).
* ``receive`` on a closed handle raises ClosedResourceError; otherwise it takes the oldest
  buffered item (the freed slot goes to the oldest waiting sender, whose send returns), else
  the oldest waiting sender's item, else EndOfStream when every send handle is closed, else
  it waits (``receive_nowait`` raises WouldBlock).
* ``clone`` of an open handle adds an open handle of the same end; of a closed one, it raises
  ClosedResourceError.
* ``close`` (and ``aclose``) of an open handle wakes the tasks waiting on that handle, and
  only them, with ClosedResourceError (a waiting sender's item is withdrawn); closing the
  last send handle wakes every waiting receiver with EndOfStream; closing the last receive
  handle wakes every waiting sender with BrokenResourceError. Closing twice does nothing.
* ``cancel`` of a waiting task removes it from its queue (its item, if a sender, is never
  delivered); cancelling a task that already finished does nothing.

Programs name handles by index: ``Op(Kind.SEND, 0)`` sends on the first send handle, and clones
are appended in order. ``send`` and ``receive`` run in tasks of their own, numbered from 0 in
the order they start (whether or not they have to wait); ``cancel`` names such a task.
:func:`programs` draws programs; :data:`EXAMPLES` are the programs every run tries first.
"""

from __future__ import annotations

import enum
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Literal, NamedTuple

from hypothesis import strategies as st

__all__ = [
    "BLOCKED",
    "CANCELLED",
    "EXAMPLES",
    "Kind",
    "OK",
    "RULE_PROGRAMS",
    "Model",
    "Op",
    "Outcome",
    "Program",
    "Row",
    "Step",
    "TRANSITIONS",
    "Then",
    "When",
    "format_program",
    "format_step",
    "normalize",
    "ops",
    "programs",
    "run_model",
    "task_steps",
]

End = Literal["send", "receive"]
#: What an operation ends with: ("ok",) for a send or close that returned, ("value", item),
#: ("error", "WouldBlock" | "EndOfStream" | "ClosedResourceError" | "BrokenResourceError"),
#: ("blocked",) while it waits, ("cancelled",) once a waiting task was cancelled.
Outcome = tuple[object, ...]
BLOCKED: Outcome = ("blocked",)
OK: Outcome = ("ok",)
CANCELLED: Outcome = ("cancelled",)


def _error(name: str) -> Outcome:
    return ("error", name)


class Kind(enum.Enum):
    """The kinds of operation a program is made of, shared by the model and the runner that
    executes programs on a real stream: each names the handle method the runner calls
    (:attr:`method`), the end it acts on (:attr:`end`) and whether it runs in a task of its own
    (:attr:`in_task`), as :data:`_SHAPES` says."""

    SEND = "send"
    SEND_NOWAIT = "send_nowait"
    RECEIVE = "receive"
    RECEIVE_NOWAIT = "receive_nowait"
    CLONE_SEND = "clone_send"
    CLONE_RECEIVE = "clone_receive"
    CLOSE_SEND = "close_send"
    CLOSE_RECEIVE = "close_receive"
    ACLOSE_SEND = "aclose_send"
    ACLOSE_RECEIVE = "aclose_receive"
    CANCEL = "cancel"

    @property
    def end(self) -> End | None:
        """The end whose handle the operation acts on (None for ``cancel``, which names a task)."""
        return _SHAPES[self][0]

    @property
    def method(self) -> str:
        """The name of the handle's method that performs the operation ("" for ``cancel``)."""
        return _SHAPES[self][1]

    @property
    def in_task(self) -> bool:
        """Whether the operation may wait, and so runs in a task of its own."""
        return _SHAPES[self][2]

    @property
    def sends_item(self) -> bool:
        """Whether the operation passes an item (the number of its step)."""
        return self in (Kind.SEND, Kind.SEND_NOWAIT)

    @property
    def returns_item(self) -> bool:
        """Whether the operation returns an item."""
        return self in (Kind.RECEIVE, Kind.RECEIVE_NOWAIT)


#: Each kind of operation: its end, the handle method that performs it, whether it runs in a
#: task of its own.
_SHAPES: dict[Kind, tuple[End | None, str, bool]] = {
    Kind.SEND: ("send", "send", True),
    Kind.SEND_NOWAIT: ("send", "send_nowait", False),
    Kind.RECEIVE: ("receive", "receive", True),
    Kind.RECEIVE_NOWAIT: ("receive", "receive_nowait", False),
    Kind.CLONE_SEND: ("send", "clone", False),
    Kind.CLONE_RECEIVE: ("receive", "clone", False),
    Kind.CLOSE_SEND: ("send", "close", False),
    Kind.CLOSE_RECEIVE: ("receive", "close", False),
    Kind.ACLOSE_SEND: ("send", "aclose", False),
    Kind.ACLOSE_RECEIVE: ("receive", "aclose", False),
    Kind.CANCEL: (None, "", False),
}


@dataclass(frozen=True)
class Op:
    """One operation of a program.

    ``target`` is a handle index of the operation's end, or a task number for ``cancel``.
    Sends send the number of their step in the program, so every item is distinct.
    """

    kind: Kind
    target: int = 0

    def __post_init__(self) -> None:
        if not isinstance(self.kind, Kind):
            raise TypeError(f"kind must be a Kind, got {self.kind!r}")
        if self.target < 0:
            raise ValueError(f"target must be non-negative, got {self.target!r}")

    def label(self, step: int) -> str:
        """Describe this operation, as step ``step`` of a program, for a failure message."""
        if self.kind is Kind.CANCEL:
            return f"cancel task {self.target}"
        handle = f"{'s' if self.kind.end == 'send' else 'r'}{self.target}"
        item = str(step) if self.kind.sends_item else ""
        return f"{handle}.{self.kind.method}({item})"


@dataclass(frozen=True)
class Program:
    """A buffer size and a sequence of operations; ``title`` says what a fixed program shows."""

    max_buffer_size: float
    ops: tuple[Op, ...]
    title: str = field(default="", compare=False, repr=False)


@dataclass(frozen=True)
class Step:
    """What one step of a program does: the operation's own outcome (``BLOCKED`` when it
    started a task that waits) and the outcomes of earlier tasks that ended during the step,
    by task number."""

    outcome: Outcome
    woken: tuple[tuple[int, Outcome], ...] = ()


class When(enum.Enum):
    """A situation of the stream, as seen by an operation on one handle (or task)."""

    HANDLE_CLOSED = "the handle is closed"
    OTHER_END_CLOSED = "every handle of the other end is closed"
    RECEIVER_WAITING = "a receiver is waiting"
    SENDER_WAITING = "a sender is waiting"
    ITEM_BUFFERED = "an item is buffered"
    BUFFER_HAS_ROOM = "the buffer has room"
    TASK_WAITING = "the task is waiting"
    ALWAYS = "otherwise"


class Then(enum.Enum):
    """What an operation does in a situation."""

    RAISE_CLOSED = "raise ClosedResourceError"
    RAISE_BROKEN = "raise BrokenResourceError"
    RAISE_END = "raise EndOfStream"
    HAND_OVER = "hand the item to the oldest waiting receiver"
    BUFFER = "buffer the item"
    TAKE_BUFFERED = "take the oldest buffered item; freed slots go to the oldest waiting senders"
    TAKE_FROM_SENDER = "take the oldest waiting sender's item"
    WAIT = "wait (the _nowait form raises WouldBlock)"
    NEW_HANDLE = "add an open handle of the same end"
    CLOSE = (
        "close the handle: its own waiters raise ClosedResourceError; if it was the last of "
        "its end, the other end's waiters raise EndOfStream (receivers) or "
        "BrokenResourceError (senders)"
    )
    WITHDRAW = "take the task out of its queue: it raises the cancellation, its item is dropped"
    NOTHING = "do nothing"


class Row(NamedTuple):
    """One row of :data:`TRANSITIONS`: in situation ``when``, do ``then``, by ``rules``."""

    when: When
    then: Then
    rules: tuple[str, ...]


_SEND_ROWS = (
    Row(When.HANDLE_CLOSED, Then.RAISE_CLOSED, ("MEM-CLOSE-WAKES",)),
    Row(When.OTHER_END_CLOSED, Then.RAISE_BROKEN, ("MEM-LAST-RECEIVER-CLOSED",)),
    Row(When.RECEIVER_WAITING, Then.HAND_OVER, ("MEM-RECEIVER-FIRST",)),
    Row(When.BUFFER_HAS_ROOM, Then.BUFFER, ("MEM-BUFFER-N", "MEM-BUFFER-INF")),
    Row(When.ALWAYS, Then.WAIT, ("MEM-BUFFER-ZERO", "MEM-BUFFER-N")),
)
_RECEIVE_ROWS = (
    Row(When.HANDLE_CLOSED, Then.RAISE_CLOSED, ("MEM-CLOSE-WAKES",)),
    Row(When.ITEM_BUFFERED, Then.TAKE_BUFFERED, ("MEM-RECEIVE-NOWAIT", "MEM-SENDER-FAIR")),
    Row(When.SENDER_WAITING, Then.TAKE_FROM_SENDER, ("MEM-RECEIVE-NOWAIT", "MEM-BUFFER-ZERO")),
    Row(When.OTHER_END_CLOSED, Then.RAISE_END, ("MEM-LAST-SENDER-CLOSED",)),
    Row(When.ALWAYS, Then.WAIT, ("MEM-RECEIVE-NOWAIT",)),
)
_CLONE_ROWS = (
    Row(When.HANDLE_CLOSED, Then.RAISE_CLOSED, ("MEM-CLONE",)),
    Row(When.ALWAYS, Then.NEW_HANDLE, ("MEM-CLONE",)),
)
_CLOSE_ROWS = (
    Row(When.HANDLE_CLOSED, Then.NOTHING, ("RES-ACLOSE-IDEMPOTENT", "MEM-SYNC-CLOSE")),
    Row(When.ALWAYS, Then.CLOSE,
        ("MEM-CLOSE-WAKES", "MEM-LAST-SENDER-CLOSED", "MEM-LAST-RECEIVER-CLOSED")),
)  # fmt: skip

#: The model as a table, in the manner of h11's state machines: for each kind of operation,
#: its rows in order; the first whose situation holds says what the operation does, and names
#: the rules that row stands for.
TRANSITIONS: dict[Kind, tuple[Row, ...]] = {
    Kind.SEND: _SEND_ROWS,
    Kind.SEND_NOWAIT: _SEND_ROWS,
    Kind.RECEIVE: _RECEIVE_ROWS,
    Kind.RECEIVE_NOWAIT: _RECEIVE_ROWS,
    Kind.CLONE_SEND: _CLONE_ROWS,
    Kind.CLONE_RECEIVE: _CLONE_ROWS,
    Kind.CLOSE_SEND: _CLOSE_ROWS,
    Kind.CLOSE_RECEIVE: _CLOSE_ROWS,
    Kind.ACLOSE_SEND: _CLOSE_ROWS,
    Kind.ACLOSE_RECEIVE: _CLOSE_ROWS,
    Kind.CANCEL: (
        Row(When.TASK_WAITING, Then.WITHDRAW, ("MEM-MODEL",)),
        Row(When.ALWAYS, Then.NOTHING, ("MEM-MODEL",)),
    ),
}

_RAISES = {
    Then.RAISE_CLOSED: "ClosedResourceError",
    Then.RAISE_BROKEN: "BrokenResourceError",
    Then.RAISE_END: "EndOfStream",
}
_OTHER: dict[End, End] = {"send": "receive", "receive": "send"}


@dataclass
class _Move:
    """One operation being applied: the op, its step, its task number (-1 when it runs in no
    task of its own), and the tasks it ends."""

    op: Op
    step: int
    task: int
    woken: list[tuple[int, Outcome]]


@dataclass
class _Waiter:
    task: int
    handle: int
    item: int = 0


@dataclass
class Model:
    """The state of one memory object stream and all its handles."""

    max_buffer_size: float
    buffer: list[int] = field(default_factory=list)
    #: Whether each handle is open, by end, in order of creation.
    send_open: list[bool] = field(default_factory=lambda: [True])
    receive_open: list[bool] = field(default_factory=lambda: [True])
    waiting_senders: list[_Waiter] = field(default_factory=list)
    waiting_receivers: list[_Waiter] = field(default_factory=list)
    #: How many tasks have started; the next task gets this number.
    tasks: int = 0

    # -- queries ---------------------------------------------------------------------------

    def handles(self, end: End) -> int:
        """How many handles of ``end`` are open."""
        return len(self.send_open if end == "send" else self.receive_open)

    def _open_count(self, end: End) -> int:
        return sum(self._open(end))

    # -- the operations ----------------------------------------------------------------------

    def apply(self, op: Op, step: int) -> Step:
        """Apply ``op`` (the ``step``-th of its program) and return what it does: the first
        row of :data:`TRANSITIONS` for its kind whose situation holds decides."""
        move = _Move(op, step, self._new_task() if op.kind.in_task else -1, [])
        then = next(row.then for row in TRANSITIONS[op.kind] if self._holds(row.when, move))
        outcome = self._do(then, move)
        return Step(outcome, tuple(sorted(move.woken, key=lambda pair: pair[0])))

    def _new_task(self) -> int:
        self.tasks += 1
        return self.tasks - 1

    def _open(self, end: End) -> list[bool]:
        return self.send_open if end == "send" else self.receive_open

    def _waiting(self, end: End) -> list[_Waiter]:
        return self.waiting_senders if end == "send" else self.waiting_receivers

    def _holds(self, when: When, move: _Move) -> bool:
        end = move.op.kind.end
        if when is When.ALWAYS:
            return True
        if when is When.TASK_WAITING:
            waiters = self.waiting_senders + self.waiting_receivers
            return any(w.task == move.op.target for w in waiters)
        assert end is not None
        if when is When.HANDLE_CLOSED:
            return not self._open(end)[move.op.target]
        if when is When.OTHER_END_CLOSED:
            return not self._open_count(_OTHER[end])
        if when is When.RECEIVER_WAITING:
            return bool(self.waiting_receivers)
        if when is When.SENDER_WAITING:
            return bool(self.waiting_senders)
        if when is When.ITEM_BUFFERED:
            return bool(self.buffer)
        assert when is When.BUFFER_HAS_ROOM
        return len(self.buffer) < self.max_buffer_size

    def _do(self, then: Then, move: _Move) -> Outcome:
        op, woken = move.op, move.woken
        end = op.kind.end
        if then is Then.NOTHING:
            return OK
        if then is Then.WITHDRAW:
            for queue in (self.waiting_senders, self.waiting_receivers):
                queue[:] = [w for w in queue if w.task != op.target]
            woken.append((op.target, CANCELLED))
            return OK
        assert end is not None
        if then in _RAISES:
            return _error(_RAISES[then])
        if then is Then.HAND_OVER:
            receiver = self.waiting_receivers.pop(0)
            woken.append((receiver.task, ("value", move.step)))
            return OK
        if then is Then.BUFFER:
            self.buffer.append(move.step)
            return OK
        if then is Then.TAKE_BUFFERED:
            item = self.buffer.pop(0)
            while self.waiting_senders and len(self.buffer) < self.max_buffer_size:
                sender = self.waiting_senders.pop(0)
                self.buffer.append(sender.item)
                woken.append((sender.task, OK))
            return ("value", item)
        if then is Then.TAKE_FROM_SENDER:
            sender = self.waiting_senders.pop(0)
            woken.append((sender.task, OK))
            return ("value", sender.item)
        if then is Then.WAIT:
            if not op.kind.in_task:
                return _error("WouldBlock")
            self._waiting(end).append(_Waiter(move.task, op.target, move.step))
            return BLOCKED
        if then is Then.NEW_HANDLE:
            self._open(end).append(True)
            return OK
        assert then is Then.CLOSE
        self._close(end, op.target, woken)
        return OK

    def _close(self, end: End, handle: int, woken: list[tuple[int, Outcome]]) -> None:
        self._open(end)[handle] = False
        own = self._waiting(end)
        for waiter in [w for w in own if w.handle == handle]:
            own.remove(waiter)
            woken.append((waiter.task, _error("ClosedResourceError")))
        if not self._open_count(end):
            other = self._waiting(_OTHER[end])
            error = _error("EndOfStream" if end == "send" else "BrokenResourceError")
            woken.extend((waiter.task, error) for waiter in other)
            other.clear()


def normalize(program: Program) -> Program:
    """Map every handle index and task number of ``program`` onto one that exists at its step.

    Drawn indices are reduced modulo the number of handles (or tasks) existing at that point
    (a clone that fails adds no handle), so every drawn program is runnable; a ``cancel``
    before any task exists is dropped.
    """
    model = Model(program.max_buffer_size)
    ops: list[Op] = []
    for op in program.ops:
        end = op.kind.end
        count = model.tasks if end is None else model.handles(end)
        if not count:
            continue
        resolved = Op(op.kind, op.target % count)
        model.apply(resolved, len(ops))
        ops.append(resolved)
    return Program(program.max_buffer_size, tuple(ops), program.title)


def run_model(program: Program) -> list[Step]:
    """The steps the model predicts for ``program`` (already normalized)."""
    model = Model(program.max_buffer_size)
    return [model.apply(op, index) for index, op in enumerate(program.ops)]


def format_program(program: Program, mark: int | None = None) -> str:
    """The program as numbered lines (``mark`` flags one step), for failure messages.

    A run of four or more equal operations that does not hold the marked step is one line
    (``  3-99: s0.send(3) ... s0.send(99)``), so that a long program stays readable.
    """
    size = "math.inf" if program.max_buffer_size == math.inf else f"{program.max_buffer_size:g}"
    lines = [f"  s0, r0 = create_memory_object_stream({size})"]
    index = 0
    while index < len(program.ops):
        op = program.ops[index]
        end = index + 1
        while end < len(program.ops) and program.ops[end] == op and end != mark:
            end += 1
        if index == mark or end - index < 4:
            end = index + 1
            flag = "  <--" if index == mark else ""
            lines.append(f"  {index:2}: {op.label(index)}{flag}")
        else:
            last = end - 1
            lines.append(f"  {index:2}-{last}: {op.label(index)} ... {op.label(last)}")
        index = end
    return "\n".join(lines)


def task_steps(program: Program) -> list[int]:
    """The step that started each task, by task number."""
    return [index for index, op in enumerate(program.ops) if op.kind.in_task]


def format_step(step: Step, program: Program | None = None) -> str:
    """What a step did, in words; with ``program``, tasks are named by the step that started
    them (``task 2 (step 3: s0.send(3))``)."""
    starts = task_steps(program) if program is not None else []
    parts = [_format_outcome(step.outcome)]
    for task, outcome in step.woken:
        name = f"task {task}"
        if task < len(starts) and program is not None:
            start = starts[task]
            name += f" (step {start}: {program.ops[start].label(start)})"
        parts.append(f"{name} -> {_format_outcome(outcome)}")
    return "; ".join(parts)


def _format_outcome(outcome: Outcome) -> str:
    if outcome[0] == "value":
        return f"returned {outcome[1]!r}"
    if outcome[0] == "error":
        return f"raised {outcome[1]}"
    return _OUTCOME_WORDS[outcome]


_OUTCOME_WORDS: dict[Outcome, str] = {
    OK: "returned",
    BLOCKED: "still waiting",
    CANCELLED: "raised the cancellation",
}


# -- the strategy -----------------------------------------------------------------------------

#: Operations weighted towards the ones that move items and make clones; closes and cancels
#: are rarer, so a program usually does something before the stream ends.
_WEIGHTED_KINDS: Sequence[Kind] = (
    *[Kind.SEND] * 3, *[Kind.SEND_NOWAIT] * 2,
    *[Kind.RECEIVE] * 3, *[Kind.RECEIVE_NOWAIT] * 2,
    *[Kind.CLONE_SEND] * 2, *[Kind.CLONE_RECEIVE] * 2,
    Kind.CLOSE_SEND, Kind.CLOSE_RECEIVE, Kind.ACLOSE_SEND, Kind.ACLOSE_RECEIVE,
    *[Kind.CANCEL] * 2,
)  # fmt: skip


def _program(size: float, *spec: tuple[str, int], title: str = "") -> Program:
    return Program(size, tuple(Op(Kind(kind), target) for kind, target in spec), title)


#: Programs that every run of ``MEM-MODEL`` tries before drawing any: one per rule of the
#: module docstring, so that no run can miss the basic cases by the luck of the draw.
EXAMPLES: tuple[Program, ...] = (
    _program(2, ("send", 0), ("send", 0), ("send", 0), ("send", 0), ("receive", 0),
             ("receive_nowait", 0), ("receive_nowait", 0), ("receive_nowait", 0),
             title="FIFO through the buffer, the freed slot going to the oldest waiting sender"),
    _program(0, ("clone_receive", 0), ("receive", 1), ("receive", 0), ("send_nowait", 0),
             ("send", 0), ("send_nowait", 0), ("receive_nowait", 0),
             title="waiting receivers own the next items, oldest first; nowait forms both ways"),
    _program(0, ("send", 0), ("receive_nowait", 0), ("receive_nowait", 0),
             title="receive_nowait() takes a waiting sender's item when nothing is buffered"),
    _program(1, ("receive", 0), ("send", 0), ("send_nowait", 0), ("receive_nowait", 0),
             title="with room in the buffer, an item goes to the waiting receiver, not the "
             "buffer"),
    _program(0, ("clone_receive", 0), ("receive", 0), ("receive", 1), ("close_receive", 0),
             ("receive", 0), ("clone_receive", 0), ("send", 0), ("send", 0),
             ("aclose_receive", 1), ("send_nowait", 0),
             title="closing a receive handle wakes its own waiter only; the last one breaks "
             "the senders"),
    _program(1, ("clone_send", 0), ("send", 0), ("send", 0), ("send", 1), ("close_send", 0),
             ("receive", 0), ("receive", 0), ("clone_send", 0), ("receive", 0),
             ("aclose_send", 1), ("receive_nowait", 0), ("receive", 0),
             title="closing a send handle withdraws its own waiter only; the last one ends "
             "the stream after the buffer drains"),
    _program(0, ("send", 0), ("send", 0), ("cancel", 0), ("receive", 0), ("receive", 0),
             ("cancel", 3), ("send_nowait", 0), ("receive_nowait", 0),
             title="cancelled waiting tasks: their items are never delivered, their turn is "
             "given up"),
    _program(math.inf, ("send", 0), ("close_send", 0), ("clone_send", 0), ("close_send", 0),
             ("receive", 0), ("receive", 0), ("aclose_receive", 0), ("clone_receive", 0),
             title="clones of closed handles, closing twice, an unbounded buffer"),
)  # fmt: skip


def _buffer_n(size: int) -> Program:
    return _program(
        size,
        *[("send_nowait", 0)] * (size - 1),
        ("send", 0), ("send_nowait", 0), ("send", 0),
        *[("receive_nowait", 0)] * (size + 1), ("receive_nowait", 0),
        title="the buffer takes as many items as its size with no receiver, then send() "
        "waits and send_nowait() refuses its item",
    )  # fmt: skip


#: Sends that an unbounded stream must take without waiting: more than any small bound.
_MANY = 500

#: The fixed programs that check the memory rules the model covers, by rule ID. Each is run
#: on the implementation and on the model like a drawn one; a rule holds when every one of its
#: programs agrees. (MEM-BUFFER-INVALID, MEM-CANCEL-NO-LOSS and MEM-NATIVE-CANCEL-NO-LOSS,
#: MEM-STATISTICS, MEM-SYNC-CLOSE's ``with`` and MEM-ITER-END's ``async for`` are beyond the
#: model: their checks are written out in :mod:`.checks.memory`.)
RULE_PROGRAMS: dict[str, tuple[Program, ...]] = {
    "MEM-BUFFER-ZERO": (
        _program(0, ("send_nowait", 0), ("receive_nowait", 0), ("send", 0),
                 ("receive_nowait", 0), ("receive", 0), ("send_nowait", 0),
                 title="with no buffer, a send waits for a receiver and send_nowait() "
                 "refuses its item unless a receiver waits"),
    ),
    "MEM-BUFFER-N": (_buffer_n(1), _buffer_n(3)),
    "MEM-BUFFER-INF": (
        _program(math.inf, *[("send", 0)] * _MANY, *[("send_nowait", 0)] * _MANY,
                 *[("receive_nowait", 0)] * (2 * _MANY), ("receive_nowait", 0),
                 title=f"an unbounded buffer takes {2 * _MANY} items without a receiver"),
    ),
    "MEM-RECEIVE-NOWAIT": (
        _program(1, ("receive_nowait", 0), ("send_nowait", 0), ("send", 0),
                 ("receive_nowait", 0), ("receive_nowait", 0), ("receive_nowait", 0),
                 title="receive_nowait() takes the buffered item, then the waiting sender's"),
        _program(0, ("send", 0), ("receive_nowait", 0),
                 title="with no buffer, receive_nowait() takes a waiting sender's item"),
        _program(2, ("clone_send", 0), ("send_nowait", 0), ("close_send", 0), ("close_send", 1),
                 ("receive_nowait", 0), ("receive_nowait", 0), ("receive_nowait", 0),
                 title="after the last send clone closed, receive_nowait() drains the buffer, "
                 "then raises EndOfStream"),
    ),
    "MEM-RECEIVER-FIRST": tuple(
        _program(size, ("clone_receive", 0), ("receive", 0), ("receive", 1), ("send_nowait", 0),
                 ("send", 0), ("receive_nowait", 0),
                 title="waiting receivers take the next items, oldest first, and nothing is "
                 "buffered")
        for size in (0, 2)
    ),
    "MEM-SENDER-FAIR": (
        _program(1, ("clone_send", 0), ("send_nowait", 0), ("send", 0), ("send", 1), ("send", 0),
                 ("receive", 0), ("receive", 0), ("receive", 0), ("receive", 0),
                 title="each freed slot goes to the oldest waiting sender"),
    ),
    "MEM-CLONE": (
        _program(2, ("clone_send", 0), ("clone_receive", 0), ("send", 1), ("receive", 0),
                 ("send", 0), ("receive", 1), ("aclose_send", 0), ("receive_nowait", 1),
                 ("send", 1), ("receive", 1), ("aclose_receive", 0), ("clone_send", 0),
                 ("clone_receive", 0), ("clone_send", 1), ("aclose_send", 1), ("send", 2),
                 ("receive", 1),
                 title="clones are new open handles of the same stream, clones of closed "
                 "handles raise, a clone of a clone outlives its parent"),
    ),
    "MEM-CLOSE-WAKES": (
        _program(0, ("clone_receive", 0), ("receive", 0), ("receive", 1), ("aclose_receive", 0),
                 ("send", 0), ("receive_nowait", 0), ("receive", 0),
                 title="closing a receive clone wakes its own waiter only; it then refuses "
                 "to receive"),
        _program(0, ("clone_send", 0), ("send", 0), ("send", 1), ("aclose_send", 0),
                 ("receive", 0), ("receive_nowait", 0), ("send_nowait", 0), ("send", 0),
                 title="closing a send clone withdraws its own waiter's item only; it then "
                 "refuses to send"),
    ),
    "MEM-LAST-SENDER-CLOSED": (
        _program(2, ("clone_send", 0), ("send_nowait", 0), ("send_nowait", 1), ("aclose_send", 0),
                 ("aclose_send", 1), ("receive", 0), ("receive", 0), ("receive", 0),
                 ("receive", 0),
                 title="the buffered items, then EndOfStream, after the last send clone closed"),
        _program(0, ("clone_send", 0), ("clone_receive", 0), ("receive", 0), ("receive", 1),
                 ("aclose_send", 0), ("aclose_send", 1),
                 title="waiting receivers get EndOfStream when the last send clone closes, "
                 "not before"),
    ),
    "MEM-LAST-RECEIVER-CLOSED": (
        _program(0, ("clone_send", 0), ("clone_receive", 0), ("send", 0), ("send", 1),
                 ("aclose_receive", 0), ("aclose_receive", 1), ("send_nowait", 0), ("send", 1),
                 title="waiting senders get BrokenResourceError when the last receive clone "
                 "closes, not before, and later sends too"),
        _program(3, ("send_nowait", 0), ("aclose_receive", 0), ("send", 0),
                 title="with room in the buffer, a send raises BrokenResourceError once every "
                 "receive clone is closed"),
    ),
}  # fmt: skip


def ops(kinds: Sequence[Kind] = _WEIGHTED_KINDS) -> st.SearchStrategy[Op]:
    """One operation of ``kinds`` on one of the first few handles (or tasks)."""
    return st.builds(Op, st.sampled_from(kinds), st.integers(0, 3))


@st.composite
def programs(draw: st.DrawFn, max_ops: int = 20) -> Program:
    """Programs of up to ``max_ops`` operations on a stream of buffer 0, 1, 2 or math.inf,
    normalized so that every handle and task they name exists.

    Each program uses a drawn subset of the operation kinds ("swarm testing"): a program of
    only sends and ``receive_nowait`` reaches states that an even mix of every kind, with its
    early closes, rarely gets to in the few dozen examples of the ``ci`` profile.
    """
    size = draw(st.sampled_from([0, 1, 2, math.inf]), label="max_buffer_size")
    kinds = draw(
        st.lists(st.sampled_from(_WEIGHTED_KINDS), min_size=1, max_size=8, unique=True),
        label="kinds used",
    )
    # The length is drawn first: lists() alone averages a handful of operations, too few to
    # reach the interesting states; a drawn length still shrinks towards zero.
    length = draw(st.integers(0, max_ops), label="length")
    drawn = draw(st.lists(ops(kinds), min_size=length, max_size=length), label="ops")
    return normalize(Program(size, tuple(drawn)))
