"""Benchmark: reading rows back as model instances, as ratios measured in one run.

Contenders, each reading the same 100,000 rows from one database file:

* ``floor``: ``sqlite3`` ``fetchall()`` of plain tuples, no conversion at all;
* ``target``: ``fetchall()`` then ``TypeAdapter(list[Model]).validate_python`` over dicts: the
  least a validated read can cost;
* ``hedystia``: ``db.table(Model).find()``: decoding stored values and validating instances;
* ``sqlite-utils``: ``Table.rows`` as dicts (a peer; it returns raw values, not models).

Target (issue #14): hedystia / target <= 1.0, measured as the issue states it (medians of
paired ratios) by ``benchmarks/bench_rows.py`` (``bench_find``); this script also shows the
floor and sqlite-utils.

Usage: ``python benchmarks/bench_find.py [--rows N] [--repeat R]``.
"""

from __future__ import annotations

import argparse
import gc
import sqlite3
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pydantic
import sqlite_utils

from hedystia_models import database

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_insert_many import Event, make_rows

SELECT = 'SELECT "id", "name", "score", "count", "active", "note", "at" FROM "events"'
KEYS = ("id", "name", "score", "count", "active", "note", "at")
_ADAPTER = pydantic.TypeAdapter(list[Event])


def best_of(repeat: int, action: Callable[[], Any]) -> float:
    times = []
    for _ in range(repeat):
        gc.collect()
        start = time.perf_counter()
        action()
        times.append(time.perf_counter() - start)
    return min(times)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="find() of many rows")
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "find.db"
        with database(schemas=[Event], connection=path, sync_schemas=True) as db:
            db.table(Event).insert_many(make_rows(args.rows))
        conn = sqlite3.connect(path)
        db = database(schemas=[Event], connection=path)
        peer = sqlite_utils.Database(path)
        repo = db.table(Event)

        def floor() -> Any:
            return conn.execute(SELECT).fetchall()

        def target() -> Any:
            rows = conn.execute(SELECT).fetchall()
            return _ADAPTER.validate_python([dict(zip(KEYS, row, strict=True)) for row in rows])

        def hedystia() -> Any:
            found = repo.find()
            assert len(found) == args.rows
            return found

        def peer_rows() -> Any:
            return list(peer["events"].rows)

        results = {
            name: best_of(args.repeat, action)
            for name, action in (
                ("floor", floor),
                ("target", target),
                ("hedystia", hedystia),
                ("sqlite-utils", peer_rows),
            )
        }
        db.close()
        conn.close()
        peer.close()
    print(f"reading {args.rows:,} rows, best of {args.repeat}:")
    for name, seconds in results.items():
        print(
            f"  {name:<13} {seconds * 1000:9.1f} ms  {seconds / results['floor']:6.2f}x floor  "
            f"{seconds / results['target']:5.2f}x target"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
