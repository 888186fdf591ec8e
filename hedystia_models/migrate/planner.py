"""Make a plan: read the live database, diff it against the models, and have the engine's
executor compile every operation, so that the plan shows exactly the SQL that would run.

The differ (:mod:`.diff`) is pure and engine-neutral; the executor decides the statements
(native ``ALTER`` or a table rebuild) against the table as it will be when the operation runs:
safe operations are compiled in order, each against the table the ones before it leave, and
unsafe ones against the table after all the safe ones. An operation the executor refuses
becomes blocked (when sync needed it) or keeps no SQL (when only a migration could make it),
with the executor's reason.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

from ..engine import Executor
from ..errors import OperationError
from ..schema.quoting import fold_identifier
from ..schema.spec import TableSpec
from ..schema.state import DatabaseState
from .diff import diff
from .operations import Safety
from .plan import Plan, PlannedOperation
from .verdicts import rebuild_with_rows_reason

__all__ = ["compile_plan", "plan_for"]


def plan_for(
    specs: Sequence[TableSpec], executor: Executor, only: Sequence[str] | None = None
) -> Plan:
    """Read the database ``executor`` runs on (only the tables named in ``only``, when given),
    diff it against ``specs`` and have ``executor`` compile the result."""
    state = executor.read_state(only)
    return compile_plan(diff(specs, state), state, executor)


def compile_plan(plan: Plan, state: DatabaseState, executor: Executor) -> Plan:
    """``plan`` with every operation's statements filled in by ``executor``."""
    working: dict[str, TableSpec | None] = {
        fold_identifier(name): spec for name, spec in state.tables.items()
    }
    compiled: list[PlannedOperation] = []
    for planned in plan:
        if planned.safety is Safety.BLOCKED:
            compiled.append(planned)
            continue
        key = fold_identifier(planned.table)
        done = _compile(planned, working.get(key), state, executor)
        compiled.append(done)
        if done.safety is Safety.SAFE:
            working[key] = planned.operation.changed(working.get(key))
    order = [Safety.SAFE, Safety.BLOCKED, Safety.UNSAFE]
    return Plan(tuple(sorted(compiled, key=lambda op: order.index(op.safety))))


def _compile(
    planned: PlannedOperation, table: TableSpec | None, state: DatabaseState, executor: Executor
) -> PlannedOperation:
    operation = planned.operation
    try:
        result = executor.compile(operation, table, state)
    except OperationError as exc:
        if planned.safety is Safety.SAFE:
            return planned.blocked(f"cannot {operation.describe()}: {exc}")
        reason = f"{planned.reason}; a migration cannot make it as it stands: {exc}"
        return replace(planned, reason=reason)
    rebuilds_rows = table is not None and state.has_rows(table.name)
    if planned.safety is Safety.SAFE and result.rebuild is not None and rebuilds_rows:
        return planned.blocked(rebuild_with_rows_reason(operation, result.rebuild))
    return replace(
        planned,
        statements=result.statements,
        rebuild=result.rebuild is not None,
        reason=planned.reason if planned.reason is not None else result.rebuild,
    )
