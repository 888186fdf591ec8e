"""The ``hedystia-models`` group itself: its global options, the commands it holds, and how it
reports a bug (a traceback and exit status 3)."""

from __future__ import annotations

import traceback
from typing import Any

import click

from .migrate import history, migrate
from .options import DEFAULT_BUSY_TIMEOUT, GlobalOptions
from .scaffold import migration, schema
from .sync import check, sync

__all__ = ["ProgramGroup", "main"]


class ProgramGroup(click.Group):
    """The top-level group: an unexpected exception (a bug, not a user mistake) prints its
    traceback and exits with status 3, so it cannot be mistaken for ``check``'s 1."""

    def invoke(self, ctx: click.Context) -> Any:
        """Run the command; report an exception that is not click's own as a bug."""
        try:
            return super().invoke(ctx)
        except (click.ClickException, click.exceptions.Exit, click.Abort):
            raise
        except Exception:
            traceback.print_exc()
            click.echo(
                "error: internal error in hedystia-models (the traceback above); please report it",
                err=True,
            )
            ctx.exit(3)


def _check_timeout(ctx: click.Context, param: click.Parameter, value: float) -> float:
    """A number of seconds: 0 or more and finite (``nan`` and ``inf`` pass ``type=float``)."""
    if not 0 <= value < float("inf"):
        raise click.BadParameter(f"{value} is not a number of seconds (0 or more)")
    return value


@click.group(
    "hedystia-models",
    cls=ProgramGroup,
    context_settings={"help_option_names": ["-h", "--help"]},
)
@click.option("--schemas", help="Module holding the Table models, e.g. app.schemas.")
@click.option("--migrations", help="Directory of migration files (default database/migrations).")
@click.option(
    "--connection",
    help="SQLite file or postgresql:// URL (default: $HEDYSTIA_DATABASE, then pyproject).",
)
@click.option(
    "--busy-timeout",
    type=float,
    callback=_check_timeout,
    default=DEFAULT_BUSY_TIMEOUT,
    show_default=True,
    help="Seconds to wait for another process's write lock.",
)
@click.option("--verbose", "-v", is_flag=True, help="Show tracebacks on errors.")
@click.version_option(package_name="hedystia-models", prog_name="hedystia-models")
@click.pass_context
def main(
    ctx: click.Context,
    schemas: str | None,
    migrations: str | None,
    connection: str | None,
    busy_timeout: float,
    verbose: bool,
) -> None:
    """Pydantic models as the single source of truth for a SQLite or PostgreSQL schema.

    Settings come from [tool.hedystia-models] in pyproject.toml (schemas, migrations,
    connection); the HEDYSTIA_DATABASE environment variable overrides the connection, and
    flags override everything.
    """
    ctx.obj = GlobalOptions(
        schemas=schemas,
        migrations=migrations,
        connection=connection,
        busy_timeout=busy_timeout,
        verbose=verbose,
    )


main.add_command(schema)
main.add_command(migration)
main.add_command(migrate)
main.add_command(history)
main.add_command(sync)
main.add_command(check)
