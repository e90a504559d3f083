"""FORM and SORM against exact failure probabilities (closed form or 1-D quadrature)."""

import numpy as np
import pytest
from scipy import special

from uqbridge import ForwardModel, Input, InputSet, Normal, Output
from uqbridge.reliability import LimitState, form, sorm, sorm_formulas
from uqbridge.reliability.problems import four_branch, linear, parabolic, r_minus_s


@pytest.mark.parametrize("beta", [3.0, 4.75])
@pytest.mark.parametrize("gradient", ["fd", "tensor"])
def test_linear_form_and_sorm_exact(beta, gradient):
    """Linear g in standard normal space: Pf = Φ(-β) exactly (Hasofer & Lind 1974); 1.02e-6 at β = 4.75."""
    p = linear(beta, d=3)
    f = form(p.limit_state, gradient=gradient)
    assert bool(f.converged) and f.attrs["reliable"] == 1 and f.attrs["warning"] == ""
    assert float(f.beta) == pytest.approx(beta, abs=1e-7)
    assert float(f.pf) == pytest.approx(p.pf, rel=1e-6)
    np.testing.assert_allclose(f.importance.values, np.full(3, 1 / 3), atol=1e-7)
    np.testing.assert_allclose(f.design_point_u.values, np.full(3, beta / np.sqrt(3)), atol=1e-6)
    s = sorm(p.limit_state, form_result=f, gradient=gradient)
    np.testing.assert_allclose(s.curvatures.values, 0.0, atol=1e-5)
    np.testing.assert_allclose(s.pf_formulas.values, p.pf, rtol=1e-4)
    assert int(s.n_runs) > int(f.n_runs)


def test_beta_475_value():
    assert linear(4.75).pf == pytest.approx(1.02e-6, rel=5e-3)


@pytest.mark.parametrize("kappa", [0.5, -0.2])
def test_parabolic_sorm_closer_than_form(kappa):
    """Paraboloid g = β − u2 + κu1²/2 (Breitung 1984; Der Kiureghian 2005 ch. 14): FORM gives Φ(−β)
    for any κ, the SORM formulas recover the curvature and approach the exact Pf (1-D quadrature)."""
    p = parabolic(3.0, kappa)
    s = sorm(p.limit_state)
    assert float(s.curvatures[0]) == pytest.approx(kappa, abs=1e-4)
    form_error = abs(float(s.pf_form) - p.pf)
    assert form_error > 0.3 * p.pf  # FORM is far off here
    for value in s.pf_formulas.values:
        assert abs(value - p.pf) < 0.25 * form_error
    assert float(s.pf) == pytest.approx(p.pf, rel=0.04)  # Tvedt


def test_sorm_formulas_known_values():
    """Breitung's formula is exact-in-the-limit; for β = 3, κ = 0.5: Φ(−3)/√2.5 (Breitung 1984, eq. 2)."""
    r = sorm_formulas(3.0, [0.5, 0.0])
    assert r["breitung"] == pytest.approx(special.ndtr(-3.0) / np.sqrt(2.5), rel=1e-12)
    assert np.isnan(sorm_formulas(3.0, [-0.5])["breitung"])  # 1 + βκ < 0


def test_r_minus_s_lognormal():
    """R lognormal, S normal: FORM through the Nataf transform is approximate (1.524e-3), SORM is
    within 1 % of the exact 1-D integral 1.4378e-3 (Melchers & Beck 2018 §1.4)."""
    p = r_minus_s()
    f = form(p.limit_state)
    s = sorm(p.limit_state, form_result=f)
    assert abs(float(f.pf) - p.pf) > 0.05 * p.pf
    assert float(s.pf) == pytest.approx(p.pf, rel=0.01)
    # the design point lies on g = 0 in physical units
    r_star, s_star = f.design_point.values
    assert r_star == pytest.approx(s_star, rel=1e-5)
    assert float(f.importance.sum()) == pytest.approx(1.0)


def test_correlated_normals_exact():
    """g = R − S with correlated normals: β = (μR − μS)/√(σR² + σS² − 2ρσRσS), exact for FORM."""
    inputs = InputSet([Input("R", Normal(10, 2)), Input("S", Normal(5, 1.5))], correlation={("R", "S"): 0.5})
    m = ForwardModel("rs", lambda R, S, xp=np: {"z": R - S}, inputs, [Output("z")], differentiable=True)
    beta = 5 / np.sqrt(4 + 2.25 - 2 * 0.5 * 2 * 1.5)
    for gradient in ("fd", "tensor"):
        assert float(form(LimitState(m, "z"), gradient=gradient).beta) == pytest.approx(beta, abs=1e-6)


def test_four_branch_form_says_it_is_unreliable():
    """Four-branch series system (Waarts 2000; Echard et al. 2011): FORM finds β = 3 (Pf 1.35e-3)
    while the exact Pf is 4.457e-3; it must flag itself and report the four design points, whose
    first-order series bounds bracket the exact value."""
    p = four_branch(6)
    f = form(p.limit_state)
    assert f.attrs["reliable"] == 0
    assert "series system" in f.attrs["warning"] and "4 distinct design points" in f.attrs["warning"]
    assert float(f.beta) == pytest.approx(3.0, abs=1e-6)
    assert f.sizes["point"] == 4
    np.testing.assert_allclose(f.point_beta.values, 3.0, atol=1e-6)
    assert float(f.pf_bound_low) <= p.pf <= float(f.pf_bound_high)


def test_multistart_finds_several_design_points():
    """The same four-branch g as one output (a min): one start looks fine, several starts expose
    the competing design points and flag the result."""
    p = four_branch(7)
    ls = LimitState(p.limit_state.components[0].model, "g")
    # at the origin two branches tie and the central-difference gradient of the min vanishes: FORM
    # restarts off the origin rather than report Φ(0) = 0.5, and the checks flag the result
    flat = form(ls, gradient="fd", rng=0)
    assert float(flat.beta) == pytest.approx(3.0, abs=1e-6) and flat.attrs["reliable"] == 0
    single = form(ls, gradient="fd", u0=[0.3, 0.1], check=False)
    assert single.attrs["reliable"] == 1 and float(single.beta) == pytest.approx(3.0, abs=1e-6)
    r = form(ls, gradient="fd", u0=[0.3, 0.1], n_starts=8, rng=1)
    assert r.attrs["reliable"] == 0 and "distinct design points" in r.attrs["warning"]
    assert r.sizes["point"] >= 2


def test_form_errors():
    ls = linear(3.0).limit_state
    with pytest.raises(ValueError, match="gradient must be one of \\('auto', 'fd', 'tensor'\\), got 'exact'"):
        form(ls, gradient="exact")
    with pytest.raises(ValueError, match="u0 must be 2 finite numbers"):
        form(ls, u0=[0.0])
    with pytest.raises(ValueError, match="n_starts must be an integer >= 1, got 0"):
        form(ls, n_starts=0)
    with pytest.raises(ValueError, match="formula must be one of"):
        sorm(ls, formula="laplace")
    m = ForwardModel("nd", lambda a: {"y": 3 - a}, [Input("a", Normal(0, 1))], [Output("y")])
    with pytest.raises(ValueError, match="gradient='tensor' needs differentiable models"):
        form(LimitState(m, "y"), gradient="tensor")
    with pytest.raises(TypeError, match="form_result must be the Dataset returned by"):
        sorm(ls, form_result=linear(3.0))


@pytest.mark.slow
def test_cracked_plate_form_four_starts_run_budget():
    """The cracked-plate study's FORM (4 starts): restarts stop at the known design point, so the
    whole analysis stays within 150 model runs (issue 19: 1 223 before, one start needs ~35-60)."""
    import uqbridge as uq

    model = uq.get_model("fracture", crack="edge", law="bilinear", plane="strain")
    ls = LimitState(model, "margin")
    one = form(ls, rng=0)
    four = form(ls, n_starts=4, rng=0)
    assert int(four.n_runs) <= 150
    assert float(four.beta) == pytest.approx(float(one.beta), rel=1e-4)
