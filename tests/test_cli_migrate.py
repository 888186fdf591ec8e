"""``hedystia-models migrate up``, ``migrate down``, ``migrate status`` and ``history``."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from cli_project import USERS, Project, make_migrations, one_line_error, open_project

ISO_TIME = r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}\+00:00"


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Project]:
    yield from open_project(tmp_path, monkeypatch)


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


# -- history ----------------------------------------------------------------------------------


def test_history_lists_syncs_and_migrations(project: Project) -> None:
    assert project.ok("history").stdout == "no history yet\n"
    assert json.loads(project.ok("history", "--json").stdout) == []

    project.model("users", USERS)
    project.ok("sync")
    make_migrations(project, "m1")
    project.ok("migrate", "up")

    text = project.ok("history").stdout.splitlines()
    assert re.fullmatch(rf"{ISO_TIME}  sync       sync_\d{{8}}T\d{{6}}_[0-9a-f]{{6}}", text[0])
    assert text[1] == '    CREATE TABLE "users" ('
    assert re.fullmatch(rf"{ISO_TIME}  migration  m1", text[-2])
    assert text[-1] == '    CREATE TABLE "m1" (id INTEGER PRIMARY KEY);'

    data = json.loads(project.ok("history", "--json").stdout)
    assert [(row["kind"], row["id"]) for row in data] == [("sync", 1), ("migration", 2)]
    assert data[0]["statements"][0].startswith('CREATE TABLE "users" (')
    assert data[0]["checksum"] is None
    assert data[1]["name"] == "m1"
    assert data[1]["statements"] == ['CREATE TABLE "m1" (id INTEGER PRIMARY KEY)']
    assert isinstance(data[1]["checksum"], str)
    assert set(data[0]) == {"id", "name", "kind", "executed_at", "checksum", "statements"}

    project.ok("migrate", "down")  # rolling back removes the migration's row
    assert [row["kind"] for row in json.loads(project.ok("history", "--json").stdout)] == ["sync"]
