"""Projections: ``find(select=[...])`` reads some fields of each row, as a partial model.

A partial row is an instance of a Pydantic model generated from the table's model for one
selection of fields (:func:`partial_model`), a subclass of :class:`Partial`:

* its fields are the selected ones, in the order given, each declared as the table model
  declares it (annotation, constraints, alias), so every value read is validated by the
  field's type, as a whole row's would be, never passed through unchecked;
* the model's field validators and field serializers of those fields come along, so the
  values are what a whole row would hold and ``model_dump()`` gives what it would give;
  model validators (``@model_validator``) are about whole rows and do not run;
* it is built once per model and selection and kept on the model class (not in a
  module-level cache, which would keep every model class alive), so two reads of the same
  selection give instances of the same class, which compare equal when their values do.

Names in ``select`` are field names, column names (``Field(column=...)``) or aliases; a name
that is none of them is a :class:`~hedystia_models.errors.QueryError` naming the table.
"""

from __future__ import annotations

import copy
import threading
import types
from collections.abc import Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, ClassVar, Generic, TypeVar

import pydantic
from pydantic.fields import FieldInfo

from ..errors import Problem, QueryError
from ..model.table import FieldMapping, Table, TableInfo
from ..schema.quoting import quote_identifier as q
from .codec import CODEC_ERRORS, RowCodec, convert, problems_from, row_error
from .where import (
    OrderBy,
    Where,
    compile_order_by,
    compile_page,
    compile_where,
    statement_limits,
)

if TYPE_CHECKING:
    from ..database import Database

__all__ = [
    "Partial",
    "Select",
    "partial_model",
    "refuse_with",
    "select_fields",
    "select_rows",
]

M = TypeVar("M", bound=Table)

#: What ``select=`` takes: one name, or a list of them.
Select = str | Sequence[str]


class Partial(pydantic.BaseModel, Generic[M]):
    """Some fields of a row of the table model ``M``: what ``find(select=[...])`` returns.

    Each selection has its own subclass, made by :func:`partial_model`; ``type(row).
    __hedystia_model__`` is the table model and ``__hedystia_fields__`` the fields, in order.
    A type checker sees every attribute of a ``Partial[User]`` as ``Any``: which fields it
    has is decided by the ``select`` list at run time.
    """

    __hedystia_model__: ClassVar[type[Table]]
    __hedystia_fields__: ClassVar[tuple[str, ...]] = ()

    if TYPE_CHECKING:

        def __getattr__(self, name: str) -> Any: ...


#: Guards the making of partial models, so that one selection gets one class.
_LOCK = threading.Lock()


def partial_model(model: type[M], fields: Sequence[str]) -> type[Partial[M]]:
    """The partial model of ``model`` with ``fields`` (field names, in this order); made on
    first use and kept on the model class."""
    key = tuple(fields)
    cache: dict[tuple[str, ...], type[Partial[Any]]] | None = model.__dict__.get(
        "__hedystia_partials__"
    )
    if cache is not None and key in cache:
        return cache[key]
    with _LOCK:
        cache = model.__dict__.get("__hedystia_partials__")
        if cache is None:
            cache = {}
            type.__setattr__(model, "__hedystia_partials__", cache)
        made = cache.get(key)
        if made is None:
            made = cache[key] = _make_partial(model, key)
        return made


def _make_partial(model: type[Table], fields: tuple[str, ...]) -> type[Partial[Any]]:
    declared = model.model_fields
    namespace: dict[str, Any] = {
        "__module__": model.__module__,
        "__qualname__": f"Partial[{model.__qualname__}]",
        "__annotations__": {field: declared[field].annotation for field in fields},
        "model_config": pydantic.ConfigDict(**model.model_config),
        "__hedystia_model__": model,
        "__hedystia_fields__": fields,
    }
    for field in fields:
        namespace[field] = _field_info(declared[field])
    namespace.update(_decorators(model, set(fields)))
    name = f"Partial[{model.__name__}]"
    partial: type[Partial[Any]] = types.new_class(
        name, (Partial,), {}, lambda ns: ns.update(namespace)
    )
    return partial


def _field_info(info: FieldInfo) -> FieldInfo:
    """The field as the table model declares it (a copy: Pydantic takes ownership of the
    ``FieldInfo`` it is given)."""
    return copy.copy(info)


def _decorators(model: type[Table], fields: set[str]) -> dict[str, Any]:
    """The model's field validators and field serializers that apply to ``fields``, remade
    for the partial model."""
    made: dict[str, Any] = {}
    decorators = model.__pydantic_decorators__
    for name, decorator in decorators.field_validators.items():
        info = decorator.info
        targets = _targets(info.fields, fields)
        if targets:
            validator = pydantic.field_validator(
                *targets,
                mode=info.mode,
                check_fields=False,
            )
            made[name] = validator(_method(decorator.func))
    for name, serializing in decorators.field_serializers.items():
        serializer_info = serializing.info
        targets = _targets(serializer_info.fields, fields)
        if targets:
            serializer = pydantic.field_serializer(
                *targets,
                mode=serializer_info.mode,
                return_type=serializer_info.return_type,
                when_used=serializer_info.when_used,
                check_fields=False,
            )
            made[name] = serializer(serializing.func)
    return made


def _targets(names: Iterable[str], fields: set[str]) -> tuple[str, ...]:
    """The fields among ``names`` a decorator applies to (``"*"``: every field)."""
    names = tuple(names)
    if "*" in names:
        return ("*",)
    return tuple(name for name in names if name in fields)


def _method(func: Any) -> Any:
    """A validator of the table model as one to declare on another class: Pydantic holds a
    classmethod's function bound to the model; a staticmethod's as it is."""
    if isinstance(func, types.MethodType):
        return classmethod(func.__func__)
    return staticmethod(func)


# -- reading ----------------------------------------------------------------------------------


def select_fields(info: TableInfo, select: object) -> list[FieldMapping]:
    """The fields ``select`` names (field names, column names or aliases; one name or a
    list), in its order, each once. Anything else is a :class:`QueryError`."""
    names: list[Any] | None = None
    if isinstance(select, str):
        names = [select]
    elif isinstance(select, Iterable) and not isinstance(select, (bytes, Mapping)):
        names = list(select)
    if names is None or not all(isinstance(name, str) for name in names):
        raise QueryError(
            f"table {info.name!r}: select takes a field name or a list of them (got {select!r})"
        )
    if not names:
        raise QueryError(
            f"table {info.name!r}: select names no field; leave it out to read whole rows"
        )
    chosen: list[FieldMapping] = []
    for name in names:
        mapping = info.column_for(name) or _by_alias(info, name)
        if mapping is None:
            known = ", ".join(m.field for m in info.fields)
            raise QueryError(
                f"table {info.name!r} has no field or column {name!r} to select (fields: {known})"
            )
        if mapping not in chosen:
            chosen.append(mapping)
    return chosen


def _by_alias(info: TableInfo, name: str) -> FieldMapping | None:
    """The field whose alias (or one of its validation aliases) is ``name``."""
    for mapping in info.fields:
        field = info.model.model_fields[mapping.field]
        aliases: list[Any] = [field.alias, field.validation_alias, field.serialization_alias]
        if isinstance(field.validation_alias, pydantic.AliasChoices):
            aliases += field.validation_alias.choices
        if name in [alias for alias in aliases if isinstance(alias, str)]:
            return mapping
    return None


def refuse_with(info: TableInfo, with_: object) -> None:
    """``select=`` reads some fields, and relations (``with_=``) hang off whole rows: both
    at once is a :class:`QueryError`."""
    if with_ is not None:
        raise QueryError(
            f"table {info.name!r}: select= and with_= cannot be combined; read whole rows to "
            "load their relations"
        )


def select_rows(
    db: Database,
    codec: RowCodec[M],
    select: object,
    where: Where | None,
    order_by: OrderBy | None,
    limit: int | None,
    offset: int | None,
) -> list[Partial[M]]:
    """The selected fields of the rows matching ``where``, as partial rows (see the module
    docstring); the statement is ``find``'s with only those columns."""
    info = codec.info
    chosen = select_fields(info, select)
    partial = partial_model(codec.model, [m.field for m in chosen])
    condition, params = compile_where(info, where, codec=codec)
    page, page_params = compile_page(info, limit, offset)
    columns = ", ".join(q(m.column) for m in chosen)
    sql = f"SELECT {columns} FROM {q(info.name)} WHERE {condition}"
    sql += compile_order_by(info, order_by) + page
    with db.connection() as conn, statement_limits(info, "find", params):
        rows = conn.execute(sql, [*params, *page_params]).fetchall()
    return load_partial(codec, partial, chosen, rows)


def load_partial(
    codec: RowCodec[M],
    partial: type[Partial[M]],
    chosen: Sequence[FieldMapping],
    rows: Sequence[Sequence[Any]],
) -> list[Partial[M]]:
    """Partial rows from stored values (in the order of ``chosen``): each value read back
    by its field's codec, then the row validated by ``partial``. A value that cannot be
    read, or that the field rejects, is a :class:`~hedystia_models.errors.RowError`
    naming the row (its index in ``rows``) and the field."""
    # The partial model has the table model's config and aliases: the same keys.
    keys = [codec.keys[codec.fields.index(m.field)] for m in chosen]
    columns: list[Sequence[Any]] = [list(column) for column in zip(*rows, strict=True)] or [
        [] for _ in chosen
    ]
    problems: list[Problem] = []
    for index, mapping in enumerate(chosen):
        try:
            columns[index] = convert(mapping.storage.decode, columns[index])
        except CODEC_ERRORS:
            for row, value in enumerate(columns[index]):
                try:
                    convert(mapping.storage.decode, (value,))
                except CODEC_ERRORS as exc:
                    problems.append((row, mapping.field, str(exc)))
    if problems:
        raise row_error(codec.info.name, problems, "stored value(s) cannot be read")
    loaded: list[Partial[M]] = []
    validate = partial.model_validate
    for row, values in enumerate(zip(*columns, strict=True)):
        try:
            loaded.append(validate(dict(zip(keys, values, strict=True)), strict=False))
        except pydantic.ValidationError as exc:
            problems += [(row, field, message) for _, field, message in problems_from(exc, False)]
    if problems:
        what = f"stored value(s) rejected by {codec.model.__name__}"
        raise row_error(codec.info.name, problems, what)
    return loaded
