"""Run the benchmarks: ``python benchmarks/run.py [--quick] [--only PATTERN] [--json FILE]``.

Prints a header (versions, commit, mode, the command) and one table per workload as each
one finishes; progress goes to stderr. See benchmarks/README.md for how to read the tables.
"""

from __future__ import annotations

import argparse
import dataclasses
import fnmatch
import json
import os
import shlex
import sys
import time
import traceback
from collections.abc import Callable, Sequence
from pathlib import Path

if __package__ in (None, ""):  # run as a script: make the ``benchmarks`` package importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks import clock
from benchmarks.backends import BACKENDS, by_name
from benchmarks.clock import CLOCKS
from benchmarks.harness import Unit, Workload, WorkloadResult, interleave
from benchmarks.implementations import IMPLEMENTATIONS
from benchmarks.profiles import FULL, QUICK
from benchmarks.report import (
    environment,
    header,
    load_baseline,
    summary_table,
    table,
    to_json,
)
from benchmarks.workloads import WORKLOADS, Context

__all__ = ["main", "run_workloads", "select"]


def select(patterns: Sequence[str]) -> list[str]:
    """The workload ids matching any of ``patterns`` (all of them when there are none), in
    run order. A pattern with ``*``, ``?`` or ``[`` is a glob; any other is a substring.

    :raises ValueError: a pattern matches no workload.
    """
    if not patterns:
        return list(WORKLOADS)

    def matches(pattern: str, workload_id: str) -> bool:
        if any(char in pattern for char in "*?["):
            return fnmatch.fnmatchcase(workload_id, pattern)
        return pattern in workload_id

    for pattern in patterns:
        if not any(matches(pattern, workload_id) for workload_id in WORKLOADS):
            raise ValueError(f"--only {pattern!r} matches no workload; see --list")
    return [w for w in WORKLOADS if any(matches(pattern, w) for pattern in patterns)]


def run_workloads(
    ids: Sequence[str],
    ctx: Context,
    on_result: Callable[[WorkloadResult], None] = lambda _: None,
    progress: Callable[[str], None] = lambda _: None,
) -> list[WorkloadResult]:
    """Build and measure each workload in turn; ``on_result`` sees each result as it is
    ready. A workload's data lives only while it runs."""
    results = []
    for workload_id in ids:
        try:
            workload = WORKLOADS[workload_id](ctx)
        except Exception as exc:  # a workload that cannot be built must not stop the run
            print(f"\n{workload_id}: could not be built:", file=sys.stderr)
            traceback.print_exc(file=sys.stderr)
            workload = Workload(
                title=f"could not be built: {type(exc).__name__}: {exc}",
                unit=Unit("-", 1),
                size="nothing measured",
                variants=(),
                rounds=0,
            )
        result = interleave(workload_id, workload, ctx.profile.warmup, progress)
        on_result(result)
        results.append(result)
    return results


def main(argv: Sequence[str] | None = None) -> int:
    arguments = sys.argv[1:] if argv is None else list(argv)
    parser = argparse.ArgumentParser(
        prog="benchmarks/run.py",
        description="Time streamspec against AnyIO, Trio, asyncio and the floor, interleaved.",
    )
    parser.add_argument(
        "--quick", action="store_true", help="fewer rounds and items (under 3 minutes)"
    )
    parser.add_argument(
        "--only",
        action="append",
        default=[],
        metavar="PATTERN",
        help="run only matching workloads (substring or glob; repeatable)",
    )
    parser.add_argument(
        "--backends",
        default=",".join(backend.name for backend in BACKENDS),
        help="comma-separated event loops to run on (default: %(default)s)",
    )
    parser.add_argument(
        "--clock",
        choices=sorted(CLOCKS),
        default="cpu",
        help="what a measurement reads: this process's CPU time (default: immune to the "
        "descheduling of a shared machine) or wall time",
    )
    parser.add_argument(
        "--rounds",
        type=int,
        metavar="N",
        help="interleaved rounds per timed workload and series (default: the profile's)",
    )
    parser.add_argument("--json", type=Path, metavar="FILE", help="also write the results here")
    parser.add_argument(
        "--baseline",
        type=Path,
        metavar="FILE",
        help="the --json of an earlier run: the summary adds streamspec's cost / its cost then",
    )
    parser.add_argument("--list", action="store_true", help="list the workload ids and exit")
    args = parser.parse_args(arguments)

    if args.list:
        print("\n".join(WORKLOADS))
        return 0
    try:
        ids = select(args.only)
        backends = tuple(by_name(name.strip()) for name in args.backends.split(","))
        if args.rounds is not None and args.rounds < 1:
            raise ValueError(f"--rounds must be at least 1, got {args.rounds}")
        baseline = None if args.baseline is None else load_baseline(args.baseline)
    except ValueError as exc:
        parser.error(str(exc))

    profile = QUICK if args.quick else FULL
    if args.rounds is not None:
        profile = dataclasses.replace(profile, rounds=args.rounds, series_rounds=args.rounds)
    clock.use(args.clock)
    ctx = Context(profile=profile, backends=backends, implementations=IMPLEMENTATIONS)
    command = shlex.join([sys.executable, "benchmarks/run.py", *arguments])
    meta = environment(profile, command)
    print(header(meta), flush=True)

    def show(result: WorkloadResult) -> None:
        print(f"\n{table(result)}", flush=True)

    interactive = sys.stderr.isatty()
    last_workload = [""]

    def progress(message: str) -> None:
        if interactive:  # one line, rewritten in place
            print(f"\r\033[K{message}", end="", file=sys.stderr, flush=True)
            return
        workload = message.partition(":")[0]  # a log: one line per workload
        if workload and workload != last_workload[0]:
            last_workload[0] = workload
            print(f"running {workload}", file=sys.stderr, flush=True)

    started, cpu_started = time.perf_counter(), _cpu_seconds()
    results = run_workloads(ids, ctx, on_result=show, progress=progress)
    progress("")
    print(f"\n{summary_table(results, baseline)}", flush=True)
    wall, cpu = time.perf_counter() - started, _cpu_seconds() - cpu_started
    print(
        f"\n{len(results)} workload(s) in {wall:.0f} s, {cpu:.0f} s of CPU time "
        "(child processes included)",
        flush=True,
    )
    if args.json is not None:
        args.json.write_text(json.dumps(to_json(meta, results), indent=2) + "\n")
    return 0


def _cpu_seconds() -> float:
    """CPU time of this process and of its finished children (the probes), in seconds."""
    times = os.times()
    return times.user + times.system + times.children_user + times.children_system


if __name__ == "__main__":
    sys.exit(main())
