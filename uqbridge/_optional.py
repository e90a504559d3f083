"""Optional dependencies: a feature that needs a package names the extra that installs it."""

from __future__ import annotations

import importlib.util

__all__ = ["require"]


def require(feature: str, extra: str, *modules: str) -> None:
    """Raise a clear ImportError if any of ``modules`` is missing for ``feature``.

    Examples
    --------
    >>> require("the core", "all", "numpy")
    >>> require("demo", "demo", "surely_not_installed_module")
    Traceback (most recent call last):
    ...
    ImportError: demo needs surely_not_installed_module: pip install 'uqbridge[demo]'
    """
    missing = [m for m in modules if importlib.util.find_spec(m) is None]
    if missing:
        raise ImportError(f"{feature} needs {', '.join(missing)}: pip install 'uqbridge[{extra}]'")
