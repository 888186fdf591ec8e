"""Relations (issue 13): every reference is a relation both ways; ``with_=`` loads them with
one query per relation, whatever the number of rows; ``where`` filters by related rows."""

from __future__ import annotations

import asyncio
import json
import sqlite3
from pathlib import Path
from typing import Any

import pydantic
import pytest
from typing_extensions import assert_type

from hedystia_models import (
    Database,
    Field,
    ForeignKey,
    QueryError,
    Repository,
    SchemaError,
    Table,
    database,
)


class User(Table, table="users"):
    id: int | None = Field(default=None, primary_key=True, auto_increment=True)
    name: str


class Post(Table, table="posts"):
    id: int | None = Field(default=None, primary_key=True, auto_increment=True)
    author_id: int = Field(references=User, on_delete="cascade", index=True)
    title: str
    score: int = 0


class Comment(Table, table="comments"):
    id: int | None = Field(default=None, primary_key=True, auto_increment=True)
    post_id: int = Field(references=Post, on_delete="cascade", index=True)
    commenter_id: int | None = Field(
        default=None, references=User, relation_name="commenter", related_name="remarks"
    )
    body: str


MODELS = [User, Post, Comment]


@pytest.fixture
def db(connect: Any) -> Database:
    """The models on a new database, on each engine."""
    db: Database = connect(schemas=MODELS, sync_schemas=True)
    return db


@pytest.fixture
def filled(db: Database) -> Database:
    """Three users: Ann with posts p1..p4 (scores 1..4), Bo with b1, Cy with none; comments
    on p2 (two, by Bo and Cy) and on b1 (one, by nobody)."""
    users, posts, comments = db.table(User), db.table(Post), db.table(Comment)
    users.insert_many([{"name": "Ann"}, {"name": "Bo"}, {"name": "Cy"}])
    posts.insert_many(
        [{"author_id": 1, "title": f"p{i}", "score": i} for i in range(1, 5)]
        + [{"author_id": 2, "title": "b1", "score": 9}]
    )
    comments.insert_many(
        [
            {"post_id": 2, "commenter_id": 2, "body": "nice"},
            {"post_id": 2, "commenter_id": 3, "body": "meh"},
            {"post_id": 5, "body": "anon"},
        ]
    )
    return db


class Statements:
    """The statements run on the calling thread's connection while it is in use."""

    def __init__(self, db: Database) -> None:
        self.db = db
        self.sql: list[str] = []

    def __enter__(self) -> Statements:
        self.db.conn.set_trace_callback(self.sql.append)
        return self

    def __exit__(self, *exc: object) -> None:
        self.db.conn.set_trace_callback(None)

    @property
    def count(self) -> int:
        return len(self.sql)


def titles(rows: list[Any]) -> list[str]:
    return [row.title for row in rows]


# -- registration ---------------------------------------------------------------------------


def test_every_reference_is_a_relation_both_ways(db: Database) -> None:
    users, posts, comments = db.table(User), db.table(Post), db.table(Comment)
    assert list(users.relations) == ["posts", "remarks"]
    assert list(posts.relations) == ["author", "comments"]
    assert list(comments.relations) == ["post", "commenter"]
    author = posts.relations["author"]
    assert (author.model, author.target, author.many) == (Post, User, False)
    assert (author.columns, author.target_columns) == (("author_id",), ("id",))
    back = users.relations["posts"]
    assert (back.model, back.target, back.many) == (User, Post, True)
    assert (back.columns, back.target_columns) == (("id",), ("author_id",))
    assert "remarks" in users.relations and "comments" not in users.relations


def test_two_references_to_one_table_leave_the_shared_default_name_unregistered(
    db_path: Path,
) -> None:
    """``author_id`` and ``editor_id`` both give the reverse name ``articles``: the database
    opens (a model with ``created_by`` and ``updated_by`` must not need names to work), the
    forward relations work, and using ``articles`` says how to name the two."""

    class Article(Table, table="articles"):
        id: int | None = Field(default=None, primary_key=True)
        author_id: int = Field(references=User)
        editor_id: int | None = Field(default=None, references=User)

    with database(schemas=[User, Article], connection=db_path, sync_schemas=True) as db:
        assert list(db.table(Article).relations) == ["author", "editor"]
        assert list(db.table(User).relations) == []
        with pytest.raises(QueryError) as caught:
            db.table(User).find(with_={"articles": True})
        assert str(caught.value) == (
            "table 'users': no relation 'articles' in with_: 'articles' would name two "
            "relations of User (the reverse of Article.author_id and the reverse of "
            "Article.editor_id), so it names neither: name them with Field(references=..., "
            "related_name='...') on Article.editor_id and Field(references=..., "
            "related_name='...') on Article.author_id"
        )

    class Twice(Table, table="articles"):
        id: int | None = Field(default=None, primary_key=True)
        author_id: int = Field(references=User, related_name="articles")
        editor_id: int | None = Field(default=None, references=User, related_name="articles")

    with pytest.raises(SchemaError, match="two relations are named 'articles'"):
        database(schemas=[User, Twice], connection=db_path)

    class Named(Table, table="articles"):
        id: int | None = Field(default=None, primary_key=True)
        author_id: int = Field(references=User, related_name="articles")
        editor_id: int | None = Field(default=None, references=User, related_name="edited")

    with database(schemas=[User, Named], connection=db_path) as db:
        assert list(db.table(User).relations) == ["articles", "edited"]
        assert list(db.table(Named).relations) == ["author", "editor"]


def test_a_relation_named_like_a_field_is_refused(db_path: Path) -> None:
    class Owner(Table, table="owners"):
        id: int | None = Field(default=None, primary_key=True)
        pets: list[str] = []

    class Pet(Table, table="pets"):
        id: int | None = Field(default=None, primary_key=True)
        owner_id: int = Field(references=Owner)

    # A default name the model already uses is not taken; using it says so.
    with database(schemas=[Owner, Pet], connection=db_path, sync_schemas=True) as db:
        assert list(db.table(Owner).relations) == []
        with pytest.raises(QueryError, match=r"'pets' is the field 'pets', so the reverse of"):
            db.table(Owner).find(with_={"pets": True})

    class Ticket(Table, table="tickets"):
        id: int | None = Field(default=None, primary_key=True)
        owner_id: int = Field(references=Owner, related_name="tickets")
        owner: str = ""

    with database(schemas=[Owner, Ticket], connection=db_path) as db:
        assert list(db.table(Ticket).relations) == []
        assert list(db.table(Owner).relations) == ["tickets"]

    # A name declared for a relation must be free.
    class Chip(Table, table="chips"):
        id: int | None = Field(default=None, primary_key=True)
        owner_id: int = Field(references=Owner, related_name="chips", relation_name="owner")

        def owner(self) -> str:
            return "a method"

    with pytest.raises(SchemaError) as caught:
        database(schemas=[Owner, Chip], connection=db_path)
    assert str(caught.value) == (
        "Chip: the relation 'owner' (Chip.owner_id -> owners) has the name of the attribute "
        "'owner' of Chip; give the relation another name with Field(references=..., "
        "relation_name='...') on Chip.owner_id"
    )

    class Cat(Table, table="cats"):
        id: int | None = Field(default=None, primary_key=True)
        owner_id: int = Field(references=Owner, related_name="pets")

    with pytest.raises(SchemaError, match=r"the relation 'pets' .* has the name of the field"):
        database(schemas=[Owner, Cat], connection=db_path)


def test_relation_names_are_checked_with_the_class() -> None:
    with pytest.raises(SchemaError) as caught:

        class Bad(Table, table="bad"):
            id: int | None = Field(default=None, primary_key=True)
            user_id: int = Field(references=User, relation_name="copy")

    assert str(caught.value) == (
        "Bad.user_id: relation_name='copy' is an attribute of every Pydantic model"
    )
    with pytest.raises(SchemaError, match=r"Bad2\.name: related_name= needs references="):

        class Bad2(Table, table="bad2"):
            id: int | None = Field(default=None, primary_key=True)
            name: str = Field(related_name="things")

    with pytest.raises(SchemaError, match="'2x' is not a Python identifier"):

        class Bad3(Table, table="bad3"):
            id: int | None = Field(default=None, primary_key=True)
            user_id: int = Field(references=User, related_name="2x")


def test_a_default_name_that_cannot_be_a_relation_registers_nothing(db_path: Path) -> None:
    class Copy(Table, table="copy-log"):  # neither 'copy' nor 'copy-log' can name a relation
        id: int | None = Field(default=None, primary_key=True)
        copy_id: int | None = Field(default=None, references=User)
        user_email: str | None = None  # a name without _id: no forward name by default

    with database(schemas=[User, Copy], connection=db_path) as db:
        assert list(db.table(Copy).relations) == []
        assert list(db.table(User).relations) == []


# -- loading ----------------------------------------------------------------------------------


def test_forward_gives_one_row_or_none_and_reverse_a_list(filled: Database) -> None:
    posts, users, comments = filled.table(Post), filled.table(User), filled.table(Comment)
    loaded = posts.find(order_by="id", with_={"author": True})
    assert [p.author.name for p in loaded] == ["Ann"] * 4 + ["Bo"]
    assert isinstance(loaded[0], Post) and isinstance(loaded[0].author, User)
    by_user = users.find(order_by="id", with_={"posts": True})
    assert [titles(u.posts) for u in by_user] == [["p1", "p2", "p3", "p4"], ["b1"], []]
    anon = comments.find(where={"body": "anon"}, with_={"commenter": True})
    assert anon[0].commenter is None


def test_loaded_rows_are_validated_instances_that_dump(filled: Database) -> None:
    bo = filled.table(User).get(2, with_={"posts": {"with_": {"comments": True}}})
    assert bo is not None
    assert type(bo).__name__ == "User[posts=Post[comments]]"
    assert isinstance(bo, User) and bo == bo.model_validate(bo.model_dump())
    expected = {
        "id": 2,
        "name": "Bo",
        "posts": [
            {
                "id": 5,
                "author_id": 2,
                "title": "b1",
                "score": 9,
                "comments": [{"id": 3, "post_id": 5, "commenter_id": None, "body": "anon"}],
            }
        ],
    }
    assert bo.model_dump() == expected
    assert bo.model_dump(exclude_unset=True) == expected  # relations count as set
    assert json.loads(bo.model_dump_json()) == expected
    # The model itself is unchanged: its instances have no relation fields.
    assert "posts" not in User.model_fields and "posts" not in filled.table(User).get(2).__dict__
    # A loaded row is still a row: it can be written back.
    assert filled.table(User).update(where={"id": 2}, data={"name": "Bob"})[0].name == "Bob"
    assert filled.table(User).insert(bo.model_copy(update={"id": None})).id == 4


def test_loading_is_typed_like_find(filled: Database) -> None:
    users = filled.table(User)
    assert_type(users.find(with_={"posts": True}), list[User])
    assert_type(users.find_first(with_={"posts": True}), User | None)
    assert_type(users.get(1, with_={"posts": True}), User | None)


def test_with_combines_with_where_order_by_and_limit_at_every_level(filled: Database) -> None:
    users = filled.table(User)
    found = users.find(
        where={"name": {"in": ["Ann", "Bo"]}},
        order_by="-id",
        limit=2,
        with_={
            "posts": {
                "where": {"score": {"gte": 2}},
                "order_by": "-score",
                "limit": 2,
                "with_": {"comments": {"order_by": "-id", "with_": {"commenter": True}}},
            }
        },
    )
    assert [u.name for u in found] == ["Bo", "Ann"]
    assert [titles(u.posts) for u in found] == [["b1"], ["p4", "p3"]]
    ann_again = users.find(
        where={"name": "Ann"},
        with_={
            "posts": {
                "order_by": "score",
                "offset": 1,
                "limit": 1,
                "with_": {"comments": {"order_by": "-id", "with_": {"commenter": True}}},
            }
        },
    )
    (p2,) = ann_again[0].posts
    # A relation's where may itself filter by related rows, with or without a page.
    for page in ({}, {"limit": 5}):
        commented = users.find(
            where={"name": "Ann"}, with_={"posts": {"where": {"comments": {}}, **page}}
        )
        assert titles(commented[0].posts) == ["p2"]
    assert p2.title == "p2"
    assert [(c.body, c.commenter.name) for c in p2.comments] == [("meh", "Cy"), ("nice", "Bo")]


def test_forward_where_leaves_none_when_the_related_row_does_not_match(filled: Database) -> None:
    posts = filled.table(Post)
    loaded = posts.find(order_by="id", with_={"author": {"where": {"name": "Bo"}}})
    assert [None if p.author is None else p.author.name for p in loaded] == [
        None,
        None,
        None,
        None,
        "Bo",
    ]


def test_a_limit_is_per_parent(db: Database) -> None:
    users, posts = db.table(User), db.table(Post)
    users.insert_many([{"name": f"u{i}"} for i in range(30)])
    # Users get 0..9 posts each, interleaved, with scores that do not follow the ids.
    rows = [
        {"author_id": u, "title": f"{u}-{n}", "score": (u * 7 + n * 13) % 17}
        for n in range(10)
        for u in range(1, 31)
        if n < u % 10
    ]
    posts.insert_many(rows)
    for options in (
        {"order_by": ["-score", "id"], "limit": 3},
        {"order_by": "title", "offset": 2, "limit": 2},
        {"order_by": "-id", "offset": 4},
        {"limit": 2},  # by primary key
    ):
        loaded = users.find(order_by="id", with_={"posts": options})
        for user in loaded:
            expected = posts.find(
                where={"author_id": user.id},
                order_by=options.get("order_by", "id"),
                limit=options.get("limit"),
                offset=options.get("offset"),
            )
            assert user.posts == expected, (options, user.id)


def test_three_levels_deep_and_back(filled: Database) -> None:
    users = filled.table(User)
    deep = users.find(
        order_by="id",
        with_={
            "posts": {"with_": {"comments": {"with_": {"commenter": {"with_": {"posts": True}}}}}}
        },
    )
    ann = deep[0]
    p2 = next(p for p in ann.posts if p.title == "p2")
    commenters = sorted(c.commenter.name for c in p2.comments)
    assert commenters == ["Bo", "Cy"]
    bo = next(c.commenter for c in p2.comments if c.commenter.name == "Bo")
    assert titles(bo.posts) == ["b1"]


def test_one_query_per_relation_never_one_per_row(db: Database) -> None:
    users, posts, comments = db.table(User), db.table(Post), db.table(Comment)
    users.insert_many([{"name": f"u{i}"} for i in range(50)])
    posts.insert_many(
        [{"author_id": u, "title": f"t{u}-{n}"} for u in range(1, 51) for n in range(3)]
    )
    comments.insert_many(
        [{"post_id": p, "commenter_id": 1 + p % 50, "body": "b"} for p in range(1, 151)]
    )
    with Statements(db) as seen:
        loaded = users.find(with_={"posts": True})
    assert seen.count == 1 + 1 and len(loaded) == 50
    with Statements(db) as seen:
        loaded = users.find(
            with_={
                "posts": {"limit": 2, "with_": {"comments": {"with_": {"commenter": True}}}},
                "remarks": True,
            }
        )
    assert seen.count == 1 + 4, seen.sql
    assert all(len(u.posts) == 2 and u.remarks for u in loaded)
    with Statements(db) as seen:
        assert users.find(where={"name": "nobody"}, with_={"posts": True}) == []
    assert seen.count == 1  # no rows: no relation query


def test_keys_beyond_sqlites_variable_limit_are_read_in_chunks(
    db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    users, posts = db.table(User), db.table(Post)
    users.insert_many([{"name": f"u{i}"} for i in range(25)])
    posts.insert_many([{"author_id": u, "title": f"t{u}"} for u in range(1, 26)])
    conn = db.conn
    if hasattr(conn, "setlimit"):  # Python 3.11+: SQLite's own limit, lowered
        old = conn.setlimit(sqlite3.SQLITE_LIMIT_VARIABLE_NUMBER, 10)
    else:  # Python 3.10 cannot ask SQLite: the limit the loader then assumes, lowered
        from hedystia_models.rows import loading

        monkeypatch.setattr(loading, "_DEFAULT_VARIABLES", 10)
    try:
        with Statements(db) as seen:
            loaded = users.find(order_by="id", with_={"posts": {"where": {"title": {"ne": "x"}}}})
    finally:
        if hasattr(conn, "setlimit"):
            conn.setlimit(sqlite3.SQLITE_LIMIT_VARIABLE_NUMBER, old)
    assert seen.count == 1 + 3  # 25 keys, 9 per statement beside the where's one value
    assert [titles(u.posts) for u in loaded] == [[f"t{u}"] for u in range(1, 26)]


# -- composite keys and self-references -------------------------------------------------------


class Order(Table, table="orders"):
    region: str = Field(primary_key=True)
    number: int = Field(primary_key=True)
    customer: str


class Line(
    Table,
    table="order_lines",
    foreign_keys=[
        ForeignKey("order_region", "order_number", references=Order, on_delete="cascade")
    ],
):
    id: int | None = Field(default=None, primary_key=True)
    order_region: str
    order_number: int
    product: str


class Employee(Table, table="employees"):
    id: int | None = Field(default=None, primary_key=True)
    name: str
    manager_id: int | None = Field(
        default=None, references="employees.id", related_name="reports", index=True
    )


def test_composite_references_declare_a_foreign_key_and_relations(db_path: Path) -> None:
    spec = Line.table_spec()
    (fk,) = spec.foreign_keys
    assert (fk.columns, fk.other_table, fk.other_columns, fk.on_delete) == (
        ("order_region", "order_number"),
        "orders",
        ("region", "number"),
        "CASCADE",
    )
    with database(schemas=[Order, Line], connection=db_path, sync_schemas=True) as db:
        assert db.plan().in_sync  # the database reads back as declared
        orders, lines = db.table(Order), db.table(Line)
        assert list(orders.relations) == ["order_lines"]
        assert list(lines.relations) == ["order"]
        orders.insert_many(
            [
                {"region": "eu", "number": 1, "customer": "Ann"},
                {"region": "us", "number": 1, "customer": "Bo"},
            ]
        )
        lines.insert_many(
            [
                {"order_region": "eu", "order_number": 1, "product": "tea"},
                {"order_region": "us", "order_number": 1, "product": "coffee"},
                {"order_region": "eu", "order_number": 1, "product": "milk"},
            ]
        )
        with Statements(db) as seen:
            loaded = orders.find(
                order_by="region", with_={"order_lines": {"order_by": "product", "limit": 1}}
            )
        assert seen.count == 2
        assert [[x.product for x in o.order_lines] for o in loaded] == [["milk"], ["coffee"]]
        back = lines.find(order_by="id", with_={"order": True})
        assert [x.order.customer for x in back] == ["Ann", "Bo", "Ann"]
        assert [x.product for x in lines.find(where={"order": {"customer": "Bo"}})] == ["coffee"]
        assert [o.customer for o in orders.find(where={"order_lines": {"product": "tea"}})] == [
            "Ann"
        ]
        with pytest.raises(Exception, match="FOREIGN KEY"):
            lines.insert({"order_region": "eu", "order_number": 2, "product": "x"})


def test_composite_relation_names_can_be_declared(db_path: Path) -> None:
    class Shipment(
        Table,
        table="shipments",
        foreign_keys=[
            ForeignKey(
                "o_region",
                "o_number",
                references=Order,
                to=("region", "number"),
                relation_name="parcel_of",
                related_name="shipments_sent",
            )
        ],
    ):
        id: int | None = Field(default=None, primary_key=True)
        o_region: str
        o_number: int

    with database(schemas=[Order, Shipment], connection=db_path, sync_schemas=True) as db:
        assert list(db.table(Shipment).relations) == ["parcel_of"]
        assert list(db.table(Order).relations) == ["shipments_sent"]


def test_foreign_key_declarations_are_checked() -> None:
    with pytest.raises(SchemaError, match=r"a ForeignKey names two or more fields"):

        class One(Table, table="one", foreign_keys=[ForeignKey("region", references=Order)]):
            id: int | None = Field(default=None, primary_key=True)
            region: str

    with pytest.raises(SchemaError, match=r"unknown field\(s\) \['nope'\]"):

        class Two(
            Table, table="two", foreign_keys=[ForeignKey("region", "nope", references=Order)]
        ):
            id: int | None = Field(default=None, primary_key=True)
            region: str

    with pytest.raises(SchemaError, match="foreign_keys= must be a list of ForeignKey"):

        class Three(Table, table="three", foreign_keys="orders"):  # type: ignore[arg-type]
            id: int | None = Field(default=None, primary_key=True)


def test_self_reference_manager_and_reports(db_path: Path) -> None:
    with database(schemas=[Employee], connection=db_path, sync_schemas=True) as db:
        staff = db.table(Employee)
        assert list(staff.relations) == ["manager", "reports"]
        staff.insert_many(
            [
                {"name": "Ann"},
                {"name": "Bo", "manager_id": 1},
                {"name": "Cy", "manager_id": 1},
                {"name": "Dee", "manager_id": 2},
            ]
        )
        ann = staff.get(1, with_={"reports": {"order_by": "name", "with_": {"reports": True}}})
        assert ann is not None
        assert [(r.name, [x.name for x in r.reports]) for r in ann.reports] == [
            ("Bo", ["Dee"]),
            ("Cy", []),
        ]
        dee = staff.find_first(
            where={"name": "Dee"}, with_={"manager": {"with_": {"manager": True}}}
        )
        assert dee is not None
        assert dee.manager.name == "Bo" and dee.manager.manager.name == "Ann"
        assert dee.manager.manager.model_dump()["name"] == "Ann"
        # Filters: whose manager is Ann; who manages someone managed by Ann.
        assert [e.name for e in staff.find(where={"manager": {"name": "Ann"}}, order_by="id")] == [
            "Bo",
            "Cy",
        ]
        assert [e.name for e in staff.find(where={"reports": {"reports": {"name": "Dee"}}})] == [
            "Ann"
        ]
        assert [e.name for e in staff.find(where={"reports": {}}, order_by="id")] == ["Ann", "Bo"]


# -- filtering by related rows ----------------------------------------------------------------


def test_where_filters_by_related_rows_forward_and_reverse(filled: Database) -> None:
    users, posts, comments = filled.table(User), filled.table(Post), filled.table(Comment)
    assert titles(posts.find(where={"author": {"name": "Bo"}})) == ["b1"]
    assert [u.name for u in users.find(where={"posts": {"title": {"like": "p%"}}})] == ["Ann"]
    assert [u.name for u in users.find(where={"posts": {}}, order_by="id")] == ["Ann", "Bo"]
    # Nested: users with a post that has a comment by Cy.
    assert [
        u.name for u in users.find(where={"posts": {"comments": {"commenter": {"name": "Cy"}}}})
    ] == ["Ann"]
    # Combined with fields, and / or.
    assert titles(
        posts.find(where={"author": {"name": "Ann"}, "score": {"gt": 2}}, order_by="id")
    ) == [
        "p3",
        "p4",
    ]
    found = posts.find(
        where={"or": [{"author": {"name": "Bo"}}, {"comments": {"body": "meh"}}]}, order_by="id"
    )
    assert titles(found) == ["p2", "b1"]
    assert comments.count(where={"commenter": {"name": {"in": ["Bo", "Cy"]}}}) == 2
    assert comments.count(where={"commenter": {}}) == 2  # the anonymous one has none
    assert users.exists(where={"remarks": {"body": "nice"}})
    # Writes take them too.
    assert posts.update(where={"author": {"name": "Bo"}}, data={"score": 0})[0].title == "b1"
    assert comments.delete(where={"post": {"author": {"name": "Bo"}}}) == 1


def test_related_values_are_bound(filled: Database) -> None:
    evil = "x') OR 1=1; DROP TABLE users; --"
    users = filled.table(User)
    with Statements(filled) as seen:
        assert users.find(where={"posts": {"title": evil}}) == []
    assert users.count() == 3
    (sql,) = seen.sql
    if filled.engine == "sqlite":
        assert "DROP" in sql  # sqlite3's trace shows bound values expanded ...
    # ... but the statement itself has a parameter for it:
    condition, params = users.codec.relations.condition("posts", {"title": evil})
    assert evil not in condition and params == [evil]


def test_relation_filter_errors(filled: Database) -> None:
    users = filled.table(User)
    with pytest.raises(QueryError) as caught:
        users.find(where={"posts": "p1"})
    assert str(caught.value) == (
        "table 'users': 'posts' is a relation (to table 'posts'): give a where dict of its "
        "rows, such as {'posts': {...}} (got 'p1')"
    )
    with pytest.raises(QueryError, match="table 'posts' has no field or column 'nope'"):
        users.find(where={"posts": {"nope": 1}})


# -- errors -----------------------------------------------------------------------------------


def test_with_errors_name_the_table_and_the_relations(filled: Database) -> None:
    users, posts = filled.table(User), filled.table(Post)
    with pytest.raises(QueryError) as caught:
        users.find(with_={"post": True})
    assert str(caught.value) == (
        "table 'users' has no relation 'post' in with_ (relations: posts, remarks)"
    )
    with pytest.raises(QueryError) as caught:
        users.find(with_={"posts": {"with_": {"writer": True}}})
    assert str(caught.value) == (
        "table 'posts' has no relation 'writer' in with_ (relations: author, comments)"
    )
    with pytest.raises(QueryError) as caught:
        users.find(with_={"posts": False})
    assert str(caught.value) == (
        "table 'users': with_['posts'] takes True or a dict of options (where, order_by, "
        "limit, offset, with_) (got False)"
    )
    with pytest.raises(QueryError) as caught:
        users.find(with_={"posts": {"with": {"author": True}}})
    assert str(caught.value) == (
        "table 'users': with_['posts'] has unknown option(s) 'with' (options: where, "
        "order_by, limit, offset, with_)"
    )
    with pytest.raises(QueryError) as caught:
        posts.find(with_={"author": {"limit": 1}})
    assert str(caught.value) == (
        "table 'posts': with_['author'] is one row (or None) per row, so it takes where and "
        "with_ only (got 'limit')"
    )
    with pytest.raises(QueryError, match=r"with_ takes a dict of relation names"):
        users.find(with_=["posts"])  # type: ignore[arg-type]
    with pytest.raises(QueryError, match=r"limit must be an integer from 0 up"):
        users.find(with_={"posts": {"limit": -1}})
    with pytest.raises(QueryError, match=r"cannot order by unknown field 'nope'"):
        users.find(with_={"posts": {"order_by": "nope"}})
    with pytest.raises(QueryError) as caught:
        filled.table(Comment).get(1, with_={"x": True})
    assert "(relations: post, commenter)" in str(caught.value)


def test_errors_come_before_any_statement(filled: Database) -> None:
    with Statements(filled) as seen, pytest.raises(QueryError):
        filled.table(User).find(with_={"posts": {"with_": {"nope": True}}})
    assert seen.count == 0


def test_a_table_without_relations_says_so(db_path: Path) -> None:
    class Lone(Table, table="lone"):
        id: int | None = Field(default=None, primary_key=True)

    with database(schemas=[Lone], connection=db_path, sync_schemas=True) as db:
        with pytest.raises(QueryError) as caught:
            db.table(Lone).find(with_={"x": True})
        assert str(caught.value) == "table 'lone' has no relation 'x' in with_ (it has none)"
        assert db.table(Lone).find(with_={}) == []


# -- async --------------------------------------------------------------------------------------


def test_async_find_with_relations(filled: Database) -> None:
    async def main() -> None:
        users = filled.aio.table(User)
        found = await users.find(order_by="id", with_={"posts": {"order_by": "-id", "limit": 1}})
        assert [titles(u.posts) for u in found] == [["p4"], ["b1"], []]
        first = await users.find_first(where={"name": "Bo"}, with_={"remarks": True})
        assert first is not None and [c.body for c in first.remarks] == ["nice"]
        ann = await users.get(1, with_={"posts": {"where": {"score": 1}}})
        assert ann is not None and titles(ann.posts) == ["p1"]
        assert_type(await users.find(with_={"posts": True}), list[User])

    asyncio.run(main())


def test_loaded_rows_serialise_like_fastapi_does(filled: Database) -> None:
    """FastAPI without a response model returns ``jsonable_encoder(value)``: ``model_dump``
    of each instance; with one, a model that declares the relations reads them."""
    users = filled.table(User)
    loaded = users.find(order_by="id", limit=1, with_={"posts": {"limit": 1}})

    class PostOut(pydantic.BaseModel):
        model_config = pydantic.ConfigDict(from_attributes=True)
        title: str

    class UserOut(pydantic.BaseModel):
        model_config = pydantic.ConfigDict(from_attributes=True)
        name: str
        posts: list[PostOut]

    out = pydantic.TypeAdapter(list[UserOut]).validate_python(loaded)
    assert out == [UserOut(name="Ann", posts=[PostOut(title="p1")])]
    assert loaded[0].model_dump(mode="json")["posts"][0]["title"] == "p1"


def test_repository_is_the_typed_one(db: Database) -> None:
    assert isinstance(db.table(User), Repository)


def test_the_inspector_names_relations_that_would_clash(db_path: Path) -> None:
    """Models inspected from a database with two references of one table to another (and a
    field named like a relation) are accepted by database(...) as they are written."""
    import sys
    import types

    from hedystia_models import inspect_models

    conn = sqlite3.connect(db_path)
    conn.executescript(
        """
        CREATE TABLE users (id INTEGER PRIMARY KEY, name TEXT NOT NULL, posts TEXT);
        CREATE TABLE posts (
            id INTEGER PRIMARY KEY,
            author_id INTEGER NOT NULL REFERENCES users (id),
            editor_id INTEGER REFERENCES users (id),
            author TEXT
        );
        """
    )
    source = inspect_models(conn).source
    conn.close()
    assert 'related_name="posts_via_author_id"' in source
    assert 'related_name="posts_via_editor_id"' in source
    assert 'relation_name="author_ref"' in source
    module = types.ModuleType("inspected_relations")
    sys.modules[module.__name__] = module
    try:
        exec(compile(source, "<inspected>", "exec"), module.__dict__)
    finally:
        del sys.modules[module.__name__]
    with database(schemas=module, connection=db_path) as db:
        assert db.plan().in_sync
        assert list(db["users"].relations) == ["posts_via_author_id", "posts_via_editor_id"]
        assert list(db["posts"].relations) == ["author_ref", "editor"]


def test_a_where_says_when_it_reads_related_rows(db: Database) -> None:
    relations = db.table(User).relations
    assert relations.filter_by({"posts": {}})
    assert relations.filter_by({"or": [{"name": "a"}, {"and": [{"remarks": {"body": "x"}}]}]})
    assert not relations.filter_by({"name": "a", "or": [{"id": 1}]})
    assert not relations.filter_by(None)


def test_models_with_aliases_frozen_and_revalidated_instances_load(db_path: Path) -> None:
    from pydantic.alias_generators import to_camel

    class Person(Table, table="people"):
        model_config = pydantic.ConfigDict(
            frozen=True, alias_generator=to_camel, revalidate_instances="always"
        )
        id: int | None = Field(default=None, primary_key=True)
        full_name: str

    class Note(Table, table="notes"):
        model_config = pydantic.ConfigDict(alias_generator=to_camel, populate_by_name=True)
        id: int | None = Field(default=None, primary_key=True)
        person_id: int = Field(references=Person, relation_name="written_by")
        text: str

    with database(schemas=[Person, Note], connection=db_path, sync_schemas=True) as db:
        db.table(Person).insert({"fullName": "Ann"})
        db.table(Note).insert({"person_id": 1, "text": "hi"})
        (ann,) = db.table(Person).find(with_={"notes": {"with_": {"written_by": True}}})
        assert ann.model_dump(by_alias=True) == {
            "id": 1,
            "fullName": "Ann",
            "notes": [
                {
                    "id": 1,
                    "personId": 1,
                    "text": "hi",
                    "writtenBy": {"id": 1, "fullName": "Ann"},
                }
            ],
        }
