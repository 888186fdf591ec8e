"""Run the Python snippets of README.md and docs/*.md, so the documentation cannot drift.

Every ```python fenced block of a file runs, in order, in one namespace shared by that file's
blocks (a later block may use the classes an earlier one declared), inside a fresh temporary
working directory. A block right after the HTML comment ``<!-- skip-test -->`` is not run; keep
that for pseudo code that cannot run. Tracebacks point at the Markdown file and line.
"""

from __future__ import annotations

import re
import sys
import types
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
DOC_FILES = [ROOT / "README.md", *sorted((ROOT / "docs").rglob("*.md"))]
SKIP_MARKER = "<!-- skip-test -->"

_FENCE_OPEN = re.compile(r"^(?P<indent> {0,3})(?P<fence>`{3,}|~{3,})\s*(?P<info>[^\s`]*)")


@dataclass(frozen=True)
class Block:
    """One fenced code block: its language, first code line (1-based) and code."""

    language: str
    line: int
    code: str
    skipped: bool


def extract_blocks(text: str) -> list[Block]:
    """Every fenced code block of a Markdown text, in order."""
    lines = text.splitlines()
    blocks: list[Block] = []
    previous = ""  # last non-blank line outside a block
    i = 0
    while i < len(lines):
        match = _FENCE_OPEN.match(lines[i])
        if not match:
            if lines[i].strip():
                previous = lines[i].strip()
            i += 1
            continue
        fence = match.group("fence")
        language = match.group("info").lower()
        start = i + 1
        end = start
        while end < len(lines) and not lines[end].strip().startswith(fence):
            end += 1
        body = lines[start:end]
        indent = len(match.group("indent"))
        code = "\n".join(line[indent:] if line[:indent].isspace() else line for line in body)
        blocks.append(Block(language, start + 1, code + "\n", previous == SKIP_MARKER))
        previous = ""
        i = end + 1
    return blocks


def python_blocks(path: Path) -> list[Block]:
    """The ```python blocks of ``path``."""
    return [b for b in extract_blocks(path.read_text(encoding="utf-8")) if b.language == "python"]


def runnable_blocks(path: Path) -> list[Block]:
    """The ```python blocks of ``path`` that are not marked ``<!-- skip-test -->``."""
    return [b for b in python_blocks(path) if not b.skipped]


#: Files with something to run (architecture.md, for one, has no Python).
FILES_WITH_CODE = [p for p in DOC_FILES if runnable_blocks(p)]


@pytest.mark.parametrize("path", FILES_WITH_CODE, ids=[p.name for p in FILES_WITH_CODE])
def test_doc_snippets_run(
    path: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, request: pytest.FixtureRequest
) -> None:
    blocks = runnable_blocks(path)
    monkeypatch.chdir(tmp_path)
    # A real module object, so Pydantic can resolve names the snippets define.
    module_name = "_docs_" + re.sub(r"\W", "_", path.stem)
    module = types.ModuleType(module_name)
    module.__file__ = str(path)
    monkeypatch.setitem(sys.modules, module_name, module)
    if any("POSTGRES_URL" in block.code for block in blocks):
        # A page about PostgreSQL runs against a new database on the tests' throw-away server.
        module.__dict__["POSTGRES_URL"] = request.getfixturevalue("postgres_url")
    for block in blocks:
        # Pad with blank lines so tracebacks show the Markdown file's own line numbers.
        source = "\n" * (block.line - 1) + block.code
        code = compile(source, str(path), "exec")
        exec(code, module.__dict__)


# -- the extractor itself --------------------------------------------------------------------


def test_extract_blocks_languages_lines_and_skip_marker() -> None:
    text = "\n".join(
        [
            "# Title",  # 1
            "```python",  # 2
            "x = 1",  # 3
            "```",  # 4
            "<!-- skip-test -->",  # 5
            "",  # 6
            "```python",  # 7
            "raise SystemExit",  # 8
            "```",  # 9
            "```sh",  # 10
            "echo hi",  # 11
            "```",  # 12
            "text",  # 13
            "````python",  # 14
            "s = '```'",  # 15
            "````",  # 16
        ]
    )
    blocks = extract_blocks(text)
    assert [(b.language, b.line, b.skipped) for b in blocks] == [
        ("python", 3, False),
        ("python", 8, True),
        ("sh", 11, False),
        ("python", 15, False),
    ]
    assert blocks[0].code == "x = 1\n"
    assert blocks[3].code == "s = '```'\n"


def test_doc_files_with_code_are_found() -> None:
    assert {"README.md", "architecture.md"} <= {p.name for p in DOC_FILES}
    assert {"README.md", "tables.md", "sync.md"} <= {p.name for p in FILES_WITH_CODE}


#: The Python blocks of the documentation that do not run (``<!-- skip-test -->``), by page:
#: kept near zero; each needs a project around it (an ``app`` package) to run.
SKIPPED_BLOCKS = {"migrations.md": 1}


def test_the_blocks_that_do_not_run_are_few_and_counted() -> None:
    skipped = {
        path.name: count
        for path in DOC_FILES
        if (count := sum(b.skipped for b in python_blocks(path)))
    }
    assert skipped == SKIPPED_BLOCKS
    ran = sum(len(runnable_blocks(path)) for path in DOC_FILES)
    assert ran >= 100 * sum(SKIPPED_BLOCKS.values())  # near zero, as a share of them all
