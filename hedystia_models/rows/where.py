"""Query clauses compiled to SQL: ``where`` dicts, ``order_by``, ``limit`` / ``offset``.

Keys name fields (or columns) and are quoted; values are encoded like stored values by the
table's :class:`~hedystia_models.rows.codec.RowCodec` and always bound as parameters. An
argument that cannot be compiled is a :class:`~hedystia_models.errors.QueryError` naming the
table, and the field or argument.

Every comparison gives the answer Python would give on the values, or is refused: stored
forms sort as their values do (see :mod:`hedystia_models.engine.sqlite.storage`), except
``Decimal`` text and JSON text, which are compared with the package's collations
(:mod:`hedystia_models.engine.sqlite.collations`). JSON values have no order, so ranges,
``like`` and ``order_by`` on a JSON field are refused, and so is ``like`` on a field that is
not stored as text.
"""

from __future__ import annotations

import collections.abc
import contextlib
import operator
import sqlite3
import typing
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from decimal import Decimal
from typing import Any

import pydantic

from ..engine.sqlite.collations import DECIMAL_COLLATION, JSON_COLLATION
from ..errors import QueryError
from ..model.table import FieldMapping, TableInfo
from ..model.typemap import identity
from ..schema.quoting import quote_identifier as q
from .codec import CODEC_ERRORS, INT64_MAX, INT64_MIN, RowCodec, unbindable

__all__ = [
    "ALWAYS",
    "MAX_NESTING",
    "NEVER",
    "OPERATORS",
    "OrderBy",
    "Where",
    "check_write_where",
    "compile_order_by",
    "compile_page",
    "compile_where",
    "key_condition",
    "statement_limits",
]

#: The conditions that hold for every row and for none, as both engines spell them (SQLite
#: takes ``TRUE``/``FALSE`` for 1/0; PostgreSQL's ``WHERE`` wants a boolean).
ALWAYS, NEVER = "TRUE", "FALSE"

#: Operators accepted in ``where`` dicts, e.g. ``{"age": {"gte": 18}}``.
OPERATORS = (
    "eq",
    "ne",
    "gt",
    "gte",
    "lt",
    "lte",
    "between",
    "not_between",
    "like",
    "not_like",
    "in",
    "not_in",
    "is_null",
)
_COMPARISONS = {"gt": ">", "gte": ">=", "lt": "<", "lte": "<="}
#: ``{"between": [low, high]}``: ``gte`` low and ``lte`` high; ``not_between`` its complement.
_RANGES = ("between", "not_between")
#: ``like`` and its complement ``not_like``: patterns matched against stored text.
_PATTERNS = ("like", "not_like")

Where = Mapping[str, Any]
OrderBy = str | Sequence[str]

#: For storage kinds whose codec stores values as they come, the Python types a ``where``
#: value may have to be used as it is (numbers compare across int and float, so ``{"gt":
#: 17.5}`` on an int field is fine); anything else is validated against the field's type.
_DIRECT_OPERANDS: dict[str, tuple[type, ...]] = {
    "integer": (int, float),
    "real": (int, float),
    "text": (str,),
    "boolean": (bool,),
    "blob": (bytes, bytearray, memoryview),
    "decimal": (Decimal, int, float),
}

#: Kinds whose ``where`` values are always validated first: the codec of a Literal passes any
#: value through, and a JSON value is compared as the field's type dumps it (a dict given for
#: a nested model gets the model's defaults).
_VALIDATED_OPERANDS = frozenset({"literal", "json"})

#: The kinds whose values are stored as text, which ``like`` matches (a UUID, an Enum or a
#: Literal when its stored form is text).
_TEXT_KINDS = frozenset({"text", "decimal", "datetime", "date", "time"})
_TEXT_WHEN_TEXT = frozenset({"uuid", "enum", "literal"})

#: The collation each kind's text is compared and sorted with, where byte order is not the
#: order of its values.
_COLLATIONS = {"decimal": DECIMAL_COLLATION, "json": JSON_COLLATION}

#: How each kind that is not text is stored, for the error of ``like``.
_STORED_AS = {
    "integer": "integers",
    "real": "floats",
    "blob": "bytes",
    "timedelta": "integer microseconds",
    "uuid": "16 bytes",
    "enum": "integers",
    "literal": "integers",
}


def _collated(mapping: FieldMapping, column: str) -> str:
    """``column`` with the collation its values compare by (``Decimal`` and JSON text)."""
    collation = _COLLATIONS.get(mapping.storage.kind)
    return column if collation is None else f"{column} COLLATE {collation}"


def _stored_as(mapping: FieldMapping) -> str:
    """How a field that is not stored as text is stored, in words."""
    if mapping.storage.sql_type == "BOOLEAN":
        return "0 / 1"
    return _STORED_AS.get(mapping.storage.kind, "values that are not text")


def _stored_as_text(mapping: FieldMapping) -> bool:
    storage = mapping.storage
    if storage.kind in _TEXT_KINDS:
        return True
    return storage.kind in _TEXT_WHEN_TEXT and storage.sql_type in ("TEXT", "CHAR(32)")


def _holds_set(annotation: Any, seen: set[int] | None = None) -> bool:
    """True when values of ``annotation`` may hold a ``set`` or ``frozenset``, at any depth
    (a nested model's fields, a ``TypedDict``'s keys, the arguments of a generic)."""
    seen = set() if seen is None else seen
    if id(annotation) in seen:
        return False
    seen.add(id(annotation))
    target = typing.get_origin(annotation) or annotation
    if isinstance(target, type) and issubclass(target, collections.abc.Set):
        return True
    inner: list[Any] = list(typing.get_args(annotation))
    if isinstance(annotation, type) and issubclass(annotation, pydantic.BaseModel):
        inner += [info.annotation for info in annotation.model_fields.values()]
    elif isinstance(annotation, type) and hasattr(annotation, "__required_keys__"):
        # a TypedDict (typing's or typing_extensions', which typing.is_typeddict misses)
        try:
            inner += list(typing.get_type_hints(annotation).values())
        except (NameError, TypeError):
            inner += list(getattr(annotation, "__annotations__", {}).values())
    return any(_holds_set(arg, seen) for arg in inner)


#: How deep ``and`` / ``or`` may nest: far more than a hand-written condition needs, and
#: below what Python's recursion and SQLite's expression depth (1000) allow.
MAX_NESTING = 100


def compile_where(
    info: TableInfo,
    where: Where | None,
    *,
    codec: RowCodec[Any] | None = None,
    write: str | None = None,
) -> tuple[str, list[Any]]:
    """Compile a ``where`` dict into an SQL condition and its parameters.

    Keys are field or column names; ``"and"`` / ``"or"`` take a list of dicts. Values are
    encoded like stored values (a datetime compares as its stored ISO text, an Enum as its
    value) and always bound as parameters. ``codec`` is the table's codec, whose type
    adapters are reused (a repository passes its own); one is made when it is not given.

    ``None`` matches every row, except for a write (``write`` names it: ``"delete"``,
    ``"update"``), where it is a :class:`QueryError`: a condition that is missing (a variable
    that happened to be ``None``) must not change every row; ``where={}`` says so.
    """
    if where is None:
        if write is not None:
            check_write_where(info, where, write)
        return ALWAYS, []
    return _compile(codec or RowCodec(info), where)


def key_condition(
    codec: RowCodec[Any], fields: Sequence[str]
) -> tuple[str, Callable[[Any], list[Any] | None]] | None:
    """The condition :func:`compile_where` compiles for ``{field: {"eq": value}, ...}`` over
    ``fields`` (a key: ``get``'s), compiled once, and the function giving its parameters for
    a key as ``get`` takes it (a value, or a tuple of one per field): each value encoded as
    :func:`compile_where` encodes it (the same :class:`QueryError` for a value that is not
    one of the field's). The function gives ``None`` for a key of another shape, or with a
    value that is ``None`` (which compiles to ``IS NULL``): the general path takes those.
    ``None`` for no fields, or a key with a JSON field, whose equality has checks of its
    own."""
    mappings = [codec.field_for(field) for field in fields]
    if not mappings or any(mapping.storage.kind == "json" for mapping in mappings):
        return None
    sql = " AND ".join(f"{_collated(m, q(m.column))} = ?" for m in mappings)
    encoders = [_key_encoder(codec, mapping) for mapping in mappings]
    count = len(encoders)

    def params(key: Any) -> list[Any] | None:
        if type(key) is not tuple or len(key) != count or any(value is None for value in key):
            return None
        return [encode(value) for encode, value in zip(encoders, key, strict=True)]

    if count == 1:
        (only,) = encoders
        (mapping,) = mappings

        def params(key: Any) -> list[Any] | None:
            if isinstance(key, tuple):
                if len(key) != 1:
                    return None
                (key,) = key
            return None if key is None else [only(key)]

        if _integer_key(mapping):
            general = params

            def params(key: Any) -> list[Any] | None:
                if type(key) is int and INT64_MIN <= key <= INT64_MAX:
                    return [key]  # what _operand gives an integer for an integer column
                return general(key)

    return sql, params


def _integer_key(mapping: FieldMapping) -> bool:
    """True for a field stored as an integer as it is: :func:`_operand` takes an ``int``
    within SQLite's 64-bit range for it as it is."""
    return mapping.storage.kind == "integer" and mapping.storage.encode is identity


def _key_encoder(codec: RowCodec[Any], mapping: FieldMapping) -> Callable[[Any], Any]:
    """:func:`_operand` of ``eq`` on ``mapping``, with a shortcut for an integer in range on an
    integer column (which :func:`_operand` takes as it is)."""

    def operand(value: Any) -> Any:
        return _operand(codec, mapping, "eq", value)

    if not _integer_key(mapping):
        return operand

    def integer(value: Any) -> Any:
        if type(value) is int and INT64_MIN <= value <= INT64_MAX:
            return value
        return operand(value)

    return integer


def check_write_where(info: TableInfo, where: object, write: str) -> None:
    """Refuse ``where=None`` for the write ``write`` (see :func:`compile_where`)."""
    if where is None:
        every = "update an arbitrary row" if write == "upsert" else f"{write} every row"
        raise QueryError(
            f"table {info.name!r}: {write}(where=None) would {every}; pass where={{}} to mean "
            "every row, or a condition"
        )


@contextlib.contextmanager
def statement_limits(info: TableInfo, action: str, params: Sequence[Any]) -> Iterator[None]:
    """Turn SQLite's refusal of a statement too large for it (more bound values than it
    takes, an expression deeper than it parses) into a :class:`QueryError` naming the table
    and the call (``action``). SQLite refuses it when preparing it, before anything runs; so
    does psycopg beyond PostgreSQL's 65,535 parameters (engine/postgres/dbapi.py says it in
    SQLite's words)."""
    try:
        yield
    except sqlite3.OperationalError as exc:
        text = str(exc)
        if text == "too many SQL variables":
            raise QueryError(
                f"table {info.name!r}: the {action} binds {len(params)} values, more than "
                "the database takes in one statement; split the 'in' list into several calls"
            ) from exc
        if text.startswith("Expression tree is too large"):
            raise QueryError(
                f"table {info.name!r}: the {action}'s where is too large for SQLite ({text}); "
                "use 'in' for many values of one field"
            ) from exc
        raise


def _compile(codec: RowCodec[Any], where: Any, depth: int = 0) -> tuple[str, list[Any]]:
    """:func:`compile_where` for a ``where`` that is not ``None`` (and for each nested dict,
    ``depth`` levels of ``and`` / ``or`` down)."""
    info = codec.info
    if not isinstance(where, Mapping):
        raise QueryError(f"table {info.name!r}: where must be a dict (got {type(where).__name__})")
    if depth > MAX_NESTING:
        raise QueryError(
            f"table {info.name!r}: where nests 'and' / 'or' more than {MAX_NESTING} levels deep"
        )
    parts: list[str] = []
    params: list[Any] = []
    for key, value in where.items():
        if key in ("and", "or"):
            if (
                not isinstance(value, Sequence)
                or isinstance(value, (str, bytes))
                or not all(isinstance(sub, Mapping) for sub in value)
            ):
                raise QueryError(f"table {info.name!r}: {key!r} takes a list of where dicts")
            subs = [_compile(codec, sub, depth + 1) for sub in value]
            if not subs:
                parts.append(ALWAYS if key == "and" else NEVER)
                continue
            joiner = " AND " if key == "and" else " OR "
            parts.append("(" + joiner.join(f"({sql})" for sql, _ in subs) + ")")
            for _, sub_params in subs:
                params.extend(sub_params)
            continue
        if codec.relations is not None and key in codec.relations:
            # A relation's name (never a field's): some related row matches (rows/relations.py).
            sql, relation_params = codec.relations.condition(key, value)
            parts.append(sql)
            params.extend(relation_params)
            continue
        mapping = codec.field_for(key)
        column = q(mapping.column)
        if isinstance(value, Mapping) and not value:
            # No operator, so no condition: it would match every row, and for a JSON field it
            # is more likely the empty dict to find.
            fix = (
                f"to find an empty dict write {{{mapping.field!r}: {{'eq': {{}}}}}}"
                if mapping.storage.kind == "json"
                else f"give one ({', '.join(OPERATORS)}) or leave {mapping.field!r} out"
            )
            raise QueryError(
                f"table {info.name!r}: the empty dict given for {mapping.field!r} names no "
                f"operator, so it would match every row; {fix}"
            )
        if isinstance(value, Mapping) and mapping.storage.kind == "json":
            unknown = next((op for op in value if op not in OPERATORS), None)
            if unknown is not None:
                raise QueryError(
                    f"table {info.name!r}: a dict given for the JSON field {mapping.field!r} "
                    f"is read as operators, and {unknown!r} is not one; to find a dict value "
                    f"write {{{mapping.field!r}: {{'eq': {{...}}}}}}"
                )
        conditions = value.items() if isinstance(value, Mapping) else [("eq", value)]
        for op, operand in conditions:
            sql, op_params = _condition(codec, mapping, column, op, operand)
            parts.append(sql)
            params.extend(op_params)
    return " AND ".join(parts) if parts else ALWAYS, params


def _condition(
    codec: RowCodec[Any], mapping: FieldMapping, column: str, op: str, operand: Any
) -> tuple[str, list[Any]]:
    """The SQL and parameters of one ``{op: operand}`` on ``mapping``'s column."""
    table, field = codec.info.name, mapping.field
    kind = mapping.storage.kind
    if op in ("eq", "ne", "in", "not_in") and operand is not None and kind == "json":
        info = codec.model.model_fields[field]
        if _holds_set(info.annotation):
            raise QueryError(
                f"table {table!r}: {op!r} on {field!r} has no right answer: its values hold "
                "sets, whose items are stored in no fixed order; use a sorted list instead"
            )
    collated = _collated(mapping, column)
    if op == "eq":
        if operand is None:
            return f"{column} IS NULL", []
        return f"{collated} = ?", [_operand(codec, mapping, op, operand)]
    if op == "ne":
        if operand is None:
            return f"{column} IS NOT NULL", []
        return f"{collated} IS NOT ?", [_operand(codec, mapping, op, operand)]
    if (op in _COMPARISONS or op in _RANGES or op in _PATTERNS) and kind == "json":
        raise QueryError(
            f"table {table!r}: {op!r} on the JSON field {field!r} has no right answer: JSON "
            "values have no order, and their stored text is no value to match a pattern "
            "against; use eq, ne, in, not_in or is_null"
        )
    if op in _COMPARISONS:
        return f"{collated} {_COMPARISONS[op]} ?", [_operand(codec, mapping, op, operand)]
    if op in _RANGES:
        return _range(codec, mapping, column, collated, op, operand)
    if op in _PATTERNS:
        if not isinstance(operand, str) or unbindable(operand) is not None:
            raise QueryError(
                f"table {table!r}: {op!r} on {field!r} takes a pattern string (got {operand!r})"
            )
        if not _stored_as_text(mapping):
            raise QueryError(
                f"table {table!r}: {op!r} matches text, and {field!r} is stored as "
                f"{_stored_as(mapping)}"
            )
        if op == "like":
            return f"{column} LIKE ?", [operand]
        # The complement of like, as not_in is of in: a NULL is "not like" any pattern.
        return f"({column} IS NULL OR {column} NOT LIKE ?)", [operand]
    if op in ("in", "not_in"):
        if isinstance(operand, (str, bytes, Mapping)) or not isinstance(operand, Iterable):
            raise QueryError(f"table {table!r}: {op!r} on {field!r} takes a list")
        # Null-safe like eq / ne: "in" is an OR of eq, "not_in" an AND of ne, so None in the
        # list matches NULL, and NULL is "not in" a list without None.
        items = list(operand)
        with_null = any(v is None for v in items)
        values = [_operand(codec, mapping, op, v) for v in items if v is not None]
        marks = ", ".join("?" * len(values))
        if op == "in":
            test = f"{collated} IN ({marks})" if values else NEVER
            return (f"({test} OR {column} IS NULL)" if with_null else test), values
        test = f"{collated} NOT IN ({marks})" if values else ALWAYS
        if with_null:
            return (
                f"({column} IS NOT NULL AND {test})" if values else f"{column} IS NOT NULL"
            ), values
        return (f"({column} IS NULL OR {test})" if values else ALWAYS), values
    if op == "is_null":
        if not isinstance(operand, bool):
            raise QueryError(
                f"table {table!r}: 'is_null' on {field!r} takes True or False (got {operand!r})"
            )
        return f"{column} IS {'' if operand else 'NOT '}NULL", []
    raise QueryError(
        f"table {table!r}: unknown operator {op!r} on {field!r} (operators: {', '.join(OPERATORS)})"
    )


def _range(
    codec: RowCodec[Any], mapping: FieldMapping, column: str, collated: str, op: str, operand: Any
) -> tuple[str, list[Any]]:
    """``{"between": [low, high]}`` (both ends included, like ``gte`` and ``lte``: ``NULL``
    is never between) or ``not_between``, its complement (so ``NULL`` is not between). Both
    bounds are validated and encoded like any comparison value."""
    if (
        isinstance(operand, (str, bytes, Mapping))
        or not isinstance(operand, Sequence)
        or len(operand) != 2
        or any(bound is None for bound in operand)
    ):
        raise QueryError(
            f"table {codec.info.name!r}: {op!r} on {mapping.field!r} takes a list of two values "
            f"[low, high], neither of them None (got {operand!r})"
        )
    bounds = [_operand(codec, mapping, op, bound) for bound in operand]
    test = f"{collated} BETWEEN ? AND ?"
    if op == "between":
        return test, bounds
    return f"({column} IS NULL OR NOT ({test}))", bounds


def _operand(codec: RowCodec[Any], mapping: FieldMapping, op: str, value: Any) -> Any:
    """``value`` (not ``None``) encoded like a stored value of ``mapping``, to compare with
    its column.

    A value the codec cannot take (an ISO string for a datetime field, a number of seconds
    for a timedelta) is first validated against the field's type; one that is not a value of
    that type at all, that cannot be stored (an aware time that is on another day in UTC), or
    that sqlite3 cannot bind, is a :class:`QueryError` naming the table and field. A float
    NaN for a number field is one too: it equals nothing, and sqlite3 would bind it as NULL.
    """
    table, field = codec.info.name, mapping.field
    kind = mapping.storage.kind
    if kind in ("integer", "real") and isinstance(value, float) and value != value:
        raise QueryError(
            f"table {table!r}: {op!r} on {field!r} got nan, which equals and orders with no "
            "number (sqlite3 would bind it as NULL)"
        )
    accepted = _DIRECT_OPERANDS.get(kind)
    encoded: Any = _NOT_ENCODED
    # A bool is an int to Python, not to PostgreSQL: one given for a number (or a number for
    # a bool) is validated to the field's type first, so both engines compare the same value.
    direct = accepted is None or (
        isinstance(value, accepted) and (type(value) is bool) == (kind == "boolean")
    )
    if kind not in _VALIDATED_OPERANDS and direct:
        # The codecs of the kinds in _DIRECT_OPERANDS pass any value through: only the types
        # listed are taken as they are. The other codecs raise for what they cannot take.
        with contextlib.suppress(*CODEC_ERRORS):
            encoded = codec.encode_value(mapping, value)
    if encoded is _NOT_ENCODED:
        try:
            validated = codec.adapter(field, constraints=False).validate_python(value)
        except CODEC_ERRORS as exc:
            raise QueryError(
                f"table {table!r}: {op!r} on {field!r} got {value!r}, which is not a value of "
                "that field's type"
            ) from exc
        try:
            encoded = codec.encode_value(mapping, validated)
        except CODEC_ERRORS as exc:
            raise QueryError(
                f"table {table!r}: {op!r} on {field!r} got {value!r}, which cannot be "
                f"stored, so compares with no stored value: {exc}"
            ) from exc
    problem = unbindable(encoded)
    if problem is not None:
        raise QueryError(f"table {table!r}: {op!r} on {field!r} got {value!r}: {problem}")
    return encoded


_NOT_ENCODED: Any = object()


def compile_order_by(info: TableInfo, order_by: OrderBy | None) -> str:
    """The ``ORDER BY`` clause (with a leading space; empty without ``order_by``) for a field
    name, ``"-name"`` for descending order, or a list of them. ``Decimal`` fields sort by
    value (:data:`~hedystia_models.engine.sqlite.collations.DECIMAL_COLLATION`); a JSON field
    is refused."""
    if order_by is None:
        return ""
    items: list[Any] | None = None
    if isinstance(order_by, str):
        items = [order_by]
    elif isinstance(order_by, Iterable) and not isinstance(order_by, (bytes, Mapping)):
        items = list(order_by)
    if items is None or not all(isinstance(item, str) for item in items):
        raise QueryError(
            f"table {info.name!r}: order_by takes a field name or a list of them (got {order_by!r})"
        )
    parts = []
    for item in items:
        descending = item.startswith("-")
        name = item[1:] if descending else item
        mapping = info.column_for(name)
        if mapping is None:
            raise QueryError(f"table {info.name!r}: cannot order by unknown field {name!r}")
        if mapping.storage.kind == "json":
            raise QueryError(
                f"table {info.name!r}: cannot order by the JSON field {mapping.field!r}: JSON "
                "values have no order"
            )
        column = _collated(mapping, q(mapping.column))
        parts.append(f"{column} {'DESC' if descending else 'ASC'}")
    return " ORDER BY " + ", ".join(parts) if parts else ""


def compile_page(info: TableInfo, limit: int | None, offset: int | None) -> tuple[str, list[Any]]:
    """The ``LIMIT ? OFFSET ?`` clause (with a leading space; empty without either) and its
    parameters. Each must be ``None`` or an integer from 0 up."""
    if limit is None and offset is None:
        return "", []
    return " LIMIT ? OFFSET ?", [
        -1 if limit is None else _count(info, "limit", limit),
        0 if offset is None else _count(info, "offset", offset),
    ]


def _count(info: TableInfo, name: str, value: Any) -> int:
    """``value`` of the argument ``name`` (``limit`` or ``offset``) as an integer from 0."""
    try:
        if isinstance(value, bool):
            raise TypeError(value)
        number = operator.index(value)
    except TypeError:
        number = -1
    if number < 0 or unbindable(number) is not None:
        raise QueryError(
            f"table {info.name!r}: {name} must be an integer from 0 up, or None (got {value!r})"
        )
    return number
