"""Active-learning reliability (AK-MCS): a Gaussian-process surrogate of g, refined a few model runs
at a time where the sign of g is most uncertain, classifies a Monte Carlo population (Echard et al. 2011)."""

from __future__ import annotations

import functools
import math
import time
from typing import TYPE_CHECKING, Any

import numpy as np
import xarray as xr
from scipy import linalg, optimize, special, stats
from scipy.spatial import distance
from scipy.stats import qmc
from threadpoolctl import ThreadpoolController

from ._common import Evaluator, positive_int, probability, result_dataset

if TYPE_CHECKING:
    from .._types import SeedLike
    from ..execution.batch import Backend
    from ..reliability.limit_state import AnyLimitState

__all__ = ["active_learning"]

_CHUNK = 100_000  # candidates per prediction block (bounds memory at ~chunk x training points)
_REFIT_ALWAYS_BELOW = 100  # runs below which the length scales are optimised at every step (cheap there)
_MAX_ACTIVE = 50_000  # candidates re-predicted per step between full passes (bounds a step's cost)


@functools.cache
def _threadpools() -> ThreadpoolController:
    """Built once, lazily (a controller scans the loaded libraries, ~8 ms)."""
    return ThreadpoolController()


def _one_blas_thread(method: Any) -> Any:
    """Run ``method`` (the surrogate's linear algebra) with one BLAS thread.

    Its matrices are small (n ≤ a few hundred runs), where OpenBLAS threads cost more than they give:
    7× on a 150 × 150 Cholesky factor on an idle machine, and far more when other processes hold the
    cores (busy-waiting threads). The results then do not depend on the thread count either. The
    model runs keep the caller's setting."""

    @functools.wraps(method)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        with _threadpools().limit(limits=1, user_api="blas"):
            return method(*args, **kwargs)

    return wrapper


def active_learning(
    ls: AnyLimitState,
    *,
    n_initial: int = 12,
    max_runs: int = 300,
    n_candidates: int = 100_000,
    max_candidates: int = 8_000_000,
    target_cov: float = 0.01,
    u_stop: float = 2.0,
    max_uncertain: float = 0.02,
    batch: int = 2,
    candidates: Any = None,
    confidence: float = 0.95,
    refit_every: int = 5,
    max_surrogate_work: float | None = None,
    rng: SeedLike = None,
    backend: Backend | None = None,
) -> xr.Dataset:
    """AK-MCS: Gaussian-process (Kriging) surrogate with the U learning function.

    Parameters
    ----------
    ls : LimitState, SeriesSystem or ParallelSystem
    n_initial : int
        Initial design: a Latin hypercube over the box spanned by the candidate population.
    max_runs : int
        Budget of model runs (initial design included).
    n_candidates : int
        Size of the first Monte Carlo candidate population in standard-normal space.
    max_candidates : int
        Hard cap on the population (its final size is ``n_candidates`` in the result; a run that
        stops at the cap says so and is unreliable). Once every candidate is classified, a crude
        Monte Carlo population with at least 10 failures is replaced by importance candidates: a
        kernel mixture around the failure candidates (40 % of ``n_candidates``, at least 20 000).
        The population is then enlarged while the CoV of its estimate exceeds ``target_cov``; the
        new candidates are checked and learning resumes where they are uncertain. When the CoV
        would need more than 10× the candidates (learning found failures the density hardly
        covers) the density is rebuilt from the importance stage's failures, at most twice
        (``attrs["importance_rebuilds"]``).
    target_cov : float
        Stop when ``√((1 − p)/(N p)) ≤ target_cov`` over the population, and
    u_stop : float
        when ``min U ≥ u_stop`` with ``U = |μ_g|/σ_g`` (2 in Echard et al.: every candidate's sign is
        right with probability ≥ Φ(2) = 0.977 under the GP), or when
    max_uncertain : float
        the expected misclassified probability, ``Σ w Φ(−U)`` over the candidates with U < u_stop
        (w = 1, or φ/q in the importance stage), is at most this fraction of the estimate (a
        stopping rule on the Pf error in the spirit of Schöbi, Sudret & Marelli 2017, ASCE-ASME J.
        Risk Uncertainty Eng. Syst. A 3(2)). 0.02 by default: on the four-branch system (30 seeds
        each of k = 6 and 7) it ends every run reliable within 134 runs (median 96), worst error
        2.3 %, where 0.01 needs a median of 116 runs and ran out of 150 on 5 of 60 seeds for a
        worst error of 2.0 % (``benchmarks/active_learning.py``).
    batch : int
        Model runs added per learning step: the candidates of smallest U, each at least half a
        correlation length from the others chosen in the step (one vectorised model call).
    candidates : array_like (N, d), optional
        An explicit candidate population in standard-normal space (e.g. to compare with crude
        Monte Carlo on the same points); it is then never enlarged.
    confidence : float
        Level of the Clopper–Pearson interval on the population count.
    refit_every : int
        With 100 runs or more, the Kriging length scales are re-optimised (maximum likelihood) every
        ``refit_every`` learning steps; in between, the new runs update the surrogate with the last
        length scales (one Cholesky factor instead of an optimisation, the cost that dominated with
        hundreds of runs: RP24, RP55, RP57 of the RPrepo set). They are re-optimised sooner when a
        new run surprises the surrogate (``|g − μ| > 3σ``) or the trend changes form. Below 100 runs
        an optimisation is cheap and is done at every step. 1: at every step
        (``attrs["length_scale_fits"]`` counts them, ``attrs["surrogate_fits"]`` all fits).
    max_surrogate_work : float, optional
        Bound on the surrogate's own arithmetic in this call, counted in floating-point operations of
        its kernel evaluations, factorisations and triangular solves (model calls are not counted). A
        count, not a clock: the same seed stops at the same step on any machine and under any load
        (about 1e9 counted operations per CPU second on a current core). When it is spent, learning
        stops and the result is unreliable with the reason (``attrs["surrogate_work"]`` holds the count).
    rng : seed or Generator
    backend : execution backend, optional
        Where the model runs (see :func:`~uqbridge.reliability.monte_carlo`): the initial design
        and the exploratory checks are spread over the workers; same numbers on every backend.

    Returns
    -------
    xarray.Dataset
        The common fields (``pf_se`` and the interval are the Monte Carlo error of the population,
        given the surrogate's classification) plus ``n_candidates``, ``n_uncertain`` (candidates still
        with U < u_stop), ``n_blocked`` (candidates next to a failed run),
        ``pf_surrogate_low``/``pf_surrogate_high`` (Pf if all uncertain candidates were safe /
        failed), the training points ``train_u`` and ``train_g`` (dim ``train``), and the
        history ``history_runs``/``history_pf``/``history_min_u`` (dim ``iteration``). Unreliable
        (``attrs["reason"]``) when the budget ends learning or the population CoV target is not met.

    Notes
    -----
    Echard, Gayton & Lemaire (2011), *AK-MCS: an active learning reliability method combining
    Kriging and Monte Carlo simulation*, Struct. Saf. 33(2):145–154. The surrogate is universal
    Kriging written for this purpose: a linear trend (constant while there are fewer than 2(d + 1)
    runs) plus a zero-mean anisotropic Matérn-5/2 process, its length scales by maximum of the
    concentrated likelihood (the process variance profiled out), warm-started from the previous
    optimisation and redone every ``refit_every`` steps from 100 runs on (see above). A linear g is then learnt exactly after d + 1 runs. σ is computed only for candidates
    with ``|μ| < u_stop·σ_prior`` (the others have ``U ≥ u_stop`` since ``σ ≤ σ_prior``). Between
    full passes over the population (every 10 steps, and before any decision to stop) only the
    candidates with U < 2·u_stop at the last pass are re-predicted, at most 50 000 of them per step
    (every k-th, in turn), which bounds a step's cost when the surrogate is far from learnt. Its
    linear algebra runs on one BLAS thread (faster for these small matrices, and the same numbers
    whatever the machine's thread count); the model runs keep the caller's setting.

    Before stopping, an exploratory check evaluates the model at ``min(max(32, 2d), 64)`` points
    on the sphere of radius ``β(pf) + ½`` in random directions, a quarter at a time; a sign the
    surrogate gets wrong ends the check and learning resumes. A model run that fails (raises or
    returns a non-finite g) is kept in ``train_g`` as NaN and left out of the fit; candidates
    within half a correlation length of it are neither chosen nor waited for (``n_blocked``, in
    the reason, and counted as uncertain in ``pf_surrogate_low``/``pf_surrogate_high``), and the
    result is unreliable.

    Examples
    --------
    >>> from uqbridge.reliability.problems import linear
    >>> p = linear(2.0)
    >>> r = active_learning(p.limit_state, target_cov=0.05, rng=0)
    >>> bool(int(r.n_runs) <= 12 + 32), bool(abs(float(r.pf) - p.pf) < 4 * float(r.pf_se))
    (True, True)
    """
    started = time.perf_counter()
    ev = Evaluator(ls, "active_learning", backend)
    n_initial, max_runs, n_candidates, max_candidates, batch = _counts(n_initial, max_runs, n_candidates, max_candidates, batch)
    target_cov = probability(target_cov, "target_cov", "active_learning", high=math.inf)
    max_uncertain = probability(max_uncertain, "max_uncertain", "active_learning", low=-1e-300, high=1.0)
    u_stop = probability(u_stop, "u_stop", "active_learning", high=math.inf)
    confidence = probability(confidence, "confidence", "active_learning")
    refit_every = positive_int(refit_every, "refit_every", "active_learning")
    if max_surrogate_work is not None:
        max_surrogate_work = probability(max_surrogate_work, "max_surrogate_work", "active_learning", high=math.inf)
    generator = np.random.default_rng(rng)
    d = ev.dim

    population, fixed = _first_population(candidates, n_candidates, d, generator)
    # A Latin hypercube over the box spanned by the population, rather than population points
    # (Echard et al.): points far in the tails give the GP a chance to see a remote failure domain.
    half_width = np.abs(population).max(axis=0)
    train_u = (2 * qmc.LatinHypercube(d, rng=generator).random(n_initial) - 1) * half_width
    train_g = ev(train_u, finite=False)
    ev.require_some_success(train_g)
    gp = _Kriging(d)
    history: list[tuple[int, float, float]] = []
    converged = False
    # Between full passes over the population only the "active" candidates (U < 2 u_stop at the last
    # full pass) are re-predicted: adding runs near the boundary changes the GP little far from it.
    # Every decision to stop or enlarge is verified by a full pass with the current GP.
    mu_all = u_all = np.empty(0)
    weights = np.ones(population.shape[0])
    active = np.empty(0, dtype=int)
    fitted_on, steps_since_full, full = -1, 0, True
    stage, sampler, rebuilt = "monte carlo", None, 0
    explored, explore_note, limit_note = 0, "", ""
    n_explore = min(max(32, 2 * d), 64)
    while True:
        if fitted_on != len(train_g):
            ok = np.isfinite(train_g)  # failed runs are left out of the fit (and reported)
            gp.fit(train_u[ok], train_g[ok], refit_every)
            fitted_on = len(train_g)
        if full or steps_since_full >= 10:
            mu_all, u_all = gp.u_function(population, u_stop, full=True)
            part = active = np.flatnonzero(u_all < 2 * u_stop)
            verified, steps_since_full = True, 0
        else:
            part = _share(active, steps_since_full)
            mu_all[part], u_all[part] = gp.u_function(population[part], u_stop, full=True)
            verified = False
        full = False
        n_pop = population.shape[0]
        fail = mu_all <= 0
        values = np.where(fail, weights, 0.0)
        pf = float(values.mean())
        se = float(values.std(ddof=1) / math.sqrt(n_pop)) if n_pop > 1 else math.inf
        failures = int(np.count_nonzero(fail))
        # candidates next to a failed run: the model cannot tell their sign, so they are neither
        # learnt from nor waited for; they keep the surrogate's sign and are reported (n_blocked)
        blocked = _near(population, train_u[~np.isfinite(train_g)], 0.5 * float(np.min(gp.length)))
        min_u = float(u_all[~blocked].min()) if not blocked.all() else math.inf
        unc = (u_all < u_stop) & ~blocked
        history.append((ev.n_runs, pf, min_u))
        # expected share of misclassified probability mass: Φ(−U) per candidate under the GP
        doubt = float((weights[unc] * special.ndtr(-u_all[unc])).sum())
        learnt = min_u >= u_stop or (failures > 0 and doubt <= max_uncertain * float(weights[fail].sum()))
        if learnt and not verified:
            full = True
            continue
        if learnt and explored < 2:
            # exploratory check with real runs: points on the sphere of radius β(pf) + ½ in random
            # directions; a sign the surrogate gets wrong reveals a failure region it has not seen.
            # Evaluated a quarter at a time: the first wrong sign ends the check (learning resumes
            # and a new check follows), so a failed check costs fewer runs; a passed one costs all.
            if max_runs - ev.n_runs < n_explore:
                explore_note = f"exploratory check skipped (only {max_runs - ev.n_runs} runs left of max_runs={max_runs})"
                explored = 2
            else:
                train_u, train_g, explore_note = _exploratory_check(ev, gp, pf, n_explore, generator, train_u, train_g)
                explored += 1
                if explore_note:
                    explored = 0 if explored < 2 else explored
                    full = True
                    continue
                explored = 2
        if learnt:
            cov = se / pf if pf > 0 else math.inf
            if cov <= target_cov:
                converged = True
                break
            if fixed or n_pop >= max_candidates or (limit_note := _work_note(gp, max_surrogate_work)):
                break
            need = (cov / target_cov) ** 2 * n_pop
            rebuild = stage == "importance" and need > 10 * n_pop and rebuilt < 2
            if (stage == "monte carlo" and failures >= 10) or rebuild:
                # the learnt failure candidates shape an importance density on the surrogate: a
                # kernel mixture around them with a defensive N(0, I) share (candidates that are
                # not crude Monte Carlo, so the CoV target needs far fewer of them). Rebuilt from
                # the importance stage's failures (resampled by weight) when learning there found
                # failures the density hardly covers: the CoV would need > 10x the candidates.
                rebuilt += rebuild
                sampler = _KernelMixture(population[fail], generator, weights[fail] if rebuild else None)
                stage = "importance"
                population = sampler.sample(min(max(4 * n_candidates // 10, 20_000), max_candidates), generator)
                weights = sampler.weight(population)
                full = True
                continue
            extra = int(min(max(need - n_pop, n_pop), max_candidates - n_pop))
            population, weights, mu_all, u_all = _enlarged(population, weights, mu_all, u_all, extra, sampler, gp,
                                                           u_stop, generator)
            active = np.flatnonzero(u_all < 2 * u_stop)
            continue
        if ev.n_runs >= max_runs or (limit_note := _work_note(gp, max_surrogate_work)):
            break
        steps_since_full += 1
        chosen = _next_points(part, blocked, u_all, weights, population, stage, min(batch, max_runs - ev.n_runs), gp)
        train_u = np.concatenate([train_u, population[chosen]])
        train_g = np.concatenate([train_g, ev(population[chosen], finite=False)])

    return _result(ev, rng, started, confidence, population, weights, mu_all, u_all, train_u, train_g, gp, history,
                   converged=converged, learnt=learnt, stage=stage, rebuilt=rebuilt, pf=pf, se=se, failures=failures,
                   explore_note=explore_note, limit_note=limit_note, max_runs=max_runs, max_candidates=max_candidates, target_cov=target_cov,
                   u_stop=u_stop, batch=batch, max_uncertain=max_uncertain)


def _counts(n_initial: Any, max_runs: Any, n_candidates: Any, max_candidates: Any, batch: Any) -> tuple[int, int, int, int, int]:
    """The integer options, checked against each other."""
    n_initial = positive_int(n_initial, "n_initial", "active_learning", minimum=2)
    max_runs = positive_int(max_runs, "max_runs", "active_learning", minimum=n_initial)
    n_candidates = positive_int(n_candidates, "n_candidates", "active_learning", minimum=100)
    max_candidates = positive_int(max_candidates, "max_candidates", "active_learning", minimum=n_candidates)
    return n_initial, max_runs, n_candidates, max_candidates, positive_int(batch, "batch", "active_learning")


def _share(active: np.ndarray, step: int) -> np.ndarray:
    """The active candidates re-predicted at this step: all of them, or when there are more than
    ``_MAX_ACTIVE`` (a surrogate still far from learnt) every k-th one, offset by the step so that
    successive steps visit different ones. The next runs are chosen among them; the others keep their
    last U until they are visited or the next full pass."""
    if active.size <= _MAX_ACTIVE:
        return active
    stride = -(-active.size // _MAX_ACTIVE)
    return active[step % stride :: stride]


def _work_note(gp: _Kriging, max_surrogate_work: float | None) -> str:
    """Why learning stops when the surrogate's work bound is spent ("" while it is not)."""
    if max_surrogate_work is None or gp.work <= max_surrogate_work:
        return ""
    return (f"surrogate stopped after {gp.work:.3g} counted operations (max_surrogate_work={max_surrogate_work:.3g}): "
            "the Kriging model did not classify the candidates within its share of work")


def _next_points(active: np.ndarray, blocked: np.ndarray, u_value: np.ndarray, weights: np.ndarray,
                 population: np.ndarray, stage: str, k: int, gp: Any) -> np.ndarray:
    """Indices of the ``k`` candidates to run next: smallest U among the active, unblocked ones, spread out.

    In the importance stage U is weighted by the density ratio: a doubtful candidate counts as much as
    the probability it carries.
    """
    pool = active[~blocked[active]]
    if not pool.size:
        pool = np.flatnonzero(~blocked)
    score = u_value[pool] / np.sqrt(np.maximum(weights[pool], 1e-300)) if stage == "importance" else u_value[pool]
    return pool[_pick(population[pool], score, k, 0.5 * float(np.min(gp.length)))]


def _first_population(candidates: Any, n_candidates: int, d: int,
                      generator: np.random.Generator) -> tuple[np.ndarray, bool]:
    """Crude Monte Carlo candidates in standard-normal space, or the user's (then ``fixed``: never enlarged)."""
    if candidates is None:
        return generator.standard_normal((n_candidates, d)), False
    population = np.asarray(candidates, dtype=float)
    if population.ndim != 2 or population.shape[1] != d or population.shape[0] < 100:
        raise ValueError(
            f"active_learning: candidates must be an array of shape (N >= 100, {d}), got shape {population.shape}"
        )
    return population, True


def _enlarged(population: np.ndarray, weights: np.ndarray, mu: np.ndarray, u_value: np.ndarray, extra: int,
              sampler: Any, gp: Any, u_stop: float,
              generator: np.random.Generator) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """``extra`` more candidates from the current density (crude or importance), classified by the surrogate."""
    d = population.shape[1]
    new = sampler.sample(extra, generator) if sampler else generator.standard_normal((extra, d))
    mu_new, u_new = gp.u_function(new, u_stop, full=True)
    return (np.concatenate([population, new]), np.concatenate([weights, sampler.weight(new) if sampler else np.ones(extra)]),
            np.concatenate([mu, mu_new]), np.concatenate([u_value, u_new]))


def _exploratory_check(ev: Evaluator, gp: Any, pf: float, n_explore: int, generator: np.random.Generator,
                       train_u: np.ndarray, train_g: np.ndarray) -> tuple[np.ndarray, np.ndarray, str]:
    """Real runs on the sphere of radius β(pf) + ½ in random directions; a sign the surrogate gets wrong
    reveals a failure region it has not seen.

    Evaluated a quarter at a time: the first wrong sign ends the check (learning resumes and a new check
    follows), so a failed check costs fewer runs; a passed one costs all. Returns the enlarged training
    set and a note ("" when every sign was right).
    """
    d = train_u.shape[1]
    v = generator.standard_normal((n_explore, d))
    radius = max(float(-stats.norm.ppf(min(max(pf, 1e-300), 0.5))), 1.0) + 0.5
    v *= radius / np.linalg.norm(v, axis=1, keepdims=True)
    wrong = done = 0
    for part in np.array_split(v, 4):
        g_x = ev(part, finite=False)
        ok = np.isfinite(g_x)
        wrong += int(np.count_nonzero((gp.mean(part[ok]) <= 0) != (g_x[ok] <= 0)))
        train_u, train_g = np.concatenate([train_u, part]), np.concatenate([train_g, g_x])
        done += len(part)
        if wrong:
            break
    note = f"{wrong} of {done} exploratory points on the sphere of radius {radius:.2f} misclassified by the surrogate" if wrong else ""
    return train_u, train_g, note


def _result(ev: Evaluator, rng: SeedLike, started: float, confidence: float, population: np.ndarray, weights: np.ndarray,
            mu: np.ndarray, u_value: np.ndarray, train_u: np.ndarray, train_g: np.ndarray, gp: Any,
            history: list[tuple[int, float, float]], *, converged: bool, learnt: bool, stage: str, rebuilt: int,
            pf: float, se: float, failures: int, explore_note: str, limit_note: str, max_runs: int, max_candidates: int,
            target_cov: float, u_stop: float, batch: int, max_uncertain: float) -> xr.Dataset:
    """The AK-MCS result: the population estimate with its interval, what is still uncertain, and why."""
    blocked = _near(population, train_u[~np.isfinite(train_g)], 0.5 * float(np.min(gp.length)))
    uncertain = (u_value < u_stop) & ~blocked
    n_pop = population.shape[0]
    if stage == "monte carlo":
        se = math.sqrt(pf * (1 - pf) / n_pop)
        ci = stats.binomtest(failures, n_pop).proportion_ci(confidence, method="exact")
        low, high = float(ci.low), float(ci.high)
    else:
        z = float(stats.norm.ppf(0.5 + confidence / 2))
        low, high = max(pf - z * se, 0.0), min(pf + z * se, 1.0)
    runs, pfs, min_us = (np.array(v) for v in zip(*history))
    reason = ""
    if not converged:
        reason = limit_note or (f"stopped at the budget max_runs={max_runs} with {int(uncertain.sum())} candidates still uncertain "
                  f"(U < {u_stop})" if not learnt else
                  f"population CoV target {target_cov} not reached within max_candidates={max_candidates}")
    if explore_note:
        reason = "; ".join(r for r in (reason, explore_note) if r)
        converged = False
    if pf > 0 and se / pf > max(target_cov, 0.035):
        reason = "; ".join(r for r in (reason, f"CoV {se / pf:.3f} of the population estimate above {max(target_cov, 0.035)}") if r)
        converged = False
    if blocked.any():
        reason = "; ".join(r for r in (reason, f"{int(blocked.sum())} candidates lie within half a correlation length of a "
                                       "failed run: the surrogate, fitted without the failed runs, classifies them "
                                       "(pf_surrogate_low/high bound what they could change)") if r)
    if pf == 0:
        reason = "; ".join(r for r in (reason, "no candidate classified as failed") if r)
    return result_dataset(
        ev, "active_learning", pf=pf, pf_se=se, pf_low=low, pf_high=high, confidence=confidence,
        seed=rng, started=started, converged=converged, reliable=converged and pf > 0, warning=reason,
        variables={
            "n_candidates": ((), n_pop),
            "n_uncertain": ((), int(uncertain.sum()), {"long_name": f"candidates with U < {u_stop}"}),
            "n_blocked": ((), int(blocked.sum()), {"long_name": "candidates within half a correlation length of a failed run"}),
            "pf_surrogate_low": ((), float(np.mean(weights * ((mu <= 0) & ~uncertain & ~blocked)))),
            "pf_surrogate_high": ((), min(float(np.mean(weights * ((mu <= 0) | uncertain | blocked))), 1.0)),
            "train_u": (("train", "input"), train_u),
            "train_g": ("train", train_g),
            "history_runs": ("iteration", runs.astype(int)),
            "history_pf": ("iteration", pfs),
            "history_min_u": ("iteration", min_us),
        },
        coords={"input": list(ev.inputs.dimension_names)},
        interval=("Clopper-Pearson on the population count" if stage == "monte carlo" else "normal approximation of the importance estimate")
        + " (surrogate classification taken as exact)", candidates_stage=stage,
        surrogate="universal Kriging: linear trend + anisotropic Matern-5/2, ML length scales",
        length_scales=[float(v) for v in gp.length], u_stop=u_stop, target_cov=target_cov, batch=batch,
        max_uncertain=max_uncertain, importance_rebuilds=rebuilt, length_scale_fits=gp.n_fits, surrogate_work=float(gp.work),
        surrogate_fits=gp.n_calls,
    )




class _KernelMixture:
    """Equal-weight normal kernels at (up to 500 of) the failure candidates (drawn ∝ ``weights`` if
    given), bandwidth by Scott's rule, plus a defensive N(0, I) with weight 0.1 (so φ/q ≤ 10)."""

    def __init__(self, points: np.ndarray, generator: np.random.Generator, weights: np.ndarray | None = None) -> None:
        if weights is not None:  # weighted failure points (importance candidates): resample ∝ φ/q
            points = points[generator.choice(len(points), min(len(points), 500), p=weights / weights.sum())]
        elif len(points) > 500:
            points = points[generator.choice(len(points), 500, replace=False)]
        n, d = points.shape
        self.centres = points
        self.h = max(float(points.std(axis=0).mean()) * n ** (-1.0 / (d + 4)), 0.2)
        self.defensive = 0.1

    def sample(self, m: int, generator: np.random.Generator) -> np.ndarray:
        d = self.centres.shape[1]
        z = generator.standard_normal((m, d))
        kernel = generator.random(m) >= self.defensive
        which = generator.integers(len(self.centres), size=m)
        return np.where(kernel[:, None], self.centres[which] + self.h * z, z)

    @_one_blas_thread
    def weight(self, u: np.ndarray) -> np.ndarray:
        """φ(u)/q(u)."""
        d = u.shape[1]
        out = np.empty(len(u))
        for i in range(0, len(u), 20_000):
            block = u[i : i + 20_000]
            sq = distance.cdist(block, self.centres, "sqeuclidean")
            log_k = special.logsumexp(-0.5 * sq / self.h**2, axis=1) - math.log(len(self.centres)) - d * math.log(self.h)
            log_phi = -0.5 * (block**2).sum(1)
            log_q = np.logaddexp(math.log(self.defensive) + log_phi, math.log(1 - self.defensive) + log_k)
            out[i : i + 20_000] = np.exp(log_phi - log_q)
        return out


def _near(points: np.ndarray, centres: np.ndarray, radius: float) -> np.ndarray:
    """Mask of the rows of ``points`` within ``radius`` of a row of ``centres``."""
    near = np.zeros(len(points), dtype=bool)
    for c in centres:
        near |= ((points - c) ** 2).sum(1) < radius * radius
    return near


def _pick(population: np.ndarray, u_value: np.ndarray, k: int, spacing: float) -> np.ndarray:
    """Indices of the ``k`` smallest U, greedily kept ``spacing`` apart."""
    order = np.argsort(u_value)[: max(50 * k, 1)]
    chosen: list[int] = []
    for i in order:
        if all(np.linalg.norm(population[i] - population[j]) >= spacing for j in chosen):
            chosen.append(int(i))
            if len(chosen) == k:
                break
    return np.array(chosen, dtype=int)


def _matern52(a: np.ndarray, b: np.ndarray, length: np.ndarray) -> np.ndarray:
    r = distance.cdist(a / length, b / length) * math.sqrt(5.0)
    return (1.0 + r + r * r / 3.0) * np.exp(-r)


class _Kriging:
    """Universal Kriging with the process variance profiled out of the likelihood."""

    def __init__(self, d: int) -> None:
        self.d = d
        self.length = np.ones(d)
        self.x: np.ndarray = np.empty((0, d))  # training inputs
        self.since_opt = 0  # fits with the length scales kept since the last optimisation
        self.n_calls = self.n_fits = self.second_at = 0  # fits; optimisations; last one with a second start
        self.work = 0.0  # counted floating-point operations (kernels, factorisations, solves): a clock-free cost

    def _trend(self, x: np.ndarray, n_train: int) -> np.ndarray:
        if n_train >= 2 * (self.d + 1):
            return np.column_stack([np.ones(len(x)), x])
        return np.ones((len(x), 1))

    def _solve(self, log_length: np.ndarray, x: np.ndarray, y: np.ndarray) -> tuple[float, dict[str, Any]]:
        n = len(y)
        self.work += n * n * self.d + n**3 / 3 + 3 * n * n  # kernel matrix, Cholesky, three solves
        length = np.exp(log_length)
        K = _matern52(x, x, length) + 1e-10 * np.eye(n)
        try:
            L = linalg.cholesky(K, lower=True)
        except linalg.LinAlgError:
            K += 1e-6 * np.eye(n)
            L = linalg.cholesky(K, lower=True)
        F = self._trend(x, n)
        Ki_F = linalg.cho_solve((L, True), F)
        Ki_y = linalg.cho_solve((L, True), y)
        beta = np.linalg.lstsq(F.T @ Ki_F, F.T @ Ki_y, rcond=None)[0]
        resid = y - F @ beta
        alpha = linalg.cho_solve((L, True), resid)
        sigma2 = max(float(resid @ alpha) / n, 1e-300)
        nll = 0.5 * n * math.log(sigma2) + float(np.log(np.diag(L)).sum())
        return nll, {"L": L, "alpha": alpha, "beta": beta, "sigma2": sigma2, "length": length}

    def _surprised(self, x_new: np.ndarray, y_new: np.ndarray) -> bool:
        """Whether a new run lies more than 3 σ from the surrogate's prediction."""
        if not len(y_new):
            return False
        return bool(np.any(np.abs(y_new - self.mean(x_new)) > 3 * np.maximum(self.std(x_new), 1e-12 * self.scale)))

    @_one_blas_thread
    def fit(self, x: np.ndarray, y: np.ndarray, refit_every: int = 1) -> None:
        """Condition on ``(x, y)``; the length scales are re-optimised when due (see ``refit_every`` in
        :func:`active_learning`), else kept (one Cholesky factor)."""
        old = getattr(self, "state", None)
        self.n_calls += 1
        optimise = (old is None or self.since_opt + 1 >= refit_every or len(y) < _REFIT_ALWAYS_BELOW
                    or self._trend(x, len(y)).shape[1] != old["beta"].size
                    or self._surprised(x[len(self.x):], y[len(self.x):]))
        self.x, self.shift, self.scale = x, float(y.mean()), float(y.std()) or 1.0
        ys = (y - self.shift) / self.scale
        if not optimise:
            _, self.state = self._solve(np.log(self.length), x, ys)
            self.since_opt += 1
            return
        self.since_opt = 0
        spread = np.maximum(x.std(axis=0), 1e-3)
        bounds = [(math.log(1e-2 * s), math.log(1e2 * s)) for s in spread]
        # warm start from the previous length scales; a second start from the data spread now and then
        self.n_fits += 1
        periodic = self.n_calls - self.second_at >= 10  # every ~10 learning steps
        second, self.second_at = self.n_calls <= 3 or periodic, self.n_calls if periodic else self.second_at
        starts = [np.log(self.length)] + ([np.log(spread)] if second else [])
        best = None
        for s0 in starts:
            s0 = np.clip(s0, [b[0] for b in bounds], [b[1] for b in bounds])
            res = optimize.minimize(lambda t: self._solve(t, x, ys)[0], s0, method="L-BFGS-B", bounds=bounds,
                                    options={"maxiter": 40})
            if best is None or res.fun < best.fun:
                best = res
        assert best is not None  # starts is never empty
        _, self.state = self._solve(best.x, x, ys)
        self.length = self.state["length"]

    @_one_blas_thread
    def mean(self, z: np.ndarray) -> np.ndarray:
        s = self.state
        out = np.empty(len(z))
        for i in range(0, len(z), _CHUNK):
            block = z[i : i + _CHUNK]
            self.work += len(block) * len(self.x) * self.d
            k = _matern52(block, self.x, s["length"])
            out[i : i + _CHUNK] = self._trend(block, len(self.x)) @ s["beta"] + k @ s["alpha"]
        return self.shift + self.scale * out

    def std(self, z: np.ndarray) -> np.ndarray:
        s = self.state
        self.work += len(z) * len(self.x) * (self.d + len(self.x) / 2)
        k = _matern52(z, self.x, s["length"])
        v = linalg.solve_triangular(s["L"], k.T, lower=True)
        var = np.maximum(1.0 - (v**2).sum(0), 0.0) * s["sigma2"]
        return self.scale * np.sqrt(var)

    @_one_blas_thread
    def u_function(self, population: np.ndarray, u_stop: float, full: bool = False) -> tuple[np.ndarray, np.ndarray]:
        """Mean of g and U = |μ|/σ; σ only where the prior bound |μ|/σ_prior is below u_stop (or below
        the smallest U found, visiting candidates in order of the bound) — the minimum is exact."""
        mu = self.mean(population)
        prior_sd = self.scale * math.sqrt(self.state["sigma2"])
        u_value = np.abs(mu) / max(prior_sd, 1e-300)
        order = np.argsort(u_value, kind="stable")
        best = np.inf
        for i in range(0, order.size, 4096):
            idx = order[i : i + 4096]
            if u_value[idx[0]] >= (u_stop if full else min(best, u_stop)):
                break
            u_value[idx] = np.abs(mu[idx]) / np.maximum(self.std(population[idx]), 1e-300)
            best = min(best, float(u_value[idx].min()))
        return mu, u_value
