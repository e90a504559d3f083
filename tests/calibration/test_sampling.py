"""The NUTS step built once by ``init_nuts`` (no per-variable gradient probe) draws exactly what ``pm.sample`` draws,
and the dense metric gives the conjugate answer on a ridge posterior."""

from __future__ import annotations

import numpy as np
import pymc as pm
import pytest
from calibration_cases import SIGMA, conjugate_posterior, linear_data, linear_model

from uqbridge.calibration import Sampling, build_model
from uqbridge.calibration.run import _sample_nuts


@pytest.mark.parametrize("mass_matrix", ["diag", "dense"])
def test_step_built_once_draws_what_pm_sample_draws(mass_matrix):
    """Reference: PyMC's own ``pm.sample(init=...)`` with the same seed; the draws must be identical, not close."""
    pmm = build_model(linear_model(), linear_data(), noise=("known", SIGMA))
    s = Sampling(draws=100, tune=100, chains=2, mass_matrix=mass_matrix)
    ours = _sample_nuts(pmm, s, seed=11)
    with pmm:
        ref = pm.sample(draws=100, tune=100, chains=2, cores=1, target_accept=s.target_accept, random_seed=11,
                        init="jitter+adapt_full" if mass_matrix == "dense" else "jitter+adapt_diag",
                        progressbar=False, compute_convergence_checks=False)
    for name in ("a", "b"):
        np.testing.assert_array_equal(ours.posterior[name].values, ref.posterior[name].values)


def test_dense_metric_finds_the_conjugate_posterior():
    """The conjugate linear model has a posterior correlation near -0.9 (a ridge). Bishop (2006) eqs. 3.49-3.51 give
    the exact posterior; the dense metric (the main job's) must find its mean within 4 standard errors (sd / sqrt(n),
    the draws treated as at worst 4x autocorrelated) and its correlation within 0.1."""
    data = linear_data()
    mean, cov = conjugate_posterior(data["x"].to_numpy(), data["y"].to_numpy())
    pmm = build_model(linear_model(), data, noise=("known", SIGMA))
    idata = _sample_nuts(pmm, Sampling(draws=400, tune=200, chains=2, mass_matrix="dense"), seed=3)
    post = np.stack([idata.posterior[n].values.ravel() for n in ("a", "b")])
    se = np.sqrt(np.diag(cov) * 4 / post.shape[1])
    assert np.all(np.abs(post.mean(axis=1) - mean) < 4 * se), (post.mean(axis=1), mean)
    rho = np.corrcoef(post)[0, 1]
    assert abs(rho - cov[0, 1] / np.sqrt(cov[0, 0] * cov[1, 1])) < 0.1
