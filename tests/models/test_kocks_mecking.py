"""Kocks–Mecking/Taylor hardening: closed form against numerical integration, limits, and data."""

import numpy as np
import pytest
from scipy.integrate import solve_ivp

import uqbridge as uq
from uqbridge.designs import sample_inputs
from uqbridge_models.kocks_mecking import (
    TAKEUCHI_1975_CSV,
    kocks_mecking,
    kocks_mecking_function,
    takeuchi_1975,
    takeuchi_1975_true,
)

# (tau0 MPa, alpha, rho0 m^-2, k1 1/m, k2): defaults, low/high recovery, fast/slow storage, rho0 above
# saturation (softening branch: h < 0), and a tiny k2 where expm1 matters.
GRID = [
    (1.0, 0.3, 1e11, 1.5e8, 8.0),
    (0.5, 0.2, 1e10, 5e7, 2.0),
    (2.0, 0.5, 1e12, 4e8, 20.0),
    (1.0, 0.35, 5e14, 1.5e8, 8.0),
    (1.0, 0.3, 1e11, 1.5e8, 1e-6),
]
MU, B = 4.21e4, 2.56e-10
GAMMAS = np.array([0.0, 0.01, 0.05, 0.1, 0.2, 0.5, 1.0, 2.0])


def _integrate(tau0, alpha, rho0, k1, k2, gammas):
    """Integrate d rho/d gamma = k1 sqrt(rho) - k2 rho directly in rho (not in sqrt(rho))."""
    sol = solve_ivp(
        lambda g, r: k1 * np.sqrt(r) - k2 * r,
        (0.0, gammas[-1]),
        [rho0],
        method="DOP853",
        t_eval=gammas,
        rtol=1e-12,
        atol=1e-12 * rho0,
    )
    assert sol.success, sol.message
    rho = sol.y[0]
    tau = tau0 + alpha * MU * B * np.sqrt(rho)
    h = alpha * MU * B * (k1 * np.sqrt(rho) - k2 * rho) / (2 * np.sqrt(rho))  # chain rule on the ODE
    return tau, rho, h


@pytest.mark.parametrize("params", GRID)
def test_closed_form_matches_solve_ivp(params):
    """Closed form vs scipy.integrate.solve_ivp (DOP853, rtol 1e-12) of the original ODE in rho.

    Reference: numerical integration of Kocks (1976) / Mecking & Kocks (1981) evolution law.
    """
    tau0, alpha, rho0, k1, k2 = params
    tau_ref, rho_ref, h_ref = _integrate(*params, GAMMAS)
    out = kocks_mecking()(gamma=GAMMAS, tau0=tau0, alpha=alpha, rho0=rho0, k1=k1, k2=k2)
    np.testing.assert_allclose(out["rho"], rho_ref, rtol=1e-9)
    np.testing.assert_allclose(out["tau"], tau_ref, rtol=1e-9)
    # h changes sign on the softening branch; scale the absolute tolerance by the initial modulus
    np.testing.assert_allclose(out["h"], h_ref, rtol=1e-8, atol=1e-9 * abs(h_ref[0]))


@pytest.mark.parametrize("params", GRID)
def test_h_is_the_derivative_of_tau(params):
    """h equals a central finite difference of tau(gamma) (error O(dg²) ≈ 1e-10 relative)."""
    tau0, alpha, rho0, k1, k2 = params
    g = np.array([0.05, 0.1, 0.3, 0.7])
    dg = 1e-5
    m = kocks_mecking()
    kw = dict(tau0=tau0, alpha=alpha, rho0=rho0, k1=k1, k2=k2)
    fd = (m(gamma=g + dg, **kw)["tau"] - m(gamma=g - dg, **kw)["tau"]) / (2 * dg)
    h = m(gamma=g, **kw)["h"]
    np.testing.assert_allclose(h, fd, rtol=1e-6, atol=1e-8 * np.max(np.abs(h)))


def test_saturation_limit():
    """tau -> tau_sat = tau0 + alpha mu b k1/k2 and h -> 0 as gamma -> infinity (Kocks & Mecking 2003)."""
    tau0, alpha, rho0, k1, k2 = 1.0, 0.3, 1e11, 1.5e8, 8.0
    out = kocks_mecking()(gamma=[20.0, 50.0], tau0=tau0, alpha=alpha, rho0=rho0, k1=k1, k2=k2)
    tau_sat = tau0 + alpha * MU * B * k1 / k2
    np.testing.assert_allclose(out["tau"], tau_sat, rtol=1e-12)
    np.testing.assert_allclose(out["rho"], (k1 / k2) ** 2, rtol=1e-12)
    np.testing.assert_allclose(out["h"], 0.0, atol=1e-12 * alpha * MU * B * k1)


def test_initial_state_and_stage_ii_slope():
    """At gamma = 0: rho = rho0, tau = tau0 + alpha mu b sqrt(rho0), h = alpha mu b (k1 - k2 sqrt(rho0))/2."""
    tau0, alpha, rho0, k1, k2 = 0.7, 0.4, 3e11, 2e8, 5.0
    out = kocks_mecking_function(0.0, tau0, alpha, MU, B, rho0, k1, k2)
    taylor = alpha * MU * B
    assert float(out["rho"]) == pytest.approx(rho0, rel=1e-14)
    assert float(out["tau"]) == pytest.approx(tau0 + taylor * np.sqrt(rho0), rel=1e-14)
    assert float(out["h"]) == pytest.approx(0.5 * taylor * (k1 - k2 * np.sqrt(rho0)), rel=1e-13)


def test_declaration_is_the_fixed_interface():
    """Input names/order/kinds and outputs are the interface the calibration code relies on."""
    m = uq.get_model("kocks_mecking")
    assert m.name == "kocks_mecking" and m.differentiable
    assert m.inputs.names == ("gamma", "tau0", "alpha", "mu", "b", "rho0", "k1", "k2")
    assert m.output_names == ("tau", "rho", "h")
    kinds = {i.name: i.kind for i in m.inputs}
    assert kinds["rho0"] == "aleatory"
    assert all(kinds[n] == "epistemic" for n in ("tau0", "alpha", "k1", "k2"))
    for name, value in (("gamma", 0.1), ("mu", 4.21e4), ("b", 2.56e-10)):
        d = m.inputs[name].distribution
        assert d.is_constant and d.mean == value
    assert {o.name: o.units for o in m.outputs} == {"tau": "MPa", "rho": "m^-2", "h": "MPa"}


def test_gradient_through_pytensor_matches_analytic():
    """d tau / d k1 from PyTensor autodiff equals the analytic derivative of the closed form."""
    import pytensor
    import pytensor.tensor as pt

    m = kocks_mecking()
    k1 = pt.dscalar("k1")
    tau = m.evaluate_tensor(pt, gamma=0.3, tau0=1.0, alpha=0.3, rho0=1e11, k1=k1, k2=8.0)["tau"]
    grad = pytensor.function([k1], pt.grad(tau, k1))(1.5e8)
    # x = sqrt(rho0) e^{-c} + (k1/k2)(1 - e^{-c})  =>  d tau/d k1 = alpha mu b (1 - e^{-c}) / k2
    c = 0.5 * 8.0 * 0.3
    assert float(grad) == pytest.approx(0.3 * MU * B * (1 - np.exp(-c)) / 8.0, rel=1e-12)


def test_default_prior_predictive_covers_takeuchi_1975():
    """The default distributions are defensible for Cu: every plastic point of Takeuchi (1975),
    Trans. JIM 16:629, Fig. 3b ([001] and [111] crystals, resolved with the Schmid factors
    0.408 and 0.272: tau = m sigma, gamma = eps/m) lies in the central 99 % prior-predictive band
    of tau, and the prior median is within a factor 1.5 of every point with gamma >= 0.05.
    Band from 4000 Monte Carlo draws (seed 1); the 0.5 % quantile's sampling error is a few %,
    far below the margins here."""
    data = takeuchi_1975(min_strain_percent=1e-9)  # every point but the origin
    gamma, tau_data = data["gamma"].to_numpy(), data["tau"].to_numpy()

    m = kocks_mecking()
    x = sample_inputs(m.inputs, 4000, "mc", rng=1)
    x["gamma"] = gamma[:, None]  # broadcast: (points, draws)
    tau = kocks_mecking_function(xp=np, **{k: np.asarray(v) for k, v in x.items()})["tau"]
    lo, med, hi = np.percentile(tau, [0.5, 50, 99.5], axis=1)
    assert np.all((lo <= tau_data) & (tau_data <= hi))
    big = gamma >= 0.05
    assert np.all(np.abs(np.log(med[big] / tau_data[big])) < np.log(1.5))
    # "tens of MPa" at gamma 0.1-0.5 for the median crystal
    mid = (gamma >= 0.1) & (gamma <= 0.5)
    assert np.all((med[mid] > 10) & (med[mid] < 100))


@pytest.mark.slow
def test_held_out_orientation_takeuchi_001_to_111():
    """Calibrate on Takeuchi (1975) [001] alone, predict the held-out [111] curve (a new specimen).

    Orientation enters the model only through the Schmid factor, and the [111] crystal hardens faster
    in resolved variables than [001]: the prediction misses it. Measured on the true stress/strain
    data (seed 5, PyMC NUTS as nutpie was not installed, 2 x 1000 draws, target_accept 0.95): 90 % band
    coverage of the [111] points 0.19 without discrepancy and 0.00 with a GP discrepancy over gamma
    (on the nominal values the loader used to pass on, nutpie: 0.25 and 0.06) — the discrepancy
    learnt on [001] is a function of gamma, not of
    orientation, so it does not transfer; the adequacy gate already flags the [001] fit (residual runs,
    alpha and k1 not informed by stress data). Asserted: both coverages far below the nominal 0.9
    (< 0.5), i.e. the check detects that the model cannot predict another orientation.
    """
    from uqbridge.calibration import Sampling, calibrate, validate

    cu = takeuchi_1975()
    train, test = cu[cu["specimen"] == "Cu[001]"], cu[cu["specimen"] == "Cu[111]"]
    coverage = {}
    for disc in (None, "gp"):
        res = calibrate(kocks_mecking(), train, noise={"tau": "unknown"}, discrepancy=disc,
                        sampling=Sampling(draws=1000, tune=1000, chains=2, target_accept=0.95, sampler="nutpie"), rng=5)
        v = validate(res, test, rng=1)
        coverage[disc] = float(v["coverage"].sel(output="tau", level=0.9))
        assert not res.passed  # stress data alone never inform alpha (and the [001] misfit shows)
    print(f"[111] coverage of the 90 % band: {coverage}")
    assert coverage[None] < 0.5 and coverage["gp"] < 0.5


def test_takeuchi_loader_converts_nominal_to_true_before_resolving():
    """The data file holds engineering strain and nominal stress (its header; Takeuchi 1975, Trans. JIM
    16:629, Fig. 3b). One raw row, typed here from the CSV, converted by hand: true strain ln(1 + e),
    true stress s (1 + e), then gamma = eps/m and tau = m sigma with the [001] Schmid factor 0.408.
    At e = 10.7 % the nominal values differ from the true ones by 5-11 %, so dropping the conversion
    fails this test by far more than the float tolerance."""
    header = "".join(line for line in TAKEUCHI_1975_CSV.read_text().splitlines(keepends=True) if line.startswith("#"))
    assert "engineering strain" in header.lower()
    e, s, m = 10.686274509803923 / 100, 121.22468034832983, 0.408  # file row "001,10.686...,121.224..."
    true = takeuchi_1975_true()
    row = true[(true["axis"] == "001") & np.isclose(true["nominal_stress"], s, rtol=0, atol=1e-9)]
    assert len(row) == 1
    assert float(row["true_strain"].iloc[0]) == pytest.approx(np.log(1 + e), rel=1e-14)
    assert float(row["true_stress"].iloc[0]) == pytest.approx(s * (1 + e), rel=1e-14)
    resolved = takeuchi_1975()
    r = resolved[resolved["specimen"] == "Cu[001]"].iloc[9]  # the 10th [001] point at or above 2 % strain
    assert float(r["gamma"]) == pytest.approx(np.log(1 + e) / m, rel=1e-14)
    assert float(r["tau"]) == pytest.approx(m * s * (1 + e), rel=1e-14)
    with pytest.raises(ValueError, match="min_strain_percent"):
        takeuchi_1975_true(min_strain_percent=-1.0)


def test_conversion_changes_the_fitted_hardening_law():
    """What the conversion does to a calibration: a least-squares resolved Voce law
    tau = tau_s - (tau_s - tau_i) exp(-gamma/gamma_c) fitted to the [001] and [111] curves
    (Takeuchi 1975) has a saturation stress ~30 % higher on true than on nominal data. Asserted: the
    difference exceeds 5 combined standard errors of the two fits (curve_fit covariance), so a loader
    that dropped the conversion would give a visibly different calibration."""
    from scipy.optimize import curve_fit

    from uqbridge_models.kocks_mecking import SCHMID_FACTORS

    def voce(g, ti, ts, gc):
        return ts - (ts - ti) * np.exp(-g / gc)

    true = takeuchi_1975_true()
    for axis in ("001", "111"):
        d, m = true[true["axis"] == axis], SCHMID_FACTORS[axis]
        fits = {}
        for label, eps, sig in (("true", d["true_strain"], d["true_stress"]), ("nominal", d["eng_strain"], d["nominal_stress"])):
            p, cov = curve_fit(voce, eps / m, sig * m, p0=(5.0, 70.0, 0.3), maxfev=20000)
            fits[label] = (p[1], np.sqrt(cov[1, 1]))
        (ts_true, se_true), (ts_nom, se_nom) = fits["true"], fits["nominal"]
        assert ts_true - ts_nom > 5 * np.hypot(se_true, se_nom), (axis, fits)
