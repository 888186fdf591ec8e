"""Transactions for schema changes and for user writes.

Schema changes run in :func:`schema_transaction`: ``BEGIN IMMEDIATE`` (take SQLite's write
lock up front, waiting up to the connection's busy timeout), foreign-key enforcement switched
off for the duration as SQLite's table-rebuild procedure requires (so rebuilding a parent table
never fires ``ON DELETE`` actions), ``PRAGMA foreign_key_check`` before ``COMMIT``, and
``ROLLBACK`` of everything on any error.
"""

from __future__ import annotations

import secrets
import sqlite3
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from .introspect import foreign_keys_enforced

__all__ = ["ForeignKeyViolation", "schema_transaction", "write_transaction"]


class ForeignKeyViolation(sqlite3.IntegrityError):
    """``PRAGMA foreign_key_check`` found rows whose parent does not exist."""


def _foreign_key_check(conn: sqlite3.Connection) -> None:
    problems = conn.execute("PRAGMA foreign_key_check").fetchall()
    if problems:
        shown = ", ".join(
            f"{table} row {rowid} -> {parent}" for table, rowid, parent, _ in problems[:5]
        )
        more = f" and {len(problems) - 5} more" if len(problems) > 5 else ""
        raise ForeignKeyViolation(f"foreign key check failed: {shown}{more}")


@contextmanager
def _savepoint(conn: sqlite3.Connection) -> Iterator[None]:
    name = f"hedystia_{secrets.token_hex(8)}"
    conn.execute(f"SAVEPOINT {name}")
    try:
        yield
    except BaseException:
        if conn.in_transaction:
            conn.execute(f"ROLLBACK TO SAVEPOINT {name}")
            conn.execute(f"RELEASE SAVEPOINT {name}")
        raise
    conn.execute(f"RELEASE SAVEPOINT {name}")


@contextmanager
def write_transaction(
    conn: sqlite3.Connection, *, before_commit: Callable[[], None] | None = None
) -> Iterator[sqlite3.Connection]:
    """A write transaction (``BEGIN IMMEDIATE``), or a savepoint when one is already open.
    ``before_commit`` runs last inside the transaction (its error rolls everything back)."""
    if conn.in_transaction:
        with _savepoint(conn):
            yield conn
        return
    conn.execute("BEGIN IMMEDIATE")
    try:
        yield conn
        if before_commit is not None:
            before_commit()
        conn.execute("COMMIT")
    except BaseException:
        if conn.in_transaction:
            conn.execute("ROLLBACK")
        raise


@contextmanager
def schema_transaction(conn: sqlite3.Connection) -> Iterator[sqlite3.Connection]:
    """Run a block of schema changes atomically, holding the write lock from the start, with
    foreign-key enforcement off and ``PRAGMA foreign_key_check`` before ``COMMIT``. Inside a
    user's transaction it is a savepoint, and enforcement stays as it is (SQLite cannot switch
    it inside a transaction; the executor refuses a rebuild that would fire ``ON DELETE``)."""
    if conn.in_transaction:
        with write_transaction(conn):
            yield conn
        return
    enforced = foreign_keys_enforced(conn)
    if enforced:
        conn.execute("PRAGMA foreign_keys=OFF")
    try:
        check = (lambda: _foreign_key_check(conn)) if enforced else None
        with write_transaction(conn, before_commit=check):
            yield conn
    finally:
        if enforced:
            conn.execute("PRAGMA foreign_keys=ON")
