"""The report of a run: the matrix of roles and backends, the failures, the known divergences.

Everything here is pure formatting of :class:`~.runner.CheckResult` lists, so the command line,
the docs and third-party tools produce the same text and the same JSON records.

The text report starts with a header naming the run (the target, the backends run and those
skipped, the Hypothesis profile and the seed), then has four parts, each printed only when it
has something to say:

1. the matrix: one row per role, one column per backend, each cell counting the rules that
   passed (``ok``), failed (``FAIL``), are known divergences (``known``) and are not provided
   (``n/p``);
2. every failure: the rule's ID and sentence, the backend, what was observed and the command
   line that runs that rule again on that backend with the same examples;
3. stale known divergences (the target declared them, but the rule passed);
4. known divergences, with the reason and the link the target gives;

followed by the rules the suite has no check for yet and a one-line verdict.
"""

from __future__ import annotations

import json
import shlex
import textwrap
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import IO, Any

from .catalogue import ROLES, Rule
from .runner import CheckResult, Outcome

__all__ = [
    "Progress",
    "RunInfo",
    "Tally",
    "format_report",
    "json_records",
    "tally",
    "verdict",
    "write_json",
]

#: How each outcome is labelled in a matrix cell, in the order cells list them.
_CELL_LABELS = {
    Outcome.PASSED: "ok",
    Outcome.FAILED: "FAIL",
    Outcome.KNOWN_DIVERGENCE: "known",
    Outcome.NOT_PROVIDED: "n/p",
}
_WIDTH = 100


@dataclass(frozen=True)
class Tally:
    """How many results of a role on a backend ended in each outcome."""

    passed: int = 0
    failed: int = 0
    known: int = 0
    not_provided: int = 0

    def cell(self) -> str:
        """The matrix cell, such as ``12 ok  1 FAIL``; ``-`` when there is nothing."""
        counts = dict(
            zip(
                _CELL_LABELS.values(),
                (self.passed, self.failed, self.known, self.not_provided),
                strict=True,
            )
        )
        return "  ".join(f"{n} {label}" for label, n in counts.items() if n) or "-"


@dataclass(frozen=True)
class RunInfo:
    """What a report says about the run itself, so that it can be repeated."""

    #: The target as it was named (``mypkg.streams:target``), the way a command line names it.
    target: str
    #: The Hypothesis profile the run used.
    profile: str
    #: The seed every property of the run drew its examples from.
    seed: int
    #: The backends the run used, in order.
    backends: Sequence[str] = ()
    #: Backends the run would have used but could not, each with the reason.
    skipped: Mapping[str, str] = field(default_factory=dict)
    #: The time limit of each event-loop run, when not the default.
    timeout: float | None = None
    #: The budget of a whole check, when not the default.
    budget: float | None = None

    def header(self) -> list[str]:
        """The lines that name the run at the top of the report."""
        lines = [f"  target:     {self.target}"]
        lines.append(f"  backends:   {', '.join(self.backends) or '(none)'}")
        if self.skipped:
            why = "; ".join(f"{name} ({reason})" for name, reason in self.skipped.items())
            lines.append(f"  skipped:    {why}")
        lines.append(f"  hypothesis: profile {self.profile}, seed {self.seed}")
        return lines

    def reproduce(self, rule_id: str, backend: str) -> str:
        """The command line that runs ``rule_id`` on ``backend`` again with the same examples."""
        words = ["streamspec", "check", self.target, "--rule", rule_id, "--backend", backend]
        words += ["--profile", self.profile, "--seed", str(self.seed)]
        if self.timeout is not None:
            words += ["--timeout", f"{self.timeout:g}"]
        if self.budget is not None:
            words += ["--budget", f"{self.budget:g}"]
        return shlex.join(words)


def tally(results: Iterable[CheckResult]) -> dict[str, dict[str, Tally]]:
    """Count outcomes by role (catalogue order) and backend (order of first appearance)."""
    counts: dict[tuple[str, str], Counter[Outcome]] = {}
    backends: list[str] = []
    roles: set[str] = set()
    for result in results:
        if result.backend not in backends:
            backends.append(result.backend)
        roles.add(result.rule.role)
        counts.setdefault((result.rule.role, result.backend), Counter())[result.outcome] += 1
    table: dict[str, dict[str, Tally]] = {}
    for role in ROLES:
        if role not in roles:
            continue
        table[role] = {}
        for backend in backends:
            c = counts.get((role, backend), Counter())
            table[role][backend] = Tally(
                passed=c[Outcome.PASSED],
                failed=c[Outcome.FAILED],
                known=c[Outcome.KNOWN_DIVERGENCE],
                not_provided=c[Outcome.NOT_PROVIDED],
            )
    return table


def _matrix(results: Sequence[CheckResult]) -> list[str]:
    table = tally(results)
    if not table:
        return ["(no rule was run)"]
    backends = list(next(iter(table.values())))
    rows = [["role", *backends]]
    rows += [[role, *(cells[b].cell() for b in backends)] for role, cells in table.items()]
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    lines = [
        "   ".join(text.ljust(w) for text, w in zip(row, widths, strict=True)).rstrip()
        for row in rows
    ]
    lines.insert(1, "   ".join("-" * w for w in widths))
    return lines


def _indent(text: str, prefix: str = "    ") -> list[str]:
    lines: list[str] = []
    for line in text.splitlines() or [""]:
        wrapped = textwrap.wrap(
            line, _WIDTH - len(prefix), break_long_words=False, break_on_hyphens=False
        )
        lines += [prefix + piece for piece in wrapped or [""]]
    return lines


def _section(title: str, count: int) -> list[str]:
    return ["", f"{title} ({count})", "=" * (len(title) + len(str(count)) + 3)]


def format_report(
    results: Sequence[CheckResult],
    *,
    target: str = "",
    interrupted: bool = False,
    run: RunInfo | None = None,
) -> str:
    """The whole text report of a run (see the module docstring), ending with the verdict;
    ``interrupted`` says the run was stopped before all its checks finished; ``run``, when
    given, adds the header naming the run and each failure's command line that repeats it."""
    lines = [f"streamspec conformance report for {target}" if target else "streamspec report"]
    if run is not None:
        lines += run.header()
    lines += ["", *_matrix(results)]
    failures = [r for r in results if r.outcome is Outcome.FAILED and not r.stale]
    stale = [r for r in results if r.stale]
    known = [r for r in results if r.outcome is Outcome.KNOWN_DIVERGENCE]
    unchecked = sorted({r.rule.id for r in results if not r.checked})
    if failures:
        lines += _section("Failed", len(failures))
        for r in failures:
            lines += ["", f"[{r.rule.id}] on {r.backend}", *_indent(r.rule.sentence)]
            lines += ["  observed:", *_indent(r.message or "(no message)")]
            if run is not None:
                lines += ["  reproduce:", "    " + run.reproduce(r.rule.id, r.backend)]
    if stale:
        lines += _section("Stale known divergences", len(stale))
        for r in stale:
            assert r.divergence is not None
            lines += ["", f"[{r.rule.id}] on {r.backend}: passed, but declared as a divergence"]
            lines += _indent(f"reason given: {r.divergence.reason}")
            if r.divergence.link:
                lines += _indent(f"link: {r.divergence.link}")
            lines += _indent("remove the entry from the target's known_divergences")
    if known:
        lines += _section("Known divergences", len(known))
        for r in known:
            assert r.divergence is not None
            lines += ["", f"[{r.rule.id}] on {r.backend}", *_indent(r.divergence.reason)]
            if r.divergence.link:
                lines += _indent(f"link: {r.divergence.link}")
            lines += ["  observed:", *_indent(r.message or "(no message)")]
    not_provided: dict[str, list[str]] = {}
    for r in results:
        if r.outcome is Outcome.NOT_PROVIDED and r.checked:
            ids = not_provided.setdefault(r.message, [])
            if r.rule.id not in ids:
                ids.append(r.rule.id)
    if not_provided:
        lines += _section("Not provided", sum(map(len, not_provided.values())))
        for message, ids in not_provided.items():
            lines += ["", *_indent(message, "  "), *_indent(", ".join(ids))]
    if unchecked:
        lines += _section("Rules the suite has no check for yet", len(unchecked))
        lines += _indent(", ".join(unchecked), "  ")
    lines += ["", verdict(results, interrupted=interrupted)]
    return "\n".join(lines) + "\n"


def verdict(results: Sequence[CheckResult], *, interrupted: bool = False) -> str:
    """One line: how many rules passed, failed, diverge knowingly or are not provided; an
    interrupted run is never "OK", since the checks that did not finish may fail."""
    counts = Counter(r.outcome for r in results)
    stale = sum(r.stale for r in results)
    failed = counts[Outcome.FAILED]
    head = "FAILED" if failed else "INTERRUPTED" if interrupted else "OK"
    parts = [
        f"{counts[Outcome.PASSED]} passed",
        f"{failed} failed" + (f" ({stale} stale)" if stale else ""),
        f"{counts[Outcome.KNOWN_DIVERGENCE]} known divergences",
        f"{counts[Outcome.NOT_PROVIDED]} not provided",
    ]
    tail = "; interrupted, these are the checks that finished" if interrupted else ""
    return f"{head}: {', '.join(parts)} (rule x backend){tail}"


def json_records(results: Iterable[CheckResult]) -> list[dict[str, Any]]:
    """One JSON-ready record per rule and backend.

    Each record has ``rule``, ``role``, ``backend``, ``outcome`` (``passed``, ``failed``,
    ``known-divergence`` or ``not-provided``) and ``message``, plus ``sentence`` (the rule),
    ``stale`` (a failure that is a stale known divergence), ``checked`` (false when the suite
    has no check for the rule yet), ``duration`` in seconds, and ``divergence``: ``null`` or
    ``{"reason", "link"}``.
    """
    return [
        {
            "rule": r.rule.id,
            "role": r.rule.role,
            "backend": r.backend,
            "outcome": r.outcome.value,
            "message": r.message,
            "sentence": r.rule.sentence,
            "stale": r.stale,
            "checked": r.checked,
            "duration": round(r.duration, 3),
            "divergence": (
                None
                if r.divergence is None
                else {"reason": r.divergence.reason, "link": r.divergence.link}
            ),
        }
        for r in results
    ]


def write_json(results: Iterable[CheckResult], file: IO[str]) -> None:
    """Write :func:`json_records` to ``file`` as a JSON array, one record per line."""
    records = json_records(results)
    file.write("[\n")
    file.write(",\n".join(json.dumps(record, ensure_ascii=False) for record in records))
    file.write("\n]\n" if records else "]\n")


class Progress:
    """Shows a run's progress on a text stream (normally stderr) as results arrive.

    On a terminal it keeps one line up to date (``[12/140] TLS-INTACT on trio ...``); elsewhere
    (a CI log, a pipe) it prints one line per finished check, so that the log shows where a run
    spent its time.
    """

    def __init__(self, stream: IO[str], total: int, *, tty: bool | None = None) -> None:
        self._stream = stream
        self._total = total
        self._done = 0
        self._tty = stream.isatty() if tty is None else tty
        self._width = len(str(total))

    def _counter(self) -> str:
        return f"[{self._done + 1:>{self._width}}/{self._total}]"

    def started(self, rule: Rule, backend: str) -> None:
        """A check is starting."""
        if self._tty:
            text = f"{self._counter()} {rule.id} on {backend} ..."
            self._stream.write("\r\x1b[K" + text[: _WIDTH - 1])
            self._stream.flush()

    def finished(self, result: CheckResult) -> None:
        """A result arrived: print it (not on a terminal), or any failure (on one)."""
        line = (
            f"{self._counter()} {result.rule.id} on {result.backend}: "
            f"{result.outcome.value}{' (stale)' if result.stale else ''} "
            f"{result.duration:.1f}s"
        )
        self._done += 1
        if not self._tty:
            self._stream.write(line + "\n")
        elif result.outcome is Outcome.FAILED:
            self._stream.write("\r\x1b[K" + line + "\n")
        self._stream.flush()

    def close(self) -> None:
        """Clear the terminal's progress line."""
        if self._tty:
            self._stream.write("\r\x1b[K")
            self._stream.flush()
