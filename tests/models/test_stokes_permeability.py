"""Stokes/Brinkman MAC cell problem: Poiseuille (exact), Brinkman channel (cosh profile, second order),
square arrays of cylinders against Drummond & Tahir / Sangani & Acrivos, symmetry, Kozeny–Carman, errors."""

import numpy as np
import pytest

from uqbridge_models.microstructures import random_overlapping, square_array
from uqbridge_models.stokes_permeability import (
    brinkman_channel_velocity,
    drummond_tahir,
    kozeny_carman,
    permeability_tensor,
    sangani_acrivos_dense,
    stokes_cell,
    stokes_permeability,
)


def _channel(n, drag):
    """Walls of n/8 rows of solid u-faces at both sides; Brinkman drag ``drag`` (physical units,
    channel cell of unit size) in the fluid. Returns fluid-node y, computed and analytic u."""
    w = n // 8
    j = np.arange(n)
    solid_u = np.zeros((n, n), bool)
    solid_u[:, (j < w) | (j >= n - w)] = True
    solid_v = np.zeros((n, n), bool)
    solid_v[:, (j <= w) | (j >= n - w)] = True
    h = 1.0 / n
    alpha = np.full((n, n), drag * h * h)  # lattice units: h = 1, so α h²
    u, v, _ = stokes_cell(solid_u, solid_v, np.array([[1.0, 0.0]]), drag_u=alpha, drag_v=alpha)
    fluid = (j >= w) & (j < n - w)
    # the no-slip value sits on the first solid u-nodes, so the walls are at their centres
    half_width = (n - 2 * w + 1) * h / 2
    y = (j[fluid] + 0.5) * h - 0.5
    computed = u[0, 0, fluid] * h * h  # physical velocity for unit force and viscosity
    assert np.abs(v).max() < 1e-10 and np.ptp(u[0], axis=0).max() < 1e-10  # uniform along x
    return y, computed, brinkman_channel_velocity(y, half_width, drag)


def test_poiseuille_is_exact():
    """α = 0: the parabola u = f(H² − y²)/2 solves the discrete equations exactly (second differences
    are exact on quadratics), so the error is round-off."""
    _, computed, exact = _channel(32, 0.0)
    np.testing.assert_allclose(computed, exact, rtol=1e-7, atol=1e-12)


def test_brinkman_channel_matches_cosh_profile_second_order():
    """Brinkman (1947) channel: u = (f/α)(1 − cosh(√α y)/cosh(√α H)); max error falls 4× per halving
    of h (α = 100, H ≈ 0.4: measured 6.0e-3, 1.6e-3, 4.0e-4 relative at n = 16, 32, 64)."""
    errors = []
    for n in (16, 32):
        _, computed, exact = _channel(n, 100.0)
        errors.append(np.abs(computed - exact).max() / exact.max())
    assert errors[1] < 2e-3
    assert errors[0] / errors[1] == pytest.approx(4.0, rel=0.15)


def test_darcy_limit_of_brinkman():
    """Large α: away from the walls the velocity is the Darcy value f/α (boundary layer width 1/√α)."""
    y, computed, exact = _channel(64, 1e4)
    centre = np.abs(y) < 0.1
    np.testing.assert_allclose(computed[centre], 1e-4, rtol=1e-3)


@pytest.mark.parametrize("c, tolerance", [(0.05, 0.005), (0.1, 0.005), (0.2, 0.02)])
def test_square_array_matches_drummond_tahir(c, tolerance):
    """Square array, flow across the cylinders, 32² grid vs Drummond & Tahir (1984) / Sangani &
    Acrivos (1982) dilute expansion. Measured: +0.14 %, +0.20 %, −1.15 %; at c = 0.2 the grid-converged
    value (0.3047 at 64² and 128²) sits 1.5 % below the truncated series, hence 2 % there."""
    s = square_array(1.0 - c)
    K = permeability_tensor(s, 32)
    assert K[0, 0] / s.radius**2 == pytest.approx(float(drummond_tahir(c)), rel=tolerance)
    assert K[1, 1] == pytest.approx(K[0, 0], rel=1e-8) and abs(K[0, 1]) < 1e-10 * K[0, 0]


def test_dense_square_array_matches_lubrication_limit():
    """c = 0.6, 64²: Sangani & Acrivos (1982) near-touching asymptote K/a² = 2√2 ε^{5/2}/(9c),
    leading order in the gap; measured +1.7 % (and +0.7 % at 128²), tolerance 3 %."""
    s = square_array(0.4)
    K = permeability_tensor(s, 64)
    assert K[0, 0] / s.radius**2 == pytest.approx(float(sangani_acrivos_dense(0.6)), rel=0.03)


def test_cut_link_walls_beat_staircase():
    """The cut-link wall correction removes the first-order staircase error (6 % at 32², c = 0.1)."""
    s = square_array(0.9)
    ref = float(drummond_tahir(0.1))
    cut = permeability_tensor(s, 32)[0, 0] / s.radius**2
    stair = permeability_tensor(s, 32, wall="staircase")[0, 0] / s.radius**2
    assert abs(cut / ref - 1) < 0.2 * abs(stair / ref - 1)


@pytest.mark.slow
def test_square_array_convergence_fine_grids():
    """At 128²: within 0.3 % of Drummond & Tahir for c = 0.05 and 0.1 (measured −0.03 %, −0.12 %),
    within 2 % at c = 0.2; within 3 % of the lubrication limit at c = 0.6 and 0.7 (measured 0.7 %, 2.4 %)."""
    for c, tol in ((0.05, 0.003), (0.1, 0.003), (0.2, 0.02)):
        s = square_array(1.0 - c)
        assert permeability_tensor(s, 128)[0, 0] / s.radius**2 == pytest.approx(float(drummond_tahir(c)), rel=tol)
    for c in (0.6, 0.7):
        s = square_array(1.0 - c)
        k = permeability_tensor(s, 128)[0, 0] / s.radius**2
        assert k == pytest.approx(float(sangani_acrivos_dense(c)), rel=0.03)


def test_permeability_tensor_symmetric_positive_for_random_fibres():
    """Onsager/Darcy: K is symmetric positive definite for any periodic geometry."""
    K = permeability_tensor(random_overlapping(0.7, 0.12, n=32, rng=4), 32)
    assert K[0, 1] == pytest.approx(K[1, 0], rel=1e-6, abs=1e-14)
    assert np.all(np.linalg.eigvalsh(0.5 * (K + K.T)) > 0)


def test_incompressible_and_uniform_darcy_flux():
    """Discrete divergence vanishes (to the pressure penalty) so the flux through every column is equal."""
    from uqbridge_models.stokes_permeability import _face_masks

    n = 32
    u, v, _ = stokes_cell(*_face_masks(square_array(0.7), n), np.array([[1.0, 0.0]]))
    div = np.roll(u[0], -1, axis=0) - u[0] + np.roll(v[0], -1, axis=1) - v[0]
    assert np.abs(div).max() < 1e-6 * np.abs(u).max()
    flux = u[0].sum(axis=1)
    np.testing.assert_allclose(flux, flux.mean(), rtol=1e-6)


def test_kozeny_carman_model_form():
    """Carman (1937): K/a² = ε³/(20(1 − ε)²); the closed-form model agrees and is differentiable."""
    m = stokes_permeability(model_form="kozeny_carman")
    out = m(porosity=np.array([0.5, 0.8]), a=2e-6)
    np.testing.assert_allclose(out["K_rel"], [0.025, 0.8**3 / (20 * 0.04)])
    np.testing.assert_allclose(out["K"], out["K_rel"] * 4e-12)
    assert m.differentiable and float(kozeny_carman(0.5)) == pytest.approx(0.025)


def test_model_square_cylinders_outputs():
    m = stokes_permeability(n=32)
    out = m(porosity=np.array([0.8, 0.9, 0.8]), a=1e-5)
    assert out["K_rel"][0] == out["K_rel"][2] and out["K_rel"][1] > out["K_rel"][0]
    np.testing.assert_allclose(out["K"], out["K_rel"] * 1e-10)


def test_errors():
    with pytest.raises(ValueError, match="geometry must be one of .*'hexagonal'"):
        stokes_permeability("hexagonal")
    with pytest.raises(ValueError, match="model_form must be one of .*'ergun'"):
        stokes_permeability(model_form="ergun")
    with pytest.raises(ValueError, match="n must be an integer >= 8, got 3"):
        stokes_permeability(n=3)
    with pytest.raises(ValueError, match="wall must be one of \\('cut', 'staircase'\\), got 'ibm'"):
        permeability_tensor(square_array(0.8), 16, wall="ibm")
    with pytest.raises(ValueError, match="forces must have shape \\(n_loads, 2\\)"):
        stokes_cell(np.zeros((4, 4), bool), np.zeros((4, 4), bool), np.ones((1, 3)))
