"""The migration context, importable where generated migration files expect it.

``from hedystia_models.context import MigrationContext`` is what every generated migration file
writes; the context itself lives in :mod:`hedystia_models.migrate.context`.
"""

from __future__ import annotations

from .migrate.context import MigrationContext, SchemaContext

__all__ = ["MigrationContext", "SchemaContext"]
