"""Hand-written migrations: ``migration(name, up=..., down=...)``, loading, running, rolling back.

Migrations share ``__hedystia_migrations`` with sync, so a database has one timeline of every
schema change. Each migration runs once, in order, in its own transaction together with its
tracking row; a failure rolls back everything it did and stops the run.

This module gathers the public names of three modules, one job each:
:mod:`~hedystia_models.migrate.definitions` (:func:`migration`, :class:`MigrationDefinition`),
:mod:`~hedystia_models.migrate.loading` (:func:`load_migrations`) and
:mod:`~hedystia_models.migrate.runner` (:class:`Migrator`, :class:`MigrationStatus`,
:class:`AppliedMigration`).
"""

from __future__ import annotations

from .definitions import MigrationDefinition, migration
from .loading import load_migrations
from .runner import AppliedMigration, MigrationStatus, Migrator

__all__ = [
    "AppliedMigration",
    "MigrationDefinition",
    "MigrationStatus",
    "Migrator",
    "load_migrations",
    "migration",
]
