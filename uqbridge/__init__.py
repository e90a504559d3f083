"""uqbridge: uncertainty quantification for multiscale (micro-to-macro) models.

Declare a forward model with aleatory and epistemic inputs, then propagate, decompose, analyse
sensitivity and reliability, and calibrate — results come back as xarray Datasets.

The public names are imported on first use (PEP 562): ``import uqbridge`` costs little, so the
``uqbridge`` command answers or refuses quickly, and ``from uqbridge import propagate`` imports
xarray and SciPy's statistics only when the name is asked for.
"""

from __future__ import annotations

import importlib
import importlib.util
import sys
import types
from typing import TYPE_CHECKING, Any

from ._version import __version__

if TYPE_CHECKING:  # the names below, seen by type checkers and IDEs as ordinary imports
    from .chains.graph import ChainModel, Stage, adapter, chain
    from .designs import sample_inputs, unit_design
    from .distributions import (
        Beta,
        Constant,
        Empirical,
        Gamma,
        Gumbel,
        LogNormal,
        Normal,
        Triangular,
        TruncatedNormal,
        Uniform,
        Weibull,
    )
    from .execution.batch import evaluate
    from .inputs import Input, InputSet
    from .model import ForwardModel, Output, pointwise
    from .propagate import propagate, summarize
    from .registry import get_model, list_models
    from .results import load, save
    from .variance import conditional_distributions, decompose

# public name -> the submodule defining it (imported when the name is first looked up)
_LAZY: dict[str, str] = {
    **dict.fromkeys(("ChainModel", "Stage", "adapter", "chain"), ".chains.graph"),
    **dict.fromkeys(("sample_inputs", "unit_design"), ".designs"),
    **dict.fromkeys(("Beta", "Constant", "Empirical", "Gamma", "Gumbel", "LogNormal", "Normal", "Triangular",
                     "TruncatedNormal", "Uniform", "Weibull"), ".distributions"),
    "evaluate": ".execution.batch",
    **dict.fromkeys(("Input", "InputSet"), ".inputs"),
    **dict.fromkeys(("ForwardModel", "Output", "pointwise"), ".model"),
    **dict.fromkeys(("propagate", "summarize"), ".propagate"),
    **dict.fromkeys(("get_model", "list_models"), ".registry"),
    **dict.fromkeys(("load", "save"), ".results"),
    **dict.fromkeys(("conditional_distributions", "decompose"), ".variance"),
}

__all__ = [
    "Beta",
    "ChainModel",
    "Constant",
    "Empirical",
    "ForwardModel",
    "Gamma",
    "Gumbel",
    "Input",
    "InputSet",
    "LogNormal",
    "Normal",
    "Output",
    "Stage",
    "Triangular",
    "TruncatedNormal",
    "Uniform",
    "Weibull",
    "__version__",
    "adapter",
    "chain",
    "conditional_distributions",
    "decompose",
    "evaluate",
    "get_model",
    "list_models",
    "load",
    "pointwise",
    "propagate",
    "sample_inputs",
    "save",
    "summarize",
    "unit_design",
]


def __getattr__(name: str) -> Any:
    """Import the submodule defining the public ``name`` on first use, and keep the value here.

    A name that is not public but is a submodule (``uqbridge.chains``) is imported too, as
    ``import uqbridge`` used to do for the submodules it loaded.
    """
    module = _LAZY.get(name)
    if module is not None:
        value = getattr(importlib.import_module(module, __name__), name)
        globals()[name] = value
        return value
    if not name.startswith("__") and importlib.util.find_spec(f"{__name__}.{name}") is not None:
        return importlib.import_module(f"{__name__}.{name}")
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__() -> list[str]:
    """The public names (imported or not yet), the module's dunders and the submodules already imported."""
    loaded = {n for n, v in globals().items() if isinstance(v, types.ModuleType) and v.__name__ == f"{__name__}.{n}"}
    return sorted(set(__all__) | {n for n in globals() if n.startswith("__")} | loaded)


class _Package(types.ModuleType):
    """This package's module type: importing the submodule ``uqbridge.propagate`` (as the package's
    own modules do) must not rebind the public function ``uqbridge.propagate`` to that submodule."""

    def __setattr__(self, name: str, value: Any) -> None:
        if isinstance(value, types.ModuleType) and value.__name__ == f"{__name__}.{name}" and name in _LAZY:
            value = getattr(value, name, value)
        super().__setattr__(name, value)


sys.modules[__name__].__class__ = _Package
