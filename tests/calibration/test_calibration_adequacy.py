"""Adequacy gate, model discrepancy, held-out scores: kernels against closed forms, and the gate on
synthetic data whose generating model differs from the fitted one."""

from __future__ import annotations

import arviz as az
import numpy as np
import pandas as pd
import pymc as pm
import pytest
from calibration_cases import linear_model
from scipy import stats

from uqbridge.calibration import (
    GPDiscrepancy,
    Sampling,
    Thresholds,
    calibrate,
    identifiability,
    predict,
    residual_checks,
    scores,
    validate,
)
from uqbridge.calibration.discrepancy import gp_basis, gp_delta, gp_sqrt_psd
from uqbridge.distributions import Normal


def test_gp_basis_and_spectral_density_match_pymc_hsgp():
    """NumPy basis and sqrt spectral density used for prediction equal PyMC's ``HSGP.prior_linearized``.

    Reference: PyMC's implementation of Solin & Särkkä (2020) for an ExpQuad kernel, at fixed eta, ell.
    """
    x = np.linspace(-1, 1, 9)[:, None]
    eta, ell, m, c = 0.7, 0.4, 12, 1.5
    gp = pm.gp.HSGP(m=[m], L=[c], cov_func=eta**2 * pm.gp.cov.ExpQuad(1, ls=ell))
    phi, sqrt_psd = gp.prior_linearized(x)
    np.testing.assert_allclose(gp_basis(x, m, c), phi.eval(), rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(gp_sqrt_psd(np.array(eta), np.array([ell]), m, c), sqrt_psd.eval(), rtol=1e-10)


def test_hsgp_covariance_approximates_the_exact_kernel():
    """phi diag(S) phi^T approximates eta² exp(-r²/(2 ell²)) on the data range [-1, 1] (Riutort-Mayol et
    al. 2023, §4: accurate for c >= 3.2 ell and m >= 1.75 c / ell; the defaults m = 12, c = 2.5 at ell =
    0.8 — boundary effect about exp(-(2 (c - 1))² / (2 ell²)) ≈ 1e-3 of eta²)."""
    x = np.linspace(-1, 1, 7)[:, None]
    eta, ell = 1.3, 0.8
    phi = gp_basis(x, 12, 2.5)
    s = gp_sqrt_psd(np.array(eta), np.array([ell]), 12, 2.5) ** 2
    exact = eta**2 * np.exp(-0.5 * (x - x.T) ** 2 / ell**2)
    np.testing.assert_allclose(phi @ np.diag(s) @ phi.T, exact, atol=3e-3 * eta**2)


def test_scores_against_closed_forms():
    """CRPS of N(0, 1) at y: z(2Φ(z) − 1) + 2φ(z) − 1/√π (Gneiting & Raftery 2007, eq. 5); interval score
    of N(0,1)'s 90 % interval at a point outside it: width + (2/0.1)·distance (ibid., eq. 43)."""
    rng = np.random.default_rng(3)
    draws = rng.normal(size=(200_000, 1))
    for y in (0.0, 1.2, -2.5):
        ref = y * (2 * stats.norm.cdf(y) - 1) + 2 * stats.norm.pdf(y) - 1 / np.sqrt(np.pi)
        got = scores(draws, np.array([y]))["crps"][0]
        assert got == pytest.approx(ref, abs=4 * 1.0 / np.sqrt(draws.shape[0]))
    q = stats.norm.ppf(0.95)
    sc = scores(draws, np.array([3.0]), levels=[0.9])
    assert not sc["inside"][0, 0]
    assert sc["interval_score"][0, 0] == pytest.approx(2 * q + 20 * (3.0 - q), rel=2e-2)


def test_identifiability_data_share_is_the_conjugate_precision_share():
    """Prior N(0,1), one observation y ~ N(theta, s²): posterior precision 1 + 1/s², so the data's share
    is (1/s²)/(1 + 1/s²) and the contraction the same (Gaussian). Exact posterior draws; 4 standard
    errors of a variance estimated from 8000 independent draws (sqrt(2/8000) = 1.6 % of it)."""
    rng = np.random.default_rng(5)
    for s in (0.3, 1.0, 3.0):
        share = (1 / s**2) / (1 + 1 / s**2)
        var = 1 / (1 + 1 / s**2)
        theta = rng.normal(share * 0.4, np.sqrt(var), size=(4, 2000))
        t = identifiability(az.from_dict(posterior={"theta": theta}), {"theta": Normal(0, 1)}).sel(parameter="theta")
        assert float(t["data_share"]) == pytest.approx(share, abs=4 * 0.016 * var * 2), s
        assert float(t["contraction"]) == pytest.approx(share, abs=4 * 0.016 * var), s
    assert not bool(t["informed"])  # s = 3: share 0.1 < 0.2


def test_identifiability_sees_a_ridge_through_the_other_prior():
    """Two N(0,1)-prior parameters of which only the sum is measured (y = a + b, sd 0.05): the exact
    Gaussian posterior has Var(a) = Var(b) ≈ 1/2 (contraction 0.5) yet the data's share of each one's
    precision is ≈ 0 (Kallioinen et al. 2023: no likelihood sensitivity of the marginals), so both are
    flagged; leaving b out of the covariance (not declared) would hide the ridge."""
    rng = np.random.default_rng(8)
    prec = np.eye(2) + np.ones((2, 2)) / 0.05**2
    draws = rng.multivariate_normal([0, 0], np.linalg.inv(prec), size=8000).T.reshape(2, 4, 2000)
    idata = az.from_dict(posterior={"a": draws[0], "b": draws[1]})
    t = identifiability(idata, {"a": Normal(0, 1)}, nuisance={"b": Normal(0, 1)})
    assert float(t["contraction"].sel(parameter="a")) == pytest.approx(0.5, abs=0.05)
    assert float(t["data_share"].sel(parameter="a")) < 0.05 and not bool(t["informed"].sel(parameter="a"))
    hidden = identifiability(idata, {"a": Normal(0, 1)})
    assert bool(hidden["informed"].sel(parameter="a"))


def test_residual_checks_detect_runs_that_coverage_misses():
    """A smooth misfit absorbed by an inflated noise scale: coverage looks fine, residual runs do not."""
    rng = np.random.default_rng(2)
    x = np.linspace(0, 1, 40)
    y = np.sin(6 * x)  # the 'model' below predicts 0 with sd 0.75
    rep = rng.normal(0, 0.75, size=(2, 1000, 40))
    idata = az.from_dict(posterior_predictive={"y": rep}, observed_data={"y": y},
                         constant_data={"x": x}, dims={"y": ["row"], "x": ["row"]},
                         coords={"row": np.arange(40)})
    r = residual_checks(idata).sel(output="y")
    assert float(r["coverage"].sel(level=0.9)) >= float(r["coverage_min"].sel(level=0.9))
    assert float(r["lag1_autocorrelation"]) > float(r["lag1_autocorrelation_max"])
    assert not bool(r["passed"])


# ---- synthetic structural error: data from y = a + b x + 0.6 sin(2.5 x), fitted with y = a + b x ------
TRUE_A, TRUE_B, NOISE = 0.7, 1.3, 0.15


def _structural(x, rng):
    return TRUE_A + TRUE_B * x + 0.6 * np.sin(2.5 * x) + NOISE * rng.normal(size=x.size)


@pytest.fixture(scope="module")
def structural():
    rng = np.random.default_rng(11)
    x = np.linspace(-1, 2, 30)
    train = pd.DataFrame({"x": x, "y": _structural(x, rng)})
    xt = rng.uniform(-1, 2, 300)
    test = pd.DataFrame({"x": xt, "y": _structural(xt, rng)})
    sampler = {"draws": 500, "tune": 700, "chains": 2, "target_accept": 0.99}
    budget = {"noise": ("known", NOISE), "thresholds": Thresholds(ess=150), "rng": 3}
    model = linear_model()
    plain = calibrate(model, train, sampling=Sampling(**sampler), **budget)
    gp = calibrate(model, train, discrepancy=GPDiscrepancy(amplitude=1.0),
                   sampling=Sampling(**sampler, mass_matrix="dense"), **budget)
    return model, train, test, plain, gp


def test_structural_error_without_discrepancy_fails_the_adequacy_gate(structural):
    _, _, _, plain, _ = structural
    assert plain.converged
    assert not plain.adequate and not plain.passed
    assert any("model form misses the data" in w for w in plain.warnings)


def test_structural_error_with_gp_discrepancy(structural):
    """With the GP discrepancy: converged, the residual checks pass, the true (a, b) lie inside the 94 %
    HDI, and the 90 % predictive band covers 85–95 % of 300 held-out points (binomial se 1.7 %).

    The identifiability table may still flag a and b: an additive discrepancy is confounded with the
    model's own constant and slope, so their width is set by the discrepancy prior rather than by the
    data (Brynjarsdóttir & O'Hagan 2014, Inverse Problems 30:114007) — which the gate reports."""
    _, _, test, _, gp = structural
    assert gp.converged, gp.warnings
    assert bool(gp.residuals["passed"].all()), gp.residuals
    hdi = az.hdi(gp.idata.posterior, hdi_prob=0.94)
    for name, value in (("a", TRUE_A), ("b", TRUE_B)):
        lo, hi = hdi[name].values
        assert lo <= value <= hi, (name, lo, value, hi)
    v = validate(gp, test, rng=4)
    coverage = float(v["coverage"].sel(output="y", level=0.9))
    assert 0.85 <= coverage <= 0.95, coverage
    # the model alone (parameters without discrepancy) is worse on the same points
    plain_cov = float(validate(structural[3], test, rng=4)["coverage"].sel(output="y", level=0.9))
    print(f"held-out coverage of the 90 % band: {plain_cov:.3f} without, {coverage:.3f} with GP discrepancy")
    assert plain_cov < coverage


def test_pointwise_log_likelihood_supports_loo_and_compare(structural):
    """az.loo/az.compare run on the stored pointwise log-likelihood; the discrepancy model wins here."""
    _, train, _, plain, gp = structural
    assert gp.idata.log_likelihood["y"].shape[-1] == len(train)
    table = az.compare({"linear": plain.idata, "linear+gp": gp.idata})
    assert table.index[0] == "linear+gp"


def test_prediction_parts_and_widening(structural):
    """Parts add up to the prediction; the discrepancy's variance is larger where no data constrain it."""
    _, _, _, _, gp = structural
    p = predict(gp, pd.DataFrame({"x": [0.5, 3.5]}), rng=0)
    np.testing.assert_allclose(p["y_parts"].sum("component"), p["y"])
    var = p["y_variance"].sel(component_total="discrepancy").values
    assert var[1] > 1.5 * var[0]
    with pytest.raises(ValueError, match="outside the range"):
        predict(gp, pd.DataFrame({"x": [5.0]}))  # beyond c = 2.5 half-ranges of [-1, 2]
    # the pushforward adds the discrepancy of the draw that goes with the parameters
    pf = gp.pushforward()
    assert "posterior_draw" in pf.inputs.names and not pf.differentiable
    k = np.array([0, 5, 17])
    x = np.array([0.5, -0.3, 1.9])
    out = pf(x=x, a=np.zeros(3), b=np.zeros(3), posterior_draw=k.astype(float))
    post = gp.posterior_samples()
    meta = gp.discrepancy["y"]
    expected = [gp_delta({n: post[n][[j]] for n in meta["names"].values() if n in post}, meta, {"x": [xi]})[0, 0]
                for j, xi in zip(k, x)]
    np.testing.assert_allclose(out["y"], expected, rtol=1e-10, atol=1e-12)
