"""Tests of the 1D atomistic–continuum coupling: patch test, independent energy minimisation,
DWR estimate, strain-gradient adaptivity and goal-oriented vs uniform refinement."""

import numpy as np
import pytest
from scipy import optimize

from uqbridge_models.concurrent_coupling import (
    ChainProblem,
    adapt_goal_oriented,
    adapt_strain_gradient,
    coarse_mesh,
    concurrent_coupling,
    estimate_qoi_error,
    final_mesh,
    ghost_forces,
    morse,
    reference_mesh,
    refine_uniform,
    solve,
)


def test_morse_derivatives_match_finite_differences():
    r = np.linspace(0.8, 2.2, 15)
    phi, d1, d2 = morse(r, 3.9)
    h = 1e-6
    np.testing.assert_allclose(d1, (morse(r + h, 3.9)[0] - morse(r - h, 3.9)[0]) / (2 * h), rtol=1e-7, atol=1e-9)
    np.testing.assert_allclose(d2, (morse(r + h, 3.9)[1] - morse(r - h, 3.9)[1]) / (2 * h), rtol=1e-6, atol=1e-8)


@pytest.mark.parametrize("handshake", [0, 4])
@pytest.mark.parametrize("strain", [-0.02, 0.01, 0.05])
def test_patch_test_no_ghost_forces(handshake, strain):
    """Patch test of a/c coupling (Miller & Tadmor 2009, Modell. Simul. Mater. Sci. Eng. 17, 053001):
    under a uniform strain and no load every node of the coupled model is in equilibrium, on coarse,
    adapted and fully atomistic meshes, to round-off relative to the bond stiffness times strain."""
    p = ChainProblem(handshake=handshake)
    scale = morse(p.spacing, p.alpha)[2] * abs(strain) * p.spacing
    adapted = final_mesh(adapt_strain_gradient(p, 2e-4))
    goal = final_mesh(adapt_goal_oriented(p, 1e-5))
    for mesh in (coarse_mesh(p, 16), coarse_mesh(p, 1), adapted, goal, reference_mesh(p)):
        forces = ghost_forces(p, mesh, strain)
        assert np.max(np.abs(forces)) <= 1e-12 * scale, np.max(np.abs(forces))
    assert goal.n_atomistic > 0 and adapted.n_atomistic > 0  # the handshake was exercised


def test_reference_equals_independent_energy_minimisation():
    """The fully atomistic reference (Newton on blended forces) against an independent minimisation of
    the atomistic energy Σφ(NN) + Σφ(NNN) − Σ f·u (L-BFGS with its analytic gradient), with the two
    outermost atoms at each end held at the reference positions. Equal minimisers show that the forces
    are the exact energy gradient and that the continuum margin adds no error (patch test)."""
    p = ChainProblem(alpha=4.2, strain=0.015, f0=0.35)
    ref = solve(p, reference_mesh(p))
    a, f, n = p.spacing, p.body_force(), p.n_atoms
    x = a * np.arange(n + 1)
    fixed = np.r_[0, 1, n - 1, n]
    free = np.setdiff1d(np.arange(n + 1), fixed)

    def positions(v):
        u = ref.u.copy()
        u[free] = v
        return x + u, u

    def energy(v):
        z, u = positions(v)
        e1, g1, _ = morse(np.diff(z), p.alpha)
        e2, g2, _ = morse(z[2:] - z[:-2], p.alpha)
        grad = np.zeros(n + 1)
        grad[1:] += g1
        grad[:-1] -= g1
        grad[2:] += g2
        grad[:-2] -= g2
        return e1.sum() + e2.sum() - f @ u, (grad - f)[free]

    def hessian(v):
        z, _ = positions(v)
        h = np.zeros((n + 1, n + 1))
        for step in (1, 2):
            k = morse(z[step:] - z[:-step], p.alpha)[2]
            i = np.arange(n + 1 - step)
            h[i, i] += k
            h[i + step, i + step] += k
            h[i, i + step] -= k
            h[i + step, i] -= k
        return h[np.ix_(free, free)]

    start = p.strain * x[free]
    res = optimize.minimize(energy, start, jac=True, hess=hessian, method="Newton-CG", options={"xtol": 1e-13})
    assert res.success, res.message
    np.testing.assert_allclose(res.x, ref.u[free], atol=1e-10)
    c = p.centre
    assert (res.x[c - 1] - res.x[c - 2]) / a == pytest.approx(ref.qoi, abs=1e-9)  # free[j] is atom j + 2


def test_dwr_estimate_is_exact_in_the_linear_limit_and_sharp_otherwise():
    """For an affine residual the dual-weighted residual with the exact adjoint equals the QoI error
    (Becker & Rannacher 2001, Acta Numerica 10, Prop. 2.1); with a tiny load the Morse chain is in its
    linear regime. At finite load the estimate stays within 10 % of the true error."""
    for f0, rtol in ((1e-4, 1e-3), (0.3, 0.1)):
        p = ChainProblem(strain=0.0, f0=f0)
        q_ref = solve(p, reference_mesh(p)).qoi
        for element in (16, 4, 1):
            sol = solve(p, coarse_mesh(p, element))
            eta, local = estimate_qoi_error(p, sol)
            assert eta == pytest.approx(q_ref - sol.qoi, rel=rtol)
            assert local.sum() == pytest.approx(eta, rel=1e-12)


@pytest.mark.parametrize("alpha, f0", [(3.5, 0.2), (4.5, 0.4), (4.0, 0.3)])
@pytest.mark.parametrize("tol", [1e-4, 1e-5])
def test_goal_oriented_needs_fewer_dofs_than_uniform(alpha, f0, tol):
    """Both refinements are run until the QoI (central bond strain) is within ``tol`` of the fully
    atomistic reference; goal-oriented refinement stops on its own DWR estimate, uniform refinement
    on the true error. Goal-oriented reaches the tolerance with fewer degrees of freedom."""
    p = ChainProblem(alpha=alpha, strain=0.01, f0=f0)
    q_ref = solve(p, reference_mesh(p)).qoi
    goal = adapt_goal_oriented(p, tol, reference=q_ref)
    uniform = refine_uniform(p, tol, reference=q_ref)
    assert abs(float(goal.error[-1])) <= 1.1 * tol
    assert abs(float(uniform.error[-1])) <= tol
    assert int(goal.n_dof[-1]) < int(uniform.n_dof[-1])
    big = np.abs(goal.error.values) > 1e-9
    effectivity = goal.estimate.values[big] / goal.error.values[big]
    assert np.all((effectivity > 0.8) & (effectivity < 1.25))


def test_strain_gradient_rule_turns_the_inclusion_region_atomistic():
    """The issue's adaptive rule: after adaptation no continuum node exceeds the threshold, the
    atomistic region surrounds the inclusion (where the strain gradient lives) and shrinks as the
    threshold grows; the QoI error drops by orders of magnitude."""
    p = ChainProblem()
    q_ref = solve(p, reference_mesh(p)).qoi
    sizes = []
    for threshold in (1e-4, 1e-3):
        h = adapt_strain_gradient(p, threshold, reference=q_ref)
        mesh = final_mesh(h)
        sol = solve(p, mesh)
        atoms = np.flatnonzero(mesh.atomistic)
        assert atoms.min() < p.centre < atoms.max()
        continuum = sol.beta == 0
        nodes = mesh.nodes
        r = np.diff(sol.u_nodes) / np.diff(nodes)
        grad = np.abs(np.diff(r)) / (0.5 * (np.diff(nodes)[1:] + np.diff(nodes)[:-1]) * p.spacing)
        interior_continuum = continuum[1:-1] & continuum[:-2] & continuum[2:]
        assert np.all(grad[interior_continuum] <= threshold)
        assert abs(float(h.error[-1])) < 1e-2 * abs(float(h.error[0]))
        sizes.append(mesh.n_atomistic)
    assert sizes[0] > sizes[1] > 0


def test_forward_model_outputs_and_tolerance():
    m = concurrent_coupling()
    out = m(alpha=[3.6, 4.4], strain=[0.0, 0.02], f0=[0.25, 0.35])
    assert np.all(np.abs(out["error_estimate"]) <= 1e-5)
    assert np.all(out["n_dof"] < 199) and np.all(out["n_atomistic"] >= 0)
    for j, (alpha, strain, f0) in enumerate([(3.6, 0.0, 0.25), (4.4, 0.02, 0.35)]):
        p = ChainProblem(alpha, strain, f0)
        assert out["bond_strain"][j] == pytest.approx(solve(p, reference_mesh(p)).qoi, abs=1.1e-5)
    assert set(m.inputs.epistemic) == {"alpha"} and {"strain", "f0"} <= set(m.inputs.aleatory)


@pytest.mark.parametrize(
    "call, match",
    [
        (lambda: ChainProblem(n_atoms=41), r"n_atoms must be an even integer >= 40, got 41"),
        (lambda: ChainProblem(handshake=-1), r"handshake must be a non-negative integer, got -1"),
        (lambda: ChainProblem(alpha=0.5), r"alpha must be in \[1, 10\].*got 0.5"),
        (lambda: coarse_mesh(ChainProblem(), 0), r"element must be a positive integer, got 0"),
        (lambda: adapt_goal_oriented(ChainProblem(), 1e-5, theta=0.0), r"theta must be in \(0, 1\], got 0.0"),
        (lambda: adapt_goal_oriented(ChainProblem(), -1.0), r"tol must be positive, got -1.0"),
        (lambda: adapt_strain_gradient(ChainProblem(), 0.0), r"threshold must be positive, got 0.0"),
        (lambda: refine_uniform(ChainProblem(), 1e-5), r"refine_uniform needs reference="),
    ],
)
def test_bad_arguments_raise(call, match):
    with pytest.raises(ValueError, match=match):
        call()
