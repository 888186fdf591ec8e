"""Write the ``Table`` models of an existing database: :func:`inspect_models` and
``hedystia-models schema inspect``.

The live schema is read as the planner reads it (:func:`~hedystia_models.engine.sqlite.
introspect.read_database`); each table becomes a class (:mod:`.tables`), each column a field
(:mod:`.columns`), named as Python allows (:mod:`.naming`) and laid out as ``ruff format``
would (:mod:`.layout`). References are written ``references="table.column"``, so no class needs
another and the one-file-per-table layout works as well as the single module; classes still
come in dependency order, referenced tables first.

What a model cannot declare (in this version: :mod:`.features` tries the newer options) is
written as a ``# TODO:`` comment where it belongs and listed in
:attr:`InspectedModels.unsupported`. Before returning, the generated module is loaded and its
models are diffed against the database they were read from; any difference left over that no
``TODO`` explains is listed too, so :attr:`~InspectedModels.unsupported` is empty exactly when
the models describe the database.
"""

from __future__ import annotations

import fnmatch
import os
import sqlite3
import warnings
from collections.abc import Iterable, Sequence
from inspect import signature
from pathlib import Path
from typing import Any

import sqlite_utils

from ..database import Database
from ..engine.sqlite.introspect import read_database
from ..errors import ConfigurationError
from ..migrate.diff import diff, order_by_dependencies
from ..migrate.operations import AddColumn, AlterColumn, DropColumn
from ..model.table import Table, is_table_class
from ..schema.quoting import fold_identifier, quote_identifier
from ..schema.state import DatabaseState
from .columns import Note
from .features import probe_features
from .layout import comment_lines
from .naming import class_name, module_name
from .relations import name_clashing_relations
from .tables import ClassCode, TableFacts, class_code

__all__ = ["InspectedModels", "inspect_models", "load_models", "open_read_only"]

#: What ``inspect_models`` accepts as a database.
DatabaseLike = Database | sqlite_utils.Database | sqlite3.Connection | str | os.PathLike[str]

MODULE_DOCSTRING = '''"""Table models of the database, written by `hedystia-models schema inspect`.

Review them before use: a TODO comment marks each thing the models cannot declare.
"""'''


class InspectedModels(str):
    """The models :func:`inspect_models` wrote. The object is itself the one-module source (a
    ``str``, so ``exec(inspect_models(db))`` works); its attributes:

    - ``source``: that module, every class in it;
    - ``files``: file name (``users.py``) -> source, one module per table, for a package;
    - ``unsupported``: what the models cannot declare, one line each, in the words of the
      ``# TODO:`` comments (empty when the models describe the database exactly);
    - ``classes``: table name -> the name of its class.
    """

    files: dict[str, str]
    unsupported: list[str]
    classes: dict[str, str]

    def __new__(
        cls,
        source: str,
        files: dict[str, str] | None = None,
        unsupported: list[str] | None = None,
        classes: dict[str, str] | None = None,
    ) -> InspectedModels:
        self = super().__new__(cls, source)
        self.files = {} if files is None else files
        self.unsupported = [] if unsupported is None else unsupported
        self.classes = {} if classes is None else classes
        return self

    @property
    def source(self) -> str:
        """The whole module, as a plain ``str``."""
        return str.__str__(self)

    def __repr__(self) -> str:
        return (
            f"InspectedModels(classes={self.classes!r}, files={sorted(self.files)!r}, "
            f"unsupported={self.unsupported!r})"
        )


def inspect_models(
    db: DatabaseLike, *, ignore_tables: Sequence[str] | None = None
) -> InspectedModels:
    """The ``Table`` models of every table of ``db``, as Python source.

    ``db`` is a :class:`~hedystia_models.Database` (its ``ignore_tables`` apply), a
    ``sqlite_utils.Database``, a ``sqlite3.Connection``, or the path of an SQLite file (opened
    read-only; ``":memory:"`` is an empty database). SQLite's own tables and this package's
    (``sqlite_*``, ``__hedystia_*``) are left out, and so are the tables ``ignore_tables``
    names (names or ``fnmatch`` patterns, matched ASCII case-insensitively). Nothing is
    written to the database.
    """
    patterns = tuple(ignore_tables or ())
    if ignore_tables is None and isinstance(db, Database):
        patterns = db.ignore_tables
    if isinstance(db, (str, os.PathLike)):
        conn = open_read_only(db)
        try:
            return _inspect(_wrap(conn), patterns)
        finally:
            conn.close()
    if isinstance(db, Database):
        return _inspect(db.sqlite, patterns)
    if isinstance(db, sqlite_utils.Database):
        return _inspect(db, patterns)
    if isinstance(db, sqlite3.Connection):
        return _inspect(_wrap(db), patterns)
    raise ConfigurationError(
        "inspect_models() takes a Database, a sqlite_utils.Database, a sqlite3.Connection or "
        f"the path of an SQLite file (got {type(db).__name__})"
    )


def _wrap(conn: sqlite3.Connection) -> sqlite_utils.Database:
    """``conn`` for reading, without the pragmas sqlite-utils would otherwise set on it."""
    return sqlite_utils.Database(conn, recursive_triggers=False, execute_plugins=False)


def open_read_only(path: str | os.PathLike[str], timeout: float = 5.0) -> sqlite3.Connection:
    """A read-only connection to the SQLite file ``path`` (``":memory:"``: an empty database);
    a :class:`~hedystia_models.errors.ConfigurationError` when there is no such file.
    ``timeout`` is how long to wait for another connection's lock, in seconds."""
    filename = os.fspath(path)
    if filename == ":memory:":
        return sqlite3.connect(":memory:")
    file = Path(filename)
    if not file.is_file():
        raise ConfigurationError(f"database file {filename!r} does not exist")
    return sqlite3.connect(f"{file.resolve().as_uri()}?mode=ro", uri=True, timeout=timeout)


def _ignored(name: str, patterns: Iterable[str]) -> bool:
    folded = fold_identifier(name)
    return any(fnmatch.fnmatchcase(folded, fold_identifier(p)) for p in patterns)


def _facts(db: sqlite_utils.Database, table: str, state: DatabaseState) -> TableFacts:
    rows = db.execute(f"PRAGMA table_xinfo({quote_identifier(table)})").fetchall()
    key = tuple(str(row[1]) for row in sorted((r for r in rows if r[5]), key=lambda r: r[5]))
    generated = frozenset(fold_identifier(str(row[1])) for row in rows if row[6] in (2, 3))
    folded = fold_identifier(table)
    triggers = tuple(
        sorted(
            d.name
            for d in state.dependents
            if d.kind == "trigger" and fold_identifier(d.table) == folded
        )
    )
    return TableFacts(primary_key=key, generated=generated, triggers=triggers)


def _index_expression_import() -> tuple[str, str]:
    import hedystia_models

    if "IndexExpression" in getattr(hedystia_models, "__all__", ()):
        return ("hedystia_models", "IndexExpression")
    return ("hedystia_models.schema.spec", "IndexExpression")


def _inspect(db: sqlite_utils.Database, patterns: tuple[str, ...]) -> InspectedModels:
    state = read_database(db)
    kept = {n: s for n, s in state.tables.items() if not _ignored(n, patterns)}
    features = probe_features()
    module_notes = _module_notes(db, state, patterns)
    classes: list[ClassCode] = []
    names: list[str] = []
    modules: list[str] = []
    for spec in order_by_dependencies(sorted(kept.values(), key=lambda s: fold_identifier(s.name))):
        name = class_name(spec.name, names)
        module = module_name(spec.name, modules)
        names.append(name)
        modules.append(module)
        classes.append(
            class_code(
                spec,
                _facts(db, spec.name, state),
                name=name,
                module=module,
                create_sql=spec.sql or "",
                features=features,
                index_expression_import=_index_expression_import(),
            )
        )
    name_clashing_relations(classes)
    notes = [*module_notes, *(n for c in classes for n in c.all_notes)]
    source = render_module(classes, module_notes)
    leftovers = _leftovers(source, state, kept, notes)
    if leftovers:
        module_notes = [*module_notes, *leftovers]
        notes = [*notes, *leftovers]
        source = render_module(classes, module_notes)
    return InspectedModels(
        source,
        {f"{c.module}.py": render_file(c) for c in classes},
        [note.message for note in notes],
        {c.table: c.name for c in classes},
    )


def _module_notes(
    db: sqlite_utils.Database, state: DatabaseState, patterns: tuple[str, ...]
) -> list[Note]:
    """Views and virtual tables: there is no model for them."""
    notes = [
        Note(None, None, f"the view {d.name}, which a model does not declare (it stays)")
        for d in sorted(state.dependents, key=lambda d: d.name)
        if d.kind == "view" and not _ignored(d.name, patterns)
    ]
    rows = db.execute(
        "SELECT name FROM sqlite_master WHERE type = 'table' AND sql LIKE 'CREATE VIRTUAL%' "
        "ORDER BY name"
    ).fetchall()
    notes += [
        Note(None, None, f"the virtual table {row[0]}, which a model cannot declare")
        for row in rows
        if not _ignored(str(row[0]), patterns)
    ]
    return notes


def _import_lines(imports: set[tuple[str, str]]) -> list[str]:
    """The import statements, grouped and sorted as isort (ruff's ``I`` rules) sorts them."""
    by_module: dict[str, set[str]] = {}
    for module, name in imports:
        by_module.setdefault(module, set()).add(name)
    stdlib = sorted(m for m in by_module if not m.startswith("hedystia_models"))
    ours = sorted(m for m in by_module if m.startswith("hedystia_models"))
    lines: list[str] = []
    for group in (stdlib, ours):
        if group and lines:
            lines.append("")
        for module in group:
            names = sorted(by_module[module], key=lambda n: (not n.isupper(), n))
            lines.append(f"from {module} import {', '.join(names)}")
    return lines


def render_module(classes: Sequence[ClassCode], notes: Sequence[Note] = ()) -> str:
    """The single module holding every class, ``notes`` (not about one table) on top."""
    imports: set[tuple[str, str]] = set()
    for code in classes:
        imports |= code.imports
    parts = [MODULE_DOCSTRING]
    if imports:
        parts.append("\n".join(_import_lines(imports)))
    if notes:
        parts.append(
            "\n".join(line for n in notes for line in comment_lines(f"TODO: {n.message}", 0))
        )
    text = "\n\n".join(parts)
    for code in classes:
        text += "\n\n\n" + "\n".join(code.lines())
    return text + "\n"


def _file_docstring(table: str) -> str:
    if table.isprintable() and '"' not in table and "\\" not in table:
        return f'"""The {table} table."""'
    return '"""A table model."""'


def render_file(code: ClassCode) -> str:
    """The module of one class, for the one-file-per-table layout."""
    head = [_file_docstring(code.table), "\n".join(_import_lines(code.imports))]
    return "\n\n".join(head) + "\n\n\n" + "\n".join(code.lines()) + "\n"


def load_models(source: str, name: str = "hedystia_models_inspected") -> list[type[Table]]:
    """The ``Table`` classes that ``source`` declares, in order (runs ``source``)."""
    namespace: dict[str, Any] = {"__name__": name}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        exec(compile(source, f"<{name}>", "exec", dont_inherit=True), namespace)
    return [v for v in namespace.values() if is_table_class(v) and v.__module__ == name]


def _leftovers(
    source: str, state: DatabaseState, kept: dict[str, Any], notes: Sequence[Note]
) -> list[Note]:
    """The differences left between ``state`` and the models ``source`` declares that no note
    explains, as notes (a failure to load the models is one)."""
    try:
        models = load_models(source)
        specs = [model.table_spec() for model in models]
    except Exception as exc:  # a bug here: report it rather than hand back broken code
        return [
            Note(
                None,
                None,
                "the generated models do not load, which is a bug in hedystia-models (please "
                f"report it): {type(exc).__name__}: {exc}",
            )
        ]
    scoped = DatabaseState(tables=kept, tables_with_rows=frozenset(), dependents=state.dependents)
    explained = {
        (fold_identifier(n.table), None if n.column is None else fold_identifier(n.column))
        for n in notes
        if n.table is not None
    }
    # Strictly: a default on one side only is drift here (the plan itself only notes it).
    strict = {"strict_defaults": True} if "strict_defaults" in signature(diff).parameters else {}
    found: list[Note] = []
    for planned in diff(specs, scoped, **strict):
        operation = planned.operation
        column: str | None = None
        if isinstance(operation, (AddColumn, DropColumn)):
            column = operation.spec.name
        elif isinstance(operation, AlterColumn):
            column = operation.actual.name
        table = fold_identifier(operation.table)
        if column is not None and (table, fold_identifier(column)) in explained:
            continue
        if column is None and (table, None) in explained:
            continue
        found.append(
            Note(
                None,
                None,
                f"the generated models still differ from the database: {operation.describe()}",
            )
        )
    return found
