"""Bad relations: names that clash are refused when the database is built, bad ``with_``
dicts and relation filters before any statement runs."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from hedystia_models import Field, QueryError, SchemaError, Table

from . import app_database, bad_input


class Author(Table, table="authors"):
    id: int | None = Field(default=None, primary_key=True)
    name: str


class Book(Table, table="books"):
    id: int | None = Field(default=None, primary_key=True)
    author_id: int = Field(references=Author)
    title: str


def library(tmp: Path) -> None:
    with app_database(tmp, schemas=[Author, Book], sync_schemas=True) as db:
        db.table(Author).insert({"name": "Ann"})
        db.table(Book).insert({"author_id": 1, "title": "Tea"})


def find(tmp: Path, model: type[Table], **kwargs: Any) -> object:
    with app_database(tmp, schemas=[Author, Book]) as db:
        return db.table(model).find(**kwargs)


@bad_input(
    "Queries",
    "with_ on a reverse name two references share (`author_id` and `editor_id` of articles, "
    "both to authors, neither naming its relation back)",
    QueryError,
    "table 'authors': no relation 'articles' in with_: 'articles' would name two relations "
    "of Author (the reverse of Article.author_id and the reverse of Article.editor_id), so "
    "it names neither: name them with Field(references=..., related_name='...') on "
    "Article.editor_id and Field(references=..., related_name='...') on Article.author_id",
    setup=library,
)
def two_references_unnamed(tmp: Path) -> None:
    class Article(Table, table="articles"):
        id: int | None = Field(default=None, primary_key=True)
        author_id: int = Field(references=Author)
        editor_id: int | None = Field(default=None, references=Author)

    with app_database(tmp, schemas=[Author, Article]) as db:
        db.table(Author).find(with_={"articles": True})


@bad_input(
    "Models",
    'A relation declared with a field\'s name (`relation_name="owner"`, and the model has a '
    "field `owner`)",
    SchemaError,
    "Pet: the relation 'owner' (Pet.owner_id -> authors) has the name of the field 'owner'; "
    "give the relation another name with Field(references=..., relation_name='...') on "
    "Pet.owner_id",
)
def relation_named_like_a_field(tmp: Path) -> None:
    class Pet(Table, table="pets"):
        id: int | None = Field(default=None, primary_key=True)
        owner_id: int = Field(references=Author, relation_name="owner")
        owner: str = ""

    app_database(tmp, schemas=[Author, Pet])


@bad_input(
    "Queries",
    "with_ naming a relation the table does not have",
    QueryError,
    "table 'authors' has no relation 'book' in with_ (relations: books)",
    setup=library,
)
def unknown_relation_in_with(tmp: Path) -> None:
    find(tmp, Author, with_={"book": True})


@bad_input(
    "Queries",
    "with_ giving a relation something other than True or a dict of options",
    QueryError,
    "table 'authors': with_['books'] takes True or a dict of options (where, order_by, limit, "
    "offset, with_) (got 'yes')",
    setup=library,
)
def bad_with_value(tmp: Path) -> None:
    find(tmp, Author, with_={"books": "yes"})


@bad_input(
    "Queries",
    "A limit on a relation to one row (`with_={'author': {'limit': 1}}`)",
    QueryError,
    "table 'books': with_['author'] is one row (or None) per row, so it takes where and with_ "
    "only (got 'limit')",
    setup=library,
)
def limit_on_one_row(tmp: Path) -> None:
    find(tmp, Book, with_={"author": {"limit": 1}})


@bad_input(
    "Queries",
    "A relation in where given a value instead of a where dict of its rows",
    QueryError,
    "table 'books': 'author' is a relation (to table 'authors'): give a where dict of its rows, "
    "such as {'author': {...}} (got 'Ann')",
    setup=library,
)
def relation_filter_with_a_value(tmp: Path) -> None:
    find(tmp, Book, where={"author": "Ann"})
