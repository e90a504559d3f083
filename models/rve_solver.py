"""FFT-based periodic RVE solver for the scalar cell problem (anti-plane shear or conduction) in 2D.

Given a voxel modulus field ``k(x)`` (shear modulus for anti-plane shear, conductivity for heat
flow; a scalar or a symmetric 2×2 tensor per voxel) it returns the effective 2×2 tensor; plus two-phase
microstructure generators, composite (laminate) voxels for sharp interfaces, and bounds.

The cell problem: find a periodic fluctuation ``ẽ`` (compatible: ``ẽ = ∇φ``) such that the flux
``k (E + ẽ)`` is divergence-free, for a prescribed mean gradient ``E``; ``K* E = ⟨k (E + ẽ)⟩``.
Two solvers share the Fourier projection ``Γ̂(ξ) = ξ ξᵀ / |ξ|²`` (onto zero-mean compatible fields):

* ``"fixed-point"`` — the basic scheme of Moulinec & Suquet (1998, Comput. Methods Appl. Mech. Eng.
  157, 69): ``e ← E − Γ⁰ * ((k − k⁰) e)`` with ``k⁰ = (k_min + k_max)/2``; contraction factor
  ``(c − 1)/(c + 1)`` for contrast ``c``; stopped on the equilibrium norm ``‖ξ·σ̂‖ / ‖σ̂(0)‖``.
* ``"cg"`` — conjugate gradients on ``Γ(k ẽ) = −Γ(k E)`` (Zeman, Vondřejc, Novák & Marek 2010,
  J. Comput. Phys. 229, 8065), an operator that is symmetric positive definite on compatible fields;
  iterations grow like ``√c``. Uses ``scipy.sparse.linalg.cg`` with a matrix-free operator.

Grids must have an odd number of voxels per side: then every Fourier mode has its conjugate partner
and ``Γ̂`` is an exact orthogonal projection of real fields (the Nyquist mode of even grids is not).
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy import ndimage
from scipy.sparse import linalg as splinalg
from threadpoolctl import threadpool_limits

__all__ = [
    "METHODS",
    "CellSolution",
    "composite_voxels",
    "effective_tensor",
    "hashin_shtrikman",
    "laminate",
    "random_two_phase",
    "solve_cell",
    "trace_bounds_satisfied",
    "voigt_reuss",
]

METHODS = ("cg", "fixed-point")


@dataclass(frozen=True)
class CellSolution:
    """Solution of one cell problem: gradient and flux fields ``(2, n1, n2)`` and the iteration count."""

    gradient: np.ndarray
    flux: np.ndarray
    iterations: int

    @property
    def mean_flux(self) -> np.ndarray:
        """Volume-averaged flux ``⟨k e⟩`` (one column of the effective tensor for a unit gradient)."""
        return self.flux.mean(axis=(1, 2))


def _check_field(modulus: Any) -> np.ndarray:
    k = np.asarray(modulus, dtype=float)
    if k.ndim not in (2, 4) or (k.ndim == 4 and k.shape[:2] != (2, 2)):
        raise ValueError(
            f"modulus must be a 2-D voxel field (n1, n2) or a tensor field (2, 2, n1, n2), got shape {k.shape}"
        )
    if any(n % 2 == 0 for n in k.shape[-2:]):
        raise ValueError(
            f"modulus grid must have an odd number of voxels per side (exact Fourier projection), got shape {k.shape}"
        )
    if not np.all(np.isfinite(k)):
        raise ValueError("modulus must be finite and positive in every voxel")
    low, _ = _eigen_range(k)
    if not np.all(low > 0):
        raise ValueError("modulus must be finite and positive in every voxel")
    if k.ndim == 4 and not np.allclose(k[0, 1], k[1, 0]):
        raise ValueError("modulus tensor field must be symmetric, k[0, 1] == k[1, 0]")
    return k


def _eigen_range(k: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Smallest and largest eigenvalue per voxel (the value itself for a scalar field)."""
    if k.ndim == 2:
        return k, k
    mean = 0.5 * (k[0, 0] + k[1, 1])
    radius = np.hypot(0.5 * (k[0, 0] - k[1, 1]), k[0, 1])
    return mean - radius, mean + radius


def _apply(k: np.ndarray, field: np.ndarray) -> np.ndarray:
    """Flux ``k e`` of a gradient field ``(2, n1, n2)``."""
    if k.ndim == 2:
        return k * field
    return np.stack([k[0, 0] * field[0] + k[0, 1] * field[1], k[1, 0] * field[0] + k[1, 1] * field[1]])


def _frequencies(shape: tuple[int, int]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    x1 = np.fft.fftfreq(shape[0])[:, None] * np.ones(shape)
    x2 = np.fft.fftfreq(shape[1])[None, :] * np.ones(shape)
    norm2 = x1**2 + x2**2
    norm2[0, 0] = 1.0  # Γ̂(0) = 0 is set by the zero numerator below
    return x1, x2, norm2


def _project(field: np.ndarray, xi: tuple[np.ndarray, np.ndarray, np.ndarray]) -> np.ndarray:
    """Γ applied to a real vector field ``(2, n1, n2)``: its zero-mean compatible (gradient) part."""
    x1, x2, norm2 = xi
    f = np.fft.fft2(field)  # both components in one call (last two axes)
    dot = (x1 * f[0] + x2 * f[1]) / norm2
    dot[0, 0] = 0.0
    return np.fft.ifft2(np.stack([x1 * dot, x2 * dot])).real


def solve_cell(
    modulus: Any, mean_gradient: Any, *, method: str = "cg", tol: float = 1e-10, maxiter: int = 5000
) -> CellSolution:
    """Solve the periodic cell problem for one prescribed mean gradient.

    Parameters
    ----------
    modulus : array_like, shape (n1, n2) or (2, 2, n1, n2)
        Positive voxel moduli, or symmetric positive-definite voxel tensors (e.g.
        :func:`composite_voxels`); ``n1`` and ``n2`` odd.
    mean_gradient : array_like, shape (2,)
        Prescribed average gradient (anti-plane shear strain or temperature gradient) ``E``.
    method : {"cg", "fixed-point"}
    tol : float
        Relative residual (CG) or equilibrium-norm (fixed point) tolerance.
    maxiter : int

    Examples
    --------
    >>> k = laminate(15, 5, 1.0, 10.0, axis=0)   # layers normal to x1
    >>> sol = solve_cell(k, [1.0, 0.0])
    >>> round(float(sol.mean_flux[0]), 8)  # Reuss (series) mean 1 / (2/3 + 1/30)
    1.42857143
    """
    k = _check_field(modulus)
    if method not in METHODS:
        raise ValueError(f"method must be one of {list(METHODS)}, got {method!r}")
    e_mean = np.asarray(mean_gradient, dtype=float).reshape(2, 1, 1)
    xi = _frequencies(k.shape[-2:])
    grid = k.shape[-2:]
    if method == "fixed-point":
        low, high = _eigen_range(k)
        k0 = 0.5 * (low.min() + high.max())
        e = np.broadcast_to(e_mean, (2, *grid)).copy()
        x1, x2, norm2 = xi
        for it in range(1, maxiter + 1):
            sigma = _apply(k, e)
            s1, s2 = np.fft.fft2(sigma[0]), np.fft.fft2(sigma[1])
            mean_flux = max(np.hypot(abs(s1[0, 0]), abs(s2[0, 0])), 1e-300)
            residual = np.sqrt(np.sum(np.abs(x1 * s1 + x2 * s2) ** 2)) / mean_flux
            if residual < tol:
                return CellSolution(e, sigma, it - 1)
            e = e_mean - _project(sigma - k0 * e, xi) / k0
        raise RuntimeError(f"fixed-point cell solver did not reach tol={tol} in maxiter={maxiter} iterations")

    shape = (2, *grid)
    size = int(np.prod(shape))
    operator = splinalg.LinearOperator(
        (size, size), matvec=lambda v: _project(_apply(k, v.reshape(shape)), xi).ravel(), dtype=float
    )
    rhs = -_project(_apply(k, np.broadcast_to(e_mean, shape)), xi).ravel()
    count = [0]

    def callback(_: np.ndarray) -> None:
        count[0] += 1

    # CG's inner products go to BLAS, whose threads only add contention at these vector sizes
    limit = threadpool_limits(limits=1, user_api="blas") if size > 8192 else contextlib.nullcontext()
    if not np.any(rhs):
        fluct = np.zeros(size)
    else:
        with limit:
            fluct, info = splinalg.cg(operator, rhs, rtol=tol, atol=0.0, maxiter=maxiter, callback=callback)
        if info != 0:
            raise RuntimeError(f"CG cell solver did not reach tol={tol} in maxiter={maxiter} iterations")
    e = e_mean + fluct.reshape(shape)
    return CellSolution(e, _apply(k, e), count[0])


def effective_tensor(modulus: Any, *, method: str = "cg", tol: float = 1e-10) -> np.ndarray:
    """Effective 2×2 tensor ``K*`` of a periodic voxel field (two cell problems, unit gradients).

    Examples
    --------
    >>> k = laminate(15, 5, 1.0, 10.0, axis=0)
    >>> t = effective_tensor(k)  # Reuss across the layers, Voigt along them
    >>> round(float(t[0, 0]), 6), round(float(t[1, 1]), 6), bool(abs(t[0, 1]) < 1e-12)
    (1.428571, 4.0, True)
    """
    cols = [solve_cell(modulus, e, method=method, tol=tol).mean_flux for e in ([1.0, 0.0], [0.0, 1.0])]
    tensor = np.column_stack(cols)
    return 0.5 * (tensor + tensor.T)


def laminate(n: int, layers: int, k1: float, k2: float, *, axis: int = 0) -> np.ndarray:
    """An ``n × n`` laminate: the first ``layers`` voxel rows (``axis=0``) or columns have ``k2``.

    Its exact effective tensor is the harmonic (Reuss) mean across the layers and the arithmetic
    (Voigt) mean along them, with volume fraction ``layers / n``.

    Examples
    --------
    >>> laminate(3, 1, 1.0, 2.0, axis=1)
    array([[2., 1., 1.],
           [2., 1., 1.],
           [2., 1., 1.]])
    """
    if not 0 <= layers <= n:
        raise ValueError(f"layers must be in [0, n={n}], got {layers!r}")
    if axis not in (0, 1):
        raise ValueError(f"axis must be 0 or 1, got {axis!r}")
    k = np.full((n, n), float(k1))
    if axis == 0:
        k[:layers, :] = k2
    else:
        k[:, :layers] = k2
    return k


def composite_voxels(fraction: Any, normal: Any, k_matrix: float, k_inclusion: float) -> np.ndarray:
    """Laminate composite voxels: a voxel cut by an interface becomes a rank-one laminate of the phases.

    ``K = k_V (I − n nᵀ) + k_R n nᵀ`` with the arithmetic (Voigt) mean ``k_V`` along the interface and
    the harmonic (Reuss) mean ``k_R`` across it, weighted by the voxel's inclusion ``fraction``; ``n`` is
    the interface normal (Kabel, Merkert & Schneider 2015, Comput. Mech. 55, 1251, "Use of composite
    voxels in FFT-based homogenization"). Pure voxels keep the phase modulus. It removes most of the
    staircase error of sharp interfaces: a circular-fibre square array at 11 voxels per diameter is
    within 0.5 % of the multipole solution, against +14 % (arithmetic) or −1 % (harmonic) mixing.

    Parameters
    ----------
    fraction : array_like, shape (n1, n2)
        Inclusion area fraction per voxel (e.g. :func:`models.microstructures.area_fractions`).
    normal : array_like, shape (2, n1, n2)
        Unit interface normal per voxel.

    Returns
    -------
    ndarray, shape (2, 2, n1, n2)

    Examples
    --------
    A half-filled voxel with a vertical interface (normal along x1): Reuss across, Voigt along.

    >>> k = composite_voxels([[0.5]], [[[1.0]], [[0.0]]], 1.0, 3.0)[:, :, 0, 0]
    >>> k.round(6).tolist()
    [[1.5, 0.0], [0.0, 2.0]]
    """
    phi = np.asarray(fraction, dtype=float)
    nrm = np.asarray(normal, dtype=float)
    if nrm.shape != (2, *phi.shape):
        raise ValueError(f"normal must have shape (2, *fraction.shape) = {(2, *phi.shape)}, got {nrm.shape}")
    if not np.all((phi >= 0) & (phi <= 1)):
        raise ValueError("fraction must lie in [0, 1] in every voxel")
    k_v = (1 - phi) * k_matrix + phi * k_inclusion
    k_r = 1.0 / ((1 - phi) / k_matrix + phi / k_inclusion)
    nn = nrm[:, None] * nrm[None, :]
    return k_v * (np.eye(2)[:, :, None, None] - nn) + k_r * nn


def random_two_phase(n: int, fraction: float, correlation_length: float, rng: Any = None) -> np.ndarray:
    """Periodic random two-phase voxel microstructure (boolean, True = inclusion phase).

    A level cut of a periodic Gaussian random field (white noise smoothed with a Gaussian kernel of
    standard deviation ``correlation_length`` voxels; Berk 1987, Phys. Rev. Lett. 58, 2718; Roberts &
    Teubner 1995, Phys. Rev. E 51, 4141), cut so that exactly ``round(fraction n²)`` voxels are inclusion.

    Examples
    --------
    >>> m = random_two_phase(15, 0.4, 2.0, rng=1)
    >>> m.shape, int(m.sum())
    ((15, 15), 90)
    """
    if not 0.0 <= fraction <= 1.0:
        raise ValueError(f"fraction must be in [0, 1], got {fraction!r}")
    if not correlation_length > 0:
        raise ValueError(f"correlation_length must be positive, got {correlation_length!r}")
    noise = np.random.default_rng(rng).standard_normal((n, n))
    field = ndimage.gaussian_filter(noise, correlation_length, mode="wrap")
    count = int(round(fraction * n * n))
    order = np.argsort(field, axis=None, kind="stable")[::-1]
    phase = np.zeros(n * n, dtype=bool)
    phase[order[:count]] = True
    return phase.reshape(n, n)


def voigt_reuss(k1: float, k2: float, f2: float) -> tuple[float, float]:
    """Wiener bounds (Reuss, Voigt): harmonic and arithmetic means with volume fraction ``f2`` of phase 2.

    Examples
    --------
    >>> tuple(round(v, 6) for v in voigt_reuss(1.0, 10.0, 0.5))
    (1.818182, 5.5)
    """
    return 1.0 / ((1 - f2) / k1 + f2 / k2), (1 - f2) * k1 + f2 * k2


def hashin_shtrikman(k1: float, k2: float, f2: float, dim: int = 2) -> tuple[float, float]:
    """Hashin–Shtrikman (1962, J. Appl. Phys. 33, 3125) bounds for an isotropic two-phase medium.

    ``k_HS = k_a + f_b / (1/(k_b − k_a) + f_a/(d k_a))`` with ``a`` the softer phase (lower bound) or
    the stiffer one (upper bound). In 2D the lower bound is Hashin's (1965) composite-cylinder value of
    the longitudinal shear modulus of a fibre composite.

    Examples
    --------
    >>> tuple(round(v, 6) for v in hashin_shtrikman(1.0, 10.0, 0.5))
    (2.384615, 4.193548)
    """
    f1 = 1.0 - f2
    lo, hi = (k1, k2) if k1 <= k2 else (k2, k1)
    f_lo, f_hi = (f1, f2) if k1 <= k2 else (f2, f1)
    if f_hi == 0.0 or f_lo == 0.0 or lo == hi:
        mean = f1 * k1 + f2 * k2
        return (1.0 / (f1 / k1 + f2 / k2), mean) if lo != hi else (lo, lo)
    lower = lo + f_hi / (1.0 / (hi - lo) + f_lo / (dim * lo))
    upper = hi + f_lo / (1.0 / (lo - hi) + f_hi / (dim * hi))
    return lower, upper


def trace_bounds_satisfied(tensor: Any, k1: float, k2: float, f2: float, *, rtol: float = 1e-8) -> bool:
    """Whether an anisotropic 2D effective tensor satisfies the Hashin–Shtrikman-type trace bounds.

    For ``k1 < k2`` and eigenvalues ``λ_i`` of ``K*`` (Murat & Tartar 1985; Lurie & Cherkaev 1984;
    Milton, *The Theory of Composites*, 2002, Ch. 23):
    ``Σ 1/(λ_i − k1) ≤ d/(f2 (k2 − k1)) + f1/(f2 k1)`` and
    ``Σ 1/(k2 − λ_i) ≤ d/(f1 (k2 − k1)) − f2/(f1 k2)``, plus the Wiener bounds on each ``λ_i``.
    For an isotropic tensor they reduce to :func:`hashin_shtrikman`.

    Examples
    --------
    >>> lo, hi = hashin_shtrikman(1.0, 10.0, 0.5)
    >>> trace_bounds_satisfied(np.eye(2) * (lo + hi) / 2, 1.0, 10.0, 0.5)
    True
    >>> trace_bounds_satisfied(np.eye(2) * 0.99 * lo, 1.0, 10.0, 0.5)
    False
    """
    if not 0.0 < f2 < 1.0:
        raise ValueError(f"f2 must be a volume fraction strictly between 0 and 1, got {f2!r}")
    if k1 == k2:
        raise ValueError(f"the phases must differ for the bounds to be informative, got k1 = k2 = {k1!r}")
    if k1 > k2:
        k1, k2, f2 = k2, k1, 1.0 - f2
    f1 = 1.0 - f2
    lam = np.linalg.eigvalsh(np.asarray(tensor, dtype=float))
    reuss, voigt = voigt_reuss(k1, k2, f2)
    slack = rtol * k2
    if np.any(lam < reuss - slack) or np.any(lam > voigt + slack):
        return False
    d = lam.size
    lower_ok = np.sum(1.0 / (lam - k1)) <= (d / (f2 * (k2 - k1)) + f1 / (f2 * k1)) * (1 + rtol)
    upper_ok = np.sum(1.0 / (k2 - lam)) <= (d / (f1 * (k2 - k1)) - f2 / (f1 * k2)) * (1 + rtol)
    return bool(lower_ok and upper_ok)
