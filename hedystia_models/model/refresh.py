"""``Field(refresh_on_update=...)``: what a field is set to again at every update of its row.

The option is resolved here, once per field when its model is built, into the function an
update calls (:attr:`~hedystia_models.model.info.FieldMapping.refresh`); a bad declaration is
a :class:`~hedystia_models.errors.SchemaError` naming the field. The rows side (computing,
validating and encoding the value once per statement) is :mod:`hedystia_models.rows.refresh`.
The option never changes the schema: the value is computed in Python, not by a trigger.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from pydantic.fields import FieldInfo

from ..errors import SchemaError
from .fields import Column

__all__ = ["refresh_of"]


def refresh_of(meta: Column, info: FieldInfo, where: str) -> Callable[[], Any] | None:
    """The function whose result an update stores in the field ``where`` names, or ``None``
    when the field is not ``refresh_on_update``.

    ``True`` means the field's ``default_factory`` (one taking no argument); a callable is
    used as given.
    """
    option = meta.refresh_on_update
    if option is False:
        return None
    refresh: Callable[[], Any] | None
    if option is True:
        refresh = info.default_factory  # type: ignore[assignment]
        takes_data = bool(getattr(info, "default_factory_takes_validated_data", False))
        if refresh is None or takes_data:
            why = "it has none" if refresh is None else "it takes the validated data"
            raise SchemaError(
                f"{where}: refresh_on_update=True calls the field's default_factory, and {why}; "
                "give the function to call instead (refresh_on_update=utcnow)"
            )
    elif callable(option) and not isinstance(option, bool):
        refresh = option
    else:
        raise SchemaError(
            f"{where}: refresh_on_update must be True, False or a callable (got {option!r})"
        )
    if meta.primary_key:
        raise SchemaError(
            f"{where}: a primary key field cannot be refresh_on_update (every update would "
            "give the row another key)"
        )
    return refresh
