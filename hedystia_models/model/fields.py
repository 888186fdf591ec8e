"""Column metadata on Pydantic fields: :func:`Field` and ``Annotated[..., Column(...)]``.

Both forms attach one :class:`Column` object to the field's metadata; the table builder
(:mod:`hedystia_models.model.table`) reads it from there. Pydantic ignores metadata it does not
know, so validation and JSON schema are unaffected.
"""

from __future__ import annotations

import types
import typing
from dataclasses import dataclass, fields, replace
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any

import pydantic
from pydantic.fields import FieldInfo
from pydantic_core import PydanticUndefined

if TYPE_CHECKING:
    from .table import Table

__all__ = ["Column", "ColumnRef", "Field", "utcnow"]


def utcnow() -> datetime:
    """The current time as an aware UTC datetime (handy as a ``default_factory``)."""
    return datetime.now(timezone.utc)


@dataclass(frozen=True)
class ColumnRef:
    """A reference to a model's field, for ``references=``: ``ColumnRef(User, "id")`` or
    ``User.ref("id")``."""

    model: type[Table]
    field: str


@dataclass(frozen=True)
class Column:
    """Database facts about one field, usable as ``Annotated[str, Column(unique=True)]``.

    :param primary_key: part of the primary key (several fields make a composite key).
    :param auto_increment: ``INTEGER PRIMARY KEY AUTOINCREMENT``: ids are never reused.
    :param unique: a ``UNIQUE`` constraint on this column alone.
    :param index: create the index ``<table>_<column>_index``.
    :param references: foreign key target: ``"table.column"``, a ``Table`` class (its primary
        key), ``(TableClass, "field")`` or :class:`ColumnRef`.
    :param on_delete: foreign key action: ``"cascade"``, ``"set null"``, ``"restrict"``, ...
    :param on_update: foreign key action on update of the referenced key.
    :param column: the column's name in the database, when it differs from the field name.
    :param sql_type: explicit declared type, replacing the one derived from the annotation.
    :param check: an extra ``CHECK`` expression for this column (SQL, trusted as written).
    """

    primary_key: bool = False
    auto_increment: bool = False
    unique: bool = False
    index: bool = False
    references: Any = None
    on_delete: str | None = None
    on_update: str | None = None
    column: str | None = None
    sql_type: str | None = None
    check: str | None = None

    def merged(self, other: Column) -> Column:
        """``self`` overridden by every non-default value of ``other``."""
        changes = {
            f.name: getattr(other, f.name)
            for f in fields(other)
            if getattr(other, f.name) != f.default
        }
        return replace(self, **changes)


def Field(
    default: Any = PydanticUndefined,
    *,
    primary_key: bool = False,
    auto_increment: bool = False,
    unique: bool = False,
    index: bool = False,
    references: Any = None,
    on_delete: str | None = None,
    on_update: str | None = None,
    column: str | None = None,
    sql_type: str | None = None,
    check: str | None = None,
    **kwargs: Any,
) -> Any:
    """``pydantic.Field`` plus the column options of :class:`Column`.

    Every ``pydantic.Field`` argument (``default_factory``, ``max_length``, ``ge``, ``alias``,
    ``description``, ...) is accepted and passed through unchanged.
    """
    info: FieldInfo = pydantic.Field(default, **kwargs)
    meta = Column(
        primary_key=primary_key,
        auto_increment=auto_increment,
        unique=unique,
        index=index,
        references=references,
        on_delete=on_delete,
        on_update=on_update,
        column=column,
        sql_type=sql_type,
        check=check,
    )
    if meta != Column():
        info.metadata.append(meta)
    return info


def _annotated_metadata(annotation: Any) -> list[Any]:
    """Metadata of ``Annotated`` layers, looking inside ``X | None`` (Pydantic does not merge
    metadata from inside a union into the field)."""
    found: list[Any] = []
    origin = typing.get_origin(annotation)
    if origin is typing.Annotated:
        args = typing.get_args(annotation)
        found.extend(args[1:])
        found.extend(_annotated_metadata(args[0]))
    elif origin is typing.Union or origin is types.UnionType:
        for arg in typing.get_args(annotation):
            found.extend(_annotated_metadata(arg))
    return found


def column_meta(info: FieldInfo) -> Column:
    """The merged :class:`Column` metadata of a field (an empty one when it has none): from
    ``Field(...)`` and from ``Annotated[..., Column(...)]``, also inside ``X | None``."""
    meta = Column()
    items = [*_annotated_metadata(info.annotation), *info.metadata]
    seen: list[Column] = []
    for item in items:
        if isinstance(item, Column) and all(item is not s for s in seen):
            seen.append(item)
            meta = meta.merged(item)
    return meta
