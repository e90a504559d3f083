"""Reliability methods on published benchmark problems: share of answers within 10 % of the reference
Pf, and share of the misses that the method flags itself (``reliable = 0`` with a reason).

    python benchmarks/reliability_problems.py [--seeds 2] [--full]
    python benchmarks/reliability_problems.py --recommended-only --seeds 3 [--jobs 2] [--cpu-guard 300]

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

``--recommended-only`` prints one row per (problem, seed) with the method that answered and the CPU
seconds of the call (``time.process_time()``: comparable on a loaded machine, unlike wall time), then
CPU per call min/median/max. ``--cpu-guard S`` stops a call after S CPU seconds (SIGPROF timer) and
counts it as a miss that is not flagged (no answer). ``--jobs 2`` runs (problem, seed) pairs in two
processes.
"""

from __future__ import annotations

import argparse
import multiprocessing
import signal
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


def run(problem, seed: int, with_subset: bool) -> dict:
    ls = problem.limit_state
    out = {}
    f = form(ls, rng=seed)
    out["FORM"] = f
    out["SORM"] = sorm(ls, form_result=f)
    out["IS n=2000"] = importance_sampling(ls, form_result=f, n=2000, rng=seed)
    if with_subset:
        out["subset N=2000"] = subset_simulation(ls, n_per_level=2000, rng=seed)
    out["recommended"] = recommended(ls, rng=seed)
    return out


class _Guard(Exception):
    pass


def _on_guard(signum, frame):  # noqa: ARG001 - signal handler signature
    raise _Guard


def recommended_row(task: tuple[int, int, float, bool]) -> dict:
    """One ``recommended()`` call, timed in CPU seconds, stopped by the CPU guard (``0``: none)."""
    index, seed, guard, full = task
    p = rprepo_collection(full=full)[index]
    signal.signal(signal.SIGPROF, _on_guard)
    c0, w0 = time.process_time(), time.perf_counter()
    if guard:
        signal.setitimer(signal.ITIMER_PROF, guard)
    try:
        r = recommended(p.limit_state, rng=seed)
        row = {"pf": float(r.pf), "runs": int(r.n_runs), "reliable": bool(r.attrs["reliable"]),
               "method": r.attrs["recommended"], "steps": r.attrs["steps"]}
    except _Guard:
        row = {"pf": float("nan"), "runs": -1, "reliable": True, "method": f"CPU guard {guard:g} s", "steps": ""}
    finally:
        signal.setitimer(signal.ITIMER_PROF, 0)
    err = row["pf"] / p.pf - 1
    return {**row, "problem": p.name, "ref": p.pf, "seed": seed, "err": err, "ok": bool(abs(err) <= 0.10),
            "cpu": time.process_time() - c0, "wall": time.perf_counter() - w0}


def recommended_only(seeds: int, full: bool, jobs: int, guard: float, names: str = "") -> None:
    """Issue 29's figures: every (problem, seed) of ``recommended()``, then the tally."""
    collection = rprepo_collection(full=full)
    chosen = [i for i, p in enumerate(collection) if not names or p.name.split()[0].split("(")[0] in names.split(",")]
    n_problems = len(chosen)
    tasks = [(i, seed, guard, full) for i in chosen for seed in range(seeds)]
    started, c0 = time.perf_counter(), time.process_time()
    print(f"{'problem':<18} {'seed':>4} {'Pf ref':>10} {'Pf':>10} {'error':>8} {'runs':>6} {'cpu_s':>7} {'wall_s':>7} "
          f"{'reliable':>8}  method")
    rows = []
    with multiprocessing.Pool(jobs) if jobs > 1 else _Serial() as pool:
        for row in pool.imap(recommended_row, tasks):
            rows.append(row)
            tag = "" if row["ok"] else ("  flagged" if not row["reliable"] else "  MISS!")
            print(f"{row['problem']:<18} {row['seed']:>4} {row['ref']:>10.4g} {row['pf']:>10.4g} {100 * row['err']:+7.1f}% "
                  f"{row['runs']:>6} {row['cpu']:>7.1f} {row['wall']:>7.1f} {'yes' if row['reliable'] else 'no':>8}  "
                  f"{row['method']}{tag}", flush=True)
    n, within = len(rows), sum(r["ok"] for r in rows)
    misses = [r for r in rows if not r["ok"]]
    unflagged = [f"{r['problem']}/{r['seed']}" for r in misses if r["reliable"]]
    runs = [r["runs"] for r in rows if r["runs"] >= 0]
    cpu = np.array([r["cpu"] for r in rows])
    print(f"\nrecommended: {within}/{n} within 10 % ({100 * within / n:.0f} %), {len(misses)} misses, "
          f"{len(unflagged)} not flagged {unflagged}; runs min/median/max {min(runs)}/{int(np.median(runs))}/{max(runs)}; "
          f"CPU s per call min/median/max {cpu.min():.1f}/{np.median(cpu):.1f}/{cpu.max():.1f}")
    by_method: dict[str, int] = {}
    for r in rows:
        by_method[r["method"]] = by_method.get(r["method"], 0) + 1
    print(f"answered by: {by_method}; {n_problems} problems x {seeds} seeds, {jobs} process(es), wall "
          f"{time.perf_counter() - started:.0f} s, CPU of the calls {cpu.sum():.0f} s (this process {time.process_time() - c0:.0f} s)")


class _Serial:
    """``multiprocessing.Pool``'s ``imap`` in this process."""

    def __enter__(self) -> _Serial:
        return self

    def __exit__(self, *exc: object) -> None:
        return None

    def imap(self, function, tasks):
        return map(function, tasks)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=None, help="seeds per sampling method (default 1, --full 3)")
    parser.add_argument("--full", action="store_true")
    parser.add_argument("--recommended-only", action="store_true", help="run recommended() alone (issue 29's figures)")
    parser.add_argument("--problems", default="", help="comma-separated names for --recommended-only (default: all)")
    parser.add_argument("--jobs", type=int, default=1, help="processes for --recommended-only")
    parser.add_argument("--cpu-guard", type=float, default=0.0, help="CPU seconds per recommended() call (0: none)")
    args = parser.parse_args()
    seeds = args.seeds or (3 if args.full else 1)
    if args.recommended_only:
        recommended_only(seeds, args.full, args.jobs, args.cpu_guard, args.problems)
        return
    problems = rprepo_collection(full=args.full)
    tally: dict[str, list[tuple[bool, bool]]] = {}
    runs: dict[str, list[int]] = {}
    started = time.perf_counter()
    print(f"{'problem':<18} {'Pf ref':>10}  " + "  ".join(f"{m:>22}" for m in ("FORM", "SORM", "IS n=2000", "recommended")))
    for p in problems:
        cells = {}
        for seed in range(seeds):
            res = run(p, seed, args.full)
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
