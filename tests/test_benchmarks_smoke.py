"""The benchmark harness runs every workload end to end at tiny sizes.

Times are never asserted on: only that every variant that applies was measured (a number per
round), that ratios and the summary come out, and that a broken or missing implementation
becomes an error cell instead of stopping the run.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import anyio
import pytest

from benchmarks import clock
from benchmarks.backends import BACKENDS, Backend
from benchmarks.harness import Role, Row, Unit, Variant, Workload, WorkloadResult, interleave
from benchmarks.implementations import ANYIO, IMPLEMENTATIONS, Implementation
from benchmarks.probe import run_probe
from benchmarks.profiles import SMOKE
from benchmarks.report import load_baseline, summary_table, table, to_json
from benchmarks.run import main, run_workloads, select
from benchmarks.targets import TARGETS, Against, check
from benchmarks.workloads import WORKLOADS, Context


@pytest.fixture(scope="module")
def results() -> list[WorkloadResult]:
    ctx = Context(profile=SMOKE, backends=BACKENDS, implementations=IMPLEMENTATIONS)
    return run_workloads(list(WORKLOADS), ctx)


def _numeric(row: Row) -> bool:
    return (
        row.status == "ok"
        and len(row.costs) > 0
        and all(cost is not None and math.isfinite(cost) and cost >= 0 for cost in row.costs)
        and row.median is not None
    )


def test_every_workload_measures_every_implementation_on_every_backend(
    results: list[WorkloadResult],
) -> None:
    assert [result.workload_id for result in results] == list(WORKLOADS)
    for result in results:
        broken = [
            f"{row.variant.label} on {row.variant.backend}: {row.status}"
            for row in result.rows
            if not _numeric(row)
        ]
        assert broken == [], result.workload_id
        for implementation in IMPLEMENTATIONS:
            measured = {
                (row.variant.backend, row.variant.point)
                for row in result.rows
                if row.variant.label == implementation.label
            }
            backends = {backend for backend, _ in measured}
            assert backends == {backend.name for backend in BACKENDS}, result.workload_id


def test_ratios_summary_and_json(results: list[WorkloadResult]) -> None:
    for result in results:
        text = table(result)
        assert result.workload_id in text
        checks = check(result)
        assert {item.backend for item in checks} == {backend.name for backend in BACKENDS}
        for item in checks:
            assert item.value is not None
            assert not item.verdict.startswith("error"), (result.workload_id, item.verdict)
            if result.workload_id in TARGETS:
                assert item.verdict in ("pass", "FAIL"), (result.workload_id, item)
    # Every workload with a floor gives streamspec a ratio to it on asyncio.
    for result in results:
        if any(row.variant.role is Role.FLOOR for row in result.rows):
            (on_asyncio,) = [item for item in check(result) if item.backend == "asyncio"]
            assert on_asyncio.figures[Against.FLOOR] is not None, result.workload_id
    summary = summary_table(results)
    assert all(workload_id in summary for workload_id in WORKLOADS)
    document = json.loads(json.dumps(to_json({"command": "test"}, results)))
    assert len(document["workloads"]) == len(WORKLOADS)
    assert len(document["summary"]) == len(WORKLOADS) * len(BACKENDS)


def test_missing_and_failing_implementations_become_error_cells() -> None:
    missing = Implementation(
        label="not yet",
        role=Role.SUBJECT,
        memory="streamspec.does_not_exist:create_memory_object_stream",
        buffered="streamspec.does_not_exist:BufferedByteReceiveStream",
        text="streamspec.does_not_exist:TextReceiveStream",
        tls="streamspec.does_not_exist:TLSStream",
    )
    ctx = Context(profile=SMOKE, backends=BACKENDS, implementations=(missing, ANYIO))
    (result,) = run_workloads(["mem-rendezvous"], ctx)
    statuses = {row.variant.label: row.status for row in result.rows}
    assert statuses["not yet"] == "n/a (not built yet)"
    assert statuses[ANYIO.label] == "ok"
    assert "n/a (not built yet)" in table(result)
    assert all(item.verdict.startswith("error") for item in check(result))

    def explode() -> float:
        raise RuntimeError("half-written")

    calls: list[str] = []

    def fine() -> float:
        calls.append("fine")
        return 1.0

    workload = Workload(
        title="one variant fails",
        unit=Unit("s", 1),
        size="1",
        rounds=3,
        variants=(
            Variant("broken", "asyncio", Role.SUBJECT, 1, explode),
            Variant("fine", "asyncio", Role.REFERENCE, 1, fine),
        ),
    )
    result = interleave("failing", workload, warmup=False)
    assert result.rows[0].status == "failed: RuntimeError: half-written"
    assert result.rows[1].costs == [1.0, 1.0, 1.0]
    assert len(calls) == 3
    assert "failed: RuntimeError: half-written" in table(result)


def test_wall_clock(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(clock, "_current", ["cpu"])
    clock.use("wall")
    assert clock.kind() == "wall"
    ctx = Context(profile=SMOKE, backends=BACKENDS, implementations=IMPLEMENTATIONS)
    (result,) = run_workloads(["text-64k"], ctx)
    assert all(_numeric(row) for row in result.rows)
    with pytest.raises(ValueError, match="sundial"):
        clock.use("sundial")


def test_command_line_selection(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert select(["text-*"]) == ["text-512", "text-64k"]
    assert select(["rendezvous"]) == ["mem-rendezvous", "mem-rendezvous-10x10"]
    with pytest.raises(ValueError, match="nothing"):
        select(["nothing"])
    assert main(["--list"]) == 0
    assert capsys.readouterr().out.split() == list(WORKLOADS)


def test_probe_in_a_fresh_interpreter() -> None:
    target = "benchmarks.workloads.memory:buffered_bytes_probe"
    grown = run_probe(target, "deque", "-", "10000", "-")
    assert grown > 0
    assert math.isfinite(grown)


@pytest.mark.parametrize("backend", BACKENDS, ids=lambda backend: backend.name)
def test_a_hanging_measurement_times_out(backend: Backend) -> None:
    with pytest.raises(TimeoutError):
        backend.run(anyio.sleep_forever, timeout=0.05)


def test_a_workload_that_cannot_be_built_is_reported(monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(ctx: Context) -> Workload:
        raise RuntimeError("half-written workload")

    monkeypatch.setitem(WORKLOADS, "text-512", broken)
    ctx = Context(profile=SMOKE, backends=BACKENDS, implementations=IMPLEMENTATIONS)
    (result,) = run_workloads(["text-512"], ctx)
    assert result.rows == []
    assert "could not be built: RuntimeError: half-written workload" in table(result)
    (item,) = check(result)
    assert item.verdict == "error: could not be built: RuntimeError: half-written workload"
    assert "error: could not be built" in summary_table([result])


def test_command_line_run_writes_tables_and_json(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    output = tmp_path / "bench.json"
    arguments = ["--quick", "--only", "text-64k", "--backends", "asyncio", "--rounds", "1"]
    assert main([*arguments, "--json", str(output)]) == 0
    printed = capsys.readouterr().out
    assert "streamspec benchmarks" in printed
    assert "text-64k: TextReceiveStream decoding UTF-8 in 64 KiB chunks" in printed
    assert "summary: streamspec against the speed bounds" in printed
    document = json.loads(output.read_text())
    assert document["meta"]["command"].endswith("--json " + str(output))
    (summary,) = document["summary"]
    assert summary["workload"] == "text-64k"
    assert summary["backend"] == "asyncio"
    assert summary["verdict"] in ("pass", "FAIL")
    assert summary["floor"] > 0


def test_baseline_from_an_earlier_runs_json(results: list[WorkloadResult], tmp_path: Path) -> None:
    earlier = tmp_path / "earlier.json"
    earlier.write_text(json.dumps(to_json({"command": "test"}, results)))
    baseline = load_baseline(earlier)
    # One figure per streamspec row: every backend, every point of the series.
    subject_rows = [
        row for result in results for row in result.rows if row.variant.role is Role.SUBJECT
    ]
    assert len(baseline) == len(subject_rows)
    for result in results:
        for item in check(result):
            assert baseline[(item.workload_id, item.backend, item.point)] == item.cost
    header = next(
        line for line in summary_table(results, baseline).splitlines() if "verdict" in line
    )
    assert "x before" in header
    assert "x before" not in summary_table(results)
    broken = tmp_path / "broken.json"
    broken.write_text("{}")
    with pytest.raises(ValueError, match="not the JSON of a benchmark run"):
        load_baseline(broken)
