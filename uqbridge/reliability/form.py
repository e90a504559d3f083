"""First-order reliability method: the design point by an SQP search in standard-normal space (Nataf).

Returns Pf ≈ Φ(−β), the design point, importance factors α², and says when the linearisation is
doubtful (systems, several competing design points, non-convergence).
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

import numpy as np
import xarray as xr
from scipy import special

from ._common import Evaluator, design_point_variables, positive_int, result_dataset
from ._derivatives import GradientFunction, gradient_function
from .limit_state import ParallelSystem, SeriesSystem, leaves

if TYPE_CHECKING:
    from .._types import SeedLike
    from ..execution.batch import Backend
    from .limit_state import AnyLimitState

__all__ = ["form"]


# Searches stay inside this ball of standard-normal space: Φ(−10) ≈ 7.6e-24, far below any Pf of
# interest, while the input transform stays finite (never an input at ±inf).
U_MAX = 10.0
_MAX_HALVINGS = 8  # bounded Armijo line search: the step shrinks at most to 1/256
_SAME_POINT = 0.05
_EXPLORE_MARGIN = 0.5  # exploratory sphere radius beyond beta
_MIN_EIGENVALUE = 0.01  # floor of the Lagrangian Hessian model (keeps it positive definite)
_MAX_STEP_RATIO = 10.0  # longest step, in lengths of the HL-RF step from the same point
# Below this convergence criterion the search switches from one-sided to central differences: the
# one-sided error O(h·|∇²g|) ≈ 1e-5 would keep the criterion from reaching tol = 1e-5.
_CENTRAL_BELOW = 1e-3
_NO_PROGRESS = 8  # iterations without halving the convergence criterion before a search is stopped  # two design points closer than 5 % of their distance from the origin are one


def form(
    ls: AnyLimitState,
    *,
    u0: Any = None,
    n_starts: int = 1,
    tol: float = 1e-5,
    max_iter: int = 100,
    max_runs: int | None = None,
    gradient: str = "auto",
    step: float = 1e-4,
    components: bool = True,
    check: bool = True,
    n_explore: int | None = None,
    rng: SeedLike = None,
    backend: Backend | None = None,
) -> xr.Dataset:
    """First-order reliability analysis (SQP search for the design point).

    Parameters
    ----------
    ls : LimitState, SeriesSystem or ParallelSystem
    u0 : array_like of shape (d,), optional
        First starting point in standard-normal space (default: the origin, i.e. the median).
    n_starts : int
        Number of searches. Starts after the first lie at random directions on the sphere of radius
        β of the first solution, to expose other design points; a restart that comes within 5 % of a
        design point already found stops there (no runs spent converging to it again).
    tol : float
        Convergence tolerance on ``|g|/|g(u0)|`` and on ``‖u − (α·u)α‖`` (Der Kiureghian's e1, e2).
    max_iter : int
        Iterations per search.
    max_runs : int, optional
        Budget of model runs for all searches (default ``(20 + 10 n_starts)(2d + 1) + 100``); the
        checks below come on top (at most 56 runs). A search stopped by the budget is not converged.
    gradient : {"auto", "fd", "tensor"}
        Central finite differences (one batched call of 2d points), or PyTensor gradients of a
        differentiable model. "auto": finite differences for a non-differentiable model; for a
        differentiable one, the first gradient by finite differences, timed, then PyTensor only if
        20 such gradients would take longer than compiling it (estimated from the number of
        inputs; a structure already compiled in this process is reused), so that PyTensor never
        costs more wall time than finite differences on a cheap model. ``attrs["gradient"]`` names
        the method used, ``attrs["gradient_decision"]`` why.
    step : float
        Finite-difference step in standard-normal space.
    components : bool
        For a series system, also run FORM on each component and report all component design points
        (used by multi-point importance sampling) and the first-order bounds
        ``max Φ(−β_k) ≤ Pf ≤ Σ Φ(−β_k)``.
    check : bool
        Check the first-order answer with its own evidence (see Notes): an exploratory sample on the
        sphere of radius β, new searches from the failure points it finds away from every known
        design point, and sampled curvatures at the design point. They cost ``n_explore`` +
        2 min(d − 1, 8) runs, plus the searches started from what the exploration finds.
    n_explore : int, optional
        Directions of the exploratory sample (default ``min(max(16, 2d), 40)``).
    rng : seed or Generator
        For the random starts and the checks.
    backend : execution backend, optional
        Where the model runs (:mod:`uqbridge.execution.backends`): each gradient stencil (2d points) and the
        exploratory sample are one call, spread over the workers; same numbers on every backend.

    Returns
    -------
    xarray.Dataset
        ``pf`` = Φ(−β), ``beta`` (distance from the origin of the tangent hyperplane at the design
        point, i.e. α·u* + g(u*)/‖∇g‖), ``n_runs``, ``converged``, ``iterations``, ``design_point_u`` and
        ``design_point`` (dim ``input``), ``alpha`` and ``importance`` (= α², dim ``input``),
        ``design_points_u``/``point_beta`` (all distinct design points found, dim ``point``), the
        search history ``history_beta``/``history_runs`` (dim ``iteration``), and from the checks
        ``curvature_factor`` (estimated second-order correction Pf_SORM/Pf_FORM) and
        ``n_explore_failures``. ``pf_se``, ``cov``, ``pf_low``, ``pf_high`` are NaN: FORM has no
        sampling error. ``attrs["reliable"]`` is 0 and ``attrs["reason"]`` says why when the result
        is doubtful.

    Notes
    -----
    Search: sequential quadratic programming for ``min ½‖u‖² s.t. g(u) = 0`` — the HL-RF step
    (Hasofer–Lind–Rackwitz–Fiessler) corrected by ``W = I + λB``, the Hessian of the Lagrangian with
    B a symmetric-rank-one model of ∇²g built from the gradients already computed (the SQP family of
    Abdo & Rackwitz 1990 and Liu & Der Kiureghian 1991, Struct. Saf. 9; Nocedal & Wright 2006,
    ch. 18), with an Armijo line search on the merit function ``½‖u‖² + c|g(u)|`` (Zhang & Der
    Kiureghian 1997; Der Kiureghian 2005, ch. 14 of *Engineering Design Reliability Handbook*), c
    just above the multiplier, and a second-order correction of a rejected full step. On a curved
    surface it converges superlinearly where iHL-RF crawls (parabolic β = 3, κ = 0.5: median 25 runs
    instead of 203 from random starts with central differences). Steps are kept inside the ball
    ‖u‖ ≤ 10; a trial point where g is not finite is a rejected step; a search whose step stops
    moving u is stopped ("stalled"). Every point is evaluated once: with finite differences the
    gradient at an accepted point reuses its g (2d runs), and convergence is tested with the
    gradient at the point returned (no stop on the previous point's gradient).

    Checks (``check=True``): (i) g at ``n_explore`` random points on the sphere ‖u‖ = β + ½ — first
    order says the failure domain is the union of the tangent half-spaces ``α_k·u ≥ β_k`` of the
    design points found, so a failing point outside all of them reveals another failure region (or a
    strongly concave one) about as close as the design point; new searches start from such points,
    and any left unexplained make the result unreliable.
    (ii) Curvatures ``κ_j = (g(u*+t_j) + g(u*−t_j) − 2g(u*))/‖∇g‖`` along up to 8 random orthonormal
    tangent directions give Breitung's factor ``Π(1 + βκ_j)^{-1/2}`` (extrapolated to all d − 1
    directions); a factor outside [0.9, 1.1] means first order is off by more than 10 %.
    The importance factors α² are those of the independent standard normals.

    Examples
    --------
    >>> from uqbridge.reliability.problems import linear
    >>> r = form(linear(3.0).limit_state)
    >>> round(float(r.beta), 6), bool(r.converged), r.attrs["reliable"]
    (3.0, True, 1)
    """
    started = time.perf_counter()
    cache: dict[Any, Any] = {}  # model outputs by point: restarts and component searches reuse them
    ev = Evaluator(ls, "form", backend, cache=cache)
    n_starts, max_iter, max_runs, n_explore = _checked_settings(ev, n_starts, max_iter, tol, max_runs, n_explore)
    d = ev.dim
    grad_fn, grad_method = gradient_function(ev, gradient, step, adaptive=True)
    first = _start_point(ev, u0)
    generator = np.random.default_rng(rng)
    budget = _Budget(ev, max_runs)
    searches = _start_searches(ev, grad_fn, first, tol, max_iter, budget, n_starts, generator)

    warnings: list[str] = []
    component_betas: list[float] = []
    if isinstance(ls, (SeriesSystem, ParallelSystem)):
        warnings.append(
            f"{ls.kind} system of {len(leaves(ls))} limit states: g is a non-smooth min/max and FORM "
            "linearises one component at one design point; use a simulation method for the system Pf"
        )
        if isinstance(ls, SeriesSystem) and components:
            component_betas = _component_searches(ls, ev, backend, cache, gradient, step, first, tol, max_iter,
                                                  max_runs, searches)

    explore_failures, curvature_factor = 0, float("nan")
    runs_search = ev.n_runs
    # the checks' own searches share the search budget and are capped at three searches of ten
    # one-sided gradients, so the checks cost at most max_runs_checks (stated in the attrs)
    check_search_runs = 30 * (d + 1)
    max_runs_checks = _max_check_runs(d, n_explore, check_search_runs) if check else 0
    check_budget = _Budget(ev, check_search_runs)
    if check:
        explore_failures = _explore_and_search(ev, grad_fn, searches, tol, max_iter, budget, check_budget,
                                               n_explore, generator)
        if explore_failures:
            warnings.append(
                f"{explore_failures} of {n_explore} exploratory points on the sphere of radius beta+0.5 fail outside "
                "the tangent half-spaces of every design point found: another failure region is about as close, "
                "so Phi(-beta) underestimates Pf (use importance_sampling or subset_simulation)"
            )

    distinct = _distinct(_points(searches))
    best = _best(searches)
    warnings += _design_point_warnings(distinct, best)
    if check and best["converged"] and d > 1:
        curvature_factor = _curvature_factor(ev, best, generator)
        if not (0.9 <= curvature_factor <= 1.1):
            warnings.append(
                f"sampled curvatures at the design point give a second-order correction factor "
                f"{curvature_factor:.3g} (outside [0.9, 1.1]): first order is off by more than 10 % (use sorm or sampling)"
            )

    runs_checks = ev.n_runs - runs_search
    variables = _result_variables(ev, best, distinct, curvature_factor, explore_failures, component_betas)
    return result_dataset(
        ev,
        "form",
        pf=float(special.ndtr(-best["beta"])),
        pf_se=np.nan,
        pf_low=np.nan,
        pf_high=np.nan,
        confidence=np.nan,
        seed=rng,
        started=started,
        beta=float(best["beta"]),
        converged=best["converged"],
        reliable=not warnings,
        warning="; ".join(warnings),
        variables=variables,
        coords={"input": list(ev.inputs.dimension_names)},
        gradient=getattr(grad_fn, "method", grad_method),
        gradient_decision=getattr(grad_fn, "decision", ""),
        n_runs_search=int(runs_search),
        n_runs_checks=int(runs_checks),
        max_runs_checks=int(max_runs_checks),
        n_starts=n_starts,
        n_searches=len(searches),
        tol=tol,
        max_runs=max_runs,
    )


def _checked_settings(
    ev: Evaluator, n_starts: Any, max_iter: Any, tol: Any, max_runs: Any, n_explore: Any,
) -> tuple[int, int, int, int]:
    """Validated ``n_starts``, ``max_iter``, ``max_runs`` and ``n_explore`` (defaults filled in from the dimension)."""
    _check_continuous(ev, "form")
    n_starts = positive_int(n_starts, "n_starts", "form")
    max_iter = positive_int(max_iter, "max_iter", "form")
    if not (isinstance(tol, (int, float)) and 0 < tol < 1):
        raise ValueError(f"form: tol must be a number in (0, 1), got {tol!r}")
    d = ev.dim
    max_runs = (20 + 10 * n_starts) * (2 * d + 1) + 100 if max_runs is None else positive_int(max_runs, "max_runs", "form")
    n_explore = min(max(16, 2 * d), 40) if n_explore is None else positive_int(n_explore, "n_explore", "form", minimum=0)
    return n_starts, max_iter, max_runs, n_explore


def _start_point(ev: Evaluator, u0: Any) -> np.ndarray:
    """The first search's start in standard-normal space: ``u0`` checked, or the origin (the median)."""
    d = ev.dim
    first = np.zeros(d) if u0 is None else np.asarray(u0, dtype=float).ravel()
    if first.shape != (d,) or not np.all(np.isfinite(first)):
        raise ValueError(f"form: u0 must be {d} finite numbers (one per input {list(ev.inputs.dimension_names)}), got {u0!r}")
    return first


def _start_searches(
    ev: Evaluator, grad_fn: GradientFunction, first: np.ndarray, tol: float, max_iter: int, budget: _Budget,
    n_starts: int, generator: np.random.Generator,
) -> list[dict[str, Any]]:
    """The search from ``first`` (once more off the origin if that start is flat), then the random restarts."""
    d = ev.dim
    searches = [_search(ev, grad_fn, first, tol, max_iter, budget, [])]
    if searches[0]["reason"] == "zero gradient" and searches[0]["iterations"] <= 1:
        # a flat start (e.g. a symmetric g at the median) says nothing: try once off the origin
        direction = generator.normal(size=d)
        searches.append(_search(ev, grad_fn, first + direction / np.linalg.norm(direction), tol, max_iter, budget, []))
    radius = max(abs(_best(searches)["beta"]), 1.0)
    for _ in range(n_starts - 1):
        if budget.spent:
            break
        direction = generator.normal(size=d)
        searches.append(_search(ev, grad_fn, radius * direction / np.linalg.norm(direction), tol, max_iter, budget,
                               _points(searches)))
    return searches


def _component_searches(
    ls: SeriesSystem, ev: Evaluator, backend: Backend | None, cache: dict[Any, Any], gradient: str, step: float,
    first: np.ndarray, tol: float, max_iter: int, max_runs: int, searches: list[dict[str, Any]],
) -> list[float]:
    """β of each converged component of a series system; their searches are appended to ``searches``."""
    component_betas: list[float] = []
    for leaf in leaves(ls):
        sub = Evaluator(leaf, "form", backend, cache=cache)
        sub_grad, _ = gradient_function(sub, gradient, step, adaptive=True)
        s = _search(sub, sub_grad, first, tol, max_iter, _Budget(sub, max_runs), [])
        ev.n_runs += sub.n_runs
        if s["converged"]:
            component_betas.append(s["beta"])
            # every component design point lies in the series-system failure domain
            searches.append(s)
    return component_betas


def _explore_and_search(
    ev: Evaluator, grad_fn: GradientFunction, searches: list[dict[str, Any]], tol: float, max_iter: int,
    budget: _Budget, check_budget: _Budget, n_explore: int, generator: np.random.Generator,
) -> int:
    """Check (i): exploratory failures left unexplained after new searches from them (appended to ``searches``)."""
    explore_failures = 0
    for _ in range(2):  # explore, search from what the exploration finds, explore once more
        best = _best(searches)
        if not best["converged"] or best["beta"] <= 0 or n_explore == 0:
            break
        unexplained = _explore(ev, best["beta"], _points(searches), n_explore, generator)
        explore_failures = len(unexplained)
        if not unexplained or budget.spent or check_budget.spent:
            break
        before = len(_points(searches))
        for u_start in unexplained[:3]:
            if not (budget.spent or check_budget.spent):
                searches.append(_search(ev, grad_fn, u_start, tol, max_iter, _Either(budget, check_budget),
                                        _points(searches)))
        if len(_points(searches)) == before:
            break
    return explore_failures


def _design_point_warnings(distinct: list[dict[str, Any]], best: dict[str, Any]) -> list[str]:
    """Warnings on the design points found: several competing ones, or a best search that did not converge."""
    warnings: list[str] = []
    competing = [p for p in distinct if p["beta"] < best["beta"] + 1.0]
    if len(competing) > 1:
        warnings.append(
            f"{len(competing)} distinct design points with beta within 1 of the smallest "
            f"({', '.join(format(p['beta'], '.3f') for p in competing)}): the failure domain has several "
            "important regions and Phi(-beta) of one of them underestimates Pf"
        )
    if not best["converged"]:
        warnings.append(f"the design-point search did not converge ({best['reason']})")
    return warnings


def _result_variables(
    ev: Evaluator, best: dict[str, Any], distinct: list[dict[str, Any]], curvature_factor: float,
    explore_failures: int, component_betas: list[float],
) -> dict[str, Any]:
    """The result's data variables beyond pf and beta: design point, α, history, checks, series bounds."""
    d = ev.dim
    u_star, alpha = best["u"], best["alpha"]
    variables = design_point_variables(ev, u_star)
    variables.update(
        {
            "alpha": ("input", alpha, {"long_name": "unit vector -grad g/|grad g| at the design point"}),
            "importance": ("input", alpha**2, {"long_name": "FORM importance factors alpha^2 (sum to 1)"}),
            "iterations": ((), int(best["iterations"])),
            "g_design_point": ((), float(best["g"]), {"long_name": "g at the design point"}),
            "design_points_u": (("point", "input"), np.array([p["u"] for p in distinct]).reshape(-1, d)),
            "point_beta": ("point", np.array([p["beta"] for p in distinct], dtype=float)),
            "history_beta": ("iteration", np.array(best["history_beta"])),
            "history_runs": ("iteration", np.array(best["history_runs"], dtype=int)),
            "curvature_factor": ((), curvature_factor, {"long_name": "sampled second-order correction Pf_SORM/Pf_FORM (Breitung)"}),
            "n_explore_failures": ((), int(explore_failures), {"long_name": "exploratory points failing away from every design point"}),
        }
    )
    if component_betas:
        tails = special.ndtr(-np.array(component_betas))
        variables["pf_bound_low"] = ((), float(tails.max()), {"long_name": "first-order series lower bound max Phi(-beta_k)"})
        variables["pf_bound_high"] = ((), float(min(tails.sum(), 1.0)), {"long_name": "first-order series upper bound sum Phi(-beta_k)"})
    return variables


class _Budget:
    """Model runs left for the searches."""

    def __init__(self, ev: Evaluator, max_runs: int) -> None:
        self.ev, self.limit = ev, ev.n_runs + max_runs

    @property
    def spent(self) -> bool:
        return self.ev.n_runs >= self.limit


class _Either:
    """Spent when either budget is."""

    def __init__(self, *budgets: _Budget) -> None:
        self.budgets = budgets

    @property
    def spent(self) -> bool:
        return any(b.spent for b in self.budgets)


def _max_check_runs(d: int, n_explore: int, check_search_runs: int) -> int:
    """Most runs the checks can spend: two exploratory samples, the curvature stencil (2 min(d − 1, 8)),
    and searches from the exploration within ``check_search_runs`` — a budget is tested between
    steps, so the last step may overrun it by one gradient (2d) and one line search (≤ 10 runs)."""
    overrun = 2 * d + _MAX_HALVINGS + 2
    return 2 * n_explore + 2 * min(d - 1, 8) + check_search_runs + overrun


def _best(searches: list[dict[str, Any]]) -> dict[str, Any]:
    return min(searches, key=lambda s: (not s["converged"] or s.get("duplicate", False), abs(s["beta"])))


def _points(searches: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Converged searches that found a design point (not those stopped at a known one)."""
    return [s for s in searches if s["converged"] and not s.get("duplicate")]


def _near(u: np.ndarray, points: list[dict[str, Any]]) -> bool:
    return any(np.linalg.norm(u - p["u"]) <= _SAME_POINT * max(1.0, float(np.linalg.norm(p["u"]))) for p in points)


def _explore(ev: Evaluator, beta: float, points: list[dict[str, Any]], n: int, generator: np.random.Generator) -> list[np.ndarray]:
    """Failure points of a random sample on the sphere of radius β + ½ that lie outside every
    design point's tangent half-space {α_k·u ≥ β_k}, i.e. that first order says are safe."""
    v = generator.normal(size=(n, ev.dim))
    v *= (beta + _EXPLORE_MARGIN) / np.linalg.norm(v, axis=1, keepdims=True)
    g = ev(v, finite=False)
    alphas = np.array([p["alpha"] for p in points]).reshape(-1, ev.dim)
    betas = np.array([p["beta"] for p in points])
    inside = (v @ alphas.T >= betas).any(axis=1) if len(points) else np.zeros(n, dtype=bool)
    away = (g <= 0) & ~inside
    order = np.argsort(np.where(away, g, np.inf))
    return [v[k] for k in order if away[k]]


def _curvature_factor(ev: Evaluator, s: dict[str, Any], generator: np.random.Generator) -> float:
    """Breitung's factor Π(1 + βκ_j)^(-1/2) from curvatures sampled along random tangent directions."""
    d, alpha, u, beta = ev.dim, s["alpha"], s["u"], s["beta"]
    k = min(d - 1, 8)
    # random orthonormal tangent directions: project Gaussian vectors off alpha, then orthonormalise
    basis, _ = np.linalg.qr(np.column_stack([alpha, generator.normal(size=(d, k))]))
    t = basis[:, 1 : k + 1].T
    points = np.clip(np.concatenate([u + t, u - t]), -U_MAX, U_MAX)
    g = ev(points, finite=False)
    if not np.all(np.isfinite(g)):
        return float("nan")
    kappa = (g[:k] + g[k:] - 2 * s["g"]) / s["norm_grad"]
    terms = 1 + beta * kappa
    if np.any(terms <= 0):
        return float("inf")
    return float(np.exp(-0.5 * np.log(terms).sum() * (d - 1) / k))


def _check_continuous(ev: Evaluator, where: str) -> None:
    if ev.inputs.joint:
        raise ValueError(
            f"{where}: inputs drawn from joint samples ({list(ev.inputs.dimension_names)}) have no density "
            "in standard-normal space; fix them or use a sampling method"
        )


def _search(
    ev: Evaluator, grad_fn: GradientFunction, u0: np.ndarray, tol: float, max_iter: int, budget: _Budget | _Either,
    known: list[dict[str, Any]],
) -> dict[str, Any]:
    """One SQP search for the design point from ``u0``; stops at convergence, at a design point in
    ``known`` (``duplicate``), when stalled, or when the run budget is spent.

    Minimises ½‖u‖² subject to g(u) = 0. Each step solves the quadratic subproblem
    ``min ½ dᵀW d + u·d  s.t.  g + ∇g·d = 0`` with ``W = I + λB`` the Hessian of the Lagrangian
    ``½‖u‖² + λ g``, B a symmetric-rank-one model of ∇²g updated from the gradients the search
    computes anyway (Nocedal & Wright 2006, ch. 6 and 18) and λ the last subproblem's multiplier;
    with B = 0 (a linear g, or the first step) it is the HL-RF step. Steps are accepted
    by an Armijo test on the exact-penalty merit ``½‖u‖² + c|g|`` with ``c`` just above the multiplier
    (Zhang & Der Kiureghian 1997 use the same merit with a much larger ``c``, which is what makes
    iHL-RF crawl along curved surfaces); a rejected full step first tries a second-order correction
    back onto the linearised surface (one run), which keeps the Maratos effect from forcing
    short steps near the solution. Every point is evaluated once: g at the accepted trial is reused
    by the next gradient.
    """
    u = _clip(np.asarray(u0, dtype=float))
    # one-sided differences while far from the solution (half the runs); central ones from the point
    # where the convergence criterion falls below _CENTRAL_BELOW (see fd_gradient)
    coarse = True
    g, G = (a[0] for a in grad_fn(u[None, :], forward=True))
    g_scale = abs(g) if g != 0 else 1.0
    n = u.size
    B, lam = np.zeros((n, n)), 0.0  # SR1 model of ∇²g, multiplier of the last subproblem
    first_step = 1.0  # < 1 after a step rejected because its gradient failed
    history_beta, history_runs = [], []
    converged, duplicate, reason, it = False, False, "", 0
    alpha, norm_g, stalls, no_progress, c = np.zeros_like(u), 0.0, 0, 0, 0.0
    best_state: tuple[Any, ...] = (np.inf, u, g, alpha, norm_g)
    best_beta = np.inf
    crit = np.inf
    for it in range(1, max_iter + 1):
        while True:
            norm_g = float(np.linalg.norm(G))
            if not (np.isfinite(norm_g) and norm_g > 0):
                break
            alpha = -G / norm_g
            crit = max(abs(g) / g_scale, np.linalg.norm(u - (alpha @ u) * alpha) / max(1.0, float(np.linalg.norm(u))))
            if not coarse or crit > _CENTRAL_BELOW:
                break
            # near the solution: the central gradient here (its + points are cached: d new runs)
            coarse, G = False, grad_fn(u[None, :], g0=g)[1][0]
        if not np.isfinite(norm_g):
            reason = "gradient not finite"
            break
        if not norm_g > 0:
            reason = "zero gradient"
            break
        history_beta.append(float(alpha @ u + g / norm_g))
        history_runs.append(ev.n_runs)
        # progress: the convergence criterion halves, or β drops (leaving a saddle of the distance,
        # e.g. the crest of a concave surface, the criterion grows again while β falls)
        if crit < 0.5 * best_state[0] or history_beta[-1] < best_beta - 1e-4 * max(1.0, abs(best_beta)):
            best_state, best_beta, no_progress = (crit, u, g, alpha, norm_g), history_beta[-1], 0
        else:
            no_progress += 1
        if crit <= tol:
            converged = True
            break
        if no_progress >= _NO_PROGRESS and coarse:
            # one-sided differences too coarse for this surface's curvature: central from here on
            coarse, G, no_progress = False, grad_fn(u[None, :], g0=g)[1][0], 0
            continue
        if no_progress >= _NO_PROGRESS:
            reason = (f"no progress in {_NO_PROGRESS} iterations (oscillating, e.g. at a kink of g), "
                      "the best point visited is reported")
            break
        if known and it > 1 and _near(u, known):
            converged = duplicate = True
            reason = "reached a design point already found"
            break
        if budget.spent:
            reason = "run budget max_runs spent"
            break
        # quadratic subproblem: W d + u + λ∇g = 0, g + ∇g·d = 0, W ≈ I + λ∇²g the Lagrangian's Hessian
        Wu, WG = _solve(_lagrangian_hessian(B, lam), np.column_stack([u, G]))
        if not G @ WG > 0:  # a degenerate model: fall back on the HL-RF step (W = I)
            Wu, WG = u, G
        lam_qp = (g - G @ Wu) / (G @ WG)
        d = -(Wu + lam_qp * WG)
        # an early, poor curvature model can ask for a very long step: at most 10 HL-RF steps
        longest = _MAX_STEP_RATIO * float(np.linalg.norm(((G @ u - g) / norm_g**2) * G - u))
        if float(np.linalg.norm(d)) > longest > 0:
            d *= longest / float(np.linalg.norm(d))
        # exact-penalty weight above |λ| (descent for any positive definite W), relaxed towards 1.5|λ| by
        # Powell's (1978) rule: a weight inflated far from the surface would make the search crawl later
        c = max(0.5 * (c + 1.5 * abs(lam_qp)), 1.5 * abs(lam_qp), 1e-3 * float(np.linalg.norm(u)) / norm_g)
        merit0 = 0.5 * u @ u + c * abs(g)
        slope = u @ d - c * abs(g)  # directional derivative of the merit along d (∇g·d = −g)
        accepted, trial, g_trial, step, corrected = False, u, g, first_step, False
        for _ in range(_MAX_HALVINGS + 1):
            candidate = _clip(u + step * d)
            g_candidate = float(ev(candidate[None, :], finite=False)[0])
            if np.isfinite(g_candidate):
                trial, g_trial = candidate, g_candidate
                if 0.5 * trial @ trial + c * abs(g_trial) - merit0 <= 1e-4 * step * min(slope, 0.0):
                    accepted = True
                    break
                if step == 1.0 and not corrected:
                    # second-order correction: back onto the linearised surface from the full step
                    corrected = True
                    soc = _clip(candidate - (g_candidate / norm_g**2) * G)
                    g_soc = float(ev(soc[None, :], finite=False)[0])
                    if np.isfinite(g_soc) and 0.5 * soc @ soc + c * abs(g_soc) - merit0 <= 1e-4 * min(slope, 0.0):
                        trial, g_trial, accepted = soc, g_soc, True
                        break
            step *= 0.5
        moved = float(np.linalg.norm(trial - u))
        stalls = 0 if accepted and moved > tol * max(1.0, float(np.linalg.norm(u))) else stalls + 1
        if stalls >= 3 or trial is u:
            reason = "stalled: the line search no longer decreases the merit function"
            break
        if known and _near(trial, known):
            # a restart that steps onto a design point already found stops before its gradient
            u, g, converged, duplicate, reason = trial, g_trial, True, True, "reached a design point already found"
            break
        coarse_next = crit > _CENTRAL_BELOW
        G_new = grad_fn(trial[None, :], g0=g_trial, forward=coarse_next)[1][0]
        if not np.all(np.isfinite(G_new)):
            # a failed run in the gradient's stencil: a rejected step, tried again shorter from u
            first_step = 0.5 * step
            continue
        B, lam, first_step = _sr1(B, trial - u, G_new - G), lam_qp, 1.0
        u, g, G, coarse = trial, g_trial, G_new, coarse_next
    else:
        reason = f"tolerance {tol} not reached in {max_iter} iterations"
    if not converged and np.isfinite(best_state[0]):
        _, u, g, alpha, norm_g = best_state
    # β of the tangent hyperplane at u (FORM's linearisation): α·u corrected by the residual g/‖∇g‖,
    # so that a stop at |g| ≤ tol·|g(u0)| does not leave β off by that residual
    beta = float(alpha @ u + (g / norm_g if norm_g > 0 and np.isfinite(g) else 0.0))
    return {
        "u": u, "g": float(g), "alpha": alpha, "beta": beta, "converged": converged, "duplicate": duplicate,
        "reason": reason, "iterations": it, "history_beta": history_beta, "history_runs": history_runs,
        "norm_grad": norm_g,
    }


def _sr1(B: np.ndarray, s: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Symmetric-rank-one update of the model B of ∇²g from a step s and its gradient change y
    (Nocedal & Wright 2006, eq. 6.24, skipped when its denominator is negligible). SR1 rather than
    BFGS because ∇²g need not be positive definite; exact on a quadratic g after d independent steps."""
    r = y - B @ s
    denominator = float(r @ s)
    if not (np.isfinite(denominator) and abs(denominator) > 1e-8 * float(np.linalg.norm(r) * np.linalg.norm(s))):
        return B
    updated = B + np.outer(r, r) / denominator
    return updated if np.all(np.isfinite(updated)) else B


def _lagrangian_hessian(B: np.ndarray, lam: float) -> np.ndarray:
    """``I + λB`` with its eigenvalues raised to at least 0.01: positive definite, so the subproblem's
    step descends the merit function; on a strongly concave surface (1 + βκ ≤ 0, no local design
    point there) the step is long but bounded, and the line search and the ball ‖u‖ ≤ 10 take over."""
    W = np.eye(B.shape[0]) + lam * B
    if not B.any():
        return W
    values, vectors = np.linalg.eigh(0.5 * (W + W.T))
    return (vectors * np.maximum(values, _MIN_EIGENVALUE)) @ vectors.T if values.min() < _MIN_EIGENVALUE else W


def _solve(W: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The two columns of W⁻¹b (NaN when W is singular, which the caller treats as a reset)."""
    try:
        x = np.linalg.solve(W, b)
    except np.linalg.LinAlgError:
        x = np.full_like(b, np.nan)
    return x[:, 0], x[:, 1]


def _clip(u: np.ndarray) -> np.ndarray:
    """``u`` pulled back radially into the ball ‖u‖ ≤ U_MAX."""
    norm = float(np.linalg.norm(u))
    return u * (U_MAX / norm) if norm > U_MAX else u


def _distinct(points: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Converged design points differing by more than 5 % of their distance from the origin."""
    kept: list[dict[str, Any]] = []
    for p in sorted(points, key=lambda s: s["beta"]):
        if all(np.linalg.norm(p["u"] - q["u"]) > 0.05 * max(1.0, float(np.linalg.norm(q["u"]))) for q in kept):
            kept.append(p)
    return kept
