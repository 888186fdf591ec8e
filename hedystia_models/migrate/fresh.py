"""Prove that the migration history replays: build a scratch database from nothing, the way a
teammate's fresh clone would, and compare it with the models and with the real database.

:func:`check_fresh` is what ``hedystia-models check --fresh`` and
:meth:`hedystia_models.Database.check_fresh` run; :func:`schema_differences` compares two
described databases the way the differ compares a database with the models, naming each side.
"""

from __future__ import annotations

import sqlite3
import tempfile
from collections.abc import Collection, Iterable, Sequence
from pathlib import Path
from typing import Any

import sqlite_utils

from ..database import database
from ..engine.sqlite.introspect import read_database
from ..errors import HedystiaError
from ..model.schemas import normalize_schemas
from ..model.table import table_info
from ..schema.index import IndexSpec
from ..schema.quoting import fold_identifier
from ..schema.sqltext import sql_words
from ..schema.state import DatabaseState
from .definitions import MigrationDefinition
from .diff import diff
from .loading import load_migrations
from .operations import (
    AddColumn,
    AlterColumn,
    AlterIndex,
    AlterTable,
    CreateIndex,
    CreateTable,
    DropColumn,
    DropIndex,
    DropTable,
    Operation,
)
from .plan import PlannedOperation
from .planner import ignore_patterns, refuse_ignored_specs, without_ignored

__all__ = [
    "FRESH",
    "MODELS",
    "REAL",
    "check_fresh",
    "describe_difference",
    "replay_problems",
    "schema_differences",
    "start_failure",
]

#: How the lines of :func:`check_fresh` name the three sides.
MODELS = "the models"
FRESH = "the fresh database"
REAL = "the real database"


def check_fresh(
    models: Any,
    migrations: Any,
    *,
    against: sqlite_utils.Database | None = None,
    ignore_tables: Collection[str] | None = None,
) -> list[str]:
    """Replay the whole history on a scratch database and list what goes wrong, one line each
    (empty: the history replays to exactly the models, and to ``against`` when given).

    The scratch database lives in a temporary file, deleted afterwards; ``against`` is only
    read. It is built the way a fresh clone starts:
    ``database(schemas=models, connection=<scratch>, migrations=migrations,
    sync_schemas=True, run_migrations=True)`` (tables from the models, then every migration,
    then the rest of the sync; see :meth:`hedystia_models.Database.upgrade`). The lines:

    - ``fresh start fails: <error>``: the start-up raised, for example a migration whose raw
      ``ctx.sql`` assumes a state only the developer's file had (the error names the
      migration). Nothing else is compared then.
    - the scratch schema differs from the models: one line per operation of its plan, unsafe
      ones included, such as ``column users.legacy is in the fresh database but not in the
      models`` (a migration added a column no model declares).
    - with ``against``: each difference between the real database and the scratch one, both
      ways: a table, column, index, view or trigger on one side only
      (``index users_name_idx on users is in the real database but not in the fresh
      database``), or one that differs (``column users.age differs: type TEXT -> INTEGER
      (the real database -> the fresh database)``).

    "The same schema" is decided as the differ decides it (the specs of
    :mod:`hedystia_models.schema.spec`, compared by :mod:`hedystia_models.schema.compare`):
    tables and columns (type, ``NOT NULL``, default by value, primary key, ``AUTOINCREMENT``,
    ``UNIQUE``, ``CHECK``, ``REFERENCES``), table constraints (primary key order, multi-column
    ``UNIQUE`` and foreign keys, table ``CHECK``), indexes (keys, uniqueness, partial
    ``WHERE``), and, between the two databases, views and triggers by name and SQL. Ignored:
    how the stored SQL is spelled (quoting, case, spacing, comments, what ``ALTER TABLE`` appended
    where a rebuild writes it anew), the order of columns, what a spec cannot express (sort order
    and collation of index keys, ``COLLATE``, ``STRICT``, ``WITHOUT ROWID``), the rows and the
    ``AUTOINCREMENT`` counters, the bookkeeping tables ``__hedystia_migrations`` and
    ``__hedystia_state``, SQLite's own ``sqlite_*`` tables, and virtual tables with their shadow
    tables. Whether the real database has pending or edited migrations is
    :meth:`hedystia_models.Database.check`'s business, not this function's.

    :param models: what ``database(schemas=...)`` accepts: a list or dict of ``Table`` models,
        or a module holding them.
    :param migrations: what ``database(migrations=...)`` accepts: a list or dict of
        definitions, a module or package, a directory of migration files, or ``None``.
    :param against: the real database, to compare with the replayed one.
    :param ignore_tables: what ``database(ignore_tables=...)`` accepts: the tables other tools
        own, left out on every side (views and triggers are still compared).
    """
    # The models and migrations are the caller's: a mistake in them is raised, not reported as
    # a history that does not replay.
    schemas = normalize_schemas(models)
    definitions: list[MigrationDefinition] = load_migrations(migrations)
    ignored = ignore_patterns(ignore_tables)
    refuse_ignored_specs((table_info(model).spec for model in schemas.values()), ignored)
    with tempfile.TemporaryDirectory(prefix="hedystia-fresh-") as folder:
        try:
            scratch = database(
                schemas=schemas,
                connection=Path(folder) / "fresh.db",
                migrations=definitions,
                sync_schemas=True,
                run_migrations=True,
                ignore_tables=ignored,
            )
        except (HedystiaError, sqlite3.Error) as exc:
            return [start_failure(exc)]
        try:
            states = (
                None if against is None else (read_database(scratch.sqlite), read_database(against))
            )
            problems = replay_problems(scratch.plan(), states, ignored)
        finally:
            scratch.close()
    return problems


def start_failure(exc: BaseException) -> str:
    """The line of :func:`check_fresh` for a fresh start that raised ``exc``."""
    return f"fresh start fails: {_one_line(exc)}"


def replay_problems(
    plan: Iterable[PlannedOperation],
    states: tuple[DatabaseState, DatabaseState] | None,
    ignored: Sequence[str],
) -> list[str]:
    """The lines of :func:`check_fresh` once the history replayed (on either engine): each
    operation of the scratch database's ``plan`` (it differs from the models), then, given the
    ``states`` of the fresh and the real database, each difference between them."""
    problems = [describe_difference(op.operation, MODELS, FRESH) for op in plan]
    if states is not None:
        fresh, real = states
        problems += schema_differences(
            without_ignored(fresh, ignored),
            without_ignored(real, ignored),
            desired_name=FRESH,
            actual_name=REAL,
        )
    return problems


def schema_differences(
    desired: DatabaseState, actual: DatabaseState, *, desired_name: str, actual_name: str
) -> list[str]:
    """Every difference between two described databases, one line each (empty: the same
    schema, as :func:`check_fresh` defines it): the differ's operations from ``actual`` to
    ``desired`` (every table, column and index on one side only or different; whether tables
    hold rows plays no part), then the views and triggers on one side only or different.
    ``desired_name`` and ``actual_name`` name the sides in the lines (``"the fresh
    database"``)."""
    # Without rows every add is safe, so no index on a column whose add would be blocked is
    # left out of the plan: everything that differs is named.
    bare = DatabaseState(tables=actual.tables, tables_with_rows=frozenset())
    lines = [
        describe_difference(op.operation, desired_name, actual_name)
        for op in diff(list(desired.tables.values()), bare)
    ]
    wanted = {(d.kind, fold_identifier(d.name)): d for d in desired.dependents}
    found = {(d.kind, fold_identifier(d.name)): d for d in actual.dependents}
    for key in sorted(wanted.keys() | found.keys()):
        mine, theirs = wanted.get(key), found.get(key)
        if theirs is None:
            assert mine is not None
            lines.append(f"{mine.kind} {mine.name} is in {desired_name} but not in {actual_name}")
        elif mine is None:
            lines.append(
                f"{theirs.kind} {theirs.name} is in {actual_name} but not in {desired_name}"
            )
        elif sql_words(mine.sql) != sql_words(theirs.sql):
            lines.append(
                f"{mine.kind} {mine.name} differs: {actual_name} has {_flat(theirs.sql)}, "
                f"{desired_name} has {_flat(mine.sql)}"
            )
    return lines


def describe_difference(operation: Operation, desired_name: str, actual_name: str) -> str:
    """One line saying how the ``actual_name`` side differs from the ``desired_name`` side,
    for an operation of a plan that takes the first to the second."""
    here = f"is in {desired_name} but not in {actual_name}"
    there = f"is in {actual_name} but not in {desired_name}"
    direction = f"({actual_name} -> {desired_name})"
    t = operation.table
    if isinstance(operation, CreateTable):
        return f"table {t} {here}"
    if isinstance(operation, DropTable):
        return f"table {t} {there}"
    if isinstance(operation, AddColumn):
        return f"column {t}.{operation.spec.name} {here}"
    if isinstance(operation, DropColumn):
        return f"column {t}.{operation.spec.name} {there}"
    if isinstance(operation, AlterColumn):
        changes = "; ".join(operation.changes) or "another definition"
        return f"column {t}.{operation.actual.name} differs: {changes} {direction}"
    if isinstance(operation, AlterTable):
        changes = "; ".join(operation.changes) or "other constraints"
        return f"table {t} differs: {changes} {direction}"
    if isinstance(operation, CreateIndex):
        return f"index {operation.index.name} on {t} {here}"
    if isinstance(operation, DropIndex):
        return f"index {operation.index.name} on {t} {there}"
    if isinstance(operation, AlterIndex):
        return (
            f"index {operation.actual.name} on {t} differs: {actual_name} has "
            f"{_index(operation.actual)}, {desired_name} has {_index(operation.desired)}"
        )
    return f"{operation.describe()} {direction}"  # pragma: no cover - the differ makes no other


def _index(index: IndexSpec) -> str:
    text = f"{'unique ' if index.unique else ''}({index.keys_text()})"
    return f"{text} WHERE {index.where}" if index.where else text


def _flat(sql: str) -> str:
    return " ".join(sql.split())


def _one_line(exc: BaseException) -> str:
    """An error message on one line: its detail lines (indented under the first) joined."""
    lines: Sequence[str] = [line.strip() for line in str(exc).splitlines() if line.strip()]
    if not lines:
        return type(exc).__name__
    head, *rest = lines
    return f"{head} {'; '.join(rest)}" if rest else head
