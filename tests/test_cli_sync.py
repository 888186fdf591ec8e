"""``hedystia-models sync``: the plan it prints (text and ``--json``), what it applies, and
what it refuses."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest
from cli_project import PLAIN_USERS, USERS, Project, open_project


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Project]:
    yield from open_project(tmp_path, monkeypatch)


def test_sync_dry_run_prints_the_plan_and_changes_nothing(project: Project) -> None:
    project.model("users", USERS)
    result = project.ok("sync", "--dry-run")
    assert result.stdout.startswith("Will apply:\n  + create table users (id, name, created_at)\n")
    assert '      CREATE TABLE "users" (\n' in result.stdout
    assert "applied" not in result.stdout
    assert project.tables() == set()
    assert project.ok("history").stdout == "no history yet\n"


def test_sync_applies_and_is_idempotent(project: Project) -> None:
    project.model("users", USERS)
    result = project.ok("sync")
    assert result.stdout.endswith("applied\n")
    assert project.tables() == {"users"}
    assert project.ok("sync").stdout == "Database matches the models: nothing to do.\n"
    assert len(json.loads(project.ok("history", "--json").stdout)) == 1


def test_sync_dry_run_json_and_unsafe_findings(project: Project) -> None:
    project.model("users", USERS)
    project.ok("sync")
    project.model(
        "users",
        """
        from hedystia_models import Field, Table


        class User(Table, table="users"):
            id: int | None = Field(default=None, primary_key=True, auto_increment=True)
            name: str = ""
            karma: int = 0
        """,
    )
    text = project.ok("sync", "--dry-run").stdout
    assert "Will apply:\n  + add column users.karma INTEGER\n" in text
    assert '      ALTER TABLE "users" ADD COLUMN "karma" INTEGER NOT NULL DEFAULT 0;\n' in text
    assert "Will not apply (needs a migration):\n  - drop column users.created_at\n" in text
    assert "      the column exists in the database but not in the model" in text

    data = json.loads(project.ok("sync", "--dry-run", "--json").stdout)
    assert data["in_sync"] is False
    by_kind = {op["kind"]: op for op in data["operations"]}
    assert by_kind["add_column"] == {
        "kind": "add_column",
        "table": "users",
        "column": "karma",
        "safety": "safe",
        "description": "add column users.karma INTEGER",
        "reason": None,
        "sql": ['ALTER TABLE "users" ADD COLUMN "karma" INTEGER NOT NULL DEFAULT 0'],
    }
    assert by_kind["drop_column"]["safety"] == "unsafe"
    assert by_kind["drop_column"]["column"] == "created_at"
    assert (
        by_kind["drop_column"]["reason"] == "the column exists in the database but not in the model"
    )
    # Its SQL is listed for information; sync never runs it.
    assert by_kind["drop_column"]["sql"] == ['ALTER TABLE "users" DROP COLUMN "created_at"']
    assert project.columns("users") == ["id", "name", "created_at"]  # dry run: nothing changed

    project.ok("sync")  # applies the safe part, leaves the unsafe one
    assert project.columns("users") == ["id", "name", "created_at", "karma"]
    data = json.loads(project.ok("sync", "--dry-run", "--json").stdout)
    assert [op["kind"] for op in data["operations"]] == ["drop_column"]


def test_sync_refusal_shows_why_and_applies_nothing(project: Project) -> None:
    project.model("users", USERS)
    project.ok("sync")
    conn = sqlite3.connect(project.db_path)
    conn.execute("INSERT INTO users (name, created_at) VALUES ('ann', '2024-01-01')")
    conn.commit()
    conn.close()
    project.model(
        "users",
        USERS + "        nickname: str\n",  # NOT NULL, no default, on a table with rows
    )
    project.model(
        "tags",
        """
        from hedystia_models import Field, Table


        class Tag(Table, table="tags"):
            id: int | None = Field(default=None, primary_key=True)
        """,
    )
    result = project.run("sync")
    assert result.exit_code == 2
    assert "Cannot apply (sync refuses):\n  ! add column users.nickname" in result.stdout
    assert "Traceback" not in result.stderr
    # The error keeps its details: the first line says what happened, the next one why.
    assert result.stderr.splitlines() == [
        "error: sync cannot bring the database up to date; nothing was applied:",
        "  - cannot add column 'nickname' to table 'users', which has rows: it is NOT NULL and "
        "has no default, so existing rows would have no value. Give the field a default, make "
        "it optional (X | None), or write a migration that fills it in "
        "(ctx.schema.add_column(..., fill=value))",
    ]
    assert project.tables() == {"users"}  # not even the safe `tags` table was created


def test_sync_dry_run_lists_a_refusal_and_exits_0_as_documented(project: Project) -> None:
    project.models(PLAIN_USERS)
    project.ok("sync")
    project.sql("INSERT INTO users (name) VALUES ('Ann')")
    project.models(PLAIN_USERS + "        country: str\n")
    dry = project.run("sync", "--dry-run")
    assert dry.exit_code == 0
    assert "Cannot apply (sync refuses):\n  ! add column users.country TEXT\n" in dry.stdout
    real = project.run("sync")
    assert real.exit_code == 2
    assert real.stderr.startswith("error: sync cannot bring the database up to date")
