"""Coverage, width and actual error of per-scale share intervals against closed forms (issue #28).

Chains (closed-form shares): ``four`` = tests/chains/four_scale.py (4 scales, a non-adjacent wire, a
cross-scale interaction, lognormal × normal tails); ``lognormal`` = the lognormal-product chain of
tests/chains/chain_cases.py (3 scales). For each seed the estimator is run once; per kind of share
(closed, total, interaction) the script prints the fraction of nominal 95 % intervals that contain
the closed form (hits / count, and its binomial standard error), the mean half-width, the RMSE of the
point estimates and the half-width / RMSE ratio.

Run (CPU seconds in brackets, one idle core):
    python benchmarks/share_intervals.py --chain four --method pick_freeze --n 1024 --seeds 100       [~10 s]
    python benchmarks/share_intervals.py --chain four --method pick_freeze --n 1024 --seeds 100 --normal
        (the former delta interval: normal quantile instead of the Student-t one)
    python benchmarks/share_intervals.py --chain lognormal --method pick_freeze --n 1024 --seeds 100
    python benchmarks/share_intervals.py --chain four --method pce --n 400 --seeds 100                [~3 min]
"""

from __future__ import annotations

import argparse
import sys
import time
import warnings
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "tests" / "chains"))

import uqbridge as uq  # noqa: E402
from uqbridge import variance  # noqa: E402

KINDS = {"closed": "explained_share", "total": "total_share", "interaction": "interaction_share"}


def truth_of(chain: str) -> tuple[object, dict[str, dict[str, float]]]:
    if chain == "four":
        from four_scale import four_scale_chain, four_scale_shares

        return four_scale_chain(), four_scale_shares()
    from chain_cases import LOG_SCALES, lognormal_chain, lognormal_shares

    shares = lognormal_shares(LOG_SCALES)
    return lognormal_chain(), {
        "closed": {s: c for s, (c, _) in shares.items()},
        "total": {s: t for s, (_, t) in shares.items()},
        "interaction": {s: t - c for s, (c, t) in shares.items()},
    }


def run(chain: str, method: str, seeds: int, options: dict) -> dict[str, np.ndarray]:
    model, truth = truth_of(chain)
    scales = list(truth["closed"])
    rows: dict[str, list] = {k: [] for k in KINDS}
    for seed in range(seeds):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            ds = uq.decompose(model, method=method, groups="scale", rng=seed, outputs=["y"], **options)
        for key, name in KINDS.items():
            for s in scales:
                est = float(ds[f"{name}_raw"].sel(output="y", group=s))
                lo, hi = (float(ds[f"{name}_{b}"].sel(output="y", group=s)) for b in ("low", "high"))
                rows[key].append((lo <= truth[key][s] <= hi, (hi - lo) / 2, est - truth[key][s]))
    return {k: np.array(v, float) for k, v in rows.items()}


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--chain", choices=("four", "lognormal"), default="four")
    p.add_argument("--method", choices=("pick_freeze", "nested", "pce"), default="pick_freeze")
    p.add_argument("--n", type=int, default=1024)
    p.add_argument("--n-outer", type=int, default=1024)
    p.add_argument("--n-inner", type=int, default=16)
    p.add_argument("--interval", default="delta")
    p.add_argument("--seeds", type=int, default=100)
    p.add_argument("--normal", action="store_true", help="delta interval with the normal quantile (before #28 item 2)")
    a = p.parse_args()
    if a.normal:
        from scipy import special

        variance._student_quantile = lambda infl, confidence: np.full(infl.shape[1], special.ndtri(0.5 + confidence / 2))
    if a.method == "nested":
        options = {"n_outer": a.n_outer, "n_inner": a.n_inner, "interval": a.interval}
    elif a.method == "pce":
        options = {"n": a.n}
    else:
        options = {"n": a.n, "interval": a.interval}
    t0 = time.process_time()
    rows = run(a.chain, a.method, a.seeds, options)
    cpu = time.process_time() - t0
    print(f"chain={a.chain} method={a.method} options={options} seeds={a.seeds} normal={a.normal} cpu={cpu:.1f}s")
    for key, arr in rows.items():
        hit, half, err = arr.T
        cov = hit.mean()
        rmse = float(np.sqrt(np.mean(err**2)))
        print(f"  {key:11s} coverage {cov:.3f} ({int(hit.sum())}/{hit.size}, binomial SE {np.sqrt(cov * (1 - cov) / hit.size):.3f})"
              f"  mean half-width {half.mean():.4f}  RMSE {rmse:.4f}  half-width/RMSE {half.mean() / rmse:.2f}")


if __name__ == "__main__":
    main()
