"""Shared machinery of the reliability methods: counted evaluation in standard-normal space,
argument checks, and the common layout of result Datasets."""

from __future__ import annotations

import time
from typing import Any

import numpy as np
import xarray as xr
from scipy import special

from .. import checks
from ..results import provenance, seed_attr
from .limit_state import check_limit_state

_PF_DOC = {
    "pf": "probability of failure P[g <= 0]",
    "pf_se": "standard error of pf",
    "cov": "coefficient of variation of the pf estimator (pf_se / pf)",
    "pf_low": "lower end of the confidence interval of pf",
    "pf_high": "upper end of the confidence interval of pf",
    "beta": "reliability index -Phi^-1(pf) (FORM: signed distance of the design point)",
    "n_runs": "number of model evaluations (one vectorised call of n points counts n runs per model)",
}


class Evaluator:
    """Evaluate ``g`` at standard-normal points and count model runs."""

    def __init__(self, ls: Any, where: str) -> None:
        check_limit_state(ls, where)
        self.ls = ls
        self.where = where
        self.inputs = ls.inputs
        self.dim = ls.inputs.dimension
        self.n_runs = 0

    def __call__(self, u: np.ndarray, *, finite: bool = True) -> np.ndarray:
        """g at the rows of ``u``; with ``finite=False`` non-finite values come back as NaN instead of
        raising (a search then treats such a point as a rejected step)."""
        u = np.atleast_2d(np.asarray(u, dtype=float))
        if u.shape[0] == 0:
            return np.empty(0)
        values = self.inputs.from_standard_normal(u)
        with np.errstate(all="ignore"):
            g = self.ls.g(values)
        self.n_runs += u.shape[0] * len(self.ls.models)
        g = np.asarray(g, dtype=float)
        bad = ~np.isfinite(g)
        if bad.any() and not finite:
            return np.where(bad, np.nan, g)
        if bad.any():
            k = int(np.flatnonzero(bad)[0])
            point = {name: float(v[k]) for name, v in values.items()}
            raise ValueError(
                f"{self.where}: the limit state {self.ls.name!r} is not finite at {int(bad.sum())} of "
                f"{g.size} points, e.g. at {point}; make the model finite on the input support"
            )
        return g


def positive_int(value: Any, name: str, where: str, minimum: int = 1) -> int:
    return checks.positive_int(value, f"{where}: {name}", minimum)


def probability(value: Any, name: str, where: str, *, low: float = 0.0, high: float = 1.0) -> float:
    try:
        v = float(value)
    except (TypeError, ValueError):
        raise TypeError(f"{where}: {name} must be a number in ({low}, {high}), got {value!r}") from None
    if not low < v < high:
        raise ValueError(f"{where}: {name} must lie in ({low}, {high}), got {value!r}")
    return v


def beta_of(pf: float) -> float:
    """Generalised reliability index ``-Φ⁻¹(pf)`` (±inf for pf of 0 or 1)."""
    return float(-special.ndtri(pf)) if np.isfinite(pf) else float("nan")


def result_dataset(
    ev: Evaluator,
    method: str,
    *,
    pf: float,
    pf_se: float,
    pf_low: float,
    pf_high: float,
    confidence: float,
    seed: Any,
    started: float,
    beta: float | None = None,
    converged: bool = True,
    reliable: bool = True,
    warning: str = "",
    variables: dict[str, Any] | None = None,
    coords: dict[str, Any] | None = None,
    **attrs: Any,
) -> xr.Dataset:
    """The common Dataset layout of every reliability method.

    ``pf`` is always a probability: a value outside [0, 1] (rounding of an estimator) is clipped and
    the result marked unreliable; NaN is a bug of the calling method and raises. ``reliable`` false
    needs a ``warning``, stored also as ``attrs["reason"]``.
    """
    pf = float(pf)
    if not np.isfinite(pf):
        raise RuntimeError(f"{method}: internal error, pf is {pf}; methods must return a probability or raise")
    if not 0.0 <= pf <= 1.0:
        warning = "; ".join(w for w in (warning, f"estimate {pf:.4g} outside [0, 1] clipped") if w)
        reliable = False
        pf = min(max(pf, 0.0), 1.0)
    if not reliable and not warning:
        warning = "unreliable"
    cov = float(pf_se / pf) if pf > 0 and np.isfinite(pf_se) else float("nan")
    data: dict[str, Any] = {
        "pf": ((), pf, {"long_name": _PF_DOC["pf"]}),
        "pf_se": ((), float(pf_se), {"long_name": _PF_DOC["pf_se"]}),
        "cov": ((), cov, {"long_name": _PF_DOC["cov"]}),
        "pf_low": ((), float(pf_low), {"long_name": _PF_DOC["pf_low"], "confidence": confidence}),
        "pf_high": ((), float(pf_high), {"long_name": _PF_DOC["pf_high"], "confidence": confidence}),
        "beta": ((), float(beta_of(pf) if beta is None else beta), {"long_name": _PF_DOC["beta"]}),
        "n_runs": ((), int(ev.n_runs), {"long_name": _PF_DOC["n_runs"]}),
        "converged": ((), bool(converged)),
    }
    data.update(variables or {})
    models = ev.ls.models
    prov = provenance(
        models[0] if len(models) == 1 else None,
        method,
        seed=seed_attr(seed),
        n_runs=int(ev.n_runs),
        wall_time_s=round(time.perf_counter() - started, 4),
        limit_state=ev.ls.name,
        limit_state_units=ev.ls.units,
        system="none" if not ev.ls.is_system else ev.ls.kind,
        confidence=confidence,
        reliable=bool(reliable),
        warning=warning,
        reason="" if reliable else warning,
        **attrs,
    )
    if len(models) != 1:
        prov["model"] = "+".join(m.name for m in models)
        prov["inputs"] = ev.inputs.to_json()
    return xr.Dataset(data, coords=coords or {}, attrs=prov)


def design_point_variables(ev: Evaluator, u: np.ndarray) -> dict[str, Any]:
    """Design point in u-space and in physical units along dim ``input``."""
    names = ev.inputs.dimension_names
    x = ev.inputs.from_standard_normal(np.atleast_2d(u))
    units = [ev.inputs[n].units if n in ev.inputs else "" for n in names]
    physical = np.array([float(x[n][0]) if n in x else np.nan for n in names])
    return {
        "design_point_u": ("input", np.asarray(u, dtype=float), {"long_name": "design point in standard normal space"}),
        "design_point": ("input", physical, {"long_name": "design point in physical units", "units": ", ".join(units)}),
    }
