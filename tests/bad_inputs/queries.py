"""Bad queries: comparisons with no right answer are refused, never answered wrongly."""

from __future__ import annotations

import math
from datetime import datetime, time, timedelta, timezone
from pathlib import Path
from typing import Any

from hedystia_models import Field, QueryError, RowError, Table

from . import app_database, bad_input

PLUS_5 = timezone(timedelta(hours=5))


class Note(Table, table="notes"):
    id: int | None = Field(default=None, primary_key=True, auto_increment=True)
    score: float = 0.0
    meta: dict[str, Any] = {}
    tags: set[str] = set()
    at: datetime | None = None
    alarm: time | None = None


def notes(tmp: Path) -> None:
    with app_database(tmp, schemas=[Note], sync_schemas=True) as db:
        db.table(Note).insert({"meta": {"a": 1}, "tags": {"x"}})


def find(tmp: Path, **kwargs: Any) -> object:
    with app_database(tmp, schemas=[Note]) as db:
        return db.table(Note).find(**kwargs)


def insert(tmp: Path, row: dict[str, Any]) -> object:
    with app_database(tmp, schemas=[Note]) as db:
        return db.table(Note).insert(row)


@bad_input(
    "Queries",
    "a range (gt) on a JSON field",
    QueryError,
    "table 'notes': 'gt' on the JSON field 'meta' has no right answer: JSON values have no "
    "order, and their stored text is no value to match a pattern against; use eq, ne, in, "
    "not_in or is_null",
    setup=notes,
)
def range_on_json(tmp: Path) -> None:
    find(tmp, where={"meta": {"gt": {"a": 0}}})


@bad_input(
    "Queries",
    "like on a JSON field",
    QueryError,
    "table 'notes': 'like' on the JSON field 'meta' has no right answer: JSON values have no "
    "order, and their stored text is no value to match a pattern against; use eq, ne, in, "
    "not_in or is_null",
    setup=notes,
)
def like_on_json(tmp: Path) -> None:
    find(tmp, where={"meta": {"like": '%"a"%'}})


@bad_input(
    "Queries",
    "order_by a JSON field",
    QueryError,
    "table 'notes': cannot order by the JSON field 'meta': JSON values have no order",
    setup=notes,
)
def order_by_json(tmp: Path) -> None:
    find(tmp, order_by=["-meta", "id"])


@bad_input(
    "Queries",
    "a dict on a JSON field, meant as the value to find",
    QueryError,
    "table 'notes': a dict given for the JSON field 'meta' is read as operators, and 'a' is "
    "not one; to find a dict value write {'meta': {'eq': {...}}}",
    setup=notes,
)
def dict_on_json(tmp: Path) -> None:
    find(tmp, where={"meta": {"a": 1}})


@bad_input(
    "Queries",
    "equality on a set field (its items are stored in no fixed order)",
    QueryError,
    "table 'notes': 'eq' on 'tags' has no right answer: its values hold sets, whose items are "
    "stored in no fixed order; use a sorted list instead",
    setup=notes,
)
def eq_on_set(tmp: Path) -> None:
    find(tmp, where={"tags": {"eq": {"x"}}})


@bad_input(
    "Queries",
    "like on a float field",
    QueryError,
    "table 'notes': 'like' matches text, and 'score' is stored as floats",
    setup=notes,
)
def like_on_float(tmp: Path) -> None:
    find(tmp, where={"score": {"like": "0%"}})


@bad_input(
    "Queries",
    "NaN to compare a float field with",
    QueryError,
    "table 'notes': 'ne' on 'score' got nan, which equals and orders with no number "
    "(sqlite3 would bind it as NULL)",
    setup=notes,
)
def nan_operand(tmp: Path) -> None:
    find(tmp, where={"score": {"ne": math.nan}})


@bad_input(
    "Queries",
    "an aware time that is on another day in UTC, to compare with",
    QueryError,
    "table 'notes': 'gte' on 'alarm' got datetime.time(1, 0, tzinfo=datetime.timezone("
    "datetime.timedelta(seconds=18000))), which cannot be stored, so compares with no stored "
    "value: the aware time 01:00:00+05:00 is 20:00:00+00:00 on the day before; times are "
    "stored in UTC, without a day: store a datetime, or the time in UTC",
    setup=notes,
)
def wrapping_time_operand(tmp: Path) -> None:
    find(tmp, where={"alarm": {"gte": time(1, 0, tzinfo=PLUS_5)}})


@bad_input(
    "Rows",
    "an aware time that is on another day in UTC",
    RowError,
    "table 'notes': 1 invalid value(s), nothing was written:\n"
    "  row, field 'alarm': cannot be stored: the aware time 01:00:00+05:00 is 20:00:00+00:00 "
    "on the day before; times are stored in UTC, without a day: store a datetime, or the time "
    "in UTC",
    setup=notes,
)
def wrapping_time(tmp: Path) -> None:
    insert(tmp, {"alarm": time(1, 0, tzinfo=PLUS_5)})


@bad_input(
    "Rows",
    "an aware datetime before the year 1 in UTC",
    RowError,
    "table 'notes': 1 invalid value(s), nothing was written:\n"
    "  row, field 'at': cannot be stored: 0001-01-01 01:00:00+05:00 falls outside the years 1 "
    "to 9999 in UTC, where aware datetimes are stored",
    setup=notes,
)
def aware_datetime_out_of_range(tmp: Path) -> None:
    insert(tmp, {"at": datetime(1, 1, 1, 1, 0, tzinfo=PLUS_5)})


@bad_input(
    "Queries",
    "An empty dict for a JSON field, meant as the value to find (it names no operator)",
    QueryError,
    "table 'notes': the empty dict given for 'meta' names no operator, so it would match every "
    "row; to find an empty dict write {'meta': {'eq': {}}}",
    setup=notes,
)
def empty_dict_on_json(tmp: Path) -> None:
    find(tmp, where={"meta": {}})


@bad_input(
    "Queries",
    "An empty dict of operators for a field that is not JSON",
    QueryError,
    "table 'notes': the empty dict given for 'score' names no operator, so it would match every "
    "row; give one (eq, ne, gt, gte, lt, lte, between, not_between, like, not_like, in, not_in, "
    "is_null) or leave 'score' out",
    setup=notes,
)
def empty_operators(tmp: Path) -> None:
    with app_database(tmp, schemas=[Note]) as db:
        db.table(Note).delete(where={"score": {}})


@bad_input(
    "Queries",
    "An `in` list longer than the database binds in one statement (300,000 values)",
    QueryError,
    "table 'notes': the delete binds 300000 values, more than the database takes in one "
    "statement; "
    "split the 'in' list into several calls",
    setup=notes,
)
def in_list_too_long(tmp: Path) -> None:
    with app_database(tmp, schemas=[Note]) as db:
        db.table(Note).delete(where={"id": {"in": list(range(300_000))}})


@bad_input(
    "Queries",
    "`and` / `or` nested 1,000 levels deep",
    QueryError,
    "table 'notes': where nests 'and' / 'or' more than 100 levels deep",
    setup=notes,
)
def where_nested_too_deep(tmp: Path) -> None:
    where: dict[str, Any] = {"score": 1.0}
    for _ in range(1_000):
        where = {"and": [where]}
    find(tmp, where=where)


def repo_call(tmp: Path, call: str, *args: Any, **kwargs: Any) -> object:
    with app_database(tmp, schemas=[Note]) as db:
        return getattr(db.table(Note), call)(*args, **kwargs)


@bad_input(
    "Queries",
    "`between` given one value",
    QueryError,
    "table 'notes': 'between' on 'score' takes a list of two values [low, high], neither of "
    "them None (got [1.0])",
    setup=notes,
)
def between_one_value(tmp: Path) -> None:
    find(tmp, where={"score": {"between": [1.0]}})


@bad_input(
    "Queries",
    "`between` with an open end (None)",
    QueryError,
    "table 'notes': 'between' on 'at' takes a list of two values [low, high], neither of them "
    "None (got [None, '2026-01-01'])",
    setup=notes,
)
def between_open_end(tmp: Path) -> None:
    find(tmp, where={"at": {"between": [None, "2026-01-01"]}})


@bad_input(
    "Queries",
    "not_between on a JSON field",
    QueryError,
    "table 'notes': 'not_between' on the JSON field 'meta' has no right answer: JSON values "
    "have no order, and their stored text is no value to match a pattern against; use eq, ne, "
    "in, not_in or is_null",
    setup=notes,
)
def not_between_on_json(tmp: Path) -> None:
    find(tmp, where={"meta": {"not_between": [{}, {"a": 9}]}})


@bad_input(
    "Queries",
    "select a field the table does not have",
    QueryError,
    "table 'notes' has no field or column 'scor' to select (fields: id, score, meta, tags, at, "
    "alarm)",
    setup=notes,
)
def select_unknown(tmp: Path) -> None:
    find(tmp, select=["id", "scor"])


@bad_input(
    "Queries",
    "select with no field",
    QueryError,
    "table 'notes': select names no field; leave it out to read whole rows",
    setup=notes,
)
def select_nothing(tmp: Path) -> None:
    find(tmp, select=[])


@bad_input(
    "Queries",
    "the sum of a datetime field",
    QueryError,
    "table 'notes': 'sum' of 'at' has no right answer: it holds datetimes, not numbers; sum "
    "and avg take int, bool, float, Decimal and timedelta fields",
    setup=notes,
)
def sum_of_datetimes(tmp: Path) -> None:
    repo_call(tmp, "sum", "at")


@bad_input(
    "Queries",
    "the max of a JSON field",
    QueryError,
    "table 'notes': 'max' of the JSON field 'meta' has no right answer: JSON values have no order",
    setup=notes,
)
def max_of_json(tmp: Path) -> None:
    repo_call(tmp, "aggregate", max=["score", "meta"])


@bad_input(
    "Queries",
    "group_by a set field (equal sets can be stored differently)",
    QueryError,
    "table 'notes': cannot group by 'tags': its values hold sets, whose items are stored in no "
    "fixed order, so equal values could be told apart; use a sorted list instead",
    setup=notes,
)
def group_by_set(tmp: Path) -> None:
    repo_call(tmp, "group_by", "tags")


@bad_input(
    "Queries",
    "group_by ordered by a field it does not group by",
    QueryError,
    "table 'notes': group_by can order only by the fields it groups by (at), not 'score'",
    setup=notes,
)
def group_by_order_by_other(tmp: Path) -> None:
    repo_call(tmp, "group_by", "at", sum="score", order_by="-score")
