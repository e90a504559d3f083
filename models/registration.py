"""Histology ↔ MRI registration, coarse to fine: rigid + anisotropic shrinkage by normalised mutual
information on the two coarsest pyramid levels, then B-spline refinement level by level, tears masked out.

As a forward model: target registration error of synthetic image pairs with a known transform, against
uncertain shrinkage, rotation, noise, tear fraction and non-rigid distortion.

Method
------
* Transform (fixed/MRI pixel ``x`` → moving/histology coordinates):
  ``T(x) = c + R(θ) diag(s_r, s_c) (x − c) + t + u(x)``, ``c`` the image centre, ``s = 1 − shrinkage``
  (tissue shrinks in histological processing), ``u`` a cubic B-spline displacement on a clamped uniform
  control grid (Rueckert et al. 1999, IEEE Trans. Med. Imaging 18, 712), basis from
  ``scipy.interpolate.BSpline.design_matrix``.
* Metric: normalised mutual information ``NMI = (H(A) + H(B)) / H(A, B)`` (Studholme, Hill & Hawkes 1999,
  Pattern Recognit. 32, 71) from a 32-bin joint histogram with linear (partial-volume) binning, smoothed
  by a Gaussian of one bin so the metric is continuous in the parameters. Pixels whose warped position
  falls in a tear (or outside the moving image) are excluded.
* Pyramid: Gaussian smoothing (``scipy.ndimage.gaussian_filter``, σ = f/2) and subsampling by
  ``f = 2^k``; coordinates stay in fine pixels at every level, so parameters carry over. Warping by
  ``scipy.ndimage.map_coordinates`` (cubic for images, linear for the tear mask).
* Optimisers: ``scipy.optimize.minimize`` — Powell on the 5 rigid + scale parameters at the coarsest level, then
  again at the next finer one (started from the coarse optimum: without it a coarse-level error of 1–2 px
  occasionally survived the B-spline stage),
  L-BFGS-B (analytic NMI gradient: histogram adjoint × image gradient × B-spline basis) on the B-spline
  coefficients at each finer level, initialised by the previous level (a least-squares projection when the
  control grid is refined), with a small quadratic penalty on the coefficients against folding.
* Tears: torn pixels are filled by normalised convolution and the moving pyramid is a normalised
  convolution (Knutsson & Westin 1993, Proc. CVPR), so tears neither enter the metric nor bleed into coarse levels.

Validity (measured, ``benchmarks/registration_tre.py``)
-------------------------------------------------------
RMS TRE over the tissue of 48 × 48 pairs drawn over the model's input support (:func:`model_support_pair`),
min/median/max over seeds 0–9 | 10–19 (the second set held out from the choice of ``rigid_levels=2``):

* in family (cubic B-spline warp on the 4 × 4 grid the method fits): 0.16/0.21/0.44 | 0.16/0.28/0.43 px;
* smooth warps outside the B-spline span, same RMS displacement — sinusoidal 0.13/0.27/0.51 |
  0.23/0.37/0.62, thin-plate spline 0.07/0.25/0.37 | 0.14/0.27/0.43, Gaussian bumps of width 4–7 px
  0.13/0.30/0.57 | 0.25/0.48/0.63 px;
* an opening tear (a crack opening by up to 2 px: a discontinuity no B-spline can follow) 0.36/0.42/0.56 |
  0.38/0.47/0.65 px: the error concentrates within 2 px of the crack faces (RMS 0.7–0.8 px there against
  0.3–0.45 px elsewhere, seeds 0–3), where a smooth transform must split the opening between both sides.

So the method is accurate to ~0.5 px (median) / 0.65 px (worst of 80 pairs) for smooth deformations
whose features are no finer than the control spacing (~16 px) and for small openings (≤ 2 px); it is
not validated for larger tears, folds, missing tissue or deformations at a finer scale than the grid
(the Gaussian bumps are the worst smooth class; in a 6-seed trial a finer control grid at the last
level (6² or 8²), a stronger penalty or a dilated tear mask did not lower the median TRE). With the rigid + scale stage on the coarsest level only (the earlier default) the worst cases
were 0.86 (sinusoidal), 1.89 (bumps) and 1.29 px (tear). The phantom is synthetic: no measured
histology/MRI landmark set has been used.

**What the non-rigid stage buys at these displacements: not much (stated plainly).** Over the model's input
support the true non-rigid displacement is small (median 0.19 px RMS, 0.03–0.60 px). On the same 50 pairs
(5 warp classes × seeds 0–9, ``benchmarks/registration_tre.py --baselines``) the final transform beats its own
rigid + scale stage in only 26/50 pairs (pooled median 0.31 vs 0.35 px: better for Gaussian bumps 0.30 vs 0.38
and the opening tear 0.42 vs 0.61, worse for sinusoidal 0.27 vs 0.24 and thin-plate 0.25 vs 0.22 px), and
stays above the exact rigid + scale part of the truth (whose TRE *is* the non-rigid displacement) in 36/50
pairs. It beats an untuned SimpleITK affine registration (Mattes MI, 3 levels; median 0.37 px) in 34/50 pairs
and SimpleITK affine + B-spline (median 0.51 px) in 41/50. Neither the rigid stage nor the full pipeline beats
both baselines consistently, so the default stays the full pipeline (best pooled median) and the registration
is not an accuracy claim for the non-rigid part; SimpleITK is an optional extra of the benchmark only.

Synthetic pairs (:func:`synthetic_pair`): a smooth elliptical tissue phantom with internal structures; the
MRI is ``phantom(T_true(x))`` plus noise, the histology is a non-monotone intensity map of the phantom
(white background, dark stained structures) with tears (thin random cracks set to background) plus noise.

Default inputs (a 48 × 48 slice, 3 pyramid levels, one 4 × 4 B-spline grid)
-------------------------------------------------------------------------
* ``shrink_r``, ``shrink_c`` ~ Uniform(0.03, 0.15), aleatory: anisotropic histological shrinkage of a
  few to 15 % (formalin fixation and paraffin processing; e.g. Dauguet et al. 2007, J. Neurosci. Methods
  164, 191);
* ``rotation`` ~ Uniform(−8, 8) degrees, aleatory: slide placement;
* ``noise_std`` ~ Uniform(0.01, 0.05) (images scaled to [0, 1]), ``tear_fraction`` ~ Uniform(0, 0.06),
  aleatory; ``seed_u`` ~ Uniform(0, 1), aleatory: realisation of phantom, warp, tears and noise;
* ``warp_amplitude`` ~ Uniform(0, 1.5) pixels, epistemic: size of the non-rigid distortion.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from scipy import ndimage, optimize
from scipy.interpolate import BSpline, RBFInterpolator

from uqbridge import ForwardModel, Input, Output, Uniform

__all__ = [
    "WARPS",
    "Pair",
    "Transform",
    "bspline_basis",
    "gaussian_pyramid",
    "model_support_pair",
    "normalized_mutual_information",
    "register",
    "registration",
    "synthetic_pair",
    "target_registration_error",
]

_BINS = 32


def _check_int(argument: str, value: Any, minimum: int) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < minimum:
        raise ValueError(f"{argument} must be an integer >= {minimum}, got {value!r}")
    return int(value)


def bspline_basis(coordinates: np.ndarray, length: int, n_control: int) -> np.ndarray:
    """Cubic B-spline design matrix (``len(coordinates) × n_control``) on ``[0, length − 1]``, clamped knots.

    Examples
    --------
    >>> b = bspline_basis(np.arange(10.0), 10, 5)
    >>> b.shape, bool(np.allclose(b.sum(axis=1), 1.0))  # partition of unity
    ((10, 5), True)
    """
    n_control = _check_int("n_control", n_control, 4)
    interior = np.linspace(0.0, length - 1.0, n_control - 2)[1:-1]
    knots = np.concatenate([np.zeros(4), interior, np.full(4, length - 1.0)])
    x = np.clip(np.asarray(coordinates, float), 0.0, length - 1.0)
    return BSpline.design_matrix(x, knots, 3).toarray()


@dataclass(frozen=True, eq=False)
class Transform:
    """Rigid + anisotropic scale + B-spline displacement, in fine-pixel units (rows, cols).

    ``coefficients`` has shape ``(2, n, n)`` (row and column displacements on an ``n × n`` control grid)
    or is empty for a purely affine transform. ``post`` (synthetic truths only) maps the resulting moving
    coordinates, an array ``(2, ...)``, once more: a deformation outside the B-spline family (a smooth
    analytic warp or an opening tear, see :func:`synthetic_pair`).
    """

    shape: tuple[int, int]
    rotation: float = 0.0
    scale: tuple[float, float] = (1.0, 1.0)
    translation: tuple[float, float] = (0.0, 0.0)
    coefficients: np.ndarray = field(default_factory=lambda: np.zeros((2, 0, 0)))
    post: Callable[[np.ndarray], np.ndarray] | None = None

    def affine_points(self, rows: np.ndarray, cols: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        cr, cc = (self.shape[0] - 1) / 2.0, (self.shape[1] - 1) / 2.0
        dr, dc = (rows - cr) * self.scale[0], (cols - cc) * self.scale[1]
        cos, sin = math.cos(self.rotation), math.sin(self.rotation)
        return cr + cos * dr - sin * dc + self.translation[0], cc + sin * dr + cos * dc + self.translation[1]

    def displacement(self, rows_1d: np.ndarray, cols_1d: np.ndarray) -> np.ndarray:
        """B-spline displacement ``(2, len(rows_1d), len(cols_1d))`` on a grid of fine coordinates."""
        n = self.coefficients.shape[-1]
        if n == 0:
            return np.zeros((2, len(rows_1d), len(cols_1d)))
        br = bspline_basis(rows_1d, self.shape[0], n)
        bc = bspline_basis(cols_1d, self.shape[1], n)
        return np.einsum("ri,kij,cj->krc", br, self.coefficients, bc)

    def grid(self, rows_1d: np.ndarray, cols_1d: np.ndarray) -> np.ndarray:
        """Moving-image coordinates ``(2, len(rows_1d), len(cols_1d))`` of the fixed grid points."""
        rr, cc = np.meshgrid(rows_1d, cols_1d, indexing="ij")
        ar, ac = self.affine_points(rr, cc)
        out = np.stack([ar, ac]) + self.displacement(rows_1d, cols_1d)
        return out if self.post is None else self.post(out)

    def points(self, points: np.ndarray) -> np.ndarray:
        """Map ``(m, 2)`` fixed points (row, col) to moving coordinates."""
        points = np.asarray(points, float)
        ar, ac = self.affine_points(points[:, 0], points[:, 1])
        out = np.stack([ar, ac], axis=1)
        n = self.coefficients.shape[-1]
        if n:
            br = bspline_basis(points[:, 0], self.shape[0], n)
            bc = bspline_basis(points[:, 1], self.shape[1], n)
            out += np.einsum("mi,kij,mj->mk", br, self.coefficients, bc)
        return out if self.post is None else self.post(out.T).T


def _nmi_with_gradient(
    a: np.ndarray, b: np.ndarray, mask: np.ndarray | None, smoothing: float = 1.0, gradient: bool = True
) -> tuple[float, np.ndarray | None]:
    """NMI of ``a`` and ``b`` and (if ``gradient``) its derivative with respect to every value of ``b``
    (0 where masked)."""
    a = np.asarray(a, float)
    b = np.asarray(b, float)
    keep = np.ones(b.shape, bool) if mask is None else np.asarray(mask, bool)
    if keep.sum() < 2:
        raise ValueError(f"NMI needs at least 2 unmasked pixels, got {int(keep.sum())}")
    av = np.clip(a[keep], 0.0, 1.0)
    bv = b[keep]
    inside = (bv >= 0.0) & (bv <= 1.0)  # clipping makes the derivative vanish outside [0, 1]
    bv = np.clip(bv, 0.0, 1.0)
    pa, pb = av * (_BINS - 1), bv * (_BINS - 1)
    ia, ib = np.minimum(pa.astype(int), _BINS - 2), np.minimum(pb.astype(int), _BINS - 2)
    wa, wb = pa - ia, pb - ib
    raw = np.zeros(_BINS * _BINS)
    for da, fa in ((0, 1.0 - wa), (1, wa)):
        for db, fb in ((0, 1.0 - wb), (1, wb)):
            raw += np.bincount((ia + da) * _BINS + ib + db, weights=fa * fb, minlength=_BINS * _BINS)
    joint = ndimage.gaussian_filter(raw.reshape(_BINS, _BINS), smoothing, mode="constant")
    total = joint.sum()
    p = joint / total
    pr, pc = p.sum(axis=1), p.sum(axis=0)

    def log(x: np.ndarray) -> np.ndarray:
        return np.log(np.where(x > 0, x, 1.0))

    h_r, h_c, h_rc = (float(-np.sum(x * log(x))) for x in (pr, pc, p))
    nmi = (h_r + h_c) / h_rc
    if not gradient:
        return nmi, None
    # dH/dJ for p = J / ΣJ is (−log p − H)/ΣJ; chain through NMI and the (self-adjoint) Gaussian smoothing
    d_joint = ((-log(pr) - h_r)[:, None] + (-log(pc) - h_c)[None, :] - nmi * (-log(p) - h_rc)) / (h_rc * total)
    d_raw = ndimage.gaussian_filter(d_joint, smoothing, mode="constant").ravel()
    d_b = np.zeros(bv.shape)
    for da, fa in ((0, 1.0 - wa), (1, wa)):
        d_b += fa * (d_raw[(ia + da) * _BINS + ib + 1] - d_raw[(ia + da) * _BINS + ib]) * (_BINS - 1)
    grad = np.zeros(b.shape)
    grad[keep] = np.where(inside, d_b, 0.0)
    return nmi, grad


def normalized_mutual_information(
    a: np.ndarray, b: np.ndarray, mask: np.ndarray | None = None, *, smoothing: float = 1.0
) -> float:
    """Studholme's NMI ``(H(A) + H(B)) / H(A, B)`` ∈ [1, 2] of intensities in [0, 1], masked pixels only.

    Linear (partial-volume) binning into 32 bins and a Gaussian smoothing of the joint histogram
    (``smoothing`` bins; 0 for the plain histogram) make the value continuous (and piecewise
    differentiable) in sub-pixel shifts.

    Examples
    --------
    >>> x = np.random.default_rng(0).random((32, 32))
    >>> normalized_mutual_information(x, 1.0 - x) > normalized_mutual_information(x, x.T)
    True
    """
    if not smoothing >= 0.0:
        raise ValueError(f"smoothing must be >= 0 (bins), got {smoothing!r}")
    return _nmi_with_gradient(a, b, mask, smoothing, gradient=False)[0]


def gaussian_pyramid(image: np.ndarray, levels: int, weights: np.ndarray | None = None) -> list[np.ndarray]:
    """``[image, smooth↓2, smooth↓4, …]``: Gaussian smoothing (σ = f/2) then subsampling by ``f = 2^k``.

    With ``weights`` (1 = valid, 0 = torn) the smoothing is a normalised convolution
    ``G(w·I) / G(w)`` (Knutsson & Westin 1993, Proc. CVPR), so that excluded pixels do not bleed into coarse levels.

    Examples
    --------
    >>> [p.shape for p in gaussian_pyramid(np.zeros((48, 48)), 3)]
    [(48, 48), (24, 24), (12, 12)]
    >>> img = np.ones((16, 16)); w = np.ones((16, 16)); img[4:6, :] = 9.0; w[4:6, :] = 0.0
    >>> float(gaussian_pyramid(img, 2, w)[1].max())  # the torn rows leave no trace
    1.0
    """
    levels = _check_int("levels", levels, 1)
    image = np.asarray(image, float)
    w = np.ones(image.shape) if weights is None else np.asarray(weights, float)
    out = [image]
    for k in range(1, levels):
        f = 2**k
        num = ndimage.gaussian_filter(image * w, f / 2.0, mode="nearest")
        den = ndimage.gaussian_filter(w, f / 2.0, mode="nearest")
        out.append((num / np.maximum(den, 1e-12))[::f, ::f])
    return out


def _phantom(n: int, gen: np.random.Generator) -> np.ndarray:
    rr, cc = np.meshgrid(np.arange(n), np.arange(n), indexing="ij")
    c = (n - 1) / 2.0
    tissue = ((rr - c) / (0.36 * n)) ** 2 + ((cc - c) / (0.30 * n)) ** 2 <= 1.0
    image = 0.55 * tissue.astype(float)
    for _ in range(7):
        r0, c0 = c + gen.uniform(-0.25, 0.25, 2) * n
        width = gen.uniform(0.04, 0.09) * n
        image += gen.uniform(-0.35, 0.4) * np.exp(-((rr - r0) ** 2 + (cc - c0) ** 2) / (2 * width**2)) * tissue
    return np.clip(ndimage.gaussian_filter(image, 0.8), 0.0, 1.0)


def _tears(n: int, tissue: np.ndarray, fraction: float, gen: np.random.Generator) -> np.ndarray:
    """Thin random cracks inside the tissue until ``fraction`` of the tissue is torn."""
    mask = np.zeros((n, n), bool)
    target = fraction * tissue.sum()
    inside = np.argwhere(tissue)
    while mask[tissue].sum() < target:
        r0, c0 = inside[gen.integers(len(inside))]
        angle, length = gen.uniform(0, math.pi), gen.uniform(0.15, 0.4) * n
        s = np.linspace(-length / 2, length / 2, int(2 * length))
        rows = np.clip(np.round(r0 + s * math.sin(angle)).astype(int), 0, n - 1)
        cols = np.clip(np.round(c0 + s * math.cos(angle)).astype(int), 0, n - 1)
        line = np.zeros((n, n), bool)
        line[rows, cols] = True
        mask |= ndimage.binary_dilation(line) & tissue
    return mask


#: Deformation classes of :func:`synthetic_pair`: the B-spline family the method fits, and out-of-family ones.
WARPS = ("bspline", "sinusoidal", "thin_plate", "gaussian_bumps", "opening_tear")


def _smooth_warp(kind: str, n: int, rms: float, gen: np.random.Generator) -> Callable[[np.ndarray], np.ndarray]:
    """A smooth analytic displacement ``v(y)`` of moving coordinates outside the cubic B-spline span of
    the control grid, scaled to RMS ``rms`` (px, over the image) so it matches the in-family warp in size.

    ``sinusoidal``: two plane waves per component, wavelengths 0.35–0.7 image widths, random directions;
    ``thin_plate``: thin-plate spline (``scipy.interpolate.RBFInterpolator``, Bookstein 1989) through 8
    random landmark displacements inside the tissue; ``gaussian_bumps``: 4 Gaussian bumps of width
    0.08–0.14 image widths (finer than the control spacing).
    """
    axis = np.arange(n, dtype=float)
    grid = np.stack(np.meshgrid(axis, axis, indexing="ij"))
    if kind == "sinusoidal":
        waves = [(gen.uniform(0, 2 * math.pi), gen.uniform(0.35, 0.7) * n, gen.uniform(0, 2 * math.pi),
                  gen.uniform(-1, 1)) for _ in range(4)]

        def raw(y: np.ndarray) -> np.ndarray:
            out = np.zeros(y.shape)
            for j, (angle, length, phase, weight) in enumerate(waves):
                along = math.cos(angle) * y[0] + math.sin(angle) * y[1]
                out[j // 2] += weight * np.sin(2 * math.pi * along / length + phase)
            return out
    elif kind == "thin_plate":
        c = (n - 1) / 2.0
        landmarks = c + gen.uniform(-0.3, 0.3, (8, 2)) * n
        tps = RBFInterpolator(landmarks, gen.uniform(-1, 1, (8, 2)), kernel="thin_plate_spline", degree=1)

        def raw(y: np.ndarray) -> np.ndarray:
            flat = y.reshape(2, -1).T
            return tps(flat).T.reshape(y.shape)
    elif kind == "gaussian_bumps":
        c = (n - 1) / 2.0
        bumps = [(c + gen.uniform(-0.25, 0.25, 2) * n, gen.uniform(0.08, 0.14) * n, gen.uniform(-1, 1, 2))
                 for _ in range(4)]

        def raw(y: np.ndarray) -> np.ndarray:
            out = np.zeros(y.shape)
            for centre, width, amp in bumps:
                g = np.exp(-((y[0] - centre[0]) ** 2 + (y[1] - centre[1]) ** 2) / (2 * width**2))
                out += amp.reshape((2,) + (1,) * (y.ndim - 1)) * g
            return out
    else:  # pragma: no cover - guarded by synthetic_pair
        raise ValueError(f"warp must be one of {WARPS}, got {kind!r}")
    size = math.sqrt(float(np.mean(np.sum(raw(grid) ** 2, axis=0))))
    factor = rms / size if size > 0 else 0.0
    return lambda y: y + factor * raw(y)


def _opening_tear(n: int, opening: float, gen: np.random.Generator) -> tuple[Callable[[np.ndarray], np.ndarray],
                                                                             np.ndarray]:
    """An opening crack in the histology: a straight cut of half-length ``a`` (0.2–0.3 n) through the
    tissue whose faces move apart by ``g(s) = opening·√(1 − (s/a)²)`` (the elliptical opening of a
    Griffith crack), decaying away from the cut over ``a``. Returns the map ``y = z ± g(s)/2·e^{−|d|/a}·n``
    (``d``, ``s`` normal and tangential coordinates of ``z`` to the cut; it never lands in the gap
    ``|d| < g(s)/2``) and the gap mask (pixels whose centre lies in the gap)."""
    c = (n - 1) / 2.0
    centre = c + gen.uniform(-0.12, 0.12, 2) * n
    angle, half = gen.uniform(0, math.pi), gen.uniform(0.2, 0.3) * n
    tangent, normal = np.array([math.cos(angle), math.sin(angle)]), np.array([-math.sin(angle), math.cos(angle)])

    def frame(y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        rel = y - centre.reshape((2,) + (1,) * (y.ndim - 1))
        return np.tensordot(normal, rel, 1), np.tensordot(tangent, rel, 1)

    def gap(s: np.ndarray) -> np.ndarray:
        return opening * np.sqrt(np.clip(1.0 - (s / half) ** 2, 0.0, None))

    def post(z: np.ndarray) -> np.ndarray:
        d, s = frame(z)
        shift = np.where(d >= 0, 0.5, -0.5) * gap(s) * np.exp(-np.abs(d) / half)
        return z + normal.reshape((2,) + (1,) * (z.ndim - 1)) * shift

    axis = np.arange(n, dtype=float)
    d, s = frame(np.stack(np.meshgrid(axis, axis, indexing="ij")))
    return post, np.abs(d) < gap(s) / 2.0


@dataclass(frozen=True, eq=False)
class Pair:
    """A synthetic fixed (MRI) / moving (histology) pair with its true transform and the tear mask."""

    fixed: np.ndarray
    moving: np.ndarray
    tear_mask: np.ndarray
    transform: Transform


def synthetic_pair(
    n: int = 48,
    *,
    shrink: tuple[float, float] = (0.1, 0.05),
    rotation_deg: float = 5.0,
    translation: tuple[float, float] = (1.5, -1.0),
    warp_amplitude: float = 1.0,
    noise_std: float = 0.02,
    tear_fraction: float = 0.0,
    n_control: int = 4,
    warp: str = "bspline",
    tear_opening: float = 2.0,
    rng: Any = 0,
) -> Pair:
    """Synthetic MRI/histology pair with a known transform (fixed → moving coordinates).

    ``warp`` chooses the class of the non-rigid part (:data:`WARPS`): ``"bspline"`` — cubic B-spline on an
    ``n_control``² grid, coefficients Uniform(±``warp_amplitude``) px (the family :func:`register` fits);
    ``"sinusoidal"``, ``"thin_plate"``, ``"gaussian_bumps"`` — smooth analytic warps outside that family,
    scaled to the RMS displacement the B-spline warp of the same draw would have; ``"opening_tear"`` —
    the B-spline warp plus a crack opening by up to ``tear_opening`` px, a discontinuous displacement
    (its gap is white in the histology and part of ``tear_mask``).

    Examples
    --------
    >>> pair = synthetic_pair(32, tear_fraction=0.05, rng=1)
    >>> pair.fixed.shape, pair.moving.shape, bool(pair.moving[pair.tear_mask].min() > 0.8)  # tears are white
    ((32, 32), (32, 32), True)
    >>> torn = synthetic_pair(48, warp="opening_tear", rng=1)
    >>> bool(torn.tear_mask.any() and torn.moving[torn.tear_mask].min() > 0.8)
    True
    """
    n = _check_int("n", n, 16)
    for name, value in (("shrink", shrink[0]), ("shrink", shrink[1])):
        if not 0.0 <= value < 0.5:
            raise ValueError(f"{name} must lie in [0, 0.5), got {shrink!r}")
    if not 0.0 <= tear_fraction < 0.5:
        raise ValueError(f"tear_fraction must lie in [0, 0.5), got {tear_fraction!r}")
    if not noise_std >= 0.0:
        raise ValueError(f"noise_std must be >= 0, got {noise_std!r}")
    if warp not in WARPS:
        raise ValueError(f"warp must be one of {WARPS}, got {warp!r}")
    if not 0.0 <= tear_opening < 0.1 * n:
        raise ValueError(f"tear_opening must lie in [0, 0.1 n) = [0, {0.1 * n:g}) px, got {tear_opening!r}")
    gen = np.random.default_rng(rng)
    phantom = _phantom(n, gen)
    coefficients = warp_amplitude * gen.uniform(-1.0, 1.0, (2, n_control, n_control))
    axis = np.arange(n, dtype=float)
    post, gap = None, np.zeros((n, n), bool)
    if warp in ("sinusoidal", "thin_plate", "gaussian_bumps"):
        u = Transform((n, n), coefficients=coefficients).displacement(axis, axis)
        post = _smooth_warp(warp, n, math.sqrt(float(np.mean(np.sum(u**2, axis=0)))), gen)
        coefficients = np.zeros((2, n_control, n_control))
    elif warp == "opening_tear":
        post, gap = _opening_tear(n, tear_opening, gen)
    truth = Transform((n, n), math.radians(rotation_deg), (1.0 - shrink[0], 1.0 - shrink[1]),
                      tuple(translation), coefficients, post)
    fixed = ndimage.map_coordinates(phantom, truth.grid(axis, axis), order=3, mode="constant", cval=0.0)
    tissue = phantom > 0.05
    tears = _tears(n, tissue, tear_fraction, gen) if tear_fraction > 0 else np.zeros((n, n), bool)
    tears |= gap & tissue
    # histology: white background, stain darkest at intermediate MRI intensities (non-monotone map)
    moving = 1.0 - 1.6 * phantom + 1.1 * phantom**2
    moving[tears] = 1.0
    fixed = np.clip(fixed + noise_std * gen.standard_normal((n, n)), 0.0, 1.0)
    moving = np.clip(moving + noise_std * gen.standard_normal((n, n)), 0.0, 1.0)
    return Pair(fixed, moving, tears, truth)


def _warp(image: np.ndarray, coords: np.ndarray, order: int, cval: float) -> np.ndarray:
    return ndimage.map_coordinates(image, coords, order=order, mode="constant", cval=cval, prefilter=False)


def register(
    fixed: np.ndarray,
    moving: np.ndarray,
    tear_mask: np.ndarray | None = None,
    *,
    levels: int = 3,
    control_grids: tuple[int, ...] = (4,),
    penalty: float = 1e-3,
    maxiter: int = 15,
    tear_dilation: int = 0,
    rigid_levels: int = 2,
) -> tuple[Transform, Transform]:
    """Coarse-to-fine NMI registration; returns the (rigid + scale, final) transforms, fixed → moving.

    The rigid + scale stage runs on the coarsest of ``levels`` pyramid levels; then one B-spline stage per
    finer level, the last ``len(control_grids)`` levels, each with its control grid size (the last entry at
    full resolution). ``tear_dilation`` grows the tear mask by that many pixels (binary dilation) so that
    partial-volume pixels at the torn edges are excluded too. ``rigid_levels`` runs the rigid + scale stage
    on that many levels (at most ``levels``), coarsest first, each started from the previous result: the
    default 2 halves the worst-case TRE of the coarsest-only stage (``benchmarks/registration_tre.py``).

    Examples
    --------
    >>> pair = synthetic_pair(48, warp_amplitude=0.0, noise_std=0.0, rng=2)
    >>> rigid, final = register(pair.fixed, pair.moving, control_grids=())
    >>> bool(target_registration_error(rigid, pair.transform, pair.fixed > 0.1).max() < 1.0)
    True
    """
    levels = _check_int("levels", levels, 1)
    if len(control_grids) > levels - 1 and control_grids:
        raise ValueError(f"control_grids {control_grids!r} needs at most levels - 1 = {levels - 1} entries")
    fixed = np.asarray(fixed, float)
    moving = np.asarray(moving, float)
    if fixed.shape != moving.shape or fixed.ndim != 2:
        raise ValueError(f"fixed and moving must be 2-D images of one shape, got {fixed.shape} and {moving.shape}")
    shape = fixed.shape
    tear_dilation = _check_int("tear_dilation", tear_dilation, 0)
    rigid_levels = min(_check_int("rigid_levels", rigid_levels, 1), levels)
    if tear_mask is not None and tear_dilation:
        tear_mask = ndimage.binary_dilation(np.asarray(tear_mask, bool), iterations=tear_dilation)
    intact = np.ones(shape) if tear_mask is None else 1.0 - np.asarray(tear_mask, float)
    fixed_pyr = gaussian_pyramid(fixed, levels)
    # fill torn pixels by normalised convolution so that the cubic interpolant does not ring around them
    weight = ndimage.gaussian_filter(intact, 1.0)
    smooth_fill = np.where(weight > 1e-6, ndimage.gaussian_filter(moving * intact, 1.0) / np.maximum(weight, 1e-6), 1.0)
    filled = np.where(intact > 0.5, moving, smooth_fill)
    moving_pyr = [ndimage.spline_filter(m, order=3) for m in gaussian_pyramid(filled, levels, intact)]

    def level_setup(k: int):
        f = 2**k
        rows, cols = np.arange(0, shape[0], f, dtype=float), np.arange(0, shape[1], f, dtype=float)
        return f, rows, cols

    def cost(transform: Transform, k: int, f: int, rows: np.ndarray, cols: np.ndarray) -> float:
        coords = transform.grid(rows, cols)
        warped = _warp(moving_pyr[k], coords / f, 3, 1.0)
        valid = _warp(intact, coords, 1, 0.0) > 0.5
        if valid.sum() < 16:
            return 0.0
        return -_nmi_with_gradient(fixed_pyr[k], warped, valid, gradient=False)[0]

    # stage 1: rigid + anisotropic scale at the coarsest level (parameters scaled to O(1) moves)
    k = levels - 1
    f, rows, cols = level_setup(k)
    steps = np.array([0.15, 0.1, 0.1, 0.05 * shape[0], 0.05 * shape[1]])

    def rigid(q: np.ndarray) -> Transform:
        p = q * steps
        return Transform(shape, p[0], (math.exp(p[1]), math.exp(p[2])), (p[3], p[4]))

    q = np.zeros(5)
    for k in range(levels - 1, levels - 1 - rigid_levels, -1):  # coarsest first, then refined finer
        f, rows, cols = level_setup(k)
        result = optimize.minimize(lambda q, k=k, f=f, rows=rows, cols=cols: cost(rigid(q), k, f, rows, cols), q,
                                   method="Powell", bounds=[(-3.0, 3.0)] * 5,
                                   options={"xtol": 1e-2, "ftol": 1e-4, "maxfev": 250})
        q = result.x
    base = rigid(q)
    current = base
    # stage 2: B-spline refinement, finer level by level, each initialised by the previous one; the NMI
    # gradient is analytic (histogram adjoint × image gradient × B-spline basis), the mask held fixed
    for stage, n_ctrl in enumerate(control_grids):
        k = len(control_grids) - 1 - stage
        f, rows, cols = level_setup(k)
        if current.coefficients.shape[-1] == n_ctrl:
            start = current.coefficients
        elif current.coefficients.shape[-1] == 0:
            start = np.zeros((2, n_ctrl, n_ctrl))
        else:  # project the previous displacement onto the new grid (least squares)
            axis_r, axis_c = np.arange(shape[0], dtype=float), np.arange(shape[1], dtype=float)
            previous = current.displacement(axis_r, axis_c)
            pr = np.linalg.pinv(bspline_basis(axis_r, shape[0], n_ctrl))
            pc = np.linalg.pinv(bspline_basis(axis_c, shape[1], n_ctrl))
            start = np.einsum("ir,krc,jc->kij", pr, previous, pc)
        br, bc = bspline_basis(rows, shape[0], n_ctrl), bspline_basis(cols, shape[1], n_ctrl)
        affine = base.grid(rows, cols)
        image = moving_pyr[k]
        target = fixed_pyr[k]

        def objective(c: np.ndarray, br=br, bc=bc, affine=affine, image=image, target=target, f=f,
                      n_ctrl=n_ctrl) -> tuple[float, np.ndarray]:
            coef = c.reshape(2, n_ctrl, n_ctrl)
            coords = (affine + np.einsum("ri,kij,cj->krc", br, coef, bc)) / f
            valid = _warp(intact, coords * f, 1, 0.0) > 0.5
            penalty_value = penalty * float(np.mean(c**2))
            penalty_grad = 2.0 * penalty * c / c.size
            if valid.sum() < 16:
                return penalty_value, penalty_grad
            warped = _warp(image, coords, 3, 1.0)
            nmi, d_w = _nmi_with_gradient(target, warped, valid)
            h = 1e-3  # central differences of the cubic interpolant itself (exact to O(h²))
            grad_img = np.stack([
                (_warp(image, coords + h * e, 3, 1.0) - _warp(image, coords - h * e, 3, 1.0)) / (2 * h)
                for e in (np.array([1.0, 0.0])[:, None, None], np.array([0.0, 1.0])[:, None, None])
            ])
            d_coords = -d_w * grad_img / f  # d(−NMI)/d(fine moving coordinates)
            grad = np.einsum("ri,krc,cj->kij", br, d_coords, bc).ravel()
            return -nmi + penalty_value, grad + penalty_grad

        result = optimize.minimize(objective, start.ravel(), jac=True, method="L-BFGS-B",
                                   options={"maxiter": maxiter})
        current = Transform(shape, base.rotation, base.scale, base.translation, result.x.reshape(2, n_ctrl, n_ctrl))
    return base, current


def target_registration_error(estimate: Transform, truth: Transform, region: np.ndarray) -> np.ndarray:
    """Distances (pixels) between estimated and true moving positions of the fixed pixels in ``region``.

    Examples
    --------
    >>> t = Transform((8, 8))
    >>> float(target_registration_error(t, Transform((8, 8), translation=(3.0, 4.0)), np.ones((8, 8))).max())
    5.0
    """
    points = np.argwhere(np.asarray(region, bool)).astype(float)
    return np.linalg.norm(estimate.points(points) - truth.points(points), axis=1)


def model_support_pair(seed: int, warp: str = "bspline", n: int = 48) -> Pair:
    """A synthetic pair whose settings (shrinkage, rotation, noise, thin tears, warp amplitude) are drawn
    from the input distributions of :func:`registration` with ``default_rng(1000 + seed)``, warped by the
    class ``warp``; the same draw for every class (the out-of-family benchmark and tests).

    Examples
    --------
    >>> a, b = model_support_pair(3), model_support_pair(3, "sinusoidal")
    >>> a.transform.scale == b.transform.scale, a.transform.post is None, b.transform.post is None
    (True, True, False)
    """
    gen = np.random.default_rng(1000 + int(seed))
    v = {i.name: float(i.distribution.ppf(gen.random())) for i in registration().inputs}
    return synthetic_pair(n, shrink=(v["shrink_r"], v["shrink_c"]), rotation_deg=v["rotation"],
                          translation=(1.0, -1.0), warp_amplitude=v["warp_amplitude"], noise_std=v["noise_std"],
                          tear_fraction=v["tear_fraction"], warp=warp, rng=int(seed))


def registration(n: int = 48, levels: int = 3, control_grids: tuple[int, ...] = (4,)) -> ForwardModel:
    """Registration error of synthetic histology/MRI pairs vs uncertain shrinkage, noise and tears.

    Returns
    -------
    ForwardModel
        Named ``"registration"``; outputs ``tre_rms``, ``tre_max`` (final transform) and ``tre_rigid``
        (after the rigid + scale stage), in pixels over the tissue, and ``scale_error`` (largest error of
        the estimated scale factors).

    Examples
    --------
    >>> m = registration()
    >>> out = m(shrink_r=0.1, shrink_c=0.05, rotation=4.0, noise_std=0.02, tear_fraction=0.0, seed_u=0.3,
    ...         warp_amplitude=0.5)
    >>> bool(out["tre_rms"][0] < 1.0)
    True
    """

    def one(shrink_r, shrink_c, rotation, noise_std, tear_fraction, seed_u, warp_amplitude):
        seed = int(np.floor(np.clip(seed_u, 0.0, 1.0) * 2.0**52))
        pair = synthetic_pair(n, shrink=(shrink_r, shrink_c), rotation_deg=rotation, translation=(1.0, -1.0),
                              warp_amplitude=warp_amplitude, noise_std=noise_std, tear_fraction=tear_fraction,
                              rng=seed)
        rigid, final = register(pair.fixed, pair.moving, pair.tear_mask, levels=levels, control_grids=control_grids)
        region = pair.fixed > 0.1
        tre = target_registration_error(final, pair.transform, region)
        tre_rigid = target_registration_error(rigid, pair.transform, region)
        scale_error = max(abs(rigid.scale[0] - (1 - shrink_r)), abs(rigid.scale[1] - (1 - shrink_c)))
        return {"tre_rms": math.sqrt(float(np.mean(tre**2))), "tre_max": float(tre.max()),
                "tre_rigid": math.sqrt(float(np.mean(tre_rigid**2))), "scale_error": scale_error}

    def function(**values):
        n_samples = len(next(iter(values.values())))
        rows = [one(**{k: float(v[j]) for k, v in values.items()}) for j in range(n_samples)]
        return {key: np.array([r[key] for r in rows]) for key in rows[0]}

    inputs = [
        Input("shrink_r", Uniform(0.03, 0.15), "aleatory", "", "histology shrinkage along rows"),
        Input("shrink_c", Uniform(0.03, 0.15), "aleatory", "", "histology shrinkage along columns"),
        Input("rotation", Uniform(-8.0, 8.0), "aleatory", "deg", "slide rotation"),
        Input("noise_std", Uniform(0.01, 0.05), "aleatory", "", "image noise (intensities in [0, 1])"),
        Input("tear_fraction", Uniform(0.0, 0.06), "aleatory", "", "fraction of tissue torn in the histology"),
        Input("seed_u", Uniform(0.0, 1.0), "aleatory", "", "realisation of phantom, warp, tears and noise"),
        Input("warp_amplitude", Uniform(0.0, 1.5), "epistemic", "px", "size of the non-rigid distortion"),
    ]
    outputs = [
        Output("tre_rms", "px", "RMS target registration error over the tissue (final transform)"),
        Output("tre_max", "px", "largest target registration error over the tissue"),
        Output("tre_rigid", "px", "RMS target registration error after the rigid + scale stage"),
        Output("scale_error", "", "largest error of the estimated scale factors 1 - shrinkage"),
    ]
    return ForwardModel("registration", function, inputs, outputs,  # validity: see the module docstring
                        description=f"coarse-to-fine NMI registration, {n}x{n}, {levels} levels, "
                                    f"B-spline grids {list(control_grids)}")


@functools.cache
def _median_tre_by_stage(warps: tuple[str, ...] = WARPS, n_seeds: int = 3) -> dict[str, float]:
    """Median RMS TRE (px) over ``model_support_pair`` seeds 0..n-1 of ``warps``: the default pipeline's final
    transform, its own rigid + scale stage, and the exact rigid + scale part of the true transform (whose TRE is
    the size of the true non-rigid displacement)."""
    values: dict[str, list[float]] = {"final": [], "rigid": [], "exact_rigid": []}
    for warp in warps:
        for seed in range(n_seeds):
            pair = model_support_pair(seed, warp)
            rigid, final = register(pair.fixed, pair.moving, pair.tear_mask)
            t, region = pair.transform, pair.fixed > 0.1
            exact = Transform(t.shape, t.rotation, t.scale, t.translation)
            for key, estimate in (("final", final), ("rigid", rigid), ("exact_rigid", exact)):
                values[key].append(math.sqrt(float(np.mean(target_registration_error(estimate, t, region) ** 2))))
    return {key: float(np.median(v)) for key, v in values.items()}


def _validations() -> list[Any]:
    from .validation import Validation

    validity = ("synthetic 48 x 48 phantom pairs over the model's input support (true non-rigid displacement "
                "0.1-0.5 px RMS); no measured histology/MRI landmark set")
    source = ("the project's own synthetic pairs (models.registration.model_support_pair), all five warp classes, "
              "seeds 0-2; benchmarks/registration_tre.py --baselines adds SimpleITK (optional extra)")
    return [
        Validation(
            "registration", "median RMS TRE of the default result (rigid + B-spline); reference: its own rigid + "
            "scale stage on the same pairs", lambda: _median_tre_by_stage()["final"],
            lambda: _median_tre_by_stage()["rigid"], "px", source, validity, "self-reference", None,
            note="a limit, not a validation: on 50 pairs (seeds 0-9, benchmarks/registration_tre.py --baselines) "
            "the B-spline stage beats its own rigid + scale result in only 26/50 pairs - it helps for the Gaussian "
            "bumps and the opening tear, and worsens the sinusoidal and thin-plate warps, whose non-rigid part "
            "(0.1-0.3 px) is below what it resolves; an untuned SimpleITK affine is worse in 34/50 pairs",
        ),
        Validation(
            "registration", "median RMS TRE of the default result; reference: the exact rigid + scale part of the "
            "true transform (its TRE = the true non-rigid displacement)", lambda: _median_tre_by_stage()["final"],
            lambda: _median_tre_by_stage()["exact_rigid"], "px", source, validity, "self-reference", None,
            note="the final TRE (median 0.31 px over 50 pairs) stays above the true non-rigid displacement "
            "(median 0.19 px) in 36/50 pairs: at these displacements the method does not recover the non-rigid "
            "part, and no accuracy claim for it is made",
        ),
    ]


#: External comparison rows of this model for ``models.validation`` (replace the fallback row).
VALIDATIONS = _validations()
