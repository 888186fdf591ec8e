"""hedystia-models: Pydantic models as the single source of truth for a SQLite schema."""

from __future__ import annotations

from .database import Database, database
from .errors import (
    ConfigurationError,
    HedystiaError,
    MigrationError,
    QueryError,
    RowError,
    SchemaError,
    SyncError,
)
from .fields import Column, ColumnRef, Field, utcnow
from .migrations import MigrationDefinition, MigrationStatus, migration
from .operations import Operation, Safety
from .plan import Plan
from .repository import Repository
from .spec import CheckSpec, ColumnSpec, ForeignKeySpec, IndexSpec, Reference, TableSpec
from .table import Index, Table

__all__ = [
    "CheckSpec",
    "Column",
    "ColumnRef",
    "ColumnSpec",
    "ConfigurationError",
    "Database",
    "Field",
    "ForeignKeySpec",
    "HedystiaError",
    "Index",
    "IndexSpec",
    "MigrationDefinition",
    "MigrationError",
    "MigrationStatus",
    "Operation",
    "Plan",
    "QueryError",
    "Reference",
    "Repository",
    "RowError",
    "Safety",
    "SchemaError",
    "SyncError",
    "Table",
    "TableSpec",
    "database",
    "migration",
    "utcnow",
]

__version__ = "0.1.0"
