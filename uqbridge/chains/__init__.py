"""Multiscale chains: stages at named scales wired by name, per-scale attribution, stage surrogates.

``graph`` builds chains (:class:`Stage`, :func:`chain`, :func:`adapter`); ``shares`` splits a chain
output's variance and Pf by scale; ``stage_surrogate`` replaces an expensive stage by a checked surrogate;
``voi`` ranks measurements and simulations per scale by the macro uncertainty they are expected to remove.

The names are imported on first use (PEP 562), so that building a chain does not import xarray.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from .._lazy import lazy_names

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

# a literal list, for linters and readers; a test holds it equal to the lazy table's names
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

__getattr__, __dir__ = lazy_names(__name__, _LAZY, globals())
