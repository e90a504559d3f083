"""Calibration overhead: ``uqbridge.calibration.calibrate`` vs a hand-written PyMC model of the same physics.

Run: python benchmarks/calibration.py [--draws 1000 --tune 1000 --chains 4 --repeats 1]
Case: Kocks–Mecking / Taylor hardening, 4 specimens × 12 resolved shear strains (tau, noise unknown) plus
two dislocation densities per specimen (rho, noise known), rho0 hierarchical per specimen — the synthetic
experiment of tests/calibration. Both runs use the same priors, likelihood, draws, tune, chains, seed and
single process; both include the posterior predictive. Printed: wall time, min bulk ESS / s and the ratio.
Target (issue 7): uqbridge ≤ 1.2 × the hand-written time.
"""

from __future__ import annotations

import argparse
import sys
import time
import warnings
from pathlib import Path

import arviz as az
import numpy as np
import pymc as pm
import pytensor.tensor as pt

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests" / "calibration"))

from calibration_cases import KM_RHO_NOISE, km_data  # noqa: E402
from models.kocks_mecking import kocks_mecking  # noqa: E402
from uqbridge.calibration import calibrate  # noqa: E402

warnings.filterwarnings("ignore")


def hand_written(data, model, draws, tune, chains, seed):
    """The PyMC model a user would write by hand: same priors, vector rho0, same likelihood."""
    rho0_prior = model.inputs["rho0"].distribution
    prior = {n: model.inputs[n].distribution for n in ("tau0", "k1", "k2")}
    alpha_prior = model.inputs["alpha"].distribution
    mu, b = model.inputs["mu"].distribution.value, model.inputs["b"].distribution.value
    specimens, index = np.unique(data["specimen"], return_inverse=True)
    gamma = data["gamma"].to_numpy()
    tau = data["tau"].to_numpy()
    rho = data["rho"].to_numpy()
    has_rho = np.isfinite(rho)
    with pm.Model(coords={"specimen": specimens}):
        tau0 = pm.LogNormal("tau0", prior["tau0"].mu, prior["tau0"].sigma)
        alpha = pm.Uniform("alpha", alpha_prior.lower, alpha_prior.upper)
        k1 = pm.LogNormal("k1", prior["k1"].mu, prior["k1"].sigma)
        k2 = pm.LogNormal("k2", prior["k2"].mu, prior["k2"].sigma)
        rho0 = pm.LogNormal("rho0", rho0_prior.mu, rho0_prior.sigma, dims="specimen")
        c = 0.5 * k2 * gamma
        x = pm.math.sqrt(rho0[index]) * pm.math.exp(-c) - (k1 / k2) * pt.expm1(-c)
        sigma = pm.HalfNormal("sigma_tau", float(np.std(tau)))
        pm.Normal("tau", tau0 + alpha * mu * b * x, sigma, observed=tau)
        pm.Normal("rho", (x * x)[has_rho], KM_RHO_NOISE, observed=rho[has_rho])
        idata = pm.sample(draws=draws, tune=tune, chains=chains, cores=1, target_accept=0.9,
                          random_seed=seed, progressbar=False, compute_convergence_checks=False)
        pm.sample_posterior_predictive(idata, random_seed=seed, extend_inferencedata=True, progressbar=False)
    return idata


def min_ess(idata, names):
    ess = az.ess(idata.posterior[names], method="bulk")
    return min(float(ess[n].min()) for n in names)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--draws", type=int, default=1000)
    parser.add_argument("--tune", type=int, default=1000)
    parser.add_argument("--chains", type=int, default=4)
    parser.add_argument("--repeats", type=int, default=1)
    args = parser.parse_args()
    model = kocks_mecking()
    data, _ = km_data(model)
    names = ["tau0", "alpha", "k1", "k2", "rho0", "sigma_tau"]
    # compile both graphs once so that neither timing includes PyTensor's C compilation cache misses
    calibrate(model, data, noise={"tau": "unknown", "rho": ("known", KM_RHO_NOISE)}, draws=20, tune=20, chains=1)
    hand_written(data, model, 20, 20, 1, 0)
    rows = []
    for r in range(args.repeats):
        t = time.perf_counter()
        res = calibrate(model, data, noise={"tau": "unknown", "rho": ("known", KM_RHO_NOISE)}, draws=args.draws,
                        tune=args.tune, chains=args.chains, rng=r)
        t_uq = time.perf_counter() - t
        t = time.perf_counter()
        idata = hand_written(data, model, args.draws, args.tune, args.chains, r)
        t_hand = time.perf_counter() - t
        e_uq, e_hand = min_ess(res.idata, names), min_ess(idata, names)
        rows.append((t_uq, t_hand, e_uq, e_hand))
        print(f"repeat {r}: uqbridge {t_uq:7.1f} s  min ESS {e_uq:7.0f}  ESS/s {e_uq / t_uq:7.1f}  "
              f"(gate {'passed' if res.passed else 'FAILED'})")
        print(f"          hand     {t_hand:7.1f} s  min ESS {e_hand:7.0f}  ESS/s {e_hand / t_hand:7.1f}")
    t_uq, t_hand, e_uq, e_hand = np.median(np.array(rows), axis=0)
    print(f"median time ratio uqbridge / hand-written: {t_uq / t_hand:.2f} (target <= 1.2)")
    print(f"median ESS/s ratio uqbridge / hand-written: {(e_uq / t_uq) / (e_hand / t_hand):.2f}")


if __name__ == "__main__":
    main()
