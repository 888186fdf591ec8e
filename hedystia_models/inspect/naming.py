"""Python names for what a database names: class names for tables, field names for columns,
module names for the files of ``schema inspect --dir``.

A table or column name may be anything SQLite accepts (spaces, quotes, keywords, a leading
digit); the names chosen here are always valid, distinct Python identifiers that Pydantic and
:class:`~hedystia_models.Table` accept as they are. When a field cannot carry its column's name,
the column is named with ``Field(column=...)`` instead.
"""

from __future__ import annotations

import keyword
import re
import unicodedata
from collections.abc import Collection

from ..model.table import Table

__all__ = ["IMPORTED_NAMES", "class_name", "field_name", "module_name", "py_bytes", "py_str"]

#: Every name the generated code imports or uses in an annotation: a class or a field with one
#: of these names would shadow it (in a class body, a field named ``date`` hides the type
#: ``date`` from the annotations after it).
IMPORTED_NAMES = frozenset(
    {
        "Any",
        "Decimal",
        "Field",
        "Index",
        "IndexExpression",
        "Table",
        "UUID",
        "bool",
        "bytes",
        "date",
        "datetime",
        "float",
        "int",
        "str",
        "time",
    }
)

#: Attributes of Table (and pydantic.BaseModel): Pydantic refuses or warns about a field that
#: shadows one (``json``, ``schema``, ``copy``, ``model_config``, ``ref``, ...).
_MODEL_ATTRIBUTES = frozenset(name for name in dir(Table) if not name.startswith("__"))

_WORD_BREAKS = (
    (re.compile(r"([A-Z]+)([A-Z][a-z])"), r"\1_\2"),
    (re.compile(r"([a-z0-9])([A-Z])"), r"\1_\2"),
)
_NOT_ALNUM = re.compile(r"[^0-9A-Za-z]+")


def _words(name: str) -> list[str]:
    """The ASCII words of ``name``: ``"HTTPLog"`` -> ``["HTTP", "Log"]``, ``"blog posts"`` ->
    ``["blog", "posts"]``."""
    text = name
    for pattern, replacement in _WORD_BREAKS:
        text = pattern.sub(replacement, text)
    return [word for word in _NOT_ALNUM.split(text) if word]


def _unique(name: str, taken: Collection[str], *, fold: bool = False, joint: str = "") -> str:
    """``name``, or ``name`` with the first free suffix ``2``, ``3``, ... after ``joint``
    (always ``_`` after a digit), compared case-insensitively when ``fold``."""
    seen = {t.lower() for t in taken} if fold else set(taken)
    if (name.lower() if fold else name) not in seen:
        return name
    joint = "_" if name[-1].isdigit() else joint
    number = 2
    while True:
        candidate = f"{name}{joint}{number}"
        if (candidate.lower() if fold else candidate) not in seen:
            return candidate
        number += 1


def class_name(table: str, taken: Collection[str]) -> str:
    """The class name for ``table``, CamelCase, distinct from ``taken``.

    >>> class_name("blog_posts", ()), class_name("order items", ()), class_name("HTTPLog", ())
    ('BlogPosts', 'OrderItems', 'HTTPLog')
    >>> class_name("index", ()), class_name("2fa", ()), class_name("users", ["Users"])
    ('IndexModel', 'T2fa', 'Users2')
    """
    name = "".join(word[0].upper() + word[1:] for word in _words(table)) or "Model"
    if name[0].isdigit():
        name = "T" + name
    if keyword.iskeyword(name) or name in IMPORTED_NAMES:
        name += "Model"
    return _unique(name, taken)


def module_name(table: str, taken: Collection[str]) -> str:
    """The module (file stem) for ``table`` in snake_case, distinct from ``taken`` even on a
    case-insensitive file system.

    >>> module_name("InvoiceLine", ()), module_name("order items", ()), module_name("class", ())
    ('invoice_line', 'order_items', 'class_')
    """
    name = "_".join(word.lower() for word in _words(table)) or "table"
    if name[0].isdigit():
        name = "t_" + name
    if keyword.iskeyword(name) or name == "__init__":
        name += "_"
    return _unique(name, taken, fold=True, joint="_")


def _usable_field(name: str) -> bool:
    return (
        name.isidentifier()
        and unicodedata.normalize("NFKC", name) == name  # Python would normalize it
        and not keyword.iskeyword(name)
        and not name.startswith(("_", "model_"))
        and name not in _MODEL_ATTRIBUTES
        and name not in IMPORTED_NAMES
    )


def field_name(column: str, taken: Collection[str]) -> str:
    """The field name for ``column``: the column's own name when Python and Pydantic accept
    it, else a snake_case spelling of it, distinct from ``taken``.

    >>> field_name("FirstName", ()), field_name("first name", ()), field_name("class", ())
    ('FirstName', 'first_name', 'class_')
    >>> field_name("model_config", ()), field_name("_id", ()), field_name("2nd", ["id"])
    ('col_model_config', 'id', 'c_2nd')
    """
    if _usable_field(column) and column not in taken:
        return column
    normalized = unicodedata.normalize("NFKC", column)  # the "fi" ligature: fi
    name = "_".join(word.lower() for word in _words(normalized)) or "column"
    if name[0].isdigit():
        name = "c_" + name
    if name.startswith("model_"):
        name = "col_" + name
    if not _usable_field(name):
        name += "_"
    return _unique(name, taken, joint="_")


def py_str(text: str) -> str:
    r"""``text`` as a Python string literal, in double quotes unless single ones need fewer
    escapes (the way ``ruff format`` writes it).

    >>> print(py_str("it's"), py_str('say "hi"'), py_str("tab\\there"))
    "it's" 'say "hi"' "tab\\there"
    >>> print(py_str("one ' and one \""))
    "one ' and one \""
    """
    quote = '"' if text.count('"') <= text.count("'") else "'"
    parts: list[str] = []
    for char in text:
        if char == quote or char == "\\":
            parts.append("\\" + char)
        elif char.isprintable():
            parts.append(char)
        else:
            parts.append(repr(char)[1:-1])
    return quote + "".join(parts) + quote


def py_bytes(data: bytes) -> str:
    """``data`` as a Python bytes literal, in double quotes when it can be.

    >>> print(py_bytes(b"\\x01ab"))
    b"\\x01ab"
    """
    literal = repr(data)
    if literal.startswith("b'") and b'"' not in data:
        literal = 'b"' + literal[2:-1] + '"'
    return literal
