"""Sobol indices read from a fitted expansion: uqbridge against OpenTURNS' ``FunctionalChaosSobolIndices``
on the same expansion (5 uniform inputs, total degree 5, 252 orthonormal Legendre terms).

    python benchmarks/pce_sobol_speed.py [--repeat 200]

Both libraries fit the *same* full least-squares expansion on the same 600 scrambled-Sobol runs
(uqbridge ``method="ols", degree=5, q_norm=1``; OpenTURNS ``FixedStrategy`` of the same basis with a
plain ``LeastSquaresStrategy``), which the benchmark checks by comparing the indices. Timed: all
first-order and total indices of every input — uqbridge ``PolynomialChaos.sobol_indices()`` (a labelled
xarray Dataset with provenance), its NumPy kernel alone, and OpenTURNS ``FunctionalChaosSobolIndices(result)``
plus ``getSobolIndex(i)`` / ``getSobolTotalIndex(i)`` for every input. Median over ``--repeat``
calls; wall times under load on a shared machine, ratios from the same run.
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import xarray as xr

from uqbridge import ForwardModel, Input, Output, Uniform
from uqbridge.designs import sample_inputs
from uqbridge.pce import Regression, fit_pce

NAMES = ("x1", "x2", "x3", "x4", "x5")


def model() -> ForwardModel:
    def function(x1, x2, x3, x4, x5):
        return {"y": np.exp(0.4 * x1 + 0.3 * x2 * x3) + np.sin(x4) * (1 + x5**2)}

    return ForwardModel("speed5", function, [Input(n, Uniform(-1, 1)) for n in NAMES], [Output("y")])


def median_time(f, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        f()
        times.append(time.perf_counter() - start)
    return float(np.median(times))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=200)
    args = parser.parse_args()
    import openturns as ot

    m = model()
    x = sample_inputs(m.inputs, 600, "sobol", rng=0)
    y = m(**x)["y"]
    ds = xr.Dataset({k: ("sample", v) for k, v in {**x, "y": y}.items()})
    p = fit_pce(m, method=Regression("ols", degree=5, q_norm=1.0), samples=ds)
    d = len(NAMES)

    enum = ot.LinearEnumerateFunction(d)
    basis = ot.OrthogonalProductPolynomialFactory([ot.LegendreFactory()] * d, enum)
    dist = ot.JointDistribution([ot.Uniform(-1.0, 1.0)] * d)
    size = enum.getBasisSizeFromTotalDegree(5)
    algo = ot.FunctionalChaosAlgorithm(
        ot.Sample(np.column_stack([x[n] for n in NAMES])), ot.Sample(y[:, None]), dist,
        ot.FixedStrategy(basis, size), ot.LeastSquaresStrategy(),
    )
    algo.run()
    result = algo.getResult()

    def ot_indices():
        s = ot.FunctionalChaosSobolIndices(result)
        return [s.getSobolIndex(i) for i in range(d)], [s.getSobolTotalIndex(i) for i in range(d)]

    def kernel():
        support = p.indices > 0
        c2 = p.coefficients**2
        var = c2[:, 1:].sum(axis=1)[:, None]
        return c2 @ (support & (support.sum(axis=1) == 1)[:, None]) / var, c2 @ support / var

    s = p.sobol_indices().sel(output="y")
    first_ot, total_ot = ot_indices()
    diff = max(np.abs(s["first"].values - first_ot).max(), np.abs(s["total"].values - total_ot).max())
    t_ours = median_time(p.sobol_indices, args.repeat)
    t_kernel = median_time(kernel, args.repeat)
    t_ot = median_time(ot_indices, args.repeat)
    print(f"expansion: {d} inputs, {p.indices.shape[0]} terms (total degree 5), OpenTURNS {result.getIndices().getSize()} terms")
    print(f"same expansion: max |index difference| uqbridge vs OpenTURNS = {diff:.1e}")
    print(f"median of {args.repeat} calls (first + total indices of every input), under load:")
    print(f"  uqbridge sobol_indices() (labelled Dataset) {t_ours * 1e3:7.3f} ms")
    print(f"  uqbridge NumPy kernel                        {t_kernel * 1e3:7.3f} ms")
    print(f"  OpenTURNS FunctionalChaosSobolIndices        {t_ot * 1e3:7.3f} ms")
    print(f"  ratio uqbridge / OpenTURNS: {t_ours / t_ot:.2f} (Dataset), {t_kernel / t_ot:.2f} (kernel)")


if __name__ == "__main__":
    main()
