"""Every public name has a docstring (issue 16): the API reference (``docs/api.md``, generated
from ``hedystia_models.__all__`` when the site is built) is made of them, so a name without
one would be an empty entry. Public methods and properties of the public classes too."""

from __future__ import annotations

import functools
import inspect
from typing import Any

import hedystia_models


def _own_members(cls: type) -> list[tuple[str, Any]]:
    """The public methods and properties ``cls`` itself defines (not inherited from Pydantic
    or the standard library)."""
    found = []
    for attr, value in vars(cls).items():
        if attr.startswith("_"):
            continue
        if isinstance(value, property):
            target: Any = value.fget
        elif isinstance(value, functools.cached_property):
            target = value.func
        elif isinstance(value, (staticmethod, classmethod)):
            target = value.__func__
        elif inspect.isfunction(value):
            target = value
        else:
            continue
        if (getattr(target, "__module__", "") or "").startswith("hedystia_models"):
            found.append((attr, target))
    return found


def _own_docstring(value: Any) -> str:
    """``value``'s own docstring: a class's from its own body (``inspect.getdoc`` would give
    a subclass without one its base class's)."""
    if inspect.isclass(value):
        return str(vars(value).get("__doc__") or "")
    return str(getattr(value, "__doc__", None) or "")


def test_every_public_name_has_a_docstring() -> None:
    missing = [
        name
        for name in hedystia_models.__all__
        if not _own_docstring(getattr(hedystia_models, name)).strip()
    ]
    assert missing == []


def test_every_public_method_of_a_public_class_has_a_docstring() -> None:
    missing = [
        f"{name}.{attr}"
        for name in hedystia_models.__all__
        if inspect.isclass(cls := getattr(hedystia_models, name))
        for attr, target in _own_members(cls)
        if not (target.__doc__ or "").strip()
    ]
    assert missing == []


def test_the_api_page_lists_every_public_name() -> None:
    import sys
    from pathlib import Path

    sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "docs" / "_hooks"))
    try:
        import hooks
    finally:
        sys.path.pop(0)
    page = hooks.api_page()
    for name in hedystia_models.__all__:
        assert f".{name}\n" in page, name
