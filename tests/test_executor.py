"""The SQLite executor: one path from an operation to SQL, for sync and migrations alike.

For each operation kind, what the executor compiles (native ``ALTER TABLE`` or a rebuild,
decided from the live schema and the SQLite version, never by trial), what the one rebuild
keeps verbatim, what it refuses and why; and that sync, ``ctx.schema`` and the plan's printed
SQL are the same statements.
"""

from __future__ import annotations

import json
import sqlite3
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import sqlite_utils
from click.testing import CliRunner

from hedystia_models import (
    ColumnSpec,
    Database,
    Field,
    IndexSpec,
    Reference,
    Table,
    TableSpec,
    database,
    migration,
)
from hedystia_models.cli import main
from hedystia_models.engine.sqlite import introspect
from hedystia_models.engine.sqlite.executor import SQLiteExecutor
from hedystia_models.errors import MigrationError, OperationError
from hedystia_models.migrate.context import MigrationContext
from hedystia_models.migrate.operations import (
    AddColumn,
    AlterColumn,
    AlterIndex,
    AlterTable,
    CreateIndex,
    CreateTable,
    DropColumn,
    DropIndex,
    DropTable,
    Operation,
    RenameColumn,
)
from hedystia_models.migrate.plan import Plan, PlannedOperation
from hedystia_models.migrate.planner import compile_plan
from hedystia_models.schema.spec import CheckSpec, IndexExpression

OLD_SQLITE = (3, 24, 0)  # before RENAME COLUMN (3.25) and DROP COLUMN (3.35)


class Recording:
    """A connection that records every statement the executor hands it."""

    def __init__(self, conn: sqlite3.Connection) -> None:
        self.conn = conn
        self.statements: list[str] = []

    def execute(self, sql: str, *args: Any) -> sqlite3.Cursor:
        self.statements.append(sql)
        return self.conn.execute(sql, *args)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.conn, name)


def recorded(db: Database) -> Recording:
    recording = Recording(db.conn)
    db.executor.conn = recording  # type: ignore[assignment]
    return recording


def schema_of(conn: sqlite3.Connection) -> list[tuple[str, str, str]]:
    return conn.execute(
        "SELECT type, name, sql FROM sqlite_master WHERE sql IS NOT NULL "
        "AND name NOT LIKE '__hedystia%' ORDER BY type, name"
    ).fetchall()


def compile_on(conn: sqlite3.Connection, op: Operation) -> Any:
    db = sqlite_utils.Database(conn)
    state = introspect.read_database(db)
    return SQLiteExecutor(db).compile(op, state.table(op.table), state)


def make(*statements: str) -> sqlite3.Connection:
    conn = sqlite3.connect(":memory:")
    for statement in statements:
        conn.execute(statement)
    conn.commit()
    return conn


# -- the three findings of the issue ----------------------------------------------------------


class Person(Table, table="t"):
    id: int | None = Field(default=None, primary_key=True)
    email: str = ""


class PersonWithCode(Table, table="t"):
    id: int | None = Field(default=None, primary_key=True)
    email: str = ""
    code: str  # NOT NULL without a default: an empty table is rebuilt


def test_an_expression_index_survives_the_sync_rebuild_verbatim() -> None:
    conn = make(
        'CREATE TABLE t ("id" INTEGER PRIMARY KEY, "email" TEXT NOT NULL DEFAULT \'\')',
        "CREATE INDEX t_lower ON t (lower(email))",
    )
    db = database(schemas=[PersonWithCode], connection=conn)
    plan = db.plan()
    sql = plan.sql()  # raised TypeError before: IndexSpec.columns held None
    assert sql[0].startswith('CREATE TABLE "_hedystia_new_t"')
    assert "CREATE INDEX t_lower ON t (lower(email))" in sql
    db.sync()
    assert conn.execute("SELECT sql FROM sqlite_master WHERE name = 't_lower'").fetchone() == (
        "CREATE INDEX t_lower ON t (lower(email))",
    )
    state = introspect.read_database(db.sqlite)
    table = state.table("t")
    assert table is not None
    assert table.indexes[0].columns == (IndexExpression("lower(email)"),)
    assert db.plan().unsafe[0].kind == "drop_index"  # the model does not declare it


@pytest.mark.parametrize(
    "index",
    [
        "CREATE INDEX t_email_desc ON t (email DESC)",
        "CREATE INDEX t_email_nocase ON t (email COLLATE NOCASE)",
        "CREATE UNIQUE INDEX t_email_partial ON t (email) WHERE email <> ''",
        "CREATE INDEX   t_spaced   ON t(\n  email  )",
    ],
    ids=["desc", "collate", "partial", "spacing"],
)
def test_sync_rebuild_keeps_every_index_as_the_database_stored_it(index: str) -> None:
    conn = make(
        'CREATE TABLE t ("id" INTEGER PRIMARY KEY, "email" TEXT NOT NULL DEFAULT \'\')', index
    )
    name = index.split()[3 if "UNIQUE" in index else 2]
    query = "SELECT sql FROM sqlite_master WHERE name = ?"
    (stored,) = conn.execute(query, (name,)).fetchone()
    db = database(schemas=[PersonWithCode], connection=conn)
    assert db.plan().safe[0].rebuild
    db.sync()
    assert conn.execute(query, (name,)).fetchone() == (stored,)  # DESC was lost before


def test_dry_run_shows_what_dropping_an_indexed_column_runs(tmp_path: Path) -> None:
    path = tmp_path / "u.db"
    conn = sqlite3.connect(path)
    conn.execute('CREATE TABLE u ("id" INTEGER PRIMARY KEY, "legacy" TEXT)')
    conn.execute('CREATE INDEX "u_legacy_index" ON u (legacy)')
    conn.commit()
    conn.close()
    (tmp_path / "models.py").write_text(
        "from hedystia_models import Field, Table\n\n"
        "class U(Table, table='u'):\n"
        "    id: int | None = Field(default=None, primary_key=True)\n"
    )
    sys.path.insert(0, str(tmp_path))
    try:
        result = CliRunner().invoke(
            main,
            ["--schemas", "models", "--connection", str(path), "sync", "--dry-run", "--json"],
        )
    finally:
        sys.path.remove(str(tmp_path))
        sys.modules.pop("models", None)
    assert result.exit_code == 0, result.output
    (drop,) = [o for o in json.loads(result.stdout)["operations"] if o["kind"] == "drop_column"]
    # SQLite refuses ALTER TABLE .. DROP COLUMN on an indexed column: its index goes first.
    assert drop["sql"] == ['DROP INDEX "u_legacy_index"', 'ALTER TABLE "u" DROP COLUMN "legacy"']

    # A migration making the change runs exactly those statements.
    step = migration("drop_legacy", up=lambda ctx: ctx.schema.drop_column("u", "legacy"))
    with database(schemas=[], connection=path, migrations=[step]) as db:
        recording = recorded(db)
        db.migrate_up()
    assert recording.statements == drop["sql"]


# -- both routes, one executor ----------------------------------------------------------------


START = [
    'CREATE TABLE t ("id" INTEGER PRIMARY KEY, "email" TEXT NOT NULL DEFAULT \'\')',
    "CREATE INDEX t_email_desc ON t (email DESC)",
    "CREATE INDEX t_lower ON t (lower(email))",
    "CREATE TRIGGER t_touch AFTER UPDATE ON t BEGIN SELECT 1; END",
]


def _sync_route(path: Path) -> list[str]:
    with database(schemas=[PersonWithCode], connection=path) as db:
        recording = recorded(db)
        planned = db.plan().sql()
        db.sync()
    assert recording.statements == planned  # the plan printed exactly what ran
    return recording.statements


def _migration_route(path: Path) -> list[str]:
    def up(ctx: MigrationContext) -> None:
        ctx.schema.add_column("t", "code", {"type": "TEXT", "not_null": True})

    with database(schemas=[], connection=path, migrations=[migration("m", up=up)]) as db:
        recording = recorded(db)
        db.migrate_up()
    return recording.statements


def test_sync_and_ctx_schema_run_the_same_sql_for_the_same_change(tmp_path: Path) -> None:
    results = []
    for route in (_sync_route, _migration_route):
        path = tmp_path / f"{route.__name__}.db"
        conn = sqlite3.connect(path)
        for statement in START:
            conn.execute(statement)
        conn.commit()
        conn.close()
        results.append((route(path), schema_of(sqlite3.connect(path))))
    (sync_sql, sync_schema), (migration_sql, migration_schema) = results
    assert sync_sql == migration_sql
    assert sync_sql[0].startswith('CREATE TABLE "_hedystia_new_t"')
    assert sync_schema == migration_schema


def _each_route(
    tmp_path: Path, start: list[str], models: list[type[Table]], step: Callable[..., None]
) -> tuple[list[str], list[str]]:
    """The statements a plan prints for an unsafe change, and those a migration runs."""
    path = tmp_path / "db.sqlite"
    conn = sqlite3.connect(path)
    for statement in start:
        conn.execute(statement)
    conn.commit()
    conn.close()
    with database(schemas=models, connection=path) as db:
        (planned,) = [op for op in db.plan().unsafe if op.kind == "alter_column"]
    with database(schemas=[], connection=path, migrations=[migration("m", up=step)]) as db:
        recording = recorded(db)
        db.migrate_up()
    return list(planned.statements), recording.statements


class Narrow(Table, table="t"):
    id: int | None = Field(default=None, primary_key=True)
    # an explicit declared type compares exactly (TEXT and VARCHAR(50) store alike)
    email: str = Field(default="", sql_type="VARCHAR(50)")


def test_an_unsafe_plan_shows_what_the_migration_making_it_runs(tmp_path: Path) -> None:
    planned, ran = _each_route(
        tmp_path,
        START,
        [Narrow],
        lambda ctx: ctx.schema.alter_column(
            "t", "email", {"type": "VARCHAR(50)", "not_null": True, "default_value": ""}
        ),
    )
    assert planned == ran
    assert "CREATE INDEX t_email_desc ON t (email DESC)" in ran


# -- each operation kind ----------------------------------------------------------------------


def test_create_table_with_its_indexes_unique_indexes_and_triggers() -> None:
    conn = make(
        "CREATE TABLE a (id INTEGER PRIMARY KEY, email TEXT, n INT)",
        "CREATE UNIQUE INDEX a_email_unique ON a (email)",
        "CREATE INDEX a_n ON a (n DESC)",
        "CREATE TRIGGER a_t AFTER INSERT ON a BEGIN SELECT 1; END",
    )
    spec = introspect.read_table(sqlite_utils.Database(conn), "a")
    conn.execute("DROP TABLE a")
    compiled = compile_on(conn, CreateTable("a", spec=spec))
    assert compiled.rebuild is None
    assert '"email" TEXT UNIQUE' not in compiled.statements[0]  # the unique index makes it so
    assert compiled.statements[1:] == (
        "CREATE INDEX a_n ON a (n DESC)",
        "CREATE UNIQUE INDEX a_email_unique ON a (email)",
        "CREATE TRIGGER a_t AFTER INSERT ON a BEGIN SELECT 1; END",
    )
    with pytest.raises(OperationError, match="already exists"):
        compile_on(make("CREATE TABLE a (x)"), CreateTable("a", spec=spec))


def test_drop_table() -> None:
    conn = make("CREATE TABLE a (x)")
    spec = introspect.read_table(sqlite_utils.Database(conn), "a")
    assert compile_on(conn, DropTable("a", spec=spec)).statements == ('DROP TABLE "a"',)
    with pytest.raises(OperationError, match="does not exist"):
        compile_on(make(), DropTable("a", spec=spec))


@pytest.mark.parametrize(
    ("column", "rebuild"),
    [
        (ColumnSpec("c", "TEXT"), None),
        (ColumnSpec("c", "INTEGER", not_null=True, default_sql="0"), None),
        (ColumnSpec("c", "TEXT", not_null=True), "NOT NULL and has no default"),
        (ColumnSpec("c", "TEXT", default_sql="CURRENT_TIMESTAMP"), "expression"),
        (ColumnSpec("c", "INTEGER", default_sql="1", references=None), None),
    ],
    ids=["nullable", "default", "not-null", "expression-default", "int-default"],
)
def test_add_column_natively_or_by_rebuild(column: ColumnSpec, rebuild: str | None) -> None:
    conn = make("CREATE TABLE a (id INTEGER PRIMARY KEY)")
    compiled = compile_on(conn, AddColumn("a", spec=column))
    if rebuild is None:
        assert compiled.rebuild is None
        assert compiled.statements[0].startswith('ALTER TABLE "a" ADD COLUMN "c"')
    else:
        assert rebuild in compiled.rebuild
        assert compiled.statements[0].startswith('CREATE TABLE "_hedystia_new_a"')
    for statement in compiled.statements:
        conn.execute(statement)
    assert [r[1] for r in conn.execute("PRAGMA table_info(a)")] == ["id", "c"]


def test_add_a_unique_column_adds_its_unique_index() -> None:
    conn = make("CREATE TABLE a (id INTEGER PRIMARY KEY)")
    compiled = compile_on(conn, AddColumn("a", spec=ColumnSpec("c", "TEXT", unique=True)))
    assert compiled.statements == (
        'ALTER TABLE "a" ADD COLUMN "c" TEXT',
        'CREATE UNIQUE INDEX "a_c_unique" ON "a" ("c")',
    )


def test_drop_column_natively_after_its_indexes() -> None:
    conn = make(
        "CREATE TABLE a (id INTEGER PRIMARY KEY, b TEXT, c TEXT)",
        "CREATE INDEX a_b ON a (b)",
        "CREATE INDEX a_lower_b ON a (lower(b))",
        "CREATE INDEX a_c_where_b ON a (c) WHERE b IS NOT NULL",
        "CREATE INDEX a_c ON a (c)",
    )
    compiled = compile_on(conn, DropColumn("a", spec=ColumnSpec("b", "TEXT")))
    assert compiled.rebuild is None
    assert compiled.statements == (
        'DROP INDEX "a_b"',
        'DROP INDEX "a_c_where_b"',
        'DROP INDEX "a_lower_b"',
        'ALTER TABLE "a" DROP COLUMN "b"',
    )


@pytest.mark.parametrize(
    ("create", "why"),
    [
        ("CREATE TABLE a (id INTEGER PRIMARY KEY, b TEXT UNIQUE, c TEXT)", "UNIQUE constraint"),
        (
            "CREATE TABLE a (id INTEGER PRIMARY KEY, b INTEGER REFERENCES a(id), c TEXT)",
            "foreign key",
        ),
        ("CREATE TABLE a (id INTEGER PRIMARY KEY, b TEXT, c TEXT, CHECK (b <> c))", "CHECK"),
    ],
    ids=["unique", "references", "table-check"],
)
def test_drop_column_rebuilds_when_alter_table_cannot(create: str, why: str) -> None:
    conn = make(create)
    op = DropColumn("a", spec=ColumnSpec("b", "TEXT"))
    if why == "CHECK":  # the rebuild keeps the table CHECK, which needs the column: refused
        with pytest.raises(OperationError, match=r"CHECK .* uses column 'b'"):
            compile_on(conn, op)
        return
    compiled = compile_on(conn, op)
    assert why in compiled.rebuild
    for statement in compiled.statements:
        conn.execute(statement)
    assert [r[1] for r in conn.execute("PRAGMA table_info(a)")] == ["id", "c"]


def test_drop_column_with_a_view_using_it_is_refused_by_name() -> None:
    conn = make(
        "CREATE TABLE a (id INTEGER PRIMARY KEY, b TEXT)", "CREATE VIEW v AS SELECT b FROM a"
    )
    db = sqlite_utils.Database(conn)
    executor = SQLiteExecutor(db)
    conn.execute("BEGIN")
    with pytest.raises(OperationError, match="would break view v"):
        executor.apply(DropColumn("a", spec=ColumnSpec("b", "TEXT")))
    conn.execute("ROLLBACK")
    assert [r[1] for r in conn.execute("PRAGMA table_info(a)")] == ["id", "b"]


def test_an_older_sqlite_rebuilds_instead(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(SQLiteExecutor, "version", OLD_SQLITE)
    conn = make("CREATE TABLE a (id INTEGER PRIMARY KEY, b TEXT)")
    drop = compile_on(conn, DropColumn("a", spec=ColumnSpec("b", "TEXT")))
    assert drop.rebuild == "this SQLite has no DROP COLUMN"
    rename = compile_on(conn, RenameColumn("a", old="b", new="c"))
    assert rename.rebuild == "this SQLite has no RENAME COLUMN"
    assert 'INSERT INTO "_hedystia_new_a" ("id", "c") SELECT "id", "b" FROM "a"' in (
        rename.statements
    )


def test_rename_column_renames_default_named_indexes_too() -> None:
    conn = make(
        "CREATE TABLE a (id INTEGER PRIMARY KEY, b TEXT)",
        'CREATE INDEX "a_b_index" ON a (b)',
        "CREATE INDEX custom ON a (b)",
    )
    compiled = compile_on(conn, RenameColumn("a", old="B", new="c"))
    assert compiled.statements == (
        'ALTER TABLE "a" RENAME COLUMN "b" TO "c"',
        'DROP INDEX "a_b_index"',
        'CREATE INDEX "a_c_index" ON a ("c")',  # its stored SQL, renamed
    )
    with pytest.raises(OperationError, match="already has column 'ID'"):
        compile_on(conn, RenameColumn("a", old="b", new="ID"))


def test_alter_column_and_alter_table_rebuild() -> None:
    conn = make("CREATE TABLE a (id INTEGER PRIMARY KEY, b TEXT)", "INSERT INTO a VALUES (1, 'x')")
    table = introspect.read_table(sqlite_utils.Database(conn), "a")
    old = table.column("b")
    new = ColumnSpec("b", "VARCHAR(5)", not_null=True)
    alter = compile_on(conn, AlterColumn("a", desired=new, actual=old))
    assert alter.rebuild == "SQLite cannot change a column in place"
    desired = TableSpec("a", table.columns, checks=(CheckSpec("length(b) < 5"),))
    constraints = compile_on(conn, AlterTable("a", desired=desired, actual=table))
    assert "CHECK (length(b) < 5)" in constraints.statements[0]
    with pytest.raises(OperationError, match="primary key"):
        key = ColumnSpec("b", "TEXT", primary_key=True)
        compile_on(conn, AlterColumn("a", desired=key, actual=old))


def test_index_operations() -> None:
    conn = make("CREATE TABLE a (id INTEGER PRIMARY KEY, b TEXT)")
    index = IndexSpec("a_b", ("b",))
    assert compile_on(conn, CreateIndex("a", index=index)).statements == (
        'CREATE INDEX "a_b" ON "a" ("b")',
    )
    expression = IndexSpec("a_lower", (IndexExpression("lower(b)"),), unique=True)
    assert compile_on(conn, CreateIndex("a", index=expression)).statements == (
        'CREATE UNIQUE INDEX "a_lower" ON "a" (lower(b))',
    )
    assert compile_on(conn, DropIndex("a", index=index)).statements == ('DROP INDEX "a_b"',)
    assert compile_on(conn, AlterIndex("a", desired=expression, actual=index)).statements == (
        'DROP INDEX "a_b"',
        'CREATE UNIQUE INDEX "a_lower" ON "a" (lower(b))',
    )
    with pytest.raises(OperationError, match="no column"):
        compile_on(conn, CreateIndex("a", index=IndexSpec("x", ("nope",))))


# -- what the rebuild keeps and refuses -------------------------------------------------------


def test_the_rebuild_keeps_indexes_triggers_and_the_autoincrement_counter() -> None:
    conn = make(
        "CREATE TABLE a (id INTEGER PRIMARY KEY AUTOINCREMENT, b TEXT, c TEXT)",
        "CREATE INDEX a_expr ON a (lower(b) DESC, c COLLATE NOCASE)",
        "CREATE UNIQUE INDEX a_c_unique ON a (c)",
        "CREATE INDEX a_partial ON a (b) WHERE c IS NOT NULL",
        "CREATE TRIGGER a_t AFTER INSERT ON a BEGIN SELECT 1; END",
        "INSERT INTO a (b, c) VALUES ('x', 'y')",
        "DELETE FROM a",
    )
    before = [row for row in schema_of(conn) if row[1] != "a"]
    executor = SQLiteExecutor(sqlite_utils.Database(conn))
    conn.execute("BEGIN")
    compiled = executor.apply(AddColumn("a", spec=ColumnSpec("d", "TEXT", not_null=True)))
    conn.execute("COMMIT")
    assert compiled.rebuild
    assert [row for row in schema_of(conn) if row[1] != "a"] == before
    conn.execute("INSERT INTO a (b, c, d) VALUES ('x', 'y', 'z')")
    assert conn.execute("SELECT id FROM a").fetchall() == [(2,)]  # id 1 is never reused


@pytest.mark.parametrize(
    "create",
    [
        "CREATE TABLE a (id INTEGER PRIMARY KEY, b TEXT, UNIQUE (b COLLATE NOCASE))",
        "CREATE TABLE a (id INTEGER PRIMARY KEY, b TEXT) STRICT",
        "CREATE TABLE a (id INTEGER PRIMARY KEY, b TEXT, n INT GENERATED ALWAYS AS (1))",
    ],
    ids=["collate", "strict", "generated"],
)
def test_the_rebuild_refuses_what_it_cannot_keep(create: str) -> None:
    conn = make(create)
    with pytest.raises(OperationError, match="a rebuild would lose its"):
        compile_on(conn, AddColumn("a", spec=ColumnSpec("d", "TEXT", not_null=True)))


def test_sync_blocks_a_rebuild_of_a_table_with_rows_and_names_why() -> None:
    conn = make(
        'CREATE TABLE t ("id" INTEGER PRIMARY KEY, "email" TEXT NOT NULL DEFAULT \'\')',
        "INSERT INTO t (email) VALUES ('a')",
    )

    class WithStamp(Table, table="t"):
        id: int | None = Field(default=None, primary_key=True)
        email: str = ""
        stamp: str | None = Field(default=None, sql_type="TEXT", check="stamp <> ''")

    db = database(schemas=[WithStamp], connection=conn)
    assert db.plan().safe  # ADD COLUMN can do it: no rebuild
    spec = ColumnSpec("made", "TEXT", default_sql="CURRENT_TIMESTAMP")
    state = introspect.read_database(db.sqlite)
    plan = compile_plan(Plan((PlannedOperation(AddColumn("t", spec=spec)),)), state, db.executor)
    (blocked,) = plan.blocked
    assert "expression" in (blocked.reason or "")
    assert "sync never rebuilds a table that has rows" in (blocked.reason or "")


def test_a_migration_error_from_the_executor_names_the_migration(tmp_path: Path) -> None:
    conn = sqlite3.connect(tmp_path / "a.db")
    conn.execute("CREATE TABLE a (id INTEGER PRIMARY KEY, b TEXT UNIQUE, c TEXT, UNIQUE (b, c))")
    conn.commit()
    step = migration("drop_b", up=lambda ctx: ctx.schema.drop_column("a", "b"))
    with (
        database(schemas=[], connection=conn, migrations=[step]) as db,
        pytest.raises(MigrationError, match=r"migration 'drop_b'.*UNIQUE \(b, c\)") as caught,
    ):
        db.migrate_up()
    assert caught.value.migration == "drop_b"


def test_the_rebuild_keeps_collations_and_deferred_foreign_keys() -> None:
    conn = make(
        "CREATE TABLE p (id INTEGER PRIMARY KEY)",
        "CREATE TABLE c (id INTEGER PRIMARY KEY, name TEXT COLLATE NOCASE, "
        "p_id INTEGER REFERENCES p(id) DEFERRABLE INITIALLY DEFERRED)",
    )
    executor = SQLiteExecutor(sqlite_utils.Database(conn))
    conn.execute("BEGIN")
    compiled = executor.apply(AddColumn("c", spec=ColumnSpec("code", "TEXT", not_null=True)))
    conn.execute("COMMIT")
    assert compiled.rebuild
    spec = introspect.read_table(sqlite_utils.Database(conn), "c")
    assert spec.column("name").collate == "NOCASE"
    assert spec.column("p_id").references == Reference("p", "id", deferrable=True)
    # Still deferred: a child before its parent, in one transaction, with enforcement on.
    conn.execute("PRAGMA foreign_keys = ON")
    conn.execute("BEGIN")
    conn.execute("INSERT INTO c (name, p_id, code) VALUES ('a', 7, 'x')")
    conn.execute("INSERT INTO p (id) VALUES (7)")
    conn.execute("COMMIT")
    conn.execute("BEGIN")
    conn.execute("INSERT INTO c (name, p_id, code) VALUES ('b', 8, 'y')")
    with pytest.raises(sqlite3.IntegrityError, match="FOREIGN KEY"):
        conn.execute("COMMIT")
    conn.execute("ROLLBACK")
