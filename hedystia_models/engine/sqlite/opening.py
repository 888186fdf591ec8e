"""Opening the SQLite database a :class:`~hedystia_models.Database` works on: from a path,
``":memory:"``, ``{"filename": ..., "read_only": ...}``, or an open ``sqlite3.Connection`` /
``sqlite_utils.Database``, after checking that the file can be a database."""

from __future__ import annotations

import os
import sqlite3
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import sqlite_utils

from ...errors import ConfigurationError, DatabaseFileError
from .connection import check_file, is_open, main_file, named_failure
from .pool import Settings, configure, file_opener

__all__ = ["ConnectionLike", "Opened", "open_database"]

ConnectionLike = (
    str | os.PathLike[str] | Mapping[str, Any] | sqlite3.Connection | sqlite_utils.Database
)


@dataclass(frozen=True)
class Opened:
    """What :func:`_connect` opened or adopted."""

    db: sqlite_utils.Database
    owned: bool  #: we opened it, so we close it
    path: str  #: the file, as given (or as SQLite resolved it, for a connection passed in)
    read_only: bool  #: opened with ``read_only=True``
    #: Opens one more connection like ``db`` (one per thread); ``None`` for a database in
    #: memory and a connection passed in, which every thread shares.
    opener: Callable[[], sqlite3.Connection] | None
    #: How its connections are set up (the journal mode, ``None`` for a database in memory or
    #: a connection passed in, is set before the first write).
    settings: Settings


def open_database(
    connection: ConnectionLike,
    busy_timeout: float,
    journal_mode: str | None = "wal",
    synchronous: str | None = None,
) -> Opened:
    """Open (or adopt) a connection, after checking that its file can be a database (see
    :func:`~hedystia_models.engine.sqlite.connection.check_file`). A file the package opens
    is switched to ``journal_mode`` before its first write (the journal mode of a database
    in memory, or of a connection passed in, is left alone); see :mod:`.pool`."""
    if isinstance(busy_timeout, bool) or not isinstance(busy_timeout, (int, float)):
        raise ConfigurationError(f"busy_timeout must be a number of seconds (got {busy_timeout!r})")
    if not 0 <= busy_timeout < 86_400:
        raise ConfigurationError(
            f"busy_timeout must be from 0 to 86400 seconds (got {busy_timeout!r})"
        )
    read_only = False
    if isinstance(connection, (sqlite_utils.Database, sqlite3.Connection)):
        conn = connection.conn if isinstance(connection, sqlite_utils.Database) else connection
        if not is_open(conn):
            raise DatabaseFileError(
                "connection is a sqlite_utils.Database whose connection is closed"
                if isinstance(connection, sqlite_utils.Database)
                else "connection is a closed sqlite3.Connection"
            )
        if isinstance(connection, sqlite_utils.Database):
            db = connection
        else:
            db = sqlite_utils.Database(conn)
        owned, filename = False, main_file(conn)
        check_file(filename)
    else:
        if isinstance(connection, Mapping):
            unknown = set(connection) - {"filename", "read_only"}
            if unknown or "filename" not in connection:
                raise ConfigurationError(
                    "connection dict must be {'filename': path} or {'filename': path, "
                    f"'read_only': True}} (got keys {sorted(map(str, connection))})"
                )
            target = connection["filename"]
            read_only = connection.get("read_only", False)
            if not isinstance(read_only, bool):
                raise ConfigurationError(
                    f"connection read_only must be True or False (got {read_only!r})"
                )
        else:
            target = connection
        given = os.fspath(target) if isinstance(target, (str, os.PathLike)) else None
        if not isinstance(given, str):
            raise ConfigurationError(
                "connection must be a path, ':memory:', {'filename': path}, a sqlite3.Connection "
                f"or a sqlite_utils.Database (got {type(connection).__name__})"
            )
        filename = given
        check_file(filename)
        if read_only:
            if filename == ":memory:":
                raise ConfigurationError("read_only=True needs a database file, not ':memory:'")
            if not Path(filename).is_file():
                raise DatabaseFileError(
                    f"database {filename!r} does not exist (read_only=True opens an existing file)",
                    filename,
                )
        memory = filename == ":memory:"
        settings = Settings.checked(
            busy_timeout, None if memory or read_only else journal_mode, synchronous
        )
        if memory:
            conn = sqlite3.connect(filename, timeout=busy_timeout, check_same_thread=False)
            configure(conn, settings)
            return Opened(sqlite_utils.Database(conn), True, filename, False, None, settings)
        opener = file_opener(filename, settings, read_only=read_only)
        try:
            conn = opener()  # setting ``synchronous`` reads the file's header
        except sqlite3.DatabaseError as exc:
            named = named_failure(exc, filename, busy_timeout, read_only=read_only)
            if named is None:
                raise
            raise named from exc
        return Opened(sqlite_utils.Database(conn), True, filename, read_only, opener, settings)
    settings = Settings.checked(busy_timeout, None, synchronous)
    configure(db.conn, settings)
    return Opened(db, owned, filename, read_only, None, settings)
