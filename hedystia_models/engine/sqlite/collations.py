"""The SQLite collations the package compares stored values with.

SQLite compares text byte by byte, which is the right order for most stored forms (ISO 8601
dates and UTC datetimes, canonical UUIDs, plain text) but not for two of them:

* ``Decimal`` is stored as its exact text (``'2.50'``), and ``'10' < '9'`` as text, and
  ``'2.5' != '2.50'``. :data:`DECIMAL_COLLATION` compares the numbers instead, exactly.
* JSON is stored as compact text in the order Pydantic writes the keys, so ``{"a":1,"b":2}``
  and ``{"b":2,"a":1}`` differ as text. :data:`JSON_COLLATION` compares JSON values with their
  object keys sorted.

A collation only applies when both sides of a comparison are text: an adopted ``NUMERIC``
column holding ``10.00`` as the integer ``10`` compares numerically without it. The where
compiler (:mod:`hedystia_models.rows.where`) names these collations in the comparisons and
``ORDER BY`` clauses of such fields, so every connection that runs them must have them:
:func:`register_collations` is called once per connection by ``Database``. Nothing in a
schema (an index, a view) ever names them, so other tools can still open the database.
"""

from __future__ import annotations

import functools
import json
import sqlite3
from decimal import Decimal, InvalidOperation

__all__ = [
    "DECIMAL_COLLATION",
    "JSON_COLLATION",
    "compare_decimal_text",
    "compare_json_text",
    "decimal_sort_key",
    "register_collations",
]

#: Orders ``Decimal`` text by value: ``-Infinity`` < finite numbers < ``Infinity`` < ``NaN``
#: (every NaN equal, as in PostgreSQL's ``numeric``), then text that is not a number, in text
#: order.
DECIMAL_COLLATION = "hedystia_decimal"

#: Orders JSON text by its canonical form (object keys sorted, no spaces); text that is not
#: JSON by its own text.
JSON_COLLATION = "hedystia_json"

_MINUS_INFINITY, _FINITE, _INFINITY, _NAN, _NOT_A_NUMBER = range(5)
_ZERO = Decimal(0)


@functools.lru_cache(maxsize=4096)
def _decimal_key(text: str) -> tuple[int, Decimal | str]:
    """The class of ``text`` in the collation's order and the value it is compared by within
    its class."""
    try:
        number = Decimal(text)
    except (InvalidOperation, ValueError, TypeError):
        return _NOT_A_NUMBER, text
    if number.is_nan():
        # A context that does not trap InvalidOperation gives NaN for any text: only text
        # that spells a NaN is one.
        spelled = text.strip().lstrip("+-").lower()
        if not spelled.startswith(("nan", "snan")):
            return _NOT_A_NUMBER, text
        return _NAN, _ZERO
    if number.is_infinite():
        return (_MINUS_INFINITY if number < 0 else _INFINITY), _ZERO
    return _FINITE, number


def compare_decimal_text(a: str, b: str) -> int:
    """The :data:`DECIMAL_COLLATION`: -1, 0 or 1 as the number ``a`` is below, equal to or
    above ``b``; exact (``'2.5'`` equals ``'2.50'``, ``'9'`` is below ``'10'``).

    >>> compare_decimal_text("9", "10"), compare_decimal_text("2.5", "2.50")
    (-1, 0)
    >>> sorted(["NaN", "x", "1E+2", "-Infinity", "Infinity", "-3"], key=decimal_sort_key)
    ['-Infinity', '-3', '1E+2', 'Infinity', 'NaN', 'x']
    """
    kind_a, value_a = _decimal_key(a)
    kind_b, value_b = _decimal_key(b)
    if kind_a != kind_b:
        return -1 if kind_a < kind_b else 1
    if value_a == value_b:
        return 0
    return -1 if value_a < value_b else 1  # type: ignore[operator]  # same class, same type


decimal_sort_key = functools.cmp_to_key(compare_decimal_text)


@functools.lru_cache(maxsize=1024)
def _json_key(text: str) -> str:
    """``text`` as canonical JSON (keys sorted, compact), or itself when it is not JSON."""
    try:
        value = json.loads(text)
    except (ValueError, RecursionError):
        return text
    try:
        return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    except (ValueError, RecursionError):  # pragma: no cover - loads gave it, dumps takes it
        return text


def compare_json_text(a: str, b: str) -> int:
    """The :data:`JSON_COLLATION`: JSON texts compare by their canonical form, so the same
    value written with its keys in another order is equal.

    >>> compare_json_text('{"a":1,"b":2}', '{"b": 2, "a": 1}')
    0
    """
    key_a, key_b = _json_key(a), _json_key(b)
    return 0 if key_a == key_b else -1 if key_a < key_b else 1


def register_collations(conn: sqlite3.Connection) -> None:
    """Make :data:`DECIMAL_COLLATION` and :data:`JSON_COLLATION` known to ``conn``
    (registering again replaces them, so calling this twice is harmless)."""
    conn.create_collation(DECIMAL_COLLATION, compare_decimal_text)
    conn.create_collation(JSON_COLLATION, compare_json_text)
