"""Distributions: one spec converted consistently to SciPy, chaospy and PyMC; invalid parameters rejected."""

import math

import numpy as np
import pytest
from scipy import stats

import uqbridge as uq
from uqbridge.distributions import distribution_from_dict

PARAMETRIC = [
    uq.Normal(1.0, 0.5),
    uq.LogNormal(0.2, 0.3),
    uq.Uniform(-1.0, 3.0),
    uq.TruncatedNormal(0.0, 1.0, -0.5, 2.0),
    uq.Beta(2.0, 3.0, 1.0, 4.0),
    uq.Gamma(2.5, 1.5),
    uq.Weibull(3.0, 2.0),
    uq.Gumbel(1.0, 0.5),
    uq.Triangular(0.0, 1.0, 4.0),
]


@pytest.mark.parametrize("dist", PARAMETRIC, ids=lambda d: type(d).__name__)
def test_scipy_and_chaospy_agree(dist):
    """The chaospy object built from the same spec has the same quantiles and moments as SciPy's."""
    u = np.array([0.01, 0.2, 0.5, 0.8, 0.99])
    cp = dist.chaospy()
    np.testing.assert_allclose(cp.inv(u), dist.scipy().ppf(u), rtol=1e-6)
    np.testing.assert_allclose(float(cp.mom(1)), dist.mean, rtol=1e-6)


_EXTRA = [uq.LogNormal(7.71, 1.0056), uq.Beta(0.5, 0.7), uq.Gamma(0.3, 2.0), uq.Triangular(0.0, 0.0, 1.0),
          uq.Triangular(0.0, 1.0, 1.0)]
# probabilities from the extreme tails to the edges, plus invalid ones (NaN expected, as SciPy gives)
_U = np.concatenate([[0.0, 1e-300, 1e-16, 1e-10, 0.5, 1 - 1e-16, 1.0, -0.1, 1.1, np.nan],
                     np.random.default_rng(0).random(2000)])


@pytest.mark.parametrize("dist", PARAMETRIC + _EXTRA, ids=lambda d: str(d))
def test_closed_form_quantiles_equal_scipy(dist):
    """The fast inverse CDFs (ndtri, log/exp, betaincinv, ...) are SciPy's own ppf / isf / cdf to 1e-12 rel.

    Reference: ``scipy.stats`` frozen distributions, evaluated point by point (including 0, 1, the
    far tails and invalid probabilities, where both return the same inf / NaN).
    """
    frozen = dist.scipy()
    with np.errstate(all="ignore"):
        pairs = [(dist.ppf(_U), frozen.ppf(_U)), (dist.isf(_U), frozen.isf(_U))]
        x = frozen.ppf(_U[10:])
        pairs.append((dist.cdf(x), frozen.cdf(x)))
    for got, want in pairs:
        np.testing.assert_array_equal(np.isnan(got), np.isnan(want))
        np.testing.assert_allclose(got[~np.isnan(want)], want[~np.isnan(want)], rtol=1e-12, atol=0)
    assert isinstance(float(dist.ppf(0.3)), float)  # scalars in, scalars out


@pytest.mark.parametrize("dist", PARAMETRIC, ids=lambda d: type(d).__name__)
def test_pymc_logp_matches_scipy(dist):
    """PyMC's log density built from the same spec equals SciPy's at interior points."""
    import pymc as pm

    with pm.Model() as m:
        var = dist.pymc("x")
    free = m.free_RVs[0]
    x = dist.scipy().ppf(np.array([0.1, 0.5, 0.9]))
    if free is var:
        points, want = x, dist.scipy().logpdf(x)
    else:  # Beta on [lower, upper]: the free variable is the unit Beta, the input a Deterministic
        points = (x - dist.lower) / (dist.upper - dist.lower)
        want = stats.beta(dist.alpha, dist.beta).logpdf(points)
    got = pm.logp(free, points).eval()
    np.testing.assert_allclose(got, want, rtol=1e-6)


def test_lognormal_from_median_cov():
    """Median exp(mu) and CoV sqrt(exp(sigma^2) - 1) of the log-normal (closed form)."""
    d = uq.LogNormal.from_median_cov(3.0, 0.25)
    assert math.isclose(d.scipy().median(), 3.0, rel_tol=1e-12)
    assert math.isclose(d.std / d.mean, 0.25, rel_tol=1e-12)


def test_empirical_quantiles_and_moments():
    x = np.random.default_rng(0).normal(2.0, 1.0, 5000)
    d = uq.Empirical(x)
    assert d.mean == pytest.approx(x.mean())
    assert float(d.ppf(0.5)) == pytest.approx(np.median(x))
    assert float(d.cdf(np.median(x))) == pytest.approx(0.5, abs=1e-3)


@pytest.mark.parametrize(
    "make, message",
    [
        (lambda: uq.Normal(0.0, 0.0), "Normal: parameter sigma must be finite and > 0, got 0.0"),
        (lambda: uq.Normal(0.0, -1.0), "sigma must be finite and > 0"),
        (lambda: uq.LogNormal(0.0, float("nan")), "sigma must be finite"),
        (lambda: uq.Uniform(2.0, 1.0), "Uniform: lower must be < upper, got lower=2.0, upper=1.0"),
        (lambda: uq.Uniform(1.0, 1.0), "lower must be < upper"),
        (lambda: uq.TruncatedNormal(0.0, 1.0, 1.0, 0.0), "TruncatedNormal: lower must be < upper"),
        (lambda: uq.Beta(0.0, 1.0), "Beta: parameter alpha must be finite and > 0"),
        (lambda: uq.Gamma(1.0, -2.0), "Gamma: parameter scale"),
        (lambda: uq.Weibull(-1.0, 1.0), "Weibull: parameter shape"),
        (lambda: uq.Gumbel(0.0, 0.0), "Gumbel: parameter scale"),
        (lambda: uq.Triangular(0.0, 5.0, 1.0), "Triangular: mode must lie in"),
        (lambda: uq.Empirical([1.0]), "Empirical: need at least 2 samples"),
        (lambda: uq.Empirical([1.0, np.nan]), "Empirical: samples must be finite"),
        (lambda: uq.LogNormal.from_median_cov(-1.0, 0.1), "median must be finite and > 0"),
    ],
)
def test_invalid_parameters_are_named(make, message):
    with pytest.raises(ValueError, match=message.replace("(", r"\(").replace(")", r"\)")):
        make()


def test_round_trip_through_dict():
    for dist in PARAMETRIC + [uq.Constant(2.0)]:
        assert distribution_from_dict(dist.to_dict()) == dist


def test_unknown_distribution_type():
    with pytest.raises(ValueError, match=r"unknown distribution type 'Norml'; valid types: \["):
        distribution_from_dict({"type": "Norml", "mu": 0})
    with pytest.raises(ValueError, match=r"Normal: bad parameters \['mean', 'sigma'\]"):
        distribution_from_dict({"type": "Normal", "mean": 0, "sigma": 1})
