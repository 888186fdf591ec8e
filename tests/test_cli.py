"""The ``hedystia-models`` command line, driven in-process through click's CliRunner.

Each test gets a throw-away project: a pyproject.toml whose ``[tool.hedystia-models]`` names a
schemas package with a unique module name (the CLI imports it by name, and imported modules are
cached per process), and the project directory as working directory.
"""

from __future__ import annotations

import json
import re
import sqlite3
import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest
from cli_project import Project, make_runner, open_project, write_pyproject
from click.testing import CliRunner, Result

from hedystia_models import __version__
from hedystia_models.cli import main
from hedystia_models.cli.config import load_settings

TIMESTAMPED = re.compile(r"^\d{14}_(?P<slug>\w+)\.py$")
ISO_TIME = r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}\+00:00"

USERS = """
    from datetime import datetime

    from hedystia_models import Field, Table, utcnow


    class User(Table, table="users"):
        id: int | None = Field(default=None, primary_key=True, auto_increment=True)
        name: str = ""
        created_at: datetime = Field(default_factory=utcnow)
"""


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Project]:
    yield from open_project(tmp_path, monkeypatch)


def one_line_error(result: Result) -> str:
    """The single stderr line of a user mistake (exit status 2, no traceback)."""
    assert result.exit_code == 2, (result.stdout, result.stderr)
    assert "Traceback" not in result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("error: ")
    return lines[0]


# -- help, version, entry points --------------------------------------------------------------


def test_help_lists_every_command(project: Project) -> None:
    result = project.ok("--help")
    for command in ("schema", "migration", "migrate", "history", "sync", "check"):
        assert re.search(rf"^  {command}\s", result.stdout, re.M), command
    assert "[tool.hedystia-models]" in result.stdout


def test_version(project: Project) -> None:
    assert project.ok("--version").stdout.strip() == f"hedystia-models, version {__version__}"


def test_short_help_option(project: Project) -> None:
    assert project.ok("migrate", "down", "-h").stdout.startswith(
        "Usage: hedystia-models migrate down [OPTIONS]"
    )


# -- configuration ----------------------------------------------------------------------------


def test_connection_precedence_flag_over_env_over_pyproject(project: Project) -> None:
    project.model("users", USERS)
    env = {"HEDYSTIA_DATABASE": "from_env.db"}

    project.ok("sync")  # pyproject: app.db
    assert (project.root / "app.db").exists()
    assert not (project.root / "from_env.db").exists()

    assert project.run("sync", env=env).exit_code == 0  # env beats pyproject
    assert (project.root / "from_env.db").exists()

    assert project.run("--connection", "from_flag.db", "sync", env=env).exit_code == 0
    assert (project.root / "from_flag.db").exists()  # flag beats env

    for name in ("app.db", "from_env.db", "from_flag.db"):
        conn = sqlite3.connect(project.root / name)
        syncs = conn.execute("SELECT count(*) FROM __hedystia_migrations").fetchone()[0]
        conn.close()
        assert syncs == 1, name  # each command wrote to exactly one file


def test_schemas_and_migrations_flags_beat_pyproject(project: Project) -> None:
    write_pyproject(
        project.root, schemas="no_such_module_anywhere", migrations="nowhere", connection="app.db"
    )
    project.model("users", USERS)
    assert "no_such_module_anywhere" in one_line_error(project.run("sync"))
    project.ok("--schemas", project.schemas_module, "sync")
    assert project.tables() == {"users"}

    assert "nowhere" in one_line_error(project.run("migrate", "status"))
    (project.root / "migs").mkdir()
    assert project.ok("--migrations", "migs", "migrate", "status").stdout == "no migrations\n"


def test_env_overrides_only_the_connection(project: Project) -> None:
    settings = load_settings(cwd=project.root, environ={"HEDYSTIA_DATABASE": "env.db"})
    assert settings.connection == "env.db"
    assert settings.schemas == project.schemas_module
    assert settings.migrations == project.root / "database" / "migrations"
    flagged = load_settings(
        cwd=project.root,
        environ={"HEDYSTIA_DATABASE": "env.db"},
        connection="flag.db",
        schemas="other.mod",
        migrations="m",
    )
    assert (flagged.connection, flagged.schemas) == ("flag.db", "other.mod")
    assert flagged.migrations == project.root / "m"


def test_pyproject_is_found_walking_up_and_paths_are_relative_to_it(
    project: Project, monkeypatch: pytest.MonkeyPatch
) -> None:
    project.model("users", USERS)
    deep = project.root / "src" / "deeper"
    deep.mkdir(parents=True)
    monkeypatch.chdir(deep)
    project.ok("sync")
    assert project.tables() == {"users"}  # root/app.db, not src/deeper/app.db
    assert not (deep / "app.db").exists()
    result = project.ok("migration", "create", "first")
    assert len(project.migration_files()) == 1  # root/database/migrations
    assert project.migration_files()[0].name in result.stdout


def test_unknown_pyproject_key_is_one_line(project: Project) -> None:
    (project.root / "pyproject.toml").write_text(
        '[tool.hedystia-models]\nschemas = "x"\nconection = "typo.db"\n', encoding="utf-8"
    )
    line = one_line_error(project.run("sync"))
    assert "unknown key(s) in [tool.hedystia-models]: conection" in line


def test_broken_pyproject_is_one_line(project: Project) -> None:
    (project.root / "pyproject.toml").write_text("[tool.hedystia-models\n", encoding="utf-8")
    assert "cannot read" in one_line_error(project.run("check"))


# -- user mistakes ----------------------------------------------------------------------------


def test_missing_connection(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("HEDYSTIA_DATABASE", raising=False)
    result = make_runner().invoke(main, ["sync"])
    line = one_line_error(result)
    assert line == (
        "error: no database configured: set connection in [tool.hedystia-models], "
        "HEDYSTIA_DATABASE, or pass --connection"
    )
    assert list(tmp_path.iterdir()) == []


def test_missing_schemas_setting(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("HEDYSTIA_DATABASE", raising=False)
    write_pyproject(tmp_path, connection="app.db")
    for command in (["sync"], ["check"], ["migration", "create", "x", "--auto"]):
        line = one_line_error(make_runner().invoke(main, command))
        assert line == (
            "error: no schemas module configured: set schemas in [tool.hedystia-models] "
            "or pass --schemas"
        ), command


def test_schemas_module_that_does_not_exist(project: Project) -> None:
    line = one_line_error(project.run("--schemas", "nope_zz_404.models", "sync"))
    assert line == (
        "error: cannot import the schemas module 'nope_zz_404.models': "
        "ModuleNotFoundError: No module named 'nope_zz_404'"
    )


def test_schemas_module_that_raises_on_import(project: Project) -> None:
    project.model("users", "raise RuntimeError('boom at import')\n")
    line = one_line_error(project.run("sync"))
    assert line == (
        f"error: cannot import the schemas module '{project.schemas_module}': "
        "RuntimeError: boom at import"
    )
    verbose = project.run("--verbose", "sync")
    assert verbose.exit_code == 2
    assert "Traceback (most recent call last)" in verbose.stderr
    assert "RuntimeError: boom at import" in verbose.stderr
    assert verbose.stderr.strip().splitlines()[-1] == line


def test_schemas_module_with_a_syntax_error(project: Project) -> None:
    path = project.model("users", "class User(\n")
    line = one_line_error(project.run("sync"))
    assert line.startswith(f"error: cannot import the schemas module '{project.schemas_module}'")
    assert "SyntaxError" in line and f"({path}, line 1)" in line


def test_schemas_module_without_tables(project: Project) -> None:
    project.model("users", "X = 1\n")
    line = one_line_error(project.run("sync"))
    assert line == f"error: module '{project.schemas_module}' defines no Table models"


def test_missing_migrations_directory(project: Project) -> None:
    expected = f"error: migrations directory '{project.migrations_dir}' does not exist"
    for command in (("migrate", "up"), ("migrate", "down"), ("migrate", "status")):
        assert one_line_error(project.run(*command)) == expected
    # Commands that only read migrations treat a missing directory as "no migrations".
    project.model("users", USERS)
    project.ok("sync")
    assert project.ok("check").stdout == "ok: database matches the models\n"


def test_missing_database_directory(project: Project) -> None:
    project.model("users", USERS)
    line = one_line_error(project.run("--connection", "no/such/dir/app.db", "sync"))
    assert line == "error: directory 'no/such/dir' for the database does not exist"


def test_locked_database(project: Project) -> None:
    project.model("users", USERS)
    sqlite3.connect(project.db_path).close()
    holder = sqlite3.connect(project.db_path, isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")  # hold the write lock
    try:
        line = one_line_error(project.run("--busy-timeout", "0.1", "sync"))
        assert line == (
            "error: database is locked (another process holds the write lock; try again or "
            "raise --busy-timeout)"
        )
        verbose = project.run("--busy-timeout", "0.1", "--verbose", "sync")
        assert verbose.exit_code == 2
        assert "Traceback (most recent call last)" in verbose.stderr
        assert "sqlite3.OperationalError: database is locked" in verbose.stderr
        assert verbose.stderr.strip().splitlines()[-1] == line
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    assert project.tables() == set()  # nothing was applied while locked
    project.ok("sync")
    assert project.tables() == {"users"}


def test_locked_database_during_a_migration(project: Project) -> None:
    project.ok("migration", "create", "first")
    holder = sqlite3.connect(project.db_path, isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")
    try:
        line = one_line_error(project.run("--busy-timeout", "0.1", "migrate", "up"))
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    assert "database is locked" in line
    assert line.endswith(
        "(another process holds the write lock; try again or raise --busy-timeout)"
    )
    assert "applied" in project.ok("migrate", "up").stdout


def test_unusable_names(project: Project) -> None:
    assert one_line_error(project.run("schema", "create", "--", "---")) == (
        "error: '---' is not a usable name"
    )
    assert one_line_error(project.run("schema", "create", "1st")) == (
        "error: '1st' does not give a class name; start it with a letter"
    )
    assert not project.schemas_dir.exists()


# -- schema create ----------------------------------------------------------------------------


def test_schema_create_writes_a_table_class(project: Project) -> None:
    result = project.ok("schema", "create", "users")
    path = project.schemas_dir / "users.py"
    assert result.stdout == f"created {path.relative_to(project.root)}\n"
    assert result.stderr == ""
    assert (project.schemas_dir / "__init__.py").exists()
    source = path.read_text(encoding="utf-8")
    assert 'class Users(Table, table="users"):' in source
    assert "primary_key=True, auto_increment=True" in source

    project.ok("sync")
    assert project.columns("users") == ["id", "created_at", "updated_at"]
    sql = project.query("SELECT sql FROM sqlite_master WHERE name = 'users'")[0][0]
    assert '"id" INTEGER PRIMARY KEY AUTOINCREMENT' in str(sql)


def test_schema_shorthand_and_class_names(project: Project) -> None:
    project.ok("schema", "BlogPosts")
    source = (project.schemas_dir / "blog_posts.py").read_text(encoding="utf-8")
    assert 'class BlogPosts(Table, table="blog_posts"):' in source


def test_schema_create_refuses_to_overwrite(project: Project) -> None:
    path = project.model("users", "# mine, hands off\n")
    line = one_line_error(project.run("schema", "create", "users"))
    assert line == f"error: {path.relative_to(project.root)} already exists; not overwriting it"
    assert path.read_text(encoding="utf-8") == "# mine, hands off\n"


def test_schema_create_path_outside_the_schemas_module(project: Project) -> None:
    result = project.ok("schema", "create", "tags", "--path", "elsewhere")
    assert result.stdout == "created elsewhere/tags.py\n"
    assert (project.root / "elsewhere" / "tags.py").exists()
    assert (project.root / "elsewhere" / "__init__.py").exists()
    assert result.stderr.startswith("note: elsewhere/tags.py is outside the configured schemas")


def test_schema_create_without_schemas_setting_uses_database_schemas(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    result = make_runner().invoke(main, ["schema", "users"])
    assert result.exit_code == 0
    assert (tmp_path / "database" / "schemas" / "users.py").exists()
    assert "set schemas in [tool.hedystia-models]" in result.stderr


# -- migration create -------------------------------------------------------------------------


def test_migration_create_writes_an_empty_migration_that_runs(project: Project) -> None:
    result = project.ok("migration", "create", "Add things")
    [path] = project.migration_files()
    match = TIMESTAMPED.match(path.name)
    assert match and match.group("slug") == "add_things"
    assert result.stdout == f"created {path.relative_to(project.root)}\n"
    source = path.read_text(encoding="utf-8")
    assert "def up(ctx: MigrationContext) -> None:" in source
    assert "def down(ctx: MigrationContext) -> None:" in source
    assert f"migration({path.stem!r}, up=up, down=down)" in source
    assert project.ok("migrate", "up").stdout == f"applied {path.stem}\n"
    assert project.ok("migrate", "down").stdout == f"rolled back {path.stem}\n"


def test_migration_shorthand_no_id_and_path(project: Project) -> None:
    project.ok("migration", "seed")
    project.ok("migration", "create", "seed_more", "--no-id", "--path", "other")
    assert TIMESTAMPED.match(project.migration_files()[0].name)
    assert (project.root / "other" / "seed_more.py").exists()
    result = project.ok("--migrations", "other", "migrate", "up")
    assert result.stdout == "applied seed_more\n"


def test_migration_create_refuses_to_overwrite(project: Project) -> None:
    project.ok("migration", "create", "once", "--no-id")
    path = project.migrations_dir / "once.py"
    path.write_text(path.read_text(encoding="utf-8") + "# edited\n", encoding="utf-8")
    line = one_line_error(project.run("migration", "create", "once", "--no-id"))
    assert line == "error: database/migrations/once.py already exists; not overwriting it"
    assert path.read_text(encoding="utf-8").endswith("# edited\n")


def test_auto_with_nothing_to_do_writes_no_file(project: Project) -> None:
    project.model("users", USERS)
    project.ok("sync")
    result = project.ok("migration", "create", "noop", "--auto")
    assert result.stdout == "database matches the models: nothing to generate, no file written\n"
    assert project.migration_files() == []
    shorthand = project.ok("migration", "noop", "--auto")  # `migration NAME` = create NAME
    assert shorthand.stdout == result.stdout
    assert not project.migrations_dir.exists()


def test_auto_takes_the_database_to_the_models_and_back(project: Project) -> None:
    project.model("users", USERS)
    result = project.ok("migration", "create", "initial", "--auto")
    [path] = project.migration_files()
    source = path.read_text(encoding="utf-8")
    assert "ctx.schema.create_table(" in source
    assert "ctx.schema.drop_table('users')" in source
    assert "#" not in source.split('"""', 2)[2]  # nothing commented out
    assert result.stderr == ""

    assert project.tables() == set()  # creating the migration applied nothing
    project.ok("migrate", "up")
    assert project.columns("users") == ["id", "name", "created_at"]
    assert project.ok("check").stdout == "ok: database matches the models\n"
    project.ok("migrate", "down")
    assert project.tables() == set()


def test_auto_writes_unsafe_differences_as_comments_and_still_runs(project: Project) -> None:
    project.model(
        "users",
        """
        from hedystia_models import Field, Table


        class User(Table, table="users"):
            id: int | None = Field(default=None, primary_key=True)
            name: str = ""
            age: int = 0
            legacy: str | None = None
        """,
    )
    project.ok("sync")
    # The model drops `legacy`, turns `age` into text and gains `email`.
    project.model(
        "users",
        """
        from hedystia_models import Field, Table


        class User(Table, table="users"):
            id: int | None = Field(default=None, primary_key=True)
            name: str = ""
            age: str = "0"
            email: str | None = Field(default=None, index=True)
        """,
    )
    result = project.ok("migration", "create", "rework_users", "--auto")
    assert result.stderr == "note: 2 difference(s) were written as comments; review them\n"
    [path] = project.migration_files()
    source = path.read_text(encoding="utf-8")
    up = source.split("def up(", 1)[1].split("def down(", 1)[0]

    # The safe part is live code ...
    assert "\n    ctx.schema.add_column('users', 'email'" in up
    assert "\n    ctx.schema.add_index('users', ['email'], name='users_email_index')" in up
    # ... the unsafe part is commented out, each with its reason.
    assert "    # UNSAFE: the column exists in the database but not in the model\n" in up
    assert "    # ctx.schema.drop_column('users', 'legacy')\n" in up
    assert "    # UNSAFE: alter column users.age: type INTEGER -> TEXT" in up
    assert "    # To make the change, uncomment this: the table is rebuilt with its rows" in up
    assert "    # ctx.schema.alter_column(" in up
    live = [line for line in up.splitlines() if line.strip() and not line.strip().startswith("#")]
    assert not any("legacy" in line or "'age'" in line for line in live)

    # It imports and runs as written: up applies the safe part, down undoes it.
    project.ok("migrate", "up")
    assert project.columns("users") == ["id", "name", "age", "legacy", "email"]
    check = project.run("check")
    assert check.exit_code == 1  # the unsafe differences are still there, for a human
    assert "  - schema: drop column users.legacy\n" in check.stdout
    assert "  - schema: alter column users.age: type INTEGER -> TEXT" in check.stdout
    project.ok("migrate", "down")
    assert project.columns("users") == ["id", "name", "age", "legacy"]


def test_auto_with_only_unsafe_differences_still_imports(project: Project) -> None:
    project.model("users", USERS)
    project.model(
        "tags",
        """
        from hedystia_models import Field, Table


        class Tag(Table, table="tags"):
            id: int | None = Field(default=None, primary_key=True)
            label: str
        """,
    )
    project.ok("sync")
    (project.schemas_dir / "tags.py").unlink()  # the model set no longer has `tags`
    project.ok("migration", "create", "drop_tags", "--auto")
    [path] = project.migration_files()
    source = path.read_text(encoding="utf-8")
    assert "    # UNSAFE: " in source
    assert "    # ctx.schema.drop_table('tags')\n    pass\n" in source
    assert "# ctx.schema.create_table(" in source  # the undo, commented out in down too

    project.ok("migrate", "up")  # nothing live to run, but it loads and is recorded
    assert project.tables() == {"users", "tags"}

    # Uncommenting is all it takes to make the decision: the spec classes the commented code
    # needs (TableSpec, ColumnSpec) are imported already.
    project.ok("migrate", "down")
    uncommented = []
    for line in source.splitlines():
        if line.startswith(("    # UNSAFE", "    # undo of")):
            continue
        uncommented.append(line.replace("    # ", "    ", 1) if line.startswith("    # ") else line)
    path.write_text("\n".join(uncommented) + "\n", encoding="utf-8")
    project.ok("migrate", "up")
    assert project.tables() == {"users"}
    assert project.ok("check").exit_code == 0
    project.ok("migrate", "down")
    assert project.tables() == {"users", "tags"}
    assert project.columns("tags") == ["id", "label"]


def test_auto_refuses_while_migrations_are_pending(project: Project) -> None:
    project.model("users", USERS)
    project.ok("migration", "create", "initial", "--auto")
    [path] = project.migration_files()
    line = one_line_error(project.run("migration", "create", "again", "--auto"))
    assert line == (
        f"error: 1 migration(s) pending ({path.stem}): run `migrate up` first, or the new "
        "migration would repeat their changes"
    )
    assert project.migration_files() == [path]


# -- migrate up / down / status ---------------------------------------------------------------


def make_migrations(project: Project, *names: str) -> list[str]:
    """Hand-written migrations, each creating a table named after it."""
    project.migrations_dir.mkdir(parents=True, exist_ok=True)
    for name in names:
        (project.migrations_dir / f"{name}.py").write_text(
            textwrap.dedent(
                f"""
                from hedystia_models import migration


                def up(ctx):
                    ctx.sql('CREATE TABLE "{name}" (id INTEGER PRIMARY KEY)')


                def down(ctx):
                    ctx.sql('DROP TABLE "{name}"')


                m = migration({name!r}, up=up, down=down)
                """
            ),
            encoding="utf-8",
        )
    return list(names)


def test_migrate_up_and_down(project: Project) -> None:
    make_migrations(project, "m1", "m2", "m3")
    assert project.ok("migrate", "up").stdout == "applied m1\napplied m2\napplied m3\n"
    assert project.tables() == {"m1", "m2", "m3"}
    assert project.ok("migrate", "up").stdout == "no pending migrations\n"
    assert project.ok("migrate", "down").stdout == "rolled back m3\n"
    assert project.ok("migrate", "down", "--steps", "5").stdout == (
        "rolled back m2\nrolled back m1\n"
    )
    assert project.tables() == set()
    assert project.ok("migrate", "down").stdout == "no applied migrations to roll back\n"


def test_migrate_down_rejects_zero_steps(project: Project) -> None:
    make_migrations(project, "m1")
    result = project.run("migrate", "down", "--steps", "0")
    assert result.exit_code == 2
    assert "Invalid value for '--steps'" in result.stderr


def test_failing_migration_is_one_line_and_rolled_back(project: Project) -> None:
    project.migrations_dir.mkdir(parents=True)
    (project.migrations_dir / "bad.py").write_text(
        "from hedystia_models import migration\n\n\n"
        "def up(ctx):\n"
        "    ctx.sql('CREATE TABLE half (id INTEGER)')\n"
        "    ctx.sql('SELECT * FROM no_such_table')\n\n\n"
        "m = migration('bad', up=up)\n",
        encoding="utf-8",
    )
    line = one_line_error(project.run("migrate", "up"))
    assert line == (
        "error: migration 'bad' failed during up and was rolled back: "
        "OperationalError: no such table: no_such_table"
    )
    assert project.tables() == set()


def test_migrate_status_text(project: Project) -> None:
    make_migrations(project, "m1", "m2", "m3")
    assert project.ok("migrate", "status").stdout == ("pending  m1\npending  m2\npending  m3\n")
    project.ok("migrate", "up")
    project.ok("migrate", "down")
    lines = project.ok("migrate", "status").stdout.splitlines()
    assert re.fullmatch(rf"applied  {ISO_TIME}  m1", lines[0])
    assert re.fullmatch(rf"applied  {ISO_TIME}  m2", lines[1])
    assert lines[2] == "pending  m3"

    # Edit m1 after it was applied, delete m2 from the code.
    m1 = project.migrations_dir / "m1.py"
    m1.write_text(m1.read_text(encoding="utf-8").replace("PRIMARY KEY", "PRIMARY KEY, x"))
    (project.migrations_dir / "m2.py").unlink()
    lines = project.ok("migrate", "status").stdout.splitlines()
    assert re.fullmatch(rf"applied  {ISO_TIME}  m1 \(EDITED after it was applied\)", lines[0])
    assert re.fullmatch(rf"applied  {ISO_TIME}  m2 \(MISSING from the code\)", lines[1])
    assert lines[2] == "pending  m3"


def test_migrate_status_json(project: Project) -> None:
    make_migrations(project, "m1", "m2", "m3")
    project.ok("migrate", "up")
    project.ok("migrate", "down")
    m1 = project.migrations_dir / "m1.py"
    m1.write_text(m1.read_text(encoding="utf-8").replace("PRIMARY KEY", "PRIMARY KEY, x"))
    data = json.loads(project.ok("migrate", "status", "--json").stdout)
    assert [m["name"] for m in data["applied"]] == ["m1", "m2"]
    assert all(re.fullmatch(ISO_TIME, m["executed_at"]) for m in data["applied"])
    assert [m["edited"] for m in data["applied"]] == [True, False]
    assert [m["missing"] for m in data["applied"]] == [False, False]
    assert all(isinstance(m["checksum"], str) for m in data["applied"])
    assert data["pending"] == ["m3"]
    assert data["edited"] == ["m1"]
    assert data["missing"] == []


def test_migrate_status_without_migrations(project: Project) -> None:
    project.migrations_dir.mkdir(parents=True)
    assert project.ok("migrate", "status").stdout == "no migrations\n"
    data = json.loads(project.ok("migrate", "status", "--json").stdout)
    assert data == {"applied": [], "pending": [], "edited": [], "missing": []}


def test_broken_migration_file(project: Project) -> None:
    project.model("users", USERS)
    project.migrations_dir.mkdir(parents=True)
    broken = project.migrations_dir / "0001_broken.py"
    broken.write_text("def up(ctx):\n", encoding="utf-8")
    line = one_line_error(project.run("migrate", "status"))
    assert line.startswith(f"error: migration file {broken} failed to import: ")
    # sync and history do not run migrations, so a broken file does not stand in their way.
    project.ok("sync")
    assert project.ok("history").exit_code == 0
    # check does: it cannot say whether the migrations are applied.
    assert one_line_error(project.run("check")) == line


# -- history ----------------------------------------------------------------------------------


def test_history_lists_syncs_and_migrations(project: Project) -> None:
    assert project.ok("history").stdout == "no history yet\n"
    assert json.loads(project.ok("history", "--json").stdout) == []

    project.model("users", USERS)
    project.ok("sync")
    make_migrations(project, "m1")
    project.ok("migrate", "up")

    text = project.ok("history").stdout.splitlines()
    assert re.fullmatch(rf"{ISO_TIME}  sync       sync_\d{{8}}T\d{{6}}_[0-9a-f]{{6}}", text[0])
    assert text[1] == '    CREATE TABLE "users" ('
    assert re.fullmatch(rf"{ISO_TIME}  migration  m1", text[-2])
    assert text[-1] == '    CREATE TABLE "m1" (id INTEGER PRIMARY KEY);'

    data = json.loads(project.ok("history", "--json").stdout)
    assert [(row["kind"], row["id"]) for row in data] == [("sync", 1), ("migration", 2)]
    assert data[0]["statements"][0].startswith('CREATE TABLE "users" (')
    assert data[0]["checksum"] is None
    assert data[1]["name"] == "m1"
    assert data[1]["statements"] == ['CREATE TABLE "m1" (id INTEGER PRIMARY KEY)']
    assert isinstance(data[1]["checksum"], str)
    assert set(data[0]) == {"id", "name", "kind", "executed_at", "checksum", "statements"}

    project.ok("migrate", "down")  # rolling back removes the migration's row
    assert [row["kind"] for row in json.loads(project.ok("history", "--json").stdout)] == ["sync"]


# -- sync -------------------------------------------------------------------------------------


def test_sync_dry_run_prints_the_plan_and_changes_nothing(project: Project) -> None:
    project.model("users", USERS)
    result = project.ok("sync", "--dry-run")
    assert result.stdout.startswith("Will apply:\n  + create table users (id, name, created_at)\n")
    assert '      CREATE TABLE "users" (\n' in result.stdout
    assert "applied" not in result.stdout
    assert project.tables() == set()
    assert project.ok("history").stdout == "no history yet\n"


def test_sync_applies_and_is_idempotent(project: Project) -> None:
    project.model("users", USERS)
    result = project.ok("sync")
    assert result.stdout.endswith("applied\n")
    assert project.tables() == {"users"}
    assert project.ok("sync").stdout == "Database matches the models: nothing to do.\n"
    assert len(json.loads(project.ok("history", "--json").stdout)) == 1


def test_sync_dry_run_json_and_unsafe_findings(project: Project) -> None:
    project.model("users", USERS)
    project.ok("sync")
    project.model(
        "users",
        """
        from hedystia_models import Field, Table


        class User(Table, table="users"):
            id: int | None = Field(default=None, primary_key=True, auto_increment=True)
            name: str = ""
            karma: int = 0
        """,
    )
    text = project.ok("sync", "--dry-run").stdout
    assert "Will apply:\n  + add column users.karma INTEGER\n" in text
    assert '      ALTER TABLE "users" ADD COLUMN "karma" INTEGER NOT NULL DEFAULT 0;\n' in text
    assert "Will not apply (needs a migration):\n  - drop column users.created_at\n" in text
    assert "      the column exists in the database but not in the model" in text

    data = json.loads(project.ok("sync", "--dry-run", "--json").stdout)
    assert data["in_sync"] is False
    by_kind = {op["kind"]: op for op in data["operations"]}
    assert by_kind["add_column"] == {
        "kind": "add_column",
        "table": "users",
        "column": "karma",
        "safety": "safe",
        "description": "add column users.karma INTEGER",
        "reason": None,
        "sql": ['ALTER TABLE "users" ADD COLUMN "karma" INTEGER NOT NULL DEFAULT 0'],
    }
    assert by_kind["drop_column"]["safety"] == "unsafe"
    assert by_kind["drop_column"]["column"] == "created_at"
    assert (
        by_kind["drop_column"]["reason"] == "the column exists in the database but not in the model"
    )
    # Its SQL is listed for information; sync never runs it.
    assert by_kind["drop_column"]["sql"] == ['ALTER TABLE "users" DROP COLUMN "created_at"']
    assert project.columns("users") == ["id", "name", "created_at"]  # dry run: nothing changed

    project.ok("sync")  # applies the safe part, leaves the unsafe one
    assert project.columns("users") == ["id", "name", "created_at", "karma"]
    data = json.loads(project.ok("sync", "--dry-run", "--json").stdout)
    assert [op["kind"] for op in data["operations"]] == ["drop_column"]


def test_sync_refusal_shows_why_and_applies_nothing(project: Project) -> None:
    project.model("users", USERS)
    project.ok("sync")
    conn = sqlite3.connect(project.db_path)
    conn.execute("INSERT INTO users (name, created_at) VALUES ('ann', '2024-01-01')")
    conn.commit()
    conn.close()
    project.model(
        "users",
        USERS + "        nickname: str\n",  # NOT NULL, no default, on a table with rows
    )
    project.model(
        "tags",
        """
        from hedystia_models import Field, Table


        class Tag(Table, table="tags"):
            id: int | None = Field(default=None, primary_key=True)
        """,
    )
    result = project.run("sync")
    assert result.exit_code == 2
    assert "Cannot apply (sync refuses):\n  ! add column users.nickname" in result.stdout
    assert "Traceback" not in result.stderr
    # The error keeps its details: the first line says what happened, the next one why.
    assert result.stderr.splitlines() == [
        "error: sync cannot bring the database up to date; nothing was applied:",
        "  - cannot add column 'nickname' to table 'users', which has rows: it is NOT NULL and "
        "has no default, so existing rows would have no value. Give the field a default, make "
        "it optional (X | None), or write a migration that fills it in "
        "(ctx.schema.add_column(..., fill=value))",
    ]
    assert project.tables() == {"users"}  # not even the safe `tags` table was created


# -- check ------------------------------------------------------------------------------------


def test_check(project: Project) -> None:
    project.model("users", USERS)
    result = project.run("check")
    assert result.exit_code == 1
    assert result.stdout == (
        "database and models differ:\n  - schema: create table users (id, name, created_at)\n"
    )
    data = json.loads(project.run("check", "--json").stdout)
    assert data == {"ok": False, "problems": ["schema: create table users (id, name, created_at)"]}

    project.ok("sync")
    assert project.ok("check").stdout == "ok: database matches the models\n"
    assert json.loads(project.ok("check", "--json").stdout) == {"ok": True, "problems": []}

    make_migrations(project, "m1", "m2")
    result = project.run("check", "--json")
    assert result.exit_code == 1
    assert json.loads(result.stdout)["problems"] == [
        "pending migration: m1",
        "pending migration: m2",
    ]

    project.ok("migrate", "up")
    result = project.run("check")
    assert result.exit_code == 1  # m1 and m2 created tables the models do not declare
    assert "  - schema: drop table m1\n" in result.stdout

    (project.migrations_dir / "m1.py").write_text("# emptied\n", encoding="utf-8")
    m2 = project.migrations_dir / "m2.py"
    m2.write_text(m2.read_text(encoding="utf-8").replace("DROP TABLE", "DROP TABLE IF EXISTS"))
    problems = json.loads(project.run("check", "--json").stdout)["problems"]
    assert "edited after apply: m2" in problems
    assert "applied but missing from code: m1" in problems


def test_check_passes_with_applied_migrations(project: Project) -> None:
    project.model("users", USERS)
    project.ok("migration", "create", "initial", "--auto")
    assert project.run("check").exit_code == 1
    project.ok("migrate", "up")
    assert project.ok("check", "--json").stdout.strip() == '{\n  "ok": true,\n  "problems": []\n}'


def test_output_is_plain_when_piped_and_coloured_on_a_terminal(project: Project) -> None:
    project.model("users", USERS)
    plain = project.run("check")
    assert "\x1b[" not in plain.stdout
    coloured = project.run("check", color=True)
    assert coloured.stdout.startswith("\x1b[31mdatabase and models differ:\x1b[0m\n")
    project.ok("sync")
    assert project.run("check", color=True).stdout.startswith("\x1b[32mok: ")


def test_check_refuses_a_migrations_directory_named_by_flag_that_does_not_exist(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:

    from hedystia_models.cli import main

    monkeypatch.chdir(tmp_path)
    (tmp_path / "typo_check_models.py").write_text(
        "from hedystia_models import Field, Table\n\n\n"
        "class Thing(Table, table='things'):\n"
        "    id: int | None = Field(default=None, primary_key=True)\n",
        encoding="utf-8",
    )
    args = ["--schemas", "typo_check_models", "--connection", "x.db"]
    result = CliRunner().invoke(main, [*args, "--migrations", "migrashuns", "check"])
    assert result.exit_code == 2
    assert "migrashuns" in result.output and "does not exist" in result.output


def test_an_internal_error_exits_3_with_a_traceback(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:

    import hedystia_models.cli as cli

    def broken(*args: object, **kwargs: object) -> None:
        raise KeyError("a bug")

    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(cli, "load_settings", broken)
    result = CliRunner().invoke(cli.main, ["history"])
    assert result.exit_code == 3
    assert "Traceback" in result.stderr and "KeyError: 'a bug'" in result.stderr
    assert "internal error" in result.stderr


def test_a_blocked_column_is_generated_with_a_fill_placeholder_that_works_once_filled(
    project: Project,
) -> None:
    project.model("users", USERS)
    project.ok("sync")
    with sqlite3.connect(project.db_path) as conn:
        conn.execute("INSERT INTO users (name, created_at) VALUES ('Ann', '2026-01-01 00:00:00')")
    conn.close()
    project.model("users", USERS + "        country: str\n")
    project.ok("migration", "create", "add_country", "--auto")
    [path] = project.migration_files()
    source = path.read_text(encoding="utf-8")
    assert "# BLOCKED: cannot add column 'country'" in source
    assert "    #     fill=...,\n" in source
    # As generated, nothing runs; the user picks the value and uncomments the call.
    lines = source.splitlines()
    start = next(i for i, line in enumerate(lines) if "# ctx.schema.add_column(" in line)
    end = next(i for i in range(start, len(lines)) if lines[i] == "    # )")
    for i in range(start, end + 1):
        lines[i] = lines[i].replace("    # ", "    ", 1).replace("fill=...", "fill='NL'")
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    project.ok("migrate", "up")
    assert project.query("SELECT name, country FROM users") == [("Ann", "NL")]
    project.ok("check")


def test_reading_commands_never_create_a_missing_database_file(project: Project) -> None:
    project.model("users", USERS)
    assert not project.db_path.exists()
    assert project.ok("history").stdout == "no history yet\n"
    assert project.run("check").exit_code == 1  # an absent database is an empty one
    assert "create table users" in project.run("check").stdout
    project.ok("sync", "--dry-run")
    assert not project.db_path.exists()
    project.ok("sync")
    assert project.db_path.exists()
