"""Benchmark: loading rows with their related rows (``with_=``), as ratios measured in one run.

Every contender loads all of ``--users`` users (1,000) with their ``--posts`` posts each (20)
from one database file, as validated objects:

* ``floor``: plain ``sqlite3``, hand-written: one ``SELECT`` of the users, one of their posts
  (``WHERE user_id IN (...)``), the posts grouped by user in Python, and the nested dicts
  validated with ``TypeAdapter(list[UserOut])`` (``UserOut`` a Pydantic model with
  ``posts: list[PostOut]``): the least a validated two-query load can cost;
* ``hedystia``: ``db.table(User).find(with_={"posts": True})``;
* ``sqlmodel``: ``session.exec(select(User).options(selectinload(User.posts))).all()`` on a
  fresh ``Session`` (SQLAlchemy's two-query eager load; its objects are not validated).

The target: hedystia / floor <= 1.2, and faster than SQLModel.

Usage: ``python benchmarks/bench_relations.py [--users N] [--posts M] [--repeat R] [--check]``.
With ``--check`` the script exits 1 when a target is missed.
"""

# No ``from __future__ import annotations``: SQLModel resolves ``list["SQLPost"]`` itself.
import argparse
import gc
import sqlite3
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, Optional

import pydantic
from sqlalchemy.orm import selectinload
from sqlmodel import Field as SQLField
from sqlmodel import Relationship, Session, SQLModel, create_engine, select

from hedystia_models import Field, Table, database

FLOOR_TARGET = 1.2  # hedystia / floor, at most
PEER_TARGET = 1.0  # hedystia / sqlmodel, below


class User(Table, table="users"):
    id: int | None = Field(default=None, primary_key=True)
    name: str
    email: str
    active: bool = True


class Post(Table, table="posts"):
    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(references=User, index=True)
    title: str
    body: str
    score: int = 0
    published: bool = False


class PostOut(pydantic.BaseModel):
    id: int
    user_id: int
    title: str
    body: str
    score: int
    published: bool


class UserOut(pydantic.BaseModel):
    id: int
    name: str
    email: str
    active: bool
    posts: list[PostOut]


_USERS_OUT = pydantic.TypeAdapter(list[UserOut])


class SQLUser(SQLModel, table=True):
    __tablename__ = "users"
    id: Optional[int] = SQLField(default=None, primary_key=True)  # noqa: UP045 (SQLModel)
    name: str
    email: str
    active: bool = True
    posts: list["SQLPost"] = Relationship(back_populates="user")


class SQLPost(SQLModel, table=True):
    __tablename__ = "posts"
    id: Optional[int] = SQLField(default=None, primary_key=True)  # noqa: UP045 (SQLModel)
    user_id: int = SQLField(foreign_key="users.id", index=True)
    title: str
    body: str
    score: int = 0
    published: bool = False
    user: Optional[SQLUser] = Relationship(back_populates="posts")  # noqa: UP045 (SQLModel)


USER_COLUMNS = ("id", "name", "email", "active")
POST_COLUMNS = ("id", "user_id", "title", "body", "score", "published")


def fill(path: Path, users: int, posts: int) -> None:
    with database(schemas=[User, Post], connection=path, sync_schemas=True) as db:
        db.table(User).insert_many(
            [{"name": f"user {u}", "email": f"u{u}@example.com"} for u in range(users)]
        )
        db.table(Post).insert_many(
            [
                {
                    "user_id": u,
                    "title": f"post {u}-{n}",
                    "body": "lorem ipsum " * 4,
                    "score": (u * 31 + n) % 100,
                    "published": n % 2 == 0,
                }
                for u in range(1, users + 1)
                for n in range(posts)
            ]
        )


def floor(conn: sqlite3.Connection) -> list[UserOut]:
    users = conn.execute(f"SELECT {', '.join(USER_COLUMNS)} FROM users").fetchall()
    by_user: dict[int, list[dict[str, Any]]] = {}
    rows = [dict(zip(USER_COLUMNS, row, strict=True)) for row in users]
    for row in rows:
        row["posts"] = by_user.setdefault(row["id"], [])
    ids = [row["id"] for row in rows]
    marks = ", ".join("?" * len(ids))
    posts = conn.execute(
        f"SELECT {', '.join(POST_COLUMNS)} FROM posts WHERE user_id IN ({marks})",
        ids,
    ).fetchall()
    for post in posts:
        by_user[post[1]].append(dict(zip(POST_COLUMNS, post, strict=True)))
    return _USERS_OUT.validate_python(rows)


def best_of(times: list[float]) -> float:
    return min(times)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="loading users with their posts")
    parser.add_argument("--users", type=int, default=1_000)
    parser.add_argument("--posts", type=int, default=20)
    parser.add_argument("--repeat", type=int, default=7)
    parser.add_argument("--check", action="store_true", help="fail when a target is missed")
    args = parser.parse_args(argv)
    expected = args.users * args.posts
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "relations.db"
        fill(path, args.users, args.posts)
        conn = sqlite3.connect(path)
        db = database(schemas=[User, Post], connection=path)
        users = db.table(User)
        engine = create_engine(f"sqlite:///{path}")

        def run_floor() -> int:
            return sum(len(u.posts) for u in floor(conn))

        def run_hedystia() -> int:
            return sum(len(u.posts) for u in users.find(with_={"posts": True}))  # type: ignore[attr-defined]

        def run_sqlmodel() -> int:
            with Session(engine) as session:
                found = session.exec(select(SQLUser).options(selectinload(SQLUser.posts))).all()  # type: ignore[arg-type]
                return sum(len(u.posts) for u in found)

        contenders: dict[str, Callable[[], int]] = {
            "floor": run_floor,
            "hedystia": run_hedystia,
            "sqlmodel": run_sqlmodel,
        }
        timings: dict[str, list[float]] = {name: [] for name in contenders}
        for _ in range(args.repeat):
            for name, run in contenders.items():  # interleaved: drift hits all alike
                gc.collect()
                start = time.perf_counter()
                loaded = run()
                timings[name].append(time.perf_counter() - start)
                assert loaded == expected, (name, loaded, expected)
        db.close()
        conn.close()
        engine.dispose()
    best = {name: best_of(times) for name, times in timings.items()}
    print(
        f"{args.users:,} users x {args.posts} posts, all users with their posts, best of "
        f"{args.repeat} (median in brackets):"
    )
    for name, seconds in best.items():
        median = statistics.median(timings[name])
        print(
            f"  {name:<10} {seconds * 1000:8.1f} ms  [{median * 1000:8.1f} ms]  "
            f"{seconds / best['floor']:5.2f}x floor  {seconds / best['sqlmodel']:5.2f}x sqlmodel"
        )
    to_floor = best["hedystia"] / best["floor"]
    to_peer = best["hedystia"] / best["sqlmodel"]
    floor_ok, peer_ok = to_floor <= FLOOR_TARGET, to_peer < PEER_TARGET
    print(
        f"hedystia / floor = {to_floor:.3f} ({'within' if floor_ok else 'OVER'} the "
        f"{FLOOR_TARGET}x target)"
    )
    print(
        f"hedystia / sqlmodel = {to_peer:.3f} ({'faster' if peer_ok else 'NOT faster'} than "
        "SQLModel)"
    )
    return 1 if args.check and not (floor_ok and peer_ok) else 0


if __name__ == "__main__":
    sys.exit(main())
