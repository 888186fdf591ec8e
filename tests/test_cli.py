"""The ``hedystia-models`` program as a whole, driven in-process through click's CliRunner:
help, version, where settings come from, the global options, and output and exit codes
common to every command.

Each test gets a throw-away project (:mod:`cli_project`): a pyproject.toml whose
``[tool.hedystia-models]`` names a schemas package with a unique module name (the CLI imports
it by name, and imported modules are cached per process), and the project directory as
working directory. Each command has its own file, ``test_cli_<command>.py``.
"""

from __future__ import annotations

import re
import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest
from cli_project import PLAIN_USERS, USERS, Project, one_line_error, open_project, write_pyproject
from click.testing import CliRunner

import hedystia_models.cli.project
from hedystia_models import __version__
from hedystia_models.cli import main
from hedystia_models.cli.config import load_settings


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Project]:
    yield from open_project(tmp_path, monkeypatch)


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


def test_empty_hedystia_database_falls_back_to_pyproject(project: Project) -> None:
    # `HEDYSTIA_DATABASE=` (set but empty, as CI templates often leave it) is "not set",
    # not "no database": pyproject's connection still applies.
    project.models(PLAIN_USERS)
    result = project.run("sync", env={"HEDYSTIA_DATABASE": ""})
    assert result.exit_code == 0, result.stderr
    assert (project.root / "app.db").is_file()


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
    project.models(PLAIN_USERS)
    result = project.run("--busy-timeout", value, "check")
    assert result.exit_code == 2, result.stderr
    assert "Traceback" not in result.stderr
    assert "Invalid value for '--busy-timeout'" in result.stderr


# -- output and exit codes --------------------------------------------------------------------


def test_output_is_plain_when_piped_and_coloured_on_a_terminal(project: Project) -> None:
    project.model("users", USERS)
    plain = project.run("check")
    assert "\x1b[" not in plain.stdout
    coloured = project.run("check", color=True)
    assert coloured.stdout.startswith("\x1b[31mdatabase and models differ:\x1b[0m\n")
    project.ok("sync")
    assert project.run("check", color=True).stdout.startswith("\x1b[32mok: ")


def test_an_internal_error_exits_3_with_a_traceback(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(*args: object, **kwargs: object) -> None:
        raise KeyError("a bug")

    monkeypatch.chdir(tmp_path)
    # Every command loads its settings through hedystia_models.cli.project.
    monkeypatch.setattr(hedystia_models.cli.project, "load_settings", broken)
    result = CliRunner().invoke(main, ["history"])
    assert result.exit_code == 3
    assert "Traceback" in result.stderr and "KeyError: 'a bug'" in result.stderr
    assert "internal error" in result.stderr


# -- ignore_tables ----------------------------------------------------------------------------


def test_ignore_tables_is_read_from_pyproject_and_flags_replace_it(project: Project) -> None:
    (project.root / "pyproject.toml").write_text(
        '[tool.hedystia-models]\nschemas = "x"\nconnection = "app.db"\n'
        'ignore_tables = ["django_*", "alembic_version", "django_*"]\n',
        encoding="utf-8",
    )
    assert load_settings(cwd=project.root).ignore_tables == ("django_*", "alembic_version")
    flagged = load_settings(cwd=project.root, ignore_tables=["legacy_*"])
    assert flagged.ignore_tables == ("legacy_*",)  # the flags' list, not added to pyproject's
    assert load_settings(cwd=project.root, ignore_tables=[]).ignore_tables == (
        "django_*",
        "alembic_version",
    )  # no flag given: pyproject's
    write_pyproject(project.root, schemas="x", connection="app.db")
    assert load_settings(cwd=project.root).ignore_tables == ()  # the default: none


@pytest.mark.parametrize("value", ['"django_*"', "[1]", '["ok", ""]', "{ a = 1 }"])
def test_ignore_tables_of_the_wrong_type_is_a_one_line_error(project: Project, value: str) -> None:
    (project.root / "pyproject.toml").write_text(
        f"[tool.hedystia-models]\nignore_tables = {value}\n", encoding="utf-8"
    )
    line = one_line_error(project.run("history"))
    assert line.startswith(f"error: {project.root / 'pyproject.toml'}: ignore_tables in ")
    assert "must be a list of non-empty strings" in line


def test_ignore_tables_is_a_known_key_and_a_list_is_not_a_string_elsewhere(
    project: Project,
) -> None:
    (project.root / "pyproject.toml").write_text(
        '[tool.hedystia-models]\nignore_table = ["x"]\n', encoding="utf-8"
    )
    line = one_line_error(project.run("history"))
    assert "unknown key(s) in [tool.hedystia-models]: ignore_table" in line
    assert "ignore_tables, journal_mode)" in line  # listed among the known keys
    (project.root / "pyproject.toml").write_text(
        '[tool.hedystia-models]\nconnection = ["app.db"]\n', encoding="utf-8"
    )
    assert "connection in [tool.hedystia-models] must be a string" in one_line_error(
        project.run("history")
    )


# -- journal_mode -----------------------------------------------------------------------------


def test_journal_mode_is_read_from_pyproject(project: Project) -> None:
    import sqlite3

    assert load_settings(cwd=project.root).journal_mode == "wal"  # the default
    text = (project.root / "pyproject.toml").read_text(encoding="utf-8")
    (project.root / "pyproject.toml").write_text(
        text + 'journal_mode = "delete"\n', encoding="utf-8"
    )
    assert load_settings(cwd=project.root).journal_mode == "delete"
    project.models(
        """
        from hedystia_models import Field, Table


        class Note(Table, table="notes"):
            id: int | None = Field(default=None, primary_key=True)
        """
    )
    project.ok("sync")
    conn = sqlite3.connect(project.root / "app.db")
    assert conn.execute("PRAGMA journal_mode").fetchone() == ("delete",)
    conn.close()
    (project.root / "pyproject.toml").write_text(text + 'journal_mode = "wall"\n', encoding="utf-8")
    line = one_line_error(project.run("history"))
    assert "journal_mode in [tool.hedystia-models] must be one of wal, delete" in line
