"""Polynomial chaos surrogates: fit (quadrature, least squares, sparse LARS/OMP with automatic degree),
validate, and read moments and Sobol indices from the coefficients.

``fit_pce`` returns a :class:`PolynomialChaos`, whose ``.model`` is a forward model usable in place of
the expensive one (NumPy and PyTensor); ``load_pce`` reads a saved expansion.
"""

from .._optional import require

require("uqbridge.pce", "pce", "chaospy", "sklearn")


from .basis import GermMap, hyperbolic_indices
from .expansion import PolynomialChaos, load_pce
from .fit import METHODS, fit_pce, loo_path
from .options import Quadrature, Regression, method_from_keys, split_method_keys

__all__ = [
    "METHODS", "GermMap", "PolynomialChaos", "Quadrature", "Regression", "fit_pce", "hyperbolic_indices",
    "load_pce", "loo_path", "method_from_keys", "split_method_keys",
]
