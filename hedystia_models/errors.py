"""Exceptions raised by hedystia-models.

Every error names what it is about (model, field, table, column, migration or row) so that
the message alone tells the user where to look.
"""

from __future__ import annotations

#: One problem of a :class:`RowError`: ``(row index, field, message)``.
Problem = tuple[int | None, str | None, str]


class HedystiaError(Exception):
    """Base class of every error this library raises on purpose."""


class SchemaError(HedystiaError):
    """A model or schema set cannot be turned into a table definition."""


class SpecError(SchemaError, ValueError):
    """A :class:`~hedystia_models.TableSpec`, ``ColumnSpec`` or ``IndexSpec`` was built with
    values that do not describe a valid table (it is also a ``ValueError``)."""


class OperationError(HedystiaError):
    """A schema operation cannot be carried out, or SQLite refused one of its statements.

    Sync reports it as a :class:`SyncError`, a migration as a :class:`MigrationError`;
    ``statement`` is the SQL that failed, when one did.
    """

    def __init__(self, message: str, statement: str | None = None) -> None:
        super().__init__(message)
        self.statement = statement


class ConfigurationError(HedystiaError):
    """`database(...)` was given arguments it cannot use."""


class DatabaseFileError(ConfigurationError):
    """The database file or its connection cannot be used for what was asked: the file is not
    a SQLite database, is a directory, is read-only (for a write), was deleted or moved while
    open, or the database is closed. ``path`` names the file (``":memory:"`` for a database in
    memory), when it is known. It is also a :class:`ConfigurationError`, which is what an
    unusable ``connection`` given to ``database(...)`` is."""

    def __init__(self, message: str, path: str | None = None) -> None:
        super().__init__(message)
        self.path = path


class DatabaseLockedError(HedystiaError):
    """Another connection held the database's lock for longer than the ``busy_timeout`` the
    call could wait in all. ``path`` names the file and ``timeout`` is that ``busy_timeout``.
    The SQLite engine raises its subclass that is also ``sqlite3.OperationalError``, so code
    that caught SQLite's own lock error still catches it."""

    def __init__(self, message: str, path: str, timeout: float) -> None:
        super().__init__(message)
        self.path = path
        self.timeout = timeout


class SyncError(HedystiaError):
    """`sync()` found a difference it must not or cannot apply; nothing was applied."""


class MigrationError(HedystiaError):
    """A hand-written migration failed, or the migration set is inconsistent.

    ``migration`` names the migration the error is about, when it is about one.
    """

    def __init__(self, message: str, migration: str | None = None) -> None:
        super().__init__(message)
        self.migration = migration


class RowError(HedystiaError):
    """One or more rows were rejected; nothing was written.

    ``problems`` lists ``(row_index, field, message)`` triples (``row_index`` is ``None`` for a
    single-row call, ``field`` is ``None`` for a constraint that is not about one field).
    """

    def __init__(self, message: str, problems: list[Problem]):
        super().__init__(message)
        self.problems = problems


class QueryError(HedystiaError):
    """A ``where``/``order_by`` argument names an unknown field, uses an unknown operator, or
    compares a field with a value that is not of the field's type; or another argument of a
    repository call (``limit``, ``offset``, ``get``'s key, ``update``'s ``data``) is not one
    it can use."""


class UnknownTableError(HedystiaError, KeyError):
    """``db["name"]`` or ``db.table(Model)`` names no table of the database. It is also a
    ``KeyError``; its message lists the tables the database knows."""

    def __str__(self) -> str:
        # KeyError would show the message in quotes, as it does a missing key.
        return str(self.args[0]) if self.args else ""


class UnknownTableAttributeError(UnknownTableError, AttributeError):
    """``db.name`` names no table of the database: an :class:`UnknownTableError` that is also
    an ``AttributeError``, as an unknown attribute must be (``hasattr``, ``getattr`` with a
    default)."""
