"""How the CLI reports a failure the user can fix: one ``error:`` line on stderr, exit status 2.

:class:`UserError` is such a failure; :func:`report_failures` turns the library's expected
failures (a :class:`~hedystia_models.errors.HedystiaError`, a SQLite error, a module that does
not import, a file that cannot be read or written) into one, adding a hint when the database is
locked (a :class:`~hedystia_models.errors.DatabaseLockedError`, or SQLite's own lock error:
:func:`is_lock_error`). A bug is reported differently, by the top-level group
(:mod:`.program`): a traceback and exit status 3.
"""

from __future__ import annotations

import sqlite3
import traceback
from collections.abc import Iterator
from contextlib import contextmanager
from typing import IO, Any

import click

from ..engine.sqlite.connection import is_lock_error
from ..errors import DatabaseLockedError, HedystiaError
from .options import global_options

__all__ = ["LOCKED_HINT", "LOCK_HINT", "UserError", "is_lock_error", "report_failures"]

#: Appended to the message of SQLite's own lock error, which names neither file nor cause.
LOCK_HINT = " (another process holds the write lock; try again or raise --busy-timeout)"
#: Appended to a :class:`~hedystia_models.errors.DatabaseLockedError`, which names both.
LOCKED_HINT = " (try again, or raise --busy-timeout)"


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
        if isinstance(exc, DatabaseLockedError):
            message += LOCKED_HINT
        elif is_lock_error(exc):
            message += LOCK_HINT
        # Kept whole: when an error has details (sync's refusals, a migration's column
        # differences) they follow the first line, indented, and are the actual reason.
        raise UserError(message) from exc
