"""Bayesian calibration with PyMC: data + declared forward model → posterior of the micro parameters.

Priors come from the epistemic inputs' declared distributions; per-specimen aleatory inputs become
hierarchical latents; an optional model discrepancy is calibrated with them; results are ArviZ
InferenceData gated by convergence diagnostics and by model adequacy (predictive coverage, residuals,
parameters informed by the data); predictions at new conditions are validated on held-out data; the
posterior is pushed forward as the new joint epistemic distribution of the model.
"""

from .._optional import require

require("uqbridge.calibration", "calibration", "pymc", "arviz")


from .adequacy import Adequacy, adequacy_failures, identifiability, residual_checks
from .blackbox import ModelOp
from .build import LIKELIHOODS, Noise, build_model
from .data import Observations, observations
from .diagnostics import Thresholds, diagnose, failures, predictive_check
from .discrepancy import GPDiscrepancy, RelativeDiscrepancy
from .predict import holdout, predict, scores, validate
from .pushforward import pushforward
from .result import CalibrationResult, load_calibration
from .run import PATHS, calibrate
from .sampling import MASS_MATRICES, SAMPLERS, Sampling
from .surrogate import SURROGATE_TOLERANCE, prior_model, surrogate_check

__all__ = [
    "LIKELIHOODS",
    "MASS_MATRICES",
    "PATHS",
    "SAMPLERS",
    "SURROGATE_TOLERANCE",
    "Adequacy",
    "CalibrationResult",
    "GPDiscrepancy",
    "ModelOp",
    "Noise",
    "Observations",
    "RelativeDiscrepancy",
    "Sampling",
    "Thresholds",
    "adequacy_failures",
    "build_model",
    "calibrate",
    "diagnose",
    "failures",
    "holdout",
    "identifiability",
    "load_calibration",
    "observations",
    "predict",
    "predictive_check",
    "prior_model",
    "pushforward",
    "residual_checks",
    "scores",
    "surrogate_check",
    "validate",
]
