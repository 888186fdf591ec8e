"""The operators of issue 13: ``between``, ``not_between`` and ``not_like``.

``between`` is the pair ``gte`` / ``lte`` (both bounds validated like any comparison value,
refused where ranges are refused); the ``not_`` forms are the exact complement of theirs, so
a row whose value is ``NULL`` is one of them, as it is for ``ne`` and ``not_in``. The property
test in ``tests/test_ordering.py`` checks both range operators against Python on every kind.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from decimal import Decimal
from typing import Any

import pytest

from hedystia_models import Database, Field, QueryError, Table, database
from hedystia_models.model.table import table_info
from hedystia_models.rows.repository import Repository
from hedystia_models.rows.where import OPERATORS, compile_where

PLUS_5 = timezone(timedelta(hours=5))


class Item(Table, table="items"):
    id: int | None = Field(default=None, primary_key=True)
    name: str | None = None
    qty: int | None = None
    price: Decimal | None = None
    at: datetime | None = None
    label: str | None = Field(default=None, column="item_label")
    data: bytes | None = None
    meta: dict[str, int] = {}


ROWS: list[dict[str, Any]] = [
    {
        "name": "apple",
        "qty": 1,
        "price": "9",
        "at": datetime(2026, 1, 1, 12, tzinfo=PLUS_5),  # 07:00 UTC
        "label": "a_1",
    },
    {
        "name": "Apricot",
        "qty": 5,
        "price": "10",
        "at": datetime(2026, 1, 1, 8, tzinfo=timezone.utc),
        "label": "a%2",
    },
    {"name": "banana", "qty": 10, "price": "2.50", "label": "b"},
    {"name": None, "qty": None, "price": None},
]


@pytest.fixture
def db() -> Iterator[Database]:
    with database(schemas=[Item], connection=":memory:", sync_schemas=True) as db:
        db.table(Item).insert_many(ROWS)
        yield db


@pytest.fixture
def items(db: Database) -> Repository[Item]:
    return db.table(Item)


def ids(repo: Repository[Item], where: Any) -> list[int | None]:
    return [row.id for row in repo.find(where=where, order_by="id")]


def test_the_operator_list() -> None:
    assert OPERATORS == (
        "eq",
        "ne",
        "gt",
        "gte",
        "lt",
        "lte",
        "between",
        "not_between",
        "like",
        "not_like",
        "in",
        "not_in",
        "is_null",
    )


# -- between / not_between ------------------------------------------------------------------


def test_between_is_inclusive_at_both_ends(items: Repository[Item]) -> None:
    assert ids(items, {"qty": {"between": [1, 5]}}) == [1, 2]
    assert ids(items, {"qty": {"between": (5, 10)}}) == [2, 3]  # a tuple works too
    assert ids(items, {"qty": {"between": [2, 4]}}) == []
    assert ids(items, {"qty": {"between": [5, 5]}}) == [2]
    assert ids(items, {"qty": {"between": [10, 1]}}) == []  # low above high: nothing


def test_between_equals_gte_and_lte(items: Repository[Item]) -> None:
    for low, high in [(0, 3), (1, 10), (6, 100), (-5, 0)]:
        assert ids(items, {"qty": {"between": [low, high]}}) == ids(
            items, {"qty": {"gte": low, "lte": high}}
        )


def test_not_between_is_the_complement_and_includes_null(items: Repository[Item]) -> None:
    assert ids(items, {"qty": {"not_between": [1, 5]}}) == [3, 4]
    for bounds in ([1, 5], [2, 4], [10, 1], [0, 100]):
        inside = items.count(where={"qty": {"between": bounds}})
        outside = items.count(where={"qty": {"not_between": bounds}})
        assert inside + outside == items.count()


def test_between_compares_decimals_as_numbers(items: Repository[Item]) -> None:
    # As text "10" < "2.50" < "9"; as numbers 2.50 < 9 < 10.
    assert ids(items, {"price": {"between": [Decimal("2.5"), 9]}}) == [1, 3]
    assert ids(items, {"price": {"between": ["9.0", "10.00"]}}) == [1, 2]
    assert ids(items, {"price": {"not_between": [3, 9]}}) == [2, 3, 4]


def test_between_compares_aware_datetimes_by_instant(items: Repository[Item]) -> None:
    low = datetime(2026, 1, 1, 11, 30, tzinfo=PLUS_5)  # 06:30 UTC
    high = datetime(2026, 1, 1, 7, 30, tzinfo=timezone.utc)
    assert ids(items, {"at": {"between": [low, high]}}) == [1]
    assert ids(items, {"at": {"between": ["2026-01-01T07:00:00Z", "2026-01-01T08:00:00Z"]}}) == [
        1,
        2,
    ]


def test_between_bounds_are_validated_like_other_values(items: Repository[Item]) -> None:
    with pytest.raises(
        QueryError,
        match=r"^table 'items': 'between' on 'at' got 'soon', which is not a value of that "
        r"field's type$",
    ):
        items.find(where={"at": {"between": ["2026-01-01T00:00:00Z", "soon"]}})
    with pytest.raises(QueryError, match=r"'not_between' on 'qty' got nan"):
        items.find(where={"qty": {"not_between": [float("nan"), 3]}})
    with pytest.raises(QueryError, match=r"'between' on 'qty'.*64-bit"):
        items.find(where={"qty": {"between": [0, 2**64]}})


@pytest.mark.parametrize(
    "operand",
    [5, [1], [1, 2, 3], "15", {"low": 1, "high": 2}, [None, 5], [1, None], None],
)
def test_between_takes_exactly_two_values(items: Repository[Item], operand: Any) -> None:
    with pytest.raises(QueryError) as caught:
        items.find(where={"qty": {"between": operand}})
    assert str(caught.value) == (
        f"table 'items': 'between' on 'qty' takes a list of two values [low, high], neither "
        f"of them None (got {operand!r})"
    )


def test_ranges_are_refused_on_json_fields(items: Repository[Item]) -> None:
    for op in ("between", "not_between"):
        with pytest.raises(QueryError) as caught:
            items.find(where={"meta": {op: [{}, {"a": 1}]}})
        assert str(caught.value).startswith(
            f"table 'items': {op!r} on the JSON field 'meta' has no right answer: JSON values "
            "have no order"
        )


def test_between_by_column_name_and_in_and_or(items: Repository[Item]) -> None:
    assert ids(items, {"item_label": {"between": ["a", "a~"]}}) == [1, 2]
    assert ids(items, {"or": [{"qty": {"between": [1, 1]}}, {"qty": {"between": [10, 10]}}]}) == [
        1,
        3,
    ]


def test_between_binds_its_values() -> None:
    sql, params = compile_where(table_info(Item), {"price": {"between": [1, "2.5"]}})
    assert sql == '"price" COLLATE hedystia_decimal BETWEEN ? AND ?'
    assert params == ["1", "2.5"]
    sql, params = compile_where(table_info(Item), {"qty": {"not_between": [1, 2]}})
    assert sql == '("qty" IS NULL OR NOT ("qty" BETWEEN ? AND ?))'
    assert params == [1, 2]


# -- not_like -------------------------------------------------------------------------------


def test_not_like_is_the_complement_of_like_and_includes_null(items: Repository[Item]) -> None:
    assert ids(items, {"name": {"like": "ap%"}}) == [1, 2]  # ASCII letters in either case
    assert ids(items, {"name": {"not_like": "ap%"}}) == [3, 4]
    for pattern in ("%", "%an%", "_pple", "", "x"):
        like = items.count(where={"name": {"like": pattern}})
        not_like = items.count(where={"name": {"not_like": pattern}})
        assert like + not_like == items.count()


def test_not_like_on_a_column_name_and_with_wildcards_in_the_data(items: Repository[Item]) -> None:
    assert ids(items, {"item_label": {"not_like": "a%"}}) == [3, 4]
    # '%' and '_' in a pattern are wildcards, in the data they are characters like others.
    assert ids(items, {"label": {"not_like": "a_2"}}) == [1, 3, 4]


def test_not_like_needs_text(items: Repository[Item]) -> None:
    with pytest.raises(QueryError) as caught:
        items.find(where={"qty": {"not_like": "1%"}})
    assert (
        str(caught.value)
        == "table 'items': 'not_like' matches text, and 'qty' is stored as integers"
    )
    with pytest.raises(QueryError) as caught:
        items.find(where={"name": {"not_like": 5}})
    assert str(caught.value) == "table 'items': 'not_like' on 'name' takes a pattern string (got 5)"
    with pytest.raises(QueryError, match=r"'not_like' on the JSON field 'meta' has no right"):
        items.find(where={"meta": {"not_like": "%"}})


def test_not_like_binds_its_pattern() -> None:
    sql, params = compile_where(table_info(Item), {"name": {"not_like": "x'; DROP TABLE items"}})
    assert sql == '("name" IS NULL OR "name" NOT LIKE ?)'
    assert params == ["x'; DROP TABLE items"]


def test_writes_take_the_new_operators(items: Repository[Item]) -> None:
    assert [
        row.id for row in items.update(where={"qty": {"between": [1, 5]}}, data={"qty": 0})
    ] == [
        1,
        2,
    ]
    assert items.delete(where={"name": {"not_like": "%a%"}}) == 1  # the row without a name
    assert items.count() == 3
