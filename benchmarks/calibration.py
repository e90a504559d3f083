"""Calibration speed: ESS per second of ``uqbridge.calibration.calibrate`` with each sampler option, side by
side with a hand-written PyMC model of the same physics.

Run: python benchmarks/calibration.py [--full] [--case stress|stress+rho] [--repeats 1]

Case (issue 17): Kocks–Mecking / Taylor hardening, 4 specimens × 12 resolved shear strains, stress data
only (noise unknown), rho0 hierarchical per specimen — NUTS crawls along the alpha–k1–rho0 ridge there.
``--case stress+rho`` adds two dislocation densities per specimen (the issue-7 case).

Configurations: the hand-written PyMC model (PyMC's default NUTS, diagonal mass matrix); uqbridge with
``sampler="nutpie"`` and ``mass_matrix`` "diag" or "dense" (nutpie's low-rank modified mass matrix: the
whitening of the ridge); with ``--full`` also uqbridge with PyMC's default NUTS and with PyMC's dense
("adapt_full") mass matrix. Every uqbridge run includes its log-likelihood, posterior predictive and
both gates; nutpie's times include its numba compilation (reported separately too). Printed: wall time,
min bulk ESS over the parameters, ESS/s and the ratio to the hand-written model (the baseline).
The machine is shared: wall times are inflated; compare the ratios of one run.
Default: 500 draws + 500 tuning steps, 2 chains; --full: 1000 + 1000, 4 chains.
"""

from __future__ import annotations

import argparse
import time
import warnings

import arviz as az
import numpy as np
import pymc as pm
import pytensor.tensor as pt

from uqbridge.calibration import Adequacy, Sampling, build_model, calibrate
from uqbridge_models.kocks_mecking import kocks_mecking, synthetic_curves

warnings.filterwarnings("ignore")

TRUTH = {"tau0": 1.2, "alpha": 0.33, "k1": 1.7e8, "k2": 9.0}
RHO_NOISE = 1e13
NAMES = ["tau0", "alpha", "k1", "k2", "rho0", "sigma_tau"]


def hand_written(data, model, draws, tune, chains, seed):
    """The PyMC model a user would write by hand: same priors, vector rho0, same likelihood."""
    rho0_prior = model.inputs["rho0"].distribution
    prior = {n: model.inputs[n].distribution for n in ("tau0", "k1", "k2")}
    alpha_prior = model.inputs["alpha"].distribution
    mu, b = model.inputs["mu"].distribution.value, model.inputs["b"].distribution.value
    specimens, index = np.unique(data["specimen"], return_inverse=True)
    gamma = data["gamma"].to_numpy()
    tau = data["tau"].to_numpy()
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
        if "rho" in data:
            rho = data["rho"].to_numpy()
            has = np.isfinite(rho)
            pm.Normal("rho", (x * x)[has], RHO_NOISE, observed=rho[has])
        idata = pm.sample(draws=draws, tune=tune, chains=chains, cores=1, target_accept=0.9,
                          random_seed=seed, progressbar=False, compute_convergence_checks=False)
        pm.sample_posterior_predictive(idata, random_seed=seed, extend_inferencedata=True, progressbar=False)
    return idata


def min_ess(idata):
    ess = az.ess(idata.posterior[NAMES], method="bulk")
    return min(float(ess[n].min()) for n in NAMES)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--full", action="store_true", help="1000 + 1000 draws, 4 chains, PyMC configurations too")
    parser.add_argument("--case", choices=["stress", "stress+rho"], default="stress")
    parser.add_argument("--repeats", type=int, default=1)
    args = parser.parse_args()
    draws, tune, chains = (1000, 1000, 4) if args.full else (500, 500, 2)
    model = kocks_mecking()
    data, _ = synthetic_curves(TRUTH, rho_noise=RHO_NOISE, rng=7)
    noise = {"tau": "unknown"}
    if args.case == "stress":
        data = data.drop(columns="rho")
    else:
        noise["rho"] = ("known", RHO_NOISE)
    configs = [("uqbridge nutpie diag", {"sampler": "nutpie", "mass_matrix": "diag"}),
               ("uqbridge nutpie dense", {"sampler": "nutpie", "mass_matrix": "dense"})]
    if args.full:
        configs = [("uqbridge pymc diag", {}), ("uqbridge pymc dense", {"mass_matrix": "dense"})] + configs

    import nutpie

    t = time.perf_counter()
    nutpie.compile_pymc_model(build_model(model, data, noise=noise))
    compile_s = time.perf_counter() - t
    print(f"case {args.case}: {len(data)} rows; draws {draws}, tune {tune}, chains {chains}; "
          f"nutpie compilation alone {compile_s:.1f} s (under load)")
    rows: dict[str, list[tuple[float, float, int]]] = {}
    for r in range(args.repeats):
        t = time.perf_counter()
        idata = hand_written(data, model, draws, tune, chains, r)
        wall = time.perf_counter() - t
        rows.setdefault("hand-written PyMC", []).append((wall, min_ess(idata), int(idata.sample_stats.diverging.sum())))
        for label, options in configs:
            t = time.perf_counter()
            res = calibrate(model, data, noise=noise, sampling=Sampling(draws=draws, tune=tune, chains=chains, **options), rng=r,
                            adequacy=Adequacy(min_data_share=0))
            wall = time.perf_counter() - t
            rows.setdefault(label, []).append((wall, min_ess(res.idata), int(res.diagnostics["divergences"])))
    base = np.median([e / w for w, e, _ in rows["hand-written PyMC"]])
    print(f"{'configuration':<24} {'wall s':>8} {'min ESS':>8} {'ESS/s':>8} {'x hand':>7} {'diverg.':>8}")
    for label, values in rows.items():
        w, e, d = (np.median([v[k] for v in values]) for k in range(3))
        rate = np.median([v[1] / v[0] for v in values])
        print(f"{label:<24} {w:8.1f} {e:8.0f} {rate:8.2f} {rate / base:7.2f} {d:8.0f}")
    print("ESS/s of nutpie includes its compilation; without it add the compilation time back "
          f"({compile_s:.0f} s) to see the sampling-only rate.")


if __name__ == "__main__":
    main()
