"""Benchmark: ``insert_many`` against the floor and peers, as ratios measured in one run.

Target (issue #4, tightened by issue #14): ``Repository.insert_many`` of 100,000 rows within
1.0x the time of a Pydantic ``TypeAdapter(list[Model])`` validation followed by a plain
``sqlite3.executemany`` of the same rows. ``benchmarks/bench_rows.py`` measures it as issue 14
states it (medians of paired ratios), with ``insert_many(rows, returning=False)`` and its
peak memory beside it; this script also shows the floor and sqlite-utils.

Contenders, each inserting the same rows into a fresh in-memory database:

* ``floor``: plain ``sqlite3.executemany`` of ready-made tuples, no validation at all;
* ``target``: ``TypeAdapter(list[Model]).validate_python`` + ``executemany`` (the reference);
* ``hedystia``: ``db.table(Model).insert_many(rows)``: validation, encoding, generated keys;
* ``hedystia-count``: ``insert_many(rows, returning=False)``: the same rows, no instances;
* ``sqlite-utils``: ``Table.insert_all(rows)`` (a peer; it does not validate).

Usage: ``python benchmarks/bench_insert_many.py [--rows N] [--repeat R] [--check]``. With
``--check`` the script exits 1 when hedystia / target exceeds the 1.0 target.
"""

from __future__ import annotations

import argparse
import gc
import sqlite3
import statistics
import sys
import time
from collections.abc import Callable
from datetime import datetime, timedelta, timezone
from typing import Any

import pydantic
import sqlite_utils

from hedystia_models import Field, Table, database

TARGET_RATIO = 1.0


class Event(Table, table="events"):
    id: int | None = Field(default=None, primary_key=True)
    name: str
    score: float
    count: int
    active: bool
    note: str | None = None
    at: datetime


COLUMNS = ("name", "score", "count", "active", "note", "at")
CREATE = (
    'CREATE TABLE "events" ("id" INTEGER PRIMARY KEY, "name" TEXT NOT NULL, '
    '"score" REAL NOT NULL, "count" INTEGER NOT NULL, "active" BOOLEAN NOT NULL, '
    '"note" TEXT, "at" DATETIME NOT NULL)'
)
INSERT = f'INSERT INTO "events" ({", ".join(COLUMNS)}) VALUES (?, ?, ?, ?, ?, ?)'


def make_rows(n: int) -> list[dict[str, Any]]:
    start = datetime(2026, 1, 1, tzinfo=timezone.utc)
    return [
        {
            "name": f"event {i}",
            "score": i / 7,
            "count": i,
            "active": i % 2 == 0,
            "note": None if i % 3 else f"note {i}",
            "at": start + timedelta(seconds=i),
        }
        for i in range(n)
    ]


def run_floor(rows: list[dict[str, Any]]) -> None:
    tuples = [
        (r["name"], r["score"], r["count"], int(r["active"]), r["note"], r["at"].isoformat(" "))
        for r in rows
    ]
    conn = sqlite3.connect(":memory:")
    conn.execute(CREATE)
    start = time.perf_counter()
    with conn:
        conn.executemany(INSERT, tuples)
    _record("floor", time.perf_counter() - start)
    conn.close()


_ADAPTER = pydantic.TypeAdapter(list[Event])


def run_target(rows: list[dict[str, Any]]) -> None:
    conn = sqlite3.connect(":memory:")
    conn.execute(CREATE)
    start = time.perf_counter()
    models = _ADAPTER.validate_python(rows)
    with conn:
        conn.executemany(
            INSERT,
            [
                (m.name, m.score, m.count, int(m.active), m.note, m.at.isoformat(" "))
                for m in models
            ],
        )
    _record("target", time.perf_counter() - start)
    conn.close()


def run_hedystia(rows: list[dict[str, Any]]) -> None:
    db = database(schemas=[Event], connection=":memory:", sync_schemas=True)
    repo = db.table(Event)
    start = time.perf_counter()
    inserted = repo.insert_many(rows)
    _record("hedystia", time.perf_counter() - start)
    assert inserted[-1].id == len(rows)
    db.close()


def run_hedystia_count(rows: list[dict[str, Any]]) -> None:
    db = database(schemas=[Event], connection=":memory:", sync_schemas=True)
    repo = db.table(Event)
    start = time.perf_counter()
    inserted = repo.insert_many(rows, returning=False)
    _record("hedystia-count", time.perf_counter() - start)
    assert inserted == len(rows)
    db.close()


def run_sqlite_utils(rows: list[dict[str, Any]]) -> None:
    db = sqlite_utils.Database(memory=True)
    db.execute(CREATE)
    start = time.perf_counter()
    db["events"].insert_all(rows, batch_size=1000)
    _record("sqlite-utils", time.perf_counter() - start)
    db.close()


_timings: dict[str, list[float]] = {}


def _record(name: str, seconds: float) -> None:
    _timings.setdefault(name, []).append(seconds)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--check", action="store_true", help="fail when over the target")
    args = parser.parse_args(argv)
    rows = make_rows(args.rows)
    contenders: list[Callable[[list[dict[str, Any]]], None]] = [
        run_floor,
        run_target,
        run_hedystia,
        run_hedystia_count,
        run_sqlite_utils,
    ]
    _timings.clear()
    for _ in range(args.repeat):
        for run in contenders:  # interleaved, so drift in machine speed hits all alike
            gc.collect()
            run(rows)
    best = {name: min(times) for name, times in _timings.items()}
    print(f"insert_many of {args.rows:,} rows, best of {args.repeat} (median in brackets):")
    for name, seconds in best.items():
        median = statistics.median(_timings[name])
        print(
            f"  {name:<13} {seconds * 1000:9.1f} ms  [{median * 1000:9.1f} ms]  "
            f"{seconds / best['floor']:5.2f}x floor  {seconds / best['target']:5.2f}x target"
        )
    ratio = best["hedystia"] / best["target"]
    verdict = "within" if ratio <= TARGET_RATIO else "OVER"
    print(f"hedystia / target = {ratio:.3f} ({verdict} the {TARGET_RATIO}x target)")
    return 1 if args.check and ratio > TARGET_RATIO else 0


if __name__ == "__main__":
    sys.exit(main())
