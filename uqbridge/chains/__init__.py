"""Multiscale chains: stages at named scales wired by name, per-scale attribution, stage surrogates.

``graph`` builds chains (:class:`Stage`, :func:`chain`, :func:`adapter`); ``shares`` splits a chain
output's variance and Pf by scale; ``stage_surrogate`` replaces an expensive stage by a checked surrogate;
``voi`` ranks measurements and simulations per scale by the macro uncertainty they are expected to remove.

The names are imported on first use (PEP 562), so that building a chain does not import xarray.
"""

from __future__ import annotations

import importlib
import types
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .graph import GROUPINGS, ChainModel, Stage, Wire, Wired, adapter, chain, check_units, scale_groups
    from .shares import pf_by_scale, scale_importance, scale_shares
    from .stage_surrogate import macro_estimate, surrogate_stage
    from .voi import Experiment, value_of_information

# public name -> the submodule defining it
_LAZY: dict[str, str] = {
    **dict.fromkeys(("GROUPINGS", "ChainModel", "Stage", "Wire", "Wired", "adapter", "chain", "check_units",
                     "scale_groups"), ".graph"),
    **dict.fromkeys(("pf_by_scale", "scale_importance", "scale_shares"), ".shares"),
    **dict.fromkeys(("macro_estimate", "surrogate_stage"), ".stage_surrogate"),
    **dict.fromkeys(("Experiment", "value_of_information"), ".voi"),
}

__all__ = [
    "GROUPINGS",
    "Experiment",
    "ChainModel",
    "Stage",
    "Wire",
    "Wired",
    "adapter",
    "chain",
    "check_units",
    "macro_estimate",
    "pf_by_scale",
    "scale_groups",
    "scale_importance",
    "scale_shares",
    "surrogate_stage",
    "value_of_information",
]


def __getattr__(name: str) -> Any:
    """Import the submodule defining the public ``name`` on first use, and keep the value here."""
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(module, __name__), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    """The public names (imported or not yet), the module's dunders and the submodules already imported."""
    loaded = {n for n, v in globals().items() if isinstance(v, types.ModuleType) and v.__name__ == f"{__name__}.{n}"}
    return sorted(set(__all__) | {n for n in globals() if n.startswith("__")} | loaded)
