"""Apply the safe part of a plan, once, even when many processes start at the same moment.

1. Fast path: when ``__hedystia_state`` holds the fingerprint of this model set and SQLite's
   ``PRAGMA schema_version`` has not moved since, nothing can differ; return at once. Any DDL,
   by hand or by another tool, bumps ``schema_version``, so a real difference is never missed.
2. Otherwise introspect and plan without a lock. Nothing to do: remember the fingerprint.
3. Work to do: take the write lock (``BEGIN IMMEDIATE``, waiting on a busy database), read and
   plan again under the lock, since another process may have synced meanwhile, apply the safe
   operations, record one ``sync`` history row, and commit; all or nothing.
"""

from __future__ import annotations

import hashlib
import logging
import sqlite3
from collections.abc import Sequence

import sqlite_utils

from ..engine.sqlite.introspect import read_database
from ..engine.sqlite.transaction import schema_transaction
from ..errors import SyncError
from ..schema.spec import TableSpec
from . import history
from .diff import diff
from .plan import Plan

__all__ = ["fingerprint", "plan_for", "sync"]

logger = logging.getLogger("hedystia_models")

_STATE_KEY = "sync_fingerprint"
_SPEC_FORMAT = "1"


def fingerprint(specs: Sequence[TableSpec]) -> str:
    """A stable hash of a model set's table specs."""
    digest = hashlib.sha256(_SPEC_FORMAT.encode())
    for spec in sorted(specs, key=lambda s: s.name):
        digest.update(repr(spec).encode())
    return digest.hexdigest()


def _schema_version(conn: sqlite3.Connection) -> int:
    return int(conn.execute("PRAGMA schema_version").fetchone()[0])


def plan_for(db: sqlite_utils.Database, specs: Sequence[TableSpec]) -> Plan:
    """Introspect ``db`` and diff it against ``specs``."""
    return diff(specs, read_database(db))


def is_known_in_sync(conn: sqlite3.Connection, specs: Sequence[TableSpec]) -> bool:
    """True when the recorded fingerprint matches ``specs`` and the schema has not changed."""
    stored = history.read_state(conn, _STATE_KEY)
    return stored == f"{fingerprint(specs)}:{_schema_version(conn)}"


def _remember(conn: sqlite3.Connection, specs: Sequence[TableSpec]) -> None:
    history.write_state(conn, _STATE_KEY, f"{fingerprint(specs)}:{_schema_version(conn)}")


def _raise_if_blocked(plan: Plan) -> None:
    if plan.blocked:
        reasons = "\n".join(f"  - {op.reason or op.describe()}" for op in plan.blocked)
        raise SyncError(
            f"sync cannot bring the database up to date; nothing was applied:\n{reasons}"
        )


def sync(db: sqlite_utils.Database, specs: Sequence[TableSpec]) -> Plan:
    """Apply the safe operations that take ``db`` to ``specs``; return the plan applied.

    Raises :class:`SyncError` (and applies nothing) when a needed change is blocked.
    Unsafe differences stay in the returned plan's ``unsafe`` list, are logged as warnings on
    the ``hedystia_models`` logger, and are never applied. When the fast path finds nothing
    changed since the last sync, the returned plan is empty: use ``plan_for`` for a full report.
    """
    conn = db.conn
    if not conn.in_transaction and is_known_in_sync(conn, specs):
        return Plan()
    first = plan_for(db, specs)
    _raise_if_blocked(first)  # fail fast, before waiting for the write lock
    try:
        plan = _apply_locked(db, specs)
    except sqlite3.OperationalError as exc:
        # Nothing needed applying, only the fingerprint needed remembering: a read-only
        # database skips that (and plans again at the next start).
        if first.safe or "readonly" not in str(exc):
            raise
        plan = first
    _warn_unsafe(plan)
    return plan


def _apply_locked(db: sqlite_utils.Database, specs: Sequence[TableSpec]) -> Plan:
    """Under the write lock: plan again (another process may have synced meanwhile), apply
    the safe operations, record them, and remember the fingerprint; all or nothing."""
    conn = db.conn
    with schema_transaction(conn):
        plan = plan_for(db, specs)
        _raise_if_blocked(plan)
        statements = plan.sql()
        history.ensure_tables(conn)
        try:
            for statement in statements:
                conn.execute(statement)
        except sqlite3.Error as exc:
            raise SyncError(
                f"sync failed and was rolled back: {exc}\n  while running: {statement}"
            ) from exc
        if statements:
            history.record(conn, name=history.new_sync_name(), kind="sync", statements=statements)
        _remember(conn, specs)
    return plan


def _warn_unsafe(plan: Plan) -> None:
    for op in plan.unsafe:
        logger.warning("sync left alone: %s (%s)", op.describe(), op.reason)
