"""One live table -> the code of one ``Table`` class: its class keywords (``table=``,
``indexes=``, and ``unique=``/``checks=`` where this version has them), its fields, and a
``# TODO`` for each fact the class cannot declare.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from ..schema.index import index_name
from ..schema.quoting import fold_identifier
from ..schema.spec import IndexExpression, IndexSpec, TableSpec
from ..schema.sqltext import SQL_TOKEN, sql_words
from .columns import FieldCode, Note, field_code
from .features import Features
from .layout import Call, Keyword, Node, comment_lines, lay_out
from .naming import field_name, py_str

__all__ = ["ClassCode", "TableFacts", "class_code", "table_options"]


@dataclass(frozen=True)
class TableFacts:
    """What the pragmas say about a table beyond its :class:`TableSpec`."""

    #: The primary key columns in key order (the spec lists them in column order).
    primary_key: tuple[str, ...] = ()
    #: Folded names of the generated columns.
    generated: frozenset[str] = frozenset()
    #: Names of the triggers on the table.
    triggers: tuple[str, ...] = ()


@dataclass
class ClassCode:
    """One class as code, and what it needs."""

    table: str
    name: str
    module: str
    fields: list[FieldCode]
    keywords: list[Keyword] = field(default_factory=list)
    notes: list[Note] = field(default_factory=list)
    imports: set[tuple[str, str]] = field(default_factory=set)

    @property
    def all_notes(self) -> list[Note]:
        """The table's notes, then its fields' in column order."""
        return [*self.notes, *(n for f in self.fields for n in f.notes)]

    def lines(self) -> list[str]:
        """The class statement, with its ``# TODO`` comments."""
        lines: list[str] = []
        for note in self.notes:
            lines += comment_lines(f"TODO: {note.message}", 0)
        header = Call("(", ("Table", Keyword("table", py_str(self.table)), *self.keywords))
        lines += lay_out(f"class {self.name}", header, ":", 0)
        for code in self.fields:
            for note in code.notes:
                lines += comment_lines(f"TODO: {note.message}", 4)
            value = code.value
            if value is None:
                lines.append(f"    {code.name}: {code.annotation}")
            else:
                lines += lay_out(f"{code.name}: {code.annotation} = ", value, "", 4)
        return lines


def table_options(create_sql: str) -> list[str]:
    """The table options after the column list of a ``CREATE TABLE`` (``STRICT``,
    ``WITHOUT ROWID``).

    >>> table_options("CREATE TABLE t (a INT, b TEXT) WITHOUT ROWID, STRICT")
    ['WITHOUT ROWID', 'STRICT']
    """
    words = [t for t in SQL_TOKEN.findall(create_sql) if t.strip() and not t.startswith("--")]
    depth = 0
    for position, word in enumerate(words):
        if word == "(":
            depth += 1
        elif word == ")":
            depth -= 1
            if depth == 0:
                rest = " ".join(words[position + 1 :]).upper()
                return [part.strip() for part in rest.split(",") if part.strip()]
    return []


def _index_keys_noted(index: IndexSpec) -> bool:
    """True when the stored statement orders or collates a key (``DESC``, ``COLLATE``): the
    plan does not compare that and an ``Index`` cannot say it."""
    if index.sql is None:
        return False
    words = sql_words(index.sql)
    return "desc" in words or "collate" in words


def class_code(
    spec: TableSpec,
    facts: TableFacts,
    *,
    name: str,
    module: str,
    create_sql: str,
    features: Features,
    index_expression_import: tuple[str, str],
) -> ClassCode:
    """The class ``name`` for table ``spec``."""
    table = spec.name
    notes: list[Note] = []

    def note(text: str) -> None:
        notes.append(Note(table, None, text))

    taken: list[str] = []
    fields: list[FieldCode] = []
    for column in spec.columns:
        field_ = field_name(column.name, taken)
        taken.append(field_)
        rowid_alias = column.primary_key and len(spec.primary_key) == 1 and column.type == "INTEGER"
        fields.append(
            field_code(
                table,
                column,
                field_,
                rowid_alias=rowid_alias,
                generated=fold_identifier(column.name) in facts.generated,
                features=features,
            )
        )
    by_column = {fold_identifier(code.column): code for code in fields}
    code = ClassCode(table, name, module, fields, notes=notes)

    for option in table_options(create_sql):
        note(f"the table is {option}, which a model cannot declare")
    in_column_order = tuple(fold_identifier(c) for c in spec.primary_key)
    if tuple(fold_identifier(c) for c in facts.primary_key) != in_column_order:
        note(
            f"the primary key is ({', '.join(facts.primary_key)}) in that order; a model "
            f"declares it in column order ({', '.join(spec.primary_key)})"
        )

    indexes: list[Node] = []
    leading_key = fold_identifier(spec.primary_key[0]) if spec.primary_key else None
    for index in spec.indexes:
        item = _index(index, spec, by_column, leading_key, features, note)
        if item is not None:
            indexes.append(item)
            if any(isinstance(key, IndexExpression) for key in index.columns):
                code.imports.add(index_expression_import)
    if indexes:
        code.keywords.append(Keyword("indexes", Call("[", tuple(indexes), "]")))
        code.imports.add(("hedystia_models", "Index"))

    if spec.unique_together:
        if features.unique_together:
            groups = tuple(
                Call("(", tuple(py_str(by_column[fold_identifier(c)].name) for c in group))
                for group in spec.unique_together
            )
            code.keywords.append(Keyword("unique", Call("[", groups, "]")))
        else:
            for group in spec.unique_together:
                note(
                    f"UNIQUE ({', '.join(group)}), a multi-column UNIQUE constraint, which a "
                    'model cannot declare yet (unique=[("a", "b")])'
                )
    if spec.checks:
        if features.table_checks:
            checks = tuple(py_str(check.expression) for check in spec.checks)
            code.keywords.append(Keyword("checks", Call("[", checks, "]")))
        else:
            for check in spec.checks:
                named = f"CONSTRAINT {check.name} " if check.name else ""
                note(
                    f"the table constraint {named}CHECK ({check.expression}), which a model "
                    "cannot declare yet"
                )
    for fk in spec.foreign_keys:
        note(
            f"FOREIGN KEY ({', '.join(fk.columns)}) REFERENCES {fk.other_table} "
            f"({', '.join(fk.other_columns)}), a multi-column foreign key, which a model "
            "cannot declare"
        )
    for trigger in facts.triggers:
        note(f"the trigger {trigger}, which a model does not declare (it stays in the database)")
    code.imports.add(("hedystia_models", "Table"))
    for member in fields:
        code.imports |= member.imports
        if isinstance(member.value, Call):
            code.imports.add(("hedystia_models", "Field"))
    return code


def _index(
    index: IndexSpec,
    spec: TableSpec,
    by_column: dict[str, FieldCode],
    leading_key: str | None,
    features: Features,
    note: Callable[[str], None],
) -> Node | None:
    """The ``Index(...)`` for ``index``, or ``None`` when a field's ``index=True`` says it
    (set here) or the model cannot declare it (noted)."""
    where = f"the index {index.name} ON ({index.keys_text()})"
    keys: list[Node] = []
    for key in index.columns:
        if isinstance(key, IndexExpression):
            if not features.expression_index:
                note(f"{where} has an expression key, which a model cannot declare yet")
                return None
            keys.append(Call("IndexExpression(", (py_str(key.sql),)))
            continue
        code = by_column.get(fold_identifier(key))
        if code is None:
            note(f"{where} uses {key!r}, which is not one of the table's columns")
            return None
        keys.append(py_str(code.name))
    if index.where is not None and not features.partial_index:
        note(f"{where} is partial (WHERE {index.where}), which a model cannot declare yet")
        return None
    if _index_keys_noted(index):
        note(f"{where}: the sort order or collation of its keys cannot be declared")
    columns = index.column_names
    single = len(index.columns) == 1 and len(columns) == 1
    if single and not index.unique and index.where is None:
        code = by_column[fold_identifier(columns[0])]
        column = spec.column(columns[0])
        by_key = leading_key == fold_identifier(column.name)
        if index.name == index_name(spec.name, [column.name]) and not column.unique and not by_key:
            code.options["index"] = "True"
            return None
    items: list[Node | Keyword] = list(keys)
    if index.unique:
        items.append(Keyword("unique", "True"))
    if index.where is not None:
        items.append(Keyword("where", py_str(index.where)))
    default_name = None if index.has_expressions else index_name(spec.name, columns, index.unique)
    if index.name != default_name:
        items.append(Keyword("name", py_str(index.name)))
    return Call("Index(", tuple(items))
