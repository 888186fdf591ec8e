"""``sync`` and ``check``: compare the database with the models, then apply the safe part of the
difference (``sync``) or fail when there is any difference or migration left to run (``check``).
"""

from __future__ import annotations

import logging
from collections.abc import Callable

import click

from ..database import Database
from ..migrate.fresh import check_fresh
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


@click.command(short_help="Exit 1 when the database and the models or migrations differ.")
@click.option(
    "--fresh",
    is_flag=True,
    help="Also replay the models and migrations on a scratch database and compare it with "
    "the models and this database.",
)
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@click.pass_context
def check(ctx: click.Context, fresh: bool, as_json: bool) -> None:
    """Exit 0 only when the database matches the models, no migration is pending and no
    applied migration was edited; otherwise exit 1 listing what differs. Meant for CI.

    With --fresh, the whole history must also replay on an empty database (in a temporary
    file) to exactly the models, and to this database's schema when its file exists."""
    fresh_problems: list[str] = []
    compared = False
    with report_failures(ctx), open_database(ctx, read_only=True) as db:
        problems = db.check()
        if fresh and db.engine == "postgres":
            # Replayed in a scratch schema of the same database, compared with this one.
            compared = True
            fresh_problems = _quietly(ctx, db.check_fresh)
        elif fresh:
            compared = _file_backed(db)
            fresh_problems = _quietly(
                ctx,
                lambda: check_fresh(
                    db.models,
                    db.migrations,
                    against=db.sqlite if compared else None,
                    ignore_tables=db.ignore_tables,
                ),
            )
    if as_json:
        data: dict[str, object] = {"ok": not (problems or fresh_problems), "problems": problems}
        if fresh:
            data["fresh"] = fresh_problems
        emit_json(data)
    else:
        if problems:
            click.echo(click.style("database and models differ:", fg="red"))
            for problem in problems:
                click.echo(f"  - {problem}")
        else:
            click.echo(click.style("ok: database matches the models", fg="green"))
        if fresh_problems:
            heading = "fresh start (models and migrations replayed on an empty database):"
            click.echo(click.style(heading, fg="red"))
            for problem in fresh_problems:
                click.echo(f"  - {problem}")
        elif fresh:
            target = "the models and this database" if compared else "the models"
            click.echo(
                click.style(f"ok: a fresh start replays the history to {target}", fg="green")
            )
    if problems or fresh_problems:
        ctx.exit(1)


def _quietly(ctx: click.Context, run: Callable[[], list[str]]) -> list[str]:
    """``run()`` with the package's log held to errors unless --verbose: a scratch start-up's
    sync logs what it leaves alone, and the list ``run`` returns says it."""
    logger = logging.getLogger("hedystia_models")
    level = logger.level
    if not global_options(ctx).verbose:
        logger.setLevel(logging.ERROR)
    try:
        return run()
    finally:
        logger.setLevel(level)


def _file_backed(db: Database) -> bool:
    """True when ``db`` is a database file (``check`` opens a file that does not exist as an
    empty in-memory database, which there is no point comparing)."""
    rows = db.sqlite.execute("PRAGMA database_list").fetchall()
    return any(row[1] == "main" and row[2] for row in rows)
