"""Read the live PostgreSQL schema into :mod:`~hedystia_models.schema.spec` values.

:func:`read_database` is the PostgreSQL twin of the SQLite engine's reader
(:mod:`hedystia_models.engine.sqlite.introspect`): the tables of one schema (the connection's
``current_schema()`` unless told) become the same :class:`TableSpec` shapes that reader gives,
so the engine-neutral differ sees one language. It reads the catalogs in a constant number of
statements whatever the number of tables, one per aspect:

1. the tables (``pg_class``, ``relkind`` ``'r'`` / ``'p'``), which also finds the schema, and
   which of them certainly hold no row (a heap table whose main fork has no block:
   ``pg_relation_size`` is 0);
2. their columns (``pg_attribute``, ``format_type``, ``pg_get_expr`` of ``pg_attrdef``);
3. their constraints (``pg_constraint``: primary keys, ``UNIQUE``, foreign keys, checks);
4. their indexes that back no constraint (``pg_index``);
5. the views and triggers of the schema (one ``UNION ALL``);
6. which of the other tables hold rows: one ``SELECT ARRAY[EXISTS (SELECT 1 FROM t), ...]``
   in the snapshot (skipped when there is none: rows deleted, or written by a transaction
   not committed in the snapshot, leave blocks but no row it sees);
7. only when asked (``version=True``): the catalog fingerprint (:func:`catalog_fingerprint`),
   for ``schema_version``.

Conventions (what the differ needs to see the same shapes from both engines):

* types are ``format_type``'s spelling, upper case (``CHARACTER VARYING(40)``,
  ``TIMESTAMP WITH TIME ZONE``): what :mod:`.types` declares;
* an identity column (``GENERATED ... AS IDENTITY``) or a ``serial`` one (``DEFAULT
  nextval(...)``) that is the table's single primary key column is ``auto_increment``, without a
  default; elsewhere a ``serial`` keeps its ``nextval(...)`` default, and an identity has none
  and is listed in ``rebuild_obstacles`` (as are generated columns, ``INCLUDE`` indexes,
  exclusion constraints, collations a spec cannot name, partitioned tables and partitions);
* defaults are given in the package's literal form (:func:`normalize_default`);
* a primary key marks its columns; a single-column ``UNIQUE`` constraint, or unique index on a
  plain column without ``WHERE``, is the column's ``unique`` flag (the index is kept in
  ``unique_indexes``, as on SQLite); a multi-column one is ``unique_together``;
* a single-column foreign key is the column's :class:`Reference`, a multi-column one a
  :class:`ForeignKeySpec`; ``deferrable`` is ``DEFERRABLE INITIALLY DEFERRED`` only;
* a ``CHECK`` on one column under the name PostgreSQL gives a column's check
  (``<table>_<column>_check``, ``..._check1``, ...) is the column's ``check`` (several are
  joined as ``(a) AND (b)``, as on SQLite); one under the name PostgreSQL gives an unnamed
  table check that names several columns or none (``<table>_check``, ``<table>_check1``) is a
  :class:`CheckSpec` without a name; any other is a :class:`CheckSpec` with its name. Check
  texts go through :func:`normalize_check`.
* the bookkeeping tables ``__hedystia_migrations`` and ``__hedystia_state`` are left out, as
  the SQLite reader leaves them out (:data:`INTERNAL_TABLES`).

The reads see one snapshot: outside a transaction they run in their own ``REPEATABLE READ READ
ONLY`` one; inside the caller's transaction, in it (its isolation level decides).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import lru_cache
from typing import TYPE_CHECKING, Any

from ...schema.quoting import UNPARSED, fold_identifier, parse_sql_literal, quote_identifier
from ...schema.spec import (
    CheckSpec,
    ColumnSpec,
    ForeignKeySpec,
    IndexExpression,
    IndexKey,
    IndexSpec,
    Reference,
    TableSpec,
)
from ...schema.state import DatabaseState, Dependent

if TYPE_CHECKING:
    import psycopg

__all__ = [
    "INTERNAL_TABLES",
    "catalog_fingerprint",
    "fingerprint_number",
    "normalize_check",
    "normalize_default",
    "normalize_expression",
    "object_name",
    "read_database",
]

#: The package's bookkeeping tables; never part of a model diff (as on SQLite).
INTERNAL_TABLES = frozenset({"__hedystia_migrations", "__hedystia_state"})

# -- SQL text: PostgreSQL's deparsed expressions back to the package's forms -----------------

_NUM = r"(?:\d+(?:\.\d*)?(?:[eE][+-]?\d+)?|\.\d+)"
_IDENT = r'(?:"(?:[^"]|"")+"|[A-Za-z_][\w$]*)'
#: A type name as ``format_type`` and the deparser write it after ``::``.
_TYPE = (
    rf"{_IDENT}(?:\.{_IDENT})?(?: varying| precision)?(?:\(\d+(?:,\s*\d+)?\))?"
    r"(?: with(?:out)? time zone)?(?:\[\])*"
)
_STRING = r"'(?:[^']|'')*'"
_CASTS = rf"(?:::{_TYPE})*"
#: One token of deparsed SQL, for :func:`_strip_casts`: a literal and the casts on it, or
#: something to copy as it is (a quoted name, a word, any other character).
_TOKEN = re.compile(
    rf"(?P<s>{_STRING})(?P<sc>{_CASTS})"
    rf"|\((?P<p>-?{_NUM}|{_STRING})\)(?P<pc>{_CASTS})"
    rf"|(?P<n>{_NUM})(?P<nc>{_CASTS})"
    rf"|{_IDENT}|.",
    re.DOTALL,
)
_CAST_NAME = re.compile(rf"::({_TYPE})")
_NUMERIC_TYPES = re.compile(
    r"(?:smallint|integer|bigint|int[248]?|numeric|decimal|real|double precision|float[48])"
    r"(?:\(\d+(?:,\s*\d+)?\))?"
)
_TEXT_TYPES = re.compile(r"(?:text|character varying|varchar|bpchar|character)(?:\(\d+\))?")
_SIGNED_NUM = re.compile(rf"-?{_NUM}")
_BYTEA_HEX = re.compile(r"\\x((?:[0-9a-fA-F]{2})*)")
_NULL_CAST = re.compile(rf"NULL{_CASTS}", re.IGNORECASE)


def _casts(text: str) -> list[str]:
    return [m.group(1).lower() for m in _CAST_NAME.finditer(text)]


def _string_value(literal: str) -> str:
    return literal[1:-1].replace("''", "'")


def _literal(literal: str, casts: list[str], *, defaults: bool) -> str | None:
    """A literal with ``casts`` on it, without them; ``None`` when they must stay."""
    numeric = bool(casts) and all(_NUMERIC_TYPES.fullmatch(t) for t in casts)
    if not literal.startswith("'"):  # a number
        return literal if numeric else None
    value = _string_value(literal)
    if numeric and _SIGNED_NUM.fullmatch(value):
        return value
    if numeric or all(_TEXT_TYPES.fullmatch(t) for t in casts):
        return literal
    if defaults and casts == ["bytea"]:
        match = _BYTEA_HEX.fullmatch(value)
        if match:
            return f"X'{match.group(1).upper()}'"
    # A cast PostgreSQL wrote on a string is the type it resolved the string to, which it
    # resolves again from the context: the literal alone says the same.
    return literal


def _strip_casts(text: str, *, defaults: bool = False) -> str:
    """One pass of :func:`normalize_expression`."""
    out: list[str] = []
    for match in _TOKEN.finditer(text):
        if match.group("s") is not None:
            casts = _casts(match.group("sc"))
            found = _literal(match.group("s"), casts, defaults=defaults) if casts else None
        elif match.group("p") is not None:
            inner, casts = match.group("p"), _casts(match.group("pc"))
            before = text[match.start() - 1] if match.start() else " "
            if casts:
                found = _literal(inner, casts, defaults=defaults)
            elif inner.startswith("-") and not (before.isalnum() or before in '_$")]'):
                found = inner  # (-1): a negative number, not a function's argument
            else:
                found = None
        elif match.group("n") is not None:
            casts = _casts(match.group("nc"))
            found = _literal(match.group("n"), casts, defaults=defaults) if casts else None
        else:
            found = None
        out.append(match.group(0) if found is None else found)
    return "".join(out)


@lru_cache(maxsize=4096)
def normalize_expression(text: str) -> str:
    """``text`` (an expression as PostgreSQL deparses it) without the casts it writes on
    literals: a string keeps its quotes, a number cast to a numeric type is the bare number
    (``'-3'::integer::bigint`` is ``-3``); the outer parentheses go.

    >>> normalize_expression("(num > (0)::numeric)")
    'num > 0'
    >>> normalize_expression("d > '2024-01-01'::date AND kind <> 'it''s'::text")
    "d > '2024-01-01' AND kind <> 'it''s'"
    >>> normalize_expression("ARRAY[1::bigint, ('-3'::integer)::bigint, abs(-1)]")
    'ARRAY[1, -3, abs(-1)]'
    >>> normalize_expression("(kind || 'x'::text)")
    "kind || 'x'"
    """
    return _unparen(_stripped(text))


def _stripped(text: str, *, defaults: bool = False) -> str:
    found = text.strip()
    if "::" not in found and "(-" not in found:
        return found
    while True:  # ('-3'::integer)::bigint needs two passes
        again = _strip_casts(found, defaults=defaults)
        if again == found:
            return found
        found = again


def _scan(text: str) -> Iterator[tuple[int, str, int]]:
    """(position, character, parenthesis depth before it) of the characters of ``text`` that
    are outside string literals and quoted names."""
    depth = 0
    quote = ""
    for position, char in enumerate(text):
        if quote:
            if char == quote:
                quote = ""  # a doubled quote reopens at once: same result
            continue
        if char in "'\"":
            quote = char
            continue
        yield position, char, depth
        if char in "([":
            depth += 1
        elif char in ")]":
            depth -= 1


def _unparen(text: str) -> str:
    """``text`` without the parentheses around all of it.

    >>> _unparen("((a) AND (b))"), _unparen("(a) AND (b)"), _unparen("('(')")
    ('(a) AND (b)', '(a) AND (b)', "'('")
    """
    found = text.strip()
    while found.startswith("(") and found.endswith(")"):
        closes = [p for p, c, d in _scan(found) if c == ")" and d == 1]
        if not closes or closes[0] != len(found) - 1:
            return found
        found = found[1:-1].strip()
    return found


def _split(text: str, separator: str) -> list[str]:
    """``text`` split at ``separator`` (a word such as ``AND``, or ``,``) where it stands
    outside parentheses, brackets, strings and quoted names."""
    word = separator.isalpha()
    parts: list[str] = []
    start = 0
    size = len(separator)
    for position, _, depth in _scan(text):
        if depth or position < start or text[position : position + size].upper() != separator:
            continue
        if word and not (
            text[position - 1 : position].isspace()
            and text[position + size : position + size + 1].isspace()
        ):
            continue
        parts.append(text[start:position].strip())
        start = position + size
    parts.append(text[start:].strip())
    return parts


_ANY = re.compile(rf"(?P<col>{_IDENT})(?:::{_TYPE})? = ANY \((?P<array>.*)\)", re.DOTALL)
_ARRAY = re.compile(rf"\(?ARRAY\[(?P<items>.*?)\]\)?(?:::{_TYPE})?", re.DOTALL)
_CHOICE = re.compile(rf"{_STRING}|-?\d+|true|false")


def _unquote(name: str) -> str:
    return name[1:-1].replace('""', '"') if name.startswith('"') else name


def _in_list(text: str) -> str | None:
    """``"col" IN (a, b)`` for PostgreSQL's ``col = ANY (ARRAY[a, b])`` of string, integer or
    boolean literals (casts already stripped), else ``None``."""
    match = _ANY.fullmatch(text)
    if match is None:
        return None
    array = _ARRAY.fullmatch(match.group("array").strip())
    if array is None:
        return None
    items = _split(array.group("items"), ",")
    if not all(_CHOICE.fullmatch(item) for item in items):
        return None
    return f"{quote_identifier(_unquote(match.group('col')))} IN ({', '.join(items)})"


@lru_cache(maxsize=4096)
def normalize_check(text: str) -> str:
    """A ``CHECK`` expression (or an index's ``WHERE``) as PostgreSQL deparses it, in the
    package's form where that is unambiguous: casts on literals dropped
    (:func:`normalize_expression`), and ``col = ANY (ARRAY[...])`` of string, integer or boolean
    literals (PostgreSQL's rewrite of ``IN``) back to ``"col" IN (...)``, the column check the
    model stage makes for an ``Enum`` or ``Literal``. When such a list is the first of several
    ``AND`` terms, the rest is one term: ``("col" IN (...)) AND (rest)``, what the model stage
    makes of a choice with a ``check=`` of its own.

    >>> normalize_check("kind = ANY (ARRAY['a'::text, 'b'::text])")
    '"kind" IN (\\'a\\', \\'b\\')'
    >>> normalize_check("(n = ANY (ARRAY[(1)::bigint, ('-3'::integer)::bigint]))")
    '"n" IN (1, -3)'
    >>> normalize_check(
    ...     "vc::text = ANY (ARRAY['a'::character varying, 'b'::character varying]::text[])"
    ... )
    '"vc" IN (\\'a\\', \\'b\\')'
    >>> normalize_check("(\\"order\\" = ANY (ARRAY['x'::text])) AND (length(\\"order\\") > 0 OR"
    ...     " \\"order\\" IS NULL)")
    '("order" IN (\\'x\\')) AND (length("order") > 0 OR "order" IS NULL)'
    >>> normalize_check("num > 0::numeric AND num < 10.5")
    'num > 0 AND num < 10.5'
    >>> normalize_check("kind = 'a'::text")  # IN ('a'), or a check of its own: left as it is
    "kind = 'a'"
    """
    found = normalize_expression(text)
    parts = _split(found, "AND")
    lists = [_in_list(_unparen(part)) for part in parts]
    if len(parts) == 1:
        return lists[0] or found
    if lists[0] is not None:
        rest = " AND ".join(parts[1:])
        return f"({lists[0]}) AND ({_unparen(rest) if len(parts) == 2 else rest})"
    if not any(lists):
        return found
    return " AND ".join(
        part if made is None else f"({made})" for part, made in zip(parts, lists, strict=True)
    )


@lru_cache(maxsize=4096)
def normalize_default(text: str | None) -> str | None:
    """A column's default as ``pg_get_expr`` gives it, in the package's literal form
    (:func:`~hedystia_models.schema.quoting.sql_literal`) when it is a constant: the cast
    dropped (a string keeps its quotes, a number is bare, ``bytea`` is ``X'..'``), ``true`` and
    ``false`` as PostgreSQL writes them, ``NULL`` alone; an expression (``CURRENT_TIMESTAMP``,
    ``now()``, ``nextval(...)``) as PostgreSQL wrote it.

    >>> [normalize_default(d) for d in ("'abc'::text", "'{}'::jsonb", "'2024-01-01'::date")]
    ["'abc'", "'{}'", "'2024-01-01'"]
    >>> [normalize_default(d) for d in ("(-1)", "'-1'::integer", "'1.5'::numeric", "2.5")]
    ['-1', '-1', '1.5', '2.5']
    >>> [normalize_default(d) for d in ("true", "'\\\\x01ab'::bytea", "NULL::text", "'5'::text")]
    ['true', "X'01AB'", 'NULL', "'5'"]
    >>> [normalize_default(d) for d in ("CURRENT_TIMESTAMP", "now()", "'a'::text || 'b'::text")]
    ['CURRENT_TIMESTAMP', 'now()', "'a'::text || 'b'::text"]
    >>> normalize_default("'12:00:00'::time without time zone")
    "'12:00:00'"
    """
    if text is None:
        return None
    written = text.strip()
    if _NULL_CAST.fullmatch(written):
        return "NULL"
    core = _unparen(_stripped(written, defaults=True))
    if core.lower() in ("true", "false"):
        return core.lower()
    if parse_sql_literal(core) is not UNPARSED:
        return core
    return written


# -- names PostgreSQL gives constraints -------------------------------------------------------

_NAMEDATALEN = 64


def _clip(name: bytes, size: int) -> bytes:
    """The first ``size`` bytes of UTF-8 ``name``, cut back to a character boundary."""
    while size > 0 and size < len(name) and (name[size] & 0xC0) == 0x80:
        size -= 1
    return name[:size]


def object_name(table: str, column: str | None, label: str) -> str:
    """PostgreSQL's ``makeObjectName``: ``<table>_<column>_<label>`` cut to fit 63 bytes, the
    longer of the two names shortened first.

    >>> object_name("t", "kind", "check"), object_name("t", None, "check1")
    ('t_kind_check', 't_check1')
    >>> len(object_name("a" * 60, "b" * 10, "check").encode())
    63
    """
    first, second = table.encode(), (column or "").encode()
    available = _NAMEDATALEN - 1 - len(label) - 1 - (1 if column is not None else 0)
    size1, size2 = len(first), len(second)
    while size1 + size2 > available:
        if size1 > size2:
            size1 -= 1
        else:
            size2 -= 1
    name = _clip(first, size1)
    if column is not None:
        name += b"_" + _clip(second, size2)
    return (name + b"_" + label.encode()).decode()


_LABEL = re.compile(r"check\d*\Z")


def _is_default_name(name: str, table: str, column: str | None) -> bool:
    """True when ``name`` is one PostgreSQL gives an unnamed check of ``table`` on ``column``
    (``None``: on several columns or none): ``..._check``, or ``..._check<N>`` when taken."""
    match = _LABEL.search(name)
    return match is not None and name == object_name(table, column, match.group(0))


# -- reading ----------------------------------------------------------------------------------

#: The last column says the table certainly holds no row: a plain heap table whose main fork
#: has no block (a row is a tuple in a block of it; ``TRUNCATE`` gives it an empty file, and
#: ``VACUUM`` cuts off no block holding a row our snapshot sees). ``NULL`` (not known) for a
#: partitioned table (its partitions hold its rows) or one of another access method.
_TABLES = """
SELECT n.oid, n.nspname, c.oid, c.relname, c.relkind, c.relispartition,
       CASE WHEN c.relkind = 'r' AND am.amname = 'heap' THEN pg_relation_size(c.oid) = 0 END
FROM pg_catalog.pg_namespace AS n
LEFT JOIN pg_catalog.pg_class AS c ON c.relnamespace = n.oid AND c.relkind IN ('r', 'p')
LEFT JOIN pg_catalog.pg_am AS am ON am.oid = c.relam
WHERE n.nspname = COALESCE(%s, current_schema())
ORDER BY c.relname COLLATE "C"
"""

#: A default is deparsed without its table (``pg_get_expr(..., 0)``: the same text, as a
#: default cannot name a column, and far cheaper: no relation is opened); a generated column's
#: expression names columns, so it is deparsed with its table.
_COLUMNS = """
SELECT a.attrelid, a.attnum, a.attname, format_type(a.atttypid, a.atttypmod), a.attnotnull,
       a.attidentity, a.attgenerated,
       pg_get_expr(d.adbin, CASE WHEN a.attgenerated = '' THEN 0 ELSE d.adrelid END, true),
       CASE WHEN a.attcollation <> 0 AND a.attcollation <> t.typcollation
            THEN co.collname END
FROM pg_catalog.pg_attribute AS a
JOIN pg_catalog.pg_type AS t ON t.oid = a.atttypid
LEFT JOIN pg_catalog.pg_attrdef AS d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
LEFT JOIN pg_catalog.pg_collation AS co ON co.oid = a.attcollation
WHERE a.attrelid = ANY(%s::oid[]) AND a.attnum > 0 AND NOT a.attisdropped
ORDER BY a.attrelid, a.attnum
"""

_CONSTRAINTS = """
SELECT c.conrelid, c.conname, c.contype, c.conkey,
       CASE WHEN c.contype = 'f' THEN
         ARRAY(SELECT a.attname FROM unnest(c.confkey) WITH ORDINALITY AS k(num, pos)
               JOIN pg_catalog.pg_attribute AS a ON a.attrelid = c.confrelid AND a.attnum = k.num
               ORDER BY k.pos) END,
       f.relname, c.confdeltype, c.confupdtype, c.condeferrable, c.condeferred,
       CASE WHEN c.contype = 'c' THEN pg_get_expr(c.conbin, c.conrelid, true) END
FROM pg_catalog.pg_constraint AS c
LEFT JOIN pg_catalog.pg_class AS f ON f.oid = c.confrelid
WHERE c.conrelid = ANY(%s::oid[]) AND c.contype IN ('p', 'u', 'f', 'c', 'x')
ORDER BY c.conrelid, c.oid
"""

_INDEXES = """
SELECT i.indrelid, x.relname, i.indisunique, (i.indkey::int2[])[0:i.indnkeyatts - 1],
       CASE WHEN 0 = ANY(i.indkey::int2[]) THEN
         ARRAY(SELECT pg_get_indexdef(i.indexrelid, k, true)
               FROM generate_series(1, i.indnkeyatts) AS k ORDER BY k) END,
       pg_get_expr(i.indpred, i.indrelid, true), pg_get_indexdef(i.indexrelid),
       i.indnatts > i.indnkeyatts
FROM pg_catalog.pg_index AS i
JOIN pg_catalog.pg_class AS x ON x.oid = i.indexrelid
WHERE i.indrelid = ANY(%s::oid[])
  AND NOT EXISTS (SELECT 1 FROM pg_catalog.pg_constraint AS c
                  WHERE c.conindid = i.indexrelid AND c.conrelid = i.indrelid
                  AND c.contype IN ('p', 'u', 'x'))
ORDER BY i.indrelid, x.relname COLLATE "C"
"""

_DEPENDENTS = """
SELECT kind, name, tbl, relkind, sql FROM (
  SELECT 'view', c.relname, c.relname, c.relkind::text, pg_get_viewdef(c.oid, true)
  FROM pg_catalog.pg_class AS c
  WHERE c.relnamespace = %(ns)s AND c.relkind IN ('v', 'm')
  UNION ALL
  SELECT 'trigger', t.tgname, c.relname, '', pg_get_triggerdef(t.oid, true)
  FROM pg_catalog.pg_trigger AS t
  JOIN pg_catalog.pg_class AS c ON c.oid = t.tgrelid
  WHERE c.relnamespace = %(ns)s AND NOT t.tgisinternal
) AS d(kind, name, tbl, relkind, sql)
ORDER BY kind DESC, tbl COLLATE "C", name COLLATE "C"
"""

#: Every catalog row that says what a table, column, default, constraint, index, trigger or view
#: of the schema is, as a line of text; the lines' hashes summed (in no order: no sort). A
#: default, constraint or index cannot change without getting a new oid (PostgreSQL drops and
#: makes it again), except for what the line holds besides (its name, ``DEFERRABLE``, ...).
_FINGERPRINT = """
WITH rel AS (
  SELECT c.oid, c.relname, c.relkind FROM pg_catalog.pg_class AS c
  JOIN pg_catalog.pg_namespace AS n ON n.oid = c.relnamespace
  WHERE n.nspname = COALESCE(%(schema)s, current_schema()) AND c.relkind IN ('r', 'p', 'v', 'm')
),
lines(line) AS (
  SELECT concat_ws(' ', 'r', oid, relname, relkind) FROM rel
  UNION ALL
  SELECT concat_ws(' ', 'n', oid) FROM pg_catalog.pg_namespace
  WHERE nspname = COALESCE(%(schema)s, current_schema())
  UNION ALL
  SELECT concat_ws(' ', 'a', a.attrelid, a.attnum, a.attname, a.atttypid, a.atttypmod,
                   a.attnotnull, a.attidentity, a.attgenerated, a.attcollation, d.oid)
  FROM rel JOIN pg_catalog.pg_attribute AS a ON a.attrelid = rel.oid
  LEFT JOIN pg_catalog.pg_attrdef AS d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
  WHERE a.attnum > 0 AND NOT a.attisdropped
  UNION ALL
  SELECT concat_ws(' ', 'c', c.oid, c.conname, c.condeferrable, c.condeferred, c.convalidated)
  FROM rel JOIN pg_catalog.pg_constraint AS c ON c.conrelid = rel.oid
  UNION ALL
  SELECT concat_ws(' ', 'i', i.indexrelid, x.relname)
  FROM rel JOIN pg_catalog.pg_index AS i ON i.indrelid = rel.oid
  JOIN pg_catalog.pg_class AS x ON x.oid = i.indexrelid
  UNION ALL
  SELECT concat_ws(' ', 't', t.oid, t.tgname, t.tgtype, t.tgfoid, t.tgenabled, t.tgattr::text,
                   encode(t.tgargs, 'hex'), t.tgqual::text)
  FROM rel JOIN pg_catalog.pg_trigger AS t ON t.tgrelid = rel.oid WHERE NOT t.tgisinternal
  UNION ALL
  SELECT concat_ws(' ', 'v', w.oid, md5(w.ev_action::text))
  FROM rel JOIN pg_catalog.pg_rewrite AS w ON w.ev_class = rel.oid
)
SELECT md5(concat_ws(' ', count(*), sum(hashtextextended(line, 0)::numeric),
                     sum(hashtextextended(line, 1)::numeric)))
FROM lines
"""

#: ``pg_constraint`` action codes.
_ACTIONS = {
    "a": "NO ACTION",
    "r": "RESTRICT",
    "c": "CASCADE",
    "n": "SET NULL",
    "d": "SET DEFAULT",
}


def _rows(conn: psycopg.Connection[Any], sql: str, params: Any) -> list[tuple[Any, ...]]:
    from psycopg.rows import tuple_row

    with conn.cursor(row_factory=tuple_row) as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()


@contextmanager
def _one_snapshot(conn: psycopg.Connection[Any]) -> Iterator[None]:
    """The block's reads in one ``REPEATABLE READ READ ONLY`` transaction when none is open;
    in the caller's transaction otherwise."""
    from psycopg import IsolationLevel
    from psycopg.pq import TransactionStatus

    if conn.info.transaction_status != TransactionStatus.IDLE:
        yield
        return
    level, read_only = conn.isolation_level, conn.read_only
    conn.isolation_level, conn.read_only = IsolationLevel.REPEATABLE_READ, True
    try:
        with conn.transaction():
            yield
    finally:
        conn.isolation_level, conn.read_only = level, read_only


def catalog_fingerprint(conn: psycopg.Connection[Any], schema: str | None = None) -> str:
    """An md5 (hex) of every catalog row that describes the tables and views of ``schema``
    (``None``: ``current_schema()``), in one statement: their oids and names, their columns
    (name, type, type modifier, ``NOT NULL``, identity, generated, collation, default), their
    constraints, indexes and triggers, and the views' rules. Any ``CREATE``, ``ALTER``, ``DROP``
    or rename of one of these changes it; rows written do not."""
    ((found,),) = _rows(conn, _FINGERPRINT, {"schema": schema})
    return str(found)


def fingerprint_number(fingerprint: str) -> int:
    """The first 60 bits of a :func:`catalog_fingerprint`, as :attr:`DatabaseState.
    schema_version` holds it (a non-negative integer below 2**60).

    >>> fingerprint_number("0" * 14 + "1f" + "0" * 16)
    1
    """
    return int(fingerprint[:15], 16)


@dataclass
class _Table:
    """What the statements found for one table, gathered before its spec is made."""

    oid: int
    name: str
    columns: list[tuple[Any, ...]] = field(default_factory=list)
    constraints: list[tuple[Any, ...]] = field(default_factory=list)
    indexes: list[tuple[Any, ...]] = field(default_factory=list)
    triggers: list[str] = field(default_factory=list)
    obstacles: list[str] = field(default_factory=list)


def read_database(
    conn: psycopg.Connection[Any],
    only: Iterable[str] | None = None,
    *,
    schema: str | None = None,
    version: bool = False,
) -> DatabaseState:
    """Read every table of ``schema`` (``None``: the connection's ``current_schema()``), or
    only the tables named in ``only`` (matched as :class:`DatabaseState` matches names), which
    of them hold rows, and every view and trigger of the schema, in one snapshot and six
    statements at most whatever the number of tables (see the module's docstring for what
    each part of a spec is made from). With ``version``, ``schema_version`` is
    :func:`fingerprint_number` of the :func:`catalog_fingerprint` read in the same snapshot
    (one statement more); without it, ``None`` (not known: nothing on PostgreSQL compares
    it). A schema that does not exist reads as an empty database."""
    wanted = None if only is None else {fold_identifier(name) for name in only}
    with _one_snapshot(conn):
        listed = _rows(conn, _TABLES, (schema,))
        if not listed:
            return DatabaseState(tables={}, tables_with_rows=frozenset())
        namespace, schema_name = listed[0][0], listed[0][1]
        tables: dict[int, _Table] = {}
        empty: set[str] = set()
        for _, _, oid, name, kind, partition, no_block in listed:
            if oid is None or name in INTERNAL_TABLES:
                continue
            if wanted is not None and fold_identifier(name) not in wanted:
                continue
            table = tables[oid] = _Table(oid, name)
            if no_block:
                empty.add(name)
            if kind == "p":
                table.obstacles.append("partitioned table")
            if partition:
                table.obstacles.append("partition")
        oids = list(tables)
        for row in _rows(conn, _COLUMNS, (oids,)):
            tables[row[0]].columns.append(row)
        for row in _rows(conn, _CONSTRAINTS, (oids,)):
            tables[row[0]].constraints.append(row)
        for row in _rows(conn, _INDEXES, (oids,)):
            tables[row[0]].indexes.append(row)
        dependents = _dependents(conn, namespace)
        found_version = fingerprint_number(catalog_fingerprint(conn, schema)) if version else None
        by_name = {table.name: table for table in tables.values()}
        for dependent in dependents:
            found = by_name.get(dependent.table)
            if dependent.kind == "trigger" and found is not None:
                found.triggers.append(dependent.sql)
        # EXISTS only where a row may be: a table without a block certainly holds none.
        names = [table.name for table in tables.values() if table.name not in empty]
        with_rows = _with_rows(conn, schema_name, names) if names else frozenset()
    specs: dict[str, TableSpec] = {}
    obstacles: dict[str, tuple[str, ...]] = {}
    made: dict[tuple[Any, ...], ColumnSpec] = {}
    for table in tables.values():
        specs[table.name] = _table_spec(table, made)
        if table.obstacles:
            obstacles[table.name] = tuple(table.obstacles)
    return DatabaseState(
        tables=specs,
        tables_with_rows=with_rows,
        rebuild_obstacles=obstacles,
        dependents=dependents,
        schema_version=found_version,
    )


def _dependents(conn: psycopg.Connection[Any], namespace: int) -> tuple[Dependent, ...]:
    """The views (and materialized views) and the triggers of the schema, as statements that
    make them: ``CREATE VIEW "v" AS ...`` (the view's definition as ``pg_get_viewdef`` gives
    it), ``CREATE TRIGGER ...`` (``pg_get_triggerdef``; the function it runs is not part of
    it)."""
    found: list[Dependent] = []
    for kind, name, table, relkind, sql in _rows(conn, _DEPENDENTS, {"ns": namespace}):
        if kind == "view":
            what = "MATERIALIZED VIEW" if relkind == "m" else "VIEW"
            body = str(sql).strip().rstrip(";").strip()
            sql = f"CREATE {what} {quote_identifier(name)} AS\n{body}"
        found.append(Dependent(kind, name, table, str(sql)))
    return tuple(found)


def _with_rows(conn: psycopg.Connection[Any], schema: str, names: Sequence[str]) -> frozenset[str]:
    """Those of tables ``names`` (of ``schema``) that hold at least one row: one statement,
    whose one value is an array of one ``EXISTS`` per table, in the order of ``names`` (its
    text holds names only, quoted; no value). Each table is locked ``ACCESS SHARE`` until the
    transaction ends, as any read does. :func:`read_database` asks only about the tables its
    first statement did not find empty (no block in the main fork: ``pg_relation_size``)."""
    prefix = quote_identifier(schema) + "."
    terms = ", ".join(f"EXISTS (SELECT 1 FROM {prefix}{quote_identifier(n)})" for n in names)
    ((found,),) = _rows(conn, f"SELECT ARRAY[{terms}]", None)
    return frozenset(name for name, filled in zip(names, found, strict=True) if filled)


def _default_check_owner(name: str, table: str, columns: Sequence[str]) -> str | None:
    """Where an unnamed check of ``table`` on ``columns`` named ``name`` belongs: the column's
    name (a column check), ``""`` (a table check without a name), or ``None`` (a named check)."""
    if len(columns) == 1 and _is_default_name(name, table, columns[0]):
        return columns[0]
    if _is_default_name(name, table, None):
        return ""
    return None


def _table_spec(table: _Table, made: dict[tuple[Any, ...], ColumnSpec] | None = None) -> TableSpec:
    """The spec of one table from the rows read for it. ``made``: the columns made so far by
    the values they were made of; a column of the same values is that one (specs are frozen:
    the same column in many tables, such as their ``id``, is made and checked once)."""
    if made is None:
        made = {}
    name = table.name
    by_number = {row[1]: row[2] for row in table.columns}
    primary: tuple[str, ...] = ()
    unique_columns: set[str] = set()
    unique_together: list[tuple[str, ...]] = []
    references: dict[str, Reference] = {}
    compound: list[ForeignKeySpec] = []
    column_checks: dict[str, list[str]] = {}
    table_checks: list[CheckSpec] = []
    for row in table.constraints:
        _, conname, kind, numbers, other_columns, other_table = row[:6]
        on_delete, on_update, deferrable, deferred, expression = row[6:]
        columns = tuple(by_number[number] for number in numbers or ())
        if kind == "p":
            primary = columns
        elif kind == "u":
            if len(columns) == 1:
                unique_columns.add(columns[0])
            else:
                unique_together.append(columns)
        elif kind == "f":
            actions = (_ACTIONS[on_delete], _ACTIONS[on_update])
            later = bool(deferrable and deferred)
            if len(columns) == 1:
                references[columns[0]] = Reference(
                    other_table, other_columns[0], *actions, deferrable=later
                )
            else:
                compound.append(
                    ForeignKeySpec(columns, other_table, tuple(other_columns), *actions, later)
                )
        elif kind == "c":
            text = normalize_check(expression)
            owner = _default_check_owner(conname, name, columns)
            if owner:
                column_checks.setdefault(owner, []).append(text)
            else:
                table_checks.append(CheckSpec(text, conname if owner is None else None))
        else:
            table.obstacles.append(f"exclusion constraint {conname}")

    indexes: list[IndexSpec] = []
    unique_indexes: list[IndexSpec] = []
    for _, index_name, unique, numbers, expressions, where, sql, included in table.indexes:
        keys: list[IndexKey] = [
            by_number[number] if number else IndexExpression(normalize_expression(expressions[k]))
            for k, number in enumerate(numbers)
        ]
        found = IndexSpec(
            name=index_name,
            columns=tuple(keys),
            unique=bool(unique),
            where=None if where is None else normalize_check(where),
            sql=sql,
        )
        if included:
            table.obstacles.append(f"index {index_name} INCLUDE columns")
        if found.unique and len(keys) == 1 and not found.has_expressions and not found.where:
            # A single-column unique index is how a UNIQUE column is added to an existing
            # table; it reads back as the column's `unique` flag (as on SQLite).
            unique_columns.add(found.column_names[0])
            unique_indexes.append(found)
            continue
        indexes.append(found)

    single_key = len(primary) == 1
    specs = []
    for _, _, column, sql_type, not_null, identity, generated, default, collation in table.columns:
        is_pk = column in primary
        default_sql = normalize_default(default)
        serial = default_sql is not None and default_sql.startswith("nextval(")
        auto = bool(identity) or serial
        if auto and single_key and is_pk:
            default_sql = None
        elif identity:
            table.obstacles.append(f"identity column {column}")
            auto = False
        else:
            auto = False
        if generated:
            table.obstacles.append(f"generated column {column}")
            default_sql = None  # the expression is the column's, not a default
        collate = None
        if collation is not None:
            if re.fullmatch(r"\w+", collation) and collation != "default":
                collate = collation
            else:
                table.obstacles.append(f"collation {collation} of column {column}")
        own = column_checks.get(column, [])
        values = (
            column,
            sql_type,
            is_pk,
            auto,
            bool(not_null),
            column in unique_columns and not (is_pk and single_key),
            default_sql,
            " AND ".join(f"({c})" for c in own) if len(own) > 1 else next(iter(own), None),
            references.get(column),
            collate,
        )
        found_column = made.get(values)
        if found_column is None:
            found_column = made[values] = ColumnSpec(*values)
        specs.append(found_column)
    return TableSpec(
        name=name,
        columns=tuple(specs),
        indexes=tuple(indexes),
        checks=tuple(table_checks),
        foreign_keys=tuple(compound),
        unique_together=tuple(unique_together),
        triggers=tuple(table.triggers),
        unique_indexes=tuple(unique_indexes),
    )
