"""Regression tests for bugs found by an adversarial review of the library (one test per bug)."""

from __future__ import annotations

from pathlib import Path
from uuid import UUID, uuid4

import pytest
from pydantic import ConfigDict, field_validator

from hedystia_models import (
    Field,
    MigrationError,
    QueryError,
    RowError,
    SyncError,
    Table,
    database,
    migration,
)


def test_a_rebuild_inside_a_user_transaction_never_cascades_into_child_rows(
    db_path: Path,
) -> None:
    class Parent(Table, table="parents"):
        id: int | None = Field(default=None, primary_key=True)
        name: str
        nick: str | None = Field(default=None, index=True)

    class Child(Table, table="children"):
        id: int | None = Field(default=None, primary_key=True)
        parent_id: int = Field(references=Parent, on_delete="cascade")

    with database(schemas=[Parent, Child], connection=db_path, sync_schemas=True) as db:
        parent = db.table(Parent).insert({"name": "Ann", "nick": "a"})
        db.table(Child).insert({"parent_id": parent.id})

    # Changing a column's definition rebuilds its table.
    drop_nick = migration(
        "drop_nick",
        up=lambda ctx: ctx.schema.alter_column("parents", "nick", {"type": "varchar", "length": 9}),
    )
    with database(schemas=[], connection=db_path, migrations=[drop_nick]) as db:
        with pytest.raises(MigrationError, match="drop_nick") as caught, db.transaction():
            db.migrate_up()
        assert "children" in str(caught.value)
        # The child row survived, and nothing was applied.
        assert db.raw("SELECT parent_id FROM children") == [{"parent_id": 1}]
        assert db.migration_status().pending == ["drop_nick"]
        # Outside a transaction the same migration works and keeps the child rows.
        assert db.migrate_up() == ["drop_nick"]
        assert db.raw("SELECT parent_id FROM children") == [{"parent_id": 1}]


def test_a_non_transactional_migration_does_not_commit_the_enclosing_transaction(
    db_path: Path,
) -> None:
    class Item(Table, table="items"):
        id: int | None = Field(default=None, primary_key=True)
        name: str

    loose = migration(
        "loose", up=lambda ctx: ctx.sql("CREATE TABLE extra (x)"), transactional=False
    )
    with database(schemas=[Item], connection=db_path, sync_schemas=True, migrations=[loose]) as db:
        with pytest.raises(MigrationError, match="loose"), db.transaction():
            db.table(Item).insert({"name": "temp"})
            db.migrate_up()
        # The block was left with an error, so everything in it was rolled back.
        assert db.raw("SELECT name FROM items") == []
        assert db.migration_status().pending == ["loose"]
        assert "extra" not in db.sqlite.table_names()


def test_a_strict_model_reads_back_its_json_tuples_and_sets() -> None:
    class Strict(Table, table="strict_rows"):
        model_config = ConfigDict(strict=True)
        id: int | None = Field(default=None, primary_key=True)
        point: tuple[int, int] = (0, 0)
        tags: set[str] = set()

    with database(schemas=[Strict], connection=":memory:", sync_schemas=True) as db:
        rows = db.table(Strict)
        stored = rows.insert(Strict(point=(1, 2), tags={"a"}))
        assert (stored.point, stored.tags) == ((1, 2), {"a"})
        assert rows.find() == [stored]


def test_a_uuid_given_in_another_form_finds_its_row() -> None:
    class Token(Table, table="tokens"):
        id: UUID = Field(default_factory=uuid4, primary_key=True)

    with database(schemas=[Token], connection=":memory:", sync_schemas=True) as db:
        tokens = db.table(Token)
        token = tokens.insert({})
        assert tokens.get(str(token.id).upper()) == token
        assert tokens.get(token.id.hex) == token
        assert tokens.find(where={"id": {"in": [token.id.urn]}}) == [token]


STRICT_TABLE = (
    "CREATE TABLE tags (id INTEGER PRIMARY KEY, label TEXT COLLATE NOCASE NOT NULL) STRICT"
)


def test_adding_a_column_by_rebuild_never_drops_strict_or_collate() -> None:
    class Tag(Table, table="tags"):
        id: int | None = Field(default=None, primary_key=True)
        label: str
        slug: str  # NOT NULL without a default: on an empty table, only a rebuild adds it

    with database(schemas=[Tag], connection=":memory:") as db:
        db.raw(STRICT_TABLE)
        [op] = db.plan().blocked
        assert "COLLATE, STRICT" in (op.reason or "")
        with pytest.raises(SyncError, match="slug"):
            db.sync()
        assert db.raw("SELECT sql FROM sqlite_master WHERE name = 'tags'") == [
            {"sql": STRICT_TABLE}
        ]

    add_slug = migration(
        "add_slug",
        up=lambda ctx: ctx.schema.add_column("tags", "slug", {"type": "text", "notNull": True}),
    )
    with database(schemas=[], connection=":memory:", migrations=[add_slug]) as db:
        db.raw(STRICT_TABLE)
        with pytest.raises(MigrationError, match="would lose its COLLATE, STRICT"):
            db.migrate_up()
        assert db.raw("SELECT sql FROM sqlite_master WHERE name = 'tags'") == [
            {"sql": STRICT_TABLE}
        ]


@pytest.mark.parametrize(
    "index_sql",
    [
        "CREATE INDEX people_lower_email ON people (lower(email))",
        'CREATE INDEX people_named ON people (name) WHERE "email" IS NOT NULL',
    ],
)
def test_drop_column_drops_expression_and_partial_indexes_that_use_it(index_sql: str) -> None:
    drop_email = migration("drop_email", up=lambda ctx: ctx.schema.drop_column("people", "email"))
    with database(schemas=[], connection=":memory:", migrations=[drop_email]) as db:
        db.raw("CREATE TABLE people (id INTEGER PRIMARY KEY, name TEXT, email TEXT)")
        db.raw("CREATE INDEX people_name ON people (name)")
        db.raw(index_sql)
        db.raw("INSERT INTO people (name, email) VALUES ('Ann', 'ann@example.com')")
        assert db.migrate_up() == ["drop_email"]
        assert [c["name"] for c in db.raw("PRAGMA table_info(people)")] == ["id", "name"]
        assert [i["name"] for i in db.raw("PRAGMA index_list(people)")] == ["people_name"]
        assert db.raw("SELECT name FROM people") == [{"name": "Ann"}]


def test_insert_reads_back_its_row_when_a_column_is_named_rowid() -> None:
    class Entry(Table, table="entries"):
        code: str = Field(primary_key=True)
        rowid: int = 0  # shadows SQLite's own rowid name

    with database(schemas=[Entry], connection=":memory:", sync_schemas=True) as db:
        entries = db.table(Entry)
        assert entries.insert({"code": "a", "rowid": 5}) == Entry(code="a", rowid=5)
        assert entries.insert({"code": "b", "rowid": 1}) == Entry(code="b", rowid=1)
        assert entries.insert({"code": "c", "rowid": 1}) == Entry(code="c", rowid=1)


def test_update_stores_the_values_the_model_validators_return() -> None:
    class Account(Table, table="accounts"):
        id: int | None = Field(default=None, primary_key=True)
        email: str

        @field_validator("email")
        @classmethod
        def lower_case(cls, value: str) -> str:
            return value.strip().lower()

    with database(schemas=[Account], connection=":memory:", sync_schemas=True) as db:
        accounts = db.table(Account)
        accounts.insert_many([{"email": "Ann@X.org"}, {"email": "bo@x.org"}])
        updated = accounts.update(where={"id": 1}, data={"email": " Anna@X.org "})
        assert [a.email for a in updated] == ["anna@x.org"]
        # What update returned is what the table holds, so it can be found again.
        assert db.raw("SELECT email FROM accounts ORDER BY id") == [
            {"email": "anna@x.org"},
            {"email": "bo@x.org"},
        ]
        assert accounts.find(where={"email": "anna@x.org"}) == updated


def test_insert_whose_stored_row_the_model_rejects_keeps_nothing() -> None:
    calls = {"n": 0}

    class Once(Table, table="validated_once"):
        id: int | None = Field(default=None, primary_key=True)
        name: str

        @field_validator("name")
        @classmethod
        def only_first_time(cls, value: str) -> str:
            calls["n"] += 1
            if calls["n"] > 1:
                raise ValueError("seen before")
            return value

    db = database(schemas=[Once], connection=":memory:", sync_schemas=True)
    with pytest.raises(RowError, match="seen before"):
        db.table(Once).insert({"name": "x"})
    assert db.raw("SELECT count(*) AS n FROM validated_once") == [{"n": 0}]


def test_a_where_integer_beyond_64_bits_is_a_query_error_naming_the_field() -> None:
    class Big(Table, table="big_where"):
        id: int | None = Field(default=None, primary_key=True)

    db = database(schemas=[Big], connection=":memory:", sync_schemas=True)
    for call in (
        lambda: db.table(Big).find(where={"id": 2**70}),
        lambda: db.table(Big).count(where={"id": {"gt": -(2**70)}}),
        lambda: db.table(Big).delete(where={"id": 2**64}),
    ):
        with pytest.raises(QueryError, match=r"'id'.*64-bit"):
            call()


def test_drop_column_refuses_to_lose_a_multi_column_unique_constraint() -> None:
    class Pair(Table, table="pairs"):
        id: int | None = Field(default=None, primary_key=True)

    db = database(schemas=[Pair], connection=":memory:")
    db.raw("CREATE TABLE pairs (id INTEGER PRIMARY KEY, a TEXT, b TEXT, c TEXT, UNIQUE (a, b))")
    db.raw("INSERT INTO pairs (a, b, c) VALUES ('x', 'y', 'z')")
    before = db.raw("SELECT sql FROM sqlite_master WHERE name = 'pairs'")
    db.migrations = [migration("drop_b", up=lambda ctx: ctx.schema.drop_column("pairs", "b"))]
    with pytest.raises(MigrationError, match=r"UNIQUE \(a, b\)"):
        db.migrate_up()
    assert db.raw("SELECT sql FROM sqlite_master WHERE name = 'pairs'") == before
    assert db.raw("SELECT a, b, c FROM pairs") == [{"a": "x", "b": "y", "c": "z"}]


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
