"""Cross-scale calibration of the dislocations → forming chain, checked on polycrystal data it never saw.

1. Calibrate the micro parameters (Kocks–Mecking k1, k2; Taylor relation tau0, alpha; per-specimen
   initial density) with NUTS on the differentiable dislocation + single-crystal stages, from Takeuchi's
   (1975) Cu single crystals ([001], [111]; resolved with the Schmid factors 0.408 and 0.272, strains
   below 2 % dropped — the same conversion as studies/calibration_hardening.py). The misfit scale
   sigma_tau is calibrated too.
2. Push the posterior through the whole chain (joint draws keep the correlations); predict the
   polycrystal true stress at the strains of a published curve of annealed polycrystalline Cu
   (Callister 2005, models/data/cu_polycrystal_callister2005.csv) that was NOT used for fitting; the
   94 % predictive band includes the misfit (M · sigma_tau). Report its coverage of the curve, and
   the predicted uniform elongation and UTS against the published n = 0.44 and ~220 MPa.
3. Pf of the forming step (eps_form ~ Normal(0.15, 0.03)) and the per-scale variance split of the
   margin before (prior) and after calibration.

Run: python studies/calibration_forming.py [--quick]   (writes results/calibration_forming/)
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np
import pandas as pd

import uqbridge as uq
from uqbridge.calibration import Thresholds, calibrate
from uqbridge_models.chains import chain_dislocations_to_forming, single_crystal_chain

HERE = Path(__file__).resolve().parent
TAKEUCHI = HERE / "data" / "cu_single_crystal_tension_takeuchi1975.csv"
CALLISTER = HERE.parent / "models" / "data" / "cu_polycrystal_callister2005.csv"
SCHMID = {"001": 0.408, "111": 0.272}
MICRO = ("k1", "k2", "tau0", "alpha")
#: Engineering UTS of annealed C11000 copper, ~220 MPa (ASM Handbook vol. 2, 1990, wrought coppers).
UTS_ANNEALED_CU = 220.0


def takeuchi() -> pd.DataFrame:
    """Resolved shear stress (MPa) vs resolved shear strain, one specimen per tensile axis."""
    raw = pd.read_csv(TAKEUCHI, comment="#", dtype={"axis": str})
    raw = raw[raw["strain_percent"] >= 2.0]
    m = raw["axis"].map(SCHMID)
    return pd.DataFrame({"specimen": "Cu[" + raw["axis"] + "]", "gamma": raw["strain_percent"] / 100 / m,
                         "tau": raw["stress_MPa"] * m}).reset_index(drop=True)


def flat(post, name: str) -> np.ndarray:
    return np.asarray(post[name].stack(_s=("chain", "draw")).values)


def predictive_band(model, strains, misfit, n, rng, prob=0.94):
    """Polycrystal true stress at each strain: draws of the chain + the calibrated misfit, scaled by M."""
    x = uq.sample_inputs(model.inputs, n, "mc", rng=rng)
    noise = misfit[rng.integers(0, misfit.size, n)] * rng.normal(size=n)
    q = [(1 - prob) / 2, 1 - (1 - prob) / 2]
    rows = []
    for eps in strains:
        s = model(**{**x, "eps": np.full(n, eps)})["sigma"] + x["M"] * noise
        lo, hi = np.quantile(s, q)
        rows.append({"true_strain": eps, "low": lo, "median": float(np.median(s)), "high": hi})
    return pd.DataFrame(rows)


def main(quick: bool = False, out: str = "results/calibration_forming", seed: int = 2026) -> dict:
    from uqbridge.report.html import HtmlReport

    start = time.perf_counter()
    folder = Path(out)
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    budget = {"draws": 300, "tune": 300, "chains": 2} if quick else {"draws": 1000, "tune": 1000, "chains": 4}
    n = 4000 if quick else 40000

    data = takeuchi()
    print(f"[1/3] NUTS on the single-crystal stages, {len(data)} Takeuchi points ...")
    res = calibrate(single_crystal_chain(), data, outputs=["tau"], noise="unknown", rng=seed,
                    thresholds=Thresholds(ess=100 if quick else 400), **budget)
    post = res.idata.posterior
    rhat = res.diagnostics["rhat"].to_series()
    table = pd.DataFrame({v: {"mean": float(post[v].mean()), "sd": float(post[v].std())}
                          for v in (*MICRO, "sigma_tau")}).T
    print(table.to_string())

    print("[2/3] posterior through the chain; held-out polycrystal check ...")
    prior = chain_dislocations_to_forming()
    after = prior.with_joint_samples({k: flat(post, k) for k in MICRO})
    published = pd.read_csv(CALLISTER, comment="#")
    band = predictive_band(after, published["true_strain"].to_numpy(), flat(post, "sigma_tau"), n, rng)
    band["published"] = published["true_stress_MPa"].to_numpy()
    band["covered"] = (band["low"] <= band["published"]) & (band["published"] <= band["high"])
    coverage = float(band["covered"].mean())
    bias = float(np.median(band["median"] / band["published"] - 1))
    print(band.round({"true_strain": 2, "low": 1, "median": 1, "high": 1}).to_string(index=False))
    print(f"coverage of the published curve by the 94 % band: {coverage:.2f}; median bias {bias:+.1%}")

    print("[3/3] Pf of the forming step and per-scale split, before and after ...")
    summary_rows, splits = {}, {}
    for label, model in (("before (prior)", prior), ("after (calibrated)", after)):
        ds = uq.propagate(model, n, rng=rng)
        margin = ds["margin"].values
        pf = float(np.mean(margin <= 0))
        summary_rows[label] = {
            "Pf": pf, "Pf_se": float(np.sqrt(pf * (1 - pf) / margin.size)),
            "eps_u median": float(np.median(ds["eps_u"])), "UTS median [MPa]": float(np.median(ds["uts"])),
        }
        # the posterior correlates k1, k2 (dislocation) with tau0, alpha (single crystal): one group for
        # the jointly calibrated block, the same groups before and after
        groups = {"micro (k1, k2, tau0, alpha)": list(MICRO), "dislocation (rho0)": ["rho0"],
                  "polycrystal (M)": ["M"], "forming (eps_form)": ["eps_form"]}
        dec = uq.decompose(model, groups=groups, outputs=["margin"], n=n // 4, rng=rng).sel(output="margin")
        splits[label] = dec["explained_share"].to_series()
    before_after = pd.DataFrame(summary_rows).T
    print(before_after.to_string())

    report = HtmlReport("Cross-scale calibration: dislocations -> forming, checked on polycrystal Cu")
    report.paragraph(__doc__.split("\n\n")[1].replace("\n", " "))
    report.table(table, caption="Posterior of the micro parameters (NUTS, Takeuchi 1975 single crystals)")
    report.table(res.diagnostics.to_dataframe(), caption=f"Diagnostics (gate passed: {res.passed})")
    report.table(band, caption=(f"Held-out check: 94 % predictive band vs Callister (2005) annealed polycrystalline Cu; "
                                f"coverage {coverage:.2f}, median bias {bias:+.1%}"))
    report.paragraph(
        "A Taylor-scaled single-crystal law under-predicts the polycrystal: grain boundaries store extra "
        "dislocations (a 1/(b d) term Kocks-Mecking add for polycrystals) and the Kocks-Mecking law has no "
        f"stage IV. Published uniform elongation n = 0.44 and UTS ≈ {UTS_ANNEALED_CU:.0f} MPa: the chain is "
        "conservative (it under-predicts ductility), so its Pf over-states the forming risk.", note=True)
    report.table(before_after, caption="Forming step eps_form ~ N(0.15, 0.03): Pf and medians before / after the data")
    report.table(pd.DataFrame(splits), caption="Share of Var(margin) explained by each group (Var E[Y|G] / Var Y), before / after")
    report.provenance({"seed": seed, "quick": quick, "wall_time_s": round(time.perf_counter() - start, 1)})
    report.write(folder / "report.html")
    res.save(folder / "takeuchi_idata.nc")
    summary = {
        "passed": bool(res.passed), "rhat_max": float(rhat.max()), "coverage": coverage, "median_bias": bias,
        "pf_before": summary_rows["before (prior)"]["Pf"], "pf_after": summary_rows["after (calibrated)"]["Pf"],
        "eps_u_after": summary_rows["after (calibrated)"]["eps_u median"],
        "wall_time_s": time.perf_counter() - start,
    }
    (folder / "summary.json").write_text(json.dumps(summary, indent=2))
    print(f"wrote {folder}/ in {summary['wall_time_s']:.0f} s")
    return summary


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="reduced budgets")
    parser.add_argument("--out", default="results/calibration_forming")
    args = parser.parse_args()
    main(quick=args.quick, out=args.out)
