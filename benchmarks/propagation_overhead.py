"""Propagation overhead: evaluating 10^6 samples of a closed-form model through uqbridge vs bare NumPy.

Run: python benchmarks/propagation_overhead.py
Target (foundation issue): uqbridge's evaluation costs at most 1.5x the bare NumPy call.
"""

import time

import numpy as np

import uqbridge as uq
from uqbridge.execution import evaluate

N = 1_000_000
REPEATS = 7


def best_of(f):
    times = []
    for _ in range(REPEATS):
        t0 = time.perf_counter()
        f()
        times.append(time.perf_counter() - t0)
    return min(times)


def main() -> None:
    for name in ("ishigami", "borehole"):
        model = uq.get_model(name)
        x = uq.sample_inputs(model.inputs, N, "mc", rng=0)
        bare = best_of(lambda: model.function(**x))
        wrapped = best_of(lambda: evaluate(model, x))
        full = best_of(lambda: uq.propagate(model, N, design="mc", seed=0))
        design = best_of(lambda: uq.sample_inputs(model.inputs, N, "mc", rng=0))
        print(
            f"{name:<10} bare NumPy {bare * 1e3:7.1f} ms | uqbridge evaluate {wrapped * 1e3:7.1f} ms "
            f"(ratio {wrapped / bare:4.2f}, target <= 1.5) | design {design * 1e3:6.1f} ms | "
            f"full propagate incl. design+summary {full * 1e3:7.1f} ms"
        )


if __name__ == "__main__":
    main()
