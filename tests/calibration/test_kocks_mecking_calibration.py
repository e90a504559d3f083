"""Kocks–Mecking / Taylor hardening: recovery of known parameters from synthetic curves, and pushforward."""

from __future__ import annotations

import arviz as az
import numpy as np
import pytest
from calibration_cases import KM_RHO_NOISE, KM_TRUTH, km_data

from uqbridge.calibration import Sampling, calibrate
from uqbridge.variance import decompose

km = pytest.importorskip("uqbridge_models.kocks_mecking")


@pytest.fixture(scope="module")
def km_result():
    model = km.kocks_mecking()
    data, rho0 = km_data(model)
    result = calibrate(model, data, noise={"tau": "unknown", "rho": ("known", KM_RHO_NOISE)}, rng=11)
    return model, result, rho0


@pytest.mark.slow
def test_parameters_recovered(km_result):
    """Truth inside the 94 % HDI; R-hat <= 1.01, bulk/tail ESS >= 400, no divergences.

    Reference: the values the data were generated with (``KM_TRUTH`` and each specimen's rho0).
    The specimens' rho0 are drawn from the population (the prior), so each 94 % interval covers its
    truth with probability 0.94 and the number of misses among 4 is Binomial(4, 0.06): two or more
    misses has probability 0.02, one miss 0.20 — at most one is accepted.
    """
    _, result, rho0 = km_result
    assert result.passed, result.warnings
    assert float(result.diagnostics["rhat"].max()) <= 1.01
    assert result.hierarchical == ("rho0",)
    hdi = az.hdi(result.idata.posterior, hdi_prob=0.94)
    for name, value in KM_TRUTH.items():
        lo, hi = hdi[name].values
        assert lo <= value <= hi, (name, lo, value, hi)
    lo, hi = hdi["rho0"].values.T
    misses = int(np.sum((rho0 < lo) | (rho0 > hi)))
    assert misses <= 1, (lo, rho0, hi)


@pytest.mark.slow
def test_epistemic_share_drops(km_result):
    """Var(E[tau | epistemic]) and its share of Var(tau) at gamma = 0.05, before vs after the data.

    Estimator: pick-freeze (Saltelli 2010) in ``uqbridge.variance.decompose`` with 95 % bootstrap
    intervals; after calibration the epistemic inputs are the joint posterior draws (pushforward).
    """
    model, result, _ = km_result
    before = decompose(model.with_inputs(gamma=0.05), outputs=["tau"], n=16384, rng=1).sel(output="tau")
    after_model = result.pushforward().with_inputs(gamma=0.05)
    assert after_model.inputs.dimension_names == ("rho0", "tau0+alpha+k1+k2")
    after = decompose(after_model, outputs=["tau"], n=16384, rng=1).sel(output="tau")
    print(f"epistemic share of tau(0.05): before {float(before['epistemic_share']):.3f}, "
          f"after {float(after['epistemic_share']):.3f}; epistemic variance {float(before['epistemic_term']):.3g} "
          f"-> {float(after['epistemic_term']):.3g} MPa^2")
    assert float(after["epistemic_term_high"]) < float(before["epistemic_term_low"])
    assert float(after["epistemic_share_high"]) < float(before["epistemic_share_low"])


@pytest.mark.slow
def test_alpha_from_stress_alone_is_flagged_k2_is_not():
    """Stress data alone measure alpha·k1 and alpha·sqrt(rho0) but not alpha itself (Kocks & Mecking 2003:
    tau = tau0 + alpha mu b sqrt(rho)); the identifiability table must flag alpha (and k1, its partner on
    the ridge) as not informed by the data, while k2 (the curvature of the curve) is informed.

    Reference: the structure of the closed form (see models.kocks_mecking); data share and contraction
    as defined in uqbridge.calibration.identifiability. Sampled with nutpie (the fast option; an optional extra)."""
    pytest.importorskip("nutpie", reason="sampler='nutpie' is the optional extra uqbridge[nutpie]")
    model = km.kocks_mecking()
    data, _ = km_data(model)
    result = calibrate(model, data.drop(columns="rho"), noise={"tau": "unknown"},
                       sampling=Sampling(draws=1000, tune=1000, chains=2, target_accept=0.95, sampler="nutpie"), rng=3)
    table = result.identifiability
    print(table.to_dataframe().round(3))
    assert not bool(table["informed"].sel(parameter="alpha"))
    assert bool(table["informed"].sel(parameter="k2"))
    assert float(table["data_share"].sel(parameter="alpha")) < 0.2 < float(table["data_share"].sel(parameter="k2"))
    assert not result.passed and any("not informed by the data" in w and "'alpha'" in w for w in result.warnings)
