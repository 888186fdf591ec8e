"""@hedystia/db's column dict <-> :class:`ColumnSpec`: the keys, their camelCase aliases.

:meth:`ColumnSpec.from_dict` and :meth:`ColumnSpec.to_dict` call these functions. The dict
holds ``name``, ``type`` (with an optional ``length``), the key, ``not_null`` and ``unique``
flags, the default as a constant (``default_value``) or as SQL (``default_sql``), ``check``
and ``references``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ..errors import SpecError
from .quoting import UNPARSED, parse_sql_literal, sql_literal
from .spec import ColumnSpec, Reference

__all__ = ["column_from_dict", "column_to_dict"]

#: camelCase spellings of keys (in a column dict and in its ``references`` dict).
_ALIASES = {
    "primaryKey": "primary_key",
    "autoIncrement": "auto_increment",
    "notNull": "not_null",
    "defaultValue": "default_value",
    "defaultSql": "default_sql",
    "onDelete": "on_delete",
    "onUpdate": "on_update",
}

#: Every key a column dict may hold, in canonical spelling.
_KNOWN_KEYS = {
    "name",
    "type",
    "primary_key",
    "auto_increment",
    "not_null",
    "unique",
    "default_value",
    "default_sql",
    "check",
    "references",
    "length",
}


def column_from_dict(
    data: Mapping[str, Any], *, name: str | None = None, cls: type[ColumnSpec] = ColumnSpec
) -> ColumnSpec:
    """Build a column (a ``cls``, by default :class:`ColumnSpec`) from @hedystia/db's column dict.

    Keys (snake_case or camelCase): ``name``, ``type``, ``primary_key``/``primaryKey``,
    ``auto_increment``/``autoIncrement``, ``not_null``/``notNull``, ``unique``,
    ``default_value``/``defaultValue`` (a constant) or ``default_sql`` (an SQL expression),
    ``check``, and ``references`` (``"table.column"`` or a dict with ``table``, ``column``,
    ``on_delete``, ``on_update``).
    """
    if not isinstance(data, Mapping):
        raise SpecError(f"a column definition must be a dict (got {type(data).__name__})")
    values: dict[str, Any] = {}
    for key, value in data.items():
        canonical = _ALIASES.get(key, key)
        if canonical not in _KNOWN_KEYS:
            raise SpecError(f"unknown key {key!r} in column definition")
        values[canonical] = value
    column_name = name if name is not None else values.get("name")
    if not column_name:
        raise SpecError("a column definition needs a 'name'")
    if values.get("name") not in (None, column_name):
        raise SpecError(
            f"column definition names {values['name']!r} but is added as {column_name!r}"
        )
    if "type" not in values:
        raise SpecError(f"column {column_name!r} needs a 'type'")
    sql_type = str(values["type"])
    length = values.get("length")
    if isinstance(length, str) and length.isdigit():
        length = int(length)
    if length is not None:
        if isinstance(length, bool) or not isinstance(length, int) or length < 1:
            raise SpecError(
                f"column {column_name!r}: length must be a positive int (got {length!r})"
            )
        sql_type = f"{sql_type}({length})"
    default_sql = values.get("default_sql")
    if "default_value" in values and values["default_value"] is not None:
        if default_sql is not None:
            raise SpecError(f"column {column_name!r}: give default_value or default_sql")
        default_sql = sql_literal(values["default_value"])
    references = values.get("references")
    if isinstance(references, str):
        references = Reference(*_split_reference(references))
    elif isinstance(references, Mapping):
        ref = {_ALIASES.get(k, k): v for k, v in references.items()}
        missing = [k for k in ("table", "column") if k not in ref]
        if missing or set(ref) - {"table", "column", "on_delete", "on_update"}:
            raise SpecError(
                f"column {column_name!r}: references takes table, column, on_delete and "
                f"on_update (got {sorted(map(str, references))})"
            )
        references = Reference(
            ref["table"],
            ref["column"],
            ref.get("on_delete") or "NO ACTION",
            ref.get("on_update") or "NO ACTION",
        )
    return cls(
        name=column_name,
        type=sql_type,
        primary_key=bool(values.get("primary_key", False)),
        auto_increment=bool(values.get("auto_increment", False)),
        not_null=bool(values.get("not_null", False)),
        unique=bool(values.get("unique", False)),
        default_sql=default_sql,
        check=values.get("check"),
        references=references,
    )


def column_to_dict(column: ColumnSpec) -> dict[str, Any]:
    """``column`` in @hedystia/db's dict shape (snake_case keys)."""
    data: dict[str, Any] = {
        "name": column.name,
        "type": column.type.lower(),
        "primary_key": column.primary_key,
        "auto_increment": column.auto_increment,
        "not_null": column.not_null,
        "unique": column.unique,
    }
    if column.default_sql is not None:
        value = parse_sql_literal(column.default_sql)
        if value is UNPARSED:
            data["default_sql"] = column.default_sql
        else:
            data["default_value"] = value
    else:
        data["default_value"] = None
    if column.check is not None:
        data["check"] = column.check
    if column.references is not None:
        data["references"] = {
            "table": column.references.table,
            "column": column.references.column,
            "on_delete": column.references.on_delete,
            "on_update": column.references.on_update,
        }
    return data


def _split_reference(text: str) -> tuple[str, str]:
    table, dot, column = text.rpartition(".")
    if not dot or not table or not column:
        raise SpecError(f"a reference must look like 'table.column' (got {text!r})")
    return table, column
