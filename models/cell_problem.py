"""Periodic cell problem of homogenisation by cell-centred finite volumes: the effective conductivity
(diffusivity) tensor of a pixel/voxel conductivity field, one sparse factorisation per sample.

Solves ``∇·σ(e_k + ∇χ_k) = 0`` with ``χ_k`` periodic and returns ``σ_eff[:, k] = ⟨σ(e_k + ∇χ_k)⟩``.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable
from typing import Any, Literal

import numpy as np
from scipy import sparse
from scipy.sparse import csgraph
from scipy.sparse import linalg as splinalg
from threadpoolctl import ThreadpoolController

__all__ = ["SOLVERS", "effective_conductivity", "effective_conductivity_batch", "effective_conductivity_from_faces"]


@functools.cache
def _threadpools() -> ThreadpoolController:
    """Built once, lazily: a controller scans the loaded libraries (~8 ms, as much as a 64² solve)."""
    return ThreadpoolController()

SOLVERS = ("auto", "direct", "cg-jacobi", "bicgstab-ilu")


def _face_conductances(sigma: np.ndarray) -> list[np.ndarray]:
    """Harmonic mean of the two cells sharing each face, per axis (face between i and i+1, periodic).

    The harmonic mean is the exact series conductance of two half-cells, so a face touching a
    non-conducting cell carries no flux.
    """
    faces = []
    for axis in range(sigma.ndim):
        nxt = np.roll(sigma, -1, axis=axis)
        total = sigma + nxt
        with np.errstate(divide="ignore", invalid="ignore"):
            g = np.where(total > 0, 2.0 * sigma * nxt / np.where(total > 0, total, 1.0), 0.0)
        faces.append(g)
    return faces


def _assemble(faces: list[np.ndarray]) -> tuple[sparse.csr_matrix, list[np.ndarray]]:
    """Graph Laplacian of the face conductances (lattice units, h = 1) and the neighbour index maps."""
    shape = faces[0].shape
    size = faces[0].size
    index = np.arange(size).reshape(shape)
    rows, cols, vals = [], [], []
    neighbours = []
    for axis, g in enumerate(faces):
        nxt = np.roll(index, -1, axis=axis).ravel()
        neighbours.append(nxt)
        gf = g.ravel()
        i = index.ravel()
        rows += [i, nxt, i, nxt]
        cols += [i, nxt, nxt, i]
        vals += [gf, gf, -gf, -gf]
    A = sparse.csr_matrix(
        (np.concatenate(vals), (np.concatenate(rows), np.concatenate(cols))), shape=(size, size)
    )
    A.eliminate_zeros()
    return A, neighbours


def _iterate(A: sparse.csc_matrix, b: np.ndarray, solver: str, rtol: float) -> np.ndarray:
    """Solve ``A x = b[:, k]`` for each column with a preconditioned Krylov method."""
    if solver == "bicgstab-ilu":
        # SuperLU's incomplete factors are not symmetric, hence BiCGSTAB rather than CG
        ilu = splinalg.spilu(A, drop_tol=1e-3, fill_factor=3)
        M: Any = splinalg.LinearOperator(A.shape, ilu.solve)
        method = splinalg.bicgstab
    else:
        M = sparse.diags(1.0 / A.diagonal())
        method = splinalg.cg
    x = np.empty_like(b)
    for k in range(b.shape[1]):
        x[:, k], info = method(A, b[:, k], rtol=rtol, atol=0.0, M=M, maxiter=20 * A.shape[0])
        if info != 0:
            raise RuntimeError(f"{solver} did not converge (info={info}) for load direction {k}")
    return x


def effective_conductivity(
    sigma: np.ndarray,
    *,
    solver: Literal["auto", "direct", "cg-jacobi", "bicgstab-ilu"] = "auto",
    rtol: float = 1e-10,
) -> np.ndarray:
    """Effective conductivity tensor ``(d, d)`` of a periodic pixel (2-D) or voxel (3-D) field.

    Five-point (seven-point in 3-D) cell-centred finite volumes with harmonic-mean face
    conductances on the unit cell with periodic boundary conditions.

    Non-conducting cells and disconnected pores: the linear system is the graph Laplacian of the
    face conductances, singular once per connected component of the conducting network (a zero
    cell, an isolated pore, or the percolating cluster). One cell per component is pinned
    (``χ = 0``); this removes exactly the null space and leaves fluxes unchanged, because fluxes
    depend only on differences of ``χ`` inside a component. Isolated pores then carry no net flux,
    and a medium whose pore space does not percolate gets a zero effective conductivity.

    Parameters
    ----------
    sigma : ndarray, shape (n,)*d with d in {2, 3}
        Non-negative cell conductivities (relative units; the result has the same units).
    solver : {"auto", "direct", "cg-jacobi", "bicgstab-ilu"}
        Sparse LU (SuperLU, one factorisation for all ``d`` right-hand sides; fastest in 2-D),
        conjugate gradients preconditioned by the diagonal (Jacobi; fastest in 3-D), or BiCGSTAB
        preconditioned by an incomplete LU (``spilu``). ``"auto"``: direct in 2-D, CG in 3-D.
        ``benchmarks/models_transport.py`` prints their costs.
    rtol : float
        Relative residual tolerance of the iterative solvers.

    Returns
    -------
    ndarray, shape (d, d)
        ``σ_eff[i, k] = ⟨σ (e_k + ∇χ_k)⟩_i``.

    Examples
    --------
    Layers stacked along axis 1: arithmetic mean along the layers, harmonic mean across them.

    >>> s = np.ones((8, 8)); s[:, :4] = 0.25
    >>> K = effective_conductivity(s)
    >>> round(float(K[0, 0]), 6), round(float(K[1, 1]), 6)
    (0.625, 0.4)
    """
    sigma = np.asarray(sigma, dtype=float)
    if sigma.ndim not in (2, 3) or len(set(sigma.shape)) != 1:
        raise ValueError(f"sigma must be a square (n, n) or cubic (n, n, n) array, got shape {sigma.shape}")
    if not np.all(np.isfinite(sigma)) or np.any(sigma < 0):
        raise ValueError("sigma must be finite and non-negative everywhere")
    return effective_conductivity_from_faces(_face_conductances(sigma), solver=solver, rtol=rtol)


def effective_conductivity_from_faces(
    faces: list[np.ndarray],
    *,
    solver: Literal["auto", "direct", "cg-jacobi", "bicgstab-ilu"] = "auto",
    rtol: float = 1e-10,
) -> np.ndarray:
    """Effective conductivity tensor from given face conductances (lattice units, ``h = 1``).

    ``faces[a][i]`` is the conductance of the face between cell ``i`` and ``i + e_a`` (periodic),
    one ``(n,)*d`` array per axis. :func:`effective_conductivity` passes the harmonic means of a
    cell field; a cut-cell discretisation passes open face fractions (apertures) instead, which
    puts impermeable walls where they really are rather than on the pixel staircase.

    Examples
    --------
    Open fraction 1/2 on every face normal to axis 0 halves the conductivity along that axis only:

    >>> K = effective_conductivity_from_faces([np.full((8, 8), 0.5), np.ones((8, 8))])
    >>> round(float(K[0, 0]), 12), round(float(K[1, 1]), 12)
    (0.5, 1.0)
    """
    faces = [np.asarray(g, dtype=float) for g in faces]
    d = len(faces)
    shape = faces[0].shape if faces else ()
    if d not in (2, 3) or any(g.shape != shape for g in faces) or len(shape) != d or len(set(shape)) != 1:
        raise ValueError(
            f"faces must be 2 or 3 arrays of one square/cubic shape (n,)*d, got shapes {[g.shape for g in faces]}"
        )
    if not all(np.all(np.isfinite(g)) and np.all(g >= 0) for g in faces):
        raise ValueError("faces must be finite and non-negative everywhere")
    if solver not in SOLVERS:
        raise ValueError(f"solver must be one of {SOLVERS}, got {solver!r}")
    size = faces[0].size
    A, neighbours = _assemble(faces)

    # one pinned cell per connected component of the conducting graph
    n_comp, labels = csgraph.connected_components(A, directed=False)
    pinned = np.zeros(size, dtype=bool)
    pinned[np.unique(labels, return_index=True)[1]] = True
    free = np.flatnonzero(~pinned)

    # right-hand sides: divergence of σ e_k, i.e. g(i→i+e_k) − g(i−e_k→i) for each cell i
    rhs = np.empty((size, d))
    for k, g in enumerate(faces):
        rhs[:, k] = (g - np.roll(g, 1, axis=k)).ravel()
    chi = np.zeros((size, d))
    if solver == "auto":
        # SuperLU fill-in grows fast on 3-D grids (24³ already takes seconds): iterate there
        solver = "direct" if d == 2 else "cg-jacobi"
    if free.size:
        Af = A[free][:, free].tocsc()
        b = rhs[free]
        # vector-sized BLAS calls gain nothing from threads, and on a shared machine OpenBLAS
        # threads slow each CG iteration by an order of magnitude
        with _threadpools().limit(limits=1, user_api="blas"):
            if solver == "direct":
                # SPD: symmetric minimum-degree ordering without pivoting (≈25 % faster than COLAMD)
                lu = splinalg.splu(
                    Af, permc_spec="MMD_AT_PLUS_A", diag_pivot_thresh=0.0, options={"SymmetricMode": True}
                )
                chi[free] = lu.solve(b)
            else:
                chi[free] = _iterate(Af, b, solver, rtol)
    # mean flux: each face carries g (δ_ik + χ_j − χ_i) and stands for one cell volume
    K = np.empty((d, d))
    for i, (g, nxt) in enumerate(zip(faces, neighbours)):
        gf = g.ravel()
        jump = chi[nxt] - chi
        for k in range(d):
            K[i, k] = np.mean(gf * ((i == k) + jump[:, k]))
    return K


def effective_conductivity_batch(
    fields: Iterable[np.ndarray], *, solver: Literal["auto", "direct", "cg-jacobi", "bicgstab-ilu"] = "auto"
) -> np.ndarray:
    """Effective tensors of many fields, ``(n_samples, d, d)``: one factorisation per sample.

    Examples
    --------
    >>> effective_conductivity_batch([np.ones((4, 4)), 2 * np.ones((4, 4))])[:, 0, 0].tolist()
    [1.0, 2.0]
    """
    return np.stack([effective_conductivity(f, solver=solver) for f in fields])
