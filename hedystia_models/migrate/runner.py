"""Running migrations: :class:`Migrator` applies, rolls back and reports on a list of them.

Each migration runs once, in order, in its own transaction together with its tracking row in
``__hedystia_migrations``; a failure rolls back everything it did and stops the run. A step
may be ``async def`` (it is run to completion, even from inside a running event loop), and
the schema statements it runs are recorded with its history row. :meth:`Migrator.status` gives
a :class:`MigrationStatus`.

A migration's ``ctx.sql`` may touch any table, so the foreign-key check before its ``COMMIT``
covers every table, and fails only on what the migration introduced: a foreign key SQLite
cannot enforce that was not broken before, or more rows without a parent than a table had
before (see :mod:`hedystia_models.engine.sqlite.transaction`). A table another tool left broken
never stops a migration. A ``transactional=False`` migration is compared with the database as
it was before it ran, when it is recorded.
"""

from __future__ import annotations

import inspect
import sqlite3
import threading
from collections.abc import Iterable, Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass
from types import ModuleType
from typing import Any, Protocol

import sqlite_utils

from ..engine.base import Executor
from ..engine.sqlite.transaction import ForeignKeyGuard, schema_transaction
from ..errors import MigrationError
from ..schema.quoting import fold_identifier
from . import history
from .context import MigrationContext, SchemaReader
from .definitions import MigrationDefinition, Step

__all__ = ["AppliedMigration", "MigrationStatus", "Migrator"]


@dataclass(frozen=True)
class AppliedMigration:
    """A migration recorded in ``__hedystia_migrations``."""

    name: str
    executed_at: str
    checksum: str | None
    edited: bool
    missing: bool


@dataclass(frozen=True)
class MigrationStatus:
    """Applied migrations (oldest first), pending ones (in run order), and the problems:
    ``edited`` (changed after being applied) and ``missing`` (recorded but not in the code)."""

    applied: list[AppliedMigration]
    pending: list[str]

    @property
    def edited(self) -> list[str]:
        """Applied migrations whose source changed since they ran."""
        return [m.name for m in self.applied if m.edited]

    @property
    def missing(self) -> list[str]:
        """Migrations recorded in the database but absent from the code."""
        return [m.name for m in self.applied if m.missing]

    @property
    def clean(self) -> bool:
        """Nothing pending, edited or missing."""
        return not (self.pending or self.edited or self.missing)

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready form."""
        return {
            "applied": [vars(m) for m in self.applied],
            "pending": self.pending,
            "edited": self.edited,
            "missing": self.missing,
        }


def _call(step: Step, ctx: MigrationContext, direction: str) -> None:
    result = step(ctx)
    if inspect.isawaitable(result):
        _await(result)
        return
    # A step whose body never ran: what it returns is ignored otherwise (a lambda may well
    # return what ctx.sql returned), but not a function it was meant to call, nor a
    # generator, whose body runs only when it is iterated.
    if inspect.isgenerator(result) or inspect.isasyncgen(result):
        raise MigrationError(
            f"migration {ctx.name!r}: {direction} returned a generator, whose body runs only "
            "when it is iterated, so none of its work was done; the migration was rolled "
            "back: remove the yield",
            ctx.name,
        )
    if inspect.isfunction(result) or inspect.ismethod(result):
        function = result.__name__
        raise MigrationError(
            f"migration {ctx.name!r}: {direction} returned the function {function} instead of "
            "running it, so none of its work was done; the migration was rolled back: call it "
            f"({direction}={function}, or lambda ctx: {function}(ctx))",
            ctx.name,
        )


def _await(awaitable: Any) -> None:
    import asyncio  # only async steps need it; importing the package does not (issue 14)

    async def runner() -> None:
        await awaitable

    try:
        asyncio.get_running_loop()
    except RuntimeError:
        asyncio.run(runner())
        return
    # Called from inside a running event loop (an async app's start-up, an async test): the
    # migration must finish before we go on, and asyncio starts no second loop in a thread
    # that runs one. So the step runs to completion on a loop of its own in a helper thread,
    # while this thread (and its loop) waits; its statements run on this thread's connection,
    # which is not used meanwhile. ``await db.aio.migrate_up()`` waits without blocking.
    failure: list[BaseException] = []

    def run() -> None:
        try:
            asyncio.run(runner())
        except BaseException as exc:  # handed to the waiting thread
            failure.append(exc)

    helper = threading.Thread(target=run, name="hedystia-migration-step")
    helper.start()
    helper.join()
    if failure:
        raise failure[0]


_DDL = ("CREATE", "ALTER", "DROP")


@contextmanager
def _capture_ddl(conn: sqlite3.Connection) -> Iterator[list[str]]:
    """Collect the schema statements (``CREATE``/``ALTER``/``DROP``) run on ``conn`` inside the
    block, for the history row. Data statements are not recorded: they may hold user data.

    This uses ``sqlite3``'s trace callback, which replaces any callback set on the connection
    for the duration of the block.
    """
    statements: list[str] = []

    def trace(statement: str) -> None:
        text = statement.strip()
        if text and text.split(None, 1)[0].upper() in _DDL:
            statements.append(text)

    conn.set_trace_callback(trace)
    try:
        yield statements
    finally:
        conn.set_trace_callback(None)


class MigrationEngine(Protocol):
    """What the runner needs of an engine: its name (``ctx.engine``), its bookkeeping tables
    (a module with :mod:`.history`'s functions), a guard and the transaction a schema change
    runs in, and how ``ctx.schema`` reads the live database. SQLite's is
    :data:`SQLITE_MIGRATIONS`; PostgreSQL's is in
    :mod:`hedystia_models.engine.postgres.database`."""

    @property
    def name(self) -> str:
        """``ctx.engine``: ``"sqlite"`` or ``"postgres"``."""
        ...

    @property
    def history(self) -> ModuleType:
        """The bookkeeping functions (those of :mod:`.history`)."""
        ...

    def guard(self, conn: Any, *, everything: bool) -> Any:
        """What the transaction checks before it commits (SQLite: a
        :class:`~hedystia_models.engine.sqlite.transaction.ForeignKeyGuard`, which the
        runner starts before a step that is not transactional; ``None`` for none)."""
        ...

    def transaction(self, conn: Any, guard: Any) -> AbstractContextManager[Any]:
        """The transaction of one schema change (a savepoint inside an open one)."""
        ...

    def reader(self, db: Any) -> SchemaReader | None:
        """The :class:`~.context.SchemaReader` of ``ctx.schema`` (``None``: SQLite's)."""
        ...


class _SQLiteMigrations:
    """:class:`MigrationEngine` of SQLite: its history tables, the foreign-key guard."""

    name = "sqlite"
    history = history

    def guard(self, conn: Any, *, everything: bool) -> Any:
        """A :class:`ForeignKeyGuard` of ``conn`` (of every table, with ``everything``)."""
        return ForeignKeyGuard(conn, everything=everything)

    def transaction(self, conn: Any, guard: Any) -> AbstractContextManager[Any]:
        """:func:`schema_transaction` with ``guard``."""
        return schema_transaction(conn, guard)

    def reader(self, db: Any) -> SchemaReader | None:
        """SQLite's reader is the context's default."""
        return None


#: The migration side of the SQLite engine.
SQLITE_MIGRATIONS: MigrationEngine = _SQLiteMigrations()


class Migrator:
    """Runs a list of migrations against one database."""

    def __init__(
        self,
        db: sqlite_utils.Database,
        definitions: list[MigrationDefinition],
        executor: Executor | None = None,
        *,
        engine: MigrationEngine = SQLITE_MIGRATIONS,
    ) -> None:
        self.db = db
        self.definitions = definitions
        self.executor = executor
        self.engine = engine
        self._history = engine.history
        self._by_name = {d.name: d for d in definitions}

    def _applied(self) -> list[history.HistoryEntry]:
        return [e for e in self._history.read_history(self.db.conn) if e.kind == "migration"]

    def status(self) -> MigrationStatus:
        """Which migrations ran, which are pending, which were edited or are missing."""
        applied_entries = self._applied()
        applied = []
        for entry in applied_entries:
            definition = self._by_name.get(entry.name)
            applied.append(
                AppliedMigration(
                    name=entry.name,
                    executed_at=entry.executed_at,
                    checksum=entry.checksum,
                    edited=definition is not None and definition.checksum != entry.checksum,
                    missing=definition is None,
                )
            )
        done = {e.name for e in applied_entries}
        return MigrationStatus(
            applied=applied, pending=[d.name for d in self.definitions if d.name not in done]
        )

    def _is_applied(self, name: str) -> bool:
        return bool(self._history.is_applied(self.db.conn, name))

    def _transaction(self, guard: Any = None) -> AbstractContextManager[Any]:
        """The transaction of a schema change (``guard``: the engine's, or a new one)."""
        conn = self.db.conn
        if guard is None:
            guard = self.engine.guard(conn, everything=False)
        return self.engine.transaction(conn, guard)

    def _ensure_tables(self) -> None:
        if not self._history.tables_exist(self.db.conn):
            with self._transaction():
                self._history.ensure_tables(self.db.conn)

    def up(self, *, provisional: Iterable[str] = (), steps: int | None = None) -> list[str]:
        """Apply pending migrations in order (at most ``steps`` of them); return the names
        applied. ``provisional`` names the tables start-up has just created from the models
        (see :meth:`hedystia_models.Database.upgrade`): a migration that creates one of them
        itself replaces it while it is empty."""
        done = {e.name for e in self._applied()}
        if all(d.name in done for d in self.definitions):
            return []  # nothing to run: the bookkeeping tables are not even created
        self._ensure_tables()
        made = {fold_identifier(name) for name in provisional}
        applied: list[str] = []
        for definition in self.definitions:
            if definition.name in done:
                continue
            if steps is not None and len(applied) >= steps:
                break
            if self._run(definition, "up", made):
                applied.append(definition.name)
        return applied

    def stamp(self, names: list[str] | None = None) -> list[str]:
        """Record migrations as applied without running them: those named, or every pending
        one when ``names`` is ``None``; return the names newly recorded (in run order). An
        unknown name is an error, raised before anything is recorded."""
        unknown = [n for n in names or [] if n not in self._by_name]
        if unknown:
            raise MigrationError(
                f"cannot stamp {', '.join(map(repr, unknown))}: no such migration in the code"
            )
        self._ensure_tables()
        stamped: list[str] = []
        with self._transaction():
            for definition in self.definitions:
                wanted = names is None or definition.name in names
                if wanted and not self._is_applied(definition.name):
                    self._history.record(
                        self.db.conn,
                        name=definition.name,
                        kind="migration",
                        statements=[history.STAMPED],
                        checksum=definition.checksum,
                    )
                    stamped.append(definition.name)
        return stamped

    def down(self, steps: int = 1) -> list[str]:
        """Roll back the ``steps`` newest applied migrations, newest first; return their names.

        Every targeted migration must be in the code and have a ``down``; otherwise nothing is
        rolled back and :class:`MigrationError` says which.
        """
        if isinstance(steps, bool) or not isinstance(steps, int):
            raise MigrationError(f"steps must be a whole number (got {steps!r})")
        if steps < 1:
            raise MigrationError(f"steps must be at least 1 (got {steps})")
        targets = list(reversed(self._applied()))[:steps]
        for entry in targets:
            definition = self._by_name.get(entry.name)
            if definition is None:
                raise MigrationError(
                    f"cannot roll back migration {entry.name!r}: it is recorded in the database "
                    "but not defined in the code; nothing was rolled back"
                )
            if definition.down is None:
                raise MigrationError(
                    f"cannot roll back migration {entry.name!r}: it has no down step; nothing "
                    "was rolled back"
                )
        rolled: list[str] = []
        for entry in targets:
            if self._run(self._by_name[entry.name], "down"):
                rolled.append(entry.name)
        return rolled

    def _run(
        self, definition: MigrationDefinition, direction: str, provisional: set[str] | None = None
    ) -> bool:
        """Run one step with its tracking change; False when another process did it first."""
        step = definition.up if direction == "up" else definition.down
        assert step is not None
        conn = self.db.conn
        ctx = MigrationContext(
            self.db,
            definition.name,
            autocommit=not definition.transactional,
            executor=self.executor,
            reader=self.engine.reader(self.db),
            engine=self.engine.name,
        )
        if provisional is not None:
            ctx.schema.provisional = provisional
        try:
            if definition.transactional:
                with self._transaction(self.engine.guard(conn, everything=True)):
                    if self._is_applied(definition.name) != (direction == "down"):
                        return False  # someone else applied / rolled it back meanwhile
                    with _capture_ddl(conn) as statements:
                        ctx.schema.journal = statements  # notes of steps already done
                        _call(step, ctx, direction)
                    self._track(definition, direction, statements)
            else:
                if conn.in_transaction:
                    # Committing here would commit the caller's transaction (a
                    # ``db.transaction()`` block) half-way through; refuse instead.
                    raise MigrationError(
                        f"migration {definition.name!r} is not transactional and cannot run "
                        "inside an open transaction; run it outside db.transaction(). Nothing "
                        "was run",
                        definition.name,
                    )
                if self._is_applied(definition.name) != (direction == "down"):
                    return False
                guard = self.engine.guard(conn, everything=True)
                if guard is not None:  # SQLite's: the database as it was before the step
                    guard.start()
                try:
                    with _capture_ddl(conn) as statements:
                        ctx.schema.journal = statements  # notes of steps already done
                        _call(step, ctx, direction)
                except BaseException:
                    # Statements of the step that sqlite3 opened a transaction for are undone
                    # and, above all, the write lock is released.
                    if conn.in_transaction:
                        conn.rollback()
                    raise
                if conn.in_transaction:
                    conn.commit()
                with self._transaction(guard):
                    if self._is_applied(definition.name) != (direction == "down"):
                        return False  # another process ran it at the same time
                    self._track(definition, direction, statements)
        except MigrationError as exc:
            if exc.migration == definition.name:
                raise
            raise MigrationError(
                f"migration {definition.name!r} failed during {direction}: {exc}",
                definition.name,
            ) from exc
        except Exception as exc:
            kind = type(exc).__name__
            outcome = (
                "was rolled back"
                if definition.transactional
                else "is not transactional, so what it did before failing may remain"
            )
            raise MigrationError(
                f"migration {definition.name!r} failed during {direction} and {outcome}: "
                f"{kind}: {exc}",
                definition.name,
            ) from exc
        return True

    def _track(
        self, definition: MigrationDefinition, direction: str, statements: list[str]
    ) -> None:
        conn = self.db.conn
        if direction == "up":
            self._history.record(
                conn,
                name=definition.name,
                kind="migration",
                statements=statements,
                checksum=definition.checksum,
            )
        else:
            self._history.forget(conn, definition.name)
