"""A model class -> its :class:`TableInfo`: every field's column, then the table's indexes.

Runs once per model, from :func:`hedystia_models.model.table.table_info`. Each field goes through
:mod:`hedystia_models.model.columns`; this module adds what concerns the table as a whole:
two fields on one column, ``Field(index=True)`` and ``indexes=`` (:class:`Index`) turned into
:class:`IndexSpec` values, index names that collide, and the final :class:`TableSpec` checks.
"""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING

import pydantic
import pydantic.fields

from ..engine.sqlite.ddl import index_name
from ..errors import SchemaError
from ..schema.quoting import fold_identifier
from ..schema.spec import ColumnSpec, IndexSpec, TableSpec
from .columns import check_name, column_spec, map_field
from .fields import Column
from .foreign_keys import resolve_foreign_key
from .info import FieldMapping, TableInfo
from .typemap import adapter_config

if TYPE_CHECKING:
    from .table import Index, Table

__all__ = ["build_info"]


def build_info(model: type[Table]) -> TableInfo:
    """The :class:`TableInfo` of a concrete, fully defined model (not cached: see table_info)."""
    name = model.__hedystia_table__
    assert name is not None
    if not model.model_fields:
        raise SchemaError(
            f"{model.__name__}: a table needs at least one field (SQLite has no table without "
            "columns); declare abstract=True for a base class"
        )
    config = adapter_config(model.model_config)
    mappings: list[FieldMapping] = []
    metas: dict[str, Column] = {}
    for field_name, info in model.model_fields.items():
        where = f"{model.__name__}.{field_name}"
        mapping, metas[field_name] = map_field(field_name, info.annotation, info, where, config)
        mappings.append(mapping)

    _check_aliases(model)
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
        columns.append(column_spec(mapping, meta, info, len(pk_fields), where, config))
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
    together: list[tuple[str, ...]] = []
    for group in model.__hedystia_unique__:
        repeated = sorted({f for f in group if group.count(f) > 1})
        if repeated:
            raise SchemaError(
                f"{model.__name__}: unique= {group!r} names field {repeated[0]!r} more than once"
            )
        unknown = [f for f in group if f not in by_field]
        if unknown:
            raise SchemaError(f"{model.__name__}: unique= names unknown field(s) {unknown!r}")
        together.append(tuple(by_field[f] for f in group))
    foreign_keys = tuple(
        resolve_foreign_key(model, fk, by_field, position)
        for position, fk in enumerate(model.__hedystia_foreign_keys__)
    )
    try:
        spec = TableSpec(
            name=name,
            columns=tuple(columns),
            indexes=tuple(indexes),
            unique_together=tuple(together),
            foreign_keys=foreign_keys,
        )
    except ValueError as exc:
        raise SchemaError(f"{model.__name__}: {exc}") from exc
    return TableInfo(model=model, spec=spec, fields=tuple(mappings))


def _aliases(info: pydantic.fields.FieldInfo) -> list[str]:
    """The keys other than its name under which a field is read from a row dict: its
    ``alias`` and the plain keys of its ``validation_alias`` (a string, the strings of
    ``AliasChoices``, one-step ``AliasPath`` values)."""
    found: list[str] = []
    for alias in (info.alias, info.validation_alias):
        choices: list[object] = (
            list(alias.choices) if isinstance(alias, pydantic.AliasChoices) else [alias]
        )
        for choice in choices:
            key = choice
            if isinstance(choice, pydantic.AliasPath):
                key = choice.path[0] if len(choice.path) == 1 else None
            if isinstance(key, str) and key not in found:
                found.append(key)
    return found


def _check_aliases(model: type[Table]) -> None:
    """Refuse two fields that answer to one key of a row dict: an alias that is another
    field's name or alias (the key would set both)."""
    fields = model.model_fields
    owners: dict[str, str] = {name: name for name in fields}
    for name, info in fields.items():
        for alias in _aliases(info):
            other = owners.setdefault(alias, name)
            if other == name:
                continue
            what = "the name" if alias == other else "an alias"
            raise SchemaError(
                f"{model.__name__}.{name}: alias {alias!r} is also {what} of field {other!r}: "
                f"a row's key {alias!r} would set both fields"
            )


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
        check_name(index.name, "index name", where, reserved=True)
