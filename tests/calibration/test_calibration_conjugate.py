"""Conjugate normal–linear model: posterior moments against the closed form, on the NUTS and SMC paths."""

from __future__ import annotations

import arviz as az
import numpy as np
import pytest
from calibration_cases import SIGMA, conjugate_posterior, linear_model
from calibration_cases import linear_data as _linear_data

from uqbridge.calibration import Sampling, Thresholds, calibrate


def _check_moments(result, data):
    """Posterior mean and sd of (a, b) within 4 Monte Carlo standard errors of the analytic ones."""
    mean, cov = conjugate_posterior(data["x"].to_numpy(), data["y"].to_numpy())
    post = result.idata.posterior
    for k, name in enumerate(("a", "b")):
        se_mean = float(az.mcse(post[[name]], method="mean")[name])
        # MCSE of an sd estimate: sd / sqrt(2 ESS_sd) for a near-normal posterior (az.mcse(method="sd")
        # trips over numpy 2 in ArviZ 0.23)
        se_sd = float(post[name].std()) / np.sqrt(2 * float(az.ess(post[[name]], method="sd")[name]))
        assert abs(float(post[name].mean()) - mean[k]) < 4 * se_mean, name
        assert abs(float(post[name].std()) - np.sqrt(cov[k, k])) < 4 * se_sd, name
    # the posterior correlation is strongly negative here; check its sign and rough size too
    rho = np.corrcoef(post["a"].values.ravel(), post["b"].values.ravel())[0, 1]
    assert abs(rho - cov[0, 1] / np.sqrt(cov[0, 0] * cov[1, 1])) < 0.1


@pytest.fixture(scope="module")
def linear_data():
    return _linear_data()


@pytest.fixture(scope="module")
def nuts_result(linear_data):
    return calibrate(linear_model(), linear_data, noise=("known", SIGMA), sampling=Sampling(draws=1000, tune=500, chains=2), rng=3)


def test_nuts_matches_conjugate_posterior(nuts_result, linear_data):
    """NUTS on the PyTensor expression of the model vs Bishop (2006) eqs. 3.49–3.51."""
    assert nuts_result.passed, nuts_result.warnings
    _check_moments(nuts_result, linear_data)
    assert set(nuts_result.idata.groups()) >= {
        "posterior", "posterior_predictive", "observed_data", "sample_stats", "constant_data",
    }


def test_smc_blackbox_matches_conjugate_posterior(linear_data):
    """SMC on the NumPy-only model wrapped as a PyTensor Op vs Bishop (2006) eqs. 3.49–3.51."""
    result = calibrate(
        linear_model(differentiable=False), linear_data, noise=("known", SIGMA), sampling=Sampling(draws=1000, chains=2), rng=4,
    )
    assert result.passed, result.warnings
    assert result.idata.posterior.attrs["sampler"] == "smc"
    n_runs = result.idata.posterior.attrs["n_runs"]
    assert isinstance(n_runs, (int, np.integer)) and n_runs > 0  # black-box runs counted by the Op
    _check_moments(result, linear_data)


def test_posterior_predictive_spread(nuts_result, linear_data):
    """Posterior predictive variance = noise variance + Var of the mean (law of total variance)."""
    mean, cov = conjugate_posterior(linear_data["x"].to_numpy(), linear_data["y"].to_numpy())
    ppc = nuts_result.idata.posterior_predictive["y"]
    x = linear_data["x"].to_numpy()
    X = np.column_stack([np.ones_like(x), x])
    expected = np.sqrt(SIGMA**2 + np.einsum("ij,jk,ik->i", X, cov, X))
    got = ppc.std(("chain", "draw")).values
    n = ppc.sizes["chain"] * ppc.sizes["draw"]
    # sd of a sample sd ~ sd / sqrt(2 n_eff); posterior draws are correlated, allow n_eff = n / 4
    assert np.all(np.abs(got - expected) < 4 * expected / np.sqrt(2 * n / 4))


def test_same_seed_same_numbers_and_loud_gate(nuts_result, linear_data):
    """Same rng, same draws; impossible thresholds fail the gate with the reason and a RuntimeWarning."""
    with pytest.warns(RuntimeWarning, match="failed its checks"):
        again = calibrate(linear_model(), linear_data, noise=("known", SIGMA), sampling=Sampling(draws=1000, tune=500, chains=2),
                          thresholds=Thresholds(ess=1e6), rng=3)
    np.testing.assert_array_equal(again.idata.posterior["a"].values, nuts_result.idata.posterior["a"].values)
    assert not again.passed
    assert any("ESS" in w for w in again.warnings)


def test_save_load_round_trip(nuts_result, tmp_path):
    from uqbridge.calibration import load_calibration

    path = tmp_path / "cal.nc"
    nuts_result.save(path)
    back = load_calibration(path, linear_model())
    assert back.passed == nuts_result.passed and back.epistemic == ("a", "b")
    np.testing.assert_array_equal(back.idata.posterior["a"].values, nuts_result.idata.posterior["a"].values)
    np.testing.assert_allclose(back.diagnostics["rhat"].values, nuts_result.diagnostics["rhat"].values)
    assert back.predictive.identical(nuts_result.predictive)
    assert back.pushforward().inputs.dimension_names == ("x", "a+b")
    with pytest.raises(ValueError, match="calibrated with model 'linear'"):
        load_calibration(path, linear_model(differentiable=False))


def test_figures(nuts_result):
    from uqbridge.plots.calibration import posterior_predictive, prior_posterior

    fig = posterior_predictive(nuts_result, "y", x="x")
    assert fig.axes[0].get_xlabel() == "x"
    assert len(prior_posterior(nuts_result, rng=0).axes) == 2
    with pytest.raises(KeyError, match=r"'z' was not calibrated; observed outputs: \['y'\]"):
        posterior_predictive(nuts_result, "z")
    with pytest.raises(KeyError, match=r"x: 'T' is not a condition of the data; conditions: \['x'\]"):
        posterior_predictive(nuts_result, x="T")


@pytest.mark.slow
@pytest.mark.parametrize("mass_matrix", ["diag", "dense"])
def test_nutpie_matches_conjugate_posterior(linear_data, mass_matrix):
    """sampler='nutpie' (diagonal and low-rank mass matrix) vs Bishop (2006) eqs. 3.49–3.51; the result
    carries the same groups (log-likelihood, predictive) and gates as PyMC's."""
    pytest.importorskip("nutpie")
    result = calibrate(linear_model(), linear_data, noise=("known", SIGMA), sampling=Sampling(draws=1000, tune=500, chains=2, sampler="nutpie", mass_matrix=mass_matrix),
                       rng=5)
    assert result.passed, result.warnings
    assert result.idata.posterior.attrs["engine"] == "nutpie"
    assert {"log_likelihood", "posterior_predictive", "constant_data"} <= set(result.idata.groups())
    _check_moments(result, linear_data)


def test_smc_survives_a_model_failing_on_part_of_the_prior(linear_data):
    """Issue #18 (defect 13): a black box raising for a > 4 (prior mass 6.7 %, posterior mass ~0) must
    not abort SMC; the failed parameter points are rejected, counted and reported, and the posterior
    still matches the conjugate one (Bishop 2006, eqs. 3.49–3.51)."""

    def function(x, a, b):
        if np.any(a > 4.0):
            raise FloatingPointError("solver diverged")
        return {"y": a + b * x}

    flaky = linear_model(differentiable=False)
    flaky = type(flaky)("linear_flaky", function, list(flaky.inputs), list(flaky.outputs))
    with pytest.warns(RuntimeWarning, match=r"model failed at \d+ of \d+ parameter points.*solver diverged"):
        result = calibrate(flaky, linear_data, noise=("known", SIGMA), sampling=Sampling(draws=1000, chains=2), rng=4)
    attrs = result.idata.posterior.attrs
    assert attrs["n_failed"] > 0 and "zero likelihood" in attrs["failed_note"]
    _check_moments(result, linear_data)
