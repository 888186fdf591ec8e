"""The row codec: one table's rows between the caller, the model and SQLite.

A :class:`RowCodec` is built once per table, from its :class:`~hedystia_models.model.table.
TableInfo`, and holds what every row of that table needs:

* on the way in, validation of the rows to write by the model (unknown keys refused) and of
  ``update`` values by the field types, then each column's encoder (from the field's
  :class:`~hedystia_models.model.typemap.Storage`), applied column by column;
* on the way out, each column's decoder, then validation by the model into instances;
* the key under which ``model_validate`` takes each field, and the field type adapters
  (built on first use and kept with the table, not in a module-level cache that would keep
  every model class alive).

Two rules live here and nowhere else:

* ``None`` is SQL ``NULL`` both ways and never reaches a codec (:func:`convert`);
* sqlite3 binds only integers within SQLite's signed 64-bit ``INTEGER`` and text that is
  valid UTF-8 (:func:`unbindable`).

Problems are reported as one :class:`~hedystia_models.errors.RowError` listing ``(row,
field, message)`` triples (:func:`row_error`): rows the model rejects, values that cannot be
stored, stored values that cannot be read back.

Fast paths, each with the same results and errors as the general path it stands in for
(which runs again whenever a fast path meets a problem, to name it):

* one row (``insert``, ``get``): :meth:`RowCodec.validate_one`, :meth:`~RowCodec.encode_one`
  and :meth:`~RowCodec.load_one` work on the row itself, without lists of rows and columns;
* a batch that is not returned (``insert_many(..., returning=False)``):
  :meth:`RowCodec.validate_plain` validates rows to plain values with the model's own field
  validators (pydantic-core's ``model-fields`` schema, the one the model validates with),
  unknown keys refused there, without making instances;
* large batches (``insert_many``, ``find``) are validated with fewer garbage collections
  (:func:`fewer_collections`).
"""

from __future__ import annotations

import functools
import gc
import os
import threading
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager, suppress
from typing import TYPE_CHECKING, Any, Generic, TypeVar, cast

import pydantic
from pydantic_core import SchemaValidator, core_schema

from ..errors import Problem, QueryError, RowError
from ..model.table import FieldMapping, Table, TableInfo
from ..model.typemap import Codec, adapter_config, annotated, identity, type_adapter

if TYPE_CHECKING:
    from .relations import Relations

__all__ = [
    "CODEC_ERRORS",
    "INT64_MAX",
    "INT64_MIN",
    "NAN_REFUSED",
    "Problem",
    "RowCodec",
    "convert",
    "fewer_collections",
    "problem_lines",
    "problems_from",
    "row_error",
    "unbindable",
]

M = TypeVar("M", bound=Table)

#: SQLite's INTEGER is a signed 64-bit integer.
INT64_MIN, INT64_MAX = -(2**63), 2**63 - 1

#: What a codec raises for a value it cannot convert.
CODEC_ERRORS = (TypeError, ValueError, AttributeError, ArithmeticError)

#: Stored rows decoded and validated at a time by :meth:`RowCodec.load` (a thousand dicts at
#: most live at once beside the instances).
_LOAD_CHUNK = 1_000

#: Why a NaN for a float field is refused: sqlite3 binds it, and SQLite stores it as ``NULL``.
NAN_REFUSED = "NaN cannot be stored: SQLite stores it as NULL"

#: ``(row_index, field, message)``: ``row_index`` is ``None`` for a single-row call, ``field``
#: ``None`` for a problem that is not about one field.


def convert(codec: Codec, values: Iterable[Any]) -> list[Any]:
    """``values`` passed through ``codec``, ``None`` (SQL ``NULL``) left as it is."""
    return [None if value is None else codec(value) for value in values]


def unbindable(value: Any) -> str | None:
    """Why sqlite3 cannot bind the stored value ``value``, or ``None`` when it can."""
    if isinstance(value, int) and not INT64_MIN <= value <= INT64_MAX:
        return "integer out of SQLite's 64-bit INTEGER range"
    if isinstance(value, str):
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            return "text with a lone surrogate, which is not valid UTF-8"
    return None


def problems_from(exc: pydantic.ValidationError, batch: bool, offset: int = 0) -> list[Problem]:
    """The problems of a Pydantic validation error; with ``batch`` its locations start with
    the row index (from ``TypeAdapter(list[Model])``), numbered from ``offset``."""
    problems: list[Problem] = []
    for error in exc.errors():
        loc = list(error["loc"])
        index = loc.pop(0) if batch and loc and isinstance(loc[0], int) else None
        field = ".".join(str(part) for part in loc) or None
        row = index + offset if isinstance(index, int) else None
        problems.append((row, field, error["msg"]))
    return problems


def row_error(
    table: str, problems: list[Problem], what: str = "invalid value(s), nothing was written"
) -> RowError:
    """A :class:`RowError` listing ``problems``, one line each."""
    return RowError(
        f"table {table!r}: {len(problems)} {what}:\n{problem_lines(problems)}", problems
    )


def problem_lines(problems: list[Problem]) -> str:
    """``problems`` as the lines of a :class:`RowError`'s message: ``  row 2, field 'x': ...``."""
    lines = []
    for index, field, message in problems:
        where = f"row {index}" if index is not None else "row"
        if field:
            where += f", field {field!r}"
        lines.append(f"  {where}: {message}")
    return "\n".join(lines)


def _generated(name: str, lines: list[str], namespace: dict[str, Any]) -> Callable[..., Any]:
    """The function ``name`` that ``lines`` define, with the names of ``namespace``.

    The codec writes one function per table for the work of each row (unpacking a stored row
    into the dict the model validates, the stored values of a validated row), as
    ``dataclasses`` writes ``__init__``: one call with the columns spelt out costs half of
    loops over the columns. Only generated names and ``repr`` literals go into the text."""
    exec("\n".join(lines), namespace)
    function: Callable[..., Any] = namespace[name]
    return function


# -- the garbage collector during large batches ---------------------------------------------

#: Batches of at least this many rows are validated with fewer collections.
LARGE_BATCH = 1_000

#: The collector's first threshold while a large batch is validated (Python's default is 700).
BATCH_THRESHOLD = 100_000


class _Collector:
    """The state of :func:`fewer_collections`, shared by every thread of the process."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.batches = 0  #: large batches validating now, in any thread
        self.saved: tuple[int, ...] = ()  #: the thresholds before the first of them
        self.raised: tuple[int, ...] = ()  #: the thresholds set for them; () when unchanged

    def enter(self) -> None:
        with self.lock:
            self.batches += 1
            if self.batches == 1:
                current = gc.get_threshold()
                # 0 means automatic collection is off: raising it would turn it on.
                if 0 < current[0] < BATCH_THRESHOLD:
                    self.saved = current
                    self.raised = (BATCH_THRESHOLD, *current[1:])
                    gc.set_threshold(*self.raised)
                else:
                    self.raised = ()

    def leave(self) -> None:
        with self.lock:
            self.batches = max(0, self.batches - 1)  # not below 0 after a fork (forked)
            if self.batches == 0 and self.raised:
                # Thresholds someone else set meanwhile are theirs: kept.
                if gc.get_threshold() == self.raised:
                    gc.set_threshold(*self.saved)
                self.raised = ()

    def forked(self) -> None:
        """In a child process: the threads validating at the fork are not there to leave."""
        self.lock = threading.Lock()
        if self.batches and self.raised and gc.get_threshold() == self.raised:
            gc.set_threshold(*self.saved)
        self.batches, self.raised = 0, ()


_collector = _Collector()
if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_collector.forked)


@contextmanager
def fewer_collections(rows: int) -> Iterator[None]:
    """Run the block (validating a batch of ``rows`` rows) with the garbage collector's first
    threshold raised from 700 to :data:`BATCH_THRESHOLD`, when ``rows`` is at least
    :data:`LARGE_BATCH`.

    Validating 100,000 rows into instances makes some 300,000 objects the collector tracks
    (an instance, its ``__dict__``, its set of fields), which all survive; with Python's
    thresholds they set off hundreds of young collections and several full ones, each
    walking every object of the process again: a third to a half of the time of the
    validation. (Plain values made a chunk at a time die young, but while they live they
    count too.) The threshold is raised, not the
    collector disabled: collections still happen, every 100,000 new objects, so garbage
    cycles that other threads make meanwhile are still collected. The threshold is
    process-wide, so the batches of all threads count in one counter under a lock: the first
    to start raises it, the last to end restores it, unless someone else changed it
    meanwhile (theirs is kept). A threshold of 0 (automatic collection off) is left alone,
    and so is one already higher. ``gc.freeze()`` or ``gc.disable()`` would change the
    collector for the rest of the process, or stop it for every thread.
    """
    if rows < LARGE_BATCH:
        yield
        return
    _collector.enter()
    try:
        yield
    finally:
        _collector.leave()


class RowCodec(Generic[M]):
    """Validates and converts the rows of one table; see the module docstring.

    Stored values are in column order (the order of ``info.fields``). Writes go through
    :meth:`validate` then :meth:`encode_columns` (or :meth:`encode_data` for ``update``);
    reads through :meth:`load`.
    """

    def __init__(self, info: TableInfo) -> None:
        self.info = info
        self.model = cast("type[M]", info.model)
        fields = info.fields
        #: Field names, in column order.
        self.fields = tuple(m.field for m in fields)
        #: The key under which ``model_validate`` takes each field, in column order.
        self.keys = tuple(self._validation_key(m.field) for m in fields)
        self._encoders = [
            (i, m.storage.encode) for i, m in enumerate(fields) if m.storage.encode is not identity
        ]
        self._decoders = [
            (i, m.storage.decode) for i, m in enumerate(fields) if m.storage.decode is not identity
        ]
        #: Columns of float fields, where a NaN is refused (SQLite would store NULL).
        self._reals = [i for i, m in enumerate(fields) if m.storage.kind == "real"]
        self._adapters: dict[tuple[str, bool], pydantic.TypeAdapter[Any]] = {}
        #: The model's own config, for the field adapters (``arbitrary_types_allowed``).
        self._config = adapter_config(self.model.model_config)
        # Unknown keys in row dicts are rejected unless the model chose its own `extra`
        # policy: with Pydantic's default they would be dropped silently, so a typo
        # (`{"nmae": ...}`) would store a default instead.
        self._known_keys = self._accepted_keys()
        self._reject_unknown = "extra" not in self.model.model_config
        #: The table's relations in its database, set by its repository: ``where`` keys that
        #: name one filter by related rows (:mod:`hedystia_models.rows.relations`).
        self.relations: Relations | None = None

    # -- keys and validation -----------------------------------------------------------------------

    def _validation_key(self, field: str) -> str:
        """The key under which ``model_validate`` accepts ``field`` from a dict."""
        model = self.model
        config = model.model_config
        if config.get("populate_by_name") or config.get("validate_by_name"):
            return field
        info = model.model_fields[field]
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

    def _accepted_keys(self) -> frozenset[str]:
        """The keys a row dict may use: field names and their aliases."""
        known: set[str] = set(self.fields)
        for field_info in self.model.model_fields.values():
            for alias in (field_info.alias, field_info.validation_alias):
                if isinstance(alias, str):
                    known.add(alias)
                elif isinstance(alias, pydantic.AliasChoices):
                    known.update(c for c in alias.choices if isinstance(c, str))
        return frozenset(known)

    def field_for(self, key: object) -> FieldMapping:
        """The field that ``key`` (a field or column name) names; a :class:`QueryError` listing
        the fields when it names none."""
        mapping = self.info.column_for(key) if isinstance(key, str) else None
        if mapping is None:
            known = ", ".join(self.fields)
            raise QueryError(
                f"table {self.info.name!r} has no field or column {key!r} (fields: {known})"
            )
        return mapping

    def _as_input(self, obj: pydantic.BaseModel) -> dict[str, Any]:
        """A model instance as the dict of its field values ``model_validate`` takes. A field
        the instance lacks (``model_construct`` without a required field) is left out, so
        that validation names it."""
        values = obj.__dict__
        return {
            key: values[name]
            for key, name in zip(self.keys, self.fields, strict=True)
            if name in values
        }

    @functools.cached_property
    def _list_adapter(self) -> pydantic.TypeAdapter[list[M]]:
        """Validates a list of rows; built on first use (``compile_where`` builds a codec of
        its own when not given one, and never validates rows)."""
        rows_type: Any = list[self.model]  # type: ignore[name-defined]
        return pydantic.TypeAdapter(rows_type)

    @functools.cached_property
    def _factory_fields(self) -> list[tuple[str, pydantic.TypeAdapter[list[Any]]]]:
        """The fields whose default comes from a ``default_factory`` (Pydantic does not
        validate defaults), each with an adapter validating a list of its values with its
        constraints; built on first use, like :attr:`_list_adapter`."""
        factory_fields = []
        for field, info in self.model.model_fields.items():
            if info.default_factory is not None:
                values: Any = list[annotated(info.annotation, info.metadata)]  # type: ignore[misc]
                factory_fields.append((field, type_adapter(values, self._config)))
        return factory_fields

    def validate(self, rows: list[Any], batch: bool = True, offset: int = 0) -> list[M]:
        """Validate rows to write: dicts, or instances, which are validated again (they may
        have been changed after they were built, or built with ``model_construct``). Invalid
        rows are one :class:`RowError` listing every problem (numbered with ``batch``, from
        ``offset``: the index of ``rows[0]`` in the whole batch).

        Values a ``default_factory`` made are validated too (Pydantic takes defaults
        unchecked, and literal defaults were checked with the class), so ``insert`` and
        ``insert_many`` store only rows that can be read back."""
        model = self.model
        if self._reject_unknown:
            known = self._known_keys
            unknown: list[Problem] = [
                (
                    index + offset if batch else None,
                    str(key),
                    f"unknown field (not in {model.__name__})",
                )
                for index, row in enumerate(rows)
                if isinstance(row, Mapping) and not known.issuperset(row)
                for key in row
                if key not in known
            ]
            if unknown:
                raise row_error(self.info.name, unknown)
        if any(isinstance(row, model) for row in rows):
            rows = [self._as_input(row) if isinstance(row, model) else row for row in rows]
        try:
            with fewer_collections(len(rows)):
                objects = self._list_adapter.validate_python(rows)
        except pydantic.ValidationError as exc:
            problems = problems_from(exc, batch=True, offset=offset)
            if not batch:
                problems = [(None, field, message) for _, field, message in problems]
            raise row_error(self.info.name, problems) from exc
        if self._factory_fields:
            self._validate_factory_values(
                [(obj.__dict__, obj.model_fields_set) for obj in objects], batch, offset
            )
        return objects

    def _validate_factory_values(
        self, rows: list[tuple[dict[str, Any], Iterable[str]]], batch: bool, offset: int = 0
    ) -> None:
        """Validate, in place, the values ``default_factory`` gave ``rows`` (pairs of values
        by field and the fields the row set); a value its field rejects is a
        :class:`RowError`."""
        problems: list[Problem] = []
        for field, adapter in self._factory_fields:
            made = [
                (index, values)
                for index, (values, fields_set) in enumerate(rows)
                if field not in fields_set
            ]
            if not made:
                continue
            try:
                checked = adapter.validate_python([values[field] for _, values in made])
            except pydantic.ValidationError as exc:
                for error in exc.errors():
                    index = made[cast("int", error["loc"][0])][0]
                    problems.append((index + offset if batch else None, field, error["msg"]))
                continue
            for (_, values), value in zip(made, checked, strict=True):
                values[field] = value
        if problems:
            problems.sort(key=lambda problem: problem[0] or 0)
            raise row_error(self.info.name, problems)

    # -- the fast paths of validation ---------------------------------------------------------

    def validate_one(self, row: Any) -> M:
        """``validate([row], batch=False)[0]``, for a dict or an instance of the model, without
        the lists of a batch; any other row, and any problem, takes the general path (which
        names it)."""
        model = self.model
        if type(row) is dict or isinstance(row, Mapping):
            values: Any = row
            if self._reject_unknown and not self._known_keys.issuperset(row):
                values = None
        elif isinstance(row, model):
            values = self._as_input(row)
        else:
            values = None
        if values is not None:
            try:
                obj: M = model.__pydantic_validator__.validate_python(values)
            except pydantic.ValidationError:
                pass
            else:
                if self._factory_fields:
                    self._validate_factory_values([(obj.__dict__, obj.model_fields_set)], False)
                return obj
        (obj,) = self.validate([row], batch=False)
        return obj

    @functools.cached_property
    def _plain_validator(self) -> SchemaValidator | None:
        """Validates a list of rows to ``(values, extra, fields set)`` triples: the schema the
        model validates its fields with (``model-fields``, with the model's config), unknown
        keys refused as :meth:`validate` refuses them. ``None`` when validating fields alone
        would not be validating the model: a model validator, a custom ``__init__``, a
        ``model_post_init``, or a validation alias that is a path (whose keys
        :meth:`validate` does not accept)."""
        try:
            schema: Any = self.model.__pydantic_core_schema__
        except Exception:  # a model not fully defined: the general path says what is wrong
            return None
        definitions = None
        if schema.get("type") == "definitions":
            definitions, schema = schema.get("definitions"), schema.get("schema")
        if (
            not isinstance(schema, dict)
            or schema.get("type") != "model"
            or schema.get("custom_init")
            or schema.get("root_model")
            or schema.get("post_init")
            or schema.get("schema", {}).get("type") != "model-fields"
        ):
            return None
        fields = dict(schema["schema"])
        if self._reject_unknown:
            for info in self.model.model_fields.values():
                alias = info.validation_alias
                choices = alias.choices if isinstance(alias, pydantic.AliasChoices) else [alias]
                if any(isinstance(choice, pydantic.AliasPath) for choice in choices):
                    return None
            fields["extra_behavior"] = "forbid"
        rows: Any = core_schema.list_schema(fields)
        if definitions is not None:
            rows = core_schema.definitions_schema(rows, definitions)
        return SchemaValidator(rows, schema.get("config"))

    @property
    def plain(self) -> bool:
        """True when :meth:`validate_plain` validates without instances."""
        return self._plain_validator is not None

    def validate_plain(self, rows: Sequence[Any], start: int, stop: int) -> list[dict[str, Any]]:
        """The validated values (by field name) of ``rows[start:stop]``, as :meth:`validate`
        would give them, without making instances. Rows the model rejects are the
        :class:`RowError` that :meth:`validate` of ``rows[start:]`` raises (numbered from
        ``start``): the rows before ``start`` passed already, so it is the error of the whole
        batch."""
        chunk = rows[start:stop]
        if not isinstance(chunk, list):
            chunk = list(chunk)
        validator = self._plain_validator
        results: list[Any] | None = None
        if validator is not None:
            try:
                results = validator.validate_python(chunk)
            except pydantic.ValidationError:
                model = self.model
                if any(isinstance(row, model) for row in chunk):
                    given = [self._as_input(r) if isinstance(r, model) else r for r in chunk]
                    with suppress(pydantic.ValidationError):
                        results = validator.validate_python(given)
        if results is None:
            try:
                objects = self.validate(chunk, offset=start)
            except RowError as exc:
                failure = exc
            else:
                return [obj.__dict__ for obj in objects]
            self.validate(list(rows[start:]), offset=start)  # raises, naming every bad row
            raise failure  # pragma: no cover - the rows of the chunk are among them
        if self._factory_fields:
            self._validate_factory_values([(r[0], r[2]) for r in results], True, start)
        return [r[0] for r in results]

    def adapter(self, field: str, *, constraints: bool) -> pydantic.TypeAdapter[Any]:
        """A type adapter for ``field``'s type, with its constraints (``ge``, ``max_length``:
        for values to write) or without them (for values to compare with); built once."""
        adapter = self._adapters.get((field, constraints))
        if adapter is None:
            info = self.model.model_fields[field]
            annotation = annotated(info.annotation, info.metadata if constraints else [])
            adapter = type_adapter(annotation, self._config)
            self._adapters[field, constraints] = adapter
        return adapter

    # -- encoding -----------------------------------------------------------------------------

    def encode_value(self, mapping: FieldMapping, value: Any) -> Any:
        """The stored value of ``value`` in ``mapping``'s column; raises one of
        :data:`CODEC_ERRORS` when the codec cannot take it."""
        return convert(mapping.storage.encode, (value,))[0]

    def encode_columns(
        self, objects: Sequence[pydantic.BaseModel], batch: bool = True
    ) -> list[list[Any]]:
        """Stored values of validated ``objects``, column by column (see
        :meth:`encode_values`)."""
        return self.encode_values([obj.__dict__ for obj in objects], batch)

    def encode_values(
        self, dicts: Sequence[Mapping[str, Any]], batch: bool = True, offset: int = 0
    ) -> list[list[Any]]:
        """Stored values of validated rows (their values by field name), column by column.

        Working by column keeps the loops in C and creates no per-row containers (only
        strings and numbers, which the garbage collector does not track), so large batches do
        not trigger repeated full collections. A value the codec cannot store (a JSON field
        holding an object JSON cannot represent) is a :class:`RowError` naming the row (with
        ``batch``, numbered from ``offset``) and the field.
        """
        columns = [[d[name] for d in dicts] for name in self.fields]
        nan: list[Problem] = [
            (row + offset if batch else None, self.fields[index], NAN_REFUSED)
            for index in self._reals
            if any(value != value for value in columns[index])  # only NaN differs from itself
            for row, value in enumerate(columns[index])
            if value != value
        ]
        if nan:
            raise row_error(self.info.name, sorted(nan, key=lambda problem: problem[0] or 0))
        for index, encode in self._encoders:
            try:
                columns[index] = convert(encode, columns[index])
            except CODEC_ERRORS:
                failure = self._failures(index, columns[index], encode, batch, "stored", offset)
                raise failure from None
        return columns

    def encode_one(self, obj: pydantic.BaseModel) -> list[Any]:
        """The stored values of one validated instance, in column order: what
        ``rows(encode_columns([obj], batch=False))`` gives, without the columns."""
        try:
            stored = self._stored_values(obj.__dict__)
        except CODEC_ERRORS:
            stored = None
        if stored is None:  # a NaN, or a value a codec refuses: the general path names it
            (row,) = self.rows(self.encode_columns([obj], batch=False))
            return list(row)  # pragma: no cover - it raises
        return stored

    @functools.cached_property
    def _stored_values(self) -> Callable[[Mapping[str, Any]], list[Any] | None]:
        """The stored values of a validated row (its values by field), in column order, or
        ``None`` when a float field holds a NaN: one function, written for the table's
        columns (:func:`_generated`), in place of loops over the columns for each row."""
        lines = ["def stored_values(values):"]
        lines += [f"    v{i} = values[{name!r}]" for i, name in enumerate(self.fields)]
        lines += [f"    if v{i} != v{i}:\n        return None" for i in self._reals]
        encoders = dict(self._encoders)
        stored = [
            f"None if v{i} is None else e{i}(v{i})" if i in encoders else f"v{i}"
            for i in range(len(self.fields))
        ]
        lines.append(f"    return [{', '.join(stored)}]")
        namespace = {f"e{i}": encode for i, encode in encoders.items()}
        return _generated("stored_values", lines, namespace)

    @functools.cached_property
    def _row_values(self) -> Callable[[Sequence[Any]], dict[str, Any]]:
        """The dict ``model_validate`` takes of one stored row (a value per column, in
        column order), each value decoded (``None`` left as it is): ``dict(zip(keys, row))``
        and the decoders, as one function written for the table's columns
        (:func:`_generated`). A row of another length is a ``ValueError``."""
        names = [f"v{i}" for i in range(len(self.keys))]
        decoders = dict(self._decoders)
        items = [
            f"{key!r}: None if v{i} is None else d{i}(v{i})" if i in decoders else f"{key!r}: v{i}"
            for i, key in enumerate(self.keys)
        ]
        lines = [
            "def row_values(row):",
            f"    {', '.join(names)}, = row",
            f"    return {{{', '.join(items)}}}",
        ]
        namespace = {f"d{i}": decode for i, decode in decoders.items()}
        return _generated("row_values", lines, namespace)

    def encode_data(self, data: Mapping[str, Any]) -> dict[str, Any]:
        """A partial row (``update``'s ``data``) validated against the field types, with its
        constraints, and encoded; keys become column names. A value that is invalid is a
        :class:`RowError`; a key that names no field is a :class:`QueryError`."""
        if not isinstance(data, Mapping):
            raise QueryError(
                f"table {self.info.name!r}: the values to set must be a dict of field values "
                f"(got {type(data).__name__})"
            )
        values: dict[str, Any] = {}
        problems: list[Problem] = []
        for key, value in data.items():
            mapping = self.field_for(key)
            try:
                validated = self.adapter(mapping.field, constraints=True).validate_python(value)
                if mapping.storage.kind == "real" and validated != validated:  # NaN
                    problems.append((None, mapping.field, NAN_REFUSED))
                    continue
                values[mapping.column] = self.encode_value(mapping, validated)
            except pydantic.ValidationError as exc:
                problems += [(None, mapping.field, error["msg"]) for error in exc.errors()]
            except CODEC_ERRORS as exc:
                problems.append((None, mapping.field, f"cannot be stored: {exc}"))
        if problems:
            raise row_error(self.info.name, problems)
        return values

    @staticmethod
    def rows(columns: list[list[Any]], skip: int | None = None) -> Iterator[tuple[Any, ...]]:
        """Row tuples from columns, made one at a time, leaving out the column ``skip``."""
        count = len(columns[0]) if columns else 0
        if skip is not None:
            columns = [c for i, c in enumerate(columns) if i != skip]
        if not columns:  # the key was the only column: one empty row per object
            return iter([()] * count)
        return zip(*columns, strict=True)

    def unbindable_error(
        self, cells: Iterable[tuple[int | None, str, Any]], failure: Exception
    ) -> RowError:
        """The error for stored values sqlite3 refused to bind: ``cells`` are (row index,
        field, stored value) triples; those it cannot bind are named."""
        problems: list[Problem] = [
            (index, field, reason)
            for index, field, value in cells
            if (reason := unbindable(value)) is not None
        ]
        return row_error(self.info.name, problems or [(None, None, str(failure))])

    # -- decoding -----------------------------------------------------------------------------

    def decode_rows(
        self, rows: Sequence[Sequence[Any]], batch: bool = True
    ) -> Iterator[dict[str, Any]]:
        """The dicts ``model_validate`` takes, one per stored row (values in column order).

        A stored value its field's codec cannot read (text in a datetime column that is not
        a date, a value an Enum no longer has) is a :class:`RowError` naming the row (its
        index in ``rows``, with ``batch``) and the field.
        """
        try:
            return iter(list(map(self._row_values, rows)))
        except CODEC_ERRORS:
            pass  # the stored values again, a column at a time, to name each one refused
        keys = self.keys
        if not self._decoders or not rows:
            return (dict(zip(keys, row, strict=True)) for row in rows)
        columns: list[Sequence[Any]] = list(zip(*rows, strict=True))
        for index, decode in self._decoders:
            try:
                columns[index] = convert(decode, columns[index])
            except CODEC_ERRORS:
                raise self._failures(index, columns[index], decode, batch, "read") from None
        return (dict(zip(keys, row, strict=True)) for row in zip(*columns, strict=True))

    def load(self, rows: Sequence[Sequence[Any]], written: bool = False) -> list[M]:
        """Model instances of stored rows. A row the model rejects is a :class:`RowError`;
        ``written`` rows (read back by a write, inside its transaction) are not numbered.

        The rows are decoded and validated a thousand at a time, each thousand in one call
        (``TypeAdapter(list[Model])``), with fewer garbage collections for a large batch;
        when a stored value is refused, all of them again row by row, to name each problem."""
        count = len(rows)
        if count > 1:
            adapter, row_values = self._list_adapter, self._row_values
            loaded: list[M] = []
            try:
                with fewer_collections(count):
                    for start in range(0, count, _LOAD_CHUNK):
                        decoded = list(map(row_values, rows[start : start + _LOAD_CHUNK]))
                        # Not strict, whatever the model says (see _load_each).
                        loaded += adapter.validate_python(decoded, strict=False)
            except (pydantic.ValidationError, *CODEC_ERRORS):
                pass
            else:
                return loaded
        return self._load_each(rows, written)

    def load_one(self, row: Sequence[Any], written: bool = False) -> M:
        """``load([row], written)[0]``, without the lists of a batch."""
        try:
            values = self._row_values(row)
        except CODEC_ERRORS:
            return self.load([row], written)[0]  # raises, naming the value
        try:
            loaded: M = self.model.__pydantic_validator__.validate_python(values, strict=False)
        except pydantic.ValidationError:
            return self.load([row], written)[0]  # raises, naming the field
        return loaded

    def _load_each(self, rows: Sequence[Sequence[Any]], written: bool) -> list[M]:
        validate = self.model.model_validate
        loaded: list[M] = []
        append = loaded.append
        problems: list[Problem] = []
        rejected = 0
        for values in self.decode_rows(rows, batch=not written):
            try:
                # Not strict, whatever the model says: strict mode is about the caller's
                # input, and JSON columns decode to plain data (a list for a tuple or a set).
                append(validate(values, strict=False))
            except pydantic.ValidationError as exc:
                row = None if written else len(loaded) + rejected
                rejected += 1
                problems += [(row, f, message) for _, f, message in problems_from(exc, False)]
        if not problems:
            return loaded
        if written:
            raise row_error(self.info.name, problems)
        what = f"stored value(s) rejected by {self.model.__name__}"
        raise row_error(self.info.name, problems, what)

    def _failures(
        self,
        index: int,
        values: Sequence[Any],
        codec: Codec,
        batch: bool,
        action: str,
        offset: int = 0,
    ) -> RowError:
        """The error naming each value of column ``index`` that ``codec`` cannot convert (rows
        numbered from ``offset``)."""
        field = self.fields[index]
        problems: list[Problem] = []
        for row, value in enumerate(values):
            try:
                convert(codec, (value,))
            except CODEC_ERRORS as exc:
                message = str(exc) if action == "read" else f"cannot be stored: {exc}"
                problems.append((row + offset if batch else None, field, message))
        if action == "read":
            return row_error(self.info.name, problems, "stored value(s) cannot be read")
        return row_error(self.info.name, problems)
