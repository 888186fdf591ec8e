"""hedystia-models: Pydantic models as the one source of truth for a SQLite or PostgreSQL schema."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .database import Database, database
from .errors import (
    ConfigurationError,
    DatabaseFileError,
    DatabaseLockedError,
    HedystiaError,
    MigrationError,
    OperationError,
    QueryError,
    RowError,
    SchemaError,
    SpecError,
    SyncError,
    UnknownTableAttributeError,
    UnknownTableError,
)
from .model.fields import Column, ColumnRef, Field, utcnow
from .model.foreign_keys import ForeignKey
from .model.table import Index, Table

if TYPE_CHECKING:
    from .aio import AsyncDatabase, AsyncRepository
    from .inspect import inspect_models
    from .migrate.context import MigrationContext
    from .migrate.migrations import MigrationDefinition, MigrationStatus, migration
    from .migrate.operations import Operation, Safety
    from .migrate.plan import Plan, PlannedOperation
    from .rows.aggregates import Aggregate, Group
    from .rows.cache import Cache
    from .rows.projection import Partial
    from .rows.repository import Repository
    from .schema.spec import (
        CheckSpec,
        ColumnSpec,
        ForeignKeySpec,
        IndexSpec,
        Reference,
        TableSpec,
    )

# Names whose modules only some programs need, imported on first use (issue 14): the async API
# brings asyncio (with ssl, sockets and subprocesses), inspect_models the whole code-writing
# side of ``hedystia-models inspect``, and the others the migration side (migrations, plans,
# operations) and the rows side (repositories, aggregates, the read cache), which
# ``database(...)`` loads as it needs them. ``from hedystia_models import AsyncDatabase``
# works as before; ``import hedystia_models`` alone loads none of them.
_LAZY = {
    "Aggregate": "rows.aggregates",
    "AsyncDatabase": "aio",
    "AsyncRepository": "aio",
    "Cache": "rows.cache",
    "CheckSpec": "schema.spec",
    "ColumnSpec": "schema.spec",
    "ForeignKeySpec": "schema.spec",
    "Group": "rows.aggregates",
    "IndexSpec": "schema.spec",
    "MigrationContext": "migrate.context",
    "MigrationDefinition": "migrate.migrations",
    "MigrationStatus": "migrate.migrations",
    "Operation": "migrate.operations",
    "Partial": "rows.projection",
    "Plan": "migrate.plan",
    "PlannedOperation": "migrate.plan",
    "Reference": "schema.spec",
    "Repository": "rows.repository",
    "Safety": "migrate.operations",
    "TableSpec": "schema.spec",
    "inspect_models": "inspect",
    "migration": "migrate.migrations",
}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    from importlib import import_module

    value = getattr(import_module(f".{module}", __name__), name)
    globals()[name] = value  # later look-ups skip this function
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_LAZY))


__all__ = [
    "Aggregate",
    "AsyncDatabase",
    "AsyncRepository",
    "Cache",
    "CheckSpec",
    "Column",
    "ColumnRef",
    "ColumnSpec",
    "ConfigurationError",
    "Database",
    "DatabaseFileError",
    "DatabaseLockedError",
    "Field",
    "ForeignKey",
    "ForeignKeySpec",
    "Group",
    "HedystiaError",
    "Index",
    "IndexSpec",
    "MigrationContext",
    "MigrationDefinition",
    "MigrationError",
    "MigrationStatus",
    "Operation",
    "OperationError",
    "Partial",
    "Plan",
    "PlannedOperation",
    "QueryError",
    "Reference",
    "Repository",
    "RowError",
    "Safety",
    "SchemaError",
    "SpecError",
    "SyncError",
    "Table",
    "TableSpec",
    "UnknownTableAttributeError",
    "UnknownTableError",
    "database",
    "inspect_models",
    "migration",
    "utcnow",
]

__version__ = "0.1.0"
