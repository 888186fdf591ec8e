"""Benchmark (issue 15): ``insert_many`` of 100k rows on PostgreSQL against its floor and SQLModel.

On a throw-away PostgreSQL server (as ``bench_postgres.py`` starts one, or ``--url``), one
table of seven columns (an identity key, text, an integer, a float, a boolean, a timestamp,
JSON), ``--rows`` rows (default 100,000) given as dicts. Each run empties the table first
(``TRUNCATE .. RESTART IDENTITY``, left out of the time). The contenders:

* **floor**: the rows validated by a pydantic ``TypeAdapter(list[Model])`` (what validating
  them costs at the least) and written by psycopg's ``executemany`` of one ``INSERT`` (in
  pipeline mode), in one transaction: the least a validated insert costs;
* **copy**: psycopg ``COPY .. FROM STDIN`` of the same values, without validation (the
  fastest way in, for reference);
* **ours**: ``db.table(Model).insert_many(rows, returning=False)`` and ``insert_many(rows)``
  (instances returned, with their keys);
* **SQLModel**: ``session.add_all`` of validated ``SQLModel`` instances and ``commit`` (on
  ``postgresql+psycopg``).

Each pair runs alternately, the order swapped every round, after a warm-up run of each
(:func:`bench_sync_startup.paired_ratio`); the table shows medians of paired ratios against
the floor. Target (issue 15): ``insert_many`` <= 1.3 x the floor.

Usage: ``python benchmarks/bench_postgres_rows.py [--rows 100000] [--rounds 5] [--quick]
[--check] [--url postgresql://...]``.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Sequence
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent))

from bench_postgres import _database, _server  # noqa: E402
from bench_sync_startup import paired_ratio  # noqa: E402

#: Target of each ratio to the floor (at most).
TARGETS = {"insert_many": 1.3}

_START = datetime(2026, 1, 1, tzinfo=timezone.utc)


def make_rows(count: int) -> list[dict[str, Any]]:
    """``count`` rows as dicts, as an application hands them over."""
    return [
        {
            "name": f"user {i}",
            "age": i % 90,
            "score": i / 7,
            "active": i % 3 == 0,
            "joined": _START + timedelta(seconds=i),
            "tags": ["a", str(i % 10)],
        }
        for i in range(count)
    ]


def run(rows_count: int, rounds: int, admin: str) -> dict[str, float]:
    """The ratios of each contender to the floor, on a new database of the server ``admin``."""
    import psycopg
    import pydantic
    from psycopg.conninfo import conninfo_to_dict
    from psycopg.types.json import Jsonb
    from sqlmodel import Field as SQLField
    from sqlmodel import Session, SQLModel, create_engine

    from hedystia_models import Field, Table, database

    class Person(Table, table="people"):
        id: int | None = Field(default=None, primary_key=True)
        name: str
        age: int
        score: float
        active: bool
        joined: datetime
        tags: list[str]

    class Plain(pydantic.BaseModel):
        name: str
        age: int
        score: float
        active: bool
        joined: datetime
        tags: list[str]

    class SQLPerson(SQLModel, table=True):
        __tablename__ = "people_sqlmodel"
        id: int | None = SQLField(default=None, primary_key=True)
        name: str
        age: int
        score: float
        active: bool
        joined: datetime
        tags: str

    rows = make_rows(rows_count)
    adapter = pydantic.TypeAdapter(list[Plain])
    columns = ["name", "age", "score", "active", "joined", "tags"]
    insert = (
        'INSERT INTO "people" ("name", "age", "score", "active", "joined", "tags") '
        "VALUES (%s, %s, %s, %s, %s, %s)"
    )
    results: dict[str, float] = {}
    with _database(admin, "bench_rows") as url:
        db = database(schemas=[Person], database="postgres", connection=url, sync_schemas=True)
        floor_conn = psycopg.connect(url, autocommit=True)
        settings = conninfo_to_dict(url)
        engine = create_engine(
            "postgresql+psycopg://",
            connect_args={k: v for k, v in settings.items() if v is not None},
        )
        SQLModel.metadata.create_all(engine, tables=[SQLPerson.__table__])  # type: ignore[attr-defined]

        def emptied(table: str) -> None:
            floor_conn.execute(f'TRUNCATE "{table}" RESTART IDENTITY')

        def floor() -> float:
            emptied("people")
            start = time.perf_counter()
            valid = adapter.validate_python(rows)
            values = [(p.name, p.age, p.score, p.active, p.joined, Jsonb(p.tags)) for p in valid]
            with floor_conn.transaction(), floor_conn.cursor() as cursor:
                cursor.executemany(insert, values)
            return time.perf_counter() - start

        def copy() -> float:
            emptied("people")
            start = time.perf_counter()
            statement = f"COPY people ({', '.join(columns)}) FROM STDIN"
            with (
                floor_conn.transaction(),
                floor_conn.cursor() as cursor,
                cursor.copy(statement) as copying,
            ):
                for row in rows:
                    copying.write_row(
                        (
                            row["name"],
                            row["age"],
                            row["score"],
                            row["active"],
                            row["joined"],
                            json.dumps(row["tags"]),
                        )
                    )
            return time.perf_counter() - start

        def ours_counting() -> float:
            emptied("people")
            start = time.perf_counter()
            db.table(Person).insert_many(rows, returning=False)
            return time.perf_counter() - start

        def ours() -> float:
            emptied("people")
            start = time.perf_counter()
            db.table(Person).insert_many(rows)
            return time.perf_counter() - start

        def sqlmodel() -> float:
            emptied("people_sqlmodel")
            start = time.perf_counter()
            with Session(engine) as session:
                session.add_all(
                    SQLPerson.model_validate({**r, "tags": json.dumps(r["tags"])}) for r in rows
                )
                session.commit()
            return time.perf_counter() - start

        results["insert_many"] = paired_ratio(ours, floor, rounds)
        results["insert_many(returning=False)"] = paired_ratio(ours_counting, floor, rounds)
        results["copy"] = paired_ratio(copy, floor, rounds)
        results["sqlmodel"] = paired_ratio(sqlmodel, floor, rounds)
        db.close()
        floor_conn.close()
        engine.dispose()
    return results


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--quick", action="store_true", help="2,000 rows, 2 rounds")
    parser.add_argument("--check", action="store_true", help="exit 1 when a target is missed")
    parser.add_argument("--url", default=None, help="admin URL of a running server")
    args = parser.parse_args(argv)
    rows, rounds = (2_000, 2) if args.quick else (args.rows, args.rounds)
    with _server(args.url) as admin:
        results = run(rows, rounds, admin)
    print(f"insert_many of {rows:,} rows on PostgreSQL, time / floor (median of {rounds}):")
    print("| contender | ratio | target |\n|---|---|---|")
    for name, ratio in results.items():
        target = TARGETS.get(name.split("(")[0]) if name == "insert_many" else None
        shown = f"<= {target}" if target is not None else ""
        print(f"| {name} | {ratio:.2f} | {shown} |")
    missed = [n for n, t in TARGETS.items() if results[n] > t]
    return 1 if args.check and missed else 0


if __name__ == "__main__":
    raise SystemExit(main())
