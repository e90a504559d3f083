"""Scaling of an expensive micro model (a periodic finite-volume cell problem) over execution backends.

Runs the same design through the in-process backend, the process pool with 1 and 2 workers and a
Dask LocalCluster with 1 and 2 workers; prints wall times, speed-ups (1 → 2 workers, target ≥ 1.7
on a 2-core machine), start-up costs, and the per-task overhead of each backend measured with a
model that does nothing. Every backend's results are checked to be bit-identical to in-process.

    python benchmarks/scaling.py              # 256 cell problems on a 96² grid, batches of 8
    python benchmarks/scaling.py --quick      # a smaller smoke run

Wall times depend on what else runs on the machine: each figure is the fastest of ``--repeat`` runs
and the load average is printed with the results.
"""

from __future__ import annotations

import argparse
import os
import time
from collections.abc import Callable
from typing import Any

import numpy as np
from threadpoolctl import threadpool_limits

from uqbridge.backends import Dask, ProcessPool
from uqbridge.designs import sample_inputs
from uqbridge.distributions import Uniform
from uqbridge.execution import BatchResult, InProcess, evaluate, evaluate_batch
from uqbridge.inputs import Input
from uqbridge.model import ForwardModel, Output


def cell_model(grid: int) -> ForwardModel:
    """Effective diffusivity of random overlapping disks by a periodic FV cell problem (sparse LU)."""
    from models.porous_diffusion import porous_diffusion

    return porous_diffusion("random_disks", n=grid)


def null_model() -> ForwardModel:
    """A model that costs nothing: what remains of a task's time is the backend's overhead."""
    return ForwardModel("null", lambda x: {"y": x}, [Input("x", Uniform(0, 1))], [Output("y")])


class TimedBatch:
    """``batch -> (evaluate_batch(model, batch), seconds)``: task time measured on the worker."""

    def __init__(self, model: ForwardModel) -> None:
        self.model = model

    def __call__(self, batch: dict[str, np.ndarray]) -> tuple[BatchResult, float]:
        start = time.perf_counter()
        return evaluate_batch(self.model, batch), time.perf_counter() - start


def run_cell(model: ForwardModel, values: dict[str, np.ndarray], backend: Any, size: int) -> tuple[BatchResult, float]:
    """All batches through ``backend``; returns the result and the summed task time (seconds)."""
    full = model.complete(values)
    n = len(next(iter(full.values())))
    batches = [{k: v[s : s + size] for k, v in full.items()} for s in range(0, n, size)]
    parts = backend.map(TimedBatch(model), batches)
    return BatchResult.concat([p for p, _ in parts]), sum(t for _, t in parts)


def timed(run: Callable[[], Any]) -> tuple[float, Any]:
    start = time.perf_counter()
    out = run()
    return time.perf_counter() - start, out


def same(a: BatchResult, b: BatchResult) -> bool:
    return all(np.array_equal(a.outputs[k], b.outputs[k], equal_nan=True) for k in a.outputs) and np.array_equal(
        a.status, b.status
    )


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=256, help="cell problems to solve")
    parser.add_argument("--grid", type=int, default=96, help="grid cells per edge of the 2-D cell")
    parser.add_argument("--batch-size", type=int, default=8)
    parser.add_argument("--tasks", type=int, default=200, help="tasks of the null model for the overhead")
    parser.add_argument("--repeat", type=int, default=2, help="runs per backend; the fastest counts")
    parser.add_argument("--quick", action="store_true", help="n=48, grid=48, 100 overhead tasks, 1 run")
    args = parser.parse_args(argv)
    if args.quick:
        args.n, args.grid, args.tasks, args.repeat = 48, 48, 100, 1

    model = cell_model(args.grid)
    values = sample_inputs(model.inputs, args.n, "sobol", rng=12345)
    null = null_model()
    null_values = {"x": np.linspace(0.0, 1.0, args.tasks)}
    n_tasks = -(-args.n // args.batch_size)
    print(f"model: {model.description}; {args.n} samples in {n_tasks} tasks of {args.batch_size}")
    print(f"cores: {os.cpu_count()}, load average before: {os.getloadavg()[0]:.2f}\n")

    def best(run: Callable[[], Any]) -> tuple[float, Any]:
        # the fastest of a few runs: other load on the machine only ever adds time
        return min((timed(run) for _ in range(max(1, args.repeat))), key=lambda r: r[0])

    with threadpool_limits(1):  # one BLAS thread in-process too, as in every worker
        t_in, (reference, busy_in) = best(lambda: run_cell(model, values, InProcess(), args.batch_size))
        t_null_in, _ = best(lambda: evaluate(null, null_values, backend=InProcess(), batch_size=1))
    # "busy" = summed task time / run time: how many workers were computing on average (2 = both,
    # all the time); it stays near the worker count when other load slows every task down.
    print(f"{'backend':<22}{'start (s)':>10}{'run (s)':>10}{'per sample (ms)':>17}{'busy':>7}{'overhead/task (ms)':>20}{'identical':>11}")
    print(f"{'in-process':<22}{'-':>10}{t_in:>10.2f}{1e3 * t_in / args.n:>17.1f}{busy_in / t_in:>7.2f}{1e3 * t_null_in / args.tasks:>20.2f}{'yes':>11}")

    rows: dict[str, float] = {"in-process": t_in}
    makers: list[tuple[str, Callable[[], Any]]] = [
        ("process pool, 1", lambda: ProcessPool(1)),
        ("process pool, 2", lambda: ProcessPool(2)),
        ("dask local, 1", lambda: Dask(n_workers=1)),
        ("dask local, 2", lambda: Dask(n_workers=2)),
    ]
    for name, make in makers:
        backend = make()
        try:
            # start-up: start workers and ship the model (a warm-up batch), timed apart from the run
            t_start, _ = timed(lambda: evaluate(model, {k: v[:1] for k, v in values.items()}, backend=backend))
            t_run, (result, busy) = best(lambda: run_cell(model, values, backend, args.batch_size))
            # ship the null model first: the overhead is then per task, not per model change
            evaluate(null, {"x": null_values["x"][:2]}, backend=backend, batch_size=1)
            t_null, _ = best(lambda: evaluate(null, null_values, backend=backend, batch_size=1))
        finally:
            backend.close()
        rows[name] = t_run
        print(
            f"{name:<22}{t_start:>10.2f}{t_run:>10.2f}{1e3 * t_run / args.n:>17.1f}{busy / t_run:>7.2f}"
            f"{1e3 * t_null / args.tasks:>20.2f}{'yes' if same(result, reference) else 'NO':>11}"
        )

    print()
    for kind in ("process pool", "dask local"):
        speedup = rows[f"{kind}, 1"] / rows[f"{kind}, 2"]
        print(f"speed-up {kind:<13} 1 -> 2 workers: {speedup:.2f}  (target >= 1.7; vs in-process: {t_in / rows[f'{kind}, 2']:.2f})")
    print(f"load average after: {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
