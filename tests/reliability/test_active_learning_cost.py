"""AK-MCS cost controls (issue 29): length scales re-optimised every k steps, a CPU bound on the
surrogate's own work, and recommended() falling back to sampling when the surrogate runs out of it.

References: the four-branch system's exact Pf by 1-D quadrature (Waarts 2000; Echard, Gayton &
Lemaire 2011 Table 1: 4.416e-3), Pf = Φ(−β) for a linear limit state (closed form).
"""

from __future__ import annotations

import numpy as np
import pytest
from scipy import special

from uqbridge.reliability import active_learning
from uqbridge.reliability.problems import four_branch, linear


def test_refits_every_k_steps_keep_the_four_branch_pf():
    """100 initial runs, so every learning step is past the always-optimise threshold: with
    ``refit_every=3`` most steps keep the length scales (fixed-hyperparameter updates), and the
    estimate still agrees with the exact 1-D integral (4.4573e-3) within 3 of its own standard errors."""
    p = four_branch(6)
    r = active_learning(p.limit_state, n_initial=100, refit_every=3, target_cov=0.05, max_runs=200, rng=1)
    fits, optimised = r.attrs["surrogate_fits"], r.attrs["length_scale_fits"]
    assert r.attrs["reliable"] == 1, r.attrs["reason"]
    assert optimised < fits and optimised <= -(-fits // 3) + 2  # schedule engaged (+ first fit, trend switch)
    assert abs(float(r.pf) - p.pf) <= 3 * float(r.pf_se)


def test_refit_every_one_optimises_at_every_fit():
    p = linear(2.0)
    r = active_learning(p.limit_state, n_initial=100, refit_every=1, target_cov=0.05, rng=0)
    assert r.attrs["length_scale_fits"] == r.attrs["surrogate_fits"] >= 1
    assert abs(float(r.pf) - float(special.ndtr(-2.0))) <= 4 * float(r.pf_se)


def test_work_bound_stops_learning_and_says_so():
    """A bound already spent stops learning at the first step: unreliable, with the reason; the model
    calls are not counted (the bound is on the surrogate's own work)."""
    p = four_branch(6)
    r = active_learning(p.limit_state, max_surrogate_work=1.0, rng=0)
    assert r.attrs["reliable"] == 0
    assert "max_surrogate_work" in r.attrs["reason"]
    assert int(r.n_runs) == 12  # the initial design only


def test_work_bound_is_checked():
    with pytest.raises(ValueError, match="max_surrogate_work"):
        active_learning(linear(2.0).limit_state, max_surrogate_work=-1.0)
    with pytest.raises(ValueError, match="refit_every"):
        active_learning(linear(2.0).limit_state, refit_every=0)


def test_recommended_falls_back_when_the_surrogate_runs_out_of_work(monkeypatch):
    """With no work left for the surrogate, recommended() goes on to importance sampling with FORM control
    variates; on a linear limit state that answer is within 4 SE of Φ(−3) (closed form)."""
    from uqbridge.reliability import auto

    monkeypatch.setattr(auto, "SURROGATE_WORK", 1.0)
    p = linear(3.0)
    r = auto.recommended(p.limit_state, rng=0)
    assert "active_learning (reliable=0" in r.attrs["steps"]
    assert r.attrs["recommended"] == "importance_sampling"
    assert abs(float(r.pf) - p.pf) <= 4 * float(r.pf_se)
    assert np.isfinite(float(r.pf_se))


def test_work_bound_is_a_count_not_a_clock(monkeypatch):
    """The same seed and bound stop at the same step however slow the machine is: with the process clock
    made to race (each reading an hour later than the last), the answer and the count are unchanged."""
    import time

    p = four_branch(6)
    calm = active_learning(p.limit_state, max_surrogate_work=2e8, rng=3)
    ticks = iter(range(0, 10**9, 3600))
    monkeypatch.setattr(time, "process_time", lambda: float(next(ticks)))
    raced = active_learning(p.limit_state, max_surrogate_work=2e8, rng=3)
    assert float(calm.pf) == float(raced.pf) and int(calm.n_runs) == int(raced.n_runs)
    assert calm.attrs["surrogate_work"] == raced.attrs["surrogate_work"]
    assert calm.attrs["reliable"] == 0 and "max_surrogate_work" in calm.attrs["reason"]
