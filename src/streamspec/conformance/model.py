"""The reference model of a memory object stream with clones, and the programs run against it.

The model is pure: no I/O, no tasks, no time. Its state is data (the buffer, which handles of
each end are open, the tasks waiting to send and to receive, oldest first), and each
operation is a function of the state that returns what every affected task observes. The
``MEM-MODEL`` check runs a drawn :class:`Program` against an implementation and against this
model, step by step, and every outcome must agree.

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

Programs name handles by index: ``Op("send", 0)`` sends on the first send handle, and clones
are appended in order. ``send`` and ``receive`` run in tasks of their own, numbered from 0 in
the order they start (whether or not they have to wait); ``cancel`` names such a task.
:func:`programs` draws programs; :data:`EXAMPLES` are the programs every run tries first.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Literal

from hypothesis import strategies as st

__all__ = [
    "BLOCKED",
    "CANCELLED",
    "EXAMPLES",
    "KINDS",
    "OK",
    "Model",
    "Op",
    "Outcome",
    "Program",
    "Step",
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


#: The operations, by name: which end they act on and whether they run in a task of their own.
KINDS: dict[str, tuple[End | None, bool]] = {
    "send": ("send", True),
    "send_nowait": ("send", False),
    "receive": ("receive", True),
    "receive_nowait": ("receive", False),
    "clone_send": ("send", False),
    "clone_receive": ("receive", False),
    "close_send": ("send", False),
    "close_receive": ("receive", False),
    "aclose_send": ("send", False),
    "aclose_receive": ("receive", False),
    "cancel": (None, False),
}


@dataclass(frozen=True)
class Op:
    """One operation of a program.

    ``target`` is a handle index of the operation's end, or a task number for ``cancel``.
    Sends send the number of their step in the program, so every item is distinct.
    """

    kind: str
    target: int = 0

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"kind must be one of {sorted(KINDS)}, got {self.kind!r}")
        if self.target < 0:
            raise ValueError(f"target must be non-negative, got {self.target!r}")

    def label(self, step: int) -> str:
        """Describe this operation, as step ``step`` of a program, for a failure message."""
        end, _ = KINDS[self.kind]
        if self.kind == "cancel":
            return f"cancel task {self.target}"
        handle = f"{'s' if end == 'send' else 'r'}{self.target}"
        if self.kind in ("send", "send_nowait"):
            return f"{handle}.{self.kind}({step})"
        if self.kind.startswith(("clone", "close", "aclose")):
            return f"{handle}.{self.kind.split('_')[0]}()"
        return f"{handle}.{self.kind}()"


@dataclass(frozen=True)
class Program:
    """A buffer size and a sequence of operations."""

    max_buffer_size: float
    ops: tuple[Op, ...]


@dataclass(frozen=True)
class Step:
    """What one step of a program does: the operation's own outcome (``BLOCKED`` when it
    started a task that waits) and the outcomes of earlier tasks that ended during the step,
    by task number."""

    outcome: Outcome
    woken: tuple[tuple[int, Outcome], ...] = ()


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
        return sum(self.send_open if end == "send" else self.receive_open)

    # -- the operations ----------------------------------------------------------------------

    def apply(self, op: Op, step: int) -> Step:
        """Apply ``op`` (the ``step``-th of its program) and return what it does."""
        woken: list[tuple[int, Outcome]] = []
        kind = op.kind
        if kind in ("send", "send_nowait"):
            outcome = self._send(op.target, step, woken, blocking=kind == "send")
        elif kind in ("receive", "receive_nowait"):
            outcome = self._receive(op.target, woken, blocking=kind == "receive")
        elif kind.startswith("clone"):
            outcome = self._clone("send" if kind.endswith("send") else "receive", op.target)
        elif kind.startswith(("close", "aclose")):
            end: End = "send" if kind.endswith("send") else "receive"
            outcome = self._close(end, op.target, woken)
        else:
            outcome = self._cancel(op.target, woken)
        return Step(outcome, tuple(sorted(woken, key=lambda pair: pair[0])))

    def _new_task(self) -> int:
        self.tasks += 1
        return self.tasks - 1

    def _send(
        self, handle: int, item: int, woken: list[tuple[int, Outcome]], *, blocking: bool
    ) -> Outcome:
        task = self._new_task() if blocking else -1
        if not self.send_open[handle]:
            return _error("ClosedResourceError")
        if not self._open_count("receive"):
            return _error("BrokenResourceError")
        if self.waiting_receivers:
            receiver = self.waiting_receivers.pop(0)
            woken.append((receiver.task, ("value", item)))
            return OK
        if len(self.buffer) < self.max_buffer_size:
            self.buffer.append(item)
            return OK
        if not blocking:
            return _error("WouldBlock")
        self.waiting_senders.append(_Waiter(task, handle, item))
        return BLOCKED

    def _receive(self, handle: int, woken: list[tuple[int, Outcome]], *, blocking: bool) -> Outcome:
        task = self._new_task() if blocking else -1
        if not self.receive_open[handle]:
            return _error("ClosedResourceError")
        if self.buffer:
            item = self.buffer.pop(0)
            while self.waiting_senders and len(self.buffer) < self.max_buffer_size:
                sender = self.waiting_senders.pop(0)
                self.buffer.append(sender.item)
                woken.append((sender.task, OK))
            return ("value", item)
        if self.waiting_senders:
            sender = self.waiting_senders.pop(0)
            woken.append((sender.task, OK))
            return ("value", sender.item)
        if not self._open_count("send"):
            return _error("EndOfStream")
        if not blocking:
            return _error("WouldBlock")
        self.waiting_receivers.append(_Waiter(task, handle))
        return BLOCKED

    def _clone(self, end: End, handle: int) -> Outcome:
        handles = self.send_open if end == "send" else self.receive_open
        if not handles[handle]:
            return _error("ClosedResourceError")
        handles.append(True)
        return OK

    def _close(self, end: End, handle: int, woken: list[tuple[int, Outcome]]) -> Outcome:
        handles = self.send_open if end == "send" else self.receive_open
        if not handles[handle]:
            return OK
        handles[handle] = False
        own = self.waiting_senders if end == "send" else self.waiting_receivers
        for waiter in [w for w in own if w.handle == handle]:
            own.remove(waiter)
            woken.append((waiter.task, _error("ClosedResourceError")))
        if not self._open_count(end):
            other = self.waiting_receivers if end == "send" else self.waiting_senders
            error = _error("EndOfStream" if end == "send" else "BrokenResourceError")
            woken.extend((waiter.task, error) for waiter in other)
            other.clear()
        return OK

    def _cancel(self, task: int, woken: list[tuple[int, Outcome]]) -> Outcome:
        for queue in (self.waiting_senders, self.waiting_receivers):
            for waiter in queue:
                if waiter.task == task:
                    queue.remove(waiter)
                    woken.append((task, CANCELLED))
                    return OK
        return OK


def normalize(program: Program) -> Program:
    """Map every handle index and task number of ``program`` onto one that exists at its step.

    Drawn indices are reduced modulo the number of handles (or tasks) existing at that point
    (a clone that fails adds no handle), so every drawn program is runnable; a ``cancel``
    before any task exists is dropped.
    """
    model = Model(program.max_buffer_size)
    ops: list[Op] = []
    for op in program.ops:
        end, _ = KINDS[op.kind]
        count = model.tasks if end is None else model.handles(end)
        if not count:
            continue
        resolved = Op(op.kind, op.target % count)
        model.apply(resolved, len(ops))
        ops.append(resolved)
    return Program(program.max_buffer_size, tuple(ops))


def run_model(program: Program) -> list[Step]:
    """The steps the model predicts for ``program`` (already normalized)."""
    model = Model(program.max_buffer_size)
    return [model.apply(op, index) for index, op in enumerate(program.ops)]


def format_program(program: Program, mark: int | None = None) -> str:
    """The program as numbered lines (``mark`` flags one step), for failure messages."""
    size = "math.inf" if program.max_buffer_size == math.inf else f"{program.max_buffer_size:g}"
    lines = [f"  s0, r0 = create_memory_object_stream({size})"]
    for index, op in enumerate(program.ops):
        flag = "  <--" if index == mark else ""
        lines.append(f"  {index:2}: {op.label(index)}{flag}")
    return "\n".join(lines)


def task_steps(program: Program) -> list[int]:
    """The step that started each task, by task number."""
    return [index for index, op in enumerate(program.ops) if KINDS[op.kind][1]]


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
    return str(outcome[0])


# -- the strategy -----------------------------------------------------------------------------

#: Operations weighted towards the ones that move items and make clones; closes and cancels
#: are rarer, so a program usually does something before the stream ends.
_WEIGHTED_KINDS: Sequence[str] = (
    "send", "send", "send", "send_nowait", "send_nowait",
    "receive", "receive", "receive", "receive_nowait", "receive_nowait",
    "clone_send", "clone_send", "clone_receive", "clone_receive",
    "close_send", "close_receive", "aclose_send", "aclose_receive",
    "cancel", "cancel",
)  # fmt: skip


def _program(size: float, *spec: tuple[str, int]) -> Program:
    return Program(size, tuple(Op(kind, target) for kind, target in spec))


#: Programs that every run of ``MEM-MODEL`` tries before drawing any: one per rule of the
#: module docstring, so that no run can miss the basic cases by the luck of the draw.
EXAMPLES: tuple[Program, ...] = (
    # FIFO through the buffer, the freed slot going to the oldest waiting sender.
    _program(2, ("send", 0), ("send", 0), ("send", 0), ("send", 0), ("receive", 0),
             ("receive_nowait", 0), ("receive_nowait", 0), ("receive_nowait", 0)),
    # Waiting receivers own the next items, oldest first; nowait forms both ways.
    _program(0, ("clone_receive", 0), ("receive", 1), ("receive", 0), ("send_nowait", 0),
             ("send", 0), ("send_nowait", 0), ("receive_nowait", 0)),
    # receive_nowait() takes a waiting sender's item when nothing is buffered.
    _program(0, ("send", 0), ("receive_nowait", 0), ("receive_nowait", 0)),
    # ... and with room in the buffer too: the item goes to the waiter, not the buffer.
    _program(1, ("receive", 0), ("send", 0), ("send_nowait", 0), ("receive_nowait", 0)),
    # Closing a receive handle wakes its own waiter only; the last one breaks the senders.
    _program(0, ("clone_receive", 0), ("receive", 0), ("receive", 1), ("close_receive", 0),
             ("receive", 0), ("clone_receive", 0), ("send", 0), ("send", 0),
             ("aclose_receive", 1), ("send_nowait", 0)),
    # Closing a send handle withdraws its own waiter only; the last one ends the stream
    # after the buffer drains.
    _program(1, ("clone_send", 0), ("send", 0), ("send", 0), ("send", 1), ("close_send", 0),
             ("receive", 0), ("receive", 0), ("clone_send", 0), ("receive", 0),
             ("aclose_send", 1), ("receive_nowait", 0), ("receive", 0)),
    # Cancelling waiting tasks: their items are never delivered, their turn is given up.
    _program(0, ("send", 0), ("send", 0), ("cancel", 0), ("receive", 0), ("receive", 0),
             ("cancel", 3), ("send_nowait", 0), ("receive_nowait", 0)),
    # Clones of closed handles, closing twice, unbounded buffers.
    _program(math.inf, ("send", 0), ("close_send", 0), ("clone_send", 0), ("close_send", 0),
             ("receive", 0), ("receive", 0), ("aclose_receive", 0), ("clone_receive", 0)),
)  # fmt: skip


def ops(kinds: Sequence[str] = _WEIGHTED_KINDS) -> st.SearchStrategy[Op]:
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
