"""Darcy permeability from a periodic Stokes (or Stokes–Brinkman) cell problem on a staggered MAC
grid, with the Kozeny–Carman law and the Drummond–Tahir / Sangani–Acrivos formulas as cheap references.

No-slip solids are faces whose centre lies in a particle (velocity eliminated); fluid nodes next to
a wall get a cut-link correction for its true position; a Brinkman drag ``α u`` models porous regions.
"""

from __future__ import annotations

import functools
import math
from typing import Any, Literal

import numpy as np
from scipy import sparse
from scipy.sparse import linalg as splinalg
from threadpoolctl import ThreadpoolController

from uqbridge import Constant, ForwardModel, Input, Output, Uniform

from .microstructures import Microstructure, random_overlapping, seed_from_unit, square_array

__all__ = [
    "GEOMETRIES",
    "TABLE_N",
    "TABLE_STEP",
    "VERIFIED_RANGE",
    "brinkman_channel_velocity",
    "drummond_tahir",
    "kozeny_carman",
    "permeability_tensor",
    "sangani_acrivos_dense",
    "square_array_k_rel",
    "stokes_cell",
    "stokes_permeability",
]


@functools.cache
def _threadpools() -> ThreadpoolController:
    """Built once, lazily: a controller scans the loaded libraries (~8 ms, as much as a 64² solve)."""
    return ThreadpoolController()

GEOMETRIES = ("square_cylinders", "random_disks")
MODEL_FORMS = ("cell", "kozeny_carman")

# Pressure penalty of the continuity equation, ``∇·u = −δ p``: removes the constant-pressure null
# space (and that of enclosed pores) and perturbs velocities by O(δ) relative to O(1) (μ = 1, h = 1).
_DELTA = 1e-9


def _shift(index: np.ndarray, axis: int, step: int) -> np.ndarray:
    return np.roll(index, -step, axis=axis).ravel()


def stokes_cell(
    solid_u: np.ndarray,
    solid_v: np.ndarray,
    forces: np.ndarray,
    *,
    drag_u: np.ndarray | None = None,
    drag_v: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Periodic Stokes–Brinkman flow ``−∇²u + α u + ∇p = f``, ``∇·u = 0`` on an ``n×n`` MAC grid.

    Lattice units: cell size ``h = 1``, viscosity 1. ``u[i, j]`` lives on the face between cells
    ``(i−1, j)`` and ``(i, j)`` (normal to axis 0), ``v[i, j]`` on the face between ``(i, j−1)`` and
    ``(i, j)``; pressure at cell centres. One sparse LU factorisation serves all load cases.

    Parameters
    ----------
    solid_u, solid_v : bool ndarray, shape (n, n)
        No-slip faces (velocity fixed to 0).
    forces : ndarray, shape (n_loads, 2)
        Uniform body forces (the mean pressure gradient of the periodic problem).
    drag_u, drag_v : ndarray, shape (n, n), optional
        Brinkman drag coefficient ``α = μ/k`` on each face (0 in free fluid).

    Returns
    -------
    u, v, p : ndarrays of shape (n_loads, n, n)

    Examples
    --------
    Free fluid with drag α everywhere moves at the uniform Darcy velocity ``f/α``:

    >>> n = 8; free = np.zeros((n, n), bool); a = np.full((n, n), 4.0)
    >>> u, v, p = stokes_cell(free, free, np.array([[1.0, 0.0]]), drag_u=a, drag_v=a)
    >>> round(float(u.mean()), 8), round(float(abs(v).max()), 8)
    (0.25, 0.0)
    """
    solid_u = np.asarray(solid_u, dtype=bool)
    solid_v = np.asarray(solid_v, dtype=bool)
    n = solid_u.shape[0]
    if solid_u.shape != (n, n) or solid_v.shape != (n, n):
        raise ValueError(f"solid_u and solid_v must both have shape (n, n), got {solid_u.shape} and {solid_v.shape}")
    forces = np.atleast_2d(np.asarray(forces, dtype=float))
    if forces.shape[1] != 2:
        raise ValueError(f"forces must have shape (n_loads, 2), got {forces.shape}")
    size = n * n
    cell = np.arange(size).reshape(n, n)
    drag = [np.zeros(size) if a is None else np.asarray(a, dtype=float).ravel() for a in (drag_u, drag_v)]

    rows, cols, vals = [], [], []

    def add(r, c, v):
        rows.append(r)
        cols.append(c)
        vals.append(np.broadcast_to(v, r.shape).astype(float))

    # momentum for each velocity component k (unknown blocks: u at 0, v at size, p at 2 size)
    for k in range(2):
        base = k * size
        me = cell.ravel()
        add(base + me, base + me, 4.0 + drag[k])
        for axis in range(2):
            for step in (-1, 1):
                add(base + me, base + _shift(cell, axis, step), -1.0)
        # ∂p/∂x_k at face (i, j) of axis k = p(i, j) − p(i − e_k)
        add(base + me, 2 * size + me, 1.0)
        add(base + me, 2 * size + _shift(cell, k, -1), -1.0)
    # continuity at cell (i, j), penalised: −(u(i+1, j) − u(i, j) + v(i, j+1) − v(i, j)) − δ p = 0,
    # the sign that makes the eliminated system K + DᵀD/δ positive definite
    me = cell.ravel()
    for k in range(2):
        add(2 * size + me, k * size + _shift(cell, k, 1), -1.0)
        add(2 * size + me, k * size + me, 1.0)
    add(2 * size + me, 2 * size + me, -_DELTA)

    A = sparse.csr_matrix(
        (np.concatenate(vals), (np.concatenate(rows), np.concatenate(cols))), shape=(3 * size, 3 * size)
    )
    keep = np.concatenate([~solid_u.ravel(), ~solid_v.ravel(), np.ones(size, bool)])
    idx = np.flatnonzero(keep)
    Ak = A[idx][:, idx].tocsc()
    rhs = np.zeros((3 * size, forces.shape[0]))
    rhs[:size] = forces[:, 0]
    rhs[size : 2 * size] = forces[:, 1]
    x = np.zeros_like(rhs)
    with _threadpools().limit(limits=1, user_api="blas"):
        # symmetric ordering without pivoting is ~4× faster than COLAMD with partial pivoting on
        # this symmetric quasi-definite matrix; two steps of iterative refinement recover the
        # accuracy lost to the absent pivoting (1e-5 relative before, round-off after)
        lu = splinalg.splu(Ak, permc_spec="MMD_AT_PLUS_A", diag_pivot_thresh=0.0, options={"SymmetricMode": True})
        b = rhs[idx]
        sol = lu.solve(b)
        for _ in range(2):
            sol += lu.solve(b - Ak @ sol)
        x[idx] = sol
    shape = (forces.shape[0], n, n)
    return (x[:size].T.reshape(shape), x[size : 2 * size].T.reshape(shape), x[2 * size :].T.reshape(shape))


def _face_masks(structure: Microstructure, n: int) -> tuple[np.ndarray, np.ndarray]:
    return structure.rasterise(n, shift=(-0.5, 0.0)), structure.rasterise(n, shift=(0.0, -0.5))


def _cut_link_drag(
    structure: Microstructure, n: int, shift: tuple[float, float], theta_min: float = 1e-2
) -> tuple[np.ndarray, np.ndarray]:
    """Solid mask of one velocity grid and the wall correction of its viscous stencil.

    A fluid node P whose stencil neighbour S is solid sees the true wall at ``θh`` (0 < θ ≤ 1)
    along the link, not at S. Extrapolating linearly through ``u = 0`` at the wall
    (Shortley–Weller) turns the link's coefficient 1 into ``1/θ``: an extra diagonal
    ``1/θ − 1``, i.e. a drag on P, which keeps the matrix symmetric. ``θ`` is where the link
    crosses the particle covering S; it is clipped at ``theta_min`` (the node is then ≈ 0 anyway).
    """
    first = structure.first_cover_grid(n, shift).ravel()
    m = structure.centres.shape[0]
    solid = first < m
    points = (np.indices((n, n)).reshape(2, -1).T + 0.5 + np.asarray(shift)) / n
    index = np.arange(n * n).reshape(n, n)
    drag = np.zeros(n * n)
    for axis in range(2):
        for step in (-1, 1):
            neighbour = np.roll(index, -step, axis=axis).ravel()
            link = ~solid & solid[neighbour]
            P = np.flatnonzero(link)
            d = points[P] - structure.centres[first[neighbour[link]]]
            d -= np.round(d)
            # |d + t e|² = R² with e = step e_axis / n: the smaller root is the entry point
            b = 2.0 * step * d[:, axis] / n
            c = np.einsum("ij,ij->i", d, d) - structure.radius**2
            a = 1.0 / n**2
            t = (-b - np.sqrt(np.maximum(b * b - 4 * a * c, 0.0))) / (2 * a)
            np.add.at(drag, P, 1.0 / np.clip(t, theta_min, 1.0) - 1.0)
    return solid.reshape(n, n), drag.reshape(n, n)


def permeability_tensor(
    structure: Microstructure, n: int = 64, *, wall: Literal["cut", "staircase"] = "cut"
) -> np.ndarray:
    """Permeability tensor ``K`` (2×2) of a 2-D periodic microstructure in units of the cell edge².

    Darcy's law ``⟨u⟩ = −(K/μ) ∇p``: with unit body force along ``e_j`` (the mean pressure
    gradient), ``K[:, j]`` is the cell-averaged (superficial) velocity, times ``h² = 1/n²``.

    ``wall="cut"`` corrects each velocity node next to a particle for the true wall position along
    its stencil links (see ``_cut_link_drag``): square-array ``K/a²`` within 0.2 % of Drummond &
    Tahir at 32² for c ≤ 0.1. ``"staircase"`` puts the wall at the solid nodes (first order:
    6 % at 64²).

    Examples
    --------
    >>> K = permeability_tensor(square_array(0.8), n=32)
    >>> bool(abs(K[0, 1]) < 1e-12 and abs(K[0, 0] - K[1, 1]) < 1e-12)
    True
    """
    if structure.dim != 2:
        raise ValueError(f"permeability_tensor needs a 2-D microstructure, got dim={structure.dim}")
    if wall == "cut":
        solid_u, drag_u = _cut_link_drag(structure, n, (-0.5, 0.0))
        solid_v, drag_v = _cut_link_drag(structure, n, (0.0, -0.5))
        u, v, _ = stokes_cell(solid_u, solid_v, np.eye(2), drag_u=drag_u, drag_v=drag_v)
    elif wall == "staircase":
        u, v, _ = stokes_cell(*_face_masks(structure, n), np.eye(2))
    else:
        raise ValueError(f"wall must be one of ('cut', 'staircase'), got {wall!r}")
    K = np.array([[u[j].mean(), v[j].mean()] for j in range(2)]).T
    return K / n**2


def drummond_tahir(solid_fraction: Any) -> Any:
    """Dimensionless permeability ``K/a²`` of a square array of cylinders, flow across the axes.

    Drummond & Tahir (1984), Int. J. Multiphase Flow 10, 515, eq. for the square array:
    ``K/a² = (−ln c − 1.476 + 2c − 1.774c² + 4.076c³)/(8c)``, equal to the dilute expansion of
    Sangani & Acrivos (1982), Int. J. Multiphase Flow 8, 193. A truncated series: its c³ term
    dominates beyond c ≈ 0.3 (at c = 0.4 it gives 0.068 where the cell problem gives 0.037).

    Examples
    --------
    >>> round(float(drummond_tahir(0.1)), 4)
    1.2662
    """
    c = np.asarray(solid_fraction, dtype=float)
    return (-np.log(c) - 1.476 + 2 * c - 1.774 * c**2 + 4.076 * c**3) / (8 * c)


def sangani_acrivos_dense(solid_fraction: Any) -> Any:
    """Near-touching square array: ``K/a² = 2√2 ε^{5/2}/(9c)``, ``ε = 1 − √(c/c_max)``, ``c_max = π/4``.

    Lubrication asymptote of Sangani & Acrivos (1982), drag ``F/μU = 9π/(2√2) ε^{−5/2}``.

    Examples
    --------
    >>> round(float(sangani_acrivos_dense(0.7)), 6)
    0.000332
    """
    c = np.asarray(solid_fraction, dtype=float)
    gap = 1.0 - np.sqrt(c / (math.pi / 4))
    return 2 * math.sqrt(2) * gap**2.5 / (9 * c)


#: Gebart (1992) transverse-flow constants per packing: (C1, maximum fibre volume fraction).
_GEBART = {
    "gebart_square": (16.0 / (9.0 * math.pi * math.sqrt(2.0)), math.pi / 4.0),
    "gebart_hexagonal": (16.0 / (9.0 * math.pi * math.sqrt(6.0)), math.pi / (2.0 * math.sqrt(3.0))),
}
KOZENY_FORMS = ("carman", *_GEBART)


def kozeny_carman(porosity: Any, *, kozeny_constant: float = 5.0, form: str = "carman", xp: Any = np) -> Any:
    """Kozeny–Carman ``K/a² = ε³ / (4 k (1 − ε)²)`` for cylinders of radius ``a`` (specific surface 2/a),
    or Gebart's transverse-flow law for ordered fibre arrays.

    ``form="carman"``: Carman (1937), Trans. Inst. Chem. Eng. 15, 150, with Kozeny constant ``k = 5``.
    **Validity:** granular beds and flow *along* fibres (Gebart's longitudinal form ``8/c (1−V_f)³/V_f²``,
    ``c`` = 57 square / 53 hexagonal, is this law with ``k`` = c/32 ≈ 1.7–1.8); for flow *across* fibres
    it is 1.9–2.9× too permeable at fibre volume fractions 0.3–0.6 (8× at 0.7; measured against the
    square-array Stokes cell of :func:`stokes_permeability`, 48²), because the cross-flow closes at the
    packing limit while ``ε³/(1 − ε)²`` stays positive: the Kozeny constant that cell implies is 9–15 at
    ``V_f`` = 0.3–0.6, not a constant.

    ``form="gebart_square"`` / ``"gebart_hexagonal"``: Gebart (1992), J. Compos. Mater. 26, 1100, eq. (19),
    flow across aligned fibres ``K/a² = C₁ (√(V_max/V_f) − 1)^{5/2}``, ``V_f = 1 − ε``, with
    ``C₁ = 16/(9π√2)``, ``V_max = π/4`` (square) and ``C₁ = 16/(9π√6)``, ``V_max = π/(2√3)`` (hexagonal).
    A lubrication result, exact as ``V_f → V_max``: against the square-array Stokes cell (48², cut cells)
    it is +3 % at ``V_f`` = 0.7, +4 % at 0.6, +9 % at 0.5, +13 % at 0.4, +18 % at 0.3; for dilute beds use
    :func:`drummond_tahir`. Zero at ``V_max``, undefined beyond it (a ``ValueError`` for NumPy input).
    ``kozeny_constant`` is ignored.

    Examples
    --------
    >>> round(float(kozeny_carman(0.5)), 4)
    0.025
    >>> round(float(kozeny_carman(0.5, form="gebart_square")), 5)  # across fibres: about half
    0.01292
    """
    if form == "carman":
        return porosity**3 / (4.0 * kozeny_constant * (1.0 - porosity) ** 2)
    if form not in _GEBART:
        raise ValueError(f"form must be one of {KOZENY_FORMS}, got {form!r}")
    c1, v_max = _GEBART[form]
    v_f = 1.0 - porosity
    if xp is np and np.any((np.asarray(v_f) <= 0.0) | (np.asarray(v_f) > v_max)):
        raise ValueError(
            f"porosity must lie in [{1 - v_max:.4f}, 1) for form={form!r} (fibre fraction up to the packing "
            f"limit {v_max:.4f}), got {porosity!r}; use form='carman' or drummond_tahir for other beds"
        )
    return c1 * (xp.sqrt(v_max / v_f) - 1.0) ** 2.5


def brinkman_channel_velocity(y: Any, half_width: float, drag: float, force: float = 1.0) -> Any:
    """Brinkman flow between no-slip walls at ``y = ±H``: ``u = (f/α)(1 − cosh(√α y)/cosh(√α H))``.

    Solution of ``−u'' + α u = f`` (μ = μ_eff = 1; Brinkman 1947, Appl. Sci. Res. A1, 27),
    evaluated as ``2 sinh(s(H+y)/2) sinh(s(H−y)/2)/cosh(sH)`` (``s = √α``), which stays accurate
    as ``α → 0``; ``α = 0`` is the Poiseuille profile ``f (H² − y²)/2``.

    Examples
    --------
    >>> round(float(brinkman_channel_velocity(0.0, 1.0, 1e-12)), 6)  # Poiseuille limit f H²/2
    0.5
    """
    y = np.asarray(y, dtype=float)
    if drag == 0.0:
        return force * (half_width**2 - y**2) / 2.0
    s = math.sqrt(drag)
    numerator = 2.0 * np.sinh(0.5 * s * (half_width + y)) * np.sinh(0.5 * s * (half_width - y))
    return force / drag * numerator / np.cosh(s * half_width)


#: Grid of the tabulated square-array cell and the spacing of its nodes in solid fraction.
TABLE_N = 128
TABLE_STEP = 0.01
#: Solid fractions of the square array where the cell at grid ``n`` is within 1 % of the same cell on a
#: 4x finer grid at every node of the 0.01 table and between nodes (``benchmarks/resin_cell_resolution.py``).
#: The error is not monotone in c (the gap between neighbours against the grid): at 128^2 it is at most 0.93 %
#: over 0.30-0.68 (512^2 reference) and 1.0-1.5 % at 0.69-0.71; at 96^2 it stays <= 0.9 % only up to 0.65
#: (1.25 % at 0.66, 1.44 % at 0.67, 3.0 % at 0.70; 384^2 reference). At 32^2 (the former default) it is 2.7 %
#: at 0.55, 5.7 % at 0.60 and 35 % at 0.70.
VERIFIED_RANGE = {96: (0.30, 0.65), 128: (0.30, 0.68)}


@functools.cache
def _square_array_table(n: int) -> Any:
    """Cubic spline of ``log(K/a²)`` through the cell solved at every node of the verified range."""
    from scipy.interpolate import CubicSpline

    lo, hi = VERIFIED_RANGE[n]
    nodes = np.round(np.arange(lo, hi + TABLE_STEP / 2, TABLE_STEP), 6)
    values = [_square_array_k_rel(float(1.0 - c), n) for c in nodes]
    return CubicSpline(nodes, np.log(values))


def square_array_k_rel(solid_fraction: Any, *, n: int = TABLE_N) -> np.ndarray:
    """Transverse permeability ``K/a²`` of the square fibre array by the Stokes cell, tabulated.

    The cell (:func:`permeability_tensor`, cut-link walls) is solved once per process at the nodes
    0.30, 0.31, … of the solid fraction up to the end of the grid's verified range on an ``n × n`` grid and
    interpolated by a cubic spline in ``log K`` (39 solves at 128², ~10–15 s). Discretisation error of the
    tabulated cell, measured against the 4× finer grid at every node and between nodes
    (``benchmarks/resin_cell_resolution.py``): ≤ 0.93 % over 0.30–0.68 at the default 128² (512² reference);
    ≤ 0.9 % over 0.30–0.65 at 96². Fractions outside the verified range raise a ``ValueError`` naming it
    (beyond it the error exceeds 1 %: 1.0–1.5 % at 0.69–0.71 on 128², 3 % at 0.70 on 96²). Converged against the references: Sangani & Acrivos's dilute series
    (:func:`drummond_tahir`) at c ≤ 0.1; their lubrication limit (:func:`sangani_acrivos_dense`) as
    c → π/4; Gebart's square-packing form is 5–11 % above it over c = 0.40–0.68 (see
    :func:`kozeny_carman`).

    Examples
    --------
    >>> round(float(square_array_k_rel(0.5)), 4)  # Gebart (1992) gives 0.01292
    0.0118
    """
    if n not in VERIFIED_RANGE:
        raise ValueError(f"n must be one of the verified grids {sorted(VERIFIED_RANGE)}, got {n!r}")
    c = np.asarray(solid_fraction, dtype=float)
    lo, hi = VERIFIED_RANGE[n]
    if c.size and (np.nanmin(c) < lo - 1e-12 or np.nanmax(c) > hi + 1e-12 or np.any(~np.isfinite(c))):
        raise ValueError(
            f"solid_fraction must lie in the verified range [{lo}, {hi}] of the {n}^2 cell (discretisation error "
            f"<= 1 % against a 4x finer grid), got values in [{np.nanmin(c):.4g}, {np.nanmax(c):.4g}]; beyond it "
            f"the error exceeds 1 % - use permeability_tensor on a finer grid there"
        )
    return np.exp(_square_array_table(n)(c))


@functools.lru_cache(maxsize=4096)
def _square_array_k_rel(porosity: float, n: int) -> float:
    """K/a² of the square array (deterministic in its arguments, so repeated designs are free)."""
    s = square_array(porosity)
    return float(np.trace(permeability_tensor(s, n))) / 2 / s.radius**2


def stokes_permeability(
    geometry: Literal["square_cylinders", "random_disks"] = "square_cylinders",
    *,
    n: int = 48,
    model_form: Literal["cell", "kozeny_carman"] = "cell",
) -> ForwardModel:
    """Darcy permeability of a periodic array of cylinders (fibres) by a Stokes cell problem.

    Outputs: ``K`` (m², isotropic part ``tr K/2`` of the tensor) and ``K_rel = K/a²``.
    Transverse flow through fibres of radius ``a``; ``K/a²`` depends on the solid fraction (and
    for random arrays on the realisation and the fibre radius relative to the cell).

    Inputs: ``porosity`` (epistemic, Uniform(0.45, 0.9) — fibre beds are characterised by one
    imprecisely known fibre volume fraction), ``a`` (Constant 5 µm, typical glass/carbon fibre
    radius), and for ``random_disks`` ``radius`` (aleatory Uniform(0.08, 0.14), fibre radius /
    cell edge) and ``seed_u`` (aleatory realisation). ``model_form="kozeny_carman"`` gives the
    closed-form alternative (differentiable) with inputs ``porosity`` and ``a``.

    Walls are corrected for their true position along the stencil links (``wall="cut"`` of
    :func:`permeability_tensor`): at 48² the square-array ``K/a²`` is within 0.2 % of Drummond &
    Tahir for c ≤ 0.1 and within 2 % of Sangani & Acrivos's lubrication limit at c = 0.6
    (``benchmarks/models_transport.py`` prints the table).

    Examples
    --------
    >>> m = stokes_permeability(n=32)
    >>> out = m(porosity=np.array([0.9]))
    >>> round(float(out["K_rel"][0] / drummond_tahir(0.1)), 3)  # Drummond & Tahir 1984
    1.002
    """
    if geometry not in GEOMETRIES:
        raise ValueError(f"geometry must be one of {GEOMETRIES}, got {geometry!r}")
    if model_form not in MODEL_FORMS:
        raise ValueError(f"model_form must be one of {MODEL_FORMS}, got {model_form!r}")
    if not (isinstance(n, (int, np.integer)) and n >= 8):
        raise ValueError(f"n must be an integer >= 8, got {n!r}")
    porosity_input = Input(
        "porosity", Uniform(0.45, 0.9), "epistemic", "", "pore fraction (1 − fibre volume fraction)"
    )
    a_input = Input("a", Constant(5e-6), "epistemic", "m", "fibre radius")
    outputs = [
        Output("K", "m^2", "Darcy permeability, isotropic part of the tensor"),
        Output("K_rel", "", "dimensionless permeability K/a^2"),
    ]
    if model_form == "kozeny_carman":

        def closed(porosity, a, xp: Any = np):
            k_rel = kozeny_carman(porosity, xp=xp)
            return {"K": k_rel * a**2, "K_rel": k_rel}

        return ForwardModel(
            "stokes_permeability_kozeny_carman", closed, [porosity_input, a_input], outputs,
            description="Kozeny-Carman permeability (Kozeny constant 5) of a fibre bed; valid for granular beds "
            "and flow along fibres, 1.9-2.9x too permeable for flow across fibres (see kozeny_carman, "
            "form='gebart_square')", differentiable=True,
        )

    if geometry == "square_cylinders":

        def function(porosity, a):
            k_rel = np.array([_square_array_k_rel(float(e), n) for e in porosity])
            return {"K": k_rel * a**2, "K_rel": k_rel}

        inputs = [porosity_input, a_input]
    else:

        def function(porosity, radius, seed_u, a):
            k_rel = np.array([
                np.trace(permeability_tensor(random_overlapping(e, r, n=n, rng=seed_from_unit(u)), n)) / 2 / r**2
                for e, r, u in zip(porosity, radius, seed_u)
            ])
            return {"K": k_rel * a**2, "K_rel": k_rel}

        inputs = [
            porosity_input,
            Input("radius", Uniform(0.08, 0.14), "aleatory", "", "fibre radius relative to the cell edge"),
            Input("seed_u", Uniform(0.0, 1.0), "aleatory", "", "realisation (mapped to an RNG seed)"),
            a_input,
        ]
    return ForwardModel(
        f"stokes_permeability_{geometry}", function, inputs, outputs,
        description=f"Darcy permeability by a periodic MAC Stokes cell problem, {geometry}, {n}^2 grid",
    )
