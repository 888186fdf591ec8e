"""One Database object shared by many threads (issue 12): each thread has its own connection
and transactions; a write is all or nothing whatever the other threads do; WAL by default."""

from __future__ import annotations

import asyncio
import os
import random
import sqlite3
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from hedystia_models import (
    ConfigurationError,
    Database,
    DatabaseFileError,
    Field,
    RowError,
    Table,
    database,
)

THREADS = 8
CALLS = 500


class Account(Table, table="accounts"):
    id: int | None = Field(default=None, primary_key=True, auto_increment=True)
    owner: str = Field(min_length=1)
    thread: int
    serial: int
    balance: int = Field(default=0, ge=0)


class Boom(Exception):
    """Raised inside a transaction on purpose."""


def hammer(db: Database, thread: int) -> tuple[set[tuple[int, int]], int]:
    """CALLS mixed calls; returns the (thread, serial) pairs committed and how many calls
    failed on purpose (each of which must have written nothing)."""
    accounts = db.table(Account)
    rng = random.Random(thread)
    committed: set[tuple[int, int]] = set()
    failed = 0
    for serial in range(CALLS):
        row = {"owner": f"t{thread}", "thread": thread, "serial": serial}
        kind = rng.randrange(6)
        if kind == 0:
            accounts.insert(row)
            committed.add((thread, serial))
        elif kind == 1:  # a batch with one bad row: nothing of it is written
            with pytest.raises(RowError):
                accounts.insert_many([row, {**row, "serial": -serial - 1, "owner": ""}])
            failed += 1
        elif kind == 2:  # a transaction that commits two rows and updates one
            with db.transaction():
                accounts.insert(row)
                accounts.insert({**row, "serial": serial + CALLS})
                accounts.update(
                    where={"thread": thread, "serial": serial}, data={"balance": serial}
                )
            committed |= {(thread, serial), (thread, serial + CALLS)}
        elif kind == 3:  # a transaction that fails after writing: rolled back whole
            with pytest.raises(Boom), db.transaction():
                accounts.insert(row)
                raise Boom
            failed += 1
        elif kind == 4:  # an update breaking a constraint: nothing changes
            with pytest.raises(RowError):
                accounts.update(where={"thread": thread}, data={"balance": -1})
            failed += 1
        else:  # reads see this thread's own committed rows
            mine = accounts.count(where={"thread": thread})
            assert mine == len(committed)
            assert db.in_transaction is False
    return committed, failed


@pytest.mark.parametrize("where", ["file", "memory"])
def test_eight_threads_share_one_database(tmp_path: Path, where: str) -> None:
    connection = tmp_path / "bank.db" if where == "file" else ":memory:"
    with database(schemas=[Account], connection=connection, sync_schemas=True) as db:
        with ThreadPoolExecutor(THREADS) as pool:
            results = list(pool.map(lambda t: hammer(db, t), range(THREADS)))
        expected = set().union(*(committed for committed, _ in results))
        stored = {(a.thread, a.serial) for a in db.table(Account).find()}
        assert stored == expected  # every committed row, and nothing a failed call wrote
        assert sum(failed for _, failed in results) > 0
        assert all(a.balance >= 0 and a.owner for a in db.table(Account).find())
        assert db.raw("PRAGMA integrity_check") == [{"integrity_check": "ok"}]
        assert db.shared_connection is (where == "memory")


def test_each_thread_has_its_own_connection_and_transaction(db_path: Path) -> None:
    with database(schemas=[Account], connection=db_path, sync_schemas=True) as db:
        inside = threading.Event()
        release = threading.Event()
        seen: dict[str, object] = {}

        def writer() -> None:
            with db.transaction():
                db.table(Account).insert({"owner": "w", "thread": 1, "serial": 1})
                seen["writer_in_transaction"] = db.in_transaction
                seen["writer_conn"] = db.conn
                inside.set()
                release.wait(10)

        thread = threading.Thread(target=writer)
        thread.start()
        assert inside.wait(10)
        # Another thread: not in the writer's transaction, and does not see its row (WAL lets
        # it read while the writer writes).
        assert db.in_transaction is False
        assert db.conn is not seen["writer_conn"]
        assert db.table(Account).count() == 0
        release.set()
        thread.join(10)
        assert seen["writer_in_transaction"] is True
        assert db.table(Account).count() == 1


def test_close_closes_every_threads_connection(db_path: Path) -> None:
    db = database(schemas=[Account], connection=db_path, sync_schemas=True)
    conns: list[sqlite3.Connection] = []
    keep = threading.Event()
    started = threading.Barrier(3)

    def use() -> None:
        db.table(Account).count()
        conns.append(db.conn)
        started.wait(10)
        keep.wait(10)

    threads = [threading.Thread(target=use) for _ in range(2)]
    for thread in threads:
        thread.start()
    started.wait(10)
    db.close()
    for conn in conns:
        with pytest.raises(sqlite3.ProgrammingError):
            conn.execute("SELECT 1")
    keep.set()
    for thread in threads:
        thread.join(10)
    with pytest.raises(DatabaseFileError, match="is closed"):
        db.table(Account).count()


def test_a_threads_connection_closes_when_the_thread_ends(db_path: Path) -> None:
    with database(schemas=[Account], connection=db_path, sync_schemas=True) as db:
        conns: list[sqlite3.Connection] = []
        thread = threading.Thread(target=lambda: conns.append(db.conn))
        thread.start()
        thread.join(10)
        del thread
        import gc

        gc.collect()
        with pytest.raises(sqlite3.ProgrammingError):
            conns[0].execute("SELECT 1")


# -- journal mode ---------------------------------------------------------------------------


def journal_mode(path: Path) -> str:
    conn = sqlite3.connect(path)
    try:
        return str(conn.execute("PRAGMA journal_mode").fetchone()[0])
    finally:
        conn.close()


def test_a_file_database_is_put_in_wal_mode_with_synchronous_normal(db_path: Path) -> None:
    with database(schemas=[Account], connection=db_path, sync_schemas=True) as db:
        assert db.journal_mode == "wal"
        assert db.raw("PRAGMA synchronous") == [{"synchronous": 1}]  # NORMAL
    assert journal_mode(db_path) == "wal"


@pytest.mark.parametrize(
    ("mode", "synchronous", "level"),
    [("delete", None, 2), ("truncate", "normal", 1), ("wal", "full", 2), ("wal", "extra", 3)],
)
def test_the_journal_mode_and_synchronous_are_settings(
    db_path: Path, mode: str, synchronous: str | None, level: int
) -> None:
    with database(
        schemas=[Account],
        connection=db_path,
        sync_schemas=True,
        journal_mode=mode,
        synchronous=synchronous,
    ) as db:
        settings = [{"synchronous": level}], [{"journal_mode": mode}]

        def written_with() -> tuple[object, object]:
            db.table(Account).insert({"owner": "x", "thread": 0, "serial": 0})
            return db.raw("PRAGMA synchronous"), db.raw("PRAGMA journal_mode")

        assert written_with() == settings
        # Every thread's connection has the same settings.
        with ThreadPoolExecutor(1) as pool:
            assert pool.submit(written_with).result() == settings


def test_a_database_only_read_keeps_its_journal_mode(db_path: Path) -> None:
    conn = sqlite3.connect(db_path)
    conn.execute("CREATE TABLE accounts (id INTEGER PRIMARY KEY)")
    conn.commit()
    conn.close()
    with database(schemas=[Account], connection=db_path) as db:
        db.plan()
        db.raw("SELECT * FROM accounts")
    assert journal_mode(db_path) == "delete"


def test_journal_mode_none_leaves_the_file_alone(db_path: Path) -> None:
    with database(schemas=[Account], connection=db_path, sync_schemas=True, journal_mode=None):
        pass
    assert journal_mode(db_path) == "delete"


def test_a_database_another_process_holds_in_rollback_mode_opens_and_works(
    db_path: Path,
) -> None:
    with database(schemas=[Account], connection=db_path, sync_schemas=True, journal_mode=None):
        pass
    other = sqlite3.connect(db_path, isolation_level=None)  # another process, rollback mode
    other.execute("INSERT INTO accounts (owner, thread, serial) VALUES ('o', 9, 9)")
    try:
        with database(schemas=[Account], connection=db_path, sync_schemas=True) as db:
            db.table(Account).insert({"owner": "a", "thread": 0, "serial": 0})
            assert db.table(Account).count() == 2
            # The other connection goes on, now in WAL mode.
            other.execute("INSERT INTO accounts (owner, thread, serial) VALUES ('o', 9, 10)")
            assert db.table(Account).count() == 3
        assert other.execute("SELECT count(*) FROM accounts").fetchone() == (3,)
    finally:
        other.close()
    assert journal_mode(db_path) == "wal"


@pytest.mark.parametrize(
    ("settings", "message"),
    [
        ({"journal_mode": "wall"}, "journal_mode must be one of wal, delete, truncate, persist"),
        ({"journal_mode": 1}, "journal_mode must be one of"),
        ({"synchronous": "fast"}, "synchronous must be one of off, normal, full, extra"),
    ],
)
def test_bad_journal_settings_are_configuration_errors(
    db_path: Path, settings: dict[str, object], message: str
) -> None:
    with pytest.raises(ConfigurationError, match=message):
        database(schemas=[Account], connection=db_path, **settings)  # type: ignore[arg-type]
    assert not db_path.exists()


def test_a_connection_passed_in_is_shared_and_left_in_its_mode(db_path: Path) -> None:
    conn = sqlite3.connect(db_path, check_same_thread=False)
    with database(schemas=[Account], connection=conn, sync_schemas=True) as db:
        assert db.shared_connection and db.journal_mode is None
        calls: list[Callable[[], object]] = [
            lambda: db.table(Account).insert({"owner": "x", "thread": 0, "serial": 0})
        ] * 50
        with ThreadPoolExecutor(4) as pool:
            list(pool.map(lambda call: call(), calls))
        assert db.table(Account).count() == 50
    assert journal_mode(db_path) == "delete"
    conn.close()


@pytest.mark.skipif(not hasattr(os, "fork"), reason="fork is POSIX")
def test_a_forked_child_opens_its_own_connections(db_path: Path) -> None:
    """``gunicorn --preload``: the app (and its database) is built, then the worker forks."""
    with database(schemas=[Account], connection=db_path, sync_schemas=True) as db:
        db.table(Account).insert({"owner": "parent", "thread": 0, "serial": 0})
        parent_conn = db.conn
        pid = os.fork()
        if pid == 0:  # the child: exit code 0 only when all went well
            code = 1
            try:
                assert db.conn is not parent_conn
                db.table(Account).insert({"owner": "child", "thread": 1, "serial": 1})

                async def through_aio() -> int:
                    return await db.aio.table(Account).count()

                code = 0 if asyncio.run(through_aio()) == 2 else 3
            finally:
                os._exit(code)
        _, status = os.waitpid(pid, 0)
        assert os.waitstatus_to_exitcode(status) == 0
        assert db.conn is parent_conn
        assert {a.owner for a in db.table(Account).find()} == {"parent", "child"}
