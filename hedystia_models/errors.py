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
