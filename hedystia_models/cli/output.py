"""Output helpers shared by the commands: JSON for ``--json`` and paths as the user sees them."""

from __future__ import annotations

import json
from pathlib import Path

import click

__all__ = ["emit_json", "shown"]


def emit_json(data: object) -> None:
    """Print ``data`` as indented JSON on stdout (values JSON does not know, as strings)."""
    click.echo(json.dumps(data, indent=2, default=str))


def shown(path: Path) -> str:
    """``path`` relative to the working directory when it is below it, else as given."""
    try:
        return str(path.resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(path)
