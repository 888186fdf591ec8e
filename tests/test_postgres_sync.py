"""The PostgreSQL engine's schema side (issue 15): the models' tables created on a real server,
read back with no false drift, changed natively, synced once by many processes at once, and
recorded on the timeline. The server is a throw-away one the tests start
(``tests/postgres_server.py``); without PostgreSQL these tests skip with one line saying how to
install it, and in CI (``HEDYSTIA_REQUIRE_POSTGRES=1``) they cannot skip.
"""

from __future__ import annotations

import enum
import json
import multiprocessing
import sys
from datetime import date, datetime, time, timedelta, timezone
from decimal import Decimal
from pathlib import Path
from typing import Any, Literal
from uuid import UUID

import psycopg
import pytest

from hedystia_models import Field, SyncError, Table
from hedystia_models.engine.postgres.connection import connect
from hedystia_models.engine.postgres.executor import PostgresExecutor
from hedystia_models.engine.postgres.sync import plan, sync
from hedystia_models.engine.postgres.types import table_for_postgres
from hedystia_models.migrate.operations import AlterColumn


class Color(enum.Enum):
    red = "red"
    blue = "blue"


class Account(Table, table="accounts"):
    id: int | None = Field(default=None, primary_key=True)
    email: str = Field(unique=True, max_length=80)
    name: str = Field(default="x", index=True)
    active: bool = True
    score: float = 0.0
    price: Decimal = Decimal("1.50")
    at: datetime | None = None
    day: date | None = None
    clock: time | None = None
    span: timedelta | None = None
    uid: UUID | None = None
    data: dict[str, int] = Field(default_factory=dict)
    color: Color = Color.red
    level: Literal[1, 2, 3] = 1
    blob: bytes | None = None


class Note(Table, table="notes"):
    id: int | None = Field(default=None, primary_key=True)
    account_id: int = Field(references=Account, on_delete="CASCADE", index=True)
    body: str


MODELS = [Account, Note]


def specs(*models: type[Table]) -> list[Any]:
    return [m.table_spec() for m in models]


@pytest.fixture
def conn(postgres_url: str) -> Any:
    opened, _ = connect(postgres_url)
    yield opened
    opened.close()


def history_rows(conn: Any) -> list[tuple[str, list[str]]]:
    rows = conn.execute(
        'SELECT kind, statements FROM "__hedystia_migrations" ORDER BY id'
    ).fetchall()
    return [(kind, json.loads(statements)) for kind, statements in rows]


def test_sync_creates_every_type_and_reads_back_with_no_drift(conn: Any) -> None:
    applied = sync(conn, specs(*MODELS))
    assert [op.table for op in applied.safe] == ["accounts", "notes"]
    again = plan(conn, specs(*MODELS))
    assert not again.operations, [op.describe() for op in again.operations]
    # The values of every type go in and come back as they were.
    conn.execute(
        "INSERT INTO accounts (email, at, day, clock, span, uid, data, blob) "
        "VALUES (%s, %s, %s, %s, %s, %s, %s::jsonb, %s) RETURNING id",
        (
            "a@example.com",
            datetime(2026, 1, 2, 3, 4, 5, 6, tzinfo=timezone.utc),
            date(2026, 1, 2),
            time(3, 4, 5),
            timedelta(days=1, microseconds=7),
            UUID(int=7),
            json.dumps({"a": 1}),
            b"\x00\x01",
        ),
    )
    row = conn.execute("SELECT * FROM accounts").fetchone()
    assert row == (
        1,
        "a@example.com",
        "x",
        True,
        0.0,
        Decimal("1.50"),
        datetime(2026, 1, 2, 3, 4, 5, 6, tzinfo=timezone.utc),
        date(2026, 1, 2),
        time(3, 4, 5),
        timedelta(days=1, microseconds=7),
        UUID(int=7),
        {"a": 1},
        "red",
        1,
        b"\x00\x01",
    )
    with pytest.raises(psycopg.errors.CheckViolation):
        conn.execute("INSERT INTO accounts (email, data, color) VALUES ('b', '{}', 'green')")
    assert history_rows(conn)[0][0] == "sync"


def test_a_new_field_is_added_and_recorded_and_the_fast_path_sees_hand_edits(conn: Any) -> None:
    sync(conn, specs(*MODELS))
    assert not sync(conn, specs(*MODELS)).operations  # the fast path: nothing to do

    class Account2(Account, table="accounts"):
        nickname: str | None = None

    grown = sync(conn, specs(Account2, Note))
    assert [op.describe() for op in grown.safe] == ["add column accounts.nickname TEXT"]
    assert history_rows(conn)[-1] == (
        "sync",
        ['ALTER TABLE "accounts" ADD COLUMN "nickname" TEXT COLLATE "C"'],
    )
    # A hand edit changes the catalogs: the next start-up plans, and puts the column back.
    conn.execute('ALTER TABLE "accounts" DROP COLUMN "nickname"')
    back = sync(conn, specs(Account2, Note))
    assert [op.describe() for op in back.safe] == ["add column accounts.nickname TEXT"]


def test_unsafe_drift_is_left_alone_reported_every_time_and_altered_natively(
    conn: Any, caplog: pytest.LogCaptureFixture
) -> None:
    sync(conn, specs(*MODELS))
    conn.execute('ALTER TABLE "notes" ALTER COLUMN "body" TYPE VARCHAR(10)')
    for _ in range(2):  # no fast path hides it
        found = sync(conn, specs(*MODELS))
        assert not found.safe
        assert [op.table for op in found.unsafe] == ["notes"]
    assert "sync left alone" in caplog.text
    # The change a migration would make: native ALTER COLUMN, no rebuild.
    state = PostgresExecutor(conn).read_state()
    actual = state.table("notes")
    assert actual is not None
    desired = table_for_postgres(Note.table_spec()).column("body")
    op = AlterColumn("notes", desired=desired, actual=actual.column("body"))
    compiled = PostgresExecutor(conn).apply(op)
    assert compiled.rebuild is None
    assert compiled.statements == (
        'ALTER TABLE "notes" ALTER COLUMN "body" TYPE TEXT USING "body"::TEXT',
        # (the hand edit's VARCHAR took the database's collation; text is compared as bytes)
        'ALTER TABLE "notes" ALTER COLUMN "body" TYPE TEXT COLLATE "C"',
    )
    assert not plan(conn, specs(*MODELS)).operations


def test_a_failing_sync_leaves_the_database_as_it_was(conn: Any) -> None:
    sync(conn, specs(*MODELS))
    conn.execute("INSERT INTO accounts (email, data) VALUES ('a', '{}')")

    class Account3(Account, table="accounts"):
        required: int  # NOT NULL without a default on a table with rows: blocked

    with pytest.raises(SyncError, match="nothing was applied"):
        sync(conn, specs(Account3, Note))
    columns = conn.execute(
        "SELECT count(*) FROM information_schema.columns WHERE table_name = 'accounts'"
    ).fetchone()
    assert columns == (15,)


def _start_up(url: str, barrier: Any) -> None:  # a process of the concurrent start-up test
    opened, _ = connect(url)
    barrier.wait()
    sync(opened, specs(*MODELS), timeout=60)
    opened.close()


def test_many_processes_starting_at_once_apply_each_change_once(postgres_url: str) -> None:
    context = multiprocessing.get_context("spawn")
    barrier = context.Barrier(4)
    workers = [context.Process(target=_start_up, args=(postgres_url, barrier)) for _ in range(4)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(120)
        assert worker.exitcode == 0
    opened, _ = connect(postgres_url)
    try:
        assert [kind for kind, _ in history_rows(opened)] == ["sync"]
        assert not plan(opened, specs(*MODELS)).operations
    finally:
        opened.close()


def test_the_test_server_helper_names_how_to_install_postgres() -> None:
    sys.path.insert(0, str(Path(__file__).parent))
    from postgres_server import INSTALL_HINT

    assert "apt-get install postgresql" in INSTALL_HINT


def test_bytes_defaults_and_table_checks_read_back_as_declared(conn: Any) -> None:
    from hedystia_models import TableSpec
    from hedystia_models.schema.spec import CheckSpec, ColumnSpec

    table = TableSpec(
        "blobs",
        (
            ColumnSpec("id", "INTEGER", primary_key=True),
            ColumnSpec("raw", "BLOB", not_null=True, default_sql="X'01AB'", kind="blob"),
            ColumnSpec("low", "INTEGER", kind="integer"),
            ColumnSpec("high", "INTEGER", kind="integer"),
        ),
        checks=(CheckSpec('"low" <= "high"'), CheckSpec('"low" >= 0')),
    )
    sync(conn, [table])
    assert not plan(conn, [table]).operations
    conn.execute("INSERT INTO blobs (low, high) VALUES (1, 2)")
    assert conn.execute("SELECT raw FROM blobs").fetchone() == (b"\x01\xab",)
    with pytest.raises(psycopg.errors.CheckViolation):
        conn.execute("INSERT INTO blobs (low, high) VALUES (-1, 2)")


def test_database_postgres_refuses_what_it_cannot_use(postgres_url: str, tmp_path: Any) -> None:
    from hedystia_models import ConfigurationError, database

    with pytest.raises(ConfigurationError, match="cannot connect to PostgreSQL"):
        database(schemas=MODELS, database="postgres", connection="postgresql://nobody@/x?host=/no")
    with pytest.raises(ConfigurationError, match="journal_mode and synchronous are SQLite's"):
        database(schemas=MODELS, database="postgres", connection=postgres_url, journal_mode=None)
    with pytest.raises(ConfigurationError, match="schema= is PostgreSQL's"):
        database(schemas=MODELS, connection=tmp_path / "x.db", schema="app")
    with pytest.raises(ConfigurationError, match="supported: sqlite, postgres"):
        database(schemas=MODELS, database="mysql", connection=postgres_url)


def test_bad_connections_are_named(postgres_server: Any) -> None:
    from hedystia_models import ConfigurationError

    with pytest.raises(ConfigurationError, match="unknown PostgreSQL setting"):
        connect({"hots": "localhost", "dbname": "x"})
    with pytest.raises(ConfigurationError, match="must be a postgresql:// URL"):
        connect(42)
    with pytest.raises(ConfigurationError, match="cannot connect to PostgreSQL"):
        connect(postgres_server.conninfo("no_such_database"))
    opened = psycopg.connect(postgres_server.conninfo(), autocommit=True)
    try:
        assert connect(opened) == (opened, False)  # the caller's, used as it is
    finally:
        opened.close()


def test_a_held_schema_lock_times_out_with_a_named_error(postgres_url: str) -> None:
    from hedystia_models.engine.postgres.connection import schema_lock, transaction
    from hedystia_models.errors import DatabaseLockedError

    holder, _ = connect(postgres_url)
    waiter, _ = connect(postgres_url, busy_timeout=0.2)
    try:
        with transaction(holder):
            schema_lock(holder)
            with pytest.raises(DatabaseLockedError, match="schema-change lock"):
                sync(waiter, specs(*MODELS), timeout=0.2)
        assert waiter.execute("SELECT count(*) FROM pg_tables WHERE tablename = 'accounts'")
        assert plan(waiter, specs(*MODELS)).safe  # nothing was applied meanwhile
    finally:
        holder.close()
        waiter.close()


def test_rows_move_from_sqlite_to_postgres_with_their_values(tmp_path: Path, conn: Any) -> None:
    from hedystia_models import database
    from hedystia_models.engine.postgres.copy import copy_rows

    with database(schemas=MODELS, connection=tmp_path / "app.db", sync_schemas=True) as lite:
        accounts = lite.table(Account)
        first = accounts.insert(
            {
                "email": "a@example.com",
                "price": Decimal("2.25"),
                "at": datetime(2026, 1, 2, 3, 4, 5, 6, tzinfo=timezone.utc),
                "day": date(2026, 1, 2),
                "clock": time(3, 4, 5),
                "span": timedelta(seconds=90),
                "uid": UUID(int=9),
                "data": {"n": 1},
                "color": Color.blue,
                "level": 3,
                "blob": b"\x00",
            }
        )
        accounts.insert({"email": "b@example.com"})
        lite.table(Note).insert({"account_id": first.id, "body": "hello"})
        sync(conn, specs(*MODELS))
        assert copy_rows(lite, conn, [Note, Account]) == {"accounts": 2, "notes": 1}
        expected = accounts.find(order_by="id")
    cursor = conn.cursor(row_factory=psycopg.rows.dict_row)
    moved = [
        Account.model_validate(r) for r in cursor.execute("SELECT * FROM accounts ORDER BY id")
    ]
    assert moved == expected
    # The identity continues after the copied keys.
    (next_id,) = conn.execute(
        "INSERT INTO accounts (email, data) VALUES ('c', '{}') RETURNING id"
    ).fetchone()
    assert next_id == 3


def test_boolean_and_one_value_choices_are_enforced(conn: Any) -> None:
    class Toggle(Table, table="toggles"):
        id: int | None = Field(default=None, primary_key=True)
        on: Literal[True, False] = True
        only: Literal["yes"] = "yes"

    sync(conn, specs(Toggle))
    assert not plan(conn, specs(Toggle)).operations
    conn.execute("""INSERT INTO toggles ("on", "only") VALUES (false, 'yes')""")
    with pytest.raises(psycopg.errors.CheckViolation):
        conn.execute("""INSERT INTO toggles ("only") VALUES ('no')""")


# -- what a review found (each of these failed before its fix) --------------------------------


def test_sync_into_another_schema_creates_and_records_there(conn: Any) -> None:
    conn.execute('CREATE SCHEMA "other"')
    sync(conn, specs(*MODELS), schema="other")
    where = conn.execute(
        "SELECT DISTINCT table_schema FROM information_schema.tables "
        "WHERE table_name IN ('accounts', 'notes', '__hedystia_migrations')"
    ).fetchall()
    assert where == [("other",)]
    assert not plan(conn, specs(*MODELS), schema="other").operations
    assert [op.table for op in plan(conn, specs(*MODELS)).safe] == ["accounts", "notes"]


def test_a_connection_not_in_autocommit_is_left_idle_and_the_change_committed(
    postgres_url: str,
) -> None:
    caller = psycopg.connect(postgres_url)  # psycopg's default: not autocommit
    try:
        sync(caller, specs(*MODELS))
        assert caller.info.transaction_status == psycopg.pq.TransactionStatus.IDLE
        other, _ = connect(postgres_url)
        try:
            assert not plan(other, specs(*MODELS)).operations  # committed, visible
        finally:
            other.close()
        assert not sync(caller, specs(*MODELS)).operations
        assert caller.info.transaction_status == psycopg.pq.TransactionStatus.IDLE
    finally:
        caller.close()


def test_retyping_a_column_with_a_default_and_a_check_and_renaming_one(conn: Any) -> None:
    from hedystia_models.migrate.operations import RenameColumn
    from hedystia_models.schema.spec import ColumnSpec, TableSpec

    conn.execute(
        """CREATE TABLE "t" ("id" BIGINT PRIMARY KEY, "c" TEXT NOT NULL DEFAULT '5' """
        """CHECK ("c" IN ('1', '5')), "u" TEXT UNIQUE)"""
    )
    executor = PostgresExecutor(conn)
    actual = executor.read_state().table("t")
    assert actual is not None
    wanted = ColumnSpec("c", "BIGINT", not_null=True, default_sql="1", check='"c" IN (1, 5)')
    executor.apply(AlterColumn("t", desired=wanted, actual=actual.column("c")))
    executor.apply(RenameColumn("t", old="u", new="w"))
    desired = TableSpec(
        "t",
        (
            ColumnSpec("id", "BIGINT", primary_key=True),
            wanted,
            ColumnSpec("w", "TEXT", unique=True),
        ),
    )
    assert not plan(conn, [desired]).operations
    names = conn.execute(
        "SELECT conname FROM pg_constraint WHERE conrelid = 't'::regclass ORDER BY 1"
    ).fetchall()
    assert names == [("t_c_check",), ("t_pkey",), ("t_w_key",)]


def test_copy_rows_with_the_key_not_first_and_json_holding_a_model(
    tmp_path: Path, conn: Any
) -> None:
    from pydantic import BaseModel

    from hedystia_models import database
    from hedystia_models.engine.postgres.copy import copy_rows

    class Inner(BaseModel):
        at: datetime
        tags: set[str] = set()

    class Late(Table, table="late"):
        name: str
        id: int | None = Field(default=None, primary_key=True)
        inner: Inner | None = None

    with database(schemas=[Late], connection=tmp_path / "l.db", sync_schemas=True) as lite:
        lite.table(Late).insert({"name": "a", "inner": {"at": datetime(2026, 1, 1)}})
        lite.table(Late).insert({"name": "b"})
        sync(conn, specs(Late))
        assert copy_rows(lite, conn, [Late]) == {"late": 2}
    (next_id,) = conn.execute("INSERT INTO late (name) VALUES ('c') RETURNING id").fetchone()
    assert next_id == 3
    assert conn.execute("""SELECT "inner"->>'at' FROM late WHERE id = 1""").fetchone() == (
        "2026-01-01T00:00:00",
    )


def test_the_lock_timeout_holds_on_a_connection_passed_in(postgres_url: str) -> None:
    from hedystia_models.engine.postgres.connection import schema_lock, transaction
    from hedystia_models.errors import DatabaseLockedError

    holder, _ = connect(postgres_url)
    caller = psycopg.connect(postgres_url, autocommit=True)  # no lock_timeout of ours
    try:
        with transaction(holder):
            schema_lock(holder)
            with pytest.raises(DatabaseLockedError):
                sync(caller, specs(*MODELS), timeout=0.3)
    finally:
        holder.close()
        caller.close()
