"""``where`` dicts: every operator, NULL handling, and/or, keys, errors; order_by/limit/offset."""

from __future__ import annotations

import enum
import gc
import weakref
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from decimal import Decimal
from typing import Any

import pytest

from hedystia_models import Database, Field, Table, database
from hedystia_models.errors import QueryError
from hedystia_models.model.table import table_info
from hedystia_models.rows.repository import Repository
from hedystia_models.rows.where import OPERATORS, compile_where


class Status(enum.Enum):
    ACTIVE = "active"
    BANNED = "banned"


class User(Table, table="users"):
    id: int | None = Field(default=None, primary_key=True)
    name: str
    age: int | None = None
    status: Status = Status.ACTIVE
    nick: str | None = Field(default=None, column="nickname")
    joined: datetime = datetime(2026, 1, 1, tzinfo=timezone.utc)
    tags: list[str] = []
    balance: Decimal = Decimal("0")
    wait: timedelta = timedelta(0)
    vip: bool = False


ROWS: list[dict[str, Any]] = [
    {"name": "Ann", "age": 30, "nick": "annie", "tags": ["a"], "balance": Decimal("10.50")},
    {"name": "Bob", "age": None, "status": "banned", "wait": timedelta(minutes=5)},
    {
        "name": "Cy",
        "age": 17,
        "nick": "cy",
        "vip": True,
        "joined": datetime(2025, 6, 1, tzinfo=timezone.utc),
    },
    {"name": "Dee", "age": 45, "status": "banned", "tags": ["a", "b"]},
    {"name": "ann", "age": None, "nick": None, "joined": datetime(2027, 1, 1, tzinfo=timezone.utc)},
]


@pytest.fixture
def db() -> Iterator[Database]:
    db = database(schemas=[User], connection=":memory:", sync_schemas=True)
    db.table(User).insert_many(ROWS)
    yield db
    db.close()


@pytest.fixture
def users(db: Database) -> Repository[User]:
    return db.table(User)


def names(repo: Repository[User], where: Any = None, **kwargs: Any) -> list[str]:
    """Names of the matching rows, in id order unless ``order_by`` is given."""
    kwargs.setdefault("order_by", "id")
    return [u.name for u in repo.find(where=where, **kwargs)]


# -- equality and comparisons ---------------------------------------------------------------


def test_equality_by_plain_value(users: Repository[User]) -> None:
    assert names(users, {"name": "Ann"}) == ["Ann"]  # = is case-sensitive
    assert names(users, {"name": "Ann", "age": 30}) == ["Ann"]  # keys are ANDed
    assert names(users, {"name": "Ann", "age": 31}) == []


def test_eq_none_is_null(users: Repository[User]) -> None:
    assert names(users, {"age": None}) == ["Bob", "ann"]
    assert names(users, {"age": {"eq": None}}) == ["Bob", "ann"]
    assert names(users, {"age": {"eq": 17}}) == ["Cy"]


def test_ne_is_null_safe(users: Repository[User]) -> None:
    """``ne`` is ``IS NOT``: rows whose value is NULL are "not equal" to a value."""
    assert names(users, {"age": {"ne": 30}}) == ["Bob", "Cy", "Dee", "ann"]
    assert names(users, {"age": {"ne": None}}) == ["Ann", "Cy", "Dee"]
    assert names(users, {"nick": {"ne": "cy"}}) == ["Ann", "Bob", "Dee", "ann"]
    # ne and eq split the table in two, NULLs included.
    for value in (30, None, 99):
        eq = users.count(where={"age": {"eq": value}})
        ne = users.count(where={"age": {"ne": value}})
        assert eq + ne == users.count()


@pytest.mark.parametrize(
    ("op", "expected"),
    [
        ("gt", ["Ann", "Dee"]),
        ("gte", ["Ann", "Dee"]),
        ("lt", ["Cy"]),
        ("lte", ["Cy"]),
    ],
)
def test_comparisons_never_match_null(
    users: Repository[User], op: str, expected: list[str]
) -> None:
    bound = 18 if op in ("gt", "lt") else 17 if op == "lte" else 30
    assert names(users, {"age": {op: bound}}) == expected


def test_comparison_bounds_are_inclusive_or_exclusive(users: Repository[User]) -> None:
    assert names(users, {"age": {"gt": 30}}) == ["Dee"]
    assert names(users, {"age": {"gte": 30}}) == ["Ann", "Dee"]
    assert names(users, {"age": {"lt": 30}}) == ["Cy"]
    assert names(users, {"age": {"lte": 30}}) == ["Ann", "Cy"]


def test_several_operators_on_one_field_are_anded(users: Repository[User]) -> None:
    assert names(users, {"age": {"gte": 18, "lt": 40}}) == ["Ann"]
    assert names(users, {"age": {"gt": 18, "ne": 30}}) == ["Dee"]


def test_values_are_encoded_like_stored_values(users: Repository[User]) -> None:
    cutoff = datetime(2026, 1, 1, tzinfo=timezone.utc)
    assert names(users, {"joined": {"lt": cutoff}}) == ["Cy"]
    assert names(users, {"joined": {"gt": cutoff}}) == ["ann"]
    assert names(users, {"status": Status.BANNED}) == ["Bob", "Dee"]
    assert names(users, {"status": "banned"}) == ["Bob", "Dee"]  # the value works too
    assert names(users, {"balance": Decimal("10.50")}) == ["Ann"]
    assert names(users, {"wait": {"gt": timedelta(minutes=1)}}) == ["Bob"]
    assert names(users, {"tags": {"eq": ["a", "b"]}}) == ["Dee"]  # JSON compares as its text
    assert names(users, {"tags": {"eq": []}}) == ["Bob", "Cy", "ann"]
    assert names(users, {"vip": True}) == ["Cy"]  # stored as 1
    assert names(users, {"vip": {"ne": True}}) == ["Ann", "Bob", "Dee", "ann"]


def test_values_of_another_form_are_validated_against_the_field_type(
    users: Repository[User],
) -> None:
    assert names(users, {"joined": {"lt": "2026-01-01T00:00:00Z"}}) == ["Cy"]
    assert names(users, {"wait": 300}) == ["Bob"]  # seconds, as Pydantic reads a timedelta
    with pytest.raises(QueryError, match=r"table 'users': 'eq' on 'status' got 'gone'"):
        users.find(where={"status": "gone"})
    with pytest.raises(QueryError, match=r"'in' on 'joined' got 'soon'"):
        users.find(where={"joined": {"in": ["soon"]}})


# -- like, in, not_in, is_null --------------------------------------------------------------


def test_like(users: Repository[User]) -> None:
    assert names(users, {"name": {"like": "A%"}}) == ["Ann", "ann"]  # ASCII case-insensitive
    assert names(users, {"name": {"like": "_y"}}) == ["Cy"]
    assert names(users, {"name": {"like": "%e%"}}) == ["Dee"]
    assert names(users, {"nick": {"like": "%"}}) == ["Ann", "Cy"]  # NULL is not like anything
    assert names(users, {"name": {"like": "Ann"}}) == ["Ann", "ann"]


def test_in_and_not_in(users: Repository[User]) -> None:
    assert names(users, {"age": {"in": [17, 45, 99]}}) == ["Cy", "Dee"]
    assert names(users, {"age": {"in": (17,)}}) == ["Cy"]  # any iterable
    assert names(users, {"status": {"in": [Status.BANNED]}}) == ["Bob", "Dee"]
    # not_in is null-safe like ne: NULL is not in a list of values.
    assert names(users, {"age": {"not_in": [17, 45]}}) == ["Ann", "Bob", "ann"]


def test_in_and_not_in_with_none_in_the_list(users: Repository[User]) -> None:
    """``in`` is an OR of ``eq`` and ``not_in`` an AND of ``ne``, so None stands for NULL."""
    assert names(users, {"age": {"in": [30, None]}}) == ["Ann", "Bob", "ann"]
    assert names(users, {"age": {"in": [None]}}) == ["Bob", "ann"]
    assert names(users, {"age": {"not_in": [30, None]}}) == ["Cy", "Dee"]
    assert names(users, {"age": {"not_in": [None]}}) == ["Ann", "Cy", "Dee"]
    for values in ([30, None], [None], [17, 45], [99]):
        either = users.count(where={"age": {"in": values}}) + users.count(
            where={"age": {"not_in": values}}
        )
        assert either == users.count()


def test_in_and_not_in_with_empty_lists(users: Repository[User]) -> None:
    assert names(users, {"age": {"in": []}}) == []
    assert names(users, {"age": {"not_in": []}}) == ["Ann", "Bob", "Cy", "Dee", "ann"]


def test_in_needs_a_list(users: Repository[User]) -> None:
    with pytest.raises(QueryError, match=r"table 'users': 'in' on 'name' takes a list"):
        users.find(where={"name": {"in": "Ann"}})
    with pytest.raises(QueryError, match=r"'not_in' on 'age' takes a list"):
        users.find(where={"age": {"not_in": 5}})


def test_is_null(users: Repository[User]) -> None:
    assert names(users, {"age": {"is_null": True}}) == ["Bob", "ann"]
    assert names(users, {"age": {"is_null": False}}) == ["Ann", "Cy", "Dee"]
    assert names(users, {"nick": {"is_null": True}}) == ["Bob", "Dee", "ann"]
    with pytest.raises(QueryError, match=r"'is_null' on 'age' takes True or False"):
        users.find(where={"age": {"is_null": "no"}})


# -- and / or -------------------------------------------------------------------------------


def test_or_and_and(users: Repository[User]) -> None:
    assert names(users, {"or": [{"name": "Ann"}, {"age": 17}]}) == ["Ann", "Cy"]
    assert names(users, {"and": [{"status": "banned"}, {"age": {"ne": None}}]}) == ["Dee"]
    # Top-level keys and an "or" are ANDed.
    assert names(users, {"status": "banned", "or": [{"age": 45}, {"age": None}]}) == [
        "Bob",
        "Dee",
    ]


def test_nested_and_or(users: Repository[User]) -> None:
    where = {
        "or": [
            {"and": [{"status": "banned"}, {"or": [{"age": {"gt": 40}}, {"name": "Zed"}]}]},
            {"and": [{"age": {"lt": 20}}, {"nick": {"is_null": False}}]},
            {"name": {"like": "a%"}, "age": {"is_null": True}, "nick": None},
        ]
    }
    assert names(users, where) == ["Cy", "Dee", "ann"]


def test_empty_or_matches_nothing_and_empty_and_everything(users: Repository[User]) -> None:
    assert names(users, {"or": []}) == []
    assert names(users, {"and": []}) == ["Ann", "Bob", "Cy", "Dee", "ann"]


def test_and_or_need_a_list_of_dicts(users: Repository[User]) -> None:
    with pytest.raises(QueryError, match=r"table 'users': 'or' takes a list of where dicts"):
        users.find(where={"or": {"name": "Ann"}})
    with pytest.raises(QueryError, match=r"'and' takes a list"):
        users.find(where={"and": "name"})


def test_empty_where_matches_every_row(users: Repository[User]) -> None:
    assert users.count(where={}) == users.count(where=None) == users.count() == 5
    assert len(users.find(where={})) == 5


# -- keys -----------------------------------------------------------------------------------


def test_keys_may_be_field_or_column_names(users: Repository[User]) -> None:
    assert names(users, {"nick": "annie"}) == names(users, {"nickname": "annie"}) == ["Ann"]
    assert names(users, {"NickName": "annie"}) == ["Ann"]  # column names ignore case, as SQL


def test_unknown_key_is_a_query_error_naming_the_table(users: Repository[User]) -> None:
    with pytest.raises(QueryError) as caught:
        users.find(where={"nmae": "Ann"})
    message = str(caught.value)
    assert "table 'users'" in message and "'nmae'" in message
    assert "fields: id, name, age, status, nick, joined, tags, balance, wait, vip" in message
    for call in (
        lambda: users.count(where={"nope": 1}),
        lambda: users.exists(where={"or": [{"name": "Ann"}, {"nope": 1}]}),
        lambda: users.delete(where={"nope": 1}),
        lambda: users.update(where={"nope": 1}, data={"age": 1}),
        lambda: users.find_first(where={"and": [{"nope": None}]}),
    ):
        with pytest.raises(QueryError, match="table 'users' has no field or column 'nope'"):
            call()
    assert users.count() == 5


def test_unknown_operator_is_a_query_error(users: Repository[User]) -> None:
    with pytest.raises(QueryError) as caught:
        users.find(where={"age": {"within": [1, 2]}})
    assert str(caught.value) == (
        "table 'users': unknown operator 'within' on 'age' (operators: "
        + ", ".join(OPERATORS)
        + ")"
    )


def test_where_must_be_a_dict(users: Repository[User]) -> None:
    with pytest.raises(QueryError, match="table 'users': where must be a dict"):
        users.find(where=[("name", "Ann")])  # type: ignore[arg-type]


# -- values are bound parameters ------------------------------------------------------------

INJECTION = "x'); DROP TABLE users; --"


def test_values_are_bound_never_spliced(db: Database, users: Repository[User]) -> None:
    row = users.insert({"name": INJECTION, "nick": '"; DELETE FROM users; --'})
    assert row.name == INJECTION
    assert db.raw("SELECT name, nickname FROM users WHERE id = ?", [row.id]) == [
        {"name": INJECTION, "nickname": '"; DELETE FROM users; --'}
    ]
    assert names(users, {"name": INJECTION}) == [INJECTION]
    assert names(users, {"name": {"like": "%DROP TABLE%"}}) == [INJECTION]
    assert names(users, {"name": {"in": [INJECTION, "' OR 1=1 --"]}}) == [INJECTION]
    assert names(users, {"name": "' OR '1'='1"}) == []
    (updated,) = users.update(where={"name": INJECTION}, data={"nick": INJECTION})
    assert updated.nick == INJECTION
    assert users.delete(where={"nick": INJECTION}) == 1
    assert users.count() == 5  # the table and its other rows are intact


def test_compiled_sql_holds_placeholders_only(users: Repository[User]) -> None:
    sql, params = compile_where(
        table_info(User),
        {"name": INJECTION, "or": [{"age": {"in": [1, 2]}}, {"nick": {"ne": "x"}}]},
    )
    assert INJECTION not in sql
    assert sql == '"name" = ? AND (("age" IN (?, ?)) OR ("nickname" IS NOT ?))'
    assert params == [INJECTION, 1, 2, "x"]


def test_keys_are_not_sql(users: Repository[User]) -> None:
    with pytest.raises(QueryError, match="has no field or column"):
        users.find(where={"name = 'x' OR 1=1 --": 1})
    with pytest.raises(QueryError, match="cannot order by unknown field"):
        users.find(order_by="name; DROP TABLE users")


# -- order_by, limit, offset ----------------------------------------------------------------


def test_order_by_field_descending_and_lists(users: Repository[User]) -> None:
    assert names(users, order_by="name") == ["Ann", "Bob", "Cy", "Dee", "ann"]  # binary order
    assert names(users, order_by="-name") == ["ann", "Dee", "Cy", "Bob", "Ann"]
    assert names(users, order_by=["-status", "name"]) == ["Bob", "Dee", "Ann", "Cy", "ann"]
    assert names(users, order_by=["status", "-id"]) == ["ann", "Cy", "Ann", "Dee", "Bob"]
    # NULLs sort first ascending, last descending (SQLite's rule).
    assert names(users, order_by=["age", "id"]) == ["Bob", "ann", "Cy", "Ann", "Dee"]
    assert names(users, order_by=["-nickname", "id"]) == ["Cy", "Ann", "Bob", "Dee", "ann"]


def test_limit_and_offset(users: Repository[User]) -> None:
    assert names(users, limit=2) == ["Ann", "Bob"]
    assert names(users, limit=2, offset=2) == ["Cy", "Dee"]
    assert names(users, offset=3) == ["Dee", "ann"]  # offset without limit
    assert names(users, limit=0) == []
    assert names(users, limit=10, offset=10) == []
    assert names(users, {"status": "banned"}, order_by="-id", limit=1) == ["Dee"]


def test_find_first_count_exists(users: Repository[User]) -> None:
    first = users.find_first(where={"status": "banned"}, order_by="-age")
    assert first is not None and first.name == "Dee"  # NULL age sorts last descending
    assert users.find_first(where={"name": "Nobody"}) is None
    assert users.count(where={"age": {"is_null": False}}) == 3
    assert users.exists(where={"name": "Cy"})
    assert not users.exists(where={"name": "Nobody"})
    assert users.exists({"or": [{"name": "Nobody"}, {"age": 45}]})


def test_unknown_order_by_field_is_a_query_error(users: Repository[User]) -> None:
    with pytest.raises(QueryError, match=r"table 'users': cannot order by unknown field 'nmae'"):
        users.find(order_by=["id", "-nmae"])


def test_scalar_where_values_of_the_wrong_kind_are_validated(users: Repository[User]) -> None:
    # Values the field's type accepts are converted, as when writing.
    assert names(users, {"age": "30"}) == ["Ann"]
    assert names(users, {"age": {"gt": 17.5}}) == ["Ann", "Dee"]  # numbers compare freely
    assert names(users, {"balance": "10.50"}) == ["Ann"]
    # Values that are not of the field's type at all are an error, not an empty result.
    for where in ({"age": "thirty"}, {"name": 5}, {"vip": "maybe"}, {"age": {"in": [30, "x"]}}):
        with pytest.raises(QueryError, match="users"):
            users.find(where=where)


def test_the_compiler_is_still_importable_from_the_repository_module() -> None:
    from hedystia_models.rows import repository

    assert repository.compile_where is compile_where and repository.OPERATORS is OPERATORS


# -- arguments that cannot be compiled ------------------------------------------------------


@pytest.mark.parametrize("where", [[], "", 0, "name", [("name", "Ann")], 5])
def test_a_where_that_is_not_a_dict_is_an_error_even_when_empty(
    users: Repository[User], where: Any
) -> None:
    with pytest.raises(QueryError, match=r"^table 'users': where must be a dict \(got "):
        users.find(where=where)
    with pytest.raises(QueryError, match="where must be a dict"):
        users.delete(where=where)
    assert users.count() == 5


def test_where_keys_must_be_names(users: Repository[User]) -> None:
    keys: list[Any] = [1, None, ("name",)]
    for key in keys:
        with pytest.raises(QueryError, match=r"table 'users' has no field or column") as caught:
            users.find(where={key: "Ann"})
        assert repr(key) in str(caught.value)
    with pytest.raises(QueryError, match=r"unknown operator 1 on 'age'"):
        users.find(where={"age": {1: 2}})


def test_and_or_items_must_be_dicts(users: Repository[User]) -> None:
    for items in ([None], [{"name": "Ann"}, 5], [[("name", "Ann")]]):
        with pytest.raises(QueryError, match=r"table 'users': 'or' takes a list of where dicts"):
            users.find(where={"or": items})
    assert names(users, {"or": [{}]}) == names(users)  # an empty dict still matches all


def test_like_takes_a_pattern_string(users: Repository[User]) -> None:
    for pattern in (5, None, ["A%"], object()):
        with pytest.raises(QueryError, match=r"table 'users': 'like' on 'name' takes a pattern"):
            users.find(where={"name": {"like": pattern}})


def test_in_does_not_take_a_dict(users: Repository[User]) -> None:
    with pytest.raises(QueryError, match=r"table 'users': 'in' on 'name' takes a list"):
        users.find(where={"name": {"in": {"Ann": 1}}})
    assert names(users, {"name": {"in": {"Ann", "Cy"}}}) == ["Ann", "Cy"]  # a set is fine


def test_values_sqlite_cannot_bind_are_query_errors(users: Repository[User]) -> None:
    with pytest.raises(QueryError, match=r"'eq' on 'name' got '\\ud800': text with a lone"):
        users.find(where={"name": "\ud800"})
    with pytest.raises(QueryError, match=r"'like' on 'nick' takes a pattern string"):
        users.find(where={"nick": {"like": "\ud800%"}})
    # Validated first (a string for an int field), then checked like any other value.
    with pytest.raises(QueryError, match=r"'gt' on 'age' got '100000000000000000000': integer"):
        users.find(where={"age": {"gt": str(10**20)}})
    with pytest.raises(QueryError, match=r"'in' on 'wait' got .*64-bit INTEGER range"):
        users.find(where={"wait": {"in": [timedelta(days=110_000_000)]}})


@pytest.mark.parametrize(
    "order_by", [5, [5], ["name", None], b"name", {"name": "desc"}, [["name"]]]
)
def test_order_by_takes_names(users: Repository[User], order_by: Any) -> None:
    with pytest.raises(QueryError, match=r"^table 'users': order_by takes a field name or a list"):
        users.find(order_by=order_by)


def test_order_by_takes_any_iterable_of_names(users: Repository[User]) -> None:
    assert names(users, order_by=(n for n in ["-status", "name"])) == names(
        users, order_by=["-status", "name"]
    )


@pytest.mark.parametrize("value", ["x", "2", 1.5, True, -1, 2**63, [1]])
@pytest.mark.parametrize("argument", ["limit", "offset"])
def test_limit_and_offset_take_integers_from_zero(
    users: Repository[User], argument: str, value: Any
) -> None:
    with pytest.raises(QueryError) as caught:
        users.find(**{argument: value})
    assert str(caught.value) == (
        f"table 'users': {argument} must be an integer from 0 up, or None (got {value!r})"
    )


def test_limit_and_offset_bounds(users: Repository[User]) -> None:
    assert names(users, limit=2**63 - 1, offset=4) == ["ann"]
    assert names(users, limit=None, offset=None) == names(users)
    assert names(users, limit=0, offset=0) == []


def test_models_are_not_kept_alive_by_a_cache() -> None:
    """Type adapters for where values and update data are kept by the table's repository,
    not by a module-level cache keyed by model classes."""

    def use_a_temporary_model() -> weakref.ref[type[Table]]:
        class Temporary(Table, table="temporary"):
            id: int | None = Field(default=None, primary_key=True)
            at: datetime | None = None

        with database(schemas=[Temporary], connection=":memory:", sync_schemas=True) as db:
            repo = db.table(Temporary)
            repo.insert({"at": "2026-01-01T00:00:00"})
            assert repo.count(where={"at": {"lt": "2027-01-01T00:00:00"}}) == 1
            assert len(repo.update(where={}, data={"at": "2026-02-01T00:00:00"})) == 1
            compile_where(table_info(Temporary), {"at": {"gt": "2026-01-01T00:00:00"}})
        return weakref.ref(Temporary)

    gone = use_a_temporary_model()
    gc.collect()
    assert gone() is None


def test_a_uuid_given_in_another_form_finds_its_row() -> None:
    from uuid import UUID, uuid4  # only these tests use UUIDs

    class Token(Table, table="tokens"):
        id: UUID = Field(default_factory=uuid4, primary_key=True)

    with database(schemas=[Token], connection=":memory:", sync_schemas=True) as db:
        tokens = db.table(Token)
        token = tokens.insert({})
        assert tokens.get(str(token.id).upper()) == token
        assert tokens.get(token.id.hex) == token
        assert tokens.find(where={"id": {"in": [token.id.urn]}}) == [token]


def test_a_where_integer_beyond_64_bits_is_a_query_error_naming_the_field() -> None:
    class Big(Table, table="big_where"):
        id: int | None = Field(default=None, primary_key=True)

    db = database(schemas=[Big], connection=":memory:", sync_schemas=True)
    for call in (
        lambda: db.table(Big).find(where={"id": 2**70}),
        lambda: db.table(Big).count(where={"id": {"gt": -(2**70)}}),
        lambda: db.table(Big).delete(where={"id": 2**64}),
    ):
        with pytest.raises(QueryError, match=r"'id'.*64-bit"):
            call()
