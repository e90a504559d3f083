"""Sobol indices of a 5-input, 252-term (total degree 5) expansion: from the multi-indices in uqbridge
versus ``chaospy.Sens_t`` (and ``Sens_m`` with ``--first-order``) on the same fitted polynomial.

    python benchmarks/pce_sobol_speed.py [--repeat 50] [--first-order]
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import xarray as xr

from uqbridge import ForwardModel, Input, Output, Uniform
from uqbridge.designs import sample_inputs
from uqbridge.pce import fit_pce

NAMES = ("x1", "x2", "x3", "x4", "x5")


def model() -> ForwardModel:
    def function(x1, x2, x3, x4, x5):
        return {"y": np.exp(0.4 * x1 + 0.3 * x2 * x3) + np.sin(x4) * (1 + x5**2)}

    return ForwardModel("speed5", function, [Input(n, Uniform(-1, 1)) for n in NAMES], [Output("y")])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=50)
    parser.add_argument("--first-order", action="store_true", help="also time chaospy.Sens_m")
    args = parser.parse_args()
    import chaospy

    m = model()
    x = sample_inputs(m.inputs, 600, "sobol", rng=0)
    y = m(**x)["y"]
    ds = xr.Dataset({k: ("sample", v) for k, v in {**x, "y": y}.items()})
    p = fit_pce(m, method="ols", degree=5, q_norm=1.0, samples=ds)
    n_terms = p.indices.shape[0]

    times = []
    for _ in range(args.repeat):
        start = time.perf_counter()
        s = p.sobol_indices()
        times.append(time.perf_counter() - start)
    ours = float(np.median(times))

    first = s["first"].sel(output="y").values
    total = s["total"].sel(output="y").values
    print(f"expansion: {len(NAMES)} inputs, {n_terms} terms (total degree 5)")
    print(f"uqbridge sobol_indices (first + total, xarray Dataset): median {ours * 1e3:.2f} ms over {args.repeat}", flush=True)

    # the same expansion as a chaospy polynomial: Σ c_t Π_i P_{α_ti}(x_i), orthonormal Legendre
    dist = chaospy.J(*[chaospy.Uniform(-1, 1) for _ in NAMES])
    expansion = chaospy.generate_expansion(5, dist, normed=True)
    _, coef = chaospy.fit_regression(expansion, np.stack([x[n] for n in NAMES]), y, retall=True)
    poly = chaospy.sum(expansion * np.asarray(coef).ravel(), axis=0)
    start = time.perf_counter()
    sens_t = chaospy.Sens_t(poly, dist)
    t_t = time.perf_counter() - start
    print(f"chaospy Sens_t (total only): {t_t:.1f} s")
    print(f"ratio Sens_t / uqbridge: {t_t / ours:,.0f}x")
    print(f"max |difference| of total indices: {np.abs(total - sens_t).max():.1e}")
    if args.first_order:
        start = time.perf_counter()
        sens_m = chaospy.Sens_m(poly, dist)
        print(f"chaospy Sens_m: {time.perf_counter() - start:.1f} s; max |difference| first: {np.abs(first - sens_m).max():.1e}")


if __name__ == "__main__":
    main()
