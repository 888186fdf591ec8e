"""Exceptions raised by hedystia-models.

Every error names what it is about (model, field, table, column, migration or row) so that
the message alone tells the user where to look.
"""

from __future__ import annotations


class HedystiaError(Exception):
    """Base class of every error this library raises on purpose."""


class SchemaError(HedystiaError):
    """A model or schema set cannot be turned into a table definition."""


class ConfigurationError(HedystiaError):
    """`database(...)` was given arguments it cannot use."""


class SyncError(HedystiaError):
    """`sync()` found a difference it must not or cannot apply; nothing was applied."""


class MigrationError(HedystiaError):
    """A hand-written migration failed, or the migration set is inconsistent."""


class RowError(HedystiaError):
    """One or more rows were rejected; nothing was written.

    ``problems`` lists ``(row_index, field, message)`` triples (``row_index`` is ``None`` for a
    single-row call, ``field`` is ``None`` for a constraint that is not about one field).
    """

    def __init__(self, message: str, problems: list[tuple[int | None, str | None, str]]):
        super().__init__(message)
        self.problems = problems


class QueryError(HedystiaError):
    """A ``where``/``order_by`` argument names an unknown field, uses an unknown operator, or
    compares a field with a value that is not of the field's type."""
