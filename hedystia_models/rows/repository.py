"""Typed repositories: writes validated by the Pydantic model, reads returned as instances.

``db.table(User)`` (or ``db.users`` / ``db["users"]``) gives a :class:`Repository`. This module
holds its calls: the SQL statements, their transactions, generated keys, and SQLite's refusals
(a constraint, a value it cannot bind) turned into :class:`~hedystia_models.errors.RowError`.
Rows are validated and converted by the table's :class:`~hedystia_models.rows.codec.RowCodec`;
``where`` / ``order_by`` / ``limit`` are compiled by :mod:`hedystia_models.rows.where` (whose
:func:`compile_where` and :data:`OPERATORS` are importable from here too).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any, Generic, TypeVar

import pydantic

from ..engine.sqlite.constraints import ConstraintNames, Matched, Written
from ..errors import Problem, QueryError, RowError
from ..model.table import Table, table_info
from ..schema.quoting import UNPARSED, fold_identifier, parse_sql_literal
from ..schema.quoting import quote_identifier as q
from .codec import INT64_MAX, RowCodec, problem_lines
from .where import (
    OPERATORS,
    OrderBy,
    Where,
    check_write_where,
    compile_order_by,
    compile_page,
    compile_where,
    statement_limits,
)

if TYPE_CHECKING:
    from ..database import Database

__all__ = ["OPERATORS", "Repository", "compile_where"]

M = TypeVar("M", bound=Table)

#: What sqlite3 raises for a value it cannot bind (see :func:`~.codec.unbindable`).
_BIND_ERRORS = (OverflowError, UnicodeEncodeError)

#: (row index, field, stored value) triples, listing what a statement was writing.
Cells = Iterable[tuple[int | None, str, Any]]


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
        #: Names the fields of a constraint SQLite refused.
        self._constraints = ConstraintNames(self.info, db)

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
            problems = self._constraints.problems(exc, None, written(), matched)
            raise RowError(
                f"table {self.info.name!r}: {action} violates a constraint, nothing was "
                f"{outcome}:\n{problem_lines(problems)}",
                problems,
            ) from exc
        except _BIND_ERRORS as exc:
            raise self.codec.unbindable_error(cells(), exc) from exc

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
        (obj,) = self.codec.validate([row], batch=False)
        (values,) = self.codec.rows(self.codec.encode_columns([obj], batch=False))
        fields = self.codec.fields
        with (
            self._write_errors(
                "row",
                "written",
                lambda: ((None, f, v) for f, v in zip(fields, values, strict=True)),
                lambda: dict(zip(self._columns, values, strict=True)),
            ),
            self.db.transaction(),
        ):
            if self._rowid_index is None:
                cursor = self.db.conn.execute(self._insert_sql(self._columns), values)
                rowid = cursor.lastrowid
            else:
                rowid = self._insert_row(values, self._rowid_index)
            stored = self.db.conn.execute(
                f"SELECT {self._select} FROM {self._table} WHERE {self._rowid} = ?", (rowid,)
            ).fetchone()
            # Inside the transaction: a stored row the model rejects is not kept.
            (inserted,) = self.codec.load([stored], written=True)
            return inserted

    def insert_many(self, rows: Iterable[M | Mapping[str, Any]]) -> list[M]:
        """Validate every row, then insert all of them in one transaction.

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
        objects = self.codec.validate(rows if isinstance(rows, list) else list(rows))
        if not objects:
            return []
        pk_index = self._rowid_index
        columns = self.codec.encode_columns(objects)
        missing = 0 if pk_index is None else columns[pk_index].count(None)
        try:
            with self.db.transaction():
                if pk_index is None or missing == 0:
                    self.db.conn.executemany(
                        self._insert_sql(self._columns), self.codec.rows(columns)
                    )
                    return objects
                keys = (
                    self._insert_generating_keys(columns, pk_index)
                    if missing == len(objects)
                    else None
                ) or [self._insert_row(row, pk_index) for row in self.codec.rows(columns)]
        except sqlite3.IntegrityError as exc:
            raise self._constraint_error(list(self.codec.rows(columns)), exc) from exc
        except _BIND_ERRORS as exc:
            fields = self.codec.fields
            cells = (
                (index, field, value)
                for index, row in enumerate(self.codec.rows(columns))
                for field, value in zip(fields, row, strict=True)
            )
            raise self.codec.unbindable_error(cells, exc) from exc
        field = self._pk_fields[0]
        for obj, key in zip(objects, keys, strict=True):
            obj.__dict__[field] = key
        return objects

    def _columns_without(self, index: int) -> list[str]:
        return [c for i, c in enumerate(self._columns) if i != index]

    def _insert_generating_keys(self, columns: list[list[Any]], pk_index: int) -> range | None:
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
        conn.executemany(
            self._insert_sql(self._columns_without(pk_index)),
            self.codec.rows(columns, skip=pk_index),
        )
        (last,) = conn.execute("SELECT last_insert_rowid()").fetchone()
        return range(last - count + 1, last + 1)

    def _insert_row(self, row: Sequence[Any], pk_index: int | None) -> int | None:
        """Insert one encoded row; return the rowid SQLite chose when the key was missing."""
        if pk_index is not None and row[pk_index] is None:
            values = [v for i, v in enumerate(row) if i != pk_index]
            sql = self._insert_sql(self._columns_without(pk_index))
            return self.db.conn.execute(sql, values).lastrowid
        self.db.conn.execute(self._insert_sql(self._columns), row)
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

    def update(self, *, where: Where, data: Mapping[str, Any]) -> list[M]:
        """Set ``data`` (validated against the field types) on every row matching ``where``;
        return the updated rows. ``where={}`` updates every row."""
        check_write_where(self.info, where, "update")
        values = self.codec.encode_data(data)
        if not values:
            return self.find(where=where)
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

    def delete(self, *, where: Where) -> int:
        """Delete the rows matching ``where``; return how many. ``where={}`` deletes all."""
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

    def upsert(
        self, *, where: Where, create: M | Mapping[str, Any], update: Mapping[str, Any]
    ) -> M:
        """Update the first row matching ``where`` with ``update``, or insert ``create`` when
        none matches; return the resulting row. Runs in one transaction. Both ``create`` and
        ``update`` are validated first, whichever of them the row found makes use of."""
        check_write_where(self.info, where, "upsert")
        self.codec.validate([create], batch=False)
        self.codec.encode_data(update)
        # Around the transaction: a deferred foreign key is checked when it commits.
        with self._write_errors("upsert", "written", lambda: ()), self.db.transaction():
            existing = self.find_first(where=where)
            if existing is None:
                return self.insert(create)
            if not self._pk_fields:
                raise QueryError(f"table {self.info.name!r} has no primary key to upsert by")
            key = {field: getattr(existing, field) for field in self._pk_fields}
            updated = self.update(where=key, data=update)
            return updated[0] if updated else existing

    def truncate(self) -> int:
        """Delete every row; return how many were deleted."""
        return self.delete(where={})

    # -- reads --------------------------------------------------------------------------------

    def find(
        self,
        where: Where | None = None,
        order_by: OrderBy | None = None,
        limit: int | None = None,
        offset: int | None = None,
    ) -> list[M]:
        """Rows matching ``where``, as model instances."""
        condition, params = compile_where(self.info, where, codec=self.codec)
        page, page_params = compile_page(self.info, limit, offset)
        sql = f"SELECT {self._select} FROM {self._table} WHERE {condition}"
        sql += compile_order_by(self.info, order_by) + page
        with self.db.connection() as conn, statement_limits(self.info, "find", params):
            rows = conn.execute(sql, [*params, *page_params]).fetchall()
        return self.codec.load(rows)

    def find_first(self, where: Where | None = None, order_by: OrderBy | None = None) -> M | None:
        """The first row matching ``where`` (in ``order_by`` order), or ``None``."""
        rows = self.find(where=where, order_by=order_by, limit=1)
        return rows[0] if rows else None

    def get(self, pk: Any) -> M | None:
        """The row with primary key ``pk`` (a tuple for a composite key), or ``None``."""
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
        return self.find_first(where=where)

    def count(self, where: Where | None = None) -> int:
        """How many rows match ``where``."""
        condition, params = compile_where(self.info, where, codec=self.codec)
        with self.db.connection() as conn, statement_limits(self.info, "count", params):
            (n,) = conn.execute(
                f"SELECT count(*) FROM {self._table} WHERE {condition}", params
            ).fetchone()
        return int(n)

    def exists(self, where: Where | None = None) -> bool:
        """True when at least one row matches ``where``."""
        condition, params = compile_where(self.info, where, codec=self.codec)
        with self.db.connection() as conn, statement_limits(self.info, "exists", params):
            (found,) = conn.execute(
                f"SELECT EXISTS (SELECT 1 FROM {self._table} WHERE {condition})", params
            ).fetchone()
        return bool(found)

    def __repr__(self) -> str:
        return f"<Repository {self.info.name} ({self.model.__name__})>"
