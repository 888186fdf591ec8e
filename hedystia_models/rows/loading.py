"""Eager loading: ``find(..., with_={"posts": {...}})`` and the classes of loaded rows.

A :class:`Loader` is the plan of one ``with_`` dict, checked before anything runs: for each
relation named (:mod:`hedystia_models.rows.relations`), its options compiled against the
related table, and its own ``with_``, to any depth. Loading then runs **one query per relation
of the plan**, whatever the number of rows: the keys of the rows loaded so far are collected
and the related rows read with ``WHERE key IN (...)`` (split into several statements only
when there are more keys than SQLite binds in one). A ``limit`` / ``offset`` applies to each
row's list separately, with ``ROW_NUMBER() OVER (PARTITION BY key ORDER BY ...)``.

Loaded rows are instances of a generated subclass of their model per shape of ``with_``
(:func:`loaded_class`): ``Post`` plus ``author: User | None`` is ``Post[author]``. The class is
abstract (no table) and its instances are validated like any row; the related rows, validated
instances of the relation fields' types, are then set as the values of those fields, so
``model_dump()`` includes them and ``isinstance(row, Post)`` holds.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Optional

import pydantic

from ..errors import QueryError
from ..model.table import Table
from ..schema.quoting import fold_identifier
from ..schema.quoting import quote_identifier as q
from .codec import RowCodec, problems_from, row_error
from .relations import Relation, RelationGraph, Relations, key_sql
from .where import ALWAYS, MAX_NESTING, compile_order_by, compile_page, compile_where

if TYPE_CHECKING:
    from ..database import Database
    from .repository import Repository

__all__ = ["WITH_OPTIONS", "Loader", "With", "loaded_class"]

#: ``with_={"posts": True}`` or ``{"posts": {"where": ..., "limit": 5, "with_": {...}}}``.
With = Mapping[str, Any]

#: The options of one relation in ``with_``.
WITH_OPTIONS = ("where", "order_by", "limit", "offset", "with_")

#: The options a relation to one row takes (``limit`` and the rest order and cut lists).
_ONE_ROW_OPTIONS = ("where", "with_")

#: Bound values per statement when sqlite3 cannot say (Python 3.10): SQLite's default before
#: 3.32, which every build takes.
_DEFAULT_VARIABLES = 999


def _variable_limit(conn: sqlite3.Connection) -> int:
    """How many values SQLite binds in one statement on ``conn``."""
    getlimit = getattr(conn, "getlimit", None)  # Python 3.11 and later
    which = getattr(sqlite3, "SQLITE_LIMIT_VARIABLE_NUMBER", None)
    if getlimit is None or which is None:
        return _DEFAULT_VARIABLES
    return int(getlimit(which))


def _free_name(base: str, taken: Sequence[str]) -> str:
    """``base``, or ``base`` with a number, that no column of ``taken`` has."""
    folded = {fold_identifier(c) for c in taken}
    name, n = base, 0
    while fold_identifier(name) in folded:
        n += 1
        name = f"{base}{n}"
    return name


@dataclass(frozen=True)
class _Level:
    """One relation of a plan: how to read its rows for a set of keys."""

    relation: Relation
    repo: Repository[Any]
    #: The positions of the relation's columns in the holding table's rows, and of the
    #: matching columns in the related table's rows.
    holder_at: tuple[int, ...]
    target_at: tuple[int, ...]
    condition: str
    params: tuple[Any, ...]
    order: str
    #: ``(offset, limit)`` of each holder's list, ``None`` without either.
    page: tuple[int, int | None] | None
    children: tuple[_Level, ...]
    cls: type[Table]

    def sql(self, test: str) -> str:
        """The statement reading the related rows that ``test`` (the key condition) picks."""
        repo = self.repo
        columns = [m.column for m in repo.info.fields]
        select = ", ".join(q(c) for c in columns)
        where = test if self.condition == ALWAYS else f"{test} AND ({self.condition})"
        table = q(repo.info.name)
        if self.page is None:
            order = f" ORDER BY {self.order}" if self.order else ""
            return f"SELECT {select} FROM {table} WHERE {where}{order}"
        number = q(_free_name("__hedystia_row", columns))
        partition = ", ".join(q(c) for c in self.relation.target_columns)
        order = self.order or _key_order(repo.info.spec.primary_key, repo._rowid)
        bounds = f"{number} > ?" + ("" if self.page[1] is None else f" AND {number} <= ?")
        return (
            f"SELECT {select} FROM (SELECT {select}, ROW_NUMBER() OVER (PARTITION BY "
            f"{partition} ORDER BY {order}) AS {number} FROM {table} WHERE {where}) "
            f"AS {q(_free_name('__hedystia_page', columns))} WHERE {bounds} ORDER BY {number}"
        )

    def page_params(self) -> list[int]:
        if self.page is None:
            return []
        offset, limit = self.page
        return [offset] if limit is None else [offset, offset + limit]

    def fetch(self, conn: sqlite3.Connection, keys: list[Any]) -> list[Any]:
        """The related rows of ``keys`` (values, or tuples of them for several columns)."""
        width = len(self.relation.target_columns)
        extra = [*self.params, *self.page_params()]
        per_statement = max(1, (_variable_limit(conn) - len(extra)) // width)
        target = key_sql(self.relation.target_columns)
        rows: list[Any] = []
        for start in range(0, len(keys), per_statement):
            chunk = keys[start : start + per_statement]
            if width == 1:
                test = f"{target} IN ({', '.join('?' * len(chunk))})"
                values = chunk
            else:
                one = "(" + ", ".join("?" * width) + ")"
                test = f"{target} IN (VALUES {', '.join([one] * len(chunk))})"
                values = [value for key in chunk for value in key]
            rows.extend(conn.execute(self.sql(test), [*values, *extra]).fetchall())
        return rows


def _key_order(primary_key: tuple[str, ...], rowid: str) -> str:
    """The order of rows when ``order_by`` is not given but a page is: by primary key (by
    ``rowid``, the repository's name of it, without one), so that the page is the same each
    time."""
    if primary_key:
        return ", ".join(f"{q(c)} ASC" for c in primary_key)
    return rowid


class Loader:
    """The plan of one ``with_`` dict for a table (see the module docstring)."""

    def __init__(self, db: Database, relations: Relations, with_: object) -> None:
        self._db = db
        self.relations = relations
        self.levels = _plan(db, relations, with_, 0)
        #: The class of the loaded rows of the table.
        self.cls = loaded_class(relations.graph, relations.model, _shape(self.levels))

    def load(self, codec: RowCodec[Any], rows: Sequence[Sequence[Any]]) -> list[Any]:
        """The instances of the stored ``rows`` of the table (read by ``codec``'s
        repository), with their relations loaded."""
        if not self.levels:
            return codec.load(rows)
        with self._db.connection() as conn:
            return _load(conn, codec, self.cls, rows, self.levels, self.relations.graph)


def _shape(levels: tuple[_Level, ...]) -> tuple[Any, ...]:
    return tuple((level.relation.name, _shape(level.children)) for level in levels)


def _plan(db: Database, relations: Relations, with_: object, depth: int) -> tuple[_Level, ...]:
    """The levels of ``with_`` for the table of ``relations``, checked."""
    table = relations.info.name
    if not isinstance(with_, Mapping):
        raise QueryError(
            f"table {table!r}: with_ takes a dict of relation names, each True or a dict of "
            f"options (got {with_!r})"
        )
    if with_ and depth >= MAX_NESTING:
        raise QueryError(f"table {table!r}: with_ nests more than {MAX_NESTING} levels deep")
    holder_columns = [m.column for m in relations.info.fields]
    levels = []
    for name, option in with_.items():
        relation = relations.relation(name, "with_")
        if option is True:
            options: Mapping[str, Any] = {}
        elif isinstance(option, Mapping):
            options = option
        else:
            raise QueryError(
                f"table {table!r}: with_[{name!r}] takes True or a dict of options "
                f"({', '.join(WITH_OPTIONS)}) (got {option!r})"
            )
        allowed = WITH_OPTIONS if relation.many else _ONE_ROW_OPTIONS
        unknown = [key for key in options if key not in allowed]
        if unknown:
            if relation.many or any(key not in WITH_OPTIONS for key in unknown):
                raise QueryError(
                    f"table {table!r}: with_[{name!r}] has unknown option(s) "
                    f"{', '.join(map(repr, unknown))} (options: {', '.join(WITH_OPTIONS)})"
                )
            raise QueryError(
                f"table {table!r}: with_[{name!r}] is one row (or None) per row, so it takes "
                f"{' and '.join(_ONE_ROW_OPTIONS)} only (got {', '.join(map(repr, unknown))})"
            )
        repo = db.table(relation.target)
        info = repo.info
        condition, params = compile_where(info, options.get("where"), codec=repo.codec)
        order = compile_order_by(info, options.get("order_by")).removeprefix(" ORDER BY ")
        limit, offset = options.get("limit"), options.get("offset")
        compile_page(info, limit, offset)  # checks both
        page = None if limit is None and offset is None else (offset or 0, limit)
        target_columns = [m.column for m in info.fields]
        children = _plan(db, repo.relations, options.get("with_", {}), depth + 1)
        levels.append(
            _Level(
                relation,
                repo,
                tuple(holder_columns.index(c) for c in relation.columns),
                tuple(target_columns.index(c) for c in relation.target_columns),
                condition,
                tuple(params),
                order,
                page,
                children,
                loaded_class(relations.graph, relation.target, _shape(children)),
            )
        )
    return tuple(levels)


def _keys(rows: Sequence[Sequence[Any]], at: tuple[int, ...]) -> list[Any]:
    """The key of each row: the value at ``at`` (a tuple of the values for several)."""
    if len(at) == 1:
        (i,) = at
        return [row[i] for row in rows]
    return [None if any(row[i] is None for i in at) else tuple(row[i] for i in at) for row in rows]


def _load(
    conn: sqlite3.Connection,
    codec: RowCodec[Any],
    cls: type[Table],
    rows: Sequence[Sequence[Any]],
    levels: tuple[_Level, ...],
    graph: RelationGraph,
) -> list[Any]:
    """Instances of ``cls`` of the stored ``rows`` with the relations of ``levels``: the rows
    are validated, then each level's related rows read (one query per level), loaded the
    same way, and set as the values of the relation fields.

    The related rows are validated instances of the relation field's type, made for it, so
    they are set as they are, not validated again: a model whose config says
    ``revalidate_instances="always"`` would validate each once more, by the aliases of its
    fields, which a dict of its values does not hold."""
    if not levels:
        return codec.load(rows)
    try:
        loaded: list[Any] = _adapter(graph, cls).validate_python(
            list(codec.decode_rows(rows)), strict=False
        )
    except pydantic.ValidationError as exc:
        codec.load(rows)  # names the row and field of a stored value the model rejects
        raise row_error(
            codec.info.name,
            problems_from(exc, batch=True),
            f"stored value(s) rejected by {cls.__name__}",
        ) from exc
    for level in levels:
        keys = _keys(rows, level.holder_at)
        wanted = [key for key in dict.fromkeys(keys) if key is not None]
        related_rows = level.fetch(conn, wanted) if wanted else []
        related = _load(conn, level.repo.codec, level.cls, related_rows, level.children, graph)
        name = level.relation.name
        found: dict[Any, Any]
        if level.relation.many:
            found = {}
            for key, obj in zip(_keys(related_rows, level.target_at), related, strict=True):
                found.setdefault(key, []).append(obj)
        else:
            found = dict(zip(_keys(related_rows, level.target_at), related, strict=True))
        for obj, key in zip(loaded, keys, strict=True):
            value = found.get(key)
            if value is not None:  # else the field's default: [] or None
                obj.__dict__[name] = value
            obj.__pydantic_fields_set__.add(name)
    return loaded


def _adapter(graph: RelationGraph, cls: type[Table]) -> pydantic.TypeAdapter[list[Any]]:
    """Validates a list of rows of ``cls`` (kept with the graph, as the classes are)."""
    adapter = graph.adapters.get(cls)
    if adapter is None:
        rows_type: Any = list[cls]  # type: ignore[valid-type]
        adapter = graph.adapters.setdefault(cls, pydantic.TypeAdapter(rows_type))
    return adapter


def loaded_class(graph: RelationGraph, model: type[Table], shape: tuple[Any, ...]) -> type[Table]:
    """The class of rows of ``model`` loaded with the relations of ``shape`` (``(name,
    shape of its own relations)`` pairs): ``model`` itself for none, else an abstract
    subclass with one field per relation, ``list[...]`` for a reverse relation (empty when
    there are no rows) and ``... | None`` for a forward one. Made once per shape."""
    if not shape:
        return model
    key = (model, shape)
    found = graph.classes.get(key)
    if found is not None:
        return found
    relations = graph.of(model)
    fields: dict[str, Any] = {}
    labels = []
    for name, inner in shape:
        relation = relations[name]
        target: Any = loaded_class(graph, relation.target, inner)
        labels.append(f"{name}={target.__name__}" if inner else name)
        if relation.many:
            fields[name] = (
                list[target],
                pydantic.Field(default_factory=list, validation_alias=name),
            )
        else:
            fields[name] = (Optional[target], pydantic.Field(default=None, validation_alias=name))  # noqa: UP045
    cls: type[Table] = pydantic.create_model(
        f"{model.__name__}[{', '.join(labels)}]",
        __base__=model,
        __module__=model.__module__,
        __cls_kwargs__={"abstract": True},
        **fields,
    )
    return graph.classes.setdefault(key, cls)
