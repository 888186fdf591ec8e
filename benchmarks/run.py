"""Every benchmark case of issue 14, and the peers, in one process: the tables and the chart.

Each case is a ratio, hedystia over the least its work can cost (or over a peer), the median of
paired ratios: the two contenders run alternately, the order swapped every round,
``gc.collect()`` before each run, so drift in the machine's speed hits both alike. The cases
themselves live in the per-area scripts and are imported from there, so each is measured by
one piece of code (``python benchmarks/bench_rows.py`` or ``bench_sync_startup.py --targets``
runs the same functions on their own):

* schema: :mod:`bench_sync_startup` (``plan_growth_ratio``, ``noop_sync_ratio``,
  ``first_sync_ratio``);
* rows: :mod:`bench_rows` (``bench_insert_many``, ``bench_insert_count``, ``bench_find``,
  ``bench_insert_one``, ``bench_get``);
* import time: here (:func:`import_ratio`): whole processes, ``python -c``, alternately.

Then the peers at the same sizes (sqlite-utils ``insert_all`` / ``rows_where`` / ``get``,
SQLModel ``add_all`` / ``select`` / ``session.get``), with the peak memory of each 100,000-row
run (``tracemalloc``), and the plan and start-up cost against the number of tables (10 to
3,000) for hedystia, SQLAlchemy (``create_all``, ``MetaData.reflect``) and Alembic
(``compare_metadata``), drawn as ``benchmarks/schema_cost.png``.

The tables go into ``benchmarks/README.md`` between the ``run.py`` markers, with the date and
the machine. Needs the ``bench`` extra (``pip install -e '.[bench]'``); without matplotlib the
chart is skipped.

Usage: ``python benchmarks/run.py [--quick] [--no-write] [--case NAME ...] [--no-peers]
[--no-chart]``. ``--quick`` runs tiny sizes (the test suite's smoke run); ``--no-write``
prints without touching the README or the chart; ``--check`` exits 1 when a target is missed.
"""

# No ``from __future__ import annotations``: the SQLModel peer resolves its annotations itself.
import argparse
import datetime as dt
import gc
import io
import os
import platform
import re
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
import traceback
import tracemalloc
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Optional

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(HERE))

import bench_rows  # noqa: E402 (the per-case scripts, beside this one)
import bench_sync_startup  # noqa: E402

from hedystia_models import database  # noqa: E402

README = HERE / "README.md"
CHART = HERE / "schema_cost.png"
BEGIN = "<!-- benchmarks/run.py: begin (written by the script; edit the script, not this) -->"
END = "<!-- benchmarks/run.py: end -->"

#: What could not be measured outside the cases (peers, chart sizes), for the report.
ERRORS: list[str] = []

#: The import-time case: ``import hedystia_models`` against this, in a fresh process each.
IMPORT_BASELINE = "import pydantic, sqlite_utils; from pydantic import BaseModel, TypeAdapter"
#: The same with one model defined: what any package that defines a model pays (a floor).
IMPORT_ONE_MODEL = IMPORT_BASELINE + "\nclass M(BaseModel):\n    x: int = 0"


# -- sizes -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Sizes:
    rows: int  # rows of the 100k-row cases
    calls: int  # calls of the per-call cases
    repeat: int  # rounds (pairs) of the row cases
    rounds: int  # rounds of the schema cases
    small: int  # tables of the plan-growth baseline
    large: tuple[int, ...]  # tables of the plan-growth cases
    wide: int  # tables of the sync cases (100 x ``columns``)
    columns: int
    imports: int  # pairs of processes of the import case
    peer_rounds: int
    chart_tables: tuple[int, ...]


FULL = Sizes(
    rows=100_000,
    calls=5_000,
    repeat=7,
    rounds=7,
    small=100,
    large=(1000, 3000),
    wide=100,
    columns=20,
    imports=21,
    peer_rounds=3,
    chart_tables=(10, 30, 100, 300, 1000, 3000),
)
QUICK = Sizes(
    rows=300,
    calls=50,
    repeat=1,
    rounds=1,
    small=3,
    large=(6, 9),
    wide=4,
    columns=20,
    imports=1,
    peer_rounds=1,
    chart_tables=(2, 4),
)


# -- the cases -------------------------------------------------------------------------------


@dataclass
class Result:
    ratio: float
    details: dict[str, Any] = field(default_factory=dict)


def _result(value: Any) -> Result:
    """A case function's answer, a ratio or ``(ratio, details)``, as a :class:`Result`."""
    if isinstance(value, Result):
        return value
    if isinstance(value, tuple):
        ratio, details = value
        return Result(float(ratio), dict(details))
    return Result(float(value))


@dataclass(frozen=True)
class Case:
    key: str
    title: str
    target: float
    measure: Callable[[Sizes], Any]
    memory_target: Optional[float] = None  # noqa: UP045 (no __future__ import here)
    #: Why the target is missed, when it is and the case gives no reason of its own.
    reason: str = ""


def _plan_growth(large_index: int) -> Callable[[Sizes], Any]:
    def measure(s: Sizes) -> Any:
        large = s.large[large_index]
        rounds = s.rounds if large < 3000 else max(1, min(s.rounds, 5))
        return bench_sync_startup.plan_growth_ratio(s.small, large, rounds=rounds)

    return measure


def import_ratio(pairs: int, *, floor: bool = True) -> Result:
    """CPU time (user + system) of ``python -c "import hedystia_models"`` over that of
    :data:`IMPORT_BASELINE`, each a fresh process, alternately, the median of ``pairs`` paired
    ratios. Both read cached bytecode (``PYTHONPYCACHEPREFIX``, a folder of the system's
    temporary one, written by a warm-up run of each), as an installed package does, whatever
    ``PYTHONDONTWRITEBYTECODE`` says. With ``floor``, :data:`IMPORT_ONE_MODEL` runs in turn
    too (its ratio in the details: what defining any model costs)."""
    ours = "import hedystia_models"
    commands = [ours, IMPORT_BASELINE, *([IMPORT_ONE_MODEL] if floor else [])]
    cache = Path(tempfile.gettempdir()) / "hedystia-bench-pycache"
    # Bytecode is checked against its source, so a kept cache is never stale.
    env = dict(os.environ)
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    env["PYTHONPYCACHEPREFIX"] = str(cache)

    def run(code: str) -> tuple[float, float]:
        start = time.perf_counter()
        child = subprocess.Popen([sys.executable, "-c", code], env=env, cwd=ROOT)
        _, status, usage = os.wait4(child.pid, 0)  # the child's own CPU time
        wall = time.perf_counter() - start
        child.returncode = os.waitstatus_to_exitcode(status)  # reaped here, not by Popen
        if status:
            raise RuntimeError(f"python -c {code!r} failed ({status})")
        return usage.ru_utime + usage.ru_stime, wall

    for code in commands:
        run(code)  # warm-up: writes the bytecode
    times: dict[str, list[tuple[float, float]]] = {code: [] for code in commands}
    for turn in range(pairs):
        order = commands if turn % 2 == 0 else commands[::-1]
        for code in order:
            times[code].append(run(code))

    def paired(code: str, kind: int) -> float:
        return statistics.median(
            a[kind] / b[kind] for a, b in zip(times[code], times[IMPORT_BASELINE], strict=True)
        )

    def median_ms(code: str, kind: int) -> float:
        return statistics.median(t[kind] for t in times[code]) * 1000

    details = {
        "hedystia_ms": median_ms(ours, 0),
        "target_ms": median_ms(IMPORT_BASELINE, 0),
        "wall_ratio": paired(ours, 1),
    }
    if floor:
        details["one_model_ratio"] = paired(IMPORT_ONE_MODEL, 0)
    return Result(paired(ours, 0), details)


def _import_reason(result: Result) -> str:
    floor = result.details.get("one_model_ratio")
    alone = "some" if floor is None else f"{floor:.2f}x"
    return (
        f"defining any model (the `Table` base) costs {alone} alone (pydantic.fields, "
        "pydantic's plugin loader); the rest is what the import must define, the `Table` "
        "base's own classes (`Field`'s `Column`, `ForeignKey`, `Index`, `TableInfo`) and "
        "`Database`: model building, the connection pool, migrations and rows load on first use"
    )


CASES: tuple[Case, ...] = (
    Case(
        "plan_growth_1000",
        "full `plan()` per-table cost, 1,000 / 100 tables",
        bench_sync_startup.TARGETS.get("plan growth 1000/100", 1.15),
        _plan_growth(0),
    ),
    Case(
        "plan_growth_3000",
        "full `plan()` per-table cost, 3,000 / 100 tables",
        bench_sync_startup.TARGETS.get("plan growth 3000/100", 1.15),
        _plan_growth(1),
    ),
    Case(
        "noop_sync",
        "no-op start-up sync, 100 x 20, vs SQLAlchemy `create_all`",
        bench_sync_startup.TARGETS.get("noop sync / sqlalchemy create_all", 0.3),
        lambda s: bench_sync_startup.noop_sync_ratio(s.wide, s.columns, rounds=3 * s.rounds),
    ),
    Case(
        "first_sync",
        "first sync, 100 x 20, vs `executescript` of the same DDL in one transaction",
        bench_sync_startup.TARGETS.get("first sync / executescript", 1.5),
        lambda s: bench_sync_startup.first_sync_ratio(s.wide, s.columns, rounds=s.rounds),
        reason=(
            "what the floor does not do: the plan (reading the schema, diffing, rendering "
            "2,000 column definitions, checking every reference), the statements run one by "
            "one through sqlite3 (each prepared on its own; executescript runs them in one C "
            "loop), and the record of the change (two bookkeeping tables created, the history "
            "row, the fingerprint); a plan that only creates tables no longer re-reads the "
            "schema for the foreign-key check"
        ),
    ),
    Case(
        "insert_many",
        "`insert_many` 100k rows returning instances, vs `TypeAdapter(list[M])` + `executemany`",
        bench_rows.TARGETS["insert_many"],
        lambda s: bench_rows.bench_insert_many(rows=s.rows, repeat=s.repeat),
    ),
    Case(
        "insert_count",
        "`insert_many(..., returning=False)` vs the same target",
        bench_rows.TARGETS["insert_count"],
        lambda s: bench_rows.bench_insert_count(rows=s.rows, repeat=s.repeat),
        memory_target=bench_rows.MEMORY_TARGET,
    ),
    Case(
        "find",
        "`find()` 100k rows vs `fetchall` + `TypeAdapter`",
        bench_rows.TARGETS["find"],
        lambda s: bench_rows.bench_find(rows=s.rows, repeat=s.repeat),
    ),
    Case(
        "insert_one",
        "`insert()` one row, 5,000 calls in one transaction, vs raw sqlite3 + the same "
        "validation in and out",
        bench_rows.TARGETS["insert_one"],
        lambda s: bench_rows.bench_insert_one(calls=s.calls, repeat=s.repeat),
    ),
    Case(
        "get",
        "`get(pk)` vs a raw prepared query + `model_validate`",
        bench_rows.TARGETS["get"],
        lambda s: bench_rows.bench_get(calls=s.calls, repeat=s.repeat),
    ),
    Case(
        "import",
        "`import hedystia_models` vs `import pydantic, sqlite_utils` with "
        "`BaseModel`/`TypeAdapter` loaded",
        1.2,
        lambda s: import_ratio(s.imports, floor=s.imports > 1),
    ),
)


@dataclass
class Outcome:
    case: Case
    result: Result

    @property
    def memory(self) -> Optional[float]:  # noqa: UP045
        value = self.result.details.get("memory_ratio")
        return None if value is None else float(value)

    @property
    def error(self) -> str:
        return str(self.result.details.get("error", ""))

    @property
    def met(self) -> bool:
        if self.error or not self.result.ratio <= self.case.target:
            return False
        target, memory = self.case.memory_target, self.memory
        return target is None or (memory is not None and memory <= target)

    @property
    def reason(self) -> str:
        if self.met:
            return ""
        if self.error:
            return f"not measured: {self.error}"
        given = self.result.details.get("reason") or self.case.reason
        if not given and self.case.key == "import":
            given = _import_reason(self.result)
        return str(given or "not analysed yet")

    def measured(self) -> str:
        if self.error:
            return "error"
        text = f"{self.result.ratio:.3f}"
        if self.memory is not None:
            text += f"; memory {self.memory:.3f}"
        return text

    def target(self) -> str:
        text = f"<= {self.case.target}"
        if self.case.memory_target is not None:
            text += f"; memory <= {self.case.memory_target}"
        return text

    def times(self) -> str:
        """The median times behind the ratio, where the case reports them."""
        d = self.result.details
        for unit, scale, suffix in (("_us_per_call", 1.0, " us/call"), ("_ms", 1.0, " ms")):
            ours, theirs = d.get(f"hedystia{unit}"), d.get(f"target{unit}")
            if ours is not None and theirs is not None:
                return f"{ours * scale:.1f} / {theirs * scale:.1f}{suffix}"
        return ""


def run_cases(sizes: Sizes, keys: Iterable[str] | None) -> list[Outcome]:
    wanted = set(keys) if keys else None
    outcomes = []
    for case in CASES:
        if wanted is not None and case.key not in wanted:
            continue
        gc.collect()
        start = time.perf_counter()
        try:
            result = _result(case.measure(sizes))
        except Exception as exc:  # reported as a miss; main() exits 2
            traceback.print_exc()
            result = Result(float("nan"), {"error": f"{type(exc).__name__}: {exc}"})
        outcome = Outcome(case, result)
        print(
            f"  {case.key:<17} {outcome.measured():<22} {outcome.target():<22} "
            f"{'met' if outcome.met else 'MISSED'}   ({time.perf_counter() - start:.0f} s)",
            flush=True,
        )
        outcomes.append(outcome)
    return outcomes


# -- the peers -------------------------------------------------------------------------------


@dataclass
class PeerRow:
    workload: str
    contender: str
    returns: str
    ms: float
    ratio: float  # over hedystia's, median of paired ratios
    peak_mb: Optional[float] = None  # noqa: UP045


_SQLMODEL: dict[str, Any] = {}


def _sqlmodel_event() -> Any:
    """SQLModel's model of ``bench_rows.Event``'s table (built once, on first use)."""
    if "Event" not in _SQLMODEL:
        from datetime import datetime

        from sqlmodel import Field as SQLField
        from sqlmodel import SQLModel

        class SQLEvent(SQLModel, table=True):
            __tablename__ = "events"
            id: Optional[int] = SQLField(default=None, primary_key=True)  # noqa: UP045
            name: str
            score: float
            count: int
            active: bool
            note: Optional[str] = None  # noqa: UP045
            at: datetime

        _SQLMODEL["Event"] = SQLEvent
    return _SQLMODEL["Event"]


def _compare(
    workload: str,
    contenders: dict[str, tuple[str, Callable[[], Optional[float]]]],  # noqa: UP045
    rounds: int,
    memory: bool,
) -> list[PeerRow]:
    """Time each contender (the first is hedystia) ``rounds`` times, alternately; an action
    that returns a number has timed itself (its set-up left out)."""
    names = list(contenders)
    times: dict[str, list[float]] = {name: [] for name in names}
    for turn in range(rounds):
        order = names if turn % 2 == 0 else names[::-1]
        for name in order:
            gc.collect()
            start = time.perf_counter()
            own = contenders[name][1]()
            times[name].append(time.perf_counter() - start if own is None else own)
    peaks: dict[str, float] = {}
    if memory:
        for name in names:
            gc.collect()
            tracemalloc.start()
            try:
                contenders[name][1]()
                peaks[name] = tracemalloc.get_traced_memory()[1] / 2**20
            finally:
                tracemalloc.stop()
    ours = times[names[0]]
    return [
        PeerRow(
            workload,
            name,
            contenders[name][0],
            statistics.median(times[name]) * 1000,
            statistics.median(t / o for t, o in zip(times[name], ours, strict=True)),
            peaks.get(name),
        )
        for name in names
    ]


def run_peers(sizes: Sizes) -> list[PeerRow]:
    import sqlite_utils
    from sqlmodel import Session, SQLModel, create_engine, select

    Event = bench_rows.Event
    SQLEvent = _sqlmodel_event()
    data = bench_rows.make_rows(sizes.rows)
    rows: list[PeerRow] = []
    n = f"{sizes.rows:,}"

    # inserting: each into a new in-memory database, the table made beforehand (not timed)
    def hedystia_insert() -> float:
        db = database(schemas=[Event], connection=":memory:", sync_schemas=True)
        start = time.perf_counter()
        inserted = db.table(Event).insert_many(data)
        seconds = time.perf_counter() - start
        assert len(inserted) == len(data)
        db.close()
        return seconds

    def sqlite_utils_insert() -> float:
        db = sqlite_utils.Database(memory=True)
        db.execute(bench_rows.CREATE)
        start = time.perf_counter()
        db["events"].insert_all(data, batch_size=1000)
        seconds = time.perf_counter() - start
        db.close()
        return seconds

    def sqlmodel_insert() -> float:
        engine = create_engine("sqlite://")
        SQLModel.metadata.create_all(engine)
        start = time.perf_counter()
        with Session(engine) as session:
            session.add_all([SQLEvent(**row) for row in data])
            session.commit()
        seconds = time.perf_counter() - start
        engine.dispose()
        return seconds

    rows += _compare(
        f"insert {n} rows",
        {
            "hedystia `insert_many`": ("validated instances", hedystia_insert),
            "sqlite-utils `insert_all`": ("nothing (not validated)", sqlite_utils_insert),
            "SQLModel `add_all` + `commit`": ("ORM objects (not validated)", sqlmodel_insert),
        },
        sizes.peer_rounds,
        memory=True,
    )

    with tempfile.TemporaryDirectory() as name:
        folder = Path(name)
        path = folder / "peers.db"
        with database(schemas=[Event], connection=path, sync_schemas=True) as db:
            db.table(Event).insert_many(data)
        keys = [1 + (i * 7919) % sizes.rows for i in range(sizes.calls)]
        db = database(schemas=[Event], connection=path)
        peer = sqlite_utils.Database(path)
        engine = create_engine(f"sqlite:///{path}")
        repo = db.table(Event)
        try:

            def hedystia_find() -> None:
                assert len(repo.find()) == sizes.rows

            def sqlite_utils_find() -> None:
                assert len(list(peer["events"].rows_where())) == sizes.rows

            def sqlmodel_find() -> None:
                with Session(engine) as session:
                    assert len(session.exec(select(SQLEvent)).all()) == sizes.rows

            rows += _compare(
                f"read {n} rows",
                {
                    "hedystia `find()`": ("validated instances", hedystia_find),
                    "sqlite-utils `rows_where()`": ("dicts (not validated)", sqlite_utils_find),
                    "SQLModel `select`": ("ORM objects (not validated)", sqlmodel_find),
                },
                sizes.peer_rounds,
                memory=True,
            )

            get, table = repo.get, peer["events"]

            def hedystia_get() -> None:
                for key in keys:
                    get(key)

            def sqlite_utils_get() -> None:
                for key in keys:
                    table.get(key)

            def sqlmodel_get() -> None:
                with Session(engine) as session:  # every key once: no identity-map hits
                    for key in keys:
                        session.get(SQLEvent, key)

            rows += _compare(
                f"get by key, {sizes.calls:,} calls",
                {
                    "hedystia `get`": ("validated instances", hedystia_get),
                    "sqlite-utils `get`": ("dicts (not validated)", sqlite_utils_get),
                    "SQLModel `session.get`": ("ORM objects (not validated)", sqlmodel_get),
                },
                sizes.peer_rounds * 3,
                memory=False,
            )
        finally:
            db.close()
            peer.close()
            engine.dispose()
    return rows


# -- the schema cost against the number of tables (the chart) ---------------------------------


#: The chart's lines, in the legend's order: (label, hedystia's?).
SERIES = (
    ("hedystia `plan()`", True),
    ("hedystia no-op sync", True),
    ("hedystia first sync", True),
    ("SQLAlchemy `create_all` (unchanged)", False),
    ("SQLAlchemy `create_all` (new file)", False),
    ("SQLAlchemy `MetaData.reflect`", False),
    ("Alembic `compare_metadata`", False),
)


def _remove(path: Path) -> None:
    for suffix in ("", "-wal", "-shm", "-journal"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)


def schema_costs(tables: int, rounds: int) -> dict[str, float]:
    """Median milliseconds of each of :data:`SERIES` for ``tables`` tables of 5 columns,
    run alternately, each on its own file (opening left out where the tool allows)."""
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext
    from sqlalchemy import MetaData, create_engine

    models = bench_sync_startup.make_models(tables, 5, prefix="c")
    metadata = bench_sync_startup._sqlalchemy_metadata(tables, 5)
    with tempfile.TemporaryDirectory() as name:
        folder = Path(name)
        ours, fresh = folder / "hedystia.db", folder / "hedystia-new.db"
        theirs, theirs_fresh = folder / "sqlalchemy.db", folder / "sqlalchemy-new.db"
        database(schemas=models, connection=ours, sync_schemas=True).close()
        engine = create_engine(f"sqlite:///{theirs}")
        metadata.create_all(engine)
        db = database(schemas=models, connection=ours)

        def plan() -> None:
            assert db.plan().in_sync

        def noop_sync() -> None:
            assert db.sync().in_sync

        def first_sync() -> float:
            _remove(fresh)
            with database(schemas=models, connection=fresh) as new:
                start = time.perf_counter()
                new.sync()
                return time.perf_counter() - start

        def create_all() -> None:
            metadata.create_all(engine)

        def create_all_new() -> float:
            _remove(theirs_fresh)
            new = create_engine(f"sqlite:///{theirs_fresh}")
            try:
                new.connect().close()
                start = time.perf_counter()
                metadata.create_all(new)
                return time.perf_counter() - start
            finally:
                new.dispose()

        def reflect() -> None:
            # Every table of the file either way; resolving foreign keys would follow the
            # chain t1 -> t0 recursively, past Python's recursion limit at 3,000 tables.
            MetaData().reflect(engine, resolve_fks=False)

        def compare() -> None:
            with engine.connect() as conn:
                compare_metadata(MigrationContext.configure(conn), metadata)

        actions = [plan, noop_sync, first_sync, create_all, create_all_new, reflect, compare]
        labels = [label for label, _ in SERIES]
        times: dict[str, list[float]] = {label: [] for label in labels}
        try:
            if tables <= 1000:  # warm-up (caches, the files in the page cache)
                for action in actions:
                    action()
            for turn in range(rounds):
                order = list(zip(labels, actions, strict=True))
                for label, action in order if turn % 2 == 0 else order[::-1]:
                    gc.collect()
                    start = time.perf_counter()
                    own = action()
                    times[label].append(time.perf_counter() - start if own is None else own)
        finally:
            db.close()
            engine.dispose()
    return {label: statistics.median(found) * 1000 for label, found in times.items()}


def run_chart_data(sizes: Sizes) -> dict[int, dict[str, float]]:
    data = {}
    for tables in sizes.chart_tables:
        rounds = 5 if tables <= 300 else 3 if tables <= 1000 else 2
        start = time.perf_counter()
        try:
            data[tables] = schema_costs(tables, min(rounds, max(1, sizes.rounds)))
        except Exception as exc:  # the other sizes still count; main() exits 2
            traceback.print_exc()
            ERRORS.append(f"the chart's {tables:,} tables: {type(exc).__name__}: {exc}")
            continue
        print(f"  {tables:>5} tables   ({time.perf_counter() - start:.0f} s)", flush=True)
    return data


def draw_chart(data: dict[int, dict[str, float]], machine: str) -> Optional[bytes]:  # noqa: UP045
    """The chart as PNG bytes, or None without matplotlib."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return None
    counts = sorted(data)
    figure, (total, per_table) = plt.subplots(1, 2, figsize=(11, 5.2), dpi=90)
    for label, ours in SERIES:
        ms = [data[n][label] for n in counts]
        style = {"linewidth": 2.2 if ours else 1.4, "linestyle": "-" if ours else "--"}
        name = label.replace("`", "")
        total.plot(counts, ms, marker="o", markersize=3.5, label=name, **style)
        per_table.plot(
            counts,
            [t / n for t, n in zip(ms, counts, strict=True)],
            marker="o",
            markersize=3.5,
            label=name,
            **style,
        )
    total.set(xscale="log", yscale="log", xlabel="tables (5 columns each)", ylabel="ms")
    total.set_title("plan and start-up cost")
    per_table.set(xscale="log", yscale="log", xlabel="tables (5 columns each)")
    per_table.set_ylabel("ms per table")
    per_table.set_title("per table (flat = linear growth)")
    for axes in (total, per_table):
        axes.grid(True, which="major", alpha=0.3)
        axes.set_xticks(counts, [f"{n:,}" for n in counts])
        axes.minorticks_off()
    handles, labels = total.get_legend_handles_labels()
    figure.legend(handles, labels, loc="lower center", ncol=4, fontsize=8, frameon=False)
    figure.suptitle(machine, fontsize=7.5)
    figure.tight_layout(rect=(0, 0.11, 1, 1))
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png")
    plt.close(figure)
    return buffer.getvalue()


# -- the machine and the report ----------------------------------------------------------------


def _version(name: str) -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version(name)
    except PackageNotFoundError:
        return "absent"


def _cpu() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def _commit() -> str:
    def git(*args: str) -> str:
        found = subprocess.run(
            ["git", "--no-optional-locks", *args], cwd=ROOT, capture_output=True, text=True
        )
        return found.stdout.strip() if found.returncode == 0 else ""

    head = git("rev-parse", "--short", "HEAD")
    if not head:
        return "no git"
    changed = git("status", "--porcelain", "--untracked-files=no")
    return f"{head}{' + uncommitted changes' if changed else ''}"


def machine_line() -> str:
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    return (
        f"{os.cpu_count()} cores ({_cpu()}), {platform.system()} {platform.machine()}, "
        f"Python {platform.python_version()}, SQLite {sqlite3.sqlite_version}; "
        f"pydantic {_version('pydantic')}, sqlite-utils {_version('sqlite-utils')}, "
        f"SQLAlchemy {_version('sqlalchemy')}, Alembic {_version('alembic')}, "
        f"SQLModel {_version('sqlmodel')}; load average {load:.1f} at the start"
    )


def _cell(text: str) -> str:
    return text.replace("|", "\\|")


def render(
    outcomes: list[Outcome],
    peers: list[PeerRow],
    chart: dict[int, dict[str, float]],
    *,
    machine: str,
    sizes: Sizes,
    chart_file: Optional[str],  # noqa: UP045
    seconds: float,
) -> str:
    """The README section (Markdown)."""
    today = dt.date.today().isoformat()
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    out = [
        BEGIN,
        "",
        f"### Issue 14 targets, {today} (`python benchmarks/run.py`)",
        "",
        f"Machine: {machine}, {load:.1f} at the end; at {_commit()}; {seconds / 60:.0f} minutes "
        "in all. Each ratio is hedystia over the target's contender, the median of paired "
        "ratios (the two run alternately, `gc.collect()` before each run); the import case is "
        "the CPU time of whole processes.",
        "",
    ]
    if outcomes:
        out += [
            "| case | measured | target | met | times (ours / target) | reason, if missed |",
            "| --- | --- | --- | --- | --- | --- |",
        ]
        for o in outcomes:
            out.append(
                f"| {o.case.title} | {o.measured()} | {o.target()} | "
                f"{'met' if o.met else '**missed**'} | {o.times()} | {_cell(o.reason)} |"
            )
        missed = [o.case.key for o in outcomes if not o.met]
        out += ["", f"Missed: {', '.join(missed)}." if missed else "Every target met.", ""]
    if peers:
        out += [
            f"Peers, at the same sizes (median of {sizes.peer_rounds} alternating rounds, "
            f"{3 * sizes.peer_rounds} for `get`; the ratio the median of paired ratios; peak "
            "memory by `tracemalloc`, in one more run of each):",
            "",
            "| workload | contender | returns | median | / hedystia | peak memory |",
            "| --- | --- | --- | --- | --- | --- |",
        ]
        for p in peers:
            peak = "" if p.peak_mb is None else f"{p.peak_mb:.1f} MB"
            out.append(
                f"| {p.workload} | {p.contender} | {p.returns} | {p.ms:.1f} ms | "
                f"{p.ratio:.2f}x | {peak} |"
            )
        out.append("")
    if chart:
        counts = sorted(chart)
        out += [
            "Plan and start-up cost against the number of tables (5 columns each; ms, median; "
            "each tool on its own file, opening left out where the tool allows). SQLAlchemy "
            "runs with its defaults: on a new file its driver commits each `CREATE TABLE` on "
            "its own, in the rollback journal; hedystia's sync is one transaction in WAL.",
            "",
            "| contender | " + " | ".join(f"{n:,}" for n in counts) + " |",
            "| --- |" + " --- |" * len(counts),
        ]
        for label, _ in SERIES:
            cells = " | ".join(f"{chart[n][label]:.1f}" for n in counts)
            out.append(f"| {label} | {cells} |")
        out.append("")
        if chart_file:
            out += [f"![plan and start-up cost against table count]({chart_file})", ""]
    if ERRORS:
        out += ["Not measured: " + "; ".join(_cell(e) for e in ERRORS) + ".", ""]
    out.append(END)
    return "\n".join(out)


def write_readme(section: str, readme: Path = README) -> None:
    """Put ``section`` between the markers of ``readme`` (a new section before the first
    dated results when there are no markers yet)."""
    text = readme.read_text()
    if BEGIN in text and END in text:
        head, rest = text.split(BEGIN, 1)
        tail = rest.split(END, 1)[1]
        text = head + section + tail
    else:
        anchor = re.search(r"^## Results", text, flags=re.MULTILINE)
        block = "## Issue 14: every case in one run\n\n" + section + "\n\n"
        text = (
            text[: anchor.start()] + block + text[anchor.start() :]
            if anchor
            else (text.rstrip("\n") + "\n\n" + block)
        )
    readme.write_text(text)


def print_report(outcomes: list[Outcome], peers: list[PeerRow]) -> None:
    if outcomes:
        print(f"\n{'case':<17} {'measured':<22} {'target':<22} verdict")
        for o in outcomes:
            print(
                f"{o.case.key:<17} {o.measured():<22} {o.target():<22} "
                f"{'met' if o.met else 'MISSED: ' + o.reason}"
            )
    if peers:
        print(f"\n{'workload':<28} {'contender':<32} {'median':>10} {'/ ours':>7} {'peak':>9}")
        for p in peers:
            peak = "" if p.peak_mb is None else f"{p.peak_mb:.1f} MB"
            name = p.contender.replace("`", "")
            print(f"{p.workload:<28} {name:<32} {p.ms:8.1f}ms {p.ratio:6.2f}x {peak:>9}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="every benchmark case of issue 14, in one run")
    parser.add_argument("--quick", action="store_true", help="tiny sizes (a smoke run)")
    parser.add_argument("--no-write", action="store_true", help="print only")
    parser.add_argument(
        "--case",
        action="append",
        dest="cases",
        metavar="NAME",
        choices=[c.key for c in CASES],
        help="only these cases (repeatable)",
    )
    parser.add_argument("--no-cases", action="store_true", help="skip the cases")
    parser.add_argument("--no-peers", action="store_true", help="skip the peers")
    parser.add_argument("--no-chart", action="store_true", help="skip the chart")
    parser.add_argument("--check", action="store_true", help="exit 1 when a target is missed")
    args = parser.parse_args(argv)
    sizes = QUICK if args.quick else FULL
    machine = machine_line()
    started = time.perf_counter()
    print(f"{'quick run' if args.quick else 'full run'}; {machine}", flush=True)
    outcomes: list[Outcome] = []
    if not args.no_cases:
        print("cases:", flush=True)
        outcomes = run_cases(sizes, args.cases)
    peers: list[PeerRow] = []
    if not args.no_peers:
        print("peers:", flush=True)
        try:
            peers = run_peers(sizes)
        except Exception as exc:  # the rest still runs; main() exits 2
            traceback.print_exc()
            ERRORS.append(f"the peers: {type(exc).__name__}: {exc}")
        print_report([], peers)
    chart: dict[int, dict[str, float]] = {}
    png = None
    if not args.no_chart:
        print("schema cost against table count:", flush=True)
        chart = run_chart_data(sizes)
        png = draw_chart(chart, machine)
        if png is None:
            print("  (matplotlib is not installed: no chart; pip install -e '.[bench]')")
    print_report(outcomes, [])
    for error in ERRORS:
        print(f"not measured: {error}")
    section = render(
        outcomes,
        peers,
        chart,
        machine=machine,
        sizes=sizes,
        chart_file=CHART.name if png is not None else None,
        seconds=time.perf_counter() - started,
    )
    if args.no_write:
        print(
            f"\n(not written: --no-write; the README section is {len(section):,} characters"
            f"{f', the chart {len(png):,} bytes' if png else ''})"
        )
    else:
        if png is not None:
            CHART.write_bytes(png)
            print(f"\nwrote {CHART.relative_to(ROOT)} ({len(png) / 1024:.0f} KB)")
        write_readme(section)
        print(f"wrote the tables into {README.relative_to(ROOT)}")
    if any(o.error for o in outcomes) or ERRORS:
        print("\nsome cases could not be measured (their errors are above)", file=sys.stderr)
        return 2
    return 1 if args.check and any(not o.met for o in outcomes) else 0


if __name__ == "__main__":
    sys.exit(main())
