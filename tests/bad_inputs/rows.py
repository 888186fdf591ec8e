"""Bad rows: each is refused before anything is written."""

from __future__ import annotations

import math
from datetime import datetime
from pathlib import Path
from typing import Any

from hedystia_models import (
    ConfigurationError,
    Field,
    QueryError,
    RowError,
    SchemaError,
    Table,
)

from . import app_database, bad_input


class Reading(Table, table="readings"):
    id: int | None = Field(default=None, primary_key=True, auto_increment=True)
    value: float
    maybe: float | None = None


def readings(tmp: Path) -> None:
    app_database(tmp, schemas=[Reading], sync_schemas=True).close()


@bad_input(
    "Rows",
    "NaN for an optional float field (SQLite would store NULL)",
    RowError,
    "table 'readings': 1 invalid value(s), nothing was written:\n"
    "  row, field 'maybe': NaN cannot be stored: SQLite stores it as NULL",
    setup=readings,
)
def nan_in_optional_float(tmp: Path) -> None:
    with app_database(tmp, schemas=[Reading]) as db:
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
    with app_database(tmp, schemas=[Reading]) as db:
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
    with app_database(tmp, schemas=PETS, sync_schemas=True) as db:
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
    with app_database(tmp, schemas=PETS) as db:
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
    with app_database(tmp, schemas=PETS) as db:
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
    with app_database(tmp, schemas=PETS) as db:
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
    with app_database(tmp, schemas=PETS) as db:
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
    with app_database(tmp, schemas=PETS) as db:
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
    with app_database(tmp, schemas=PETS) as db:
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
    with app_database(tmp, schemas=PETS) as db:
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
    with app_database(tmp, schemas=PETS) as db:
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
    with app_database(tmp, schemas=PETS) as db:
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
    with app_database(tmp, schemas=PETS) as db:
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
    with app_database(tmp, schemas=PETS) as db:
        db.table(Code).insert({})


@bad_input(
    "Rows",
    "`delete(where=None)` (a condition that is missing, not `where={}`)",
    QueryError,
    "table 'pets': delete(where=None) would delete every row; pass where={} to mean every "
    "row, or a condition",
    setup=pets,
)
def delete_where_none(tmp: Path) -> None:
    with app_database(tmp, schemas=PETS) as db:
        db.table(Pet).delete(where=None)  # type: ignore[arg-type]


@bad_input(
    "Rows",
    "`update(where=None, ...)`",
    QueryError,
    "table 'pets': update(where=None) would update every row; pass where={} to mean every "
    "row, or a condition",
    setup=pets,
)
def update_where_none(tmp: Path) -> None:
    with app_database(tmp, schemas=PETS) as db:
        db.table(Pet).update(where=None, data={"legs": 3})  # type: ignore[arg-type]


@bad_input(
    "Rows",
    "An `upsert` whose `update` names an unknown field, when no row matches (so it would insert)",
    QueryError,
    "table 'owners' has no field or column 'nmae' (fields: id, email, note, tags)",
    setup=pets,
)
def upsert_bad_update_without_match(tmp: Path) -> None:
    with app_database(tmp, schemas=PETS) as db:
        db.table(Owner).upsert(
            where={"email": "cy@x"}, create={"email": "cy@x"}, update={"nmae": "Cy"}
        )


class Setting(Table, table="settings"):
    id: int | None = Field(default=None, primary_key=True)
    value: dict[str, Any] = {}
    items: list = []  # type: ignore[type-arg]


def settings(tmp: Path) -> None:
    app_database(tmp, schemas=[Setting], sync_schemas=True).close()


def a_setting(tmp: Path) -> None:
    with app_database(tmp, schemas=[Setting], sync_schemas=True) as db:
        db.table(Setting).insert({"items": []})


@bad_input(
    "Rows",
    "A datetime inside a `dict[str, Any]` field (JSON would give back a string)",
    RowError,
    "table 'settings': 1 invalid value(s), nothing was written:\n"
    "  row, field 'value': cannot be stored: datetime.datetime(2026, 1, 1, 0, 0) at ['since'] "
    "would come back as '2026-01-01T00:00:00' (JSON has no datetime); where the type says Any, "
    "only JSON's own values (dict with str keys, list, str, int, float, bool, None) come back "
    "as they went in: give the field a type that says what it holds",
    setup=settings,
)
def datetime_in_any_json(tmp: Path) -> None:
    with app_database(tmp, schemas=[Setting]) as db:
        db.table(Setting).insert({"value": {"since": datetime(2026, 1, 1)}})


@bad_input(
    "Rows",
    "A tuple in a bare `list` field (JSON would give back a list)",
    RowError,
    "table 'settings': 1 invalid value(s), nothing was written:\n"
    "  row 1, field 'items': cannot be stored: (1, 2) at [0] would come back as [1, 2] (JSON "
    "has no tuple); where the type says Any, only JSON's own values (dict with str keys, list, "
    "str, int, float, bool, None) come back as they went in: give the field a type that says "
    "what it holds",
    setup=settings,
)
def tuple_in_bare_list(tmp: Path) -> None:
    with app_database(tmp, schemas=[Setting]) as db:
        db.table(Setting).insert_many([{"items": [1]}, {"items": [(1, 2)]}])


@bad_input(
    "Rows",
    "An integer dict key in a bare `list` field, set by `update`",
    RowError,
    "table 'settings': 1 invalid value(s), nothing was written:\n"
    "  row, field 'items': cannot be stored: the key 1 at [0] would come back as '1' (JSON "
    "keys are strings); where the type says Any, only JSON's own values (dict with str keys, "
    "list, str, int, float, bool, None) come back as they went in: give the field a type that "
    "says what it holds",
    setup=a_setting,
)
def int_key_in_any_json(tmp: Path) -> None:
    with app_database(tmp, schemas=[Setting]) as db:
        db.table(Setting).update(where={}, data={"items": [{1: "one"}]})


# -- instances, refreshed fields, the read cache (issue 13) ------------------------------------


class Log(Table, table="logs"):
    message: str


class Stamp(Table, table="stamps"):
    id: int | None = Field(default=None, primary_key=True)
    name: str
    at: datetime = Field(default=datetime(2026, 1, 1), refresh_on_update=lambda: "soon")


def logs_and_stamps(tmp: Path) -> None:
    with app_database(tmp, schemas=[Log, Stamp], sync_schemas=True) as db:
        db.table(Stamp).insert({"name": "a"})


@bad_input(
    "Rows",
    "`save(instance)` on a table without a primary key",
    QueryError,
    "table 'logs' has no primary key: save() finds its row by the key; use insert instead",
    setup=logs_and_stamps,
)
def save_without_a_primary_key(tmp: Path) -> None:
    with app_database(tmp, schemas=[Log, Stamp]) as db:
        db.table(Log).save(Log(message="lost"))


@bad_input(
    "Rows",
    "`delete(instance)` of an instance that was never saved (no key value)",
    QueryError,
    "table 'owners': the Owner has no value for its key field 'id', so it is no row of the "
    "table (save it first)",
    setup=pets,
)
def delete_an_unsaved_instance(tmp: Path) -> None:
    with app_database(tmp, schemas=PETS) as db:
        db.table(Owner).delete(Owner(email="ann@x"))


@bad_input(
    "Rows",
    "`delete(instance)` given a row of another table",
    QueryError,
    "table 'owners': delete() takes an instance of Owner (got Pet); for a condition write "
    "delete(where={...})",
    setup=pets,
)
def delete_an_instance_of_another_model(tmp: Path) -> None:
    with app_database(tmp, schemas=PETS) as db:
        db.table(Owner).delete(Pet(id=1, owner_id=1))  # type: ignore[call-overload]


@bad_input(
    "Rows",
    "A `refresh_on_update` function whose value the field rejects, at an update",
    RowError,
    "table 'stamps': 1 invalid value(s), nothing was written:\n"
    "  row, field 'at': Input should be a valid datetime or date, input is too short",
    setup=logs_and_stamps,
)
def refreshed_value_rejected(tmp: Path) -> None:
    with app_database(tmp, schemas=[Log, Stamp]) as db:
        db.table(Stamp).update(where={}, data={"name": "b"})


@bad_input(
    "Models",
    "`refresh_on_update=True` on a field without a `default_factory`",
    SchemaError,
    "Touched.at: refresh_on_update=True calls the field's default_factory, and it has none; "
    "give the function to call instead (refresh_on_update=utcnow)",
)
def refresh_without_a_factory(tmp: Path) -> None:
    class Touched(Table, table="touched"):
        id: int | None = Field(default=None, primary_key=True)
        at: datetime = Field(default=datetime(2026, 1, 1), refresh_on_update=True)


@bad_input(
    "Rows",
    "`cache=` naming a table the database does not have",
    ConfigurationError,
    "cache= names 'owner', which is no table of this database (tables: codes, owners, pets, "
    "visits)",
    setup=pets,
)
def cache_for_an_unknown_table(tmp: Path) -> None:
    app_database(tmp, schemas=PETS, cache={"owner": True})
