"""Identifiers that need quoting: spaces, quotes, SQL keywords, non-ASCII, through every stage."""

from __future__ import annotations

import enum
import sqlite3
from pathlib import Path
from typing import Literal

import pydantic
import pytest

from hedystia_models import Database, Field, Index, Table, database
from hedystia_models.migrate.operations import DropIndex
from hedystia_models.schema.quoting import quote_identifier as q

ODD = [
    "with space",
    'double "quote"',
    "single 'quote'",
    "order",
    "select",
    "café",
    "名前",
    "Group By",
    "a.b",
    "semi;colon -- x",
    "paren (x), y",
    "[bracket]",
    "back`tick",
]


class Kind(str, enum.Enum):
    A = "it's"
    B = 'say "hi"'


def odd_model(table: str, column: str) -> type[Table]:
    """A model whose table and every column are named with ``table`` / ``column``."""
    return pydantic.create_model(  # type: ignore[no-any-return, call-overload]
        "Odd",
        __base__=Table,
        __cls_kwargs__={"table": table, "indexes": [Index("pair_a", "pair_b", unique=True)]},
        key=(int | None, Field(default=None, primary_key=True, column=f"{column} id")),
        value=(str, Field(column=column)),
        unique=(str | None, Field(default=None, unique=True, column=f"{column} unique")),
        indexed=(int, Field(default=0, index=True, column=f"{column} indexed")),
        kind=(Kind, Field(default=Kind.A, column=f"{column} kind")),
        lit=(Literal["x y", "z"], Field(default="z", column=f"{column} lit")),
        pair_a=(int, Field(default=0, column=f"{column} a")),
        pair_b=(int, Field(default=0, column=f"{column} b")),
    )


@pytest.mark.parametrize("name", ODD)
def test_odd_names_plan_sync_and_stay_in_sync(name: str, db_path: Path) -> None:
    model = odd_model(name, name)
    db = database(schemas=[model], connection=db_path)
    plan = db.plan()
    assert [op.kind for op in plan] == ["create_table"]
    assert name in str(plan)
    db.sync()
    assert name in db.sqlite.table_names()
    assert db.plan().in_sync, str(db.plan())
    assert not db.sync()

    # the declared names are the real names
    columns = [r["name"] for r in db.raw("SELECT name FROM pragma_table_info(?)", [name])]
    assert columns == [c.name for c in model.table_spec().columns]
    indexes = {r["name"] for r in db.raw("SELECT name FROM pragma_index_list(?)", [name])}
    assert f"{name}_{name} indexed_index" in indexes
    assert f"{name}_{name} a_{name} b_unique" in indexes

    # constraints work on the quoted columns
    insert = f"INSERT INTO {q(name)} ({q(name)}, {q(name + ' unique')}) VALUES (?, ?)"
    db.raw(insert, ["v", "u"])
    with pytest.raises(sqlite3.IntegrityError, match="UNIQUE"):
        db.raw(insert, ["v", "u"])
    with pytest.raises(sqlite3.IntegrityError, match="CHECK"):
        db.raw(f"UPDATE {q(name)} SET {q(name + ' kind')} = 'nope'")
    db.raw(f"UPDATE {q(name)} SET {q(name + ' kind')} = ?", ['say "hi"'])
    row = db.raw(f"SELECT * FROM {q(name)}")[0]
    assert row[name] == "v"
    assert row[f"{name} kind"] == 'say "hi"'
    assert row[f"{name} lit"] == "z"
    db.close()

    # a fresh connection introspects the same thing
    with database(schemas=[model], connection=db_path) as again:
        assert again.plan().in_sync


def test_keyword_and_quote_names_with_foreign_keys_and_evolution(db_path: Path) -> None:
    class Order(Table, table="order"):
        id: int | None = Field(default=None, primary_key=True, column="select")
        where: str = Field(default="", column="where")

    class Line(Table, table='line "items"'):
        id: int | None = Field(default=None, primary_key=True, column="from")
        order: int = Field(references=Order, on_delete="cascade", index=True, column="order")
        note: str | None = Field(default=None, column="it's")

    db = database(schemas=[Line, Order], connection=db_path, sync_schemas=True)
    assert [h.kind for h in db.history()] == ["sync"]
    assert db.plan().in_sync
    db.raw('INSERT INTO "order" ("select") VALUES (1)')
    db.raw('INSERT INTO "line ""items""" ("order", "it\'s") VALUES (1, \'n\')')
    with pytest.raises(sqlite3.IntegrityError, match="FOREIGN KEY"):
        db.raw('INSERT INTO "line ""items""" ("order") VALUES (2)')
    db.close()

    class Order2(Table, table="order"):
        id: int | None = Field(default=None, primary_key=True, column="select")
        where: str = Field(default="", column="where")
        group_: str | None = Field(default=None, unique=True, column="group")
        café: int = Field(default=3, index=True, column="café")

    class Line2(Table, table='line "items"'):
        id: int | None = Field(default=None, primary_key=True, column="from")
        order: int = Field(references=Order2, on_delete="cascade", index=True, column="order")
        note: str | None = Field(default=None, column="it's")

    class Empty(Table, table="empty 'table'"):
        id: int | None = Field(default=None, primary_key=True, column="values")

    db = database(schemas=[Order2, Line2, Empty], connection=db_path, sync_schemas=True)
    assert db.plan().in_sync
    assert db.raw('SELECT "select", "group", "café" FROM "order"') == [
        {"select": 1, "group": None, "café": 3}
    ]
    names = {r["name"] for r in db.raw("SELECT name FROM pragma_index_list('order')")}
    assert {"order_group_unique", "order_café_index"} <= names
    db.close()

    class Empty2(Table, table="empty 'table'"):
        id: int | None = Field(default=None, primary_key=True, column="values")
        required: str = Field(column="NOT NULL")  # rebuild of the empty table

    db = database(schemas=[Order2, Line2, Empty2], connection=db_path)
    plan = db.plan()
    assert plan.safe[0].kind == "add_column"
    assert "_hedystia_new_empty 'table'" in plan.sql()[0]
    db.sync()
    assert db.plan().in_sync
    columns = [
        r["name"] for r in db.raw("SELECT name FROM pragma_table_info(?)", ["empty 'table'"])
    ]
    assert columns == ["values", "NOT NULL"]
    db.raw('DELETE FROM "order"')
    assert db.raw('SELECT count(*) AS n FROM "line ""items"""')[0]["n"] == 0


def test_odd_names_in_unsafe_findings() -> None:
    class Plain(Table, table="tab le"):
        id: int | None = Field(default=None, primary_key=True)

    db = database(schemas=[Plain], connection=":memory:", sync_schemas=True)
    db.raw('ALTER TABLE "tab le" ADD COLUMN "sneaky ""col""" TEXT')
    db.raw('CREATE INDEX "odd ""index""" ON "tab le" ("sneaky ""col""")')
    db.raw('CREATE TABLE "odd ""table""" (x)')
    plan = db.plan()
    found = {
        (
            op.kind,
            op.operation.index.name
            if isinstance(op.operation, DropIndex)
            else op.column or op.table,
        )
        for op in plan.unsafe
    }
    assert found == {
        ("drop_column", 'sneaky "col"'),
        ("drop_index", 'odd "index"'),
        ("drop_table", 'odd "table"'),
    }
    assert not plan.safe
    db.sync()
    assert 'odd "table"' in db.sqlite.table_names()


def test_quote_identifier() -> None:
    assert q("order") == '"order"'
    assert q('a "b" c') == '"a ""b"" c"'
    assert q("café") == '"café"'
    with pytest.raises(ValueError, match="NUL"):
        q("a\x00b")


def test_database_object_round_trip_with_same_odd_names_in_two_tables(db_path: Path) -> None:
    first = odd_model("first 'one'", "same name")
    second = odd_model('second "two"', "same name")
    db: Database = database(schemas=[first, second], connection=db_path, sync_schemas=True)
    assert db.plan().in_sync
    assert len(db.history()) == 1
