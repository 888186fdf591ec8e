"""The PostgreSQL executor: compiles :mod:`~hedystia_models.migrate.operations` to PostgreSQL
statements and runs them on a psycopg connection.

PostgreSQL changes a table in place where SQLite rebuilds it: ``ALTER COLUMN .. TYPE ..
USING``, ``SET``/``DROP NOT NULL``, ``SET``/``DROP DEFAULT``, and constraints added or dropped
by name. So no operation here is a rebuild (``Compiled.rebuild`` is always ``None``), and a
change the SQLite executor refuses for a rebuild's sake (a table with a trigger, a view that
names the column) is plain ``ALTER TABLE`` here. Constraints this engine did not name are
found by the names PostgreSQL gives them by default (``<table>_<column>_key``,
``<table>_<column>_fkey``, ``<table>_<column>_check``); a constraint another tool named
otherwise is dropped by the statement PostgreSQL refuses, naming it, and nothing is changed.

The specs it is given are PostgreSQL's (:func:`.types.table_for_postgres`).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any, ClassVar

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
from ...schema.quoting import fold_identifier
from ...schema.quoting import quote_identifier as q
from ...schema.spec import ColumnSpec, TableSpec
from ..base import Compiled, existing_column, missing_table
from . import ddl
from .introspect import object_name

if TYPE_CHECKING:
    from ...schema.state import DatabaseState

__all__ = ["PostgresExecutor"]


def _constraint(table: str, column: str, suffix: str) -> str:
    """The name PostgreSQL gives a column's constraint by default, shortened as PostgreSQL
    shortens it to fit 63 bytes."""
    return object_name(table, column, suffix)


class PostgresExecutor:
    """Compiles operations to PostgreSQL statements and runs them on ``conn`` (a psycopg
    connection, inside the caller's transaction). ``schema``: the schema its tables live in
    (``None``: the connection's ``current_schema()``)."""

    def __init__(self, conn: Any, *, schema: str | None = None) -> None:
        self.conn = conn
        self.schema = schema

    # -- compiling ----------------------------------------------------------------------------

    def compile(
        self, operation: Operation, table: TableSpec | None, state: DatabaseState
    ) -> Compiled:
        """The statements for ``operation`` on ``table`` as ``state`` describes the database."""
        if isinstance(operation, CreateTable):
            if table is not None:
                raise OperationError(f"table {operation.table!r} already exists")
            spec = operation.spec
            return Compiled(
                (
                    ddl.create_table_sql(spec),
                    *(ddl.create_index_sql(spec.name, i) for i in spec.indexes),
                    *(ddl.create_index_sql(spec.name, i) for i in spec.unique_indexes),
                    *spec.triggers,
                )
            )
        if table is None:
            raise missing_table(operation)
        compile_one = self._compilers.get(type(operation))
        if compile_one is None:  # pragma: no cover - every operation kind is listed
            raise OperationError(f"the PostgreSQL executor cannot run {operation.describe()}")
        return Compiled(tuple(compile_one(self, operation, table, state)))

    def _drop_table(self, op: Operation, table: TableSpec, state: DatabaseState) -> list[str]:
        return [ddl.drop_table_sql(table.name)]

    def _rename_table(self, op: Operation, table: TableSpec, state: DatabaseState) -> list[str]:
        assert isinstance(op, RenameTable)
        if state.table(op.new) is not None and fold_identifier(op.new) != fold_identifier(
            table.name
        ):
            raise OperationError(f"table {op.new!r} already exists")
        return [ddl.rename_table_sql(table.name, op.new)]

    def _add_column(self, op: Operation, table: TableSpec, state: DatabaseState) -> list[str]:
        assert isinstance(op, AddColumn)
        column = op.spec
        if table.has_column(column.name):
            raise OperationError(f"table {table.name!r} already has column {column.name!r}")
        if column.primary_key:
            raise OperationError(
                f"column {table.name}.{column.name}: a primary key column cannot be added to "
                "an existing table; create the new table with create_table and copy the rows"
            )
        statements = [ddl.add_column_sql(table.name, column)]
        if column.unique:
            statements.append(ddl.create_index_sql(table.name, op.unique_index()))
        return statements

    def _drop_column(self, op: Operation, table: TableSpec, state: DatabaseState) -> list[str]:
        assert isinstance(op, DropColumn)
        column = existing_column(table, op.spec.name)
        if column.primary_key:
            raise OperationError(
                f"column {table.name}.{column.name} is part of the primary key; create the new "
                "table with create_table and copy the rows instead"
            )
        for together in table.unique_together:
            if any(fold_identifier(c) == fold_identifier(column.name) for c in together):
                raise OperationError(
                    f"column {table.name}.{column.name} is part of UNIQUE "
                    f"({', '.join(together)}); drop that constraint first"
                )
        # PostgreSQL drops the column's indexes with it (and refuses when a view uses it).
        return [ddl.drop_column_sql(table.name, column.name)]

    def _rename_column(self, op: Operation, table: TableSpec, state: DatabaseState) -> list[str]:
        assert isinstance(op, RenameColumn)
        old = existing_column(table, op.old).name
        if table.has_column(op.new) and fold_identifier(op.old) != fold_identifier(op.new):
            raise OperationError(f"table {table.name!r} already has column {op.new!r}")
        renamed = op.changed(table)
        assert renamed is not None
        statements = [ddl.rename_column_sql(table.name, old, op.new)]
        # The column's constraints keep their names; those PostgreSQL named after the column
        # are renamed with it (as a new table would name them), so later changes find them.
        column = table.column(old)
        by_index = any(
            i.column_names and fold_identifier(i.column_names[0]) == fold_identifier(old)
            for i in table.unique_indexes
        )
        present = (
            ("key", column.unique and not by_index and not column.primary_key),
            ("fkey", column.references is not None),
            ("check", column.check is not None),
        )
        for suffix, there in present:
            was = _constraint(table.name, old, suffix)
            becomes = _constraint(table.name, op.new, suffix)
            if there and was != becomes:
                statements.append(
                    f"ALTER TABLE {q(table.name)} RENAME CONSTRAINT {q(was)} TO {q(becomes)}"
                )
        pairs = [
            *zip(table.indexes, renamed.indexes, strict=True),
            *zip(table.unique_indexes, renamed.unique_indexes, strict=True),
        ]
        for before, after in pairs:  # default-named indexes follow the column
            if before.name != after.name:
                statements.append(f"ALTER INDEX {q(before.name)} RENAME TO {q(after.name)}")
        return statements

    def _alter_column(self, op: Operation, table: TableSpec, state: DatabaseState) -> list[str]:
        assert isinstance(op, AlterColumn)
        old = existing_column(table, op.desired.name)
        new = op.desired
        if new.primary_key != old.primary_key or new.auto_increment != old.auto_increment:
            raise OperationError(
                "changing whether a column is (part of) the primary key is not supported; "
                "create the new table with create_table and copy the rows"
            )
        name = table.name
        prefix = f"ALTER TABLE {q(name)}"
        check = _constraint(name, new.name, "check")
        # A check is dropped before the type changes (PostgreSQL would re-check the old one
        # against the new type) and added after it.
        recheck = new.check != old.check or (new.type != old.type and old.check is not None)
        statements = []
        if recheck and old.check is not None:
            statements.append(f"{prefix} DROP CONSTRAINT {q(check)}")
        statements.extend(ddl.alter_column_sql(name, new, old))
        if recheck and new.check is not None:
            statements.append(f"{prefix} ADD CONSTRAINT {q(check)} CHECK ({new.check})")
        if new.unique != old.unique and not new.primary_key:
            if new.unique:
                index = AddColumn(name, new).unique_index()
                statements.append(ddl.create_index_sql(name, index))
            else:
                statements.extend(self._drop_unique(table, old))
        if new.references != old.references:
            key = _constraint(name, new.name, "fkey")
            if old.references is not None:
                statements.append(f"{prefix} DROP CONSTRAINT {q(key)}")
            if new.references is not None:
                reference = ddl.references_sql(new)
                statements.append(
                    f"{prefix} ADD CONSTRAINT {q(key)} FOREIGN KEY ({q(new.name)}) {reference}"
                )
        if new.collate != old.collate:
            collate = f" COLLATE {q(new.collate)}" if new.collate else ' COLLATE "default"'
            statements.append(f"{prefix} ALTER COLUMN {q(new.name)} TYPE {new.type}{collate}")
        return statements

    def _drop_unique(self, table: TableSpec, column: ColumnSpec) -> list[str]:
        """Drop what makes ``column`` unique: its unique index when the spec has one, else the
        ``UNIQUE`` constraint by its default name."""
        for index in table.unique_indexes:
            if index.column_names and fold_identifier(index.column_names[0]) == fold_identifier(
                column.name
            ):
                return [ddl.drop_index_sql(index.name)]
        key = _constraint(table.name, column.name, "key")
        return [f"ALTER TABLE {q(table.name)} DROP CONSTRAINT {q(key)}"]

    def _alter_table(self, op: Operation, table: TableSpec, state: DatabaseState) -> list[str]:
        assert isinstance(op, AlterTable)
        desired, actual = op.desired, op.actual
        prefix = f"ALTER TABLE {q(table.name)}"
        statements: list[str] = []
        if desired.primary_key != actual.primary_key:
            raise OperationError(
                f"table {table.name!r}: changing the primary key is not supported; create the "
                "new table with create_table and copy the rows"
            )
        old_unique = {tuple(fold_identifier(c) for c in u): u for u in actual.unique_together}
        new_unique = {tuple(fold_identifier(c) for c in u): u for u in desired.unique_together}
        for key, columns in old_unique.items():
            if key not in new_unique:
                name = _constraint(table.name, "_".join(columns), "key")
                statements.append(f"{prefix} DROP CONSTRAINT {q(name)}")
        for key, columns in new_unique.items():
            if key not in old_unique:
                statements.append(f"{prefix} ADD UNIQUE ({', '.join(q(c) for c in columns)})")
        old_checks = {c.expression: c for c in actual.checks}
        new_checks = {c.expression: c for c in desired.checks}
        for expression, check in old_checks.items():
            if expression not in new_checks:
                if check.name is None:
                    raise OperationError(
                        f"table {table.name!r}: an unnamed CHECK ({expression}) cannot be "
                        "dropped by name; drop it with ctx.sql"
                    )
                statements.append(f"{prefix} DROP CONSTRAINT {q(check.name)}")
        for number, (expression, check) in enumerate(new_checks.items(), 1):
            if expression not in old_checks:
                # Named as create_table_sql names an unnamed one: PostgreSQL's own name for a
                # check on one column would read back as that column's check.
                label = check.name or f"{table.name}_check{number}"
                statements.append(f"{prefix} ADD CONSTRAINT {q(label)} CHECK ({expression})")
        if desired.foreign_keys != actual.foreign_keys:
            raise OperationError(
                f"table {table.name!r}: multi-column foreign keys cannot be changed by sync or "
                "ctx.schema on PostgreSQL yet; use ctx.sql (ALTER TABLE .. DROP/ADD CONSTRAINT)"
            )
        return statements

    def _create_index(self, op: Operation, table: TableSpec, state: DatabaseState) -> list[str]:
        assert isinstance(op, CreateIndex)
        missing = [c for c in op.index.column_names if not table.has_column(c)]
        if missing:
            raise OperationError(f"table {table.name!r} has no column(s) {missing!r}")
        return [ddl.create_index_sql(table.name, op.index)]

    def _drop_index(self, op: Operation, table: TableSpec, state: DatabaseState) -> list[str]:
        assert isinstance(op, DropIndex)
        return [ddl.drop_index_sql(op.index.name)]

    def _alter_index(self, op: Operation, table: TableSpec, state: DatabaseState) -> list[str]:
        assert isinstance(op, AlterIndex)
        return [ddl.drop_index_sql(op.actual.name), ddl.create_index_sql(table.name, op.desired)]

    _compilers: ClassVar[
        dict[
            type,
            Callable[[PostgresExecutor, Operation, TableSpec, DatabaseState], list[str]],
        ]
    ]

    # -- running ------------------------------------------------------------------------------

    def read_state(self, only: Sequence[str] | None = None) -> DatabaseState:
        """Every table of the schema (or those named in ``only``), read from the catalogs."""
        from .introspect import read_database

        return read_database(self.conn, only, schema=self.schema)

    def apply(self, operation: Operation) -> Compiled:
        """Read the live schema of the operation's table, compile the operation and run it."""
        names = [operation.table, *([operation.new] if isinstance(operation, RenameTable) else [])]
        state = self.read_state(names)
        compiled = self.compile(operation, state.table(operation.table), state)
        self.execute(operation.table, compiled)
        return compiled

    def execute(self, table: str, compiled: Compiled) -> None:
        """Run ``compiled`` (for ``table``), each statement on its own: an error names it."""
        import psycopg

        for statement in compiled.statements:
            try:
                self.conn.execute(statement)
            except psycopg.Error as exc:
                raise OperationError(
                    f"{str(exc).strip()}\n  while running: {statement}", statement
                ) from exc


PostgresExecutor._compilers = {
    DropTable: PostgresExecutor._drop_table,
    RenameTable: PostgresExecutor._rename_table,
    AddColumn: PostgresExecutor._add_column,
    DropColumn: PostgresExecutor._drop_column,
    RenameColumn: PostgresExecutor._rename_column,
    AlterColumn: PostgresExecutor._alter_column,
    AlterTable: PostgresExecutor._alter_table,
    CreateIndex: PostgresExecutor._create_index,
    DropIndex: PostgresExecutor._drop_index,
    AlterIndex: PostgresExecutor._alter_index,
}
