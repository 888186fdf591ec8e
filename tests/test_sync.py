"""sync() and plan(): idempotence, additive evolution, refusals, history, drift, fast path."""

from __future__ import annotations

import enum
import json
import logging
import re
import sqlite3
from datetime import date, datetime, time, timedelta, timezone
from decimal import Decimal
from pathlib import Path
from typing import Annotated, Any, Literal
from uuid import UUID

import pytest
from pydantic import BaseModel

import hedystia_models as hm
import hedystia_models.engine.sqlite.introspect as introspect_module
import hedystia_models.migrate.sync as sync_module
from hedystia_models import (
    Database,
    DatabaseFileError,
    Field,
    Index,
    Plan,
    Safety,
    SyncError,
    Table,
    database,
)
from hedystia_models.migrate.operations import (
    AddColumn,
    AlterColumn,
    CreateTable,
    DropColumn,
    DropIndex,
    DropTable,
)

# -- helpers ----------------------------------------------------------------------------------


def schema_sql(db: Database) -> dict[str, str]:
    """The SQL of every user schema object, by name (bookkeeping and sqlite_ tables left out);
    on PostgreSQL, every table's spec as the catalogs give it."""
    if db.engine == "postgres":
        tables = db.executor.read_state().tables
        return {name: repr(spec) for name, spec in tables.items()}
    rows = db.raw("SELECT name, sql FROM sqlite_master WHERE sql IS NOT NULL ORDER BY name")
    return {
        r["name"]: r["sql"] for r in rows if not r["name"].startswith(("__hedystia", "sqlite_"))
    }


def index_names(db: Database, table: str) -> set[str]:
    if db.engine == "postgres":
        spec = db.executor.read_state().tables[table]
        return {i.name for i in (*spec.indexes, *spec.unique_indexes)}
    return {r["name"] for r in db.raw("SELECT name FROM pragma_index_list(?)", [table])}


def table_names(db: Database) -> set[str]:
    """The tables of ``db`` (either engine), the bookkeeping ones left out."""
    return {n for n in db.executor.read_state().tables if not n.startswith("__hedystia")}


def count(db: Database, table: str) -> int:
    return int(db.raw(f'SELECT count(*) AS n FROM "{table}"')[0]["n"])


def sync_rows(db: Database) -> list[Any]:
    return [h for h in db.history() if h.kind == "sync"]


def forbid_introspection(monkeypatch: pytest.MonkeyPatch) -> None:
    def fail(*args: object, **kwargs: object) -> None:
        raise AssertionError("introspected although nothing changed")

    monkeypatch.setattr(introspect_module, "read_database", fail)
    monkeypatch.setattr(sync_module, "plan_for", fail)


# -- idempotence: no false drift --------------------------------------------------------------


class Mood(str, enum.Enum):
    HAPPY = "happy"
    SAD = "it's sad"


class Priority(enum.IntEnum):
    LOW = 1
    HIGH = 9


class Address(BaseModel):
    street: str
    number: int = 1


class Owner(Table, table="idem_owners"):
    id: int | None = Field(default=None, primary_key=True, auto_increment=True)
    handle: str = Field(max_length=30, unique=True)


class Everything(
    Table, table="idem_everything", indexes=[Index("i", "s"), Index("f", "b", unique=True)]
):
    id: int | None = Field(default=None, primary_key=True)
    i: int
    f: float
    s: str
    vs: str = Field(max_length=40)
    b: bool
    by: bytes
    dec: Decimal
    dt: datetime
    d: date
    t: time
    td: timedelta
    u: UUID
    mood: Mood
    prio: Priority
    lit_s: Literal["a", "b"]
    lit_i: Literal[1, 2, 3]
    js: dict[str, int]
    jl: list[str]
    jm: Address
    opt_i: int | None = None
    opt_s: str | None = Field(default=None, max_length=10)
    opt_mood: Mood | None = None
    d_i: int = 5
    d_neg: int = -7
    d_f: float = 1.5
    d_big_f: float = 1e20
    d_small_f: float = -2.5e-7
    d_s: str = 'it\'s "quoted"'
    d_empty: str = ""
    d_b: bool = True
    d_false: bool = False
    d_by: bytes = b"\x00\xff"
    d_dec: Decimal = Decimal("10.50")
    d_dt: datetime = datetime(2020, 1, 2, 3, 4, 5, tzinfo=timezone.utc)
    d_d: date = date(2020, 1, 2)
    d_t: time = time(1, 2, 3, 4)
    d_td: timedelta = timedelta(days=1, microseconds=1)
    d_u: UUID = UUID(int=7)
    d_mood: Mood = Mood.SAD
    d_prio: Priority = Priority.HIGH
    d_lit: Literal["a", "b"] = "b"
    d_js: dict[str, int] = {"k": 1}
    d_jl: list[str] = []
    d_jm: Address = Address(street="Main")
    d_opt: int | None = 3
    factory: list[int] = Field(default_factory=list)
    uniq: str | None = Field(default=None, unique=True)
    indexed: int = Field(default=0, index=True)
    checked: int = Field(default=1, check="checked > 0")
    checked_enum: Mood = Field(default=Mood.HAPPY, check="length(checked_enum) > 1")
    owner_id: int | None = Field(default=None, references=Owner, on_delete="set null")
    owner_handle: str | None = Field(
        default=None, references=Owner.ref("handle"), related_name="by_handle"
    )
    renamed: Annotated[int, Field(column="select")] = 0


class Composite(Table, table="idem_composite"):
    a: int = Field(primary_key=True)
    b: str = Field(primary_key=True, max_length=5)
    c: int | None = Field(default=None, unique=True)


def test_second_plan_and_sync_are_empty_for_every_type_default_and_constraint(
    db_path: Path,
) -> None:
    db = database(schemas=[Everything, Owner, Composite], connection=db_path)
    first = db.sync()
    assert [op.kind for op in first] == ["create_table"] * 3
    assert not first.unsafe and not first.blocked

    plan = db.plan()
    assert plan.in_sync, str(plan)
    assert list(plan) == [] and not plan
    assert db.sync().in_sync
    assert len(sync_rows(db)) == 1

    # a new connection (no fast path state in memory) agrees
    db.close()
    with database(schemas=[Everything, Owner, Composite], connection=db_path) as again:
        assert again.plan().in_sync, str(again.plan())
        again.raw("DELETE FROM __hedystia_state")  # force the full introspecting path
        assert again.sync().in_sync
        assert len(sync_rows(again)) == 1


# -- additive evolution -----------------------------------------------------------------------


def test_additive_evolution_across_versions_keeps_data(db_path: Path) -> None:
    class ItemV1(Table, table="evo_items"):
        id: int | None = Field(default=None, primary_key=True, auto_increment=True)
        name: str

    db = database(schemas=[ItemV1], connection=db_path, sync_schemas=True)
    db.raw("INSERT INTO evo_items (name) VALUES ('a'), ('b'), ('c')")
    db.close()

    class ItemV2(Table, table="evo_items"):
        id: int | None = Field(default=None, primary_key=True, auto_increment=True)
        name: str
        note: str | None = None
        qty: int = 1
        status: Literal["new", "old"] = "new"
        sku: str | None = Field(default=None, unique=True)
        color: str = Field(default="red", index=True)
        price: Decimal = Decimal("9.99")
        active: bool = True

    class Tag(Table, table="evo_tags"):
        id: int | None = Field(default=None, primary_key=True)
        item_id: int = Field(references=ItemV2, on_delete="cascade", index=True)
        label: str

    db = database(schemas=[Tag, ItemV2], connection=db_path)
    plan = db.plan()
    assert [(op.kind, op.table, op.column) for op in plan] == [
        ("add_column", "evo_items", "note"),
        ("add_column", "evo_items", "qty"),
        ("add_column", "evo_items", "status"),
        ("add_column", "evo_items", "sku"),
        ("add_column", "evo_items", "color"),
        ("add_column", "evo_items", "price"),
        ("add_column", "evo_items", "active"),
        ("create_index", "evo_items", None),
        ("create_table", "evo_tags", None),
    ]
    assert all(op.safety is Safety.SAFE for op in plan)
    applied = db.sync()
    assert applied.sql() == plan.sql()

    rows = db.raw("SELECT * FROM evo_items ORDER BY id")
    assert [r["name"] for r in rows] == ["a", "b", "c"]
    for row in rows:
        assert row["note"] is None
        assert row["qty"] == 1
        assert row["status"] == "new"
        assert row["sku"] is None
        assert row["color"] == "red"
        assert row["price"] == "9.99"
        assert row["active"] == 1
    assert {"evo_items_sku_unique", "evo_items_color_index"} <= index_names(db, "evo_items")
    assert "evo_tags_item_id_index" in index_names(db, "evo_tags")
    assert db.plan().in_sync

    # the new table references the old one, and the constraints are live
    db.raw("INSERT INTO evo_tags (item_id, label) VALUES (1, 'x')")
    with pytest.raises(sqlite3.IntegrityError, match="FOREIGN KEY"):
        db.raw("INSERT INTO evo_tags (item_id, label) VALUES (42, 'x')")
    with pytest.raises(sqlite3.IntegrityError, match="CHECK"):
        db.raw("UPDATE evo_items SET status = 'bogus' WHERE id = 1")
    db.raw("UPDATE evo_items SET sku = 'S1' WHERE id = 1")
    with pytest.raises(sqlite3.IntegrityError, match="UNIQUE"):
        db.raw("UPDATE evo_items SET sku = 'S1' WHERE id = 2")
    db.close()

    class ItemV3(Table, table="evo_items"):
        id: int | None = Field(default=None, primary_key=True, auto_increment=True)
        name: str = Field(index=True)  # index on an existing column
        note: str | None = None
        qty: int = 1
        status: Literal["new", "old"] = "new"
        sku: str | None = Field(default=None, unique=True)
        color: str = Field(default="red", index=True)
        price: Decimal = Decimal("9.99")
        active: bool = True
        weight: float | None = None

    class TagV3(Table, table="evo_tags"):
        id: int | None = Field(default=None, primary_key=True)
        item_id: int = Field(references=ItemV3, on_delete="cascade", index=True)
        label: str
        rank: int = 0

    db = database(schemas=[ItemV3, TagV3], connection=db_path, sync_schemas=True)
    assert "evo_items_name_index" in index_names(db, "evo_items")
    assert db.raw("SELECT label, rank FROM evo_tags") == [{"label": "x", "rank": 0}]
    assert [r["weight"] for r in db.raw("SELECT weight FROM evo_items")] == [None] * 3
    assert count(db, "evo_items") == 3
    assert db.plan().in_sync
    assert len(sync_rows(db)) == 3
    db.raw("DELETE FROM evo_items WHERE id = 1")  # cascade still works after the changes
    assert count(db, "evo_tags") == 0


# -- NOT NULL columns without default ---------------------------------------------------------


class NNv1(Table, table="nn_people"):
    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(index=True)
    email: str | None = Field(default=None, unique=True)


class NNv2(Table, table="nn_people"):
    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(index=True)
    email: str | None = Field(default=None, unique=True)
    nickname: str | None = None  # safe on its own
    age: int  # NOT NULL, no default


class NNPets(Table, table="nn_pets"):
    id: int | None = Field(default=None, primary_key=True)
    owner: int = Field(references=NNv2)


def test_not_null_column_on_table_with_rows_is_refused_and_nothing_applied(
    db_path: Path,
) -> None:
    db = database(schemas=[NNv1], connection=db_path, sync_schemas=True)
    db.raw("INSERT INTO nn_people (name) VALUES ('ann')")
    before = schema_sql(db)
    history_before = db.history()
    db.close()

    db = database(schemas=[NNv2, NNPets], connection=db_path)
    plan = db.plan()
    assert bool(plan)
    assert [op.column for op in plan.blocked] == ["age"]
    assert {op.kind for op in plan.safe} == {"add_column", "create_table"}

    with pytest.raises(SyncError) as caught:
        db.sync()
    message = str(caught.value)
    assert "nothing was applied" in message
    assert "'age'" in message and "'nn_people'" in message
    assert "has rows" in message
    assert "default" in message and "X | None" in message and "migration" in message

    assert schema_sql(db) == before  # not even the new table or the nullable column
    assert db.history() == history_before
    assert db.raw("SELECT * FROM nn_people") == [{"id": 1, "name": "ann", "email": None}]
    # database(..., sync_schemas=True) raises the same way and closes the connection
    with pytest.raises(SyncError, match="'age'"):
        database(schemas=[NNv2, NNPets], connection=db_path, sync_schemas=True)
    assert schema_sql(db) == before


def test_not_null_column_on_empty_table_rebuilds_it(db_path: Path) -> None:
    db = database(schemas=[NNv1], connection=db_path, sync_schemas=True)
    db.close()

    db = database(schemas=[NNv2, NNPets], connection=db_path)
    plan = db.plan()
    add_age = next(op for op in plan if op.column == "age")
    assert isinstance(add_age.operation, AddColumn)
    assert add_age.safety is Safety.SAFE
    assert add_age.rebuild
    assert "rebuilding the table" in add_age.describe()
    assert add_age.statements[0].startswith('CREATE TABLE "_hedystia_new_nn_people"')
    db.sync()

    info = {
        r["name"]: r for r in db.raw("SELECT * FROM pragma_table_info('nn_people') ORDER BY cid")
    }
    assert list(info) == ["id", "name", "email", "nickname", "age"]
    assert info["age"]["notnull"] == 1
    assert info["age"]["dflt_value"] is None
    assert "nn_people_name_index" in index_names(db, "nn_people")
    assert db.plan().in_sync, str(db.plan())
    assert "_hedystia_new_nn_people" not in schema_sql(db)

    db.raw("INSERT INTO nn_people (name, email, age) VALUES ('bo', 'b@x', 3)")
    with pytest.raises(sqlite3.IntegrityError, match="NOT NULL"):
        db.raw("INSERT INTO nn_people (name) VALUES ('cy')")
    with pytest.raises(sqlite3.IntegrityError, match="UNIQUE"):
        db.raw("INSERT INTO nn_people (name, email, age) VALUES ('di', 'b@x', 4)")
    db.raw("INSERT INTO nn_pets (owner) VALUES (1)")
    with pytest.raises(sqlite3.IntegrityError, match="FOREIGN KEY"):
        db.raw("INSERT INTO nn_pets (owner) VALUES (2)")


def test_rebuild_keeps_foreign_keys_pointing_at_the_rebuilt_table(db_path: Path) -> None:
    class Parent(Table, table="rb_parent"):
        id: int | None = Field(default=None, primary_key=True)

    class Child(Table, table="rb_child"):
        id: int | None = Field(default=None, primary_key=True)
        parent: int | None = Field(default=None, references=Parent, on_delete="cascade")

    database(schemas=[Parent, Child], connection=db_path, sync_schemas=True).close()

    class Parent2(Table, table="rb_parent"):
        id: int | None = Field(default=None, primary_key=True)
        code: str  # NOT NULL without default: rebuild (rb_parent is empty)

    db = database(schemas=[Parent2, Child], connection=db_path, sync_schemas=True)
    assert db.plan().in_sync
    db.raw("INSERT INTO rb_parent (id, code) VALUES (1, 'p')")
    db.raw("INSERT INTO rb_child (parent) VALUES (1)")
    db.raw("DELETE FROM rb_parent")
    assert count(db, "rb_child") == 0  # ON DELETE CASCADE still points at rb_parent
    assert db.raw("PRAGMA foreign_key_check") == []
    assert db.raw("PRAGMA foreign_keys")[0]["foreign_keys"] == 1


def test_failing_statement_rolls_back_the_whole_sync(connect: Any) -> None:
    class Base1(Table, table="rollback_items"):
        id: int | None = Field(default=None, primary_key=True)

    db = connect(schemas=[Base1], sync_schemas=True)
    db.raw("INSERT INTO rollback_items (id) VALUES (1), (2)")
    before = schema_sql(db)
    db.close()

    class Base2(Table, table="rollback_items"):
        id: int | None = Field(default=None, primary_key=True)
        # SQLite checks existing rows when adding a column with a CHECK: 0 > 0 fails
        code: int = Field(default=0, check="code > 0")

    class Extra(Table, table="rollback_extra"):
        id: int | None = Field(default=None, primary_key=True)

    db = connect(schemas=[Extra, Base2])
    plan = db.plan()
    assert not plan.blocked and len(plan.safe) == 2
    # (SQLite's words, PostgreSQL's: both check the existing rows)
    refused = r"rolled back: (CHECK constraint failed|check constraint)(.|\n)*ADD COLUMN"
    with pytest.raises(SyncError, match=refused):
        db.sync()
    assert schema_sql(db) == before
    assert len(db.history()) == 1
    assert not db.conn.in_transaction


# -- unique and index creation ----------------------------------------------------------------


def test_unique_column_added_to_existing_table_becomes_unique_index(db_path: Path) -> None:
    class U1(Table, table="uq_users"):
        id: int | None = Field(default=None, primary_key=True)

    database(schemas=[U1], connection=db_path, sync_schemas=True).close()

    class U2(Table, table="uq_users"):
        id: int | None = Field(default=None, primary_key=True)
        email: str | None = Field(default=None, unique=True)
        city: str | None = Field(default=None, index=True)

    db = database(schemas=[U2], connection=db_path)
    db.raw("INSERT INTO uq_users (id) VALUES (1), (2)")
    plan = db.plan()
    assert plan.sql() == [
        'ALTER TABLE "uq_users" ADD COLUMN "email" TEXT',
        'CREATE UNIQUE INDEX "uq_users_email_unique" ON "uq_users" ("email")',
        'ALTER TABLE "uq_users" ADD COLUMN "city" TEXT',
        'CREATE INDEX "uq_users_city_index" ON "uq_users" ("city")',
    ]
    db.sync()
    indexes = {r["name"]: r for r in db.raw("SELECT * FROM pragma_index_list('uq_users')")}
    assert indexes["uq_users_email_unique"]["unique"] == 1
    assert indexes["uq_users_city_index"]["unique"] == 0
    db.raw("UPDATE uq_users SET email = 'a@x' WHERE id = 1")
    with pytest.raises(sqlite3.IntegrityError, match="UNIQUE"):
        db.raw("UPDATE uq_users SET email = 'a@x' WHERE id = 2")
    db.raw("INSERT INTO uq_users (id) VALUES (3)")  # several NULLs are fine
    assert db.plan().in_sync


def test_dropped_index_is_recreated_by_next_sync(connect: Any) -> None:
    class Indexed(Table, table="idx_again"):
        id: int | None = Field(default=None, primary_key=True)
        a: int = Field(default=0, index=True)

    db = connect(schemas=[Indexed], sync_schemas=True)
    db.raw('DROP INDEX "idx_again_a_index"')
    plan = db.sync()
    assert [op.kind for op in plan] == ["create_index"]
    assert "idx_again_a_index" in index_names(db, "idx_again")
    assert len(sync_rows(db)) == 2


# -- foreign keys -----------------------------------------------------------------------------


class FkA(Table, table="fk_a"):
    id: int | None = Field(default=None, primary_key=True)


class FkB(Table, table="fk_b"):
    id: int | None = Field(default=None, primary_key=True)
    a_id: int = Field(references=FkA)


class FkC(Table, table="fk_c"):
    id: int | None = Field(default=None, primary_key=True)
    b_id: int = Field(references=FkB, on_delete="cascade")
    a_id: int | None = Field(default=None, references=FkA, on_delete="set null")


def test_referenced_tables_are_created_first() -> None:
    db = database(schemas=[FkC, FkB, FkA], connection=":memory:")
    plan = db.plan()
    assert [op.table for op in plan] == ["fk_a", "fk_b", "fk_c"]
    creates = [s for s in plan.sql() if s.startswith("CREATE TABLE")]
    assert [re.match(r'CREATE TABLE "(\w+)"', s).group(1) for s in creates] == [  # type: ignore[union-attr]
        "fk_a",
        "fk_b",
        "fk_c",
    ]
    db.sync()
    history = db.history()
    assert [s.split('"')[1] for s in history[0].statements] == ["fk_a", "fk_b", "fk_c"]


def test_foreign_keys_are_enforced() -> None:
    db = database(schemas=[FkC, FkB, FkA], connection=":memory:", sync_schemas=True)
    assert db.raw("PRAGMA foreign_keys")[0]["foreign_keys"] == 1
    db.raw("INSERT INTO fk_a (id) VALUES (1), (2)")
    db.raw("INSERT INTO fk_b (id, a_id) VALUES (10, 1)")
    db.raw("INSERT INTO fk_c (id, b_id, a_id) VALUES (100, 10, 2)")
    with pytest.raises(sqlite3.IntegrityError, match="FOREIGN KEY"):
        db.raw("INSERT INTO fk_b (id, a_id) VALUES (11, 99)")
    with pytest.raises(sqlite3.IntegrityError, match="FOREIGN KEY"):
        db.raw("DELETE FROM fk_a WHERE id = 1")  # fk_b.a_id has no ON DELETE action
    db.raw("DELETE FROM fk_a WHERE id = 2")  # ON DELETE SET NULL
    assert db.raw("SELECT a_id FROM fk_c") == [{"a_id": None}]
    db.raw("DELETE FROM fk_b WHERE id = 10")  # ON DELETE CASCADE
    assert count(db, "fk_c") == 0
    db.raw("DELETE FROM fk_a WHERE id = 1")  # nothing references it any more
    assert count(db, "fk_a") == 0


def test_self_reference() -> None:
    class Node(Table, table="nodes"):
        id: int | None = Field(default=None, primary_key=True)
        parent: int | None = Field(default=None, references="nodes.id")

    db = database(schemas=[Node], connection=":memory:", sync_schemas=True)
    db.raw("INSERT INTO nodes (id, parent) VALUES (1, NULL), (2, 1)")
    with pytest.raises(sqlite3.IntegrityError, match="FOREIGN KEY"):
        db.raw("INSERT INTO nodes (id, parent) VALUES (3, 9)")
    assert db.plan().in_sync


# -- history ----------------------------------------------------------------------------------


def test_each_changing_sync_writes_one_history_row(connect: Any) -> None:
    class H1(Table, table="hist"):
        id: int | None = Field(default=None, primary_key=True)

    class H2(Table, table="hist"):
        id: int | None = Field(default=None, primary_key=True)
        note: str | None = None

    start = datetime.now(timezone.utc)
    db = connect(schemas=[H1])
    first = db.sync()
    assert len(db.history()) == 1
    db.sync()
    assert len(db.history()) == 1  # nothing to do: no row
    db.close()

    db = connect(schemas=[H2])
    second = db.sync()
    db.sync()
    history = db.history()
    assert len(history) == 2
    for entry, plan in zip(history, [first, second], strict=True):
        assert entry.kind == "sync"
        assert re.fullmatch(r"sync_\d{8}T\d{6}_[0-9a-f]{6}", entry.name)
        executed = datetime.fromisoformat(entry.executed_at)
        assert executed.tzinfo is not None
        assert start - timedelta(seconds=5) <= executed <= datetime.now(timezone.utc)
        assert entry.name[5:20] == executed.strftime("%Y%m%dT%H%M%S")
        assert entry.statements == tuple(plan.sql())
        assert entry.checksum is None
    text = "TEXT" if db.engine == "sqlite" else 'TEXT COLLATE "C"'
    assert history[1].statements == (f'ALTER TABLE "hist" ADD COLUMN "note" {text}',)
    assert history[0].name != history[1].name

    raw = db.raw("SELECT * FROM __hedystia_migrations ORDER BY id")
    assert [r["kind"] for r in raw] == ["sync", "sync"]
    assert json.loads(raw[1]["statements"]) == list(history[1].statements)


def test_sync_with_only_unsafe_differences_writes_no_history(connect: Any) -> None:
    class Only(Table, table="only_unsafe"):
        id: int | None = Field(default=None, primary_key=True)

    db = connect(schemas=[Only], sync_schemas=True)
    db.raw("CREATE TABLE stray (x INTEGER)")
    plan = db.sync()
    assert [op.kind for op in plan] == ["drop_table"]
    assert len(db.history()) == 1
    assert "stray" in schema_sql(db)


# -- unsafe findings --------------------------------------------------------------------------


class Drift(Table, table="drift"):
    id: int | None = Field(default=None, primary_key=True)
    kept: str | None = None
    typed: int | None = None
    required: str | None = None
    defaulted: int = 1
    loose: str = "x"


def test_unsafe_differences_are_reported_never_applied(
    db_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    db = database(schemas=[Drift], connection=db_path)
    db.raw(
        'CREATE TABLE "drift" ('
        '"id" INTEGER PRIMARY KEY, '
        '"kept" TEXT, '
        '"typed" TEXT, '  # type differs
        "\"required\" TEXT NOT NULL DEFAULT '', "  # nullability differs
        '"defaulted" INTEGER NOT NULL DEFAULT 2, '  # default differs
        '"loose" TEXT, '  # NOT NULL and default differ
        '"legacy" TEXT)'  # not in the model
    )
    db.raw('CREATE INDEX "drift_kept_extra" ON "drift" ("kept")')  # not in the model
    db.raw("CREATE TABLE leftovers (x)")  # no model
    db.raw("INSERT INTO drift (kept, required) VALUES ('k', 'r')")
    before = schema_sql(db)

    plan = db.plan()
    assert not plan.safe and not plan.blocked  # nothing for sync to do
    assert plan and len(plan) == 7 and not plan.in_sync
    findings = {
        (op.kind, drop.index.name if isinstance(drop := op.operation, DropIndex) else op.column)
        for op in plan.unsafe
    }
    assert findings == {
        ("alter_column", "typed"),
        ("alter_column", "required"),
        ("alter_column", "defaulted"),
        ("alter_column", "loose"),
        ("drop_column", "legacy"),
        ("drop_index", "drift_kept_extra"),
        ("drop_table", None),
    }
    for op in plan.unsafe:
        assert op.safety is Safety.UNSAFE
        assert op.reason
        # What a migration making the change would run: a rebuild for a changed column
        if op.kind == "alter_column":
            assert op.rebuild and op.statements[0].startswith('CREATE TABLE "_hedystia_new_drift"')
        else:
            assert not op.rebuild and "DROP" in op.statements[-1]

    by_column = {
        op.column: alter for op in plan.unsafe if isinstance(alter := op.operation, AlterColumn)
    }
    assert by_column["typed"].changes == ("type TEXT -> INTEGER",)
    # a default on one side only is a note of the plan, not drift
    assert by_column["required"].changes == ("NOT NULL -> NULL",)
    assert any("column required has DEFAULT ''" in note for note in plan.notes)
    assert by_column["defaulted"].changes == ("default 2 -> 1",)
    assert set(by_column["loose"].changes) == {"NULL -> NOT NULL"}  # and a note
    drop_table = next(op for op in plan.unsafe if isinstance(op.operation, DropTable))
    assert drop_table.table == "leftovers"
    assert "no model declares it" in (drop_table.reason or "")
    drop_column = next(op for op in plan.unsafe if isinstance(op.operation, DropColumn))
    assert "not in the model" in (drop_column.reason or "")
    drop_index = next(op for op in plan.unsafe if isinstance(op.operation, DropIndex))
    assert "not in the model" in (drop_index.reason or "")

    with caplog.at_level(logging.WARNING, logger="hedystia_models"):
        applied = db.sync()
    assert len(applied.unsafe) == 7
    assert applied.sql() == []
    assert schema_sql(db) == before
    assert db.raw("SELECT kept, legacy FROM drift") == [{"kept": "k", "legacy": None}]
    assert sum("sync left alone" in r.getMessage() for r in caplog.records) == 7
    assert db.history() == []


def test_fts_shadow_tables_are_not_drift() -> None:
    class Doc(Table, table="docs"):
        id: int | None = Field(default=None, primary_key=True)
        body: str

    db = database(schemas=[Doc], connection=":memory:", sync_schemas=True)
    db.sqlite["docs"].enable_fts(["body"], create_triggers=True)
    plan = db.plan()
    assert plan.in_sync, str(plan)


# -- plans ------------------------------------------------------------------------------------


def test_plan_ordering_rendering_and_sql(db_path: Path) -> None:
    class P1(Table, table="plan_people"):
        id: int | None = Field(default=None, primary_key=True)
        name: str

    db = database(schemas=[P1], connection=db_path, sync_schemas=True)
    db.raw("INSERT INTO plan_people (name) VALUES ('x')")
    db.raw("CREATE TABLE plan_zombie (x)")
    db.close()

    class P2(Table, table="plan_people"):
        id: int | None = Field(default=None, primary_key=True)
        name: str = Field(index=True)
        age: int  # blocked: table has rows
        note: str | None = None

    class PlanPets(Table, table="plan_pets"):
        id: int | None = Field(default=None, primary_key=True)
        owner: int = Field(references=P2)

    db = database(schemas=[PlanPets, P2], connection=db_path)
    plan = db.plan()
    safeties = [op.safety for op in plan]
    assert safeties == sorted(safeties, key=[Safety.SAFE, Safety.BLOCKED, Safety.UNSAFE].index)
    assert [(op.kind, op.safety) for op in plan] == [
        ("add_column", Safety.SAFE),  # note
        ("create_index", Safety.SAFE),
        ("create_table", Safety.SAFE),  # plan_pets after the table it references
        ("add_column", Safety.BLOCKED),  # age
        ("drop_table", Safety.UNSAFE),
    ]
    assert plan.sql() == [s for op in plan.safe for s in op.statements]
    assert plan.sql() == [
        'ALTER TABLE "plan_people" ADD COLUMN "note" TEXT',
        'CREATE INDEX "plan_people_name_index" ON "plan_people" ("name")',
        'CREATE TABLE "plan_pets" (\n'
        '    "id" INTEGER PRIMARY KEY,\n'
        '    "owner" INTEGER NOT NULL REFERENCES "plan_people"("id")\n'
        ")",
    ]
    assert plan.blocked[0].statements == ()

    text = str(plan)
    assert text.index("Will apply:") < text.index("Cannot apply (sync refuses):")
    assert text.index("Cannot apply (sync refuses):") < text.index(
        "Will not apply (needs a migration):"
    )
    assert "  + add column plan_people.note TEXT" in text
    assert '      ALTER TABLE "plan_people" ADD COLUMN "note" TEXT;' in text
    assert "  + create index plan_people_name_index on plan_people (name)" in text
    assert "  + create table plan_pets (id, owner)" in text
    assert "  ! add column plan_people.age INTEGER" in text
    assert "  - drop table plan_zombie" in text
    assert "the table exists in the database but no model declares it" in text

    data = plan.to_dict()
    assert json.loads(json.dumps(data)) == data
    assert data["in_sync"] is False
    assert [o["safety"] for o in data["operations"]] == [  # type: ignore[union-attr, index]
        "safe",
        "safe",
        "safe",
        "blocked",
        "unsafe",
    ]

    assert str(Plan()) == "Database matches the models: nothing to do."
    assert Plan().sql() == [] and Plan().in_sync and not Plan()


def test_plan_sql_applied_by_hand_gives_an_in_sync_database() -> None:
    db = database(schemas=[Everything, Owner, Composite], connection=":memory:")
    for statement in db.plan().sql():
        db.raw(statement)
    assert db.plan().in_sync


def test_plan_operation_objects() -> None:
    db = database(schemas=[FkB, FkA], connection=":memory:")
    plan = db.plan()
    create = plan.operations[0]
    assert isinstance(create.operation, CreateTable)
    assert create.safe and create.column is None
    assert create.sql.endswith(";")
    reverse = create.operation.reverse()
    assert isinstance(reverse, DropTable) and reverse.table == "fk_a"
    assert len(plan) == 2 and list(iter(plan)) == list(plan.operations)


# -- the fast path ----------------------------------------------------------------------------


class Fast(Table, table="fast"):
    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(default="", index=True)


def test_second_sync_does_not_introspect(db_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    db = database(schemas=[Fast], connection=db_path, sync_schemas=True)
    forbid_introspection(monkeypatch)
    assert db.sync() == Plan()
    db.raw("INSERT INTO fast (name) VALUES ('rows do not matter')")
    assert db.sync() == Plan()
    db.close()
    # another connection, another Database object: still the fast path
    again = database(schemas=[Fast], connection=db_path, sync_schemas=True)
    assert again.sync() == Plan()
    again.close()


def test_hand_made_table_is_noticed(connect: Any) -> None:
    db = connect(schemas=[Fast], sync_schemas=True)
    db.raw("CREATE TABLE extra (x INTEGER)")
    assert [op.kind for op in db.plan()] == ["drop_table"]
    plan = db.sync()
    assert [(op.kind, op.table) for op in plan.unsafe] == [("drop_table", "extra")]


def test_hand_made_column_is_noticed_by_sync(db_path: Path) -> None:
    db = database(schemas=[Fast], connection=db_path, sync_schemas=True)
    with sqlite3.connect(db_path) as other:  # another connection, another tool
        other.execute("ALTER TABLE fast ADD COLUMN sneaky TEXT")
    other.close()
    calls: list[object] = []
    real = introspect_module.read_database

    def counting(db_: Any, **kwargs: Any) -> Any:
        calls.append(db_)
        return real(db_, **kwargs)

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(introspect_module, "read_database", counting)
        plan = db.sync()
    assert calls, "a changed schema must be introspected"
    assert [(op.kind, op.column) for op in plan.unsafe] == [("drop_column", "sneaky")]
    assert db.plan().unsafe[0].column == "sneaky"


def test_changed_models_skip_the_fast_path(connect: Any) -> None:
    connect(schemas=[Fast], sync_schemas=True).close()

    class Fast2(Table, table="fast"):
        id: int | None = Field(default=None, primary_key=True)
        name: str = Field(default="", index=True)
        extra: int = 0

    db = connect(schemas=[Fast2], sync_schemas=True)
    assert "extra" in db.executor.read_state().tables["fast"].column_names
    assert db.plan().in_sync
    assert len(db.history()) == 2


def test_sync_inside_a_user_transaction_is_part_of_it(connect: Any) -> None:
    class InTx(Table, table="in_tx"):
        id: int | None = Field(default=None, primary_key=True)

    db = connect(schemas=[InTx])
    with pytest.raises(RuntimeError), db.transaction():
        db.sync()
        assert "in_tx" in table_names(db)
        raise RuntimeError("roll it all back")
    assert "in_tx" not in table_names(db)
    db.sync()
    assert "in_tx" in table_names(db)


def test_a_no_op_sync_on_a_read_only_database_does_not_fail(tmp_path: Path) -> None:
    class Ro(Table, table="read_only_items"):
        id: int | None = Field(default=None, primary_key=True)
        name: str = ""

    path = tmp_path / "ro.db"
    database(schemas=[Ro], connection=path, sync_schemas=True).close()
    # A fresh fingerprint is needed (schema_version moves), yet the file is read-only.
    conn = sqlite3.connect(path)
    conn.execute("CREATE TABLE unrelated (x)")
    conn.commit()
    conn.close()
    read_only = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    db = database(schemas=[Ro], connection=read_only)
    plan = db.sync()
    assert not plan.safe
    assert [op.table for op in plan.unsafe] == ["unrelated"]

    class RoMore(Table, table="read_only_items"):
        id: int | None = Field(default=None, primary_key=True)
        name: str = ""
        extra: int | None = None

    # With something to apply, the read-only error is not hidden.
    with pytest.raises(DatabaseFileError, match="is read-only"):
        database(schemas=[RoMore], connection=read_only).sync()


def test_adding_a_column_by_rebuild_never_drops_strict_or_collate() -> None:
    strict_table = (
        "CREATE TABLE tags (id INTEGER PRIMARY KEY, label TEXT COLLATE NOCASE NOT NULL) STRICT"
    )

    class Tag(Table, table="tags"):
        id: int | None = Field(default=None, primary_key=True)
        label: str
        slug: str  # NOT NULL without a default: on an empty table, only a rebuild adds it

    with database(schemas=[Tag], connection=":memory:") as db:
        db.raw(strict_table)
        [op] = db.plan().blocked
        assert "would lose its STRICT" in (op.reason or "")
        with pytest.raises(SyncError, match="slug"):
            db.sync()
        assert db.raw("SELECT sql FROM sqlite_master WHERE name = 'tags'") == [
            {"sql": strict_table}
        ]


def test_generated_columns_are_seen_by_plan_and_sync() -> None:
    class Doubled(Table, table="doubled"):
        id: int | None = Field(default=None, primary_key=True)
        a: int = 0
        twice: int | None = None

    class Plain(Table, table="doubled"):
        id: int | None = Field(default=None, primary_key=True)
        a: int = 0

    db = database(schemas=[Doubled], connection=":memory:")
    db.raw(
        "CREATE TABLE doubled (id INTEGER PRIMARY KEY, a INTEGER NOT NULL DEFAULT 0, "
        "twice INTEGER GENERATED ALWAYS AS (a * 2) VIRTUAL)"
    )
    assert db.plan().in_sync  # the generated column is there: nothing to add
    db.sync()
    db.raw("INSERT INTO doubled (a) VALUES (21)")
    assert [row.twice for row in db.table(Doubled).find()] == [42]
    other = database(schemas=[Plain], connection=db.conn)
    assert [op.describe() for op in other.plan().unsafe] == ["drop column doubled.twice"]


def test_strict_defaults_make_a_one_sided_default_drift() -> None:
    class Flag(Table, table="flags"):
        id: int | None = Field(default=None, primary_key=True)
        on: bool = True  # the model's default, which the table below lacks

    conn = sqlite3.connect(":memory:")
    conn.execute('CREATE TABLE flags (id INTEGER PRIMARY KEY, "on" BOOLEAN NOT NULL)')
    lenient = database(schemas=[Flag], connection=conn)
    assert lenient.plan().in_sync and lenient.check() == []
    assert lenient.plan().notes
    strict = database(schemas=[Flag], connection=conn, strict_defaults=True)
    assert [op.kind for op in strict.plan()] == ["alter_column"]
    assert strict.check() == [
        "schema: alter column flags.on: default None -> 1 (rebuilding the table)"
    ]
    with pytest.raises(hm.ConfigurationError, match="strict_defaults must be True or False"):
        database(schemas=[Flag], connection=conn, strict_defaults="yes")  # type: ignore[arg-type]
