"""uqbridge: uncertainty quantification for multiscale (micro-to-macro) models.

Declare a forward model with aleatory and epistemic inputs, then propagate, decompose, analyse
sensitivity and reliability, and calibrate — results come back as xarray Datasets.

The public names are imported on first use (PEP 562): ``import uqbridge`` costs little, so the
``uqbridge`` command answers or refuses quickly, and ``from uqbridge import propagate`` imports
xarray and SciPy's statistics only when the name is asked for.
"""

from __future__ import annotations

import sys
import types
from typing import TYPE_CHECKING, Any

from ._lazy import lazy_names
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

# a literal list, for linters and readers; a test holds it equal to the lazy table's names
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


__getattr__, _dir = lazy_names(__name__, _LAZY, globals(), submodules=True)


def __dir__() -> list[str]:
    """The public names (imported or not yet), ``__version__``, the dunders and the submodules already imported."""
    return sorted({*_dir(), "__version__"})


class _Package(types.ModuleType):
    """This package's module type: importing the submodule ``uqbridge.propagate`` (as the package's
    own modules do) must not rebind the public function ``uqbridge.propagate`` to that submodule."""

    def __setattr__(self, name: str, value: Any) -> None:
        if isinstance(value, types.ModuleType) and value.__name__ == f"{__name__}.{name}" and name in _LAZY:
            value = getattr(value, name, value)
        super().__setattr__(name, value)


sys.modules[__name__].__class__ = _Package
