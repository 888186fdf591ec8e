"""The benchmark scripts keep working (tiny sizes; their timings are not asserted here:
speed targets are ratios measured by the benchmarks themselves, never timed unit tests)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

BENCHMARKS = Path(__file__).resolve().parent.parent / "benchmarks"


def run_benchmark(script: str, *args: str) -> str:
    """Run ``benchmarks/<script>`` with ``args``; return its output, failing on a bad exit."""
    result = subprocess.run(
        [sys.executable, str(BENCHMARKS / script), *args],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    return result.stdout


def test_insert_many_benchmark_runs_and_reports_every_contender() -> None:
    out = run_benchmark("bench_insert_many.py", "--rows", "300", "--repeat", "1")
    for contender in ("floor", "target", "hedystia", "sqlite-utils"):
        assert contender in out
    assert "hedystia / target =" in out


def test_sync_startup_benchmark_runs() -> None:
    out = run_benchmark("bench_sync_startup.py", "--tables", "3", "6", "--repeat", "1")
    rows = [line.split() for line in out.splitlines()[1:]]
    assert [row[0] for row in rows] == ["3", "6"]


def test_find_benchmark_runs_and_reports_every_contender() -> None:
    out = run_benchmark("bench_find.py", "--rows", "300", "--repeat", "1")
    for contender in ("floor", "target", "hedystia", "sqlite-utils"):
        assert contender in out


def test_web_benchmark_runs_and_reports_every_contender() -> None:
    out = run_benchmark("bench_web.py", "--workers", "2", "--requests", "5", "--repeat", "1")
    for contender in (
        "hedystia threads",
        "sqlmodel threads",
        "hedystia asyncio",
        "sqlmodel asyncio",
    ):
        assert contender in out
    assert "threads: hedystia / sqlmodel throughput =" in out
    assert "asyncio: hedystia / sqlmodel throughput =" in out


def test_relations_benchmark_runs_and_reports_every_contender() -> None:
    out = run_benchmark("bench_relations.py", "--users", "20", "--posts", "3", "--repeat", "1")
    for contender in ("floor", "hedystia", "sqlmodel"):
        assert contender in out
    assert "hedystia / floor =" in out and "hedystia / sqlmodel =" in out


def test_run_harness_runs_every_case_at_tiny_sizes_without_writing() -> None:
    """``benchmarks/run.py --quick --no-write``: every case of issue 14, the peers and the
    chart's measurements run (a case that raises makes it exit 2), nothing is written."""
    kept = {path: path.stat().st_mtime_ns for path in BENCHMARKS.iterdir() if path.is_file()}
    out = run_benchmark("run.py", "--quick", "--no-write")
    for case in (
        "plan_growth_1000",
        "plan_growth_3000",
        "noop_sync",
        "first_sync",
        "insert_many",
        "insert_count",
        "find",
        "insert_one",
        "get",
        "import",
    ):
        assert f"\n{case} " in out, case
    for peer in ("sqlite-utils insert_all", "SQLModel add_all", "SQLModel session.get"):
        assert peer in out
    assert "(not written: --no-write" in out
    assert {path: path.stat().st_mtime_ns for path in kept} == kept
    assert {path for path in BENCHMARKS.iterdir() if path.is_file()} == set(kept)
