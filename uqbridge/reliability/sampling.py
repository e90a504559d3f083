"""Sampling estimators of Pf: crude Monte Carlo and randomised quasi-Monte Carlo with CoV-targeted
stopping, and importance sampling centred at the FORM design point(s)."""

from __future__ import annotations

import math
import time
import warnings
from typing import Any

import numpy as np
import xarray as xr
from scipy import special, stats
from scipy.stats import qmc

from ._common import Evaluator, positive_int, probability, result_dataset
from .form import form

__all__ = ["monte_carlo", "importance_sampling", "MC_DESIGNS"]

MC_DESIGNS = ("mc", "sobol")


def monte_carlo(
    ls: Any,
    *,
    target_cov: float = 0.1,
    max_runs: int = 1_000_000,
    batch: int = 10_000,
    design: str = "mc",
    n_replicates: int = 8,
    confidence: float = 0.95,
    rng: Any = None,
) -> xr.Dataset:
    """Crude Monte Carlo (or randomised QMC) estimate of Pf, stopped at a target coefficient of variation.

    Parameters
    ----------
    ls : LimitState, SeriesSystem or ParallelSystem
    target_cov : float
        Stop when the estimated CoV of ``pf`` is at most this (and at least one failure was seen).
    max_runs : int
        Stop anyway after this many model runs (``converged`` is then false).
    batch : int
        Model runs per round (one vectorised model call).
    design : {"mc", "sobol"}
        "mc": independent standard normals; the CoV is binomial, ``sqrt((1 − p)/(n p))``, and the
        interval is Clopper–Pearson. "sobol": ``n_replicates`` independently Owen-scrambled Sobol'
        sequences (scipy.stats.qmc) mapped by Φ⁻¹; the standard error is the spread of the replicate
        estimates, and the interval a Student-t interval on them.
    n_replicates : int
        Number of independent scramblings for "sobol" (at least 2).
    confidence : float
        Level of the interval ``[pf_low, pf_high]``.
    rng : seed or Generator

    Returns
    -------
    xarray.Dataset
        ``pf``, ``pf_se``, ``cov``, ``pf_low``, ``pf_high``, ``beta``, ``n_runs``, ``n_failures``,
        ``converged`` and the convergence history ``history_runs``/``history_pf``/``history_se``
        (dim ``iteration``).

    Examples
    --------
    >>> from uqbridge.reliability.problems import linear
    >>> r = monte_carlo(linear(2.0).limit_state, target_cov=0.1, rng=1)
    >>> bool(r.converged), bool(abs(float(r.pf) - 0.02275) < 4 * float(r.pf_se))
    (True, True)
    """
    started = time.perf_counter()
    ev = Evaluator(ls, "monte_carlo")
    target_cov = probability(target_cov, "target_cov", "monte_carlo", high=math.inf)
    max_runs = positive_int(max_runs, "max_runs", "monte_carlo")
    batch = positive_int(batch, "batch", "monte_carlo")
    confidence = probability(confidence, "confidence", "monte_carlo")
    if design not in MC_DESIGNS:
        raise ValueError(f"monte_carlo: design must be one of {MC_DESIGNS}, got {design!r}")
    generator = np.random.default_rng(rng)
    d = ev.dim
    history: list[tuple[int, float, float]] = []

    if design == "mc":
        n = failures = 0
        while True:
            m = min(batch, max_runs - ev.n_runs)
            g = ev(generator.standard_normal((m, d)))
            n += m
            failures += int(np.count_nonzero(g <= 0))
            pf = failures / n
            se = math.sqrt(pf * (1 - pf) / n)
            history.append((ev.n_runs, pf, se))
            if (failures and se <= target_cov * pf) or ev.n_runs >= max_runs:
                break
        ci = stats.binomtest(failures, n).proportion_ci(confidence, method="exact")
        low, high = float(ci.low), float(ci.high)
        interval = "Clopper-Pearson (exact binomial)"
    else:
        n_replicates = positive_int(n_replicates, "n_replicates", "monte_carlo", minimum=2)
        engines = [qmc.Sobol(d, scramble=True, rng=child) for child in generator.spawn(n_replicates)]
        # powers of two keep the Sobol' balance properties of each replicate
        per_round = 2 ** max(0, math.ceil(math.log2(max(batch // n_replicates, 1))))
        counts = np.zeros(n_replicates)
        n_each = 0
        while True:
            if ev.n_runs + n_replicates * per_round > max_runs and history:
                break
            pts = np.concatenate([e.random(per_round) for e in engines])
            pts = np.clip(pts, np.finfo(float).tiny, 1 - np.finfo(float).epsneg)
            g = ev(special.ndtri(pts)).reshape(n_replicates, per_round)
            counts += np.count_nonzero(g <= 0, axis=1)
            n_each += per_round
            estimates = counts / n_each
            pf = float(estimates.mean())
            se = float(estimates.std(ddof=1) / math.sqrt(n_replicates))
            history.append((ev.n_runs, pf, se))
            if (counts.sum() and se <= target_cov * pf) or ev.n_runs >= max_runs:
                break
        half = float(stats.t.ppf(0.5 + confidence / 2, n_replicates - 1)) * se
        low, high = max(pf - half, 0.0), min(pf + half, 1.0)
        failures = int(counts.sum())
        interval = f"Student-t over {n_replicates} scrambled Sobol' replicates"

    pf, se = history[-1][1], history[-1][2]
    converged = bool(failures and se <= target_cov * pf)
    runs, pfs, ses = (np.array(v) for v in zip(*history))
    return result_dataset(
        ev, "monte_carlo", pf=pf, pf_se=se, pf_low=low, pf_high=high, confidence=confidence, seed=rng,
        started=started, converged=converged, reliable=True,
        warning="" if converged else f"target CoV {target_cov} not reached within max_runs={max_runs}",
        variables={
            "n_failures": ((), failures),
            "history_runs": ("iteration", runs.astype(int)),
            "history_pf": ("iteration", pfs),
            "history_se": ("iteration", ses),
        },
        design=design, target_cov=target_cov, interval=interval,
    )


def importance_sampling(
    ls: Any,
    *,
    n: int = 1000,
    form_result: xr.Dataset | None = None,
    target_cov: float | None = None,
    batch: int | None = None,
    confidence: float = 0.95,
    rng: Any = None,
    **form_options: Any,
) -> xr.Dataset:
    """Importance sampling with a unit-variance normal density centred at the FORM design point(s).

    Parameters
    ----------
    ls : LimitState, SeriesSystem or ParallelSystem
    n : int
        Maximum number of sampling runs (FORM runs come on top and are counted in ``n_runs``).
    form_result : Dataset, optional
        A :func:`form` result; by default FORM is run with ``form_options``. When it holds several
        design points (``design_points_u``: competing points from several starts, or the component
        design points of a series system) the density is the mixture of normals centred at all of
        them, weighted by Φ(−β_k), so that no known failure region is left unsampled.
    target_cov : float, optional
        Stop early once the estimated CoV is at most this.
    batch : int, optional
        Runs per round (default ``n // 10``); the history is recorded per round.
    confidence : float
        Level of the normal-approximation interval ``pf ± z·pf_se`` (clipped at 0).
    rng : seed or Generator

    Returns
    -------
    xarray.Dataset
        As :func:`monte_carlo`, plus ``centres`` (dims ``centre``, ``input``) and the effective
        sample size ``ess`` of the weights of the failure samples.

    Notes
    -----
    ``pf = mean(1[g ≤ 0] w)``, ``w = φ(u)/q(u)``; ``pf_se`` is the sample standard deviation of
    ``1[g ≤ 0] w`` over √n (e.g. Melchers & Beck 2018, §3.4). A failure region far from every
    centre is not seen and then makes ``pf_se`` optimistic: check the FORM warning.

    Examples
    --------
    >>> from uqbridge.reliability.problems import linear
    >>> p = linear(4.75)
    >>> r = importance_sampling(p.limit_state, n=1000, rng=0)
    >>> bool(float(r.cov) < 0.1), bool(abs(float(r.pf) - p.pf) < 4 * float(r.pf_se))
    (True, True)
    """
    started = time.perf_counter()
    ev = Evaluator(ls, "importance_sampling")
    n = positive_int(n, "n", "importance_sampling", minimum=2)
    batch = max(n // 10, 1) if batch is None else positive_int(batch, "batch", "importance_sampling")
    confidence = probability(confidence, "confidence", "importance_sampling")
    if target_cov is not None:
        target_cov = probability(target_cov, "target_cov", "importance_sampling", high=math.inf)
    if form_result is None:
        form_result = form(ls, **form_options)
    elif form_options:
        raise TypeError(f"importance_sampling: FORM options {sorted(form_options)} given together with form_result; give one")
    if not isinstance(form_result, xr.Dataset) or form_result.attrs.get("method") != "form":
        raise TypeError("importance_sampling: form_result must be the Dataset returned by uqbridge.reliability.form")
    ev.n_runs = int(form_result.n_runs)
    centres = np.atleast_2d(form_result.design_points_u.values)
    if centres.size == 0:
        centres = form_result.design_point_u.values[None, :]
        betas = np.array([float(form_result.beta)])
    else:
        betas = form_result.point_beta.values
    if centres.shape[1] != ev.dim:
        raise ValueError(f"importance_sampling: form_result has {centres.shape[1]} inputs, the limit state {ev.dim}")
    log_w = special.log_ndtr(-betas)
    weights = np.exp(log_w - special.logsumexp(log_w))
    generator = np.random.default_rng(rng)

    values = np.empty(0)
    history: list[tuple[int, float, float]] = []
    while values.size < n:
        m = min(batch, n - values.size)
        which = generator.choice(len(centres), size=m, p=weights)
        u = centres[which] + generator.standard_normal((m, ev.dim))
        g = ev(u)
        # log φ(u) − log q(u); the (2π)^(-d/2) factors cancel
        log_q = special.logsumexp(np.log(weights)[None, :] - 0.5 * ((u[:, None, :] - centres[None]) ** 2).sum(-1), axis=1)
        w = np.exp(-0.5 * (u**2).sum(1) - log_q)
        values = np.concatenate([values, np.where(g <= 0, w, 0.0)])
        pf = float(values.mean())
        se = float(values.std(ddof=1) / math.sqrt(values.size)) if values.size > 1 else float("nan")
        history.append((ev.n_runs, pf, se))
        if target_cov is not None and pf > 0 and se <= target_cov * pf and len(history) > 1:
            break
    z = float(special.ndtri(0.5 + confidence / 2))
    fail_w = values[values > 0]
    ess = float(fail_w.sum() ** 2 / (fail_w**2).sum()) if fail_w.size else 0.0
    converged = bool(pf > 0 and (target_cov is None or se <= target_cov * pf))
    warn = []
    if pf == 0:
        warn.append("no failure sample: the design point may be wrong")
    if form_result.attrs.get("warning"):
        warn.append(f"FORM: {form_result.attrs['warning']} (the sampling density is centred at all {len(centres)} design points found)")
    runs, pfs, ses = (np.array(v) for v in zip(*history))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        return result_dataset(
            ev, "importance_sampling", pf=pf, pf_se=se, pf_low=max(pf - z * se, 0.0), pf_high=min(pf + z * se, 1.0),
            confidence=confidence, seed=rng, started=started, converged=converged,
            reliable=bool(form_result.converged) and pf > 0, warning="; ".join(warn),
            variables={
                "centres": (("centre", "input"), centres),
                "centre_weight": ("centre", weights),
                "ess": ((), ess, {"long_name": "effective sample size of the failure-sample weights"}),
                "n_failures": ((), int(fail_w.size)),
                "history_runs": ("iteration", runs.astype(int)),
                "history_pf": ("iteration", pfs),
                "history_se": ("iteration", ses),
            },
            coords={"input": list(ev.inputs.dimension_names)},
            interval="normal approximation", form_runs=int(form_result.n_runs),
        )
