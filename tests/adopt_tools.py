"""Databases made by real tools, for the adoption tests (``tests/test_adopt.py``).

Each ``build_*`` function makes one SQLite file with the tool itself (Django's ``migrate``,
SQLAlchemy's and SQLModel's ``create_all``, Alembic's ``upgrade head``, sqlite-utils, a
hand-written Chinook-style script), writes a few rows with the tool, and returns the file's
path. The rows each tool writes are the ``*_ROWS`` constants below, so the tests can compare
what this package reads back with what the tool wrote. Nothing here touches the network.

Plus the helpers the tests share: a copy of a database, a snapshot of ``sqlite_master``, the
indexes that duplicate one another, and a table rebuilt by hand with an edited
``CREATE TABLE`` (the way a person changes a column's type or a foreign key's action in SQLite).
"""

import io
import json
import shutil
import sqlite3
import subprocess
import sys
import textwrap
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from uuid import UUID

import sqlalchemy as sa
import sqlite_utils
import sqlmodel
from alembic import command as alembic_command
from alembic.config import Config as AlembicConfig
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column

FIXTURES = Path(__file__).resolve().parent / "adopt_fixtures"

# -- shared helpers ---------------------------------------------------------------------------

#: Tables (and their indexes) this package documents that it creates in a database it syncs.
OWN_TABLES = ("__hedystia_migrations", "__hedystia_state")


def copy_db(source: Path, target: Path) -> Path:
    """A copy of the database file ``source`` at ``target`` (a fresh one for each test)."""
    shutil.copyfile(source, target)
    return target


def master_rows(path: Path) -> list[tuple[str, str, str, str | None]]:
    """Every row of ``sqlite_master`` (type, name, table, sql), sorted, without this package's
    own bookkeeping tables and their indexes."""
    conn = sqlite3.connect(path)
    try:
        rows = conn.execute("SELECT type, name, tbl_name, sql FROM sqlite_master").fetchall()
    finally:
        conn.close()
    return sorted(row for row in rows if row[2] not in OWN_TABLES)


def duplicate_indexes(path: Path) -> list[tuple[str, list[str]]]:
    """(table, index names) for each set of two or more indexes of one table with the same
    columns and uniqueness (implicit ones of PRIMARY KEY / UNIQUE constraints included)."""
    conn = sqlite3.connect(path)
    try:
        tables = [
            name
            for (name,) in conn.execute(
                "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
            )
        ]
        found = []
        for table in tables:
            groups: dict[tuple[object, ...], list[str]] = {}
            for _, name, unique, _origin, partial in conn.execute(
                f"PRAGMA index_list({_quote(table)})"
            ):
                if partial:
                    continue
                columns = tuple(
                    row[2] for row in conn.execute(f"PRAGMA index_info({_quote(name)})")
                )
                groups.setdefault((columns, unique), []).append(name)
            found += [(table, sorted(names)) for names in groups.values() if len(names) > 1]
        return found
    finally:
        conn.close()


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def run_sql(path: Path, *statements: str) -> None:
    """Run ``statements`` on the database file, committed."""
    conn = sqlite3.connect(path)
    try:
        for statement in statements:
            conn.execute(statement)
        conn.commit()
    finally:
        conn.close()


def rebuild_table(path: Path, table: str, old: str, new: str) -> str:
    """Rebuild ``table`` by hand with ``old`` replaced by ``new`` in its ``CREATE TABLE``
    (SQLite's documented 12-step way of changing a column): create the edited table under a
    temporary name, copy the rows, drop the old table, rename, recreate the indexes and
    triggers. Returns the new ``CREATE TABLE``; fails when ``old`` is not in the statement."""
    conn = sqlite3.connect(path, isolation_level=None)
    try:
        conn.execute("PRAGMA foreign_keys = OFF")
        (sql,) = conn.execute(
            "SELECT sql FROM sqlite_master WHERE type = 'table' AND name = ?", (table,)
        ).fetchone()
        assert old in sql, (old, sql)
        edited = sql.replace(old, new, 1)
        extras = [
            s
            for (s,) in conn.execute(
                "SELECT sql FROM sqlite_master WHERE type IN ('index', 'trigger') "
                "AND tbl_name = ? AND sql IS NOT NULL",
                (table,),
            )
        ]
        temporary = f"{table}__rebuild"
        rest = edited.split("(", 1)[1]
        conn.execute("BEGIN")
        conn.execute(f"CREATE TABLE {_quote(temporary)} ({rest}")
        conn.execute(f"INSERT INTO {_quote(temporary)} SELECT * FROM {_quote(table)}")
        conn.execute(f"DROP TABLE {_quote(table)}")
        conn.execute(f"ALTER TABLE {_quote(temporary)} RENAME TO {_quote(table)}")
        for statement in extras:
            conn.execute(statement)
        conn.execute("COMMIT")
        assert not conn.execute("PRAGMA foreign_key_check").fetchall()
        (stored,) = conn.execute(
            "SELECT sql FROM sqlite_master WHERE type = 'table' AND name = ?", (table,)
        ).fetchone()
        return str(stored)
    finally:
        conn.close()


# -- 1. Django --------------------------------------------------------------------------------

DJANGO_APP = FIXTURES / "django_shop"
#: What ``tests/adopt_fixtures/django_shop/run.py build`` writes with the Django ORM.
DJANGO_ROWS = {
    "customers": [{"name": "Ann", "email": "ann@example.com"}],
    "orders": [
        {
            "customer_email": "ann@example.com",
            "number": 1,
            "total": "10.00",
            "details": {"gift": True, "note": "ring"},
            "public_id": "6f1c1c3e-2b0a-4d9e-9a53-0c6d3c1f2a77",
            "paid": True,
            "created_at": "2026-01-02T10:15:00",
        },
        {
            "customer_email": "ann@example.com",
            "number": 2,
            "total": "12.50",
            "details": {},
            "public_id": "0b8e4d2a-9c7f-4e11-8a3d-5f6e7d8c9b0a",
            "paid": False,
            "created_at": "2026-01-03T08:00:30",
        },
    ],
}


def _django(command: str, workdir: Path, *args: str, stdin: str = "") -> dict[str, object]:
    """Run the Django app's ``run.py`` in a process of its own (Django's settings and app
    registry are process-wide, so they stay out of the test process)."""
    result = subprocess.run(
        [sys.executable, str(DJANGO_APP / "run.py"), command, str(workdir), *args],
        input=stdin,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    found: dict[str, object] = json.loads(result.stdout)
    return found


def build_django(workdir: Path) -> Path:
    """``makemigrations`` + ``migrate`` for the ``shop`` app, then ``DJANGO_ROWS`` through the
    ORM. The database is ``workdir/django.sqlite3``."""
    workdir.mkdir(parents=True, exist_ok=True)
    _django("build", workdir, stdin=json.dumps(DJANGO_ROWS))
    return workdir / "django.sqlite3"


def django_orders(workdir: Path, public_id: UUID) -> list[dict[str, object]]:
    """``Order.objects.filter(public_id=...)``, run by Django on ``workdir/django.sqlite3``,
    as JSON-ready dicts."""
    found = _django("read", workdir, str(public_id))
    orders: list[dict[str, object]] = found["orders"]  # type: ignore[assignment]
    return orders


# -- 2. SQLAlchemy 2 ---------------------------------------------------------------------------


class SABase(DeclarativeBase):
    pass


class SAAuthor(SABase):
    __tablename__ = "authors"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(40))


class SABook(SABase):
    __tablename__ = "books"
    __table_args__ = (
        sa.UniqueConstraint("author_id", "title"),
        sa.Index("ix_books_published_at", "published_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    author_id: Mapped[int] = mapped_column(
        sa.ForeignKey("authors.id", ondelete="CASCADE"), index=True
    )
    title: Mapped[str] = mapped_column(sa.String(40))
    price: Mapped[Decimal] = mapped_column(sa.Numeric(10, 2))
    in_print: Mapped[bool] = mapped_column(sa.Boolean, default=True)
    stock: Mapped[int] = mapped_column(sa.Integer, server_default="100")
    published_at: Mapped[datetime] = mapped_column(
        sa.DateTime, server_default=sa.func.current_timestamp()
    )


SQLALCHEMY_ROWS = {
    "authors": [{"id": 1, "name": "Ursula"}],
    "books": [
        {
            "id": 1,
            "author_id": 1,
            "title": "The Dispossessed",
            "price": Decimal("10.00"),
            "in_print": True,
            "stock": 7,
            "published_at": datetime(1974, 5, 1, 12, 30),
        },
        {
            "id": 2,
            "author_id": 1,
            "title": "Lathe",
            "price": Decimal("12.50"),
            "in_print": False,
            "stock": 0,
            "published_at": datetime(1971, 3, 1, 9, 0, 15),
        },
    ],
}


def sqlalchemy_engine(path: Path) -> sa.Engine:
    return sa.create_engine(f"sqlite:///{path}")


def build_sqlalchemy(workdir: Path) -> Path:
    """``SABase.metadata.create_all`` and ``SQLALCHEMY_ROWS`` through an ORM session."""
    path = workdir / "sqlalchemy.db"
    engine = sqlalchemy_engine(path)
    try:
        SABase.metadata.create_all(engine)
        with Session(engine) as session:
            session.add_all(SAAuthor(**row) for row in SQLALCHEMY_ROWS["authors"])
            session.flush()
            session.add_all(SABook(**row) for row in SQLALCHEMY_ROWS["books"])
            session.commit()
    finally:
        engine.dispose()
    return path


# -- 3. SQLModel -------------------------------------------------------------------------------

SQLMODEL_METADATA = sa.MetaData()


class SMBase(sqlmodel.SQLModel):
    metadata = SQLMODEL_METADATA  # not SQLModel's global one


class SMTeam(SMBase, table=True):
    __tablename__ = "team"

    id: int | None = sqlmodel.Field(default=None, primary_key=True)
    name: str = sqlmodel.Field(index=True, unique=True)
    headquarters: str


class SMHero(SMBase, table=True):
    __tablename__ = "hero"

    id: int | None = sqlmodel.Field(default=None, primary_key=True)
    name: str = sqlmodel.Field(index=True)
    secret_name: str = sqlmodel.Field(unique=True)
    age: int | None = sqlmodel.Field(default=None, index=True)
    team_id: int | None = sqlmodel.Field(default=None, foreign_key="team.id")


SQLMODEL_ROWS = {
    "team": [{"id": 1, "name": "Preventers", "headquarters": "Sharp Tower"}],
    "hero": [
        {"id": 1, "name": "Deadpond", "secret_name": "Dive Wilson", "age": None, "team_id": 1},
        {"id": 2, "name": "Rusty-Man", "secret_name": "Tommy Sharp", "age": 48, "team_id": None},
    ],
}


def build_sqlmodel(workdir: Path) -> Path:
    """``metadata.create_all`` for ``SMTeam`` and ``SMHero``, and ``SQLMODEL_ROWS`` through a
    SQLModel session."""
    path = workdir / "sqlmodel.db"
    engine = sqlmodel.create_engine(f"sqlite:///{path}")
    try:
        SQLMODEL_METADATA.create_all(engine)
        with sqlmodel.Session(engine) as session:
            session.add_all(SMTeam(**row) for row in SQLMODEL_ROWS["team"])
            session.flush()
            session.add_all(SMHero(**row) for row in SQLMODEL_ROWS["hero"])
            session.commit()
    finally:
        engine.dispose()
    return path


# -- 4. Alembic --------------------------------------------------------------------------------

ALEMBIC_REVISIONS = {
    "0001_accounts.py": '''
        """accounts and entries"""
        import sqlalchemy as sa
        from alembic import op

        revision = "0001"
        down_revision = None
        branch_labels = None
        depends_on = None


        def upgrade():
            op.create_table(
                "accounts",
                sa.Column("id", sa.Integer(), primary_key=True),
                sa.Column("email", sa.String(120), nullable=False, unique=True),
                sa.Column("active", sa.Boolean(), nullable=False, server_default=sa.true()),
            )
            op.create_table(
                "entries",
                sa.Column("id", sa.Integer(), primary_key=True),
                sa.Column(
                    "account_id",
                    sa.Integer(),
                    sa.ForeignKey("accounts.id", ondelete="CASCADE"),
                    nullable=False,
                ),
                sa.Column("amount", sa.Numeric(10, 2), nullable=False),
                sa.Column("memo", sa.Text(), nullable=True),
            )


        def downgrade():
            op.drop_table("entries")
            op.drop_table("accounts")
        ''',
    "0002_entries_created.py": '''
        """entries.created_at and an index on entries.account_id"""
        import sqlalchemy as sa
        from alembic import op

        revision = "0002"
        down_revision = "0001"
        branch_labels = None
        depends_on = None


        def upgrade():
            op.add_column("entries", sa.Column("created_at", sa.DateTime(), nullable=True))
            op.create_index("ix_entries_account_id", "entries", ["account_id"])


        def downgrade():
            op.drop_index("ix_entries_account_id", table_name="entries")
            op.drop_column("entries", "created_at")
        ''',
}

ALEMBIC_ROWS = {
    "accounts": [{"id": 1, "email": "ann@example.com", "active": True}],
    "entries": [
        {
            "id": 1,
            "account_id": 1,
            "amount": Decimal("10.00"),
            "memo": "first",
            "created_at": datetime(2026, 1, 2, 10, 15),
        },
        {"id": 2, "account_id": 1, "amount": Decimal("12.50"), "memo": None, "created_at": None},
    ],
}


def alembic_config(workdir: Path, path: Path) -> AlembicConfig:
    """An Alembic config for the environment in ``workdir/migrations``, with no ini file (so
    ``env.py`` leaves the test process's logging alone)."""
    config = AlembicConfig()
    config.set_main_option("script_location", str(workdir / "migrations"))
    config.set_main_option("sqlalchemy.url", f"sqlite:///{path}")
    return config


def build_alembic(workdir: Path) -> Path:
    """``alembic init`` (the generic template), two revisions written into ``versions/``,
    ``alembic upgrade head``, then ``ALEMBIC_ROWS`` with SQLAlchemy Core on the reflected
    tables."""
    workdir.mkdir(parents=True, exist_ok=True)
    path = workdir / "alembic.db"
    init = AlembicConfig(str(workdir / "alembic.ini"), stdout=io.StringIO())
    alembic_command.init(init, str(workdir / "migrations"), template="generic")
    for name, source in ALEMBIC_REVISIONS.items():
        (workdir / "migrations" / "versions" / name).write_text(
            textwrap.dedent(source).lstrip(), encoding="utf-8"
        )
    config = alembic_config(workdir, path)
    alembic_command.upgrade(config, "head")
    engine = sqlalchemy_engine(path)
    try:
        reflected = sa.MetaData()
        reflected.reflect(engine)
        with engine.begin() as conn:
            for table, rows in ALEMBIC_ROWS.items():
                conn.execute(reflected.tables[table].insert(), rows)
    finally:
        engine.dispose()
    return path


# -- 5. sqlite-utils ---------------------------------------------------------------------------

SQLITE_UTILS_ROWS = {
    "owners": [{"id": 1, "name": "Ann", "city": "Oslo"}, {"id": 2, "name": "Bo", "city": "Rome"}],
    "pets": [
        {"id": 1, "name": "Rex", "owner_id": 1, "weight": 12.5, "vaccinated": True},
        {"id": 2, "name": "Tom", "owner_id": 2, "weight": 4.25, "vaccinated": False},
    ],
}


def build_sqlite_utils(workdir: Path) -> Path:
    """``insert_all`` with ``pk=`` and ``foreign_keys=``, ``create_index``, then ``transform``
    (``name`` made NOT NULL, ``weight`` a float, ``vaccinated`` a bool)."""
    path = workdir / "sqlite_utils.db"
    db = sqlite_utils.Database(path)
    try:
        db["owners"].insert_all(SQLITE_UTILS_ROWS["owners"], pk="id")
        db["pets"].insert_all(
            SQLITE_UTILS_ROWS["pets"], pk="id", foreign_keys=[("owner_id", "owners", "id")]
        )
        db["pets"].create_index(["name"])
        db["pets"].transform(types={"weight": float, "vaccinated": bool}, not_null={"name"})
        db["owners"].transform(not_null={"name"})
    finally:
        db.close()
    return path


# -- 6. Chinook-style plain SQL ----------------------------------------------------------------

CHINOOK_SQL = """
CREATE TABLE [Artist]
(
    [ArtistId] INTEGER PRIMARY KEY NOT NULL,
    [Name] NVARCHAR(120)
);
CREATE TABLE [Album]
(
    [AlbumId] INTEGER PRIMARY KEY NOT NULL,
    [Title] NVARCHAR(160) NOT NULL,
    [ArtistId] INTEGER NOT NULL,
    FOREIGN KEY ([ArtistId]) REFERENCES [Artist] ([ArtistId])
        ON DELETE NO ACTION ON UPDATE NO ACTION
);
CREATE TABLE [Track]
(
    [TrackId] INTEGER PRIMARY KEY NOT NULL,
    [Name] NVARCHAR(200) NOT NULL,
    [AlbumId] INTEGER,
    [Composer] NVARCHAR(220),
    [Milliseconds] INTEGER NOT NULL,
    [UnitPrice] NUMERIC(10,2) NOT NULL,
    FOREIGN KEY ([AlbumId]) REFERENCES [Album] ([AlbumId])
        ON DELETE NO ACTION ON UPDATE NO ACTION
);
CREATE TABLE [Customer]
(
    [CustomerId] INTEGER PRIMARY KEY NOT NULL,
    [FirstName] NVARCHAR(40) NOT NULL,
    [LastName] NVARCHAR(20) NOT NULL,
    [Email] NVARCHAR(60) NOT NULL
);
CREATE TABLE [Invoice]
(
    [InvoiceId] INTEGER PRIMARY KEY NOT NULL,
    [CustomerId] INTEGER NOT NULL,
    [InvoiceDate] DATETIME NOT NULL,
    [BillingCity] NVARCHAR(40),
    [Total] NUMERIC(10,2) NOT NULL,
    FOREIGN KEY ([CustomerId]) REFERENCES [Customer] ([CustomerId])
        ON DELETE NO ACTION ON UPDATE NO ACTION
);
CREATE TABLE [InvoiceLine]
(
    [InvoiceLineId] INTEGER PRIMARY KEY NOT NULL,
    [InvoiceId] INTEGER NOT NULL,
    [TrackId] INTEGER NOT NULL,
    [UnitPrice] NUMERIC(10,2) NOT NULL,
    [Quantity] INTEGER NOT NULL,
    FOREIGN KEY ([InvoiceId]) REFERENCES [Invoice] ([InvoiceId])
        ON DELETE NO ACTION ON UPDATE NO ACTION,
    FOREIGN KEY ([TrackId]) REFERENCES [Track] ([TrackId])
        ON DELETE NO ACTION ON UPDATE NO ACTION
);
CREATE INDEX [IFK_AlbumArtistId] ON [Album] ([ArtistId]);
CREATE INDEX [IFK_TrackAlbumId] ON [Track] ([AlbumId]);
CREATE INDEX [IFK_InvoiceCustomerId] ON [Invoice] ([CustomerId]);
CREATE INDEX [IFK_InvoiceLineInvoiceId] ON [InvoiceLine] ([InvoiceId]);
CREATE INDEX [IFK_InvoiceLineTrackId] ON [InvoiceLine] ([TrackId]);

INSERT INTO [Artist] ([ArtistId], [Name]) VALUES (1, 'AC/DC');
INSERT INTO [Artist] ([ArtistId], [Name]) VALUES (2, 'Accept');
INSERT INTO [Album] ([AlbumId], [Title], [ArtistId])
    VALUES (1, 'For Those About To Rock We Salute You', 1);
INSERT INTO [Album] ([AlbumId], [Title], [ArtistId]) VALUES (2, 'Balls to the Wall', 2);
INSERT INTO [Track] ([TrackId], [Name], [AlbumId], [Composer], [Milliseconds], [UnitPrice])
    VALUES (1, 'For Those About To Rock (We Salute You)', 1,
            'Angus Young, Malcolm Young, Brian Johnson', 343719, 0.99);
INSERT INTO [Track] ([TrackId], [Name], [AlbumId], [Composer], [Milliseconds], [UnitPrice])
    VALUES (2, 'Balls to the Wall', 2, NULL, 342562, 10.00);
INSERT INTO [Customer] ([CustomerId], [FirstName], [LastName], [Email])
    VALUES (1, 'Luís', 'Gonçalves', 'luisg@embraer.com.br');
INSERT INTO [Invoice] ([InvoiceId], [CustomerId], [InvoiceDate], [BillingCity], [Total])
    VALUES (1, 1, '2009-01-01 00:00:00', 'São José dos Campos', 1.98);
INSERT INTO [InvoiceLine] ([InvoiceLineId], [InvoiceId], [TrackId], [UnitPrice], [Quantity])
    VALUES (1, 1, 1, 0.99, 2);
"""


def build_chinook(workdir: Path) -> Path:
    """The Chinook-style schema and rows of ``CHINOOK_SQL``, run as one script."""
    path = workdir / "chinook.db"
    conn = sqlite3.connect(path)
    try:
        conn.executescript(CHINOOK_SQL)
        conn.commit()
    finally:
        conn.close()
    return path
