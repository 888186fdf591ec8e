"""Moving rows from a SQLite database to PostgreSQL: :func:`copy_rows`.

The rows are read through the SQLite :class:`~hedystia_models.Database` as validated model
instances (so each value is the Python value the model holds, whatever text SQLite stored it
as), and written with psycopg's ``executemany``, batch by batch, in one transaction: parents
before the tables that reference them, the identity of each table moved past the largest key
copied (so the next insert on PostgreSQL does not reuse one). The tables must exist on
PostgreSQL already (:func:`.sync.sync` creates them from the same models).
"""

from __future__ import annotations

import enum
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from ...errors import HedystiaError
from ...migrate.diff import order_by_dependencies
from ...model.table import Table, table_info
from ...schema.quoting import fold_identifier
from ...schema.quoting import quote_identifier as q
from .connection import transaction
from .types import table_for_postgres

if TYPE_CHECKING:
    from ...database import Database
    from ...model.typemap import Storage

__all__ = ["copy_rows"]


def _value(value: Any, storage: Storage) -> Any:
    """A model's value as psycopg should send it to its column (JSON written by the field's
    own encoder, as on SQLite: nested models, datetimes and the like included)."""
    if value is None:
        return None
    if storage.kind == "json":
        from psycopg.types.json import Jsonb

        return Jsonb(value, dumps=storage.encode)
    if isinstance(value, enum.Enum):
        return value.value
    return value


def copy_rows(
    source: Database, conn: Any, models: Sequence[type[Table]], *, batch: int = 1000
) -> dict[str, int]:
    """Copy every row of the tables of ``models`` from ``source`` (a SQLite ``Database``) to
    the PostgreSQL connection ``conn``, in one transaction; returns the rows copied per table.
    Nothing is copied when one row is refused (a constraint, a table missing): the error is a
    :class:`~hedystia_models.errors.HedystiaError` naming the table."""
    import psycopg

    infos = {fold_identifier(table_info(m).name): table_info(m) for m in models}
    ordered = order_by_dependencies([info.spec for info in infos.values()])
    copied: dict[str, int] = {}
    with transaction(conn):
        for spec in ordered:
            info = infos[fold_identifier(spec.name)]
            columns = [m.column for m in info.fields]
            kinds = [m.storage for m in info.fields]
            fields = [m.field for m in info.fields]
            sql = "INSERT INTO {} ({}) VALUES ({})".format(
                q(spec.name), ", ".join(q(c) for c in columns), ", ".join("%s" for _ in columns)
            )
            rows = source.table(info.model).find()
            count = 0
            try:
                with conn.cursor() as cursor:
                    for start in range(0, len(rows), batch):
                        chunk = rows[start : start + batch]
                        cursor.executemany(
                            sql,
                            [
                                [
                                    _value(getattr(r, f), k)
                                    for f, k in zip(fields, kinds, strict=True)
                                ]
                                for r in chunk
                            ],
                        )
                        count += len(chunk)
                    key = spec.primary_key
                    if (
                        count
                        and len(key) == 1
                        and table_for_postgres(spec).column(key[0]).auto_increment
                    ):
                        cursor.execute(
                            "SELECT setval(pg_get_serial_sequence(%s, %s), "
                            f"(SELECT max({q(key[0])}) FROM {q(spec.name)}))",
                            (q(spec.name), key[0]),
                        )
            except psycopg.Error as exc:
                raise HedystiaError(
                    f"copying table {spec.name!r} to PostgreSQL failed, nothing was copied: "
                    f"{str(exc).strip()}"
                ) from exc
            copied[spec.name] = count
    return copied
