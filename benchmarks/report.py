"""What a run prints: the header, one table per workload, and the same numbers as JSON."""

from __future__ import annotations

import datetime
import json
import os
import platform
import statistics
import subprocess
from collections.abc import Sequence
from dataclasses import dataclass
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

from . import clock
from .harness import Role, Row, WorkloadResult
from .profiles import Profile
from .targets import Against, check

__all__ = [
    "Summary",
    "environment",
    "header",
    "Baseline",
    "load_baseline",
    "summarise",
    "summary_table",
    "table",
    "to_json",
]

ROOT = Path(__file__).resolve().parent.parent
DISTRIBUTIONS = ("anyio", "trio", "uvloop", "streamspec")


@dataclass(frozen=True)
class Summary:
    """A row's numbers as reported: the median in the workload's unit, and ratios of costs."""

    row: Row
    value: float | None
    spread: float | None
    vs_anyio: float | None
    vs_floor: float | None
    #: Cost / the cheapest peer's (Trio's channel, asyncio's class) on the same backend.
    vs_peer: float | None
    #: Series only: cost at this point / cost at the series' growth base (same variant).
    growth: float | None


def summarise(result: WorkloadResult) -> list[Summary]:
    """The rows of ``result``, grouped by series point, with their medians and ratios."""
    rows = sorted(result.rows, key=lambda row: row.variant.point or 0)
    summaries = []
    for row in rows:
        median = row.median
        summaries.append(
            Summary(
                row=row,
                value=None if median is None else result.workload.unit.show(median),
                spread=row.spread,
                vs_anyio=result.ratio(row, result.reference_for(row)),
                vs_floor=result.ratio(row, result.floor_for(row)),
                vs_peer=result.ratio(row, result.best_peer_for(row)),
                growth=result.ratio(row, result.growth_base_for(row)),
            )
        )
    return summaries


def table(result: WorkloadResult) -> str:
    """The workload's table, with its title, sizes and notes."""
    workload = result.workload
    unit = workload.unit
    better = "higher" if unit.rate else "lower"
    series = workload.point_label is not None
    lines = [
        f"{result.workload_id}: {workload.title}",
        f"  {workload.size}; median of {workload.rounds} interleaved round(s); "
        f"{unit.label}, {better} is better; took {result.seconds:.0f} s",
        "",
    ]
    columns = ["variant", "backend", unit.label, "spread", "x AnyIO", "x floor", "x peer"]
    if series:
        columns = [workload.point_label or "", *columns, "growth"]
    cells: list[list[str]] = []
    previous_point = None
    for summary in summarise(result):
        variant = summary.row.variant
        if series and cells and variant.point != previous_point:
            cells.append([])  # a blank line between the points of a series
        previous_point = variant.point
        lead = [workload.show_point(variant.point or 0)] if series else []
        lead += [variant.label, variant.backend]
        if summary.value is None:
            cells.append([*lead, summary.row.status])
            continue
        numbers = [
            _number(summary.value),
            _percent(summary.spread),
            _ratio(summary.vs_anyio),
            _ratio(summary.vs_floor),
            _ratio(summary.vs_peer),
        ]
        cells.append([*lead, *numbers, *([_ratio(summary.growth)] if series else [])])
    lines += _aligned(columns, cells, text_columns=3 if series else 2)
    lines += [
        "",
        "  x AnyIO, x floor, x peer: this row's cost / theirs (time or memory per unit of "
        "work), median of per-round ratios; < 1 is cheaper. peer: the cheapest of Trio's or "
        "asyncio's own classes on the same backend.",
    ]
    lines += [f"  {note}" for note in workload.notes]
    return "\n".join(lines)


def _aligned(
    columns: Sequence[str],
    cells: Sequence[Sequence[str]],
    text_columns: int,
    left_columns: Sequence[int] = (),
) -> list[str]:
    """Rows padded into columns: text left-aligned, numbers right-aligned. A row that stops
    early (an unavailable variant's reason) runs its last cell across the rest."""
    widths = [len(name) for name in columns]
    for row in cells:
        for index, cell in enumerate(row[:-1] if len(row) < len(columns) else row):
            widths[index] = max(widths[index], len(cell))

    def line(row: Sequence[str]) -> str:
        if not row:
            return ""
        parts = [
            cell.ljust(widths[index])
            if index < text_columns or index in left_columns
            else cell.rjust(widths[index])
            for index, cell in enumerate(row)
        ]
        if len(row) < len(columns):
            parts[-1] = row[-1]
        return ("  " + "  ".join(parts)).rstrip()

    return [line(columns), *(line(row) for row in cells)]


def _number(value: float) -> str:
    if value >= 1000:
        return f"{value:,.0f}"
    if value >= 100:
        return f"{value:.0f}"
    if value >= 10:
        return f"{value:.1f}"
    return f"{value:.2f}" if value >= 1 else f"{value:.3f}"


def _ratio(value: float | None) -> str:
    if value is None:
        return "-"
    return f"{value:.0f}" if value >= 100 else f"{value:.2f}"


def _percent(value: float | None) -> str:
    return "-" if value is None else f"{value:.0%}"


# -- the summary ---------------------------------------------------------------------------


#: streamspec's median cost (quantity per unit of work) in an earlier run, by workload id,
#: backend and series point.
Baseline = dict[tuple[str, str, int | None], float]


def load_baseline(path: Path) -> Baseline:
    """streamspec's median costs in the JSON that ``--json`` wrote for an earlier run.

    :raises ValueError: the file is not such a JSON document.
    """
    try:
        document = json.loads(path.read_text())
        baseline: Baseline = {}
        for workload in document["workloads"]:
            for row in workload["rows"]:
                costs = [cost for cost in row["costs"] if cost is not None]
                if row["role"] == Role.SUBJECT.value and row["status"] == "ok" and costs:
                    key = (workload["id"], row["backend"], row["point"])
                    baseline[key] = statistics.median(costs)
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise ValueError(f"{path} is not the JSON of a benchmark run: {exc!r}") from exc
    return baseline


def summary_table(results: Sequence[WorkloadResult], baseline: Baseline | None = None) -> str:
    """The final table: streamspec's ratios per workload and backend, and the verdicts; with
    a ``baseline``, also streamspec's cost over its cost in that earlier run."""
    columns = ["workload", "backend", "streamspec", "x AnyIO", "x floor", "x peer", "growth"]
    if baseline is not None:
        columns.append("x before")
    columns += ["target", "verdict"]
    cells = []
    for result in results:
        unit = result.workload.unit.label
        for item in check(result):
            value = "-" if item.value is None else f"{_number(item.value)} {unit}"
            verdict = item.verdict
            if item.missed:
                verdict += f" ({'; '.join(item.missed)})"
            row = [
                item.workload_id,
                item.backend,
                value,
                _ratio(item.figures[Against.ANYIO]),
                _ratio(item.figures[Against.FLOOR]),
                _ratio(item.figures[Against.PEER]),
                _ratio(item.figures[Against.GROWTH]),
            ]
            if baseline is not None:
                before = baseline.get((item.workload_id, item.backend, item.point))
                row.append(_ratio(item.cost / before) if item.cost is not None and before else "-")
            row += [", ".join(target.text for target in item.targets) or "-", verdict]
            cells.append(row)
    text_at_end = (len(columns) - 2, len(columns) - 1)  # target and verdict
    passed = sum(1 for row in cells if row[-1] == "pass")
    failed = sum(1 for row in cells if row[-1].startswith("FAIL"))
    errors = sum(1 for row in cells if row[-1].startswith("error"))
    lines = [
        "summary: streamspec against the speed bounds",
        "  ratios are costs (time or bytes per unit of work), streamspec's / theirs, median of "
        "per-round ratios; < 1 is cheaper. Series show their largest point; growth is the "
        "largest cost / the cost at the series' base point (the first, or as its table says), "
        "divided by the floor's growth where the series has a floor."
        + (
            " x before: streamspec's cost / its cost in the baseline run (across runs: expect "
            "a few percent of drift)."
            if baseline is not None
            else ""
        ),
        "",
        *_aligned(columns, cells, text_columns=2, left_columns=text_at_end),
        "",
        f"  {passed} pass, {failed} FAIL, {errors} error(s), "
        f"{len(cells) - passed - failed - errors} without a verdict (no target, or n/a)",
    ]
    return "\n".join(lines)


# -- the header -------------------------------------------------------------------------------


def environment(profile: Profile, command: str) -> dict[str, str]:
    """What a reader needs to reproduce or discount the numbers."""
    versions = ", ".join(f"{name} {_version(name)}" for name in DISTRIBUTIONS)
    mode = (
        f"{profile.name}: {profile.rounds} interleaved rounds"
        + (" after 1 warm-up round" if profile.warmup else "")
        + f"; series {profile.series_rounds} rounds"
        + (" after a warm-up" if profile.series_warmup else "")
        + f"; {profile.footprint_rounds} for memory workloads"
        + (" (a fresh interpreter each)" if profile.fresh_interpreter else " (in-process)")
    )
    if profile.name != "full":
        mode += "; fewer items than the full run (each table says how many)"
    return {
        "command": command,
        "mode": mode,
        "clock": (
            "CPU time of this process (time.process_time)"
            if clock.kind() == "cpu"
            else "wall time (time.perf_counter)"
        ),
        "python": f"{platform.python_implementation()} {platform.python_version()}",
        "platform": f"{platform.platform()}, {os.cpu_count()} CPUs",
        "versions": versions,
        "commit": _commit(),
        "date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
    }


def header(meta: dict[str, str]) -> str:
    width = max(len(key) for key in meta)
    return "\n".join(
        [
            "streamspec benchmarks",
            *(f"  {key.ljust(width)}  {value}" for key, value in meta.items()),
        ]
    )


def _version(distribution: str) -> str:
    try:
        return version(distribution)
    except PackageNotFoundError:
        return "not installed"


def _commit() -> str:
    def git(*args: str) -> str:
        return subprocess.run(
            ["git", *args], cwd=ROOT, capture_output=True, text=True, check=False
        ).stdout.strip()

    commit = git("rev-parse", "--short", "HEAD") or "unknown"
    # Only changes to what is measured, or to what measures it, make the commit inexact.
    dirty = git("status", "--porcelain", "--", "src", "benchmarks")
    return f"{commit} (with uncommitted changes in src/ or benchmarks/)" if dirty else commit


# -- JSON -------------------------------------------------------------------------------------


def to_json(meta: dict[str, str], results: Sequence[WorkloadResult]) -> dict[str, object]:
    """The whole run as plain data: the header, and per workload every row's raw costs
    (quantity per unit of work, one per round), median, spread and ratios."""
    return {
        "meta": meta,
        "workloads": [
            {
                "id": result.workload_id,
                "title": result.workload.title,
                "unit": result.workload.unit.label,
                "size": result.workload.size,
                "rounds": result.workload.rounds,
                "seconds": result.seconds,
                "point_label": result.workload.point_label,
                "notes": list(result.workload.notes),
                "rows": [_row_json(summary) for summary in summarise(result)],
            }
            for result in results
        ],
        "summary": [
            {
                "workload": item.workload_id,
                "backend": item.backend,
                "value": item.value,
                **{against.name.lower(): figure for against, figure in item.figures.items()},
                "targets": [target.text for target in item.targets],
                "verdict": item.verdict,
                "missed": list(item.missed),
                "point": item.point,
                "cost": item.cost,
            }
            for result in results
            for item in check(result)
        ],
    }


def _row_json(summary: Summary) -> dict[str, object]:
    variant = summary.row.variant
    return {
        "variant": variant.label,
        "backend": variant.backend,
        "role": variant.role.value,
        "point": variant.point,
        "count": variant.count,
        "status": summary.row.status,
        "costs": summary.row.costs,
        "median": summary.value,
        "spread": summary.spread,
        "ratio_vs_anyio": summary.vs_anyio,
        "ratio_vs_floor": summary.vs_floor,
        "ratio_vs_peer": summary.vs_peer,
        "growth": summary.growth,
    }
