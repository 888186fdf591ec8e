"""Compare desired table specs with a described live database and produce a :class:`Plan`.

Pure: specs and a :class:`~hedystia_models.schema.state.DatabaseState` in, operations with the
plan's verdict out; no SQL and no database (the executor adds the SQL, see
:mod:`hedystia_models.migrate.planner`). One function per aspect: tables, columns, table-level
constraints, indexes. Safe operations come first in dependency order (a referenced table is
created before the tables that reference it; columns before the indexes that use them),
followed by blocked and unsafe findings.
"""

from __future__ import annotations

from collections.abc import Sequence

from ..schema.compare import (
    column_changes,
    default_note,
    index_changed,
    plain_unique_keys,
    table_changes,
)
from ..schema.quoting import fold_identifier
from ..schema.spec import ColumnSpec, IndexSpec, TableSpec, index_name
from ..schema.state import DatabaseState
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
from .plan import Plan, PlannedOperation
from .verdicts import add_column_verdict

__all__ = ["diff", "order_by_dependencies"]


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


def diff(
    desired: Sequence[TableSpec], state: DatabaseState, *, strict_defaults: bool = False
) -> Plan:
    """The plan that takes ``state`` to ``desired`` (operations and verdicts, no SQL yet).

    A default present on one side only (the model's kept in Python, as Django does, or the
    database's that the model leaves out) changes nothing for writes through this package: it
    is a note of the plan, not drift, unless ``strict_defaults``."""
    safe: list[PlannedOperation] = []
    later: list[PlannedOperation] = []
    notes: list[str] = []
    for table in order_by_dependencies(desired):
        current = state.table(table.name)
        if current is None:
            safe.append(PlannedOperation(CreateTable(table.name, spec=table)))
            continue
        if current == table:  # the same spec: nothing differs, not even a default
            continue
        found = _diff_table(table, current, state.has_rows(current.name), strict_defaults, notes)
        for planned in found:
            (safe if planned.safe else later).append(planned)
    declared = {fold_identifier(t.name) for t in desired}
    for name, spec in sorted(state.tables.items(), key=lambda item: fold_identifier(item[0])):
        if fold_identifier(name) not in declared:
            later.append(
                _unsafe(
                    DropTable(spec.name, spec=spec),
                    "the table exists in the database but no model declares it",
                )
            )
    later.sort(key=lambda op: op.safety is Safety.UNSAFE)  # blocked first, stable otherwise
    return Plan(tuple(safe + later), notes=tuple(notes))


def _unsafe(operation: Operation, reason: str) -> PlannedOperation:
    return PlannedOperation(operation, safety=Safety.UNSAFE, reason=reason)


def _diff_table(
    table: TableSpec, current: TableSpec, has_rows: bool, strict_defaults: bool, notes: list[str]
) -> list[PlannedOperation]:
    """Columns, then table-level constraints, then indexes."""
    ops, working = _diff_columns(table, current, has_rows, strict_defaults, notes)
    changes = table_changes(table, current)
    if changes:
        ops.append(
            _unsafe(
                AlterTable(table.name, desired=table, actual=current, changes=tuple(changes)),
                "table-level constraints can only change by rebuilding the table",
            )
        )
    ops.extend(_diff_indexes(table, current, working))
    return ops


def _columns_by_name(table: TableSpec) -> dict[str, ColumnSpec]:
    """``table``'s columns by folded name (the first of a name, as :meth:`TableSpec.column`
    finds it): looking each column up in the other spec stays linear in the columns."""
    found: dict[str, ColumnSpec] = {}
    for column in table.columns:
        found.setdefault(fold_identifier(column.name), column)
    return found


def _diff_columns(
    table: TableSpec, current: TableSpec, has_rows: bool, strict_defaults: bool, notes: list[str]
) -> tuple[list[PlannedOperation], TableSpec]:
    """Column operations, and the table as it will be after the safe ones."""
    ops: list[PlannedOperation] = []
    working = current
    live = _columns_by_name(current)
    declared = {fold_identifier(c.name) for c in table.columns}
    for column in table.columns:
        found = live.get(fold_identifier(column.name))
        if found is None:
            op = AddColumn(table.name, spec=column)
            safety, reason = add_column_verdict(current.name, column, has_rows)
            ops.append(PlannedOperation(op, safety=safety, reason=reason))
            if safety is Safety.SAFE:
                working = working.with_column(column)
            continue
        changes = column_changes(column, found, strict_defaults=strict_defaults)
        note = None if strict_defaults else default_note(column, found)
        if note is not None:
            notes.append(f"table {table.name}: {note}")
        if changes:
            alter = AlterColumn(table.name, desired=column, actual=found, changes=tuple(changes))
            ops.append(_unsafe(alter, "a column's definition changes only in a migration"))
    for column in current.columns:
        if fold_identifier(column.name) not in declared:
            ops.append(
                _unsafe(
                    DropColumn(table.name, spec=column),
                    "the column exists in the database but not in the model",
                )
            )
    return ops, working


def _diff_indexes(
    table: TableSpec, current: TableSpec, working: TableSpec
) -> list[PlannedOperation]:
    """Indexes are matched by what they index (table, keys in order, uniqueness, ``WHERE``),
    whatever their names: an index another tool made under its own name is the model's index
    (it keeps its name). A unique index and a ``UNIQUE`` constraint on the same columns serve
    each other. An index of the model's name with another definition is an unsafe change."""
    ops: list[PlannedOperation] = []
    live = list(current.indexes)
    live_constraints = {tuple(fold_identifier(c) for c in u) for u in current.unique_together}
    # Columns the safe operations do not add (their add is blocked): an index that uses one,
    # as a key, in an expression or in its WHERE, cannot be created yet.
    present = {fold_identifier(c.name) for c in working.columns}
    missing = [c.name for c in table.columns if fold_identifier(c.name) not in present]

    def take(found: IndexSpec | None) -> IndexSpec | None:
        if found is not None:
            live.remove(found)
        return found

    def named(index: IndexSpec) -> IndexSpec | None:
        folded = fold_identifier(index.name)
        return next((i for i in live if fold_identifier(i.name) == folded), None)

    def same(index: IndexSpec) -> IndexSpec | None:
        return next((i for i in live if not index_changed(index, i)), None)

    def unique_on(keys: tuple[str, ...]) -> IndexSpec | None:
        return next((i for i in live if plain_unique_keys(i) == keys), None)

    def create(index: IndexSpec) -> None:
        if not any(index.uses(column) for column in missing):
            ops.append(PlannedOperation(CreateIndex(table.name, index=index)))

    for index in table.indexes:
        by_name = take(named(index))
        if by_name is not None and index_changed(index, by_name):
            if take(same(index)) is None:
                ops.append(
                    _unsafe(
                        AlterIndex(table.name, desired=index, actual=by_name),
                        "an index with this name exists with other columns or uniqueness",
                    )
                )
            else:
                live.append(by_name)  # another index is the model's; this one is left over
            continue
        if by_name is not None or take(same(index)) is not None:
            continue
        if plain_unique_keys(index) in live_constraints:
            continue  # a UNIQUE constraint on these columns does the index's job
        create(index)
    for together in table.unique_together:
        keys = tuple(fold_identifier(c) for c in together)
        if keys in live_constraints or take(unique_on(keys)) is not None:
            continue
        create(IndexSpec(index_name(table.name, together, unique=True), together, unique=True))
    for leftover in live:
        ops.append(
            _unsafe(
                DropIndex(table.name, index=leftover),
                "the index exists in the database but not in the model",
            )
        )
    return ops
