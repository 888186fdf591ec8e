"""Spec values (``TableSpec``, ``ColumnSpec``, ``IndexSpec``, ``Reference``, ...) refuse values
that describe no valid table with a ``SpecError`` (also a ``ValueError``) naming the spec and the
field, and the @hedystia/db column dict is read with the same care."""

from __future__ import annotations

from typing import Any

import pytest

from hedystia_models import (
    CheckSpec,
    ColumnSpec,
    ForeignKeySpec,
    IndexSpec,
    Reference,
    SchemaError,
    TableSpec,
)
from hedystia_models.errors import SpecError

A = ColumnSpec("a", "TEXT")


@pytest.mark.parametrize(
    ("build", "message"),
    [
        (lambda: ColumnSpec(5, "TEXT"), "a column needs a non-empty name"),
        (lambda: ColumnSpec("", "TEXT"), "a column needs a non-empty name"),
        (lambda: ColumnSpec("a", 5), "column 'a': type must be str, not int"),
        (lambda: ColumnSpec("a", "TEXT", check=5), "check must be str or None"),
        (lambda: ColumnSpec("a", "TEXT", default_sql=1), "default_sql must be str or None"),
        (lambda: ColumnSpec("a", "TEXT", references="t.c"), "references must be Reference"),
        (lambda: ColumnSpec("a", "TEXT", unique="no"), "unique must be bool"),
        (lambda: ColumnSpec("a", "TEXT", auto_increment=True), "auto_increment needs primary_key"),
        (lambda: TableSpec("", (A,)), "a table needs a non-empty name"),
        (lambda: TableSpec("t", ["a"]), "every item of columns must be a ColumnSpec"),
        (lambda: TableSpec("t", "a"), "columns must be a sequence of ColumnSpec"),
        (lambda: TableSpec("t", (A,), indexes=("i",)), "every item of indexes must be"),
        (lambda: TableSpec("t", (A,), checks=("x > 0",)), "every item of checks must be"),
        (lambda: TableSpec("t", (A,), unique_together=("ab",)), "unique_together must be"),
        (lambda: TableSpec("t", (A, A)), "two columns named 'a'"),
        (lambda: IndexSpec("i", "abc"), "columns must be a sequence of keys"),
        (lambda: IndexSpec("i", ()), "needs at least one column"),
        (lambda: IndexSpec("i", (5,)), "a key must be a column name or an IndexExpression"),
        (lambda: IndexSpec("", ("a",)), "an index needs a non-empty name"),
        (lambda: Reference("t", 5), "column must be str"),
        (lambda: Reference("t", "c", on_delete="bogus"), "on_delete must be one of"),
        (lambda: ForeignKeySpec("ab", "t", ("x", "y")), "columns must be a sequence of str"),
        (lambda: CheckSpec(5), "expression must be str"),
    ],
)
def test_invalid_specs_are_refused_by_name(build: Any, message: str) -> None:
    with pytest.raises(SpecError, match=message) as caught:
        build()
    assert isinstance(caught.value, SchemaError) and isinstance(caught.value, ValueError)


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (5, "a column definition must be a dict"),
        ({"name": "a", "type": "TEXT", "x": 1}, "unknown key 'x'"),
        ({"name": "a", "type": "TEXT", "length": "x"}, "length must be a positive int"),
        ({"name": "a", "type": "TEXT", "length": 0}, "length must be a positive int"),
        ({"name": "a", "type": "TEXT", "references": {"table": "t"}}, "references takes table"),
        ({"name": "a", "type": "TEXT", "references": "nodot"}, "table.column"),
        ({"name": "a"}, "needs a 'type'"),
    ],
)
def test_bad_column_dicts_are_refused_by_name(data: Any, message: str) -> None:
    with pytest.raises(SpecError, match=message):
        ColumnSpec.from_dict(data)


def test_a_length_given_as_digits_still_works() -> None:
    assert ColumnSpec.from_dict({"name": "a", "type": "varchar", "length": "40"}).type == (
        "VARCHAR(40)"
    )
