"""Lazy public names for a package (PEP 562): the one loader behind ``uqbridge`` and ``uqbridge.chains``.

A package lists ``{public name: defining submodule}`` and gets a module ``__getattr__`` that imports the
submodule on first use and keeps the value, and a ``__dir__`` that lists the public names before they
are imported. ``import uqbridge`` then costs little (the ``uqbridge`` command answers or refuses quickly).
"""

from __future__ import annotations

import importlib
import importlib.util
import types
from collections.abc import Callable, Mapping
from typing import Any

__all__ = ["lazy_names"]


def lazy_names(
    package: str, table: Mapping[str, str], namespace: dict[str, Any], *, submodules: bool = False
) -> tuple[Callable[[str], Any], Callable[[], list[str]]]:
    """``(__getattr__, __dir__)`` for ``package`` whose public names are the keys of ``table``.

    ``table`` maps a public name to the (relative) submodule defining it; ``namespace`` is the package's
    ``globals()``, where a name is kept once imported. With ``submodules``, a name that is not public
    but is a submodule (``uqbridge.chains``) is imported as well, as a plain ``import`` of the package
    used to do for the submodules it loaded.

    Examples
    --------
    >>> getattr_, dir_ = lazy_names("uqbridge", {"unit_design": ".designs"}, {})
    >>> getattr_("unit_design").__name__, dir_()
    ('unit_design', ['unit_design'])
    """

    def getattr_(name: str) -> Any:
        module = table.get(name)
        if module is not None:
            value = getattr(importlib.import_module(module, package), name)
            namespace[name] = value
            return value
        if submodules and not name.startswith("__") and importlib.util.find_spec(f"{package}.{name}") is not None:
            return importlib.import_module(f"{package}.{name}")
        raise AttributeError(f"module {package!r} has no attribute {name!r}")

    def dir_() -> list[str]:
        loaded = {n for n, v in namespace.items() if isinstance(v, types.ModuleType) and v.__name__ == f"{package}.{n}"}
        return sorted(set(table) | {n for n in namespace if n.startswith("__")} | loaded)

    return getattr_, dir_
