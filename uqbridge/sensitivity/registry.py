"""The registry of sensitivity estimators: one record per method, read by the API, studies, reports and CLI.

Adding a method is its own function plus one :class:`Estimator` line in :data:`ESTIMATORS`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import xarray as xr

from .pce_based import pce_indices
from .salib import _largest_power_of_two, delta, fast, morris, pawn, rbd_fast, sobol_indices
from .shapley import shapley_effects

__all__ = ["ESTIMATORS", "Estimator", "estimator_help"]


@dataclass(frozen=True)
class Estimator:
    """A sensitivity method: its function, how a run budget maps to its options, what it reports.

    ``budget(n_runs, d)`` gives the method's own size options for at most ``n_runs`` model runs on
    ``d`` design dimensions; ``budget_note`` says in words what ``n`` means for it.
    """

    name: str
    function: Callable[..., xr.Dataset]
    budget: Callable[[int, int], dict[str, int]]
    budget_note: str
    summary: str
    intervals: bool = True
    grouped: bool = False
    uses_confidence: bool = True


def _sobol_budget(n: int, d: int) -> dict[str, int]:
    return {"n": max(8, _largest_power_of_two(n / (d + 2)))}


ESTIMATORS: dict[str, Estimator] = {
    e.name: e
    for e in (
        Estimator("sobol", sobol_indices, _sobol_budget,
                  "base N = largest power of two with N (d + 2) <= n; runs N (d + 2)",
                  "Sobol' first/total indices (Saltelli 2010, Jansen 1999), bootstrap intervals", grouped=True),
        Estimator("morris", morris, lambda n, d: {"n_trajectories": max(2, n // (d + 1))},
                  "n / (d + 1) trajectories", "Morris elementary effects (mu*, sigma)"),
        Estimator("fast", fast, lambda n, d: {"n": max(65, n // d)},
                  "n / d points per search curve (at least 65)", "eFAST first/total indices"),
        Estimator("rbd_fast", rbd_fast, lambda n, d: {"n": max(100, n)}, "n runs",
                  "RBD-FAST first-order indices"),
        Estimator("delta", delta, lambda n, d: {"n": max(100, n)}, "n runs",
                  "Borgonovo delta moment-independent measure and first-order indices"),
        Estimator("pawn", pawn, lambda n, d: {"n": max(100, n)}, "n runs", "PAWN (median KS statistic)",
                  intervals=False, uses_confidence=False),
        Estimator("shapley", shapley_effects,
                  lambda n, d: {"n_var": max(100, n // 2), "n_perm": max(2, (n // 2) // (3 * max(d - 1, 1)))},
                  "n/2 runs for the variance, n/2 for permutations",
                  "Shapley effects (Song-Nelson-Staum; exact for dependent inputs)"),
        Estimator("pce", pce_indices, lambda n, d: {"n_runs": max(40, min(n, 40 * d))},
                  "min(n, 40 d) runs (at least 40)",
                  "Sobol' indices from a sparse PCE's coefficients (Sudret 2008), no sampling interval",
                  intervals=False, grouped=True, uses_confidence=False),
    )
}


def estimator_help() -> str:
    """One line per estimator: name, what ``n`` (model runs) buys, what it reports.

    Examples
    --------
    >>> print(estimator_help().splitlines()[0])
    sobol: base N = largest power of two with N (d + 2) <= n; runs N (d + 2) — Sobol' first/total indices (Saltelli 2010, Jansen 1999), bootstrap intervals
    """
    return "\n".join(f"{e.name}: {e.budget_note} — {e.summary}" for e in ESTIMATORS.values())
