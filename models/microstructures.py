"""Periodic two-phase microstructures in the unit cell: ordered arrays of cylinders/spheres and random
overlapping-particle (Boolean) media at a target porosity, rasterised on cell centres or face centres.

Particles are the *solid* phase; the complement is the pore space. Lengths are in units of the cell edge.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

__all__ = [
    "Microstructure",
    "square_array",
    "random_overlapping",
    "grid_points",
    "seed_from_unit",
]


@dataclass(frozen=True, eq=False)
class Microstructure:
    """Union of (periodically repeated) balls of radius ``radius`` centred at ``centres`` in [0, 1)^d.

    Parameters
    ----------
    centres : ndarray, shape (m, d)
        Particle centres in units of the cell edge.
    radius : float
        Particle radius in units of the cell edge (all particles equal).

    Examples
    --------
    >>> m = square_array(0.5)
    >>> bool(m.is_solid(np.array([[0.5, 0.5]]))[0]), bool(m.is_solid(np.array([[0.0, 0.0]]))[0])
    (True, False)
    """

    centres: np.ndarray
    radius: float

    @property
    def dim(self) -> int:
        return int(self.centres.shape[1])

    def first_cover(self, points: np.ndarray) -> np.ndarray:
        """Index of the first particle covering each point (``m`` where no particle covers it).

        Minimum-image periodic distance, which is exact while ``radius < 1/2``.
        """
        points = np.asarray(points, dtype=float)
        m = self.centres.shape[0]
        first = np.full(points.shape[0], m, dtype=np.int64)
        r2 = self.radius**2
        # chunks keep the (chunk, points) distance block small for fine 3-D grids
        for start in range(m - 1, -1, -256):
            lo = max(0, start - 255)
            delta = points[None, :, :] - self.centres[lo : start + 1, None, :]
            delta -= np.round(delta)
            inside = np.einsum("kpd,kpd->kp", delta, delta) <= r2
            hit = inside.any(axis=0)
            first[hit] = lo + np.argmax(inside[:, hit], axis=0)
        return first

    def is_solid(self, points: np.ndarray) -> np.ndarray:
        """Boolean mask: is each point (rows of ``points``) inside a particle?"""
        return self.first_cover(points) < self.centres.shape[0]

    def first_cover_grid(self, n: int, shift: tuple[float, ...] | None = None) -> np.ndarray:
        """:meth:`first_cover` at the points of :func:`grid_points` ``(n, d, shift)``, shape ``(n,)*d``.

        Stamps each particle on the grid cells of its bounding box only (last to first, so the
        lowest index wins): O(m r^d n^d) instead of O(m n^d).

        Examples
        --------
        >>> m = random_overlapping(0.6, 0.1, n=16, rng=2)
        >>> bool(np.array_equal(m.first_cover_grid(16).ravel(), m.first_cover(grid_points(16, 2))))
        True
        """
        d = self.dim
        offset = np.full(d, 0.5) if shift is None else 0.5 + np.asarray(shift, dtype=float)
        m = self.centres.shape[0]
        first = np.full((n,) * d, m, dtype=np.int64)
        r2 = (self.radius * n) ** 2  # in grid units
        for index in range(m - 1, -1, -1):
            c = self.centres[index] * n - offset  # centre in index coordinates
            reach = self.radius * n  # < n/2, so no cell appears twice in a box
            ranges = [np.arange(math.ceil(c[k] - reach), math.floor(c[k] + reach) + 1) for k in range(d)]
            dist2 = sum(
                ((r - c[k]) ** 2).reshape([-1 if j == k else 1 for j in range(d)]) for k, r in enumerate(ranges)
            )
            inside = dist2 <= r2
            cells = np.ix_(*[r % n for r in ranges])
            first[cells] = np.where(inside, index, first[cells])
        return first

    def rasterise(self, n: int, shift: tuple[float, ...] | None = None) -> np.ndarray:
        """Solid mask at the centres of an ``n^d`` grid of cells (optionally shifted, in cells)."""
        return self.first_cover_grid(n, shift) < self.centres.shape[0]


def grid_points(n: int, dim: int, shift: tuple[float, ...] | None = None) -> np.ndarray:
    """Cell-centre coordinates ``(i + 1/2)/n`` (plus ``shift``, in cells), C order, shape ``(n^d, d)``.

    Examples
    --------
    >>> grid_points(2, 2)[:2].tolist()
    [[0.25, 0.25], [0.25, 0.75]]
    """
    offset = np.full(dim, 0.5) if shift is None else 0.5 + np.asarray(shift, dtype=float)
    axes = [(np.arange(n) + offset[k]) / n for k in range(dim)]
    mesh = np.meshgrid(*axes, indexing="ij")
    return np.stack([g.ravel() for g in mesh], axis=1)


def _check_porosity(porosity: float, low: float = 0.0) -> float:
    porosity = float(porosity)
    if not low < porosity < 1.0:
        raise ValueError(f"porosity must lie in ({low:.4g}, 1), got {porosity!r}")
    return porosity


def square_array(porosity: float, dim: int = 2) -> Microstructure:
    """One cylinder (``dim=2``, square array) or sphere (``dim=3``, simple cubic) per unit cell.

    The radius gives solid fraction ``1 − porosity`` exactly in the continuum; touching particles
    (solid fraction π/4 in 2-D, π/6 in 3-D) bound the admissible porosity from below.

    Examples
    --------
    >>> round(square_array(1 - math.pi / 16).radius, 6)
    0.25
    """
    if dim not in (2, 3):
        raise ValueError(f"dim must be 2 or 3, got {dim!r}")
    touching = 1 - (math.pi / 4 if dim == 2 else math.pi / 6)
    porosity = _check_porosity(porosity, touching)
    solid = 1.0 - porosity
    radius = math.sqrt(solid / math.pi) if dim == 2 else (3 * solid / (4 * math.pi)) ** (1 / 3)
    return Microstructure(np.full((1, dim), 0.5), radius)


def seed_from_unit(seed_u: float) -> int:
    """Map an aleatory input ``seed_u`` in [0, 1) deterministically to an RNG seed in [0, 2^31).

    Examples
    --------
    >>> seed_from_unit(0.5)
    1073741824
    """
    seed_u = float(seed_u)
    if not 0.0 <= seed_u <= 1.0:
        raise ValueError(f"seed_u must lie in [0, 1], got {seed_u!r}")
    return min(int(seed_u * 2**31), 2**31 - 1)


def random_overlapping(
    porosity: float, radius: float, *, n: int = 64, dim: int = 2, rng: object = None
) -> Microstructure:
    """Random overlapping disks/spheres (Boolean model) with the porosity on an ``n^d`` grid ≈ target.

    Uniform centres are drawn one by one (a Poisson process conditioned on its count); the count
    is the one whose rasterised porosity is closest to ``porosity``, so the realised porosity is
    within about one particle's volume of the target. The Boolean model has porosity
    ``exp(−λ v)`` in expectation (λ number density, ``v`` particle volume), which sizes the pool.

    Parameters
    ----------
    porosity : float
        Target pore (void) fraction in (0, 1).
    radius : float
        Particle radius in units of the cell edge, in (0, 1/2); at least ~2 grid cells is advisable.
    n : int
        Grid on which the porosity is matched (use the solver's grid).
    dim : {2, 3}
    rng : seed or Generator
        Anything ``np.random.default_rng`` accepts: the realisation (aleatory).

    Examples
    --------
    >>> m = random_overlapping(0.6, 0.08, n=64, rng=1)
    >>> abs(float(1 - m.rasterise(64).mean()) - 0.6) < 0.01
    True
    """
    if dim not in (2, 3):
        raise ValueError(f"dim must be 2 or 3, got {dim!r}")
    porosity = _check_porosity(porosity)
    radius = float(radius)
    if not 0.0 < radius < 0.5:
        raise ValueError(f"radius must lie in (0, 0.5) cell edges, got {radius!r}")
    if not (isinstance(n, (int, np.integer)) and n >= 4):
        raise ValueError(f"n must be an integer >= 4, got {n!r}")
    generator = np.random.default_rng(rng)
    volume = math.pi * radius**2 if dim == 2 else 4 / 3 * math.pi * radius**3
    expected = -math.log(porosity) / volume
    pool = max(8, int(math.ceil(2.0 * expected + 10)))
    centres = generator.random((pool, dim))
    while True:
        first = Microstructure(centres, radius).first_cover_grid(n).ravel()
        # void fraction after k particles = fraction of points first covered at index >= k
        covered = np.bincount(first, minlength=centres.shape[0] + 1)
        void_after = 1.0 - np.concatenate([[0], np.cumsum(covered[:-1])]) / first.size
        if void_after[-1] <= porosity:
            k = int(np.argmin(np.abs(void_after - porosity)))
            return Microstructure(centres[:k].copy(), radius)
        centres = np.vstack([centres, generator.random((pool, dim))])
