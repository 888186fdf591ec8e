"""Finding migrations: :func:`load_migrations` turns ``migrations=`` into an ordered list.

The source may be a list or dict of definitions, a module, a package (its submodules by file
name) or a directory of ``*.py`` files (by file name, each imported under a private module
name). Names starting with ``_`` are private helpers and are skipped.
"""

from __future__ import annotations

import hashlib
import importlib
import importlib.util
import os
import pkgutil
import sys
import types
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from ..errors import MigrationError
from .definitions import MigrationDefinition

__all__ = ["load_migrations"]


def _from_namespace(namespace: Mapping[str, Any]) -> list[MigrationDefinition]:
    found: list[MigrationDefinition] = []
    for value in namespace.values():
        if isinstance(value, MigrationDefinition) and all(value is not f for f in found):
            found.append(value)
    return found


def _load_file(path: Path) -> types.ModuleType:
    module_name = f"_hedystia_migration_{hashlib.sha256(str(path).encode()).hexdigest()[:12]}"
    spec = importlib.util.spec_from_file_location(module_name, path)
    if spec is None or spec.loader is None:  # pragma: no cover - a .py file always has a loader
        raise MigrationError(f"cannot load migration file {path}")
    module = importlib.util.module_from_spec(spec)
    sys.modules[module_name] = module
    try:
        spec.loader.exec_module(module)
    except Exception as exc:
        del sys.modules[module_name]
        raise MigrationError(f"migration file {path} failed to import: {exc}") from exc
    return module


def load_migrations(source: Any) -> list[MigrationDefinition]:
    """Normalize ``migrations=`` into an ordered list.

    Accepts a list of definitions, a dict of them, a module (every definition it holds, in
    definition order), a package (its submodules ordered by file name), or a directory path
    (its ``*.py`` files ordered by file name). Duplicate names are an error, raised before
    anything runs.
    """
    if source is None:
        found: list[MigrationDefinition] = []
    elif isinstance(source, (str, os.PathLike)):
        directory = Path(source)
        if not directory.is_dir():
            raise MigrationError(f"migrations directory {str(directory)!r} does not exist")
        found = []
        for path in sorted(directory.glob("*.py")):
            if not path.name.startswith("_"):
                found.extend(_from_namespace(vars(_load_file(path))))
    elif isinstance(source, types.ModuleType):
        package_path = getattr(source, "__path__", None)
        if package_path is not None:
            found = _from_namespace(vars(source))
            for info in sorted(pkgutil.iter_modules(package_path), key=lambda m: m.name):
                if info.name.startswith("_"):
                    continue  # private helpers, as in a directory of migration files
                module = importlib.import_module(f"{source.__name__}.{info.name}")
                found.extend(m for m in _from_namespace(vars(module)) if m not in found)
        else:
            found = _from_namespace(vars(source))
    elif isinstance(source, Mapping):
        found = list(source.values())
    elif isinstance(source, Iterable):
        found = list(source)
    else:
        raise MigrationError(
            "migrations must be a list, a dict, a module, a package or a directory "
            f"(got {type(source).__name__})"
        )
    names: dict[str, MigrationDefinition] = {}
    for definition in found:
        if not isinstance(definition, MigrationDefinition):
            raise MigrationError(f"not a migration (use migration(...)): {definition!r}")
        if definition.name in names and names[definition.name] is not definition:
            raise MigrationError(f"two migrations are named {definition.name!r}")
        names[definition.name] = definition
    unique: list[MigrationDefinition] = []
    for definition in found:
        if all(definition is not seen for seen in unique):
            unique.append(definition)
    return unique
