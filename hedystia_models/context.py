"""The context handed to a migration's ``up`` and ``down``: ``ctx.schema``, ``ctx.sql``,
``ctx.db``.

Schema methods build the same :mod:`~hedystia_models.operations` objects the differ produces and
run their SQL, so a migration and a sync change a table in exactly the same way. Where SQLite's
``ALTER TABLE`` cannot do a job (dropping an indexed column, say), the table is rebuilt with
SQLite's documented 12-step procedure from its introspected spec, which keeps rows, declared
types, defaults, checks, foreign keys, the other indexes and triggers.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Mapping, Sequence
from dataclasses import replace
from typing import Any

import sqlite_utils
from pydantic.fields import FieldInfo

from . import ddl
from .diff import add_column_operation, column_changes
from .errors import MigrationError
from .introspect import read_table
from .operations import CreateIndex, CreateTable, Operation, Safety
from .quoting import quote_identifier
from .spec import ColumnSpec, IndexSpec, TableSpec
from .table import Table, column_from_field, table_info

__all__ = ["MigrationContext", "SchemaContext", "to_column_spec"]

ColumnLike = ColumnSpec | Mapping[str, Any] | tuple[Any, FieldInfo] | tuple[Any]


def to_column_spec(name: str, column: Any, *, where: str) -> ColumnSpec:
    """Accept a column as @hedystia/db's dict (snake_case or camelCase keys), a
    :class:`ColumnSpec`, or an ``(annotation, Field(...))`` pair."""
    if isinstance(column, ColumnSpec):
        return column if column.name == name else column.renamed(name)
    if isinstance(column, Mapping):
        try:
            return ColumnSpec.from_dict(column, name=name)
        except (ValueError, KeyError) as exc:
            raise MigrationError(f"{where}: bad column definition: {exc}") from exc
    if isinstance(column, tuple) and 1 <= len(column) <= 2:
        info = column[1] if len(column) == 2 else None
        if info is not None and not isinstance(info, FieldInfo):
            raise MigrationError(f"{where}: the second item of the pair must be a Field(...)")
        return column_from_field(name, column[0], info, where=where)
    raise MigrationError(
        f"{where}: a column must be a dict, a ColumnSpec or an (annotation, Field(...)) pair "
        f"(got {type(column).__name__})"
    )


class SchemaContext:
    """Schema changes inside a migration (``ctx.schema``)."""

    def __init__(self, db: sqlite_utils.Database, migration: str) -> None:
        self._db = db
        self._conn = db.conn
        self._migration = migration

    def _where(self, what: str) -> str:
        return f"migration {self._migration!r}: {what}"

    def _run(self, statements: Sequence[str]) -> None:
        for statement in statements:
            self._conn.execute(statement)

    def _apply(self, op: Operation) -> None:
        if op.safety is Safety.BLOCKED:
            raise MigrationError(self._where(op.reason or op.describe()))
        self._run(op.statements)

    def _table(self, name: str) -> TableSpec:
        if not self._exists(name):
            raise MigrationError(self._where(f"table {name!r} does not exist"))
        actual_name = self._conn.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name = ? COLLATE NOCASE",
            (name,),
        ).fetchone()[0]
        return read_table(self._db, actual_name)

    def _exists(self, name: str) -> bool:
        row = self._conn.execute(
            "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ? COLLATE NOCASE",
            (name,),
        ).fetchone()
        return row is not None

    def _has_rows(self, name: str) -> bool:
        row = self._conn.execute(
            f"SELECT EXISTS (SELECT 1 FROM {quote_identifier(name)})"
        ).fetchone()
        return bool(row[0])

    # -- tables -------------------------------------------------------------------------------

    def create_table(self, table: type[Table] | TableSpec) -> None:
        """Create a table (with its indexes) from a model class or a :class:`TableSpec`.

        If the table already exists with the same columns this does nothing, so a migration
        history can adopt a table that ``sync`` created earlier; different columns are an error
        that lists the differences.
        """
        spec = table if isinstance(table, TableSpec) else table_info(table).spec
        if not self._exists(spec.name):
            self._apply(CreateTable(spec.name, spec=spec))
            return
        current = self._table(spec.name)
        differences: list[str] = []
        for column in spec.columns:
            if not current.has_column(column.name):
                differences.append(f"column {column.name!r} is missing from the database")
                continue
            changes = column_changes(column, current.column(column.name))
            differences.extend(f"column {column.name!r}: {c}" for c in changes)
        differences.extend(
            f"column {c.name!r} exists in the database but not in the definition"
            for c in current.columns
            if not spec.has_column(c.name)
        )
        if differences:
            raise MigrationError(
                self._where(
                    f"table {spec.name!r} already exists with different columns:\n  "
                    + "\n  ".join(differences)
                )
            )

    def drop_table(self, name: str) -> None:
        """Drop a table (an error if it does not exist)."""
        self._table(name)
        self._run([ddl.drop_table_sql(name)])

    # -- columns ------------------------------------------------------------------------------

    def add_column(self, table: str, name: str, column: ColumnLike | Any) -> None:
        """Add a column. ``column`` is @hedystia/db's column dict, a :class:`ColumnSpec`, or an
        ``(annotation, Field(...))`` pair. A ``NOT NULL`` column without default is added to an
        empty table by rebuilding it; on a table with rows it is an error."""
        spec = to_column_spec(name, column, where=self._where(f"add_column({table!r}, {name!r})"))
        current = self._table(table)
        if current.has_column(spec.name):
            raise MigrationError(self._where(f"table {table!r} already has column {name!r}"))
        self._apply(add_column_operation(current, spec, self._has_rows(current.name)))

    def drop_column(self, table: str, name: str) -> None:
        """Drop a column: native ``ALTER TABLE .. DROP COLUMN`` when SQLite allows it, else a
        table rebuild. Indexes that use the column are dropped with it."""
        current = self._table(table)
        if not current.has_column(name):
            raise MigrationError(self._where(f"table {table!r} has no column {name!r}"))
        column = current.column(name)
        if column.primary_key:
            raise MigrationError(
                self._where(
                    f"column {table}.{name} is part of the primary key; rebuild the "
                    "table with create_table/sql instead"
                )
            )
        if len(current.columns) == 1:
            raise MigrationError(self._where(f"cannot drop the only column of table {table!r}"))
        if self._try(ddl.drop_column_sql(current.name, column.name)):
            return
        folded = column.name.casefold()
        new = replace(
            current,
            columns=tuple(c for c in current.columns if c.name.casefold() != folded),
            indexes=tuple(
                i for i in current.indexes if folded not in {c.casefold() for c in i.columns}
            ),
            unique_together=tuple(
                u for u in current.unique_together if folded not in {c.casefold() for c in u}
            ),
            foreign_keys=tuple(
                fk
                for fk in current.foreign_keys
                if folded not in {c.casefold() for c in fk.columns}
            ),
        )
        copy = [(c.name, quote_identifier(c.name)) for c in new.columns]
        self._rebuild(current, new, copy)

    def rename_column(self, table: str, old: str, new: str) -> None:
        """Rename a column: native ``ALTER TABLE .. RENAME COLUMN`` (which also updates
        indexes, triggers, views and foreign keys), else a table rebuild."""
        current = self._table(table)
        if not current.has_column(old):
            raise MigrationError(self._where(f"table {table!r} has no column {old!r}"))
        if current.has_column(new) and old.casefold() != new.casefold():
            raise MigrationError(self._where(f"table {table!r} already has column {new!r}"))
        column = current.column(old)
        if self._try(ddl.rename_column_sql(current.name, column.name, new)):
            return
        folded = column.name.casefold()

        def swap(name: str) -> str:
            return new if name.casefold() == folded else name

        renamed = replace(
            current,
            columns=tuple(
                c.renamed(new) if c.name.casefold() == folded else c for c in current.columns
            ),
            indexes=tuple(
                replace(i, columns=tuple(swap(c) for c in i.columns)) for i in current.indexes
            ),
            unique_together=tuple(tuple(swap(c) for c in u) for u in current.unique_together),
            foreign_keys=tuple(
                replace(fk, columns=tuple(swap(c) for c in fk.columns))
                for fk in current.foreign_keys
            ),
        )
        copy = [(swap(c.name), quote_identifier(c.name)) for c in current.columns]
        self._rebuild(current, renamed, copy)

    def _try(self, statement: str) -> bool:
        """Run ``statement`` in a savepoint; False (and nothing changed) if SQLite refuses."""
        self._conn.execute("SAVEPOINT hedystia_native")
        try:
            self._conn.execute(statement)
        except sqlite3.OperationalError:
            self._conn.execute("ROLLBACK TO SAVEPOINT hedystia_native")
            self._conn.execute("RELEASE SAVEPOINT hedystia_native")
            return False
        self._conn.execute("RELEASE SAVEPOINT hedystia_native")
        return True

    def _rebuild(self, old: TableSpec, new: TableSpec, copy: list[tuple[str, str]]) -> None:
        temp = f"_hedystia_new_{old.name}"
        self._run(ddl.rebuild_table_sql(old, new, copy, temp_name=temp))

    # -- indexes ------------------------------------------------------------------------------

    def add_index(
        self,
        table: str,
        columns: str | Sequence[str],
        unique: bool = False,
        name: str | None = None,
    ) -> str:
        """Create an index; ``name`` defaults to ``<table>_<col>_<col>_index``. Returns the
        index name."""
        cols = (columns,) if isinstance(columns, str) else tuple(columns)
        current = self._table(table)
        missing = [c for c in cols if not current.has_column(c)]
        if missing:
            raise MigrationError(self._where(f"table {table!r} has no column(s) {missing!r}"))
        index = IndexSpec(name or ddl.index_name(current.name, cols), cols, unique)
        self._apply(CreateIndex(current.name, index=index))
        return index.name

    def drop_index(self, table: str, name: str) -> None:
        """Drop an index of ``table``."""
        row = self._conn.execute(
            "SELECT tbl_name FROM sqlite_master WHERE type = 'index' AND name = ? COLLATE NOCASE",
            (name,),
        ).fetchone()
        if row is None or row[0].casefold() != table.casefold():
            raise MigrationError(self._where(f"table {table!r} has no index {name!r}"))
        self._run([ddl.drop_index_sql(name)])


class MigrationContext:
    """What ``up`` and ``down`` receive: ``schema`` for DDL, ``sql`` for statements, ``db``
    (the ``sqlite_utils.Database``) for anything else."""

    def __init__(self, db: sqlite_utils.Database, migration: str) -> None:
        self.db = db
        self.name = migration
        self.schema = SchemaContext(db, migration)

    def sql(
        self, query: str, params: Sequence[Any] | Mapping[str, Any] | None = None
    ) -> list[dict[str, Any]]:
        """Run one statement with bound parameters; rows come back as dicts."""
        cursor = self.db.conn.execute(query, params if params is not None else ())
        if cursor.description is None:
            return []
        names = [d[0] for d in cursor.description]
        return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]
