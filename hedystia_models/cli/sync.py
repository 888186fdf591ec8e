"""``sync`` and ``check``: compare the database with the models, then apply the safe part of the
difference (``sync``) or fail when there is any difference or migration left to run (``check``).
"""

from __future__ import annotations

import logging

import click

from .errors import report_failures
from .options import global_options
from .output import emit_json
from .project import open_database

__all__ = ["check", "sync"]


@click.command()
@click.option("--dry-run", is_flag=True, help="Print the plan without applying it.")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output (with --dry-run).")
@click.pass_context
def sync(ctx: click.Context, dry_run: bool, as_json: bool) -> None:
    """Print the plan (SQL and unsafe findings) and apply its safe part."""
    with report_failures(ctx), open_database(ctx, load_migrations=False, read_only=dry_run) as db:
        plan = db.plan()
        if as_json:
            emit_json(plan.to_dict())
        else:
            click.echo(str(plan))
        if not dry_run and (plan.safe or plan.blocked):
            # The plan printed above already lists what sync leaves alone; its log warnings
            # would repeat that on stderr (kept with --verbose).
            logger = logging.getLogger("hedystia_models")
            level = logger.level
            if not global_options(ctx).verbose:
                logger.setLevel(logging.ERROR)
            try:
                db.sync()
            finally:
                logger.setLevel(level)
            if not as_json:
                click.echo(click.style("applied", fg="green"))


@click.command()
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@click.pass_context
def check(ctx: click.Context, as_json: bool) -> None:
    """Exit 0 only when the database matches the models, no migration is pending and no
    applied migration was edited; otherwise exit 1 listing what differs. Meant for CI."""
    with report_failures(ctx), open_database(ctx, read_only=True) as db:
        problems = db.check()
    if as_json:
        emit_json({"ok": not problems, "problems": problems})
    elif problems:
        click.echo(click.style("database and models differ:", fg="red"))
        for problem in problems:
            click.echo(f"  - {problem}")
    else:
        click.echo(click.style("ok: database matches the models", fg="green"))
    if problems:
        ctx.exit(1)
