"""AK-MCS at its defaults on the four-branch series system over seeds: error, model runs, wall and CPU
seconds per seed, then min/median/max (issue 19: within 3 % on 10 of 10 seeds, ≤ 150 runs, ≤ 30 s each).

    python benchmarks/active_learning.py [--seeds 10] [--full]

Problem: ``uqbridge.reliability.problems.four_branch(k)`` for k = 6 and 7 (Waarts 2000; Echard, Gayton &
Lemaire 2011), its reference Pf by 1-D quadrature (4.4573e-3 and 2.2228e-3). Settings: every default of
``active_learning`` except ``max_runs=150`` (the issue's budget). Peer: the published AK-MCS figures,
Echard et al. (2011) Tables 1 and 2 — 126 runs (k = 6) and 68 runs (k = 7) with 10⁶ crude-MC
candidates, one seed each (no wall time published).

CPU seconds are ``time.process_time()`` of this process (all its threads): on a shared machine they
measure the method, the wall seconds also measure the neighbours, so the load average is printed
beside them. ``--full`` runs 30 seeds.
"""

from __future__ import annotations

import argparse
import os
import time

import numpy as np

from uqbridge.reliability import active_learning
from uqbridge.reliability.problems import four_branch

PUBLISHED = {6: "126 runs, Pf 4.416e-3", 7: "68 runs, Pf 2.233e-3"}  # Echard et al. (2011) Tables 1, 2


def _spread(values: list[float], fmt: str) -> str:
    v = np.asarray(values, dtype=float)
    return "/".join(format(x, fmt) for x in (v.min(), np.median(v), v.max()))


def run(k: int, seeds: range) -> None:
    p = four_branch(k)
    print(f"\n{p.name}: reference Pf {p.pf:.4e} ({p.source}); published AK-MCS: {PUBLISHED[k]}")
    print(f"{'seed':>4} {'pf':>10} {'rel.err':>8} {'runs':>5} {'failed':>6} {'iter':>5} {'stage':>11} {'N cand':>7} "
          f"{'wall_s':>7} {'cpu_s':>6} {'load1':>6} {'reliable':>8}")
    errs, runs, walls, cpus, iters, rel = [], [], [], [], [], []
    for seed in seeds:
        w0, c0 = time.perf_counter(), time.process_time()
        r = active_learning(p.limit_state, max_runs=150, rng=seed)
        wall, cpu = time.perf_counter() - w0, time.process_time() - c0
        err = float(r.pf) / p.pf - 1
        errs.append(abs(err))
        runs.append(int(r.n_runs))
        walls.append(wall)
        cpus.append(cpu)
        iters.append(int(r.sizes["iteration"]))
        rel.append(int(r.attrs["reliable"]))
        print(f"{seed:>4} {float(r.pf):10.4e} {err:+8.4f} {int(r.n_runs):5d} {r.attrs['n_failed']:6d} {iters[-1]:5d} "
              f"{r.attrs['candidates_stage']:>11} {int(r.n_candidates):7d} {wall:7.2f} {cpu:6.2f} "
              f"{os.getloadavg()[0]:6.2f} {'yes' if rel[-1] else 'no':>8}"
              + ("" if rel[-1] else f"  ({r.attrs['reason'][:90]})"))
    n = len(errs)
    print(f"min/median/max: |rel.err| {_spread(errs, '.4f')}, runs {_spread(runs, '.0f')}, iterations "
          f"{_spread(iters, '.0f')}, wall s {_spread(walls, '.2f')}, CPU s {_spread(cpus, '.2f')}")
    print(f"within 3 %: {sum(e <= 0.03 for e in errs)}/{n}; <= 150 runs: {sum(r <= 150 for r in runs)}/{n}; "
          f"<= 30 s wall: {sum(w <= 30 for w in walls)}/{n}; reliable: {sum(rel)}/{n}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=10, help="seeds 0..n-1 per problem (>= 10 for worst cases)")
    parser.add_argument("--full", action="store_true", help="30 seeds")
    args = parser.parse_args()
    n_seeds = 30 if args.full else args.seeds
    print(f"AK-MCS defaults (max_runs=150), seeds 0..{n_seeds - 1}; {os.cpu_count()} CPUs, "
          f"load average at start {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    start_w, start_c = time.perf_counter(), time.process_time()
    for k in (6, 7):
        run(k, range(n_seeds))
    print(f"\ntotal: wall {time.perf_counter() - start_w:.1f} s, CPU {time.process_time() - start_c:.1f} s, "
          f"load average at end {' '.join(f'{x:.2f}' for x in os.getloadavg())}")


if __name__ == "__main__":
    main()
