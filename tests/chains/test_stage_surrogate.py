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


def _kinked_chain():
    """x = a ~ N(0, 1) fed to a kinked stage k = max(x, 0) + 0.1 b (b ~ U(-1, 1)), then y = k + 0.5 c."""
    up = uq.ForwardModel("up", lambda a: {"x": 1.0 * a}, [uq.Input("a", uq.Normal(0, 1))], [uq.Output("x")])
    mid = uq.ForwardModel("kink", lambda x, b: {"k": np.maximum(x, 0.0) + 0.1 * b},
                          [uq.Input("x", uq.Normal(0, 1)), uq.Input("b", uq.Uniform(-1, 1))], [uq.Output("k")])
    top = uq.ForwardModel("top", lambda k, c: {"y": k + 0.5 * c},
                          [uq.Input("k", uq.Normal(0, 1)), uq.Input("c", uq.Normal(0, 1))], [uq.Output("y")])
    return uq.chain(up, mid, top)


def test_enrich_refuses_bad_specifications_before_any_run():
    g = _kinked_chain()
    with pytest.raises(ValueError, match="not both"):
        surrogate_stage(g, "kink", focus={"output": "y", "threshold": 2.0}, enrich={"output": "y", "threshold": 2.0})
    with pytest.raises(ValueError, match="unknown keys"):
        surrogate_stage(g, "kink", enrich={"output": "y", "threshold": 2.0, "budget": 3})
    with pytest.raises(ValueError, match="not computed from stage"):
        surrogate_stage(g, "kink", enrich={"output": "x", "threshold": 2.0})
    with pytest.raises(ValueError, match="'threshold'"):
        surrogate_stage(g, "kink", enrich={"output": "y"})
    with pytest.raises(ValueError, match="quantile levels"):
        surrogate_stage(g, "kink", enrich={"output": "y", "quantile": 95})


def test_enrichment_on_a_kinked_stage_against_quadrature():
    """Kinked middle stage, macro limit state y = max(a, 0) + 0.1 b + 0.5 c ≥ 2. Reference by quadrature:
    Pf = E_{a,b}[Φ((max(a, 0) + 0.1 b − 2) / 0.5)] (trapezoid in a above the kink, midpoints in b).
    Enrichment (GP, two batches of 10 runs) adds runs, the error model is checked on them, and the
    corrected Pf agrees with the quadrature within 4 reported SE; the enrichment runs are training runs
    (counted in true_stage_runs, not among the held-out runs)."""
    from scipy import special

    g = _kinked_chain()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        s = surrogate_stage(g, "kink", n_train=20, n_test=30, kind="gp", rng=4,
                            enrich={"output": "y", "threshold": 2.0, "n_add": 10, "batches": 2, "candidates": 4000})
    rep = s.surrogate_reports[-1]
    history = json.loads(rep.attrs["enrich_history"])
    assert rep.attrs["enrich_runs"] == 10 * (len(history) - 1) and len(history) >= 2
    assert rep.attrs["true_stage_runs"] == 20 + rep.attrs["enrich_runs"] + 30 and rep.sizes["holdout"] == 30
    assert rep.attrs["n_train"] == 20 + rep.attrs["enrich_runs"]
    est = macro_estimate(s, "y", n=40_000, threshold=2.0, rng=5)
    b = (np.arange(200) + 0.5) / 200 * 2 - 1
    a = np.linspace(0, 8, 4001)
    wa = np.exp(-a**2 / 2) / np.sqrt(2 * np.pi) * (a[1] - a[0])
    wa[[0, -1]] /= 2  # trapezoid on a >= 0; below the kink the integrand does not depend on a (weight 1/2)
    pf = float(0.5 * special.ndtr((0.1 * b - 2) / 0.5).mean()
               + np.sum(wa[:, None] * special.ndtr((a[:, None] + 0.1 * b[None, :] - 2) / 0.5)) / b.size)
    assert abs(pf - 0.03703) < 1e-5  # 4·10^6-run Monte Carlo: 0.03717 ± 0.00010
    assert abs(float(est["pf"]) - pf) < 4 * float(est["pf_se"])
