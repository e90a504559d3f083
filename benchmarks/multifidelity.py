"""Multi-fidelity estimation on shipped fidelity ladders vs plain Monte Carlo at equal cost, side by side with
PyApprox 2.0 (its MFMC/MLMC allocation and estimator) on the same pilot moments, costs and input stream.

Ladders (models/fidelity_ladders.py): the porous-diffusion cell problem at 64² / 32² / 16², output D_rel;
chain_atoms_to_strut with the true EMT stage vs its polynomial-chaos stage surrogate, output margin (kN).
Costs are measured wall times per run in the pilot. Per seed: predicted variance reduction (plain MC of
the high fidelity at the same cost ÷ the estimator's variance, from the pilot moments) for ours and
PyApprox's MFMC and MLMC, the estimates, and their z-score against a reference (pooled plain-MC runs).

Run: nice python3 benchmarks/multifidelity.py [--seeds 3] [--budget-hf 40] [--skip-chain]
"""

from __future__ import annotations

import argparse
import time

import numpy as np

from uqbridge.multifidelity import allocate, estimate, kernel_statistics


def _run(model, output, x):
    start = time.perf_counter()
    y = np.asarray(model(**{n: x[n] for n in model.inputs.names})[output], dtype=float)
    return y, time.perf_counter() - start


def _pyapprox(cov, costs, budget, cls_name):
    try:
        from pyapprox.statest import MFMCEstimator, MLMCEstimator, MultiOutputMean
        from pyapprox.statest.acv.allocation import default_allocator_factory
        from pyapprox.statest.acv.base import FittedACVEstimator
        from pyapprox.util.backends.numpy import NumpyBkd
    except ImportError:
        return None
    bkd = NumpyBkd()
    stat = MultiOutputMean(1, bkd)
    stat.set_pilot_quantities(bkd.array(cov))
    est = {"mfmc": MFMCEstimator, "mlmc": MLMCEstimator}[cls_name](stat, bkd.array(costs))
    alloc = default_allocator_factory(est).allocate(float(budget))
    if not alloc.success:
        return None
    return FittedACVEstimator(est, alloc)


def one_seed(models, output, budget_hf, seed, n_pilot):
    rng = np.random.default_rng(seed)
    pilot_rng, stream_rng = rng.spawn(2)
    inputs = models[0].inputs
    px = inputs.from_unit(pilot_rng.random((n_pilot, inputs.dimension)))
    pilot = [_run(m, output, px) for m in models]
    ys = np.column_stack([p[0] for p in pilot])
    costs = np.array([p[1] / n_pilot for p in pilot])
    budget = budget_hf * costs[0]
    stats = kernel_statistics(ys, "mean")
    row = {"costs": costs, "rho": np.corrcoef(ys, rowvar=False)[0]}
    stream_u = stream_rng.random((int(budget / costs.min()) + 10, inputs.dimension))

    def values_on(n):
        return inputs.from_unit(stream_u[:n])

    cache = {}

    def outputs_of(i, n):  # fidelity i on the first n rows of the stream (reused across estimators)
        have = cache.get(i)
        if have is None or have.size < n:
            cache[i] = _run(models[i], output, values_on(n))[0]
        return cache[i][:n]

    for method in ("mfmc", "acvmf", "mlmc"):
        a = allocate(stats, costs, budget, method=method)
        vals = [outputs_of(i, b)[lo:b] if b > lo else np.empty(0) for i, (lo, b) in enumerate(a.rows)]
        row[f"ours_{method}"] = (estimate(vals, a), np.sqrt(a.variance), a.mc_variance / a.variance, a.n_samples)
    row["mc"] = (float(np.mean(outputs_of(0, int(budget / costs[0])))), np.sqrt(stats.cov[0, 0] * costs[0] / budget))
    for name in ("mfmc", "mlmc"):
        fit = _pyapprox(stats.cov, costs, budget, name)
        if fit is None:
            row[f"pyapprox_{name}"] = None
            continue
        n_model = np.asarray(fit.nsamples_per_model(), dtype=int)
        # PyApprox arranges its own sample partitions; feed it rows of the same stream
        samples = fit.generate_samples_per_model(lambda n: stream_u[: int(n)].T)
        vals = []
        for i, s in enumerate(samples):
            x = inputs.from_unit(np.asarray(s).T)
            vals.append(_run(models[i], output, x)[0][None, :])
        var = float(np.asarray(fit.covariance())[0, 0])
        mc_var = stats.cov[0, 0] * costs[0] / budget
        row[f"pyapprox_{name}"] = (float(np.asarray(fit(vals))[0]), np.sqrt(var), mc_var / var, n_model)
    return row


def report(title, rows, reference):
    print(f"\n== {title}")
    print(f"cost per run (s, median over seeds): {np.median([r['costs'] for r in rows], axis=0).round(5).tolist()}")
    print(f"reference (pooled plain-MC runs of the high fidelity): {reference[0]:.5g} ± {reference[1]:.2g}")
    keys = ["ours_mfmc", "pyapprox_mfmc", "ours_acvmf", "ours_mlmc", "pyapprox_mlmc", "mc"]
    print("predicted variance reduction vs plain MC at equal cost (from the pilot moments), per seed;")
    print("'-' = PyApprox refused the allocation (e.g. MFMC: 'models do not admit a hierarchy')")
    print(f"{'seed':>4} {'pilot rho':>22} " + " ".join(f"{k:>14}" for k in keys[:-1]))
    for k, r in enumerate(rows):
        vr = ["-" if r.get(key) is None else f"{r[key][2]:.2f}" for key in keys[:-1]]
        print(f"{k:>4} {str(np.round(r['rho'], 4).tolist()):>22} " + " ".join(f"{v:>14}" for v in vr))
    print("estimates ± predicted se (|z| against the reference), and samples per fidelity, per seed:")
    for k, r in enumerate(rows):
        for key in keys:
            x = r.get(key)
            if x is None:
                continue
            z = abs(x[0] - reference[0]) / np.hypot(x[1], reference[1])
            n = "" if key == "mc" else np.asarray(x[3]).tolist()
            print(f"{k:>4} {key:<14} {x[0]:>10.5g} ± {x[1]:<8.2g} |z| {z:4.2f}  {n}")
    pairs = [(r["ours_mfmc"][2], r["pyapprox_mfmc"][2]) for r in rows if r.get("pyapprox_mfmc") is not None]
    if pairs:
        ratio = np.array([a / b for a, b in pairs])
        print(f"ours/PyApprox MFMC predicted VR where both allocate: min {ratio.min():.3f} median {np.median(ratio):.3f} max {ratio.max():.3f}")


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--seeds", type=int, default=3)
    p.add_argument("--budget-hf", type=float, default=40.0, help="budget in high-fidelity runs")
    p.add_argument("--n-pilot", type=int, default=30)
    p.add_argument("--skip-chain", action="store_true")
    args = p.parse_args()
    from uqbridge_models.fidelity_ladders import atoms_to_strut_ladder, porous_diffusion_ladder

    problems = [("porous diffusion cell problem 64²/32²/16², mean of D_rel", porous_diffusion_ladder(), "D_rel")]
    if not args.skip_chain:
        problems.append(("chain_atoms_to_strut: true EMT stage vs PCE stage surrogate, mean of margin (kN)",
                         atoms_to_strut_ladder(n_train=60, rng=2026), "margin"))
    for title, models, output in problems:
        t0 = time.perf_counter()
        rows = [one_seed(models, output, args.budget_hf, seed, args.n_pilot) for seed in range(args.seeds)]
        # reference: plain-MC runs of the high fidelity pooled over seeds (independent streams)
        ref_n = int(args.budget_hf * args.seeds)
        ref_x = models[0].inputs.from_unit(np.random.default_rng(99).random((ref_n, models[0].inputs.dimension)))
        y = _run(models[0], output, ref_x)[0]
        report(title, rows, (float(y.mean()), float(y.std(ddof=1) / np.sqrt(y.size))))
        print(f"(wall time {time.perf_counter() - t0:.0f} s)")


if __name__ == "__main__":
    main()
