"""``hedystia-models migrate up``, ``migrate down``, ``migrate status`` and ``history``."""

from __future__ import annotations

import json
import re
import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest
from cli_project import (
    USERS,
    Project,
    make_migrations,
    one_line_error,
    open_project,
    write_pyproject,
)

ISO_TIME = r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}\+00:00"
SYNC_NAME = r"sync_\d{8}T\d{6}_[0-9a-f]{6}"

#: USERS with a nickname, which the migration ADD_NICKNAME adds.
NICKNAMED_USERS = USERS + "        nickname: str | None = None\n"

#: The body of ``up`` in the migration that added ``nickname``, as ``--auto`` writes it.
ADD_NICKNAME = (
    "ctx.schema.add_column('users', 'nickname', ColumnSpec(name='nickname', type='TEXT'))"
)


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Project]:
    yield from open_project(tmp_path, monkeypatch)


def write_migration(project: Project, name: str, *up: str) -> None:
    """A migration ``name`` whose ``up`` runs the lines ``up`` (``ColumnSpec`` imported)."""
    project.migrations_dir.mkdir(parents=True, exist_ok=True)
    body = textwrap.indent("\n".join(up), "    ")
    (project.migrations_dir / f"{name}.py").write_text(
        "from hedystia_models import ColumnSpec, migration\n\n\n"
        f"def up(ctx):\n{body}\n\n\n"
        f"m = migration({name!r}, up=up)\n",
        encoding="utf-8",
    )


# -- migrate up / down ------------------------------------------------------------------------


def test_migrate_up_and_down(project: Project) -> None:
    make_migrations(project, "m1", "m2", "m3")
    assert project.ok("migrate", "up").stdout == "applied m1\napplied m2\napplied m3\n"
    assert project.tables() == {"m1", "m2", "m3"}
    assert project.ok("migrate", "up").stdout == "no pending migrations\n"
    assert project.ok("migrate", "down").stdout == "rolled back m3\n"
    assert project.ok("migrate", "down", "--steps", "5").stdout == (
        "rolled back m2\nrolled back m1\n"
    )
    assert project.tables() == set()
    assert project.ok("migrate", "down").stdout == "no applied migrations to roll back\n"


def test_migrate_down_rejects_zero_steps(project: Project) -> None:
    make_migrations(project, "m1")
    result = project.run("migrate", "down", "--steps", "0")
    assert result.exit_code == 2
    assert "Invalid value for '--steps'" in result.stderr


def test_failing_migration_is_one_line_and_rolled_back(project: Project) -> None:
    project.migrations_dir.mkdir(parents=True)
    (project.migrations_dir / "bad.py").write_text(
        "from hedystia_models import migration\n\n\n"
        "def up(ctx):\n"
        "    ctx.sql('CREATE TABLE half (id INTEGER)')\n"
        "    ctx.sql('SELECT * FROM no_such_table')\n\n\n"
        "m = migration('bad', up=up)\n",
        encoding="utf-8",
    )
    line = one_line_error(project.run("migrate", "up"))
    assert line == (
        "error: migration 'bad' failed during up and was rolled back: "
        "OperationalError: no such table: no_such_table"
    )
    assert project.tables() == set()


def test_a_failing_migration_that_mentions_locked_gets_no_lock_hint(project: Project) -> None:
    # Only SQLite's result code says the database is locked; a table named locked_accounts in
    # the message does not.
    project.migrations_dir.mkdir(parents=True)
    (project.migrations_dir / "bad.py").write_text(
        "from hedystia_models import migration\n\n\n"
        "def up(ctx):\n"
        "    ctx.sql('SELECT * FROM locked_accounts')\n\n\n"
        "m = migration('bad', up=up)\n",
        encoding="utf-8",
    )
    line = one_line_error(project.run("migrate", "up"))
    assert line == (
        "error: migration 'bad' failed during up and was rolled back: "
        "OperationalError: no such table: locked_accounts"
    )


# -- migrate status ---------------------------------------------------------------------------


def test_migrate_status_text(project: Project) -> None:
    make_migrations(project, "m1", "m2", "m3")
    assert project.ok("migrate", "status").stdout == ("pending  m1\npending  m2\npending  m3\n")
    project.ok("migrate", "up")
    project.ok("migrate", "down")
    lines = project.ok("migrate", "status").stdout.splitlines()
    assert re.fullmatch(rf"applied  {ISO_TIME}  m1", lines[0])
    assert re.fullmatch(rf"applied  {ISO_TIME}  m2", lines[1])
    assert lines[2] == "pending  m3"

    # Edit m1 after it was applied, delete m2 from the code.
    m1 = project.migrations_dir / "m1.py"
    m1.write_text(m1.read_text(encoding="utf-8").replace("PRIMARY KEY", "PRIMARY KEY, x"))
    (project.migrations_dir / "m2.py").unlink()
    lines = project.ok("migrate", "status").stdout.splitlines()
    assert re.fullmatch(rf"applied  {ISO_TIME}  m1 \(EDITED after it was applied\)", lines[0])
    assert re.fullmatch(rf"applied  {ISO_TIME}  m2 \(MISSING from the code\)", lines[1])
    assert lines[2] == "pending  m3"


def test_migrate_status_json(project: Project) -> None:
    make_migrations(project, "m1", "m2", "m3")
    project.ok("migrate", "up")
    project.ok("migrate", "down")
    m1 = project.migrations_dir / "m1.py"
    m1.write_text(m1.read_text(encoding="utf-8").replace("PRIMARY KEY", "PRIMARY KEY, x"))
    data = json.loads(project.ok("migrate", "status", "--json").stdout)
    assert [m["name"] for m in data["applied"]] == ["m1", "m2"]
    assert all(re.fullmatch(ISO_TIME, m["executed_at"]) for m in data["applied"])
    assert [m["edited"] for m in data["applied"]] == [True, False]
    assert [m["missing"] for m in data["applied"]] == [False, False]
    assert all(isinstance(m["checksum"], str) for m in data["applied"])
    assert data["pending"] == ["m3"]
    assert data["edited"] == ["m1"]
    assert data["missing"] == []


def test_migrate_status_without_migrations(project: Project) -> None:
    project.migrations_dir.mkdir(parents=True)
    assert project.ok("migrate", "status").stdout == "no migrations\n"
    data = json.loads(project.ok("migrate", "status", "--json").stdout)
    assert data == {"applied": [], "pending": [], "edited": [], "missing": []}


def test_edited_flag_counts_comments_inside_up_only(project: Project) -> None:
    # docs/cli.md: the source of up and down counts, comments inside them included; code
    # and comments outside them do not.
    project.ok("migration", "create", "m1", "--no-id")
    project.ok("migrate", "up")
    path = project.migrations_dir / "m1.py"
    original = path.read_text(encoding="utf-8")
    path.write_text("# a note at the top\n" + original + "\n# and one at the end\n")
    assert json.loads(project.ok("migrate", "status", "--json").stdout)["edited"] == []
    inside = original.replace(
        "def up(ctx: MigrationContext) -> None:\n",
        "def up(ctx: MigrationContext) -> None:\n    # explained later\n",
    )
    path.write_text(inside, encoding="utf-8")
    assert json.loads(project.ok("migrate", "status", "--json").stdout)["edited"] == ["m1"]


def test_broken_migration_file(project: Project) -> None:
    project.model("users", USERS)
    project.migrations_dir.mkdir(parents=True)
    broken = project.migrations_dir / "0001_broken.py"
    broken.write_text("def up(ctx):\n", encoding="utf-8")
    line = one_line_error(project.run("migrate", "status"))
    assert line.startswith(f"error: migration file {broken} failed to import: ")
    # sync and history do not run migrations, so a broken file does not stand in their way.
    project.ok("sync")
    assert project.ok("history").exit_code == 0
    # check does: it cannot say whether the migrations are applied.
    assert one_line_error(project.run("check")) == line


# -- migrate up with and without the models ----------------------------------------------------

TAGS = """
    from hedystia_models import Field, Table


    class Tag(Table, table="tags"):
        id: int | None = Field(default=None, primary_key=True)
        label: str | None = None
        color: str | None = None
"""


def test_migrate_up_with_schemas_creates_tables_runs_migrations_then_syncs(
    project: Project,
) -> None:
    project.model("users", USERS)
    project.model("tags", TAGS)
    # m1 seeds users, which only the models declare: step 1 must have created it. m2 creates
    # tags itself, without the color column: it replaces the empty provisional table, and the
    # final sync adds color.
    write_migration(
        project, "m1", "ctx.sql(\"INSERT INTO users (name, created_at) VALUES ('ann', 'now')\")"
    )
    write_migration(
        project, "m2", "ctx.sql('CREATE TABLE tags (id INTEGER PRIMARY KEY, label TEXT)')"
    )
    result = project.ok("migrate", "up")
    assert result.stdout == (
        "created table tags\n"  # the models in file-name order
        "created table users\n"
        "applied m1\n"
        "applied m2\n"
        "    replaced: table tags, made from the models at start-up\n"
        "added column tags.color TEXT\n"
    )
    assert result.stderr == ""
    assert project.query("SELECT name FROM users") == [("ann",)]
    assert project.columns("tags") == ["id", "label", "color"]
    rows = json.loads(project.ok("history", "--json").stdout)
    assert [row["kind"] for row in rows] == ["sync", "migration", "migration", "sync"]
    assert [row["name"] for row in rows][1:3] == ["m1", "m2"]
    assert project.ok("check").stdout == "ok: database matches the models\n"
    assert project.ok("migrate", "up").stdout == "no pending migrations\n"


def test_migrate_up_with_schemas_and_nothing_pending_still_syncs(project: Project) -> None:
    project.model("users", USERS)
    project.migrations_dir.mkdir(parents=True)
    assert project.ok("migrate", "up").stdout == "created table users\nno pending migrations\n"
    assert project.tables() == {"users"}
    assert project.ok("migrate", "up").stdout == "no pending migrations\n"


def test_migrate_up_lists_what_sync_leaves_alone(project: Project) -> None:
    project.model("users", USERS)
    make_migrations(project, "m1")  # a table the models do not declare
    result = project.ok("migrate", "up")
    assert result.stdout.splitlines() == [
        "created table users",
        "applied m1",
        "left alone: drop table m1 (the table exists in the database but no model declares it)",
    ]
    assert result.stderr == ""  # sync's log warning is not repeated
    assert project.run("check").exit_code == 1


def test_migrate_up_without_schemas_runs_the_migrations_only(project: Project) -> None:
    write_pyproject(project.root, connection="app.db")
    project.model("users", USERS)  # on disk, but not configured: not synced
    make_migrations(project, "m1")
    result = project.ok("migrate", "up")
    assert result.stdout == "applied m1\n"
    assert result.stderr == ""
    assert project.tables() == {"m1"}
    assert [e["kind"] for e in json.loads(project.ok("history", "--json").stdout)] == ["migration"]
    # The --schemas flag configures them as well as pyproject.toml does.
    make_migrations(project, "m2")
    flagged = project.ok("--schemas", project.schemas_module, "migrate", "up")
    assert flagged.stdout.splitlines()[:2] == ["created table users", "applied m2"]
    assert project.tables() == {"m1", "m2", "users"}


def test_migrate_up_with_a_configured_schemas_module_not_written_yet(project: Project) -> None:
    make_migrations(project, "m1")
    result = project.ok("migrate", "up")
    assert result.stdout == "applied m1\n"
    assert result.stderr == (
        f"note: the schemas module {project.schemas_module!r} does not exist: ran the "
        "migrations only, nothing was synced\n"
    )
    # Named by the flag, a missing module is a typo.
    make_migrations(project, "m2")
    line = one_line_error(project.run("--schemas", "no_such_models", "migrate", "up"))
    assert line == (
        "error: cannot import the schemas module 'no_such_models': "
        "ModuleNotFoundError: No module named 'no_such_models'"
    )
    assert project.tables() == {"m1"}


def test_migrate_up_with_a_schemas_module_that_fails_to_import(project: Project) -> None:
    project.model("users", "import no_such_dependency_xyz\n")
    make_migrations(project, "m1")
    line = one_line_error(project.run("migrate", "up"))
    assert "ModuleNotFoundError: No module named 'no_such_dependency_xyz'" in line
    assert project.tables() == set()


def test_migrate_up_lists_what_was_applied_before_a_failure(project: Project) -> None:
    project.model("users", USERS)
    make_migrations(project, "m1")
    write_migration(project, "m2", "ctx.sql('SELECT * FROM nowhere')")
    result = project.run("migrate", "up")
    assert result.exit_code == 2
    assert result.stdout == "created table users\napplied m1\n"
    assert result.stderr.startswith("error: migration 'm2' failed during up")
    assert project.tables() == {"users", "m1"}


# -- migrate stamp ----------------------------------------------------------------------------


def test_stamp_names(project: Project) -> None:
    make_migrations(project, "m1", "m2", "m3")
    result = project.ok("migrate", "stamp", "m2", "m1")
    assert result.stdout == "stamped m1\nstamped m2\n"  # in run order
    assert project.tables() == set()  # recorded, not run
    assert project.ok("migrate", "stamp", "m1").stdout == "already applied m1\n"
    lines = project.ok("migrate", "status").stdout.splitlines()
    assert re.fullmatch(rf"applied  {ISO_TIME}  m1 \(stamped\)", lines[0])
    assert re.fullmatch(rf"applied  {ISO_TIME}  m2 \(stamped\)", lines[1])
    assert lines[2] == "pending  m3"
    data = json.loads(project.ok("migrate", "status", "--json").stdout)
    assert [(m["name"], m["how"]) for m in data["applied"]] == [
        ("m1", "stamped"),
        ("m2", "stamped"),
    ]
    assert project.ok("migrate", "up").stdout == "applied m3\n"
    assert project.tables() == {"m3"}


def test_stamp_all(project: Project) -> None:
    make_migrations(project, "m1", "m2")
    write_pyproject(project.root, connection="app.db")  # stamping needs no models
    project.ok("migrate", "stamp", "m1")
    assert project.ok("migrate", "stamp", "--all").stdout == "stamped m2\n"
    assert project.ok("migrate", "stamp", "--all").stdout == "no pending migrations\n"
    assert project.ok("migrate", "status").stdout.count("(stamped)") == 2
    assert project.tables() == set()


def test_stamp_then_check_on_a_database_made_before_migrations(project: Project) -> None:
    project.model("users", NICKNAMED_USERS)
    project.ok("sync")  # the database had nickname long before the migration was written
    write_migration(project, "add_nickname", ADD_NICKNAME)
    assert project.run("check").exit_code == 1  # pending
    assert project.ok("migrate", "stamp", "--all").stdout == "stamped add_nickname\n"
    assert project.ok("check").stdout == "ok: database matches the models\n"


def test_stamp_an_unknown_migration_is_one_line_and_stamps_nothing(project: Project) -> None:
    make_migrations(project, "m1")
    line = one_line_error(project.run("migrate", "stamp", "m1", "nope"))
    assert line == "error: cannot stamp 'nope': no such migration in the code"
    assert json.loads(project.ok("migrate", "status", "--json").stdout)["pending"] == ["m1"]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["m1", "--all"], "give migration names or --all, not both"),
        ([], "give the migrations to stamp, or --all"),
    ],
)
def test_stamp_needs_names_or_all_but_not_both(
    project: Project, args: list[str], message: str
) -> None:
    make_migrations(project, "m1")
    result = project.run("migrate", "stamp", *args)
    assert result.exit_code == 2
    assert result.stderr.startswith("Usage: hedystia-models migrate stamp [OPTIONS] NAME...\n")
    assert result.stderr.rstrip().endswith(f"Error: {message}")
    assert project.ok("migrate", "status").stdout == "pending  m1\n"


def test_stamp_needs_the_migrations_directory(project: Project) -> None:
    line = one_line_error(project.run("migrate", "stamp", "--all"))
    assert line == f"error: migrations directory '{project.migrations_dir}' does not exist"


# -- history ----------------------------------------------------------------------------------


def test_history_lists_syncs_and_migrations(project: Project) -> None:
    assert project.ok("history").stdout == "no history yet\n"
    assert json.loads(project.ok("history", "--json").stdout) == []

    project.model("users", USERS)
    project.ok("sync")
    make_migrations(project, "m1")
    project.ok("migrate", "up")

    text = project.ok("history").stdout.splitlines()
    assert re.fullmatch(rf"{ISO_TIME}  sync       ran        {SYNC_NAME}", text[0])
    assert text[1] == '    CREATE TABLE "users" ('
    assert re.fullmatch(rf"{ISO_TIME}  migration  ran        m1", text[-2])
    assert text[-1] == '    CREATE TABLE "m1" (id INTEGER PRIMARY KEY);'

    data = json.loads(project.ok("history", "--json").stdout)
    assert [(row["kind"], row["id"]) for row in data] == [("sync", 1), ("migration", 2)]
    assert data[0]["statements"][0].startswith('CREATE TABLE "users" (')
    assert data[0]["checksum"] is None
    assert data[1]["name"] == "m1"
    assert data[1]["statements"] == ['CREATE TABLE "m1" (id INTEGER PRIMARY KEY)']
    assert isinstance(data[1]["checksum"], str)
    assert set(data[0]) == {
        "id",
        "name",
        "kind",
        "executed_at",
        "checksum",
        "statements",
        "how",
        "already_done",
    }
    assert [(row["how"], row["already_done"]) for row in data] == [("ran", []), ("ran", [])]

    project.ok("migrate", "down")  # rolling back removes the migration's row
    assert [row["kind"] for row in json.loads(project.ok("history", "--json").stdout)] == ["sync"]


def test_history_shows_converged_and_stamped_steps_and_their_notes(project: Project) -> None:
    # A fresh clone: the models already have nickname, so the migration that added it finds
    # it there; a second one is half done (the column) and half not (the table).
    project.model("users", NICKNAMED_USERS)
    write_migration(project, "add_nickname", ADD_NICKNAME)
    write_migration(
        project, "half", ADD_NICKNAME, "ctx.sql('CREATE TABLE extra (id INTEGER PRIMARY KEY)')"
    )
    make_migrations(project, "later")
    note = "column users.nickname already exists with this definition"
    up = project.ok("migrate", "stamp", "later")
    assert up.stdout == "stamped later\n"
    up = project.ok("migrate", "up")
    assert up.stdout.splitlines()[:5] == [
        "created table users",
        "applied add_nickname (converged)",
        f"    already done: {note}",
        "applied half",
        f"    already done: {note}",
    ]

    text = project.ok("history").stdout.splitlines()
    assert re.fullmatch(rf"{ISO_TIME}  migration  stamped    later", text[0])
    assert text[1] == "    -- stamped: recorded as applied without running it"
    assert re.fullmatch(rf"{ISO_TIME}  sync       ran        {SYNC_NAME}", text[2])
    at = text.index(next(line for line in text if line.endswith("  add_nickname")))
    assert re.fullmatch(rf"{ISO_TIME}  migration  converged  add_nickname", text[at])
    assert text[at + 1 : at + 5] == [
        f"    -- already done: {note}",
        next(line for line in text if line.endswith("  half")),
        f"    -- already done: {note}",
        "    CREATE TABLE extra (id INTEGER PRIMARY KEY);",
    ]
    assert re.fullmatch(rf"{ISO_TIME}  migration  ran        half", text[at + 2])

    data = {row["name"]: row for row in json.loads(project.ok("history", "--json").stdout)}
    assert (data["later"]["how"], data["later"]["already_done"]) == ("stamped", [])
    assert data["later"]["statements"] == ["-- stamped: recorded as applied without running it"]
    assert (data["add_nickname"]["how"], data["add_nickname"]["already_done"]) == (
        "converged",
        [note],
    )
    assert (data["half"]["how"], data["half"]["already_done"]) == ("ran", [note])
    assert data["half"]["statements"] == [
        f"-- already done: {note}",
        "CREATE TABLE extra (id INTEGER PRIMARY KEY)",
    ]
    status = json.loads(project.ok("migrate", "status", "--json").stdout)
    assert {m["name"]: m["how"] for m in status["applied"]} == {
        "later": "stamped",
        "add_nickname": "converged",
        "half": "ran",
    }
    lines = project.ok("migrate", "status").stdout.splitlines()
    assert lines[0].endswith("  later (stamped)")
    assert lines[1].endswith("  add_nickname (converged)")
    assert lines[2].endswith("  half")
