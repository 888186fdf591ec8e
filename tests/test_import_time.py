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
try:
    hedystia_models.NoSuchName
except AttributeError as exc:
    assert "NoSuchName" in str(exc)
else:
    raise AssertionError("hedystia_models.NoSuchName resolved")
"""
    assert "asyncio" in modules_after(code)


def test_async_api_loads_asyncio_on_first_use() -> None:
    ours = modules_after("import hedystia_models\nhedystia_models.AsyncDatabase")
    assert {"asyncio", "hedystia_models.aio"} <= ours
