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
import traceback
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
        raise MigrationError(
            f"migration file {path} failed to import: {type(exc).__name__}: {exc}"
            f"{_line_in(path, exc)}"
        ) from exc
    return module


def _line_in(path: Path, exc: BaseException) -> str:
    """`` (line N)``: the line of ``path`` the error was raised from (the last one in its
    traceback), or nothing when the traceback does not pass through the file (a
    ``SyntaxError``, whose message names its line already)."""
    line = None
    for frame, number in traceback.walk_tb(exc.__traceback__):
        if frame.f_code.co_filename == str(path):
            line = number
    return "" if line is None else f" (line {line})"


def _defined_in(module: types.ModuleType, where: str) -> list[MigrationDefinition]:
    """The definitions of a migration file; a file that defines none is an error (a
    ``migration(...)`` whose result was not assigned would otherwise be skipped in
    silence)."""
    found = _from_namespace(vars(module))
    if not found:
        raise MigrationError(
            f"migration file {where} defines no migration: assign the result of migration(...) "
            "to a module-level name (files starting with _ are helpers, and skipped)"
        )
    return found


def load_migrations(source: Any) -> list[MigrationDefinition]:
    """Normalize ``migrations=`` into an ordered list.

    Accepts a list of definitions, a dict of them, a module (every definition it holds, in
    definition order), a package (its submodules ordered by file name), or a directory path
    (its ``*.py`` files ordered by file name). Duplicate names are an error, raised before
    anything runs.
    """
    #: The file each definition comes from (by id), for a directory or a package.
    origins: dict[int, str] = {}
    if source is None:
        found: list[MigrationDefinition] = []
    elif isinstance(source, (str, os.PathLike)):
        directory = Path(source)
        if not directory.is_dir():
            raise MigrationError(f"migrations directory {str(directory)!r} does not exist")
        found = []
        for path in sorted(directory.glob("*.py")):
            if not path.name.startswith("_"):
                in_file = _defined_in(_load_file(path), str(path))
                origins.update((id(d), path.name) for d in in_file)
                found.extend(in_file)
    elif isinstance(source, types.ModuleType):
        package_path = getattr(source, "__path__", None)
        if package_path is not None:
            found = _from_namespace(vars(source))
            for info in sorted(pkgutil.iter_modules(package_path), key=lambda m: m.name):
                if info.name.startswith("_"):
                    continue  # private helpers, as in a directory of migration files
                module = importlib.import_module(f"{source.__name__}.{info.name}")
                where = getattr(module, "__file__", None) or module.__name__
                in_module = _defined_in(module, where)
                origins.update((id(d), Path(where).name) for d in in_module)
                found.extend(m for m in in_module if m not in found)
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
            files = [origins.get(id(d)) for d in (names[definition.name], definition)]
            where = f" (in {files[0]} and {files[1]})" if None not in files else ""
            if files[0] == files[1] and files[0] is not None:
                where = f" (both in {files[0]})"
            raise MigrationError(f"two migrations are named {definition.name!r}{where}")
        names[definition.name] = definition
    unique: list[MigrationDefinition] = []
    for definition in found:
        if all(definition is not seen for seen in unique):
            unique.append(definition)
    return unique
