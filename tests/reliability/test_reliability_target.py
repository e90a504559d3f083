"""Stopping at a target CoV (issue #30, item 7): Monte Carlo and subset simulation against Pf = Φ(−β).

Reference: the linear limit state g = β − Σx/√d in standard normal space has Pf = Φ(−β) exactly
(Hasofer & Lind 1974); β = 2.5 gives Pf = 6.210e-3, β = 3 gives 1.350e-3.
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from scipy import special

from uqbridge.reliability import monte_carlo, subset_simulation
from uqbridge.reliability.problems import linear
from uqbridge.reliability.sampling import MIN_FAILURES


@pytest.mark.parametrize("design", ["mc", "sobol"])
def test_monte_carlo_stops_at_the_target_and_is_within_3_se_of_phi_minus_beta(design):
    p = linear(2.5)
    assert p.pf == pytest.approx(special.ndtr(-2.5), rel=1e-12)
    for seed in range(4):
        r = monte_carlo(p.limit_state, target_cov=0.1, batch=2000, design=design, rng=seed)
        assert bool(r.attrs["target_met"]) and bool(r.converged)
        assert float(r.cov) <= 0.1
        assert abs(float(r.pf) - p.pf) <= 3 * float(r.pf_se), (seed, float(r.pf), float(r.pf_se))
        assert "CoV = pf_se/pf <= 0.1" in r.attrs["stopping_rule"]
        # it stops at the first round that meets the rule: the round before did not
        if r.sizes["iteration"] > 1:
            assert float(r.history_se[-2]) > 0.1 * float(r.history_pf[-2]) or int(r.n_failures) >= MIN_FAILURES


def test_monte_carlo_tests_the_cov_only_after_min_failures():
    """A loose target (CoV 0.5 needs 4 failures) still waits for MIN_FAILURES, stated in the rule."""
    p = linear(2.5)
    r = monte_carlo(p.limit_state, target_cov=0.5, batch=100, rng=3)
    assert bool(r.attrs["target_met"]) and int(r.n_failures) >= MIN_FAILURES
    assert f"at least {MIN_FAILURES} failures" in r.attrs["stopping_rule"]
    # the round before the stop had fewer failures than required (the CoV alone would have stopped earlier)
    n_before = int(r.history_runs[-2])
    assert float(r.history_pf[-2]) * n_before < MIN_FAILURES


def test_monte_carlo_budget_ends_first_warns_and_says_so():
    p = linear(4.0)  # Pf = 3.2e-5: no chance of CoV 0.1 in 5000 runs
    with pytest.warns(RuntimeWarning, match="target CoV 0.1 not reached within max_runs=5000"):
        r = monte_carlo(p.limit_state, target_cov=0.1, max_runs=5000, batch=1000, rng=0)
    assert not bool(r.attrs["target_met"]) and not bool(r.converged) and int(r.n_runs) == 5000


def test_monte_carlo_fixed_budget_without_target():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        r = monte_carlo(linear(2.0).limit_state, target_cov=None, max_runs=3000, batch=1000, rng=0)
    assert int(r.n_runs) == 3000 and r.attrs["stopping_rule"].startswith("fixed budget")
    assert np.isnan(r.attrs["target_cov"]) and not bool(r.attrs["target_met"])


def test_subset_simulation_repeats_to_the_target_within_3_se():
    p = linear(3.0)
    r = subset_simulation(p.limit_state, n_per_level=500, target_cov=0.12, rng=4)
    assert bool(r.attrs["target_met"]) and float(r.cov) <= 0.12 and int(r.sizes["repetition"]) > 1
    assert abs(float(r.pf) - p.pf) <= 3 * float(r.pf_se)
    # the pooled error is the one of a mean of independent runs
    reps = r.repetition_pf.values
    assert float(r.pf) == pytest.approx(reps.mean())
    assert float(r.pf_se) == pytest.approx(np.sqrt((r.repetition_se.values ** 2).sum()) / reps.size)
    again = subset_simulation(p.limit_state, n_per_level=500, target_cov=0.12, rng=4)
    assert float(again.pf) == float(r.pf) and int(again.n_runs) == int(r.n_runs)


def test_subset_simulation_without_target_is_one_run_and_budget_cap_warns():
    p = linear(3.0)
    one = subset_simulation(p.limit_state, n_per_level=500, rng=2)
    assert int(one.sizes["repetition"]) == 1 and one.attrs["stopping_rule"].startswith("one run")
    with pytest.warns(RuntimeWarning, match="target CoV 0.01 not reached"):
        capped = subset_simulation(p.limit_state, n_per_level=500, target_cov=0.01, max_runs=4000, rng=2)
    assert not bool(capped.attrs["target_met"]) and int(capped.n_runs) <= 4000
    assert float(capped.repetition_pf[0]) == float(one.pf)  # same rng: the first repetition is the single run
