"""Monte Carlo, importance sampling and subset simulation against exact Pf, with tolerances from each
method's own standard error; slow tests check that the reported errors are honest."""

import numpy as np
import pytest

from uqbridge.reliability import active_learning, form, importance_sampling, monte_carlo, subset_simulation
from uqbridge.reliability.problems import four_branch, linear, parabolic, r_minus_s


@pytest.mark.parametrize("design", ["mc", "sobol"])
def test_monte_carlo_cov_targeted(design):
    """R − S (lognormal R, normal S), exact 1.4378e-3 by quadrature: stops at the target CoV."""
    p = r_minus_s()
    r = monte_carlo(p.limit_state, target_cov=0.1, batch=20_000, design=design, rng=11)
    assert bool(r.converged) and float(r.cov) <= 0.1
    assert abs(float(r.pf) - p.pf) <= 4 * float(r.pf_se)
    assert float(r.pf_low) <= float(r.pf) <= float(r.pf_high)
    assert int(r.n_runs) == int(r.history_runs[-1])
    assert float(r.beta) == pytest.approx(-__import__("scipy").special.ndtri(float(r.pf)))


def test_monte_carlo_same_seed_same_numbers_and_budget():
    ls = linear(2.0).limit_state
    a, b = (monte_carlo(ls, batch=1000, rng=5) for _ in range(2))
    assert float(a.pf) == float(b.pf) and int(a.n_runs) == int(b.n_runs)
    r = monte_carlo(linear(4.75).limit_state, max_runs=3000, batch=1000, rng=0)
    assert not bool(r.converged) and int(r.n_runs) == 3000 and "not reached" in r.attrs["warning"]
    assert float(r.pf_high) > 0  # Clopper-Pearson upper bound with zero failures


def test_importance_sampling_rare_event_target():
    """Linear β = 4.75 (Pf = 1.017e-6): CoV ≤ 0.1 in ≤ 2000 runs, FORM runs included."""
    p = linear(4.75)
    r = importance_sampling(p.limit_state, n=1500, rng=3)
    assert int(r.n_runs) <= 2000 and float(r.cov) <= 0.1
    assert abs(float(r.pf) - p.pf) <= 4 * float(r.pf_se)


def test_importance_sampling_four_branch_mixture():
    """Four-branch k = 6 (exact 4.457e-3): centred at the four component design points, IS is unbiased
    although FORM alone is 3x off."""
    p = four_branch(6)
    f = form(p.limit_state)
    r = importance_sampling(p.limit_state, n=2000, form_result=f, rng=4)
    assert r.sizes["centre"] == 4
    assert abs(float(r.pf) - p.pf) <= 4 * float(r.pf_se) and float(r.cov) < 0.1
    assert int(r.n_runs) == int(f.n_runs) + 2000


def test_subset_simulation_rare_and_system():
    """Subset simulation (aCS) on β = 4.75 and on the four-branch system; the estimator is close to
    lognormal, so the check is |log(pf/ref)| ≤ 4·cov."""
    for p, n in ((linear(4.75), 1000), (four_branch(7), 1000)):
        r = subset_simulation(p.limit_state, n_per_level=n, rng=7)
        assert bool(r.converged)
        assert abs(np.log(float(r.pf) / p.pf)) <= 4 * float(r.cov)
        levels = r.sizes["level"]
        assert int(r.n_runs) == n + (levels - 1) * int(n * 0.9)
        assert float(r.level_threshold[-1]) == 0.0
        assert np.all(r.level_acceptance[1:] > 0.2)


def test_sampling_errors():
    ls = linear(3.0).limit_state
    with pytest.raises(ValueError, match="design must be one of \\('mc', 'sobol'\\), got 'lhs'"):
        monte_carlo(ls, design="lhs")
    with pytest.raises(ValueError, match="target_cov must lie in"):
        monte_carlo(ls, target_cov=-1)
    with pytest.raises(ValueError, match="n_per_level\\*p0 and 1/p0 must be integers"):
        subset_simulation(ls, n_per_level=1000, p0=0.3)
    with pytest.raises(ValueError, match="p0 must lie in \\(0.0, 0.5\\), got 0.7"):
        subset_simulation(ls, p0=0.7)
    with pytest.raises(TypeError, match="given together with form_result"):
        importance_sampling(ls, form_result=form(ls), form_options={"tol": 1e-3})


@pytest.mark.slow
@pytest.mark.parametrize("method", ["monte_carlo", "importance_sampling", "subset_simulation"])
def test_reported_error_is_honest(method):
    """Over 60 seeds: the spread of the estimates matches the mean reported standard error (within
    the sampling error of a standard deviation from 60 values, ~±25 % at 3σ) and the mean is unbiased."""
    p = parabolic(3.0, 0.5) if method != "monte_carlo" else r_minus_s()
    runs = {
        "monte_carlo": lambda s: monte_carlo(p.limit_state, target_cov=0.2, batch=5000, rng=s),
        "importance_sampling": lambda s: importance_sampling(p.limit_state, n=300, form_result=f, rng=s),
        "subset_simulation": lambda s: subset_simulation(p.limit_state, n_per_level=500, rng=s),
    }
    f = form(p.limit_state)
    res = [runs[method](s) for s in range(60)]
    pf = np.array([float(r.pf) for r in res])
    se = np.array([float(r.pf_se) for r in res])
    assert 0.7 < pf.std(ddof=1) / np.sqrt(np.mean(se**2)) < 1.35
    assert abs(pf.mean() - p.pf) <= 4 * pf.std(ddof=1) / np.sqrt(pf.size)
    coverage = np.mean([float(r.pf_low) <= p.pf <= float(r.pf_high) for r in res])
    assert coverage >= 0.85


def test_reliability_methods_give_the_same_numbers_on_a_process_pool():
    """Same rng, same Pf on every backend (the runs of one call are spread over the workers; SPEC 7)."""
    from uqbridge.execution.backends import ProcessPool

    ls = linear(3.0).limit_state
    calls = {
        "monte_carlo": lambda backend: monte_carlo(ls, target_cov=0.2, batch=4000, rng=5, backend=backend),
        "importance_sampling": lambda backend: importance_sampling(ls, n=400, rng=6, backend=backend),
        "subset_simulation": lambda backend: subset_simulation(ls, n_per_level=500, rng=7, backend=backend),
        "form": lambda backend: form(ls, gradient="fd", rng=8, backend=backend),
        "active_learning": lambda backend: active_learning(ls, max_runs=60, rng=9, backend=backend),
    }
    with ProcessPool(2) as pool:
        for name, call in calls.items():
            here, there = call(None), call(pool)
            assert float(here.pf) == float(there.pf) and int(here.n_runs) == int(there.n_runs), name
    with pytest.raises(TypeError, match="monte_carlo: backend must be an execution backend"):
        monte_carlo(ls, backend="processes")


def test_every_registered_method_takes_a_backend():
    """The registry's contract: studies and pf_epistemic pass ``backend`` to any method they name."""
    import inspect

    from uqbridge.reliability.registry import METHODS

    for name, func in METHODS.items():
        params = inspect.signature(func).parameters
        assert "backend" in params, name
