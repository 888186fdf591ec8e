"""A :class:`Plan`: the ordered operations that take a database to its models."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from .operations import Operation, Safety

__all__ = ["Plan"]


@dataclass(frozen=True)
class Plan:
    """Ordered operations, as produced by :func:`hedystia_models.migrate.diff.diff`.

    ``bool(plan)`` is true when ``sync`` has something to do: a safe operation to apply or a
    blocked one to refuse. Unsafe findings (drift that ``sync`` never touches) are listed in
    :attr:`unsafe`; :attr:`in_sync` is true only when there are no operations at all.
    """

    operations: tuple[Operation, ...] = ()

    def __iter__(self) -> Iterator[Operation]:
        return iter(self.operations)

    def __len__(self) -> int:
        return len(self.operations)

    def __bool__(self) -> bool:
        return any(op.safety is not Safety.UNSAFE for op in self.operations)

    @property
    def safe(self) -> list[Operation]:
        """Operations ``sync`` applies."""
        return [op for op in self.operations if op.safety is Safety.SAFE]

    @property
    def unsafe(self) -> list[Operation]:
        """Differences ``sync`` reports but never applies."""
        return [op for op in self.operations if op.safety is Safety.UNSAFE]

    @property
    def blocked(self) -> list[Operation]:
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
        if not self.operations:
            return "Database matches the models: nothing to do."
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
        return "\n".join(lines)
