"""Sampling estimators of Pf: crude Monte Carlo and randomised quasi-Monte Carlo with CoV-targeted
stopping, and importance sampling centred at the FORM design point(s)."""

from __future__ import annotations

import math
import time
import warnings
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

import numpy as np
import xarray as xr
from scipy import special, stats
from scipy.stats import qmc

from .. import checks
from ..designs import open_unit
from ._common import Evaluator, positive_int, probability, result_dataset
from .form import form

if TYPE_CHECKING:
    from .._types import SeedLike
    from ..execution.batch import Backend
    from .limit_state import AnyLimitState

__all__ = ["MC_DESIGNS", "MIN_FAILURES", "importance_sampling", "monte_carlo"]

MC_DESIGNS = ("mc", "sobol")
MIN_FAILURES = 10
"""Failures :func:`monte_carlo` requires before it tests the estimated CoV against ``target_cov``."""


def monte_carlo(
    ls: AnyLimitState,
    *,
    target_cov: float | None = 0.1,
    max_runs: int = 1_000_000,
    batch: int = 10_000,
    design: str = "mc",
    n_replicates: int = 8,
    min_failures: int = MIN_FAILURES,
    confidence: float = 0.95,
    rng: SeedLike = None,
    backend: Backend | None = None,
) -> xr.Dataset:
    """Crude Monte Carlo (or randomised QMC) estimate of Pf, stopped at a target coefficient of variation.

    Parameters
    ----------
    ls : LimitState, SeriesSystem or ParallelSystem
    target_cov : float or None
        Stop when the estimated CoV of ``pf`` is at most this, once at least ``min_failures`` failures
        were seen (the stopping rule below). None: a fixed budget, exactly ``max_runs`` runs (rounded
        up to whole rounds for "sobol").
    max_runs : int
        Stop anyway after this many model runs (``converged`` and ``attrs["target_met"]`` are then
        false, and a ``RuntimeWarning`` says so).
    batch : int
        Model runs per round (one vectorised model call).
    design : {"mc", "sobol"}
        "mc": independent standard normals; the CoV is binomial, ``sqrt((1 − p)/(n p))``, and the
        interval is Clopper–Pearson. "sobol": ``n_replicates`` independently Owen-scrambled Sobol'
        sequences (scipy.stats.qmc) mapped by Φ⁻¹; the standard error is the spread of the replicate
        estimates, and the interval a Student-t interval on them.
    n_replicates : int
        Number of independent scramblings for "sobol" (at least 2).
    min_failures : int
        Failures required before the CoV is tested (default 10). An estimated CoV rests on the failures
        seen: with very few, ``sqrt((1 − p)/(n p))`` is itself so uncertain that stopping on it
        favours runs that were lucky early (a low CoV from an overestimated Pf), which biases Pf upwards.
    confidence : float
        Level of the interval ``[pf_low, pf_high]``.
    rng : seed or Generator
    backend : execution backend, optional
        Where the model runs (:mod:`uqbridge.execution.backends`: a process pool or Dask spreads each round's
        runs over the workers); the same ``rng`` gives the same numbers on every backend.

    Returns
    -------
    xarray.Dataset
        ``pf``, ``pf_se``, ``cov``, ``pf_low``, ``pf_high``, ``beta``, ``n_runs``, ``n_failures``,
        ``converged`` and the convergence history ``history_runs``/``history_pf``/``history_se``
        (dim ``iteration``). ``attrs["stopping_rule"]`` states the rule, ``attrs["target_cov"]`` and
        ``attrs["target_met"]`` whether it was met.

    Notes
    -----
    Stopping rule (sequential, tested after each round of ``batch`` runs, as OpenTURNS'
    ``setMaximumCoefficientOfVariation``): stop at the first round after which at least
    ``min_failures`` failures have been seen and ``pf_se ≤ target_cov · pf``, or when the next round
    would exceed ``max_runs``. Stopping on the estimated CoV amounts to stopping near the k-th failure,
    ``k ≈ (1 − pf)/target_cov²``, which biases ``pf`` upwards by about ``1/(k − 1) ≈ target_cov²``
    relative (inverse binomial sampling; Haldane 1945, Nature 155), i.e. about ``target_cov`` standard
    errors: 1 % at CoV 0.1, measured +7.8 ± 2.6 % at CoV 0.3 over 200 seeds
    (``benchmarks/target_cov.py``); ``min_failures`` caps it near 11 % for loose targets.

    Examples
    --------
    >>> from uqbridge.reliability.problems import linear
    >>> r = monte_carlo(linear(2.0).limit_state, target_cov=0.1, rng=1)
    >>> bool(r.converged), bool(abs(float(r.pf) - 0.02275) < 4 * float(r.pf_se))
    (True, True)
    >>> bool(r.attrs["target_met"]), float(r.cov) <= 0.1
    (True, True)
    """
    started = time.perf_counter()
    ev = Evaluator(ls, "monte_carlo", backend)
    if target_cov is not None:
        target_cov = probability(target_cov, "target_cov", "monte_carlo", high=math.inf)
    max_runs = positive_int(max_runs, "max_runs", "monte_carlo")
    batch = positive_int(batch, "batch", "monte_carlo")
    min_failures = positive_int(min_failures, "min_failures", "monte_carlo")
    confidence = probability(confidence, "confidence", "monte_carlo")
    if design not in MC_DESIGNS:
        raise ValueError(f"monte_carlo: design must be one of {MC_DESIGNS}, got {design!r}")
    generator = checks.generator(rng, "monte_carlo: rng")

    def done(failures: float, pf: float, se: float) -> bool:
        return target_cov is not None and failures >= min_failures and se <= target_cov * pf

    if design == "mc":
        history, failures, low, high, interval, extra = _crude_rounds(ev, generator, done, max_runs, batch, confidence)
    else:
        n_replicates = positive_int(n_replicates, "n_replicates", "monte_carlo", minimum=2)
        history, failures, low, high, interval = _sobol_rounds(ev, generator, done, max_runs, batch, n_replicates,
                                                               confidence)
        extra = {"n_replicates": n_replicates}

    pf, se = history[-1][1], history[-1][2]
    target_met = done(failures, pf, se)
    converged = target_met or target_cov is None
    rule = (f"fixed budget of max_runs={max_runs} runs" if target_cov is None else
            f"sequential: stop after the first round of {batch} runs with at least {min_failures} failures and "
            f"CoV = pf_se/pf <= {target_cov}, or at max_runs={max_runs}")
    warning = ""
    if not converged:
        warning = (f"target CoV {target_cov} not reached within max_runs={max_runs} (CoV {se / pf:.3g}, "
                   if failures else f"target CoV {target_cov} not reached within max_runs={max_runs} (no failure, ")
        warning += f"{failures} failures; {min_failures} needed before the CoV is tested)"
        warnings.warn(f"monte_carlo: {warning}; raise max_runs or relax target_cov", RuntimeWarning, stacklevel=2)
    runs, pfs, ses = (np.array(v) for v in zip(*history))
    return result_dataset(
        ev, "monte_carlo", pf=pf, pf_se=se, pf_low=low, pf_high=high, confidence=confidence, seed=rng,
        started=started, converged=converged, reliable=True, warning=warning,
        variables={
            "n_failures": ((), failures),
            "history_runs": ("iteration", runs.astype(int)),
            "history_pf": ("iteration", pfs),
            "history_se": ("iteration", ses),
        },
        design=design, target_cov=math.nan if target_cov is None else target_cov, target_met=bool(target_met),
        stopping_rule=rule, min_failures=min_failures, interval=interval, **extra,
    )


def _crude_rounds(ev: Evaluator, generator: np.random.Generator, done: Callable[[float, float, float], bool], max_runs: int, batch: int,
                  confidence: float) -> tuple[list[tuple[int, float, float]], int, float, float, str, dict[str, Any]]:
    """Rounds of independent standard normals until ``done(failures, pf, se)`` or ``max_runs``."""
    history: list[tuple[int, float, float]] = []
    extra: dict[str, Any] = {}
    n = failures = 0
    while True:
        m = min(batch, max_runs - ev.n_runs)
        g = ev(generator.standard_normal((m, ev.dim)), finite=False)
        ev.require_some_success(g)
        n += int(np.count_nonzero(np.isfinite(g)))  # failed runs are left out (and reported)
        failures += int(np.count_nonzero(g <= 0))
        pf = failures / max(n, 1)
        se = math.sqrt(pf * (1 - pf) / max(n, 1))
        history.append((ev.n_runs, pf, se))
        if done(failures, pf, se) or ev.n_runs >= max_runs:
            break
    ci = stats.binomtest(failures, n).proportion_ci(confidence, method="exact")
    if ev.n_failed:
        # what the failed runs could change: all safe ... all failures
        bounds = (failures / (n + ev.n_failed), (failures + ev.n_failed) / (n + ev.n_failed))
        extra["pf_if_failed_runs_safe"], extra["pf_if_failed_runs_fail"] = bounds
    return history, failures, float(ci.low), float(ci.high), "Clopper-Pearson (exact binomial)", extra


def _sobol_rounds(ev: Evaluator, generator: np.random.Generator, done: Callable[[float, float, float], bool], max_runs: int, batch: int,
                  n_replicates: int, confidence: float) -> tuple[list[tuple[int, float, float]], int, float, float, str]:
    """Rounds of ``n_replicates`` independently scrambled Sobol' sequences; SE from their spread."""
    d = ev.dim
    engines = [qmc.Sobol(d, scramble=True, rng=child) for child in generator.spawn(n_replicates)]
    # powers of two keep the Sobol' balance properties of each replicate
    per_round = 2 ** max(0, math.ceil(math.log2(max(batch // n_replicates, 1))))
    counts = np.zeros(n_replicates)
    n_each = np.zeros(n_replicates)
    history: list[tuple[int, float, float]] = []
    while True:
        if ev.n_runs + n_replicates * per_round > max_runs and history:
            break
        pts = np.concatenate([e.random(per_round) for e in engines])
        pts = open_unit(pts)
        g = ev(special.ndtri(pts), finite=False).reshape(n_replicates, per_round)
        ev.require_some_success(g)
        counts += np.count_nonzero(g <= 0, axis=1)
        n_each = n_each + np.count_nonzero(np.isfinite(g), axis=1)  # failed runs left out, reported
        estimates = counts / np.maximum(n_each, 1)
        pf = float(estimates.mean())
        se = float(estimates.std(ddof=1) / math.sqrt(n_replicates))
        history.append((ev.n_runs, pf, se))
        if done(counts.sum(), pf, se) or ev.n_runs >= max_runs:
            break
    half = float(stats.t.ppf(0.5 + confidence / 2, n_replicates - 1)) * se
    interval = f"Student-t over {n_replicates} scrambled Sobol' replicates"
    return history, int(counts.sum()), max(pf - half, 0.0), min(pf + half, 1.0), interval


def importance_sampling(
    ls: AnyLimitState,
    *,
    n: int = 1000,
    form_result: xr.Dataset | None = None,
    target_cov: float | None = None,
    batch: int | None = None,
    defensive: float = 0.1,
    adapt: bool = True,
    max_cov: float = 0.035,
    confidence: float = 0.95,
    control_variate: bool = True,
    rng: SeedLike = None,
    backend: Backend | None = None,
    form_options: Mapping[str, Any] | None = None,
) -> xr.Dataset:
    """Adaptive multiple importance sampling around all FORM design points, with a defensive part.

    Parameters
    ----------
    ls : LimitState, SeriesSystem or ParallelSystem
    n : int
        Maximum number of sampling runs (FORM runs come on top and are counted in ``n_runs``).
    form_result : Dataset, optional
        A :func:`form` result; by default FORM is run (with ``form_options`` and its own stream
        spawned from ``rng``). The first density is
        the mixture of unit normals centred at all design points it found (``design_points_u``),
        weighted by Φ(−β_k), plus the defensive component.
    target_cov : float, optional
        Stop early once the estimated CoV is at most this.
    batch : int, optional
        Runs per round (default ``n // 5``); the density is adapted after each round.
    defensive : float
        Weight of the standard normal N(0, I) in every mixture (Hesterberg 1995): the weights
        φ/q stay below ``1/defensive``, and the density keeps sampling the whole space, so a
        failure region no design point announced can still be found. 0 switches it off.
    adapt : bool
        Cross-entropy update of the mixture after each round (Rubinstein & Kroese 2004; Kurtz &
        Song 2013, Struct. Saf. 42): each component moves to the weighted mean and covariance of the
        failure samples it is responsible for, and failure samples no component explains (drawn from
        the defensive part) start a new component. Before any failure is seen, the failure event is
        relaxed to ``g ≤`` the 10 % quantile of g (multilevel CE), so a wrong or missing FORM design
        point does not trap the density.
    max_cov : float
        The result is marked unreliable above this CoV.
    confidence : float
        Level of the normal-approximation interval ``pf ± z·pf_se`` (clipped to [0, 1]).
    control_variate : bool
        Use FORM's tangent half-spaces ``{α_k·u ≥ β_k}`` at the design points as control variates:
        their probabilities Φ(−β_k) are known exactly, so only the difference between the limit state
        and its linearisation is estimated by sampling (multiple control variates with least-squares
        coefficients; Owen 2013, *Monte Carlo theory, methods and examples*, §8.9 and §9.9). Unbiased
        up to O(1/n) from the estimated coefficients; on a nearly linear limit state it needs a few
        hundred runs where plain importance sampling needs thousands for the same CoV.
    rng : seed or Generator
    backend : execution backend, optional
        Where the model runs, for the sampling and for FORM (see :func:`monte_carlo`).
    form_options : mapping, optional
        Options of :func:`form` when ``form_result`` is not given (e.g. ``{"n_starts": 3}``).

    Returns
    -------
    xarray.Dataset
        As :func:`monte_carlo`, plus the final mixture ``centres``/``centre_weight`` (dims ``centre``,
        ``input``), ``ess`` (effective sample size of the failure-sample weights) and
        ``mean_weight`` (the mean of φ/q over all samples, 1 in expectation).

    Notes
    -----
    All rounds are pooled with the balance heuristic (deterministic mixture weights,
    ``q̄ = Σ_s (n_s/N) q_s``; Veach & Guibas 1995, Owen & Zhou 2000):
    ``pf = mean(1[g ≤ 0] φ/q̄)``, or ``1 − mean(1[g > 0] φ/q̄)`` when that estimate exceeds ½
    (both are unbiased; the complement has the smaller variance for Pf > ½). ``pf_se`` is the
    sample standard deviation over √N. Unreliable (``attrs["reason"]``) when the CoV exceeds
    ``max_cov``, fewer than 20 failure samples carry the estimate (effective sample size), the mean
    weight is more than 4 standard errors from 1 (the density misses part of the space), no failure
    was seen, or FORM's exploratory check found failure regions it could not explain.

    Examples
    --------
    >>> from uqbridge.reliability.problems import linear
    >>> p = linear(4.75)
    >>> r = importance_sampling(p.limit_state, n=1000, rng=0)
    >>> bool(float(r.cov) < 0.1), bool(abs(float(r.pf) - p.pf) < 4 * float(r.pf_se))
    (True, True)
    """
    started = time.perf_counter()
    ev = Evaluator(ls, "importance_sampling", backend)
    n = positive_int(n, "n", "importance_sampling", minimum=2)
    batch = max(n // 5, 1) if batch is None else positive_int(batch, "batch", "importance_sampling")
    confidence = probability(confidence, "confidence", "importance_sampling")
    max_cov = probability(max_cov, "max_cov", "importance_sampling", high=math.inf)
    if target_cov is not None:
        target_cov = probability(target_cov, "target_cov", "importance_sampling", high=math.inf)
    if isinstance(defensive, bool) or not isinstance(defensive, (int, float)) or not 0 <= defensive < 1:
        raise ValueError(f"importance_sampling: defensive must be a weight in [0, 1), got {defensive!r}")
    generator = checks.generator(rng, "importance_sampling: rng")
    if form_result is None:
        form_result = form(ls, backend=backend, rng=generator.spawn(1)[0], **dict(form_options or {}))
    elif form_options:
        raise TypeError(f"importance_sampling: FORM options {sorted(form_options)} given together with form_result; give one")
    if not isinstance(form_result, xr.Dataset) or form_result.attrs.get("method") != "form":
        raise TypeError("importance_sampling: form_result must be the Dataset returned by uqbridge.reliability.form")
    ev.n_runs = int(form_result.n_runs)
    d = ev.dim
    centres = np.atleast_2d(form_result.design_points_u.values)
    if centres.size == 0:
        centres = form_result.design_point_u.values[None, :]
        betas = np.array([float(form_result.beta)])
    else:
        betas = form_result.point_beta.values
    if centres.shape[1] != d:
        raise ValueError(f"importance_sampling: form_result has {centres.shape[1]} inputs, the limit state {d}")
    if not np.all(np.isfinite(centres)):
        centres, betas = np.zeros((1, d)), np.zeros(1)
    planes = _tangent_planes(centres, betas)
    log_w = special.log_ndtr(-betas)
    mixture = _Mixture(np.exp(log_w - special.logsumexp(log_w)), centres, np.broadcast_to(np.eye(d), (len(centres), d, d)).copy(),
                       defensive)

    stages: list[_Mixture] = []
    sizes: list[int] = []
    U, G = np.empty((0, d)), np.empty(0)
    history: list[tuple[int, float, float]] = []
    n_new_components = 0
    while len(G) < n:
        m = min(batch, n - len(G))
        u = mixture.sample(m, generator)
        g = ev(u, finite=False)
        ev.require_some_success(g)
        stages.append(mixture)
        sizes.append(m)
        U, G = np.concatenate([U, u]), np.concatenate([G, g])
        # balance heuristic over all rounds so far
        log_qbar = special.logsumexp(np.stack([s.logpdf(U) for s in stages]), axis=0,
                                     b=(np.array(sizes) / len(G))[:, None])
        log_w = -0.5 * (U**2).sum(1) - 0.5 * d * math.log(2 * math.pi) - log_qbar
        ok = np.isfinite(G)  # failed runs are left out of the estimate (and reported)
        pf, se, w = _is_estimate(log_w[ok], G[ok], U[ok], planes if control_variate else None)
        history.append((ev.n_runs, pf, se))
        if target_cov is not None and pf > 0 and se <= target_cov * pf and len(history) > 1:
            break
        if adapt and len(G) < n:
            mixture, added = mixture.cross_entropy(U[ok], G[ok], log_w[ok])
            n_new_components += added

    z = float(special.ndtri(0.5 + confidence / 2))
    fail_w = w[G[ok] <= 0]
    ess = float(fail_w.sum() ** 2 / (fail_w**2).sum()) if fail_w.size and fail_w.sum() > 0 else 0.0
    mean_w = float(w.mean())
    se_w = float(w.std(ddof=1) / math.sqrt(w.size)) if w.size > 1 else math.inf
    cov = se / pf if pf > 0 else math.inf
    converged = bool(pf > 0 and (target_cov is None or cov <= target_cov))
    warn = []
    if pf == 0:
        warn.append("no failure sample: the sampling density may miss the failure domain")
    elif cov > max_cov:
        warn.append(f"CoV {cov:.2f} above max_cov={max_cov}: the estimate is not resolved")
    if 0 < pf and ess < 20:
        warn.append(f"only {ess:.1f} effective failure samples (weight degeneracy)")
    if abs(mean_w - 1) > 4 * se_w and abs(mean_w - 1) > 0.05:
        warn.append(f"mean importance weight {mean_w:.3f} differs from 1 by more than 4 standard errors: "
                    "the density misses part of the space where phi has mass")
    if int(form_result.get("n_explore_failures", 0)) > 0 and n_new_components == 0:
        warn.append("FORM's exploratory sample found failure regions no design point explains, and sampling found none")
    runs, pfs, ses = (np.array(v) for v in zip(*history))
    final_centres = mixture.means
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        return result_dataset(
            ev, "importance_sampling", pf=pf, pf_se=se, pf_low=max(pf - z * se, 0.0), pf_high=min(pf + z * se, 1.0),
            confidence=confidence, seed=rng, started=started, converged=converged,
            reliable=not warn, warning="; ".join(warn),
            variables={
                "centres": (("centre", "input"), final_centres),
                "centre_weight": ("centre", mixture.weights),
                "ess": ((), ess, {"long_name": "effective sample size of the failure-sample weights"}),
                "mean_weight": ((), mean_w, {"long_name": "mean of phi/q over all samples (1 in expectation)"}),
                "n_failures": ((), int(fail_w.size)),
                "history_runs": ("iteration", runs.astype(int)),
                "history_pf": ("iteration", pfs),
                "history_se": ("iteration", ses),
            },
            coords={"input": list(ev.inputs.dimension_names)},
            interval="normal approximation", form_runs=int(form_result.n_runs), defensive=float(defensive),
            adapt=bool(adapt), max_cov=max_cov, new_components=n_new_components,
            target_cov=math.nan if target_cov is None else target_cov,
            target_met=bool(target_cov is not None and pf > 0 and cov <= target_cov),
            stopping_rule=(f"fixed budget of n={n} sampling runs" if target_cov is None else
                           f"sequential: stop after the first round (from the second on) of {batch} runs with "
                           f"CoV = pf_se/pf <= {target_cov}, or at n={n} sampling runs"),
            form_warning=form_result.attrs.get("warning", ""),
        )


def _tangent_planes(centres: np.ndarray, betas: np.ndarray) -> tuple[np.ndarray, np.ndarray] | None:
    """Unit normals α_k and distances β_k of FORM's tangent half-spaces (design points away from the origin)."""
    norms = np.linalg.norm(centres, axis=1)
    keep = np.isfinite(norms) & (norms > 0.1) & np.isfinite(betas)
    if not keep.any():
        return None
    return centres[keep] / norms[keep, None], norms[keep]


def _is_estimate(
    log_w: np.ndarray, g: np.ndarray, u: np.ndarray | None = None, planes: tuple[np.ndarray, np.ndarray] | None = None
) -> tuple[float, float, np.ndarray]:
    """``pf`` and its standard error from log weights; the complement estimator above ½.

    With ``planes`` (unit normals, distances), the indicators of the tangent half-spaces, weighted,
    are control variates with known means Φ(−β_k) (complement: Φ(β_k)).
    """
    w = np.exp(log_w)
    fail = g <= 0
    values = np.where(fail, w, 0.0)
    complement = float(values.mean()) > 0.5
    if complement:
        values = np.where(fail, 0.0, w)
    estimate = float(values.mean())
    se = float(values.std(ddof=1) / math.sqrt(values.size)) if values.size > 1 else math.inf
    if planes is not None and u is not None and values.size > 20:
        estimate, se = _with_controls(values, w, u, planes, complement, estimate, se)
    pf = 1.0 - estimate if complement else estimate
    return min(max(pf, 0.0), 1.0), se, w


def _with_controls(values: np.ndarray, w: np.ndarray, u: np.ndarray, planes: tuple[np.ndarray, np.ndarray],
                   complement: bool, estimate: float, se: float) -> tuple[float, float]:
    """Multiple control variates: ``mean(Y) − c·(mean(C) − μ_C)`` with least-squares ``c``.

    A control with no sample in its half-space carries no information and is dropped.
    """
    alphas, betas = planes
    inside = u @ alphas.T >= betas  # (n, k)
    # The residual's spread is learnt only from samples where the limit state and its linearisation
    # disagree; with fewer than 5 of them its standard error would be an artefact (0 on a plane), so
    # the plain estimate and standard error are kept.
    if np.count_nonzero((values > 0) != (inside.any(axis=1) != complement)) < 5:
        return estimate, se
    if complement:
        controls, means = np.where(inside, 0.0, w[:, None]), special.ndtr(betas)
    else:
        controls, means = np.where(inside, w[:, None], 0.0), special.ndtr(-betas)
    useful = controls.std(axis=0) > 0
    if not useful.any():
        return estimate, se
    controls, means = controls[:, useful], means[useful]
    n, k = controls.shape
    if n <= k + 2:
        return estimate, se
    centred = controls - controls.mean(axis=0)
    coef, *_ = np.linalg.lstsq(centred, values - values.mean(), rcond=None)
    adjusted = values - (controls - means) @ coef
    cv_se = float(adjusted.std(ddof=k + 1) / math.sqrt(n))
    if not np.isfinite(cv_se):
        return estimate, se
    return float(adjusted.mean()), cv_se


class _Mixture:
    """Gaussian mixture in u-space with a fixed-weight defensive N(0, I) component."""

    def __init__(self, weights: np.ndarray, means: np.ndarray, covs: np.ndarray, defensive: float) -> None:
        self.weights, self.means, self.covs, self.defensive = np.asarray(weights, float), means, covs, float(defensive)
        self.chols = np.linalg.cholesky(covs)

    def sample(self, m: int, generator: np.random.Generator) -> np.ndarray:
        d = self.means.shape[1]
        probs = np.concatenate([[self.defensive], (1 - self.defensive) * self.weights])
        which = generator.choice(len(probs), size=m, p=probs / probs.sum())
        z = generator.standard_normal((m, d))
        out = z.copy()
        for k in range(len(self.weights)):
            sel = which == k + 1
            out[sel] = self.means[k] + z[sel] @ self.chols[k].T
        return out

    def component_logpdf(self, u: np.ndarray) -> np.ndarray:
        """log of weight × density of each component (defensive first), shape (n, K + 1)."""
        d = u.shape[1]
        cols = [np.log(self.defensive) - 0.5 * (u**2).sum(1) - 0.5 * d * math.log(2 * math.pi)] if self.defensive > 0 else []
        for k in range(len(self.weights)):
            z = np.linalg.solve(self.chols[k], (u - self.means[k]).T).T
            logdet = np.log(np.diag(self.chols[k])).sum()
            cols.append(np.log((1 - self.defensive) * self.weights[k]) - 0.5 * (z**2).sum(1) - logdet
                        - 0.5 * d * math.log(2 * math.pi))
        return np.column_stack(cols)

    def logpdf(self, u: np.ndarray) -> np.ndarray:
        return special.logsumexp(self.component_logpdf(u), axis=1)

    def cross_entropy(self, u: np.ndarray, g: np.ndarray, log_w: np.ndarray) -> tuple[_Mixture, int]:
        """One weighted EM step of the cross-entropy method on the (relaxed) failure event."""
        d = u.shape[1]
        level = max(0.0, float(np.quantile(g, 0.1)))
        elite = g <= level
        if elite.sum() < 2:
            return self, 0
        ue, lw = u[elite], log_w[elite]
        we = np.exp(lw - lw.max())
        comp = self.component_logpdf(ue)
        resp = np.exp(comp - special.logsumexp(comp, axis=1, keepdims=True))
        offset = 1 if self.defensive > 0 else 0
        means, covs, weights = [], [], []
        for k in range(len(self.weights)):
            r = we * resp[:, offset + k]
            if r.sum() <= 1e-12 * we.sum() or (r > 0).sum() < 2:
                continue
            means.append(r @ ue / r.sum())
            covs.append(_shrunk_cov(ue, means[-1], r))
            weights.append(r.sum())
        added = 0
        if offset:
            r = we * resp[:, 0]
            # failure samples mostly explained by the defensive part only: a region no centre covers
            if r.sum() > 0.2 * we.sum() and (resp[:, 0] > 0.5).sum() >= 2:
                sel = resp[:, 0] > 0.5
                mean = (we[sel] @ ue[sel]) / we[sel].sum()
                if not any(np.linalg.norm(mean - m) < 0.5 for m in means):
                    means.append(mean)
                    covs.append(np.eye(d))
                    weights.append(r.sum())
                    added = 1
        if not means:
            return self, 0
        weights_arr = np.array(weights) / np.sum(weights)
        return _Mixture(weights_arr, np.array(means), np.array(covs), self.defensive), added


def _shrunk_cov(u: np.ndarray, mean: np.ndarray, r: np.ndarray) -> np.ndarray:
    """Weighted covariance shrunk towards I, eigenvalues kept in [1, 4]: a component no narrower than
    φ in any direction keeps φ/q bounded (a narrower one, as plain cross-entropy fits in high
    dimension, misses the tails of the failure domain and underestimates Pf with a small CoV)."""
    d = u.shape[1]
    diff = u - mean
    cov = (r[:, None] * diff).T @ diff / r.sum()
    ess = r.sum() ** 2 / (r**2).sum()
    shrink = min(1.0, d / max(ess, 1.0))
    cov = (1 - shrink) * cov + shrink * np.eye(d)
    vals, vecs = np.linalg.eigh(0.5 * (cov + cov.T))
    return (vecs * np.clip(vals, 1.0, 4.0)) @ vecs.T
