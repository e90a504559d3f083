"""Periodic two-phase microstructures in the unit cell: ordered arrays of cylinders/spheres, random
overlapping-particle (Boolean) media at a target porosity and random non-overlapping (hard-disk) fibre
sections, rasterised on cell centres or face centres, or as sub-voxel area fractions with interface normals.

Particles are the *solid* phase; the complement is the pore space. Lengths are in units of the cell edge.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

__all__ = [
    "Microstructure",
    "area_fractions",
    "grid_points",
    "random_hard_disks",
    "random_overlapping",
    "seed_from_unit",
    "square_array",
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


def random_hard_disks(
    fraction: float, n_disks: int, *, min_gap: float = 0.0, sweeps: int = 60, rng: object = None
) -> Microstructure:
    """``n_disks`` equal, non-overlapping disks at area ``fraction`` in the periodic unit square.

    An equilibrium hard-disk configuration by the Metropolis Monte Carlo method (Metropolis, Rosenbluth,
    Rosenbluth, Teller & Teller 1953, J. Chem. Phys. 21, 1087 — a hard-disk system): start from a square
    lattice (which accommodates fractions up to π/4 for touching disks) and make ``sweeps`` rounds of
    single-disk random moves, rejecting any move that brings two disks closer than ``2 r + min_gap``
    (periodic minimum image). Random sequential addition would jam before fractions of ~0.55 and
    biases the pair statistics; the Metropolis sweeps give the hard-disk fluid (Torquato, *Random
    Heterogeneous Materials*, 2002, Ch. 3) used as the standard model of random fibre arrangements.

    Parameters
    ----------
    fraction : float
        Disk (fibre) area fraction; ``n_disks π r² = fraction``.
    n_disks : int
        Number of disks (a perfect square keeps the starting lattice regular).
    min_gap : float
        Smallest surface-to-surface distance, in units of the cell edge (a resin film between fibres).
    sweeps : int
        Monte Carlo sweeps (each tries one move per disk); ~50 decorrelate the lattice at fractions ≤ 0.6.
    rng : seed or Generator

    Examples
    --------
    >>> m = random_hard_disks(0.4, 9, rng=1)
    >>> round(m.centres.shape[0] * math.pi * m.radius**2, 12)
    0.4
    >>> d = m.centres[:, None] - m.centres[None]
    >>> d -= np.round(d)
    >>> bool(np.all(np.hypot(d[..., 0], d[..., 1])[~np.eye(9, dtype=bool)] >= 2 * m.radius))
    True
    """
    fraction = float(fraction)
    if not (isinstance(n_disks, (int, np.integer)) and n_disks >= 1):
        raise ValueError(f"n_disks must be a positive integer, got {n_disks!r}")
    side = math.ceil(math.sqrt(n_disks))
    radius = math.sqrt(fraction / (n_disks * math.pi)) if fraction > 0 else 0.0
    contact = 2 * radius + float(min_gap)
    if not 0.0 < fraction or contact > 1.0 / side:
        limit = n_disks * math.pi * (0.5 / side - float(min_gap) / 2) ** 2
        raise ValueError(
            f"fraction must lie in (0, {limit:.4g}] for {n_disks} disks with min_gap={min_gap!r} "
            f"(square-lattice start), got {fraction!r}; use fewer disks, a smaller gap or a lower fraction"
        )
    generator = np.random.default_rng(rng)
    sites = (np.stack(np.meshgrid(np.arange(side), np.arange(side), indexing="ij"), -1).reshape(-1, 2) + 0.5) / side
    centres = sites[generator.permutation(side * side)[:n_disks]] + generator.random(2) / side
    centres %= 1.0
    step = 0.5 * (1.0 / side - contact) + 0.25 * contact  # of order the free space around a disk
    for _ in range(int(sweeps)):
        moves = generator.uniform(-step, step, (n_disks, 2))
        for i in generator.permutation(n_disks):
            trial = (centres[i] + moves[i]) % 1.0
            d = centres - trial
            d -= np.round(d)
            dist2 = np.einsum("kd,kd->k", d, d)
            dist2[i] = np.inf
            if dist2.min() >= contact**2:
                centres[i] = trial
    return Microstructure(centres, radius)


def area_fractions(micro: Microstructure, n: int, *, sub: int = 8) -> tuple[np.ndarray, np.ndarray]:
    """Particle area fraction of each voxel of an ``n × n`` grid, and the interface normal there.

    The fraction is the share of ``sub × sub`` sub-voxel points inside a particle (2-D only); the normal
    is the unit vector from the nearest particle centre to the voxel centre (the interface normal of a
    voxel cut by one disk), shape ``(2, n, n)``. Together they define composite (laminate) voxels.

    Examples
    --------
    >>> frac, normal = area_fractions(square_array(1 - 0.4), 45)
    >>> round(float(frac.mean()), 3), normal.shape
    (0.4, (2, 45, 45))
    """
    if micro.dim != 2:
        raise ValueError(f"area_fractions needs a 2-D microstructure, got dim={micro.dim}")
    if not (isinstance(n, (int, np.integer)) and n >= 3) or not (isinstance(sub, (int, np.integer)) and sub >= 1):
        raise ValueError(f"n must be an integer >= 3 and sub >= 1, got n={n!r}, sub={sub!r}")
    fine = micro.rasterise(n * sub)
    frac = fine.reshape(n, sub, n, sub).mean(axis=(1, 3))
    points = grid_points(n, 2)
    d = points[:, None, :] - micro.centres[None, :, :]
    d -= np.round(d)
    nearest = np.argmin(np.einsum("pkd,pkd->pk", d, d), axis=1)
    vec = d[np.arange(points.shape[0]), nearest]
    norm = np.hypot(vec[:, 0], vec[:, 1])
    vec = np.where(norm[:, None] > 0, vec / np.where(norm > 0, norm, 1.0)[:, None], np.array([1.0, 0.0]))
    return frac, vec.T.reshape(2, n, n)
