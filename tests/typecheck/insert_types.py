"""Checked by ``mypy --strict`` in ``.ci/run`` (and imported by the test suite):
``insert_many`` is ``list[M]`` by default and ``int`` with ``returning=False``, sync and
async, and a ``bool`` known only at run time gives either."""

from __future__ import annotations

from typing_extensions import assert_type

from hedystia_models import Database, Field, Table


class Note(Table, table="notes"):
    id: int | None = Field(default=None, primary_key=True)
    text: str


def the_sync_api(db: Database, flag: bool) -> None:
    notes = db.table(Note)
    assert_type(notes.insert_many([{"text": "a"}]), list[Note])
    assert_type(notes.insert_many([{"text": "a"}], returning=True), list[Note])
    assert_type(notes.insert_many([{"text": "a"}], returning=False), int)
    assert_type(notes.insert_many([Note(text="a")], returning=flag), list[Note] | int)


async def the_async_api(db: Database, flag: bool) -> None:
    notes = db.aio.table(Note)
    assert_type(await notes.insert_many([{"text": "a"}]), list[Note])
    assert_type(await notes.insert_many([{"text": "a"}], returning=False), int)
    assert_type(await notes.insert_many([{"text": "a"}], returning=flag), list[Note] | int)
