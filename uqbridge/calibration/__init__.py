"""Bayesian calibration with PyMC: data + declared forward model → posterior of the micro parameters.

Priors come from the epistemic inputs' declared distributions; per-specimen aleatory inputs become
hierarchical latents; results are ArviZ InferenceData gated by convergence diagnostics; the posterior is
pushed forward as the new joint epistemic distribution of the model.
"""

from .blackbox import ModelOp
from .build import LIKELIHOODS, Noise, build_model
from .data import Observations, observations
from .diagnostics import Thresholds, diagnose, failures, predictive_check
from .pushforward import pushforward
from .result import CalibrationResult, load_calibration
from .run import PATHS, calibrate
from .surrogate import SURROGATE_TOLERANCE, prior_model, surrogate_check

__all__ = [
    "CalibrationResult",
    "LIKELIHOODS",
    "ModelOp",
    "Noise",
    "Observations",
    "PATHS",
    "SURROGATE_TOLERANCE",
    "Thresholds",
    "build_model",
    "calibrate",
    "diagnose",
    "failures",
    "load_calibration",
    "observations",
    "predictive_check",
    "prior_model",
    "pushforward",
    "surrogate_check",
]
