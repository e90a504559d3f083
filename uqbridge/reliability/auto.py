"""The recommended method per problem: FORM when its own checks trust first order, else adaptive
importance sampling around all design points, else subset simulation; each step's evidence decides."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

import xarray as xr

from .. import checks
from ._common import positive_int, probability
from .active_learning import active_learning
from .form import form
from .sampling import importance_sampling
from .subset import subset_simulation

if TYPE_CHECKING:
    from .._types import SeedLike
    from ..execution.batch import Backend
    from ..reliability.limit_state import AnyLimitState

__all__ = ["MAX_SURROGATE_DIM", "SURROGATE_WORK", "recommended"]

# AK-MCS is tried when the limit state has at most this many inputs (its Kriging surrogate needs
# O(d) runs per length scale and loses its edge beyond ~10 inputs; Echard et al. 2011 test d <= 6)
MAX_SURROGATE_DIM = 10
# Counted floating-point operations AK-MCS's own work (kernels, factorisations; model runs excluded)
# may take before recommended() falls back to sampling: a Kriging model that has not classified the
# candidates by then (RP31's quartic g, 2 - x2 + 256 x1^4) rarely does within the run budget. A
# count, not a clock, so the answer for a seed does not depend on the machine or its load; 6e10 is
# 35-60 s of CPU on a current core (RP31: 6.1e10 in 36 s; RP24 finishes with 2.2e10 in 19 s).
SURROGATE_WORK = 6e10


def recommended(
    ls: AnyLimitState,
    *,
    max_runs: int = 5_000,
    target_cov: float = 0.03,
    rng: SeedLike = None,
    backend: Backend | None = None,
) -> xr.Dataset:
    """Pf by the method the toolkit recommends for this limit state, chosen by evidence, within a stated budget.

    FORM's answer is never returned on its own: a first-order answer can be far off with every local
    check passing (a second failure region, strong curvature, Pf > ½), so it only guides the sampling.

    1. :func:`form` with its checks and a wider exploratory sample (``max(64, 4d)`` points, at most
       200, on the sphere of radius β + ½): its design points and tangent planes.
    2. With at most :data:`MAX_SURROGATE_DIM` inputs, :func:`active_learning` (AK-MCS: a Kriging
       surrogate learnt where the sign of g is uncertain, checked by real runs on a sphere) with up to
       a third of the remaining budget (at most 400 runs), a million candidates and
       :data:`SURROGATE_WORK` counted operations of the surrogate's own work (a count, not a clock). Returned if reliable.
    3. Otherwise :func:`importance_sampling` around every design point found, with FORM's tangent
       half-spaces as control variates, until the CoV reaches ``target_cov`` or the budget is spent.
    4. If that is still unreliable, :func:`subset_simulation` with the remaining budget, and the
       result with the smaller CoV is returned (unreliable if both are).

    Parameters
    ----------
    ls : LimitState, SeriesSystem or ParallelSystem
    max_runs : int
        Budget of model runs over all steps (``attrs["max_runs"]``); subset simulation may exceed
        what is left by its last level and says so in ``n_runs``.
    target_cov : float
        CoV at which sampling stops (and below which the sampling answer counts as reliable,
        ``max_cov = max(target_cov, 0.035)``).
    rng : seed or Generator
    backend : execution backend, optional
        Where the model runs, for every step (see :func:`monte_carlo`).

    Returns
    -------
    xarray.Dataset
        The chosen method's result, with ``attrs["recommended"]`` naming it, ``attrs["steps"]``
        the methods tried (with their verdicts and runs), ``attrs["form_pf"]`` FORM's first-order
        answer for comparison, and ``n_runs`` the runs of all steps.

    Examples
    --------
    >>> from uqbridge.reliability.problems import parabolic
    >>> p = parabolic(3.0, 0.5)
    >>> r = recommended(p.limit_state, rng=0)
    >>> r.attrs["recommended"], bool(abs(float(r.pf) / p.pf - 1) < 0.1), int(r.n_runs) < 1000
    ('active_learning', True, True)
    """
    started = time.perf_counter()
    max_runs = positive_int(max_runs, "max_runs", "recommended", minimum=200)
    target_cov = probability(target_cov, "target_cov", "recommended", high=1.0)
    max_cov = max(target_cov, 0.035)
    streams = checks.generator(rng, "recommended: rng").spawn(4)
    d = ls.inputs.dimension
    f = form(ls, n_explore=min(max(64, 4 * d), 200), rng=streams[0], backend=backend)
    steps = [f"form (beta {float(f.beta):.3g}, checks {'passed' if f.attrs['reliable'] else 'failed'}, {int(f.n_runs)} runs)"]
    spent = int(f.n_runs)
    if d <= MAX_SURROGATE_DIM:
        a = active_learning(ls, max_runs=min(400, (max_runs - spent) // 3), max_candidates=1_000_000,
                            target_cov=min(target_cov, 0.02), max_surrogate_work=SURROGATE_WORK,
                            rng=streams[3], backend=backend)
        spent += int(a.n_runs)
        steps.append(f"active_learning (reliable={a.attrs['reliable']}, {int(a.n_runs)} runs)")
        if a.attrs["reliable"]:
            a["n_runs"] = spent
            a.attrs["form_pf"] = float(f.pf)
            return _label(a, "active_learning", steps, started, max_runs)
    r = importance_sampling(ls, form_result=f, n=max(max_runs - spent, 200), target_cov=target_cov, max_cov=max_cov,
                            batch=100, rng=streams[1], backend=backend)
    r["n_runs"] = r["n_runs"] + (spent - int(f.n_runs))
    steps.append(f"importance_sampling with FORM control variates (reliable={r.attrs['reliable']}, {int(r.n_runs)} runs)")
    r.attrs["form_pf"] = float(f.pf)
    if r.attrs["reliable"]:
        return _label(r, "importance_sampling", steps, started, max_runs)
    left = max_runs - int(r.n_runs)
    if left < 500:
        return _label(r, "importance_sampling", steps, started, max_runs)
    n_level = int(max(100, min(5000, left // 6)) // 100 * 100)
    s = subset_simulation(ls, n_per_level=n_level, max_cov=max_cov, rng=streams[2], backend=backend)
    s["n_runs"] = s["n_runs"] + int(r.n_runs)
    steps.append(f"subset_simulation (reliable={s.attrs['reliable']})")
    best, name = (s, "subset_simulation") if s.attrs["reliable"] or float(s.cov) < float(r.cov) else (r, "importance_sampling")
    if int(best.n_runs) != int(s.n_runs):
        best["n_runs"] = s["n_runs"]
    return _label(best, name, steps, started, max_runs)


def _label(result: xr.Dataset, name: str, steps: list[str], started: float, max_runs: int) -> xr.Dataset:
    out = result.copy()
    out.attrs.update(recommended=name, steps="; ".join(steps), n_runs=int(out.n_runs), max_runs=max_runs,
                     wall_time_s=round(time.perf_counter() - started, 4))
    return out
