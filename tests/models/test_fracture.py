"""Tests of the LEFM + cohesive-zone fracture model against closed forms and a textbook Griffith example."""

import math

import numpy as np
import pytest
from scipy import integrate, stats

from models.fracture import (
    failure_probability_reference,
    GEOMETRY_FACTORS,
    fracture,
    fracture_energy,
    fracture_function,
    traction,
)
from uqbridge.designs import sample_inputs


@pytest.mark.parametrize(
    "law, l1, l2",
    [("bilinear", None, None), ("exponential", None, None), ("trapezoidal", 0.15, 0.5), ("trapezoidal", 0.05, 0.8)],
)
@pytest.mark.parametrize("sigma_max, delta_c", [(100.0, 0.152), (3.0, 2.5)])
def test_fracture_energy_equals_integral_of_traction(law, l1, l2, sigma_max, delta_c):
    """Γ = ∫T(δ)dδ by adaptive quadrature of the law against the closed forms: σδ_c/2 (bilinear,
    Geubelle & Baylor 1998), e σ δ_c (Xu & Needleman 1994), σδ_c(1 − λ1 + λ2)/2 (Tvergaard &
    Hutchinson 1992)."""
    kw = {} if l1 is None else {"lambda_1": l1, "lambda_2": l2}
    upper = np.inf if law == "exponential" else delta_c
    breaks = None if law == "exponential" else [delta_c * b for b in (0.01, l1 or 0.01, l2 or 0.01)]
    numeric, _ = integrate.quad(lambda d: float(traction(d, sigma_max, delta_c, law, **kw)), 0.0, upper,
                                points=breaks, epsabs=1e-13, epsrel=1e-12, limit=200)
    closed = float(fracture_energy(sigma_max, delta_c, law, **kw))
    assert closed == pytest.approx(numeric, rel=1e-9)
    assert float(np.max(traction(np.linspace(0, 5 * delta_c, 20001), sigma_max, delta_c, law, **kw))) == (
        pytest.approx(sigma_max, rel=1e-6)
    )


def test_callister_griffith_glass_example():
    """Callister & Rethwisch, *Materials Science and Engineering: An Introduction* (8th ed., Wiley 2010),
    Example Problem 8.1: a large glass plate, σ = 40 MPa, γ_s = 0.3 J/m², E = 69 GPa; Griffith's
    σ_c = √(2Eγ_s/(πa)) gives a maximum surface-flaw length a = 2Eγ_s/(πσ²) = 8.2 × 10⁻⁶ m.

    Griffith's crack is the centre crack in an infinite plate (Y = 1) in plane stress; Γ = 2γ_s."""
    gamma = 0.6  # 2 γ_s
    sigma_max, delta_c = 100.0, 2 * gamma / 100.0  # bilinear law: Γ = σ_max δ_c / 2 = 0.6 J/m²
    m = fracture(crack="centre", law="bilinear", plane="stress")
    a_textbook = 8.2e-6
    out = m(a=a_textbook, sigma=40.0, E=69.0, nu=0.23, sigma_max=sigma_max, delta_c=delta_c)
    assert float(out["Gamma"][0]) == pytest.approx(gamma, rel=1e-12)
    assert float(out["sigma_c"][0]) == pytest.approx(40.0, rel=0.005)  # textbook a is rounded to 2 digits
    # the exact critical length from the model: margin changes sign there
    a_crit = 1e-3 * gamma * 69.0 / (math.pi * 40.0**2)
    assert a_crit == pytest.approx(a_textbook, abs=0.05e-6)
    at = m(a=[a_crit * 0.99, a_crit, a_crit * 1.01], sigma=40.0, E=69.0, sigma_max=sigma_max, delta_c=delta_c)
    assert at["margin"][0] > 0 > at["margin"][2]
    assert abs(at["margin"][1]) < 1e-12


def test_edge_crack_factor_and_plane_strain():
    """Tada, Paris & Irwin (2000) p. 8.1: single edge crack K = 1.1215 σ√(πa); Irwin G = K²(1 − ν²)/E
    in plane strain. A glass plate with K = K_Ic = 0.75 MPa√m (ν = 0.23, E = 70 GPa) has
    G = 0.5625·0.9471/70 kJ/m² = 7.61 J/m²."""
    assert GEOMETRY_FACTORS["edge"] == pytest.approx(1.12, abs=0.002)
    a = 1e-4
    sigma = 0.75 / (1.1215 * math.sqrt(math.pi * a))
    out = fracture_function(a, sigma, 70.0, 0.23, 100.0, 0.152, crack="edge", plane="strain")
    assert float(out["K"]) == pytest.approx(0.75, rel=1e-12)
    assert float(out["G"]) == pytest.approx(0.75**2 * (1 - 0.23**2) / 70.0 * 1e3, rel=1e-12)
    assert float(out["G"]) == pytest.approx(7.61, abs=0.005)
    stress = fracture_function(a, sigma, 70.0, 0.23, 100.0, 0.152, crack="edge", plane="stress")
    assert float(stress["G"]) == pytest.approx(0.75**2 / 70.0 * 1e3, rel=1e-12)


def test_critical_stress_is_where_margin_vanishes():
    """At σ = σ_c the energy release rate equals Γ for every crack/law/plane (definition of σ_c)."""
    for crack in ("edge", "centre"):
        for plane in ("strain", "stress"):
            m = fracture(crack=crack, law="trapezoidal", plane=plane)
            x = sample_inputs(m.inputs, 50, "lhs", rng=0)
            sc = m(**x)["sigma_c"]
            at = m(**{**x, "sigma": sc})
            np.testing.assert_allclose(at["G"], at["Gamma"], rtol=1e-12)


def test_declared_kinds_and_law_parameters():
    m = fracture(law="trapezoidal")
    assert set(m.inputs.aleatory) >= {"a", "sigma", "E"}
    assert set(m.inputs.epistemic) == {"sigma_max", "delta_c", "lambda_1", "lambda_2"}
    assert "lambda_1" not in fracture(law="exponential").inputs.names
    assert m.name == "fracture" and m.differentiable
    text = m.describe()
    for token in ("LogNormal", "Gumbel", "MPa", "GPa", "um", "epistemic"):
        assert token in text


def test_default_failure_probability_matches_quadrature_and_design_range():
    """P(Γ ≤ G) for the defaults (edge, bilinear, plane strain) by crude MC (4 σ binomial tolerance)
    against a quadrature reference: conditional on σ and E, failure is ln a − ln Γ ≥ c(σ, E), a sum of
    independent normals, so Pf = E_{σ,E} Φ((μ_a − μ_Γ − c)/√(s_a² + s_Γ²)); design target 1e-5 … 1e-3."""
    m = fracture()
    pf_ref = failure_probability_reference()
    assert 1e-5 < pf_ref < 1e-3

    n = 400_000
    x = sample_inputs(m.inputs, n, "mc", rng=2024)
    pf_mc = float(np.mean(m(**x)["margin"] <= 0))
    se = math.sqrt(pf_ref * (1 - pf_ref) / n)
    assert abs(pf_mc - pf_ref) < 4 * se


def test_pytensor_gradient_matches_analytic():
    """∂G/∂a = G/a and ∂σ_c/∂a = −σ_c/(2a) (G ∝ a, σ_c ∝ a^{-1/2}) through the PyTensor graph."""
    import pytensor
    import pytensor.tensor as pt

    m = fracture()
    a = pt.dscalar("a")
    out = m.evaluate_tensor(pt, a=a, sigma=25.0, E=70.0, sigma_max=100.0, delta_c=0.152)
    grad = pytensor.function([a], [pytensor.grad(out["G"], a), pytensor.grad(out["sigma_c"], a), out["G"],
                                   out["sigma_c"]], mode="FAST_COMPILE")
    dg, dsc, g, sc = grad(3e-5)
    assert float(dg) == pytest.approx(float(g) / 3e-5, rel=1e-10)
    assert float(dsc) == pytest.approx(-float(sc) / 6e-5, rel=1e-10)

    # trapezoidal law: ∂Γ/∂λ₂ = σ_max δ_c / 2 and ∂Γ/∂λ₁ = −σ_max δ_c / 2 (Tvergaard & Hutchinson 1992)
    trap = fracture(law="trapezoidal")
    l1, l2 = pt.dscalar("l1"), pt.dscalar("l2")
    out = trap.evaluate_tensor(pt, a=3e-5, sigma=25.0, E=70.0, sigma_max=100.0, delta_c=0.2, lambda_1=l1, lambda_2=l2)
    f = pytensor.function([l1, l2], [out["Gamma"], *pytensor.grad(out["margin"], [l1, l2])], mode="FAST_COMPILE")
    gamma, d1, d2 = f(0.1, 0.6)
    assert float(gamma) == pytest.approx(0.5 * 100.0 * 0.2 * (1 - 0.1 + 0.6), rel=1e-12)
    assert (float(d1), float(d2)) == pytest.approx((-10.0, 10.0), rel=1e-12)


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"crack": "corner"}, r"crack must be one of \['centre', 'edge'\], got 'corner'"),
        ({"law": "linear"}, r"law must be one of \['bilinear', 'exponential', 'trapezoidal'\], got 'linear'"),
        ({"plane": "3d"}, r"plane must be one of \['strain', 'stress'\], got '3d'"),
    ],
)
def test_bad_options_raise(kwargs, match):
    with pytest.raises(ValueError, match=match):
        fracture(**kwargs)


def test_bad_traction_law_parameters_raise():
    with pytest.raises(ValueError, match=r"lambda_1 <= lambda_2.*lambda_1=0.6, lambda_2=0.5"):
        traction(0.1, 1.0, 1.0, "trapezoidal", 0.6, 0.5)
