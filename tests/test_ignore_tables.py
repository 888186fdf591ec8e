"""``ignore_tables``: the tables other tools own (Django's, Alembic's ``alembic_version``) are
never reported or touched; and the bookkeeping tables ``__hedystia_migrations`` /
``__hedystia_state`` exist only once something had to be recorded in them."""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from cli_project import Project, open_project

from hedystia_models import ConfigurationError, Field, SyncError, Table, database, migration
from hedystia_models.context import MigrationContext
from hedystia_models.engine.sqlite import introspect as introspect_module
from hedystia_models.engine.sqlite.executor import SQLiteExecutor
from hedystia_models.migrate import history
from hedystia_models.migrate.fresh import check_fresh
from hedystia_models.migrate.planner import ignored_by, plan_for, without_ignored
from hedystia_models.migrate.sync import fingerprint, is_known_in_sync
from hedystia_models.model.table import Index, table_info

# -- a database another tool made -------------------------------------------------------------


class User(Table, table="users"):
    id: int | None = Field(default=None, primary_key=True)
    name: str = ""
    email: str | None = None


class UserWithNickname(Table, table="users"):
    id: int | None = Field(default=None, primary_key=True)
    name: str = ""
    email: str | None = None
    nickname: str | None = None


#: What the models declare, written by hand (by the other tool), so a sync has nothing to do.
USERS_SQL = "CREATE TABLE users (id INTEGER PRIMARY KEY, name TEXT NOT NULL DEFAULT '', email TEXT)"

#: Django's and Alembic's own tables, as those tools write them, with rows.
OTHER_TOOLS_SQL = """
CREATE TABLE "django_migrations" ("id" integer NOT NULL PRIMARY KEY AUTOINCREMENT,
    "app" varchar(255) NOT NULL, "name" varchar(255) NOT NULL, "applied" datetime NOT NULL);
CREATE TABLE "django_session" ("session_key" varchar(40) NOT NULL PRIMARY KEY,
    "session_data" text NOT NULL, "expire_date" datetime NOT NULL);
CREATE INDEX "django_session_expire_date_a5c62663" ON "django_session" ("expire_date");
CREATE TABLE alembic_version (version_num VARCHAR(32) NOT NULL,
    CONSTRAINT alembic_version_pkc PRIMARY KEY (version_num));
INSERT INTO django_migrations (app, name, applied) VALUES ('contenttypes', '0001_initial', '2024');
INSERT INTO django_session VALUES ('k', 'data', '2030-01-01');
INSERT INTO alembic_version VALUES ('ae1027a6acf');
"""

OTHER_TABLES = {"django_migrations", "django_session", "alembic_version"}
IGNORE = ["django_*", "alembic_version"]
BOOKKEEPING = {history.HISTORY_TABLE, history.STATE_TABLE}


def make_foreign_db(path: Path, *, users: bool = True) -> Path:
    """A database file made by other tools: Django's and Alembic's tables (and ``users``)."""
    conn = sqlite3.connect(path)
    conn.executescript((USERS_SQL + ";\n" if users else "") + OTHER_TOOLS_SQL)
    if users:
        conn.execute("INSERT INTO users (name) VALUES ('Ann')")
    conn.commit()
    conn.close()
    return path


def master(path: Path) -> list[tuple[Any, ...]]:
    """Everything ``sqlite_master`` says about the file, in a stable order."""
    conn = sqlite3.connect(path)
    try:
        return sorted(conn.execute("SELECT type, name, tbl_name, sql FROM sqlite_master"))
    finally:
        conn.close()


def table_names(path: Path) -> set[str]:
    return {str(row[1]) for row in master(path) if row[0] == "table"}


def other_tools_rows(path: Path) -> list[tuple[Any, ...]]:
    conn = sqlite3.connect(path)
    try:
        return [
            *conn.execute("SELECT app, name FROM django_migrations"),
            *conn.execute("SELECT session_key FROM django_session"),
            *conn.execute("SELECT version_num FROM alembic_version"),
        ]
    finally:
        conn.close()


@pytest.fixture
def foreign(tmp_path: Path) -> Path:
    return make_foreign_db(tmp_path / "shared.db")


# -- plan, sync and check leave them alone ----------------------------------------------------


def test_without_the_setting_the_other_tools_tables_are_drop_table_findings(
    foreign: Path,
) -> None:
    # The control: what ignore_tables takes away.
    with database(schemas=[User], connection=foreign) as db:
        dropped = {op.table for op in db.plan().unsafe if op.kind == "drop_table"}
        assert dropped == OTHER_TABLES
        assert len(db.check()) == 3


@pytest.mark.parametrize(
    "ignore",
    [
        IGNORE,
        ["django_migrations", "django_session", "alembic_version"],  # exact names
        ["django_*", "alembic_*"],
        ["*_migrations", "django_sess?on", "[a]lembic_version"],
    ],
    ids=["pattern-and-name", "exact", "patterns", "fnmatch-syntax"],
)
def test_plan_sync_and_check_leave_ignored_tables_alone(foreign: Path, ignore: list[str]) -> None:
    before = master(foreign)
    rows = other_tools_rows(foreign)
    with database(schemas=[User], connection=foreign, ignore_tables=ignore) as db:
        plan = db.plan()
        assert plan.in_sync, str(plan)
        assert db.check() == []
        assert db.sync().in_sync
        assert not db.sync()  # again
    assert master(foreign) == before  # nothing created, nothing touched
    assert other_tools_rows(foreign) == rows


def test_only_the_tables_named_are_ignored(foreign: Path) -> None:
    with database(schemas=[User], connection=foreign, ignore_tables=["django_*"]) as db:
        assert [(op.kind, op.table) for op in db.plan()] == [("drop_table", "alembic_version")]
        assert db.check() == ["schema: drop table alembic_version"]


def test_sync_that_applies_something_never_writes_to_ignored_tables(foreign: Path) -> None:
    statements: list[str] = []
    conn = sqlite3.connect(foreign)
    conn.set_trace_callback(statements.append)
    with database(schemas=[UserWithNickname], connection=conn, ignore_tables=IGNORE) as db:
        applied = db.sync()
        assert [op.describe() for op in applied] == ["add column users.nickname TEXT"]
        assert db.check() == []
    conn.close()
    writes = [
        s
        for s in statements
        if s.lstrip().split(None, 1)[0].upper()
        in {"CREATE", "ALTER", "DROP", "INSERT", "UPDATE", "DELETE", "REPLACE"}
    ]
    assert writes  # the column and the bookkeeping were written ...
    for name in OTHER_TABLES:
        assert not any(name in s.lower() for s in writes), name  # ... nothing of theirs
    assert table_names(foreign) >= OTHER_TABLES


def test_start_up_with_migrations_leaves_ignored_tables_alone(foreign: Path) -> None:
    def up(ctx: MigrationContext) -> None:
        ctx.sql("UPDATE users SET name = upper(name)")

    before = {row for row in master(foreign) if row[2] in OTHER_TABLES}
    with database(
        schemas=[UserWithNickname],
        connection=foreign,
        migrations=[migration("0001_shout", up=up)],
        sync_schemas=True,
        run_migrations=True,
        ignore_tables=IGNORE,
    ) as db:
        assert db.check() == []
        assert db.raw("SELECT name, nickname FROM users") == [{"name": "ANN", "nickname": None}]
    assert {row for row in master(foreign) if row[2] in OTHER_TABLES} == before


def test_views_and_triggers_are_not_ignored(foreign: Path) -> None:
    conn = sqlite3.connect(foreign)
    conn.execute("CREATE VIEW django_recent AS SELECT name FROM django_migrations")
    conn.execute("CREATE TRIGGER django_audit AFTER INSERT ON django_session BEGIN SELECT 1; END")
    conn.commit()
    conn.close()
    with database(schemas=[User], connection=foreign, ignore_tables=IGNORE) as db:
        state = without_ignored(db.executor.read_state(), db.ignore_tables)
        assert {d.name for d in state.dependents} == {"django_recent", "django_audit"}
        assert "django_session" not in state.tables
        assert db.plan().in_sync


# -- matching ---------------------------------------------------------------------------------


def test_names_match_as_sqlite_compares_them_ascii_case_insensitively(tmp_path: Path) -> None:
    path = tmp_path / "case.db"
    conn = sqlite3.connect(path)
    conn.executescript(
        USERS_SQL + ";"
        "CREATE TABLE Django_Migrations (id INTEGER PRIMARY KEY);"
        "CREATE TABLE ALEMBIC_VERSION (version_num TEXT);"
        'CREATE TABLE "ÉTAT" (x);'
    )
    conn.close()
    ignore = ["DJANGO_*", "alembic_version", "état"]
    with database(schemas=[User], connection=path, ignore_tables=ignore) as db:
        # Only ASCII letters fold, as in SQLite: "ÉTAT" is not "état".
        assert [op.table for op in db.plan()] == ["ÉTAT"]
    assert ignored_by("Django_Migrations", ["django_*"]) == "django_*"
    assert ignored_by("django_migrations", ["DJANGO_MIGRATIONS"]) == "DJANGO_MIGRATIONS"
    assert ignored_by("ÉTAT", ["état"]) is None
    assert ignored_by("djangox", ["django_*"]) is None  # "_" is a literal character


# -- a model may not declare an ignored table -------------------------------------------------


@pytest.mark.parametrize("pattern", ["users", "USERS", "us*", "?sers"])
def test_a_model_declaring_an_ignored_table_is_a_configuration_error(
    tmp_path: Path, pattern: str
) -> None:
    path = tmp_path / "never.db"
    with pytest.raises(ConfigurationError) as caught:
        database(schemas=[User], connection=path, ignore_tables=["django_*", pattern])
    message = str(caught.value)
    assert "User" in message and "'users'" in message and repr(pattern) in message
    assert not path.exists()  # refused before connecting


def test_plan_for_refuses_a_spec_of_an_ignored_table() -> None:
    with database(schemas=[], connection=":memory:") as db:
        executor = SQLiteExecutor(db.sqlite)
        with pytest.raises(ConfigurationError, match=r"'users'.*'u\*'"):
            plan_for([table_info(User).spec], executor, ignore_tables=["u*"])


def test_check_fresh_refuses_a_model_declaring_an_ignored_table() -> None:
    with pytest.raises(ConfigurationError, match="'users'"):
        check_fresh([User], None, ignore_tables=["users"])


@pytest.mark.parametrize(
    "value",
    ["django_*", b"django_*", 3, [3], [""], ["  "], [None], {"django_*": 1}],
    ids=["str", "bytes", "int", "int-item", "empty", "blank", "none-item", "dict"],
)
def test_ignore_tables_must_be_a_list_of_non_empty_strings(value: Any) -> None:
    with pytest.raises(ConfigurationError, match="ignore_tables must"):
        database(schemas=[User], connection=":memory:", ignore_tables=value)


def test_ignore_tables_accepts_any_list_like_and_drops_repeats() -> None:
    for value in (None, [], (), {"django_*"}, frozenset(["django_*"])):
        with database(schemas=[User], connection=":memory:", ignore_tables=value) as db:
            assert db.ignore_tables in ((), ("django_*",))
    with database(schemas=[User], connection=":memory:", ignore_tables=["a*", "b", "a*"]) as db:
        assert db.ignore_tables == ("a*", "b")


# -- the fast path's fingerprint includes the setting -----------------------------------------


def test_the_fingerprint_changes_with_the_setting() -> None:
    specs = [table_info(User).spec]
    plain = fingerprint(specs)
    assert plain == fingerprint(specs, ())
    assert fingerprint(specs, IGNORE) != plain
    assert fingerprint(specs, ["django_*"]) != fingerprint(specs, IGNORE)
    # The patterns as they match: case and order do not matter.
    assert fingerprint(specs, ["ALEMBIC_VERSION", "Django_*"]) == fingerprint(specs, IGNORE)


def test_changing_the_setting_plans_again(foreign: Path) -> None:
    # A sync that applies something records the fingerprint (with the setting) and no drift.
    with database(
        schemas=[UserWithNickname], connection=foreign, sync_schemas=True, ignore_tables=IGNORE
    ) as db:
        assert is_known_in_sync(db.conn, db.specs, IGNORE)
        assert not is_known_in_sync(db.conn, db.specs, ["django_*"])
    # Without the setting, the fast path must not answer "no drift" from that record.
    with database(schemas=[UserWithNickname], connection=foreign, sync_schemas=True) as db:
        assert {op.table for op in db.sync().unsafe} == OTHER_TABLES
    with database(schemas=[UserWithNickname], connection=foreign, ignore_tables=["django_*"]) as db:
        assert [op.table for op in db.sync().unsafe] == ["alembic_version"]


# -- check --fresh ----------------------------------------------------------------------------


def test_check_fresh_leaves_ignored_tables_out(foreign: Path) -> None:
    with database(schemas=[User], connection=foreign) as db:
        problems = db.check_fresh()
        assert sorted(problems) == sorted(
            f"table {name} is in the real database but not in the fresh database"
            for name in OTHER_TABLES
        )
    with database(schemas=[User], connection=foreign, ignore_tables=IGNORE) as db:
        assert db.check_fresh() == []


def test_check_fresh_ignores_an_ignored_table_a_migration_creates() -> None:
    def up(ctx: MigrationContext) -> None:
        ctx.sql("CREATE TABLE django_content_type (id INTEGER PRIMARY KEY)")

    migrations = [migration("0001_django", up=up)]
    assert check_fresh([User], migrations) == [
        "table django_content_type is in the fresh database but not in the models"
    ]
    assert check_fresh([User], migrations, ignore_tables=["django_*"]) == []


# -- the bookkeeping tables: created by the first write that needs them -----------------------


def nothing(ctx: MigrationContext) -> None:
    """A migration step that changes nothing."""


def test_a_no_op_start_up_on_another_tools_database_creates_no_table(foreign: Path) -> None:
    before = master(foreign)
    for _ in range(2):
        database(
            schemas=[User], connection=foreign, sync_schemas=True, ignore_tables=IGNORE
        ).close()
        database(
            schemas=[User],
            connection=foreign,
            sync_schemas=True,
            run_migrations=True,
            ignore_tables=IGNORE,
        ).close()
    assert master(foreign) == before
    assert not table_names(foreign) & BOOKKEEPING


def test_reads_work_without_the_bookkeeping_tables(foreign: Path) -> None:
    migrations = [migration("0001_noop", up=nothing)]
    before = master(foreign)
    with database(
        schemas=[User], connection=foreign, migrations=migrations, ignore_tables=IGNORE
    ) as db:
        assert db.history() == []
        status = db.migration_status()
        assert status.applied == [] and status.pending == ["0001_noop"]
        assert db.check() == ["pending migration: 0001_noop"]
        assert db.check_fresh() == []
        assert db.migrate_down() == []
        assert not is_known_in_sync(db.conn, db.specs, IGNORE)
        assert not history.is_applied(db.conn, "0001_noop")
        assert history.read_state(db.conn, "sync_fingerprint") is None
        history.forget(db.conn, "0001_noop")  # nothing to forget, and no error
    assert master(foreign) == before


def test_a_sync_that_applies_something_creates_them(foreign: Path) -> None:
    with database(
        schemas=[UserWithNickname], connection=foreign, sync_schemas=True, ignore_tables=IGNORE
    ) as db:
        [entry] = db.history()
        assert entry.kind == "sync"
        assert entry.statements == ('ALTER TABLE "users" ADD COLUMN "nickname" TEXT',)
    assert table_names(foreign) >= BOOKKEEPING


def test_a_stamp_creates_them(foreign: Path) -> None:
    migrations = [migration("0001_noop", up=nothing)]
    with database(
        schemas=[User], connection=foreign, migrations=migrations, ignore_tables=IGNORE
    ) as db:
        assert db.stamp() == ["0001_noop"]
        assert db.migration_status().pending == []
    assert table_names(foreign) >= BOOKKEEPING


def test_a_failed_sync_leaves_no_bookkeeping_table(tmp_path: Path) -> None:
    path = make_foreign_db(tmp_path / "dupes.db")
    conn = sqlite3.connect(path)
    conn.execute("UPDATE users SET email = 'ann@example.com'")
    conn.execute("INSERT INTO users (name, email) VALUES ('Ann', 'ann@example.com')")  # twice
    conn.commit()
    conn.close()

    class UniqueNames(Table, table="users", indexes=[Index("name", "email", unique=True)]):
        id: int | None = Field(default=None, primary_key=True)
        name: str = ""
        email: str | None = None

    before = master(path)
    db = database(schemas=[UniqueNames], connection=path, ignore_tables=IGNORE)
    assert [op.kind for op in db.plan().safe] == ["create_index"]
    with pytest.raises(SyncError, match="rolled back"):
        db.sync()
    db.close()
    assert master(path) == before  # the tables would have come with the write: none


def test_no_fast_path_until_something_is_recorded_then_the_fast_path(
    foreign: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    reads: list[Any] = []
    real = introspect_module.read_database

    def counting(db: Any, only: Any = None) -> Any:
        reads.append(only)
        return real(db, only=only)

    monkeypatch.setattr(introspect_module, "read_database", counting)

    def start_up(models: list[type[Table]]) -> int:
        """One start-up; how many times it read the whole schema."""
        reads.clear()
        database(
            schemas=models, connection=foreign, sync_schemas=True, ignore_tables=IGNORE
        ).close()
        assert all(only is None for only in reads)
        return len(reads)

    # Nothing recorded: every start-up plans once, without a lock, and writes nothing.
    assert [start_up([User]) for _ in range(3)] == [1, 1, 1]
    # Something to apply: planned, planned again under the lock, applied and recorded.
    assert start_up([UserWithNickname]) == 2
    # Recorded: the fast path reads nothing.
    assert [start_up([UserWithNickname]) for _ in range(3)] == [0, 0, 0]
    # Once the tables exist a no-op sync keeps the fingerprint current, as before: DDL on an
    # ignored table moves schema_version, so one start-up plans (and records), then the fast path.
    conn = sqlite3.connect(foreign)
    conn.execute("CREATE INDEX django_session_by_key ON django_session (session_key)")
    conn.commit()
    conn.close()
    assert [start_up([UserWithNickname]) for _ in range(3)] == [2, 0, 0]


def test_concurrent_no_op_start_ups_create_nothing_and_applying_ones_record_once(
    foreign: Path,
) -> None:
    before = master(foreign)
    errors: list[BaseException] = []

    def start(models: list[type[Table]]) -> None:
        try:
            database(
                schemas=models, connection=foreign, sync_schemas=True, ignore_tables=IGNORE
            ).close()
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    for models in ([User], [UserWithNickname]):
        workers = [threading.Thread(target=start, args=(models,)) for _ in range(6)]
        for worker in workers:
            worker.start()
        for worker in workers:
            worker.join()
        assert errors == []
        if models == [User]:
            assert master(foreign) == before
    with database(schemas=[UserWithNickname], connection=foreign, ignore_tables=IGNORE) as db:
        assert [e.kind for e in db.history()] == ["sync"]  # six starters, one sync


# -- the command line -------------------------------------------------------------------------


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Project]:
    yield from open_project(tmp_path, monkeypatch, prefix="ignoreproj")


USER_MODEL = """
    from hedystia_models import Field, Table


    class User(Table, table="users"):
        id: int | None = Field(default=None, primary_key=True)
        name: str = ""
        email: str | None = None
"""


def configure(project: Project, ignore: str | None) -> None:
    lines = [
        "[tool.hedystia-models]",
        f'schemas = "{project.schemas_module}"',
        'connection = "app.db"',
    ]
    if ignore is not None:
        lines.append(f"ignore_tables = {ignore}")
    (project.root / "pyproject.toml").write_text("\n".join(lines) + "\n", encoding="utf-8")


def test_pyproject_ignore_tables_is_used_by_the_commands(project: Project) -> None:
    project.models(USER_MODEL)
    make_foreign_db(project.db_path)
    before = master(project.db_path)

    configure(project, None)  # the control: the other tools' tables are findings
    result = project.run("check")
    assert result.exit_code == 1
    assert "schema: drop table django_migrations" in result.stdout

    configure(project, '["django_*", "ALEMBIC_VERSION"]')
    assert project.ok("check").stdout.startswith("ok: database matches the models")
    assert "nothing to do" in project.ok("sync", "--dry-run").stdout
    assert "nothing to do" in project.ok("sync").stdout
    assert "nothing to generate" in project.ok("migration", "create", "x", "--auto").stdout
    assert project.ok("history").stdout == "no history yet\n"
    project.migrations_dir.mkdir(parents=True)
    assert project.ok("migrate", "status").stdout == "no migrations\n"
    assert master(project.db_path) == before  # read commands and a no-op sync wrote nothing


def test_pyproject_ignore_tables_must_be_a_list_of_strings(project: Project) -> None:
    project.models(USER_MODEL)
    for value in ('"django_*"', "[1]", '[""]', "true"):
        configure(project, value)
        result = project.run("check")
        assert result.exit_code == 2, (value, result.stderr)
        (line,) = result.stderr.splitlines()
        assert "ignore_tables in [tool.hedystia-models] must be a list of non-empty strings" in (
            line
        )
        assert 'ignore_tables = ["django_*", "alembic_version"]' in line


def test_a_model_of_an_ignored_table_is_a_one_line_cli_error(project: Project) -> None:
    project.models(USER_MODEL)
    configure(project, '["use*"]')
    result = project.run("sync")
    assert result.exit_code == 2
    assert "model User declares table 'users'" in result.stderr
    assert "'use*'" in result.stderr
    assert not project.db_path.exists()
