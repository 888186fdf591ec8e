"""Several processes syncing the same file at the same moment: one sync, no failure."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
import time
from pathlib import Path
from typing import Any

PROCESSES = 6

MODELS_V1 = """
from hedystia_models import Field, Index, Table


class Team(Table, table="teams"):
    id: int | None = Field(default=None, primary_key=True, auto_increment=True)
    name: str = Field(unique=True)


class Player(Table, table="players", indexes=[Index("team_id", "number", unique=True)]):
    id: int | None = Field(default=None, primary_key=True)
    team_id: int = Field(references=Team, on_delete="cascade", index=True)
    number: int
    nick: str = "rookie"
"""

MODELS_V2 = """
from hedystia_models import Field, Index, Table


class Team(Table, table="teams"):
    id: int | None = Field(default=None, primary_key=True, auto_increment=True)
    name: str = Field(unique=True)


class Player(Table, table="players", indexes=[Index("team_id", "number", unique=True)]):
    id: int | None = Field(default=None, primary_key=True)
    team_id: int = Field(references=Team, on_delete="cascade", index=True)
    number: int
    nick: str = "rookie"
    goals: int = 0
    email: str | None = Field(default=None, unique=True)


class Match(Table, table="matches"):
    id: int | None = Field(default=None, primary_key=True)
    home: int = Field(references=Team)
    away: int = Field(references=Team)
"""

CHILD = """
import json, sys, time
from pathlib import Path

sys.path.insert(0, sys.argv[1])
import {module} as models
from hedystia_models import database

ready, go, path, engine = Path(sys.argv[2]), Path(sys.argv[3]), sys.argv[4], sys.argv[5]
ready.touch()
deadline = time.monotonic() + 30
while not go.exists():
    if time.monotonic() > deadline:
        sys.exit("never told to go")
    time.sleep(0.001)
db = database(schemas=models, connection=path, database=engine, sync_schemas=True)
tables = sorted(db.executor.read_state().tables)
print(json.dumps({{"in_sync": db.plan().in_sync, "tables": tables}}))
db.close()
"""


def run_at_once(
    tmp_path: Path, module: str, connect: Any, round_: str, child: str = CHILD
) -> list[dict[str, object]]:
    """Start PROCESSES children, release them together, return what each printed."""
    gate = tmp_path / f"gate-{round_}"
    gate.mkdir()
    go = gate / "go"
    children = []
    for i in range(PROCESSES):
        ready = gate / f"ready-{i}"
        command = [
            sys.executable,
            "-c",
            child.format(module=module),
            str(tmp_path),
            str(ready),
            str(go),
            str(connect.target),
            connect.engine,
        ]
        children.append(
            (ready, subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE))
        )
    deadline = time.monotonic() + 30
    while not all(ready.exists() for ready, _ in children):
        assert time.monotonic() < deadline, "children did not start"
        assert all(p.poll() is None for _, p in children), "a child died before the start"
        time.sleep(0.005)
    go.touch()
    results = []
    for _, process in children:
        out, err = process.communicate(timeout=60)
        assert process.returncode == 0, err.decode()
        assert b"Traceback" not in err, err.decode()
        results.append(json.loads(out))
    return results


def test_processes_syncing_at_once_sync_exactly_once(tmp_path: Path, connect: Any) -> None:
    (tmp_path / "conc_models_v1.py").write_text(textwrap.dedent(MODELS_V1))
    (tmp_path / "conc_models_v2.py").write_text(textwrap.dedent(MODELS_V2))

    results = run_at_once(tmp_path, "conc_models_v1", connect, "v1")
    assert len(results) == PROCESSES
    for result in results:
        assert result["in_sync"] is True
        assert {"teams", "players"} <= set(result["tables"])  # type: ignore[call-overload]

    sys.path.insert(0, str(tmp_path))
    try:
        import conc_models_v1  # type: ignore[import-not-found]
        import conc_models_v2  # type: ignore[import-not-found]

        with connect(schemas=conc_models_v1) as db:
            history = db.history()
            assert [h.kind for h in history] == ["sync"]
            assert db.plan().in_sync
            assert history[0].statements[0].startswith('CREATE TABLE "teams"')

        # a second round: every process now brings new columns and a new table
        results = run_at_once(tmp_path, "conc_models_v2", connect, "v2")
        assert all(r["in_sync"] is True for r in results)
        with connect(schemas=conc_models_v2) as db:
            history = db.history()
            assert [h.kind for h in history] == ["sync", "sync"]
            assert db.plan().in_sync
            tables = db.executor.read_state().tables
            columns = [c.name for c in tables["players"].columns]
            assert columns == ["id", "team_id", "number", "nick", "goals", "email"]
            assert "matches" in tables
            db.raw("INSERT INTO teams (name) VALUES ('a'), ('b')")
            db.raw("INSERT INTO matches (home, away) VALUES (1, 2)")
            if connect.engine == "sqlite":  # PostgreSQL checks each key as it is written
                assert db.raw("PRAGMA foreign_key_check") == []
    finally:
        sys.path.remove(str(tmp_path))
        sys.modules.pop("conc_models_v1", None)
        sys.modules.pop("conc_models_v2", None)


MODELS_WITH_MIGRATIONS = """
from hedystia_models import Field, Table, migration


class Member(Table, table="members"):
    id: int | None = Field(default=None, primary_key=True)
    name: str = ""
    nickname: str | None = None


MIGRATIONS = [
    migration(
        "0001_seed",
        up=lambda ctx: ctx.sql("INSERT INTO members (name) VALUES ('founder')"),
    ),
    migration(
        "0002_nickname",
        up=lambda ctx: ctx.schema.add_column("members", "nickname", {"type": "text"}),
    ),
]
"""

CHILD_UPGRADE = CHILD.replace(
    "db = database(schemas=models, connection=path, database=engine, sync_schemas=True)",
    "db = database(schemas=[models.Member], connection=path, database=engine, "
    "migrations=models.MIGRATIONS, sync_schemas=True, run_migrations=True)",
)


def test_processes_starting_up_with_migrations_at_once_run_each_once(
    tmp_path: Path, connect: Any
) -> None:
    (tmp_path / "conc_upgrade.py").write_text(textwrap.dedent(MODELS_WITH_MIGRATIONS))
    results = run_at_once(tmp_path, "conc_upgrade", connect, "up", child=CHILD_UPGRADE)
    assert all(r["in_sync"] is True for r in results)
    with connect(schemas=[]) as db:
        assert db.raw("SELECT name FROM members") == [{"name": "founder"}]  # seeded once
        history = db.history()
        assert [(h.kind, h.name) for h in history if h.kind == "migration"] == [
            ("migration", "0001_seed"),
            ("migration", "0002_nickname"),
        ]
        assert [h.kind for h in history].count("sync") == 1  # the tables, made once
        assert history[-1].how == "converged"
