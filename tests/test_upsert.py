"""``upsert`` (issue 13): one ``INSERT ... ON CONFLICT DO UPDATE`` when ``where`` names a
unique key, the lookup-then-write transaction otherwise; never two rows for one key, whatever
the threads and processes do."""

from __future__ import annotations

import subprocess
import sys
import textwrap
import threading
from pathlib import Path
from typing import Any

import pytest

from hedystia_models import Database, Field, Index, Repository, RowError, Table, database


class Counter(Table, table="counters", indexes=[Index("scope", "name", unique=True)]):
    id: int | None = Field(default=None, primary_key=True, auto_increment=True)
    scope: str
    name: str
    email: str | None = Field(default=None, unique=True)
    value: int = Field(default=0, ge=0)
    note: str = ""


class Keyed(Table, table="keyed"):
    code: str = Field(primary_key=True)
    value: int = 0


MODELS = [Counter, Keyed]


@pytest.fixture
def db(connect: Any) -> Database:
    """The models on a new database, on each engine."""
    db: Database = connect(schemas=MODELS, sync_schemas=True)
    return db


@pytest.fixture
def counters(db: Database) -> Repository[Counter]:
    return db.table(Counter)


def traced(db: Database, call: Any) -> tuple[Any, list[str]]:
    """``call()``'s result and the row statements it ran on this thread's connection."""
    statements: list[str] = []
    db.conn.set_trace_callback(statements.append)
    try:
        result = call()
    finally:
        db.conn.set_trace_callback(None)
    return result, [s for s in statements if s.split()[0] in ("INSERT", "UPDATE", "SELECT")]


def test_a_unique_key_is_one_statement(db: Database, counters: Repository[Counter]) -> None:
    def upsert() -> Counter:
        return counters.upsert(
            where={"email": "a@x"},
            create={"scope": "s", "name": "n", "email": "a@x", "value": 1},
            update={"value": 2},
        )

    created, statements = traced(db, upsert)
    assert created.value == 1 and len(statements) == 1, statements
    assert statements[0].startswith('INSERT INTO "counters"') and "ON CONFLICT" in statements[0]
    updated, statements = traced(db, upsert)
    assert (updated.id, updated.value) == (created.id, 2) and len(statements) == 1


@pytest.mark.parametrize(
    "where",
    [
        {"scope": "s", "name": "n"},  # a unique index on two fields
        {"name": {"eq": "n"}, "scope": "s"},  # any order, eq spelt out
        {"id": 1},  # the primary key
    ],
)
def test_other_unique_keys_are_one_statement(
    db: Database, counters: Repository[Counter], where: dict[str, Any]
) -> None:
    counters.insert({"scope": "s", "name": "n", "value": 5})
    create = {"id": 1, "scope": "s", "name": "n"}
    row, statements = traced(
        db, lambda: counters.upsert(where=where, create=create, update={"value": 6})
    )
    assert (row.id, row.value) == (1, 6) and len(statements) == 1, statements
    assert counters.count() == 1


@pytest.mark.parametrize(
    ("where", "create"),
    [
        ({"name": "n"}, {"scope": "s", "name": "n"}),  # not a unique key
        ({"scope": "s", "name": "n", "value": 5}, {"scope": "s", "name": "n"}),  # more than one
        ({"email": "a@x"}, {"scope": "s", "name": "other", "email": "b@x"}),  # create differs
        ({"id": 1}, {"scope": "s", "name": "n"}),  # create leaves the key to SQLite
        ({"email": {"in": ["a@x"]}}, {"scope": "s", "name": "n", "email": "a@x"}),  # not eq
    ],
)
def test_other_wheres_look_up_then_write(
    db: Database, counters: Repository[Counter], where: dict[str, Any], create: dict[str, Any]
) -> None:
    counters.insert({"scope": "s", "name": "n", "email": "a@x", "value": 5})
    row, statements = traced(
        db, lambda: counters.upsert(where=where, create=create, update={"note": "u"})
    )
    assert statements[0].startswith("SELECT"), statements
    assert (row.id, row.note, row.value) == (1, "u", 5)
    assert counters.count() == 1


def test_an_empty_update_returns_the_row_unchanged(counters: Repository[Counter]) -> None:
    create = {"scope": "s", "name": "n", "email": "a@x", "value": 3}
    first = counters.upsert(where={"email": "a@x"}, create=create, update={})
    again = counters.upsert(where={"email": "a@x"}, create={**create, "value": 9}, update={})
    assert again == first and again.value == 3
    assert counters.count() == 1


def test_a_key_with_a_null_value_is_never_a_conflict(counters: Repository[Counter]) -> None:
    # UNIQUE lets many NULLs in, so where={"email": None} is a lookup, as eq None is IS NULL.
    create = {"scope": "s", "name": "n"}
    first = counters.upsert(where={"email": None}, create=create, update={"value": 1})
    second = counters.upsert(where={"email": None}, create=create, update={"value": 2})
    assert first.id == second.id and second.value == 2
    assert counters.count() == 1


def test_both_sides_are_validated_before_anything(
    db: Database, counters: Repository[Counter]
) -> None:
    counters.insert({"scope": "s", "name": "n", "email": "a@x"})
    before = db.raw("SELECT * FROM counters")
    with pytest.raises(RowError, match="field 'value'"):
        counters.upsert(
            where={"email": "a@x"},
            create={"scope": "s", "name": "n", "email": "a@x"},
            update={"value": -1},
        )
    with pytest.raises(RowError, match="field 'name'"):
        counters.upsert(where={"email": "b@x"}, create={"scope": "s", "email": "b@x"}, update={})
    assert db.raw("SELECT * FROM counters") == before


def test_a_conflict_on_another_unique_key_is_a_row_error(counters: Repository[Counter]) -> None:
    counters.insert({"scope": "s", "name": "n", "email": "a@x"})
    with pytest.raises(
        RowError, match=r"UNIQUE constraint failed: counters\.scope, counters\.name"
    ):
        counters.upsert(
            where={"email": "b@x"}, create={"scope": "s", "name": "n", "email": "b@x"}, update={}
        )
    counters.insert({"scope": "t", "name": "n", "email": "b@x"})
    with pytest.raises(RowError, match=r"UNIQUE constraint failed: counters\.email"):
        counters.upsert(
            where={"email": "b@x"},
            create={"scope": "t", "name": "n", "email": "b@x"},
            update={"email": "a@x"},
        )
    assert counters.count() == 2


def test_a_foreign_key_a_one_statement_upsert_breaks_is_named(db_path: Path) -> None:
    class Team(Table, table="teams"):
        id: int | None = Field(default=None, primary_key=True)

    class Player(Table, table="players"):
        id: int | None = Field(default=None, primary_key=True)
        code: str = Field(unique=True)
        team_id: int = Field(references=Team)

    with database(schemas=[Team, Player], connection=db_path, sync_schemas=True) as db:
        players = db.table(Player)
        missing = "field 'team_id': FOREIGN KEY constraint failed: no row of teams has this id"
        with pytest.raises(RowError, match=missing):  # the insert side
            players.upsert(where={"code": "x"}, create={"code": "x", "team_id": 5}, update={})
        db.table(Team).insert({})
        players.insert({"code": "x", "team_id": 1})
        with pytest.raises(RowError, match=missing):  # the update side
            players.upsert(
                where={"code": "x"}, create={"code": "x", "team_id": 1}, update={"team_id": 9}
            )
        assert players.find() == [Player(id=1, code="x", team_id=1)]


def test_a_unique_key_the_database_lacks_falls_back_to_the_lookup(db_path: Path) -> None:
    class Loose(Table, table="loose"):
        id: int | None = Field(default=None, primary_key=True)
        email: str
        value: int = 0

    class Strict(Table, table="loose"):
        id: int | None = Field(default=None, primary_key=True)
        email: str = Field(unique=True)
        value: int = 0

    database(schemas=[Loose], connection=db_path, sync_schemas=True).close()
    with database(schemas=[Strict], connection=db_path) as db:  # not synced: no UNIQUE there
        strict = db.table(Strict)
        for value in (1, 2):
            row = strict.upsert(
                where={"email": "a"}, create={"email": "a"}, update={"value": value}
            )
        assert (row.id, row.value) == (1, 2) and strict.count() == 1


def test_validators_normalise_what_the_update_stores(db_path: Path) -> None:
    import pydantic

    class Person(Table, table="persons"):
        id: int | None = Field(default=None, primary_key=True)
        email: str = Field(unique=True)
        nick: str = ""

        @pydantic.field_validator("nick")
        @classmethod
        def lower(cls, value: str) -> str:
            return value.lower()

    with database(schemas=[Person], connection=db_path, sync_schemas=True) as db:
        persons = db.table(Person)
        persons.upsert(where={"email": "a"}, create={"email": "a"}, update={})
        row = persons.upsert(where={"email": "a"}, create={"email": "a"}, update={"nick": "ANN"})
        assert row.nick == "ann"
        assert db.raw("SELECT nick FROM persons") == [{"nick": "ann"}]


def test_a_text_primary_key(db: Database) -> None:
    keyed = db.table(Keyed)
    for value in (1, 2, 3):
        row = keyed.upsert(
            where={"code": "k"}, create={"code": "k", "value": value}, update={"value": value}
        )
    assert row == Keyed(code="k", value=3) and keyed.count() == 1


# -- concurrency ---------------------------------------------------------------------------------

THREADS = 8
TIMES = 100


@pytest.mark.parametrize("where", [{"code": "k"}, {"value": {"gte": 0}}])
def test_threads_upserting_one_key_make_one_row(db: Database, where: dict[str, Any]) -> None:
    keyed = db.table(Keyed)
    written: set[int] = set()
    errors: list[BaseException] = []
    start = threading.Barrier(THREADS)

    def work(thread: int) -> None:
        start.wait()
        try:
            for i in range(TIMES):
                value = thread * 1000 + i
                written.add(value)
                keyed.upsert(
                    where=where, create={"code": "k", "value": value}, update={"value": value}
                )
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(n,)) for n in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    (row,) = keyed.find()
    assert row.code == "k" and row.value in written


WORKER = textwrap.dedent(
    """
    import ast
    import sys
    from hedystia_models import Field, Table, database

    class Keyed(Table, table="keyed"):
        code: str = Field(primary_key=True)
        value: int = 0

    path, n, where = sys.argv[1], int(sys.argv[2]), ast.literal_eval(sys.argv[3])
    engine = sys.argv[4]
    with database(schemas=[Keyed], connection=path, database=engine) as db:
        keyed = db.table(Keyed)
        for i in range(100):
            create, update = {"code": "k", "value": n}, {"value": n * 1000 + i}
            keyed.upsert(where=where, create=create, update=update)
    """
)


@pytest.mark.parametrize("where", [{"code": "k"}, {"value": {"gte": 0}}])
def test_two_processes_upserting_one_key_make_one_row(
    db: Database, connect: Any, tmp_path: Path, where: dict[str, Any]
) -> None:
    script = tmp_path / "worker.py"
    script.write_text(WORKER, encoding="utf-8")
    command = [sys.executable, str(script), str(connect.target)]
    workers = [subprocess.Popen([*command, str(n), repr(where), connect.engine]) for n in (1, 2)]
    assert [w.wait(timeout=120) for w in workers] == [0, 0]
    (row,) = db.table(Keyed).find()
    assert row.value in {n * 1000 + 99 for n in (1, 2)}
