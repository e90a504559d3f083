"""Stage surrogates that keep what is known: exact germs for the stage's own inputs, a GP beside the PCE,
and a surrogate-error term set by the measured held-out error rather than by 1/n_test."""

import json
import warnings

import numpy as np
import pytest

import uqbridge as uq
from uqbridge.chains.stage_surrogate import macro_estimate, surrogate_stage


def _chain():
    up = uq.ForwardModel("up", lambda a: {"x": 10 + a}, [uq.Input("a", uq.Normal(0, 1))], [uq.Output("x")])
    stage = uq.ForwardModel("stage", lambda x, p: {"y": x * (1 - p)},
                            [uq.Input("x", uq.Normal(10, 1)), uq.Input("p", uq.Uniform(0, 0.05))], [uq.Output("y")])
    return uq.chain(up, stage)


def test_own_inputs_keep_their_declared_law():
    """y = x (1 − p), p ~ U(0, 0.05) read by the stage itself, x wired (normal): with p's Legendre germ
    (its declared Uniform) and x's normal germ, y is a degree-2 polynomial of the germs — exact up to
    round-off (the issue measured 1.7e-2 with a moment-matched LogNormal germ for p); required ≤ 1e-10."""
    g = surrogate_stage(_chain(), "stage", n_train=30, n_test=30, rng=0)
    rep = g.surrogate_reports[-1]
    assert float(rep["holdout_rmse"].sel(output="y")) <= 1e-10
    assert json.loads(rep.attrs["germ_laws"])["p"] == "Uniform(lower=0, upper=0.05)"


@pytest.mark.slow
def test_gp_surrogate_and_auto_choice():
    """A GP stage surrogate on the same smooth stage: held-out relative RMSE ≤ 1e-3 (a smooth 2-d function
    at 40 runs); ``kind="auto"`` keeps the PCE here (its cross-validated error is at round-off)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        gp = surrogate_stage(_chain(), "stage", n_train=40, n_test=30, kind="gp", rng=1)
        auto = surrogate_stage(_chain(), "stage", n_train=40, n_test=30, kind="auto", rng=1)
    assert gp.stages[1].name == "stage_gp"
    assert float(gp.surrogate_reports[-1]["holdout_relative_rmse"].sel(output="y")) <= 1e-3
    assert auto.stages[1].name == "stage_pce" and auto.surrogate_reports[-1].attrs["surrogate_kind"] == "pce"
    with pytest.raises(ValueError, match="kind='nn'"):
        surrogate_stage(_chain(), "stage", n_train=20, n_test=20, kind="nn", rng=1)


def test_error_term_reflects_the_measured_error():
    """An exact surrogate (held-out error ~1e-15): the Pf error term's SE is the pseudo-count floor
    √((0 + 1)/(n + 1) / n_test) ≈ 4e-4 at n = 40 000, n_test = 30 — not the old 1/n_test floor
    (√(1/(n_test (n_test − 1))) = 0.034). Pf = P(x(1 − p) ≥ 11.5) agrees with the closed form
    E_p[Φ(−(11.5/(1 − p) − 10))] (1-d quadrature, below) within 4 reported SE."""
    g = surrogate_stage(_chain(), "stage", n_train=30, n_test=30, rng=0)
    est = macro_estimate(g, "y", n=40_000, threshold=11.5, rng=3)
    assert float(est["pf_surrogate_error_se"]) == pytest.approx(np.sqrt(1 / 40_001 / 30), rel=1e-6)
    from scipy import special

    p = (np.arange(2000) + 0.5) / 2000 * 0.05
    exact = float(np.mean(special.ndtr(-(11.5 / (1 - p) - 10))))
    assert abs(float(est["pf"]) - exact) < 4 * float(est["pf_se"])
