"""First-order reliability method: the design point by iHL-RF in standard-normal space (Nataf).

Returns Pf ≈ Φ(−β), the design point, importance factors α², and says when the linearisation is
doubtful (systems, several competing design points, non-convergence).
"""

from __future__ import annotations

import time
from typing import Any

import numpy as np
import xarray as xr
from scipy import special

from ._common import Evaluator, design_point_variables, positive_int, result_dataset
from ._derivatives import GradientFunction, gradient_function
from .limit_state import SeriesSystem, leaves

__all__ = ["form"]


def form(
    ls: Any,
    *,
    u0: Any = None,
    n_starts: int = 1,
    tol: float = 1e-5,
    max_iter: int = 100,
    gradient: str = "auto",
    step: float = 1e-4,
    components: bool = True,
    rng: Any = None,
) -> xr.Dataset:
    """First-order reliability analysis (iHL-RF search for the design point).

    Parameters
    ----------
    ls : LimitState, SeriesSystem or ParallelSystem
    u0 : array_like of shape (d,), optional
        First starting point in standard-normal space (default: the origin, i.e. the median).
    n_starts : int
        Number of searches. Starts after the first lie at random directions on the sphere of radius
        β of the first solution, to expose other design points (a limit state with several competing
        design points is flagged unreliable).
    tol : float
        Convergence tolerance on ``|g|/|g(u0)|`` and on ``‖u − (α·u)α‖`` (Der Kiureghian's e1, e2).
    max_iter : int
        Iterations per search.
    gradient : {"auto", "fd", "tensor"}
        Central finite differences (one batched call of 2d points), or PyTensor gradients of a
        differentiable model; "auto" uses PyTensor when every model is differentiable.
    step : float
        Finite-difference step in standard-normal space.
    components : bool
        For a series system, also run FORM on each component and report all component design points
        (used by multi-point importance sampling) and the first-order bounds
        ``max Φ(−β_k) ≤ Pf ≤ Σ Φ(−β_k)``.
    rng : seed or Generator
        For the random starts.

    Returns
    -------
    xarray.Dataset
        ``pf`` = Φ(−β), ``beta``, ``n_runs``, ``converged``, ``iterations``, ``design_point_u`` and
        ``design_point`` (dim ``input``), ``alpha`` and ``importance`` (= α², dim ``input``),
        ``design_points_u``/``point_beta`` (all distinct design points found, dim ``point``), the
        search history ``history_beta``/``history_runs`` (dim ``iteration``). ``pf_se``, ``cov``,
        ``pf_low``, ``pf_high`` are NaN: FORM has no sampling error and its approximation error is
        not estimated. ``attrs["reliable"]`` is 0 and ``attrs["warning"]`` says why when the result
        is doubtful.

    Notes
    -----
    iHL-RF: the Hasofer–Lind–Rackwitz–Fiessler step with an Armijo line search on the merit function
    ``½‖u‖² + c|g(u)|`` (Zhang & Der Kiureghian 1997, Proc. IFIP WG 7.5; Der Kiureghian 2005, ch. 14
    of *Engineering Design Reliability Handbook*). The importance factors α² are those of the
    independent standard normals; with correlated inputs they mix the correlated variables.

    Examples
    --------
    >>> from uqbridge.reliability.problems import linear
    >>> r = form(linear(3.0).limit_state)
    >>> round(float(r.beta), 6), bool(r.converged)
    (3.0, True)
    """
    started = time.perf_counter()
    ev = Evaluator(ls, "form")
    _check_continuous(ev, "form")
    n_starts = positive_int(n_starts, "n_starts", "form")
    max_iter = positive_int(max_iter, "max_iter", "form")
    if not (isinstance(tol, (int, float)) and 0 < tol < 1):
        raise ValueError(f"form: tol must be a number in (0, 1), got {tol!r}")
    grad_fn, grad_method = gradient_function(ev, gradient, step)
    d = ev.dim
    first = np.zeros(d) if u0 is None else np.asarray(u0, dtype=float).ravel()
    if first.shape != (d,):
        raise ValueError(f"form: u0 must have {d} entries (one per input {list(ev.inputs.dimension_names)}), got shape {np.shape(u0)}")
    generator = np.random.default_rng(rng)

    searches = [_ihlrf(ev, grad_fn, first, tol, max_iter)]
    radius = max(abs(searches[0]["beta"]), 1.0)
    for _ in range(n_starts - 1):
        direction = generator.normal(size=d)
        searches.append(_ihlrf(ev, grad_fn, radius * direction / np.linalg.norm(direction), tol, max_iter))

    warnings: list[str] = []
    points = [s for s in searches if s["converged"]]
    component_betas: list[float] = []
    if ls.is_system:
        warnings.append(
            f"{ls.kind} system of {len(leaves(ls))} limit states: g is a non-smooth min/max and FORM "
            "linearises one component at one design point; use a simulation method for the system Pf"
        )
        if isinstance(ls, SeriesSystem) and components:
            for leaf in leaves(ls):
                sub = Evaluator(leaf, "form")
                sub_grad, _ = gradient_function(sub, gradient, step)
                s = _ihlrf(sub, sub_grad, first, tol, max_iter)
                ev.n_runs += sub.n_runs
                if s["converged"]:
                    points.append(s)
                    component_betas.append(s["beta"])
                    # every component design point lies in the series-system failure domain
                    searches.append(s)
    distinct = _distinct(points)
    best = min(searches, key=lambda s: (not s["converged"], abs(s["beta"])))
    competing = [p for p in distinct if p["beta"] < best["beta"] + 1.0]
    if len(competing) > 1:
        warnings.append(
            f"{len(competing)} distinct design points with beta within 1 of the smallest "
            f"({', '.join(format(p['beta'], '.3f') for p in competing)}): the failure domain has several "
            "important regions and Φ(-β) of one of them underestimates Pf"
        )
    if not best["converged"]:
        warnings.append(f"iHL-RF did not converge in {max_iter} iterations ({best['reason']})")

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
        }
    )
    extra: dict[str, Any] = {}
    if component_betas:
        tails = special.ndtr(-np.array(component_betas))
        variables["pf_bound_low"] = ((), float(tails.max()), {"long_name": "first-order series lower bound max Phi(-beta_k)"})
        variables["pf_bound_high"] = ((), float(min(tails.sum(), 1.0)), {"long_name": "first-order series upper bound sum Phi(-beta_k)"})
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
        gradient=grad_method,
        n_starts=n_starts,
        tol=tol,
        **extra,
    )


def _check_continuous(ev: Evaluator, where: str) -> None:
    if ev.inputs.joint:
        raise ValueError(
            f"{where}: inputs drawn from joint samples ({list(ev.inputs.dimension_names)}) have no density "
            "in standard-normal space; fix them or use a sampling method"
        )


def _ihlrf(ev: Evaluator, grad_fn: GradientFunction, u0: np.ndarray, tol: float, max_iter: int) -> dict[str, Any]:
    """One iHL-RF search from ``u0``; returns the design point, β, α and the search history."""
    u = u0.copy()
    g, G = (a[0] for a in grad_fn(u[None, :]))
    g_scale = abs(g) if g != 0 else 1.0
    history_beta, history_runs = [], []
    converged, reason, it = False, "", 0
    alpha = np.zeros_like(u)
    for it in range(1, max_iter + 1):
        norm_g = float(np.linalg.norm(G))
        if not norm_g > 0:
            reason = "zero gradient"
            break
        alpha = -G / norm_g
        history_beta.append(float(alpha @ u + g / norm_g))
        history_runs.append(ev.n_runs)
        if abs(g) / g_scale <= tol and np.linalg.norm(u - (alpha @ u) * alpha) <= tol * max(1.0, np.linalg.norm(u)):
            converged = True
            break
        d = ((G @ u - g) / norm_g**2) * G - u
        # Zhang & Der Kiureghian (1997): c large enough for the HL-RF direction to descend the merit.
        c = 2.0 * max(np.linalg.norm(u) / norm_g, 0.5 * np.linalg.norm(u + d) ** 2 / abs(g) if g != 0 else 0.0)
        merit0 = 0.5 * u @ u + c * abs(g)
        slope = (u + c * np.sign(g) * G) @ d
        lam = 1.0
        for _ in range(30):
            trial = u + lam * d
            g_trial = float(ev(trial[None, :])[0])
            if 0.5 * trial @ trial + c * abs(g_trial) - merit0 <= 0.5 * lam * min(slope, 0.0):
                break
            lam *= 0.5
        u = trial
        g, G = (a[0] for a in grad_fn(u[None, :]))
    else:
        reason = f"tolerance {tol} not reached"
    beta = float(alpha @ u)
    return {
        "u": u, "g": float(g), "alpha": alpha, "beta": beta, "converged": converged, "reason": reason,
        "iterations": it, "history_beta": history_beta, "history_runs": history_runs,
    }


def _distinct(points: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Converged design points differing by more than 5 % of their distance from the origin."""
    kept: list[dict[str, Any]] = []
    for p in sorted(points, key=lambda s: s["beta"]):
        if all(np.linalg.norm(p["u"] - q["u"]) > 0.05 * max(1.0, np.linalg.norm(q["u"])) for q in kept):
            kept.append(p)
    return kept
