"""Law-of-total-variance decomposition against closed forms, with a coverage test of its intervals.

References: the law of total variance Var Y = E[Var(Y|E)] + Var(E[Y|E]); for Y = A·E with independent
A, E: Var Y = E[E²]Var(A) + Var(E)E[A]² (Goodman 1960, JASA 55, "On the exact variance of products");
Ishigami partial variances from Sobol' & Levitan (1999) via ``ishigami_reference``.
"""

import numpy as np
import pytest

import uqbridge as uq
from uqbridge.variance import conditional_distributions, decompose
from uqbridge_models.benchmark_functions import ishigami_reference

MA, SA, ME, SE = 2.0, 0.5, 3.0, 1.0


def _product():
    return uq.ForwardModel(
        "product",
        lambda a, e, xp=np: {"y": a * e},
        [uq.Input("a", uq.Normal(MA, SA), "aleatory"), uq.Input("e", uq.Normal(ME, SE), "epistemic")],
        [uq.Output("y")],
        differentiable=True,
    )


PRODUCT_EPISTEMIC = MA**2 * SE**2  # Var_E(E[Y|E]) = Var(E·mA)
PRODUCT_ALEATORY = (ME**2 + SE**2) * SA**2  # E_E[Var(Y|E)] = E[E²]·Var(A)


def _sum():
    return uq.ForwardModel(
        "sum",
        lambda a, e, xp=np: {"y": a + e},
        [uq.Input("a", uq.Normal(0.0, 1.0), "aleatory"), uq.Input("e", uq.Normal(0.0, 2.0), "epistemic")],
        [uq.Output("y")],
    )


@pytest.mark.parametrize("method, options", [("pick_freeze", {"n": 4096}), ("nested", {"n_outer": 256, "n_inner": 32})])
def test_sum_and_product_closed_forms(method, options):
    for model, epi, ale in [(_sum(), 4.0, 1.0), (_product(), PRODUCT_EPISTEMIC, PRODUCT_ALEATORY)]:
        ds = decompose(model, method=method, rng=11, **options).sel(output="y")
        for name, truth in [("epistemic_term", epi), ("aleatory_term", ale), ("variance", epi + ale)]:
            assert float(ds[f"{name}_low"]) <= truth <= float(ds[f"{name}_high"]), (model.name, method, name)
        share = epi / (epi + ale)
        assert float(ds["epistemic_share_low"]) <= share <= float(ds["epistemic_share_high"])


def test_nested_bias_correction_matters():
    """With few inner samples the naive between-group variance is inflated by E[Var(Y|E)]/n_inner."""
    ds = decompose(_sum(), method="nested", n_outer=2000, n_inner=4, rng=3).sel(output="y")
    corrected = float(ds["epistemic_term"])
    naive = corrected + 1.0 / 4  # adding back the bias term E[Var(Y|E)]/n_inner with E[Var] = 1
    se = (float(ds["epistemic_term_high"]) - float(ds["epistemic_term_low"])) / (2 * 1.96)
    assert abs(corrected - 4.0) < 4 * se
    assert abs(naive - 4.0) > 2 * se or abs(naive - 4.25) < 4 * se


def test_ishigami_groups():
    """Groups {x1, x3} and {x2}: Var(E[Y|x2]) = V2, Var(E[Y|x1,x3]) = V1 + V13 (Sobol' & Levitan 1999)."""
    ref = ishigami_reference()
    var = ref["variance"]
    v2 = ref["S1"][1] * var
    v13 = (ref["S1"][0] + ref["S13"]) * var
    ds = decompose(uq.get_model("ishigami"), groups={"x1x3": ["x1", "x3"], "x2": ["x2"]}, n=8192, rng=5).sel(output="y")
    for group, truth in [("x2", v2), ("x1x3", v13)]:
        g = ds.sel(group=group)
        assert float(g["explained_low"]) <= truth <= float(g["explained_high"]), group
    # for a two-group partition, total of one group = residual given the other
    assert float(ds.sel(group="x2")["total_low"]) <= var - v13 <= float(ds.sel(group="x2")["total_high"])


def test_interval_coverage_over_repeated_seeds():
    """95 % bootstrap intervals cover the exact epistemic term of Y = A·E in ~95 % of 100 repetitions.

    With 100 repetitions the binomial standard error of the coverage is sqrt(.95·.05/100) = 0.022; we
    require coverage >= 0.95 - 3·0.022 = 0.885.
    """
    model = _product()
    hits = {"pick_freeze": 0, "nested": 0}
    reps = 100
    for seed in range(reps):
        a = decompose(model, method="pick_freeze", n=512, n_bootstrap=300, rng=seed).sel(output="y")
        hits["pick_freeze"] += float(a["epistemic_term_low"]) <= PRODUCT_EPISTEMIC <= float(a["epistemic_term_high"])
        b = decompose(model, method="nested", groups={"epistemic": ["e"]}, n_outer=256, n_inner=4,
                      n_bootstrap=300, rng=seed).sel(output="y")
        hits["nested"] += float(b["epistemic_term_low"]) <= PRODUCT_EPISTEMIC <= float(b["epistemic_term_high"])
    for method, h in hits.items():
        assert h / reps >= 0.885, (method, h)


def test_epistemic_given_as_correlated_samples():
    """Posterior-like correlated draws of (e1, e2): the epistemic term is Var(e1 + e2), covariance included."""
    model = uq.ForwardModel(
        "sum3",
        lambda a, e1, e2: {"y": a + e1 + e2},
        [uq.Input("a", uq.Normal(0, 1)), uq.Input("e1", uq.Normal(0, 1), "epistemic"), uq.Input("e2", uq.Normal(0, 1), "epistemic")],
        [uq.Output("y")],
    )
    rng = np.random.default_rng(0)
    draws = rng.multivariate_normal([0, 0], [[1.0, 0.8], [0.8, 1.0]], size=4000)
    truth = np.var(draws.sum(axis=1))  # the empirical distribution's own variance (≈ 3.6)
    for method, options in [("pick_freeze", {"n": 4096}), ("nested", {"n_outer": 512, "n_inner": 16})]:
        ds = decompose(model, method=method, epistemic_samples={"e1": draws[:, 0], "e2": draws[:, 1]}, rng=1, **options)
        ds = ds.sel(output="y")
        assert float(ds["epistemic_term_low"]) <= truth <= float(ds["epistemic_term_high"]), method
        assert float(ds["aleatory_term_low"]) <= 1.0 <= float(ds["aleatory_term_high"]), method


def test_same_seed_same_numbers():
    a = decompose(_product(), n=256, rng=4)
    b = decompose(_product(), n=256, rng=4)
    assert a.identical(b.assign_attrs(created=a.attrs["created"], wall_time_s=a.attrs["wall_time_s"]))


def test_conditional_distributions_of_product():
    """Y | E=e ~ Normal(e·mA, |e|·sA): conditional mean and variance per outer sample, exactly checkable."""
    ds = conditional_distributions(_product(), n_outer=20, n_inner=4000, rng=2).sel(output="y")
    e = ds["e"].values
    mean_se = np.abs(e) * SA / np.sqrt(4000)
    assert np.all(np.abs(ds["conditional_mean"].values - e * MA) < 4 * mean_se)
    var_se = (e * SA) ** 2 * np.sqrt(2 / 3999)
    assert np.all(np.abs(ds["conditional_variance"].values - (e * SA) ** 2) < 4 * var_se)
    assert ds["quantile_function"].shape == (20, 99)


def test_errors_name_the_problem():
    m = _product()
    with pytest.raises(ValueError, match=r"unknown method 'sobol'; valid methods: \['pick_freeze', 'nested', 'pce'\]"):
        decompose(m, method="sobol")
    with pytest.raises(KeyError, match=r"unknown input 'z'"):
        decompose(m, groups={"g": ["z"]})
    with pytest.raises(ValueError, match="input 'a' is in two groups"):
        decompose(m, groups={"g1": ["a"], "g2": ["a", "e"]})
    with pytest.raises(ValueError, match="is fixed"):
        decompose(m.with_inputs(a=1.0), groups={"g": ["a"]})
    corr = uq.ForwardModel(
        "c", lambda a, e: {"y": a + e},
        uq.InputSet([uq.Input("a", uq.Normal(0, 1)), uq.Input("e", uq.Normal(0, 1), "epistemic")], correlation={("a", "e"): 0.5}),
        [uq.Output("y")],
    )
    with pytest.raises(ValueError, match="are correlated .* but sit in different groups"):
        decompose(corr)


# ---- failed runs and groupings without epistemic inputs (issue #18 defects 4 and 9) --------------------
def _failing_product():
    """Y = A·E, with NaN wherever E > 3.8 (a failure that depends on the epistemic input, ~21 %)."""
    return uq.ForwardModel(
        "failing_product",
        lambda a, e: {"y": np.where(e > 3.8, np.nan, a * e)},
        [uq.Input("a", uq.Normal(MA, SA), "aleatory"), uq.Input("e", uq.Normal(ME, SE), "epistemic")],
        [uq.Output("y")],
    )


@pytest.mark.parametrize("method", ["pick_freeze", "nested"])
def test_failed_runs_are_counted_warned_about_and_refused_above_the_limit(method):
    m = _failing_product()
    sizes = dict(n=512, n_outer=64, n_inner=16, rng=0)
    with pytest.raises(ValueError, match=r"failed on \d+ of 2048 runs .* more than max_failed=0.1"):
        decompose(m, method=method, **sizes)
    with pytest.warns(RuntimeWarning, match=r"failed on (\d+) of 2048 runs.*biased if the failures depend on the inputs"):
        ds = decompose(m, method=method, max_failed=0.5, **sizes)
    # P(E > 3.8) = 1 - Phi(0.8) = 0.2119: about that fraction of the runs failed, and all are counted
    assert 0.15 < ds.attrs["n_failed"] / 2048 < 0.3
    share = ds.sel(output="y")
    assert np.isfinite([share["epistemic_share"], share["epistemic_share_low"], share["epistemic_share_high"]]).all()


def test_pce_decomposition_reports_its_failed_runs():
    with pytest.warns(RuntimeWarning, match="failed on"):
        ds = decompose(_failing_product(), method="pce", n=128, rng=1, max_failed=0.5)
    assert ds.attrs["n_failed"] > 0


def test_max_failed_is_validated():
    for bad in (-0.1, 1.0, "0.1", True):
        with pytest.raises(ValueError, match=f"max_failed must be a fraction in \\[0, 1\\), got {bad!r}"):
            decompose(_sum(), max_failed=bad)


def test_custom_groups_on_a_model_without_epistemic_inputs():
    m = uq.ForwardModel(
        "sum_aleatory",
        lambda a, b: {"y": a + 2 * b},
        [uq.Input("a", uq.Normal(0.0, 1.0)), uq.Input("b", uq.Normal(0.0, 1.0))],
        [uq.Output("y")],
    )
    ds = decompose(m, groups={"A": ["a"], "B": ["b"]}, n=2048, rng=2)
    assert "epistemic_term" not in ds
    # closed shares of y = a + 2b: 1/5 and 4/5 (additive model, independent standard normals)
    share = ds["explained_share"].sel(output="y")
    assert share.sel(group="A").item() == pytest.approx(0.2, abs=0.06)
    assert share.sel(group="B").item() == pytest.approx(0.8, abs=0.06)


def test_shares_from_too_few_samples_are_flagged():
    """A closed share outside [0, 1] or an interval too wide to read is never returned silently
    (the analytic shares of Ishigami lie in [0, 1]; n = 8 cannot resolve them)."""
    import warnings

    from uqbridge.index_checks import SensitivityWarning
    from uqbridge.registry import get_model

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        decompose(get_model("ishigami"), n=8, rng=0)
    texts = [str(w.message) for w in caught if issubclass(w.category, SensitivityWarning)]
    assert texts and all(t.startswith("decompose(method='pick_freeze'): y, ") for t in texts)
    assert any("wide interval" in t or "outside [0, 1]" in t for t in texts)


def test_delta_interval_uses_satterthwaite_student_quantile():
    """The delta interval is ``point ± t_ν se`` with ν = 2n / (κ − 1) (Satterthwaite 1946, moment matching
    of the sample variance of the influence values, κ their kurtosis), capped at n − 1. For the mean
    (influence values = the data): Gaussian data (κ = 3) give ν ≈ n, i.e. the ordinary t interval of the
    mean (scipy.stats.t); exponential data (κ = 9) give ν ≈ n / 4: wider than the normal interval."""
    from scipy import stats

    from uqbridge.variance import mean_function_interval

    n = 4000
    for data, kappa in ((np.random.default_rng(3).normal(size=(n, 1)), 3.0),
                        (np.random.default_rng(3).exponential(size=(n, 1)), 9.0)):
        point, low, high, se = mean_function_interval(data, lambda m: m)
        assert se[0] == pytest.approx(data.std(ddof=1) / np.sqrt(n))
        c = data[:, 0] - data.mean()
        k_hat = np.mean(c**4) / np.mean(c**2) ** 2
        assert k_hat == pytest.approx(kappa, rel=0.3)  # the sample kurtosis is near the law's
        nu = min(2 * n / (k_hat - 1), n - 1)
        assert (high[0] - point[0]) / se[0] == pytest.approx(stats.t.ppf(0.975, nu), rel=1e-9)
        assert point[0] - low[0] == pytest.approx(high[0] - point[0])
