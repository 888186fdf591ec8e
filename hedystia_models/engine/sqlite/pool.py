"""The connections of one :class:`~hedystia_models.Database`: one per thread, or one shared.

SQLite connections must not be used by two threads at once, and a transaction belongs to its
connection. So a database opened from a path gives **each thread its own connection**, opened
the first time the thread needs one, with the same settings (busy timeout, foreign keys,
``synchronous``, the package's collations), and closed when the thread ends or when the
database is closed. Each thread's transactions are its own; SQLite's locking (WAL lets readers
go on while one writer writes) keeps them apart, as it does separate processes.

Two kinds of connection cannot be multiplied: a ``:memory:`` database (each new connection
would be a new, empty database) and a connection passed in by the caller (the package does not
know how it was opened). These are **shared**: every call takes :attr:`ConnectionPool.lock`
for its whole duration (a ``transaction()`` block for the whole block), so threads take turns
on the one connection and never see each other's open transaction.

Writers inside this process also queue on :attr:`ConnectionPool.write_lock` before SQLite's
write lock, so two threads of one process wait for each other without SQLite's busy handler,
which sleeps in steps of up to 100 ms; other processes are still waited for by SQLite, within
the busy timeout.
"""

from __future__ import annotations

import os
import sqlite3
import threading
import weakref
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager, nullcontext, suppress
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import sqlite_utils

from ...errors import ConfigurationError
from .collations import register_collations

if TYPE_CHECKING:
    from .executor import SQLiteExecutor

__all__ = [
    "JOURNAL_MODES",
    "SYNCHRONOUS_LEVELS",
    "ConnectionPool",
    "Session",
    "Settings",
    "configure",
    "file_opener",
    "holding",
    "switch_journal_mode",
]

#: The journal modes ``database(journal_mode=...)`` accepts.
JOURNAL_MODES = ("wal", "delete", "truncate", "persist")

#: The ``synchronous`` levels ``database(synchronous=...)`` accepts.
SYNCHRONOUS_LEVELS = ("off", "normal", "full", "extra")

#: Seconds to wait for other connections when switching a file to WAL: switching needs the
#: file to itself for a moment; when another process holds it longer, the file keeps its mode.
_JOURNAL_SWITCH_WAIT = 0.25


@dataclass(frozen=True)
class Settings:
    """How every connection of a database is set up."""

    busy_timeout: float
    journal_mode: str | None  #: ``None``: leave the file's journal mode as it is
    synchronous: str | None  #: ``None``: SQLite's default (or the caller's, for their own)

    @staticmethod
    def checked(busy_timeout: float, journal_mode: str | None, synchronous: str | None) -> Settings:
        """The settings, or a :class:`ConfigurationError` naming the bad one."""
        if journal_mode is not None and (
            not isinstance(journal_mode, str) or journal_mode.lower() not in JOURNAL_MODES
        ):
            raise ConfigurationError(
                f"journal_mode must be one of {', '.join(JOURNAL_MODES)} (got {journal_mode!r})"
            )
        if synchronous is not None and (
            not isinstance(synchronous, str) or synchronous.lower() not in SYNCHRONOUS_LEVELS
        ):
            raise ConfigurationError(
                f"synchronous must be one of {', '.join(SYNCHRONOUS_LEVELS)} (got {synchronous!r})"
            )
        return Settings(
            busy_timeout,
            journal_mode.lower() if journal_mode is not None else None,
            synchronous.lower() if synchronous is not None else None,
        )


def configure(conn: sqlite3.Connection, settings: Settings) -> None:
    """Set up a connection the package opened: busy timeout, foreign keys, collations and
    ``synchronous``.

    By default ``synchronous`` is ``NORMAL`` when WAL is asked for and ``FULL`` otherwise
    (SQLite's own default). Neither loses a committed transaction when the application
    crashes; on power loss, WAL with ``NORMAL`` may lose the last transactions but never
    corrupts the file, and a rollback journal needs ``FULL`` for the same.
    """
    conn.execute(f"PRAGMA busy_timeout = {int(settings.busy_timeout * 1000)}")
    conn.execute("PRAGMA foreign_keys = ON")
    register_collations(conn)
    synchronous = settings.synchronous
    if synchronous is None and settings.journal_mode is not None:
        synchronous = "normal" if settings.journal_mode == "wal" else "full"
    if synchronous is not None:
        conn.execute(f"PRAGMA synchronous = {synchronous}")


def switch_journal_mode(conn: sqlite3.Connection, settings: Settings) -> str | None:
    """Put the file in ``settings.journal_mode`` (outside a transaction); returns the mode it
    is in afterwards, ``None`` when that could not be read. When another process holds the
    file at that moment, or its directory is read-only (no ``-wal`` file can be made), the
    file keeps its mode: a write names the problem when it comes."""
    if settings.journal_mode is None:
        return None
    conn.execute(f"PRAGMA busy_timeout = {int(_JOURNAL_SWITCH_WAIT * 1000)}")
    try:
        (mode,) = conn.execute(f"PRAGMA journal_mode = {settings.journal_mode}").fetchone()
    except sqlite3.OperationalError:
        return None
    finally:
        conn.execute(f"PRAGMA busy_timeout = {int(settings.busy_timeout * 1000)}")
    return str(mode).lower()


@dataclass(eq=False)
class Session:
    """One connection and what hangs off it: the ``sqlite_utils`` view and the executor."""

    sqlite: sqlite_utils.Database
    #: The journal mode is still to be set on this connection (before its first write).
    journal_pending: bool = True
    _executor: SQLiteExecutor | None = field(default=None, init=False, repr=False)

    @property
    def executor(self) -> SQLiteExecutor:
        """The executor of this connection's schema changes, made on first use (so that a
        program that never changes the schema never imports the migration side, issue 14)."""
        executor = self._executor
        if executor is None:
            from .executor import SQLiteExecutor

            executor = self._executor = SQLiteExecutor(self.sqlite)
        return executor

    @property
    def conn(self) -> sqlite3.Connection:
        return self.sqlite.conn


class ConnectionPool:
    """The connections of one database: :meth:`session` is the calling thread's.

    ``opener`` opens one more connection with the database's settings; ``None`` makes the pool
    **shared**: ``first`` serves every thread and calls take :attr:`lock` (see the module
    docstring). ``first`` becomes the session of the thread that made the pool.
    """

    def __init__(
        self,
        first: sqlite_utils.Database,
        opener: Callable[[], sqlite3.Connection] | None,
        *,
        owned: bool,
        settings: Settings | None = None,
    ) -> None:
        self.shared = opener is None
        #: The journal mode to put each connection in before its first write (so a database
        #: that is only read, by ``schema inspect`` say, is never changed). WAL stays in the
        #: file once set; the other modes are each connection's.
        self._journal = settings if settings is not None and settings.journal_mode else None
        self._opener = opener
        self._owned = owned
        self._local = threading.local()
        self._sessions: weakref.WeakSet[Session] = weakref.WeakSet()
        self._closing = threading.Lock()
        #: Held by each call on a shared connection (re-entrant: a call may make calls).
        self.lock = threading.RLock()
        #: Held by this process's writing thread for its write (re-entrant: a write may make
        #: writes, a sync inside a transaction, say).
        self.write_lock = threading.RLock()
        self._first = Session(first)
        self._sessions.add(self._first)
        if not self.shared:
            self._local.session = self._first
        self.closed = False
        self._pid = os.getpid()

    def _forked(self) -> None:
        """In a child process (``gunicorn --preload`` forks after the app was imported): the
        parent's connections must not be used here (SQLite's rule), nor its locks, which a
        thread of the parent may have held at the fork. Start afresh: new locks, and each
        thread of the child opens its own connection; the parent's are left to the parent."""
        self._pid = os.getpid()
        self._local = threading.local()
        self._sessions = weakref.WeakSet()
        self._closing = threading.Lock()
        self.lock = threading.RLock()
        self.write_lock = threading.RLock()

    def session(self) -> Session:
        """The calling thread's session, opening its connection on first use."""
        if self.shared:
            return self._first
        if os.getpid() != self._pid:
            self._forked()
        session: Session | None = getattr(self._local, "session", None)
        if session is None:
            assert self._opener is not None
            session = Session(sqlite_utils.Database(self._opener()))
            # The connection closes when the thread ends (its local storage goes) or at close.
            weakref.finalize(session, _close_quietly, session.sqlite.conn)
            with self._closing:
                self._sessions.add(session)
            self._local.session = session
        return session

    def before_write(self) -> None:
        """Called by a writer before it writes: the first time on the calling thread's
        connection, outside a transaction, put it in the asked journal mode."""
        session = self.session()
        if session.journal_pending and not session.conn.in_transaction:
            session.journal_pending = False
            if self._journal is not None:
                switch_journal_mode(session.conn, self._journal)

    def holding_write_lock(self, timeout: float) -> AbstractContextManager[bool]:
        """:attr:`write_lock` held for the block, waiting up to ``timeout`` seconds (see
        :func:`holding`)."""
        return holding(self.write_lock, timeout)

    def guarded(self) -> AbstractContextManager[object]:
        """What one call holds: the shared connection's lock, or nothing."""
        return self.lock if self.shared else nullcontext()

    def close(self) -> None:
        """Close every connection the pool opened (a connection passed in is the caller's)."""
        if not self._owned:
            return
        self.closed = True
        with self._closing:
            sessions = list(self._sessions)
        for session in sessions:
            _close_quietly(session.sqlite.conn)


def _close_quietly(conn: sqlite3.Connection) -> None:
    with suppress(sqlite3.ProgrammingError):  # closed meanwhile
        conn.close()


@contextmanager
def holding(lock: threading.RLock, timeout: float) -> Iterator[bool]:
    """Hold ``lock`` for the block, waiting up to ``timeout`` seconds; yields whether it was
    taken (the caller raises its own error when not)."""
    taken = lock.acquire(timeout=timeout) if timeout > 0 else lock.acquire(blocking=False)
    try:
        yield taken
    finally:
        if taken:
            lock.release()


def file_opener(
    filename: str, settings: Settings, *, read_only: bool
) -> Callable[[], sqlite3.Connection]:
    """A function opening one more connection to ``filename`` with ``settings``."""

    def open_one() -> sqlite3.Connection:
        if read_only:
            uri = f"{Path(filename).resolve().as_uri()}?mode=ro"
            conn = sqlite3.connect(
                uri, uri=True, timeout=settings.busy_timeout, check_same_thread=False
            )
        else:
            conn = sqlite3.connect(filename, timeout=settings.busy_timeout, check_same_thread=False)
        configure(conn, settings)
        return conn

    return open_one
