"""``migrate up``, ``migrate down``, ``migrate status`` and ``history``: applying, rolling back
and inspecting migrations, and listing what ``__hedystia_migrations`` records.

None of these import the schemas module. The ``migrate`` commands need the migrations
directory; ``history`` does not load migration files at all.
"""

from __future__ import annotations

import click

from .errors import report_failures
from .output import emit_json
from .project import open_database

__all__ = ["history", "migrate", "migrate_down", "migrate_status", "migrate_up"]


@click.group()
def migrate() -> None:
    """Apply, roll back and inspect migrations."""


@migrate.command("up")
@click.pass_context
def migrate_up(ctx: click.Context) -> None:
    """Apply every pending migration, in order."""
    with report_failures(ctx), open_database(ctx, need_schemas=False, need_migrations=True) as db:
        applied = db.migrate_up()
    if not applied:
        click.echo("no pending migrations")
    for name in applied:
        click.echo(f"applied {name}")


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


@migrate.command("status")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@click.pass_context
def migrate_status(ctx: click.Context, as_json: bool) -> None:
    """Applied (with times), pending, edited-after-apply and missing-from-code migrations."""
    with (
        report_failures(ctx),
        open_database(ctx, need_schemas=False, need_migrations=True, read_only=True) as db,
    ):
        status = db.migration_status()
    if as_json:
        emit_json(status.to_dict())
        return
    for applied in status.applied:
        flag = " (EDITED after it was applied)" if applied.edited else ""
        flag += " (MISSING from the code)" if applied.missing else ""
        click.echo(f"applied  {applied.executed_at}  {applied.name}{flag}")
    for name in status.pending:
        click.echo(click.style(f"pending  {name}", fg="yellow"))
    if not status.applied and not status.pending:
        click.echo("no migrations")


@click.command()
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@click.pass_context
def history(ctx: click.Context, as_json: bool) -> None:
    """Every row of __hedystia_migrations: syncs and migrations, oldest first."""
    with (
        report_failures(ctx),
        open_database(ctx, need_schemas=False, load_migrations=False, read_only=True) as db,
    ):
        entries = db.history()
    if as_json:
        emit_json([vars(e) for e in entries])
        return
    if not entries:
        click.echo("no history yet")
    for entry in entries:
        click.echo(f"{entry.executed_at}  {entry.kind:<9}  {entry.name}")
        for statement in entry.statements:
            click.echo("    " + statement.replace("\n", "\n    ") + ";")
