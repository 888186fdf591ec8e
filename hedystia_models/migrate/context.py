"""The context handed to a migration's ``up`` and ``down``: ``ctx.schema``, ``ctx.sql``,
``ctx.db``.

Every ``ctx.schema`` method checks its arguments, builds one of the
:mod:`~hedystia_models.migrate.operations` the differ produces, and hands it to the engine's
executor, the same one ``sync`` uses: a migration and a sync change a table with exactly the
same SQL (native ``ALTER TABLE`` where SQLite can, else the one table rebuild).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Mapping, Sequence
from dataclasses import replace
from typing import Any, Protocol

import sqlite_utils
from pydantic.fields import FieldInfo

from ..engine.base import Executor, rows_as_dicts
from ..engine.sqlite import introspect
from ..engine.sqlite.executor import SQLiteExecutor
from ..errors import HedystiaError, MigrationError, OperationError
from ..model.table import Table, column_from_field, table_info
from ..schema.compare import column_changes
from ..schema.quoting import fold_identifier, identifier_problem, quote_identifier, reserved_prefix
from ..schema.spec import ColumnSpec, IndexSpec, TableSpec, index_name
from ..schema.sqltext import created_table, sql_words
from . import converge
from .history import ALREADY_DONE, REPLACED
from .operations import (
    AddColumn,
    AlterColumn,
    CreateIndex,
    CreateTable,
    DropColumn,
    DropIndex,
    DropTable,
    Operation,
    RenameColumn,
    RenameTable,
    Safety,
)
from .verdicts import add_column_verdict

__all__ = ["NO_FILL", "MigrationContext", "SchemaContext", "to_column_spec"]


class _NoFill:
    """Marker: ``add_column`` was given no ``fill`` value."""

    def __repr__(self) -> str:
        return "NO_FILL"


NO_FILL: Any = _NoFill()

ColumnLike = ColumnSpec | Mapping[str, Any] | tuple[Any, FieldInfo] | tuple[Any]


def to_column_spec(name: str, column: Any, *, where: str) -> ColumnSpec:
    """Accept a column as @hedystia/db's dict (snake_case or camelCase keys), a
    :class:`ColumnSpec`, or an ``(annotation, Field(...))`` pair."""
    if isinstance(column, ColumnSpec):
        return column if column.name == name else column.renamed(name)
    if isinstance(column, Mapping):
        try:
            return ColumnSpec.from_dict(column, name=name)
        except (HedystiaError, ValueError, KeyError) as exc:
            raise MigrationError(f"{where}: bad column definition: {exc}") from exc
    if isinstance(column, tuple) and 1 <= len(column) <= 2:
        info = column[1] if len(column) == 2 else None
        if info is not None and not isinstance(info, FieldInfo):
            raise MigrationError(f"{where}: the second item of the pair must be a Field(...)")
        return column_from_field(name, column[0], info, where=where)
    raise MigrationError(
        f"{where}: a column must be a dict, a ColumnSpec or an (annotation, Field(...)) pair "
        f"(got {type(column).__name__})"
    )


class SchemaReader(Protocol):
    """What ``ctx.schema`` reads of the live database, and how a spec a migration gives is
    declared there: one per engine (SQLite's is :class:`SQLiteReader`; PostgreSQL's is in
    :mod:`hedystia_models.engine.postgres.database`)."""

    def find_table(self, name: str) -> str | None:
        """The stored name of table ``name`` (``None``: no such table)."""
        ...

    def read_table(self, stored: str) -> TableSpec:
        """The spec of the table stored as ``stored``."""
        ...

    def has_rows(self, table: str) -> bool:
        """True when ``table`` holds a row."""
        ...

    def find_index(self, name: str) -> tuple[str, str] | None:
        """(stored name, table) of index ``name``, or ``None``."""
        ...

    def declared_table(self, spec: TableSpec) -> TableSpec:
        """``spec`` (a model's, SQLite's types) as this engine declares it."""
        ...

    def declared_column(self, spec: ColumnSpec) -> ColumnSpec:
        """``spec`` as this engine declares it."""
        ...


class SQLiteReader:
    """:class:`SchemaReader` of a SQLite database (its introspection; specs as given)."""

    def __init__(self, db: sqlite_utils.Database) -> None:
        self._db = db

    def find_table(self, name: str) -> str | None:
        """See :meth:`SchemaReader.find_table`."""
        return introspect.find_table(self._db.conn, name)

    def read_table(self, stored: str) -> TableSpec:
        """See :meth:`SchemaReader.read_table`."""
        return introspect.read_table(self._db, stored)

    def has_rows(self, table: str) -> bool:
        """See :meth:`SchemaReader.has_rows`."""
        return introspect.has_rows(self._db.conn, table)

    def find_index(self, name: str) -> tuple[str, str] | None:
        """See :meth:`SchemaReader.find_index`."""
        return introspect.find_index(self._db.conn, name)

    def declared_table(self, spec: TableSpec) -> TableSpec:
        """See :meth:`SchemaReader.declared_table`."""
        return spec

    def declared_column(self, spec: ColumnSpec) -> ColumnSpec:
        """See :meth:`SchemaReader.declared_column`."""
        return spec


class SchemaContext:
    """Schema changes inside a migration (``ctx.schema``). Each method is one operation."""

    def __init__(
        self,
        db: sqlite_utils.Database,
        migration: str,
        executor: Executor | None = None,
        reader: SchemaReader | None = None,
    ) -> None:
        self._db = db
        self._migration = migration
        self._executor = executor if executor is not None else SQLiteExecutor(db)
        self._reader: SchemaReader = reader if reader is not None else SQLiteReader(db)
        #: Where notes go: the statements the history row records (set by the runner).
        self.journal: list[str] = []
        #: Tables (folded names) start-up created from the models just before the migrations
        #: ran; a migration creating one of them itself replaces it while it is empty.
        self.provisional: set[str] = set()

    def replace_provisional(self, name: str) -> None:
        """Drop table ``name`` when start-up created it from the models (it is empty), so that
        the migration about to create it makes it its own way."""
        folded = fold_identifier(name)
        if folded not in self.provisional:
            return
        self.provisional.discard(folded)
        current = self._live(name)
        if current is None or self._reader.has_rows(current.name):
            return
        self.journal.append(f"{REPLACED}table {current.name}, made from the models at start-up")
        self._apply(DropTable(current.name, spec=current))

    def _already(self, note: str | None) -> bool:
        """Record ``note`` (a step that finds its target already there) in the history row;
        True when there was one, so the caller does nothing more."""
        if note is None:
            return False
        self.journal.append(f"{ALREADY_DONE}{note}")
        return True

    def _converge(self, rule: Callable[..., str | None], *args: Any) -> bool:
        """Ask a rule of :mod:`.converge`; its conflicts become this migration's errors."""
        try:
            return self._already(rule(*args))
        except OperationError as exc:
            raise self._error(str(exc)) from exc

    def _live(self, name: str) -> TableSpec | None:
        stored = self._reader.find_table(self._table_name(name, "a table name"))
        return None if stored is None else self._reader.read_table(stored)

    def _error(self, what: str) -> MigrationError:
        return MigrationError(f"migration {self._migration!r}: {what}", self._migration)

    def _apply(self, op: Operation) -> None:
        try:
            self._executor.apply(op)
        except OperationError as exc:
            if isinstance(op, AlterColumn) and _refused_rows(exc.__cause__):
                raise self._error(
                    f"alter_column({op.table!r}, {op.column!r}): existing rows do not fit the "
                    f"new definition ({exc.__cause__}); fix them first, for example with "
                    "ctx.sql('UPDATE ...')"
                ) from exc
            raise self._error(str(exc)) from exc

    def _name(self, value: object, what: str, *, reserved: bool = False) -> str:
        """``value`` as a table, column or index name (a non-empty string SQLite can hold:
        no NUL character, no lone surrogate), or an error. ``reserved`` also refuses the
        prefixes of SQLite's and this package's own tables and indexes (``sqlite_``,
        ``__hedystia_``), which no migration may create, rename or change."""
        if not isinstance(value, str) or not value:
            raise self._error(f"{what} must be a non-empty name (got {value!r})")
        problem = identifier_problem(value) or (reserved_prefix(value) if reserved else None)
        if problem is not None:
            raise self._error(f"{what} {value!r} {problem}")
        return value

    def _table_name(self, value: object, what: str) -> str:
        """``value`` as the name of a table a migration may change (see :meth:`_name`)."""
        return self._name(value, what, reserved=True)

    def _column(self, name: str, column: Any, where: str) -> ColumnSpec:
        try:
            spec = to_column_spec(self._name(name, "a column name"), column, where=where)
            return self._reader.declared_column(spec)
        except HedystiaError as exc:  # the message names the call (``where``) already
            raise self._error(str(exc)) from exc

    def _table(self, name: str) -> TableSpec:
        stored = self._reader.find_table(self._table_name(name, "a table name"))
        if stored is None:
            raise self._error(f"table {name!r} does not exist")
        return self._reader.read_table(stored)

    # -- tables -------------------------------------------------------------------------------

    def create_table(self, table: type[Table] | TableSpec) -> None:
        """Create a table (with its indexes) from a model class or a :class:`TableSpec`.

        If the table already exists with the same columns this does nothing, so a migration
        history can adopt a table that ``sync`` created earlier; different columns are an error
        that lists the differences.
        """
        try:
            spec = table if isinstance(table, TableSpec) else table_info(table).spec
            spec = self._reader.declared_table(spec)
        except HedystiaError as exc:
            raise self._error(f"create_table: {exc}") from exc
        for index in spec.indexes:
            self._name(index.name, "create_table: an index name", reserved=True)
        current = self._live(spec.name)
        if current is not None and current != spec:
            self.replace_provisional(spec.name)
        if not self._converge(converge.table_created, self._live(spec.name), spec):
            self._apply(CreateTable(spec.name, spec=spec))

    def drop_table(self, name: str) -> None:
        """Drop a table (nothing to do when it is already gone)."""
        current = self._live(name)
        if not self._converge(converge.table_dropped, current, name):
            assert current is not None
            self._apply(DropTable(current.name, spec=current))

    def rename_table(self, old: str, new: str) -> None:
        """Rename a table (nothing to do when ``old`` is gone and ``new`` is there). When both
        exist and ``new`` is empty, ``new`` is the table sync created from the models at
        start-up, before this migration ran: it is dropped, and ``old`` (with its rows) takes
        its name; the following sync adds what the models have and ``old`` lacked."""
        source, target = self._live(old), self._live(self._table_name(new, "the new table name"))
        has_rows = target is not None and self._reader.has_rows(target.name)
        if self._converge(converge.table_renamed, source, target, has_rows, (old, new)):
            return
        assert source is not None
        if target is not None:
            self.journal.append(f"{REPLACED}table {target.name}, which was empty")
            self._apply(DropTable(target.name, spec=target))
        self._apply(RenameTable(source.name, new=new))

    # -- columns ------------------------------------------------------------------------------

    def add_column(
        self, table: str, name: str, column: ColumnLike | Any, *, fill: Any = NO_FILL
    ) -> None:
        """Add a column. ``column`` is @hedystia/db's column dict, a :class:`ColumnSpec`, or an
        ``(annotation, Field(...))`` pair.

        A ``NOT NULL`` column without default is added to an empty table by rebuilding it. On a
        table with rows it needs ``fill``: the value every existing row gets (a stored value,
        bound as a parameter). With ``fill`` the column is added as nullable, the rows are
        filled in, then the column is given its full definition (``NOT NULL``, ``UNIQUE``) by
        :meth:`alter_column`; without it such a column is an error.
        """
        where = f"add_column({table!r}, {name!r})"
        spec = self._column(name, column, where)
        current = self._table(table)
        if self._converge(converge.column_added, current, spec):
            return
        if fill is Ellipsis:
            raise self._error(f"{where}: replace fill=... with the value existing rows should get")
        has_rows = self._reader.has_rows(current.name)
        if fill is NO_FILL or not has_rows:
            safety, reason = add_column_verdict(current.name, spec, has_rows)
            if safety is not Safety.SAFE:
                raise self._error(reason or where)
            self._apply(AddColumn(current.name, spec=spec))
            return
        loose = replace(spec, not_null=False, unique=False)
        self._apply(AddColumn(current.name, spec=loose))
        column_sql = quote_identifier(spec.name)
        self._db.conn.execute(
            f"UPDATE {quote_identifier(current.name)} SET {column_sql} = ? "
            f"WHERE {column_sql} IS NULL",
            (fill,),
        )
        if loose != spec:
            self.alter_column(current.name, spec.name, spec)

    def alter_column(self, table: str, name: str, column: ColumnLike | Any) -> None:
        """Give a column a new definition (type, ``NOT NULL``, default, ``CHECK``, ``UNIQUE``,
        reference) by rebuilding the table with its rows. Values are copied as stored; rows
        that break the new definition (a ``NULL`` in a column becoming ``NOT NULL``, say) make
        the migration fail, and nothing changes. The column keeps its name (use
        :meth:`rename_column` for that) and its place in the primary key."""
        where = f"alter_column({table!r}, {name!r})"
        current = self._table(table)
        if not current.has_column(name):
            raise self._error(f"table {table!r} has no column {name!r}")
        old = current.column(name)
        spec = self._column(old.name, column, where)
        if self._converge(converge.column_altered, current, spec):
            return
        changes = tuple(column_changes(spec, old))
        self._apply(AlterColumn(current.name, desired=spec, actual=old, changes=changes))

    def drop_column(self, table: str, name: str) -> None:
        """Drop a column, with the indexes that use it: native ``ALTER TABLE .. DROP COLUMN``
        when SQLite allows it, else a table rebuild."""
        current = self._table(table)
        if not self._converge(converge.column_dropped, current, self._name(name, "a column")):
            self._apply(DropColumn(current.name, spec=current.column(name)))

    def rename_column(self, table: str, old: str, new: str) -> None:
        """Rename a column: native ``ALTER TABLE .. RENAME COLUMN`` (which also updates
        indexes, triggers, views and foreign keys), else a table rebuild. Indexes named by the
        default convention (``<table>_<column>_index``) are renamed with it."""
        current = self._table(table)
        old = self._name(old, "the column to rename")
        new = self._name(new, "the new column name")
        if not self._converge(converge.column_renamed, current, old, new):
            self._apply(RenameColumn(current.name, old=current.column(old).name, new=new))

    # -- indexes ------------------------------------------------------------------------------

    def add_index(
        self,
        table: str,
        columns: str | Sequence[str],
        unique: bool = False,
        name: str | None = None,
    ) -> str:
        """Create an index; ``name`` defaults to ``<table>_<col>_<col>_index``. Returns the
        index name."""
        if isinstance(columns, str):
            columns = (columns,)
        if not isinstance(columns, Sequence) or not columns:
            raise self._error(f"add_index({table!r}): columns must be a name or a list of names")
        cols = tuple(self._name(c, "an index column") for c in columns)
        if name is not None:
            self._name(name, "an index name", reserved=True)
        current = self._table(table)
        missing = [c for c in cols if not current.has_column(c)]
        if missing:
            raise self._error(f"table {table!r} has no column(s) {missing!r}")
        index = IndexSpec(name or index_name(current.name, cols), cols, unique)
        if not self._converge(converge.index_added, current, index):
            self._apply(CreateIndex(current.name, index=index))
        return index.name

    def drop_index(self, table: str, name: str) -> None:
        """Drop an index of ``table``."""
        found = self._reader.find_index(self._name(name, "an index name"))
        stored = self._reader.find_table(table)
        if found is not None and stored is not None and found[1] != stored:
            raise self._error(f"index {name!r} belongs to table {found[1]!r}, not {table!r}")
        if self._converge(converge.index_dropped, found is not None, name):
            return
        assert found is not None and stored is not None
        current = self._reader.read_table(stored)
        index = next(
            (i for i in (*current.indexes, *current.unique_indexes) if i.name == found[0]), None
        )
        if index is None:
            raise self._error(
                f"index {found[0]!r} of table {table!r} belongs to its PRIMARY KEY or UNIQUE "
                "constraint and goes only with it"
            )
        self._apply(DropIndex(current.name, index=index))


def _refused_rows(cause: BaseException | None) -> bool:
    """True when ``cause`` is the engine refusing rows that break a constraint (sqlite3's
    ``IntegrityError``; a psycopg error of SQLSTATE class 23, or 22 for a value the new type
    cannot hold)."""
    if isinstance(cause, sqlite3.IntegrityError):
        return True
    state = getattr(cause, "sqlstate", None)
    return isinstance(state, str) and state[:2] in ("22", "23")


def _ends_transaction(query: object) -> bool:
    """True for a statement that commits or rolls back the open transaction (``COMMIT``,
    ``END``, ``ROLLBACK`` but not ``ROLLBACK TO`` a savepoint), or tries to open one
    (``BEGIN``), whatever its spacing, case and comments."""
    if not isinstance(query, str):
        return False
    words = sql_words(query)
    if not words or words[0] not in ("begin", "commit", "end", "rollback"):
        return False
    return not (words[0] == "rollback" and "to" in words[1:3])


class MigrationContext:
    """What ``up`` and ``down`` receive: ``schema`` for DDL, ``sql`` for statements, ``db``
    (the ``sqlite_utils.Database`` on SQLite; on PostgreSQL an object whose ``conn`` is the
    connection, see :mod:`hedystia_models.engine.postgres.database`) for anything else, and
    ``engine`` (``"sqlite"`` or ``"postgres"``) for SQL that only one engine speaks."""

    def __init__(
        self,
        db: sqlite_utils.Database,
        migration: str,
        *,
        autocommit: bool = False,
        executor: Executor | None = None,
        reader: SchemaReader | None = None,
        engine: str = "sqlite",
    ) -> None:
        self.db = db
        self.name = migration
        #: The engine the migration runs on: ``"sqlite"`` or ``"postgres"``.
        self.engine = engine
        self.schema = SchemaContext(db, migration, executor, reader)
        self._autocommit = autocommit

    def sql(
        self, query: str, params: Sequence[Any] | Mapping[str, Any] | None = None
    ) -> list[dict[str, Any]]:
        """Run one statement with bound parameters; rows come back as dicts.

        In a ``transactional=False`` migration each statement is committed at once (sqlite3
        would otherwise keep the transaction it opens for a write, and ``VACUUM`` after a
        ``DELETE`` would fail). Raw SQL does not converge: it runs as written; only a
        ``CREATE TABLE`` of a table start-up has just made from the models replaces that
        (empty) table."""
        if not self._autocommit and _ends_transaction(query):
            raise MigrationError(
                f"migration {self.name!r}: ctx.sql({query!r}) would end the transaction the "
                "migration runs in, and what it did before could no longer be rolled back; the "
                "runner commits a migration with its history row (or use transactional=False). "
                "The migration was rolled back",
                self.name,
            )
        created = created_table(query)
        if created is not None:
            self.schema.replace_provisional(created)
        conn = self.db.conn
        # (PostgreSQL's connection runs a user's SQL as written: see engine/postgres/dbapi.py)
        if hasattr(conn, "execute_as_written"):
            # a failed statement whose error the step catches leaves the migration going
            cursor = conn.execute_as_written(query, params, isolated=True)
        else:
            cursor = conn.execute(query, params if params is not None else ())
        rows = rows_as_dicts(cursor)
        if self._autocommit and self.db.conn.in_transaction:
            self.db.conn.commit()
        return rows
