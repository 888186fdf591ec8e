"""The tables, declared once: they are the schema, the validation and the API's JSON shapes."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, field_validator

from hedystia_models import Field, Table, utcnow


class UserIn(Table, abstract=True):
    """What a client sends to create a user (abstract: not a table itself)."""

    name: str = Field(min_length=1, max_length=100)
    email: str = Field(max_length=255, unique=True)

    @field_validator("email")
    @classmethod
    def lower_case(cls, email: str) -> str:
        return email.lower()


class User(UserIn, table="users"):
    id: int | None = Field(default=None, primary_key=True, auto_increment=True)


class PostIn(Table, abstract=True):
    """What a client sends to create a post."""

    user_id: int = Field(references=User, on_delete="cascade", index=True)
    title: str = Field(min_length=1, max_length=200)
    body: str = ""


class Post(PostIn, table="posts"):
    id: int | None = Field(default=None, primary_key=True)
    created_at: datetime = Field(default_factory=utcnow)


class UserPatch(BaseModel):
    """A PATCH body: the fields to change. The table's own rules (lengths, the validator, the
    unique email) are applied when the repository writes them: a ``RowError`` otherwise."""

    name: str | None = None
    email: str | None = None


class PostPatch(BaseModel):
    title: str | None = None
    body: str | None = None
