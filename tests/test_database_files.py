"""The database file and its connection: each bad one is a named error naming the file, raised
as early as it can be, and the database is left as it was.

A file that is not SQLite and a directory fail at ``database(...)``; a read-only file (or
connection) can be read, and every write to it fails naming the file; a closed database fails
naming the file, whatever is called; a database locked by another connection gives up after
``busy_timeout`` in total, however many statements the call would have waited on.
"""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import textwrap
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import sqlite_utils
from cli_project import USERS, Project, one_line_error, open_project

from hedystia_models import (
    ConfigurationError,
    Database,
    DatabaseFileError,
    DatabaseLockedError,
    Field,
    HedystiaError,
    Table,
    database,
    migration,
)
from hedystia_models.cli.errors import is_lock_error


class Note(Table, table="notes"):
    id: int | None = Field(default=None, primary_key=True)
    text: str


class Tag(Table, table="tags"):
    id: int | None = Field(default=None, primary_key=True)


def make_db(path: Path, journal_mode: str = "wal") -> None:
    """A synced database holding one note."""
    with database(
        schemas=[Note], connection=path, sync_schemas=True, journal_mode=journal_mode
    ) as db:
        db.table(Note).insert({"text": "kept"})


def dump(path: Path) -> list[str]:
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        return list(conn.iterdump())
    finally:
        conn.close()


# -- at open: what the path is ---------------------------------------------------------------


def test_a_file_that_is_not_sqlite_fails_at_open(tmp_path: Path) -> None:
    path = tmp_path / "notes.txt"
    path.write_text("just some notes\n")
    with pytest.raises(DatabaseFileError) as caught:
        database(schemas=[Note], connection=path)
    assert str(caught.value) == f"database {str(path)!r} is not a SQLite database"
    assert caught.value.path == str(path)
    assert isinstance(caught.value, ConfigurationError)  # an open-stage error
    assert path.read_text() == "just some notes\n"
    # Also through a connection opened by the caller, and whatever the sync flag says.
    with pytest.raises(DatabaseFileError, match="is not a SQLite database"):
        database(schemas=[Note], connection=sqlite3.connect(path), sync_schemas=True)
    assert path.read_text() == "just some notes\n"


def test_a_file_with_sqlites_header_and_garbage_after_it_is_named_at_open(
    tmp_path: Path,
) -> None:
    path = tmp_path / "broken.db"
    content = b"SQLite format 3\x00" + bytes(range(256)) * 20
    path.write_bytes(content)
    # The header is right, but setting up the connection reads the file.
    with pytest.raises(DatabaseFileError) as caught:
        database(schemas=[Note], connection=path)
    assert str(caught.value) == f"database {str(path)!r} is not a SQLite database"
    assert path.read_bytes() == content


def test_an_empty_file_is_an_empty_database(tmp_path: Path) -> None:
    path = tmp_path / "empty.db"
    path.touch()
    with database(schemas=[Note], connection=path, sync_schemas=True) as db:
        assert db.table(Note).find() == []


def test_a_directory_fails_at_open(tmp_path: Path) -> None:
    folder = tmp_path / "app.db"
    folder.mkdir()
    with pytest.raises(DatabaseFileError) as caught:
        database(schemas=[Note], connection=folder)
    assert str(caught.value) == (
        f"database {str(folder)!r} is a directory, not a SQLite database file"
    )
    with pytest.raises(DatabaseFileError, match="is a directory"):
        database(schemas=[Note], connection={"filename": str(folder)})
    assert list(folder.iterdir()) == []


def test_a_fifo_is_refused_without_reading_it(tmp_path: Path) -> None:
    fifo = tmp_path / "app.db"
    os.mkfifo(fifo)  # opening it to read its header would block until a writer came
    with pytest.raises(DatabaseFileError) as caught:
        database(schemas=[Note], connection=fifo)
    assert str(caught.value) == (
        f"database {str(fifo)!r} is not a regular file, so not a SQLite database"
    )


def test_a_missing_or_wrong_parent_directory_fails_at_open(tmp_path: Path) -> None:
    missing = tmp_path / "no" / "such" / "app.db"
    with pytest.raises(DatabaseFileError) as caught:
        database(schemas=[Note], connection=missing)
    assert str(caught.value) == (
        f"directory {str(missing.parent)!r} for the database does not exist"
    )
    (tmp_path / "file").write_text("x")
    inside_a_file = tmp_path / "file" / "app.db"
    with pytest.raises(DatabaseFileError) as caught:
        database(schemas=[Note], connection=inside_a_file)
    assert str(caught.value) == (
        f"cannot create database {str(inside_a_file)!r}: {str(tmp_path / 'file')!r} is a "
        "file, not a directory"
    )
    assert sorted(p.name for p in tmp_path.iterdir()) == ["file"]


def test_a_nul_character_in_the_path_is_named(tmp_path: Path) -> None:
    name = f"{tmp_path}/a\0b.db"
    with pytest.raises(DatabaseFileError) as caught:
        database(schemas=[Note], connection=name)
    assert str(caught.value) == f"database path {name!r} contains a NUL character"
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(
    ("connection", "shown"),
    [(42, "int"), (b"app.db", "bytes"), (None, "NoneType"), ([], "list")],
)
def test_a_connection_of_the_wrong_type_is_a_configuration_error(
    connection: Any, shown: str
) -> None:
    with pytest.raises(ConfigurationError) as caught:
        database(schemas=[Note], connection=connection)
    assert str(caught.value) == (
        "connection must be a path, ':memory:', {'filename': path}, a sqlite3.Connection or a "
        f"sqlite_utils.Database (got {shown})"
    )


@pytest.mark.parametrize(
    ("connection", "message"),
    [
        ({"filename": "a.db", "mode": "ro"}, "connection dict must be {'filename': path}"),
        ({"filename": "a.db", "read_only": "yes"}, "read_only must be True or False"),
        ({"filename": ":memory:", "read_only": True}, "read_only=True needs a database file"),
    ],
)
def test_a_bad_connection_dict_is_a_configuration_error(
    connection: dict[str, Any], message: str
) -> None:
    with pytest.raises(ConfigurationError, match=message.replace("{", r"\{").replace("}", r"\}")):
        database(schemas=[Note], connection=connection)


def test_a_closed_connection_passed_in_is_named(tmp_path: Path) -> None:
    conn = sqlite3.connect(tmp_path / "app.db")
    conn.close()
    with pytest.raises(DatabaseFileError) as caught:
        database(schemas=[Note], connection=conn)
    assert str(caught.value) == "connection is a closed sqlite3.Connection"
    closed = sqlite_utils.Database(tmp_path / "app.db")
    closed.close()
    with pytest.raises(DatabaseFileError) as caught:
        database(schemas=[Note], connection=closed)
    assert str(caught.value) == "connection is a sqlite_utils.Database whose connection is closed"


def test_a_sqlite_utils_database_in_memory_works() -> None:
    memory = sqlite_utils.Database(memory=True)
    with database(schemas=[Note], connection=memory, sync_schemas=True) as db:
        db.table(Note).insert({"text": "hi"})
        assert [n.text for n in db.table(Note).find()] == ["hi"]
        assert db.path == ":memory:"
    assert memory["notes"].count == 1  # not closed: the caller owns it


# -- a closed database -----------------------------------------------------------------------


CLOSED_CALLS: dict[str, Callable[[Database], object]] = {
    "find": lambda db: db.table(Note).find(),
    "count": lambda db: db.table(Note).count(),
    "insert": lambda db: db.table(Note).insert({"text": "x"}),
    "sync": lambda db: db.sync(),
    "plan": lambda db: db.plan(),
    "upgrade": lambda db: db.upgrade(),
    "migrate_up": lambda db: db.migrate_up(),
    "migration_status": lambda db: db.migration_status(),
    "check": lambda db: db.check(),
    "history": lambda db: db.history(),
    "raw": lambda db: db.raw("SELECT 1"),
    "transaction": lambda db: in_transaction(db, "SELECT 1"),
    "conn": lambda db: db.conn,
}


@pytest.mark.parametrize("call", list(CLOSED_CALLS))
def test_every_call_on_a_closed_database_names_the_file(tmp_path: Path, call: str) -> None:
    path = tmp_path / "app.db"
    make_db(path)
    before = dump(path)
    db = database(schemas=[Note], connection=path)
    db.close()
    with pytest.raises(DatabaseFileError) as caught:
        CLOSED_CALLS[call](db)
    assert str(caught.value) == f"database {str(path)!r} is closed"
    db.close()  # closing twice is fine
    assert dump(path) == before


def test_a_connection_the_caller_closed_is_named_too(tmp_path: Path) -> None:
    path = tmp_path / "app.db"
    make_db(path)
    conn = sqlite3.connect(path)
    db = database(schemas=[Note], connection=conn)
    conn.close()
    with pytest.raises(DatabaseFileError) as caught:
        db.table(Note).find()
    assert str(caught.value) == f"database {str(path.resolve())!r} is closed"


# -- read-only -------------------------------------------------------------------------------


def in_transaction(db: Database, sql: str) -> None:
    with db.transaction():
        db.raw(sql)


def read_only_calls(path: Path) -> dict[str, Callable[[Database], object]]:
    return {
        "insert": lambda db: db.table(Note).insert({"text": "x"}),
        "insert_many": lambda db: db.table(Note).insert_many([{"text": "x"}]),
        "update": lambda db: db.table(Note).update(where={"id": 1}, data={"text": "y"}),
        "delete": lambda db: db.table(Note).delete(where={"id": 1}),
        "raw": lambda db: db.raw("INSERT INTO notes (text) VALUES ('x')"),
        "transaction": lambda db: in_transaction(db, "DELETE FROM notes"),
    }


@pytest.mark.parametrize("call", list(read_only_calls(Path())))
def test_read_only_option_reads_and_refuses_every_write(tmp_path: Path, call: str) -> None:
    path = tmp_path / "app.db"
    make_db(path)
    before = dump(path)
    with database(schemas=[Note], connection={"filename": path, "read_only": True}) as db:
        assert [n.text for n in db.table(Note).find()] == ["kept"]
        assert db.plan().in_sync
        with pytest.raises(DatabaseFileError) as caught:
            read_only_calls(path)[call](db)
        assert str(caught.value) == (
            f"database {str(path)!r} is read-only: it was opened with read_only=True"
        )
    assert dump(path) == before


def test_read_only_sync_and_migrations_name_the_file(tmp_path: Path) -> None:
    path = tmp_path / "app.db"
    make_db(path)
    before = dump(path)
    step = migration("0001_tag", up=lambda ctx: ctx.sql("CREATE TABLE t (x)"))
    with database(
        schemas=[Note, Tag], connection={"filename": path, "read_only": True}, migrations=[step]
    ) as db:
        expected = f"database {str(path)!r} is read-only: it was opened with read_only=True"
        with pytest.raises(DatabaseFileError) as caught:
            db.sync()
        assert str(caught.value) == expected
        with pytest.raises(DatabaseFileError) as caught:
            db.migrate_up()
        assert str(caught.value) == f"{expected}; migration '0001_tag' was rolled back"
        with pytest.raises(DatabaseFileError) as caught:
            db.upgrade()
        assert str(caught.value).startswith(expected)
        assert db.migration_status().pending == ["0001_tag"]
    assert dump(path) == before


def test_read_only_needs_an_existing_file(tmp_path: Path) -> None:
    path = tmp_path / "missing.db"
    with pytest.raises(DatabaseFileError) as caught:
        database(schemas=[Note], connection={"filename": path, "read_only": True})
    assert str(caught.value) == (
        f"database {str(path)!r} does not exist (read_only=True opens an existing file)"
    )
    assert not path.exists()


def test_a_read_only_connection_passed_in_names_the_file(tmp_path: Path) -> None:
    path = tmp_path / "app.db"
    make_db(path)
    before = dump(path)
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    with database(schemas=[Note, Tag], connection=conn) as db:
        assert [n.text for n in db.table(Note).find()] == ["kept"]
        for write in (lambda: db.table(Note).insert({"text": "x"}), db.sync):
            with pytest.raises(DatabaseFileError) as caught:
                write()
            assert str(caught.value) == (
                f"database {str(path.resolve())!r} is read-only: the connection was opened "
                "read-only"
            )
    conn.close()
    assert dump(path) == before


AS_NOBODY = textwrap.dedent(
    """
    import os, sys
    sys.path.insert(0, {root!r})
    from hedystia_models import DatabaseFileError, Field, Table, database

    class Note(Table, table="notes"):
        id: int | None = Field(default=None, primary_key=True)
        text: str

    # Everything is imported and warmed up first, then (as root) the process becomes nobody:
    # the code and the virtualenv may sit in a directory nobody cannot read.
    with database(schemas=[Note], connection=":memory:", sync_schemas=True) as warm:
        warm.table(Note).insert({{"text": "warm"}})
        warm.table(Note).find()
    if os.geteuid() == 0:
        os.setgroups([])
        os.setgid(65534)
        os.setuid(65534)

    path = sys.argv[1]
    with database(schemas=[Note], connection=path) as db:
        print("found", [n.text for n in db.table(Note).find()])
        try:
            db.table(Note).insert({{"text": "x"}})
        except DatabaseFileError as exc:
            print("error", exc)
    """
)


@pytest.fixture
def shared_dir() -> Iterator[Path]:
    """A directory another user can use (pytest's tmp_path is private to this one)."""
    folder = Path(tempfile.mkdtemp(prefix="hedystia-ro-"))
    folder.chmod(0o777)
    yield folder
    for path in [folder, *folder.rglob("*")]:
        path.chmod(0o777 if path.is_dir() else 0o666)
    shutil.rmtree(folder)


def run_unprivileged(script: Path, path: Path) -> list[str]:
    """Run ``script`` on ``path``; it becomes an unprivileged user when started as root (root
    writes read-only files regardless of their mode)."""
    command = [sys.executable, str(script), str(path)]
    result = subprocess.run(command, capture_output=True, text=True, timeout=60, check=False)
    assert result.returncode == 0, result.stderr
    return result.stdout.splitlines()


def test_a_read_only_file_and_a_file_in_a_read_only_directory(shared_dir: Path) -> None:
    root = str(Path(__file__).resolve().parent.parent)
    script = shared_dir / "write.py"
    script.write_text(AS_NOBODY.format(root=root))
    script.chmod(0o644)

    file_ro = shared_dir / "file" / "app.db"
    file_ro.parent.mkdir(mode=0o777)
    file_ro.parent.chmod(0o777)
    make_db(file_ro)
    file_ro.chmod(0o444)
    before = dump(file_ro)
    assert run_unprivileged(script, file_ro) == [
        "found ['kept']",
        f"error database {str(file_ro)!r} is read-only: the file is not writable",
    ]
    assert dump(file_ro) == before

    # A WAL file cannot be read at all in a directory where SQLite cannot make its -shm file
    # (SQLite's rule): this one uses a rollback journal, as a file copied from elsewhere may.
    dir_ro = shared_dir / "dir" / "app.db"
    dir_ro.parent.mkdir()
    make_db(dir_ro, journal_mode="delete")
    dir_ro.chmod(0o666)
    dir_ro.parent.chmod(0o555)
    before = dump(dir_ro)
    assert run_unprivileged(script, dir_ro) == [
        "found ['kept']",
        f"error database {str(dir_ro)!r} is read-only: SQLite cannot create its journal in the "
        f"read-only directory {str(dir_ro.parent)!r}",
    ]
    assert dump(dir_ro) == before
    assert sorted(p.name for p in dir_ro.parent.iterdir()) == ["app.db"]


# -- the file changes under the connection ---------------------------------------------------


def test_a_file_deleted_while_open_is_named_on_write(tmp_path: Path) -> None:
    # SQLite notices the deletion with a rollback journal; in WAL mode writes go on into the
    # -wal file of the deleted database (docs/web.md says so).
    path = tmp_path / "app.db"
    make_db(path, journal_mode="delete")
    with database(schemas=[Note], connection=path, journal_mode="delete") as db:
        path.unlink()
        assert [n.text for n in db.table(Note).find()] == ["kept"]  # the open file still reads
        with pytest.raises(DatabaseFileError) as caught:
            db.table(Note).insert({"text": "x"})
        assert str(caught.value) == f"database {str(path)!r} was deleted or moved while open"
    assert not path.exists()


def test_opening_a_database_another_connection_is_writing_works(tmp_path: Path) -> None:
    path = tmp_path / "app.db"
    make_db(path, journal_mode="delete")
    writer = sqlite3.connect(path, isolation_level=None)
    writer.execute("BEGIN IMMEDIATE")
    writer.execute("INSERT INTO notes (text) VALUES ('uncommitted')")
    try:
        assert Path(f"{path}-journal").exists()
        with database(schemas=[Note], connection=path, busy_timeout=0.2) as db:
            assert [n.text for n in db.table(Note).find()] == ["kept"]
            assert db.plan().in_sync
    finally:
        writer.execute("ROLLBACK")
        writer.close()


CRASHING_WRITER = textwrap.dedent(
    """
    import os, sqlite3, sys
    conn = sqlite3.connect(sys.argv[1], isolation_level=None)
    conn.execute("PRAGMA cache_size = 1")  # spill changed pages into the file before COMMIT
    conn.execute("BEGIN IMMEDIATE")
    conn.executemany("INSERT INTO notes (text) VALUES (?)", [("lost" * 200,)] * 500)
    os._exit(0)  # no COMMIT, no ROLLBACK: the journal is left hot
    """
)


def test_opening_a_database_with_a_hot_journal_rolls_it_back(tmp_path: Path) -> None:
    path = tmp_path / "app.db"
    make_db(path, journal_mode="delete")
    before = dump(path)
    script = tmp_path / "crash.py"
    script.write_text(CRASHING_WRITER)
    subprocess.run([sys.executable, str(script), str(path)], check=True, timeout=60)
    assert Path(f"{path}-journal").exists()
    with database(schemas=[Note], connection=path, sync_schemas=True) as db:
        assert [n.text for n in db.table(Note).find()] == ["kept"]
        assert db.raw("PRAGMA integrity_check") == [{"integrity_check": "ok"}]
    assert dump(path) == before


# -- a locked database -----------------------------------------------------------------------

TIMEOUT = 0.3
#: Generous: a 2-core machine shared by several test runs is slow, never fast.
SLACK = 0.5


@pytest.fixture
def locked(tmp_path: Path) -> Iterator[tuple[Path, sqlite3.Connection]]:
    """A synced database in rollback-journal mode (where an exclusive lock keeps readers out),
    and a second connection to it that will hold a lock."""
    path = tmp_path / "app.db"
    make_db(path, journal_mode="delete")
    holder = sqlite3.connect(path, isolation_level=None)
    yield path, holder
    if holder.in_transaction:
        holder.execute("ROLLBACK")
    holder.close()


def locked_message(path: Path, timeout: float = TIMEOUT) -> str:
    return (
        f"database {str(path)!r} is locked: another connection held the write lock for more "
        f"than {timeout:g} s"
    )


WRITES: dict[str, Callable[[Database], object]] = {
    "sync": lambda db: db.sync(),
    "upgrade": lambda db: db.upgrade(),
    "insert": lambda db: db.table(Note).insert({"text": "x"}),
    "insert_many": lambda db: db.table(Note).insert_many([{"text": "x"}, {"text": "y"}]),
    "delete": lambda db: db.table(Note).delete(where={"id": 1}),
    "raw": lambda db: db.raw("INSERT INTO notes (text) VALUES ('x')"),
    "transaction": lambda db: in_transaction(db, "SELECT 1"),
}


@pytest.mark.parametrize("lock", ["IMMEDIATE", "EXCLUSIVE"])
@pytest.mark.parametrize("call", list(WRITES))
def test_a_write_gives_up_after_the_busy_timeout_naming_the_file(
    locked: tuple[Path, sqlite3.Connection], lock: str, call: str
) -> None:
    path, holder = locked
    before = dump(path)
    with database(
        schemas=[Note, Tag], connection=path, busy_timeout=TIMEOUT, journal_mode="delete"
    ) as db:
        holder.execute(f"BEGIN {lock}")
        start = time.monotonic()
        with pytest.raises(DatabaseLockedError) as caught:
            WRITES[call](db)
        elapsed = time.monotonic() - start
        holder.execute("ROLLBACK")
        assert str(caught.value) == locked_message(path)
        assert caught.value.path == str(path)
        assert caught.value.timeout == TIMEOUT
        assert elapsed < 2 * TIMEOUT + SLACK, elapsed
        assert not db.conn.in_transaction
        assert dump(path) == before
        # The busy timeout the connection had is back; the next call works.
        assert db.raw("PRAGMA busy_timeout") == [{"timeout": int(TIMEOUT * 1000)}]
        db.table(Note).insert({"text": "after"})
        assert db.table(Note).count() == 2


def test_a_migration_gives_up_after_the_busy_timeout_naming_the_file_and_the_migration(
    locked: tuple[Path, sqlite3.Connection],
) -> None:
    path, holder = locked
    steps = [migration("0001_t", up=lambda ctx: ctx.sql("CREATE TABLE t (x)"))]
    with database(
        schemas=[Note],
        connection=path,
        busy_timeout=TIMEOUT,
        migrations=steps,
        journal_mode="delete",
    ) as db:
        holder.execute("BEGIN IMMEDIATE")
        start = time.monotonic()
        with pytest.raises(DatabaseLockedError) as caught:
            db.migrate_up()
        elapsed = time.monotonic() - start
        holder.execute("ROLLBACK")
        assert str(caught.value) == f"{locked_message(path)}; migration '0001_t' was rolled back"
        assert elapsed < 2 * TIMEOUT + SLACK, elapsed
        assert db.migrate_up() == ["0001_t"]


@pytest.mark.parametrize(
    "call",
    [
        lambda db: db.table(Note).find(),
        lambda db: db.plan(),
        lambda db: db.migration_status(),
    ],
)
def test_reads_work_while_another_connection_writes(
    locked: tuple[Path, sqlite3.Connection], call: Callable[[Database], object]
) -> None:
    path, holder = locked
    with database(
        schemas=[Note], connection=path, busy_timeout=TIMEOUT, journal_mode="delete"
    ) as db:
        holder.execute("BEGIN IMMEDIATE")
        holder.execute("INSERT INTO notes (text) VALUES ('uncommitted')")
        call(db)  # a reserved lock lets readers in


def test_reads_give_up_on_an_exclusive_lock_naming_the_file(
    locked: tuple[Path, sqlite3.Connection],
) -> None:
    path, holder = locked
    with database(
        schemas=[Note], connection=path, busy_timeout=TIMEOUT, journal_mode="delete"
    ) as db:
        holder.execute("BEGIN EXCLUSIVE")
        for call in (db.plan, db.check, db.history):
            start = time.monotonic()
            with pytest.raises(DatabaseLockedError) as caught:
                call()
            assert time.monotonic() - start < 2 * TIMEOUT + SLACK
            assert str(caught.value) == locked_message(path)


def test_the_busy_timeout_is_one_deadline_for_the_whole_sync(
    locked: tuple[Path, sqlite3.Connection],
) -> None:
    """The lock is taken between two statements of sync's fast path: after the schema version
    is read, before the recorded fingerprint is. Waiting for the fingerprint used the whole
    timeout, and the schema read that followed waited for it all over again."""
    path, holder = locked
    timeout = 1.0
    with database(
        schemas=[Note], connection=path, busy_timeout=timeout, journal_mode="delete"
    ) as db:

        def take_the_lock_midway(sql: str) -> None:
            if "__hedystia_state" in sql and not holder.in_transaction:
                holder.execute("BEGIN EXCLUSIVE")

        db.conn.set_trace_callback(take_the_lock_midway)
        start = time.monotonic()
        with pytest.raises(DatabaseLockedError) as caught:
            db.sync()
        elapsed = time.monotonic() - start
        db.conn.set_trace_callback(None)
        assert str(caught.value) == locked_message(path, timeout)
        assert timeout * 0.9 < elapsed < timeout * 1.6, elapsed


def test_a_lock_error_is_still_a_sqlite_lock_error(locked: tuple[Path, sqlite3.Connection]) -> None:
    path, holder = locked
    with database(schemas=[Note], connection=path, busy_timeout=0.05) as db:
        holder.execute("BEGIN IMMEDIATE")
        with pytest.raises(sqlite3.OperationalError) as caught:  # what callers caught before
            db.table(Note).insert({"text": "x"})
    assert isinstance(caught.value, DatabaseLockedError)
    assert isinstance(caught.value, HedystiaError)
    assert is_lock_error(caught.value)
    assert isinstance(caught.value.__cause__, sqlite3.OperationalError)


# -- the command line ------------------------------------------------------------------------


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Project]:
    yield from open_project(tmp_path, monkeypatch)


@pytest.mark.parametrize(
    "command",
    [["sync"], ["sync", "--dry-run"], ["check"], ["migrate", "status"], ["schema", "inspect"]],
)
def test_the_cli_names_a_file_that_is_not_sqlite(project: Project, command: list[str]) -> None:
    project.model("users", USERS)
    project.migrations_dir.mkdir(parents=True)
    (project.root / "notes.txt").write_text("not a database\n")
    line = one_line_error(project.run("--connection", "notes.txt", *command))
    assert line == "error: database 'notes.txt' is not a SQLite database"
    assert (project.root / "notes.txt").read_text() == "not a database\n"


@pytest.mark.parametrize("command", [["sync"], ["check"], ["schema", "inspect"]])
def test_the_cli_names_a_directory(project: Project, command: list[str]) -> None:
    project.model("users", USERS)
    (project.root / "data").mkdir()
    line = one_line_error(project.run("--connection", "data", *command))
    assert line == "error: database 'data' is a directory, not a SQLite database file"


def test_the_cli_names_a_locked_database(project: Project) -> None:
    project.model("users", USERS)
    sqlite3.connect(project.db_path).close()
    holder = sqlite3.connect(project.db_path, isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")
    try:
        line = one_line_error(project.run("--busy-timeout", "0.1", "sync"))
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    assert line == (
        f"error: database {str(project.db_path)!r} is locked: another connection held the "
        "write lock for more than 0.1 s (try again, or raise --busy-timeout)"
    )
