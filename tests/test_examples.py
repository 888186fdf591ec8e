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
