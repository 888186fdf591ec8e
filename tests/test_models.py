"""The Table base class: names, fields -> columns, keys, indexes, references, errors."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from datetime import timedelta
from typing import Annotated, Any, Literal

import pydantic
import pytest

from hedystia_models import (
    Column,
    ColumnRef,
    Field,
    Index,
    IndexSpec,
    Reference,
    RowError,
    SchemaError,
    Table,
    database,
)
from hedystia_models.model.table import column_from_field, default_table_name, table_info


@pytest.mark.parametrize(
    ("class_name", "table"),
    [
        ("User", "user"),
        ("UserProfile", "user_profile"),
        ("HTTPLog", "http_log"),
        ("A", "a"),
    ],
)
def test_default_table_name(class_name: str, table: str) -> None:
    assert default_table_name(class_name) == table


def test_table_name_from_class_name_and_keyword() -> None:
    class BlogPost(Table):
        id: int | None = Field(default=None, primary_key=True)

    class Named(Table, table="somewhere else"):
        id: int | None = Field(default=None, primary_key=True)

    assert BlogPost.table_spec().name == "blog_post"
    assert Named.table_spec().name == "somewhere else"
    assert table_info(Named).model is Named


def test_spec_is_built_at_class_creation_and_cached() -> None:
    class Cached(Table, table="cached"):
        id: int | None = Field(default=None, primary_key=True)

    assert Cached.__dict__["__hedystia_info__"] is not None
    assert table_info(Cached) is table_info(Cached)
    assert Cached.table_spec() is Cached.table_spec()


def test_abstract_base_shares_fields_but_is_no_table() -> None:
    class Base(Table, abstract=True):
        id: int | None = Field(default=None, primary_key=True, auto_increment=True)
        created: str = "now"

    class Article(Base, table="articles"):
        title: str

    class Comment(Base):
        body: str

    assert Article.table_spec().column_names == ("id", "created", "title")
    assert Comment.table_spec().name == "comment"
    assert Comment.table_spec().column_names == ("id", "created", "body")
    with pytest.raises(SchemaError, match="not a table model"):
        Base.table_spec()
    with pytest.raises(SchemaError, match="not a table model"):
        Table.table_spec()


def test_field_column_renames_the_column() -> None:
    class Renamed(Table, table="renamed"):
        id: int | None = Field(default=None, primary_key=True, column="ID")
        full_name: str = Field(column="full name")

    info = table_info(Renamed)
    assert Renamed.table_spec().column_names == ("ID", "full name")
    mapping = info.column_for("full_name")
    assert mapping is not None and mapping.column == "full name"
    by_column = info.column_for("FULL NAME")  # column names match case-insensitively
    assert by_column is not None and by_column.field == "full_name"
    assert info.column_for("nothing") is None


def test_two_fields_on_one_column_is_an_error() -> None:
    with pytest.raises(SchemaError, match=r"Clash\.b: column 'A' is also used by field 'a'"):

        class Clash(Table, table="clash"):
            a: int
            b: int = Field(column="A")


def test_unique_and_index_options() -> None:
    class Account(Table, table="accounts", indexes=[Index("first", "last")]):
        id: int | None = Field(default=None, primary_key=True)
        email: str = Field(unique=True)
        handle: str = Field(unique=True, index=True)  # unique already indexes it
        city: str | None = Field(default=None, index=True)
        first: str = ""
        last: str = ""

    spec = Account.table_spec()
    assert spec.column("email").unique is True
    assert spec.column("handle").unique is True
    assert spec.column("city").unique is False
    assert spec.indexes == (
        IndexSpec("accounts_city_index", ("city",)),
        IndexSpec("accounts_first_last_index", ("first", "last")),
    )
    db = database(schemas=[Account], connection=":memory:", sync_schemas=True)
    names = {r["name"] for r in db.raw("SELECT name FROM sqlite_master WHERE type = 'index'")}
    assert {"accounts_city_index", "accounts_first_last_index"} <= names
    db.raw("INSERT INTO accounts (email, handle) VALUES ('a@x', 'a')")
    with pytest.raises(sqlite3.IntegrityError, match="UNIQUE"):
        db.raw("INSERT INTO accounts (email, handle) VALUES ('a@x', 'b')")
    assert db.plan().in_sync


def test_multi_column_unique_index() -> None:
    class Slot(Table, table="slots", indexes=[Index("day", "hour", unique=True)]):
        id: int | None = Field(default=None, primary_key=True)
        day: int
        hour: int

    assert Slot.table_spec().indexes == (IndexSpec("slots_day_hour_unique", ("day", "hour"), True),)
    db = database(schemas=[Slot], connection=":memory:", sync_schemas=True)
    db.raw("INSERT INTO slots (day, hour) VALUES (1, 1), (1, 2)")
    with pytest.raises(sqlite3.IntegrityError, match="UNIQUE"):
        db.raw("INSERT INTO slots (day, hour) VALUES (1, 2)")
    assert db.plan().in_sync


def test_named_index() -> None:
    class Named(Table, table="named_idx", indexes=[Index("a", "b", name="by a then b")]):
        a: int
        b: int

    assert Named.table_spec().indexes == (IndexSpec("by a then b", ("a", "b")),)
    db = database(schemas=[Named], connection=":memory:", sync_schemas=True)
    assert db.plan().in_sync


def test_single_column_unique_index_is_a_unique_column() -> None:
    """Index("x", unique=True) must not drift: SQLite reports it as the column's UNIQUE."""

    class Tagged(Table, table="tagged", indexes=[Index("tag", unique=True)]):
        id: int | None = Field(default=None, primary_key=True)
        tag: str

    spec = Tagged.table_spec()
    assert spec.column("tag").unique is True
    assert spec.indexes == ()
    db = database(schemas=[Tagged], connection=":memory:", sync_schemas=True)
    plan = db.plan()
    assert plan.in_sync, str(plan)
    db.raw("INSERT INTO tagged (tag) VALUES ('a')")
    with pytest.raises(sqlite3.IntegrityError, match="UNIQUE"):
        db.raw("INSERT INTO tagged (tag) VALUES ('a')")


def test_bad_indexes_are_errors() -> None:
    with pytest.raises(SchemaError, match=r"BadIndex: index on unknown field\(s\) \['nope'\]"):

        class BadIndex(Table, table="bad_index", indexes=[Index("a", "nope")]):
            a: int

    with pytest.raises(SchemaError, match="at least one field"):

        class EmptyIndex(Table, table="empty_index", indexes=[Index()]):
            a: int

    with pytest.raises(SchemaError, match="two indexes are named 'dup'"):

        class DupIndex(
            Table, table="dup_index", indexes=[Index("a", name="dup"), Index("b", name="dup")]
        ):
            a: int
            b: int


def test_annotated_column_form() -> None:
    class Annot(Table, table="annot"):
        id: Annotated[int | None, Column(primary_key=True, auto_increment=True)] = None
        code: Annotated[str, Column(unique=True), Column(column="the code")]

    spec = Annot.table_spec()
    assert spec.primary_key == ("id",)
    assert spec.column("id").auto_increment is True
    assert spec.column("the code").unique is True


def test_references_forms() -> None:
    class Author(Table, table="authors"):
        id: int | None = Field(default=None, primary_key=True)
        handle: str = Field(unique=True)

    class Book(Table, table="books"):
        id: int | None = Field(default=None, primary_key=True)
        by_class: int = Field(references=Author, on_delete="cascade")
        by_string: int | None = Field(
            default=None, references="authors.id", on_update="set null", related_name="b"
        )
        by_ref: str | None = Field(default=None, references=Author.ref("handle"), related_name="c")
        by_tuple: int | None = Field(default=None, references=(Author, "id"), related_name="d")
        by_column_ref: int | None = Field(
            default=None, references=ColumnRef(Author, "id"), related_name="e"
        )

    spec = Book.table_spec()
    assert spec.column("by_class").references == Reference("authors", "id", on_delete="CASCADE")
    assert spec.column("by_string").references == Reference("authors", "id", on_update="SET NULL")
    assert spec.column("by_ref").references == Reference("authors", "handle")
    assert spec.column("by_tuple").references == Reference("authors", "id")
    assert spec.column("by_column_ref").references == Reference("authors", "id")
    assert spec.foreign_key_targets() == {"authors"}

    db = database(schemas=[Book, Author], connection=":memory:", sync_schemas=True)
    assert db.plan().in_sync
    db.raw("INSERT INTO authors (id, handle) VALUES (1, 'ann')")
    db.raw("INSERT INTO books (by_class, by_ref) VALUES (1, 'ann')")
    with pytest.raises(sqlite3.IntegrityError, match="FOREIGN KEY"):
        db.raw("INSERT INTO books (by_class) VALUES (99)")
    db.raw("DELETE FROM authors WHERE id = 1")  # ON DELETE CASCADE
    assert db.raw("SELECT count(*) AS n FROM books")[0]["n"] == 0


def test_reference_errors() -> None:
    class Pair(Table, table="ref_pairs"):
        a: int = Field(primary_key=True)
        b: int = Field(primary_key=True)

    with pytest.raises(SchemaError, match=r"ToPair\.pair.*2 primary key columns"):

        class ToPair(Table, table="to_pair"):
            pair: int = Field(references=Pair)

    with pytest.raises(SchemaError, match=r"BadString\.x.*'table\.column'"):

        class BadString(Table, table="bad_string"):
            x: int = Field(references="no_dot")

    with pytest.raises(SchemaError, match=r"ActionOnly\.x: on_delete/on_update need references="):

        class ActionOnly(Table, table="action_only"):
            x: int = Field(on_delete="cascade")

    with pytest.raises(SchemaError, match=r"BadAction\.x.*on_delete must be one of"):

        class BadAction(Table, table="bad_action"):
            x: int = Field(references="ref_pairs.a", on_delete="explode")

    with pytest.raises(SchemaError, match="has no field 'nope'"):
        Pair.ref("nope")

    with pytest.raises(SchemaError, match=r"BadTarget\.x: references must be"):

        class BadTarget(Table, table="bad_target"):
            x: int = Field(references=42)


def test_auto_increment_errors() -> None:
    with pytest.raises(SchemaError, match=r"NoKey\.n: auto_increment=True needs primary_key=True"):

        class NoKey(Table, table="no_key"):
            n: int = Field(auto_increment=True)

    with pytest.raises(SchemaError, match=r"TextKey\.code: auto_increment needs a single integer"):

        class TextKey(Table, table="text_key"):
            code: str = Field(primary_key=True, auto_increment=True)


def test_undefined_forward_reference_is_a_schema_error() -> None:
    class Later(Table, table="later"):
        id: int | None = Field(default=None, primary_key=True)
        value: Undefined  # type: ignore[name-defined]  # noqa: F821

    assert Later.__dict__["__hedystia_info__"] is None  # not complete yet
    with pytest.raises(SchemaError, match=r"Later: annotation 'Undefined' is not defined"):
        table_info(Later)


def test_unique_on_single_primary_key_is_implied() -> None:
    class Keyed(Table, table="keyed"):
        code: str = Field(primary_key=True, unique=True)

    column = Keyed.table_spec().column("code")
    assert column.primary_key and not column.unique
    db = database(schemas=[Keyed], connection=":memory:", sync_schemas=True)
    assert db.plan().in_sync


def test_column_metadata_inside_an_optional_annotated_type_is_honoured() -> None:
    class Tagged(Table, table="tagged_optional"):
        id: int | None = Field(default=None, primary_key=True)
        code: Annotated[str, Column(unique=True, column="the_code")] | None = None

    column = Tagged.table_spec().column("the_code")
    assert column.unique is True
    assert column.not_null is False


# -- merging Column(...) and Field(...): a given option wins, whatever its value --------------


def test_field_false_overrides_an_annotated_column_true() -> None:
    class Overridden(Table, table="overridden"):
        id: int | None = Field(default=None, primary_key=True)
        code: Annotated[str, Column(unique=True)] = Field(unique=False)
        tag: Annotated[str, Column(index=True)] = Field("", index=False)

    spec = Overridden.table_spec()
    assert spec.column("code").unique is False
    assert spec.indexes == ()


def test_field_none_overrides_an_annotated_column_name_and_type() -> None:
    class Renamed(Table, table="renamed_back"):
        id: int | None = Field(default=None, primary_key=True)
        code: Annotated[str, Column(column="the code", sql_type="CHAR(3)")] = Field(
            column=None, sql_type=None
        )

    column = Renamed.table_spec().column("code")
    assert (column.name, column.type) == ("code", "TEXT")


def test_options_not_given_to_field_keep_the_annotated_values() -> None:
    class Kept(Table, table="kept"):
        id: Annotated[int | None, Column(primary_key=True)] = Field(default=None)
        code: Annotated[str, Column(unique=True)] = Field(max_length=3, index=True)

    spec = Kept.table_spec()
    assert spec.primary_key == ("id",)
    assert spec.column("code").unique is True
    assert spec.column("code").type == "VARCHAR(3)"
    assert spec.indexes == ()  # unique already indexes it


def test_field_overrides_inside_an_optional_annotated_type_too() -> None:
    class Optional(Table, table="optional_override"):
        id: Annotated[int, Column(primary_key=True)] | None = Field(default=None)
        code: Annotated[str, Column(unique=True)] | None = Field(default=None, unique=False)
        tag: Annotated[str | None, Column(index=True)] = Field(default=None, index=False)

    spec = Optional.table_spec()
    assert spec.primary_key == ("id",)
    assert spec.column("code").unique is False
    assert spec.indexes == ()


def test_outer_annotated_layer_overrides_an_inner_one() -> None:
    Code = Annotated[str, Column(unique=True, column="the_code")]

    class Layered(Table, table="layered"):
        id: int | None = Field(default=None, primary_key=True)
        code: Annotated[Code | None, Column(unique=False)] = None
        other: Annotated[str, Column(index=True), Column(index=False)] = ""

    spec = Layered.table_spec()
    assert spec.column("the_code").unique is False  # column= of the inner layer is kept
    assert spec.indexes == ()


def test_field_inside_an_optional_annotated_type_is_honoured() -> None:
    class Inner(Table, table="inner_field"):
        id: int | None = Field(default=None, primary_key=True)
        code: Annotated[str, Field(unique=True, max_length=4)] | None = None

    column = Inner.table_spec().column("code")
    assert (column.unique, column.type, column.not_null) == (True, "VARCHAR(4)", False)


def test_field_without_column_options_adds_no_metadata() -> None:
    assert Field().metadata == []
    assert not any(isinstance(m, Column) for m in Field(max_length=3, ge=0).metadata)
    [meta] = Field(unique=False).metadata  # an explicit False is recorded
    assert meta == Column(unique=False)


def test_column_remembers_the_options_given() -> None:
    assert Column().given == frozenset()
    assert Column(unique=False, column=None).given == {"unique", "column"}
    assert Column(unique=False).unique is False
    assert Column().column is None
    assert repr(Column(unique=True, check="x > 0")) == "Column(unique=True, check='x > 0')"
    assert Column(True).primary_key is True  # positional arguments still work


def test_column_equality_and_hash() -> None:
    assert Column(unique=True) == Column(unique=True)
    assert hash(Column(unique=True)) == hash(Column(unique=True))
    assert Column(unique=True) != Column(index=True)
    assert Column(unique=False) != Column()  # they merge differently
    assert len({Column(), Column(), Column(index=True), Column(index=True)}) == 2
    assert Field(unique=True).metadata == [Column(unique=True)]


def test_column_merged() -> None:
    base = Column(primary_key=True, unique=True, column="a")
    assert base.merged(Column()) == base
    assert base.merged(Column(unique=False, column=None)) == Column(
        primary_key=True, unique=False, column=None
    )
    merged = base.merged(Column(unique=False))
    assert (merged.primary_key, merged.unique, merged.column) == (True, False, "a")
    assert merged.given == {"primary_key", "unique", "column"}


def test_column_from_field_merges_annotated_metadata_with_field() -> None:
    spec = column_from_field("code", Annotated[str, Column(unique=True)], Field("x"))
    assert (spec.unique, spec.default_sql) == (True, "'x'")
    spec = column_from_field("code", Annotated[str, Column(unique=True)], Field(unique=False))
    assert spec.unique is False
    spec = column_from_field("code", Annotated[str, Column(column="c")])
    assert spec.name == "c"


# -- declaration mistakes are SchemaErrors naming model and field ----------------------------


def _bad_on_delete_type() -> None:
    class T(Table, table="t"):
        x: int = Field(references="a.b", on_delete=5)  # type: ignore[arg-type]


def _bad_on_delete_value() -> None:
    class T(Table, table="t"):
        x: int = Field(references="a.b", on_delete="bogus")


def _bad_references_int() -> None:
    class T(Table, table="t"):
        x: int = Field(references=42)


def _bad_references_tuple() -> None:
    class T(Table, table="t"):
        x: int = Field(references=(1, 2))


def _bad_references_tuple_field() -> None:
    class Target(Table, table="target"):
        id: int = Field(primary_key=True)

    class T(Table, table="t"):
        x: int = Field(references=(Target, 2))


def _bad_references_abstract() -> None:
    class Base(Table, abstract=True):
        id: int = Field(primary_key=True)

    class T(Table, table="t"):
        x: int = Field(references=Base)


def _bad_references_column_ref_model() -> None:
    class T(Table, table="t"):
        x: int = Field(references=ColumnRef(int, "x"))  # type: ignore[arg-type]


def _bad_references_nul() -> None:
    class T(Table, table="t"):
        x: int = Field(references="a\x00.b")


def _bad_index_empty() -> None:
    class T(Table, table="t", indexes=[Index()]):
        x: int


def _bad_index_unknown() -> None:
    class T(Table, table="t", indexes=[Index("nope")]):
        x: int


def _bad_index_not_a_name() -> None:
    class T(Table, table="t", indexes=[Index(["x"])]):
        x: int


def _bad_index_repeated_field() -> None:
    class T(Table, table="t", indexes=[Index("x", "x")]):
        x: int


def _bad_index_unique_type() -> None:
    class T(Table, table="t", indexes=[Index("x", unique="yes")]):
        x: int


def _bad_index_name_empty() -> None:
    class T(Table, table="t", indexes=[Index("x", name="")]):
        x: int


def _bad_index_name_type() -> None:
    class T(Table, table="t", indexes=[Index("x", name=5)]):
        x: int


def _bad_index_name_reserved() -> None:
    class T(Table, table="t", indexes=[Index("x", name="sqlite_x")]):
        x: int


def _bad_index_name_is_the_table() -> None:
    class T(Table, table="t", indexes=[Index("x", name="T")]):
        x: int


def _bad_indexes_single_index() -> None:
    class T(Table, table="t", indexes=Index("x")):
        x: int


def _bad_indexes_not_a_list() -> None:
    class T(Table, table="t", indexes=5):
        x: int


def _bad_indexes_item() -> None:
    class T(Table, table="t", indexes=["x"]):
        x: int


def _bad_sql_type_type() -> None:
    class T(Table, table="t"):
        x: int = Field(sql_type=5)  # type: ignore[arg-type]


def _bad_sql_type_empty() -> None:
    class T(Table, table="t"):
        x: int = Field(sql_type=" ")


def _bad_check_type() -> None:
    class T(Table, table="t"):
        x: int = Field(check=["x > 0"])  # type: ignore[arg-type]


def _bad_check_empty() -> None:
    class T(Table, table="t"):
        x: int = Field(check="")


def _bad_column_empty() -> None:
    class T(Table, table="t"):
        x: int = Field(column="")


def _bad_column_type() -> None:
    class T(Table, table="t"):
        x: int = Field(column=5)  # type: ignore[arg-type]


def _bad_column_nul() -> None:
    class T(Table, table="t"):
        x: int = Field(column="a\x00b")


def _bad_flag_type() -> None:
    class T(Table, table="t"):
        x: int = Field(unique="no")  # type: ignore[arg-type]


def _bad_annotated_flag_type() -> None:
    class T(Table, table="t"):
        x: Annotated[int, Column(primary_key="yes")]


def _bad_table_empty() -> None:
    class T(Table, table=""):
        x: int


def _bad_table_type() -> None:
    class T(Table, table=5):
        x: int


def _bad_table_nul() -> None:
    class T(Table, table="t\x00"):
        x: int


def _bad_table_reserved() -> None:
    class T(Table, table="SQLITE_things"):
        x: int


def _bad_abstract_type() -> None:
    class T(Table, abstract="yes"):
        x: int


def _bad_class_keyword() -> None:
    class T(Table, table="t", tabel="typo"):
        x: int


def _bad_auto_increment_without_key() -> None:
    class T(Table, table="t"):
        x: int = Field(auto_increment=True)


def _bad_same_column() -> None:
    class T(Table, table="t"):
        a: int
        x: int = Field(column="A")


def _bad_default_codec() -> None:
    class T(Table, table="t"):
        x: timedelta = "soon"  # type: ignore[assignment]


def _bad_default_too_big() -> None:
    class T(Table, table="t"):
        x: int = 2**64


def _bad_literal_nul() -> None:
    class T(Table, table="t"):
        x: Literal["a\x00"]


MODEL_MISTAKES = [
    (_bad_on_delete_type, r"T\.x: on_delete must be a string"),
    (_bad_on_delete_value, r"T\.x: on_delete must be one of"),
    (_bad_references_int, r"T\.x: references must be"),
    (_bad_references_tuple, r"T\.x: references=.* does not name a table model"),
    (_bad_references_tuple_field, r"T\.x: Target has no field 2"),
    (_bad_references_abstract, r"T\.x: references=Base, which is not a table model"),
    (_bad_references_column_ref_model, r"T\.x: references=.* does not name a table model"),
    (_bad_references_nul, r"T\.x: referenced table .* contains a NUL"),
    (_bad_index_empty, r"T: an Index needs at least one field"),
    (_bad_index_unknown, r"T: index on unknown field\(s\) \['nope'\]"),
    (_bad_index_not_a_name, r"T: Index arguments are field names"),
    (_bad_index_repeated_field, r"T: Index\(.*\) names field 'x' more than once"),
    (_bad_index_unique_type, r"T: Index\(.*\): unique must be True or False"),
    (_bad_index_name_empty, r"T: index name must not be empty"),
    (_bad_index_name_type, r"T: index name must be a string"),
    (_bad_index_name_reserved, r"T: index name 'sqlite_x' starts with 'sqlite_'"),
    (_bad_index_name_is_the_table, r"T: index 'T' has the name of its table"),
    (_bad_indexes_single_index, r"T: indexes= must be a list of Index"),
    (_bad_indexes_not_a_list, r"T: indexes= must be a list of Index"),
    (_bad_indexes_item, r"T: indexes= must contain only Index"),
    (_bad_sql_type_type, r"T\.x: sql_type must be a string"),
    (_bad_sql_type_empty, r"T\.x: sql_type must not be empty"),
    (_bad_check_type, r"T\.x: check must be a string"),
    (_bad_check_empty, r"T\.x: check must not be empty"),
    (_bad_column_empty, r"T\.x: column= must not be empty"),
    (_bad_column_type, r"T\.x: column= must be a string"),
    (_bad_column_nul, r"T\.x: column= .* contains a NUL"),
    (_bad_flag_type, r"T\.x: unique must be True or False"),
    (_bad_annotated_flag_type, r"T\.x: primary_key must be True or False"),
    (_bad_table_empty, r"T: table= must not be empty"),
    (_bad_table_type, r"T: table= must be a string"),
    (_bad_table_nul, r"T: table= .* contains a NUL"),
    (_bad_table_reserved, r"T: table= 'SQLITE_things' starts with 'sqlite_'"),
    (_bad_abstract_type, r"T: abstract= must be True or False"),
    (_bad_class_keyword, r"T: unknown class keyword\(s\) 'tabel'"),
    (_bad_auto_increment_without_key, r"T\.x: auto_increment=True needs primary_key=True"),
    (_bad_same_column, r"T\.x: column 'A' is also used by field 'a'"),
    (_bad_default_codec, r"T\.x: default 'soon' cannot be stored as an SQL DEFAULT"),
    (_bad_default_too_big, r"T\.x: default 18446744073709551616 does not fit"),
    (_bad_literal_nul, r"T\.x: literal value .* cannot be written in SQL"),
]


@pytest.mark.parametrize(
    ("declare", "message"),
    MODEL_MISTAKES,
    ids=[declare.__name__.removeprefix("_bad_") for declare, _ in MODEL_MISTAKES],
)
def test_declaration_mistake_is_a_schema_error(declare: Callable[[], None], message: str) -> None:
    with pytest.raises(SchemaError, match=message):
        declare()


def test_ref_to_a_name_that_is_not_a_string() -> None:
    class Target(Table, table="ref_target"):
        id: int = Field(primary_key=True)

    with pytest.raises(SchemaError, match=r"Target has no field \['id'\]"):
        Target.ref(["id"])  # type: ignore[arg-type]


def test_a_column_name_with_a_nul_from_the_field_name() -> None:
    with pytest.raises(SchemaError, match=r"Nul\.a.: column name 'a\\x00' contains a NUL"):
        pydantic.create_model(  # type: ignore[call-overload]
            "Nul", __base__=Table, __cls_kwargs__={"table": "nul"}, **{"a\x00": (int, 1)}
        )


def test_auto_increment_accepts_integer_sql_type_in_any_case() -> None:
    class Counter(Table, table="counter"):
        id: int | None = Field(
            default=None, primary_key=True, auto_increment=True, sql_type="integer"
        )

    assert Counter.table_spec().column("id").auto_increment is True


def test_class_keywords_of_pydantic_and_of_mixins_still_work() -> None:
    class Tagging:
        def __init_subclass__(cls, tag: str = "", **kwargs: Any) -> None:
            super().__init_subclass__(**kwargs)
            cls.tag = tag  # type: ignore[attr-defined]

    class Frozen(Table, Tagging, table="frozen_rows", frozen=True, tag="x"):
        id: int = Field(primary_key=True)

    assert Frozen.model_config.get("frozen") is True
    assert Frozen.tag == "x"  # type: ignore[attr-defined]


# -- moved here from test_review_library.py: model declaration ------------------------------


def test_a_literal_that_includes_none_is_a_nullable_column() -> None:
    class Choice(Table, table="choices"):
        id: int | None = Field(default=None, primary_key=True)
        size: Literal["s", "m", None] = None

    column = Choice.table_spec().column("size")
    assert (column.type, column.not_null) == ("TEXT", False)
    assert column.check == "\"size\" IN ('s', 'm')"
    with database(schemas=[Choice], connection=":memory:", sync_schemas=True) as db:
        rows = db.table(Choice)
        assert rows.insert({}).size is None
        assert rows.insert({"size": "m"}).size == "m"
        assert [c.size for c in rows.find(where={"size": None})] == [None]


def test_indexes_declared_on_a_base_class_are_inherited() -> None:
    class Stamped(Table, abstract=True, indexes=[Index("created_at", "id")]):
        id: int | None = Field(default=None, primary_key=True)
        created_at: str = ""

    class Note(Stamped, table="notes", indexes=[Index("body")]):
        body: str = ""

    assert {index.name for index in Note.table_spec().indexes} == {
        "notes_created_at_id_index",
        "notes_body_index",
    }


def test_a_primary_key_column_after_the_first_of_a_composite_key_gets_its_index() -> None:
    class Member(Table, table="members"):
        org_id: int = Field(primary_key=True, index=True)  # leads the key: already indexed
        user_id: int = Field(primary_key=True, index=True)  # not indexed by the key

    assert [index.name for index in Member.table_spec().indexes] == ["members_user_id_index"]


# -- what real schemas have: unique constraints, SQL defaults, collations, deferred keys -------


def test_real_schema_features_are_declared_read_back_and_in_sync() -> None:
    from datetime import datetime as _datetime

    class Shop(Table, table="shops"):
        id: int | None = Field(default=None, primary_key=True)

    class Order(Table, table="orders", unique=[("shop_id", "number")]):
        id: int | None = Field(default=None, primary_key=True)
        shop_id: int = Field(references=Shop, deferrable=True, on_delete="cascade")
        number: int
        name: str = Field(default="", collate="nocase")
        created: _datetime | None = Field(default=None, sql_default="CURRENT_TIMESTAMP")
        active: bool = Field(default=True, db_default=False)

    db = database(schemas=[Shop, Order], connection=":memory:", sync_schemas=True)
    (sql,) = db.raw("SELECT sql FROM sqlite_master WHERE name = 'orders'")
    assert 'REFERENCES "shops"("id") ON DELETE CASCADE DEFERRABLE INITIALLY DEFERRED' in sql["sql"]
    assert 'UNIQUE ("shop_id", "number")' in sql["sql"]
    assert "COLLATE NOCASE" in sql["sql"] and "DEFAULT CURRENT_TIMESTAMP" in sql["sql"]
    assert '"active" BOOLEAN NOT NULL,' in sql["sql"]  # the default lives in Python only
    assert db.plan().in_sync
    # A child before its parent, in one transaction: the deferred key is checked at COMMIT.
    with db.transaction():
        db.table(Order).insert({"shop_id": 1, "number": 1})
        db.table(Shop).insert({"id": 1})
    (order,) = db.table(Order).find()
    assert order.created is not None and order.active is True  # the database filled created
    with pytest.raises(RowError):
        db.table(Order).insert({"shop_id": 1, "number": 1})  # UNIQUE (shop_id, number)
    assert db.table(Order).find(where={"name": ""}) == [order]


@pytest.mark.parametrize(
    ("declare", "message"),
    [
        ({"unique": ["ab"]}, "each item of unique= names two or more fields"),
        ({"unique": [("a",)]}, "each item of unique= names two or more fields"),
        ({"unique": "ab"}, "unique= must be a list of field-name tuples"),
        ({"unique": [("a", "nope")]}, "unique= names unknown field"),
    ],
)
def test_bad_unique_constraints_are_schema_errors(declare: dict[str, Any], message: str) -> None:
    with pytest.raises(SchemaError, match=message):

        class Bad(Table, table="bad", **declare):
            a: int
            b: int


def test_sql_default_and_python_default_together_is_a_schema_error() -> None:
    with pytest.raises(SchemaError, match="not both"):

        class Bad(Table, table="bad"):
            a: int = Field(default=1, sql_default="2")

    with pytest.raises(SchemaError, match=r"sql_default='CURRENT_TIMESTAMP'"):
        from datetime import datetime as _datetime

        class Stamp(Table, table="stamp"):
            at: _datetime = Field(default="CURRENT_TIMESTAMP")

    with pytest.raises(SchemaError, match="deferrable=True needs references="):

        class Loose(Table, table="loose"):
            a: int = Field(deferrable=True)
