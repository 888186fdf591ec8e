"""Compare two specs of the same thing, one aspect at a time: columns, indexes, table-level
constraints. Each function says in words how ``actual`` (the database) differs from
``desired`` (the models); an empty answer means equal. Pure: nothing here touches a database.
"""

from __future__ import annotations

from datetime import datetime, time

from .quoting import UNPARSED, fold_identifier, parse_sql_literal
from .spec import ColumnSpec, ForeignKeySpec, IndexKey, IndexSpec, Reference, TableSpec
from .sqltext import same_statement, sql_words

__all__ = [
    "affinity",
    "column_changes",
    "default_note",
    "index_changed",
    "plain_unique_keys",
    "same_default",
    "same_type",
    "table_changes",
    "unique_keys",
]


def affinity(declared: str) -> str:
    """The type affinity SQLite gives a column declared ``declared`` (its five rules, in order).

    >>> [affinity(t) for t in ("BIGINT", "NVARCHAR(40)", "", "DOUBLE", "DECIMAL(10,2)")]
    ['INTEGER', 'TEXT', 'BLOB', 'REAL', 'NUMERIC']
    """
    text = declared.upper()
    if "INT" in text:
        return "INTEGER"
    if any(word in text for word in ("CHAR", "CLOB", "TEXT")):
        return "TEXT"
    if "BLOB" in text or not text.strip():
        return "BLOB"
    if any(word in text for word in ("REAL", "FLOA", "DOUB")):
        return "REAL"
    return "NUMERIC"


#: For each storage kind of a model field, the column affinities that store its values as the
#: package writes and reads them (the codec's stored form survives, or the read-back follows
#: the live column: a NUMERIC column holding a Decimal, an ISO datetime in a DATETIME column).
_KIND_AFFINITIES: dict[str, frozenset[str]] = {
    "integer": frozenset({"INTEGER"}),
    "timedelta": frozenset({"INTEGER"}),
    "boolean": frozenset({"INTEGER", "NUMERIC"}),
    "real": frozenset({"REAL", "NUMERIC"}),
    "text": frozenset({"TEXT"}),
    "blob": frozenset({"BLOB"}),
    "uuid": frozenset({"TEXT"}),
    "decimal": frozenset({"TEXT", "NUMERIC"}),
    "datetime": frozenset({"TEXT", "NUMERIC"}),
    "date": frozenset({"TEXT", "NUMERIC"}),
    "time": frozenset({"TEXT", "NUMERIC"}),
    "json": frozenset({"TEXT", "NUMERIC"}),
}


def same_type(desired: ColumnSpec, actual: ColumnSpec) -> bool:
    """True when ``actual``'s declared type stores what ``desired`` needs. Without a model
    field behind ``desired`` (``kind`` unknown), the declarations must be equal; with one,
    equivalent spellings are the same (``BOOL`` and ``BOOLEAN``, ``NVARCHAR(40)`` and
    ``VARCHAR(40)``, ``BIGINT`` and ``INTEGER`` for an ``int``), a different storage is not
    (``TEXT`` for an ``int``). A rowid alias (``INTEGER PRIMARY KEY``) and any other key type
    never are: SQLite generates keys for the one only."""
    if desired.type == actual.type:
        return True
    if desired.primary_key and ("INTEGER" in (desired.type, actual.type)):
        return False
    if desired.kind is None:
        return False
    allowed = _KIND_AFFINITIES.get(desired.kind, frozenset({affinity(desired.type)}))
    return affinity(actual.type) in allowed


def _stored(text: str, column_affinity: str | None) -> object:
    """The value a ``DEFAULT`` literal is stored as in a column of ``column_affinity``."""
    value = parse_sql_literal(text)
    if column_affinity is None or value is UNPARSED or value is None:
        return value
    if column_affinity in ("INTEGER", "NUMERIC", "REAL") and isinstance(value, str):
        try:
            number: float = float(value.strip())
        except ValueError:
            return value
        value = int(number) if number.is_integer() and column_affinity != "REAL" else number
    if column_affinity in ("INTEGER", "NUMERIC") and isinstance(value, float):
        return int(value) if value.is_integer() else value
    if column_affinity == "REAL" and isinstance(value, int):
        return float(value)
    if column_affinity == "TEXT" and isinstance(value, (int, float)):
        return str(value)
    return value


def same_default(a: str | None, b: str | None, column_affinity: str | None = None) -> bool:
    """True when two ``DEFAULT`` clauses give the same value (``NULL`` and none are equal), as
    stored in a column of ``column_affinity`` when given: ``'100'`` and ``100`` are the same
    default of an INTEGER column.

    >>> same_default("'1'", "'1'"), same_default("1", "'1'"), same_default(None, "NULL")
    (True, False, True)
    >>> same_default("100", "'100'", "INTEGER")
    True
    """
    if a is None or b is None:
        return _is_null_default(a) and _is_null_default(b)
    va, vb = _stored(a, column_affinity), _stored(b, column_affinity)
    if va is not UNPARSED and vb is not UNPARSED:
        return type(va) is type(vb) and va == vb
    return same_statement(a, b)


def default_note(desired: ColumnSpec, actual: ColumnSpec) -> str | None:
    """When exactly one side has a default: the note the plan makes of it (not drift, unless
    defaults are compared strictly). Writes through this package always give the column a
    value, so a default that lives only in the model (Django keeps its defaults in Python) or
    only in the database changes nothing for them."""
    if _is_null_default(desired.default_sql) == _is_null_default(actual.default_sql):
        return None
    if _is_null_default(actual.default_sql):
        return (
            f"column {actual.name} has no DEFAULT in the database; the model's default "
            f"{desired.default_sql} applies to writes through this package only"
        )
    return (
        f"column {actual.name} has DEFAULT {actual.default_sql} in the database, which the "
        "model does not declare"
    )


def _same_moment(desired: ColumnSpec, actual: ColumnSpec) -> bool:
    """True when the defaults of a datetime (or time) field are the same aware instant in two
    offsets: the package writes aware values in UTC, a database made before it did holds the
    offset the default was given in, and both are the same value of the field."""
    if desired.kind not in ("datetime", "time"):
        return False
    first, second = _moment(desired.default_sql), _moment(actual.default_sql)
    return first is not None and type(first) is type(second) and first == second


def _moment(text: str | None) -> datetime | time | None:
    """The aware datetime or time a ``DEFAULT`` literal spells in ISO 8601, or ``None``."""
    value = None if text is None else parse_sql_literal(text)
    if not isinstance(value, str):
        return None
    for parse in (datetime.fromisoformat, time.fromisoformat):
        try:
            moment: datetime | time = parse(value)
        except ValueError:
            continue
        return moment if moment.utcoffset() is not None else None
    return None


def _is_null_default(text: str | None) -> bool:
    return text is None or parse_sql_literal(text) is None


def _same_sql(a: str | None, b: str | None) -> bool:
    """Two optional SQL expressions that read the same (see ``same_statement``)."""
    if a is None or b is None:
        return a is b
    return same_statement(a, b)


def _names(names: tuple[str, ...]) -> tuple[str, ...]:
    return tuple(fold_identifier(n) for n in names)


def _reference(reference: Reference | None) -> tuple[str, ...] | None:
    """A reference as SQLite compares it: names folded, actions as they are."""
    if reference is None:
        return None
    r = reference
    deferred = "DEFERRABLE INITIALLY DEFERRED" if r.deferrable else ""
    return (*_names((r.table, r.column)), r.on_delete, r.on_update, deferred)


def _foreign_key(fk: ForeignKeySpec) -> tuple[object, ...]:
    return (
        _names(fk.columns),
        fold_identifier(fk.other_table),
        _names(fk.other_columns),
        fk.on_delete,
        fk.on_update,
        fk.deferrable,
    )


def _json_check(desired: ColumnSpec, actual: ColumnSpec) -> bool:
    """True when ``actual``'s only ``CHECK`` says its values are valid JSON (Django's
    ``JSONField``) and ``desired`` is a JSON field: the package writes only valid JSON, so the
    check changes nothing for it."""
    if desired.kind != "json" or desired.check is not None or actual.check is None:
        return False
    name = fold_identifier(actual.name)
    return sql_words(actual.check) in (
        ("json_valid", "(", name, ")"),
        ("json_valid", "(", name, ")", "or", name, "is", "null"),
        ("(", "json_valid", "(", name, ")", "or", name, "is", "null", ")"),
    )


def column_changes(
    desired: ColumnSpec, actual: ColumnSpec, *, strict_defaults: bool = True
) -> list[str]:
    """Human descriptions of how ``actual`` differs from ``desired`` (empty when equal).

    Types compare by what they store (:func:`same_type`), defaults by the value stored for the
    column's affinity. With ``strict_defaults=False`` a default present on one side only is no
    change (the plan notes it instead: :func:`default_note`)."""
    changes: list[str] = []
    typed_alike = same_type(desired, actual)
    if not typed_alike:
        changes.append(f"type {actual.type or '(none)'} -> {desired.type or '(none)'}")
    if desired.not_null != actual.not_null:
        changes.append("NULL -> NOT NULL" if desired.not_null else "NOT NULL -> NULL")
    one_sided = default_note(desired, actual) is not None
    if (
        (strict_defaults or not one_sided)
        and not same_default(
            # as stored in the column: by its affinity while the type stays, as written otherwise
            desired.default_sql,
            actual.default_sql,
            affinity(actual.type) if typed_alike else None,
        )
        and not _same_moment(desired, actual)
    ):
        changes.append(f"default {actual.default_sql} -> {desired.default_sql}")
    if (desired.collate or "BINARY") != (actual.collate or "BINARY"):
        changes.append(f"collate {actual.collate or 'BINARY'} -> {desired.collate or 'BINARY'}")
    if desired.primary_key != actual.primary_key:
        changes.append("becomes primary key" if desired.primary_key else "no longer primary key")
    if desired.auto_increment != actual.auto_increment:
        changes.append("gains AUTOINCREMENT" if desired.auto_increment else "loses AUTOINCREMENT")
    if desired.unique != actual.unique:
        changes.append("becomes UNIQUE" if desired.unique else "no longer UNIQUE")
    if not _same_sql(desired.check, actual.check) and not _json_check(desired, actual):
        changes.append(f"check {actual.check} -> {desired.check}")
    if _reference(desired.references) != _reference(actual.references):
        changes.append(f"references {actual.references} -> {desired.references}")
    return changes


def _key(key: IndexKey) -> object:
    return fold_identifier(key) if isinstance(key, str) else sql_words(key.sql)


def index_changed(desired: IndexSpec, actual: IndexSpec) -> bool:
    """True when two indexes of the same name index other keys, differ in uniqueness or in
    their partial ``WHERE``. Sort order and collations of keys are not compared (a model
    cannot declare them; the database's index keeps them)."""
    return (
        tuple(_key(k) for k in desired.columns) != tuple(_key(k) for k in actual.columns)
        or desired.unique != actual.unique
        or not _same_sql(desired.where, actual.where)
    )


def plain_unique_keys(index: IndexSpec) -> tuple[str, ...] | None:
    """The folded columns of a unique index on plain columns without ``WHERE`` (what a
    ``UNIQUE (a, b)`` constraint says too), else ``None``."""
    if not index.unique or index.has_expressions or index.where is not None:
        return None
    return _names(index.column_names)


def unique_keys(table: TableSpec) -> set[tuple[str, ...]]:
    """Every column set ``table`` keeps unique: its ``UNIQUE`` constraints and unique indexes."""
    keys = {_names(u) for u in table.unique_together}
    for index in table.indexes:
        found = plain_unique_keys(index)
        if found is not None:
            keys.add(found)
    return keys


def table_changes(desired: TableSpec, actual: TableSpec) -> list[str]:
    """How the table-level constraints differ: primary key order, multi-column foreign keys
    and ``UNIQUE`` constraints, table ``CHECK`` constraints (empty when equal)."""
    changes = []
    wanted, found = _names(desired.primary_key), _names(actual.primary_key)
    if wanted != found and set(wanted) == set(found):
        changes.append(f"primary key order {actual.primary_key} -> {desired.primary_key}")
    if {_foreign_key(fk) for fk in desired.foreign_keys} != {
        _foreign_key(fk) for fk in actual.foreign_keys
    }:
        changes.append("multi-column foreign keys differ")
    # A unique index and a UNIQUE constraint on the same columns are interchangeable: only a
    # constraint of the database that the models want in neither form is a difference (one the
    # models want and the database lacks is added as a unique index, see the differ).
    kept_unique = unique_keys(desired)
    if any(_names(u) not in kept_unique for u in actual.unique_together):
        changes.append("multi-column UNIQUE constraints differ")
    if {sql_words(c.expression) for c in desired.checks} != {
        sql_words(c.expression) for c in actual.checks
    }:
        changes.append("table CHECK constraints differ")
    return changes
