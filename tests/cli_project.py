"""A throw-away project for driving the ``hedystia-models`` CLI through click's CliRunner, and
the helpers and model sources the CLI tests share.

Its schemas package has a unique module name (the CLI imports it by name, and imported modules
are cached per process), and the project directory is the working directory while it is used.
"""

from __future__ import annotations

import sqlite3
import sys
import textwrap
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from hedystia_models.cli import main

#: A users model with an auto-increment id, a name and a creation time.
USERS = """
    from datetime import datetime

    from hedystia_models import Field, Table, utcnow


    class User(Table, table="users"):
        id: int | None = Field(default=None, primary_key=True, auto_increment=True)
        name: str = ""
        created_at: datetime = Field(default_factory=utcnow)
"""

#: A users model with only an id and a name.
PLAIN_USERS = """
    from hedystia_models import Field, Table


    class User(Table, table="users"):
        id: int | None = Field(default=None, primary_key=True)
        name: str = ""
"""


def make_runner() -> CliRunner:
    """A runner keeping stdout and stderr apart (the default from click 8.2 on)."""
    try:
        return CliRunner(mix_stderr=False)  # type: ignore[call-arg]  # click < 8.2
    except TypeError:
        return CliRunner()


@dataclass
class Project:
    """A temporary project; ``run`` invokes the CLI in it."""

    root: Path
    package: str
    runner: CliRunner

    @property
    def schemas_module(self) -> str:
        return f"{self.package}.schemas"

    @property
    def schemas_dir(self) -> Path:
        return self.root / self.package / "schemas"

    @property
    def migrations_dir(self) -> Path:
        return self.root / "database" / "migrations"

    @property
    def db_path(self) -> Path:
        return self.root / "app.db"

    def forget_modules(self) -> None:
        """Drop the project's modules from the import cache, so edits to them are seen."""
        for name in [m for m in sys.modules if m.split(".")[0] == self.package]:
            del sys.modules[name]

    def run(self, *args: str, env: dict[str, str] | None = None, color: bool = False) -> Result:
        self.forget_modules()
        return self.runner.invoke(main, list(args), env=env, color=color, catch_exceptions=False)

    def ok(self, *args: str) -> Result:
        """Run and insist on exit status 0."""
        result = self.run(*args)
        assert result.exit_code == 0, (result.stdout, result.stderr)
        return result

    def model(self, name: str, source: str) -> Path:
        """Write (or replace) ``<schemas package>/<name>.py``."""
        self.schemas_dir.mkdir(parents=True, exist_ok=True)
        (self.schemas_dir / "__init__.py").touch()
        path = self.schemas_dir / f"{name}.py"
        path.write_text(textwrap.dedent(source), encoding="utf-8")
        return path

    def models(self, source: str) -> None:
        """Write the whole schemas package as one ``__init__.py``."""
        self.schemas_dir.mkdir(parents=True, exist_ok=True)
        (self.schemas_dir / "__init__.py").write_text(textwrap.dedent(source), encoding="utf-8")

    def sql(self, statement: str) -> list[tuple[object, ...]]:
        """Run one statement on the project database and commit it."""
        conn = sqlite3.connect(self.db_path)
        try:
            rows = conn.execute(statement).fetchall()
            conn.commit()
            return rows
        finally:
            conn.close()

    def only_migration(self, slug: str) -> Path:
        (path,) = self.migrations_dir.glob(f"*_{slug}.py")
        return path

    def migration_files(self) -> list[Path]:
        if not self.migrations_dir.is_dir():
            return []
        return sorted(self.migrations_dir.glob("*.py"))

    def query(self, sql: str, params: tuple[object, ...] = ()) -> list[tuple[object, ...]]:
        conn = sqlite3.connect(self.db_path)
        try:
            return conn.execute(sql, params).fetchall()
        finally:
            conn.close()

    def tables(self) -> set[str]:
        rows = self.query("SELECT name FROM sqlite_master WHERE type = 'table'")
        return {str(r[0]) for r in rows if not str(r[0]).startswith(("sqlite_", "__hedystia"))}

    def columns(self, table: str) -> list[str]:
        return [str(r[1]) for r in self.query(f'PRAGMA table_info("{table}")')]


def write_pyproject(root: Path, **settings: str) -> None:
    lines = ['[project]\nname = "demo"\n\n[tool.hedystia-models]']
    lines += [f'{key} = "{value}"' for key, value in settings.items()]
    (root / "pyproject.toml").write_text("\n".join(lines) + "\n", encoding="utf-8")


def open_project(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, prefix: str = "cliproj"
) -> Iterator[Project]:
    """A fresh project in ``tmp_path``, the working directory while it is in use; the body of
    the ``project`` fixtures."""
    package = f"{prefix}_{uuid.uuid4().hex[:12]}"
    write_pyproject(tmp_path, schemas=f"{package}.schemas", connection="app.db")
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("HEDYSTIA_DATABASE", raising=False)
    # The CLI puts the project on sys.path; give it a copy that is thrown away afterwards.
    monkeypatch.setattr(sys, "path", list(sys.path))
    # Edited model files must be re-read, never taken from a same-second stale .pyc.
    monkeypatch.setattr(sys, "dont_write_bytecode", True)
    proj = Project(tmp_path, package, make_runner())
    yield proj
    proj.forget_modules()


def one_line_error(result: Result) -> str:
    """The single stderr line of a user mistake (exit status 2, no traceback)."""
    assert result.exit_code == 2, (result.stdout, result.stderr)
    assert "Traceback" not in result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("error: ")
    return lines[0]


def make_migrations(project: Project, *names: str) -> list[str]:
    """Hand-written migrations, each creating a table named after it."""
    project.migrations_dir.mkdir(parents=True, exist_ok=True)
    for name in names:
        (project.migrations_dir / f"{name}.py").write_text(
            textwrap.dedent(
                f"""
                from hedystia_models import migration


                def up(ctx):
                    ctx.sql('CREATE TABLE "{name}" (id INTEGER PRIMARY KEY)')


                def down(ctx):
                    ctx.sql('DROP TABLE "{name}"')


                m = migration({name!r}, up=up, down=down)
                """
            ),
            encoding="utf-8",
        )
    return list(names)
