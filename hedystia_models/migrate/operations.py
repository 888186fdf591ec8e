"""Schema operations: what to change, as plain frozen data that knows its reverse.

An operation holds intent only: the table, the column or index, the specs involved. It does not
know its SQL (an executor of the engine decides that from the live schema: native ``ALTER`` or
a table rebuild, see :mod:`hedystia_models.engine.sqlite.executor`) nor whether ``sync`` may
apply it (that is the plan's verdict, see :mod:`hedystia_models.migrate.plan`). The differ
produces operations, ``ctx.schema`` builds the same ones, and the renderer writes them out as
``ctx.schema`` calls.

Each operation says what it does to its table's spec (:meth:`Operation.changed`, through the
pure functions of :mod:`hedystia_models.schema.changes`), so a plan can follow a table through
several operations without a database.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, replace
from typing import ClassVar

from ..errors import SpecError
from ..schema.changes import (
    with_index,
    with_renamed_column,
    with_replaced_column,
    with_table_constraints,
    without_column,
    without_index,
)
from ..schema.compare import column_changes, table_changes
from ..schema.spec import ColumnSpec, IndexSpec, TableSpec, index_name

__all__ = [
    "AddColumn",
    "AlterColumn",
    "AlterIndex",
    "AlterTable",
    "CreateIndex",
    "CreateTable",
    "DropColumn",
    "DropIndex",
    "DropTable",
    "Operation",
    "RenameColumn",
    "RenameTable",
    "Safety",
]


class Safety(str, enum.Enum):
    """The plan's verdict on an operation: how ``sync`` treats it."""

    #: Additive and lossless: ``sync`` applies it.
    SAFE = "safe"
    #: Would drop or rewrite something: reported as drift, never applied by ``sync``.
    UNSAFE = "unsafe"
    #: Needed by the models but impossible to apply automatically: ``sync`` raises.
    BLOCKED = "blocked"


@dataclass(frozen=True)
class Operation:
    """Base of all operations. ``kind`` names the operation, ``table`` the table it touches."""

    kind: ClassVar[str] = "operation"
    table: str

    @property
    def column(self) -> str | None:
        """The column this operation is about, where there is one."""
        return None

    def describe(self) -> str:
        """One line for humans."""
        return f"{self.kind} {self.table}"

    def reverse(self) -> Operation | None:
        """The operation that undoes this one, or ``None`` when there is none."""
        return None

    def changed(self, table: TableSpec | None) -> TableSpec | None:
        """The table's spec after this operation (``None``: the table does not exist)."""
        if table is None:
            raise SpecError(f"{self.describe()}: table {self.table!r} does not exist")
        return self._change(table)

    def _change(self, table: TableSpec) -> TableSpec | None:
        return table


@dataclass(frozen=True)
class CreateTable(Operation):
    """Create a table together with its indexes."""

    kind: ClassVar[str] = "create_table"
    spec: TableSpec

    def describe(self) -> str:
        return f"create table {self.table} ({', '.join(self.spec.column_names)})"

    def reverse(self) -> Operation:
        return DropTable(self.table, spec=self.spec)

    def changed(self, table: TableSpec | None) -> TableSpec:
        if table is not None:
            raise SpecError(f"{self.describe()}: table {self.table!r} already exists")
        return self.spec


@dataclass(frozen=True)
class DropTable(Operation):
    """Drop a table. ``spec`` is the table as it was, so the drop can be undone."""

    kind: ClassVar[str] = "drop_table"
    spec: TableSpec

    def describe(self) -> str:
        return f"drop table {self.table}"

    def reverse(self) -> Operation:
        return CreateTable(self.table, spec=self.spec)

    def _change(self, table: TableSpec) -> None:
        return None


@dataclass(frozen=True)
class RenameTable(Operation):
    """Rename a table (``table`` is its current name)."""

    kind: ClassVar[str] = "rename_table"
    new: str

    def describe(self) -> str:
        return f"rename table {self.table} to {self.new}"

    def reverse(self) -> Operation:
        return RenameTable(self.new, new=self.table)

    def _change(self, table: TableSpec) -> TableSpec:
        return replace(table, name=self.new)


@dataclass(frozen=True)
class AddColumn(Operation):
    """Add a column (a ``UNIQUE`` one gets the unique index that makes it so)."""

    kind: ClassVar[str] = "add_column"
    spec: ColumnSpec

    @property
    def column(self) -> str:
        return self.spec.name

    def describe(self) -> str:
        return f"add column {self.table}.{self.spec.name} {self.spec.type}"

    def reverse(self) -> Operation:
        return DropColumn(self.table, spec=self.spec)

    def unique_index(self) -> IndexSpec:
        """The index that makes a ``UNIQUE`` column unique (``ADD COLUMN`` cannot)."""
        name = index_name(self.table, [self.spec.name], unique=True)
        return IndexSpec(name, (self.spec.name,), unique=True)

    def _change(self, table: TableSpec) -> TableSpec:
        grown = table.with_column(self.spec)
        if self.spec.unique and not self.spec.primary_key:
            grown = replace(grown, unique_indexes=(*grown.unique_indexes, self.unique_index()))
        return grown


@dataclass(frozen=True)
class DropColumn(Operation):
    """Drop a column, with the indexes that use it. ``spec`` is the column as it was."""

    kind: ClassVar[str] = "drop_column"
    spec: ColumnSpec

    @property
    def column(self) -> str:
        return self.spec.name

    def describe(self) -> str:
        return f"drop column {self.table}.{self.spec.name}"

    def reverse(self) -> Operation:
        return AddColumn(self.table, spec=self.spec)

    def _change(self, table: TableSpec) -> TableSpec:
        return without_column(table, self.spec.name)


@dataclass(frozen=True)
class RenameColumn(Operation):
    """Rename a column (its indexes named by the default convention follow it)."""

    kind: ClassVar[str] = "rename_column"
    old: str
    new: str

    @property
    def column(self) -> str:
        return self.old

    def describe(self) -> str:
        return f"rename column {self.table}.{self.old} to {self.new}"

    def reverse(self) -> Operation:
        return RenameColumn(self.table, old=self.new, new=self.old)

    def _change(self, table: TableSpec) -> TableSpec:
        return with_renamed_column(table, self.old, self.new)


@dataclass(frozen=True)
class AlterColumn(Operation):
    """Give column ``actual`` the definition ``desired`` (same name), keeping its rows.
    ``changes`` describes the differences for humans."""

    kind: ClassVar[str] = "alter_column"
    desired: ColumnSpec
    actual: ColumnSpec
    changes: tuple[str, ...] = ()

    @property
    def column(self) -> str:
        return self.actual.name

    def describe(self) -> str:
        what = "; ".join(self.changes) or "new definition"
        return f"alter column {self.table}.{self.actual.name}: {what}"

    def reverse(self) -> Operation:
        return AlterColumn(
            self.table,
            desired=self.actual,
            actual=self.desired,
            changes=tuple(column_changes(self.actual, self.desired, strict_defaults=False)),
        )

    def _change(self, table: TableSpec) -> TableSpec:
        return with_replaced_column(table, self.desired)


@dataclass(frozen=True)
class CreateIndex(Operation):
    """Create an index."""

    kind: ClassVar[str] = "create_index"
    index: IndexSpec

    def describe(self) -> str:
        unique = "unique " if self.index.unique else ""
        return f"create {unique}index {self.index.name} on {self.table} ({self.index.keys_text()})"

    def reverse(self) -> Operation:
        return DropIndex(self.table, index=self.index)

    def _change(self, table: TableSpec) -> TableSpec:
        return with_index(table, self.index)


@dataclass(frozen=True)
class DropIndex(Operation):
    """Drop an index. ``index`` is the index as it was (with its stored SQL when read from a
    database), so the drop can be undone exactly."""

    kind: ClassVar[str] = "drop_index"
    index: IndexSpec

    def describe(self) -> str:
        return f"drop index {self.index.name} on {self.table}"

    def reverse(self) -> Operation:
        return CreateIndex(self.table, index=self.index)

    def _change(self, table: TableSpec) -> TableSpec:
        return without_index(table, self.index.name)


@dataclass(frozen=True)
class AlterIndex(Operation):
    """Replace index ``actual`` by ``desired`` (same name, other keys or uniqueness)."""

    kind: ClassVar[str] = "alter_index"
    desired: IndexSpec
    actual: IndexSpec

    def describe(self) -> str:
        return f"alter index {self.actual.name} on {self.table}"

    def reverse(self) -> Operation:
        return AlterIndex(self.table, desired=self.actual, actual=self.desired)

    def _change(self, table: TableSpec) -> TableSpec:
        return with_index(without_index(table, self.actual.name), self.desired)


@dataclass(frozen=True)
class AlterTable(Operation):
    """Give a table the table-level constraints of ``desired`` (multi-column ``UNIQUE`` and
    foreign keys, table ``CHECK``); ``actual`` is the table as it is."""

    kind: ClassVar[str] = "alter_table"
    desired: TableSpec
    actual: TableSpec
    changes: tuple[str, ...] = ()

    def describe(self) -> str:
        return f"alter table {self.table}: {'; '.join(self.changes) or 'new constraints'}"

    def reverse(self) -> Operation:
        return AlterTable(
            self.table,
            desired=self.actual,
            actual=self.desired,
            changes=tuple(table_changes(self.actual, self.desired)),
        )

    def _change(self, table: TableSpec) -> TableSpec:
        return with_table_constraints(table, self.desired)
