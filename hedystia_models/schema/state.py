"""A live database described as data: its tables' specs and the facts a plan needs beside them.

Introspection (:mod:`hedystia_models.engine.sqlite.introspect`) fills a :class:`DatabaseState`;
the differ and the executor read it. :class:`ForeignKeyGraph` describes a database's foreign
keys and :func:`reference_problem` tells, by SQLite's rules for a parent key, whether one can
work at all (the planner checks the models' references with it, the schema transaction the
live database's). Nothing here touches a database.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property

from .quoting import fold_identifier
from .spec import TableSpec
from .sqltext import mentions

__all__ = [
    "DatabaseState",
    "Dependent",
    "ForeignKeyEdge",
    "ForeignKeyGraph",
    "ParentKeys",
    "ReferenceProblem",
    "foreign_keys_of",
    "reference_problem",
]


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
    #: The engine's counter of schema changes when the state was read (SQLite's ``PRAGMA
    #: schema_version``), ``None`` when not known. Two reads of one database with the same
    #: counter found the same schema; it is not compared (two databases may share a value).
    schema_version: int | None = field(default=None, compare=False)
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


# -- foreign keys as a graph --------------------------------------------------------------------


@dataclass(frozen=True)
class ForeignKeyEdge:
    """One foreign key as plain names: ``table(columns) REFERENCES other_table(other_columns)``.

    An empty ``other_columns`` is ``REFERENCES other_table`` with no column list: the parent's
    primary key. ``id`` is SQLite's number of the key within its table (``PRAGMA
    foreign_key_list``), when it was read from a live database.
    """

    table: str
    columns: tuple[str, ...]
    other_table: str
    other_columns: tuple[str, ...]
    id: int | None = field(default=None, compare=False)

    @property
    def key(self) -> tuple[str, tuple[str, ...]]:
        """The key's identity, as SQLite matches names: its table and its columns."""
        return fold_identifier(self.table), tuple(fold_identifier(c) for c in self.columns)

    def target(self) -> str:
        """``users(id)``, or ``users`` alone for a reference to the primary key."""
        if not self.other_columns:
            return self.other_table
        return f"{self.other_table}({', '.join(self.other_columns)})"

    def owner(self) -> str:
        """``table 'posts', column 'author_id'`` (``columns (...)`` for a multi-column key)."""
        if len(self.columns) == 1:
            return f"table {self.table!r}, column {self.columns[0]!r}"
        return f"table {self.table!r}, columns ({', '.join(self.columns)})"


def foreign_keys_of(spec: TableSpec) -> tuple[ForeignKeyEdge, ...]:
    """Every foreign key of ``spec``: its single-column references, then its multi-column
    foreign keys.

    >>> from .spec import ColumnSpec, Reference
    >>> spec = TableSpec("posts", (ColumnSpec("author_id", "INTEGER",
    ...     references=Reference("users", "id")),))
    >>> [edge.target() for edge in foreign_keys_of(spec)]
    ['users(id)']
    """
    edges = [
        ForeignKeyEdge(spec.name, (c.name,), c.references.table, (c.references.column,))
        for c in spec.columns
        if c.references is not None
    ]
    edges.extend(
        ForeignKeyEdge(spec.name, fk.columns, fk.other_table, fk.other_columns)
        for fk in spec.foreign_keys
    )
    return tuple(edges)


@dataclass(frozen=True)
class ParentKeys:
    """What a table offers the foreign keys that reference it: its columns, its primary key,
    and its other unique keys (``UNIQUE`` constraints, and unique indexes on plain columns
    without ``WHERE``: SQLite accepts nothing else as a parent key)."""

    name: str
    columns: tuple[str, ...]
    primary_key: tuple[str, ...]
    unique: tuple[tuple[str, ...], ...] = ()

    @classmethod
    def of(cls, spec: TableSpec) -> ParentKeys:
        """The keys of a described table."""
        unique: list[tuple[str, ...]] = [(c.name,) for c in spec.columns if c.unique]
        unique.extend(spec.unique_together)
        unique.extend(
            index.column_names
            for index in (*spec.indexes, *spec.unique_indexes)
            if index.unique and index.where is None and not index.has_expressions
        )
        return cls(spec.name, spec.column_names, spec.primary_key, tuple(unique))

    def is_key(self, columns: tuple[str, ...]) -> bool:
        """True when ``columns`` (in any order) are the primary key or a unique key."""
        wanted = frozenset(fold_identifier(c) for c in columns)
        if len(wanted) != len(columns):
            return False
        pk = self.primary_key
        if pk and len(pk) == len(wanted) and frozenset(map(fold_identifier, pk)) == wanted:
            return True  # most keys reference the primary key: no need for the others
        return wanted in self._keys

    def has_column(self, name: str) -> bool:
        """True when the table has a column ``name`` (as SQLite matches names)."""
        if name in self.columns:  # as written: most references name the key as declared
            return True
        folded = fold_identifier(name)
        return any(fold_identifier(c) == folded for c in self.columns)

    @cached_property
    def _keys(self) -> frozenset[frozenset[str]]:
        """The primary key and the unique keys, each as a set of folded names."""
        keys = [self.primary_key, *self.unique] if self.primary_key else list(self.unique)
        return frozenset(frozenset(fold_identifier(c) for c in key) for key in keys)


@dataclass(frozen=True)
class ReferenceProblem:
    """Why a foreign key cannot work: SQLite would refuse every write to its table (``no such
    table``, ``foreign key mismatch``). ``missing_table`` is True when the referenced table
    does not exist at all (a later step may still create it)."""

    edge: ForeignKeyEdge
    reason: str
    missing_table: bool = False

    def __str__(self) -> str:
        return f"{self.edge.owner()}: references {self.edge.target()}, but {self.reason}"


def reference_problem(
    edge: ForeignKeyEdge,
    parent: ParentKeys | None,
    *,
    is_view: bool = False,
    label: str | None = None,
) -> ReferenceProblem | None:
    """What is wrong with ``edge`` given the table it references (``parent``, ``None`` when
    there is no such table; ``is_view``: a view has its name), or ``None`` when SQLite can
    enforce it. The rules are SQLite's for a parent key: the parent table exists; a reference
    without columns needs a primary key of as many columns; named columns exist and are,
    together, the primary key or a ``UNIQUE`` key. ``label`` names the parent in the reason
    (``table 'users'`` when not given).

    >>> users = ParentKeys("users", ("id", "email"), ("id",))
    >>> str(reference_problem(ForeignKeyEdge("posts", ("by",), "users", ("email",)), users))
    "table 'posts', column 'by': references users(email), but column 'email' of table 'users' \
is neither its primary key nor UNIQUE"
    >>> reference_problem(ForeignKeyEdge("posts", ("by",), "users", ("id",)), users) is None
    True
    """
    other = edge.other_table
    where = label or f"table {other!r}"
    if parent is None:
        if is_view:
            return ReferenceProblem(edge, f"{other!r} is a view; a foreign key needs a table")
        return ReferenceProblem(edge, f"table {other!r} does not exist", missing_table=True)
    if not edge.other_columns:
        pk = parent.primary_key
        if not pk:
            return ReferenceProblem(edge, f"{where} has no PRIMARY KEY to reference")
        if len(pk) != len(edge.columns):
            return ReferenceProblem(
                edge,
                f"the primary key of {where} has {len(pk)} column(s), not {len(edge.columns)}",
            )
        return None
    if len(edge.other_columns) != len(edge.columns):
        return ReferenceProblem(
            edge,
            f"it names {len(edge.other_columns)} column(s) of {where} for "
            f"{len(edge.columns)} column(s)",
        )
    for column in edge.other_columns:
        if not parent.has_column(column):
            hint = (
                " (a foreign key cannot reference the rowid; give the table a PRIMARY KEY)"
                if fold_identifier(column) == "rowid"
                else ""
            )
            return ReferenceProblem(edge, f"{where} has no column {column!r}{hint}")
    if not parent.is_key(edge.other_columns):
        if len(edge.other_columns) == 1:
            what = f"column {edge.other_columns[0]!r} of {where} is neither its primary key"
            return ReferenceProblem(edge, f"{what} nor UNIQUE")
        names = ", ".join(edge.other_columns)
        return ReferenceProblem(
            edge, f"columns ({names}) of {where} are neither its primary key nor UNIQUE together"
        )
    return None


@dataclass(frozen=True)
class ForeignKeyGraph:
    """Every foreign key of a live database (``edges``), what each table some key references
    offers (``parents``, by folded name) and the names of the views (folded): enough to tell,
    without writing, which keys SQLite could not enforce (:meth:`problems`)."""

    edges: tuple[ForeignKeyEdge, ...]
    parents: dict[str, ParentKeys]
    views: frozenset[str] = frozenset()
    #: Every table of the database, folded name -> stored name.
    tables: dict[str, str] = field(default_factory=dict)

    def problems(self) -> dict[tuple[str, tuple[str, ...]], ReferenceProblem]:
        """The keys SQLite could not enforce, by :attr:`ForeignKeyEdge.key`."""
        found: dict[tuple[str, tuple[str, ...]], ReferenceProblem] = {}
        for edge in self.edges:
            other = fold_identifier(edge.other_table)
            problem = reference_problem(edge, self.parents.get(other), is_view=other in self.views)
            if problem is not None:
                found.setdefault(edge.key, problem)
        return found

    def with_foreign_keys(self) -> set[str]:
        """The tables (folded names) that have at least one foreign key."""
        return {fold_identifier(edge.table) for edge in self.edges}

    def children(self, parents: set[str]) -> set[str]:
        """The tables (folded names) with a foreign key to one of ``parents`` (folded)."""
        return {
            fold_identifier(edge.table)
            for edge in self.edges
            if fold_identifier(edge.other_table) in parents
        }

    def edges_of(self, table: str) -> list[ForeignKeyEdge]:
        """The foreign keys of ``table``."""
        folded = fold_identifier(table)
        return [edge for edge in self.edges if fold_identifier(edge.table) == folded]
