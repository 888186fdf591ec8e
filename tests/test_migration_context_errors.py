"""Bad arguments to ``ctx.schema`` methods: each is a ``MigrationError`` naming the migration
and the call, raised before anything changes, never a raw ``TypeError`` or ``AttributeError``."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from hedystia_models import MigrationError, database, migration

Step = Callable[[Any], None]


@pytest.mark.parametrize(
    ("step", "message"),
    [
        (lambda ctx: ctx.schema.add_index("t", 5), r"add_index\('t'\): columns must be"),
        (lambda ctx: ctx.schema.add_index("t", []), r"add_index\('t'\): columns must be"),
        (lambda ctx: ctx.schema.add_index("t", [5]), "an index column must be a non-empty name"),
        (lambda ctx: ctx.schema.add_index("t", "a", name=""), "an index name must be"),
        (lambda ctx: ctx.schema.rename_column("t", "a", ""), "new column name must be"),
        (lambda ctx: ctx.schema.rename_column("t", "a", 5), "new column name must be"),
        (lambda ctx: ctx.schema.rename_column("t", None, "b"), "column to rename must be"),
        (lambda ctx: ctx.schema.drop_index("t", 5), "an index name must be"),
        (lambda ctx: ctx.schema.drop_column(5, "a"), "a table name must be"),
        (lambda ctx: ctx.schema.create_table(5), "create_table: 5 is not a table model"),
        (lambda ctx: ctx.schema.add_column("t", "b", 5), r"add_column\('t', 'b'\): a column must"),
        (lambda ctx: ctx.schema.add_column("t", "", {"type": "TEXT"}), "a column name must be"),
        (
            lambda ctx: ctx.schema.add_column("t", "b", (object,)),
            r"add_column\('t', 'b'\): cannot map type object",
        ),
        (
            lambda ctx: ctx.schema.alter_column("t", "a", {"tipe": "TEXT"}),
            "unknown key 'tipe'",
        ),
    ],
)
def test_bad_arguments_are_named_migration_errors(step: Step, message: str) -> None:
    db = database(schemas=[], connection=":memory:", migrations=[migration("m", up=step)])
    db.raw("CREATE TABLE t (id INTEGER PRIMARY KEY, a TEXT)")
    user_schema = (
        "SELECT sql FROM sqlite_master "
        "WHERE tbl_name NOT IN ('__hedystia_migrations', '__hedystia_state', 'sqlite_sequence') "
        "ORDER BY name"
    )
    before = db.raw(user_schema)
    with pytest.raises(MigrationError, match=message) as caught:
        db.migrate_up()
    assert str(caught.value).startswith("migration 'm': ")
    assert caught.value.migration == "m"
    assert not isinstance(caught.value.__cause__, (TypeError, AttributeError))
    assert db.raw(user_schema) == before
    assert db.migration_status().pending == ["m"]
