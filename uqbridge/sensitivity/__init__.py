"""Global sensitivity analysis of declared models: SALib methods, Shapley effects, PCE-based Sobol'.

Every function reads the model's declared inputs and returns an ``xarray.Dataset`` over ``output`` ×
``input`` with confidence bounds and provenance; :func:`compare` stacks methods along ``method``.
"""

from .compare import METHODS, compare, pce_indices
from .salib import delta, fast, kind_groups, morris, pawn, rbd_fast, sobol_indices
from .shapley import shapley_effects

__all__ = [
    "METHODS",
    "compare",
    "delta",
    "fast",
    "kind_groups",
    "morris",
    "pawn",
    "pce_indices",
    "rbd_fast",
    "shapley_effects",
    "sobol_indices",
]
