"""examples/fastapi_app through FastAPI's TestClient: CRUD on sync and async endpoints, bad
input as 422s naming the field, and many requests at once from threads and from coroutines."""

from __future__ import annotations

import asyncio
import importlib
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType

import httpx2
import pytest
from fastapi.testclient import TestClient

ROOT = Path(__file__).resolve().parent.parent
THREADS = 8
REQUESTS_PER_THREAD = 50  # half creates, half reads
TASKS = 100  # each a create and a read


@pytest.fixture
def example(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[ModuleType]:
    """The example's app module, imported afresh on a database file of its own."""
    monkeypatch.setenv("APP_DATABASE", str(tmp_path / "app.db"))
    monkeypatch.syspath_prepend(str(ROOT))
    for name in [n for n in sys.modules if n == "examples" or n.startswith("examples.")]:
        monkeypatch.delitem(sys.modules, name)
    module = importlib.import_module("examples.fastapi_app.app")
    yield module
    module.db.close()


@pytest.fixture
def client(example: ModuleType) -> Iterator[TestClient]:
    """A client with the app started (its lifespan syncs and migrates) and stopped after."""
    with TestClient(example.app) as started:
        yield started


def test_importing_the_app_changes_nothing_until_it_starts(example: ModuleType) -> None:
    db = example.db
    assert db.raw("SELECT name FROM sqlite_master WHERE type = 'table'") == []
    with TestClient(example.app):
        assert db.plan().in_sync
        assert db.check() == []
        assert [entry.name for entry in db.history() if entry.kind == "migration"] == [
            "lowercase_emails"
        ]
        assert db.raw("PRAGMA journal_mode") == [{"journal_mode": "wal"}]


def test_users_crud_through_sync_endpoints(client: TestClient) -> None:
    created = client.post("/users", json={"name": "Ann", "email": "Ann@Example.com"})
    assert created.status_code == 201
    ann = created.json()
    assert ann == {"id": 1, "name": "Ann", "email": "ann@example.com"}  # the validator ran

    assert client.get("/users/1").json() == ann
    assert client.get("/users").json() == [ann]

    changed = client.patch("/users/1", json={"name": "Anna"})
    assert changed.status_code == 200
    assert changed.json() == {**ann, "name": "Anna"}
    assert client.get("/users/1").json()["name"] == "Anna"

    assert client.delete("/users/1").status_code == 204
    assert client.get("/users/1").status_code == 404
    assert client.patch("/users/1", json={"name": "Bo"}).status_code == 404
    assert client.delete("/users/1").status_code == 404


def test_posts_crud_through_async_endpoints(client: TestClient) -> None:
    user = client.post("/users", json={"name": "Bo", "email": "bo@example.com"}).json()
    created = client.post("/posts", json={"user_id": user["id"], "title": "Hello"})
    assert created.status_code == 201
    post = created.json()
    assert post["id"] == 1 and post["body"] == "" and post["created_at"]

    assert client.get("/posts/1").json() == post
    second = client.post("/posts", json={"user_id": user["id"], "title": "Again"}).json()
    listed = client.get(f"/users/{user['id']}/posts").json()
    assert [p["title"] for p in listed] == ["Again", "Hello"]

    changed = client.patch("/posts/1", json={"body": "first!"})
    assert changed.json() == {**post, "body": "first!"}

    assert client.delete(f"/posts/{second['id']}").status_code == 204
    assert client.get(f"/posts/{second['id']}").status_code == 404
    assert client.delete(f"/posts/{second['id']}").status_code == 404

    # Deleting the user (a sync endpoint) takes its posts along: on_delete="cascade".
    assert client.delete(f"/users/{user['id']}").status_code == 204
    assert client.get("/posts/1").status_code == 404


def fields_of(response: httpx2.Response) -> list[str]:
    """The field each problem of a 422 names."""
    assert response.status_code == 422, response.text
    return [problem["loc"][-1] for problem in response.json()["detail"]]


def test_bad_input_is_a_422_naming_the_field(client: TestClient) -> None:
    # The body is the table's own fields: FastAPI validates it with the table's rules.
    assert fields_of(client.post("/users", json={"name": "", "email": "a@x"})) == ["name"]
    assert fields_of(client.post("/users", json={"name": "x" * 101, "email": "a@x"})) == ["name"]

    # What only the database can tell: a RowError from the repository, mapped to a 422.
    client.post("/users", json={"name": "Ann", "email": "ann@example.com"})
    duplicate = client.post("/users", json={"name": "Ann 2", "email": "ANN@example.com"})
    assert fields_of(duplicate) == ["email"]
    assert duplicate.json()["detail"][0]["msg"] == "UNIQUE constraint failed: users.email"

    orphan = client.post("/posts", json={"user_id": 99, "title": "Hi"})
    assert fields_of(orphan) == ["user_id"]
    assert "FOREIGN KEY" in orphan.json()["detail"][0]["msg"]

    # A PATCH body is checked by the table when it is written (sync and async endpoints).
    assert fields_of(client.patch("/users/1", json={"name": None})) == ["name"]
    assert fields_of(client.patch("/users/1", json={"name": "x" * 101})) == ["name"]
    client.post("/posts", json={"user_id": 1, "title": "Hi"})
    assert fields_of(client.patch("/posts/1", json={"title": ""})) == ["title"]

    assert client.get("/users/1").json()["name"] == "Ann"  # nothing was written
    assert client.get("/posts/1").json()["title"] == "Hi"


def test_many_requests_at_once_from_threads_and_coroutines(
    example: ModuleType, client: TestClient
) -> None:
    app = example.app
    created: list[int] = []
    failures: list[BaseException] = []
    start = threading.Barrier(THREADS)

    def worker(n: int) -> None:
        # A TestClient per thread (one is not meant to be shared by threads); without `with`,
        # it does not run the lifespan again.
        local = TestClient(app)
        try:
            start.wait()
            for i in range(REQUESTS_PER_THREAD // 2):
                body = {"name": f"user {n}-{i}", "email": f"u{n}-{i}@example.com"}
                response = local.post("/users", json=body)
                assert response.status_code == 201, response.text
                user = response.json()
                assert local.get(f"/users/{user['id']}").json() == user
                created.append(user["id"])
        except BaseException as exc:  # reported by the main thread
            failures.append(exc)

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not failures, failures[0]
    assert len(set(created)) == THREADS * REQUESTS_PER_THREAD // 2

    # Coroutines: TASKS posts created and read at once through the async endpoints, on one
    # event loop.
    author = created[0]

    async def post_all() -> list[httpx2.Response]:
        transport = httpx2.ASGITransport(app=app)
        async with httpx2.AsyncClient(transport=transport, base_url="http://test") as http:

            async def one(i: int) -> httpx2.Response:
                response = await http.post("/posts", json={"user_id": author, "title": f"#{i}"})
                assert response.status_code == 201, response.text
                return await http.get(f"/posts/{response.json()['id']}")

            return await asyncio.gather(*(one(i) for i in range(TASKS)))

    posts = asyncio.run(post_all())
    assert all(r.status_code == 200 for r in posts)

    # Every row written is there, once.
    users = client.get("/users", params={"limit": 10_000}).json()
    assert sorted(u["id"] for u in users) == sorted(created)
    titles = [p["title"] for p in client.get(f"/users/{author}/posts").json()]
    assert sorted(titles) == sorted(f"#{i}" for i in range(TASKS))
    assert example.db.raw("SELECT count(*) AS n FROM posts") == [{"n": TASKS}]
