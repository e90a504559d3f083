"""Propagation: Ishigami moments against the analytic values, reproducibility, netCDF round trip."""

import numpy as np
import pytest

import uqbridge as uq
from uqbridge_models.benchmark_functions import ishigami_reference


@pytest.mark.parametrize("design", ["mc", "lhs", "sobol", "halton"])
def test_ishigami_mean_and_variance_within_three_standard_errors(design):
    """Ishigami (a=7, b=0.1): mean a/2 = 3.5, variance 13.8446 (Ishigami & Homma 1990; Sobol' & Levitan 1999)."""
    ref = ishigami_reference()
    ds = uq.propagate(uq.get_model("ishigami"), 8192, design=design, rng=42)
    mean, se = float(ds["mean"].sel(output="y")), float(ds["mean_se"].sel(output="y"))
    std, std_se = float(ds["std"].sel(output="y")), float(ds["std_se"].sel(output="y"))
    assert abs(mean - ref["mean"]) < 3 * se
    assert abs(std - np.sqrt(ref["variance"])) < 3 * std_se


def test_quantile_interval_covers_exact_quantile():
    """Normal output: the order-statistic interval of each quantile covers the exact quantile."""
    m = uq.ForwardModel("lin", lambda x: {"y": 3 * x + 1}, [uq.Input("x", uq.Normal(0, 1))], [uq.Output("y")])
    ds = uq.propagate(m, 5000, design="mc", rng=7, quantiles=(0.05, 0.5, 0.95))
    from scipy import stats

    exact = stats.norm(1, 3).ppf([0.05, 0.5, 0.95])
    lo = ds["quantiles_low"].sel(output="y").values
    hi = ds["quantiles_high"].sel(output="y").values
    assert np.all((lo <= exact) & (exact <= hi))


def test_same_seed_same_numbers_different_seed_different():
    m = uq.get_model("borehole")
    a = uq.propagate(m, 256, rng=3)
    b = uq.propagate(m, 256, rng=3)
    c = uq.propagate(m, 256, rng=4)
    np.testing.assert_array_equal(a["y"].values, b["y"].values)
    assert not np.array_equal(a["y"].values, c["y"].values)


def test_netcdf_round_trip_is_lossless(tmp_path):
    ds = uq.propagate(uq.get_model("ishigami"), 128, design="lhs", rng=1)
    uq.save(ds, tmp_path / "r.nc")
    back = uq.load(tmp_path / "r.nc")
    assert back.identical(ds)
    from uqbridge.results import inputs_of

    assert inputs_of(back).to_json() == uq.get_model("ishigami").inputs.to_json()


def test_provenance_attributes():
    ds = uq.propagate(uq.get_model("ishigami"), 64, design="halton", rng=9)
    for key in ("uqbridge_version", "model", "method", "design", "seed", "n_runs", "wall_time_s", "inputs"):
        assert key in ds.attrs
    assert ds.attrs["seed"] == 9 and ds.attrs["design"] == "halton"


def test_bad_arguments():
    m = uq.get_model("ishigami")
    with pytest.raises(ValueError, match=r"unknown design 'grid'; valid designs: \['mc', 'lhs', 'sobol', 'halton'\]"):
        uq.propagate(m, 10, design="grid")
    with pytest.raises(ValueError, match="number of samples n must be a positive integer, got 0"):
        uq.propagate(m, 0)
    with pytest.raises(ValueError, match=r"quantiles must lie in \(0, 1\), got 1.5"):
        uq.propagate(m, 10, quantiles=(1.5,))


# ---- quantile intervals at small n (issue #18 defect 7) ---------------------------------------------
@pytest.mark.parametrize("n", [2, 5, 20, 100, 400])
def test_quantile_intervals_keep_their_coverage_at_every_n(n):
    """Coverage of the stated 95 % distribution-free interval, by simulation against the exact normal
    quantiles (scipy.stats.norm.ppf): at least 0.95 - 4 standard errors of the coverage estimate."""
    from scipy import stats

    from uqbridge.propagate import quantile_interval

    reps, q = 4000, np.array([0.05, 0.5, 0.95])
    y = np.sort(np.random.default_rng(n).normal(size=(reps, n)), axis=1)
    lo, hi = quantile_interval(y, q, 0.95)
    truth = stats.norm.ppf(q)
    coverage = ((lo <= truth) & (truth <= hi)).mean(axis=0)
    assert (coverage >= 0.95 - 4 * np.sqrt(0.95 * 0.05 / reps)).all(), coverage


def test_small_samples_give_unbounded_quantile_intervals_with_a_warning():
    m = uq.ForwardModel("lin", lambda x: {"y": 2 * x}, [uq.Input("x", uq.Normal(0, 1))], [uq.Output("y")])
    with pytest.warns(RuntimeWarning, match=r"no order statistic bounds quantile\(s\) \[0.05, 0.95\].*About 72 samples"):
        ds = uq.propagate(m, 20, rng=0, quantiles=(0.05, 0.5, 0.95))
    row = ds.sel(output="y")
    assert row["quantiles_low"].sel(quantile=0.05).item() == -np.inf
    assert row["quantiles_high"].sel(quantile=0.95).item() == np.inf
    assert np.isfinite(row["quantiles_low"].sel(quantile=0.5).item())
