"""The recommended method per problem: FORM when its own checks trust first order, else adaptive
importance sampling around all design points, else subset simulation; each step's evidence decides."""

from __future__ import annotations

import time
from typing import Any

import xarray as xr

from .. import checks
from ._common import positive_int, probability
from .form import form
from .sampling import importance_sampling
from .subset import subset_simulation

__all__ = ["recommended"]


def recommended(
    ls: Any,
    *,
    max_runs: int = 5_000,
    target_cov: float = 0.03,
    rng: Any = None,
    backend: Any = None,
) -> xr.Dataset:
    """Pf by the method the toolkit recommends for this limit state, chosen by evidence.

    1. :func:`form` with its checks (exploratory sample on the sphere of radius β + ½, restarts
       from unexplained failure points, sampled curvatures). If it is reliable, its answer is
       returned: first order is then within about 10 %.
    2. Otherwise :func:`importance_sampling` (adaptive mixture over all design points found, with a
       defensive component) until the CoV reaches ``target_cov`` or the budget is spent.
    3. If that is still unreliable, :func:`subset_simulation` with the remaining budget, and the
       result with the smaller CoV is returned (unreliable if both are).

    Parameters
    ----------
    ls : LimitState, SeriesSystem or ParallelSystem
    max_runs : int
        Budget of model runs over all steps.
    target_cov : float
        CoV at which sampling stops (and below which the sampling answer counts as reliable,
        ``max_cov = max(target_cov, 0.035)``).
    rng : seed or Generator
    backend : execution backend, optional
        Where the model runs, for every step (see :func:`monte_carlo`).

    Returns
    -------
    xarray.Dataset
        The chosen method's result, with ``attrs["recommended"]`` naming it,
        ``attrs["steps"]`` the methods tried and ``n_runs`` the runs of all steps.

    Examples
    --------
    >>> from uqbridge.reliability.problems import linear, parabolic
    >>> recommended(linear(3.0).limit_state, rng=0).attrs["recommended"]
    'form'
    >>> r = recommended(parabolic(3.0, 0.5).limit_state, rng=0)
    >>> r.attrs["recommended"], bool(abs(float(r.pf) / parabolic(3.0, 0.5).pf - 1) < 0.1)
    ('importance_sampling', True)
    """
    started = time.perf_counter()
    max_runs = positive_int(max_runs, "max_runs", "recommended", minimum=200)
    target_cov = probability(target_cov, "target_cov", "recommended", high=1.0)
    max_cov = max(target_cov, 0.035)
    streams = checks.generator(rng, "recommended: rng").spawn(3)
    d = ls.inputs.dimension
    f = form(ls, n_explore=min(max(64, 4 * d), 200), rng=streams[0], backend=backend)
    steps = [f"form (beta {float(f.beta):.3g}, checks {'passed' if f.attrs['reliable'] else 'failed'}, {int(f.n_runs)} runs)"]
    left = max_runs - int(f.n_runs)
    r = importance_sampling(ls, form_result=f, n=max(left, 200), target_cov=target_cov, max_cov=max_cov,
                            batch=100, rng=streams[1], backend=backend)
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
