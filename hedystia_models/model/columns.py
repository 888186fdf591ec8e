"""One model field -> one :class:`ColumnSpec`, and the checks that refuse a bad declaration.

The field's annotation gives the column type (:mod:`hedystia_models.model.typemap`), its
:class:`~hedystia_models.model.fields.Column` metadata the key, unique flag, ``CHECK``,
``DEFAULT`` and reference. Every problem is a :class:`SchemaError` naming where it is
(``Model.field``). :func:`column_from_field` does the same for a field that is not on a model
(``ctx.schema.add_column`` in migrations).
"""

from __future__ import annotations

import sqlite3
from typing import Any

import pydantic
from pydantic.fields import FieldInfo
from pydantic_core import PydanticUndefined

from ..errors import SchemaError
from ..schema.quoting import identifier_problem, quote_identifier, reserved_prefix, sql_literal
from ..schema.spec import ColumnSpec, Reference, normalize_type
from .fields import Column, ColumnRef, column_meta
from .foreign_keys import check_relation_name
from .info import FieldMapping
from .refresh import refresh_of
from .typemap import annotated, shown_annotation, storage_for, type_adapter

__all__ = [
    "annotated",
    "check_default",
    "check_name",
    "check_options",
    "column_from_field",
    "column_spec",
    "map_field",
    "resolve_reference",
]


def check_name(name: object, what: str, where: str, *, reserved: bool = False) -> str:
    """``name`` if it can name a table, column or index, else a :class:`SchemaError`: it must
    be a non-empty string SQLite can hold (no NUL character, no lone surrogate).

    ``reserved`` refuses the prefixes of :data:`~hedystia_models.schema.quoting.
    RESERVED_PREFIXES`: ``sqlite_``, which SQLite keeps for its own tables and indexes, and
    ``__hedystia_``, this package's bookkeeping tables (a column may use either)."""
    if not isinstance(name, str):
        raise SchemaError(f"{where}: {what} must be a string (got {name!r})")
    if not name:
        raise SchemaError(f"{where}: {what} must not be empty")
    problem = identifier_problem(name) or (reserved_prefix(name) if reserved else None)
    if problem is not None:
        raise SchemaError(f"{where}: {what} {name!r} {problem}")
    return name


_FLAGS = ("primary_key", "auto_increment", "unique", "index", "db_default", "deferrable")


def check_options(meta: Column, where: str) -> None:
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
        check_name(meta.column, "column=", where)
    for option in ("sql_type", "check", "sql_default", "collate", "uuid_form"):
        value = getattr(meta, option)
        if value is None:
            continue
        if not isinstance(value, str):
            raise SchemaError(f"{where}: {option} must be a string of SQL (got {value!r})")
        if not value.strip():
            raise SchemaError(f"{where}: {option} must not be empty (leave it out, or None)")
        problem = identifier_problem(value)  # SQL text: NUL-terminated UTF-8, as names
        if problem is not None:
            raise SchemaError(f"{where}: {option} {value!r} {problem}")
    if meta.sql_type is not None:
        _check_sql_type(meta.sql_type, where)


def _check_sql_type(sql_type: str, where: str) -> None:
    """Refuse an ``sql_type`` that SQLite does not read as one type name: text that ends the
    column definition (``INT); DROP TABLE users; --``), adds a column, or carries a
    constraint (``INTEGER NOT NULL``, ``TEXT DEFAULT 'x'``), which the DDL would then hold
    without the model knowing. SQLite itself parses it, in a table in memory."""
    problem = "SQLite reads it as more than a type"
    conn = sqlite3.connect(":memory:")
    try:
        conn.execute(f"CREATE TABLE t (c {sql_type})")
        columns = conn.execute("PRAGMA table_info(t)").fetchall()
    except (sqlite3.Error, sqlite3.Warning, ValueError):  # Warning: two statements, on 3.10
        columns = []
    finally:
        conn.close()
    if len(columns) == 1:
        _, _, declared, not_null, default, key = columns[0]
        if not (not_null or key or default is not None) and normalize_type(
            declared
        ) == normalize_type(sql_type):
            return
        if declared and normalize_type(sql_type).startswith(normalize_type(declared)):
            problem = (
                f"SQLite reads it as the type {declared!r} and a constraint; declare "
                "constraints with the field's options"
            )
        elif declared:
            problem = f"SQLite reads it as the type {declared!r}; write that"
    raise SchemaError(
        f"{where}: sql_type {sql_type!r} is not an SQL type name (such as BIGINT, VARCHAR(20) "
        f"or DOUBLE PRECISION): {problem}"
    )


def check_default(info: FieldInfo, where: str, config: pydantic.ConfigDict | None = None) -> None:
    """Refuse a literal default its own field rejects (``Field(default=-1, ge=0)``, ``n: int =
    "x"``), as Pydantic's ``validate_default=True`` would: Pydantic takes defaults unchecked,
    so a row built from one would be stored and then fail every read.

    ``None`` is not checked (it is SQL ``NULL``, which a NOT NULL column refuses, and from
    which SQLite generates an integer key), nor a ``default_factory`` (its values are checked
    when a row is written: :class:`~hedystia_models.rows.codec.RowCodec`). The check is lax,
    as rows read back are; ``config`` is the model's (:func:`~.typemap.adapter_config`)."""
    default = info.default
    if default is PydanticUndefined or default is None or info.default_factory is not None:
        return
    adapter = type_adapter(annotated(info.annotation, info.metadata), config)
    try:
        adapter.validate_python(default)
    except pydantic.ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(map(str, e['loc']))}: {e['msg']}" if e["loc"] else e["msg"]
            for e in exc.errors()
        )
        raise SchemaError(
            f"{where}: default {default!r} is not valid for the field: {problems}"
        ) from None


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
    mapping, meta = map_field(name, annotation, field_info, label)
    return column_spec(mapping, meta, field_info, 1 if meta.primary_key else 0, label)


def map_field(
    name: str,
    annotation: Any,
    info: FieldInfo,
    where: str,
    config: pydantic.ConfigDict | None = None,
) -> tuple[FieldMapping, Column]:
    """How a field called ``name`` is stored, and its merged :class:`Column` metadata, after
    checking its options and column name. ``config`` is the adapter configuration of the
    field's model (:func:`~.typemap.adapter_config`)."""
    meta = column_meta(info)
    check_options(meta, where)
    column = check_name(meta.column or name, "column name", where)
    storage = storage_for(annotation, info, where, uuid_form=meta.uuid_form, config=config)
    return FieldMapping(name, column, storage, refresh_of(meta, info, where)), meta


def column_spec(
    mapping: FieldMapping,
    meta: Column,
    info: FieldInfo,
    pk_count: int,
    where: str,
    config: pydantic.ConfigDict | None = None,
) -> ColumnSpec:
    """The :class:`ColumnSpec` of one field, stored as ``mapping`` says, declared with ``meta``
    and ``info``, in a table whose primary key has ``pk_count`` columns (``config``: the
    adapter configuration of its model)."""
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
    default_sql = meta.sql_default
    has_default = info.default is not PydanticUndefined and info.default_factory is None
    if meta.sql_default is not None and has_default and info.default is not None:
        raise SchemaError(
            f"{where}: give the default in Python (default=) or in SQL (sql_default=), not both"
        )
    if meta.sql_default is None and has_default and meta.db_default:
        default = info.default
        if default is not None:
            try:
                encoded = storage.encode(default)
            except Exception as exc:  # a codec refusing the value, whatever it raises
                hint = (
                    f"; for an SQL expression use sql_default={default!r}"
                    if isinstance(default, str)
                    else ""
                )
                raise SchemaError(
                    f"{where}: default {default!r} cannot be stored as an SQL DEFAULT ({exc}){hint}"
                ) from exc
            default_sql = _literal(encoded, f"default {default!r}", where)
    # After the SQL DEFAULT above, whose error tells a string meant as SQL to use sql_default=.
    check_default(info, where, config)
    if meta.deferrable and meta.references is None:
        raise SchemaError(f"{where}: deferrable=True needs references=")
    for option in ("relation_name", "related_name"):
        name = getattr(meta, option)
        if name is not None:
            if meta.references is None:
                raise SchemaError(f"{where}: {option}= needs references=")
            check_relation_name(name, option, where)
    reference = None
    if meta.references is not None:
        table, column = resolve_reference(meta.references, where)
        try:
            reference = Reference(
                table,
                column,
                on_delete=meta.on_delete or "NO ACTION",
                on_update=meta.on_update or "NO ACTION",
                deferrable=meta.deferrable,
            )
        except ValueError as exc:
            raise SchemaError(f"{where}: {exc}") from exc
    elif meta.on_delete or meta.on_update:
        raise SchemaError(f"{where}: on_delete/on_update need references=")
    not_null = meta.primary_key or not storage.nullable
    if reference is not None and not_null:
        _check_actions(reference, default_sql, None if meta.primary_key else info, where)
    try:
        return ColumnSpec(
            name=mapping.column,
            type=sql_type,
            primary_key=meta.primary_key,
            auto_increment=meta.auto_increment,
            not_null=not_null,
            unique=meta.unique and not (meta.primary_key and pk_count == 1),
            default_sql=default_sql,
            check=check,
            references=reference,
            collate=meta.collate,
            # an explicit declared type, or UUID bytes, compares exactly
            kind=None if meta.sql_type is not None or meta.uuid_form == "bytes" else storage.kind,
        )
    except ValueError as exc:
        raise SchemaError(f"{where}: {exc}") from exc


def _check_actions(
    reference: Reference, default_sql: str | None, info: FieldInfo | None, where: str
) -> None:
    """Refuse a foreign key action that cannot work on a ``NOT NULL`` column: ``SET NULL``,
    and ``SET DEFAULT`` without a ``DEFAULT`` (SQLite sets ``NULL`` then): SQLite would refuse
    every delete (or key update) of a referenced row. ``info`` is the field, ``None`` for a
    primary key column (``NOT NULL`` whatever its annotation)."""
    for option in ("on_delete", "on_update"):
        action = getattr(reference, option)
        if action == "SET NULL":
            change = "deleting" if option == "on_delete" else "changing the key of"
            fix = (
                "choose another action (a primary key column is always NOT NULL)"
                if info is None
                else f"annotate the field {shown_annotation(info.annotation)} | None, or choose "
                "another action"
            )
            raise SchemaError(
                f"{where}: {option}='SET NULL' needs a column that can be NULL, and this one is "
                f"NOT NULL: {change} the referenced row would fail; {fix}"
            )
        if action == "SET DEFAULT" and default_sql is None:
            raise SchemaError(
                f"{where}: {option}='SET DEFAULT' sets the column's DEFAULT, and this NOT NULL "
                "column has none (SQLite would set NULL): give the field a default, or choose "
                "another action"
            )


_INT64 = range(-(2**63), 2**63)


def _literal(value: object, what: str, where: str) -> str:
    """``value`` as an SQL literal for DDL, or a :class:`SchemaError` saying why it cannot be."""
    if isinstance(value, int) and not isinstance(value, bool) and value not in _INT64:
        raise SchemaError(f"{where}: {what} does not fit SQLite's 64-bit integers")
    try:
        return sql_literal(value)
    except (TypeError, ValueError) as exc:
        raise SchemaError(f"{where}: {what} cannot be written in SQL ({exc})") from exc


def resolve_reference(target: Any, where: str) -> tuple[str, str]:
    """The ``(table, column)`` a ``references=`` value points to: ``"table.column"``, a
    ``Table`` class (its one-column primary key) or ``Model.ref("field")``."""
    # A referenced model's TableInfo is built on demand, and building one runs this module:
    # table.py imports it, so it is imported here, when a reference is resolved.
    from .table import Table, is_table_class, table_info

    if isinstance(target, str):
        table, dot, column = target.rpartition(".")
        if not dot or not table or not column:
            raise SchemaError(f"{where}: references must look like 'table.column' (got {target!r})")
        check_name(table, "referenced table", where)
        check_name(column, "referenced column", where)
        return table, column
    if isinstance(target, tuple) and len(target) == 2:
        target = ColumnRef(*target)
    if isinstance(target, ColumnRef):
        model, field = target.model, target.field
        if not is_table_class(model):
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
        if not is_table_class(target):
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
