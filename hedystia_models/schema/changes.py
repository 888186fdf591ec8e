"""Pure changes to a :class:`~hedystia_models.schema.spec.TableSpec`: a spec in, a spec out.

Each schema operation says what it does to a table through one of these functions, so the plan
can follow a table through several operations (a column added, then an index on it) without a
database, and a table rebuild knows the table it must produce. Nothing here touches a database.
"""

from __future__ import annotations

from dataclasses import replace

from ..errors import SpecError
from .quoting import fold_identifier
from .spec import ColumnSpec, IndexExpression, IndexKey, IndexSpec, TableSpec, index_name
from .sqltext import rename_identifier, rename_in_index_sql

__all__ = [
    "with_index",
    "with_renamed_column",
    "with_replaced_column",
    "with_table_constraints",
    "without_column",
    "without_index",
]


def _same(a: str, b: str) -> bool:
    return fold_identifier(a) == fold_identifier(b)


def without_column(table: TableSpec, name: str) -> TableSpec:
    """``table`` without column ``name``, and without what cannot exist without it: indexes
    that use it (as a key, in an expression or in their ``WHERE``), multi-column ``UNIQUE``
    constraints and foreign keys that include it. Table ``CHECK`` constraints are kept as they
    are: one that names the column makes the new table invalid, which a rebuild refuses.

    >>> from hedystia_models.schema.spec import ColumnSpec, IndexSpec
    >>> t = TableSpec("t", (ColumnSpec("a", "TEXT"), ColumnSpec("b", "TEXT")),
    ...               indexes=(IndexSpec("t_b_index", ("b",)),))
    >>> without_column(t, "B").column_names, without_column(t, "b").indexes
    (('a',), ())
    """
    if not table.has_column(name):
        raise SpecError(f"table {table.name!r} has no column {name!r}")
    return replace(
        table,
        columns=tuple(c for c in table.columns if not _same(c.name, name)),
        indexes=tuple(i for i in table.indexes if not i.uses(name)),
        unique_indexes=tuple(i for i in table.unique_indexes if not i.uses(name)),
        unique_together=tuple(
            u for u in table.unique_together if not any(_same(c, name) for c in u)
        ),
        foreign_keys=tuple(
            fk for fk in table.foreign_keys if not any(_same(c, name) for c in fk.columns)
        ),
    )


def with_replaced_column(table: TableSpec, column: ColumnSpec) -> TableSpec:
    """``table`` with the column of the same name replaced by ``column``, in its place. A
    column that stops being ``unique`` loses the unique index that made it so."""
    old = table.column(column.name)
    unique_indexes = table.unique_indexes
    if old.unique and not column.unique:
        unique_indexes = tuple(i for i in unique_indexes if not i.uses(column.name))
    return replace(
        table,
        columns=tuple(column if _same(c.name, column.name) else c for c in table.columns),
        unique_indexes=unique_indexes,
    )


def _rename_key(key: IndexKey, old: str, new: str) -> IndexKey:
    if isinstance(key, IndexExpression):
        return IndexExpression(rename_identifier(key.sql, old, new))
    return new if _same(key, old) else key


def _renamed_index(table: str, index: IndexSpec, old: str, new: str) -> IndexSpec:
    """``index`` after its table's column ``old`` became ``new``, its stored SQL following (the
    column renamed in its keys and ``WHERE`` only, sort order and collations kept). An index
    named by the default convention (``<table>_<old>_index``) takes the new column's name, so
    the name keeps describing the index and a later plan does not add a second one."""
    if not index.uses(old):
        return index
    keys = tuple(_rename_key(k, old, new) for k in index.columns)
    where = None if index.where is None else rename_identifier(index.where, old, new)
    name = index.name
    if not index.has_expressions:
        before = [str(k) for k in index.columns]
        after = [str(k) for k in keys]
        for unique in (False, True):
            if index.name == index_name(table, before, unique=unique):
                name = index_name(table, after, unique=unique)
    sql = None
    if index.sql is not None:
        sql = rename_in_index_sql(index.sql, old, new, name=name if name != index.name else None)
    return replace(index, name=name, columns=keys, where=where, sql=sql)


def with_renamed_column(table: TableSpec, old: str, new: str) -> TableSpec:
    """``table`` with column ``old`` called ``new`` everywhere the table itself names it: the
    column, index keys and conditions (default-named indexes are renamed too, see
    :func:`_renamed_index`), ``UNIQUE`` and foreign-key column lists, ``CHECK`` expressions.
    Triggers are left as they are (SQLite rewrites them itself on ``RENAME COLUMN``)."""
    current = table.column(old)
    if table.has_column(new) and not _same(old, new):
        raise SpecError(f"table {table.name!r} already has column {new!r}")

    def swap(name: str) -> str:
        return new if _same(name, old) else name

    def column(c: ColumnSpec) -> ColumnSpec:
        check = None if c.check is None else rename_identifier(c.check, old, new)
        return replace(c.renamed(new) if c is current else c, check=check)

    return replace(
        table,
        columns=tuple(column(c) for c in table.columns),
        indexes=tuple(_renamed_index(table.name, i, old, new) for i in table.indexes),
        unique_indexes=tuple(_renamed_index(table.name, i, old, new) for i in table.unique_indexes),
        unique_together=tuple(tuple(swap(c) for c in u) for u in table.unique_together),
        foreign_keys=tuple(
            replace(fk, columns=tuple(swap(c) for c in fk.columns)) for fk in table.foreign_keys
        ),
        checks=tuple(
            replace(c, expression=rename_identifier(c.expression, old, new)) for c in table.checks
        ),
    )


def with_index(table: TableSpec, index: IndexSpec) -> TableSpec:
    """``table`` with ``index`` added (replacing an index of the same name)."""
    return replace(table, indexes=(*without_index(table, index.name).indexes, index))


def without_index(table: TableSpec, name: str) -> TableSpec:
    """``table`` without the index called ``name`` (unchanged when it has none)."""
    return replace(
        table,
        indexes=tuple(i for i in table.indexes if not _same(i.name, name)),
        unique_indexes=tuple(i for i in table.unique_indexes if not _same(i.name, name)),
    )


def with_table_constraints(table: TableSpec, desired: TableSpec) -> TableSpec:
    """``table`` with the table-level constraints of ``desired``: multi-column ``UNIQUE``,
    multi-column foreign keys and table ``CHECK`` constraints."""
    return replace(
        table,
        unique_together=desired.unique_together,
        foreign_keys=desired.foreign_keys,
        checks=desired.checks,
    )
