"""Render :mod:`~hedystia_models.operations` as Python source for migration files.

Specs are written out in full (``TableSpec(...)``, ``ColumnSpec(...)``) rather than by importing
the models, so a generated migration keeps meaning what it meant when it was written, however
the models change later. Unsafe and blocked operations are written as comments with their
reason: never applied silently, never dropped silently.
"""

from __future__ import annotations

import re
from dataclasses import fields
from typing import Any

from .operations import (
    AddColumn,
    AlterColumn,
    AlterIndex,
    AlterTable,
    CreateIndex,
    CreateTable,
    DropColumn,
    DropIndex,
    DropTable,
    Operation,
    Safety,
)
from .plan import Plan
from .spec import CheckSpec, ColumnSpec, ForeignKeySpec, IndexSpec, Reference, TableSpec

__all__ = ["render_migration", "render_operation", "render_value"]

_SPEC_TYPES = (TableSpec, ColumnSpec, IndexSpec, Reference, ForeignKeySpec, CheckSpec)


def render_value(value: Any, indent: int = 0) -> str:
    """Python source for a spec value (only fields that differ from their default)."""
    pad = " " * indent
    if isinstance(value, _SPEC_TYPES):
        args = []
        for f in fields(value):
            if f.name == "triggers":
                continue
            item = getattr(value, f.name)
            if f.default is not item and item != f.default:
                args.append(f"{f.name}={render_value(item, indent + 4)}")
        inline = f"{type(value).__name__}({', '.join(args)})"
        if len(inline) + indent <= 88 and "\n" not in inline:
            return inline
        inner = ",\n".join(f"{pad}    {a}" for a in args)
        return f"{type(value).__name__}(\n{inner},\n{pad})"
    if isinstance(value, tuple):
        if not value:
            return "()"
        items = [render_value(v, indent + 4) for v in value]
        inline = "(" + ", ".join(items) + ("," if len(items) == 1 else "") + ")"
        if len(inline) + indent <= 88 and "\n" not in inline:
            return inline
        inner = "".join(f"{pad}    {item},\n" for item in items)
        return f"(\n{inner}{pad})"
    return repr(value)


def _call(method: str, *args: Any, indent: int = 4, **kwargs: Any) -> str:
    """``ctx.schema.method(...)``, one argument per line when it does not fit in 88 columns."""
    rendered = [render_value(a, indent) for a in args]
    rendered += [f"{k}={render_value(v, indent)}" for k, v in kwargs.items()]
    inline = f"ctx.schema.{method}({', '.join(rendered)})"
    if len(inline) + indent <= 88 and "\n" not in inline:
        return inline
    rendered = [render_value(a, 4) for a in args]
    rendered += [f"{k}={render_value(v, 4)}" for k, v in kwargs.items()]
    body = "".join(f"    {item},\n" for item in rendered)
    return f"ctx.schema.{method}(\n{body})"


def render_operation(op: Operation, indent: int = 4) -> list[str]:
    """Source lines (without indentation) for one operation; unsafe ones are comments."""
    code: list[str]
    if isinstance(op, CreateTable):
        code = [_call("create_table", op.spec, indent=indent)]
    elif isinstance(op, DropTable):
        code = [_call("drop_table", op.table)]
    elif isinstance(op, AddColumn):
        code = [_call("add_column", op.table, op.spec.name, op.spec, indent=indent)]
    elif isinstance(op, DropColumn):
        code = [_call("drop_column", op.table, op.spec.name)]
    elif isinstance(op, CreateIndex):
        kwargs: dict[str, Any] = {"name": op.index.name}
        if op.index.unique:
            kwargs["unique"] = True
        code = [_call("add_index", op.table, list(op.index.columns), **kwargs)]
    elif isinstance(op, DropIndex):
        code = [_call("drop_index", op.table, op.index.name)]
    elif isinstance(op, AlterIndex):
        code = [
            _call("drop_index", op.table, op.actual.name),
            _call(
                "add_index",
                op.table,
                list(op.desired.columns),
                unique=op.desired.unique,
                name=op.desired.name,
            ),
        ]
    elif isinstance(op, (AlterColumn, AlterTable)):
        code = [
            f"# {op.describe()}",
            "# SQLite cannot alter this in place: rebuild the table with ctx.sql(...) or",
            "# ctx.schema.create_table under a new name, copy the rows, then swap the tables.",
        ]
        return [f"# UNSAFE: {op.describe()}", *code[1:]]
    else:  # pragma: no cover - every operation kind is handled above
        raise TypeError(f"cannot render {op!r}")
    if op.safety is Safety.SAFE:
        return "\n".join(code).splitlines()
    label = "UNSAFE" if op.safety is Safety.UNSAFE else "BLOCKED"
    lines = [f"# {label}: {op.reason or op.describe()}"]
    for line in "\n".join(code).splitlines():
        lines.append(f"# {line}")
    return lines


def _body(ops: list[Operation]) -> list[str]:
    lines: list[str] = []
    for op in ops:
        lines.extend(render_operation(op))
    return _with_pass(lines)


def _with_pass(lines: list[str]) -> list[str]:
    """A function body that is only comments is a syntax error: end it with ``pass``."""
    if all(line.lstrip().startswith("#") for line in lines):
        return [*lines, "pass"]
    return lines


def _reverse_lines(ops: list[Operation]) -> list[str]:
    lines: list[str] = []
    for op in reversed(ops):
        reverse = op.reverse()
        if reverse is None or isinstance(op, (AlterColumn, AlterTable)):
            continue
        if op.safety is Safety.SAFE:
            lines.extend(render_operation(reverse))
        else:
            lines.append(f"# undo of an operation left commented out in up: {op.describe()}")
            lines.extend(
                line if line.startswith("#") else f"# {line}" for line in render_operation(reverse)
            )
    return _with_pass(lines)


def render_migration(name: str, plan: Plan, *, variable: str = "migration_") -> str:
    """A complete migration file taking the database to the models, and back in ``down``."""
    ops = list(plan.operations)
    up = "\n".join(f"    {line}" for line in _body(ops))
    down = "\n".join(f"    {line}" for line in _reverse_lines(ops))
    # Import every spec class either function mentions, commented-out code included, so that
    # uncommenting an operation (in up or in down) is enough to make it run.
    needed = sorted(
        cls.__name__ for cls in _SPEC_TYPES if re.search(rf"\b{cls.__name__}\(", up + down)
    )
    imports = ["migration", *needed]
    return (
        f'"""Migration {name}: generated by `hedystia-models migration create --auto`.\n\n'
        "Review it before applying: commented-out operations are differences sync will not\n"
        'apply on its own and that need your decision.\n"""\n\n'
        f"from hedystia_models import {', '.join(sorted(imports))}\n"
        "from hedystia_models.context import MigrationContext\n\n\n"
        "def up(ctx: MigrationContext) -> None:\n"
        f"{up}\n\n\n"
        "def down(ctx: MigrationContext) -> None:\n"
        f"{down}\n\n\n"
        f"{variable} = migration({name!r}, up=up, down=down)\n"
    )
