"""The repository on PostgreSQL: :class:`~hedystia_models.rows.repository.Repository`, with
the few steps that SQLite's rowid does for it done with ``RETURNING`` and the identity.

* A row's stored values come back from its ``INSERT .. RETURNING`` (SQLite reads the row
  back by its rowid); keys generated for a batch come back from one ``executemany`` of
  ``INSERT .. RETURNING <key>`` (SQLite's are consecutive from ``last_insert_rowid()``).
* Rows written with the keys they were given move the identity past the largest key (one
  statement), so that a row written later without one never gets a key already taken: SQLite
  gives it ``max(rowid) + 1``; PostgreSQL's identity does not look at the table.
* A table without a primary key finds a row it updated again by its ``ctid``, in the same
  transaction (SQLite by its rowid).
* Values are encoded as PostgreSQL stores them (:func:`.types.info_for_postgres`).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, TypeVar

from ...model.table import Table
from ...rows.codec import RowCodec
from ...rows.repository import Repository
from ...schema.quoting import quote_identifier as q
from ..sqlite.constraints import ConstraintNames
from .types import info_for_postgres

if TYPE_CHECKING:
    from ...database import Database

__all__ = ["PostgresRepository"]

M = TypeVar("M", bound=Table)


class PostgresRepository(Repository[M]):
    """A :class:`~hedystia_models.rows.repository.Repository` on PostgreSQL (see the
    module)."""

    def __init__(self, db: Database, model: type[M]) -> None:
        super().__init__(db, model)
        self.info = info_for_postgres(self.info)
        self.codec = RowCodec(self.info)
        self.codec.relations = self.relations
        self._constraints = ConstraintNames(self.info, db)
        self._rowid = "ctid"
        self._returning = f" RETURNING {self._select}"
        self._advance = ""
        self._key_returning = ""
        #: Whether this role may move the identity (asked once, on the first explicit key).
        self._may_advance: bool | None = None
        if self._rowid_index is not None:
            key = q(self._columns[self._rowid_index])
            self._key_returning = f" RETURNING {key}"
            # The identity moved past the largest key, when it is behind (never back: a key
            # is never handed out twice).
            self._advance = (
                "SELECT setval(k.s, k.m) FROM (SELECT pg_get_serial_sequence(?, ?) AS s, "
                f"(SELECT max({key}) FROM {self._table}) AS m) AS k "
                "WHERE k.s IS NOT NULL AND k.m IS NOT NULL "
                "AND k.m > coalesce(pg_sequence_last_value(k.s::regclass), 0)"
            )
            self._advance_params = (self._table, self._columns[self._rowid_index])

    def _lock_for_upsert(self) -> None:
        # PostgreSQL locks rows, not the database: an upsert by a where that names no unique
        # key takes the table's SHARE ROW EXCLUSIVE lock (other writers wait, readers do not),
        # as SQLite's write lock would.
        self.db.conn.execute(f"LOCK TABLE {self._table} IN SHARE ROW EXCLUSIVE MODE")

    def _keys_given(self) -> None:
        if not self._advance:
            return
        if self._may_advance is None:
            # setval needs UPDATE on the sequence; a role with only USAGE writes its keys
            # without moving it (a later generated key may then meet one: a RowError).
            (allowed,) = self.db.conn.execute(
                "SELECT coalesce(has_sequence_privilege(pg_get_serial_sequence(?, ?), "
                "'UPDATE'), false)",
                self._advance_params,
            ).fetchone()
            self._may_advance = bool(allowed)
        if self._may_advance:
            self.db.conn.execute(self._advance, self._advance_params)

    def _write_row(self, conn: Any, values: list[Any]) -> Any:
        pk_index = self._rowid_index
        if pk_index is not None and values[pk_index] is None:
            keyless = values[:pk_index] + values[pk_index + 1 :]
            return conn.execute(self._keyless_sql + self._returning, keyless).fetchone()
        row = conn.execute(self._insert_all + self._returning, values).fetchone()
        if pk_index is not None:
            self._keys_given()
        return row

    def _insert_generating_keys(
        self, columns: list[list[Any]], pk_index: int
    ) -> Sequence[int] | None:
        rows = self.db.conn.executemany_returning(  # type: ignore[attr-defined]
            self._keyless_sql + self._key_returning, self.codec.rows(columns, skip=pk_index)
        )
        return [row[0] for row in rows]

    def _insert_row(self, row: Sequence[Any], pk_index: int | None) -> int | None:
        if pk_index is not None and row[pk_index] is None:
            values = [v for i, v in enumerate(row) if i != pk_index]
            found = self.db.conn.execute(self._keyless_sql + self._key_returning, values)
            key: int = found.fetchone()[0]
            return key
        self.db.conn.execute(self._insert_all, row)
        if pk_index is None:
            return None
        self._keys_given()
        given: int = row[pk_index]
        return given
