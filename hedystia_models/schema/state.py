"""A live database described as data: its tables' specs and the facts a plan needs beside them.

Introspection (:mod:`hedystia_models.engine.sqlite.introspect`) fills a :class:`DatabaseState`;
the differ and the executor read it. Nothing here touches a database.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from .quoting import fold_identifier
from .spec import TableSpec
from .sqltext import mentions

__all__ = ["DatabaseState", "Dependent"]


@dataclass(frozen=True)
class Dependent:
    """A view or trigger: SQL that names tables and columns and that a table rebuild must
    leave working."""

    kind: str  # "view" or "trigger"
    name: str
    table: str  # the view itself, or the table the trigger is on
    sql: str


@dataclass(frozen=True)
class DatabaseState:
    """What the differ and the executor need to know about a live database.

    ``tables`` maps table name to its spec; ``tables_with_rows`` names the tables holding at
    least one row (which decides how a ``NOT NULL`` column without default can be added).
    """

    tables: dict[str, TableSpec]
    tables_with_rows: frozenset[str]
    #: For tables a rebuild from their spec would change, what it would lose (see
    #: :func:`rebuild_obstacles`); tables that rebuild cleanly are not listed.
    rebuild_obstacles: dict[str, tuple[str, ...]] = field(default_factory=dict)
    #: Every view and trigger in the database.
    dependents: tuple[Dependent, ...] = ()
    # Lookups by folded name, made once: a plan looks every table up several times.
    _by_name: dict[str, TableSpec] = field(init=False, repr=False, compare=False)
    _with_rows: frozenset[str] = field(init=False, repr=False, compare=False)
    _obstacles: dict[str, tuple[str, ...]] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        folded = {fold_identifier(name): spec for name, spec in self.tables.items()}
        object.__setattr__(self, "_by_name", folded)
        with_rows = frozenset(fold_identifier(n) for n in self.tables_with_rows)
        object.__setattr__(self, "_with_rows", with_rows)
        obstacles = {fold_identifier(n): o for n, o in self.rebuild_obstacles.items()}
        object.__setattr__(self, "_obstacles", obstacles)

    def table(self, name: str) -> TableSpec | None:
        """The spec of table ``name`` (matched as SQLite matches names), or ``None``."""
        return self._by_name.get(fold_identifier(name))

    def has_rows(self, name: str) -> bool:
        """True when table ``name`` held rows when the state was read."""
        return fold_identifier(name) in self._with_rows

    def mentioning(self, column: str) -> list[Dependent]:
        """The views and triggers whose SQL names ``column``. The match is on name tokens, so
        it may be another table's column of the same name (never a string or a comment)."""
        return [d for d in self.dependents if mentions(d.sql, column)]

    def obstacles(self, name: str) -> tuple[str, ...]:
        """What a rebuild of table ``name`` would lose (empty when nothing)."""
        return self._obstacles.get(fold_identifier(name), ())
