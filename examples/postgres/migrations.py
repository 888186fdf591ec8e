"""The shop's migration history, written once for both engines."""

from __future__ import annotations

from models import Customer, Order

from hedystia_models import migration
from hedystia_models.context import MigrationContext


def create_tables(ctx: MigrationContext) -> None:
    ctx.schema.create_table(Customer)
    ctx.schema.create_table(Order)


def seed_customers(ctx: MigrationContext) -> None:
    # ctx.sql binds its values (? placeholders) on both engines.
    for email, name in [("ann@example.com", "Ann"), ("bob@example.com", "Bob")]:
        ctx.sql("INSERT INTO customers (email, name, tier) VALUES (?, ?, ?)", [email, name, "free"])


def promote_ann(ctx: MigrationContext) -> None:
    ctx.sql("UPDATE customers SET tier = ? WHERE email = ?", ["pro", "ann@example.com"])


MIGRATIONS = [
    migration("0001_create_tables", up=create_tables),
    migration("0002_seed_customers", up=seed_customers),
    migration("0003_promote_ann", up=promote_ann),
]
