"""Active-learning reliability (AK-MCS): a Gaussian-process surrogate of g, refined one model run at
a time where the sign of g is most uncertain, classifies a Monte Carlo population (Echard et al. 2011)."""

from __future__ import annotations

import math
import time
import warnings
from typing import Any

import numpy as np
import xarray as xr
from scipy import stats
from scipy.stats import qmc

from ._common import Evaluator, positive_int, probability, result_dataset

__all__ = ["active_learning"]


def active_learning(
    ls: Any,
    *,
    n_initial: int = 12,
    max_runs: int = 300,
    n_candidates: int = 100_000,
    max_candidates: int = 2_000_000,
    target_cov: float = 0.05,
    u_stop: float = 2.0,
    candidates: Any = None,
    refit_every: int = 5,
    confidence: float = 0.95,
    rng: Any = None,
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
        Size of the Monte Carlo candidate population in standard-normal space (and of each
        enlargement).
    max_candidates : int
        The population is enlarged by ``n_candidates`` while the CoV of the population estimate
        exceeds ``target_cov``, up to this size.
    target_cov : float
        Stop when ``√((1 − p)/(N p)) ≤ target_cov`` over the population, and
    u_stop : float
        when ``min U ≥ u_stop`` with ``U = |μ_g|/σ_g`` (2 in Echard et al.: every candidate's sign is
        right with probability ≥ Φ(2) = 0.977 under the GP).
    candidates : array_like (N, d), optional
        An explicit candidate population in standard-normal space (e.g. to compare with crude
        Monte Carlo on the same points); it is then never enlarged.
    refit_every : int
        The kernel hyperparameters are re-estimated at every step for the first 30 training points,
        then every ``refit_every`` steps (in between the last estimate is kept and only the GP
        conditioning is updated), which keeps the cost per step low.
    confidence : float
        Level of the Clopper–Pearson interval on the population count.
    rng : seed or Generator

    Returns
    -------
    xarray.Dataset
        The common fields (``pf_se`` and the interval are the Monte Carlo error of the population,
        given the surrogate's classification) plus ``n_candidates``, ``n_uncertain`` (candidates still
        with U < u_stop), ``pf_surrogate_low``/``pf_surrogate_high`` (Pf if all uncertain candidates
        were safe / failed), the training points ``train_u`` and ``train_g`` (dim ``train``), and the
        history ``history_runs``/``history_pf``/``history_min_u`` (dim ``iteration``).

    Notes
    -----
    Echard, Gayton & Lemaire (2011), *AK-MCS: an active learning reliability method combining
    Kriging and Monte Carlo simulation*, Struct. Saf. 33(2):145–154. The surrogate is
    ``sklearn.gaussian_process.GaussianProcessRegressor`` with a constant × anisotropic Matérn-5/2
    kernel fitted by maximum likelihood on standardised g. σ is computed only for candidates with
    ``|μ| < u_stop·σ_prior``: the others have ``U ≥ u_stop`` since ``σ ≤ σ_prior``.

    Examples
    --------
    >>> from uqbridge.reliability.problems import linear
    >>> p = linear(2.0)
    >>> r = active_learning(p.limit_state, n_candidates=20_000, rng=0)
    >>> bool(int(r.n_runs) < 40), bool(abs(float(r.pf) - p.pf) < 4 * float(r.pf_se))
    (True, True)
    """
    from sklearn.gaussian_process import GaussianProcessRegressor
    from sklearn.gaussian_process.kernels import ConstantKernel, Matern

    started = time.perf_counter()
    ev = Evaluator(ls, "active_learning")
    n_initial = positive_int(n_initial, "n_initial", "active_learning", minimum=2)
    max_runs = positive_int(max_runs, "max_runs", "active_learning", minimum=n_initial)
    n_candidates = positive_int(n_candidates, "n_candidates", "active_learning", minimum=100)
    max_candidates = positive_int(max_candidates, "max_candidates", "active_learning", minimum=n_candidates)
    target_cov = probability(target_cov, "target_cov", "active_learning", high=math.inf)
    u_stop = probability(u_stop, "u_stop", "active_learning", high=math.inf)
    confidence = probability(confidence, "confidence", "active_learning")
    generator = np.random.default_rng(rng)
    d = ev.dim

    refit_every = positive_int(refit_every, "refit_every", "active_learning")
    if candidates is None:
        population = generator.standard_normal((n_candidates, d))
    else:
        population = np.asarray(candidates, dtype=float)
        if population.ndim != 2 or population.shape[1] != d or population.shape[0] < 100:
            raise ValueError(
                f"active_learning: candidates must be an array of shape (N >= 100, {d}), got shape {population.shape}"
            )
        max_candidates = population.shape[0]
    # A Latin hypercube over the box spanned by the population, rather than population points
    # (Echard et al.): points far in the tails give the GP a chance to see a remote failure domain.
    half_width = np.abs(population).max(axis=0)
    train_u = (2 * qmc.LatinHypercube(d, rng=generator).random(n_initial) - 1) * half_width
    train_g = ev(train_u)
    kernel = ConstantKernel(1.0, (1e-4, 1e4)) * Matern(length_scale=np.ones(d), length_scale_bounds=(1e-2, 1e3), nu=2.5)
    history: list[tuple[int, float, float]] = []
    converged = False
    while True:
        shift, scale = float(train_g.mean()), float(train_g.std()) or 1.0
        # random restarts of the likelihood optimiser on the first fit; later fits start from the
        # previous optimum (the kernel changes little when one point is added)
        refit = len(train_g) <= 30 or len(history) % refit_every == 0
        gp = GaussianProcessRegressor(kernel, alpha=1e-8, n_restarts_optimizer=3 if not history else 0,
                                      optimizer="fmin_l_bfgs_b" if refit else None,
                                      random_state=int(generator.integers(2**31 - 1)))
        with warnings.catch_warnings():
            # bounds hit by the ML optimiser are harmless here: the U function only needs a usable fit
            warnings.simplefilter("ignore")
            gp.fit(train_u, (train_g - shift) / scale)
        kernel = gp.kernel_  # warm start of the next fit
        mu, u_value, prior_sd = _u_function(gp, population, shift, scale, u_stop)
        n_pop = population.shape[0]
        failures = int(np.count_nonzero(mu <= 0))
        pf = failures / n_pop
        min_u = float(u_value.min())
        history.append((ev.n_runs, pf, min_u))
        if min_u >= u_stop:
            cov = math.sqrt((1 - pf) / (n_pop * pf)) if pf > 0 else math.inf
            if cov <= target_cov:
                converged = True
                break
            if n_pop + n_candidates > max_candidates:
                break
            population = np.concatenate([population, generator.standard_normal((n_candidates, d))])
            continue
        if ev.n_runs >= max_runs:
            break
        best = int(np.argmin(u_value))
        train_u = np.concatenate([train_u, population[best][None, :]])
        train_g = np.concatenate([train_g, ev(population[best][None, :])])

    n_pop = population.shape[0]
    mu, u_value, _ = _u_function(gp, population, shift, scale, u_stop, full=True)
    uncertain = u_value < u_stop
    se = math.sqrt(pf * (1 - pf) / n_pop)
    ci = stats.binomtest(failures, n_pop).proportion_ci(confidence, method="exact")
    runs, pfs, min_us = (np.array(v) for v in zip(*history))
    reason = ""
    if not converged:
        reason = (f"stopped at the budget max_runs={max_runs} with {int(uncertain.sum())} candidates still uncertain "
                  f"(U < {u_stop})" if min_u < u_stop else
                  f"population CoV target {target_cov} not reached within max_candidates={max_candidates}")
    return result_dataset(
        ev, "active_learning", pf=pf, pf_se=se, pf_low=float(ci.low), pf_high=float(ci.high), confidence=confidence,
        seed=rng, started=started, converged=converged, reliable=converged, warning=reason,
        variables={
            "n_candidates": ((), n_pop),
            "n_uncertain": ((), int(uncertain.sum()), {"long_name": f"candidates with U < {u_stop}"}),
            "pf_surrogate_low": ((), float(np.mean((mu <= 0) & ~uncertain))),
            "pf_surrogate_high": ((), float(np.mean((mu <= 0) | uncertain))),
            "train_u": (("train", "input"), train_u),
            "train_g": ("train", train_g),
            "history_runs": ("iteration", runs.astype(int)),
            "history_pf": ("iteration", pfs),
            "history_min_u": ("iteration", min_us),
        },
        coords={"input": list(ev.inputs.dimension_names)},
        interval="Clopper-Pearson on the population count (surrogate classification taken as exact)",
        surrogate="sklearn GaussianProcessRegressor, Constant*Matern(nu=2.5, anisotropic)",
        fitted_kernel=str(gp.kernel_), u_stop=u_stop, target_cov=target_cov,
    )


def _u_function(gp: Any, population: np.ndarray, shift: float, scale: float, u_stop: float,
                chunk: int = 4096, full: bool = False) -> tuple[np.ndarray, np.ndarray, float]:
    """Mean of g and the learning function U = |μ|/σ on the population.

    σ ≤ σ_prior (stationary kernel), so ``|μ|/σ_prior`` is a lower bound of U. Candidates are visited
    in increasing order of that bound and σ is computed chunk by chunk until the bound exceeds the
    smallest U found (or ``u_stop``): the minimum and its location are exact, and U of the
    candidates not visited is left at its lower bound. ``full=True`` computes U wherever the bound
    is below ``u_stop`` (for counting the uncertain candidates).
    """
    mu = shift + scale * np.concatenate([gp.predict(population[i : i + 50_000]) for i in range(0, len(population), 50_000)])
    prior_sd = scale * float(np.sqrt(max(gp.kernel_.diag(population[:1])[0], 0.0)))
    u_value = np.abs(mu) / max(prior_sd, 1e-300)
    order = np.argsort(u_value, kind="stable")
    best = np.inf
    for i in range(0, order.size, chunk):
        idx = order[i : i + chunk]
        if u_value[idx[0]] >= (u_stop if full else min(best, u_stop)):
            break
        _, sd = gp.predict(population[idx], return_std=True)
        u_value[idx] = np.abs(mu[idx]) / np.maximum(scale * sd, 1e-300)
        best = min(best, float(u_value[idx].min()))
    return mu, u_value, prior_sd
