"""Typed repositories: writes validated by the Pydantic model, reads returned as instances.

``db.table(User)`` (or ``db.users`` / ``db["users"]``) gives a :class:`Repository`. Values are
converted by each field's codec (:mod:`hedystia_models.model.typemap`) and always bound as
parameters; ``where`` dicts are compiled by :func:`compile_where`.
"""

from __future__ import annotations

import functools
import operator
import sqlite3
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from decimal import Decimal
from typing import TYPE_CHECKING, Annotated, Any, Generic, TypeVar

import pydantic

from ..errors import QueryError, RowError
from ..model.table import FieldMapping, Table, TableInfo, table_info
from ..model.typemap import identity
from ..schema.quoting import fold_identifier
from ..schema.quoting import quote_identifier as q

if TYPE_CHECKING:
    from ..database import Database

__all__ = ["OPERATORS", "Repository", "compile_where"]

M = TypeVar("M", bound=Table)

#: Operators accepted in ``where`` dicts, e.g. ``{"age": {"gte": 18}}``.
OPERATORS = ("eq", "ne", "gt", "gte", "lt", "lte", "like", "in", "not_in", "is_null")
_COMPARISONS = {"gt": ">", "gte": ">=", "lt": "<", "lte": "<="}

Where = Mapping[str, Any]
OrderBy = str | Sequence[str]


#: The range of SQLite's INTEGER (a signed 64-bit integer).
_INT64 = (-(2**63), 2**63 - 1)


def _encode(mapping: FieldMapping, value: Any) -> Any:
    return None if value is None else mapping.storage.encode(value)


@functools.cache
def _operand_adapter(model: type[Table], field: str) -> pydantic.TypeAdapter[Any]:
    """Validates a ``where`` value against a field's type, without its constraints."""
    annotation: Any = model.model_fields[field].annotation
    return pydantic.TypeAdapter(annotation)


#: For storage kinds whose codec stores values as they come, the Python types a ``where``
#: value may have to be used as it is (numbers compare across int and float, so ``{"gt":
#: 17.5}`` on an int field is fine); anything else is validated against the field's type.
_DIRECT_OPERANDS: dict[str, tuple[type, ...]] = {
    "integer": (int, float),
    "real": (int, float),
    "text": (str,),
    "boolean": (bool, int),
    "blob": (bytes, bytearray, memoryview),
    "decimal": (Decimal, int, float),
}


def _operand(info: TableInfo, mapping: FieldMapping, op: str, value: Any) -> Any:
    """``value`` encoded like a stored value of ``mapping``, to compare with its column.

    A value the codec cannot take (an ISO string for a datetime field, a number of seconds
    for a timedelta) is first validated against the field's type; one that is not a value of
    that type at all is a :class:`QueryError` naming the table and field.
    """
    if value is None:
        return None
    accepted = _DIRECT_OPERANDS.get(mapping.storage.kind)
    try:
        if accepted is not None and not isinstance(value, accepted):
            # The codec of these kinds passes any value through; validate it instead.
            raise TypeError(value)
        encoded = mapping.storage.encode(value)
    except (TypeError, ValueError, AttributeError):
        pass
    else:
        if isinstance(encoded, int) and not _INT64[0] <= encoded <= _INT64[1]:
            raise QueryError(
                f"table {info.name!r}: {op!r} on {mapping.field!r} got {value!r}, outside "
                "SQLite's 64-bit INTEGER range"
            )
        return encoded
    try:
        validated = _operand_adapter(info.model, mapping.field).validate_python(value)
        return _encode(mapping, validated)
    except (TypeError, ValueError, AttributeError) as exc:
        raise QueryError(
            f"table {info.name!r}: {op!r} on {mapping.field!r} got {value!r}, which is not a "
            f"value of that field's type"
        ) from exc


def compile_where(info: TableInfo, where: Where | None) -> tuple[str, list[Any]]:
    """Compile a ``where`` dict into an SQL condition and its parameters.

    Keys are field or column names; ``"and"`` / ``"or"`` take a list of dicts. Values are
    encoded like stored values (a datetime compares as its stored ISO text, an Enum as its
    value) and always bound as parameters.
    """
    if not where:
        return "1", []
    if not isinstance(where, Mapping):
        raise QueryError(f"table {info.name!r}: where must be a dict (got {type(where).__name__})")
    parts: list[str] = []
    params: list[Any] = []
    for key, value in where.items():
        if key in ("and", "or"):
            if not isinstance(value, Sequence) or isinstance(value, (str, bytes)):
                raise QueryError(f"table {info.name!r}: {key!r} takes a list of where dicts")
            subs = [compile_where(info, sub) for sub in value]
            if not subs:
                parts.append("1" if key == "and" else "0")
                continue
            joiner = " AND " if key == "and" else " OR "
            parts.append("(" + joiner.join(f"({sql})" for sql, _ in subs) + ")")
            for _, sub_params in subs:
                params.extend(sub_params)
            continue
        mapping = info.column_for(key)
        if mapping is None:
            known = ", ".join(m.field for m in info.fields)
            raise QueryError(
                f"table {info.name!r} has no field or column {key!r} (fields: {known})"
            )
        column = q(mapping.column)
        if isinstance(value, Mapping):
            for op, operand in value.items():
                sql, op_params = _condition(info, mapping, column, op, operand)
                parts.append(sql)
                params.extend(op_params)
        else:
            sql, op_params = _condition(info, mapping, column, "eq", value)
            parts.append(sql)
            params.extend(op_params)
    return " AND ".join(parts) if parts else "1", params


def _condition(
    info: TableInfo, mapping: FieldMapping, column: str, op: str, operand: Any
) -> tuple[str, list[Any]]:
    if op == "eq":
        if operand is None:
            return f"{column} IS NULL", []
        return f"{column} = ?", [_operand(info, mapping, op, operand)]
    if op == "ne":
        if operand is None:
            return f"{column} IS NOT NULL", []
        return f"{column} IS NOT ?", [_operand(info, mapping, op, operand)]
    if op in _COMPARISONS:
        return f"{column} {_COMPARISONS[op]} ?", [_operand(info, mapping, op, operand)]
    if op == "like":
        return f"{column} LIKE ?", [operand]
    if op in ("in", "not_in"):
        if isinstance(operand, (str, bytes)) or not isinstance(operand, Iterable):
            raise QueryError(f"table {info.name!r}: {op!r} on {mapping.field!r} takes a list")
        # Null-safe like eq / ne: "in" is an OR of eq, "not_in" an AND of ne, so None in the
        # list matches NULL, and NULL is "not in" a list without None.
        items = list(operand)
        with_null = any(v is None for v in items)
        values = [_operand(info, mapping, op, v) for v in items if v is not None]
        marks = ", ".join("?" * len(values))
        if op == "in":
            test = f"{column} IN ({marks})" if values else "0"
            return (f"({test} OR {column} IS NULL)" if with_null else test), values
        test = f"{column} NOT IN ({marks})" if values else "1"
        if with_null:
            return (
                f"({column} IS NOT NULL AND {test})" if values else f"{column} IS NOT NULL"
            ), values
        return (f"({column} IS NULL OR {test})" if values else "1"), values
    if op == "is_null":
        if not isinstance(operand, bool):
            raise QueryError(
                f"table {info.name!r}: 'is_null' on {mapping.field!r} takes True or False "
                f"(got {operand!r})"
            )
        return f"{column} IS {'' if operand else 'NOT '}NULL", []
    raise QueryError(
        f"table {info.name!r}: unknown operator {op!r} on {mapping.field!r} "
        f"(operators: {', '.join(OPERATORS)})"
    )


def _problems_from(
    exc: pydantic.ValidationError, batch: bool
) -> list[tuple[int | None, str | None, str]]:
    problems: list[tuple[int | None, str | None, str]] = []
    for error in exc.errors():
        loc = list(error["loc"])
        index = loc.pop(0) if batch and loc and isinstance(loc[0], int) else None
        field = ".".join(str(part) for part in loc) or None
        problems.append((index if isinstance(index, int) else None, field, error["msg"]))
    return problems


def _describe(table: str, problems: list[tuple[int | None, str | None, str]]) -> str:
    lines = []
    for index, field, message in problems:
        where = f"row {index}" if index is not None else "row"
        if field:
            where += f", field {field!r}"
        lines.append(f"  {where}: {message}")
    return f"table {table!r}: {len(problems)} invalid value(s), nothing was written:\n" + "\n".join(
        lines
    )


class Repository(Generic[M]):
    """Validated access to one table. Get one with ``db.table(Model)``."""

    def __init__(self, db: Database, model: type[M]) -> None:
        self.db = db
        self.model = model
        self.info = table_info(model)
        fields = self.info.fields
        self._table = q(self.info.name)
        self._columns = [m.column for m in fields]
        self._select = ", ".join(q(c) for c in self._columns)
        self._list_adapter: pydantic.TypeAdapter[list[M]] = pydantic.TypeAdapter(list[model])  # type: ignore[valid-type]
        self._field_names = [m.field for m in fields]
        self._encoders = [
            (i, m.storage.encode) for i, m in enumerate(fields) if m.storage.encode is not identity
        ]
        self._decoders = [
            (i, m.storage.decode) for i, m in enumerate(fields) if m.storage.decode is not identity
        ]
        self._keys = [self._validation_key(m.field) for m in fields]
        # Keys a row dict may use: field names and their aliases. Unknown keys are rejected
        # unless the model chose its own `extra` policy: with Pydantic's default they would be
        # dropped silently, so a typo (`{"nmae": ...}`) would store a default instead.
        known: set[str] = set(self._field_names)
        for field_info in model.model_fields.values():
            for alias in (field_info.alias, field_info.validation_alias):
                if isinstance(alias, str):
                    known.add(alias)
                elif isinstance(alias, pydantic.AliasChoices):
                    known.update(c for c in alias.choices if isinstance(c, str))
        self._known_keys = frozenset(known)
        self._reject_unknown = "extra" not in model.model_config
        spec = self.info.spec
        pk = spec.primary_key
        self._pk_columns = pk
        self._pk_fields = tuple(
            next(m.field for m in fields if m.column == column) for column in pk
        )
        rowid_alias = len(pk) == 1 and spec.column(pk[0]).type == "INTEGER"
        self._rowid_index = self._columns.index(pk[0]) if rowid_alias else None
        # SQLite's three names for the rowid; a column of that name hides it, so use one that
        # no column takes.
        taken = {fold_identifier(c) for c in self._columns}
        self._rowid = next((n for n in ("rowid", "_rowid_", "oid") if n not in taken), "rowid")
        self._field_adapters: dict[str, pydantic.TypeAdapter[Any]] = {}

    def _validation_key(self, field: str) -> str:
        """The key under which ``model_validate`` accepts ``field`` from a dict."""
        config = self.model.model_config
        if config.get("populate_by_name") or config.get("validate_by_name"):
            return field
        info = self.model.model_fields[field]
        alias: Any = info.validation_alias
        if isinstance(alias, pydantic.AliasChoices):
            # The first choice that is a plain key (a string, or a one-step AliasPath).
            alias = next(
                (
                    choice if isinstance(choice, str) else choice.path[0]
                    for choice in alias.choices
                    if isinstance(choice, str)
                    or (len(choice.path) == 1 and isinstance(choice.path[0], str))
                ),
                None,
            )
        elif isinstance(alias, pydantic.AliasPath):
            path = alias.path
            alias = path[0] if len(path) == 1 and isinstance(path[0], str) else None
        if not isinstance(alias, str):
            alias = info.alias
        return alias or field

    # -- conversion ---------------------------------------------------------------------------

    def _encode_columns(self, objects: Sequence[M]) -> list[list[Any]]:
        """Stored values of ``objects``, column by column.

        Working by column keeps the loops in C and creates no per-row containers (only
        strings and numbers, which the garbage collector does not track), so large batches do
        not trigger repeated full collections.
        """
        dicts = [obj.__dict__ for obj in objects]
        columns = [[d[name] for d in dicts] for name in self._field_names]
        for index, encode in self._encoders:
            columns[index] = [None if v is None else encode(v) for v in columns[index]]
        return columns

    @staticmethod
    def _rows(columns: list[list[Any]], skip: int | None = None) -> Iterator[tuple[Any, ...]]:
        """Row tuples from columns, made one at a time, leaving out the column ``skip``."""
        count = len(columns[0]) if columns else 0
        if skip is not None:
            columns = [c for i, c in enumerate(columns) if i != skip]
        if not columns:  # the key was the only column: one empty row per object
            return iter([()] * count)
        return zip(*columns, strict=True)

    def _encode_rows(self, objects: Sequence[M]) -> list[tuple[Any, ...]]:
        """Stored values of ``objects``, one tuple per row in column order."""
        return list(self._rows(self._encode_columns(objects)))

    def _from_row(self, row: Sequence[Any]) -> M:
        values = list(row)
        for index, decode in self._decoders:
            value = values[index]
            if value is not None:
                values[index] = decode(value)
        # Not strict, whatever the model says: strict mode is about the caller's input, and
        # JSON columns decode to plain data (a list for a tuple or a set) by design.
        return self.model.model_validate(dict(zip(self._keys, values, strict=True)), strict=False)

    def _from_rows(self, rows: Iterable[Sequence[Any]]) -> list[M]:
        return [self._from_row(row) for row in rows]

    def _as_input(self, row: Any) -> Any:
        """A model instance as a dict of its field values, so that it is validated again (it
        may have been changed after it was built, or built with ``model_construct``); other
        rows unchanged."""
        if not isinstance(row, self.model):
            return row
        values = row.__dict__
        return {key: values[name] for key, name in zip(self._keys, self._field_names, strict=True)}

    def _validate(self, rows: list[Any], batch: bool = True) -> list[M]:
        model = self.model
        if self._reject_unknown:
            known = self._known_keys
            unknown: list[tuple[int | None, str | None, str]] = [
                (index if batch else None, str(key), f"unknown field (not in {model.__name__})")
                for index, row in enumerate(rows)
                if isinstance(row, Mapping) and not known.issuperset(row)
                for key in row
                if key not in known
            ]
            if unknown:
                raise RowError(_describe(self.info.name, unknown), unknown)
        if any(isinstance(row, model) for row in rows):
            rows = [self._as_input(row) for row in rows]
        try:
            return self._list_adapter.validate_python(rows)
        except pydantic.ValidationError as exc:
            problems = _problems_from(exc, batch=True)
            if not batch:
                problems = [(None, field, message) for _, field, message in problems]
            raise RowError(_describe(self.info.name, problems), problems) from exc

    def _too_large(
        self, cells: Iterable[tuple[int | None, str, Any]], failure: OverflowError
    ) -> RowError:
        """The error for integers sqlite3 cannot bind: ``cells`` are (row index, field,
        stored value) triples; those outside SQLite's 64-bit range are named."""
        low, high = _INT64
        problems: list[tuple[int | None, str | None, str]] = [
            (index, field, "integer out of SQLite's 64-bit INTEGER range")
            for index, field, value in cells
            if isinstance(value, int) and not low <= value <= high
        ]
        if not problems:
            problems = [(None, None, str(failure))]
        return RowError(_describe(self.info.name, problems), problems)

    @contextmanager
    def _write_errors(
        self,
        action: str,
        outcome: str,
        cells: Callable[[], Iterable[tuple[int | None, str, Any]]],
    ) -> Iterator[None]:
        """Turn SQLite's refusals of one statement into a :class:`RowError`: a constraint it
        breaks, or an integer sqlite3 cannot bind (``cells`` lists what was being written)."""
        try:
            yield
        except sqlite3.IntegrityError as exc:
            raise RowError(
                f"table {self.info.name!r}: {action} violates a constraint, nothing was "
                f"{outcome}: {exc}",
                [(None, None, str(exc))],
            ) from exc
        except OverflowError as exc:
            raise self._too_large(cells(), exc) from exc

    def _insert_sql(self, columns: Sequence[str]) -> str:
        if not columns:  # a table whose only column is the generated key
            return f"INSERT INTO {self._table} DEFAULT VALUES"
        names = ", ".join(q(c) for c in columns)
        marks = ", ".join("?" * len(columns))
        return f"INSERT INTO {self._table} ({names}) VALUES ({marks})"

    # -- writes -------------------------------------------------------------------------------

    def insert(self, row: M | Mapping[str, Any]) -> M:
        """Validate and insert one row; return it as stored (generated key and SQL defaults
        filled in). Raises :class:`RowError` when the row is invalid or breaks a constraint."""
        (obj,) = self._validate([row], batch=False)
        (values,) = self._encode_rows([obj])
        fields = [m.field for m in self.info.fields]
        with (
            self.db.transaction(),
            self._write_errors(
                "row",
                "written",
                lambda: ((None, f, v) for f, v in zip(fields, values, strict=True)),
            ),
        ):
            if self._rowid_index is None:
                cursor = self.db.conn.execute(self._insert_sql(self._columns), values)
                rowid = cursor.lastrowid
            else:
                rowid = self._insert_row(values, self._rowid_index)
            stored = self.db.conn.execute(
                f"SELECT {self._select} FROM {self._table} WHERE {self._rowid} = ?", (rowid,)
            ).fetchone()
            try:
                # Inside the transaction: a stored row the model rejects is not kept.
                return self._from_row(stored)
            except pydantic.ValidationError as exc:
                problems = _problems_from(exc, batch=False)
                raise RowError(_describe(self.info.name, problems), problems) from exc

    def insert_many(self, rows: Iterable[M | Mapping[str, Any]]) -> list[M]:
        """Validate every row, then insert all of them in one transaction.

        If any row is invalid, one :class:`RowError` lists each bad row's index, field and
        message, and nothing is written. A constraint failure rolls the whole batch back and
        the error names the offending row's index.
        """
        objects = self._validate(rows if isinstance(rows, list) else list(rows))
        if not objects:
            return []
        pk_index = self._rowid_index
        columns = self._encode_columns(objects)
        missing = 0 if pk_index is None else columns[pk_index].count(None)
        try:
            with self.db.transaction():
                if pk_index is None or missing == 0:
                    self.db.conn.executemany(self._insert_sql(self._columns), self._rows(columns))
                    return objects
                keys = (
                    self._insert_generating_keys(columns, pk_index)
                    if missing == len(objects)
                    else None
                ) or [self._insert_row(row, pk_index) for row in self._rows(columns)]
        except sqlite3.IntegrityError as exc:
            raise self._constraint_error(list(self._rows(columns)), exc) from exc
        except OverflowError as exc:
            fields = [m.field for m in self.info.fields]
            raise self._too_large(
                (
                    (index, field, value)
                    for index, row in enumerate(self._rows(columns))
                    for field, value in zip(fields, row, strict=True)
                ),
                exc,
            ) from exc
        field = self._pk_fields[0]
        for obj, key in zip(objects, keys, strict=True):
            obj.__dict__[field] = key
        return objects

    def _columns_without(self, index: int) -> list[str]:
        return [c for i, c in enumerate(self._columns) if i != index]

    def _insert_generating_keys(self, columns: list[list[Any]], pk_index: int) -> range | None:
        """Insert rows that all let SQLite choose the key, with one ``executemany``.

        SQLite gives each new row ``max(rowid) + 1`` while the table is below the top of the
        rowid range, and we hold the write lock, so the keys are consecutive. Returns ``None``
        (nothing inserted) when the table is near the top of the range.
        """
        conn = self.db.conn
        (highest,) = conn.execute(f"SELECT max({self._rowid}) FROM {self._table}").fetchone()
        count = len(columns[pk_index])
        if highest is not None and highest > 2**63 - 1 - count:
            return None
        conn.executemany(
            self._insert_sql(self._columns_without(pk_index)), self._rows(columns, skip=pk_index)
        )
        (last,) = conn.execute("SELECT last_insert_rowid()").fetchone()
        return range(last - count + 1, last + 1)

    def _insert_row(self, row: Sequence[Any], pk_index: int | None) -> int | None:
        """Insert one encoded row; return the rowid SQLite chose when the key was missing."""
        if pk_index is not None and row[pk_index] is None:
            values = [v for i, v in enumerate(row) if i != pk_index]
            sql = self._insert_sql(self._columns_without(pk_index))
            return self.db.conn.execute(sql, values).lastrowid
        self.db.conn.execute(self._insert_sql(self._columns), row)
        return row[pk_index] if pk_index is not None else None

    def _constraint_error(
        self, encoded: Sequence[Sequence[Any]], failure: sqlite3.Error
    ) -> RowError:
        """Name the row that broke a constraint by replaying the batch in a transaction that
        is always rolled back."""
        offender: int | None = None
        message = str(failure)

        class _Undo(Exception):
            pass

        try:
            with self.db.transaction():
                for index, row in enumerate(encoded):
                    try:
                        self._insert_row(row, self._rowid_index)
                    except sqlite3.IntegrityError as exc:
                        offender, message = index, str(exc)
                        break
                raise _Undo
        except _Undo:
            pass
        where = f"row {offender}" if offender is not None else "a row"
        return RowError(
            f"table {self.info.name!r}: {where} violates a constraint ({message}); "
            "the whole batch was rolled back",
            [(offender, None, message)],
        )

    def _validate_data(self, data: Mapping[str, Any]) -> dict[str, Any]:
        """Validate a partial row against the field types; keys become column names."""
        values: dict[str, Any] = {}
        problems: list[tuple[int | None, str | None, str]] = []
        for key, value in data.items():
            mapping = self.info.column_for(key)
            if mapping is None:
                raise QueryError(f"table {self.info.name!r} has no field or column {key!r}")
            adapter = self._field_adapters.get(mapping.field)
            if adapter is None:
                field_info = self.model.model_fields[mapping.field]
                adapter = pydantic.TypeAdapter(
                    _annotated(field_info.annotation, field_info.metadata)
                )
                self._field_adapters[mapping.field] = adapter
            try:
                validated = adapter.validate_python(value)
            except pydantic.ValidationError as exc:
                for error in exc.errors():
                    problems.append((None, mapping.field, error["msg"]))
                continue
            values[mapping.column] = _encode(mapping, validated)
        if problems:
            raise RowError(_describe(self.info.name, problems), problems)
        return values

    def update(self, *, where: Where, data: Mapping[str, Any]) -> list[M]:
        """Set ``data`` (validated against the field types) on every row matching ``where``;
        return the updated rows. ``where={}`` updates every row."""
        values = self._validate_data(data)
        if not values:
            return self.find(where=where)
        condition, params = compile_where(self.info, where)
        assignments = ", ".join(f"{q(c)} = ?" for c in values)
        # Each returned row is found again by its primary key, or by its rowid without one.
        if self._pk_columns:
            key_sql = " AND ".join(f"{q(c)} = ?" for c in self._pk_columns)
            key_at = [1 + self._columns.index(c) for c in self._pk_columns]
            returning = f"NULL, {self._select}"
        else:
            key_sql, key_at, returning = f"{self._rowid} = ?", [0], f"{self._rowid}, {self._select}"
        sql = f"UPDATE {self._table} SET {assignments} WHERE {condition} RETURNING {returning}"
        by_column = {m.column: m for m in self.info.fields}
        with (
            self.db.transaction(),
            self._write_errors(
                "update",
                "written",
                lambda: ((None, by_column[c].field, v) for c, v in values.items()),
            ),
        ):
            rows = self.db.conn.execute(sql, [*values.values(), *params]).fetchall()
            try:
                updated = self._from_rows(row[1:] for row in rows)
            except pydantic.ValidationError as exc:
                problems = _problems_from(exc, batch=False)
                raise RowError(_describe(self.info.name, problems), problems) from exc
            # The values were checked against the field types only; the model's validators
            # ran on the rows read back and may have normalised them (a lower-cased email):
            # store what the returned rows hold.
            refresh = f"UPDATE {self._table} SET {assignments} WHERE {key_sql}"
            for row, obj in zip(rows, updated, strict=True):
                stored = [_encode(by_column[c], obj.__dict__[by_column[c].field]) for c in values]
                if stored != list(values.values()):
                    self.db.conn.execute(refresh, [*stored, *(row[i] for i in key_at)])
            return updated

    def delete(self, *, where: Where) -> int:
        """Delete the rows matching ``where``; return how many. ``where={}`` deletes all."""
        condition, params = compile_where(self.info, where)
        # A constraint here is a row still referenced by a foreign key.
        with self.db.transaction(), self._write_errors("delete", "deleted", lambda: ()):
            cursor = self.db.conn.execute(f"DELETE FROM {self._table} WHERE {condition}", params)
        return int(cursor.rowcount)

    def upsert(
        self, *, where: Where, create: M | Mapping[str, Any], update: Mapping[str, Any]
    ) -> M:
        """Update the first row matching ``where`` with ``update``, or insert ``create`` when
        none matches; return the resulting row. Runs in one transaction."""
        with self.db.transaction():
            existing = self.find_first(where=where)
            if existing is None:
                return self.insert(create)
            if not self._pk_fields:
                raise QueryError(f"table {self.info.name!r} has no primary key to upsert by")
            key = {field: getattr(existing, field) for field in self._pk_fields}
            updated = self.update(where=key, data=update)
            return updated[0] if updated else existing

    def truncate(self) -> int:
        """Delete every row; return how many were deleted."""
        return self.delete(where={})

    # -- reads --------------------------------------------------------------------------------

    def _order_sql(self, order_by: OrderBy | None) -> str:
        if order_by is None:
            return ""
        items = [order_by] if isinstance(order_by, str) else list(order_by)
        parts = []
        for item in items:
            descending = item.startswith("-")
            name = item[1:] if descending else item
            mapping = self.info.column_for(name)
            if mapping is None:
                raise QueryError(
                    f"table {self.info.name!r}: cannot order by unknown field {name!r}"
                )
            parts.append(f"{q(mapping.column)} {'DESC' if descending else 'ASC'}")
        return " ORDER BY " + ", ".join(parts) if parts else ""

    def find(
        self,
        where: Where | None = None,
        order_by: OrderBy | None = None,
        limit: int | None = None,
        offset: int | None = None,
    ) -> list[M]:
        """Rows matching ``where``, as model instances."""
        condition, params = compile_where(self.info, where)
        sql = f"SELECT {self._select} FROM {self._table} WHERE {condition}"
        sql += self._order_sql(order_by)
        if limit is not None or offset is not None:
            sql += " LIMIT ? OFFSET ?"
            params = [*params, -1 if limit is None else int(limit), int(offset or 0)]
        return self._from_rows(self.db.conn.execute(sql, params).fetchall())

    def find_first(self, where: Where | None = None, order_by: OrderBy | None = None) -> M | None:
        """The first row matching ``where`` (in ``order_by`` order), or ``None``."""
        rows = self.find(where=where, order_by=order_by, limit=1)
        return rows[0] if rows else None

    def get(self, pk: Any) -> M | None:
        """The row with primary key ``pk`` (a tuple for a composite key), or ``None``."""
        if not self._pk_fields:
            raise QueryError(f"table {self.info.name!r} has no primary key")
        values = pk if isinstance(pk, tuple) else (pk,)
        if len(values) != len(self._pk_fields):
            raise QueryError(
                f"table {self.info.name!r}: primary key has {len(self._pk_fields)} column(s), "
                f"got {len(values)} value(s)"
            )
        return self.find_first(where=dict(zip(self._pk_fields, values, strict=True)))

    def count(self, where: Where | None = None) -> int:
        """How many rows match ``where``."""
        condition, params = compile_where(self.info, where)
        (n,) = self.db.conn.execute(
            f"SELECT count(*) FROM {self._table} WHERE {condition}", params
        ).fetchone()
        return int(n)

    def exists(self, where: Where | None = None) -> bool:
        """True when at least one row matches ``where``."""
        condition, params = compile_where(self.info, where)
        (found,) = self.db.conn.execute(
            f"SELECT EXISTS (SELECT 1 FROM {self._table} WHERE {condition})", params
        ).fetchone()
        return bool(found)

    def __repr__(self) -> str:
        return f"<Repository {self.info.name} ({self.model.__name__})>"


def _annotated(annotation: Any, metadata: list[Any]) -> Any:
    """``Annotated[annotation, *metadata]`` (the bare annotation when there is no metadata)."""
    if not metadata:
        return annotation
    # operator.getitem is plain subscription, Annotated[annotation, *metadata], spelt in a
    # way Python 3.10 accepts.
    return operator.getitem(Annotated, (annotation, *metadata))
