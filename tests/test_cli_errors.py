"""User mistakes common to the commands: missing or broken configuration, a schemas module
that does not import, a missing migrations directory or database directory, a locked
database. Each is one ``error:`` line on stderr and exit status 2 (a traceback only with
``--verbose``).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest
from cli_project import USERS, Project, make_runner, one_line_error, open_project, write_pyproject

from hedystia_models.cli import main
from hedystia_models.cli.errors import is_lock_error
from hedystia_models.errors import MigrationError


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Project]:
    yield from open_project(tmp_path, monkeypatch)


# -- configuration missing --------------------------------------------------------------------


def test_missing_connection(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("HEDYSTIA_DATABASE", raising=False)
    result = make_runner().invoke(main, ["sync"])
    line = one_line_error(result)
    assert line == (
        "error: no database configured: set connection in [tool.hedystia-models], "
        "HEDYSTIA_DATABASE, or pass --connection"
    )
    assert list(tmp_path.iterdir()) == []


def test_missing_schemas_setting(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("HEDYSTIA_DATABASE", raising=False)
    write_pyproject(tmp_path, connection="app.db")
    for command in (["sync"], ["check"], ["migration", "create", "x", "--auto"]):
        line = one_line_error(make_runner().invoke(main, command))
        assert line == (
            "error: no schemas module configured: set schemas in [tool.hedystia-models] "
            "or pass --schemas"
        ), command


# -- the schemas module -----------------------------------------------------------------------


def test_schemas_module_that_does_not_exist(project: Project) -> None:
    line = one_line_error(project.run("--schemas", "nope_zz_404.models", "sync"))
    assert line == (
        "error: cannot import the schemas module 'nope_zz_404.models': "
        "ModuleNotFoundError: No module named 'nope_zz_404'"
    )


def test_schemas_module_that_raises_on_import(project: Project) -> None:
    project.model("users", "raise RuntimeError('boom at import')\n")
    line = one_line_error(project.run("sync"))
    assert line == (
        f"error: cannot import the schemas module '{project.schemas_module}': "
        "RuntimeError: boom at import"
    )
    verbose = project.run("--verbose", "sync")
    assert verbose.exit_code == 2
    assert "Traceback (most recent call last)" in verbose.stderr
    assert "RuntimeError: boom at import" in verbose.stderr
    assert verbose.stderr.strip().splitlines()[-1] == line


def test_schemas_module_with_a_syntax_error(project: Project) -> None:
    path = project.model("users", "class User(\n")
    line = one_line_error(project.run("sync"))
    assert line.startswith(f"error: cannot import the schemas module '{project.schemas_module}'")
    assert "SyntaxError" in line and f"({path}, line 1)" in line


def test_syntax_error_in_a_model_names_the_place_once(project: Project) -> None:
    project.models("from hedystia_models import Table\n\nx = (\n")
    result = project.run("check")
    assert result.exit_code == 2
    (line,) = result.stderr.splitlines()
    init = project.schemas_dir / "__init__.py"
    assert line == (
        f"error: cannot import the schemas module '{project.package}.schemas': "
        f"SyntaxError: '(' was never closed ({init}, line 3)"
    )


def test_schemas_module_without_tables(project: Project) -> None:
    project.model("users", "X = 1\n")
    line = one_line_error(project.run("sync"))
    assert line == f"error: module '{project.schemas_module}' defines no Table models"


# -- files and directories --------------------------------------------------------------------


def test_missing_migrations_directory(project: Project) -> None:
    expected = f"error: migrations directory '{project.migrations_dir}' does not exist"
    for command in (("migrate", "up"), ("migrate", "down"), ("migrate", "status")):
        assert one_line_error(project.run(*command)) == expected
    # Commands that only read migrations treat a missing directory as "no migrations".
    project.model("users", USERS)
    project.ok("sync")
    assert project.ok("check").stdout == "ok: database matches the models\n"


def test_a_file_where_the_migrations_directory_should_be(project: Project) -> None:
    (project.root / "migs").write_text("", encoding="utf-8")
    created = project.run("--migrations", "migs", "migration", "create", "x", "--no-id")
    assert created.exit_code == 2
    assert created.stderr == "error: cannot write migs/x.py: migs is a file\n"
    status = project.run("--migrations", "migs", "migrate", "status")
    assert status.exit_code == 2
    assert status.stderr == (
        f"error: migrations directory '{project.root / 'migs'}' is not a directory\n"
    )


def test_missing_database_directory(project: Project) -> None:
    project.model("users", USERS)
    line = one_line_error(project.run("--connection", "no/such/dir/app.db", "sync"))
    assert line == "error: directory 'no/such/dir' for the database does not exist"


def test_reading_commands_never_create_a_missing_database_file(project: Project) -> None:
    project.model("users", USERS)
    assert not project.db_path.exists()
    assert project.ok("history").stdout == "no history yet\n"
    assert project.run("check").exit_code == 1  # an absent database is an empty one
    assert "create table users" in project.run("check").stdout
    project.ok("sync", "--dry-run")
    assert not project.db_path.exists()
    project.ok("sync")
    assert project.db_path.exists()


# -- a locked database ------------------------------------------------------------------------


def test_locked_database(project: Project) -> None:
    project.model("users", USERS)
    sqlite3.connect(project.db_path).close()
    holder = sqlite3.connect(project.db_path, isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")  # hold the write lock
    try:
        line = one_line_error(project.run("--busy-timeout", "0.1", "sync"))
        assert line == (
            f"error: database {str(project.db_path)!r} is locked: another connection held the "
            "write lock for more than 0.1 s (try again, or raise --busy-timeout)"
        )
        verbose = project.run("--busy-timeout", "0.1", "--verbose", "sync")
        assert verbose.exit_code == 2
        assert "Traceback (most recent call last)" in verbose.stderr
        assert "sqlite3.OperationalError: database is locked" in verbose.stderr  # the cause
        assert verbose.stderr.strip().splitlines()[-1] == line
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    assert project.tables() == set()  # nothing was applied while locked
    project.ok("sync")
    assert project.tables() == {"users"}


def test_locked_database_during_a_migration(project: Project) -> None:
    project.ok("migration", "create", "first")
    holder = sqlite3.connect(project.db_path, isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")
    try:
        line = one_line_error(project.run("--busy-timeout", "0.1", "migrate", "up"))
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    assert f"database {str(project.db_path)!r} is locked" in line
    assert line.endswith("(try again, or raise --busy-timeout)")
    assert "applied" in project.ok("migrate", "up").stdout


class CodedOperationalError(sqlite3.OperationalError):
    """An OperationalError carrying SQLite's result code, as Python 3.11+ raises them."""

    sqlite_errorcode: int


def operational_error(message: str, code: int | None) -> sqlite3.OperationalError:
    """An OperationalError as sqlite3 raises it: carrying SQLite's result code (Python 3.11+)
    when ``code`` is given, without one (as on Python 3.10) when it is None."""
    if code is None:
        return sqlite3.OperationalError(message)
    exc = CodedOperationalError(message)
    exc.sqlite_errorcode = code
    return exc


@pytest.mark.parametrize(
    ("name", "code"),
    [
        ("SQLITE_BUSY", 5),
        ("SQLITE_BUSY_RECOVERY", 261),
        ("SQLITE_BUSY_SNAPSHOT", 517),
        ("SQLITE_BUSY_TIMEOUT", 773),
        ("SQLITE_LOCKED", 6),
        ("SQLITE_LOCKED_SHAREDCACHE", 262),
    ],
)
def test_a_lock_error_is_known_by_its_result_code(name: str, code: int) -> None:
    assert getattr(sqlite3, name, code) == code  # the constants exist from Python 3.11 on
    exc = operational_error("any text at all", code)
    assert is_lock_error(exc)
    wrapped = MigrationError("migration 'm1' failed during up and was rolled back")
    wrapped.__cause__ = exc  # as `raise MigrationError(...) from exc` sets it
    assert is_lock_error(wrapped)


def test_the_word_locked_in_a_message_does_not_make_a_lock_error() -> None:
    # SQLITE_ERROR (1) about a table whose name says "locked".
    assert not is_lock_error(operational_error("no such table: locked_accounts", 1))
    assert not is_lock_error(operational_error("database is locked", 1))
    # Not an OperationalError: other errors are never lock errors, whatever they say.
    assert not is_lock_error(MigrationError("database is locked"))
    # Raised while a lock error was being handled, not from it: only the cause chain counts.
    other = MigrationError("the migration's own problem")
    other.__context__ = operational_error("database is locked", 5)
    assert not is_lock_error(other)
    assert not is_lock_error(None)


def test_without_a_result_code_only_sqlites_own_lock_messages_count() -> None:
    # Python 3.10's sqlite3 attaches no result code: there the whole message must be SQLite's
    # text for SQLITE_BUSY or SQLITE_LOCKED.
    assert is_lock_error(operational_error("database is locked", None))
    assert is_lock_error(operational_error("database table is locked", None))
    assert not is_lock_error(operational_error("no such table: locked_accounts", None))
    assert not is_lock_error(operational_error("database is locked (really)", None))


def test_real_busy_and_locked_errors_are_lock_errors(tmp_path: Path) -> None:
    path = tmp_path / "locked.db"
    holder = sqlite3.connect(path, isolation_level=None)
    waiter = sqlite3.connect(path, timeout=0, isolation_level=None)
    try:
        holder.execute("BEGIN IMMEDIATE")
        with pytest.raises(sqlite3.OperationalError) as busy:
            waiter.execute("BEGIN IMMEDIATE")  # SQLITE_BUSY: another connection writes
    finally:
        holder.close()
        waiter.close()
    assert is_lock_error(busy.value)
    conn = sqlite3.connect(":memory:", isolation_level=None)
    try:
        conn.execute("CREATE TABLE t (x)")
        conn.executemany("INSERT INTO t VALUES (?)", [(i,) for i in range(3)])
        reading = conn.execute("SELECT x FROM t")
        reading.fetchone()
        with pytest.raises(sqlite3.OperationalError) as locked:
            conn.execute("DROP TABLE t")  # SQLITE_LOCKED: the same connection still reads it
    finally:
        conn.close()
    assert is_lock_error(locked.value)
    with pytest.raises(sqlite3.OperationalError) as other:
        sqlite3.connect(":memory:").execute("SELECT * FROM locked")
    assert not is_lock_error(other.value)  # "no such table: locked"
