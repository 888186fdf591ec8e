"""Column metadata on Pydantic fields: :func:`Field` and ``Annotated[..., Column(...)]``.

Both forms attach one :class:`Column` object to the field's metadata; the column builder
(:mod:`hedystia_models.model.columns`) reads it from there. Pydantic ignores metadata it does not
know, so validation and JSON schema are unaffected.
"""

from __future__ import annotations

import types
import typing
from dataclasses import dataclass, field
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


class _NotGiven:
    """The default of every column option: tells "not given" apart from any value."""

    def __repr__(self) -> str:
        return "<not given>"


_NOT_GIVEN: Any = _NotGiven()

#: The column options of :class:`Column` and :func:`Field`, with their values when not given.
_OPTION_DEFAULTS: dict[str, Any] = {
    "primary_key": False,
    "auto_increment": False,
    "unique": False,
    "index": False,
    "references": None,
    "on_delete": None,
    "on_update": None,
    "column": None,
    "sql_type": None,
    "check": None,
    "sql_default": None,
    "db_default": True,
    "collate": None,
    "deferrable": False,
    "uuid_form": None,
    "relation_name": None,
    "related_name": None,
    "refresh_on_update": False,
}


@dataclass(frozen=True, init=False, repr=False)
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
    :param sql_default: an SQL expression for the column's ``DEFAULT``, such as
        ``"CURRENT_TIMESTAMP"`` (trusted as written); a ``None`` written through this package
        then lets the database fill the value in.
    :param db_default: ``False`` keeps the field's default in Python only: the column has no
        ``DEFAULT`` (as a Django project's columns do).
    :param collate: the column's collation: ``"NOCASE"``, ``"RTRIM"``, ``"BINARY"``.
    :param deferrable: with ``references``, make the foreign key ``DEFERRABLE INITIALLY
        DEFERRED`` (checked at ``COMMIT``).
    :param uuid_form: how a ``UUID`` field is stored: ``"hyphenated"`` (36-character text, the
        default), ``"hex"`` (32 hex digits, as Django stores it) or ``"bytes"`` (16 bytes).
    :param relation_name: with ``references``, the name of the relation from a row to the row
        it references (``author_id`` -> ``author`` when not given); see ``docs/relations.md``.
    :param related_name: with ``references``, the name of the relation back, on the
        referenced model (the referencing table's name, ``posts``, when not given).
    :param refresh_on_update: set the field again at every update of its row (``update``,
        the update of ``upsert`` and ``save``), to the field's ``default_factory()`` with
        ``True``, or to what a callable given here returns (an ``updated_at``). Computed
        once per statement, in Python, validated like any value; a value the update sets
        explicitly wins. The schema is not affected.

    An option that is not given reads as its default (``False`` or ``None``), and ``given``
    holds the names of the options that were given, whatever their value. When several
    ``Column``/``Field`` declarations of one field are merged, only given options override
    (see :meth:`merged`), so ``Field(unique=False)`` does switch off an ``Annotated``
    ``Column(unique=True)``. (``dataclasses.replace`` passes every option again, so its result
    counts all of them as given; combine columns with :meth:`merged` instead.)

    >>> Column(unique=True, index=False)
    Column(unique=True, index=False)
    >>> sorted(Column(unique=True, index=False).given)
    ['index', 'unique']
    >>> Column(unique=False) == Column()  # same values, but only one of them sets unique
    False
    """

    primary_key: bool
    auto_increment: bool
    unique: bool
    index: bool
    references: Any
    on_delete: str | None
    on_update: str | None
    column: str | None
    sql_type: str | None
    check: str | None
    sql_default: str | None
    db_default: bool
    collate: str | None
    deferrable: bool
    uuid_form: str | None
    relation_name: str | None
    related_name: str | None
    refresh_on_update: Any
    given: frozenset[str] = field(init=False)
    # Set on the Column that Field(...) puts in the field's metadata, so column_meta can apply
    # it after Annotated metadata (Pydantic lists a Field's metadata first).
    _from_field: bool = field(default=False, init=False, compare=False)

    def __init__(
        self,
        primary_key: bool = _NOT_GIVEN,
        auto_increment: bool = _NOT_GIVEN,
        unique: bool = _NOT_GIVEN,
        index: bool = _NOT_GIVEN,
        references: Any = _NOT_GIVEN,
        on_delete: str | None = _NOT_GIVEN,
        on_update: str | None = _NOT_GIVEN,
        column: str | None = _NOT_GIVEN,
        sql_type: str | None = _NOT_GIVEN,
        check: str | None = _NOT_GIVEN,
        sql_default: str | None = _NOT_GIVEN,
        db_default: bool = _NOT_GIVEN,
        collate: str | None = _NOT_GIVEN,
        deferrable: bool = _NOT_GIVEN,
        uuid_form: str | None = _NOT_GIVEN,
        relation_name: str | None = _NOT_GIVEN,
        related_name: str | None = _NOT_GIVEN,
        refresh_on_update: Any = _NOT_GIVEN,
    ) -> None:
        values = {
            "primary_key": primary_key,
            "auto_increment": auto_increment,
            "unique": unique,
            "index": index,
            "references": references,
            "on_delete": on_delete,
            "on_update": on_update,
            "column": column,
            "sql_type": sql_type,
            "check": check,
            "sql_default": sql_default,
            "db_default": db_default,
            "collate": collate,
            "deferrable": deferrable,
            "uuid_form": uuid_form,
            "relation_name": relation_name,
            "related_name": related_name,
            "refresh_on_update": refresh_on_update,
        }
        given = frozenset(name for name, value in values.items() if value is not _NOT_GIVEN)
        for name, value in values.items():
            object.__setattr__(self, name, value if name in given else _OPTION_DEFAULTS[name])
        object.__setattr__(self, "given", given)
        object.__setattr__(self, "_from_field", False)

    def __repr__(self) -> str:
        shown = ", ".join(f"{name}={getattr(self, name)!r}" for name in self.options())
        return f"Column({shown})"

    def options(self) -> dict[str, Any]:
        """The given options and their values, in declaration order."""
        return {name: getattr(self, name) for name in _OPTION_DEFAULTS if name in self.given}

    def merged(self, other: Column) -> Column:
        """``self`` overridden by every option given to ``other``, whatever its value.

        >>> Column(unique=True, index=True).merged(Column(unique=False))
        Column(unique=False, index=True)
        >>> Column(primary_key=True).merged(Column())
        Column(primary_key=True)
        """
        return Column(**{**self.options(), **other.options()})


def Field(
    default: Any = PydanticUndefined,
    *,
    primary_key: bool = _NOT_GIVEN,
    auto_increment: bool = _NOT_GIVEN,
    unique: bool = _NOT_GIVEN,
    index: bool = _NOT_GIVEN,
    references: Any = _NOT_GIVEN,
    on_delete: str | None = _NOT_GIVEN,
    on_update: str | None = _NOT_GIVEN,
    column: str | None = _NOT_GIVEN,
    sql_type: str | None = _NOT_GIVEN,
    check: str | None = _NOT_GIVEN,
    sql_default: str | None = _NOT_GIVEN,
    db_default: bool = _NOT_GIVEN,
    collate: str | None = _NOT_GIVEN,
    deferrable: bool = _NOT_GIVEN,
    uuid_form: str | None = _NOT_GIVEN,
    relation_name: str | None = _NOT_GIVEN,
    related_name: str | None = _NOT_GIVEN,
    refresh_on_update: Any = _NOT_GIVEN,
    **kwargs: Any,
) -> Any:
    """``pydantic.Field`` plus the column options of :class:`Column`.

    Every ``pydantic.Field`` argument (``default_factory``, ``max_length``, ``ge``, ``alias``,
    ``description``, ...) is accepted and passed through unchanged. The column options that
    are given, and only those, are recorded as a :class:`Column` in the field's metadata;
    they override the same options of ``Annotated[..., Column(...)]`` metadata, even when the
    value given is ``False`` or ``None``.
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
        sql_default=sql_default,
        db_default=db_default,
        collate=collate,
        deferrable=deferrable,
        uuid_form=uuid_form,
        relation_name=relation_name,
        related_name=related_name,
        refresh_on_update=refresh_on_update,
    )
    if meta.given:
        object.__setattr__(meta, "_from_field", True)
        info.metadata.append(meta)
    return info


def _annotated_columns(annotation: Any) -> list[Column]:
    """The :class:`Column` metadata of ``Annotated`` layers that Pydantic leaves in the
    annotation (those inside ``X | None``: Pydantic does not merge metadata from inside a union
    into the field), inner layers first, each layer's items left to right. A ``Field(...)``
    inside such a layer is unmerged too; its column options count as that layer's metadata."""
    found: list[Column] = []
    origin = typing.get_origin(annotation)
    if origin is typing.Annotated:
        args = typing.get_args(annotation)
        found.extend(_annotated_columns(args[0]))
        for item in args[1:]:
            if isinstance(item, Column):
                found.append(item)
            elif isinstance(item, FieldInfo):
                found.extend(m for m in item.metadata if isinstance(m, Column))
    elif origin is typing.Union or origin is types.UnionType:
        for arg in typing.get_args(annotation):
            found.extend(_annotated_columns(arg))
    return found


def column_meta(info: FieldInfo) -> Column:
    """The merged :class:`Column` metadata of a field (an empty one when it has none).

    The sources are merged in this order, a later *given* option overriding an earlier one
    whatever its value (``False`` and ``None`` included); options that are not given never
    override:

    1. ``Annotated[..., Column(...)]`` metadata, inner layers before outer ones (the layers
       inside ``X | None`` first, then the field's own ``Annotated``), left to right within a
       layer, as Python flattens nested ``Annotated`` that way;
    2. the column options of ``Field(...)``.
    """
    items = [
        *_annotated_columns(info.annotation),
        *(m for m in info.metadata if isinstance(m, Column) and not m._from_field),
        *(m for m in info.metadata if isinstance(m, Column) and m._from_field),
    ]
    meta = Column()
    seen: list[Column] = []
    for item in items:
        if all(item is not s for s in seen):
            seen.append(item)
            meta = meta.merged(item)
    return meta
