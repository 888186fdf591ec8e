"""What a model class is translated into: its :class:`TableInfo` and field-to-column mappings.

Plain frozen values, built by :mod:`hedystia_models.model.build` and cached on the class by
:func:`hedystia_models.model.table.table_info`; row code reads them to move values between
model fields and columns.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from dataclasses import field as dataclass_field
from typing import TYPE_CHECKING, Any

from ..schema.quoting import fold_identifier

if TYPE_CHECKING:  # types only: the Table base imports this module (issue 14)
    from ..schema.spec import TableSpec
    from .table import Table
    from .typemap import Storage

__all__ = ["FieldMapping", "TableInfo"]


@dataclass(frozen=True)
class FieldMapping:
    """One model field and the column that stores it. ``refresh`` gives the value an update
    sets it to (``Field(refresh_on_update=...)``), ``None`` for a field updates leave alone."""

    field: str
    column: str
    storage: Storage
    refresh: Callable[[], Any] | None = dataclass_field(default=None, compare=False)


@dataclass(frozen=True)
class TableInfo:
    """Everything derived from a model class: its spec and how fields map to columns."""

    model: type[Table]
    spec: TableSpec
    fields: tuple[FieldMapping, ...]

    @property
    def name(self) -> str:
        """The table name."""
        return self.spec.name

    def column_for(self, key: str) -> FieldMapping | None:
        """The mapping for a field name or column name (``None`` when neither matches)."""
        for mapping in self.fields:
            if mapping.field == key:
                return mapping
        folded = fold_identifier(key)
        for mapping in self.fields:
            if fold_identifier(mapping.column) == folded:
                return mapping
        return None
