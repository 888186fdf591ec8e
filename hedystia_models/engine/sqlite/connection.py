"""The SQLite file and its connection themselves: what can be wrong with them, named, and the
one lock-wait budget of a call.

- :func:`check_file` looks at a path before SQLite opens it (SQLite opens lazily, so a
  directory or a file that is not a database would otherwise fail at the first statement,
  with a message that names neither).
- :func:`named_failure` turns SQLite's errors about the file or the connection (locked,
  read-only, not a database, deleted while open, closed) into a
  :class:`~hedystia_models.errors.DatabaseFileError` or
  :class:`~hedystia_models.errors.DatabaseLockedError` naming the file; any other error is
  left alone.
- :func:`lock_budget` gives a call one ``busy_timeout`` to wait for locks in all. SQLite's
  busy timeout is per statement, so a call of many statements (sync reads the schema, then
  takes the write lock) could wait for it once per statement. Inside the budget every
  statement that can wait is run under :func:`waiting`, which sets SQLite's busy timeout to
  what is left and takes off what the statement used; time spent working is not counted.
"""

from __future__ import annotations

import os
import sqlite3
import time
from collections.abc import Iterator
from contextlib import AbstractContextManager
from pathlib import Path

from ...errors import DatabaseFileError, DatabaseLockedError, HedystiaError


class SQLiteLockedError(DatabaseLockedError, sqlite3.OperationalError):
    """The SQLite engine's :class:`~hedystia_models.errors.DatabaseLockedError`: also the
    ``sqlite3.OperationalError`` (result code ``SQLITE_BUSY``) SQLite raises for a lock."""

    def __init__(self, message: str, path: str, timeout: float) -> None:
        super().__init__(message, path, timeout)
        self.sqlite_errorcode = 5  # SQLITE_BUSY
        self.sqlite_errorname = "SQLITE_BUSY"


__all__ = [
    "CLOSED",
    "SQLITE_HEADER",
    "SQLiteLockedError",
    "check_file",
    "is_lock_error",
    "is_open",
    "lock_budget",
    "main_file",
    "named_failure",
    "result_code",
    "waiting",
]

#: The first 16 bytes of every SQLite database file.
SQLITE_HEADER = b"SQLite format 3\x00"

#: What Python's sqlite3 says when a closed connection is used (a ``ProgrammingError``).
CLOSED = "Cannot operate on a closed database."

# SQLite's result codes (fixed by its C API); extended codes keep the primary one in the low
# byte. Python 3.11+ attaches the extended code to the error as ``sqlite_errorcode``.
SQLITE_BUSY = 5
SQLITE_LOCKED = 6
SQLITE_READONLY = 8
SQLITE_CORRUPT = 11
SQLITE_CANTOPEN = 14
SQLITE_NOTADB = 26
SQLITE_READONLY_DBMOVED = SQLITE_READONLY | (4 << 8)
SQLITE_READONLY_DIRECTORY = SQLITE_READONLY | (6 << 8)

#: SQLite's fixed text for those codes (``sqlite3_errstr``): all Python 3.10 keeps of an error
#: is its message, so there, and only there, the whole message is matched against these.
_CODE_OF_MESSAGE = {
    "database is locked": SQLITE_BUSY,
    "database table is locked": SQLITE_LOCKED,
    "attempt to write a readonly database": SQLITE_READONLY,
    "database disk image is malformed": SQLITE_CORRUPT,
    "unable to open database file": SQLITE_CANTOPEN,
    "file is not a database": SQLITE_NOTADB,
}


def result_code(exc: BaseException) -> int | None:
    """SQLite's (extended, when known) result code of ``exc``, or ``None`` when it is not an
    ``sqlite3`` error carrying one (on Python 3.10, deduced from SQLite's fixed messages)."""
    if not isinstance(exc, sqlite3.Error):
        return None
    code = getattr(exc, "sqlite_errorcode", None)
    if isinstance(code, int):
        return code
    return _CODE_OF_MESSAGE.get(str(exc))


def _causes(exc: BaseException | None) -> Iterator[BaseException]:
    """``exc`` and its explicit causes (``raise ... from``), never the implicit context: an
    error that merely happened while another was being handled is not caused by it."""
    seen: set[int] = set()
    while exc is not None and id(exc) not in seen:
        seen.add(id(exc))
        yield exc
        exc = exc.__cause__


def is_lock_error(exc: BaseException | None) -> bool:
    """True when ``exc`` is SQLite reporting a lock held elsewhere (``SQLITE_BUSY`` or
    ``SQLITE_LOCKED``), raised directly or as the explicit cause of the error raised (as a
    failing migration wraps it in a ``MigrationError``). Decided by the result code, never by
    a word in a message (which may quote a migration's SQL or a table name)."""
    for cause in _causes(exc):
        code = result_code(cause)
        lock = code is not None and code & 0xFF in (SQLITE_BUSY, SQLITE_LOCKED)
        if lock and isinstance(cause, sqlite3.OperationalError):
            return True
    return False


def is_open(conn: sqlite3.Connection) -> bool:
    """False once ``conn`` is closed (cheaply: no statement runs)."""
    try:
        conn.total_changes  # noqa: B018 - raises ProgrammingError on a closed connection
    except sqlite3.ProgrammingError:
        return False
    return True


def main_file(conn: sqlite3.Connection) -> str:
    """The file of ``conn``'s main database, as SQLite resolved it (``":memory:"`` for a
    database in memory or a temporary one). Reads no page, so it never waits for a lock."""
    for _, name, file in conn.execute("PRAGMA database_list").fetchall():
        if name == "main":
            return str(file) or ":memory:"
    return ":memory:"  # pragma: no cover - every connection has a main database


# -- before opening ---------------------------------------------------------------------------


def check_file(filename: str) -> None:
    """Refuse a path SQLite cannot use as a database, before SQLite opens it: a NUL character,
    a directory, a missing parent directory (or a file where it should be), something that is
    not a regular file, or a file whose first bytes are not SQLite's header. An empty file is
    an empty database; a missing file is created by the first write."""
    if "\0" in filename:
        raise DatabaseFileError(f"database path {filename!r} contains a NUL character")
    if filename in ("", ":memory:"):
        return
    path = Path(filename)
    if path.is_dir():
        raise DatabaseFileError(
            f"database {filename!r} is a directory, not a SQLite database file", filename
        )
    if not path.exists():
        parent = path.parent
        if not parent.exists():
            raise DatabaseFileError(
                f"directory {str(parent)!r} for the database does not exist", filename
            )
        if not parent.is_dir():
            raise DatabaseFileError(
                f"cannot create database {filename!r}: {str(parent)!r} is a file, not a directory",
                filename,
            )
        return
    if not path.is_file():  # a FIFO, a device: reading its header could block
        raise DatabaseFileError(
            f"database {filename!r} is not a regular file, so not a SQLite database", filename
        )
    try:
        with path.open("rb") as file:
            head = file.read(len(SQLITE_HEADER))
    except OSError as exc:
        raise DatabaseFileError(
            f"database {filename!r} cannot be read: {exc.strerror or exc}", filename
        ) from exc
    if head and head != SQLITE_HEADER:
        raise DatabaseFileError(f"database {filename!r} is not a SQLite database", filename)


# -- naming a failure -------------------------------------------------------------------------


def named_failure(
    exc: BaseException,
    path: str,
    busy_timeout: float,
    *,
    read_only: bool = False,
    suffix: str = "",
) -> HedystiaError | None:
    """The named error for ``exc`` when it (or an explicit cause of it) is SQLite failing
    because of the file or the connection, not because of the statement: ``None`` otherwise.
    ``read_only`` says the connection was opened with ``read_only=True``; ``suffix`` is added
    to the message (what became of the migration that was running, say)."""
    if isinstance(exc, (DatabaseFileError, DatabaseLockedError)):
        return None
    for cause in _causes(exc):
        if isinstance(cause, sqlite3.ProgrammingError) and str(cause) == CLOSED:
            return DatabaseFileError(f"database {path!r} is closed{suffix}", path)
        code = result_code(cause)
        if code is None:
            continue
        primary = code & 0xFF
        if primary in (SQLITE_BUSY, SQLITE_LOCKED) and isinstance(cause, sqlite3.OperationalError):
            return SQLiteLockedError(
                f"database {path!r} is locked: another connection held the write lock for "
                f"more than {busy_timeout:g} s{suffix}",
                path,
                busy_timeout,
            )
        if primary == SQLITE_READONLY:
            return _read_only(cause, code, path, read_only, suffix)
        if primary == SQLITE_NOTADB:
            return DatabaseFileError(f"database {path!r} is not a SQLite database{suffix}", path)
        if primary == SQLITE_CORRUPT:
            return DatabaseFileError(f"database {path!r} is corrupt ({cause}){suffix}", path)
        if primary == SQLITE_CANTOPEN:
            return DatabaseFileError(f"{_cannot_open(path, cause)}{suffix}", path)
    return None


def _read_only(
    cause: BaseException, code: int, path: str, read_only: bool, suffix: str
) -> DatabaseFileError:
    file = Path(path)
    known = path != ":memory:"
    if code == SQLITE_READONLY_DBMOVED or (code == SQLITE_READONLY and known and not file.exists()):
        return DatabaseFileError(f"database {path!r} was deleted or moved while open{suffix}", path)
    if read_only:
        why = "it was opened with read_only=True"
    elif code == SQLITE_READONLY_DIRECTORY or (
        code == SQLITE_READONLY and known and not os.access(file.parent, os.W_OK)
    ):
        why = f"SQLite cannot create its journal in the read-only directory {str(file.parent)!r}"
    elif code == SQLITE_READONLY and known and not os.access(file, os.W_OK):
        why = "the file is not writable"
    elif code == SQLITE_READONLY:
        why = "the connection was opened read-only"
    else:  # SQLITE_READONLY_RECOVERY, _CANTLOCK, _ROLLBACK, ...: SQLite's own words
        why = str(cause)
    return DatabaseFileError(f"database {path!r} is read-only: {why}{suffix}", path)


def _cannot_open(path: str, cause: BaseException) -> str:
    file = Path(path)
    if path != ":memory:" and not file.exists() and not os.access(file.parent, os.W_OK):
        return f"cannot create database {path!r}: directory {str(file.parent)!r} is not writable"
    return f"database {path!r} cannot be opened: {cause}"


# -- one budget of waiting per call -----------------------------------------------------------


class _Budget:
    """One call's waiting on one connection (a plain class, not a dataclass: nothing compares
    or shows it, and this module is imported with the package, issue 14)."""

    __slots__ = ("configured_ms", "left", "set_ms")

    def __init__(self, configured_ms: int, left: float, set_ms: int) -> None:
        self.configured_ms = configured_ms  #: the connection's own busy timeout, restored
        self.left = left  #: seconds the call may still wait
        self.set_ms = set_ms  #: SQLite's busy timeout as last set


#: The budget of each connection in a call, by ``id`` (``sqlite3.Connection`` takes no weak
#: references); an entry lives only while its call runs.
_budgets: dict[int, _Budget] = {}


def _set_timeout(conn: sqlite3.Connection, budget: _Budget, ms: int) -> None:
    if ms != budget.set_ms:
        conn.execute(f"PRAGMA busy_timeout = {ms}")
        budget.set_ms = ms


def lock_budget(conn: sqlite3.Connection, busy_timeout: float) -> AbstractContextManager[None]:
    """Let the block wait ``busy_timeout`` seconds for locks in all (see :func:`waiting`). A
    budget opened inside another one on the same connection is part of it. SQLite's busy
    timeout is set back to ``busy_timeout`` at the end."""
    return _LockBudget(conn, busy_timeout)


class _LockBudget:
    """:func:`lock_budget`'s block (a class rather than a generator: every call opens one)."""

    __slots__ = ("_budget", "_conn", "_timeout")

    def __init__(self, conn: sqlite3.Connection, busy_timeout: float) -> None:
        self._conn = conn
        self._timeout = busy_timeout
        self._budget: _Budget | None = None

    def __enter__(self) -> None:
        key = id(self._conn)
        if key not in _budgets:  # else part of the budget already open
            ms = int(self._timeout * 1000)
            self._budget = _budgets[key] = _Budget(ms, self._timeout, ms)

    def __exit__(self, *exc_info: object) -> None:
        budget, self._budget = self._budget, None
        if budget is None:
            return
        conn = self._conn
        del _budgets[id(conn)]
        if budget.set_ms != budget.configured_ms and is_open(conn):
            conn.execute(f"PRAGMA busy_timeout = {budget.configured_ms}")


def waiting(conn: sqlite3.Connection) -> AbstractContextManager[None]:
    """Run the block (a statement that may wait for a lock: the first read of a read, ``BEGIN
    IMMEDIATE``, ``COMMIT``) on what is left of the call's budget, and take off the time it
    took. Outside a :func:`lock_budget` it only runs the block."""
    return _Waiting(conn)


class _Waiting:
    """:func:`waiting`'s block."""

    __slots__ = ("_budget", "_conn", "_start")

    def __init__(self, conn: sqlite3.Connection) -> None:
        self._conn = conn
        self._budget: _Budget | None = None
        self._start = 0.0

    def __enter__(self) -> None:
        conn = self._conn
        budget = self._budget = _budgets.get(id(conn))
        if budget is not None:
            _set_timeout(conn, budget, int(budget.left * 1000))
            self._start = time.monotonic()

    def __exit__(self, *exc_info: object) -> None:
        budget, self._budget = self._budget, None
        if budget is None:
            return
        conn = self._conn
        budget.left = max(0.0, budget.left - (time.monotonic() - self._start))
        # Statements that run outside `waiting` wait on the timeout as set: keep it current
        # once this one has used a noticeable part of the budget.
        if budget.set_ms - int(budget.left * 1000) >= 5 and is_open(conn):
            _set_timeout(conn, budget, int(budget.left * 1000))
