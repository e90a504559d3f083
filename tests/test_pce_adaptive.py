"""Sparse PCE selection with input screening: the screened candidate bases, the resolved-input rule,
and the Sobol G-function (d = 8) indices against their closed forms."""

from __future__ import annotations

import numpy as np
import pytest
import xarray as xr

from uqbridge.designs import unit_design
from uqbridge.pce import fit_pce, hyperbolic_indices
from uqbridge.pce.fit import _Choice, _resolved_inputs, _screened_basis
from uqbridge_models.benchmark_functions import sobol_g, sobol_g_reference


def test_screened_basis_is_hyperbolic_on_resolved_inputs_and_main_effects_elsewhere():
    """Hyperbolic set (Blatman & Sudret 2011) over the resolved inputs, univariate terms in the others;
    the union is downward closed (every α − e_i is in it), as a polynomial space should be."""
    active = np.array([True, False, True, True, False])
    basis = _screened_basis(active, 5, 0.6)
    inner = hyperbolic_indices(3, 5, 0.6)
    assert basis.shape[0] == inner.shape[0] + 2 * 5
    assert len({tuple(r) for r in basis.tolist()}) == basis.shape[0]
    on_active = basis[~basis[:, ~active].any(axis=1)]
    assert sorted(map(tuple, on_active[:, active].tolist())) == sorted(map(tuple, inner.tolist()))
    # an unresolved input never interacts, and reaches the full degree alone
    for i in np.flatnonzero(~active):
        rows = basis[basis[:, i] > 0]
        assert (np.count_nonzero(rows, axis=1) == 1).all()
        assert sorted(rows[:, i].tolist()) == [1, 2, 3, 4, 5]
    have = {tuple(r) for r in basis.tolist()}
    for r in basis.tolist():
        for i, a in enumerate(r):
            if a:
                assert tuple(r[:i] + [a - 1] + r[i + 1:]) in have
    assert not basis[0].any() and (np.diff(basis.sum(axis=1)) >= 0).all()  # constant first, graded


def test_resolved_inputs_compares_total_indices_with_the_fit_error():
    """Total index of input i = Σ c_α² over α_i > 0 divided by Σ c_α² over α ≠ 0 (orthonormal basis,
    Sudret 2008): here 9.01/9.02 and 0.02/9.02 ≈ 2.2e-3, below a K-fold error of 1e-2."""
    terms = np.array([[0, 0], [1, 0], [0, 1], [2, 0], [1, 1]])
    coef = np.array([5.0, 3.0, 0.1, 0.1, 0.1])
    choice = _Choice(0.01, 0.01, 2, 1.0, "lars", terms, coef, cv=1e-2)
    assert _resolved_inputs(choice).tolist() == [True, False]
    assert _resolved_inputs(_Choice(0.0, 0.0, 2, 1.0, "lars", terms, coef, cv=1e-3)).tolist() == [True, True]


def _g_fit(n: int, seed: int) -> tuple[float, bool]:
    """Sobol-index error of the default fit on the benchmark's design, and whether it was screened."""
    model, ref = sobol_g(), sobol_g_reference()
    values = model.inputs.from_unit(unit_design(n, 8, "sobol", rng=seed))
    ds = xr.Dataset({**{k: ("sample", v) for k, v in values.items()}, "y": ("sample", model(**values)["y"])})
    p = fit_pce(model, samples=ds, rng=seed)
    s = p.sobol_indices().sel(output="y")
    error = max(np.abs(s["first"].values - ref["S1"]).max(), np.abs(s["total"].values - ref["ST"]).max())
    return float(error), bool(p.validation["screened"].sel(output="y"))


def test_sobol_g_eight_inputs_indices_at_300_runs():
    """Sobol G (d = 8, a = 0, 1, 4.5, 9, 99 ×4), 300 scrambled-Sobol runs (design seed 1), the design of
    ``benchmarks/pce_peers.py``. Reference: Saltelli & Sobol' (1995) closed forms. The isotropic
    selection erred by 1.6e-2 here (spurious interactions of the a = 99 inputs, missing x1·x2 terms);
    with screening the error over 10 designs is at most 1.06e-2 and 3.1e-3 on this one: 1e-2 is the
    issue's target."""
    error, screened = _g_fit(300, 1)
    assert screened and error <= 1e-2


@pytest.mark.slow
@pytest.mark.parametrize("seed", range(10))
def test_sobol_g_eight_inputs_every_design_within_target_at_400_runs(seed):
    """The issue's target: every one of 10 designs within 1e-2 of the closed-form indices
    (Saltelli & Sobol' 1995) at 400 runs; measured worst 6.8e-3 (OpenTURNS LARS: worse than 1e-2)."""
    assert _g_fit(400, seed)[0] <= 1e-2
