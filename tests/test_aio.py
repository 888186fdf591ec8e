"""The async API (issue 12): ``db.aio`` runs the sync calls on worker threads, never on the
event loop's thread, with transactions as ``async with``."""

from __future__ import annotations

import asyncio
import threading
import time
from typing import Any

import pytest

from hedystia_models import (
    AsyncDatabase,
    Field,
    MigrationContext,
    QueryError,
    RowError,
    Table,
    database,
    migration,
)


class Author(Table, table="authors"):
    id: int | None = Field(default=None, primary_key=True, auto_increment=True)
    name: str = Field(min_length=1)


class Post(Table, table="posts"):
    id: int | None = Field(default=None, primary_key=True, auto_increment=True)
    author_id: int = Field(references=Author, on_delete="cascade")
    title: str


class Boom(Exception):
    pass


def test_every_call_awaits_the_same_result_as_the_sync_api(connect: Any) -> None:
    async def main() -> None:
        with connect(schemas=[Author, Post]) as db:
            aio = db.aio
            assert isinstance(aio, AsyncDatabase) and db.aio is aio
            plan = await aio.sync()
            assert plan and (await aio.plan()).in_sync
            authors = aio.table(Author)
            ann = await authors.insert({"name": "Ann"})
            assert ann == Author(id=1, name="Ann")
            more = await authors.insert_many([{"name": "Bob"}, Author(name="Cy")])
            assert [a.id for a in more] == [2, 3]
            assert await authors.get(2) == Author(id=2, name="Bob")
            assert await authors.get(99) is None
            assert [a.name for a in await authors.find(order_by="-id", limit=2)] == ["Cy", "Bob"]
            assert await authors.find_first(where={"name": "Ann"}) == ann
            assert await authors.count() == 3 and await authors.exists(where={"name": "Cy"})
            assert await authors.update(where={"id": 3}, data={"name": "Cyd"}) == [
                Author(id=3, name="Cyd")
            ]
            upserted = await authors.upsert(
                where={"name": "Dee"}, create={"name": "Dee"}, update={"name": "x"}
            )
            assert upserted.id == 4
            assert await authors.delete(where={"id": 4}) == 1
            assert await aio["posts"].insert({"author_id": 1, "title": "t"})
            assert await aio.posts.count() == 1
            assert await aio.raw("SELECT count(*) AS n FROM authors") == [{"n": 3}]
            assert await aio.check() == []
            assert [h.kind for h in await aio.history()] == ["sync"]
            assert await aio.table(Post).truncate() == 1

    asyncio.run(main())


def test_calls_never_run_on_the_loops_thread(connect: Any) -> None:
    seen: list[str] = []

    class Spy(Table, table="spies"):
        id: int | None = Field(default=None, primary_key=True)
        name: str

        def model_post_init(self, context: object) -> None:
            seen.append(threading.current_thread().name)

    async def main() -> None:
        with connect(schemas=[Spy], sync_schemas=True) as db:
            loop_thread = threading.current_thread().name
            seen.clear()
            await db.aio.table(Spy).insert({"name": "a"})
            await db.aio.table(Spy).find()
            assert seen and loop_thread not in seen

    asyncio.run(main())


def test_the_loop_goes_on_while_a_call_waits_for_a_lock(connect: Any) -> None:
    async def main() -> None:
        with connect(schemas=[Author], sync_schemas=True) as db:
            ticks = 0

            async def ticker() -> None:
                nonlocal ticks
                while True:
                    ticks += 1
                    await asyncio.sleep(0.005)

            holding = threading.Event()
            release = threading.Event()

            def hold_the_write_lock() -> None:
                with db.transaction():
                    if db.engine == "postgres":  # which has no database-wide write lock
                        db.raw("LOCK TABLE authors IN EXCLUSIVE MODE")
                    holding.set()
                    release.wait(5)

            holder = threading.Thread(target=hold_the_write_lock)
            holder.start()
            holding.wait(5)
            task = asyncio.create_task(ticker())
            insert = asyncio.create_task(db.aio.table(Author).insert({"name": "late"}))
            await asyncio.sleep(0.2)
            assert not insert.done() and ticks >= 10  # the loop ran while the insert waited
            release.set()
            assert (await insert).name == "late"
            task.cancel()
            holder.join(5)

    asyncio.run(main())


def test_async_transactions_commit_roll_back_and_nest(connect: Any) -> None:
    async def main() -> None:
        with connect(schemas=[Author, Post], sync_schemas=True) as db:
            authors = db.aio.table(Author)
            async with db.aio.transaction():
                ann = await authors.insert({"name": "Ann"})
                await db.aio.table(Post).insert({"author_id": ann.id, "title": "hi"})
                assert await authors.count() == 1
            with pytest.raises(Boom):
                async with db.aio.transaction():
                    await authors.insert({"name": "Gone"})
                    async with db.aio.transaction():  # a savepoint
                        await authors.insert({"name": "Gone too"})
                    raise Boom
            async with db.aio.transaction():
                await authors.insert({"name": "Kept"})
                with pytest.raises(Boom):
                    async with db.aio.transaction():
                        await authors.insert({"name": "Inner"})
                        raise Boom
            assert [a.name for a in await authors.find(order_by="id")] == ["Ann", "Kept"]

    asyncio.run(main())


def test_concurrent_tasks_and_transactions_keep_every_write_whole(connect: Any) -> None:
    async def main() -> None:
        with connect(schemas=[Author], sync_schemas=True) as db:
            authors = db.aio.table(Author)

            async def worker(n: int) -> int:
                done = 0
                for i in range(40):
                    if i % 4 == 0:
                        with pytest.raises(RowError):
                            await authors.insert_many([{"name": f"{n}-{i}"}, {"name": ""}])
                    elif i % 4 == 1:
                        with pytest.raises(Boom):
                            async with db.aio.transaction():
                                await authors.insert({"name": f"{n}-{i}"})
                                await asyncio.sleep(0)
                                raise Boom
                    else:
                        async with db.aio.transaction():
                            await authors.insert({"name": f"{n}-{i}-a"})
                            await asyncio.sleep(0)
                            await authors.insert({"name": f"{n}-{i}-b"})
                        done += 2
                return done

            written = await asyncio.gather(*(worker(n) for n in range(16)))
            assert await authors.count() == sum(written)
            names = {a.name for a in await authors.find()}
            assert all(name.endswith(("-a", "-b")) for name in names)

    asyncio.run(main())


def test_a_cancelled_transaction_is_rolled_back(connect: Any) -> None:
    async def main() -> None:
        with connect(schemas=[Author], sync_schemas=True) as db:
            entered = asyncio.Event()

            async def slow() -> None:
                async with db.aio.transaction():
                    await db.aio.table(Author).insert({"name": "never"})
                    entered.set()
                    await asyncio.sleep(10)

            task = asyncio.create_task(slow())
            await entered.wait()
            task.cancel()
            with pytest.raises(asyncio.CancelledError):
                await task
            assert await db.aio.table(Author).count() == 0
            await db.aio.table(Author).insert({"name": "after"})  # the lock was released
            assert await db.aio.table(Author).count() == 1

    asyncio.run(main())


def test_errors_come_through_as_they_are(connect: Any) -> None:
    async def main() -> None:
        with connect(schemas=[Author], sync_schemas=True) as db:
            with pytest.raises(RowError, match="name"):
                await db.aio.table(Author).insert({"name": ""})
            with pytest.raises(QueryError):
                await db.aio.table(Author).find(where={"nope": 1})

    asyncio.run(main())


async def slow_seed(ctx: MigrationContext) -> None:
    await asyncio.sleep(0.05)
    ctx.sql("INSERT INTO authors (name) VALUES ('seeded')")


async def unseed(ctx: MigrationContext) -> None:
    await asyncio.sleep(0)
    ctx.sql("DELETE FROM authors WHERE name = 'seeded'")


def test_async_migrations_run_through_the_async_path_without_blocking(connect: Any) -> None:
    async def main() -> None:
        with connect(
            schemas=[Author],
            migrations=[migration("0001_seed", up=slow_seed, down=unseed)],
        ) as db:
            ticks = 0

            async def ticker() -> None:
                nonlocal ticks
                while True:
                    ticks += 1
                    await asyncio.sleep(0.005)

            task = asyncio.create_task(ticker())
            start = time.monotonic()
            await db.aio.upgrade()
            assert time.monotonic() - start >= 0.05
            assert ticks >= 3  # the loop ran during the migration's own awaiting
            assert await db.aio.raw("SELECT name FROM authors") == [{"name": "seeded"}]
            assert await db.aio.migrate_down() == ["0001_seed"]
            assert await db.aio.migrate_up() == ["0001_seed"]
            task.cancel()

    asyncio.run(main())


def test_in_memory_databases_work_through_the_async_api() -> None:
    async def main() -> None:
        with database(schemas=[Author], connection=":memory:", sync_schemas=True) as db:
            authors = db.aio.table(Author)
            await asyncio.gather(*(authors.insert({"name": f"a{i}"}) for i in range(50)))
            async with db.aio.transaction():
                await authors.insert({"name": "t"})
            assert await authors.count() == 51

    asyncio.run(main())


def test_close_stops_the_workers(connect: Any) -> None:
    async def main() -> None:
        db = connect(schemas=[Author], sync_schemas=True)
        await db.aio.table(Author).count()
        await db.aio.close()
        assert not [t for t in threading.enumerate() if t.name.startswith("hedystia-aio")]

    asyncio.run(main())


def test_the_typing_module_imports() -> None:
    """``tests/typecheck/aio_types.py`` is checked by mypy in CI; here it must at least run."""
    from typecheck import aio_types

    assert asyncio.iscoroutinefunction(aio_types.the_async_api)
