"""Foreign keys: a schema change checks only what it touched, and a reference that cannot work
is refused with a named error before anything is written (issue 11).

Part one: the foreign-key check before ``COMMIT`` (``engine/sqlite/transaction.py``). A table
another tool made with a broken foreign key (``REFERENCES a(nope)``, a missing or viewed parent,
a parent without such a key) or with orphan rows never stops a sync, a start-up sync or a
migration; a change that itself leaves a broken key or new orphan rows is rolled back with a
named error that names the table, the column and the target.

Part two: the models' references (``model/schemas.py``, ``migrate/planner.py``). A reference to
a table or column that exists nowhere, or to columns that are no primary or unique key, is a
``SchemaError`` at the model stage (a target model of the set) or at plan time (``plan``,
``sync``, ``check``, start-up). A target that only the database has is legal, as is a table
``ignore_tables`` names when it exists.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from hedystia_models import (
    Field,
    ForeignKeySpec,
    MigrationError,
    SchemaError,
    SpecError,
    SyncError,
    Table,
    TableSpec,
    database,
    migration,
)
from hedystia_models.context import MigrationContext
from hedystia_models.engine.sqlite.executor import SQLiteExecutor
from hedystia_models.engine.sqlite.introspect import foreign_key_graph
from hedystia_models.engine.sqlite.transaction import (
    ForeignKeyGuard,
    ForeignKeyMismatch,
    ForeignKeyViolation,
    schema_transaction,
)
from hedystia_models.errors import OperationError
from hedystia_models.schema.spec import ColumnSpec, Reference
from hedystia_models.schema.state import ForeignKeyEdge, ParentKeys, reference_problem

# -- helpers ----------------------------------------------------------------------------------


class User(Table, table="users"):
    id: int | None = Field(default=None, primary_key=True)
    name: str = ""


class Post(Table, table="posts"):
    id: int | None = Field(default=None, primary_key=True)
    author_id: int = Field(references=User)


def make(path: Path, sql: str) -> Path:
    """A database file made by another tool (foreign keys not enforced while it writes)."""
    conn = sqlite3.connect(path)
    conn.executescript(sql)
    conn.close()
    return path


def dump(path: Path, *, own: bool = True) -> list[str]:
    """The schema and rows of ``path`` as SQL (``own=False``: without the bookkeeping tables
    that running a migration creates)."""
    conn = sqlite3.connect(path)
    try:
        lines = list(conn.iterdump())
    finally:
        conn.close()
    if own:
        return lines
    return [line for line in lines if "__hedystia" not in line and "sqlite_sequence" not in line]


def tables(path: Path) -> set[str]:
    conn = sqlite3.connect(path)
    try:
        rows = conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'").fetchall()
    finally:
        conn.close()
    return {name for (name,) in rows}


#: Tables other tools leave behind, each with a foreign key SQLite cannot enforce or with rows
#: that reference nothing.
BROKEN = {
    "missing column": "CREATE TABLE a (id INTEGER PRIMARY KEY, x);"
    "CREATE TABLE b (y REFERENCES a(nope)); INSERT INTO b VALUES (1);",
    "not a key": "CREATE TABLE a (id INTEGER PRIMARY KEY, x);"
    "CREATE TABLE b (y REFERENCES a(x)); INSERT INTO b VALUES (1);",
    "no primary key": "CREATE TABLE a (x); CREATE TABLE b (y REFERENCES a);",
    "compound without key": "CREATE TABLE a (id INTEGER PRIMARY KEY);"
    "CREATE TABLE b (y, w, FOREIGN KEY (y, w) REFERENCES a);",
    "missing table": "CREATE TABLE b (y REFERENCES gone(id)); INSERT INTO b VALUES (1);",
    "a view": "CREATE VIEW v AS SELECT 1 AS id; CREATE TABLE b (y REFERENCES v(id));",
    "orphan rows": "CREATE TABLE a (id INTEGER PRIMARY KEY);"
    "CREATE TABLE b (y REFERENCES a(id)); INSERT INTO b VALUES (5);",
}


# -- part one: an unrelated broken table blocks nothing ---------------------------------------


@pytest.mark.parametrize("kind", sorted(BROKEN))
def test_an_unrelated_broken_table_never_blocks_a_start_up_sync(kind: str, db_path: Path) -> None:
    make(db_path, BROKEN[kind])
    with database(schemas=[User, Post], connection=db_path, sync_schemas=True) as db:
        assert {"users", "posts"} <= tables(db_path)
        db.table(User).insert({"name": "ann"})
        db.table(Post).insert({"author_id": 1})
        with pytest.raises(sqlite3.IntegrityError, match="FOREIGN KEY"):
            db.raw("INSERT INTO posts (author_id) VALUES (99)")
        assert not db.sync().safe  # and again: nothing to do, nothing fails


@pytest.mark.parametrize("kind", sorted(BROKEN))
def test_an_unrelated_broken_table_never_blocks_a_migration(kind: str, db_path: Path) -> None:
    make(db_path, BROKEN[kind])

    def up(ctx: MigrationContext) -> None:
        ctx.schema.create_table(User)
        ctx.sql("CREATE TABLE notes (id INTEGER PRIMARY KEY, user_id REFERENCES users(id))")
        ctx.sql("INSERT INTO users (id, name) VALUES (1, 'ann')")
        ctx.sql("INSERT INTO notes (user_id) VALUES (1)")

    def down(ctx: MigrationContext) -> None:
        ctx.sql("DROP TABLE notes")
        ctx.schema.drop_table("users")

    steps = [migration("0001_users", up=up, down=down)]
    with database(schemas=[], connection=db_path, migrations=steps) as db:
        assert db.migrate_up() == ["0001_users"]
        assert db.migrate_down() == ["0001_users"]


def test_an_unrelated_broken_table_never_blocks_a_rebuild(db_path: Path) -> None:
    make(db_path, BROKEN["missing column"] + "CREATE TABLE t (id INTEGER PRIMARY KEY, a TEXT);")

    def up(ctx: MigrationContext) -> None:
        ctx.schema.alter_column("t", "a", {"type": "INTEGER"})

    with database(schemas=[], connection=db_path, migrations=[migration("0001", up=up)]) as db:
        assert db.migrate_up() == ["0001"]


def test_upgrade_with_migrations_ignores_an_unrelated_broken_table(db_path: Path) -> None:
    make(db_path, BROKEN["missing column"])

    def up(ctx: MigrationContext) -> None:
        ctx.sql("INSERT INTO users (name) VALUES ('ann')")

    steps = [migration("0001_seed", up=up)]
    with database(
        schemas=[User, Post],
        connection=db_path,
        migrations=steps,
        sync_schemas=True,
        run_migrations=True,
    ) as db:
        assert db.raw("SELECT name FROM users") == [{"name": "ann"}]


# -- part one: what the change itself breaks is refused ---------------------------------------


def test_a_migration_that_creates_a_broken_key_is_rolled_back(db_path: Path) -> None:
    make(db_path, "CREATE TABLE a (id INTEGER PRIMARY KEY, x);")
    before = dump(db_path)

    def up(ctx: MigrationContext) -> None:
        ctx.sql("CREATE TABLE b (y REFERENCES a(nope))")

    with database(schemas=[], connection=db_path, migrations=[migration("0001_b", up=up)]) as db:
        with pytest.raises(MigrationError) as caught:
            db.migrate_up()
        assert db.migration_status().pending == ["0001_b"]
    message = str(caught.value)
    assert "table 'b', column 'y': references a(nope), but table 'a' has no column 'nope'" in (
        message
    )
    assert isinstance(caught.value.__cause__, ForeignKeyMismatch)
    assert dump(db_path, own=False) == before


@pytest.mark.parametrize(
    ("sql", "reason"),
    [
        ("CREATE TABLE b (y REFERENCES a(x))", "column 'x' of table 'a' is neither its primary"),
        ("CREATE TABLE b (y REFERENCES gone(id))", "table 'gone' does not exist"),
        ("CREATE TABLE b (y REFERENCES v(id))", "'v' is a view; a foreign key needs a table"),
        (
            "CREATE TABLE b (y, w, FOREIGN KEY (y, w) REFERENCES a)",
            "the primary key of table 'a' has 1 column(s), not 2",
        ),
        ("DROP TABLE a", "table 'a' does not exist"),
    ],
)
def test_every_kind_of_broken_key_a_migration_makes_is_named(
    sql: str, reason: str, db_path: Path
) -> None:
    make(
        db_path,
        "CREATE TABLE a (id INTEGER PRIMARY KEY, x); CREATE VIEW v AS SELECT 1 AS id;"
        + ("CREATE TABLE c (a_id REFERENCES a(id));" if sql.startswith("DROP") else ""),
    )

    def up(ctx: MigrationContext) -> None:
        ctx.sql(sql)

    with database(schemas=[], connection=db_path, migrations=[migration("0001", up=up)]) as db:
        with pytest.raises(MigrationError, match="ForeignKeyMismatch") as caught:
            db.migrate_up()
        assert reason in str(caught.value)
        assert db.migration_status().pending == ["0001"]


def test_a_migration_may_create_the_child_before_the_parent(db_path: Path) -> None:
    def up(ctx: MigrationContext) -> None:
        ctx.sql("CREATE TABLE posts (id INTEGER PRIMARY KEY, author_id REFERENCES authors(id))")
        ctx.sql("CREATE TABLE authors (id INTEGER PRIMARY KEY)")

    with database(schemas=[], connection=db_path, migrations=[migration("0001", up=up)]) as db:
        assert db.migrate_up() == ["0001"]


def test_new_orphan_rows_fail_a_migration_old_ones_do_not(db_path: Path) -> None:
    make(
        db_path,
        "CREATE TABLE a (id INTEGER PRIMARY KEY); INSERT INTO a VALUES (1);"
        "CREATE TABLE b (y REFERENCES a(id)); INSERT INTO b VALUES (5);"  # an old orphan
        "CREATE TABLE c (y REFERENCES a(id));",
    )

    def harmless(ctx: MigrationContext) -> None:
        ctx.sql("INSERT INTO b VALUES (1)")

    def orphan_in_c(ctx: MigrationContext) -> None:
        ctx.sql("INSERT INTO c VALUES (7)")

    def another_in_b(ctx: MigrationContext) -> None:
        ctx.sql("INSERT INTO b VALUES (8)")

    steps = [
        migration("0001_harmless", up=harmless),
        migration("0002_orphan_in_c", up=orphan_in_c),
    ]
    with database(schemas=[], connection=db_path, migrations=steps) as db:
        with pytest.raises(MigrationError) as caught:
            db.migrate_up()
        assert db.migration_status().pending == ["0002_orphan_in_c"]
        assert db.raw("SELECT count(*) AS n FROM c") == [{"n": 0}]
    assert "ForeignKeyViolation" in str(caught.value)
    assert "c row 1 (y) -> a" in str(caught.value)
    assert isinstance(caught.value.__cause__, ForeignKeyViolation)
    assert isinstance(caught.value.__cause__, sqlite3.IntegrityError)

    with (
        database(
            schemas=[], connection=db_path, migrations=[migration("0003", up=another_in_b)]
        ) as db,
        pytest.raises(MigrationError, match=r"b row 3 \(y\) -> a"),
    ):
        db.migrate_up()


def test_a_non_transactional_migration_is_compared_with_the_database_before_it(
    db_path: Path,
) -> None:
    make(db_path, "CREATE TABLE a (id INTEGER PRIMARY KEY);")

    def up(ctx: MigrationContext) -> None:
        ctx.sql("CREATE TABLE b (y REFERENCES a(nope))")

    step = migration("0001", up=up, transactional=False)
    with database(schemas=[], connection=db_path, migrations=[step]) as db:
        with pytest.raises(MigrationError, match=r"is not transactional.*no column 'nope'"):
            db.migrate_up()
        assert db.migration_status().pending == ["0001"]


def test_a_rebuild_that_breaks_the_children_of_a_table_is_rolled_back(
    db_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Without RENAME COLUMN the column is renamed by a rebuild, which does not follow the
    # references of other tables: the child's key would name a column that is gone.
    monkeypatch.setattr(SQLiteExecutor, "version", (3, 24, 0))
    make(
        db_path,
        "CREATE TABLE a (id INTEGER PRIMARY KEY, code TEXT UNIQUE);"
        "CREATE TABLE c (a_code REFERENCES a(code));",
    )
    before = dump(db_path)

    def up(ctx: MigrationContext) -> None:
        ctx.schema.rename_column("a", "code", "handle")

    broken = r"table 'c', column 'a_code': references a\(code\), but table 'a' has no column"
    steps = [migration("0001", up=up)]
    with (
        database(schemas=[], connection=db_path, migrations=steps) as db,
        pytest.raises(MigrationError, match=broken),
    ):
        db.migrate_up()
    assert dump(db_path, own=False) == before


def test_sync_that_would_leave_a_broken_key_is_rolled_back(db_path: Path) -> None:
    # The model says users.email is UNIQUE, the database's users table disagrees (a change sync
    # leaves to a migration): creating posts would leave a key SQLite cannot enforce.
    class Member(Table, table="members"):
        id: int | None = Field(default=None, primary_key=True)
        email: str = Field(unique=True)

    class Message(Table, table="messages"):
        id: int | None = Field(default=None, primary_key=True)
        sender: str = Field(references=Member.ref("email"))

    make(db_path, "CREATE TABLE members (id INTEGER PRIMARY KEY, email TEXT NOT NULL);")
    before = dump(db_path)
    with (
        database(schemas=[Member, Message], connection=db_path) as db,
        pytest.raises(SyncError) as caught,
    ):
        db.sync()
    assert str(caught.value) == (
        "sync failed and was rolled back: this change leaves a foreign key SQLite cannot "
        "enforce (every write to the table would fail): table 'messages', column 'sender': "
        "references members(email), but column 'email' of table 'members' is neither its "
        "primary key nor UNIQUE"
    )
    assert dump(db_path) == before


def test_a_sync_that_only_creates_tables_checks_their_keys_without_reading_the_schema(
    db_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A first start-up only creates tables: the guard has nothing to cover, and the new
    # tables' keys are checked from the plan against the tables as they will be (no
    # foreign-key graph is read); a sync that changes an existing table reads it.
    import hedystia_models.engine.sqlite.transaction as transaction

    reads: list[int] = []

    def counted(conn: sqlite3.Connection) -> object:
        reads.append(1)
        return foreign_key_graph(conn)

    monkeypatch.setattr(transaction, "foreign_key_graph", counted)
    with database(schemas=[User, Post], connection=db_path) as db:
        assert [op.table for op in db.sync().safe] == ["users", "posts"]
        assert reads == []
        db.raw("ALTER TABLE users DROP COLUMN name")
        assert db.sync().safe  # adds the column back: an existing table changes
        assert reads == [1, 1]  # the baseline and the check
        db.posts.insert({"author_id": db.users.insert({"name": "a"}).id})


def test_the_guard_inside_a_user_transaction_checks_the_keys(db_path: Path) -> None:
    make(db_path, "CREATE TABLE a (id INTEGER PRIMARY KEY);")
    conn = sqlite3.connect(db_path)
    conn.execute("BEGIN")
    with pytest.raises(ForeignKeyMismatch, match="no column 'nope'"), schema_transaction(conn):
        conn.execute("CREATE TABLE b (y REFERENCES a(nope))")
    assert conn.in_transaction
    conn.execute("ROLLBACK")
    conn.close()
    assert tables(db_path) == {"a"}


def test_a_guard_covers_only_the_tables_named(db_path: Path) -> None:
    make(db_path, BROKEN["orphan rows"] + "CREATE TABLE c (y REFERENCES a(id));")
    conn = sqlite3.connect(db_path)
    conn.execute("PRAGMA foreign_keys = ON")
    guard = ForeignKeyGuard(conn)
    with schema_transaction(conn, guard):
        guard.cover(["c"])
        conn.execute("INSERT INTO b VALUES (6)")  # b is not covered: not this change's business
    guard = ForeignKeyGuard(conn)
    with (
        pytest.raises(ForeignKeyViolation, match=r"c row 1 \(y\) -> a"),
        schema_transaction(conn, guard),
    ):
        guard.cover(["c"])
        conn.execute("INSERT INTO c VALUES (6)")
    guard = ForeignKeyGuard(conn)
    with (
        pytest.raises(ForeignKeyViolation, match=r"b row 3 \(y\) -> a"),
        schema_transaction(conn, guard),
    ):
        guard.cover([], children_of=["a"])  # b and c reference a
        conn.execute("INSERT INTO b VALUES (7)")
    assert conn.execute("SELECT count(*) FROM c").fetchone() == (0,)
    conn.close()


def test_the_graph_reads_keys_without_english_messages(db_path: Path) -> None:
    make(
        db_path,
        "CREATE TABLE a (id INTEGER PRIMARY KEY, x, z, w UNIQUE, UNIQUE (x, z));"
        "CREATE UNIQUE INDEX a_z ON a (z) WHERE z > 0;"
        "CREATE TABLE b (y REFERENCES a(w), p REFERENCES a(z), r, s,"
        " FOREIGN KEY (r, s) REFERENCES a(z, x));",
    )
    conn = sqlite3.connect(db_path)
    graph = foreign_key_graph(conn)
    conn.close()
    assert graph.parents["a"].primary_key == ("id",)
    assert [str(p) for p in graph.problems().values()] == [
        "table 'b', column 'p': references a(z), but column 'z' of table 'a' is neither its "
        "primary key nor UNIQUE"  # a partial unique index is no parent key
    ]


# -- part two: references that exist nowhere -------------------------------------------------


class Comment(Table, table="comments"):
    id: int | None = Field(default=None, primary_key=True)
    author_id: int = Field(references="members.id")


def test_a_reference_to_a_table_that_exists_nowhere_is_refused_at_plan_time(
    db_path: Path,
) -> None:
    message = (
        "table 'comments', column 'author_id': references members(id), but no model declares "
        "table 'members' and the database has no such table; nothing was changed"
    )
    with pytest.raises(SchemaError) as caught:
        database(schemas=[Comment], connection=db_path, sync_schemas=True)
    assert str(caught.value) == message
    assert tables(db_path) == set()
    with database(schemas=[Comment], connection=db_path) as db:
        for call in (db.plan, db.sync, db.check):
            with pytest.raises(SchemaError, match="no model declares table 'members'"):
                call()
    assert tables(db_path) == set()


def test_a_reference_to_a_table_only_the_database_has_is_legal(db_path: Path) -> None:
    make(db_path, "CREATE TABLE members (id INTEGER PRIMARY KEY); INSERT INTO members VALUES (1);")
    with database(schemas=[Comment], connection=db_path, sync_schemas=True) as db:
        db.table(Comment).insert({"author_id": 1})
        with pytest.raises(sqlite3.IntegrityError, match="FOREIGN KEY"):
            db.raw("INSERT INTO comments (author_id) VALUES (2)")
        assert [op.describe() for op in db.plan()] == ["drop table members"]
        assert db.check() == ["schema: drop table members"]


@pytest.mark.parametrize(
    ("sql", "reason"),
    [
        (
            "CREATE TABLE members (id TEXT, code INTEGER PRIMARY KEY)",
            "column 'id' of table 'members' is neither its primary key nor UNIQUE",
        ),
        ("CREATE TABLE members (code INTEGER PRIMARY KEY)", "table 'members' has no column 'id'"),
        (
            "CREATE VIEW members AS SELECT 1 AS id",
            "'members' is a view; a foreign key needs a table",
        ),
    ],
)
def test_a_reference_the_database_cannot_serve_is_refused_at_plan_time(
    sql: str, reason: str, db_path: Path
) -> None:
    make(db_path, sql)
    before = dump(db_path)
    with pytest.raises(SchemaError) as caught:
        database(schemas=[Comment], connection=db_path, sync_schemas=True)
    assert str(caught.value) == (
        f"table 'comments', column 'author_id': references members(id), but {reason}; "
        "nothing was changed"
    )
    assert dump(db_path) == before


def test_a_unique_index_of_the_database_serves_as_the_parent_key(db_path: Path) -> None:
    make(
        db_path,
        "CREATE TABLE members (pk INTEGER PRIMARY KEY, id INTEGER);"
        "CREATE UNIQUE INDEX members_id ON members (id);",
    )
    with database(schemas=[Comment], connection=db_path, sync_schemas=True) as db:
        assert "comments" in tables(db_path)
        db.raw("INSERT INTO members (id) VALUES (4)")
        db.table(Comment).insert({"author_id": 4})


def test_a_reference_to_a_missing_field_of_a_model_of_the_set_is_a_model_error(
    db_path: Path,
) -> None:
    class Account(Table, table="accounts"):
        id: int | None = Field(default=None, primary_key=True)
        email: str = ""

    class Login(Table, table="logins"):
        id: int | None = Field(default=None, primary_key=True)
        account: int = Field(references="accounts.nope")

    class Invite(Table, table="invites"):
        id: int | None = Field(default=None, primary_key=True)
        email: str = Field(references="accounts.email")

    with pytest.raises(SchemaError) as caught:
        database(schemas=[Account, Login], connection=db_path)
    assert str(caught.value) == (
        "Login.account: references accounts(nope), but table 'accounts' (model Account) has "
        "no column 'nope'"
    )
    with pytest.raises(SchemaError) as caught:
        database(schemas=[Account, Invite], connection=db_path)
    assert str(caught.value) == (
        "Invite.email: references accounts(email), but column 'email' of table 'accounts' "
        "(model Account) is neither its primary key nor UNIQUE"
    )
    assert not db_path.exists()


def test_a_self_reference_and_a_unique_target_are_fine(db_path: Path) -> None:
    class Node(Table, table="nodes"):
        id: int | None = Field(default=None, primary_key=True)
        parent: int | None = Field(default=None, references="nodes.id")
        code: str = Field(unique=True)

    class Tag(Table, table="tags"):
        id: int | None = Field(default=None, primary_key=True)
        node_code: str = Field(references=Node.ref("code"))

    with database(schemas=[Tag, Node], connection=db_path, sync_schemas=True) as db:
        db.table(Node).insert({"code": "a"})
        db.table(Tag).insert({"node_code": "a"})
        with pytest.raises(sqlite3.IntegrityError, match="FOREIGN KEY"):
            db.raw("INSERT INTO tags (node_code) VALUES ('b')")


def test_a_reference_to_an_ignored_table(db_path: Path) -> None:
    with pytest.raises(SchemaError) as caught:
        database(schemas=[Comment], connection=db_path, ignore_tables=["mem*"], sync_schemas=True)
    assert str(caught.value) == (
        "table 'comments', column 'author_id': references members(id), but no model declares "
        "table 'members' and the database has no such table (ignore_tables pattern 'mem*' "
        "names it); nothing was changed"
    )
    make(db_path, "CREATE TABLE members (id INTEGER PRIMARY KEY); INSERT INTO members VALUES (3);")
    with database(
        schemas=[Comment], connection=db_path, ignore_tables=["mem*"], sync_schemas=True
    ) as db:
        db.table(Comment).insert({"author_id": 3})
        assert db.check() == []


def test_upgrade_waits_for_the_migration_that_creates_the_referenced_table(
    db_path: Path,
) -> None:
    def up(ctx: MigrationContext) -> None:
        ctx.sql("CREATE TABLE members (id INTEGER PRIMARY KEY)")

    class Reply(Table, table="replies"):
        id: int | None = Field(default=None, primary_key=True)
        comment_id: int = Field(references=Comment)

    steps = [migration("0001_members", up=up)]
    with database(
        schemas=[Comment, Reply],
        connection=db_path,
        migrations=steps,
        sync_schemas=True,
        run_migrations=True,
    ) as db:
        assert {"members", "comments", "replies"} <= tables(db_path)
        db.raw("INSERT INTO members VALUES (1)")
        db.table(Comment).insert({"author_id": 1})


def test_upgrade_still_refuses_a_reference_nothing_creates(db_path: Path) -> None:
    steps = [migration("0001_nothing", up=lambda ctx: None)]
    with pytest.raises(SchemaError, match="no model declares table 'members'"):
        database(
            schemas=[Comment],
            connection=db_path,
            migrations=steps,
            sync_schemas=True,
            run_migrations=True,
        )
    assert "comments" not in tables(db_path)


def test_a_multi_column_key_needs_as_many_columns_on_each_side() -> None:
    with pytest.raises(SpecError, match="must name as many columns"):
        ForeignKeySpec(("a", "b"), "t", ("x",))
    assert ForeignKeySpec(("a", "b"), "t", ()).other_columns == ()  # the primary key of t


def test_create_table_with_a_broken_key_in_a_migration(db_path: Path) -> None:
    spec = TableSpec(
        "pairs",
        (ColumnSpec("a", "INTEGER"), ColumnSpec("b", "INTEGER")),
        foreign_keys=(ForeignKeySpec(("a", "b"), "users", ()),),
    )

    def up(ctx: MigrationContext) -> None:
        ctx.schema.create_table(User)
        ctx.schema.create_table(spec)

    with database(schemas=[], connection=db_path, migrations=[migration("0001", up=up)]) as db:
        with pytest.raises(
            MigrationError,
            match=r"references users, but the primary key of "
            r"table 'users' has 1 column\(s\), not 2",
        ):
            db.migrate_up()
        assert "pairs" not in tables(db_path) and "users" not in tables(db_path)


def test_a_plan_of_specs_checks_their_references(db_path: Path) -> None:
    bad = TableSpec("t", (ColumnSpec("x", "INTEGER", references=Reference("nowhere", "id")),))
    with database(schemas=[], connection=db_path) as db:
        from hedystia_models.migrate.planner import plan_for

        with pytest.raises(SchemaError, match="no model declares table 'nowhere'"):
            plan_for([bad], db.executor)
        assert plan_for([bad], db.executor, check_references=False).safe


def test_reference_problem_rules() -> None:
    parent = ParentKeys("p", ("id", "a", "b"), ("id",), (("b", "a"),))
    ok = [
        ForeignKeyEdge("c", ("x",), "p", ("id",)),
        ForeignKeyEdge("c", ("x",), "P", ("ID",)),
        ForeignKeyEdge("c", ("x",), "p", ()),
        ForeignKeyEdge("c", ("x", "y"), "p", ("a", "b")),  # any order of a unique key
    ]
    assert [reference_problem(edge, parent) for edge in ok] == [None] * 4
    bad = {
        ForeignKeyEdge("c", ("x",), "p", ("a",)): "neither its primary key nor UNIQUE",
        ForeignKeyEdge("c", ("x", "y"), "p", ("a", "a")): "are neither its primary key",
        ForeignKeyEdge("c", ("x", "y"), "p", ("id",)): "names 1 column(s) of table 'p' for 2",
        ForeignKeyEdge("c", ("x",), "p", ("rowid",)): "cannot reference the rowid",
    }
    for edge, reason in bad.items():
        problem = reference_problem(edge, parent)
        assert problem is not None and reason in problem.reason, (edge, problem)
    assert reference_problem(ForeignKeyEdge("c", ("x",), "q", ("id",)), None) is not None


def test_foreign_key_errors_are_named_errors() -> None:
    assert issubclass(ForeignKeyMismatch, OperationError)
    assert issubclass(ForeignKeyViolation, OperationError)
    assert issubclass(ForeignKeyViolation, sqlite3.IntegrityError)


def test_ctx_schema_add_column_with_a_broken_reference_is_rolled_back(db_path: Path) -> None:
    make(db_path, "CREATE TABLE a (id INTEGER PRIMARY KEY, x); INSERT INTO a VALUES (1, 2);")
    before = dump(db_path)

    def up(ctx: MigrationContext) -> None:
        ctx.schema.add_column("a", "parent", {"type": "integer", "references": "a.x"})

    steps = [migration("0001", up=up)]
    with (
        database(schemas=[], connection=db_path, migrations=steps) as db,
        pytest.raises(MigrationError) as caught,
    ):
        db.migrate_up()
    assert (
        "table 'a', column 'parent': references a(x), but column 'x' of table 'a' is neither "
        "its primary key nor UNIQUE"
    ) in str(caught.value)
    assert dump(db_path, own=False) == before
