"""One project on either engine: only the connection changes.

    python shop.py                               # SQLite: shop.db in this directory
    python shop.py postgresql://localhost/shop   # PostgreSQL

(PostgreSQL needs the extra: ``pip install 'hedystia-models[postgres]'``.)

It builds the database from the models and the migration history (start-up with
``sync_schemas=True, run_migrations=True``), writes orders, and prints what it reads back.
"""

from __future__ import annotations

import json
import sys
from datetime import datetime, timezone
from decimal import Decimal
from typing import Any

from migrations import MIGRATIONS
from models import Customer, Order

from hedystia_models import Database, database


def open_shop(connection: str) -> Database:
    """The shop's database: SQLite for a path, PostgreSQL for a ``postgresql://`` URL."""
    engine = "postgres" if connection.startswith(("postgresql://", "postgres://")) else "sqlite"
    return database(
        schemas=[Customer, Order],
        database=engine,
        connection=connection,
        migrations=MIGRATIONS,
        sync_schemas=True,
        run_migrations=True,
    )


def run(db: Database) -> dict[str, Any]:
    """Write the day's orders and read back what the shop reports: plain data, the same
    whichever engine holds it."""
    orders = db.table(Order)
    ann = db.table(Customer).find_first(where={"email": "ann@example.com"})
    bob = db.table(Customer).find_first(where={"email": "bob@example.com"})
    assert ann is not None and bob is not None
    if orders.count() == 0:
        noon = datetime(2026, 12, 1, 12, tzinfo=timezone.utc)
        with db.transaction():
            orders.insert_many(
                [
                    {"customer_id": ann.id, "total": Decimal("19.90"), "placed_at": noon},
                    {"customer_id": ann.id, "total": "5.05", "paid": True, "placed_at": noon},
                    {"customer_id": bob.id, "total": 12, "items": ["pen"], "placed_at": noon},
                ]
            )
        orders.update(where={"customer_id": bob.id}, data={"paid": True})
    paid = orders.find(where={"paid": True}, order_by="id")
    return {
        "customers": [c.model_dump(mode="json") for c in db.table(Customer).find(order_by="id")],
        "orders": [o.model_dump(mode="json") for o in orders.find(order_by="id")],
        "paid": [o.id for o in paid],
        "revenue": str(orders.sum("total", where={"paid": True})),
        "pro": [c.name for c in db.table(Customer).find(where={"tier": "pro"})],
        "history": [(e.name, e.kind) for e in db.history() if e.kind == "migration"],
        "drift": db.check(),
    }


def main() -> None:
    connection = sys.argv[1] if len(sys.argv) > 1 else "shop.db"
    with open_shop(connection) as db:
        print(json.dumps(run(db), indent=2))


if __name__ == "__main__":
    main()
