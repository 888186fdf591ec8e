"""Naming the constraint SQLite refused: which fields a ``UNIQUE``, ``NOT NULL``, ``CHECK`` or
``FOREIGN KEY`` failure is about, for a :class:`~hedystia_models.errors.RowError`'s problems.

SQLite's messages name the columns of ``UNIQUE`` and ``NOT NULL`` failures and the constraint
of a ``CHECK`` failure; they never say which foreign key failed, so each reference of the
written values is looked up in its parent table (values always bound).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from ...errors import Problem
from ...model.info import TableInfo
from ...schema.quoting import fold_identifier
from ...schema.quoting import quote_identifier as q
from ...schema.spec import ForeignKeySpec, Reference, normalize_sql
from ...schema.sqltext import mentions
from . import introspect

if TYPE_CHECKING:
    from ...database import Database

__all__ = ["ConstraintNames", "Matched", "Written"]

#: Stored values by column name: the row (or, for ``update``, the values) a statement wrote.
Written = Mapping[str, Any]

#: The rows a statement changed, as an SQL condition on the table and its parameters.
Matched = tuple[str, Sequence[Any]]

#: Foreign key actions under which a parent row still referenced cannot go (or change).
_BLOCKING = ("NO ACTION", "RESTRICT", "SET DEFAULT")


class ConstraintNames:
    """Names the fields of the constraints SQLite refuses for one table of ``db``."""

    def __init__(self, info: TableInfo, db: Database) -> None:
        self.info = info
        self._db = db
        self._table = q(info.name)
        #: The field of each column (folded name), to name the fields of a constraint.
        self._field_of = {fold_identifier(m.column): m.field for m in info.fields}
        self._folded_name = fold_identifier(info.name)

    def problems(
        self,
        failure: sqlite3.Error,
        index: int | None,
        written: Written,
        matched: Matched | None = None,
    ) -> list[Problem]:
        """The problems of a constraint SQLite refused, for the row at ``index`` (``None``: a
        single-row call): the field(s) of the constraint's columns, from SQLite's message and
        the table spec (``UNIQUE``, ``NOT NULL``, ``CHECK``). SQLite does not say which
        foreign key failed: each reference of the ``written`` values is looked up in its
        table, and for ``matched`` rows (``delete``, ``update``) each foreign key that
        references this table is looked up in the referencing table, values always bound."""
        message = str(failure)
        kind, found, detail = message.partition(" constraint failed")
        detail = detail.removeprefix(": ")
        if not found:  # a trigger's RAISE(ABORT, ...), say
            return [(index, None, message)]
        if kind == "FOREIGN KEY" and detail.startswith("Key ("):
            # PostgreSQL says which key failed (engine/postgres/dbapi.py): no lookup needed,
            # and none could run in the transaction PostgreSQL has marked failed.
            return self._postgres_foreign_key(index, detail, written) or [(index, None, message)]
        if kind == "FOREIGN KEY":
            problems = self.missing_parents(index, written)
            if not problems and matched is not None:
                problems = self._referencing_rows(matched, written)
            return problems or [(index, None, message)]
        if kind == "CHECK":
            # PostgreSQL names a column's check <table>_<column>_check: SQLite's words for it
            # are its expression.
            expression = self._column_check(detail)
            if expression is not None:
                detail, message = expression, f"CHECK constraint failed: {expression}"
        columns = self._checked_columns(detail) if kind == "CHECK" else self._listed(detail)
        fields = [self._field_of.get(fold_identifier(c)) for c in columns]
        if len(fields) == 1 and fields[0] is not None:
            return [(index, fields[0], message)]
        named = [f for f in fields if f is not None]
        if len(named) > 1:
            return [(index, None, f"{message} (fields {', '.join(map(repr, named))})")]
        return [(index, None, message)]

    def _postgres_foreign_key(
        self, index: int | None, detail: str, written: Written
    ) -> list[Problem]:
        """The problem of PostgreSQL's foreign key failure, in the words :meth:`problems`
        gives SQLite's: ``Key (user_id)=(7) is not present in table "users".`` (a written row
        without its parent) or ``Key (id)=(2) is still referenced from table "posts".`` (a
        row to delete or update that another row references)."""
        from ..postgres.dbapi import key_columns

        columns = key_columns(detail)
        table = detail.rsplit(" table ", 1)[-1].strip().rstrip(".").strip('"')
        spec = self.info.spec
        if "is still referenced" in detail:
            action = "update" if written else "delete"
            mine = {fold_identifier(c) for c in columns}
            places = [
                f"{model_spec.name}.{column.name}"
                for model_spec in self._model_specs()
                if fold_identifier(model_spec.name) == fold_identifier(table)
                for column in model_spec.columns
                if column.references is not None
                and fold_identifier(column.references.table) == self._folded_name
                and fold_identifier(column.references.column) in mine
            ]
            where = ", ".join(places) or f"{table}"
            field = self._field_of.get(fold_identifier(columns[0])) if written else None
            return [(index, field if len(columns) == 1 else None, _still_referenced(action, where))]
        if len(columns) == 1:
            column = next(
                (c for c in spec.columns if fold_identifier(c.name) == fold_identifier(columns[0])),
                None,
            )
            if column is not None and column.references is not None:
                field = self._field_of.get(fold_identifier(column.name))
                return [(index, field, _no_parent(column.references))]
        folded = [fold_identifier(c) for c in columns]
        for key in spec.foreign_keys:
            if [fold_identifier(c) for c in key.columns] == folded:
                return [(index, None, _no_parent_key(key))]
        return []

    def _model_specs(self) -> list[Any]:
        """The specs of the database's models (the tables that may reference this one)."""
        from ...model.table import table_info

        return [table_info(model).spec for model in self._db.models.values()]

    def _listed(self, detail: str) -> list[str]:
        """The columns of a ``UNIQUE`` or ``NOT NULL`` failure: SQLite lists them as
        ``table.column, ...``, or names an index on expressions (``index 'name'``)."""
        spec = self.info.spec
        if detail.startswith("index '") and detail.endswith("'"):
            name = fold_identifier(detail[len("index '") : -1])
            indexes = (*spec.indexes, *spec.unique_indexes)
            return next(
                (list(i.column_names) for i in indexes if fold_identifier(i.name) == name), []
            )
        prefix = fold_identifier(self.info.name) + "."
        names = {fold_identifier(c): c for c in spec.column_names}
        whole = fold_identifier(detail).removeprefix(prefix)
        if whole in names:
            return [names[whole]]
        columns = []
        for part in detail.split(", "):
            folded = fold_identifier(part)
            if not folded.startswith(prefix) or folded[len(prefix) :] not in names:
                return []
            columns.append(names[folded[len(prefix) :]])
        return columns

    def _column_check(self, name: str) -> str | None:
        """The check of the column whose check PostgreSQL names ``name`` by default
        (``<table>_<column>_check``), ``None`` when no column's is."""
        from ..postgres.introspect import object_name

        for column in self.info.spec.columns:
            if column.check is not None and name == object_name(
                self.info.name, column.name, "check"
            ):
                return column.check
        return None

    def _checked_columns(self, detail: str) -> list[str]:
        """The columns of a ``CHECK`` failure: SQLite names the constraint (a column's CHECK
        by its column, a named one by its name) or quotes its expression."""
        spec = self.info.spec
        folded, expression = fold_identifier(detail), normalize_sql(detail)
        for column in spec.columns:
            if fold_identifier(column.name) == folded or (
                column.check is not None and normalize_sql(column.check) == expression
            ):
                return [column.name]
        for check in spec.checks:
            if (check.name is not None and fold_identifier(check.name) == folded) or (
                normalize_sql(check.expression) == expression
            ):
                detail = check.expression
                break
        return [c for c in spec.column_names if mentions(detail, c)]

    def _parent_has(self, table: str, columns: Sequence[str], values: Sequence[Any]) -> bool:
        """True when a row of ``table`` has ``values`` in ``columns`` (False when the table
        cannot be read, which is a foreign key failure too)."""
        test = " AND ".join(f"{q(c)} = ?" for c in columns)
        try:
            row = self._db.conn.execute(
                f"SELECT 1 FROM {q(table)} WHERE {test} LIMIT 1", list(values)
            ).fetchone()
        except sqlite3.Error:
            return False
        return row is not None

    def missing_parents(self, index: int | None, written: Written) -> list[Problem]:
        """A problem for each reference of the ``written`` values that no parent row has."""
        spec = self.info.spec
        given = {fold_identifier(c): v for c, v in written.items()}
        problems: list[Problem] = []
        for column in spec.columns:
            ref, value = column.references, given.get(fold_identifier(column.name))
            if ref is None or value is None or self._parent_has(ref.table, [ref.column], [value]):
                continue
            field = self._field_of.get(fold_identifier(column.name))
            problems.append((index, field, _no_parent(ref)))
        for key in spec.foreign_keys:
            values = [given.get(fold_identifier(c)) for c in key.columns]
            if any(v is None for v in values) or self._parent_has(
                key.other_table, key.other_columns, values
            ):
                continue
            problems.append((index, None, _no_parent_key(key)))
        return problems

    def _referencing_rows(self, matched: Matched, written: Written) -> list[Problem]:
        """A problem for each foreign key of another table (or this one) that still references
        the ``matched`` rows, which a ``delete`` (``written`` empty) removes or an ``update``
        changes (the referenced column among those ``written``)."""
        condition, params = matched
        conn = self._db.conn
        changed = {fold_identifier(c) for c in written}
        action = "update" if written else "delete"
        problems: list[Problem] = []
        for child in introspect.referencing_tables(conn, self.info.name):
            spec = introspect.read_table(self._db.sqlite, child)
            keys: list[tuple[tuple[str, ...], str, tuple[str, ...], str]] = [
                ((c.name,), r.table, (r.column,), r.on_update if written else r.on_delete)
                for c in spec.columns
                if (r := c.references) is not None
            ]
            keys += [
                (k.columns, k.other_table, k.other_columns, k.on_update if written else k.on_delete)
                for k in spec.foreign_keys
            ]
            for columns, parent, parents, rule in keys:
                if rule not in _BLOCKING or fold_identifier(parent) != self._folded_name:
                    continue
                if written and not changed & {fold_identifier(p) for p in parents}:
                    continue
                mine = ", ".join(q(p) for p in parents)
                theirs = ", ".join(q(c) for c in columns)
                sql = (
                    f"SELECT 1 FROM {q(child)} WHERE ({theirs}) IN (SELECT {mine} FROM "
                    f"{self._table} WHERE {condition}) LIMIT 1"
                )
                if conn.execute(sql, list(params)).fetchone() is None:
                    continue
                # An update changes the referenced field; a delete takes the whole row.
                field = (
                    self._field_of.get(fold_identifier(parents[0]))
                    if written and len(parents) == 1
                    else None
                )
                where = ", ".join(f"{child}.{c}" for c in columns)
                problems.append((None, field, _still_referenced(action, where)))
        return problems


# The messages of foreign key failures, the same whichever engine's words they come from.


def _no_parent(ref: Reference) -> str:
    return f"FOREIGN KEY constraint failed: no row of {ref.table} has this {ref.column}"


def _no_parent_key(key: ForeignKeySpec) -> str:
    return (
        f"FOREIGN KEY constraint failed: no row of {key.other_table} has these "
        f"{', '.join(key.other_columns)} (columns {', '.join(key.columns)})"
    )


def _still_referenced(action: str, where: str) -> str:
    return f"FOREIGN KEY constraint failed: a row to {action} is still referenced by {where}"
