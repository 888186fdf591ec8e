"""Operations that converge: a ``ctx.schema`` step whose target already holds does nothing.

A database can be reached by more than one road: a teammate's fresh clone builds its tables
from the models at start-up and only then replays the migrations that, on the first developer's
machine, added those very columns. So every ``ctx.schema`` method first asks one of these
functions whether what it is asked to make is already there. The answer is a note for the
history row (the step did nothing, and says why), ``None`` (go ahead), or an
:class:`~hedystia_models.errors.OperationError` when what is there conflicts with what is
asked (then the migration fails, and nothing is applied). Pure: specs in, answers out.

Raw ``ctx.sql`` statements do not converge: they run as written.
"""

from __future__ import annotations

from ..errors import OperationError
from ..schema.compare import column_changes, index_changed
from ..schema.quoting import fold_identifier
from ..schema.spec import ColumnSpec, IndexSpec, TableSpec

__all__ = [
    "column_added",
    "column_altered",
    "column_dropped",
    "column_renamed",
    "index_added",
    "index_dropped",
    "table_created",
    "table_dropped",
    "table_renamed",
]


def table_created(current: TableSpec | None, spec: TableSpec) -> str | None:
    """``create_table``: a note when the table exists with the same columns."""
    if current is None:
        return None
    differences: list[str] = []
    for column in spec.columns:
        if not current.has_column(column.name):
            differences.append(f"column {column.name!r} is missing from the database")
            continue
        changes = column_changes(column, current.column(column.name))
        differences.extend(f"column {column.name!r}: {c}" for c in changes)
    differences.extend(
        f"column {c.name!r} exists in the database but not in the definition"
        for c in current.columns
        if not spec.has_column(c.name)
    )
    if differences:
        raise OperationError(
            f"table {spec.name!r} already exists with different columns:\n  "
            + "\n  ".join(differences)
        )
    return f"table {spec.name} already exists with these columns"


def table_dropped(current: TableSpec | None, name: str) -> str | None:
    """``drop_table``: a note when the table is already gone."""
    return f"table {name} is already gone" if current is None else None


def table_renamed(
    old: TableSpec | None, new: TableSpec | None, new_has_rows: bool, names: tuple[str, str]
) -> str | None:
    """``rename_table``: a note when only the new name exists (done before). Both existing is
    a conflict unless the new one is empty: then it is the table sync created from the models
    at start-up, and the caller replaces it by the renamed one (which holds the rows)."""
    source, target = names
    if old is None and new is not None:
        return f"table {source} is already renamed to {target}"
    if old is None:
        raise OperationError(f"table {source!r} does not exist")
    if new is not None and new_has_rows:
        raise OperationError(
            f"cannot rename table {source!r} to {target!r}: both exist and {target!r} has rows"
        )
    return None


def column_added(current: TableSpec, column: ColumnSpec) -> str | None:
    """``add_column``: a note when the column exists with this definition."""
    if not current.has_column(column.name):
        return None
    changes = column_changes(column, current.column(column.name))
    if changes:
        raise OperationError(
            f"table {current.name!r} already has column {column.name!r}, with another "
            f"definition ({'; '.join(changes)}); use alter_column to change it"
        )
    return f"column {current.name}.{column.name} already exists with this definition"


def column_altered(current: TableSpec, column: ColumnSpec) -> str | None:
    """``alter_column``: a note when the column already has this definition."""
    if column_changes(column, current.column(column.name)):
        return None
    return f"column {current.name}.{column.name} already has this definition"


def column_dropped(current: TableSpec, name: str) -> str | None:
    """``drop_column``: a note when the column is already gone."""
    return None if current.has_column(name) else f"column {current.name}.{name} is already gone"


def column_renamed(current: TableSpec, old: str, new: str) -> str | None:
    """``rename_column``: a note when the source is gone and the target is there; both or
    neither present is a conflict."""
    has_old, has_new = current.has_column(old), current.has_column(new)
    if fold_identifier(old) == fold_identifier(new):
        has_new = False  # a change of case only
    if has_old and has_new:
        raise OperationError(
            f"cannot rename {current.name}.{old} to {new!r}: the table has both columns"
        )
    if has_old:
        return None
    if has_new:
        return f"column {current.name}.{old} is already renamed to {new}"
    raise OperationError(f"table {current.name!r} has no column {old!r}")


def index_added(current: TableSpec, index: IndexSpec) -> str | None:
    """``add_index``: a note when an index of that name indexes the same keys the same way."""
    folded = fold_identifier(index.name)
    for found in (*current.indexes, *current.unique_indexes):
        if fold_identifier(found.name) == folded:
            if index_changed(index, found):
                raise OperationError(
                    f"table {current.name!r} already has an index {found.name!r} on other "
                    "columns or with another uniqueness; drop it first"
                )
            return f"index {index.name} already exists"
    return None


def index_dropped(found: bool, name: str) -> str | None:
    """``drop_index``: a note when the index is already gone."""
    return None if found else f"index {name} is already gone"
