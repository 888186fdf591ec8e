"""Names for the relations of inspected models that would otherwise clash.

Every reference between two models of a database is a relation both ways, named by default
after the field (``author_id`` -> ``author``) and the referencing table (``posts``)
(:mod:`hedystia_models.rows.relations`); ``database(...)`` refuses two relations of one model
with one name, or one named like a field. A live database often has such references (two
columns of ``posts`` referencing ``users``), so the inspector names them, as Django's
``inspectdb`` writes ``related_name``: ``related_name="posts_via_editor_id"`` for each reverse
relation that clashes, ``relation_name="author_ref"`` for each forward one.
"""

from __future__ import annotations

import ast
from collections.abc import Iterable

from ..model.foreign_keys import forward_default, relation_name_problem
from ..schema.quoting import fold_identifier
from .columns import FieldCode
from .naming import py_str
from .tables import ClassCode

__all__ = ["name_clashing_relations"]


def _target_table(code: FieldCode) -> str | None:
    """The table a field's ``references="table.column"`` names, or ``None``."""
    written = code.options.get("references")
    if written is None:
        return None
    try:
        target = ast.literal_eval(written)
    except (ValueError, SyntaxError):
        return None
    if not isinstance(target, str):
        return None
    return target.rpartition(".")[0] or None


def name_clashing_relations(classes: Iterable[ClassCode]) -> None:
    """Add ``relation_name=`` / ``related_name=`` to the fields of ``classes`` whose default
    relation names clash, in place (see the module docstring)."""
    classes = list(classes)
    by_table = {fold_identifier(c.table): c for c in classes}
    # Each class's relations by default: (name, field code, option that renames it, holder).
    ends: dict[str, list[tuple[str, FieldCode, str, ClassCode]]] = {
        fold_identifier(c.table): [] for c in classes
    }
    for holder in classes:
        for code in holder.fields:
            target_table = _target_table(code)
            target = None if target_table is None else by_table.get(fold_identifier(target_table))
            if target is None:
                continue
            forward = forward_default((code.name,))
            if forward is not None and relation_name_problem(forward) is None:
                ends[fold_identifier(holder.table)].append((forward, code, "relation_name", holder))
            if relation_name_problem(holder.table) is None:
                ends[fold_identifier(target.table)].append(
                    (holder.table, code, "related_name", holder)
                )
    for table, relations in ends.items():
        owner = by_table[table]
        taken = {c.name for c in owner.fields} | {fold_identifier(c.column) for c in owner.fields}
        names = [name for name, *_ in relations]
        for name, code, option, holder in relations:
            if names.count(name) == 1 and name not in taken and fold_identifier(name) not in taken:
                continue
            chosen = (
                f"{name}_ref" if option == "relation_name" else f"{holder.table}_via_{code.name}"
            )
            if relation_name_problem(chosen) is None:
                code.options[option] = py_str(chosen)
