"""Which declarations this version of the package supports, found out by trying them.

Some facts of a live schema have no model declaration yet, or only in newer versions: SQL
expression defaults, multi-column ``UNIQUE``, collations, deferrable references, partial and
expression indexes, table ``CHECK`` constraints. Rather than trusting a signature, each probe
declares a small model with the option and checks that its :class:`TableSpec` says what the
option should mean. Inspection writes an option only when its probe passes, and a ``# TODO``
otherwise.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from ..schema.quoting import fold_identifier
from ..schema.spec import IndexExpression, TableSpec
from ..schema.sqltext import sql_words

__all__ = ["Features", "probe_features"]


@dataclass(frozen=True)
class Features:
    """What the models of this version can declare, beyond the options every version has."""

    #: ``Field(default=None, sql_default="CURRENT_TIMESTAMP")``: a ``DEFAULT`` that is an SQL
    #: expression, which fills a ``None`` written through the repository.
    sql_default: bool = False
    #: ``Field(collate="NOCASE")``: the column's collation.
    collate: bool = False
    #: ``Field(references=..., deferrable=True)``: ``DEFERRABLE INITIALLY DEFERRED``.
    deferrable: bool = False
    #: ``class X(Table, unique=[("a", "b")])``: multi-column ``UNIQUE`` constraints.
    unique_together: bool = False
    #: ``class X(Table, checks=["a < b"])``: table ``CHECK`` constraints.
    table_checks: bool = False
    #: ``Index("a", where="a > 0")``: partial indexes.
    partial_index: bool = False
    #: ``Index(IndexExpression("lower(a)"))``: expression keys in an index.
    expression_index: bool = False


def _spec(source: str) -> TableSpec:
    """The spec of the model ``Probe`` that ``source`` declares."""
    from .. import Field, Index, Table

    namespace: dict[str, Any] = {
        "Field": Field,
        "Index": Index,
        "Table": Table,
        "IndexExpression": IndexExpression,
    }
    exec(compile(source, "<hedystia-models feature probe>", "exec", dont_inherit=True), namespace)
    spec: TableSpec = namespace["Probe"].table_spec()
    return spec


def _passes(source: str, check: Callable[[TableSpec], bool]) -> bool:
    """True when ``source`` declares a model whose spec passes ``check``."""
    try:
        with warnings.catch_warnings():
            # An unknown Field(...) keyword is only a deprecation warning in Pydantic.
            warnings.simplefilter("ignore")
            return bool(check(_spec(source)))
    except Exception:  # an option this version lacks fails in any number of ways
        return False


def _column(spec: TableSpec, name: str) -> Any:
    return spec.column(name)


def probe_features() -> Features:
    """Try every optional declaration once."""
    return Features(
        sql_default=_passes(
            "class Probe(Table, table='probe'):\n"
            "    at: str = Field(default=None, sql_default='CURRENT_TIMESTAMP')\n",
            lambda spec: _column(spec, "at").default_sql == "CURRENT_TIMESTAMP",
        ),
        collate=_passes(
            "class Probe(Table, table='probe'):\n    name: str = Field(collate='NOCASE')\n",
            lambda spec: getattr(_column(spec, "name"), "collate", None) == "NOCASE",
        ),
        deferrable=_passes(
            "class Probe(Table, table='probe'):\n"
            "    parent: int = Field(references='parents.id', deferrable=True)\n",
            lambda spec: getattr(_column(spec, "parent").references, "deferrable", False) is True,
        ),
        unique_together=_passes(
            "class Probe(Table, table='probe', unique=[('a', 'b')]):\n"
            "    a: int = Field(column='col a')\n"
            "    b: int = Field(column='col b')\n",
            lambda spec: (
                [tuple(fold_identifier(c) for c in u) for u in spec.unique_together]
                == [("col a", "col b")]
            ),
        ),
        table_checks=_passes(
            "class Probe(Table, table='probe', checks=['a < b']):\n    a: int\n    b: int\n",
            lambda spec: [sql_words(c.expression) for c in spec.checks] == [sql_words("a < b")],
        ),
        partial_index=_passes(
            "class Probe(Table, table='probe', indexes=[Index('a', where='a > 0')]):\n    a: int\n",
            lambda spec: [i.where for i in spec.indexes] == ["a > 0"],
        ),
        expression_index=_passes(
            "class Probe(\n"
            "    Table, table='probe', indexes=[Index(IndexExpression('lower(a)'), name='i')]\n"
            "):\n"
            "    a: str\n",
            lambda spec: [i.columns for i in spec.indexes] == [(IndexExpression("lower(a)"),)],
        ),
    )
