"""Every bad input in the catalogue (``tests/bad_inputs``) gets its named error, exactly, and
leaves every database file as it was; ``docs/safety.md`` shows the catalogue as it is.

Run ``python tests/test_safety.py`` to rewrite the table in ``docs/safety.md`` after adding a
case.
"""

from __future__ import annotations

import re
import sqlite3
from pathlib import Path
from typing import Any

import pytest
from bad_inputs import CASES, ENGINE, BadInput, render_table

SAFETY = Path(__file__).parent.parent / "docs" / "safety.md"
START, END = "<!-- bad-inputs:start -->", "<!-- bad-inputs:end -->"


def snapshot(directory: Path) -> dict[str, list[str]]:
    """Every database file under ``directory``: its schema and rows, as SQL text."""
    dumps: dict[str, list[str]] = {}
    for path in sorted(directory.rglob("*")):
        if not path.is_file() or path.suffix in (".py", ".toml"):
            continue
        if path.name.endswith(("-wal", "-shm", "-journal")):  # read with their database
            continue
        if path.read_bytes()[:16] != b"SQLite format 3\x00":
            dumps[str(path)] = [path.read_bytes().hex()]
            continue
        conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
        try:
            dumps[str(path)] = list(conn.iterdump())
        except sqlite3.DatabaseError:  # SQLite's header, then no database: compare the bytes
            dumps[str(path)] = [path.read_bytes().hex()]
        finally:
            conn.close()
    return dumps


@pytest.mark.parametrize("case", CASES, ids=[case.id for case in CASES])
def test_bad_input(case: BadInput, tmp_path: Path) -> None:
    if case.setup is not None:
        case.setup(tmp_path)
    before = snapshot(tmp_path)
    with pytest.raises(case.error) as caught:
        case.run(tmp_path)
    assert type(caught.value) is case.error or isinstance(caught.value, case.error)
    assert str(caught.value) == case.message.replace("{tmp}", str(tmp_path))
    assert snapshot(tmp_path) == before, "the failing call changed a database file"


#: The areas whose cases are the engine's business as much as SQLite's: run on PostgreSQL too.
ENGINE_NEUTRAL = ("rows", "queries", "relations")
POSTGRES_CASES = [case for case in CASES if case.id.split(".")[0] in ENGINE_NEUTRAL]


def postgres_snapshot(url: str) -> dict[str, Any]:
    """Every table of the PostgreSQL database at ``url``: its spec and its rows."""
    from hedystia_models import database
    from hedystia_models.schema.quoting import quote_identifier

    with database(schemas=[], database="postgres", connection=url) as db:
        tables = db.executor.read_state().tables
        return {
            name: (repr(spec), db.raw(f"SELECT * FROM {quote_identifier(name)} ORDER BY ctid"))
            for name, spec in sorted(tables.items())
        }


@pytest.mark.parametrize("case", POSTGRES_CASES, ids=[case.id for case in POSTGRES_CASES])
def test_bad_input_on_postgres(
    case: BadInput, tmp_path: Path, postgres_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The same case on PostgreSQL: the same error, the same message, nothing changed."""
    monkeypatch.setitem(ENGINE, "database", "postgres")
    monkeypatch.setitem(ENGINE, "connection", postgres_url)
    if case.setup is not None:
        case.setup(tmp_path)
    before = postgres_snapshot(postgres_url)
    with pytest.raises(case.error) as caught:
        case.run(tmp_path)
    assert str(caught.value) == case.message.replace("{tmp}", str(tmp_path))
    assert postgres_snapshot(postgres_url) == before, "the failing call changed the database"


def test_at_least_forty_cases() -> None:
    assert len(CASES) >= 40
    assert len({case.id for case in CASES}) == len(CASES)
    assert len({case.what for case in CASES}) == len(CASES)
    assert not any("`" in case.message for case in CASES)


def rewritten(text: str) -> str:
    head, rest = text.split(START, 1)
    _, tail = rest.split(END, 1)
    return f"{head}{START}\n{render_table()}{END}{tail}"


def test_docs_table_matches_the_catalogue() -> None:
    text = SAFETY.read_text()
    assert rewritten(text) == text, "run `python tests/test_safety.py` to update docs/safety.md"


def test_every_test_the_page_names_exists() -> None:
    tests = Path(__file__).parent
    defined = {
        name
        for path in tests.rglob("*.py")
        for name in re.findall(r"^def (test_\w+)", path.read_text(), re.MULTILINE)
    }
    files = {path.name for path in tests.glob("test_*.py")}
    named = set(re.findall(r"`(test_\w+)`", SAFETY.read_text()))
    named_files = set(re.findall(r"`tests/(test_\w+\.py)`", SAFETY.read_text()))
    assert named and named <= defined, named - defined
    assert named_files and named_files <= files, named_files - files


if __name__ == "__main__":
    SAFETY.write_text(rewritten(SAFETY.read_text()))
    print(f"{SAFETY}: {len(CASES)} bad inputs")
