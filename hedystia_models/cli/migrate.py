"""``migrate up``, ``migrate down``, ``migrate status``, ``migrate stamp`` and ``history``:
applying, rolling back, recording and inspecting migrations, and listing what
``__hedystia_migrations`` records.

``migrate up`` takes the start-up path (:meth:`~hedystia_models.Database.upgrade`: create the
missing tables, run the pending migrations, sync the rest) when a schemas module is configured,
and runs the migrations alone when none is. The other commands never import the schemas module.
The ``migrate`` commands need the migrations directory; ``history`` does not load migration
files at all.
"""

from __future__ import annotations

import logging
import sqlite3
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any

import click

from ..database import Database
from ..errors import HedystiaError
from ..migrate.history import HistoryEntry
from ..migrate.plan import Plan, PlannedOperation
from .errors import report_failures
from .options import global_options
from .output import emit_json
from .project import SchemasImportError, open_database, project_settings

__all__ = ["history", "migrate", "migrate_down", "migrate_stamp", "migrate_status", "migrate_up"]

#: The past tense of the first word of an operation's description, for ``migrate up``.
_DONE = {
    "create": "created",
    "add": "added",
    "drop": "dropped",
    "rename": "renamed",
    "alter": "altered",
}


@click.group()
def migrate() -> None:
    """Apply, roll back, stamp and inspect migrations."""


# -- migrate up -------------------------------------------------------------------------------


@migrate.command("up")
@click.pass_context
def migrate_up(ctx: click.Context) -> None:
    """Apply every pending migration, in order. With a schemas module configured, do what
    start-up does: create the tables the models declare and the database lacks, run the
    pending migrations, then sync the rest."""
    with report_failures(ctx):
        settings = project_settings(ctx)
        missing = None
        if settings.schemas:
            try:
                db = open_database(ctx, need_migrations=True)
            except SchemasImportError as exc:
                if global_options(ctx).schemas or not _module_is_absent(exc, settings.schemas):
                    raise
                # Configured in pyproject.toml but not written yet (a project with migrations
                # and no models so far): the migrations alone, and say so.
                missing = settings.schemas
                db = open_database(ctx, need_schemas=False, need_migrations=True)
        else:
            db = open_database(ctx, need_schemas=False, need_migrations=True)
        with db:
            if db.models:
                added, final = _upgrade(ctx, db)
                for op in final.unsafe:
                    why = f" ({op.reason})" if op.reason else ""
                    click.echo(f"left alone: {op.describe()}{why}")
            else:
                added = _report_steps(db, db.migrate_up, [])
    if not any(e.kind == "migration" for e in added):
        click.echo("no pending migrations")
    if missing is not None:
        click.echo(
            f"note: the schemas module {missing!r} does not exist: ran the migrations only, "
            "nothing was synced",
            err=True,
        )


def _module_is_absent(exc: SchemasImportError, module: str) -> bool:
    """True when ``exc`` says that ``module`` itself (or a package above it) does not exist,
    not that it exists and failed to import something else."""
    cause = exc.__cause__
    if not isinstance(cause, ModuleNotFoundError) or not cause.name:
        return False
    return module == cause.name or module.startswith(cause.name + ".")


def _upgrade(ctx: click.Context, db: Database) -> tuple[list[HistoryEntry], Plan]:
    """Run :meth:`Database.upgrade`, printing what it did; return the history rows it added
    and the plan of its final sync (whose unsafe part it left alone)."""
    plans = [db.plan()]  # describes the tables the first step creates
    with _quiet_sync_warnings(ctx):
        added = _report_steps(db, lambda: plans.append(db.upgrade()), plans)
    return added, plans[-1]


@contextmanager
def _quiet_sync_warnings(ctx: click.Context) -> Iterator[None]:
    """Silence sync's "left alone" log warnings (the command prints them itself) unless
    ``--verbose``."""
    logger = logging.getLogger("hedystia_models")
    level = logger.level
    if not global_options(ctx).verbose:
        logger.setLevel(logging.ERROR)
    try:
        yield
    finally:
        logger.setLevel(level)


def _report_steps(
    db: Database, action: Callable[[], Any], plans: Sequence[Plan]
) -> list[HistoryEntry]:
    """Run ``action``, then print what each history row it added did, and return those rows.
    They are printed even when ``action`` fails midway: what it committed before the failure
    stays, so it is shown. ``plans`` describe the statements of the syncs."""
    last = max((e.id for e in db.history()), default=0)
    try:
        action()
    finally:
        try:
            added = [e for e in db.history() if e.id > last]
        except (sqlite3.Error, HedystiaError):  # the failure left it unreadable for now
            added = []
        described = {s: op for plan in plans for op in plan.safe for s in op.statements}
        for entry in added:
            for line in _entry_lines(entry, described):
                click.echo(line)
    return added


def _entry_lines(entry: HistoryEntry, described: dict[str, PlannedOperation]) -> list[str]:
    """What ``migrate up`` says about one history row it added."""
    if entry.kind == "migration":
        suffix = " (converged)" if entry.how == "converged" else ""
        # Its notes (steps already done, a provisional table replaced), as "-- what: ..." says.
        notes = [s.removeprefix("-- ") for s in entry.statements if s.startswith("-- ")]
        return [f"applied {entry.name}{suffix}"] + [f"    {note}" for note in notes]
    lines: list[str] = []
    for statement in entry.statements:
        op = described.get(statement)
        line = _done_line(op) if op is not None else "ran " + statement.splitlines()[0]
        if line not in lines:
            lines.append(line)
    return lines


def _done_line(op: PlannedOperation) -> str:
    """``created table users``, ``added column users.nickname TEXT``: a sync's operation."""
    if op.kind == "create_table":
        return f"created table {op.table}"
    verb, _, rest = op.describe().partition(" ")
    return f"{_DONE.get(verb, verb)} {rest}"


# -- migrate down -----------------------------------------------------------------------------


@migrate.command("down")
@click.option(
    "--steps",
    type=click.IntRange(min=1),
    default=1,
    show_default=True,
    help="How many of the newest applied migrations to roll back.",
)
@click.pass_context
def migrate_down(ctx: click.Context, steps: int) -> None:
    """Roll back the newest applied migrations."""
    with (
        report_failures(ctx),
        open_database(ctx, need_schemas=False, need_migrations=True, read_only=True) as db,
    ):
        rolled = db.migrate_down(steps)
    if not rolled:
        click.echo("no applied migrations to roll back")
    for name in rolled:
        click.echo(f"rolled back {name}")


# -- migrate stamp ----------------------------------------------------------------------------


@migrate.command("stamp")
@click.argument("names", nargs=-1, metavar="NAME...")
@click.option("--all", "stamp_all", is_flag=True, help="Stamp every pending migration.")
@click.pass_context
def migrate_stamp(ctx: click.Context, names: tuple[str, ...], stamp_all: bool) -> None:
    """Record the migrations NAME... (or, with --all, every pending one) as applied without
    running them: for a database that already has their changes."""
    if stamp_all and names:
        raise click.UsageError("give migration names or --all, not both", ctx)
    if not stamp_all and not names:
        raise click.UsageError("give the migrations to stamp, or --all", ctx)
    with (
        report_failures(ctx),
        open_database(ctx, need_schemas=False, need_migrations=True) as db,
    ):
        stamped = db.stamp(*names)
    for name in stamped:
        click.echo(f"stamped {name}")
    for name in dict.fromkeys(names):
        if name not in stamped:
            click.echo(f"already applied {name}")
    if stamp_all and not stamped:
        click.echo("no pending migrations")


# -- migrate status ---------------------------------------------------------------------------


@migrate.command("status")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@click.pass_context
def migrate_status(ctx: click.Context, as_json: bool) -> None:
    """Applied (with times; stamped ones marked), pending, edited-after-apply and
    missing-from-code migrations."""
    with (
        report_failures(ctx),
        open_database(ctx, need_schemas=False, need_migrations=True, read_only=True) as db,
    ):
        status = db.migration_status()
        how = {e.name: e.how for e in db.history() if e.kind == "migration"}
    if as_json:
        data = status.to_dict()
        for applied_dict in data["applied"]:
            applied_dict["how"] = how.get(applied_dict["name"], "ran")
        emit_json(data)
        return
    for applied in status.applied:
        way = how.get(applied.name, "ran")
        flag = f" ({way})" if way != "ran" else ""
        flag += " (EDITED after it was applied)" if applied.edited else ""
        flag += " (MISSING from the code)" if applied.missing else ""
        click.echo(f"applied  {applied.executed_at}  {applied.name}{flag}")
    for name in status.pending:
        click.echo(click.style(f"pending  {name}", fg="yellow"))
    if not status.applied and not status.pending:
        click.echo("no migrations")


# -- history ----------------------------------------------------------------------------------


@click.command(short_help="Every sync and migration recorded, oldest first.")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@click.pass_context
def history(ctx: click.Context, as_json: bool) -> None:
    """Every row of __hedystia_migrations, oldest first: syncs and migrations, how each was
    applied (ran, stamped, converged) and what it did."""
    with (
        report_failures(ctx),
        open_database(ctx, need_schemas=False, load_migrations=False, read_only=True) as db,
    ):
        entries = db.history()
    if as_json:
        emit_json(
            [{**vars(e), "how": e.how, "already_done": list(e.already_done)} for e in entries]
        )
        return
    if not entries:
        click.echo("no history yet")
    for entry in entries:
        click.echo(f"{entry.executed_at}  {entry.kind:<9}  {entry.how:<9}  {entry.name}")
        for statement in entry.statements:
            # A comment (a stamp, an "already done" note) is shown as written; SQL gets its ";".
            end = "" if statement.startswith("--") else ";"
            click.echo("    " + statement.replace("\n", "\n    ") + end)
