"""Problems found by following docs/cli.md as a new user, one test each.

Each test works in a throw-away project whose schemas package has a unique module name (the
CLI imports it by name, and imported modules are cached per process).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from cli_project import Project, open_project


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Project]:
    yield from open_project(tmp_path, monkeypatch, prefix="reviewproj")


def uncomment(path: Path, *calls: str) -> None:
    """Uncomment the ``ctx.schema...`` call starting with each of ``calls`` (all its lines, when
    it spans several), as the generated file tells the user to do."""
    lines = path.read_text(encoding="utf-8").splitlines()
    for call in calls:
        starts = [i for i, line in enumerate(lines) if line.startswith(f"    # {call}")]
        assert starts, (call, lines)
        for i in starts:
            depth = 0
            while True:
                lines[i] = lines[i].replace("    # ", "    ", 1)
                depth += lines[i].count("(") - lines[i].count(")")
                if depth <= 0:
                    break
                i += 1
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


INDEXED_NICKNAME = """
    from hedystia_models import Field, Table


    class User(Table, table="users"):
        id: int | None = Field(default=None, primary_key=True)
        name: str = ""
        nickname: str | None = Field(default=None, index=True)
"""

WITHOUT_NICKNAME = """
    from hedystia_models import Field, Table


    class User(Table, table="users"):
        id: int | None = Field(default=None, primary_key=True)
        name: str = ""
"""


def test_uncommented_drop_of_an_indexed_column_applies_and_rolls_back(project: Project) -> None:
    # The field goes away: its column and its index are written as commented-out drops.
    # Uncommenting both (and their undo), as the file says to, must give a migration that runs:
    # the index has to be dropped before the column, which would otherwise take it along.
    project.models(INDEXED_NICKNAME)
    project.ok("sync")
    project.sql("INSERT INTO users (name, nickname) VALUES ('Ann', 'an')")
    project.models(WITHOUT_NICKNAME)
    project.ok("migration", "create", "drop_nickname", "--auto")
    path = project.only_migration("drop_nickname")
    uncomment(
        path,
        "ctx.schema.drop_column('users', 'nickname')",
        "ctx.schema.drop_index('users', 'users_nickname_index')",
        "ctx.schema.add_column(",
        "ctx.schema.add_index(",
    )
    up = project.run("migrate", "up")
    assert up.exit_code == 0, up.stderr
    assert project.ok("check").stdout == "ok: database matches the models\n"
    down = project.run("migrate", "down")
    assert down.exit_code == 0, down.stderr
    assert project.sql("SELECT name FROM sqlite_master WHERE name = 'users_nickname_index'")
    project.models(INDEXED_NICKNAME)  # rolled back: the database is as before, rows kept
    assert json.loads(project.ok("sync", "--dry-run", "--json").stdout)["in_sync"] is True
    assert project.sql("SELECT name FROM users") == [("Ann",)]


def test_undo_of_an_altered_index_is_not_labelled_unsafe_again(project: Project) -> None:
    project.models(
        """
        from hedystia_models import Field, Table


        class User(Table, table="users"):
            id: int | None = Field(default=None, primary_key=True)
            name: str = Field(default="", index=True)
            age: int = 0
        """
    )
    project.ok("sync")
    project.models(
        """
        from hedystia_models import Field, Index, Table


        class User(
            Table, table="users", indexes=[Index("name", "age", name="users_name_index")]
        ):
            id: int | None = Field(default=None, primary_key=True)
            name: str = Field(default="", index=False)
            age: int = 0
        """
    )
    project.ok("migration", "create", "widen_index", "--auto")
    source = project.only_migration("widen_index").read_text(encoding="utf-8")
    down = source.split("def down(", 1)[1]
    # In down the undo is introduced once, by its "undo of ..." line; no second UNSAFE header.
    assert "# undo of an operation left commented out in up: alter index" in down
    assert "UNSAFE" not in down, down


def test_generated_comment_lines_fit_in_88_columns(project: Project) -> None:
    # The generated code is wrapped at 88 columns; the long BLOCKED reason must be too, or
    # the project's linter flags a file the user has not touched yet.
    project.models(
        """
        from hedystia_models import Field, Table


        class User(Table, table="users"):
            id: int | None = Field(default=None, primary_key=True)
        """
    )
    project.ok("sync")
    project.sql("INSERT INTO users DEFAULT VALUES")
    project.models(
        """
        from hedystia_models import Field, Table


        class User(Table, table="users"):
            id: int | None = Field(default=None, primary_key=True)
            country: str
        """
    )
    project.ok("migration", "create", "add_country", "--auto")
    source = project.only_migration("add_country").read_text(encoding="utf-8")
    assert "# BLOCKED: cannot add column 'country' to table 'users', which has rows" in source
    assert "make it optional (X | None)" in source.replace("\n    # ", " ")
    long_lines = [line for line in source.splitlines() if len(line) > 88]
    assert long_lines == []


def test_empty_hedystia_database_falls_back_to_pyproject(project: Project) -> None:
    # `HEDYSTIA_DATABASE=` (set but empty, as CI templates often leave it) is "not set",
    # not "no database": pyproject's connection still applies.
    project.models(WITHOUT_NICKNAME)
    result = project.run("sync", env={"HEDYSTIA_DATABASE": ""})
    assert result.exit_code == 0, result.stderr
    assert (project.root / "app.db").is_file()


def test_syntax_error_in_a_model_names_the_place_once(project: Project) -> None:
    project.models("from hedystia_models import Table\n\nx = (\n")
    result = project.run("check")
    assert result.exit_code == 2
    (line,) = result.stderr.splitlines()
    init = project.schemas_dir / "__init__.py"
    assert line == (
        f"error: cannot import the schemas module '{project.package}.schemas': "
        f"SyntaxError: '(' was never closed ({init}, line 3)"
    )


def test_sync_dry_run_lists_a_refusal_and_exits_0_as_documented(project: Project) -> None:
    project.models(WITHOUT_NICKNAME)
    project.ok("sync")
    project.sql("INSERT INTO users (name) VALUES ('Ann')")
    project.models(WITHOUT_NICKNAME + "        country: str\n")
    dry = project.run("sync", "--dry-run")
    assert dry.exit_code == 0
    assert "Cannot apply (sync refuses):\n  ! add column users.country TEXT\n" in dry.stdout
    real = project.run("sync")
    assert real.exit_code == 2
    assert real.stderr.startswith("error: sync cannot bring the database up to date")


def test_edited_flag_counts_comments_inside_up_only(project: Project) -> None:
    # docs/cli.md: the source of up and down counts, comments inside them included; code
    # and comments outside them do not.
    project.ok("migration", "create", "m1", "--no-id")
    project.ok("migrate", "up")
    path = project.migrations_dir / "m1.py"
    original = path.read_text(encoding="utf-8")
    path.write_text("# a note at the top\n" + original + "\n# and one at the end\n")
    assert json.loads(project.ok("migrate", "status", "--json").stdout)["edited"] == []
    inside = original.replace(
        "def up(ctx: MigrationContext) -> None:\n",
        "def up(ctx: MigrationContext) -> None:\n    # explained later\n",
    )
    path.write_text(inside, encoding="utf-8")
    assert json.loads(project.ok("migrate", "status", "--json").stdout)["edited"] == ["m1"]


def test_schema_create_notes_a_file_outside_a_single_file_schemas_module(
    project: Project,
) -> None:
    # With `schemas` naming a plain module (models.py), the file goes to database/schemas,
    # which sync does not read: docs/cli.md promises a note saying so.
    module = f"{project.package}_models"
    (project.root / f"{module}.py").write_text("", encoding="utf-8")
    result = project.run("--schemas", module, "schema", "create", "things")
    assert result.exit_code == 0
    assert result.stdout == "created database/schemas/things.py\n"
    assert result.stderr == (
        "note: database/schemas/things.py is outside the configured schemas module "
        f"({module}); import Things there, or set schemas in [tool.hedystia-models], "
        "so sync sees it\n"
    )


@pytest.mark.parametrize(
    "setting",
    ["schemas = 5", 'migrations = ["a"]', "connection = 3"],
)
def test_a_setting_of_the_wrong_type_is_a_one_line_error(project: Project, setting: str) -> None:
    # Not a traceback and exit 3 (an "internal error"), and not a database file named "3".
    key = setting.split(" = ")[0]
    (project.root / "pyproject.toml").write_text(
        f"[tool.hedystia-models]\n{setting}\n", encoding="utf-8"
    )
    for command in (["migrate", "status"], ["schema", "create", "things"], ["sync"]):
        result = project.run(*command)
        assert result.exit_code == 2, (command, result.stderr)
        (line,) = result.stderr.splitlines()
        assert line.startswith(f"error: {project.root / 'pyproject.toml'}: {key} in ")
        assert "must be a string (got " in line
    assert not (project.root / "3").exists()
    assert not (project.root / "database").exists()


@pytest.mark.parametrize("value", ["nan", "inf", "-1"])
def test_busy_timeout_must_be_a_number_of_seconds(project: Project, value: str) -> None:
    # `nan` was an internal error (exit 3, traceback); -1 was silently "don't wait".
    project.models(WITHOUT_NICKNAME)
    result = project.run("--busy-timeout", value, "check")
    assert result.exit_code == 2, result.stderr
    assert "Traceback" not in result.stderr
    assert "Invalid value for '--busy-timeout'" in result.stderr


def test_a_file_where_the_migrations_directory_should_be(project: Project) -> None:
    (project.root / "migs").write_text("", encoding="utf-8")
    created = project.run("--migrations", "migs", "migration", "create", "x", "--no-id")
    assert created.exit_code == 2
    assert created.stderr == "error: cannot write migs/x.py: migs is a file\n"
    status = project.run("--migrations", "migs", "migrate", "status")
    assert status.exit_code == 2
    assert status.stderr == (
        f"error: migrations directory '{project.root / 'migs'}' is not a directory\n"
    )


def test_a_generated_file_with_many_spec_classes_fits_and_runs_both_ways(
    project: Project,
) -> None:
    # Dropping a table with a composite foreign key, a table CHECK and an index needs six
    # imports: the import line must wrap like the rest of the file, and the commented-out
    # drop and its undo must run once uncommented.
    project.models(WITHOUT_NICKNAME)
    project.ok("sync")
    project.sql("CREATE TABLE parent (a INTEGER NOT NULL, b TEXT NOT NULL, PRIMARY KEY (a, b))")
    project.sql(
        "CREATE TABLE child (id INTEGER PRIMARY KEY, pa INTEGER, pb TEXT, "
        "owner INTEGER REFERENCES users(id) ON DELETE SET NULL, "
        "CHECK (pa IS NOT NULL OR pb IS NULL), FOREIGN KEY (pa, pb) REFERENCES parent(a, b))"
    )
    project.sql("CREATE INDEX child_pa ON child (pa)")
    project.ok("migration", "create", "drop_extra", "--auto")
    path = project.only_migration("drop_extra")
    source = path.read_text(encoding="utf-8")
    assert "from hedystia_models import (\n    CheckSpec,\n" in source
    assert [line for line in source.splitlines() if len(line) > 88] == []
    uncomment(
        path,
        "ctx.schema.drop_table('child')",
        "ctx.schema.drop_table('parent')",
        "ctx.schema.create_table(",
    )
    assert project.run("migrate", "up").exit_code == 0
    assert project.sql("SELECT name FROM sqlite_master WHERE name IN ('child', 'parent')") == []
    down = project.run("migrate", "down")
    assert down.exit_code == 0, down.stderr
    assert project.sql("SELECT name FROM sqlite_master WHERE name = 'child_pa'") == [("child_pa",)]


def test_a_renamed_field_gets_a_rename_hint_that_keeps_the_data(project: Project) -> None:
    # A renamed field is planned as "add the new column, drop the old one"; uncommenting the
    # drop would lose the old column's data. The file offers the rename instead.
    project.models(
        """
        from hedystia_models import Field, Table


        class User(Table, table="users"):
            id: int | None = Field(default=None, primary_key=True)
            bio: str = ""
        """
    )
    project.ok("sync")
    project.sql("INSERT INTO users (bio) VALUES ('hello')")
    project.models(
        """
        from hedystia_models import Field, Table


        class User(Table, table="users"):
            id: int | None = Field(default=None, primary_key=True)
            biography: str = ""
        """
    )
    project.ok("migration", "create", "rename_bio", "--auto")
    path = project.only_migration("rename_bio")
    source = path.read_text(encoding="utf-8")
    assert "    # If users.bio was renamed to biography, keep its data: instead of this" in source
    assert "    # ctx.schema.rename_column('users', 'bio', 'biography')\n" in source
    # Follow the hint: the rename replaces the add and the drop, and down renames it back.
    up, down = source.split("def down(")
    up = re.sub(r"(?s)    ctx\.schema\.add_column\(.*?\n    \)\n", "", up)
    up = up.replace(
        "    # ctx.schema.rename_column('users', 'bio', 'biography')",
        "    ctx.schema.rename_column('users', 'bio', 'biography')",
    )
    down = down.replace(
        "    ctx.schema.drop_column('users', 'biography')",
        "    ctx.schema.rename_column('users', 'biography', 'bio')",
    )
    path.write_text(up + "def down(" + down, encoding="utf-8")
    assert project.run("migrate", "up").exit_code == 0
    assert project.sql("SELECT biography FROM users") == [("hello",)]
    assert project.ok("check").stdout == "ok: database matches the models\n"
    assert project.run("migrate", "down").exit_code == 0
    assert project.sql("SELECT bio FROM users") == [("hello",)]


def test_the_generated_file_shown_in_docs_cli_md_is_what_auto_writes(project: Project) -> None:
    # The example said "# UNSAFE: <reason>" above an altered column, which the generator
    # never wrote; keep the page and the generator in step.
    doc = (Path(__file__).parent.parent / "docs" / "cli.md").read_text(encoding="utf-8")
    start = doc.index('```text\n"""Migration 20260301093000_rework_users.') + len("```text\n")
    expected = doc[start : doc.index("```", start)]
    project.models(
        """
        from hedystia_models import Field, Table


        class User(Table, table="users"):
            id: int | None = Field(default=None, primary_key=True)
            age: int = 0
            legacy: str | None = None
        """
    )
    project.ok("sync")
    project.models(
        """
        from hedystia_models import Field, Table


        class User(Table, table="users"):
            id: int | None = Field(default=None, primary_key=True)
            age: str = "0"
            nickname: str | None = None
        """
    )
    project.ok("migration", "create", "rework_users", "--auto")
    path = project.only_migration("rework_users")
    written = path.read_text(encoding="utf-8").replace(path.stem, "20260301093000_rework_users")
    assert written == expected
