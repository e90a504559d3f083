"""Pf under epistemic uncertainty: an outer loop over epistemic samples (or posterior draws) around an
inner reliability analysis over the aleatory inputs gives the distribution of Pf(E)."""

from __future__ import annotations

import math
import time
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import numpy as np
import xarray as xr
from scipy import special, stats

from .. import checks
from ..designs import DESIGNS, unit_design
from ..results import provenance, seed_attr
from ._common import beta_of, positive_int, probability
from .limit_state import check_limit_state
from .registry import METHODS

if TYPE_CHECKING:
    from .._types import SeedLike
    from ..execution.batch import Backend
    from .limit_state import AnyLimitState

__all__ = ["METHODS", "pf_epistemic"]



def pf_epistemic(
    ls: AnyLimitState,
    *,
    method: str = "form",
    n_outer: int = 64,
    samples: Mapping[str, Any] | None = None,
    design: str = "mc",
    credible: float = 0.9,
    confidence: float = 0.95,
    rng: SeedLike = None,
    backend: Backend | None = None,
    method_options: Mapping[str, Any] | None = None,
) -> xr.Dataset:
    """Distribution of the failure probability over the epistemic inputs.

    For each outer sample ``e_j`` of the epistemic inputs (kind ``"epistemic"``) they are fixed to
    ``e_j`` and ``method`` estimates ``Pf(e_j)`` over the aleatory inputs.

    Parameters
    ----------
    ls : LimitState, SeriesSystem or ParallelSystem
    method : {"form", "sorm", "monte_carlo", "importance_sampling", "subset_simulation", "active_learning"}
        Inner reliability method (a name in :data:`~uqbridge.reliability.METHODS`).
    n_outer : int
        Number of outer samples drawn from the epistemic inputs' joint law (ignored with ``samples``).
    samples : mapping name -> array, optional
        Given epistemic values (e.g. posterior draws from calibration), one row per outer sample.
    design : {"mc", "lhs", "sobol", "halton"}
        Outer design. With "mc" the outer samples are independent and ``pf_se`` (the standard error
        of the predictive Pf) is the usual ``sd/√n``; with the others it is conservative.
    credible : float
        Level of the equal-tailed credible interval of Pf(E).
    confidence : float
        Level of the normal interval ``pf ± z·pf_se`` of the predictive Pf.
    rng : seed or Generator
        Split with ``spawn`` into one stream for the outer design and one per inner analysis.
    backend : execution backend, optional
        Where the model runs: passed to every inner analysis (see
        :func:`~uqbridge.reliability.monte_carlo`).
    method_options : mapping, optional
        Options of the inner method (e.g. ``{"n": 400}`` for importance sampling, ``{"gradient": "fd"}``
        for FORM); each inner analysis gets its own ``rng`` stream and the ``backend``.

    Returns
    -------
    xarray.Dataset
        Along ``epistemic_sample``: ``pf_conditional`` = Pf(e_j), its ``pf_conditional_se``,
        ``beta_conditional``, ``n_runs_conditional``, ``converged_conditional`` and the values
        ``epistemic_values`` (dims ``epistemic_sample``, ``epistemic_input``). Scalars: ``pf`` = the
        predictive Pf ``E[Pf(E)]`` (total probability over the epistemic uncertainty), ``pf_se``,
        ``cov``, ``pf_low``/``pf_high`` (its confidence interval), ``beta``, ``pf_median``,
        ``pf_credible_low``/``pf_credible_high`` and ``n_runs`` (total). Along
        ``epistemic_input``: ``importance`` = Spearman rank correlation of each epistemic input with
        log Pf(E) (sign: direction of the effect) and ``importance_share`` = ρ²/Σρ².

    Examples
    --------
    >>> from uqbridge import ForwardModel, Input, Normal, Output
    >>> m = ForwardModel("rs", lambda r, s, mu: {"z": r - mu - s},
    ...     [Input("r", Normal(10, 1)), Input("s", Normal(0, 1)), Input("mu", Normal(5, 1), "epistemic")],
    ...     [Output("z")])
    >>> from uqbridge.reliability import LimitState
    >>> r = pf_epistemic(LimitState(m, "z"), method="form", n_outer=16, rng=0)
    >>> r.pf_conditional.sizes["epistemic_sample"], str(r.importance.epistemic_input.values[0])
    (16, 'mu')
    """
    started = time.perf_counter()
    check_limit_state(ls, "pf_epistemic")
    method_options = dict(method_options or {})
    if {"rng", "backend"} & set(method_options):
        raise TypeError("pf_epistemic: give rng and backend as pf_epistemic's own arguments, not in method_options")
    if method not in METHODS:
        raise ValueError(f"pf_epistemic: method must be one of {sorted(METHODS)}, got {method!r}")
    if design not in DESIGNS:
        raise ValueError(f"pf_epistemic: design must be one of {list(DESIGNS)}, got {design!r}")
    credible = probability(credible, "credible", "pf_epistemic")
    confidence = probability(confidence, "confidence", "pf_epistemic")
    names = ls.inputs.epistemic
    if not names:
        raise ValueError(
            f"pf_epistemic: the limit state {ls.name!r} has no epistemic inputs (inputs: {list(ls.inputs.names)}); "
            "declare some with kind='epistemic' or use a plain reliability method"
        )
    if not ls.inputs.aleatory:
        raise ValueError(f"pf_epistemic: the limit state {ls.name!r} has no aleatory inputs to integrate over")
    generator = checks.generator(rng, "pf_epistemic: rng")
    outer_rng, inner_rng = generator.spawn(2)
    if samples is None:
        n_outer = positive_int(n_outer, "n_outer", "pf_epistemic", minimum=2)
        # the whole input set maps the design so that copula correlations and joint (posterior)
        # blocks among the epistemic inputs are respected; the aleatory columns are discarded
        drawn = ls.inputs.from_unit(unit_design(n_outer, ls.inputs.dimension, design, rng=outer_rng))
        values = np.column_stack([drawn[n] for n in names])
    else:
        unknown = sorted(set(samples) - set(names))
        if unknown:
            raise KeyError(f"pf_epistemic: samples names {unknown} are not epistemic inputs; epistemic inputs: {list(names)}")
        missing = [n for n in names if n not in samples]
        if missing:
            raise KeyError(f"pf_epistemic: samples lack epistemic input(s) {missing}")
        columns = [np.asarray(samples[n], dtype=float).ravel() for n in names]
        if len({c.size for c in columns}) != 1 or columns[0].size < 2:
            raise ValueError(f"pf_epistemic: samples must have equal lengths >= 2, got {[c.size for c in columns]}")
        values = np.column_stack(columns)
        n_outer = values.shape[0]

    function = METHODS[method]
    children = inner_rng.spawn(n_outer)
    results = []
    for j in range(n_outer):
        fixed = ls
        for m in ls.models:
            changes = {n: float(values[j, k]) for k, n in enumerate(names) if n in m.inputs.names}
            fixed = fixed.replace_model(m, m.with_inputs(**changes)) if changes else fixed
        results.append(function(fixed, rng=children[j], backend=backend, **method_options))

    pf_j = np.array([float(r.pf) for r in results])
    se_j = np.array([float(r.pf_se) for r in results])
    runs_j = np.array([int(r.n_runs) for r in results])
    conv_j = np.array([bool(r.converged) for r in results])
    pf = float(pf_j.mean())
    pf_se = float(pf_j.std(ddof=1) / math.sqrt(n_outer))
    z = float(special.ndtri(0.5 + confidence / 2))
    lo_q, hi_q = np.quantile(pf_j, [(1 - credible) / 2, (1 + credible) / 2])
    log_pf = np.log(np.maximum(pf_j, np.finfo(float).tiny))
    rho = np.array([_spearman(values[:, k], log_pf) for k in range(len(names))])
    share = rho**2 / (rho**2).sum() if np.nansum(rho**2) > 0 else np.full(len(names), np.nan)
    warn = []
    if not conv_j.all():
        warn.append(f"{int((~conv_j).sum())} of {n_outer} inner analyses did not converge")
    inner_warnings = sorted({r.attrs.get("warning", "") for r in results} - {""})
    if inner_warnings:
        warn.append("inner: " + " | ".join(inner_warnings[:3]))
    reliable = all(bool(r.attrs.get("reliable", 1)) for r in results)
    models = ls.models
    attrs = provenance(
        models[0] if len(models) == 1 else None, f"pf_epistemic[{method}]",
        seed=seed_attr(rng), n_runs=int(runs_j.sum()), wall_time_s=round(time.perf_counter() - started, 4),
        n_failed=int(sum(int(r.attrs.get("n_failed", 0)) for r in results)),
        limit_state=ls.name, inner_method=method, outer_design="given samples" if samples is not None else design,
        credible=credible, confidence=confidence, reliable=reliable, warning="; ".join(warn),
        importance_measure="Spearman rank correlation of each epistemic input with log Pf(E)",
        method_options={k: v for k, v in method_options.items() if isinstance(v, (int, float, str, bool))},
    )
    return xr.Dataset(
        {
            "pf_conditional": ("epistemic_sample", pf_j, {"long_name": "Pf given the epistemic values"}),
            "pf_conditional_se": ("epistemic_sample", se_j),
            "beta_conditional": ("epistemic_sample", np.array([float(r.beta) for r in results])),
            "n_runs_conditional": ("epistemic_sample", runs_j),
            "converged_conditional": ("epistemic_sample", conv_j),
            "epistemic_values": (("epistemic_sample", "epistemic_input"), values),
            "pf": ((), pf, {"long_name": "predictive Pf = E[Pf(E)] over the epistemic uncertainty"}),
            "pf_se": ((), pf_se, {"long_name": "standard error of the predictive Pf over the outer samples"}),
            "cov": ((), pf_se / pf if pf > 0 else float("nan")),
            "pf_low": ((), max(pf - z * pf_se, 0.0), {"confidence": confidence}),
            "pf_high": ((), min(pf + z * pf_se, 1.0), {"confidence": confidence}),
            "beta": ((), beta_of(pf)),
            "pf_median": ((), float(np.median(pf_j))),
            "pf_credible_low": ((), float(lo_q), {"credible": credible}),
            "pf_credible_high": ((), float(hi_q), {"credible": credible}),
            "n_runs": ((), int(runs_j.sum())),
            "converged": ((), bool(conv_j.all())),
            "importance": ("epistemic_input", rho, {"long_name": "Spearman rank correlation with log Pf(E)"}),
            "importance_share": ("epistemic_input", share, {"long_name": "rho^2 / sum rho^2"}),
        },
        coords={"epistemic_sample": np.arange(n_outer), "epistemic_input": list(names)},
        attrs=attrs,
    )


def _spearman(x: np.ndarray, y: np.ndarray) -> float:
    if np.ptp(x) == 0 or np.ptp(y) == 0:
        return float("nan")
    return float(stats.spearmanr(x, y).statistic)
