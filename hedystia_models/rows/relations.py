"""Relations: every reference between two models of a database, usable from both ends.

A reference (``Field(references=...)``, or a multi-column
:class:`~hedystia_models.model.foreign_keys.ForeignKey`) from a model of a database to
another (or to itself) is two relations, registered when the database is built
(:class:`RelationGraph`):

* forward, on the referencing model: one row or ``None``. Named by ``relation_name=``, else
  the field's name without ``_id`` (``author_id`` -> ``author``); for a multi-column key, the
  part its fields' names share before an ``_`` (``order_region``, ``order_number`` ->
  ``order``). A field whose name gives none (``author_email``) has a forward relation only
  when it is named.
* reverse, on the referenced model: a list of rows. Named by ``related_name=``, else the
  referencing table's name (``posts``).

A default name that cannot name a relation (not a Python identifier, an attribute of every
Pydantic model such as ``copy``: see
:func:`~hedystia_models.model.foreign_keys.relation_name_problem`) registers nothing. Two
relations of one model with one name, or a relation named like one of its model's fields
(or their columns or aliases), are a :class:`~hedystia_models.errors.SchemaError` when the
database is built, naming both and the option that names one of them.

Each repository holds its table's :class:`Relations`: they compile the ``where`` filters on
related rows (``{"author": {"name": "Ann"}}``: some related row matches) and plan the eager
loading of ``with_=`` (:mod:`hedystia_models.rows.loading`).
"""

from __future__ import annotations

import contextvars
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import pydantic

from ..errors import QueryError, SchemaError
from ..model.fields import column_meta
from ..model.foreign_keys import forward_default, relation_name_problem
from ..model.table import Table, TableInfo, table_info
from ..schema.quoting import fold_identifier
from ..schema.quoting import quote_identifier as q
from .where import ALWAYS, MAX_NESTING, compile_where

if TYPE_CHECKING:
    from ..database import Database
    from .loading import Loader

__all__ = ["Relation", "RelationGraph", "Relations"]


@dataclass(frozen=True)
class Relation:
    """One end of a reference: from rows of ``model`` to rows of ``target``.

    ``columns`` (of ``model``'s table) hold the values that ``target_columns`` (of
    ``target``'s table) match. ``many`` is ``True`` for a reverse relation (a list of rows),
    ``False`` for a forward one (one row or ``None``). ``source`` names the declaration
    (``Post.author_id``) and ``option`` the keyword that names this end."""

    name: str
    model: type[Table]
    target: type[Table]
    many: bool
    columns: tuple[str, ...]
    target_columns: tuple[str, ...]
    source: str
    option: str

    def describe(self) -> str:
        """This relation in words, for messages."""
        if self.many:
            return f"the reverse of {self.source}"
        return f"{self.source} -> {table_info(self.target).name}"

    def how_to_name(self) -> str:
        """How to give this end another name."""
        if self.source.endswith("]"):  # a ForeignKey of foreign_keys=
            return f"ForeignKey(..., {self.option}='...') at {self.source}"
        return f"Field(references=..., {self.option}='...') on {self.source}"


@dataclass(frozen=True)
class _Edge:
    """A reference of a model, before it is named: its columns and its target."""

    model: type[Table]
    columns: tuple[str, ...]
    target: type[Table]
    target_columns: tuple[str, ...]
    source: str
    fields: tuple[str, ...]
    relation_name: str | None
    related_name: str | None


def _edges(model: type[Table], tables: Mapping[str, type[Table]]) -> Iterator[_Edge]:
    """The references of ``model`` to models of the set (``tables``: folded table name ->
    model)."""
    info = table_info(model)
    by_column = {fold_identifier(m.column): m.field for m in info.fields}
    for mapping in info.fields:
        reference = info.spec.column(mapping.column).references
        if reference is None:
            continue
        target = tables.get(fold_identifier(reference.table))
        if target is None:
            continue
        meta = column_meta(model.model_fields[mapping.field])
        yield _Edge(
            model,
            (mapping.column,),
            target,
            _target_columns(target, (reference.column,)),
            f"{model.__name__}.{mapping.field}",
            (mapping.field,),
            meta.relation_name,
            meta.related_name,
        )
    declared = model.__hedystia_foreign_keys__
    for position, (fk, spec) in enumerate(zip(declared, info.spec.foreign_keys, strict=True)):
        target = tables.get(fold_identifier(spec.other_table))
        if target is None:
            continue
        yield _Edge(
            model,
            spec.columns,
            target,
            _target_columns(target, spec.other_columns),
            f"{model.__name__} foreign_keys[{position}]",
            tuple(by_column[fold_identifier(c)] for c in spec.columns),
            fk.relation_name,
            fk.related_name,
        )


def _target_columns(target: type[Table], columns: tuple[str, ...]) -> tuple[str, ...]:
    """``columns`` of ``target``'s table as the table spells them; none: its primary key."""
    spec = table_info(target).spec
    if not columns:
        return spec.primary_key
    return tuple(spec.column(c).name if spec.has_column(c) else c for c in columns)


def _taken_names(info: TableInfo) -> dict[str, str]:
    """The names a relation of ``info``'s model must not take, each with what has it: field
    names, their aliases, and (folded) column names, which ``where`` keys also accept."""
    taken: dict[str, str] = {}
    for mapping in info.fields:
        taken[mapping.field] = f"field {mapping.field!r}"
        taken.setdefault(fold_identifier(mapping.column), f"column {mapping.column!r}")
        field_info = info.model.model_fields[mapping.field]
        for alias in (field_info.alias, field_info.validation_alias):
            if isinstance(alias, str):
                taken.setdefault(alias, f"alias {alias!r} of field {mapping.field!r}")
    return taken


class RelationGraph:
    """The relations of a database's models, by model (built by ``database(...)``).

    Also keeps the classes of loaded rows (:func:`~hedystia_models.rows.loading.loaded_class`),
    with the database, so that they go when it goes."""

    def __init__(self, models: Iterable[type[Table]]) -> None:
        models = list(models)
        tables = {fold_identifier(table_info(m).name): m for m in models}
        self._by_model: dict[type[Table], dict[str, Relation]] = {m: {} for m in models}
        #: Generated classes of loaded rows, by (model, shape of the relations loaded).
        self.classes: dict[tuple[type[Table], tuple[Any, ...]], type[Table]] = {}
        #: Their list validators, by class.
        self.adapters: dict[type[Table], pydantic.TypeAdapter[list[Any]]] = {}
        #: Default names left unregistered because two relations (or a relation and a field)
        #: would have them, by model: the message that says how to name them.
        self._unnamed: dict[type[Table], dict[str, str]] = {m: {} for m in models}
        edges = [edge for model in models for edge in _edges(model, tables)]
        #: The names declared with ``relation_name=`` / ``related_name=``, by model: a default
        #: name never takes one of them.
        self._declared: dict[type[Table], set[str]] = {m: set() for m in models}
        for edge in edges:
            if edge.relation_name:
                self._declared[edge.model].add(edge.relation_name)
            if edge.related_name:
                self._declared[edge.target].add(edge.related_name)
        for edge in edges:
            self._add_pair(edge)

    def _add_pair(self, edge: _Edge) -> None:
        """Register ``edge``'s forward and reverse relations, by their declared names
        (``relation_name=`` / ``related_name=``) or their default ones."""
        forward = edge.relation_name or forward_default(edge.fields)
        if forward is not None and (edge.relation_name or relation_name_problem(forward) is None):
            relation = Relation(
                forward,
                edge.model,
                edge.target,
                False,
                edge.columns,
                edge.target_columns,
                edge.source,
                "relation_name",
            )
            self._add(relation, bool(edge.relation_name))
        reverse = edge.related_name or table_info(edge.model).name
        if edge.related_name or relation_name_problem(reverse) is None:
            relation = Relation(
                reverse,
                edge.target,
                edge.model,
                True,
                edge.target_columns,
                edge.columns,
                edge.source,
                "related_name",
            )
            self._add(relation, bool(edge.related_name))

    def _add(self, relation: Relation, declared: bool) -> None:
        """Register ``relation``. A name the user declared must be free (a
        :class:`SchemaError` otherwise); a default name that is not (two references from
        one table to another: ``home`` and ``away`` both give ``matches``) is left
        unregistered, and using it says how to name the relations."""
        model = relation.model
        relations = self._by_model[model]
        unnamed = self._unnamed[model]
        other = relations.get(relation.name)
        taken = _taken_names(table_info(model))
        owner = taken.get(relation.name) or taken.get(fold_identifier(relation.name))
        if owner is None and hasattr(model, relation.name):  # a method or property
            owner = f"attribute {relation.name!r} of {model.__name__}"
        if not declared and owner is None and relation.name in self._declared[model]:
            owner = "name another relation declares"
        if other is not None or relation.name in unnamed:
            if declared:
                raise SchemaError(
                    f"{model.__name__}: two relations are named {relation.name!r}: "
                    f"{other.describe() if other else 'another'} and {relation.describe()}; "
                    f"give one of them another name with {relation.how_to_name()}"
                )
            described = other.describe() if other is not None else "another relation"
            hint = (
                f"{relation.name!r} would name two relations of {model.__name__} "
                f"({described} and {relation.describe()}), so it names neither: name them "
                f"with {relation.how_to_name()}"
                + (f" and {other.how_to_name()}" if other is not None else "")
            )
            relations.pop(relation.name, None)
            unnamed[relation.name] = hint
            return
        if owner is not None:
            if declared:
                raise SchemaError(
                    f"{model.__name__}: the relation {relation.name!r} ({relation.describe()}) "
                    f"has the name of the {owner}; give the relation another name with "
                    f"{relation.how_to_name()}"
                )
            unnamed[relation.name] = (
                f"{relation.name!r} is the {owner}, so {relation.describe()} has no default "
                f"name: name it with {relation.how_to_name()}"
            )
            return
        relations[relation.name] = relation

    def unnamed(self, model: type[Table]) -> dict[str, str]:
        """The default relation names of ``model`` left unregistered, with how to name them."""
        return self._unnamed.get(model, {})

    def of(self, model: type[Table]) -> dict[str, Relation]:
        """The relations of ``model`` by name (empty for a model outside the database)."""
        return self._by_model.get(model, {})


#: How many relation filters the ``where`` being compiled nests, on this thread.
_FILTER_DEPTH: contextvars.ContextVar[int] = contextvars.ContextVar(
    "hedystia_relation_filter_depth", default=0
)


class Relations(Mapping[str, Relation]):
    """The relations of one table in its database, by name: ``db.table(User).relations``.

    They compile ``where`` filters on related rows (:meth:`condition`) and plan the loading of
    ``with_=`` (:meth:`loader`)."""

    def __init__(self, db: Database, model: type[Table]) -> None:
        self._db = db
        self.model = model
        self.info = table_info(model)
        self._relations = db._relation_graph.of(model)

    def __getitem__(self, name: str) -> Relation:
        return self._relations[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self._relations)

    def __len__(self) -> int:
        return len(self._relations)

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and name in self._relations

    def __repr__(self) -> str:
        return f"<Relations of {self.info.name}: {', '.join(self._relations) or 'none'}>"

    @property
    def graph(self) -> RelationGraph:
        """The relation graph of the database."""
        return self._db._relation_graph

    def known(self) -> str:
        """The relation names, for messages."""
        return f"relations: {', '.join(self._relations)}" if self._relations else "it has none"

    def relation(self, name: object, what: str) -> Relation:
        """The relation ``name``, or a :class:`QueryError` naming the table (``what`` says
        where the name was given) and listing the relations."""
        relation = self._relations.get(name) if isinstance(name, str) else None
        if relation is None and isinstance(name, str) and name in self.graph.unnamed(self.model):
            hint = self.graph.unnamed(self.model)[name]
            raise QueryError(f"table {self.info.name!r}: no relation {name!r} in {what}: {hint}")
        if relation is None:
            raise QueryError(
                f"table {self.info.name!r} has no relation {name!r} in {what} ({self.known()})"
            )
        return relation

    def condition(self, name: str, where: Any) -> tuple[str, list[Any]]:
        """The SQL condition of ``{name: where}`` in a ``where`` dict: some row of the
        relation ``name`` matches ``where`` (a where dict of the related table; ``{}``: there
        is one). A semi-join, ``key IN (SELECT key FROM related WHERE ...)``: rows with no
        key (``NULL``) have no related row, so the condition is true or false, never
        ``NULL``, and ``not`` of it means "no related row matches"."""
        relation = self._relations[name]
        target = self._db.table(relation.target)
        if not isinstance(where, Mapping):
            raise QueryError(
                f"table {self.info.name!r}: {name!r} is a relation (to table "
                f"{target.info.name!r}): give a where dict of its rows, such as "
                f"{{{name!r}: {{...}}}} (got {where!r})"
            )
        depth = _FILTER_DEPTH.get()
        if depth >= MAX_NESTING:
            raise QueryError(
                f"table {self.info.name!r}: where nests relations more than {MAX_NESTING} "
                "levels deep"
            )
        token = _FILTER_DEPTH.set(depth + 1)
        try:
            inner, params = compile_where(target.info, where, codec=target.codec)
        finally:
            _FILTER_DEPTH.reset(token)
        spec, target_spec = self.info.spec, target.info.spec
        guards = [f"{q(c)} IS NOT NULL" for c in relation.columns if not spec.column(c).not_null]
        inner_parts = [
            f"{q(c)} IS NOT NULL"
            for c in relation.target_columns
            if not target_spec.column(c).not_null
        ]
        if inner != ALWAYS:
            inner_parts.append(f"({inner})")
        keys = key_sql(relation.columns)
        selected = ", ".join(q(c) for c in relation.target_columns)
        test = f"{keys} IN (SELECT {selected} FROM {q(target.info.name)}"
        test += f" WHERE {' AND '.join(inner_parts)})" if inner_parts else ")"
        return (f"({' AND '.join([*guards, test])})" if guards else test), params

    def filter_by(self, where: object) -> bool:
        """True when ``where`` filters by related rows anywhere (in ``and`` / ``or`` too): its
        result then depends on other tables than this one (a read cache must know)."""
        if not isinstance(where, Mapping):
            return False
        for key, value in where.items():
            if key in self._relations:
                return True
            if key in ("and", "or", "not") and isinstance(value, (list, tuple)):
                if any(self.filter_by(sub) for sub in value):
                    return True
            elif key == "not" and self.filter_by(value):
                return True
        return False

    def loader(self, with_: object) -> Loader:
        """The plan of ``with_=`` for this table; a :class:`QueryError` for a relation it
        does not have or an option it does not take, before anything runs."""
        from .loading import Loader

        return Loader(self._db, self, with_)


def key_sql(columns: tuple[str, ...]) -> str:
    """``"a"``, or the row value ``("a", "b")`` of several columns."""
    if len(columns) == 1:
        return q(columns[0])
    return "(" + ", ".join(q(c) for c in columns) + ")"
