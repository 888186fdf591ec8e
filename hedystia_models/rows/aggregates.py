"""Aggregates: ``count``, ``sum``, ``min``, ``max`` and ``avg`` of the rows matching a
``where``, for the whole table (:func:`aggregate`) or per group (:func:`group_by`).

Each result has the answer Python would give on the values, or the call is refused:

* ``sum`` and ``avg`` take numbers: ``int``, ``bool`` (a ``sum`` counts the ``True``
  values), ``float``, ``Decimal`` and ``timedelta`` fields. A ``sum`` is exact: integers
  are summed by SQLite (and in Python when the total leaves its 64-bit range), ``Decimal``
  and ``float`` values by the aggregate function this module registers on the connection,
  which adds the values as decimals without rounding (SQLite's own ``sum`` would add the
  ``Decimal`` text as floats). A ``float`` total is then rounded once, to the nearest float,
  as ``math.fsum`` does.
* ``sum`` gives the field's type (``int`` for ``bool``); ``avg`` gives a ``float``, a
  ``Decimal`` for a ``Decimal`` field (to at least 28 significant digits), a ``timedelta``
  for a ``timedelta`` field (to the microsecond, halves to even, as ``timedelta / n``).
* ``min`` and ``max`` take every field ``order_by`` takes, and compare the same way (a
  ``Decimal`` by its number, an aware ``datetime`` by its instant); JSON fields have no
  order and are refused. The value comes back as the field's type.
* ``NULL`` values are skipped; over no values (no rows, or only ``NULL``) ``sum``, ``min``,
  ``max`` and ``avg`` are ``None``, and the count is 0.

Results are :class:`Aggregate` values (and :class:`Group` values, which add the group's
field values, ``by``): ``result.count``, ``result.sum["price"]``, ``result.max["at"]``, keyed
by field name whichever name (field or column) the call used.
"""

from __future__ import annotations

import decimal
import sqlite3
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal
from fractions import Fraction
from typing import TYPE_CHECKING, Any

import pydantic

from ..errors import Problem, QueryError
from ..model.table import FieldMapping
from ..schema.quoting import quote_identifier as q
from .codec import CODEC_ERRORS, RowCodec, row_error
from .where import (
    OrderBy,
    Where,
    _collated,
    _holds_set,
    compile_order_by,
    compile_where,
    statement_limits,
)

if TYPE_CHECKING:
    from ..database import Database

__all__ = ["AGGREGATES", "EXACT_DIGITS", "Aggregate", "Fields", "Group", "aggregate", "group_by"]

#: The aggregates, as keyword arguments of :func:`aggregate` and :func:`group_by`.
AGGREGATES = ("sum", "min", "max", "avg")

#: One field name, or a list of them (field or column names).
Fields = str | Sequence[str]

#: The significant digits an exact sum may have; one that needs more is a ``QueryError``
#: (every sum of floats fits: the finite floats span fewer than 1,200 decimal digits).
EXACT_DIGITS = 10_000

#: The kinds ``sum`` and ``avg`` take, and those whose values SQLite sums exactly itself
#: (integers: ``bool`` as 0 / 1, ``timedelta`` as microseconds).
_NUMBERS = frozenset({"integer", "boolean", "real", "decimal", "timedelta"})
_INTEGERS = frozenset({"integer", "boolean", "timedelta"})

#: What the fields of each kind that is not a number hold, for the error of sum and avg.
_HOLDS = {
    "text": "text",
    "blob": "bytes",
    "datetime": "datetimes",
    "date": "dates",
    "time": "times",
    "uuid": "UUIDs",
    "enum": "Enum members",
    "literal": "Literal values",
    "json": "JSON values",
}

#: The digits of a ``Decimal`` average: at least these, more for a total that has more.
_AVERAGE_DIGITS = 28


@dataclass(frozen=True)
class Aggregate:
    """The aggregates of the rows matching a ``where``: ``count`` (of rows) and, for each
    field asked for, its ``sum`` / ``min`` / ``max`` / ``avg`` (by field name; ``None`` over
    no values)."""

    count: int
    sum: Mapping[str, Any]
    min: Mapping[str, Any]
    max: Mapping[str, Any]
    avg: Mapping[str, Any]


@dataclass(frozen=True)
class Group(Aggregate):
    """One group of :func:`group_by`: the values of its grouping fields (``by``, by field
    name) and the aggregates of its rows."""

    by: Mapping[str, Any]


# -- the exact sum --------------------------------------------------------------------------


def _exact_context() -> decimal.Context:
    return decimal.Context(
        prec=EXACT_DIGITS,
        rounding=decimal.ROUND_HALF_EVEN,
        Emax=decimal.MAX_EMAX,
        Emin=decimal.MIN_EMIN,
        traps=[],
    )


@dataclass
class _Failures:
    """What the exact sums of one statement could not do (SQLite would only say that a
    step raised): values that are no number, fields whose sum is too long to be exact."""

    unreadable: list[Problem]
    inexact: list[str]


def _exact_sum(decode: Callable[[Any], Any], field: str, failures: _Failures) -> type:
    """An SQLite aggregate class: the exact sum, as ``Decimal`` text, of the values of one
    column (each read back by the field's codec, ``decode``); ``NULL`` over no values.

    What cannot be read as a number, or a sum needing more than :data:`EXACT_DIGITS`
    digits, is noted in ``failures``, and the sum is then ``NULL``. ``Infinity`` plus
    ``-Infinity`` is ``NaN``, as in PostgreSQL's ``numeric`` and for floats in Python.
    """

    class ExactSum:
        def __init__(self) -> None:
            self.context = _exact_context()
            self.total: Decimal | None = None
            self.failed = False

        def step(self, value: Any) -> None:
            if value is None or self.failed:
                return
            try:
                number = decode(value)
                if isinstance(number, timedelta):
                    number = number // timedelta(microseconds=1)
                if not isinstance(number, (int, float, Decimal)):
                    raise TypeError(f"got {type(number).__name__}")
                number = Decimal(int(number) if isinstance(number, bool) else number)
            except CODEC_ERRORS as exc:
                message = f"{value!r} cannot be read as a number: {exc}"
                failures.unreadable.append((None, field, message))
                self.failed = True
                return
            self.total = number if self.total is None else self.context.add(self.total, number)

        def finalize(self) -> str | None:
            if self.total is None or self.failed:
                return None
            if self.context.flags[decimal.Inexact] or self.context.flags[decimal.Overflow]:
                failures.inexact.append(field)
                return None
            return str(self.total)

    return ExactSum


# -- the call -------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Term:
    """One aggregate of one field, and where its values are in the result row."""

    name: str  # sum, min, max or avg
    mapping: FieldMapping
    at: int  # index of its first column in the result row
    exact: bool  # summed by the exact aggregate function


def aggregate(
    db: Database,
    codec: RowCodec[Any],
    *,
    where: Where | None = None,
    sum: Fields = (),
    min: Fields = (),
    max: Fields = (),
    avg: Fields = (),
) -> Aggregate:
    """The row count and the aggregates asked for, over the rows matching ``where``."""
    asked = {"sum": sum, "min": min, "max": max, "avg": avg}
    (result,) = _run(db, codec, [], where, asked, None, "aggregate")
    return result


def group_by(
    db: Database,
    codec: RowCodec[Any],
    by: Fields,
    *,
    where: Where | None = None,
    sum: Fields = (),
    min: Fields = (),
    max: Fields = (),
    avg: Fields = (),
    order_by: OrderBy | None = None,
) -> list[Group]:
    """One :class:`Group` per distinct value (or combination of values) of the ``by``
    fields among the rows matching ``where``, with their row count and aggregates.

    Values group as they compare in ``where``: two ``Decimal`` values that are the same
    number (``2.5``, ``2.50``) are one group, and so are two JSON values that differ only in
    the order of their keys; ``NULL`` is a group of its own. Groups come in the order of the
    ``by`` fields, or of ``order_by``, which may name only them (``"-category"``).
    """
    info = codec.info
    grouped = _names(codec, "group_by", by)
    if not grouped:
        raise QueryError(f"table {info.name!r}: group_by names no field")
    for mapping in grouped:
        if mapping.storage.kind == "json" and _holds_set(
            codec.model.model_fields[mapping.field].annotation
        ):
            raise QueryError(
                f"table {info.name!r}: cannot group by {mapping.field!r}: its values hold "
                "sets, whose items are stored in no fixed order, so equal values could be "
                "told apart; use a sorted list instead"
            )
    if order_by is not None:
        items = [order_by] if isinstance(order_by, str) else order_by
        fields = {m.field for m in grouped}
        for item in items if isinstance(items, Sequence) else ():
            name = item[1:] if isinstance(item, str) and item.startswith("-") else item
            ordered = info.column_for(name) if isinstance(name, str) else None
            if ordered is not None and ordered.field not in fields:
                raise QueryError(
                    f"table {info.name!r}: group_by can order only by the fields it groups "
                    f"by ({', '.join(m.field for m in grouped)}), not {ordered.field!r}"
                )
    asked = {"sum": sum, "min": min, "max": max, "avg": avg}
    groups = _run(db, codec, grouped, where, asked, order_by, "group_by")
    return groups  # type: ignore[return-value]  # _run makes Groups when grouped


def _names(codec: RowCodec[Any], argument: str, names: object) -> list[FieldMapping]:
    """The fields that ``names`` (one field or column name, or a list) name, each once."""
    items: list[Any] | None = None
    if isinstance(names, str):
        items = [names]
    elif isinstance(names, Iterable) and not isinstance(names, (bytes, Mapping)):
        items = list(names)
    if items is None or not all(isinstance(item, str) for item in items):
        raise QueryError(
            f"table {codec.info.name!r}: {argument} takes a field name or a list of them "
            f"(got {names!r})"
        )
    chosen: list[FieldMapping] = []
    for item in items:
        mapping = codec.field_for(item)
        if mapping not in chosen:
            chosen.append(mapping)
    return chosen


def _check(codec: RowCodec[Any], name: str, mapping: FieldMapping) -> None:
    """Refuse the aggregate ``name`` of a field it has no right answer for."""
    kind = mapping.storage.kind
    table, field = codec.info.name, mapping.field
    if name in ("sum", "avg") and kind not in _NUMBERS:
        holds = _HOLDS.get(kind, f"{kind} values")
        raise QueryError(
            f"table {table!r}: {name!r} of {field!r} has no right answer: it holds {holds}, "
            "not numbers; sum and avg take int, bool, float, Decimal and timedelta fields"
        )
    if name in ("min", "max") and kind == "json":
        raise QueryError(
            f"table {table!r}: {name!r} of the JSON field {field!r} has no right answer: JSON "
            "values have no order"
        )


def _run(
    db: Database,
    codec: RowCodec[Any],
    grouped: list[FieldMapping],
    where: Where | None,
    asked: Mapping[str, Fields],
    order_by: OrderBy | None,
    action: str,
) -> list[Aggregate]:
    info = codec.info
    terms: list[_Term] = []
    width = len(grouped) + 1  # the grouping values, then count(*)
    for name in AGGREGATES:
        for mapping in _names(codec, name, asked[name]):
            _check(codec, name, mapping)
            exact = name in ("sum", "avg") and mapping.storage.kind not in _INTEGERS
            terms.append(_Term(name, mapping, width, exact))
            width += 2 if name == "avg" else 1
    condition, params = compile_where(info, where, codec=codec)
    keys = [_group_key(m) for m in grouped]
    try:
        rows = _select(db, codec, keys, terms, condition, params, order_by, action, False)
    except sqlite3.OperationalError as exc:
        if str(exc) != "integer overflow":
            raise
        # A total beyond SQLite's 64-bit INTEGER: sum the integers exactly too.
        rows = _select(db, codec, keys, terms, condition, params, order_by, action, True)
    results: list[Aggregate] = []
    for row in rows:
        values: dict[str, dict[str, Any]] = {name: {} for name in AGGREGATES}
        for term in terms:
            values[term.name][term.mapping.field] = _result(codec, term, row)
        count = int(row[len(grouped)])
        if grouped:
            by = {
                m.field: _read(codec, m, value)
                for m, value in zip(grouped, row[: len(grouped)], strict=True)
            }
            results.append(Group(count, **values, by=by))
        else:
            results.append(Aggregate(count, **values))
    return results


def _group_key(mapping: FieldMapping) -> str:
    """The expression a field groups by: its column, with the collation its values compare
    by (a ``Decimal`` by number, JSON with its keys sorted)."""
    return _collated(mapping, q(mapping.column))


def _select(
    db: Database,
    codec: RowCodec[Any],
    keys: list[str],
    terms: list[_Term],
    condition: str,
    params: list[Any],
    order_by: OrderBy | None,
    action: str,
    exact_integers: bool,
) -> list[tuple[Any, ...]]:
    """Run the aggregate statement; ``exact_integers`` sums integers with the exact
    aggregate too (after SQLite's ``sum`` overflowed)."""
    info = codec.info
    failures = _Failures([], [])
    functions: list[tuple[str, type]] = []
    columns = [*keys, "count(*)"]
    postgres = db.engine == "postgres"
    for term in terms:
        mapping = term.mapping
        column = q(mapping.column)
        if term.name in ("min", "max"):
            extreme = _postgres_extreme if postgres else _sqlite_extreme
            columns.append(extreme(term.name, mapping, column))
            continue
        if postgres:
            columns.append(_postgres_sum(mapping, column))
        elif term.exact or exact_integers:
            function = f"hedystia_exact_sum_{len(functions)}"
            functions.append(
                (function, _exact_sum(mapping.storage.decode, mapping.field, failures))
            )
            columns.append(f"{function}({column})")
        else:
            columns.append(f"sum({column})")
        if term.name == "avg":
            columns.append(f"count({column})")
    sql = f"SELECT {', '.join(columns)} FROM {q(info.name)} WHERE {condition}"
    if keys:
        sql += f" GROUP BY {', '.join(keys)}"
        sql += (
            compile_order_by(info, order_by)
            if order_by is not None
            else f" ORDER BY {', '.join(f'{key} ASC' for key in keys)}"
        )
    with db.connection() as conn, statement_limits(info, action, params):
        for function, made in functions:
            conn.create_aggregate(function, 1, made)
        rows = conn.execute(sql, params).fetchall()
    if failures.unreadable:
        raise row_error(info.name, failures.unreadable, "stored value(s) cannot be read")
    if failures.inexact:
        raise QueryError(
            f"table {info.name!r}: the sum of {failures.inexact[0]!r} needs more than "
            f"{EXACT_DIGITS} significant digits to be exact"
        )
    return rows


def _sqlite_extreme(name: str, mapping: FieldMapping, column: str) -> str:
    """``min``/``max`` of a column on SQLite, by the collation its values compare with."""
    return f"{name}({_collated(mapping, column)})"


def _postgres_extreme(name: str, mapping: FieldMapping, column: str) -> str:
    """``min``/``max`` of a column on PostgreSQL, which has none for ``BOOLEAN`` (``bool_and``
    and ``bool_or`` are) nor for ``UUID`` (compared by its text, as SQLite stores it)."""
    if mapping.storage.sql_type == "BOOLEAN":
        return f"{'bool_and' if name == 'min' else 'bool_or'}({column})"
    if mapping.storage.kind == "uuid":
        return f"{name}({column}::text)::uuid"
    return f"{name}({column})"


def _postgres_sum(mapping: FieldMapping, column: str) -> str:
    """The sum of a column on PostgreSQL, exact for integers and ``NUMERIC`` (PostgreSQL's
    own ``sum``): booleans counted as 1 / 0, a ``timedelta`` in whole microseconds (as
    SQLite stores it)."""
    if mapping.storage.sql_type == "BOOLEAN":
        return f"sum({column}::int)"
    if mapping.storage.kind == "timedelta":
        return f"sum(extract(epoch from {column}) * 1000000)"
    return f"sum({column})"


def _result(codec: RowCodec[Any], term: _Term, row: Sequence[Any]) -> Any:
    """The value of ``term`` from the result row, as the type it is documented to be."""
    mapping, value = term.mapping, row[term.at]
    kind = mapping.storage.kind
    if term.name in ("min", "max"):
        return _read(codec, mapping, value)
    if value is None:
        return None
    # SQLite's exact sums are text; PostgreSQL's are Decimal (a float's, a float: exactly)
    total = Decimal(value) if isinstance(value, (str, float)) else value
    if term.name == "sum":
        if kind == "decimal":
            return total
        if kind == "real":
            return float(total)
        if kind == "timedelta":
            return _timedelta(codec, mapping, "sum", int(total))
        return int(total)
    count = int(row[term.at + 1])
    if kind == "decimal":
        digits = len(total.as_tuple().digits)
        context = decimal.Context(
            prec=max(_AVERAGE_DIGITS, digits),
            rounding=decimal.ROUND_HALF_EVEN,
            Emax=decimal.MAX_EMAX,
            Emin=decimal.MIN_EMIN,
            traps=[],
        )
        return context.divide(total, Decimal(count))
    if kind == "real":
        if not total.is_finite():
            return float(total)
        return float(Fraction(total) / count)
    if kind == "timedelta":
        return _timedelta(codec, mapping, "avg", round(Fraction(int(total), count)))
    return int(total) / count


def _timedelta(codec: RowCodec[Any], mapping: FieldMapping, name: str, micro: int) -> timedelta:
    try:
        return timedelta(microseconds=micro)
    except OverflowError:
        raise QueryError(
            f"table {codec.info.name!r}: the {name} of {mapping.field!r} is beyond the range of "
            f"timedelta ({micro} microseconds)"
        ) from None


def _read(codec: RowCodec[Any], mapping: FieldMapping, value: Any) -> Any:
    """A stored value of ``mapping``'s column (a group's value, a ``min`` or ``max``) read
    back by the field's codec and validated by the field (its type and constraints, as a
    whole row's value is); a :class:`RowError` when it cannot be."""
    if value is None:
        return None
    try:
        decoded = mapping.storage.decode(value)
        return codec.adapter(mapping.field, constraints=True).validate_python(decoded, strict=False)
    except pydantic.ValidationError as exc:
        message = exc.errors()[0]["msg"]
    except CODEC_ERRORS as exc:
        message = str(exc)
    raise row_error(
        codec.info.name, [(None, mapping.field, message)], "stored value(s) cannot be read"
    )
