"""The ``Table`` base class, and the translation of a model class into a :class:`TableSpec`.

``class User(Table, table="users")`` declares a table. Field annotations give column types
(:mod:`hedystia_models.model.typemap`), field metadata gives keys, indexes and references
(:mod:`hedystia_models.model.fields`). The translation runs when the class is created, so an
unmappable field fails at import time with a :class:`SchemaError` naming model, field and type.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any, ClassVar

import pydantic
from pydantic.fields import FieldInfo
from pydantic_core import PydanticUndefined

from ..engine.sqlite.ddl import index_name
from ..errors import SchemaError
from ..schema.quoting import fold_identifier, quote_identifier, sql_literal
from ..schema.spec import ColumnSpec, IndexSpec, Reference, TableSpec
from .fields import Column, ColumnRef, column_meta
from .typemap import Storage, storage_for

__all__ = [
    "FieldMapping",
    "Index",
    "Table",
    "TableInfo",
    "column_from_field",
    "default_table_name",
    "table_info",
]


def default_table_name(class_name: str) -> str:
    """``UserProfile`` -> ``user_profile``; ``HTTPLog`` -> ``http_log``."""
    text = re.sub(r"([A-Z]+)([A-Z][a-z])", r"\1_\2", class_name)
    text = re.sub(r"([a-z0-9])([A-Z])", r"\1_\2", text)
    return text.lower()


@dataclass(frozen=True)
class Index:
    """A multi-column index for the ``indexes=`` class keyword: ``Index("a", "b", unique=True)``.

    Arguments are field names; ``name`` defaults to ``<table>_<col>_<col>_index``. A unique
    index on one field is the same as ``Field(unique=True)`` (``name`` is then not used).
    """

    fields: tuple[str, ...]
    unique: bool = False
    name: str | None = None

    def __init__(self, *fields: str, unique: bool = False, name: str | None = None) -> None:
        object.__setattr__(self, "fields", tuple(fields))
        object.__setattr__(self, "unique", unique)
        object.__setattr__(self, "name", name)


@dataclass(frozen=True)
class FieldMapping:
    """One model field and the column that stores it."""

    field: str
    column: str
    storage: Storage


@dataclass(frozen=True)
class TableInfo:
    """Everything derived from a model class: its spec and how fields map to columns."""

    model: type[Table]
    spec: TableSpec
    fields: tuple[FieldMapping, ...]

    @property
    def name(self) -> str:
        """The table name."""
        return self.spec.name

    def column_for(self, key: str) -> FieldMapping | None:
        """The mapping for a field name or column name (``None`` when neither matches)."""
        for mapping in self.fields:
            if mapping.field == key:
                return mapping
        folded = fold_identifier(key)
        for mapping in self.fields:
            if fold_identifier(mapping.column) == folded:
                return mapping
        return None


class Table(pydantic.BaseModel):
    """Base class of table models. Subclass it with the table name as a class keyword::

        class User(Table, table="users"):
            id: int | None = Field(default=None, primary_key=True, auto_increment=True)
            name: str = Field(max_length=255)

    Without ``table=`` the name is the snake_case class name. ``abstract=True`` declares a base
    class whose fields are inherited but which is not itself a table. ``indexes=`` takes
    :class:`Index` values for multi-column indexes.
    """

    __hedystia_table__: ClassVar[str | None] = None
    __hedystia_abstract__: ClassVar[bool] = True
    __hedystia_indexes__: ClassVar[tuple[Index, ...]] = ()
    __hedystia_info__: ClassVar[TableInfo | None] = None

    def __init_subclass__(
        cls,
        *,
        table: str | None = None,
        abstract: bool = False,
        indexes: Sequence[Index] = (),
        **kwargs: Any,
    ) -> None:
        super().__init_subclass__(**kwargs)
        cls.__hedystia_abstract__ = abstract
        cls.__hedystia_table__ = None if abstract else (table or default_table_name(cls.__name__))
        # Indexes are inherited like fields: a base's indexes= apply to its subclasses too.
        inherited = cls.__hedystia_indexes__
        cls.__hedystia_indexes__ = (*inherited, *(i for i in indexes if i not in inherited))
        cls.__hedystia_info__ = None

    @classmethod
    def __pydantic_init_subclass__(cls, **kwargs: Any) -> None:
        super().__pydantic_init_subclass__(**kwargs)
        if not cls.__hedystia_abstract__ and cls.__pydantic_complete__:
            table_info(cls)

    @classmethod
    def ref(cls, field: str) -> ColumnRef:
        """A reference to one of this model's fields, for ``Field(references=User.ref("id"))``."""
        if field not in cls.model_fields:
            raise SchemaError(f"{cls.__name__} has no field {field!r}")
        return ColumnRef(cls, field)

    @classmethod
    def table_spec(cls) -> TableSpec:
        """This model's :class:`TableSpec`."""
        return table_info(cls).spec


def table_info(model: type[Table]) -> TableInfo:
    """The :class:`TableInfo` of ``model``, built once and cached on the class."""
    cached = model.__dict__.get("__hedystia_info__")
    if cached is not None:
        return cached  # type: ignore[no-any-return]
    if not (isinstance(model, type) and issubclass(model, Table)) or model.__hedystia_abstract__:
        raise SchemaError(f"{getattr(model, '__name__', model)!r} is not a table model")
    if not model.__pydantic_complete__:
        try:
            model.model_rebuild(raise_errors=True)
        except pydantic.PydanticUndefinedAnnotation as exc:
            raise SchemaError(
                f"{model.__name__}: annotation {exc.name!r} is not defined; import it at module "
                "level or call model_rebuild() once it exists"
            ) from exc
    info = _build_info(model)
    model.__hedystia_info__ = info
    return info


def _build_info(model: type[Table]) -> TableInfo:
    name = model.__hedystia_table__
    assert name is not None
    mappings: list[FieldMapping] = []
    metas: dict[str, Column] = {}
    for field_name, info in model.model_fields.items():
        meta = column_meta(info)
        where = f"{model.__name__}.{field_name}"
        annotation = info.annotation
        storage = storage_for(annotation, info, where)
        mappings.append(FieldMapping(field_name, meta.column or field_name, storage))
        metas[field_name] = meta

    pk_fields = [f for f, meta in metas.items() if meta.primary_key]
    columns: list[ColumnSpec] = []
    indexes: list[IndexSpec] = []
    seen_columns: dict[str, str] = {}
    for mapping in mappings:
        meta = metas[mapping.field]
        info = model.model_fields[mapping.field]
        where = f"{model.__name__}.{mapping.field}"
        folded = fold_identifier(mapping.column)
        if folded in seen_columns:
            raise SchemaError(
                f"{where}: column {mapping.column!r} is also used by field {seen_columns[folded]!r}"
            )
        seen_columns[folded] = mapping.field
        columns.append(_column_spec(mapping, meta, info, len(pk_fields), where))
        # The key's own index covers a single-column key and the leading column of a
        # composite one; any later key column needs an index of its own.
        indexed_by_key = meta.primary_key and pk_fields[0] == mapping.field
        if meta.index and not meta.unique and not indexed_by_key:
            indexes.append(IndexSpec(index_name(name, [mapping.column]), (mapping.column,)))

    by_field = {m.field: m.column for m in mappings}
    for index in model.__hedystia_indexes__:
        unknown = [f for f in index.fields if f not in by_field]
        if unknown or not index.fields:
            raise SchemaError(
                f"{model.__name__}: index on unknown field(s) {unknown!r}"
                if unknown
                else f"{model.__name__}: an Index needs at least one field"
            )
        cols = tuple(by_field[f] for f in index.fields)
        if index.unique and len(cols) == 1:
            # A one-column unique index reads back from the database as the column's UNIQUE
            # flag (introspect.read_table), so declare it that way: otherwise every plan would
            # report it as drift and try to create it again.
            position = next(i for i, c in enumerate(columns) if c.name == cols[0])
            if not (columns[position].primary_key and len(pk_fields) == 1):
                columns[position] = replace(columns[position], unique=True)
            continue
        indexes.append(
            IndexSpec(index.name or index_name(name, cols, index.unique), cols, index.unique)
        )
    names = [i.name for i in indexes]
    duplicates = {n for n in names if names.count(n) > 1}
    if duplicates:
        raise SchemaError(f"{model.__name__}: two indexes are named {sorted(duplicates)[0]!r}")
    try:
        spec = TableSpec(name=name, columns=tuple(columns), indexes=tuple(indexes))
    except ValueError as exc:
        raise SchemaError(f"{model.__name__}: {exc}") from exc
    return TableInfo(model=model, spec=spec, fields=tuple(mappings))


def column_from_field(
    name: str, annotation: Any, info: FieldInfo | None = None, *, where: str | None = None
) -> ColumnSpec:
    """A :class:`ColumnSpec` from an annotation and an optional ``Field(...)``, the way a model
    field called ``name`` would be declared (used by ``ctx.schema.add_column``)."""
    field_info = info if info is not None else FieldInfo.from_annotation(annotation)
    label = where or name
    meta = column_meta(field_info)
    storage = storage_for(annotation, field_info, label)
    mapping = FieldMapping(name, meta.column or name, storage)
    return _column_spec(mapping, meta, field_info, 1 if meta.primary_key else 0, label)


def _column_spec(
    mapping: FieldMapping,
    meta: Column,
    info: FieldInfo,
    pk_count: int,
    where: str,
) -> ColumnSpec:
    storage = mapping.storage
    sql_type = meta.sql_type or storage.sql_type
    if meta.auto_increment:
        if not meta.primary_key:
            raise SchemaError(f"{where}: auto_increment=True needs primary_key=True")
        if pk_count != 1 or storage.kind != "integer" or meta.sql_type not in (None, "INTEGER"):
            raise SchemaError(
                f"{where}: auto_increment needs a single integer primary key "
                f"(the field is {storage.kind!r} and the key has {pk_count} column(s))"
            )
    checks: list[str] = []
    if storage.choices is not None:
        allowed = ", ".join(sql_literal(storage.encode(v)) for v in storage.choices)
        checks.append(f"{quote_identifier(mapping.column)} IN ({allowed})")
    if meta.check:
        checks.append(meta.check)
    check = (
        None
        if not checks
        else checks[0]
        if len(checks) == 1
        else " AND ".join(f"({c})" for c in checks)
    )
    default_sql = None
    if info.default is not PydanticUndefined and info.default_factory is None:
        default = info.default
        if default is not None:
            try:
                encoded = storage.encode(default)
                default_sql = sql_literal(encoded)
            except (TypeError, ValueError) as exc:
                raise SchemaError(
                    f"{where}: default {default!r} cannot be stored as an SQL DEFAULT ({exc})"
                ) from exc
    reference = None
    if meta.references is not None:
        try:
            reference = Reference(
                *_resolve_reference(meta.references, where),
                on_delete=meta.on_delete or "NO ACTION",
                on_update=meta.on_update or "NO ACTION",
            )
        except ValueError as exc:
            raise SchemaError(f"{where}: {exc}") from exc
    elif meta.on_delete or meta.on_update:
        raise SchemaError(f"{where}: on_delete/on_update need references=")
    return ColumnSpec(
        name=mapping.column,
        type=sql_type,
        primary_key=meta.primary_key,
        auto_increment=meta.auto_increment,
        not_null=meta.primary_key or not storage.nullable,
        unique=meta.unique and not (meta.primary_key and pk_count == 1),
        default_sql=default_sql,
        check=check,
        references=reference,
    )


def _resolve_reference(target: Any, where: str) -> tuple[str, str]:
    if isinstance(target, str):
        table, dot, column = target.rpartition(".")
        if not dot or not table or not column:
            raise SchemaError(f"{where}: references must look like 'table.column' (got {target!r})")
        return table, column
    if isinstance(target, tuple) and len(target) == 2:
        target = ColumnRef(*target)
    if isinstance(target, ColumnRef):
        info = table_info(target.model)
        mapping = info.column_for(target.field)
        if mapping is None or mapping.field != target.field:
            raise SchemaError(f"{where}: {target.model.__name__} has no field {target.field!r}")
        return info.name, mapping.column
    if isinstance(target, type) and issubclass(target, Table):
        info = table_info(target)
        pk = info.spec.primary_key
        if len(pk) != 1:
            raise SchemaError(
                f"{where}: {target.__name__} has {len(pk)} primary key columns; reference one "
                f"field explicitly with {target.__name__}.ref('field')"
            )
        return info.name, pk[0]
    raise SchemaError(
        f"{where}: references must be 'table.column', a Table class, or Model.ref('field') "
        f"(got {target!r})"
    )
