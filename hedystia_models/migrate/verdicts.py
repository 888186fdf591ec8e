"""The plan's verdicts: which changes ``sync`` may make on its own, and why not the others.

Engine-neutral rules, shared by the differ (what ``sync`` would do) and ``ctx.schema`` (what a
migration may ask for): a column that existing rows could not satisfy is never added, and
``sync`` never rebuilds a table that holds rows (a migration may).
"""

from __future__ import annotations

from ..schema.spec import ColumnSpec
from .operations import Operation, Safety

__all__ = ["add_column_verdict", "rebuild_with_rows_reason"]

_FILL_HINT = (
    "Give the field a default, make it optional (X | None), or write a migration that fills "
    "it in (ctx.schema.add_column(..., fill=value))"
)


def add_column_verdict(table: str, column: ColumnSpec, has_rows: bool) -> tuple[Safety, str | None]:
    """Whether ``column`` can be added to ``table`` (which holds rows when ``has_rows``), and
    why not: existing rows would have no value for a ``NOT NULL`` column without default or a
    new primary key column, and would all share the default of a ``UNIQUE`` one."""
    if not has_rows:
        return Safety.SAFE, None
    prefix = f"cannot add column {column.name!r} to table {table!r}, which has rows"
    if column.primary_key:
        return Safety.BLOCKED, (
            f"{prefix}: a primary key column would have no value in the existing rows. "
            "Write a migration that creates the new table and copies the rows"
        )
    if column.not_null and not column.has_default:
        return Safety.BLOCKED, (
            f"{prefix}: it is NOT NULL and has no default, so existing rows would have no "
            f"value. {_FILL_HINT}"
        )
    if column.unique and column.has_default:
        return Safety.BLOCKED, (
            f"{prefix}: it is UNIQUE with a default, so every existing row would get the same "
            "value. Make it optional (X | None) without a default, or write a migration that "
            "fills in distinct values before adding the unique index"
        )
    return Safety.SAFE, None


def rebuild_with_rows_reason(operation: Operation, rebuild: str) -> str:
    """Why ``sync`` refuses ``operation``, which would rebuild a table holding rows (the
    executor gave ``rebuild`` as the reason a rebuild is needed)."""
    return (
        f"cannot {operation.describe()}: {rebuild}, so the table would have to be rebuilt, "
        "and sync never rebuilds a table that has rows. Write a migration that makes the "
        "change (ctx.schema rebuilds the table, keeping its rows)"
    )
