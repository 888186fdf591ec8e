"""A :class:`Plan`: the ordered operations that take a database to its models, each with the
plan's verdict on it and the exact SQL that would carry it out."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, replace

from .operations import Operation, Safety

__all__ = ["Plan", "PlannedOperation"]


@dataclass(frozen=True)
class PlannedOperation:
    """One operation of a plan, with the plan's verdict on it.

    ``safety`` says how ``sync`` treats it and ``reason`` why (for blocked and unsafe ones,
    and for safe ones that need a table rebuild). ``statements`` is exactly what the executor
    would run for it against the database the plan was made from (for an unsafe operation:
    what a migration making the change would run); it is empty for a blocked operation.
    ``rebuild`` is true when those statements rebuild the table.
    """

    operation: Operation
    safety: Safety = Safety.SAFE
    reason: str | None = None
    statements: tuple[str, ...] = ()
    rebuild: bool = False

    @property
    def kind(self) -> str:
        """The operation's kind (``add_column``, ``drop_index``, ...)."""
        return self.operation.kind

    @property
    def table(self) -> str:
        """The table the operation touches."""
        return self.operation.table

    @property
    def column(self) -> str | None:
        """The column the operation is about, where there is one."""
        return self.operation.column

    @property
    def safe(self) -> bool:
        """True when ``sync`` applies this operation."""
        return self.safety is Safety.SAFE

    @property
    def sql(self) -> str:
        """All statements as one SQL script."""
        return ";\n".join(self.statements) + (";" if self.statements else "")

    def describe(self) -> str:
        """One line for humans."""
        how = " (rebuilding the table)" if self.rebuild else ""
        return self.operation.describe() + how

    def blocked(self, reason: str) -> PlannedOperation:
        """This operation, refused: sync cannot apply it, for ``reason``."""
        return replace(self, safety=Safety.BLOCKED, reason=reason, statements=(), rebuild=False)


@dataclass(frozen=True)
class Plan:
    """Ordered :class:`PlannedOperation` values, as produced by
    :func:`hedystia_models.migrate.sync.plan_for`.

    Safe operations come first, in the order they must run, then blocked, then unsafe ones.
    ``len(plan)`` counts every operation and ``bool(plan)`` is true when there is at least one
    (the same as ``not plan.in_sync``); :attr:`safe`, :attr:`blocked` and :attr:`unsafe`
    split them by verdict.
    """

    operations: tuple[PlannedOperation, ...] = ()
    #: What the plan notices but does not count as drift, one line each: a default that lives
    #: on one side only (the model's in Python, the database's in SQL); see ``strict_defaults``.
    notes: tuple[str, ...] = ()

    def __iter__(self) -> Iterator[PlannedOperation]:
        return iter(self.operations)

    def __len__(self) -> int:
        return len(self.operations)

    def __bool__(self) -> bool:
        return bool(self.operations)

    @property
    def safe(self) -> list[PlannedOperation]:
        """Operations ``sync`` applies."""
        return [op for op in self.operations if op.safety is Safety.SAFE]

    @property
    def unsafe(self) -> list[PlannedOperation]:
        """Differences ``sync`` reports but never applies."""
        return [op for op in self.operations if op.safety is Safety.UNSAFE]

    @property
    def blocked(self) -> list[PlannedOperation]:
        """Needed changes ``sync`` cannot apply (it raises :class:`SyncError` instead)."""
        return [op for op in self.operations if op.safety is Safety.BLOCKED]

    @property
    def in_sync(self) -> bool:
        """True when database and models match exactly."""
        return not self.operations

    def sql(self) -> list[str]:
        """Every statement ``sync`` would run, in order."""
        return [statement for op in self.safe for statement in op.statements]

    def to_dict(self) -> dict[str, object]:
        """A JSON-ready description of the plan."""
        return {
            "in_sync": self.in_sync,
            "notes": list(self.notes),
            "operations": [
                {
                    "kind": op.kind,
                    "table": op.table,
                    "column": op.column,
                    "safety": op.safety.value,
                    "description": op.describe(),
                    "reason": op.reason,
                    "sql": list(op.statements),
                }
                for op in self.operations
            ],
        }

    def __str__(self) -> str:
        notes = (
            ["Notes (not drift):", *(f"  * {note}" for note in self.notes)] if self.notes else []
        )
        if not self.operations:
            return "\n".join(["Database matches the models: nothing to do.", *notes])
        lines: list[str] = []
        if self.safe:
            lines.append("Will apply:")
            for op in self.safe:
                lines.append(f"  + {op.describe()}")
                for statement in op.statements:
                    body = statement.replace("\n", "\n      ")
                    lines.append(f"      {body};")
        for title, mark, ops in (
            ("Cannot apply (sync refuses):", "!", self.blocked),
            ("Will not apply (needs a migration):", "-", self.unsafe),
        ):
            if ops:
                lines.append(title)
            for op in ops:
                lines.append(f"  {mark} {op.describe()}")
                if op.reason:
                    lines.append(f"      {op.reason}")
        return "\n".join([*lines, *notes])
