"""``inspect_models(db)`` and ``hedystia-models schema inspect``: models written from a live
database describe it exactly.

For each hand-written schema below the generated module compiles, its models' plan against the
very database it was read from is empty (no operation, no note), every declared type is the
live one word for word, and nothing is listed as unsupported; the one-file-per-table variant
too; models synced into an empty database read back as the same source. What a model cannot
declare yet is listed and marked ``# TODO:``, or, once the package can declare it, declared.
"""

from __future__ import annotations

import inspect
import pickle
import re
import sqlite3
import subprocess
import sys
import types
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import sqlite_utils
from cli_project import Project, one_line_error, open_project

import hedystia_models
from hedystia_models import ConfigurationError, Field, Index, Table, database, inspect_models
from hedystia_models.engine.sqlite.introspect import read_database
from hedystia_models.inspect import InspectedModels
from hedystia_models.inspect.features import probe_features
from hedystia_models.schema.compare import affinity, column_changes, same_default
from hedystia_models.schema.quoting import fold_identifier

ROOT = Path(__file__).resolve().parent.parent

# -- helpers -------------------------------------------------------------------------------------


def make_db(sql: str) -> sqlite3.Connection:
    conn = sqlite3.connect(":memory:")
    conn.executescript(sql)
    return conn


def load(source: str) -> list[type[Table]]:
    """The Table classes ``source`` declares, run as an imported module would run."""
    module = types.ModuleType(f"inspected_{uuid.uuid4().hex[:12]}")
    sys.modules[module.__name__] = module
    try:
        code = compile(source, f"<{module.__name__}>", "exec", dont_inherit=True)
        exec(code, module.__dict__)
    finally:
        del sys.modules[module.__name__]
    return [
        value
        for value in vars(module).values()
        if isinstance(value, type)
        and issubclass(value, Table)
        and value.__module__ == module.__name__
        and not value.__hedystia_abstract__
    ]


def load_files(files: dict[str, str]) -> list[type[Table]]:
    """Every file loaded on its own (no file needs another), their classes together."""
    models: list[type[Table]] = []
    for name, source in files.items():
        found = load(source)
        assert len(found) == 1, (name, source)
        models += found
    return models


def assert_describes(conn: sqlite3.Connection, models: list[type[Table]]) -> None:
    """``models`` are the database's tables exactly: an empty plan without notes, the same
    columns in the same order, every declared type word for word."""
    with database(schemas=models, connection=conn) as db:
        plan = db.plan()
        assert plan.in_sync, str(plan)
        assert not getattr(plan, "notes", ()), plan.notes
    live = read_database(sqlite_utils.Database(conn)).tables
    specs = {fold_identifier(m.table_spec().name): m.table_spec() for m in models}
    assert sorted(specs) == sorted(fold_identifier(name) for name in live)
    for name, table in live.items():
        spec = specs[fold_identifier(name)]
        assert spec.name == table.name
        assert spec.column_names == table.column_names, name
        for want, got in zip(table.columns, spec.columns, strict=True):
            where = f"{name}.{want.name}"
            assert got.type == want.type, where
            assert (got.not_null, got.primary_key, got.auto_increment, got.unique) == (
                want.not_null,
                want.primary_key,
                want.auto_increment,
                want.unique,
            ), where
            assert same_default(got.default_sql, want.default_sql, affinity(want.type)) or (
                got.kind in ("datetime", "time") and not column_changes(got, want)  # in UTC
            ), where


def inspected(sql: str) -> tuple[sqlite3.Connection, InspectedModels]:
    conn = make_db(sql)
    return conn, inspect_models(conn)


# -- the schemas -------------------------------------------------------------------------------

ODD_IDENTIFIERS = '''
CREATE TABLE "order" (
    "select" INTEGER PRIMARY KEY,
    "from" TEXT NOT NULL,
    "a b" TEXT,
    "a_b" TEXT,
    "it's" INT,
    "say ""hi""" TEXT,
    "class" TEXT,
    "json" TEXT,
    "model_config" TEXT,
    "schema" TEXT,
    "_private" TEXT,
    "2nd" TEXT,
    "date" DATE,
    "Field" TEXT,
    "int" INTEGER,
    "None" TEXT,
    "café" TEXT,
    "ﬁx" TEXT
);
CREATE TABLE "line items" (
    id INTEGER PRIMARY KEY,
    "order" INTEGER REFERENCES "order" ("select") ON DELETE CASCADE,
    "weird name" TEXT DEFAULT 'it''s',
    [bracketed] TEXT,
    `backticked` TEXT
);
CREATE INDEX "line items_weird name_index" ON "line items" ("weird name");
CREATE INDEX "my index" ON "line items" ("order", [bracketed]);
CREATE TABLE "Field" (x INT);
CREATE TABLE "2fa" (code TEXT PRIMARY KEY);
CREATE TABLE "a.b" ("c.d" TEXT);
CREATE TABLE "Order Items" (id INTEGER PRIMARY KEY);
CREATE TABLE "order_items" (id INTEGER PRIMARY KEY);
'''

KEYS_AND_REFERENCES = """
CREATE TABLE orgs (id INTEGER PRIMARY KEY AUTOINCREMENT, slug TEXT NOT NULL UNIQUE);
CREATE TABLE users (
    id INTEGER PRIMARY KEY,
    email VARCHAR(255) NOT NULL UNIQUE,
    org_id INTEGER REFERENCES orgs (id) ON DELETE SET NULL ON UPDATE CASCADE,
    manager_id INTEGER REFERENCES users (id),
    buddy TEXT REFERENCES users (email) ON DELETE NO ACTION
);
CREATE TABLE memberships (
    org_id INTEGER NOT NULL REFERENCES orgs (id) ON DELETE CASCADE,
    user_id INTEGER NOT NULL REFERENCES users (id) ON DELETE RESTRICT,
    role TEXT NOT NULL DEFAULT 'member',
    PRIMARY KEY (org_id, user_id)
);
CREATE INDEX memberships_user_id_index ON memberships (user_id);
CREATE INDEX memberships_org_id_index ON memberships (org_id);
CREATE TABLE tags (
    name TEXT PRIMARY KEY,
    parent TEXT DEFAULT 'root' REFERENCES tags (name) ON DELETE SET DEFAULT
);
CREATE TABLE settings (
    key TEXT NOT NULL, scope TEXT NOT NULL, value BLOB, PRIMARY KEY (key, scope)
);
CREATE TABLE codes (code INT PRIMARY KEY, label TEXT);
"""

TYPES = """
CREATE TABLE everything (
    id INTEGER PRIMARY KEY,
    i INTEGER NOT NULL,
    f REAL,
    t TEXT,
    v VARCHAR(12) NOT NULL,
    b BOOLEAN NOT NULL,
    bl BLOB,
    dt DATETIME,
    d DATE,
    tm TIME,
    big BIGINT,
    small smallint,
    int_ INT,
    ch CHAR(3),
    nv NVARCHAR(40),
    clob CLOB,
    dbl DOUBLE PRECISION,
    flt FLOAT,
    num NUMERIC,
    dec DECIMAL(10, 2),
    num2 NUMERIC(10,2),
    bool2 BOOL,
    ts TIMESTAMP,
    vc VARCHAR,
    js JSON,
    uid UUID,
    money MONEY
);
CREATE TABLE keyed (id UUID PRIMARY KEY DEFAULT '00000000-0000-0000-0000-000000000001');
"""

DEFAULTS = """
CREATE TABLE defaults (
    id INTEGER PRIMARY KEY,
    n INTEGER NOT NULL DEFAULT 5,
    neg INTEGER DEFAULT -3,
    plus INT DEFAULT +1,
    big INTEGER DEFAULT 9223372036854775807,
    paren INTEGER DEFAULT (42),
    counted INTEGER DEFAULT '7',
    r REAL DEFAULT 2.5,
    r0 REAL NOT NULL DEFAULT 0,
    rexp REAL DEFAULT 1e3,
    rtext REAL DEFAULT '0.5',
    s TEXT NOT NULL DEFAULT 'it''s',
    empty TEXT NOT NULL DEFAULT '',
    quoted TEXT DEFAULT 'say "hi"',
    multi TEXT DEFAULT 'line
break',
    flag BOOLEAN NOT NULL DEFAULT TRUE,
    off BOOLEAN NOT NULL DEFAULT 0,
    b2 BOOLEAN DEFAULT 2,
    blob BLOB DEFAULT x'00ff',
    at DATETIME DEFAULT '2026-01-01 09:00:00',
    aware DATETIME DEFAULT '2026-01-01 09:00:00+02:00',
    micro DATETIME DEFAULT '2026-01-01 09:00:00.123456',
    isot DATETIME DEFAULT '2026-01-01T09:00:00',
    day DATE DEFAULT '2026-01-02',
    clock TIME DEFAULT '10:15:00',
    price NUMERIC(10,2) NOT NULL DEFAULT 0,
    rate NUMERIC DEFAULT 1.5,
    exact TEXT DEFAULT '1.10',
    dtext DECIMAL(5,2) DEFAULT '1.10',
    nada TEXT DEFAULT NULL
);
"""

NULLS_UNIQUE_CHECKS = """
CREATE TABLE people (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL,
    nick TEXT,
    email TEXT UNIQUE,
    code TEXT NOT NULL UNIQUE,
    age INTEGER CHECK (age >= 0),
    score REAL NOT NULL DEFAULT 0 CHECK (score BETWEEN 0 AND 100) CHECK (score <> 13),
    kind TEXT NOT NULL DEFAULT 'a' CHECK (kind IN ('a', 'b')),
    "odd col" TEXT CHECK ("odd col" <> 'x'),
    ssn TEXT
);
CREATE UNIQUE INDEX people_ssn_unique ON people (ssn);
"""

INDEXES = """
CREATE TABLE events (
    id INTEGER PRIMARY KEY,
    room TEXT NOT NULL,
    starts_at TEXT NOT NULL,
    title TEXT,
    tag TEXT,
    code TEXT UNIQUE
);
CREATE INDEX events_title_index ON events (title);
CREATE INDEX by_tag ON events (tag);
CREATE UNIQUE INDEX events_room_starts_at_unique ON events (room, starts_at);
CREATE INDEX events_room_title_index ON events (room, title);
CREATE UNIQUE INDEX room_slot ON events (starts_at, room, tag);
CREATE INDEX events_code_index ON events (code);
CREATE INDEX "Events_Title_Tag_Index" ON events (title, tag);
"""

CHINOOK = """
CREATE TABLE [Artist] (
    [ArtistId] INTEGER NOT NULL,
    [Name] NVARCHAR(120),
    CONSTRAINT [PK_Artist] PRIMARY KEY ([ArtistId])
);
CREATE TABLE [Album] (
    [AlbumId] INTEGER NOT NULL,
    [Title] NVARCHAR(160) NOT NULL,
    [ArtistId] INTEGER NOT NULL,
    CONSTRAINT [PK_Album] PRIMARY KEY ([AlbumId]),
    FOREIGN KEY ([ArtistId]) REFERENCES [Artist] ([ArtistId])
        ON DELETE NO ACTION ON UPDATE NO ACTION
);
CREATE TABLE [Employee] (
    [EmployeeId] INTEGER NOT NULL,
    [LastName] NVARCHAR(20) NOT NULL,
    [FirstName] NVARCHAR(20) NOT NULL,
    [Title] NVARCHAR(30),
    [ReportsTo] INTEGER,
    [BirthDate] DATETIME,
    [HireDate] DATETIME,
    [Email] NVARCHAR(60),
    CONSTRAINT [PK_Employee] PRIMARY KEY ([EmployeeId]),
    FOREIGN KEY ([ReportsTo]) REFERENCES [Employee] ([EmployeeId])
        ON DELETE NO ACTION ON UPDATE NO ACTION
);
CREATE TABLE [Customer] (
    [CustomerId] INTEGER NOT NULL,
    [FirstName] NVARCHAR(40) NOT NULL,
    [LastName] NVARCHAR(20) NOT NULL,
    [Company] NVARCHAR(80),
    [Email] NVARCHAR(60) NOT NULL,
    [SupportRepId] INTEGER,
    CONSTRAINT [PK_Customer] PRIMARY KEY ([CustomerId]),
    FOREIGN KEY ([SupportRepId]) REFERENCES [Employee] ([EmployeeId])
        ON DELETE NO ACTION ON UPDATE NO ACTION
);
CREATE TABLE [Genre] ([GenreId] INTEGER NOT NULL, [Name] NVARCHAR(120),
    CONSTRAINT [PK_Genre] PRIMARY KEY ([GenreId]));
CREATE TABLE [MediaType] ([MediaTypeId] INTEGER NOT NULL, [Name] NVARCHAR(120),
    CONSTRAINT [PK_MediaType] PRIMARY KEY ([MediaTypeId]));
CREATE TABLE [Track] (
    [TrackId] INTEGER NOT NULL,
    [Name] NVARCHAR(200) NOT NULL,
    [AlbumId] INTEGER,
    [MediaTypeId] INTEGER NOT NULL,
    [GenreId] INTEGER,
    [Composer] NVARCHAR(220),
    [Milliseconds] INTEGER NOT NULL,
    [Bytes] INTEGER,
    [UnitPrice] NUMERIC(10,2) NOT NULL,
    CONSTRAINT [PK_Track] PRIMARY KEY ([TrackId]),
    FOREIGN KEY ([AlbumId]) REFERENCES [Album] ([AlbumId])
        ON DELETE NO ACTION ON UPDATE NO ACTION,
    FOREIGN KEY ([GenreId]) REFERENCES [Genre] ([GenreId])
        ON DELETE NO ACTION ON UPDATE NO ACTION,
    FOREIGN KEY ([MediaTypeId]) REFERENCES [MediaType] ([MediaTypeId])
        ON DELETE NO ACTION ON UPDATE NO ACTION
);
CREATE TABLE [Invoice] (
    [InvoiceId] INTEGER NOT NULL,
    [CustomerId] INTEGER NOT NULL,
    [InvoiceDate] DATETIME NOT NULL,
    [BillingCountry] NVARCHAR(40),
    [Total] NUMERIC(10,2) NOT NULL,
    CONSTRAINT [PK_Invoice] PRIMARY KEY ([InvoiceId]),
    FOREIGN KEY ([CustomerId]) REFERENCES [Customer] ([CustomerId])
        ON DELETE NO ACTION ON UPDATE NO ACTION
);
CREATE TABLE [InvoiceLine] (
    [InvoiceLineId] INTEGER NOT NULL,
    [InvoiceId] INTEGER NOT NULL,
    [TrackId] INTEGER NOT NULL,
    [UnitPrice] NUMERIC(10,2) NOT NULL,
    [Quantity] INTEGER NOT NULL,
    CONSTRAINT [PK_InvoiceLine] PRIMARY KEY ([InvoiceLineId]),
    FOREIGN KEY ([InvoiceId]) REFERENCES [Invoice] ([InvoiceId])
        ON DELETE NO ACTION ON UPDATE NO ACTION,
    FOREIGN KEY ([TrackId]) REFERENCES [Track] ([TrackId])
        ON DELETE NO ACTION ON UPDATE NO ACTION
);
CREATE TABLE [Playlist] ([PlaylistId] INTEGER NOT NULL, [Name] NVARCHAR(120),
    CONSTRAINT [PK_Playlist] PRIMARY KEY ([PlaylistId]));
CREATE TABLE [PlaylistTrack] (
    [PlaylistId] INTEGER NOT NULL,
    [TrackId] INTEGER NOT NULL,
    CONSTRAINT [PK_PlaylistTrack] PRIMARY KEY ([PlaylistId], [TrackId]),
    FOREIGN KEY ([PlaylistId]) REFERENCES [Playlist] ([PlaylistId])
        ON DELETE NO ACTION ON UPDATE NO ACTION,
    FOREIGN KEY ([TrackId]) REFERENCES [Track] ([TrackId])
        ON DELETE NO ACTION ON UPDATE NO ACTION
);
CREATE INDEX [IFK_AlbumArtistId] ON [Album] ([ArtistId]);
CREATE INDEX [IFK_CustomerSupportRepId] ON [Customer] ([SupportRepId]);
CREATE INDEX [IFK_EmployeeReportsTo] ON [Employee] ([ReportsTo]);
CREATE INDEX [IFK_InvoiceCustomerId] ON [Invoice] ([CustomerId]);
CREATE INDEX [IFK_InvoiceLineInvoiceId] ON [InvoiceLine] ([InvoiceId]);
CREATE INDEX [IFK_InvoiceLineTrackId] ON [InvoiceLine] ([TrackId]);
CREATE INDEX [IFK_PlaylistTrackTrackId] ON [PlaylistTrack] ([TrackId]);
CREATE INDEX [IFK_TrackAlbumId] ON [Track] ([AlbumId]);
CREATE INDEX [IFK_TrackGenreId] ON [Track] ([GenreId]);
CREATE INDEX [IFK_TrackMediaTypeId] ON [Track] ([MediaTypeId]);
CREATE UNIQUE INDEX [IPK_Artist] ON [Artist] ([ArtistId]);
"""

SCHEMAS = {
    "odd_identifiers": ODD_IDENTIFIERS,
    "keys_and_references": KEYS_AND_REFERENCES,
    "types": TYPES,
    "defaults": DEFAULTS,
    "nulls_unique_checks": NULLS_UNIQUE_CHECKS,
    "indexes": INDEXES,
    "chinook": CHINOOK,
}


@pytest.fixture(params=sorted(SCHEMAS))
def schema(request: pytest.FixtureRequest) -> str:
    return str(SCHEMAS[request.param])


# -- the module and the files describe the database ----------------------------------------------


def test_the_module_describes_the_database(schema: str) -> None:
    conn, found = inspected(schema)
    assert found.unsupported == [], found.source
    assert "# TODO" not in found.source
    models = load(found.source)
    assert len(models) == len(found.classes)
    assert_describes(conn, models)


def test_the_files_describe_the_database(schema: str) -> None:
    conn, found = inspected(schema)
    assert sorted(found.files) == sorted(f"{name}.py" for name in _modules(found))
    assert_describes(conn, load_files(found.files))


def _modules(found: InspectedModels) -> list[str]:
    return [name.removesuffix(".py") for name in found.files]


def test_models_synced_into_an_empty_database_read_back_as_the_same_source(schema: str) -> None:
    _, found = inspected(schema)
    with database(schemas=load(found.source), connection=":memory:", sync_schemas=True) as fresh:
        assert inspect_models(fresh).source == found.source


def test_the_result_is_the_module_itself() -> None:
    _, found = inspected(KEYS_AND_REFERENCES)
    assert isinstance(found, str) and type(found.source) is str
    assert found == found.source
    assert found.classes == {
        "orgs": "Orgs",
        "users": "Users",
        "memberships": "Memberships",
        "tags": "Tags",
        "settings": "Settings",
        "codes": "Codes",
    }
    # Referenced tables come first.
    order = [m.table_spec().name for m in load(found)]
    assert order.index("orgs") < order.index("users") < order.index("memberships")
    assert "InspectedModels(" in repr(found)
    copied = pickle.loads(pickle.dumps(found))
    assert (copied, copied.files, copied.unsupported, copied.classes) == (
        found.source,
        found.files,
        found.unsupported,
        found.classes,
    )


def test_what_the_keys_and_references_are_written_as() -> None:
    _, found = inspected(KEYS_AND_REFERENCES)
    source = found.source
    for line in [
        "    id: int | None = Field(default=None, primary_key=True, auto_increment=True)",
        "    email: str = Field(max_length=255, unique=True)",
        '        default=None, references="orgs.id", on_delete="set null", on_update="cascade"',
        # Two references of users to itself: their reverse relations (both "users" by
        # default) are named, as database(...) refuses two relations of one name.
        '        default=None, references="users.id", related_name="users_via_manager_id"',
        '        default=None, references="users.email", related_name="users_via_buddy"',
        '    org_id: int = Field(primary_key=True, references="orgs.id", on_delete="cascade")',
        '    role: str = "member"',
        "    key: str = Field(primary_key=True)",
        '    code: int = Field(primary_key=True, sql_type="INT")',
        'class Memberships(Table, table="memberships", indexes=[Index("org_id")]):',
    ]:
        assert line in source.splitlines(), (line, source)
    # The second key column gets index=True (the key's index covers the first only).
    assert "primary_key=True,\n        index=True," in source or (
        'user_id: int = Field(\n        primary_key=True, index=True, references="users.id"'
        in source
    ), source


def test_odd_identifiers_get_python_names() -> None:
    _, found = inspected(ODD_IDENTIFIERS)
    source = found.source
    assert found.classes == {
        "order": "Order",
        "line items": "LineItems",
        "Field": "FieldModel",
        "2fa": "T2fa",
        "a.b": "AB",
        "Order Items": "OrderItems",
        "order_items": "OrderItems2",
    }
    (order,) = [m for m in load(source) if m.__name__ == "Order"]
    fields = {name: info for name, info in order.model_fields.items()}
    columns = {m.field: m.column for m in _mappings(order)}
    assert columns == {
        "select": "select",
        "from_": "from",
        "a_b": "a b",
        "a_b_2": "a_b",
        "it_s": "it's",
        "say_hi": 'say "hi"',
        "class_": "class",
        "json_": "json",
        "col_model_config": "model_config",
        "schema_": "schema",
        "private": "_private",
        "c_2nd": "2nd",
        "date_": "date",
        "field": "Field",
        "int_": "int",
        "none": "None",
        "café": "café",
        "fix": "ﬁx",
    }
    assert set(fields) == set(columns)
    files = found.files
    assert sorted(files) == [
        "a_b.py",
        "field.py",
        "line_items.py",
        "order.py",
        "order_items.py",
        "order_items_2.py",
        "t_2fa.py",
    ]


def _mappings(model: type[Table]) -> Any:
    from hedystia_models.model.table import table_info

    return table_info(model).fields


def test_a_dotted_referenced_column_is_reported() -> None:
    _, found = inspected(
        'CREATE TABLE p ("a.b" TEXT PRIMARY KEY);'
        'CREATE TABLE c (id INTEGER PRIMARY KEY, p TEXT REFERENCES p ("a.b"));'
    )
    assert any("whose name holds a dot" in line for line in found.unsupported)
    assert "# TODO: c.p:" in found.source
    load(found.source)


# -- what cannot be declared yet -----------------------------------------------------------------


def _field_option(name: str) -> bool:
    return name in inspect.signature(Field).parameters


def _class_keyword(name: str) -> bool:
    return name in inspect.signature(Table.__init_subclass__).parameters


#: feature -> (its SQL, whether this version declares it, a words of its unsupported line)
FEATURES: dict[str, tuple[str, Callable[[], bool], str]] = {
    "expression default": (
        "CREATE TABLE t (id INTEGER PRIMARY KEY, at DATETIME DEFAULT CURRENT_TIMESTAMP, "
        "n INTEGER NOT NULL DEFAULT (abs(-1)), d TEXT DEFAULT (datetime('now')))",
        lambda: _field_option("sql_default"),
        "DEFAULT CURRENT_TIMESTAMP is an SQL expression",
    ),
    "multi-column unique": (
        "CREATE TABLE t (id INTEGER PRIMARY KEY, a INT, b TEXT, c TEXT, "
        "UNIQUE (a, b), UNIQUE (b, c))",
        lambda: _class_keyword("unique"),
        "UNIQUE (a, b), a multi-column UNIQUE constraint",
    ),
    "collation": (
        "CREATE TABLE t (id INTEGER PRIMARY KEY, name TEXT COLLATE NOCASE, "
        "code TEXT NOT NULL COLLATE RTRIM)",
        lambda: _field_option("collate"),
        "COLLATE NOCASE",
    ),
    "deferrable reference": (
        "CREATE TABLE p (id INTEGER PRIMARY KEY);"
        "CREATE TABLE t (id INTEGER PRIMARY KEY, p INTEGER REFERENCES p (id) "
        "ON DELETE CASCADE DEFERRABLE INITIALLY DEFERRED)",
        lambda: _field_option("deferrable"),
        "DEFERRABLE INITIALLY DEFERRED",
    ),
    "partial index": (
        "CREATE TABLE t (id INTEGER PRIMARY KEY, a INT);CREATE INDEX i ON t (a) WHERE a > 0",
        lambda: "where" in inspect.signature(Index).parameters,
        "is partial (WHERE a > 0)",
    ),
    "expression index": (
        "CREATE TABLE t (id INTEGER PRIMARY KEY, a TEXT);CREATE INDEX i ON t (lower(a))",
        lambda: probe_features().expression_index,
        "has an expression key",
    ),
    "table check": (
        "CREATE TABLE t (id INTEGER PRIMARY KEY, a INT, b INT, CHECK (a < b), "
        "CONSTRAINT positive CHECK (a > 0))",
        lambda: _class_keyword("checks"),
        "the table constraint CHECK (a < b)",
    ),
}


@pytest.mark.parametrize("feature", sorted(FEATURES))
def test_a_feature_is_declared_once_the_package_has_it_and_listed_until_then(
    feature: str,
) -> None:
    sql, declarable, words = FEATURES[feature]
    conn, found = inspected(sql)
    models = load(found.source)  # loads either way
    if declarable():
        assert found.unsupported == [], found.source
        assert_describes(conn, models)
        assert_describes(conn, load_files(found.files))
    else:
        assert any(words in line for line in found.unsupported), found.unsupported
        assert "# TODO: t" in found.source


#: Things no version declares: (SQL, words of the unsupported line).
NEVER_DECLARED = {
    "multi-column foreign key": (
        "CREATE TABLE p (a INT, b INT, PRIMARY KEY (a, b));"
        "CREATE TABLE t (x INT, y INT, FOREIGN KEY (x, y) REFERENCES p (a, b) ON DELETE CASCADE)",
        "FOREIGN KEY (x, y) REFERENCES p (a, b), a multi-column foreign key",
    ),
    "strict": ("CREATE TABLE t (a INTEGER, b TEXT) STRICT", "the table is STRICT"),
    "without rowid": (
        "CREATE TABLE t (a INTEGER PRIMARY KEY, b TEXT) WITHOUT ROWID",
        "the table is WITHOUT ROWID",
    ),
    "generated column": (
        "CREATE TABLE t (a INTEGER, b INTEGER GENERATED ALWAYS AS (a * 2) VIRTUAL)",
        "t.b: a generated column",
    ),
    "untyped column": ("CREATE TABLE t (a INTEGER, b)", "t.b: the column has no declared type"),
    "key order": (
        "CREATE TABLE t (a INT, b INT, PRIMARY KEY (b, a))",
        "the primary key is (b, a) in that order",
    ),
    "trigger": (
        "CREATE TABLE t (a INT);CREATE TRIGGER t_log AFTER INSERT ON t BEGIN SELECT 1; END",
        "t: the trigger t_log",
    ),
    "view": ("CREATE TABLE t (a INT);CREATE VIEW v AS SELECT a FROM t", "the view v"),
    "key order and collation of an index": (
        "CREATE TABLE t (a INT, b TEXT);CREATE INDEX i ON t (a DESC, b)",
        "the sort order or collation of its keys",
    ),
}


@pytest.mark.parametrize("thing", sorted(NEVER_DECLARED))
def test_what_no_model_declares_is_listed_and_marked(thing: str) -> None:
    sql, words = NEVER_DECLARED[thing]
    _, found = inspected(sql)
    assert any(words in line for line in found.unsupported), found.unsupported
    assert "# TODO: " in found.source
    assert load(found.source)


def test_a_virtual_table_is_listed() -> None:
    try:
        conn = make_db("CREATE VIRTUAL TABLE docs USING fts5(body)")
    except sqlite3.OperationalError:  # pragma: no cover - an SQLite build without FTS5
        pytest.skip("no FTS5 in this SQLite")
    found = inspect_models(conn)
    assert found.unsupported == ["the virtual table docs, which a model cannot declare"]
    assert found.classes == {}  # nor its shadow tables


def test_a_difference_no_todo_explains_is_listed(monkeypatch: pytest.MonkeyPatch) -> None:
    from hedystia_models.inspect import tables

    original = tables.field_code

    def wrong_type(*args: Any, **kwargs: Any) -> Any:
        code = original(*args, **kwargs)
        code.options["sql_type"] = '"BIGINT"'
        return code

    monkeypatch.setattr(tables, "field_code", wrong_type)
    _, found = inspected("CREATE TABLE t (a TEXT)")
    assert found.unsupported == [
        "the generated models still differ from the database: alter column t.a: type TEXT -> BIGINT"
    ]
    assert "# TODO: the generated models still differ" in found.source


def test_models_that_do_not_load_are_reported(monkeypatch: pytest.MonkeyPatch) -> None:
    from hedystia_models.inspect import tables

    original = tables.field_code

    def broken(*args: Any, **kwargs: Any) -> Any:
        code = original(*args, **kwargs)
        code.annotation = "NoSuchType"
        return code

    monkeypatch.setattr(tables, "field_code", broken)
    _, found = inspected("CREATE TABLE t (a TEXT)")
    assert len(found.unsupported) == 1
    assert found.unsupported[0].startswith("the generated models do not load, which is a bug")
    assert "NameError" in found.unsupported[0]


# -- what inspect_models accepts -----------------------------------------------------------------


def test_every_kind_of_database(tmp_path: Path) -> None:
    path = tmp_path / "shop.db"
    conn = sqlite3.connect(path)
    conn.executescript(KEYS_AND_REFERENCES)
    conn.close()
    before = path.read_bytes()
    expected = inspect_models(path).source
    assert inspect_models(str(path)).source == expected
    conn = sqlite3.connect(path)
    assert inspect_models(conn).source == expected
    assert inspect_models(sqlite_utils.Database(conn)).source == expected
    conn.close()
    with database(schemas=[], connection=path) as db:
        assert inspect_models(db).source == expected
    assert path.read_bytes() == before  # only read
    assert inspect_models(":memory:").classes == {}


def test_bad_databases_are_configuration_errors(tmp_path: Path) -> None:
    with pytest.raises(ConfigurationError, match="does not exist"):
        inspect_models(tmp_path / "missing.db")
    assert not (tmp_path / "missing.db").exists()
    with pytest.raises(ConfigurationError, match="takes a Database"):
        inspect_models(42)  # type: ignore[arg-type]


def test_internal_and_ignored_tables_are_left_out() -> None:
    conn = make_db(
        "CREATE TABLE users (id INTEGER PRIMARY KEY);"
        "CREATE TABLE __hedystia_migrations (name TEXT);"
        "CREATE TABLE django_session (k TEXT);"
        "CREATE TABLE Django_Admin_Log (k TEXT);"
        "CREATE TABLE alembic_version (v TEXT)"
    )
    conn.execute("ANALYZE")  # makes sqlite_stat1
    assert set(inspect_models(conn).classes) == {
        "users",
        "django_session",
        "Django_Admin_Log",
        "alembic_version",
    }
    found = inspect_models(conn, ignore_tables=["django_*", "alembic_version"])
    assert found.classes == {"users": "Users"}
    with database(schemas=[], connection=conn, ignore_tables=["django_*"]) as db:
        assert set(inspect_models(db).classes) == {"users", "alembic_version"}
        # An explicit list replaces the database's.
        assert set(inspect_models(db, ignore_tables=["alembic_*"]).classes) == {
            "users",
            "django_session",
            "Django_Admin_Log",
        }


# -- layout ---------------------------------------------------------------------------------------


def test_the_code_is_what_ruff_format_writes(tmp_path: Path) -> None:
    # ruff is in the test extra (pyproject.toml): this never skips.
    for name, sql in SCHEMAS.items():
        found = inspect_models(make_db(sql))
        (tmp_path / f"{name}.py").write_text(found.source, encoding="utf-8")
        (tmp_path / name).mkdir()
        for file, text in found.files.items():
            (tmp_path / name / file).write_text(text, encoding="utf-8")
    ruff = [sys.executable, "-m", "ruff"]
    checked = subprocess.run(
        [*ruff, "format", "--isolated", "--check", "--diff", str(tmp_path)],
        capture_output=True,
        text=True,
    )
    assert checked.returncode == 0, checked.stdout + checked.stderr
    rules = ["--target-version", "py310", "--select", "E,F,W,I,B,UP,SIM", "--ignore", "E501"]
    linted = subprocess.run(
        [*ruff, "check", "--isolated", *rules, str(tmp_path)],
        capture_output=True,
        text=True,
    )
    assert linted.returncode == 0, linted.stdout + linted.stderr


def test_long_lines_are_split() -> None:
    _, found = inspected(CHINOOK + NULLS_UNIQUE_CHECKS)
    too_long = [line for line in found.source.splitlines() if len(line) > 88]
    assert too_long == []


# -- the command line ------------------------------------------------------------------------------


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Project]:
    yield from open_project(tmp_path, monkeypatch, prefix="inspectproj")


def _make(project: Project, sql: str) -> None:
    conn = sqlite3.connect(project.db_path)
    conn.executescript(sql)
    conn.close()


def test_schema_inspect_prints_the_module(project: Project) -> None:
    _make(project, KEYS_AND_REFERENCES)
    result = project.ok("schema", "inspect")
    assert result.stdout == inspect_models(project.db_path).source
    assert result.stderr == ""
    assert project.migration_files() == [] and not project.schemas_dir.exists()


def test_schema_inspect_out_writes_the_file_and_refuses_to_overwrite_it(project: Project) -> None:
    _make(project, KEYS_AND_REFERENCES)
    expected = inspect_models(project.db_path).source
    result = project.ok("schema", "inspect", "--out", "models/db.py")
    assert result.stdout == "created models/db.py\n"
    target = project.root / "models" / "db.py"
    assert target.read_text(encoding="utf-8") == expected
    target.write_text("# mine, hands off\n", encoding="utf-8")
    line = one_line_error(project.run("schema", "inspect", "--out", "models/db.py"))
    assert line == "error: models/db.py already exists; not overwriting it (--force replaces it)"
    assert target.read_text(encoding="utf-8") == "# mine, hands off\n"
    result = project.ok("schema", "inspect", "--out", "models/db.py", "--force")
    assert result.stdout == "replaced models/db.py\n"
    assert target.read_text(encoding="utf-8") == expected


def test_schema_inspect_dir_writes_a_package_that_check_accepts(project: Project) -> None:
    _make(project, CHINOOK)
    folder = str(project.schemas_dir.relative_to(project.root))
    result = project.ok("schema", "inspect", "--dir", folder)
    found = inspect_models(project.db_path)
    assert result.stdout.splitlines() == [f"created {folder}/{name}" for name in found.files]
    for name, text in found.files.items():
        assert (project.schemas_dir / name).read_text(encoding="utf-8") == text
    assert (project.schemas_dir / "__init__.py").exists()
    assert project.ok("check").stdout.startswith("ok: database matches the models")

    # One file that exists stops the whole write.
    (project.schemas_dir / "album.py").write_text("# mine\n", encoding="utf-8")
    for name in found.files:
        if name != "album.py":
            (project.schemas_dir / name).unlink()
    line = one_line_error(project.run("schema", "inspect", "--dir", folder))
    assert line == (
        f"error: {folder}/album.py already exists; not overwriting it (--force replaces it)"
    )
    assert sorted(p.name for p in project.schemas_dir.iterdir()) == ["__init__.py", "album.py"]
    result = project.ok("schema", "inspect", "--dir", folder, "--force")
    assert f"replaced {folder}/album.py" in result.stdout.splitlines()
    assert f"created {folder}/track.py" in result.stdout.splitlines()
    assert (project.schemas_dir / "album.py").read_text(encoding="utf-8") == found.files["album.py"]
    assert project.ok("check").stdout.startswith("ok: database matches the models")


def test_schema_inspect_lists_what_it_cannot_declare_on_stderr(project: Project) -> None:
    _make(project, NEVER_DECLARED["multi-column foreign key"][0])
    result = project.ok("schema", "inspect")
    found = inspect_models(project.db_path)
    assert found.unsupported
    assert result.stderr.splitlines() == [
        f"note: {len(found.unsupported)} thing(s) the models cannot declare, each marked TODO "
        "in the source:",
        *(f"    {line}" for line in found.unsupported),
    ]
    assert result.stdout == found.source


def test_schema_inspect_leaves_out_the_ignored_tables(project: Project) -> None:
    _make(project, "CREATE TABLE users (id INTEGER PRIMARY KEY); CREATE TABLE django_x (k INT)")
    with (project.root / "pyproject.toml").open("a", encoding="utf-8") as file:
        file.write('ignore_tables = ["django_*"]\n')
    result = project.ok("schema", "inspect")
    assert 'table="users"' in result.stdout and "django" not in result.stdout


def test_schema_inspect_mistakes(project: Project) -> None:
    line = one_line_error(project.run("schema", "inspect"))
    assert line == "error: database app.db does not exist; nothing to inspect"
    assert not project.db_path.exists()
    _make(project, "CREATE TABLE t (a INT)")
    result = project.run("schema", "inspect", "--out", "a.py", "--dir", "b")
    assert result.exit_code == 2
    assert "--out and --dir cannot be used together" in result.stderr
    assert not (project.root / "a.py").exists() and not (project.root / "b").exists()
    project.db_path.unlink()
    _make(project, "")
    result = project.ok("schema", "inspect")
    assert result.stderr == "note: the database has no tables\n"


# -- docs/cli.md ---------------------------------------------------------------------------------


def _section() -> str:
    doc = (ROOT / "docs" / "cli.md").read_text(encoding="utf-8")
    start = doc.index("### `hedystia-models schema inspect`")
    return doc[start : doc.index("\n### ", start + 1)]


def _block(section: str, language: str, first: str = "") -> str:
    match = re.search(rf"```{language}\n({re.escape(first)}.*?)```", section, re.S)
    assert match, (language, first)
    return match.group(1)


def test_the_example_in_docs_cli_md_is_what_schema_inspect_writes(project: Project) -> None:
    section = _section()
    _make(project, _block(section, "sql"))
    runs = _block(section, "console", "$ hedystia-models schema inspect --out")
    commands = [line for line in runs.splitlines() if line.startswith("$ ")]
    outputs = re.split(r"^\$ .*\n", runs, flags=re.M)[1:]
    assert len(commands) == 2
    written = project.run(*commands[0].split()[2:])
    assert written.exit_code == 0
    assert written.stdout + written.stderr == outputs[0]
    refused = project.run(*commands[1].split()[2:])
    assert refused.exit_code == 2
    assert refused.stdout + refused.stderr == outputs[1]
    path = project.root / commands[0].split()[-1]
    assert path.read_text(encoding="utf-8") == _block(section, "text")
    # And the models it shows describe the database, but for the table CHECK of the TODO.
    conn = sqlite3.connect(project.db_path)
    try:
        models = load(path.read_text(encoding="utf-8"))
        with database(schemas=models, connection=conn) as db:
            plan = db.plan()
        assert [op.describe() for op in plan] == [
            "alter table posts: table CHECK constraints differ (rebuilding the table)"
        ]
    finally:
        conn.close()


def test_hedystia_models_exports_inspect_models() -> None:
    assert "inspect_models" in hedystia_models.__all__
    assert hedystia_models.inspect_models is inspect_models
