"""The seam between the engine-neutral stages and an engine: :class:`Executor` and the
:class:`Compiled` statements it runs (re-exported by :mod:`hedystia_models.engine`)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

from ..errors import OperationError

if TYPE_CHECKING:
    from ..migrate.operations import Operation
    from ..schema.spec import ColumnSpec, TableSpec
    from ..schema.state import DatabaseState

__all__ = ["Compiled", "Executor", "existing_column", "missing_table", "rows_as_dicts"]


def rows_as_dicts(cursor: Any) -> list[dict[str, Any]]:
    """The rows of a DB-API ``cursor`` that ran a statement, as dicts by column name (``[]``
    for a statement that returns none): what ``db.raw`` and ``ctx.sql`` give back."""
    if cursor.description is None:
        return []
    names = [d[0] for d in cursor.description]
    return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


def missing_table(op: Operation) -> OperationError:
    """The error of an operation on a table that does not exist (every engine's)."""
    return OperationError(f"table {op.table!r} does not exist")


def existing_column(table: TableSpec, name: str) -> ColumnSpec:
    """The column ``name`` of ``table``, or the error saying it has none."""
    if not table.has_column(name):
        raise OperationError(f"table {table.name!r} has no column {name!r}")
    return table.column(name)


@dataclass(frozen=True)
class Compiled:
    """The SQL an executor runs for one operation. ``rebuild`` says why the table is rebuilt
    (``None`` when the statements change it in place)."""

    statements: tuple[str, ...]
    rebuild: str | None = None


class Executor(Protocol):
    """What every engine's executor does: compile an operation against a described database,
    and apply operations to the live one."""

    def compile(
        self, operation: Operation, table: TableSpec | None, state: DatabaseState
    ) -> Compiled:
        """The statements that carry ``operation`` out on ``table`` (its spec as it is, or
        ``None`` when it does not exist) in the database ``state`` describes. Raises
        :class:`~hedystia_models.errors.OperationError` when it cannot be done."""
        ...

    def read_state(self, only: Sequence[str] | None = None) -> DatabaseState:
        """Read the live database (only the tables named in ``only``, when given) into a
        :class:`~hedystia_models.schema.state.DatabaseState`."""
        ...

    def apply(self, operation: Operation) -> Compiled:
        """Read the live schema, compile ``operation`` against it and run it."""
        ...

    def execute(self, table: str, compiled: Compiled) -> None:
        """Run statements compiled earlier (by a plan) for ``table``, with the same checks as
        :meth:`apply`."""
        ...
