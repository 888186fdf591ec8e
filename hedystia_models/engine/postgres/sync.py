"""Sync on PostgreSQL: the same plan as on SQLite (models -> specs, the live schema -> specs,
:func:`~hedystia_models.migrate.planner.plan_state`), applied in one transaction under the
schema-change advisory lock, recorded on the same timeline.

- **One transaction**: ``BEGIN``, the lock, the plan made again under it, every safe
  operation, the history row and the fingerprint, ``COMMIT``; any error rolls all of it back
  (PostgreSQL's DDL is transactional). PostgreSQL checks foreign keys as each constraint is
  created, so no foreign-key pass is needed after the change.
- **Many processes at once**: each takes ``pg_advisory_xact_lock`` on the key of the database
  and schema (:func:`.connection.schema_lock`) before planning; the second one plans after the
  first committed and finds nothing to do. The wait is bounded by ``lock_timeout``.
- **Fast path**: the fingerprint of the models (the one SQLite's sync records) is stored with
  a fingerprint of the catalogs (:func:`.introspect.catalog_fingerprint`, one query); when
  both match, nothing is planned. Any change of a table, column, constraint or index in the
  schema, by anyone, changes the catalog fingerprint, so a hand edit is never missed. A sync
  that left drift alone records no fingerprint: the next start-up plans again and reports it.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from ...errors import OperationError, SyncError
from ...migrate.history import new_sync_entry
from ...migrate.operations import CreateTable
from ...migrate.plan import Plan
from ...migrate.planner import plan_state
from ...migrate.sync import (
    creates_only,
    fingerprint,
    raise_if_blocked,
    waiting_tables,
    warn_unsafe,
)
from ...schema.spec import TableSpec
from ..base import Compiled
from . import history
from .connection import schema_lock, transaction, use_schema
from .executor import PostgresExecutor
from .introspect import catalog_fingerprint
from .types import table_for_postgres

__all__ = ["create_missing_tables", "locked", "plan", "sync"]

_STATE_KEY = "sync_fingerprint"
#: Part of the recorded fingerprint: bump it when types.py maps a model differently, so a
#: database synced before is planned again rather than taken as up to date.
_TYPES_FORMAT = "pg2"


@contextmanager
def locked(conn: Any, schema: str | None, timeout: float) -> Iterator[None]:
    """One transaction (a savepoint inside an open one) of a schema change: ``schema`` its
    ``search_path``, the schema-change lock taken first (waited for ``timeout`` at most)."""
    with transaction(conn):
        use_schema(conn, schema)
        schema_lock(conn, schema, timeout=timeout)
        yield


def plan(
    conn: Any,
    specs: Sequence[TableSpec],
    *,
    schema: str | None = None,
    ignore_tables: Sequence[str] = (),
    strict_defaults: bool = False,
) -> Plan:
    """The plan that takes the database to ``specs`` (the models' specs; their types are
    mapped to PostgreSQL's here). Reads only."""
    executor = PostgresExecutor(conn, schema=schema)
    _, found = plan_state(
        [table_for_postgres(s) for s in specs],
        executor,
        ignore_tables=ignore_tables,
        strict_defaults=strict_defaults,
    )
    return found


def sync(
    conn: Any,
    specs: Sequence[TableSpec],
    *,
    schema: str | None = None,
    ignore_tables: Sequence[str] = (),
    strict_defaults: bool = False,
    timeout: float = 5.0,
) -> Plan:
    """Apply the safe operations that take the database to ``specs``; return the plan. As
    :func:`hedystia_models.migrate.sync.sync` does on SQLite: a blocked change raises
    :class:`~hedystia_models.errors.SyncError` and applies nothing; unsafe ones are left
    alone, logged, and stay in the plan's ``unsafe`` list. ``schema``: the schema the tables
    and the bookkeeping tables live in (its name is the ``search_path`` of the transaction;
    ``None``: the connection's own). Inside a transaction the caller opened, the sync is a
    savepoint of it and the schema-change lock is held until the caller commits (another
    process must not plan before the change is visible); ``timeout`` bounds the wait for that
    lock."""
    digest = f"{_TYPES_FORMAT}:{fingerprint(specs, ignore_tables, strict_defaults)}"
    # The fast path reads in a transaction of its own, so a connection passed in that is not
    # in autocommit mode is left as it was found (idle), not inside an implicit transaction.
    with transaction(conn):
        use_schema(conn, schema)
        if history.read_state(conn, _STATE_KEY) == _stamp(conn, digest, schema):
            return Plan()
    desired = [table_for_postgres(s) for s in specs]
    executor = PostgresExecutor(conn, schema=schema)
    try:
        with locked(conn, schema, timeout):
            _, found = plan_state(
                desired,
                executor,
                ignore_tables=ignore_tables,
                strict_defaults=strict_defaults,
            )
            raise_if_blocked(found)
            for op in found.safe:
                executor.execute(op.table, Compiled(op.statements))
            _record(conn, found)
            if found.safe or history.tables_exist(conn):
                # With drift left alone, no fast path: every start-up plans, and reports it.
                stamp = "" if found.unsafe else _stamp(conn, digest, schema)
                history.write_state(conn, _STATE_KEY, stamp)
    except OperationError as exc:
        raise SyncError(f"sync failed and was rolled back: {exc}") from exc
    warn_unsafe(found)
    return found


def _record(conn: Any, applied: Plan) -> None:
    """The history row of a sync that ran ``applied``'s statements (none when it ran none)."""
    if applied.sql():
        name, when = new_sync_entry()
        history.record(conn, name=name, kind="sync", statements=applied.sql(), executed_at=when)


def _stamp(conn: Any, digest: str, schema: str | None) -> str:
    return f"{digest}:{catalog_fingerprint(conn, schema)}"


def create_missing_tables(
    conn: Any,
    specs: Sequence[TableSpec],
    *,
    schema: str | None = None,
    ignore_tables: Sequence[str] = (),
    timeout: float = 5.0,
) -> Plan:
    """Create the tables the models declare and the database lacks, and nothing else, in one
    transaction under the schema-change lock (start-up with migrations, as
    :func:`hedystia_models.migrate.sync.create_missing_tables` on SQLite); the plan of what
    it created. A table that references a table existing nowhere yet waits for the sync
    after the migrations."""
    desired = [table_for_postgres(s) for s in specs]
    executor = PostgresExecutor(conn, schema=schema)
    try:
        with locked(conn, schema, timeout):
            _, found = plan_state(
                desired, executor, ignore_tables=ignore_tables, check_references=False
            )
            if not any(isinstance(op.operation, CreateTable) for op in found.safe):
                return Plan()
            creates = creates_only(found, waiting_tables(desired, executor, ignore_tables))
            for op in creates.safe:
                executor.execute(op.table, Compiled(op.statements))
            _record(conn, creates)
    except OperationError as exc:
        raise SyncError(
            f"creating the tables of the models failed and was rolled back: {exc}"
        ) from exc
    return creates
