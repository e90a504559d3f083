"""Cauchy–Born elasticity of FCC pair-potential crystals: lattice sums, LJ reduced results, the
Cauchy relation, Girifalco–Weizer copper, finite-difference checks and cut-off convergence."""

import math

import numpy as np
import pytest

import uqbridge as uq
from uqbridge.designs import sample_inputs
from uqbridge_models.cauchy_born import (
    EV_PER_A3_IN_GPA,
    cauchy_born,
    fcc_lattice_sums,
    fcc_shells,
    lennard_jones_fcc,
    morse_fcc,
)

# Lennard-Jones & Ingham, Proc. R. Soc. A 107, 636 (1925); quoted in Kittel, Introduction to Solid
# State Physics, ch. 3: FCC sums of (d/r)^12 and (d/r)^6, d the nearest-neighbour distance.
A12_PUBLISHED, A6_PUBLISHED = 12.13188, 14.45392
GW_CU = dict(D=0.3429, alpha=1.3588, r0=2.866)  # Girifalco & Weizer, Phys. Rev. 114, 687 (1959)


def test_lattice_sums_match_lennard_jones_ingham():
    """Infinite FCC sums A12, A6 equal the published 12.13188, 14.45392 (to the 5 decimals given)."""
    assert fcc_lattice_sums(12).total == pytest.approx(A12_PUBLISHED, abs=5e-6)
    assert fcc_lattice_sums(6).total == pytest.approx(A6_PUBLISHED, abs=5e-6)
    for p in (6, 12):
        s = fcc_lattice_sums(p)
        # Σ_i x̂_i⁴ + 2 Σ_{i<j} x̂_i² x̂_j² = 1 for every vector, so 3 xxxx + 6 xxyy = total
        assert 3 * s.xxxx + 6 * s.xxyy == pytest.approx(s.total, rel=1e-13)


def test_lattice_sums_independent_of_the_smooth_split():
    """The smooth short/long-range split is exact up to round-off: a brute-force truncated sum at
    30 d plus the continuum tail √2·4π R^(3−p)/(p−3) agrees for p = 12 (tail ~1e-12) to 1e-12."""
    n = 30.0
    s = fcc_lattice_sums(12, n)
    tail = math.sqrt(2) * 4 * math.pi * n ** (3 - 12) / (12 - 3)
    assert s.total + tail == pytest.approx(fcc_lattice_sums(12).total, rel=1e-12)


def test_lj_reduced_results_from_published_lattice_sums():
    """Reduced LJ crystal against closed forms evaluated with the *published* sums:
    d0 = (2 A12/A6)^(1/6) σ = 1.09017 σ, cohesive energy A6²/(2 A12) ε = 8.6102 ε and
    B = 4 A6^(5/2) / A12^(3/2) ε/σ³ = 75.185 ε/σ³ (derived here from the published sums; Kittel,
    ch. 3, quotes the rounded B = 75 ε/σ³)."""
    out = lennard_jones_fcc(1.0, 1.0)
    d0 = (2 * A12_PUBLISHED / A6_PUBLISHED) ** (1 / 6)
    assert d0 == pytest.approx(1.09017, abs=5e-6)
    assert float(out["a0"]) == pytest.approx(math.sqrt(2) * d0, rel=1e-6)
    assert float(out["cohesive_energy"]) == pytest.approx(A6_PUBLISHED**2 / (2 * A12_PUBLISHED), rel=1e-6)
    b_reduced = float(out["bulk_modulus"]) / EV_PER_A3_IN_GPA
    assert b_reduced == pytest.approx(4 * A6_PUBLISHED**2.5 / A12_PUBLISHED**1.5, rel=2e-6)
    assert b_reduced == pytest.approx(75.0, rel=5e-3)


def test_lj_scales_as_epsilon_over_sigma_cubed():
    """Dimensional analysis: moduli ∝ ε/σ³, lattice constant ∝ σ."""
    a = lennard_jones_fcc(np.array([1.0, 2.0, 1.0]), np.array([1.0, 1.0, 2.0]))
    np.testing.assert_allclose(a["C11"], a["C11"][0] * np.array([1.0, 2.0, 1 / 8]), rtol=1e-14)
    np.testing.assert_allclose(a["a0"], a["a0"][0] * np.array([1.0, 1.0, 2.0]), rtol=1e-14)


@pytest.mark.parametrize("name", ["cauchy_born_lj", "cauchy_born_morse"])
def test_cauchy_relation_c12_equals_c44(name):
    """C12 = C44 to round-off for a pair potential on a centro-symmetric lattice (Born & Huang 1954);
    C12 and C44 come from different shell moments (x̂²ŷ² and ŷ²ẑ²), so this checks the sums."""
    m = uq.get_model(name)
    out = m(**sample_inputs(m.inputs, 64, "lhs", rng=7))
    np.testing.assert_allclose(out["C12"], out["C44"], rtol=1e-12, atol=0)
    assert np.all(out["C11"] > 1.2 * out["C12"])  # and the crystal is elastically anisotropic


def test_nearest_neighbour_limit_is_the_textbook_central_force_crystal():
    """Nearest neighbours only (cutoff 1), derived by hand: the 12 <110>/√2 neighbours give
    Σ x̂⁴ = 2 and Σ x̂²ŷ² = 1, φ'(d0) = 0 and Ω = d0³/√2, so C11 = 2 C12 = 2 C44 = √2 k / d0 with
    k = φ''(d0) — the classical nearest-neighbour central-force FCC crystal (Born & Huang 1954).
    LJ: d0 = 2^(1/6) σ, k = 36·2^(2/3) ε/σ², hence C11 = 72 ε/σ³. Morse: d0 = r0, k = 2 α² D."""
    lj = cauchy_born("lennard_jones", cutoff=1.0)(epsilon=1.0, sigma=1.0)
    assert float(lj["a0"][0]) == pytest.approx(math.sqrt(2) * 2 ** (1 / 6), rel=1e-14)
    assert float(lj["C11"][0]) / EV_PER_A3_IN_GPA == pytest.approx(72.0, rel=1e-13)
    assert float(lj["C12"][0]) / EV_PER_A3_IN_GPA == pytest.approx(36.0, rel=1e-13)
    D, alpha, r0 = GW_CU.values()
    mo = cauchy_born("morse", cutoff=1.0)(**GW_CU)
    assert float(mo["a0"][0]) == pytest.approx(math.sqrt(2) * r0, rel=1e-13)
    c11 = math.sqrt(2) * 2 * alpha**2 * D / r0 * EV_PER_A3_IN_GPA
    assert float(mo["C11"][0]) == pytest.approx(c11, rel=1e-12)
    assert float(mo["C44"][0]) == pytest.approx(c11 / 2, rel=1e-12)


def _fcc_vectors_in_test(radius):
    """Independent construction of FCC neighbours as lattice-basis combinations (units of d)."""
    basis = np.array([[0, 1, 1], [1, 0, 1], [1, 1, 0]]) / math.sqrt(2)  # primitive vectors, |b| = 1
    k = int(math.ceil(2 * radius)) + 1
    g = np.arange(-k, k + 1)
    ijk = np.stack(np.meshgrid(g, g, g, indexing="ij"), axis=-1).reshape(-1, 3)
    v = ijk @ basis
    r = np.linalg.norm(v, axis=1)
    return v[(r > 1e-9) & (r <= radius + 1e-9)]


def _energy_density_derivatives(phi, d0, vectors, h=1e-4):
    """C11, C12, C44, B (eV/Å³) by central differences of W(ε) = (1/2Ω) Σ φ(|(I + ε) R|)."""
    R = vectors * d0
    omega = d0**3 / math.sqrt(2)

    def w(eps):
        return 0.5 * np.sum(phi(np.linalg.norm(R @ (np.eye(3) + eps).T, axis=1))) / omega

    e11, e22 = np.zeros((3, 3)), np.zeros((3, 3))
    e11[0, 0] = e22[1, 1] = 1.0
    shear = np.zeros((3, 3))
    shear[1, 2] = shear[2, 1] = 0.5  # engineering shear γ23 = 1
    w0 = w(0 * e11)
    c11 = (w(h * e11) - 2 * w0 + w(-h * e11)) / h**2
    c44 = (w(h * shear) - 2 * w0 + w(-h * shear)) / h**2
    c12 = (w(h * (e11 + e22)) - w(h * (e11 - e22)) - w(h * (e22 - e11)) + w(-h * (e11 + e22))) / (4 * h**2)
    # hydrostatic: W(δ) = ½ · 9B · δ² for ε = δ I
    b = (w(h * np.eye(3)) - 2 * w0 + w(-h * np.eye(3))) / (9 * h**2)
    return np.array([c11, c12, c44, b]) * EV_PER_A3_IN_GPA


def test_morse_elastic_constants_equal_finite_differences_of_the_strained_lattice():
    """Independent check of the Cauchy–Born second derivatives (and of zero stress at a0): strain
    the explicit Cu lattice (Girifalco–Weizer Morse, 12 d) and difference its energy density."""
    D, alpha, r0 = GW_CU.values()
    out = morse_fcc(np.array([D]), np.array([alpha]), np.array([r0]))
    d0 = float(out["a0"][0]) / math.sqrt(2)

    def phi(r):
        u = np.exp(-alpha * (r - r0))
        return D * (u * u - 2 * u)

    fd = _energy_density_derivatives(phi, d0, _fcc_vectors_in_test(12.0))
    want = np.array([float(out[k][0]) for k in ("C11", "C12", "C44", "bulk_modulus")])
    np.testing.assert_allclose(fd, want, rtol=2e-6)


def test_lj_elastic_constants_equal_finite_differences_with_cutoff():
    """Same finite-difference check for LJ with a 5 d cut-off (explicit vectors, same shells)."""
    model = cauchy_born("lennard_jones", cutoff=5.0)
    out = model(epsilon=1.0, sigma=1.0)
    d0 = float(out["a0"][0]) / math.sqrt(2)
    fd = _energy_density_derivatives(lambda r: 4 * (r**-12 - r**-6), d0, _fcc_vectors_in_test(5.0))
    want = np.array([float(out[k][0]) for k in ("C11", "C12", "C44", "bulk_modulus")])
    np.testing.assert_allclose(fd, want, rtol=2e-6)


def test_morse_girifalco_weizer_copper():
    """Girifalco & Weizer (1959) fitted their Cu Morse parameters to the lattice constant,
    compressibility and sublimation energy of Cu. Summed over the first nine shells (176
    neighbours) they give a0 within 0.1 % of 3.615 Å (room temperature), B within 3 % of
    137 GPa and cohesive energy within 1.5 % of 3.49 eV/atom (Kittel, ch. 1 and 3 tables).
    The converged sum (default) contracts a0 by about 0.24 %, which the docstring reports."""
    model = cauchy_born("morse", cutoff=3.0)
    assert fcc_shells(3.0).count.sum() == 176
    out = model(**GW_CU)
    assert float(out["a0"][0]) == pytest.approx(3.615, rel=1e-3)
    assert float(out["bulk_modulus"][0]) == pytest.approx(137.0, rel=0.03)
    assert float(out["cohesive_energy"][0]) == pytest.approx(3.49, rel=0.015)
    converged = uq.get_model("cauchy_born_morse")(**GW_CU)
    assert 0.002 < 1 - float(converged["a0"][0]) / float(out["a0"][0]) < 0.003


def test_lj_truncated_sums_converge_like_the_continuum_tail():
    """A6 truncated at R differs from the infinite sum by about the continuum tail √2·4π/(3R³);
    the lattice-surface fluctuation keeps the ratio within 30 %."""
    a6 = fcc_lattice_sums(6).total
    for radius in (4.0, 6.0, 8.0, 10.0):
        missing = a6 - fcc_lattice_sums(6, radius).total
        assert missing / (math.sqrt(2) * 4 * math.pi / (3 * radius**3)) == pytest.approx(1.0, abs=0.3)
    lj10 = cauchy_born("lennard_jones", cutoff=10.0)(epsilon=1.0, sigma=1.0)
    lj = cauchy_born("lennard_jones")(epsilon=1.0, sigma=1.0)
    for k in ("a0", "C11", "C44", "bulk_modulus"):
        assert float(lj10[k][0]) == pytest.approx(float(lj[k][0]), rel=2e-3)


def test_morse_sums_converge_with_cutoff():
    """Morse terms decay like exp(−α r): outputs settle to round-off by the default 12 d."""
    values = {
        rc: cauchy_born("morse", cutoff=rc)(**GW_CU) for rc in (4.0, 6.0, 8.0, 12.0, 16.0)
    }
    for k in ("a0", "C11", "C44", "bulk_modulus", "cohesive_energy"):
        ref = float(values[16.0][k][0])
        errors = [abs(float(values[rc][k][0]) / ref - 1) for rc in (4.0, 6.0, 8.0, 12.0)]
        assert errors[0] > errors[1] > errors[2] and errors[3] < 1e-12, (k, errors)
    default = uq.get_model("cauchy_born_morse")(**GW_CU)
    assert float(default["C11"][0]) == pytest.approx(float(values[12.0]["C11"][0]), rel=1e-14)


def test_morse_newton_converges_over_the_default_inputs_and_flags_failure():
    """All draws from the default (3-σ-wide) inputs converge; an α r0 outside the start range
    returns NaN instead of an unconverged number."""
    m = uq.get_model("cauchy_born_morse")
    out = m(**sample_inputs(m.inputs, 2000, "sobol", rng=3))
    assert all(np.all(np.isfinite(v)) for v in out.values())
    bad = m(D=0.3429, alpha=[0.5, 1.3588], r0=2.866)  # α r0 = 1.4: far outside (3, 12)
    assert np.isnan(bad["a0"][0]) and np.isfinite(bad["a0"][1])


def test_declarations():
    for name, inputs in (("cauchy_born_lj", ("epsilon", "sigma")), ("cauchy_born_morse", ("D", "alpha", "r0"))):
        m = uq.get_model(name)
        assert m.name == name and m.differentiable
        assert m.inputs.names == inputs
        assert all(i.kind == "epistemic" for i in m.inputs)
        assert m.output_names == ("a0", "C11", "C12", "C44", "bulk_modulus", "cohesive_energy")
        assert m.output("C11").units == "GPa" and m.output("a0").units == "angstrom"


def test_argon_defaults_are_physical():
    """Median argon crystal: nearest-neighbour distance 1.09 σ = 3.71 Å and B ≈ 3.2 GPa, the
    static-lattice LJ values Kittel (ch. 3) compares with solid argon (3.76 Å, 2.7 GPa)."""
    out = uq.get_model("cauchy_born_lj")(epsilon=0.0104, sigma=3.40)
    assert float(out["a0"][0]) / math.sqrt(2) == pytest.approx(3.71, abs=0.01)
    assert float(out["bulk_modulus"][0]) == pytest.approx(3.19, abs=0.02)


@pytest.mark.parametrize(
    "call, error, match",
    [
        (lambda: cauchy_born("eam"), ValueError, r"potential must be one of \('lennard_jones', 'morse'\), got 'eam'"),
        (lambda: cauchy_born("morse", cutoff=0.5), ValueError, r"cutoff must be a finite number >= 1.*got 0.5"),
        (lambda: cauchy_born("morse", cutoff=float("nan")), ValueError, r"cutoff must be a finite number >= 1"),
        (lambda: cauchy_born("lennard_jones", cutoff="12"), TypeError, r"cutoff must be a number.*got '12'"),
        (lambda: fcc_lattice_sums(3), ValueError, r"diverges for p <= 3, got p=3"),
        (lambda: fcc_lattice_sums(-1, 4.0), ValueError, r"p must be a positive exponent, got -1"),
    ],
)
def test_error_messages(call, error, match):
    with pytest.raises(error, match=match):
        call()


@pytest.mark.slow
def test_morse_gradient_through_pytensor_is_the_implicit_derivative():
    """d a0 / d r0 and d C11 / d alpha by PyTensor autodiff through the Newton steps equal central
    finite differences of the NumPy model (the converged Newton map has the implicit derivative)."""
    import pytensor
    import pytensor.tensor as pt

    D, alpha, r0 = (pt.dscalar(n) for n in ("D", "alpha", "r0"))
    out = morse_fcc(D, alpha, r0, xp=pt)
    f = pytensor.function([D, alpha, r0], [pt.grad(out["a0"], r0), pt.grad(out["C11"], alpha)])
    g_a0_r0, g_c11_alpha = f(*GW_CU.values())
    h = 1e-6

    def num(key, name):
        hi, lo = dict(GW_CU), dict(GW_CU)
        hi[name] += h
        lo[name] -= h
        return (float(morse_fcc(**{k: np.array([v]) for k, v in hi.items()})[key][0])
                - float(morse_fcc(**{k: np.array([v]) for k, v in lo.items()})[key][0])) / (2 * h)

    assert float(g_a0_r0) == pytest.approx(num("a0", "r0"), rel=1e-6)
    assert float(g_c11_alpha) == pytest.approx(num("C11", "alpha"), rel=1e-6)
