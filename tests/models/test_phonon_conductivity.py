"""Phonon conductivity: quadrature against adaptive integration, the Casimir T³ limit, the low-temperature
log-log slope, the peak, and the Si model validated on Glassbrenner & Slack (1964) points it was not fitted to."""

import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy.constants import hbar
from scipy.constants import k as k_B
from scipy.integrate import quad
from scipy.optimize import least_squares

from uqbridge_models.phonon_conductivity import (
    MATERIALS,
    SI_BRANCHES,
    SI_DEFAULTS,
    SI_MASS,
    boundary_limited_conductivity,
    phonon_conductivity,
    phonon_conductivity_function,
    si_conductivity_function,
)

DATA = Path(__file__).resolve().parents[2] / "models" / "data" / "si_thermal_conductivity_glassbrenner_slack1964.csv"


def _params(material, **changes):
    p = MATERIALS[material]
    values = dict(A=p.A, B=p.B, C=p.C, m=p.m, L=p.L, theta=p.theta, v=p.v)
    values.update(changes)
    return values


def _k(T, material="ge", **changes):
    return phonon_conductivity_function(np.atleast_1d(np.asarray(T, dtype=float)), **_params(material, **changes))["k"]


def _k_si(T, **changes):
    values = {**SI_DEFAULTS, **changes}
    return si_conductivity_function(np.atleast_1d(np.asarray(T, dtype=float)), **values)["k"]


def _glassbrenner_slack():
    data = pd.read_csv(DATA, comment="#")
    return data["temperature_K"].to_numpy(float), 100.0 * data["conductivity_W_per_cm_K"].to_numpy(float)


def _adaptive(T, A, B, C, m, L, theta, v):
    def integrand(x):
        w = x * k_B * T / hbar
        rate = v / L + A * w**4 + B * w**2 * T**m * np.exp(-C / T)
        return x**4 * np.exp(-x) / (-np.expm1(-x)) ** 2 / rate

    value = quad(integrand, 0.0, theta / T, limit=400, epsabs=0.0, epsrel=1e-12)[0]
    return k_B / (2 * np.pi**2 * v) * (k_B * T / hbar) ** 3 * value


def _adaptive_si(T, A, U, c_U, L):
    total = 0.0
    for b in SI_BRANCHES:
        strength = U * hbar * b.gamma**2 / (SI_MASS * b.v**2 * b.theta)

        def integrand(x, b=b, strength=strength):
            w = x * k_B * T / hbar
            rate = b.v / L + A * w**4 + strength * w**2 * T * np.exp(-c_U * b.theta / T)
            return x**4 * np.exp(-x) / (-np.expm1(-x)) ** 2 / rate

        value = quad(integrand, 0.0, b.theta / T, limit=400, epsabs=0.0, epsrel=1e-12)[0]
        total += b.weight / 3 * k_B / (2 * np.pi**2 * b.v) * (k_B * T / hbar) ** 3 * value
    return total


@pytest.mark.parametrize("T", [1.0, 10.0, 40.0, 300.0, 1000.0])
def test_gauss_legendre_matches_adaptive_quadrature(T):
    """Fixed 64-point rules vs scipy.integrate.quad (rel. 1e-12): Ge one branch (measured < 1e-8 up to
    40 K; 2e-5 / 8e-5 at 300 / 1000 K, where Callaway's T³ω² rate varies sharply) and Si two branches."""
    assert _k(T)[0] == pytest.approx(_adaptive(T, **_params("ge")), rel=2e-4)
    assert _k_si(T)[0] == pytest.approx(_adaptive_si(T, **SI_DEFAULTS), rel=2e-4)


@pytest.mark.parametrize("T", [0.5, 2.0, 5.0])
def test_boundary_only_limit_is_casimir(T):
    """A = B = 0, T ≪ θ: k = (2π²/15) k_B⁴ T³ L/(ħ³ v²) (Casimir 1938; kinetic ⅓ C v L, Debye C),
    summed over the Si branches with weights w_i/3."""
    p = _params("ge", A=0.0, B=0.0)
    assert _k(T, A=0.0, B=0.0)[0] == pytest.approx(boundary_limited_conductivity(T, p["L"], p["v"]), rel=1e-9)
    casimir_si = sum(b.weight / 3 * boundary_limited_conductivity(T, 4e-3, b.v) for b in SI_BRANCHES)
    assert _k_si(T, A=0.0, U=0.0)[0] == pytest.approx(casimir_si, rel=1e-9)


def test_low_temperature_t_cubed_law():
    """Log-log slope d ln k / d ln T → 3 as T → 0 (boundary scattering dominates; Callaway 1959)."""
    T = np.array([0.5, 0.55, 0.1, 0.11])
    for k in (_k(T), _k_si(T)):
        slopes = np.diff(np.log(k))[[0, 2]] / np.diff(np.log(T))[[0, 2]]
        assert slopes[1] == pytest.approx(3.0, abs=1e-3)
        assert abs(slopes[1] - 3.0) <= abs(slopes[0] - 3.0) + 1e-12


def test_conductivity_has_a_single_low_temperature_peak():
    """k(T) rises as T³, peaks where boundary and intrinsic scattering balance, then falls."""
    T = np.geomspace(1.0, 300.0, 200)
    for k in (_k(T), _k_si(T)):
        peak = int(np.argmax(k))
        assert 5 < T[peak] < 60
        assert np.all(np.diff(k[: peak + 1]) > 0) and np.all(np.diff(k[peak:]) < 0)


def test_ge_callaway_parameters_peak():
    """Callaway (1959) fitted these Ge parameters to Geballe & Hull's (1958) natural Ge, whose
    maximum lies near 17–20 K; the model's maximum (18 K) must fall in 12–25 K. The peak height
    (1.44e3 W/m/K here) is not checked: no measured table of it is at hand."""
    T = np.geomspace(5.0, 60.0, 300)
    k = _k(T)
    assert 12.0 < T[np.argmax(k)] < 25.0


def _fit_si(T, k, L):
    def residual(q):
        return np.log(_k_si(T, U=np.exp(q[0]), c_U=q[1], L=L)) - np.log(k)

    fit = least_squares(residual, [0.0, 1.0 / 3.0], xtol=1e-12, ftol=1e-12)
    return math.exp(fit.x[0]), fit.x[1]


def test_si_defaults_are_the_fit_on_100_to_1000_K_only():
    """(U, c_U) minimise Σ (ln k_model − ln k_data)² over Glassbrenner & Slack's 100–1000 K points with
    L = 4 mm fixed (re-fit: 1 %); fit residual rms 4.1 %, every training point within 7 %."""
    T, k = _glassbrenner_slack()
    train = (T >= 100) & (T <= 1000)
    U, c_U = _fit_si(T[train], k[train], SI_DEFAULTS["L"])
    assert U == pytest.approx(SI_DEFAULTS["U"], rel=0.01) and c_U == pytest.approx(SI_DEFAULTS["c_U"], rel=0.01)
    ratio = _k_si(T[train]) / k[train]
    assert np.sqrt(np.mean(np.log(ratio) ** 2)) < 0.045 and np.all(np.abs(ratio - 1) < 0.07)


def test_si_predicts_held_out_low_temperatures_and_the_peak():
    """Validation on data the model was not fitted to. Held out: Glassbrenner & Slack (1964) at 50–90 K —
    the model (fitted at 100–1000 K) is within 12 % there (measured +10.6 % at 50 K, −5.1 % at 90 K).
    Peak: Glassbrenner & Slack's Si maximum lies at ≈ 20–25 K with k ≈ 5e3 W/m/K (their Fig. 1; the
    review of issue 16); the model's, at the physical L = 4 mm, must fall at 18–27 K with 3.5–6.5e3 W/m/K
    (measured 22 K, 4.85e3). The fitted boundary length of the previous model (0.28 mm) put it at 44 K."""
    T, k = _glassbrenner_slack()
    held = T < 100
    assert np.all(np.abs(_k_si(T[held]) / k[held] - 1) < 0.12), _k_si(T[held]) / k[held]
    Tl = np.geomspace(5.0, 100.0, 400)
    kl = _k_si(Tl)
    assert 18.0 < Tl[np.argmax(kl)] < 27.0 and 3.5e3 < kl.max() < 6.5e3


def test_si_is_sample_limited_below_the_peak_and_misses_electronic_conduction_above_1000_K():
    """Below the peak k scales with the Casimir length (doubling L doubles k at 1 K); the 100–1000 K
    prediction depends on it little (+4.7 % at 100 K from L = 2 to 8 mm, 0.6 % at 300 K). Above 1000 K the lattice model
    falls below the data (electronic/ambipolar conduction, Glassbrenner & Slack 1964): −16 % at 1681 K."""
    assert _k_si(1.0, L=8e-3)[0] / _k_si(1.0, L=4e-3)[0] == pytest.approx(2.0, rel=0.001)
    assert abs(_k_si(100.0, L=8e-3)[0] / _k_si(100.0, L=2e-3)[0] - 1) < 0.05
    assert abs(_k_si(300.0, L=8e-3)[0] / _k_si(300.0, L=2e-3)[0] - 1) < 0.01
    T, k = _glassbrenner_slack()
    hot = T > 1300
    assert np.all(_k_si(T[hot]) < k[hot])
    assert _k_si(1681.0)[0] / k[T == 1681][0] == pytest.approx(0.84, abs=0.02)
    m = phonon_conductivity("si")
    assert "ambipolar" in m.description and "20-1000 K" in m.description
    with pytest.warns(UserWarning, match="validated for 20 K <= T <= 1000 K"):
        m(T=1500.0, A=1.32e-45, U=2.31)


def test_model_declaration_and_pytensor_gradient():
    """The registered model runs on PyTensor with a finite gradient of k with respect to U."""
    import pytensor
    import pytensor.tensor as pt

    m = phonon_conductivity("si")
    U = pt.dvector("U")
    k = m.evaluate_tensor(pt, U=U, A=np.array([1.32e-45]), T=np.array([300.0]))["k"]
    grad = pytensor.function([U], pt.grad(k.sum(), U), mode="FAST_COMPILE")(np.array([2.31]))
    h = 1e-4
    fd = (_k_si(300.0, U=2.31 + h) - _k_si(300.0, U=2.31 - h)) / (2 * h)
    assert grad[0] == pytest.approx(fd[0], rel=1e-5)


def test_data_file_is_in_the_repository_with_its_source():
    """The published table ships inside the repository (models/data) with its source header."""
    head = DATA.read_text().splitlines()[0]
    assert head.startswith("#") and "Glassbrenner" in head and "Phys. Rev. 134" in head


def test_errors():
    with pytest.raises(ValueError, match="material must be one of \\['ge', 'si'\\], got 'diamond'"):
        phonon_conductivity("diamond")
    with pytest.raises(ValueError, match="n_quadrature must be an integer >= 8, got 2"):
        phonon_conductivity(n_quadrature=2)
