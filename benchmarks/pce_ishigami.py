"""Ishigami (a=7, b=0.1): max absolute error over S1..S3 and ST1..ST3 against the analytic values,
per run budget and seed, for uqbridge's PCE (degree and q-norm chosen automatically) side by side
with OpenTURNS' LARS-PCE and chaospy's plain least-squares PCE on the *same* designs.

    python benchmarks/pce_ishigami.py [--budgets 40,60,80,100,150,200] [--seeds 5] [--method sparse]

Peers, and how their settings are chosen:
* OpenTURNS (optional benchmark dependency): ``FunctionalChaosAlgorithm`` with LARS and corrected
  LOO on a hyperbolic basis, degree 1..15 and q-norm in {0.5, 0.75, 1.0} chosen by OpenTURNS' own
  criterion (smallest corrected LOO of the selected support), as in ``pce_peers.py``.
* chaospy: ``fit_regression`` on the orthonormal total-degree basis, with the largest degree whose
  basis has at most n/2 terms (oversampling factor 2); indices from its coefficients.
"""

from __future__ import annotations

import argparse
import math
import time

import numpy as np

from uqbridge.designs import unit_design
from uqbridge.pce import fit_pce
from uqbridge_models.benchmark_functions import ishigami, ishigami_reference

NAMES = ("x1", "x2", "x3")


def sobol_error(first: np.ndarray, total: np.ndarray, ref: dict) -> float:
    return float(max(np.abs(first - ref["S1"]).max(), np.abs(total - ref["ST"]).max()))


def ours(model, samples_x, y, method: str, seed: int) -> tuple[float, float, dict]:
    import xarray as xr

    ds = xr.Dataset({k: ("sample", v) for k, v in {**samples_x, "y": y}.items()})
    start = time.perf_counter()
    p = fit_pce(model, method=method, samples=ds, rng=seed)
    wall = time.perf_counter() - start
    s = p.sobol_indices().sel(output="y")
    v = p.validation.sel(output="y")
    info = {
        "degree": int(v["selected_degree"]),
        "q": float(v["selected_q_norm"]),
        "terms": int(v["n_terms"]),
        "selector": str(v["selector"].values),
        "cv": float(v["cv_error"]),
    }
    return sobol_error(s["first"].values, s["total"].values, ishigami_reference()), wall, info


def openturns_own(x: np.ndarray, y: np.ndarray) -> tuple[float, str]:
    """OpenTURNS LARS + corrected LOO, degree and q-norm by its own criterion (see pce_peers.py)."""
    from pce_peers import ot_fit_auto, ot_indices

    result, setting = ot_fit_auto(ishigami(), x, y)
    first, total = ot_indices(result, 3)
    return sobol_error(first, total, ishigami_reference()), setting


def chaospy_regression(x: np.ndarray, y: np.ndarray) -> tuple[float, int]:
    import chaospy

    n = y.size
    degree = 1
    while math.comb(3 + degree + 1, 3) <= n / 2:
        degree += 1
    dist = chaospy.J(*[chaospy.Uniform(-math.pi, math.pi) for _ in range(3)])
    expansion = chaospy.generate_expansion(degree, dist, normed=True)
    _, coef = chaospy.fit_regression(expansion, x.T, y, retall=True)
    coef = np.asarray(coef, float).ravel()
    # multi-index of each orthonormal product polynomial = its leading (highest-degree) exponent
    alpha = np.array([poly.exponents[np.argmax(poly.exponents.sum(axis=1))] for poly in expansion])
    support = alpha > 0
    c2 = coef**2 * np.any(support, axis=1)
    var = c2.sum()
    first = np.array([c2[support[:, i] & (support.sum(axis=1) == 1)].sum() for i in range(3)]) / var
    total = np.array([c2[support[:, i]].sum() for i in range(3)]) / var
    return sobol_error(first, total, ishigami_reference()), degree


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--budgets", default="40,60,80,100,150,200")
    parser.add_argument("--seeds", type=int, default=5)
    parser.add_argument("--method", default="sparse")
    parser.add_argument("--design", default="sobol")
    args = parser.parse_args()
    try:
        import openturns  # noqa: F401

        have_ot = True
    except ImportError:
        have_ot = False
    model = ishigami()
    print(f"Ishigami a=7 b=0.1; max |error| over S1..3, ST1..3; design={args.design}; uqbridge method={args.method}")
    header = f"{'n':>4} {'seed':>4} | {'uqbridge':>9} {'deg':>3} {'q':>4} {'terms':>5} {'sel':>4} {'cv_err':>8} {'time':>6}"
    header += f" | {'OT own':>9} {'setting':>11}" if have_ot else " | OpenTURNS not installed"
    header += f" | {'chaospy':>9} {'deg':>3}"
    print(header)
    summary = {}
    for n in [int(b) for b in args.budgets.split(",")]:
        for seed in range(args.seeds):
            u = unit_design(n, 3, args.design, rng=seed)
            x = model.inputs.from_unit(u)
            y = model(**x)["y"]
            xs = np.column_stack([x[k] for k in NAMES])
            err, wall, info = ours(model, x, y, args.method, seed)
            line = (
                f"{n:>4} {seed:>4} | {err:9.2e} {info['degree']:>3} {info['q']:4.1f} {info['terms']:>5} "
                f"{info['selector']:>4} {info['cv']:8.1e} {wall:5.1f}s"
            )
            row = [err]
            if have_ot:
                ot_err, setting = openturns_own(xs, y)
                line += f" | {ot_err:9.2e} {setting:>11}"
                row.append(ot_err)
            cp_err, cp_deg = chaospy_regression(xs, y)
            line += f" | {cp_err:9.2e} {cp_deg:>3}"
            row.append(cp_err)
            summary.setdefault(n, []).append(row)
            print(line, flush=True)
    print("\nworst seed per budget (uqbridge" + (", OpenTURNS" if have_ot else "") + ", chaospy):")
    for n, rows in summary.items():
        worst = np.max(np.array(rows), axis=0)
        print(f"{n:>4}: " + "  ".join(f"{w:9.2e}" for w in worst) + ("   <= 1e-3 every seed" if worst[0] <= 1e-3 else ""))


if __name__ == "__main__":
    main()
