"""``database(database="postgres", ...)``: the same :class:`~hedystia_models.Database`, rows,
migrations and sync, on a PostgreSQL server.

:class:`PostgresDatabase` is a :class:`~hedystia_models.Database` whose connection, schema
reads, schema changes and bookkeeping are PostgreSQL's; everything above them is the code that
runs on SQLite: the plan (:mod:`hedystia_models.migrate.planner`), the repositories
(:mod:`hedystia_models.rows`), the migration runner and ``ctx.schema``. They speak to the
server through :class:`~.dbapi.PostgresConnection`, which gives psycopg sqlite3's interface.

* **Connections**: each thread has its own connection, opened on its first call from the URL
  or settings given (or taken from a ``psycopg_pool`` pool given, and given back at
  :meth:`PostgresDatabase.close`); an open psycopg connection given is shared by every thread,
  taking turns, as a SQLite connection given is. Every connection runs in autocommit mode, in
  UTC, with a ``lock_timeout`` of the busy timeout and, with ``schema=``, that schema as its
  ``search_path``; the package opens each transaction itself (``BEGIN`` .. ``COMMIT``).
* **Transactions**: ``db.transaction()`` is ``BEGIN`` .. ``COMMIT``, nested blocks are
  savepoints. PostgreSQL has no database-wide write lock to take at ``BEGIN`` (SQLite's
  ``BEGIN IMMEDIATE``): rows are locked as they are written, and a wait for a lock is bounded
  by the ``lock_timeout``.
* **Schema changes** (sync, ``ctx.schema``, start-up) run in one transaction under the
  schema-change advisory lock (:func:`.connection.schema_lock`), so processes starting at once
  apply each change once.
* **Migrations**: ``ctx.engine`` is ``"postgres"``; ``ctx.db`` is this database (``ctx.db.conn``
  its connection, ``ctx.db.conn.raw`` the psycopg one); ``ctx.sql`` runs a statement as
  written, with ``?`` placeholders (or ``:name`` with a mapping) as on SQLite.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Collection, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import replace
from typing import TYPE_CHECKING, Any, TypeVar

from ...database import DEFAULT_BUSY_TIMEOUT, Database
from ...errors import (
    ConfigurationError,
    DatabaseFileError,
    DatabaseLockedError,
    HedystiaError,
    QueryError,
)
from ...model.table import Table
from ...schema.quoting import fold_identifier
from ...schema.quoting import quote_identifier as q
from ...schema.spec import ColumnSpec, TableSpec
from ..base import rows_as_dicts
from . import history as pg_history
from .connection import connect, transaction, use_schema
from .dbapi import PostgresConnection
from .executor import PostgresExecutor
from .types import column_for_postgres, table_for_postgres, with_kind

if TYPE_CHECKING:
    from ...migrate.context import SchemaReader
    from ...migrate.history import HistoryEntry
    from ...migrate.plan import Plan
    from ...migrate.runner import Migrator
    from ...rows.repository import Repository

__all__ = ["PostgresDatabase"]

M = TypeVar("M", bound=Table)


class _Held:
    """One thread's connection; closed (or given back to its pool) when the thread's storage
    goes, that is when the thread ends."""

    def __init__(self, pool: _Connections, conn: PostgresConnection) -> None:
        self.pool = pool
        self.conn = conn
        self.pid = os.getpid()

    def __del__(self) -> None:
        if self.pid == os.getpid():
            self.pool.release(self.conn)


class _Connections:
    """The connections of one :class:`PostgresDatabase` (see the module)."""

    def __init__(self, connection: Any, busy_timeout: float, schema: str | None) -> None:
        import psycopg

        self._busy_timeout = busy_timeout
        self._schema = schema
        self._source = connection
        self._pool: Any = None
        #: Every thread shares one connection (a psycopg connection passed in).
        self.shared = isinstance(connection, psycopg.Connection)
        #: Taken by a thread for its call when the connection is shared.
        self.lock = threading.RLock()
        self.closed = False
        self._local = threading.local()
        self._open: list[PostgresConnection] = []
        self._book = threading.Lock()
        if self.shared:
            raw = connection
            if raw.info.transaction_status != psycopg.pq.TransactionStatus.IDLE:
                raise ConfigurationError(
                    "the psycopg connection given is inside a transaction; commit or roll "
                    "it back first (the package opens its transactions itself)"
                )
            raw.autocommit = True  # the package runs BEGIN .. COMMIT itself
            self._shared = self._configured(raw)
        elif hasattr(connection, "getconn") and hasattr(connection, "putconn"):
            self._pool = connection  # a psycopg_pool pool
        else:
            # Open the first connection now: a bad URL or server fails in database(...).
            self._first: PostgresConnection | None = self._opened()

    def source_for_another(self) -> Any:
        """What another database object opens its own connections from: the URL, settings or
        pool given, or (for a psycopg connection given) its connection string, without the
        password libpq does not show (a password file or the server's trust gives it)."""
        if self.shared:
            return self._shared.raw.info.dsn
        return self._source

    @property
    def name(self) -> str:
        """The database's name, as errors name it."""
        conn = self._shared if self.shared else self.connection()
        return f"postgres:{conn.raw.info.dbname}"

    def _configured(self, raw: Any) -> PostgresConnection:
        raw.execute("SET TimeZone = 'UTC'")
        wait = f"{max(1, int(self._busy_timeout * 1000))}ms"
        raw.execute("SELECT set_config('lock_timeout', %s, false)", (wait,))
        if self._schema is not None:
            raw.execute("SELECT set_config('search_path', %s, false)", (q(self._schema),))
        return PostgresConnection(raw)

    def _opened(self) -> PostgresConnection:
        if self._pool is not None:
            raw = self._pool.getconn()
            raw.autocommit = True
            conn = self._configured(raw)
        else:
            raw, _ = connect(self._source, busy_timeout=self._busy_timeout)
            conn = self._configured(raw)
        with self._book:
            self._open.append(conn)
        return conn

    def connection(self) -> PostgresConnection:
        """The calling thread's connection (opened on its first call)."""
        if self.closed:
            raise DatabaseFileError("database is closed")
        if self.shared:
            return self._shared
        held: _Held | None = getattr(self._local, "held", None)
        if held is not None and (held.conn.raw.closed or held.conn.raw.broken):
            # The server ended it (a restart, a failover, an idle timeout): the call that
            # met it failed, named; the next one opens a new connection.
            self.release(held.conn)
            held = self._local.held = None
        if held is None or held.pid != os.getpid():
            first = getattr(self, "_first", None)
            if first is not None and held is None:
                self._first = None
                conn = first
            else:
                conn = self._opened()
            held = self._local.held = _Held(self, conn)
        return held.conn

    @contextmanager
    def guarded(self) -> Iterator[None]:
        """Hold the shared connection for a call (nothing to hold otherwise)."""
        if self.shared:
            with self.lock:
                yield
        else:
            yield

    def release(self, conn: PostgresConnection) -> None:
        """Close ``conn`` (or give it back to the pool)."""
        with self._book:
            if conn not in self._open:
                return
            self._open.remove(conn)
        try:
            if self._pool is not None:
                if conn.in_transaction:
                    conn.rollback()
                self._pool.putconn(conn.raw)
            else:
                conn.close()
        except Exception:
            pass

    def close(self) -> None:
        """Close every connection opened here (a connection passed in is the caller's)."""
        self.closed = True
        with self._book:
            opened = list(self._open)
        for conn in opened:
            self.release(conn)


@contextmanager
def _write_transaction(conn: PostgresConnection) -> Iterator[PostgresConnection]:
    """``BEGIN`` .. ``COMMIT`` (``ROLLBACK`` on any error), or a savepoint inside an open
    transaction: ``db.transaction()`` on PostgreSQL."""
    if conn.in_transaction:
        conn.savepoints += 1
        name = f"hedystia_{conn.savepoints}"
        conn.execute(f"SAVEPOINT {name}")
        try:
            yield conn
        except BaseException:
            if conn.in_transaction:
                conn.execute(f"ROLLBACK TO SAVEPOINT {name}")
                conn.execute(f"RELEASE SAVEPOINT {name}")
            raise
        else:
            conn.execute(f"RELEASE SAVEPOINT {name}")
        finally:
            conn.savepoints -= 1
        return
    conn.execute("BEGIN")
    try:
        yield conn
        if conn.failed:
            # A statement failed and its error was caught: PostgreSQL would answer COMMIT
            # with a ROLLBACK, and the block's writes would be lost without a word.
            raise QueryError(
                "the transaction was rolled back: a statement in it failed and its error was "
                "caught, and PostgreSQL keeps nothing of a transaction after a failed statement "
                "(run it in a nested db.transaction() block to go on without it)"
            )
        conn.execute("COMMIT")
    except BaseException:
        if conn.in_transaction:
            conn.rollback()
        raise


class PostgresReader:
    """``ctx.schema``'s :class:`~hedystia_models.migrate.context.SchemaReader` on
    PostgreSQL: tables read from the catalogs, specs declared with PostgreSQL's types."""

    def __init__(self, executor: PostgresExecutor) -> None:
        self._executor = executor

    def find_table(self, name: str) -> str | None:
        """See :meth:`SchemaReader.find_table`."""
        state = self._executor.read_state([name])
        exact = [n for n in state.tables if n == name]
        if exact:
            return exact[0]
        folded = [n for n in state.tables if fold_identifier(n) == fold_identifier(name)]
        return folded[0] if folded else None

    def read_table(self, stored: str) -> TableSpec:
        """See :meth:`SchemaReader.read_table`."""
        spec = self._executor.read_state([stored]).tables.get(stored)
        if spec is None:
            raise HedystiaError(f"table {stored!r} does not exist")
        return spec

    def has_rows(self, table: str) -> bool:
        """See :meth:`SchemaReader.has_rows`."""
        return self._executor.read_state([table]).has_rows(table)

    def find_index(self, name: str) -> tuple[str, str] | None:
        """See :meth:`SchemaReader.find_index`."""
        folded = fold_identifier(name)
        for table in self._executor.read_state().tables.values():
            for index in (*table.indexes, *table.unique_indexes):
                if fold_identifier(index.name) == folded:
                    return index.name, table.name
        return None

    def declared_table(self, spec: TableSpec) -> TableSpec:
        """See :meth:`SchemaReader.declared_table`."""
        columns = tuple(with_kind(c) for c in spec.columns)
        return table_for_postgres(replace(spec, columns=columns))

    def declared_column(self, spec: ColumnSpec) -> ColumnSpec:
        """See :meth:`SchemaReader.declared_column`."""
        declared = column_for_postgres(with_kind(spec))
        return declared if declared.kind is None else replace(declared, kind=None)


class PostgresMigrations:
    """The migration side of the PostgreSQL engine (a
    :class:`~hedystia_models.migrate.runner.MigrationEngine`): its bookkeeping tables, each
    migration's transaction under the schema-change lock, the catalogs for ``ctx.schema``."""

    name = "postgres"
    history = pg_history

    def __init__(self, db: PostgresDatabase) -> None:
        self._db = db

    def guard(self, conn: Any, *, everything: bool) -> Any:
        """PostgreSQL checks every foreign key as it is written: no guard."""
        return None

    @contextmanager
    def transaction(self, conn: Any, guard: Any) -> Iterator[Any]:
        """One transaction (a savepoint inside an open one) under the schema-change lock."""
        from .sync import locked

        with locked(conn.raw, self._db.schema, self._db.busy_timeout):
            yield conn

    def reader(self, db: Any) -> SchemaReader:
        """:class:`PostgresReader` of the database's executor."""
        return PostgresReader(self._db.executor)


class PostgresDatabase(Database):
    """A :class:`~hedystia_models.Database` on PostgreSQL; build it with
    ``database(database="postgres", connection=...)`` (see the module)."""

    engine = "postgres"

    def __init__(
        self,
        *,
        schemas: Any,
        connection: Any,
        busy_timeout: float = DEFAULT_BUSY_TIMEOUT,
        migrations: Any = None,
        ignore_tables: Collection[str] | None = None,
        strict_defaults: bool = False,
        cache: Any = None,
        schema: str | None = None,
    ) -> None:
        from ..sqlite.transaction import block_savepoint

        self._write_transaction = _write_transaction  # type: ignore[assignment]
        self._block_savepoint = block_savepoint
        if schema is not None and (not isinstance(schema, str) or not schema):
            raise ConfigurationError(f"schema must be a schema's name (got {schema!r})")
        if isinstance(busy_timeout, bool) or not isinstance(busy_timeout, (int, float)):
            raise ConfigurationError(f"busy_timeout must be a number (got {busy_timeout!r})")
        self._configure(schemas, migrations, ignore_tables, strict_defaults, cache)
        #: The schema the tables live in (``None``: the connection's ``search_path``).
        self.schema = schema
        self.busy_timeout = float(busy_timeout)
        self.read_only = False
        self.journal_mode = None
        self._pool = _Connections(connection, self.busy_timeout, schema)  # type: ignore[assignment]
        self._local = threading.local()
        self._repositories = {}
        self._aio = None
        #: The database as errors name it (``postgres:<name>``).
        self.path = self._connections.name

    # -- the connection -----------------------------------------------------------------------

    @property
    def conn(self) -> PostgresConnection:  # type: ignore[override]
        """The calling thread's connection (:class:`~.dbapi.PostgresConnection`; ``raw`` is
        the psycopg connection); a :class:`DatabaseFileError` once the database is closed."""
        try:
            return self._connections.connection()
        except DatabaseFileError:
            raise DatabaseFileError(f"database {self.path!r} is closed", self.path) from None

    @property
    def _connections(self) -> _Connections:
        return self._pool  # type: ignore[return-value]

    @property
    def sqlite(self) -> Any:
        """SQLite's ``sqlite_utils.Database``: there is none on PostgreSQL."""
        raise ConfigurationError(
            "db.sqlite is the SQLite engine's; on PostgreSQL use db.conn (db.conn.raw is the "
            "psycopg connection)"
        )

    @property
    def executor(self) -> PostgresExecutor:  # type: ignore[override]
        """Runs every schema change on the calling thread's connection."""
        return PostgresExecutor(self.conn.raw, schema=self.schema)

    @contextmanager
    def _guard(self, *, write: bool = False) -> Iterator[Any]:
        """One call on the thread's connection (the shared one held for it), PostgreSQL's
        failures of the connection or of a lock raised as named errors."""
        with self._connections.guarded():
            conn = self.conn
            try:
                yield conn
            except Exception as exc:
                named = self._named(exc)
                if named is None:
                    raise
                raise named from exc

    def _named(self, exc: Exception) -> HedystiaError | None:
        """The named error of ``exc``: a lock not granted within the ``lock_timeout``
        (:class:`DatabaseLockedError`), a connection that is closed or lost
        (:class:`DatabaseFileError`); ``None`` for any other."""
        import psycopg

        if isinstance(exc, HedystiaError):
            return None
        suffix = self._migration_outcome(exc)
        cause: BaseException | None = exc
        while cause is not None:
            if isinstance(cause, psycopg.errors.LockNotAvailable):
                return DatabaseLockedError(
                    f"database {self.path!r} is locked: a lock was not granted within "
                    f"{self.busy_timeout:g} s (lock_timeout): {str(cause).strip()}{suffix}",
                    self.path,
                    self.busy_timeout,
                )
            if isinstance(cause, psycopg.OperationalError | psycopg.errors.AdminShutdown) and (
                self._connection_lost(cause)
            ):
                return DatabaseFileError(
                    f"database {self.path!r}: the connection failed: {str(cause).strip()}{suffix}",
                    self.path,
                )
            cause = cause.__cause__
        return None

    def _connection_lost(self, failure: Exception) -> bool:
        """True when ``failure`` (a psycopg ``OperationalError``) is the connection's, not
        the statement's: a connection exception (SQLSTATE class 08), or the calling thread's
        connection now closed or broken."""
        state = str(getattr(failure, "sqlstate", None) or "")
        if state.startswith(("08", "57P")):  # connection exception, the server shutting down
            return True
        try:
            raw = self._connections.connection().raw
        except DatabaseFileError:
            return True
        return bool(raw.closed or raw.broken)

    def _read_one(self, sql: str, params: Sequence[Any]) -> Any:
        with self._guard() as conn:
            return conn.execute(sql, params).fetchone()

    # -- rows ---------------------------------------------------------------------------------

    def _repository(self, model: type[M]) -> Repository[M]:
        from .repository import PostgresRepository

        return PostgresRepository(self, model)

    # -- schema -------------------------------------------------------------------------------

    def plan(self) -> Plan:
        """Compare the live schema with the models; nothing is changed."""
        from .sync import plan

        with self._guard() as conn:
            return plan(
                conn.raw,
                self.specs,
                schema=self.schema,
                ignore_tables=self.ignore_tables,
                strict_defaults=self.strict_defaults,
            )

    def migration_plan(self) -> Plan:
        """:meth:`plan` with the models' own specs where it creates a table or adds or
        changes a column (not PostgreSQL's declared ones: ``BIGINT``, ``COLLATE "C"``), so the
        migration file written from it runs on both engines; ``ctx.schema`` declares them on
        PostgreSQL as sync does."""
        from ...migrate.operations import AddColumn, AlterColumn, CreateTable
        from ...migrate.plan import Plan

        specs = {fold_identifier(spec.name): spec for spec in self.specs}
        found = self.plan()
        operations = []
        for planned in found.operations:
            op = planned.operation
            model = specs.get(fold_identifier(op.table))
            if model is None:
                pass
            elif isinstance(op, CreateTable):
                op = replace(op, spec=model)
            elif isinstance(op, AddColumn) and model.has_column(op.column):
                op = replace(op, spec=model.column(op.column))
            elif isinstance(op, AlterColumn) and model.has_column(op.desired.name):
                op = replace(op, desired=model.column(op.desired.name))
            operations.append(replace(planned, operation=op))
        return Plan(tuple(operations), notes=found.notes)

    def sync(self) -> Plan:
        """Apply the safe operations of :meth:`plan` in one transaction under the
        schema-change lock; returns the plan it applied."""
        from .sync import sync

        with self._guard(write=True) as conn:
            return sync(
                conn.raw,
                self.specs,
                schema=self.schema,
                ignore_tables=self.ignore_tables,
                strict_defaults=self.strict_defaults,
                timeout=self.busy_timeout,
            )

    def upgrade(self) -> Plan:
        """:meth:`Database.upgrade` on PostgreSQL: the missing tables, the pending
        migrations, then the rest of the sync."""
        from .sync import create_missing_tables

        with self._guard(write=True) as conn:
            if self.migrations and self.migrator.status().pending:
                created = create_missing_tables(
                    conn.raw,
                    self.specs,
                    schema=self.schema,
                    ignore_tables=self.ignore_tables,
                    timeout=self.busy_timeout,
                )
                try:
                    self.migrator.up(provisional=[op.table for op in created.safe])
                finally:
                    self.cache_clear()
            return self.sync()

    @property
    def migrator(self) -> Migrator:
        """The :class:`~hedystia_models.migrate.runner.Migrator` of this database."""
        from ...migrate.runner import Migrator

        return Migrator(
            self,  # type: ignore[arg-type]
            self.migrations,
            _TracedExecutor(self.conn, self.schema),
            engine=PostgresMigrations(self),
        )

    def check_fresh(self) -> list[str]:
        """Replay the models and migrations in a scratch schema of this database, as a fresh
        clone would start, and list what goes wrong, one line each (empty when the history
        replays to exactly the models and to this database's schema): as
        :meth:`Database.check_fresh` does on SQLite with a scratch file. The scratch schema
        (``hedystia_fresh_<random>``) is dropped afterwards, whatever happened; this
        database's own schema is only read."""
        import secrets

        import psycopg

        from ...migrate.fresh import replay_problems, start_failure

        scratch_schema = f"hedystia_fresh_{secrets.token_hex(4)}"
        with self._guard() as conn:
            conn.raw.execute(f"CREATE SCHEMA {q(scratch_schema)}")
            try:
                scratch = PostgresDatabase(
                    schemas=self.models,
                    connection=self._connections.source_for_another(),
                    migrations=self.migrations,
                    ignore_tables=self.ignore_tables,
                    busy_timeout=self.busy_timeout,
                    schema=scratch_schema,
                )
                try:
                    try:
                        scratch.upgrade()
                    except (HedystiaError, psycopg.Error) as exc:
                        return [start_failure(exc)]
                    states = (scratch.executor.read_state(), self.executor.read_state())
                    return replay_problems(scratch.plan(), states, self.ignore_tables)
                finally:
                    scratch.close()
            finally:
                conn.raw.execute(f"DROP SCHEMA {q(scratch_schema)} CASCADE")

    def history(self) -> list[HistoryEntry]:
        """Every row of ``__hedystia_migrations``, oldest first."""
        with self._guard() as conn, transaction(conn.raw):
            use_schema(conn.raw, self.schema)
            return pg_history.read_history(conn)

    # -- SQL ----------------------------------------------------------------------------------

    def raw(
        self, sql: str, params: Sequence[Any] | Mapping[str, Any] | None = None
    ) -> list[dict[str, Any]]:
        """Run one SQL statement as written, with bound parameters (``?``, or ``:name`` with
        a mapping); rows come back as dicts. Outside a :meth:`transaction` block it commits
        at once (autocommit)."""
        with self._guard() as conn:
            changes = conn.total_changes
            try:
                # In a transaction, a savepoint of its own: a statement that fails (and whose
                # error the caller catches) leaves the transaction going, as on SQLite.
                rows = rows_as_dicts(conn.execute_as_written(sql, params, isolated=True))
            finally:
                self._forget_raw_writes(conn.total_changes != changes)
        return rows

    # -- lifetime -----------------------------------------------------------------------------

    def close(self) -> None:
        """Close the connections this object opened (closing twice is fine)."""
        if self._aio is not None:
            self._aio.shutdown()
        self._connections.close()

    def __repr__(self) -> str:
        return f"<PostgresDatabase {self.path}>"


class _TracedExecutor(PostgresExecutor):
    """The executor of migrations: each statement it runs is also reported to the
    connection's trace callback (the runner records a migration's DDL that way)."""

    def __init__(self, conn: PostgresConnection, schema: str | None) -> None:
        super().__init__(conn.raw, schema=schema)
        self._traced = conn

    def execute(self, table: str, compiled: Any) -> None:
        """Run ``compiled`` (see :meth:`PostgresExecutor.execute`), each statement traced."""
        trace = self._traced.trace_callback
        if trace is not None:
            for statement in compiled.statements:
                trace(statement)
        super().execute(table, compiled)
