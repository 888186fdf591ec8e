"""The values of ``refresh_on_update`` fields for one update statement.

A field declared ``Field(default_factory=utcnow, refresh_on_update=True)`` is set again by
every update of its row: ``update``, the update of ``upsert`` and the update of ``save``.
:func:`refreshed_values` computes each such value once per statement (so every row an
``update`` changes gets the same one), validates it against the field's type and constraints
and encodes it, like any value ``update`` is given; a field the update sets explicitly keeps
the value given. The declaration side is :mod:`hedystia_models.model.refresh`.
"""

from __future__ import annotations

from collections.abc import Collection
from typing import Any

from .codec import RowCodec

__all__ = ["refreshed_values"]


def refreshed_values(codec: RowCodec[Any], given: Collection[str] = ()) -> dict[str, Any]:
    """The stored values (by column) of the table's ``refresh_on_update`` fields whose
    columns are not in ``given``, computed now. A value its field rejects is a
    :class:`~hedystia_models.errors.RowError` naming the field."""
    data = {
        mapping.field: mapping.refresh()
        for mapping in codec.info.fields
        if mapping.refresh is not None and mapping.column not in given
    }
    return codec.encode_data(data) if data else {}
