"""FORM in high dimension: model runs and time of the design-point search against OpenTURNS' AbdoRackwitz.

    python benchmarks/form_dimension.py [--seeds 5] [--dims 10,50,100] [--skip-openturns]

Limit state (a quadratic with anisotropic curvatures, in d independent standard normals):
``g(x) = β − x_d + ½ Σ_{i<d} κ_i x_i²`` with β = 3 and κ_i evenly spaced in [−0.1, 0.3]. Its design
point is ``u* = β e_d`` (β_FORM = 3 exactly; the principal curvatures at u* are the κ_i). Starting
points ``u0 ~ N(0, I)``, one per seed, the same for every solver.

Columns (runs and times min / median / max over the seeds; CPU by ``time.process_time``, the machine
is shared):

* **fd search**: ``form(ls, gradient="fd", u0=u0, check=False)`` — the search alone with finite
  differences (what a black-box model pays);
* **defaults**: ``form(ls, u0=u0, rng=seed)`` — gradients "auto" (PyTensor when the model is
  differentiable and compiling pays off, else finite differences) and the checks on; the checks'
  runs (``attrs["n_runs_checks"]``) are printed apart;
* **OpenTURNS AbdoRackwitz / SQP** (1.27, defaults; gradients by its default centred finite
  differences of the Python function, 2d runs each): ``FORM(solver, event, x0)``.

Ratios printed: median runs of the fd search / AbdoRackwitz's (target ≤ 1), and median wall of the
defaults / the fd search (target ≤ 2), each measured in this run.
"""

from __future__ import annotations

import argparse
import time

import numpy as np

from uqbridge import ForwardModel, Input, Output
from uqbridge.distributions import Normal
from uqbridge.reliability import LimitState, form

BETA = 3.0


def quadratic(d: int) -> LimitState:
    kappa = np.linspace(-0.1, 0.3, d - 1)

    def function(xp=np, **x):
        g = BETA - x[f"x{d}"]
        for i in range(d - 1):
            g = g + 0.5 * kappa[i] * x[f"x{i + 1}"] ** 2
        return {"g": g}

    inputs = [Input(f"x{k + 1}", Normal(0.0, 1.0), "aleatory") for k in range(d)]
    model = ForwardModel(f"quadratic_d{d}", function, inputs, [Output("g")], differentiable=True)
    return LimitState(model, "g")


def _spread(values, fmt="{:.0f}") -> str:
    v = np.asarray(values, float)
    return "/".join(fmt.format(x) for x in (v.min(), np.median(v), v.max()))


def _timed(fn):
    c0, w0 = time.process_time(), time.perf_counter()
    out = fn()
    return out, time.perf_counter() - w0, time.process_time() - c0


def openturns_search(ls: LimitState, u0: np.ndarray, solver: str):
    import openturns as ot

    names = ls.inputs.names
    calls = [0]

    def g_sample(x):
        x = np.asarray(x)
        calls[0] += x.shape[0]
        return ls.g({n: x[:, k] for k, n in enumerate(names)})[:, None]

    function = ot.PythonFunction(len(names), 1, func_sample=g_sample)
    dist = ot.JointDistribution([ot.Normal(0.0, 1.0)] * len(names))
    event = ot.ThresholdEvent(ot.CompositeRandomVector(function, ot.RandomVector(dist)), ot.LessOrEqual(), 0.0)
    algo = ot.FORM(getattr(ot, solver)(), event, ot.Point(u0))  # standard normals: x0 = u0
    algo.run()
    return calls[0], algo.getResult().getHasoferReliabilityIndex()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=5)
    parser.add_argument("--dims", default="10,50,100")
    parser.add_argument("--skip-openturns", action="store_true")
    args = parser.parse_args()
    if not args.skip_openturns:
        import openturns as ot

        ot.Log.Show(ot.Log.NONE)
    print("quadratic limit state, beta = 3, anisotropic curvatures in [-0.1, 0.3]; min/median/max over "
          f"{args.seeds} random starts")
    for d in [int(x) for x in args.dims.split(",")]:
        ls = quadratic(d)
        rows: dict[str, dict[str, list[float]]] = {}

        def add(name, runs, wall, cpu, err, extra=None):
            r = rows.setdefault(name, {"runs": [], "wall": [], "cpu": [], "err": [], "extra": []})
            r["runs"].append(runs); r["wall"].append(wall); r["cpu"].append(cpu); r["err"].append(err)
            r["extra"].append(extra if extra is not None else np.nan)

        for seed in range(args.seeds):
            u0 = np.random.default_rng(seed).standard_normal(d)
            r, w, c = _timed(lambda: form(ls, gradient="fd", u0=u0, check=False))
            add("fd search", int(r.n_runs), w, c, abs(float(r.beta) - BETA))
            r, w, c = _timed(lambda: form(ls, u0=u0, rng=seed))
            add(f"defaults ({r.attrs['gradient'][:8]})", int(r.n_runs), w, c, abs(float(r.beta) - BETA),
                r.attrs.get("n_runs_checks", np.nan))
            if not args.skip_openturns:
                for solver in ("AbdoRackwitz", "SQP"):
                    (runs, beta), w, c = _timed(lambda: openturns_search(ls, u0, solver))
                    add(f"OT {solver}", runs, w, c, abs(beta - BETA))
        print(f"\nd = {d}: {'method':<24} {'runs':>16} {'wall s':>20} {'CPU s':>20} {'max |beta-3|':>12} {'check runs':>10}")
        for name, r in rows.items():
            print(f"        {name:<24} {_spread(r['runs']):>16} {_spread(r['wall'], '{:.2f}'):>20} "
                  f"{_spread(r['cpu'], '{:.2f}'):>20} {max(r['err']):12.1e} {_spread(r['extra']):>10}")
        fd = rows["fd search"]
        default = next(v for k, v in rows.items() if k.startswith("defaults"))
        line = f"        wall(defaults)/wall(fd search) median {np.median(default['wall']) / np.median(fd['wall']):.2f} (<= 2)"
        if "OT AbdoRackwitz" in rows:
            line += (f"; runs(fd search)/runs(AbdoRackwitz) median "
                     f"{np.median(fd['runs']) / np.median(rows['OT AbdoRackwitz']['runs']):.2f} (<= 1), "
                     f"worst seed {max(a / b for a, b in zip(fd['runs'], rows['OT AbdoRackwitz']['runs'])):.2f}")
        print(line, flush=True)


if __name__ == "__main__":
    main()
