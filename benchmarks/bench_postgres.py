"""Benchmark (issue 15): the PostgreSQL engine's schema side against SQLAlchemy and Alembic.

On a throw-away PostgreSQL server (``tests/postgres_server.py``, or one already running:
``--url`` / ``--server-dir``), for each number of tables (``--tables``, default 100 and
1,000; the models of :func:`bench_sync_startup.make_models`: 5 columns each, a key, an indexed
name and a reference to the table before), two databases of the same server hold the same
schema, one created by ``hedystia_models.engine.postgres.sync.sync``, the other by SQLAlchemy
``MetaData.create_all`` of equivalent tables (the same column types, ``NOT NULL``, server
defaults, identity key, index and foreign key). Then:

* ``noop sync``: ``sync(conn, specs)`` on the database already in sync (the fast path: one
  read of ``__hedystia_state`` and one ``catalog_fingerprint``) against
  ``metadata.create_all(engine)`` on its already-created schema (``checkfirst``: it checks that
  each table exists and creates nothing);
* ``full plan``: ``plan(conn, specs)`` (introspection of the schema and the diff) against
  Alembic's ``compare_metadata(MigrationContext.configure(connection), metadata)``; target:
  ours <= 0.1 x Alembic (``--check`` exits 1 when a size misses it);
* ``catalog_fingerprint`` alone, and a ``SELECT 1`` round trip (the floor of any query), on
  our connection.

Ours runs on a connection opened by ``hedystia_models.engine.postgres.connection.connect``;
theirs through ``sqlalchemy.create_engine("postgresql+psycopg://...")`` (a pooled connection,
checked out inside the timed call, as ``create_all`` does itself). Both sides reuse their specs
and ``MetaData`` across rounds (a model's spec digest is made when its class is created, so a
new process's sync does no more work). The two contenders of a case run alternately, the order
swapped every round, ``gc.collect()`` before each run, after one warm-up run of each
(:func:`bench_sync_startup.paired_ratio`); the table shows the median time of each and the
median of the paired ratios.

:func:`run` returns the numbers (``run([100, 1000], 7)``) for other scripts; :data:`TARGETS`
holds the target. ``--quick`` is 10 tables and 3 rounds.

Usage: ``python benchmarks/bench_postgres.py [--tables 100 1000] [--rounds 7] [--quick]
[--check] [--url postgresql://user@/postgres?host=/socket/dir&port=5432 | --server-dir DIR]``.
"""

from __future__ import annotations

import argparse
import gc
import importlib
import os
import statistics
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from types import ModuleType
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(ROOT / "tests"))

from bench_sync_startup import make_models, paired_ratio  # noqa: E402

#: Target of each ratio (at most); the noop sync ratio is reported only.
TARGETS = {"plan_ratio": 0.1}

#: Columns of the table (key in :func:`run`'s numbers, heading).
_COLUMNS = (
    ("noop_sync", "noop sync"),
    ("create_all", "create_all"),
    ("noop_ratio", "ratio"),
    ("plan", "plan"),
    ("compare_metadata", "compare_metadata"),
    ("plan_ratio", "ratio"),
    ("catalog_fingerprint", "fingerprint"),
    ("round_trip", "SELECT 1"),
)


def _postgres_server() -> ModuleType:
    """``tests/postgres_server.py`` (imported by name, as the tests' conftest does)."""
    return importlib.import_module("postgres_server")


def sqlalchemy_metadata(count: int) -> Any:
    """SQLAlchemy tables creating the same schema as :func:`make_models`' ``count`` models do
    on PostgreSQL (``t0`` .. ``t<count-1>``: identity ``BIGINT`` key, ``TEXT`` name with its
    index, ``DOUBLE PRECISION``, ``BOOLEAN``, ``BIGINT`` reference to the table before, the
    same server defaults and index names)."""
    from sqlalchemy import (
        BigInteger,
        Boolean,
        Column,
        Double,
        ForeignKey,
        Identity,
        Index,
        MetaData,
        Table,
        Text,
        text,
    )
    from sqlalchemy.schema import SchemaItem

    metadata = MetaData()
    for i in range(count):
        name = f"t{i}"
        reference: list[SchemaItem] = [ForeignKey(f"t{i - 1}.id")] if i else []
        Table(
            name,
            metadata,
            Column("id", BigInteger, Identity(always=False), primary_key=True),
            Column("name", Text, nullable=False, server_default=text("''")),
            Column("score", Double, nullable=False, server_default=text("0.0")),
            Column("active", Boolean, nullable=False, server_default=text("true")),
            Column("parent_id", BigInteger, *reference),
            Index(f"{name}_name_index", "name"),
        )
    return metadata


def _recorded(action: Callable[[], object], sink: list[float]) -> Callable[[], float]:
    """``action`` timed after a ``gc.collect()``; each time is returned and kept in ``sink``."""

    def timed() -> float:
        gc.collect()
        start = time.perf_counter()
        action()
        elapsed = time.perf_counter() - start
        sink.append(elapsed)
        return elapsed

    return timed


def _pair(
    ours: Callable[[], object], theirs: Callable[[], object], rounds: int
) -> tuple[float, float, float]:
    """(median time of ours, median time of theirs, median of paired ratios ours / theirs);
    the warm-up run of each is left out of the medians."""
    mine: list[float] = []
    peer: list[float] = []
    ratio = paired_ratio(_recorded(ours, mine), _recorded(theirs, peer), rounds)
    return statistics.median(mine[1:]), statistics.median(peer[1:]), ratio


def _median_time(action: Callable[[], object], rounds: int) -> float:
    times: list[float] = []
    timed = _recorded(action, times)
    for _ in range(rounds + 1):
        timed()
    return statistics.median(times[1:])


@contextmanager
def _server(url: str | None) -> Iterator[str]:
    """The admin URL of the server to use: ``url``, or a throw-away server started here."""
    if url is not None:
        yield url
        return
    module = _postgres_server()
    bindir = module.find_binaries()
    if bindir is None:
        raise SystemExit(module.INSTALL_HINT)
    with module.running_server(bindir) as server:
        yield str(server.url())


@contextmanager
def _database(admin: str, name: str) -> Iterator[str]:
    """A new empty database ``name`` on the server of ``admin`` (its libpq conninfo), dropped
    after."""
    import psycopg
    from psycopg.conninfo import make_conninfo

    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}" TEMPLATE template0')
    try:
        yield make_conninfo(admin, dbname=name)
    finally:
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _sqlalchemy_url(conninfo: str) -> Any:
    """The ``postgresql+psycopg`` URL of the libpq ``conninfo`` (the socket directory as the
    ``host`` query parameter)."""
    from psycopg.conninfo import conninfo_to_dict
    from sqlalchemy.engine import URL

    params = {k: str(v) for k, v in conninfo_to_dict(conninfo).items() if v is not None}
    query: dict[str, str] = {k: params[k] for k in ("host", "port") if k in params}
    return URL.create(
        "postgresql+psycopg",
        username=params.get("user"),
        password=params.get("password"),
        database=params.get("dbname"),
        query=query,
    )


def measure(admin: str, count: int, rounds: int) -> dict[str, float]:
    """The numbers of one size (seconds, and the ratios) on the server of ``admin``."""
    from alembic.autogenerate import compare_metadata
    from alembic.runtime.migration import MigrationContext
    from sqlalchemy import create_engine

    from hedystia_models.engine.postgres.connection import connect
    from hedystia_models.engine.postgres.introspect import catalog_fingerprint
    from hedystia_models.engine.postgres.sync import plan, sync

    tag = f"bench_{os.getpid()}_{count}"
    specs = [model.table_spec() for model in make_models(count)]
    metadata = sqlalchemy_metadata(count)
    with _database(admin, f"{tag}_ours") as ours_url, _database(admin, f"{tag}_sa") as sa_url:
        conn, _ = connect(ours_url)
        engine = create_engine(_sqlalchemy_url(sa_url))
        try:
            sync(conn, specs)
            metadata.create_all(engine)
            # Both schemas are in sync with their models before anything is timed.
            assert plan(conn, specs).in_sync, "hedystia: the synced schema has drift"
            assert not sync(conn, specs).sql(), "hedystia: the no-op sync changed something"
            with engine.connect() as connection:
                found = compare_metadata(MigrationContext.configure(connection), metadata)
            assert not found, f"alembic: the created schema has drift: {found[:3]}"

            def ours_noop() -> None:
                sync(conn, specs)

            def theirs_noop() -> None:
                metadata.create_all(engine)

            def ours_plan() -> None:
                plan(conn, specs)

            def theirs_plan() -> None:
                with engine.connect() as connection:
                    compare_metadata(MigrationContext.configure(connection), metadata)

            noop, create_all, noop_ratio = _pair(ours_noop, theirs_noop, rounds)
            full, compare, plan_ratio = _pair(ours_plan, theirs_plan, rounds)
            fingerprint = _median_time(lambda: catalog_fingerprint(conn), rounds)
            round_trip = _median_time(lambda: conn.execute("SELECT 1").fetchone(), rounds)
        finally:
            conn.close()
            engine.dispose()
    return {
        "noop_sync": noop,
        "create_all": create_all,
        "noop_ratio": noop_ratio,
        "plan": full,
        "compare_metadata": compare,
        "plan_ratio": plan_ratio,
        "catalog_fingerprint": fingerprint,
        "round_trip": round_trip,
    }


def run(tables: list[int], rounds: int, *, url: str | None = None) -> dict[int, dict[str, float]]:
    """For each number of ``tables``: the median times in seconds (``noop_sync``,
    ``create_all``, ``plan``, ``compare_metadata``, ``catalog_fingerprint``, ``round_trip``)
    and the medians of paired ratios (``noop_ratio``: ``noop_sync / create_all``;
    ``plan_ratio``: ``plan / compare_metadata``), over ``rounds`` rounds. ``url``: the
    ``postgresql://`` URL of a running server's admin database; ``None`` starts a throw-away
    server for the run (``SystemExit`` without the server binaries)."""
    with _server(url) as admin:
        return {count: measure(admin, count, rounds) for count in tables}


def missed_targets(results: dict[int, dict[str, float]]) -> list[str]:
    """A line for each ratio of :data:`TARGETS` a size misses."""
    return [
        f"{count} tables: {key} {numbers[key]:.3f} > {target}"
        for count, numbers in results.items()
        for key, target in TARGETS.items()
        if numbers[key] > target
    ]


def table(results: dict[int, dict[str, float]]) -> str:
    """The numbers as a Markdown table (times in ms, ratios as ``x``)."""
    heads = ["tables", *(head for _, head in _COLUMNS)]
    lines = [
        "| " + " | ".join(heads) + " |",
        "| " + " | ".join("---:" for _ in heads) + " |",
    ]
    for count, numbers in results.items():
        cells = [f"{count:,}"]
        for key, _ in _COLUMNS:
            value = numbers[key]
            cells.append(f"{value:.3f}x" if key.endswith("_ratio") else f"{value * 1000:.2f} ms")
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="PostgreSQL schema benchmarks (issue 15)")
    parser.add_argument("--tables", type=int, nargs="+", default=[100, 1000])
    parser.add_argument("--rounds", type=int, default=7, help="pairs per case")
    parser.add_argument("--quick", action="store_true", help="10 tables, 3 rounds")
    parser.add_argument("--check", action="store_true", help="exit 1 when a target is missed")
    server = parser.add_mutually_exclusive_group()
    server.add_argument("--url", help="postgresql:// URL of a running server's admin database")
    server.add_argument("--server-dir", help="socket directory of a running server")
    parser.add_argument("--port", type=int, default=5432, help="with --server-dir")
    parser.add_argument(
        "--user", default=None, help="with --server-dir (default: as tests/postgres_server.py)"
    )
    args = parser.parse_args(argv)
    tables, rounds = ([10], 3) if args.quick else (args.tables, args.rounds)
    url = args.url
    if args.server_dir is not None:
        # The user tests/postgres_server.py makes the server's superuser.
        user = args.user or (
            "postgres" if os.geteuid() == 0 else os.environ.get("USER", "postgres")
        )
        url = f"postgresql://{user}@/postgres?host={args.server_dir}&port={args.port}"
    results = run(tables, rounds, url=url)
    print(
        f"PostgreSQL schema, {rounds} rounds: noop sync vs SQLAlchemy create_all, plan vs "
        "Alembic compare_metadata (medians; ratio = median of paired ratios)"
    )
    print(table(results))
    missed = missed_targets(results)
    for line in missed:
        print(f"MISSED: {line}")
    if not missed:
        print(f"targets met: {', '.join(f'{k} <= {v}' for k, v in TARGETS.items())}")
    return 1 if args.check and missed else 0


if __name__ == "__main__":
    sys.exit(main())
