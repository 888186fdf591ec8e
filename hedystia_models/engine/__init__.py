"""Database engines: everything that differs from one database to another.

An engine turns :mod:`~hedystia_models.migrate.operations` into SQL and runs it (its
executor), reads the live schema into specs (its introspection), renders DDL and holds the
write lock. The stages around it (models, diff, plan, render, rows) are engine-neutral and
only meet an engine through :class:`Executor` and the
:class:`~hedystia_models.schema.state.DatabaseState` its introspection returns. SQLite is
the engine today (:mod:`hedystia_models.engine.sqlite`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .base import Compiled, Executor

__all__ = ["Compiled", "Executor"]


def __getattr__(name: str) -> Any:
    # Defined in base.py, imported on first use: the connection code under engine/sqlite/
    # needs neither, so ``import hedystia_models`` does not build them (issue 14).
    if name in __all__:
        from . import base

        value = getattr(base, name)
        globals()[name] = value
        return value
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
