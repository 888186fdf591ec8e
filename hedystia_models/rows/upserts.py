"""Insert or update in one statement: ``upsert`` by a unique key, and ``save(instance)``.

Both are one ``INSERT ... ON CONFLICT (<key>) DO UPDATE SET ... RETURNING ...``: SQLite
decides, inside the statement, whether the row exists, so no other connection can slip a row
in between a lookup and the write, whatever its transaction does.

* ``upsert(where=..., create=..., update=...)`` takes this path when ``where`` names exactly
  one unique key of the table (the primary key, a ``unique=True`` field, a unique index or
  ``unique=`` group) with plain (``eq``) values that are not ``None``, and ``create`` holds
  those same values (:func:`conflict_target`); the key's columns are then the conflict
  target. Decimal and JSON fields are left out: their ``where`` equality (by number, by
  JSON value) is not the unique index's (by stored text). Any other ``where`` takes the
  lookup-then-write path of :meth:`~hedystia_models.rows.repository.Repository.upsert`,
  which is atomic too: its transaction takes SQLite's write lock first (``BEGIN
  IMMEDIATE``). So does a unique key the model declares and the database lacks (not synced).
* ``save(instance)`` (:func:`save`) inserts an instance without a key value, and otherwise
  upserts it by its primary key: every other column is set from the instance.

``refresh_on_update`` fields (:mod:`hedystia_models.rows.refresh`) take a new value on the
update side only; the insert side stores the row as given.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, TypeVar

from ..errors import QueryError
from ..model.table import Table
from ..schema.quoting import fold_identifier
from ..schema.quoting import quote_identifier as q
from ..schema.spec import TableSpec
from .refresh import refreshed_values
from .where import compile_where

if TYPE_CHECKING:
    from .repository import Repository

__all__ = [
    "conflict_target",
    "instance_key",
    "save",
    "unique_keys",
    "upsert_row",
    "upsert_written",
]

M = TypeVar("M", bound=Table)

#: Kinds whose ``where`` equality is not their stored text's (see the module docstring).
_NOT_BY_TEXT = frozenset({"decimal", "json"})

#: What SQLite says when the conflict target is no unique key of the live table.
_NO_SUCH_KEY = "does not match any PRIMARY KEY or UNIQUE constraint"


def unique_keys(spec: TableSpec) -> list[tuple[str, ...]]:
    """The column sets of ``spec`` that are unique: the primary key, unique columns,
    ``unique=`` groups and unique indexes on plain columns without a ``WHERE``."""
    keys: list[tuple[str, ...]] = []
    if spec.primary_key:
        keys.append(spec.primary_key)
    keys += [(c.name,) for c in spec.columns if c.unique]
    keys += list(spec.unique_together)
    keys += [
        i.column_names
        for i in spec.indexes
        if i.unique and i.where is None and not i.has_expressions
    ]
    return keys


def conflict_target(
    repo: Repository[M], where: object, row: Mapping[str, Any]
) -> tuple[str, ...] | None:
    """The unique key ``where`` names, as the columns of an ``ON CONFLICT`` target, when the
    encoded ``row`` (by column) to insert holds the same values; ``None`` otherwise (the
    lookup path then runs, and the ``where`` compiler names any problem of ``where``)."""
    if not isinstance(where, Mapping) or not where:
        return None
    values: dict[str, Any] = {}
    for key, value in where.items():
        mapping = repo.info.column_for(key) if isinstance(key, str) else None
        if mapping is None or mapping.column in values:
            return None
        if isinstance(value, Mapping):
            if list(value) != ["eq"]:
                return None
            value = value["eq"]
        if value is None or mapping.storage.kind in _NOT_BY_TEXT:
            return None
        values[mapping.column] = value
    named = {fold_identifier(c) for c in values}
    target = next(
        (key for key in unique_keys(repo.info.spec) if {fold_identifier(c) for c in key} == named),
        None,
    )
    if target is None:
        return None
    for column, value in values.items():
        # Encoded as the where compiler encodes it; a value it refuses is its error to raise.
        _, params = compile_where(repo.info, {column: {"eq": value}}, codec=repo.codec)
        stored = row.get(column)
        if len(params) != 1 or stored is None or params[0] != stored:
            return None
    return tuple(values)


def _on_conflict(
    repo: Repository[M],
    row: Sequence[Any],
    target: Sequence[str],
    sets: Sequence[str],
    params: Sequence[Any],
) -> tuple[str, list[Any]]:
    """``INSERT ... ON CONFLICT (target) DO UPDATE SET <sets> RETURNING <key>, <columns>``
    (``DO NOTHING`` without ``sets``) for the encoded ``row``, and its parameters."""
    columns = list(repo._columns)
    values = list(row)
    rowid_index = repo._rowid_index
    if rowid_index is not None and values[rowid_index] is None:  # SQLite chooses the key
        del columns[rowid_index], values[rowid_index]
    action = f"DO UPDATE SET {', '.join(sets)}" if sets else "DO NOTHING"
    key = "NULL" if repo._pk_columns else repo._rowid
    sql = (
        f"{repo._insert_sql(columns)} ON CONFLICT ({', '.join(q(c) for c in target)}) "
        f"{action} RETURNING {key}, {repo._select}"
    )
    return sql, [*values, *params]


def _key_of(repo: Repository[M], returned: Sequence[Any]) -> tuple[str, list[Any]]:
    """The condition finding the row ``returned`` (key first, then the columns) again."""
    if repo._pk_columns:
        condition = " AND ".join(f"{q(c)} = ?" for c in repo._pk_columns)
        return condition, [returned[1 + repo._columns.index(c)] for c in repo._pk_columns]
    return f"{repo._rowid} = ?", [returned[0]]


def upsert_row(
    repo: Repository[M],
    row: Sequence[Any],
    target: Sequence[str],
    where: Mapping[str, Any],
    update: Mapping[str, Any],
) -> M | None:
    """Insert the encoded ``row`` (a validated row's stored values, in column order), or set
    the encoded ``update`` (by column) on the row whose ``target`` columns hold its values,
    in one statement; return the row as stored. ``None`` when the database has no unique key
    on ``target`` (the caller looks up instead). Runs in the caller's transaction."""
    codec = repo.codec
    sets = [f"{q(c)} = ?" for c in update]
    sql, params = _on_conflict(repo, row, target, sets, list(update.values()))
    conn = repo.db.conn
    try:
        returned = conn.execute(sql, params).fetchone()
    except sqlite3.OperationalError as exc:
        if _NO_SUCH_KEY in str(exc):  # declared by the model, missing in the database
            return None
        raise
    if returned is None:  # DO NOTHING: the row is there, unchanged
        condition, where_params = compile_where(repo.info, where, codec=codec)
        returned = conn.execute(
            f"SELECT NULL, {repo._select} FROM {repo._table} WHERE {condition}", where_params
        ).fetchone()
    (stored,) = codec.load([returned[1:]], written=True)
    # As update() does: the model's validators ran on the row read back and may have
    # normalised what the update set (a lower-cased email); store what the row holds.
    by_column = {m.column: m for m in repo.info.fields}
    changed = {}
    for column in update:
        mapping = by_column[column]
        value = codec.encode_value(mapping, stored.__dict__[mapping.field])
        if value != returned[1 + repo._columns.index(column)]:
            changed[column] = value
    if changed:
        condition, key = _key_of(repo, returned)
        assignments = ", ".join(f"{q(c)} = ?" for c in changed)
        conn.execute(
            f"UPDATE {repo._table} SET {assignments} WHERE {condition}", [*changed.values(), *key]
        )
    return stored


def upsert_written(
    repo: Repository[M], row: Sequence[Any], target: Sequence[str], update: Mapping[str, Any]
) -> Callable[[], dict[str, Any]]:
    """What a failed :func:`upsert_row` was writing (by column), for naming the constraint it
    broke: the update's values when a row with the key is there (the statement, rolled back
    by now, would have updated it), else the row it would have inserted."""

    def written() -> dict[str, Any]:
        inserted = dict(zip(repo._columns, row, strict=True))
        condition = " AND ".join(f"{q(c)} = ?" for c in target)
        found = repo.db.conn.execute(
            f"SELECT 1 FROM {repo._table} WHERE {condition}", [inserted[c] for c in target]
        ).fetchone()
        return dict(update) if found is not None else inserted

    return written


def _check_instance(repo: Repository[M], instance: object, call: str) -> None:
    """Refuse ``instance`` for ``call`` (``"save"``, ``"delete"``) when the table has no
    primary key or ``instance`` is not one of its model's (a :class:`QueryError`; a dict
    given to ``delete`` is a ``TypeError``, as a missing ``where=`` keyword is)."""
    name, model = repo.info.name, repo.model
    if not repo._pk_fields:
        raise QueryError(
            f"table {name!r} has no primary key: {call}() finds its row by the key; use "
            f"{'insert' if call == 'save' else 'delete(where=...)'} instead"
        )
    if call == "delete" and isinstance(instance, Mapping):
        # As before delete(instance) existed: a condition given without where= is refused.
        raise TypeError(
            f"delete() takes an instance of {model.__name__}, or a condition as where={{...}} "
            "(not a dict given positionally)"
        )
    if not isinstance(instance, model):
        hint = (
            "insert() and upsert() take a dict"
            if call == "save"
            else "for a condition write delete(where={...})"
        )
        raise QueryError(
            f"table {name!r}: {call}() takes an instance of {model.__name__} (got "
            f"{type(instance).__name__}); {hint}"
        )


def instance_key(repo: Repository[M], instance: object, call: str) -> dict[str, Any]:
    """The ``where`` finding ``instance``'s row by its primary key, for ``call``; a
    :class:`QueryError` when the table has no key, ``instance`` is not one of its model's, or
    it has no key value (it was never stored)."""
    _check_instance(repo, instance, call)
    values = {field: instance.__dict__.get(field) for field in repo._pk_fields}
    missing = next((field for field, value in values.items() if value is None), None)
    if missing is not None:
        raise QueryError(
            f"table {repo.info.name!r}: the {repo.model.__name__} has no value for its key "
            f"field {missing!r}, so it is no row of the table (save it first)"
        )
    # "eq" spelt out, so that a dict given as the key is a value, not operators.
    return {field: {"eq": value} for field, value in values.items()}


def save(repo: Repository[M], instance: M) -> M:
    """:meth:`~hedystia_models.rows.repository.Repository.save`: insert ``instance`` when it
    has no key value, else insert it or update the row with its key, in one statement."""
    _check_instance(repo, instance, "save")
    if any(instance.__dict__.get(field) is None for field in repo._pk_fields):
        return repo.insert(instance)  # no key: SQLite gives one (or refuses the row)
    codec = repo.codec
    (obj,) = codec.validate([instance], batch=False)
    (row,) = codec.rows(codec.encode_columns([obj], batch=False))
    keys = set(repo._pk_columns)
    refreshed = refreshed_values(codec)
    sets = [f"{q(c)} = ?" for c in refreshed]
    sets += [f"{q(c)} = excluded.{q(c)}" for c in repo._columns if c not in keys | set(refreshed)]
    sql, params = _on_conflict(repo, row, repo._pk_columns, sets, list(refreshed.values()))
    fields = codec.fields
    with (
        repo._write_errors(
            "save",
            "written",
            lambda: ((None, f, v) for f, v in zip(fields, row, strict=True)),
            lambda: dict(zip(repo._columns, row, strict=True)),
        ),
        repo.db.transaction(),
    ):
        conn = repo.db.conn
        returned = conn.execute(sql, params).fetchone()
        if returned is None:  # DO NOTHING: every column is the key, and the row is there
            condition = " AND ".join(f"{q(c)} = ?" for c in repo._pk_columns)
            key = [row[repo._columns.index(c)] for c in repo._pk_columns]
            returned = conn.execute(
                f"SELECT NULL, {repo._select} FROM {repo._table} WHERE {condition}", key
            ).fetchone()
        (stored,) = codec.load([returned[1:]], written=True)
        return stored
