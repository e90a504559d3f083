"""Multi-fidelity Monte Carlo along a scale ladder: MFMC, ACV-MF and MLMC estimators of a mean, a variance
or a probability of a high-fidelity output, with the sample allocation that minimises their variance.

Every estimator here is an approximate control variate (Gorodetsky et al. 2020, J. Comput. Phys. 408:109257)
``Q = Q_0(I_0) + Σ_i α_i (Q_i(I_i*) − Q_i(I_i))``: ``Q_i(I)`` is the plain estimator (sample mean, or
unbiased sample variance) of fidelity ``i`` on the rows ``I`` of one shared input stream. The families
differ only in the row sets and weights:

- ``"mfmc"`` (Peherstorfer, Willcox & Gunzburger 2016, SIAM J. Sci. Comput. 38:A3163): nested prefixes
  ``I_i* = [0, m_{i-1})``, ``I_i = [0, m_i)``, closed-form allocation (their Theorem 3.4);
- ``"acvmf"`` (Gorodetsky et al. 2020, ACV-MF): ``I_i* = [0, m_0)``, ``I_i = [0, m_i)``, allocation by
  numerical minimisation of the exact estimator variance;
- ``"mlmc"`` (Giles 2008, Oper. Res. 56:607): disjoint blocks ``I_i* = B_{i-1}``, ``I_i = B_i``, weights −1,
  allocation ``N_l ∝ √(V_l / C_l)``.

Each ``Q_i`` is unbiased, so ``Q`` is unbiased for any weights; the weights and allocation come from a
pilot run that is not reused. The estimator's variance follows exactly from the row overlaps (means:
``Cov = C_ij |A∩B| / (|A||B|)``; sample variances: the U-statistic formula of :func:`_term_cov`).
"""

from __future__ import annotations

import itertools
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import xarray as xr

from . import checks
from .model import ForwardModel
from .results import provenance, seed_attr

if TYPE_CHECKING:
    from ._types import SeedLike

__all__ = [
    "METHODS",
    "QUANTITIES",
    "Allocation",
    "KernelStats",
    "allocate",
    "estimate",
    "kernel_statistics",
    "multifidelity_estimate",
]

QUANTITIES = ("mean", "variance", "pf", "exceedance")
METHODS = ("mfmc", "acvmf", "mlmc")


@dataclass(frozen=True)
class KernelStats:
    """Second and fourth moments of the fidelities' outputs that fix every estimator's variance.

    ``cov`` is the covariance of the kernel ``g(Y_i)`` (``Y_i`` itself for ``"mean"`` and ``"variance"``,
    the event indicator for ``"pf"``/``"exceedance"``); ``mu22[i, j] = E[(Y_i − μ_i)² (Y_j − μ_j)²]``
    (only used for ``"variance"``). Fidelity 0 is the high fidelity.
    """

    quantity: str
    cov: np.ndarray
    mu22: np.ndarray | None = None
    threshold: float = 0.0

    @property
    def n_fidelities(self) -> int:
        return int(self.cov.shape[0])

    def kernel_cov(self) -> np.ndarray:
        """Covariance of the per-sample contributions whose correlations drive the allocation."""
        if self.quantity == "variance":
            assert self.mu22 is not None
            s2 = np.diag(self.cov)
            return self.mu22 - np.outer(s2, s2)  # Cov((Y_i − μ_i)², (Y_j − μ_j)²)
        return self.cov


def _kernel(y: np.ndarray, quantity: str, threshold: float) -> np.ndarray:
    if quantity == "pf":
        return (y < threshold).astype(float)
    if quantity == "exceedance":
        return (y > threshold).astype(float)
    return np.asarray(y, dtype=float)


def kernel_statistics(samples: np.ndarray, quantity: str = "mean", *, threshold: float = 0.0) -> KernelStats:
    """Moments of a pilot sample ``(n, K)`` of the K fidelities (column 0 the high fidelity).

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> x = rng.normal(size=2000)
    >>> s = kernel_statistics(np.column_stack([x, x + 0.5 * rng.normal(size=2000)]))
    >>> round(float(s.cov[0, 1] / np.sqrt(s.cov[0, 0] * s.cov[1, 1])), 1)   # ρ = 1/√1.25
    0.9
    """
    quantity = checks.choice(quantity, "quantity", QUANTITIES)
    y = np.asarray(samples, dtype=float)
    if y.ndim != 2 or y.shape[0] < 4:
        raise ValueError(f"samples must be a (n >= 4, K) array of pilot outputs, got shape {y.shape}")
    if not np.all(np.isfinite(y)):
        raise ValueError("samples: the pilot outputs contain NaN or inf; drop failed runs before the allocation")
    g = _kernel(y, quantity, threshold)
    cov = np.atleast_2d(np.cov(g, rowvar=False))
    mu22 = None
    if quantity == "variance":
        c = y - y.mean(axis=0)
        mu22 = (c**2).T @ (c**2) / (y.shape[0] - 1)
    if np.any(np.diag(cov) <= 0):
        raise ValueError(
            f"the pilot kernel of quantity {quantity!r} has zero variance for fidelities "
            f"{np.flatnonzero(np.diag(cov) <= 0).tolist()} (e.g. no failure among {y.shape[0]} pilot runs); "
            "use a larger n_pilot or another threshold"
        )
    return KernelStats(quantity, cov, mu22, float(threshold))


def _term_cov(stats: KernelStats, i: int, j: int, a: tuple[float, float], b: tuple[float, float]) -> float:
    """Covariance of the plain estimators of fidelities ``i`` and ``j`` on row intervals ``a`` and ``b``.

    Means: ``C_ij p / (|A| |B|)`` with ``p = |A ∩ B|``. Unbiased sample variances are U-statistics of
    ``h = (y1 − y2)² / 2``; counting pairs that share two rows (``τ2``) or one row (``τ1``)::

        Cov = [C(p,2) τ2 + p ((|A|−1)(|B|−1) − (p−1)) τ1] / (C(|A|,2) C(|B|,2)),
        τ1 = (μ22 − σ_i² σ_j²) / 4,   τ2 = (μ22 − σ_i² σ_j²) / 2 + σ_ij²,

    which for ``A = B`` is the textbook ``(μ4 − σ⁴)/n + 2σ⁴/(n(n−1))``.
    """
    na, nb = a[1] - a[0], b[1] - b[0]
    p = max(0.0, min(a[1], b[1]) - max(a[0], b[0]))
    if p == 0 or na <= 0 or nb <= 0:
        return 0.0
    if stats.quantity != "variance":
        return float(stats.cov[i, j] * p / (na * nb))
    assert stats.mu22 is not None
    sij, si, sj = stats.cov[i, j], stats.cov[i, i], stats.cov[j, j]
    t1 = (stats.mu22[i, j] - si * sj) / 4
    t2 = (stats.mu22[i, j] - si * sj) / 2 + sij**2
    pairs = p * (p - 1) / 2 * t2 + p * ((na - 1) * (nb - 1) - (p - 1)) * t1
    return float(pairs / (na * (na - 1) / 2 * nb * (nb - 1) / 2))


@dataclass(frozen=True)
class Allocation:
    """Row sets, weights and predicted variance of one multi-fidelity estimator.

    ``hf`` is the interval of the high-fidelity term; ``star[i]``, ``own[i]`` those of fidelity ``i``'s
    control-variate difference (index 0 unused); ``rows[i]`` the contiguous interval on which fidelity
    ``i`` is evaluated (its union); ``weights[i]`` its α (``weights[0] = 1``).
    """

    method: str
    hf: tuple[int, int]
    star: tuple[tuple[int, int], ...]
    own: tuple[tuple[int, int], ...]
    weights: np.ndarray
    rows: tuple[tuple[int, int], ...]
    costs: np.ndarray
    variance: float
    mc_variance: float
    budget: float

    @property
    def n_samples(self) -> np.ndarray:
        return np.array([b - a for a, b in self.rows])

    @property
    def cost(self) -> float:
        return float(np.sum(self.n_samples * self.costs))


def _structure(method: str, m: np.ndarray) -> tuple[tuple[int, int], list[tuple[int, int]], list[tuple[int, int]]]:
    """Row intervals of each family for sample counts ``m`` (prefix lengths, or MLMC block sizes)."""
    k = len(m)
    if method == "mlmc":
        edges = np.concatenate([[0], np.cumsum(m)])
        blocks = [(edges[i], edges[i + 1]) for i in range(k)]
        return blocks[0], [(0, 0)] + [blocks[i - 1] for i in range(1, k)], [(0, 0)] + blocks[1:]
    star = [(0, 0)] + [(0, m[i - 1] if method == "mfmc" else m[0]) for i in range(1, k)]
    return (0, m[0]), star, [(0, 0)] + [(0, m[i]) for i in range(1, k)]


def _variance(stats: KernelStats, fids: Sequence[int], hf, star, own, weights=None) -> tuple[float, np.ndarray]:
    """Variance of ``Q_0 + Σ α_i Δ_i`` and the weights (optimal ACV weights unless given)."""
    k = len(fids)
    q0 = _term_cov(stats, fids[0], fids[0], hf, hf)
    if k == 1:
        return q0, np.ones(1)
    dd = np.empty((k - 1, k - 1))
    d0 = np.empty(k - 1)
    for a in range(1, k):
        fa = fids[a]
        d0[a - 1] = _term_cov(stats, fids[0], fa, hf, star[a]) - _term_cov(stats, fids[0], fa, hf, own[a])
        for b in range(1, k):
            fb = fids[b]
            dd[a - 1, b - 1] = (
                _term_cov(stats, fa, fb, star[a], star[b]) - _term_cov(stats, fa, fb, star[a], own[b])
                - _term_cov(stats, fa, fb, own[a], star[b]) + _term_cov(stats, fa, fb, own[a], own[b])
            )
    if weights is None:
        alpha = -np.linalg.lstsq(dd, d0, rcond=None)[0]
    else:
        alpha = np.asarray(weights[1:], dtype=float)
    var = q0 + alpha @ dd @ alpha + 2 * alpha @ d0
    return float(var), np.concatenate([[1.0], alpha])


def _mfmc_ratios(stats: KernelStats, costs: np.ndarray, fids: Sequence[int]) -> np.ndarray | None:
    """Peherstorfer et al. (2016) Theorem 3.4: ``r_i = √(w_0 (ρ_i² − ρ_{i+1}²) / (w_i (1 − ρ_1²)))``; None
    if the subset violates the theorem's ordering or cost conditions."""
    c = stats.kernel_cov()
    rho = np.array([c[0, f] / np.sqrt(c[0, 0] * c[f, f]) for f in fids])
    rho2 = np.concatenate([rho**2, [0.0]])
    w = costs[list(fids)]
    if np.any(np.diff(rho2[:-1]) >= 0) or rho2[1] >= 1:
        return None if len(fids) > 1 else np.ones(1)
    for i in range(1, len(fids)):
        if w[i - 1] / w[i] <= (rho2[i - 1] - rho2[i]) / (rho2[i] - rho2[i + 1]):
            return None
    return np.sqrt(w[0] * (rho2[:-1] - rho2[1:]) / (w * (1 - rho2[1])))


def _integer_counts(m: np.ndarray, method: str, minimum: int) -> np.ndarray:
    m = np.maximum(np.floor(m).astype(int), minimum)
    if method != "mlmc":
        m = np.maximum.accumulate(m)  # prefixes must nest: m_0 ≤ m_1 ≤ ...
    return m


def allocate(
    stats: KernelStats,
    costs: Sequence[float] | np.ndarray,
    budget: float,
    *,
    method: str = "mfmc",
) -> Allocation:
    """Sample counts, weights and predicted variance of a multi-fidelity estimator at a total cost ``budget``.

    Parameters
    ----------
    stats : KernelStats
        Moments of the fidelities (from a pilot, :func:`kernel_statistics`, or known exactly).
    costs : sequence of float
        Cost of one evaluation of each fidelity (any unit shared with ``budget``).
    budget : float
        Total cost of the estimator's evaluations (the pilot is not counted).
    method : {"mfmc", "acvmf", "mlmc"}
        For ``"mfmc"`` the fidelity subset (always containing the high fidelity) with the smallest
        predicted variance among those satisfying Theorem 3.4's conditions is used; unused fidelities
        get zero samples.

    Examples
    --------
    Two fidelities with correlation 0.9 and cost ratio 100 (MFMC variance reduction
    1 / (√(1−ρ²) + √(ρ² w_1/w_0))² = 3.6, Peherstorfer et al. 2016 eq. 3.13):

    >>> s = KernelStats("mean", np.array([[1.0, 0.9], [0.9, 1.0]]))
    >>> a = allocate(s, [1.0, 0.01], 1000.0)
    >>> round(a.mc_variance / a.variance, 1)
    3.6
    """
    method = checks.choice(method, "method", METHODS)
    w = np.asarray(costs, dtype=float)
    k = stats.n_fidelities
    if w.shape != (k,) or np.any(~np.isfinite(w)) or np.any(w <= 0):
        raise ValueError(f"costs must be {k} positive numbers (one per fidelity), got {list(np.atleast_1d(w))}")
    budget = float(budget)
    minimum = 2 if stats.quantity == "variance" else 1
    if not np.isfinite(budget) or budget < minimum * w.sum():
        raise ValueError(f"budget must be at least {minimum * w.sum():g} (every fidelity run {minimum}x), got {budget!r}")
    n_mc = budget / w[0]
    mc_var = _term_cov(stats, 0, 0, (0, n_mc), (0, n_mc))
    best: tuple[float, list[int], np.ndarray] | None = None
    if method == "mfmc":
        c = stats.kernel_cov()
        order = sorted(range(1, k), key=lambda f: -abs(c[0, f]) / np.sqrt(c[f, f]))
        for size in range(0, k):
            for sub in itertools.combinations(order, size):
                fids = [0, *sub]
                r = _mfmc_ratios(stats, w, fids)
                if r is None:
                    continue
                m0 = budget / float(w[fids] @ r)
                m = _integer_counts(m0 * r, method, minimum)
                while float(w[fids] @ m) > budget and m[0] > minimum:
                    m = _integer_counts((m0 := m0 * 0.999) * r, method, minimum)
                hf, star, own = _structure(method, m)
                var, _ = _variance(stats, fids, hf, star, own)
                if best is None or var < best[0]:
                    best = (var, fids, m)
    elif method == "acvmf":
        from scipy.optimize import minimize

        fids = list(range(k))

        def predicted(z: np.ndarray) -> float:
            r = np.concatenate([[1.0], 1.0 + np.exp(z)])
            m0 = budget / float(w @ r)
            hf, star, own = _structure(method, m0 * r)
            return _variance(stats, fids, hf, star, own)[0]

        z0 = np.log(np.maximum(np.sqrt(w[0] / w[1:]) - 1.0, 0.1))
        z = minimize(predicted, z0, method="Nelder-Mead", options={"xatol": 1e-3, "fatol": 1e-12 * mc_var}).x
        r = np.concatenate([[1.0], 1.0 + np.exp(z)])
        m0 = budget / float(w @ r)
        m = _integer_counts(m0 * r, method, minimum)
        while float(w @ m) > budget and m[0] > minimum:
            m = _integer_counts((m0 := m0 * 0.999) * r, method, minimum)
        hf, star, own = _structure(method, m)
        best = (_variance(stats, fids, hf, star, own)[0], fids, m)
    else:  # mlmc: level l pairs fidelities l and l+1 on its own block; the last block has fidelity K-1 alone
        c = stats.kernel_cov()
        v = np.array([c[j, j] + c[j + 1, j + 1] - 2 * c[j, j + 1] for j in range(k - 1)] + [c[k - 1, k - 1]])
        cl = np.array([w[j] + w[j + 1] for j in range(k - 1)] + [w[k - 1]])
        n = budget * np.sqrt(v / cl) / np.sum(np.sqrt(v * cl))
        m = _integer_counts(n, method, minimum)
        while float(cl @ m) > budget and np.any(m > minimum):
            m = _integer_counts((n := n * 0.999), method, minimum)
        fids = list(range(k))
        hf, star, own = _structure(method, m)
        best = (_variance(stats, fids, hf, star, own, weights=-np.ones(k))[0], fids, m)
    assert best is not None
    var, fids, m = best
    hf, star_l, own_l = _structure(method, m)
    _, alpha = _variance(stats, fids, hf, star_l, own_l, weights=-np.ones(len(fids)) if method == "mlmc" else None)
    weights = np.zeros(k)
    star = [(0, 0)] * k
    own = [(0, 0)] * k
    rows = [(0, 0)] * k
    for pos, f in enumerate(fids):
        weights[f] = alpha[pos]
        if pos:
            star[f], own[f] = star_l[pos], own_l[pos]
        spans = [hf] if pos == 0 else [star[f], own[f]]
        rows[f] = (int(min(s[0] for s in spans)), int(max(s[1] for s in spans)))
    hf = (int(hf[0]), int(hf[1]))
    return Allocation(
        method, hf, tuple((int(a), int(b)) for a, b in star), tuple((int(a), int(b)) for a, b in own), weights,
        tuple(rows), w, float(var), float(mc_var), budget,
    )


def _plain(y: np.ndarray, quantity: str, threshold: float) -> float:
    if quantity == "variance":
        return float(np.var(y, ddof=1))
    return float(np.mean(_kernel(y, quantity, threshold)))


def estimate(values: Sequence[np.ndarray], allocation: Allocation, quantity: str = "mean", *, threshold: float = 0.0) -> float:
    """The multi-fidelity estimate from each fidelity's outputs on its rows ``allocation.rows[i]``.

    ``values[i]`` holds fidelity ``i``'s outputs on rows ``rows[i][0] .. rows[i][1]`` of the shared
    input stream (in that order).

    Examples
    --------
    >>> s = KernelStats("mean", np.array([[1.0, 0.9], [0.9, 1.0]]))
    >>> a = allocate(s, [1.0, 0.01], 100.0)
    >>> x = np.random.default_rng(1).normal(size=a.rows[1][1])
    >>> y = x[: a.rows[0][1]] + 0.1   # high fidelity = low fidelity + 0.1: the estimate is mean(x) + 0.1
    >>> a.weights.round(2).tolist()   # α = −ρ σ_0 / σ_1 with Δ = Q_1(I*) − Q_1(I), I* the shared rows
    [1.0, -0.9]
    >>> round(float(estimate([y, x], a) - (y.mean() - 0.9 * (x[: a.rows[0][1]].mean() - x.mean()))), 12)
    0.0
    """
    quantity = checks.choice(quantity, "quantity", QUANTITIES)
    if len(values) != len(allocation.rows):
        raise ValueError(f"values must hold {len(allocation.rows)} arrays (one per fidelity), got {len(values)}")
    for i, (v, (a, b)) in enumerate(zip(values, allocation.rows)):
        if np.shape(v)[0] != b - a:
            raise ValueError(f"values[{i}] must hold the {b - a} outputs of rows [{a}, {b}), got {np.shape(v)[0]}")

    def part(i: int, span: tuple[int, int]) -> float:
        lo = allocation.rows[i][0]
        return _plain(np.asarray(values[i])[span[0] - lo: span[1] - lo], quantity, threshold)

    q = part(0, allocation.hf)
    for i in range(1, len(values)):
        if allocation.weights[i] != 0 and allocation.rows[i][1] > allocation.rows[i][0]:
            q += allocation.weights[i] * (part(i, allocation.star[i]) - part(i, allocation.own[i]))
    return float(q)


def _measure(model: ForwardModel, output: str, values: dict[str, np.ndarray]) -> tuple[np.ndarray, float]:
    own = {n: values[n] for n in model.inputs.names}
    start = time.perf_counter()
    out = np.asarray(model(**own)[output], dtype=float)
    return out, time.perf_counter() - start


def multifidelity_estimate(
    models: Sequence[ForwardModel],
    output: str | Sequence[str],
    *,
    budget: float,
    costs: Sequence[float] | None = None,
    quantity: str = "mean",
    threshold: float = 0.0,
    method: str = "mfmc",
    n_pilot: int = 50,
    rng: SeedLike = None,
) -> xr.Dataset:
    """Estimate a mean, variance or probability of ``models[0]``'s output from all fidelities at cost ``budget``.

    Every model is run on rows of one input stream drawn from ``models[0]``'s inputs (a low fidelity
    reads only the inputs it declares). A pilot of ``n_pilot`` rows on all fidelities gives the
    correlations (and, when ``costs`` is None, the cost per run as measured wall time); the estimator
    then runs on fresh rows, so it is unbiased whatever the pilot says.

    Parameters
    ----------
    models : sequence of ForwardModel
        High fidelity first.
    output : str or sequence of str
        The output compared (one name for all, or one per model).
    budget : float
        Cost of the estimator's runs (in the units of ``costs``, seconds when measured).
    quantity : {"mean", "variance", "pf", "exceedance"}
        ``"pf"`` = P(Y < threshold), ``"exceedance"`` = P(Y > threshold).
    method : {"mfmc", "acvmf", "mlmc"}
    n_pilot : int
    rng : seed or Generator

    Returns
    -------
    xarray.Dataset
        Scalars ``estimate``, ``estimate_se`` (√ of the variance predicted from the pilot moments),
        ``mc_se`` (plain Monte Carlo of the high fidelity at the same cost) and ``variance_reduction``
        (= mc_se² / estimate_se²); per ``fidelity``: ``n_samples``, ``cost``, ``weight``,
        ``correlation`` (pilot correlation of the kernel with the high fidelity's).

    Examples
    --------
    >>> import uqbridge as uq
    >>> x = [uq.Input("x", uq.Normal(1, 1))]
    >>> hi = uq.ForwardModel("hi", lambda x: {"y": x + 0.1 * x**2}, x, [uq.Output("y")])
    >>> lo = uq.ForwardModel("lo", lambda x: {"y": x}, x, [uq.Output("y")])
    >>> ds = multifidelity_estimate([hi, lo], "y", budget=200, costs=[1.0, 0.01], rng=0)
    >>> bool(abs(ds["estimate"] - 1.2) < 4 * ds["estimate_se"]), bool(ds["variance_reduction"] > 5)
    (True, True)
    """
    seed = seed_attr(rng)
    rng = checks.generator(rng, "multifidelity_estimate: rng")
    quantity = checks.choice(quantity, "quantity", QUANTITIES)
    method = checks.choice(method, "method", METHODS)
    models = list(models)
    if len(models) < 1 or not all(isinstance(m, ForwardModel) for m in models):
        raise TypeError("models must be a non-empty sequence of ForwardModel (high fidelity first)")
    outs = [output] * len(models) if isinstance(output, str) else list(output)
    if len(outs) != len(models):
        raise ValueError(f"output must be one name or one per model ({len(models)}), got {outs}")
    for m, o in zip(models, outs):
        if o not in m.output_names:
            raise KeyError(f"model {m.name!r} has no output {o!r}; its outputs: {list(m.output_names)}")
        missing = [n for n in m.inputs.names if n not in models[0].inputs.names]
        if missing:
            raise ValueError(f"model {m.name!r} reads inputs {missing} that the high fidelity {models[0].name!r} does not declare")
    n_pilot = checks.positive_int(n_pilot, "n_pilot", 4)
    start = time.perf_counter()
    pilot_rng, main_rng = rng.spawn(2)
    inputs = models[0].inputs
    pilot_x = inputs.from_unit(pilot_rng.random((n_pilot, inputs.dimension)))
    pilot = [_measure(m, o, pilot_x) for m, o in zip(models, outs)]
    ys = np.column_stack([p[0] for p in pilot])
    stats = kernel_statistics(ys, quantity, threshold=threshold)
    w = np.array([p[1] / n_pilot for p in pilot]) if costs is None else np.asarray(costs, dtype=float)
    alloc = allocate(stats, w, budget, method=method)
    n_rows = max(b for _, b in alloc.rows)
    x = inputs.from_unit(main_rng.random((n_rows, inputs.dimension)))
    values = []
    for m, o, (a, b) in zip(models, outs, alloc.rows):
        values.append(_measure(m, o, {k: v[a:b] for k, v in x.items()})[0] if b > a else np.empty(0))
    est = estimate(values, alloc, quantity, threshold=threshold)
    kc = stats.kernel_cov()
    corr = kc[0] / np.sqrt(kc[0, 0] * np.diag(kc))
    names = [m.name for m in models]
    if len(set(names)) < len(names):
        names = [f"{i}:{n}" for i, n in enumerate(names)]
    ds = xr.Dataset(
        {
            "estimate": ((), est, {"long_name": f"{quantity} of {outs[0]} ({method})"}),
            "estimate_se": ((), np.sqrt(alloc.variance), {"long_name": "standard error predicted from the pilot moments"}),
            "mc_se": ((), np.sqrt(alloc.mc_variance), {"long_name": "plain Monte Carlo of the high fidelity, same cost"}),
            "variance_reduction": ((), alloc.mc_variance / alloc.variance),
            "n_samples": ("fidelity", alloc.n_samples),
            "cost": ("fidelity", w, {"long_name": "cost of one run" + (" (s, pilot wall time)" if costs is None else "")}),
            "weight": ("fidelity", alloc.weights),
            "correlation": ("fidelity", corr),
        },
        coords={"fidelity": names},
    )
    ds.attrs = provenance(
        models[0], f"multifidelity:{method}", seed=seed, quantity=quantity, threshold=threshold, budget=float(budget),
        cost_used=alloc.cost, n_pilot=n_pilot, pilot_cost=float(n_pilot * w.sum()), output=outs[0],
        wall_time_s=time.perf_counter() - start,
        reference={"mfmc": "Peherstorfer, Willcox & Gunzburger 2016, SIAM J. Sci. Comput. 38:A3163",
                   "acvmf": "Gorodetsky et al. 2020, J. Comput. Phys. 408:109257",
                   "mlmc": "Giles 2008, Oper. Res. 56:607"}[method],
    )
    return ds
