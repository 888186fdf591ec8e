"""The tour at the top of docs/cli.md, command by command, then the roads a teammate's database
takes to the same schema: a fresh clone (``migrate up``, or ``sync`` then ``migrate up``) and a
database made before the project had migrations (``migrate stamp --all``). Each ends with
``check`` passing. The outputs the page shows for those roads are compared with the real ones.
"""

from __future__ import annotations

import re
import shlex
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from cli_project import Project, make_runner, open_project

DOC = Path(__file__).resolve().parent.parent / "docs" / "cli.md"
#: The name the page gives the migration the tour generates.
DOC_MIGRATION = "20260301093000_add_nickname"
ISO_TIME = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}\+00:00")
SYNC_NAME = re.compile(r"sync_\d{8}T\d{6}_[0-9a-f]{6}")
OK = "ok: database matches the models\n"
NOTE = "column users.nickname already exists with this definition"


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Project]:
    root = tmp_path / "dev"
    root.mkdir()
    yield from open_project(root, monkeypatch)


def console_block(begins: str = "") -> list[tuple[list[str], str, str]]:
    """The commands of the page's first ``console`` block that begins with ``begins``: the
    arguments after ``hedystia-models``, the comment on the line, and the output shown."""
    doc = DOC.read_text(encoding="utf-8")
    start = doc.index(f"```console\n{begins}") + len("```console\n")
    runs: list[tuple[list[str], str, str]] = []
    for line in doc[start : doc.index("```", start)].splitlines():
        if line.startswith("$ hedystia-models "):
            command, _, comment = line.partition("#")
            runs.append((shlex.split(command)[2:], comment.strip(), ""))
        else:
            args, comment, output = runs[-1]
            runs[-1] = (args, comment, output + line + "\n")
    return runs


def as_documented(text: str, migration: str) -> str:
    """Real output in the page's terms: its migration name, times and sync names as
    placeholders."""
    text = SYNC_NAME.sub("<sync>", ISO_TIME.sub("<time>", text))
    return text.replace(migration, DOC_MIGRATION)


def add_nickname(project: Project) -> None:
    """The change the tour makes to the scaffolded model."""
    model = project.schemas_dir / "users.py"
    model.write_text(
        model.read_text(encoding="utf-8") + "    nickname: str | None = None\n", encoding="utf-8"
    )


def clone(project: Project, name: str, monkeypatch: pytest.MonkeyPatch) -> Project:
    """A teammate's copy of the project, without its database file, as the working
    directory."""
    root = project.root.parent / name
    shutil.copytree(project.root, root, ignore=shutil.ignore_patterns("*.db", "__pycache__"))
    monkeypatch.chdir(root)
    return Project(root, project.package, make_runner())


def test_the_tour_then_a_teammates_databases(
    project: Project, monkeypatch: pytest.MonkeyPatch
) -> None:
    # -- the tour, in the page's order ----------------------------------------------------
    tour = console_block()  # the page's first block
    assert [args[:2] for args, _, _ in tour] == [
        ["schema", "create"],
        ["sync"],
        ["migration", "create"],
        ["migrate", "up"],
        ["check"],
    ]
    changed = 0
    outputs: list[str] = []
    for args, comment, _ in tour:
        if "after changing the model" in comment:
            add_nickname(project)
            changed += 1
        outputs.append(project.ok(*args).stdout)
    assert changed == 1
    [migration_file] = project.migration_files()
    migration = migration_file.stem
    assert re.fullmatch(r"\d{14}_add_nickname", migration)
    assert outputs[0] == f"created {project.package}/schemas/users.py\n"
    scaffolded = (project.schemas_dir / "users.py").read_text(encoding="utf-8")
    assert "Field(default_factory=utcnow, refresh_on_update=True)" in scaffolded  # updated_at
    assert outputs[1].startswith("Will apply:\n  + create table users (id, created_at, ")
    assert outputs[1].endswith("applied\n")
    assert outputs[2] == f"created database/migrations/{migration}.py\n"
    assert outputs[3] == f"applied {migration}\n"
    assert outputs[4] == OK
    assert project.columns("users") == ["id", "created_at", "updated_at", "nickname"]

    # The teammates' copies are taken now; the developer's project then goes away, so nothing
    # below can read its models or its database.
    fresh = clone(project, "fresh", monkeypatch)
    synced = clone(project, "synced", monkeypatch)
    old = clone(project, "old", monkeypatch)
    shutil.rmtree(project.root)

    # -- a fresh clone: migrate up, then check --------------------------------------------
    monkeypatch.chdir(fresh.root)
    shown = console_block("$ hedystia-models migrate up\ncreated table users\n")
    assert [args for args, _, _ in shown] == [["migrate", "up"], ["check"]]
    for args, _, expected in shown:
        assert as_documented(fresh.ok(*args).stdout, migration) == expected, args
    assert fresh.columns("users") == ["id", "created_at", "updated_at", "nickname"]

    # -- another fresh clone: sync, then migrate up, then check ---------------------------
    monkeypatch.chdir(synced.root)
    assert synced.ok("sync").stdout.endswith("applied\n")
    assert synced.ok("migrate", "up").stdout == (
        f"applied {migration} (converged)\n    already done: {NOTE}\n"
    )
    assert synced.ok("check").stdout == OK
    assert synced.ok("migrate", "up").stdout == "no pending migrations\n"

    # -- a database made before migrations existed: sync only, then stamp ------------------
    monkeypatch.chdir(old.root)
    migrations = old.migrations_dir
    shutil.move(str(migrations), str(old.root / "later"))  # the project had none yet
    old.ok("sync")
    shutil.move(str(old.root / "later"), str(migrations))  # now it does
    assert old.run("check").stdout == (
        f"database and models differ:\n  - pending migration: {migration}\n"
    )
    stamping = console_block("$ hedystia-models migrate stamp --all\nstamped ")
    assert [args for args, _, _ in stamping] == [
        ["migrate", "stamp", "--all"],
        ["check"],
        ["migrate", "stamp", "--all"],
        ["migrate", "stamp", DOC_MIGRATION],
        ["migrate", "stamp", "add_nicknam"],
    ]
    for args, _, expected in stamping:
        real = [arg.replace(DOC_MIGRATION, migration) for arg in args]
        result = old.run(*real)
        assert result.exit_code == (2 if expected.startswith("error:") else 0), args
        assert as_documented(result.stdout + result.stderr, migration) == expected, args
    assert old.ok("check").stdout == OK
    assert old.tables() == {"users"}

    # -- what the timeline of each says, as the page shows it ----------------------------
    monkeypatch.chdir(fresh.root)
    (fresh_history, _, fresh_expected), (old_args, _, old_expected) = console_block(
        "$ hedystia-models history\n2026-03-02T08:12:40"
    )
    assert fresh_history == ["history"]
    assert as_documented(fresh.ok("history").stdout, migration) == as_documented(
        fresh_expected, migration
    )
    monkeypatch.chdir(old.root)
    assert old_args == ["--connection", "old.db", "history"]
    assert as_documented(old.ok("history").stdout, migration) == as_documented(
        old_expected, migration
    )
