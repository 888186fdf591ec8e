"""``hedystia-models check``, the CI gate: exit 0 only when the database matches the models
and every migration is applied as written."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from cli_project import USERS, Project, make_migrations, open_project
from click.testing import CliRunner

from hedystia_models.cli import main


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Project]:
    yield from open_project(tmp_path, monkeypatch)


def test_check(project: Project) -> None:
    project.model("users", USERS)
    result = project.run("check")
    assert result.exit_code == 1
    assert result.stdout == (
        "database and models differ:\n  - schema: create table users (id, name, created_at)\n"
    )
    data = json.loads(project.run("check", "--json").stdout)
    assert data == {"ok": False, "problems": ["schema: create table users (id, name, created_at)"]}

    project.ok("sync")
    assert project.ok("check").stdout == "ok: database matches the models\n"
    assert json.loads(project.ok("check", "--json").stdout) == {"ok": True, "problems": []}

    make_migrations(project, "m1", "m2")
    result = project.run("check", "--json")
    assert result.exit_code == 1
    assert json.loads(result.stdout)["problems"] == [
        "pending migration: m1",
        "pending migration: m2",
    ]

    project.ok("migrate", "up")
    result = project.run("check")
    assert result.exit_code == 1  # m1 and m2 created tables the models do not declare
    assert "  - schema: drop table m1\n" in result.stdout

    (project.migrations_dir / "m1.py").unlink()  # (a file defining none is an error)
    m2 = project.migrations_dir / "m2.py"
    m2.write_text(m2.read_text(encoding="utf-8").replace("DROP TABLE", "DROP TABLE IF EXISTS"))
    problems = json.loads(project.run("check", "--json").stdout)["problems"]
    assert "edited after apply: m2" in problems
    assert "applied but missing from code: m1" in problems


def test_check_passes_with_applied_migrations(project: Project) -> None:
    project.model("users", USERS)
    project.ok("migration", "create", "initial", "--auto")
    assert project.run("check").exit_code == 1
    project.ok("migrate", "up")
    assert project.ok("check", "--json").stdout.strip() == '{\n  "ok": true,\n  "problems": []\n}'


def test_check_refuses_a_migrations_directory_named_by_flag_that_does_not_exist(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "typo_check_models.py").write_text(
        "from hedystia_models import Field, Table\n\n\n"
        "class Thing(Table, table='things'):\n"
        "    id: int | None = Field(default=None, primary_key=True)\n",
        encoding="utf-8",
    )
    args = ["--schemas", "typo_check_models", "--connection", "x.db"]
    result = CliRunner().invoke(main, [*args, "--migrations", "migrashuns", "check"])
    assert result.exit_code == 2
    assert "migrashuns" in result.output and "does not exist" in result.output
