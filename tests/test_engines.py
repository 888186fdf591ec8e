"""The same models on both engines (issue 15): every model set below is synced on SQLite and on
PostgreSQL, and then read back with no drift, by one test parametrized over the engine.

The model sets are those the rest of the suite and the examples use (every storage type,
columns under other names, the FastAPI example, the benchmark's tables with references, a
self reference and a composite key), so a type or default one engine reads back differently
shows up here as a plan with something to do.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, Literal

import pytest

from hedystia_models import Field, Table, database

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "benchmarks"))
sys.path.insert(0, str(ROOT))

from bench_rows import Event  # noqa: E402
from bench_sync_startup import make_models  # noqa: E402
from test_roundtrip import Everything, Person, Sample  # noqa: E402

from examples.fastapi_app.models import Post as ApiPost  # noqa: E402
from examples.fastapi_app.models import User as ApiUser  # noqa: E402


class Folder(Table, table="folders"):
    id: int | None = Field(default=None, primary_key=True)
    parent_id: int | None = Field(default=None, references="folders.id", on_delete="CASCADE")
    name: str = Field(index=True)


class Membership(Table, table="memberships", unique=[("team", "rank")]):
    team: str = Field(primary_key=True)
    person: str = Field(primary_key=True)
    rank: int = 0
    note: str | None = Field(default=None, max_length=40)


class Switch(Table, table="switches"):
    id: int | None = Field(default=None, primary_key=True)
    on: Literal[True, False] = True
    only: Literal[True] = True
    label: str | None = Field(default=None, max_length=300)


MODEL_SETS: dict[str, Callable[[], Sequence[type[Table]]]] = {
    "every type": lambda: [Everything],
    "other column names": lambda: [Person],
    "optional values": lambda: [Sample],
    "benchmark rows": lambda: [Event],
    "fastapi example": lambda: [ApiUser, ApiPost],
    "references, 30 tables": lambda: make_models(30, 8, prefix="e"),
    "self reference, composite key": lambda: [Folder, Membership],
    "boolean choices": lambda: [Switch],
}


def _sqlite(models: Sequence[type[Table]], tmp_path: Path, request: pytest.FixtureRequest) -> Any:
    with database(schemas=list(models), connection=tmp_path / "x.db") as db:
        db.sync()
        return db.plan()


def _postgres(models: Sequence[type[Table]], tmp_path: Path, request: pytest.FixtureRequest) -> Any:
    from hedystia_models.engine.postgres.connection import connect
    from hedystia_models.engine.postgres.sync import plan, sync

    conn, _ = connect(request.getfixturevalue("postgres_url"))
    try:
        specs = [m.table_spec() for m in models]
        sync(conn, specs)
        return plan(conn, specs)
    finally:
        conn.close()


ENGINES = {"sqlite": _sqlite, "postgres": _postgres}


@pytest.mark.parametrize("engine", list(ENGINES))
@pytest.mark.parametrize("models", list(MODEL_SETS))
def test_models_sync_and_read_back_with_no_drift(
    engine: str, models: str, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    found = ENGINES[engine](MODEL_SETS[models](), tmp_path, request)
    assert [op.describe() for op in found.operations] == []
    assert list(found.notes) == []
