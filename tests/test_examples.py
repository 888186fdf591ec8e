"""Run every script in examples/ as a user would: a fresh process in an empty directory."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = sorted((ROOT / "examples").glob("*.py"))
TIMEOUT = 120


def run_example(path: Path, cwd: Path) -> subprocess.CompletedProcess[str]:
    """Run ``path`` with this interpreter in ``cwd``; fail with its output on a non-zero exit."""
    result = subprocess.run(
        [sys.executable, str(path)],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=TIMEOUT,
        check=False,
    )
    assert result.returncode == 0, (
        f"{path.name} exited with {result.returncode}\n"
        f"--- stdout ---\n{result.stdout}\n--- stderr ---\n{result.stderr}"
    )
    return result


def test_there_are_examples() -> None:
    assert ROOT / "examples" / "quickstart.py" in EXAMPLES


@pytest.mark.parametrize("path", EXAMPLES, ids=[p.name for p in EXAMPLES])
def test_example_runs(path: Path, tmp_path: Path) -> None:
    run_example(path, tmp_path)


def test_quickstart_twice_in_one_directory(tmp_path: Path) -> None:
    script = ROOT / "examples" / "quickstart.py"
    first = run_example(script, tmp_path)
    assert (tmp_path / "quickstart.db").exists()
    out = first.stdout
    assert "schema in sync: True" in out
    assert "Ann" in out and "ann@example.com" in out
    assert "Hello" in out and "'intro'" in out
    assert "Second post" in out

    # The second run finds the schema in sync and the rows already there: same rows, no copies.
    second = run_example(script, tmp_path)
    assert second.stdout == first.stdout
    assert second.stdout.count("Hello") == 1
    assert second.stdout.count("Second post") == 1


# -- examples/postgres: one project, two engines (issue 15) ------------------------------------


def test_the_shop_reports_the_same_on_sqlite_and_postgresql(
    tmp_path: Path, postgres_url: str
) -> None:
    """examples/postgres/shop.py with a SQLite file and with a PostgreSQL URL, the connection
    being the only change: the same migration history, rows and report on both, twice over
    (the second start-up of each finds nothing to do)."""
    import json

    script = ROOT / "examples" / "postgres" / "shop.py"

    def report(connection: str) -> dict[str, object]:
        result = subprocess.run(
            [sys.executable, str(script), connection],
            cwd=tmp_path,
            capture_output=True,
            text=True,
            timeout=TIMEOUT,
            check=False,
        )
        assert result.returncode == 0, result.stderr
        found: dict[str, object] = json.loads(result.stdout)
        return found

    on_sqlite, on_postgres = report(str(tmp_path / "shop.db")), report(postgres_url)
    assert on_sqlite == on_postgres
    assert on_sqlite["history"] == [
        ["0001_create_tables", "migration"],
        ["0002_seed_customers", "migration"],
        ["0003_promote_ann", "migration"],
    ]
    assert on_sqlite["revenue"] == "17.05" and on_sqlite["pro"] == ["Ann"]
    assert on_sqlite["drift"] == []
    assert report(str(tmp_path / "shop.db")) == on_sqlite
    assert report(postgres_url) == on_postgres
