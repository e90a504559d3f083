"""uqbridge: uncertainty quantification for multiscale (micro-to-macro) models.

Declare a forward model with aleatory and epistemic inputs, then propagate, decompose, analyse
sensitivity and reliability, and calibrate — results come back as xarray Datasets.
"""

from ._version import __version__
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
