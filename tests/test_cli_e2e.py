"""End to end: the installed ``hedystia-models`` console script, run as a separate process in a
temporary project, the way a user runs it."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

SCRIPT = Path(sys.executable).parent / "hedystia-models"


def run(project: Path, *args: str, expect: int = 0) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k != "HEDYSTIA_DATABASE"}
    env["PYTHONDONTWRITEBYTECODE"] = "1"  # edited models are never read from a stale .pyc
    result = subprocess.run(
        [str(SCRIPT), *args], cwd=project, env=env, capture_output=True, text=True, timeout=60
    )
    assert result.returncode == expect, (args, result.stdout, result.stderr)
    return result


@pytest.fixture
def project(tmp_path: Path) -> Path:
    (tmp_path / "pyproject.toml").write_text(
        '[project]\nname = "shop"\n\n'
        "[tool.hedystia-models]\n"
        'schemas = "app.schemas"\n'
        'migrations = "app/migrations"\n'
        'connection = "shop.db"\n',
        encoding="utf-8",
    )
    return tmp_path


@pytest.fixture
def engine_project(tmp_path: Path, connect: Any) -> Path:
    """:func:`project` with its connection on the test's engine: the SQLite file, or the
    ``postgresql://`` URL of a new database (the CLI takes either, unchanged)."""
    target = connect.target if connect.engine == "postgres" else "shop.db"
    (tmp_path / "pyproject.toml").write_text(
        '[project]\nname = "shop"\n\n'
        "[tool.hedystia-models]\n"
        'schemas = "app.schemas"\n'
        'migrations = "app/migrations"\n'
        f'connection = "{target}"\n',
        encoding="utf-8",
    )
    return tmp_path


def test_console_script_is_installed() -> None:
    assert SCRIPT.is_file(), f"{SCRIPT} is missing: pip install -e . first"


def test_schema_sync_auto_migration_up_check_down(engine_project: Path) -> None:
    project = engine_project
    # Scaffold a table model and create it with sync.
    created = run(project, "schema", "create", "users")
    assert created.stdout == "created app/schemas/users.py\n"
    assert created.stderr == ""
    synced = run(project, "sync")
    assert synced.stdout.startswith("Will apply:\n  + create table users (id, created_at, ")
    assert synced.stdout.endswith("applied\n")
    assert synced.stderr == ""
    assert run(project, "check").stdout == "ok: database matches the models\n"

    # Change the model and generate the migration that follows it.
    model = project / "app" / "schemas" / "users.py"
    model.write_text(
        model.read_text(encoding="utf-8") + "    nickname: str | None = None\n", encoding="utf-8"
    )
    failing = run(project, "check", expect=1)
    assert failing.stdout == (
        "database and models differ:\n  - schema: add column users.nickname TEXT\n"
    )
    generated = run(project, "migration", "create", "add_nickname", "--auto")
    [path] = sorted((project / "app" / "migrations").glob("*.py"))
    assert re.fullmatch(r"\d{14}_add_nickname\.py", path.name)
    assert generated.stdout == f"created app/migrations/{path.name}\n"
    source = path.read_text(encoding="utf-8")
    assert (
        "ctx.schema.add_column('users', 'nickname', ColumnSpec(name='nickname', type='TEXT'))"
        in source
    )
    assert "ctx.schema.drop_column('users', 'nickname')" in source

    status = json.loads(run(project, "migrate", "status", "--json").stdout)
    assert status["pending"] == [path.stem]

    # Apply it: the database now matches the models.
    assert run(project, "migrate", "up").stdout == f"applied {path.stem}\n"
    assert run(project, "check").stdout == "ok: database matches the models\n"
    assert json.loads(run(project, "check", "--json").stdout) == {"ok": True, "problems": []}
    # The history replays on an empty database (a scratch file, or a scratch schema of the
    # PostgreSQL database) to the models and to this database.
    assert run(project, "check", "--fresh").stdout == (
        "ok: database matches the models\n"
        "ok: a fresh start replays the history to the models and this database\n"
    )

    history = json.loads(run(project, "history", "--json").stdout)
    assert [(row["kind"], row["name"]) for row in history][1:] == [("migration", path.stem)]
    assert history[0]["kind"] == "sync"

    # Roll it back: check fails again, listing both the column and the pending migration.
    assert run(project, "migrate", "down").stdout == f"rolled back {path.stem}\n"
    failing = run(project, "check", expect=1)
    assert failing.stdout == (
        "database and models differ:\n"
        "  - schema: add column users.nickname TEXT\n"
        f"  - pending migration: {path.stem}\n"
    )
    # Piped output is plain text.
    assert "\x1b[" not in failing.stdout


def test_user_mistake_is_one_line_and_verbose_shows_the_traceback(project: Path) -> None:
    (project / "pyproject.toml").write_text(
        '[tool.hedystia-models]\nschemas = "missing_pkg.schemas"\nconnection = "x.db"\n',
        encoding="utf-8",
    )
    result = run(project, "sync", expect=2)
    assert result.stdout == ""
    assert result.stderr == (
        "error: cannot import the schemas module 'missing_pkg.schemas': "
        "ModuleNotFoundError: No module named 'missing_pkg'\n"
    )
    verbose = run(project, "--verbose", "sync", expect=2)
    assert verbose.stderr.startswith("Traceback (most recent call last):\n")
    assert verbose.stderr.endswith(result.stderr)


def test_python_dash_m(project: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "hedystia_models", "--help"],
        cwd=project,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("Usage: hedystia-models [OPTIONS] COMMAND [ARGS]...\n")
    for command in ("check", "history", "migrate", "migration", "schema", "sync"):
        assert re.search(rf"^  {command}\s", result.stdout, re.M), command
    version = subprocess.run(
        [sys.executable, "-m", "hedystia_models", "--version"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert version.stdout.startswith("hedystia-models, version ")
