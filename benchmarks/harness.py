"""Timing machinery: variants of one workload measured in interleaved rounds.

A *workload* is one job (say, "1 producer, 1 consumer, buffer 100") done by several *variants*
(streamspec on asyncio, AnyIO on trio, Trio's own channel, the floor, ...). Each measurement
returns a raw quantity (seconds, or bytes for memory) for a fixed amount of work (``count``
items, lines, bytes...). Rounds run every variant once, in a rotated order (A B C, B C A,
C A B, ...), so that machine noise, thermal drift and the garbage left by the previous variant
hit every variant alike.

Ratios are computed per round (the variant's cost divided by the reference's cost *in the
same round*) and the median of those is reported: pairing measurements taken seconds apart
cancels the slow drift of a shared machine much better than dividing two medians would.
"""

from __future__ import annotations

import enum
import gc
import math
import statistics
import sys
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass, field

__all__ = [
    "Measure",
    "Role",
    "Row",
    "Unit",
    "Variant",
    "Workload",
    "WorkloadResult",
    "interleave",
]

#: Does the work once and returns the raw quantity: seconds, or bytes for memory workloads.
Measure = Callable[[], float]


class Role(enum.Enum):
    """What a variant is there for; the report's ratios are relative to two of the roles."""

    #: The implementation being judged (streamspec).
    SUBJECT = "subject"
    #: The implementation users compare against (AnyIO): the denominator of ``x AnyIO``.
    REFERENCE = "reference"
    #: Another library doing the same job natively (Trio's channels, asyncio's classes).
    PEER = "peer"
    #: The least a correct program can spend on the job: the denominator of ``x floor``.
    FLOOR = "floor"
    #: Shown for context only (say, a queue that never yields): no ratio is taken against it.
    CONTEXT = "context"


@dataclass(frozen=True)
class Unit:
    """How a cost (raw quantity per unit of work) is shown.

    Ratios never depend on the unit: they always compare costs, so 0.80 means "20% cheaper"
    even in a table shown in MiB/s.
    """

    label: str
    #: Shown value = cost * scale, or scale / cost when ``rate`` is true.
    scale: float
    rate: bool = False

    def show(self, cost: float) -> float:
        if self.rate:  # a clock too coarse for the work could read 0
            return self.scale / cost if cost > 0 else math.inf
        return cost * self.scale


@dataclass(frozen=True)
class Variant:
    """One way of doing a workload's job, or the reason it cannot be measured here."""

    label: str
    #: The event loop it runs on: "asyncio", "uvloop", "trio", or "-" for plain code.
    backend: str
    role: Role
    #: Units of work done by one call of ``measure`` (items, lines, chunks, bytes...).
    count: int
    measure: Measure | None
    #: Why ``measure`` is None: shown in the table instead of numbers.
    unavailable: str | None = None
    #: The x of a series (number of waiting tasks, line length); None outside series.
    point: int | None = None

    def __post_init__(self) -> None:
        if (self.measure is None) == (self.unavailable is None):
            raise ValueError("a variant has either a measure or a reason it is unavailable")
        if self.count < 1:
            raise ValueError(f"count must be positive, got {self.count}")


@dataclass(frozen=True)
class Workload:
    """A job, its variants and how to show their costs."""

    title: str
    unit: Unit
    #: The amount of work, in words, for the table's title ("50,000 items").
    size: str
    variants: tuple[Variant, ...]
    rounds: int
    #: The name of a series' x axis ("waiting tasks"); None when the workload is no series.
    point_label: str | None = None
    #: The point whose cost ``growth`` divides by (None: the first point). Points before it
    #: may cost more per unit for a good reason and are not judged.
    growth_base: int | None = None
    #: How a series point is shown ("16 MiB" rather than 16777216).
    show_point: Callable[[int], str] = str
    #: Extra lines printed under the table: caveats a reader must know.
    notes: tuple[str, ...] = ()
    #: Whether a thrown-away warm-up round may run first (when the profile asks for one):
    #: pointless when every measurement starts a fresh interpreter.
    warmup: bool = True


@dataclass
class Row:
    """A variant's measurements: one cost (quantity per unit of work) per round."""

    variant: Variant
    costs: list[float | None] = field(default_factory=list)
    error: str | None = None

    @property
    def status(self) -> str:
        if self.variant.unavailable is not None:
            return self.variant.unavailable
        if self.error is not None:
            return f"failed: {self.error}"
        return "ok"

    @property
    def samples(self) -> list[float]:
        return [cost for cost in self.costs if cost is not None]

    @property
    def median(self) -> float | None:
        samples = self.samples
        return statistics.median(samples) if samples and self.error is None else None

    @property
    def spread(self) -> float | None:
        """(max - min) / median: how much the rounds disagreed."""
        median = self.median
        if median is None or median == 0:
            return None
        return (max(self.samples) - min(self.samples)) / median


@dataclass
class WorkloadResult:
    workload_id: str
    workload: Workload
    rows: list[Row]
    #: Wall-clock seconds the whole workload took, set-up and warm-up included.
    seconds: float = 0.0

    def reference_for(self, row: Row) -> Row | None:
        """AnyIO on the same backend (at the same point); plain-code rows compare with
        AnyIO on asyncio."""
        return self._counterpart(row, Role.REFERENCE, fallback="asyncio")

    def floor_for(self, row: Row) -> Row | None:
        """The floor on the same backend, else the floor that needs no event loop."""
        return self._counterpart(row, Role.FLOOR, fallback="-")

    def best_peer_for(self, row: Row) -> Row | None:
        """The cheapest measured peer (Trio's channel, asyncio's class) on the same backend
        at the same point, or None when there is none."""
        peers = [
            other
            for other in self.rows
            if other.variant.role is Role.PEER
            and other.variant.point == row.variant.point
            and other.variant.backend == row.variant.backend
            and other.median is not None
        ]
        return min(peers, key=lambda other: other.median or 0.0, default=None)

    def growth_base_for(self, row: Row) -> Row | None:
        """In a series, the same variant and backend at the workload's ``growth_base`` point
        (the first point when it has none): what ``growth`` divides by. None outside series."""
        if row.variant.point is None:
            return None
        base = self.workload.growth_base
        same = [
            other
            for other in self.rows
            if other.variant.label == row.variant.label
            and other.variant.backend == row.variant.backend
            and other.variant.point is not None
        ]
        if base is None:
            return min(same, key=lambda other: other.variant.point or 0, default=None)
        return next((other for other in same if other.variant.point == base), None)

    def ratio(self, row: Row, to: Row | None) -> float | None:
        """The median over rounds of ``row``'s cost divided by ``to``'s cost that round."""
        if to is None or row.error is not None or to.error is not None:
            return None
        pairs = [
            mine / theirs
            for mine, theirs in zip(row.costs, to.costs, strict=False)
            if mine is not None and theirs is not None and theirs > 0
        ]
        return statistics.median(pairs) if pairs else None

    def _counterpart(self, row: Row, role: Role, fallback: str) -> Row | None:
        candidates = [
            other
            for other in self.rows
            if other.variant.role is role and other.variant.point == row.variant.point
        ]
        for backend in (row.variant.backend, fallback):
            for other in candidates:
                if other.variant.backend == backend:
                    return other
        return None


def interleave(
    workload_id: str,
    workload: Workload,
    warmup: bool,
    progress: Callable[[str], None] = lambda _: None,
) -> WorkloadResult:
    """Measure every available variant ``workload.rounds`` times, round-robin.

    A warm-up round (when asked) runs first and is thrown away: it pays for imports, caches
    and the first growth of the allocator's arenas. A variant that raises is reported as
    failed, with its traceback on stderr, and is not run again; the others carry on.
    """
    started = time.perf_counter()
    rows = [Row(variant) for variant in workload.variants]
    active = [row for row in rows if row.variant.measure is not None]
    total = workload.rounds + (1 if warmup and workload.warmup else 0)
    for round_index in range(total):
        counted = round_index >= total - workload.rounds
        progress(f"{workload_id}: round {round_index + 1}/{total}{'' if counted else ' (warm-up)'}")
        shift = round_index % len(active) if active else 0
        for row in active[shift:] + active[:shift]:
            cost = _measure_once(workload_id, row)
            if counted:
                row.costs.append(cost)
        active = [row for row in active if row.error is None]
    return WorkloadResult(workload_id, workload, rows, time.perf_counter() - started)


def _measure_once(workload_id: str, row: Row) -> float | None:
    measure = row.variant.measure
    if measure is None or row.error is not None:
        return None
    # Collect the previous variant's garbage now, so that it is not charged to this one.
    gc.collect()
    try:
        quantity = measure()
    except Exception as exc:  # any failure is reported in its row; the run goes on
        row.error = f"{type(exc).__name__}: {exc}"
        print(
            f"\n{workload_id}: {row.variant.label} on {row.variant.backend} failed:",
            file=sys.stderr,
        )
        traceback.print_exc(file=sys.stderr)
        return None
    return quantity / row.variant.count
