"""Checked by ``mypy --strict`` in ``.ci/run`` (and imported by the test suite): projections
and aggregates are typed, sync and async. ``find()`` is ``list[M]`` and ``find(select=...)``
``list[Partial[M]]``, whose attributes a type checker sees as ``Any`` (which fields a partial
row has is decided at run time); aggregate values are ``Any`` too, since the field is named
by a string, and the results that do not depend on the field are typed."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from typing_extensions import assert_type

from hedystia_models import Aggregate, Database, Field, Group, Partial, Table


class Product(Table, table="products"):
    id: int | None = Field(default=None, primary_key=True)
    name: str
    price: int = 0


def the_sync_api(db: Database) -> None:
    products = db.table(Product)
    assert_type(products.find(), list[Product])
    assert_type(products.find(where={"price": {"between": [1, 9]}}), list[Product])
    assert_type(products.find(select=["id", "name"]), list[Partial[Product]])
    assert_type(products.find({"price": 1}, "-id", 10, 0, select="name"), list[Partial[Product]])
    assert_type(products.find_many(), list[Product])
    assert_type(products.find_many(select=["name"]), list[Partial[Product]])
    assert_type(products.find_first(), Product | None)
    assert_type(products.find_first(select=["name"]), Partial[Product] | None)
    assert_type(products.get(1), Product | None)
    assert_type(products.get(1, select="name"), Partial[Product] | None)
    row = products.find(select=["name"])[0]
    assert_type(row.name, Any)
    assert_type(row.model_dump(), dict[str, Any])
    assert_type(products.sum("price"), Any)
    assert_type(products.min("price"), Any)
    assert_type(products.max("price"), Any)
    assert_type(products.avg("price"), Any)
    totals = products.aggregate(sum="price", max=["price", "name"])
    assert_type(totals, Aggregate)
    assert_type(totals.count, int)
    assert_type(totals.sum, Mapping[str, Any])
    groups = products.group_by("name", sum="price", order_by="-name")
    assert_type(groups, list[Group])
    assert_type(groups[0].by, Mapping[str, Any])
    assert_type(products.truncate(), int)


async def the_async_api(db: Database) -> None:
    products = db.aio.table(Product)
    assert_type(await products.find(), list[Product])
    assert_type(await products.find(select=["id"]), list[Partial[Product]])
    assert_type(await products.find_many(select="id"), list[Partial[Product]])
    assert_type(await products.find_first(select="id"), Partial[Product] | None)
    assert_type(await products.get(1, select="id"), Partial[Product] | None)
    assert_type(await products.get(1), Product | None)
    assert_type(await products.sum("price"), Any)
    assert_type(await products.avg("price", where={"id": {"not_between": [1, 2]}}), Any)
    assert_type(await products.aggregate(min="price"), Aggregate)
    assert_type(await products.group_by(["name"], max="price"), list[Group])
