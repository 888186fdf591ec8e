"""Evolving a schema: sync adds what is new, keeps the data, and refuses what would lose it.

Version 1 of the model is synced and filled; version 2 adds columns, an index and a table;
version 3 drops a field, which sync reports but never applies.
"""

from __future__ import annotations

from hedystia_models import Field, SyncError, Table, database


class ProductV1(Table, table="products"):
    id: int | None = Field(default=None, primary_key=True, auto_increment=True)
    name: str


class ProductV2(Table, table="products"):
    id: int | None = Field(default=None, primary_key=True, auto_increment=True)
    name: str
    price_cents: int = 0  # a default: existing rows get 0
    sku: str | None = Field(default=None, unique=True)  # optional: existing rows get NULL
    category: str | None = Field(default=None, index=True)


class Review(Table, table="reviews"):
    id: int | None = Field(default=None, primary_key=True)
    product_id: int = Field(references=ProductV2, on_delete="cascade", index=True)
    stars: int = Field(ge=1, le=5)


class ProductV3(Table, table="products"):  # `category` is gone from the model
    id: int | None = Field(default=None, primary_key=True, auto_increment=True)
    name: str
    price_cents: int = 0
    sku: str | None = Field(default=None, unique=True)


class ProductBad(Table, table="products"):  # a required field with no default
    id: int | None = Field(default=None, primary_key=True, auto_increment=True)
    name: str
    supplier: str


def main() -> None:
    db = database(schemas=[ProductV1], connection="evolve.db", sync_schemas=True)
    if not db.table(ProductV1).exists():
        db.table(ProductV1).insert_many([{"name": "Lamp"}, {"name": "Desk"}])
    db.close()

    db = database(schemas=[ProductV2, Review], connection="evolve.db")
    print("plan for version 2:")
    print(db.plan())
    db.sync()
    for product in db.table(ProductV2).find(order_by="id"):
        print(" ", product)
    db.close()

    db = database(schemas=[ProductV3, Review], connection="evolve.db")
    print("plan for version 3:")
    print(db.plan())
    db.sync()  # applies nothing: dropping a column is for a migration to decide
    assert db.raw("SELECT count(category) AS n FROM products")[0]["n"] == 0
    db.close()

    db = database(schemas=[ProductBad, Review], connection="evolve.db")
    try:
        db.sync()
    except SyncError as error:
        print("sync refused:", str(error).splitlines()[1].strip())
    db.close()


if __name__ == "__main__":
    main()
