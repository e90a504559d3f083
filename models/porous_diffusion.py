"""Homogenised diffusion (or conduction) in porous media: effective diffusivity, tortuosity and
formation factor from a periodic finite-volume cell problem, or from closed-form effective-medium laws.

The solid is impermeable (zero diffusivity) unless ``solid_ratio`` > 0. The same relative factor
``D_eff/D0 = ε/τ = 1/F`` applies to the conductivity of a pore-filling conductor in an insulating
solid, because both are the same linear cell problem (Archie's formation factor ``F = τ/ε``).
In 2-D the impermeable walls are cut cells (exact open fractions of the cell faces), not pixel
staircases: the default 64² cell is then within 0.05 % of Perrins et al. (1979) up to solid fraction 0.6.
"""

from __future__ import annotations

import functools
import math
from typing import Any, Literal

import numpy as np

from uqbridge import Constant, ForwardModel, Input, Output, Uniform

from .cell_problem import effective_conductivity, effective_conductivity_from_faces
from .microstructures import (
    Microstructure,
    random_overlapping,
    seed_from_unit,
    square_array,
)

__all__ = [
    "CLOSED_FORMS",
    "GEOMETRIES",
    "cell_relative_diffusivity",
    "cut_cell_relative_diffusivity",
    "face_apertures",
    "hashin_shtrikman_bounds",
    "porous_diffusion",
    "porous_diffusion_closed_form",
    "rayleigh_square_array",
    "relative_diffusivity",
]

GEOMETRIES = ("random_disks", "square_cylinders", "random_spheres", "cubic_spheres")
WALLS = ("cut", "staircase")
CLOSED_FORMS = ("bruggeman", "maxwell", "rayleigh")
MODEL_FORMS = ("cell",) + CLOSED_FORMS

#: Self-diffusion coefficient of water at 25 °C, m²/s (Mills 1973, J. Phys. Chem. 77, 685).
WATER_SELF_DIFFUSIVITY = 2.299e-9

_OUTPUTS = (
    Output("D_eff", "m^2/s", "effective diffusivity, isotropic part (mean of the tensor's diagonal)"),
    Output("D_rel", "", "relative effective diffusivity D_eff/D0 = porosity/tau = 1/formation_factor"),
    Output("tau", "", "tortuosity factor tau = porosity D0 / D_eff (>= 1)"),
    Output("formation_factor", "", "formation factor F = D0/D_eff = tau/porosity"),
    Output("porosity_realised", "", "pore fraction of the discretised microstructure"),
)


def relative_diffusivity(porosity: Any, model_form: str = "bruggeman", *, dim: int = 2, xp: Any = np) -> Any:
    """Closed-form ``D_eff/D0`` for an impermeable solid: a cheap model-form alternative.

    * ``"bruggeman"``: the differential effective-medium (DEM) law ``ε^{d/(d−1)}`` — ``ε^{3/2}``
      for spheres (3-D, tortuosity ``τ = ε^{−1/2}``; Bruggeman 1935, Ann. Phys. 416, 636) and
      ``ε²`` for cylinders with transport across their axes (2-D, ``τ = ε^{−1}``). Derivation:
      the dilute limit of insulating inclusions in ``d`` dimensions is ``σ = 1 − d f/(d − 1)``
      (Maxwell 3-D ``1 − 3f/2``, Rayleigh 2-D ``1 − 2f``); DEM adds inclusions a little at a time
      to the current effective medium, ``dσ/σ = (d/(d − 1)) dε/ε``, which integrates to
      ``σ = ε^{d/(d−1)}`` (Sen, Scala & Cohen 1981, Geophysics 46, 781, spheres; Mendelson &
      Cohen 1982, Geophysics 47, 257: Archie exponent ``m = 1/(1 − L)`` for depolarisation ``L``,
      ``L = 1/2`` for cylinders across their axes gives ``m = 2``). The 3-D exponent used in 2-D
      would overestimate ``D_rel`` by ``ε^{−1/2}`` (+41 % at ε = 0.5).
    * ``"maxwell"``: ``2ε/(3 − ε)`` in 3-D (Maxwell 1873, *Treatise* §314, dilute insulating
      spheres) and ``ε/(2 − ε)`` in 2-D (Rayleigh 1892, dilute cylinders). Both equal the upper
      Hashin–Shtrikman bound for an insulating second phase.
    * ``"rayleigh"``: square array of insulating cylinders, 2-D only
      (:func:`rayleigh_square_array`, Perrins et al. 1979).

    Examples
    --------
    >>> round(float(relative_diffusivity(0.25, "bruggeman", dim=3)), 6)
    0.125
    >>> round(float(relative_diffusivity(0.5, "bruggeman", dim=2)), 6)
    0.25
    >>> round(float(relative_diffusivity(0.5, "maxwell", dim=3)), 6)
    0.4
    """
    if dim not in (2, 3):
        raise ValueError(f"dim must be 2 or 3, got {dim!r}")
    if model_form == "bruggeman":
        return porosity * porosity if dim == 2 else porosity * xp.sqrt(porosity)
    if model_form == "maxwell":
        return porosity / (2.0 - porosity) if dim == 2 else 2.0 * porosity / (3.0 - porosity)
    if model_form == "rayleigh":
        if dim != 2:
            raise ValueError(f"model_form 'rayleigh' is the square array of cylinders (dim=2), got dim={dim!r}")
        f = 1.0 - porosity
        return 1.0 - 2.0 * f / (1.0 + f - 0.305827 * f**4 / (1.0 - 1.402958 * f**8) - 0.013362 * f**8)
    raise ValueError(f"model_form must be one of {CLOSED_FORMS}, got {model_form!r}")


def rayleigh_square_array(solid_fraction: Any, conductivity_ratio: float = 0.0) -> Any:
    """Effective conductivity of a square array of cylinders (matrix conductivity 1), Rayleigh method.

    Formula of Perrins, McKenzie & McPhedran (1979), Proc. R. Soc. Lond. A 369, 207, eq. (6):
    ``σ = 1 − 2f / (T + f − 0.305827 f⁴ T/(T² − 1.402958 f⁸) − 0.013362 f⁸)`` with
    ``T = (1 + ρ)/(1 − ρ)`` and ``ρ`` the cylinder/matrix conductivity ratio (``T = 1`` for
    insulating cylinders). Accurate to ~0.1 % up to ``f ≈ 0.7`` against their multipole tables.

    Examples
    --------
    Keller's reciprocity (σ(ρ) σ(1/ρ) = 1 for square arrays) checks the ``T`` convention:

    >>> a = rayleigh_square_array(0.4, 10.0); b = rayleigh_square_array(0.4, 0.1)
    >>> round(float(a * b), 4)
    1.0
    """
    f = np.asarray(solid_fraction, dtype=float)
    if conductivity_ratio == 1.0:
        return np.ones_like(f)
    T = (1.0 + conductivity_ratio) / (1.0 - conductivity_ratio)
    return 1.0 - 2.0 * f / (T + f - 0.305827 * f**4 * T / (T**2 - 1.402958 * f**8) - 0.013362 * f**8)


def hashin_shtrikman_bounds(porosity: Any, solid_ratio: float = 0.0, *, dim: int = 2) -> tuple[Any, Any]:
    """Hashin–Shtrikman bounds on ``σ_eff/σ_pore`` for an isotropic two-phase medium in ``dim`` dims.

    Hashin & Shtrikman (1962), J. Appl. Phys. 33, 3125; d-dimensional form from Torquato,
    *Random Heterogeneous Materials* (2002), eq. (21.23). With an insulating solid the lower
    bound is 0 and the upper one is Maxwell's ``ε/(2 − ε)`` (2-D).

    Examples
    --------
    >>> lo, hi = hashin_shtrikman_bounds(0.5)
    >>> float(lo), round(float(hi), 6)
    (0.0, 0.333333)
    """
    e = np.asarray(porosity, dtype=float)
    s1, s2 = 1.0, float(solid_ratio)  # pore, solid
    upper = s1 + (1 - e) / (1.0 / (s2 - s1) + e / (dim * s1)) if s2 != s1 else np.ones_like(e)
    if s2 == 0.0:
        lower = np.zeros_like(e)
    elif s2 == s1:
        lower = np.ones_like(e)
    else:
        lower = s2 + e / (1.0 / (s1 - s2) + (1 - e) / (dim * s2))
    return (lower, upper) if s2 <= s1 else (upper, lower)


def cell_relative_diffusivity(
    solid: np.ndarray, *, solid_ratio: float = 0.0, solver: str = "auto"
) -> tuple[np.ndarray, float]:
    """Relative effective diffusivity tensor of a rasterised solid mask and its realised porosity.

    Examples
    --------
    >>> K, eps = cell_relative_diffusivity(square_array(0.7).rasterise(64))
    >>> round(eps, 3), bool(0.5 < K[0, 0] < 0.7 / (2 - 0.7))
    (0.701, True)
    """
    solid = np.asarray(solid, dtype=bool)
    sigma = np.where(solid, float(solid_ratio), 1.0)
    return effective_conductivity(sigma, solver=solver), float(1.0 - solid.mean())


def face_apertures(structure: Microstructure, n: int) -> list[np.ndarray]:
    """Open (pore) fraction of every cell face of an ``n × n`` grid for a 2-D union of disks.

    ``apertures[a][i, j]`` belongs to the face between cell ``(i, j)`` and its neighbour along axis
    ``a`` (the layout of :func:`models.cell_problem.effective_conductivity_from_faces`). Each disk
    (minimum-image periodic) cuts a chord from a face; overlapping chords of several disks are merged
    (union of intervals), so the fraction is exact for overlapping particles as well.

    Examples
    --------
    A disk of radius 1/4 centred in the cell, 4 × 4 grid: the face through its centre line is
    covered over its whole length (1/4 of the cell edge), the faces at the cell edge are open.

    >>> ap = face_apertures(square_array(1 - math.pi / 16), 4)
    >>> ap[0][1, 1], ap[0][1, 2], ap[0][3, 1]
    (np.float64(0.0), np.float64(0.0), np.float64(1.0))
    """
    if structure.dim != 2:
        raise ValueError(f"face_apertures needs a 2-D microstructure, got dim={structure.dim}")
    R = float(structure.radius)
    c = np.asarray(structure.centres, dtype=float)
    span = math.ceil(2 * R * n) + 2  # faces a disk can touch along either direction
    out = []
    for a in range(2):
        b = 1 - a
        # faces normal to axis a sit at x_a = (i + 1)/n; rows beyond a disk's reach get a zero chord
        i = np.ceil((c[:, a] - R) * n - 1).astype(int)[:, None] + np.arange(span)
        half = np.sqrt(np.maximum(R * R - ((i + 1) / n - c[:, a : a + 1]) ** 2, 0.0))[:, :, None]
        j = (np.floor((c[:, b] - R) * n).astype(int)[:, None] + np.arange(span))[:, None, :]
        centre = c[:, b, None, None]
        lo = np.clip((centre - half) * n - j, 0.0, 1.0)  # chord in face units [0, 1]
        hi = np.clip((centre + half) * n - j, 0.0, 1.0)
        hit = hi > lo
        ii = np.broadcast_to(i[:, :, None] % n, hit.shape)[hit]
        jj = np.broadcast_to(j % n, hit.shape)[hit]
        face, lo, hi = (ii * n + jj if a == 0 else jj * n + ii), lo[hit], hi[hit]
        open_ = np.ones(n * n)
        if face.size:
            order = np.lexsort((lo, face))
            face, lo, hi = face[order], lo[order], hi[order]
            # union length of sorted intervals per face: each adds what lies beyond the running
            # maximum of the previous ends (offset by 2·face so the maximum restarts at each face)
            reach = np.maximum.accumulate(hi + 2.0 * face) - 2.0 * face
            first = np.r_[True, face[1:] != face[:-1]]
            previous = np.where(first, 0.0, np.r_[0.0, reach[:-1]])
            np.subtract.at(open_, face, np.maximum(0.0, hi - np.maximum(lo, previous)))
        out.append(np.clip(open_, 0.0, 1.0).reshape(n, n))
    return out


def cut_cell_relative_diffusivity(
    structure: Microstructure, n: int, *, solver: str = "auto"
) -> tuple[np.ndarray, float]:
    """``D_rel`` tensor of a 2-D impermeable-solid microstructure with cut-cell walls, and its porosity.

    Face conductances are the open fractions of the faces (:func:`face_apertures`), the
    finite-volume form of the no-flux wall at its true position (a cut-cell / embedded-boundary
    discretisation, e.g. Johansen & Colella 1998, J. Comput. Phys. 147, 60, with the cut-face
    apertures only — cell volume fractions do not enter a steady problem). The porosity is that of
    the continuum microstructure, estimated on a 4× finer raster (error ~2e-4). Against
    Perrins et al. (1979) for the square array at 64²: within 0.05 % for solid fractions ≤ 0.6
    (staircase: −1 to −4 %); ``benchmarks/models_transport.py`` prints the table.

    Examples
    --------
    >>> K, eps = cut_cell_relative_diffusivity(square_array(0.6), 64)
    >>> round(eps, 3), round(float(K[0, 0] / rayleigh_square_array(0.4)), 3)
    (0.6, 1.0)
    """
    faces = face_apertures(structure, n)
    K = effective_conductivity_from_faces(faces, solver=solver)
    return K, float(1.0 - structure.rasterise(4 * n).mean())


def _summarise(d_rel: Any, eps: Any, D0: Any, xp: Any = np) -> dict[str, Any]:
    if xp is np:
        # a non-percolating pore space leaves only round-off flux: report it as exactly zero
        d_rel = np.where(np.abs(d_rel) < 1e-12, 0.0, d_rel)
    with np.errstate(divide="ignore"):
        return {
            "D_eff": D0 * d_rel,
            "D_rel": d_rel,
            "tau": eps / d_rel,
            "formation_factor": 1.0 / d_rel,
            "porosity_realised": eps,
        }


def porous_diffusion_closed_form(
    model_form: Literal["bruggeman", "maxwell", "rayleigh"] = "bruggeman", *, dim: int = 2
) -> ForwardModel:
    """Effective diffusivity from a closed-form effective-medium law (differentiable, cheap).

    Inputs: ``porosity`` (epistemic, Uniform(0.45, 0.85)) and ``D0`` (Constant, water at 25 °C).
    Outputs as :func:`porous_diffusion`; ``porosity_realised`` equals ``porosity``.

    Examples
    --------
    >>> m = porous_diffusion_closed_form("bruggeman", dim=3)
    >>> round(float(m(porosity=0.64)["tau"][0]), 6)
    1.25
    >>> round(float(porous_diffusion_closed_form("bruggeman")(porosity=0.64)["tau"][0]), 6)  # 2-D: 1/ε
    1.5625
    """
    if model_form not in CLOSED_FORMS:
        raise ValueError(f"model_form must be one of {CLOSED_FORMS}, got {model_form!r}")
    if dim not in (2, 3):
        raise ValueError(f"dim must be 2 or 3, got {dim!r}")
    relative_diffusivity(0.5, model_form, dim=dim)  # validates the pair early

    def function(porosity, D0, xp: Any = np):
        return _summarise(relative_diffusivity(porosity, model_form, dim=dim, xp=xp), porosity, D0, xp)

    return ForwardModel(
        f"porous_diffusion_{model_form}",
        function,
        [_porosity_input(Uniform(0.45, 0.85)), _d0_input()],
        _OUTPUTS,
        description=(
            f"effective diffusivity of a porous medium, {model_form} law ({dim}-D: "
            f"{'cylinders, transport across their axes' if dim == 2 else 'spherical grains'}); "
            "valid for an impermeable solid and bulk (non-Knudsen) pore diffusion"
        ),
        differentiable=True,
    )


def _porosity_input(distribution) -> Input:
    return Input(
        "porosity",
        distribution,
        "epistemic",
        "",
        "target pore fraction: one imprecisely known value for a given material (measurement), "
        "sample-to-sample variability is carried by the realisation",
    )


def _d0_input() -> Input:
    return Input(
        "D0", Constant(WATER_SELF_DIFFUSIVITY), "epistemic", "m^2/s", "bulk (free) diffusivity in the pore fluid"
    )


def porous_diffusion(
    geometry: Literal["random_disks", "square_cylinders", "random_spheres", "cubic_spheres"] = "random_disks",
    *,
    n: int | None = None,
    model_form: Literal["cell", "bruggeman", "maxwell", "rayleigh"] = "cell",
    solid_ratio: float = 0.0,
    solver: Literal["auto", "direct", "cg-jacobi", "bicgstab-ilu"] = "auto",
    wall: Literal["cut", "staircase"] | None = None,
) -> ForwardModel:
    """Effective diffusivity and tortuosity of a periodic porous microstructure by a cell problem.

    For each sample a microstructure is generated on an ``n^d`` grid and the periodic cell
    problem is solved by finite volumes (:func:`models.cell_problem.effective_conductivity`).
    Outputs are per sample: ``D_eff = D0 · tr(D_rel)/d`` (m²/s), ``D_rel`` (= ε/τ, also the
    conduction factor κ_eff/κ_fluid with an insulating solid), ``tau = ε/D_rel`` with ε the
    realised (discretised) porosity, ``formation_factor = 1/D_rel`` and ``porosity_realised``.

    Inputs (random geometries; ordered arrays have only ``porosity`` and ``D0``):

    ===========  =========  =========================  ==========================================
    name         kind       default                    meaning / reasoning
    ===========  =========  =========================  ==========================================
    porosity     epistemic  Uniform(0.5, 0.85)         target pore fraction; a material's porosity
                                                       is one imprecisely measured value. Well
                                                       above the void-percolation threshold of
                                                       overlapping disks (ε_c ≈ 0.32, Quintanilla
                                                       & Torquato 2000): with staircase walls at
                                                       64², pixels close thin throats, and 2 of
                                                       84 random samples with ε in (0.45, 0.5)
                                                       did not percolate (D_rel = 0, tau = inf).
                            (Uniform(0.4 or 0.5, 0.9)  ordered arrays: above touching (0.215 in
                            for ordered arrays)        2-D, 0.476 in 3-D)
    radius       aleatory   Uniform(0.06, 0.12) 2-D,   particle radius / cell edge: particle size
                            Uniform(0.1, 0.18) 3-D
                                                       relative to the volume element (its effect
                                                       is the RVE finite-size/resolution effect)
    seed_u       aleatory   Uniform(0, 1)              microstructure realisation, mapped to the
                                                       RNG seed ``⌊seed_u·2³¹⌋`` (same inputs →
                                                       same outputs; not smooth in ``seed_u``)
    D0           epistemic  Constant(2.299e-9) m²/s    water self-diffusivity at 25 °C (Mills 1973)
    ===========  =========  =========================  ==========================================

    Parameters
    ----------
    geometry : {"random_disks", "square_cylinders", "random_spheres", "cubic_spheres"}
        Random overlapping particles (Boolean model) or one particle per periodic cell.
    n : int, optional
        Grid cells per edge (default 64 in 2-D, 32 in 3-D).
    model_form : {"cell", "bruggeman", "maxwell", "rayleigh"}
        ``"cell"`` solves the cell problem; the others return
        :func:`porous_diffusion_closed_form` (model-form alternatives, inputs ``porosity``, ``D0``;
        ``"rayleigh"`` only with ``geometry="square_cylinders"``).
    solid_ratio : float
        Solid/pore diffusivity ratio (0 = impermeable solid; isolated pores then carry no flux).
    solver : {"auto", "direct", "cg-jacobi", "bicgstab-ilu"}
        See :func:`models.cell_problem.effective_conductivity`.
    wall : {"cut", "staircase"}, optional
        ``"cut"`` (the default in 2-D with an impermeable solid) puts the no-flux wall where the
        disks really are (:func:`cut_cell_relative_diffusivity`): square array at 64² within
        0.05 % of Perrins et al. (1979) up to solid fraction 0.6. ``"staircase"`` (the only choice
        in 3-D or with ``solid_ratio > 0``) makes every pixel/voxel whose centre is in a particle
        solid: first-order convergence, 2-D square array −1.3 to −3.8 % at 64² for solid fractions
        0.2–0.6; random overlapping disks (r = 0.08) 9–28 % low at 64² for ε = 0.7–0.5, where the
        cut cell is within 0.5 % of its 256² value (``benchmarks/models_transport.py``).

    Validity: 2-D cells describe transport across aligned fibres/cylinders, 3-D cells a granular medium;
    porosity above the percolation thresholds given with the inputs; molecular (bulk) diffusion in
    the pores, i.e. pores much wider than the molecular mean free path (no Knudsen regime).

    Examples
    --------
    >>> m = porous_diffusion("square_cylinders", n=32)
    >>> out = m(porosity=np.array([0.6, 0.8]))
    >>> [round(float(t), 2) for t in out["tau"]]
    [1.41, 1.2]
    >>> [round(float(d / rayleigh_square_array(1 - e)), 3) for d, e in zip(out["D_rel"], [0.6, 0.8])]
    [1.001, 1.0]
    """
    if model_form not in MODEL_FORMS:
        raise ValueError(f"model_form must be one of {MODEL_FORMS}, got {model_form!r}")
    if geometry not in GEOMETRIES:
        raise ValueError(f"geometry must be one of {GEOMETRIES}, got {geometry!r}")
    dim = 3 if geometry.endswith("spheres") else 2
    if model_form == "rayleigh" and geometry != "square_cylinders":
        raise ValueError(f"model_form 'rayleigh' needs geometry='square_cylinders', got {geometry!r}")
    if model_form != "cell":
        return porous_diffusion_closed_form(model_form, dim=dim)
    if n is None:
        n = 64 if dim == 2 else 32
    if not (isinstance(n, (int, np.integer)) and n >= 8):
        raise ValueError(f"n must be an integer >= 8, got {n!r}")
    solid_ratio = float(solid_ratio)
    if not 0.0 <= solid_ratio < 1.0:
        raise ValueError(f"solid_ratio must lie in [0, 1), got {solid_ratio!r}")
    cut_possible = dim == 2 and solid_ratio == 0.0
    if wall is None:
        wall = "cut" if cut_possible else "staircase"
    if wall not in WALLS:
        raise ValueError(f"wall must be one of {WALLS}, got {wall!r}")
    if wall == "cut" and not cut_possible:
        raise ValueError(
            f"wall='cut' needs a 2-D geometry and an impermeable solid (solid_ratio=0), got geometry={geometry!r}, "
            f"solid_ratio={solid_ratio!r}; use wall='staircase'"
        )
    random = geometry.startswith("random")

    def solve(structure: Microstructure) -> tuple[float, float]:
        if wall == "cut":
            K, eps = cut_cell_relative_diffusivity(structure, n, solver=solver)
        else:
            K, eps = cell_relative_diffusivity(structure.rasterise(n), solid_ratio=solid_ratio, solver=solver)
        return float(np.trace(K)) / dim, eps

    if random:

        def function(porosity, radius, seed_u, D0):
            rows = [
                solve(random_overlapping(e, r, n=n, dim=dim, rng=seed_from_unit(u)))
                for e, r, u in zip(porosity, radius, seed_u)
            ]
            d_rel, eps = np.array(rows).T
            return _summarise(d_rel, eps, D0)

        inputs = [
            _porosity_input(Uniform(0.5, 0.85)),
            # 3-D grids are coarser (32³), so the spheres are larger relative to the cell
            Input(
                "radius", Uniform(0.06, 0.12) if dim == 2 else Uniform(0.1, 0.18), "aleatory", "",
                "particle radius relative to the cell edge",
            ),
            Input("seed_u", Uniform(0.0, 1.0), "aleatory", "", "microstructure realisation (mapped to an RNG seed)"),
            _d0_input(),
        ]
    else:

        @functools.lru_cache(maxsize=4096)
        def ordered(e: float) -> tuple[float, float]:
            # the ordered cell depends only on porosity, deterministically: solve each value once
            return solve(square_array(e, dim))

        def function(porosity, D0):
            d_rel, eps = np.array([ordered(float(e)) for e in porosity]).T
            return _summarise(d_rel, eps, D0)

        inputs = [_porosity_input(Uniform(0.4, 0.9) if dim == 2 else Uniform(0.5, 0.9)), _d0_input()]

    return ForwardModel(
        f"porous_diffusion_{geometry}",
        function,
        inputs,
        _OUTPUTS,
        description=(
            f"effective diffusivity by a periodic FV cell problem, {geometry}, {n}^{dim} grid, {wall} walls; "
            f"valid for bulk (non-Knudsen) diffusion in a {'fibre bed, transport across the fibres' if dim == 2 else 'granular medium'}"
        ),
    )
