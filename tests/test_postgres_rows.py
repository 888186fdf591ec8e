"""What only PostgreSQL can get wrong about rows and connections (issue 15): a transaction that
failed, values its types refuse, keys and the identity, lost connections, another locale, the
SQL translation. Everything the engines share runs on both in the other test files."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any
from uuid import UUID, uuid4

import pytest

from hedystia_models import Database, Field, QueryError, RowError, SchemaError, Table, database
from hedystia_models.engine.postgres.dbapi import translate


class Note(Table, table="notes"):
    id: int | None = Field(default=None, primary_key=True)
    text: str = ""
    code: str = Field("", sql_type="VARCHAR(3)")
    data: dict[str, Any] = {}


@pytest.fixture
def db(postgres_url: str) -> Iterator[Database]:
    with database(
        schemas=[Note], database="postgres", connection=postgres_url, sync_schemas=True
    ) as db:
        yield db


def test_a_block_whose_transaction_failed_refuses_to_commit(db: Database) -> None:
    """A statement run behind the package's back (``db.conn.raw``) that fails, its error
    caught, fails PostgreSQL's transaction: the block raises instead of committing nothing
    without a word, and nothing of it is kept."""
    notes = db.table(Note)
    with pytest.raises(QueryError, match="the transaction was rolled back"), db.transaction():
        notes.insert({"text": "lost"})
        with contextlib.suppress(Exception):  # the caller decided to go on
            db.conn.raw.execute("SELECT * FROM no_such_table")  # type: ignore[attr-defined]
    assert notes.count() == 0
    notes.insert({"text": "kept"})  # the connection is usable again
    assert notes.count() == 1


def test_values_postgresql_refuses_are_row_errors(db: Database) -> None:
    notes = db.table(Note)
    with pytest.raises(RowError) as caught:
        notes.insert({"text": "a\x00b"})
    assert caught.value.problems == [
        (None, "text", "cannot be stored: PostgreSQL's text cannot hold a NUL character (\\x00)")
    ]
    with pytest.raises(
        RowError, match=r"row 1, field 'data': cannot be stored: PostgreSQL's JSONB cannot hold"
    ):
        notes.insert_many([{"data": {"a": 1}}, {"data": {"a": "\x00"}}])
    with pytest.raises(RowError, match="value too long for type character varying"):
        notes.insert({"code": "four"})
    with pytest.raises(QueryError, match="cannot be stored"):
        notes.find(where={"text": "a\x00"})
    assert notes.count() == 0


def test_a_uuid_stored_as_bytes_round_trips(postgres_url: str) -> None:
    class Token(Table, table="tokens"):
        id: int | None = Field(default=None, primary_key=True)
        raw: UUID = Field(uuid_form="bytes")
        hex: UUID = Field(uuid_form="hex")

    value = uuid4()
    with database(
        schemas=[Token], database="postgres", connection=postgres_url, sync_schemas=True
    ) as db:
        stored = db.table(Token).insert({"raw": value, "hex": value})
        assert (stored.raw, stored.hex) == (value, value)
        assert db.table(Token).find(where={"raw": value}) == [stored]
        assert db.plan().in_sync


def test_explicit_keys_move_the_identity_past_them(db: Database) -> None:
    notes = db.table(Note)
    assert notes.insert({"id": 10, "text": "ten"}).id == 10
    notes.insert_many([{"id": 20}, {"id": 15}])
    assert notes.insert({"text": "next"}).id == 21  # never a key taken
    notes.delete(where={"id": {"gte": 20}})
    assert notes.insert({"text": "again"}).id == 22  # and never one handed out before


def test_a_role_that_may_not_move_the_identity_still_writes_keys(postgres_url: str) -> None:
    import psycopg

    with database(
        schemas=[Note], database="postgres", connection=postgres_url, sync_schemas=True
    ) as owner:
        owner.raw("CREATE ROLE writer LOGIN")
        owner.raw("GRANT SELECT, INSERT ON notes TO writer")
        owner.raw("GRANT USAGE ON SEQUENCE notes_id_seq TO writer")
    dbname = psycopg.conninfo.conninfo_to_dict(postgres_url)["dbname"]
    url = postgres_url.replace("postgres@/", "writer@/", 1)
    assert dbname in url
    with database(schemas=[Note], database="postgres", connection=url) as db:
        assert db.table(Note).insert({"id": 5, "text": "given"}).id == 5
        assert db.table(Note).insert({"text": "generated"}).id == 1


def test_a_connection_the_server_ended_is_replaced(db: Database) -> None:
    notes = db.table(Note)
    notes.insert({"text": "a"})
    pid = db.raw("SELECT pg_backend_pid() AS pid")[0]["pid"]
    with database(schemas=[], database="postgres", connection=db.conn.raw.info.dsn) as admin:
        admin.raw("SELECT pg_terminate_backend(?)", [pid])
    with pytest.raises(Exception) as caught:  # the call that meets the ended connection
        notes.count()
    assert type(caught.value).__name__ == "DatabaseFileError"
    assert notes.count() == 1  # the next call opens a new connection


def test_sqlite_collations_are_refused_naming_the_column(postgres_url: str) -> None:
    class Tag(Table, table="tags"):
        id: int | None = Field(default=None, primary_key=True)
        name: str = Field(collate="NOCASE")

    with pytest.raises(SchemaError, match="column 'name': collate='NOCASE' is SQLite's"):
        database(schemas=[Tag], database="postgres", connection=postgres_url, sync_schemas=True)


def test_text_keeps_sqlite_order_in_a_database_of_another_locale(
    postgres_server: Any, postgres_url: str
) -> None:
    """A database whose default collation is not C (a managed database's, usually): text
    still compares, sorts and matches ``like`` as on SQLite."""
    import psycopg

    with psycopg.connect(postgres_server.conninfo(), autocommit=True) as conn:
        conn.execute(
            "CREATE DATABASE utf8_locale TEMPLATE template0 ENCODING 'UTF8' "
            "LC_COLLATE 'C.UTF-8' LC_CTYPE 'C.UTF-8'"
        )
    try:
        url = postgres_server.url("utf8_locale")
        names = ["b", "école", "A", "École", "a", "_x", "B"]
        found = {}
        for engine, connection in (("postgres", url), ("sqlite", ":memory:")):
            with database(
                schemas=[Note], database=engine, connection=connection, sync_schemas=True
            ) as db:
                notes = db.table(Note)
                notes.insert_many([{"text": n} for n in names])
                found[engine] = (
                    [n.text for n in notes.find(order_by="text")],
                    sorted(n.text for n in notes.find(where={"text": {"like": "é%"}})),
                    sorted(n.text for n in notes.find(where={"text": {"lt": "a"}})),
                )
        assert found["postgres"] == found["sqlite"]
    finally:
        with psycopg.connect(postgres_server.conninfo(), autocommit=True) as conn:
            conn.execute("DROP DATABASE IF EXISTS utf8_locale WITH (FORCE)")


@pytest.mark.parametrize(
    ("sql", "translated"),
    [
        ("SELECT ? WHERE a = :b", "SELECT %s WHERE a = :b"),
        ("SELECT 'it''s ?', \"a?b\", ? -- ?", "SELECT 'it''s ?', \"a?b\", %s -- ?"),
        ("SELECT E'it\\'s ?', ?", "SELECT E'it\\'s ?', %s"),
        ("SELECT 1 /* a /* ? */ ? */ + ?", "SELECT 1 /* a /* ? */ ? */ + %s"),
        ("SELECT $$ ? $$, $q$ ' ? $q$, ?", "SELECT $$ ? $$, $q$ ' ? $q$, %s"),
        ("SELECT x::int % 2, '50%', ?", "SELECT x::int %% 2, '50%%', %s"),
    ],
)
def test_placeholders_are_translated_outside_literals_and_comments(
    sql: str, translated: str
) -> None:
    assert translate(sql) == translated


def test_named_placeholders_with_a_mapping() -> None:
    assert translate("SELECT :a, x::text, ':b' FROM t WHERE c = :c", named=True) == (
        "SELECT %(a)s, x::text, ':b' FROM t WHERE c = %(c)s"
    )


def test_a_psycopg_pool_lends_each_thread_a_connection(postgres_url: str) -> None:
    """A ``psycopg_pool.ConnectionPool`` given as the connection: each thread takes one on
    its first call, the calls of many threads all land, and ``close`` gives them back."""
    import threading

    from psycopg_pool import ConnectionPool

    with ConnectionPool(postgres_url, min_size=1, max_size=4, open=True) as pool:
        db = database(schemas=[Note], database="postgres", connection=pool, sync_schemas=True)
        errors: list[BaseException] = []

        def work(n: int) -> None:
            try:
                for i in range(20):
                    with db.transaction():
                        db.table(Note).insert({"text": f"{n}-{i}"})
            except BaseException as exc:
                errors.append(exc)

        threads = [threading.Thread(target=work, args=(n,)) for n in range(4)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert errors == []
        assert db.table(Note).count() == 80
        db.close()
        assert pool.get_stats()["pool_size"] >= 1
        with pool.connection() as conn:  # given back, usable by others
            assert conn.execute("SELECT count(*) FROM notes").fetchone() == (80,)
