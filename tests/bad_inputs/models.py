"""Bad inputs in model classes: each is refused when the class is created."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from pydantic import ConfigDict

from hedystia_models import Field, Index, SchemaError, Table

from . import bad_input


@bad_input(
    "Models",
    "A default its own field refuses (`age: int = Field(default=-1, ge=0)`)",
    SchemaError,
    "Person.age: default -1 is not valid for the field: Input should be greater than or equal to 0",
)
def default_breaks_its_field(tmp: Path) -> None:
    class Person(Table, table="people"):
        id: int | None = Field(default=None, primary_key=True)
        age: int = Field(default=-1, ge=0)


@bad_input(
    "Models",
    "A model with no fields (SQLite has no table without columns)",
    SchemaError,
    "Nothing: a table needs at least one field (SQLite has no table without columns); declare "
    "abstract=True for a base class",
)
def model_without_fields(tmp: Path) -> None:
    class Nothing(Table, table="nothing"):
        pass


@bad_input(
    "Models",
    "A table name with the prefix SQLite reserves (`table='sqlite_log'`)",
    SchemaError,
    "Log: table= 'sqlite_log' starts with 'sqlite_', which SQLite reserves",
)
def table_with_sqlite_prefix(tmp: Path) -> None:
    class Log(Table, table="sqlite_log"):
        id: int | None = Field(default=None, primary_key=True)


@bad_input(
    "Models",
    "A table name of the package's bookkeeping (`table='__hedystia_migrations'`)",
    SchemaError,
    "History: table= '__hedystia_migrations' starts with '__hedystia_', which hedystia-models "
    "reserves",
)
def table_with_package_prefix(tmp: Path) -> None:
    class History(Table, table="__hedystia_migrations"):
        id: int | None = Field(default=None, primary_key=True)


@bad_input(
    "Models",
    "An index name with the prefix SQLite reserves",
    SchemaError,
    "Event: index name 'sqlite_autoindex_events_1' starts with 'sqlite_', which SQLite reserves",
)
def index_with_sqlite_prefix(tmp: Path) -> None:
    class Event(
        Table, table="events", indexes=[Index("room", "day", name="sqlite_autoindex_events_1")]
    ):
        id: int | None = Field(default=None, primary_key=True)
        room: str
        day: str


@bad_input(
    "Models",
    "A NUL character in a table name",
    SchemaError,
    "Nul: table= 'nul\\x00table' contains a NUL character",
)
def nul_in_table_name(tmp: Path) -> None:
    class Nul(Table, table="nul\x00table"):
        id: int | None = Field(default=None, primary_key=True)


@bad_input(
    "Models",
    "A NUL character in a column name (`Field(column=...)`)",
    SchemaError,
    "Point.x: column= 'x\\x00' contains a NUL character",
)
def nul_in_column_name(tmp: Path) -> None:
    class Point(Table, table="points"):
        id: int | None = Field(default=None, primary_key=True)
        x: int = Field(0, column="x\x00")


@bad_input(
    "Models",
    "A lone surrogate in a column name (not valid UTF-8)",
    SchemaError,
    "Point.y: column= 'y\\ud800' contains a lone surrogate, which is not valid UTF-8",
)
def surrogate_in_column_name(tmp: Path) -> None:
    class Point(Table, table="points"):
        id: int | None = Field(default=None, primary_key=True)
        y: int = Field(0, column="y\ud800")


@bad_input(
    "Models",
    "A NUL character in an index name",
    SchemaError,
    "Point: index name 'xy\\x00' contains a NUL character",
)
def nul_in_index_name(tmp: Path) -> None:
    class Point(Table, table="points", indexes=[Index("x", "y", name="xy\x00")]):
        id: int | None = Field(default=None, primary_key=True)
        x: int = 0
        y: int = 0


@bad_input(
    "Models",
    "A JSON field of callables (`list[Callable]`)",
    SchemaError,
    "Job.hooks: list[Callable] cannot be stored as JSON: Pydantic cannot write a callable as "
    "JSON; use a type it can, or give the type a serializer (PlainSerializer)",
)
def json_of_callables(tmp: Path) -> None:
    class Job(Table, table="jobs"):
        id: int | None = Field(default=None, primary_key=True)
        hooks: list[Callable] = Field(default_factory=list)  # type: ignore[type-arg]


@bad_input(
    "Models",
    "A JSON field of classes (`list[type[int]]`)",
    SchemaError,
    "Job.kinds: list[type[int]] cannot be stored as JSON: Pydantic cannot write a class as "
    "JSON; use a type it can, or give the type a serializer (PlainSerializer)",
)
def json_of_classes(tmp: Path) -> None:
    class Job(Table, table="jobs"):
        id: int | None = Field(default=None, primary_key=True)
        kinds: list[type[int]] = Field(default_factory=list)


class Gadget:
    """An arbitrary class: Pydantic checks instances with isinstance and cannot write them."""


@bad_input(
    "Models",
    "A JSON field of an arbitrary class (`set[Gadget]`, `arbitrary_types_allowed=True`)",
    SchemaError,
    "Box.gadgets: set[Gadget] cannot be stored as JSON: Pydantic cannot write Gadget values as "
    "JSON; use a type it can, or give the type a serializer (PlainSerializer)",
)
def json_of_arbitrary_type(tmp: Path) -> None:
    class Box(Table, table="boxes"):
        model_config = ConfigDict(arbitrary_types_allowed=True)
        id: int | None = Field(default=None, primary_key=True)
        gadgets: set[Gadget] = Field(default_factory=set)


@bad_input(
    "Models",
    "An alias that is another field's name (`nickname: str = Field(alias='name')` beside `name`)",
    SchemaError,
    "Contact.nickname: alias 'name' is also the name of field 'name': a row's key 'name' would "
    "set both fields",
)
def alias_of_another_field(tmp: Path) -> None:
    class Contact(Table, table="contacts"):
        id: int | None = Field(default=None, primary_key=True)
        nickname: str = Field(alias="name")
        name: str


@bad_input(
    "Models",
    "`on_delete='set null'` on a field that cannot be `NULL`",
    SchemaError,
    "Pet.owner_id: on_delete='SET NULL' needs a column that can be NULL, and this one is NOT "
    "NULL: deleting the referenced row would fail; annotate the field int | None, or choose "
    "another action",
)
def set_null_on_not_null(tmp: Path) -> None:
    class Owner(Table, table="owners"):
        id: int | None = Field(default=None, primary_key=True)

    class Pet(Table, table="pets"):
        id: int | None = Field(default=None, primary_key=True)
        owner_id: int = Field(references=Owner, on_delete="set null")


@bad_input(
    "Models",
    "`on_update='set default'` on a `NOT NULL` field without a default",
    SchemaError,
    "Pet.owner_id: on_update='SET DEFAULT' sets the column's DEFAULT, and this NOT NULL column "
    "has none (SQLite would set NULL): give the field a default, or choose another action",
)
def set_default_without_default(tmp: Path) -> None:
    class Owner(Table, table="owners"):
        id: int | None = Field(default=None, primary_key=True)

    class Pet(Table, table="pets"):
        id: int | None = Field(default=None, primary_key=True)
        owner_id: int = Field(references=Owner, on_update="set default")


@bad_input(
    "Models",
    "A field named twice in one `unique=` group (`unique=[('a', 'a')]`)",
    SchemaError,
    "Pair: unique= ('a', 'a') names field 'a' more than once",
)
def unique_group_repeats_a_field(tmp: Path) -> None:
    class Pair(Table, table="pairs", unique=[("a", "a")]):
        id: int | None = Field(default=None, primary_key=True)
        a: int


@bad_input(
    "Models",
    "An `sql_type=` that is not a type name (`'INT); DROP TABLE users; --'`)",
    SchemaError,
    "Item.qty: sql_type 'INT); DROP TABLE users; --' is not an SQL type name (such as BIGINT, "
    "VARCHAR(20) or DOUBLE PRECISION): SQLite reads it as more than a type",
)
def sql_type_not_a_type(tmp: Path) -> None:
    class Item(Table, table="items"):
        id: int | None = Field(default=None, primary_key=True)
        qty: int = Field(0, sql_type="INT); DROP TABLE users; --")


@bad_input(
    "Models",
    "An `sql_type=` holding a constraint (`'INTEGER NOT NULL'`)",
    SchemaError,
    "Item.qty: sql_type 'INTEGER NOT NULL' is not an SQL type name (such as BIGINT, VARCHAR(20) "
    "or DOUBLE PRECISION): SQLite reads it as the type 'INTEGER' and a constraint; declare "
    "constraints with the field's options",
)
def sql_type_with_constraint(tmp: Path) -> None:
    class Item(Table, table="items"):
        id: int | None = Field(default=None, primary_key=True)
        qty: int = Field(0, sql_type="INTEGER NOT NULL")
