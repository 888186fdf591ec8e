"""``import hedystia_models`` loads only what every program needs (issue 14).

Not a timing test (``benchmarks/run.py`` measures the import time, as a ratio): these check,
in a fresh interpreter, which modules the import brings, and that the names loaded on first
use still resolve.
"""

from __future__ import annotations

import json
import subprocess
import sys

#: What ``import pydantic, sqlite_utils`` with ``BaseModel`` and ``TypeAdapter`` loads: the
#: baseline of the import-time target (sqlite-utils itself imports click, for its plugins).
BASELINE = "import pydantic, sqlite_utils; from pydantic import BaseModel, TypeAdapter"


def modules_after(code: str) -> set[str]:
    """The names in ``sys.modules`` after running ``code`` in a fresh interpreter."""
    result = subprocess.run(
        [sys.executable, "-c", f"{code}\nimport json, sys; print(json.dumps(sorted(sys.modules)))"],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    return set(json.loads(result.stdout.splitlines()[-1])) - {"json"}


def test_import_brings_no_asyncio_click_or_sqlalchemy() -> None:
    ours = modules_after("import hedystia_models")
    baseline = modules_after(BASELINE)
    added = ours - baseline
    for root in ("asyncio", "click", "sqlalchemy", "ssl"):
        brought = sorted(m for m in added if m == root or m.startswith(f"{root}."))
        assert not brought, f"import hedystia_models loads {brought}"
    assert "asyncio" not in ours
    assert "sqlalchemy" not in ours
    # click only as far as sqlite-utils loads it: none of the command line's modules.
    assert not {m for m in ours if m.startswith("hedystia_models.cli")}
    # Loaded on first use: the async API and the code-writing side of ``inspect``.
    assert "hedystia_models.aio" not in ours
    assert "hedystia_models.inspect" not in ours


#: What ``import hedystia_models`` leaves for first use: the model-building side (with the
#: first table model), the connection pool (with the first database), the migration side and
#: the rows side (with what a database is asked to do).
NOT_ON_IMPORT = (
    "hedystia_models.engine.base",
    "hedystia_models.engine.sqlite.ddl",
    "hedystia_models.engine.sqlite.executor",
    "hedystia_models.engine.sqlite.introspect",
    "hedystia_models.engine.sqlite.opening",
    "hedystia_models.engine.sqlite.pool",
    "hedystia_models.engine.sqlite.storage",
    "hedystia_models.engine.sqlite.transaction",
    "hedystia_models.migrate",
    "hedystia_models.model.build",
    "hedystia_models.model.columns",
    "hedystia_models.model.schemas",
    "hedystia_models.model.typemap",
    "hedystia_models.rows",
    "hedystia_models.schema.index",
    "hedystia_models.schema.spec",
    "hedystia_models.schema.sqltext",
    "hedystia_models.schema.state",
)

#: What a program that defines a model and opens a database synced at start-up still never
#: loads: running migrations, checking a fresh history, writing migration files, the
#: repositories (until ``db.table(...)``), the read cache (without ``cache=``), the command
#: line, ``inspect`` and the async API.
NOT_AT_START_UP = (
    "hedystia_models.aio",
    "hedystia_models.cli",
    "hedystia_models.inspect",
    "hedystia_models.migrate.context",
    "hedystia_models.migrate.converge",
    "hedystia_models.migrate.definitions",
    "hedystia_models.migrate.fresh",
    "hedystia_models.migrate.loading",
    "hedystia_models.migrate.migrations",
    "hedystia_models.migrate.render",
    "hedystia_models.migrate.runner",
    "hedystia_models.rows.aggregates",
    "hedystia_models.rows.cache",
    "hedystia_models.rows.loading",
    "hedystia_models.rows.projection",
    "hedystia_models.rows.repository",
    "hedystia_models.rows.upserts",
)

START_UP = """
import hedystia_models
from hedystia_models import Field, Table, database

class User(Table, table="users"):
    id: int | None = Field(default=None, primary_key=True)
    name: str = ""

db = database(schemas=[User], connection=":memory:", sync_schemas=True)
"""


def loaded(modules: set[str], names: tuple[str, ...]) -> list[str]:
    """Those of ``names`` (or of their submodules) in ``modules``."""
    return sorted(m for m in modules for n in names if m == n or m.startswith(f"{n}."))


def test_import_leaves_models_databases_migrations_and_rows_for_first_use() -> None:
    ours = modules_after("import hedystia_models")
    assert not loaded(ours, NOT_ON_IMPORT)


def test_start_up_sync_loads_no_migration_runner_nor_repositories() -> None:
    ours = modules_after(START_UP)
    assert "hedystia_models.migrate.sync" in ours  # the start-up sync did run
    assert not loaded(ours, NOT_AT_START_UP)
    # A repository, and the rest of the rows side, come with the first db.table(...).
    used = modules_after(START_UP + "db.table(User).insert(User(name='a'))")
    assert "hedystia_models.rows.repository" in used


def test_lazy_names_still_resolve() -> None:
    code = """
import sys
import hedystia_models
from hedystia_models.aio import AsyncDatabase, AsyncRepository
from hedystia_models.inspect import inspect_models
assert hedystia_models.AsyncDatabase is AsyncDatabase
assert hedystia_models.AsyncRepository is AsyncRepository
assert hedystia_models.inspect_models is inspect_models
from hedystia_models import AsyncDatabase as again
assert again is AsyncDatabase
missing = [name for name in hedystia_models.__all__ if not hasattr(hedystia_models, name)]
assert not missing, missing
assert {"AsyncDatabase", "AsyncRepository", "inspect_models"} <= set(dir(hedystia_models))
import hedystia_models.engine.base
import hedystia_models.model.columns
import hedystia_models.schema.spec
from hedystia_models.engine import Compiled, Executor
from hedystia_models.model.table import FieldMapping, TableInfo, column_from_field
assert hedystia_models.TableSpec is hedystia_models.schema.spec.TableSpec
assert (Compiled, Executor) == (
    hedystia_models.engine.base.Compiled, hedystia_models.engine.base.Executor
)
assert column_from_field is hedystia_models.model.columns.column_from_field
assert hedystia_models.database.__module__ == "hedystia_models.database"  # the function
try:
    hedystia_models.NoSuchName
except AttributeError as exc:
    assert "NoSuchName" in str(exc)
else:
    raise AssertionError("hedystia_models.NoSuchName resolved")
for module, name in (
    (hedystia_models.model.table, "no_such_name"),
    (hedystia_models.engine, "NoSuchName"),
):
    try:
        getattr(module, name)
    except AttributeError as exc:
        assert name in str(exc)
    else:
        raise AssertionError(f"{module.__name__}.{name} resolved")
"""
    assert "asyncio" in modules_after(code)


def test_async_api_loads_asyncio_on_first_use() -> None:
    ours = modules_after("import hedystia_models\nhedystia_models.AsyncDatabase")
    assert {"asyncio", "hedystia_models.aio"} <= ours
