"""``database(...)`` arguments and the migration calls on a ``Database``: bad values are named
``HedystiaError`` subclasses, never a raw ``TypeError``."""

from __future__ import annotations

from typing import Any

import pytest

from hedystia_models import ConfigurationError, MigrationError, database, migration


@pytest.mark.parametrize("timeout", ["x", None, True, -1, float("inf")])
def test_a_bad_busy_timeout_is_a_configuration_error(timeout: Any) -> None:
    with pytest.raises(ConfigurationError, match="busy_timeout must be"):
        database(schemas=[], connection=":memory:", busy_timeout=timeout)


@pytest.mark.parametrize("steps", ["1", 1.5, None, False])
def test_migrate_down_takes_a_whole_number_of_steps(steps: Any) -> None:
    with (
        database(schemas=[], connection=":memory:") as db,
        pytest.raises(MigrationError, match="steps must be a whole number"),
    ):
        db.migrate_down(steps)


def test_transactional_must_be_a_bool() -> None:
    with pytest.raises(MigrationError, match="transactional must be True or False"):
        migration("m", up=lambda ctx: None, transactional="no")  # type: ignore[arg-type]
