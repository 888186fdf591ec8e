"""Adopting databases made by real tools (issue 10's acceptance tests).

Six databases are built once per session by the tools themselves (``tests/adopt_tools.py``):
Django's ``migrate``, SQLAlchemy 2 and SQLModel ``create_all``, an Alembic history upgraded
to head, sqlite-utils, and a Chinook-style plain-SQL script. For each there are the models a
user would write after reading ``docs/tables.md``: natural Python types, ``references=``,
``index=True``, the table's name, ``column=`` where the names differ. The issue is done when,
for every tool:

(a) the plan of the untouched database is empty;
(b) a start-up ``database(..., sync_schemas=True)`` changes nothing: ``sqlite_master`` is the
    same before and after (but for this package's own bookkeeping tables), no duplicate index;
(c) rows written by the tool read back through ``db.table(Model).find()`` with their values;
(d) a row written through this package is read correctly by the tool's own query;
(e) each of four hand edits is reported by the plan: a dropped index, an added column, a
    changed type, a changed foreign key action;
(f) the models ``inspect_models`` writes for the database give an empty plan.

Other tools' bookkeeping tables (``django_migrations``, ``alembic_version``, ...) are left out
with ``database(..., ignore_tables=[...])``.

Many of these fail today: each such case is marked ``xfail(strict=True)`` in ``KNOWN_GAPS``
below, with what it printed, so the suite stays green and a case XPASSes (and fails loudly)
as soon as the library is fixed; then delete its line.
"""

from __future__ import annotations

import shutil
import sqlite3
import sys
import types
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timezone
from decimal import Decimal
from pathlib import Path
from typing import Any
from uuid import UUID, uuid4

import adopt_tools as tools
import pytest
import sqlalchemy as sa
import sqlite_utils
import sqlmodel
from sqlalchemy.orm import Session

from hedystia_models import Field, Index, Table, database, utcnow

# Bookkeeping tables of other tools, left out of the plan (issue 10).
IGNORE_TABLES = ["django_*", "alembic_version"]


# -- the models a user writes for each database ------------------------------------------------


# 1. Django (tests/adopt_fixtures/django_shop/shop/models.py). Django emulates on_delete=CASCADE
# in the ORM: the database's foreign key has no action, so the model declares none.
class DjCustomer(Table, table="shop_customer"):
    id: int | None = Field(default=None, primary_key=True, auto_increment=True)
    name: str = Field(max_length=100)
    email: str = Field(max_length=200, index=True)


class DjOrder(Table, table="shop_order", indexes=[Index("customer", "number", unique=True)]):
    id: int | None = Field(default=None, primary_key=True, auto_increment=True)
    number: int
    total: Decimal = Field(max_digits=10, decimal_places=2)
    details: dict[str, Any] = Field(default_factory=dict)
    public_id: UUID = Field(default_factory=uuid4, unique=True, uuid_form="hex")
    paid: bool = True
    created_at: datetime
    # Django's foreign keys are DEFERRABLE INITIALLY DEFERRED (docs/adopting.md)
    customer: int = Field(column="customer_id", references=DjCustomer, index=True, deferrable=True)


# 2. SQLAlchemy 2 (adopt_tools.SAAuthor, SABook).
class SaAuthor(Table, table="authors"):
    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=40)


class SaBook(
    Table,
    table="books",
    indexes=[
        Index("author_id", "title", unique=True),
        Index("published_at", name="ix_books_published_at"),
    ],
):
    id: int | None = Field(default=None, primary_key=True)
    author_id: int = Field(references=SaAuthor, on_delete="cascade", index=True)
    title: str = Field(max_length=40)
    price: Decimal = Field(max_digits=10, decimal_places=2)
    in_print: bool = True
    stock: int = 100
    published_at: datetime = Field(default_factory=utcnow)


# 3. SQLModel (adopt_tools.SMTeam, SMHero).
class SmTeam(Table, table="team"):
    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(index=True, unique=True)
    headquarters: str


class SmHero(Table, table="hero"):
    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(index=True)
    secret_name: str = Field(unique=True)
    age: int | None = Field(default=None, index=True)
    team_id: int | None = Field(default=None, references=SmTeam)


# 4. Alembic (adopt_tools.ALEMBIC_REVISIONS).
class AlAccount(Table, table="accounts"):
    id: int | None = Field(default=None, primary_key=True)
    email: str = Field(max_length=120, unique=True)
    active: bool = True


class AlEntry(Table, table="entries"):
    id: int | None = Field(default=None, primary_key=True)
    account_id: int = Field(references=AlAccount, on_delete="cascade", index=True)
    amount: Decimal = Field(max_digits=10, decimal_places=2)
    memo: str | None = None
    created_at: datetime | None = None


# 5. sqlite-utils (adopt_tools.build_sqlite_utils).
class SuOwner(Table, table="owners"):
    id: int | None = Field(default=None, primary_key=True)
    name: str
    city: str | None = None


class SuPet(Table, table="pets"):
    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(index=True)
    owner_id: int | None = Field(default=None, references=SuOwner)
    weight: float | None = None
    vaccinated: bool | None = None


# 6. Chinook-style plain SQL (adopt_tools.CHINOOK_SQL): CamelCase columns, so column= on each.
NO_ACTION: dict[str, Any] = {"on_delete": "no action", "on_update": "no action"}


class ChArtist(Table, table="Artist"):
    artist_id: int | None = Field(default=None, primary_key=True, column="ArtistId")
    name: str | None = Field(default=None, max_length=120, column="Name")


class ChAlbum(Table, table="Album"):
    album_id: int | None = Field(default=None, primary_key=True, column="AlbumId")
    title: str = Field(max_length=160, column="Title")
    artist_id: int = Field(references=ChArtist, index=True, column="ArtistId", **NO_ACTION)


class ChTrack(Table, table="Track"):
    track_id: int | None = Field(default=None, primary_key=True, column="TrackId")
    name: str = Field(max_length=200, column="Name")
    album_id: int | None = Field(
        default=None, references=ChAlbum, index=True, column="AlbumId", **NO_ACTION
    )
    composer: str | None = Field(default=None, max_length=220, column="Composer")
    milliseconds: int = Field(column="Milliseconds")
    unit_price: Decimal = Field(max_digits=10, decimal_places=2, column="UnitPrice")


class ChCustomer(Table, table="Customer"):
    customer_id: int | None = Field(default=None, primary_key=True, column="CustomerId")
    first_name: str = Field(max_length=40, column="FirstName")
    last_name: str = Field(max_length=20, column="LastName")
    email: str = Field(max_length=60, column="Email")


class ChInvoice(Table, table="Invoice"):
    invoice_id: int | None = Field(default=None, primary_key=True, column="InvoiceId")
    customer_id: int = Field(references=ChCustomer, index=True, column="CustomerId", **NO_ACTION)
    invoice_date: datetime = Field(column="InvoiceDate")
    billing_city: str | None = Field(default=None, max_length=40, column="BillingCity")
    total: Decimal = Field(max_digits=10, decimal_places=2, column="Total")


class ChInvoiceLine(Table, table="InvoiceLine"):
    invoice_line_id: int | None = Field(default=None, primary_key=True, column="InvoiceLineId")
    invoice_id: int = Field(references=ChInvoice, index=True, column="InvoiceId", **NO_ACTION)
    track_id: int = Field(references=ChTrack, index=True, column="TrackId", **NO_ACTION)
    unit_price: Decimal = Field(max_digits=10, decimal_places=2, column="UnitPrice")
    quantity: int = Field(column="Quantity")


# -- the six databases ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Edit:
    """A hand edit of the database, and the plan operation that must report it: one of kind
    ``kind`` on ``table`` whose ``describe()`` holds each of ``words``, new in the plan."""

    apply: Callable[[Path], object]
    kind: str
    table: str
    words: tuple[str, ...]


@dataclass(frozen=True)
class Tool:
    name: str
    build: Callable[[Path], Path]
    models: list[type[Table]]
    edits: dict[str, Edit]
    #: Tables of the tool's own, left out with ignore_tables=.
    bookkeeping: bool = False
    #: The build writes the database inside a folder the tool needs later (Django's app).
    whole_folder: bool = False

    def connect(self, path: Path, **options: Any) -> Any:
        """``database(schemas=self.models, connection=path, ...)``."""
        if self.bookkeeping:
            options["ignore_tables"] = IGNORE_TABLES
        return database(schemas=self.models, connection=path, **options)


def drop_index(name: str) -> Callable[[Path], object]:
    return lambda path: tools.run_sql(path, f'DROP INDEX "{name}"')


def add_column(table: str) -> Callable[[Path], object]:
    return lambda path: tools.run_sql(path, f'ALTER TABLE "{table}" ADD COLUMN "hand_note" TEXT')


def rebuild(table: str, old: str, new: str) -> Callable[[Path], object]:
    return lambda path: tools.rebuild_table(path, table, old, new)


def edits(
    index: tuple[str, str, str],
    column: str,
    retype: tuple[str, str, str, str, str],
    refkey: tuple[str, str, str, str, str],
) -> dict[str, Edit]:
    """The four hand edits of one database:

    - ``index`` = (name, table, "(columns)"): ``DROP INDEX``; the plan must create it again;
    - ``column`` = a table: ``ALTER TABLE ... ADD COLUMN hand_note``; the plan must drop it;
    - ``retype`` = (table, column, old text, new text, new type): a rebuild with ``old``
      replaced by ``new`` in the ``CREATE TABLE``; the plan must alter the column's type;
    - ``refkey`` = (table, column, old text, new text, new ON DELETE action): the same, for the
      column's foreign key; the plan must alter its reference.
    """
    name, table, columns = index
    t_table, t_column, t_old, t_new, t_type = retype
    r_table, r_column, r_old, r_new, r_action = refkey
    return {
        "dropped_index": Edit(
            drop_index(name), "create_index", table, ("create index", f"on {table} {columns}")
        ),
        "added_column": Edit(add_column(column), "drop_column", column, (f"{column}.hand_note",)),
        "changed_type": Edit(
            rebuild(t_table, t_old, t_new),
            "alter_column",
            t_table,
            (f"{t_table}.{t_column}:", f"type {t_type} ->"),
        ),
        "changed_fk_action": Edit(
            rebuild(r_table, r_old, r_new),
            "alter_column",
            r_table,
            (f"{r_table}.{r_column}:", f"ON DELETE {r_action}"),
        ),
    }


TOOLS = {
    "django": Tool(
        "django",
        tools.build_django,
        [DjCustomer, DjOrder],
        edits(
            ("shop_customer_email_d3fdf104", "shop_customer", "(email)"),
            "shop_order",
            ("shop_order", "number", '"number" integer', '"number" real', "REAL"),
            (
                "shop_order",
                "customer_id",
                '("id") DEFERRABLE',
                '("id") ON DELETE RESTRICT DEFERRABLE',
                "RESTRICT",
            ),
        ),
        bookkeeping=True,
        whole_folder=True,
    ),
    "sqlalchemy": Tool(
        "sqlalchemy",
        tools.build_sqlalchemy,
        [SaAuthor, SaBook],
        edits(
            ("ix_books_published_at", "books", "(published_at)"),
            "books",
            ("books", "stock", "stock INTEGER", "stock REAL", "REAL"),
            ("books", "author_id", "ON DELETE CASCADE", "ON DELETE SET NULL", "SET NULL"),
        ),
    ),
    "sqlmodel": Tool(
        "sqlmodel",
        tools.build_sqlmodel,
        [SmTeam, SmHero],
        edits(
            ("ix_hero_name", "hero", "(name)"),
            "hero",
            ("hero", "age", "age INTEGER", "age REAL", "REAL"),
            (
                "hero",
                "team_id",
                "REFERENCES team (id)",
                "REFERENCES team (id) ON DELETE CASCADE",
                "CASCADE",
            ),
        ),
    ),
    "alembic": Tool(
        "alembic",
        tools.build_alembic,
        [AlAccount, AlEntry],
        edits(
            ("ix_entries_account_id", "entries", "(account_id)"),
            "entries",
            ("entries", "memo", "memo TEXT", "memo BLOB", "BLOB"),
            ("entries", "account_id", "ON DELETE CASCADE", "ON DELETE RESTRICT", "RESTRICT"),
        ),
        bookkeeping=True,
        whole_folder=True,
    ),
    "sqlite_utils": Tool(
        "sqlite_utils",
        tools.build_sqlite_utils,
        [SuOwner, SuPet],
        edits(
            ("idx_pets_name", "pets", "(name)"),
            "owners",
            ("owners", "city", '"city" TEXT', '"city" BLOB', "BLOB"),
            (
                "pets",
                "owner_id",
                'REFERENCES "owners"("id")',
                'REFERENCES "owners"("id") ON DELETE CASCADE',
                "CASCADE",
            ),
        ),
    ),
    "chinook": Tool(
        "chinook",
        tools.build_chinook,
        [ChArtist, ChAlbum, ChTrack, ChCustomer, ChInvoice, ChInvoiceLine],
        edits(
            ("IFK_AlbumArtistId", "Album", "(ArtistId)"),
            "Customer",
            ("Track", "Milliseconds", "[Milliseconds] INTEGER", "[Milliseconds] REAL", "REAL"),
            ("Album", "ArtistId", "ON DELETE NO ACTION", "ON DELETE CASCADE", "CASCADE"),
        ),
    ),
}


class Built:
    """Each tool's database, built on first use and kept for the session; tests get copies."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self._paths: dict[str, Path] = {}

    def pristine(self, tool: str) -> Path:
        if tool not in self._paths:
            folder = self.root / tool
            folder.mkdir()
            self._paths[tool] = TOOLS[tool].build(folder)
        return self._paths[tool]

    def copy(self, tool: str, target: Path) -> Path:
        """A fresh copy of ``tool``'s database under ``target`` (the whole build folder for
        tools that need it); returns the database's path."""
        source = self.pristine(tool)
        if TOOLS[tool].whole_folder:
            folder = target / tool
            shutil.copytree(source.parent, folder)
            return folder / source.name
        return tools.copy_db(source, target / source.name)


@pytest.fixture(scope="session")
def built(tmp_path_factory: pytest.TempPathFactory) -> Built:
    return Built(tmp_path_factory.mktemp("adopt"))


@pytest.fixture
def copy(built: Built, tmp_path: Path) -> Callable[[str], Path]:
    return lambda tool: built.copy(tool, tmp_path)


# -- what fails today, and why (the work queue of issue 10) -------------------------------------

#: (check, tool) -> what it printed. Checks: "a" ... "f", "e:<edit>" for the hand edits.
KNOWN_GAPS: dict[tuple[str, str], str] = {}


def case(check: str, tool: str) -> Any:
    reason = KNOWN_GAPS.get((check, tool))
    marks = [pytest.mark.xfail(strict=True, reason=reason)] if reason else []
    return pytest.param(tool, id=tool, marks=marks)


def cases(check: str) -> list[Any]:
    return [case(check, tool) for tool in TOOLS]


def known_gap(check: str, tool: str) -> Callable[[Any], Any]:
    """The xfail mark of ``KNOWN_GAPS[(check, tool)]`` for a test of one tool, if any."""
    reason = KNOWN_GAPS.get((check, tool))
    if reason is None:
        return lambda test: test
    return pytest.mark.xfail(strict=True, reason=reason)


# -- (a) the untouched database is in sync -----------------------------------------------------


@pytest.mark.parametrize("tool", cases("a"))
def test_a_untouched_database_plans_nothing(tool: str, copy: Callable[[str], Path]) -> None:
    with TOOLS[tool].connect(copy(tool)) as db:
        plan = db.plan()
        assert plan.in_sync, str(plan)


# -- (b) start-up sync changes nothing -----------------------------------------------------------


@pytest.mark.parametrize("tool", cases("b"))
def test_b_startup_sync_changes_nothing(tool: str, copy: Callable[[str], Path]) -> None:
    path = copy(tool)
    before = tools.master_rows(path)
    TOOLS[tool].connect(path, sync_schemas=True).close()
    after = tools.master_rows(path)
    assert tools.duplicate_indexes(path) == []
    assert [r for r in after if r not in before] == []
    assert [r for r in before if r not in after] == []


# -- (e) hand edits are reported ------------------------------------------------------------------


def _ops(db: Any) -> set[tuple[str, str, str]]:
    return {(op.kind, op.table, op.describe()) for op in db.plan()}


EDIT_CASES = [
    pytest.param(
        tool,
        edit,
        id=f"{tool}-{edit}",
        marks=[pytest.mark.xfail(strict=True, reason=KNOWN_GAPS[(f"e:{edit}", tool)])]
        if (f"e:{edit}", tool) in KNOWN_GAPS
        else [],
    )
    for tool in TOOLS
    for edit in TOOLS[tool].edits
]


@pytest.mark.parametrize(("tool", "edit"), EDIT_CASES)
def test_e_hand_edit_is_reported(tool: str, edit: str, copy: Callable[[str], Path]) -> None:
    path = copy(tool)
    with TOOLS[tool].connect(path) as db:
        untouched = _ops(db)
    change = TOOLS[tool].edits[edit]
    change.apply(path)
    with TOOLS[tool].connect(path) as db:
        edited = _ops(db)
        printed = str(db.plan())
    new = sorted(edited - untouched)
    assert any(
        kind == change.kind and table == change.table and all(w in text for w in change.words)
        for kind, table, text in new
    ), f"new in the plan: {new}\nthe plan:\n{printed}"


# -- (f) inspect writes models that match ---------------------------------------------------------


@pytest.mark.parametrize("tool", cases("f"))
def test_f_inspected_models_plan_nothing(tool: str, copy: Callable[[str], Path]) -> None:
    from hedystia_models import inspect_models

    path = copy(tool)
    options = {"ignore_tables": IGNORE_TABLES} if TOOLS[tool].bookkeeping else {}
    with database(schemas=[], connection=path, **options) as source_db:
        source = inspect_models(source_db)
    module = types.ModuleType(f"inspected_{tool}")
    sys.modules[module.__name__] = module  # as if imported: annotations resolve in it
    try:
        exec(compile(source, f"<{module.__name__}>", "exec"), module.__dict__)
        models = [
            value
            for value in vars(module).values()
            if isinstance(value, type)
            and issubclass(value, Table)
            and value.__module__ == module.__name__
            and not value.__hedystia_abstract__
        ]
    finally:
        del sys.modules[module.__name__]
    assert models, source
    with database(schemas=models, connection=path, **options) as db:
        plan = db.plan()
        assert plan.in_sync, f"{plan}\n--- inspected models:\n{source}"


# -- (c) rows written by the tool read back; (d) rows written here read by the tool ------------


def exact(value: Any) -> Any:
    """A value with its type where equality would hide it (Decimal('10') == Decimal('10.00'),
    True == 1)."""
    if isinstance(value, dict):
        return {k: exact(v) for k, v in value.items()}
    if isinstance(value, list):
        return [exact(v) for v in value]
    if isinstance(value, (Decimal, bool, int, float)):
        return (type(value).__name__, str(value))
    return value


def assert_rows(found: list[Any], expected: list[dict[str, Any]]) -> None:
    assert exact([row.model_dump() for row in found]) == exact(expected)


@known_gap("c", "django")
def test_c_django_rows_read_back(copy: Callable[[str], Path]) -> None:
    with TOOLS["django"].connect(copy("django")) as db:
        assert_rows(
            db.table(DjCustomer).find(order_by="id"),
            [{"id": 1, "name": "Ann", "email": "ann@example.com"}],
        )
        assert_rows(
            db.table(DjOrder).find(order_by="id"),
            [
                {
                    "id": i + 1,
                    "number": row["number"],
                    "total": Decimal(row["total"]),
                    "details": row["details"],
                    "public_id": UUID(row["public_id"]),
                    "paid": row["paid"],
                    # USE_TZ=True: Django stores UTC without an offset
                    "created_at": datetime.fromisoformat(row["created_at"]),
                    "customer": 1,
                }
                for i, row in enumerate(tools.DJANGO_ROWS["orders"])
            ],
        )


@known_gap("d", "django")
def test_d_django_reads_a_row_written_here(copy: Callable[[str], Path]) -> None:
    path = copy("django")
    public_id = UUID("3e5c7a90-1d2b-4c6e-8f01-23456789abcd")
    with TOOLS["django"].connect(path) as db:
        db.table(DjOrder).insert(
            {
                "number": 3,
                "total": Decimal("99.95"),
                "details": {"via": "hedystia", "n": [1, 2]},
                "public_id": public_id,
                "paid": False,
                "created_at": datetime(2026, 2, 3, 4, 5, 6, tzinfo=timezone.utc),
                "customer": 1,
            }
        )
    assert tools.django_orders(path.parent, public_id) == [
        {
            "customer_email": "ann@example.com",
            "number": 3,
            "total": "99.95",
            "details": {"via": "hedystia", "n": [1, 2]},
            "public_id": str(public_id),
            "paid": False,
            "created_at": "2026-02-03T04:05:06+00:00",
        }
    ]


@known_gap("c", "sqlalchemy")
def test_c_sqlalchemy_rows_read_back(copy: Callable[[str], Path]) -> None:
    with TOOLS["sqlalchemy"].connect(copy("sqlalchemy")) as db:
        assert_rows(db.table(SaAuthor).find(order_by="id"), tools.SQLALCHEMY_ROWS["authors"])
        assert_rows(db.table(SaBook).find(order_by="id"), tools.SQLALCHEMY_ROWS["books"])


@known_gap("d", "sqlalchemy")
def test_d_sqlalchemy_reads_a_row_written_here(copy: Callable[[str], Path]) -> None:
    path = copy("sqlalchemy")
    with TOOLS["sqlalchemy"].connect(path) as db:
        book = db.table(SaBook).insert(
            {
                "author_id": 1,
                "title": "Always Coming Home",
                "price": Decimal("99.95"),
                "in_print": False,
                "published_at": datetime(1985, 9, 1, 8, 30, 5),
            }
        )
    engine = tools.sqlalchemy_engine(path)
    try:
        with Session(engine) as session:
            found = session.scalars(
                sa.select(tools.SABook).where(tools.SABook.title == "Always Coming Home")
            ).one()
            got = {
                "id": found.id,
                "author_id": found.author_id,
                "price": found.price,
                "in_print": found.in_print,
                "stock": found.stock,
                "published_at": found.published_at,
            }
    finally:
        engine.dispose()
    assert exact(got) == exact(
        {
            "id": book.id,
            "author_id": 1,
            "price": Decimal("99.95"),
            "in_print": False,
            "stock": 100,
            "published_at": datetime(1985, 9, 1, 8, 30, 5),
        }
    )


@known_gap("c", "sqlmodel")
def test_c_sqlmodel_rows_read_back(copy: Callable[[str], Path]) -> None:
    with TOOLS["sqlmodel"].connect(copy("sqlmodel")) as db:
        assert_rows(db.table(SmTeam).find(order_by="id"), tools.SQLMODEL_ROWS["team"])
        assert_rows(db.table(SmHero).find(order_by="id"), tools.SQLMODEL_ROWS["hero"])


@known_gap("d", "sqlmodel")
def test_d_sqlmodel_reads_a_row_written_here(copy: Callable[[str], Path]) -> None:
    path = copy("sqlmodel")
    with TOOLS["sqlmodel"].connect(path) as db:
        db.table(SmHero).insert(
            {"name": "Spider-Boy", "secret_name": "Pedro Parqueador", "age": 17}
        )
    engine = sqlmodel.create_engine(f"sqlite:///{path}")
    try:
        with sqlmodel.Session(engine) as session:
            hero = session.exec(
                sqlmodel.select(tools.SMHero).where(tools.SMHero.secret_name == "Pedro Parqueador")
            ).one()
            got = hero.model_dump()
    finally:
        engine.dispose()
    assert exact(got) == exact(
        {
            "id": 3,
            "name": "Spider-Boy",
            "secret_name": "Pedro Parqueador",
            "age": 17,
            "team_id": None,
        }
    )


@known_gap("c", "alembic")
def test_c_alembic_rows_read_back(copy: Callable[[str], Path]) -> None:
    with TOOLS["alembic"].connect(copy("alembic")) as db:
        assert_rows(db.table(AlAccount).find(order_by="id"), tools.ALEMBIC_ROWS["accounts"])
        assert_rows(db.table(AlEntry).find(order_by="id"), tools.ALEMBIC_ROWS["entries"])


@known_gap("d", "alembic")
def test_d_alembic_reads_a_row_written_here(copy: Callable[[str], Path]) -> None:
    path = copy("alembic")
    written = datetime(2026, 2, 3, 4, 5, 6)
    with TOOLS["alembic"].connect(path) as db:
        db.table(AlEntry).insert(
            {"account_id": 1, "amount": Decimal("99.95"), "memo": "here", "created_at": written}
        )
    engine = tools.sqlalchemy_engine(path)
    try:
        reflected = sa.MetaData()
        reflected.reflect(engine)
        entries = reflected.tables["entries"]
        with engine.connect() as conn:
            row = conn.execute(sa.select(entries).where(entries.c.memo == "here")).one()
    finally:
        engine.dispose()
    assert exact(dict(row._mapping)) == exact(
        {
            "id": 3,
            "account_id": 1,
            "amount": Decimal("99.95"),
            "memo": "here",
            "created_at": written,
        }
    )


@known_gap("c", "sqlite_utils")
def test_c_sqlite_utils_rows_read_back(copy: Callable[[str], Path]) -> None:
    with TOOLS["sqlite_utils"].connect(copy("sqlite_utils")) as db:
        assert_rows(db.table(SuOwner).find(order_by="id"), tools.SQLITE_UTILS_ROWS["owners"])
        assert_rows(db.table(SuPet).find(order_by="id"), tools.SQLITE_UTILS_ROWS["pets"])


@known_gap("d", "sqlite_utils")
def test_d_sqlite_utils_reads_a_row_written_here(copy: Callable[[str], Path]) -> None:
    path = copy("sqlite_utils")
    with TOOLS["sqlite_utils"].connect(path) as db:
        pet = db.table(SuPet).insert(
            {"name": "Kit", "owner_id": 2, "weight": 3.5, "vaccinated": True}
        )
    su = sqlite_utils.Database(path)
    try:
        got = su["pets"].get(pet.id)  # type: ignore[union-attr]
    finally:
        su.close()
    assert exact(got) == exact(
        {"id": pet.id, "name": "Kit", "owner_id": 2, "weight": 3.5, "vaccinated": 1}
    )


CHINOOK_TRACKS = [
    {
        "track_id": 1,
        "name": "For Those About To Rock (We Salute You)",
        "album_id": 1,
        "composer": "Angus Young, Malcolm Young, Brian Johnson",
        "milliseconds": 343719,
        "unit_price": Decimal("0.99"),
    },
    {
        "track_id": 2,
        "name": "Balls to the Wall",
        "album_id": 2,
        "composer": None,
        "milliseconds": 342562,
        "unit_price": Decimal("10.00"),
    },
]


@known_gap("c", "chinook")
def test_c_chinook_rows_read_back(copy: Callable[[str], Path]) -> None:
    with TOOLS["chinook"].connect(copy("chinook")) as db:
        assert_rows(
            db.table(ChArtist).find(order_by="artist_id"),
            [{"artist_id": 1, "name": "AC/DC"}, {"artist_id": 2, "name": "Accept"}],
        )
        assert_rows(db.table(ChTrack).find(order_by="track_id"), CHINOOK_TRACKS)
        assert_rows(
            db.table(ChInvoice).find(),
            [
                {
                    "invoice_id": 1,
                    "customer_id": 1,
                    "invoice_date": datetime(2009, 1, 1),
                    "billing_city": "São José dos Campos",
                    "total": Decimal("1.98"),
                }
            ],
        )


@known_gap("d", "chinook")
def test_d_chinook_sql_reads_a_row_written_here(copy: Callable[[str], Path]) -> None:
    path = copy("chinook")
    with TOOLS["chinook"].connect(path) as db:
        db.table(ChTrack).insert(
            {"name": "Hells Bells", "album_id": 1, "milliseconds": 312000, "unit_price": "1.29"}
        )
    rows = tools_query(
        path,
        "SELECT [TrackId], [Name], [UnitPrice], typeof([UnitPrice]), [UnitPrice] * 2 "
        "FROM [Track] WHERE [Name] = 'Hells Bells'",
    )
    assert rows == [(3, "Hells Bells", 1.29, "real", 2.58)]


def tools_query(path: Path, sql: str) -> list[tuple[Any, ...]]:
    conn = sqlite3.connect(path)
    try:
        return conn.execute(sql).fetchall()
    finally:
        conn.close()


def test_a_declared_length_is_no_difference_by_design(copy: Callable[[str], Path]) -> None:
    """SQLite enforces no declared length: VARCHAR(80) stores what VARCHAR(40) stores, so a
    length changed by hand is no drift (docs/sync.md, "What counts as a difference")."""
    path = copy("sqlalchemy")
    rebuild("books", "title VARCHAR(40)", "title VARCHAR(80)")(path)
    with database(schemas=TOOLS["sqlalchemy"].models, connection=path) as db:
        assert db.plan().in_sync, str(db.plan())
