"""Multi-column foreign keys declared on a model, and the names of relations.

``class Line(Table, foreign_keys=[ForeignKey("order_region", "order_number",
references=Order)])`` declares ``FOREIGN KEY (order_region, order_number) REFERENCES
orders (region, number)``: the model's :class:`~hedystia_models.schema.spec.TableSpec` carries
it as a :class:`~hedystia_models.schema.spec.ForeignKeySpec`. A one-column foreign key is
``Field(references=...)``.

Every reference between two models of a database is also a relation, in both directions
(:mod:`hedystia_models.rows.relations`); ``relation_name=`` and ``related_name=`` name its two
ends, here and on ``Field(...)``. :func:`check_relation_name` is the rule both follow.
"""

from __future__ import annotations

import keyword
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import pydantic

from ..errors import SchemaError

if TYPE_CHECKING:
    from ..schema.spec import ForeignKeySpec
    from .info import TableInfo
    from .table import Table

__all__ = [
    "ForeignKey",
    "check_foreign_keys",
    "check_relation_name",
    "forward_default",
    "relation_name_problem",
    "resolve_foreign_key",
]

#: Keys of ``where`` dicts that a relation name must not take.
_WHERE_WORDS = frozenset({"and", "or", "not"})


def relation_name_problem(name: object) -> str | None:
    """Why ``name`` cannot name a relation, or ``None`` when it can: relations become
    attributes of the loaded instances and keys of ``with_`` and ``where`` dicts, so a name
    is a Python identifier that no Pydantic model (or table model) attribute has, that does
    not start with an underscore or ``model_``, and that is not ``and`` / ``or`` / ``not``.

    >>> relation_name_problem("author") is None
    True
    >>> relation_name_problem("copy")
    'is an attribute of every Pydantic model'
    """
    if not isinstance(name, str):
        return f"must be a string (got {name!r})"
    if not name.isidentifier() or keyword.iskeyword(name):
        return "is not a Python identifier"
    if name.startswith(("_", "model_")):
        return "starts with '_' or 'model_', which Pydantic keeps for itself"
    if name in _WHERE_WORDS:
        return "is a keyword of where dicts"
    if hasattr(pydantic.BaseModel, name):
        return "is an attribute of every Pydantic model"
    from .table import Table  # table.py imports this module

    if hasattr(Table, name):
        return "is an attribute of every table model"
    return None


def forward_default(fields: tuple[str, ...]) -> str | None:
    """The forward name of a reference from ``fields`` that names none: the field's name
    without ``_id``, or the part the fields' names share before an ``_`` (``None``: no name).

    >>> forward_default(("author_id",)), forward_default(("author_email",))
    ('author', None)
    >>> forward_default(("order_region", "order_number")), forward_default(("a", "b"))
    ('order', None)
    """
    if len(fields) == 1:
        field = fields[0]
        return field[:-3] if field.endswith("_id") and len(field) > 3 else None
    first = fields[0].split("_")
    shared: list[str] = []
    for position, word in enumerate(first[:-1]):
        if all(f.split("_")[position : position + 1] == [word] for f in fields[1:]):
            shared.append(word)
        else:
            break
    prefix = "_".join(shared)
    if not prefix or not all(f.startswith(prefix + "_") and f != prefix + "_" for f in fields):
        return None
    return prefix


def check_relation_name(name: object, option: str, where: str) -> str:
    """``name`` when it can name a relation (see :func:`relation_name_problem`), else a
    :class:`SchemaError` naming ``where`` and the ``option`` that gave it."""
    problem = relation_name_problem(name)
    if problem is not None:
        raise SchemaError(f"{where}: {option}={name!r} {problem}")
    assert isinstance(name, str)
    return name


@dataclass(frozen=True)
class ForeignKey:
    """A multi-column foreign key, for the ``foreign_keys=`` class keyword.

    ``ForeignKey("order_region", "order_number", references=Order)`` references ``Order``'s
    primary key (two columns, in their order); ``to=("region", "number")`` names other
    fields of ``Order`` (they must be its primary key or a ``UNIQUE`` group).
    ``references="orders"`` names a table by its name, ``to=`` then naming its columns (this
    is how a model references itself: its class does not exist yet in its own class
    statement). Arguments are field names of the declaring model.

    ``on_delete``, ``on_update`` and ``deferrable`` are those of ``Field(...)``;
    ``relation_name`` names the relation from a row to the row it references,
    ``related_name`` the relation back (see ``docs/relations.md``).
    """

    fields: tuple[str, ...]
    references: Any
    to: tuple[str, ...] | None
    on_delete: str | None
    on_update: str | None
    deferrable: bool
    relation_name: str | None
    related_name: str | None

    def __init__(
        self,
        *fields: str,
        references: Any,
        to: Sequence[str] | None = None,
        on_delete: str | None = None,
        on_update: str | None = None,
        deferrable: bool = False,
        relation_name: str | None = None,
        related_name: str | None = None,
    ) -> None:
        set_ = object.__setattr__
        set_(self, "fields", tuple(fields))
        set_(self, "references", references)
        set_(self, "to", None if to is None else (to,) if isinstance(to, str) else tuple(to))
        set_(self, "on_delete", on_delete)
        set_(self, "on_update", on_update)
        set_(self, "deferrable", deferrable)
        set_(self, "relation_name", relation_name)
        set_(self, "related_name", related_name)


def check_foreign_keys(owner: str, foreign_keys: object) -> tuple[ForeignKey, ...]:
    """The ``foreign_keys=`` class keyword as a tuple, or a :class:`SchemaError`."""
    if isinstance(foreign_keys, (str, bytes, ForeignKey)) or not isinstance(foreign_keys, Iterable):
        raise SchemaError(
            f"{owner}: foreign_keys= must be a list of ForeignKey(...) values (got "
            f"{foreign_keys!r})"
        )
    found = tuple(foreign_keys)
    for item in found:
        if not isinstance(item, ForeignKey):
            raise SchemaError(
                f"{owner}: foreign_keys= must contain only ForeignKey(...) values (got {item!r})"
            )
    return found


def resolve_foreign_key(
    model: type[Table], fk: ForeignKey, by_field: dict[str, str], position: int
) -> ForeignKeySpec:
    """The :class:`ForeignKeySpec` of ``model``'s ``fk`` (``by_field``: field -> column)."""
    # The referenced model's TableInfo is built on demand, which runs the module that calls
    # this one: imported here, as model/columns.py does. The specs come with the first model
    # built, not with the Table base (issue 14).
    from ..schema.spec import ForeignKeySpec
    from .table import Table, is_table_class, table_info

    where = f"{model.__name__}: foreign_keys[{position}]"
    if len(fk.fields) < 2 or not all(isinstance(f, str) for f in fk.fields):
        raise SchemaError(
            f"{where}: a ForeignKey names two or more fields of the model, as strings (got "
            f"{fk.fields!r}); a one-column foreign key is Field(references=...)"
        )
    repeated = sorted({f for f in fk.fields if fk.fields.count(f) > 1})
    if repeated:
        raise SchemaError(f"{where}: names field {repeated[0]!r} more than once")
    unknown = [f for f in fk.fields if f not in by_field]
    if unknown:
        raise SchemaError(f"{where}: unknown field(s) {unknown!r} of {model.__name__}")
    if fk.to is not None and not all(isinstance(f, str) for f in fk.to):
        raise SchemaError(f"{where}: to= takes names, as strings (got {fk.to!r})")
    if not isinstance(fk.deferrable, bool):
        raise SchemaError(f"{where}: deferrable must be True or False (got {fk.deferrable!r})")
    for option in ("relation_name", "related_name"):
        value = getattr(fk, option)
        if value is not None:
            check_relation_name(value, option, where)
    target: Any = fk.references
    other_columns: tuple[str, ...]
    if isinstance(target, str):
        table = target
        other_columns = fk.to or ()
    elif isinstance(target, type) and issubclass(target, Table):
        if not is_table_class(target):
            raise SchemaError(f"{where}: references={target.__name__}, which is not a table model")
        info: TableInfo = table_info(target)
        table = info.name
        if fk.to is None:
            other_columns = info.spec.primary_key
        else:
            mappings = [info.column_for(f) for f in fk.to]
            missing = [f for f, m in zip(fk.to, mappings, strict=True) if m is None or m.field != f]
            if missing:
                raise SchemaError(f"{where}: {target.__name__} has no field(s) {missing!r}")
            other_columns = tuple(m.column for m in mappings if m is not None)
    else:
        raise SchemaError(
            f"{where}: references must be a Table class or a table name (got {target!r})"
        )
    if other_columns and len(other_columns) != len(fk.fields):
        raise SchemaError(
            f"{where}: {len(fk.fields)} field(s) reference {len(other_columns)} column(s) of "
            f"{table!r}; name as many, one to one"
        )
    try:
        return ForeignKeySpec(
            columns=tuple(by_field[f] for f in fk.fields),
            other_table=table,
            other_columns=other_columns,
            on_delete=fk.on_delete or "NO ACTION",
            on_update=fk.on_update or "NO ACTION",
            deferrable=fk.deferrable,
        )
    except ValueError as exc:
        raise SchemaError(f"{where}: {exc}") from exc
