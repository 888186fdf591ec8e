"""Build (and query) a SQLite database with Django itself, in a process of its own.

    python run.py build WORKDIR < rows.json   # makemigrations + migrate, then ORM inserts
    python run.py read WORKDIR PUBLIC_ID       # Order.objects.filter(public_id=...) as JSON

The ``shop`` app is copied into WORKDIR first, so ``makemigrations`` writes its migrations
there and never into the source tree. The database is WORKDIR/django.sqlite3. Output is one JSON
document on stdout.
"""

from __future__ import annotations

import json
import shutil
import sys
import uuid
from datetime import datetime, timezone
from decimal import Decimal
from pathlib import Path

HERE = Path(__file__).resolve().parent


def setup(workdir: Path) -> None:
    if not (workdir / "shop").exists():
        shutil.copytree(HERE / "shop", workdir / "shop")
    sys.path.insert(0, str(workdir))
    import django
    from django.conf import settings

    settings.configure(
        INSTALLED_APPS=["django.contrib.contenttypes", "shop"],
        DATABASES={
            "default": {
                "ENGINE": "django.db.backends.sqlite3",
                "NAME": str(workdir / "django.sqlite3"),
            }
        },
        USE_TZ=True,
        TIME_ZONE="UTC",
    )
    django.setup()


def build(workdir: Path) -> dict[str, object]:
    from django.core.management import call_command

    call_command("makemigrations", "shop", verbosity=0)
    call_command("migrate", verbosity=0)

    from shop.models import Customer, Order

    rows = json.load(sys.stdin)
    for row in rows["customers"]:
        Customer.objects.create(**row)
    for row in rows["orders"]:
        Order.objects.create(
            customer=Customer.objects.get(email=row["customer_email"]),
            number=row["number"],
            total=Decimal(row["total"]),
            details=row["details"],
            public_id=uuid.UUID(row["public_id"]),
            paid=row["paid"],
            created_at=datetime.fromisoformat(row["created_at"]).replace(tzinfo=timezone.utc),
        )
    return {"migrations": sorted(p.name for p in (workdir / "shop" / "migrations").glob("0*.py"))}


def read(public_id: str) -> dict[str, object]:
    from shop.models import Order

    found = list(Order.objects.filter(public_id=uuid.UUID(public_id)))
    return {
        "orders": [
            {
                "customer_email": order.customer.email,
                "number": order.number,
                "total": str(order.total),
                "details": order.details,
                "public_id": str(order.public_id),
                "paid": order.paid,
                "created_at": order.created_at.isoformat(),
            }
            for order in found
        ]
    }


def main() -> None:
    command, workdir = sys.argv[1], Path(sys.argv[2])
    setup(workdir)
    result = build(workdir) if command == "build" else read(sys.argv[3])
    json.dump(result, sys.stdout)


if __name__ == "__main__":
    main()
