"""The global options of ``hedystia-models`` (``--schemas``, ``--busy-timeout``, ``--verbose``...),
as the top-level group stores them for its commands."""

from __future__ import annotations

from dataclasses import dataclass

import click

__all__ = ["DEFAULT_BUSY_TIMEOUT", "GlobalOptions", "global_options"]

#: Seconds the CLI waits for another process's write lock unless ``--busy-timeout`` says.
DEFAULT_BUSY_TIMEOUT = 5.0


@dataclass(frozen=True)
class GlobalOptions:
    """What was given before the command name. ``schemas``, ``migrations`` and ``connection``
    are the flags as typed (``None`` when absent); :mod:`.config` resolves them."""

    schemas: str | None = None
    migrations: str | None = None
    connection: str | None = None
    busy_timeout: float = DEFAULT_BUSY_TIMEOUT
    verbose: bool = False


def global_options(ctx: click.Context) -> GlobalOptions:
    """The options of the top-level group running ``ctx``; the defaults when a command is
    invoked on its own, without the group."""
    options = ctx.find_root().obj
    if options is None:
        return GlobalOptions()
    if not isinstance(options, GlobalOptions):
        raise TypeError(f"expected GlobalOptions as the root context object, got {options!r}")
    return options
