"""Small models with closed-form posteriors shared by the calibration tests (imported, not collected)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from uqbridge import ForwardModel, Input, Normal, Output

PRIOR_A = Normal(1.0, 2.0)
PRIOR_B = Normal(-0.5, 1.5)
SIGMA = 0.4


def linear_function(x, a, b, xp=np):
    return {"y": a + b * x}


def linear_model(differentiable: bool = True) -> ForwardModel:
    """``y = a + b x``: the conjugate normal–linear regression with Normal priors on (a, b)."""
    return ForwardModel(
        "linear" if differentiable else "linear_blackbox",
        linear_function if differentiable else (lambda x, a, b: {"y": a + b * x}),
        [
            Input("x", Normal(0.0, 1.0), "aleatory", "-", "controlled condition"),
            Input("a", PRIOR_A, "epistemic"),
            Input("b", PRIOR_B, "epistemic"),
        ],
        [Output("y")],
        differentiable=differentiable,
    )


def conjugate_posterior(x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Analytic posterior mean and covariance of (a, b) with known noise ``SIGMA``.

    Bishop, *Pattern Recognition and Machine Learning* (2006), eqs. 3.49–3.51 with a general Gaussian
    prior: S⁻¹ = S0⁻¹ + XᵀX/σ², m = S (S0⁻¹ m0 + Xᵀy/σ²).
    """
    X = np.column_stack([np.ones_like(x), x])
    m0 = np.array([PRIOR_A.mu, PRIOR_B.mu])
    p0 = np.diag([PRIOR_A.sigma**-2, PRIOR_B.sigma**-2])
    cov = np.linalg.inv(p0 + X.T @ X / SIGMA**2)
    return cov @ (p0 @ m0 + X.T @ y / SIGMA**2), cov


def linear_data() -> pd.DataFrame:
    """Twelve noisy observations of y = 0.7 + 1.3 x on x in [-1, 2]."""
    rng = np.random.default_rng(20261125)
    x = np.linspace(-1.0, 2.0, 12)
    return pd.DataFrame({"x": x, "y": 0.7 + 1.3 * x + SIGMA * rng.normal(size=x.size)})


#: Parameters of the synthetic Kocks–Mecking experiment (Cu-like, inside the declared priors).
KM_TRUTH = {"tau0": 1.2, "alpha": 0.33, "k1": 1.7e8, "k2": 9.0}
KM_TAU_NOISE = 0.3  # MPa
KM_RHO_NOISE = 1e13  # m^-2, e.g. X-ray line-profile analysis at two strains per specimen


def km_data(model, *, n_specimens: int = 4, seed: int = 7) -> tuple[pd.DataFrame, np.ndarray]:
    """Synthetic KM curves with ``KM_TRUTH`` (see ``models.kocks_mecking.synthetic_curves``)."""
    from uqbridge_models.kocks_mecking import synthetic_curves

    return synthetic_curves(KM_TRUTH, n_specimens=n_specimens, tau_noise=KM_TAU_NOISE, rho_noise=KM_RHO_NOISE, rng=seed)
