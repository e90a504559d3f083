"""Concurrent atomistic–continuum coupling in 1D: a Morse chain (nearest and next-nearest neighbours)
blended with a Cauchy–Born finite-element bar, with strain-gradient and goal-oriented adaptivity.

Model (reduced units: lengths in the Morse distance ``r0``, energies in the well depth ``D``)
-------------------------------------------------------------------------------------------
*Atoms.* ``N + 1`` atoms at ``X_i = i a`` (``a`` the stress-free spacing of the NN+NNN chain,
``φ'(a) + 2 φ'(2a) = 0``), pair potential ``φ(r) = (1 − e^{−α(r−1)})²`` between nearest and
next-nearest neighbours. A localised, self-equilibrated body force ``f_i = f0 s e^{−s²}``,
``s = (i − c)/w`` around the centre atom ``c`` (a misfitting inclusion pulling the lattice apart)
and a far-field strain ``ε`` (Dirichlet ends ``y_0 = 0``, ``y_N = (1 + ε) N a``).

*Continuum.* Linear finite elements on a subset of atoms (nodes) with the Cauchy–Born energy density
``W(r) = φ(r) + φ(2r)`` per atom (``r`` the element's bond length), i.e. the axial force
``T(r) = φ'(r) + 2 φ'(2r)``; external forces lumped to nodes by the interpolation (``Pᵀ f``).

*Handshake.* Force-based blending (BQCF; Li, Luskin & Ortner 2012, Multiscale Model. Simul. 10, 1023;
force-based QC: Dobson & Luskin 2008, ESAIM M2AN 42, 113): the residual at node ``j`` is
``β_j (F^a_j + f_j) + (1 − β_j)(R^c_j + (Pᵀf)_j)``, with ``β = 1`` on atomistic atoms, decreasing
linearly to 0 over ``handshake`` atoms. Atomistic forces are evaluated on the full lattice
interpolated from the nodes. Both force fields vanish under any uniform strain, so the scheme passes
the patch test (no ghost forces) for any mesh — :func:`ghost_forces` checks it.

*Reference.* The "fully atomistic" solution has every atom a node and every atom atomistic except a
boundary margin of ``handshake + 3`` atoms at each end, where the NNN neighbours of a free chain
would be missing; there the strain is uniform (the load has decayed by ``e^{−(N/2w)²}``), so by the
patch test the margin adds no error.

Adaptivity
----------
* :func:`adapt_strain_gradient` — the rule of the issue: continuum elements adjacent to a node where
  ``|Δr / Δx|`` exceeds a threshold turn atomistic; repeat until nothing changes.
* :func:`adapt_goal_oriented` — dual-weighted residuals (Becker & Rannacher 2001, Acta Numerica 10,
  1; for atomistic-to-continuum model adaptivity Oden & Prudhomme 2002, J. Comput. Phys. 182, 496,
  and Prudhomme, Bauman & Oden 2006, Int. J. Multiscale Comput. Eng. 4, 71): with ``ρ(z_h)`` the
  reference residual of the coupled solution interpolated to the lattice and ``ψ`` the adjoint,
  ``J_ref(z_h)ᵀ ψ = ∂Q/∂z``, the QoI error is ``Q(z*) − Q(z_h) ≈ −ψᵀ ρ(z_h)``; the element
  contributions ``−Σ ψ_i ρ_i`` are the refinement indicators (Dörfler marking). The adjoint is linear
  and solved on the full lattice linearised at ``z_h`` (the usual "enriched adjoint" of DWR taken to
  the lattice; in 1D a banded solve of negligible cost; in 2D/3D one would solve it on a patch-wise
  enriched mesh). Refining a continuum element bisects it; an element of one lattice spacing becomes
  atomistic.
* :func:`refine_uniform` — every continuum element refined per step (the baseline).

The quantity of interest is the strain of the bond at the inclusion, ``Q = (z_{c+1} − z_c)/a − 1``.

Validation status
-----------------
Its checks are verification only (the coupled QoI against the fully atomistic solution of the same
chain, the patch test, the DWR estimate against the true error): the model is a reduced-unit 1D Morse
chain with a synthetic inclusion force, a numerical device for the coupling error, so no measurement or
published table describes the same system; the published coupling benchmarks (e.g. Miller & Tadmor 2009,
Modelling Simul. Mater. Sci. Eng. 17, 053001) are 2-D/3-D and not comparable.

Default inputs
--------------
``alpha`` (= α r0) ~ U(3.5, 4.5), epistemic: the Morse fits of Girifalco & Weizer (1959, Phys. Rev.
114, 687) give α r0 ≈ 3.8–3.9 for Al, Ni, Cu and ≈ 4.4 for Pb; ``strain`` ~ U(0, 0.02) and ``f0`` ~ U(0.2, 0.4) D/r0,
aleatory (far-field strain and inclusion strength). Fixed: ``N = 200`` atoms, ``w = 5``.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
import xarray as xr
from scipy import linalg, ndimage, optimize

from uqbridge import Constant, ForwardModel, Input, Output, Uniform
from uqbridge.results import provenance

__all__ = [
    "ChainProblem",
    "CouplingMesh",
    "CouplingSolution",
    "adapt_goal_oriented",
    "adapt_strain_gradient",
    "coarse_mesh",
    "concurrent_coupling",
    "estimate_qoi_error",
    "final_mesh",
    "ghost_forces",
    "morse",
    "reference_mesh",
    "refine_uniform",
    "solve",
]


def morse(r: Any, alpha: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Morse pair energy, force ``φ'`` and stiffness ``φ''`` in reduced units (``D = r0 = 1``).

    Examples
    --------
    >>> phi, dphi, ddphi = morse(1.0, 4.0)
    >>> float(phi), float(dphi), float(ddphi)  # minimum at r0, curvature 2 α²
    (0.0, 0.0, 32.0)
    """
    e = np.exp(-alpha * (np.asarray(r, dtype=float) - 1.0))
    return (1.0 - e) ** 2, 2.0 * alpha * e * (1.0 - e), 2.0 * alpha**2 * e * (2.0 * e - 1.0)


@dataclass(frozen=True)
class ChainProblem:
    """A 1D Morse chain under far-field ``strain`` and a localised inclusion of strength ``f0``.

    Examples
    --------
    >>> p = ChainProblem(alpha=4.0)
    >>> round(p.spacing, 6), p.centre
    (0.990857, 100)
    """

    alpha: float = 4.0
    strain: float = 0.01
    f0: float = 0.3
    n_atoms: int = 200
    width: float = 5.0
    handshake: int = 4

    def __post_init__(self) -> None:
        if not (isinstance(self.n_atoms, int) and self.n_atoms >= 40 and self.n_atoms % 2 == 0):
            raise ValueError(f"n_atoms must be an even integer >= 40, got {self.n_atoms!r}")
        if not (isinstance(self.handshake, int) and self.handshake >= 0):
            raise ValueError(f"handshake must be a non-negative integer, got {self.handshake!r}")
        if not 1.0 <= self.alpha <= 10.0:
            raise ValueError(f"alpha must be in [1, 10] (reduced Morse stiffness), got {self.alpha!r}")
        if not self.width > 0:
            raise ValueError(f"width must be positive, got {self.width!r}")

    @property
    def spacing(self) -> float:
        """Stress-free lattice spacing ``a``: root of ``φ'(a) + 2 φ'(2a) = 0`` near ``r0``."""
        return float(optimize.brentq(lambda r: morse(r, self.alpha)[1] + 2 * morse(2 * r, self.alpha)[1], 0.9, 1.0))

    @property
    def centre(self) -> int:
        return self.n_atoms // 2

    @property
    def margin(self) -> int:
        """Atoms at each end that stay continuum (room for the handshake and the NNN reach)."""
        return self.handshake + 3

    def body_force(self) -> np.ndarray:
        s = (np.arange(self.n_atoms + 1) - self.centre) / self.width
        return self.f0 * s * np.exp(-(s**2))


@dataclass(frozen=True, eq=False)
class CouplingMesh:
    """Nodes (sorted atom indices, both ends included) and the atomistic-atom mask."""

    nodes: np.ndarray
    atomistic: np.ndarray

    @property
    def n_dof(self) -> int:
        """Free nodal unknowns (nodes minus the two Dirichlet ends)."""
        return int(self.nodes.size - 2)

    @property
    def n_atomistic(self) -> int:
        return int(self.atomistic.sum())


@dataclass(frozen=True, eq=False)
class CouplingSolution:
    """Equilibrium of one coupled model: nodal and lattice displacements, the QoI and solver data.

    ``u_nodes`` are the nodal displacements from the reference lattice, ``u`` their interpolation to
    every atom (positions are ``i a + u_i``); ``beta`` is the blending weight of each node.
    """

    mesh: CouplingMesh
    beta: np.ndarray
    u_nodes: np.ndarray
    u: np.ndarray
    qoi: float
    newton_iterations: int


def _blend(problem: ChainProblem, nodes: np.ndarray, atomistic: np.ndarray) -> tuple[CouplingMesh, np.ndarray]:
    """Complete a mesh: resolve the handshake (and NNN reach) with nodes; β per atom."""
    n = problem.n_atoms
    atomistic = np.asarray(atomistic, dtype=bool).copy()
    atomistic[: problem.margin] = atomistic[n + 1 - problem.margin :] = False
    if atomistic.any():
        dist = ndimage.distance_transform_edt(~atomistic)
    else:
        dist = np.full(n + 1, np.inf)
    beta = np.clip(1.0 - dist / (problem.handshake + 1), 0.0, 1.0)
    nodes = np.union1d(np.union1d(nodes, [0, n]), np.flatnonzero(dist <= problem.handshake + 2)).astype(int)
    return CouplingMesh(nodes, atomistic), beta


def coarse_mesh(problem: ChainProblem, element: int = 16) -> CouplingMesh:
    """Uniform continuum mesh with elements of ``element`` lattice spacings, no atomistic atoms.

    Examples
    --------
    >>> coarse_mesh(ChainProblem(), 50).nodes
    array([  0,  50, 100, 150, 200])
    """
    if not (isinstance(element, int) and element >= 1):
        raise ValueError(f"element must be a positive integer, got {element!r}")
    nodes = np.unique(np.r_[np.arange(0, problem.n_atoms, element), problem.n_atoms])
    return _blend(problem, nodes, np.zeros(problem.n_atoms + 1, bool))[0]


def reference_mesh(problem: ChainProblem) -> CouplingMesh:
    """The fully atomistic reference: every atom a node, all atomistic except the end margins."""
    return _blend(problem, np.arange(problem.n_atoms + 1), np.ones(problem.n_atoms + 1, bool))[0]


class _Operators:
    """Residual and Jacobian of the blended equations on one mesh.

    Dense NumPy arrays: the chains here have a few hundred atoms, where dense algebra is faster than
    assembling sparse matrices. Positions enter as displacements from the reference lattice, so bond
    lengths are ``a + Δu`` and round-off does not grow with the chain length.
    """

    def __init__(self, problem: ChainProblem, mesh: CouplingMesh):
        self.problem, self.mesh = problem, mesh
        n, nodes = problem.n_atoms, mesh.nodes
        self.a = problem.spacing
        self.beta = _blend(problem, nodes, mesh.atomistic)[1][nodes]
        self.atoms = np.arange(n + 1)
        k = np.clip(np.searchsorted(nodes, self.atoms, side="right") - 1, 0, nodes.size - 2)
        t = (self.atoms - nodes[k]) / (nodes[k + 1] - nodes[k])
        self.length = np.diff(nodes).astype(float)
        self.free = np.arange(1, nodes.size - 1)
        self.f = problem.body_force()
        # external forces lumped to the nodes with the interpolation weights (Pᵀ f)
        self.f_nodes = np.bincount(k, (1.0 - t) * self.f, nodes.size) + np.bincount(k + 1, t * self.f, nodes.size)
        self.blended = np.flatnonzero(self.beta > 0)
        self.node_index = np.full(n + 5, -1)
        self.node_index[nodes + 2] = np.arange(nodes.size)  # shifted by 2: neighbours of any atom index
        if np.any(self.node_index[nodes[self.blended][:, None] + 2 + np.arange(-2, 3)] < 0):
            raise RuntimeError("a blended node has an unresolved neighbour; the mesh was not completed")

    def residual(self, u: np.ndarray, jacobian: bool = False):
        alpha, a, nodes = self.problem.alpha, self.a, self.mesh.nodes
        zu = np.interp(self.atoms, nodes, u)
        _, t1, k1 = morse(a + np.diff(zu), alpha)
        _, t2, k2 = morse(2 * a + zu[2:] - zu[:-2], alpha)
        fa = self.f.copy()
        fa[:-1] += t1
        fa[1:] -= t1
        fa[:-2] += t2
        fa[2:] -= t2
        r = a + np.diff(u) / self.length
        _, s1, c1 = morse(r, alpha)
        _, s2, c2 = morse(2 * r, alpha)
        tension = s1 + 2 * s2
        rc = self.f_nodes.copy()
        rc[:-1] += tension
        rc[1:] -= tension
        res = (self.beta * fa[nodes] + (1 - self.beta) * rc)[self.free]
        if not jacobian:
            return res
        size = nodes.size
        kc = (c1 + 4 * c2) / self.length
        j = np.arange(size)
        jac = np.zeros((size, size))
        jac[j[:-1], j[:-1]] -= kc
        jac[j[1:], j[1:]] -= kc
        jac[j[:-1], j[1:]] += kc
        jac[j[1:], j[:-1]] += kc
        jac *= (1 - self.beta)[:, None]
        # atomistic rows: blended nodes are resolved, so ∂F^a_i/∂z_{i+d} maps onto node columns
        k1p, k2p = np.pad(k1, 2), np.pad(k2, 2)  # k1p[i + 2] = stiffness of bond (i, i+1)
        i = nodes[self.blended]
        rows = {
            -2: k2p[i], -1: k1p[i + 1], 1: k1p[i + 2], 2: k2p[i + 2],
        }
        rows[0] = -(k1p[i + 1] + k1p[i + 2] + k2p[i] + k2p[i + 2])
        for d, value in rows.items():
            jac[self.blended, self.node_index[i + d + 2]] += self.beta[self.blended] * value
        return res, jac[np.ix_(self.free, self.free)]


def _solve_banded(matrix: np.ndarray, rhs: np.ndarray, width: int = 2) -> np.ndarray:
    """Solve with a matrix of half-bandwidth ``width`` (pair interactions reach two atoms, so every
    Jacobian here is pentadiagonal in node numbering)."""
    n = matrix.shape[0]
    bands = np.zeros((2 * width + 1, n))
    for d in range(-width, width + 1):
        diag = np.diagonal(matrix, d)
        if d >= 0:
            bands[width - d, d:] = diag
        else:
            bands[width - d, : n + d] = diag
    return linalg.solve_banded((width, width), bands, rhs)


def _dirichlet(problem: ChainProblem, nodes: np.ndarray, strain: float) -> np.ndarray:
    """Nodal displacements of a uniform strain (the initial guess; exact at the Dirichlet ends)."""
    return strain * problem.spacing * nodes.astype(float)


def ghost_forces(problem: ChainProblem, mesh: CouplingMesh, strain: float = 0.01) -> np.ndarray:
    """Residual forces of the coupled model under a uniform ``strain`` and no body force (patch test).

    Examples
    --------
    >>> p = ChainProblem()
    >>> mesh = final_mesh(adapt_strain_gradient(p, 2e-4))
    >>> bool(np.max(np.abs(ghost_forces(p, mesh))) < 1e-12)
    True
    """
    unloaded = ChainProblem(problem.alpha, strain, 0.0, problem.n_atoms, problem.width, problem.handshake)
    ops = _Operators(unloaded, _blend(unloaded, mesh.nodes, mesh.atomistic)[0])
    return ops.residual(_dirichlet(unloaded, ops.mesh.nodes, strain))


def solve(problem: ChainProblem, mesh: CouplingMesh, *, tol: float = 1e-12, maxiter: int = 50) -> CouplingSolution:
    """Newton solve of the blended equilibrium equations on ``mesh``.

    Examples
    --------
    >>> p = ChainProblem()
    >>> ref = solve(p, reference_mesh(p))
    >>> round(ref.qoi, 5), ref.mesh.n_dof
    (0.03886, 199)
    """
    ops = _Operators(problem, _blend(problem, mesh.nodes, mesh.atomistic)[0])
    u = _dirichlet(problem, ops.mesh.nodes, problem.strain)
    for it in range(1, maxiter + 1):  # noqa: B007 -- `it` is read after the loop (iteration count)
        res, jac = ops.residual(u, jacobian=True)
        if np.max(np.abs(res)) < tol:
            break
        u[ops.free] -= _solve_banded(jac, res)
    else:
        raise RuntimeError(f"Newton did not converge to tol={tol} in maxiter={maxiter} iterations")
    lattice = np.interp(ops.atoms, ops.mesh.nodes, u)
    c = problem.centre
    qoi = (lattice[c + 1] - lattice[c]) / problem.spacing
    return CouplingSolution(ops.mesh, ops.beta, u, lattice, float(qoi), it - 1)


def estimate_qoi_error(problem: ChainProblem, solution: CouplingSolution) -> tuple[float, np.ndarray]:
    """Dual-weighted-residual estimate of ``Q(z*) − Q(z_h)`` and its per-element contributions.

    Returns the estimate and an array with one (signed) contribution per element of ``solution.mesh``.

    Examples
    --------
    >>> p = ChainProblem()
    >>> eta, local = estimate_qoi_error(p, solve(p, coarse_mesh(p, 8)))
    >>> local.shape, bool(abs(eta - local.sum()) < 1e-15)
    ((25,), True)
    """
    ref = _Operators(problem, reference_mesh(problem))
    rho, jac = ref.residual(solution.u, jacobian=True)
    ell = np.zeros(problem.n_atoms + 1)
    ell[problem.centre + 1], ell[problem.centre] = 1.0 / problem.spacing, -1.0 / problem.spacing
    psi = _solve_banded(jac.T, ell[ref.free])
    contrib = np.zeros(problem.n_atoms + 1)
    contrib[ref.free] = -psi * rho
    nodes = solution.mesh.nodes
    # interior atoms to their element; a node atom's share split equally between its two elements
    element = np.clip(np.searchsorted(nodes, np.arange(problem.n_atoms + 1), side="right") - 1, 0, nodes.size - 2)
    local = np.bincount(element, weights=contrib, minlength=nodes.size - 1)
    at_node = contrib[nodes[1:-1]]
    local[1:] -= 0.5 * at_node
    local[:-1] += 0.5 * at_node
    return float(contrib.sum()), local


def _refine(problem: ChainProblem, mesh: CouplingMesh, elements: np.ndarray, beta: np.ndarray) -> CouplingMesh:
    """Bisect marked continuum elements longer than one spacing; make one-spacing ones atomistic."""
    nodes, atomistic = mesh.nodes, mesh.atomistic.copy()
    new = []
    for e in elements:
        lo, hi = nodes[e], nodes[e + 1]
        if beta[lo] == 1.0 and beta[hi] == 1.0:
            continue
        if hi - lo >= 2:
            new.append((lo + hi) // 2)
        else:
            atomistic[[lo, hi]] = True
    return _blend(problem, np.union1d(nodes, new), atomistic)[0]


def _history(
    records: list[dict[str, Any]], method: str, mesh: CouplingMesh, reference: float, problem: ChainProblem, **extra: Any
) -> xr.Dataset:
    data = {key: ("step", np.array([r[key] for r in records])) for key in records[0]}
    data["final_nodes"] = ("node", mesh.nodes)
    data["final_atomistic"] = ("atom", mesh.atomistic.astype(np.int8))
    return xr.Dataset(
        data,
        attrs=provenance(None, f"concurrent_coupling:{method}", qoi="central bond strain",
                         reference_qoi=reference, **asdict(problem), **extra),
    )


def final_mesh(history: xr.Dataset) -> CouplingMesh:
    """The last mesh of an adaptation history (from its ``final_nodes`` and ``final_atomistic``).

    Examples
    --------
    >>> h = adapt_strain_gradient(ChainProblem(), 1e-3)
    >>> final_mesh(h).n_atomistic == int(h.n_atomistic[-1])
    True
    """
    return CouplingMesh(np.asarray(history["final_nodes"].values, dtype=int),
                        np.asarray(history["final_atomistic"].values, dtype=bool))


def _record(problem: ChainProblem, sol: CouplingSolution, reference: float | None, eta: float | None = None) -> dict[str, Any]:
    if eta is None:
        eta, _ = estimate_qoi_error(problem, sol)
    out = {"n_dof": sol.mesh.n_dof, "n_atomistic": sol.mesh.n_atomistic, "qoi": sol.qoi, "estimate": eta}
    out["error"] = np.nan if reference is None else reference - sol.qoi
    return out


def adapt_goal_oriented(
    problem: ChainProblem,
    tol: float,
    *,
    element: int = 16,
    theta: float = 0.5,
    max_steps: int = 40,
    reference: float | None = None,
) -> xr.Dataset:
    """Goal-oriented (DWR) adaptive refinement until the estimated ``|Q error| ≤ tol``.

    Returns the history (dim ``step``: ``n_dof``, ``n_atomistic``, ``qoi``, ``estimate`` and, when
    ``reference`` is given, the true ``error``) and the final mesh (``final_nodes`` over dim
    ``node``, ``final_atomistic`` over dim ``atom``; see :func:`final_mesh`).

    Examples
    --------
    >>> h = adapt_goal_oriented(ChainProblem(), 1e-5)
    >>> bool(abs(float(h.estimate[-1])) <= 1e-5), int(h.n_dof[-1]) < 199
    (True, True)
    """
    if not 0.0 < theta <= 1.0:
        raise ValueError(f"theta must be in (0, 1], got {theta!r}")
    if not tol > 0:
        raise ValueError(f"tol must be positive, got {tol!r}")
    mesh = coarse_mesh(problem, element)
    records = []
    for _ in range(max_steps):
        sol = solve(problem, mesh)
        eta, local = estimate_qoi_error(problem, sol)
        records.append(_record(problem, sol, reference, eta))
        if abs(eta) <= tol:
            break
        order = np.argsort(-np.abs(local))
        cumulative = np.cumsum(np.abs(local[order]))
        marked = order[: int(np.searchsorted(cumulative, theta * cumulative[-1])) + 1]
        mesh = _refine(problem, sol.mesh, marked, _blend(problem, sol.mesh.nodes, sol.mesh.atomistic)[1])
    return _history(records, "goal-oriented", sol.mesh, reference if reference is not None else np.nan, problem,
                    tol=tol, theta=theta, element=element)


def refine_uniform(
    problem: ChainProblem, tol: float, *, element: int = 16, max_steps: int = 12, reference: float | None = None
) -> xr.Dataset:
    """Uniform refinement (every continuum element each step) until ``|Q − reference| ≤ tol``.

    The stopping rule uses the true error, so ``reference`` is required.
    """
    if reference is None:
        raise ValueError("refine_uniform needs reference= (the fully atomistic QoI) to stop")
    mesh = coarse_mesh(problem, element)
    records = []
    for _ in range(max_steps):
        sol = solve(problem, mesh)
        records.append(_record(problem, sol, reference))
        if abs(reference - sol.qoi) <= tol:
            break
        beta = _blend(problem, sol.mesh.nodes, sol.mesh.atomistic)[1]
        mesh = _refine(problem, sol.mesh, np.arange(sol.mesh.nodes.size - 1), beta)
    return _history(records, "uniform", sol.mesh, reference, problem, tol=tol, element=element)


def adapt_strain_gradient(
    problem: ChainProblem, threshold: float, *, element: int = 8, max_steps: int = 40, reference: float | None = None
) -> xr.Dataset:
    """Turn continuum elements atomistic where ``|dr/dX|`` (bond-length gradient) exceeds ``threshold``.

    The gradient at a node is the jump of the element bond lengths over the distance between element
    centres; both elements at a flagged node become atomistic. Repeats until no element is flagged.

    Examples
    --------
    >>> h = adapt_strain_gradient(ChainProblem(), 2e-4)
    >>> int(h.n_atomistic[0]), int(h.n_atomistic[-1]) > 0
    (0, True)
    """
    if not threshold > 0:
        raise ValueError(f"threshold must be positive, got {threshold!r}")
    mesh = coarse_mesh(problem, element)
    records = []
    for _ in range(max_steps):
        sol = solve(problem, mesh)
        records.append(_record(problem, sol, reference))
        nodes = sol.mesh.nodes
        r = problem.spacing + np.diff(sol.u_nodes) / np.diff(nodes)
        grad = np.abs(np.diff(r)) / (0.5 * (np.diff(nodes)[1:] + np.diff(nodes)[:-1]) * problem.spacing)
        atomistic = sol.mesh.atomistic.copy()
        for k in np.flatnonzero(grad > threshold) + 1:  # node k, elements k-1 and k
            atomistic[nodes[k - 1] : nodes[min(k + 1, nodes.size - 1)] + 1] = True
        new = _blend(problem, np.union1d(nodes, np.flatnonzero(atomistic)), atomistic)[0]
        if new.n_atomistic == sol.mesh.n_atomistic:
            break
        mesh = new
    return _history(records, "strain-gradient", sol.mesh, reference if reference is not None else np.nan, problem,
                    threshold=threshold, element=element)


def concurrent_coupling(n_atoms: int = 200, tol: float = 1e-5, element: int = 16) -> ForwardModel:
    """Goal-oriented adaptive atomistic–continuum model of a Morse chain with an inclusion.

    Each evaluation runs :func:`adapt_goal_oriented` to the QoI tolerance ``tol``.

    Returns
    -------
    ForwardModel
        Inputs ``alpha`` (epistemic), ``strain`` and ``f0`` (aleatory); outputs ``bond_strain`` (the
        QoI), ``error_estimate`` (DWR estimate of its remaining error), ``n_dof`` and ``n_atomistic``.

    Examples
    --------
    >>> m = concurrent_coupling()
    >>> out = m(alpha=4.0, strain=0.01, f0=0.3)
    >>> round(float(out["bond_strain"][0]), 4), bool(out["n_dof"][0] < 199)
    (0.0389, True)
    """

    def function(alpha, strain, f0, width):
        n = alpha.shape[0]
        out = {k: np.empty(n) for k in ("bond_strain", "error_estimate", "n_dof", "n_atomistic")}
        for s in range(n):
            problem = ChainProblem(float(alpha[s]), float(strain[s]), float(f0[s]), n_atoms, float(width[s]))
            h = adapt_goal_oriented(problem, tol, element=element)
            out["bond_strain"][s] = float(h.qoi[-1])
            out["error_estimate"][s] = float(h.estimate[-1])
            out["n_dof"][s] = float(h.n_dof[-1])
            out["n_atomistic"][s] = float(h.n_atomistic[-1])
        return out

    return ForwardModel(
        "concurrent_coupling",
        function,
        [
            Input("alpha", Uniform(3.5, 4.5), "epistemic", "", "Morse stiffness parameter alpha*r0 (dimensionless)"),
            Input("strain", Uniform(0.0, 0.02), "aleatory", "", "applied far-field strain"),
            Input("f0", Uniform(0.2, 0.4), "aleatory", "-", "inclusion (body-force dipole) strength, in units of D/r0"),
            Input("width", Constant(5.0), "aleatory", "-", "inclusion half-width, in units of r0"),
        ],
        [
            Output("bond_strain", "", "strain of the bond at the inclusion (QoI)"),
            Output("error_estimate", "", "DWR estimate of the remaining QoI error"),
            Output("n_dof", "", "degrees of freedom of the adapted coupled model"),
            Output("n_atomistic", "", "atoms treated atomistically"),
        ],
        description=f"1D Morse chain / Cauchy-Born bar, force-based blending, goal-oriented adaptivity (tol={tol})",
    )
