"""Bad database files and connections: each is named, with the file, and the file is left as it
was. A path that cannot be a database fails at ``database(...)``; a read-only one reads and
refuses every write; a closed one refuses every call; a locked one gives up after
``busy_timeout`` in all."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from pathlib import Path

from hedystia_models import (
    Database,
    DatabaseFileError,
    DatabaseLockedError,
    Field,
    Table,
    database,
    migration,
)

from . import bad_input

AREA = "Files and connections"


class Note(Table, table="notes"):
    id: int | None = Field(default=None, primary_key=True)
    text: str


class Label(Table, table="labels"):
    id: int | None = Field(default=None, primary_key=True)


def notes(tmp: Path) -> None:
    """``app.db``: the notes table, synced, with one row."""
    with database(schemas=[Note], connection=tmp / "app.db", sync_schemas=True) as db:
        db.table(Note).insert({"text": "kept"})


def text_file(tmp: Path) -> None:
    (tmp / "notes.txt").write_text("Shopping: milk, eggs\n")


def sqlite_header_then_garbage(tmp: Path) -> None:
    (tmp / "app.db").write_bytes(b"SQLite format 3\x00" + bytes(range(256)) * 8)


def directory(tmp: Path) -> None:
    (tmp / "app.db").mkdir()


def read_only(tmp: Path, schemas: list[type[Table]], migrations: object = None) -> Database:
    """``app.db``, opened with ``read_only=True``."""
    connection = {"filename": tmp / "app.db", "read_only": True}
    return database(schemas=schemas, connection=connection, migrations=migrations)


def while_locked(tmp: Path, call: Callable[[Database], object], schemas: list[type[Table]]) -> None:
    """``call`` on ``app.db`` while a second connection holds its write lock."""
    holder = sqlite3.connect(tmp / "app.db", isolation_level=None)
    try:
        with database(schemas=schemas, connection=tmp / "app.db", busy_timeout=0.1) as db:
            holder.execute("BEGIN IMMEDIATE")
            call(db)
    finally:
        if holder.in_transaction:
            holder.execute("ROLLBACK")
        holder.close()


@bad_input(
    AREA,
    "A file that is not a SQLite database (`connection='notes.txt'`)",
    DatabaseFileError,
    "database '{tmp}/notes.txt' is not a SQLite database",
    setup=text_file,
)
def not_sqlite(tmp: Path) -> None:
    database(schemas=[Note], connection=tmp / "notes.txt")


@bad_input(
    AREA,
    "A file with SQLite's header and garbage after it",
    DatabaseFileError,
    "database '{tmp}/app.db' is not a SQLite database",
    setup=sqlite_header_then_garbage,
)
def garbage_after_the_header(tmp: Path) -> None:
    with database(schemas=[Note], connection=tmp / "app.db") as db:
        db.sync()


@bad_input(
    AREA,
    "A directory as the database",
    DatabaseFileError,
    "database '{tmp}/app.db' is a directory, not a SQLite database file",
    setup=directory,
)
def a_directory(tmp: Path) -> None:
    database(schemas=[Note], connection=tmp / "app.db", sync_schemas=True)


@bad_input(
    AREA,
    "A database in a directory that does not exist",
    DatabaseFileError,
    "directory '{tmp}/no/such' for the database does not exist",
)
def missing_directory(tmp: Path) -> None:
    database(schemas=[Note], connection=tmp / "no" / "such" / "app.db", sync_schemas=True)


@bad_input(
    AREA,
    "A NUL character in the database path",
    DatabaseFileError,
    "database path '{tmp}/app\\x00.db' contains a NUL character",
)
def nul_in_the_path(tmp: Path) -> None:
    database(schemas=[Note], connection=f"{tmp}/app\0.db")


@bad_input(
    AREA,
    "A closed `sqlite3.Connection` passed in",
    DatabaseFileError,
    "connection is a closed sqlite3.Connection",
    setup=notes,
)
def closed_connection_passed_in(tmp: Path) -> None:
    conn = sqlite3.connect(tmp / "app.db")
    conn.close()
    database(schemas=[Note], connection=conn)


@bad_input(
    AREA,
    "`find` after `db.close()`",
    DatabaseFileError,
    "database '{tmp}/app.db' is closed",
    setup=notes,
)
def find_after_close(tmp: Path) -> None:
    db = database(schemas=[Note], connection=tmp / "app.db")
    db.close()
    db.table(Note).find()


@bad_input(
    AREA,
    "`sync` after `db.close()`",
    DatabaseFileError,
    "database '{tmp}/app.db' is closed",
    setup=notes,
)
def sync_after_close(tmp: Path) -> None:
    db = database(schemas=[Note, Label], connection=tmp / "app.db")
    db.close()
    db.sync()


@bad_input(
    AREA,
    "`insert` on a database opened with `read_only=True`",
    DatabaseFileError,
    "database '{tmp}/app.db' is read-only: it was opened with read_only=True",
    setup=notes,
)
def insert_read_only(tmp: Path) -> None:
    with read_only(tmp, schemas=[Note]) as db:
        assert [note.text for note in db.table(Note).find()] == ["kept"]  # reading works
        db.table(Note).insert({"text": "lost"})


@bad_input(
    AREA,
    "`sync` adding a table to a database opened with `read_only=True`",
    DatabaseFileError,
    "database '{tmp}/app.db' is read-only: it was opened with read_only=True",
    setup=notes,
)
def sync_read_only(tmp: Path) -> None:
    with read_only(tmp, schemas=[Note, Label]) as db:
        db.sync()


@bad_input(
    AREA,
    "A migration on a database opened with `read_only=True`",
    DatabaseFileError,
    "database '{tmp}/app.db' is read-only: it was opened with read_only=True; "
    "migration '0001_labels' was rolled back",
    setup=notes,
)
def migrate_read_only(tmp: Path) -> None:
    step = migration("0001_labels", up=lambda ctx: ctx.sql("CREATE TABLE labels (id)"))
    with read_only(tmp, schemas=[Note], migrations=[step]) as db:
        db.migrate_up()


@bad_input(
    AREA,
    "`insert` through a read-only `sqlite3.Connection` passed in (`mode=ro`)",
    DatabaseFileError,
    "database '{tmp}/app.db' is read-only: the connection was opened read-only",
    setup=notes,
)
def insert_read_only_connection(tmp: Path) -> None:
    conn = sqlite3.connect(f"file:{tmp / 'app.db'}?mode=ro", uri=True)
    try:
        with database(schemas=[Note], connection=conn) as db:
            db.table(Note).insert({"text": "lost"})
    finally:
        conn.close()


@bad_input(
    AREA,
    "`insert` while another connection holds the write lock (`busy_timeout=0.1`)",
    DatabaseLockedError,
    "database '{tmp}/app.db' is locked: another connection held the write lock for more than 0.1 s",
    setup=notes,
)
def insert_while_locked(tmp: Path) -> None:
    while_locked(tmp, lambda db: db.table(Note).insert({"text": "lost"}), [Note])


@bad_input(
    AREA,
    "`sync` while another connection holds the write lock (`busy_timeout=0.1`)",
    DatabaseLockedError,
    "database '{tmp}/app.db' is locked: another connection held the write lock for more than 0.1 s",
    setup=notes,
)
def sync_while_locked(tmp: Path) -> None:
    while_locked(tmp, lambda db: db.sync(), [Note, Label])
