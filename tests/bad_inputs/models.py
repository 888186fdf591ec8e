"""Bad inputs in model classes: each is refused when the class is created."""

from __future__ import annotations

from pathlib import Path

from hedystia_models import Field, SchemaError, Table

from . import bad_input


@bad_input(
    "Models",
    "A default its own field refuses (`age: int = Field(default=-1, ge=0)`)",
    SchemaError,
    "Person.age: default -1 is not valid for the field: Input should be greater than or equal to 0",
)
def default_breaks_its_field(tmp: Path) -> None:
    class Person(Table, table="people"):
        id: int | None = Field(default=None, primary_key=True)
        age: int = Field(default=-1, ge=0)
