"""Second-order reliability method: Pf from the principal curvatures of the limit state at the FORM
design point (Breitung, Hohenbichler–Rackwitz and Tvedt formulas)."""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import numpy as np
import xarray as xr
from scipy import special, stats

from ._common import Evaluator, design_point_variables, result_dataset
from ._derivatives import gradient_and_hessian, gradient_function
from .form import _check_continuous, form

if TYPE_CHECKING:
    from .._types import SeedLike
    from ..execution.batch import Backend
    from .limit_state import AnyLimitState

__all__ = ["FORMULAS", "sorm", "sorm_formulas"]

FORMULAS = ("breitung", "hohenbichler_rackwitz", "tvedt")


def sorm_formulas(beta: float, curvatures: Any) -> dict[str, float]:
    """SORM failure probabilities for a design point at distance β with principal curvatures κ_i.

    Curvatures are positive when the limit-state surface bends away from the origin (smaller Pf).

    - Breitung (1984), J. Eng. Mech. 110(3): ``Φ(−β) Π (1 + βκ_i)^{-1/2}``
    - Hohenbichler & Rackwitz (1988), J. Eng. Mech. 114(12):
      ``Φ(−β) Π (1 + κ_i φ(β)/Φ(−β))^{-1/2}``
    - Tvedt (1983, 1990, J. Eng. Mech. 116(6)) three-term formula ``A1 + A2 + A3``.

    A formula is NaN where its square roots are undefined (a strongly concave surface).

    Examples
    --------
    >>> r = sorm_formulas(3.0, [0.0])
    >>> round(r["breitung"] / float(special.ndtr(-3.0)), 12)
    1.0
    >>> round(sorm_formulas(3.0, [0.5])["breitung"] * 1e4, 4)
    8.5375
    """
    k = np.atleast_1d(np.asarray(curvatures, dtype=float))
    tail, dens = float(special.ndtr(-beta)), float(stats.norm.pdf(beta))

    def prod_inv_sqrt(values: np.ndarray) -> float:
        return float(np.prod(1.0 / np.sqrt(values))) if np.all(values > 0) else float("nan")

    def prod_inv_sqrt_complex(values: np.ndarray) -> complex:
        return complex(np.prod(1.0 / np.sqrt(values)))

    p_beta = prod_inv_sqrt(1 + beta * k)
    breitung = tail * p_beta
    ratio = dens / tail if tail > 0 else beta
    hr = tail * prod_inv_sqrt(1 + ratio * k)
    c = beta * tail - dens
    a2 = c * (p_beta - prod_inv_sqrt(1 + (beta + 1) * k))
    a3 = (beta + 1) * c * (p_beta - prod_inv_sqrt_complex((1 + (beta + 1j) * k).astype(complex)).real)
    tvedt = breitung + a2 + a3
    return {"breitung": float(breitung), "hohenbichler_rackwitz": float(hr), "tvedt": float(tvedt)}


def sorm(
    ls: AnyLimitState,
    *,
    formula: str = "tvedt",
    form_result: xr.Dataset | None = None,
    step: float = 1e-3,
    gradient: str = "auto",
    rng: SeedLike = None,
    backend: Backend | None = None,
    form_options: Mapping[str, Any] | None = None,
) -> xr.Dataset:
    """Second-order reliability analysis at the FORM design point.

    Parameters
    ----------
    ls : LimitState, SeriesSystem or ParallelSystem
    formula : {"tvedt", "breitung", "hohenbichler_rackwitz"}
        Which formula gives ``pf``; all three are returned in ``pf_formulas``.
    form_result : Dataset, optional
        A :func:`form` result for the same limit state (its runs are counted again in ``n_runs``);
        by default FORM is run with ``form_options``.
    step : float
        Finite-difference step in standard-normal space for the Hessian (differences of PyTensor
        gradients when the model is differentiable, else second differences of g, whose ±step points
        also give the gradient: 2d² runs, g at the design point being FORM's).
    gradient : {"auto", "fd", "tensor"}
        As in :func:`form`.
    rng : seed or Generator, optional
        Stream of the FORM search's checks when ``form_result`` is not given.
    backend : execution backend, optional
        Where the model runs, for the Hessian stencil and for FORM (see :func:`form`).
    form_options : mapping, optional
        Options of :func:`form` when ``form_result`` is not given.

    Returns
    -------
    xarray.Dataset
        As :func:`form`, plus ``curvatures`` (dim ``curvature``), ``pf_form`` and ``pf_formulas``
        (dim ``formula``); ``pf``/``beta`` are the chosen SORM estimate and its generalised index.
        Unreliable (``attrs["reason"]``) when FORM is for a reason other than its curvature check, when
        a formula is invalid (NaN or outside [0, 1]: ``pf`` is then the next valid formula, or FORM's
        Φ(−β)), when the formulas disagree by more than 10 %, when ``|βκ| > 1``, or when Breitung's
        factor from the local Hessian and FORM's factor from curvatures sampled one unit away
        (``curvature_factor``) differ by more than 10 % (g is not quadratic there).

    Examples
    --------
    >>> from uqbridge.reliability.problems import parabolic
    >>> p = parabolic(3.0, 0.5)
    >>> r = sorm(p.limit_state)
    >>> round(float(r.curvatures[0]), 4), bool(abs(float(r.pf) - p.pf) < 0.01 * p.pf)
    (0.5, True)
    """
    started = time.perf_counter()
    if formula not in FORMULAS:
        raise ValueError(f"sorm: formula must be one of {FORMULAS}, got {formula!r}")
    ev = Evaluator(ls, "sorm", backend)
    _check_continuous(ev, "sorm")
    if form_result is None:
        form_result = form(ls, gradient=gradient, rng=rng, backend=backend, **dict(form_options or {}))
    elif form_options:
        raise TypeError(f"sorm: FORM options {sorted(form_options)} given together with form_result; give one")
    if not isinstance(form_result, xr.Dataset) or form_result.attrs.get("method") != "form":
        raise TypeError("sorm: form_result must be the Dataset returned by uqbridge.reliability.form")
    ev.n_runs = int(form_result.n_runs)
    u = form_result.design_point_u.values
    if u.shape != (ev.dim,):
        raise ValueError(f"sorm: form_result has a design point of {u.size} inputs, the limit state has {ev.dim}")
    beta = float(form_result.beta)
    grad_fn, grad_method = gradient_function(ev, gradient, 1e-4)
    # g at the design point is FORM's last value: the difference stencil reuses it (no run twice)
    same = "g_design_point" in form_result and form_result.attrs.get("limit_state") == ev.ls.name
    g_star = float(form_result["g_design_point"]) if same else None
    G, H = gradient_and_hessian(grad_fn, grad_method, ev, u, step, g0=g_star)
    norm_g = float(np.linalg.norm(G))
    if not (np.isfinite(norm_g) and norm_g > 0 and np.all(np.isfinite(H))):
        # no tangent plane: SORM's formulas do not apply
        alpha, kappa = np.full(ev.dim, np.nan), np.full(max(ev.dim - 1, 0), np.nan)
        pfs = dict.fromkeys(FORMULAS, float("nan"))
    else:
        alpha = -G / norm_g
        kappa = _curvatures(alpha, H, norm_g)
        pfs = sorm_formulas(beta, kappa)
    # FORM's own curvature check is what SORM corrects; its other doubts carry over
    warnings = [w for w in form_result.attrs.get("warning", "").split("; ") if w and not w.startswith("sampled curvatures")]
    valid = {f: v for f, v in pfs.items() if np.isfinite(v) and 0.0 <= v <= 1.0}
    bad = [f for f in FORMULAS if f not in valid]
    if bad:
        warnings.append(
            f"SORM formula(s) {bad} invalid here ({', '.join(f'{f}={pfs[f]:.3g}' for f in bad)}): 1 + beta*kappa <= 0 "
            "or a result outside [0, 1] (strongly concave surface or beta*kappa too large for the asymptotics)"
        )
    if valid and max(valid.values()) > 1.1 * min(valid.values()):
        warnings.append(
            f"the SORM formulas disagree by {100 * (max(valid.values()) / max(min(valid.values()), 1e-300) - 1):.0f} %: the "
            "asymptotic approximation is doubtful here; check with simulation"
        )
    sampled = float(form_result.get("curvature_factor", np.nan))
    local = pfs["breitung"] / float(form_result.pf) if np.isfinite(pfs["breitung"]) and float(form_result.pf) > 0 else np.nan
    if np.isfinite(sampled) and np.isfinite(local) and sampled > 0 and abs(np.log(local / sampled)) > np.log(1.1):
        warnings.append(
            f"the local curvatures give a second-order factor {local:.3g} but FORM's curvatures sampled one unit "
            f"away give {sampled:.3g}: g is not quadratic near the design point, so SORM's correction is doubtful"
        )
    if np.any(np.abs(beta * kappa) > 1.0) and not bad:
        warnings.append(f"|beta*kappa| up to {float(np.abs(beta * kappa).max()):.2f} > 1: far from the asymptotic regime of SORM")
    # the requested formula where it is valid, else the first valid one, else FORM (flagged above)
    chosen = formula if formula in valid else next((f for f in FORMULAS if f in valid), "form")
    pf = valid.get(chosen, float(form_result.pf))
    if chosen != formula:
        warnings.append(f"pf is {'FORM' if chosen == 'form' else chosen}, not the requested {formula}")
    variables = design_point_variables(ev, u)
    variables.update(
        {
            "alpha": ("input", alpha),
            "importance": ("input", alpha**2, {"long_name": "FORM importance factors alpha^2"}),
            "curvatures": ("curvature", kappa, {"long_name": "principal curvatures at the design point (positive: away from the origin)"}),
            "beta_form": ((), beta),
            "pf_form": ((), float(form_result.pf)),
            "pf_formulas": ("formula", np.array([pfs[f] for f in FORMULAS])),
        }
    )
    return result_dataset(
        ev, "sorm", pf=pf, pf_se=np.nan, pf_low=np.nan, pf_high=np.nan, confidence=np.nan, seed="none",
        started=started, converged=bool(form_result.converged), reliable=not warnings,
        warning="; ".join(w for w in warnings if w), variables=variables,
        coords={"input": list(ev.inputs.dimension_names), "formula": list(FORMULAS)},
        formula=chosen, gradient=grad_method, hessian_step=step,
    )


def _curvatures(alpha: np.ndarray, H: np.ndarray, norm_g: float) -> np.ndarray:
    """Principal curvatures: eigenvalues of R H Rᵀ/|∇g| without the α row (R orthonormal, last row α)."""
    d = alpha.size
    q, _ = np.linalg.qr(np.column_stack([alpha, np.eye(d)]))
    R = np.roll(q.T, -1, axis=0)  # rows: basis of the tangent plane, then ±α last
    B = R @ H @ R.T / norm_g
    return np.sort(np.linalg.eigvalsh(B[:-1, :-1])) if d > 1 else np.empty(0)
