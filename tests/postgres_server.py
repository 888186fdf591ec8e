"""A throw-away PostgreSQL server for the tests, started from the installed server binaries.

``initdb`` into a temporary directory, ``pg_ctl start`` listening only on a Unix socket in that
directory (no TCP port, so parallel runs never collide), ``fsync=off`` (the data is thrown
away), stopped and deleted at the end. ``initdb`` refuses to run as root, and CI runs as root:
there the server runs as the ``postgres`` system user (``runuser -u postgres --``), which
Debian's ``postgresql`` package creates.

:func:`find_binaries` says where the binaries are, or why there are none (the tests that need
them skip with that line, unless ``HEDYSTIA_REQUIRE_POSTGRES=1``, which CI sets, makes the skip
a failure).
"""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

__all__ = ["INSTALL_HINT", "PostgresServer", "find_binaries", "running_server"]

#: What a machine without the server binaries is told.
INSTALL_HINT = (
    "PostgreSQL server binaries not found (initdb, pg_ctl); install them to run the PostgreSQL "
    "tests: apt-get install postgresql (Debian/Ubuntu), or put pg_config on PATH"
)


def find_binaries() -> Path | None:
    """The directory holding ``initdb`` and ``pg_ctl``: ``$HEDYSTIA_PG_BINDIR``, then
    ``pg_config --bindir``, then Debian's ``/usr/lib/postgresql/<version>/bin`` (newest);
    ``None`` when there is none."""
    candidates: list[Path] = []
    if os.environ.get("HEDYSTIA_PG_BINDIR"):
        candidates.append(Path(os.environ["HEDYSTIA_PG_BINDIR"]))
    pg_config = shutil.which("pg_config")
    if pg_config:
        with contextlib.suppress(OSError, subprocess.SubprocessError):
            out = subprocess.run(
                [pg_config, "--bindir"], capture_output=True, text=True, check=True, timeout=10
            )
            candidates.append(Path(out.stdout.strip()))
    versions = sorted(
        Path("/usr/lib/postgresql").glob("*/bin"),
        key=lambda p: int(p.parent.name) if p.parent.name.isdigit() else 0,
        reverse=True,
    )
    candidates.extend(versions)
    for folder in candidates:
        if (folder / "initdb").exists() and (folder / "pg_ctl").exists():
            return folder
    return None


@dataclass(frozen=True)
class PostgresServer:
    """A running server: where its socket is, and a connection string for a database on it."""

    socket_dir: Path
    port: int
    user: str

    def conninfo(self, dbname: str = "postgres") -> str:
        """A libpq connection string for ``dbname`` on this server."""
        return f"host={self.socket_dir} port={self.port} user={self.user} dbname={dbname}"

    def url(self, dbname: str = "postgres") -> str:
        """The same as a ``postgresql://`` URL (the socket directory as the ``host``
        parameter)."""
        return f"postgresql://{self.user}@/{dbname}?host={self.socket_dir}&port={self.port}"


def _as_server_user(command: list[str]) -> list[str]:
    if os.geteuid() != 0:
        return command
    return ["runuser", "-u", "postgres", "--", *command]


@contextlib.contextmanager
def running_server(bindir: Path, *, port: int = 5432) -> Iterator[PostgresServer]:
    """Start a server from ``bindir`` for the duration of the block."""
    root = Path(tempfile.mkdtemp(prefix="hedystia-pg-"))
    data = root / "data"
    user = "postgres" if os.geteuid() == 0 else os.environ.get("USER", "postgres")
    if os.geteuid() == 0:
        shutil.chown(root, "postgres", "postgres")
    log = root / "server.log"
    try:
        subprocess.run(
            _as_server_user(
                [
                    str(bindir / "initdb"),
                    "-D",
                    str(data),
                    "-U",
                    user,
                    "--auth=trust",
                    "-E",
                    "UTF8",
                    "--locale=C",
                    "--no-sync",
                ]
            ),
            check=True,
            capture_output=True,
            timeout=120,
        )
        options = (
            f"-k {root} -p {port} -c listen_addresses='' -c fsync=off "
            "-c synchronous_commit=off -c full_page_writes=off -c max_connections=200"
        )
        started = subprocess.run(
            _as_server_user(
                [
                    str(bindir / "pg_ctl"),
                    "-D",
                    str(data),
                    "-l",
                    str(log),
                    "-o",
                    options,
                    "-w",
                    "-t",
                    "60",
                    "start",
                ]
            ),
            capture_output=True,
            text=True,
            timeout=90,
        )
        if started.returncode != 0:
            text = log.read_text() if log.exists() else ""
            raise RuntimeError(f"pg_ctl start failed: {started.stdout}{started.stderr}\n{text}")
        try:
            yield PostgresServer(root, port, user)
        finally:
            subprocess.run(
                _as_server_user(
                    [str(bindir / "pg_ctl"), "-D", str(data), "-m", "immediate", "-w", "stop"]
                ),
                capture_output=True,
                timeout=60,
            )
    finally:
        shutil.rmtree(root, ignore_errors=True)
