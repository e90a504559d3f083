"""Pf under epistemic uncertainty against closed forms: with S = μ_S + σ_S z and μ_S ~ N(5, 1)
epistemic, Pf(μ_S, σ_S) = Φ(−(10 − μ_S)/√(1 + σ_S²)) and the predictive Pf integrates μ_S out
analytically: E[Pf] = E_σ[Φ(−5/√(2 + σ_S²))]."""

import numpy as np
import pytest
from reliability_cases import epistemic_limit_state as _limit_state
from scipy import integrate, special, stats

from uqbridge import ForwardModel, Input, Normal, Output
from uqbridge.reliability import LimitState, pf_epistemic


def test_predictive_pf_credible_interval_and_importance():
    ls = _limit_state()
    r = pf_epistemic(ls, method="form", n_outer=200, rng=1, method_options={"gradient": "fd"})
    mu, sig = r.epistemic_values.sel(epistemic_input="mu_S").values, r.epistemic_values.sel(epistemic_input="sigma_S").values
    # inner FORM is exact for this linear-normal g
    np.testing.assert_allclose(r.pf_conditional.values, special.ndtr(-(10 - mu) / np.sqrt(1 + sig**2)), rtol=1e-6)
    exact = integrate.quad(lambda s: special.ndtr(-5 / np.sqrt(2 + s * s)), 0.9, 1.1)[0] / 0.2
    assert abs(float(r.pf) - exact) <= 4 * float(r.pf_se)
    # credible interval: Pf is increasing in μ_S and nearly independent of σ_S, so its 5 % / 95 %
    # quantiles are close to Pf at μ_S's quantiles (σ_S ≈ 1); tolerance from the order-statistic
    # error of a quantile, sqrt(p(1−p)/n)/f(q), mapped to μ_S (~0.15) plus the σ_S spread
    for q, value in ((0.05, float(r.pf_credible_low)), (0.95, float(r.pf_credible_high))):
        mu_q = stats.norm(5, 1).ppf(q)
        mu_from_pf = 10 + np.sqrt(2.0) * special.ndtri(value)
        assert abs(mu_from_pf - mu_q) < 4 * np.sqrt(q * (1 - q) / 200) / stats.norm.pdf(stats.norm.ppf(q)) + 0.1
    assert float(r.pf_credible_low) < float(r.pf_median) < float(r.pf_credible_high)
    imp = r.importance.to_series()
    assert imp["mu_S"] > 0.95 and abs(imp["sigma_S"]) < 0.3
    assert int(r.n_runs) == int(r.n_runs_conditional.sum())


def test_given_posterior_samples_and_sampling_inner():
    """Posterior draws as outer samples; inner Monte Carlo; the predictive mean matches E[Pf]."""
    ls = _limit_state()
    rng = np.random.default_rng(0)
    draws = {"mu_S": rng.normal(6.0, 0.3, 8), "sigma_S": np.full(8, 1.0)}
    r = pf_epistemic(ls, method="importance_sampling", samples=draws, rng=2, method_options={"n": 400})
    assert r.sizes["epistemic_sample"] == 8
    exact = special.ndtr(-(10 - draws["mu_S"]) / np.sqrt(2.0))
    z = (r.pf_conditional.values - exact) / r.pf_conditional_se.values
    assert np.all(np.abs(z) < 4)


def test_epistemic_errors():
    ls = _limit_state()
    with pytest.raises(ValueError, match="method must be one of"):
        pf_epistemic(ls, method="laplace")
    with pytest.raises(KeyError, match="are not epistemic inputs"):
        pf_epistemic(ls, samples={"R": [1.0, 2.0], "mu_S": [1.0, 2.0], "sigma_S": [1.0, 1.0]})
    with pytest.raises(KeyError, match="lack epistemic input\\(s\\) \\['sigma_S'\\]"):
        pf_epistemic(ls, samples={"mu_S": [1.0, 2.0]})
    m = ForwardModel("a", lambda R: {"y": R}, [Input("R", Normal(1, 1))], [Output("y")])
    with pytest.raises(ValueError, match="has no epistemic inputs"):
        pf_epistemic(LimitState(m, "y"))


def test_tensor_gradients_compile_once_for_the_whole_outer_loop(monkeypatch):
    """The fixed epistemic values are inputs of one compiled gradient (not constants baked into one
    compilation per outer sample); the inner FORM stays exact: Pf = Φ(−(10 − μ_S)/√(1 + σ_S²))."""
    from uqbridge.reliability import _derivatives

    compiled = []
    original = _derivatives._compile
    monkeypatch.setattr(_derivatives, "_compile", lambda ev: compiled.append(1) or original(ev))
    monkeypatch.setattr(_derivatives, "_COMPILED", type(_derivatives._COMPILED)())
    r = pf_epistemic(_limit_state(), method="form", n_outer=12, rng=3, method_options={"gradient": "tensor"})
    mu, sig = (r.epistemic_values.sel(epistemic_input=n).values for n in ("mu_S", "sigma_S"))
    np.testing.assert_allclose(r.pf_conditional.values, special.ndtr(-(10 - mu) / np.sqrt(1 + sig**2)), rtol=1e-6)
    assert len(compiled) == 1
