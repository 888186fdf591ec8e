"""Range operators and ``order_by`` give Python's answer for every kind of field, or refuse.

The property test at the top stores random values of each storage kind, then checks every
comparison operator and both orders against the same filter and sort done in Python on the
values. The tests after it pin the decisions behind that: ``Decimal`` compares as numbers
(a collation), aware datetimes and times are stored in UTC, JSON fields refuse what has no
right answer, ``like`` needs a field stored as text.
"""

from __future__ import annotations

import enum
import sqlite3
import types
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta, timezone
from decimal import Decimal
from pathlib import Path
from typing import Any, Literal
from uuid import UUID

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import BaseModel
from typing_extensions import TypedDict

from hedystia_models import Database, Field, Table, database
from hedystia_models.engine.sqlite.collations import (
    DECIMAL_COLLATION,
    compare_decimal_text,
    compare_json_text,
    decimal_sort_key,
    register_collations,
)
from hedystia_models.errors import QueryError, RowError, SchemaError
from hedystia_models.rows.where import OPERATORS

# -- the kinds, each with values and Python's order ------------------------------------------


class Color(enum.Enum):
    RED = "red"
    GREEN = "green"
    BLUE = "blue"


class Level(enum.Enum):
    LOW = 1
    MID = 2
    HIGH = 3


def _special_last(value: Decimal) -> tuple[int, Decimal]:
    """The documented order of Decimal: -Infinity < finite < Infinity < NaN (all NaNs equal),
    numbers compared exactly (2.5 == 2.50)."""
    if value.is_nan():
        return 3, Decimal(0)
    if value.is_infinite():
        return (0 if value < 0 else 2), Decimal(0)
    return 1, value


def _utc_micro(clock: time) -> int:
    offset = clock.utcoffset() or timedelta(0)
    reading = timedelta(
        hours=clock.hour, minutes=clock.minute, seconds=clock.second, microseconds=clock.microsecond
    )
    return (reading - offset) // timedelta(microseconds=1)


offsets = st.integers(min_value=-86_399, max_value=86_399).map(
    lambda seconds: timezone(timedelta(seconds=seconds))
)
DAY = 86_400_000_000
NOON = datetime(2026, 6, 1, 12, 0, tzinfo=timezone.utc)


@dataclass(frozen=True)
class Kind:
    """A field type, values for it, and the key Python orders and compares them by."""

    id: str
    annotation: Any
    values: st.SearchStrategy[Any]
    key: Callable[[Any], Any] = lambda value: value
    options: dict[str, Any] = field(default_factory=dict)
    #: The column as an adopted database declares it (``None``: the package creates it).
    declared: str | None = None


KINDS = [
    Kind("boolean", bool, st.booleans()),
    Kind("integer", int, st.integers(min_value=-(2**63), max_value=2**63 - 1)),
    Kind("real", float, st.floats(allow_nan=False)),
    Kind("text", str, st.text(st.characters(exclude_categories=("Cs",)), max_size=6)),
    Kind("blob", bytes, st.binary(max_size=6)),
    Kind(
        "decimal",
        Decimal,
        st.decimals(allow_nan=True, allow_infinity=True)
        | st.sampled_from([Decimal("2.5"), Decimal("2.50"), Decimal("9"), Decimal("10")]),
        _special_last,
        {"allow_inf_nan": True},
    ),
    Kind(
        "decimal_numeric",
        Decimal,
        st.decimals(min_value=-(10**7), max_value=10**7, places=2),
        options={"max_digits": 10, "decimal_places": 2},
        declared="DECIMAL(10,2)",
    ),
    Kind("datetime_naive", datetime, st.datetimes()),
    Kind(
        "datetime_aware",
        datetime,
        # Mostly instants within two days of each other, in any offset (where text order and
        # time order part), some the same instant in two offsets; some anywhere.
        st.builds(
            lambda half_hours, offset: (NOON + timedelta(minutes=30 * half_hours)).astimezone(
                offset
            ),
            st.integers(min_value=-96, max_value=96),
            offsets,
        )
        | st.datetimes(
            min_value=datetime(1, 1, 2), max_value=datetime(9999, 12, 30), timezones=offsets
        ),
    ),
    Kind("date", date, st.dates()),
    Kind("time_naive", time, st.times()),
    Kind(
        "time_aware",
        time,
        st.times(timezones=offsets).filter(lambda clock: 0 <= _utc_micro(clock) < DAY),
    ),
    Kind(
        "timedelta",
        timedelta,
        st.timedeltas(
            min_value=timedelta(microseconds=-(2**63)),
            max_value=timedelta(microseconds=2**63 - 1),
        ),
    ),
    Kind("uuid", UUID, st.uuids()),
    Kind("uuid_hex", UUID, st.uuids(), options={"uuid_form": "hex"}),
    Kind("uuid_bytes", UUID, st.uuids(), options={"uuid_form": "bytes"}),
    # Python does not order Enum members: the order of their values is the documented one.
    Kind("str_enum", Color, st.sampled_from(Color), lambda member: member.value),
    Kind("int_enum", Level, st.sampled_from(Level), lambda member: member.value),
    Kind("str_literal", Literal["a", "b", "c"], st.sampled_from(["a", "b", "c"])),
    Kind("int_literal", Literal[3, 1, 2], st.sampled_from([1, 2, 3])),
    Kind("bool_literal", Literal[True, False], st.booleans()),
]


def model_for(kind: Kind) -> type[Table]:
    namespace = {
        "__annotations__": {"id": int | None, "value": kind.annotation | None},
        "id": Field(default=None, primary_key=True),
        "value": Field(default=None, **kind.options),
    }
    model = types.new_class(
        f"Row_{kind.id}", (Table,), {"table": f"t_{kind.id}"}, lambda ns: ns.update(namespace)
    )
    return model


MODELS = {kind.id: model_for(kind) for kind in KINDS}


@pytest.fixture(scope="module")
def kinds_db() -> Iterator[Database]:
    conn = sqlite3.connect(":memory:")
    for kind in KINDS:
        if kind.declared is not None:  # a column as another tool (Django) made it
            conn.execute(
                f"CREATE TABLE t_{kind.id} (id INTEGER NOT NULL PRIMARY KEY, value {kind.declared})"
            )
    db = database(schemas=list(MODELS.values()), connection=conn, sync_schemas=True)
    assert db.plan().in_sync, str(db.plan())
    yield db
    db.close()
    conn.close()


def python_matches(kind: Kind, op: str, value: Any, operand: Any) -> bool:
    """Does ``value`` (``None`` for NULL) satisfy ``{op: operand}``, as Python sees it?"""
    key = kind.key
    if op == "in":
        return any(python_matches(kind, "eq", value, item) for item in operand)
    if op == "not_in":
        return all(python_matches(kind, "ne", value, item) for item in operand)
    if op == "eq":
        if operand is None or value is None:
            return operand is None and value is None
        return bool(key(value) == key(operand))
    if op == "ne":
        return not python_matches(kind, "eq", value, operand)
    if op == "not_between":
        return not python_matches(kind, "between", value, operand)
    if value is None:
        return False
    if op == "between":
        low, high = operand
        return bool(key(low) <= key(value) <= key(high))
    compare = {"gt": "__gt__", "gte": "__ge__", "lt": "__lt__", "lte": "__le__"}[op]
    return bool(getattr(key(value), compare)(key(operand)))


def python_order(kind: Kind, rows: list[tuple[int, Any]], descending: bool) -> list[int]:
    """Ids sorted by value (NULL first ascending, last descending), ties by id."""
    by_id = sorted(rows, key=lambda row: row[0])

    def value_key(row: tuple[int, Any]) -> tuple[bool, Any]:
        return row[1] is not None, None if row[1] is None else kind.key(row[1])

    return [row_id for row_id, _ in sorted(by_id, key=value_key, reverse=descending)]


COMPARED = ("eq", "ne", "gt", "gte", "lt", "lte", "between", "not_between", "in", "not_in")


@pytest.mark.parametrize("kind", KINDS, ids=[kind.id for kind in KINDS])
@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)
@given(data=st.data())
def test_every_operator_and_order_agree_with_python(
    kinds_db: Database, kind: Kind, data: st.DataObject
) -> None:
    repo = kinds_db.table(MODELS[kind.id])
    repo.delete(where={})
    values = data.draw(st.lists(st.none() | kind.values, max_size=8), label="values")
    rows = [(row.id, row.value) for row in repo.insert_many([{"value": v} for v in values])]
    present = [value for value in values if value is not None]
    operands = st.sampled_from(present) | kind.values if present else kind.values
    for op in COMPARED:
        if op in ("in", "not_in"):
            operand: Any = data.draw(st.lists(st.none() | operands, max_size=4), label=op)
        elif op in ("between", "not_between"):
            operand = data.draw(st.lists(operands, min_size=2, max_size=2), label=op)
        else:
            operand = data.draw(operands, label=op)
        found = [row.id for row in repo.find(where={"value": {op: operand}}, order_by="id")]
        expected = [row_id for row_id, value in rows if python_matches(kind, op, value, operand)]
        assert found == expected, (op, operand, rows)
    for descending in (False, True):
        order = ["-value" if descending else "value", "id"]
        found = [row.id for row in repo.find(order_by=order)]
        assert found == python_order(kind, rows, descending), (order, rows)


def test_the_property_test_covers_every_kind_and_operator() -> None:
    from hedystia_models.engine.sqlite.storage import KIND_STORAGE
    from hedystia_models.model.table import table_info

    covered = {table_info(model).fields[1].storage.kind for model in MODELS.values()}
    assert covered == {*KIND_STORAGE, "enum", "literal"}
    assert set(COMPARED) | {"like", "not_like", "is_null"} == set(OPERATORS)


# -- Decimal: compared and sorted as numbers -------------------------------------------------


class Priced(Table, table="priced"):
    id: int | None = Field(default=None, primary_key=True)
    price: Decimal | None = None


@pytest.fixture
def priced(tmp_path: Path) -> Iterator[Database]:
    db = database(schemas=[Priced], connection=tmp_path / "p.db", sync_schemas=True)
    db.table(Priced).insert_many(
        [{"price": p} for p in ("9", "2.5", "10", "2.50", "-1E+1", "0.000")]
    )
    yield db
    db.close()


def prices(db: Database, **kwargs: Any) -> list[str]:
    return [str(row.price) for row in db.table(Priced).find(**kwargs)]


def test_decimal_order_and_ranges_are_numeric(priced: Database) -> None:
    assert prices(priced, order_by=["price", "id"]) == ["-1E+1", "0.000", "2.5", "2.50", "9", "10"]
    assert prices(priced, order_by=["-price", "id"]) == ["10", "9", "2.5", "2.50", "0.000", "-1E+1"]
    where = {"price": {"gt": Decimal("2.5")}}
    assert prices(priced, where=where, order_by="id") == ["9", "10"]
    assert prices(priced, where={"price": {"lte": 0}}, order_by="id") == ["-1E+1", "0.000"]


def test_decimal_equality_is_numeric(priced: Database) -> None:
    repo = priced.table(Priced)
    assert prices(priced, where={"price": Decimal("2.5")}, order_by="id") == ["2.5", "2.50"]
    assert prices(priced, where={"price": "2.500"}, order_by="id") == ["2.5", "2.50"]
    assert prices(priced, where={"price": {"in": [0, 10]}}, order_by="id") == ["10", "0.000"]
    assert repo.count(where={"price": {"ne": Decimal("2.50")}}) == 4
    assert repo.count(where={"price": {"not_in": ["2.5", "-10"]}}) == 3
    # The stored text stays exact: only the comparison is numeric.
    assert [r["price"] for r in priced.raw("SELECT price FROM priced ORDER BY id")][:2] == [
        "9",
        "2.5",
    ]


def test_decimal_collation_is_a_total_order() -> None:
    texts = ["NaN", "x", "1E+2", "-Infinity", "Infinity", "-3", "-0", "0.0", "sNaN", "", "a"]
    assert sorted(texts, key=decimal_sort_key) == [
        "-Infinity",
        "-3",
        "-0",
        "0.0",
        "1E+2",
        "Infinity",
        "NaN",
        "sNaN",
        "",
        "a",
        "x",
    ]
    assert compare_decimal_text("NaN", "-NaN") == 0  # one NaN, as in PostgreSQL
    assert compare_decimal_text("-0", "0.00") == 0
    assert compare_decimal_text("1E+999999", "9" * 100) == 1


def test_a_bool_is_not_a_decimal_operand(priced: Database) -> None:
    with pytest.raises(QueryError, match=r"'gt' on 'price' got True, which is not a value"):
        priced.table(Priced).find(where={"price": {"gt": True}})


def test_decimal_in_an_adopted_numeric_column(tmp_path: Path) -> None:
    """A DECIMAL(10,2) column (Django's DecimalField) stores 10.00 as the integer 10 and 2.5
    as a float: SQLite compares those numerically itself; the collation changes nothing."""

    class Invoice(Table, table="invoice"):
        id: int | None = Field(default=None, primary_key=True)
        total: Decimal = Field(max_digits=10, decimal_places=2)

    path = tmp_path / "django.db"
    conn = sqlite3.connect(path)
    conn.execute('CREATE TABLE "invoice" ("id" integer NOT NULL PRIMARY KEY, "total" decimal)')
    conn.executemany(
        "INSERT INTO invoice (total) VALUES (?)", [("9.00",), ("10.00",), ("2.50",), ("10.5",)]
    )
    conn.commit()
    conn.close()
    with database(schemas=[Invoice], connection=path) as db:
        repo = db.table(Invoice)
        repo.insert({"total": Decimal("2.5")})
        stored = db.raw("SELECT typeof(total) AS t FROM invoice ORDER BY id")
        assert [row["t"] for row in stored] == ["integer", "integer", "real", "real", "real"]
        totals = [str(row.total) for row in repo.find(order_by=["total", "id"])]
        assert totals == ["2.50", "2.50", "9.00", "10.00", "10.50"]
        assert repo.count(where={"total": Decimal("2.500")}) == 2
        assert repo.count(where={"total": {"gt": "9.5"}}) == 2
        assert repo.count(where={"total": {"in": ["10", "9"]}}) == 2


def test_the_database_registers_the_collations_on_its_connection(tmp_path: Path) -> None:
    conn = sqlite3.connect(":memory:")
    with pytest.raises(sqlite3.OperationalError, match="no such collation"):
        conn.execute(f"SELECT '9' < '10' COLLATE {DECIMAL_COLLATION}")
    with database(schemas=[Priced], connection=conn) as db:
        assert db.raw(f"SELECT '9' < '10' COLLATE {DECIMAL_COLLATION} AS lt") == [{"lt": 1}]
    register_collations(conn)  # again: harmless
    conn.close()


# -- aware datetimes and times: stored in UTC --------------------------------------------------

PLUS_5 = timezone(timedelta(hours=5))
MINUS_3 = timezone(timedelta(hours=-3))


class Event(Table, table="events"):
    id: int | None = Field(default=None, primary_key=True)
    at: datetime | None = Field(default=None, index=True)
    clock: time | None = None
    day: date | None = None


@pytest.fixture
def events(tmp_path: Path) -> Iterator[Database]:
    db = database(schemas=[Event], connection=tmp_path / "e.db", sync_schemas=True)
    yield db
    db.close()


def test_aware_datetimes_are_stored_in_utc_and_read_back_equal(events: Database) -> None:
    repo = events.table(Event)
    noon = datetime(2026, 1, 1, 12, 0, tzinfo=PLUS_5)  # 07:00 UTC
    row = repo.insert({"at": noon})
    assert row.at == noon and row.at.tzinfo == timezone.utc
    assert row.at.isoformat() == "2026-01-01T07:00:00+00:00"
    assert events.raw("SELECT at FROM events") == [{"at": "2026-01-01 07:00:00+00:00"}]
    got = repo.get(row.id)
    assert got is not None and got.at == noon
    eight_utc = datetime(2026, 1, 1, 8, 0, tzinfo=timezone.utc)
    assert repo.count(where={"at": {"gt": eight_utc}}) == 0  # as text, 12:00+05:00 was later
    assert repo.count(where={"at": {"lt": eight_utc}}) == 1
    assert repo.count(where={"at": "2026-01-01T04:00:00-03:00"}) == 1  # the same instant
    assert repo.count(where={"at": {"in": [datetime(2026, 1, 1, 7, tzinfo=timezone.utc)]}}) == 1


def test_update_stores_aware_datetimes_in_utc_too(events: Database) -> None:
    repo = events.table(Event)
    row = repo.insert({"at": datetime(2026, 1, 1, tzinfo=timezone.utc)})
    repo.update(where={"id": row.id}, data={"at": datetime(2026, 6, 1, 21, 30, tzinfo=MINUS_3)})
    assert events.raw("SELECT at FROM events") == [{"at": "2026-06-02 00:30:00+00:00"}]


def test_a_range_on_a_datetime_still_uses_its_index(events: Database) -> None:
    plan = events.raw(
        "EXPLAIN QUERY PLAN SELECT id FROM events WHERE at > ?", ["2026-01-01 00:00:00+00:00"]
    )
    assert any("events_at_index" in row["detail"] for row in plan)


def test_naive_datetimes_are_stored_as_they_are(events: Database) -> None:
    events.table(Event).insert({"at": datetime(2026, 1, 1, 12, 0)})
    assert events.raw("SELECT at FROM events") == [{"at": "2026-01-01 12:00:00"}]


def test_naive_and_aware_values_in_one_field_sort_as_text(events: Database) -> None:
    """Python refuses to order naive and aware datetimes; the column orders their text, a
    naive reading as if it were UTC (before the aware value of the same reading)."""
    repo = events.table(Event)
    repo.insert_many(
        [
            {"at": datetime(2026, 1, 1, 9, 0, tzinfo=PLUS_5)},  # 04:00 UTC
            {"at": datetime(2026, 1, 1, 5, 0)},
            {"at": datetime(2026, 1, 1, 4, 0)},
        ]
    )
    assert [row.id for row in repo.find(order_by="at")] == [3, 1, 2]
    # Never equal, as in Python: a naive value is not the aware one of the same reading.
    assert repo.count(where={"at": datetime(2026, 1, 1, 4, 0, tzinfo=timezone.utc)}) == 1


def test_an_aware_datetime_outside_the_years_in_utc_is_refused(events: Database) -> None:
    with pytest.raises(RowError) as caught:
        events.table(Event).insert({"at": datetime(1, 1, 1, 1, 0, tzinfo=PLUS_5)})
    assert caught.value.problems == [
        (
            None,
            "at",
            "cannot be stored: 0001-01-01 01:00:00+05:00 falls outside the years 1 to 9999 in "
            "UTC, where aware datetimes are stored",
        )
    ]


def test_aware_times_are_stored_in_utc(events: Database) -> None:
    repo = events.table(Event)
    row = repo.insert({"clock": time(12, 0, tzinfo=PLUS_5)})
    assert row.clock == time(7, 0, tzinfo=timezone.utc) == time(12, 0, tzinfo=PLUS_5)
    assert events.raw("SELECT clock FROM events") == [{"clock": "07:00:00+00:00"}]
    assert repo.count(where={"clock": {"gt": time(8, 0, tzinfo=timezone.utc)}}) == 0
    assert repo.count(where={"clock": "09:00:00+02:00"}) == 1


def test_an_aware_time_on_another_day_in_utc_is_refused(events: Database) -> None:
    """01:00+05:00 is 20:00 UTC the day before; Python says time(20, UTC) != time(1, +05:00)
    (it compares aware times without wrapping around midnight), so it is not stored."""
    message = (
        "the aware time 01:00:00+05:00 is 20:00:00+00:00 on the day before; times are "
        "stored in UTC, without a day: store a datetime, or the time in UTC"
    )
    with pytest.raises(RowError) as caught:
        events.table(Event).insert({"clock": time(1, 0, tzinfo=PLUS_5)})
    assert caught.value.problems == [(None, "clock", f"cannot be stored: {message}")]
    with pytest.raises(QueryError, match=r"'lt' on 'clock' got .*which cannot be stored"):
        events.table(Event).find(where={"clock": {"lt": time(1, 0, tzinfo=PLUS_5)}})


def test_a_datetime_for_a_date_field_is_validated_not_compared_as_its_text(
    events: Database,
) -> None:
    repo = events.table(Event)
    repo.insert({"day": date(2026, 1, 1)})
    assert repo.count(where={"day": datetime(2026, 1, 1)}) == 1  # midnight: the date
    assert repo.count(where={"day": {"lte": datetime(2026, 1, 1)}}) == 1
    with pytest.raises(QueryError, match=r"'eq' on 'day' got .*not a value of that field"):
        repo.find(where={"day": datetime(2026, 1, 1, 12, 0)})


class Scheduled(Table, table="scheduled"):
    id: int | None = Field(default=None, primary_key=True)
    at: datetime = datetime(2026, 1, 1, 9, 0, tzinfo=timezone(timedelta(hours=2)))
    naive: datetime = datetime(2026, 1, 1, 9, 0)


def test_an_aware_default_is_rendered_in_utc() -> None:
    defaults = {c.name: c.default_sql for c in Scheduled.table_spec().columns}
    assert defaults["at"] == "'2026-01-01 07:00:00+00:00'"
    assert defaults["naive"] == "'2026-01-01 09:00:00'"


def test_a_default_written_before_in_another_offset_is_no_drift(tmp_path: Path) -> None:
    """A database made when aware defaults kept their offset holds the same instant: the
    plan compares the two defaults as instants and finds nothing to change."""
    path = tmp_path / "old.db"
    conn = sqlite3.connect(path)
    conn.execute(
        'CREATE TABLE "scheduled" ("id" INTEGER PRIMARY KEY, '
        "\"at\" DATETIME NOT NULL DEFAULT '2026-01-01 09:00:00+02:00', "
        "\"naive\" DATETIME NOT NULL DEFAULT '2026-01-01 09:00:00')"
    )
    conn.close()
    with database(schemas=[Scheduled], connection=path) as db:
        assert db.plan().in_sync, str(db.plan())
    conn = sqlite3.connect(path)
    conn.execute("DROP TABLE scheduled")
    conn.execute(
        'CREATE TABLE "scheduled" ("id" INTEGER PRIMARY KEY, '
        "\"at\" DATETIME NOT NULL DEFAULT '2026-01-01 09:00:00+03:00', "
        "\"naive\" DATETIME NOT NULL DEFAULT '2026-01-01 09:00:00+00:00')"
    )
    conn.close()
    with database(schemas=[Scheduled], connection=path) as db:
        changes = str(db.plan())
        assert "'2026-01-01 09:00:00+03:00'" in changes  # another instant
        assert "'2026-01-01 09:00:00+00:00'" in changes  # aware is not naive


def test_an_aware_time_default_on_another_day_is_a_schema_error() -> None:
    with pytest.raises(SchemaError, match=r"default .* cannot be stored as an SQL DEFAULT"):

        class Alarm(Table, table="alarms"):
            id: int | None = Field(default=None, primary_key=True)
            ring: time = time(1, 0, tzinfo=PLUS_5)


# -- JSON fields: equality only ----------------------------------------------------------------


class Point(BaseModel):
    x: int
    y: int = 0


class Shape(TypedDict):
    tags: frozenset[str]


class Doc(Table, table="docs"):
    id: int | None = Field(default=None, primary_key=True)
    meta: dict[str, Any] | None = None
    point: Point | None = None
    items: list[int] = []
    labels: set[str] = set()
    shape: Shape | None = None


@pytest.fixture
def docs(tmp_path: Path) -> Iterator[Database]:
    db = database(schemas=[Doc], connection=tmp_path / "d.db", sync_schemas=True)
    db.table(Doc).insert_many(
        [
            {"meta": {"a": 1, "b": {"c": 2, "d": 3}}, "point": {"x": 1}, "items": [1, 2]},
            {"meta": {"b": 2}, "items": [2, 1]},
        ]
    )
    yield db
    db.close()


def test_json_equality_ignores_key_order(docs: Database) -> None:
    repo = docs.table(Doc)
    assert docs.raw("SELECT meta FROM docs WHERE id = 1") == [{"meta": '{"a":1,"b":{"c":2,"d":3}}'}]
    reordered = {"b": {"d": 3, "c": 2}, "a": 1}
    assert [row.id for row in repo.find(where={"meta": {"eq": reordered}})] == [1]
    assert [row.id for row in repo.find(where={"meta": {"ne": reordered}}, order_by="id")] == [2]
    assert repo.count(where={"meta": {"in": [reordered, {"b": 2}]}}) == 2
    assert repo.count(where={"meta": {"not_in": [reordered]}}) == 1
    assert repo.count(where={"items": [2, 1]}) == 1  # list order counts, as in Python


def test_a_dict_for_a_nested_model_is_validated_first(docs: Database) -> None:
    repo = docs.table(Doc)
    assert repo.count(where={"point": {"eq": {"x": 1}}}) == 1  # y defaults to 0
    assert repo.count(where={"point": {"eq": Point(x=1, y=0)}}) == 1
    assert repo.count(where={"point": None}) == 1


def test_a_dict_on_a_json_field_says_to_use_eq(docs: Database) -> None:
    with pytest.raises(QueryError) as caught:
        docs.table(Doc).find(where={"meta": {"b": 2}})
    assert str(caught.value) == (
        "table 'docs': a dict given for the JSON field 'meta' is read as operators, and 'b' "
        "is not one; to find a dict value write {'meta': {'eq': {...}}}"
    )


@pytest.mark.parametrize("op", ["gt", "gte", "lt", "lte", "like"])
def test_ranges_and_like_on_json_are_refused(docs: Database, op: str) -> None:
    operand = "%" if op == "like" else {"a": 1}
    with pytest.raises(QueryError) as caught:
        docs.table(Doc).find(where={"meta": {op: operand}})
    assert str(caught.value) == (
        f"table 'docs': {op!r} on the JSON field 'meta' has no right answer: JSON values have "
        "no order, and their stored text is no value to match a pattern against; use eq, ne, "
        "in, not_in or is_null"
    )


def test_order_by_a_json_field_is_refused(docs: Database) -> None:
    with pytest.raises(QueryError) as caught:
        docs.table(Doc).find(order_by=["id", "-items"])
    assert str(caught.value) == (
        "table 'docs': cannot order by the JSON field 'items': JSON values have no order"
    )


@pytest.mark.parametrize("name", ["labels", "shape"])
def test_equality_on_values_holding_sets_is_refused(docs: Database, name: str) -> None:
    """A set's items are stored in iteration order, which differs for equal sets (and for
    strings, between processes): equality of the stored text would be wrong."""
    with pytest.raises(QueryError, match=rf"'eq' on {name!r} has no right answer: its values"):
        docs.table(Doc).find(where={name: {"eq": {"tags": {"a"}} if name == "shape" else {"a"}}})
    assert docs.table(Doc).count(where={name: {"is_null": True}}) == (2 if name == "shape" else 0)


def test_the_json_collation_compares_canonical_json() -> None:
    assert compare_json_text('{"a":1,"b":[1,{"y":1,"x":2}]}', '{"b":[1,{"x":2,"y":1}],"a":1}') == 0
    assert compare_json_text("[1,2]", "[2,1]") != 0
    assert compare_json_text("not json", "not json") == 0


# -- like: text only; NaN: refused ------------------------------------------------------------


class Mixed(Table, table="mixed"):
    id: int | None = Field(default=None, primary_key=True)
    n: int = 0
    r: float = 0.0
    flag: bool = False
    wait: timedelta = timedelta(0)
    data: bytes = b""
    key: UUID = Field(default=UUID(int=1), uuid_form="bytes")
    level: Level = Level.LOW
    at: datetime = datetime(2026, 1, 1, 9, 0, tzinfo=PLUS_5)
    price: Decimal = Decimal("1.10")
    color: Color = Color.RED
    size: Literal["s", "m"] = "s"


@pytest.fixture
def mixed(tmp_path: Path) -> Iterator[Database]:
    db = database(schemas=[Mixed], connection=tmp_path / "m.db", sync_schemas=True)
    db.table(Mixed).insert({})
    yield db
    db.close()


@pytest.mark.parametrize(
    ("name", "stored"),
    [
        ("n", "integers"),
        ("r", "floats"),
        ("flag", "0 / 1"),
        ("wait", "integer microseconds"),
        ("data", "bytes"),
        ("key", "16 bytes"),
        ("level", "integers"),
    ],
)
def test_like_on_a_field_not_stored_as_text_is_refused(
    mixed: Database, name: str, stored: str
) -> None:
    with pytest.raises(QueryError) as caught:
        mixed.table(Mixed).find(where={name: {"like": "1%"}})
    assert str(caught.value) == (
        f"table 'mixed': 'like' matches text, and {name!r} is stored as {stored}"
    )


def test_like_matches_the_stored_text(mixed: Database) -> None:
    repo = mixed.table(Mixed)
    assert repo.count(where={"at": {"like": "2026-01-01 04:%"}}) == 1  # in UTC
    assert repo.count(where={"price": {"like": "1.1_"}}) == 1
    assert repo.count(where={"color": {"like": "r%"}}) == 1
    assert repo.count(where={"size": {"like": "s"}}) == 1


@pytest.mark.parametrize("name", ["n", "r"])
def test_nan_as_a_number_operand_is_refused(mixed: Database, name: str) -> None:
    with pytest.raises(QueryError) as caught:
        mixed.table(Mixed).find(where={name: {"in": [1, float("nan")]}})
    assert str(caught.value) == (
        f"table 'mixed': 'in' on {name!r} got nan, which equals and orders with no number "
        "(sqlite3 would bind it as NULL)"
    )


def test_a_literal_operand_is_validated(mixed: Database) -> None:
    repo = mixed.table(Mixed)
    assert repo.count(where={"size": {"in": ["s", "m"]}}) == 1
    with pytest.raises(QueryError, match=r"'gt' on 'size' got 5, which is not a value"):
        repo.find(where={"size": {"gt": 5}})
