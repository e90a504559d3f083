"""Propagation overhead: ``uqbridge.propagate`` (as users call it) against the same work in bare NumPy.

    python benchmarks/propagation_overhead.py [--n 1000000] [--repeats 7]

For 10^6 Monte Carlo samples of Ishigami and borehole this times

* **bare NumPy**: ``rng.random((n, d))``, the inverse CDFs written by hand (``a + (b - a) u``,
  ``mu + sigma ndtri(u)``, ``exp(mu + sigma ndtri(u))``) and the model function;
* **propagate**: ``uqbridge.propagate(model, n, design="mc", rng=0)`` — design, input mapping,
  evaluation with status tracking, the xarray Dataset and the summary (mean, std, quantiles with
  their distribution-free intervals);

and prints best-of-``repeats`` wall times and their ratio (target: propagate <= 1.5x bare), with the
pieces (sampling, evaluate, summary) and the Sobol design for reference. Wall times on a shared
machine are inflated; the ratio is measured in the same run.
"""

from __future__ import annotations

import argparse
import time

import numpy as np
from scipy import special

import uqbridge as uq
from uqbridge.distributions import LogNormal, Normal, Uniform
from uqbridge.execution.batch import evaluate
from uqbridge.propagate import summarize
from uqbridge.results import samples_dataset


def best_of(f, repeats: int) -> float:
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        f()
        times.append(time.perf_counter() - t0)
    return min(times)


def bare_inverse_cdf(dist, u: np.ndarray) -> np.ndarray:
    """What a NumPy user writes by hand for each marginal."""
    if isinstance(dist, Uniform):
        return dist.lower + (dist.upper - dist.lower) * u
    if isinstance(dist, Normal):
        return dist.mu + dist.sigma * special.ndtri(u)
    if isinstance(dist, LogNormal):
        return np.exp(dist.mu + dist.sigma * special.ndtri(u))
    raise TypeError(f"no hand-written inverse CDF for {dist}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=1_000_000)
    parser.add_argument("--repeats", type=int, default=7)
    args = parser.parse_args()
    n, reps = args.n, args.repeats
    print(f"n = {n:,} Monte Carlo samples, best of {reps}; wall times under load (shared machine)")
    for name in ("ishigami", "borehole"):
        measure(name, n, reps)


def measure(name: str, n: int, reps: int) -> None:
    """Time one model (a function of its own, so the timed closures bind this model only)."""
    model = uq.get_model(name)
    names = model.inputs.uncertain

    def bare():
        u = np.random.default_rng(0).random((n, len(names)))
        x = {k: bare_inverse_cdf(model.inputs[k].distribution, u[:, j]) for j, k in enumerate(names)}
        return model.function(**x)

    # interleaved, so load spikes on the shared machine hit both alike
    t_bare, t_prop = np.inf, np.inf
    for _ in range(reps):
        t_bare = min(t_bare, best_of(bare, 1))
        t_prop = min(t_prop, best_of(lambda: uq.propagate(model, n, design="mc", rng=0), 1))
    x = uq.sample_inputs(model.inputs, n, "mc", rng=0)
    t_sample = best_of(lambda: uq.sample_inputs(model.inputs, n, "mc", rng=0), reps)
    t_eval = best_of(lambda: evaluate(model, x), reps)
    ds = samples_dataset(model, x, evaluate(model, x))
    t_summary = best_of(lambda: summarize(ds, model.output_names), reps)
    t_sobol = best_of(lambda: uq.propagate(model, n, design="sobol", rng=0), max(1, reps // 3))
    ratio = t_prop / t_bare
    print(
        f"{name:<9} bare NumPy (sampling + model) {t_bare * 1e3:6.1f} ms | propagate {t_prop * 1e3:6.1f} ms "
        f"| ratio {ratio:4.2f} ({'<=' if ratio <= 1.5 else '>'} 1.5 target)"
    )
    print(
        f"{'':<9} pieces: sample_inputs {t_sample * 1e3:6.1f} ms, evaluate {t_eval * 1e3:6.1f} ms, "
        f"summarize {t_summary * 1e3:6.1f} ms; propagate with the default Sobol design {t_sobol * 1e3:6.1f} ms"
    )


if __name__ == "__main__":
    main()
