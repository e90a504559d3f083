"""Tests of the DFT-barrier → exchange-current → Butler–Volmer model against closed forms (Gaussian
moment generating function, Eyring prefactor, Butler–Volmer limits of Bard & Faulkner)."""

import math

import numpy as np
import pytest

from models.electrochemistry import (
    FARADAY,
    K_B_EV,
    R_GAS,
    arrhenius_average,
    arrhenius_average_sites,
    butler_volmer,
    electrochemistry,
    electrochemistry_function,
    tafel_slope,
)

BASE = dict(mu_barrier=0.75, sigma_site=0.05, dft_shift=0.0, dft_spread=0.0, alpha=0.5,
            T=298.15, site_density=1.5e19, activity=1.0, eta_1=-0.01, eta_2=-0.2)


@pytest.mark.parametrize("mu, sigma, T", [(0.75, 0.03, 298.15), (0.5, 0.08, 350.0), (1.1, 0.01, 500.0)])
def test_arrhenius_average_closed_form_quadrature_and_monte_carlo(mu, sigma, T):
    """⟨exp(−E/kT)⟩ for E ~ N(μ, σ²) is the log-normal mean exp(−μ/kT + σ²/(2k²T²)) (moment generating
    function of the normal). Gauss–Hermite (40 nodes) must match it to 1e-11; Monte Carlo with 2e5 draws
    within 4 standard errors, the standard error from the exact log-normal variance
    exp(−2μ/kT)·e^{s²}(e^{s²} − 1), s = σ/kT."""
    kt = K_B_EV * T
    closed = float(arrhenius_average(mu, sigma, T))
    assert closed == pytest.approx(math.exp(-mu / kt + sigma**2 / (2 * kt**2)), rel=1e-14)
    assert float(arrhenius_average(mu, sigma, T, method="quadrature")) == pytest.approx(closed, rel=1e-11)
    n = 200_000
    e = np.random.default_rng(7).normal(mu, sigma, n)
    mc = float(np.mean(np.exp(-e / kt)))
    s2 = (sigma / kt) ** 2
    se = math.exp(-mu / kt) * math.sqrt(math.exp(s2) * (math.exp(s2) - 1.0) / n)
    assert abs(mc - closed) < 4 * se


def test_site_set_average_converges_to_the_gaussian_closed_form():
    """A large set of site barriers drawn from N(μ, σ_site²) with an epistemic N(shift, spread²) functional
    error: the finite-set average equals the Gaussian closed form with mean μ + shift and variance
    σ_site² + spread² within 4 standard errors of the site sample (SE from the exact log-normal variance
    of exp(−E/kT) over sites); a single site reduces to exp(−(E + shift)/kT + spread²/2k²T²)."""
    T, mu, s_site, shift, spread = 320.0, 0.7, 0.04, -0.05, 0.03
    kt = K_B_EV * T
    n = 100_000
    barriers = np.random.default_rng(3).normal(mu, s_site, n)
    got = arrhenius_average_sites(barriers, T, shift=shift, spread=spread)
    want = float(arrhenius_average(mu + shift, math.hypot(s_site, spread), T))
    s2 = (s_site / kt) ** 2
    se = math.exp(-(mu + shift) / kt + spread**2 / (2 * kt**2)) * math.sqrt(math.exp(s2) * (math.exp(s2) - 1) / n)
    assert abs(got - want) < 4 * se
    one = arrhenius_average_sites([0.5], T, shift=shift, spread=spread)
    assert one == pytest.approx(math.exp(-(0.5 + shift) / kt + spread**2 / (2 * kt**2)), rel=1e-13)
    # weights: a 3:1 mixture of two site types
    mixed = arrhenius_average_sites([0.5, 0.7], T, weights=[3.0, 1.0])
    assert mixed == pytest.approx(0.75 * math.exp(-0.5 / kt) + 0.25 * math.exp(-0.7 / kt), rel=1e-13)
    with pytest.raises(ValueError, match=r"weights must be non-negative, not all zero, with shape \(2,\)"):
        arrhenius_average_sites([0.5, 0.7], T, weights=[1.0, -1.0])


def test_averaging_barriers_first_is_wrong_by_the_variance_factor():
    """Averaging barriers before exponentiating gives exp(−μ/kT), smaller than the Arrhenius average by
    exactly exp(σ²/(2k²T²)) (Jensen's inequality made quantitative for a Gaussian); the apparent barrier
    is μ − σ²/(2kT). With σ = 0.05 eV at 298.15 K the factor is 6.64 — the model must not lose it."""
    kt = K_B_EV * 298.15
    gaussian = electrochemistry(truncation=None)
    out = gaussian(**BASE)
    flat = gaussian(**{**BASE, "sigma_site": 0.0})
    ratio = float(out["j0_eff"][0] / flat["j0_eff"][0])
    assert ratio == pytest.approx(math.exp(0.05**2 / (2 * kt**2)), rel=1e-12)
    assert ratio == pytest.approx(6.64, abs=0.01)
    assert float(out["barrier_eff"][0]) == pytest.approx(0.75 - 0.05**2 / (2 * kt), rel=1e-12)
    # the epistemic DFT spread adds in quadrature to the site heterogeneity
    split = gaussian(**{**BASE, "sigma_site": 0.03, "dft_spread": 0.04})
    assert float(split["j0_eff"][0]) == pytest.approx(float(out["j0_eff"][0]), rel=1e-12)


def test_terrace_step_mixture_closed_form_quadrature_and_sampling():
    """Two-population sites: ⟨exp(−E/kT)⟩ = (1 − f) A(μ) + f A(μ − Δ); closed form vs Gauss–Hermite, and a
    Monte Carlo over a sampled site population (4 standard errors of the sample mean)."""
    kw = dict(BASE, step_fraction=0.05, step_offset=0.2)
    closed = electrochemistry(sites="terrace_step", truncation=None)(**kw)
    quad = electrochemistry(sites="terrace_step", method="quadrature", truncation=None)(**kw)
    for name in closed:
        np.testing.assert_allclose(quad[name], closed[name], rtol=1e-11)
    kt = K_B_EV * 298.15
    rng = np.random.default_rng(11)
    n = 400_000
    step = rng.random(n) < 0.05
    e = rng.normal(0.75 - 0.2 * step, 0.05)
    rates = np.exp(-(e - 0.75) / kt)  # scaled by exp(μ/kT) to keep numbers O(1)
    avg_closed = float(arrhenius_average(0.0, 0.05, 298.15)) * 0.95 + 0.05 * float(
        arrhenius_average(-0.2, 0.05, 298.15))
    assert abs(rates.mean() - avg_closed) < 4 * rates.std(ddof=1) / math.sqrt(n)
    # the model's j0 is the single-barrier j0 at μ times the (scaled) mixture average
    flat_j0 = float(electrochemistry()(**{**BASE, "sigma_site": 0.0})["j0_eff"][0])
    assert float(closed["j0_eff"][0]) == pytest.approx(flat_j0 * avg_closed, rel=1e-12)
    # truncated populations: closed form and Gauss–Legendre agree as well
    t_closed = electrochemistry(sites="terrace_step")(**kw)
    t_quad = electrochemistry(sites="terrace_step", method="quadrature")(**kw)
    for name in t_closed:
        np.testing.assert_allclose(t_quad[name], t_closed[name], rtol=1e-11)


def test_exchange_current_uses_the_eyring_prefactor():
    """Eyring: k_B T / h = 6.2124e12 s⁻¹ at 298.15 K (CODATA constants); with a single barrier (σ = 0)
    j₀ = e Γ a (k_B T/h) exp(−E/kT), so j₀ scales linearly with Γ, a and the electron count."""
    kt = K_B_EV * 298.15
    out = electrochemistry()(**{**BASE, "sigma_site": 0.0, "activity": 0.5})
    expected = 1.602176634e-19 * 1.5e19 * 0.5 * 6.2124e12 * math.exp(-0.75 / kt)
    assert float(out["j0_eff"][0]) == pytest.approx(expected, rel=1e-4)
    assert float(out["log10_j0"][0]) == pytest.approx(math.log10(float(out["j0_eff"][0])), rel=1e-13)
    two = electrochemistry_function(**{**BASE, "sigma_site": 0.0, "activity": 0.5}, n_electrons=2)
    assert float(two["j0_eff"]) == pytest.approx(2 * expected, rel=1e-4)


@pytest.mark.parametrize("alpha_a, alpha_c, T", [(0.5, 0.5, 298.15), (0.3, 0.7, 298.15), (0.6, 0.45, 330.0)])
def test_butler_volmer_linear_and_tafel_limits(alpha_a, alpha_c, T):
    """Bard & Faulkner (2001), §3.4 (linear and Tafel limits of the current–overpotential equation):
    i ≈ j₀ f η (α_a + α_c) for small η (relative error ≤ f|η|·max(α) by Taylor's remainder), and
    d log₁₀|i| / dη → 1/b with b = ln(10)RT/(αF) in the Tafel regimes (the backward branch is below
    exp(−(α_a+α_c) f |η|) < 1e-5 of the current at |η| ≥ 0.4 V)."""
    f = FARADAY / (R_GAS * T)
    eta = 1e-4
    linear = 2.5 * f * eta * (alpha_a + alpha_c)
    for sign in (1, -1):
        i = float(butler_volmer(2.5, sign * eta, alpha_a, alpha_c, T))
        assert abs(i / (sign * linear) - 1) <= f * eta * max(alpha_a, alpha_c)
    grid = np.array([0.4, 0.5])
    for sign, alpha in ((1, alpha_a), (-1, alpha_c)):
        i = np.abs(butler_volmer(2.5, sign * grid, alpha_a, alpha_c, T))
        slope_mv = 1e3 * (grid[1] - grid[0]) / abs(np.log10(i[1]) - np.log10(i[0]))
        assert slope_mv == pytest.approx(float(tafel_slope(alpha, T)), rel=2e-5)


def test_tafel_slope_textbook_value():
    """Bard & Faulkner (2001) §3.4.3: α = 0.5 at 25 °C gives b = 118 mV/decade."""
    assert float(tafel_slope(0.5, 298.15)) == pytest.approx(118.3, abs=0.1)
    out = electrochemistry()(**{**BASE, "alpha": 0.5})
    assert float(out["tafel_slope_c"][0]) == pytest.approx(118.3, abs=0.1)
    assert float(out["tafel_slope_a"][0]) == pytest.approx(118.3, abs=0.1)
    out = electrochemistry()(**{**BASE, "alpha": 0.75})  # α_a = 0.25
    assert float(out["tafel_slope_c"][0]) == pytest.approx(78.9, abs=0.1)
    assert float(out["tafel_slope_a"][0]) == pytest.approx(236.6, abs=0.2)
    # cathodic overpotential gives cathodic (negative) current, larger in the Tafel regime
    assert out["i_eta_2"][0] < out["i_eta_1"][0] < 0


def test_pytensor_gradients_match_analytic():
    """∂ln j₀/∂μ = −1/kT and ∂ln j₀/∂σ_site = σ_site/(kT)² (untruncated closed form), through PyTensor, for
    both the closed form and the quadrature graph; the truncated model's gradients against central
    differences (∂ln j₀/∂μ stays −1/kT: the bounds move with the mean)."""
    import pytensor
    import pytensor.tensor as pt

    kt = K_B_EV * 298.15
    for method in ("closed_form", "quadrature"):
        m = electrochemistry(method=method, truncation=None)
        mu, sig = pt.dscalar("mu"), pt.dscalar("sig")
        kw = {k: v for k, v in BASE.items() if k not in ("mu_barrier", "sigma_site")}
        out = m.evaluate_tensor(pt, mu_barrier=mu, sigma_site=sig, **kw)
        ln_j0 = pt.log(out["j0_eff"])
        f = pytensor.function([mu, sig], pytensor.grad(ln_j0, [mu, sig]), mode="FAST_COMPILE")
        d_mu, d_sig = f(0.7, 0.06)
        assert float(d_mu) == pytest.approx(-1 / kt, rel=1e-9)
        assert float(d_sig) == pytest.approx(0.06 / kt**2, rel=1e-9)
    for method in ("closed_form", "quadrature"):
        m = electrochemistry(method=method)
        mu, sig = pt.dscalar("mu"), pt.dscalar("sig")
        kw = {k: v for k, v in BASE.items() if k not in ("mu_barrier", "sigma_site")}
        ln_j0 = pt.log(m.evaluate_tensor(pt, mu_barrier=mu, sigma_site=sig, **kw)["j0_eff"])
        d_mu, d_sig = pytensor.function([mu, sig], pytensor.grad(ln_j0, [mu, sig]), mode="FAST_COMPILE")(0.7, 0.06)
        h = 1e-6

        def ln_j(mu_, sig_, m=m):
            return math.log(float(m(**{**BASE, "mu_barrier": mu_, "sigma_site": sig_})["j0_eff"][0]))

        assert float(d_mu) == pytest.approx(-1 / kt, rel=1e-8)
        assert float(d_sig) == pytest.approx((ln_j(0.7, 0.06 + h) - ln_j(0.7, 0.06 - h)) / (2 * h), rel=1e-6)


def test_declared_kinds_and_options():
    m = electrochemistry(sites="terrace_step")
    assert {"mu_barrier", "sigma_site", "step_fraction"} <= set(m.inputs.aleatory)
    assert set(m.inputs.epistemic) == {"dft_shift", "dft_spread", "alpha", "step_offset"}
    assert "step_fraction" not in electrochemistry().inputs.names
    assert m.differentiable and m.name == "electrochemistry"
    for token in ("eV", "A/m^2", "mV/decade", "epistemic"):
        assert token in m.describe()


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"sites": "fcc"}, r"sites must be one of \['gaussian', 'terrace_step'\], got 'fcc'"),
        ({"method": "mc"}, r"method must be one of \['closed_form', 'quadrature'\], got 'mc'"),
        ({"n_nodes": 1}, r"n_nodes must be an integer >= 2, got 1"),
        ({"n_nodes": 4.5}, r"n_nodes must be an integer >= 2, got 4.5"),
        ({"truncation": -1.0}, r"truncation must be a positive number of standard deviations or None, got -1.0"),
    ],
)
def test_bad_options_raise(kwargs, match):
    with pytest.raises(ValueError, match=match):
        electrochemistry(**kwargs)


@pytest.mark.parametrize("mu, sigma, T", [(0.75, 0.05, 298.15), (0.75, 0.12, 298.15), (0.1, 0.08, 320.0)])
def test_truncated_average_closed_form_quadrature_and_monte_carlo(mu, sigma, T):
    """Truncated Gaussian N(μ, σ²) on [max(0, μ − 2.5σ), μ + 2.5σ]: the erfcx closed form equals 40-node
    Gauss–Legendre (1e-11) and a Monte Carlo mean over 2e5 draws of scipy.stats.truncnorm within 4
    standard errors (SE from the sample standard deviation). The third case has its floor at 0 eV."""
    from scipy import stats

    kt = K_B_EV * T
    closed = float(arrhenius_average(mu, sigma, T, truncation=2.5))
    assert float(arrhenius_average(mu, sigma, T, truncation=2.5, method="quadrature")) == pytest.approx(closed, rel=1e-11)
    lo, hi = max(0.0, mu - 2.5 * sigma), mu + 2.5 * sigma
    e = stats.truncnorm((lo - mu) / sigma, (hi - mu) / sigma, loc=mu, scale=sigma).rvs(200_000, random_state=5)
    assert e.min() >= 0.0
    rates = np.exp(-(e - mu) / kt)
    mc = rates.mean() * math.exp(-mu / kt)
    assert abs(mc - closed) < 4 * rates.std(ddof=1) / math.sqrt(e.size) * math.exp(-mu / kt)


def test_bounded_sites_carry_the_current_and_no_barrier_is_negative():
    """Issue 16: with the unbounded Gaussian the Arrhenius-weighted barriers are N(μ − σ²/kT, σ²), so half
    of j₀ comes from the fraction Φ(−σ/kT) of sites: 1 % at σ = 0.06 eV, 3e-9 at σ = 0.15 eV (298 K) —
    sites a finite surface does not have. With the 2.5σ bound the enhancement over the mean barrier is at
    most exp(2.5σ/kT) (the lower bound's Boltzmann factor), and a mean barrier near zero is floored at
    0 eV (the average never exceeds the activationless rate 1)."""
    from scipy import stats

    kt, w = K_B_EV * 298.15, 2.5
    assert stats.norm.cdf(-0.06 / kt) == pytest.approx(0.01, abs=0.002)
    assert stats.norm.cdf(-0.15 / kt) < 1e-8
    for sigma in (0.03, 0.06, 0.1, 0.15):
        s = sigma / kt
        bounded = float(arrhenius_average(1.0, sigma, 298.15, truncation=w)) * math.exp(1.0 / kt)
        assert 1.0 < bounded < math.exp(w * s)
    unbounded = float(arrhenius_average(1.0, 0.15, 298.15)) * math.exp(1.0 / kt)
    assert unbounded > math.exp(w * 0.15 / kt)  # the unbounded Gaussian exceeds it
    # a mean barrier more than 2.5σ below zero leaves no admissible site: NaN for that sample only
    out = electrochemistry()(**{**BASE, "dft_shift": np.array([-0.9, 0.0]), "sigma_site": 0.05})
    assert np.isnan(out["j0_eff"][0]) and np.isfinite(out["j0_eff"][1])
    for method in ("closed_form", "quadrature"):
        assert np.isnan(arrhenius_average(-0.2, 0.05, 298.15, truncation=w, method=method))
    assert float(arrhenius_average(0.05, 0.1, 298.15, truncation=w)) < 1.0
    out = electrochemistry()(**{**BASE, "mu_barrier": 0.05, "sigma_site": 0.1})
    assert float(out["barrier_eff"][0]) > 0.0


def test_one_electron_transfer_coefficients_sum_to_one():
    """Bard & Faulkner (2001) §3.3: α_a + α_c = n = 1 for a one-electron step, so the linear-regime slope
    is j₀ f for every α, and the two Tafel slopes satisfy 1/b_a + 1/b_c = F/(ln 10 RT)."""
    f = FARADAY / (R_GAS * 298.15)
    for alpha in (0.4, 0.5, 0.6):
        out = electrochemistry()(**{**BASE, "alpha": alpha, "eta_1": -1e-5})
        j0 = float(out["j0_eff"][0])
        assert float(out["i_eta_1"][0]) == pytest.approx(-j0 * f * 1e-5, rel=1e-3)
        inv = 1 / float(out["tafel_slope_a"][0]) + 1 / float(out["tafel_slope_c"][0])
        assert inv == pytest.approx(1e-3 * f / math.log(10.0), rel=1e-12)
