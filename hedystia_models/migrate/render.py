"""Render :mod:`~hedystia_models.migrate.operations` as Python source for migration files.

Specs are written out in full (``TableSpec(...)``, ``ColumnSpec(...)``) rather than by importing
the models, so a generated migration keeps meaning what it meant when it was written, however
the models change later. Unsafe and blocked operations are written as comments with their
reason: never applied silently, never dropped silently.
"""

from __future__ import annotations

import re
import textwrap
from dataclasses import fields, replace
from typing import Any

from ..engine.sqlite.ddl import create_index_sql as create_index_text
from ..errors import HedystiaError
from ..schema.spec import (
    CheckSpec,
    ColumnSpec,
    ForeignKeySpec,
    IndexExpression,
    IndexSpec,
    Reference,
    TableSpec,
)
from ..schema.sqltext import same_statement
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
    RenameColumn,
    Safety,
)
from .plan import Plan, PlannedOperation

__all__ = ["WIDTH", "render_migration", "render_operation", "render_value"]

_SPEC_TYPES = (
    TableSpec,
    ColumnSpec,
    IndexSpec,
    IndexExpression,
    Reference,
    ForeignKeySpec,
    CheckSpec,
)

#: Generated files fit in this many columns, comments and commented-out code included.
WIDTH = 88


def render_value(value: Any, indent: int = 0, *, base: int = 0, extra: int = 0) -> str:
    """Python source for a spec value (only fields that differ from their default).

    ``indent`` is the indentation of the line the value starts on (continuation lines are
    indented from it); ``base`` is added to every line when the text is placed in the file
    (a function body's indentation, a ``# ``); ``extra`` counts the other characters on the
    value's line (``name=`` before it, ``,`` after it). The value goes on one line when that
    line fits in :data:`WIDTH` columns.
    """
    pad = " " * indent
    if value is Ellipsis:
        return "..."

    def fits(text: str) -> bool:
        return "\n" not in text and base + indent + extra + len(text) <= WIDTH

    if isinstance(value, _SPEC_TYPES):
        args = []
        for f in fields(value):
            if not f.compare:  # what a live database holds beside the spec (stored SQL)
                continue
            item = getattr(value, f.name)
            if f.default is not item and item != f.default:
                rendered = render_value(item, indent + 4, base=base, extra=len(f.name) + 2)
                args.append(f"{f.name}={rendered}")
        inline = f"{type(value).__name__}({', '.join(args)})"
        if fits(inline):
            return inline
        inner = ",\n".join(f"{pad}    {a}" for a in args)
        return f"{type(value).__name__}(\n{inner},\n{pad})"
    if isinstance(value, tuple):
        if not value:
            return "()"
        items = [render_value(v, indent + 4, base=base, extra=1) for v in value]
        inline = "(" + ", ".join(items) + ("," if len(items) == 1 else "") + ")"
        if fits(inline):
            return inline
        inner = "".join(f"{pad}    {item},\n" for item in items)
        return f"(\n{inner}{pad})"
    if isinstance(value, str) and not fits(repr(value)):
        pieces = _string_pieces(value, WIDTH - base - indent - 4)
        if len(pieces) > 1:
            inner = "".join(f"{pad}    {piece}\n" for piece in pieces)
            return f"(\n{inner}{pad})"
    return repr(value)


def _string_pieces(text: str, width: int) -> list[str]:
    """``text`` as string literals of at most ``width`` columns each (a word longer than that
    stays whole), split after spaces, which Python joins back into ``text`` exactly."""
    pieces: list[str] = []
    current = ""
    for word in re.findall(r"\S*\s*", text):
        if current and len(repr(current + word)) > width:
            pieces.append(repr(current))
            current = ""
        current += word
    if current or not pieces:
        pieces.append(repr(current))
    return pieces


def _call(method: str, *args: Any, indent: int = 4, **kwargs: Any) -> str:
    """``ctx.schema.method(...)``, one argument per line when it does not fit in
    :data:`WIDTH` columns; ``indent`` is where the call starts in the file."""
    parts: list[tuple[str, Any]] = [("", a) for a in args]
    parts += [(f"{k}=", v) for k, v in kwargs.items()]
    rendered = [
        key + render_value(value, 4, base=indent, extra=len(key) + 1) for key, value in parts
    ]
    inline = f"ctx.schema.{method}({', '.join(rendered)})"
    if len(inline) + indent <= WIDTH and "\n" not in inline:
        return inline
    body = "".join(f"    {item},\n" for item in rendered)
    return f"ctx.schema.{method}(\n{body})"


def _comment(text: str, indent: int) -> list[str]:
    """``text`` as ``# `` comment lines that fit in :data:`WIDTH` columns at ``indent``."""
    width = max(WIDTH - indent - 2, 40)
    lines = textwrap.wrap(text, width, break_long_words=False, break_on_hyphens=False)
    return [f"# {line}" for line in lines or [""]]


def _sql_call(sql: str, indent: int) -> str:
    """``ctx.sql("...")`` for a statement the ``ctx.schema`` calls cannot express; a long one
    is split into string literals, one per line."""
    inline = f"ctx.sql({sql!r})"
    if indent + len(inline) <= WIDTH:
        return inline
    pieces = _string_pieces(sql, WIDTH - indent - 4)
    return "ctx.sql(\n" + "".join(f"    {piece}\n" for piece in pieces) + ")"


def _expressible(table: str, index: IndexSpec) -> bool:
    """True when ``add_index`` (or an ``IndexSpec`` in ``create_table``) makes exactly
    ``index``: plain column keys, no ``WHERE``, and stored SQL (if any) that says no more
    (no ``DESC``, no ``COLLATE``)."""
    if index.has_expressions or index.where is not None:
        return False
    return index.sql is None or same_statement(
        index.sql, create_index_text(table, replace(index, sql=None))
    )


def _index_code(table: str, index: IndexSpec, indent: int) -> str:
    """``add_index`` for an index it can express; its SQL through ``ctx.sql`` otherwise."""
    if not _expressible(table, index):
        return _sql_call(index.sql or create_index_text(table, index), indent)
    kwargs: dict[str, Any] = {"name": index.name}
    if index.unique:
        kwargs["unique"] = True
    return _call("add_index", table, list(index.column_names), indent=indent, **kwargs)


def _create_table_code(op: CreateTable, indent: int) -> list[str]:
    """``create_table``, then what a spec of a live table holds beside it, through
    ``ctx.sql``: indexes a spec cannot express and triggers, so a dropped table comes back as
    it was."""
    kept = tuple(i for i in op.spec.indexes if _expressible(op.table, i))
    others = [i for i in op.spec.indexes if i not in kept]
    code = [_call("create_table", replace(op.spec, indexes=kept), indent=indent)]
    code += [_index_code(op.table, index, indent) for index in others]
    code += [_sql_call(trigger, indent) for trigger in op.spec.triggers]
    return code


def _code(op: Operation, indent: int) -> list[str]:
    """The ``ctx.schema`` calls of ``op`` as source lines, for a call starting at ``indent``."""
    code: list[str]
    if isinstance(op, CreateTable):
        code = _create_table_code(op, indent)
    elif isinstance(op, DropTable):
        code = [_call("drop_table", op.table, indent=indent)]
    elif isinstance(op, AddColumn):
        code = [_call("add_column", op.table, op.spec.name, op.spec, indent=indent)]
    elif isinstance(op, DropColumn):
        code = [_call("drop_column", op.table, op.spec.name, indent=indent)]
    elif isinstance(op, RenameColumn):
        code = [_call("rename_column", op.table, op.old, op.new, indent=indent)]
    elif isinstance(op, AlterColumn):
        code = [_call("alter_column", op.table, op.actual.name, op.desired, indent=indent)]
    elif isinstance(op, CreateIndex):
        code = [_index_code(op.table, op.index, indent)]
    elif isinstance(op, DropIndex):
        code = [_call("drop_index", op.table, op.index.name, indent=indent)]
    elif isinstance(op, AlterIndex):
        code = [
            _call("drop_index", op.table, op.actual.name, indent=indent),
            _index_code(op.table, op.desired, indent),
        ]
    else:  # pragma: no cover - AlterTable is rendered as a comment by the callers
        raise HedystiaError(f"cannot render {op.describe()}")
    return "\n".join(code).splitlines()


def _commented(op: Operation, indent: int) -> list[str]:
    return [f"# {line}" for line in _code(op, indent + 2)]


def render_operation(planned: PlannedOperation, indent: int = 4) -> list[str]:
    """Source lines (without indentation) for one planned operation; unsafe and blocked ones
    are comments with their reason. ``indent`` is the indentation the lines get in the file,
    so that they fit in :data:`WIDTH` columns."""
    op = planned.operation
    if isinstance(op, AlterColumn):
        lines = _comment(f"UNSAFE: {op.describe()}", indent)
        lines += _comment(
            "To make the change, uncomment this: the table is rebuilt with its rows, which "
            "must fit the new definition (fix them first with ctx.sql if needed).",
            indent,
        )
        return [*lines, *_commented(op, indent)]
    if isinstance(op, AlterTable):
        return [
            *_comment(f"UNSAFE: {op.describe()}", indent),
            "# SQLite cannot alter this in place: rebuild the table with ctx.sql(...) or",
            "# ctx.schema.create_table under a new name, copy the rows, then swap the tables.",
        ]
    if planned.safety is Safety.SAFE:
        return _code(op, indent)
    label = "UNSAFE" if planned.safety is Safety.UNSAFE else "BLOCKED"
    lines = _comment(f"{label}: {planned.reason or op.describe()}", indent)
    if isinstance(op, AddColumn) and planned.safety is Safety.BLOCKED:
        lines += _comment(
            "To add it, uncomment this and replace ... with the value existing rows get:",
            indent,
        )
        call = _call(
            "add_column", op.table, op.spec.name, op.spec, indent=indent + 2, fill=Ellipsis
        )
        return [*lines, *(f"# {line}" for line in call.splitlines())]
    return [*lines, *_commented(op, indent)]


def _ordered(ops: list[PlannedOperation]) -> list[PlannedOperation]:
    """The plan's operations, with the commented-out column drops moved after the other
    differences. Dropping a column drops its indexes with it, so a ``drop_index`` written
    after it would fail once both are uncommented; and ``down``, which runs the undos in
    reverse, must re-add the column before re-creating its index."""
    return sorted(ops, key=lambda op: not op.safe and isinstance(op.operation, DropColumn))


def _rename_hints(planned: PlannedOperation, ops: list[PlannedOperation]) -> list[str]:
    """For a dropped column, the renames that would keep its data: a renamed field looks like
    a dropped column plus an added one of the same type, in the same table."""
    op = planned.operation
    if not isinstance(op, DropColumn) or planned.safe:
        return []
    lines: list[str] = []
    for other in ops:
        added = other.operation
        if (
            isinstance(added, AddColumn)
            and added.table == op.table
            and added.spec.type == op.spec.type
        ):
            old, new = op.spec.name, added.spec.name
            hint = (
                f"If {op.table}.{old} was renamed to {new}, keep its data: instead of this drop "
                f"and the add_column of {new!r}, rename it (and rename it back in down):"
            )
            lines += _comment(hint, 4)
            lines.append(f"# {_call('rename_column', op.table, old, new, indent=6)}")
    return lines


def _body(ops: list[PlannedOperation]) -> list[str]:
    lines: list[str] = []
    for op in ops:
        lines.extend(render_operation(op))
        lines.extend(_rename_hints(op, ops))
    return _with_pass(lines)


def _with_pass(lines: list[str]) -> list[str]:
    """A function body that is only comments is a syntax error: end it with ``pass``."""
    if all(line.lstrip().startswith("#") for line in lines):
        return [*lines, "pass"]
    return lines


def _reverse_lines(ops: list[PlannedOperation]) -> list[str]:
    lines: list[str] = []
    for planned in reversed(ops):
        op = planned.operation
        reverse = op.reverse()
        if reverse is None or isinstance(op, AlterTable):
            continue
        if planned.safe:
            lines.extend(_code(reverse, 4))
            continue
        # One header says why the undo is commented out; the undo itself is rendered as
        # plain code, then commented.
        what = (
            "undo of"
            if isinstance(op, AlterColumn)
            else ("undo of an operation left commented out in up")
        )
        lines.extend(_comment(f"{what}: {op.describe()}", 4))
        lines.extend(_commented(reverse, 4))
    return _with_pass(lines)


def render_migration(name: str, plan: Plan, *, variable: str = "migration_") -> str:
    """A complete migration file taking the database to the models, and back in ``down``."""
    ops = _ordered(list(plan.operations))
    up = "\n".join(f"    {line}" for line in _body(ops))
    down = "\n".join(f"    {line}" for line in _reverse_lines(ops))
    # Import every spec class either function mentions, commented-out code included, so that
    # uncommenting an operation (in up or in down) is enough to make it run.
    needed = sorted(
        cls.__name__ for cls in _SPEC_TYPES if re.search(rf"\b{cls.__name__}\(", up + down)
    )
    imports = sorted(["migration", *needed])
    import_line = f"from hedystia_models import {', '.join(imports)}"
    if len(import_line) > WIDTH:
        import_line = (
            "from hedystia_models import (\n" + "".join(f"    {n},\n" for n in imports) + ")"
        )
    return (
        f'"""Migration {name}.\n\n'
        "Generated by `hedystia-models migration create --auto`. Review it before applying:\n"
        "commented-out operations are differences sync will not apply on its own and that\n"
        'need your decision.\n"""\n\n'
        f"{import_line}\n"
        "from hedystia_models.context import MigrationContext\n\n\n"
        "def up(ctx: MigrationContext) -> None:\n"
        f"{up}\n\n\n"
        "def down(ctx: MigrationContext) -> None:\n"
        f"{down}\n\n\n"
        f"{_assignment(variable, name)}\n"
    )


def _assignment(variable: str, name: str) -> str:
    """``migration_ = migration('name', up=up, down=down)``, wrapped when it is too wide."""
    line = f"{variable} = migration({name!r}, up=up, down=down)"
    if len(line) <= WIDTH:
        return line
    return f"{variable} = migration(\n    {name!r},\n    up=up,\n    down=down,\n)"
