"""Sensitivity indices of each method against analytic references (Ishigami, Sobol' G, linear Gaussian).

Tolerances are ``k`` standard errors of the estimator as the method reports it (CI half-width / z),
with the exceptions stated where the estimator's own error bars are known to be unreliable.
"""

from __future__ import annotations

import numpy as np
import pytest
from scipy import integrate, stats

from models.test_functions import ishigami, ishigami_reference, sobol_g, sobol_g_reference
from uqbridge import ForwardModel, Input, InputSet, Normal, Output
from uqbridge.sensitivity import delta, fast, morris, pawn, pce_indices, rbd_fast, shapley_effects, sobol_indices
from uqbridge.sensitivity._common import z_value

Z95 = z_value(0.95)
G_A = (0.0, 1.0, 4.5, 9.0, 99.0, 99.0, 99.0, 99.0)


def _se(ds, var):
    return (ds[f"{var}_high"] - ds[f"{var}_low"]).values / (2 * Z95)


def _check(ds, var, reference, *, k=4.0, floor=0.0):
    estimate = ds[var].sel(output="y").values
    se = _se(ds.sel(output="y"), var)
    tolerance = np.maximum(k * se, floor)
    assert np.all(np.abs(estimate - reference) <= tolerance), (var, estimate, reference, se)


@pytest.fixture(scope="module")
def ishigami_sobol():
    return sobol_indices(ishigami(), 1024, second_order=True, rng=11)


def test_sobol_ishigami_first_total_second(ishigami_sobol):
    """Ishigami (a=7, b=0.1): analytic S_i, S_Ti, S_13 (Sobol' & Levitan 1999; Saltelli et al. 2008).

    Tolerance 4 bootstrap standard errors (SALib's bootstrap over base points; the scrambled
    Sobol' design makes it conservative).
    """
    ref = ishigami_reference()
    _check(ishigami_sobol, "first", ref["S1"])
    _check(ishigami_sobol, "total", ref["ST"])
    second = ishigami_sobol.sel(output="y")
    expected = {("x1", "x3"): ref["S13"], ("x1", "x2"): ref["S12"], ("x2", "x3"): ref["S23"]}
    for (a, b), value in expected.items():
        est = float(second["second"].sel(input=a, input_other=b))
        se = float(second["second_high"].sel(input=a, input_other=b) - second["second_low"].sel(input=a, input_other=b)) / (2 * Z95)
        assert abs(est - value) <= 4 * se, (a, b, est, value, se)
        assert est == float(second["second"].sel(input=b, input_other=a))


def test_sobol_ishigami_grouped_split(ishigami_sobol):
    """Aleatory {x1, x3} vs epistemic {x2}: closed index of {x1, x3} is S1 + S3 + S13, and no
    interaction crosses the groups, so first = total for both (analytic, as above)."""
    ref = ishigami_reference()
    aleatory = ref["S1"][0] + ref["S1"][2] + ref["S13"]
    g = ishigami_sobol.sel(output="y")
    for var in ("group_first", "group_total"):
        est = g[var].sel(group=["aleatory", "epistemic"]).values
        se = (g[f"{var}_high"] - g[f"{var}_low"]).sel(group=["aleatory", "epistemic"]).values / (2 * Z95)
        assert np.all(np.abs(est - [aleatory, ref["S1"][1]]) <= 4 * se), (var, est, se)


def test_sobol_g_function():
    """Sobol' G with a = (0, 1, 4.5, 9, 99, 99, 99, 99): V_i = 1/(3(1+a_i)²) (Saltelli & Sobol' 1995)."""
    ref = sobol_g_reference(G_A)
    ds = sobol_indices(sobol_g(G_A), 512, groups=None, rng=5)
    _check(ds, "first", ref["S1"])
    _check(ds, "total", ref["ST"])


def test_convergence_levels_are_nested_designs(ishigami_sobol):
    """The last convergence level is the full design: same numbers as the main estimate."""
    last = ishigami_sobol.sel(n_base=1024)
    np.testing.assert_allclose(last["first_by_n"].values, ishigami_sobol["first"].values)
    assert list(ishigami_sobol["n_base"].values) == [128, 256, 512, 1024]


@pytest.mark.parametrize("model, ref", [(ishigami(), ishigami_reference()), (sobol_g(G_A), sobol_g_reference(G_A))],
                         ids=["ishigami", "g"])
def test_rbd_fast(model, ref):
    """RBD-FAST first order (Tarantola et al. 2006) vs the analytic S_i; 4 bootstrap se."""
    _check(rbd_fast(model, 1024, rng=3), "first", ref["S1"])


@pytest.mark.parametrize("model, ref", [(ishigami(), ishigami_reference()), (sobol_g(G_A), sobol_g_reference(G_A))],
                         ids=["ishigami", "g"])
def test_efast(model, ref):
    """eFAST (Saltelli, Tarantola & Chan 1999) vs the analytic S_i and S_Ti.

    SALib's bootstrap intervals for eFAST are documented as unreliable (SALib issue #649: they
    resample the search curve); for x1 of Ishigami it reports se 0.003 while the spectral
    truncation bias at n = 1025, M = 4 is 0.02–0.05. Tolerance: max(4 se, 0.05).
    """
    ds = fast(model, 1025, rng=3)
    _check(ds, "first", ref["S1"], floor=0.05)
    _check(ds, "total", ref["ST"], floor=0.05)


def test_morris_ranks_g_function():
    """Morris μ* on G orders the inputs by a_i (Saltelli & Sobol' 1995; Campolongo et al. 2007):
    x1 > x2 > x3 > x4 > every a = 99 input."""
    ds = morris(sobol_g(G_A), 40, rng=2).sel(output="y")
    mu = ds["mu_star"].values
    assert mu[0] > mu[1] > mu[2] > mu[3] > mu[4:].max()
    assert np.all(ds["mu_star_low"].values <= mu) and np.all(mu <= ds["mu_star_high"].values)


def test_morris_ishigami_x2_exact():
    """Ishigami's x2 acts additively (7 sin² x2), so its elementary effect does not depend on the
    other inputs: with grid g = k/3 mapped to CDF value 0.01 + 0.98 g, both pairs of levels
    (0, 2) and (1, 3) give |EE| = 7 |sin² x(g + 2/3) − sin² x(g)| / (0.98 · 2/3) with
    x(g) = −π + 2π (0.01 + 0.98 g) — an exact value for μ*. (Centred levels (k + ½)/4 would give
    0 here: their step is half the period-π range.)"""
    x = -np.pi + 2 * np.pi * (0.01 + 0.98 * np.arange(4) / 3)
    expected = 7 * abs(np.sin(x[2]) ** 2 - np.sin(x[0]) ** 2) / (0.98 * 2 / 3)
    ds = morris(ishigami(), 20, rng=4).sel(output="y", input="x2")
    assert float(ds["mu_star"]) == pytest.approx(expected, rel=1e-9)


def test_pawn_and_delta_rank_g_function():
    """PAWN and δ rank the most important G inputs first, in order of a_i (Saltelli & Sobol' 1995).

    δ is costly (kernel densities per bootstrap replicate), so it gets a 3-input G."""
    p = pawn(sobol_g(G_A), 600, rng=1)["pawn"].sel(output="y").values
    assert p[0] > p[1] > p[2] > p[4:].max()
    d = delta(sobol_g((0.0, 1.0, 99.0)), 400, num_resamples=20, rng=1)["delta"].sel(output="y").values
    assert d[0] > d[1] > d[2]


def _delta_linear_gaussian(s_self: float, s_other: float) -> float:
    """δ of X in Y = X + W, X ~ N(0, s_self²), W ~ N(0, s_other²), by quadrature (Borgonovo 2007,
    definition δ = ½ E_X ∫ |f_Y − f_{Y|X}| dy; both densities are normal)."""
    sy = float(np.hypot(s_self, s_other))
    nodes, weights = np.polynomial.hermite_e.hermegauss(60)
    total = 0.0
    for x, w in zip(nodes * s_self, weights / weights.sum()):
        inner = integrate.quad(lambda y, x=x: abs(stats.norm.pdf(y, 0, sy) - stats.norm.pdf(y, x, s_other)),
                               -12 * sy, 12 * sy, points=[x], limit=200)[0]
        total += w * inner
    return 0.5 * total


@pytest.mark.slow
def test_delta_linear_gaussian_reference():
    """δ against its quadrature value on Y = A + B (A ~ N(0,1), B ~ N(0, 0.5²)).

    SALib's KDE-based estimator is biased low (measured at n = 1000 over seeds 1-3: −0.04 to −0.07
    on δ_A = 0.505, i.e. 4-6 bootstrap se; documented in ``delta``). The check allows
    4 se + 15 % of the reference, and that the ranking is right.
    """
    m = ForwardModel("lin", lambda a, b: {"y": a + b}, [Input("a", Normal(0, 1)), Input("b", Normal(0, 0.5))],
                     [Output("y")])
    ref = np.array([_delta_linear_gaussian(1.0, 0.5), _delta_linear_gaussian(0.5, 1.0)])
    ds = delta(m, 600, num_resamples=50, rng=4)
    est = ds["delta"].sel(output="y").values
    se = _se(ds.sel(output="y"), "delta")
    assert np.all(np.abs(est - ref) <= 4 * se + 0.15 * ref), (est, ref, se)
    assert est[0] > est[1]


def test_shapley_independent_ishigami():
    """Independent inputs: Shapley = own effect + half of each pairwise interaction (Owen 2014):
    Sh1 = (V1 + V13/2)/V, Sh2 = V2/V, Sh3 = V13/(2V). 4 se over permutations."""
    ref = ishigami_reference()
    expected = np.array([ref["S1"][0] + ref["S13"] / 2, ref["S1"][1], ref["S13"] / 2])
    ds = shapley_effects(ishigami(), n_perm=600, n_var=6000, rng=8)
    _check(ds, "shapley", expected)
    assert abs(float(ds["shapley"].sum())) == pytest.approx(1.0)


def test_shapley_correlated_linear_gaussian():
    """Y = X1 + X2 + X3, X1 independent, corr(X2, X3) = ρ (Iooss & Prieur 2019, RESS 187, eq. 19):
    Sh1 = σ1²/V, Sh2 = (σ2² + ρσ2σ3 + ρ²(σ3² − σ2²)/2)/V, Sh3 symmetric; 4 se."""
    s1, s2, s3, rho = 1.0, 1.0, 2.0, 0.5
    inputs = InputSet([Input("a", Normal(0, s1)), Input("b", Normal(0, s2)), Input("c", Normal(0, s3))],
                      correlation={("b", "c"): rho})
    m = ForwardModel("lin3", lambda a, b, c: {"y": a + b + c}, inputs, [Output("y")])
    v = s1**2 + s2**2 + s3**2 + 2 * rho * s2 * s3
    expected = np.array([
        s1**2,
        s2**2 + rho * s2 * s3 + rho**2 * (s3**2 - s2**2) / 2,
        s3**2 + rho * s2 * s3 + rho**2 * (s2**2 - s3**2) / 2,
    ]) / v
    _check(shapley_effects(m, n_perm=600, n_var=6000, rng=9), "shapley", expected)


@pytest.mark.slow
def test_pce_indices_ishigami():
    """PCE-based Sobol' (Sudret 2008) vs analytic Ishigami indices. No sampling interval exists;
    the error e = f − f_PCE bounds each partial variance's error by 2‖f_u‖‖e‖ + ‖e‖²
    (Cauchy–Schwarz), so with ‖e‖²/Var (estimated by the corrected LOO error) ≤ 1e-5 every index
    is within 2·√1e-5 + 1e-5 < 0.01."""
    ref = ishigami_reference()
    ds = pce_indices(ishigami(), n_runs=200, rng=0).sel(output="y")
    assert float(ds["loo_error"]) < 1e-5
    np.testing.assert_allclose(ds["first"].values, ref["S1"], atol=1e-2)
    np.testing.assert_allclose(ds["total"].values, ref["ST"], atol=1e-2)
    np.testing.assert_allclose(ds["group_first"].sel(group="epistemic"), ref["S1"][1], atol=1e-2)
