"""Property-based round trip: spec -> CREATE TABLE -> introspection -> the same spec.

Random :class:`TableSpec` values (types from a list, NOT NULL, UNIQUE, defaults rendered by
``sql_literal``, CHECKs, references, composite keys, indexes, odd identifiers) are created
with :func:`ddl.create_table_sql` and read back with :func:`introspect.read_table`. The spec
read back must equal the one written, and the differ must find nothing to do.
"""

from __future__ import annotations

import sqlite3
from dataclasses import replace
from typing import Any

import sqlite_utils
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hedystia_models.engine.sqlite import ddl, introspect
from hedystia_models.engine.sqlite.rebuild import rebuild_statements
from hedystia_models.migrate.diff import diff
from hedystia_models.schema.quoting import quote_identifier, sql_literal
from hedystia_models.schema.spec import (
    FK_ACTIONS,
    CheckSpec,
    ColumnSpec,
    ForeignKeySpec,
    IndexSpec,
    Reference,
    TableSpec,
)

SETTINGS = settings(
    max_examples=75,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)

ODD_NAMES = [
    "order",
    "select",
    "group by",
    "table",
    "where",
    "a where b",
    "with space",
    'dq "x"',
    "sq 'y'",
    "café",
    "naïve ü",
    "名前",
    "paren (x)",
    "comma, here",
    "semi;colon",
    "[bracket]",
    "back`tick",
    "-- not a comment",
    "/* nor this */",
    "CHECK",
    "UNIQUE",
    "PRIMARY",
    "CONSTRAINT",
    "default",
    "AUTOINCREMENT",
    " leading",
    "trailing ",
]

NAME_ALPHABET = st.sampled_from([*"abcXYZ019_ -'\"(),.;[]`éü名", "ß"])

names = st.one_of(
    st.sampled_from(ODD_NAMES),
    st.text(NAME_ALPHABET, min_size=1, max_size=10),
)

# declared type -> strategy for a default value of matching kind. Text is UTF-8 encodable:
# a lone surrogate cannot be sent to SQLite at all (sqlite3 raises UnicodeEncodeError).
TYPES: dict[str, st.SearchStrategy[Any]] = {
    "INTEGER": st.integers(min_value=-(2**63), max_value=2**63 - 1),
    "BOOLEAN": st.booleans(),
    "NUMERIC": st.integers(min_value=-(10**6), max_value=10**6),
    "REAL": st.floats(allow_nan=False, allow_infinity=False),
    "TEXT": st.text(st.characters(blacklist_characters="\x00", codec="utf-8"), max_size=12),
    "VARCHAR(20)": st.text(st.characters(blacklist_characters="\x00", codec="utf-8"), max_size=12),
    "DATETIME": st.datetimes().map(lambda d: d.isoformat(sep=" ")),
    "DATE": st.dates().map(lambda d: d.isoformat()),
    "TIME": st.times().map(lambda t: t.isoformat()),
    "BLOB": st.binary(max_size=8),
    "DECIMAL(10,2)": st.decimals(places=2, allow_nan=False, allow_infinity=False).map(str),
    "": st.one_of(st.integers(-100, 100), st.text(max_size=5).filter(lambda s: "\x00" not in s)),
}

CHOICES: dict[str, st.SearchStrategy[Any]] = {
    "INTEGER": st.integers(-1000, 1000),
    "TEXT": st.text(
        st.characters(blacklist_characters="\x00", codec="utf-8"), min_size=0, max_size=6
    ),
}


def _distinct(values: list[str]) -> bool:
    folded = [v.casefold() for v in values]
    return len(set(folded)) == len(folded)


def _reserved(name: str) -> bool:
    return name.casefold().startswith("sqlite_") or name in introspect.INTERNAL_TABLES


@st.composite
def column_bodies(draw: st.DrawFn, name: str) -> ColumnSpec:
    sql_type = draw(st.sampled_from(sorted(TYPES)))
    default_sql = None
    kind = draw(st.sampled_from(["none", "value", "null"]))
    if kind == "value":
        default_sql = sql_literal(draw(TYPES[sql_type]))
    elif kind == "null":
        default_sql = "NULL"
    check = None
    if sql_type in CHOICES and draw(st.booleans()):
        values = draw(st.lists(CHOICES[sql_type], min_size=1, max_size=4, unique=True))
        allowed = ", ".join(sql_literal(v) for v in values)
        check = f"{quote_identifier(name)} IN ({allowed})"
    references = None
    if draw(st.integers(0, 4)) == 0:
        references = Reference(
            draw(names),
            draw(names),
            on_delete=draw(st.sampled_from(FK_ACTIONS)),
            on_update=draw(st.sampled_from(FK_ACTIONS)),
        )
    return ColumnSpec(
        name=name,
        type=sql_type,
        not_null=draw(st.booleans()),
        default_sql=default_sql,
        check=check,
        references=references,
    )


@st.composite
def table_specs(draw: st.DrawFn) -> TableSpec:
    table_name = draw(names.filter(lambda n: not _reserved(n)))
    column_names = draw(st.lists(names, min_size=1, max_size=6).filter(_distinct))
    columns = [draw(column_bodies(n)) for n in column_names]

    pk_mode = draw(st.sampled_from(["none", "single", "composite"]))
    if pk_mode == "single":
        position = draw(st.integers(0, len(columns) - 1))
        column = replace(columns[position], primary_key=True, not_null=True)
        if column.type == "INTEGER" and draw(st.booleans()):
            column = replace(column, auto_increment=True)
        columns[position] = column
    elif pk_mode == "composite" and len(columns) >= 2:
        chosen = draw(
            st.lists(
                st.integers(0, len(columns) - 1), min_size=2, max_size=len(columns), unique=True
            )
        )
        for position in chosen:
            columns[position] = replace(columns[position], primary_key=True, not_null=True)
    single_pk = sum(c.primary_key for c in columns) == 1
    columns = [
        replace(c, unique=draw(st.booleans())) if not (c.primary_key and single_pk) else c
        for c in columns
    ]

    unique_together: list[tuple[str, ...]] = []
    foreign_keys: list[ForeignKeySpec] = []
    if len(column_names) >= 2:
        groups = draw(
            st.lists(
                st.lists(st.sampled_from(column_names), min_size=2, max_size=3, unique=True),
                max_size=2,
                unique_by=lambda g: frozenset(g),
            )
        )
        unique_together = [tuple(g) for g in groups]
        if draw(st.booleans()):
            fk_columns = draw(
                st.lists(st.sampled_from(column_names), min_size=2, max_size=3, unique=True)
            )
            foreign_keys.append(
                ForeignKeySpec(
                    columns=tuple(fk_columns),
                    other_table=draw(names),
                    other_columns=tuple(draw(names) for _ in fk_columns),
                    on_delete=draw(st.sampled_from(FK_ACTIONS)),
                    on_update=draw(st.sampled_from(FK_ACTIONS)),
                )
            )

    checks = [
        CheckSpec(
            f"length({quote_identifier(draw(st.sampled_from(column_names)))}) < 1000",
            name=draw(st.one_of(st.none(), names)),
        )
        for _ in range(draw(st.integers(0, 2)))
    ]

    index_names = draw(
        st.lists(names.filter(lambda n: not _reserved(n)), max_size=3).filter(
            lambda ns: _distinct([table_name, *ns])
        )
    )
    indexes = []
    for index_name in index_names:
        cols = draw(st.lists(st.sampled_from(column_names), min_size=1, max_size=3, unique=True))
        where = None
        if draw(st.booleans()):
            where = f"{quote_identifier(draw(st.sampled_from(column_names)))} IS NOT NULL"
        # A non-partial single-column unique index reads back as the column's UNIQUE flag
        # (see test_single_column_unique_index_reads_as_column_flag), so leave it out here.
        unique = draw(st.booleans()) and (len(cols) > 1 or where is not None)
        indexes.append(IndexSpec(index_name, tuple(cols), unique=unique, where=where))
    indexes.sort(key=lambda i: i.name)

    return TableSpec(
        name=table_name,
        columns=tuple(columns),
        indexes=tuple(indexes),
        checks=tuple(checks),
        foreign_keys=tuple(foreign_keys),
        unique_together=tuple(unique_together),
    )


def _create(db: sqlite_utils.Database, spec: TableSpec) -> None:
    db.execute(ddl.create_table_sql(spec))
    for index in spec.indexes:
        db.execute(ddl.create_index_sql(spec.name, index))


@SETTINGS
@given(table_specs())
def test_create_then_introspect_gives_the_same_spec(spec: TableSpec) -> None:
    db = sqlite_utils.Database(sqlite3.connect(":memory:"))
    _create(db, spec)

    read = introspect.read_table(db, spec.name)
    assert read == spec

    state = introspect.read_database(db)
    assert set(state.tables) == {spec.name}
    plan = diff([spec], state)
    assert plan.in_sync, str(plan)
    assert list(plan) == []


@SETTINGS
@given(table_specs())
def test_rebuilding_a_table_keeps_its_spec(spec: TableSpec) -> None:
    db = sqlite_utils.Database(sqlite3.connect(":memory:"))
    _create(db, spec)
    for statement in rebuild_statements(spec, spec, [(c, c) for c in spec.column_names]):
        db.execute(statement)
    assert introspect.read_table(db, spec.name) == spec


@SETTINGS
@given(table_specs())
def test_column_dict_round_trip(spec: TableSpec) -> None:
    for column in spec.columns:
        expected = column
        if column.default_sql == "NULL":
            # NULL is "no default" in the dict shape
            expected = replace(column, default_sql=None)
        assert ColumnSpec.from_dict(column.to_dict()) == expected


def test_single_column_unique_index_reads_as_column_flag() -> None:
    """The one deliberate normalization: a plain one-column unique index is the column's
    UNIQUE flag (it is how sync adds a unique column to an existing table)."""
    db = sqlite_utils.Database(sqlite3.connect(":memory:"))
    db.execute('CREATE TABLE "t" ("a" TEXT, "b" TEXT)')
    db.execute('CREATE UNIQUE INDEX "t_a_unique" ON "t" ("a")')
    read = introspect.read_table(db, "t")
    assert read.column("a").unique is True
    assert read.column("b").unique is False
    assert read.indexes == ()
