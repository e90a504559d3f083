"""Model runs needed for the epistemic share of variance to ±0.02 (95 %): nested MC vs pick-freeze vs PCE;
and the overhead of decompose on a cheap model.

Run: python benchmarks/lotv_cost.py            (both parts; ``--overhead`` for the second only)
Overhead (performance issue): decompose(pick_freeze) on borehole at n = 16 384 (65 536 runs) against the
bare NumPy model on the same number of points plus their sampling (unit design + inverse CDFs); target
≤ 10× (was ≈ 195× with per-replicate bootstrap intervals). Min/median/max over 5 seeds, warm (one call
before timing).
Criterion (the same for every estimator): the smallest budget on a doubling ladder at which the 95th
percentile of |share − reference| over 20 independent seeds is ≤ 0.02. References: Ishigami's
analytic S_x2 = 0.4424 (Sobol' & Levitan 1999); for the Kocks–Mecking flow stress a pick-freeze run
with n = 2^18 (its own 95 % interval is printed). Target (variance issue): pick-freeze or PCE
≥ 10× cheaper than nested.
"""

import sys
import time
import warnings

import numpy as np

import uqbridge as uq
from uqbridge.pce import fit_pce
from uqbridge.variance import decompose
from uqbridge_models.benchmark_functions import ishigami_reference

REPEATS = 20
TOL = 0.02


def share(ds, output):
    return float(ds["epistemic_share"].sel(output=output))


def pce_share(model, output, n, seed):
    pce = fit_pce(model, n_runs=n, rng=seed, outputs=[output])
    v = pce.conditional_variance(list(model.inputs.epistemic)).sel(output=output)
    return float(v / pce.variance().sel(output=output))


def runs_needed(estimate, ladder, truth):
    for budget, runs in ladder:
        errors = [abs(estimate(budget, seed) - truth) for seed in range(REPEATS)]
        p95 = float(np.quantile(errors, 0.95))
        if p95 <= TOL:
            return runs, p95
    return None, p95


def main() -> None:
    cases = []
    ishigami = uq.get_model("ishigami")
    cases.append(("ishigami", ishigami, "y", float(ishigami_reference()["S1"][1])))
    km = uq.get_model("kocks_mecking")
    ref = decompose(km, n=2**18, n_bootstrap=200, rng=0, outputs=["tau"]).sel(output="tau")
    print(f"Kocks–Mecking reference epistemic share of tau: {float(ref['epistemic_share']):.4f} "
          f"[{float(ref['epistemic_share_low']):.4f}, {float(ref['epistemic_share_high']):.4f}] (pick-freeze, n=2^18)")
    cases.append(("kocks_mecking", km, "tau", float(ref["epistemic_share"])))
    k_groups = 2  # default aleatory + epistemic groups: pick-freeze costs n (2 + 2)
    for name, model, out, truth in cases:
        print(f"\n{name} (output {out}): reference epistemic share {truth:.4f}")
        nested_ladder = [((2**k, 16), 2**k * 16) for k in range(4, 13)]
        nested = runs_needed(
            lambda b, s, model=model, out=out: share(decompose(model, method="nested", groups={"epistemic": list(model.inputs.epistemic)},
                                         n_outer=b[0], n_inner=b[1], n_bootstrap=10, rng=s, outputs=[out]), out),
            nested_ladder, truth)
        pf_ladder = [(2**k, 2**k * (2 + k_groups)) for k in range(6, 16)]
        pick = runs_needed(lambda b, s, model=model, out=out: share(decompose(model, n=b, n_bootstrap=10, rng=s, outputs=[out]), out), pf_ladder, truth)
        pce_ladder = [(n, n) for n in (20, 30, 40, 60, 80, 100, 150, 200, 300, 400)]
        pce = runs_needed(lambda b, s, model=model, out=out: pce_share(model, out, b, s), pce_ladder, truth)
        rows = [("nested MC (n_inner=16)", nested), ("pick-freeze (Janon/Jansen)", pick), ("PCE (LARS, auto degree)", pce)]
        for label, (runs, p95) in rows:
            shown = f"{runs:>8d}" if runs else "   > max"
            print(f"  {label:<32} runs {shown}   95th pct |error| {p95:.4f}")
        if nested[0]:
            for label, (runs, _) in rows[1:]:
                if runs:
                    print(f"  nested / {label.split(' ')[0]}: {nested[0] / runs:.1f}x")


def overhead(seeds: int = 5, n: int = 16_384) -> None:
    model = uq.get_model("borehole")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        decompose(model, n=1024, rng=0)  # warm: imports, caches
        ratios, walls, bares = [], [], []
        for seed in range(seeds):
            t = time.perf_counter()
            ds = decompose(model, n=n, rng=seed)
            wall = time.perf_counter() - t
            runs = int(ds.attrs["n_runs"])
            t = time.perf_counter()
            u = np.random.default_rng(seed).random((runs, model.inputs.dimension))
            model.function(**model.inputs.from_unit(u))
            bare = time.perf_counter() - t
            walls.append(wall)
            bares.append(bare)
            ratios.append(wall / bare)
    fmt = lambda v: f"{min(v):.3g} / {float(np.median(v)):.3g} / {max(v):.3g}"  # noqa: E731
    print(f"\ndecompose(pick_freeze) on borehole, n = {n} ({runs} runs), min / median / max over {seeds} seeds:")
    print(f"  decompose wall [s]          {fmt(walls)}")
    print(f"  bare model + sampling [s]   {fmt(bares)}")
    print(f"  ratio (target <= 10)        {fmt(ratios)}")


if __name__ == "__main__":
    if "--overhead" not in sys.argv:
        main()
    overhead()
