"""Shared fixtures: kept small and generic on purpose."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    """A fresh database file path (the file does not exist yet)."""
    return tmp_path / "x.db"


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Iterator[None]:
    """In CI (``CI`` set; ``.ci/run`` sets it) a skipped test fails: a skip may only mean
    "this machine lacks something", and the CI machine must lack nothing."""
    outcome = yield
    report = outcome.get_result()  # type: ignore[attr-defined]
    if report.skipped and os.environ.get("CI") and not hasattr(report, "wasxfail"):
        report.outcome = "failed"
        report.longrepr = f"skipped in CI, where nothing may be skipped: {report.longrepr}"


# -- PostgreSQL (issue 15) ---------------------------------------------------------------------


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[object]:
    """A throw-away PostgreSQL server for the whole run (``tests/postgres_server.py``),
    started on first use. Without the server binaries or psycopg the tests that use it skip
    with one line saying how to install them; ``HEDYSTIA_REQUIRE_POSTGRES=1`` (CI) makes that
    a failure instead."""
    from postgres_server import INSTALL_HINT, find_binaries, running_server

    required = os.environ.get("HEDYSTIA_REQUIRE_POSTGRES") == "1"
    try:
        import psycopg  # noqa: F401
    except ImportError:
        message = "psycopg is not installed: pip install -e '.[test]' (or '.[postgres]')"
        if required:
            pytest.fail(message)
        pytest.skip(message)
    bindir = find_binaries()
    if bindir is None:
        if required:
            pytest.fail(INSTALL_HINT)
        pytest.skip(INSTALL_HINT)
    with running_server(bindir) as server:
        yield server


_databases = iter(range(1, 1 << 30))


@pytest.fixture
def postgres_url(postgres_server: object) -> Iterator[str]:
    """A connection string to a new, empty database on the test server, dropped after."""
    import psycopg

    server = postgres_server
    name = f"test_{next(_databases)}"
    admin = server.conninfo()  # type: ignore[attr-defined]
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}" TEMPLATE template0')
    try:
        yield server.url(name)  # type: ignore[attr-defined]
    finally:
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


# -- both engines (issue 15) -------------------------------------------------------------------

ENGINES = ("sqlite", "postgres")


@pytest.fixture(params=ENGINES)
def engine(request: pytest.FixtureRequest) -> str:
    """The engine a test runs on: every test that takes it (or :func:`connect`) runs once on
    SQLite and once on PostgreSQL (the test server, see :func:`postgres_server`)."""
    return str(request.param)


@pytest.fixture
def connect(engine: str, request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Any]:
    """``database(...)`` on the test's engine, with everything but the connection given by
    the test: a new SQLite file, or a new PostgreSQL database. Every database it opened is
    closed after the test. ``connect.engine`` says which engine it is."""
    from hedystia_models import database

    opened: list[Any] = []
    if engine == "postgres":
        target: Any = request.getfixturevalue("postgres_url")
        extra: dict[str, Any] = {"database": "postgres"}
    else:
        target, extra = tmp_path / "engine.db", {}

    def make(**arguments: Any) -> Any:
        db = database(connection=arguments.pop("connection", target), **extra, **arguments)
        opened.append(db)
        return db

    make.engine = engine  # type: ignore[attr-defined]
    make.target = target  # type: ignore[attr-defined]
    yield make
    for db in opened:
        db.close()
