"""Global sensitivity analysis of declared models: SALib methods, Shapley effects, PCE-based Sobol'.

Every function reads the model's declared inputs and returns an ``xarray.Dataset`` over ``output`` ×
``input`` with confidence bounds and provenance; :func:`compare` stacks estimators along
``estimator``. :data:`ESTIMATORS` is the one registry of methods.
"""

from .._optional import require

require("uqbridge.sensitivity", "sensitivity", "SALib")


from .compare import METHODS, SensitivityWarning, compare, index_warnings
from .pce_based import pce_indices
from .registry import ESTIMATORS, Estimator, estimator_help
from .salib import delta, fast, kind_groups, morris, pawn, rbd_fast, sobol_indices
from .shapley import shapley_effects

__all__ = [
    "ESTIMATORS",
    "METHODS",
    "Estimator",
    "SensitivityWarning",
    "compare",
    "delta",
    "estimator_help",
    "fast",
    "index_warnings",
    "kind_groups",
    "morris",
    "pawn",
    "pce_indices",
    "rbd_fast",
    "shapley_effects",
    "sobol_indices",
]
