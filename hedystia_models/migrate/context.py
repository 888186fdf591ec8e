"""The context handed to a migration's ``up`` and ``down``: ``ctx.schema``, ``ctx.sql``,
``ctx.db``.

Schema methods build the same :mod:`~hedystia_models.migrate.operations` objects the differ
produces and run their SQL, so a migration and a sync change a table in exactly the same way. Where SQLite's
``ALTER TABLE`` cannot do a job (dropping an indexed column, say), the table is rebuilt with
SQLite's documented 12-step procedure from its introspected spec, which keeps rows, declared
types, defaults, checks, foreign keys, the other indexes and triggers.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Mapping, Sequence
from dataclasses import replace
from typing import Any

import sqlite_utils
from pydantic.fields import FieldInfo

from ..engine.sqlite import ddl
from ..engine.sqlite.introspect import SQL_TOKEN, index_where, read_table, rebuild_obstacles
from ..errors import MigrationError
from ..model.table import Table, column_from_field, table_info
from ..schema.quoting import fold_identifier, quote_identifier
from ..schema.spec import ColumnSpec, IndexSpec, TableSpec
from .diff import add_column_operation, column_changes
from .operations import CreateIndex, CreateTable, Operation, Safety

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
        except (ValueError, KeyError) as exc:
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


class SchemaContext:
    """Schema changes inside a migration (``ctx.schema``)."""

    def __init__(self, db: sqlite_utils.Database, migration: str) -> None:
        self._db = db
        self._conn = db.conn
        self._migration = migration

    def _where(self, what: str) -> str:
        return f"migration {self._migration!r}: {what}"

    def _run(self, statements: Sequence[str]) -> None:
        for statement in statements:
            self._conn.execute(statement)

    def _apply(self, op: Operation) -> None:
        if op.safety is Safety.BLOCKED:
            raise MigrationError(self._where(op.reason or op.describe()))
        self._run(op.statements)

    def _table(self, name: str) -> TableSpec:
        if not self._exists(name):
            raise MigrationError(self._where(f"table {name!r} does not exist"))
        actual_name = self._conn.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name = ? COLLATE NOCASE",
            (name,),
        ).fetchone()[0]
        return read_table(self._db, actual_name)

    def _exists(self, name: str) -> bool:
        row = self._conn.execute(
            "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ? COLLATE NOCASE",
            (name,),
        ).fetchone()
        return row is not None

    def _has_rows(self, name: str) -> bool:
        row = self._conn.execute(
            f"SELECT EXISTS (SELECT 1 FROM {quote_identifier(name)})"
        ).fetchone()
        return bool(row[0])

    # -- tables -------------------------------------------------------------------------------

    def create_table(self, table: type[Table] | TableSpec) -> None:
        """Create a table (with its indexes) from a model class or a :class:`TableSpec`.

        If the table already exists with the same columns this does nothing, so a migration
        history can adopt a table that ``sync`` created earlier; different columns are an error
        that lists the differences.
        """
        spec = table if isinstance(table, TableSpec) else table_info(table).spec
        if not self._exists(spec.name):
            self._apply(CreateTable(spec.name, spec=spec))
            return
        current = self._table(spec.name)
        differences: list[str] = []
        for column in spec.columns:
            if not current.has_column(column.name):
                differences.append(f"column {column.name!r} is missing from the database")
                continue
            changes = column_changes(column, current.column(column.name))
            differences.extend(f"column {column.name!r}: {c}" for c in changes)
        differences.extend(
            f"column {c.name!r} exists in the database but not in the definition"
            for c in current.columns
            if not spec.has_column(c.name)
        )
        if differences:
            raise MigrationError(
                self._where(
                    f"table {spec.name!r} already exists with different columns:\n  "
                    + "\n  ".join(differences)
                )
            )

    def drop_table(self, name: str) -> None:
        """Drop a table (an error if it does not exist)."""
        self._table(name)
        self._run([ddl.drop_table_sql(name)])

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
        where = self._where(f"add_column({table!r}, {name!r})")
        spec = to_column_spec(name, column, where=where)
        current = self._table(table)
        if current.has_column(spec.name):
            raise MigrationError(self._where(f"table {table!r} already has column {name!r}"))
        if fill is Ellipsis:
            raise MigrationError(
                f"{where}: replace fill=... with the value existing rows should get"
            )
        has_rows = self._has_rows(current.name)
        obstacles = rebuild_obstacles(self._db, current.name)
        if fill is NO_FILL or not has_rows:
            self._apply(add_column_operation(current, spec, has_rows, obstacles))
            return
        loose = replace(spec, not_null=False, unique=False)
        self._apply(add_column_operation(current, loose, has_rows, obstacles))
        self._conn.execute(
            f"UPDATE {quote_identifier(current.name)} SET {quote_identifier(spec.name)} = ? "
            f"WHERE {quote_identifier(spec.name)} IS NULL",
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
        where = self._where(f"alter_column({table!r}, {name!r})")
        current = self._table(table)
        if not current.has_column(name):
            raise MigrationError(self._where(f"table {table!r} has no column {name!r}"))
        old = current.column(name)
        spec = to_column_spec(old.name, column, where=where)
        if spec.primary_key != old.primary_key or spec.auto_increment != old.auto_increment:
            raise MigrationError(
                f"{where}: changing whether a column is (part of) the primary key is not "
                "supported; create the new table with create_table and copy the rows"
            )
        if old.unique and not spec.unique:
            # A unique index added for the column (rather than an inline UNIQUE) would
            # otherwise survive the rebuild and keep the rule.
            for index_name, unique, columns in self._single_column_indexes(current.name):
                if unique and fold_identifier(columns) == fold_identifier(old.name):
                    self._run([ddl.drop_index_sql(index_name)])
        folded = fold_identifier(old.name)
        new = replace(
            current,
            columns=tuple(
                spec if fold_identifier(c.name) == folded else c for c in current.columns
            ),
        )
        copy = [(c.name, quote_identifier(c.name)) for c in current.columns]
        try:
            self._rebuild(current, new, copy)
        except sqlite3.IntegrityError as exc:
            raise MigrationError(
                f"{where}: existing rows do not fit the new definition ({exc}); fix them first, "
                "for example with ctx.sql('UPDATE ...')"
            ) from exc

    def _single_column_indexes(self, table: str) -> list[tuple[str, bool, str]]:
        """(name, unique, column) of the table's single-column indexes made by CREATE INDEX."""
        found = []
        for row in self._conn.execute(f"PRAGMA index_list({quote_identifier(table)})").fetchall():
            name, unique, origin = row[1], bool(row[2]), row[3]
            if origin != "c":
                continue
            columns = self._conn.execute(f"PRAGMA index_info({quote_identifier(name)})").fetchall()
            if len(columns) == 1 and columns[0][2] is not None:
                found.append((name, unique, columns[0][2]))
        return found

    def drop_column(self, table: str, name: str) -> None:
        """Drop a column: native ``ALTER TABLE .. DROP COLUMN`` when SQLite allows it, else a
        table rebuild. Indexes that use the column are dropped with it."""
        current = self._table(table)
        if not current.has_column(name):
            raise MigrationError(self._where(f"table {table!r} has no column {name!r}"))
        column = current.column(name)
        if column.primary_key:
            raise MigrationError(
                self._where(
                    f"column {table}.{name} is part of the primary key; rebuild the "
                    "table with create_table/sql instead"
                )
            )
        if len(current.columns) == 1:
            raise MigrationError(self._where(f"cannot drop the only column of table {table!r}"))
        folded_name = fold_identifier(column.name)
        for together in current.unique_together:
            if folded_name in {fold_identifier(c) for c in together}:
                # Dropping it would silently drop a uniqueness rule over the other columns.
                raise MigrationError(
                    self._where(
                        f"column {table}.{column.name} is part of UNIQUE "
                        f"({', '.join(together)}); rebuild the table without that constraint "
                        "first (SQLite refuses this drop too)"
                    )
                )
        if self._try(ddl.drop_column_sql(current.name, column.name)):
            return
        folded = fold_identifier(column.name)
        new = replace(
            current,
            columns=tuple(c for c in current.columns if fold_identifier(c.name) != folded),
            indexes=tuple(
                i
                for i in current.indexes
                if folded not in {fold_identifier(c) for c in i.columns if c is not None}
                and not self._index_mentions(i, folded)
            ),
            unique_together=tuple(
                u for u in current.unique_together if folded not in {fold_identifier(c) for c in u}
            ),
            foreign_keys=tuple(
                fk
                for fk in current.foreign_keys
                if folded not in {fold_identifier(c) for c in fk.columns}
            ),
        )
        copy = [(c.name, quote_identifier(c.name)) for c in new.columns]
        self._rebuild(current, new, copy)

    def _index_mentions(self, index: IndexSpec, folded: str) -> bool:
        """True when an expression or partial index names the column ``folded`` (already
        folded) in its expressions or its ``WHERE`` clause."""
        if None not in index.columns and index.where is None:
            return False
        row = self._conn.execute(
            "SELECT sql FROM sqlite_master WHERE type = 'index' AND name = ?", (index.name,)
        ).fetchone()
        tokens = [t for t in SQL_TOKEN.findall(row[0] if row and row[0] else "") if t.strip()]
        upper = [t.upper() for t in tokens]
        start = upper.index("ON") + 2 if "ON" in upper else 0  # after ON <table>
        for token in tokens[start:]:
            if token[0] in '"`':
                token = token[1:-1].replace(token[0] * 2, token[0])
            elif token[0] == "[":
                token = token[1:-1]
            if fold_identifier(token) == folded:
                return True
        return False

    def rename_column(self, table: str, old: str, new: str) -> None:
        """Rename a column: native ``ALTER TABLE .. RENAME COLUMN`` (which also updates
        indexes, triggers, views and foreign keys), else a table rebuild."""
        current = self._table(table)
        if not current.has_column(old):
            raise MigrationError(self._where(f"table {table!r} has no column {old!r}"))
        if current.has_column(new) and fold_identifier(old) != fold_identifier(new):
            raise MigrationError(self._where(f"table {table!r} already has column {new!r}"))
        column = current.column(old)
        if self._try(ddl.rename_column_sql(current.name, column.name, new)):
            self._rename_default_indexes(current.name, column.name, new)
            return
        folded = fold_identifier(column.name)

        def swap(name: str) -> str:
            # None stands for an expression in an index; such an index is re-created from
            # its stored SQL by _rebuild.
            return new if name is not None and fold_identifier(name) == folded else name

        renamed = replace(
            current,
            columns=tuple(
                c.renamed(new) if fold_identifier(c.name) == folded else c for c in current.columns
            ),
            indexes=tuple(
                replace(i, columns=tuple(swap(c) for c in i.columns)) for i in current.indexes
            ),
            unique_together=tuple(tuple(swap(c) for c in u) for u in current.unique_together),
            foreign_keys=tuple(
                replace(fk, columns=tuple(swap(c) for c in fk.columns))
                for fk in current.foreign_keys
            ),
        )
        copy = [(swap(c.name), quote_identifier(c.name)) for c in current.columns]
        self._rebuild(current, renamed, copy)
        self._rename_default_indexes(current.name, column.name, new)

    def _rename_default_indexes(self, table: str, old: str, new: str) -> None:
        """Indexes named by the default convention (``<table>_<col>_index``,
        ``<table>_<col>_unique``) follow a renamed column, so the name keeps describing the
        index and a later sync does not add a second index under the new name."""
        rows = self._conn.execute(
            "SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = ? "
            "AND sql IS NOT NULL",
            (table,),
        ).fetchall()
        for (name,) in rows:
            info = self._conn.execute(f"PRAGMA index_xinfo({quote_identifier(name)})").fetchall()
            columns = [row[2] for row in info if row[5]]  # key columns only
            if not columns or any(c is None for c in columns):
                continue  # an expression index: its name is not ours to manage
            before = [old if fold_identifier(c) == fold_identifier(new) else c for c in columns]
            if before == columns:
                continue
            for unique in (False, True):
                if name == ddl.index_name(table, before, unique=unique):
                    is_unique = bool(
                        self._conn.execute(
                            'SELECT "unique" FROM pragma_index_list(?) WHERE name = ?',
                            (table, name),
                        ).fetchone()[0]
                    )
                    where = index_where(self._db, name)
                    renamed = IndexSpec(
                        ddl.index_name(table, columns, unique=unique),
                        tuple(columns),
                        is_unique,
                        where,
                    )
                    self._run([ddl.drop_index_sql(name), ddl.create_index_sql(table, renamed)])
                    break

    def _try(self, statement: str) -> bool:
        """Run ``statement`` in a savepoint; False (and nothing changed) if SQLite refuses."""
        self._conn.execute("SAVEPOINT hedystia_native")
        try:
            self._conn.execute(statement)
        except sqlite3.OperationalError:
            self._conn.execute("ROLLBACK TO SAVEPOINT hedystia_native")
            self._conn.execute("RELEASE SAVEPOINT hedystia_native")
            return False
        self._conn.execute("RELEASE SAVEPOINT hedystia_native")
        return True

    def _broken_dependents(self) -> dict[tuple[str, str], str]:
        """Views and triggers that do not compile, with SQLite's error. Each view is compiled as
        ``SELECT *``; each trigger by compiling (``EXPLAIN``, never running) a statement that
        fires it, which is when SQLite resolves the names in its body."""
        broken: dict[tuple[str, str], str] = {}
        rows = self._conn.execute(
            "SELECT type, name, tbl_name, sql FROM sqlite_master "
            "WHERE type IN ('view', 'trigger') AND sql IS NOT NULL"
        ).fetchall()
        for kind, name, target, sql in rows:
            q = quote_identifier(target)
            if kind == "view":
                probe = f"SELECT * FROM {quote_identifier(name)}"
            else:
                words = [t.upper() for t in SQL_TOKEN.findall(sql)]
                event = next((w for w in words if w in ("INSERT", "UPDATE", "DELETE")), "")
                if event == "INSERT":
                    probe = f"INSERT INTO {q} DEFAULT VALUES"
                elif event == "DELETE":
                    probe = f"DELETE FROM {q}"
                else:
                    columns = [r[1] for r in self._conn.execute(f"PRAGMA table_info({q})")]
                    sets = ", ".join(
                        f"{quote_identifier(c)} = {quote_identifier(c)}" for c in columns
                    )
                    probe = f"UPDATE {q} SET {sets}"
            try:
                self._conn.execute(f"EXPLAIN {probe}").fetchall()
            except sqlite3.Error as exc:
                broken[(kind, name)] = str(exc)
        return broken

    def _refuse_enforced_foreign_keys(self, table: str) -> None:
        """A rebuild drops the old table. With foreign-key enforcement on, which SQLite cannot
        switch off inside an open transaction (a migration run in ``db.transaction()``, or one
        with ``transactional=False``), that drop deletes every row as far as the referencing
        tables can tell, firing their ``ON DELETE`` actions; refuse rather than lose them."""
        if not self._conn.execute("PRAGMA foreign_keys").fetchone()[0]:
            return
        referencing = [
            name
            for (name,) in self._conn.execute(
                "SELECT DISTINCT m.name FROM sqlite_master AS m, pragma_foreign_key_list(m.name) "
                "AS f WHERE m.type = 'table' AND f.\"table\" = ? COLLATE NOCASE ORDER BY m.name",
                (table,),
            ).fetchall()
        ]
        if referencing and self._has_rows(table):
            raise MigrationError(
                self._where(
                    f"this change needs a rebuild of table {table!r}, which "
                    f"{', '.join(referencing)} references; a rebuild needs foreign-key "
                    "enforcement off, and SQLite cannot switch it off inside an open transaction "
                    "(dropping the old table would fire the ON DELETE actions). Run the migration "
                    "outside db.transaction(), as a transactional migration"
                )
            )

    def _refuse_unrepresentable(self, table: str) -> None:
        """A rebuild re-declares the table from its spec, which has no place for collations,
        generated columns, ``STRICT`` or ``WITHOUT ROWID``; refuse rather than lose them."""
        found = rebuild_obstacles(self._db, table)
        if found:
            raise MigrationError(
                self._where(
                    f"this change needs a rebuild of table {table!r}, and a rebuild would lose "
                    f"its {', '.join(found)}; rebuild it by hand with ctx.sql (create the new "
                    "table, copy the rows, drop the old one, rename the new one)"
                )
            )

    def _rebuild(self, old: TableSpec, new: TableSpec, copy: list[tuple[str, str]]) -> None:
        """Rebuild ``old`` as ``new``. Indexes the change leaves alone are re-created from
        their stored SQL, exactly as written (names, sort order, collations, expressions);
        only indexes on a renamed column are rendered from the spec."""
        self._refuse_unrepresentable(old.name)
        self._refuse_enforced_foreign_keys(old.name)
        broken_before = self._broken_dependents()
        stored: dict[str, str] = dict(
            self._conn.execute(
                "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND tbl_name = ? "
                "AND sql IS NOT NULL",
                (old.name,),
            ).fetchall()
        )
        verbatim = [stored[i.name] for i in new.indexes if i in old.indexes and i.name in stored]
        rendered = tuple(i for i in new.indexes if i not in old.indexes or i.name not in stored)
        # Introspection reads a single-column UNIQUE index as the column's `unique` flag; when
        # the column keeps its name, keep the index itself instead of an inline UNIQUE.
        listed = {i.name for i in old.indexes}
        columns = {fold_identifier(c.name): c for c in new.columns}
        for index_name, sql in stored.items():
            if index_name in listed:
                continue
            names = [
                row[2]
                for row in self._conn.execute(f"PRAGMA index_info({quote_identifier(index_name)})")
            ]
            if len(names) == 1 and names[0] is not None and old.has_column(names[0]):
                column = columns.get(fold_identifier(names[0]))
                if column is not None and column.name == old.column(names[0]).name:
                    columns[fold_identifier(column.name)] = replace(column, unique=False)
                    verbatim.append(sql)
        new = replace(new, columns=tuple(columns.values()), indexes=rendered)
        temp = f"_hedystia_new_{old.name}"
        self._run([*ddl.rebuild_table_sql(old, new, copy, temp_name=temp), *verbatim])
        # A rebuild re-creates triggers as written and leaves views alone; one that used the
        # dropped or renamed column would now fail whenever it is used. Refuse the change.
        broken = {
            key: error
            for key, error in self._broken_dependents().items()
            if broken_before.get(key) != error
        }
        if broken:
            found = "; ".join(f"{kind} {name}: {error}" for (kind, name), error in broken.items())
            raise MigrationError(
                self._where(
                    f"rebuilding table {old.name!r} would break {found}. Drop it first "
                    "(ctx.sql('DROP TRIGGER ...') or 'DROP VIEW ...') and re-create it after "
                    "the change"
                )
            )

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
        cols = (columns,) if isinstance(columns, str) else tuple(columns)
        current = self._table(table)
        missing = [c for c in cols if not current.has_column(c)]
        if missing:
            raise MigrationError(self._where(f"table {table!r} has no column(s) {missing!r}"))
        index = IndexSpec(name or ddl.index_name(current.name, cols), cols, unique)
        self._apply(CreateIndex(current.name, index=index))
        return index.name

    def drop_index(self, table: str, name: str) -> None:
        """Drop an index of ``table``."""
        row = self._conn.execute(
            "SELECT tbl_name FROM sqlite_master WHERE type = 'index' AND name = ? COLLATE NOCASE",
            (name,),
        ).fetchone()
        if row is None or fold_identifier(row[0]) != fold_identifier(table):
            raise MigrationError(self._where(f"table {table!r} has no index {name!r}"))
        self._run([ddl.drop_index_sql(name)])


class MigrationContext:
    """What ``up`` and ``down`` receive: ``schema`` for DDL, ``sql`` for statements, ``db``
    (the ``sqlite_utils.Database``) for anything else."""

    def __init__(
        self, db: sqlite_utils.Database, migration: str, *, autocommit: bool = False
    ) -> None:
        self.db = db
        self.name = migration
        self.schema = SchemaContext(db, migration)
        self._autocommit = autocommit

    def sql(
        self, query: str, params: Sequence[Any] | Mapping[str, Any] | None = None
    ) -> list[dict[str, Any]]:
        """Run one statement with bound parameters; rows come back as dicts.

        In a ``transactional=False`` migration each statement is committed at once (sqlite3
        would otherwise keep the transaction it opens for a write, and ``VACUUM`` after a
        ``DELETE`` would fail)."""
        cursor = self.db.conn.execute(query, params if params is not None else ())
        rows: list[dict[str, Any]] = []
        if cursor.description is not None:
            names = [d[0] for d in cursor.description]
            rows = [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]
        if self._autocommit and self.db.conn.in_transaction:
            self.db.conn.commit()
        return rows
