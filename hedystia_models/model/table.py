"""The ``Table`` base class, and the translation of a model class into a :class:`TableSpec`.

``class User(Table, table="users")`` declares a table. Field annotations give column types
(:mod:`hedystia_models.model.typemap`), field metadata gives keys, indexes and references
(:mod:`hedystia_models.model.fields`). The translation runs when the class is created, so an
unmappable field fails at import time with a :class:`SchemaError` naming model, field and type.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from typing import Any, ClassVar

import pydantic
from pydantic.fields import FieldInfo
from pydantic_core import PydanticUndefined

from ..engine.sqlite.ddl import index_name
from ..errors import SchemaError
from ..schema.quoting import fold_identifier, quote_identifier, sql_literal
from ..schema.spec import ColumnSpec, IndexSpec, Reference, TableSpec, normalize_type
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


def _check_name(name: object, what: str, where: str, *, reserved: bool = False) -> str:
    """``name`` if it can name a table, column or index, else a :class:`SchemaError`.

    ``reserved`` refuses the ``sqlite_`` prefix, which SQLite keeps for its own tables and
    indexes (a column may use it)."""
    if not isinstance(name, str):
        raise SchemaError(f"{where}: {what} must be a string (got {name!r})")
    if not name:
        raise SchemaError(f"{where}: {what} must not be empty")
    if "\x00" in name:
        raise SchemaError(f"{where}: {what} {name!r} contains a NUL character")
    if reserved and fold_identifier(name).startswith("sqlite_"):
        raise SchemaError(f"{where}: {what} {name!r} starts with 'sqlite_', which SQLite reserves")
    return name


_FLAGS = ("primary_key", "auto_increment", "unique", "index")


def _check_options(meta: Column, where: str) -> None:
    """Refuse column options of the wrong type, before anything uses them."""
    for flag in _FLAGS:
        value = getattr(meta, flag)
        if not isinstance(value, bool):
            raise SchemaError(f"{where}: {flag} must be True or False (got {value!r})")
    for action in ("on_delete", "on_update"):
        value = getattr(meta, action)
        if value is not None and not isinstance(value, str):
            raise SchemaError(
                f"{where}: {action} must be a string such as 'cascade' (got {value!r})"
            )
    if meta.column is not None:
        _check_name(meta.column, "column=", where)
    for option in ("sql_type", "check"):
        value = getattr(meta, option)
        if value is None:
            continue
        if not isinstance(value, str):
            raise SchemaError(f"{where}: {option} must be a string of SQL (got {value!r})")
        if not value.strip():
            raise SchemaError(f"{where}: {option} must not be empty (leave it out, or None)")
        if "\x00" in value:
            raise SchemaError(f"{where}: {option} {value!r} contains a NUL character")


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
        try:
            super().__init_subclass__(**kwargs)
        except TypeError as exc:
            if not kwargs:
                raise
            raise SchemaError(
                f"{cls.__name__}: unknown class keyword(s) {', '.join(map(repr, kwargs))}; "
                "Table takes table=, abstract= and indexes= (and Pydantic's config keywords)"
            ) from exc
        if not isinstance(abstract, bool):
            raise SchemaError(f"{cls.__name__}: abstract= must be True or False (got {abstract!r})")
        if table is not None:
            _check_name(table, "table=", cls.__name__, reserved=True)
        if isinstance(indexes, (str, bytes, Index)) or not isinstance(indexes, Iterable):
            raise SchemaError(
                f"{cls.__name__}: indexes= must be a list of Index(...) values (got {indexes!r})"
            )
        indexes = tuple(indexes)
        for item in indexes:
            if not isinstance(item, Index):
                raise SchemaError(
                    f"{cls.__name__}: indexes= must contain only Index(...) values (got {item!r})"
                )
        cls.__hedystia_abstract__ = abstract
        name = None if abstract else (table or default_table_name(cls.__name__))
        if name is not None:
            _check_name(name, "table name", cls.__name__, reserved=True)
        cls.__hedystia_table__ = name
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
        if not isinstance(field, str) or field not in cls.model_fields:
            raise SchemaError(f"{cls.__name__} has no field {field!r}")
        return ColumnRef(cls, field)

    @classmethod
    def table_spec(cls) -> TableSpec:
        """This model's :class:`TableSpec`."""
        return table_info(cls).spec


def table_info(model: type[Table]) -> TableInfo:
    """The :class:`TableInfo` of ``model``, built once and cached on the class."""
    if not _is_table_class(model):
        raise SchemaError(f"{getattr(model, '__name__', model)!r} is not a table model")
    cached = model.__dict__.get("__hedystia_info__")
    if cached is not None:
        return cached  # type: ignore[no-any-return]
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


def _is_table_class(model: object) -> bool:
    """True for a concrete (not abstract) ``Table`` subclass."""
    return isinstance(model, type) and issubclass(model, Table) and not model.__hedystia_abstract__


def _build_info(model: type[Table]) -> TableInfo:
    name = model.__hedystia_table__
    assert name is not None
    mappings: list[FieldMapping] = []
    metas: dict[str, Column] = {}
    for field_name, info in model.model_fields.items():
        meta = column_meta(info)
        where = f"{model.__name__}.{field_name}"
        _check_options(meta, where)
        column = _check_name(meta.column or field_name, "column name", where)
        annotation = info.annotation
        storage = storage_for(annotation, info, where)
        mappings.append(FieldMapping(field_name, column, storage))
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
        _check_index(model, index)
        unknown = [f for f in index.fields if f not in by_field]
        if unknown:
            raise SchemaError(f"{model.__name__}: index on unknown field(s) {unknown!r}")
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
    for index_spec in indexes:
        if fold_identifier(index_spec.name) == fold_identifier(name):
            raise SchemaError(
                f"{model.__name__}: index {index_spec.name!r} has the name of its table "
                "(tables and indexes share one namespace in SQLite)"
            )
    try:
        spec = TableSpec(name=name, columns=tuple(columns), indexes=tuple(indexes))
    except ValueError as exc:
        raise SchemaError(f"{model.__name__}: {exc}") from exc
    return TableInfo(model=model, spec=spec, fields=tuple(mappings))


def _check_index(model: type[Table], index: Index) -> None:
    where = model.__name__
    if not index.fields:
        raise SchemaError(f"{where}: an Index needs at least one field")
    for item in index.fields:
        if not isinstance(item, str):
            raise SchemaError(
                f"{where}: Index arguments are field names (strings), got {item!r} in {index!r}"
            )
    repeated = sorted({f for f in index.fields if index.fields.count(f) > 1})
    if repeated:
        raise SchemaError(f"{where}: {index!r} names field {repeated[0]!r} more than once")
    if not isinstance(index.unique, bool):
        raise SchemaError(f"{where}: {index!r}: unique must be True or False")
    if index.name is not None:
        _check_name(index.name, "index name", where, reserved=True)


def column_from_field(
    name: str, annotation: Any, info: FieldInfo | None = None, *, where: str | None = None
) -> ColumnSpec:
    """A :class:`ColumnSpec` from an annotation and an optional ``Field(...)``, the way a model
    field called ``name`` would be declared (used by ``ctx.schema.add_column``)."""
    # The way Pydantic builds a model field, so Annotated metadata and Field(...) merge alike.
    field_info = (
        FieldInfo.from_annotation(annotation)
        if info is None
        else FieldInfo.from_annotated_attribute(annotation, info)
    )
    label = where or name
    meta = column_meta(field_info)
    _check_options(meta, label)
    column = _check_name(meta.column or name, "column name", label)
    storage = storage_for(annotation, field_info, label)
    mapping = FieldMapping(name, column, storage)
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
        declared = None if meta.sql_type is None else normalize_type(meta.sql_type)
        if pk_count != 1 or storage.kind != "integer" or declared not in (None, "INTEGER"):
            raise SchemaError(
                f"{where}: auto_increment needs a single integer primary key "
                f"(the field is {storage.kind!r} and the key has {pk_count} column(s))"
            )
    checks: list[str] = []
    if storage.choices is not None:
        allowed = ", ".join(
            _literal(storage.encode(v), f"{storage.kind} value {v!r}", where)
            for v in storage.choices
        )
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
            except Exception as exc:  # a codec refusing the value, whatever it raises
                raise SchemaError(
                    f"{where}: default {default!r} cannot be stored as an SQL DEFAULT ({exc})"
                ) from exc
            default_sql = _literal(encoded, f"default {default!r}", where)
    reference = None
    if meta.references is not None:
        table, column = _resolve_reference(meta.references, where)
        try:
            reference = Reference(
                table,
                column,
                on_delete=meta.on_delete or "NO ACTION",
                on_update=meta.on_update or "NO ACTION",
            )
        except ValueError as exc:
            raise SchemaError(f"{where}: {exc}") from exc
    elif meta.on_delete or meta.on_update:
        raise SchemaError(f"{where}: on_delete/on_update need references=")
    try:
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
    except ValueError as exc:
        raise SchemaError(f"{where}: {exc}") from exc


_INT64 = range(-(2**63), 2**63)


def _literal(value: object, what: str, where: str) -> str:
    """``value`` as an SQL literal for DDL, or a :class:`SchemaError` saying why it cannot be."""
    if isinstance(value, int) and not isinstance(value, bool) and value not in _INT64:
        raise SchemaError(f"{where}: {what} does not fit SQLite's 64-bit integers")
    try:
        return sql_literal(value)
    except (TypeError, ValueError) as exc:
        raise SchemaError(f"{where}: {what} cannot be written in SQL ({exc})") from exc


def _resolve_reference(target: Any, where: str) -> tuple[str, str]:
    if isinstance(target, str):
        table, dot, column = target.rpartition(".")
        if not dot or not table or not column:
            raise SchemaError(f"{where}: references must look like 'table.column' (got {target!r})")
        _check_name(table, "referenced table", where)
        _check_name(column, "referenced column", where)
        return table, column
    if isinstance(target, tuple) and len(target) == 2:
        target = ColumnRef(*target)
    if isinstance(target, ColumnRef):
        model, field = target.model, target.field
        if not _is_table_class(model):
            raise SchemaError(
                f"{where}: references={target!r} does not name a table model "
                f"(got {getattr(model, '__name__', model)!r})"
            )
        if not isinstance(field, str):
            raise SchemaError(f"{where}: {model.__name__} has no field {field!r}")
        info = table_info(model)
        mapping = info.column_for(field)
        if mapping is None or mapping.field != field:
            raise SchemaError(f"{where}: {model.__name__} has no field {field!r}")
        return info.name, mapping.column
    if isinstance(target, type) and issubclass(target, Table):
        if not _is_table_class(target):
            raise SchemaError(f"{where}: references={target.__name__}, which is not a table model")
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
