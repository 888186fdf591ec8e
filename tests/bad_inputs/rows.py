"""Bad rows: each is refused before anything is written."""

from __future__ import annotations

import math
from pathlib import Path

from hedystia_models import Field, RowError, Table, database

from . import bad_input


class Reading(Table, table="readings"):
    id: int | None = Field(default=None, primary_key=True, auto_increment=True)
    value: float
    maybe: float | None = None


def readings(tmp: Path) -> None:
    database(schemas=[Reading], connection=tmp / "app.db", sync_schemas=True).close()


@bad_input(
    "Rows",
    "NaN for an optional float field (SQLite would store NULL)",
    RowError,
    "table 'readings': 1 invalid value(s), nothing was written:\n"
    "  row, field 'maybe': NaN cannot be stored: SQLite stores it as NULL",
    setup=readings,
)
def nan_in_optional_float(tmp: Path) -> None:
    with database(schemas=[Reading], connection=tmp / "app.db") as db:
        db.table(Reading).insert({"value": 1.0, "maybe": math.nan})


@bad_input(
    "Rows",
    "NaN in the second row of `insert_many`",
    RowError,
    "table 'readings': 1 invalid value(s), nothing was written:\n"
    "  row 1, field 'value': NaN cannot be stored: SQLite stores it as NULL",
    setup=readings,
)
def nan_in_insert_many(tmp: Path) -> None:
    with database(schemas=[Reading], connection=tmp / "app.db") as db:
        db.table(Reading).insert_many([{"value": 1.0}, {"value": math.nan}])
