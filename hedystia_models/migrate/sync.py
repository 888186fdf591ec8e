"""Apply the safe part of a plan, once, even when many processes start at the same moment.

1. Fast path: when ``__hedystia_state`` holds the fingerprint of this model set (and of the
   ``ignore_tables`` setting) and SQLite's ``PRAGMA schema_version`` has not moved since,
   nothing can differ; return at once. Any DDL, by hand or by another tool, bumps
   ``schema_version``, so a real difference is never missed.
2. Otherwise introspect and plan without a lock; a blocked operation fails here, before any
   waiting.
3. Take the write lock (``BEGIN IMMEDIATE``, waiting on a busy database), plan again under the
   lock, since another process may have synced meanwhile, have the executor run the safe
   operations' statements, record one ``sync`` history row, remember the fingerprint, and
   commit; all or nothing. When nothing needed applying, only the fingerprint is written, and
   only when the bookkeeping tables already exist: a sync that changes nothing never creates
   them (a database another tool made stays without tables of ours, and has no fast path until
   something is recorded). A database that cannot take that write (a read-only file) is left
   as it is.

The foreign-key check before ``COMMIT`` covers what the plan changes: the tables it creates or
alters and the tables that reference one it rebuilds (see
:mod:`hedystia_models.engine.sqlite.transaction`). Another table, whatever is wrong with its
foreign keys or its rows, never stops a sync.
"""

from __future__ import annotations

import hashlib
import json
import logging
import sqlite3
from collections.abc import Sequence

import sqlite_utils

from ..engine import Compiled, Executor
from ..engine.sqlite.introspect import schema_version
from ..engine.sqlite.transaction import (
    ForeignKeyGuard,
    refuse_new_problems,
    schema_transaction,
)
from ..errors import OperationError, SyncError
from ..model.table import spec_digest
from ..schema.quoting import fold_identifier
from ..schema.spec import TableSpec
from ..schema.state import DatabaseState, ReferenceProblem
from . import history
from .operations import CreateTable, DropTable, RenameTable
from .plan import Plan
from .planner import plan_for, plan_state, reference_problems, refuse_bad_references

__all__ = [
    "create_missing_tables",
    "fingerprint",
    "is_known_in_sync",
    "raise_if_blocked",
    "sync",
    "warn_unsafe",
]

logger = logging.getLogger("hedystia_models")

_STATE_KEY = "sync_fingerprint"
#: Tables (folded names) holding the unsafe differences the last sync left alone, as JSON.
_DRIFT_KEY = "sync_drift"
_SPEC_FORMAT = "3"  # 3: the digest of each spec's repr, not the repr


def fingerprint(
    specs: Sequence[TableSpec], ignore_tables: Sequence[str] = (), strict_defaults: bool = False
) -> str:
    """A stable hash of a model set's table specs and of the ``ignore_tables`` patterns (as
    they match: case and order make no difference), so changing either plans again. It hashes
    the digest of each spec (:func:`~hedystia_models.model.table.spec_digest`), which a model
    made when its class was created: a few bytes per model at start-up."""
    digest = hashlib.sha256(_SPEC_FORMAT.encode())
    for spec in sorted(specs, key=lambda s: s.name):
        digest.update(spec_digest(spec))
    # The specs' digests have a fixed length, so the patterns cannot pass for a spec.
    patterns = sorted({fold_identifier(pattern) for pattern in ignore_tables})
    digest.update(b"\0ignore_tables\0" + json.dumps(patterns).encode())
    if strict_defaults:
        digest.update(b"\0strict_defaults")
    return digest.hexdigest()


def _stamp(conn: sqlite3.Connection, digest: str) -> str:
    return f"{digest}:{schema_version(conn)}"


def is_known_in_sync(
    conn: sqlite3.Connection,
    specs: Sequence[TableSpec],
    ignore_tables: Sequence[str] = (),
    strict_defaults: bool = False,
) -> bool:
    """True when the recorded fingerprint matches ``specs`` and ``ignore_tables`` and the
    schema has not changed (``False`` when nothing is recorded: no bookkeeping tables)."""
    return _known_in_sync(conn, fingerprint(specs, ignore_tables, strict_defaults))


def _known_in_sync(conn: sqlite3.Connection, digest: str) -> bool:
    return history.read_state(conn, _STATE_KEY) == _stamp(conn, digest)


def raise_if_blocked(plan: Plan) -> None:
    """Raise :class:`SyncError` listing why, when a change ``plan`` needs is blocked."""
    if plan.blocked:
        reasons = "\n".join(f"  - {op.reason or op.describe()}" for op in plan.blocked)
        raise SyncError(
            f"sync cannot bring the database up to date; nothing was applied:\n{reasons}"
        )


def sync(
    db: sqlite_utils.Database,
    specs: Sequence[TableSpec],
    executor: Executor,
    *,
    ignore_tables: Sequence[str] = (),
    strict_defaults: bool = False,
) -> Plan:
    """Apply the safe operations that take ``db`` to ``specs``; return the plan applied.
    Tables ``ignore_tables`` names are neither reported nor touched.

    Raises :class:`SyncError` (and applies nothing) when a needed change is blocked.
    Unsafe differences stay in the returned plan's ``unsafe`` list, are logged as warnings on
    the ``hedystia_models`` logger, and are never applied. On the fast path (nothing changed
    since the last sync) the plan holds just the drift that sync left alone then, re-read from
    the tables it concerns; with no drift it is empty.
    """
    conn = db.conn
    digest = fingerprint(specs, ignore_tables, strict_defaults)  # once per sync
    if not conn.in_transaction and _known_in_sync(conn, digest):
        drift = _known_drift(conn, specs, executor, ignore_tables, strict_defaults)
        if drift is not None:
            warn_unsafe(drift)
            return drift
    state, first = plan_state(
        specs, executor, ignore_tables=ignore_tables, strict_defaults=strict_defaults
    )
    raise_if_blocked(first)  # fail fast, before waiting for the write lock
    if first.safe:
        plan = _apply_locked(
            db, specs, executor, ignore_tables, strict_defaults, digest, state, first
        )
    elif not history.tables_exist(conn):
        # Nothing to apply and nothing recorded yet (a database another tool made): creating
        # the bookkeeping tables just to hold a fingerprint would leave tables of ours that
        # the other tool then proposes to drop. No fast path until something is recorded.
        plan = first
    else:
        plan = first
        try:
            _apply_locked(db, specs, executor, ignore_tables, strict_defaults, digest, state, first)
        except sqlite3.OperationalError as exc:
            # Only the fingerprint needed writing, and the database refused the write (a
            # read-only file): the schema is as the models want it, so start-up goes on and the
            # next start plans again.
            logger.info("sync could not record its fingerprint (%s); nothing else to do", exc)
    warn_unsafe(plan)
    return plan


def create_missing_tables(
    db: sqlite_utils.Database,
    specs: Sequence[TableSpec],
    executor: Executor,
    *,
    ignore_tables: Sequence[str] = (),
    strict_defaults: bool = False,
) -> Plan:
    """Create the tables the models declare and the database lacks, and nothing else (the
    first step of start-up with migrations, see :meth:`hedystia_models.Database.upgrade`).
    Returns the plan of what it created.

    A table whose foreign key references a table that exists nowhere yet (nor in the models,
    nor in the database) is not created: a migration may create that table, and the sync after
    the migrations creates the rest, or refuses what still cannot work. Any other foreign key
    that cannot work is a :class:`~hedystia_models.errors.SchemaError` here already."""

    def planned(before: tuple[DatabaseState, Plan] | None = None) -> tuple[DatabaseState, Plan]:
        return plan_state(
            specs,
            executor,
            ignore_tables=ignore_tables,
            strict_defaults=strict_defaults,
            check_references=False,
            before=before,
        )

    first = planned()
    if not any(isinstance(op.operation, CreateTable) for op in first[1].safe):
        return Plan()
    guard = ForeignKeyGuard(db.conn)
    try:
        with schema_transaction(db.conn, guard):
            waiting = waiting_tables(specs, executor, ignore_tables)
            _, plan = planned(first)
            creates = creates_only(plan, waiting)
            guard.cover(op.table for op in creates)
            _execute(db, creates, executor)
    except OperationError as exc:
        raise SyncError(
            f"creating the tables of the models failed and was rolled back: {exc}"
        ) from exc
    return creates


def creates_only(plan: Plan, waiting: set[str]) -> Plan:
    """The safe ``CREATE TABLE`` operations of ``plan``, but of the ``waiting`` tables
    (folded names: see :func:`waiting_tables`): the first step of start-up with migrations."""
    return Plan(
        tuple(
            op
            for op in plan.safe
            if isinstance(op.operation, CreateTable) and fold_identifier(op.table) not in waiting
        )
    )


def waiting_tables(
    specs: Sequence[TableSpec], executor: Executor, ignore_tables: Sequence[str]
) -> set[str]:
    """Tables (folded) that reference, directly or through another waiting table, a table
    that exists nowhere yet; any other foreign key that cannot work is raised."""
    state = executor.read_state()
    missing = refuse_bad_references(specs, state, ignore_tables, allow_missing=True)
    waiting = {fold_identifier(problem.edge.table) for problem in missing}
    grew = bool(waiting)
    while grew:
        grew = False
        for spec in specs:
            key = fold_identifier(spec.name)
            if key not in waiting and any(
                fold_identifier(t) in waiting for t in spec.foreign_key_targets()
            ):
                waiting.add(key)
                grew = True
    return waiting


def _execute(db: sqlite_utils.Database, plan: Plan, executor: Executor) -> None:
    """Run the safe operations of ``plan`` and record them as one sync step (inside the
    caller's schema transaction; the history row creates the bookkeeping tables if they are
    missing, so a plan with nothing to run creates nothing)."""
    conn = db.conn
    try:
        for op in plan.safe:
            rebuild = op.reason if op.rebuild else None
            executor.execute(op.table, Compiled(op.statements, rebuild))
    except OperationError as exc:
        raise SyncError(f"sync failed and was rolled back: {exc}") from exc
    if plan.sql():
        name, when = history.new_sync_entry()
        history.record(conn, name=name, kind="sync", statements=plan.sql(), executed_at=when)


def _apply_locked(
    db: sqlite_utils.Database,
    specs: Sequence[TableSpec],
    executor: Executor,
    ignore_tables: Sequence[str],
    strict_defaults: bool,
    digest: str,
    before: DatabaseState,
    first: Plan,
) -> Plan:
    """Plan again under the write lock (the plan made before it, ``first`` from ``before``,
    is taken over only when the database reads back the same, see
    :func:`~.planner.plan_state`), apply the safe operations, record them and the
    fingerprint, in one transaction."""
    conn = db.conn
    guard = ForeignKeyGuard(conn)
    try:
        with schema_transaction(conn, guard):
            state, plan = plan_state(
                specs,
                executor,
                ignore_tables=ignore_tables,
                strict_defaults=strict_defaults,
                before=(before, first),
            )
            raise_if_blocked(plan)
            if not plan.safe and not history.tables_exist(conn):
                return plan  # nothing to apply and nothing recorded: create nothing (see sync)
            if not _cover(guard, plan):
                refuse_new_problems(_new_table_key_problems(plan, specs, state))
            _execute(db, plan, executor)
            history.write_state(conn, _STATE_KEY, _stamp(conn, digest))
            drift = sorted({fold_identifier(op.table) for op in plan.unsafe})
            history.write_state(conn, _DRIFT_KEY, json.dumps(drift))
    except OperationError as exc:  # the foreign-key check before COMMIT
        raise SyncError(f"sync failed and was rolled back: {exc}") from exc
    return plan


def _cover(guard: ForeignKeyGuard, plan: Plan) -> bool:
    """Have ``guard`` check the tables ``plan``'s safe operations change, and the tables that
    reference one they rebuild, rename or drop; False when that is none (the plan only creates
    tables). A table the plan only creates is left out: it is new and empty when the check
    runs (sync writes no rows), so no row of it can lack its parent; its own keys are checked
    by :func:`_new_table_key_problems` when the guard covers nothing, and by the guard's
    whole-database comparison otherwise."""
    replaced = [
        op.table
        for op in plan.safe
        if op.rebuild or isinstance(op.operation, (RenameTable, DropTable))
    ]
    created = {
        fold_identifier(op.table) for op in plan.safe if isinstance(op.operation, CreateTable)
    }
    only_created = created - {
        fold_identifier(op.table) for op in plan.safe if not isinstance(op.operation, CreateTable)
    }
    changed = [op.table for op in plan.safe if fold_identifier(op.table) not in only_created]
    if not (changed or replaced):
        return False
    guard.cover(changed, children_of=replaced)
    return True


def _new_table_key_problems(
    plan: Plan, specs: Sequence[TableSpec], state: DatabaseState
) -> list[ReferenceProblem]:
    """The foreign keys of the tables ``plan`` creates that SQLite could not enforce, each
    checked against its parent as it will be after the plan: a table the plan creates too as
    its model declares it, any other as the database has it (``state``, read under the write
    lock), whatever its model says (sync leaves a change of an existing table's keys alone:
    that would be a migration's). Pure: no schema read."""
    created = {
        fold_identifier(op.table) for op in plan.safe if isinstance(op.operation, CreateTable)
    }
    # A key whose parent the plan creates too was checked against that parent's spec when the
    # plan was made (refuse_bad_references): the table created is that spec. Only keys to
    # tables the database has already are left, checked against them as they are.
    made = [s for s in specs if fold_identifier(s.name) in created]
    outward = [
        s for s in made if any(fold_identifier(t) not in created for t in s.foreign_key_targets())
    ]
    return reference_problems(made, state, edges_of=outward) if outward else []


def _known_drift(
    conn: sqlite3.Connection,
    specs: Sequence[TableSpec],
    executor: Executor,
    ignore_tables: Sequence[str],
    strict_defaults: bool,
) -> Plan | None:
    """On the fast path: the drift the last sync left alone, planned again from the tables it
    concerns only (their schema cannot have changed: ``schema_version`` says so); an empty plan
    when there was none, ``None`` when the record is missing or unreadable."""
    stored = history.read_state(conn, _DRIFT_KEY)
    try:
        tables = json.loads(stored) if stored is not None else None
    except ValueError:
        tables = None
    if not isinstance(tables, list) or not all(isinstance(t, str) for t in tables):
        return None
    if not tables:
        return Plan()
    wanted = set(tables)
    subset = [spec for spec in specs if fold_identifier(spec.name) in wanted]
    plan = plan_for(
        subset, executor, only=tables, ignore_tables=ignore_tables, strict_defaults=strict_defaults
    )
    return plan if not (plan.safe or plan.blocked) else None


def warn_unsafe(plan: Plan) -> None:
    """Log each unsafe difference sync leaves alone, as a warning."""
    for op in plan.unsafe:
        logger.warning("sync left alone: %s (%s)", op.describe(), op.reason)
