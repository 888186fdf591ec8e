"""``schema create``, ``schema inspect`` and ``migration create``: the commands that write new
files, and the templates of what they write.

``migration create --auto`` fills the migration from the difference between the database and
the models (:func:`hedystia_models.migrate.render.render_migration`); ``schema inspect`` writes
the models of the tables the database has (:func:`hedystia_models.inspect.inspect_models`);
everything else here only writes templates. None of them overwrites a file, but for
``schema inspect --force``.
"""

from __future__ import annotations

import re
from datetime import datetime, timezone
from pathlib import Path

import click

from ..engine.sqlite.connection import check_file
from ..inspect import InspectedModels, inspect_models, open_read_only
from ..migrate.render import render_migration
from .config import DEFAULT_SCHEMAS_PATH, Settings, is_postgres_url
from .errors import UserError, report_failures
from .options import global_options
from .output import shown
from .project import open_database, project_settings

__all__ = [
    "MIGRATION_TEMPLATE",
    "SCHEMA_TEMPLATE",
    "ShorthandGroup",
    "migration",
    "migration_create",
    "schema",
    "schema_create",
    "schema_inspect",
]

SCHEMA_TEMPLATE = '''"""The {table} table."""

from __future__ import annotations

from datetime import datetime

from hedystia_models import Field, Table, utcnow


class {cls}(Table, table="{table}"):
    id: int | None = Field(default=None, primary_key=True, auto_increment=True)
    created_at: datetime = Field(default_factory=utcnow)
    updated_at: datetime = Field(default_factory=utcnow, refresh_on_update=True)
'''

MIGRATION_TEMPLATE = '''"""Migration {name}."""

from hedystia_models import migration
from hedystia_models.context import MigrationContext


def up(ctx: MigrationContext) -> None:
    pass


def down(ctx: MigrationContext) -> None:
    pass


migration_ = migration({name!r}, up=up, down=down)
'''


class ShorthandGroup(click.Group):
    """A group where ``GROUP NAME`` means ``GROUP create NAME`` (``schema users``)."""

    def resolve_command(
        self, ctx: click.Context, args: list[str]
    ) -> tuple[str | None, click.Command | None, list[str]]:
        """Read a first word that is neither a subcommand nor an option as ``create``'s NAME."""
        if args and args[0] not in self.commands and not args[0].startswith("-"):
            args = ["create", *args]
        return super().resolve_command(ctx, args)


# -- schema ---------------------------------------------------------------------------------------


@click.group(cls=ShorthandGroup)
def schema() -> None:
    """Scaffold table models (`schema NAME` is short for `schema create NAME`)."""


@schema.command("create")
@click.argument("name")
@click.option(
    "--path",
    "directory",
    default=None,
    help="Directory to write the file into (default: the package of the configured schemas "
    f"module, else {DEFAULT_SCHEMAS_PATH}).",
)
@click.pass_context
def schema_create(ctx: click.Context, name: str, directory: str | None) -> None:
    """Write a Table class for table NAME with an auto-increment id and timestamps."""
    with report_failures(ctx):
        table = _slug(name)
        cls = _class_name(name)
        if not cls.isidentifier():
            raise UserError(f"{name!r} does not give a class name; start it with a letter")
        settings = project_settings(ctx)
        folder = Path(directory) if directory else _schemas_directory(settings)
        target = folder / f"{table}.py"
        _write_new(target, SCHEMA_TEMPLATE.format(table=table, cls=cls))
        init = target.parent / "__init__.py"
        if not init.exists():
            init.write_text('"""Table models."""\n', encoding="utf-8")
        click.echo(f"created {shown(target)}")
        package = _schemas_package(settings)
        if package is None or package.resolve() != folder.resolve():
            click.echo(
                f"note: {shown(target)} is outside the configured schemas module "
                f"({settings.schemas or 'none configured'}); import {cls} there, or set schemas "
                "in [tool.hedystia-models], so sync sees it",
                err=True,
            )


@schema.command("inspect")
@click.option(
    "--out",
    "out",
    default=None,
    metavar="FILE",
    help="Write the module to FILE instead of printing it.",
)
@click.option(
    "--dir",
    "directory",
    default=None,
    metavar="DIR",
    help="Write one file per table into DIR (and an __init__.py when it has none).",
)
@click.option("--force", is_flag=True, help="Replace files that already exist.")
@click.pass_context
def schema_inspect(ctx: click.Context, out: str | None, directory: str | None, force: bool) -> None:
    """Write Table models for the tables of the configured database (stdout by default)."""
    with report_failures(ctx):
        if out is not None and directory is not None:
            raise click.UsageError("--out and --dir cannot be used together", ctx)
        settings = project_settings(ctx)
        if not settings.connection:
            raise UserError(
                "no database configured: set connection in [tool.hedystia-models], "
                "HEDYSTIA_DATABASE, or pass --connection"
            )
        connection = settings.connection
        if is_postgres_url(connection):
            raise UserError(
                "schema inspect reads SQLite files; a PostgreSQL database is not inspected yet "
                "(see docs/engines.md)"
            )
        check_file(connection)  # a directory, a file that is not SQLite: named, not opened
        if connection != ":memory:" and not Path(connection).is_file():
            raise UserError(
                f"database {shown(Path(connection))} does not exist; nothing to inspect"
            )
        conn = open_read_only(connection, timeout=global_options(ctx).busy_timeout)
        try:
            found = inspect_models(conn, ignore_tables=settings.ignore_tables)
        finally:
            conn.close()
        if directory is not None:
            folder = Path(directory)
            targets = {folder / name: text for name, text in found.files.items()}
            _refuse_existing(list(targets), force)
            for path, text in targets.items():
                replaced = _write(path, text)
                click.echo(f"{'replaced' if replaced else 'created'} {shown(path)}")
            init = folder / "__init__.py"
            if targets and not init.exists():
                init.write_text('"""Table models."""\n', encoding="utf-8")
        elif out is not None:
            path = Path(out)
            _refuse_existing([path], force)
            replaced = _write(path, found.source)
            click.echo(f"{'replaced' if replaced else 'created'} {shown(path)}")
        else:
            click.echo(found.source, nl=False)
        _report_inspection(found)


def _report_inspection(found: InspectedModels) -> None:
    """On stderr: an empty database, and what the models cannot declare."""
    if not found.classes:
        click.echo("note: the database has no tables", err=True)
    if found.unsupported:
        click.echo(
            f"note: {len(found.unsupported)} thing(s) the models cannot declare, each marked "
            "TODO in the source:",
            err=True,
        )
        for line in found.unsupported:
            click.echo(f"    {line}", err=True)


def _refuse_existing(paths: list[Path], force: bool) -> None:
    """Refuse to write over an existing file (unless ``force``), before anything is written."""
    existing = [p for p in paths if p.exists()]
    if existing and not force:
        more = f" (and {len(existing) - 1} more)" if len(existing) > 1 else ""
        raise UserError(
            f"{shown(existing[0])} already exists{more}; not overwriting it (--force replaces it)"
        )
    for path in existing:
        if not path.is_file():
            raise UserError(f"cannot write {shown(path)}: it is not a file")


def _write(path: Path, text: str) -> bool:
    """Write ``text`` to ``path``, creating its directory; True when a file was replaced."""
    for folder in (path.parent, *path.parent.parents):
        if folder.exists() and not folder.is_dir():
            raise UserError(f"cannot write {shown(path)}: {shown(folder)} is a file")
    replaced = path.exists()
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return replaced


def _schemas_package(settings: Settings) -> Path | None:
    """The directory of the configured schemas package (relative to pyproject.toml), or None
    when no schemas module is configured or it is a single-file module."""
    if settings.schemas:
        package = settings.root.joinpath(*settings.schemas.split("."))
        if not package.with_suffix(".py").is_file():  # a plain module cannot hold more files
            return package
    return None


def _schemas_directory(settings: Settings) -> Path:
    """Where ``schema create`` writes by default: the directory of the configured schemas
    package, else ``database/schemas`` (outside the models: ``schema create`` says so)."""
    return _schemas_package(settings) or settings.root / DEFAULT_SCHEMAS_PATH


# -- migration ------------------------------------------------------------------------------------


@click.group(cls=ShorthandGroup)
def migration() -> None:
    """Scaffold migrations (`migration NAME` is short for `migration create NAME`)."""


@migration.command("create")
@click.argument("name")
@click.option(
    "--path",
    "directory",
    default=None,
    help="Directory to write into (default: the configured migrations directory).",
)
@click.option("--no-id", is_flag=True, help="Name the file NAME.py, without a timestamp.")
@click.option(
    "--auto", is_flag=True, help="Generate the operations that take the database to the models."
)
@click.pass_context
def migration_create(
    ctx: click.Context, name: str, directory: str | None, no_id: bool, auto: bool
) -> None:
    """Write a migration file <UTC timestamp>_<NAME>.py."""
    with report_failures(ctx):
        settings = project_settings(ctx)
        folder = Path(directory) if directory else settings.migrations
        base = _slug(name)
        stem = base if no_id else f"{datetime.now(timezone.utc):%Y%m%d%H%M%S}_{base}"
        commented = 0
        if auto:
            load = settings.migrations.is_dir()
            with open_database(ctx, load_migrations=load, read_only=True) as db:
                pending = db.migration_status().pending
                if pending:
                    raise UserError(
                        f"{len(pending)} migration(s) pending ({', '.join(pending)}): run "
                        "`migrate up` first, or the new migration would repeat their changes"
                    )
                plan = db.migration_plan()
            if plan.in_sync:
                click.echo("database matches the models: nothing to generate, no file written")
                return
            text = render_migration(stem, plan)
            commented = len(plan.unsafe) + len(plan.blocked)
        else:
            text = MIGRATION_TEMPLATE.format(name=stem)
        target = folder / f"{stem}.py"
        _write_new(target, text)
        click.echo(f"created {shown(target)}")
        if commented:
            click.echo(
                f"note: {commented} difference(s) were written as comments; review them",
                err=True,
            )


# -- names and files ------------------------------------------------------------------------------


def _slug(name: str) -> str:
    """``"Add karma"``, ``"add-karma"`` and ``"AddKarma"`` all become ``add_karma``."""
    words = re.sub(r"(?<=[a-z0-9])(?=[A-Z])", "_", name)
    slug = re.sub(r"[^0-9a-zA-Z]+", "_", words).strip("_").lower()
    if not slug:
        raise UserError(f"{name!r} is not a usable name")
    return slug


def _class_name(name: str) -> str:
    """The class name for table ``name``: ``"blog posts"`` becomes ``BlogPosts``."""
    return "".join(part.capitalize() for part in _slug(name).split("_"))


def _write_new(path: Path, text: str) -> None:
    """Write ``text`` to ``path``, creating its directory; never over an existing file."""
    if path.exists():
        raise UserError(f"{shown(path)} already exists; not overwriting it")
    for folder in (path.parent, *path.parent.parents):
        if folder.exists() and not folder.is_dir():
            raise UserError(f"cannot write {shown(path)}: {shown(folder)} is a file")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
