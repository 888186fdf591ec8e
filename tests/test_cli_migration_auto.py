"""What ``hedystia-models migration create --auto`` writes: safe operations as code, unsafe
and blocked ones as commented-out code with their reasons, lines within 88 columns; and
that the file runs both ways, as generated and once the user uncomments what it offers.
"""

from __future__ import annotations

import json
import re
import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest
from cli_project import PLAIN_USERS, USERS, Project, open_project


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


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Project]:
    yield from open_project(tmp_path, monkeypatch)


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


def test_uncommented_drop_of_an_indexed_column_applies_and_rolls_back(project: Project) -> None:
    # The field goes away: its column and its index are written as commented-out drops.
    # Uncommenting both (and their undo), as the file says to, must give a migration that runs:
    # the index has to be dropped before the column, which would otherwise take it along.
    project.models(INDEXED_NICKNAME)
    project.ok("sync")
    project.sql("INSERT INTO users (name, nickname) VALUES ('Ann', 'an')")
    project.models(PLAIN_USERS)
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


def test_a_generated_file_with_many_spec_classes_fits_and_runs_both_ways(
    project: Project,
) -> None:
    # Dropping a table with a composite foreign key, a table CHECK and an index needs six
    # imports: the import line must wrap like the rest of the file, and the commented-out
    # drop and its undo must run once uncommented.
    project.models(PLAIN_USERS)
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
