"""MkDocs hooks: the pages the site builds from files outside ``docs/``.

* ``benchmarks.md``: ``benchmarks/README.md`` (the tables the benchmark scripts write) with its
  chart, ``benchmarks/schema_cost.png``, beside it; the README's links to the scripts point at
  the repository.
* ``api.md``: the API reference, one mkdocstrings entry for every name of
  ``hedystia_models.__all__``, by the module that defines it (so a new public name is on the
  page without anyone adding it).
* Docstrings' Sphinx roles (``:class:`Database```) shown as plain names on the API page.
* Links from a page to a file of the repository outside ``docs/`` (``../examples/...``,
  ``../benchmarks/...``, ``../README.md``) point at that file in the repository, so they work
  both on GitHub and on the site.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from mkdocs.structure.files import File, Files

ROOT = Path(__file__).resolve().parent.parent.parent
#: Where a link to a repository file (outside docs/) points on the site.
BLOB = "https://github.com/hedystia/hedystia-models/blob/main/"

_OUTSIDE = re.compile(r"\]\((\.\./)+(?P<path>[^)#\s]+)(?P<anchor>#[^)\s]*)?\)")


def on_files(files: Files, config: Any) -> Files:
    """Add the benchmarks page and its chart, made from ``benchmarks/``."""
    text = (ROOT / "benchmarks" / "README.md").read_text(encoding="utf-8")
    text = re.sub(
        r"\]\((?!https?:|#|schema_cost\.png)(?P<path>[^)\s]+)\)",
        lambda m: f"]({BLOB}benchmarks/{m.group('path')})",
        text,
    )
    files.append(File.generated(config, "benchmarks.md", content=text))
    chart = (ROOT / "benchmarks" / "schema_cost.png").read_bytes()
    files.append(File.generated(config, "schema_cost.png", content=chart))
    files.append(File.generated(config, "api.md", content=api_page()))
    return files


#: The sections of the API reference: a title, and the module prefixes whose names it holds.
_SECTIONS = (
    ("Connecting", ("hedystia_models.database", "hedystia_models.aio")),
    ("Declaring tables", ("hedystia_models.model",)),
    ("Specs", ("hedystia_models.schema",)),
    ("Plans and migrations", ("hedystia_models.migrate",)),
    ("Rows", ("hedystia_models.rows",)),
    ("Adopting a database", ("hedystia_models.inspect",)),
    ("Errors", ("hedystia_models.errors",)),
)


def api_page() -> str:
    """The API reference page: every public name, under the section of its module."""
    import hedystia_models

    sections: dict[str, list[str]] = {title: [] for title, _ in _SECTIONS}
    for name in hedystia_models.__all__:
        value = getattr(hedystia_models, name)
        module = getattr(value, "__module__", "hedystia_models")
        title = next(t for t, prefixes in _SECTIONS if module.startswith(prefixes))
        sections[title].append(f"::: {module}.{name}\n")
    lines = [
        "# API reference\n",
        "Every public name of `hedystia_models` (its `__all__`), generated from the docstrings "
        "when the site is built. `from hedystia_models import <name>` imports each of them.\n",
    ]
    # ``ctx.schema``: not a name to import, but the methods a migration calls.
    sections["Plans and migrations"].append("::: hedystia_models.migrate.context.SchemaContext\n")
    for title, entries in sections.items():
        if entries:
            lines.append(f"## {title}\n")
            lines.extend(entries)
    return "\n".join(lines)


#: Sphinx's cross-reference roles as the docstrings write them, once rendered to HTML by
#: mkdocstrings (``:class:`~x.Y``` -> ``:class:<code>~x.Y</code>``).
_ROLE = re.compile(r":(?:class|meth|func|attr|mod|data|exc|obj):<code>(~?)([^<]+)</code>")


def _role(match: re.Match[str]) -> str:
    name = match.group(2)
    shown = name.rsplit(".", 1)[-1] if match.group(1) else name
    return f"<code>{shown}</code>"


def on_page_content(html: str, page: Any, config: Any, files: Files) -> str:
    """Docstrings' Sphinx roles shown as the names they refer to; no default shown for an
    option without one (mkdocs-click writes click's ``Sentinel.UNSET``)."""
    html = _ROLE.sub(_role, html)
    return html.replace("<code>Sentinel.UNSET</code>", "").replace("Sentinel.UNSET", "")


def on_page_markdown(markdown: str, page: Any, config: Any, files: Files) -> str:
    """Point links to repository files outside ``docs/`` at the repository."""
    return _OUTSIDE.sub(lambda m: f"]({BLOB}{m.group('path')}{m.group('anchor') or ''})", markdown)
