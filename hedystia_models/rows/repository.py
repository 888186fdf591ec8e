"""Typed repositories: writes validated by the Pydantic model, reads returned as instances.

``db.table(User)`` (or ``db.users`` / ``db["users"]``) gives a :class:`Repository`. This module
holds its calls: the SQL statements, their transactions, generated keys, and SQLite's refusals
(a constraint, a value it cannot bind) turned into :class:`~hedystia_models.errors.RowError`.
Rows are validated and converted by the table's :class:`~hedystia_models.rows.codec.RowCodec`;
``where`` / ``order_by`` / ``limit`` are compiled by :mod:`hedystia_models.rows.where` (whose
:func:`compile_where` and :data:`OPERATORS` are importable from here too).
"""

from __future__ import annotations

import functools
import os
import sqlite3
import threading
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any, Generic, Literal, TypeVar, overload

import pydantic

from ..engine.sqlite.constraints import ConstraintNames, Matched, Written
from ..engine.sqlite.transaction import block_savepoint
from ..errors import Problem, QueryError, RowError
from ..model.table import Table, table_info
from ..schema.quoting import UNPARSED, fold_identifier, parse_sql_literal
from ..schema.quoting import quote_identifier as q
from .aggregates import Aggregate, Fields, Group
from .aggregates import aggregate as _aggregate
from .aggregates import group_by as _group_by
from .cache import TableCache, cached_read, invalidates
from .codec import INT64_MAX, RowCodec, fewer_collections, problem_lines
from .loading import With
from .projection import Partial, Select, refuse_with, select_rows
from .refresh import refreshed_values
from .relations import Relations
from .upserts import conflict_target, instance_key, upsert_row, upsert_written
from .upserts import save as _save
from .where import (
    OPERATORS,
    OrderBy,
    Where,
    check_write_where,
    compile_order_by,
    compile_page,
    compile_where,
    key_condition,
    statement_limits,
)

if TYPE_CHECKING:
    from ..database import Database

__all__ = ["OPERATORS", "Repository", "compile_where"]

M = TypeVar("M", bound=Table)

#: ``delete``'s arguments when not given (``where=None`` is a given value, and refused).
_NOT_GIVEN: Any = object()

#: What sqlite3 raises for a value it cannot bind (see :func:`~.codec.unbindable`).
_BIND_ERRORS = (OverflowError, UnicodeEncodeError)

#: (row index, field, stored value) triples, listing what a statement was writing.
Cells = Iterable[tuple[int | None, str, Any]]

#: Rows validated, encoded and written at a time by ``insert_many(..., returning=False)``.
CHUNK = 1_000

#: How many times this process is a forked child of the one that imported this module: a
#: repository keeps each thread's connection with this count (:meth:`Repository._statements`),
#: and asks the database again after a fork (a connection must not cross one).
_forks = 0


def _forked() -> None:
    global _forks
    _forks += 1


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_forked)


class Repository(Generic[M]):
    """Validated access to one table. Get one with ``db.table(Model)``."""

    def __init__(self, db: Database, model: type[M]) -> None:
        self.db = db
        self.model = model
        self.info = table_info(model)
        self.codec: RowCodec[M] = RowCodec(self.info)
        self._table = q(self.info.name)
        self._columns = [m.column for m in self.info.fields]
        # A column whose DEFAULT is an SQL expression (Field(sql_default=...)) takes it when the
        # row says None: the expression is the model's own SQL, as in its DDL.
        self._marks = {
            c.name: f"coalesce(?, ({c.default_sql}))"
            for c in self.info.spec.columns
            if c.default_sql is not None and parse_sql_literal(c.default_sql) is UNPARSED
        }
        self._select = ", ".join(q(c) for c in self._columns)
        pk = self.info.spec.primary_key
        self._pk_columns = pk
        self._pk_fields = tuple(
            next(m.field for m in self.info.fields if m.column == column) for column in pk
        )
        rowid_alias = len(pk) == 1 and self.info.spec.column(pk[0]).type == "INTEGER"
        self._rowid_index = self._columns.index(pk[0]) if rowid_alias else None
        # SQLite's three names for the rowid; a column of that name hides it, so use one that
        # no column takes.
        taken = {fold_identifier(c) for c in self._columns}
        self._rowid = next((n for n in ("rowid", "_rowid_", "oid") if n not in taken), "rowid")
        # The statements of every insert, built once.
        self._insert_all = self._insert_sql(self._columns)
        #: Without the generated key (when the table has one: ``_rowid_index``).
        self._keyless_sql = (
            ""
            if self._rowid_index is None
            else self._insert_sql(self._columns_without(self._rowid_index))
        )
        self._select_rowid = f"SELECT {self._select} FROM {self._table} WHERE {self._rowid} = ?"
        # A missing generated key may be bound as NULL (SQLite then chooses it, as when the
        # column is left out) unless the key column has a DEFAULT, which leaving it out takes.
        self._null_key = (
            self._rowid_index is None or self.info.spec.column(pk[0]).default_sql is None
        )
        #: Names the fields of a constraint SQLite refused.
        self._constraints = ConstraintNames(self.info, db)
        #: This table's read cache (rows/cache.py), ``None`` when its reads are not cached.
        read_cache = db._read_cache
        self._cache: TableCache | None = (
            None if read_cache is None else read_cache.table(self.info.name)
        )
        #: This table's relations in its database, by name (``docs/relations.md``).
        self.relations = Relations(db, model)
        self.codec.relations = self.relations
        #: Each thread's connection and insert's cursor of it (:meth:`_statements`).
        self._kept = threading.local()

    # -- helpers ------------------------------------------------------------------------------

    @contextmanager
    def _write_errors(
        self,
        action: str,
        outcome: str,
        cells: Callable[[], Cells],
        written: Callable[[], Written] = dict,
        matched: Matched | None = None,
    ) -> Iterator[None]:
        """Turn SQLite's refusals of one statement into a :class:`RowError`: a constraint it
        breaks (named by :meth:`_constraint_problems`, from what was ``written`` and the rows
        ``matched``), or a value sqlite3 cannot bind (``cells`` lists what was being written).

        Put it around the statement's transaction: a deferred foreign key fails at ``COMMIT``.
        """
        try:
            yield
        except sqlite3.IntegrityError as exc:
            raise self._refused(exc, action, outcome, written(), matched) from exc
        except _BIND_ERRORS as exc:
            raise self.codec.unbindable_error(cells(), exc) from exc

    def _refused(
        self,
        exc: sqlite3.IntegrityError,
        action: str,
        outcome: str,
        written: Written,
        matched: Matched | None = None,
    ) -> RowError:
        """The :class:`RowError` of a constraint SQLite refused a statement for."""
        problems = self._constraints.problems(exc, None, written, matched)
        return RowError(
            f"table {self.info.name!r}: {action} violates a constraint, nothing was "
            f"{outcome}:\n{problem_lines(problems)}",
            problems,
        )

    def _insert_sql(self, columns: Sequence[str]) -> str:
        if not columns:  # a table whose only column is the generated key
            return f"INSERT INTO {self._table} DEFAULT VALUES"
        names = ", ".join(q(c) for c in columns)
        marks = ", ".join(self._marks.get(c, "?") for c in columns)
        return f"INSERT INTO {self._table} ({names}) VALUES ({marks})"

    # -- writes -------------------------------------------------------------------------------

    def insert(self, row: M | Mapping[str, Any]) -> M:
        """Validate and insert one row; return it as stored (generated key and SQL defaults
        filled in). Raises :class:`RowError` when the row is invalid or breaks a constraint."""
        # Called row by row, so written out in one function: what @invalidates does, and, in
        # a transaction block of the calling thread, what a db.transaction() block nested in
        # it does (see _Transaction in database.py): its savepoint, named by its depth, the
        # thread's depth for the while, and SQLite's failures of the file or the connection
        # named as Database._guard names them. A stored row the model rejects is rolled back
        # to the savepoint, and the transaction goes on.
        db = self.db
        cache = db._read_cache
        if cache is not None:
            cache.written(self.info.name)
        try:
            codec = self.codec
            values = codec.encode_one(codec.validate_one(row))
            # The transaction inside the error handling: a deferred foreign key fails at
            # COMMIT.
            try:
                local = db._local
                depth = getattr(local, "depth", 0)
                if depth:
                    conn, cursor = self._statements()
                    try:
                        in_transaction = conn.in_transaction
                    except sqlite3.ProgrammingError:  # closed: the database names it
                        conn, cursor = self._statements(again=True)
                        in_transaction = conn.in_transaction
                    if in_transaction:
                        depth += 1
                        savepoint, release, _ = block_savepoint(depth)
                        try:
                            cursor.execute(savepoint)
                        except Exception as exc:
                            named = db._named(exc)
                            if named is None:
                                raise
                            raise named from exc
                        local.depth = depth
                        try:
                            loaded = codec.load_one(self._write_row(cursor, values), written=True)
                            cursor.execute(release)
                        except BaseException as exc:
                            db._end_block(conn, depth, exc)
                            raise
                        local.depth = depth - 1
                        return loaded
                block = db._write()
                with block:
                    conn, cursor = self._statements()
                    # (the block's connection is the thread's: the test costs nothing)
                    target = cursor if conn is block.conn else block.conn
                    # Inside the transaction: a stored row the model rejects is not kept.
                    return codec.load_one(self._write_row(target, values), written=True)
            except sqlite3.IntegrityError as exc:
                written = dict(zip(self._columns, values, strict=True))
                raise self._refused(exc, "row", "written", written) from exc
            except _BIND_ERRORS as exc:
                fields = codec.fields
                cells = ((None, f, v) for f, v in zip(fields, values, strict=True))
                raise codec.unbindable_error(cells, exc) from exc
        finally:
            if cache is not None and not db.in_transaction:
                cache.flush()

    def _statements(self, *, again: bool = False) -> tuple[sqlite3.Connection, sqlite3.Cursor]:
        """The calling thread's connection (:attr:`Database.conn
        <hedystia_models.database.Database.conn>`), and a cursor of it that ``insert`` runs
        its statements with, kept for the thread (``conn.execute`` would make one for each
        statement): asked of the database again in a forked child, and when ``again`` (the
        connection kept is closed: the database raises its named error)."""
        kept = getattr(self._kept, "statements", None)
        if kept is not None and kept[0] == _forks and not again:
            statements: tuple[sqlite3.Connection, sqlite3.Cursor] = kept[1]
            return statements
        conn = self.db.conn  # a DatabaseFileError once the database is closed
        cursor = conn.cursor()
        cursor.row_factory = None  # tuples, whatever the connection's factory is
        self._kept.statements = (_forks, (conn, cursor))
        return conn, cursor

    def _write_row(self, conn: sqlite3.Connection | sqlite3.Cursor, values: list[Any]) -> Any:
        """Insert one row of stored ``values`` (in column order), on a connection or a cursor
        of it; the row as stored, read back by its rowid."""
        pk_index = self._rowid_index
        if pk_index is None:
            rowid = conn.execute(self._insert_all, values).lastrowid
        elif values[pk_index] is None:  # SQLite chooses the key: see _insert_row
            keyless = values[:pk_index] + values[pk_index + 1 :]
            rowid = conn.execute(self._keyless_sql, keyless).lastrowid
        else:
            conn.execute(self._insert_all, values)
            rowid = values[pk_index]
        return conn.execute(self._select_rowid, (rowid,)).fetchone()

    @overload
    def insert_many(
        self, rows: Iterable[M | Mapping[str, Any]], *, returning: Literal[True] = True
    ) -> list[M]: ...

    @overload
    def insert_many(
        self, rows: Iterable[M | Mapping[str, Any]], *, returning: Literal[False]
    ) -> int: ...

    @overload
    def insert_many(
        self, rows: Iterable[M | Mapping[str, Any]], *, returning: bool
    ) -> list[M] | int: ...

    @invalidates
    def insert_many(
        self, rows: Iterable[M | Mapping[str, Any]], *, returning: bool = True
    ) -> list[M] | int:
        """Validate every row, then insert all of them in one transaction; return them as
        instances (the generated keys filled in), or with ``returning=False`` how many there
        were, which needs far less time and memory (no instances are made, and the rows are
        validated, encoded and written a chunk at a time).

        If any row is invalid, one :class:`RowError` lists each bad row's index, field and
        message, and nothing is written. A constraint failure rolls the whole batch back and
        the error names the offending row's index.
        """
        if isinstance(rows, (str, bytes, Mapping, pydantic.BaseModel)) or not isinstance(
            rows, Iterable
        ):
            message = f"insert_many takes an iterable of rows (got {type(rows).__name__})"
            if isinstance(rows, (Mapping, pydantic.BaseModel)):
                message += "; use insert() for one row"
            raise RowError(f"table {self.info.name!r}: {message}", [(None, None, message)])
        if not isinstance(returning, bool):
            raise TypeError(f"returning must be True or False (got {returning!r})")
        batch = rows if isinstance(rows, list) else list(rows)
        if returning or not self.codec.plain or not self._null_key:
            objects = self._insert_objects(batch)
            return objects if returning else len(objects)
        return self._insert_counting(batch)

    def _insert_objects(self, rows: list[Any]) -> list[M]:
        """``insert_many(rows)``: every row validated into an instance, then written."""
        objects = self.codec.validate(rows)
        if not objects:
            return []
        pk_index = self._rowid_index
        columns = self.codec.encode_columns(objects)
        missing = 0 if pk_index is None else columns[pk_index].count(None)
        try:
            with self.db.transaction():
                if pk_index is None or missing == 0:
                    self.db.conn.executemany(self._insert_all, self.codec.rows(columns))
                    if pk_index is not None:
                        self._keys_given()
                    return objects
                keys: Sequence[int | None] = (
                    self._insert_generating_keys(columns, pk_index)
                    if missing == len(objects)
                    else None
                ) or [self._insert_row(row, pk_index) for row in self.codec.rows(columns)]
        except sqlite3.IntegrityError as exc:
            raise self._constraint_error(list(self.codec.rows(columns)), exc) from exc
        except _BIND_ERRORS as exc:
            raise self.codec.unbindable_error(self._cells(columns), exc) from exc
        field = self._pk_fields[0]
        for obj, key in zip(objects, keys, strict=True):
            obj.__dict__[field] = key
        return objects

    def _cells(self, columns: list[list[Any]], offset: int = 0) -> Cells:
        """The (row index, field, stored value) of each value of ``columns``."""
        fields = self.codec.fields
        return (
            (index, field, value)
            for index, row in enumerate(self.codec.rows(columns), offset)
            for field, value in zip(fields, row, strict=True)
        )

    def _insert_counting(self, rows: list[Any]) -> int:
        """``insert_many(rows, returning=False)``: the rows validated to plain values (no
        instances), encoded and written :data:`CHUNK` at a time, in one transaction.

        What the call does, and the error it raises, are those of validating every row, then
        encoding every row, then writing them: a chunk that fails to validate or encode is
        the error of all the rows from it on (none before it failed), and a chunk that fails
        to be written is first checked against the rows after it, whose invalid values would
        have been found before anything was written."""
        codec = self.codec
        size = len(rows)
        db = self.db
        try:
            # Each chunk's values die with it, freed as they go, but while they live they
            # count as new objects: without this, young collections would keep moving them
            # to older generations and set off full collections.
            with fewer_collections(size), db.transaction():
                conn = db.conn
                for start in range(0, size, CHUNK):
                    stop = min(start + CHUNK, size)
                    values = codec.validate_plain(rows, start, stop)
                    try:
                        columns = codec.encode_values(values, offset=start)
                    except RowError:
                        later = self._encoded_rest(rows, stop, check_only=True)
                        codec.encode_values([*values, *later], offset=start)  # raises
                        raise  # pragma: no cover - the values that failed are among them
                    self._write_chunk(conn, rows, columns, start, stop)
        except sqlite3.IntegrityError as exc:  # a deferred foreign key, at COMMIT
            objects = codec.validate(rows)
            encoded = list(codec.rows(codec.encode_columns(objects)))
            raise self._constraint_error(encoded, exc) from exc
        return size

    def _encoded_rest(self, rows: list[Any], start: int, check_only: bool = False) -> list[Any]:
        """The rows from ``start`` on, validated (raising their :class:`RowError`): their
        values by field, or (without ``check_only``) their stored columns."""
        rest = [obj.__dict__ for obj in self.codec.validate(rows[start:], offset=start)]
        if check_only or not rest:
            return rest
        return self.codec.encode_values(rest, offset=start)

    def _write_chunk(
        self,
        conn: sqlite3.Connection,
        rows: list[Any],
        columns: list[list[Any]],
        start: int,
        stop: int,
    ) -> None:
        """Write the encoded rows ``start`` to ``stop`` of ``rows`` (in a savepoint, so that
        when SQLite refuses one, the chunk can be written again row by row to name it)."""
        pk_index = self._rowid_index
        sql, encoded = self._insert_all, self.codec.rows(columns)
        if pk_index is not None and columns[pk_index].count(None) == len(columns[pk_index]):
            # Every key left to SQLite: the statement without the key column.
            sql, encoded = self._keyless_sql, self.codec.rows(columns, skip=pk_index)
        try:
            with self.db.transaction():
                conn.executemany(sql, encoded)
                if pk_index is not None and sql is self._insert_all:
                    self._keys_given()
            return
        except sqlite3.IntegrityError as exc:
            failure: Exception = exc
        except _BIND_ERRORS as exc:
            failure = exc
        # The rows after this chunk would have been validated and encoded before any write.
        later = self._encoded_rest(rows, stop)
        if not isinstance(failure, sqlite3.IntegrityError):
            cells = [*self._cells(columns, start), *(self._cells(later, stop) if later else ())]
            raise self.codec.unbindable_error(cells, failure) from failure
        problems: list[Problem] = [(None, None, str(failure))]
        offender: int | None = None
        for index, row in enumerate(self.codec.rows(columns), start):
            try:
                self._insert_row(row, self._rowid_index)
            except sqlite3.IntegrityError as exc:
                written = dict(zip(self._columns, row, strict=True))
                offender, problems = index, self._constraints.problems(exc, index, written)
                break
        where = f"row {offender}" if offender is not None else "a row"
        raise RowError(
            f"table {self.info.name!r}: {where} violates a constraint, the whole batch was "
            f"rolled back:\n{problem_lines(problems)}",
            problems,
        ) from failure

    def _lock_for_upsert(self) -> None:
        """Keep other writers of the table out until the upsert commits, so that two upserts
        of one row find it or make it once: nothing on SQLite, whose transaction holds the
        write lock of the whole database from ``BEGIN IMMEDIATE`` on."""

    def _keys_given(self) -> None:
        """After rows were written with the keys they were given: nothing on SQLite, which
        gives the next row without one ``max(rowid) + 1`` (PostgreSQL moves its identity
        past them, see engine/postgres/repository.py)."""

    def _columns_without(self, index: int) -> list[str]:
        return [c for i, c in enumerate(self._columns) if i != index]

    def _insert_generating_keys(
        self, columns: list[list[Any]], pk_index: int
    ) -> Sequence[int] | None:
        """Insert rows that all let SQLite choose the key, with one ``executemany``.

        SQLite gives each new row ``max(rowid) + 1`` while the table is below the top of the
        rowid range, and we hold the write lock, so the keys are consecutive. Returns ``None``
        (nothing inserted) when the table is near the top of the range.
        """
        conn = self.db.conn
        (highest,) = conn.execute(f"SELECT max({self._rowid}) FROM {self._table}").fetchone()
        count = len(columns[pk_index])
        if highest is not None and highest > INT64_MAX - count:
            return None
        conn.executemany(self._keyless_sql, self.codec.rows(columns, skip=pk_index))
        (last,) = conn.execute("SELECT last_insert_rowid()").fetchone()
        return range(last - count + 1, last + 1)

    def _insert_row(self, row: Sequence[Any], pk_index: int | None) -> int | None:
        """Insert one encoded row; return the rowid SQLite chose when the key was missing."""
        if pk_index is not None and row[pk_index] is None:
            values = [v for i, v in enumerate(row) if i != pk_index]
            return self.db.conn.execute(self._keyless_sql, values).lastrowid
        self.db.conn.execute(self._insert_all, row)
        return row[pk_index] if pk_index is not None else None

    def _constraint_error(
        self, encoded: Sequence[Sequence[Any]], failure: sqlite3.Error
    ) -> RowError:
        """Name the row that broke a constraint, and the constraint's fields, by replaying the
        batch in a transaction that is always rolled back. A deferred foreign key fails only
        at ``COMMIT``: with every row of the replay written, each row's references are
        looked up, and the first row with a missing parent is the one named."""
        offender: int | None = None
        problems: list[Problem] = [(None, None, str(failure))]

        class _Undo(Exception):
            pass

        try:
            with self.db.transaction():
                for index, row in enumerate(encoded):
                    try:
                        self._insert_row(row, self._rowid_index)
                    except sqlite3.IntegrityError as exc:
                        written = dict(zip(self._columns, row, strict=True))
                        offender = index
                        problems = self._constraints.problems(exc, index, written)
                        break
                else:
                    for index, row in enumerate(encoded):
                        written = dict(zip(self._columns, row, strict=True))
                        missing = self._constraints.missing_parents(index, written)
                        if missing:
                            offender, problems = index, missing
                            break
                raise _Undo
        except _Undo:
            pass
        where = f"row {offender}" if offender is not None else "a row"
        return RowError(
            f"table {self.info.name!r}: {where} violates a constraint, the whole batch was "
            f"rolled back:\n{problem_lines(problems)}",
            problems,
        )

    @invalidates
    def update(self, *, where: Where, data: Mapping[str, Any]) -> list[M]:
        """Set ``data`` (validated against the field types) on every row matching ``where``;
        return the updated rows. ``where={}`` updates every row. ``refresh_on_update``
        fields that ``data`` leaves out are set too (rows/refresh.py)."""
        check_write_where(self.info, where, "update")
        values = self.codec.encode_data(data)
        if not values:
            return self.find(where=where)
        values.update(refreshed_values(self.codec, values))
        condition, params = compile_where(self.info, where, codec=self.codec)
        assignments = ", ".join(f"{q(c)} = ?" for c in values)
        # Each returned row is found again by its primary key, or by its rowid without one.
        if self._pk_columns:
            key_sql = " AND ".join(f"{q(c)} = ?" for c in self._pk_columns)
            key_at = [1 + self._columns.index(c) for c in self._pk_columns]
            returning = f"NULL, {self._select}"
        else:
            key_sql, key_at, returning = f"{self._rowid} = ?", [0], f"{self._rowid}, {self._select}"
        sql = f"UPDATE {self._table} SET {assignments} WHERE {condition} RETURNING {returning}"
        by_column = {m.column: m for m in self.info.fields}
        with (
            statement_limits(self.info, "update", [*values.values(), *params]),
            self._write_errors(
                "update",
                "written",
                lambda: ((None, by_column[c].field, v) for c, v in values.items()),
                lambda: values,
                (condition, params),
            ),
            self.db.transaction(),
        ):
            rows = self.db.conn.execute(sql, [*values.values(), *params]).fetchall()
            updated = self.codec.load([row[1:] for row in rows], written=True)
            # The values were checked against the field types only; the model's validators
            # ran on the rows read back and may have normalised them (a lower-cased email):
            # store what the returned rows hold.
            refresh = f"UPDATE {self._table} SET {assignments} WHERE {key_sql}"
            mappings = [by_column[c] for c in values]
            for row, obj in zip(rows, updated, strict=True):
                stored = [self.codec.encode_value(m, obj.__dict__[m.field]) for m in mappings]
                if stored != list(values.values()):
                    self.db.conn.execute(refresh, [*stored, *(row[i] for i in key_at)])
            return updated

    @overload
    def delete(self, instance: M, /) -> int: ...

    @overload
    def delete(self, *, where: Where) -> int: ...

    @invalidates
    def delete(self, instance: Any = _NOT_GIVEN, *, where: Any = _NOT_GIVEN) -> int:
        """Delete the rows matching ``where``; return how many. ``where={}`` deletes all.
        ``delete(instance)`` deletes the instance's row, found by its primary key: 1, or 0
        when no row has that key (rows/upserts.py)."""
        if (instance is _NOT_GIVEN) == (where is _NOT_GIVEN):
            raise TypeError(
                "delete() takes an instance or where=..., one of them: delete(user) or "
                "delete(where={...})"
            )
        if instance is not _NOT_GIVEN:
            where = instance_key(self, instance, "delete")
        condition, params = compile_where(self.info, where, codec=self.codec, write="delete")
        # A constraint here is a row still referenced by a foreign key.
        matched = (condition, params)
        with (
            statement_limits(self.info, "delete", params),
            self._write_errors("delete", "deleted", lambda: (), matched=matched),
            self.db.transaction(),
        ):
            cursor = self.db.conn.execute(f"DELETE FROM {self._table} WHERE {condition}", params)
        return int(cursor.rowcount)

    @invalidates
    def upsert(
        self, *, where: Where, create: M | Mapping[str, Any], update: Mapping[str, Any]
    ) -> M:
        """Update the first row matching ``where`` with ``update``, or insert ``create`` when
        none matches; return the resulting row. Runs in one transaction; one statement when
        ``where`` names a unique key that ``create`` holds (rows/upserts.py). Both ``create``
        and ``update`` are validated first, whichever of them the row found makes use of."""
        check_write_where(self.info, where, "upsert")
        (obj,) = self.codec.validate([create], batch=False)
        values = self.codec.encode_data(update)
        if values:
            values.update(refreshed_values(self.codec, values))
        (row,) = self.codec.rows(self.codec.encode_columns([obj], batch=False))
        # One INSERT ... ON CONFLICT when where names a unique key (rows/upserts.py).
        target = conflict_target(self, where, dict(zip(self._columns, row, strict=True)))
        written = upsert_written(self, row, target, values) if target is not None else dict
        # Around the transaction: a deferred foreign key is checked when it commits.
        with self._write_errors("upsert", "written", lambda: (), written), self.db.transaction():
            if target is not None:
                stored = upsert_row(self, row, target, where, values)
                if stored is not None:
                    return stored
            self._lock_for_upsert()
            existing = self.find_first(where=where)
            if existing is None:
                return self.insert(create)
            if not self._pk_fields:
                raise QueryError(f"table {self.info.name!r} has no primary key to upsert by")
            key = {field: getattr(existing, field) for field in self._pk_fields}
            updated = self.update(where=key, data=update)
            return updated[0] if updated else existing

    @invalidates
    def truncate(self) -> int:
        """Delete every row; return how many were deleted."""
        return self.delete(where={})

    @invalidates
    def save(self, instance: M) -> M:
        """Store ``instance``: insert it when it has no key value, else insert it or update
        the row with its key (every other field), in one statement; return the row as stored
        (a new instance, the generated key filled in). ``refresh_on_update`` fields take a
        new value when a row is updated. See rows/upserts.py."""
        return _save(self, instance)

    # -- reads --------------------------------------------------------------------------------

    @overload
    def find(
        self,
        where: Where | None = None,
        order_by: OrderBy | None = None,
        limit: int | None = None,
        offset: int | None = None,
        with_: With | None = None,
        *,
        select: None = None,
    ) -> list[M]: ...

    @overload
    def find(
        self,
        where: Where | None = None,
        order_by: OrderBy | None = None,
        limit: int | None = None,
        offset: int | None = None,
        with_: None = None,
        *,
        select: Select,
    ) -> list[Partial[M]]: ...

    @cached_read(unless="select")
    def find(
        self,
        where: Where | None = None,
        order_by: OrderBy | None = None,
        limit: int | None = None,
        offset: int | None = None,
        with_: With | None = None,
        *,
        select: Select | None = None,
    ) -> list[M] | list[Partial[M]]:
        """Rows matching ``where``, as model instances; ``with_`` loads their relations
        (``docs/relations.md``), one query per relation. With ``select`` (field or column
        names), only those fields are read, as partial rows (rows/projection.py)."""
        if select is not None:
            return self._partial_rows(select, with_, where, order_by, limit, offset)
        condition, params = compile_where(self.info, where, codec=self.codec)
        page, page_params = compile_page(self.info, limit, offset)
        loader = None if with_ is None else self.relations.loader(with_)
        sql = f"SELECT {self._select} FROM {self._table} WHERE {condition}"
        sql += compile_order_by(self.info, order_by) + page
        with self.db.connection() as conn, statement_limits(self.info, "find", params):
            rows = conn.execute(sql, [*params, *page_params]).fetchall()
        if loader is not None:
            return loader.load(self.codec, rows)
        return self.codec.load(rows)

    #: @hedystia/db's ``findMany``: the same call as :meth:`find`.
    find_many = find

    @cached_read
    def _partial_rows(
        self,
        select: Select,
        with_: With | None,
        where: Where | None,
        order_by: OrderBy | None,
        limit: int | None,
        offset: int | None,
    ) -> list[Partial[M]]:
        """``find(select=...)``: the selected fields of the matching rows."""
        refuse_with(self.info, with_)
        return select_rows(self.db, self.codec, select, where, order_by, limit, offset)

    @overload
    def find_first(
        self,
        where: Where | None = None,
        order_by: OrderBy | None = None,
        with_: With | None = None,
        *,
        select: None = None,
    ) -> M | None: ...

    @overload
    def find_first(
        self,
        where: Where | None = None,
        order_by: OrderBy | None = None,
        with_: None = None,
        *,
        select: Select,
    ) -> Partial[M] | None: ...

    def find_first(
        self,
        where: Where | None = None,
        order_by: OrderBy | None = None,
        with_: With | None = None,
        *,
        select: Select | None = None,
    ) -> M | Partial[M] | None:
        """The first row matching ``where`` (in ``order_by`` order), or ``None``; with
        ``select``, only those fields of it (as :meth:`find`)."""
        rows: list[M] | list[Partial[M]] = (
            self.find(where=where, order_by=order_by, limit=1, with_=with_)
            if select is None
            else self._partial_rows(select, with_, where, order_by, 1, None)
        )
        return rows[0] if rows else None

    @overload
    def get(self, pk: Any, with_: With | None = None, *, select: None = None) -> M | None: ...

    @overload
    def get(self, pk: Any, with_: None = None, *, select: Select) -> Partial[M] | None: ...

    def get(
        self, pk: Any, with_: With | None = None, *, select: Select | None = None
    ) -> M | Partial[M] | None:
        """The row with primary key ``pk`` (a tuple for a composite key), or ``None``; with
        ``select``, only those fields of it (as :meth:`find`)."""
        lookup = self._get_lookup
        if lookup is not None and with_ is None and select is None and self._cache is None:
            # What find_first(where=...) below runs, its statement compiled once, for a key
            # of the right shape without None (the general path takes any other).
            params = lookup[1](pk)
            if params is not None:
                found = self.db._read_one(lookup[0], params)
                return None if found is None else self.codec.load_one(found)
        if not self._pk_fields:
            raise QueryError(f"table {self.info.name!r} has no primary key")
        values = pk if isinstance(pk, tuple) else (pk,)
        if len(values) != len(self._pk_fields):
            raise QueryError(
                f"table {self.info.name!r}: primary key has {len(self._pk_fields)} column(s), "
                f"got {len(values)} value(s)"
            )
        # "eq" spelt out, so that a dict given as the key is a value, not operators.
        where = {field: {"eq": value} for field, value in zip(self._pk_fields, values, strict=True)}
        if select is not None:
            rows = self._partial_rows(select, with_, where, None, 1, None)
            return rows[0] if rows else None
        return self.find_first(where=where, with_=with_)

    @functools.cached_property
    def _get_lookup(self) -> tuple[str, Callable[[Any], list[Any] | None]] | None:
        """``get``'s statement (``find_first``'s, for a key of values that are not ``None``)
        and the function encoding the key's values for it; ``None`` for a key
        :func:`~.where.key_condition` does not compile."""
        condition = key_condition(self.codec, self._pk_fields)
        if condition is None:
            return None
        sql, encode = condition
        # The first row is taken (fetchone): find_first's LIMIT 1 says nothing more.
        return f"SELECT {self._select} FROM {self._table} WHERE {sql}", encode

    @cached_read
    def count(self, where: Where | None = None) -> int:
        """How many rows match ``where``."""
        condition, params = compile_where(self.info, where, codec=self.codec)
        with self.db.connection() as conn, statement_limits(self.info, "count", params):
            (n,) = conn.execute(
                f"SELECT count(*) FROM {self._table} WHERE {condition}", params
            ).fetchone()
        return int(n)

    @cached_read
    def exists(self, where: Where | None = None) -> bool:
        """True when at least one row matches ``where``."""
        condition, params = compile_where(self.info, where, codec=self.codec)
        with self.db.connection() as conn, statement_limits(self.info, "exists", params):
            (found,) = conn.execute(
                f"SELECT EXISTS (SELECT 1 FROM {self._table} WHERE {condition})", params
            ).fetchone()
        return bool(found)

    # -- aggregates (rows/aggregates.py) ------------------------------------------------------

    def aggregate(
        self,
        *,
        where: Where | None = None,
        sum: Fields = (),
        min: Fields = (),
        max: Fields = (),
        avg: Fields = (),
    ) -> Aggregate:
        """The number of rows matching ``where`` and the ``sum`` / ``min`` / ``max`` /
        ``avg`` of the fields named (one name or a list each), in one statement."""
        return _aggregate(self.db, self.codec, where=where, sum=sum, min=min, max=max, avg=avg)

    def group_by(
        self,
        by: Fields,
        *,
        where: Where | None = None,
        sum: Fields = (),
        min: Fields = (),
        max: Fields = (),
        avg: Fields = (),
        order_by: OrderBy | None = None,
    ) -> list[Group]:
        """One :class:`~hedystia_models.rows.aggregates.Group` per value of the ``by``
        field(s) among the rows matching ``where``: its values, row count and aggregates."""
        return _group_by(
            self.db,
            self.codec,
            by,
            where=where,
            sum=sum,
            min=min,
            max=max,
            avg=avg,
            order_by=order_by,
        )

    def sum(self, field: str, where: Where | None = None) -> Any:
        """The exact sum of ``field`` over the rows matching ``where`` (``None`` over no
        values): an ``int`` for ``int`` and ``bool`` fields, else the field's type."""
        (value,) = self.aggregate(where=where, sum=field).sum.values()
        return value

    def min(self, field: str, where: Where | None = None) -> Any:
        """The least value of ``field`` among the rows matching ``where``, compared as
        ``order_by`` compares (``None`` over no values)."""
        (value,) = self.aggregate(where=where, min=field).min.values()
        return value

    def max(self, field: str, where: Where | None = None) -> Any:
        """The greatest value of ``field`` among the rows matching ``where``, compared as
        ``order_by`` compares (``None`` over no values)."""
        (value,) = self.aggregate(where=where, max=field).max.values()
        return value

    def avg(self, field: str, where: Where | None = None) -> Any:
        """The mean of ``field`` over the rows matching ``where`` (``None`` over no
        values): a ``float``, a ``Decimal`` for ``Decimal`` fields, a ``timedelta`` for
        ``timedelta`` fields."""
        (value,) = self.aggregate(where=where, avg=field).avg.values()
        return value

    def __repr__(self) -> str:
        return f"<Repository {self.info.name} ({self.model.__name__})>"
