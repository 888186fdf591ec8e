"""docs/cli.md against the click group itself, so the command reference cannot drift.

Every command and subcommand must have a heading "### `hedystia-models <path>`" whose section
mentions each of its options and arguments; every documented command must exist; the global
options must be in the "Global options" section.
"""

from __future__ import annotations

import re
import shlex
from collections.abc import Iterator
from pathlib import Path

import click
import pytest
from cli_project import Project, open_project
from click.testing import CliRunner

from hedystia_models.cli import main

ROOT = Path(__file__).resolve().parent.parent
DOC = ROOT / "docs" / "cli.md"
HEADING = re.compile(r"^(?P<level>#{2,4}) (?P<title>.+?)\s*$", re.M)
COMMAND_HEADING = re.compile(r"^`hedystia-models(?P<path>(?: [a-z][a-z-]*)*)`$")


def walk(group: click.Group, prefix: tuple[str, ...] = ()) -> dict[str, click.Command]:
    """Every command below ``group``, by its path (``"migrate status"``), groups included."""
    found: dict[str, click.Command] = {}
    for name, command in group.commands.items():
        path = (*prefix, name)
        found[" ".join(path)] = command
        if isinstance(command, click.Group):
            found.update(walk(command, path))
    return found


COMMANDS = walk(main)


def sections() -> dict[str, str]:
    """Heading title -> its text, up to the next heading of the same or a higher level."""
    text = DOC.read_text(encoding="utf-8")
    headings = list(HEADING.finditer(text))
    result: dict[str, str] = {}
    for i, heading in enumerate(headings):
        level = len(heading.group("level"))
        end = len(text)
        for later in headings[i + 1 :]:
            if len(later.group("level")) <= level:
                end = later.start()
                break
        result[heading.group("title")] = text[heading.end() : end]
    return result


def documented_commands() -> dict[str, str]:
    """Command path -> section text, for every "`hedystia-models ...`" heading."""
    found: dict[str, str] = {}
    for title, body in sections().items():
        match = COMMAND_HEADING.match(title)
        if match:
            found[match.group("path").strip()] = body
    return found


def option_names(command: click.Command) -> list[str]:
    """Every spelling of every option (``-v``, ``--verbose``), help excluded."""
    names: list[str] = []
    for param in command.params:
        if isinstance(param, click.Option):
            names += [*param.opts, *param.secondary_opts]
    return names


def test_the_command_tree_is_what_the_issue_asks_for() -> None:
    assert set(COMMANDS) == {
        "schema",
        "schema create",
        "schema inspect",
        "migration",
        "migration create",
        "migrate",
        "migrate up",
        "migrate down",
        "migrate status",
        "migrate stamp",
        "history",
        "sync",
        "check",
    }


@pytest.mark.parametrize("path", sorted(COMMANDS))
def test_every_command_has_a_section_mentioning_its_options(path: str) -> None:
    documented = documented_commands()
    assert path in documented, f"docs/cli.md has no heading ### `hedystia-models {path}`"
    body = documented[path]
    command = COMMANDS[path]
    for name in option_names(command):
        assert re.search(rf"`{re.escape(name)}[ `=]", body), (
            f"the section for `hedystia-models {path}` does not mention `{name}`"
        )
    for param in command.params:
        if isinstance(param, click.Argument):
            assert param.human_readable_name in body, (path, param.human_readable_name)
    if not isinstance(command, click.Group):
        assert "Exit codes" in body or "Exits `0`" in body, f"{path}: exit codes undocumented"


def test_every_documented_command_exists() -> None:
    unknown = set(documented_commands()) - set(COMMANDS)
    assert not unknown, f"docs/cli.md documents commands that do not exist: {sorted(unknown)}"


GLOBAL_OPTIONS = {n: p for p in main.params if isinstance(p, click.Option) for n in p.opts}
CODE = re.compile(r"`(?P<span>[^`\n]+)`|^\$ (?P<line>.+)$", re.M)
OPTION = re.compile(r"(?<![\w-])--?[a-z][a-z-]*")


def known_options(path: str) -> set[str]:
    """What may follow ``hedystia-models <path>``: its options, the global ones, help, and for
    a group those of its subcommands."""
    command = COMMANDS[path]
    known = set(option_names(command)) | set(option_names(main)) | {"--help", "-h"}
    if isinstance(command, click.Group):
        known |= {n for sub in walk(command).values() for n in option_names(sub)}
    return known


def command_of(snippet: str, default: str) -> str:
    """The command a code snippet runs: ``hedystia-models --verbose migrate up`` and
    ``migrate up --json`` are "migrate up"; anything else belongs to the section's command."""
    words = snippet.split()
    if words[:1] == ["hedystia-models"]:
        words = words[1:]
        while words and words[0].startswith("-"):
            option = GLOBAL_OPTIONS.get(words.pop(0))
            if option is not None and not option.is_flag and words:
                words.pop(0)
    for size in (2, 1):
        candidate = " ".join(words[:size])
        if candidate in COMMANDS:
            return candidate
    return default


def test_every_documented_option_exists() -> None:
    """An option quoted in a command's section must belong to the command it is quoted with."""
    for path, body in documented_commands().items():
        for match in CODE.finditer(body):
            snippet = match.group("span") or match.group("line")
            owner = command_of(snippet, path)
            for name in OPTION.findall(snippet):
                assert name in known_options(owner), (path, snippet, name)
        prose = CODE.sub("", body)
        stray = set(OPTION.findall(prose)) - known_options(path)
        assert not {s for s in stray if s.startswith("--")}, (path, sorted(stray))


def test_global_options_are_documented() -> None:
    body = sections()["Global options"]
    for name in [*option_names(main), "--help", "-h"]:
        assert f"`{name}" in body, f"the Global options section does not mention `{name}`"


def test_json_is_documented_where_the_commands_accept_it() -> None:
    with_json = {path for path, cmd in COMMANDS.items() if "--json" in option_names(cmd)}
    assert with_json == {"migrate status", "history", "sync", "check"}


def test_usage_lines_in_the_docs_match_help() -> None:
    """Each section's synopsis ("$ hedystia-models migrate down [--steps N]") names the
    options and arguments that ``--help`` shows for that command."""
    runner = CliRunner()
    for path, body in documented_commands().items():
        command = COMMANDS[path]
        if isinstance(command, click.Group):
            continue
        result = runner.invoke(main, [*path.split(), "--help"])
        assert result.exit_code == 0, result.output
        usage = result.output.splitlines()[0]
        assert usage.startswith(f"Usage: hedystia-models {path} [OPTIONS]"), usage
        synopsis = re.search(rf"^\$ hedystia-models {path}(?P<rest>.*)$", body, re.M)
        assert synopsis, f"no synopsis line for `hedystia-models {path}`"
        options = {n: p for p in command.params if isinstance(p, click.Option) for n in p.opts}
        arguments = {p.human_readable_name for p in command.params if isinstance(p, click.Argument)}
        seen_options: set[str] = set()
        seen_arguments: set[str] = set()
        tokens = synopsis.group("rest").replace("[", " ").replace("]", " ").split()
        while tokens:
            token = tokens.pop(0)
            if token.startswith("-"):
                assert token in options, (path, token)
                seen_options.add(token)
                if not options[token].is_flag:
                    assert tokens and tokens[0].isupper(), (path, f"{token} needs a value")
                    tokens.pop(0)
            else:
                seen_arguments.add(token)
        assert seen_arguments == arguments, (path, seen_arguments, arguments)
        long_names = {n for n in options if n.startswith("--")}
        assert seen_options == long_names, (path, sorted(seen_options), sorted(long_names))


def test_readme_links_the_cli_reference() -> None:
    assert "(docs/cli.md)" in (ROOT / "README.md").read_text(encoding="utf-8")


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Project]:
    yield from open_project(tmp_path, monkeypatch)


def rework_users(project: Project) -> None:
    """The example of docs/cli.md: users synced with ``age: int`` and ``legacy``, then the model
    changes ``age`` to ``str``, drops ``legacy`` and gains ``nickname``."""
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


def test_the_generated_file_shown_in_docs_cli_md_is_what_auto_writes(project: Project) -> None:
    # The example said "# UNSAFE: <reason>" above an altered column, which the generator
    # never wrote; keep the page and the generator in step.
    doc = (Path(__file__).parent.parent / "docs" / "cli.md").read_text(encoding="utf-8")
    start = doc.index('```text\n"""Migration 20260301093000_rework_users.') + len("```text\n")
    expected = doc[start : doc.index("```", start)]
    rework_users(project)
    project.ok("migration", "create", "rework_users", "--auto")
    path = project.only_migration("rework_users")
    written = path.read_text(encoding="utf-8").replace(path.stem, "20260301093000_rework_users")
    assert written == expected


def _console_block(doc: str, first: str) -> list[tuple[list[str], str]]:
    """The commands of the ``console`` block that starts with ``first``, with their output."""
    start = doc.index(f"```console\n{first}\n") + len("```console\n")
    lines = doc[start : doc.index("```", start)].splitlines()
    runs: list[tuple[list[str], str]] = []
    for line in lines:
        if line.startswith("$ hedystia-models "):
            runs.append((shlex.split(line)[2:], ""))
        else:
            args, output = runs[-1]
            runs[-1] = (args, output + line + "\n")
    return runs


def test_the_sync_dry_run_shown_in_docs_cli_md_is_what_sync_prints(project: Project) -> None:
    doc = (Path(__file__).parent.parent / "docs" / "cli.md").read_text(encoding="utf-8")
    rework_users(project)
    runs = _console_block(doc, "$ hedystia-models sync --dry-run")
    assert [args for args, _ in runs] == [
        ["sync", "--dry-run"],
        ["sync", "--dry-run", "--json"],
        ["sync"],
        ["sync"],
    ]
    for args, expected in runs:
        assert project.ok(*args).stdout == expected, args
