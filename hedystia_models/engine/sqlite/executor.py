"""The SQLite executor: every schema operation, whoever asks for it, becomes SQL here.

Sync (through its plan), ``ctx.schema`` in a migration and generated migration files all hand
:mod:`~hedystia_models.migrate.operations` to :class:`SQLiteExecutor`. For each one it decides,
from the live schema and the SQLite version (as Django's SQLite schema editor does, never by
trying a statement and catching the error), whether ``ALTER TABLE`` can do the job or the table
must be rebuilt (:mod:`.rebuild`), and returns exactly the statements it will run.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Sequence
from typing import ClassVar

import sqlite_utils

from ...errors import OperationError
from ...migrate.operations import (
    AddColumn,
    AlterColumn,
    AlterIndex,
    AlterTable,
    CreateIndex,
    CreateTable,
    DropColumn,
    DropIndex,
    DropTable,
    Operation,
    RenameColumn,
    RenameTable,
)
from ...schema.quoting import UNPARSED, fold_identifier, parse_sql_literal
from ...schema.spec import TableSpec
from ...schema.sqltext import mentions
from ...schema.state import DatabaseState
from ..base import Compiled, existing_column, missing_table
from . import ddl, introspect
from .rebuild import rebuild_statements

__all__ = ["DROP_COLUMN_VERSION", "RENAME_COLUMN_VERSION", "SQLiteExecutor"]

#: ``ALTER TABLE .. DROP COLUMN`` exists from this SQLite version on.
DROP_COLUMN_VERSION = (3, 35, 0)
#: ``ALTER TABLE .. RENAME COLUMN`` exists from this SQLite version on.
RENAME_COLUMN_VERSION = (3, 25, 0)


_BROKEN_SCHEMA = (
    "a view or trigger of the database does not compile, and SQLite refuses ALTER TABLE "
    "DROP/RENAME COLUMN then"
)

#: A method compiling one kind of operation for a table that exists.
_Compiler = Callable[["SQLiteExecutor", Operation, TableSpec, DatabaseState], Compiled]


class SQLiteExecutor:
    """Compiles operations to SQLite statements and runs them on ``db``'s connection.

    ``conn`` is the connection the statements of operations run on; a test may replace it
    (with one that records what it is given, say). Reads of the schema go through ``db`` and
    :mod:`.introspect`.
    """

    #: The version of the SQLite library statements run on; it decides which ``ALTER TABLE``
    #: forms exist (a test sets an older one to exercise the rebuilds).
    version: ClassVar[tuple[int, int, int]] = sqlite3.sqlite_version_info

    def __init__(self, db: sqlite_utils.Database) -> None:
        self.db = db
        self.conn: sqlite3.Connection = db.conn

    # -- compiling ----------------------------------------------------------------------------

    def compile(
        self, operation: Operation, table: TableSpec | None, state: DatabaseState
    ) -> Compiled:
        """The statements for ``operation`` on ``table`` as ``state`` describes the database."""
        if isinstance(operation, CreateTable):
            return self._create_table(operation, table)
        if table is None:
            raise missing_table(operation)
        compile_one = self._compilers.get(type(operation))
        if compile_one is None:  # pragma: no cover - every operation kind is listed
            raise OperationError(f"the SQLite executor cannot run {operation.describe()}")
        return compile_one(self, operation, table, state)

    def _create_table(self, op: CreateTable, table: TableSpec | None) -> Compiled:
        if table is not None:
            raise OperationError(f"table {op.table!r} already exists")
        spec = op.spec
        return Compiled(
            (
                ddl.create_table_sql(spec),
                *(ddl.create_index_sql(spec.name, i) for i in spec.indexes),
                *(ddl.create_index_sql(spec.name, i) for i in spec.unique_indexes),
                *spec.triggers,
            )
        )

    def _rebuild(self, op: Operation, table: TableSpec, state: DatabaseState, why: str) -> Compiled:
        new = op.changed(table)
        assert new is not None
        sources = {column.name: _source(op, column.name, table) for column in new.columns}
        copy = [(target, source) for target, source in sources.items() if source is not None]
        statements = rebuild_statements(table, new, copy, obstacles=state.obstacles(table.name))
        return Compiled(tuple(statements), rebuild=why)

    def _drop_table(self, op: Operation, table: TableSpec, state: DatabaseState) -> Compiled:
        return Compiled((ddl.drop_table_sql(table.name),))

    def _rename_table(self, op: Operation, table: TableSpec, state: DatabaseState) -> Compiled:
        assert isinstance(op, RenameTable)
        if state.table(op.new) is not None and fold_identifier(op.new) != fold_identifier(
            table.name
        ):
            raise OperationError(f"table {op.new!r} already exists")
        return Compiled((ddl.rename_table_sql(table.name, op.new),))

    def _add_column(self, op: Operation, table: TableSpec, state: DatabaseState) -> Compiled:
        assert isinstance(op, AddColumn)
        column = op.spec
        if table.has_column(column.name):
            raise OperationError(f"table {table.name!r} already has column {column.name!r}")
        why = _add_column_needs_rebuild(op)
        if why is not None:
            return self._rebuild(op, table, state, why)
        statements = [ddl.add_column_sql(table.name, column)]
        if column.unique:
            statements.append(ddl.create_index_sql(table.name, op.unique_index()))
        return Compiled(tuple(statements))

    def _drop_column(self, op: Operation, table: TableSpec, state: DatabaseState) -> Compiled:
        assert isinstance(op, DropColumn)
        column = existing_column(table, op.spec.name)
        if column.primary_key:
            raise OperationError(
                f"column {table.name}.{column.name} is part of the primary key; create the new "
                "table with create_table and copy the rows instead"
            )
        if len(table.columns) == 1:
            raise OperationError(f"cannot drop the only column of table {table.name!r}")
        for together in table.unique_together:
            if any(fold_identifier(c) == fold_identifier(column.name) for c in together):
                # Dropping it would silently drop a uniqueness rule over the other columns.
                raise OperationError(
                    f"column {table.name}.{column.name} is part of UNIQUE "
                    f"({', '.join(together)}); rebuild the table without that constraint "
                    "first (SQLite refuses this drop too)"
                )
        why = _drop_column_needs_rebuild(table, column.name, state, self.version)
        if why is None and self._broken_schema(state):
            why = _BROKEN_SCHEMA
        if why is not None:
            return self._rebuild(op, table, state, why)
        # Indexes that use the column go first (ALTER TABLE refuses to drop an indexed one).
        statements = [
            ddl.drop_index_sql(index.name)
            for index in (*table.indexes, *table.unique_indexes)
            if index.uses(column.name)
        ]
        statements.append(ddl.drop_column_sql(table.name, column.name))
        return Compiled(tuple(statements))

    def _rename_column(self, op: Operation, table: TableSpec, state: DatabaseState) -> Compiled:
        assert isinstance(op, RenameColumn)
        old = existing_column(table, op.old).name
        if table.has_column(op.new) and fold_identifier(op.old) != fold_identifier(op.new):
            raise OperationError(f"table {table.name!r} already has column {op.new!r}")
        if self.version < RENAME_COLUMN_VERSION:
            return self._rebuild(op, table, state, "this SQLite has no RENAME COLUMN")
        if self._broken_schema(state):
            return self._rebuild(op, table, state, _BROKEN_SCHEMA)
        renamed = op.changed(table)
        assert renamed is not None
        statements = [ddl.rename_column_sql(table.name, old, op.new)]
        # Default-named indexes follow the column: SQLite has no ALTER INDEX .. RENAME.
        pairs = [
            *zip(table.indexes, renamed.indexes, strict=True),
            *zip(table.unique_indexes, renamed.unique_indexes, strict=True),
        ]
        for before, after in pairs:
            if before.name != after.name:
                statements.append(ddl.drop_index_sql(before.name))
                statements.append(ddl.create_index_sql(table.name, after))
        return Compiled(tuple(statements))

    def _alter_column(self, op: Operation, table: TableSpec, state: DatabaseState) -> Compiled:
        assert isinstance(op, AlterColumn)
        old = existing_column(table, op.desired.name)
        if op.desired.primary_key != old.primary_key or (
            op.desired.auto_increment != old.auto_increment
        ):
            raise OperationError(
                "changing whether a column is (part of) the primary key is not supported; "
                "create the new table with create_table and copy the rows"
            )
        return self._rebuild(op, table, state, "SQLite cannot change a column in place")

    def _alter_table(self, op: Operation, table: TableSpec, state: DatabaseState) -> Compiled:
        why = "SQLite cannot change table-level constraints in place"
        return self._rebuild(op, table, state, why)

    def _create_index(self, op: Operation, table: TableSpec, state: DatabaseState) -> Compiled:
        assert isinstance(op, CreateIndex)
        missing = [c for c in op.index.column_names if not table.has_column(c)]
        if missing:
            raise OperationError(f"table {table.name!r} has no column(s) {missing!r}")
        return Compiled((ddl.create_index_sql(table.name, op.index),))

    def _drop_index(self, op: Operation, table: TableSpec, state: DatabaseState) -> Compiled:
        assert isinstance(op, DropIndex)
        return Compiled((ddl.drop_index_sql(op.index.name),))

    def _alter_index(self, op: Operation, table: TableSpec, state: DatabaseState) -> Compiled:
        assert isinstance(op, AlterIndex)
        return Compiled(
            (
                ddl.drop_index_sql(op.actual.name),
                ddl.create_index_sql(table.name, op.desired),
            )
        )

    _compilers: ClassVar[
        dict[type, Callable[[SQLiteExecutor, Operation, TableSpec, DatabaseState], Compiled]]
    ]

    def _broken_schema(self, state: DatabaseState) -> bool:
        """True when a view or trigger of the database does not compile: SQLite checks the
        whole schema after ``DROP COLUMN`` and ``RENAME COLUMN`` and refuses them then."""
        return bool(state.dependents) and bool(introspect.broken_dependents(self.db.conn))

    # -- running ------------------------------------------------------------------------------

    def read_state(self, only: Sequence[str] | None = None) -> DatabaseState:
        """Every user table of the database (or those named in ``only``), with the facts a plan
        needs (see :func:`.introspect.read_database`)."""
        return introspect.read_database(self.db, only=only)

    def apply(self, operation: Operation) -> Compiled:
        """Read the live schema of the operation's table, compile the operation and run it."""
        names = [operation.table, *([operation.new] if isinstance(operation, RenameTable) else [])]
        state = introspect.read_database(self.db, only=names)
        compiled = self.compile(operation, state.table(operation.table), state)
        self.execute(operation.table, compiled)
        return compiled

    def execute(self, table: str, compiled: Compiled) -> None:
        """Run ``compiled`` (for ``table``). A rebuild is refused when it would fire foreign-key
        actions, and undone when it leaves a view or trigger broken."""
        if compiled.rebuild is None:
            self._run(compiled.statements)
            return
        self._refuse_enforced_foreign_keys(table)
        before = introspect.broken_dependents(self.db.conn)
        self._run(compiled.statements)
        broken = {
            key: error
            for key, error in introspect.broken_dependents(self.db.conn).items()
            if before.get(key) != error
        }
        if broken:
            found = "; ".join(f"{kind} {name}: {error}" for (kind, name), error in broken.items())
            raise OperationError(
                f"rebuilding table {table!r} would break {found}. Drop it first "
                "(ctx.sql('DROP TRIGGER ...') or 'DROP VIEW ...') and re-create it after "
                "the change"
            )

    def _run(self, statements: tuple[str, ...]) -> None:
        for statement in statements:
            try:
                self.conn.execute(statement)
            except sqlite3.Error as exc:
                raise OperationError(f"{exc}\n  while running: {statement}", statement) from exc

    def _refuse_enforced_foreign_keys(self, table: str) -> None:
        """A rebuild drops the old table. With foreign-key enforcement on, which SQLite cannot
        switch off inside an open transaction (a migration run in ``db.transaction()``, or one
        with ``transactional=False``), that drop deletes every row as far as the referencing
        tables can tell, firing their ``ON DELETE`` actions; refuse rather than lose them."""
        conn = self.db.conn
        if not introspect.foreign_keys_enforced(conn):
            return
        referencing = introspect.referencing_tables(conn, table)
        if referencing and introspect.has_rows(conn, table):
            raise OperationError(
                f"this change needs a rebuild of table {table!r}, which "
                f"{', '.join(referencing)} references; a rebuild needs foreign-key "
                "enforcement off, and SQLite cannot switch it off inside an open transaction "
                "(dropping the old table would fire the ON DELETE actions). Run the migration "
                "outside db.transaction(), as a transactional migration"
            )


SQLiteExecutor._compilers = {
    DropTable: SQLiteExecutor._drop_table,
    RenameTable: SQLiteExecutor._rename_table,
    AddColumn: SQLiteExecutor._add_column,
    DropColumn: SQLiteExecutor._drop_column,
    RenameColumn: SQLiteExecutor._rename_column,
    AlterColumn: SQLiteExecutor._alter_column,
    AlterTable: SQLiteExecutor._alter_table,
    CreateIndex: SQLiteExecutor._create_index,
    DropIndex: SQLiteExecutor._drop_index,
    AlterIndex: SQLiteExecutor._alter_index,
}


def _source(op: Operation, column: str, table: TableSpec) -> str | None:
    """The column of ``table`` whose values the rebuilt table's ``column`` takes (``None``
    for a new column, which gets its default)."""
    if isinstance(op, RenameColumn) and fold_identifier(column) == fold_identifier(op.new):
        return table.column(op.old).name
    if isinstance(op, AddColumn) and fold_identifier(column) == fold_identifier(op.spec.name):
        return None
    return table.column(column).name if table.has_column(column) else None


def _add_column_needs_rebuild(op: AddColumn) -> str | None:
    """Why ``ALTER TABLE .. ADD COLUMN`` cannot add ``op``'s column (``None``: it can)."""
    column = op.spec
    if column.primary_key:
        return "a primary key column cannot be added with ALTER TABLE"
    if column.not_null and not column.has_default:
        return "it is NOT NULL and has no default, which ALTER TABLE ADD COLUMN refuses"
    if column.default_sql is not None and parse_sql_literal(column.default_sql) is UNPARSED:
        return "its default is an expression, which ALTER TABLE ADD COLUMN refuses"
    if column.references is not None and column.has_default:
        return "a REFERENCES column added by ALTER TABLE must default to NULL"
    return None


def _drop_column_needs_rebuild(
    table: TableSpec, name: str, state: DatabaseState, version: tuple[int, int, int]
) -> str | None:
    """Why ``ALTER TABLE .. DROP COLUMN`` (after dropping the column's indexes) cannot drop
    column ``name`` (``None``: it can). SQLite's documented limits of that statement."""
    column = table.column(name)
    if version < DROP_COLUMN_VERSION:
        return "this SQLite has no DROP COLUMN"
    by_index = any(i.uses(name) for i in table.unique_indexes)
    if column.unique and not by_index:
        return "the column has a UNIQUE constraint"
    if column.references is not None or any(
        any(fold_identifier(c) == fold_identifier(name) for c in fk.columns)
        for fk in table.foreign_keys
    ):
        return "the column is part of a foreign key"
    if any(mentions(check.expression, name) for check in table.checks):
        return "a table CHECK constraint uses the column"
    if "generated columns" in state.obstacles(table.name):
        return "the table has generated columns"
    if state.mentioning(name):
        return "a view or trigger may use the column"
    return None
