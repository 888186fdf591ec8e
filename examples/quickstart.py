"""Quickstart: two related tables, synced into a SQLite file, validated rows in and out.

Run it twice: the second run finds the schema already in sync and the rows already there.
"""

from __future__ import annotations

import sys
from datetime import datetime

from hedystia_models import Field, Table, database, utcnow


class User(Table, table="users"):
    id: int | None = Field(default=None, primary_key=True, auto_increment=True)
    name: str = Field(max_length=255)
    email: str | None = Field(default=None, unique=True)
    is_active: bool = True


class Post(Table, table="posts"):
    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(references=User, on_delete="cascade", index=True)
    title: str
    tags: list[str] = []
    created_at: datetime = Field(default_factory=utcnow)


def main(path: str = "quickstart.db") -> None:
    db = database(schemas=[User, Post], connection={"filename": path}, sync_schemas=True)
    with db:
        users = db.table(User)
        posts = db.table(Post)
        ann = users.find_first(where={"email": "ann@example.com"})
        if ann is None:
            ann = users.insert({"name": "Ann", "email": "ann@example.com"})
            posts.insert_many(
                [
                    {"user_id": ann.id, "title": "Hello", "tags": ["intro"]},
                    {"user_id": ann.id, "title": "Second post"},
                ]
            )
        print(f"schema in sync: {db.plan().in_sync}")
        print(ann)
        for post in posts.find(where={"user_id": ann.id}, order_by="id"):
            print(post)


if __name__ == "__main__":
    main(*sys.argv[1:])
