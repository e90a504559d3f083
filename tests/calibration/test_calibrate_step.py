"""The study's ``calibrate`` kind: a conjugate (linear-Gaussian) stage observed at the FIRST stage of a
2-stage chain, its posterior checked against the closed form and carried into the later analyses; a
failed gate stamped on every later result.

Reference: the normal-normal conjugate posterior (Gelman et al., *Bayesian Data Analysis*, 3rd ed.,
§2.5): prior theta ~ N(m0, s0^2), observations y_i = a theta + e_i, e_i ~ N(0, sigma^2) =>
posterior precision 1/s0^2 + n a^2 / sigma^2, mean (m0/s0^2 + a sum(y)/sigma^2) / precision.
"""

from __future__ import annotations

import numpy as np
import pytest

import uqbridge as uq
from uqbridge.study import Study, run_study

pytest.importorskip("pymc")

M0, S0, A, SIGMA = 0.0, 2.0, 2.0, 0.5
Y = [6.1, 5.7, 6.4]


def _chain() -> uq.ChainModel:
    micro = uq.ForwardModel(
        "micro", lambda theta, xp=None: {"y1": A * theta},
        [uq.Input("theta", uq.Normal(M0, S0), "epistemic")], [uq.Output("y1")], differentiable=True,
    )
    macro = uq.ForwardModel(
        "macro", lambda y1, x, xp=None: {"y2": y1 + x},
        [uq.Input("y1", uq.Normal(0, 1)), uq.Input("x", uq.Normal(0.0, 1.0), "aleatory")], [uq.Output("y2")],
        differentiable=True,
    )
    return uq.chain(uq.Stage(micro, scale="micro"), uq.Stage(macro, scale="macro"), name="conjugate_chain")


def _study(tmp_path, calibrate_options, n=4000) -> Study:
    analyses = (
        {"kind": "calibrate", "label": "calibrate", "options": calibrate_options},
        {"kind": "propagate", "label": "propagate", "options": {"n": n, "design": "mc"}},
    )
    return Study(name="conjugate", model=_chain(), analyses=analyses, seed=3, output=str(tmp_path))


def test_conjugate_posterior_and_later_analyses(tmp_path):
    options = {"data": {"y1": Y}, "observe": ["y1"], "noise": {"y1": SIGMA}, "draws": 1000, "tune": 500,
               "chains": 2, "compare": True}
    res = run_study(_study(tmp_path, options), progress=None)
    precision = 1 / S0**2 + len(Y) * A**2 / SIGMA**2
    mean, sd = (M0 / S0**2 + A * sum(Y) / SIGMA**2) / precision, precision**-0.5
    cal = res["calibration"]
    assert cal.attrs["gates"] == "passed" and cal.attrs["observed"] == "y1"
    assert cal.attrs["stage"].startswith("conjugate_chain[:micro]")  # cut after the observed stage: x not a latent
    # MC error: the convergence gate passed, so ESS >= 400; SE(mean) <= sd/sqrt(400), SE(sd) <= sd/sqrt(2*400)
    got_mean, got_sd = float(cal["posterior_mean"].sel(parameter="theta")), float(cal["posterior_sd"].sel(parameter="theta"))
    assert abs(got_mean - mean) < 4 * sd / np.sqrt(400)
    assert abs(got_sd - sd) < 4 * sd / np.sqrt(800)
    # later analyses: y2 = A theta + x with theta from the posterior -> mean A*mean, var A^2 sd^2 + 1
    after, before = res["propagate"], res["propagate_prior"]
    assert after.attrs["calibration"] == "passed" and after.attrs["calibrated_inputs"] == "theta"
    assert before.attrs["prior_run"] == 1
    y2 = after["y2"].values
    var = A**2 * sd**2 + 1
    # sampling SE of the propagated mean plus the posterior fit's own error (A * 4 SE of the posterior mean)
    assert abs(y2.mean() - A * mean) < 4 * np.sqrt(var / y2.size) + A * 4 * sd / np.sqrt(400)
    assert abs(y2.var() / var - 1) < 4 * np.sqrt(2 / y2.size) + 2 * 4 / np.sqrt(800)
    prior_var = A**2 * S0**2 + 1  # the prior run still uses the prior
    assert abs(before["y2"].values.var() / prior_var - 1) < 4 * np.sqrt(2 / y2.size)


def test_failed_gate_is_stamped_on_later_results(tmp_path):
    options = {"data": {"y1": Y}, "observe": ["y1"], "noise": {"y1": SIGMA}, "draws": 100, "tune": 100,
               "chains": 2, "thresholds": {"ess": 1e9}}  # an ESS no run of 200 draws can reach
    with pytest.warns(RuntimeWarning, match="failed its checks"):
        res = run_study(_study(tmp_path, options, n=64), progress=None)
    stamp = res["calibration"].attrs["gates"]
    assert stamp.startswith("failed convergence:") and "ess" in stamp.lower()
    assert res["calibration"].attrs["convergence_passed"] == 0
    assert res["propagate"].attrs["calibration"] == stamp


def test_calibrate_bad_options(tmp_path):
    from uqbridge.study import StudyError

    with pytest.raises(StudyError, match="no column"):
        run_study(_study(tmp_path, {"data": {"y1": Y}, "observe": {"z": "y1"}}), progress=None)
    with pytest.raises(StudyError, match="no output"):
        run_study(_study(tmp_path / "b", {"data": {"q": Y}, "observe": ["q"]}), progress=None)
