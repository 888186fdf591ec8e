"""Aggregates (issue 13): ``sum``, ``min``, ``max``, ``avg``, ``aggregate`` and ``group_by``.

Every result is Python's answer on the values, of the field's type: an exact ``Decimal``
sum (SQLite would add the stored text as floats), a correctly rounded ``float`` sum, integer
sums beyond 64 bits, ``Decimal`` and datetime ``min`` / ``max`` compared as numbers and
instants; aggregates with no right answer are refused.
"""

from __future__ import annotations

import asyncio
import enum
import math
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path
from typing import Any
from uuid import UUID

import pytest

from hedystia_models import (
    Aggregate,
    Database,
    Field,
    Group,
    QueryError,
    RowError,
    Table,
    database,
)
from hedystia_models.rows.repository import Repository

PLUS_5 = timezone(timedelta(hours=5))


class Kind(enum.Enum):
    BOOK = "book"
    GAME = "game"


class Sale(Table, table="sales"):
    id: int | None = Field(default=None, primary_key=True)
    kind: Kind = Kind.BOOK
    shop: str | None = Field(default=None, column="shop_name")
    qty: int | None = None
    price: Decimal | None = None
    weight: float | None = None
    paid: bool = False
    at: datetime | None = None
    day: date | None = None
    wait: timedelta | None = None
    key: UUID | None = None
    meta: dict[str, int] = {}
    labels: set[str] = set()


ROWS: list[dict[str, Any]] = [
    {
        "kind": "book",
        "shop": "north",
        "qty": 2,
        "price": "0.1",
        "weight": 0.1,
        "paid": True,
        "at": datetime(2026, 1, 1, 12, 0, tzinfo=PLUS_5),  # 07:00 UTC: the earliest instant
        "day": date(2026, 3, 1),
        "wait": timedelta(seconds=1),
        "key": UUID(int=2),
    },
    {
        "kind": "book",
        "shop": "south",
        "qty": 3,
        "price": "0.1",
        "weight": 0.1,
        "paid": False,
        "at": datetime(2026, 1, 1, 8, 0, tzinfo=timezone.utc),
        "day": date(2026, 1, 1),
        "wait": timedelta(seconds=2),
        "key": UUID(int=1),
    },
    {
        "kind": "game",
        "shop": "north",
        "qty": 10,
        "price": "0.1",
        "weight": 0.1,
        "paid": True,
        "at": datetime(2026, 1, 1, 9, 0, tzinfo=timezone.utc),
        "day": date(2027, 1, 1),
        "wait": timedelta(microseconds=1),
    },
    {"kind": "game", "shop": None, "qty": None, "price": "9", "weight": None},
    {"kind": "game", "shop": "north", "qty": 5, "price": "10", "weight": 0.7},
]


@pytest.fixture
def db(connect: Any) -> Database:
    """The rows on a new database, on each engine."""
    db: Database = connect(schemas=[Sale], sync_schemas=True)
    db.table(Sale).insert_many(ROWS)
    return db


@pytest.fixture
def sales(db: Database) -> Repository[Sale]:
    return db.table(Sale)


# -- sum ------------------------------------------------------------------------------------


def test_sum_of_integers_is_an_int(sales: Repository[Sale]) -> None:
    total = sales.sum("qty")
    assert total == 20 and type(total) is int
    assert sales.sum("qty", where={"kind": "book"}) == 5
    assert sales.sum("qty", {"shop": "north"}) == 17  # where may be given by position


def test_sum_of_decimals_is_exact(sales: Repository[Sale], db: Database) -> None:
    if db.engine == "sqlite":
        # SQLite's own sum adds the stored text as floats: 0.30000000000000004 + 19.
        assert db.raw("SELECT sum(price) AS s FROM sales WHERE kind = 'book' OR qty = 10") == [
            {"s": pytest.approx(0.3)}
        ]
    total = sales.sum("price", where={"or": [{"kind": "book"}, {"qty": 10}]})
    assert total == Decimal("0.3") and str(total) == "0.3" and isinstance(total, Decimal)
    assert sales.sum("price") == Decimal("19.3")


def test_sum_of_decimals_beyond_float_precision(tmp_path: Path) -> None:
    class Ledger(Table, table="ledger"):
        id: int | None = Field(default=None, primary_key=True)
        amount: Decimal

    amounts = ["12345678901234567890.123456789", "0.000000001", "-12345678901234567890"]
    with database(schemas=[Ledger], connection=tmp_path / "l.db", sync_schemas=True) as db:
        ledger = db.table(Ledger)
        ledger.insert_many([{"amount": a} for a in amounts])
        assert ledger.sum("amount") == Decimal("0.123456790")
        assert str(ledger.sum("amount")) == "0.123456790"
        assert ledger.avg("amount") == Decimal("0.123456790") / 3


def test_sum_of_floats_is_correctly_rounded(tmp_path: Path) -> None:
    class Reading(Table, table="readings"):
        id: int | None = Field(default=None, primary_key=True)
        value: float

    with database(schemas=[Reading], connection=tmp_path / "r.db", sync_schemas=True) as db:
        readings = db.table(Reading)
        readings.insert_many([{"value": 0.1}] * 10)
        assert sum([0.1] * 10) != 1.0  # adding one at a time rounds at every step
        assert readings.sum("value") == math.fsum([0.1] * 10) == 1.0
        readings.truncate()
        readings.insert_many([{"value": v} for v in (1e100, 1.0, -1e100)])
        assert readings.sum("value") == 1.0
        assert readings.avg("value") == 1.0 / 3
        readings.insert_many([{"value": math.inf}, {"value": -math.inf}])
        assert math.isnan(readings.sum("value"))
        assert readings.sum("value", where={"value": {"lt": 0}}) == -math.inf


def test_sum_of_integers_beyond_64_bits(tmp_path: Path) -> None:
    class Big(Table, table="big"):
        id: int | None = Field(default=None, primary_key=True)
        n: int

    with database(schemas=[Big], connection=tmp_path / "b.db", sync_schemas=True) as db:
        big = db.table(Big)
        big.insert_many([{"n": 2**62}] * 4)
        assert big.sum("n") == 2**64  # SQLite's sum stops with "integer overflow"
        assert big.avg("n") == 2.0**62
        (group,) = big.group_by("n", sum="n")
        assert group.sum == {"n": 2**64}


def test_sum_of_bools_counts_the_true_ones(sales: Repository[Sale]) -> None:
    assert sales.sum("paid") == 2 and type(sales.sum("paid")) is int
    assert sales.avg("paid") == 0.4


def test_sum_and_avg_of_timedeltas(sales: Repository[Sale]) -> None:
    assert sales.sum("wait") == timedelta(seconds=3, microseconds=1)
    assert sales.avg("wait") == timedelta(seconds=3, microseconds=1) / 3
    assert sales.avg("wait", where={"wait": {"lt": timedelta(seconds=1)}}) == timedelta(
        microseconds=1
    )


def test_over_no_values_the_aggregates_are_none(sales: Repository[Sale]) -> None:
    nothing = {"kind": "book", "qty": {"gt": 100}}
    for call in (sales.sum, sales.min, sales.max, sales.avg):
        assert call("qty", nothing) is None
    assert sales.sum("qty", where={"qty": None}) is None  # only NULL values
    result = sales.aggregate(where=nothing, sum="qty", min="at", max="price", avg="weight")
    assert result == Aggregate(
        count=0, sum={"qty": None}, min={"at": None}, max={"price": None}, avg={"weight": None}
    )


# -- min, max, avg ----------------------------------------------------------------------------


def test_min_and_max_of_decimals_compare_numbers(sales: Repository[Sale]) -> None:
    # As text, "9" is the greatest and "0.1" < "10" < "9".
    assert sales.max("price") == Decimal("10")
    assert sales.min("price") == Decimal("0.1")
    assert sales.max("price", where={"qty": None}) == Decimal("9")


def test_min_and_max_of_datetimes_compare_instants(sales: Repository[Sale]) -> None:
    earliest = sales.min("at")
    assert earliest == datetime(2026, 1, 1, 7, 0, tzinfo=timezone.utc)
    assert isinstance(earliest, datetime) and earliest.tzinfo == timezone.utc
    assert sales.max("at") == datetime(2026, 1, 1, 9, 0, tzinfo=timezone.utc)


def test_min_and_max_come_back_as_the_field_type(sales: Repository[Sale]) -> None:
    assert sales.min("day") == date(2026, 1, 1) and sales.max("day") == date(2027, 1, 1)
    assert sales.min("kind") is Kind.BOOK and sales.max("kind") is Kind.GAME
    assert sales.min("key") == UUID(int=1)
    assert sales.max("shop") == "south" and sales.min("shop_name") == "north"
    assert sales.min("paid") is False and sales.max("paid") is True
    assert sales.min("wait") == timedelta(microseconds=1)
    assert sales.max("qty") == 10 and type(sales.max("weight")) is float


def test_avg(sales: Repository[Sale]) -> None:
    average = sales.avg("qty")
    assert average == 5.0 and type(average) is float  # 20 over 4 values: NULL is skipped
    assert sales.avg("price") == Decimal("19.3") / 5
    assert isinstance(sales.avg("price"), Decimal)
    assert sales.avg("price", where={"kind": "book"}) == Decimal("0.1")
    assert sales.avg("weight") == pytest.approx(0.25)


def test_a_decimal_average_has_at_least_28_digits(sales: Repository[Sale]) -> None:
    assert sales.avg("price", where={"price": {"in": ["9", "10"]}}) == Decimal("9.5")
    third = sales.avg("price", where={"id": {"in": [1, 2, 4]}})  # 9.2 / 3
    assert third == Decimal("3.066666666666666666666666667")
    assert len(third.as_tuple().digits) == 28
    assert sales.avg("qty", where={"qty": {"in": [2, 3, 5]}}) == 10 / 3


# -- aggregate and group_by -------------------------------------------------------------------


def test_aggregate_computes_several_in_one_call(sales: Repository[Sale]) -> None:
    result = sales.aggregate(
        where={"kind": "book"}, sum=["qty", "price"], min="at", max=["day", "qty"], avg="qty"
    )
    assert result == Aggregate(
        count=2,
        sum={"qty": 5, "price": Decimal("0.2")},
        min={"at": datetime(2026, 1, 1, 7, 0, tzinfo=timezone.utc)},
        max={"day": date(2026, 3, 1), "qty": 3},
        avg={"qty": 2.5},
    )
    assert sales.aggregate().count == sales.count() == 5
    # Column names are accepted; results are keyed by field name.
    assert sales.aggregate(max="shop_name").max == {"shop": "south"}


def test_group_by_one_field(sales: Repository[Sale]) -> None:
    groups = sales.group_by("kind", sum=["qty", "price"], max="at")
    assert groups == [
        Group(
            count=2,
            sum={"qty": 5, "price": Decimal("0.2")},
            min={},
            max={"at": datetime(2026, 1, 1, 8, 0, tzinfo=timezone.utc)},
            avg={},
            by={"kind": Kind.BOOK},
        ),
        Group(
            count=3,
            sum={"qty": 15, "price": Decimal("19.1")},
            min={},
            max={"at": datetime(2026, 1, 1, 9, 0, tzinfo=timezone.utc)},
            avg={},
            by={"kind": Kind.GAME},
        ),
    ]
    assert all(isinstance(group, Aggregate) for group in groups)


def test_group_by_null_is_a_group_and_groups_come_in_order(sales: Repository[Sale]) -> None:
    groups = sales.group_by("shop", sum="qty")
    assert [(g.by["shop"], g.count, g.sum["qty"]) for g in groups] == [
        (None, 1, None),
        ("north", 3, 17),
        ("south", 1, 3),
    ]
    groups = sales.group_by("shop_name", order_by="-shop", where={"shop": {"ne": None}})
    assert [(g.by, g.count) for g in groups] == [({"shop": "south"}, 1), ({"shop": "north"}, 3)]


def test_group_by_several_fields(sales: Repository[Sale]) -> None:
    groups = sales.group_by(["kind", "shop"], avg="qty", order_by=["-kind", "shop"])
    assert [(g.by["kind"], g.by["shop"], g.count, g.avg["qty"]) for g in groups] == [
        (Kind.GAME, None, 1, None),
        (Kind.GAME, "north", 2, 7.5),
        (Kind.BOOK, "north", 1, 2.0),
        (Kind.BOOK, "south", 1, 3.0),
    ]


def test_group_by_groups_decimals_by_number(tmp_path: Path) -> None:
    class Price(Table, table="prices"):
        id: int | None = Field(default=None, primary_key=True)
        amount: Decimal
        spec: dict[str, int] = {}

    with database(schemas=[Price], connection=tmp_path / "p.db", sync_schemas=True) as db:
        prices = db.table(Price)
        prices.insert_many(
            [
                {"amount": "2.5", "spec": {"a": 1, "b": 2}},
                {"amount": "2.50", "spec": {"b": 2, "a": 1}},
                {"amount": "10"},
                {"amount": "9"},
            ]
        )
        assert [(g.by["amount"], g.count) for g in prices.group_by("amount")] == [
            (Decimal("2.5"), 2),
            (Decimal("9"), 1),
            (Decimal("10"), 1),
        ]
        # JSON values group as they compare: whatever the order of their keys.
        assert sorted(g.count for g in prices.group_by("spec")) == [2, 2]


def test_group_by_refusals(sales: Repository[Sale]) -> None:
    with pytest.raises(QueryError) as caught:
        sales.group_by("kind", order_by="qty")
    assert str(caught.value) == (
        "table 'sales': group_by can order only by the fields it groups by (kind), not 'qty'"
    )
    with pytest.raises(QueryError) as caught:
        sales.group_by("labels")
    assert str(caught.value).startswith(
        "table 'sales': cannot group by 'labels': its values hold sets"
    )
    with pytest.raises(QueryError, match="group_by names no field"):
        sales.group_by([])
    with pytest.raises(QueryError, match="has no field or column 'kinds'"):
        sales.group_by("kinds")
    with pytest.raises(QueryError, match="cannot order by the JSON field 'meta'"):
        sales.group_by("meta", order_by="meta")


# -- refusals -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (
            lambda s: s.sum("shop"),
            "table 'sales': 'sum' of 'shop' has no right answer: it holds text, not numbers; "
            "sum and avg take int, bool, float, Decimal and timedelta fields",
        ),
        (
            lambda s: s.avg("at"),
            "table 'sales': 'avg' of 'at' has no right answer: it holds datetimes, not numbers; "
            "sum and avg take int, bool, float, Decimal and timedelta fields",
        ),
        (
            lambda s: s.sum("meta"),
            "table 'sales': 'sum' of 'meta' has no right answer: it holds JSON values, not "
            "numbers; sum and avg take int, bool, float, Decimal and timedelta fields",
        ),
        (
            lambda s: s.avg("kind"),
            "table 'sales': 'avg' of 'kind' has no right answer: it holds Enum members, not "
            "numbers; sum and avg take int, bool, float, Decimal and timedelta fields",
        ),
        (
            lambda s: s.max("meta"),
            "table 'sales': 'max' of the JSON field 'meta' has no right answer: JSON values "
            "have no order",
        ),
        (
            lambda s: s.min("nope"),
            "table 'sales' has no field or column 'nope' (fields: id, kind, shop, qty, price, "
            "weight, paid, at, day, wait, key, meta, labels)",
        ),
        (
            lambda s: s.aggregate(sum=[1]),
            "table 'sales': sum takes a field name or a list of them (got [1])",
        ),
        (
            lambda s: s.sum("qty", where={"qty": {"gt": "many"}}),
            "table 'sales': 'gt' on 'qty' got 'many', which is not a value of that field's type",
        ),
    ],
)
def test_aggregates_with_no_right_answer_are_refused(
    sales: Repository[Sale], call: Any, message: str
) -> None:
    with pytest.raises(QueryError) as caught:
        call(sales)
    assert str(caught.value) == message


def test_a_sum_too_long_to_be_exact_is_refused(tmp_path: Path) -> None:
    class Huge(Table, table="huge"):
        id: int | None = Field(default=None, primary_key=True)
        amount: Decimal

    with database(schemas=[Huge], connection=tmp_path / "h.db", sync_schemas=True) as db:
        huge = db.table(Huge)
        huge.insert_many([{"amount": "1E+20000"}, {"amount": "1"}])
        with pytest.raises(QueryError) as caught:
            huge.sum("amount")
        assert str(caught.value) == (
            "table 'huge': the sum of 'amount' needs more than 10000 significant digits to be exact"
        )
        assert huge.max("amount") == Decimal("1E+20000")


def test_infinite_decimals_sum_as_postgresql_does(tmp_path: Path) -> None:
    class Odd(Table, table="odd"):
        id: int | None = Field(default=None, primary_key=True)
        amount: Decimal = Field(allow_inf_nan=True)

    with database(schemas=[Odd], connection=tmp_path / "o.db", sync_schemas=True) as db:
        odd = db.table(Odd)
        odd.insert_many([{"amount": "Infinity"}, {"amount": "1"}])
        assert odd.sum("amount") == Decimal("Infinity")
        assert odd.avg("amount") == Decimal("Infinity")
        odd.insert({"amount": "-Infinity"})
        assert odd.sum("amount").is_nan()
        assert odd.max("amount") == Decimal("Infinity") and odd.min("amount") == -Decimal("Inf")


def test_a_stored_value_that_is_no_number_is_a_row_error(tmp_path: Path) -> None:
    # SQLite only: PostgreSQL's NUMERIC and TIMESTAMPTZ refuse these values when written.
    db = database(schemas=[Sale], connection=tmp_path / "a.db", sync_schemas=True)
    sales = db.table(Sale)
    sales.insert_many(ROWS)
    db.raw("UPDATE sales SET price = 'cheap' WHERE id = 2")
    with pytest.raises(RowError) as caught:
        sales.sum("price")
    assert caught.value.problems == [
        (None, "price", "'cheap' cannot be read as a number: [<class 'decimal.ConversionSyntax'>]")
    ]
    db.raw("UPDATE sales SET at = 'soon' WHERE id = 2")
    with pytest.raises(RowError) as caught:
        sales.max("at")
    assert str(caught.value) == (
        "table 'sales': 1 stored value(s) cannot be read:\n"
        "  row, field 'at': Invalid isoformat string: 'soon'"
    )
    db.close()


# -- async ----------------------------------------------------------------------------------


def test_the_async_api_aggregates_too(db: Database) -> None:
    async def main() -> None:
        sales = db.aio.table(Sale)
        assert await sales.sum("price") == Decimal("19.3")
        assert await sales.min("qty") == 2
        assert await sales.max("qty", where={"kind": "book"}) == 3
        assert await sales.avg("qty") == 5.0
        assert (await sales.aggregate(sum="qty")).sum == {"qty": 20}
        groups = await sales.group_by("kind", sum="qty", order_by="-kind")
        assert [(g.by["kind"], g.sum["qty"]) for g in groups] == [(Kind.GAME, 15), (Kind.BOOK, 5)]

    asyncio.run(main())
