"""Bad input is a named error (issue 11): a ``HedystiaError`` naming the model, field, table or
row, raised as early as it can be (class creation, for a model that cannot be a table), with the
database unchanged.

* Names SQLite cannot hold (a NUL character, a lone surrogate) and the reserved prefixes
  (``sqlite_``, ``__hedystia_``) are refused in models, hand-built specs and ``ctx.schema``.
* A model without fields, and a JSON field whose type Pydantic cannot write as JSON, are
  refused at class creation; a model's own config (``arbitrary_types_allowed``) is the config
  of every adapter the package builds for its fields.
* Text that is not valid UTF-8 and ``model_construct`` instances missing a field are row errors.
* A constraint SQLite refuses names its field(s): unique, foreign key (looked up in the parent
  table), ``NOT NULL`` and ``CHECK``, for ``insert``, ``insert_many``, ``update`` and ``delete``.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Annotated, Any

import pydantic
import pytest
from pydantic import ConfigDict, PlainSerializer

from hedystia_models import (
    ColumnSpec,
    Database,
    Field,
    HedystiaError,
    Index,
    IndexSpec,
    MigrationError,
    QueryError,
    Reference,
    RowError,
    SchemaError,
    SpecError,
    Table,
    TableSpec,
    database,
    migration,
)
from hedystia_models.schema.quoting import quote_identifier


def make(name: str = "Bad", table: str | None = "bad", indexes: Any = (), **fields: Any) -> Any:
    """A model class made with ``pydantic.create_model`` (fields as ``(annotation, default)``)."""
    keywords: dict[str, Any] = {"indexes": indexes}
    if table is not None:
        keywords["table"] = table
    return pydantic.create_model(name, __base__=Table, __cls_kwargs__=keywords, **fields)


ID = (int | None, Field(default=None, primary_key=True))

# -- models: names ----------------------------------------------------------------------------


def test_a_model_without_fields_is_refused_at_class_creation() -> None:
    with pytest.raises(SchemaError, match=r"^Empty: a table needs at least one field"):

        class Empty(Table):
            pass

    class Base(Table, abstract=True):  # an abstract base may have none
        pass

    class Concrete(Base, table="concrete"):
        id: int = Field(primary_key=True)

    assert Concrete.table_spec().column_names == ("id",)


@pytest.mark.parametrize(
    ("table", "problem"),
    [
        ("sqlite_stuff", "starts with 'sqlite_', which SQLite reserves"),
        ("SQLite_Stuff", "starts with 'sqlite_', which SQLite reserves"),
        ("__hedystia_migrations", "starts with '__hedystia_', which hedystia-models reserves"),
        ("__HEDYSTIA_state", "starts with '__hedystia_', which hedystia-models reserves"),
        ("a\x00b", "contains a NUL character"),
        ("a\ud800", "contains a lone surrogate"),
    ],
)
def test_a_table_name_sqlite_cannot_take_is_refused(table: str, problem: str) -> None:
    with pytest.raises(SchemaError) as caught:
        make(table=table, id=ID)
    assert str(caught.value).startswith(f"Bad: table= {table!r} {problem}")


def test_a_class_name_giving_a_reserved_table_name_is_refused() -> None:
    with pytest.raises(SchemaError, match="table name 'sqlite_log' starts with 'sqlite_'"):
        make(name="SqliteLog", table=None, id=ID)


@pytest.mark.parametrize(
    ("column", "problem"),
    [("a\x00", "contains a NUL character"), ("\udcff", "contains a lone surrogate")],
)
def test_a_column_name_sqlite_cannot_take_is_refused(column: str, problem: str) -> None:
    with pytest.raises(SchemaError) as caught:
        make(id=ID, value=(int, Field(0, column=column)))
    assert str(caught.value).startswith(f"Bad.value: column= {column!r} {problem}")


def test_column_names_may_use_the_reserved_prefixes() -> None:
    model = make(id=ID, value=(int, Field(0, column="sqlite_value")))
    assert model.table_spec().column_names == ("id", "sqlite_value")


@pytest.mark.parametrize(
    ("name", "problem"),
    [
        ("sqlite_autoindex_bad_1", "starts with 'sqlite_'"),
        ("__hedystia_index", "starts with '__hedystia_'"),
        ("i\x00", "contains a NUL character"),
        ("i\ud800", "contains a lone surrogate"),
    ],
)
def test_an_index_name_sqlite_cannot_take_is_refused(name: str, problem: str) -> None:
    with pytest.raises(SchemaError) as caught:
        make(indexes=[Index("a", "b", name=name)], id=ID, a=(int, 0), b=(int, 0))
    assert str(caught.value).startswith(f"Bad: index name {name!r} {problem}")


@pytest.mark.parametrize(
    ("field", "problem"),
    [
        ((str, "\ud800"), "default '\\ud800' cannot be written in SQL (a DEFAULT string contains"),
        (
            (list[str], ["\ud800"]),
            "default ['\\ud800'] cannot be stored as an SQL DEFAULT (text with a lone",
        ),
        ((int, Field(0, check="value > '\ud800'")), "check \"value > '\\ud800'\" contains a lone"),
        ((int, Field(0, sql_type="INT\x00")), "sql_type 'INT\\x00' contains a NUL character"),
    ],
)
def test_sql_text_sqlite_cannot_hold_is_refused_at_class_creation(field: Any, problem: str) -> None:
    with pytest.raises(SchemaError) as caught:
        make(id=ID, value=field)
    assert str(caught.value).startswith(f"Bad.value: {problem}")


# -- specs and quoting --------------------------------------------------------------------------


@pytest.mark.parametrize("bad", ["a\x00", "a\ud800"])
def test_hand_built_specs_refuse_names_sqlite_cannot_hold(bad: str) -> None:
    column = ColumnSpec("id", "INTEGER", primary_key=True)
    with pytest.raises(SpecError, match=r"^a column name .* contains"):
        ColumnSpec(bad, "TEXT")
    with pytest.raises(SpecError, match=r"^a table name .* contains"):
        TableSpec(bad, (column,))
    with pytest.raises(SpecError, match=r"^a reference: table .* contains"):
        Reference(bad, "id")
    with pytest.raises(SpecError, match=r"^table 't': index name .* contains"):
        TableSpec("t", (column,), indexes=(IndexSpec(bad, ("id",)),))
    with pytest.raises(SpecError, match=r"^table 't': index 'i': column .* contains"):
        TableSpec("t", (column,), indexes=(IndexSpec("i", (bad,)),))
    with pytest.raises(SpecError, match="contains"):
        quote_identifier(bad)


def test_a_hand_built_table_needs_a_column() -> None:
    with pytest.raises(SpecError, match=r"^table 't' needs at least one column"):
        TableSpec("t", ())


# -- ctx.schema -------------------------------------------------------------------------------


class Thing(Table, table="things"):
    id: int | None = Field(default=None, primary_key=True)
    name: str = ""


def run_migration(tmp_path: Path, up: Callable[[Any], None]) -> MigrationError:
    path = tmp_path / "m.db"
    with database(schemas=[Thing], connection=path, sync_schemas=True):
        pass
    before = dump(path)
    step = migration("0001_bad", up=up)
    with (
        database(schemas=[Thing], connection=path, migrations=[step]) as db,
        pytest.raises(MigrationError) as caught,
    ):
        db.migrate_up()
    assert dump(path) == before
    return caught.value


def dump(path: Path) -> list[str]:
    conn = sqlite3.connect(path)
    try:
        return list(conn.iterdump())
    finally:
        conn.close()


@pytest.mark.parametrize(
    ("call", "problem"),
    [
        (lambda ctx: ctx.schema.rename_table("things", "sqlite_things"), "starts with 'sqlite_'"),
        (
            lambda ctx: ctx.schema.rename_table("things", "__hedystia_things"),
            "starts with '__hedystia_'",
        ),
        (lambda ctx: ctx.schema.rename_table("things", "t\ud800"), "lone surrogate"),
        (lambda ctx: ctx.schema.rename_column("things", "name", "n\ud800"), "lone surrogate"),
        (lambda ctx: ctx.schema.rename_column("things", "name", "n\x00"), "NUL character"),
        (lambda ctx: ctx.schema.add_column("things", "c\ud800", {"type": "text"}), "surrogate"),
        (
            lambda ctx: ctx.schema.add_index("things", "name", name="sqlite_i"),
            "starts with 'sqlite_'",
        ),
        (lambda ctx: ctx.schema.drop_table("__hedystia_migrations"), "starts with '__hedystia_'"),
        (
            lambda ctx: ctx.schema.create_table(
                TableSpec("sqlite_x", (ColumnSpec("id", "INTEGER"),))
            ),
            "starts with 'sqlite_'",
        ),
    ],
)
def test_ctx_schema_refuses_names_sqlite_cannot_take(
    tmp_path: Path, call: Callable[[Any], None], problem: str
) -> None:
    error = run_migration(tmp_path, call)
    assert str(error).startswith("migration '0001_bad': ")
    assert problem in str(error)


# -- models: JSON columns ---------------------------------------------------------------------


class Opaque:
    """A class Pydantic knows nothing about."""

    def __init__(self, x: int = 0) -> None:
        self.x = x

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Opaque) and other.x == self.x

    def __hash__(self) -> int:
        return self.x


@pytest.mark.parametrize(
    ("annotation", "what"),
    [
        (list[Callable[[], int]], "a callable"),
        (dict[str, Callable[..., Any]] | None, "a callable"),
        (list[type[int]], "a class"),
        (list[type], "type values"),
        (set[Opaque], "Opaque values"),
        (dict[str, list[Opaque]], "Opaque values"),
    ],
)
def test_a_json_field_pydantic_cannot_write_is_refused_at_class_creation(
    annotation: Any, what: str
) -> None:
    with pytest.raises(SchemaError) as caught:
        pydantic.create_model(
            "Bad",
            __base__=Table,
            __cls_kwargs__={"table": "bad"},
            __config__=ConfigDict(arbitrary_types_allowed=True),
            id=ID,
            value=(annotation, None),
        )
    message = str(caught.value)
    assert message.startswith("Bad.value: ")
    assert f"cannot be stored as JSON: Pydantic cannot write {what} as JSON" in message


def test_a_deferred_model_is_checked_when_it_is_built() -> None:
    class Deferred(Table, table="deferred"):
        model_config = ConfigDict(defer_build=True)
        id: int | None = Field(default=None, primary_key=True)
        hooks: list[Callable[[], int]] = []

    with pytest.raises(SchemaError, match=r"^Deferred\.hooks: .* Pydantic cannot write a callable"):
        Deferred.table_spec()


class Loose(pydantic.BaseModel):
    a: Any = None
    b: object = None


class Anything(Table, table="anything"):
    id: int | None = Field(default=None, primary_key=True)
    items: list[Any] = []
    mapping: dict[str, object] = {}
    nested: Loose = Loose()
    strs: list[Annotated[Opaque, PlainSerializer(lambda v: v.x, return_type=int)]] = Field(
        default_factory=list
    )
    model_config = ConfigDict(arbitrary_types_allowed=True)


def test_any_object_and_serializers_keep_working(tmp_path: Path) -> None:
    with database(schemas=[Anything], connection=tmp_path / "a.db", sync_schemas=True) as db:
        stored = db.table(Anything).insert(
            {"items": [1, "a", None], "mapping": {"k": [1.5]}, "nested": {"a": {"x": 1}, "b": 2}}
        )
        assert (stored.items, stored.mapping) == ([1, "a", None], {"k": [1.5]})
        assert stored.nested == Loose(a={"x": 1}, b=2)
        assert db.raw("SELECT strs FROM anything") == [{"strs": "[]"}]
        # A value Any cannot write is named when it is stored.
        with pytest.raises(RowError, match="field 'items': cannot be stored"):
            db.table(Anything).insert({"items": [Opaque()]})


class Stored:
    """An arbitrary type a model accepts, written to JSON by its serializer."""

    def __init__(self, x: int) -> None:
        self.x = x

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Stored) and other.x == self.x

    def __hash__(self) -> int:
        return self.x


def _stored(value: Any) -> Stored:
    return value if isinstance(value, Stored) else Stored(int(value))


StoredType = Annotated[
    Stored,
    pydantic.PlainValidator(_stored),
    PlainSerializer(lambda v: v.x, return_type=int),
]


class Bag(Table, table="bags"):
    model_config = ConfigDict(arbitrary_types_allowed=True)
    id: int | None = Field(default=None, primary_key=True)
    items: set[Annotated[Stored, PlainSerializer(lambda v: v.x, return_type=int)]] = Field(
        default_factory=set
    )
    typed: list[StoredType] = Field(default_factory=list)


def test_a_model_with_arbitrary_types_is_built_with_its_config(tmp_path: Path) -> None:
    spec = Bag.table_spec()
    assert spec.column("items").type == "TEXT"
    with database(schemas=[Bag], connection=tmp_path / "b.db", sync_schemas=True) as db:
        bags = db.table(Bag)
        bags.insert({"typed": [1, 2]})
        assert db.raw("SELECT items, typed FROM bags") == [{"items": "[]", "typed": "[1,2]"}]
        assert bags.find(where={"typed": [1, 2]})[0].typed == [Stored(1), Stored(2)]
        bags.update(where={}, data={"typed": [Stored(3)]})
        assert db.raw("SELECT typed FROM bags") == [{"typed": "[3]"}]


# -- rows: text that is not UTF-8 --------------------------------------------------------------


class Note(Table, table="notes"):
    id: int | None = Field(default=None, primary_key=True)
    text: str = ""
    tags: list[str] = []
    meta: dict[str, str] = {}


@pytest.fixture
def notes(tmp_path: Path) -> Iterator[Database]:
    with database(schemas=[Note], connection=tmp_path / "n.db", sync_schemas=True) as db:
        db.table(Note).insert({"text": "kept"})
        yield db


SURROGATE = "text with a lone surrogate, which is not valid UTF-8"


def test_a_lone_surrogate_is_a_row_error_naming_row_and_field(notes: Database) -> None:
    table = notes.table(Note)
    with pytest.raises(RowError) as caught:
        table.insert({"text": "\ud800"})
    assert caught.value.problems == [(None, "text", SURROGATE)]
    with pytest.raises(RowError) as caught:
        table.insert_many([{"text": "ok"}, {"text": "x\udfff"}])
    assert caught.value.problems == [(1, "text", SURROGATE)]
    with pytest.raises(RowError) as caught:
        table.update(where={}, data={"text": "\ud800"})
    assert caught.value.problems == [(None, "text", SURROGATE)]
    for data in ({"tags": ["\ud800"]}, {"meta": {"\ud800": "key"}}, {"meta": {"k": "\ud800"}}):
        with pytest.raises(RowError) as caught:
            table.insert(data)
        field = next(iter(data))
        assert caught.value.problems == [(None, field, f"cannot be stored: {SURROGATE}")]
        with pytest.raises(RowError) as caught:
            table.insert_many([{}, data])
        assert caught.value.problems == [(1, field, f"cannot be stored: {SURROGATE}")]
    assert [n.text for n in table.find()] == ["kept"]


def test_a_lone_surrogate_in_a_where_value_is_a_query_error(notes: Database) -> None:
    table = notes.table(Note)
    for where in (
        {"text": "\ud800"},
        {"text": {"in": ["a", "\ud800"]}},
        {"tags": ["\ud800"]},
    ):
        with pytest.raises(QueryError, match="surrogate"):
            table.find(where=where)
        with pytest.raises(QueryError, match="surrogate"):
            table.delete(where=where)
    with pytest.raises(QueryError, match="'like' on 'text' takes a pattern string"):
        table.find(where={"text": {"like": "\ud800%"}})
    assert table.count() == 1


# -- rows: model_construct ------------------------------------------------------------------


class Person(Table, table="persons"):
    id: int | None = Field(default=None, primary_key=True)
    name: str
    age: int = 0


@pytest.fixture
def persons(tmp_path: Path) -> Iterator[Database]:
    with database(schemas=[Person], connection=tmp_path / "p.db", sync_schemas=True) as db:
        yield db


def test_a_constructed_instance_missing_a_field_is_a_row_error(persons: Database) -> None:
    table = persons.table(Person)
    built = Person.model_construct(age=3)  # no name: skips validation
    with pytest.raises(RowError) as caught:
        table.insert(built)
    assert caught.value.problems == [(None, "name", "Field required")]
    with pytest.raises(RowError) as caught:
        table.insert_many([Person(name="Ann"), built])
    assert caught.value.problems == [(1, "name", "Field required")]
    with pytest.raises(RowError, match="field 'name': Field required"):
        table.upsert(where={"id": 1}, create=built, update={"age": 1})
    assert table.count() == 0
    # A constructed instance with every field is stored as any other.
    assert table.insert(Person.model_construct(name="Bo")).name == "Bo"


# -- rows: constraints ---------------------------------------------------------------------------


class Owner(Table, table="owners"):
    id: int | None = Field(default=None, primary_key=True)
    email: str = Field(unique=True, column="email_address")
    code: str | None = None
    number: int = 0


class Pet(Table, table="pets", unique=[("owner_id", "name")]):
    id: int | None = Field(default=None, primary_key=True)
    owner_id: int = Field(references=Owner)
    name: str
    legs: int = Field(4, check="legs >= 0")
    friend_id: int | None = Field(default=None, references=Owner, related_name="friends")


class Tag(Table, table="tags"):
    code: str | None = Field(default=None, primary_key=True)  # SQLite refuses NULL here


class Later(Table, table="later"):
    id: int | None = Field(default=None, primary_key=True)
    owner_id: int = Field(references=Owner, deferrable=True)


@pytest.fixture
def pets(tmp_path: Path) -> Iterator[Database]:
    models = [Owner, Pet, Tag, Later]
    with database(schemas=models, connection=tmp_path / "pets.db", sync_schemas=True) as db:
        db.table(Owner).insert({"email": "ann@x"})
        db.table(Pet).insert({"owner_id": 1, "name": "Rex"})
        yield db


def test_a_unique_violation_names_its_field(pets: Database) -> None:
    owners = pets.table(Owner)
    message = "UNIQUE constraint failed: owners.email_address"
    with pytest.raises(RowError) as caught:
        owners.insert({"email": "ann@x"})
    assert caught.value.problems == [(None, "email", message)]
    assert str(caught.value) == (
        "table 'owners': row violates a constraint, nothing was written:\n"
        f"  row, field 'email': {message}"
    )
    with pytest.raises(RowError) as caught:
        owners.insert_many([{"email": "b@x"}, {"email": "ann@x"}])
    assert caught.value.problems == [(1, "email", message)]
    assert str(caught.value) == (
        "table 'owners': row 1 violates a constraint, the whole batch was rolled back:\n"
        f"  row 1, field 'email': {message}"
    )
    owners.insert({"email": "bo@x"})
    with pytest.raises(RowError) as caught:
        owners.update(where={"email": "bo@x"}, data={"email": "ann@x"})
    assert caught.value.problems == [(None, "email", message)]
    with pytest.raises(RowError) as caught:
        owners.insert({"id": 1, "email": "new@x"})
    assert caught.value.problems == [(None, "id", "UNIQUE constraint failed: owners.id")]


def test_a_unique_violation_on_several_columns_names_them(pets: Database) -> None:
    with pytest.raises(RowError) as caught:
        pets.table(Pet).insert({"owner_id": 1, "name": "Rex"})
    assert caught.value.problems == [
        (
            None,
            None,
            "UNIQUE constraint failed: pets.owner_id, pets.name (fields 'owner_id', 'name')",
        )
    ]


def test_a_foreign_key_violation_names_the_reference_that_failed(pets: Database) -> None:
    table = pets.table(Pet)
    missing = "FOREIGN KEY constraint failed: no row of owners has this id"
    with pytest.raises(RowError) as caught:
        table.insert({"owner_id": 1, "name": "Tom", "friend_id": 7})
    assert caught.value.problems == [(None, "friend_id", missing)]
    with pytest.raises(RowError) as caught:
        table.insert({"owner_id": 5, "name": "Tom", "friend_id": 7})
    assert caught.value.problems == [(None, "owner_id", missing), (None, "friend_id", missing)]
    with pytest.raises(RowError) as caught:
        table.insert_many([{"owner_id": 1, "name": "a"}, {"owner_id": 9, "name": "b"}])
    assert caught.value.problems == [(1, "owner_id", missing)]
    with pytest.raises(RowError) as caught:
        table.update(where={}, data={"friend_id": 3})
    assert caught.value.problems == [(None, "friend_id", missing)]
    assert [(p.name, p.friend_id) for p in table.find()] == [("Rex", None)]


def test_a_deferred_foreign_key_checked_at_commit_is_a_row_error(pets: Database) -> None:
    later = pets.table(Later)
    missing = "FOREIGN KEY constraint failed: no row of owners has this id"
    with pytest.raises(RowError) as caught:
        later.insert({"owner_id": 4})
    assert caught.value.problems == [(None, "owner_id", missing)]
    with pytest.raises(RowError) as caught:
        later.insert_many([{"owner_id": 1}, {"owner_id": 4}])
    assert caught.value.problems == [(1, "owner_id", missing)]
    assert later.count() == 0


def test_deleting_or_changing_a_referenced_row_names_the_referencing_column(pets: Database) -> None:
    with pytest.raises(RowError) as caught:
        pets.table(Owner).delete(where={})
    message = "FOREIGN KEY constraint failed: a row to {} is still referenced by pets.owner_id"
    assert caught.value.problems == [(None, None, message.format("delete"))]
    with pytest.raises(RowError) as caught:
        pets.table(Owner).update(where={}, data={"id": 2})
    assert caught.value.problems == [(None, "id", message.format("update"))]
    assert str(caught.value) == (
        "table 'owners': update violates a constraint, nothing was written:\n"
        f"  row, field 'id': {message.format('update')}"
    )
    assert pets.table(Owner).count() == 1


def test_not_null_and_check_violations_name_their_field(pets: Database) -> None:
    tags = pets.table(Tag)
    not_null = "NOT NULL constraint failed: tags.code"
    with pytest.raises(RowError) as caught:
        tags.insert({})
    assert caught.value.problems == [(None, "code", not_null)]
    with pytest.raises(RowError) as caught:
        tags.insert_many([{"code": "a"}, {}])
    assert caught.value.problems == [(1, "code", not_null)]
    check = "CHECK constraint failed: legs >= 0"
    with pytest.raises(RowError) as caught:
        pets.table(Pet).insert({"owner_id": 1, "name": "Tom", "legs": -1})
    assert caught.value.problems == [(None, "legs", check)]
    with pytest.raises(RowError) as caught:
        pets.table(Pet).update(where={}, data={"legs": -2})
    assert caught.value.problems == [(None, "legs", check)]
    assert tags.count() == 0


def test_every_error_here_is_a_hedystia_error() -> None:
    for error in (SchemaError, SpecError, RowError, QueryError, MigrationError):
        assert issubclass(error, HedystiaError)
