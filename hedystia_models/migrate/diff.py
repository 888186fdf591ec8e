"""Compare desired table specs with a live database state and produce a :class:`Plan`.

Pure: specs in, plan out. Safe operations come first in dependency order (a referenced table
is created before the tables that reference it; columns before the indexes that use them),
followed by blocked and unsafe findings.
"""

from __future__ import annotations

from collections.abc import Sequence

from ..engine.sqlite.introspect import DatabaseState
from ..schema.quoting import UNPARSED, fold_identifier, parse_sql_literal
from ..schema.spec import ColumnSpec, TableSpec, normalize_sql
from .operations import (
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
    Safety,
)
from .plan import Plan

__all__ = ["add_column_operation", "column_changes", "diff", "order_by_dependencies"]


def order_by_dependencies(tables: Sequence[TableSpec]) -> list[TableSpec]:
    """Tables ordered so that referenced tables come first (stable; cycles keep their order)."""
    by_name = {fold_identifier(t.name): t for t in tables}
    ordered: list[TableSpec] = []
    state: dict[str, int] = {}  # 1 = visiting, 2 = done

    def visit(table: TableSpec) -> None:
        key = fold_identifier(table.name)
        if state.get(key):
            return
        state[key] = 1
        for target in sorted(table.foreign_key_targets()):
            other = by_name.get(fold_identifier(target))
            if other is not None and other is not table:
                visit(other)
        state[key] = 2
        ordered.append(table)

    for table in tables:
        visit(table)
    return ordered


def _same_default(a: str | None, b: str | None) -> bool:
    if a is None or b is None:
        return _is_null_default(a) and _is_null_default(b)
    va, vb = parse_sql_literal(a), parse_sql_literal(b)
    if va is not UNPARSED and vb is not UNPARSED:
        return type(va) is type(vb) and va == vb
    return normalize_sql(a).casefold() == normalize_sql(b).casefold()


def _is_null_default(text: str | None) -> bool:
    return text is None or parse_sql_literal(text) is None


def column_changes(desired: ColumnSpec, actual: ColumnSpec) -> list[str]:
    """Human descriptions of how ``actual`` differs from ``desired`` (empty when equal)."""
    changes: list[str] = []
    if desired.type != actual.type:
        changes.append(f"type {actual.type or '(none)'} -> {desired.type or '(none)'}")
    if desired.not_null != actual.not_null:
        changes.append("NULL -> NOT NULL" if desired.not_null else "NOT NULL -> NULL")
    if not _same_default(desired.default_sql, actual.default_sql):
        changes.append(f"default {actual.default_sql} -> {desired.default_sql}")
    if desired.primary_key != actual.primary_key:
        changes.append("becomes primary key" if desired.primary_key else "no longer primary key")
    if desired.auto_increment != actual.auto_increment:
        changes.append("gains AUTOINCREMENT" if desired.auto_increment else "loses AUTOINCREMENT")
    if desired.unique != actual.unique:
        changes.append("becomes UNIQUE" if desired.unique else "no longer UNIQUE")
    if (desired.check and normalize_sql(desired.check)) != (
        actual.check and normalize_sql(actual.check)
    ):
        changes.append(f"check {actual.check} -> {desired.check}")
    if desired.references != actual.references:
        changes.append(f"references {actual.references} -> {desired.references}")
    return changes


def add_column_operation(
    table: TableSpec, column: ColumnSpec, has_rows: bool, rebuild_loses: Sequence[str] = ()
) -> Operation:
    """The operation that adds ``column`` to ``table``: ``ADD COLUMN``, a rebuild of an empty
    table, or a blocked operation explaining why it cannot be done on a table with rows, or on
    a table whose rebuild would lose ``rebuild_loses`` (see
    :func:`~hedystia_models.engine.sqlite.introspect.rebuild_obstacles`)."""
    needs_rebuild = None
    if column.primary_key:
        needs_rebuild = "a primary key column cannot be added with ALTER TABLE"
    elif column.not_null and not column.has_default:
        needs_rebuild = "it is NOT NULL and has no default, so existing rows would have no value"
    elif column.default_sql is not None and parse_sql_literal(column.default_sql) is UNPARSED:
        needs_rebuild = "its default is an expression, which ALTER TABLE ADD COLUMN refuses"
    elif column.references is not None and column.has_default:
        needs_rebuild = "a REFERENCES column added by ALTER TABLE must default to NULL"

    def blocked(why: str) -> AddColumn:
        reason = f"cannot add column {column.name!r} to table {table.name!r}, which has rows: {why}"
        return AddColumn(table.name, spec=column, safety=Safety.BLOCKED, reason=reason)

    if needs_rebuild is None and column.unique and column.has_default and has_rows:
        return blocked(
            "it is UNIQUE with a default, so every existing row would get the same value. "
            "Make it optional (X | None) without a default, or write a migration that fills "
            "in distinct values before adding the unique index"
        )
    if needs_rebuild is None:
        return AddColumn(table.name, spec=column)
    if rebuild_loses:
        reason = (
            f"cannot add column {column.name!r} to table {table.name!r}: {needs_rebuild}, so the "
            f"table would have to be rebuilt, and a rebuild would lose its "
            f"{', '.join(rebuild_loses)}. Write a migration that rebuilds it by hand with ctx.sql"
        )
        return AddColumn(table.name, spec=column, safety=Safety.BLOCKED, reason=reason)
    if not has_rows:
        return AddColumn(table.name, spec=column, rebuild=table, reason=needs_rebuild)
    return blocked(
        f"{needs_rebuild}. Give the field a default, make it optional (X | None), or write a "
        "migration that fills it in (ctx.schema.add_column(..., fill=value))"
    )


def diff(desired: Sequence[TableSpec], state: DatabaseState) -> Plan:
    """The plan that takes ``state`` to ``desired``."""
    actual = {fold_identifier(name): spec for name, spec in state.tables.items()}
    with_rows = {fold_identifier(name) for name in state.tables_with_rows}
    safe: list[Operation] = []
    later: list[Operation] = []
    for table in order_by_dependencies(desired):
        current = actual.get(fold_identifier(table.name))
        if current is None:
            safe.append(CreateTable(table.name, spec=table))
            continue
        ops = _diff_table(
            table,
            current,
            fold_identifier(table.name) in with_rows,
            state.rebuild_obstacles.get(current.name, ()),
        )
        safe.extend(op for op in ops if op.safety is Safety.SAFE)
        later.extend(op for op in ops if op.safety is not Safety.SAFE)
    declared = {fold_identifier(t.name) for t in desired}
    for key, spec in sorted(actual.items()):
        if key not in declared:
            later.append(
                DropTable(
                    spec.name,
                    spec=spec,
                    safety=Safety.UNSAFE,
                    reason="the table exists in the database but no model declares it",
                )
            )
    later.sort(key=lambda op: op.safety is Safety.UNSAFE)  # blocked first, stable otherwise
    return Plan(tuple(safe + later))


def _diff_table(
    table: TableSpec, current: TableSpec, has_rows: bool, rebuild_loses: Sequence[str]
) -> list[Operation]:
    ops: list[Operation] = []
    working = current  # the table as it will be after the safe operations so far
    for column in table.columns:
        if not current.has_column(column.name):
            op = add_column_operation(working, column, has_rows, rebuild_loses)
            ops.append(op)
            if op.safety is Safety.SAFE:
                # Later operations (a second rebuild in particular) must see this column.
                working = working.with_column(column)
            continue
        found = current.column(column.name)
        changes = column_changes(column, found)
        if changes:
            ops.append(
                AlterColumn(
                    table.name,
                    desired=column,
                    actual=found,
                    changes=tuple(changes),
                    safety=Safety.UNSAFE,
                    reason="SQLite cannot change a column in place; write a migration",
                )
            )
    for column in current.columns:
        if not table.has_column(column.name):
            ops.append(
                DropColumn(
                    table.name,
                    spec=column,
                    safety=Safety.UNSAFE,
                    reason="the column exists in the database but not in the model",
                )
            )

    table_changes = []
    if table.primary_key != current.primary_key and {
        fold_identifier(c) for c in table.primary_key
    } == {fold_identifier(c) for c in current.primary_key}:
        table_changes.append(f"primary key order {current.primary_key} -> {table.primary_key}")
    if set(table.foreign_keys) != set(current.foreign_keys):
        table_changes.append("multi-column foreign keys differ")
    if set(table.unique_together) != set(current.unique_together):
        table_changes.append("multi-column UNIQUE constraints differ")
    if {normalize_sql(c.expression) for c in table.checks} != {
        normalize_sql(c.expression) for c in current.checks
    }:
        table_changes.append("table CHECK constraints differ")
    if table_changes:
        ops.append(
            AlterTable(
                table.name,
                desired=table,
                actual=current,
                changes=tuple(table_changes),
                safety=Safety.UNSAFE,
                reason="table-level constraints can only change by rebuilding the table",
            )
        )

    current_indexes = {fold_identifier(i.name): i for i in current.indexes}
    for index in table.indexes:
        found_index = current_indexes.pop(fold_identifier(index.name), None)
        if found_index is None:
            if all(working.has_column(c) for c in index.columns):
                ops.append(CreateIndex(table.name, index=index))
        elif (
            tuple(fold_identifier(c) for c in found_index.columns)
            != tuple(fold_identifier(c) for c in index.columns)
            or found_index.unique != index.unique
            or (found_index.where and normalize_sql(found_index.where))
            != (index.where and normalize_sql(index.where))
        ):
            ops.append(
                AlterIndex(
                    table.name,
                    desired=index,
                    actual=found_index,
                    safety=Safety.UNSAFE,
                    reason="an index with this name exists with other columns or uniqueness",
                )
            )
    for leftover in current_indexes.values():
        ops.append(
            DropIndex(
                table.name,
                index=leftover,
                safety=Safety.UNSAFE,
                reason="the index exists in the database but not in the model",
            )
        )
    return ops
