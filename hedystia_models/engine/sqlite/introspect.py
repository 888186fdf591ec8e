"""Read the live SQLite schema into :mod:`~hedystia_models.schema.spec` values, via sqlite-utils.

sqlite-utils supplies the pragmas (``table_info``, ``index_list``, ``foreign_key_list``) and
the parsers for what pragmas do not report (``CHECK`` and ``UNIQUE`` constraints,
``AUTOINCREMENT``). This module only translates their answers into specs, so that a table
created from a spec reads back as an equal spec.
"""

from __future__ import annotations

import re
import sqlite3
from dataclasses import dataclass, field

import sqlite_utils
from sqlite_utils.create_table_parser import (
    ParseError,
    parse_autoincrement,
    parse_checks,
    parse_uniques,
)

from ...schema.quoting import fold_identifier, quote_identifier
from ...schema.spec import CheckSpec, ColumnSpec, ForeignKeySpec, IndexSpec, Reference, TableSpec

__all__ = [
    "INTERNAL_TABLES",
    "DatabaseState",
    "read_database",
    "read_table",
    "rebuild_obstacles",
]

#: Tables this library or SQLite keeps for itself; never part of a model diff.
INTERNAL_TABLES = frozenset({"__hedystia_migrations", "__hedystia_state"})


@dataclass(frozen=True)
class DatabaseState:
    """What the differ needs to know about a live database.

    ``tables`` maps table name to its spec; ``tables_with_rows`` names the tables holding at
    least one row (which decides how a ``NOT NULL`` column without default can be added).
    """

    tables: dict[str, TableSpec]
    tables_with_rows: frozenset[str]
    #: For tables a rebuild from their spec would change, what it would lose (see
    #: :func:`rebuild_obstacles`); tables that rebuild cleanly are not listed.
    rebuild_obstacles: dict[str, tuple[str, ...]] = field(default_factory=dict)


def _is_internal(name: str) -> bool:
    return name in INTERNAL_TABLES or name.startswith("sqlite_")


def user_table_names(db: sqlite_utils.Database) -> list[str]:
    """Names of ordinary tables, without SQLite's and this library's own, FTS shadow tables
    and virtual tables."""
    rows = db.execute(
        "SELECT name, sql FROM sqlite_master WHERE type = 'table' ORDER BY name"
    ).fetchall()
    virtual = {
        name for name, sql in rows if sql and sql.lstrip().upper().startswith("CREATE VIRTUAL")
    }
    shadow = _shadow_tables(db, virtual)
    return [name for name, _ in rows if not (_is_internal(name) or name in virtual | shadow)]


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


def read_database(db: sqlite_utils.Database) -> DatabaseState:
    """Read every user table (see :func:`user_table_names`) and which of them hold rows."""
    tables: dict[str, TableSpec] = {}
    with_rows: set[str] = set()
    obstacles: dict[str, tuple[str, ...]] = {}
    for name in user_table_names(db):
        tables[name] = read_table(db, name)
        if db.execute(f"SELECT EXISTS (SELECT 1 FROM {quote_identifier(name)})").fetchone()[0]:
            with_rows.add(name)
        found = rebuild_obstacles(db, name)
        if found:
            obstacles[name] = found
    return DatabaseState(
        tables=tables, tables_with_rows=frozenset(with_rows), rebuild_obstacles=obstacles
    )


def rebuild_obstacles(db: sqlite_utils.Database, name: str) -> tuple[str, ...]:
    """What a rebuild of table ``name`` from its :class:`TableSpec` would lose: a spec has no
    place for collations, ``STRICT``, ``WITHOUT ROWID`` or generated columns."""
    row = db.execute(
        "SELECT sql FROM sqlite_master WHERE type = 'table' AND name = ?", (name,)
    ).fetchone()
    words = {token.upper() for token in SQL_TOKEN.findall(row[0] if row and row[0] else "")}
    found = [word for word in ("COLLATE", "STRICT") if word in words]
    if "WITHOUT" in words and "ROWID" in words:
        found.append("WITHOUT ROWID")
    if "AS" in words:  # a generated column is declared with AS (expression)
        xinfo = db.execute(f"PRAGMA table_xinfo({quote_identifier(name)})").fetchall()
        if any(column[6] for column in xinfo):
            found.append("generated columns")
    return tuple(found)


def read_table(db: sqlite_utils.Database, name: str) -> TableSpec:
    """Read one table into a :class:`TableSpec`."""
    # sqlite_utils.db.Table directly: db.table() and Table.columns look the name up among all
    # tables and views first, which would make reading N tables cost O(N^2).
    table = sqlite_utils.db.Table(db, name)
    create_sql = table.schema
    # table_xinfo, unlike table_info, also lists generated columns (hidden 2 and 3); they must
    # be seen, or a model declaring one would make sync try to add it again.
    columns = [
        sqlite_utils.db.Column(*row)
        for *row, hidden in db.execute(f"PRAGMA table_xinfo({quote_identifier(name)})").fetchall()
        if hidden != 1  # 1: a virtual table's hidden column
    ]
    pk_columns = sorted((c for c in columns if c.is_pk), key=lambda c: c.is_pk)
    pk_names = [c.name for c in pk_columns]
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

    indexes: list[IndexSpec] = []
    for index in table.indexes:
        if (
            index.origin == "c"
            and index.unique
            and len(index.columns) == 1
            and index.columns[0] is not None  # None: an expression, such as lower(email)
            and not index.partial
        ):
            # A single-column unique index is how a UNIQUE column is added to an existing
            # table; it reads back as the column's `unique` flag.
            unique_columns.add(fold_identifier(index.columns[0]))
            continue
        if index.origin != "c":
            continue  # implicit indexes of PRIMARY KEY / UNIQUE constraints
        indexes.append(
            IndexSpec(
                name=index.name,
                columns=tuple(index.columns),
                unique=bool(index.unique),
                where=index_where(db, index.name) if index.partial else None,
            )
        )

    references: dict[str, Reference] = {}
    compound: list[ForeignKeySpec] = []
    for fk in table.foreign_keys:
        if fk.is_compound:
            compound.append(
                ForeignKeySpec(
                    columns=tuple(fk.columns),
                    other_table=fk.other_table,
                    other_columns=tuple(fk.other_columns),
                    on_delete=fk.on_delete,
                    on_update=fk.on_update,
                )
            )
        else:
            assert fk.column is not None
            references[fold_identifier(fk.column)] = Reference(
                fk.other_table, fk.other_column or "rowid", fk.on_delete, fk.on_update
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
            )
        )
    triggers = tuple(
        sql
        for (sql,) in db.execute(
            "SELECT sql FROM sqlite_master WHERE type = 'trigger' AND tbl_name = ? "
            "AND sql IS NOT NULL ORDER BY name",
            (name,),
        ).fetchall()
    )
    return TableSpec(
        name=name,
        columns=tuple(specs),
        indexes=tuple(sorted(indexes, key=lambda i: i.name)),
        checks=tuple(table_checks),
        foreign_keys=tuple(compound),
        unique_together=tuple(unique_together),
        triggers=triggers,
    )


#: Quoted names, strings and comments (opaque), words, then any other single character.
SQL_TOKEN = re.compile(
    r"""'(?:[^']|'')*'|"(?:[^"]|"")*"|`(?:[^`]|``)*`|\[[^\]]*\]|--[^\n]*|/\*.*?\*/|\w+|.""",
    re.S,
)


def index_where(db: sqlite_utils.Database, index: str) -> str | None:
    """The ``WHERE`` condition of a partial index (``None`` for a full index)."""
    row = db.execute(
        "SELECT sql FROM sqlite_master WHERE type = 'index' AND name = ?", (index,)
    ).fetchone()
    if not row or not row[0]:
        return None
    sql: str = row[0]
    # The first WHERE keyword outside quoted names and strings starts the condition.
    for token in SQL_TOKEN.finditer(sql):
        if token.group().upper() == "WHERE":
            return sql[token.end() :].strip()
    return None
