"""The model registry: named forward models found through the ``uqbridge.models`` entry points.

Each entry point loads a dict ``{name: "module:attribute"}``; the attribute is a ForwardModel or a
function returning one with its default settings. Models are imported only when asked for.
"""

from __future__ import annotations

import importlib
import inspect
import json
import weakref
from importlib.metadata import entry_points
from typing import Any

from .model import ForwardModel

__all__ = ["get_model", "list_models", "registered_origin"]

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
