"""The reliability figures draw from result Datasets without error (Agg backend)."""

import matplotlib

matplotlib.use("Agg")

import pytest
from reliability_cases import epistemic_limit_state

from uqbridge.plots.reliability import plot_limit_state_2d, plot_pf_convergence, plot_pf_distribution
from uqbridge.reliability import form, pf_epistemic, subset_simulation
from uqbridge.reliability.problems import four_branch, linear


def test_figures():
    p = four_branch(6)
    f = form(p.limit_state)
    fig = plot_limit_state_2d(p.limit_state, f)
    assert len(fig.axes[0].lines) >= 2
    fig = plot_pf_convergence(subset_simulation(p.limit_state, n_per_level=500, rng=0), reference=p.pf)
    assert fig.axes[0].get_yscale() == "log"
    assert len(plot_pf_convergence(f).axes) == 1
    with pytest.raises(ValueError, match="needs a limit state of 2 uncertain inputs, got 3"):
        plot_limit_state_2d(linear(3.0, d=3).limit_state)
    r = pf_epistemic(epistemic_limit_state(), n_outer=20, rng=0, method_options={"gradient": "fd"})
    assert len(plot_pf_distribution(r).axes) == 1
    with pytest.raises(KeyError, match="needs the result of pf_epistemic"):
        plot_pf_distribution(f)
