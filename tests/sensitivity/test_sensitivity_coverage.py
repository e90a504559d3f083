"""Coverage of the claimed 95 % intervals over independent replications (slow).

The interval is honest if it covers the analytic value in at least the binomial 0.1 % quantile of
``R`` trials at the nominal 95 % (a failure then has probability < 0.001 for a correct interval).
"""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from uqbridge.sensitivity import shapley_effects, sobol_indices
from uqbridge_models.benchmark_functions import ishigami, ishigami_reference

R = 60
MIN_COVERED = int(stats.binom.ppf(0.001, R, 0.95))


def _coverage(datasets, var, reference):
    hits = np.array([
        (ds[f"{var}_low"].sel(output="y").values <= reference) & (reference <= ds[f"{var}_high"].sel(output="y").values)
        for ds in datasets
    ])
    return hits.sum(axis=0)


@pytest.mark.slow
def test_sobol_bootstrap_interval_coverage():
    """Ishigami analytic S_i and S_Ti (Sobol' & Levitan 1999) inside SALib's bootstrap interval."""
    ref = ishigami_reference()
    runs = [sobol_indices(ishigami(), 256, groups=None, rng=1000 + k) for k in range(R)]
    for var, value in (("first", ref["S1"]), ("total", ref["ST"])):
        covered = _coverage(runs, var, value)
        assert np.all(covered >= MIN_COVERED), (var, covered, MIN_COVERED)


@pytest.mark.slow
def test_shapley_interval_coverage():
    """Independent Ishigami Shapley effects (Owen 2014 decomposition) inside the permutation CI."""
    ref = ishigami_reference()
    expected = np.array([ref["S1"][0] + ref["S13"] / 2, ref["S1"][1], ref["S13"] / 2])
    runs = [shapley_effects(ishigami(), n_perm=150, n_var=3000, rng=2000 + k) for k in range(R)]
    covered = _coverage(runs, "shapley", expected)
    assert np.all(covered >= MIN_COVERED), (covered, MIN_COVERED)
