"""Pure, frozen descriptions of tables: the common language of every stage.

Models are turned into :class:`TableSpec` values (:mod:`hedystia_models.model.table`), the live
database is read into the same types (:mod:`hedystia_models.engine.sqlite.introspect`), and the
differ compares the two (:mod:`hedystia_models.migrate.diff`). Nothing here touches a database.

:class:`ColumnSpec` carries the facts of @hedystia/db's column dict (``name``, ``type``,
``primary_key``, ``auto_increment``, ``not_null``, ``unique``, default) and converts to and from
that dict shape with :meth:`ColumnSpec.from_dict` and :meth:`ColumnSpec.to_dict` (the dict
keys are handled in :mod:`hedystia_models.schema.column_dict`). Indexes live in
:mod:`hedystia_models.schema.index`; their names are re-exported here.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from ..errors import SpecError
from .index import IndexExpression, IndexKey, IndexSpec, index_name
from .quoting import UNPARSED, fold_identifier, identifier_problem, parse_sql_literal

__all__ = [
    "FK_ACTIONS",
    "CheckSpec",
    "ColumnSpec",
    "ForeignKeySpec",
    "IndexExpression",
    "IndexKey",
    "IndexSpec",
    "Reference",
    "TableSpec",
    "fk_actions_sql",
    "index_name",
    "normalize_sql",
    "normalize_type",
]

FK_ACTIONS = ("NO ACTION", "RESTRICT", "SET NULL", "SET DEFAULT", "CASCADE")

_SPACES = re.compile(r"\s+")


def normalize_type(sql_type: str) -> str:
    """Canonical spelling of a declared column type: upper case, single spaces."""
    text = _SPACES.sub(" ", sql_type.strip()).upper()
    return re.sub(r"\s*\(\s*", "(", re.sub(r"\s*\)", ")", re.sub(r"\s*,\s*", ",", text)))


def normalize_sql(expression: str) -> str:
    """Whitespace-insensitive form of an SQL expression, for comparisons only."""
    text = _SPACES.sub(" ", expression.strip())
    text = re.sub(r"\s*([(),=<>!+*/-])\s*", r"\1", text)
    return text


def fk_actions_sql(on_delete: str, on_update: str) -> str:
    """`` ON DELETE ..`` / `` ON UPDATE ..`` for actions other than the default ``NO ACTION``."""
    text = ""
    if on_delete != "NO ACTION":
        text += f" ON DELETE {on_delete}"
    if on_update != "NO ACTION":
        text += f" ON UPDATE {on_update}"
    return text


def _check_types(owner: str, **values: tuple[object, type | tuple[type, ...]]) -> None:
    """Raise :class:`SpecError` naming ``owner`` and the field when a value is not of its type.

    >>> _check_types("column 'a'", type=(5, str))
    Traceback (most recent call last):
    ...
    hedystia_models.errors.SpecError: column 'a': type must be str, not int (got 5)
    """
    for name, (value, kind) in values.items():
        if not isinstance(value, kind):
            kinds = kind if isinstance(kind, tuple) else (kind,)
            expected = " or ".join("None" if k is type(None) else k.__name__ for k in kinds)
            raise SpecError(
                f"{owner}: {name} must be {expected}, not {type(value).__name__} (got {value!r})"
            )


def _check_items(owner: str, name: str, items: object, kind: type) -> tuple[Any, ...]:
    """``items`` as a tuple whose every item is a ``kind``, or a :class:`SpecError`."""
    if isinstance(items, (str, bytes)) or not isinstance(items, Iterable):
        raise SpecError(f"{owner}: {name} must be a sequence of {kind.__name__} (got {items!r})")
    found = tuple(items)
    for item in found:
        if not isinstance(item, kind):
            raise SpecError(
                f"{owner}: every item of {name} must be a {kind.__name__} (got {item!r})"
            )
    return found


def _check_identifier(owner: str, what: str, name: str) -> None:
    """A :class:`SpecError` when SQLite cannot hold ``name`` (a NUL character, a lone
    surrogate), naming ``owner`` and what the name is.

    >>> _check_identifier("table 't'", "column", "a\\x00")
    Traceback (most recent call last):
    ...
    hedystia_models.errors.SpecError: table 't': column 'a\\x00' contains a NUL character
    """
    problem = identifier_problem(name)
    if problem is not None:
        prefix = f"{owner}: " if owner else ""
        raise SpecError(f"{prefix}{what} {name!r} {problem}")


def _normalize_action(action: str | None, what: str) -> str:
    text = _SPACES.sub(" ", (action or "NO ACTION").strip().replace("_", " ")).upper()
    if text not in FK_ACTIONS:
        raise SpecError(f"{what} must be one of {', '.join(FK_ACTIONS)} (got {action!r})")
    return text


@dataclass(frozen=True)
class Reference:
    """A single-column foreign key: ``REFERENCES table(column)`` with its actions.
    ``deferrable`` makes it ``DEFERRABLE INITIALLY DEFERRED``: checked at ``COMMIT``, so a child
    row may be written before its parent in one transaction."""

    table: str
    column: str
    on_delete: str = "NO ACTION"
    on_update: str = "NO ACTION"
    deferrable: bool = False

    def __post_init__(self) -> None:
        _check_types(
            "a reference",
            table=(self.table, str),
            column=(self.column, str),
            deferrable=(self.deferrable, bool),
        )
        _check_identifier("a reference", "table", self.table)
        _check_identifier("a reference", "column", self.column)
        object.__setattr__(self, "on_delete", _normalize_action(self.on_delete, "on_delete"))
        object.__setattr__(self, "on_update", _normalize_action(self.on_update, "on_update"))

    def __str__(self) -> str:
        deferred = " DEFERRABLE INITIALLY DEFERRED" if self.deferrable else ""
        actions = fk_actions_sql(self.on_delete, self.on_update)
        return f"{self.table}.{self.column}{actions}{deferred}"


@dataclass(frozen=True)
class ColumnSpec:
    """One column, as declared by a model or as found in the database.

    ``default_sql`` is the text of the ``DEFAULT`` clause (``None`` for no default); use
    :attr:`default_value` for the Python constant it denotes.
    """

    name: str
    type: str
    primary_key: bool = False
    auto_increment: bool = False
    not_null: bool = False
    unique: bool = False
    default_sql: str | None = None
    check: str | None = None
    references: Reference | None = None
    collate: str | None = None
    #: The storage kind of the model field (``"integer"``, ``"decimal"``, ...), when the column
    #: comes from a model: the differ compares declared types by what they store for it.
    kind: str | None = field(default=None, compare=False)

    def __post_init__(self) -> None:
        if not isinstance(self.name, str) or not self.name:
            raise SpecError(f"a column needs a non-empty name (got {self.name!r})")
        _check_identifier("", "a column name", self.name)
        _check_types(
            f"column {self.name!r}",
            type=(self.type, str),
            default_sql=(self.default_sql, (str, type(None))),
            check=(self.check, (str, type(None))),
            references=(self.references, (Reference, type(None))),
            collate=(self.collate, (str, type(None))),
            kind=(self.kind, (str, type(None))),
            primary_key=(self.primary_key, bool),
            auto_increment=(self.auto_increment, bool),
            not_null=(self.not_null, bool),
            unique=(self.unique, bool),
        )
        object.__setattr__(self, "type", normalize_type(self.type))
        if self.collate is not None:
            if not re.fullmatch(r"\w+", self.collate):
                raise SpecError(
                    f"column {self.name!r}: collate must be a collation name such as NOCASE "
                    f"(got {self.collate!r})"
                )
            # BINARY is SQLite's default collation: the same as none.
            collate = self.collate.upper()
            object.__setattr__(self, "collate", None if collate == "BINARY" else collate)
        if self.auto_increment and not self.primary_key:
            raise SpecError(f"column {self.name!r}: auto_increment needs primary_key")
        if self.primary_key and not self.not_null:
            object.__setattr__(self, "not_null", True)

    @property
    def default_value(self) -> object:
        """The default as a Python constant (``None`` when there is none).

        Raises ``ValueError`` when the default is an SQL expression rather than a constant.
        """
        if self.default_sql is None:
            return None
        value = parse_sql_literal(self.default_sql)
        if value is UNPARSED:
            raise SpecError(f"the default of {self.name!r} is an expression: {self.default_sql}")
        return value

    @property
    def has_default(self) -> bool:
        """True when the column has a ``DEFAULT`` other than ``NULL``."""
        return self.default_sql is not None and parse_sql_literal(self.default_sql) is not None

    def renamed(self, name: str) -> ColumnSpec:
        """The same column under another name."""
        return replace(self, name=name)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any], *, name: str | None = None) -> ColumnSpec:
        """Build a column from @hedystia/db's column dict
        (:func:`~hedystia_models.schema.column_dict.column_from_dict` lists the keys)."""
        from .column_dict import column_from_dict  # column_dict.py imports this module

        return column_from_dict(data, name=name, cls=cls)

    def to_dict(self) -> dict[str, Any]:
        """This column in @hedystia/db's dict shape (snake_case keys)."""
        from .column_dict import column_to_dict  # column_dict.py imports this module

        return column_to_dict(self)


@dataclass(frozen=True)
class ForeignKeySpec:
    """A multi-column foreign key (single-column ones live on :class:`ColumnSpec`). An empty
    ``other_columns`` is ``REFERENCES other_table`` alone: its primary key."""

    columns: tuple[str, ...]
    other_table: str
    other_columns: tuple[str, ...]
    on_delete: str = "NO ACTION"
    on_update: str = "NO ACTION"
    deferrable: bool = False

    def __post_init__(self) -> None:
        owner = "a multi-column foreign key"
        _check_types(owner, other_table=(self.other_table, str), deferrable=(self.deferrable, bool))
        object.__setattr__(self, "columns", _check_items(owner, "columns", self.columns, str))
        other = _check_items(owner, "other_columns", self.other_columns, str)
        for name in (self.other_table, *self.columns, *other):
            _check_identifier(owner, "name", name)
        object.__setattr__(self, "other_columns", other)
        if not self.columns or (other and len(other) != len(self.columns)):
            raise SpecError(
                f"{owner}: columns {self.columns!r} and other_columns {other!r} must name as "
                "many columns (SQLite matches them one to one)"
            )
        object.__setattr__(self, "on_delete", _normalize_action(self.on_delete, "on_delete"))
        object.__setattr__(self, "on_update", _normalize_action(self.on_update, "on_update"))


@dataclass(frozen=True)
class CheckSpec:
    """A table-level ``CHECK`` constraint, optionally named."""

    expression: str
    name: str | None = None

    def __post_init__(self) -> None:
        _check_types(
            "a CHECK constraint",
            expression=(self.expression, str),
            name=(self.name, (str, type(None))),
        )


@dataclass(frozen=True)
class TableSpec:
    """A whole table: columns in order plus table-level constraints and indexes.

    Three fields describe a live table and are not compared (models never declare them, the
    differ ignores them); a table rebuild needs them to keep what it cannot re-derive:
    ``triggers`` holds the SQL of the table's triggers, ``unique_indexes`` the single-column
    unique indexes that introspection reads as their column's ``unique`` flag (with their
    stored SQL), and ``sql`` the stored ``CREATE TABLE`` statement.
    """

    name: str
    columns: tuple[ColumnSpec, ...]
    indexes: tuple[IndexSpec, ...] = ()
    checks: tuple[CheckSpec, ...] = ()
    foreign_keys: tuple[ForeignKeySpec, ...] = ()
    unique_together: tuple[tuple[str, ...], ...] = ()
    triggers: tuple[str, ...] = field(default=(), compare=False)
    unique_indexes: tuple[IndexSpec, ...] = field(default=(), compare=False)
    sql: str | None = field(default=None, compare=False)

    def __post_init__(self) -> None:
        if not isinstance(self.name, str) or not self.name:
            raise SpecError(f"a table needs a non-empty name (got {self.name!r})")
        _check_identifier("", "a table name", self.name)
        owner = f"table {self.name!r}"
        set_ = object.__setattr__
        set_(self, "columns", _check_items(owner, "columns", self.columns, ColumnSpec))
        set_(self, "indexes", _check_items(owner, "indexes", self.indexes, IndexSpec))
        set_(self, "checks", _check_items(owner, "checks", self.checks, CheckSpec))
        set_(
            self,
            "foreign_keys",
            _check_items(owner, "foreign_keys", self.foreign_keys, ForeignKeySpec),
        )
        together = _check_items(owner, "unique_together", self.unique_together, Iterable)
        set_(
            self,
            "unique_together",
            tuple(_check_items(owner, "unique_together", u, str) for u in together),
        )
        set_(self, "triggers", _check_items(owner, "triggers", self.triggers, str))
        unique_indexes = _check_items(owner, "unique_indexes", self.unique_indexes, IndexSpec)
        set_(self, "unique_indexes", unique_indexes)
        if not self.columns:
            raise SpecError(f"{owner} needs at least one column (SQLite has no table without)")
        for index in (*self.indexes, *unique_indexes):
            _check_identifier(owner, "index name", index.name)
            for key in index.column_names:
                _check_identifier(f"{owner}: index {index.name!r}", "column", key)
        for group in self.unique_together:
            for name in group:
                _check_identifier(f"{owner}: unique_together", "column", name)
        seen: set[str] = set()
        for column in self.columns:
            key = fold_identifier(column.name)
            if key in seen:
                raise SpecError(f"table {self.name!r} has two columns named {column.name!r}")
            seen.add(key)
        auto = [c.name for c in self.columns if c.auto_increment]
        if auto and len(self.primary_key) != 1:
            raise SpecError(
                f"table {self.name!r}: auto_increment column {auto[0]!r} must be the only "
                "primary key column"
            )

    @property
    def primary_key(self) -> tuple[str, ...]:
        """Names of the primary key columns, in column order (empty: rowid table)."""
        return tuple(c.name for c in self.columns if c.primary_key)

    @property
    def column_names(self) -> tuple[str, ...]:
        """Names of all columns, in order."""
        return tuple(c.name for c in self.columns)

    def column(self, name: str) -> ColumnSpec:
        """The column called ``name`` (matched case-insensitively, as SQLite does)."""
        folded = fold_identifier(name)
        for column in self.columns:
            if fold_identifier(column.name) == folded:
                return column
        raise SpecError(f"table {self.name!r} has no column {name!r}")

    def has_column(self, name: str) -> bool:
        """True when the table has a column called ``name`` (case-insensitively)."""
        folded = fold_identifier(name)
        return any(fold_identifier(c.name) == folded for c in self.columns)

    def with_column(self, column: ColumnSpec) -> TableSpec:
        """A copy with ``column`` appended."""
        return replace(self, columns=(*self.columns, column))

    def foreign_key_targets(self) -> set[str]:
        """Names of the tables this table references."""
        targets = {c.references.table for c in self.columns if c.references is not None}
        targets.update(fk.other_table for fk in self.foreign_keys)
        return targets
