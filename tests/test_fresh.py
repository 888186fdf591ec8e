"""``check_fresh``, ``db.check_fresh()`` and ``hedystia-models check --fresh``: the history
replays on an empty database to exactly the models, and to the real database."""

from __future__ import annotations

import json
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import sqlite_utils
from cli_project import Project, open_project

from hedystia_models import (
    ColumnSpec,
    Field,
    MigrationDefinition,
    SchemaError,
    Table,
    database,
    migration,
)
from hedystia_models.context import MigrationContext
from hedystia_models.engine.sqlite.introspect import read_database
from hedystia_models.migrate.fresh import check_fresh, schema_differences

# -- models and migrations --------------------------------------------------------------------


class UserV1(Table, table="users"):
    """The users table as the first migration made it."""

    id: int | None = Field(default=None, primary_key=True)
    name: str = ""


class User(Table, table="users"):
    """The users table today."""

    id: int | None = Field(default=None, primary_key=True)
    name: str = ""
    nickname: str | None = None


def create_users_up(ctx: MigrationContext) -> None:
    ctx.schema.create_table(UserV1)


def create_users_down(ctx: MigrationContext) -> None:
    ctx.schema.drop_table("users")


def add_nickname_up(ctx: MigrationContext) -> None:
    ctx.schema.add_column("users", "nickname", ColumnSpec(name="nickname", type="TEXT"))


def add_nickname_down(ctx: MigrationContext) -> None:
    ctx.schema.drop_column("users", "nickname")


def raw_nickname_up(ctx: MigrationContext) -> None:
    # Written on a file where sync had made users without nickname: on a fresh database the
    # models have already made the column, and raw SQL does not converge.
    ctx.sql('ALTER TABLE "users" ADD COLUMN "nickname" TEXT')


def add_legacy_up(ctx: MigrationContext) -> None:
    ctx.schema.add_column("users", "legacy", ColumnSpec(name="legacy", type="INTEGER"))


def create_audit_up(ctx: MigrationContext) -> None:
    ctx.sql("CREATE TABLE audit (id INTEGER PRIMARY KEY, what TEXT)")


def retype_name_up(ctx: MigrationContext) -> None:
    # INTEGER is another storage than the model's TEXT (VARCHAR(20) would store alike)
    name = ColumnSpec(name="name", type="INTEGER", not_null=True, default_sql="''")
    ctx.schema.alter_column("users", "name", name)


def good_history() -> list[MigrationDefinition]:
    return [
        migration("create_users", up=create_users_up, down=create_users_down),
        migration("add_nickname", up=add_nickname_up, down=add_nickname_down),
    ]


def user_objects(db: sqlite_utils.Database) -> list[tuple[str, str, str | None]]:
    """sqlite_master, the bookkeeping tables included: to show that nothing changed."""
    return sorted(db.execute("SELECT type, name, sql FROM sqlite_master").fetchall())


# -- a good history ---------------------------------------------------------------------------


def test_a_good_history_replays_to_the_models(db_path: Path) -> None:
    assert check_fresh([User], good_history()) == []
    # The models and migrations may be given any way database() accepts them.
    assert check_fresh({"people": User}, {"m": good_history()[0], "n": good_history()[1]}) == []
    # A database that started from the same history matches the fresh one.
    with database(
        schemas=[User],
        connection=db_path,
        migrations=good_history(),
        sync_schemas=True,
        run_migrations=True,
    ) as db:
        assert db.check() == []
        assert db.check_fresh() == []
        assert check_fresh([User], good_history(), against=db.sqlite) == []


def test_a_database_synced_before_its_migrations_matches_the_fresh_one(db_path: Path) -> None:
    # The developer's road: sync made users(id, name); the migrations came later and adopted
    # the table; a fresh clone takes the other road and must end in the same schema.
    with database(schemas=[UserV1], connection=db_path, sync_schemas=True) as db:
        db.raw("INSERT INTO users (name) VALUES ('Ann')")
    with database(
        schemas=[User],
        connection=db_path,
        migrations=good_history(),
        sync_schemas=True,
        run_migrations=True,
    ) as db:
        assert db.check() == []
        assert db.check_fresh() == []


def test_no_migrations_at_all_is_a_history_of_sync_only() -> None:
    assert check_fresh([User], None) == []
    assert check_fresh([User], []) == []


# -- a history that does not replay -----------------------------------------------------------


def test_a_migration_that_fails_on_a_fresh_database_is_named(db_path: Path) -> None:
    raw = [migration("add_nickname_raw", up=raw_nickname_up)]
    # On the developer's file all is well: sync made users, then the migration added nickname.
    with database(schemas=[UserV1], connection=db_path, sync_schemas=True):
        pass
    with database(
        schemas=[User], connection=db_path, migrations=raw, sync_schemas=True, run_migrations=True
    ) as db:
        assert db.check() == []
        problems = db.check_fresh()
    assert len(problems) == 1
    assert problems[0].startswith("fresh start fails: migration 'add_nickname_raw' failed")
    assert "duplicate column name: nickname" in problems[0]
    assert check_fresh([User], raw) == problems  # the real database plays no part in it


def test_a_failure_message_with_detail_lines_stays_on_one_line() -> None:
    def create_other_users(ctx: MigrationContext) -> None:
        ctx.sql("INSERT INTO users (name) VALUES ('seed')")  # not provisional any more
        ctx.schema.create_table(UserV1)

    problems = check_fresh([User], [migration("conflict", up=create_other_users)])
    assert len(problems) == 1
    assert "\n" not in problems[0]
    assert problems[0].startswith("fresh start fails: migration 'conflict'")
    # The detail line under the message, naming the differing column, joined to it.
    assert problems[0].endswith(
        "already exists with different columns: "
        "column 'nickname' exists in the database but not in the definition"
    )


@pytest.mark.parametrize(
    ("extra", "expected"),
    [
        (add_legacy_up, "column users.legacy is in the fresh database but not in the models"),
        (create_audit_up, "table audit is in the fresh database but not in the models"),
        (
            retype_name_up,
            "column users.name differs: type INTEGER -> TEXT (the fresh database -> the models)",
        ),
    ],
)
def test_a_migration_that_leaves_the_fresh_schema_off_the_models_is_reported(
    extra: Callable[[MigrationContext], None], expected: str
) -> None:
    history = [*good_history(), migration("extra", up=extra)]
    assert check_fresh([User], history) == [expected]


def test_a_model_no_migration_accounts_for_is_fine_sync_makes_it() -> None:
    class Note(Table, table="notes"):
        id: int | None = Field(default=None, primary_key=True)

    assert check_fresh([User, Note], good_history()) == []


# -- the real database ------------------------------------------------------------------------


def test_a_real_database_changed_by_hand_differs_from_the_fresh_one(db_path: Path) -> None:
    with database(
        schemas=[User],
        connection=db_path,
        migrations=good_history(),
        sync_schemas=True,
        run_migrations=True,
    ) as db:
        db.raw("INSERT INTO users (name) VALUES ('Ann')")
        db.raw("ALTER TABLE users ADD COLUMN note TEXT")
        db.raw("ALTER TABLE users DROP COLUMN nickname")
        db.raw("CREATE INDEX hand ON users (name)")
        db.raw("CREATE TABLE scratchpad (x TEXT)")
        db.raw("CREATE VIEW names AS SELECT name FROM users")
        before = user_objects(db.sqlite)
        rows = db.raw("SELECT * FROM users")

        problems = db.check_fresh()

        assert sorted(problems) == sorted(
            [
                "column users.nickname is in the fresh database but not in the real database",
                "column users.note is in the real database but not in the fresh database",
                "index hand on users is in the real database but not in the fresh database",
                "table scratchpad is in the real database but not in the fresh database",
                "view names is in the real database but not in the fresh database",
            ]
        )
        # The real database is only read.
        assert user_objects(db.sqlite) == before
        assert db.raw("SELECT * FROM users") == rows
        assert check_fresh([User], good_history(), against=db.sqlite) == problems


def test_a_table_missing_from_the_real_database_is_named(db_path: Path) -> None:
    with database(schemas=[], connection=db_path) as db:
        assert check_fresh([User], good_history(), against=db.sqlite) == [
            "table users is in the fresh database but not in the real database"
        ]


def test_changed_definitions_are_named_with_both_sides() -> None:
    fresh = sqlite_utils.Database(memory=True)
    real = sqlite_utils.Database(memory=True)
    fresh.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, a INTEGER, b TEXT, UNIQUE (a, b))")
    real.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, a TEXT, b TEXT)")
    fresh.execute("CREATE INDEX t_i ON t (a)")
    real.execute("CREATE UNIQUE INDEX t_i ON t (b) WHERE b IS NOT NULL")
    fresh.execute("CREATE VIEW v AS SELECT a FROM t")
    real.execute("CREATE VIEW v AS SELECT b FROM t")
    fresh.execute("CREATE TRIGGER tr AFTER INSERT ON t BEGIN SELECT 1; END")
    problems = schema_differences(
        read_database(fresh),
        read_database(real),
        desired_name="the fresh database",
        actual_name="the real database",
    )
    assert sorted(problems) == sorted(
        [
            "column t.a differs: type TEXT -> INTEGER (the real database -> the fresh database)",
            # a UNIQUE constraint the real database lacks is a unique index it lacks
            "index t_a_b_unique on t is in the fresh database but not in the real database",
            "index t_i on t differs: the real database has unique (b) WHERE b IS NOT NULL, "
            "the fresh database has (a)",
            "trigger tr is in the fresh database but not in the real database",
            "view v differs: the real database has CREATE VIEW v AS SELECT b FROM t, "
            "the fresh database has CREATE VIEW v AS SELECT a FROM t",
        ]
    )


def test_the_comparison_ignores_spelling_and_column_order(db_path: Path) -> None:
    # A real database whose users table was written by hand, columns in another order, then
    # its migrations recorded as applied (stamped): the same schema as the fresh one.
    with database(schemas=[User], connection=db_path, migrations=good_history()) as db:
        columns = "nickname text, Name text not null default '', id integer primary key"
        db.raw(f"create table USERS ({columns})")
        db.stamp()
        assert db.check() == []
        assert db.check_fresh() == []
        # ... but a real difference in the same table still shows.
        db.raw("CREATE INDEX users_by_name ON users (name)")
        assert db.check_fresh() == [
            "index users_by_name on users is in the real database but not in the fresh database"
        ]


# -- the scratch database ---------------------------------------------------------------------


@pytest.fixture
def scratch_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Where tempfile puts temporary files for the test: to see that none is left behind."""
    folder = tmp_path / "tmp"
    folder.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(folder))
    return folder


def test_the_scratch_database_is_deleted_afterwards(scratch_dir: Path) -> None:
    assert check_fresh([User], good_history()) == []
    assert list(scratch_dir.iterdir()) == []
    assert check_fresh([User], [migration("raw", up=raw_nickname_up)]) != []
    assert list(scratch_dir.iterdir()) == []


def test_a_mistake_in_the_models_is_raised_not_reported() -> None:
    with pytest.raises(SchemaError):
        check_fresh(["not a model"], good_history())


# -- hedystia-models check --fresh ------------------------------------------------------------


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Project]:
    yield from open_project(tmp_path, monkeypatch)


USERS_V1 = """
    from hedystia_models import Field, Table


    class User(Table, table="users"):
        id: int | None = Field(default=None, primary_key=True)
        name: str = ""
"""

USERS = USERS_V1 + "        nickname: str | None = None\n"


def write_migration(project: Project, name: str, up: str, down: str | None = None) -> None:
    project.migrations_dir.mkdir(parents=True, exist_ok=True)
    source = f"from hedystia_models import migration\n\n\ndef up(ctx):\n    {up}\n"
    if down is not None:
        source += f"\n\ndef down(ctx):\n    {down}\n"
    source += f"\n\nm = migration({name!r}, up=up{', down=down' if down else ''})\n"
    (project.migrations_dir / f"{name}.py").write_text(source, encoding="utf-8")


ADD_NICKNAME = "ctx.schema.add_column('users', 'nickname', {'type': 'TEXT'})"
DROP_NICKNAME = "ctx.schema.drop_column('users', 'nickname')"
RAW_NICKNAME = "ctx.sql('ALTER TABLE users ADD COLUMN nickname TEXT')"


def test_check_fresh_passes_on_a_good_history(project: Project) -> None:
    project.models(USERS)
    write_migration(project, "0001_add_nickname", ADD_NICKNAME, DROP_NICKNAME)
    project.ok("migrate", "up")
    assert project.ok("check").stdout == "ok: database matches the models\n"
    result = project.ok("check", "--fresh")
    assert result.stdout == (
        "ok: database matches the models\n"
        "ok: a fresh start replays the history to the models and this database\n"
    )
    assert json.loads(project.ok("check", "--fresh", "--json").stdout) == {
        "ok": True,
        "problems": [],
        "fresh": [],
    }
    # Without --fresh the JSON is what it always was.
    assert json.loads(project.ok("check", "--json").stdout) == {"ok": True, "problems": []}


def test_check_fresh_fails_on_a_history_that_does_not_replay(project: Project) -> None:
    project.models(USERS_V1)
    project.ok("sync")
    project.models(USERS)
    write_migration(project, "0001_add_nickname", RAW_NICKNAME)
    project.ok("migrate", "up")
    assert project.run("check").exit_code == 0  # the developer's file is fine

    result = project.run("check", "--fresh")
    assert result.exit_code == 1
    lines = result.stdout.splitlines()
    assert lines[:2] == [
        "ok: database matches the models",
        "fresh start (models and migrations replayed on an empty database):",
    ]
    assert lines[2].startswith("  - fresh start fails: migration '0001_add_nickname' failed")
    assert "duplicate column name: nickname" in lines[2]
    assert len(lines) == 3

    data = json.loads(project.run("check", "--fresh", "--json").stdout)
    assert data["ok"] is False and data["problems"] == []
    assert [line.removeprefix("  - ") for line in lines[2:]] == data["fresh"]


def test_check_fresh_names_a_column_no_model_declares_and_keeps_stderr_quiet(
    project: Project,
) -> None:
    project.models(USERS)
    write_migration(project, "0001_add_nickname", ADD_NICKNAME, DROP_NICKNAME)
    write_migration(
        project, "0002_add_legacy", "ctx.schema.add_column('users', 'legacy', {'type': 'TEXT'})"
    )
    project.ok("migrate", "up")
    result = project.run("check", "--fresh")
    assert result.exit_code == 1
    assert result.stdout == (
        "database and models differ:\n"
        "  - schema: drop column users.legacy\n"
        "fresh start (models and migrations replayed on an empty database):\n"
        "  - column users.legacy is in the fresh database but not in the models\n"
    )
    # The scratch start-up's "sync left alone" warning would only repeat the list.
    assert result.stderr == ""


def test_check_fresh_names_a_hand_change_to_the_real_database(project: Project) -> None:
    project.models(USERS)
    write_migration(project, "0001_add_nickname", ADD_NICKNAME, DROP_NICKNAME)
    project.ok("migrate", "up")
    project.sql("CREATE INDEX hand ON users (name)")
    result = project.run("check", "--fresh", "--json")
    assert result.exit_code == 1
    assert json.loads(result.stdout) == {
        "ok": False,
        "problems": ["schema: drop index hand on users"],
        "fresh": ["index hand on users is in the real database but not in the fresh database"],
    }


def test_check_fresh_without_a_database_file_compares_with_the_models_only(
    project: Project,
) -> None:
    project.models(USERS)
    write_migration(project, "0001_add_nickname", ADD_NICKNAME, DROP_NICKNAME)
    result = project.run("check", "--fresh")
    assert result.exit_code == 1  # the database does not exist yet: the table is missing
    assert result.stdout.endswith("ok: a fresh start replays the history to the models\n")
    assert "fresh database but not in the real database" not in result.stdout
    assert not project.db_path.exists()


def test_check_fresh_with_an_edited_migration(project: Project) -> None:
    project.models(USERS)
    write_migration(project, "0001_add_nickname", ADD_NICKNAME, DROP_NICKNAME)
    project.ok("migrate", "up")
    write_migration(project, "0001_add_nickname", ADD_NICKNAME, "pass  # edited")
    result = project.run("check", "--fresh")
    assert result.exit_code == 1
    assert result.stdout == (
        "database and models differ:\n"
        "  - edited after apply: 0001_add_nickname\n"
        "ok: a fresh start replays the history to the models and this database\n"
    )
