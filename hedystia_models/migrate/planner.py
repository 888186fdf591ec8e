"""Make a plan: read the live database, diff it against the models, and have the engine's
executor compile every operation, so that the plan shows exactly the SQL that would run.

The differ (:mod:`.diff`) is pure and engine-neutral; the executor decides the statements
(native ``ALTER`` or a table rebuild) against the table as it will be when the operation runs:
safe operations are compiled in order, each against the table the ones before it leave, and
unsafe ones against the table after all the safe ones. An operation the executor refuses
becomes blocked (when sync needed it) or keeps no SQL (when only a migration could make it),
with the executor's reason.

Tables other tools own (Django's ``django_migrations``, Alembic's ``alembic_version``) are named
by ``ignore_tables`` patterns (:func:`ignore_patterns`) and taken out of the state before the
diff (:func:`without_ignored`), so no plan ever reports or touches them.

Before the diff, every foreign key the models declare is checked against what it references
(:func:`reference_problems`): the model declaring that table, or else the table in the
database (a table another tool owns, ignored or not, may be referenced: it is only read). A
reference to a table that exists nowhere, to a column it lacks, or to columns that are not its
primary key or a ``UNIQUE`` key would make SQLite refuse every write to the table (``no such
table``, ``foreign key mismatch``); the plan refuses it instead, with a
:class:`~hedystia_models.errors.SchemaError` naming the table, the column and the target.
"""

from __future__ import annotations

import fnmatch
from collections.abc import Iterable, Sequence
from dataclasses import replace

from ..engine import Executor
from ..errors import ConfigurationError, OperationError, SchemaError
from ..schema.quoting import fold_identifier
from ..schema.spec import TableSpec
from ..schema.state import (
    DatabaseState,
    ParentKeys,
    ReferenceProblem,
    foreign_keys_of,
    reference_problem,
)
from .diff import diff
from .operations import Safety
from .plan import Plan, PlannedOperation
from .verdicts import rebuild_with_rows_reason

__all__ = [
    "compile_plan",
    "ignore_patterns",
    "ignored_by",
    "plan_for",
    "plan_state",
    "reference_problems",
    "refuse_bad_references",
    "refuse_ignored_specs",
    "without_ignored",
]


def plan_for(
    specs: Sequence[TableSpec],
    executor: Executor,
    only: Sequence[str] | None = None,
    *,
    ignore_tables: Sequence[str] = (),
    strict_defaults: bool = False,
    check_references: bool = True,
) -> Plan:
    """Read the database ``executor`` runs on (only the tables named in ``only``, when given),
    leave out the tables ``ignore_tables`` names (see :func:`without_ignored`), diff it against
    ``specs`` (``strict_defaults``: see :func:`~hedystia_models.migrate.diff.diff`) and have
    ``executor`` compile the result. A spec of an ignored table is a
    :class:`~hedystia_models.errors.ConfigurationError`; a foreign key of ``specs`` that cannot
    work is a :class:`~hedystia_models.errors.SchemaError` (:func:`refuse_bad_references`;
    not checked with ``only``, which reads part of the database, nor without
    ``check_references``)."""
    return plan_state(
        specs,
        executor,
        only,
        ignore_tables=ignore_tables,
        strict_defaults=strict_defaults,
        check_references=check_references,
    )[1]


def plan_state(
    specs: Sequence[TableSpec],
    executor: Executor,
    only: Sequence[str] | None = None,
    *,
    ignore_tables: Sequence[str] = (),
    strict_defaults: bool = False,
    check_references: bool = True,
    before: tuple[DatabaseState, Plan] | None = None,
) -> tuple[DatabaseState, Plan]:
    """:func:`plan_for`, returning the state read with the plan.

    ``before``: a (state, plan) this function returned earlier for the same arguments (sync
    plans once before taking the write lock, and again under it). The database is read again
    in any case; when it reads back the same (equal state, and the same ``schema_version``,
    which any change of the schema moves), that plan is the one the same diff and compilation
    would make again, and is returned as it is, sparing them."""
    refuse_ignored_specs(specs, ignore_tables)
    if only is not None and ignore_tables:
        only = [name for name in only if ignored_by(name, ignore_tables) is None]
    everything = executor.read_state(only)
    if before is not None and _same_database(before[0], everything):
        return everything, before[1]
    if check_references and only is None:
        refuse_bad_references(specs, everything, ignore_tables)
    state = without_ignored(everything, ignore_tables)
    plan = compile_plan(diff(specs, state, strict_defaults=strict_defaults), state, executor)
    return everything, plan


def _same_database(before: DatabaseState, now: DatabaseState) -> bool:
    """True when two reads of a database found the same schema and the same tables holding
    rows (``schema_version`` known and equal in both)."""
    return (
        before.schema_version is not None
        and before.schema_version == now.schema_version
        and before == now
    )


def reference_problems(
    specs: Sequence[TableSpec],
    state: DatabaseState,
    *,
    edges_of: Sequence[TableSpec] | None = None,
) -> list[ReferenceProblem]:
    """What is wrong with the foreign keys of ``specs`` (or of ``edges_of``, some of them),
    each checked against the table it references: its spec among ``specs`` when one declares
    it, else the table as ``state`` describes it (pure; see
    :func:`~hedystia_models.schema.state.reference_problem`)."""
    tables = {fold_identifier(n): t for n, t in state.tables.items()}
    tables.update({fold_identifier(t.name): t for t in specs})
    parents: dict[str, ParentKeys] = {}  # of the tables some key references, made once each

    def keys_of(folded: str) -> ParentKeys | None:
        found = parents.get(folded)
        if found is None and folded in tables:
            found = parents[folded] = ParentKeys.of(tables[folded])
        return found

    views = {fold_identifier(d.name) for d in state.dependents if d.kind == "view"}
    problems: list[ReferenceProblem] = []
    for spec in specs if edges_of is None else edges_of:
        for edge in foreign_keys_of(spec):
            other = fold_identifier(edge.other_table)
            found = reference_problem(edge, keys_of(other), is_view=other in views)
            if found is not None:
                problems.append(found)
    return problems


def refuse_bad_references(
    specs: Sequence[TableSpec],
    state: DatabaseState,
    ignore_tables: Sequence[str] = (),
    *,
    allow_missing: bool = False,
) -> list[ReferenceProblem]:
    """Raise :class:`~hedystia_models.errors.SchemaError` when a foreign key of ``specs``
    cannot work (:func:`reference_problems`; ``state`` describes the whole database, the
    tables ``ignore_tables`` names included). Nothing has been changed then.

    ``allow_missing``: a reference to a table that exists nowhere is no error (a migration may
    create the table); such problems are returned instead."""
    problems = reference_problems(specs, state)
    missing = [p for p in problems if p.missing_table] if allow_missing else []
    problems = [p for p in problems if p not in missing]
    if not problems:
        return missing
    lines = []
    for problem in problems:
        if problem.missing_table:
            target = problem.edge.other_table
            pattern = ignored_by(target, ignore_tables)
            reason = f"no model declares table {target!r} and the database has no such table"
            if pattern is not None:
                reason += f" (ignore_tables pattern {pattern!r} names it)"
            problem = replace(problem, reason=reason)
        lines.append(str(problem))
    if len(lines) == 1:
        raise SchemaError(f"{lines[0]}; nothing was changed")
    shown = "\n".join(f"  - {line}" for line in lines)
    raise SchemaError(
        f"{len(lines)} foreign keys of the models cannot work; nothing was changed:\n{shown}"
    )


def ignore_patterns(value: object, *, setting: str = "ignore_tables") -> tuple[str, ...]:
    """``value`` checked as a list of table names or :mod:`fnmatch` patterns (``None``: none),
    without repeats, in the order given; a :class:`~hedystia_models.errors.ConfigurationError`
    naming ``setting`` otherwise.

    >>> ignore_patterns(["django_*", "alembic_version", "django_*"])
    ('django_*', 'alembic_version')
    >>> ignore_patterns("django_*")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    hedystia_models.errors.ConfigurationError: ... not a single string (write ['django_*'])
    """
    if value is None:
        return ()
    if isinstance(value, (str, bytes)):
        raise ConfigurationError(
            f"{setting} must be a list of table names or patterns, not a single string "
            f"(write [{value!r}])"
        )
    if not isinstance(value, (list, tuple, set, frozenset)):
        raise ConfigurationError(
            f"{setting} must be a list of table names or patterns "
            f"(got {type(value).__name__}: {value!r})"
        )
    patterns: list[str] = []
    for item in value:
        if not isinstance(item, str) or not item.strip():
            raise ConfigurationError(
                f"{setting} must hold table names or patterns as non-empty strings "
                f"(got {type(item).__name__}: {item!r})"
            )
        if item not in patterns:
            patterns.append(item)
    return tuple(patterns)


def ignored_by(name: str, ignore_tables: Sequence[str]) -> str | None:
    """The first of ``ignore_tables`` that matches table ``name`` (``None`` when none does).

    A pattern is an exact name or an :mod:`fnmatch` pattern (``*``, ``?``, ``[...]``), matched
    the way SQLite compares table names: ASCII letters without regard to case.

    >>> ignored_by("Django_Session", ["alembic_version", "django_*"])
    'django_*'
    >>> ignored_by("users", ["django_*"]) is None
    True
    """
    folded = fold_identifier(name)
    for pattern in ignore_tables:
        if fnmatch.fnmatchcase(folded, fold_identifier(pattern)):
            return pattern
    return None


def refuse_ignored_specs(specs: Iterable[TableSpec], ignore_tables: Sequence[str]) -> None:
    """Raise :class:`~hedystia_models.errors.ConfigurationError` when one of ``specs`` is a
    table ``ignore_tables`` names: a table is either the models' or another tool's."""
    for spec in specs:
        pattern = ignored_by(spec.name, ignore_tables)
        if pattern is not None:
            raise ConfigurationError(
                f"table {spec.name!r} is declared by a model but ignored by ignore_tables "
                f"pattern {pattern!r}; remove one or the other"
            )


def without_ignored(state: DatabaseState, ignore_tables: Sequence[str]) -> DatabaseState:
    """``state`` without the tables ``ignore_tables`` names: nothing of them is left for a plan
    to report or change. Views and triggers stay as they are (``dependents``)."""
    if not ignore_tables:
        return state
    kept = {n: s for n, s in state.tables.items() if ignored_by(n, ignore_tables) is None}
    if len(kept) == len(state.tables):
        return state
    return replace(
        state,
        tables=kept,
        tables_with_rows=frozenset(n for n in state.tables_with_rows if n in kept),
        rebuild_obstacles={n: o for n, o in state.rebuild_obstacles.items() if n in kept},
    )


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
    return Plan(tuple(sorted(compiled, key=lambda op: order.index(op.safety))), notes=plan.notes)


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
