"""``hedystia_models.testing``: the assertions a project puts in its own test suite."""

from __future__ import annotations

import re
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest

from hedystia_models import (
    ColumnSpec,
    Database,
    Field,
    MigrationDefinition,
    Table,
    database,
    migration,
    testing,
)
from hedystia_models.context import MigrationContext
from hedystia_models.testing import (
    assert_database_matches,
    assert_fresh_start_matches_models,
    assert_migrations_round_trip,
    assert_no_migration_edited,
)

# -- models and migrations --------------------------------------------------------------------


class UserV1(Table, table="users"):
    id: int | None = Field(default=None, primary_key=True)
    name: str = ""


class User(Table, table="users"):
    id: int | None = Field(default=None, primary_key=True)
    name: str = ""
    nickname: str | None = None


NICKNAME = ColumnSpec(name="nickname", type="TEXT")


def create_users_up(ctx: MigrationContext) -> None:
    ctx.schema.create_table(UserV1)


def create_users_down(ctx: MigrationContext) -> None:
    ctx.schema.drop_table("users")


def add_nickname_up(ctx: MigrationContext) -> None:
    ctx.schema.add_column("users", "nickname", NICKNAME)


def add_nickname_down(ctx: MigrationContext) -> None:
    ctx.schema.drop_column("users", "nickname")


def index_name_up(ctx: MigrationContext) -> None:
    ctx.sql("CREATE INDEX users_by_name ON users (name)")


def index_name_down(ctx: MigrationContext) -> None:
    ctx.sql("DROP INDEX users_by_name")


def nothing(ctx: MigrationContext) -> None:
    """A down that forgets to undo its up."""


def raw_nickname_up(ctx: MigrationContext) -> None:
    ctx.sql('ALTER TABLE "users" ADD COLUMN "nickname" TEXT')


def raw_nickname_down(ctx: MigrationContext) -> None:
    ctx.sql('ALTER TABLE "users" DROP COLUMN "nickname"')


def drop_name_instead(ctx: MigrationContext) -> None:
    ctx.schema.drop_column("users", "name")


def failing(ctx: MigrationContext) -> None:
    ctx.sql("SELECT * FROM no_such_table")


def create_users() -> MigrationDefinition:
    return migration("create_users", up=create_users_up, down=create_users_down)


def add_nickname(down: object = add_nickname_down) -> MigrationDefinition:
    return migration("add_nickname", up=add_nickname_up, down=down)  # type: ignore[arg-type]


def good_history() -> list[MigrationDefinition]:
    return [create_users(), add_nickname()]


def failure(check: object, *args: object, **kwargs: object) -> str:
    """The message of the AssertionError ``check(*args, **kwargs)`` raises."""
    with pytest.raises(AssertionError) as info:
        check(*args, **kwargs)  # type: ignore[operator]
    return str(info.value)


# -- assert_fresh_start_matches_models --------------------------------------------------------


def test_fresh_start_passes_on_a_good_history() -> None:
    assert_fresh_start_matches_models([User], good_history())


def test_fresh_start_fails_on_a_migration_that_does_not_replay() -> None:
    history = [migration("add_nickname_raw", up=raw_nickname_up)]
    message = failure(assert_fresh_start_matches_models, [User], history)
    assert message.startswith(
        "the migration history does not replay on a fresh database to exactly the models:\n"
        "  - fresh start fails: migration 'add_nickname_raw' failed"
    )
    assert "duplicate column name: nickname" in message


def test_fresh_start_fails_on_a_column_no_model_declares() -> None:
    message = failure(assert_fresh_start_matches_models, [UserV1], good_history())
    assert message.splitlines()[1:] == [
        "  - column users.nickname is in the fresh database but not in the models"
    ]


# -- assert_migrations_round_trip -------------------------------------------------------------


def test_round_trip_passes_on_a_good_history() -> None:
    history = [
        *good_history(),
        migration("index_name", up=index_name_up, down=index_name_down),
    ]
    assert_migrations_round_trip([User], history)
    assert_migrations_round_trip([User], [])


def test_round_trip_passes_when_a_step_converged_on_the_tables_the_models_made() -> None:
    # No migration creates users: start-up makes it from the models, nickname included, and
    # add_nickname finds the column there. Its down drops the column, its up adds it back.
    assert_migrations_round_trip([User], [add_nickname()])


def test_round_trip_fails_on_a_down_that_does_not_undo_its_up() -> None:
    message = failure(assert_migrations_round_trip, [User], [create_users(), add_nickname(nothing)])
    assert message.splitlines() == [
        "the migrations do not round-trip (up, down, up) on a fresh database:",
        "  - add_nickname: down does not undo up: column users.nickname is in the schema after "
        "up and down but not in the schema before up",
    ]


def test_round_trip_fails_on_a_down_that_undoes_something_else() -> None:
    history = [create_users(), add_nickname(drop_name_instead)]
    message = failure(assert_migrations_round_trip, [User], history)
    assert "  - add_nickname: down does not undo up: column users.name is in the schema " in (
        message
    )
    assert (
        "add_nickname: down then up does not give back the same schema: column users.name is in "
        "the schema after up but not in the schema after up, down and up again"
    ) in message


def test_round_trip_fails_when_up_cannot_run_again_after_down() -> None:
    history = [
        create_users(),
        migration("raw_nickname", up=raw_nickname_up, down=nothing),
        migration("index_name", up=index_name_up, down=index_name_down),
    ]
    message = failure(assert_migrations_round_trip, [User], history)
    assert (
        "  - raw_nickname: up fails again after down: migration 'raw_nickname' failed during up"
    ) in message
    assert "duplicate column name: nickname; not checked after it: index_name" in message


def test_round_trip_passes_with_raw_sql_that_undoes_itself() -> None:
    history = [create_users(), migration("raw", up=raw_nickname_up, down=raw_nickname_down)]
    assert_migrations_round_trip([User], history)


def test_round_trip_reports_a_down_that_fails_and_goes_on() -> None:
    history = [
        create_users(),
        migration("broken_down", up=add_nickname_up, down=failing),
        migration("index_name", up=index_name_up, down=nothing),
    ]
    message = failure(assert_migrations_round_trip, [User], history)
    lines = message.splitlines()[1:]
    assert len(lines) == 3
    assert lines[0].startswith("  - broken_down: down fails right after up: ")
    assert "no such table: no_such_table" in lines[0]
    # The failed down was rolled back, so the next migration was still checked: its down
    # forgot the index, so its up cannot create it again.
    assert lines[1] == (
        "  - index_name: down does not undo up: index users_by_name on users is in the schema "
        "after up and down but not in the schema before up"
    )
    assert lines[2].startswith("  - index_name: up fails again after down: ")
    assert lines[2].endswith("index users_by_name already exists")


def test_round_trip_reports_an_up_that_fails_and_stops() -> None:
    history = [
        migration("first", up=failing, down=nothing),
        *good_history(),
    ]
    message = failure(assert_migrations_round_trip, [User], history)
    assert message.splitlines()[1].startswith("  - first: up fails on a fresh database: ")
    assert message.endswith("; not checked after it: create_users, add_nickname")


def test_round_trip_reports_a_migration_without_down_unless_named_irreversible() -> None:
    history = [create_users(), migration("add_nickname", up=add_nickname_up)]
    message = failure(assert_migrations_round_trip, [User], history)
    assert message.splitlines()[1:] == [
        "  - add_nickname: has no down, so it cannot be rolled back (name it in irreversible= "
        "if that is intended)"
    ]
    assert_migrations_round_trip([User], history, irreversible=["add_nickname"])


def test_the_irreversible_list_cannot_go_stale() -> None:
    message = failure(
        assert_migrations_round_trip,
        [User],
        good_history(),
        irreversible=["add_nickname", "gone"],
    )
    assert message.splitlines()[1:] == [
        "  - gone: named in irreversible= but there is no such migration",
        "  - add_nickname: named in irreversible= but it has a down; take it off the list so "
        "its round trip is checked",
    ]


def test_the_round_trip_compares_the_stored_sql_word_by_word(tmp_path: Path) -> None:
    from hedystia_models.testing import _Snapshot

    with database(schemas=[], connection=tmp_path / "a.db") as a:
        a.raw("CREATE TABLE t (x TEXT, y TEXT)")
        a.raw("CREATE INDEX t_x ON t (x)")
        first = _Snapshot.read(a)
    with database(schemas=[], connection=tmp_path / "b.db") as b:
        b.raw('create table "T" (\n  "X" text,\n  y TEXT  -- a comment\n)')
        b.raw("CREATE INDEX t_x ON t (x)")
        assert first.sql_differences(_Snapshot.read(b)) == []
        b.raw("DROP INDEX t_x")
        b.raw("CREATE INDEX t_y ON t (y)")
        b.raw("ALTER TABLE t RENAME TO old")
        b.raw("CREATE TABLE t (y TEXT, x TEXT)")  # the same columns, in another order
        assert first.sql_differences(_Snapshot.read(b)) == [
            "index t_x is gone",
            "index t_y appears",
            "table old appears",
            "table t is stored as CREATE TABLE t (y TEXT, x TEXT) instead of "
            "CREATE TABLE t (x TEXT, y TEXT)",
        ]


# -- assert_no_migration_edited and assert_database_matches -----------------------------------


def add_nickname_edited_up(ctx: MigrationContext) -> None:
    ctx.schema.add_column("users", "nickname", NICKNAME)  # edited after it ran


@pytest.fixture
def migrated(tmp_path: Path) -> Iterator[Database]:
    """A database that ran the good history."""
    with database(
        schemas=[User],
        connection=tmp_path / "app.db",
        migrations=good_history(),
        sync_schemas=True,
        run_migrations=True,
    ) as db:
        yield db


def test_the_database_checks_pass_on_a_migrated_database(migrated: Database) -> None:
    assert_no_migration_edited(migrated)
    assert_database_matches(migrated)


def test_no_migration_edited_fails_on_an_edited_migration(
    migrated: Database, tmp_path: Path
) -> None:
    edited = [create_users(), migration("add_nickname", up=add_nickname_edited_up)]
    with database(schemas=[User], connection=tmp_path / "app.db", migrations=edited) as db:
        message = failure(assert_no_migration_edited, db)
        assert message.splitlines() == [
            "migrations were edited after they were applied (put the original back and add a "
            "new migration for the change):",
            "  - add_nickname",
        ]
        assert "  - edited after apply: add_nickname" in failure(assert_database_matches, db)


def test_database_matches_fails_on_drift_and_pending_migrations(
    migrated: Database, tmp_path: Path
) -> None:
    migrated.raw("ALTER TABLE users ADD COLUMN note TEXT")
    assert failure(assert_database_matches, migrated).splitlines() == [
        "the database does not match the code:",
        "  - schema: drop column users.note",
    ]
    later = [*good_history(), migration("index_name", up=index_name_up, down=index_name_down)]
    with database(schemas=[User], connection=tmp_path / "app.db", migrations=later) as db:
        assert "  - pending migration: index_name" in failure(assert_database_matches, db)
        assert_no_migration_edited(db)  # pending is not edited


# -- the module itself ------------------------------------------------------------------------


def test_the_module_does_not_import_pytest() -> None:
    code = "import sys, hedystia_models.testing; print('pytest' in sys.modules)"
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == "False"


def test_every_assertion_is_documented() -> None:
    for name in testing.__all__:
        function = getattr(testing, name)
        assert function.__doc__ and "Usage:" in function.__doc__, name
        assert name in (testing.__doc__ or ""), name


def test_the_example_in_the_module_docstring_runs_as_a_test_file(tmp_path: Path) -> None:
    doc = testing.__doc__ or ""
    blocks = re.findall(r":\n\n((?:    .*\n|\n)+)", doc)
    example = textwrap.dedent(blocks[0])
    assert len(example.strip().splitlines()) <= 14
    (tmp_path / "app").mkdir()
    (tmp_path / "app" / "__init__.py").write_text("")
    (tmp_path / "app" / "schemas.py").write_text(
        textwrap.dedent(
            """
            from hedystia_models import Field, Table


            class User(Table, table="users"):
                id: int | None = Field(default=None, primary_key=True)
                name: str = ""
            """
        )
    )
    migrations = tmp_path / "database" / "migrations"
    migrations.mkdir(parents=True)
    (migrations / "0001_seed.py").write_text(
        textwrap.dedent(
            """
            from hedystia_models import migration


            def up(ctx):
                ctx.sql("INSERT INTO users (name) VALUES ('admin')")


            def down(ctx):
                ctx.sql("DELETE FROM users WHERE name = 'admin'")


            m = migration("0001_seed", up=up, down=down)
            """
        )
    )
    (tmp_path / "tests").mkdir()
    (tmp_path / "tests" / "test_migrations.py").write_text(example)
    run = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "tests"]
    result = subprocess.run(run, cwd=tmp_path, capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "2 passed" in result.stdout

    # The same file fails once a migration adds a column no model declares.
    (migrations / "0002_legacy.py").write_text(
        "from hedystia_models import migration\n\n\n"
        "def up(ctx):\n    ctx.sql('ALTER TABLE users ADD COLUMN legacy TEXT')\n\n\n"
        "m = migration('0002_legacy', up=up)\n"
    )
    result = subprocess.run(run, cwd=tmp_path, capture_output=True, text=True)
    assert result.returncode == 1, result.stdout + result.stderr
    assert "column users.legacy is in the fresh database but not in the models" in result.stdout
    assert "0002_legacy: has no down" in result.stdout
