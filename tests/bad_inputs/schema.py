"""Foreign keys that cannot work: refused before anything is written, whether the models
declare them or a migration makes them (see ``tests/test_foreign_keys_scope.py``)."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from hedystia_models import (
    Field,
    ForeignKeySpec,
    MigrationError,
    SchemaError,
    SpecError,
    SyncError,
    Table,
    database,
    migration,
)
from hedystia_models.context import MigrationContext

from . import bad_input


class Comment(Table, table="comments"):
    id: int | None = Field(default=None, primary_key=True)
    author_id: int = Field(references="members.id")


class Member(Table, table="members"):
    id: int | None = Field(default=None, primary_key=True)
    email: str = Field(unique=True)


class Message(Table, table="messages"):
    id: int | None = Field(default=None, primary_key=True)
    sender: str = Field(references=Member.ref("email"))


def made_by_another_tool(tmp: Path, sql: str) -> None:
    conn = sqlite3.connect(tmp / "app.db")
    conn.executescript(sql)
    conn.close()


def notes(tmp: Path) -> None:
    made_by_another_tool(tmp, "CREATE TABLE notes (id INTEGER PRIMARY KEY, text TEXT)")


def start(tmp: Path, **options: object) -> None:
    database(schemas=[Comment], connection=tmp / "app.db", sync_schemas=True, **options).close()


@bad_input(
    "Schema and sync",
    "`references=` a table no model declares and the database lacks",
    SchemaError,
    "table 'comments', column 'author_id': references members(id), but no model declares "
    "table 'members' and the database has no such table; nothing was changed",
    setup=notes,
)
def reference_to_a_table_that_exists_nowhere(tmp: Path) -> None:
    start(tmp)


@bad_input(
    "Schema and sync",
    "`references=` a column of a database table that is neither its primary key nor unique",
    SchemaError,
    "table 'comments', column 'author_id': references members(id), but column 'id' of table "
    "'members' is neither its primary key nor UNIQUE; nothing was changed",
    setup=lambda tmp: made_by_another_tool(
        tmp, "CREATE TABLE members (code INTEGER PRIMARY KEY, id INTEGER)"
    ),
)
def reference_to_a_column_that_is_no_key(tmp: Path) -> None:
    start(tmp)


@bad_input(
    "Schema and sync",
    "`references=` a column the database table lacks",
    SchemaError,
    "table 'comments', column 'author_id': references members(id), but table 'members' has "
    "no column 'id'; nothing was changed",
    setup=lambda tmp: made_by_another_tool(tmp, "CREATE TABLE members (code INTEGER PRIMARY KEY)"),
)
def reference_to_a_missing_column(tmp: Path) -> None:
    start(tmp)


@bad_input(
    "Schema and sync",
    "`references=` a view",
    SchemaError,
    "table 'comments', column 'author_id': references members(id), but 'members' is a view; "
    "a foreign key needs a table; nothing was changed",
    setup=lambda tmp: made_by_another_tool(tmp, "CREATE VIEW members AS SELECT 1 AS id"),
)
def reference_to_a_view(tmp: Path) -> None:
    start(tmp)


@bad_input(
    "Schema and sync",
    "`references=` a table `ignore_tables` names, which the database lacks",
    SchemaError,
    "table 'comments', column 'author_id': references members(id), but no model declares "
    "table 'members' and the database has no such table (ignore_tables pattern 'mem*' names "
    "it); nothing was changed",
    setup=notes,
)
def reference_to_a_missing_ignored_table(tmp: Path) -> None:
    start(tmp, ignore_tables=["mem*"])


@bad_input(
    "Schema and sync",
    '`references="members.nope"` when the model of `members` has no such column',
    SchemaError,
    "Invite.member: references members(nope), but table 'members' (model Member) has no "
    "column 'nope'",
)
def reference_to_a_missing_field_of_a_model(tmp: Path) -> None:
    class Invite(Table, table="invites"):
        id: int | None = Field(default=None, primary_key=True)
        member: int = Field(references="members.nope")

    database(schemas=[Member, Invite], connection=tmp / "app.db")


@bad_input(
    "Schema and sync",
    "`references=` a field of a model of the set that is neither its primary key nor unique",
    SchemaError,
    "Badge.holder: references members(id), but column 'id' of table 'members' (model Holder) "
    "is neither its primary key nor UNIQUE",
)
def reference_to_a_model_field_that_is_no_key(tmp: Path) -> None:
    class Holder(Table, table="members"):
        code: int | None = Field(default=None, primary_key=True)
        id: int = 0

    class Badge(Table, table="badges"):
        id: int | None = Field(default=None, primary_key=True)
        holder: int = Field(references=Holder.ref("id"))

    database(schemas=[Holder, Badge], connection=tmp / "app.db")


@bad_input(
    "Schema and sync",
    "A model's reference the database's table cannot serve (the model says `unique=True`, "
    "the table does not)",
    SyncError,
    "sync failed and was rolled back: this change leaves a foreign key SQLite cannot enforce "
    "(every write to the table would fail): table 'messages', column 'sender': references "
    "members(email), but column 'email' of table 'members' is neither its primary key nor "
    "UNIQUE",
    setup=lambda tmp: made_by_another_tool(
        tmp, "CREATE TABLE members (id INTEGER PRIMARY KEY, email TEXT NOT NULL)"
    ),
)
def reference_the_live_table_cannot_serve(tmp: Path) -> None:
    database(schemas=[Member, Message], connection=tmp / "app.db", sync_schemas=True)


@bad_input(
    "Schema and sync",
    "A multi-column foreign key naming fewer columns of the other table",
    SpecError,
    "a multi-column foreign key: columns ('a', 'b') and other_columns ('x',) must name as "
    "many columns (SQLite matches them one to one)",
)
def multi_column_key_of_the_wrong_arity(tmp: Path) -> None:
    ForeignKeySpec(("a", "b"), "t", ("x",))


# -- migrations -------------------------------------------------------------------------------


def _setup_step(ctx: MigrationContext) -> None:
    ctx.sql("CREATE TABLE authors (id INTEGER PRIMARY KEY, name TEXT)")
    ctx.sql("CREATE TABLE books (id INTEGER PRIMARY KEY, author_id REFERENCES authors(id))")
    ctx.sql("INSERT INTO authors (id, name) VALUES (1, 'ann')")
    ctx.sql("INSERT INTO books (author_id) VALUES (1)")


SETUP = migration("0001_authors", up=_setup_step)


def library(tmp: Path) -> None:
    """The tables of a library, made by a first migration, beside a table another tool left
    with a foreign key SQLite cannot enforce (which no case below is blamed for)."""
    made_by_another_tool(tmp, "CREATE TABLE legacy (x REFERENCES authors(nope))")
    database(schemas=[], connection=tmp / "app.db", migrations=[SETUP]).migrate_up()


def run_step(tmp: Path, sql: str) -> None:
    step = migration("0002_change", up=lambda ctx: ctx.sql(sql))
    with database(schemas=[], connection=tmp / "app.db", migrations=[SETUP, step]) as db:
        db.migrate_up()


@bad_input(
    "Migrations",
    "A migration creates a table whose foreign key names a column the other table lacks",
    MigrationError,
    "migration '0002_change' failed during up and was rolled back: ForeignKeyMismatch: this "
    "change leaves a foreign key SQLite cannot enforce (every write to the table would fail): "
    "table 'reviews', column 'book': references books(isbn), but table 'books' has no column "
    "'isbn'",
    setup=library,
)
def migration_creates_a_broken_key(tmp: Path) -> None:
    run_step(tmp, "CREATE TABLE reviews (id INTEGER PRIMARY KEY, book REFERENCES books(isbn))")


@bad_input(
    "Migrations",
    "A migration drops a table that another table references",
    MigrationError,
    "migration '0002_change' failed during up and was rolled back: ForeignKeyMismatch: this "
    "change leaves a foreign key SQLite cannot enforce (every write to the table would fail): "
    "table 'books', column 'author_id': references authors(id), but table 'authors' does not "
    "exist",
    setup=library,
)
def migration_drops_a_referenced_table(tmp: Path) -> None:
    run_step(tmp, "DROP TABLE authors")


@bad_input(
    "Migrations",
    "A migration writes a row whose parent row does not exist",
    MigrationError,
    "migration '0002_change' failed during up and was rolled back: ForeignKeyViolation: "
    "foreign key check failed, rows reference a missing row: books row 2 (author_id) -> authors",
    setup=library,
)
def migration_writes_an_orphan_row(tmp: Path) -> None:
    run_step(tmp, "INSERT INTO books (author_id) VALUES (42)")


class Reader(Table, table="readers"):
    id: int | None = Field(default=None, primary_key=True)


class Loan(Table, table="loans"):
    id: int | None = Field(default=None, primary_key=True)


@bad_input(
    "Schema and sync",
    "A `schemas=` dict key that is another model's table name (`{'loans': Reader, ...}`)",
    SchemaError,
    "schemas['loans'] names model Reader, but 'loans' is the table of model Loan: db['loans'] "
    "would give Reader's table, not the table named 'loans'",
)
def schemas_key_names_another_table(tmp: Path) -> None:
    database(schemas={"loans": Reader, "lending": Loan}, connection=tmp / "app.db")


@bad_input(
    "Schema and sync",
    "A `schemas=` dict key that is not a string (`{1: Reader}`)",
    SchemaError,
    "schemas keys name the tables for db[...] and must be non-empty strings (got 1 for model "
    "Reader)",
)
def schemas_key_not_a_string(tmp: Path) -> None:
    database(schemas={1: Reader}, connection=tmp / "app.db")
