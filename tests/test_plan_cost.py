"""What a plan and a sync ask SQLite, counted rather than timed: ``sqlite_master`` has no index
on ``name``, so a lookup there per table would make a plan of N tables cost O(N^2). A plan reads
it once, whatever the number of tables; a sync reads it a fixed number of times. Counted with a
trace callback on the connection (every statement it runs, nested pragma reads included)."""

from __future__ import annotations

import re
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

import hedystia_models.migrate.sync as sync_module
from hedystia_models import Database, Field, SyncError, Table, database
from hedystia_models.engine.sqlite import introspect
from hedystia_models.migrate import planner
from hedystia_models.migrate.operations import AddColumn, CreateTable

_MASTER = re.compile(r"\bsqlite_(master|schema)\b", re.IGNORECASE)
#: How SQLite itself loads the schema (when another connection changed it): not our read.
_SQLITE_OWN = 'SELECT*FROM"main".sqlite_master'


def make_models(count: int, prefix: str = "t") -> list[type[Table]]:
    """``count`` models, each with an index, a reference to the one before and a default."""
    models: list[type[Table]] = []
    for i in range(count):
        namespace: dict[str, Any] = {
            "__annotations__": {"id": "int | None", "name": "str", "parent_id": "int | None"},
            "id": Field(default=None, primary_key=True),
            "name": Field(default="", index=True),
            "parent_id": Field(default=None, references=f"{prefix}{i - 1}.id" if i else None),
        }
        models.append(type(f"Cost{prefix.upper()}{i}", (Table,), namespace, table=f"{prefix}{i}"))
    return models


def add_others(db: Database, count: int) -> None:
    """Tables no model declares (``REFERENCES t`` without a column list, which means t's
    primary key and once cost a lookup among all tables per key), a view and a trigger."""
    for i in range(count):
        db.raw(
            f"CREATE TABLE legacy{i} (id INTEGER PRIMARY KEY, "
            f"a INTEGER REFERENCES t{i}, b INTEGER REFERENCES legacy{max(i - 1, 0)})"
        )
    db.raw("CREATE VIEW names AS SELECT name FROM t0")
    db.raw("CREATE TRIGGER t0_touch AFTER UPDATE ON t0 BEGIN SELECT 1; END")


@contextmanager
def statements(conn: sqlite3.Connection) -> Iterator[list[str]]:
    seen: list[str] = []
    conn.set_trace_callback(seen.append)
    try:
        yield seen
    finally:
        conn.set_trace_callback(None)


def master_reads(seen: list[str]) -> list[str]:
    return [s for s in seen if _MASTER.search(s) and not s.startswith(_SQLITE_OWN)]


def synced(tmp_path: Path, count: int) -> Database:
    db = database(schemas=make_models(count), connection=tmp_path / f"cost{count}.db")
    db.sync()
    add_others(db, count)
    return db


@pytest.mark.parametrize("count", [3, 40])
def test_a_plan_reads_sqlite_master_once(tmp_path: Path, count: int) -> None:
    with synced(tmp_path, count) as db:
        with statements(db.conn) as seen:
            plan = db.plan()
        assert [op.kind for op in plan.unsafe] == ["drop_table"] * count  # the legacy tables
        assert master_reads(seen) == ["SELECT type, name, tbl_name, sql FROM sqlite_master"]


def test_a_plan_asks_each_table_a_fixed_number_of_things(tmp_path: Path) -> None:
    counts = []
    for count in (4, 16):
        with synced(tmp_path, count) as db, statements(db.conn) as seen:
            db.plan()
        counts.append(len(seen))
    # Each added pair of tables (a model's, with its index and reference; a legacy one, whose
    # REFERENCES t asks t's primary key once) costs 8 statements: xinfo, index_list,
    # index_info and foreign_key_list, then xinfo, index_list, foreign_key_list and
    # table_info. Which tables hold rows is asked a hundred tables per statement.
    small, large = counts
    assert large - small <= (16 - 4) * 8 + 2, counts


def test_reading_one_table_reads_sqlite_master_once(tmp_path: Path) -> None:
    with synced(tmp_path, 5) as db:
        with statements(db.conn) as seen:
            spec = introspect.read_table(db.sqlite, "legacy3")
        reference = spec.column("a").references
        assert reference is not None
        assert reference.column == "id"  # t3's primary key
        assert len(master_reads(seen)) == 1


@pytest.mark.parametrize("case", ["changed schema", "new model"])
def test_a_sync_reads_sqlite_master_as_often_whatever_the_number_of_tables(
    tmp_path: Path, case: str
) -> None:
    reads = []
    for count in (3, 30):
        models = make_models(count)
        path = tmp_path / f"{case.replace(' ', '_')}{count}.db"
        database(schemas=models, connection=path, sync_schemas=True).close()
        if case == "new model":
            models = [*models, *make_models(1, prefix="extra")]
        with database(schemas=models, connection=path) as db:
            if case == "changed schema":
                db.raw("CREATE TABLE scratch (x)")  # moves schema_version: no fast path
            with statements(db.conn) as seen:
                db.sync()
            reads.append(len(master_reads(seen)))
    assert reads[0] == reads[1], reads


def test_the_fast_path_reads_no_schema(tmp_path: Path) -> None:
    models = make_models(5)
    path = tmp_path / "fast.db"
    database(schemas=models, connection=path, sync_schemas=True).close()
    with database(schemas=models, connection=path) as db, statements(db.conn) as seen:
        assert db.sync().in_sync
    assert master_reads(seen) == []


def test_a_sync_reads_the_schema_again_under_the_lock(tmp_path: Path) -> None:
    with database(schemas=make_models(3), connection=tmp_path / "twice.db") as db:
        with statements(db.conn) as seen:
            plan = db.sync()
        assert [type(op.operation) for op in plan.safe] == [CreateTable] * 3
        full = [s for s in master_reads(seen) if s.startswith("SELECT type, name, tbl_name")]
        assert len(full) == 2  # planned before taking the write lock, and again under it


# -- the plan under the lock is the first one only when the database reads back the same ----


def change_between_plan_and_lock(
    monkeypatch: pytest.MonkeyPatch, path: Path, statement: str
) -> list[bool]:
    """Have another connection run ``statement`` right after sync's first plan, before the
    write lock; returns, for each plan under the lock, whether it took the first one over."""
    real = planner.plan_state
    taken: list[bool] = []

    def plan_state(*args: Any, **kwargs: Any) -> Any:
        found = real(*args, **kwargs)
        before = kwargs.get("before")
        if before is None:
            other = sqlite3.connect(path, isolation_level=None)
            other.execute(statement)
            other.close()
        else:
            taken.append(found[1] is before[1])
        return found

    monkeypatch.setattr(sync_module, "plan_state", plan_state)
    return taken


def test_a_table_made_meanwhile_is_planned_again(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "meanwhile.db"
    models = make_models(2)
    taken = change_between_plan_and_lock(
        monkeypatch, path, 'CREATE TABLE t0 ("id" INTEGER PRIMARY KEY, "name" TEXT NOT NULL)'
    )
    with database(schemas=models, connection=path) as db:
        plan = db.sync()
        assert taken == [False]
        assert [op.table for op in plan.safe if isinstance(op.operation, CreateTable)] == ["t1"]
        assert not db.plan().safe  # t0 has its column and index now, t1 exists


def test_rows_written_meanwhile_are_planned_again(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    class Before(Table, table="grows"):
        id: int | None = Field(default=None, primary_key=True)

    class After(Table, table="grows"):
        id: int | None = Field(default=None, primary_key=True)
        code: str  # NOT NULL without a default: needs a rebuild, safe only while empty

    path = tmp_path / "rows.db"
    database(schemas=[Before], connection=path, sync_schemas=True).close()
    taken = change_between_plan_and_lock(monkeypatch, path, "INSERT INTO grows DEFAULT VALUES")
    with database(schemas=[After], connection=path) as db:
        with pytest.raises(SyncError, match="cannot bring the database up to date"):
            db.sync()  # the first plan found the table empty; under the lock it has a row
        assert taken == [False]
        [op] = db.plan().blocked
        assert isinstance(op.operation, AddColumn)


def test_an_unchanged_database_keeps_the_first_plan(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "kept.db"
    taken = change_between_plan_and_lock(monkeypatch, path, "SELECT 1")
    with database(schemas=make_models(3), connection=path) as db:
        assert len(db.sync().safe) == 3
        assert taken == [True]
        assert db.plan().in_sync
