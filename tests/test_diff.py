"""The differ on its own: ``diff(desired_specs, state) -> Plan``, pure.

Every test builds :class:`TableSpec` values by hand and a hand-made :class:`DatabaseState` for
the live database: no SQLite is involved (this module imports neither ``sqlite3`` nor
``sqlite_utils``, and ``sqlite3.connect`` fails while these tests run). The plan's operations,
their order (referenced tables first; safe, then blocked, then unsafe), verdicts and reasons
are asserted, and the ``reverse()`` of every operation kind.
"""

from __future__ import annotations

import ast
import importlib.util
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

import pytest

from hedystia_models.migrate import operations
from hedystia_models.migrate.diff import diff, order_by_dependencies
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
    RenameTable,
    Safety,
)
from hedystia_models.migrate.plan import Plan, PlannedOperation
from hedystia_models.schema.compare import column_changes, table_changes
from hedystia_models.schema.spec import (
    CheckSpec,
    ColumnSpec,
    ForeignKeySpec,
    IndexExpression,
    IndexSpec,
    Reference,
    TableSpec,
)
from hedystia_models.schema.state import DatabaseState

ID = ColumnSpec("id", "INTEGER", primary_key=True)
NAME = ColumnSpec("name", "TEXT")

ALTER_COLUMN_REASON = "a column's definition changes only in a migration"
DROP_COLUMN_REASON = "the column exists in the database but not in the model"
DROP_TABLE_REASON = "the table exists in the database but no model declares it"
DROP_INDEX_REASON = "the index exists in the database but not in the model"
ALTER_INDEX_REASON = "an index with this name exists with other columns or uniqueness"
ALTER_TABLE_REASON = "table-level constraints can only change by rebuilding the table"


@pytest.fixture(autouse=True)
def no_database(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Opening any SQLite connection while a test of this module runs is a failure."""

    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError("diff() opened an SQLite connection")

    monkeypatch.setattr("sqlite3.connect", refuse)
    yield


def state(*tables: TableSpec, rows: Iterable[str] = ()) -> DatabaseState:
    """A live database described by hand: these tables, ``rows`` naming those holding rows."""
    return DatabaseState(tables={t.name: t for t in tables}, tables_with_rows=frozenset(rows))


def table(name: str, *columns: ColumnSpec, **kwargs: Any) -> TableSpec:
    """Table ``name`` with an ``id`` primary key and ``columns``."""
    return TableSpec(name, (ID, *columns), **kwargs)


def ops(plan: Plan) -> list[Operation]:
    return [planned.operation for planned in plan]


def verdicts(plan: Plan) -> list[tuple[str, Safety, str | None]]:
    return [(planned.describe(), planned.safety, planned.reason) for planned in plan]


def only(plan: Plan) -> PlannedOperation:
    [planned] = plan.operations
    return planned


# -- purity -----------------------------------------------------------------------------------


def _imports(path: Path, package: str) -> set[str]:
    """The modules a source file imports, relative imports resolved against ``package``."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = package.split(".")
            if node.level:
                base = base[: len(base) - node.level + 1]
                name = ".".join([*base, node.module] if node.module else base)
            else:
                name = node.module or ""
            found.add(name)
    return found


def test_this_module_never_imports_sqlite() -> None:
    imported = _imports(Path(__file__), "tests")
    assert not {m for m in imported if m.split(".")[0] in ("sqlite3", "sqlite_utils")}


def test_the_differ_and_everything_it_imports_never_import_sqlite_or_the_engine() -> None:
    """Walk the module graph from ``hedystia_models.migrate.diff`` (package ``__init__`` files
    aside, which only re-export): no module of it imports sqlite3, sqlite_utils or the
    engine."""
    seen: set[str] = set()
    todo = ["hedystia_models.migrate.diff"]
    while todo:
        name = todo.pop()
        if name in seen:
            continue
        seen.add(name)
        spec = importlib.util.find_spec(name)
        assert spec is not None and spec.origin is not None, name
        package = name if spec.submodule_search_locations else name.rpartition(".")[0]
        for imported in _imports(Path(spec.origin), package):
            root = imported.split(".")[0]
            assert root not in ("sqlite3", "sqlite_utils"), (name, imported)
            assert not imported.startswith("hedystia_models.engine"), (name, imported)
            if root == "hedystia_models":
                found = importlib.util.find_spec(imported)
                if found is not None and not found.submodule_search_locations:
                    todo.append(imported)
    assert "hedystia_models.schema.compare" in seen  # the walk did follow the imports


def test_the_plan_holds_no_sql() -> None:
    desired = [table("users", NAME, indexes=(IndexSpec("users_name_index", ("name",)),))]
    plan = diff(desired, state())
    assert plan.operations
    assert all(p.statements == () and not p.rebuild for p in plan)
    assert plan.sql() == []


# -- the plan as a whole ----------------------------------------------------------------------


def test_identical_specs_are_in_sync() -> None:
    users = table("users", NAME, indexes=(IndexSpec("users_name_index", ("name",)),))
    plan = diff([users], state(users, rows={"users"}))
    assert plan.in_sync
    assert not plan
    assert len(plan) == 0
    assert (plan.safe, plan.blocked, plan.unsafe) == ([], [], [])


@pytest.mark.parametrize(
    ("desired", "live"),
    [
        ([], ()),
        ([table("a")], ()),
        ([], (table("a"),)),
        ([table("a", NAME)], (table("a"),)),
        ([table("a")], (table("a"),)),
    ],
)
def test_bool_of_a_plan_is_whether_it_has_operations(
    desired: list[TableSpec], live: tuple[TableSpec, ...]
) -> None:
    plan = diff(desired, state(*live))
    assert bool(plan) == (len(plan) > 0)
    assert plan.in_sync == (not plan)
    assert plan.in_sync == (len(plan) == 0)


def test_operations_come_referenced_tables_first_then_safe_blocked_unsafe() -> None:
    nick = ColumnSpec("nick", "TEXT")
    slug = ColumnSpec("slug", "TEXT", not_null=True)
    users = table("users", NAME, slug, nick, indexes=(IndexSpec("users_nick_index", ("nick",)),))
    posts = table("posts", ColumnSpec("author", "INTEGER", references=Reference("users", "id")))
    tags = table("tags")
    legacy = ColumnSpec("legacy", "TEXT")
    live = state(table("users", NAME, legacy), table("old"), rows={"users"})

    plan = diff([posts, users, tags], live)

    assert ops(plan) == [
        # users first: posts references it (its changes come before the table that needs it)
        AddColumn("users", spec=nick),
        CreateIndex("users", index=IndexSpec("users_nick_index", ("nick",))),
        CreateTable("posts", spec=posts),
        CreateTable("tags", spec=tags),
        AddColumn("users", spec=slug),
        DropColumn("users", spec=legacy),
        DropTable("old", spec=table("old")),
    ]
    assert [p.safety for p in plan] == [Safety.SAFE] * 4 + [
        Safety.BLOCKED,
        Safety.UNSAFE,
        Safety.UNSAFE,
    ]
    assert (len(plan.safe), len(plan.blocked), len(plan.unsafe)) == (4, 1, 2)


def test_unsafe_findings_come_after_blocked_ones_of_later_tables() -> None:
    a = table("a")
    b = table("b", ColumnSpec("x", "TEXT", not_null=True))
    live = state(table("a", NAME), table("b"), rows={"b"})
    plan = diff([a, b], live)
    assert [(p.kind, p.safety) for p in plan] == [
        ("add_column", Safety.BLOCKED),
        ("drop_column", Safety.UNSAFE),
    ]
    assert [p.table for p in plan] == ["b", "a"]


def test_order_by_dependencies_puts_referenced_tables_first_and_keeps_cycles_in_order() -> None:
    def refers(name: str, *targets: str) -> TableSpec:
        columns = [ColumnSpec(f"{t}_id", "INTEGER", references=Reference(t, "id")) for t in targets]
        return table(name, *columns)

    a, b, c = refers("a", "b"), refers("b", "c"), refers("c")
    assert [t.name for t in order_by_dependencies([a, b, c])] == ["c", "b", "a"]
    # a multi-column foreign key counts too, matched case-insensitively
    d = table(
        "d",
        NAME,
        foreign_keys=(ForeignKeySpec(("id", "name"), "E", ("id", "name")),),
    )
    e = table("e", NAME)
    assert [t.name for t in order_by_dependencies([d, e])] == ["e", "d"]
    # a cycle, and a self-reference, keep the order given
    x, y = refers("x", "y"), refers("y", "x")
    assert [t.name for t in order_by_dependencies([x, y])] == ["y", "x"]
    me = refers("me", "me")
    assert order_by_dependencies([me]) == [me]
    # references to tables outside the list are ignored
    assert order_by_dependencies([refers("lone", "elsewhere")])[0].name == "lone"


# -- tables -----------------------------------------------------------------------------------


def test_a_missing_table_is_created_with_its_spec() -> None:
    users = table("users", NAME, indexes=(IndexSpec("users_name_index", ("name",)),))
    planned = only(diff([users], state()))
    assert planned.operation == CreateTable("users", spec=users)
    assert (planned.safety, planned.reason) == (Safety.SAFE, None)
    assert planned.describe() == "create table users (id, name)"


def test_a_table_no_model_declares_is_an_unsafe_drop_keeping_its_spec() -> None:
    live = table(
        "old", NAME, triggers=("CREATE TRIGGER t AFTER INSERT ON old BEGIN SELECT 1; END",)
    )
    planned = only(diff([], state(live, rows={"old"})))
    assert planned.operation == DropTable("old", spec=live)
    assert isinstance(planned.operation, DropTable)
    assert planned.operation.spec.triggers == live.triggers  # kept for the undo
    assert (planned.safety, planned.reason) == (Safety.UNSAFE, DROP_TABLE_REASON)


def test_dropped_tables_are_listed_by_name() -> None:
    plan = diff([], state(table("b"), table("A"), table("c")))
    assert [p.table for p in plan] == ["A", "b", "c"]
    assert all(p.kind == "drop_table" for p in plan)


def test_table_names_match_case_insensitively() -> None:
    plan = diff([table("Users", NAME)], state(table("users", NAME)))
    assert plan.in_sync
    # changes found on the live table are planned under the model's name
    plan = diff([table("Users", NAME, ColumnSpec("nick", "TEXT"))], state(table("users", NAME)))
    assert ops(plan) == [AddColumn("Users", spec=ColumnSpec("nick", "TEXT"))]


def test_table_names_fold_ascii_letters_only() -> None:
    """SQLite folds the case of ASCII letters only: ``CAFÉ`` and ``café`` are two tables."""
    plan = diff([table("café")], state(table("CAFÉ")))
    assert ops(plan) == [
        CreateTable("café", spec=table("café")),
        DropTable("CAFÉ", spec=table("CAFÉ")),
    ]


# -- columns ----------------------------------------------------------------------------------


@pytest.mark.parametrize("rows", [False, True])
@pytest.mark.parametrize(
    "column",
    [
        ColumnSpec("nick", "TEXT"),
        ColumnSpec("score", "INTEGER", not_null=True, default_sql="0"),
        ColumnSpec("email", "TEXT", unique=True),
        ColumnSpec("owner", "INTEGER", references=Reference("users", "id")),
        ColumnSpec("stamp", "TEXT", not_null=True, default_sql="CURRENT_TIMESTAMP"),
    ],
    ids=["nullable", "not-null-with-default", "unique-without-default", "reference", "expr"],
)
def test_adding_a_column_rows_can_take_is_safe(column: ColumnSpec, rows: bool) -> None:
    planned = only(
        diff([table("users", column)], state(table("users"), rows={"users"} if rows else ()))
    )
    assert planned.operation == AddColumn("users", spec=column)
    assert (planned.safety, planned.reason) == (Safety.SAFE, None)
    assert planned.column == column.name


@pytest.mark.parametrize(
    "column",
    [
        ColumnSpec("slug", "TEXT", not_null=True),
        ColumnSpec("code", "TEXT", primary_key=True),
        ColumnSpec("email", "TEXT", unique=True, default_sql="''"),
    ],
    ids=["not-null", "primary-key", "unique-with-default"],
)
def test_on_an_empty_table_every_column_can_be_added(column: ColumnSpec) -> None:
    live = TableSpec("t", (NAME,))
    planned = only(diff([TableSpec("t", (NAME, column))], state(live)))
    assert (planned.operation, planned.safety, planned.reason) == (
        AddColumn("t", spec=column),
        Safety.SAFE,
        None,
    )


@pytest.mark.parametrize(
    ("column", "because"),
    [
        (
            ColumnSpec("slug", "TEXT", not_null=True),
            "it is NOT NULL and has no default, so existing rows would have no value. Give "
            "the field a default, make it optional (X | None), or write a migration that fills "
            "it in (ctx.schema.add_column(..., fill=value))",
        ),
        (
            ColumnSpec("slug", "TEXT", not_null=True, default_sql="NULL"),
            "it is NOT NULL and has no default",
        ),
        (
            ColumnSpec("code", "TEXT", primary_key=True, default_sql="'x'"),
            "a primary key column would have no value in the existing rows. Write a migration "
            "that creates the new table and copies the rows",
        ),
        (
            ColumnSpec("email", "TEXT", unique=True, default_sql="''"),
            "it is UNIQUE with a default, so every existing row would get the same value. Make "
            "it optional (X | None) without a default, or write a migration that fills in "
            "distinct values before adding the unique index",
        ),
    ],
    ids=["not-null-without-default", "null-default", "primary-key", "unique-with-default"],
)
def test_adding_a_column_rows_cannot_take_is_blocked(column: ColumnSpec, because: str) -> None:
    live = TableSpec("t", (NAME,))
    planned = only(diff([TableSpec("t", (NAME, column))], state(live, rows={"T"})))
    assert planned.operation == AddColumn("t", spec=column)
    assert planned.safety is Safety.BLOCKED
    prefix = f"cannot add column {column.name!r} to table 't', which has rows: "
    assert planned.reason is not None and planned.reason.startswith(prefix + because)


def test_a_column_the_model_lacks_is_an_unsafe_drop_keeping_its_spec() -> None:
    legacy = ColumnSpec("legacy", "INTEGER", not_null=True, default_sql="7")
    planned = only(diff([table("t", NAME)], state(table("t", legacy, NAME))))
    assert planned.operation == DropColumn("t", spec=legacy)
    assert (planned.safety, planned.reason) == (Safety.UNSAFE, DROP_COLUMN_REASON)
    assert planned.column == "legacy"


def test_column_operations_follow_model_order_then_drops_in_table_order() -> None:
    a, b, c, d = (ColumnSpec(n, "TEXT") for n in "abcd")
    plan = diff([table("t", b, a)], state(table("t", d, c)))
    assert ops(plan) == [
        AddColumn("t", spec=b),
        AddColumn("t", spec=a),
        DropColumn("t", spec=d),
        DropColumn("t", spec=c),
    ]


def test_column_names_match_case_insensitively_ascii_only() -> None:
    assert diff(
        [table("t", ColumnSpec("Email", "TEXT"))], state(table("t", ColumnSpec("eMAIL", "TEXT")))
    ).in_sync
    plan = diff(
        [table("t", ColumnSpec("café", "TEXT"))], state(table("t", ColumnSpec("CAFÉ", "TEXT")))
    )
    assert ops(plan) == [
        AddColumn("t", spec=ColumnSpec("café", "TEXT")),
        DropColumn("t", spec=ColumnSpec("CAFÉ", "TEXT")),
    ]


@pytest.mark.parametrize(
    ("desired", "actual", "changes"),
    [
        (ColumnSpec("c", "INTEGER"), ColumnSpec("c", "TEXT"), ["type TEXT -> INTEGER"]),
        (ColumnSpec("c", "TEXT"), ColumnSpec("c", ""), ["type (none) -> TEXT"]),
        (ColumnSpec("c", ""), ColumnSpec("c", "TEXT"), ["type TEXT -> (none)"]),
        (ColumnSpec("c", "TEXT", not_null=True), ColumnSpec("c", "TEXT"), ["NULL -> NOT NULL"]),
        (ColumnSpec("c", "TEXT"), ColumnSpec("c", "TEXT", not_null=True), ["NOT NULL -> NULL"]),
        (
            ColumnSpec("c", "TEXT", default_sql="'b'"),
            ColumnSpec("c", "TEXT", default_sql="'a'"),
            ["default 'a' -> 'b'"],
        ),
        (
            ColumnSpec("c", "INTEGER", primary_key=True),
            ColumnSpec("c", "INTEGER", not_null=True),
            ["becomes primary key"],
        ),
        (
            ColumnSpec("c", "INTEGER", not_null=True),
            ColumnSpec("c", "INTEGER", primary_key=True),
            ["no longer primary key"],
        ),
        (
            ColumnSpec("c", "INTEGER", primary_key=True, auto_increment=True),
            ColumnSpec("c", "INTEGER", primary_key=True),
            ["gains AUTOINCREMENT"],
        ),
        (
            ColumnSpec("c", "INTEGER", primary_key=True),
            ColumnSpec("c", "INTEGER", primary_key=True, auto_increment=True),
            ["loses AUTOINCREMENT"],
        ),
        (ColumnSpec("c", "TEXT", unique=True), ColumnSpec("c", "TEXT"), ["becomes UNIQUE"]),
        (ColumnSpec("c", "TEXT"), ColumnSpec("c", "TEXT", unique=True), ["no longer UNIQUE"]),
        (
            ColumnSpec("c", "INTEGER", check="c > 0"),
            ColumnSpec("c", "INTEGER"),
            ["check None -> c > 0"],
        ),
        (
            ColumnSpec("c", "INTEGER", check="c > 1"),
            ColumnSpec("c", "INTEGER", check="c > 0"),
            ["check c > 0 -> c > 1"],
        ),
        (
            ColumnSpec("c", "INTEGER", references=Reference("users", "id", on_delete="cascade")),
            ColumnSpec("c", "INTEGER", references=Reference("users", "id")),
            ["references users.id -> users.id ON DELETE CASCADE"],
        ),
        (
            ColumnSpec("c", "INTEGER"),
            ColumnSpec("c", "INTEGER", references=Reference("users", "id")),
            ["references users.id -> None"],
        ),
        (
            ColumnSpec("c", "INTEGER", not_null=True, default_sql="0", check="c >= 0"),
            ColumnSpec("c", "TEXT"),
            [
                "type TEXT -> INTEGER",
                "NULL -> NOT NULL",
                "check None -> c >= 0",
            ],
        ),
    ],
)
def test_a_changed_column_is_an_unsafe_alter_with_each_change_described(
    desired: ColumnSpec, actual: ColumnSpec, changes: list[str]
) -> None:
    planned = only(diff([TableSpec("t", (desired,))], state(TableSpec("t", (actual,)))))
    assert planned.operation == AlterColumn(
        "t", desired=desired, actual=actual, changes=tuple(changes)
    )
    assert (planned.safety, planned.reason) == (Safety.UNSAFE, ALTER_COLUMN_REASON)
    assert planned.describe() == f"alter column t.c: {'; '.join(changes)}"
    assert planned.column == "c"


@pytest.mark.parametrize(
    ("desired", "actual"),
    [
        (ColumnSpec("c", "varchar( 9 )"), ColumnSpec("c", "VARCHAR(9)")),
        # stored as the column's affinity makes them: 1 is '1' in a TEXT column
        (ColumnSpec("c", "TEXT", default_sql="'1'"), ColumnSpec("c", "TEXT", default_sql="1")),
        (
            ColumnSpec("c", "INTEGER", default_sql="100"),
            ColumnSpec("c", "INTEGER", default_sql="'100'"),
        ),
        (ColumnSpec("c", "TEXT"), ColumnSpec("c", "TEXT", default_sql="NULL")),
        (
            ColumnSpec("c", "INTEGER", default_sql="(1)"),
            ColumnSpec("c", "INTEGER", default_sql="1"),
        ),
        (
            ColumnSpec("c", "TEXT", default_sql="CURRENT_TIMESTAMP"),
            ColumnSpec("c", "TEXT", default_sql="current_timestamp"),
        ),
        (ColumnSpec("c", "INTEGER", check="c>0"), ColumnSpec("c", "INTEGER", check=" c >  0 ")),
        (ColumnSpec("C", "INTEGER"), ColumnSpec("c", "INTEGER")),
    ],
)
def test_columns_that_differ_only_in_spelling_are_equal(
    desired: ColumnSpec, actual: ColumnSpec
) -> None:
    assert diff([TableSpec("t", (desired,))], state(TableSpec("t", (actual,)))).in_sync


def test_a_reference_differing_only_in_the_case_of_its_names_is_no_change() -> None:
    desired = ColumnSpec("owner", "INTEGER", references=Reference("users", "id"))
    actual = ColumnSpec("owner", "INTEGER", references=Reference("Users", "ID"))
    assert diff([TableSpec("t", (desired,))], state(TableSpec("t", (actual,)))).in_sync


def test_a_unique_column_read_from_its_unique_index_is_in_sync() -> None:
    """Introspection reads a single-column unique index as the column's ``unique`` flag and
    keeps the index in ``unique_indexes``, which the differ does not compare."""
    email = ColumnSpec("email", "TEXT", unique=True)
    live = table("t", email, unique_indexes=(IndexSpec("t_email_unique", ("email",), unique=True),))
    assert diff([table("t", email)], state(live)).in_sync


# -- table-level constraints ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("desired", "actual", "changes"),
    [
        (
            table("t", NAME, checks=(CheckSpec("length(name) < 9"),)),
            table("t", NAME),
            ["table CHECK constraints differ"],
        ),
        (
            table("t", NAME),
            table("t", NAME, checks=(CheckSpec("length(name) < 9", name="short"),)),
            ["table CHECK constraints differ"],
        ),
        (
            table("t", NAME, ColumnSpec("x", "TEXT")),
            table("t", NAME, ColumnSpec("x", "TEXT"), unique_together=(("name", "x"),)),
            ["multi-column UNIQUE constraints differ"],
        ),
        (
            table("t", NAME, foreign_keys=(ForeignKeySpec(("id", "name"), "o", ("a", "b")),)),
            table("t", NAME, foreign_keys=(ForeignKeySpec(("id", "name"), "o", ("a", "c")),)),
            ["multi-column foreign keys differ"],
        ),
        (
            TableSpec(
                "t",
                (
                    ColumnSpec("a", "INTEGER", primary_key=True),
                    ColumnSpec("b", "INTEGER", primary_key=True),
                ),
            ),
            TableSpec(
                "t",
                (
                    ColumnSpec("b", "INTEGER", primary_key=True),
                    ColumnSpec("a", "INTEGER", primary_key=True),
                ),
            ),
            ["primary key order ('b', 'a') -> ('a', 'b')"],
        ),
        (
            table("t", NAME, checks=(CheckSpec("id > 0"),)),
            table("t", NAME, unique_together=(("id", "name"),)),
            ["multi-column UNIQUE constraints differ", "table CHECK constraints differ"],
        ),
    ],
    ids=["check-added", "check-dropped", "unique", "foreign-key", "primary-key-order", "two"],
)
def test_changed_table_constraints_are_an_unsafe_alter_table(
    desired: TableSpec, actual: TableSpec, changes: list[str]
) -> None:
    planned = only(diff([desired], state(actual)))
    assert planned.operation == AlterTable(
        "t", desired=desired, actual=actual, changes=tuple(changes)
    )
    assert (planned.safety, planned.reason) == (Safety.UNSAFE, ALTER_TABLE_REASON)
    assert planned.describe() == f"alter table t: {'; '.join(changes)}"


def test_table_constraints_compare_whitespace_insensitively_and_unordered() -> None:
    checks = (CheckSpec("id > 0"), CheckSpec("length(name) < 9"))
    respaced = (CheckSpec(" length( name )<9"), CheckSpec("id>0"))
    x = ColumnSpec("x", "TEXT")
    desired = table("t", NAME, x, checks=checks, unique_together=(("name", "x"), ("id", "x")))
    actual = table("t", NAME, x, checks=respaced, unique_together=(("id", "x"), ("name", "x")))
    assert diff([desired], state(actual)).in_sync


def test_column_changes_come_before_the_table_constraints_and_indexes() -> None:
    desired = table(
        "t",
        ColumnSpec("name", "INTEGER"),
        checks=(CheckSpec("id > 0"),),
        indexes=(IndexSpec("t_name_index", ("name",), unique=True),),
    )
    actual = table("t", NAME, indexes=(IndexSpec("t_name_index", ("name",)),))
    assert [p.kind for p in diff([desired], state(actual))] == [
        "alter_column",
        "alter_table",
        "alter_index",
    ]


def test_a_primary_key_differing_only_in_case_is_no_change() -> None:
    desired = TableSpec(
        "t",
        (
            ColumnSpec("a", "INTEGER", primary_key=True),
            ColumnSpec("b", "INTEGER", primary_key=True),
        ),
    )
    actual = TableSpec(
        "t",
        (
            ColumnSpec("A", "INTEGER", primary_key=True),
            ColumnSpec("b", "INTEGER", primary_key=True),
        ),
    )
    assert diff([desired], state(actual)).in_sync


def test_a_multi_column_unique_differing_only_in_case_is_no_change() -> None:
    a, b = ColumnSpec("a", "TEXT"), ColumnSpec("b", "TEXT")
    desired = TableSpec("t", (a, b), unique_together=(("a", "b"),))
    actual = TableSpec("t", (a, b), unique_together=(("A", "B"),))
    assert diff([desired], state(actual)).in_sync


def test_a_multi_column_foreign_key_differing_only_in_case_is_no_change() -> None:
    a, b = ColumnSpec("a", "TEXT"), ColumnSpec("b", "TEXT")
    desired = TableSpec(
        "t", (a, b), foreign_keys=(ForeignKeySpec(("a", "b"), "users", ("x", "y")),)
    )
    actual = TableSpec("t", (a, b), foreign_keys=(ForeignKeySpec(("A", "B"), "Users", ("X", "Y")),))
    assert diff([desired], state(actual)).in_sync


# -- indexes ----------------------------------------------------------------------------------


def test_a_missing_index_on_existing_columns_is_created() -> None:
    index = IndexSpec("t_name_index", ("name",))
    planned = only(diff([table("t", NAME, indexes=(index,))], state(table("t", NAME), rows={"t"})))
    assert (planned.operation, planned.safety, planned.reason) == (
        CreateIndex("t", index=index),
        Safety.SAFE,
        None,
    )
    assert planned.describe() == "create index t_name_index on t (name)"


def test_an_index_on_a_column_added_safely_comes_after_the_add() -> None:
    nick = ColumnSpec("nick", "TEXT")
    index = IndexSpec("t_nick_name_index", ("nick", "NAME"), unique=True)
    plan = diff([table("t", NAME, nick, indexes=(index,))], state(table("t", NAME), rows={"t"}))
    assert ops(plan) == [AddColumn("t", spec=nick), CreateIndex("t", index=index)]
    assert all(p.safe for p in plan)


def test_an_index_on_a_column_that_cannot_be_added_is_not_planned() -> None:
    slug = ColumnSpec("slug", "TEXT", not_null=True)
    index = IndexSpec("t_slug_index", ("slug",))
    plan = diff([table("t", slug, indexes=(index,))], state(table("t"), rows={"t"}))
    assert ops(plan) == [AddColumn("t", spec=slug)]
    assert plan.blocked == list(plan)


@pytest.mark.parametrize(
    "index",
    [
        IndexSpec("t_lower_slug", (IndexExpression("lower(slug)"),)),
        IndexSpec("t_id_with_slug", ("id",), where="slug IS NOT NULL"),
    ],
    ids=["expression", "where"],
)
def test_an_expression_or_partial_index_on_a_column_that_cannot_be_added_is_not_planned(
    index: IndexSpec,
) -> None:
    slug = ColumnSpec("slug", "TEXT", not_null=True)
    plan = diff([table("t", slug, indexes=(index,))], state(table("t"), rows={"t"}))
    assert ops(plan) == [AddColumn("t", spec=slug)]


def test_an_index_the_model_lacks_is_an_unsafe_drop_keeping_its_stored_sql() -> None:
    stored = IndexSpec("t_name_desc", ("name",), sql="CREATE INDEX t_name_desc ON t (name DESC)")
    planned = only(diff([table("t", NAME)], state(table("t", NAME, indexes=(stored,)))))
    assert planned.operation == DropIndex("t", index=stored)
    assert isinstance(planned.operation, DropIndex)
    assert planned.operation.index.sql == "CREATE INDEX t_name_desc ON t (name DESC)"
    assert (planned.safety, planned.reason) == (Safety.UNSAFE, DROP_INDEX_REASON)


def test_a_dropped_column_and_its_index_are_both_unsafe_drops() -> None:
    nick = ColumnSpec("nick", "TEXT")
    index = IndexSpec("t_nick_index", ("nick",))
    plan = diff([table("t")], state(table("t", nick, indexes=(index,))))
    assert ops(plan) == [DropColumn("t", spec=nick), DropIndex("t", index=index)]
    assert plan.unsafe == list(plan)


@pytest.mark.parametrize(
    ("desired", "actual"),
    [
        (IndexSpec("i", ("name",)), IndexSpec("i", ("id",))),
        (IndexSpec("i", ("id", "name")), IndexSpec("i", ("name", "id"))),
        (IndexSpec("i", ("name",)), IndexSpec("i", ("name", "id"))),
        (IndexSpec("i", ("name",), unique=True), IndexSpec("i", ("name",))),
        (IndexSpec("i", ("name",)), IndexSpec("i", ("name",), unique=True)),
        (IndexSpec("i", ("name",), where="name IS NOT NULL"), IndexSpec("i", ("name",))),
        (IndexSpec("i", ("name",)), IndexSpec("i", ("name",), where="name IS NOT NULL")),
        (
            IndexSpec("i", ("name",), where="name > 'a'"),
            IndexSpec("i", ("name",), where="name > 'b'"),
        ),
        (IndexSpec("i", (IndexExpression("lower(name)"),)), IndexSpec("i", ("name",))),
        (
            IndexSpec("i", (IndexExpression("lower(name)"),)),
            IndexSpec("i", (IndexExpression("upper(name)"),)),
        ),
    ],
    ids=[
        "other-key",
        "key-order",
        "more-keys",
        "becomes-unique",
        "no-longer-unique",
        "gains-where",
        "loses-where",
        "other-where",
        "expression-for-column",
        "other-expression",
    ],
)
def test_an_index_with_other_keys_uniqueness_or_where_is_an_unsafe_alter(
    desired: IndexSpec, actual: IndexSpec
) -> None:
    planned = only(
        diff([table("t", NAME, indexes=(desired,))], state(table("t", NAME, indexes=(actual,))))
    )
    assert planned.operation == AlterIndex("t", desired=desired, actual=actual)
    assert (planned.safety, planned.reason) == (Safety.UNSAFE, ALTER_INDEX_REASON)
    assert planned.describe() == "alter index i on t"


@pytest.mark.parametrize(
    ("desired", "actual"),
    [
        (IndexSpec("i", ("Name",)), IndexSpec("I", ("nAME",))),
        (
            IndexSpec("i", (IndexExpression("lower(name)"),)),
            IndexSpec("i", (IndexExpression("LOWER( Name )"),)),
        ),
        (
            IndexSpec("i", (IndexExpression("coalesce(name,id)"), "id")),
            IndexSpec("i", (IndexExpression("COALESCE(name , id)"), "ID")),
        ),
        (
            IndexSpec("i", ("name",), where="name IS NOT NULL"),
            IndexSpec("i", ("name",), where="name  IS NOT\nNULL"),
        ),
        (
            IndexSpec("i", ("name",), sql=None),
            IndexSpec("i", ("name",), sql="CREATE INDEX i ON t (name DESC)"),
        ),
    ],
    ids=["names-case", "expression-case-space", "mixed-keys", "where-space", "sort-order"],
)
def test_indexes_that_differ_only_in_spelling_are_equal(
    desired: IndexSpec, actual: IndexSpec
) -> None:
    assert diff(
        [table("t", NAME, indexes=(desired,))], state(table("t", NAME, indexes=(actual,)))
    ).in_sync


def test_expression_keys_differing_in_a_string_literal_are_a_change() -> None:
    desired = IndexSpec("i", (IndexExpression("coalesce(name, 'N/A')"),))
    actual = IndexSpec("i", (IndexExpression("coalesce(name, 'n/a')"),))
    plan = diff([table("t", NAME, indexes=(desired,))], state(table("t", NAME, indexes=(actual,))))
    assert ops(plan) == [AlterIndex("t", desired=desired, actual=actual)]


def test_expression_keys_fold_ascii_letters_only() -> None:
    columns = (ColumnSpec("CAFÉ", "TEXT"), ColumnSpec("café", "TEXT"))
    desired = IndexSpec("i", (IndexExpression('lower("CAFÉ")'),))
    actual = IndexSpec("i", (IndexExpression('lower("café")'),))
    plan = diff(
        [TableSpec("t", columns, indexes=(desired,))],
        state(TableSpec("t", columns, indexes=(actual,))),
    )
    assert ops(plan) == [AlterIndex("t", desired=desired, actual=actual)]


def test_index_operations_come_after_columns_and_drops_last() -> None:
    nick = ColumnSpec("nick", "TEXT")
    keep = IndexSpec("t_name_index", ("name",))
    new = IndexSpec("t_nick_index", ("nick",))
    gone = IndexSpec("t_old_index", ("id",))
    changed = IndexSpec("t_name_index", ("name", "id"))
    plan = diff(
        [table("t", NAME, nick, indexes=(new, keep))],
        state(table("t", NAME, indexes=(gone, changed))),
    )
    assert ops(plan) == [
        AddColumn("t", spec=nick),
        CreateIndex("t", index=new),
        AlterIndex("t", desired=keep, actual=changed),
        DropIndex("t", index=gone),
    ]
    assert [p.safety for p in plan] == [Safety.SAFE, Safety.SAFE, Safety.UNSAFE, Safety.UNSAFE]


# -- reverse ----------------------------------------------------------------------------------

USERS = table("users", NAME, indexes=(IndexSpec("users_name_index", ("name",)),))
NICK = ColumnSpec("nick", "TEXT", default_sql="'x'")
INDEX = IndexSpec(
    "users_name_index", ("name",), sql="CREATE INDEX users_name_index ON users (name DESC)"
)
WIDER = IndexSpec("users_name_index", ("name", "id"), unique=True)
NOT_NULL_NAME = ColumnSpec("name", "INTEGER", not_null=True, default_sql="0")
CHECKED = table("users", NAME, checks=(CheckSpec("id > 0"),))

REVERSES: list[tuple[Operation, Operation]] = [
    (CreateTable("users", spec=USERS), DropTable("users", spec=USERS)),
    (DropTable("users", spec=USERS), CreateTable("users", spec=USERS)),
    (RenameTable("users", new="people"), RenameTable("people", new="users")),
    (AddColumn("users", spec=NICK), DropColumn("users", spec=NICK)),
    (DropColumn("users", spec=NICK), AddColumn("users", spec=NICK)),
    (
        RenameColumn("users", old="nick", new="nickname"),
        RenameColumn("users", old="nickname", new="nick"),
    ),
    (
        AlterColumn(
            "users",
            desired=NOT_NULL_NAME,
            actual=NAME,
            changes=("type TEXT -> INTEGER", "NULL -> NOT NULL"),
        ),
        AlterColumn(
            "users",
            desired=NAME,
            actual=NOT_NULL_NAME,
            changes=("type INTEGER -> TEXT", "NOT NULL -> NULL"),
        ),
    ),
    (CreateIndex("users", index=INDEX), DropIndex("users", index=INDEX)),
    (DropIndex("users", index=INDEX), CreateIndex("users", index=INDEX)),
    (
        AlterIndex("users", desired=WIDER, actual=INDEX),
        AlterIndex("users", desired=INDEX, actual=WIDER),
    ),
    (
        AlterTable(
            "users", desired=CHECKED, actual=USERS, changes=("table CHECK constraints differ",)
        ),
        AlterTable(
            "users", desired=USERS, actual=CHECKED, changes=("table CHECK constraints differ",)
        ),
    ),
]


@pytest.mark.parametrize(
    ("operation", "expected"), REVERSES, ids=lambda op: getattr(op, "kind", "")
)
def test_the_reverse_of_each_operation_kind(operation: Operation, expected: Operation) -> None:
    reverse = operation.reverse()
    assert reverse == expected
    assert reverse is not None and reverse.reverse() == operation


def test_every_operation_kind_has_a_reverse_case() -> None:
    every = {
        cls
        for cls in vars(operations).values()
        if isinstance(cls, type) and issubclass(cls, Operation) and cls is not Operation
    }
    assert {type(op) for op, _ in REVERSES} == every


def test_the_reverse_of_a_planned_alter_column_is_the_backward_change() -> None:
    desired = ColumnSpec("c", "INTEGER", not_null=True, unique=True, check="c > 0")
    actual = ColumnSpec("c", "TEXT", default_sql="'a'")
    planned = only(diff([TableSpec("t", (desired,))], state(TableSpec("t", (actual,)))))
    forward = planned.operation
    assert isinstance(forward, AlterColumn)
    backward = forward.reverse()
    assert backward == AlterColumn(
        "t",
        desired=actual,
        actual=desired,
        changes=tuple(column_changes(actual, desired, strict_defaults=False)),
    )
    assert backward.changes == (
        "type INTEGER -> TEXT",
        "NOT NULL -> NULL",
        "no longer UNIQUE",
        "check c > 0 -> None",
    )
    # the backward change is exactly what diff finds going the other way
    assert (
        only(diff([TableSpec("t", (actual,))], state(TableSpec("t", (desired,))))).operation
        == backward
    )
    assert backward.reverse() == forward


def test_the_reverse_of_a_planned_alter_table_swaps_desired_and_actual() -> None:
    fk = ForeignKeySpec(("id", "name"), "o", ("a", "b"))
    desired = table("t", NAME, checks=(CheckSpec("id > 0"),), foreign_keys=(fk,))
    actual = table("t", NAME)
    forward = only(diff([desired], state(actual))).operation
    assert isinstance(forward, AlterTable)
    backward = forward.reverse()
    assert isinstance(backward, AlterTable)
    assert (backward.desired, backward.actual) == (actual, desired)
    assert only(diff([actual], state(desired))).operation == backward
    assert backward.reverse() == forward


def test_the_reverse_of_an_alter_table_describes_the_backward_change() -> None:
    ab = TableSpec(
        "t",
        (
            ColumnSpec("a", "INTEGER", primary_key=True),
            ColumnSpec("b", "INTEGER", primary_key=True),
        ),
    )
    ba = TableSpec(
        "t",
        (
            ColumnSpec("b", "INTEGER", primary_key=True),
            ColumnSpec("a", "INTEGER", primary_key=True),
        ),
    )
    forward = only(diff([ab], state(ba))).operation
    assert isinstance(forward, AlterTable)
    backward = forward.reverse()
    assert isinstance(backward, AlterTable)
    assert backward.changes == tuple(table_changes(ba, ab))
    assert backward == only(diff([ba], state(ab))).operation


# -- indexes and unique constraints compare by what they mean -----------------------------------


def test_an_index_under_another_name_is_the_same_index() -> None:
    desired = table("t", NAME, indexes=(IndexSpec("t_name_index", ("name",)),))
    actual = table("t", NAME, indexes=(IndexSpec("shop_t_name_f638df20", ("NAME",)),))
    assert diff([desired], state(actual)).in_sync  # no twin index, no drop


def test_a_unique_index_and_a_unique_constraint_serve_each_other() -> None:
    x = ColumnSpec("x", "TEXT")
    as_constraint = table("t", NAME, x, unique_together=(("name", "x"),))
    as_index = table("t", NAME, x, indexes=(IndexSpec("t_name_x", ("name", "x"), unique=True),))
    assert diff([as_constraint], state(as_index)).in_sync
    assert diff([as_index], state(as_constraint)).in_sync


def test_a_missing_unique_constraint_is_added_as_a_unique_index() -> None:
    x = ColumnSpec("x", "TEXT")
    desired = table("t", NAME, x, unique_together=(("name", "x"),))
    planned = only(diff([desired], state(table("t", NAME, x))))
    assert planned.safe
    assert planned.operation == CreateIndex(
        "t", index=IndexSpec("t_name_x_unique", ("name", "x"), unique=True)
    )


def test_an_index_of_the_models_name_but_another_definition_is_still_a_change() -> None:
    desired = table("t", NAME, indexes=(IndexSpec("t_i", ("name",)),))
    actual = table("t", NAME, indexes=(IndexSpec("t_i", ("id",)),))
    assert [p.kind for p in diff([desired], state(actual))] == ["alter_index"]


def test_equivalent_type_spellings_are_the_same_for_the_models_kind() -> None:
    cases = [
        ("boolean", "BOOLEAN", "BOOL"),
        ("integer", "INTEGER", "BIGINT"),
        ("integer", "INTEGER", "INTEGER UNSIGNED"),
        ("text", "VARCHAR(40)", "NVARCHAR(40)"),
        ("text", "TEXT", "VARCHAR"),
        ("uuid", "TEXT", "CHAR(32)"),
        ("decimal", "TEXT", "DECIMAL"),
        ("decimal", "TEXT", "NUMERIC(10,2)"),
        ("json", "TEXT", "JSON"),
    ]
    for kind, declared, live in cases:
        desired = table("t", ColumnSpec("c", declared, kind=kind))
        assert diff([desired], state(table("t", ColumnSpec("c", live)))).in_sync, (kind, live)
    # a real change of storage is still one
    desired = table("t", ColumnSpec("c", "INTEGER", kind="integer"))
    assert [p.kind for p in diff([desired], state(table("t", ColumnSpec("c", "TEXT"))))] == [
        "alter_column"
    ]
    # a rowid alias and another key type are never the same
    key = ColumnSpec("id", "INTEGER", primary_key=True, kind="integer")
    live_key = ColumnSpec("id", "BIGINT", primary_key=True)
    assert not diff([TableSpec("t", (key,))], state(TableSpec("t", (live_key,)))).in_sync


def test_collation_and_deferrable_foreign_keys_are_compared() -> None:
    desired = table("t", ColumnSpec("c", "TEXT", collate="NOCASE"))
    (planned,) = diff([desired], state(table("t", ColumnSpec("c", "TEXT"))))
    assert planned.operation.changes == ("collate BINARY -> NOCASE",)  # type: ignore[attr-defined]
    deferred = Reference("users", "id", deferrable=True)
    desired = table("t", ColumnSpec("c", "INTEGER", references=deferred))
    live = table("t", ColumnSpec("c", "INTEGER", references=Reference("users", "id")))
    (planned,) = diff([desired], state(live))
    assert planned.kind == "alter_column"


def test_a_default_on_one_side_only_is_a_note_unless_strict() -> None:
    in_python = table("t", ColumnSpec("c", "INTEGER", not_null=True, default_sql="1"))
    in_database = table("t", ColumnSpec("c", "INTEGER", not_null=True))
    plan = diff([in_python], state(in_database))
    assert plan.in_sync and not plan  # writes through the package always give a value
    assert plan.notes == (
        "table t: column c has no DEFAULT in the database; the model's default 1 applies to "
        "writes through this package only",
    )
    assert "Notes (not drift):" in str(plan)
    assert diff([in_database], state(in_python)).notes == (
        "table t: column c has DEFAULT 1 in the database, which the model does not declare",
    )
    strict = diff([in_python], state(in_database), strict_defaults=True)
    assert [p.kind for p in strict] == ["alter_column"] and strict.notes == ()
    # different values on both sides are drift either way
    other = table("t", ColumnSpec("c", "INTEGER", not_null=True, default_sql="2"))
    assert [p.kind for p in diff([in_python], state(other))] == ["alter_column"]
