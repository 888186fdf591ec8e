"""The user's project as the commands see it: its settings, its schemas module and its database.

:func:`project_settings` resolves the settings (:mod:`.config`) for the global options given;
:func:`import_schemas` imports the configured schemas module; :func:`open_database` opens the
configured database with the models and migrations a command needs.
"""

from __future__ import annotations

import importlib
import sys
from pathlib import Path

import click

from ..database import Database, database
from ..errors import HedystiaError
from ..model.schemas import normalize_schemas
from ..model.table import Table
from .config import Settings, is_postgres_url, load_settings
from .errors import UserError
from .options import global_options

__all__ = ["SchemasImportError", "import_schemas", "open_database", "project_settings"]


class SchemasImportError(HedystiaError):
    """The configured schemas module raised while being imported."""


def project_settings(ctx: click.Context) -> Settings:
    """The settings for the global options of ``ctx``: flags, environment and pyproject.toml.
    An unreadable or invalid pyproject.toml is a :class:`UserError`."""
    options = global_options(ctx)
    try:
        return load_settings(
            schemas=options.schemas, migrations=options.migrations, connection=options.connection
        )
    except HedystiaError as exc:
        raise UserError(str(exc)) from exc


def import_schemas(settings: Settings) -> dict[str, type[Table]]:
    """Import the configured schemas module and return its Table models by table name.

    The working directory and the project directory are put on ``sys.path`` first, so the
    project need not be installed. Whatever the module raises becomes one
    :class:`SchemasImportError` naming the module.
    """
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


def open_database(
    ctx: click.Context,
    *,
    need_schemas: bool = True,
    need_migrations: bool = False,
    load_migrations: bool = True,
    read_only: bool = False,
) -> Database:
    """Open the configured database.

    The schemas module is imported only when ``need_schemas``. Migration files are loaded only
    when ``load_migrations`` (so a broken migration file does not stop ``sync`` or
    ``history``); ``need_migrations`` makes a missing migrations directory an error, and so
    does a missing directory named by ``--migrations`` whenever migrations are loaded. A
    command that only reads (``read_only``) treats a database file that does not exist as an
    empty database instead of creating it. The configured ``ignore_tables`` are passed on, so
    no command reports or touches the tables other tools own.
    """
    settings = project_settings(ctx)
    if not settings.connection:
        raise UserError(
            "no database configured: set connection in [tool.hedystia-models], "
            "HEDYSTIA_DATABASE, or pass --connection"
        )
    schemas = import_schemas(settings) if need_schemas else {}
    migrations = None
    if settings.migrations.is_dir():
        migrations = settings.migrations if load_migrations else None
    elif need_migrations or (load_migrations and settings.migrations_configured):
        # A directory that was named explicitly but is missing is a typo, not "no migrations".
        problem = "is not a directory" if settings.migrations.exists() else "does not exist"
        raise UserError(f"migrations directory {str(settings.migrations)!r} {problem}")
    connection = settings.connection
    if is_postgres_url(connection):
        return database(
            schemas=schemas,
            database="postgres",
            connection=connection,
            migrations=migrations,
            busy_timeout=global_options(ctx).busy_timeout,
            ignore_tables=settings.ignore_tables,
        )
    if read_only and connection != ":memory:" and not Path(connection).exists():
        connection = ":memory:"  # the same answers as an empty file, without creating one
    return database(
        schemas=schemas,
        connection=connection,
        migrations=migrations,
        busy_timeout=global_options(ctx).busy_timeout,
        ignore_tables=settings.ignore_tables,
        journal_mode=settings.journal_mode,
    )
