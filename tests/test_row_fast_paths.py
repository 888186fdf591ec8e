"""The fast paths of the row calls (issue 14) give the results and errors of the general paths.

* ``insert_many(rows, returning=False)``: validated to plain values by the model's field
  schemas, a chunk at a time; the same stored rows and the same ``RowError`` as
  ``insert_many(rows)``, whichever chunk the problem is in, and the instance path for models
  that need instances (a model validator, ``__init__``, ``model_post_init``).
* ``insert`` and ``get``: one row, without the lists of a batch; ``get`` with its statement
  compiled once (``where.key_condition``) and read without the call's lock budget.
* ``find``: one validation of all rows (``TypeAdapter``), row by row to name a problem.
* ``db.transaction()`` nested in a block: a savepoint named by its depth, so the same
  statements repeat (sqlite3 keeps them prepared).
* ``fewer_collections``: the collector's threshold, raised while a large batch validates,
  is restored, whatever other threads do.

Timings are not tested here: ``benchmarks/bench_rows.py`` measures them.
"""

from __future__ import annotations

import asyncio
import enum
import gc
import os
import sqlite3
import threading
from collections.abc import Callable, Iterator
from datetime import date, datetime, timedelta, timezone, tzinfo
from decimal import Decimal
from pathlib import Path
from typing import Any, Literal
from uuid import UUID
from zoneinfo import ZoneInfo

import pydantic
import pytest
from typing_extensions import assert_type

from hedystia_models import Database, Field, Table, database
from hedystia_models.errors import DatabaseFileError, DatabaseLockedError, QueryError, RowError
from hedystia_models.model.table import table_info
from hedystia_models.rows import codec as codec_module
from hedystia_models.rows import repository as repository_module


class Color(enum.Enum):
    RED = "red"
    BLUE = "blue"


class Address(pydantic.BaseModel):
    city: str
    since: date


class Owner(Table, table="owners"):
    id: int | None = Field(default=None, primary_key=True)
    name: str


class Item(Table, table="items"):
    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=20)
    email: str | None = Field(default=None, unique=True)
    score: float = 0.0
    price: Decimal = Decimal("0.00")
    at: datetime = Field(default_factory=lambda: datetime(2026, 1, 1, tzinfo=timezone.utc))
    day: date | None = None
    wait: timedelta = timedelta(0)
    key: UUID | None = None
    color: Color = Color.RED
    level: Literal[1, 2] = 1
    active: bool = True
    data: bytes = b""
    meta: dict[str, int] = {}
    address: Address | None = None
    owner_id: int | None = Field(default=None, references=Owner)


MODELS = [Owner, Item]
UTC = timezone.utc


@pytest.fixture
def small_chunks(monkeypatch: pytest.MonkeyPatch) -> None:
    """Chunks of 3 rows, so that a few rows cross chunk boundaries."""
    monkeypatch.setattr(repository_module, "CHUNK", 3)


@pytest.fixture
def make_db(tmp_path: Path) -> Iterator[Callable[..., Database]]:
    opened: list[Database] = []
    count = iter(range(1000))

    def make(models: list[Any] = MODELS, **options: Any) -> Database:
        db = database(
            schemas=models,
            connection=tmp_path / f"db{next(count)}.db",
            sync_schemas=True,
            **options,
        )
        if Owner in models:
            db.table(Owner).insert_many([{"name": "Ann"}, {"name": "Bob"}])
        opened.append(db)
        return db

    yield make
    for db in opened:
        db.close()


def contents(db: Database, table: str) -> list[dict[str, Any]]:
    return db.raw(f'SELECT * FROM "{table}" ORDER BY rowid')


def item_rows(n: int) -> list[Any]:
    rows: list[Any] = []
    for i in range(n):
        row: dict[str, Any] = {"name": f"item {i}", "score": i / 3, "price": f"{i}.10"}
        if i % 2:
            row.update(
                at=datetime(2026, 3, 1, 12, i % 60, tzinfo=timezone(timedelta(hours=2))),
                day=date(2026, 1, 1 + i % 28),
                wait=timedelta(seconds=i),
                key=UUID(int=i),
                color="blue",
                level=2,
                active=False,
                data=bytes([i % 256]),
                meta={"n": i},
                address={"city": "Oslo", "since": "2020-05-17"},
                owner_id=1 + i % 2,
            )
        if i % 5 == 0:
            row["email"] = f"e{i}@example.com"
        if i % 7 == 0:
            row["id"] = 1000 + i  # some keys given, the others generated
        rows.append(Item(**row) if i % 4 == 3 else row)
    return rows


def outcome(db: Database, rows: Any, **options: Any) -> tuple[Any, Any]:
    """What ``insert_many`` gives (or raises, as (type, problems, message)), and the table."""
    try:
        result = db.table(Item).insert_many(rows, **options)
    except RowError as exc:
        got: Any = (type(exc), exc.problems, str(exc))
    else:
        got = len(result) if isinstance(result, list) else result
    return got, contents(db, "items")


def same_both_ways(make_db: Callable[..., Database], rows: list[Any]) -> tuple[Any, Any]:
    """``insert_many(rows)`` and ``insert_many(rows, returning=False)`` on two fresh
    databases: the same count or error, the same stored rows. Returns them."""
    instances = outcome(make_db(), list(rows))
    counted = outcome(make_db(), list(rows), returning=False)
    assert counted == instances
    return counted


# -- insert_many(returning=False) -----------------------------------------------------------


def test_counted_batches_store_what_instance_batches_store(
    make_db: Callable[..., Database], small_chunks: None
) -> None:
    result, stored = same_both_ways(make_db, item_rows(20))
    assert result == 20 and len(stored) == 20
    assert stored[0]["price"] == "0.10" and stored[1]["at"] == "2026-03-01 10:01:00+00:00"
    assert {row["id"] for row in stored} >= {1000, 1007, 1014}


def test_counted_batches_return_the_count_and_read_any_iterable(
    make_db: Callable[..., Database], small_chunks: None
) -> None:
    db = make_db()
    items = db.table(Item)
    counted = items.insert_many(({"name": f"g{i}"} for i in range(7)), returning=False)
    assert_type(counted, int)
    assert counted == 7
    assert items.insert_many([], returning=False) == 0
    assert items.insert_many((), returning=False) == 0
    assert_type(items.insert_many([{"name": "x"}]), list[Item])
    assert [i.name for i in items.find(order_by="id")] == [*(f"g{i}" for i in range(7)), "x"]
    with pytest.raises(TypeError, match="returning must be True or False"):
        items.insert_many([{"name": "y"}], returning=1)  # type: ignore[call-overload]
    with pytest.raises(RowError, match="use insert"):
        items.insert_many({"name": "y"}, returning=False)  # type: ignore[dict-item]


@pytest.mark.parametrize(
    "bad",
    [
        {2: {"name": 5}, 7: {"score": "high"}},  # type errors in two chunks
        {7: {"nmae": "typo"}, 1: {"name": None}},  # unknown keys win, wherever they are
        {4: {"nmae": "typo"}, 8: {"colour": "red"}},
        {5: {"name": "x" * 30}},  # a constraint of the field
        {1: {"score": float("nan")}, 8: {"score": float("nan")}},  # NaN, in two chunks
        {2: {"score": float("nan")}, 7: {"name": 5}},  # validation before encoding
        {8: {"at": datetime(1, 1, 1, tzinfo=timezone(timedelta(hours=5)))}},  # not storable
        {0: {"at": datetime(1, 1, 1, tzinfo=timezone(timedelta(hours=5)))}, 6: {"name": 1}},
        {3: {"meta": {"a": "b"}}},
        {6: {"wait": timedelta(days=200_000_000)}},  # beyond 64 bits: refused by sqlite3
        {1: {"wait": timedelta(days=200_000_000)}, 7: {"wait": timedelta(days=300_000_000)}},
        {2: {"wait": timedelta(days=200_000_000)}, 8: {"name": None}},  # validation first
        {4: {"email": "e0@example.com"}},  # a UNIQUE constraint, against row 0
        {7: {"owner_id": 99}},  # a FOREIGN KEY constraint
        {7: {"owner_id": 99}, 8: {"name": None}},  # validation before writing
        {7: {"owner_id": 99}, 8: {"score": float("nan")}},  # encoding before writing
        {4: {"id": 1000}},  # a key given twice
    ],
)
def test_counted_batches_raise_what_instance_batches_raise(
    make_db: Callable[..., Database], small_chunks: None, bad: dict[int, dict[str, Any]]
) -> None:
    rows: list[Any] = [{"name": f"r{i}"} for i in range(10)]
    rows[0]["email"] = "e0@example.com"
    rows[0]["id"] = 1000
    for index, change in bad.items():
        rows[index] = {**rows[index], **change}
    (kind, problems, _), stored = same_both_ways(make_db, rows)
    assert kind is RowError and problems and stored == []
    rows_named = {index for index, _, _ in problems}
    assert rows_named <= set(bad) | {None}


def test_a_deferred_foreign_key_names_its_row_in_counted_batches(
    make_db: Callable[..., Database], small_chunks: None
) -> None:
    class Parent(Table, table="parents"):
        id: int | None = Field(default=None, primary_key=True)

    class Child(Table, table="children"):
        id: int | None = Field(default=None, primary_key=True)
        parent_id: int = Field(references=Parent, deferrable=True)

    def attempt(**options: Any) -> Any:
        db = make_db([Parent, Child])
        db.table(Parent).insert({})
        rows = [{"parent_id": 1} for _ in range(8)] + [{"parent_id": 5}]
        with pytest.raises(RowError) as caught:
            db.table(Child).insert_many(rows, **options)
        assert db.table(Child).count() == 0
        return caught.value.problems, str(caught.value)

    problems, message = attempt(returning=False)
    assert (problems, message) == attempt()
    assert problems[0][0] == 8


def test_a_failed_counted_batch_inside_a_transaction_undoes_only_itself(
    make_db: Callable[..., Database], small_chunks: None
) -> None:
    db = make_db()
    items = db.table(Item)
    with db.transaction():
        items.insert({"name": "kept", "email": "e0@example.com"})
        rows = [{"name": f"r{i}"} for i in range(7)] + [{"name": "r7", "email": "e0@example.com"}]
        with pytest.raises(RowError) as caught:
            items.insert_many(rows, returning=False)
        assert caught.value.problems[0][0] == 7
        assert items.insert_many([{"name": "after"}], returning=False) == 1
    assert [i.name for i in items.find(order_by="id")] == ["kept", "after"]


def test_models_that_need_instances_take_the_instance_path(
    make_db: Callable[..., Database], small_chunks: None
) -> None:
    class Checked(Table, table="checked"):
        id: int | None = Field(default=None, primary_key=True)
        low: int
        high: int

        @pydantic.model_validator(mode="after")
        def ordered(self) -> Checked:
            if self.low > self.high:
                raise ValueError("low above high")
            return self

    class Posted(Table, table="posted"):
        id: int | None = Field(default=None, primary_key=True)
        name: str

        def model_post_init(self, context: Any) -> None:
            object.__setattr__(self, "name", self.name.strip())

    class Lowered(Table, table="lowered"):
        id: int | None = Field(default=None, primary_key=True)
        email: str

        @pydantic.field_validator("email")
        @classmethod
        def lower(cls, value: str) -> str:  # a field validator: plain values take it too
            return value.lower()

    db = make_db([Checked, Posted, Lowered])
    assert not db.table(Checked).codec.plain and not db.table(Posted).codec.plain
    assert db.table(Lowered).codec.plain
    assert db.table(Checked).insert_many([{"low": 1, "high": 2}] * 4, returning=False) == 4
    with pytest.raises(RowError, match="low above high"):
        db.table(Checked).insert_many(
            [{"low": 1, "high": 2}, {"low": 3, "high": 2}], returning=False
        )
    assert db.table(Posted).insert_many([{"name": " a "}], returning=False) == 1
    assert db.raw("SELECT name FROM posted") == [{"name": "a"}]
    assert db.table(Lowered).insert_many([{"email": "A@B.C"}] * 5, returning=False) == 5
    assert {r["email"] for r in db.raw("SELECT email FROM lowered")} == {"a@b.c"}


def test_counted_batches_validate_default_factory_values(
    make_db: Callable[..., Database], small_chunks: None
) -> None:
    made = iter(range(100))

    class Made(Table, table="made"):
        id: int | None = Field(default=None, primary_key=True)
        n: int = Field(default_factory=lambda: next(made), lt=5)

    def attempt(**options: Any) -> Any:
        db = make_db([Made])
        try:
            return db.table(Made).insert_many([{}, {"n": 1}, {}, {}, {}, {}, {}], **options)
        except RowError as exc:
            return exc.problems

    # The seventh value made is 5: row 6 (the second row sets its own).
    assert attempt(returning=False) == [(6, "n", "Input should be less than 5")]
    made = iter(range(100))
    assert attempt() == [(6, "n", "Input should be less than 5")]


def test_aliases_and_populate_by_name_are_the_models(
    make_db: Callable[..., Database], small_chunks: None
) -> None:
    class Aliased(Table, table="aliased"):
        id: int | None = Field(default=None, primary_key=True)
        display: str = Field(alias="Display 'name'")
        other: int = Field(default=0, validation_alias=pydantic.AliasChoices("o", "other"))

    class ByName(Table, table="by_name"):
        model_config = pydantic.ConfigDict(populate_by_name=True)
        id: int | None = Field(default=None, primary_key=True)
        display: str = Field(alias="Display")

    db = make_db([Aliased, ByName])
    aliased = db.table(Aliased)
    rows = [{"Display 'name'": "a", "o": 1}, {"Display 'name'": "b", "other": 2}]
    assert aliased.insert_many(rows * 2, returning=False) == 4
    assert [(a.display, a.other) for a in aliased.find(order_by="id")][:2] == [("a", 1), ("b", 2)]
    for bad in ([{"display": "a"}], [{"Display 'name'": "a", "x": 1}]):
        with pytest.raises(RowError) as counted:
            aliased.insert_many(bad, returning=False)
        with pytest.raises(RowError) as instances:
            aliased.insert_many(bad)
        assert counted.value.problems == instances.value.problems
    by_name = db.table(ByName)
    assert by_name.insert_many([{"display": "a"}, {"Display": "b"}], returning=False) == 2
    assert [b.display for b in by_name.find(order_by="id")] == ["a", "b"]


def test_the_async_mirror_takes_returning(make_db: Callable[..., Database]) -> None:
    db = make_db()
    items = db.aio.table(Item)

    async def main() -> None:
        counted = await items.insert_many([{"name": "a"}, {"name": "b"}], returning=False)
        assert_type(counted, int)
        assert counted == 2
        inserted = await items.insert_many([{"name": "c"}])
        assert_type(inserted, list[Item])
        assert [i.name for i in inserted] == ["c"]

    asyncio.run(main())


# -- insert, get, find ------------------------------------------------------------------------


def test_insert_gives_what_the_batch_path_gives(make_db: Callable[..., Database]) -> None:
    one, many = make_db(), make_db()
    for row in item_rows(12):
        assert one.table(Item).insert(row) == many.table(Item).insert_many([row])[0]
    assert contents(one, "items") == contents(many, "items")
    for bad in (
        {"name": 5},
        {"name": "a", "nmae": "b"},
        {"name": "a", "score": float("nan")},
        {"name": "a", "at": datetime(1, 1, 1, tzinfo=timezone(timedelta(hours=5)))},
        {"name": "a", "wait": timedelta(days=200_000_000)},
        {"name": "a", "email": "e0@example.com"},
        {"name": "a", "owner_id": 99},
        "not a row",
    ):
        with pytest.raises(RowError) as single:
            one.table(Item).insert(bad)  # type: ignore[arg-type]
        with pytest.raises(RowError) as batch:
            many.table(Item).insert_many([bad])  # type: ignore[list-item]
        assert single.value.problems == [(None, f, m) for _, f, m in batch.value.problems]


def test_insert_in_a_transaction_undoes_a_row_the_model_rejects_read_back(
    make_db: Callable[..., Database],
) -> None:
    class Coded(Table, table="coded"):
        id: int | None = Field(default=None, primary_key=True)
        code: str | None = Field(default=None, sql_default="('way ' || 'too long')", max_length=4)

    db = make_db([Coded])
    coded = db.table(Coded)
    with db.transaction():
        coded.insert({"code": "ok"})
        with pytest.raises(RowError, match="field 'code'"):
            coded.insert({})  # NULL takes the SQL default, which the model rejects
        coded.insert({"code": "ok2"})
    assert db.raw("SELECT code FROM coded ORDER BY id") == [{"code": "ok"}, {"code": "ok2"}]


class Audited(Table, table="audited"):
    id: int | None = Field(default=None, primary_key=True)
    code: str | None = Field(default=None, max_length=4)


def test_insert_in_a_transaction_undoes_what_its_trigger_did_for_a_row_the_model_rejects(
    make_db: Callable[..., Database],
) -> None:
    """A trigger that writes elsewhere and changes the row into one the model rejects: the
    row and what the trigger wrote are both undone (the savepoint), the block goes on."""
    db = make_db([Audited])
    db.raw('CREATE TABLE "audit" ("code" TEXT)')
    db.raw(
        'CREATE TRIGGER "audited_audit" AFTER INSERT ON "audited" BEGIN '
        'INSERT INTO "audit" VALUES (NEW."code"); '
        "UPDATE audited SET code = 'way too long' WHERE id = NEW.id AND NEW.code = 'bad'; END"
    )
    audited = db.table(Audited)
    seen: list[str] = []
    with db.transaction():
        assert audited.insert({"code": "ok"}) == Audited(id=1, code="ok")
        with db.transaction():  # one block deeper: the savepoint of depth 3
            db.conn.set_trace_callback(seen.append)
            with pytest.raises(RowError, match="field 'code'"):
                audited.insert({"code": "bad"})
            db.conn.set_trace_callback(None)
            assert db._depth == 2
            assert db.raw('SELECT code FROM "audit"') == [{"code": "ok"}]
            audited.insert({"code": "ok2"})
        assert db._depth == 1
    assert db.raw("SELECT id, code FROM audited ORDER BY id") == [
        {"id": 1, "code": "ok"},
        {"id": 2, "code": "ok2"},
    ]
    assert db.raw('SELECT code FROM "audit"') == [{"code": "ok"}, {"code": "ok2"}]
    # (the trace repeats the INSERT for each statement of its trigger)
    assert [s.split()[0] for s in seen if not s.startswith("INSERT")] == [
        "SAVEPOINT",
        "SELECT",
        "ROLLBACK",
        "RELEASE",
    ]
    assert seen[0] == "SAVEPOINT hedystia_block_3"
    assert seen[-2:] == [
        "ROLLBACK TO SAVEPOINT hedystia_block_3",
        "RELEASE SAVEPOINT hedystia_block_3",
    ]


class Defaulted(Table, table="defaulted"):
    id: int | None = Field(default=None, primary_key=True)
    code: str | None = Field(default=None, sql_default="('way ' || 'too long')", max_length=4)


class Keyed(Table, table="keyed"):
    name: str = Field(primary_key=True)
    code: str | None = Field(default=None, sql_default="('way ' || 'too long')", max_length=4)


def test_insert_in_a_transaction_undoes_a_rejected_row_without_a_trigger_too(
    make_db: Callable[..., Database],
) -> None:
    """No trigger: the row alone is undone, whichever way its rowid comes (chosen by SQLite,
    given, or a table without an integer key), and the thread's depth is as it was."""
    db = make_db([Defaulted, Keyed])
    defaulted, keyed = db.table(Defaulted), db.table(Keyed)
    with db.transaction():
        defaulted.insert({"code": "ok"})
        keyed.insert({"name": "a", "code": "ok"})
        with db.transaction():
            rejected: list[tuple[Callable[[Any], Any], dict[str, Any]]] = [
                (defaulted.insert, {}),  # NULL takes the SQL default, which the model rejects
                (defaulted.insert, {"id": 7}),
                (keyed.insert, {"name": "b"}),
            ]
            for insert, row in rejected:
                with pytest.raises(RowError, match="field 'code'"):
                    insert(row)
                assert db._depth == 2
            with pytest.raises(RowError):
                defaulted.insert({"code": 5})  # refused before anything is written
            # The keys are free again: the rejected rows are gone.
            assert defaulted.insert({"id": 7, "code": "ok7"}).id == 7
            keyed.insert({"name": "b", "code": "okb"})
        assert db._depth == 1
    assert db.raw("SELECT id, code FROM defaulted ORDER BY id") == [
        {"id": 1, "code": "ok"},
        {"id": 7, "code": "ok7"},
    ]
    assert db.raw("SELECT name, code FROM keyed ORDER BY name") == [
        {"name": "a", "code": "ok"},
        {"name": "b", "code": "okb"},
    ]


def test_insert_in_a_transaction_names_a_closed_database(
    make_db: Callable[..., Database],
) -> None:
    db = make_db()
    items = db.table(Item)
    with pytest.raises(DatabaseFileError, match="is closed"), db.transaction():
        items.insert({"name": "a"})
        db.close()
        with pytest.raises(DatabaseFileError, match="is closed"):
            items.insert({"name": "b"})
        assert db._depth == 1


def test_insert_reads_tuples_whatever_the_connection_row_factory(
    make_db: Callable[..., Database],
) -> None:
    """insert reads its row back through a cursor of its own: a row factory set on the
    connection (for raw SQL) changes nothing."""
    db = make_db()
    items = db.table(Item)

    def as_dict(cursor: sqlite3.Cursor, row: tuple[Any, ...]) -> dict[str, Any]:
        return dict(zip([d[0] for d in cursor.description], row, strict=True))

    db.conn.row_factory = as_dict
    first = items.insert({"name": "a"})
    with db.transaction():
        second = items.insert({"name": "b"})
    assert (first.id, first.name, second.id, second.name) == (1, "a", 2, "b")


@pytest.mark.skipif(not hasattr(os, "fork"), reason="fork is POSIX")
def test_insert_in_a_forked_child_of_a_block_writes_on_the_childs_connection(
    tmp_path: Path,
) -> None:
    """A process forked inside a transaction block: the child's insert asks the database for
    its connection (a new one, outside the parent's transaction), never writing through the
    parent's, which the parent's transaction holds."""
    with database(
        schemas=[Audited], connection=tmp_path / "fork.db", sync_schemas=True, busy_timeout=0.2
    ) as db:
        audited = db.table(Audited)
        with db.transaction():
            audited.insert({"code": "a"})  # the parent's connection, kept by the repository
            pid = os.fork()
            if pid == 0:  # the child: exit code 0 only when all went well
                code = 1
                try:
                    try:
                        audited.insert({"code": "b"})
                    except DatabaseLockedError:
                        code = 0  # the parent's write lock, seen from another connection
                finally:
                    os._exit(code)
            _, status = os.waitpid(pid, 0)
            assert os.waitstatus_to_exitcode(status) == 0
        assert db.raw("SELECT code FROM audited") == [{"code": "a"}]


def test_datetimes_are_stored_as_their_iso_text_in_utc() -> None:
    """The stored text of a datetime, written out by hand for speed, is
    ``astimezone(utc).isoformat(sep=" ")`` (no conversion when naive)."""

    class NoOffset(tzinfo):
        def utcoffset(self, dt: datetime | None) -> timedelta | None:
            return None

        def dst(self, dt: datetime | None) -> timedelta | None:
            return None

    class Own(datetime):
        def isoformat(self, sep: str = "T", timespec: str = "auto") -> str:
            return "own " + super().isoformat(sep, timespec)

    def expected(value: datetime) -> str:
        if value.utcoffset() is not None:
            value = value.astimezone(timezone.utc)
        return value.isoformat(sep=" ")

    zones = [
        None,
        timezone.utc,
        timezone(timedelta(0)),
        timezone(timedelta(hours=5, minutes=30)),
        timezone(timedelta(hours=-8, seconds=7, microseconds=3)),
        ZoneInfo("Europe/Paris"),  # its offsets in year 1 have seconds
        NoOffset(),
    ]
    parsed = pydantic.TypeAdapter(datetime)
    values: list[datetime] = [parsed.validate_python("2026-03-01T12:00:00.5Z")]
    for year in (1, 9, 10, 99, 100, 999, 1000, 2026, 9999):
        for micro in (0, 1, 999_999):
            for zone in zones:
                values.append(datetime(year, 6, 15, 1, 2, 3, micro, tzinfo=zone))
                values.append(datetime(year, 12, 31, 23, 59, 59, micro, tzinfo=zone, fold=1))
    values.append(Own(2026, 1, 1, tzinfo=timezone.utc))
    (storage,) = [f.storage for f in table_info(Item).fields if f.field == "at"]
    for value in values:
        try:
            text = expected(value)
        except OverflowError:
            with pytest.raises(ValueError, match="falls outside the years 1 to 9999"):
                storage.encode(value)
        else:
            assert storage.encode(value) == text, value


def test_nested_blocks_repeat_their_savepoint_statements(make_db: Callable[..., Database]) -> None:
    db = make_db()
    items = db.table(Item)
    seen: list[str] = []
    with db.transaction():
        db.conn.set_trace_callback(seen.append)
        items.insert({"name": "a"})
        items.insert({"name": "b"})
        with db.transaction():
            items.insert({"name": "c"})
            with pytest.raises(RowError), db.transaction():
                items.insert({"name": "d"})
                items.insert({"name": 5})
        db.conn.set_trace_callback(None)
    savepoints = [s for s in seen if "SAVEPOINT" in s]
    assert savepoints == [
        "SAVEPOINT hedystia_block_2",
        "RELEASE SAVEPOINT hedystia_block_2",
        "SAVEPOINT hedystia_block_2",
        "RELEASE SAVEPOINT hedystia_block_2",
        "SAVEPOINT hedystia_block_2",
        "SAVEPOINT hedystia_block_3",
        "RELEASE SAVEPOINT hedystia_block_3",
        "SAVEPOINT hedystia_block_3",
        "SAVEPOINT hedystia_block_4",
        "RELEASE SAVEPOINT hedystia_block_4",
        "ROLLBACK TO SAVEPOINT hedystia_block_3",
        "RELEASE SAVEPOINT hedystia_block_3",
        "RELEASE SAVEPOINT hedystia_block_2",
    ]
    assert [i.name for i in items.find(order_by="id")] == ["a", "b", "c"]


def test_a_savepoint_block_names_sqlite_failures_and_keeps_the_depth(
    make_db: Callable[..., Database],
) -> None:
    db = make_db()
    with db.transaction():
        assert db._depth == 1
        with pytest.raises(sqlite3.OperationalError), db.transaction():
            assert db._depth == 2
            db.conn.execute("SELECT * FROM no_such_table")
        assert db._depth == 1 and db.in_transaction
    assert db._depth == 0
    db.close()
    with pytest.raises(DatabaseFileError, match="is closed"):
        db.table(Item).get(1)


def test_get_finds_what_find_first_finds(make_db: Callable[..., Database]) -> None:
    class Pair(Table, table="pairs"):
        a: int = Field(primary_key=True)
        b: str = Field(primary_key=True)
        v: int = 0

    class Money(Table, table="money"):
        amount: Decimal = Field(primary_key=True)

    db = make_db([*MODELS, Pair, Money])
    items = db.table(Item)
    items.insert_many(item_rows(10))
    for key in (1, 2, 1000, 1007, 99, True, 2**70, "3", 1.0):
        try:
            expected: Any = items.find_first(where={"id": {"eq": key}})
        except QueryError as exc:
            with pytest.raises(QueryError) as refused:
                items.get(key)
            assert str(refused.value) == str(exc)
        else:
            assert items.get(key) == expected
    assert items.get(None) is None
    pairs = db.table(Pair)
    pairs.insert({"a": 1, "b": "x", "v": 5})
    assert pairs.get((1, "x")) == Pair(a=1, b="x", v=5)
    assert pairs.get((1, "y")) is None and pairs.get((1, None)) is None
    money = db.table(Money)
    money.insert({"amount": "2.50"})
    assert money.get(Decimal("2.5")) == Money(amount=Decimal("2.50"))  # by number
    db.raw("PRAGMA ignore_check_constraints = ON")
    db.raw("UPDATE items SET color = 'green' WHERE id = 1000")
    with pytest.raises(RowError) as caught:
        items.get(1000)
    assert caught.value.problems == [(0, "color", "'green' is not a valid Color")]


def test_get_with_a_cache_reads_through_the_cache(make_db: Callable[..., Database]) -> None:
    db = make_db(cache=True)
    items = db.table(Item)
    items.insert({"name": "a"})
    first = items.get(1)
    db.conn.execute("UPDATE items SET name = 'behind its back'")
    db.conn.commit()
    assert items.get(1) == first  # a hit: the cache is what get reads first
    items.insert({"name": "b"})  # a write forgets the table
    found = items.get(1)
    assert found is not None and found.name == "behind its back"


def test_find_names_each_rejected_row_as_before(
    make_db: Callable[..., Database], monkeypatch: pytest.MonkeyPatch
) -> None:
    db = make_db()
    items = db.table(Item)
    items.insert_many(item_rows(30))
    db.raw("PRAGMA ignore_check_constraints = ON")
    ids = [row["id"] for row in db.raw("SELECT id FROM items ORDER BY id")]
    db.raw("UPDATE items SET level = 3 WHERE id IN (?, ?)", [ids[2], ids[9]])
    db.raw("UPDATE items SET name = 'far too long for the name field' WHERE id = ?", [ids[9]])
    with pytest.raises(RowError) as fast:
        items.find(order_by="id")
    assert [(i, f) for i, f, _ in fast.value.problems] == [(2, "level"), (9, "name"), (9, "level")]
    db.raw("UPDATE items SET at = 'not a date' WHERE id = ?", [ids[4]])
    with pytest.raises(RowError) as fast:
        items.find(order_by="id")
    # The general path, row by row, raises the same error.
    monkeypatch.setattr(type(items.codec), "_row_values", property(lambda self: _refuse))
    with pytest.raises(RowError) as general:
        items.find(order_by="id")
    assert fast.value.problems == general.value.problems
    assert str(fast.value) == str(general.value)


def _refuse(row: Any) -> Any:
    raise ValueError("take the general path")


# -- the garbage collector ------------------------------------------------------------------


@pytest.fixture
def thresholds() -> Iterator[tuple[int, ...]]:
    saved = gc.get_threshold()
    gc.set_threshold(700, 10, 10)
    yield gc.get_threshold()
    gc.set_threshold(*saved)


def test_large_batches_raise_the_threshold_and_restore_it(thresholds: tuple[int, ...]) -> None:
    raised = (codec_module.BATCH_THRESHOLD, *thresholds[1:])
    with codec_module.fewer_collections(10):
        assert gc.get_threshold() == thresholds  # small batches leave it alone
    with codec_module.fewer_collections(codec_module.LARGE_BATCH):
        assert gc.get_threshold() == raised
        with codec_module.fewer_collections(codec_module.LARGE_BATCH):
            assert gc.get_threshold() == raised
        assert gc.get_threshold() == raised  # the outer batch is still running
    assert gc.get_threshold() == thresholds
    with pytest.raises(RuntimeError), codec_module.fewer_collections(5000):
        raise RuntimeError
    assert gc.get_threshold() == thresholds


def test_thresholds_someone_else_sets_are_theirs(thresholds: tuple[int, ...]) -> None:
    with codec_module.fewer_collections(5000):
        gc.set_threshold(5000, 20, 20)
    assert gc.get_threshold() == (5000, 20, 20)
    gc.set_threshold(0)  # automatic collection off: not turned on by a batch
    with codec_module.fewer_collections(5000):
        assert gc.get_threshold()[0] == 0
    assert gc.get_threshold()[0] == 0


def test_batches_of_several_threads_restore_the_threshold_once(
    thresholds: tuple[int, ...],
) -> None:
    entered, release = threading.Barrier(4), threading.Event()
    seen: list[tuple[int, ...]] = []

    def batch() -> None:
        with codec_module.fewer_collections(5000):
            entered.wait()
            release.wait()
            seen.append(gc.get_threshold())

    workers = [threading.Thread(target=batch) for _ in range(3)]
    for worker in workers:
        worker.start()
    entered.wait()
    assert gc.get_threshold()[0] == codec_module.BATCH_THRESHOLD
    release.set()
    for worker in workers:
        worker.join()
    assert gc.get_threshold() == thresholds
    assert len(seen) == 3


def test_a_large_find_and_insert_many_leave_the_threshold_as_it_was(
    make_db: Callable[..., Database], thresholds: tuple[int, ...]
) -> None:
    db = make_db()
    items = db.table(Item)
    assert len(items.insert_many([{"name": f"n{i}"} for i in range(1500)])) == 1500
    assert items.insert_many([{"name": f"m{i}"} for i in range(1500)], returning=False) == 1500
    assert len(items.find()) == 3000
    assert gc.get_threshold() == thresholds


def test_generated_row_functions_take_any_key(make_db: Callable[..., Database]) -> None:
    class Odd(Table, table="odd"):
        id: int | None = Field(default=None, primary_key=True)
        quote: str = Field(alias='it\'s "odd"\\n')
        when: datetime | None = None

    db = make_db([Odd])
    odd = db.table(Odd)
    stored = odd.insert({'it\'s "odd"\\n': "x", "when": datetime(2026, 1, 1, tzinfo=UTC)})
    assert stored.quote == "x" and odd.get(stored.id) == stored
    assert odd.insert_many([{'it\'s "odd"\\n': "y"}], returning=False) == 1
    assert [o.quote for o in odd.find(order_by="id")] == ["x", "y"]


def test_the_typing_module_runs(tmp_path: Path) -> None:
    """``tests/typecheck/insert_types.py`` is checked by mypy in CI; here it runs."""
    from typecheck import insert_types

    with database(
        schemas=[insert_types.Note], connection=tmp_path / "n.db", sync_schemas=True
    ) as db:
        insert_types.the_sync_api(db, False)
        asyncio.run(insert_types.the_async_api(db, True))
        assert db.table(insert_types.Note).count() == 7
