"""One timeline: sync and migrations compose on every database, a fresh clone included.

Each way of reaching a database (a fresh file, a teammate's clone, a database synced for months
that only now gets migrations, sync first or migrations first) must end in the same schema with
the same data. Start-up with ``sync_schemas=True, run_migrations=True`` creates the missing
tables, runs the pending migrations (which converge), then syncs the rest.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

import pytest

import hedystia_models.engine.sqlite.introspect as introspect_module
from hedystia_models import Field, MigrationError, Table, database, migration
from hedystia_models.migrate.history import STAMPED
from hedystia_models.migrate.render import render_migration


def schema(path: Path) -> dict[str, Any]:
    """The user tables of the database at ``path``, as specs: the same schema compares equal
    however the statements that made it were spelled (ALTER TABLE appends to the stored SQL)."""
    with database(schemas=[], connection=path) as db:
        return introspect_module.read_database(db.sqlite).tables


class User(Table, table="users"):
    id: int | None = Field(default=None, primary_key=True)
    name: str = ""


class UserWithAge(Table, table="users"):
    id: int | None = Field(default=None, primary_key=True)
    name: str = ""
    age: int | None = 0


# -- (1) the @hedystia/db pattern: migrations alter tables that sync creates -------------------


def test_a_raw_migration_alters_a_table_only_the_models_declare(connect: Any) -> None:
    add_age = migration(
        "add_age", up=lambda ctx: ctx.sql('ALTER TABLE "users" ADD COLUMN "age" INTEGER DEFAULT 0')
    )
    with connect(
        schemas=[User],
        migrations=[add_age],
        sync_schemas=True,
        run_migrations=True,
    ) as db:  # raised "no such table: users" before
        columns = db.executor.read_state().tables["users"].columns
        assert [c.name for c in columns] == ["id", "name", "age"]
        assert db.migration_status().clean
        # The models do not declare age: the plan says so, and sync leaves it alone.
        assert [(op.kind, op.column) for op in db.plan().unsafe] == [("drop_column", "age")]


def test_a_schema_step_for_what_the_models_already_made_converges(connect: Any) -> None:
    def up(ctx: Any) -> None:
        ctx.schema.add_column("users", "age", {"type": "integer", "default_value": 0})

    with connect(
        schemas=[UserWithAge],
        migrations=[migration("add_age", up=up)],
        sync_schemas=True,
        run_migrations=True,
    ) as db:
        assert db.check() == []
        entry = next(e for e in db.history() if e.name == "add_age")
        assert entry.how == "converged"
        assert entry.already_done == ("column users.age already exists with this definition",)


# -- (2) a column rename keeps the data --------------------------------------------------------


class Post(Table, table="posts"):
    id: int | None = Field(default=None, primary_key=True)
    title: str = ""


class PostRenamed(Table, table="posts"):
    id: int | None = Field(default=None, primary_key=True)
    headline: str = ""


RENAME = migration(
    "rename_title",
    up=lambda ctx: ctx.schema.rename_column("posts", "title", "headline"),
    down=lambda ctx: ctx.schema.rename_column("posts", "headline", "title"),
)


def test_a_rename_migration_on_an_existing_database_keeps_the_data(connect: Any) -> None:
    with connect(schemas=[Post], sync_schemas=True) as db:
        db.table(Post).insert({"title": "Hello"})
    with connect(
        schemas=[PostRenamed],
        migrations=[RENAME],
        sync_schemas=True,
        run_migrations=True,
    ) as db:
        assert db.raw("SELECT * FROM posts") == [{"id": 1, "headline": "Hello"}]
        assert db.check() == []
        # sync never added "headline" as an empty column before the rename ran
        assert all(
            "headline" not in " ".join(e.statements) for e in db.history() if e.kind == "sync"
        )


def test_the_same_rename_on_a_fresh_database_converges(connect: Any) -> None:
    with connect(
        schemas=[PostRenamed],
        migrations=[RENAME],
        sync_schemas=True,
        run_migrations=True,
    ) as db:
        assert db.check() == []
        (entry,) = [e for e in db.history() if e.kind == "migration"]
        assert entry.already_done == ("column posts.title is already renamed to headline",)


# -- (3) an --auto history replays on a fresh database, in either order -------------------------


class Member(Table, table="members"):
    id: int | None = Field(default=None, primary_key=True)
    email: str = Field(default="", index=True)


class MemberWithNickname(Table, table="members"):
    id: int | None = Field(default=None, primary_key=True)
    email: str = Field(default="", index=True)
    nickname: str | None = Field(default=None, index=True)


@pytest.fixture
def auto_history(tmp_path: Path) -> Path:
    """A developer's history built the documented way: sync v1, add a field, generate the
    migration with the renderer that `migration create --auto` uses, migrate up."""
    folder = tmp_path / "migrations"
    folder.mkdir()
    dev = tmp_path / "dev.db"
    database(schemas=[Member], connection=dev, sync_schemas=True).close()
    with database(schemas=[MemberWithNickname], connection=dev) as db:
        source = render_migration("0001_add_nickname", db.plan())
    (folder / "0001_add_nickname.py").write_text(source, encoding="utf-8")
    with database(schemas=[MemberWithNickname], connection=dev, migrations=folder) as db:
        assert db.migrate_up() == ["0001_add_nickname"]
        assert db.check() == []
    return folder


def test_an_auto_history_replays_on_a_fresh_clone_migrations_first(
    tmp_path: Path, auto_history: Path
) -> None:
    fresh = tmp_path / "fresh.db"
    with database(
        schemas=[MemberWithNickname],
        connection=fresh,
        migrations=auto_history,
        sync_schemas=True,
        run_migrations=True,
    ) as db:
        assert db.check() == []
    assert schema(fresh) == schema(tmp_path / "dev.db")


def test_an_auto_history_replays_after_a_sync_first(tmp_path: Path, auto_history: Path) -> None:
    fresh = tmp_path / "fresh.db"
    database(schemas=[MemberWithNickname], connection=fresh, sync_schemas=True).close()
    with database(schemas=[MemberWithNickname], connection=fresh, migrations=auto_history) as db:
        assert db.migrate_up() == ["0001_add_nickname"]  # raised "already has column" before
        assert db.check() == []  # reported "pending migration" for ever before
    assert schema(fresh) == schema(tmp_path / "dev.db")


# -- (4) seeding a table the models declare ----------------------------------------------------


def test_a_migration_seeds_a_table_the_models_declare(tmp_path: Path) -> None:
    seed = migration(
        "seed_users", up=lambda ctx: ctx.sql("INSERT INTO users (name) VALUES (?)", ["root"])
    )
    with database(
        schemas=[User],
        connection=tmp_path / "fresh.db",
        migrations=[seed],
        sync_schemas=True,
        run_migrations=True,
    ) as db:
        assert [u.name for u in db.table(User).find()] == ["root"]
        assert db.check() == []


# -- (5) a table rename ------------------------------------------------------------------------


class Person(Table, table="persons"):
    id: int | None = Field(default=None, primary_key=True)
    name: str = ""


class OldPerson(Table, table="people"):
    id: int | None = Field(default=None, primary_key=True)
    name: str = ""


RENAME_TABLE = migration(
    "rename_people",
    up=lambda ctx: ctx.schema.rename_table("people", "persons"),
    down=lambda ctx: ctx.schema.rename_table("persons", "people"),
)


def test_a_table_rename_keeps_the_rows_though_start_up_made_the_new_table(tmp_path: Path) -> None:
    path = tmp_path / "app.db"
    with database(schemas=[OldPerson], connection=path, sync_schemas=True) as db:
        db.table(OldPerson).insert({"name": "Ann"})
    with database(
        schemas=[Person],
        connection=path,
        migrations=[RENAME_TABLE],
        sync_schemas=True,
        run_migrations=True,
    ) as db:
        assert [p.name for p in db.table(Person).find()] == ["Ann"]
        assert db.check() == []
        (entry,) = [e for e in db.history() if e.kind == "migration"]
        assert entry.statements[-1] == 'ALTER TABLE "people" RENAME TO "persons"'
        assert db.migrate_down() == ["rename_people"]
        assert db.raw("SELECT name FROM people") == [{"name": "Ann"}]


def test_a_table_rename_on_a_fresh_database_converges(tmp_path: Path) -> None:
    with database(
        schemas=[Person],
        connection=tmp_path / "fresh.db",
        migrations=[RENAME_TABLE],
        sync_schemas=True,
        run_migrations=True,
    ) as db:
        assert db.check() == []
        (entry,) = [e for e in db.history() if e.kind == "migration"]
        assert entry.already_done == ("table people is already renamed to persons",)


def test_a_table_rename_onto_a_table_with_rows_is_a_conflict(tmp_path: Path) -> None:
    with database(
        schemas=[OldPerson, Person], connection=tmp_path / "a.db", sync_schemas=True
    ) as db:
        db.table(Person).insert({"name": "Bo"})
        db.migrations = [RENAME_TABLE]
        with pytest.raises(MigrationError, match="both exist and 'persons' has rows"):
            db.migrate_up()
        assert db.migration_status().pending == ["rename_people"]


# -- a migration that creates its table by hand ------------------------------------------------


class Account(Table, table="accounts"):
    id: int | None = Field(default=None, primary_key=True)
    full_name: str
    email: str | None = Field(default=None, unique=True)


def test_a_migration_creating_a_model_table_by_hand_replaces_the_one_start_up_made(
    tmp_path: Path,
) -> None:
    def create(ctx: Any) -> None:
        ctx.sql("CREATE TABLE accounts (id INTEGER PRIMARY KEY, name TEXT NOT NULL)")
        ctx.sql("INSERT INTO accounts (name) VALUES ('Ann')")

    steps = [
        migration("create_accounts", up=create),
        migration(
            "rename", up=lambda ctx: ctx.schema.rename_column("accounts", "name", "full_name")
        ),
    ]
    with database(
        schemas=[Account],
        connection=tmp_path / "fresh.db",
        migrations=steps,
        sync_schemas=True,
        run_migrations=True,
    ) as db:
        assert [a.full_name for a in db.table(Account).find()] == ["Ann"]
        assert db.check() == []
        first = next(e for e in db.history() if e.name == "create_accounts")
        assert (
            first.statements[0] == "-- replaced: table accounts, made from the models at start-up"
        )
        assert first.how == "ran" and first.already_done == ()


# -- operations that converge, and those that conflict -----------------------------------------


def run_step(db: Any, step: Any, name: str = "m") -> Any:
    db.migrations = [*db.migrations, migration(name, up=step)]
    assert db.migrate_up() == [name]
    return db.history()[-1]


@pytest.mark.parametrize(
    ("step", "note"),
    [
        (
            lambda ctx: ctx.schema.create_table(User),
            "table users already exists with these columns",
        ),
        (lambda ctx: ctx.schema.drop_table("nope"), "table nope is already gone"),
        (lambda ctx: ctx.schema.drop_column("users", "nope"), "column users.nope is already gone"),
        (
            lambda ctx: ctx.schema.add_column(
                "users", "name", {"type": "TEXT", "not_null": True, "default_value": ""}
            ),
            "column users.name already exists with this definition",
        ),
        (
            lambda ctx: ctx.schema.alter_column(
                "users", "name", {"type": "TEXT", "not_null": True, "default_value": ""}
            ),
            "column users.name already has this definition",
        ),
        (lambda ctx: ctx.schema.add_index("users", "name", name="users_by_name"), None),
        (lambda ctx: ctx.schema.drop_index("users", "nope"), "index nope is already gone"),
        (
            lambda ctx: ctx.schema.rename_column("users", "old_name", "name"),
            "column users.old_name is already renamed to name",
        ),
    ],
    ids=[
        "create_table",
        "drop_table",
        "drop_column",
        "add_column",
        "alter_column",
        "add_index-twice",
        "drop_index",
        "rename_column",
    ],
)
def test_a_step_whose_target_already_holds_does_nothing_and_says_so(
    step: Any, note: str | None
) -> None:
    with database(schemas=[User], connection=":memory:", sync_schemas=True) as db:
        before = db.raw("SELECT name, sql FROM sqlite_master ORDER BY name")
        if note is None:  # the first run creates it; the second finds it there
            run_step(db, step, "first")
            before = db.raw("SELECT name, sql FROM sqlite_master ORDER BY name")
            note = "index users_by_name already exists"
        entry = run_step(db, step)
        assert entry.already_done == (note,) and entry.how == "converged"
        after = db.raw("SELECT name, sql FROM sqlite_master ORDER BY name")
        assert [r for r in after if r["name"] != "__hedystia_migrations"] == [
            r for r in before if r["name"] != "__hedystia_migrations"
        ]


@pytest.mark.parametrize(
    ("step", "message"),
    [
        (
            lambda ctx: ctx.schema.add_column("users", "name", {"type": "INTEGER"}),
            "another definition",
        ),
        (lambda ctx: ctx.schema.create_table(UserWithAge), "already exists with different columns"),
        (lambda ctx: ctx.schema.rename_column("users", "id", "name"), "has both columns"),
        (lambda ctx: ctx.schema.rename_column("users", "a", "b"), "has no column 'a'"),
        (lambda ctx: ctx.schema.rename_table("nope", "other"), "table 'nope' does not exist"),
    ],
)
def test_a_step_whose_target_conflicts_fails_and_applies_nothing(step: Any, message: str) -> None:
    with database(schemas=[User], connection=":memory:", sync_schemas=True) as db:
        before = db.raw("SELECT name, sql FROM sqlite_master WHERE name = 'users'")
        db.migrations = [migration("m", up=step)]
        with pytest.raises(MigrationError, match=message):
            db.migrate_up()
        assert db.raw("SELECT name, sql FROM sqlite_master WHERE name = 'users'") == before
        assert db.migration_status().pending == ["m"]


# -- stamp: joining the history without running it ---------------------------------------------


def test_a_database_made_before_migrations_existed_joins_the_history(tmp_path: Path) -> None:
    path = tmp_path / "old.db"
    database(schemas=[UserWithAge], connection=path, sync_schemas=True).close()
    ran: list[str] = []
    steps = [
        migration("0001_users", up=lambda ctx: ran.append("0001")),
        migration("0002_age", up=lambda ctx: ran.append("0002")),
        migration("0003_later", up=lambda ctx: ran.append("0003"), down=lambda ctx: None),
    ]
    with database(schemas=[UserWithAge], connection=path, migrations=steps) as db:
        assert db.stamp("0001_users", "0002_age") == ["0001_users", "0002_age"]
        assert db.stamp("0001_users") == []  # already recorded
        assert db.migration_status().pending == ["0003_later"]
        assert db.stamp() == ["0003_later"]  # every pending one
        assert ran == []
        assert db.check() == []
        stamped = [e for e in db.history() if e.kind == "migration"]
        assert [e.how for e in stamped] == ["stamped"] * 3
        assert stamped[0].statements == (STAMPED,)
        with pytest.raises(MigrationError, match="no such migration in the code"):
            db.stamp("0004_unknown")
        # A stamped migration rolls back like any other (its down runs).
        assert db.migrate_down() == ["0003_later"]


# -- the fast path never hides drift -----------------------------------------------------------


def test_every_start_up_keeps_reporting_drift_reading_only_its_tables(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "app.db"
    database(schemas=[User, Post], connection=path, sync_schemas=True).close()
    conn = sqlite3.connect(path)
    conn.execute("ALTER TABLE users ADD COLUMN sneaky TEXT")
    conn.commit()
    conn.close()
    first = database(schemas=[User, Post], connection=path, sync_schemas=True)
    first.close()
    reads: list[Any] = []
    real = introspect_module.read_database

    def counting(db: Any, only: Any = None) -> Any:
        reads.append(only)
        return real(db, only=only)

    monkeypatch.setattr(introspect_module, "read_database", counting)
    for _ in range(2):
        with database(schemas=[User, Post], connection=path) as db:
            plan = db.sync()  # the fast path: the fingerprint matches
            assert [(op.kind, op.column) for op in plan.unsafe] == [("drop_column", "sneaky")]
    assert reads == [["users"], ["users"]]  # only the drifted table, never the whole schema
