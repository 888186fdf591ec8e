"""Assertions for a project's own test suite: prove in CI that the migration history replays.

In the spirit of pytest-alembic's built-in tests. Each function raises ``AssertionError`` with
a message listing every problem, one per line, and returns ``None`` when all is well; nothing
here imports pytest, so they work under any test runner. The two that take the models and the
migrations build their own scratch database in a temporary file and never touch the project's
database; the two that take a :class:`~hedystia_models.Database` only read it.

A project's ``tests/test_migrations.py``:

    from pathlib import Path

    from app import schemas
    from hedystia_models import testing

    MIGRATIONS = Path(__file__).parent.parent / "database" / "migrations"

    def test_a_fresh_clone_gets_exactly_the_models():
        testing.assert_fresh_start_matches_models(schemas, MIGRATIONS)

    def test_every_migration_rolls_back_and_reapplies():
        testing.assert_migrations_round_trip(schemas, MIGRATIONS)

With a database the project opens itself (a fixture, or the file CI has just migrated):

    def test_the_database_is_up_to_date(db):
        testing.assert_no_migration_edited(db)
        testing.assert_database_matches(db)
"""

from __future__ import annotations

import tempfile
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .database import Database
from .engine.sqlite.introspect import INTERNAL_TABLES, read_database
from .errors import MigrationError
from .migrate import history
from .migrate.fresh import check_fresh, schema_differences
from .migrate.loading import load_migrations
from .migrate.sync import create_missing_tables
from .model.schemas import normalize_schemas
from .schema.quoting import fold_identifier
from .schema.sqltext import sql_words
from .schema.state import DatabaseState

__all__ = [
    "assert_database_matches",
    "assert_fresh_start_matches_models",
    "assert_migrations_round_trip",
    "assert_no_migration_edited",
]


def _fail(heading: str, problems: Iterable[str]) -> None:
    lines = list(problems)
    if lines:
        raise AssertionError("\n  - ".join([heading, *lines]))


def assert_fresh_start_matches_models(models: Any, migrations: Any) -> None:
    """The whole history replays on an empty database, the way a teammate's fresh clone
    starts (``sync_schemas=True, run_migrations=True``), and ends in exactly the models.

    Fails when a migration raises on a fresh database (a raw ``ctx.sql`` that assumes what only
    the developer's file had, say: the message names the migration), or when the replayed
    schema differs from the models in any way, unsafe differences included (a migration added
    a column no model declares). See :func:`hedystia_models.migrate.fresh.check_fresh` for what
    "the same schema" ignores. ``models`` and ``migrations`` are what ``database(schemas=...,
    migrations=...)`` accept.

    Usage: ``assert_fresh_start_matches_models(app.schemas, "database/migrations")``.
    """
    _fail(
        "the migration history does not replay on a fresh database to exactly the models:",
        check_fresh(models, migrations),
    )


def assert_migrations_round_trip(
    models: Any, migrations: Any, *, irreversible: Iterable[str] = ()
) -> None:
    """Every migration can be rolled back and applied again, one step at a time.

    A scratch database (a temporary file) starts like a fresh clone: the tables the models
    declare are created, then the migrations run one at a time (``Migrator.up(steps=1)``; the
    tables made from the models stay provisional for each of them, as in one start-up).
    Right after each migration's ``up``, its ``down`` runs and then its ``up`` again, and:

    - ``down`` and the second ``up`` must succeed;
    - after ``down`` the schema must be the one before ``up``, as the differ compares schemas
      (tables, columns, indexes, views, triggers; the stored spelling may change when ``down``
      rebuilds a table);
    - after the second ``up`` the schema must be exactly the one the first ``up`` gave: the
      SQL SQLite stores for every table, index, view and trigger (compared word by word:
      spacing, comments, quoting and the case of keywords and names aside) and the specs.

    A migration whose first ``up`` depended on what start-up had made from the models (a step
    converged on a table the models made, or replaced one: its history row carries a note such
    as ``-- already done: ...`` or ``-- replaced: ...``) has no effect of its own to compare
    with: for it the schema before ``up`` is not compared, and the second ``up`` is compared as
    the differ compares (a column ``down`` dropped comes back at the end of the table, where
    the models had it elsewhere). So a ``down`` that forgets its work goes unnoticed on such a
    migration; the others catch it.

    A migration without ``down`` is a failure, unless it is named in ``irreversible``: then it
    is only applied, and naming one that has a ``down`` (or does not exist) is a failure too,
    so the list cannot go stale. A step that fails stops the check when the later migrations
    could not run on what it left.

    Usage: ``assert_migrations_round_trip(app.schemas, "database/migrations")``.
    """
    definitions = load_migrations(migrations)
    schemas = normalize_schemas(models)
    allowed = set(irreversible)
    known = {d.name for d in definitions}
    problems = [
        f"{name}: named in irreversible= but there is no such migration"
        for name in sorted(allowed - known)
    ]
    with tempfile.TemporaryDirectory(prefix="hedystia-round-trip-") as folder:
        db = Database(
            schemas=schemas, connection=Path(folder) / "round_trip.db", migrations=definitions
        )
        try:
            problems += _round_trip(db, allowed)
        finally:
            db.close()
    _fail("the migrations do not round-trip (up, down, up) on a fresh database:", problems)


def _round_trip(db: Database, irreversible: set[str]) -> list[str]:
    """The problems of :func:`assert_migrations_round_trip` on ``db``, a scratch database."""
    problems: list[str] = []
    definitions = db.migrations
    migrator = db.migrator
    provisional = [op.table for op in create_missing_tables(db.sqlite, db.specs, db.executor)]
    for position, definition in enumerate(definitions):
        name = definition.name
        later = [d.name for d in definitions[position + 1 :]]
        stopped = f"; not checked after it: {', '.join(later)}" if later else ""
        before = _Snapshot.read(db)
        try:
            migrator.up(steps=1, provisional=provisional)
        except MigrationError as exc:
            problems.append(f"{name}: up fails on a fresh database: {exc}{stopped}")
            break
        after = _Snapshot.read(db)
        converged = _found_work_done(db, name)
        if definition.down is None:
            if name not in irreversible:
                problems.append(
                    f"{name}: has no down, so it cannot be rolled back (name it in "
                    "irreversible= if that is intended)"
                )
            continue
        if name in irreversible:
            problems.append(
                f"{name}: named in irreversible= but it has a down; take it off the list so "
                "its round trip is checked"
            )
        try:
            migrator.down(1)
        except MigrationError as exc:
            problems.append(f"{name}: down fails right after up: {exc}")
            continue  # rolled back: the migration stays applied, the next ones can run
        undone = _Snapshot.read(db)
        if not converged:
            problems += [
                f"{name}: down does not undo up: {line}"
                for line in schema_differences(
                    before.state,
                    undone.state,
                    desired_name="the schema before up",
                    actual_name="the schema after up and down",
                )
            ]
        try:
            migrator.up(steps=1, provisional=provisional)
        except MigrationError as exc:
            problems.append(f"{name}: up fails again after down: {exc}{stopped}")
            break
        again = _Snapshot.read(db)
        differences = schema_differences(
            after.state,
            again.state,
            desired_name="the schema after up",
            actual_name="the schema after up, down and up again",
        )
        if not converged and not differences:
            differences = after.sql_differences(again)
        problems += [
            f"{name}: down then up does not give back the same schema: {line}"
            for line in differences
        ]
    return problems


def _found_work_done(db: Database, name: str) -> bool:
    """True when migration ``name``'s history row carries a note (a statement that is an SQL
    comment, such as ``-- already done: ...`` or ``-- replaced: ...``): a step found its work
    done, or replaced a table start-up had made from the models."""
    for entry in history.read_history(db.conn):
        if entry.kind == "migration" and entry.name == name:
            return any(statement.lstrip().startswith("--") for statement in entry.statements)
    return False


@dataclass(frozen=True)
class _Snapshot:
    """A database's schema: the stored SQL of every user object, and its introspection."""

    sql: dict[tuple[str, str], tuple[str, str]]  # (type, folded name) -> (name, sql)
    state: DatabaseState

    @classmethod
    def read(cls, db: Database) -> _Snapshot:
        rows = db.conn.execute(
            "SELECT type, name, tbl_name, sql FROM sqlite_master WHERE sql IS NOT NULL"
        ).fetchall()
        sql = {
            (kind, fold_identifier(name)): (name, text)
            for kind, name, table, text in rows
            if not _internal(name) and not _internal(table)
        }
        return cls(sql, read_database(db.sqlite))

    def sql_differences(self, other: _Snapshot) -> list[str]:
        """How ``other``'s stored SQL differs from this one's, word by word."""
        lines: list[str] = []
        for key in sorted(self.sql.keys() | other.sql.keys()):
            kind = key[0]
            mine, theirs = self.sql.get(key), other.sql.get(key)
            if theirs is None:
                assert mine is not None
                lines.append(f"{kind} {mine[0]} is gone")
            elif mine is None:
                lines.append(f"{kind} {theirs[0]} appears")
            elif sql_words(mine[1]) != sql_words(theirs[1]):
                lines.append(
                    f"{kind} {mine[0]} is stored as {_flat(theirs[1])} instead of {_flat(mine[1])}"
                )
        return lines


def _internal(name: str) -> bool:
    return name in INTERNAL_TABLES or name.startswith("sqlite_")


def _flat(sql: str) -> str:
    return " ".join(sql.split())


def assert_no_migration_edited(db: Database) -> None:
    """No migration applied to ``db`` was edited afterwards: the source of its ``up`` and
    ``down`` still has the checksum recorded when it ran. An edited migration means ``db`` and
    a fresh database went through different versions of it; put the original back and write a
    new migration for the change instead.

    Usage: ``assert_no_migration_edited(database(schemas=..., connection=..., migrations=...))``.
    """
    status = db.migration_status()
    _fail(
        "migrations were edited after they were applied (put the original back and add a new "
        "migration for the change):",
        status.edited,
    )


def assert_database_matches(db: Database) -> None:
    """``db`` matches the code: :meth:`~hedystia_models.Database.check` is empty (no schema
    difference with the models, unsafe ones included; no pending migration; none edited after it
    was applied; none applied but missing from the code).

    Usage: ``assert_database_matches(db)`` after the test has migrated ``db``.
    """
    _fail("the database does not match the code:", db.check())
