"""A model that fails on some points (raises, exits, returns NaN) must not abort a reliability method.

Issue #18, defect 13: the failed runs are counted, named in the result's reason (which marks it
unreliable) and left out of the estimate; the others are kept. References: the limit states below are
linear in independent standard normals, so Pf = Φ(−β) exactly (Ditlevsen & Madsen 1996, ch. 5), and the
failing region ``x1 > 2.5`` has probability Φ(−2.5) = 6.21e-3.
"""

from __future__ import annotations

import math
import sys

import numpy as np
import pytest
from scipy import special

from uqbridge import ForwardModel, Input, Normal, Output
from uqbridge.reliability import LimitState, form, importance_sampling, monte_carlo, subset_simulation

P_FAILING = float(special.ndtr(-2.5))  # probability of the region where the model breaks


def _model(g, how: str = "raise") -> ForwardModel:
    """``y = g(x1, x2)``; the model breaks (as ``how`` says) wherever x1 > 2.5."""

    def function(x1, x2):
        if np.any(x1 > 2.5):
            if how == "raise":
                raise ValueError("solver diverged")
            if how == "exit":
                sys.exit(3)
            return {"y": np.where(x1 > 2.5, np.nan, g(x1, x2))}
        return {"y": g(x1, x2)}

    return ForwardModel("flaky", function, [Input("x1", Normal(0, 1)), Input("x2", Normal(0, 1))], [Output("y")])


# failure independent of x1: leaving out the failed runs does not bias Pf = Φ(−2)
INDEPENDENT = LimitState(_model(lambda x1, x2: 2.0 - x2), "y")
PF_INDEPENDENT = float(special.ndtr(-2.0))


def _flagged(r) -> None:
    assert r.attrs["reliable"] == 0
    assert r.attrs["n_failed"] > 0
    assert "model runs failed" in r.attrs["reason"]


@pytest.mark.parametrize("how", ["raise", "exit", "nan"])
def test_monte_carlo_keeps_the_other_runs(how):
    ls = LimitState(_model(lambda x1, x2: 2.0 - x2, how), "y")
    r = monte_carlo(ls, target_cov=0.05, batch=20_000, rng=1)
    _flagged(r)
    assert "solver diverged" in r.attrs["reason"] or how != "raise"
    assert "sys.exit(3)" in r.attrs["reason"] or how != "exit"
    # failed fraction ~ Φ(−2.5) within 4 binomial standard errors
    n = int(r.n_runs)
    assert abs(r.attrs["n_failed"] / n - P_FAILING) < 4 * math.sqrt(P_FAILING * (1 - P_FAILING) / n)
    # the estimate over the runs that succeeded is unbiased here (failure independent of x1)
    assert abs(float(r.pf) - PF_INDEPENDENT) < 4 * float(r.pf_se)
    # what the failed runs could change, stated
    assert r.attrs["pf_if_failed_runs_safe"] <= float(r.pf) <= r.attrs["pf_if_failed_runs_fail"]


def test_sobol_monte_carlo_keeps_the_other_runs():
    r = monte_carlo(INDEPENDENT, design="sobol", target_cov=0.05, rng=2)
    _flagged(r)
    assert abs(float(r.pf) - PF_INDEPENDENT) < 4 * float(r.pf_se)


def test_subset_simulation_rejects_failed_proposals():
    r = subset_simulation(INDEPENDENT, n_per_level=2000, rng=3)
    _flagged(r)
    assert bool(r.converged)
    assert abs(float(r.pf) - PF_INDEPENDENT) < 4 * float(r.pf_se)


def test_importance_sampling_leaves_failed_runs_out():
    # failure correlated with the breaking region: the result must say so, never look clean
    ls = LimitState(_model(lambda x1, x2: 3.0 - x1 - 0.5 * x2), "y")
    r = importance_sampling(ls, n=2000, rng=4)
    _flagged(r)
    assert 0.0 <= float(r.pf) <= 1.0


def test_form_finds_the_design_point_next_to_a_broken_region():
    # g = 3 − x1 − x2/2: β = 3/√1.25 exactly, design point (2.40, 1.20) just left of x1 = 2.5
    ls = LimitState(_model(lambda x1, x2: 3.0 - x1 - 0.5 * x2), "y")
    r = form(ls)
    assert abs(float(r.beta) - 3.0 / math.sqrt(1.25)) < 1e-3
    # the exploratory sphere of radius β + ½ reaches past x1 = 2.5: some runs fail, and are said to
    _flagged(r)
    assert "rejected steps" in r.attrs["reason"]


def test_every_run_failing_is_an_error():
    def down(x1, x2):
        raise RuntimeError("licence server down")

    ls = LimitState(ForwardModel("broken", down, [Input("x1", Normal(0, 1)), Input("x2", Normal(0, 1))],
                                 [Output("y")]), "y")
    for method in (monte_carlo, subset_simulation, importance_sampling):
        with pytest.raises(ValueError, match="licence server down"):
            method(ls, rng=0)
