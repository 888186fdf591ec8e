"""``hedystia-models schema create`` (and its shorthand ``schema NAME``): the Table class it
writes, where it writes it, and what it refuses."""

from __future__ import annotations

import importlib
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from cli_project import Project, make_runner, one_line_error, open_project

from hedystia_models import database
from hedystia_models.cli import main


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Project]:
    yield from open_project(tmp_path, monkeypatch)


def test_schema_create_writes_a_table_class(project: Project) -> None:
    result = project.ok("schema", "create", "users")
    path = project.schemas_dir / "users.py"
    assert result.stdout == f"created {path.relative_to(project.root)}\n"
    assert result.stderr == ""
    assert (project.schemas_dir / "__init__.py").exists()
    source = path.read_text(encoding="utf-8")
    assert 'class Users(Table, table="users"):' in source
    assert "primary_key=True, auto_increment=True" in source

    project.ok("sync")
    assert project.columns("users") == ["id", "created_at", "updated_at"]
    sql = project.query("SELECT sql FROM sqlite_master WHERE name = 'users'")[0][0]
    assert '"id" INTEGER PRIMARY KEY AUTOINCREMENT' in str(sql)


def test_the_scaffolded_updated_at_is_set_again_by_every_update(project: Project) -> None:
    project.ok("schema", "create", "users")
    project.ok("sync")
    source = (project.schemas_dir / "users.py").read_text(encoding="utf-8")
    assert "updated_at: datetime = Field(default_factory=utcnow, refresh_on_update=True)" in source
    project.forget_modules()
    users_model = importlib.import_module(f"{project.schemas_module}.users").Users
    with database(schemas=[users_model], connection=project.db_path) as db:
        assert db.check() == []  # the option changes no schema
        users = db.table(users_model)
        created = users.insert({})
        time.sleep(0.002)
        (updated,) = users.update(where={"id": created.id}, data={"created_at": created.created_at})
        assert updated.created_at == created.created_at
        assert updated.updated_at > created.updated_at
        assert users.get(created.id) == updated


def test_schema_shorthand_and_class_names(project: Project) -> None:
    project.ok("schema", "BlogPosts")
    source = (project.schemas_dir / "blog_posts.py").read_text(encoding="utf-8")
    assert 'class BlogPosts(Table, table="blog_posts"):' in source


def test_unusable_names(project: Project) -> None:
    assert one_line_error(project.run("schema", "create", "--", "---")) == (
        "error: '---' is not a usable name"
    )
    assert one_line_error(project.run("schema", "create", "1st")) == (
        "error: '1st' does not give a class name; start it with a letter"
    )
    assert not project.schemas_dir.exists()


def test_schema_create_refuses_to_overwrite(project: Project) -> None:
    path = project.model("users", "# mine, hands off\n")
    line = one_line_error(project.run("schema", "create", "users"))
    assert line == f"error: {path.relative_to(project.root)} already exists; not overwriting it"
    assert path.read_text(encoding="utf-8") == "# mine, hands off\n"


def test_schema_create_path_outside_the_schemas_module(project: Project) -> None:
    result = project.ok("schema", "create", "tags", "--path", "elsewhere")
    assert result.stdout == "created elsewhere/tags.py\n"
    assert (project.root / "elsewhere" / "tags.py").exists()
    assert (project.root / "elsewhere" / "__init__.py").exists()
    assert result.stderr.startswith("note: elsewhere/tags.py is outside the configured schemas")


def test_schema_create_notes_a_file_outside_a_single_file_schemas_module(
    project: Project,
) -> None:
    # With `schemas` naming a plain module (models.py), the file goes to database/schemas,
    # which sync does not read: docs/cli.md promises a note saying so.
    module = f"{project.package}_models"
    (project.root / f"{module}.py").write_text("", encoding="utf-8")
    result = project.run("--schemas", module, "schema", "create", "things")
    assert result.exit_code == 0
    assert result.stdout == "created database/schemas/things.py\n"
    assert result.stderr == (
        "note: database/schemas/things.py is outside the configured schemas module "
        f"({module}); import Things there, or set schemas in [tool.hedystia-models], "
        "so sync sees it\n"
    )


def test_schema_create_without_schemas_setting_uses_database_schemas(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    result = make_runner().invoke(main, ["schema", "users"])
    assert result.exit_code == 0
    assert (tmp_path / "database" / "schemas" / "users.py").exists()
    assert "set schemas in [tool.hedystia-models]" in result.stderr
