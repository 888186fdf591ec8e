"""The ``schemas=`` argument: a list, a dict or a module of Table models."""

from __future__ import annotations

import importlib
import sys
import types
from pathlib import Path

import pytest
from pydantic import BaseModel

from hedystia_models import Field, Index, SchemaError, Table, database
from hedystia_models.model.schemas import normalize_schemas


class Base(Table, abstract=True):
    id: int | None = Field(default=None, primary_key=True)


class Author(Base, table="sa_authors"):
    name: str


class Post(Base, table="sa_posts"):
    author_id: int = Field(references=Author)
    title: str


class NotATable(BaseModel):
    x: int


def make_module() -> types.ModuleType:
    module = types.ModuleType("fake_app.schemas")
    module.Table = Table  # type: ignore[attr-defined]  # the base, as `from ... import Table`
    module.Base = Base  # type: ignore[attr-defined]  # an abstract base
    module.Post = Post  # type: ignore[attr-defined]
    module.Author = Author  # type: ignore[attr-defined]
    module.AuthorAlias = Author  # type: ignore[attr-defined]  # re-exported under a 2nd name
    module.NotATable = NotATable  # type: ignore[attr-defined]
    module.helper = len  # type: ignore[attr-defined]
    module.CONSTANT = 3  # type: ignore[attr-defined]
    return module


def test_list_keys_are_table_names() -> None:
    assert normalize_schemas([Post, Author]) == {"sa_posts": Post, "sa_authors": Author}
    assert normalize_schemas((Author,)) == {"sa_authors": Author}


def test_dict_keys_are_kept() -> None:
    assert normalize_schemas({"posts": Post, "authors": Author}) == {
        "posts": Post,
        "authors": Author,
    }


def test_module_takes_its_table_models_once() -> None:
    result = normalize_schemas(make_module())
    assert result == {"Post": Post, "Author": Author}
    assert list(result) == ["Post", "Author"]  # definition order
    assert Table not in result.values() and Base not in result.values()


def test_module_end_to_end(db_path: Path) -> None:
    module = make_module()
    db = database(schemas=module, connection=db_path, sync_schemas=True)
    assert set(db.models) == {"Post", "Author"}
    assert {"sa_posts", "sa_authors"} <= set(db.sqlite.table_names())
    assert db.plan().in_sync
    assert "base" not in db.sqlite.table_names()
    assert "table" not in db.sqlite.table_names()
    # referenced table created first although the module lists Post first
    statements = db.history()[0].statements
    assert statements[0].startswith('CREATE TABLE "sa_authors"')


def test_list_and_dict_end_to_end() -> None:
    for schemas in ([Post, Author], {"p": Post, "a": Author}):
        db = database(schemas=schemas, connection=":memory:", sync_schemas=True)
        assert db.plan().in_sync
        assert {s.name for s in db.specs} == {"sa_posts", "sa_authors"}


def test_module_without_models() -> None:
    empty = types.ModuleType("empty_mod")
    empty.Table = Table  # type: ignore[attr-defined]
    empty.Base = Base  # type: ignore[attr-defined]
    with pytest.raises(SchemaError, match="module 'empty_mod' defines no Table models"):
        normalize_schemas(empty)


@pytest.mark.parametrize(
    ("schemas", "message"),
    [
        ([Author, NotATable], "not a Table model"),
        ([Author, Base], "not a Table model"),
        ([Table], "not a Table model"),
        ({"a": Author, "b": 3}, r"schemas\['b'\] is not a Table model"),
        ("sa_authors", "schemas must be a list of Table models, a dict of them, or a module"),
        (42, r"\(got int\)"),
    ],
    ids=["pydantic_model", "abstract", "table_base", "dict_value", "string", "int"],
)
def test_bad_schemas(schemas: object, message: str) -> None:
    with pytest.raises(SchemaError, match=message):
        normalize_schemas(schemas)
    with pytest.raises(SchemaError, match=message):
        database(schemas=schemas, connection=":memory:")


def test_two_models_claiming_one_table_name() -> None:
    class First(Table, table="claimed"):
        id: int | None = Field(default=None, primary_key=True)

    class Second(Table, table="claimed"):
        id: int | None = Field(default=None, primary_key=True)
        extra: int = 0

    for schemas in ([First, Second], {"a": First, "b": Second}):
        with pytest.raises(SchemaError) as caught:
            normalize_schemas(schemas)
        message = str(caught.value)
        assert "First" in message and "Second" in message
        assert "'claimed'" in message
        assert __name__ in message  # module-qualified names

    module = types.ModuleType("clash_mod")
    module.First = First  # type: ignore[attr-defined]
    module.Second = Second  # type: ignore[attr-defined]
    with pytest.raises(SchemaError, match=r"First.*Second.*both declare table 'claimed'"):
        database(schemas=module, connection=":memory:")


def test_table_names_clash_case_insensitively() -> None:
    class Lower(Table, table="people"):
        id: int | None = Field(default=None, primary_key=True)

    class Upper(Table, table="PEOPLE"):
        id: int | None = Field(default=None, primary_key=True)

    with pytest.raises(SchemaError, match=r"Lower.*Upper.*both declare table 'PEOPLE'"):
        normalize_schemas([Lower, Upper])


def test_same_class_twice_in_a_list_is_one_model() -> None:
    assert normalize_schemas([Author, Author]) == {"sa_authors": Author}


def test_a_dict_giving_one_model_under_two_keys_is_an_error() -> None:
    class Twice(Table, table="twice"):
        id: int | None = Field(default=None, primary_key=True)

    with pytest.raises(SchemaError) as info:
        normalize_schemas({"a": Twice, "b": Twice})
    message = str(info.value)
    assert "schemas['b']" in message and "schemas['a']" in message and "Twice" in message


def test_a_package_is_read_without_running_its_main(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    package = tmp_path / "schemas_pkg_with_main"
    package.mkdir()
    (package / "__init__.py").write_text("")
    (package / "models.py").write_text(
        "from hedystia_models import Field, Table\n\n\n"
        "class Item(Table, table='pkg_items'):\n"
        "    id: int | None = Field(default=None, primary_key=True)\n"
    )
    (package / "__main__.py").write_text("raise SystemExit('the command line ran')\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    module = importlib.import_module("schemas_pkg_with_main")
    assert [model.__name__ for model in normalize_schemas(module).values()] == ["Item"]
    assert "schemas_pkg_with_main.__main__" not in sys.modules


def test_an_index_named_like_another_models_table_or_index() -> None:
    class Shelf(Table, table="shelves", indexes=[Index("label", name="by_label")]):
        id: int | None = Field(default=None, primary_key=True)
        label: str

    class Box(Table, table="boxes", indexes=[Index("label", name="SHELVES")]):
        id: int | None = Field(default=None, primary_key=True)
        label: str

    class Crate(Table, table="crates", indexes=[Index("label", name="by_label")]):
        id: int | None = Field(default=None, primary_key=True)
        label: str

    with pytest.raises(SchemaError, match=r"Box: index 'SHELVES' has the name of the table of"):
        normalize_schemas([Shelf, Box])
    with pytest.raises(SchemaError, match=r"Crate: index 'by_label' has the name of the index"):
        database(schemas={"s": Shelf, "c": Crate}, connection=":memory:")
    assert set(normalize_schemas([Box, Crate])) == {"boxes", "crates"}
