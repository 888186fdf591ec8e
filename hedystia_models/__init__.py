"""hedystia-models: Pydantic models as the single source of truth for a SQLite schema."""

from __future__ import annotations

from .aio import AsyncDatabase, AsyncRepository
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
from .inspect import inspect_models
from .migrate.context import MigrationContext
from .migrate.migrations import MigrationDefinition, MigrationStatus, migration
from .migrate.operations import Operation, Safety
from .migrate.plan import Plan, PlannedOperation
from .model.fields import Column, ColumnRef, Field, utcnow
from .model.foreign_keys import ForeignKey
from .model.table import Index, Table
from .rows.aggregates import Aggregate, Group
from .rows.cache import Cache
from .rows.projection import Partial
from .rows.repository import Repository
from .schema.spec import CheckSpec, ColumnSpec, ForeignKeySpec, IndexSpec, Reference, TableSpec

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
