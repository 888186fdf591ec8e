"""The one place where identifiers and SQL literals are turned into SQL text.

Values are always passed to SQLite as bound parameters. Two things cannot be parameters in
SQLite and are rendered here instead:

* identifiers (table, column, index names), always through :func:`quote_identifier`;
* the constant of a ``DEFAULT`` clause in DDL, through :func:`sql_literal`, which only accepts
  ``None``, ``int``, ``float``, ``str`` and ``bytes`` and renders them in SQLite's own literal
  syntax (strings with doubled single quotes, blobs as ``X'..'``).
"""

from __future__ import annotations

import math
import re

from ..errors import SpecError

__all__ = [
    "RESERVED_PREFIXES",
    "fold_identifier",
    "identifier_problem",
    "parse_sql_literal",
    "quote_identifier",
    "reserved_prefix",
    "sql_literal",
]

#: Name prefixes no table or index may take, with who reserves them: SQLite keeps ``sqlite_``
#: for its own tables and indexes (``sqlite_sequence``, ``sqlite_autoindex_*``), this package
#: ``__hedystia_`` for its bookkeeping tables (``__hedystia_migrations``).
RESERVED_PREFIXES = {"sqlite_": "SQLite", "__hedystia_": "hedystia-models"}


def identifier_problem(name: str) -> str | None:
    """Why SQLite cannot hold ``name`` as an identifier (table, column or index name), or
    ``None`` when it can: SQLite's names are NUL-terminated UTF-8 text.

    >>> identifier_problem("a\\x00"), identifier_problem("ok")
    ('contains a NUL character', None)
    """
    if "\x00" in name:
        return "contains a NUL character"
    try:
        name.encode("utf-8")
    except UnicodeEncodeError:
        return "contains a lone surrogate, which is not valid UTF-8"
    return None


def reserved_prefix(name: str) -> str | None:
    """Why ``name`` cannot name a table or an index (a reserved prefix, compared as SQLite
    compares names), or ``None``.

    >>> reserved_prefix("SQLITE_stat1")
    "starts with 'sqlite_', which SQLite reserves"
    """
    folded = fold_identifier(name)
    for prefix, owner in RESERVED_PREFIXES.items():
        if folded.startswith(prefix):
            return f"starts with {prefix!r}, which {owner} reserves"
    return None


def quote_identifier(name: str) -> str:
    """Quote ``name`` as an SQLite identifier: wrap in double quotes, double inner quotes.

    >>> quote_identifier('order')
    '"order"'
    >>> print(quote_identifier('a "b" c'))
    "a ""b"" c"
    """
    quoted = _QUOTED.get(name)
    if quoted is not None:
        return quoted
    problem = identifier_problem(name)
    if problem is not None:
        raise SpecError(f"identifier {name!r} {problem}")
    quoted = '"' + name.replace('"', '""') + '"'
    if len(_QUOTED) < _QUOTED_KEPT:
        _QUOTED[name] = quoted
    return quoted


#: Names quoted before (a schema names the same few columns again and again), at most
#: :data:`_QUOTED_KEPT` of them; only names that passed the check are kept.
_QUOTED: dict[str, str] = {}
_QUOTED_KEPT = 1 << 16


def sql_literal(value: object) -> str:
    """Render a constant as an SQLite literal for a ``DEFAULT`` clause.

    >>> sql_literal("it's")
    "'it''s'"
    >>> sql_literal(True), sql_literal(2.5), sql_literal(b"\\x01"), sql_literal(None)
    ('1', '2.5', "X'01'", 'NULL')
    """
    if value is None:
        return "NULL"
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if math.isnan(value) or math.isinf(value):
            raise SpecError(f"{value!r} cannot be written as an SQLite literal")
        return repr(value)
    if isinstance(value, str):
        problem = identifier_problem(value)  # SQL text: NUL-terminated UTF-8, as names
        if problem is not None:
            raise SpecError(f"a DEFAULT string {problem}")
        return "'" + value.replace("'", "''") + "'"
    if isinstance(value, (bytes, bytearray, memoryview)):
        return "X'" + bytes(value).hex().upper() + "'"
    raise SpecError(f"{type(value).__name__} cannot be written as an SQLite literal")


_NUMBER = re.compile(r"^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$")
_BLOB = re.compile(r"^[xX]'([0-9a-fA-F]*)'$")


class _Unparsed:
    """Marker: the default is an expression, not a constant."""


UNPARSED = _Unparsed()


def parse_sql_literal(text: str) -> object:
    """Parse the text of a ``DEFAULT`` clause (as ``PRAGMA table_info`` reports it).

    Returns the Python constant for a literal, or :data:`UNPARSED` for an expression such as
    ``CURRENT_TIMESTAMP`` or ``(random())``. (The answers are kept: a plan compares the same
    few defaults thousands of times, and each answer is immutable.)
    """
    found = _PARSED.get(text, _MISSING)
    if found is _MISSING:
        found = _parse_sql_literal(text)
        if len(_PARSED) < 1 << 14:
            _PARSED[text] = found
    return found


_MISSING = object()
_PARSED: dict[str, object] = {}


def _parse_sql_literal(text: str) -> object:
    text = text.strip()
    while text.startswith("(") and text.endswith(")") and _balanced(text[1:-1]):
        text = text[1:-1].strip()
    upper = text.upper()
    if upper == "NULL":
        return None
    if upper == "TRUE":
        return 1
    if upper == "FALSE":
        return 0
    if _NUMBER.match(text):
        number = float(text)
        if re.match(r"^[+-]?\d+$", text):
            return int(text)
        return number
    if len(text) >= 2 and text[0] == text[-1] and text[0] in "'\"":
        quote = text[0]
        inner = text[1:-1]
        if inner.replace(quote * 2, "").count(quote) == 0:
            return inner.replace(quote * 2, quote)
    match = _BLOB.match(text)
    if match:
        return bytes.fromhex(match.group(1))
    return UNPARSED


def _balanced(text: str) -> bool:
    depth = 0
    for char in text:
        if char == "(":
            depth += 1
        elif char == ")":
            depth -= 1
            if depth < 0:
                return False
    return depth == 0


_ASCII_FOLD = str.maketrans("ABCDEFGHIJKLMNOPQRSTUVWXYZ", "abcdefghijklmnopqrstuvwxyz")


def fold_identifier(name: str) -> str:
    """Fold an identifier's case the way SQLite compares identifiers: ASCII letters only.

    ``"Users"`` and ``"users"`` name the same table; ``"CAFÉ"`` and ``"café"`` do not.
    """
    return name.translate(_ASCII_FOLD)
