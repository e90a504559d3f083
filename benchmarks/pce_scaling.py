"""Cost of the whole automatic ``fit_pce`` (degree / q-norm scan, screening, K-fold re-ranking) against n.

    python benchmarks/pce_scaling.py [--seeds 5] [--budgets 100,400,1600,6400] [--functions borehole,ishigami]

For each budget and seed: a scrambled Sobol design of ``n`` runs, ``fit_pce(model, samples=..., rng=seed)``
with its defaults, timed by CPU time (``time.process_time``, the machine is shared) and wall time, and the
relative RMSE ``sqrt(mean((y − ŷ)²) / var(y))`` on 10⁴ held-out Monte Carlo points. Prints min / median /
max over the seeds per budget and the growth exponent of the median CPU time (least-squares slope of
log CPU against log n over the budgets; target ≤ 1.3), and of the last step alone.

Functions: borehole (d = 8, Harper & Gupta 1983), Ishigami (d = 3, a = 7, b = 0.1).

To compare with another version of the code (e.g. the parent commit), run this script with that
version first on ``PYTHONPATH``; accuracy figures are deterministic per seed.
"""

from __future__ import annotations

import argparse
import math
import time

import numpy as np
import xarray as xr

from uqbridge.designs import unit_design
from uqbridge.pce import fit_pce
from uqbridge_models.benchmark_functions import borehole, ishigami


def _fmt(values) -> str:
    v = np.asarray(values, float)
    return f"{v.min():8.2e} {np.median(v):8.2e} {v.max():8.2e}"


def run(label: str, model, budgets: list[int], seeds: int) -> None:
    names = model.inputs.uncertain
    d = len(names)
    test = model.inputs.from_unit(np.random.default_rng(12345).random((10_000, d)))
    y_test = model(**test)["y"]
    print(f"\n{label} (d = {d})          CPU s (min / median / max) | wall s median | rRMSE (min / median / max)")
    med_cpu = []
    for n in budgets:
        cpu, wall, err = [], [], []
        for seed in range(seeds):
            values = model.inputs.from_unit(unit_design(n, d, "sobol", rng=seed))
            y = model(**values)["y"]
            ds = xr.Dataset({**{k: ("sample", values[k]) for k in names}, "y": ("sample", y)})
            c0, w0 = time.process_time(), time.perf_counter()
            p = fit_pce(model, samples=ds, rng=seed)
            cpu.append(time.process_time() - c0)
            wall.append(time.perf_counter() - w0)
            pred = p.model(**{k: test[k] for k in names})["y"]
            err.append(math.sqrt(np.mean((pred - y_test) ** 2) / np.var(y_test)))
        med_cpu.append(float(np.median(cpu)))
        print(f"  n = {n:>5}: {_fmt(cpu)} | {np.median(wall):8.2f} | {_fmt(err)}", flush=True)
    if len(budgets) > 1:
        slope = np.polyfit(np.log(budgets), np.log(med_cpu), 1)[0]
        last = math.log(med_cpu[-1] / med_cpu[-2]) / math.log(budgets[-1] / budgets[-2])
        print(f"  growth exponent of median CPU time: {slope:.2f} overall, {last:.2f} over the last step (target <= 1.3)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=5)
    parser.add_argument("--budgets", default="100,400,1600,6400")
    parser.add_argument("--functions", default="borehole")
    args = parser.parse_args()
    budgets = [int(b) for b in args.budgets.split(",")]
    models = {"borehole": borehole, "ishigami": ishigami}
    for name in args.functions.split(","):
        run(name, models[name](), budgets, args.seeds)


if __name__ == "__main__":
    main()
