"""Compare two specs of the same thing, one aspect at a time: columns, indexes, table-level
constraints. Each function says in words how ``actual`` (the database) differs from
``desired`` (the models); an empty answer means equal. Pure: nothing here touches a database.
"""

from __future__ import annotations

from .quoting import UNPARSED, fold_identifier, parse_sql_literal
from .spec import ColumnSpec, ForeignKeySpec, IndexKey, IndexSpec, Reference, TableSpec
from .sqltext import same_statement, sql_words

__all__ = ["column_changes", "index_changed", "same_default", "table_changes"]


def same_default(a: str | None, b: str | None) -> bool:
    """True when two ``DEFAULT`` clauses give the same value (``NULL`` and none are equal).

    >>> same_default("'1'", "'1'"), same_default("1", "'1'"), same_default(None, "NULL")
    (True, False, True)
    """
    if a is None or b is None:
        return _is_null_default(a) and _is_null_default(b)
    va, vb = parse_sql_literal(a), parse_sql_literal(b)
    if va is not UNPARSED and vb is not UNPARSED:
        return type(va) is type(vb) and va == vb
    return same_statement(a, b)


def _is_null_default(text: str | None) -> bool:
    return text is None or parse_sql_literal(text) is None


def _same_sql(a: str | None, b: str | None) -> bool:
    """Two optional SQL expressions that read the same (see ``same_statement``)."""
    if a is None or b is None:
        return a is b
    return same_statement(a, b)


def _names(names: tuple[str, ...]) -> tuple[str, ...]:
    return tuple(fold_identifier(n) for n in names)


def _reference(reference: Reference | None) -> tuple[str, ...] | None:
    """A reference as SQLite compares it: names folded, actions as they are."""
    if reference is None:
        return None
    r = reference
    return (*_names((r.table, r.column)), r.on_delete, r.on_update)


def _foreign_key(fk: ForeignKeySpec) -> tuple[object, ...]:
    return (
        _names(fk.columns),
        fold_identifier(fk.other_table),
        _names(fk.other_columns),
        fk.on_delete,
        fk.on_update,
    )


def column_changes(desired: ColumnSpec, actual: ColumnSpec) -> list[str]:
    """Human descriptions of how ``actual`` differs from ``desired`` (empty when equal)."""
    changes: list[str] = []
    if desired.type != actual.type:
        changes.append(f"type {actual.type or '(none)'} -> {desired.type or '(none)'}")
    if desired.not_null != actual.not_null:
        changes.append("NULL -> NOT NULL" if desired.not_null else "NOT NULL -> NULL")
    if not same_default(desired.default_sql, actual.default_sql):
        changes.append(f"default {actual.default_sql} -> {desired.default_sql}")
    if desired.primary_key != actual.primary_key:
        changes.append("becomes primary key" if desired.primary_key else "no longer primary key")
    if desired.auto_increment != actual.auto_increment:
        changes.append("gains AUTOINCREMENT" if desired.auto_increment else "loses AUTOINCREMENT")
    if desired.unique != actual.unique:
        changes.append("becomes UNIQUE" if desired.unique else "no longer UNIQUE")
    if not _same_sql(desired.check, actual.check):
        changes.append(f"check {actual.check} -> {desired.check}")
    if _reference(desired.references) != _reference(actual.references):
        changes.append(f"references {actual.references} -> {desired.references}")
    return changes


def _key(key: IndexKey) -> object:
    return fold_identifier(key) if isinstance(key, str) else sql_words(key.sql)


def index_changed(desired: IndexSpec, actual: IndexSpec) -> bool:
    """True when two indexes of the same name index other keys, differ in uniqueness or in
    their partial ``WHERE``. Sort order and collations of keys are not compared (a model
    cannot declare them; the database's index keeps them)."""
    return (
        tuple(_key(k) for k in desired.columns) != tuple(_key(k) for k in actual.columns)
        or desired.unique != actual.unique
        or not _same_sql(desired.where, actual.where)
    )


def table_changes(desired: TableSpec, actual: TableSpec) -> list[str]:
    """How the table-level constraints differ: primary key order, multi-column foreign keys
    and ``UNIQUE`` constraints, table ``CHECK`` constraints (empty when equal)."""
    changes = []
    wanted, found = _names(desired.primary_key), _names(actual.primary_key)
    if wanted != found and set(wanted) == set(found):
        changes.append(f"primary key order {actual.primary_key} -> {desired.primary_key}")
    if {_foreign_key(fk) for fk in desired.foreign_keys} != {
        _foreign_key(fk) for fk in actual.foreign_keys
    }:
        changes.append("multi-column foreign keys differ")
    if {_names(u) for u in desired.unique_together} != {_names(u) for u in actual.unique_together}:
        changes.append("multi-column UNIQUE constraints differ")
    if {sql_words(c.expression) for c in desired.checks} != {
        sql_words(c.expression) for c in actual.checks
    }:
        changes.append("table CHECK constraints differ")
    return changes
