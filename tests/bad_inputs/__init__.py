"""The catalogue of bad inputs: what each gets, checked by ``tests/test_safety.py``.

Each case is a function registered with :func:`bad_input`. It receives a fresh directory,
may prepare a database there (``setup``), and must then raise the named error with exactly
the message given. The test runs every case, compares each database file in the directory
before and after the failing call (schema and rows), and renders the table in
``docs/safety.md`` from this catalogue, so the table cannot drift from what the code does.

Messages may hold ``{tmp}``, the case's directory, so that paths in them are exact too.
Cases live in the modules of this package by area; importing the package loads them all.
"""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from hedystia_models import Database, HedystiaError, database

__all__ = ["AREAS", "CASES", "ENGINE", "BadInput", "app_database", "bad_input", "render_table"]

#: The engine the cases of rows, queries and relations open their database on, and its
#: connection: SQLite's ``app.db`` of the case's directory by default; ``tests/test_safety.py``
#: points it at a PostgreSQL database to run the same cases there.
ENGINE: dict[str, Any] = {"database": "sqlite", "connection": None}


def app_database(tmp: Path, **arguments: Any) -> Database:
    """``database(...)`` of a case: on :data:`ENGINE`'s database (``tmp / "app.db"`` on
    SQLite)."""
    if ENGINE["database"] == "postgres":
        return database(database="postgres", connection=ENGINE["connection"], **arguments)
    return database(connection=tmp / "app.db", **arguments)


#: The areas, in the order the table lists them.
AREAS = ("Models", "Schema and sync", "Migrations", "Rows", "Queries", "Files and connections")


@dataclass(frozen=True)
class BadInput:
    """One bad input: what it is, the error it gets, and how to cause it."""

    area: str
    what: str
    error: type[HedystiaError]
    message: str
    run: Callable[[Path], object]
    setup: Callable[[Path], object] | None = None

    @property
    def id(self) -> str:
        return f"{self.run.__module__.rsplit('.', 1)[-1]}.{self.run.__name__}"


CASES: list[BadInput] = []


def bad_input(
    area: str,
    what: str,
    error: type[HedystiaError],
    message: str,
    *,
    setup: Callable[[Path], object] | None = None,
) -> Callable[[Callable[[Path], object]], Callable[[Path], object]]:
    """Register the decorated function as the bad input ``what``: called with a fresh
    directory (after ``setup``), it must raise ``error`` with exactly ``message``."""
    if area not in AREAS:
        raise ValueError(f"unknown area {area!r}; the areas are {AREAS}")

    def register(run: Callable[[Path], object]) -> Callable[[Path], object]:
        CASES.append(BadInput(area, what, error, message, run, setup))
        return run

    return register


def render_table() -> str:
    """The Markdown table of every case, by area, as ``docs/safety.md`` holds it."""
    lines = ["| Bad input | Error | Message |", "|---|---|---|"]
    for area in AREAS:
        cases = [case for case in CASES if case.area == area]
        if not cases:
            continue
        lines.append(f"| **{area}** | | |")
        for case in cases:
            message = " ".join(case.message.replace("{tmp}", "…").split()).replace("|", "\\|")
            lines.append(f"| {case.what} | `{case.error.__name__}` | `{message}` |")
    return "\n".join(lines) + "\n"


for _module in pkgutil.iter_modules(__path__):
    importlib.import_module(f"{__name__}.{_module.name}")
