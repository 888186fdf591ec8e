"""Render :mod:`~hedystia_models.schema.spec` values as SQLite DDL statements.

Pure functions: spec in, SQL text out. Identifiers go through
:func:`~hedystia_models.schema.quoting.quote_identifier`; ``DEFAULT`` constants were rendered by
:func:`~hedystia_models.schema.quoting.sql_literal` when the spec was built.
"""

from __future__ import annotations

from dataclasses import replace

from ...schema.quoting import UNPARSED, fold_identifier, parse_sql_literal
from ...schema.quoting import quote_identifier as q
from ...schema.spec import (
    CheckSpec,
    ColumnSpec,
    ForeignKeySpec,
    IndexExpression,
    IndexSpec,
    Reference,
    TableSpec,
    fk_actions_sql,
    index_name,
)

__all__ = [
    "add_column_sql",
    "column_definition",
    "create_index_sql",
    "create_table_sql",
    "drop_column_sql",
    "drop_index_sql",
    "drop_table_sql",
    "index_name",
    "is_rowid_alias",
    "rename_column_sql",
    "rename_table_sql",
]


def is_rowid_alias(table: TableSpec, column: ColumnSpec) -> bool:
    """True for an ``INTEGER PRIMARY KEY`` column, which SQLite makes an alias of the rowid."""
    return column.type == "INTEGER" and table.primary_key == (column.name,)


_DEFERRED = " DEFERRABLE INITIALLY DEFERRED"


def _reference_sql(reference: Reference) -> str:
    target = f"REFERENCES {q(reference.table)}({q(reference.column)})"
    deferred = _DEFERRED if reference.deferrable else ""
    return target + fk_actions_sql(reference.on_delete, reference.on_update) + deferred


def column_definition(column: ColumnSpec, *, single_primary_key: bool, rowid_alias: bool) -> str:
    """The column definition as it appears in ``CREATE TABLE`` or ``ADD COLUMN``."""
    text = q(column.name)
    if column.type:
        text += " " + column.type
    if column.collate is not None:
        text += f" COLLATE {column.collate}"
    key = column.primary_key and single_primary_key
    if key:
        text += " PRIMARY KEY AUTOINCREMENT" if column.auto_increment else " PRIMARY KEY"
    if column.not_null and not rowid_alias:
        text += " NOT NULL"
    if column.unique and not key:
        text += " UNIQUE"
    if column.default_sql is not None:
        text += " DEFAULT " + _default_clause(column.default_sql)
    if column.check is not None:
        text += f" CHECK ({column.check})"
    if column.references is not None:
        text += " " + _reference_sql(column.references)
    return text


def _default_clause(default_sql: str) -> str:
    """Defaults that are not a plain literal must be parenthesised to be valid DDL (the
    answer for a text is kept: a schema repeats the same few defaults)."""
    clause = _CLAUSES.get(default_sql)
    if clause is None:
        clause = _default_clause_of(default_sql)
        if len(_CLAUSES) < 1 << 14:
            _CLAUSES[default_sql] = clause
    return clause


_CLAUSES: dict[str, str] = {}


def _default_clause_of(default_sql: str) -> str:
    text = default_sql.strip()
    if parse_sql_literal(text) is not UNPARSED:
        return text
    if text.upper() in ("CURRENT_TIME", "CURRENT_DATE", "CURRENT_TIMESTAMP"):
        return text
    if text.startswith("(") and text.endswith(")"):
        return text
    return f"({text})"


def _foreign_key_sql(fk: ForeignKeySpec) -> str:
    text = "FOREIGN KEY ({}) REFERENCES {}".format(
        ", ".join(q(c) for c in fk.columns), q(fk.other_table)
    )
    if fk.other_columns:  # none: the other table's primary key
        text += "({})".format(", ".join(q(c) for c in fk.other_columns))
    return text + fk_actions_sql(fk.on_delete, fk.on_update) + (_DEFERRED if fk.deferrable else "")


def _check_sql(check: CheckSpec) -> str:
    prefix = f"CONSTRAINT {q(check.name)} " if check.name else ""
    return f"{prefix}CHECK ({check.expression})"


def create_table_sql(table: TableSpec, *, name: str | None = None) -> str:
    """``CREATE TABLE`` for ``table`` (optionally under another ``name``, for rebuilds).

    A column whose ``UNIQUE`` comes from one of ``table.unique_indexes`` is declared without an
    inline ``UNIQUE``: that index is created after the table, as the database had it.
    """
    pk = table.primary_key
    single = len(pk) == 1
    alias = pk[0] if single else None  # INTEGER PRIMARY KEY: the rowid's alias
    by_index = {fold_identifier(i.column_names[0]) for i in table.unique_indexes}
    lines = [
        column_definition(
            replace(column, unique=False)
            if by_index and fold_identifier(column.name) in by_index
            else column,
            single_primary_key=single,
            rowid_alias=column.name == alias and column.type == "INTEGER",
        )
        for column in table.columns
    ]
    if len(pk) > 1:
        lines.append("PRIMARY KEY ({})".format(", ".join(q(c) for c in pk)))
    lines.extend("UNIQUE ({})".format(", ".join(q(c) for c in u)) for u in table.unique_together)
    lines.extend(_foreign_key_sql(fk) for fk in table.foreign_keys)
    lines.extend(_check_sql(check) for check in table.checks)
    body = ",\n    ".join(lines)
    return f"CREATE TABLE {q(name or table.name)} (\n    {body}\n)"


def create_index_sql(table: str, index: IndexSpec) -> str:
    """``CREATE [UNIQUE] INDEX`` for ``index`` on ``table``: its stored SQL, word for word, when
    it has some (an index read from a database), else rendered from the spec."""
    if index.sql is not None:
        return index.sql
    unique = "UNIQUE " if index.unique else ""
    columns = ", ".join(k.sql if isinstance(k, IndexExpression) else q(k) for k in index.columns)
    sql = f"CREATE {unique}INDEX {q(index.name)} ON {q(table)} ({columns})"
    if index.where:
        sql += f" WHERE {index.where}"
    return sql


def drop_index_sql(name: str) -> str:
    """``DROP INDEX``."""
    return f"DROP INDEX {q(name)}"


def drop_table_sql(name: str) -> str:
    """``DROP TABLE``."""
    return f"DROP TABLE {q(name)}"


def add_column_sql(table: str, column: ColumnSpec) -> str:
    """``ALTER TABLE .. ADD COLUMN``; ``UNIQUE`` is left out (SQLite refuses it there) and
    must be added as a unique index by the caller."""
    definition = column_definition(
        replace(column, unique=False), single_primary_key=False, rowid_alias=False
    )
    return f"ALTER TABLE {q(table)} ADD COLUMN {definition}"


def drop_column_sql(table: str, column: str) -> str:
    """``ALTER TABLE .. DROP COLUMN``."""
    return f"ALTER TABLE {q(table)} DROP COLUMN {q(column)}"


def rename_table_sql(old: str, new: str) -> str:
    """``ALTER TABLE .. RENAME TO``."""
    return f"ALTER TABLE {q(old)} RENAME TO {q(new)}"


def rename_column_sql(table: str, old: str, new: str) -> str:
    """``ALTER TABLE .. RENAME COLUMN``."""
    return f"ALTER TABLE {q(table)} RENAME COLUMN {q(old)} TO {q(new)}"
