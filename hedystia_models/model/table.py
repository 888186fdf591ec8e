"""The ``Table`` base class, and the cached :class:`TableInfo` of each model class.

``class User(Table, table="users")`` declares a table. Field annotations give column types
(:mod:`hedystia_models.model.typemap`), field metadata gives keys, indexes and references
(:mod:`hedystia_models.model.fields`). The translation into a :class:`TableSpec`
(:mod:`hedystia_models.model.build`, field by field in :mod:`hedystia_models.model.columns`)
runs when the class is created, so an unmappable field fails at import time with a
:class:`SchemaError` naming model, field and type.

:class:`FieldMapping`, :class:`TableInfo` (:mod:`hedystia_models.model.info`) and
:func:`column_from_field` are re-exported here, so imports from this module keep working.
"""

from __future__ import annotations

import hashlib
import re
import weakref
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar

import pydantic

from ..errors import SchemaError
from .fields import ColumnRef
from .foreign_keys import ForeignKey, check_foreign_keys
from .info import FieldMapping, TableInfo

# The model-building side (build.py, columns.py, typemap.py and the specs) is imported with
# the first table model, not with the Table base (issue 14): ``import hedystia_models`` alone
# does not build anything.
if TYPE_CHECKING:
    from ..schema.spec import TableSpec
    from .columns import column_from_field

__all__ = [
    "FieldMapping",
    "Index",
    "Table",
    "TableInfo",
    "column_from_field",
    "default_table_name",
    "is_table_class",
    "spec_digest",
    "table_info",
]


def __getattr__(name: str) -> Any:
    # column_from_field, re-exported from columns.py, which is imported on first use.
    if name == "column_from_field":
        from .columns import column_from_field

        return column_from_field
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def default_table_name(class_name: str) -> str:
    """``UserProfile`` -> ``user_profile``; ``HTTPLog`` -> ``http_log``."""
    text = re.sub(r"([A-Z]+)([A-Z][a-z])", r"\1_\2", class_name)
    text = re.sub(r"([a-z0-9])([A-Z])", r"\1_\2", text)
    return text.lower()


@dataclass(frozen=True)
class Index:
    """A multi-column index for the ``indexes=`` class keyword: ``Index("a", "b", unique=True)``.

    Arguments are field names; ``name`` defaults to ``<table>_<col>_<col>_index``. A unique
    index on one field is the same as ``Field(unique=True)`` (``name`` is then not used).
    """

    fields: tuple[str, ...]
    unique: bool = False
    name: str | None = None

    def __init__(self, *fields: str, unique: bool = False, name: str | None = None) -> None:
        object.__setattr__(self, "fields", tuple(fields))
        object.__setattr__(self, "unique", unique)
        object.__setattr__(self, "name", name)


class Table(pydantic.BaseModel):
    """Base class of table models. Subclass it with the table name as a class keyword:

        class User(Table, table="users"):
            id: int | None = Field(default=None, primary_key=True, auto_increment=True)
            name: str = Field(max_length=255)

    Without ``table=`` the name is the snake_case class name. ``abstract=True`` declares a base
    class whose fields are inherited but which is not itself a table. ``indexes=`` takes
    :class:`Index` values for multi-column indexes, and ``unique=`` tuples of field names for
    multi-column ``UNIQUE (a, b)`` constraints (Django's ``unique_together``), and
    ``foreign_keys=`` :class:`~hedystia_models.model.foreign_keys.ForeignKey` values for
    multi-column foreign keys.
    """

    __hedystia_table__: ClassVar[str | None] = None
    __hedystia_abstract__: ClassVar[bool] = True
    __hedystia_indexes__: ClassVar[tuple[Index, ...]] = ()
    __hedystia_unique__: ClassVar[tuple[tuple[str, ...], ...]] = ()
    __hedystia_foreign_keys__: ClassVar[tuple[ForeignKey, ...]] = ()
    __hedystia_info__: ClassVar[TableInfo | None] = None

    def __init_subclass__(
        cls,
        *,
        table: str | None = None,
        abstract: bool = False,
        indexes: Sequence[Index] = (),
        unique: Sequence[Sequence[str]] = (),
        foreign_keys: Sequence[ForeignKey] = (),
        **kwargs: Any,
    ) -> None:
        try:
            super().__init_subclass__(**kwargs)
        except TypeError as exc:
            if not kwargs:
                raise
            raise SchemaError(
                f"{cls.__name__}: unknown class keyword(s) {', '.join(map(repr, kwargs))}; "
                "Table takes table=, abstract=, indexes=, unique= and foreign_keys= (and "
                "Pydantic's config keywords)"
            ) from exc
        if not isinstance(abstract, bool):
            raise SchemaError(f"{cls.__name__}: abstract= must be True or False (got {abstract!r})")
        from .columns import check_name

        if table is not None:
            check_name(table, "table=", cls.__name__, reserved=True)
        if isinstance(indexes, (str, bytes, Index)) or not isinstance(indexes, Iterable):
            raise SchemaError(
                f"{cls.__name__}: indexes= must be a list of Index(...) values (got {indexes!r})"
            )
        indexes = tuple(indexes)
        for item in indexes:
            if not isinstance(item, Index):
                raise SchemaError(
                    f"{cls.__name__}: indexes= must contain only Index(...) values (got {item!r})"
                )
        if isinstance(unique, (str, bytes)) or not isinstance(unique, Iterable):
            raise SchemaError(
                f"{cls.__name__}: unique= must be a list of field-name tuples, such as "
                f"[('customer_id', 'number')] (got {unique!r})"
            )
        groups = tuple(unique)
        together = tuple(
            tuple(group)
            for group in groups
            if not isinstance(group, (str, bytes)) and isinstance(group, Iterable)
        )
        if len(together) != len(groups) or any(
            len(group) < 2 or not all(isinstance(f, str) for f in group) for group in together
        ):
            raise SchemaError(
                f"{cls.__name__}: each item of unique= names two or more fields, as a tuple "
                f"(got {unique!r}); a single unique field is Field(unique=True)"
            )
        cls.__hedystia_abstract__ = abstract
        name = None if abstract else (table or default_table_name(cls.__name__))
        if name is not None:
            check_name(name, "table name", cls.__name__, reserved=True)
        cls.__hedystia_table__ = name
        # Indexes are inherited like fields: a base's indexes= apply to its subclasses too.
        inherited = cls.__hedystia_indexes__
        cls.__hedystia_indexes__ = (*inherited, *(i for i in indexes if i not in inherited))
        inherited_unique = cls.__hedystia_unique__
        cls.__hedystia_unique__ = (
            *inherited_unique,
            *(g for g in together if g not in inherited_unique),
        )
        inherited_keys = cls.__hedystia_foreign_keys__
        cls.__hedystia_foreign_keys__ = (
            *inherited_keys,
            *(k for k in check_foreign_keys(cls.__name__, foreign_keys) if k not in inherited_keys),
        )
        cls.__hedystia_info__ = None

    @classmethod
    def __pydantic_init_subclass__(cls, **kwargs: Any) -> None:
        super().__pydantic_init_subclass__(**kwargs)
        if not cls.__hedystia_abstract__ and cls.__pydantic_complete__:
            table_info(cls)

    @classmethod
    def ref(cls, field: str) -> ColumnRef:
        """A reference to one of this model's fields, for ``Field(references=User.ref("id"))``."""
        if not isinstance(field, str) or field not in cls.model_fields:
            raise SchemaError(f"{cls.__name__} has no field {field!r}")
        return ColumnRef(cls, field)

    @classmethod
    def table_spec(cls) -> TableSpec:
        """This model's :class:`TableSpec`."""
        return table_info(cls).spec


def table_info(model: type[Table]) -> TableInfo:
    """The :class:`TableInfo` of ``model``, built once and cached on the class."""
    if not is_table_class(model):
        raise SchemaError(f"{getattr(model, '__name__', model)!r} is not a table model")
    cached = model.__dict__.get("__hedystia_info__")
    if cached is not None:
        return cached  # type: ignore[no-any-return]
    if not model.__pydantic_complete__:
        try:
            model.model_rebuild(raise_errors=True)
        except pydantic.PydanticUndefinedAnnotation as exc:
            raise SchemaError(
                f"{model.__name__}: annotation {exc.name!r} is not defined; import it at module "
                "level or call model_rebuild() once it exists"
            ) from exc
    from .build import build_info

    info = build_info(model)
    spec_digest(info.spec)  # made once, with the spec: sync's fingerprint is made of it
    model.__hedystia_info__ = info
    return info


#: The digest of each spec :func:`spec_digest` was asked for, by ``id`` (an entry leaves with
#: its spec).
_SPEC_DIGESTS: dict[int, tuple[weakref.ref[TableSpec], bytes]] = {}


def spec_digest(spec: TableSpec) -> bytes:
    """The SHA-256 of ``repr(spec)``: what the fingerprint of sync's fast path
    (:func:`hedystia_models.migrate.sync.fingerprint`) is made of. Specs are frozen, so it is
    made once per spec and kept; :func:`table_info` makes a model's with its spec, when the
    class is created (well under a per cent of what creating the class costs), so a start-up
    sync hashes a few bytes per model rather than walking every spec again."""
    key = id(spec)
    found = _SPEC_DIGESTS.get(key)
    if found is not None and found[0]() is spec:
        return found[1]
    digest = hashlib.sha256(repr(spec).encode()).digest()

    def forget(_: weakref.ref[TableSpec]) -> None:
        _SPEC_DIGESTS.pop(key, None)

    _SPEC_DIGESTS[key] = (weakref.ref(spec, forget), digest)
    return digest


def is_table_class(model: object) -> bool:
    """True for a concrete (not abstract) ``Table`` subclass."""
    return isinstance(model, type) and issubclass(model, Table) and not model.__hedystia_abstract__
