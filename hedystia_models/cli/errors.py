"""How the CLI reports a failure the user can fix: one ``error:`` line on stderr, exit status 2.

:class:`UserError` is such a failure; :func:`report_failures` turns the library's expected
failures (a :class:`~hedystia_models.errors.HedystiaError`, a SQLite error, a module that does
not import, a file that cannot be read or written) into one, adding a hint when the database is
locked (:func:`is_lock_error`). A bug is reported differently, by the top-level group
(:mod:`.program`): a traceback and exit status 3.
"""

from __future__ import annotations

import sqlite3
import traceback
from collections.abc import Iterator
from contextlib import contextmanager
from typing import IO, Any

import click

from ..errors import HedystiaError
from .options import global_options

__all__ = ["LOCK_HINT", "UserError", "is_lock_error", "report_failures"]

#: Appended to the message of an error caused by a database locked by someone else.
LOCK_HINT = " (another process holds the write lock; try again or raise --busy-timeout)"

#: SQLite's primary result codes for a lock held elsewhere: SQLITE_BUSY (another connection,
#: usually another process, holds the lock) and SQLITE_LOCKED (a conflict inside one
#: connection or shared cache). Python 3.11+ reports the extended code (SQLITE_BUSY_TIMEOUT,
#: SQLITE_LOCKED_SHAREDCACHE, ...), whose low byte is the primary one. The numbers are fixed
#: by SQLite's C API (the constants ``sqlite3.SQLITE_BUSY`` etc. exist from 3.11 on only).
SQLITE_BUSY = 5
SQLITE_LOCKED = 6
LOCK_CODES = frozenset({SQLITE_BUSY, SQLITE_LOCKED})

#: What SQLite says for those two codes (``sqlite3_errstr``); see :func:`_is_lock`.
LOCK_MESSAGES = frozenset({"database is locked", "database table is locked"})


class UserError(click.ClickException):
    """A mistake the user can fix: one line on stderr, exit status 2."""

    exit_code = 2

    def show(self, file: IO[Any] | None = None) -> None:
        """Print ``error: <message>`` on stderr (details, if any, on the indented lines after)."""
        click.echo(f"error: {self.format_message()}", err=True)


@contextmanager
def report_failures(ctx: click.Context) -> Iterator[None]:
    """Turn expected failures into one clear line (or a traceback with ``--verbose``).

    Click's own exceptions (a :class:`UserError` among them) pass through; anything else that
    is not an expected failure is left to the top-level group, which reports it as a bug.
    """
    try:
        yield
    except (click.ClickException, click.exceptions.Exit, click.Abort):
        raise
    except (HedystiaError, sqlite3.Error, ImportError, OSError) as exc:
        if global_options(ctx).verbose:
            traceback.print_exc()
        message = str(exc).strip() or type(exc).__name__
        if is_lock_error(exc):
            message += LOCK_HINT
        # Kept whole: when an error has details (sync's refusals, a migration's column
        # differences) they follow the first line, indented, and are the actual reason.
        raise UserError(message) from exc


def is_lock_error(exc: BaseException | None) -> bool:
    """True when ``exc`` is SQLite reporting a lock held elsewhere (SQLITE_BUSY or
    SQLITE_LOCKED), raised directly or as the explicit cause (``raise ... from``) of the error
    raised, as a failing migration wraps it in a :class:`~hedystia_models.errors.MigrationError`.

    Only the explicit cause chain is followed, not the implicit context, so an error that merely
    happened while a lock error was being handled is not taken for one.
    """
    seen: set[int] = set()
    while exc is not None and id(exc) not in seen:
        seen.add(id(exc))
        if isinstance(exc, sqlite3.OperationalError) and _is_lock(exc):
            return True
        exc = exc.__cause__
    return False


def _is_lock(exc: sqlite3.OperationalError) -> bool:
    """Decide from SQLite's result code, which Python 3.11+ attaches as ``sqlite_errorcode``.

    Python 3.10's sqlite3 attaches no code: all it keeps of the failure is SQLite's message
    (``sqlite3_errmsg``), which for these two codes is SQLite's fixed text for the code. There,
    and only there, the whole message is compared with those fixed texts: an exact match on
    SQLite's own wording for the code, never a search for a word inside a message (which may
    quote a migration's SQL or a table name).
    """
    code = getattr(exc, "sqlite_errorcode", None)
    if isinstance(code, int):
        return code & 0xFF in LOCK_CODES
    return str(exc) in LOCK_MESSAGES
