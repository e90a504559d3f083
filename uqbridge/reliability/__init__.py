"""Reliability analysis: limit states on model outputs, Pf by FORM/SORM, Monte Carlo, importance
sampling, subset simulation and active-learning surrogates, and Pf under epistemic uncertainty.

Every method works in the independent standard-normal space of the model's uncertain inputs
(``InputSet.from_standard_normal``, the Nataf transform) and returns an ``xarray.Dataset`` with
``pf``, ``pf_se``, ``cov``, ``pf_low``, ``pf_high``, ``beta``, ``n_runs`` and ``converged``; its
attributes say whether the result is ``reliable`` and, if not, the ``reason``.

A model that fails on some points (raises, calls ``sys.exit``, returns NaN) fails those runs only:
they are counted in ``attrs["n_failed"]``, the first one is named in the reason, and the result is
marked unreliable. FORM and SORM treat them as rejected steps; the sampling estimators leave them
out of the estimate (Monte Carlo also gives ``pf_if_failed_runs_safe`` / ``pf_if_failed_runs_fail``,
the two extremes they could change it to); a run in which every point fails raises.
"""

from .active_learning import active_learning
from .auto import recommended
from .epistemic import pf_epistemic
from .form import form
from .limit_state import LimitState, ParallelSystem, SeriesSystem
from .registry import METHODS
from .sampling import importance_sampling, monte_carlo
from .sorm import sorm, sorm_formulas
from .subset import subset_simulation

__all__ = [
    "METHODS",
    "LimitState",
    "ParallelSystem",
    "SeriesSystem",
    "active_learning",
    "form",
    "importance_sampling",
    "monte_carlo",
    "pf_epistemic",
    "recommended",
    "sorm",
    "sorm_formulas",
    "subset_simulation",
]
