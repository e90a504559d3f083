"""Tests of energy-balance thermal disaggregation: FAO-56 aerodynamic resistance, energy-balance closure and
its closed-form limits, the exact radiance aggregation constraint, and recovery of a synthetic truth."""


import numpy as np
import pytest

from models.thermal_disaggregation import (
    CP_AIR,
    P_SURFACE,
    R_DRY,
    SIGMA_SB,
    TRUE_FORCING,
    aerodynamic_resistance,
    block_mean,
    disaggregate,
    enforce_radiance_constraint,
    solve_surface_temperature,
    synthetic_scene,
    thermal_disaggregation,
)
from uqbridge.designs import sample_inputs


def test_fao56_aerodynamic_resistance():
    """Allen et al. (1998), FAO Irrigation and Drainage Paper 56, Box 4: for the grass reference (h = 0.12 m,
    measurements at 2 m) r_a = 208/u₂ s/m."""
    for u in (0.5, 1.0, 2.0, 5.0):
        assert float(aerodynamic_resistance(u)) == pytest.approx(208.0 / u, rel=0.002)


def test_energy_balance_closes_per_pixel():
    """At the solved temperature Rn = H + LE + G with the fluxes written out independently (SEBS G/Rn of
    Su 2002, LE = Λ(Rn − G), H = ρ c_p (T − T_a)/r_a), to 1e-8 W/m²."""
    rng = np.random.default_rng(3)
    shape = (5, 6)
    albedo, f_veg = rng.uniform(0.1, 0.3, shape), rng.uniform(0, 1, shape)
    eps, moisture = rng.uniform(0.95, 0.99, shape), rng.uniform(0.6, 1.4, shape)
    kw = dict(S_down=820.0, L_down=330.0, T_air=295.0, wind=2.2, ra_scale=1.3, ef_max=0.7, g_soil=0.3)
    t = solve_surface_temperature(albedo, f_veg, eps, **kw, moisture=moisture)
    rn = (1 - albedo) * 820.0 + eps * 330.0 - eps * SIGMA_SB * t**4
    g = (0.05 * f_veg + 0.3 * (1 - f_veg)) * rn
    ef = np.clip(0.7 * (f_veg + 0.2 * (1 - f_veg)) * moisture, 0, 0.95)
    le = ef * (rn - g)
    ra_exact = 1.3 * float(aerodynamic_resistance(2.2))
    h = P_SURFACE / (R_DRY * 295.0) * CP_AIR * (t - 295.0) / ra_exact
    np.testing.assert_allclose(rn - (h + le + g), 0.0, atol=1e-8)


@pytest.mark.parametrize("albedo, S, L, eps", [(0.2, 800.0, 300.0, 0.97), (0.35, 400.0, 380.0, 0.92)])
def test_radiative_equilibrium_limit(albedo, S, L, eps):
    """With no turbulent exchange (r_a → ∞) the surface is in radiative equilibrium (Stefan–Boltzmann):
    ε σ T⁴ = (1 − α) S + ε L (the G and LE shares vanish with H since they are fractions of Rn = 0)."""
    t = solve_surface_temperature(albedo, 0.5, eps, S, L, 290.0, 3.0, ra_scale=1e14)
    expected = (((1 - albedo) * S + eps * L) / (eps * SIGMA_SB)) ** 0.25
    assert float(t) == pytest.approx(expected, rel=1e-9)


def test_radiance_constraint_is_exact_and_recovers_a_T4_offset():
    """For any model field the block means of ε σ T⁴ equal the observation (relative residual ≤ 1e-13); if
    the model differs from the truth by a constant per block in T⁴, the truth is recovered exactly."""
    scene = synthetic_scene(3, 4, rng=5)
    rng = np.random.default_rng(9)
    t_model = scene.t_true + rng.normal(0, 3, scene.t_true.shape)
    t_dis = enforce_radiance_constraint(t_model, scene.emissivity, scene.radiance_obs, 4)
    got = block_mean(scene.emissivity * SIGMA_SB * t_dis**4, 4)
    np.testing.assert_allclose(got / scene.radiance_obs - 1.0, 0.0, atol=1e-13)
    offsets = np.repeat(np.repeat(rng.normal(0, 3e8, (3, 3)), 4, axis=0), 4, axis=1)
    shifted = (scene.t_true**4 + offsets) ** 0.25
    np.testing.assert_allclose(enforce_radiance_constraint(shifted, scene.emissivity, scene.radiance_obs, 4),
                               scene.t_true, rtol=1e-12)
    # averaging temperatures instead of radiances is not the same constraint (Jensen on T⁴)
    eps_bar = block_mean(scene.emissivity, 4)
    brightness = (scene.radiance_obs / (eps_bar * SIGMA_SB)) ** 0.25
    assert np.max(np.abs(brightness - block_mean(scene.t_true, 4))) > 1e-3


def test_perfect_knowledge_recovers_the_truth():
    """Homogeneous moisture and the true forcing: the model is the truth, δ = 0 and the error map vanishes."""
    scene = synthetic_scene(2, 8, heterogeneity=0.0, rng=2)
    ds = disaggregate(scene)
    assert float(abs(ds.error).max()) < 1e-9
    assert ds.error.dims == ("y", "x") and ds.t_disaggregated.attrs["units"] == "K"
    assert float(abs(ds.constraint_residual).max()) < 1e-13


def test_model_matches_disaggregate_and_adds_information():
    """The vectorised model equals the per-sample Dataset path; the constraint removes the forcing-induced
    coarse bias (rmse ≤ rmse_model on average), and at the true forcing the disaggregation beats the
    uniform coarse brightness temperature."""
    m = thermal_disaggregation()
    x = sample_inputs(m.inputs, 6, "lhs", rng=4)
    out = m(**x)
    scene = synthetic_scene(4, 8, heterogeneity=0.1, rng=0)
    for j in range(2):
        ds = disaggregate(scene, **{k: float(v[j]) for k, v in x.items()})
        assert float(np.sqrt((ds.error**2).mean())) == pytest.approx(out["rmse"][j], rel=1e-12)
        assert float(abs(ds.error).max()) == pytest.approx(out["max_abs_error"][j], rel=1e-12)
    assert np.all(out["constraint_residual"] < 1e-13)
    assert np.mean(out["rmse"]) < np.mean(out["rmse_model"])
    truth = m(**{k: TRUE_FORCING[k] for k in m.inputs.names})
    assert truth["rmse"][0] < truth["rmse_uniform"][0]


def test_newton_non_convergence_is_reported():
    with pytest.raises(RuntimeError, match=r"did not converge in max_iter=1"):
        solve_surface_temperature(0.2, 0.5, 0.97, 800.0, 300.0, 290.0, 2.0, max_iter=1)


def test_declared_kinds():
    m = thermal_disaggregation()
    assert set(m.inputs.aleatory) == {"S_down", "L_down", "T_air", "wind"}
    assert set(m.inputs.epistemic) == {"ra_scale", "ef_max", "g_soil"}


@pytest.mark.parametrize(
    "call, exc, match",
    [
        (lambda: disaggregate(synthetic_scene(1, 2), T_soil=300.0), KeyError, r"unknown forcing/parameter\(s\) \['T_soil'\]"),
        (lambda: synthetic_scene(0, 4), ValueError, r"n_coarse must be an integer >= 1, got 0"),
        (lambda: synthetic_scene(2, 4, heterogeneity=-1.0), ValueError, r"heterogeneity must be >= 0, got -1.0"),
        (lambda: block_mean(np.ones((5, 4)), 2), ValueError, r"field shape \(5, 4\) is not divisible by factor=2"),
        (lambda: enforce_radiance_constraint(np.full((2, 2), 300.0), np.ones((2, 2)), np.array([[-1.0]]), 2),
         ValueError, r"negative T\^4"),
    ],
)
def test_bad_arguments_raise(call, exc, match):
    with pytest.raises(exc, match=match):
        call()
