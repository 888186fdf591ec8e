"""Every annotation -> SQLite column mapping: declared type, NOT NULL, CHECK, DEFAULT, codecs."""

from __future__ import annotations

import enum
import json
import math
import sqlite3
from datetime import date, datetime, time, timedelta, timezone
from decimal import Decimal
from pathlib import Path
from typing import Annotated, Any, Literal, Optional
from uuid import UUID, uuid4

import pydantic
import pytest
from pydantic import BaseModel, StringConstraints

from hedystia_models import Column, Database, Field, SchemaError, Table, database
from hedystia_models.model.table import table_info


class Color(str, enum.Enum):
    RED = "red"
    GREEN = "green"


class Level(enum.IntEnum):
    LOW = 1
    HIGH = 2


class Size(enum.Enum):  # a plain Enum with integer values
    SMALL = 10
    LARGE = 20


class Inner(BaseModel):
    a: int
    b: str = "x"


def make_model(annotation: Any, value: Any = ..., *, table: str = "typed") -> type[Table]:
    """A table model with an integer key and one field ``value: annotation = value``."""
    return pydantic.create_model(  # type: ignore[no-any-return, call-overload]
        "Typed",
        __base__=Table,
        __cls_kwargs__={"table": table},
        id=(int | None, Field(default=None, primary_key=True)),
        value=(annotation, value),
    )


def column_info(db: Database, table: str, column: str) -> dict[str, Any]:
    rows = db.raw("SELECT * FROM pragma_table_info(?) WHERE name = ?", [table, column])
    assert len(rows) == 1, rows
    return rows[0]


def synced(model: type[Table], path: Path | str = ":memory:") -> Database:
    return database(schemas=[model], connection=path, sync_schemas=True)


# annotation, declared type, NOT NULL, allowed values (CHECK) or None
MAPPINGS: list[tuple[str, Any, str, bool, tuple[Any, ...] | None]] = [
    ("int", int, "INTEGER", True, None),
    ("float", float, "REAL", True, None),
    ("str", str, "TEXT", True, None),
    ("str_max_length", Annotated[str, Field(max_length=40)], "VARCHAR(40)", True, None),
    (
        "str_constraints",
        Annotated[str, StringConstraints(max_length=12)],
        "VARCHAR(12)",
        True,
        None,
    ),
    ("bool", bool, "BOOLEAN", True, None),
    ("bytes", bytes, "BLOB", True, None),
    ("decimal", Decimal, "TEXT", True, None),
    ("datetime", datetime, "DATETIME", True, None),
    ("date", date, "DATE", True, None),
    ("time", time, "TIME", True, None),
    ("timedelta", timedelta, "INTEGER", True, None),
    ("uuid", UUID, "TEXT", True, None),
    ("str_enum", Color, "TEXT", True, ("red", "green")),
    ("int_enum", Level, "INTEGER", True, (1, 2)),
    ("plain_int_enum", Size, "INTEGER", True, (10, 20)),
    ("str_literal", Literal["a", "b c", "it's"], "TEXT", True, ("a", "b c", "it's")),
    ("int_literal", Literal[1, 2, 3], "INTEGER", True, (1, 2, 3)),
    ("dict", dict[str, int], "TEXT", True, None),
    ("list", list[str], "TEXT", True, None),
    ("nested_model", Inner, "TEXT", True, None),
    ("list_of_models", list[Inner], "TEXT", True, None),
    ("optional_int", int | None, "INTEGER", False, None),
    ("typing_optional_str", Optional[str], "TEXT", False, None),  # noqa: UP045
    ("optional_varchar", Annotated[str, Field(max_length=8)] | None, "VARCHAR(8)", False, None),
    ("optional_enum", Color | None, "TEXT", False, ("red", "green")),
    ("optional_literal", Literal[1, 2] | None, "INTEGER", False, (1, 2)),
    ("optional_model", Inner | None, "TEXT", False, None),
]


@pytest.mark.parametrize(
    ("annotation", "sql_type", "not_null", "allowed"),
    [m[1:] for m in MAPPINGS],
    ids=[m[0] for m in MAPPINGS],
)
def test_annotation_maps_to_declared_column(
    annotation: Any, sql_type: str, not_null: bool, allowed: tuple[Any, ...] | None
) -> None:
    model = make_model(annotation)
    column = model.table_spec().column("value")
    assert column.type == sql_type
    assert column.not_null is not_null
    assert column.default_sql is None
    if allowed is None:
        assert column.check is None
    else:
        assert column.check is not None
        assert column.check.startswith('"value" IN (')

    db = synced(model)
    info = column_info(db, "typed", "value")
    assert info["type"].upper() == sql_type
    assert bool(info["notnull"]) is not_null
    schema = db.sqlite["typed"].schema
    assert ("CHECK" in schema) is (allowed is not None)
    assert db.plan().in_sync


@pytest.mark.parametrize(
    ("annotation", "allowed", "refused"),
    [
        (Color, ["red", "green"], ["blue", "RED", ""]),
        (Level, [1, 2], [0, 3, "1x"]),
        (Size, [10, 20], [1, 2]),
        (Literal["a", "b c", "it's"], ["a", "b c", "it's"], ["b", "its", "A"]),
        (Literal[1, 2, 3], [1, 2, 3], [0, 4, -1]),
        (Color | None, ["red", None], ["blue"]),
    ],
    ids=["str_enum", "int_enum", "plain_int_enum", "str_literal", "int_literal", "optional"],
)
def test_check_constraint_allows_exactly_the_declared_values(
    annotation: Any, allowed: list[Any], refused: list[Any]
) -> None:
    db = synced(make_model(annotation))
    for value in allowed:
        db.raw("INSERT INTO typed (value) VALUES (?)", [value])
    for value in refused:
        with pytest.raises(sqlite3.IntegrityError, match="CHECK"):
            db.raw("INSERT INTO typed (value) VALUES (?)", [value])
    assert [r["value"] for r in db.raw("SELECT value FROM typed ORDER BY id")] == allowed


AWARE = datetime(2024, 2, 29, 23, 59, 58, 123456, tzinfo=timezone(timedelta(hours=5, minutes=30)))

# annotation, a Python value, the SQLite storage class it must be stored as
VALUES: list[tuple[str, Any, Any, str]] = [
    ("int", int, -(2**62), "integer"),
    ("float", float, 1.25, "real"),
    ("str", str, "héllo 'wörld' \"x\"", "text"),
    ("bool_true", bool, True, "integer"),
    ("bool_false", bool, False, "integer"),
    ("bytes", bytes, b"\x00\xff\x10", "blob"),
    ("decimal", Decimal, Decimal("1.10"), "text"),
    ("datetime_naive", datetime, datetime(2024, 1, 2, 3, 4, 5, 6), "text"),
    ("datetime_aware", datetime, AWARE, "text"),
    ("date", date, date(1999, 12, 31), "text"),
    ("time", time, time(12, 30, 15, 5), "text"),
    ("timedelta", timedelta, timedelta(days=-1, seconds=5, microseconds=7), "integer"),
    ("uuid", UUID, UUID("12345678-1234-5678-1234-567812345678"), "text"),
    ("str_enum", Color, Color.GREEN, "text"),
    ("int_enum", Level, Level.HIGH, "integer"),
    ("str_literal", Literal["a", "b"], "b", "text"),
    ("int_literal", Literal[1, 2], 2, "integer"),
    ("dict", dict[str, int], {"a": 1, "b": 2}, "text"),
    ("list", list[str], ["x", "y"], "text"),
    ("optional_none", int | None, None, "null"),
]


@pytest.mark.parametrize(
    ("annotation", "value", "storage_class"),
    [v[1:] for v in VALUES],
    ids=[v[0] for v in VALUES],
)
def test_values_round_trip_through_the_column(
    annotation: Any, value: Any, storage_class: str
) -> None:
    model = make_model(annotation)
    storage = table_info(model).fields[1].storage
    db = synced(model)
    encoded = storage.encode(value) if value is not None else None
    db.raw("INSERT INTO typed (value) VALUES (?)", [encoded])
    row = db.raw("SELECT value, typeof(value) AS t FROM typed")[0]
    assert row["t"] == storage_class
    decoded = storage.decode(row["value"]) if row["value"] is not None else None
    assert decoded == value
    assert type(decoded) is type(value)


def test_exact_storage_of_special_types() -> None:
    def stored(annotation: Any, value: Any) -> Any:
        model = make_model(annotation)
        return table_info(model).fields[1].storage.encode(value)

    assert stored(Decimal, Decimal("1.10")) == "1.10"  # trailing zero kept: exact
    assert stored(datetime, AWARE) == "2024-02-29 18:29:58.123456+00:00"  # in UTC
    assert stored(timedelta, timedelta(seconds=1, microseconds=2)) == 1_000_002
    assert stored(UUID, UUID(int=1)) == "00000000-0000-0000-0000-000000000001"
    assert stored(bool, True) == 1
    assert json.loads(stored(Inner, Inner(a=1))) == {"a": 1, "b": "x"}
    assert stored(dict[str, int], {"a": 1}) == '{"a":1}'  # compact JSON


def test_nested_model_round_trips_as_json() -> None:
    model = make_model(Inner)
    storage = table_info(model).fields[1].storage
    db = synced(model)
    db.raw("INSERT INTO typed (value) VALUES (?)", [storage.encode(Inner(a=7, b="q"))])
    raw = db.raw("SELECT value FROM typed")[0]["value"]
    assert json.loads(raw) == {"a": 7, "b": "q"}
    assert Inner.model_validate(storage.decode(raw)) == Inner(a=7, b="q")


# annotation, literal default, the SQL DEFAULT text, the value SQLite stores for it
DEFAULTS: list[tuple[str, Any, Any, str, Any]] = [
    ("int", int, 5, "5", 5),
    ("negative_int", int, -3, "-3", -3),
    ("float", float, 1.5, "1.5", 1.5),
    ("negative_float", float, -0.25, "-0.25", -0.25),
    ("str", str, "it's", "'it''s'", "it's"),
    ("empty_str", str, "", "''", ""),
    ("varchar", Annotated[str, Field(max_length=5)], "abc", "'abc'", "abc"),
    ("bool_true", bool, True, "1", 1),
    ("bool_false", bool, False, "0", 0),
    ("bytes", bytes, b"\x00\x01", "X'0001'", b"\x00\x01"),
    ("decimal", Decimal, Decimal("1.10"), "'1.10'", "1.10"),
    (
        "datetime",
        datetime,
        datetime(2020, 1, 2, 3, 4, 5),
        "'2020-01-02 03:04:05'",
        "2020-01-02 03:04:05",
    ),
    (
        "datetime_aware",
        datetime,
        datetime(2020, 1, 2, tzinfo=timezone.utc),
        "'2020-01-02 00:00:00+00:00'",
        "2020-01-02 00:00:00+00:00",
    ),
    ("date", date, date(2020, 1, 2), "'2020-01-02'", "2020-01-02"),
    ("time", time, time(1, 2, 3), "'01:02:03'", "01:02:03"),
    ("timedelta", timedelta, timedelta(seconds=3), "3000000", 3_000_000),
    (
        "uuid",
        UUID,
        UUID("12345678-1234-5678-1234-567812345678"),
        "'12345678-1234-5678-1234-567812345678'",
        "12345678-1234-5678-1234-567812345678",
    ),
    ("str_enum", Color, Color.GREEN, "'green'", "green"),
    ("int_enum", Level, Level.HIGH, "2", 2),
    ("str_literal", Literal["a", "b"], "b", "'b'", "b"),
    ("int_literal", Literal[1, 2], 2, "2", 2),
    ("dict", dict[str, int], {}, "'{}'", "{}"),
    ("list", list[str], ["a"], "'[\"a\"]'", '["a"]'),
    ("nested_model", Inner, Inner(a=1), '\'{"a":1,"b":"x"}\'', '{"a":1,"b":"x"}'),
    ("optional_with_value", int | None, 7, "7", 7),
    ("optional_enum", Color | None, Color.RED, "'red'", "red"),
]


@pytest.mark.parametrize(
    ("annotation", "default", "default_sql", "stored"),
    [d[1:] for d in DEFAULTS],
    ids=[d[0] for d in DEFAULTS],
)
def test_literal_default_becomes_sql_default(
    annotation: Any, default: Any, default_sql: str, stored: Any, db_path: Path
) -> None:
    model = make_model(annotation, default)
    assert model.table_spec().column("value").default_sql == default_sql

    db = synced(model, db_path)
    assert column_info(db, "typed", "value")["dflt_value"] == default_sql
    db.raw("INSERT INTO typed DEFAULT VALUES")
    assert db.raw("SELECT value FROM typed")[0]["value"] == stored

    # no false drift: the default read back from SQLite equals the model's
    assert db.plan().in_sync
    db.close()
    with database(schemas=[model], connection=db_path) as again:
        assert again.plan().in_sync
        assert not again.sync()
        assert len(again.history()) == 1


def test_optional_default_none_has_no_sql_default() -> None:
    model = make_model(int | None, None)
    column = model.table_spec().column("value")
    assert column.default_sql is None
    assert column.not_null is False
    db = synced(model)
    db.raw("INSERT INTO typed DEFAULT VALUES")
    assert db.raw("SELECT value FROM typed")[0]["value"] is None
    assert db.plan().in_sync


def test_default_factory_stays_python_side() -> None:
    class Stamped(Table, table="stamped"):
        id: int | None = Field(default=None, primary_key=True)
        tags: list[str] = Field(default_factory=list)
        created: datetime = Field(default_factory=lambda: datetime.now(timezone.utc))

    for name in ("tags", "created"):
        column = Stamped.table_spec().column(name)
        assert column.default_sql is None
        assert column.not_null is True
    db = synced(Stamped)
    assert "DEFAULT" not in db.sqlite["stamped"].schema
    with pytest.raises(sqlite3.IntegrityError, match="NOT NULL"):
        db.raw("INSERT INTO stamped (tags) VALUES ('[]')")
    # the factory still works on the Python side
    assert Stamped().tags == []
    assert db.plan().in_sync


@pytest.mark.parametrize(
    "annotation",
    [int, int | None, str | None, Annotated[str, Field(max_length=3)] | None],
    ids=["int", "optional_int", "optional_str", "optional_varchar"],
)
def test_required_field_is_not_null_and_optional_is_nullable(annotation: Any) -> None:
    model = make_model(annotation)
    nullable = model.table_spec().column("value").not_null is False
    db = synced(model)
    if nullable:
        db.raw("INSERT INTO typed (value) VALUES (NULL)")
        assert db.raw("SELECT value FROM typed")[0]["value"] is None
    else:
        with pytest.raises(sqlite3.IntegrityError, match="NOT NULL"):
            db.raw("INSERT INTO typed (value) VALUES (NULL)")


def test_required_but_nullable_field() -> None:
    """`x: int | None` without a default: required in Python, NULL allowed in SQL."""

    class Nullable(Table, table="nullable"):
        id: int | None = Field(default=None, primary_key=True)
        value: int | None

    column = Nullable.table_spec().column("value")
    assert column.not_null is False
    assert column.default_sql is None
    with pytest.raises(pydantic.ValidationError):
        Nullable()  # type: ignore[call-arg]


def test_primary_key_is_not_null_whatever_the_annotation() -> None:
    class Code(Table, table="codes"):
        code: str | None = Field(default=None, primary_key=True)
        label: str | None = None

    class Pair(Table, table="pairs"):
        a: int | None = Field(default=None, primary_key=True)
        b: str | None = Field(default=None, primary_key=True)

    class Auto(Table, table="autos"):
        id: int | None = Field(default=None, primary_key=True)

    for model, names in ((Code, ["code"]), (Pair, ["a", "b"]), (Auto, ["id"])):
        for name in names:
            assert model.table_spec().column(name).not_null is True

    db = database(schemas=[Code, Pair, Auto], connection=":memory:", sync_schemas=True)
    assert column_info(db, "codes", "code")["notnull"] == 1
    assert column_info(db, "pairs", "a")["notnull"] == 1
    assert column_info(db, "pairs", "b")["notnull"] == 1
    with pytest.raises(sqlite3.IntegrityError, match="NOT NULL"):
        db.raw("INSERT INTO codes (code, label) VALUES (NULL, 'x')")
    with pytest.raises(sqlite3.IntegrityError, match="NOT NULL"):
        db.raw("INSERT INTO pairs (a, b) VALUES (1, NULL)")
    # INTEGER PRIMARY KEY is the rowid: NULL means "assign the next id"
    db.raw("INSERT INTO autos (id) VALUES (NULL)")
    db.raw("INSERT INTO autos (id) VALUES (NULL)")
    assert [r["id"] for r in db.raw("SELECT id FROM autos ORDER BY id")] == [1, 2]
    assert db.plan().in_sync


def test_composite_primary_key() -> None:
    class Membership(Table, table="memberships"):
        user_id: int = Field(primary_key=True)
        group: str = Field(primary_key=True, column="group")
        role: str = "member"

    spec = Membership.table_spec()
    assert spec.primary_key == ("user_id", "group")
    assert all(not c.auto_increment for c in spec.columns)

    db = synced(Membership)
    assert 'PRIMARY KEY ("user_id", "group")' in db.sqlite["memberships"].schema
    pk = db.raw("SELECT name, pk FROM pragma_table_info('memberships') WHERE pk > 0 ORDER BY pk")
    assert [r["name"] for r in pk] == ["user_id", "group"]
    db.raw("INSERT INTO memberships (user_id, \"group\") VALUES (1, 'a')")
    db.raw("INSERT INTO memberships (user_id, \"group\") VALUES (1, 'b')")
    db.raw("INSERT INTO memberships (user_id, \"group\") VALUES (2, 'a')")
    with pytest.raises(sqlite3.IntegrityError, match="UNIQUE"):
        db.raw("INSERT INTO memberships (user_id, \"group\") VALUES (1, 'a')")
    assert db.plan().in_sync


def test_composite_primary_key_cannot_auto_increment() -> None:
    with pytest.raises(SchemaError, match=r"BadKey\.a.*auto_increment"):

        class BadKey(Table, table="bad_key"):
            a: int = Field(primary_key=True, auto_increment=True)
            b: int = Field(primary_key=True)


def test_auto_increment() -> None:
    class Counter(Table, table="counters"):
        id: int | None = Field(default=None, primary_key=True, auto_increment=True)
        n: int = 0

    column = Counter.table_spec().column("id")
    assert column.auto_increment and column.primary_key
    db = synced(Counter)
    assert "AUTOINCREMENT" in db.sqlite["counters"].schema
    db.raw("INSERT INTO counters DEFAULT VALUES")
    db.raw("INSERT INTO counters DEFAULT VALUES")
    db.raw("DELETE FROM counters WHERE id = 2")
    db.raw("INSERT INTO counters DEFAULT VALUES")
    assert [r["id"] for r in db.raw("SELECT id FROM counters ORDER BY id")] == [1, 3]
    assert db.plan().in_sync


class Opaque:
    pass


@pytest.mark.parametrize(
    ("annotation", "shown"),
    [
        (complex, "complex"),
        (object, "object"),
        (int | str, "int"),
        (Any, "Any"),
    ],
    ids=["complex", "object", "union", "any"],
)
def test_unmappable_annotation_fails_at_class_creation(annotation: Any, shown: str) -> None:
    with pytest.raises(SchemaError) as caught:
        pydantic.create_model(
            "Unmappable",
            __base__=Table,
            __cls_kwargs__={"table": "unmappable"},
            id=(int | None, Field(default=None, primary_key=True)),
            weird=(annotation, ...),
        )
    message = str(caught.value)
    assert "Unmappable.weird" in message
    assert shown in message
    assert "cannot" in message


def test_unmappable_arbitrary_class() -> None:
    with pytest.raises(SchemaError, match=r"Arbitrary\.thing: cannot map type Opaque"):

        class Arbitrary(Table, table="arbitrary"):
            model_config = pydantic.ConfigDict(arbitrary_types_allowed=True)
            id: int | None = Field(default=None, primary_key=True)
            thing: Opaque


def test_unmappable_annotation_in_a_class_statement() -> None:
    with pytest.raises(SchemaError, match=r"Broken\.value: cannot map type complex"):

        class Broken(Table, table="broken"):
            id: int | None = Field(default=None, primary_key=True)
            value: complex


def test_table_model_as_column_type_is_refused() -> None:
    class Owner(Table, table="owners"):
        id: int | None = Field(default=None, primary_key=True)

    with pytest.raises(SchemaError, match=r"Pet\.owner.*references=Owner"):

        class Pet(Table, table="pets"):
            id: int | None = Field(default=None, primary_key=True)
            owner: Owner


def test_mixed_choices_are_refused() -> None:
    class Mixed(enum.Enum):
        A = "a"
        B = 2

    with pytest.raises(SchemaError, match=r"MixedEnum\.value.*all strings or all integers"):
        pydantic.create_model(
            "MixedEnum",
            __base__=Table,
            __cls_kwargs__={"table": "mixed_enum"},
            value=(Mixed, ...),
        )
    with pytest.raises(SchemaError, match=r"MixedLiteral\.value"):
        pydantic.create_model(
            "MixedLiteral",
            __base__=Table,
            __cls_kwargs__={"table": "mixed_literal"},
            value=(Literal["a", 1], ...),
        )


def test_default_that_cannot_be_rendered_is_refused() -> None:
    with pytest.raises(SchemaError, match=r"NanDefault\.value.*nan"):
        pydantic.create_model(
            "NanDefault",
            __base__=Table,
            __cls_kwargs__={"table": "nan_default"},
            value=(float, math.nan),
        )


def test_explicit_sql_type_and_column_annotation() -> None:
    class Explicit(Table, table="explicit"):
        id: int | None = Field(default=None, primary_key=True)
        amount: Decimal = Field(sql_type="numeric(10, 2)")
        code: Annotated[str, Column(unique=True, column="the code")]
        note: Annotated[str | None, Column(index=True)] = None

    spec = Explicit.table_spec()
    assert spec.column("amount").type == "NUMERIC(10,2)"
    assert spec.column("the code").unique is True
    assert [i.name for i in spec.indexes] == ["explicit_note_index"]
    db = synced(Explicit)
    assert db.plan().in_sync
    with pytest.raises(sqlite3.IntegrityError, match="UNIQUE"):
        db.raw("INSERT INTO explicit (amount, \"the code\") VALUES (1, 'x'), (2, 'x')")


# -- storage that follows the live column -------------------------------------------------------


def test_a_decimal_on_a_numeric_column_reads_with_the_fields_places() -> None:
    class Price(Table, table="prices"):
        id: int | None = Field(default=None, primary_key=True)
        amount: Decimal = Field(max_digits=10, decimal_places=2)

    conn = sqlite3.connect(":memory:")
    conn.execute("CREATE TABLE prices (id INTEGER PRIMARY KEY, amount NUMERIC(10, 2) NOT NULL)")
    conn.execute("INSERT INTO prices (amount) VALUES ('10.00'), (2.5)")  # kept as 10 and 2.5
    db = database(schemas=[Price], connection=conn)
    assert db.plan().in_sync
    amounts = [p.amount for p in db.table(Price).find(order_by="id")]
    assert amounts == [Decimal("10.00"), Decimal("2.50")]
    assert [str(a) for a in amounts] == ["10.00", "2.50"]
    assert [p.amount for p in db.table(Price).find(where={"amount": {"gt": 5}})] == [
        Decimal("10.00")
    ]


@pytest.mark.parametrize(
    ("form", "declared", "stored"),
    [
        ("hyphenated", "TEXT", lambda u: str(u)),
        ("hex", "CHAR(32)", lambda u: u.hex),
        ("bytes", "BLOB", lambda u: u.bytes),
    ],
)
def test_a_uuid_is_stored_in_the_form_the_field_declares(
    form: str, declared: str, stored: Any
) -> None:
    class Thing(Table, table="things"):
        id: int | None = Field(default=None, primary_key=True)
        public_id: UUID = Field(uuid_form=form)

    db = database(schemas=[Thing], connection=":memory:", sync_schemas=True)
    assert db.raw("SELECT type FROM pragma_table_info('things') WHERE name = 'public_id'") == [
        {"type": declared}
    ]
    value = uuid4()
    db.table(Thing).insert({"public_id": value})
    assert db.raw("SELECT public_id FROM things") == [{"public_id": stored(value)}]
    assert [t.public_id for t in db.table(Thing).find(where={"public_id": value})] == [value]
