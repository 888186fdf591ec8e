"""Lay out generated code the way ``ruff format`` (and black) would: a call that does not fit
on its line gets its arguments on one indented line, or failing that one per line with a
trailing comma; comments are wrapped. Lines fit in :data:`WIDTH` columns where they can (a
long string literal cannot be split).
"""

from __future__ import annotations

import textwrap
from dataclasses import dataclass, field

__all__ = ["WIDTH", "Call", "Keyword", "Node", "comment_lines", "flat", "lay_out"]

#: The line length of the generated code (ruff's and black's default).
WIDTH = 88


@dataclass(frozen=True)
class Keyword:
    """``name=value`` in an argument list."""

    name: str
    value: Node


@dataclass(frozen=True)
class Call:
    """Something in brackets: a call ``Field(...)`` (``head="Field("``), a list (``"["``), a
    tuple (``"("``), a class's bases (``"("`` after ``class X``)."""

    head: str
    items: tuple[Node | Keyword, ...] = field(default=())
    tail: str = ")"


#: A piece of code: plain text, or brackets holding more pieces.
Node = str | Call


def flat(node: Node | Keyword) -> str:
    """``node`` on one line.

    >>> flat(Call("Field(", ("None", Keyword("unique", "True"))))
    'Field(None, unique=True)'
    """
    if isinstance(node, Keyword):
        return f"{node.name}={flat(node.value)}"
    if isinstance(node, str):
        return node
    return node.head + ", ".join(flat(item) for item in node.items) + node.tail


def lay_out(prefix: str, node: Node | Keyword, suffix: str, indent: int) -> list[str]:
    """The lines of ``prefix + node + suffix`` at ``indent`` spaces, split as ``ruff format``
    splits brackets that do not fit.

    >>> call = Call("Field(", tuple(Keyword(f"option_{n}", "True") for n in range(5)))
    >>> for line in lay_out("name: str = ", call, "", 0):
    ...     print(line)
    name: str = Field(
        option_0=True, option_1=True, option_2=True, option_3=True, option_4=True
    )
    """
    pad = " " * indent
    if isinstance(node, Keyword):
        return lay_out(f"{prefix}{node.name}=", node.value, suffix, indent)
    line = pad + prefix + flat(node) + suffix
    if len(line) <= WIDTH or isinstance(node, str) or not node.items:
        return [line]
    inner = " " * (indent + 4) + ", ".join(flat(item) for item in node.items)
    lines = [pad + prefix + node.head]
    if len(inner) <= WIDTH:
        lines.append(inner)
    else:
        for item in node.items:
            lines.extend(lay_out("", item, ",", indent + 4))
    lines.append(pad + node.tail + suffix)
    return lines


def comment_lines(text: str, indent: int) -> list[str]:
    """``text`` as ``#`` comment lines at ``indent`` spaces, wrapped to :data:`WIDTH`.

    >>> comment_lines("TODO: short", 4)
    ['    # TODO: short']
    """
    pad = " " * indent + "# "
    wrapped = textwrap.wrap(
        text,
        width=max(WIDTH - len(pad), 20),
        break_long_words=False,
        break_on_hyphens=False,
        subsequent_indent="  ",
    )
    return [(pad + line).rstrip() for line in wrapped] or [pad.rstrip()]
