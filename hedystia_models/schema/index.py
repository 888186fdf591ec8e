"""Indexes: :class:`IndexSpec`, its expression keys (:class:`IndexExpression`), default names.

Part of the spec language of :mod:`hedystia_models.schema.spec`, which re-exports every name
here; a :class:`~hedystia_models.schema.spec.TableSpec` holds its indexes as these values.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from ..errors import SpecError
from .quoting import fold_identifier
from .sqltext import mentions

__all__ = ["IndexExpression", "IndexKey", "IndexSpec", "index_name"]


def index_name(table: str, columns: Sequence[str], unique: bool = False) -> str:
    """Default index name: ``<table>_<col>_<col>_index`` (``_unique`` for unique ones).

    >>> index_name("users", ["email"], unique=True)
    'users_email_unique'
    """
    return "_".join([table, *columns, "unique" if unique else "index"])


@dataclass(frozen=True)
class IndexExpression:
    """An index key that is an SQL expression rather than a column, such as ``lower(email)``.

    ``sql`` is the expression as written in the ``CREATE INDEX`` statement (trusted as SQL).
    """

    sql: str

    def __str__(self) -> str:
        return self.sql


#: One key of an index: a column name or an :class:`IndexExpression`.
IndexKey = str | IndexExpression


@dataclass(frozen=True)
class IndexSpec:
    """A ``CREATE INDEX``: name, keys in order, uniqueness, optional partial ``WHERE``.

    ``columns`` holds the keys: column names, and :class:`IndexExpression` values for
    expression keys. ``sql`` is the statement stored in a live database (``None`` for an index a
    model declares); it is not compared, and a table rebuild re-creates the index from it word
    for word, so sort order (``DESC``), collations and expressions survive.
    """

    name: str
    columns: tuple[IndexKey, ...]
    unique: bool = False
    where: str | None = None
    sql: str | None = field(default=None, compare=False)

    def __post_init__(self) -> None:
        if not isinstance(self.name, str) or not self.name:
            raise SpecError(f"an index needs a non-empty name (got {self.name!r})")
        if isinstance(self.columns, (str, bytes)) or not isinstance(self.columns, Iterable):
            raise SpecError(
                f"index {self.name!r}: columns must be a sequence of keys (got {self.columns!r})"
            )
        if not isinstance(self.unique, bool) or not isinstance(self.where, (str, type(None))):
            raise SpecError(f"index {self.name!r}: unique must be a bool and where SQL text")
        object.__setattr__(self, "columns", tuple(self.columns))
        if not self.columns:
            raise SpecError(f"index {self.name!r} needs at least one column")
        for key in self.columns:
            if not isinstance(key, (str, IndexExpression)):
                raise SpecError(
                    f"index {self.name!r}: a key must be a column name or an IndexExpression "
                    f"(got {key!r})"
                )

    @property
    def column_names(self) -> tuple[str, ...]:
        """The keys that are plain columns, in order (expressions left out)."""
        return tuple(key for key in self.columns if isinstance(key, str))

    @property
    def has_expressions(self) -> bool:
        """True when a key is an expression."""
        return any(isinstance(key, IndexExpression) for key in self.columns)

    def uses(self, column: str) -> bool:
        """True when the index uses ``column``: as a key, inside an expression key, or in its
        ``WHERE`` condition."""
        folded = fold_identifier(column)
        for key in self.columns:
            if isinstance(key, str):
                if fold_identifier(key) == folded:
                    return True
            elif mentions(key.sql, column):
                return True
        return self.where is not None and mentions(self.where, column)

    def keys_text(self) -> str:
        """The keys for humans: ``email, lower(name)``."""
        return ", ".join(str(key) for key in self.columns)
