"""Read the live SQLite schema into :mod:`~hedystia_models.schema.spec` values, via sqlite-utils.

Every read of the schema goes through this module (the bookkeeping tables excepted, which
:mod:`hedystia_models.migrate.history` owns). ``sqlite_master`` is read once per call of
:func:`read_database`, and every table name, ``CREATE`` statement, index, view and trigger
comes from that one read (``tests/test_plan_cost.py`` counts it): a lookup by name there is a
scan, which per table would make reading N tables cost O(N^2). The pragmas (``table_xinfo``,
``index_list`` through sqlite-utils, ``foreign_key_list``) name their table, which SQLite
finds in its in-memory schema; sqlite-utils supplies the parsers for what pragmas do not
report (``CHECK`` and ``UNIQUE`` constraints, ``AUTOINCREMENT``). A table created from a spec
reads back as an equal spec.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from typing import NamedTuple

import sqlite_utils
from sqlite_utils.create_table_parser import (
    ParseError,
    parse_autoincrement,
    parse_checks,
    parse_uniques,
)

from ...schema.quoting import fold_identifier, quote_identifier
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
from ...schema.sqltext import (
    SQL_TOKEN,
    column_clauses,
    deferred_foreign_keys,
    index_terms,
    index_where,
    table_definitions,
)
from ...schema.state import DatabaseState, Dependent, ForeignKeyEdge, ForeignKeyGraph, ParentKeys
from .connection import waiting

__all__ = [
    "INTERNAL_TABLES",
    "DatabaseState",
    "Dependent",
    "broken_dependents",
    "find_index",
    "find_table",
    "foreign_key_graph",
    "foreign_keys_enforced",
    "has_rows",
    "read_database",
    "read_table",
    "referencing_tables",
    "schema_version",
]

#: Tables this library or SQLite keeps for itself; never part of a model diff.
INTERNAL_TABLES = frozenset({"__hedystia_migrations", "__hedystia_state"})


class _Master:
    """One read of ``sqlite_master``: (type, name, tbl_name, sql) rows, grouped once by type
    and by (type, table), so reading N tables stays linear; and ``PRAGMA schema_version`` in
    the same read transaction (``None`` when read outside one)."""

    def __init__(
        self, rows: list[tuple[str, str, str, str | None]], version: int | None = None
    ) -> None:
        self.rows = rows
        self.version = version
        self._by_kind: dict[str, list[tuple[str, str | None]]] = {}
        self._by_table: dict[tuple[str, str], list[tuple[str, str | None]]] = {}
        for kind, name, table, sql in rows:
            self._by_kind.setdefault(kind, []).append((name, sql))
            self._by_table.setdefault((kind, fold_identifier(table)), []).append((name, sql))

    @classmethod
    def read(cls, db: sqlite_utils.Database) -> _Master:
        """Read inside a transaction, so that both reads see one state of the database."""
        rows = db.execute("SELECT type, name, tbl_name, sql FROM sqlite_master").fetchall()
        version = int(db.execute("PRAGMA schema_version").fetchone()[0])
        return cls(rows, version)

    def of(self, kind: str, table: str | None = None) -> list[tuple[str, str | None]]:
        """(name, sql) of the entries of ``kind``, optionally only those on ``table``."""
        if table is None:
            return self._by_kind.get(kind, [])
        return self._by_table.get((kind, fold_identifier(table)), [])


def _is_internal(name: str) -> bool:
    return name in INTERNAL_TABLES or name.startswith("sqlite_")


def _user_tables(db: sqlite_utils.Database, master: _Master) -> list[tuple[str, str]]:
    """(name, CREATE TABLE) of ordinary tables, by name, without SQLite's and this library's
    own, virtual tables and the shadow tables that store their data."""
    rows = sorted((name, sql or "") for name, sql in master.of("table"))
    virtual = {name for name, sql in rows if sql.lstrip().upper().startswith("CREATE VIRTUAL")}
    shadow = _shadow_tables(db, virtual)
    return [(n, s) for n, s in rows if not (_is_internal(n) or n in virtual or n in shadow)]


#: Shadow-table suffixes of the virtual table modules SQLite ships (FTS3/4/5, R*Tree), for
#: SQLite versions older than 3.37, which lack ``PRAGMA table_list``.
_SHADOW_SUFFIXES = (
    "_content",
    "_segments",
    "_segdir",
    "_docsize",
    "_stat",
    "_data",
    "_idx",
    "_config",
    "_node",
    "_parent",
    "_rowid",
)


def _shadow_tables(db: sqlite_utils.Database, virtual: set[str]) -> set[str]:
    """Names of the tables that store the data of virtual tables."""
    if not virtual:
        return set()
    try:
        listed = db.execute("PRAGMA main.table_list").fetchall()  # no rows before SQLite 3.37
    except sqlite3.DatabaseError:  # pragma: no cover - e.g. a virtual table module is missing
        listed = []
    if listed:
        return {row[1] for row in listed if row[2] == "shadow"}
    return {f"{name}{suffix}" for name in virtual for suffix in _SHADOW_SUFFIXES}


@contextmanager
def _one_read(db: sqlite_utils.Database) -> Iterator[_Master]:
    """``sqlite_master``, read at the start of one read transaction that lasts the block (when
    no transaction is open already): the block sees one state of the database, and waits for a
    lock once, at that first read, on what is left of the call's busy timeout
    (:func:`.connection.waiting`), never again for each of its statements."""
    conn = db.conn
    if conn.in_transaction:
        with waiting(conn):
            master = _Master.read(db)
        yield master
        return
    conn.execute("BEGIN")
    try:
        with waiting(conn):
            master = _Master.read(db)
        yield master
    finally:
        if conn.in_transaction:
            conn.execute("COMMIT")  # it only read: this releases the lock, never waits


def read_database(db: sqlite_utils.Database, only: Iterable[str] | None = None) -> DatabaseState:
    """Read every user table (or only the tables named in ``only``), which of them hold rows,
    what a rebuild of each would lose, and every view and trigger (in one read transaction)."""
    with _one_read(db) as master:
        return _read_state(db, master, only)


def _read_state(
    db: sqlite_utils.Database, master: _Master, only: Iterable[str] | None
) -> DatabaseState:
    wanted = None if only is None else {fold_identifier(name) for name in only}
    tables: dict[str, TableSpec] = {}
    obstacles: dict[str, tuple[str, ...]] = {}
    keys = _PrimaryKeys(db.conn)
    for name, sql in _user_tables(db, master):
        if wanted is not None and fold_identifier(name) not in wanted:
            continue
        spec, generated = _read_table(db, name, sql, master, keys)
        tables[name] = spec
        found = rebuild_obstacles(sql, generated)
        if found:
            obstacles[name] = found
    dependents = tuple(
        Dependent(type_, name, tbl, sql)
        for type_, name, tbl, sql in master.rows
        if type_ in ("view", "trigger") and sql
    )
    return DatabaseState(
        tables=tables,
        tables_with_rows=frozenset(_with_rows(db.conn, list(tables))),
        rebuild_obstacles=obstacles,
        dependents=dependents,
        schema_version=master.version,
    )


#: Tables whose ``EXISTS`` one statement of :func:`_with_rows` asks (SQLite allows up to 500
#: terms in a compound ``SELECT``).
_ROWS_PER_STATEMENT = 100


def _with_rows(conn: sqlite3.Connection, names: list[str]) -> list[str]:
    """Those of tables ``names`` that hold at least one row (as :func:`has_rows`), asked a
    hundred tables per statement rather than one: a statement costs more to prepare and run
    from Python than its ``EXISTS`` costs SQLite."""
    found: list[str] = []
    for start in range(0, len(names), _ROWS_PER_STATEMENT):
        chunk = names[start : start + _ROWS_PER_STATEMENT]
        sql = " UNION ALL ".join(
            f"SELECT ?, EXISTS (SELECT 1 FROM {quote_identifier(name)})" for name in chunk
        )
        rows = conn.execute(sql, list(range(len(chunk)))).fetchall()
        found.extend(chunk[position] for position, filled in rows if filled)
    return found


class _PrimaryKeys:
    """The primary key of each table, for ``REFERENCES t`` without a column list (which means
    t's primary key): the tables read so far give theirs; another is asked with ``PRAGMA
    table_info`` once, never looked up among all tables."""

    def __init__(self, conn: sqlite3.Connection) -> None:
        self.conn = conn
        self._known: dict[str, tuple[str, ...]] = {}

    def add(self, table: str, columns: list[tuple[str, int]]) -> None:
        """Record ``table``'s primary key from its (name, pk position) columns."""
        self._known[fold_identifier(table)] = _primary_key(columns)

    def of(self, table: str) -> tuple[str, ...]:
        """The primary key columns of ``table`` in key order, or ``("rowid",)`` when it has
        none or does not exist (as sqlite-utils' ``Table.pks``)."""
        folded = fold_identifier(table)
        found = self._known.get(folded)
        if found is None:
            rows = self.conn.execute(f"PRAGMA table_info({quote_identifier(table)})").fetchall()
            found = self._known[folded] = _primary_key([(row[1], row[5]) for row in rows])
        return found


def _primary_key(columns: list[tuple[str, int]]) -> tuple[str, ...]:
    names = tuple(name for name, position in sorted(columns, key=lambda c: c[1]) if position)
    return names or ("rowid",)


class _ForeignKey(NamedTuple):
    """One foreign key as ``PRAGMA foreign_key_list`` gives it, its rows put together."""

    columns: tuple[str, ...]
    other_table: str
    #: ``None`` for a column of ``REFERENCES t`` whose primary key does not match up.
    other_columns: tuple[str | None, ...]
    on_update: str
    on_delete: str

    @property
    def is_compound(self) -> bool:
        return len(self.columns) > 1


def _foreign_keys(conn: sqlite3.Connection, name: str, keys: _PrimaryKeys) -> list[_ForeignKey]:
    """The foreign keys of table ``name``, in key order, each key's columns in order; for
    ``REFERENCES t`` without columns, t's primary key when it has as many columns (what
    sqlite-utils' ``Table.foreign_keys`` gives, without its lookups among all tables)."""
    by_id: dict[int, list[tuple[int, str, str, str | None, str, str]]] = {}
    for key_id, seq, other, column, other_column, on_update, on_delete, _ in conn.execute(
        f"PRAGMA foreign_key_list({quote_identifier(name)})"
    ).fetchall():
        by_id.setdefault(key_id, []).append(
            (seq, other, column, other_column, on_update, on_delete)
        )
    found: list[_ForeignKey] = []
    for key_id in sorted(by_id):
        rows = sorted(by_id[key_id])
        columns = tuple(row[2] for row in rows)
        other_columns: tuple[str | None, ...] = tuple(row[3] for row in rows)
        if all(c is None for c in other_columns):
            pk = keys.of(rows[0][1])
            if len(pk) == len(columns):
                other_columns = pk
        found.append(_ForeignKey(columns, rows[0][1], other_columns, rows[0][4], rows[0][5]))
    return found


def rebuild_obstacles(create_sql: str, generated: bool) -> tuple[str, ...]:
    """What a rebuild of a table from its :class:`TableSpec` would lose: a spec has no place
    for ``STRICT``, ``WITHOUT ROWID``, generated columns, or a collation anywhere but on a
    column (in a table ``PRIMARY KEY``/``UNIQUE`` clause, say)."""
    upper = create_sql.upper()
    if not any(word in upper for word in ("STRICT", "COLLATE", "WITHOUT")):
        return ("generated columns",) if generated else ()  # no such word, no such token
    words = {token.upper() for token in SQL_TOKEN.findall(create_sql)}
    found = ["STRICT"] if "STRICT" in words else []
    # Splitting the definitions is the costly part; without the word there is nothing to find.
    constraint_collations = "COLLATE" in words and any(
        words_[0].upper() in ("CONSTRAINT", "PRIMARY", "UNIQUE", "FOREIGN")
        and "COLLATE" in (w.upper() for w in words_)
        for words_ in table_definitions(create_sql)
    )
    if constraint_collations:
        found.append("COLLATE")
    if "WITHOUT" in words and "ROWID" in words:
        found.append("WITHOUT ROWID")
    if generated:
        found.append("generated columns")
    return tuple(found)


def read_table(db: sqlite_utils.Database, name: str) -> TableSpec:
    """Read one table into a :class:`TableSpec` (in one read transaction)."""
    with _one_read(db) as master:
        sql = next((s for n, s in master.of("table") if n == name), None) or ""
        return _read_table(db, name, sql, master, _PrimaryKeys(db.conn))[0]


def _index_keys(columns: list[str | None], sql: str | None, where: str) -> tuple[IndexKey, ...]:
    """An index's keys: column names as the pragma reports them, and for each expression key
    (``None`` there) its text from the stored ``CREATE INDEX``."""
    terms = index_terms(sql) if sql and None in columns else []
    keys: list[IndexKey] = []
    for position, column in enumerate(columns):
        if column is not None:
            keys.append(column)
        elif len(terms) == len(columns):
            keys.append(IndexExpression(terms[position]))
        else:  # pragma: no cover - SQLite accepted a statement the tokenizer cannot split
            keys.append(IndexExpression(f"<expression {position + 1} of {where}>"))
    return tuple(keys)


def _read_table(
    db: sqlite_utils.Database, name: str, create_sql: str, master: _Master, keys: _PrimaryKeys
) -> tuple[TableSpec, bool]:
    """The spec of table ``name``, and whether it has generated columns (``keys``: the primary
    keys of the tables read so far, to which this one's is added)."""
    # sqlite_utils.db.Table directly: db.table() and Table.columns look the name up among all
    # tables and views first, which would make reading N tables cost O(N^2).
    table = sqlite_utils.db.Table(db, name)
    # table_xinfo, unlike table_info, also lists generated columns (hidden 2 and 3); they must
    # be seen, or a model declaring one would make sync try to add it again.
    xinfo = db.execute(f"PRAGMA table_xinfo({quote_identifier(name)})").fetchall()
    columns = [sqlite_utils.db.Column(*row) for *row, hidden in xinfo if hidden != 1]
    generated = any(hidden in (2, 3) for *_, hidden in xinfo)
    pk_names = [c.name for c in sorted((c for c in columns if c.is_pk), key=lambda c: c.is_pk)]
    keys.add(name, [(c.name, c.is_pk) for c in columns])
    # sqlite-utils' CREATE TABLE parsers are the slow part of introspection; a constraint
    # whose keyword does not occur in the statement cannot be there, so skip its parser.
    upper = create_sql.upper()
    try:
        autoincrement = parse_autoincrement(create_sql) if "AUTOINCREMENT" in upper else None
        uniques = parse_uniques(create_sql) if "UNIQUE" in upper else []
        checks = parse_checks(create_sql) if "CHECK" in upper else []
    except ParseError:  # pragma: no cover - SQLite accepted it, the parser did not
        autoincrement, uniques, checks = None, [], []

    unique_columns: set[str] = set()
    unique_together: list[tuple[str, ...]] = []
    for unique in uniques:
        names = tuple(c.name for c in unique.columns)
        if len(names) == 1:
            unique_columns.add(fold_identifier(names[0]))
        else:
            unique_together.append(names)

    stored = dict(master.of("index", name))
    indexes: list[IndexSpec] = []
    unique_indexes: list[IndexSpec] = []
    for index in table.indexes:
        if index.origin != "c":
            continue  # implicit indexes of PRIMARY KEY / UNIQUE constraints
        sql = stored.get(index.name)
        found = IndexSpec(
            name=index.name,
            columns=_index_keys(list(index.columns), sql, f"index {index.name}"),
            unique=bool(index.unique),
            where=index_where(sql) if index.partial and sql else None,
            sql=sql,
        )
        if (
            found.unique
            and len(found.columns) == 1
            and not found.has_expressions
            and not found.where
        ):
            # A single-column unique index is how a UNIQUE column is added to an existing
            # table; it reads back as the column's `unique` flag.
            unique_columns.add(fold_identifier(found.column_names[0]))
            unique_indexes.append(found)
            continue
        indexes.append(found)

    clauses = column_clauses(create_sql) if "COLLATE" in upper or "DEFERR" in upper else {}
    deferred = deferred_foreign_keys(create_sql) if "DEFERR" in upper else set()
    references: dict[str, Reference] = {}
    compound: list[ForeignKeySpec] = []
    for fk in _foreign_keys(db.conn, name, keys):
        if fk.is_compound:
            compound.append(
                ForeignKeySpec(
                    columns=fk.columns,
                    other_table=fk.other_table,
                    # None: "REFERENCES t" whose primary key does not match up.
                    other_columns=tuple(c for c in fk.other_columns if c is not None),
                    on_delete=fk.on_delete,
                    on_update=fk.on_update,
                    deferrable=tuple(fold_identifier(c) for c in fk.columns) in deferred,
                )
            )
        else:
            folded_fk = fold_identifier(fk.columns[0])
            references[folded_fk] = Reference(
                fk.other_table,
                fk.other_columns[0] or "rowid",
                fk.on_delete,
                fk.on_update,
                deferrable=clauses.get(folded_fk, (None, False))[1] or (folded_fk,) in deferred,
            )

    column_checks: dict[str, list[str]] = {}
    table_checks: list[CheckSpec] = []
    for check in checks:
        if check.column and not check.name:
            column_checks.setdefault(fold_identifier(check.column), []).append(check.check)
        else:
            table_checks.append(CheckSpec(check.check, check.name or None))

    specs = []
    for column in columns:
        folded = fold_identifier(column.name)
        is_pk = bool(column.is_pk)
        rowid_alias = is_pk and len(pk_names) == 1 and column.type.upper() == "INTEGER"
        own_checks = column_checks.get(folded, [])
        specs.append(
            ColumnSpec(
                name=column.name,
                type=column.type,
                primary_key=is_pk,
                auto_increment=autoincrement is not None
                and fold_identifier(autoincrement) == folded,
                not_null=bool(column.notnull) or rowid_alias,
                unique=folded in unique_columns and not (is_pk and len(pk_names) == 1),
                default_sql=column.default_value,
                check=" AND ".join(f"({c})" for c in own_checks)
                if len(own_checks) > 1
                else (own_checks[0] if own_checks else None),
                references=references.get(folded),
                collate=clauses.get(folded, (None, False))[0],
            )
        )
    triggers = tuple(sql for _, sql in sorted(master.of("trigger", name)) if sql)
    spec = TableSpec(
        name=name,
        columns=tuple(specs),
        indexes=tuple(sorted(indexes, key=lambda i: i.name)),
        checks=tuple(table_checks),
        foreign_keys=tuple(compound),
        unique_together=tuple(unique_together),
        triggers=triggers,
        unique_indexes=tuple(unique_indexes),
        sql=create_sql or None,
    )
    return spec, generated


# -- single facts -----------------------------------------------------------------------------


def find_table(conn: sqlite3.Connection, name: str) -> str | None:
    """The stored name of table ``name`` (matched case-insensitively, as SQLite matches
    names), or ``None`` when there is no such table."""
    row = conn.execute(
        "SELECT name FROM sqlite_master WHERE type = 'table' AND name = ? COLLATE NOCASE",
        (name,),
    ).fetchone()
    return None if row is None else str(row[0])


def find_index(conn: sqlite3.Connection, name: str) -> tuple[str, str] | None:
    """(stored name, table) of the index ``name``, or ``None`` when there is none."""
    row = conn.execute(
        "SELECT name, tbl_name FROM sqlite_master WHERE type = 'index' AND name = ? COLLATE NOCASE",
        (name,),
    ).fetchone()
    return None if row is None else (str(row[0]), str(row[1]))


def has_rows(conn: sqlite3.Connection, table: str) -> bool:
    """True when ``table`` holds at least one row."""
    row = conn.execute(f"SELECT EXISTS (SELECT 1 FROM {quote_identifier(table)})").fetchone()
    return bool(row[0])


def schema_version(conn: sqlite3.Connection) -> int:
    """SQLite's ``schema_version``: it changes whenever any schema object changes. It is the
    first read of sync's fast path, so it may wait for a lock (see :func:`.connection.waiting`)."""
    with waiting(conn):
        return int(conn.execute("PRAGMA schema_version").fetchone()[0])


def foreign_keys_enforced(conn: sqlite3.Connection) -> bool:
    """True when the connection enforces foreign keys (``PRAGMA foreign_keys``)."""
    return bool(conn.execute("PRAGMA foreign_keys").fetchone()[0])


def referencing_tables(conn: sqlite3.Connection, table: str) -> list[str]:
    """Names of the tables whose foreign keys reference ``table``."""
    return [
        name
        for (name,) in conn.execute(
            "SELECT DISTINCT m.name FROM sqlite_master AS m, pragma_foreign_key_list(m.name) "
            "AS f WHERE m.type = 'table' AND f.\"table\" = ? COLLATE NOCASE ORDER BY m.name",
            (table,),
        ).fetchall()
    ]


def _probe(conn: sqlite3.Connection, dependent: Dependent) -> str:
    """A statement that compiles ``dependent``: ``SELECT *`` from a view; for a trigger, a
    statement that fires it, which is when SQLite resolves the names in its body."""
    q = quote_identifier(dependent.table)
    if dependent.kind == "view":
        return f"SELECT * FROM {quote_identifier(dependent.name)}"
    words = [t.upper() for t in SQL_TOKEN.findall(dependent.sql)]
    event = next((w for w in words if w in ("INSERT", "UPDATE", "DELETE")), "")
    if event == "INSERT":
        return f"INSERT INTO {q} DEFAULT VALUES"
    if event == "DELETE":
        return f"DELETE FROM {q}"
    columns = [row[1] for row in conn.execute(f"PRAGMA table_info({q})")]
    sets = ", ".join(f"{quote_identifier(c)} = {quote_identifier(c)}" for c in columns)
    return f"UPDATE {q} SET {sets}"


def broken_dependents(conn: sqlite3.Connection) -> dict[tuple[str, str], str]:
    """Views and triggers that do not compile, with SQLite's error, keyed by (kind, name).
    Each is compiled with ``EXPLAIN`` (see :func:`_probe`), never run."""
    rows = conn.execute(
        "SELECT type, name, tbl_name, sql FROM sqlite_master "
        "WHERE type IN ('view', 'trigger') AND sql IS NOT NULL"
    ).fetchall()
    broken: dict[tuple[str, str], str] = {}
    for kind, name, table, sql in rows:
        try:
            # Preparing the statement is what resolves the names; its rows are not read (some
            # SQLite builds crash listing the program of a statement that fires a trigger).
            conn.execute(f"EXPLAIN {_probe(conn, Dependent(kind, name, table, sql))}").close()
        except sqlite3.Error as exc:
            broken[(kind, name)] = str(exc)
    return broken


#: Bound parameters one statement of :func:`_parent_keys` uses at most (SQLite before 3.32
#: allows 999 in a statement): the table names, and the referenced column names.
_PARAMETERS_PER_STATEMENT = 900


def _parent_keys(
    conn: sqlite3.Connection, names: list[str], referenced: set[str]
) -> tuple[dict[str, list[tuple[str, int]]], dict[str, tuple[tuple[str, ...], ...]]]:
    """For tables ``names``: their primary-key columns and their columns named in
    ``referenced`` (column names, any case), as (column, pk position) in column order, and
    their unique keys (unique indexes without ``WHERE`` on plain columns, in ``index_list``
    order): two statements per few hundred tables, the pragmas joined to the names, rather
    than a few per table. A parent's other columns are not read: no foreign key names them,
    and they would be most of the rows."""
    columns: dict[str, list[tuple[str, int]]] = {}
    keys: dict[tuple[str, int], tuple[int, list[str | None]]] = {}
    wanted = sorted(referenced)
    if len(wanted) > _PARAMETERS_PER_STATEMENT // 2:
        wanted = []  # too many names to bind: read every column
    filtered = (
        " WHERE c.pk > 0 OR c.name COLLATE NOCASE IN (" + ", ".join("?" for _ in wanted) + ")"
        if wanted
        else ""
    )
    step = _PARAMETERS_PER_STATEMENT - len(wanted)
    for start in range(0, len(names), step):
        chunk = names[start : start + step]
        values = "WITH t(name) AS (VALUES " + ", ".join("(?)" for _ in chunk) + ") "
        for table, _, column, position in conn.execute(
            values + "SELECT t.name, c.cid, c.name, c.pk FROM t "
            f"JOIN pragma_table_info(t.name) AS c{filtered} ORDER BY 1, 2",
            [*chunk, *wanted],
        ).fetchall():
            columns.setdefault(table, []).append((column, position))
        for table, seq, partial, _, key in conn.execute(
            values + 'SELECT t.name, l.seq, l."partial", i.seqno, i.name FROM t '
            "JOIN pragma_index_list(t.name) AS l JOIN pragma_index_info(l.name) AS i "
            'WHERE l."unique" ORDER BY 1, 2, 4',
            chunk,
        ).fetchall():
            keys.setdefault((table, seq), (partial, []))[1].append(key)
    unique: dict[str, list[tuple[str, ...]]] = {}
    for (table, _), (partial, found) in keys.items():
        if not partial and all(key is not None for key in found):
            unique.setdefault(table, []).append(tuple(k for k in found if k is not None))
    return columns, {table: tuple(found) for table, found in unique.items()}


def foreign_key_graph(conn: sqlite3.Connection) -> ForeignKeyGraph:
    """Every foreign key of the database, with the primary key, unique keys and referenced
    columns of each table one references (:class:`ParentKeys` holds just those columns: all
    :func:`~hedystia_models.schema.state.reference_problem` asks of them): a few pragma
    reads, whatever the number of tables (no rows are read, no ``CREATE TABLE`` is parsed)."""
    listed = conn.execute(
        "SELECT type, name FROM sqlite_master WHERE type IN ('table', 'view')"
    ).fetchall()
    tables = {fold_identifier(name): name for kind, name in listed if kind == "table"}
    views = frozenset(fold_identifier(name) for kind, name in listed if kind == "view")
    rows = conn.execute(
        'SELECT m.name, f.id, f."table", f."from", f."to" FROM sqlite_master AS m, '
        "pragma_foreign_key_list(m.name) AS f WHERE m.type = 'table' "
        "ORDER BY m.name, f.id, f.seq"
    ).fetchall()
    grouped: dict[tuple[str, int], list[tuple[str, str, str | None]]] = {}
    for table, key_id, other, column, other_column in rows:
        grouped.setdefault((table, key_id), []).append((other, column, other_column))
    edges = tuple(
        ForeignKeyEdge(
            table,
            tuple(column for _, column, _ in found),
            found[0][0],
            tuple(c for _, _, c in found if c is not None),
            id=key_id,
        )
        for (table, key_id), found in grouped.items()
    )
    referenced: dict[str, str] = {}  # folded -> stored name, in the order the edges name them
    for edge in edges:
        folded = fold_identifier(edge.other_table)
        name = tables.get(folded)
        if name is not None:
            referenced.setdefault(folded, name)
    named = {column for edge in edges for column in edge.other_columns}
    columns, unique = _parent_keys(conn, list(referenced.values()), named)
    parents: dict[str, ParentKeys] = {}
    for folded, name in referenced.items():
        info = columns.get(name, [])
        pk = tuple(column for column, position in sorted(info, key=lambda r: r[1]) if position)
        parents[folded] = ParentKeys(name, tuple(c for c, _ in info), pk, unique.get(name, ()))
    return ForeignKeyGraph(edges, parents, views, tables)
