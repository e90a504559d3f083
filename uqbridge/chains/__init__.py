"""Multiscale chains: stages at named scales wired by name, per-scale attribution, stage surrogates.

``graph`` builds chains (:class:`Stage`, :func:`chain`, :func:`adapter`); ``shares`` splits a chain
output's variance and Pf by scale; ``stage_surrogate`` replaces an expensive stage by a checked surrogate;
``voi`` ranks measurements and simulations per scale by the macro uncertainty they are expected to remove.
"""

from .graph import GROUPINGS, ChainModel, Stage, Wire, Wired, adapter, chain, check_units, scale_groups
from .shares import pf_by_scale, scale_importance, scale_shares
from .stage_surrogate import macro_estimate, surrogate_stage
from .voi import Experiment, value_of_information

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
