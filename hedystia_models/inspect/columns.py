"""One live column -> the Python of one model field: annotation, default and ``Field`` options.

The annotation is chosen so that the package declares exactly the live type
(:mod:`hedystia_models.model.typemap`): ``INTEGER`` is ``int``, ``VARCHAR(40)`` is ``str`` with
``max_length=40``, ``DATETIME`` is ``datetime``; any other declared type keeps the annotation
of its SQLite affinity and names the type with ``Field(sql_type=...)`` (``NVARCHAR(40)`` is a
``str``, ``BIGINT`` an ``int``, ``NUMERIC(10,2)`` a ``Decimal``). A literal ``DEFAULT`` becomes a
Python default that the field stores as exactly that SQL constant; when the natural annotation
cannot (``DEFAULT 0`` on a ``NUMERIC`` column: a ``Decimal`` is stored as text), the field
takes the annotation of the constant instead (``float``), still declaring the live type.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from datetime import date, datetime, time
from decimal import Decimal, InvalidOperation
from uuid import UUID

from ..engine.sqlite.storage import KIND_STORAGE
from ..schema.compare import affinity, same_default
from ..schema.quoting import UNPARSED, parse_sql_literal, sql_literal
from ..schema.spec import ColumnSpec
from .features import Features
from .layout import Call, Keyword, Node
from .naming import py_bytes, py_str

__all__ = ["OPTION_ORDER", "FieldCode", "Note", "field_code", "python_literal", "python_type"]


@dataclass(frozen=True)
class Note:
    """Something of the live schema a model cannot declare: where, and what."""

    table: str | None
    column: str | None
    text: str

    @property
    def message(self) -> str:
        """``"users.created_at: <text>"`` (``"users: ..."`` for the table, or the bare text)."""
        if self.table is None:
            return self.text
        where = self.table if self.column is None else f"{self.table}.{self.column}"
        return f"{where}: {self.text}"


#: The order of the options in a generated ``Field(...)``.
OPTION_ORDER = (
    "default",
    "primary_key",
    "auto_increment",
    "column",
    "sql_type",
    "max_length",
    "max_digits",
    "decimal_places",
    "unique",
    "index",
    "references",
    "on_delete",
    "on_update",
    "deferrable",
    "relation_name",
    "related_name",
    "collate",
    "sql_default",
    "check",
)


@dataclass
class FieldCode:
    """One field as code: ``name: annotation = default`` or ``= Field(default=..., ...)``.

    ``default`` is Python code (``None``: no default, a required field); ``options`` are the
    ``Field`` keywords besides ``default``; ``imports`` the (module, name) pairs it needs.
    """

    name: str
    column: str
    annotation: str
    default: str | None
    options: dict[str, str] = field(default_factory=dict)
    notes: list[Note] = field(default_factory=list)
    imports: set[tuple[str, str]] = field(default_factory=set)

    @property
    def value(self) -> Node | None:
        """What follows ``=`` (``None``: nothing does)."""
        if not self.options:
            return self.default
        given = dict(self.options)
        if self.default is not None:
            given["default"] = self.default
        ordered = sorted(given.items(), key=lambda item: OPTION_ORDER.index(item[0]))
        return Call("Field(", tuple(Keyword(key, value) for key, value in ordered))


#: Declared types that an annotation gives without ``sql_type=``.
_NATURAL_TYPE = {
    "int": "INTEGER",
    "str": "TEXT",
    "float": "REAL",
    "bool": "BOOLEAN",
    "bytes": "BLOB",
    "Decimal": "TEXT",
    "datetime": "DATETIME",
    "date": "DATE",
    "time": "TIME",
    "UUID": "TEXT",
}
_ANNOTATION_OF = {
    "INTEGER": "int",
    "TEXT": "str",
    "REAL": "float",
    "BOOLEAN": "bool",
    "BLOB": "bytes",
    "DATETIME": "datetime",
    "DATE": "date",
    "TIME": "time",
}
_IMPORT_OF = {
    "Decimal": ("decimal", "Decimal"),
    "datetime": ("datetime", "datetime"),
    "date": ("datetime", "date"),
    "time": ("datetime", "time"),
    "UUID": ("uuid", "UUID"),
}
_VARCHAR = re.compile(r"VARCHAR\((\d+)\)")
_NUMERIC = re.compile(r"(?:NUMERIC|DECIMAL)\((\d+),(\d+)\)")
_INT64 = range(-(2**63), 2**63)


def python_type(declared: str) -> str:
    """The annotation for a column of declared type ``declared`` (normalized, upper case): the
    one that declares it exactly, else the one of its affinity (SQLite's rules: ``INT`` means
    integer; ``CHAR``, ``CLOB``, ``TEXT`` text; ``BLOB`` blob; ``REAL``, ``FLOA``, ``DOUB`` real;
    anything else numeric, read by its name).

    >>> [python_type(t) for t in ("BIGINT", "NVARCHAR(40)", "DOUBLE", "NUMERIC(10,2)", "BOOL")]
    ['int', 'str', 'float', 'Decimal', 'bool']
    >>> [python_type(t) for t in ("TIMESTAMP", "UUID", "JSON", "MONEY", "")]
    ['datetime', 'UUID', 'str', 'Decimal', 'bytes']
    """
    if declared in _ANNOTATION_OF:
        return _ANNOTATION_OF[declared]
    if "INT" in declared:
        return "int"
    if any(word in declared for word in ("CHAR", "CLOB", "TEXT")):
        return "str"
    if "BLOB" in declared or not declared:
        return "bytes"
    if any(word in declared for word in ("REAL", "FLOA", "DOUB")):
        return "float"
    if declared.startswith("BOOL"):
        return "bool"
    if "DATETIME" in declared or "TIMESTAMP" in declared:
        return "datetime"
    if declared.startswith("DATE"):
        return "date"
    if declared.startswith("TIME"):
        return "time"
    if declared == "UUID":
        return "UUID"
    if declared in ("JSON", "JSONB"):
        return "str"  # whatever JSON it holds, as its text
    return "Decimal"


def _strip_module(text: str) -> str:
    return text.removeprefix("datetime.")


def python_literal(base: str, value: object) -> str | None:
    """Python code for a default of a ``base`` field that is stored as the SQL constant
    ``value`` (as :func:`~hedystia_models.schema.quoting.parse_sql_literal` reads it), or
    ``None`` when no value of that annotation is stored so.

    >>> python_literal("bool", 1), python_literal("float", 0), python_literal("Decimal", "1.10")
    ('True', '0', 'Decimal("1.10")')
    >>> python_literal("datetime", "2026-01-01 09:00:00"), python_literal("Decimal", 0)
    ('datetime(2026, 1, 1, 9, 0)', None)
    """
    if isinstance(value, bool):  # pragma: no cover - parse_sql_literal reads TRUE as 1
        value = int(value)
    if isinstance(value, int):
        if value not in _INT64:
            return None
        if base == "bool":
            return {0: "False", 1: "True"}.get(value)
        return str(value) if base in ("int", "float") else None
    if isinstance(value, float):
        return repr(value) if base == "float" and math.isfinite(value) else None
    if isinstance(value, bytes):
        return py_bytes(value) if base == "bytes" else None
    if not isinstance(value, str) or "\x00" in value:
        return None
    if base == "str":
        return py_str(value)
    try:
        if base == "Decimal":
            number = Decimal(value)
            ok = number.is_finite() and str(number) == value
            return f"Decimal({py_str(value)})" if ok else None
        if base == "datetime":
            moment = datetime.fromisoformat(value)
            if moment.isoformat(sep=" ") != value:
                return None
            if moment.tzinfo is None:
                return _strip_module(repr(moment))
            # The same instant as the package writes it, in UTC (the plan finds them equal).
            return f"datetime.fromisoformat({py_str(KIND_STORAGE['datetime'][1](moment))})"
        if base == "UUID":
            ok = str(UUID(value)) == value
            return f"UUID({py_str(value)})" if ok else None
        if base == "date":
            day = date.fromisoformat(value)
            return _strip_module(repr(day)) if day.isoformat() == value else None
        if base == "time":
            clock = time.fromisoformat(value)
            if clock.isoformat() != value:
                return None
            if clock.tzinfo is None:
                return _strip_module(repr(clock))
            return f"time.fromisoformat({py_str(KIND_STORAGE['time'][1](clock))})"
    except (ValueError, InvalidOperation):
        return None
    return None


def _stored_alike(base: str, value: object, column: ColumnSpec) -> str | None:
    """A default of the natural annotation that the column stores as the same value as its
    own, though written otherwise: ``Decimal("0")`` (written ``'0'``) for ``DEFAULT 0`` on a
    ``NUMERIC`` column, ``5`` for ``DEFAULT '5'`` on an ``INTEGER`` one. The plan compares
    defaults as the column's affinity stores them, and so does this."""
    if isinstance(value, bool) or column.default_sql is None:
        return None
    candidate: object = None
    code: str | None = None
    try:
        if base == "Decimal" and isinstance(value, (int, float)):
            text = str(Decimal(str(value)))
            candidate, code = text, f"Decimal({py_str(text)})"
        elif base == "int" and isinstance(value, (str, float)):
            number = int(str(value).strip()) if isinstance(value, str) else int(value)
            if number in _INT64 and float(value) == number:
                candidate, code = number, str(number)
        elif base == "float" and isinstance(value, str):
            real = float(value.strip())
            if math.isfinite(real):
                candidate, code = real, repr(real)
    except (ValueError, OverflowError, InvalidOperation):
        return None
    if code is None:
        return None
    same = same_default(sql_literal(candidate), column.default_sql, affinity(column.type))
    return code if same else None


def _fallback_type(base: str, value: object) -> str:
    """The annotation that stores the constant ``value`` as it is, closest to ``base``."""
    if isinstance(value, int):
        return "float" if base in ("float", "Decimal") else "int"
    if isinstance(value, float):
        return "float"
    if isinstance(value, bytes):
        return "bytes"
    return "str"


def _declared_type(base: str, max_length: int | None) -> str:
    if base == "str" and max_length is not None:
        return f"VARCHAR({max_length})"
    return _NATURAL_TYPE[base]


def field_code(
    table: str,
    column: ColumnSpec,
    name: str,
    *,
    rowid_alias: bool,
    generated: bool,
    features: Features,
) -> FieldCode:
    """The field ``name`` for ``column`` of ``table``."""
    notes: list[Note] = []

    def note(text: str) -> None:
        notes.append(Note(table, column.name, text))

    declared = column.type
    base = python_type(declared)
    length_match = _VARCHAR.fullmatch(declared)
    max_length = int(length_match.group(1)) if length_match else None
    if not declared:
        note(
            "the column has no declared type, which a model cannot declare (written as "
            "bytes, declared BLOB: the affinity SQLite gives an untyped column)"
        )
    if generated:
        note(
            "a generated column (GENERATED ALWAYS AS ...), which a model cannot declare; "
            "written as a plain column"
        )

    options: dict[str, str] = {}
    default: str | None = None
    sql_default: str | None = None
    if column.default_sql is not None:
        value = parse_sql_literal(column.default_sql)
        if value is UNPARSED:
            if features.sql_default:
                sql_default = column.default_sql
            else:
                note(
                    f"DEFAULT {column.default_sql} is an SQL expression, which a model "
                    "cannot declare yet (Field(sql_default=...))"
                )
        elif value is not None:
            default = python_literal(base, value) or _stored_alike(base, value, column)
            if default is None:
                other = _fallback_type(base, value)
                default = python_literal(other, value)
                if default is not None:
                    base = other
            if default is None:
                note(f"DEFAULT {column.default_sql} cannot be written as a Python default")

    if base != "str":
        max_length = None
    sql_type = None if _declared_type(base, max_length) == declared or not declared else declared
    nullable = not column.not_null and not column.primary_key
    if rowid_alias and default is None:
        nullable, default = True, "None"  # SQLite assigns the key: the model may leave it out

    if column.primary_key:
        options["primary_key"] = "True"
    if column.auto_increment:
        options["auto_increment"] = "True"
    if name != column.name:
        options["column"] = py_str(column.name)
    if sql_type is not None:
        options["sql_type"] = py_str(sql_type)
    if max_length is not None:
        options["max_length"] = str(max_length)
    precision = _NUMERIC.fullmatch(declared)
    if base == "Decimal" and precision:
        options["max_digits"] = precision.group(1)
        options["decimal_places"] = precision.group(2)
    if column.unique:
        options["unique"] = "True"
    reference = column.references
    if reference is not None:
        target = f"{reference.table}.{reference.column}"
        options["references"] = py_str(target)
        if "." in reference.column:
            note(
                f"references column {reference.column!r}, whose name holds a dot, which "
                "references='table.column' cannot spell"
            )
        for action, chosen in (
            ("on_delete", reference.on_delete),
            ("on_update", reference.on_update),
        ):
            if chosen != "NO ACTION":
                options[action] = py_str(chosen.lower())
        if getattr(reference, "deferrable", False):
            if features.deferrable:
                options["deferrable"] = "True"
            else:
                note(
                    "the reference is DEFERRABLE INITIALLY DEFERRED, which a model cannot "
                    "declare yet (Field(deferrable=True))"
                )
    collate = getattr(column, "collate", None)
    if collate:
        if features.collate:
            options["collate"] = py_str(str(collate))
        else:
            note(f"COLLATE {collate}, which a model cannot declare yet (Field(collate=...))")
    if sql_default is not None:
        options["sql_default"] = py_str(sql_default)
    if column.check is not None:
        options["check"] = py_str(column.check)

    annotation = f"{base} | None" if nullable else base
    if default is None and (nullable or sql_default is not None):
        # With sql_default, a None written through the repository lets the database fill it.
        default = "None"
    imports = {_IMPORT_OF[base]} if base in _IMPORT_OF else set()
    return FieldCode(name, column.name, annotation, default, options, notes, imports)
