"""``benchmarks/bench_postgres.py`` keeps working (``--quick``: 10 tables, 3 rounds), on the
tests' PostgreSQL server (the ``postgres_server`` fixture: without PostgreSQL this skips with
one line saying how to install it; with ``HEDYSTIA_REQUIRE_POSTGRES=1`` it fails instead).
Its timings are not asserted: the target is a ratio the benchmark itself checks."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

SCRIPT = Path(__file__).resolve().parent.parent / "benchmarks" / "bench_postgres.py"


def test_postgres_benchmark_runs_and_reports_ratios(postgres_server: object) -> None:
    url = postgres_server.url()  # type: ignore[attr-defined]
    result = subprocess.run(
        [sys.executable, str(SCRIPT), "--quick", "--url", url],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    rows = [line for line in result.stdout.splitlines() if line.startswith("| 10 |")]
    assert len(rows) == 1, result.stdout
    ratios = [float(x) for x in re.findall(r"\| ([0-9.]+)x", rows[0])]
    assert len(ratios) == 2 and all(r > 0 for r in ratios), rows[0]


ROWS_SCRIPT = SCRIPT.with_name("bench_postgres_rows.py")


def test_postgres_rows_benchmark_runs_and_reports_ratios(postgres_server: object) -> None:
    url = postgres_server.url()  # type: ignore[attr-defined]
    result = subprocess.run(
        [sys.executable, str(ROWS_SCRIPT), "--quick", "--url", url],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    found = dict(re.findall(r"^\| ([a-z_()=A-Z]+) \| ([0-9.]+) \|", result.stdout, re.M))
    assert set(found) == {"insert_many", "insert_many(returning=False)", "copy", "sqlmodel"}
    assert all(float(ratio) > 0 for ratio in found.values()), result.stdout
