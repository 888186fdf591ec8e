"""The read cache (issue 13): ``database(..., cache=...)`` keeps the results of reads for a
while, hands out copies, and forgets a table's results at every write to it through the
package (and at a raw write, a migration, ``cache_clear()``)."""

from __future__ import annotations

import asyncio
import os
import sqlite3
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from hedystia_models import (
    Cache,
    ConfigurationError,
    Database,
    Field,
    Repository,
    Table,
    database,
    migration,
)
from hedystia_models.rows.cache import MISS, TableCache, query_key


class User(Table, table="users"):
    id: int | None = Field(default=None, primary_key=True, auto_increment=True)
    name: str
    email: str | None = Field(default=None, unique=True)
    tags: list[str] = []
    extra: list[Any] = []


class Post(Table, table="posts"):
    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(references=User, on_delete="cascade")
    title: str


class Comment(Table, table="comments"):
    id: int | None = Field(default=None, primary_key=True)
    post_id: int = Field(references=Post, on_delete="cascade")
    text: str


MODELS = [User, Post, Comment]


class Clock:
    """A clock the test moves by hand."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def db(db_path: Path, clock: Clock) -> Iterator[Database]:
    cache = Cache(ttl=10, max_lifetime=30, max_entries=100, clock=clock)
    with database(schemas=MODELS, connection=db_path, sync_schemas=True, cache=cache) as db:
        yield db


@pytest.fixture
def users(db: Database) -> Repository[User]:
    users = db.table(User)
    users.insert_many([{"name": "Ann", "email": "ann@x"}, {"name": "Bob"}])
    return users


def behind(db: Database, sql: str, params: tuple[Any, ...] = ()) -> None:
    """Write with another connection, as another tool would: the cache does not see it."""
    conn = sqlite3.connect(db.path)
    try:
        conn.execute(sql, params)
        conn.commit()
    finally:
        conn.close()


def names(users: Repository[User], **kwargs: Any) -> list[str]:
    return [u.name for u in users.find(order_by="id", **kwargs)]


# -- what is cached ------------------------------------------------------------------------------


def test_without_cache_every_read_goes_to_the_database(db_path: Path) -> None:
    with database(schemas=MODELS, connection=db_path, sync_schemas=True) as db:
        users = db.table(User)
        users.insert({"name": "Ann"})
        assert names(users) == ["Ann"]
        behind(db, "UPDATE users SET name = 'Changed'")
        assert names(users) == ["Changed"]


def test_reads_are_served_from_the_cache(db: Database, users: Repository[User]) -> None:
    assert names(users) == ["Ann", "Bob"]
    assert users.get(1) == User(id=1, name="Ann", email="ann@x")
    assert users.find_first(where={"name": "Bob"}) is not None
    assert users.count() == 2 and users.exists(where={"name": "Bob"})
    behind(db, "UPDATE users SET name = name || '!'")
    behind(db, "INSERT INTO users (name) VALUES ('Cy')")
    assert names(users) == ["Ann", "Bob"]  # cached
    assert users.get(1) == User(id=1, name="Ann", email="ann@x")
    assert users.find_first(where={"name": "Bob"}) is not None
    assert users.count() == 2 and users.exists(where={"name": "Bob"})
    # Another query is another entry, read now.
    assert names(users, limit=10) == ["Ann!", "Bob!", "Cy"]
    assert users.count(where={}) == 3


def test_each_argument_is_part_of_the_key(db: Database, users: Repository[User]) -> None:
    queries: list[dict[str, Any]] = [
        {},
        {"where": {"name": "Ann"}},
        {"where": {"name": {"eq": "Ann"}}},
        {"where": {"name": "Ann", "id": 1}},
        {"order_by": "-id"},
        {"limit": 1},
        {"limit": 1, "offset": 1},
    ]
    first = [users.find(**q) for q in queries]
    behind(db, "UPDATE users SET name = 'X'")
    assert [users.find(**q) for q in queries] == first  # each came from its own entry
    assert users.find(order_by="name") != first[0]  # a new key: read now


def test_values_that_python_finds_equal_are_different_keys(db: Database) -> None:
    users = db.table(User)
    users.insert_many([{"name": "one", "extra": [1]}, {"name": "true", "extra": [True]}])
    assert [u.name for u in users.find(where={"extra": {"eq": [1]}})] == ["one"]
    assert [u.name for u in users.find(where={"extra": {"eq": [True]}})] == ["true"]
    assert [u.name for u in users.find(where={"extra": {"eq": [1.0]}})] == []  # JSON: 1.0


def test_a_read_with_relations_is_not_cached_and_select_is(
    db: Database, users: Repository[User]
) -> None:
    posts = db.table(Post)
    posts.insert({"user_id": 1, "title": "t"})
    (ann,) = users.find(where={"id": 1}, with_={"posts": True})
    assert [p.title for p in ann.posts] == ["t"]  # type: ignore[attr-defined]
    assert [p.name for p in users.find(where={"id": 1}, select=["name"])] == ["Ann"]
    behind(db, "UPDATE posts SET title = 'changed'")
    behind(db, "UPDATE users SET name = 'Changed'")
    (ann,) = users.find(where={"id": 1}, with_={"posts": True})  # posts are another table
    assert [p.title for p in ann.posts] == ["changed"]  # type: ignore[attr-defined]
    assert [p.name for p in users.find(where={"id": 1}, select=["name"])] == ["Ann"]  # cached
    first = users.find_first(where={"id": 1}, select=["name"])
    assert first is not None and first.name == "Changed"  # another query: read now
    behind(db, "UPDATE users SET name = 'Again'")
    first = users.find_first(where={"id": 1}, select=["name"])
    assert first is not None and first.name == "Changed"  # then cached

    async def through_aio() -> list[str]:
        found = await db.aio.table(User).find(where={"id": 1}, select=["name"])
        return [p.name for p in found]

    assert asyncio.run(through_aio()) == ["Ann"]  # the same query as the sync find: cached


def test_a_where_with_values_the_key_cannot_hold_is_not_cached(db: Database) -> None:
    class Odd:
        pass

    assert query_key("find", {"where": {"name": Odd()}}) is None
    assert query_key("find", {"where": {"name": ["a", {"b": {1, 2}}]}}) is not None


def test_results_are_copies(db: Database, users: Repository[User]) -> None:
    (ann,) = users.find(where={"name": "Ann"})
    ann.name = "changed"
    ann.tags.append("mutated")
    again = users.find(where={"name": "Ann"})
    assert again == [User(id=1, name="Ann", email="ann@x")]
    once_more = users.find(where={"name": "Ann"})
    assert once_more[0] is not again[0] and once_more[0].tags is not again[0].tags
    again[0].tags.append("x")
    assert users.find(where={"name": "Ann"})[0].tags == []


# -- time and size ---------------------------------------------------------------------------------


def test_an_entry_expires_after_ttl_without_a_hit(
    db: Database, users: Repository[User], clock: Clock
) -> None:
    assert names(users) == ["Ann", "Bob"]
    behind(db, "UPDATE users SET name = 'X'")
    clock.now += 9.9
    assert names(users) == ["Ann", "Bob"]
    clock.now += 10  # 10 s after that hit
    assert names(users) == ["X", "X"]


def test_each_hit_extends_the_ttl_up_to_the_maximum_lifetime(
    db: Database, users: Repository[User], clock: Clock
) -> None:
    start = clock.now
    assert names(users) == ["Ann", "Bob"]
    behind(db, "UPDATE users SET name = 'X'")
    for at in (9, 18, 27, 29.9):  # each within 10 s of the last hit
        clock.now = start + at
        assert names(users) == ["Ann", "Bob"], at
    clock.now = start + 30  # 30 s after it was read: gone, however often it was hit
    assert names(users) == ["X", "X"]


def test_the_number_of_entries_is_bounded_least_recently_used_first(db_path: Path) -> None:
    cache = Cache(max_entries=2)
    with database(schemas=MODELS, connection=db_path, sync_schemas=True, cache=cache) as db:
        users = db.table(User)
        users.insert_many([{"name": "a"}, {"name": "b"}, {"name": "c"}])
        a, b, c = ({"id": n} for n in (1, 2, 3))
        users.find(where=a)
        users.find(where=b)
        users.find(where=a)  # a is now the most recently used
        users.find(where=c)  # evicts b
        behind(db, "UPDATE users SET name = upper(name)")
        assert [u.name for u in users.find(where=a)] == ["a"]
        assert [u.name for u in users.find(where=c)] == ["c"]
        assert [u.name for u in users.find(where=b)] == ["B"]  # read again


def test_the_table_cache_directly(clock: Clock) -> None:
    cache = TableCache(Cache(ttl=5, max_lifetime=8, max_entries=2, clock=clock))
    generation = cache.generation
    cache.put("a", 1, generation)
    assert cache.get("a") == 1 and cache.get("b") is MISS
    stale = cache.generation
    cache.invalidate()
    assert cache.get("a") is MISS
    cache.put("a", 2, stale)  # read before the write: not kept
    assert cache.get("a") is MISS
    cache.put("a", 3, cache.generation)
    clock.now += 4.9
    assert cache.get("a") == 3
    clock.now += 3.1  # 8 s in all
    assert cache.get("a") is MISS
    assert len(cache) == 0


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"ttl": 0}, "ttl must be a positive number of seconds"),
        ({"ttl": "1"}, "ttl must be a positive number of seconds"),
        ({"ttl": 10, "max_lifetime": 5}, "max_lifetime must be a number of seconds, at least ttl"),
        ({"max_entries": 0}, "max_entries must be a positive integer"),
        ({"max_entries": True}, "max_entries must be a positive integer"),
        ({"clock": 3}, "clock must be a callable returning seconds"),
    ],
)
def test_cache_settings_are_checked(options: dict[str, Any], message: str) -> None:
    with pytest.raises(ConfigurationError, match=message):
        Cache(**options)


# -- configuration ----------------------------------------------------------------------------


def test_cache_per_table(db_path: Path) -> None:
    with database(
        schemas=MODELS, connection=db_path, sync_schemas=True, cache={"posts": True, User: Cache()}
    ) as db:
        db.table(User).insert({"name": "Ann"})
        db.table(Post).insert({"user_id": 1, "title": "t"})
        db.table(Comment).insert({"post_id": 1, "text": "c"})
        for table in ("users", "posts", "comments"):
            assert db[table].count() == 1
        behind(db, "DELETE FROM comments")
        behind(db, "DELETE FROM posts")
        behind(db, "DELETE FROM users")
        assert db.table(User).count() == 1 and db.table(Post).count() == 1  # cached
        assert db.table(Comment).count() == 0  # not cached


@pytest.mark.parametrize(
    ("cache", "message"),
    [
        ({"nope": True}, "cache= names 'nope', which is no table of this database"),
        ({"users": 5}, "cache= for 'users' must be True, False, None or a Cache"),
        ("yes", "cache= must be True, False, None, a Cache or a dict of them by table"),
    ],
)
def test_cache_configuration_is_checked(db_path: Path, cache: Any, message: str) -> None:
    with pytest.raises(ConfigurationError, match=message):
        database(schemas=MODELS, connection=db_path, cache=cache)


def test_cache_false_and_none_mean_no_cache(db_path: Path) -> None:
    for cache in (False, None, {"users": False}):
        with database(schemas=MODELS, connection=db_path, sync_schemas=True, cache=cache) as db:
            users = db.table(User)
            users.truncate()
            users.insert({"name": "Ann"})
            assert users.count() == 1
            behind(db, "DELETE FROM users")
            assert users.count() == 0


# -- invalidation ---------------------------------------------------------------------------------


WRITES: dict[str, Any] = {
    "insert": lambda u: u.insert({"name": "Cy"}),
    "insert_many": lambda u: u.insert_many([{"name": "Cy"}]),
    "update": lambda u: u.update(where={"name": "Bob"}, data={"name": "Cy"}),
    "delete": lambda u: u.delete(where={"name": "Bob"}),
    "delete an instance": lambda u: u.delete(User(id=2, name="Bob")),
    "upsert, one statement": lambda u: u.upsert(
        where={"email": "cy@x"}, create={"name": "Cy", "email": "cy@x"}, update={}
    ),
    "upsert, lookup": lambda u: u.upsert(
        where={"name": "Bob"}, create={"name": "Bob"}, update={"name": "Cy"}
    ),
    "save": lambda u: u.save(User(id=2, name="Cy")),
    "save a new row": lambda u: u.save(User(name="Cy")),
    "truncate": lambda u: u.truncate(),
}


@pytest.mark.parametrize("write", list(WRITES), ids=list(WRITES))
def test_every_write_forgets_the_table(db: Database, users: Repository[User], write: str) -> None:
    before = (names(users), users.count(), users.exists(where={"name": "Cy"}))
    WRITES[write](users)
    fresh = database(schemas=MODELS, connection=db.path)
    try:
        expected = (
            names(fresh.table(User)),
            fresh.table(User).count(),
            fresh.table(User).exists(where={"name": "Cy"}),
        )
    finally:
        fresh.close()
    assert expected != before
    assert (names(users), users.count(), users.exists(where={"name": "Cy"})) == expected


def test_a_failed_write_leaves_the_cache_right(db: Database, users: Repository[User]) -> None:
    assert users.count() == 2
    with pytest.raises(Exception, match="UNIQUE"):
        users.insert({"name": "Dup", "email": "ann@x"})
    assert users.count() == 2


def test_a_write_forgets_the_tables_whose_foreign_keys_act_on_it(
    db: Database, users: Repository[User]
) -> None:
    posts, comments = db.table(Post), db.table(Comment)
    posts.insert({"user_id": 1, "title": "t"})
    comments.insert({"post_id": 1, "text": "c"})
    assert posts.count() == 1 and comments.count() == 1
    users.delete(where={"id": 1})  # ON DELETE CASCADE, two levels down
    assert posts.count() == 0 and comments.count() == 0


def test_a_raw_write_forgets_everything_a_raw_read_nothing(
    db: Database, users: Repository[User]
) -> None:
    assert users.count() == 2
    assert db.raw("SELECT count(*) AS n FROM users") == [{"n": 2}]
    behind(db, "DELETE FROM users WHERE id = 2")
    assert users.count() == 2  # still cached: a raw read changes nothing
    db.raw("UPDATE users SET name = 'raw' WHERE id = 1")
    assert users.count() == 1 and names(users) == ["raw"]
    behind(db, "DELETE FROM users")
    assert users.count() == 1
    db.raw("DELETE FROM posts")  # no row changed: the cache stays
    assert users.count() == 1


def test_a_closed_database_is_closed_for_cached_reads_too(
    db: Database, users: Repository[User]
) -> None:
    from hedystia_models import DatabaseFileError

    assert users.count() == 2
    db.close()
    with pytest.raises(DatabaseFileError, match="is closed"):
        users.count()


def test_cache_clear(db: Database, users: Repository[User]) -> None:
    assert users.count() == 2
    behind(db, "DELETE FROM users")
    assert users.count() == 2
    db.cache_clear()
    assert users.count() == 0


def test_migrations_clear_the_cache(db_path: Path) -> None:
    wipe = migration("wipe", up=lambda ctx: ctx.sql("DELETE FROM users"))
    with database(
        schemas=MODELS, connection=db_path, sync_schemas=True, migrations=[wipe], cache=True
    ) as db:
        db.table(User).insert({"name": "Ann"})
        assert db.table(User).count() == 1
        db.migrate_up()
        assert db.table(User).count() == 0


# -- transactions ----------------------------------------------------------------------------


def test_reads_inside_a_transaction_neither_use_nor_fill_the_cache(
    db: Database, users: Repository[User]
) -> None:
    assert users.count() == 2
    with pytest.raises(RuntimeError), db.transaction():
        users.insert({"name": "Cy"})
        assert users.count() == 3  # its own write, not the cached 2
        assert names(users) == ["Ann", "Bob", "Cy"]
        raise RuntimeError  # rolled back
    assert users.count() == 2
    assert names(users) == ["Ann", "Bob"]  # not the 3 rows read inside


def test_a_commit_forgets_what_others_read_meanwhile(db: Database, users: Repository[User]) -> None:
    inside, done = threading.Event(), threading.Event()
    assert users.count() == 2

    def writer() -> None:
        with db.transaction():
            users.insert({"name": "Cy"})
            inside.set()
            done.wait(10)

    thread = threading.Thread(target=writer)
    thread.start()
    assert inside.wait(10)
    assert users.count() == 2  # committed state, cached again by this thread
    assert names(users) == ["Ann", "Bob"]
    done.set()
    thread.join()
    assert users.count() == 3 and names(users) == ["Ann", "Bob", "Cy"]


def test_the_async_api_is_cached_too(db: Database, users: Repository[User]) -> None:
    async def main() -> None:
        aio_users = db.aio.table(User)
        assert await aio_users.count() == 2
        behind(db, "DELETE FROM users")
        assert await aio_users.count() == 2
        await aio_users.insert({"name": "Cy"})
        assert await aio_users.count() == 1
        async with db.aio.transaction():
            await aio_users.insert({"name": "Dee"})
        assert await aio_users.count() == 2

    asyncio.run(main())


def test_threads_always_read_what_is_committed(db_path: Path) -> None:
    with database(schemas=MODELS, connection=db_path, sync_schemas=True, cache=Cache(ttl=60)) as db:
        users = db.table(User)
        errors: list[BaseException] = []

        def work(n: int) -> None:
            try:
                for i in range(60):
                    before = users.count(where={"email": {"like": f"{n}-%"}})
                    assert before == i
                    users.insert({"name": "x", "email": f"{n}-{i}"})
                    assert users.count(where={"email": {"like": f"{n}-%"}}) == i + 1
                    users.count()
                    if i % 10 == 0:
                        users.update(where={"email": f"{n}-{i}"}, data={"name": "y"})
            except BaseException as exc:  # pragma: no cover - reported below
                errors.append(exc)

        threads = [threading.Thread(target=work, args=(n,)) for n in range(8)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert errors == []
        assert users.count() == 480
        assert users.count(where={"name": "y"}) == 48


@pytest.mark.skipif(not hasattr(os, "fork"), reason="fork is POSIX")
def test_a_forked_child_starts_with_an_empty_cache(db: Database, users: Repository[User]) -> None:
    """``gunicorn --preload``: the parent read (and cached) before the worker forked."""
    assert users.count() == 2
    behind(db, "DELETE FROM users WHERE id = 2")
    assert users.count() == 2  # the parent's cache
    pid = os.fork()
    if pid == 0:  # the child: exit code 0 only when all went well
        code = 1
        try:
            code = 0 if users.count() == 1 else 3
        finally:
            os._exit(code)
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0
    assert users.count() == 2  # the parent's cache is the parent's


def test_a_where_on_related_rows_is_not_cached(tmp_path: Path) -> None:
    """Such a read depends on another table, whose writes would not forget it."""

    class Owner(Table, table="owners"):
        id: int | None = Field(default=None, primary_key=True)
        name: str

    class Pet(Table, table="pets"):
        id: int | None = Field(default=None, primary_key=True)
        owner_id: int = Field(references=Owner)
        kind: str

    with database(
        schemas=[Owner, Pet], connection=tmp_path / "c.db", sync_schemas=True, cache=True
    ) as db:
        owners, pets = db.table(Owner), db.table(Pet)
        owners.insert({"name": "Ann"})
        with_cats = {"pets": {"kind": "cat"}}
        assert owners.count(where=with_cats) == 0
        pets.insert({"owner_id": 1, "kind": "cat"})
        assert owners.count(where=with_cats) == 1
        assert [o.name for o in owners.find(where=with_cats)] == ["Ann"]
        pets.delete(where={})
        assert owners.find(where=with_cats) == []
