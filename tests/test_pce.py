"""Polynomial chaos: fits against analytic moments and Sobol indices, selection, persistence, errors."""

from __future__ import annotations

import math

import numpy as np
import pytest
import xarray as xr

from uqbridge import ForwardModel, Input, InputSet, LogNormal, Normal, Output, Uniform, propagate
from uqbridge.pce import PolynomialChaos, Quadrature, Regression, fit_pce, hyperbolic_indices, load_pce, loo_path
from uqbridge_models.benchmark_functions import ishigami, ishigami_reference, sobol_g, sobol_g_reference


def closed_index_bound(eps: float, s_true: float, var: float, var_hat: float) -> float:
    """Bound on |Ŝ_u − S_u| for a closed Sobol index from the surrogate's relative L2 error ``eps``.

    With P_u the projection on centred functions of X_u, | ‖P_u Y‖ − ‖P_u Ŷ‖ | ≤ ‖Y − Ŷ‖ = √(eps V),
    so |V̂_u − V_u| ≤ V √eps (2 √S_u + √eps), the same with S_u = 1 for the total variance, and
    |V̂_u/V̂ − V_u/V| ≤ (|V̂_u − V_u| + S_u |V̂ − V|) / V̂.
    """
    r = math.sqrt(eps)
    d_vu = var * r * (2 * math.sqrt(s_true) + r)
    d_v = var * r * (2 + r)
    return (d_vu + s_true * d_v) / var_hat


def surrogate_error(model: ForwardModel, pce: PolynomialChaos, var: float, n: int = 20000) -> float:
    """Relative L2 error of the surrogate by Monte Carlo, inflated by 4 standard errors."""
    rng = np.random.default_rng(123)
    x = model.inputs.from_unit(rng.random((n, model.inputs.dimension)))
    e2 = (model(**x)["y"] - pce.model(**x)["y"]) ** 2
    return float((e2.mean() + 4 * e2.std(ddof=1) / math.sqrt(n)) / var)


@pytest.fixture(scope="module")
def ishigami_pce() -> PolynomialChaos:
    return fit_pce(ishigami(), method="sparse", n_runs=100, rng=0)


def test_ishigami_moments_and_indices(ishigami_pce):
    """Ishigami (a=7, b=0.1): mean, variance, S1..S3, ST1..ST3, S12, S13, S23 with 100 runs.

    Reference: Sobol' & Levitan (1999) closed forms (``models.benchmark_functions.ishigami_reference``).
    Tolerance: the issue's accuracy target of 1e-3 on every index (degree chosen automatically).
    """
    ref = ishigami_reference()
    p = ishigami_pce
    assert float(p.mean().sel(output="y")) == pytest.approx(ref["mean"], abs=1e-3)
    assert float(p.variance().sel(output="y")) == pytest.approx(ref["variance"], rel=1e-3)
    s = p.sobol_indices()
    np.testing.assert_allclose(s["first"].sel(output="y").values, ref["S1"], atol=1e-3)
    np.testing.assert_allclose(s["total"].sel(output="y").values, ref["ST"], atol=1e-3)
    for pair, key in ((["x1", "x3"], "S13"), (["x1", "x2"], "S12"), (["x2", "x3"], "S23")):
        assert float(p.sobol_index(pair, "interaction").sel(output="y")) == pytest.approx(ref[key], abs=1e-3)
    assert p.n_runs == 100 and p.n_failed == 0
    assert int(p.validation["selected_degree"].sel(output="y")) >= 6  # chosen, not given


def test_ishigami_grouped_and_conditional_variance(ishigami_pce):
    """Closed index of {x1, x3} = S1 + S3 + S13 = 1 − S2; Var(E[Y|x2]) = a²/8 (Sobol' & Levitan 1999)."""
    ref = ishigami_reference()
    g = ishigami_pce.grouped_indices({"aleatory": ["x1", "x3"], "epistemic": ["x2"]})
    assert g["closed"].dims == ("output", "group")
    assert float(g["closed"].sel(output="y", group="aleatory")) == pytest.approx(1 - ref["S1"][1], abs=1e-3)
    assert float(g["total"].sel(output="y", group="epistemic")) == pytest.approx(ref["ST"][1], abs=1e-3)
    assert float(ishigami_pce.conditional_variance("x2").sel(output="y")) == pytest.approx(49 / 8, rel=1e-3)


def test_sobol_g_indices_within_error_bound():
    """Sobol' G-function (a = 0, 1, 9): first and total indices within the bound implied by the
    surrogate's measured L2 error (see ``closed_index_bound``).

    Reference: Saltelli & Sobol' (1995) closed forms (``models.benchmark_functions.sobol_g_reference``).
    The kink of |4x − 2| makes convergence algebraic, so the tolerance comes from the fit's error.
    """
    a = (0.0, 1.0, 9.0)
    model, ref = sobol_g(a), sobol_g_reference(a)
    p = fit_pce(model, method=Regression("lars", max_degree=12), n_runs=150, rng=1)
    eps = surrogate_error(model, p, ref["variance"])
    assert eps < 0.05  # the fit is meaningful; the bound is then informative
    var_hat = float(p.variance().sel(output="y"))
    s = p.sobol_indices().sel(output="y")
    for k, name in enumerate(model.inputs.names):
        bound_first = closed_index_bound(eps, ref["S1"][k], ref["variance"], var_hat)
        bound_total = closed_index_bound(eps, 1 - ref["ST"][k], ref["variance"], var_hat)
        assert abs(float(s["first"].sel(input=name)) - ref["S1"][k]) <= bound_first
        assert abs(float(s["total"].sel(input=name)) - ref["ST"][k]) <= bound_total
    # the honest K-fold error tracks the true error within a factor of a few
    assert 0.2 < float(p.validation["cv_error"].sel(output="y")) / eps < 5


@pytest.mark.parametrize("method", ["ols", "lars", "omp"])
def test_polynomial_model_recovered_exactly(method):
    """y = 1 + 2a + 3ab² + c³, a, c ~ N(0, 1), b ~ U(−1, 1): a degree-3 polynomial in the germs.

    Analytic: E = 1, Var = E[a²] E[(2 + 3b²)²] + E[c⁶] = (4 + 4 + 9/5) + 15 = 24.8,
    V_a = Var(E[Y|a]) = Var(3a) = 9, V_ab = 9.8 − 9 = 0.8, V_c = 15, V_b = 0.
    """
    model = ForwardModel(
        "poly",
        lambda a, b, c, xp=np: {"y": 1 + 2 * a + 3 * a * b**2 + c**3},
        [Input("a", Normal(0, 1)), Input("b", Uniform(-1, 1)), Input("c", Normal(0, 1))],
        [Output("y")],
        differentiable=True,
    )
    p = fit_pce(model, method=Regression(method, max_degree=4), n_runs=60, rng=2)
    assert float(p.mean()[0]) == pytest.approx(1.0, abs=1e-10)
    assert float(p.variance()[0]) == pytest.approx(24.8, rel=1e-10)
    s = p.sobol_indices().sel(output="y")
    np.testing.assert_allclose(s["first"].values, [9 / 24.8, 0.0, 15 / 24.8], atol=1e-10)
    np.testing.assert_allclose(s["total"].values, [9.8 / 24.8, 0.8 / 24.8, 15 / 24.8], atol=1e-10)
    x = {"a": np.array([0.3, -2.0]), "b": np.array([0.9, -0.1]), "c": np.array([1.5, 0.2])}
    np.testing.assert_allclose(p.model(**x)["y"], model(**x)["y"], rtol=1e-10)


def test_quadrature_exp_normal_moments():
    """Y = exp(X), X ~ N(0, 1): E Y = e^{1/2}, Var Y = e(e − 1) (log-normal moments).

    Gauss–Hermite projection of degree 12: the truncation error is e Σ_{k>12} 1/k! < 1e-9 relative.
    """
    model = ForwardModel("exp", lambda x, xp=np: {"y": xp.exp(x)}, [Input("x", Normal(0, 1))], [Output("y")], differentiable=True)
    p = fit_pce(model, method=Quadrature(level=12))
    assert p.n_runs == 13
    assert float(p.mean()[0]) == pytest.approx(math.exp(0.5), rel=1e-9)
    assert float(p.variance()[0]) == pytest.approx(math.e * (math.e - 1), rel=1e-8)


def test_smolyak_sparse_grid_projects_polynomial_exactly():
    """A total-degree-2 polynomial in 5 uniform inputs on a level-2 Smolyak grid (chaospy): exact mean
    E[1 + x1 x2 + x3² + x4 x5] = 4/3 and variance 2 Var(x1 x2) + Var(x3²) = 2/9 + 4/45 on U(−1, 1),
    with 66 nodes instead of the tensor grid's 3⁵ = 243."""
    model = ForwardModel(
        "q5",
        lambda x1, x2, x3, x4, x5: {"y": 1 + x1 * x2 + x3**2 + x4 * x5},
        [Input(f"x{k}", Uniform(-1, 1)) for k in range(1, 6)],
        [Output("y")],
    )
    sparse = fit_pce(model, method=Quadrature(level=2, sparse=True))
    assert sparse.n_runs == 66
    assert float(sparse.mean()[0]) == pytest.approx(4 / 3, abs=1e-12)
    assert float(sparse.variance()[0]) == pytest.approx(2 / 9 + 4 / 45, abs=1e-12)


def test_sobol_from_coefficients_matches_chaospy():
    """First and total indices from multi-indices equal ``chaospy.Sens_m`` / ``Sens_t`` of the same
    polynomial (chaospy 4.3 computes them symbolically from the polynomial and the distribution)."""
    import chaospy

    dist = chaospy.J(chaospy.Uniform(-1, 1), chaospy.Normal(0, 1), chaospy.Uniform(-1, 1))
    q0, q1, q2 = chaospy.variable(3)
    poly = q0 + 0.5 * q1**2 + q0 * q2 + 0.2 * q0 * q1 * q2
    model = ForwardModel(
        "chaospy_poly",
        # chaospy refuses the read-only broadcast views ForwardModel passes, hence the copies
        lambda a, b, c: {"y": poly(np.array(a), np.array(b), np.array(c))},
        [Input("a", Uniform(-1, 1)), Input("b", Normal(0, 1)), Input("c", Uniform(-1, 1))],
        [Output("y")],
    )
    p = fit_pce(model, method=Quadrature(level=3))
    s = p.sobol_indices().sel(output="y")
    np.testing.assert_allclose(s["first"].values, chaospy.Sens_m(poly, dist), atol=1e-12)
    np.testing.assert_allclose(s["total"].values, chaospy.Sens_t(poly, dist), atol=1e-12)


def test_loo_path_equals_brute_force_leave_one_out():
    """Closed-form PRESS along nested supports equals refitting n times without each point (its
    definition; Allen 1974)."""
    rng = np.random.default_rng(5)
    psi = np.column_stack([np.ones(30), rng.normal(size=(30, 4))])
    y = psi @ [1.0, 0.5, -1.0, 0.0, 2.0] + 0.3 * rng.normal(size=30)
    loo, corrected = loo_path(psi, y)
    for k in (1, 3, 5):
        errors = []
        for i in range(30):
            keep = np.arange(30) != i
            coef, *_ = np.linalg.lstsq(psi[keep, :k], y[keep], rcond=None)
            errors.append(y[i] - psi[i, :k] @ coef)
        assert loo[k - 1] == pytest.approx(np.mean(np.square(errors)) / np.var(y, ddof=1), rel=1e-10)
        # Chapelle's factor N/(N−P)(1 + tr((ΨᵀΨ)⁻¹)) > 1
        trace = np.trace(np.linalg.inv(psi[:, :k].T @ psi[:, :k]))
        assert corrected[k - 1] == pytest.approx(loo[k - 1] * 30 / (30 - k) * (1 + trace), rel=1e-10)


def test_hyperbolic_index_set_sizes():
    """Total-degree set size C(d + p, p); q-norm sets as listed by Blatman & Sudret (2011), table 1
    style counts checked by direct enumeration of (Σ α_i^q)^{1/q} ≤ p."""
    assert len(hyperbolic_indices(5, 5, 1.0)) == math.comb(10, 5) == 252
    full = hyperbolic_indices(3, 6, 1.0)
    q = 0.5
    expected = sum(1 for row in full if np.sum(row.astype(float) ** q) ** (1 / q) <= 6 + 1e-9)
    assert len(hyperbolic_indices(3, 6, q)) == expected < len(full)
    with pytest.raises(ValueError, match="q_norm must lie in"):
        hyperbolic_indices(2, 3, 1.5)


def test_surrogate_is_a_differentiable_forward_model(ishigami_pce):
    """The fitted PCE evaluates identically on NumPy and PyTensor, with gradients (same inputs)."""
    pt = pytest.importorskip("pytensor.tensor")
    import pytensor

    surrogate = ishigami_pce.model
    assert surrogate.name == "ishigami_pce" and surrogate.differentiable
    assert surrogate.inputs.names == ("x1", "x2", "x3") and surrogate.output_names == ("y",)
    x = {k: np.array([0.3, -1.2, 2.5]) for k in ("x1", "x2", "x3")}
    tensors = {k: pt.dvector(k) for k in x}
    out = surrogate.evaluate_tensor(pt, **tensors)["y"]
    grad = pytensor.grad(out.sum(), tensors["x2"])
    # FAST_COMPILE: the C compilation of the fused graph takes minutes on a loaded test machine
    f = pytensor.function(list(tensors.values()), [out, grad], mode="FAST_COMPILE")
    value, dx2 = f(*x.values())
    np.testing.assert_allclose(value, surrogate(**x)["y"], rtol=1e-10)
    # d/dx2 of a sin²x2 = a sin 2x2, to 0.1 % of its size: the fit's K-fold error (~1e-5 relative MSE,
    # an RMS error ~1e-2 in y) leaves the slope at a few 1e-3 (2.5e-3 at x2 = 2.5 with the LARS support)
    np.testing.assert_allclose(dx2, 7 * np.sin(2 * x["x2"]), rtol=1e-3, atol=1e-3)


def test_save_load_round_trip(tmp_path, ishigami_pce):
    """netCDF round trip: same coefficients, multi-indices, inputs and predictions."""
    path = tmp_path / "ishigami_pce.nc"
    ishigami_pce.save(path)
    back = load_pce(path)
    np.testing.assert_array_equal(back.indices, ishigami_pce.indices)
    x = {k: np.linspace(-3, 3, 7) for k in ("x1", "x2", "x3")}
    np.testing.assert_array_equal(back.model(**x)["y"], ishigami_pce.model(**x)["y"])
    assert back.inputs.to_json() == ishigami_pce.inputs.to_json()
    assert float(back.validation["loo_error"][0]) == float(ishigami_pce.validation["loo_error"][0])


def test_fit_on_given_samples_drops_failed_runs():
    """An evaluated design is used as is (no new runs); failed samples are dropped and counted."""
    calls = []

    def function(x):
        calls.append(x.size)
        return {"y": np.where(x > 1.5, np.nan, 1 + x + x**2)}

    model = ForwardModel("fragile", function, [Input("x", Normal(0, 1))], [Output("y")])
    with pytest.warns(RuntimeWarning, match="failed on"):
        ds = propagate(model, 64, rng=3)
    n_bad = int((ds["status"] != 0).sum())
    assert n_bad > 0
    calls.clear()
    p = fit_pce(model, samples=ds, method=Regression("ols", max_degree=3))
    assert calls == []
    assert p.n_failed == n_bad and p.n_runs == 64
    assert float(p.mean()[0]) == pytest.approx(2.0, abs=1e-10)  # E[1 + x + x²]


def test_enrichment_adds_runs_until_target():
    """Sequential enrichment stops once the K-fold error is below the target, within the budget."""
    model = ForwardModel(
        "smooth", lambda a, b: {"y": np.exp(0.3 * a) * np.cos(b)}, [Input("a", Normal(0, 1)), Input("b", Uniform(-1, 1))], [Output("y")]
    )
    p = fit_pce(
        model, method=Regression("lars", max_degree=10, target_loo=1e-8, enrich_by=16), n_runs=16, max_runs=64, rng=4
    )
    assert 16 < p.n_runs <= 64
    err = p.validation["cv_error"].sel(output="y")
    assert float(err) <= 1e-8 or p.n_runs == 64


def test_correlated_inputs_use_nataf_hermite_germs():
    """y = a + b with a, b ~ N(0, 1), Gaussian copula ρ = 0.6: Var y = 2 + 2ρ exactly (linear in the
    independent germs); indices are those of the germs ξ₁ = a, ξ₂ = (b − ρa)/√(1 − ρ²)."""
    rho = 0.6
    inputs = InputSet([Input("a", Normal(0, 1)), Input("b", Normal(0, 1))], correlation={("a", "b"): rho})
    model = ForwardModel("sum", lambda a, b, xp=np: {"y": a + b}, inputs, [Output("y")], differentiable=True)
    p = fit_pce(model, method=Regression("ols", max_degree=2), n_runs=30, rng=6)
    assert float(p.variance()[0]) == pytest.approx(2 + 2 * rho, rel=1e-10)
    s = p.sobol_indices().sel(output="y")
    assert float(s["first"].sel(input="a")) == pytest.approx((1 + rho) ** 2 / (2 + 2 * rho), rel=1e-10)
    assert p.model.differentiable
    pt = pytest.importorskip("pytensor.tensor")
    a, b = pt.dvector("a"), pt.dvector("b")
    import pytensor

    f = pytensor.function([a, b], p.model.evaluate_tensor(pt, a=a, b=b)["y"], mode="FAST_COMPILE")
    out = f(np.array([0.5, -1.0]), np.array([1.0, 2.0]))
    np.testing.assert_allclose(out, [1.5, 1.0], rtol=1e-10)


def test_lognormal_input_uses_hermite_germ():
    """Y = log X with X ~ LogNormal(μ=1, σ=0.5): linear in the Hermite germ, so E = 1, Var = 0.25."""
    model = ForwardModel("log", lambda x, xp=np: {"y": xp.log(x)}, [Input("x", LogNormal(1.0, 0.5))], [Output("y")], differentiable=True)
    p = fit_pce(model, method=Quadrature(level=2))
    assert float(p.mean()[0]) == pytest.approx(1.0, abs=1e-12)
    assert float(p.variance()[0]) == pytest.approx(0.25, rel=1e-12)
    assert p.germ_map.germs[0].family == "hermite"


def test_holdout_error_reported():
    """A fresh hold-out design gives a relative error; the coefficient-decay data cover every degree."""
    model = ForwardModel("c", lambda x: {"y": np.cos(2 * x)}, [Input("x", Uniform(-1, 1))], [Output("y")])
    p = fit_pce(model, method=Regression(max_degree=12), n_runs=30, n_holdout=200, rng=7)
    v = p.validation
    assert float(v["holdout_error"].sel(output="y")) < 1e-8
    assert v["coefficient_norm"].dims == ("output", "degree")
    assert int(v["degree"].max()) == int(p.indices.sum(axis=1).max())


# ---- error messages -----------------------------------------------------------------------------
def _line():
    return ForwardModel("line", lambda x: {"y": 2 * x}, [Input("x", Normal(0, 1))], [Output("y")])


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"method": "krige"}, ValueError, r"method must be one of \['lars', 'omp', 'sparse', 'ols', 'quadrature'\], got 'krige'"),
        ({"design": "grid"}, ValueError, r"design must be one of .*got 'grid'"),
        ({"outputs": ["z"]}, KeyError, r"no output 'z'"),
        ({"method": Regression(target_loo=1e-3)}, ValueError, r"target_loo needs max_runs"),
        ({"n_runs": 1}, ValueError, r"n_runs must be >= 2, got 1"),
        ({"samples": {"x": [1.0]}}, TypeError, r"samples must be an xarray.Dataset, got dict"),
        ({"samples": xr.Dataset({"x": ("sample", [1.0, 2.0])})}, KeyError, r"samples lack variable\(s\) \['y'\]"),
        ({"method": Quadrature(rule="nonsense")}, ValueError, r"could not build quadrature rule 'nonsense'"),
        ({"method": 3}, TypeError, r"method must be a Regression, a Quadrature or a method name, got int"),
        ({"method": Regression(), "degree": 2}, TypeError, r"fit_pce\(\) got \['degree'\] beside method=Regression"),
        ({"level": 2, "typo": 1}, TypeError, r"unexpected keyword argument\(s\) \['typo'\]"),
    ],
)
def test_fit_pce_errors(kwargs, error, match):
    with pytest.raises(error, match=match):
        fit_pce(_line(), **kwargs)


@pytest.mark.parametrize(
    ("make", "match"),
    [
        (lambda: Regression(q_norm=0.0), r"q_norm must lie in \(0, 1\] or be None, got 0.0"),
        (lambda: Regression(degree=-1), r"degree must be a non-negative integer or None, got -1"),
        (lambda: Regression("krige"), r"selector must be one of .*got 'krige'"),
        (lambda: Regression(enrich_by=0), r"enrich_by must be a positive integer or None, got 0"),
        (lambda: Quadrature(level=-1), r"level must be a non-negative integer, got -1"),
    ],
)
def test_option_records_refuse_bad_values(make, match):
    with pytest.raises(ValueError, match=match):
        make()


def test_old_keywords_warn_and_give_the_same_fit():
    # issue 32: the flat keywords of the last release map onto the option records for one release
    model = _sum_of_two()
    new = fit_pce(model, method=Regression("lars", max_degree=3, q_norm=1.0), n_runs=30, rng=3)
    with pytest.warns(DeprecationWarning, match=r"use method=Regression\('lars', max_degree=3, q_norm=1.0\)"):
        old = fit_pce(model, method="lars", max_degree=3, q_norm=1.0, n_runs=30, rng=3)
    np.testing.assert_array_equal(new.coefficients, old.coefficients)
    np.testing.assert_array_equal(new.indices, old.indices)
    with pytest.warns(DeprecationWarning, match=r"use method=Quadrature\(level=2\)"):
        quad = fit_pce(model, method="quadrature", level=2)
    np.testing.assert_array_equal(quad.coefficients, fit_pce(model, method=Quadrature(level=2)).coefficients)


def test_index_query_errors(ishigami_pce):
    with pytest.raises(KeyError, match=r"unknown or empty input group \['x9'\]; uncertain inputs: \['x1', 'x2', 'x3'\]"):
        ishigami_pce.sobol_index(["x9"])
    with pytest.raises(ValueError, match=r"kind must be one of \('closed', 'total', 'interaction'\), got 'first'"):
        ishigami_pce.sobol_index(["x1"], kind="first")
    with pytest.raises(ValueError, match="groups must name at least one group"):
        ishigami_pce.grouped_indices({})


def test_joint_samples_and_failed_quadrature_are_refused():
    model = _line().with_joint_samples({"x": np.random.default_rng(0).normal(size=50)})
    with pytest.raises(ValueError, match="joint samples have no polynomial chaos germ"):
        fit_pce(model)
    bad = ForwardModel("bad", lambda x: {"y": np.log(x)}, [Input("x", Normal(0, 1))], [Output("y")])
    with pytest.raises(ValueError, match="quadrature rule cannot drop nodes"):
        fit_pce(bad, method=Quadrature(level=3))


# ---- under-determined and degenerate fits (issue 18, item 8) -------------------------------------
def _sum_of_two():
    return ForwardModel(
        "sum2", lambda a, e: {"y": a + e}, [Input("a", Normal(0, 1)), Input("e", Normal(0, 1))], [Output("y")]
    )


@pytest.mark.parametrize("n", [2, 3])
def test_under_determined_fit_is_refused(n):
    """2 or 3 runs of y = a + e cannot identify the mean and two linear terms and validate them."""
    with pytest.raises(ValueError, match=rf"needs at least 4 successful runs for 2 uncertain input\(s\).*got {n}\."):
        fit_pce(_sum_of_two(), n_runs=n, rng=0)


def test_smallest_determined_fit_is_exact():
    """With d + 2 = 4 runs the linear model is recovered: Var = 2 and S = [0.5, 0.5] (closed form)."""
    p = fit_pce(_sum_of_two(), n_runs=4, rng=0)
    assert float(p.variance().sel(output="y")) == pytest.approx(2.0, rel=1e-9)
    np.testing.assert_allclose(p.sobol_indices()["first"].sel(output="y").values, [0.5, 0.5], rtol=1e-9)


def test_failed_runs_count_against_the_minimum():
    ds = xr.Dataset({"a": ("sample", [0.1, 0.5, -0.3, 1.2, 0.7]), "e": ("sample", [0.2, -1.0, 0.4, 0.3, -0.1]),
                     "y": ("sample", [0.3, -0.5, np.nan, np.nan, 0.6])})
    with pytest.raises(ValueError, match=r"got 3 \(2 failed runs dropped\)"):
        fit_pce(_sum_of_two(), samples=ds)


def test_constant_output_gives_the_constant_expansion():
    """A constant output is fitted exactly: mean = the value, variance 0, indices undefined (NaN)."""
    m = ForwardModel("c", lambda a, e: {"y": 0 * a + 3.0},
                     [Input("a", Normal(0, 1)), Input("e", Uniform(0, 1))], [Output("y")])
    p = fit_pce(m, n_runs=20, rng=0)
    assert float(p.mean().sel(output="y")) == 3.0
    assert float(p.variance().sel(output="y")) == 0.0
    assert np.isnan(p.sobol_indices()["first"].values).all()
    assert float(p.validation["loo_error"].sel(output="y")) == 0.0
    np.testing.assert_array_equal(p.model(a=np.array([0.3, -2.0]), e=np.array([0.1, 0.9]))["y"], [3.0, 3.0])


def test_selection_keeps_a_support_found_at_the_recovery_threshold():
    """Ishigami, 60 scrambled-Sobol runs (design seed 2): 31 of the candidate terms reproduce the
    function, but refitted on 80 % of the runs (5-fold CV) the greedy selection loses them and that
    candidate scored 0.5; with 10 folds it is kept. Reference: analytic indices (Sobol' & Levitan 1999);
    the earlier selection erred by 0.13 on this design, the tolerance 1e-2 is OpenTURNS' error here.
    """
    from uqbridge.designs import unit_design

    model, ref = ishigami(), ishigami_reference()
    values = model.inputs.from_unit(unit_design(60, 3, "sobol", rng=2))
    ds = xr.Dataset({**{k: ("sample", v) for k, v in values.items()}, "y": ("sample", model(**values)["y"])})
    s = fit_pce(model, samples=ds, rng=2).sobol_indices().sel(output="y")
    error = max(np.abs(s["first"].values - ref["S1"]).max(), np.abs(s["total"].values - ref["ST"]).max())
    assert error < 1e-2


@pytest.mark.parametrize("method", ["sparse", "lars", "omp", "ols"])
def test_degree_zero_is_the_sample_mean(method):
    """degree=0 keeps the constant alone: its coefficient is the sample mean, its LOO error n/(n-1)."""
    rng = np.random.default_rng(0)
    a, e = rng.normal(size=10), rng.normal(size=10)
    ds = xr.Dataset({"a": ("sample", a), "e": ("sample", e), "y": ("sample", a + e)})
    p = fit_pce(_sum_of_two(), samples=ds, method=Regression(method, degree=0))
    assert float(p.mean().sel(output="y")) == pytest.approx(float(np.mean(a + e)), rel=1e-12)
    assert float(p.variance().sel(output="y")) == 0.0
    assert float(p.validation["loo_error"].sel(output="y")) == pytest.approx(10 / 9)
