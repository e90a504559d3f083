"""The FORM design-point search against closed forms, and its model-run accounting (issue 19)."""

import math

import numpy as np
import pytest
from scipy import optimize, special

from uqbridge import ForwardModel, Input, LogNormal, Normal, Output
from uqbridge.reliability import LimitState, form, sorm
from uqbridge.reliability.problems import linear, parabolic

STARTS = [np.random.default_rng(seed).standard_normal(2) for seed in range(10)]


def standard_normal_ls(function, d=2, record=None):
    """A limit state of d standard normals (x = u); ``record`` collects every evaluated point."""
    names = [f"x{i + 1}" for i in range(d)]

    def model(**x):
        u = np.column_stack([np.atleast_1d(x[n]) for n in names])
        if record is not None:
            record.append(u.copy())
        return {"g": function(u)}

    return LimitState(ForwardModel("search_case", model, [Input(n, Normal(0, 1)) for n in names], [Output("g")]), "g")


@pytest.mark.parametrize("kappa", [0.5, -0.2])
def test_parabolic_design_point_from_random_starts(kappa):
    """Paraboloid g = β − u2 + κu1²/2 (Breitung 1984): design point (0, β) for 1 + βκ > 0, and
    Breitung's formula at that point is Φ(−β)(1 + βκ)^(−1/2) (Breitung 1984, eq. 2). From 10 random
    starts the search converges there with central differences in at most 35 runs (OpenTURNS
    AbdoRackwitz: median 47–50 on the same starts, benchmarks/reliability.py; iHL-RF took ~200)."""
    ls = parabolic(3.0, kappa).limit_state
    for u0 in STARTS:
        r = form(ls, gradient="fd", u0=u0, check=False)
        assert bool(r.converged)
        assert float(r.beta) == pytest.approx(3.0, abs=1e-6)
        np.testing.assert_allclose(r.design_point_u.values, [0.0, 3.0], atol=1e-4)
        assert int(r.n_runs) <= 35
    s = sorm(ls, form_result=r, gradient="fd", formula="breitung")
    assert float(s.pf) == pytest.approx(special.ndtr(-3.0) / math.sqrt(1 + 3.0 * kappa), rel=1e-3)


def test_linear_high_dimension_exact_in_one_step():
    """Linear g in d = 100 standard normals: β exact (Hasofer & Lind 1974) after one HL-RF step; the
    search pays the first gradient (2d + 1 runs), the step (1) and the gradient verifying it (2d)."""
    d = 100
    r = form(linear(3.5, d).limit_state, gradient="fd", check=False)
    assert float(r.beta) == pytest.approx(3.5, abs=1e-8) and bool(r.converged)
    assert int(r.n_runs) == (2 * d + 1) + 1 + 2 * d


def test_lognormal_product_exact_beta():
    """g = Π R_i − s with independent lognormal R_i: ln g-surface Σ(μ_i + σ_i u_i) = ln s is a
    hyperplane in standard-normal space, so β = (Σμ_i − ln s)/‖σ‖ exactly and FORM's Pf = P[Π R_i ≤ s]
    (a product of lognormals is lognormal; Melchers & Beck 2018, §A) although g is exponential in u."""
    mu, sigma, s0 = np.array([0.3, 0.1, -0.2, 0.4, 0.2, 0.0]), np.array([0.2, 0.3, 0.1, 0.25, 0.15, 0.3]), 0.35
    names = [f"R{i}" for i in range(mu.size)]
    model = ForwardModel("product", lambda **x: {"g": np.prod([x[n] for n in names], axis=0) - s0},
                         [Input(n, LogNormal(m, s)) for n, m, s in zip(names, mu, sigma)], [Output("g")])
    beta = (mu.sum() - math.log(s0)) / np.linalg.norm(sigma)
    for gradient in ("fd", "auto"):
        r = form(LimitState(model, "g"), gradient=gradient, rng=0)
        assert float(r.beta) == pytest.approx(beta, abs=1e-6)
        # the design point β·α lies towards small R_i
        np.testing.assert_allclose(r.alpha.values, -sigma / np.linalg.norm(sigma), atol=1e-6)


def test_two_design_points_against_one_dimensional_reduction():
    """g = b − u2 − κ(u1 − e)² with b = 5, κ = 0.5, e = 0.1 (the two-design-point example of Der
    Kiureghian & Dakessian 1998, Struct. Saf. 20): on the surface u2 = b − κ(u1 − e)², so the design
    points minimise u1² + (b − κ(u1 − e)²)² over u1 — solved here by bounded 1-D minimisation on each
    side. The search converges to one of them; with the checks FORM reports both and flags itself."""
    b, k, e = 5.0, 0.5, 0.1

    def dist2(a):
        return a * a + (b - k * (a - e) ** 2) ** 2

    refs = sorted(math.sqrt(optimize.minimize_scalar(dist2, bounds=br, method="bounded", options={"xatol": 1e-12}).fun)
                  for br in ((-5.0, 0.0), (0.0, 5.0)))
    ls = standard_normal_ls(lambda u: b - u[:, 1] - k * (u[:, 0] - e) ** 2)
    for u0 in STARTS:
        r = form(ls, gradient="fd", u0=u0, check=False)
        assert bool(r.converged)
        assert min(abs(float(r.beta) - ref) for ref in refs) < 1e-6
    checked = form(ls, gradient="fd", rng=0)
    np.testing.assert_allclose(np.sort(checked.point_beta.values), refs, atol=1e-6)
    assert float(checked.beta) == pytest.approx(refs[0], abs=1e-6)
    assert checked.attrs["reliable"] == 0 and "2 distinct design points" in checked.attrs["warning"]


@pytest.mark.parametrize("check", [False, True])
def test_no_point_is_evaluated_twice(check):
    """Every model run is a new point: the accepted line-search point's g is reused by the gradient,
    restarts and checks evaluate fresh points (issue 19: one wasted run per iteration before)."""
    record = []
    ls = standard_normal_ls(lambda u: 3.0 - u[:, 1] + 0.25 * u[:, 0] ** 2 + 0.1 * np.sin(u[:, 0]), record=record)
    r = form(ls, gradient="fd", u0=[1.0, -0.5], n_starts=3, check=check, rng=2)
    points = np.concatenate(record)
    assert int(r.n_runs) == len(points)
    assert len(np.unique(points, axis=0)) == len(points)
    # SORM at FORM's point: second differences only (2d² = 8 runs), g there is FORM's
    s = sorm(ls, form_result=r, gradient="fd")
    points = np.concatenate(record)
    assert int(s.n_runs) == int(r.n_runs) + 8 == len(points)
    assert len(np.unique(points, axis=0)) == len(points)


def test_non_finite_g_is_a_rejected_step():
    """A model that returns NaN beyond u2 = 3.2 (e.g. a failed solve) on the way to the design point
    (0, 3) of the paraboloid: the search backs off and converges to the exact β."""
    ls = standard_normal_ls(lambda u: np.where(u[:, 1] > 3.2, np.nan, 3.0 - u[:, 1] + 0.25 * u[:, 0] ** 2))
    r = form(ls, gradient="fd", u0=[2.5, 0.0], check=False)
    assert bool(r.converged) and float(r.beta) == pytest.approx(3.0, abs=1e-6)


def test_failed_runs_in_a_gradient_stencil_are_a_rejected_step():
    """The paraboloid's model fails (NaN) in a ball of radius 5e-5 around (0, 3.0001), which only the
    central-difference stencil (step 1e-4) of points next to the design point (0, 3) reaches: from
    the origin the full step lands on (0, 3) and its gradient fails. The step is rejected and retried
    shorter instead of aborting the analysis; β comes out right to the search's resolution and the
    failed runs are reported."""
    def g(u):
        broken = np.hypot(u[:, 0], u[:, 1] - 3.0001) < 5e-5
        return np.where(broken, np.nan, 3.0 - u[:, 1] + 0.25 * u[:, 0] ** 2)

    r = form(standard_normal_ls(g), gradient="fd", check=False)
    assert r.attrs["n_failed"] > 0 and r.attrs["reliable"] == 0 and "rejected steps" in r.attrs["reason"]
    assert float(r.beta) == pytest.approx(3.0, abs=1e-3)


def test_component_searches_of_a_series_system_reuse_the_system_runs():
    """FORM on a series system searches the system, then each component from the same start: a model
    run at a point already evaluated is reused (one model, two outputs), so runs = distinct points."""
    from uqbridge.reliability import SeriesSystem

    record = []

    def model(x1, x2):
        record.append(np.column_stack([np.atleast_1d(x1), np.atleast_1d(x2)]))
        return {"g1": 3.0 - x1, "g2": 3.5 - x2}

    m = ForwardModel("two_modes", model, [Input("x1", Normal(0, 1)), Input("x2", Normal(0, 1))],
                     [Output("g1"), Output("g2")])
    r = form(SeriesSystem([LimitState(m, "g1"), LimitState(m, "g2")]), gradient="fd", check=False)
    points = np.concatenate(record)
    assert int(r.n_runs) == len(points) == len(np.unique(points, axis=0))
    # each component's β is exact (linear g): 3 and 3.5
    np.testing.assert_allclose(np.sort(r.point_beta.values), [3.0, 3.5], atol=1e-9)
