"""The one table rebuild: SQLite's documented 12-step procedure, as statements.

Used whenever ``ALTER TABLE`` cannot make a change (see :mod:`~.executor`), by sync and
migrations alike. The new table is declared from its :class:`TableSpec`; everything a spec
cannot re-derive is kept as the database stored it: every index's ``CREATE INDEX`` word for
word (expressions, ``DESC``, ``COLLATE``, partial ``WHERE``), the unique indexes that make a
column ``UNIQUE``, triggers, and the ``AUTOINCREMENT`` counter. What it cannot keep
(collations, ``STRICT``, ``WITHOUT ROWID`` and generated columns in the table's own
declaration, a ``CHECK`` on a column that goes away) is refused with a named reason before
anything runs.
"""

from __future__ import annotations

from collections.abc import Sequence

from ...errors import OperationError
from ...schema.quoting import quote_identifier as q
from ...schema.quoting import sql_literal
from ...schema.spec import TableSpec
from ...schema.sqltext import mentions
from .ddl import create_index_sql, create_table_sql, drop_table_sql

__all__ = ["rebuild_statements", "temp_name"]


def temp_name(table: str) -> str:
    """The name the new table has until it replaces the old one."""
    return f"_hedystia_new_{table}"


def _refuse(old: TableSpec, new: TableSpec, obstacles: Sequence[str]) -> None:
    if obstacles:
        raise OperationError(
            f"this change needs a rebuild of table {old.name!r}, and a rebuild would lose its "
            f"{', '.join(obstacles)}; rebuild it by hand with ctx.sql (create the new table, "
            "copy the rows, drop the old one, rename the new one)"
        )
    gone = [c.name for c in old.columns if not new.has_column(c.name)]
    for check in new.checks:
        used = [c for c in gone if mentions(check.expression, c)]
        if used:
            raise OperationError(
                f"table {old.name!r} has CHECK ({check.expression}), which uses column "
                f"{used[0]!r}; drop or change that constraint first (a table rebuild with "
                "ctx.sql, or ctx.schema.alter_column)"
            )


def rebuild_statements(
    old: TableSpec,
    new: TableSpec,
    copy: Sequence[tuple[str, str]],
    *,
    obstacles: Sequence[str] = (),
) -> list[str]:
    """The statements that turn table ``old`` into ``new``, keeping its rows.

    ``copy`` pairs each new column with the old column whose values it takes (names, not
    SQL). ``obstacles`` lists what a rebuild would lose (from introspection); any makes this
    raise :class:`~hedystia_models.errors.OperationError`. The caller runs the statements in a
    transaction with foreign-key enforcement off, and the transaction checks before committing
    the foreign keys of the rebuilt table and of the tables that reference it (see
    :mod:`~.transaction`): a rename a rebuild does not carry into those tables' references is
    refused there.
    """
    _refuse(old, new, obstacles)
    temp = temp_name(new.name)
    statements = [create_table_sql(new, name=temp)]
    if copy:
        targets = ", ".join(q(new_column) for new_column, _ in copy)
        sources = ", ".join(q(old_column) for _, old_column in copy)
        statements.append(f"INSERT INTO {q(temp)} ({targets}) SELECT {sources} FROM {q(old.name)}")
    if any(c.auto_increment for c in new.columns):
        # Carry the AUTOINCREMENT counter over, so ids are never reused: the new table's
        # sqlite_sequence row follows it through the rename below.
        statements.append(f"DELETE FROM sqlite_sequence WHERE name = {sql_literal(temp)}")
        statements.append(
            f"INSERT INTO sqlite_sequence (name, seq) SELECT {sql_literal(temp)}, seq "
            f"FROM sqlite_sequence WHERE name = {sql_literal(old.name)}"
        )
    statements.append(drop_table_sql(old.name))
    # Legacy mode renames without re-parsing views and triggers that name the (now dropped)
    # old table; they are valid again once the rename completes.
    statements.append("PRAGMA legacy_alter_table=ON")
    statements.append(f"ALTER TABLE {q(temp)} RENAME TO {q(new.name)}")
    statements.append("PRAGMA legacy_alter_table=OFF")
    statements.extend(create_index_sql(new.name, index) for index in new.indexes)
    statements.extend(create_index_sql(new.name, index) for index in new.unique_indexes)
    statements.extend(new.triggers)
    return statements
