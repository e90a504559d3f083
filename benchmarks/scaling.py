"""Scaling of an expensive micro model (a periodic finite-volume cell problem) over execution backends.

Prints, for the process pool and a Dask LocalCluster,

- the 1 -> 2 worker speed-up of the same design, measured ``--repeat`` times with the 1- and
  2-worker runs interleaved (load drifting on a shared machine hits both alike): min/median/max;
- the per-batch overhead of each backend, with a model that does nothing: wall time and CPU time
  (summed over the driver and all worker processes; CPU time is what load cannot inflate), beside
  bare Dask's own cost per task (``client.map(abs, ...)``) as the floor of one task per batch;
- start-up times, and whether every backend's results are bit-identical to in-process.

    python benchmarks/scaling.py            # 96 cell problems on a 64² grid, 5 repeats (~2-4 min)
    python benchmarks/scaling.py --full     # 256 problems on a 96² grid, 10 repeats
    python benchmarks/scaling.py --quick    # smoke run

On a machine shared with other work every wall time is "under load": read the ratios and the CPU
figures, and the load averages printed before and after.
"""

from __future__ import annotations

import argparse
import logging
import os
import time
from collections.abc import Callable
from typing import Any

import numpy as np
import psutil
from threadpoolctl import threadpool_limits

from uqbridge.designs import sample_inputs
from uqbridge.distributions import Uniform
from uqbridge.execution.backends import Dask, ProcessPool
from uqbridge.execution.batch import BatchResult, InProcess, evaluate
from uqbridge.inputs import Input
from uqbridge.model import ForwardModel, Output


def cell_model(grid: int) -> ForwardModel:
    """Effective diffusivity of random overlapping disks by a periodic FV cell problem (sparse LU)."""
    from uqbridge_models.porous_diffusion import porous_diffusion

    return porous_diffusion("random_disks", n=grid)


def null_model() -> ForwardModel:
    """A model that costs nothing: what remains of a batch's time is the backend's overhead."""
    return ForwardModel("null", lambda x: {"y": x}, [Input("x", Uniform(0, 1))], [Output("y")])


def cpu_seconds() -> float:
    """CPU time of this process and all its descendants (the pool and Dask worker processes)."""
    total = 0.0
    me = psutil.Process()
    for proc in [me, *me.children(recursive=True)]:
        try:
            t = proc.cpu_times()
        except psutil.NoSuchProcess:
            continue
        total += t.user + t.system
    return total


def timed(run: Callable[[], Any]) -> tuple[float, float, Any]:
    """(wall seconds, CPU seconds of all processes, result) of ``run()``."""
    wall, cpu = time.perf_counter(), cpu_seconds()
    out = run()
    return time.perf_counter() - wall, cpu_seconds() - cpu, out


def same(a: BatchResult, b: BatchResult) -> bool:
    return all(np.array_equal(a.outputs[k], b.outputs[k], equal_nan=True) for k in a.outputs) and np.array_equal(
        a.status, b.status
    )


def spread(values: list[float], fmt: str = ".2f") -> str:
    return f"{min(values):{fmt}} / {float(np.median(values)):{fmt}} / {max(values):{fmt}}"


def main(argv: list[str] | None = None) -> None:
    # the scheduler's shutdown chatter (INFO) would bury the table
    logging.getLogger("distributed").setLevel(logging.ERROR)
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=96, help="cell problems to solve")
    parser.add_argument("--grid", type=int, default=64, help="grid cells per edge of the 2-D cell")
    parser.add_argument("--batch-size", type=int, default=4)
    parser.add_argument("--tasks", type=int, default=400, help="batches of the null model for the overhead")
    parser.add_argument("--repeat", type=int, default=5, help="interleaved 1- and 2-worker runs per backend")
    parser.add_argument("--full", action="store_true", help="n=256, grid=96, 10 repeats")
    parser.add_argument("--quick", action="store_true", help="n=24, grid=32, 100 overhead batches, 2 repeats")
    args = parser.parse_args(argv)
    if args.full:
        args.n, args.grid, args.repeat = 256, 96, 10
    if args.quick:
        args.n, args.grid, args.tasks, args.repeat = 24, 32, 100, 2

    model = cell_model(args.grid)
    values = sample_inputs(model.inputs, args.n, "sobol", rng=12345)
    null = null_model()
    null_values = {"x": np.linspace(0.0, 1.0, args.tasks)}
    n_batches = -(-args.n // args.batch_size)
    print(f"model: {model.description}; {args.n} samples in {n_batches} batches of {args.batch_size}")
    print(f"cores: {os.cpu_count()}, load average before: {os.getloadavg()[0]:.2f} (wall times are under this load)\n")

    with threadpool_limits(1):  # one BLAS thread in-process too, as in every worker
        t_in, _, reference = timed(lambda: evaluate(model, values, backend=InProcess(), batch_size=args.batch_size))
        w_null, c_null, _ = timed(lambda: evaluate(null, null_values, backend=InProcess(), batch_size=1))
    print(f"in-process: {t_in:.2f} s ({1e3 * t_in / args.n:.1f} ms per sample); "
          f"null model {1e3 * w_null / args.tasks:.3f} ms wall, {1e3 * c_null / args.tasks:.3f} ms CPU per batch\n")

    kinds: dict[str, Callable[[int], Any]] = {
        "process pool": lambda k: ProcessPool(k),
        "dask local": lambda k: Dask(n_workers=k),
    }
    header = f"{'backend':<16}{'start 1/2 (s)':>15}{'run 1 (s)':>11}{'run 2 (s)':>11}{'speed-up min/med/max':>23}{'identical':>11}"
    overhead_rows = []
    lines = [header]
    for kind, make in kinds.items():
        one, two = make(1), make(2)
        try:
            starts = []
            for backend in (one, two):  # start workers and ship the model, timed apart from the runs
                starts.append(timed(lambda b=backend: evaluate(model, {k: v[:2] for k, v in values.items()},
                                                               backend=b, batch_size=1))[0])
            t1, t2, identical = [], [], True
            for _ in range(max(1, args.repeat)):
                for backend, times in ((one, t1), (two, t2)):
                    wall, _, result = timed(lambda b=backend: evaluate(model, values, backend=b, batch_size=args.batch_size))
                    times.append(wall)
                    identical &= same(result, reference)
            speedups = [a / b for a, b in zip(t1, t2)]
            lines.append(f"{kind:<16}{starts[0]:>7.2f}/{starts[1]:<7.2f}{min(t1):>11.2f}{min(t2):>11.2f}"
                         f"{spread(speedups):>23}{'yes' if identical else 'NO':>11}")
            # overhead: ship the null model first, so the figure is per batch, not per model change
            evaluate(null, {"x": null_values["x"][:4]}, backend=two, batch_size=1)
            walls, cpus = [], []
            for _ in range(3):
                wall, cpu, _ = timed(lambda two=two: evaluate(null, null_values, backend=two, batch_size=1))
                walls.append(1e3 * wall / args.tasks)
                cpus.append(1e3 * cpu / args.tasks)
            overhead_rows.append((f"{kind}, 2 workers", walls, cpus))
            if kind == "dask local":
                client = two.client
                walls, cpus = [], []
                for _ in range(3):
                    wall, cpu, _ = timed(lambda client=client: client.gather(client.map(abs, range(args.tasks), pure=False)))
                    walls.append(1e3 * wall / args.tasks)
                    cpus.append(1e3 * cpu / args.tasks)
                overhead_rows.append(("bare dask (per task)", walls, cpus))
        finally:
            one.close()
            two.close()

    print("\n".join(lines))
    print(f"(speed-up = run time with 1 worker / with 2, over {args.repeat} interleaved repeats; 2.0 is linear)\n")
    print(f"{'overhead per batch':<24}{'wall ms min/med/max':>24}{'CPU ms min/med/max':>24}")
    for name, walls, cpus in overhead_rows:
        print(f"{name:<24}{spread(walls, '.2f'):>24}{spread(cpus, '.2f'):>24}")
    print(f"(null model, batch_size=1, {args.tasks} batches; CPU summed over driver and workers)")
    print(f"\nload average after: {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
