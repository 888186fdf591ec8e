"""Map Python annotations to SQLite storage: declared type, constraints and value codecs.

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
``datetime``                       ``DATETIME``     ISO 8601 text, offset kept when aware
``date`` / ``time``                ``DATE``/``TIME``  ISO 8601 text
``timedelta``                      ``INTEGER``      whole microseconds
``UUID``                           ``TEXT``         canonical 36-character text
``Enum`` / ``Literal``             ``TEXT``/``INTEGER``  the value, with ``CHECK (col IN (...))``
``dict``/``list``/``BaseModel``    ``TEXT``         compact JSON
``X | None``                       as ``X``         nullable (``NULL``)
=================================  ===============  ==========================================
"""

from __future__ import annotations

import enum
import json
import types
import typing
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import Annotated, Any, Literal, Union
from uuid import UUID

import annotated_types
import pydantic
from pydantic.fields import FieldInfo

from ..errors import SchemaError

__all__ = ["Storage", "storage_for"]

Codec = Callable[[Any], Any]


def identity(value: Any) -> Any:
    """The codec of types sqlite3 stores as they are."""
    return value


@dataclass(frozen=True)
class Storage:
    """How one field is declared and stored in SQLite."""

    kind: str
    sql_type: str
    nullable: bool
    choices: tuple[Any, ...] | None
    encode: Codec
    decode: Codec


_MICRO = 1_000_000


def _encode_timedelta(value: timedelta) -> int:
    return (value.days * 86_400 + value.seconds) * _MICRO + value.microseconds


def _decode_timedelta(value: Any) -> Any:
    return timedelta(microseconds=value) if isinstance(value, int) else value


def _decode_datetime(value: Any) -> Any:
    return datetime.fromisoformat(value) if isinstance(value, str) else value


def _decode_date(value: Any) -> Any:
    return date.fromisoformat(value) if isinstance(value, str) else value


def _decode_time(value: Any) -> Any:
    return time.fromisoformat(value) if isinstance(value, str) else value


def _decode_decimal(value: Any) -> Any:
    return Decimal(value) if isinstance(value, str) else value


def _decode_uuid(value: Any) -> Any:
    return UUID(value) if isinstance(value, str) else value


def _decode_bool(value: Any) -> Any:
    return bool(value) if isinstance(value, int) else value


def _decode_json(value: Any) -> Any:
    return json.loads(value) if isinstance(value, (str, bytes)) else value


def _encode_datetime(value: datetime) -> str:
    return value.isoformat(sep=" ")


def _encode_isoformat(value: date | time) -> str:
    return value.isoformat()


def _encode_str(value: Any) -> str:
    return str(value)


def _encode_uuid(value: Any) -> str:
    # A string is read as a UUID first, so every spelling of one (upper case, no hyphens, a
    # URN) becomes the canonical text that is stored; anything else raises.
    if isinstance(value, UUID):
        return str(value)
    if isinstance(value, str):
        return str(UUID(value))
    raise TypeError(f"expected a UUID, got {type(value).__name__}")


def _encode_bool(value: Any) -> int:
    return 1 if value else 0


_SIMPLE: dict[type, tuple[str, str, Codec, Codec]] = {
    # kind, declared type, encode, decode
    bool: ("boolean", "BOOLEAN", identity, _decode_bool),  # sqlite3 binds bool as 0 / 1
    int: ("integer", "INTEGER", identity, identity),
    float: ("real", "REAL", identity, identity),
    str: ("text", "TEXT", identity, identity),
    bytes: ("blob", "BLOB", identity, identity),
    Decimal: ("decimal", "TEXT", _encode_str, _decode_decimal),
    datetime: ("datetime", "DATETIME", _encode_datetime, _decode_datetime),
    date: ("date", "DATE", _encode_isoformat, _decode_date),
    time: ("time", "TIME", _encode_isoformat, _decode_time),
    timedelta: ("timedelta", "INTEGER", _encode_timedelta, _decode_timedelta),
    UUID: ("uuid", "TEXT", _encode_uuid, _decode_uuid),
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
    if values and all(isinstance(v, bool) for v in values):
        return kind, "BOOLEAN"
    if values and all(isinstance(v, int) and not isinstance(v, bool) for v in values):
        return kind, "INTEGER"
    if values and all(isinstance(v, str) for v in values):
        return kind, "TEXT"
    raise SchemaError(
        f"{where}: {kind} values must be all strings or all integers (got {list(values)!r})"
    )


def _json_codec(annotation: Any) -> Codec:
    adapter: pydantic.TypeAdapter[Any] = pydantic.TypeAdapter(annotation)

    def encode(value: Any) -> str:
        return adapter.dump_json(value).decode()

    return encode


def storage_for(annotation: Any, info: FieldInfo | None, where: str) -> Storage:
    """The :class:`Storage` of a field annotated ``annotation``.

    ``where`` names the field in error messages, for example ``"User.email"``.
    Raises :class:`~hedystia_models.errors.SchemaError` for annotations with no mapping.
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
        encode: Codec = _encode_bool if sql_type == "BOOLEAN" else identity
        decode: Codec = _decode_bool if sql_type == "BOOLEAN" else identity
        return Storage(kind, sql_type, nullable, tuple(values), encode, decode)

    if isinstance(annotation, type) and annotation in _SIMPLE:
        kind, sql_type, encode, decode = _SIMPLE[annotation]
        if annotation is str:
            length = _max_length(metadata)
            if length is not None:
                sql_type = f"VARCHAR({length})"
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
        return Storage("json", "TEXT", nullable, None, _json_codec(annotation), _decode_json)

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
