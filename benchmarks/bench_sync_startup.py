"""Benchmark: the cost of ``database(..., sync_schemas=True)`` at process start, and of a plan.

Two reports.

``--targets`` (issue 14): three ratios, each the median of paired ratios, the two contenders
run alternately in one process (one pair per round, the order swapped every round, so drift of
the machine hits both alike):

* ``plan growth``: the per-table cost of ``db.plan()`` on an open database of 1,000 (and of
  3,000) tables over its per-table cost on 100 tables (5 columns each, an index and a foreign
  key); ``1.0`` is linear growth;
* ``noop sync``: the start-up sync of a database already in sync, ``db.sync()`` (the fast
  path), against SQLAlchemy's ``metadata.create_all(engine)`` on the same tables (which checks
  that each exists), both on an open connection, 100 tables x 20 columns. Each round defines
  its model classes and ``MetaData`` anew, as a new process does (``fresh``);
* ``first sync``: ``db.sync()`` creating every table of a new file, against one
  ``executescript`` of the same statements in one transaction on a new file, with the same
  journal mode and ``synchronous`` level, 100 tables x 20 columns (fresh model classes too).

Opening the database and defining the models are not timed in any case: they are not the
plan or the sync.

Each is a function returning its ratio (:func:`plan_growth_ratio`, :func:`noop_sync_ratio`,
:func:`first_sync_ratio`), so a harness can import and call them; :data:`TARGETS` holds the
targets. ``--check`` exits 1 when one is missed.

Without ``--targets``: a table of best times for model sets of growing size (``--tables``):
the floor (``sqlite3.connect`` plus one ``PRAGMA schema_version``), the no-op sync, a full
plan and a first sync, with per-table costs.

Usage: ``python benchmarks/bench_sync_startup.py [--tables 10 100 400]`` or
``python benchmarks/bench_sync_startup.py --targets [--check] [--rounds 7]``.
"""

from __future__ import annotations

import argparse
import gc
import sqlite3
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from hedystia_models import Field, Table, database

#: Target of each ratio of the ``--targets`` report (at most).
TARGETS = {
    "plan growth 1000/100": 1.15,
    "plan growth 3000/100": 1.15,
    "noop sync / sqlalchemy create_all": 0.3,
    "first sync / executescript": 1.5,
}

#: (annotation, default) of the extra columns of a wide table, in turn.
_EXTRA = (
    ("str", ""),
    ("int", 0),
    ("float", 0.0),
    ("bool", False),
    ("str | None", None),
    ("int | None", None),
)


def make_models(count: int, columns: int = 5, prefix: str = "t") -> list[type[Table]]:
    """``count`` table models of ``columns`` columns (at least 5): a key, an indexed name,
    a reference to the table before, and plain columns of mixed kinds."""
    models: list[type[Table]] = []
    for i in range(count):
        annotations: dict[str, Any] = {
            "id": "int | None",
            "name": "str",
            "score": "float",
            "active": "bool",
            "parent_id": "int | None",
        }
        namespace: dict[str, Any] = {
            "__annotations__": annotations,
            "id": Field(default=None, primary_key=True),
            "name": Field(default="", index=True),
            "score": 0.0,
            "active": True,
            "parent_id": Field(default=None, references=f"{prefix}{i - 1}.id" if i else None),
        }
        for c in range(5, columns):
            annotation, default = _EXTRA[c % len(_EXTRA)]
            annotations[f"c{c}"] = annotation
            namespace[f"c{c}"] = default
        models.append(type(f"{prefix.upper()}{i}", (Table,), namespace, table=f"{prefix}{i}"))
    return models


def best_of(repeat: int, action: Callable[[], object]) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        action()
        times.append(time.perf_counter() - start)
    return min(times)


def _timed(action: Callable[[], float | None]) -> float:
    """The time ``action`` took: the one it returns when it times itself (leaving out its
    set-up), else the time of the whole call."""
    start = time.perf_counter()
    own = action()
    return time.perf_counter() - start if own is None else own


def paired_ratio(
    first: Callable[[], float | None],
    second: Callable[[], float | None],
    rounds: int,
    *,
    scale: float = 1.0,
) -> float:
    """The median over ``rounds`` of ``scale * time(first) / time(second)``, the two run
    alternately (which goes first swaps every round) after one warm-up run of each. An action
    that returns a number has timed itself (see :func:`_timed`)."""
    first()
    second()
    ratios = []
    for round_ in range(rounds):
        gc.collect()
        if round_ % 2:
            b = _timed(second)
            a = _timed(first)
        else:
            a = _timed(first)
            b = _timed(second)
        ratios.append(scale * a / b)
    return statistics.median(ratios)


# -- the three cases of issue 14 ----------------------------------------------------------------


def _synced_file(folder: Path, models: list[type[Table]], name: str) -> Path:
    path = folder / name
    path.unlink(missing_ok=True)
    database(schemas=models, connection=path, sync_schemas=True).close()
    return path


def plan_growth_ratio(
    small: int = 100, large: int = 1000, rounds: int = 7, columns: int = 5
) -> float:
    """Per-table cost of ``db.plan()`` on ``large`` tables over its per-table cost on
    ``small`` tables (median of paired ratios; 1.0 is linear growth)."""
    with tempfile.TemporaryDirectory() as name:
        folder = Path(name)
        small_models = make_models(small, columns, prefix="s")
        large_models = make_models(large, columns, prefix="l")
        small_path = _synced_file(folder, small_models, "small.db")
        large_path = _synced_file(folder, large_models, "large.db")
        with (
            database(schemas=small_models, connection=small_path) as small_db,
            database(schemas=large_models, connection=large_path) as large_db,
        ):

            def plan_small() -> None:
                assert small_db.plan().in_sync

            def plan_large() -> None:
                assert large_db.plan().in_sync

            return paired_ratio(plan_large, plan_small, rounds, scale=small / large)


def _sqlalchemy_metadata(count: int, columns: int) -> Any:
    """SQLAlchemy tables of the same shape as :func:`make_models`' (``sa_`` names)."""
    from sqlalchemy import Boolean, Column, Float, ForeignKey, Integer, MetaData, String
    from sqlalchemy import Table as SATable

    kinds = {"str": String, "int": Integer, "float": Float, "bool": Boolean}
    metadata = MetaData()
    for i in range(count):
        cols = [
            Column("id", Integer, primary_key=True),
            Column("name", String, nullable=False, default="", index=True),
            Column("score", Float, nullable=False, default=0.0),
            Column("active", Boolean, nullable=False, default=True),
            Column("parent_id", Integer, ForeignKey(f"sa_{i - 1}.id") if i else None),
        ]
        for c in range(5, columns):
            annotation, default = _EXTRA[c % len(_EXTRA)]
            kind = kinds[annotation.split(" ")[0]]
            cols.append(Column(f"c{c}", kind, nullable=default is not None, default=default))
        SATable(f"sa_{i}", metadata, *cols)
    return metadata


def noop_sync_ratio(
    tables: int = 100, columns: int = 20, rounds: int = 15, *, fresh: bool = True
) -> float:
    """The start-up sync of an unchanged database, ``db.sync()`` (the fast path), over
    SQLAlchemy's ``metadata.create_all(engine)`` on an unchanged database (which checks that
    each table exists), both on an open connection (median of paired ratios).

    ``fresh``: each round defines its model classes and its ``MetaData`` anew, as a new
    process does, so nothing a previous sync computed from them is reused; opening the
    database and defining the models are not timed (they are not the sync)."""
    from sqlalchemy import create_engine

    with tempfile.TemporaryDirectory() as name:
        folder = Path(name)
        path = _synced_file(folder, make_models(tables, columns, prefix="n"), "noop.db")
        engine = create_engine(f"sqlite:///{folder / 'sqlalchemy.db'}")
        _sqlalchemy_metadata(tables, columns).create_all(engine)
        models = make_models(tables, columns, prefix="n")
        metadata = _sqlalchemy_metadata(tables, columns)
        try:

            def hedystia() -> float:
                chosen = make_models(tables, columns, prefix="n") if fresh else models
                with database(schemas=chosen, connection=path) as db:
                    start = time.perf_counter()
                    assert db.sync().in_sync
                    return time.perf_counter() - start

            def sqlalchemy() -> float:
                chosen = _sqlalchemy_metadata(tables, columns) if fresh else metadata
                start = time.perf_counter()
                chosen.create_all(engine)
                return time.perf_counter() - start

            return paired_ratio(hedystia, sqlalchemy, rounds)
        finally:
            engine.dispose()


def _remove(target: Path) -> None:
    for suffix in ("", "-wal", "-shm", "-journal"):
        Path(f"{target}{suffix}").unlink(missing_ok=True)


def first_sync_ratio(
    tables: int = 100, columns: int = 20, rounds: int = 11, *, fresh: bool = True
) -> float:
    """``db.sync()`` creating every table of a new file over ``executescript`` of the same
    statements (those the sync runs) in one transaction on a new file, the connection in the
    same journal mode and ``synchronous`` level (median of paired ratios). Opening the file
    is left out of both; ``fresh``: each round defines its model classes anew (see
    :func:`noop_sync_ratio`)."""
    models = make_models(tables, columns, prefix="f")
    with tempfile.TemporaryDirectory() as name:
        folder = Path(name)
        path = folder / "first.db"
        floor_path = folder / "floor.db"
        with database(schemas=models, connection=folder / "scratch.db") as scratch:
            statements = scratch.plan().sql()
            mode = scratch.raw("PRAGMA journal_mode")[0]["journal_mode"]
            level = scratch.raw("PRAGMA synchronous")[0]["synchronous"]
        script = "BEGIN;\n" + ";\n".join(statements) + ";\nCOMMIT;"

        def hedystia() -> float:
            _remove(path)
            chosen = make_models(tables, columns, prefix="f") if fresh else models
            with database(schemas=chosen, connection=path) as db:
                # The file's journal mode is set by the first write on a connection (so that a
                # database only read is never changed); the floor sets it before its clock
                # starts, so this does too, with an empty write transaction.
                with db.transaction():
                    pass
                start = time.perf_counter()
                db.sync()
                return time.perf_counter() - start

        def floor() -> float:
            _remove(floor_path)
            conn = sqlite3.connect(floor_path)
            try:
                conn.execute(f"PRAGMA journal_mode = {mode}").fetchone()
                conn.execute(f"PRAGMA synchronous = {level}")
                start = time.perf_counter()
                conn.executescript(script)
                return time.perf_counter() - start
            finally:
                conn.close()

        return paired_ratio(hedystia, floor, rounds)


def targets_report(rounds: int | None = None) -> dict[str, float]:
    """Every ratio of :data:`TARGETS`, measured (``rounds`` overrides each case's default)."""
    extra = {} if rounds is None else {"rounds": rounds}
    return {
        "plan growth 1000/100": plan_growth_ratio(100, 1000, **extra),
        "plan growth 3000/100": plan_growth_ratio(100, 3000, **{"rounds": 5, **extra}),
        "noop sync / sqlalchemy create_all": noop_sync_ratio(**extra),
        "first sync / executescript": first_sync_ratio(**extra),
    }


# -- the growth table ---------------------------------------------------------------------------


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


def growth_table(tables: list[int], repeat: int) -> None:
    print(
        f"{'tables':>6}  {'floor':>9}  {'noop sync':>10}  {'full plan':>10}  {'first sync':>11}"
        "   noop/floor  plan/table  first/table"
    )
    with tempfile.TemporaryDirectory() as folder:
        for count in tables:
            base, noop, plan, first = measure(count, Path(folder), repeat)
            print(
                f"{count:>6}  {base * 1000:7.2f}ms  {noop * 1000:8.2f}ms  {plan * 1000:8.2f}ms  "
                f"{first * 1000:9.2f}ms   {noop / base:9.1f}x  {plan / count * 1000:7.3f}ms"
                f"  {first / count * 1000:8.3f}ms"
            )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="sync start-up cost")
    parser.add_argument("--tables", type=int, nargs="+", default=[10, 100, 400])
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--targets", action="store_true", help="the ratios of issue 14")
    parser.add_argument("--check", action="store_true", help="with --targets: exit 1 on a miss")
    parser.add_argument("--rounds", type=int, default=None, help="with --targets: pairs per case")
    args = parser.parse_args(argv)
    if not (args.targets or args.check):
        growth_table(args.tables, args.repeat)
        return 0
    missed = 0
    for case, ratio in targets_report(args.rounds).items():
        target = TARGETS[case]
        verdict = "met" if ratio <= target else "MISSED"
        missed += ratio > target
        print(f"{case:<36} {ratio:6.3f}   (target <= {target}: {verdict})")
    return 1 if args.check and missed else 0


if __name__ == "__main__":
    sys.exit(main())
