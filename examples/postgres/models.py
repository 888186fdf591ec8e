"""The models of the shop: the same on SQLite and on PostgreSQL."""

from __future__ import annotations

from datetime import datetime, timezone
from decimal import Decimal
from typing import Literal

from hedystia_models import Field, Table


class Customer(Table, table="customers"):
    id: int | None = Field(default=None, primary_key=True)
    email: str = Field(max_length=120, unique=True)
    name: str
    tier: Literal["free", "pro"] = "free"


class Order(Table, table="orders"):
    id: int | None = Field(default=None, primary_key=True)
    customer_id: int = Field(references=Customer, on_delete="cascade", index=True)
    total: Decimal = Field(max_digits=10, decimal_places=2)
    paid: bool = False
    placed_at: datetime = Field(default_factory=lambda: datetime.now(timezone.utc))
    items: list[str] = []
