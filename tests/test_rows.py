"""Typed repositories: access forms, validated writes, all-or-nothing batches, reads."""

from __future__ import annotations

import enum
import types
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any, Literal

import pydantic
import pytest
from typing_extensions import assert_type

from hedystia_models import Database, Field, HedystiaError, Repository, Table, database
from hedystia_models.errors import (
    QueryError,
    RowError,
    UnknownTableAttributeError,
    UnknownTableError,
)


class Status(enum.Enum):
    ACTIVE = "active"
    BANNED = "banned"


class User(Table, table="users"):
    id: int | None = Field(default=None, primary_key=True, auto_increment=True)
    name: str = Field(max_length=10)
    email: str | None = Field(default=None, unique=True)
    age: int = Field(default=0, ge=0)
    status: Status = Status.ACTIVE
    level: Literal[1, 2] = 1


class Post(Table, table="posts"):
    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(references=User, on_delete="cascade")
    title: str


class Membership(Table, table="memberships"):
    user_id: int = Field(primary_key=True, references=User)
    group: str = Field(primary_key=True)
    role: str = "member"


MODELS = [User, Post, Membership]


@pytest.fixture
def db(connect: Any) -> Database:
    """The models on a new database, on each engine (SQLite, PostgreSQL)."""
    db: Database = connect(schemas=MODELS, sync_schemas=True)
    return db


def table_rows(db: Database, table: str) -> list[dict[str, Any]]:
    """The raw contents of ``table``, in the order the rows were written (SQLite's rowid,
    PostgreSQL's ``ctid`` in a table not updated in place)."""
    order = "ctid" if db.engine == "postgres" else "rowid"
    return db.raw(f'SELECT * FROM "{table}" ORDER BY {order}')


# -- getting a repository -------------------------------------------------------------------


def test_repository_access_forms(db: Database) -> None:
    users = db.table(User)
    assert_type(users, Repository[User])
    assert db.users is users
    assert db["users"] is users
    assert db["USERS"] is users  # table names ignore case, as in SQL
    assert db.memberships is db.table(Membership)
    assert users.model is User
    assert repr(users) == "<Repository users (User)>"


def test_dict_keys_name_the_repositories(db_path: Path) -> None:
    with database(schemas={"people": User, "articles": Post}, connection=db_path) as db:
        assert db.people is db.table(User) is db["people"]
        assert db.articles is db.table(Post)
        assert db["users"] is db.people  # the table name works too
        with pytest.raises(AttributeError):
            db.memberships  # noqa: B018 - not one of this database's models


def test_module_attribute_names_name_the_repositories(db_path: Path) -> None:
    module = types.ModuleType("app_schemas")
    module.Person = User  # type: ignore[attr-defined]
    module.Article = Post  # type: ignore[attr-defined]
    with database(schemas=module, connection=db_path, sync_schemas=True) as db:
        assert db.Person is db.table(User) is db["users"]
        assert db.Article.insert_many([]) == []


def test_unknown_names_are_errors_listing_the_known_ones(db: Database) -> None:
    with pytest.raises(AttributeError) as missing:
        db.userz  # noqa: B018
    assert str(missing.value) == (
        "no table or schema named 'userz' (known: memberships, posts, users)"
    )
    assert isinstance(missing.value, UnknownTableAttributeError)
    assert missing.value.name == "userz" and missing.value.obj is db
    assert not hasattr(db, "userz") and getattr(db, "userz", None) is None
    with pytest.raises(KeyError) as caught:
        db["userz"]
    assert "memberships, posts, users" in str(caught.value)
    assert isinstance(caught.value, UnknownTableError)
    with pytest.raises(AttributeError):
        db._private  # noqa: B018

    class Stranger(Table, table="strangers"):
        id: int = Field(primary_key=True)

    with pytest.raises(KeyError, match="'Stranger' is not one of this database's models"):
        db.table(Stranger)


def test_unknown_tables_are_hedystia_errors_and_key_errors(db: Database) -> None:
    """One class to catch for all three forms; still a KeyError (and an AttributeError for
    ``db.name``) for code written against the built-in errors."""
    not_a_model: Any = int
    for call in (lambda: db["nope"], lambda: db.nope, lambda: db.table(not_a_model)):
        with pytest.raises(UnknownTableError) as caught:
            call()
        assert isinstance(caught.value, HedystiaError) and isinstance(caught.value, KeyError)
        assert str(caught.value) == caught.value.args[0]  # not quoted like a missing key
    with pytest.raises(UnknownTableError) as caught:
        db.table("users")  # type: ignore[arg-type]
    assert str(caught.value) == (
        "'users' is not one of this database's models (User, Post, Membership); "
        "use db['users'] for a table name"
    )
    with pytest.raises(UnknownTableError, match=r"use db\.table\(Model\) for a model class"):
        db[User]  # type: ignore[index]
    for name in (5, None, ["users"]):
        with pytest.raises(UnknownTableError, match="no table or schema named"):
            db[name]  # type: ignore[index]
        with pytest.raises(UnknownTableError, match="is not one of this database's models"):
            db.table(name)  # type: ignore[arg-type]


def test_a_table_named_like_a_database_attribute_is_reached_by_key(db_path: Path) -> None:
    class Plan(Table, table="plan"):
        id: int | None = Field(default=None, primary_key=True)

    with database(schemas=[Plan], connection=db_path, sync_schemas=True) as db:
        assert callable(db.plan)  # the method wins
        assert db["plan"] is db.table(Plan)
        assert db["plan"].insert({}).id == 1
        # Its only column is the generated key: rows are inserted with DEFAULT VALUES.
        assert [p.id for p in db["plan"].insert_many([{}, {"id": 7}, {}])] == [2, 7, 8]
        assert [p.id for p in db["plan"].insert_many([{}, {}])] == [9, 10]


# -- insert ---------------------------------------------------------------------------------


def test_insert_a_dict_returns_the_stored_row(db: Database) -> None:
    ann = db.users.insert({"name": "Ann", "email": "ann@example.com"})
    assert_type(db.table(User).insert({"name": "Bob"}), User)
    assert ann == User(id=1, name="Ann", email="ann@example.com")
    assert table_rows(db, "users")[0] == {
        "id": 1,
        "name": "Ann",
        "email": "ann@example.com",
        "age": 0,
        "status": "active",
        "level": 1,
    }


def test_insert_an_instance_returns_a_new_instance(db: Database) -> None:
    draft = User(name="Ann")
    stored = db.table(User).insert(draft)
    assert stored.id == 1
    assert stored is not draft
    assert draft.id is None  # the argument is left as it was


def test_insert_returns_the_row_as_the_database_stored_it(db: Database) -> None:
    if db.engine == "postgres":
        db.raw(
            "CREATE FUNCTION shout() RETURNS trigger LANGUAGE plpgsql AS "
            "$$ BEGIN NEW.name := upper(NEW.name); RETURN NEW; END $$"
        )
        db.raw("CREATE TRIGGER shout BEFORE INSERT ON users FOR EACH ROW EXECUTE FUNCTION shout()")
    else:
        db.raw(
            "CREATE TRIGGER shout AFTER INSERT ON users BEGIN "
            "UPDATE users SET name = upper(name) WHERE id = new.id; END"
        )
    assert db.table(User).insert({"name": "ann"}).name == "ANN"


def test_auto_increment_keys_are_never_reused(db: Database) -> None:
    users = db.table(User)
    assert [users.insert({"name": n}).id for n in "abc"] == [1, 2, 3]
    assert users.delete(where={"id": 3}) == 1
    assert users.insert({"name": "d"}).id == 4
    assert [u.id for u in users.insert_many([{"name": "e"}, {"name": "f"}])] == [5, 6]


def test_insert_invalid_row_is_a_row_error_and_writes_nothing(db: Database) -> None:
    users = db.table(User)
    with pytest.raises(RowError) as caught:
        users.insert({"name": "far too long a name", "age": -1, "status": "gone"})
    problems = caught.value.problems
    assert [(index, field) for index, field, _ in problems] == [
        (None, "name"),
        (None, "age"),
        (None, "status"),
    ]
    assert "at most 10 characters" in problems[0][2]
    message = str(caught.value)
    assert message.startswith("table 'users': 3 invalid value(s), nothing was written:")
    assert "row, field 'age': Input should be greater than or equal to 0" in message
    with pytest.raises(RowError, match="field 'name': Field required"):
        users.insert({})
    assert table_rows(db, "users") == []


def test_an_instance_changed_after_validation_is_validated_again(db: Database) -> None:
    users = db.table(User)
    changed = User(name="Ann")
    changed.age = "old"  # type: ignore[assignment] - Pydantic does not check assignments
    with pytest.raises(RowError, match="field 'age'"):
        users.insert(changed)
    built = User.model_construct(name="Ann", age=-5)  # skips validation
    with pytest.raises(RowError, match="greater than or equal to 0"):
        users.insert_many([User(name="Bob"), built])
    assert table_rows(db, "users") == []


def test_insert_breaking_a_constraint_is_a_row_error(db: Database) -> None:
    db.users.insert({"name": "Ann", "email": "a@x"})
    with pytest.raises(RowError, match=r"UNIQUE constraint failed: users\.email") as caught:
        db.users.insert({"name": "Bob", "email": "a@x"})
    assert caught.value.problems == [(None, "email", "UNIQUE constraint failed: users.email")]
    with pytest.raises(RowError, match="FOREIGN KEY constraint failed"):
        db.posts.insert({"user_id": 99, "title": "orphan"})
    assert len(table_rows(db, "users")) == 1
    assert table_rows(db, "posts") == []


# -- insert_many ----------------------------------------------------------------------------


def test_insert_many_assigns_generated_keys_to_the_returned_instances(db: Database) -> None:
    users = db.table(User)
    users.insert({"name": "first"})
    drafts = [User(name="Ann"), User(name="Bob")]
    rows = users.insert_many([*drafts, {"name": "Cy", "age": 30}])
    assert_type(rows, list[User])
    assert [(u.id, u.name) for u in rows] == [(2, "Ann"), (3, "Bob"), (4, "Cy")]
    assert [d.id for d in drafts] == [None, None]  # the arguments are left as they were
    assert users.find(where={"id": {"gte": 2}}, order_by="id") == rows


def test_insert_many_with_explicit_and_mixed_keys(db: Database) -> None:
    posts = db.table(Post)
    db.users.insert({"name": "Ann"})
    explicit = posts.insert_many([{"id": 10, "user_id": 1, "title": "a"}])
    assert [p.id for p in explicit] == [10]
    mixed = posts.insert_many(
        [
            {"user_id": 1, "title": "b"},
            {"id": 50, "user_id": 1, "title": "c"},
            {"user_id": 1, "title": "d"},
        ]
    )
    assert [p.id for p in mixed] == [11, 50, 51]
    assert [p.id for p in posts.find(order_by="id")] == [10, 11, 50, 51]
    assert [(p.id, p.title) for p in posts.find(order_by="id")] == [
        (10, "a"),
        (11, "b"),
        (50, "c"),
        (51, "d"),
    ]


def test_insert_many_takes_any_iterable_and_an_empty_one(db: Database) -> None:
    users = db.table(User)
    assert users.insert_many([]) == []
    rows = users.insert_many({"name": f"u{i}"} for i in range(3))
    assert [u.id for u in rows] == [1, 2, 3]


def test_insert_many_composite_keys(db: Database) -> None:
    db.users.insert_many([{"name": "Ann"}, {"name": "Bob"}])
    rows = db.memberships.insert_many(
        [
            {"user_id": 1, "group": "admins", "role": "owner"},
            {"user_id": 1, "group": "staff"},
            {"user_id": 2, "group": "staff"},
        ]
    )
    assert rows[1] == Membership(user_id=1, group="staff", role="member")
    assert db.memberships.get((1, "admins")) == rows[0]
    assert db.memberships.get((2, "staff")) == rows[2]
    assert db.memberships.get((2, "admins")) is None


def test_insert_many_validation_errors_list_every_bad_row_and_write_nothing(
    db: Database,
) -> None:
    users = db.table(User)
    users.insert({"name": "existing"})
    before = table_rows(db, "users")
    rows: list[Any] = [
        {"name": "ok"},
        {"name": "ok", "age": "x"},
        User(name="fine"),
        {"email": "e@x", "status": "gone"},
        {"name": "ok too"},
    ]
    with pytest.raises(RowError) as caught:
        users.insert_many(rows)
    problems = caught.value.problems
    assert [(index, field) for index, field, _ in problems] == [
        (1, "age"),
        (3, "name"),
        (3, "status"),
    ]
    assert problems[1][2] == "Field required"
    message = str(caught.value)
    assert message.splitlines()[0] == "table 'users': 3 invalid value(s), nothing was written:"
    assert "  row 1, field 'age': Input should be a valid integer" in message
    assert "  row 3, field 'name': Field required" in message
    assert "  row 3, field 'status': Input should be 'active' or 'banned'" in message
    assert table_rows(db, "users") == before


def test_insert_many_unique_violation_rolls_back_the_batch_and_names_the_row(
    db: Database,
) -> None:
    users = db.table(User)
    users.insert({"name": "Ann", "email": "ann@x"})
    before = table_rows(db, "users")
    # Against a stored row:
    batch = [{"name": "a", "email": "a@x"}, {"name": "b"}, {"name": "c", "email": "ann@x"}]
    with pytest.raises(RowError) as caught:
        users.insert_many(batch)
    assert caught.value.problems == [(2, "email", "UNIQUE constraint failed: users.email")]
    assert str(caught.value) == (
        "table 'users': row 2 violates a constraint, the whole batch was rolled back:\n"
        "  row 2, field 'email': UNIQUE constraint failed: users.email"
    )
    # Within the batch itself:
    batch = [{"name": "a", "email": "dup@x"}, {"name": "b"}, {"name": "c"}, {"email": "dup@x"}]
    batch[3]["name"] = "d"
    with pytest.raises(RowError, match="row 3 violates a constraint"):
        users.insert_many(batch)
    assert table_rows(db, "users") == before
    # The keys SQLite handed out in the failed batches are not skipped afterwards;
    # PostgreSQL's identity never hands one out again, even from a transaction rolled back.
    key = users.insert({"name": "next"}).id
    assert key == 2 if db.engine == "sqlite" else key is not None and key > 1


def test_insert_many_primary_key_conflict_with_mixed_keys(db: Database) -> None:
    users = db.table(User)
    users.insert({"name": "Ann"})
    with pytest.raises(RowError) as caught:
        users.insert_many([{"name": "a"}, {"id": 1, "name": "b"}])
    assert caught.value.problems == [(1, "id", "UNIQUE constraint failed: users.id")]
    assert [u.name for u in users.find()] == ["Ann"]


def test_insert_many_foreign_key_violation_rolls_back_the_batch(db: Database) -> None:
    db.users.insert({"name": "Ann"})
    with pytest.raises(RowError) as caught:
        db.posts.insert_many(
            [
                {"user_id": 1, "title": "ok"},
                {"user_id": 1, "title": "ok"},
                {"user_id": 7, "title": "x"},
            ]
        )
    message = "FOREIGN KEY constraint failed: no row of users has this id"
    assert caught.value.problems == [(2, "user_id", message)]
    assert str(caught.value).endswith(
        f"row 2 violates a constraint, the whole batch was rolled back:\n"
        f"  row 2, field 'user_id': {message}"
    )
    assert table_rows(db, "posts") == []


def test_insert_many_check_violation_from_enum_and_literal_columns(db_path: Path) -> None:
    """The database's CHECK still holds the old choices when the models grew new ones (sync
    cannot change a CHECK), so such rows pass validation and the database rejects them."""
    with database(schemas=MODELS, connection=db_path, sync_schemas=True) as db:
        db.users.insert({"name": "Ann"})

    class Status2(enum.Enum):
        ACTIVE = "active"
        BANNED = "banned"
        ARCHIVED = "archived"

    class User2(Table, table="users"):
        id: int | None = Field(default=None, primary_key=True, auto_increment=True)
        name: str = Field(max_length=10)
        email: str | None = Field(default=None, unique=True)
        age: int = Field(default=0, ge=0)
        status: Status2 = Status2.ACTIVE
        level: Literal[1, 2, 3] = 1

    with database(schemas=[User2], connection=db_path, sync_schemas=True) as db:
        before = table_rows(db, "users")
        users = db.table(User2)
        with pytest.raises(RowError) as caught:
            users.insert_many([{"name": "a"}, {"name": "b", "status": "archived"}])
        assert caught.value.problems == [(1, "status", "CHECK constraint failed: status")]
        assert "row 1, field 'status': CHECK constraint failed: status" in str(caught.value)
        with pytest.raises(RowError) as caught:
            users.insert_many([{"name": "a"}, {"name": "b"}, {"name": "c", "level": 3}])
        assert caught.value.problems == [(2, "level", "CHECK constraint failed: level")]
        with pytest.raises(RowError, match="CHECK constraint failed: level"):
            users.update(where={}, data={"level": 3})
        assert table_rows(db, "users") == before


def test_failed_batches_inside_an_outer_transaction(db: Database) -> None:
    users = db.table(User)
    users.insert({"name": "Ann", "email": "ann@x"})
    with db.transaction():
        users.insert({"name": "Bob"})
        with pytest.raises(RowError, match="row 1 violates a constraint"):
            users.insert_many([{"name": "c"}, {"name": "d", "email": "ann@x"}])
        with pytest.raises(RowError, match="row 0, field 'age'"):
            users.insert_many([{"name": "e", "age": -1}, {"name": "f"}])
        with pytest.raises(RowError, match="FOREIGN KEY"):
            db.posts.insert_many([{"user_id": 2, "title": "ok"}, {"user_id": 9, "title": "x"}])
        # The outer transaction is still open and usable.
        assert db.in_transaction and db.conn.in_transaction
        assert [u.name for u in users.find(order_by="id")] == ["Ann", "Bob"]
        users.insert_many([{"name": "Cy"}, {"name": "Dee"}])
        db.posts.insert({"user_id": 2, "title": "hello"})
    assert not db.conn.in_transaction
    assert [u.name for u in users.find(order_by="id")] == ["Ann", "Bob", "Cy", "Dee"]
    assert [p.title for p in db.posts.find()] == ["hello"]


def test_an_error_leaving_the_outer_transaction_rolls_back_every_write(db: Database) -> None:
    users = db.table(User)
    with pytest.raises(RuntimeError), db.transaction():
        users.insert_many([{"name": "Ann"}, {"name": "Bob"}])
        users.update(where={}, data={"age": 5})
        raise RuntimeError("give up")
    assert users.count() == 0
    # (PostgreSQL's identity does not take back the keys of a transaction rolled back)
    assert users.insert({"name": "Cy"}).id == (1 if db.engine == "sqlite" else 3)


# -- get, find ------------------------------------------------------------------------------


def test_get_by_primary_key(db: Database) -> None:
    users = db.table(User)
    users.insert_many([{"name": "Ann"}, {"name": "Bob"}])
    bob = users.get(2)
    assert_type(bob, User | None)
    assert bob is not None and bob.name == "Bob"
    assert users.get(3) is None


def test_get_with_a_composite_key(db: Database) -> None:
    db.users.insert({"name": "Ann"})
    db.memberships.insert({"user_id": 1, "group": "a"})
    db.memberships.insert({"user_id": 1, "group": "b", "role": "admin"})
    got = db.memberships.get((1, "b"))
    assert got == Membership(user_id=1, group="b", role="admin")
    assert db.memberships.get((1, "c")) is None
    with pytest.raises(QueryError, match=r"table 'memberships': primary key has 2 column\(s\)"):
        db.memberships.get(1)
    with pytest.raises(QueryError, match=r"got 3 value\(s\)"):
        db.memberships.get((1, "a", "x"))


def test_reads_return_fresh_instances(db: Database) -> None:
    users = db.table(User)
    users.insert({"name": "Ann"})
    first = users.get(1)
    assert first is not None
    first.name = "changed"
    assert users.get(1) == User(id=1, name="Ann")


# -- update ---------------------------------------------------------------------------------


@pytest.fixture
def people(db: Database) -> Repository[User]:
    users = db.table(User)
    users.insert_many(
        [
            {"name": "Ann", "age": 30, "email": "ann@x"},
            {"name": "Bob", "age": 17},
            {"name": "Cy", "age": 45, "status": "banned"},
        ]
    )
    return users


def test_update_returns_the_updated_rows(people: Repository[User]) -> None:
    updated = people.update(where={"age": {"gte": 18}}, data={"level": 2, "status": "banned"})
    assert_type(updated, list[User])
    assert sorted((u.name, u.level, u.status) for u in updated) == [
        ("Ann", 2, Status.BANNED),
        ("Cy", 2, Status.BANNED),
    ]
    assert people.get(2) == User(id=2, name="Bob", age=17)
    assert people.update(where={"name": "Nobody"}, data={"age": 1}) == []


def test_update_validates_the_given_fields(db: Database, people: Repository[User]) -> None:
    before = table_rows(db, "users")
    with pytest.raises(RowError) as caught:
        people.update(where={}, data={"age": "old", "name": "x" * 11, "status": "gone"})
    assert [(i, f) for i, f, _ in caught.value.problems] == [
        (None, "age"),
        (None, "name"),
        (None, "status"),
    ]
    assert "field 'age': Input should be a valid integer" in str(caught.value)
    with pytest.raises(RowError, match="greater than or equal to 0"):
        people.update(where={"name": "Ann"}, data={"age": -1})
    with pytest.raises(RowError, match="field 'name'"):
        people.update(where={"name": "Ann"}, data={"name": None})
    with pytest.raises(QueryError, match="table 'users' has no field or column 'agee'"):
        people.update(where={"name": "Ann"}, data={"agee": 1})
    assert table_rows(db, "users") == before


def test_update_converts_values_like_insert(people: Repository[User]) -> None:
    (ann,) = people.update(where={"name": "Ann"}, data={"age": "31", "status": Status.BANNED})
    assert ann.age == 31 and ann.status is Status.BANNED
    assert people.count(where={"status": "banned"}) == 2


def test_update_breaking_a_constraint_changes_nothing(
    db: Database, people: Repository[User]
) -> None:
    before = table_rows(db, "users")
    with pytest.raises(RowError, match=r"UNIQUE constraint failed: users\.email"):
        people.update(where={}, data={"email": "same@x"})
    assert table_rows(db, "users") == before


def test_update_with_empty_where_updates_every_row(people: Repository[User]) -> None:
    assert len(people.update(where={}, data={"level": 2})) == 3
    assert people.count(where={"level": 2}) == 3


def test_update_and_delete_need_the_where_keyword(people: Repository[User]) -> None:
    with pytest.raises(TypeError):
        people.update(data={"level": 2})  # type: ignore[call-arg]
    with pytest.raises(TypeError):
        people.update({}, {"level": 2})  # type: ignore[misc]
    with pytest.raises(TypeError):
        people.delete()  # type: ignore[call-arg]
    with pytest.raises(TypeError):
        people.delete({})  # type: ignore[misc]
    assert people.count(where={"level": 1}) == 3


def test_update_with_no_data_changes_nothing(people: Repository[User]) -> None:
    assert [u.name for u in people.update(where={"age": {"lt": 40}}, data={})] == ["Ann", "Bob"]


# -- delete, truncate -----------------------------------------------------------------------


def test_delete_returns_how_many_rows_it_deleted(people: Repository[User]) -> None:
    assert people.delete(where={"age": {"lt": 40}}) == 2
    assert people.delete(where={"age": {"lt": 40}}) == 0
    assert [u.name for u in people.find()] == ["Cy"]
    assert people.delete(where={}) == 1
    assert people.count() == 0


def test_deleting_a_referenced_row_is_a_row_error_and_deletes_nothing(
    db: Database, people: Repository[User]
) -> None:
    db.memberships.insert({"user_id": 2, "group": "staff"})  # no ON DELETE action
    with pytest.raises(RowError) as caught:
        people.delete(where={"age": {"lt": 40}})
    message = (
        "FOREIGN KEY constraint failed: a row to delete is still referenced by memberships.user_id"
    )
    assert caught.value.problems == [(None, None, message)]
    assert str(caught.value) == (
        f"table 'users': delete violates a constraint, nothing was deleted:\n  row: {message}"
    )
    assert people.count() == 3
    with pytest.raises(RowError, match="FOREIGN KEY"):
        people.truncate()
    assert people.count() == 3


def test_truncate_deletes_every_row_and_returns_the_count(
    db: Database, people: Repository[User]
) -> None:
    db.posts.insert_many([{"user_id": 1, "title": "a"}, {"user_id": 3, "title": "b"}])
    assert people.truncate() == 3
    assert people.count() == 0
    assert db.posts.count() == 0  # ON DELETE CASCADE still applies
    assert people.truncate() == 0


# -- upsert ---------------------------------------------------------------------------------


def test_upsert_inserts_when_nothing_matches(people: Repository[User]) -> None:
    row = people.upsert(
        where={"email": "dee@x"},
        create={"name": "Dee", "email": "dee@x"},
        update={"age": 99},
    )
    assert_type(row, User)
    assert row == User(id=4, name="Dee", email="dee@x")
    assert people.count() == 4


def test_upsert_updates_the_matching_row(people: Repository[User]) -> None:
    row = people.upsert(
        where={"email": "ann@x"},
        create={"name": "Ann", "email": "ann@x"},
        update={"age": 31, "level": 2},
    )
    assert row == User(id=1, name="Ann", email="ann@x", age=31, level=2)
    assert people.count() == 3
    assert people.get(1) == row


def test_upsert_validates_both_sides_and_writes_nothing_on_error(
    db: Database, people: Repository[User]
) -> None:
    before = table_rows(db, "users")
    with pytest.raises(RowError, match="field 'age'"):
        people.upsert(where={"email": "ann@x"}, create={"name": "Ann"}, update={"age": -3})
    with pytest.raises(RowError, match="field 'name'"):
        people.upsert(where={"email": "new@x"}, create={"email": "new@x"}, update={})
    with pytest.raises(RowError, match="UNIQUE"):
        people.upsert(where={"name": "Bob"}, create={"name": "Bob"}, update={"email": "ann@x"})
    assert table_rows(db, "users") == before


# -- reading rows of an evolved table -------------------------------------------------------


def test_rows_written_before_sync_added_columns_read_back_with_the_defaults(
    db_path: Path,
) -> None:
    class Account(Table, table="accounts"):
        id: int | None = Field(default=None, primary_key=True)
        name: str

    with database(schemas=[Account], connection=db_path, sync_schemas=True) as db:
        db.table(Account).insert_many([{"name": "Ann"}, {"name": "Bob"}])

    class Account2(Table, table="accounts"):  # v2: new columns with defaults, or nullable
        id: int | None = Field(default=None, primary_key=True)
        name: str
        karma: int = 0
        status: Status = Status.ACTIVE
        balance: Decimal = Decimal("0.00")
        timeout: timedelta = timedelta(minutes=5)
        since: date = date(2026, 1, 1)
        tags: list[str] = []
        verified: bool = False
        bio: str | None = None
        born: date | None = None

    with database(schemas=[Account2], connection=db_path, sync_schemas=True) as db:
        assert db.plan().in_sync
        accounts = db.table(Account2)
        ann, bob = accounts.find(order_by="id")
        assert ann == Account2(id=1, name="Ann")
        assert bob.karma == 0 and bob.status is Status.ACTIVE and bob.tags == []
        assert str(bob.balance) == "0.00" and bob.timeout == timedelta(minutes=5)
        assert bob.since == date(2026, 1, 1) and bob.verified is False
        assert bob.bio is None and bob.born is None
        # The new columns are ordinary columns: writable, and usable in where.
        accounts.update(where={"name": "Bob"}, data={"karma": 3, "bio": "hi"})
        cy = accounts.insert({"name": "Cy", "tags": ["new"], "born": date(2001, 2, 3)})
        assert cy.id == 3 and cy.karma == 0
        assert [a.name for a in accounts.find(where={"karma": {"gt": 0}})] == ["Bob"]
        assert [a.name for a in accounts.find(where={"bio": {"ne": None}})] == ["Bob"]


# -- models with aliases --------------------------------------------------------------------


class Contact(Table, table="contacts"):
    id: int | None = Field(default=None, primary_key=True)
    full_name: str = Field(alias="fullName")
    phone: str | None = Field(
        default=None, validation_alias=pydantic.AliasChoices("phoneNumber", "phone_no")
    )


class NamedContact(Table, table="named_contacts"):
    model_config = pydantic.ConfigDict(populate_by_name=True)

    id: int | None = Field(default=None, primary_key=True)
    full_name: str = Field(alias="fullName", column="name")


def test_models_with_aliases_round_trip(db_path: Path) -> None:
    schemas = [Contact, NamedContact]
    with database(schemas=schemas, connection=db_path, sync_schemas=True) as db:
        contacts = db.table(Contact)
        ann = contacts.insert({"fullName": "Ann", "phone_no": "123"})
        assert (ann.full_name, ann.phone) == ("Ann", "123")
        assert contacts.find(where={"full_name": "Ann"}) == [ann]
        (ann,) = contacts.update(where={"phone": "123"}, data={"phone": "456"})
        assert ann.phone == "456"
        named = db.table(NamedContact)
        named.insert_many([{"full_name": "Bob"}, {"fullName": "Cy"}, NamedContact(full_name="D")])
        assert [n.full_name for n in named.find(order_by="name")] == ["Bob", "Cy", "D"]
        assert db.raw("SELECT name FROM named_contacts WHERE id = 1") == [{"name": "Bob"}]


def test_unknown_keys_in_row_dicts_are_rejected_unless_the_model_sets_extra() -> None:
    class Person(Table, table="people_keys"):
        id: int | None = Field(default=None, primary_key=True)
        name: str = ""
        nick: str | None = Field(default=None, alias="nickname")

    class Loose(Table, table="loose_keys"):
        model_config = pydantic.ConfigDict(extra="ignore")
        id: int | None = Field(default=None, primary_key=True)
        name: str = ""

    db = database(schemas=[Person, Loose], connection=":memory:", sync_schemas=True)
    people = db.table(Person)
    with pytest.raises(RowError) as caught:
        people.insert_many([{"name": "Ann"}, {"nmae": "Bo"}])  # a typo would store ""
    assert caught.value.problems == [(1, "nmae", "unknown field (not in Person)")]
    assert people.count() == 0
    with pytest.raises(RowError, match="'nmae'"):
        people.insert({"nmae": "Bo"})
    assert people.insert({"name": "Cy", "nickname": "c"}).nick == "c"  # aliases are fields too
    # A model that states its own policy keeps it.
    assert db.table(Loose).insert({"name": "Di", "whatever": 1}).name == "Di"


# -- arguments a call cannot use ------------------------------------------------------------


@pytest.mark.parametrize(
    ("rows", "message"),
    [
        (None, r"table 'users': insert_many takes an iterable of rows \(got NoneType\)$"),
        (5, r"insert_many takes an iterable of rows \(got int\)$"),
        ("Ann", r"insert_many takes an iterable of rows \(got str\)$"),
        ({"name": "Ann"}, r"\(got dict\); use insert\(\) for one row"),
        (User(name="Ann"), r"\(got User\); use insert\(\) for one row"),
    ],
)
def test_insert_many_needs_an_iterable_of_rows(
    people: Repository[User], rows: Any, message: str
) -> None:
    with pytest.raises(RowError, match=message) as caught:
        people.insert_many(rows)
    assert caught.value.problems[0][:2] == (None, None)
    assert people.count() == 3


@pytest.mark.parametrize("data", [None, [("age", 1)], "age=1", 5])
def test_update_data_must_be_a_dict(people: Repository[User], data: Any) -> None:
    with pytest.raises(QueryError, match=r"table 'users': the values to set must be a dict"):
        people.update(where={}, data=data)
    with pytest.raises(QueryError, match=r"table 'users': the values to set must be a dict"):
        people.upsert(where={"name": "Ann"}, create={"name": "Ann"}, update=data)
    assert people.count(where={"age": 1}) == 0


def test_update_data_keys_must_name_fields(people: Repository[User]) -> None:
    keys: list[Any] = [1, None, ("age",)]
    for key in keys:
        with pytest.raises(QueryError, match=r"table 'users' has no field or column") as caught:
            people.update(where={}, data={key: 1})
        assert repr(key) in str(caught.value)


def test_get_with_keys_of_the_wrong_type(db: Database, people: Repository[User]) -> None:
    for pk in ("one", [1], object()):
        with pytest.raises(QueryError, match=r"table 'users': 'eq' on 'id' got .*field's type"):
            people.get(pk)
    # A dict is a key value, never operators: {"gte": 1} does not find the first row.
    with pytest.raises(QueryError, match=r"'eq' on 'id' got \{'gte': 1\}"):
        people.get({"gte": 1})
    with pytest.raises(QueryError, match=r"table 'memberships': primary key has 2 column\(s\)"):
        db.memberships.get([1, "a"])
    assert people.get(None) is None and people.get(True) == people.get(1)


def test_values_a_codec_cannot_store_are_row_errors(db_path: Path) -> None:
    class Doc(Table, table="docs"):
        id: int | None = Field(default=None, primary_key=True)
        title: str = ""
        body: dict[str, Any] = {}

    with database(schemas=[Doc], connection=db_path, sync_schemas=True) as db:
        docs = db.table(Doc)
        with pytest.raises(RowError) as caught:
            docs.insert_many([{"body": {"ok": 1}}, {"body": {"x": object()}}])
        ((index, field, message),) = caught.value.problems
        assert (index, field) == (1, "body") and message.startswith("cannot be stored: ")
        assert str(caught.value).startswith("table 'docs': 1 invalid value(s), nothing was")
        with pytest.raises(RowError, match=r"row, field 'body': cannot be stored"):
            docs.insert({"body": {"x": object()}})
        docs.insert({"title": "a"})
        with pytest.raises(RowError, match=r"row, field 'body': cannot be stored"):
            docs.update(where={}, data={"body": {"x": object()}})
        # Text sqlite3 cannot send to SQLite (a lone surrogate is not UTF-8).
        surrogate = "bad \ud800"
        lone = "text with a lone surrogate, which is not valid UTF-8"
        with pytest.raises(RowError) as caught:
            docs.insert_many([{"title": "fine"}, {"title": surrogate}])
        assert caught.value.problems == [(1, "title", lone)]
        with pytest.raises(RowError) as caught:
            docs.insert({"title": surrogate})
        assert caught.value.problems == [(None, "title", lone)]
        with pytest.raises(RowError) as caught:
            docs.update(where={}, data={"title": surrogate})
        assert caught.value.problems == [(None, "title", lone)]
        assert [(d.title, d.body) for d in docs.find()] == [("a", {})]


def test_stored_values_the_model_cannot_read_are_row_errors(db: Database) -> None:
    """Rows written behind the model's back (raw SQL, an older model) that it cannot read."""
    users = db.table(User)
    users.insert_many([{"name": "Ann"}, {"name": "Bob"}])
    if db.engine == "postgres":  # PostgreSQL enforces the declared type too
        db.raw("ALTER TABLE users DROP CONSTRAINT users_status_check, ALTER COLUMN name TYPE TEXT")
    else:
        db.raw("PRAGMA ignore_check_constraints = ON")
    db.raw("UPDATE users SET status = 'archived' WHERE name = 'Bob'")
    with pytest.raises(RowError) as caught:
        users.find(order_by="id")
    assert caught.value.problems == [(1, "status", "'archived' is not a valid Status")]
    assert str(caught.value) == (
        "table 'users': 1 stored value(s) cannot be read:\n"
        "  row 1, field 'status': 'archived' is not a valid Status"
    )
    db.raw("UPDATE users SET status = 'active', age = -1, name = 'far too long' WHERE id = 2")
    with pytest.raises(RowError) as caught:
        users.get(2)
    assert [(i, f) for i, f, _ in caught.value.problems] == [(0, "name"), (0, "age")]
    assert str(caught.value).startswith("table 'users': 2 stored value(s) rejected by User:")
    # Read back by a write: the write is undone.
    with pytest.raises(RowError, match="field 'age'"):
        users.update(where={"id": 2}, data={"level": 2})
    assert users.find(where={"name": "Ann"}) == [User(id=1, name="Ann")]
    assert db.raw("SELECT level FROM users WHERE id = 2") == [{"level": 1}]


def test_insert_reads_back_its_row_when_a_column_is_named_rowid() -> None:
    class Entry(Table, table="entries"):
        code: str = Field(primary_key=True)
        rowid: int = 0  # shadows SQLite's own rowid name

    with database(schemas=[Entry], connection=":memory:", sync_schemas=True) as db:
        entries = db.table(Entry)
        assert entries.insert({"code": "a", "rowid": 5}) == Entry(code="a", rowid=5)
        assert entries.insert({"code": "b", "rowid": 1}) == Entry(code="b", rowid=1)
        assert entries.insert({"code": "c", "rowid": 1}) == Entry(code="c", rowid=1)


def test_update_stores_the_values_the_model_validators_return() -> None:
    class Account(Table, table="accounts"):
        id: int | None = Field(default=None, primary_key=True)
        email: str

        @pydantic.field_validator("email")
        @classmethod
        def lower_case(cls, value: str) -> str:
            return value.strip().lower()

    with database(schemas=[Account], connection=":memory:", sync_schemas=True) as db:
        accounts = db.table(Account)
        accounts.insert_many([{"email": "Ann@X.org"}, {"email": "bo@x.org"}])
        updated = accounts.update(where={"id": 1}, data={"email": " Anna@X.org "})
        assert [a.email for a in updated] == ["anna@x.org"]
        # What update returned is what the table holds, so it can be found again.
        assert db.raw("SELECT email FROM accounts ORDER BY id") == [
            {"email": "anna@x.org"},
            {"email": "bo@x.org"},
        ]
        assert accounts.find(where={"email": "anna@x.org"}) == updated


def test_insert_whose_stored_row_the_model_rejects_keeps_nothing() -> None:
    calls = {"n": 0}

    class Once(Table, table="validated_once"):
        id: int | None = Field(default=None, primary_key=True)
        name: str

        @pydantic.field_validator("name")
        @classmethod
        def only_first_time(cls, value: str) -> str:
            calls["n"] += 1
            if calls["n"] > 1:
                raise ValueError("seen before")
            return value

    db = database(schemas=[Once], connection=":memory:", sync_schemas=True)
    with pytest.raises(RowError, match="seen before"):
        db.table(Once).insert({"name": "x"})
    assert db.raw("SELECT count(*) AS n FROM validated_once") == [{"n": 0}]


def test_a_failed_statement_caught_in_a_block_leaves_the_blocks_other_writes(
    db: Database,
) -> None:
    """A statement that fails inside a transaction block, its error caught, is undone alone:
    the block's other writes commit (on PostgreSQL, whose transaction would fail whole, the
    statement runs in a savepoint of its own)."""
    users = db.table(User)
    with db.transaction():
        users.insert({"name": "Ann", "email": "a@x"})
        with pytest.raises(Exception, match=r"(?i)unique"):
            db.raw("INSERT INTO users (name, email) VALUES ('Dup', 'a@x')")
        with pytest.raises(RowError):
            users.insert({"name": "Dup", "email": "a@x"})
        users.insert({"name": "Bob"})
    assert [u.name for u in users.find(order_by="id")] == ["Ann", "Bob"]


def test_text_compares_and_sorts_by_its_bytes(db: Database) -> None:
    """As SQLite's BINARY collation: upper case before lower case, ``like`` ignoring ASCII
    case only (PostgreSQL's text columns are ``COLLATE "C"``)."""
    users = db.table(User)
    users.insert_many([{"name": n} for n in ("b", "école", "A", "École", "a", "_x", "B")])
    assert [u.name for u in users.find(order_by="name")] == [
        "A",
        "B",
        "_x",
        "a",
        "b",
        "École",
        "école",
    ]
    assert [u.name for u in users.find(where={"name": {"gt": "a"}}, order_by="name")] == [
        "b",
        "École",
        "école",
    ]
    assert [u.name for u in users.find(where={"name": {"like": "é%"}})] == ["école"]
    assert sorted(u.name for u in users.find(where={"name": {"like": "a%"}})) == ["A", "a"]
