"""Map Python annotations to storage: kind, declared type, constraints and value codecs.

The kind of a field comes from its annotation here; how SQLite declares and stores each kind
(the table below) lives behind the engine seam, in :mod:`hedystia_models.engine.sqlite.storage`.

One :class:`Storage` per field says how the field is declared in SQL (``sql_type``, whether it
is nullable, which values a ``CHECK`` allows) and how its values cross the boundary:
``encode`` turns a validated Python value into something sqlite3 stores exactly, ``decode``
turns what sqlite3 returns back into the Python value.

=================================  ===============  ==========================================
Annotation                         Declared type    Stored as
=================================  ===============  ==========================================
``int``                            ``INTEGER``      integer
``float``                          ``REAL``         float
``str``                            ``TEXT``         text (``VARCHAR(n)`` with ``max_length``)
``bool``                           ``BOOLEAN``      0 / 1
``bytes``                          ``BLOB``         blob
``Decimal``                        ``TEXT``         exact decimal text, e.g. ``'1.10'``
``datetime``                       ``DATETIME``     ISO 8601 text, in UTC when aware
``date`` / ``time``                ``DATE``/``TIME``  ISO 8601 text
``timedelta``                      ``INTEGER``      whole microseconds
``UUID``                           ``TEXT``         canonical 36-character text
``Enum`` / ``Literal``             ``TEXT``/``INTEGER``  the value, with ``CHECK (col IN (...))``
``dict``/``list``/``BaseModel``    ``TEXT``         compact JSON
``X | None``                       as ``X``         nullable (``NULL``)
=================================  ===============  ==========================================
"""

from __future__ import annotations

import abc
import dataclasses
import enum
import fractions
import ipaddress
import math
import operator
import pathlib
import re
import types
import typing
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import Annotated, Any, Literal, Union
from uuid import UUID

import annotated_types
import pydantic
from pydantic.fields import FieldInfo

from ..engine.sqlite.storage import (
    JSON_TYPE,
    KIND_STORAGE,
    UUID_FORMS,
    Codec,
    choices_type,
    decimal_decoder,
    decode_bool,
    decode_json,
    encode_bool,
    identity,
    text_type,
    uuid_storage,
)
from ..errors import SchemaError
from .fields import Column

__all__ = [
    "Codec",
    "Storage",
    "adapter_config",
    "annotated",
    "identity",
    "shown_annotation",
    "storage_for",
    "type_adapter",
]


@dataclass(frozen=True)
class Storage:
    """How one field is declared and stored in SQLite."""

    kind: str
    sql_type: str
    nullable: bool
    choices: tuple[Any, ...] | None
    encode: Codec
    decode: Codec


#: Python type -> storage kind (the engine maps each kind to a declared type and codecs).
_KINDS: dict[type, str] = {
    bool: "boolean",
    int: "integer",
    float: "real",
    str: "text",
    bytes: "blob",
    Decimal: "decimal",
    datetime: "datetime",
    date: "date",
    time: "time",
    timedelta: "timedelta",
    UUID: "uuid",
}

_JSON_ORIGINS = (dict, list, tuple, set, frozenset, Mapping, Sequence)


def _split_optional(annotation: Any) -> tuple[Any, bool]:
    origin = typing.get_origin(annotation)
    if origin is Union or origin is types.UnionType:
        args = typing.get_args(annotation)
        rest = [a for a in args if a is not type(None)]
        nullable = len(rest) != len(args)
        if len(rest) == 1:
            return rest[0], nullable
        return Union[tuple(rest)], nullable  # noqa: UP007 - rebuilt dynamically
    return annotation, annotation is type(None)


def _strip_annotated(annotation: Any) -> tuple[Any, list[Any]]:
    metadata: list[Any] = []
    while typing.get_origin(annotation) is Annotated:
        args = typing.get_args(annotation)
        annotation = args[0]
        metadata.extend(args[1:])
    return annotation, metadata


def _max_length(metadata: Sequence[Any]) -> int | None:
    for item in metadata:
        if isinstance(item, annotated_types.MaxLen):
            return int(item.max_length)
        if isinstance(item, FieldInfo):
            # Annotated[str, Field(max_length=n)] | None: pydantic leaves the inner Field
            # unmerged, with its constraints in its own metadata.
            nested = _max_length(item.metadata)
            if nested is not None:
                return nested
            continue
        length = getattr(item, "max_length", None)
        if isinstance(length, int):
            return length
    return None


def _choices_storage(values: Sequence[Any], kind: str, where: str) -> tuple[str, str]:
    sql_type = choices_type(values)
    if sql_type is not None:
        return kind, sql_type
    raise SchemaError(
        f"{where}: {kind} values must be all strings or all integers (got {list(values)!r})"
    )


def annotated(annotation: Any, metadata: Sequence[Any]) -> Any:
    """``Annotated[annotation, *metadata]`` (the bare annotation when there is no metadata):
    a field's type with its constraints, for a ``TypeAdapter``.

    :class:`Column` items are left out: they do not validate anything, and ``Annotated``
    caches its subscriptions by equality, which ignores whether a Column came from
    ``Field(...)``: a later ``Annotated[str, Column(index=True)]`` in a model would be given
    this one, with a ``Field`` Column that outranks the model's own ``Field(index=False)``."""
    metadata = [item for item in metadata if not isinstance(item, Column)]
    if not metadata:
        return annotation
    # operator.getitem is plain subscription, Annotated[annotation, *metadata], spelt in a
    # way Python 3.10 accepts.
    return operator.getitem(Annotated, (annotation, *metadata))


def adapter_config(config: Mapping[str, Any] | None) -> pydantic.ConfigDict | None:
    """The configuration of the type adapters built for a model's fields: the model's own
    ``model_config`` (``arbitrary_types_allowed``, ``ser_json_*``, ...), so that what the model
    accepts the package can check, compare and store, without ``strict`` (the adapters check
    defaults, ``update`` values and ``where`` values laxly, as rows read back are) and without
    ``defer_build`` (an adapter is built when its table is, and its schema is checked then)."""
    if not config:
        return None
    kept = {k: v for k, v in config.items() if k not in ("strict", "defer_build")}
    return typing.cast("pydantic.ConfigDict", kept)


def type_adapter(
    annotation: Any, config: pydantic.ConfigDict | None = None
) -> pydantic.TypeAdapter[Any]:
    """A ``TypeAdapter`` for ``annotation`` with ``config`` (see :func:`adapter_config`),
    except for a model, dataclass or ``TypedDict``, which keep their own (Pydantic refuses
    another)."""
    inner, _ = _strip_annotated(annotation)
    own = isinstance(inner, type) and (
        issubclass(inner, pydantic.BaseModel) or dataclasses.is_dataclass(inner)
    )
    if config is None or own or typing.is_typeddict(inner):
        return pydantic.TypeAdapter(annotation)
    return pydantic.TypeAdapter(annotation, config=config)


#: Classes whose instances Pydantic writes as JSON by their type, when a schema only checks
#: ``isinstance`` (an arbitrary type): a ``str`` subclass is written as a string.
_INFERRED = (
    str,
    bytes,
    bytearray,
    int,
    float,
    complex,
    list,
    tuple,
    set,
    frozenset,
    dict,
    date,
    time,
    timedelta,
    Decimal,
    fractions.Fraction,
    UUID,
    enum.Enum,
    re.Pattern,
    pathlib.Path,
    ipaddress.IPv4Address,
    ipaddress.IPv6Address,
    ipaddress.IPv4Network,
    ipaddress.IPv6Network,
    ipaddress.IPv4Interface,
    ipaddress.IPv6Interface,
    pydantic.BaseModel,
)


def _schema_nodes(schema: Any, *, serialized: bool = True) -> Iterator[dict[str, Any]]:
    """Every node of a core schema, each once (``metadata`` is not a schema); without
    ``serialized``, what is below a custom serializer is left out."""
    stack = [schema]
    seen: set[int] = set()
    while stack:
        node = stack.pop()
        if isinstance(node, list):
            stack.extend(node)
            continue
        if not isinstance(node, dict) or id(node) in seen:
            continue
        seen.add(id(node))
        if not serialized and "serialization" in node:
            continue
        yield node
        stack.extend(value for key, value in node.items() if key != "metadata")


def _unwritable(schema: Any) -> str | None:
    """What in a core schema Pydantic cannot write as JSON, or ``None``: a callable, a class
    (``type[X]``), or a value of an arbitrary type (``arbitrary_types_allowed``) that Pydantic
    does not know. Anything below a custom serializer (``PlainSerializer``, a
    ``field_serializer``) is the serializer's business; ``Any`` and abstract classes are
    checked value by value when a row is written."""
    for node in _schema_nodes(schema, serialized=False):
        kind = node.get("type")
        if kind == "callable":
            return "a callable"
        if kind == "is-subclass":
            return "a class"
        if kind == "is-instance":
            cls = node.get("cls")
            if cls is type:
                return "type values"
            if (
                isinstance(cls, type)
                and not isinstance(cls, abc.ABCMeta)
                and not issubclass(cls, _INFERRED)
                and not dataclasses.is_dataclass(cls)
            ):
                return f"{cls.__name__} values"
    return None


def shown_annotation(annotation: Any) -> str:
    """An annotation as it is written, without module paths: ``list[Callable[[], int]]``."""
    if typing.get_origin(annotation) is None and isinstance(annotation, type):
        return annotation.__name__
    return re.sub(r"\b(?:\w+\.)+(\w+)", r"\1", repr(annotation))


def _json_codec(
    annotation: Any, metadata: Sequence[Any], where: str, config: pydantic.ConfigDict | None
) -> Codec:
    """The JSON encoder of a field: Pydantic's, with the field's own metadata (a
    ``PlainSerializer``) and its model's config; a :class:`SchemaError` when Pydantic could
    not write the type's values as JSON."""
    adapter = type_adapter(annotated(annotation, metadata), config)
    problem = _unwritable(adapter.core_schema)
    if problem is not None:
        raise SchemaError(
            f"{where}: {shown_annotation(annotation)} cannot be stored as JSON: Pydantic cannot "
            f"write {problem} as JSON; use a type it can, or give the type a serializer "
            "(PlainSerializer)"
        )

    def encode(value: Any) -> str:
        if _not_finite(value):
            # JSON has no NaN or infinity: Pydantic would write null, and the value would
            # come back as another one. Refuse instead (the row codec names row and field).
            raise ValueError("NaN and infinities cannot be stored in JSON (it would write null)")
        if _lone_surrogate(value):
            # Pydantic refuses one in a string, and writes one in a key as U+FFFD: the key
            # would come back as another one.
            raise ValueError(LONE_SURROGATE)
        text = adapter.dump_json(value).decode()
        if loose:
            # Where the type says Any, Pydantic writes what it can (a datetime as text, a
            # tuple as a list, an int key as a string) and reads back plain JSON: refuse a
            # value that would come back as another one.
            try:
                back = adapter.validate_json(text)
            except pydantic.ValidationError as exc:
                raise ValueError(
                    f"{value!r} would not come back from JSON as a value of the field's type "
                    f"({exc.errors()[0]['msg']}){_LOOSE_HINT}"
                ) from None
            difference = _difference(value, back, "")
            if difference is not None:
                raise ValueError(difference + _LOOSE_HINT)
        return text

    loose = _holds_any(adapter.core_schema)
    return encode


#: The end of the message for a value that JSON would give back changed.
_LOOSE_HINT = (
    "; where the type says Any, only JSON's own values (dict with str keys, list, str, int, "
    "float, bool, None) come back as they went in: give the field a type that says what it "
    "holds"
)


def _holds_any(schema: Any) -> bool:
    """True when a core schema validates some part of its values as ``Any`` (``dict``,
    ``list``, ``dict[str, Any]``, ``list[object]``) or by ``isinstance`` only (an abstract
    class): there a value is kept as given, and JSON may give it back as another one."""
    return any(node.get("type") in ("any", "is-instance") for node in _schema_nodes(schema))


def _difference(given: Any, back: Any, path: str) -> str | None:
    """How ``back`` (``given`` written as JSON and read back) differs from ``given``, naming
    the first part that does (``path``, such as ``['tags'][0]``); ``None`` when it does not."""
    at = f" at {path}" if path else ""
    if type(given) is not type(back):
        return f"{given!r}{at} would come back as {back!r} (JSON has no {type(given).__name__})"
    if isinstance(given, pydantic.BaseModel):
        for name, value in given.__dict__.items():
            found = _difference(value, back.__dict__.get(name), f"{path}.{name}")
            if found is not None:
                return found
        return None
    if isinstance(given, Mapping):
        if len(given) != len(back):
            return f"{given!r}{at} would come back as {back!r}"
        for key, key_back in zip(given, back, strict=True):
            if type(key) is not type(key_back) or key != key_back:
                return (
                    f"the key {key!r}{at} would come back as {key_back!r} (JSON keys are strings)"
                )
            found = _difference(given[key], back[key_back], f"{path}[{key!r}]")
            if found is not None:
                return found
        return None
    if isinstance(given, (list, tuple)):
        if len(given) != len(back):
            return f"{given!r}{at} would come back as {back!r}"
        for index, (item, item_back) in enumerate(zip(given, back, strict=True)):
            found = _difference(item, item_back, f"{path}[{index}]")
            if found is not None:
                return found
        return None
    if given != back:
        return f"{given!r}{at} would come back as {back!r}"
    return None


def _not_finite(value: Any) -> bool:
    """True when ``value`` holds a float NaN or infinity, at any depth."""
    if isinstance(value, float):
        return not math.isfinite(value)
    if isinstance(value, Mapping):
        return any(_not_finite(v) for v in value.values())
    if isinstance(value, (list, tuple, set, frozenset)):
        return any(_not_finite(v) for v in value)
    if isinstance(value, pydantic.BaseModel):
        return any(_not_finite(v) for v in value.__dict__.values())
    return False


#: Why text with a lone surrogate cannot be stored (the row codec names row and field).
LONE_SURROGATE = "text with a lone surrogate, which is not valid UTF-8"


def _lone_surrogate(value: Any) -> bool:
    """True when ``value`` holds text that is not valid UTF-8 (a lone surrogate, such as
    ``"\\ud800"``), as a string or a mapping key, at any depth."""
    if isinstance(value, str):
        if value.isascii():
            return False
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            return True
        return False
    if isinstance(value, Mapping):
        return any(_lone_surrogate(k) or _lone_surrogate(v) for k, v in value.items())
    if isinstance(value, (list, tuple, set, frozenset)):
        return any(_lone_surrogate(v) for v in value)
    if isinstance(value, pydantic.BaseModel):
        return any(_lone_surrogate(v) for v in value.__dict__.values())
    return False


def _constraint(metadata: Sequence[Any], name: str) -> int | None:
    """An integer constraint (``decimal_places``) of a field's metadata, where there is one."""
    for item in metadata:
        value = getattr(item, name, None)
        if isinstance(value, int) and not isinstance(value, bool):
            return value
        if isinstance(item, FieldInfo):
            nested = _constraint(item.metadata, name)
            if nested is not None:
                return nested
    return None


def storage_for(
    annotation: Any,
    info: FieldInfo | None,
    where: str,
    *,
    uuid_form: str | None = None,
    config: pydantic.ConfigDict | None = None,
) -> Storage:
    """The :class:`Storage` of a field annotated ``annotation``.

    ``where`` names the field in error messages, for example ``"User.email"``; ``config`` is
    the configuration of the field's adapters (:func:`adapter_config` of its model's).
    Raises :class:`~hedystia_models.errors.SchemaError` for annotations with no mapping, and
    for a JSON field whose values Pydantic could not write as JSON.
    """
    annotation, metadata = _strip_annotated(annotation)
    annotation, nullable = _split_optional(annotation)
    annotation, more = _strip_annotated(annotation)
    metadata.extend(more)
    if info is not None:
        metadata.extend(info.metadata)

    if isinstance(annotation, type) and issubclass(annotation, enum.Enum):
        values = [member.value for member in annotation]
        kind, sql_type = _choices_storage(values, "enum", where)
        enum_type = annotation

        def encode_enum(value: Any) -> Any:
            return value.value if isinstance(value, enum.Enum) else enum_type(value).value

        def decode_enum(value: Any) -> Any:
            return enum_type(value) if value is not None else None

        return Storage(kind, sql_type, nullable, tuple(values), encode_enum, decode_enum)

    if typing.get_origin(annotation) is Literal:
        args = typing.get_args(annotation)
        # Literal["a", None] is another spelling of Literal["a"] | None.
        values = [v for v in args if v is not None]
        nullable = nullable or len(values) != len(args)
        kind, sql_type = _choices_storage(values, "literal", where)
        encode: Codec = encode_bool if sql_type == "BOOLEAN" else identity
        decode: Codec = decode_bool if sql_type == "BOOLEAN" else identity
        return Storage(kind, sql_type, nullable, tuple(values), encode, decode)

    if isinstance(annotation, type) and annotation in _KINDS:
        kind = _KINDS[annotation]
        sql_type, encode, decode = KIND_STORAGE[kind]
        if annotation is str:
            sql_type = text_type(_max_length(metadata))
        elif annotation is Decimal:
            decode = decimal_decoder(_constraint(metadata, "decimal_places"))
        elif annotation is UUID:
            form = uuid_form or "hyphenated"
            if form not in UUID_FORMS:
                raise SchemaError(
                    f"{where}: uuid_form must be one of {', '.join(UUID_FORMS)} (got {form!r})"
                )
            sql_type, encode, decode = uuid_storage(form)
        return Storage(kind, sql_type, nullable, None, encode, decode)

    origin = typing.get_origin(annotation) or annotation
    is_model = isinstance(annotation, type) and issubclass(annotation, pydantic.BaseModel)
    if is_model and getattr(annotation, "__hedystia_table__", None) is not None:
        raise SchemaError(
            f"{where}: a table model ({annotation.__name__}) cannot be stored inside a column; "
            f"use a foreign key, e.g. Field(references={annotation.__name__})"
        )
    is_typed_dict = typing.is_typeddict(annotation)
    if (
        is_model
        or is_typed_dict
        or (isinstance(origin, type) and issubclass(origin, _JSON_ORIGINS))
    ):
        if origin in (str, bytes):  # pragma: no cover - handled above
            raise SchemaError(f"{where}: unexpected sequence type {annotation!r}")
        encode = _json_codec(annotation, metadata, where, config)
        return Storage("json", JSON_TYPE, nullable, None, encode, decode_json)

    if typing.get_origin(annotation) in (Union, types.UnionType):
        members = " | ".join(
            getattr(a, "__name__", None) or repr(a) for a in typing.get_args(annotation)
        )
        raise SchemaError(
            f"{where}: a union of several types ({members}) cannot be stored in one column; "
            "use one type (optionally | None), or a nested BaseModel / dict to store JSON"
        )
    shown = getattr(annotation, "__name__", None) or repr(annotation)
    raise SchemaError(
        f"{where}: cannot map type {shown} to an SQLite column. Supported: int, float, str, "
        "bool, bytes, Decimal, datetime, date, time, timedelta, UUID, Enum, Literal, dict, list, "
        "nested BaseModel, and X | None"
    )
