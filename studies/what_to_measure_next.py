"""What to measure next: value of information per scale for the main chain (atoms → strut) and the forming chain.

For each candidate measurement (which stage output, noise, replicates) or "learn a scale exactly", the
expected reduction of the macro margin's variance and of the epistemic spread of Pf(margin < 0), with its
Monte Carlo error, ranked by reduction per cost (:func:`uqbridge.chains.voi.value_of_information`).
On the main chain the EMT stage (~70 ms a run) is replaced by its polynomial-chaos stage surrogate
(:func:`uqbridge.chains.surrogate_stage`, held-out error reported) so that the preposterior analysis can
afford 10⁵ chain runs.

Costs are ASSUMPTIONS (rule of thumb, in lab-days; stated in COSTS below and in the output). The
preposterior analysis assumes the measured quantity is the chain's own prediction plus Gaussian noise
(no model discrepancy: EMT's C44 is ~10 % high, so a real C44 measurement would also inform a discrepancy
term, which the chain does not carry yet).

Writes ``results/what_to_measure_next/`` (netCDF datasets ``value_of_information_*.nc``, the tables as
CSV, and ``summary.md``). Run: python studies/what_to_measure_next.py [--quick]
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np
import xarray as xr

import uqbridge as uq
from uqbridge.chains import surrogate_stage
from uqbridge.chains.voi import Experiment, value_of_information

#: Assumed costs (lab-days, rule of thumb) of each option; the ranking is per unit of these.
COSTS = {
    "C44 at 4 K, single-crystal ultrasound ±2 %, 3 specimens": 5.0,
    "bulk modulus at 4 K ±1 %, 2 specimens": 4.0,
    "C44 at 300 K, single-crystal ultrasound ±1 %, 3 specimens": 3.0,
    "0→300 K softening factor ±0.05, 2 runs": 3.0,
    "polycrystal E at 300 K, resonance ±1 %, 5 specimens": 1.0,
    "learn atomistic inputs exactly": 30.0,
    "learn crystal (thermal) factor exactly": 10.0,
}
FORMING_COSTS = {
    "single-crystal saturation stress tau_sat ±5 %, 3 specimens": 4.0,
    "Taylor factor M from EBSD texture ±0.03, 1 scan": 1.0,
    "polycrystal saturation stress sigma_sat ±3 %, 3 specimens": 2.0,
    "learn dislocation inputs exactly": 20.0,
    "learn single-crystal inputs exactly": 20.0,
    "learn polycrystal inputs exactly": 10.0,
}


def main_chain_options() -> list[Experiment]:
    c = COSTS
    return [
        Experiment(k := "C44 at 4 K, single-crystal ultrasound ±2 %, 3 specimens", c[k], measure="C44", noise_cv=0.02, replicates=3),
        Experiment(k := "bulk modulus at 4 K ±1 %, 2 specimens", c[k], measure="bulk_modulus", noise_cv=0.01, replicates=2),
        Experiment(k := "C44 at 300 K, single-crystal ultrasound ±1 %, 3 specimens", c[k], measure="C44_rt", noise_cv=0.01, replicates=3),
        Experiment(k := "0→300 K softening factor ±0.05, 2 runs", c[k], measure="thermal_factor", noise_sd=0.05, replicates=2),
        Experiment(k := "polycrystal E at 300 K, resonance ±1 %, 5 specimens", c[k], measure="E", noise_cv=0.01, replicates=5),
        Experiment(k := "learn atomistic inputs exactly", c[k], scale="atomistic"),
        Experiment(k := "learn crystal (thermal) factor exactly", c[k], scale="crystal"),
    ]


def forming_options() -> list[Experiment]:
    c = FORMING_COSTS
    return [
        Experiment(k := "single-crystal saturation stress tau_sat ±5 %, 3 specimens", c[k], measure="tau_sat", noise_cv=0.05, replicates=3),
        Experiment(k := "Taylor factor M from EBSD texture ±0.03, 1 scan", c[k], measure="M", noise_sd=0.03),
        Experiment(k := "polycrystal saturation stress sigma_sat ±3 %, 3 specimens", c[k], measure="sigma_sat", noise_cv=0.03, replicates=3),
        Experiment(k := "learn dislocation inputs exactly", c[k], scale="dislocation"),
        Experiment(k := "learn single-crystal inputs exactly", c[k], scale="single_crystal"),
        Experiment(k := "learn polycrystal inputs exactly", c[k], scale="polycrystal"),
    ]


def _table(ds: xr.Dataset) -> str:
    unit = ds.attrs["quantity"]
    lines = [f"Quantity: {unit}; now {ds.attrs['baseline']:.4g} (reducible by epistemic knowledge: {ds.attrs['reducible']:.4g}).",
             "", "| rank | option | scale | cost (lab-days, assumed) | expected reduction ± MC se | expected after | reduction / cost | P(best) | ESS |",
             "|---|---|---|---|---|---|---|---|---|"]
    for k, o in enumerate(ds.option.values):
        r = ds.sel(option=o)
        ess = "" if not np.isfinite(r["ess_median"]) else f"{float(r['ess_median']):.0f}"
        lines.append(
            f"| {k + 1} | {o} | {str(r['scale'].values)} | {float(r['cost']):g} | {float(r['expected_reduction']):.3g} ± "
            f"{float(r['expected_reduction_se']):.2g} | {float(r['expected_after']):.4g} | {float(r['reduction_per_cost']):.3g} | "
            f"{float(r['p_best']):.2f} | {ess} |"
        )
    return "\n".join(lines)


def main(quick: bool = False, out: str = "results/what_to_measure_next", seed: int = 2026) -> dict:
    from uqbridge_models.chains import chain_atoms_to_strut, chain_dislocations_to_forming

    start = time.perf_counter()
    root = Path(out)
    root.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    sur_rng, main_rng, pf_rng, form_rng, form_pf_rng = rng.spawn(5)
    budget = dict(n_prior=1000, n_inner=16, n_data=200, n_bootstrap=30) if quick else dict(
        n_prior=4000, n_inner=32, n_data=500, n_bootstrap=60)
    results: dict[str, xr.Dataset] = {}
    sections = []

    g = chain_atoms_to_strut()
    n_train = 60 if quick else 200
    t0 = time.perf_counter()
    fast = surrogate_stage(g, "atomistic", n_train=n_train, n_test=n_train // 2, rng=sur_rng)
    t_sur = time.perf_counter() - t0
    held = fast.surrogate_reports[-1]["holdout_relative_rmse"]
    note = (f"EMT stage replaced by a PCE fitted on {n_train} true runs ({t_sur:.0f} s incl. {n_train // 2} held-out runs); "
            f"held-out relative RMSE of margin {float(held.sel(output='margin')):.2g}, of C44 {float(held.sel(output='C44')):.2g}")
    skipped = []
    for name, quantity, r in (("main_variance", "variance", main_rng), ("main_pf", "pf", pf_rng)):
        try:
            ds = value_of_information(fast, main_chain_options(), output="margin", quantity=quantity, threshold=0.0, rng=r, **budget)
        except ValueError as err:  # Pf of the main chain is ~1e-4: the indicator kernel cannot resolve its spread
            skipped.append(f"chain_atoms_to_strut, {quantity}: not ranked ({err})")
            continue
        ds.attrs["surrogate"] = note
        ds.attrs["costs"] = "assumed lab-days (rule of thumb), see studies/what_to_measure_next.py COSTS"
        results[name] = ds
        sections.append((f"chain_atoms_to_strut: {ds.attrs['quantity']}", ds))

    f = chain_dislocations_to_forming()
    for name, quantity, r in (("forming_variance", "variance", form_rng), ("forming_pf", "pf", form_pf_rng)):
        ds = value_of_information(f, forming_options(), output="margin", quantity=quantity, threshold=0.0, rng=r, **budget)
        ds.attrs["costs"] = "assumed lab-days (rule of thumb), see studies/what_to_measure_next.py FORMING_COSTS"
        results[name] = ds
        sections.append((f"chain_dislocations_to_forming: {ds.attrs['quantity']}", ds))

    for ds in results.values():
        best = ds.sel(option=ds.attrs["best"])
        ds.attrs.setdefault("headline_note", (
            f"What to measure next for {ds.attrs['quantity']}: {ds.attrs['best']} (expected reduction "
            f"{float(best['expected_reduction']):.3g} ± {float(best['expected_reduction_se']):.2g} of {ds.attrs['baseline']:.3g} "
            f"for an assumed cost of {float(best['cost']):g} lab-days; ranked first in {float(best['p_best']):.0%} of bootstrap replicates)"
        ))
    for name, ds in results.items():
        uq.save(ds, root / f"value_of_information_{name}.nc")
        ds.drop_vars([v for v in ds.data_vars if ds[v].dtype.kind in "OU"]).to_dataframe().to_csv(root / f"{name}.csv")
    text = ["# What to measure next", "", __doc__.split("\n\n")[2], "", note, "", *skipped, ""]
    for title, ds in sections:
        text += [f"## {title}", "", _table(ds), ""]
        if "pf" in ds.attrs:
            text += [f"Predictive Pf = {ds.attrs['pf']:.3g} (unchanged in expectation by any data; options narrow its spread).", ""]
        if "headline_note" in ds.attrs:
            text += [f"Note: {ds.attrs['headline_note']}", ""]
    text.append(f"Wall time {time.perf_counter() - start:.0f} s; seed {seed}; quick={quick}; budgets {budget}.")
    (root / "summary.md").write_text("\n".join(text))
    return results


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="reduced budgets")
    parser.add_argument("--out", default="results/what_to_measure_next")
    parser.add_argument("--seed", type=int, default=2026)
    args = parser.parse_args()
    res = main(quick=args.quick, out=args.out, seed=args.seed)
    print((Path(args.out) / "summary.md").read_text())
