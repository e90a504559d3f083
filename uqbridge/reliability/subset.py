"""Subset simulation: Pf as a product of conditional probabilities of nested intermediate failure
events, sampled by adaptive conditional sampling (Papaioannou et al. 2015) in standard-normal space."""

from __future__ import annotations

import math
import time
import warnings
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import xarray as xr
from scipy import special

from .. import checks
from ._common import Evaluator, positive_int, probability, result_dataset

if TYPE_CHECKING:
    from .._types import SeedLike
    from ..execution.batch import Backend
    from .limit_state import AnyLimitState

__all__ = ["subset_simulation"]


def subset_simulation(
    ls: AnyLimitState,
    *,
    n_per_level: int = 1000,
    p0: float = 0.1,
    max_levels: int = 20,
    target_acceptance: float = 0.44,
    max_cov: float = 0.035,
    target_cov: float | None = None,
    max_runs: int = 1_000_000,
    confidence: float = 0.95,
    rng: SeedLike = None,
    backend: Backend | None = None,
) -> xr.Dataset:
    """Subset simulation with adaptive conditional sampling (aCS), optionally repeated to a target CoV.

    Parameters
    ----------
    ls : LimitState, SeriesSystem or ParallelSystem
    n_per_level : int
        Samples per level ``N``; ``N·p0`` seeds each start a chain of ``1/p0`` states.
    p0 : float
        Conditional probability of each intermediate level (``N·p0`` and ``1/p0`` must be integers).
    max_levels : int
        At most this many levels (``converged`` is false if the failure domain is not reached).
    target_acceptance : float
        Acceptance rate the conditional-sampling scale is adapted to (0.44, Papaioannou et al.).
    max_cov : float
        The result is marked unreliable when the CoV (its upper bound Σδ_i, see Notes) exceeds this.
    target_cov : float, optional
        Repeat independent subset runs until the CoV of their mean, ``pf_se/pf``, is at most this
        (stopping rule in Notes). None (default): one run.
    max_runs : int
        With ``target_cov``: no further repetition is started when it would, at the average cost of
        the repetitions so far, exceed this many model runs (``attrs["target_met"]`` is then false
        and a ``RuntimeWarning`` says so).
    confidence : float
        Level of the interval, from a lognormal approximation of the estimator with the CoV bound
        ``Σ δ_i``: ``pf·exp(±z·Σδ_i)``.
    rng : seed or Generator
    backend : execution backend, optional
        Where the model runs (see :func:`~uqbridge.reliability.monte_carlo`); each level's chains
        advance together, so every step is one call spread over the workers.

    Returns
    -------
    xarray.Dataset
        The common fields plus, along dim ``level`` (of the first repetition): ``level_threshold`` (b_i),
        ``level_p`` (conditional probability), ``level_cov``, ``level_gamma`` (chain-correlation factor),
        ``level_acceptance``; ``history_runs``/``history_pf``/``history_se`` (running product and its
        standard error after each level, then the pooled estimate after each further repetition, dim
        ``iteration``); ``repetition_pf``/``repetition_se`` (dim ``repetition``). ``attrs["stopping_rule"]``,
        ``attrs["target_cov"]`` and ``attrs["target_met"]`` state when it stopped.

    Notes
    -----
    Conditional sampling: candidate ``v = ρ u + √(1−ρ²) ξ`` component-wise with ``σ_j = √(1−ρ_j²) =
    min(1, λ σ̂_j)`` (σ̂ the seeds' standard deviation), accepted when ``g(v) ≤ b_i``; λ is adapted
    after each step of all chains towards the target acceptance rate (Papaioannou,
    Betz, Zwirglmaier & Straub 2015, Prob. Eng. Mech. 41, Algorithm 2). The CoV of level i is
    ``√((1 − p_i)/(N p_i) (1 + γ_i))`` with γ_i from the indicator correlation along the chains, and
    the CoV of ``pf`` lies between ``√Σ δ_i²`` (levels uncorrelated; ``pf_se``) and ``Σ δ_i`` (fully
    correlated; used for the interval and the ``max_cov`` check) (Au & Beck 2001, Prob. Eng. Mech.
    16, eqs. 24–29). When the failure domain is not reached (a threshold that stops decreasing,
    or ``max_levels``), ``pf`` is the failure fraction of the last level times the product (0 when
    no sample failed), ``pf_high`` the product of the conditional probabilities (an upper estimate),
    and the result is unreliable. Levels whose chains barely move (acceptance < 10 %) or whose
    seeds are few distinct points are reported in the reason.

    Stopping at a target (``target_cov``): after each complete, independent run r (same ``N``, ``p0``;
    draws continue from ``rng``), the pooled estimate is the mean of the runs' ``pf_r`` with standard
    error ``√(Σ se_r²)/R`` (``se_r = pf_r √Σδ_i²``, the Au & Beck CoV with the chain-correlation factor).
    Stop when ``pf_se ≤ target_cov · pf``, when a run does not reach the failure domain, or when the next
    run would exceed ``max_runs``. Pooling leaves the O(1/N) bias of each run (Au & Beck 2001) as it is:
    a target far below that bias needs a larger ``n_per_level`` rather than more repetitions. The interval
    uses the pooled bound ``√(Σ (pf_r Σδ_i)²)/R``.

    Examples
    --------
    >>> from uqbridge.reliability.problems import linear
    >>> p = linear(3.0)
    >>> r = subset_simulation(p.limit_state, n_per_level=500, rng=2)
    >>> bool(abs(float(r.pf) - p.pf) < 4 * float(r.pf_se))
    True
    >>> r = subset_simulation(p.limit_state, n_per_level=500, target_cov=0.15, rng=2)
    >>> bool(r.attrs["target_met"]), bool(float(r.cov) <= 0.15), int(r.sizes["repetition"]) > 1
    (True, True, True)
    """
    started = time.perf_counter()
    ev = Evaluator(ls, "subset_simulation", backend)
    n = positive_int(n_per_level, "n_per_level", "subset_simulation", minimum=10)
    p0 = probability(p0, "p0", "subset_simulation", high=0.5)
    max_levels = positive_int(max_levels, "max_levels", "subset_simulation")
    target_acceptance = probability(target_acceptance, "target_acceptance", "subset_simulation")
    confidence = probability(confidence, "confidence", "subset_simulation")
    max_cov = probability(max_cov, "max_cov", "subset_simulation", high=math.inf)
    if target_cov is not None:
        target_cov = probability(target_cov, "target_cov", "subset_simulation", high=math.inf)
    max_runs = positive_int(max_runs, "max_runs", "subset_simulation")
    n_seeds = n * p0
    chain_length = 1.0 / p0
    if abs(n_seeds - round(n_seeds)) > 1e-9 or abs(chain_length - round(chain_length)) > 1e-9:
        raise ValueError(
            f"subset_simulation: n_per_level*p0 and 1/p0 must be integers, got n_per_level={n}, p0={p0}"
        )
    generator = checks.generator(rng, "subset_simulation: rng")
    shape = (n, int(round(n_seeds)), int(round(chain_length)), max_levels, target_acceptance)
    runs = [_one_run(ev, shape, generator)]
    history = list(runs[0].history)
    pf, se, bound = runs[0].pf, runs[0].se, runs[0].cov_bound
    while (target_cov is not None and runs[-1].converged and not se <= target_cov * pf
           and ev.n_runs + ev.n_runs / len(runs) <= max_runs):
        runs.append(_one_run(ev, shape, generator))
        pf = float(np.mean([r.pf for r in runs]))
        se = math.sqrt(sum(r.se**2 for r in runs)) / len(runs)
        bound = math.sqrt(sum((r.pf * r.cov_bound) ** 2 for r in runs)) / len(runs) / pf if pf > 0 else math.inf
        history.append((ev.n_runs, pf, se))
    converged = all(r.converged for r in runs)
    target_met = bool(target_cov is not None and converged and se <= target_cov * pf)
    z = float(special.ndtri(0.5 + confidence / 2))
    warn: list[str] = list(dict.fromkeys(w for r in runs for w in r.warnings))
    if converged:
        low, high = pf * math.exp(-z * bound), min(pf * math.exp(z * bound), 1.0)
        if bound > max_cov:
            warn.insert(0, f"CoV bound {bound:.2f} (sum over levels) above max_cov={max_cov}")
    else:
        se, low, high = math.nan, 0.0, max(r.upper for r in runs)
        if len(runs) > 1:
            pf = runs[-1].pf  # the run that did not reach the failure domain speaks for itself
    if target_cov is None:
        rule = "one run (no target_cov)"
    else:
        rule = (f"sequential: repeat independent runs of {n} samples per level until the pooled CoV "
                f"pf_se/pf <= {target_cov} (Au & Beck level CoVs with chain correlation, levels uncorrelated), "
                f"a run that does not reach the failure domain, or max_runs={max_runs}")
        if not target_met:
            note = f"target CoV {target_cov} not reached in {len(runs)} repetition(s), {ev.n_runs} runs"
            warnings.warn(f"subset_simulation: {note}; raise max_runs or n_per_level", RuntimeWarning, stacklevel=2)
            warn.append(note)
    first = runs[0]
    return result_dataset(
        ev, "subset_simulation", pf=pf, pf_se=se, pf_low=low, pf_high=min(high, 1.0), confidence=confidence,
        seed=rng, started=started, converged=converged, reliable=not warn, warning="; ".join(warn),
        variables={
            "level_threshold": ("level", np.array(first.thresholds)),
            "level_p": ("level", np.array(first.probs)),
            "level_cov": ("level", np.array(first.covs)),
            "level_gamma": ("level", np.array(first.gammas)),
            "level_acceptance": ("level", np.array(first.accepts[: len(first.thresholds)])),
            "history_runs": ("iteration", np.array([h[0] for h in history], int)),
            "history_pf": ("iteration", np.array([h[1] for h in history])),
            "history_se": ("iteration", np.array([h[2] for h in history])),
            "repetition_pf": ("repetition", np.array([r.pf for r in runs])),
            "repetition_se": ("repetition", np.array([r.se for r in runs])),
        },
        interval="lognormal approximation pf*exp(+-z*sum(level CoV))", max_cov=max_cov,
        sampler="adaptive conditional sampling (Papaioannou et al. 2015)", n_per_level=n, p0=p0,
        target_cov=math.nan if target_cov is None else target_cov, target_met=target_met, stopping_rule=rule,
        repetitions=len(runs), cov_bound=bound if converged else math.nan,
    )


@dataclass
class _Run:
    """One subset-simulation run: its estimate, levels and warnings."""

    pf: float
    se: float
    cov_bound: float
    upper: float
    converged: bool
    warnings: list[str]
    thresholds: list[float]
    probs: list[float]
    covs: list[float]
    gammas: list[float]
    accepts: list[float]
    history: list[tuple[int, float, float]]


def _one_run(ev: Evaluator, shape: tuple[int, int, int, int, float], generator: np.random.Generator) -> _Run:
    """Levels from direct Monte Carlo down to the failure domain (or ``max_levels``, or a stuck threshold)."""
    n, n_seeds, chain_length, max_levels, target_acceptance = shape
    d = ev.dim
    u = generator.standard_normal((n, d))
    g = ev(u, finite=False)
    ev.require_some_success(g)
    n_ok = int(np.count_nonzero(np.isfinite(g)))  # a failed run is left out (reported) and never a seed
    if n_ok < n_seeds:
        raise ValueError(
            f"subset_simulation: only {n_ok} of {n} first-level model runs succeeded, fewer than the "
            f"{n_seeds} seeds a level needs (first failure: {ev.first_failure}); fix the model or its inputs"
        )
    g = np.where(np.isfinite(g), g, np.inf)
    chains_g = g.reshape(n, 1)  # level 0: independent samples, one "chain" each
    thresholds: list[float] = []
    probs: list[float] = []
    covs: list[float] = []
    gammas: list[float] = []
    accepts: list[float] = []
    history: list[tuple[int, float, float]] = []
    lam = 0.6
    converged = False
    stuck = ""
    distinct_seeds: list[int] = []
    for level in range(max_levels):
        order = np.argsort(g, kind="stable")
        b = float(g[order[n_seeds - 1]])
        final = b <= 0.0
        if final:
            b = 0.0
        p = float(np.count_nonzero(g <= b) / (n_ok if level == 0 else g.size))
        gamma = 0.0 if level == 0 else _gamma(chains_g <= b, p)
        delta = math.sqrt((1 - p) / (n * p) * (1 + gamma)) if p > 0 else math.inf
        thresholds.append(b)
        probs.append(p)
        covs.append(delta)
        gammas.append(gamma)
        pf = float(np.prod(probs))
        history.append((ev.n_runs, pf, pf * math.sqrt(sum(c * c for c in covs))))
        if final:
            converged = p > 0
            break
        if level > 0 and b >= thresholds[-2]:
            stuck = (f"the intermediate threshold stopped decreasing at level {level} (b = {b:.4g}): g has "
                     "no smaller values reachable here (a flat g, or a limit state that does not fail)")
            break
        if level == max_levels - 1:
            break
        seeds_u, seeds_g = u[order[:n_seeds]], g[order[:n_seeds]]
        distinct_seeds.append(len(np.unique(seeds_g)))
        u, g, chains_g, lam, acc = _conditional_sampling(ev, seeds_u, seeds_g, b, chain_length, lam, target_acceptance, generator)
        accepts.append(acc)

    warn: list[str] = []
    upper = float(np.prod(probs))
    if converged:
        pf, se = history[-1][1], history[-1][2]
    else:
        # the product is P[g <= b_last]; the failures among the last level's samples give the estimate
        finite = g[np.isfinite(g)]
        fraction = float(np.mean(finite <= 0.0)) if finite.size else 0.0
        pf = float(np.prod(probs[:-1])) * fraction if len(probs) > 1 else fraction
        se = math.nan
        warn.append(stuck or f"failure domain not reached in {max_levels} levels; pf_high = {upper:.3g} is an upper estimate")
    slow = [i + 1 for i, a in enumerate(accepts) if a < 0.1]
    if slow:
        warn.append(f"chains nearly stuck at level(s) {slow} (acceptance < 10 %): the conditional samples are strongly correlated")
    few = [i + 1 for i, k in enumerate(distinct_seeds) if k < max(3, n_seeds // 2)]
    if few:
        warn.append(f"few distinct seeds at level(s) {few}: the conditional samples rest on a handful of points")
    return _Run(pf, se, float(sum(covs)), upper, converged, warn, thresholds, probs, covs, gammas,
                [math.nan, *accepts], history)


def _conditional_sampling(
    ev: Evaluator, seeds_u: np.ndarray, seeds_g: np.ndarray, b: float, length: int, lam: float,
    target: float, generator: np.random.Generator,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, float, float]:
    """Grow one chain of ``length`` states from each seed in {g ≤ b}; aCS scale adapted per group."""
    n_seeds, d = seeds_u.shape
    # seeds in random order so that every adaptation group is a fair sample of them
    perm = generator.permutation(n_seeds)
    seeds_u, seeds_g = seeds_u[perm], seeds_g[perm]
    sigma_hat = seeds_u.std(axis=0, ddof=1) if n_seeds > 1 else np.ones(d)
    chains_u = np.empty((n_seeds, length, d))
    chains_g = np.empty((n_seeds, length))
    chains_u[:, 0], chains_g[:, 0] = seeds_u, seeds_g
    accepted_total = 0
    # All chains advance together (one batched model call per step) and λ is adapted after each
    # step, i.e. the adaptation groups of Papaioannou et al. are the N·p0 proposals of one step
    # rather than 10 % of the chains run to their end: same rule, fewer and larger model calls.
    for step in range(1, length):
        sigma = np.minimum(lam * sigma_hat, 1.0)
        rho = np.sqrt(1.0 - sigma**2)
        current_u, current_g = chains_u[:, step - 1], chains_g[:, step - 1]
        cand = rho * current_u + sigma * generator.standard_normal(current_u.shape)
        g_cand = ev(cand, finite=False)
        ok = g_cand <= b  # a failed run (NaN) is a rejected proposal
        chains_u[:, step] = np.where(ok[:, None], cand, current_u)
        chains_g[:, step] = np.where(ok, g_cand, current_g)
        accepted_total += int(ok.sum())
        lam = math.exp(math.log(lam) + (float(ok.mean()) - target) / math.sqrt(step))
    acceptance = accepted_total / (n_seeds * max(length - 1, 1))
    return chains_u.reshape(-1, d), chains_g.reshape(-1), chains_g, lam, acceptance


def _gamma(indicator: np.ndarray, p: float) -> float:
    """Chain-correlation factor γ of Au & Beck (2001), eq. 27, from indicators (chains × states)."""
    n_chains, length = indicator.shape
    n = n_chains * length
    ind = indicator.astype(float)
    r0 = p * (1 - p)
    if r0 <= 0:
        return 0.0
    gamma = 0.0
    for k in range(1, length):
        rk = float((ind[:, :-k] * ind[:, k:]).sum()) / (n - k * n_chains) - p * p
        gamma += 2 * (1 - k / length) * rk / r0
    return max(gamma, 0.0)
