"""Normalize the ``schemas=`` argument of ``database()`` into named table models."""

from __future__ import annotations

import importlib
import types
from collections.abc import Iterable, Mapping
from typing import Any

from ..errors import SchemaError
from ..schema.quoting import fold_identifier
from ..schema.state import ParentKeys, foreign_keys_of, reference_problem
from .table import Table, table_info

__all__ = ["normalize_schemas"]


def _is_table_model(value: object) -> bool:
    return (
        isinstance(value, type)
        and issubclass(value, Table)
        and value is not Table
        and not value.__hedystia_abstract__
    )


def _modules_of(module: types.ModuleType) -> list[types.ModuleType]:
    """The module itself, and for a package each of its submodules, by file name.

    A package's ``__main__`` is skipped: it is the package's command line, which importing
    would run."""
    modules = [module]
    path = getattr(module, "__path__", None)
    if path is not None:
        import pkgutil  # only for a package of schemas

        for info in sorted(pkgutil.iter_modules(path), key=lambda m: m.name):
            if info.name == "__main__":
                continue
            modules.append(importlib.import_module(f"{module.__name__}.{info.name}"))
    return modules


def normalize_schemas(schemas: Any) -> dict[str, type[Table]]:
    """Turn a list of models, a dict ``{name: model}`` or a module into ``{key: model}``.

    Keys are table names for a list, the dict keys for a dict, and the attribute names for a
    module (every ``Table`` subclass in the module's namespace, re-exported ones included, in
    definition order; abstract bases and ``Table`` itself are skipped). A package contributes
    its own namespace and then each submodule's, in file-name order (not ``__main__``). Raises
    :class:`SchemaError` when two models claim one table name, or when an index of one model
    has the name of another model's table or index (SQLite keeps tables and indexes in one
    namespace), and when a ``references=`` names a table of another model of the set (or its
    own) that has no such column, or a column that is neither its primary key nor ``UNIQUE``
    (SQLite would refuse every write with ``foreign key mismatch``). A reference to a table no
    model of the set declares is checked against the database, when a plan is made.
    """
    pairs: list[tuple[str, type[Table]]] = []
    if isinstance(schemas, types.ModuleType):
        for module in _modules_of(schemas):
            for name, value in vars(module).items():
                if _is_table_model(value):
                    pairs.append((name, value))
        if not pairs:
            raise SchemaError(f"module {schemas.__name__!r} defines no Table models")
    elif isinstance(schemas, Mapping):
        for key, value in schemas.items():
            if not _is_table_model(value):
                raise SchemaError(f"schemas[{key!r}] is not a Table model: {value!r}")
            if not isinstance(key, str) or not key:
                raise SchemaError(
                    "schemas keys name the tables for db[...] and must be non-empty strings "
                    f"(got {key!r} for model {value.__qualname__})"
                )
            pairs.append((key, value))
    elif isinstance(schemas, Iterable) and not isinstance(schemas, (str, bytes)):
        for value in schemas:
            if not _is_table_model(value):
                raise SchemaError(
                    f"schemas contains something that is not a Table model: {value!r}"
                )
            pairs.append((table_info(value).name, value))
    else:
        raise SchemaError(
            "schemas must be a list of Table models, a dict of them, or a module "
            f"(got {type(schemas).__name__})"
        )

    result: dict[str, type[Table]] = {}
    claimed: dict[str, type[Table]] = {}
    keys: dict[type[Table], str] = {}  # model -> its key in result: a set of N stays O(N)
    for key, model in pairs:
        first = keys.get(model)
        if first is not None:
            if isinstance(schemas, Mapping):
                raise SchemaError(
                    f"schemas[{key!r}] repeats model {model.__qualname__}, already given as "
                    f"schemas[{first!r}]"
                )
            continue  # the same class re-exported under another name, or listed twice
        name = table_info(model).name
        other = claimed.get(fold_identifier(name))
        if other is not None:
            raise SchemaError(
                f"models {other.__module__}.{other.__qualname__} and "
                f"{model.__module__}.{model.__qualname__} both declare table {name!r}"
            )
        claimed[fold_identifier(name)] = model
        replaced = result.get(key)  # a later submodule's attribute of the same name
        if replaced is not None:
            del keys[replaced]
        result[key] = model
        keys[model] = key
    _check_keys(result, claimed)
    _check_index_names(result.values())
    _check_references(result.values(), claimed)
    return result


def _label(model: type[Table]) -> str:
    return f"{model.__module__}.{model.__qualname__}"


def _check_keys(result: dict[str, type[Table]], claimed: dict[str, type[Table]]) -> None:
    """Refuse a key (of a dict, or a module's attribute name) that is the table name of
    another model of the set: ``db[key]`` looks keys up first, so it would give the key's
    model and never the table of that name."""
    for key, model in result.items():
        other = claimed.get(fold_identifier(key))
        if other is not None and other is not model:
            raise SchemaError(
                f"schemas[{key!r}] names model {model.__qualname__}, but {key!r} is the table "
                f"of model {other.__qualname__}: db[{key!r}] would give "
                f"{model.__qualname__}'s table, not the table named {key!r}"
            )


def _check_index_names(models: Iterable[type[Table]]) -> None:
    """Refuse an index named like another model's table, or like another model's index (a
    model's own indexes were checked when its class was created)."""
    models = list(models)
    owners: dict[str, tuple[str, type[Table]]] = {}  # folded name -> (what, model)
    for model in models:
        owners.setdefault(fold_identifier(table_info(model).name), ("table", model))
    for model in models:
        for index in table_info(model).spec.indexes:
            folded = fold_identifier(index.name)
            what, other = owners.get(folded, ("", model))
            if other is not model:
                raise SchemaError(
                    f"{_label(model)}: index {index.name!r} has the name of the {what} of "
                    f"{_label(other)} (tables and indexes share one namespace in SQLite)"
                )
            owners.setdefault(folded, ("index", model))


def _check_references(models: Iterable[type[Table]], claimed: dict[str, type[Table]]) -> None:
    """Refuse a reference to a table of the set that cannot work (see normalize_schemas)."""
    for model in models:
        info = table_info(model)
        fields = {fold_identifier(m.column): m.field for m in info.fields}
        for edge in foreign_keys_of(info.spec):
            target = claimed.get(fold_identifier(edge.other_table))
            if target is None:
                continue
            parent = table_info(target).spec
            label = f"table {parent.name!r} (model {target.__name__})"
            problem = reference_problem(edge, ParentKeys.of(parent), label=label)
            if problem is not None:
                field = fields.get(fold_identifier(edge.columns[0]), edge.columns[0])
                raise SchemaError(
                    f"{model.__name__}.{field}: references {edge.target()}, but {problem.reason}"
                )
