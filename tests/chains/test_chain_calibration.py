"""Cross-scale calibration: a pore-scale epistemic input (the mean fibre fraction V_f) recovered from
macro-only synthetic data (part fill times) by NUTS through the differentiable pores -> permeability -> part
chain (Gebart cell), and the per-scale epistemic shares of the fill-time variance before and after the data."""

import numpy as np
import pandas as pd

from uqbridge.calibration import Sampling, Thresholds, calibrate
from uqbridge.chains.shares import scale_shares
from uqbridge_models.resin_infusion import resin_infusion

V_F_TRUE = 0.53


def _chain():
    # viscosity, scatter, fibre radius and gel time known: V_f (pores) is the epistemic input left;
    # the pressure difference is a measured condition of each infusion
    return resin_infusion("gebart", preform="ud_glass").with_inputs(mu=0.2, s_Vf=0.02, r_f=7.0, t_gel=28800.0)


def test_macro_fill_times_recover_the_pore_scale_fibre_fraction():
    """Synthetic truth V_f = 0.53; 8 infusions at dP = 0.85-0.95 bar, fill times with 2 % Gaussian
    noise (known). The 94 % HDI of V_f must contain the truth, R-hat ≤ 1.01; the pore scale's epistemic
    share of the fill-time variance drops after the data (a measurement campaign's worth, spent)."""
    g = _chain()
    rng = np.random.default_rng(7)
    dP = np.linspace(0.85e5, 0.95e5, 8)
    t_true = g(V_f=V_F_TRUE, dP=dP)["t_fill"]
    sigma = 0.02 * float(t_true.mean())
    data = pd.DataFrame({"dP": dP, "t_fill": t_true + sigma * rng.standard_normal(dP.size)})
    res = calibrate(g, data, outputs=["t_fill"], specimen=None, noise=("known", sigma), path="nuts",
                    sampling=Sampling(draws=500, tune=500, chains=4), thresholds=Thresholds(ess=200), rng=3)
    import arviz as az

    post = res.idata.posterior["V_f"]
    hdi = az.hdi(post, hdi_prob=0.94)["V_f"].values
    assert hdi[0] <= V_F_TRUE <= hdi[1], hdi
    assert float(az.rhat(post)["V_f"]) <= 1.01
    before = scale_shares(g, outputs=["t_fill"], n=2048, n_bootstrap=100, rng=1)
    after = scale_shares(res.pushforward(g), outputs=["t_fill"], n=2048, n_bootstrap=100, rng=1)
    b = float(before["epistemic_share"].sel(output="t_fill", scale="pores"))
    a = float(after["epistemic_share"].sel(output="t_fill", scale="pores"))
    assert b > 0.5 and a < 0.5 * b, (b, a)
    assert float(after["epistemic_share_high"].sel(output="t_fill", scale="pores")) < float(
        before["epistemic_share_low"].sel(output="t_fill", scale="pores"))
