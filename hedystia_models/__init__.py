"""hedystia-models: Pydantic models as the single source of truth for a SQLite schema."""

from __future__ import annotations

from .database import Database, database
from .errors import ConfigurationError, HedystiaError, MigrationError, SchemaError, SyncError
from .fields import Column, ColumnRef, Field, utcnow
from .operations import Operation, Safety
from .plan import Plan
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
    "MigrationError",
    "Operation",
    "Plan",
    "Reference",
    "Safety",
    "SchemaError",
    "SyncError",
    "Table",
    "TableSpec",
    "database",
    "utcnow",
]

__version__ = "0.1.0"
