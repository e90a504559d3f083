"""The model registry: named forward models found through the ``uqbridge.models`` entry points, and
models defined in a user's own Python file (``path/to/file.py:object``).

Each entry point loads a dict ``{name: "module:attribute"}``; the attribute is a ForwardModel or a
function returning one with its default settings. Models are imported only when asked for. A package
of models registers itself in its ``pyproject.toml``::

    [project.entry-points."uqbridge.models"]
    my_models = "my_package.catalogue:MODELS"   # MODELS = {"my_model": "my_package.models:build"}

Registered names are data (a study naming one runs no code of the study's author); a
``file.py:object`` spec imports and runs that file, like ``python file.py``.
"""

from __future__ import annotations

import hashlib
import importlib
import importlib.util
import inspect
import json
import os
import sys
import weakref
from importlib.metadata import entry_points
from pathlib import Path
from typing import Any

from .model import ForwardModel

__all__ = ["get_model", "is_path_spec", "list_models", "load_model", "model_from_file", "registered_origin"]

# function of a model handed out by get_model -> (registry name, options as JSON text); lets a
# campaign store *how to rebuild* its model as data instead of pickled code
_ORIGINS: weakref.WeakKeyDictionary[Any, tuple[str, str]] = weakref.WeakKeyDictionary()


def _catalogue() -> dict[str, str]:
    catalogue: dict[str, str] = {}
    for ep in entry_points(group="uqbridge.models"):
        catalogue.update(ep.load())
    return catalogue


def list_models() -> list[str]:
    """Names of all registered models.

    Examples
    --------
    >>> "ishigami" in list_models()
    True
    """
    return sorted(_catalogue())


def get_model(name: str, **options: Any) -> ForwardModel:
    """The registered model ``name``, built with ``options`` (the factory's keyword arguments).

    Examples
    --------
    >>> get_model("ishigami").inputs.names
    ('x1', 'x2', 'x3')
    """
    catalogue = _catalogue()
    if name not in catalogue:
        raise KeyError(f"unknown model {name!r}; registered models: {sorted(catalogue)}")
    module, _, attribute = catalogue[name].partition(":")
    target = getattr(importlib.import_module(module), attribute)
    if isinstance(target, ForwardModel):
        if options:
            raise TypeError(f"model {name!r} takes no options; got {sorted(options)}")
        model = target
    else:
        _check_option_types(name, target, options)
        try:
            model = target(**options)
        except TypeError as err:
            raise TypeError(f"model {name!r}: bad options {sorted(options)} ({err})") from None
    if not isinstance(model, ForwardModel):
        raise TypeError(f"registry entry {name!r} ({catalogue[name]}) did not give a ForwardModel")
    try:
        _ORIGINS[model.function] = (name, json.dumps(options, sort_keys=True))
    except TypeError:  # options that are not plain data, or a function without weak references
        pass
    return model


def _check_option_types(name: str, factory: Any, options: dict[str, Any]) -> None:
    """Refuse an option whose type differs from its default's (a string for a number, say): such a
    model would be built and then fail on every sample."""
    try:
        params = inspect.signature(factory).parameters
    except (TypeError, ValueError):  # pragma: no cover - a builtin factory
        return
    for key, value in options.items():
        default = params[key].default if key in params else inspect.Parameter.empty
        if default is inspect.Parameter.empty or default is None:
            continue
        if isinstance(default, bool):
            ok, kind = isinstance(value, bool), "true or false"
        elif isinstance(default, (int, float)):
            ok = isinstance(value, (int, float)) and not isinstance(value, bool)
            kind = "a number"
        elif isinstance(default, str):
            ok, kind = isinstance(value, str), "a string"
        else:
            continue
        if not ok:
            raise TypeError(
                f"model {name!r}: option {key!r} must be {kind} (default {default!r}), got {value!r}"
            )


def registered_origin(model: ForwardModel) -> tuple[str, dict[str, Any]] | None:
    """``(name, options)`` such that ``get_model(name, **options)`` has ``model``'s function, or None.

    Models derived from a registered one with :meth:`ForwardModel.with_inputs` keep its function,
    so they are found too (their inputs are data, stored separately).

    Examples
    --------
    >>> registered_origin(get_model("ishigami").with_inputs(x3=0.0))
    ('ishigami', {})
    """
    try:
        found = _ORIGINS.get(model.function)
    except TypeError:
        return None
    return None if found is None else (found[0], json.loads(found[1]))


def is_path_spec(spec: str) -> bool:
    """Whether ``spec`` names a Python file's object (``file.py:object``) rather than a registered model.

    Examples
    --------
    >>> is_path_spec("models/my_chain.py:build"), is_path_spec("ishigami")
    (True, False)
    """
    path, sep, _ = spec.rpartition(":")
    return bool(sep) and path.endswith(".py")


def model_from_file(spec: str, *, base: str | os.PathLike[str] | None = None, **options: Any) -> ForwardModel:
    r"""The ForwardModel (or chain) ``object`` of the Python file in ``spec = "path/to/file.py:object"``.

    The file is imported and run, like ``python file.py``: use it only for code you trust. ``path`` is
    relative to ``base`` (a study file's folder) or to the current folder. ``object`` is a
    ForwardModel (a chain is one) or a function returning one; ``options`` are passed to that function.
    The file's folder is put on ``sys.path`` first, so that it can import its neighbours.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> folder = pathlib.Path(tempfile.mkdtemp())
    >>> _ = (folder / "mine.py").write_text(
    ...     "from uqbridge import ForwardModel, Input, Normal, Output\n"
    ...     "def build(scale=2.0):\n"
    ...     "    return ForwardModel('double', lambda x: {'y': scale * x}, [Input('x', Normal(0, 1))], [Output('y')])\n")
    >>> model_from_file("mine.py:build", base=folder, scale=3.0)(x=[1.0])["y"].tolist()
    [3.0]
    """
    path_text, sep, attribute = spec.rpartition(":")
    if not sep or not path_text.endswith(".py") or not attribute.isidentifier():
        raise ValueError(f"model {spec!r}: expected 'path/to/file.py:object' (object a ForwardModel, a chain or "
                         "a function returning one)")
    path = Path(path_text)
    if not path.is_absolute() and base is not None:
        path = Path(base) / path
    if not path.is_file():
        raise FileNotFoundError(f"model {spec!r}: no Python file at {os.fspath(path)!r}"
                                + (f" (relative to {os.fspath(base)!r})" if base is not None else ""))
    path = path.resolve()
    digest = hashlib.sha1(os.fspath(path).encode()).hexdigest()[:10]  # stable across processes
    module_name = f"uqbridge_user_{path.stem}_{digest}"
    module = sys.modules.get(module_name)
    if module is None:
        loader_spec = importlib.util.spec_from_file_location(module_name, path)
        if loader_spec is None or loader_spec.loader is None:  # pragma: no cover - a .py file always has one
            raise ValueError(f"model {spec!r}: cannot import {os.fspath(path)!r}")
        module = importlib.util.module_from_spec(loader_spec)
        folder = os.fspath(path.parent)
        if folder not in sys.path:
            sys.path.insert(0, folder)
        sys.modules[module_name] = module  # registered first: pickling by reference finds it
        try:
            loader_spec.loader.exec_module(module)
        except BaseException:
            del sys.modules[module_name]
            raise
    if not hasattr(module, attribute):
        public = sorted(n for n, v in vars(module).items() if not n.startswith("_") and
                        (isinstance(v, ForwardModel) or inspect.isfunction(v)) and getattr(v, "__module__", module_name) == module_name)
        raise KeyError(f"model {spec!r}: {os.fspath(path)!r} has no {attribute!r}; models or functions in it: {public}")
    target = getattr(module, attribute)
    if isinstance(target, ForwardModel):
        if options:
            raise TypeError(f"model {spec!r} is a ForwardModel and takes no options; got {sorted(options)}")
        return target
    if not callable(target):
        raise TypeError(f"model {spec!r}: {attribute!r} is a {type(target).__name__}, not a ForwardModel, a chain "
                        "or a function returning one")
    _check_option_types(spec, target, options)
    model = target(**options)
    if not isinstance(model, ForwardModel):
        raise TypeError(f"model {spec!r}: {attribute}() returned a {type(model).__name__}, not a ForwardModel "
                        "(build one with uqbridge.ForwardModel or uqbridge.chain)")
    return model


def load_model(spec: str, *, base: str | os.PathLike[str] | None = None, **options: Any) -> ForwardModel:
    """A registered model by name, or a user's model by ``path/to/file.py:object`` (see :func:`model_from_file`).

    Examples
    --------
    >>> load_model("ishigami").name
    'ishigami'
    """
    if not isinstance(spec, str) or not spec.strip():
        raise TypeError(f"model must be a registered name or 'path/to/file.py:object', got {spec!r}")
    if is_path_spec(spec):
        return model_from_file(spec, base=base, **options)
    return get_model(spec, **options)
