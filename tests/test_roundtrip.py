"""Values written through a repository read back exactly: same type, same value, same form.

Fixed examples pin down the stored form of every type (what another tool reading the file
sees); hypothesis properties check the round trip over wide ranges of values.
"""

from __future__ import annotations

import enum
import math
from collections.abc import Iterator
from datetime import date, datetime, time, timedelta, timezone
from decimal import Decimal
from pathlib import Path
from typing import Any, Literal
from uuid import UUID
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import BaseModel

from hedystia_models import Database, Field, Table, database
from hedystia_models.errors import RowError
from hedystia_models.model.table import table_info
from hedystia_models.rows.codec import RowCodec, convert


class Color(enum.Enum):
    RED = "red"
    BLUE = "blue"


class Size(enum.IntEnum):
    SMALL = 1
    LARGE = 2


class Flag(enum.Enum):  # a plain Enum with integer values
    OFF = 0
    ON = 10


class Point(BaseModel):
    x: int
    y: int


class Shape(BaseModel):
    name: str
    points: list[Point]
    at: datetime | None = None
    price: Decimal | None = None


class Everything(Table, table="everything"):
    id: int | None = Field(default=None, primary_key=True)
    count: int
    ratio: float
    text: str
    short: str = Field(max_length=8)
    active: bool
    data: bytes
    price: Decimal
    aware: datetime
    naive: datetime
    day: date
    clock: time
    aware_clock: time
    wait: timedelta
    key: UUID
    color: Color
    size: Size
    flag: Flag
    mode: Literal["fast", "slow"]
    level: Literal[1, 2, 3]
    meta: dict[str, Any]
    numbers: list[int]
    pair: tuple[int, str]
    labels: set[str]
    shape: Shape
    maybe: Shape | None = None
    note: str | None = None


OSLO = timezone(timedelta(hours=2))

VALUES: dict[str, Any] = {
    "count": -(2**63),
    "ratio": 0.1,
    "text": "héllo\x00wörld ☃ 🎉 \u202eabc",
    "short": "abc",
    "active": True,
    "data": b"\x00\xffbytes\x00",
    "price": Decimal("1.10"),
    "aware": datetime(2026, 1, 1, 9, 30, 15, 123456, tzinfo=OSLO),
    "naive": datetime(2026, 1, 1, 9, 30),
    "day": date(2026, 1, 2),
    "clock": time(10, 15),
    "aware_clock": time(10, 15, 0, 5, tzinfo=timezone(timedelta(hours=-3, minutes=-30))),
    "wait": timedelta(days=-1, seconds=5, microseconds=7),
    "key": UUID("12345678-1234-5678-1234-567812345678"),
    "color": Color.BLUE,
    "size": Size.LARGE,
    "flag": Flag.ON,
    "mode": "slow",
    "level": 3,
    "meta": {"a": 1, "nested": {"list": [1, "two", None, 3.5, True]}, "ünï": "çødé"},
    "numbers": [3, 1, 2],
    "pair": (7, "seven"),
    "labels": {"b", "a"},
    "shape": Shape(
        name="tri",
        points=[Point(x=0, y=0), Point(x=1, y=2)],
        at=datetime(2026, 5, 1, tzinfo=timezone.utc),
        price=Decimal("9.990"),
    ),
}

#: What each value looks like in the file (as sqlite3 returns it).
STORED: dict[str, Any] = {
    "count": -(2**63),
    "ratio": 0.1,
    "text": "héllo\x00wörld ☃ 🎉 \u202eabc",
    "short": "abc",
    "active": 1,
    "data": b"\x00\xffbytes\x00",
    "price": "1.10",
    "aware": "2026-01-01 07:30:15.123456+00:00",  # aware values are stored in UTC
    "naive": "2026-01-01 09:30:00",
    "day": "2026-01-02",
    "clock": "10:15:00",
    "aware_clock": "13:45:00.000005+00:00",
    "wait": -86_395_000_000 + 7,
    "key": "12345678-1234-5678-1234-567812345678",
    "color": "blue",
    "size": 2,
    "flag": 10,
    "mode": "slow",
    "level": 3,
    "meta": '{"a":1,"nested":{"list":[1,"two",null,3.5,true]},"ünï":"çødé"}',
    "numbers": "[3,1,2]",
    "pair": '[7,"seven"]',
    "shape": (
        '{"name":"tri","points":[{"x":0,"y":0},{"x":1,"y":2}],'
        '"at":"2026-05-01T00:00:00Z","price":"9.990"}'
    ),
    "maybe": None,
    "note": None,
}


@pytest.fixture
def db(tmp_path: Path) -> Iterator[Database]:
    db = database(schemas=[Everything], connection=tmp_path / "rt.db", sync_schemas=True)
    yield db
    db.close()


def assert_same(value: Any, expected: Any) -> None:
    """Equal, of the same type, and for the types where == hides a difference, the same form."""
    assert value == expected
    assert type(value) is type(expected)
    if isinstance(expected, Decimal):
        assert str(value) == str(expected)  # trailing zeros and exponent kept
    if isinstance(expected, (datetime, time)):
        assert (value.tzinfo is None) == (expected.tzinfo is None)
        if expected.utcoffset() is not None:
            assert value.utcoffset() == timedelta(0)  # the same instant, in UTC
        else:
            # The same wall-clock reading (fold is not kept: it means nothing for a naive
            # value, and ISO 8601 text has no place for it).
            assert value.replace(tzinfo=None) == expected.replace(tzinfo=None)
    if isinstance(expected, float) and expected == 0:
        assert math.copysign(1, value) == math.copysign(1, expected)


def test_every_type_round_trips_through_insert_get_and_find(db: Database) -> None:
    repo = db.table(Everything)
    inserted = repo.insert(VALUES)
    assert inserted.id == 1
    fetched = repo.get(1)
    (found,) = repo.find()
    for row in (inserted, fetched, found):
        assert row is not None
        for name, expected in VALUES.items():
            assert_same(getattr(row, name), expected)
        assert row.maybe is None and row.note is None
        assert isinstance(row.shape.points[1], Point)
        assert row.shape.price is not None and str(row.shape.price) == "9.990"


def test_the_row_codec_alone_encodes_to_the_stored_form_and_back() -> None:
    """Without a database: RowCodec turns instances into stored columns and stored rows back
    into instances, NULL passing through both ways without reaching a field's codec."""
    codec: RowCodec[Everything] = RowCodec(table_info(Everything))
    first, second = codec.validate([VALUES, {**VALUES, "maybe": None, "note": "n"}])
    columns = codec.encode_columns([first, second])
    assert codec.fields == tuple(Everything.model_fields)
    stored = dict(zip(codec.fields, (column[0] for column in columns), strict=True))
    for name, value in STORED.items():
        assert stored[name] == value, name  # (a bool stays a bool: sqlite3 binds it as 0 / 1)
    rows = list(codec.rows(columns))
    assert [len(row) for row in rows] == [len(codec.fields)] * 2
    assert codec.load(rows) == [first, second]
    assert codec.load([]) == []
    assert convert(codec.info.fields[-1].storage.encode, [None, "x"]) == [None, "x"]


def test_every_type_is_stored_in_its_documented_form(db: Database) -> None:
    db.table(Everything).insert(VALUES)
    (row,) = db.raw("SELECT * FROM everything")
    labels = row.pop("labels")
    assert sorted(__import__("json").loads(labels)) == ["a", "b"]  # a set has no order
    expected = {"id": 1, **STORED}
    for name, value in expected.items():
        assert row[name] == value, name
        assert type(row[name]) is type(value), name


def test_insert_many_round_trips_the_same_values(db: Database) -> None:
    repo = db.table(Everything)
    second = {**VALUES, "maybe": VALUES["shape"], "note": "", "active": False}
    rows = repo.insert_many([VALUES, second])
    assert [r.id for r in rows] == [1, 2]
    got = repo.find(order_by="id")
    assert got == rows
    assert got[1].maybe == VALUES["shape"]
    assert got[1].note == "" and got[1].active is False


def test_update_writes_values_in_the_same_form_as_insert(db: Database) -> None:
    repo = db.table(Everything)
    repo.insert(VALUES)
    new = {
        "price": Decimal("-0.000"),
        "aware": datetime(1999, 12, 31, 23, 59, 59, tzinfo=timezone(timedelta(hours=-11))),
        "wait": timedelta(microseconds=1),
        "color": "red",
        "meta": {"k": [1]},
        "shape": {"name": "dot", "points": [{"x": 5, "y": 6}]},
    }
    (updated,) = repo.update(where={"id": 1}, data=new)
    assert str(updated.price) == "-0.000"
    assert_same(updated.aware, new["aware"])
    assert updated.wait == timedelta(microseconds=1)
    assert updated.color is Color.RED
    assert updated.shape == Shape(name="dot", points=[Point(x=5, y=6)])
    (row,) = db.raw("SELECT price, aware, wait, color, meta, shape FROM everything")
    assert row == {
        "price": "-0.000",
        "aware": "2000-01-01 10:59:59+00:00",
        "wait": 1,
        "color": "red",
        "meta": '{"k":[1]}',
        "shape": '{"name":"dot","points":[{"x":5,"y":6}],"at":null,"price":null}',
    }


def test_a_named_time_zone_reads_back_as_the_same_instant_in_utc(db: Database) -> None:
    """Aware values are stored in UTC, without the zone's name: the value reads back equal
    to the original, in UTC."""
    at = datetime(2026, 7, 1, 12, 0, tzinfo=ZoneInfo("Europe/Oslo"))
    row = db.table(Everything).insert({**VALUES, "aware": at})
    assert row.aware == at
    assert row.aware.utcoffset() == timedelta(0)
    assert row.aware.tzinfo == timezone.utc


def test_timedelta_and_int_outside_sqlite_integer_range_are_row_errors(db: Database) -> None:
    repo = db.table(Everything)
    with pytest.raises(RowError) as caught:
        repo.insert({**VALUES, "wait": timedelta(days=110_000_000)})  # > 2**63 µs
    assert caught.value.problems == [(None, "wait", "integer out of SQLite's 64-bit INTEGER range")]
    with pytest.raises(RowError) as caught:
        repo.insert_many([VALUES, {**VALUES, "count": 2**63}])
    assert caught.value.problems == [(1, "count", "integer out of SQLite's 64-bit INTEGER range")]
    assert "row 1, field 'count'" in str(caught.value)
    assert repo.count() == 0
    repo.insert(VALUES)
    with pytest.raises(RowError) as caught:
        repo.update(where={}, data={"count": -(2**63) - 1})
    assert caught.value.problems[0][1] == "count"
    (stored,) = repo.find()
    assert stored.count == -(2**63)


def test_nan_cannot_be_stored_in_a_not_null_float_column(db: Database) -> None:
    """SQLite stores a NaN REAL as NULL, so a NaN is refused before it is written (not as a
    misleading NOT NULL failure): tests/test_bad_input.py."""
    with pytest.raises(RowError, match="field 'ratio': NaN cannot be stored"):
        db.table(Everything).insert({**VALUES, "ratio": math.nan})
    assert db.table(Everything).count() == 0


def test_infinite_floats_round_trip(db: Database) -> None:
    repo = db.table(Everything)
    repo.insert_many([{**VALUES, "ratio": math.inf}, {**VALUES, "ratio": -math.inf}])
    assert [r.ratio for r in repo.find(order_by="id")] == [math.inf, -math.inf]


# -- columns stored under another name ------------------------------------------------------


class Person(Table, table="people"):
    id: int | None = Field(default=None, primary_key=True, column="person_id")
    display_name: str = Field(column="name")
    born: date | None = Field(default=None, column="birth date")


def test_fields_with_another_column_name_map_both_ways(tmp_path: Path) -> None:
    with database(schemas=[Person], connection=tmp_path / "p.db", sync_schemas=True) as db:
        repo = db.table(Person)
        ann = repo.insert({"display_name": "Ann", "born": date(1990, 5, 17)})
        repo.insert(Person(display_name="Bob"))
        assert ann == Person(id=1, display_name="Ann", born=date(1990, 5, 17))
        assert db.raw('SELECT person_id, name, "birth date" FROM people ORDER BY 1') == [
            {"person_id": 1, "name": "Ann", "birth date": "1990-05-17"},
            {"person_id": 2, "name": "Bob", "birth date": None},
        ]
        # where, order_by and update take the field name or the column name.
        assert repo.find(where={"display_name": "Bob"}) == repo.find(where={"name": "Bob"})
        assert [p.display_name for p in repo.find(order_by="-name")] == ["Bob", "Ann"]
        assert [p.id for p in repo.find(order_by=["birth date", "-person_id"])] == [2, 1]
        (bob,) = repo.update(where={"person_id": 2}, data={"birth date": date(2000, 1, 1)})
        assert bob.born == date(2000, 1, 1)
        (bob,) = repo.update(where={"id": 2}, data={"name": "Robert"})
        assert bob.display_name == "Robert"
        assert repo.get(2) == Person(id=2, display_name="Robert", born=date(2000, 1, 1))
        db.raw("INSERT INTO people (name) VALUES ('Cy')")  # written by another tool
        assert repo.get(3) == Person(id=3, display_name="Cy")


# -- properties -----------------------------------------------------------------------------


class Sample(Table, table="samples"):
    id: int | None = Field(default=None, primary_key=True)
    at: datetime | None = None
    clock: time | None = None
    day: date | None = None
    amount: Decimal | None = None
    wait: timedelta | None = None
    text: str | None = None
    blob: bytes | None = None
    number: int | None = None
    real: float | None = None
    key: UUID | None = None
    doc: dict[str, Any] | None = None
    items: list[Any] | None = None


@pytest.fixture(scope="module")
def sample_db() -> Iterator[Database]:
    db = database(schemas=[Sample], connection=":memory:", sync_schemas=True)
    yield db
    db.close()


def round_trip(db: Database, **values: Any) -> Sample:
    """Insert one row, check the returned instance and a fresh read agree; return the read."""
    repo = db.table(Sample)
    inserted = repo.insert(values)
    fetched = repo.get(inserted.id)
    assert fetched is not None
    assert fetched == inserted
    return fetched


# Offsets in whole seconds (historical zones have offsets like +00:19:32). Python accepts
# sub-second offsets too, but datetime.fromisoformat drops their fraction on Python 3.11, and
# no time zone has one.
offsets = st.integers(min_value=-86_399, max_value=86_399).map(
    lambda seconds: timezone(timedelta(seconds=seconds))
)
aware_or_naive = st.none() | offsets

quick = settings(max_examples=150, suppress_health_check=[HealthCheck.too_slow], deadline=None)


@quick
@given(st.datetimes(timezones=aware_or_naive))
def test_datetimes_with_and_without_offset_round_trip(sample_db: Database, at: datetime) -> None:
    if at.utcoffset() is not None:
        try:
            at.astimezone(timezone.utc)
        except OverflowError:  # outside the years 1 to 9999 in UTC, where it is stored
            with pytest.raises(RowError, match="falls outside the years 1 to 9999 in UTC"):
                sample_db.table(Sample).insert({"at": at})
            return
    assert_same(round_trip(sample_db, at=at).at, at)


@quick
@given(st.times(timezones=aware_or_naive))
def test_times_with_and_without_offset_round_trip(sample_db: Database, clock: time) -> None:
    utc = datetime.combine(date(2000, 1, 2), clock).astimezone(timezone.utc)
    if clock.utcoffset() is not None and utc.day != 2:  # on another day in UTC: refused
        with pytest.raises(RowError, match="times are stored in UTC, without a day"):
            sample_db.table(Sample).insert({"clock": clock})
        return
    assert_same(round_trip(sample_db, clock=clock).clock, clock)


@quick
@given(st.dates())
def test_dates_round_trip(sample_db: Database, day: date) -> None:
    assert_same(round_trip(sample_db, day=day).day, day)


@quick
@given(st.decimals(allow_nan=False, allow_infinity=False))
def test_decimals_round_trip_exactly(sample_db: Database, amount: Decimal) -> None:
    assert_same(round_trip(sample_db, amount=amount).amount, amount)


INT64_MICROSECONDS = timedelta(microseconds=2**63 - 1)


@quick
@given(st.timedeltas(min_value=-INT64_MICROSECONDS, max_value=INT64_MICROSECONDS))
def test_timedeltas_round_trip(sample_db: Database, wait: timedelta) -> None:
    assert_same(round_trip(sample_db, wait=wait).wait, wait)


@quick
@given(st.text())
def test_any_text_round_trips_and_is_found_by_equality(sample_db: Database, text: str) -> None:
    row = round_trip(sample_db, text=text)
    assert_same(row.text, text)
    found = sample_db.table(Sample).find(where={"text": text, "id": row.id})
    assert found == [row]


@quick
@given(st.binary())
def test_any_bytes_round_trip(sample_db: Database, blob: bytes) -> None:
    row = round_trip(sample_db, blob=blob)
    assert_same(row.blob, blob)
    assert sample_db.table(Sample).count(where={"blob": blob, "id": row.id}) == 1


@quick
@given(st.integers(min_value=-(2**63), max_value=2**63 - 1))
def test_sixty_four_bit_integers_round_trip(sample_db: Database, number: int) -> None:
    assert_same(round_trip(sample_db, number=number).number, number)


@quick
@given(st.floats(allow_nan=False))
def test_floats_round_trip(sample_db: Database, real: float) -> None:
    # SQLite may store an integral REAL as an integer, which loses the sign of -0.0.
    assert round_trip(sample_db, real=real).real == real


@quick
@given(st.uuids())
def test_uuids_round_trip(sample_db: Database, key: UUID) -> None:
    assert_same(round_trip(sample_db, key=key).key, key)


json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**63), max_value=2**64)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner, max_size=4),
    max_leaves=12,
)


@quick
@given(st.dictionaries(st.text(), json_values, max_size=5))
def test_json_documents_round_trip(sample_db: Database, doc: dict[str, Any]) -> None:
    assert round_trip(sample_db, doc=doc).doc == doc


@quick
@given(st.lists(json_values, max_size=5))
def test_json_lists_round_trip(sample_db: Database, items: list[Any]) -> None:
    assert round_trip(sample_db, items=items).items == items


def test_a_strict_model_reads_back_its_json_tuples_and_sets() -> None:
    from pydantic import ConfigDict  # only this test needs a model configuration

    class Strict(Table, table="strict_rows"):
        model_config = ConfigDict(strict=True)
        id: int | None = Field(default=None, primary_key=True)
        point: tuple[int, int] = (0, 0)
        tags: set[str] = set()

    with database(schemas=[Strict], connection=":memory:", sync_schemas=True) as db:
        rows = db.table(Strict)
        stored = rows.insert(Strict(point=(1, 2), tags={"a"}))
        assert (stored.point, stored.tags) == ((1, 2), {"a"})
        assert rows.find() == [stored]
