"""Projections (issue 13): ``find(select=[...])``, ``find_first``, ``get``, ``find_many`` and
their async forms read some fields of each row, as partial models: a Pydantic model per table
model and selection, whose fields are declared as the table's are, so every value read is
validated by its field, never passed through."""

from __future__ import annotations

import asyncio
import enum
import gc
import weakref
from datetime import datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path
from typing import Any

import pydantic
import pytest
from pydantic import BaseModel, field_serializer, field_validator, model_validator

from hedystia_models import Database, Field, Partial, QueryError, RowError, Table, database
from hedystia_models.rows.projection import partial_model
from hedystia_models.rows.repository import Repository

PLUS_2 = timezone(timedelta(hours=2))


class Status(enum.Enum):
    DRAFT = "draft"
    LIVE = "live"


class Author(BaseModel):
    name: str
    since: int


class Post(Table, table="posts"):
    id: int | None = Field(default=None, primary_key=True, auto_increment=True)
    title: str = Field(max_length=20)
    body: str = Field(default="", column="content")
    slug: str = Field(default="", alias="Slug")
    price: Decimal = Decimal("0.00")
    at: datetime = datetime(2026, 1, 1, tzinfo=timezone.utc)
    status: Status = Status.DRAFT
    tags: list[str] = []
    author: Author | None = None

    @field_validator("slug")
    @classmethod
    def lower_slug(cls, value: str) -> str:
        return value.lower()

    @field_serializer("price")
    def price_text(self, value: Decimal) -> str:
        return f"{value} EUR"

    @model_validator(mode="after")
    def title_not_slug(self) -> Post:
        # A whole-row rule: partial rows, which may lack either field, do not run it.
        if self.slug and self.slug == self.title:
            raise ValueError("slug repeats the title")
        return self


ROWS: list[dict[str, Any]] = [
    {
        "title": "Hello",
        "body": "first",
        "Slug": "HELLO-1",
        "price": "9.90",
        "at": datetime(2026, 3, 1, 12, 0, tzinfo=PLUS_2),
        "status": "live",
        "tags": ["a", "b"],
        "author": {"name": "Ann", "since": 2020},
    },
    {"title": "Second", "body": "more", "Slug": "two", "price": "10"},
    {"title": "Third", "Slug": "three"},
]


@pytest.fixture
def db(connect: Any) -> Database:
    """The rows on a new database, on each engine."""
    db: Database = connect(schemas=[Post], sync_schemas=True)
    db.table(Post).insert_many(ROWS)
    return db


@pytest.fixture
def posts(db: Database) -> Repository[Post]:
    return db.table(Post)


# -- what a partial row is -----------------------------------------------------------------


def test_select_reads_only_the_named_fields(posts: Repository[Post]) -> None:
    rows = posts.find(select=["id", "title"], order_by="id")
    assert [(row.id, row.title) for row in rows] == [(1, "Hello"), (2, "Second"), (3, "Third")]
    row = rows[0]
    assert isinstance(row, Partial) and isinstance(row, pydantic.BaseModel)
    assert not isinstance(row, Post)
    assert row.model_dump() == {"id": 1, "title": "Hello"}
    assert not hasattr(row, "body")
    assert type(row).__hedystia_model__ is Post
    assert type(row).__hedystia_fields__ == ("id", "title")
    assert repr(row) == "Partial[Post](id=1, title='Hello')"


def test_fields_come_in_the_order_selected_each_once(posts: Repository[Post]) -> None:
    (row,) = posts.find(select=["title", "id", "title", "content"], where={"id": 1})
    assert list(row.model_dump()) == ["title", "id", "body"]


def test_one_name_may_be_given_as_a_string(posts: Repository[Post]) -> None:
    assert [row.model_dump() for row in posts.find(select="title", order_by="-id")] == [
        {"title": "Third"},
        {"title": "Second"},
        {"title": "Hello"},
    ]


def test_values_come_back_as_their_types(posts: Repository[Post]) -> None:
    (row,) = posts.find(select=["price", "at", "status", "tags", "author"], where={"id": 1})
    assert row.price == Decimal("9.90") and str(row.price) == "9.90"
    assert row.at == datetime(2026, 3, 1, 10, 0, tzinfo=timezone.utc)
    assert row.at.tzinfo == timezone.utc
    assert row.status is Status.LIVE
    assert row.tags == ["a", "b"]
    assert row.author == Author(name="Ann", since=2020)
    # The whole row and the partial row hold the same values.
    whole = posts.get(1)
    assert whole is not None
    assert {field: getattr(whole, field) for field in row.model_dump()} == dict(row)


def test_select_by_column_name(posts: Repository[Post]) -> None:
    (row,) = posts.find(select=["content"], where={"id": 2})
    assert row.body == "more"  # the field's name, as whole rows have it
    assert row.model_dump() == {"body": "more"}


def test_select_an_aliased_field_by_name_or_alias(posts: Repository[Post]) -> None:
    by_name = posts.find(select=["id", "slug"], order_by="id")
    by_alias = posts.find(select=["id", "Slug"], order_by="id")
    assert by_name == by_alias
    assert [row.slug for row in by_name] == ["hello-1", "two", "three"]
    assert by_name[0].model_dump(by_alias=True) == {"id": 1, "Slug": "hello-1"}


def test_field_serializers_and_validators_come_along(posts: Repository[Post], db: Database) -> None:
    (row,) = posts.find(select=["price"], where={"id": 1})
    assert row.model_dump() == {"price": "9.90 EUR"}
    # A value stored by other means is validated on the way out, as a whole row's is.
    db.raw("UPDATE posts SET slug = 'LOUD' WHERE id = 3")
    assert posts.find(select="slug", where={"id": 3})[0].slug == "loud"


def test_model_validators_do_not_run_on_partial_rows(posts: Repository[Post], db: Database) -> None:
    db.raw("UPDATE posts SET title = slug WHERE id = 2")
    with pytest.raises(RowError, match="slug repeats the title"):
        posts.get(2)
    (row,) = posts.find(select=["title", "slug"], where={"id": 2})
    assert (row.title, row.slug) == ("two", "two")


def test_a_stored_value_the_field_rejects_is_a_row_error(
    posts: Repository[Post], db: Database
) -> None:
    if db.engine == "postgres":  # which enforces the declared VARCHAR(20) itself
        db.raw("ALTER TABLE posts ALTER COLUMN title TYPE TEXT")
    db.raw("UPDATE posts SET title = ? WHERE id = 2", ["x" * 30])
    with pytest.raises(RowError) as caught:
        posts.find(select=["id", "title"], order_by="id")
    assert caught.value.problems == [(1, "title", "String should have at most 20 characters")]
    assert str(caught.value).startswith(
        "table 'posts': 1 stored value(s) rejected by Post:\n  row 1, field 'title'"
    )
    assert [row.id for row in posts.find(select="id", order_by="id")] == [1, 2, 3]


def test_a_stored_value_that_cannot_be_read_is_a_row_error(tmp_path: Path) -> None:
    # SQLite only: PostgreSQL's TIMESTAMPTZ refuses 'soon' when it is written.
    db = database(schemas=[Post], connection=tmp_path / "p.db", sync_schemas=True)
    posts = db.table(Post)
    posts.insert_many(ROWS)
    db.raw("UPDATE posts SET at = 'soon' WHERE id = 3")
    with pytest.raises(RowError) as caught:
        posts.find(select=["at"], order_by="id")
    assert str(caught.value) == (
        "table 'posts': 1 stored value(s) cannot be read:\n"
        "  row 2, field 'at': Invalid isoformat string: 'soon'"
    )
    db.close()


def test_one_class_per_model_and_selection(posts: Repository[Post], db: Database) -> None:
    first = posts.find(select=["id", "title"], order_by="id")
    again = db.table(Post).find(select=("id", "title"), order_by="id")
    assert type(first[0]) is type(again[0]) is partial_model(Post, ["id", "title"])
    assert first == again
    assert type(posts.find(select=["title", "id"])[0]) is not type(first[0])
    assert (
        partial_model(Post, ["id", "title"]).model_validate({"id": 1, "title": "Hello"})
        == (first[0])
    )


def test_where_order_by_limit_and_offset_apply(posts: Repository[Post]) -> None:
    rows = posts.find(
        where={"price": {"gte": 1}}, order_by="-price", limit=1, offset=1, select=["id"]
    )
    assert [row.id for row in rows] == [1]


# -- the other reads --------------------------------------------------------------------------


def test_find_first_get_and_find_many(posts: Repository[Post]) -> None:
    first = posts.find_first(where={"status": "draft"}, order_by="-id", select=["id", "title"])
    assert first is not None and first.model_dump() == {"id": 3, "title": "Third"}
    assert posts.find_first(where={"title": "none"}, select="id") is None
    got = posts.get(2, select=["title", "content"])
    assert got is not None and got.model_dump() == {"title": "Second", "body": "more"}
    assert posts.get(99, select="title") is None
    assert posts.find_many(order_by="id") == posts.find(order_by="id")
    assert posts.find_many(select="id", order_by="id") == posts.find(select="id", order_by="id")
    assert posts.find_many == posts.find  # the same method


def test_get_with_a_composite_key_and_select(tmp_path: Path) -> None:
    class Seat(Table, table="seats"):
        row: str = Field(primary_key=True)
        number: int = Field(primary_key=True)
        holder: str | None = None

    with database(schemas=[Seat], connection=tmp_path / "s.db", sync_schemas=True) as db:
        seats = db.table(Seat)
        seats.insert_many([{"row": "A", "number": 1, "holder": "Ann"}, {"row": "A", "number": 2}])
        got = seats.get(("A", 1), select="holder")
        assert got is not None and got.holder == "Ann"
        with pytest.raises(QueryError, match="primary key has 2 column"):
            seats.get("A", select="holder")


# -- refusals -------------------------------------------------------------------------------


def test_an_unknown_name_is_a_query_error(posts: Repository[Post]) -> None:
    with pytest.raises(QueryError) as caught:
        posts.find(select=["id", "titel"])
    assert str(caught.value) == (
        "table 'posts' has no field or column 'titel' to select (fields: id, title, body, slug, "
        "price, at, status, tags, author)"
    )


@pytest.mark.parametrize(
    ("select", "message"),
    [
        ([], "table 'posts': select names no field; leave it out to read whole rows"),
        (
            [1],
            "table 'posts': select takes a field name or a list of them (got [1])",
        ),
        (
            {"id": True},
            "table 'posts': select takes a field name or a list of them (got {'id': True})",
        ),
        (b"id", "table 'posts': select takes a field name or a list of them (got b'id')"),
    ],
)
def test_select_takes_names(posts: Repository[Post], select: Any, message: str) -> None:
    with pytest.raises(QueryError) as caught:
        posts.find(select=select)
    assert str(caught.value) == message


def test_select_and_with_cannot_be_combined(posts: Repository[Post]) -> None:
    message = (
        "table 'posts': select= and with_= cannot be combined; read whole rows to load their "
        "relations"
    )
    with pytest.raises(QueryError) as caught:
        posts.find(select="id", with_=["author"])  # type: ignore[call-overload]
    assert str(caught.value) == message
    with pytest.raises(QueryError) as caught:
        posts.find_first(select="id", with_=["author"])  # type: ignore[call-overload]
    assert str(caught.value) == message
    with pytest.raises(QueryError) as caught:
        posts.get(1, ["author"], select="id")  # type: ignore[call-overload]
    assert str(caught.value) == message


# -- async, and the cache ---------------------------------------------------------------------


def test_the_async_api_selects_too(db: Database) -> None:
    async def main() -> None:
        posts = db.aio.table(Post)
        rows = await posts.find(select=["id", "title"], order_by="id", limit=2)
        assert [row.model_dump() for row in rows] == [
            {"id": 1, "title": "Hello"},
            {"id": 2, "title": "Second"},
        ]
        assert rows == await posts.find_many(select=["id", "title"], order_by="id", limit=2)
        first = await posts.find_first(where={"id": 3}, select="title")
        assert first is not None and first.title == "Third"
        got = await posts.get(1, select=["Slug"])
        assert got is not None and got.slug == "hello-1"
        assert await posts.get(42, select="id") is None
        with pytest.raises(QueryError, match="cannot be combined"):
            await posts.get(1, ["author"], select="id")  # type: ignore[call-overload]

    asyncio.run(main())


def test_partial_models_do_not_keep_table_models_alive() -> None:
    def use_a_temporary_model() -> weakref.ref[type[Table]]:
        class Temporary(Table, table="temporary"):
            id: int | None = Field(default=None, primary_key=True)
            name: str = ""

        with database(schemas=[Temporary], connection=":memory:", sync_schemas=True) as db:
            db.table(Temporary).insert({"name": "x"})
            assert db.table(Temporary).find(select=["name"])[0].name == "x"
        return weakref.ref(Temporary)

    gone = use_a_temporary_model()
    gc.collect()
    assert gone() is None


def test_the_typing_module_imports() -> None:
    """``tests/typecheck/query_types.py`` is checked by mypy in CI; here it must at least run."""
    from typecheck import query_types

    assert asyncio.iscoroutinefunction(query_types.the_async_api)


# -- @hedystia/db's other calls: truncate, update, delete -------------------------------------


def test_truncate_returns_the_count_and_keeps_the_key_counter(tmp_path: Path) -> None:
    class Counted(Table, table="counted"):
        id: int | None = Field(default=None, primary_key=True, auto_increment=True)
        name: str = ""

    class Plain(Table, table="plain"):
        id: int | None = Field(default=None, primary_key=True)
        name: str = ""

    with database(schemas=[Counted, Plain], connection=tmp_path / "t.db", sync_schemas=True) as db:
        counted, plain = db.table(Counted), db.table(Plain)
        counted.insert_many([{}, {}, {}])
        plain.insert_many([{}, {}, {}])
        assert counted.truncate() == 3 and counted.count() == 0
        assert counted.truncate() == 0
        # AUTOINCREMENT never reuses a key, truncate or not; the table and its schema stay.
        assert counted.insert({}).id == 4
        assert db.plan().in_sync
        # Without AUTOINCREMENT SQLite takes the highest key + 1: an empty table starts at 1.
        assert plain.truncate() == 3
        assert plain.insert({}).id == 1
        with pytest.raises(RuntimeError), db.transaction():
            assert counted.truncate() == 1
            raise RuntimeError("roll back")
        assert counted.count() == 1

        async def main() -> None:
            assert await db.aio.table(Counted).truncate() == 1

        asyncio.run(main())


def test_update_returns_the_rows_and_delete_the_count(posts: Repository[Post]) -> None:
    updated = posts.update(where={"price": {"between": [1, 100]}}, data={"status": "live"})
    assert [(row.id, row.status) for row in updated] == [(1, Status.LIVE), (2, Status.LIVE)]
    assert all(isinstance(row, Post) for row in updated)
    assert posts.update(where={"id": 99}, data={"status": "live"}) == []
    assert posts.delete(where={"title": {"not_like": "%o%"}}) == 1  # Third
    assert posts.delete(where={"id": 99}) == 0
    assert posts.count() == 2
