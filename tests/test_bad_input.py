"""Input that used to be stored damaged (issue 11): defaults that break their own field, NaN.

* A default must be a value its field accepts: it is checked when the class is created (a
  :class:`SchemaError`), and a ``default_factory`` value when a row is written, by ``insert``
  and ``insert_many`` alike (a :class:`RowError`), so a stored row can always be read back.
* SQLite stores a NaN ``REAL`` as ``NULL``: a NaN for a float field is refused before it
  reaches SQLite; infinities are stored exactly.
"""

from __future__ import annotations

import math
from typing import Annotated, Any

import pydantic
import pytest

from hedystia_models import Column, Database, Field, RowError, SchemaError, Table
from hedystia_models.model.table import column_from_field

# -- defaults -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("annotation", "default", "problem"),
    [
        (int, Field(default=-1, ge=0), "greater than or equal to 0"),
        (str, Field(default="", min_length=1), "at least 1 character"),
        (int, "x", "valid integer"),
        (Annotated[int, Field(ge=0)], -1, "greater than or equal to 0"),
        (int | None, Field(default=-1, ge=0), "greater than or equal to 0"),
        pytest.param(
            list[int],
            ["a"],
            "valid integer",
            # the SQL DEFAULT is rendered (with Pydantic's warning) before the default is checked
            marks=pytest.mark.filterwarnings("ignore:Pydantic serializer warnings"),
        ),
        (float, Field(default=2.5, lt=1), "less than 1"),
    ],
)
def test_a_default_its_field_refuses_is_a_schema_error(
    annotation: Any, default: Any, problem: str
) -> None:
    with pytest.raises(SchemaError, match=r"BadDefault\.value: default .*" + problem):
        pydantic.create_model(
            "BadDefault",
            __base__=Table,
            __cls_kwargs__={"table": "bad_default"},
            value=(annotation, default),
        )


def test_the_error_shows_the_default() -> None:
    with pytest.raises(SchemaError) as caught:

        class Person(Table, table="people"):
            id: int | None = Field(default=None, primary_key=True)
            age: int = Field(default=-1, ge=0)

    assert str(caught.value).startswith("Person.age: default -1 ")


@pytest.mark.parametrize(
    ("annotation", "default"),
    [
        (int | None, None),
        (int | None, Field(default=None, ge=0)),
        # None is SQL NULL: a NOT NULL column refuses it (an integer key is generated).
        (int, Field(default=None, primary_key=True)),
        (int, Field(default=0, ge=0)),
        (str, Field(default="a", min_length=1)),
        # A factory runs when a row is made, not when the class is.
        (int, Field(default_factory=lambda: -1, ge=0)),
        (float, 1),
    ],
)
def test_defaults_the_field_accepts_or_that_are_not_checked_here(
    annotation: Any, default: Any
) -> None:
    pydantic.create_model(
        "GoodDefault",
        __base__=Table,
        __cls_kwargs__={"table": "good_default"},
        value=(annotation, default),
    )


def test_a_column_added_in_a_migration_checks_its_default_too() -> None:
    with pytest.raises(SchemaError, match=r"score: default -1 .*greater than or equal to 0"):
        column_from_field("score", int, Field(default=-1, ge=0))
    assert column_from_field("score", int, Field(default=3, ge=0)).name == "score"


class Counter(Table, table="counters"):
    id: int | None = Field(default=None, primary_key=True, auto_increment=True)
    # A factory the class cannot check: its values are checked when a row is written.
    count: int = Field(default_factory=lambda: -1, ge=0)
    label: str = Field(default_factory=lambda: "x" * 5, max_length=3)


class Reading(Table, table="readings"):
    id: int | None = Field(default=None, primary_key=True, auto_increment=True)
    value: float
    maybe: float | None = None
    tags: list[float] = Field(default_factory=list)


@pytest.fixture
def db(connect: Any) -> Database:
    """The models on a new database, on each engine."""
    connected: Database = connect(schemas=[Counter, Reading], sync_schemas=True)
    return connected


def test_insert_and_insert_many_refuse_a_factory_default_alike(db: Database) -> None:
    repo = db.table(Counter)
    with pytest.raises(RowError) as one:
        repo.insert({})
    with pytest.raises(RowError) as many:
        repo.insert_many([{"count": 1, "label": "ok"}, {}])
    assert one.value.problems == [
        (None, "count", "Input should be greater than or equal to 0"),
        (None, "label", "String should have at most 3 characters"),
    ]
    assert many.value.problems == [
        (1, "count", "Input should be greater than or equal to 0"),
        (1, "label", "String should have at most 3 characters"),
    ]
    assert "row 1, field 'count'" in str(many.value)
    assert repo.count() == 0
    assert repo.find() == []


def test_values_given_for_factory_fields_are_stored(db: Database) -> None:
    repo = db.table(Counter)
    repo.insert({"count": 2, "label": "a"})
    repo.insert_many([{"count": 3, "label": "b"}, Counter(count=4, label="c")])
    assert [(r.count, r.label) for r in repo.find(order_by="id")] == [(2, "a"), (3, "b"), (4, "c")]


# -- NaN and infinity ---------------------------------------------------------------------------

NAN_MESSAGE = "NaN cannot be stored: SQLite stores it as NULL"


def test_insert_refuses_nan(db: Database) -> None:
    repo = db.table(Reading)
    for row in ({"value": math.nan}, {"value": 1.0, "maybe": math.nan}):
        with pytest.raises(RowError) as caught:
            repo.insert(row)
        (problem,) = caught.value.problems
        assert problem[0] is None
        assert problem[2] == NAN_MESSAGE
        assert str(caught.value).startswith("table 'readings': ")
        assert f"field {problem[1]!r}: {NAN_MESSAGE}" in str(caught.value)
    assert repo.count() == 0


def test_insert_many_refuses_nan_naming_each_row(db: Database) -> None:
    repo = db.table(Reading)
    with pytest.raises(RowError) as caught:
        repo.insert_many(
            [{"value": 1.0}, {"value": math.nan}, {"value": 2.0, "maybe": float("nan")}]
        )
    assert caught.value.problems == [(1, "value", NAN_MESSAGE), (2, "maybe", NAN_MESSAGE)]
    assert f"row 1, field 'value': {NAN_MESSAGE}" in str(caught.value)
    assert repo.count() == 0


def test_an_instance_holding_nan_is_refused(db: Database) -> None:
    with pytest.raises(RowError, match=NAN_MESSAGE):
        db.table(Reading).insert_many([Reading(value=math.nan)])
    assert db.table(Reading).count() == 0


def test_update_refuses_nan(db: Database) -> None:
    repo = db.table(Reading)
    repo.insert({"value": 1.0, "maybe": 2.0})
    for field in ("value", "maybe"):
        with pytest.raises(RowError) as caught:
            repo.update(where={}, data={field: math.nan})
        assert caught.value.problems == [(None, field, NAN_MESSAGE)]
    (stored,) = repo.find()
    assert (stored.value, stored.maybe) == (1.0, 2.0)


def test_infinities_round_trip(db: Database) -> None:
    repo = db.table(Reading)
    repo.insert({"value": math.inf, "maybe": -math.inf})
    repo.insert_many([{"value": -math.inf}, {"value": 0.5, "maybe": math.inf}])
    assert [(r.value, r.maybe) for r in repo.find(order_by="id")] == [
        (math.inf, -math.inf),
        (-math.inf, None),
        (0.5, math.inf),
    ]
    repo.update(where={"id": 2}, data={"maybe": math.inf})
    assert repo.find_first(where={"id": 2}) == Reading(id=2, value=-math.inf, maybe=math.inf)


def test_none_in_a_nullable_float_field_is_still_null(db: Database) -> None:
    repo = db.table(Reading)
    repo.insert_many([{"value": 1.0, "maybe": None}])
    repo.update(where={}, data={"maybe": None})
    assert repo.find()[0].maybe is None


@pytest.mark.parametrize("bad", [math.nan, math.inf, -math.inf])
def test_a_json_column_refuses_what_json_would_turn_into_null(db: Database, bad: float) -> None:
    repo = db.table(Reading)
    # insert_many: insert() would only catch it reading the row back ([None] is no float)
    with pytest.raises(RowError, match=r"field 'tags'.*cannot be stored in JSON"):
        repo.insert_many([{"value": 1.0, "tags": [bad]}])
    assert db.raw("SELECT count(*) AS n FROM readings") == [{"n": 0}]


def test_checking_a_default_leaves_later_annotated_columns_alone() -> None:
    """``Annotated`` caches by equality: the default's check must not hand a later model an
    ``Annotated[str, Column(index=True)]`` holding a ``Field(index=True)`` Column."""

    class First(Table, table="first_tagged"):
        id: int | None = Field(default=None, primary_key=True)
        tag: str = Field("", index=True)

    class Later(Table, table="later_tagged"):
        id: int | None = Field(default=None, primary_key=True)
        tag: Annotated[str, Column(index=True)] = Field("", index=False)

    assert First.table_spec().indexes != ()
    assert Later.table_spec().indexes == ()
