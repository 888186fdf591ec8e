"""A FastAPI app on hedystia-models: ``uvicorn examples.fastapi_app.app:app``.

Users are served by plain ``def`` endpoints (FastAPI runs them on its thread pool, each thread
with its own SQLite connection), posts by ``async def`` endpoints through ``db.aio`` (the calls
run on the package's worker threads, never blocking the event loop). Both are the same database.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Annotated, TypeVar

from fastapi import Depends, FastAPI, HTTPException, Request, Response
from fastapi.responses import JSONResponse

from hedystia_models import Repository, RowError
from hedystia_models.aio import AsyncRepository

from .db import db
from .models import Post, PostIn, PostPatch, User, UserIn, UserPatch

T = TypeVar("T")


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    # Sync and migrate here rather than at import (database(..., sync_schemas=True,
    # run_migrations=True) in db.py would work too): importing the app changes nothing, a
    # failure stops the server before it accepts a request, with the error in its log, and
    # under `uvicorn --workers 4` each worker runs this; the first applies, the rest find
    # nothing to do (one fingerprint comparison).
    await db.aio.upgrade()
    yield
    await db.aio.close()


app = FastAPI(title="hedystia-models example", lifespan=lifespan)


@app.exception_handler(RowError)
async def row_error(request: Request, exc: RowError) -> JSONResponse:
    """A row the table refused (a validator, a unique email, an unknown user_id): nothing was
    written. Answered as FastAPI answers a bad body: 422, one entry per problem."""
    detail = [
        {"loc": ["body", field] if field else ["body"], "msg": message, "type": "row_error"}
        for _, field, message in exc.problems
    ]
    return JSONResponse(status_code=422, content={"detail": detail})


def found(value: T | None) -> T:
    """``value``, or a 404 when there is none (``None``, no row updated, none deleted)."""
    if not value:
        raise HTTPException(status_code=404, detail="not found")
    return value


async def users_repository() -> Repository[User]:
    return db.table(User)


async def posts_repository() -> AsyncRepository[Post]:
    return db.aio.table(Post)


Users = Annotated[Repository[User], Depends(users_repository)]
Posts = Annotated[AsyncRepository[Post], Depends(posts_repository)]


# -- users: sync endpoints -------------------------------------------------------------------


@app.post("/users", status_code=201)
def create_user(user: UserIn, users: Users) -> User:
    return users.insert(user.model_dump())


@app.get("/users")
def list_users(users: Users, limit: int = 100, offset: int = 0) -> list[User]:
    return users.find(order_by="id", limit=limit, offset=offset)


@app.get("/users/{user_id}")
def get_user(user_id: int, users: Users) -> User:
    return found(users.get(user_id))


@app.patch("/users/{user_id}")
def update_user(user_id: int, patch: UserPatch, users: Users) -> User:
    data = patch.model_dump(exclude_unset=True)
    return found(users.update(where={"id": user_id}, data=data))[0]


@app.delete("/users/{user_id}", status_code=204)
def delete_user(user_id: int, users: Users) -> Response:
    found(users.delete(where={"id": user_id}))  # and its posts: on_delete="cascade"
    return Response(status_code=204)


# -- posts: async endpoints ------------------------------------------------------------------


@app.post("/posts", status_code=201)
async def create_post(post: PostIn, posts: Posts) -> Post:
    return await posts.insert(post.model_dump())


@app.get("/posts/{post_id}")
async def get_post(post_id: int, posts: Posts) -> Post:
    return found(await posts.get(post_id))


@app.get("/users/{user_id}/posts")
async def list_user_posts(user_id: int, posts: Posts) -> list[Post]:
    return await posts.find(where={"user_id": user_id}, order_by="-id")


@app.patch("/posts/{post_id}")
async def update_post(post_id: int, patch: PostPatch, posts: Posts) -> Post:
    data = patch.model_dump(exclude_unset=True)
    return found(await posts.update(where={"id": post_id}, data=data))[0]


@app.delete("/posts/{post_id}", status_code=204)
async def delete_post(post_id: int, posts: Posts) -> Response:
    found(await posts.delete(where={"id": post_id}))
    return Response(status_code=204)
