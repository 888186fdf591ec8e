"""The migration context: ``ctx.schema`` (tables, columns, indexes), ``ctx.sql`` and ``ctx.db``.

``drop_column`` and ``rename_column`` use SQLite's ``ALTER TABLE`` where it can do the job and
rebuild the table otherwise. SQLite 3.35+ drops a plain column natively and 3.25+ renames
natively, so to exercise the rebuild for every operation the ``native`` fixture parameter
also runs each test with the native path switched off, which is what an older SQLite does.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import sqlite_utils

from hedystia_models import (
    ColumnSpec,
    Field,
    Index,
    MigrationError,
    RowError,
    Table,
    TableSpec,
    database,
    migration,
)
from hedystia_models.context import MigrationContext
from hedystia_models.database import Database
from hedystia_models.engine.sqlite.executor import SQLiteExecutor

#: A SQLite without DROP COLUMN (3.35) and RENAME COLUMN (3.25): every change rebuilds.
OLD_SQLITE = (3, 24, 0)

Step = Callable[[MigrationContext], Any]


def run(db: Database, step: Step, name: str = "step") -> None:
    """Apply ``step`` as a one-off migration on ``db``."""
    db.migrations = [*db.migrations, migration(name, up=step)]
    assert db.migrate_up() == [name]


def fail(db: Database, step: Step, match: str, name: str = "failing") -> MigrationError:
    """Apply ``step`` and expect it to fail with a message matching ``match``; nothing stays."""
    before = schema_of(db.conn)
    definition = migration(name, up=step)
    db.migrations = [*db.migrations, definition]
    with pytest.raises(MigrationError, match=match) as caught:
        db.migrate_up()
    db.migrations = [m for m in db.migrations if m is not definition]
    assert schema_of(db.conn) == before
    assert name not in {e.name for e in db.history()}
    return caught.value


def schema_of(conn: sqlite3.Connection) -> list[tuple[str, str, str | None]]:
    return sorted(
        conn.execute(
            "SELECT type, name, sql FROM sqlite_master "
            "WHERE name NOT LIKE '%hedystia%' AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\'"
        ).fetchall()
    )


def sql_of(conn: sqlite3.Connection, name: str) -> str:
    row = conn.execute("SELECT sql FROM sqlite_master WHERE name = ?", (name,)).fetchone()
    assert row is not None, f"{name} does not exist"
    return str(row[0])


def info(conn: sqlite3.Connection, table: str) -> dict[str, tuple[str, bool, str | None]]:
    """column -> (declared type, NOT NULL, default)"""
    return {
        row[1]: (row[2], bool(row[3]), row[4])
        for row in conn.execute(f'PRAGMA table_info("{table}")').fetchall()
    }


def indexes(conn: sqlite3.Connection, table: str) -> dict[str, tuple[tuple[str, ...], bool]]:
    """Explicit indexes: name -> (columns, unique)."""
    found = {}
    for row in conn.execute(f'PRAGMA index_list("{table}")').fetchall():
        name, unique, origin = row[1], bool(row[2]), row[3]
        if origin != "c":
            continue
        columns = tuple(r[2] for r in conn.execute(f'PRAGMA index_info("{name}")').fetchall())
        found[name] = (columns, unique)
    return found


def foreign_keys(conn: sqlite3.Connection, table: str) -> list[tuple[str, str, str, str]]:
    """(column, parent table, parent column, on delete)"""
    return [
        (row[3], row[2], row[4], row[6])
        for row in conn.execute(f'PRAGMA foreign_key_list("{table}")').fetchall()
    ]


@pytest.fixture
def db(db_path: Path) -> Iterator[Database]:
    with database(schemas=[], connection=db_path) as db:
        yield db


@pytest.fixture(params=["native", "rebuild"])
def native(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> bool:
    """Run the test twice: with SQLite's ALTER TABLE, and as an older SQLite without it."""
    if request.param == "rebuild":
        monkeypatch.setattr(SQLiteExecutor, "version", OLD_SQLITE)
        return False
    return True


# -- ctx.sql and ctx.db -----------------------------------------------------------------------


def test_sql_returns_rows_as_dicts_and_binds_parameters(db: Database) -> None:
    seen: dict[str, Any] = {}

    def step(ctx: MigrationContext) -> None:
        assert ctx.sql("CREATE TABLE kv (k TEXT PRIMARY KEY, v INTEGER)") == []
        assert ctx.sql("INSERT INTO kv VALUES (?, ?)", ["a", 1]) == []
        ctx.sql("INSERT INTO kv VALUES (:k, :v)", {"k": "b'; DROP TABLE kv; --", "v": 2})
        seen["rows"] = ctx.sql("SELECT k, v FROM kv ORDER BY v")
        seen["one"] = ctx.sql("SELECT v FROM kv WHERE k = ?", ("a",))
        seen["db"] = ctx.db
        seen["name"] = ctx.name

    run(db, step, name="kv")
    assert seen["rows"] == [{"k": "a", "v": 1}, {"k": "b'; DROP TABLE kv; --", "v": 2}]
    assert seen["one"] == [{"v": 1}]
    assert isinstance(seen["db"], sqlite_utils.Database) and seen["db"] is db.sqlite
    assert seen["name"] == "kv"


def test_ctx_db_is_sqlite_utils_inside_the_same_transaction(db: Database) -> None:
    def step(ctx: MigrationContext) -> None:
        ctx.db.table("notes").insert({"id": 1, "body": "hi"}, pk="id")
        assert ctx.sql("SELECT body FROM notes") == [{"body": "hi"}]
        raise RuntimeError("undo everything")

    fail(db, step, "undo everything")
    assert "notes" not in db.sqlite.table_names()


# -- tables -----------------------------------------------------------------------------------


class Author(Table, table="authors"):
    id: int | None = Field(default=None, primary_key=True, auto_increment=True)
    name: str = Field(max_length=100, index=True)
    active: bool = True


class Book(Table, table="books", indexes=[Index("author_id", "title", unique=True)]):
    id: int | None = Field(default=None, primary_key=True)
    author_id: int = Field(references=Author, on_delete="cascade")
    title: str


def test_create_table_from_a_model_with_its_indexes(db: Database) -> None:
    def step(ctx: MigrationContext) -> None:
        ctx.schema.create_table(Author)
        ctx.schema.create_table(Book)

    run(db, step)
    assert info(db.conn, "authors") == {
        "id": ("INTEGER", False, None),
        "name": ("VARCHAR(100)", True, None),
        "active": ("BOOLEAN", True, "1"),
    }
    assert indexes(db.conn, "authors") == {"authors_name_index": (("name",), False)}
    assert indexes(db.conn, "books") == {
        "books_author_id_title_unique": (("author_id", "title"), True)
    }
    assert foreign_keys(db.conn, "books") == [("author_id", "authors", "id", "CASCADE")]
    # The models and the database agree: nothing for sync to do.
    with database(schemas=[Author, Book], connection=db.sqlite) as same:
        assert same.plan().in_sync


def test_create_table_from_a_spec(db: Database) -> None:
    spec = TableSpec(
        name="events",
        columns=(
            ColumnSpec("id", "INTEGER", primary_key=True),
            ColumnSpec("kind", "TEXT", not_null=True, default_sql="'info'"),
        ),
    )
    run(db, lambda ctx: ctx.schema.create_table(spec))
    assert info(db.conn, "events") == {
        "id": ("INTEGER", False, None),
        "kind": ("TEXT", True, "'info'"),
    }


def test_create_table_adopts_an_identical_existing_table(db: Database) -> None:
    db.sqlite.execute(
        'CREATE TABLE "authors" ("id" INTEGER PRIMARY KEY AUTOINCREMENT, '
        '"name" VARCHAR(100) NOT NULL, "active" BOOLEAN NOT NULL DEFAULT 1)'
    )
    db.raw("INSERT INTO authors (name) VALUES ('Ann')")
    before = schema_of(db.conn)
    run(db, lambda ctx: ctx.schema.create_table(Author))
    assert schema_of(db.conn) == before  # nothing was created or changed
    assert db.raw("SELECT name FROM authors") == [{"name": "Ann"}]


def test_create_table_over_a_different_table_shows_the_difference(db: Database) -> None:
    db.raw("CREATE TABLE authors (id INTEGER PRIMARY KEY, name TEXT, born INTEGER)")
    error = fail(db, lambda ctx: ctx.schema.create_table(Author), "already exists")
    message = str(error)
    assert "migration 'failing'" in message
    assert "column 'active' is missing from the database" in message
    assert "column 'born' exists in the database but not in the definition" in message


def test_drop_table(db: Database) -> None:
    db.raw("CREATE TABLE old (x)")
    db.raw("CREATE INDEX old_x ON old (x)")
    run(db, lambda ctx: ctx.schema.drop_table("old"))
    assert schema_of(db.conn) == []
    # Dropping it again converges: nothing to do, and the history row says so.
    run(db, lambda ctx: ctx.schema.drop_table("old"), name="again")
    assert db.history()[-1].statements == ("-- already done: table old is already gone",)


# -- add_column -------------------------------------------------------------------------------


@pytest.fixture
def people(db: Database) -> Database:
    db.raw("CREATE TABLE people (id INTEGER PRIMARY KEY, name TEXT NOT NULL)")
    db.raw("INSERT INTO people (name) VALUES ('Ann'), ('Bob')")
    return db


@pytest.mark.parametrize(
    ("column", "expected"),
    [
        (  # @hedystia/db's documentation, verbatim: camelCase keys
            {
                "name": "age",
                "type": "integer",
                "primaryKey": False,
                "autoIncrement": False,
                "notNull": False,
                "unique": False,
                "defaultValue": 0,
            },
            ("INTEGER", False, "0"),
        ),
        (  # the same in snake_case
            {"type": "integer", "not_null": True, "default_value": 18},
            ("INTEGER", True, "18"),
        ),
        ({"type": "varchar", "length": 50, "defaultValue": "n/a"}, ("VARCHAR(50)", False, "'n/a'")),
        # ADD COLUMN refuses an expression default: the table is rebuilt, keeping its rows
        (
            {"type": "text", "default_sql": "CURRENT_TIMESTAMP"},
            ("TEXT", False, "CURRENT_TIMESTAMP"),
        ),
        (ColumnSpec("age", "REAL"), ("REAL", False, None)),
        ((int | None, Field(default=0)), ("INTEGER", False, "0")),
        ((bool, Field(default=False)), ("BOOLEAN", True, "0")),
        ((str | None,), ("TEXT", False, None)),
    ],
    ids=["camelCase", "snake_case", "length", "expression-default", "spec", "pair", "bool", "one"],
)
def test_add_column_forms(
    people: Database, column: Any, expected: tuple[str, bool, str | None] | None
) -> None:
    if expected is None:
        fail(people, lambda ctx: ctx.schema.add_column("people", "age", column), "has rows")
        return
    run(people, lambda ctx: ctx.schema.add_column("people", "age", column))
    assert info(people.conn, "people")["age"] == expected
    rows = people.raw("SELECT age FROM people")
    assert len(rows) == 2


def test_add_column_unique_and_references(people: Database) -> None:
    def step(ctx: MigrationContext) -> None:
        ctx.schema.add_column("people", "email", {"type": "text", "unique": True})
        ctx.schema.add_column(
            "people",
            "manager_id",
            {
                "type": "integer",
                "references": {"table": "people", "column": "id", "onDelete": "set null"},
            },
        )

    run(people, step)
    assert indexes(people.conn, "people") == {"people_email_unique": (("email",), True)}
    assert foreign_keys(people.conn, "people") == [("manager_id", "people", "id", "SET NULL")]
    people.raw("UPDATE people SET email = 'a@x' WHERE id = 1")
    with pytest.raises(sqlite3.IntegrityError):
        people.raw("UPDATE people SET email = 'a@x' WHERE id = 2")


def test_add_a_not_null_column_without_default(people: Database) -> None:
    # On a table with rows there is no value to give them: an error naming table and column.
    error = fail(
        people,
        lambda ctx: ctx.schema.add_column("people", "code", (str, Field())),
        "cannot add column 'code' to table 'people', which has rows",
    )
    assert "migration 'failing'" in str(error)
    # On an empty table, the table is rebuilt with the column.
    people.raw("CREATE TABLE empty (id INTEGER PRIMARY KEY, name VARCHAR(20) DEFAULT 'x')")
    run(
        people,
        lambda ctx: ctx.schema.add_column("empty", "code", {"type": "text", "notNull": True}),
    )
    assert info(people.conn, "empty") == {
        "id": ("INTEGER", False, None),
        "name": ("VARCHAR(20)", False, "'x'"),
        "code": ("TEXT", True, None),
    }


@pytest.mark.parametrize(
    ("column", "match"),
    [
        ({"type": "integer", "colour": "red"}, "unknown key 'colour'"),
        ({"notNull": True}, "needs a 'type'"),
        ({"name": "other", "type": "text"}, "names 'other' but is added as 'age'"),
        (42, "a column must be a dict, a ColumnSpec or an"),
        ((int, "not a field"), "must be a Field"),
    ],
)
def test_add_column_refuses_bad_definitions(people: Database, column: Any, match: str) -> None:
    fail(people, lambda ctx: ctx.schema.add_column("people", "age", column), match)


def test_add_an_existing_column_or_to_a_missing_table(people: Database) -> None:
    column = {"type": "text"}
    fail(people, lambda ctx: ctx.schema.add_column("people", "name", column), "already has")
    fail(people, lambda ctx: ctx.schema.add_column("nobody", "x", column), "does not exist")


# -- drop_column and rename_column ------------------------------------------------------------

BLOG = [
    "CREATE TABLE authors (id INTEGER PRIMARY KEY AUTOINCREMENT, name VARCHAR(100) NOT NULL)",
    """CREATE TABLE posts (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        author_id INTEGER NOT NULL REFERENCES authors(id) ON DELETE CASCADE,
        title VARCHAR(255) NOT NULL DEFAULT 'untitled',
        published BOOLEAN NOT NULL DEFAULT 0 CHECK (published IN (0, 1)),
        score INTEGER CHECK (score >= 0),
        price NUMERIC(10, 2) DEFAULT 9.5,
        slug TEXT,
        body TEXT,
        CHECK (score IS NULL OR score < 1000)
    )""",
    "CREATE INDEX posts_author_id_index ON posts (author_id)",
    "CREATE INDEX posts_title_price ON posts (title, price)",
    "CREATE INDEX posts_slug_index ON posts (slug)",
    "CREATE TABLE audit (message TEXT)",
    "CREATE TRIGGER posts_audit AFTER INSERT ON posts "
    "BEGIN INSERT INTO audit VALUES ('post ' || new.id); END",
    "INSERT INTO authors (name) VALUES ('Ann'), ('Bob')",
    "INSERT INTO posts (author_id, title, published, score, slug, body) VALUES "
    "(1, 'Hello', 1, 3, 'hello', 'first'), (2, 'World', 0, NULL, 'world', 'second'), "
    "(2, 'Gone', 0, 1, 'gone', 'third')",
    "DELETE FROM posts WHERE id = 3",  # AUTOINCREMENT must not hand out 3 again
]


@pytest.fixture
def blog(db: Database) -> Database:
    for statement in BLOG:
        db.raw(statement)
    return db


def change_blog(ctx: MigrationContext) -> None:
    ctx.schema.drop_column("posts", "body")  # a plain column
    ctx.schema.drop_column("posts", "slug")  # an indexed column: its index goes first
    ctx.schema.rename_column("posts", "title", "headline")


def test_drop_and_rename_keep_indexes_foreign_keys_types_defaults_checks_and_rows(
    blog: Database, native: bool
) -> None:
    run(blog, change_blog)
    conn = blog.conn
    assert info(conn, "posts") == {
        "id": ("INTEGER", False, None),
        "author_id": ("INTEGER", True, None),
        "headline": ("VARCHAR(255)", True, "'untitled'"),
        "published": ("BOOLEAN", True, "0"),
        "score": ("INTEGER", False, None),
        # kept as declared by ALTER TABLE, spelled canonically by a rebuild
        "price": ("NUMERIC(10, 2)" if native else "NUMERIC(10,2)", False, "9.5"),
    }
    assert indexes(conn, "posts") == {
        "posts_author_id_index": (("author_id",), False),
        "posts_title_price": (("headline", "price"), False),
    }
    assert foreign_keys(conn, "posts") == [("author_id", "authors", "id", "CASCADE")]
    assert "AUTOINCREMENT" in sql_of(conn, "posts")
    assert blog.raw("SELECT * FROM posts ORDER BY id") == [
        {"id": 1, "author_id": 1, "headline": "Hello", "published": 1, "score": 3, "price": 9.5},
        {"id": 2, "author_id": 2, "headline": "World", "published": 0, "score": None, "price": 9.5},
    ]
    # The constraints still hold ...
    for bad in [
        "INSERT INTO posts (author_id, published) VALUES (1, 5)",  # column CHECK
        "INSERT INTO posts (author_id, score) VALUES (1, -1)",  # column CHECK
        "INSERT INTO posts (author_id, score) VALUES (1, 5000)",  # table CHECK
        "INSERT INTO posts (author_id) VALUES (99)",  # foreign key
        "INSERT INTO posts (author_id, headline) VALUES (1, NULL)",  # NOT NULL
    ]:
        with pytest.raises(sqlite3.IntegrityError):
            blog.raw(bad)
    # ... defaults, AUTOINCREMENT and the trigger still work ...
    blog.raw("INSERT INTO posts (author_id) VALUES (1)")
    assert blog.raw("SELECT id, headline, published FROM posts WHERE id > 2") == [
        {"id": 4, "headline": "untitled", "published": 0}
    ]
    assert blog.raw("SELECT message FROM audit") == [
        {"message": "post 1"},
        {"message": "post 2"},
        {"message": "post 3"},
        {"message": "post 4"},
    ]
    # ... and ON DELETE CASCADE too. The rebuild itself deleted no child rows.
    blog.raw("DELETE FROM authors WHERE id = 1")
    assert [r["id"] for r in blog.raw("SELECT id FROM posts ORDER BY id")] == [2]
    assert blog.raw("PRAGMA foreign_keys") == [{"foreign_keys": 1}]
    assert blog.raw("PRAGMA foreign_key_check") == []


def test_a_native_change_keeps_the_original_declaration(blog: Database) -> None:
    run(blog, lambda ctx: ctx.schema.drop_column("posts", "body"))
    # ALTER TABLE edits the stored CREATE TABLE text: the rest is exactly as it was written.
    assert "price NUMERIC(10, 2) DEFAULT 9.5" in sql_of(blog.conn, "posts")
    assert "body" not in sql_of(blog.conn, "posts")


def test_drop_an_indexed_column(blog: Database) -> None:
    run(blog, lambda ctx: ctx.schema.drop_column("posts", "slug"))
    assert "slug" not in info(blog.conn, "posts")
    assert "posts_slug_index" not in indexes(blog.conn, "posts")
    assert set(indexes(blog.conn, "posts")) == {"posts_author_id_index", "posts_title_price"}
    assert [r["body"] for r in blog.raw("SELECT body FROM posts ORDER BY id")] == [
        "first",
        "second",
    ]


def test_drop_a_column_of_a_multi_column_index_drops_that_index(
    blog: Database, native: bool
) -> None:
    run(blog, lambda ctx: ctx.schema.drop_column("posts", "price"))
    assert set(indexes(blog.conn, "posts")) == {"posts_author_id_index", "posts_slug_index"}
    assert "price" not in info(blog.conn, "posts")


def test_drop_a_foreign_key_column(blog: Database, native: bool) -> None:
    run(blog, lambda ctx: ctx.schema.drop_column("posts", "author_id"))
    assert foreign_keys(blog.conn, "posts") == []
    assert "posts_author_id_index" not in indexes(blog.conn, "posts")
    assert len(blog.raw("SELECT * FROM posts")) == 2


def test_rebuilding_a_parent_table_deletes_no_children(blog: Database, native: bool) -> None:
    blog.raw("CREATE INDEX authors_name ON authors (name)")
    blog.raw("ALTER TABLE authors ADD COLUMN bio TEXT")
    run(blog, lambda ctx: ctx.schema.drop_column("authors", "name"))  # indexed: a rebuild
    assert len(blog.raw("SELECT * FROM posts")) == 2  # ON DELETE CASCADE did not fire
    assert blog.raw("SELECT id, bio FROM authors ORDER BY id") == [
        {"id": 1, "bio": None},
        {"id": 2, "bio": None},
    ]


def test_rename_keeps_index_and_foreign_key_on_the_renamed_column(
    blog: Database, native: bool
) -> None:
    run(blog, lambda ctx: ctx.schema.rename_column("posts", "author_id", "writer_id"))
    # The index keeps working on the renamed column, and its default-convention name follows.
    assert "posts_author_id_index" not in indexes(blog.conn, "posts")
    assert indexes(blog.conn, "posts")["posts_writer_id_index"] == (("writer_id",), False)
    assert foreign_keys(blog.conn, "posts") == [("writer_id", "authors", "id", "CASCADE")]
    assert [r["writer_id"] for r in blog.raw("SELECT writer_id FROM posts ORDER BY id")] == [1, 2]


def test_rename_a_referenced_parent_column_natively(blog: Database) -> None:
    run(blog, lambda ctx: ctx.schema.rename_column("authors", "id", "author_key"))
    assert foreign_keys(blog.conn, "posts") == [("author_id", "authors", "author_key", "CASCADE")]
    assert blog.raw("PRAGMA foreign_key_check") == []


def test_rename_only_the_case_of_a_column(blog: Database, native: bool) -> None:
    run(blog, lambda ctx: ctx.schema.rename_column("posts", "title", "Title"))
    assert "Title" in info(blog.conn, "posts")
    assert indexes(blog.conn, "posts")["posts_title_price"] == (("Title", "price"), False)


@pytest.mark.parametrize(
    ("step", "match"),
    [
        (lambda ctx: ctx.schema.drop_column("nope", "x"), "table 'nope' does not exist"),
        (lambda ctx: ctx.schema.drop_column("posts", "id"), "part of the primary key"),
        (lambda ctx: ctx.schema.rename_column("posts", "nope", "x"), "has no column 'nope'"),
        (lambda ctx: ctx.schema.rename_column("posts", "title", "slug"), "has both columns"),
    ],
    ids=["drop-no-table", "drop-pk", "rename-missing", "rename-taken"],
)
def test_drop_and_rename_errors(blog: Database, step: Step, match: str) -> None:
    fail(blog, step, match)


def test_cannot_drop_the_only_column(db: Database) -> None:
    db.raw("CREATE TABLE single (x TEXT)")
    fail(db, lambda ctx: ctx.schema.drop_column("single", "x"), "only column")


def test_drop_a_column_a_trigger_uses_is_refused_not_broken(blog: Database) -> None:
    blog.raw(
        "CREATE TRIGGER posts_slug_audit AFTER UPDATE ON posts "
        "BEGIN INSERT INTO audit VALUES (new.slug); END"
    )
    error = fail(
        blog, lambda ctx: ctx.schema.drop_column("posts", "slug"), "trigger posts_slug_audit"
    )
    assert "no such column: new.slug" in str(error)
    assert "Drop it first" in str(error)
    # Still usable: the trigger was not left pointing at a missing column.
    blog.raw("UPDATE posts SET slug = 'x' WHERE id = 1")


def test_drop_a_column_a_view_uses_is_refused_not_broken(blog: Database) -> None:
    blog.raw("CREATE VIEW post_slugs AS SELECT id, slug FROM posts")
    fail(blog, lambda ctx: ctx.schema.drop_column("posts", "slug"), "view post_slugs")
    assert len(blog.raw("SELECT * FROM post_slugs")) == 2


def test_a_rebuilt_rename_of_a_column_a_trigger_uses_is_refused(
    blog: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    # With SQLite's RENAME COLUMN the trigger is rewritten (see the native case below); a
    # rebuild cannot rewrite it, so it refuses instead of leaving it broken.
    blog.raw(
        "CREATE TRIGGER posts_title_audit AFTER UPDATE ON posts "
        "BEGIN INSERT INTO audit VALUES (new.title); END"
    )
    with monkeypatch.context() as patch:
        patch.setattr(SQLiteExecutor, "version", OLD_SQLITE)
        fail(
            blog,
            lambda ctx: ctx.schema.rename_column("posts", "title", "headline"),
            "would break trigger posts_title_audit: no such column: new.title",
        )
    run(blog, lambda ctx: ctx.schema.rename_column("posts", "title", "headline"))
    assert 'new."headline"' in sql_of(blog.conn, "posts_title_audit")
    blog.raw("UPDATE posts SET headline = 'Changed' WHERE id = 1")
    assert blog.raw("SELECT message FROM audit WHERE message = 'Changed'") == [
        {"message": "Changed"}
    ]


@pytest.mark.parametrize(
    "trigger",
    [
        "CREATE TRIGGER authors_gone AFTER DELETE ON authors "
        "BEGIN UPDATE posts SET slug = NULL WHERE author_id = old.id; END",
        "CREATE TRIGGER posts_new BEFORE INSERT ON posts "
        "WHEN new.slug IS NULL BEGIN SELECT RAISE(ABORT, 'slug needed'); END",
    ],
    ids=["trigger-on-another-table", "insert-trigger-when-clause"],
)
def test_any_trigger_that_would_break_is_found(blog: Database, trigger: str) -> None:
    blog.raw(trigger)
    name = trigger.split()[2]
    fail(blog, lambda ctx: ctx.schema.drop_column("posts", "slug"), f"trigger {name}")


def test_a_view_that_was_already_broken_does_not_block_a_rebuild(blog: Database) -> None:
    blog.raw("CREATE VIEW stale AS SELECT missing_column FROM authors")
    run(blog, lambda ctx: ctx.schema.drop_column("posts", "slug"))
    assert "slug" not in info(blog.conn, "posts")


def test_dropping_the_trigger_first_lets_the_drop_go_through(blog: Database) -> None:
    blog.raw(
        "CREATE TRIGGER posts_slug_audit AFTER UPDATE ON posts "
        "BEGIN INSERT INTO audit VALUES (new.slug); END"
    )

    def step(ctx: MigrationContext) -> None:
        ctx.sql("DROP TRIGGER posts_slug_audit")
        ctx.schema.drop_column("posts", "slug")
        ctx.sql(
            "CREATE TRIGGER posts_title_audit AFTER UPDATE ON posts "
            "BEGIN INSERT INTO audit VALUES (new.title); END"
        )

    run(blog, step)
    blog.raw("UPDATE posts SET title = 'Changed' WHERE id = 1")
    assert blog.raw("SELECT message FROM audit WHERE message = 'Changed'") == [
        {"message": "Changed"}
    ]


def test_a_rebuild_keeps_unaffected_indexes_exactly_as_written(db: Database, native: bool) -> None:
    db.raw("CREATE TABLE t (id INTEGER PRIMARY KEY, email TEXT, a TEXT, b TEXT, c TEXT)")
    written = {
        "t_email": "CREATE UNIQUE INDEX t_email ON t (email COLLATE NOCASE)",
        "t_lower_a": "CREATE INDEX t_lower_a ON t (lower(a))",
        "t_lower_c": "CREATE UNIQUE INDEX t_lower_c ON t (lower(c))",
        "t_c_desc": "CREATE INDEX t_c_desc ON t (c DESC)",
        "t_a_partial": "CREATE INDEX t_a_partial ON t (a) WHERE a IS NOT NULL",
        "t_b": "CREATE INDEX t_b ON t (b)",
    }
    for statement in written.values():
        db.raw(statement)
    db.raw("INSERT INTO t (email, a, b, c) VALUES ('Ann@x', 'A', 'B', 'C')")
    run(db, lambda ctx: ctx.schema.drop_column("t", "b"))  # b is indexed: a rebuild
    del written["t_b"]
    for name, statement in written.items():
        assert sql_of(db.conn, name) == statement
    with pytest.raises(sqlite3.IntegrityError):  # still unique without regard to case
        db.raw("INSERT INTO t (email) VALUES ('ann@X')")


@pytest.mark.parametrize(
    ("create", "lost"),
    [
        (
            "CREATE TABLE t (id INTEGER PRIMARY KEY, a TEXT, b TEXT, UNIQUE (a COLLATE NOCASE))",
            "COLLATE",
        ),
        ("CREATE TABLE t (id INTEGER PRIMARY KEY, a TEXT, b TEXT) STRICT", "STRICT"),
        ("CREATE TABLE t (id INTEGER PRIMARY KEY, a TEXT, b TEXT) WITHOUT ROWID", "WITHOUT ROWID"),
        (
            "CREATE TABLE t (id INTEGER PRIMARY KEY, a TEXT, b TEXT, "
            "n INTEGER GENERATED ALWAYS AS (length(a)))",
            "generated columns",
        ),
    ],
    ids=["collate", "strict", "without-rowid", "generated"],
)
def test_a_rebuild_that_would_lose_something_is_refused(
    db: Database, create: str, lost: str
) -> None:
    db.raw(create)
    db.raw("CREATE INDEX t_b ON t (b)")
    db.raw("INSERT INTO t (id, a, b) VALUES (1, 'x', 'y')")
    # Changing a column always rebuilds the table (dropping b would not: its index goes first)
    alter = {"type": "VARCHAR(9)"}
    error = fail(db, lambda ctx: ctx.schema.alter_column("t", "b", alter), "would lose")
    assert lost in str(error)
    assert db.raw("SELECT b FROM t") == [{"b": "y"}]


def test_rebuild_uses_declared_types_where_sqlite_utils_transform_would_not(
    blog: Database,
) -> None:
    """Why rebuilds are ours: sqlite-utils' transform re-declares columns from their affinity
    and drops triggers; our rebuild keeps both."""
    copy = sqlite_utils.Database(memory=True)
    for statement in BLOG:
        copy.execute(statement)
    copy["posts"].transform(drop={"body"})  # type: ignore[union-attr]
    transformed = {c.name: c.type for c in copy["posts"].columns}
    assert transformed["title"] == "TEXT" and transformed["published"] == "REAL"
    assert (
        copy.execute("SELECT count(*) FROM sqlite_master WHERE type = 'trigger'").fetchone()[0] == 0
    )

    run(blog, lambda ctx: ctx.schema.drop_column("posts", "body"))
    ours = info(blog.conn, "posts")
    assert ours["title"][0] == "VARCHAR(255)" and ours["published"][0] == "BOOLEAN"
    assert sql_of(blog.conn, "posts_audit").startswith("CREATE TRIGGER posts_audit")


# -- indexes ----------------------------------------------------------------------------------


def test_add_index_names_and_options(blog: Database) -> None:
    names: list[str] = []

    def step(ctx: MigrationContext) -> None:
        names.append(ctx.schema.add_index("posts", ["published", "score"]))
        names.append(ctx.schema.add_index("posts", "body", unique=True))
        names.append(ctx.schema.add_index("posts", ("title",), name="by_title"))

    run(blog, step)
    assert names == ["posts_published_score_index", "posts_body_index", "by_title"]
    found = indexes(blog.conn, "posts")
    assert found["posts_published_score_index"] == (("published", "score"), False)
    assert found["posts_body_index"] == (("body",), True)
    assert found["by_title"] == (("title",), False)


def test_add_and_drop_index_errors(blog: Database) -> None:
    fail(blog, lambda ctx: ctx.schema.add_index("posts", ["nope"]), r"no column\(s\) \['nope'\]")
    fail(blog, lambda ctx: ctx.schema.add_index("nope", ["x"]), "does not exist")
    # An index of another table is not this table's.
    fail(
        blog,
        lambda ctx: ctx.schema.drop_index("authors", "posts_slug_index"),
        "index 'posts_slug_index' belongs to table 'posts', not 'authors'",
    )
    fail(
        blog,
        lambda ctx: ctx.schema.add_index("posts", "title", name="posts_slug_index"),
        "already has an index 'posts_slug_index' on other columns",
    )


def test_drop_index(blog: Database) -> None:
    run(blog, lambda ctx: ctx.schema.drop_index("posts", "posts_slug_index"))
    assert "posts_slug_index" not in indexes(blog.conn, "posts")


def test_rename_column_renames_indexes_named_by_the_default_convention() -> None:
    class Before(Table, table="renamed_idx"):
        id: int | None = Field(default=None, primary_key=True)
        name: str = Field(default="", index=True)

    class Coded(Table, table="renamed_idx"):
        id: int | None = Field(default=None, primary_key=True)
        name: str = Field(default="", index=True)
        code: str | None = Field(default=None, unique=True)

    class After(Table, table="renamed_idx"):
        id: int | None = Field(default=None, primary_key=True)
        full_name: str = Field(default="", index=True)
        token: str | None = Field(default=None, unique=True)

    db = database(schemas=[Before], connection=":memory:", sync_schemas=True)
    db.table(Before).insert({"name": "Ann"})
    # Adding a UNIQUE column to a table with rows creates the index renamed_idx_code_unique.
    database(schemas=[Coded], connection=db.conn, sync_schemas=True)
    db.conn.execute('CREATE INDEX "custom_name" ON "renamed_idx" ("name")')

    def up(ctx: MigrationContext) -> None:
        ctx.schema.rename_column("renamed_idx", "name", "full_name")
        ctx.schema.rename_column("renamed_idx", "code", "token")

    after = database(
        schemas=[After],
        connection=db.conn,
        migrations=[migration("ren", up=up)],
        run_migrations=True,
    )
    indexes = {i.name: (i.columns, i.unique) for i in after.sqlite["renamed_idx"].indexes}
    assert indexes == {
        "renamed_idx_full_name_index": (["full_name"], 0),
        "renamed_idx_token_unique": (["token"], 1),
        "custom_name": (["full_name"], 0),  # a name of the user's own is left alone
    }
    # The plan sees only the extra user index, not a missing default-named one.
    assert [op.kind for op in after.plan().operations] == ["drop_index"]
    with pytest.raises(Exception, match="UNIQUE"):
        after.conn.execute("INSERT INTO renamed_idx (full_name, token) VALUES ('a', 't')")
        after.conn.execute("INSERT INTO renamed_idx (full_name, token) VALUES ('b', 't')")


class _Filled(Table, table="filled"):
    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(default="", index=True)


class _FilledV2(Table, table="filled"):
    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(default="", index=True)
    country: str
    code: str = Field(unique=True)


def test_add_column_with_fill_adds_a_not_null_column_to_a_table_with_rows() -> None:
    db = database(schemas=[_Filled], connection=":memory:", sync_schemas=True)
    db.table(_Filled).insert_many([{"name": "a"}, {"name": "b"}])

    def up(ctx: MigrationContext) -> None:
        ctx.schema.add_column("filled", "country", (str, Field()), fill="NL")
        # A value per row: add it nullable, fill it in, then give it its final definition.
        ctx.schema.add_column("filled", "code", (str | None, Field(default=None)))
        ctx.sql("UPDATE filled SET code = 'c' || id")
        ctx.schema.alter_column("filled", "code", (str, Field(unique=True)))

    v2 = database(schemas=[_FilledV2], connection=db.conn, migrations=[migration("fill", up=up)])
    assert v2.migrate_up() == ["fill"]
    assert v2.raw("SELECT name, country, code FROM filled ORDER BY id") == [
        {"name": "a", "country": "NL", "code": "c1"},
        {"name": "b", "country": "NL", "code": "c2"},
    ]
    assert v2.plan().in_sync  # the result is exactly what the model declares
    with pytest.raises(RowError):
        v2.table(_FilledV2).insert({"name": "c", "country": "SE", "code": "c1"})


def test_alter_column_refuses_rows_that_do_not_fit_and_changes_nothing() -> None:
    db = database(schemas=[_Filled], connection=":memory:", sync_schemas=True)
    db.raw("ALTER TABLE filled ADD COLUMN note TEXT")
    db.raw("INSERT INTO filled (name, note) VALUES ('a', 'x'), ('b', NULL)")
    before = db.raw("SELECT sql FROM sqlite_master ORDER BY name")

    def up(ctx: MigrationContext) -> None:
        ctx.schema.alter_column("filled", "note", {"type": "text", "not_null": True})

    db.migrations = [migration("tighten", up=up)]
    with pytest.raises(MigrationError, match=r"tighten.*NOT NULL"):
        db.migrate_up()
    assert db.raw("SELECT sql FROM sqlite_master ORDER BY name") == before
    assert db.raw("SELECT name, note FROM filled ORDER BY id") == [
        {"name": "a", "note": "x"},
        {"name": "b", "note": None},
    ]
    # Once the rows fit, the same change goes through and keeps the index and the rows.
    db.raw("UPDATE filled SET note = '' WHERE note IS NULL")
    assert db.migrate_up() == ["tighten"]
    assert db.sqlite["filled"].columns_dict["note"] is str
    assert [c.notnull for c in db.sqlite["filled"].columns if c.name == "note"] == [1]
    assert {i.name for i in db.sqlite["filled"].indexes} == {"filled_name_index"}


def test_alter_column_can_drop_a_unique_rule_and_change_a_type() -> None:
    db = database(schemas=[_Filled], connection=":memory:", sync_schemas=True)
    db.table(_Filled).insert({"name": "a"})

    def up(ctx: MigrationContext) -> None:
        ctx.schema.add_column("filled", "code", {"type": "integer", "unique": True})
        ctx.sql("UPDATE filled SET code = 7")
        ctx.schema.alter_column("filled", "code", {"type": "text"})

    db.migrations = [migration("loosen", up=up)]
    assert db.migrate_up() == ["loosen"]
    assert db.raw("SELECT code, typeof(code) AS t FROM filled") == [{"code": "7", "t": "text"}]
    db.raw("INSERT INTO filled (name, code) VALUES ('b', '7')")  # no longer unique


def test_fill_left_as_the_generated_placeholder_is_a_clear_error() -> None:
    db = database(schemas=[_Filled], connection=":memory:", sync_schemas=True)
    db.table(_Filled).insert({"name": "a"})
    step = migration(
        "forgot", up=lambda ctx: ctx.schema.add_column("filled", "x", (int, Field()), fill=...)
    )
    db.migrations = [step]
    with pytest.raises(MigrationError, match=r"replace fill=\.\.\."):
        db.migrate_up()


def test_add_column_by_rebuild_never_drops_strict_or_collate() -> None:
    strict_table = (
        "CREATE TABLE tags (id INTEGER PRIMARY KEY, label TEXT COLLATE NOCASE NOT NULL) STRICT"
    )
    add_slug = migration(
        "add_slug",
        up=lambda ctx: ctx.schema.add_column("tags", "slug", {"type": "text", "notNull": True}),
    )
    with database(schemas=[], connection=":memory:", migrations=[add_slug]) as db:
        db.raw(strict_table)
        with pytest.raises(MigrationError, match="would lose its STRICT"):
            db.migrate_up()
        assert db.raw("SELECT sql FROM sqlite_master WHERE name = 'tags'") == [
            {"sql": strict_table}
        ]


@pytest.mark.parametrize(
    "index_sql",
    [
        "CREATE INDEX people_lower_email ON people (lower(email))",
        'CREATE INDEX people_named ON people (name) WHERE "email" IS NOT NULL',
    ],
)
def test_drop_column_drops_expression_and_partial_indexes_that_use_it(index_sql: str) -> None:
    drop_email = migration("drop_email", up=lambda ctx: ctx.schema.drop_column("people", "email"))
    with database(schemas=[], connection=":memory:", migrations=[drop_email]) as db:
        db.raw("CREATE TABLE people (id INTEGER PRIMARY KEY, name TEXT, email TEXT)")
        db.raw("CREATE INDEX people_name ON people (name)")
        db.raw(index_sql)
        db.raw("INSERT INTO people (name, email) VALUES ('Ann', 'ann@example.com')")
        assert db.migrate_up() == ["drop_email"]
        assert [c["name"] for c in db.raw("PRAGMA table_info(people)")] == ["id", "name"]
        assert [i["name"] for i in db.raw("PRAGMA index_list(people)")] == ["people_name"]
        assert db.raw("SELECT name FROM people") == [{"name": "Ann"}]


def test_drop_column_refuses_to_lose_a_multi_column_unique_constraint() -> None:
    class Pair(Table, table="pairs"):
        id: int | None = Field(default=None, primary_key=True)

    db = database(schemas=[Pair], connection=":memory:")
    db.raw("CREATE TABLE pairs (id INTEGER PRIMARY KEY, a TEXT, b TEXT, c TEXT, UNIQUE (a, b))")
    db.raw("INSERT INTO pairs (a, b, c) VALUES ('x', 'y', 'z')")
    before = db.raw("SELECT sql FROM sqlite_master WHERE name = 'pairs'")
    db.migrations = [migration("drop_b", up=lambda ctx: ctx.schema.drop_column("pairs", "b"))]
    with pytest.raises(MigrationError, match=r"UNIQUE \(a, b\)"):
        db.migrate_up()
    assert db.raw("SELECT sql FROM sqlite_master WHERE name = 'pairs'") == before
    assert db.raw("SELECT a, b, c FROM pairs") == [{"a": "x", "b": "y", "c": "z"}]
