"""A psycopg connection that speaks the DB-API the row and migration stages speak (sqlite3's).

The engine-neutral stages (repositories, the migration runner and context, the history) run
their statements through ``db.conn``: ``execute``/``executemany`` with ``?`` placeholders,
``fetchone``/``fetchall``, ``rowcount``, ``in_transaction``, ``commit``/``rollback``, and
``sqlite3.IntegrityError`` for a constraint refused. :class:`PostgresConnection` gives them
exactly that over a psycopg connection in autocommit mode (the package opens each transaction
itself, ``BEGIN`` .. ``COMMIT``, as it does on SQLite):

* **placeholders**: ``?`` becomes ``%s`` and ``:name`` (with a mapping of parameters)
  becomes ``%(name)s``, outside string literals, quoted identifiers and comments; a literal
  ``%`` is doubled (:func:`translate`). Values are always bound, never pasted.
* **the row stage's spellings** (:func:`translate` with ``rows=True``, only for the SQL the
  package writes — never for ``db.raw`` or ``ctx.sql``): the few places where the SQL the
  row stage writes for SQLite means something else on PostgreSQL, rewritten token by token:
  ``LIKE ?`` is ``ILIKE ? ESCAPE ''`` (SQLite's ``LIKE`` ignores ASCII case and has no escape
  character), ``IS NOT ?`` is ``IS DISTINCT FROM ?`` (SQLite's ``IS`` compares NULLs),
  ``LIMIT ?`` takes SQLite's ``-1`` ("no limit") as ``NULL``, ``ASC``/``DESC`` sort NULL first
  / last (SQLite's order; PostgreSQL's default is the other way round), and the ``COLLATE`` of
  SQLite's decimal and JSON collations goes (PostgreSQL's ``NUMERIC`` and ``JSONB`` compare as
  values).
* **refusals**: a constraint PostgreSQL refuses is raised as :class:`PostgresIntegrityError`,
  a ``sqlite3.IntegrityError`` whose message is in SQLite's words, made from PostgreSQL's
  diagnostics (``UNIQUE constraint failed: users.email``), so that the row stage names the
  fields of a refused row in the same way on both engines; a value its column refuses (a
  number out of range, text too long for a declared ``VARCHAR(n)``) is an ``OverflowError``,
  as sqlite3 raises for a value it cannot bind.
"""

from __future__ import annotations

import re
import sqlite3
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from functools import lru_cache
from typing import Any

from ...errors import QueryError

__all__ = ["PostgresConnection", "PostgresIntegrityError", "translate"]


class PostgresIntegrityError(sqlite3.IntegrityError):
    """A constraint PostgreSQL refused, in SQLite's words (see the module); ``__cause__`` is
    psycopg's error."""


class PostgresStatementError(sqlite3.OperationalError):
    """A statement psycopg refuses to send (more parameters than PostgreSQL takes), in
    SQLite's words."""


class PostgresDataError(OverflowError):
    """A value PostgreSQL refuses for its column (a number out of its range, text longer than
    a ``VARCHAR(n)`` a ``sql_type`` declared, a character its encoding lacks), as sqlite3's
    ``OverflowError`` for a value it cannot bind: the row stage turns it into a
    :class:`~hedystia_models.errors.RowError`."""


#: SQLite's collations of the row stage, which PostgreSQL's types make needless.
_OUR_COLLATIONS = ("hedystia_decimal", "hedystia_json")

_WORD = re.compile(r"[A-Za-z_][A-Za-z0-9_$]*")


def _continues_word(sql: str, at: int) -> bool:
    """True when ``sql[at]`` continues a word (so an ``E`` before a quote is part of one)."""
    return at >= 0 and (sql[at].isalnum() or sql[at] in "_$")


def _scan(sql: str) -> list[tuple[str, str]]:
    """``sql`` cut into ``(kind, text)`` pieces: ``quoted`` (string literals, quoted
    identifiers, comments, dollar-quoted bodies: left as they are), ``word``, ``mark``
    (``?``), ``name`` (``:name``), ``percent`` and ``other``."""
    pieces: list[tuple[str, str]] = []
    i, n = 0, len(sql)
    while i < n:
        c = sql[i]
        if c in "'\"":
            # E'...' takes backslash escapes (\' is a quote inside it)
            escapes = c == "'" and i > 0 and sql[i - 1] in "eE" and not _continues_word(sql, i - 2)
            j = i + 1
            while j < n:
                if escapes and sql[j] == "\\":
                    j += 2
                    continue
                if sql[j] == c:
                    if j + 1 < n and sql[j + 1] == c:
                        j += 2
                        continue
                    break
                j += 1
            pieces.append(("quoted", sql[i : j + 1]))
            i = j + 1
        elif sql.startswith("--", i):
            j = sql.find("\n", i)
            j = n if j < 0 else j
            pieces.append(("quoted", sql[i:j]))
            i = j
        elif sql.startswith("/*", i):
            # PostgreSQL's block comments nest
            depth, j = 1, i + 2
            while j < n and depth:
                if sql.startswith("/*", j):
                    depth, j = depth + 1, j + 2
                elif sql.startswith("*/", j):
                    depth, j = depth - 1, j + 2
                else:
                    j += 1
            pieces.append(("quoted", sql[i:j]))
            i = j
        elif c == "$" and (m := re.match(r"\$([A-Za-z_][A-Za-z0-9_]*)?\$", sql[i:])):
            tag = m.group(0)
            j = sql.find(tag, i + len(tag))
            j = n if j < 0 else j + len(tag)
            pieces.append(("quoted", sql[i:j]))
            i = j
        elif c == "?":
            pieces.append(("mark", "?"))
            i += 1
        elif c == ":" and i + 1 < n and sql[i + 1] == ":":
            pieces.append(("other", "::"))
            i += 2
        elif c == ":" and (m := _WORD.match(sql, i + 1)):
            pieces.append(("name", m.group(0)))
            i = m.end()
        elif c == "%":
            pieces.append(("percent", "%"))
            i += 1
        elif m := _WORD.match(sql, i):
            pieces.append(("word", m.group(0)))
            i = m.end()
        else:
            pieces.append(("other", c))
            i += 1
    return pieces


@lru_cache(maxsize=4096)
def translate(sql: str, *, named: bool = False, rows: bool = False) -> str:
    """``sql`` with sqlite3's placeholders as psycopg's (``?`` -> ``%s``; with ``named``,
    ``:name`` -> ``%(name)s``) and ``%`` doubled; with ``rows``, the row stage's SQLite
    spellings rewritten as the module says. Kept for the last few thousand statements."""
    pieces = _scan(sql)
    # Each piece's next piece that is not white space (None at the end).
    following: list[int | None] = [None] * len(pieces)
    upcoming: int | None = None
    for index in range(len(pieces) - 1, -1, -1):
        following[index] = upcoming
        if pieces[index][0] != "other" or pieces[index][1].strip():
            upcoming = index

    def after(index: int | None) -> tuple[int | None, tuple[str, str]]:
        found = following[index] if index is not None else None
        return found, pieces[found] if found is not None else ("", "")

    out: list[str] = []
    skip: set[int] = set()
    for index, (kind, text) in enumerate(pieces):
        if index in skip:
            continue
        if kind == "mark":
            out.append("%s")
        elif kind == "name":
            out.append(f"%({text})s" if named else f":{text}")
        elif kind == "percent":
            out.append("%%")
        elif kind == "quoted":
            out.append(text.replace("%", "%%"))  # psycopg reads % everywhere
        elif rows and kind == "word":
            upper = text.upper()
            at, piece = after(index)
            if upper == "LIKE" and piece[0] == "mark" and at is not None:
                out.append("ILIKE %s ESCAPE ''")
                skip.update(range(index + 1, at + 1))
            elif upper == "COLLATE" and piece[0] == "word" and piece[1] in _OUR_COLLATIONS:
                skip.update(range(index + 1, (at or index) + 1))
                if out and out[-1] == " ":
                    out.pop()
            elif upper == "IS" and piece == ("word", "NOT") and after(at)[1][0] == "mark":
                out.append("IS DISTINCT FROM %s")
                skip.update(range(index + 1, (after(at)[0] or index) + 1))
            elif upper in ("ASC", "DESC"):
                # SQLite sorts NULL before every value; PostgreSQL after, unless told.
                out.append(f"{text} NULLS {'FIRST' if upper == 'ASC' else 'LAST'}")
            elif upper == "LIMIT" and piece[0] == "mark" and at is not None:
                out.append("LIMIT NULLIF(%s, -1)")
                skip.update(range(index + 1, at + 1))
            else:
                out.append(text)
        else:
            out.append(text)
    return "".join(out)


def _params(params: Any) -> tuple[Any, bool]:
    """The parameters as psycopg takes them, and whether they are named."""
    if params is None:
        return None, False
    if isinstance(params, Mapping):
        return dict(params), True
    return params if isinstance(params, (list, tuple)) else list(params), False


def key_columns(detail: str | None) -> list[str]:
    """The columns of PostgreSQL's ``Key (a, b)=(...)`` detail."""
    if not detail:
        return []
    match = re.match(r"Key \((.*?)\)=", detail)
    if match is None:
        return []
    return [part.strip().strip('"') for part in match.group(1).split(",")]


def _sqlite_words(exc: Any) -> str:
    """The message SQLite gives for the constraint ``exc`` (psycopg's error) reports."""
    diag = exc.diag
    table = diag.table_name or ""
    sqlstate = exc.sqlstate
    if sqlstate == "23505":  # unique_violation
        columns = key_columns(diag.message_detail)
        listed = ", ".join(f"{table}.{c}" for c in columns) or diag.constraint_name or ""
        return f"UNIQUE constraint failed: {listed}"
    if sqlstate == "23502":  # not_null_violation
        return f"NOT NULL constraint failed: {table}.{diag.column_name}"
    if sqlstate == "23514":  # check_violation
        return f"CHECK constraint failed: {diag.constraint_name}"
    if sqlstate == "23503":  # foreign_key_violation
        return f"FOREIGN KEY constraint failed: {diag.message_detail or ''}".rstrip(": ")
    return str(exc).strip()


class PostgresCursor:
    """A cursor of :class:`PostgresConnection` (sqlite3's cursor interface)."""

    __slots__ = ("_cursor", "_owner", "row_factory")

    def __init__(self, owner: PostgresConnection, cursor: Any) -> None:
        self._owner = owner
        self._cursor = cursor
        self.row_factory: Any = None  # tuples always; kept for sqlite3's interface

    def execute(self, sql: str, params: Any = None) -> PostgresCursor:
        """Run one statement of the row stage (see :func:`translate`)."""
        self._owner._run(self._cursor, sql, params, rows=True)
        return self

    def executemany(self, sql: str, seq: Iterable[Sequence[Any]]) -> PostgresCursor:
        """Run one statement for each parameter sequence of ``seq``."""
        self._owner._run_many(self._cursor, sql, seq)
        return self

    def fetchone(self) -> Any:
        """The next row (``None`` after the last, or for a statement that returns none)."""
        if self._cursor.description is None:
            return None
        return self._cursor.fetchone()

    def fetchall(self) -> list[Any]:
        """The remaining rows (``[]`` for a statement that returns none)."""
        if self._cursor.description is None:
            return []
        rows: list[Any] = self._cursor.fetchall()
        return rows

    def __iter__(self) -> Any:
        return iter(self.fetchall())

    @property
    def description(self) -> Any:
        """The result's columns (``None`` for a statement that returns none)."""
        return self._cursor.description

    @property
    def rowcount(self) -> int:
        """Rows the last statement changed."""
        return int(self._cursor.rowcount)

    @property
    def lastrowid(self) -> None:
        """PostgreSQL has no rowid: the row stage asks for its keys with ``RETURNING``."""
        return None

    def close(self) -> None:
        """Close the cursor."""
        self._cursor.close()


class PostgresConnection:
    """A psycopg connection (in autocommit mode) behind sqlite3's interface; see the module.
    ``raw`` is the psycopg connection itself."""

    def __init__(self, raw: Any) -> None:
        import psycopg

        self.raw = raw
        self._psycopg = psycopg
        self._idle = psycopg.pq.TransactionStatus.IDLE
        #: Rows changed by the statements run here (sqlite3's ``total_changes``).
        self.total_changes = 0
        self._trace: Callable[[str], None] | None = None
        self._cursor = raw.cursor()
        #: Savepoints of ``db.transaction()`` blocks open inside the open transaction.
        self.savepoints = 0

    # -- sqlite3's interface ------------------------------------------------------------------

    @property
    def in_transaction(self) -> bool:
        """True while a transaction is open (or failed and not yet rolled back)."""
        return bool(self.raw.info.transaction_status != self._idle)

    def execute(self, sql: str, params: Any = None) -> PostgresCursor:
        """Run one statement the package wrote (see :func:`translate`, ``rows=True``)."""
        cursor = PostgresCursor(self, self.raw.cursor())
        self._run(cursor._cursor, sql, params, rows=True)
        return cursor

    def execute_as_written(
        self, sql: str, params: Any = None, *, isolated: bool = False
    ) -> PostgresCursor:
        """Run one statement a user wrote (``db.raw``, ``ctx.sql``): placeholders translated,
        nothing else. With ``isolated``, inside a transaction, in a savepoint of its own: when
        it fails, the transaction is as it was before it, and goes on (PostgreSQL otherwise
        refuses every later statement of the transaction, where SQLite runs them)."""
        cursor = PostgresCursor(self, self.raw.cursor())
        if not (isolated and self.in_transaction):
            self._run(cursor._cursor, sql, params, rows=False)
            return cursor
        self._cursor.execute("SAVEPOINT hedystia_statement")
        try:
            self._run(cursor._cursor, sql, params, rows=False)
        except BaseException:
            if self.failed:
                self._cursor.execute("ROLLBACK TO SAVEPOINT hedystia_statement")
            self._cursor.execute("RELEASE SAVEPOINT hedystia_statement")
            raise
        self._cursor.execute("RELEASE SAVEPOINT hedystia_statement")
        return cursor

    @property
    def failed(self) -> bool:
        """True when the open transaction failed (a statement of it did): PostgreSQL runs
        nothing more in it but ``ROLLBACK`` (to a savepoint)."""
        return bool(self.raw.info.transaction_status == self._psycopg.pq.TransactionStatus.INERROR)

    def executemany(self, sql: str, seq: Iterable[Sequence[Any]]) -> PostgresCursor:
        """Run one statement for each parameter sequence of ``seq``."""
        cursor = PostgresCursor(self, self.raw.cursor())
        self._run_many(cursor._cursor, sql, seq)
        return cursor

    def cursor(self) -> PostgresCursor:
        """A new cursor."""
        return PostgresCursor(self, self.raw.cursor())

    def commit(self) -> None:
        """Commit the open transaction (nothing when none is open)."""
        if self.in_transaction:
            self._run(self._cursor, "COMMIT", None, rows=False)

    def rollback(self) -> None:
        """Roll the open transaction back (nothing when none is open)."""
        if self.in_transaction:
            self._run(self._cursor, "ROLLBACK", None, rows=False)

    def set_trace_callback(self, trace: Callable[[str], None] | None) -> None:
        """Call ``trace`` with each statement run (as written), as sqlite3 does."""
        self._trace = trace

    @property
    def trace_callback(self) -> Callable[[str], None] | None:
        """The callback of :meth:`set_trace_callback` (``None``: none)."""
        return self._trace

    def executemany_returning(self, sql: str, seq: Iterable[Sequence[Any]]) -> list[Any]:
        """Run ``sql`` (an ``INSERT .. RETURNING``) for each parameter sequence of ``seq``;
        the first row each returned, in order."""
        cursor = self.raw.cursor()
        if self._trace is not None:
            self._trace(sql)
        with self._refusals():
            cursor.executemany(translate(sql, rows=True), seq, returning=True)
        found = []
        while True:
            found.append(cursor.fetchone())
            if not cursor.nextset():
                break
        self.total_changes += len(found)
        return found

    def create_aggregate(self, name: str, arguments: int, aggregate: Any) -> None:
        """SQLite's Python aggregates have no PostgreSQL counterpart: refused."""
        raise QueryError(
            f"aggregate {name!r} is written in Python for SQLite and does not run on PostgreSQL"
        )

    def close(self) -> None:
        """Close the psycopg connection."""
        self.raw.close()

    @property
    def closed(self) -> bool:
        """True once the psycopg connection is closed."""
        return bool(self.raw.closed)

    # -- running ------------------------------------------------------------------------------

    @contextmanager
    def _refusals(self) -> Iterator[None]:
        """PostgreSQL's refusals of a statement as sqlite3 raises them (see the module)."""
        try:
            yield
        except self._psycopg.errors.IntegrityError as exc:
            raise PostgresIntegrityError(_sqlite_words(exc)) from exc
        except self._psycopg.errors.DataError as exc:
            raise PostgresDataError(str(exc).strip()) from exc
        except self._psycopg.OperationalError as exc:
            if "number of parameters must be between" not in str(exc):
                raise
            # psycopg refuses more than 65,535 parameters before sending: SQLite's words.
            raise PostgresStatementError("too many SQL variables") from exc

    def _run(self, cursor: Any, sql: str, params: Any, *, rows: bool) -> None:
        values, named = _params(params)
        if self._trace is not None:
            self._trace(sql)
        text = translate(sql, named=named, rows=rows) if values is not None else sql
        with self._refusals():
            cursor.execute(text, values)
        if cursor.rowcount > 0 and cursor.description is None:
            self.total_changes += cursor.rowcount

    def _run_many(self, cursor: Any, sql: str, seq: Iterable[Sequence[Any]]) -> None:
        if self._trace is not None:
            self._trace(sql)
        text = translate(sql, rows=True)
        with self._refusals():
            cursor.executemany(text, seq)
        if cursor.rowcount > 0:
            self.total_changes += cursor.rowcount
