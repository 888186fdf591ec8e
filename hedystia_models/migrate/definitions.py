"""What a migration is: :class:`MigrationDefinition`, built with :func:`migration`.

A definition is a name, an ``up`` step, an optional ``down`` step and whether it runs in a
transaction. Its checksum hashes the name and the source of both steps, so a migration edited
after it was applied can be told apart (:class:`~hedystia_models.migrate.runner.Migrator`).
"""

from __future__ import annotations

import hashlib
import inspect
import textwrap
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from ..errors import MigrationError
from ..schema.quoting import identifier_problem
from .context import MigrationContext

__all__ = ["MigrationDefinition", "Step", "migration"]

#: A migration step: ``step(ctx)``, a plain function or ``async def``.
Step = Callable[[MigrationContext], Any]


def _source_of(function: Callable[..., Any] | None) -> str:
    if function is None:
        return ""
    try:
        return textwrap.dedent(inspect.getsource(function))
    except (OSError, TypeError):
        code = getattr(function, "__code__", None)
        if code is None:
            return repr(function)
        return repr((code.co_code, code.co_consts, code.co_names))


@dataclass(frozen=True)
class MigrationDefinition:
    """A named migration. Build it with :func:`migration`."""

    name: str
    up: Step
    down: Step | None = None
    transactional: bool = True
    checksum: str = field(default="", compare=False)

    def __post_init__(self) -> None:
        if not self.checksum:
            digest = hashlib.sha256()
            for part in (self.name, _source_of(self.up), _source_of(self.down)):
                digest.update(part.encode())
                digest.update(b"\x00")
            object.__setattr__(self, "checksum", digest.hexdigest()[:16])


def migration(
    name: str, *, up: Step, down: Step | None = None, transactional: bool = True
) -> MigrationDefinition:
    """Define a migration.

    :param name: unique name; it is what ``__hedystia_migrations`` records.
    :param up: ``up(ctx)`` applies the change; may be ``async def``.
    :param down: ``down(ctx)`` undoes it; without it the migration cannot be rolled back.
    :param transactional: ``False`` runs ``up``/``down`` outside a transaction, for
        statements SQLite refuses inside one (``VACUUM``); the tracking row is still written.
    """
    if not isinstance(name, str) or not name.strip():
        raise MigrationError(f"a migration needs a non-empty name (got {name!r})")
    problem = identifier_problem(name)  # the history stores it as UTF-8 text
    if problem is not None:
        raise MigrationError(
            f"a migration's name must be text SQLite can store: {name!r} {problem}"
        )
    if not callable(up):
        raise MigrationError(f"migration {name!r}: up must be callable")
    if down is not None and not callable(down):
        raise MigrationError(f"migration {name!r}: down must be callable or None")
    for direction, step in (("up", up), ("down", down)):
        if inspect.isgeneratorfunction(step) or inspect.isasyncgenfunction(step):
            raise MigrationError(
                f"migration {name!r}: {direction} is a generator function (it contains yield), "
                "so calling it would run none of its body; remove the yield",
                name,
            )
    if not isinstance(transactional, bool):
        raise MigrationError(f"migration {name!r}: transactional must be True or False")
    return MigrationDefinition(name=name, up=up, down=down, transactional=transactional)
