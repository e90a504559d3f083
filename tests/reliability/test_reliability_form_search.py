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
    search pays a one-sided first gradient (d + 1 runs), the step (1), a one-sided gradient there (d)
    and, as its criterion is then met, the central gradient verifying it (d new points u − h eᵢ)."""
    d = 100
    r = form(linear(3.5, d).limit_state, gradient="fd", check=False)
    assert float(r.beta) == pytest.approx(3.5, abs=1e-8) and bool(r.converged)
    assert int(r.n_runs) == (d + 1) + 1 + d + d


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


def _tilted_quadratic(d, sleep=0.0):
    """g = 3 − Σ xᵢ/√d + ½ Σ κᵢ xᵢ², κ evenly in [−0.1, 0.3] (benchmarks/form_dimension.py, "tilted")."""
    import time

    kappa = np.linspace(-0.1, 0.3, d)

    def function(xp=np, **x):
        if sleep and xp is np:
            time.sleep(sleep)  # an expensive model: every NumPy call costs `sleep` seconds
        g = 3.0 + 0.0 * x["x1"]
        for i in range(d):
            g = g - x[f"x{i + 1}"] / math.sqrt(d) + 0.5 * kappa[i] * x[f"x{i + 1}"] ** 2
        return {"g": g}

    inputs = [Input(f"x{i + 1}", Normal(0, 1)) for i in range(d)]
    model = ForwardModel(f"tilted_{d}_{sleep}", function, inputs, [Output("g")], differentiable=True)
    return LimitState(model, "g"), kappa


def _slsqp_beta(kappa):
    """Code check: the design point of the tilted quadratic by SciPy's SLSQP with the exact gradient."""
    d = kappa.size
    a = np.full(d, 1 / math.sqrt(d))
    con = {"type": "eq", "fun": lambda u: 3.0 - a @ u + 0.5 * kappa @ u**2, "jac": lambda u: -a + kappa * u}
    res = optimize.minimize(lambda u: (0.5 * u @ u, u), 3.0 * a, jac=True, constraints=[con], method="SLSQP",
                            options={"ftol": 1e-14, "maxiter": 500})
    return float(np.linalg.norm(res.x))


def test_one_sided_then_central_differences_reach_the_design_point():
    """Tilted quadratic, d = 20, anisotropic curvatures (issue 29): the search steers with one-sided
    differences (d runs per gradient) and verifies its stop with central ones, so β matches the
    SLSQP design point (code check) to the search tolerance while most gradients cost d, not 2d, runs."""
    d = 20
    ls, kappa = _tilted_quadratic(d)
    r = form(ls, gradient="fd", check=False)
    assert bool(r.converged)
    assert float(r.beta) == pytest.approx(_slsqp_beta(kappa), abs=1e-6)
    # far from the solution an iteration costs d runs + its line search, near it 2d + 1: the first
    # iterations are one-sided, the total below a central-only search's 2d + 1 per iteration
    steps = np.diff(r.history_runs.values)
    assert int(r.history_runs[0]) == d + 1 and np.all(steps[:3] <= d + 5) and np.all(steps[-2:] >= 2 * d)
    assert int(r.n_runs) < (2 * d + 1) * (steps.size + 1)


def test_auto_gradient_takes_finite_differences_on_a_cheap_model():
    """gradient='auto' on a differentiable but cheap model: compiling PyTensor would cost seconds where
    the finite-difference search costs milliseconds, so the search uses finite differences and says why."""
    ls, kappa = _tilted_quadratic(6)
    r = form(ls, check=False)
    assert r.attrs["gradient"] == "central finite differences" and "vs compiling" in r.attrs["gradient_decision"]
    assert float(r.beta) == pytest.approx(_slsqp_beta(kappa), abs=1e-6)


@pytest.mark.slow
def test_auto_gradient_compiles_for_an_expensive_model():
    """Each NumPy call costs 0.2 s: 20 finite-difference gradients (≥ 4 s) exceed the compile estimate
    (1 + 0.1 d = 1.2 s), so 'auto' switches to PyTensor after the first gradient (one run per point)."""
    ls, kappa = _tilted_quadratic(2, sleep=0.2)
    r = form(ls, check=False)
    assert r.attrs["gradient"] == "pytensor"
    assert float(r.beta) == pytest.approx(_slsqp_beta(kappa), abs=1e-6)


def test_check_runs_are_stated_and_bounded():
    """The checks' runs are reported apart from the search's and stay within the stated bound, on a
    limit state with two design points where the exploration starts new searches (β = 3 and 3.5)."""
    ls = standard_normal_ls(lambda u: np.minimum(3.0 - u[:, 0], 3.5 + u[:, 0]) + 0.0 * u[:, 1], d=2)
    r = form(ls, gradient="fd", rng=0)
    attrs = r.attrs
    assert int(r.n_runs) == attrs["n_runs_search"] + attrs["n_runs_checks"]
    assert 0 < attrs["n_runs_checks"] <= attrs["max_runs_checks"]
    d, n_explore = 2, 16
    assert attrs["max_runs_checks"] == 2 * n_explore + 2 * 1 + 30 * (d + 1) + 2 * d + 8 + 2
