"""Benchmark: a web app's requests on one shared database, against SQLModel, in one run.

Target (issue #12): with N threads, and with N asyncio tasks, each making M requests, ours at
least 1.5x SQLModel's throughput with a p99 latency no worse.

A request is what a typical create endpoint does: validate a row, insert it, read it back by
its key. Every contender works on a fresh database file in WAL mode, with the same
``synchronous`` level, the same table and the same rows:

* ``hedystia threads``: N threads sharing one ``Database``: ``repo.insert(row)`` then
  ``repo.get(key)``;
* ``hedystia asyncio``: N tasks on one event loop, through ``db.aio``: ``await repo.insert``,
  ``await repo.get``;
* ``sqlmodel threads``: N threads sharing one engine, one ``Session`` per request:
  ``Model.model_validate(row)``, ``add``, ``commit``, ``refresh`` (the read by key), the
  pattern of SQLModel's FastAPI tutorial;
* ``sqlmodel asyncio``: N tasks, each request that same function run with
  ``asyncio.to_thread``, as FastAPI runs a ``def`` endpoint.

Throughput is requests per second of wall time (best of R runs); latencies are each request's
own time from start to end, over all R runs (for asyncio tasks, waiting for the loop counts).

Usage: ``python benchmarks/bench_web.py [--workers N] [--requests M] [--repeat R] [--check]``.
With ``--check`` the script exits 1 when a target is missed.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import statistics
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

from sqlalchemy import event
from sqlmodel import Field as SQLField
from sqlmodel import Session, SQLModel, create_engine

from hedystia_models import Field, Table, database

THROUGHPUT_TARGET = 1.5  # ours / SQLModel, at least
P99_TARGET = 1.0  # ours / SQLModel, at most
BUSY_TIMEOUT = 30.0  # seconds, for both
START = datetime(2026, 1, 1, tzinfo=timezone.utc)


class Visit(Table, table="visits"):
    id: int | None = Field(default=None, primary_key=True)
    path: str = Field(max_length=200)
    agent: str
    status: int
    duration_ms: float
    at: datetime


class SQLVisit(SQLModel, table=True):
    __tablename__ = "visits"
    id: int | None = SQLField(default=None, primary_key=True)
    path: str = SQLField(max_length=200)
    agent: str
    status: int
    duration_ms: float
    at: datetime


def make_row(worker: int, i: int) -> dict[str, Any]:
    return {
        "path": f"/items/{worker}/{i}",
        "agent": "bench/1.0",
        "status": 200 if i % 10 else 404,
        "duration_ms": i / 7,
        "at": START + timedelta(seconds=i),
    }


@dataclass
class Run:
    seconds: float
    latencies: list[float]


# -- the two libraries' requests --------------------------------------------------------------


def open_hedystia(path: Path) -> Any:
    return database(schemas=[Visit], connection=path, sync_schemas=True, busy_timeout=BUSY_TIMEOUT)


def open_sqlmodel(path: Path, synchronous: str) -> Any:
    engine = create_engine(
        f"sqlite:///{path}",
        connect_args={"check_same_thread": False, "timeout": BUSY_TIMEOUT},
    )

    @event.listens_for(engine, "connect")
    def set_pragmas(conn: Any, _record: Any) -> None:
        cursor = conn.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute(f"PRAGMA synchronous={synchronous}")
        cursor.close()

    SQLModel.metadata.create_all(engine)
    return engine


def hedystia_request(repo: Any, row: dict[str, Any]) -> None:
    visit = repo.insert(row)
    assert repo.get(visit.id) == visit


async def hedystia_request_async(repo: Any, row: dict[str, Any]) -> None:
    visit = await repo.insert(row)
    assert await repo.get(visit.id) == visit


def sqlmodel_request(engine: Any, row: dict[str, Any]) -> None:
    with Session(engine) as session:
        visit = SQLVisit.model_validate(row)
        session.add(visit)
        session.commit()
        session.refresh(visit)
        assert visit.id is not None and visit.path == row["path"]


# -- the two ways of making concurrent requests -----------------------------------------------


def in_threads(workers: int, requests: int, request: Callable[[dict[str, Any]], None]) -> Run:
    latencies: list[list[float]] = [[] for _ in range(workers)]
    failures: list[BaseException] = []
    barrier = threading.Barrier(workers + 1)

    def work(n: int) -> None:
        own = latencies[n]
        try:
            barrier.wait()
            for i in range(requests):
                row = make_row(n, i)
                start = time.perf_counter()
                request(row)
                own.append(time.perf_counter() - start)
        except BaseException as exc:  # raised again by the main thread
            failures.append(exc)

    threads = [threading.Thread(target=work, args=(n,)) for n in range(workers)]
    for thread in threads:
        thread.start()
    barrier.wait()
    start = time.perf_counter()
    for thread in threads:
        thread.join()
    seconds = time.perf_counter() - start
    if failures:
        raise failures[0]
    return Run(seconds, [t for own in latencies for t in own])


def in_tasks(workers: int, requests: int, request: Callable[[dict[str, Any]], Any]) -> Run:
    latencies: list[float] = []

    async def work(n: int) -> None:
        for i in range(requests):
            row = make_row(n, i)
            start = time.perf_counter()
            await request(row)
            latencies.append(time.perf_counter() - start)

    async def main() -> float:
        start = time.perf_counter()
        await asyncio.gather(*(work(n) for n in range(workers)))
        return time.perf_counter() - start

    return Run(asyncio.run(main()), latencies)


# -- the contenders ---------------------------------------------------------------------------


def hedystia_threads(folder: Path, args: argparse.Namespace) -> Run:
    db = open_hedystia(folder / "hedystia-threads.db")
    repo = db.table(Visit)
    try:
        run = in_threads(args.workers, args.requests, lambda row: hedystia_request(repo, row))
        assert repo.count() == args.workers * args.requests
    finally:
        db.close()
    return run


def hedystia_asyncio(folder: Path, args: argparse.Namespace) -> Run:
    db = open_hedystia(folder / "hedystia-asyncio.db")
    repo = db.aio.table(Visit)
    try:
        run = in_tasks(args.workers, args.requests, lambda row: hedystia_request_async(repo, row))
        assert db.table(Visit).count() == args.workers * args.requests
    finally:
        db.close()
    return run


def sqlmodel_threads(folder: Path, args: argparse.Namespace) -> Run:
    engine = open_sqlmodel(folder / "sqlmodel-threads.db", args.synchronous)
    try:
        run = in_threads(args.workers, args.requests, lambda row: sqlmodel_request(engine, row))
    finally:
        engine.dispose()
    return run


def sqlmodel_asyncio(folder: Path, args: argparse.Namespace) -> Run:
    engine = open_sqlmodel(folder / "sqlmodel-asyncio.db", args.synchronous)
    try:
        run = in_tasks(
            args.workers,
            args.requests,
            lambda row: asyncio.to_thread(sqlmodel_request, engine, row),
        )
    finally:
        engine.dispose()
    return run


CONTENDERS: dict[str, Callable[[Path, argparse.Namespace], Run]] = {
    "hedystia threads": hedystia_threads,
    "sqlmodel threads": sqlmodel_threads,
    "hedystia asyncio": hedystia_asyncio,
    "sqlmodel asyncio": sqlmodel_asyncio,
}


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--workers", type=int, default=8, help="threads, and asyncio tasks")
    parser.add_argument("--requests", type=int, default=1000, help="requests per worker")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--check", action="store_true", help="fail when a target is missed")
    args = parser.parse_args(argv)
    runs: dict[str, list[Run]] = {name: [] for name in CONTENDERS}
    with tempfile.TemporaryDirectory() as temp:
        folder = Path(temp)
        # SQLModel's connections get the journal mode and synchronous level ours sets.
        with open_hedystia(folder / "settings.db") as db:
            journal = db.raw("PRAGMA journal_mode")[0]["journal_mode"]
            level = db.raw("PRAGMA synchronous")[0]["synchronous"]
        args.synchronous = {0: "OFF", 1: "NORMAL", 2: "FULL", 3: "EXTRA"}[level]
        assert journal == "wal", journal
        for r in range(args.repeat):
            (folder / f"run{r}").mkdir()
            for name, contender in CONTENDERS.items():  # interleaved: drift hits all alike
                gc.collect()
                runs[name].append(contender(folder / f"run{r}", args))
    total = args.workers * args.requests
    print(
        f"{args.workers} workers x {args.requests} requests (validated insert + read by key), "
        f"journal_mode={journal}, synchronous={args.synchronous}; req/s best of {args.repeat}, "
        f"latency over all runs:"
    )
    print(f"  {'contender':<18} {'req/s':>9} {'median':>9} {'p50 ms':>8} {'p99 ms':>8}")
    summary: dict[str, tuple[float, float]] = {}
    for name, found in runs.items():
        best = total / min(run.seconds for run in found)
        median = total / statistics.median(run.seconds for run in found)
        latencies = [t for run in found for t in run.latencies]
        p50, p99 = percentile(latencies, 50), percentile(latencies, 99)
        summary[name] = (best, p99)
        print(f"  {name:<18} {best:9.0f} {median:9.0f} {p50 * 1000:8.2f} {p99 * 1000:8.2f}")
    missed = False
    for kind in ("threads", "asyncio"):
        ours, theirs = summary[f"hedystia {kind}"], summary[f"sqlmodel {kind}"]
        speed, tail = ours[0] / theirs[0], ours[1] / theirs[1]
        ok = speed >= THROUGHPUT_TARGET and tail <= P99_TARGET
        missed |= not ok
        print(
            f"{kind}: hedystia / sqlmodel throughput = {speed:.2f}x (target >= "
            f"{THROUGHPUT_TARGET}x), p99 = {tail:.2f}x (target <= {P99_TARGET}x): "
            f"{'met' if ok else 'MISSED'}"
        )
    return 1 if args.check and missed else 0


if __name__ == "__main__":
    sys.exit(main())
