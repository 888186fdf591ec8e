"""Checked by ``mypy --strict`` in ``.ci/run`` (and imported by the test suite): loading
relations keeps the types of ``find``, ``find_first`` and ``get``, sync and async; the
relation attributes themselves are not declared on the model (``docs/relations.md``)."""

from __future__ import annotations

from typing import Any

from typing_extensions import assert_type

from hedystia_models import Database, Field, ForeignKey, Table
from hedystia_models.rows.relations import Relation


class User(Table, table="users"):
    id: int | None = Field(default=None, primary_key=True)
    name: str


class Post(Table, table="posts"):
    id: int | None = Field(default=None, primary_key=True)
    author_id: int = Field(references=User, related_name="posts", relation_name="author")


class Order(Table, table="orders"):
    region: str = Field(primary_key=True)
    number: int = Field(primary_key=True)


class Line(
    Table,
    table="lines",
    foreign_keys=[ForeignKey("order_region", "order_number", references=Order)],
):
    id: int | None = Field(default=None, primary_key=True)
    order_region: str
    order_number: int


def the_sync_api(db: Database) -> None:
    users = db.table(User)
    assert_type(users.find(with_={"posts": {"limit": 5, "with_": {"author": True}}}), list[User])
    assert_type(users.find_first(where={"posts": {}}, with_={"posts": True}), User | None)
    assert_type(users.get(1, with_={"posts": True}), User | None)
    assert_type(users.relations["posts"], Relation)
    loaded = users.find(with_={"posts": True})
    posts: Any = getattr(loaded[0], "posts")  # noqa: B009 - mypy does not know the attribute
    assert isinstance(posts, list)


async def the_async_api(db: Database) -> None:
    users = db.aio.table(User)
    assert_type(await users.find(with_={"posts": True}), list[User])
    assert_type(await users.find_first(with_={"posts": True}), User | None)
    assert_type(await users.get(1, with_={"posts": True}), User | None)
