"""Reliability methods on published benchmark problems: share of answers within 10 % of the reference
Pf, and share of the misses that the method flags itself (``reliable = 0`` with a reason).

    python benchmarks/reliability_problems.py [--seeds 2] [--full]

Problems: ``uqbridge.reliability.problems.rprepo_collection`` — 20 problems of the RPrepo set of the
Black-box reliability challenge 2019 (Rozsas & Slobbe 2019; 2–20 inputs, Pf 0.56 … 1.5e-7, published
reference Pf) plus the four-branch system (Waarts 2000). ``--full`` adds RP63 (100 inputs), the
subset simulation and more seeds.

Methods at these settings: FORM (defaults, with its checks), SORM (Tvedt at FORM's point),
importance sampling (n = 2000 at FORM's design points, adaptive), subset simulation (N = 2000 per
level, p0 = 0.1), and ``recommended`` (FORM as a guide, AK-MCS for d ≤ 10, else IS with FORM control variates to
CoV 0.03, else subset; ≤ 5 000 runs). Targets (issues 23, 29): ≥ 90 % within 10 % for
``recommended`` with every miss flagged and a median ≤ 1 000 runs; 100 % of the other methods'
misses flagged.
"""

from __future__ import annotations

import argparse
import time

import numpy as np

from uqbridge.reliability import (
    form,
    importance_sampling,
    recommended,
    sorm,
    subset_simulation,
)
from uqbridge.reliability.problems import rprepo_collection


def run(problem, seed: int, with_subset: bool, only_recommended: bool = False) -> dict:
    ls = problem.limit_state
    out = {}
    if only_recommended:
        return {"recommended": recommended(ls, rng=seed)}
    f = form(ls, rng=seed)
    out["FORM"] = f
    out["SORM"] = sorm(ls, form_result=f)
    out["IS n=2000"] = importance_sampling(ls, form_result=f, n=2000, rng=seed)
    if with_subset:
        out["subset N=2000"] = subset_simulation(ls, n_per_level=2000, rng=seed)
    out["recommended"] = recommended(ls, rng=seed)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=None, help="seeds per sampling method (default 1, --full 3)")
    parser.add_argument("--full", action="store_true")
    parser.add_argument("--recommended-only", action="store_true", help="run recommended() alone (issue 29's figures)")
    args = parser.parse_args()
    seeds = args.seeds or (3 if args.full else 1)
    problems = rprepo_collection(full=args.full)
    tally: dict[str, list[tuple[bool, bool]]] = {}
    runs: dict[str, list[int]] = {}
    started = time.perf_counter()
    print(f"{'problem':<18} {'Pf ref':>10}  " + "  ".join(f"{m:>22}" for m in ("FORM", "SORM", "IS n=2000", "recommended")))
    for p in problems:
        cells = {}
        for seed in range(seeds):
            res = run(p, seed, args.full, args.recommended_only)
            for name, r in res.items():
                err = float(r.pf) / p.pf - 1
                ok = abs(err) <= 0.10
                flagged = not r.attrs["reliable"]
                tally.setdefault(name, []).append((ok, flagged))
                runs.setdefault(name, []).append(int(r.n_runs))
                if seed == 0:
                    tag = "" if ok else ("  flagged" if flagged else "  MISS!")
                    cells[name] = f"{100 * err:+7.1f}% {int(r.n_runs):>6}{tag:>9}"
        shown = ("recommended",) if args.recommended_only else ("FORM", "SORM", "IS n=2000", "recommended")
        print(f"{p.name:<18} {p.pf:>10.3g}  " + "  ".join(f"{cells[m]:>22}" for m in shown), flush=True)
    print(f"\n(cells: error vs reference, model runs; seed 0) — {len(problems)} problems, {seeds} seed(s), "
          f"{time.perf_counter() - started:.0f} s under load")
    print(f"\n{'method':<16} {'within 10 %':>12} {'misses':>7} {'misses flagged':>15} {'unflagged misses':>17} {'runs min/median/max':>22}")
    for name, rows in tally.items():
        n = len(rows)
        within = sum(ok for ok, _ in rows)
        misses = [fl for ok, fl in rows if not ok]
        flagged = sum(misses)
        share = f"{100 * flagged / len(misses):.0f} %" if misses else "—"
        print(f"{name:<16} {within:>5}/{n:<3} {100 * within / n:>3.0f}% {len(misses):>7} {share:>15} {len(misses) - flagged:>17} "
              f"{min(runs[name]):>6}/{int(np.median(runs[name]))}/{max(runs[name])}")


if __name__ == "__main__":
    main()
