"""The Table base class: names, fields -> columns, keys, indexes, references, errors."""

from __future__ import annotations

import sqlite3
from typing import Annotated

import pytest

from hedystia_models import (
    Column,
    ColumnRef,
    Field,
    Index,
    IndexSpec,
    Reference,
    SchemaError,
    Table,
    database,
)
from hedystia_models.model.table import default_table_name, table_info


@pytest.mark.parametrize(
    ("class_name", "table"),
    [
        ("User", "user"),
        ("UserProfile", "user_profile"),
        ("HTTPLog", "http_log"),
        ("A", "a"),
    ],
)
def test_default_table_name(class_name: str, table: str) -> None:
    assert default_table_name(class_name) == table


def test_table_name_from_class_name_and_keyword() -> None:
    class BlogPost(Table):
        id: int | None = Field(default=None, primary_key=True)

    class Named(Table, table="somewhere else"):
        id: int | None = Field(default=None, primary_key=True)

    assert BlogPost.table_spec().name == "blog_post"
    assert Named.table_spec().name == "somewhere else"
    assert table_info(Named).model is Named


def test_spec_is_built_at_class_creation_and_cached() -> None:
    class Cached(Table, table="cached"):
        id: int | None = Field(default=None, primary_key=True)

    assert Cached.__dict__["__hedystia_info__"] is not None
    assert table_info(Cached) is table_info(Cached)
    assert Cached.table_spec() is Cached.table_spec()


def test_abstract_base_shares_fields_but_is_no_table() -> None:
    class Base(Table, abstract=True):
        id: int | None = Field(default=None, primary_key=True, auto_increment=True)
        created: str = "now"

    class Article(Base, table="articles"):
        title: str

    class Comment(Base):
        body: str

    assert Article.table_spec().column_names == ("id", "created", "title")
    assert Comment.table_spec().name == "comment"
    assert Comment.table_spec().column_names == ("id", "created", "body")
    with pytest.raises(SchemaError, match="not a table model"):
        Base.table_spec()
    with pytest.raises(SchemaError, match="not a table model"):
        Table.table_spec()


def test_field_column_renames_the_column() -> None:
    class Renamed(Table, table="renamed"):
        id: int | None = Field(default=None, primary_key=True, column="ID")
        full_name: str = Field(column="full name")

    info = table_info(Renamed)
    assert Renamed.table_spec().column_names == ("ID", "full name")
    mapping = info.column_for("full_name")
    assert mapping is not None and mapping.column == "full name"
    by_column = info.column_for("FULL NAME")  # column names match case-insensitively
    assert by_column is not None and by_column.field == "full_name"
    assert info.column_for("nothing") is None


def test_two_fields_on_one_column_is_an_error() -> None:
    with pytest.raises(SchemaError, match=r"Clash\.b: column 'A' is also used by field 'a'"):

        class Clash(Table, table="clash"):
            a: int
            b: int = Field(column="A")


def test_unique_and_index_options() -> None:
    class Account(Table, table="accounts", indexes=[Index("first", "last")]):
        id: int | None = Field(default=None, primary_key=True)
        email: str = Field(unique=True)
        handle: str = Field(unique=True, index=True)  # unique already indexes it
        city: str | None = Field(default=None, index=True)
        first: str = ""
        last: str = ""

    spec = Account.table_spec()
    assert spec.column("email").unique is True
    assert spec.column("handle").unique is True
    assert spec.column("city").unique is False
    assert spec.indexes == (
        IndexSpec("accounts_city_index", ("city",)),
        IndexSpec("accounts_first_last_index", ("first", "last")),
    )
    db = database(schemas=[Account], connection=":memory:", sync_schemas=True)
    names = {r["name"] for r in db.raw("SELECT name FROM sqlite_master WHERE type = 'index'")}
    assert {"accounts_city_index", "accounts_first_last_index"} <= names
    db.raw("INSERT INTO accounts (email, handle) VALUES ('a@x', 'a')")
    with pytest.raises(sqlite3.IntegrityError, match="UNIQUE"):
        db.raw("INSERT INTO accounts (email, handle) VALUES ('a@x', 'b')")
    assert db.plan().in_sync


def test_multi_column_unique_index() -> None:
    class Slot(Table, table="slots", indexes=[Index("day", "hour", unique=True)]):
        id: int | None = Field(default=None, primary_key=True)
        day: int
        hour: int

    assert Slot.table_spec().indexes == (IndexSpec("slots_day_hour_unique", ("day", "hour"), True),)
    db = database(schemas=[Slot], connection=":memory:", sync_schemas=True)
    db.raw("INSERT INTO slots (day, hour) VALUES (1, 1), (1, 2)")
    with pytest.raises(sqlite3.IntegrityError, match="UNIQUE"):
        db.raw("INSERT INTO slots (day, hour) VALUES (1, 2)")
    assert db.plan().in_sync


def test_named_index() -> None:
    class Named(Table, table="named_idx", indexes=[Index("a", "b", name="by a then b")]):
        a: int
        b: int

    assert Named.table_spec().indexes == (IndexSpec("by a then b", ("a", "b")),)
    db = database(schemas=[Named], connection=":memory:", sync_schemas=True)
    assert db.plan().in_sync


def test_single_column_unique_index_is_a_unique_column() -> None:
    """Index("x", unique=True) must not drift: SQLite reports it as the column's UNIQUE."""

    class Tagged(Table, table="tagged", indexes=[Index("tag", unique=True)]):
        id: int | None = Field(default=None, primary_key=True)
        tag: str

    spec = Tagged.table_spec()
    assert spec.column("tag").unique is True
    assert spec.indexes == ()
    db = database(schemas=[Tagged], connection=":memory:", sync_schemas=True)
    plan = db.plan()
    assert plan.in_sync, str(plan)
    db.raw("INSERT INTO tagged (tag) VALUES ('a')")
    with pytest.raises(sqlite3.IntegrityError, match="UNIQUE"):
        db.raw("INSERT INTO tagged (tag) VALUES ('a')")


def test_bad_indexes_are_errors() -> None:
    with pytest.raises(SchemaError, match=r"BadIndex: index on unknown field\(s\) \['nope'\]"):

        class BadIndex(Table, table="bad_index", indexes=[Index("a", "nope")]):
            a: int

    with pytest.raises(SchemaError, match="at least one field"):

        class EmptyIndex(Table, table="empty_index", indexes=[Index()]):
            a: int

    with pytest.raises(SchemaError, match="two indexes are named 'dup'"):

        class DupIndex(
            Table, table="dup_index", indexes=[Index("a", name="dup"), Index("b", name="dup")]
        ):
            a: int
            b: int


def test_annotated_column_form() -> None:
    class Annot(Table, table="annot"):
        id: Annotated[int | None, Column(primary_key=True, auto_increment=True)] = None
        code: Annotated[str, Column(unique=True), Column(column="the code")]

    spec = Annot.table_spec()
    assert spec.primary_key == ("id",)
    assert spec.column("id").auto_increment is True
    assert spec.column("the code").unique is True


def test_references_forms() -> None:
    class Author(Table, table="authors"):
        id: int | None = Field(default=None, primary_key=True)
        handle: str = Field(unique=True)

    class Book(Table, table="books"):
        id: int | None = Field(default=None, primary_key=True)
        by_class: int = Field(references=Author, on_delete="cascade")
        by_string: int | None = Field(default=None, references="authors.id", on_update="set null")
        by_ref: str | None = Field(default=None, references=Author.ref("handle"))
        by_tuple: int | None = Field(default=None, references=(Author, "id"))
        by_column_ref: int | None = Field(default=None, references=ColumnRef(Author, "id"))

    spec = Book.table_spec()
    assert spec.column("by_class").references == Reference("authors", "id", on_delete="CASCADE")
    assert spec.column("by_string").references == Reference("authors", "id", on_update="SET NULL")
    assert spec.column("by_ref").references == Reference("authors", "handle")
    assert spec.column("by_tuple").references == Reference("authors", "id")
    assert spec.column("by_column_ref").references == Reference("authors", "id")
    assert spec.foreign_key_targets() == {"authors"}

    db = database(schemas=[Book, Author], connection=":memory:", sync_schemas=True)
    assert db.plan().in_sync
    db.raw("INSERT INTO authors (id, handle) VALUES (1, 'ann')")
    db.raw("INSERT INTO books (by_class, by_ref) VALUES (1, 'ann')")
    with pytest.raises(sqlite3.IntegrityError, match="FOREIGN KEY"):
        db.raw("INSERT INTO books (by_class) VALUES (99)")
    db.raw("DELETE FROM authors WHERE id = 1")  # ON DELETE CASCADE
    assert db.raw("SELECT count(*) AS n FROM books")[0]["n"] == 0


def test_reference_errors() -> None:
    class Pair(Table, table="ref_pairs"):
        a: int = Field(primary_key=True)
        b: int = Field(primary_key=True)

    with pytest.raises(SchemaError, match=r"ToPair\.pair.*2 primary key columns"):

        class ToPair(Table, table="to_pair"):
            pair: int = Field(references=Pair)

    with pytest.raises(SchemaError, match=r"BadString\.x.*'table\.column'"):

        class BadString(Table, table="bad_string"):
            x: int = Field(references="no_dot")

    with pytest.raises(SchemaError, match=r"ActionOnly\.x: on_delete/on_update need references="):

        class ActionOnly(Table, table="action_only"):
            x: int = Field(on_delete="cascade")

    with pytest.raises(SchemaError, match=r"BadAction\.x.*on_delete must be one of"):

        class BadAction(Table, table="bad_action"):
            x: int = Field(references="ref_pairs.a", on_delete="explode")

    with pytest.raises(SchemaError, match="has no field 'nope'"):
        Pair.ref("nope")

    with pytest.raises(SchemaError, match=r"BadTarget\.x: references must be"):

        class BadTarget(Table, table="bad_target"):
            x: int = Field(references=42)


def test_auto_increment_errors() -> None:
    with pytest.raises(SchemaError, match=r"NoKey\.n: auto_increment=True needs primary_key=True"):

        class NoKey(Table, table="no_key"):
            n: int = Field(auto_increment=True)

    with pytest.raises(SchemaError, match=r"TextKey\.code: auto_increment needs a single integer"):

        class TextKey(Table, table="text_key"):
            code: str = Field(primary_key=True, auto_increment=True)


def test_undefined_forward_reference_is_a_schema_error() -> None:
    class Later(Table, table="later"):
        id: int | None = Field(default=None, primary_key=True)
        value: Undefined  # type: ignore[name-defined]  # noqa: F821

    assert Later.__dict__["__hedystia_info__"] is None  # not complete yet
    with pytest.raises(SchemaError, match=r"Later: annotation 'Undefined' is not defined"):
        table_info(Later)


def test_unique_on_single_primary_key_is_implied() -> None:
    class Keyed(Table, table="keyed"):
        code: str = Field(primary_key=True, unique=True)

    column = Keyed.table_spec().column("code")
    assert column.primary_key and not column.unique
    db = database(schemas=[Keyed], connection=":memory:", sync_schemas=True)
    assert db.plan().in_sync


def test_column_metadata_inside_an_optional_annotated_type_is_honoured() -> None:
    class Tagged(Table, table="tagged_optional"):
        id: int | None = Field(default=None, primary_key=True)
        code: Annotated[str, Column(unique=True, column="the_code")] | None = None

    column = Tagged.table_spec().column("the_code")
    assert column.unique is True
    assert column.not_null is False
