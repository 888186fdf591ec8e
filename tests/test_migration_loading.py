"""What ``migrations=`` accepts: a list, a dict, a module namespace, a package of migration
files (ordered by file name), or a directory path; and the errors for anything else."""

from __future__ import annotations

import importlib
import sys
import types
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from hedystia_models import MigrationDefinition, MigrationError, database, migration
from hedystia_models.context import MigrationContext
from hedystia_models.migrate.migrations import load_migrations


def create(table: str) -> MigrationDefinition:
    def up(ctx: MigrationContext) -> None:
        ctx.sql(f'CREATE TABLE "{table}" (id INTEGER PRIMARY KEY)')

    def down(ctx: MigrationContext) -> None:
        ctx.schema.drop_table(table)

    return migration(f"create_{table}", up=up, down=down)


def names(found: list[MigrationDefinition]) -> list[str]:
    return [m.name for m in found]


def migration_file(name: str, table: str) -> str:
    """The text of a migration file defining ``name``, which creates ``table``."""
    return (
        "from hedystia_models import migration\n\n\n"
        "def up(ctx):\n"
        f'    ctx.sql("CREATE TABLE {table} (id INTEGER PRIMARY KEY)")\n\n\n'
        "def down(ctx):\n"
        f'    ctx.schema.drop_table("{table}")\n\n\n'
        f"definition = migration({name!r}, up=up, down=down)\n"
    )


# -- lists and dicts --------------------------------------------------------------------------


def test_none_and_empty_mean_no_migrations() -> None:
    assert load_migrations(None) == []
    assert load_migrations([]) == []
    assert load_migrations({}) == []


def test_a_list_keeps_its_order() -> None:
    b, a = create("b"), create("a")
    assert load_migrations([b, a]) == [b, a]
    assert load_migrations((a, b)) == [a, b]
    assert load_migrations(m for m in [b, a]) == [b, a]


def test_a_dict_keeps_the_order_of_its_values() -> None:
    first, second = create("first"), create("second")
    assert load_migrations({"z": first, "a": second}) == [first, second]


@pytest.mark.parametrize(
    ("source", "match"),
    [
        ([create("a"), "create_b"], "not a migration"),
        ({"a": create("a"), "b": 3}, "not a migration"),
        (42, "migrations must be a list, a dict, a module, a package or a directory"),
        ([create("a"), create("a")], "two migrations are named 'create_a'"),
    ],
    ids=["list-with-a-string", "dict-with-an-int", "int", "duplicate"],
)
def test_bad_sources_are_refused(source: object, match: str) -> None:
    with pytest.raises(MigrationError, match=match):
        load_migrations(source)


# -- module namespaces ------------------------------------------------------------------------


def test_a_module_namespace_gives_every_definition_in_definition_order() -> None:
    module = types.ModuleType("app_migrations")
    module.create_users = create("users")  # type: ignore[attr-defined]
    module.helper = lambda: None  # type: ignore[attr-defined]
    module.VERSION = 3  # type: ignore[attr-defined]
    module.create_posts = create("posts")  # type: ignore[attr-defined]
    module.latest = module.create_posts  # type: ignore[attr-defined]  # an alias: once
    module.add_index = create("tags")  # type: ignore[attr-defined]
    assert names(load_migrations(module)) == ["create_users", "create_posts", "create_tags"]


def test_a_module_namespace_as_database_migrations(db_path: Path) -> None:
    module = types.ModuleType("app_migrations")
    module.create_users = create("users")  # type: ignore[attr-defined]
    module.create_posts = create("posts")  # type: ignore[attr-defined]
    with database(schemas=[], connection=db_path, run_migrations=True, migrations=module) as db:
        assert [m.name for m in db.migration_status().applied] == ["create_users", "create_posts"]
        assert db.migrate_down(2) == ["create_posts", "create_users"]


def test_this_test_module_is_a_namespace_too() -> None:
    # A real module imported the usual way: only MigrationDefinition values are taken.
    this = sys.modules[__name__]
    assert load_migrations(this) == [MODULE_LEVEL_MIGRATION]


MODULE_LEVEL_MIGRATION = create("module_level")


# -- packages of migration files --------------------------------------------------------------


@pytest.fixture
def package(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[str, Path]]:
    """A fresh, importable package name and its (empty) folder; removed from sys.modules
    afterwards."""
    name = f"migs_{uuid.uuid4().hex[:8]}"
    folder = tmp_path / "src" / name
    folder.mkdir(parents=True)
    monkeypatch.syspath_prepend(str(tmp_path / "src"))
    yield name, folder
    for key in [k for k in sys.modules if k == name or k.startswith(f"{name}.")]:
        del sys.modules[key]


def test_a_package_of_migration_files_is_ordered_by_file_name(
    package: tuple[str, Path], db_path: Path
) -> None:
    name, folder = package
    (folder / "__init__.py").write_text("")
    # Written out of order, and named so that sorting by migration name would differ.
    (folder / "m0003_tags.py").write_text(migration_file("a_create_tags", "tags"))
    (folder / "m0001_users.py").write_text(migration_file("z_create_users", "users"))
    (folder / "m0002_posts.py").write_text(migration_file("m_create_posts", "posts"))
    (folder / "notes.txt").write_text("not python")
    imported = importlib.import_module(name)

    found = load_migrations(imported)
    assert names(found) == ["z_create_users", "m_create_posts", "a_create_tags"]
    with database(schemas=[], connection=db_path, run_migrations=True, migrations=imported) as db:
        assert [m.name for m in db.migration_status().applied] == names(found)
        tables = db.raw("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY rowid")
        created = [t["name"] for t in tables if not t["name"].startswith(("__", "sqlite_"))]
        assert created == ["users", "posts", "tags"]


def test_a_package_file_with_several_migrations_keeps_their_order(
    package: tuple[str, Path],
) -> None:
    name, folder = package
    (folder / "__init__.py").write_text(
        "from hedystia_models import migration\n\n"
        "in_init = migration('in_init', up=lambda ctx: None)\n"
    )
    (folder / "m0001_two.py").write_text(
        "from hedystia_models import migration\n\n"
        "second = migration('b_second', up=lambda ctx: None)\n"
        "first = migration('a_first', up=lambda ctx: None)\n"
    )
    found = load_migrations(importlib.import_module(name))
    assert names(found) == ["in_init", "b_second", "a_first"]


def test_duplicate_names_across_package_files_are_refused(package: tuple[str, Path]) -> None:
    name, folder = package
    (folder / "__init__.py").write_text("")
    (folder / "m0001_a.py").write_text(migration_file("create_things", "things"))
    (folder / "m0002_b.py").write_text(migration_file("create_things", "other_things"))
    with pytest.raises(MigrationError, match="two migrations are named 'create_things'"):
        load_migrations(importlib.import_module(name))


# -- directories ------------------------------------------------------------------------------


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    path = tmp_path / "migrations"
    path.mkdir()
    (path / "0002_posts.py").write_text(migration_file("create_posts", "posts"))
    (path / "0001_users.py").write_text(migration_file("create_users", "users"))
    (path / "0010_tags.py").write_text(migration_file("create_tags", "tags"))
    (path / "_helpers.py").write_text("raise RuntimeError('helpers are not migrations')\n")
    (path / "README.md").write_text("# migrations\n")
    return path


def test_a_directory_is_loaded_in_file_name_order(folder: Path) -> None:
    expected = ["create_users", "create_posts", "create_tags"]
    assert names(load_migrations(folder)) == expected  # a Path
    assert names(load_migrations(str(folder))) == expected  # or a str


def test_a_directory_as_database_migrations(folder: Path, db_path: Path) -> None:
    with database(schemas=[], connection=db_path, run_migrations=True, migrations=folder) as db:
        assert db.migration_status().pending == []
        assert db.migrate_down() == ["create_tags"]
    # Reopened later from the same directory, nothing runs twice.
    with database(schemas=[], connection=db_path, run_migrations=True, migrations=folder) as db:
        assert [m.name for m in db.migration_status().applied] == [
            "create_users",
            "create_posts",
            "create_tags",
        ]


def test_a_missing_directory_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(MigrationError, match="does not exist"):
        load_migrations(tmp_path / "nowhere")


def test_a_file_that_fails_to_import_is_named(folder: Path, db_path: Path) -> None:
    (folder / "0003_broken.py").write_text("import no_such_module_anywhere\n")
    with pytest.raises(MigrationError, match=r"0003_broken\.py failed to import") as caught:
        database(schemas=[], connection=db_path, run_migrations=True, migrations=folder)
    assert isinstance(caught.value.__cause__, ModuleNotFoundError)
    assert not db_path.exists() or db_path.stat().st_size == 0  # nothing ran


def test_duplicate_names_in_a_directory_are_an_error_before_anything_runs(
    folder: Path, db_path: Path
) -> None:
    (folder / "0004_again.py").write_text(migration_file("create_users", "users_again"))
    with pytest.raises(MigrationError, match="two migrations are named 'create_users'"):
        database(schemas=[], connection=db_path, run_migrations=True, migrations=folder)
    assert not db_path.exists() or db_path.stat().st_size == 0
