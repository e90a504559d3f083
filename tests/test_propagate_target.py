"""propagate(target_cov=...): sequential sampling to a relative standard error of the mean (issue #30, item 7).

Reference: the Ishigami function (a = 7, b = 0.1) has mean a/2 = 3.5 (Sobol' & Levitan 1999;
``uqbridge_models.benchmark_functions.ishigami_reference``).
"""

from __future__ import annotations

import json

import numpy as np
import pytest

import uqbridge as uq
from uqbridge.execution.backends import ProcessPool
from uqbridge_models.benchmark_functions import ishigami_reference

MEAN = ishigami_reference()["mean"]


@pytest.mark.parametrize("design", ["mc", "sobol", "lhs", "halton"])
def test_ishigami_mean_stops_at_the_target_within_3_se(design):
    assert MEAN == 3.5
    model = uq.get_model("ishigami")
    for seed in range(3):
        ds = uq.propagate(model, 2**17, design=design, target_cov=0.02, rng=seed)
        mean, se = float(ds["mean"].sel(output="y")), float(ds["mean_se"].sel(output="y"))
        assert bool(ds.attrs["target_met"]) and se <= 0.02 * abs(mean)
        assert abs(mean - MEAN) <= 3 * se, (design, seed, mean, se)
        assert ds.attrs["n_samples"] == ds.sizes["sample"] <= 2**17
        assert "mean_se <= 0.02 * |mean|" in ds.attrs["stopping_rule"]
        # the round before the stop missed the target: it stopped at the first round that met it
        if ds.attrs["rounds"] > 1:
            assert json.loads(ds.attrs["history_worst_cov"])[-2] > 0.02


def test_replicate_standard_error_is_the_spread_of_replicate_means():
    ds = uq.propagate(uq.get_model("ishigami"), 4096, design="sobol", target_cov=0.01, n_replicates=4, rng=1)
    y, rep = ds["y"].values, ds["replicate"].values
    means = np.array([y[rep == r].mean() for r in range(4)])
    assert float(ds["mean"].sel(output="y")) == pytest.approx(means.mean())
    assert float(ds["mean_se"].sel(output="y")) == pytest.approx(means.std(ddof=1) / 2)
    assert ds.attrs["n_replicates"] == 4


def test_same_rng_same_numbers_and_budget_cap_warns():
    model = uq.get_model("ishigami")
    a = uq.propagate(model, 4096, design="mc", target_cov=0.002, rng=7)
    with pytest.warns(RuntimeWarning, match="target_cov=0.002 not reached"):
        b = uq.propagate(model, 4096, design="mc", target_cov=0.002, rng=7)
    assert np.array_equal(a["y"].values, b["y"].values) and a.attrs["n_samples"] == b.attrs["n_samples"]
    assert not bool(b.attrs["target_met"]) and b.attrs["n_samples"] <= 4096


def test_backend_independent():
    model = uq.get_model("ishigami")
    local = uq.propagate(model, 8192, target_cov=0.02, rng=3)
    with ProcessPool(2) as pool:
        remote = uq.propagate(model, 8192, target_cov=0.02, rng=3, backend=pool)
    assert np.array_equal(local["y"].values, remote["y"].values)
    assert float(local["mean"][0]) == float(remote["mean"][0])


def test_bad_target_is_refused_with_the_fix():
    model = uq.get_model("ishigami")
    with pytest.raises(ValueError, match="target_cov must be a positive number"):
        uq.propagate(model, 100, target_cov=0)
    with pytest.raises(ValueError, match="n_replicates must be an integer >= 2"):
        uq.propagate(model, 100, target_cov=0.1, n_replicates=1)


def test_cli_target_cov(tmp_path, capsys):
    from uqbridge.cli import main

    path = tmp_path / "out.nc"
    assert main(["propagate", "ishigami", "-n", "65536", "--design", "mc", "--target-cov", "0.05", "--seed", "5",
                 "--out", str(path)]) == 0
    out = capsys.readouterr().out
    assert "target relative SE of the means 0.05: met" in out
    ds = uq.load(path)
    assert ds.attrs["target_cov"] == 0.05 and ds.sizes["sample"] == 512  # (3.72 / (0.05 * 3.5))^2 = 452 -> 512
    with pytest.raises(SystemExit):
        main(["propagate", "ishigami", "--target-cov", "-1"])
