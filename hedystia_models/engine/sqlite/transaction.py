"""Transactions for schema changes and for user writes.

Schema changes run in :func:`schema_transaction`: ``BEGIN IMMEDIATE`` (take SQLite's write
lock up front, waiting up to the connection's busy timeout), foreign-key enforcement switched
off for the duration as SQLite's table-rebuild procedure requires (so rebuilding a parent table
never fires ``ON DELETE`` actions), the foreign-key check of a :class:`ForeignKeyGuard` before
``COMMIT``, and ``ROLLBACK`` of everything on any error.

The check is about what the change did, never about the rest of the database:

- Foreign keys SQLite could not enforce at all (the referenced table, view or column does not
  exist, or is no primary or unique key: what SQLite reports as ``foreign key mismatch``) are
  found from the schema alone (:func:`~.introspect.foreign_key_graph`), for the whole database,
  before and after; only those the change introduced fail it (:class:`ForeignKeyMismatch`). A
  table another tool made with a broken key stays as it is and blocks nothing.
- Rows whose parent row is missing are counted with ``PRAGMA foreign_key_check(table)``, table
  by table, before and after, over the tables the guard covers; only new ones fail it
  (:class:`ForeignKeyViolation`). Sync covers the tables its plan changes and the tables that
  reference a rebuilt one; a migration (whose ``ctx.sql`` may touch anything) covers every
  table. A table with a key SQLite cannot enforce cannot be checked (SQLite refuses to); its
  rows are left out.
- A sync that only creates tables gives its guard nothing to cover: new tables are empty, and
  a new table cannot break a key that worked before, so what is left to check is the keys of
  the new tables, which sync checks from the plan before it runs it (against the tables as
  they will be, see ``migrate/sync.py``), without reading the schema again.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager

from ...errors import OperationError
from ...schema.quoting import fold_identifier, quote_identifier
from ...schema.state import ForeignKeyGraph, ReferenceProblem
from .connection import waiting
from .introspect import foreign_key_graph, foreign_keys_enforced

__all__ = [
    "ForeignKeyGuard",
    "ForeignKeyMismatch",
    "ForeignKeyViolation",
    "block_savepoint",
    "close_savepoint",
    "open_savepoint",
    "refuse_new_problems",
    "schema_transaction",
    "write_transaction",
]

_SHOWN = 5


class ForeignKeyMismatch(OperationError):
    """A schema change left a foreign key SQLite cannot enforce (it would refuse every write to
    the table with ``no such table`` or ``foreign key mismatch``); nothing was committed.
    ``problems`` lists what is wrong with each such key."""

    def __init__(self, message: str, problems: list[ReferenceProblem] | None = None) -> None:
        super().__init__(message)
        self.problems = problems or []


class ForeignKeyViolation(OperationError, sqlite3.IntegrityError):
    """``PRAGMA foreign_key_check`` found rows, new with this change, whose parent row does not
    exist; nothing was committed. (Also an ``sqlite3.IntegrityError``.)"""


def _shown(items: list[str]) -> str:
    more = f" and {len(items) - _SHOWN} more" if len(items) > _SHOWN else ""
    return "; ".join(items[:_SHOWN]) + more


#: What one check of a table found: per parent table (folded), the violating rows.
_Rows = dict[str, list[tuple[int | None, str, int]]]


class ForeignKeyGuard:
    """The foreign-key check of one schema transaction: which tables it covers, and what they
    held before the change (see the module's description).

    ``everything``: cover every table (a migration's). Otherwise the guard covers nothing until
    :meth:`cover` names tables, just before they change, and takes its baseline then; a guard
    never given a table to cover checks nothing (a sync that only creates tables checks their
    keys itself: see the module's description). Keys SQLite cannot enforce are compared across the
    whole database (it costs no row reads) once the guard covers anything.
    """

    def __init__(self, conn: sqlite3.Connection, *, everything: bool = False) -> None:
        self.conn = conn
        self.everything = everything
        self._started = False
        self._problems: set[tuple[str, tuple[str, ...]]] = set()
        self._covered: set[str] = set()
        self._parents: set[str] = set()
        self._rows: dict[str, _Rows] = {}  # folded table -> what its check found before
        self._unreadable: set[str] = set()  # tables whose check SQLite refused before

    # -- before -------------------------------------------------------------------------------

    def start(self) -> None:
        """Take the baseline (once; :func:`schema_transaction` calls it for a guard that
        covers everything, :meth:`cover` for the others, or a caller does earlier, before a
        change made outside the transaction)."""
        self._begin()

    def _begin(self) -> ForeignKeyGraph | None:
        """:meth:`start`; returns the graph it read, ``None`` when it had started before."""
        if self._started:
            return None
        self._started = True
        graph = foreign_key_graph(self.conn)
        self._problems = set(graph.problems())
        if self.everything:
            self._remember(graph, graph.with_foreign_keys())
        return graph

    def cover(self, tables: Iterable[str], *, children_of: Iterable[str] = ()) -> None:
        """Check ``tables`` too, and every table with a foreign key to one of ``children_of``
        (tables about to be rebuilt, renamed or dropped), taking their baseline now."""
        graph = self._begin()  # the schema as it is now, when this takes the baseline
        tables = {fold_identifier(t) for t in tables} - self._covered
        parents = {fold_identifier(t) for t in children_of} - self._parents
        if self.everything or not (tables or parents):
            return
        if graph is None:
            graph = foreign_key_graph(self.conn)
        self._covered |= tables
        self._parents |= parents
        self._remember(graph, (tables | graph.children(parents)) - self._rows.keys())

    def _remember(self, graph: ForeignKeyGraph, tables: set[str]) -> None:
        found, unreadable = self._read(graph, tables)
        for table in tables:
            self._rows.setdefault(table, found.get(table, {}))
        self._unreadable |= unreadable.keys()

    # -- after --------------------------------------------------------------------------------

    def check(self, *, rows: bool = True) -> None:
        """Raise :class:`ForeignKeyMismatch` for a foreign key SQLite cannot enforce that was
        not there before, then (``rows``) :class:`ForeignKeyViolation` for new rows without a
        parent in the covered tables. A guard that never started (it covers nothing) checks
        nothing."""
        if not self._started:
            return
        graph = foreign_key_graph(self.conn)
        problems = graph.problems()
        refuse_new_problems([p for key, p in problems.items() if key not in self._problems])
        if not rows:
            return
        if self.everything:
            scope = graph.with_foreign_keys()
        else:
            scope = self._covered | graph.children(self._parents)
        found, unreadable = self._read(graph, scope)
        refused = {t: e for t, e in unreadable.items() if t not in self._unreadable}
        if refused:
            shown = [f"table {graph.tables.get(t, t)!r}: {e}" for t, e in sorted(refused.items())]
            raise ForeignKeyMismatch(
                f"SQLite cannot check the foreign keys this change leaves: {_shown(shown)}"
            )
        lines: list[str] = []
        for table, by_parent in sorted(found.items()):
            before = self._rows.get(table, {})
            for parent, violations in by_parent.items():
                old = before.get(parent, [])
                if len(violations) <= len(old):
                    continue
                known = {rowid for rowid, _, _ in old}
                fresh = [v for v in violations if v[0] not in known] or violations
                lines.extend(self._describe(graph, table, fresh))
        if lines:
            raise ForeignKeyViolation(
                f"foreign key check failed, rows reference a missing row: {_shown(lines)}"
            )

    @staticmethod
    def _describe(
        graph: ForeignKeyGraph, table: str, violations: list[tuple[int | None, str, int]]
    ) -> list[str]:
        name = graph.tables.get(table, table)
        edges = {edge.id: edge for edge in graph.edges_of(name)}
        lines = []
        for rowid, parent, key_id in violations:
            edge = edges.get(key_id)
            columns = f" ({', '.join(edge.columns)})" if edge is not None else ""
            row = "a row" if rowid is None else f"row {rowid}"
            lines.append(f"{name} {row}{columns} -> {parent}")
        return lines

    def _read(
        self, graph: ForeignKeyGraph, tables: set[str]
    ) -> tuple[dict[str, _Rows], dict[str, str]]:
        """``PRAGMA foreign_key_check`` of each of ``tables`` that exists and whose keys SQLite
        can enforce: the violations by table and parent, and the tables it refused to check
        (with SQLite's error)."""
        broken = {table for table, _ in graph.problems()}
        names = [graph.tables[t] for t in sorted(tables) if t in graph.tables and t not in broken]
        found: dict[str, _Rows] = {}
        unreadable: dict[str, str] = {}
        for name in names:
            try:
                rows = self.conn.execute(
                    f"PRAGMA foreign_key_check({quote_identifier(name)})"
                ).fetchall()
            except sqlite3.Error as exc:
                unreadable[fold_identifier(name)] = str(exc)
                continue
            by_parent: _Rows = {}
            for _, rowid, parent, key_id in rows:
                by_parent.setdefault(fold_identifier(parent), []).append((rowid, parent, key_id))
            found[fold_identifier(name)] = by_parent
        return found, unreadable


def refuse_new_problems(new: list[ReferenceProblem]) -> None:
    """Raise :class:`ForeignKeyMismatch` for the foreign keys in ``new``, keys a change would
    leave that SQLite cannot enforce (nothing when it is empty)."""
    if new:
        raise ForeignKeyMismatch(
            "this change leaves a foreign key SQLite cannot enforce (every write to the "
            f"table would fail): {_shown([str(p) for p in new])}",
            new,
        )


#: How many of the package's savepoints are open on each connection (by ``id``: a
#: ``sqlite3.Connection`` takes no weak references); an entry lives while one is open.
_open_savepoints: dict[int, int] = {}


def open_savepoint(conn: sqlite3.Connection) -> str:
    """Open a savepoint in ``conn``'s transaction; returns its name, for
    :func:`close_savepoint`.

    The name says how deep it is (``hedystia_1``, ``hedystia_2``, ...), so that nested
    savepoints have names of their own and the same few statements come back call after
    call: sqlite3 keeps them prepared in its statement cache (a new name per call would be a
    new statement to prepare, each time)."""
    key = id(conn)
    depth = _open_savepoints.get(key, 0) + 1
    name = _SAVEPOINT_NAMES[depth] if depth < len(_SAVEPOINT_NAMES) else f"hedystia_{depth}"
    conn.execute(f"SAVEPOINT {name}")
    _open_savepoints[key] = depth
    return name


#: The names of the first savepoints, made once.
_SAVEPOINT_NAMES = [f"hedystia_{depth}" for depth in range(8)]


def close_savepoint(conn: sqlite3.Connection, name: str, *, rollback: bool) -> None:
    """Release the savepoint ``name`` (of :func:`open_savepoint`), first rolling back to it
    with ``rollback`` (unless the whole transaction is gone)."""
    key = id(conn)
    try:
        if rollback:
            if conn.in_transaction:
                conn.execute(f"ROLLBACK TO SAVEPOINT {name}")
                conn.execute(f"RELEASE SAVEPOINT {name}")
        else:
            conn.execute(f"RELEASE SAVEPOINT {name}")
    finally:
        depth = _open_savepoints.get(key, 1) - 1
        if depth > 0:
            _open_savepoints[key] = depth
        else:
            _open_savepoints.pop(key, None)


def block_savepoint(depth: int) -> tuple[str, str, str]:
    """The ``SAVEPOINT``, ``RELEASE`` and ``ROLLBACK TO`` statements of the savepoint of a
    ``db.transaction()`` block nested ``depth`` blocks deep in its thread's transaction: the
    same few statements every time (kept prepared by sqlite3), a name per depth."""
    if depth < len(_BLOCK_SAVEPOINTS):
        return _BLOCK_SAVEPOINTS[depth]
    return _block_statements(depth)


def _block_statements(depth: int) -> tuple[str, str, str]:
    name = f"hedystia_block_{depth}"
    return f"SAVEPOINT {name}", f"RELEASE SAVEPOINT {name}", f"ROLLBACK TO SAVEPOINT {name}"


_BLOCK_SAVEPOINTS = [_block_statements(depth) for depth in range(32)]


@contextmanager
def _savepoint(conn: sqlite3.Connection) -> Iterator[None]:
    name = open_savepoint(conn)
    try:
        yield
    except BaseException:
        close_savepoint(conn, name, rollback=True)
        raise
    close_savepoint(conn, name, rollback=False)


@contextmanager
def write_transaction(
    conn: sqlite3.Connection, *, before_commit: Callable[[], None] | None = None
) -> Iterator[sqlite3.Connection]:
    """A write transaction (``BEGIN IMMEDIATE``), or a savepoint when one is already open.
    ``before_commit`` runs last inside the transaction (its error rolls everything back)."""
    if conn.in_transaction:
        with _savepoint(conn):
            yield conn
            if before_commit is not None:
                before_commit()
        return
    with waiting(conn):  # on what is left of the call's busy timeout
        conn.execute("BEGIN IMMEDIATE")
    try:
        yield conn
        if before_commit is not None:
            before_commit()
        with waiting(conn):
            conn.execute("COMMIT")
    except BaseException:
        if conn.in_transaction:
            conn.execute("ROLLBACK")
        raise


@contextmanager
def schema_transaction(
    conn: sqlite3.Connection, guard: ForeignKeyGuard | None = None
) -> Iterator[sqlite3.Connection]:
    """Run a block of schema changes atomically, holding the write lock from the start, with
    foreign-key enforcement off and ``guard``'s check before ``COMMIT`` (no ``guard``: one
    that covers every table, as a migration needs). Inside a user's transaction it is a
    savepoint, enforcement stays as it is (SQLite cannot switch it inside a transaction; the
    executor refuses a rebuild that would fire ``ON DELETE``) and only the keys SQLite could
    not enforce are checked (enforcement, when on, has checked the rows)."""
    if guard is None:
        guard = ForeignKeyGuard(conn, everything=True)
    if conn.in_transaction:
        with write_transaction(conn, before_commit=lambda: guard.check(rows=False)):
            if guard.everything:
                guard.start()
            yield conn
        return
    enforced = foreign_keys_enforced(conn)
    if enforced:
        conn.execute("PRAGMA foreign_keys=OFF")
    try:
        with write_transaction(conn, before_commit=lambda: guard.check(rows=enforced)):
            if guard.everything:
                guard.start()
            yield conn
    finally:
        if enforced:
            conn.execute("PRAGMA foreign_keys=ON")
