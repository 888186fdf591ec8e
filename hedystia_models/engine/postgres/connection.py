"""Opening a PostgreSQL connection, and the lock that makes start-up safe across processes.

``connection`` may be a ``postgresql://`` URL (or any libpq connection string), a mapping of
libpq keywords (``{"host": ..., "port": ..., "dbname": ..., "user": ..., "password": ...}``),
or an open psycopg connection (the caller's: it is used as it is and never closed here).

The package runs its statements with ``autocommit`` on and opens each transaction itself
(``BEGIN`` .. ``COMMIT``), as it does with sqlite3: a schema change is one transaction, and
nothing is left open between calls. (Inside a transaction the caller opened, a change is a
savepoint of it, and what it holds — the schema-change lock — is held until the caller
commits.) Every connection the package opens sets ``TimeZone`` to
UTC (a ``TIMESTAMPTZ`` comes back in UTC, as an aware datetime is stored on SQLite) and a
``lock_timeout`` (the busy timeout: a lock wait is bounded, as on SQLite).
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator, Mapping
from contextlib import contextmanager, suppress
from typing import Any

from ...errors import ConfigurationError, DatabaseLockedError
from ...schema.quoting import quote_identifier

__all__ = ["advisory_key", "connect", "schema_lock", "transaction", "use_schema"]


def _psycopg() -> Any:
    try:
        import psycopg
    except ImportError as exc:  # pragma: no cover - the extra is installed in the tests
        raise ConfigurationError(
            "database='postgres' needs psycopg 3: pip install 'hedystia-models[postgres]'"
        ) from exc
    return psycopg


def connect(connection: Any, *, busy_timeout: float = 5.0) -> tuple[Any, bool]:
    """An open psycopg connection for ``connection``, and whether the package opened it
    (and so closes it)."""
    psycopg = _psycopg()
    if isinstance(connection, psycopg.Connection):
        return connection, False
    if isinstance(connection, str):
        conninfo = connection
        keywords: dict[str, Any] = {}
    elif isinstance(connection, Mapping):
        conninfo = ""
        keywords = {str(k): v for k, v in connection.items()}
        unknown = sorted(set(keywords) - _KEYWORDS)
        if unknown:
            raise ConfigurationError(
                f"connection has unknown PostgreSQL setting(s) {', '.join(unknown)}; "
                f"known: {', '.join(sorted(_KEYWORDS))}"
            )
    else:
        raise ConfigurationError(
            "connection for database='postgres' must be a postgresql:// URL, a mapping of "
            f"connection settings, or a psycopg connection (got {type(connection).__name__})"
        )
    try:
        conn = psycopg.connect(conninfo, autocommit=True, **keywords)
    except psycopg.OperationalError as exc:
        raise ConfigurationError(f"cannot connect to PostgreSQL: {str(exc).strip()}") from exc
    conn.execute("SET TimeZone = 'UTC'")
    wait = f"{max(1, int(busy_timeout * 1000))}ms"
    conn.execute("SELECT set_config('lock_timeout', %s, false)", (wait,))
    return conn, True


#: The libpq keywords a mapping may hold (the common ones; a URL takes any).
_KEYWORDS = frozenset(
    {
        "host",
        "hostaddr",
        "port",
        "dbname",
        "user",
        "password",
        "sslmode",
        "connect_timeout",
        "application_name",
        "options",
        "passfile",
        "target_session_attrs",
    }
)


@contextmanager
def transaction(conn: Any) -> Iterator[Any]:
    """``BEGIN`` .. ``COMMIT`` on ``conn`` (``ROLLBACK`` on any error), or a savepoint when a
    transaction is open already."""
    psycopg = _psycopg()
    if conn.info.transaction_status != psycopg.pq.TransactionStatus.IDLE:
        with conn.transaction():  # psycopg makes it a savepoint
            yield conn
        return
    conn.execute("BEGIN")
    try:
        yield conn
    except BaseException:
        with suppress(psycopg.Error):  # a broken connection: the first error is the one
            conn.execute("ROLLBACK")
        raise
    conn.execute("COMMIT")


def use_schema(conn: Any, schema: str | None) -> None:
    """Make ``schema`` the ``search_path`` for the rest of the open transaction (nothing for
    ``None``): every statement of the package names its tables unqualified."""
    if schema is not None:
        conn.execute("SELECT set_config('search_path', %s, true)", (quote_identifier(schema),))


def advisory_key(conn: Any, schema: str | None = None) -> int:
    """The advisory-lock key of the package's schema changes on ``conn``'s database and
    ``schema``: a signed 64-bit number derived from their names, the same in every process."""
    database, current = conn.execute("SELECT current_database(), current_schema()").fetchone()
    text = f"hedystia-models:{database}:{schema or current}".encode()
    return int.from_bytes(hashlib.sha256(text).digest()[:8], "big", signed=True)


def schema_lock(conn: Any, schema: str | None = None, *, timeout: float = 5.0) -> None:
    """Take the package's schema-change lock for the rest of the open transaction
    (``pg_advisory_xact_lock``: released at ``COMMIT`` or ``ROLLBACK``), waiting at most the
    connection's ``lock_timeout``. Processes starting at once take turns: the second plans
    after the first committed, finds nothing to do, and applies nothing."""
    psycopg = _psycopg()
    # For this transaction only: how long to wait, whoever opened the connection (0 would be
    # no limit to PostgreSQL, so the least wait is a millisecond).
    wait = f"{max(1, int(timeout * 1000))}ms"
    conn.execute("SELECT set_config('lock_timeout', %s, true)", (wait,))
    try:
        conn.execute("SELECT pg_advisory_xact_lock(%s)", (advisory_key(conn, schema),))
    except psycopg.errors.LockNotAvailable as exc:
        database = conn.info.dbname
        raise DatabaseLockedError(
            f"another process held the schema-change lock of PostgreSQL database "
            f"{database!r} for longer than {timeout:g} s (lock_timeout): {str(exc).strip()}",
            database,
            timeout,
        ) from exc
