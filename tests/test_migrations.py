"""Running migrations: once each, in order, one transaction each, rollback, status, sync order,
history, and concurrent runners.

The first section ports the scenarios of @hedystia/db's own migration suite: run on init, no
re-run on a second init, manual ``migrate_up``, rollback of one and of several, rollback with
nothing applied, re-apply after rollback, an index created and dropped through the context, and
data persisted across close and reopen.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import multiprocessing
import sqlite3
import textwrap
import threading
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from hedystia_models import (
    Database,
    Field,
    MigrationDefinition,
    MigrationError,
    MigrationStatus,
    Table,
    database,
    migration,
)
from hedystia_models.context import MigrationContext
from hedystia_models.schema.spec import TableSpec

# -- helpers ----------------------------------------------------------------------------------


def _tables(db: Database) -> dict[str, TableSpec]:
    """The tables of ``db`` as its engine reads them, the bookkeeping tables left out."""
    tables = db.executor.read_state().tables
    return {name: spec for name, spec in tables.items() if not name.startswith("__hedystia")}


def schema_of(source: Database | sqlite3.Connection) -> list[Any]:
    """Every schema object except the bookkeeping tables, sorted: the whole schema to compare
    (a database on either engine: its tables' specs)."""
    if isinstance(source, Database):
        return sorted((name, repr(spec)) for name, spec in _tables(source).items())
    return sorted(
        source.execute(
            "SELECT type, name, sql FROM sqlite_master "
            "WHERE name NOT LIKE '\\_\\_hedystia%' ESCAPE '\\' "
            "AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\'"
        ).fetchall()
    )


def table_names(source: Database | sqlite3.Connection) -> set[str]:
    if isinstance(source, Database):
        return set(_tables(source))
    rows = source.execute("SELECT name FROM sqlite_master WHERE type = 'table'").fetchall()
    internal = {"__hedystia_migrations", "__hedystia_state", "sqlite_sequence"}
    return {name for (name,) in rows} - internal


def columns_of(source: Database | sqlite3.Connection, table: str) -> list[str]:
    if isinstance(source, Database):
        return [c.name for c in _tables(source)[table].columns]
    return [row[1] for row in source.execute(f'PRAGMA table_info("{table}")')]


def index_names(source: Database | sqlite3.Connection, table: str | None) -> set[str]:
    """The indexes made by ``CREATE INDEX`` of ``table`` (of every table: ``None``)."""
    if isinstance(source, Database):
        specs = _tables(source)
        return {
            i.name
            for name, spec in specs.items()
            if table is None or name == table
            for i in (*spec.indexes, *spec.unique_indexes)
        }
    rows = source.execute(
        "SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = ? AND sql IS NOT NULL",
        (table,),
    ).fetchall()
    return {name for (name,) in rows}


def migration_rows(source: Database | sqlite3.Connection) -> list[str]:
    if isinstance(source, Database):
        return [e.name for e in source.history() if e.kind == "migration"]
    rows = source.execute(
        "SELECT name FROM __hedystia_migrations WHERE kind = 'migration' ORDER BY id"
    ).fetchall()
    return [name for (name,) in rows]


class User(Table, table="users"):
    id: int | None = Field(default=None, primary_key=True, auto_increment=True)
    name: str = Field(max_length=255)
    email: str | None = Field(default=None, unique=True)


def create_users_up(ctx: MigrationContext) -> None:
    ctx.schema.create_table(User)


def create_users_down(ctx: MigrationContext) -> None:
    ctx.schema.drop_table("users")


def add_age_up(ctx: MigrationContext) -> None:
    # The column dict exactly as @hedystia/db's documentation writes it.
    ctx.schema.add_column(
        "users",
        "age",
        {
            "name": "age",
            "type": "integer",
            "primaryKey": False,
            "autoIncrement": False,
            "notNull": False,
            "unique": False,
            "defaultValue": 0,
        },
    )


def add_age_down(ctx: MigrationContext) -> None:
    ctx.schema.drop_column("users", "age")


def index_email_up(ctx: MigrationContext) -> None:
    ctx.schema.add_index("users", ["name", "email"])


def index_email_down(ctx: MigrationContext) -> None:
    ctx.schema.drop_index("users", "users_name_email_index")


def suite() -> list[MigrationDefinition]:
    """create_users, add_age_column, index_users_name_email: the suite's three migrations."""
    return [
        migration("create_users", up=create_users_up, down=create_users_down),
        migration("add_age_column", up=add_age_up, down=add_age_down),
        migration("index_users_name_email", up=index_email_up, down=index_email_down),
    ]


NAMES = ["create_users", "add_age_column", "index_users_name_email"]


# -- the @hedystia/db suite -------------------------------------------------------------------


def test_runs_pending_migrations_when_the_database_is_built(connect: Any) -> None:
    with connect(schemas=[], run_migrations=True, migrations=suite()) as db:
        assert table_names(db) == {"users"}
        assert columns_of(db, "users") == ["id", "name", "email", "age"]
        assert index_names(db, "users") == {"users_name_email_index"}
        assert migration_rows(db) == NAMES
        status = db.migration_status()
        assert [m.name for m in status.applied] == NAMES
        assert status.pending == []
        assert status.clean


def test_without_run_migrations_nothing_runs(connect: Any) -> None:
    with connect(schemas=[], migrations=suite()) as db:
        assert table_names(db) == set()
        assert db.migration_status().pending == NAMES


def test_a_second_init_does_not_run_them_again(connect: Any) -> None:
    calls: list[str] = []

    def counted(name: str, sql: str) -> MigrationDefinition:
        def up(ctx: MigrationContext) -> None:
            calls.append(name)
            ctx.sql(sql)

        return migration(name, up=up)

    migrations = [
        counted("one", "CREATE TABLE one (id INTEGER PRIMARY KEY)"),
        counted("two", "CREATE TABLE two (id INTEGER PRIMARY KEY)"),
    ]
    db = connect(schemas=[], run_migrations=True, migrations=migrations)
    first = db.history()
    db.close()
    assert calls == ["one", "two"]

    db = connect(schemas=[], run_migrations=True, migrations=migrations)
    assert calls == ["one", "two"]  # not called again
    assert db.history() == first  # no new rows, same executed_at
    assert db.migrate_up() == []
    assert calls == ["one", "two"]
    db.close()


def test_manual_migrate_up_returns_the_names_applied(connect: Any) -> None:
    with connect(schemas=[], migrations=suite()) as db:
        assert db.migrate_up() == NAMES
        assert db.migrate_up() == []
        assert columns_of(db, "users") == ["id", "name", "email", "age"]


def test_migrate_up_applies_only_the_new_ones(connect: Any) -> None:
    with connect(schemas=[], migrations=suite()[:1]) as db:
        assert db.migrate_up() == ["create_users"]
    with connect(schemas=[], migrations=suite()) as db:
        assert db.migration_status().pending == NAMES[1:]
        assert db.migrate_up() == NAMES[1:]


def test_rollback_one(connect: Any) -> None:
    with connect(schemas=[], run_migrations=True, migrations=suite()) as db:
        assert db.migrate_down() == ["index_users_name_email"]
        assert index_names(db, "users") == set()
        assert columns_of(db, "users") == ["id", "name", "email", "age"]
        status = db.migration_status()
        assert [m.name for m in status.applied] == NAMES[:2]
        assert status.pending == ["index_users_name_email"]


def test_rollback_several_newest_first(connect: Any) -> None:
    with connect(schemas=[], run_migrations=True, migrations=suite()) as db:
        assert db.migrate_down(2) == ["index_users_name_email", "add_age_column"]
        assert columns_of(db, "users") == ["id", "name", "email"]
        assert db.migrate_down(5) == ["create_users"]  # more steps than applied: all of them
        assert table_names(db) == set()
        assert migration_rows(db) == []
        assert db.migration_status().pending == NAMES


def test_rollback_with_nothing_applied_returns_an_empty_list(connect: Any) -> None:
    with connect(schemas=[], migrations=suite()) as db:
        assert db.migrate_down() == []
        assert db.migrate_down(3) == []
    with connect(schemas=[], migrations=[]) as db:
        assert db.migrate_down() == []


def test_rollback_steps_must_be_positive(connect: Any) -> None:
    with connect(schemas=[], run_migrations=True, migrations=suite()) as db:
        with pytest.raises(MigrationError, match="steps must be at least 1"):
            db.migrate_down(0)
        assert migration_rows(db) == NAMES


def test_reapply_after_rollback(connect: Any) -> None:
    with connect(schemas=[], run_migrations=True, migrations=suite()) as db:
        before = schema_of(db)
        assert db.migrate_down(3) == list(reversed(NAMES))
        assert db.migrate_up() == NAMES
        assert schema_of(db) == before
        assert migration_rows(db) == NAMES


def test_index_created_and_dropped_through_the_context(connect: Any) -> None:
    def up(ctx: MigrationContext) -> None:
        # Raw SQL is the engine's own: ctx.engine says which one runs.
        key = "INTEGER" if ctx.engine == "sqlite" else "BIGINT GENERATED BY DEFAULT AS IDENTITY"
        ctx.sql(f"CREATE TABLE posts (id {key} PRIMARY KEY, title TEXT, slug TEXT)")
        assert ctx.schema.add_index("posts", "title") == "posts_title_index"
        assert ctx.schema.add_index("posts", ["slug"], unique=True, name="posts_slug") == (
            "posts_slug"
        )

    def down(ctx: MigrationContext) -> None:
        ctx.schema.drop_index("posts", "posts_title_index")
        ctx.schema.drop_index("posts", "posts_slug")
        ctx.schema.drop_table("posts")

    with connect(schemas=[], migrations=[migration("posts", up=up, down=down)]) as db:
        db.migrate_up()
        assert index_names(db, "posts") == {"posts_title_index", "posts_slug"}
        posts = db.executor.read_state().tables["posts"]
        indexes = {i.name: i.unique for i in (*posts.indexes, *posts.unique_indexes)}
        assert indexes == {"posts_title_index": False, "posts_slug": True}
        db.raw("INSERT INTO posts (title, slug) VALUES ('a', 'a')")
        with pytest.raises(Exception, match=r"(?i)unique"):  # the engine's own error
            db.raw("INSERT INTO posts (title, slug) VALUES ('b', 'a')")
        assert db.migrate_down() == ["posts"]
        assert table_names(db) == set()
        assert index_names(db, None) == set()


def test_data_persists_across_close_and_reopen(connect: Any) -> None:
    def seed(ctx: MigrationContext) -> None:
        ctx.sql("INSERT INTO users (name, email, age) VALUES (?, ?, ?)", ["Ann", "a@x.io", 31])
        ctx.sql("INSERT INTO users (name) VALUES (:name)", {"name": "Bob"})

    migrations = [*suite(), migration("seed_users", up=seed)]
    with connect(schemas=[], run_migrations=True, migrations=migrations):
        pass
    with connect(schemas=[User]) as db:
        assert db.raw("SELECT name, email, age FROM users ORDER BY id") == [
            {"name": "Ann", "email": "a@x.io", "age": 31},
            {"name": "Bob", "email": None, "age": 0},
        ]
        assert db.migration_status().applied[-1].name == "seed_users"
    if connect.engine == "sqlite":  # and read by another client of the file
        raw = sqlite3.connect(connect.target)
        try:
            assert raw.execute("SELECT count(*) FROM users").fetchone()[0] == 2
        finally:
            raw.close()


# -- definitions ------------------------------------------------------------------------------


def test_migration_definition_is_frozen_and_has_a_checksum() -> None:
    definition = migration("create_users", up=create_users_up, down=create_users_down)
    assert isinstance(definition, MigrationDefinition)
    assert definition.name == "create_users"
    assert definition.up is create_users_up and definition.down is create_users_down
    assert definition.transactional is True
    assert len(definition.checksum) == 16
    with pytest.raises(dataclasses.FrozenInstanceError):
        definition.name = "other"  # type: ignore[misc]
    # Same name and source, same checksum; another step, another checksum.
    assert migration("create_users", up=create_users_up, down=create_users_down).checksum == (
        definition.checksum
    )
    assert migration("create_users", up=add_age_up).checksum != definition.checksum


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"name": "", "up": create_users_up}, "non-empty name"),
        ({"name": "  ", "up": create_users_up}, "non-empty name"),
        ({"name": "x", "up": "CREATE TABLE x (a)"}, "up must be callable"),
        ({"name": "x", "up": create_users_up, "down": 3}, "down must be callable"),
    ],
)
def test_bad_definitions_are_refused(kwargs: dict[str, Any], message: str) -> None:
    name = kwargs.pop("name")
    with pytest.raises(MigrationError, match=message):
        migration(name, **kwargs)


def test_duplicate_names_are_an_error_before_anything_runs(db_path: Path) -> None:
    ran: list[str] = []
    first = migration("create", up=lambda ctx: ran.append("first"))
    second = migration("create", up=lambda ctx: ran.append("second"))
    with pytest.raises(MigrationError, match="two migrations are named 'create'"):
        database(schemas=[], connection=db_path, run_migrations=True, migrations=[first, second])
    assert ran == []
    raw = sqlite3.connect(db_path)
    try:
        assert raw.execute("SELECT count(*) FROM sqlite_master").fetchone()[0] == 0
    finally:
        raw.close()


def test_the_same_definition_listed_twice_runs_once(db_path: Path) -> None:
    ran: list[str] = []
    once = migration("once", up=lambda ctx: ran.append("once"))
    with database(schemas=[], connection=db_path, migrations=[once, once]) as db:
        assert db.migrate_up() == ["once"]
    assert ran == ["once"]


# -- failures ---------------------------------------------------------------------------------


def test_a_failing_migration_leaves_schema_and_rows_untouched(db_path: Path) -> None:
    ran: list[str] = []

    def setup(ctx: MigrationContext) -> None:
        ctx.sql(
            "CREATE TABLE items (id INTEGER PRIMARY KEY, name VARCHAR(255) NOT NULL, "
            "code TEXT UNIQUE, note TEXT)"
        )
        ctx.sql("CREATE INDEX items_name_index ON items (name)")
        ctx.sql("INSERT INTO items (name, code, note) VALUES ('a', 'x', 'n'), ('b', 'y', 'm')")

    def breaks_midway(ctx: MigrationContext) -> None:
        ctx.schema.add_column("items", "extra", {"type": "integer", "default_value": 5})
        ctx.schema.drop_column("items", "code")  # needs a rebuild (UNIQUE column)
        ctx.schema.rename_column("items", "name", "title")
        ctx.schema.add_index("items", "note")
        ctx.sql("UPDATE items SET title = 'changed'")
        ctx.sql("DELETE FROM items WHERE id = 2")
        ctx.sql("CREATE TABLE other (id INTEGER PRIMARY KEY)")
        raise ValueError("something went wrong")

    migrations = [
        migration("setup", up=setup),
        migration("breaks_midway", up=breaks_midway),
        migration("later", up=lambda ctx: ran.append("later")),
    ]
    with database(schemas=[], connection=db_path, migrations=migrations) as db:
        with pytest.raises(MigrationError) as caught:
            db.migrate_up()
        # The schema and rows as they were after "setup" alone:
        after_setup = schema_of(db.conn)
        rows = db.raw("SELECT * FROM items ORDER BY id")

    error = caught.value
    assert "breaks_midway" in str(error)
    assert "rolled back" in str(error)
    assert "something went wrong" in str(error)
    assert isinstance(error.__cause__, ValueError)
    assert ran == []  # later migrations do not run

    # Compare with a database where only "setup" ever ran.
    with database(schemas=[], connection=db_path.with_name("ref.db"), migrations=[]) as ref:
        ref.migrations = migrations[:1]
        ref.migrate_up()
        assert schema_of(ref.conn) == after_setup
    assert rows == [
        {"id": 1, "name": "a", "code": "x", "note": "n"},
        {"id": 2, "name": "b", "code": "y", "note": "m"},
    ]
    with database(schemas=[], connection=db_path, migrations=migrations) as db:
        assert migration_rows(db.conn) == ["setup"]  # no row for the failed one
        assert db.migration_status().pending == ["breaks_midway", "later"]
        assert not db.conn.in_transaction


def test_a_failure_compares_equal_before_and_after(db_path: Path) -> None:
    """The plainest form: snapshot sqlite_master and rows, fail, snapshot again."""
    with database(schemas=[], connection=db_path, migrations=[]) as db:
        db.raw("CREATE TABLE t (id INTEGER PRIMARY KEY, a TEXT)")
        db.raw("INSERT INTO t VALUES (1, 'x')")
        before_schema = schema_of(db.conn)
        before_rows = db.raw("SELECT * FROM t")

        def fails(ctx: MigrationContext) -> None:
            ctx.schema.drop_column("t", "a")
            ctx.sql("INSERT INTO t (id) VALUES (2)")
            ctx.sql("INSERT INTO no_such_table VALUES (1)")

        db.migrations = [migration("fails", up=fails)]
        with pytest.raises(MigrationError, match="'fails'") as caught:
            db.migrate_up()
        assert isinstance(caught.value.__cause__, sqlite3.OperationalError)
        assert schema_of(db.conn) == before_schema
        assert db.raw("SELECT * FROM t") == before_rows
        assert migration_rows(db.conn) == []


def test_a_failure_on_init_closes_nothing_it_did_not_open_and_reports(db_path: Path) -> None:
    boom = migration("boom", up=lambda ctx: 1 / 0)
    with pytest.raises(MigrationError, match="'boom' failed during up") as caught:
        database(schemas=[], connection=db_path, run_migrations=True, migrations=[boom])
    assert isinstance(caught.value.__cause__, ZeroDivisionError)
    # The file is not left locked: another connection can write at once.
    other = sqlite3.connect(db_path, timeout=0.1)
    try:
        other.execute("CREATE TABLE free (x)")
        other.commit()
    finally:
        other.close()


def test_a_failing_down_rolls_back_and_keeps_the_row(db_path: Path) -> None:
    def bad_down(ctx: MigrationContext) -> None:
        ctx.schema.drop_table("things")
        raise RuntimeError("cannot undo")

    things = migration(
        "things",
        up=lambda ctx: ctx.sql("CREATE TABLE things (id INTEGER PRIMARY KEY)"),
        down=bad_down,
    )
    with database(schemas=[], connection=db_path, run_migrations=True, migrations=[things]) as db:
        with pytest.raises(MigrationError, match="'things' failed during down") as caught:
            db.migrate_down()
        assert isinstance(caught.value.__cause__, RuntimeError)
        assert table_names(db.conn) == {"things"}
        assert migration_rows(db.conn) == ["things"]


def test_rollback_without_down_is_a_clear_error_and_rolls_nothing_back(db_path: Path) -> None:
    migrations = [
        migration("no_down", up=lambda ctx: ctx.sql("CREATE TABLE a (x)")),
        migration(
            "with_down",
            up=lambda ctx: ctx.sql("CREATE TABLE b (x)"),
            down=lambda ctx: ctx.schema.drop_table("b"),
        ),
    ]
    with database(schemas=[], connection=db_path, run_migrations=True, migrations=migrations) as db:
        before = schema_of(db.conn)
        with pytest.raises(MigrationError, match="'no_down': it has no down step") as caught:
            db.migrate_down(2)
        assert "nothing was rolled back" in str(caught.value)
        # with_down was newer and could have been undone, but nothing was.
        assert schema_of(db.conn) == before
        assert migration_rows(db.conn) == ["no_down", "with_down"]
        # One step only touches with_down, which can be rolled back.
        assert db.migrate_down() == ["with_down"]
        with pytest.raises(MigrationError, match="no down step"):
            db.migrate_down()
        assert table_names(db.conn) == {"a"}


# -- transactional=False ----------------------------------------------------------------------


def test_vacuum_needs_transactional_false(db_path: Path) -> None:
    inside = migration("vacuum_inside", up=lambda ctx: ctx.sql("VACUUM"))
    with database(schemas=[], connection=db_path, migrations=[inside]) as db:
        with pytest.raises(MigrationError, match="vacuum_inside") as caught:
            db.migrate_up()
        assert "VACUUM" in str(caught.value.__cause__)
        assert migration_rows(db.conn) == []

    def compact(ctx: MigrationContext) -> None:
        ctx.sql("CREATE TABLE junk (x)")
        ctx.sql("INSERT INTO junk VALUES (1), (2), (3)")
        ctx.sql("DROP TABLE junk")
        ctx.sql("VACUUM")

    outside = migration("vacuum", up=compact, transactional=False)
    assert outside.transactional is False
    with database(schemas=[], connection=db_path, migrations=[outside]) as db:
        assert db.migrate_up() == ["vacuum"]
        assert migration_rows(db.conn) == ["vacuum"]
        assert db.migrate_up() == []


def test_a_failing_non_transactional_migration_releases_the_lock(db_path: Path) -> None:
    def fails(ctx: MigrationContext) -> None:
        ctx.sql("CREATE TABLE kept (x)")  # DDL outside a transaction: stays
        ctx.sql("INSERT INTO kept VALUES (1)")  # committed at once, as with db.raw
        # Straight through the connection, sqlite3 opens a transaction and holds the lock:
        ctx.db.conn.execute("INSERT INTO kept VALUES (99)")
        raise RuntimeError("half done")

    with database(
        schemas=[],
        connection=db_path,
        migrations=[migration("half", up=fails, transactional=False)],
    ) as db:
        with pytest.raises(MigrationError, match="not transactional") as caught:
            db.migrate_up()
        assert isinstance(caught.value.__cause__, RuntimeError)
        assert not db.conn.in_transaction
        assert migration_rows(db.conn) == []
        assert db.raw("SELECT x FROM kept") == [{"x": 1}]  # the open transaction was undone
        other = sqlite3.connect(db_path, timeout=0.1)  # not locked
        try:
            other.execute("INSERT INTO kept VALUES (2)")
            other.commit()
        finally:
            other.close()


# -- async ------------------------------------------------------------------------------------


async def async_create_up(ctx: MigrationContext) -> None:
    await asyncio.sleep(0)
    ctx.sql("CREATE TABLE events (id INTEGER PRIMARY KEY, at TEXT)")
    await asyncio.sleep(0.001)
    ctx.schema.add_column("events", "kind", {"type": "text", "notNull": True, "defaultValue": "x"})


async def async_create_down(ctx: MigrationContext) -> None:
    await asyncio.sleep(0)
    ctx.schema.drop_table("events")


async def async_fails(ctx: MigrationContext) -> None:
    ctx.sql("CREATE TABLE half (x)")
    await asyncio.sleep(0)
    raise LookupError("async failure")


ASYNC = [migration("async_events", up=async_create_up, down=async_create_down)]


def test_async_migrations_run_without_an_event_loop(db_path: Path) -> None:
    with database(schemas=[], connection=db_path, run_migrations=True, migrations=ASYNC) as db:
        assert columns_of(db.conn, "events") == ["id", "at", "kind"]
        assert db.migrate_down() == ["async_events"]
        assert table_names(db.conn) == set()


def test_async_migrations_run_inside_a_running_event_loop(db_path: Path) -> None:
    ticks: list[int] = []

    async def ticker() -> None:
        for i in range(3):
            ticks.append(i)
            await asyncio.sleep(0)

    async def main() -> list[str]:
        # As an async web app or an async test would: build the database inside the loop.
        task = asyncio.create_task(ticker())
        db = database(schemas=[], connection=db_path, run_migrations=True, migrations=ASYNC)
        try:
            columns = columns_of(db.conn, "events")
            rolled = db.migrate_down()
            assert db.migrate_up() == ["async_events"]
        finally:
            db.close()
        # The outer loop is still ours and still works.
        assert asyncio.get_running_loop() is loop_seen[0]
        await task
        return [*columns, *rolled]

    loop_seen: list[asyncio.AbstractEventLoop] = []

    async def entry() -> list[str]:
        loop_seen.append(asyncio.get_running_loop())
        return await main()

    assert asyncio.run(entry()) == ["id", "at", "kind", "async_events"]
    assert ticks == [0, 1, 2]


def test_an_async_failure_inside_a_running_loop_is_rolled_back(db_path: Path) -> None:
    async def main() -> None:
        with database(
            schemas=[], connection=db_path, migrations=[migration("half", up=async_fails)]
        ) as db:
            with pytest.raises(MigrationError, match="'half'") as caught:
                db.migrate_up()
            assert isinstance(caught.value.__cause__, LookupError)
            assert table_names(db.conn) == set()
            assert migration_rows(db.conn) == []

    asyncio.run(main())


def test_an_awaitable_that_is_not_a_coroutine_is_awaited(db_path: Path) -> None:
    class Awaitable:
        def __init__(self, ctx: MigrationContext) -> None:
            self.ctx = ctx

        def __await__(self) -> Any:
            self.ctx.sql("CREATE TABLE awaited (x)")
            yield from asyncio.sleep(0).__await__()

    with database(
        schemas=[], connection=db_path, migrations=[migration("awaited", up=Awaitable)]
    ) as db:
        assert db.migrate_up() == ["awaited"]
        assert table_names(db.conn) == {"awaited"}


# -- status -----------------------------------------------------------------------------------


def test_status_lists_applied_with_executed_at_and_pending(db_path: Path) -> None:
    with database(schemas=[], connection=db_path, migrations=suite()) as db:
        empty = db.migration_status()
        assert isinstance(empty, MigrationStatus)
        assert empty.applied == [] and empty.pending == NAMES and not empty.clean
        db.migrations = suite()[:2]
        db.migrate_up()
        db.migrations = suite()
        status = db.migration_status()
    assert [m.name for m in status.applied] == NAMES[:2]
    assert status.pending == ["index_users_name_email"]
    for applied in status.applied:
        when = datetime.fromisoformat(applied.executed_at)
        assert when.tzinfo is not None
        assert not applied.edited and not applied.missing
        assert applied.checksum == suite()[NAMES.index(applied.name)].checksum
    assert status.edited == [] and status.missing == []
    assert not status.clean
    data = status.to_dict()
    assert data["pending"] == ["index_users_name_email"]
    assert [m["name"] for m in data["applied"]] == NAMES[:2]
    assert data["edited"] == [] and data["missing"] == []


def test_status_reports_a_migration_missing_from_the_code(db_path: Path) -> None:
    with database(schemas=[], connection=db_path, run_migrations=True, migrations=suite()):
        pass
    with database(schemas=[], connection=db_path, migrations=suite()[:1]) as db:
        status = db.migration_status()
        assert status.missing == ["add_age_column", "index_users_name_email"]
        assert [m.name for m in status.applied if not m.missing] == ["create_users"]
        assert status.pending == [] and status.edited == []
        assert not status.clean
        # It cannot be rolled back: the code that would undo it is gone.
        with pytest.raises(MigrationError, match=r"'index_users_name_email'.*not defined"):
            db.migrate_down()
        assert migration_rows(db.conn) == NAMES


EDITABLE = """\
from hedystia_models import migration


def up(ctx):
    ctx.sql("CREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT)")


def down(ctx):
    ctx.schema.drop_table("notes")


notes = migration("create_notes", up=up, down=down)
"""


def test_status_reports_a_migration_edited_after_it_was_applied(
    db_path: Path, tmp_path: Path
) -> None:
    folder = tmp_path / "migrations"
    folder.mkdir()
    (folder / "0001_create_notes.py").write_text(EDITABLE)
    with database(schemas=[], connection=db_path, run_migrations=True, migrations=folder) as db:
        assert db.migration_status().clean
        recorded = db.migration_status().applied[0].checksum

    # Someone edits the migration that already ran.
    edited = EDITABLE.replace("body TEXT", "body TEXT, title TEXT NOT NULL DEFAULT ''")
    (folder / "0001_create_notes.py").write_text(edited)
    with database(schemas=[], connection=db_path, migrations=str(folder)) as db:
        status = db.migration_status()
        assert status.edited == ["create_notes"]
        assert status.applied[0].edited and status.applied[0].checksum == recorded
        assert db.migrations[0].checksum != recorded
        assert not status.clean
        assert db.migrate_up() == []  # an edited migration is not run again

    # Putting the original text back makes it clean again.
    (folder / "0001_create_notes.py").write_text(EDITABLE + "\n")
    with database(schemas=[], connection=db_path, migrations=folder) as db:
        assert db.migration_status().clean


# -- migrations and sync ----------------------------------------------------------------------


class Account(Table, table="accounts"):
    id: int | None = Field(default=None, primary_key=True, auto_increment=True)
    name: str = Field(max_length=255)


class AccountRenamed(Table, table="accounts"):
    id: int | None = Field(default=None, primary_key=True, auto_increment=True)
    full_name: str = Field(max_length=255)


def rename_name_up(ctx: MigrationContext) -> None:
    ctx.schema.rename_column("accounts", "name", "full_name")


def rename_name_down(ctx: MigrationContext) -> None:
    ctx.schema.rename_column("accounts", "full_name", "name")


def test_migrations_run_before_sync(db_path: Path) -> None:
    with database(schemas=[Account], connection=db_path, sync_schemas=True) as db:
        db.raw("INSERT INTO accounts (name) VALUES ('Ann'), ('Bob')")

    rename = migration("rename_name", up=rename_name_up, down=rename_name_down)
    with database(
        schemas=[AccountRenamed],
        connection=db_path,
        run_migrations=True,
        migrations=[rename],
        sync_schemas=True,
    ) as db:
        # Had sync run first, it would have added an empty full_name next to name.
        assert columns_of(db.conn, "accounts") == ["id", "full_name"]
        assert db.raw("SELECT full_name FROM accounts ORDER BY id") == [
            {"full_name": "Ann"},
            {"full_name": "Bob"},
        ]
        assert db.plan().in_sync
        assert [r.full_name for r in db.table(AccountRenamed).find()] == ["Ann", "Bob"]


def test_sync_first_would_have_left_an_empty_duplicate(db_path: Path) -> None:
    """What the ordering prevents: sync on its own adds the new name as an empty column."""
    with database(schemas=[Account], connection=db_path, sync_schemas=True) as db:
        db.raw("INSERT INTO accounts (name) VALUES ('Ann')")
    with database(schemas=[AccountRenamed], connection=db_path) as db:
        plan = db.plan()
        assert plan.blocked  # full_name is NOT NULL without default and the table has rows
        assert "full_name" in str(plan)


def test_history_holds_migration_rows_alongside_sync_rows(db_path: Path) -> None:
    class Tag(Table, table="tags"):
        id: int | None = Field(default=None, primary_key=True)
        label: str = ""

    with database(schemas=[Tag], connection=db_path, sync_schemas=True):
        pass
    seed = migration(
        "seed_tags", up=lambda ctx: ctx.sql("INSERT INTO tags (label) VALUES ('first')")
    )
    with database(
        schemas=[Tag], connection=db_path, run_migrations=True, migrations=[seed], sync_schemas=True
    ) as db:
        history = db.history()
        raw = db.raw("SELECT name, kind, checksum FROM __hedystia_migrations ORDER BY id")
    assert [entry.kind for entry in history] == ["sync", "migration"]
    assert history[0].name.startswith("sync_")
    assert history[0].statements and history[0].statements[0].startswith('CREATE TABLE "tags"')
    assert history[1].name == "seed_tags" and history[1].checksum == seed.checksum
    assert raw[1] == {"name": "seed_tags", "kind": "migration", "checksum": seed.checksum}
    assert raw[0]["checksum"] is None
    assert history[0].id < history[1].id


def test_migration_status_ignores_sync_rows(db_path: Path) -> None:
    with database(schemas=[Account], connection=db_path, sync_schemas=True) as db:
        status = db.migration_status()
        assert status.applied == [] and status.clean
        assert db.migrate_down() == []  # a sync row is not a migration to roll back
        assert [e.kind for e in db.history()] == ["sync"]


def test_create_table_adopts_a_table_sync_created(db_path: Path) -> None:
    with database(schemas=[User], connection=db_path, sync_schemas=True) as db:
        db.raw("INSERT INTO users (name) VALUES ('Ann')")
        before = schema_of(db.conn)
    create = migration("create_users", up=create_users_up, down=create_users_down)
    with database(
        schemas=[User], connection=db_path, run_migrations=True, migrations=[create]
    ) as db:
        assert migration_rows(db.conn) == ["create_users"]
        assert schema_of(db.conn) == before
        assert db.raw("SELECT name FROM users") == [{"name": "Ann"}]


# -- concurrency ------------------------------------------------------------------------------


def recording(name: str, pause: float = 0.0) -> MigrationDefinition:
    """A migration that records each run in the ``runs`` table (created by the first one)."""

    def up(ctx: MigrationContext) -> None:
        ctx.sql("CREATE TABLE IF NOT EXISTS runs (name TEXT NOT NULL)")
        ctx.sql("INSERT INTO runs (name) VALUES (?)", [name])
        ctx.sql(f'CREATE TABLE "{name}" (id INTEGER PRIMARY KEY)')
        if pause:
            threading.Event().wait(pause)

    def down(ctx: MigrationContext) -> None:
        ctx.sql(f'DROP TABLE "{name}"')

    return migration(name, up=up, down=down)


def runs(path: Path) -> list[tuple[str, int]]:
    conn = sqlite3.connect(path)
    try:
        return conn.execute(
            "SELECT name, count(*) FROM runs GROUP BY name ORDER BY name"
        ).fetchall()
    finally:
        conn.close()


def test_a_second_connection_rechecks_under_the_lock(
    db_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    ran: list[str] = []

    def tracked(name: str) -> MigrationDefinition:
        def up(ctx: MigrationContext) -> None:
            ran.append(name)
            ctx.sql(f"CREATE TABLE {name} (x)")

        return migration(name, up=up)

    migrations = [tracked("m1"), tracked("m2")]
    first = database(schemas=[], connection=db_path, migrations=migrations)
    second = database(schemas=[], connection=db_path, migrations=migrations)
    try:
        migrator = second.migrator
        read_applied = migrator._applied

        def stale_then_race() -> Any:
            snapshot = read_applied()  # second reads: nothing applied yet
            assert first.migrate_up() == ["m1", "m2"]  # meanwhile first applies everything
            return snapshot

        monkeypatch.setattr(migrator, "_applied", stale_then_race)
        assert migrator.up() == []  # re-checked under the write lock: nothing left to do
        assert ran == ["m1", "m2"]
        assert migration_rows(second.conn) == ["m1", "m2"]
    finally:
        first.close()
        second.close()


def test_a_second_database_object_sees_what_the_first_applied(db_path: Path) -> None:
    migrations = [recording("m1"), recording("m2")]
    with (
        database(schemas=[], connection=db_path, migrations=migrations) as a,
        database(schemas=[], connection=db_path, migrations=migrations) as b,
    ):
        assert b.migration_status().pending == ["m1", "m2"]
        assert a.migrate_up() == ["m1", "m2"]
        assert b.migration_status().pending == []
        assert b.migrate_up() == []
        assert b.migrate_down() == ["m2"]
        assert a.migration_status().pending == ["m2"]
        assert a.migrate_down() == ["m1"]  # m2 is no longer applied: a rolls back m1
    assert table_names(sqlite3.connect(db_path)) == {"runs"}


def test_threads_racing_migrate_up_apply_each_migration_once(db_path: Path) -> None:
    migrations = [recording(f"m{i}", pause=0.01) for i in range(1, 5)]
    barrier = threading.Barrier(4)
    results: list[list[str]] = []
    errors: list[BaseException] = []

    def worker() -> None:
        try:
            db = database(schemas=[], connection=db_path, migrations=migrations)
            try:
                barrier.wait()
                results.append(db.migrate_up())
            finally:
                db.close()
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=worker) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    applied = sorted(name for result in results for name in result)
    assert applied == ["m1", "m2", "m3", "m4"]  # each exactly once across all threads
    assert runs(db_path) == [("m1", 1), ("m2", 1), ("m3", 1), ("m4", 1)]


RACE_MIGRATION = """\
import time

from hedystia_models import migration


def up(ctx):
    ctx.sql("CREATE TABLE IF NOT EXISTS runs (name TEXT NOT NULL)")
    ctx.sql("INSERT INTO runs (name) VALUES (?)", [{name!r}])
    time.sleep(0.02)


{name} = migration({name!r}, up=up)
"""


def _race_worker(path: str, folder: str, start: Any, queue: Any) -> None:
    db = database(schemas=[], connection=path, migrations=folder)
    try:
        start.wait()
        queue.put(db.migrate_up())
    except BaseException as exc:  # pragma: no cover - reported by the parent
        queue.put(repr(exc))
    finally:
        db.close()


def test_processes_racing_migrate_up_apply_each_migration_once(
    db_path: Path, tmp_path: Path
) -> None:
    folder = tmp_path / "race"
    folder.mkdir()
    names = [f"m{i}" for i in range(1, 5)]
    for i, name in enumerate(names, start=1):
        (folder / f"{i:04d}_{name}.py").write_text(
            textwrap.dedent(RACE_MIGRATION.format(name=name))
        )
    context = multiprocessing.get_context("spawn")
    start = context.Barrier(3)  # all three call migrate_up at the same moment
    queue = context.Queue()
    processes = [
        context.Process(target=_race_worker, args=(str(db_path), str(folder), start, queue))
        for _ in range(3)
    ]
    for process in processes:
        process.start()
    results = [queue.get(timeout=30) for _ in processes]
    for process in processes:
        process.join(timeout=30)
        assert process.exitcode == 0
    assert all(isinstance(result, list) for result in results), results
    assert sorted(name for result in results for name in result) == names
    assert runs(db_path) == [(name, 1) for name in names]


def test_history_rows_of_migrations_record_their_schema_statements_but_no_data() -> None:
    from hedystia_models import Field, Table

    class Recorded(Table, table="recorded"):
        id: int | None = Field(default=None, primary_key=True)
        name: str = Field(default="", index=True)

    def add_age(ctx: MigrationContext) -> None:
        ctx.schema.add_column("recorded", "age", {"type": "integer"})
        ctx.sql("INSERT INTO recorded (name) VALUES (?)", ["a secret value"])

    db = database(
        schemas=[Recorded],
        connection=":memory:",
        migrations=[
            migration("create", up=lambda ctx: ctx.schema.create_table(Recorded)),
            migration("add_age", up=add_age),
        ],
        run_migrations=True,
    )
    rows = {entry.name: entry.statements for entry in db.history()}
    assert rows["create"] == (
        'CREATE TABLE "recorded" (\n    "id" INTEGER PRIMARY KEY,\n'
        "    \"name\" TEXT NOT NULL DEFAULT ''\n)",
        'CREATE INDEX "recorded_name_index" ON "recorded" ("name")',
    )
    assert rows["add_age"] == ('ALTER TABLE "recorded" ADD COLUMN "age" INTEGER',)
    assert "a secret value" not in repr(db.history())
    assert db.raw("SELECT name FROM recorded") == [{"name": "a secret value"}]


def test_database_check_lists_drift_pending_and_edited_migrations() -> None:
    from hedystia_models import Field, Table

    class Checked(Table, table="checked"):
        id: int | None = Field(default=None, primary_key=True)

    first = migration("first", up=lambda ctx: ctx.schema.create_table(Checked))
    second = migration("second", up=lambda ctx: ctx.sql("SELECT 1"))
    db = database(schemas=[Checked], connection=":memory:", migrations=[first, second])
    assert db.check() == [
        "schema: create table checked (id)",
        "pending migration: first",
        "pending migration: second",
    ]
    db.migrate_up()
    assert db.check() == []
    db.raw("CREATE TABLE stray (x)")
    db.migrations = [first]
    assert db.check() == [
        "schema: drop table stray",
        "applied but missing from code: second",
    ]


def test_a_rebuild_inside_a_user_transaction_never_cascades_into_child_rows(
    db_path: Path,
) -> None:
    class Parent(Table, table="parents"):
        id: int | None = Field(default=None, primary_key=True)
        name: str
        nick: str | None = Field(default=None, index=True)

    class Child(Table, table="children"):
        id: int | None = Field(default=None, primary_key=True)
        parent_id: int = Field(references=Parent, on_delete="cascade")

    with database(schemas=[Parent, Child], connection=db_path, sync_schemas=True) as db:
        parent = db.table(Parent).insert({"name": "Ann", "nick": "a"})
        db.table(Child).insert({"parent_id": parent.id})

    # Changing a column's definition rebuilds its table.
    drop_nick = migration(
        "drop_nick",
        up=lambda ctx: ctx.schema.alter_column("parents", "nick", {"type": "varchar", "length": 9}),
    )
    with database(schemas=[], connection=db_path, migrations=[drop_nick]) as db:
        with pytest.raises(MigrationError, match="drop_nick") as caught, db.transaction():
            db.migrate_up()
        assert "children" in str(caught.value)
        # The child row survived, and nothing was applied.
        assert db.raw("SELECT parent_id FROM children") == [{"parent_id": 1}]
        assert db.migration_status().pending == ["drop_nick"]
        # Outside a transaction the same migration works and keeps the child rows.
        assert db.migrate_up() == ["drop_nick"]
        assert db.raw("SELECT parent_id FROM children") == [{"parent_id": 1}]


def test_a_non_transactional_migration_does_not_commit_the_enclosing_transaction(
    db_path: Path,
) -> None:
    class Item(Table, table="items"):
        id: int | None = Field(default=None, primary_key=True)
        name: str

    loose = migration(
        "loose", up=lambda ctx: ctx.sql("CREATE TABLE extra (x)"), transactional=False
    )
    with database(schemas=[Item], connection=db_path, sync_schemas=True, migrations=[loose]) as db:
        with pytest.raises(MigrationError, match="loose"), db.transaction():
            db.table(Item).insert({"name": "temp"})
            db.migrate_up()
        # The block was left with an error, so everything in it was rolled back.
        assert db.raw("SELECT name FROM items") == []
        assert db.migration_status().pending == ["loose"]
        assert "extra" not in db.sqlite.table_names()


def test_a_step_that_catches_a_failed_statement_goes_on(connect: Any) -> None:
    """A ``ctx.sql`` that fails, its error caught by the step, is undone alone: the rest of
    the step runs and commits, on either engine."""

    def up(ctx: MigrationContext) -> None:
        ctx.schema.create_table(User)
        with contextlib.suppress(Exception):  # the step decides the table may be missing
            ctx.sql("SELECT * FROM no_such_table")
        ctx.sql("INSERT INTO users (name) VALUES (?)", ["Ann"])

    with connect(schemas=[], migrations=[migration("tolerant", up=up)]) as db:
        assert db.migrate_up() == ["tolerant"]
        assert db.raw("SELECT name FROM users") == [{"name": "Ann"}]
