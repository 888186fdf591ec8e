"""Bad rows: each is refused before anything is written."""

from __future__ import annotations

import math
from pathlib import Path

from hedystia_models import Field, QueryError, RowError, Table, database

from . import bad_input


class Reading(Table, table="readings"):
    id: int | None = Field(default=None, primary_key=True, auto_increment=True)
    value: float
    maybe: float | None = None


def readings(tmp: Path) -> None:
    database(schemas=[Reading], connection=tmp / "app.db", sync_schemas=True).close()


@bad_input(
    "Rows",
    "NaN for an optional float field (SQLite would store NULL)",
    RowError,
    "table 'readings': 1 invalid value(s), nothing was written:\n"
    "  row, field 'maybe': NaN cannot be stored: SQLite stores it as NULL",
    setup=readings,
)
def nan_in_optional_float(tmp: Path) -> None:
    with database(schemas=[Reading], connection=tmp / "app.db") as db:
        db.table(Reading).insert({"value": 1.0, "maybe": math.nan})


@bad_input(
    "Rows",
    "NaN in the second row of `insert_many`",
    RowError,
    "table 'readings': 1 invalid value(s), nothing was written:\n"
    "  row 1, field 'value': NaN cannot be stored: SQLite stores it as NULL",
    setup=readings,
)
def nan_in_insert_many(tmp: Path) -> None:
    with database(schemas=[Reading], connection=tmp / "app.db") as db:
        db.table(Reading).insert_many([{"value": 1.0}, {"value": math.nan}])


class Owner(Table, table="owners"):
    id: int | None = Field(default=None, primary_key=True)
    email: str = Field(unique=True)
    note: str = ""
    tags: list[str] = []


class Pet(Table, table="pets"):
    id: int | None = Field(default=None, primary_key=True)
    owner_id: int = Field(references=Owner)
    legs: int = Field(4, check="legs >= 0")


class Visit(Table, table="visits"):
    id: int | None = Field(default=None, primary_key=True)
    owner_id: int = Field(references=Owner, deferrable=True)


class Code(Table, table="codes"):
    code: str | None = Field(default=None, primary_key=True)  # SQLite refuses NULL here


PETS = [Owner, Pet, Visit, Code]


def pets(tmp: Path) -> None:
    with database(schemas=PETS, connection=tmp / "app.db", sync_schemas=True) as db:
        db.table(Owner).insert({"email": "ann@x"})
        db.table(Pet).insert({"owner_id": 1})


@bad_input(
    "Rows",
    "A lone surrogate in a text field (not valid UTF-8)",
    RowError,
    "table 'owners': 1 invalid value(s), nothing was written:\n"
    "  row, field 'note': text with a lone surrogate, which is not valid UTF-8",
    setup=pets,
)
def surrogate_in_text(tmp: Path) -> None:
    with database(schemas=PETS, connection=tmp / "app.db") as db:
        db.table(Owner).insert({"email": "bo@x", "note": "\ud800"})


@bad_input(
    "Rows",
    "A lone surrogate in a JSON value",
    RowError,
    "table 'owners': 1 invalid value(s), nothing was written:\n"
    "  row 1, field 'tags': cannot be stored: text with a lone surrogate, which is not valid "
    "UTF-8",
    setup=pets,
)
def surrogate_in_json(tmp: Path) -> None:
    with database(schemas=PETS, connection=tmp / "app.db") as db:
        db.table(Owner).insert_many([{"email": "bo@x"}, {"email": "cy@x", "tags": ["\udfff"]}])


@bad_input(
    "Queries",
    "A lone surrogate in a where value",
    QueryError,
    "table 'owners': 'eq' on 'note' got '\\ud800': text with a lone surrogate, which is not "
    "valid UTF-8",
    setup=pets,
)
def surrogate_in_where(tmp: Path) -> None:
    with database(schemas=PETS, connection=tmp / "app.db") as db:
        db.table(Owner).delete(where={"note": "\ud800"})


@bad_input(
    "Rows",
    "A `model_construct` instance without a required field",
    RowError,
    "table 'owners': 1 invalid value(s), nothing was written:\n  row 1, field 'email': Field "
    "required",
    setup=pets,
)
def constructed_without_a_field(tmp: Path) -> None:
    with database(schemas=PETS, connection=tmp / "app.db") as db:
        db.table(Owner).insert_many([Owner(email="bo@x"), Owner.model_construct(note="no email")])


@bad_input(
    "Rows",
    "A value a unique column already holds",
    RowError,
    "table 'owners': row violates a constraint, nothing was written:\n"
    "  row, field 'email': UNIQUE constraint failed: owners.email",
    setup=pets,
)
def unique_violation(tmp: Path) -> None:
    with database(schemas=PETS, connection=tmp / "app.db") as db:
        db.table(Owner).insert({"email": "ann@x"})


@bad_input(
    "Rows",
    "A unique value twice in one `insert_many`",
    RowError,
    "table 'owners': row 2 violates a constraint, the whole batch was rolled back:\n"
    "  row 2, field 'email': UNIQUE constraint failed: owners.email",
    setup=pets,
)
def unique_violation_in_a_batch(tmp: Path) -> None:
    with database(schemas=PETS, connection=tmp / "app.db") as db:
        db.table(Owner).insert_many([{"email": "a@x"}, {"email": "b@x"}, {"email": "a@x"}])


@bad_input(
    "Rows",
    "A foreign key to a row that does not exist",
    RowError,
    "table 'pets': row violates a constraint, nothing was written:\n"
    "  row, field 'owner_id': FOREIGN KEY constraint failed: no row of owners has this id",
    setup=pets,
)
def missing_parent(tmp: Path) -> None:
    with database(schemas=PETS, connection=tmp / "app.db") as db:
        db.table(Pet).insert({"owner_id": 42})


@bad_input(
    "Rows",
    "A deferred foreign key to a missing row (checked at COMMIT)",
    RowError,
    "table 'visits': row 1 violates a constraint, the whole batch was rolled back:\n"
    "  row 1, field 'owner_id': FOREIGN KEY constraint failed: no row of owners has this id",
    setup=pets,
)
def missing_parent_deferred(tmp: Path) -> None:
    with database(schemas=PETS, connection=tmp / "app.db") as db:
        db.table(Visit).insert_many([{"owner_id": 1}, {"owner_id": 42}])


@bad_input(
    "Rows",
    "Deleting a row another table still references",
    RowError,
    "table 'owners': delete violates a constraint, nothing was deleted:\n"
    "  row: FOREIGN KEY constraint failed: a row to delete is still referenced by pets.owner_id",
    setup=pets,
)
def delete_referenced_row(tmp: Path) -> None:
    with database(schemas=PETS, connection=tmp / "app.db") as db:
        db.table(Owner).delete(where={"email": "ann@x"})


@bad_input(
    "Rows",
    "A value a column's CHECK refuses (`check='legs >= 0'`)",
    RowError,
    "table 'pets': update violates a constraint, nothing was written:\n"
    "  row, field 'legs': CHECK constraint failed: legs >= 0",
    setup=pets,
)
def check_violation(tmp: Path) -> None:
    with database(schemas=PETS, connection=tmp / "app.db") as db:
        db.table(Pet).update(where={}, data={"legs": -1})


@bad_input(
    "Rows",
    "None for a text primary key (NOT NULL in SQLite)",
    RowError,
    "table 'codes': row violates a constraint, nothing was written:\n"
    "  row, field 'code': NOT NULL constraint failed: codes.code",
    setup=pets,
)
def not_null_violation(tmp: Path) -> None:
    with database(schemas=PETS, connection=tmp / "app.db") as db:
        db.table(Code).insert({})
