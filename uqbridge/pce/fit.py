"""Fitting polynomial chaos expansions: spectral projection on (sparse) quadrature, least squares, and
sparse regression (LARS / OMP) with degree and q-norm chosen by corrected leave-one-out error.

Model selection follows Blatman & Sudret (2011), *Adaptive sparse polynomial chaos expansion based
on least angle regression*, J. Comput. Phys. 230, 2345–2367: for each candidate basis (degree p,
q-norm q) the selector orders the terms, every nested support is refitted by least squares (hybrid
LARS) and scored by the closed-form leave-one-out error times Chapelle's correction factor
``T(P, N) = N/(N−P) · (1 + tr(C⁻¹)/N)``, ``C = ΨᵀΨ/N``.

A second, screened scan applies the sparsity-of-effects principle behind hyperbolic truncation one
step further: inputs whose total Sobol index in the first choice is below that choice's own K-fold
error are not resolved by the runs and keep their main effects only, so the candidate bases can
afford higher degrees and richer interactions among the resolved inputs for the same number of
terms (an isotropic basis capped at a few times the run count cannot). It is kept only when its
K-fold error is lower.
"""

from __future__ import annotations

import functools
import time
import warnings
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

import numpy as np
import xarray as xr
from scipy import linalg
from scipy.stats import qmc

from .._deprecation import warn_deprecated
from ..checks import choice
from ..designs import DESIGNS, open_unit, unit_design
from ..execution.batch import OK, Backend, evaluate
from ..model import ForwardModel
from .basis import (
    GermMap,
    _graded,
    basis_matrix,
    hyperbolic_indices,
    product_basis,
    univariate_table,
)
from .expansion import PolynomialChaos
from .options import METHODS, Quadrature, Regression, method_from_keys

if TYPE_CHECKING:
    from .._types import SeedLike

__all__ = ["DEFAULT_Q_NORMS", "METHODS", "fit_pce", "loo_path"]

_DEFAULT_MAX_DEGREE = Regression().max_degree
DEFAULT_Q_NORMS = (0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0)
_MAX_TERMS = 6000
# Largest candidate basis per run: greedy selection from a dictionary much larger than the design is
# unreliable (coherence) and costs O(n·P) per step.
_TERMS_PER_RUN = 3
_MIN_TERMS = 500
_GRAM_FLOPS = 1.6e10
# Designs larger than this choose selector, q-norm and screening on a random subsample of this many
# runs, then scan degrees upward on all runs (see _refine): the full scan is O(n·P·k) per candidate.
_SCAN_RUNS = 500
_LARGE_FOLDS = 5
# Largest support tried, as a share of the runs: the LOO error of a support picked greedily on the same
# runs is optimistic (selection bias), badly so when the support nearly interpolates the design.
_SUPPORT_FRACTION = 0.5
# The best few candidates of each selector (by corrected LOO) are re-ranked by K-fold CV.
_SHORTLIST = 3
_FOLDS = 10
# Screened candidates (see _resolved_inputs) re-ranked by K-fold CV: the best by corrected LOO only,
# which keeps the fit time within a few OpenTURNS LARS fits (benchmarks/pce_peers.py, timing).
_SCREENED_SHORTLIST = 1


# ---- closed-form leave-one-out along nested supports ------------------------------------------------
def loo_path(psi: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Relative LOO and corrected LOO errors of least squares on the nested supports ``psi[:, :k]``.

    One QR factorisation serves every k: with ``Ψ = QR`` the first k columns of Q span the first k
    columns of Ψ, so fitted values, hat-matrix diagonals ``h`` and ``tr((Ψ_kᵀΨ_k)⁻¹) = ‖R_k⁻¹‖²_F``
    are cumulative sums. ``LOO_k = mean(((y − ŷ_k)/(1 − h_k))²) / var(y)`` (PRESS); the corrected error
    multiplies it by ``N/(N−k) · (1 + tr((Ψ_kᵀΨ_k)⁻¹))`` (Chapelle, Vapnik & Bengio 2002, as used by
    Blatman & Sudret 2011). Entries where the fit is not identifiable are ``inf``.

    Returns
    -------
    loo, corrected : ndarray (k_max,)
        Entry ``k − 1`` is for the first ``k`` columns.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> x = rng.normal(size=50); y = 1 + 2 * x + 0.1 * rng.normal(size=50)
    >>> loo, corr = loo_path(np.column_stack([np.ones(50), x]), y)
    >>> bool(loo[1] < 0.01 < loo[0]), bool(corr[1] > loo[1])
    (True, True)
    """
    loo, corrected, _, _ = _loo_qr(psi, y)
    return loo, corrected


def _loo_qr(
    psi: np.ndarray, y: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray | None, np.ndarray | None]:
    """:func:`loo_path` and the triangular factor ``R`` and ``Qᵀy`` of its usable leading columns:
    the least-squares coefficients of the first k columns are ``R[:k, :k]⁻¹ (Qᵀy)[:k]``."""
    n, k_max = psi.shape
    var = np.var(y, ddof=1) if n > 1 else 0.0
    loo = np.full(k_max, np.inf)
    corrected = np.full(k_max, np.inf)
    if n < 2 or var <= 0:
        return loo, corrected, None, None
    q, r = linalg.qr(psi, mode="economic")
    diag = np.abs(np.diag(r))
    rank_ok = diag > 1e-10 * max(diag.max(), 1e-300) * np.sqrt(n)
    usable = int(np.argmin(rank_ok)) if not rank_ok.all() else k_max
    usable = min(usable, n - 1)
    if usable == 0:
        return loo, corrected, None, None
    q, r = q[:, :usable], r[:usable, :usable]
    qty = q.T @ y
    proj = q * qty  # column j: contribution of direction j to the fitted values
    fitted = np.cumsum(proj, axis=1)  # (n, usable)
    hat = np.cumsum(q**2, axis=1)
    rinv = linalg.solve_triangular(r, np.eye(usable))
    # ‖R_k⁻¹‖²_F: R_k⁻¹ is the leading k×k block of the upper-triangular R⁻¹, so the sum of its
    # first k squared column norms
    trace = np.cumsum(np.sum(rinv**2, axis=0))
    with np.errstate(divide="ignore", invalid="ignore"):
        resid = (y[:, None] - fitted) / (1.0 - hat)
        err = np.mean(resid**2, axis=0) / var
        k = np.arange(1, usable + 1)
        factor = n / (n - k) * (1.0 + trace)
    bad = np.any(hat > 1 - 1e-10, axis=0)
    err[bad] = np.inf
    loo[:usable] = err
    corrected[:usable] = err * factor
    return loo, corrected, r, qty


# ---- selectors: order the non-constant terms ----------------------------------------------------------
@dataclass
class _Moments:
    """Sums over the runs of one basis: ``n``, ``Σψ``, ``Σψψᵀ`` (the Gram matrix) and ``Σψy``.

    Selectors work on the Gram matrix of the centred, normalised columns built from these sums, so a
    path step costs O(P·k) instead of O(n·P), and a K-fold training set's sums are the full sums minus
    the held-out rows' (one Gram matrix per basis serves every fold).
    """

    n: int
    s: np.ndarray
    g: np.ndarray
    b: np.ndarray
    sy: float

    @classmethod
    def of(cls, psi: np.ndarray, y: np.ndarray) -> _Moments:
        return cls(psi.shape[0], psi.sum(axis=0), psi.T @ psi, psi.T @ y, float(y.sum()))

    def without(self, psi: np.ndarray, y: np.ndarray) -> _Moments:
        return _Moments(
            self.n - psi.shape[0], self.s - psi.sum(axis=0), self.g - psi.T @ psi, self.b - psi.T @ y,
            self.sy - float(y.sum()),
        )

    @functools.cached_property
    def normalised(self) -> tuple[np.ndarray, np.ndarray]:
        """Gram matrix and correlations of the centred, unit-norm non-constant columns (1:)."""
        mu = self.s[1:] / self.n
        gram = self.g[1:, 1:] - np.outer(mu, self.n * mu)
        xy = self.b[1:] - mu * self.sy
        var = np.diag(gram).copy()
        # a column constant over these runs (centred norm at rounding level) is never selected
        dead = var <= 1e-12 * max(float(np.max(np.diag(self.g))), 1e-300)
        inv = 1.0 / np.sqrt(np.where(dead, 1.0, var))
        gram *= inv[:, None]
        gram *= inv[None, :]
        xy = xy * inv
        gram[dead, :] = 0.0
        gram[:, dead] = 0.0
        gram[dead, dead] = 1.0
        xy[dead] = 0.0
        return gram, xy


class _Greedy:
    """Entry order of least angle regression (``lar``) or orthogonal matching pursuit on a Gram matrix.

    Both work on the orthonormalised directions of the active columns held in the Gram space: row
    ``i`` of ``v`` is ``Xᵀq_i`` with ``q_i`` the Gram–Schmidt direction of the i-th chosen column (an
    incremental Cholesky factor of the active Gram block, ``R = v[:, active]``). OMP removes the
    residual's component along ``q_k`` from the correlations; LAR's equiangular direction is
    ``Xᵀu = Σ z_i v_i / ‖z‖`` with ``Rᵀz = s`` (signs of the active correlations), so ``z`` gains one
    entry per step (Efron et al. 2004, *Least angle regression*, Ann. Statist. 32, 407–499). A step
    costs O(P·k) in a few array operations (scikit-learn's path solvers pay a triangular solve and
    argument checks per step), and :meth:`extend` resumes a path where it stopped. Columns
    (numerically) in the span of the active ones are skipped.
    """

    def __init__(self, gram: np.ndarray, xy: np.ndarray, lar: bool, max_steps: int) -> None:
        p = xy.size
        self.gram, self.lar = gram, lar
        self.v = np.zeros((max(max_steps, 1), p))
        self.c = np.array(xy, dtype=float)
        self.free = np.ones(p, bool)
        self.n_free = p
        self.order: list[int] = []
        self.z: list[float] = []
        self.agg = np.zeros(p)  # Σ z_i v_i (LAR)
        self.zsq = 0.0
        self.nxt = -1

    def extend(self, steps: int) -> np.ndarray:
        """The entry order, the path run to ``steps`` entries (fewer when the columns run out)."""
        steps = min(steps, self.v.shape[0])
        gram, v, c, free = self.gram, self.v, self.c, self.free
        while len(self.order) < steps and self.n_free:
            k = len(self.order)
            j = self.nxt if self.nxt >= 0 and free[self.nxt] else int(np.argmax(np.where(free, np.abs(c), -1.0)))
            self.nxt = -1
            t = gram[j] - v[:k, j] @ v[:k] if k else np.array(gram[j], dtype=float)
            free[j] = False
            self.n_free -= 1
            if t[j] <= 1e-10 * gram[j, j] or gram[j, j] <= 0:
                continue  # in the span of the active columns: never enters
            rkk = np.sqrt(t[j])
            v[k] = t / rkk
            self.order.append(j)
            if not self.lar:
                c -= (c[j] / rkk) * v[k]
                continue
            self._lar_step(j, k, rkk)
        return np.asarray(self.order, dtype=np.int64)

    def _lar_step(self, j: int, k: int, rkk: float) -> None:
        v, c = self.v, self.c
        zk = (np.sign(c[j]) - float(np.dot(v[:k, j], self.z))) / rkk
        self.z.append(zk)
        self.agg += zk * v[k]
        self.zsq += zk * zk
        big_a = 1.0 / np.sqrt(self.zsq)
        a = big_a * self.agg
        cmax = abs(c[j])
        # the step to the next entry is the smallest positive (C ∓ c_j)/(A ∓ a_j): the largest of the
        # reciprocals (a negative reciprocal is a negative step, never the largest when one is positive)
        with np.errstate(divide="ignore", invalid="ignore"):
            h = np.maximum((big_a - a) / (cmax - c), (big_a + a) / (cmax + c))
        h[~self.free] = -np.inf
        nxt = int(np.argmax(h))
        gamma = cmax / big_a
        if h[nxt] > 0:
            gamma = min(gamma, 1.0 / float(h[nxt]))
        c -= gamma * a


def _greedy_order(gram: np.ndarray, xy: np.ndarray, max_steps: int, lar: bool) -> np.ndarray:
    """Entry order of LAR (``lar``) or OMP on ``gram``, ``xy`` up to ``max_steps`` entries (see :class:`_Greedy`)."""
    return _Greedy(gram, xy, lar, max_steps).extend(max_steps)


_SELECTORS = {"lars": True, "omp": False}  # selector name -> least angle (else matching pursuit)
# The path is first run this far, then doubled while the best support (by corrected LOO) lies in its
# last part: past the optimum the correction factor only grows, so a path run to n/2 steps is mostly
# wasted work (O(n³) at the default basis size 3n).
_FIRST_STEPS = 40
_STOP_SHARE = 0.6


@dataclass(frozen=True)
class _Choice:
    error: float  # corrected LOO error of the chosen support
    loo: float
    degree: int
    q_norm: float
    selector: str
    terms: np.ndarray  # multi-indices of the chosen support, constant first
    coef: np.ndarray
    cv: float = np.nan  # K-fold error of the whole selection procedure (sparse methods)
    basis: np.ndarray | None = None  # candidate basis the support was selected from (None: hyperbolic)
    active: np.ndarray | None = None  # inputs with interactions in a screened basis (None: hyperbolic)

    def candidates(self, d: int) -> np.ndarray:
        return hyperbolic_indices(d, self.degree, self.q_norm) if self.basis is None else self.basis


def _path(
    psi: np.ndarray, y: np.ndarray, selector: str, moments: _Moments | None = None, hint: int = 0
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray | None, np.ndarray | None]:
    """Term order (constant first), LOO / corrected LOO along it, and ``R``, ``Qᵀy`` of its QR (see
    :func:`_loo_qr`), for one selector.

    ``hint``: a support size expected near the optimum (e.g. the previous candidate's); the path is
    first run to twice that, and extended only while its best support lies in the last part.
    """
    n, p = psi.shape
    if selector == "ols":
        order = np.arange(p)
        if p >= n:
            return order, np.full(p, np.inf), np.full(p, np.inf), None, None
        loo, corr, r, qty = _loo_qr(psi, y)
        # the full basis is the only candidate support
        mask = np.arange(p) < p - 1
        loo[mask], corr[mask] = np.inf, np.inf
        return order, loo, corr, r, qty
    if p == 1:  # the constant alone (degree 0): nothing to select
        return (np.zeros(1, np.int64), *_loo_qr(psi, y))
    m = _Moments.of(psi, y) if moments is None else moments
    max_steps = max(1, min(int(_SUPPORT_FRACTION * n), n - 2, p - 1))
    steps = min(max_steps, max(_FIRST_STEPS, 2 * hint))
    gram, xy = m.normalised
    greedy = _Greedy(gram, xy, _SELECTORS[selector], max_steps)
    while True:
        order = np.concatenate([[0], greedy.extend(steps) + 1])
        loo, corr, r, qty = _loo_qr(psi[:, order], y)
        best = int(np.argmin(corr)) + 1
        if steps >= max_steps or order.size - 1 < steps or best <= _STOP_SHARE * (order.size - 1):
            return order, loo, corr, r, qty
        steps = min(max_steps, 2 * steps)


def _fit_support(
    psi: np.ndarray, y: np.ndarray, selector: str, moments: _Moments | None = None, hint: int = 0
) -> tuple[float, float, np.ndarray, np.ndarray]:
    """Hybrid fit of one candidate basis: (corrected LOO, LOO, chosen columns, OLS coefficients).

    The coefficients come from the QR factorisation the LOO errors were computed with.
    """
    order, loo, corr, r, qty = _path(psi, y, selector, moments, hint)
    k = int(np.argmin(corr)) + 1
    rows = order[:k]
    if not np.isfinite(corr[k - 1]) or r is None or qty is None or r.shape[0] < k:
        return np.inf, np.inf, rows, np.zeros(k)
    coef = linalg.solve_triangular(r[:k, :k], qty[:k], check_finite=False)
    return float(corr[k - 1]), float(loo[k - 1]), rows, coef


def _kfold_error(
    psi: np.ndarray, y: np.ndarray, selector: str, folds: list[np.ndarray], hint: int = 0, bound: float = np.inf
) -> float:
    """Relative K-fold error of the whole procedure (selection, support size, refit) on one basis.

    Unlike the closed-form LOO of the chosen support, the selection is redone without the held-out
    runs, so the optimism of greedy selection from a large candidate basis is not hidden. The
    training sets' Gram matrices are the full one minus the held-out rows' (see :class:`_Moments`).
    ``inf`` as soon as the folds done already exceed ``bound`` (the error is a sum over folds).
    """
    var = np.var(y, ddof=1)
    if var <= 0:
        return 0.0
    full = _Moments.of(psi, y) if selector in _SELECTORS else None
    sq = 0.0
    for test in folds:
        train = np.setdiff1d(np.arange(y.size), test)
        m = None if full is None else full.without(psi[test], y[test])
        _, _, rows, coef = _fit_support(psi[train], y[train], selector, m, hint)
        if not np.all(np.isfinite(coef)) or rows.size >= train.size:
            return np.inf
        sq += float(np.sum((y[test] - psi[np.ix_(test, rows)] @ coef) ** 2))
        if sq / (y.size * var) > bound:
            return np.inf
    return sq / (y.size * var)


def _select(*args: Any, **kwargs: Any) -> _Choice:
    from threadpoolctl import threadpool_limits

    # hundreds of small dense problems: BLAS threads only add contention
    with threadpool_limits(limits=1, user_api="blas"):
        return _select_unthreaded(*args, **kwargs)


def _select_unthreaded(
    xi: list[np.ndarray],
    y: np.ndarray,
    germ_map: GermMap,
    method: str,
    degrees: Sequence[int],
    q_norms: Sequence[float],
    rng: np.random.Generator,
    screen: bool = True,
) -> _Choice:
    """Scan (degree, q-norm) candidates per selector by corrected LOO; re-rank the best by K-fold CV.

    With ``screen``, a second scan restricts interactions to the inputs the first choice resolves
    (see :func:`_screened_basis`) and is kept when its K-fold error is lower.
    """
    d = len(germ_map.germs)
    if _is_constant(y):
        # nothing to select: the expansion is the constant, exact (zero error) on every run
        return _Choice(0.0, 0.0, 0, 1.0, "constant", np.zeros((1, d), np.int64), np.array([float(np.mean(y))]), 0.0)
    table = univariate_table(xi, germ_map.germs, max(degrees))  # every candidate basis gathers from it
    if method in ("lars", "omp", "sparse") and y.size > _SCAN_RUNS and len(degrees) * len(q_norms) > 1:
        sub = np.sort(rng.choice(y.size, _SCAN_RUNS, replace=False))
        first = _select_table(table[sub], y[sub], method, degrees, q_norms, rng, screen)
        return _refine(table, y, first, degrees, rng)
    return _select_table(table, y, method, degrees, q_norms, rng, screen)


def _refine(table: np.ndarray, y: np.ndarray, first: _Choice, degrees: Sequence[int], rng: np.random.Generator) -> _Choice:
    """Large designs: the choice made on a subsample, re-scanned upward in degree on every run.

    The subsample fixes the selector, the q-norm and the screening (they depend little on the number
    of runs); the degree the runs resolve grows with their number, so degrees from the subsample's
    choice upward are fitted on all runs (same stopping rule) and the best is judged by K-fold CV.
    """
    d = table.shape[1]
    active = first.active

    def build(p: int, q: float) -> tuple[np.ndarray, np.ndarray | None]:
        if active is None:
            return hyperbolic_indices(d, p, q), None
        return (_screened_basis(active, p, q),) * 2

    ladder = [p for p in degrees if p >= first.degree] or [first.degree]
    found = _scan(table, y, (first.selector,), ladder, (first.q_norm,), build, patience=1)
    if not found:
        return first
    # 5 folds: with more than _SCAN_RUNS runs a procedure refitted on 80 % of them stays close to the
    # one judged (10 folds guard the recovery threshold of small designs, see _select_table)
    folds = np.array_split(rng.permutation(y.size), _LARGE_FOLDS)
    best = _rank(table, y, found[:1], folds)
    return replace(best, active=active)


def _select_table(
    table: np.ndarray,
    y: np.ndarray,
    method: str,
    degrees: Sequence[int],
    q_norms: Sequence[float],
    rng: np.random.Generator,
    screen: bool,
) -> _Choice:
    """The scan of :func:`_select_unthreaded` on the univariate table of the runs."""
    d = table.shape[1]
    selectors = {"sparse": ("lars", "omp")}.get(method, (method,))
    shortlist = _scan(table, y, selectors, degrees, q_norms, lambda p, q: (hyperbolic_indices(d, p, q), None))
    if not shortlist:
        raise ValueError(
            f"no candidate basis could be fitted with {y.size} runs and degrees {list(degrees)}; "
            "give more runs (n_runs) or a lower degree"
        )
    if selectors == ("ols",) or y.size < 10:
        return min(shortlist, key=lambda c: c.error)
    # 10 folds rather than 5: the procedure refitted on 90 % of the runs stays close to the one being
    # judged; on 80 % a sparse support found at the recovery threshold is often lost (Ishigami,
    # 60 runs: an exact 31-term support scored 0.5 by 5-fold CV)
    folds = np.array_split(rng.permutation(y.size), min(_FOLDS, y.size // 2))
    best = _rank(table, y, shortlist, folds)
    if not screen or len(degrees) < 2 or len(q_norms) < 2:
        return best
    active = _resolved_inputs(best)
    if active.all() or not active.any():
        return best
    # the selector that won, and only its best screened basis by corrected LOO, are judged by K-fold CV:
    # the screened scan then costs about a third of the first one
    second = _scan(table, y, (best.selector,), degrees, q_norms, lambda p, q: (_screened_basis(active, p, q),) * 2)
    if not second:
        return best
    screened = replace(_rank(table, y, second[:_SCREENED_SHORTLIST], folds, best.cv), active=active)
    return min([best, screened], key=lambda c: (c.cv, c.error))


def _scan(
    table: np.ndarray,
    y: np.ndarray,
    selectors: Sequence[str],
    degrees: Sequence[int],
    q_norms: Sequence[float],
    build: Callable[[int, float], tuple[np.ndarray, np.ndarray | None]],
    patience: int = 2,
) -> list[_Choice]:
    """The best few candidates per selector by corrected LOO; ``build(p, q)`` gives (basis, stored basis).

    Degrees rise per q-norm until ``patience`` successive degrees bring no improvement (Blatman &
    Sudret's rule: 2; the large-design refinement, which starts at a degree already chosen: 1). Every
    q-norm is scanned: the hyperbolic sets nest, but a richer one can help after two that did not (an
    exact degree-3 polynomial with a term ``a b²`` needs q = 1 at degree 3).
    """
    found: dict[str, list[_Choice]] = {sel: [] for sel in selectors}
    hint = dict.fromkeys(selectors, 0)  # support size of the selector's previous candidate
    seen: set[bytes] = set()
    for q in q_norms:
        # Blatman & Sudret's stopping rule, per selector: two successive degrees without improvement
        worse = dict.fromkeys(selectors, 0)
        previous = dict.fromkeys(selectors, np.inf)
        _scan_q(table, y, selectors, degrees, q, build, patience, found, hint, seen, worse, previous)
    shortlist: list[_Choice] = []
    for sel in selectors:
        ranked = sorted(found[sel], key=lambda c: c.error)
        shortlist.extend(c for c in ranked[:_SHORTLIST] if np.isfinite(c.error))
    return shortlist


def _scan_q(
    table: np.ndarray,
    y: np.ndarray,
    selectors: Sequence[str],
    degrees: Sequence[int],
    q: float,
    build: Callable[[int, float], tuple[np.ndarray, np.ndarray | None]],
    patience: int,
    found: dict[str, list[_Choice]],
    hint: dict[str, int],
    seen: set[bytes],
    worse: dict[str, int],
    previous: dict[str, float],
) -> None:
    """The degree scan of :func:`_scan` at one q-norm (appends to ``found``)."""
    for p in degrees:
        live = [sel for sel in selectors if worse[sel] < patience]
        if not live:
            break
        indices, stored = build(p, q)
        if indices.shape[0] > _basis_cap(y.size) or ("ols" in live and indices.shape[0] >= y.size):
            break
        key = indices.tobytes()
        if key in seen:  # e.g. every q-norm gives the same basis in one dimension
            continue
        seen.add(key)
        psi = product_basis(table, indices)
        # one Gram matrix serves both selectors
        moments = _Moments.of(psi, y) if any(sel in _SELECTORS for sel in live) and indices.shape[0] > 1 else None
        for sel in live:
            err, loo, rows, coef = _fit_support(psi, y, sel, moments, hint[sel])
            hint[sel] = rows.size
            found[sel].append(_Choice(err, loo, p, q, sel, indices[rows], coef, basis=stored))
            worse[sel] = worse[sel] + 1 if err >= previous[sel] else 0
            previous[sel] = min(previous[sel], err)


def _rank(
    table: np.ndarray, y: np.ndarray, shortlist: Sequence[_Choice], folds: list[np.ndarray], bound: float = np.inf
) -> _Choice:
    """The shortlisted candidate with the lowest K-fold error of the whole selection procedure.

    Candidates are judged best corrected LOO first; one whose folds already exceed the best complete
    K-fold error (or ``bound``) is dropped unfinished (``cv = inf``): the choice is the same.
    """
    d = table.shape[1]
    ranked: list[_Choice] = []
    for c in sorted(shortlist, key=lambda c: c.error):
        best = min([bound, *(r.cv for r in ranked)])
        cv = _kfold_error(product_basis(table, c.candidates(d)), y, c.selector, folds, c.terms.shape[0], best)
        ranked.append(replace(c, cv=cv))
    return min(ranked, key=lambda c: (c.cv, c.error))


def _resolved_inputs(choice: _Choice) -> np.ndarray:
    """Inputs whose total Sobol index in ``choice`` exceeds its own relative K-fold error.

    An input whose whole contribution to the variance is below the error of the fit is not resolved
    by these runs: interaction terms involving it are fitted to noise.
    """
    coef = choice.coef[1:] if choice.terms.shape[0] and not choice.terms[0].any() else choice.coef
    terms = choice.terms[1:] if choice.terms.shape[0] and not choice.terms[0].any() else choice.terms
    var = float(np.sum(coef**2))
    if var <= 0:
        return np.zeros(choice.terms.shape[1], bool)
    total = np.array([np.sum(coef[terms[:, i] > 0] ** 2) for i in range(terms.shape[1])]) / var
    return total > choice.cv


def _screened_basis(active: np.ndarray, degree: int, q_norm: float) -> np.ndarray:
    """Hyperbolic set over the ``active`` inputs plus univariate terms up to ``degree`` in the others."""
    return _screened_basis_cached(tuple(bool(a) for a in active), int(degree), float(q_norm)).copy()


@functools.lru_cache(maxsize=256)
def _screened_basis_cached(flags: tuple[bool, ...], degree: int, q_norm: float) -> np.ndarray:
    active = np.array(flags, bool)
    d = active.size
    inner = hyperbolic_indices(int(active.sum()), degree, q_norm)
    out = np.zeros((inner.shape[0], d), np.int64)
    out[:, active] = inner
    extra = [np.zeros((degree, d), np.int64) for _ in np.flatnonzero(~active)]
    for block, i in zip(extra, np.flatnonzero(~active)):
        block[:, i] = np.arange(1, degree + 1)
    return _graded(np.concatenate([out, *extra]))


def _basis_cap(n: int) -> int:
    # The Gram matrix of a candidate basis costs n·P² flops: beyond ~1 200 runs the cap keeps that
    # bounded (P ≤ sqrt(budget / n)) so the scan stays near-linear in n; 3 n terms below.
    return max(_MIN_TERMS, min(_MAX_TERMS, _TERMS_PER_RUN * n, int(np.sqrt(_GRAM_FLOPS / n))))


def _is_constant(y: np.ndarray) -> bool:
    """All runs equal up to rounding (relative 1e-12 of the output's magnitude)."""
    return bool(np.ptp(y) <= 1e-12 * max(float(np.max(np.abs(y))), np.finfo(float).tiny))


def _check_determined(n_ok: int, n_failed: int, d: int, degree: int | None) -> None:
    """Refuse fits with too few runs to identify, let alone validate, the smallest useful expansion.

    With fewer than ``d + 2`` runs even the linear expansion (a mean and one term per input) leaves no
    run to validate it: the selection then drops inputs arbitrarily while its leave-one-out error
    looks small (3 runs of ``y = a + e`` gave LOO 0.2 % beside indices [1, 0] for the true [0.5, 0.5]).
    """
    need = 2 if degree == 0 else d + 2
    if n_ok < need:
        failed = f" ({n_failed} failed runs dropped)" if n_failed else ""
        raise ValueError(
            f"fit_pce needs at least {need} successful runs for {d} uncertain input(s) "
            f"(the mean, one linear term per input and one run to validate them); got {n_ok}{failed}. "
            "Give more runs (n_runs, or more samples), or fix unimportant inputs as Constant"
        )


# ---- designs ----------------------------------------------------------------------------------------
class _DesignStream:
    """Unit-hypercube points with continuation (Sobol/Halton engines extend the same sequence)."""

    def __init__(self, d: int, design: str, rng: np.random.Generator) -> None:
        self.d, self.design, self.rng = d, design, rng
        self.engine = None
        if design == "sobol":
            self.engine = qmc.Sobol(d, scramble=True, rng=rng)
        elif design == "halton":
            self.engine = qmc.Halton(d, scramble=True, rng=rng)

    def take(self, n: int) -> np.ndarray:
        if self.engine is None:
            return unit_design(n, self.d, self.design, rng=self.rng)
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", message=".*balance properties.*")
            u = self.engine.random(n)
        return open_unit(u)


def _run(
    model: ForwardModel, values: Mapping[str, np.ndarray], backend: Backend | None, batch_size: int | None
) -> tuple[dict[str, np.ndarray], np.ndarray]:
    result = evaluate(model, values, backend=backend, batch_size=batch_size)
    return result.outputs, result.status == OK


def _check_choice(name: str, value: Any, choices: Sequence[Any]) -> None:
    choice(value, name, choices)


def _relative_error(y: np.ndarray, pred: np.ndarray) -> float:
    var = np.var(y, ddof=1)
    return float(np.mean((y - pred) ** 2) / var) if var > 0 else float(np.mean((y - pred) ** 2))


_OLD_KEYS = ("degree", "q_norm", "max_degree", "target_loo", "batch", "level", "rule", "sparse")


def _method_record(method: Regression | Quadrature | str, old: Mapping[str, Any]) -> Regression | Quadrature:
    """The option record of ``fit_pce(method=...)``; the flat keywords of the last release warn."""
    unknown = sorted(set(old) - set(_OLD_KEYS))
    if unknown:
        raise TypeError(f"fit_pce() got unexpected keyword argument(s) {unknown}")
    if isinstance(method, (Regression, Quadrature)):
        if old:
            raise TypeError(
                f"fit_pce() got {sorted(old)} beside method={method!r}; give them as fields of the option record"
            )
        return method
    if not isinstance(method, str):
        raise TypeError(f"method must be a Regression, a Quadrature or a method name, got {type(method).__name__}")
    record = method_from_keys(method, **old)
    if old:
        fields = ", ".join(f"{'enrich_by' if k == 'batch' else k}={v!r}" for k, v in old.items())
        if isinstance(record, Regression):
            fields = f"{record.selector!r}, {fields}"
        warn_deprecated("fit_pce", f"{', '.join(sorted(old))}=...",
                        f"method={type(record).__name__}({fields}) (uqbridge.pce.{type(record).__name__})")
    return record


def fit_pce(
    model: ForwardModel,
    *,
    method: Regression | Quadrature | str = "sparse",
    n_runs: int | None = None,
    design: str = "sobol",
    outputs: Sequence[str] | None = None,
    samples: xr.Dataset | None = None,
    rng: SeedLike = None,
    max_runs: int | None = None,
    n_holdout: int = 0,
    backend: Backend | None = None,
    batch_size: int | None = None,
    **deprecated: Any,
) -> PolynomialChaos:
    """Fit a polynomial chaos expansion of ``model`` over its declared uncertain inputs.

    Parameters
    ----------
    model : ForwardModel
    method : Regression, Quadrature or {"sparse", "lars", "omp", "ols", "quadrature"}, default "sparse"
        How to fit, with its options: :class:`~uqbridge.pce.Regression` (sparse regression by hybrid
        LARS, orthogonal matching pursuit, or ``"sparse"``: both, keeping the lower corrected LOO error
        per candidate basis; or full least squares) or :class:`~uqbridge.pce.Quadrature` (spectral
        projection on a chaospy quadrature rule). A name stands for that record with its defaults
        (``"quadrature"`` for ``Quadrature()``, any other for ``Regression(selector=name)``). Sparse
        supports are limited to ``n_runs / 2`` terms (the LOO error of a greedily selected support is
        optimistic near interpolation).
    n_runs : int, optional
        Size of the initial regression design (default ``max(40, 20 d)``); ignored with ``samples``.
    design : {"sobol", "lhs", "mc", "halton"}
        Regression design in the unit hypercube, mapped through the inputs (copula included).
    outputs : sequence of str, optional
        Outputs to expand (default all).
    samples : xarray.Dataset, optional
        An evaluated design (inputs and outputs along ``sample``, ``status`` optional, e.g. from
        :func:`uqbridge.propagate`); no new runs are made unless enrichment asks for them.
    rng : seed or Generator
        Design randomisation (and the hold-out design); the same seed gives the same expansion.
    max_runs : int, optional
        Largest number of runs sequential enrichment (``Regression.target_loo``) may make.
    n_holdout : int
        Size of a fresh validation design (its runs are not used for fitting).
    backend, batch_size
        Where to evaluate (see :mod:`uqbridge.execution`).
    **deprecated
        The flat keywords of the last release (``degree``, ``q_norm``, ``max_degree``, ``target_loo``,
        ``batch``, ``level``, ``rule``, ``sparse``): accepted with a ``DeprecationWarning`` for one
        release; give them as fields of the option record instead.

    Returns
    -------
    PolynomialChaos

    Notes
    -----
    Failed runs (status ≠ 0) are dropped from regression fits and counted in ``n_failed``; a
    quadrature rule cannot lose nodes, so a failed node raises. Regression fits with fewer than
    ``d + 2`` successful runs (``d`` uncertain inputs) are refused: they cannot identify the mean and a
    linear term per input and still validate them. A constant output gives the constant expansion
    (variance 0, Sobol indices NaN).

    Candidate bases have at most ``max(3 n, 500)`` terms and sparse supports at most ``n / 2``.

    Sparse fits scan degrees ``1..max_degree`` × q-norms per selector, keep the three best by
    corrected LOO, and re-rank those by a 10-fold cross-validation of the whole procedure (selection
    redone without the held-out runs), reported as ``validation["cv_error"]``: the closed-form LOO
    of a greedily chosen support is optimistic (on the G-function, 3e-5 against a true 1e-2 for
    OMP). When neither ``degree`` nor ``q_norm`` is given, a second scan (with the selector that won)
    screens the inputs: those whose total Sobol index in the first choice is below its K-fold error
    are not resolved by the runs and keep main effects only, the hyperbolic sets span the others;
    the best screened basis replaces the first choice when its K-fold error is lower
    (``validation["screened"]``). On the Sobol
    G-function (d = 8, 400 runs, 10 designs) this brought the worst Sobol-index error from 1.4e-2
    to 6.8e-3. ``benchmarks/pce_ishigami.py`` and ``benchmarks/pce_peers.py`` compare with
    OpenTURNS and chaospy.

    Cost: the selectors run on the Gram matrix of each candidate basis (one per basis, shared by
    LARS and OMP; K-fold training sets subtract the held-out rows), in NumPy with O(P·k) work per
    step (Gram-space Gram–Schmidt, see ``_Greedy``); paths stop soon after their best support and
    are resumed, not rerun, when extended; supports are refitted from the QR factorisation their LOO
    errors came from; a K-fold ranking
    drops a candidate once its folds exceed the best complete one; and beyond 1 200 runs candidate
    bases are capped so that a Gram matrix costs at most ~1.6e10 flops. With more than 500 runs the selector, q-norm and screening are chosen on a
    random 500-run subsample; degrees from that choice upward are then fitted on every run and the
    best is judged by 5-fold CV (``benchmarks/pce_scaling.py``: cost against n on the borehole).

    Examples
    --------
    >>> from uqbridge import ForwardModel, Input, Output, Uniform
    >>> m = ForwardModel("sq", lambda x: {"y": x**2 + x}, [Input("x", Uniform(-1, 1))], [Output("y")])
    >>> p = fit_pce(m, n_runs=20, rng=0)
    >>> round(float(p.mean().sel(output="y")), 10), round(float(p.variance().sel(output="y")), 10)
    (0.3333333333, 0.4222222222)
    """
    start = time.perf_counter()
    record = _method_record(method, deprecated)
    _check_choice("design", design, DESIGNS)
    if not isinstance(model, ForwardModel):
        raise TypeError(f"model must be a ForwardModel, got {type(model).__name__}")
    names = list(model.output_names if outputs is None else outputs)
    for o in names:
        model.output(o)  # clear KeyError for unknown outputs
    if isinstance(record, Regression) and record.target_loo is not None and max_runs is None:
        raise ValueError("target_loo needs max_runs, the largest number of model runs to spend")
    if not (isinstance(n_holdout, (int, np.integer)) and n_holdout >= 0):
        raise ValueError(f"n_holdout must be a non-negative integer, got {n_holdout!r}")
    rng = np.random.default_rng(rng)
    design_rng, holdout_rng, fold_rng = rng.spawn(3)
    cv_rng = int(fold_rng.integers(2**63))
    if isinstance(record, Quadrature):
        top = max(_DEFAULT_MAX_DEGREE, int(record.level))  # the germs' order as before the option records
    else:
        top = max(int(record.degree or 0), int(record.max_degree))
    germ_map = GermMap.build(model.inputs, top)
    d = len(germ_map.germs)
    target = [o for o in model.outputs if o.name in names]

    if isinstance(record, Quadrature):
        if samples is not None:
            raise ValueError("Quadrature makes its own runs on the rule's nodes; samples need a Regression method")
        coefs, indices, n_used = _fit_quadrature(model, germ_map, names, record, backend, batch_size)
        nan = np.full(len(names), np.nan)
        summary = _Summary(nan, nan, nan, ["quadrature"] * len(names), np.zeros(len(names), bool),
                           np.full(len(names), record.level), np.full(len(names), record.q_norm or 1.0), 0, n_used)
        label = "quadrature"
    else:
        stream = _DesignStream(d, design, design_rng)
        indices, coefs, summary = _fit_regression(
            model, germ_map, names, record, stream, n_runs, samples, max_runs, cv_rng, backend, batch_size
        )
        label = record.selector

    used_degree = int(indices.max()) if indices.size else 0
    pce = PolynomialChaos(
        name=model.name,
        germ_map=germ_map.with_order(max(used_degree, 1)),
        outputs=tuple(target),
        indices=indices,
        coefficients=coefs,
        validation=xr.Dataset(),
        n_runs=summary.n_total,
        n_failed=summary.n_failed,
        method=label,
    )
    holdout = None
    if n_holdout:
        hold_stream = _DesignStream(d, design, holdout_rng)
        hv, hy, hok = _new_runs(model, germ_map, hold_stream, int(n_holdout), names, backend, batch_size)
        pred = pce.model(**{k: v[hok] for k, v in hv.items()})
        holdout = np.array([_relative_error(hy[o][hok], pred[o]) for o in names])
    validation = _validation(pce, summary, holdout, time.perf_counter() - start)
    return replace(pce, validation=validation)


@dataclass(frozen=True)
class _Summary:
    """Per-output figures of a fit that go into its validation dataset."""

    loo: np.ndarray
    corrected: np.ndarray
    cv: np.ndarray
    selectors: list[str]
    screened: np.ndarray
    degree: np.ndarray
    q_norm: np.ndarray
    n_failed: int
    n_total: int


def _fit_regression(
    model: ForwardModel,
    germ_map: GermMap,
    names: list[str],
    record: Regression,
    stream: _DesignStream,
    n_runs: int | None,
    samples: xr.Dataset | None,
    max_runs: int | None,
    cv_rng: int,
    backend: Backend | None,
    batch_size: int | None,
) -> tuple[np.ndarray, np.ndarray, _Summary]:
    """Regression fit of every output, with sequential enrichment while ``record.target_loo`` is not met."""
    d = len(germ_map.germs)
    if not (samples is None or isinstance(samples, xr.Dataset)):
        raise TypeError(f"samples must be an xarray.Dataset, got {type(samples).__name__}")
    if samples is not None:
        missing = [n for n in list(germ_map.names) + names if n not in samples]
        if missing:
            raise KeyError(f"samples lack variable(s) {missing}; they need the inputs and outputs along 'sample'")
        values = {n: np.asarray(samples[n].values, float) for n in germ_map.names}
        ys = {o: np.asarray(samples[o].values, float) for o in names}
        ok = np.ones(samples.sizes["sample"], bool)
        if "status" in samples:
            ok &= np.asarray(samples["status"].values) == OK
        for o in names:
            ok &= np.isfinite(ys[o])
    else:
        n0 = int(n_runs) if n_runs is not None else max(40, 20 * d)
        if n0 < 2:
            raise ValueError(f"n_runs must be >= 2, got {n_runs!r}")
        values, ys, ok = _new_runs(model, germ_map, stream, n0, names, backend, batch_size)
    _check_determined(int(np.count_nonzero(ok)), int(np.count_nonzero(~ok)), d, record.degree)
    degrees = [int(record.degree)] if record.degree is not None else list(range(1, int(record.max_degree) + 1))
    q_norms = [float(record.q_norm)] if record.q_norm is not None else list(DEFAULT_Q_NORMS)
    while True:
        fits = [_fit_output(values, ys[o][ok], ok, germ_map, record.selector, degrees, q_norms, cv_rng) for o in names]
        worst = max(_honest_error(f) for f in fits)
        n_have = ok.size
        if record.target_loo is None or max_runs is None or worst <= record.target_loo or n_have >= int(max_runs):
            break
        extra = min(int(record.enrich_by) if record.enrich_by else max(1, n_have // 2), int(max_runs) - n_have)
        more_values, more_ys, more_ok = _new_runs(model, germ_map, stream, extra, names, backend, batch_size)
        values = {k: np.concatenate([values[k], more_values[k]]) for k in values}
        ys = {k: np.concatenate([ys[k], more_ys[k]]) for k in ys}
        ok = np.concatenate([ok, more_ok])
    indices, coefs = _merge_supports([f.terms for f in fits], [f.coef for f in fits], d)
    summary = _Summary(
        loo=np.array([f.loo for f in fits]),
        corrected=np.array([f.error for f in fits]),
        cv=np.array([f.cv for f in fits]),
        selectors=[f.selector for f in fits],
        screened=np.array([f.basis is not None for f in fits]),
        degree=np.array([f.degree for f in fits]),
        q_norm=np.array([f.q_norm for f in fits]),
        n_failed=int(np.count_nonzero(~ok)),
        n_total=int(ok.size),
    )
    return indices, coefs, summary


def _new_runs(
    model: ForwardModel,
    germ_map: GermMap,
    stream: _DesignStream,
    n: int,
    names: Sequence[str],
    backend: Backend | None,
    batch_size: int | None,
) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray], np.ndarray]:
    u = stream.take(n)
    values = model.inputs.from_unit(u)
    out, ok = _run(model, values, backend, batch_size)
    for o in names:
        ok &= np.isfinite(out[o])
    return {k: values[k] for k in germ_map.names}, {o: out[o] for o in names}, ok


def _fit_output(
    values: Mapping[str, np.ndarray],
    y: np.ndarray,
    ok: np.ndarray,
    germ_map: GermMap,
    method: str,
    degrees: Sequence[int],
    q_norms: Sequence[float],
    seed: int,
) -> _Choice:
    xi = germ_map.to_germ({k: v[ok] for k, v in values.items()})
    return _select(xi, y, germ_map, method, degrees, q_norms, np.random.default_rng(seed))


def _merge_supports(
    term_sets: Sequence[np.ndarray], coef_sets: Sequence[np.ndarray], d: int
) -> tuple[np.ndarray, np.ndarray]:
    """Union of the per-output supports (constant first), with zero coefficients where unselected."""
    union = np.unique(np.concatenate([np.zeros((1, d), np.int64)] + list(term_sets)), axis=0)
    keys = np.lexsort(tuple(union[:, k] for k in range(d - 1, -1, -1)) + (union.sum(axis=1),))
    union = union[keys]
    lookup = {tuple(row): j for j, row in enumerate(union.tolist())}
    coefs = np.zeros((len(term_sets), union.shape[0]))
    for o, (terms, coef) in enumerate(zip(term_sets, coef_sets)):
        for row, c in zip(terms.tolist(), coef):
            coefs[o, lookup[tuple(row)]] = c
    return union, coefs


def _fit_quadrature(
    model: ForwardModel,
    germ_map: GermMap,
    names: Sequence[str],
    record: Quadrature,
    backend: Backend | None,
    batch_size: int | None,
) -> tuple[np.ndarray, np.ndarray, int]:
    import chaospy

    level, rule, sparse, q_norm = record.level, record.rule, record.sparse, record.q_norm
    dists = germ_map.quadrature_distributions()
    joint = chaospy.J(*dists)
    try:
        nodes, weights = chaospy.generate_quadrature(int(level), joint, rule=rule, sparse=bool(sparse))
    except (KeyError, ValueError, AssertionError) as err:
        raise ValueError(f"chaospy could not build quadrature rule {rule!r} (level={level}): {err}") from None
    nodes = np.asarray(nodes, float).reshape(len(dists), -1).T
    xi = germ_map.quadrature_to_germ(nodes)
    values = germ_map.from_germ(xi)
    out, ok = _run(model, values, backend, batch_size)
    for o in names:
        ok &= np.isfinite(out[o])
    if not ok.all():
        raise ValueError(
            f"model {model.name!r} failed on {int((~ok).sum())} of {ok.size} quadrature nodes; a "
            "quadrature rule cannot drop nodes; use a regression method (method='lars')"
        )
    indices = hyperbolic_indices(xi.shape[1], int(level), 1.0 if q_norm is None else float(q_norm))
    psi = basis_matrix([xi[:, k] for k in range(xi.shape[1])], germ_map.germs, indices)
    coefs = np.stack([(weights * out[o]) @ psi for o in names])
    return coefs, indices, int(ok.size)


def _honest_error(choice: _Choice) -> float:
    """The K-fold error of the selection procedure where computed, else the corrected LOO error."""
    return choice.cv if np.isfinite(choice.cv) else choice.error


def _validation(
    pce: PolynomialChaos, summary: _Summary, holdout: np.ndarray | None, wall: float
) -> xr.Dataset:
    loo, corrected, cv, selectors = summary.loo, summary.corrected, summary.cv, summary.selectors
    degree, q_norm, screened = summary.degree, summary.q_norm, summary.screened
    total = pce.indices.sum(axis=1)
    top = int(total.max())
    norm = np.stack(
        [np.sqrt(np.sum(pce.coefficients[:, total == k] ** 2, axis=1)) for k in range(top + 1)], axis=-1
    )
    nterms = np.count_nonzero(pce.coefficients, axis=1)
    ds = xr.Dataset(
        {
            "loo_error": ("output", np.asarray(loo, float), {"long_name": "relative leave-one-out error (PRESS / variance)"}),
            "corrected_loo_error": ("output", np.asarray(corrected, float), {"long_name": "LOO error times Chapelle's correction factor"}),
            "coefficient_norm": (("output", "degree"), norm, {"long_name": "root sum of squared coefficients of each total degree"}),
            "cv_error": ("output", np.asarray(cv, float), {"long_name": "relative K-fold (K <= 10) error of selection and refit"}),
            "selector": ("output", np.asarray(selectors, dtype=str)),
            "selected_degree": ("output", np.asarray(degree, np.int64)),
            "selected_q_norm": ("output", np.asarray(q_norm, float)),
            "screened": ("output", np.asarray(screened, bool), {"long_name": "chosen from the screened bases (interactions among resolved inputs only)"}),
            "n_terms": ("output", nterms.astype(np.int64)),
        },
        coords={"output": list(pce.output_names), "degree": np.arange(top + 1)},
        attrs={"n_runs": pce.n_runs, "n_failed": pce.n_failed, "method": pce.method, "wall_time_s": wall},
    )
    if holdout is not None:
        ds["holdout_error"] = ("output", holdout, {"long_name": "relative mean squared error on a fresh design"})
    return ds
