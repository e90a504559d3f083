"""FORM in high dimension: model runs and time of the design-point search against OpenTURNS' AbdoRackwitz.

    python benchmarks/form_dimension.py [--seeds 5] [--dims 10,50,100] [--skip-openturns]

Limit states (quadratics with anisotropic curvatures, in d independent standard normals), κ_i evenly
spaced in [−0.1, 0.3]:

* **axis**: ``g(x) = 3 − x_d + ½ Σ_{i<d} κ_i x_i²``; design point ``u* = 3 e_d`` exactly (β = 3);
* **tilted**: ``g(x) = 3 − Σ_i x_i / √d + ½ Σ_i κ_i x_i²`` (κ over all d inputs); the design point is
  off every axis and the curvatures act along the search; reference β by SciPy's SLSQP with the
  exact gradient (tolerance 1e-12) — a code check, not a published value.

Starting points: the origin (FORM's default) and ``u0 ~ N(0, I)`` for the other seeds, the same for
every solver.

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


def quadratic(d: int, tilted: bool = False) -> LimitState:
    kappa = np.linspace(-0.1, 0.3, d if tilted else d - 1)

    def function(xp=np, **x):
        if tilted:
            g = BETA + 0.0 * x["x1"]
            for i in range(d):
                g = g - x[f"x{i + 1}"] / np.sqrt(d) + 0.5 * kappa[i] * x[f"x{i + 1}"] ** 2
            return {"g": g}
        g = BETA - x[f"x{d}"]
        for i in range(d - 1):
            g = g + 0.5 * kappa[i] * x[f"x{i + 1}"] ** 2
        return {"g": g}

    inputs = [Input(f"x{k + 1}", Normal(0.0, 1.0), "aleatory") for k in range(d)]
    model = ForwardModel(f"quadratic_{'tilted' if tilted else 'axis'}_d{d}", function, inputs, [Output("g")], differentiable=True)
    return LimitState(model, "g")


def reference_beta(d: int, tilted: bool) -> float:
    """β of the design point by SLSQP with the exact gradient (code check)."""
    if not tilted:
        return BETA
    from scipy.optimize import minimize

    kappa, a = np.linspace(-0.1, 0.3, d), np.full(d, 1 / np.sqrt(d))
    con = {"type": "eq", "fun": lambda u: BETA - a @ u + 0.5 * kappa @ u**2, "jac": lambda u: -a + kappa * u}
    res = minimize(lambda u: (0.5 * u @ u, u), BETA * a, jac=True, constraints=[con], method="SLSQP",
                   options={"ftol": 1e-14, "maxiter": 500})
    return float(np.linalg.norm(res.x))


def _spread(values, fmt="{:.0f}") -> str:
    v = np.asarray(values, float)
    return "/".join(fmt.format(x) for x in (v.min(), np.median(v), v.max()))


def _timed(fn):
    c0, w0 = time.process_time(), time.perf_counter()
    out = fn()
    return out, time.perf_counter() - w0, time.process_time() - c0


def openturns_search(ls: LimitState, u0: np.ndarray, solver: str):
    import openturns as ot
    from reliability import _ot_event  # benchmarks/reliability.py: the event and its run counter

    event, _, _, calls = _ot_event(ls)
    algo = ot.FORM(getattr(ot, solver)(), event, ot.Point(u0))  # standard normals: x0 = u0
    algo.run()
    return calls[0], algo.getResult().getHasoferReliabilityIndex()


def run_case(problem: str, d: int, seeds: int, with_ot: bool) -> None:
    tilted = problem == "tilted"
    ls = quadratic(d, tilted)
    beta_ref = reference_beta(d, tilted)
    rows: dict[str, dict[str, list[float]]] = {}

    def add(name, runs, wall, cpu, err, extra=np.nan):
        r = rows.setdefault(name, {"runs": [], "wall": [], "cpu": [], "err": [], "extra": []})
        for key, value in zip(("runs", "wall", "cpu", "err", "extra"), (runs, wall, cpu, err, extra)):
            r[key].append(value)

    for seed in range(seeds):
        u0 = np.zeros(d) if seed == 0 else np.random.default_rng(seed).standard_normal(d)
        r, w, c = _timed(lambda: form(ls, gradient="fd", u0=u0, check=False))  # noqa: B023 - called at once
        add("fd search", int(r.n_runs), w, c, abs(float(r.beta) - beta_ref))
        r, w, c = _timed(lambda: form(ls, u0=u0, rng=seed))  # noqa: B023 - called at once
        add(f"defaults ({r.attrs['gradient'][:8]})", int(r.n_runs), w, c, abs(float(r.beta) - beta_ref),
            r.attrs.get("n_runs_checks", np.nan))
        if with_ot:
            for solver in ("AbdoRackwitz", "SQP"):
                (runs, beta), w, c = _timed(lambda: openturns_search(ls, u0, solver))  # noqa: B023
                add(f"OT {solver}", runs, w, c, abs(beta - beta_ref))
    print(f"\n{problem} (beta {beta_ref:.4f}), d = {d}: runs | wall s | CPU s (min/median/max) | "
          "max |beta - ref| | runs in checks")
    for name, r in rows.items():
        print(f"  {name:<24} {_spread(r['runs']):>16} | {_spread(r['wall'], '{:.2f}'):>16} | "
              f"{_spread(r['cpu'], '{:.2f}'):>16} | {max(r['err']):8.1e} | {_spread(r['extra'])}")
    fd = rows["fd search"]
    default = next(v for k, v in rows.items() if k.startswith("defaults"))
    ratio = np.median(default["wall"]) / np.median(fd["wall"])
    line = f"  wall(defaults)/wall(fd search) median {ratio:.2f} (<= 2)"
    if "OT AbdoRackwitz" in rows:
        ar = rows["OT AbdoRackwitz"]["runs"]
        worst = max(a / b for a, b in zip(fd["runs"], ar))
        line += (f"; runs(fd search)/runs(AbdoRackwitz) median {np.median(fd['runs']) / np.median(ar):.2f} (<= 1), "
                 f"worst start {worst:.2f}")
    print(line, flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=5)
    parser.add_argument("--dims", default="10,50,100")
    parser.add_argument("--skip-openturns", action="store_true")
    parser.add_argument("--problems", default="axis,tilted")
    args = parser.parse_args()
    if not args.skip_openturns:
        import openturns as ot

        ot.Log.Show(ot.Log.NONE)
    print("quadratic limit states, anisotropic curvatures in [-0.1, 0.3]; min/median/max over "
          f"{args.seeds} starts (the origin, then random)")
    form(quadratic(2), check=False)  # warm-up: first-call costs (imports) outside the timings
    for problem in args.problems.split(","):
        for d in [int(x) for x in args.dims.split(",")]:
            run_case(problem, d, args.seeds, not args.skip_openturns)


if __name__ == "__main__":
    main()
