"""Per-stage surrogate on the pores -> permeability -> part chain against plain Monte Carlo of the true chain.

Run: python benchmarks/chain_surrogate.py [--reference 3000 --n-train 100 --n-test 50 --seeds 10
     --variants iid,focus,enrich --n-add 25 --batches 4 --kind gp]
Case: models.resin_infusion (tabulated 128² Stokes cell at three local fibre fractions per sample). The
reference is plain Monte Carlo of the true chain (``--reference`` true-stage runs): Pf = P(gel_margin ≤ 0)
and the median / 95 % quantile of the fill time. The surrogate replaces the pore stage by a PCE fitted on
what the chain feeds it (``--n-train`` true-stage runs) and checked on ``--n-test`` held-out runs; the macro
estimate is 200 000 surrogate-chain runs plus the surrogate-error term measured on the held-out runs,
with the held-out runs drawn i.i.d. ("iid") or importance-resampled near the Pf threshold ("focus",
``surrogate_stage(focus=...)``; weighted, still unbiased), or ("enrich") a surrogate of family ``--kind``
enriched by up to ``--batches`` × ``--n-add`` true-stage runs where the surrogate chain may misclassify
gel_margin ≤ 0 (``surrogate_stage(enrich=...)``; the held-out runs then importance-resampled there, and
the error term's SE floor set by the error model checked on them).
Printed per seed: true-stage runs, the surrogate and corrected estimates with the error term and its SE,
and the difference to the reference in units of the combined standard error; then min/median/max over
seeds and the saving AT EQUAL STANDARD ERROR: the plain Monte Carlo true-chain runs that would give the
surrogate estimate's reported SE (Pf: pf(1 − pf)/se²; q95: 0.95·0.05/se_F², se_F the SE of the CDF level
at the quantile, surrogate sampling and error term together) divided by the surrogate's true-stage runs. Wall times are under load (shared machine) and only indicative.

Measured (`python benchmarks/chain_surrogate.py --reference 40000 --seeds 5 --variants enrich,iid --n-train 60
--n-test 50 --n-add 25 --batches 4 --kind gp`; reference Pf = 0.0428 ± 0.0010, q95 3.757 h): enrich (GP, 135
true-stage runs: every seed stopped after one batch of 25) Pf |z| ≤ 0.56 and q95 |z| ≤ 0.62 on 5/5 seeds,
saving at equal SE Pf 1465 / 1475 / 1481x (min / median / max; the ceiling n_macro / runs), q95 60 / 116 / 339x;
iid (PCE, 110 runs) Pf 12 / 19 / 46x, q95 12 / 19 / 42x. CPU 231 s for the whole command.
"""

from __future__ import annotations

import argparse
import time

import numpy as np

import uqbridge as uq
from uqbridge.chains.stage_surrogate import macro_estimate, surrogate_stage
from uqbridge_models.resin_infusion import resin_infusion


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--reference", type=int, default=3000)
    p.add_argument("--n-train", type=int, default=100)
    p.add_argument("--n-test", type=int, default=50)
    p.add_argument("--seeds", type=int, default=10)
    p.add_argument("--n-macro", type=int, default=200_000)
    p.add_argument("--variants", default="iid,focus,enrich", help="comma-separated: iid, focus, enrich")
    p.add_argument("--n-add", type=int, default=25, help="enrich: true-stage runs per batch")
    p.add_argument("--batches", type=int, default=4, help="enrich: batches at most")
    p.add_argument("--kind", default="gp", help="enrich: surrogate family (pce, gp, auto)")
    args = p.parse_args()
    g = resin_infusion("cell")
    t0 = time.perf_counter()
    ref = uq.propagate(g, args.reference, design="mc", rng=12345)
    t_ref = time.perf_counter() - t0
    ok = ref["status"].values == 0
    margin, t_fill = ref["gel_margin"].values[ok], ref["t_fill"].values[ok]
    n_ref = int(ok.sum())
    pf_ref = float((margin <= 0).mean())
    se_ref = float(np.sqrt(pf_ref * (1 - pf_ref) / n_ref))
    q_ref = np.quantile(t_fill, [0.5, 0.95])
    # distribution-free 95 % order-statistic intervals of the reference quantiles
    q_int = []
    srt = np.sort(t_fill)
    for q in (0.5, 0.95):
        half = 1.96 * np.sqrt(n_ref * q * (1 - q))
        q_int.append((srt[max(int(n_ref * q - half), 0)], srt[min(int(n_ref * q + half), n_ref - 1)]))
    print(f"reference: plain Monte Carlo of the true chain, {n_ref} true-stage runs ({3 * n_ref} Stokes cell solves), "
          f"{t_ref:.0f} s under load")
    print(f"  Pf = {pf_ref:.4f} ± {se_ref:.4f};  t_fill median {q_ref[0] / 3600:.3f} h "
          f"[{q_int[0][0] / 3600:.3f}, {q_int[0][1] / 3600:.3f}], q95 {q_ref[1] / 3600:.3f} h "
          f"[{q_int[1][0] / 3600:.3f}, {q_int[1][1] / 3600:.3f}]")
    print()
    print("held-out  seed  runs  holdout_relRMSE(margin)  Pf_sur   δPf(±se)          Pf        ±se     z_Pf   q95_h  [interval]       z_q95   wall_s")
    for holdout in args.variants.split(","):
        _variant(g, args, holdout, pf_ref, se_ref, q_ref, q_int, n_ref)


def _variant(g, args, holdout, pf_ref, se_ref, q_ref, q_int, n_ref):
    zs, zq, runs, ses, eq_pf, eq_q = [], [], [], [], [], []
    focus = {"output": "gel_margin", "threshold": 0.0} if holdout == "focus" else None
    enrich = ({"output": "gel_margin", "threshold": 0.0, "n_add": args.n_add, "batches": args.batches}
              if holdout == "enrich" else None)
    kind = args.kind if holdout == "enrich" else "pce"
    for seed in range(args.seeds):
        t0 = time.perf_counter()
        s = surrogate_stage(g, "pores", n_train=args.n_train, n_test=args.n_test, focus=focus, enrich=enrich, kind=kind,
                            rng=seed)
        rep = s.surrogate_reports[-1]
        est = macro_estimate(s, "gel_margin", n=args.n_macro, threshold=0.0, failure="below", rng=1000 + seed)
        qt = macro_estimate(s, "t_fill", n=args.n_macro, quantiles=[0.5, 0.95], rng=2000 + seed)
        wall = time.perf_counter() - t0
        n_runs = int(rep.attrs["true_stage_runs"])
        se = float(np.hypot(float(est["pf_se"]), se_ref))
        z = (float(est["pf"]) - pf_ref) / se
        lo, hi = float(qt["quantile_low"][1]), float(qt["quantile_high"][1])
        q95 = float(qt["quantile_value"][1])
        # combined half-width of the two 95 % intervals, as a standard error
        se_q = np.hypot((hi - lo) / 3.92, (q_int[1][1] - q_int[1][0]) / 3.92)
        zq95 = (q95 - q_ref[1]) / se_q
        zs.append(z)
        zq.append(zq95)
        runs.append(n_runs)
        ses.append(float(est["pf_se"]))
        pf = min(max(float(est["pf"]), 1.0 / n_ref), 1 - 1.0 / n_ref)
        eq_pf.append(pf * (1 - pf) / float(est["pf_se"]) ** 2 / n_runs)
        se_f = float(np.hypot(np.sqrt(0.95 * 0.05 / args.n_macro), float(qt["quantile_cdf_error_se"][1])))
        eq_q.append(0.95 * 0.05 / se_f**2 / n_runs)
        print(f"{holdout:>8}  {seed:4d}  {n_runs:4d}  {float(rep['holdout_relative_rmse'].sel(output='gel_margin')):22.4f}  "
              f"{float(est['pf_surrogate']):.4f}  {float(est['pf_surrogate_error']):+.4f}(±{float(est['pf_surrogate_error_se']):.4f})  "
              f"{float(est['pf']):.4f}  {float(est['pf_se']):.4f}  {z:+5.2f}   {q95 / 3600:.3f}  [{lo / 3600:.3f}, {hi / 3600:.3f}]  "
              f"{zq95:+5.2f}  {wall:6.1f}")
    zs, zq = np.abs(zs), np.abs(zq)
    print()
    print(f"[{holdout}] true-stage runs: reference {n_ref} vs surrogate {int(np.median(runs))} per seed -> ratio {n_ref / np.median(runs):.1f}x;"
          f" reported Pf se: median {np.median(ses):.4f} (reference {se_ref:.4f})")
    print(f"saving at equal SE (plain MC true-chain runs for the same SE / surrogate true-stage runs): "
          f"Pf min {min(eq_pf):.1f}x median {np.median(eq_pf):.1f}x max {max(eq_pf):.1f}x; "
          f"q95 min {min(eq_q):.1f}x median {np.median(eq_q):.1f}x max {max(eq_q):.1f}x")
    print(f"|z| of Pf vs reference over {args.seeds} seeds: min {zs.min():.2f}  median {np.median(zs):.2f}  max {zs.max():.2f}"
          f"  (within 2: {int((zs <= 2).sum())}/{args.seeds})")
    print(f"|z| of t_fill q95 vs reference:            min {zq.min():.2f}  median {np.median(zq):.2f}  max {zq.max():.2f}"
          f"  (within 2: {int((zq <= 2).sum())}/{args.seeds})")
    print()


if __name__ == "__main__":
    main()
