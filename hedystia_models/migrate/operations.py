"""Schema operations as plain objects: what to change, its SQL, its safety, its reverse.

The differ (:mod:`hedystia_models.migrate.diff`) produces them,
:mod:`hedystia_models.migrate.sync` applies the safe ones, and the migration renderer turns them into Python source. Each operation is frozen
data; ``statements`` is computed from the specs it holds, so it never touches a database.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from typing import ClassVar

from ..engine.sqlite import ddl
from ..schema.quoting import quote_identifier
from ..schema.spec import ColumnSpec, IndexSpec, TableSpec

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
    "Safety",
]


class Safety(str, enum.Enum):
    """How ``sync`` treats an operation."""

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
    safety: Safety = field(default=Safety.SAFE, kw_only=True)
    reason: str | None = field(default=None, kw_only=True)

    @property
    def column(self) -> str | None:
        """The column this operation is about, where there is one."""
        return None

    @property
    def statements(self) -> tuple[str, ...]:
        """The SQL statements that carry the operation out (empty when there is no safe SQL)."""
        return ()

    @property
    def sql(self) -> str:
        """All statements as one SQL script."""
        return ";\n".join(self.statements) + (";" if self.statements else "")

    @property
    def safe(self) -> bool:
        """True when ``sync`` may apply this operation."""
        return self.safety is Safety.SAFE

    def describe(self) -> str:
        """One line for humans."""
        return f"{self.kind} {self.table}"

    def reverse(self) -> Operation | None:
        """The operation that undoes this one, or ``None`` when there is none."""
        return None


@dataclass(frozen=True)
class CreateTable(Operation):
    """Create a table together with its indexes."""

    kind: ClassVar[str] = "create_table"
    spec: TableSpec

    @property
    def statements(self) -> tuple[str, ...]:
        return (
            ddl.create_table_sql(self.spec),
            *(ddl.create_index_sql(self.spec.name, i) for i in self.spec.indexes),
        )

    def describe(self) -> str:
        return f"create table {self.table} ({', '.join(self.spec.column_names)})"

    def reverse(self) -> Operation:
        return DropTable(self.table, spec=self.spec)


@dataclass(frozen=True)
class DropTable(Operation):
    """Drop a table (found in the database, declared by no model)."""

    kind: ClassVar[str] = "drop_table"
    spec: TableSpec

    @property
    def statements(self) -> tuple[str, ...]:
        return (ddl.drop_table_sql(self.table),)

    def describe(self) -> str:
        return f"drop table {self.table}"

    def reverse(self) -> Operation:
        return CreateTable(self.table, spec=self.spec)


@dataclass(frozen=True)
class AddColumn(Operation):
    """Add a column. ``rebuild`` holds the table as it is when SQLite's ``ADD COLUMN`` cannot
    do the job (a ``NOT NULL`` column without default on an empty table): the table is then
    rebuilt with the new column."""

    kind: ClassVar[str] = "add_column"
    spec: ColumnSpec
    rebuild: TableSpec | None = None

    @property
    def column(self) -> str:
        return self.spec.name

    @property
    def statements(self) -> tuple[str, ...]:
        if self.safety is Safety.BLOCKED:
            return ()
        if self.rebuild is not None:
            old = self.rebuild
            new = old.with_column(self.spec)
            copy = [(c, quote_identifier(c)) for c in old.column_names]
            return tuple(
                ddl.rebuild_table_sql(old, new, copy, temp_name=f"_hedystia_new_{self.table}")
            )
        statements = [ddl.add_column_sql(self.table, self.spec)]
        if self.spec.unique:
            index = IndexSpec(
                ddl.index_name(self.table, [self.spec.name], unique=True), (self.spec.name,), True
            )
            statements.append(ddl.create_index_sql(self.table, index))
        return tuple(statements)

    def describe(self) -> str:
        how = " (rebuilding the empty table)" if self.rebuild is not None else ""
        return f"add column {self.table}.{self.spec.name} {self.spec.type}{how}"

    def reverse(self) -> Operation:
        return DropColumn(self.table, spec=self.spec)


@dataclass(frozen=True)
class DropColumn(Operation):
    """Drop a column."""

    kind: ClassVar[str] = "drop_column"
    spec: ColumnSpec

    @property
    def column(self) -> str:
        return self.spec.name

    @property
    def statements(self) -> tuple[str, ...]:
        return (ddl.drop_column_sql(self.table, self.spec.name),)

    def describe(self) -> str:
        return f"drop column {self.table}.{self.spec.name}"

    def reverse(self) -> Operation:
        return AddColumn(self.table, spec=self.spec)


@dataclass(frozen=True)
class AlterColumn(Operation):
    """A column whose definition differs between model (``desired``) and database
    (``actual``). SQLite cannot alter a column in place; it needs a migration."""

    kind: ClassVar[str] = "alter_column"
    desired: ColumnSpec
    actual: ColumnSpec
    changes: tuple[str, ...] = ()

    @property
    def column(self) -> str:
        return self.actual.name

    def describe(self) -> str:
        return f"alter column {self.table}.{self.actual.name}: {'; '.join(self.changes)}"

    def reverse(self) -> Operation:
        return AlterColumn(
            self.table,
            desired=self.actual,
            actual=self.desired,
            changes=self.changes,
            safety=self.safety,
            reason=self.reason,
        )


@dataclass(frozen=True)
class CreateIndex(Operation):
    """Create an index."""

    kind: ClassVar[str] = "create_index"
    index: IndexSpec

    @property
    def statements(self) -> tuple[str, ...]:
        return (ddl.create_index_sql(self.table, self.index),)

    def describe(self) -> str:
        unique = "unique " if self.index.unique else ""
        return (
            f"create {unique}index {self.index.name} on {self.table} "
            f"({', '.join(self.index.columns)})"
        )

    def reverse(self) -> Operation:
        return DropIndex(self.table, index=self.index)


@dataclass(frozen=True)
class DropIndex(Operation):
    """Drop an index."""

    kind: ClassVar[str] = "drop_index"
    index: IndexSpec

    @property
    def statements(self) -> tuple[str, ...]:
        return (ddl.drop_index_sql(self.index.name),)

    def describe(self) -> str:
        return f"drop index {self.index.name} on {self.table}"

    def reverse(self) -> Operation:
        return CreateIndex(self.table, index=self.index)


@dataclass(frozen=True)
class AlterIndex(Operation):
    """An index of the same name whose columns or uniqueness differ."""

    kind: ClassVar[str] = "alter_index"
    desired: IndexSpec
    actual: IndexSpec

    @property
    def statements(self) -> tuple[str, ...]:
        return (
            ddl.drop_index_sql(self.actual.name),
            ddl.create_index_sql(self.table, self.desired),
        )

    def describe(self) -> str:
        return f"alter index {self.actual.name} on {self.table}"

    def reverse(self) -> Operation:
        return AlterIndex(
            self.table,
            desired=self.actual,
            actual=self.desired,
            safety=self.safety,
            reason=self.reason,
        )


@dataclass(frozen=True)
class AlterTable(Operation):
    """A table-level difference (primary key, multi-column constraints) that needs a rebuild."""

    kind: ClassVar[str] = "alter_table"
    desired: TableSpec
    actual: TableSpec
    changes: tuple[str, ...] = ()

    def describe(self) -> str:
        return f"alter table {self.table}: {'; '.join(self.changes)}"
