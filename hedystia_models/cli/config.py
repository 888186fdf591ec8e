"""CLI settings: ``[tool.hedystia-models]`` in pyproject.toml, the environment, and flags.

The connection is a SQLite file, or a ``postgresql://`` URL (the CLI then opens it with
``database="postgres"``). Precedence, strongest first: command-line flag, the
``HEDYSTIA_DATABASE`` environment variable (for the connection only), then ``pyproject.toml``
(found by walking up from the working directory), then the defaults. ``ignore_tables`` is the
one list: patterns given on the command line, when there are any, replace those of
``pyproject.toml``.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..engine.sqlite.pool import JOURNAL_MODES
from ..errors import ConfigurationError
from ..migrate.planner import ignore_patterns

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on Python 3.10 only
    import tomli as tomllib

__all__ = [
    "DEFAULT_MIGRATIONS",
    "DEFAULT_SCHEMAS_PATH",
    "ENV_DATABASE",
    "Settings",
    "is_postgres_url",
    "load_settings",
]

ENV_DATABASE = "HEDYSTIA_DATABASE"
DEFAULT_MIGRATIONS = "database/migrations"
DEFAULT_SCHEMAS_PATH = "database/schemas"


@dataclass(frozen=True)
class Settings:
    """Resolved CLI settings. ``root`` is the directory holding pyproject.toml (or the working
    directory when there is none); relative paths are resolved against it."""

    root: Path
    schemas: str | None
    migrations: Path
    connection: str | None
    pyproject: Path | None
    migrations_configured: bool = False  # named by the --migrations flag
    #: Tables other tools own (names or ``fnmatch`` patterns), as ``database(ignore_tables=)``.
    ignore_tables: tuple[str, ...] = ()
    #: The journal mode a file is put in before the first write, as ``database(journal_mode=)``.
    journal_mode: str = "wal"


def is_postgres_url(connection: str) -> bool:
    """True for a PostgreSQL connection URL (``postgresql://`` or ``postgres://``): the CLI
    opens it with ``database="postgres"``; anything else is a SQLite file."""
    return connection.startswith(("postgresql://", "postgres://"))


def find_pyproject(start: Path) -> Path | None:
    """The nearest pyproject.toml in ``start`` or one of its parents."""
    for directory in (start, *start.parents):
        candidate = directory / "pyproject.toml"
        if candidate.is_file():
            return candidate
    return None


#: The keys of ``[tool.hedystia-models]`` whose value is a string, and those holding a list of
#: strings.
_STRING_KEYS = ("schemas", "migrations", "connection", "journal_mode")
_LIST_KEYS = ("ignore_tables",)


def _read_section(path: Path) -> dict[str, Any]:
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise ConfigurationError(f"cannot read {path}: {exc}") from exc
    tool = data.get("tool", {})
    tool = tool if isinstance(tool, dict) else {}
    for name in tool:
        # A section spelt another way would be ignored, and every setting with it.
        if name != "hedystia-models" and _loose_name(name) == "hedystiamodels":
            raise ConfigurationError(
                f"{path}: [tool.{name}] is not read; the section is [tool.hedystia-models]"
            )
    section = tool.get("hedystia-models", {})
    if not isinstance(section, dict):
        raise ConfigurationError(f"{path}: [tool.hedystia-models] must be a table")
    unknown = set(section) - {*_STRING_KEYS, *_LIST_KEYS}
    if unknown:
        raise ConfigurationError(
            f"{path}: unknown key(s) in [tool.hedystia-models]: {', '.join(sorted(unknown))} "
            "(known: schemas, migrations, connection, ignore_tables, journal_mode)"
        )
    for key, value in section.items():
        if key in _LIST_KEYS:
            if not isinstance(value, list) or not all(
                isinstance(item, str) and item.strip() for item in value
            ):
                raise ConfigurationError(
                    f"{path}: {key} in [tool.hedystia-models] must be a list of non-empty "
                    f'strings, such as {key} = ["django_*", "alembic_version"] '
                    f"(got {type(value).__name__}: {value!r})"
                )
        elif not isinstance(value, str):
            raise ConfigurationError(
                f"{path}: {key} in [tool.hedystia-models] must be a string "
                f"(got {type(value).__name__}: {value!r})"
            )
        elif not value.strip():
            # Read as not set, it would mean the default (or nothing) without a word.
            raise ConfigurationError(
                f"{path}: {key} in [tool.hedystia-models] must not be empty (leave the key out "
                "for the default)"
            )
    mode = section.get("journal_mode")
    if mode is not None and mode not in JOURNAL_MODES:
        raise ConfigurationError(
            f"{path}: journal_mode in [tool.hedystia-models] must be one of "
            f"{', '.join(JOURNAL_MODES)} (got {mode!r})"
        )
    return section


def _loose_name(name: str) -> str:
    """A section name without case, ``-``, ``_``, ``.`` and spaces: ``Hedystia_Models`` and
    ``hedystia-models`` are both ``hedystiamodels``."""
    return "".join(c for c in name.lower() if c not in "-_. ")


def load_settings(
    *,
    cwd: Path | None = None,
    schemas: str | None = None,
    migrations: str | None = None,
    connection: str | None = None,
    ignore_tables: Sequence[str] | None = None,
    environ: dict[str, str] | None = None,
) -> Settings:
    """Resolve settings from flags (the keyword arguments), environment and pyproject.toml.
    ``ignore_tables``, patterns given on the command line, replaces the list in pyproject.toml
    when it holds any."""
    here = (cwd or Path.cwd()).resolve()
    env = os.environ if environ is None else environ
    pyproject = find_pyproject(here)
    section = _read_section(pyproject) if pyproject else {}
    root = pyproject.parent if pyproject else here
    # A flag or the environment is relative to the working directory, like any shell
    # argument; a path in pyproject.toml is relative to the file that holds it.
    # An empty HEDYSTIA_DATABASE (a CI template's blank variable) counts as unset.
    chosen_connection = connection or env.get(ENV_DATABASE) or None
    if chosen_connection is None and section.get("connection"):
        configured = str(section["connection"])
        kept = configured == ":memory:" or is_postgres_url(configured)
        chosen_connection = configured if kept else str(root / configured)
    chosen_migrations = Path(migrations or section.get("migrations") or DEFAULT_MIGRATIONS)
    if not chosen_migrations.is_absolute():
        chosen_migrations = (here if migrations else root) / chosen_migrations
    chosen_ignore = ignore_patterns(
        list(ignore_tables) if ignore_tables else section.get("ignore_tables"),
        setting="ignore_tables" if not ignore_tables else "--ignore-table",
    )
    return Settings(
        root=root,
        schemas=schemas or section.get("schemas"),
        migrations=chosen_migrations,
        connection=chosen_connection,
        pyproject=pyproject,
        migrations_configured=bool(migrations),
        ignore_tables=chosen_ignore,
        journal_mode=section.get("journal_mode", "wal"),
    )
