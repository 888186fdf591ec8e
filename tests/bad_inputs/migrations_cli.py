"""Bad migrations and bad command-line settings: each is refused, naming the migration, the
file or the setting, before anything is written (or rolled back whole)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from hedystia_models import (
    ConfigurationError,
    Field,
    MigrationError,
    Table,
    database,
    migration,
)
from hedystia_models.cli.config import load_settings
from hedystia_models.context import MigrationContext
from hedystia_models.migrate.migrations import load_migrations

from . import bad_input


class Book(Table, table="books"):
    id: int | None = Field(default=None, primary_key=True)
    title: str = ""


def books(tmp: Path) -> None:
    with database(schemas=[Book], connection=tmp / "app.db", sync_schemas=True) as db:
        db.table(Book).insert({"title": "Dune"})


def run(tmp: Path, *steps: Any) -> None:
    with database(schemas=[Book], connection=tmp / "app.db", migrations=list(steps)) as db:
        db.migrate_up()


@bad_input(
    "Migrations",
    "A migration name with a lone surrogate (not valid UTF-8)",
    MigrationError,
    "a migration's name must be text SQLite can store: '0002_\\ud800' contains a lone "
    "surrogate, which is not valid UTF-8",
)
def surrogate_in_migration_name(tmp: Path) -> None:
    migration("0002_\ud800", up=lambda ctx: None)


@bad_input(
    "Migrations",
    "A migration name with a NUL character",
    MigrationError,
    "a migration's name must be text SQLite can store: '0002\\x00fill' contains a NUL character",
)
def nul_in_migration_name(tmp: Path) -> None:
    migration("0002\x00fill", up=lambda ctx: None)


@bad_input(
    "Migrations",
    "An `up` written with `yield` (a generator function: calling it runs none of its body)",
    MigrationError,
    "migration '0002_fill': up is a generator function (it contains yield), so calling it "
    "would run none of its body; remove the yield",
)
def generator_up(tmp: Path) -> None:
    def up(ctx: MigrationContext) -> Iterator[None]:
        ctx.sql("UPDATE books SET title = upper(title)")
        yield

    migration("0002_fill", up=up)


def fill(ctx: MigrationContext) -> None:
    ctx.sql("UPDATE books SET title = upper(title)")


@bad_input(
    "Migrations",
    "An `up` that returns its step instead of calling it (`up=lambda ctx: fill`)",
    MigrationError,
    "migration '0002_fill': up returned the function fill instead of running it, so none of "
    "its work was done; the migration was rolled back: call it (up=fill, or lambda ctx: "
    "fill(ctx))",
    setup=books,
)
def up_returns_its_step(tmp: Path) -> None:
    returned: Callable[[MigrationContext], object] = lambda ctx: fill  # noqa: E731
    run(tmp, migration("0002_fill", up=returned))


@bad_input(
    "Migrations",
    "`ctx.sql('COMMIT')` in a migration (it would end the migration's transaction)",
    MigrationError,
    "migration '0002_fill': ctx.sql('COMMIT') would end the transaction the migration runs in, "
    "and what it did before could no longer be rolled back; the runner commits a migration "
    "with its history row (or use transactional=False). The migration was rolled back",
    setup=books,
)
def commit_in_a_migration(tmp: Path) -> None:
    def up(ctx: MigrationContext) -> None:
        ctx.sql("UPDATE books SET title = upper(title)")
        ctx.sql("COMMIT")

    run(tmp, migration("0002_fill", up=up))


@bad_input(
    "Migrations",
    "`ctx.sql('ROLLBACK')` in a migration (it would be recorded as applied, having done nothing)",
    MigrationError,
    "migration '0002_fill': ctx.sql('-- undo\\nrollback') would end the transaction the "
    "migration runs in, and what it did before could no longer be rolled back; the runner "
    "commits a migration with its history row (or use transactional=False). The migration was "
    "rolled back",
    setup=books,
)
def rollback_in_a_migration(tmp: Path) -> None:
    def up(ctx: MigrationContext) -> None:
        ctx.sql("UPDATE books SET title = upper(title)")
        ctx.sql("-- undo\nrollback")

    run(tmp, migration("0002_fill", up=up))


def migrations_folder(tmp: Path, **files: str) -> Path:
    folder = tmp / "migrations"
    folder.mkdir(exist_ok=True)
    (folder / "m0001_books.py").write_text(
        "from hedystia_models import migration\n\n"
        "first = migration('0001_books', up=lambda ctx: None)\n"
    )
    for name, text in files.items():
        (folder / f"{name}.py").write_text(text)
    return folder


@bad_input(
    "Migrations",
    "A migration file that raises when imported (names the file, the error and the line)",
    MigrationError,
    "migration file {tmp}/migrations/m0002_fill.py failed to import: KeyError: 'TITLE' (line 3)",
)
def migration_file_raises(tmp: Path) -> None:
    folder = migrations_folder(tmp, m0002_fill="import os\n\nPREFIX = os.environ['TITLE']\n")
    load_migrations(folder)


@bad_input(
    "Migrations",
    "Two migration files defining one name (names both files)",
    MigrationError,
    "two migrations are named '0001_books' (in m0001_books.py and m0002_copy.py)",
)
def duplicate_names_in_two_files(tmp: Path) -> None:
    folder = migrations_folder(
        tmp,
        m0002_copy="from hedystia_models import migration\n\n"
        "again = migration('0001_books', up=lambda ctx: None)\n",
    )
    load_migrations(folder)


@bad_input(
    "Migrations",
    "A migration file that defines no migration (`migration(...)` called, not assigned)",
    MigrationError,
    "migration file {tmp}/migrations/m0002_fill.py defines no migration: assign the result of "
    "migration(...) to a module-level name (files starting with _ are helpers, and skipped)",
)
def migration_file_without_a_migration(tmp: Path) -> None:
    folder = migrations_folder(
        tmp,
        m0002_fill="from hedystia_models import migration\n\n"
        "migration('0002_fill', up=lambda ctx: ctx.sql('UPDATE books SET title = upper(title)'))\n",
    )
    load_migrations(folder)


def settings_from(tmp: Path, pyproject: str) -> object:
    (tmp / "pyproject.toml").write_text(pyproject)
    return load_settings(cwd=tmp, environ={})


@bad_input(
    "Migrations",
    'CLI: an empty setting in pyproject.toml (`migrations = ""` would mean the default)',
    ConfigurationError,
    "{tmp}/pyproject.toml: migrations in [tool.hedystia-models] must not be empty (leave the "
    "key out for the default)",
)
def empty_cli_setting(tmp: Path) -> None:
    settings_from(
        tmp,
        '[tool.hedystia-models]\nschemas = "app.schemas"\nmigrations = ""\nconnection = "app.db"\n',
    )


@bad_input(
    "Migrations",
    "CLI: a misspelt section name (`[tool.hedystia_models]`, which would be ignored)",
    ConfigurationError,
    "{tmp}/pyproject.toml: [tool.hedystia_models] is not read; the section is "
    "[tool.hedystia-models]",
)
def misspelt_cli_section(tmp: Path) -> None:
    settings_from(tmp, '[tool.hedystia_models]\nschemas = "app.schemas"\n')
