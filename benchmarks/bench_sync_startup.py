"""Benchmark: the cost of ``database(..., sync_schemas=True)`` at process start.

Measured as ratios in one run, for model sets of growing size:

* ``floor``: ``sqlite3.connect`` plus one ``PRAGMA schema_version`` (the least any check costs);
* ``noop sync``: ``database(..., sync_schemas=True)`` on a database already in sync (the fast
  path: fingerprint + ``schema_version``, no introspection);
* ``full plan``: ``db.plan()``, which introspects every table through sqlite-utils;
* ``first sync``: creating every table from nothing.

The per-table columns show how each grows with the number of tables (it should stay flat:
linear cost). Usage: ``python benchmarks/bench_sync_startup.py [--tables 10 100 400]``.
"""

from __future__ import annotations

import argparse
import sqlite3
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from hedystia_models import Field, Table, database


def make_models(count: int) -> list[type[Table]]:
    models: list[type[Table]] = []
    for i in range(count):
        namespace: dict[str, Any] = {
            "__annotations__": {
                "id": "int | None",
                "name": "str",
                "score": "float",
                "active": "bool",
                "parent_id": "int | None",
            },
            "id": Field(default=None, primary_key=True),
            "name": Field(default="", index=True),
            "score": 0.0,
            "active": True,
            "parent_id": Field(default=None, references=f"t{i - 1}.id" if i else None),
        }
        models.append(type(f"T{i}", (Table,), namespace, table=f"t{i}"))
    return models


def best_of(repeat: int, action: Callable[[], object]) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        action()
        times.append(time.perf_counter() - start)
    return min(times)


def measure(count: int, folder: Path, repeat: int) -> tuple[float, float, float, float]:
    """(floor, noop sync, full plan, first sync) best times in seconds for ``count`` tables."""
    models = make_models(count)
    path = folder / f"bench_{count}.db"

    def first_sync() -> None:
        path.unlink(missing_ok=True)
        database(schemas=models, connection=path, sync_schemas=True).close()

    def floor() -> None:
        conn = sqlite3.connect(path)
        conn.execute("PRAGMA schema_version").fetchone()
        conn.close()

    def noop_sync() -> None:
        database(schemas=models, connection=path, sync_schemas=True).close()

    def full_plan() -> None:
        with database(schemas=models, connection=path) as db:
            assert db.plan().in_sync

    first = best_of(max(1, repeat // 2), first_sync)
    noop_sync()  # records the fingerprint
    return (best_of(repeat, floor), best_of(repeat, noop_sync), best_of(repeat, full_plan), first)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="sync start-up cost")
    parser.add_argument("--tables", type=int, nargs="+", default=[10, 100, 400])
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args(argv)
    print(
        f"{'tables':>6}  {'floor':>9}  {'noop sync':>10}  {'full plan':>10}  {'first sync':>11}"
        "   noop/floor  plan/table  first/table"
    )
    with tempfile.TemporaryDirectory() as folder:
        for count in args.tables:
            base, noop, plan, first = measure(count, Path(folder), args.repeat)
            print(
                f"{count:>6}  {base * 1000:7.2f}ms  {noop * 1000:8.2f}ms  {plan * 1000:8.2f}ms  "
                f"{first * 1000:9.2f}ms   {noop / base:9.1f}x  {plan / count * 1000:7.3f}ms"
                f"  {first / count * 1000:8.3f}ms"
            )
    return 0


if __name__ == "__main__":
    sys.exit(main())
