"""Stopping at a target accuracy (issue #30, item 7): runs needed and honesty of the stop, over seeds.

For each case, over seeds 0..S-1: the runs (samples) spent, the achieved CoV, whether the target was met,
the error |estimate - reference| in units of the reported standard error (|z|; an honest error keeps
about 95 % of |z| below 2), and the mean of estimate/reference with its standard error (the bias of
stopping on an estimated CoV). References: Pf = Phi(-beta) of the linear limit state (Hasofer & Lind 1974);
the Ishigami mean a/2 = 3.5 (Sobol' & Levitan 1999).

Run: nice -n 5 python benchmarks/target_cov.py [--seeds 20]   (a few seconds of CPU at 20 seeds, ~1 min at 200)
"""

from __future__ import annotations

import argparse
import time
import warnings

import numpy as np

import uqbridge as uq
from uqbridge.reliability import monte_carlo, subset_simulation
from uqbridge.reliability.problems import linear


def _row(name: str, runs: list[int], cov: list[float], met: list[bool], z: list[float], cpu: float,
         ratio: list[float]) -> str:
    r, c, a, q = np.array(runs), np.array(cov), np.abs(z), np.array(ratio)
    return (f"{name:<44} runs {r.min():>7} / {int(np.median(r)):>7} / {r.max():>7}   CoV {c.min():.3f} / "
            f"{np.median(c):.3f} / {c.max():.3f}   met {sum(met)}/{len(met)}   |z|<2 {np.mean(a < 2):.0%}   "
            f"max|z| {a.max():.2f}   mean/ref {q.mean():.3f} ± {q.std(ddof=1) / np.sqrt(q.size):.3f}   cpu {cpu:.1f}s")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seeds", type=int, default=20)
    seeds = range(parser.parse_args().seeds)
    warnings.simplefilter("ignore")
    p = linear(2.5)
    cases = {
        "monte_carlo mc, beta 2.5, target 0.1": lambda s: monte_carlo(p.limit_state, target_cov=0.1, batch=1000, rng=s),
        "monte_carlo sobol, beta 2.5, target 0.1":
            lambda s: monte_carlo(p.limit_state, target_cov=0.1, batch=1000, design="sobol", rng=s),
        "monte_carlo mc, beta 2.5, target 0.3": lambda s: monte_carlo(p.limit_state, target_cov=0.3, batch=200, rng=s),
        "subset N=500, beta 2.5, target 0.1":
            lambda s: subset_simulation(p.limit_state, n_per_level=500, target_cov=0.1, rng=s),
    }
    print("min / median / max over", len(seeds), "seeds")
    for name, run in cases.items():
        start = time.process_time()
        out = [run(s) for s in seeds]
        cpu = time.process_time() - start
        print(_row(name, [int(r.n_runs) for r in out], [float(r.cov) for r in out],
                   [bool(r.attrs["target_met"]) for r in out],
                   [(float(r.pf) - p.pf) / float(r.pf_se) for r in out], cpu, [float(r.pf) / p.pf for r in out]))
    model = uq.get_model("ishigami")
    for design in ("mc", "sobol", "lhs"):
        start = time.process_time()
        out = [uq.propagate(model, 2**20, design=design, target_cov=0.005, rng=s) for s in seeds]
        cpu = time.process_time() - start
        means = [float(d["mean"][0]) for d in out]
        ses = [float(d["mean_se"][0]) for d in out]
        print(_row(f"propagate ishigami {design}, target 0.005", [d.attrs["n_samples"] for d in out],
                   [se / abs(m) for se, m in zip(ses, means)], [bool(d.attrs["target_met"]) for d in out],
                   [(m - 3.5) / se for m, se in zip(means, ses)], cpu, [m / 3.5 for m in means]))


if __name__ == "__main__":
    main()
