"""Shared machinery of the reliability methods: counted evaluation in standard-normal space,
argument checks, and the common layout of result Datasets."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

import numpy as np
import xarray as xr
from scipy import special

from .. import checks
from ..results import provenance, seed_attr
from .limit_state import check_limit_state, evaluate_isolated

if TYPE_CHECKING:
    from ..execution.batch import Backend

_PF_DOC = {
    "pf": "probability of failure P[g <= 0]",
    "pf_se": "standard error of pf",
    "cov": "coefficient of variation of the pf estimator (pf_se / pf)",
    "pf_low": "lower end of the confidence interval of pf",
    "pf_high": "upper end of the confidence interval of pf",
    "beta": "reliability index -Phi^-1(pf) (FORM: signed distance of the design point)",
    "n_runs": "number of model evaluations (one vectorised call of n points counts n runs per model)",
}


_FAILURE_TREATMENT = {
    "": "the estimate leaves them out, as if they behaved like the runs that succeeded",
    "form": "the search treated them as rejected steps",
    "sorm": "the curvature fit treated them as rejected steps",
}


class Evaluator:
    """Evaluate ``g`` at standard-normal points, count model runs and record failed runs.

    A run fails when the model raises on that point or returns a non-finite output there; the other
    points of the call keep their values (:func:`~uqbridge.execution.evaluate_batch` isolates them).
    Failed runs are counted in ``n_failed`` with the first one's message and point, and every result
    Dataset reports them (see :func:`result_dataset`). With a ``backend`` (process pool, Dask) each
    call's points are spread over its workers; the numbers do not depend on where they ran. With a
    ``cache`` dict (shared by the evaluators of one analysis), no model runs twice at the same point
    and ``n_runs`` counts the runs actually made.
    """

    def __init__(self, ls: Any, where: str, backend: Backend | None = None, cache: dict[Any, Any] | None = None) -> None:
        check_limit_state(ls, where)
        if backend is not None and not callable(getattr(backend, "map", None)):
            raise TypeError(
                f"{where}: backend must be an execution backend (uqbridge.execution.backends.ProcessPool, Dask, "
                f"InProcess or make_backend(...)), got {type(backend).__name__}"
            )
        self.ls = ls
        self.backend = backend
        self.cache = cache
        self.where = where
        self.inputs = ls.inputs
        self.dim = ls.inputs.dimension
        self.n_runs = 0
        self.n_failed = 0
        self.first_failure = ""

    def __call__(self, u: np.ndarray, *, finite: bool = True) -> np.ndarray:
        """g at the rows of ``u``.

        With ``finite=False`` failed points come back as NaN (a search treats them as rejected
        steps, a sampling estimator leaves them out and says so); with ``finite=True`` a failed
        point raises a ValueError naming it and the model's message.
        """
        u = np.atleast_2d(np.asarray(u, dtype=float))
        if u.shape[0] == 0:
            return np.empty(0)
        values = self.inputs.from_standard_normal(u)
        with np.errstate(all="ignore"):
            g, messages, runs = evaluate_isolated(self.ls, values, self.backend, self.cache)
        self.n_runs += runs
        bad = ~np.isfinite(g)
        if not bad.any():
            return g
        k = int(np.flatnonzero(bad)[0])
        point = {name: float(v[k]) for name, v in values.items()}
        why = messages[k] or "g is not finite"
        self.n_failed += int(bad.sum())
        if not self.first_failure:
            self.first_failure = f"{why} at {point}"
        if not finite:
            return np.where(bad, np.nan, g)
        raise ValueError(
            f"{self.where}: the limit state {self.ls.name!r} failed at {int(bad.sum())} of {g.size} points, "
            f"e.g. {why} at {point}; make the model finite on the input support"
        )

    def failure_note(self) -> str:
        """One sentence on the failed runs ("" when none failed)."""
        if not self.n_failed:
            return ""
        treated = _FAILURE_TREATMENT.get(self.where, _FAILURE_TREATMENT[""])
        return (
            f"{self.n_failed} of {self.n_runs} model runs failed (first: {self.first_failure}); {treated}: "
            "fix the model there or restrict its inputs"
        )

    def require_some_success(self, g: np.ndarray) -> None:
        """Raise when not a single run of ``g`` succeeded: there is nothing to estimate from."""
        if g.size and not np.isfinite(g).any():
            raise ValueError(
                f"{self.where}: every one of the {g.size} model runs failed (first: {self.first_failure}); "
                "fix the model or its inputs"
            )


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
    needs a ``warning``, stored also as ``attrs["reason"]``. Failed model runs (``ev.n_failed``) are
    reported in ``attrs["n_failed"]`` and make the result unreliable, with the first failure's
    message in the reason.
    """
    pf = float(pf)
    if not np.isfinite(pf):
        raise RuntimeError(f"{method}: internal error, pf is {pf}; methods must return a probability or raise")
    if not 0.0 <= pf <= 1.0:
        warning = "; ".join(w for w in (warning, f"estimate {pf:.4g} outside [0, 1] clipped") if w)
        reliable = False
        pf = min(max(pf, 0.0), 1.0)
    if ev.n_failed:
        warning = "; ".join(w for w in (warning, ev.failure_note()) if w)
        reliable = False
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
        n_failed=int(ev.n_failed),
        backend=type(ev.backend).__name__ if ev.backend is not None else "InProcess",
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
