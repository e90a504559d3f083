"""Global sensitivity analysis of declared models: SALib methods, Shapley effects, PCE-based Sobol'.

Every function reads the model's declared inputs and returns an ``xarray.Dataset`` over ``output`` ×
``input`` with confidence bounds and provenance; :func:`compare` stacks methods along ``method``.
"""

from .salib import delta, fast, kind_groups, morris, pawn, rbd_fast, sobol_indices

__all__ = ["delta", "fast", "kind_groups", "morris", "pawn", "rbd_fast", "sobol_indices"]
