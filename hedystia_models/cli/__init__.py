"""The ``hedystia-models`` command line (also ``python -m hedystia_models``).

Every command reads its settings through :mod:`hedystia_models.cli.config`. User mistakes print one
line on stderr (followed by indented details when the error has them) and exit with status 2;
``check`` exits 1 when something differs; ``--verbose`` shows tracebacks.
"""

from __future__ import annotations

import importlib
import json
import logging
import re
import sqlite3
import sys
import traceback
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, TypeVar

import click

from ..database import Database, database
from ..errors import HedystiaError
from ..migrate.render import render_migration
from ..model.schemas import normalize_schemas
from ..model.table import Table
from .config import DEFAULT_SCHEMAS_PATH, Settings, load_settings

__all__ = ["main"]

F = TypeVar("F", bound=Callable[..., Any])


class UserError(click.ClickException):
    """A mistake the user can fix: one line on stderr, exit status 2."""

    exit_code = 2

    def show(self, file: Any = None) -> None:
        click.echo(f"error: {self.format_message()}", err=True)


class ShorthandGroup(click.Group):
    """A group where ``GROUP NAME`` means ``GROUP create NAME`` (``schema users``)."""

    def resolve_command(
        self, ctx: click.Context, args: list[str]
    ) -> tuple[str | None, click.Command | None, list[str]]:
        if args and args[0] not in self.commands and not args[0].startswith("-"):
            args = ["create", *args]
        return super().resolve_command(ctx, args)


class ProgramGroup(click.Group):
    """The top-level group: an unexpected exception (a bug, not a user mistake) prints its
    traceback and exits with status 3, so it cannot be mistaken for ``check``'s 1."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except (click.ClickException, click.exceptions.Exit, click.Abort):
            raise
        except Exception:
            traceback.print_exc()
            click.echo(
                "error: internal error in hedystia-models (the traceback above); please report it",
                err=True,
            )
            ctx.exit(3)


def _check_timeout(ctx: click.Context, param: click.Parameter, value: float) -> float:
    """A number of seconds: 0 or more and finite (``nan`` and ``inf`` pass ``type=float``)."""
    if not 0 <= value < float("inf"):
        raise click.BadParameter(f"{value} is not a number of seconds (0 or more)")
    return value


@click.group(
    "hedystia-models",
    cls=ProgramGroup,
    context_settings={"help_option_names": ["-h", "--help"]},
)
@click.option("--schemas", help="Module holding the Table models, e.g. app.schemas.")
@click.option("--migrations", help="Directory of migration files (default database/migrations).")
@click.option("--connection", help="SQLite file (default: $HEDYSTIA_DATABASE, then pyproject).")
@click.option(
    "--busy-timeout",
    type=float,
    callback=_check_timeout,
    default=5.0,
    show_default=True,
    help="Seconds to wait for another process's write lock.",
)
@click.option("--verbose", "-v", is_flag=True, help="Show tracebacks on errors.")
@click.version_option(package_name="hedystia-models", prog_name="hedystia-models")
@click.pass_context
def main(
    ctx: click.Context,
    schemas: str | None,
    migrations: str | None,
    connection: str | None,
    busy_timeout: float,
    verbose: bool,
) -> None:
    """Pydantic models as the single source of truth for a SQLite schema.

    Settings come from [tool.hedystia-models] in pyproject.toml (schemas, migrations,
    connection); the HEDYSTIA_DATABASE environment variable overrides the connection, and
    flags override everything.
    """
    ctx.ensure_object(dict)
    ctx.obj["flags"] = {"schemas": schemas, "migrations": migrations, "connection": connection}
    ctx.obj["busy_timeout"] = busy_timeout
    ctx.obj["verbose"] = verbose


# -- shared plumbing ------------------------------------------------------------------------------


def _settings(ctx: click.Context) -> Settings:
    try:
        return load_settings(**ctx.obj["flags"])
    except HedystiaError as exc:
        raise UserError(str(exc)) from exc


@contextmanager
def _errors(ctx: click.Context) -> Iterator[None]:
    """Turn expected failures into one clear line (or a traceback with --verbose)."""
    try:
        yield
    except (click.ClickException, click.exceptions.Exit, click.Abort):
        raise
    except (HedystiaError, sqlite3.Error, ImportError, OSError) as exc:
        if ctx.find_root().obj.get("verbose"):
            traceback.print_exc()
        message = str(exc).strip() or type(exc).__name__
        if _is_lock_error(exc):
            message += " (another process holds the write lock; try again or raise --busy-timeout)"
        # Kept whole: when an error has details (sync's refusals, a migration's column
        # differences) they follow the first line, indented, and are the actual reason.
        raise UserError(message) from exc


def _is_lock_error(exc: BaseException | None) -> bool:
    """True for SQLite's "database is locked", raised directly or wrapped (by a migration)."""
    while exc is not None:
        if isinstance(exc, sqlite3.OperationalError) and "locked" in str(exc):
            return True
        exc = exc.__cause__
    return False


class SchemasImportError(HedystiaError):
    """The configured schemas module raised while being imported."""


def _import_schemas(settings: Settings) -> dict[str, type[Table]]:
    if not settings.schemas:
        raise UserError(
            "no schemas module configured: set schemas in [tool.hedystia-models] or pass --schemas"
        )
    for path in (str(Path.cwd()), str(settings.root)):
        if path not in sys.path:
            sys.path.insert(0, path)
    importlib.invalidate_caches()  # files written moments ago (by `schema create`) are seen
    try:
        # A package's submodules are imported here too, so their errors are reported alike.
        return normalize_schemas(importlib.import_module(settings.schemas))
    except HedystiaError:
        raise  # already names the model or table at fault
    except Exception as exc:
        # Whatever the module raised (ImportError, SyntaxError, a Pydantic error...), the user
        # needs one line naming the module; --verbose shows the traceback.
        text = str(exc).strip()
        where = ""
        if isinstance(exc, SyntaxError) and exc.filename:
            # str() of a SyntaxError already ends with "(<file name>, line N)": name the
            # full path once instead.
            text = (exc.msg or "").strip()
            where = f" ({exc.filename}, line {exc.lineno})"
        detail = text.splitlines()[0] if text else ""
        raise SchemasImportError(
            f"cannot import the schemas module {settings.schemas!r}: "
            f"{type(exc).__name__}: {detail}{where}"
        ) from exc


def _open(
    ctx: click.Context,
    *,
    need_schemas: bool = True,
    need_migrations: bool = False,
    load_migrations: bool = True,
    read_only: bool = False,
) -> Database:
    """Open the configured database. Migration files are loaded only when ``load_migrations``
    (so a broken migration file does not stop ``sync`` or ``history``); ``need_migrations``
    makes a missing migrations directory an error. A command that only reads (``read_only``)
    treats a database file that does not exist as an empty database instead of creating it."""
    settings = _settings(ctx)
    if not settings.connection:
        raise UserError(
            "no database configured: set connection in [tool.hedystia-models], "
            "HEDYSTIA_DATABASE, or pass --connection"
        )
    schemas = _import_schemas(settings) if need_schemas else {}
    migrations = None
    if settings.migrations.is_dir():
        migrations = settings.migrations if load_migrations else None
    elif need_migrations or (load_migrations and settings.migrations_configured):
        # A directory that was named explicitly but is missing is a typo, not "no migrations".
        problem = "is not a directory" if settings.migrations.exists() else "does not exist"
        raise UserError(f"migrations directory {str(settings.migrations)!r} {problem}")
    connection = settings.connection
    if read_only and connection != ":memory:" and not Path(connection).exists():
        connection = ":memory:"  # the same answers as an empty file, without creating one
    return database(
        schemas=schemas,
        connection=connection,
        migrations=migrations,
        busy_timeout=ctx.find_root().obj["busy_timeout"],
    )


def _emit_json(data: Any) -> None:
    click.echo(json.dumps(data, indent=2, default=str))


def _slug(name: str) -> str:
    """``"Add karma"``, ``"add-karma"`` and ``"AddKarma"`` all become ``add_karma``."""
    words = re.sub(r"(?<=[a-z0-9])(?=[A-Z])", "_", name)
    slug = re.sub(r"[^0-9a-zA-Z]+", "_", words).strip("_").lower()
    if not slug:
        raise UserError(f"{name!r} is not a usable name")
    return slug


def _class_name(name: str) -> str:
    return "".join(part.capitalize() for part in _slug(name).split("_"))


def _shown(path: Path) -> str:
    """``path`` relative to the working directory when it is below it."""
    try:
        return str(path.resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(path)


def _write_new(path: Path, text: str) -> None:
    if path.exists():
        raise UserError(f"{_shown(path)} already exists; not overwriting it")
    for folder in (path.parent, *path.parent.parents):
        if folder.exists() and not folder.is_dir():
            raise UserError(f"cannot write {_shown(path)}: {_shown(folder)} is a file")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")


# -- schema -----------------------------------------------------------------------------------


@main.group(cls=ShorthandGroup)
def schema() -> None:
    """Scaffold table models (`schema NAME` is short for `schema create NAME`)."""


SCHEMA_TEMPLATE = '''"""The {table} table."""

from __future__ import annotations

from datetime import datetime

from hedystia_models import Field, Table, utcnow


class {cls}(Table, table="{table}"):
    id: int | None = Field(default=None, primary_key=True, auto_increment=True)
    created_at: datetime = Field(default_factory=utcnow)
    updated_at: datetime = Field(default_factory=utcnow)
'''


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
    with _errors(ctx):
        table = _slug(name)
        cls = _class_name(name)
        if not cls.isidentifier():
            raise UserError(f"{name!r} does not give a class name; start it with a letter")
        settings = _settings(ctx)
        folder = Path(directory) if directory else _schemas_directory(settings)
        target = folder / f"{table}.py"
        _write_new(target, SCHEMA_TEMPLATE.format(table=table, cls=cls))
        init = target.parent / "__init__.py"
        if not init.exists():
            init.write_text('"""Table models."""\n', encoding="utf-8")
        click.echo(f"created {_shown(target)}")
        package = _schemas_package(settings)
        if package is None or package.resolve() != folder.resolve():
            click.echo(
                f"note: {_shown(target)} is outside the configured schemas module "
                f"({settings.schemas or 'none configured'}); import {cls} there, or set schemas "
                "in [tool.hedystia-models], so sync sees it",
                err=True,
            )


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


# -- migrations -------------------------------------------------------------------------------


@main.group(cls=ShorthandGroup)
def migration() -> None:
    """Scaffold migrations (`migration NAME` is short for `migration create NAME`)."""


MIGRATION_TEMPLATE = '''"""Migration {name}."""

from hedystia_models import migration
from hedystia_models.context import MigrationContext


def up(ctx: MigrationContext) -> None:
    pass


def down(ctx: MigrationContext) -> None:
    pass


migration_ = migration({name!r}, up=up, down=down)
'''


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
    with _errors(ctx):
        settings = _settings(ctx)
        folder = Path(directory) if directory else settings.migrations
        slug = _slug(name)
        stem = slug if no_id else f"{datetime.now(timezone.utc):%Y%m%d%H%M%S}_{slug}"
        if auto:
            with _open(ctx, load_migrations=settings.migrations.is_dir(), read_only=True) as db:
                pending = db.migration_status().pending
                if pending:
                    raise UserError(
                        f"{len(pending)} migration(s) pending ({', '.join(pending)}): run "
                        "`migrate up` first, or the new migration would repeat their changes"
                    )
                plan = db.plan()
            if plan.in_sync:
                click.echo("database matches the models: nothing to generate, no file written")
                return
            text = render_migration(stem, plan)
        else:
            text = MIGRATION_TEMPLATE.format(name=stem)
        target = folder / f"{stem}.py"
        _write_new(target, text)
        click.echo(f"created {_shown(target)}")
        if auto:
            unsafe = len(plan.unsafe) + len(plan.blocked)
            if unsafe:
                click.echo(
                    f"note: {unsafe} difference(s) were written as comments; review them",
                    err=True,
                )


@main.group()
def migrate() -> None:
    """Apply, roll back and inspect migrations."""


@migrate.command("up")
@click.pass_context
def migrate_up(ctx: click.Context) -> None:
    """Apply every pending migration, in order."""
    with _errors(ctx), _open(ctx, need_schemas=False, need_migrations=True) as db:
        applied = db.migrate_up()
    if not applied:
        click.echo("no pending migrations")
    for name in applied:
        click.echo(f"applied {name}")


@migrate.command("down")
@click.option(
    "--steps",
    type=click.IntRange(min=1),
    default=1,
    show_default=True,
    help="How many of the newest applied migrations to roll back.",
)
@click.pass_context
def migrate_down(ctx: click.Context, steps: int) -> None:
    """Roll back the newest applied migrations."""
    with _errors(ctx), _open(ctx, need_schemas=False, need_migrations=True, read_only=True) as db:
        rolled = db.migrate_down(steps)
    if not rolled:
        click.echo("no applied migrations to roll back")
    for name in rolled:
        click.echo(f"rolled back {name}")


@migrate.command("status")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@click.pass_context
def migrate_status(ctx: click.Context, as_json: bool) -> None:
    """Applied (with times), pending, edited-after-apply and missing-from-code migrations."""
    with _errors(ctx), _open(ctx, need_schemas=False, need_migrations=True, read_only=True) as db:
        status = db.migration_status()
    if as_json:
        _emit_json(status.to_dict())
        return
    for applied in status.applied:
        flag = " (EDITED after it was applied)" if applied.edited else ""
        flag += " (MISSING from the code)" if applied.missing else ""
        click.echo(f"applied  {applied.executed_at}  {applied.name}{flag}")
    for name in status.pending:
        click.echo(click.style(f"pending  {name}", fg="yellow"))
    if not status.applied and not status.pending:
        click.echo("no migrations")


@main.command()
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@click.pass_context
def history(ctx: click.Context, as_json: bool) -> None:
    """Every row of __hedystia_migrations: syncs and migrations, oldest first."""
    with _errors(ctx), _open(ctx, need_schemas=False, load_migrations=False, read_only=True) as db:
        entries = db.history()
    if as_json:
        _emit_json([vars(e) for e in entries])
        return
    if not entries:
        click.echo("no history yet")
    for entry in entries:
        click.echo(f"{entry.executed_at}  {entry.kind:<9}  {entry.name}")
        for statement in entry.statements:
            click.echo("    " + statement.replace("\n", "\n    ") + ";")


# -- sync and check ---------------------------------------------------------------------------


@main.command()
@click.option("--dry-run", is_flag=True, help="Print the plan without applying it.")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output (with --dry-run).")
@click.pass_context
def sync(ctx: click.Context, dry_run: bool, as_json: bool) -> None:
    """Print the plan (SQL and unsafe findings) and apply its safe part."""
    with _errors(ctx), _open(ctx, load_migrations=False, read_only=dry_run) as db:
        plan = db.plan()
        if as_json:
            _emit_json(plan.to_dict())
        else:
            click.echo(str(plan))
        if not dry_run and plan:
            # The plan printed above already lists what sync leaves alone; its log warnings
            # would repeat that on stderr (kept with --verbose).
            quiet = not ctx.find_root().obj["verbose"]
            logger = logging.getLogger("hedystia_models")
            level = logger.level
            if quiet:
                logger.setLevel(logging.ERROR)
            try:
                db.sync()
            finally:
                logger.setLevel(level)
            if not as_json:
                click.echo(click.style("applied", fg="green"))


@main.command()
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@click.pass_context
def check(ctx: click.Context, as_json: bool) -> None:
    """Exit 0 only when the database matches the models, no migration is pending and no
    applied migration was edited; otherwise exit 1 listing what differs. Meant for CI."""
    with _errors(ctx), _open(ctx, read_only=True) as db:
        problems = db.check()
    if as_json:
        _emit_json({"ok": not problems, "problems": problems})
    elif problems:
        click.echo(click.style("database and models differ:", fg="red"))
        for problem in problems:
            click.echo(f"  - {problem}")
    else:
        click.echo(click.style("ok: database matches the models", fg="green"))
    if problems:
        ctx.exit(1)
