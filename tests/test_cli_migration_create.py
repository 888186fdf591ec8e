"""``hedystia-models migration create`` (and its shorthand ``migration NAME``): the file it
writes, its name, and when ``--auto`` writes nothing or refuses. What ``--auto`` puts in
the file is tested in test_cli_migration_auto.py."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from cli_project import USERS, Project, one_line_error, open_project

TIMESTAMPED = re.compile(r"^\d{14}_(?P<slug>\w+)\.py$")


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Project]:
    yield from open_project(tmp_path, monkeypatch)


def test_migration_create_writes_an_empty_migration_that_runs(project: Project) -> None:
    result = project.ok("migration", "create", "Add things")
    [path] = project.migration_files()
    match = TIMESTAMPED.match(path.name)
    assert match and match.group("slug") == "add_things"
    assert result.stdout == f"created {path.relative_to(project.root)}\n"
    source = path.read_text(encoding="utf-8")
    assert "def up(ctx: MigrationContext) -> None:" in source
    assert "def down(ctx: MigrationContext) -> None:" in source
    assert f"migration({path.stem!r}, up=up, down=down)" in source
    assert project.ok("migrate", "up").stdout == f"applied {path.stem}\n"
    assert project.ok("migrate", "down").stdout == f"rolled back {path.stem}\n"


def test_migration_shorthand_no_id_and_path(project: Project) -> None:
    project.ok("migration", "seed")
    project.ok("migration", "create", "seed_more", "--no-id", "--path", "other")
    assert TIMESTAMPED.match(project.migration_files()[0].name)
    assert (project.root / "other" / "seed_more.py").exists()
    result = project.ok("--migrations", "other", "migrate", "up")
    assert result.stdout == "applied seed_more\n"


def test_migration_create_refuses_to_overwrite(project: Project) -> None:
    project.ok("migration", "create", "once", "--no-id")
    path = project.migrations_dir / "once.py"
    path.write_text(path.read_text(encoding="utf-8") + "# edited\n", encoding="utf-8")
    line = one_line_error(project.run("migration", "create", "once", "--no-id"))
    assert line == "error: database/migrations/once.py already exists; not overwriting it"
    assert path.read_text(encoding="utf-8").endswith("# edited\n")


def test_auto_with_nothing_to_do_writes_no_file(project: Project) -> None:
    project.model("users", USERS)
    project.ok("sync")
    result = project.ok("migration", "create", "noop", "--auto")
    assert result.stdout == "database matches the models: nothing to generate, no file written\n"
    assert project.migration_files() == []
    shorthand = project.ok("migration", "noop", "--auto")  # `migration NAME` = create NAME
    assert shorthand.stdout == result.stdout
    assert not project.migrations_dir.exists()


def test_auto_refuses_while_migrations_are_pending(project: Project) -> None:
    project.model("users", USERS)
    project.ok("migration", "create", "initial", "--auto")
    [path] = project.migration_files()
    line = one_line_error(project.run("migration", "create", "again", "--auto"))
    assert line == (
        f"error: 1 migration(s) pending ({path.stem}): run `migrate up` first, or the new "
        "migration would repeat their changes"
    )
    assert project.migration_files() == [path]
