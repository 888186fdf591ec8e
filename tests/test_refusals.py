"""Refusals of issue 11 beyond the catalogue (``tests/bad_inputs``): what is still accepted
next to each new refusal, and the cases whose outcome depends on the SQLite build."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pydantic
import pytest

from hedystia_models import (
    ConfigurationError,
    Field,
    MigrationError,
    QueryError,
    RowError,
    SchemaError,
    Table,
    database,
    migration,
)
from hedystia_models.cli.config import load_settings
from hedystia_models.context import MigrationContext

# -- models -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "sql_type",
    ["BIGINT", "DOUBLE PRECISION", "NUMERIC(10, 2)", "character varying(255)", "INT UNSIGNED"],
)
def test_type_names_sqlite_reads_as_one_type_are_kept(sql_type: str) -> None:
    class Item(Table, table="items"):
        id: int | None = Field(default=None, primary_key=True)
        qty: int = Field(0, sql_type=sql_type)

    assert Item.table_spec().column("qty").type == " ".join(sql_type.upper().split()).replace(
        ", ", ","
    )


@pytest.mark.parametrize(
    "sql_type", ["INT, other TEXT", "INTEGER PRIMARY KEY", "TEXT COLLATE NOCASE", "INT DEFAULT 3"]
)
def test_type_names_with_more_than_a_type_are_refused(sql_type: str) -> None:
    with pytest.raises(SchemaError, match=r"^Item\.qty: sql_type .* is not an SQL type name"):

        class Item(Table, table="items"):
            qty: int = Field(0, sql_type=sql_type)


def test_aliases_that_name_no_other_field_are_kept() -> None:
    class Person(Table, table="people"):
        id: int | None = Field(default=None, primary_key=True)
        full_name: str = Field(alias="fullName", column="name")
        phone: str | None = Field(
            default=None, validation_alias=pydantic.AliasChoices("phoneNumber", "phone_no")
        )
        same: str = Field("", alias="same")

    assert Person.table_spec().column_names == ("id", "name", "phone", "same")


def test_two_fields_with_one_alias_are_refused() -> None:
    with pytest.raises(SchemaError, match="alias 'tel' is also an alias of field 'phone'"):

        class Person(Table, table="people"):
            phone: str = Field(alias="tel")
            mobile: str = Field(validation_alias=pydantic.AliasChoices("cell", "tel"))


def test_set_null_and_set_default_that_can_work_are_kept() -> None:
    class Owner(Table, table="owners"):
        id: int | None = Field(default=None, primary_key=True)

    class Pet(Table, table="pets"):
        id: int | None = Field(default=None, primary_key=True)
        owner_id: int | None = Field(default=None, references=Owner, on_delete="set null")
        keeper_id: int = Field(1, references=Owner, on_delete="set default")

    spec = Pet.table_spec()
    assert spec.column("owner_id").references is not None
    assert spec.column("keeper_id").default_sql == "1"


def test_set_null_on_a_key_column_names_the_key() -> None:
    with pytest.raises(SchemaError, match=r"a primary key column is always NOT NULL"):

        class Owner(Table, table="owners"):
            id: int | None = Field(default=None, primary_key=True)

        class Profile(Table, table="profiles"):
            owner_id: int | None = Field(
                default=None, primary_key=True, references=Owner, on_delete="set null"
            )


# -- rows and queries -------------------------------------------------------------------------


class Setting(Table, table="settings"):
    id: int | None = Field(default=None, primary_key=True)
    value: dict[str, Any] = {}
    items: list = []  # type: ignore[type-arg]


@pytest.fixture
def settings(tmp_path: Path) -> Iterator[Any]:
    with database(schemas=[Setting], connection=tmp_path / "app.db", sync_schemas=True) as db:
        yield db.table(Setting)


def test_json_values_of_any_that_round_trip_are_stored(settings: Any) -> None:
    value = {"a": 1, "b": [1, 2.5, None, True, "x", {"c": []}], "d": -0.0, "e": 2**70}
    stored = settings.insert({"value": value, "items": [[1, 2], {"k": "v"}]})
    assert settings.get(stored.id).value == value
    assert settings.count(where={"value": {"eq": value}}) == 1


def test_a_json_value_of_any_that_would_change_is_no_where_value(settings: Any) -> None:
    settings.insert({"items": [[1, 2]]})
    with pytest.raises(QueryError, match=r"would come back as \[1, 2\]"):
        settings.find(where={"items": {"eq": [(1, 2)]}})


def test_a_json_default_of_any_that_would_change_is_a_schema_error() -> None:
    with pytest.raises(SchemaError, match=r"Bad\.value: default .* cannot be stored"):

        class Bad(Table, table="bad"):
            value: dict[Any, Any] = {1: "one"}


def test_an_empty_dict_is_found_with_eq(settings: Any) -> None:
    settings.insert_many([{"value": {}}, {"value": {"a": 1}}])
    assert [s.value for s in settings.find(where={"value": {"eq": {}}})] == [{}]


def test_where_none_still_means_every_row_for_reads(settings: Any) -> None:
    settings.insert_many([{}, {}])
    assert settings.count(where=None) == 2 and len(settings.find(where=None)) == 2
    assert settings.delete(where={}) == 2  # every row, spelt out


def test_upsert_validates_create_even_when_a_row_matches(settings: Any) -> None:
    row = settings.insert({"items": [1]})
    with pytest.raises(RowError, match="unknown field"):
        settings.upsert(where={"id": row.id}, create={"nope": 1}, update={"items": [2]})
    assert settings.get(row.id).items == [1]


def test_a_long_or_is_answered_or_refused_by_name(settings: Any) -> None:
    settings.insert({"items": [1]})
    where = {"or": [{"id": i} for i in range(5_000)]}
    try:
        found = settings.find(where=where)
    except QueryError as exc:  # SQLite's expression depth (1000 by default)
        assert str(exc).startswith("table 'settings': the find's where is too large for SQLite")
    else:  # a build that takes it
        assert len(found) == 1


def test_an_in_list_within_the_limit_still_works(settings: Any) -> None:
    settings.insert({"items": [1]})
    assert len(settings.find(where={"id": {"in": list(range(30_000))}})) == 1


# -- migrations -------------------------------------------------------------------------------


def step_list(tmp_path: Path, *steps: Any) -> Any:
    return database(schemas=[], connection=tmp_path / "app.db", migrations=list(steps))


def test_a_generator_down_is_refused_at_definition() -> None:
    def down(ctx: MigrationContext) -> Iterator[None]:
        yield

    with pytest.raises(MigrationError, match="down is a generator function"):
        migration("0001", up=lambda ctx: None, down=down)


def test_a_step_returning_a_generator_is_refused_and_rolled_back(tmp_path: Path) -> None:
    def body(ctx: MigrationContext) -> Iterator[None]:
        ctx.sql("CREATE TABLE t (x)")
        yield

    with step_list(tmp_path, migration("0001", up=lambda ctx: body(ctx))) as db:
        with pytest.raises(MigrationError, match="up returned a generator"):
            db.migrate_up()
        assert db.migration_status().pending == ["0001"]


def test_a_step_returning_what_ctx_sql_returned_is_fine(tmp_path: Path) -> None:
    with step_list(tmp_path, migration("0001", up=lambda ctx: ctx.sql("SELECT 1 AS one"))) as db:
        assert db.migrate_up() == ["0001"]


def test_savepoints_in_a_migration_are_fine(tmp_path: Path) -> None:
    def up(ctx: MigrationContext) -> None:
        ctx.sql("CREATE TABLE t (x)")
        ctx.sql("SAVEPOINT inner_step")
        ctx.sql("INSERT INTO t VALUES (1)")
        ctx.sql("ROLLBACK TO inner_step")
        ctx.sql("RELEASE inner_step")

    with step_list(tmp_path, migration("0001", up=up)) as db:
        assert db.migrate_up() == ["0001"]
        assert db.raw("SELECT count(*) AS n FROM t") == [{"n": 0}]


def test_a_file_without_migrations_is_named(tmp_path: Path) -> None:
    folder = tmp_path / "migrations"
    folder.mkdir()
    (folder / "m0001.py").write_text("VALUE = 1\n")
    (folder / "_helpers.py").write_text("VALUE = 2\n")  # a helper: skipped
    with pytest.raises(MigrationError, match=r"m0001\.py defines no migration"):
        database(schemas=[], connection=":memory:", migrations=folder)


def test_a_syntax_error_in_a_migration_file_names_file_and_line(tmp_path: Path) -> None:
    folder = tmp_path / "migrations"
    folder.mkdir()
    (folder / "m0001.py").write_text("from hedystia_models import migration\n\nx = (\n")
    with pytest.raises(MigrationError) as caught:
        database(schemas=[], connection=":memory:", migrations=folder)
    message = str(caught.value)
    assert message.startswith(f"migration file {folder / 'm0001.py'} failed to import: SyntaxError")
    assert "line 3" in message


# -- the command line's settings -----------------------------------------------------------


def test_the_right_section_with_every_key_is_read(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text(
        '[tool.hedystia-models]\nschemas = "app.schemas"\nconnection = "app.db"\n'
        "[tool.ruff]\nline-length = 100\n"
    )
    settings = load_settings(cwd=tmp_path, environ={})
    assert settings.schemas == "app.schemas"


@pytest.mark.parametrize("section", ["Hedystia-Models", "hedystia.models", "hedystiamodels"])
def test_other_spellings_of_the_section_are_named(tmp_path: Path, section: str) -> None:
    (tmp_path / "pyproject.toml").write_text(f'[tool."{section}"]\nschemas = "app"\n')
    with pytest.raises(ConfigurationError, match=r"the section is \[tool\.hedystia-models\]"):
        load_settings(cwd=tmp_path, environ={})
