"""Golden tests for ``render_migration``: a plan in, the exact text of a migration file out.

Each case is a small set of models and the SQL a database starts from. The test creates that
database in memory, makes its plan (``database(schemas=..., connection=conn).plan()``),
renders it with ``render_migration(case, plan)`` and compares the text with
``tests/golden/<case>.py``, byte for byte: any difference fails the test and is printed as a
unified diff.

After an intended change to the renderer, rewrite the golden files with::

    HEDYSTIA_UPDATE_GOLDEN=1 python -m pytest tests/test_render.py

and review the change with ``git diff tests/golden`` before committing it.

Every golden file must also compile, and run against its starting database: as generated
(``up`` then ``down``, through ``load_migrations`` and ``database(..., migrations=dir)``), and,
where it holds commented-out operations, once more with them uncommented as the file tells
its reader to, both ways. ``down`` must leave the database as it started: tables, stored index
and trigger SQL, rows.
"""

from __future__ import annotations

import difflib
import os
import re
import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from hedystia_models import Database, Field, Table, database
from hedystia_models.engine.sqlite.introspect import INTERNAL_TABLES, read_database
from hedystia_models.migrate.migrations import load_migrations
from hedystia_models.migrate.render import WIDTH, render_migration
from hedystia_models.schema.quoting import quote_identifier
from hedystia_models.schema.spec import TableSpec
from hedystia_models.schema.sqltext import same_statement

GOLDEN = Path(__file__).parent / "golden"
UPDATE = os.environ.get("HEDYSTIA_UPDATE_GOLDEN") == "1"

USERS_SQL = "CREATE TABLE users (id INTEGER PRIMARY KEY, name TEXT NOT NULL DEFAULT ''"


class User(Table, table="users"):
    id: int | None = Field(default=None, primary_key=True)
    name: str = ""
    nickname: str | None = None


class UserWithSlug(Table, table="users"):
    id: int | None = Field(default=None, primary_key=True)
    name: str = ""
    nickname: str | None = None
    slug: str


class UserByName(Table, table="users"):
    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(default="", index=True)
    nickname: str | None = None


class Author(Table, table="authors"):
    id: int | None = Field(default=None, primary_key=True, auto_increment=True)
    email: str = Field(unique=True)
    name: str = Field(default="", index=True)


class Post(Table, table="posts"):
    id: int | None = Field(default=None, primary_key=True)
    author_id: int = Field(references=Author, on_delete="cascade")
    title: str


@dataclass(frozen=True)
class Case:
    """Models and starting SQL in, ``tests/golden/<name>.py`` out.

    ``contains`` are lines the file must hold (what the case is about, asserted beside the
    golden text); ``uncomment`` are the commented-out calls to uncomment for the second run
    (none: the case only runs as generated); ``fill`` replaces ``fill=...`` in that run.
    ``verbatim``: once uncommented, ``down`` must give back the stored SQL of indexes and
    triggers word for word (otherwise: the same statements, however spelled).
    """

    name: str
    models: tuple[type[Table], ...]
    start: str
    contains: tuple[str, ...]
    uncomment: tuple[str, ...] = ()
    fill: str | None = None
    verbatim: bool = False


CASES = [
    Case(
        "new_table",
        (Post, Author),  # authors is referenced by posts: created first, dropped last
        "",
        contains=(
            "    ctx.schema.create_table(",
            "    ctx.schema.drop_table('posts')",
            "    ctx.schema.drop_table('authors')",
        ),
    ),
    Case(
        "added_nullable_column",
        (User,),
        f"{USERS_SQL});\nINSERT INTO users (name) VALUES ('Ann');",
        contains=(
            "    ctx.schema.add_column("
            "'users', 'nickname', ColumnSpec(name='nickname', type='TEXT'))",
            "    ctx.schema.drop_column('users', 'nickname')",
        ),
    ),
    Case(
        "blocked_not_null_column",
        (UserWithSlug,),
        f"{USERS_SQL}, nickname TEXT);\nINSERT INTO users (name) VALUES ('Ann');",
        contains=(
            "    # BLOCKED: cannot add column 'slug' to table 'users', which has rows: it is "
            "NOT NULL",
            "    # To add it, uncomment this and replace ... with the value existing rows get:",
            "    #     fill=...,",
        ),
        uncomment=("ctx.schema.add_column", "ctx.schema.drop_column"),
        fill="'ann'",
    ),
    Case(
        "unsafe_drop_column",
        (User,),
        # nick holds no value, so that down, which can only add it back empty, restores it
        f"{USERS_SQL}, nick TEXT);\nINSERT INTO users (name) VALUES ('Ann');",
        contains=(
            "    # UNSAFE: the column exists in the database but not in the model",
            "    # ctx.schema.drop_column('users', 'nick')",
            "    # If users.nick was renamed to nickname, keep its data: instead of this drop "
            "and the",
            "    # ctx.schema.rename_column('users', 'nick', 'nickname')",
        ),
        uncomment=("ctx.schema.drop_column", "ctx.schema.add_column"),
    ),
    Case(
        "altered_column",
        (User,),
        f"{USERS_SQL}, nickname TEXT NOT NULL DEFAULT '');\n"
        "INSERT INTO users (name, nickname) VALUES ('Ann', 'a');",
        contains=(
            "    # UNSAFE: alter column users.nickname: NOT NULL -> NULL",
            "    # ctx.schema.alter_column(",
            "    # undo of: alter column users.nickname: NOT NULL -> NULL",
        ),
        uncomment=("ctx.schema.alter_column",),
    ),
    Case(
        "dropped_index_desc",
        (User,),
        f"{USERS_SQL}, nickname TEXT);\nCREATE INDEX users_name_desc ON users (name DESC);",
        contains=(
            "    # ctx.schema.drop_index('users', 'users_name_desc')",
            # the undo re-creates the index from its stored SQL, word for word
            "    # ctx.sql('CREATE INDEX users_name_desc ON users (name DESC)')",
        ),
        uncomment=("ctx.schema.drop_index", "ctx.sql"),
        verbatim=True,
    ),
    Case(
        "dropped_table_with_expression_index_and_trigger",
        (User,),
        f"{USERS_SQL}, nickname TEXT);\n"
        "CREATE TABLE audit (id INTEGER PRIMARY KEY, what TEXT NOT NULL, at TEXT);\n"
        "CREATE INDEX audit_lower_what ON audit (lower(what));\n"
        "CREATE TRIGGER audit_stamp AFTER INSERT ON audit BEGIN\n"
        "  UPDATE audit SET at = 'now' WHERE id = NEW.id;\n"
        "END;",
        contains=(
            "    # ctx.schema.drop_table('audit')",
            "    # ctx.sql('CREATE INDEX audit_lower_what ON audit (lower(what))')",
            # the trigger, verbatim, as string literals that fit in the width
            "    # ctx.sql(",
            "    #     'CREATE TRIGGER audit_stamp AFTER INSERT ON audit BEGIN\\n  "
            "UPDATE audit SET '",
            "    #     \"at = 'now' WHERE id = NEW.id;\\nEND\"",
            "    # )",
        ),
        uncomment=("ctx.schema.drop_table", "ctx.schema.create_table", "ctx.sql"),
        verbatim=True,
    ),
    Case(
        "altered_index",
        (UserByName,),
        f"{USERS_SQL}, nickname TEXT);\nCREATE INDEX users_name_index ON users (nickname, name);",
        contains=(
            "    # UNSAFE: an index with this name exists with other columns or uniqueness",
            "    # ctx.schema.drop_index('users', 'users_name_index')",
            "    # ctx.schema.add_index('users', ['name'], name='users_name_index')",
            "    # ctx.schema.add_index('users', ['nickname', 'name'], name='users_name_index')",
        ),
        uncomment=("ctx.schema.drop_index", "ctx.schema.add_index"),
    ),
    Case(
        "alter_table_comment",
        (User,),
        f"{USERS_SQL}, nickname TEXT, CHECK (length(name) < 100));",
        contains=(
            "    # UNSAFE: alter table users: table CHECK constraints differ",
            "    # SQLite cannot alter this in place: rebuild the table with ctx.sql(...) or",
        ),
    ),
]

IDS = [case.name for case in CASES]


@pytest.fixture(params=CASES, ids=IDS)
def case(request: pytest.FixtureRequest) -> Case:
    value: Case = request.param
    return value


def connect(case: Case) -> sqlite3.Connection:
    conn = sqlite3.connect(":memory:")
    conn.executescript(case.start)
    return conn


@pytest.fixture
def conn(case: Case) -> Iterator[sqlite3.Connection]:
    connection = connect(case)
    yield connection
    connection.close()


def render(case: Case) -> str:
    """The migration ``render_migration`` writes for the case's plan."""
    connection = connect(case)
    try:
        with database(schemas=list(case.models), connection=connection) as db:
            return render_migration(case.name, db.plan())
    finally:
        connection.close()


def golden(case: Case) -> str:
    return (GOLDEN / f"{case.name}.py").read_text(encoding="utf-8")


# -- the golden text --------------------------------------------------------------------------


def test_the_rendered_migration_is_the_golden_file(case: Case) -> None:
    path = GOLDEN / f"{case.name}.py"
    text = render(case)
    if UPDATE:
        path.write_text(text, encoding="utf-8")
        return
    if not path.exists():
        pytest.fail(f"{path} is missing; run with HEDYSTIA_UPDATE_GOLDEN=1 to write it")
    expected = path.read_text(encoding="utf-8")
    if text != expected:
        diff = difflib.unified_diff(
            expected.splitlines(keepends=True),
            text.splitlines(keepends=True),
            fromfile=f"tests/golden/{case.name}.py (expected)",
            tofile="render_migration (got)",
        )
        pytest.fail(
            "render_migration differs from the golden file (HEDYSTIA_UPDATE_GOLDEN=1 rewrites "
            "it):\n" + "".join(diff),
            pytrace=False,
        )


def test_every_golden_file_belongs_to_a_case() -> None:
    assert sorted(p.stem for p in GOLDEN.glob("*.py") if p.stem != "conftest") == sorted(IDS)


def test_the_golden_file_holds_what_the_case_is_about(case: Case) -> None:
    lines = golden(case).splitlines()
    for expected in case.contains:
        assert expected in lines, (case.name, expected)


def test_the_golden_file_is_python(case: Case) -> None:
    text = golden(case)
    code = compile(text, f"{case.name}.py", "exec")
    assert {"up", "down", "migration_"} <= set(code.co_names)
    # the last statement binds the migration, wrapped when the name makes it too wide
    last = (
        rf"migration_ = migration\(\s*{re.escape(repr(case.name))},\s*up=up,\s*down=down,?\s*\)\n$"
    )
    assert re.search(last, text)


@pytest.mark.parametrize(
    "case",
    [pytest.param(c, id=c.name) for c in CASES],
)
def test_the_golden_file_fits_in_the_width(case: Case) -> None:
    long = [line for line in golden(case).splitlines() if len(line) > WIDTH]
    assert long == []


# -- running it -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Snapshot:
    """What ``down`` must give back: table specs, the stored SQL of indexes and triggers
    ((type, name, table, sql), by name) and every row."""

    tables: dict[str, TableSpec]
    stored: list[tuple[str, str, str, str]]
    rows: dict[str, list[dict[str, Any]]]

    @classmethod
    def of(cls, db: Database) -> Snapshot:
        state = read_database(db.sqlite)
        internal = ", ".join(f"'{name}'" for name in sorted(INTERNAL_TABLES))
        stored = db.sqlite.execute(
            "SELECT type, name, tbl_name, sql FROM sqlite_master "
            "WHERE type IN ('index', 'trigger') AND sql IS NOT NULL "
            f"AND tbl_name NOT IN ({internal}) ORDER BY name"
        ).fetchall()
        rows = {
            name: db.raw(f"SELECT * FROM {quote_identifier(name)} ORDER BY rowid")
            for name in state.tables
        }
        return cls(dict(state.tables), stored, rows)

    def same_as(self, other: Snapshot, *, verbatim: bool) -> bool:
        """Equal, the stored SQL word for word when ``verbatim``, else the same statements."""
        if (self.tables, self.rows) != (other.tables, other.rows):
            return False
        if verbatim:
            return self.stored == other.stored
        return len(self.stored) == len(other.stored) and all(
            a[:3] == b[:3] and same_statement(a[3], b[3])
            for a, b in zip(self.stored, other.stored, strict=True)
        )


def uncommented(source: str, calls: tuple[str, ...], fill: str | None) -> str:
    """``source`` with every commented-out call starting with one of ``calls`` uncommented
    (all its lines), and ``fill=...`` replaced by ``fill``."""
    lines = source.splitlines()
    found = 0
    i = 0
    while i < len(lines):
        if any(lines[i].startswith(f"    # {call}") for call in calls):
            found += 1
            depth = 0
            while True:
                lines[i] = lines[i].replace("    # ", "    ", 1)
                depth += lines[i].count("(") - lines[i].count(")")
                if depth <= 0:
                    break
                i += 1
        i += 1
    assert found, (calls, source)
    text = "\n".join(lines) + "\n"
    if fill is not None:
        assert "fill=..." in text
        text = text.replace("fill=...", f"fill={fill}")
    return text


def run_both_ways(
    case: Case,
    source: str,
    directory: Path,
    conn: sqlite3.Connection,
    *,
    in_sync: bool,
    verbatim: bool = True,
) -> None:
    """Apply ``source`` as the only migration, check what is left to do, roll it back and
    check the database is as it started (its stored SQL word for word when ``verbatim``)."""
    directory.mkdir()
    (directory / f"0001_{case.name}.py").write_text(source, encoding="utf-8")
    assert [m.name for m in load_migrations(directory)] == [case.name]
    with database(schemas=list(case.models), connection=conn, migrations=directory) as db:
        before = Snapshot.of(db)
        plan = db.plan()
        assert db.migrate_up() == [case.name]
        left = [op.describe() for op in db.plan()]
        if in_sync:
            assert left == []
        else:
            assert left == [op.describe() for op in plan if not op.safe]
        assert db.migrate_down() == [case.name]
        after = Snapshot.of(db)
        assert after.same_as(before, verbatim=verbatim), (after, before)
        assert db.migration_status().pending == [case.name]


def test_the_golden_file_runs_both_ways_as_generated(
    case: Case, conn: sqlite3.Connection, tmp_path: Path
) -> None:
    run_both_ways(case, golden(case), tmp_path / "migrations", conn, in_sync=False)


@pytest.mark.parametrize("case", [c for c in CASES if c.uncomment], ids=lambda c: c.name)
def test_the_golden_file_runs_both_ways_once_uncommented(
    case: Case, conn: sqlite3.Connection, tmp_path: Path
) -> None:
    source = uncommented(golden(case), case.uncomment, case.fill)
    assert not re.search(r"^    # ctx\.(schema\.(?!rename_column)|sql)", source, re.M), source
    run_both_ways(case, source, tmp_path / "migrations", conn, in_sync=True, verbatim=case.verbatim)
