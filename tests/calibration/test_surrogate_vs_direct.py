"""Surrogate path (PCE over the prior + NUTS) against the direct path (NUTS on the model itself)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from uqbridge import ForwardModel, Input, LogNormal, Output, Uniform
from uqbridge.calibration import Sampling, calibrate


def relaxation(t, a, k, xp=np):
    return {"y": a * xp.exp(-k * t)}


def relaxation_model() -> ForwardModel:
    """Exponential relaxation ``y = a exp(-k t)``, smooth in all inputs: a PCE converges fast."""
    return ForwardModel(
        "relaxation", relaxation,
        [Input("t", Uniform(0.0, 2.0), "aleatory"), Input("a", LogNormal(0.0, 0.3), "epistemic"),
         Input("k", LogNormal(0.0, 0.3), "epistemic")],
        [Output("y")], differentiable=True,
    )


@pytest.mark.slow
def test_surrogate_and_direct_posteriors_agree():
    """Posterior means within 0.1 posterior sd, and the surrogate check below 0.1 noise sd.

    Reference: the direct NUTS posterior on the exact model (same data, priors, seed and draws).
    """
    model = relaxation_model()
    rng = np.random.default_rng(3)
    t = np.linspace(0.0, 2.0, 15)
    data = pd.DataFrame({"t": t, "y": 1.2 * np.exp(-0.8 * t) + 0.05 * rng.normal(size=t.size)})
    direct = calibrate(model, data, noise=0.05, sampling=Sampling(draws=2000), rng=1)
    surrogate = calibrate(model, data, noise=0.05, path="surrogate", surrogate_runs=200, sampling=Sampling(draws=2000), rng=1)
    assert direct.passed and surrogate.passed, (direct.warnings, surrogate.warnings)
    print(f"surrogate: {surrogate.idata.posterior.attrs['n_runs']} true-model runs "
          f"({surrogate.surrogate.attrs['n_runs_fit']} fit + {surrogate.surrogate.attrs['n_runs']} check), "
          f"relative rmse {float(surrogate.surrogate['relative_rmse'].max()):.2e}")
    for name in ("a", "k"):
        d, s = direct.idata.posterior[name], surrogate.idata.posterior[name]
        assert abs(float(d.mean()) - float(s.mean())) < 0.1 * float(d.std()), name
        assert abs(float(d.std()) / float(s.std()) - 1) < 0.1, name
