"""Instances (issue 13): ``save(instance)`` inserts or updates by key, ``delete(instance)``
deletes by key, and fields declared ``refresh_on_update`` are set again by every update."""

from __future__ import annotations

import asyncio
import itertools
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Annotated, Any

import pydantic
import pytest
from typing_extensions import assert_type

from hedystia_models import (
    Column,
    Database,
    Field,
    QueryError,
    Repository,
    RowError,
    SchemaError,
    Table,
    database,
)

START = datetime(2026, 1, 1, tzinfo=timezone.utc)
_ticks = itertools.count()


def tick() -> datetime:
    """A clock that moves one second on each call."""
    return START + timedelta(seconds=next(_ticks))


@pytest.fixture(autouse=True)
def reset_clock() -> None:
    global _ticks
    _ticks = itertools.count()


class Note(Table, table="notes"):
    id: int | None = Field(default=None, primary_key=True, auto_increment=True)
    text: str = Field(min_length=1)
    email: str | None = Field(default=None, unique=True)
    created_at: datetime = Field(default_factory=lambda: tick())
    updated_at: datetime = Field(default_factory=lambda: tick(), refresh_on_update=True)


class Pair(Table, table="pairs"):
    left: str = Field(primary_key=True)
    right: int = Field(primary_key=True)
    label: str = ""


class Keyless(Table, table="keyless"):
    value: int


class OnlyKey(Table, table="only_key"):
    code: str = Field(primary_key=True)


class Tagged(Table, table="tagged"):
    id: int | None = Field(default=None, primary_key=True)
    name: str
    revision: Annotated[int, Column(refresh_on_update=lambda: 7)] = 0


MODELS = [Note, Pair, Keyless, OnlyKey, Tagged]


@pytest.fixture
def db(connect: Any) -> Database:
    """The models on a new database, on each engine."""
    db: Database = connect(schemas=MODELS, sync_schemas=True)
    return db


@pytest.fixture
def notes(db: Database) -> Repository[Note]:
    return db.table(Note)


def raw_notes(db: Database) -> list[dict[str, Any]]:
    return db.raw("SELECT * FROM notes ORDER BY id")


# -- save ------------------------------------------------------------------------------------


def test_save_without_a_key_inserts_and_returns_the_stored_row(notes: Repository[Note]) -> None:
    draft = Note(text="hello")
    saved = notes.save(draft)
    assert_type(saved, Note)
    assert saved.id == 1 and saved.text == "hello"
    assert draft.id is None  # the argument is not changed
    assert notes.get(1) == saved


def test_save_with_a_key_updates_the_row(db: Database, notes: Repository[Note]) -> None:
    first = notes.save(Note(text="one"))
    assert (first.created_at, first.updated_at) == (START, START + timedelta(seconds=1))
    first.text = "two"
    second = notes.save(first)
    assert second.id == first.id and second.text == "two"
    assert second.created_at == START  # kept
    assert second.updated_at == START + timedelta(seconds=2)  # refreshed
    assert notes.count() == 1
    assert notes.get(first.id) == second


def test_save_with_a_key_no_row_has_inserts_it(notes: Repository[Note]) -> None:
    saved = notes.save(Note(id=41, text="given key"))
    assert saved.id == 41 and notes.count() == 1
    # The insert path keeps the instance's own timestamp; no refresh on an insert.
    assert saved.updated_at == START + timedelta(seconds=1)


def test_save_is_one_statement(db: Database, notes: Repository[Note]) -> None:
    saved = notes.save(Note(text="x"))
    statements: list[str] = []
    db.conn.set_trace_callback(statements.append)
    try:
        notes.save(saved.model_copy(update={"text": "y"}))
    finally:
        db.conn.set_trace_callback(None)
    writes = [s for s in statements if s.split()[0] in ("INSERT", "UPDATE", "SELECT", "DELETE")]
    assert len(writes) == 1 and "ON CONFLICT" in writes[0], statements


def test_save_validates_the_instance_again(db: Database, notes: Repository[Note]) -> None:
    saved = notes.save(Note(text="fine"))
    saved.text = ""  # Pydantic does not check assignments
    with pytest.raises(RowError) as caught:
        notes.save(saved)
    assert caught.value.problems == [(None, "text", "String should have at least 1 character")]
    stored = notes.get(saved.id)
    assert stored is not None and stored.text == "fine"


def test_save_breaking_a_unique_key_is_a_row_error(notes: Repository[Note]) -> None:
    notes.save(Note(text="a", email="a@x"))
    b = notes.save(Note(text="b", email="b@x"))
    b.email = "a@x"
    with pytest.raises(RowError, match=r"UNIQUE constraint failed: notes\.email") as caught:
        notes.save(b)
    assert caught.value.problems[0][:2] == (None, "email")
    assert notes.get(b.id).email == "b@x"  # type: ignore[union-attr]


def test_save_a_composite_key(db: Database) -> None:
    pairs = db.table(Pair)
    pairs.save(Pair(left="a", right=1, label="first"))
    pairs.save(Pair(left="a", right=2))
    again = pairs.save(Pair(left="a", right=1, label="changed"))
    assert again == Pair(left="a", right=1, label="changed")
    assert pairs.count() == 2


def test_save_a_table_of_key_columns_only(db: Database) -> None:
    codes = db.table(OnlyKey)
    assert codes.save(OnlyKey(code="x")) == OnlyKey(code="x")
    assert codes.save(OnlyKey(code="x")) == OnlyKey(code="x")  # already there: unchanged
    assert codes.count() == 1


def test_save_takes_an_instance_of_the_model(db: Database, notes: Repository[Note]) -> None:
    with pytest.raises(QueryError, match=r"save\(\) takes an instance of Note \(got dict\)"):
        notes.save({"text": "x"})  # type: ignore[arg-type]
    with pytest.raises(QueryError, match=r"save\(\) takes an instance of Note \(got Pair\)"):
        notes.save(Pair(left="a", right=1))  # type: ignore[arg-type]
    assert notes.count() == 0


def test_save_and_delete_need_a_primary_key(db: Database) -> None:
    keyless = db.table(Keyless)
    message = r"table 'keyless' has no primary key: save\(\) finds its row by the key"
    with pytest.raises(QueryError, match=message):
        keyless.save(Keyless(value=1))
    with pytest.raises(QueryError, match=r"table 'keyless' has no primary key: delete\(\)"):
        keyless.delete(Keyless(value=1))
    assert keyless.count() == 0


def test_save_inside_a_transaction_rolls_back_with_it(
    db: Database, notes: Repository[Note]
) -> None:
    kept = notes.save(Note(text="kept"))
    with pytest.raises(RuntimeError), db.transaction():
        notes.save(kept.model_copy(update={"text": "lost"}))
        notes.save(Note(text="also lost"))
        raise RuntimeError
    assert [n.text for n in notes.find()] == ["kept"]


# -- delete(instance) --------------------------------------------------------------------------


def test_delete_an_instance_by_its_key(notes: Repository[Note]) -> None:
    a = notes.save(Note(text="a"))
    b = notes.save(Note(text="b"))
    assert_type(notes.delete(a), int)
    assert notes.delete(a) == 0  # already gone: nothing to delete, no error
    assert [n.id for n in notes.find()] == [b.id]
    changed = b.model_copy(update={"text": "other text"})
    assert notes.delete(changed) == 1  # the key decides, not the other fields
    assert notes.count() == 0


def test_delete_an_instance_with_a_composite_key(db: Database) -> None:
    pairs = db.table(Pair)
    pairs.insert_many([{"left": "a", "right": 1}, {"left": "a", "right": 2}])
    assert pairs.delete(Pair(left="a", right=2)) == 1
    assert pairs.find() == [Pair(left="a", right=1)]


def test_delete_refuses_what_is_not_a_saved_instance(notes: Repository[Note]) -> None:
    notes.save(Note(text="a"))
    with pytest.raises(TypeError, match=r"delete\(\) takes an instance of Note, or a condition"):
        notes.delete({"id": 1})  # type: ignore[call-overload]
    with pytest.raises(QueryError, match=r"table 'notes': delete\(\) takes an instance of Note"):
        notes.delete(Pair(left="a", right=1))  # type: ignore[call-overload]
    with pytest.raises(QueryError, match=r"the Note has no value for its key field 'id'"):
        notes.delete(Note(text="never saved"))
    with pytest.raises(TypeError, match=r"delete\(\) takes an instance or where="):
        notes.delete()  # type: ignore[call-overload]
    with pytest.raises(TypeError, match=r"delete\(\) takes an instance or where="):
        notes.delete(Note(id=1, text="a"), where={})  # type: ignore[call-overload]
    with pytest.raises(QueryError, match=r"delete\(where=None\)"):
        notes.delete(where=None)  # type: ignore[call-overload]
    assert notes.count() == 1


def test_the_async_api_has_save_and_delete(db: Database) -> None:
    async def main() -> None:
        notes = db.aio.table(Note)
        saved = await notes.save(Note(text="async"))
        assert_type(saved, Note)
        renamed = await notes.save(saved.model_copy(update={"text": "renamed"}))
        assert renamed.id == saved.id and renamed.text == "renamed"
        assert_type(await notes.delete(renamed), int)
        assert await notes.delete(renamed) == 0
        assert await notes.delete(where={}) == 0

    asyncio.run(main())


# -- refreshed fields ----------------------------------------------------------------------------


def test_update_refreshes_the_field_once_per_statement(
    db: Database, notes: Repository[Note]
) -> None:
    notes.insert_many([{"text": "a"}, {"text": "b"}])  # ticks 0..3
    rows = notes.update(where={}, data={"text": "c"})
    assert {r.updated_at for r in rows} == {START + timedelta(seconds=4)}  # one value for all
    assert {r.created_at for r in rows} == {START, START + timedelta(seconds=2)}
    assert [n.updated_at for n in notes.find()] == [START + timedelta(seconds=4)] * 2
    stored = {r["updated_at"] for r in raw_notes(db)}
    # SQLite keeps ISO text, PostgreSQL a TIMESTAMPTZ (psycopg gives a datetime)
    text = "2026-01-01 00:00:04+00:00"
    assert stored == ({text} if db.engine == "sqlite" else {START + timedelta(seconds=4)})


def test_an_explicit_value_wins(notes: Repository[Note]) -> None:
    notes.insert({"text": "a"})
    chosen = datetime(2030, 5, 5, tzinfo=timezone.utc)
    (row,) = notes.update(where={"id": 1}, data={"text": "b", "updated_at": chosen})
    assert row.updated_at == chosen


def test_an_update_with_nothing_to_set_refreshes_nothing(notes: Repository[Note]) -> None:
    note = notes.insert({"text": "a"})
    assert notes.update(where={"id": note.id}, data={}) == [note]


def test_an_update_matching_no_row_is_still_fine(notes: Repository[Note]) -> None:
    assert notes.update(where={"id": 99}, data={"text": "b"}) == []


def test_upsert_refreshes_on_its_update_path_only(notes: Repository[Note]) -> None:
    for where in ({"email": "a@x"}, {"text": "plain"}):  # the one-statement path, and the other
        created = notes.upsert(
            where=where, create={"text": "plain", "email": "a@x"}, update={"text": "plain"}
        )
        updated = notes.upsert(
            where=where, create={"text": "plain", "email": "a@x"}, update={"text": "plain"}
        )
        assert updated.id == created.id
        assert updated.created_at == created.created_at
        assert updated.updated_at > created.updated_at
        notes.delete(updated)


def test_a_refresh_callable_given_to_column(db: Database) -> None:
    tagged = db.table(Tagged)
    row = tagged.insert({"name": "a"})
    assert row.revision == 0  # the default, on insert
    (row,) = tagged.update(where={"id": row.id}, data={"name": "b"})
    assert row.revision == 7


def test_a_refreshed_value_is_validated(db_path: Path) -> None:
    class Bad(Table, table="bad"):
        id: int | None = Field(default=None, primary_key=True)
        name: str
        at: datetime = Field(default=START, refresh_on_update=lambda: "not a date")

    with database(schemas=[Bad], connection=db_path, sync_schemas=True) as db:
        bad = db.table(Bad)
        bad.insert({"name": "a"})
        with pytest.raises(RowError) as caught:
            bad.update(where={}, data={"name": "b"})
        assert caught.value.problems[0][:2] == (None, "at")
        assert bad.find() == [Bad(id=1, name="a", at=START)]


def test_refresh_on_update_options_are_checked() -> None:
    with pytest.raises(SchemaError, match=r"Bad1.at: refresh_on_update=True calls the field's "):

        class Bad1(Table, table="bad1"):
            id: int | None = Field(default=None, primary_key=True)
            at: datetime = Field(default=START, refresh_on_update=True)

    with pytest.raises(SchemaError, match=r"Bad2.at: refresh_on_update must be True, False or a"):

        class Bad2(Table, table="bad2"):
            id: int | None = Field(default=None, primary_key=True)
            at: datetime = Field(default=START, refresh_on_update="now")

    with pytest.raises(SchemaError, match=r"Bad3.id: a primary key field cannot be refresh_on"):

        class Bad3(Table, table="bad3"):
            id: int = Field(default_factory=lambda: 1, primary_key=True, refresh_on_update=True)

    class Fine(Table, table="fine"):
        id: int | None = Field(default=None, primary_key=True)
        at: datetime = Field(default_factory=tick, refresh_on_update=False)

    assert Fine.table_spec().column("at").default_sql is None


def test_refresh_on_update_changes_no_schema() -> None:
    class Plain(Table, table="same"):
        id: int | None = Field(default=None, primary_key=True)
        at: datetime = Field(default_factory=tick)

    class Refreshed(Table, table="same"):
        id: int | None = Field(default=None, primary_key=True)
        at: datetime = Field(default_factory=tick, refresh_on_update=True)

    assert Plain.table_spec() == Refreshed.table_spec()


def test_a_pydantic_field_still_validates(notes: Repository[Note]) -> None:
    with pytest.raises(pydantic.ValidationError):
        Note(text="")
