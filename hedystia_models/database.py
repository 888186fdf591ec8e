"""``database(...)``: connect, hold the model set, and plan / sync the schema."""

from __future__ import annotations

import os
import sqlite3
import threading
from collections.abc import Collection, Iterator, Mapping, Sequence
from contextlib import AbstractContextManager, contextmanager
from types import TracebackType
from typing import TYPE_CHECKING, Any, TypeVar

import sqlite_utils

from .engine.sqlite.connection import SQLiteLockedError, lock_budget, named_failure
from .errors import ConfigurationError, DatabaseFileError, HedystiaError, MigrationError
from .model.table import Table, table_info
from .schema.quoting import fold_identifier

# The rest is imported where it is first used (issue 14): ``import hedystia_models`` loads
# neither the migration side (sync, the planner, migrations, the executor), nor the rows side
# (repositories, the read cache, relations), nor the connection pool; ``database(...)`` loads
# what it is asked for.
if TYPE_CHECKING:
    from .aio import AsyncDatabase
    from .engine.sqlite.executor import SQLiteExecutor
    from .engine.sqlite.opening import ConnectionLike
    from .engine.sqlite.pool import Session
    from .migrate.history import HistoryEntry
    from .migrate.migrations import MigrationDefinition, MigrationStatus, Migrator
    from .migrate.plan import Plan
    from .rows.cache import ReadCache
    from .rows.repository import Repository
    from .schema.spec import TableSpec

__all__ = ["DEFAULT_BUSY_TIMEOUT", "Database", "database"]

#: Seconds to wait for another connection's write lock before giving up.
DEFAULT_BUSY_TIMEOUT = 30.0

SUPPORTED_DATABASES = ("sqlite", "postgres")

M = TypeVar("M", bound=Table)


#: How many times this process is a forked child of the one that imported the package.
#: :attr:`Database.conn` keeps each thread's connection in the thread's local storage, with
#: this count, so that a call finds it without asking the pool (which compares process ids,
#: a system call each time, to notice a fork); after a fork the kept connections are the
#: parent's, so each thread asks the pool once again.
_forks = 0


def _forked() -> None:
    global _forks
    _forks += 1


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_forked)


class Database:
    """A SQLite database bound to a set of table models.

    Build it with :func:`database`. ``sqlite`` is the underlying ``sqlite_utils.Database`` and
    ``conn`` its ``sqlite3.Connection``, for anything this class does not cover.
    """

    def __init__(
        self,
        *,
        schemas: Any,
        connection: ConnectionLike,
        busy_timeout: float = DEFAULT_BUSY_TIMEOUT,
        migrations: Any = None,
        ignore_tables: Collection[str] | None = None,
        strict_defaults: bool = False,
        journal_mode: str | None = "wal",
        synchronous: str | None = None,
        cache: Any = None,
    ) -> None:
        from .engine.sqlite.opening import open_database
        from .engine.sqlite.pool import ConnectionPool
        from .engine.sqlite.transaction import block_savepoint, write_transaction

        # The statements of transactions and their savepoints, kept here for every block (so a
        # block pays no import; the module is imported with the first database, issue 14).
        self._write_transaction = write_transaction
        self._block_savepoint = block_savepoint
        self._configure(schemas, migrations, ignore_tables, strict_defaults, cache)
        opened = open_database(connection, busy_timeout, journal_mode, synchronous)
        self._pool = ConnectionPool(
            opened.db, opened.opener, owned=opened.owned, settings=opened.settings
        )
        self._owned = opened.owned
        self._local = threading.local()  # this thread's transaction depth and connection
        #: The database file (``":memory:"`` for one in memory), as errors name it.
        self.path: str = opened.path
        #: Opened with ``connection={"filename": ..., "read_only": True}``: every write fails.
        self.read_only: bool = opened.read_only
        #: Seconds a call may wait in all for another connection's lock.
        self.busy_timeout: float = busy_timeout
        #: The journal mode the file is put in before this process first writes to it
        #: (``"wal"`` by default); ``None`` when the package leaves it alone (a database in
        #: memory, a connection passed in, ``journal_mode=None``).
        self.journal_mode: str | None = opened.settings.journal_mode
        self._repositories: dict[type[Table], Repository[Any]] = {}
        self._aio: AsyncDatabase | None = None

    #: The engine this database runs on (``"sqlite"``; ``"postgres"`` for
    #: :class:`~hedystia_models.engine.postgres.database.PostgresDatabase`).
    engine = "sqlite"

    def _configure(
        self,
        schemas: Any,
        migrations: Any,
        ignore_tables: Collection[str] | None,
        strict_defaults: bool,
        cache: Any,
    ) -> None:
        """What every engine's database holds of its arguments: the models, their relations,
        the migrations, the tables other tools own, the read cache."""
        from .model.schemas import normalize_schemas
        from .rows.relations import RelationGraph

        self.models: dict[str, type[Table]] = normalize_schemas(schemas)
        # Every reference between the models, as relations both ways (rows/relations.py).
        self._relation_graph = RelationGraph(self.models.values())
        if not isinstance(strict_defaults, bool):
            raise ConfigurationError(
                f"strict_defaults must be True or False (got {strict_defaults!r})"
            )
        #: A default on one side only (model or database) counts as drift, not as a note.
        self.strict_defaults = strict_defaults
        #: Names or ``fnmatch`` patterns of tables other tools own: never reported or touched.
        self.ignore_tables: tuple[str, ...] = ()
        if ignore_tables is not None:  # ``None`` is no pattern, and nothing to check
            from .migrate.planner import ignore_patterns, ignored_by

            self.ignore_tables = ignore_patterns(ignore_tables)
            for model in self.models.values():
                name = table_info(model).name
                pattern = ignored_by(name, self.ignore_tables)
                if pattern is not None:
                    raise ConfigurationError(
                        f"model {model.__name__} declares table {name!r}, which ignore_tables "
                        f"pattern {pattern!r} ignores; remove the pattern or the model"
                    )
        self.migrations: list[MigrationDefinition] = []
        if migrations is not None:  # ``None`` is none (what load_migrations makes of it)
            from .migrate.loading import load_migrations

            self.migrations = load_migrations(migrations)
        #: The read cache of ``cache=`` (rows/cache.py), ``None`` when nothing is cached.
        self._read_cache: ReadCache | None = None
        if cache is not None and cache is not False:  # what build_read_cache makes None of
            from .rows.cache import build_read_cache

            self._read_cache = build_read_cache(cache, self.models)

    # -- the connection -----------------------------------------------------------------------

    @property
    def aio(self) -> AsyncDatabase:
        """The ``await`` API of this database (:class:`~hedystia_models.aio.AsyncDatabase`):
        ``await db.aio.table(User).insert(...)``, ``async with db.aio.transaction():``. Its
        calls run on worker threads, so an event loop never waits for SQLite."""
        aio = self._aio
        if aio is None or aio.pid != os.getpid():  # none yet, or made before a fork
            from .aio import AsyncDatabase

            with self._pool.lock:
                if self._aio is None or self._aio.pid != os.getpid():
                    self._aio = AsyncDatabase(self)
                aio = self._aio
        return aio

    @property
    def shared_connection(self) -> bool:
        """True when every thread shares one connection (a database in memory, a connection
        passed in), taking turns; False when each thread has its own (a file opened from its
        path). See :mod:`hedystia_models.engine.sqlite.pool`."""
        return self._pool.shared

    def _session(self) -> Session:
        """The calling thread's session of the pool; a :class:`DatabaseFileError` naming the
        file once the database is closed."""
        if self._pool.closed:
            raise DatabaseFileError(f"database {self.path!r} is closed", self.path)
        return self._pool.session()

    @property
    def sqlite(self) -> sqlite_utils.Database:
        """The calling thread's ``sqlite_utils.Database`` (its connection is :attr:`conn`)."""
        return self._session().sqlite

    @property
    def conn(self) -> sqlite3.Connection:
        """The calling thread's ``sqlite3.Connection``; a
        :class:`~hedystia_models.errors.DatabaseFileError` naming the file once the database
        is closed."""
        kept = getattr(self._local, "conn", None)
        if kept is not None and kept[0] == _forks:
            conn: sqlite3.Connection = kept[1]
        else:  # the thread's first call, or its first in a forked child
            conn = self.sqlite.conn
            self._local.conn = (_forks, conn)
        if not self._pool.closed:
            try:
                conn.total_changes  # noqa: B018 - raises once the connection is closed (is_open)
            except sqlite3.ProgrammingError:
                pass
            else:
                return conn
        raise DatabaseFileError(f"database {self.path!r} is closed", self.path)

    @property
    def executor(self) -> SQLiteExecutor:
        """Runs every schema change (sync, migrations) as SQL on the calling thread's
        connection."""
        return self._session().executor

    @property
    def _depth(self) -> int:
        depth: int = getattr(self._local, "depth", 0)
        return depth

    @_depth.setter
    def _depth(self, value: int) -> None:
        self._local.depth = value

    @contextmanager
    def connection(self) -> Iterator[sqlite3.Connection]:
        """The calling thread's connection, held for one call: a shared connection is held
        by this thread for the block; errors are named as :meth:`_guard` names them. The
        repositories run their reads in it."""
        with self._guard() as conn:
            yield conn

    @contextmanager
    def _writing(self) -> Iterator[None]:
        """Queue behind this process's other writers (the outermost write of a thread); see
        :attr:`~hedystia_models.engine.sqlite.pool.ConnectionPool.write_lock`."""
        if self._pool.shared:
            yield
            return
        with self._pool.holding_write_lock(self.busy_timeout) as taken:
            if not taken:
                raise SQLiteLockedError(
                    f"database {self.path!r} is locked: another thread of this process held "
                    f"the write lock for more than {self.busy_timeout:g} s",
                    self.path,
                    self.busy_timeout,
                )
            if not self.read_only:
                self._pool.before_write()
            yield

    @contextmanager
    def _guard(self, *, write: bool = False) -> Iterator[sqlite3.Connection]:
        """Run one call: on an open connection (held by this thread, when it is shared), with
        one ``busy_timeout`` to wait for locks in all, behind this process's other writers for
        a ``write``, and with SQLite's failures of the file or the connection (locked,
        read-only, not a database, closed) raised as the named errors of
        :func:`~hedystia_models.engine.sqlite.connection.named_failure`."""
        with self._pool.guarded():
            conn = self.conn
            try:
                with lock_budget(conn, self.busy_timeout):
                    if write:
                        with self._writing():
                            yield conn
                    else:
                        yield conn
            except Exception as exc:
                named = self._named(exc)
                if named is None:
                    raise
                raise named from exc

    def _end_block(self, conn: sqlite3.Connection, depth: int, exc: BaseException | None) -> None:
        """Close the savepoint of a block ``depth`` deep in the calling thread's transaction:
        released, or (``exc``: the block failed) rolled back to and released, unless SQLite
        rolled the whole transaction back; the thread's depth back as it was; SQLite failing
        because of the file or the connection raised as its named error (``exc`` too). An
        ``exc`` that is not such a failure is left for the caller to raise again. (Used by
        ``db.transaction()`` blocks and by ``insert``, which opens its savepoint itself.)"""
        _, release, rollback = self._block_savepoint(depth)
        try:
            try:
                if exc is None:
                    conn.execute(release)
                elif conn.in_transaction:  # not when SQLite rolled the transaction back
                    conn.execute(rollback)
                    conn.execute(release)
            finally:
                self._local.depth = depth - 1
        except Exception as error:
            named = self._named(error)
            if named is None:
                raise
            raise named from error
        if isinstance(exc, Exception):
            named = self._named(exc)
            if named is not None:
                raise named from exc

    def _named(self, exc: Exception) -> HedystiaError | None:
        """The named error of ``exc`` (see :meth:`_guard`), ``None`` when it has none."""
        return named_failure(
            exc,
            self.path,
            self.busy_timeout,
            read_only=self.read_only,
            suffix=self._migration_outcome(exc),
        )

    def _read_one(self, sql: str, params: Sequence[Any]) -> Any:
        """The first row of one read statement (``None`` when there is none): what ``with
        self.connection() as conn:`` and ``conn.execute(sql, params).fetchone()`` in it give,
        for less.

        A single statement waits for a lock once at most, on the connection's busy timeout:
        outside a call that is ``busy_timeout`` (every :func:`lock_budget` sets it back), and
        inside one (a read in a transaction) what is left of that call's budget, as set. So
        the budget of :meth:`_guard` would change nothing here, and is left out."""
        pool = self._pool
        if pool.shared:
            with pool.lock:
                return self._fetch_one(self.conn, sql, params)
        # self.conn, inline: a connection closed meanwhile fails in execute, named the same.
        kept = getattr(self._local, "conn", None)
        if kept is None or kept[0] != _forks or pool.closed:
            return self._fetch_one(self.conn, sql, params)
        return self._fetch_one(kept[1], sql, params)

    def _fetch_one(self, conn: sqlite3.Connection, sql: str, params: Sequence[Any]) -> Any:
        try:
            return conn.execute(sql, params).fetchone()
        except Exception as exc:  # a closed connection too: "database ... is closed"
            named = self._named(exc)
            if named is None:
                raise
            raise named from exc

    def _migration_outcome(self, exc: Exception) -> str:
        """What became of the migration ``exc`` stopped, as a message suffix ('' if none)."""
        if not isinstance(exc, MigrationError) or exc.migration is None:
            return ""
        definition = next((m for m in self.migrations if m.name == exc.migration), None)
        if definition is not None and not definition.transactional:
            outcome = "is not transactional, so what it did before failing may remain"
        else:
            outcome = "was rolled back"
        return f"; migration {exc.migration!r} {outcome}"

    # -- rows ---------------------------------------------------------------------------------

    def table(self, model: type[M]) -> Repository[M]:
        """The typed :class:`~hedystia_models.rows.repository.Repository` of ``model``; an
        :class:`~hedystia_models.errors.UnknownTableError` (also a ``KeyError``) when ``model``
        is not one of this database's models."""
        from .errors import UnknownTableError

        repository = self._repositories.get(model) if isinstance(model, type) else None
        if repository is None:
            if not isinstance(model, type) or model not in self.models.values():
                known = ", ".join(m.__name__ for m in self.models.values())
                hint = f"; use db[{model!r}] for a table name" if isinstance(model, str) else ""
                raise UnknownTableError(
                    f"{getattr(model, '__name__', model)!r} is not one of this database's "
                    f"models ({known}){hint}"
                )
            repository = self._repository(model)
            self._repositories[model] = repository
        return repository

    def _repository(self, model: type[M]) -> Repository[M]:
        """A new repository of ``model`` (the engine's kind)."""
        from .rows.repository import Repository

        return Repository(self, model)

    def __getitem__(self, name: str) -> Repository[Any]:
        """The repository for a table name or a schemas key: ``db["users"]``; an
        :class:`~hedystia_models.errors.UnknownTableError` (also a ``KeyError``) listing the
        known names when ``name`` is neither."""
        from .errors import UnknownTableError

        model = self.models.get(name) if isinstance(name, str) else None
        if model is None and isinstance(name, str):
            folded = fold_identifier(name)
            model = next(
                (m for m in self.models.values() if fold_identifier(table_info(m).name) == folded),
                None,
            )
        if model is None:
            known = ", ".join(
                sorted({*self.models, *(table_info(m).name for m in self.models.values())})
            )
            hint = "; use db.table(Model) for a model class" if isinstance(name, type) else ""
            raise UnknownTableError(f"no table or schema named {name!r} (known: {known}){hint}")
        return self.table(model)

    def __getattr__(self, name: str) -> Repository[Any]:
        """The repository for a table name or a schemas key: ``db.users``; an
        :class:`~hedystia_models.errors.UnknownTableAttributeError` (an ``AttributeError``
        and an ``UnknownTableError``) when ``name`` is neither."""
        from .errors import UnknownTableAttributeError, UnknownTableError

        if name.startswith("_"):  # not a table: private and special names stay unknown
            raise AttributeError(f"{type(self).__name__!r} object has no attribute {name!r}")
        try:
            return self[name]
        except UnknownTableError as exc:
            error = UnknownTableAttributeError(*exc.args)
            error.name, error.obj = name, self
            raise error from None

    # -- schema -------------------------------------------------------------------------------

    @property
    def specs(self) -> list[TableSpec]:
        """The :class:`TableSpec` of every model, in the order given."""
        return [table_info(model).spec for model in self.models.values()]

    def plan(self) -> Plan:
        """Compare the live schema with the models; nothing is changed."""
        from .migrate.planner import plan_for

        with self._guard():
            return plan_for(
                self.specs,
                self.executor,
                ignore_tables=self.ignore_tables,
                strict_defaults=self.strict_defaults,
            )

    def migration_plan(self) -> Plan:
        """:meth:`plan`, for a migration file (``migration create --auto``): its operations
        hold the models' specs, so that the file runs on every engine (on SQLite, the plan
        itself)."""
        return self.plan()

    def sync(self) -> Plan:
        """Apply the safe operations of :meth:`plan` in one transaction (see
        :func:`hedystia_models.migrate.sync.sync`); returns the plan it applied."""
        from .migrate.sync import sync

        with self._guard(write=True):
            return sync(
                self.sqlite,
                self.specs,
                self.executor,
                ignore_tables=self.ignore_tables,
                strict_defaults=self.strict_defaults,
            )

    def upgrade(self) -> Plan:
        """Bring the database to the models and the migrations, the way start-up does with
        ``sync_schemas=True, run_migrations=True``: create the tables the models declare and
        the database lacks, then run the pending migrations (which converge: a step whose
        target already holds does nothing), then sync the rest (columns and indexes).

        So a migration can alter or seed a table that only the models declare, a rename
        migration runs before sync could add the new name as an empty column, and a fresh
        database built from the models replays the whole history. A table created in the
        first step is provisional: a migration that creates it itself (``ctx.schema`` or a raw
        ``CREATE TABLE``) replaces it while it is empty. Returns the final sync's plan. See
        ``docs/team-workflow.md``.
        """
        with self._guard(write=True):
            if self.migrations and self.migrator.status().pending:
                from .migrate.sync import create_missing_tables

                created = create_missing_tables(
                    self.sqlite, self.specs, self.executor, ignore_tables=self.ignore_tables
                )
                try:
                    self.migrator.up(provisional=[op.table for op in created])
                finally:
                    self.cache_clear()  # a migration's rows are written past the cache
            return self.sync()

    # -- migrations ---------------------------------------------------------------------------

    @property
    def migrator(self) -> Migrator:
        """The :class:`~hedystia_models.migrate.migrations.Migrator` of this database."""
        from .migrate.runner import Migrator

        return Migrator(self.sqlite, self.migrations, self.executor)

    def migrate_up(self) -> list[str]:
        """Apply pending migrations in order; return their names."""
        with self._guard(write=True):
            try:
                return self.migrator.up()
            finally:
                self.cache_clear()  # a migration's rows are written past the cache

    def migrate_down(self, steps: int = 1) -> list[str]:
        """Roll back the ``steps`` newest applied migrations, newest first; return their names
        (``[]`` when none is applied)."""
        with self._guard(write=True):
            try:
                return self.migrator.down(steps)
            finally:
                self.cache_clear()

    def stamp(self, *names: str) -> list[str]:
        """Record migrations as applied without running them (Alembic's ``stamp``, Django's
        ``--fake``): the named ones, or every pending one when no name is given. The timeline
        records each as stamped. For a database that reached the schema another way (made
        before migrations existed, say). Returns the names stamped."""
        with self._guard(write=True):
            return self.migrator.stamp(list(names) if names else None)

    def migration_status(self) -> MigrationStatus:
        """Applied (with ``executed_at``), pending, edited-after-apply and missing migrations."""
        with self._guard():
            return self.migrator.status()

    def check(self) -> list[str]:
        """Everything that keeps the database from matching the code, one line each (empty
        when all is well): every operation of :meth:`plan` (unsafe findings included),
        pending migrations, migrations edited after they were applied, and applied migrations
        missing from the code. ``hedystia-models check`` prints this list; a test can assert
        ``db.check() == []``."""
        with self._guard():
            status = self.migration_status()
            problems = [f"schema: {op.describe()}" for op in self.plan().operations]
        problems += [f"pending migration: {name}" for name in status.pending]
        problems += [f"edited after apply: {name}" for name in status.edited]
        problems += [f"applied but missing from code: {name}" for name in status.missing]
        return problems

    def check_fresh(self) -> list[str]:
        """Replay this database's models and migrations on a scratch database in a temporary
        file, as a fresh clone would start, and list what goes wrong, one line each (empty when
        the history replays to exactly the models and to this database's schema): see
        :func:`hedystia_models.migrate.fresh.check_fresh`. This database is only read;
        ``hedystia-models check --fresh`` prints this list."""
        from .migrate.fresh import check_fresh

        with self._guard():
            return check_fresh(
                self.models, self.migrations, against=self.sqlite, ignore_tables=self.ignore_tables
            )

    def history(self) -> list[HistoryEntry]:
        """Every row of ``__hedystia_migrations``, oldest first."""
        from .migrate.history import read_history

        with self._guard() as conn:
            return read_history(conn)

    # -- SQL ----------------------------------------------------------------------------------

    def raw(
        self, sql: str, params: Sequence[Any] | Mapping[str, Any] | None = None
    ) -> list[dict[str, Any]]:
        """Run one SQL statement with bound parameters; rows come back as dicts.

        Outside a :meth:`transaction` block a write is committed at once, and a failing one
        is rolled back.
        """
        from .engine.base import rows_as_dicts  # (not loaded by ``import hedystia_models``)

        with self._guard() as conn:
            changes = conn.total_changes
            try:
                rows = rows_as_dicts(conn.execute(sql, params if params is not None else ()))
                if self._depth == 0 and conn.in_transaction:
                    conn.commit()
            except BaseException:
                # sqlite3 opened a transaction for the write; without this it would stay open
                # (holding its lock) until the next call happened to commit it.
                if self._depth == 0 and conn.in_transaction:
                    conn.rollback()
                raise
            finally:
                self._forget_raw_writes(conn.total_changes != changes)
        return rows

    def _forget_raw_writes(self, changed: bool) -> None:
        """After :meth:`raw`: when it ``changed`` rows, in tables raw SQL does not name
        reliably, the read cache forgets every table (now, outside a transaction)."""
        if self._read_cache is not None and changed:
            self._read_cache.written_everywhere()
            if self._depth == 0:
                self._read_cache.flush()

    def transaction(self) -> AbstractContextManager[Database]:
        """Group writes atomically: commit at the end of the block, roll back on error.

        Nested blocks are savepoints. The write lock is taken at the start (``BEGIN
        IMMEDIATE``), so a busy database is waited for rather than failing midway.
        """
        return _Transaction(self)

    def _write(self) -> _Transaction:
        """:meth:`transaction`, for the repository's writes: the block's ``conn`` is the
        connection it writes on."""
        return _Transaction(self)

    @contextmanager
    def _transaction(self) -> Iterator[Database]:
        """:meth:`transaction`, whole: the call's guard, lock budget and write lock, then
        ``BEGIN IMMEDIATE`` (a savepoint when a transaction is open)."""
        with self._guard(write=True) as conn:
            self._depth += 1
            try:
                with self._write_transaction(conn):
                    yield self
            finally:
                self._depth -= 1
                if self._depth == 0 and self._read_cache is not None:
                    # Committed or rolled back: forget the tables written in the block.
                    self._read_cache.flush()

    @property
    def in_transaction(self) -> bool:
        """True inside a :meth:`transaction` block."""
        return self._depth > 0

    def cache_clear(self) -> None:
        """Forget every read the cache (``database(..., cache=...)``) holds: after writes it
        cannot see (another process or tool, a trigger, schema changes through :meth:`raw`).
        Nothing happens without a cache."""
        if self._read_cache is not None:
            self._read_cache.clear()

    # -- lifetime -----------------------------------------------------------------------------

    def close(self) -> None:
        """Close the connections this object opened, every thread's (closing twice is fine);
        any call after that is a :class:`~hedystia_models.errors.DatabaseFileError`. A
        connection passed in is the caller's to close."""
        if self._aio is not None:
            self._aio.shutdown()
        self._pool.close()

    def __enter__(self) -> Database:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


class _Transaction:
    """The block of :meth:`Database.transaction`.

    A block inside another block of the same thread is a savepoint of its transaction and no
    more: the outer block holds the call's guard (the shared connection's lock), its lock
    budget and the write lock, and runs ``BEGIN IMMEDIATE`` and ``COMMIT``, so the inner one
    opens and releases its savepoint, and names SQLite's failures as :meth:`Database._guard`
    does. Every other block is :meth:`Database._transaction`. Which one is decided on entry,
    on the thread that enters (``db.aio`` makes the block on the event loop's thread and
    enters it on a worker)."""

    __slots__ = ("_db", "_depth", "_general", "conn")

    def __init__(self, db: Database) -> None:
        self._db = db
        self._general: AbstractContextManager[Database] | None = None
        self._depth = 0  #: the block's depth when it is a savepoint
        #: The connection of the block, once entered.
        self.conn: sqlite3.Connection

    def __enter__(self) -> Database:
        db = self._db
        local = db._local  # the thread's depth, as Database._depth reads it
        depth = getattr(local, "depth", 0)
        if depth:
            conn = db.conn  # a DatabaseFileError once the database is closed
            if conn.in_transaction:
                depth += 1
                try:
                    conn.execute(db._block_savepoint(depth)[0])
                except Exception as exc:
                    named = db._named(exc)
                    if named is None:
                        raise
                    raise named from exc
                self.conn = conn
                self._general = None
                self._depth = local.depth = depth
                return db
        general = self._general = db._transaction()
        entered = general.__enter__()
        self.conn = db.conn
        return entered

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> bool | None:
        general = self._general
        if general is not None:
            self._general = None
            return general.__exit__(exc_type, exc, tb)
        depth, self._depth = self._depth, 0
        assert depth, "the block was not entered"
        self._db._end_block(self.conn, depth, exc if exc_type is not None else None)
        return None


def database(
    *,
    schemas: Any,
    database: str = "sqlite",
    connection: ConnectionLike,
    sync_schemas: bool = False,
    run_migrations: bool = False,
    migrations: Any = None,
    busy_timeout: float = DEFAULT_BUSY_TIMEOUT,
    ignore_tables: Collection[str] | None = None,
    strict_defaults: bool = False,
    journal_mode: str | None = "wal",
    synchronous: str | None = None,
    cache: Any = None,
    schema: str | None = None,
) -> Database:
    """Connect to SQLite (or PostgreSQL) with a set of table models.

    :param schemas: a list of ``Table`` classes, a dict ``{name: model}``, or a module whose
        ``Table`` subclasses are taken (``import app.schemas as schemas``).
    :param database: the engine: ``"sqlite"`` (the default) or ``"postgres"`` (psycopg 3:
        ``pip install 'hedystia-models[postgres]'``; see ``docs/engines.md``).
    :param connection: for SQLite ``{"filename": path}``, a path, ``":memory:"``, or an open
        ``sqlite3.Connection`` / ``sqlite_utils.Database``; for PostgreSQL a
        ``postgresql://`` URL, a mapping of libpq settings (``host``, ``port``, ``dbname``,
        ``user``, ``password``, ...), an open psycopg connection or a ``psycopg_pool``
        pool. ``{"filename": path, "read_only":
        True}`` opens an existing file for reading only: every write fails naming the file.
        A path that cannot be a database (a directory, a file that is not SQLite) fails here,
        with a :class:`~hedystia_models.errors.DatabaseFileError` naming it.
    :param sync_schemas: run :meth:`Database.sync` now, so importing a module that builds its
        database at import time leaves the file in sync.
    :param run_migrations: apply pending ``migrations`` now. With ``sync_schemas`` too, both
        run as :meth:`Database.upgrade` does: missing tables first, then the migrations, then
        the rest of the sync.
    :param migrations: a list or dict of :func:`~hedystia_models.migration` definitions, a
        module or package holding them, or a directory of migration files.
    :param busy_timeout: seconds to wait for another process's write lock: in all, for each
        call (a sync reads the schema and then takes the lock, within one timeout), after
        which the call raises :class:`~hedystia_models.errors.DatabaseLockedError`.
    :param ignore_tables: tables other tools own (Django's, Alembic's ``alembic_version``):
        names or ``fnmatch`` patterns such as ``"django_*"``, matched as SQLite matches table
        names (ASCII case-insensitively). They are never reported (no ``drop_table``, not in
        :meth:`Database.check`) and never touched; a model may not declare one.
    :param strict_defaults: count a default present on one side only (the model's, kept in
        Python, or the database's) as drift; by default it is a note of the plan
        (``plan.notes``), since writes through this package always give the column a value.
    :param journal_mode: the journal mode a file opened from its path is switched to:
        ``"wal"`` (the default: readers never block the writer, as Litestream requires),
        ``"delete"``, ``"truncate"`` or ``"persist"``; ``None`` leaves the file's mode as it
        is. When another process holds the file at that moment, it keeps its mode. A database
        in memory and a connection passed in are left alone.
    :param synchronous: SQLite's ``synchronous`` level (``"off"``, ``"normal"``, ``"full"``,
        ``"extra"``). By default ``"normal"`` in WAL mode and ``"full"`` otherwise: no
        committed transaction is lost when the application crashes. See ``docs/web.md``
        for what each level keeps on power loss.
    :param cache: cache reads (``find``, ``find_first``, ``get``, ``count``, ``exists``):
        ``True`` or a :class:`~hedystia_models.rows.cache.Cache` (``ttl``, ``max_lifetime``,
        ``max_entries``) for every table, or a dict of them by table name, schemas key or
        model (``{"users": Cache(ttl=10)}``); ``None`` (the default) caches nothing. Writes
        through the package forget what they change; other processes' are not seen (see
        ``docs/rows.md`` and :meth:`Database.cache_clear`).
    :param schema: PostgreSQL only: the schema the tables (and the bookkeeping tables) live
        in, made the ``search_path`` of every connection; ``None`` keeps the connection's.
    """
    if database not in SUPPORTED_DATABASES:
        raise ConfigurationError(
            f"database={database!r} is not supported; supported: {', '.join(SUPPORTED_DATABASES)}"
        )
    if database != "postgres" and schema is not None:
        raise ConfigurationError(
            "schema= is PostgreSQL's setting (the schema the tables live in); SQLite has none"
        )
    db: Database
    common: dict[str, Any] = {
        "schemas": schemas,
        "connection": connection,
        "busy_timeout": busy_timeout,
        "migrations": migrations,
        "ignore_tables": ignore_tables,
        "strict_defaults": strict_defaults,
        "cache": cache,
    }
    if database == "postgres":
        from .engine.postgres.database import PostgresDatabase

        if journal_mode != "wal" or synchronous is not None:
            raise ConfigurationError(
                "journal_mode and synchronous are SQLite's settings; PostgreSQL has neither "
                "(leave them out for database='postgres')"
            )
        db = PostgresDatabase(**common, schema=schema)
    else:
        db = Database(**common, journal_mode=journal_mode, synchronous=synchronous)
    return _started(db, sync_schemas=sync_schemas, run_migrations=run_migrations)


def _started(db: Database, *, sync_schemas: bool, run_migrations: bool) -> Database:
    """``db`` after the start-up ``database(...)`` was asked for (closed when it fails)."""
    try:
        if run_migrations and sync_schemas:
            db.upgrade()
        elif run_migrations:
            db.migrate_up()
        elif sync_schemas:
            db.sync()
    except BaseException:
        db.close()
        raise
    return db
