"""A process killed (SIGKILL) in the middle of a schema change leaves the database as it was.

Each test starts a child process that stops at a chosen point *inside* the schema change's
transaction (it writes a marker file and waits), kills it there with ``SIGKILL``, and then
checks, in both journal modes, that the file passes ``PRAGMA integrity_check``, that nothing
of the change is visible (schema, rows, history), and that the next start-up applies the
change completely.
"""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from hedystia_models import Field, MigrationContext, Table, database, migration

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="SIGKILL is POSIX")

ROWS = 5_000

MODELS = """
from hedystia_models import Field, Table, migration


class Player(Table, table="players"):
    id: int | None = Field(default=None, primary_key=True)
    name: str
{extra}
"""

V2_EXTRA = """
    goals: int = 0
    email: str | None = Field(default=None, unique=True)


class Match(Table, table="matches"):
    id: int | None = Field(default=None, primary_key=True)
    home: int = Field(references=Player)
"""

# The child stops when the sync reaches its last statement (the unique index on the new
# column): the new column and table are already made inside the open transaction.
SYNC_CHILD = """
import sqlite3, sys, time
from pathlib import Path

sys.path.insert(0, sys.argv[1])
marker, path = Path(sys.argv[2]), sys.argv[3]
conn = sqlite3.connect(path, isolation_level=None)

def stop_inside(statement):
    if statement.startswith("CREATE UNIQUE INDEX"):
        marker.touch()
        time.sleep(60)

conn.set_trace_callback(stop_inside)
from hedystia_models import database
import crash_models_v2 as models
database(schemas=[models.Player, models.Match], connection=conn, sync_schemas=True)
sys.exit("the sync finished: it should have been killed")
"""

MIGRATION_CHILD = """
import sys, time
from pathlib import Path

marker, path = Path(sys.argv[2]), sys.argv[3]
from hedystia_models import Field, Table, database, migration


class Player(Table, table="players"):
    id: int | None = Field(default=None, primary_key=True)
    name: str
    score: int = 0


SCORE = {"type": "integer", "not_null": True, "default_value": 0}


def backfill(ctx):
    ctx.schema.add_column("players", "score", SCORE)
    ids = [row["id"] for row in ctx.sql("SELECT id FROM players ORDER BY id")]
    for done, player_id in enumerate(ids):
        ctx.sql("UPDATE players SET score = ? WHERE id = ?", [player_id * 2, player_id])
        if done == len(ids) // 2:
            marker.touch()
            time.sleep(60)


database(
    schemas=[Player],
    connection=path,
    migrations=[migration("0001_backfill_score", up=backfill)],
    sync_schemas=True,
    run_migrations=True,
)
sys.exit("the migration finished: it should have been killed")
"""


class Player(Table, table="players"):
    id: int | None = Field(default=None, primary_key=True)
    name: str


def seeded(path: Path, journal_mode: str) -> None:
    conn = sqlite3.connect(path)
    conn.execute(f"PRAGMA journal_mode={journal_mode}")
    conn.close()
    with database(schemas=[Player], connection=path, sync_schemas=True) as db:
        db.table(Player).insert_many([{"name": f"p{i}"} for i in range(ROWS)])


def kill_when_inside(tmp_path: Path, child: str, db_path: Path) -> None:
    """Run ``child``, wait for its marker, SIGKILL it there."""
    marker = tmp_path / "inside"
    process = subprocess.Popen(
        [sys.executable, "-c", textwrap.dedent(child), str(tmp_path), str(marker), str(db_path)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    deadline = time.monotonic() + 60
    while not marker.exists():
        if process.poll() is not None:
            pytest.fail(f"the child ended before the marker: {process.communicate()[1].decode()}")
        assert time.monotonic() < deadline, "the child never reached the marker"
        time.sleep(0.01)
    os.kill(process.pid, signal.SIGKILL)
    process.wait(timeout=30)
    assert process.returncode == -signal.SIGKILL


def state(db_path: Path) -> tuple[str, list[object], list[object], list[object]]:
    conn = sqlite3.connect(db_path)
    try:
        (integrity,) = conn.execute("PRAGMA integrity_check").fetchone()
        schema = conn.execute("SELECT type, name, sql FROM sqlite_master ORDER BY name").fetchall()
        rows = conn.execute("SELECT * FROM players ORDER BY id").fetchall()
        history = conn.execute(
            "SELECT kind, name FROM __hedystia_migrations ORDER BY id"
        ).fetchall()
    finally:
        conn.close()
    return integrity, schema, rows, history


@pytest.mark.parametrize("journal_mode", ["delete", "wal"])
def test_a_start_up_killed_mid_sync_leaves_the_database_as_it_was(
    tmp_path: Path, journal_mode: str
) -> None:
    db_path = tmp_path / "app.db"
    seeded(db_path, journal_mode)
    (tmp_path / "crash_models_v2.py").write_text(MODELS.format(extra=V2_EXTRA))
    before = state(db_path)

    kill_when_inside(tmp_path, SYNC_CHILD, db_path)

    after = state(db_path)
    assert after[0] == "ok"
    assert after == before

    # The next start-up applies the whole change.
    sys.path.insert(0, str(tmp_path))
    try:
        import crash_models_v2 as v2  # type: ignore[import-not-found]

        with database(schemas=[v2.Player, v2.Match], connection=db_path, sync_schemas=True) as db:
            assert db.plan().in_sync
            assert db.table(v2.Player).count() == ROWS
            assert [h.kind for h in db.history()] == ["sync", "sync"]
    finally:
        sys.path.remove(str(tmp_path))
        sys.modules.pop("crash_models_v2", None)


@pytest.mark.parametrize("journal_mode", ["delete", "wal"])
def test_a_migration_killed_mid_backfill_leaves_the_database_as_it_was(
    tmp_path: Path, journal_mode: str
) -> None:
    db_path = tmp_path / "app.db"
    seeded(db_path, journal_mode)
    before = state(db_path)

    kill_when_inside(tmp_path, MIGRATION_CHILD, db_path)

    after = state(db_path)
    assert after[0] == "ok"
    assert after == before  # no score column, no half-filled rows, nothing recorded

    class Scored(Table, table="players"):
        id: int | None = Field(default=None, primary_key=True)
        name: str
        score: int = 0

    def backfill(ctx: MigrationContext) -> None:
        ctx.schema.add_column(
            "players", "score", {"type": "integer", "not_null": True, "default_value": 0}
        )
        ctx.sql("UPDATE players SET score = id * 2")

    with database(
        schemas=[Scored],
        connection=db_path,
        migrations=[migration("0001_backfill_score", up=backfill)],
        sync_schemas=True,
        run_migrations=True,
    ) as db:
        assert db.plan().in_sync
        scores = db.raw("SELECT count(*) AS n FROM players WHERE score = id * 2")
        assert scores == [{"n": ROWS}]
        assert [(h.kind, h.name) for h in db.history()][-1] == ("migration", "0001_backfill_score")
