"""Checked by ``mypy --strict`` in ``.ci/run`` (and imported by the test suite): the async
API is typed like the sync one, so an editor and mypy know what every awaited call gives."""

from __future__ import annotations

from typing_extensions import assert_type

from hedystia_models import AsyncDatabase, AsyncRepository, Database, Field, Plan, Repository, Table


class User(Table, table="users"):
    id: int | None = Field(default=None, primary_key=True)
    name: str


async def the_async_api(db: Database) -> None:
    aio = db.aio
    assert_type(aio, AsyncDatabase)
    users = aio.table(User)
    assert_type(users, AsyncRepository[User])
    assert_type(await users.get(1), User | None)
    assert_type(await users.find_first(where={"name": "a"}), User | None)
    assert_type(await users.find(), list[User])
    assert_type(await users.insert({"name": "a"}), User)
    assert_type(await users.insert_many([{"name": "a"}]), list[User])
    assert_type(await users.update(where={"id": 1}, data={"name": "b"}), list[User])
    assert_type(await users.upsert(where={"id": 1}, create={"name": "a"}, update={}), User)
    assert_type(await users.delete(where={"id": 1}), int)
    assert_type(await users.delete(User(id=1, name="a")), int)
    assert_type(await users.save(User(name="a")), User)
    assert_type(await users.count(), int)
    assert_type(await users.exists(), bool)
    assert_type(await aio.sync(), Plan)
    assert_type(await aio.migrate_up(), list[str])
    async with aio.transaction() as same:
        assert_type(same, AsyncDatabase)


def the_sync_api(db: Database) -> None:
    users = db.table(User)
    assert_type(users, Repository[User])
    assert_type(users.get(1), User | None)
    assert_type(users.find(), list[User])
    assert_type(users.save(User(name="a")), User)
    assert_type(users.delete(User(id=1, name="a")), int)
    assert_type(users.delete(where={}), int)
