"""The bookkeeping tables: ``__hedystia_migrations`` (one timeline of every schema change,
sync and hand-written) and ``__hedystia_state`` (the fingerprint that lets an unchanged
database skip introspection at start-up).

They are created by the first write that needs them, inside that write's transaction: a sync
that applies something, a migration, a stamp (:func:`record` and :func:`write_state` create
them when missing). Nothing creates them just to look: every read here answers as for empty
tables when they do not exist, so a database another tool made, on which a start-up had
nothing to do, keeps no table of ours.
"""

from __future__ import annotations

import json
import secrets
import sqlite3
from dataclasses import dataclass
from datetime import datetime, timezone

from ..engine.sqlite.connection import waiting
from ..schema.quoting import quote_identifier

__all__ = [
    "CREATE_STATE",
    "HISTORY_TABLE",
    "STATE_TABLE",
    "HistoryEntry",
    "create_history_sql",
    "ensure_tables",
    "forget",
    "is_applied",
    "new_sync_name",
    "read_history",
    "read_state",
    "record",
    "write_state",
]

HISTORY_TABLE = "__hedystia_migrations"
STATE_TABLE = "__hedystia_state"
_HISTORY = quote_identifier(HISTORY_TABLE)
_STATE = quote_identifier(STATE_TABLE)


def create_history_sql(id_column: str) -> str:
    """``CREATE TABLE IF NOT EXISTS`` of the history table, its key column declared
    ``id_column`` (an engine's generated key: ``INTEGER PRIMARY KEY AUTOINCREMENT`` here)."""
    return _HISTORY_SQL.replace("{id}", id_column)


_HISTORY_SQL = f"""CREATE TABLE IF NOT EXISTS {_HISTORY} (
    {{id}},
    "name" TEXT NOT NULL UNIQUE,
    "kind" TEXT NOT NULL DEFAULT 'migration' CHECK ("kind" IN ('sync', 'migration')),
    "executed_at" TEXT NOT NULL,
    "checksum" TEXT,
    "statements" TEXT NOT NULL DEFAULT '[]'
)"""

_CREATE_HISTORY = create_history_sql('"id" INTEGER PRIMARY KEY AUTOINCREMENT')

#: ``CREATE TABLE IF NOT EXISTS`` of the state table (the same on every engine).
CREATE_STATE = f"""CREATE TABLE IF NOT EXISTS {_STATE} (
    "key" TEXT PRIMARY KEY,
    "value" TEXT NOT NULL
)"""


#: The statements of a migration recorded as applied without running it.
STAMPED = "-- stamped: recorded as applied without running it"
#: How a step that found its target already there says so among its statements.
ALREADY_DONE = "-- already done: "
#: How a migration's own ``CREATE TABLE`` (or ``rename_table``) that took the place of a table
#: start-up had made from the models says so among its statements.
REPLACED = "-- replaced: "


@dataclass(frozen=True)
class HistoryEntry:
    """One row of ``__hedystia_migrations``: a sync or a migration, with the statements it ran.

    A stamped migration's statements are just :data:`STAMPED`; a step of a migration that found
    its target already there (see :mod:`hedystia_models.migrate.converge`) is a comment
    starting with :data:`ALREADY_DONE`.
    """

    id: int
    name: str
    kind: str
    executed_at: str
    checksum: str | None
    statements: tuple[str, ...]

    @property
    def stamped(self) -> bool:
        """True for a migration recorded as applied without running it."""
        return self.statements == (STAMPED,)

    @property
    def already_done(self) -> tuple[str, ...]:
        """What the steps that found their target already there said."""
        return tuple(
            s.removeprefix(ALREADY_DONE) for s in self.statements if s.startswith(ALREADY_DONE)
        )

    @property
    def how(self) -> str:
        """``stamped``, ``converged`` (every step was already done), or ``ran``."""
        if self.stamped:
            return "stamped"
        if self.statements and len(self.already_done) == len(self.statements):
            return "converged"
        return "ran"


def now_utc() -> datetime:
    """The current UTC time (one place, so tests can reason about it)."""
    return datetime.now(timezone.utc)


def new_sync_name(when: datetime | None = None) -> str:
    """A unique name for a sync entry, such as ``sync_20261125T101500_ab12cd``."""
    moment = when or now_utc()
    return f"sync_{moment:%Y%m%dT%H%M%S}_{secrets.token_hex(3)}"


def new_sync_entry() -> tuple[str, datetime]:
    """The name and the time of a sync's history row, from one reading of the clock (the name
    holds the time to the second: two readings may fall on two seconds)."""
    when = now_utc()
    return new_sync_name(when), when


def tables_exist(conn: sqlite3.Connection) -> bool:
    """True when both bookkeeping tables exist."""
    count = conn.execute(
        "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name IN (?, ?)",
        (HISTORY_TABLE, STATE_TABLE),
    ).fetchone()[0]
    return bool(count == 2)


def _exists(conn: sqlite3.Connection, table: str) -> bool:
    row = conn.execute(
        "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?", (table,)
    ).fetchone()
    return row is not None


def ensure_tables(conn: sqlite3.Connection) -> None:
    """Create the bookkeeping tables if missing (call inside the caller's transaction: the
    write that needs them)."""
    conn.execute(_CREATE_HISTORY)
    conn.execute(CREATE_STATE)


def record(
    conn: sqlite3.Connection,
    *,
    name: str,
    kind: str,
    statements: list[str] | tuple[str, ...],
    checksum: str | None = None,
    executed_at: datetime | None = None,
) -> None:
    """Insert one history row (inside the caller's transaction), creating the bookkeeping
    tables first when they are missing."""
    ensure_tables(conn)
    conn.execute(
        f"INSERT INTO {_HISTORY} (name, kind, executed_at, checksum, statements) "
        "VALUES (?, ?, ?, ?, ?)",
        (
            name,
            kind,
            (executed_at or now_utc()).isoformat(timespec="microseconds"),
            checksum,
            json.dumps(list(statements)),
        ),
    )


def is_applied(conn: sqlite3.Connection, name: str) -> bool:
    """True when migration ``name`` is recorded as applied (``False`` when nothing is recorded
    yet: the table does not exist)."""
    if not _exists(conn, HISTORY_TABLE):
        return False
    row = conn.execute(
        f"SELECT 1 FROM {_HISTORY} WHERE name = ? AND kind = 'migration'", (name,)
    ).fetchone()
    return row is not None


def forget(conn: sqlite3.Connection, name: str) -> None:
    """Remove migration ``name``'s row (it was rolled back; inside the caller's transaction)."""
    if not _exists(conn, HISTORY_TABLE):
        return
    conn.execute(f"DELETE FROM {_HISTORY} WHERE name = ? AND kind = 'migration'", (name,))


def read_history(conn: sqlite3.Connection) -> list[HistoryEntry]:
    """Every history row, oldest first (empty when the table does not exist)."""
    if not _exists(conn, HISTORY_TABLE):
        return []
    rows = conn.execute(
        f"SELECT id, name, kind, executed_at, checksum, statements FROM {_HISTORY} ORDER BY id"
    ).fetchall()
    return [
        HistoryEntry(row[0], row[1], row[2], row[3], row[4], tuple(json.loads(row[5] or "[]")))
        for row in rows
    ]


def read_state(conn: sqlite3.Connection, key: str) -> str | None:
    """A value of ``__hedystia_state`` (``None`` when missing or the table does not exist)."""
    try:
        with waiting(conn):  # sync's fast path: may wait, on what is left of the busy timeout
            row = conn.execute(f"SELECT value FROM {_STATE} WHERE key = ?", (key,)).fetchone()
    except sqlite3.OperationalError:
        return None
    return None if row is None else str(row[0])


def write_state(conn: sqlite3.Connection, key: str, value: str) -> None:
    """Set a value of ``__hedystia_state`` (inside the caller's transaction), creating the
    bookkeeping tables first when they are missing."""
    ensure_tables(conn)
    conn.execute(
        f"INSERT INTO {_STATE} (key, value) VALUES (?, ?) "
        "ON CONFLICT(key) DO UPDATE SET value = excluded.value",
        (key, value),
    )
