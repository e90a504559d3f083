"""Reliability methods on reference problems with exact Pf: estimate, relative error, CoV and model
runs per method, side by side with OpenTURNS (optional benchmark dependency) on the same problems.

    python benchmarks/reliability.py [--seed 0] [--skip-ak] [--skip-openturns] [--seeds 10] [--form-only]

Problems (uqbridge.reliability.problems, exact Pf by closed form or 1-D quadrature): linear β = 4.75
(Pf = 1.017e-6), four-branch series system k = 6 and k = 7 (Waarts 2000, Echard et al. 2011),
parabolic β = 3, κ = 0.5 (Breitung 1984), R − S with lognormal R.

Settings: uqbridge FORM/SORM with central finite differences (as OpenTURNS, so that run counts
compare), FORM's search alone (``check=False``) and FORM with its defaults (PyTensor gradients where
differentiable, checks on), crude MC stopped at CoV 0.1 (skipped when Pf < 1e-4), adaptive importance
sampling n = 1000 at the FORM design point(s), subset simulation N = 1000 per level and p0 = 0.1,
AK-MCS at its defaults with ≤ 150 runs.
OpenTURNS: FORM with Cobyla, AbdoRackwitz and SQP (its gradient-based solvers at their defaults,
gradients by its default CenteredFiniteDifferenceGradient of the Python function: central
differences, step 1e-5 in physical units), SORM with Cobyla, ProbabilitySimulationAlgorithm (MC,
CoV 0.1), importance sampling N(u*, I) in standard space (1000 runs), SubsetSampling (1000 per
level, p0 0.1). A four-branch problem is given to OpenTURNS as one function g = min of the branches.

Then FORM from ``--seeds`` random starting points on 13 smooth limit states (see ``form_seeds``: the
search alone, uqbridge's defaults, and OpenTURNS' AbdoRackwitz and SQP, runs min/median/max), and
AK-MCS over the seeds. Stopping rules differ and are printed with the accuracy reached: uqbridge
stops when |g| ≤ 1e-5 |g(u0)| and u is parallel to ∇g to 1e-5 *at the point it returns* (a gradient
there, 2d runs, verifies it); OpenTURNS' AbdoRackwitz stops when |g| ≤ 1e-5 (absolute) at the new
point with its residual taken from the previous point's gradient (on linear(3.5, 20) it returns
after one gradient, its OptimizationResult reporting residual 0), and also re-evaluates the start's
mean and the final point (no cache).
Targets of issue 6: Pf = Φ(−4.75) with CoV ≤ 0.1 in ≤ 2 000 runs; four-branch within 3 % of the
reference in ≤ 300 runs with active learning. Issue 19: FORM's search with central differences in no
more runs than OpenTURNS' best gradient solver (median over the starts).
"""

from __future__ import annotations

import argparse
import math
import time

import numpy as np

from uqbridge.distributions import Gamma, Gumbel, LogNormal, Normal, Uniform
from uqbridge.reliability import (
    LimitState,
    active_learning,
    form,
    importance_sampling,
    monte_carlo,
    sorm,
    subset_simulation,
)
from uqbridge.reliability.problems import four_branch, linear, parabolic, r_minus_s, rprepo_collection


def problems():
    return [linear(4.75), four_branch(6), four_branch(7), parabolic(3.0, 0.5), r_minus_s()]


def ours(p, seed: int, skip_ak: bool) -> list[tuple]:
    ls = p.limit_state
    rows = []

    def add(name, r):
        rows.append((name, float(r.pf), float(r.cov), int(r.n_runs), bool(r.converged), r.attrs.get("reliable", 1),
                     float(r.attrs["wall_time_s"])))

    f = form(ls, gradient="fd")
    add("FORM (fd)", f)
    add("FORM (fd, check=False)", form(ls, gradient="fd", check=False))
    add("FORM (auto)", form(ls, rng=seed))
    add("SORM (Tvedt)", sorm(ls, form_result=f, gradient="fd"))
    if p.pf > 1e-4:
        add("MC (CoV 0.1)", monte_carlo(ls, target_cov=0.1, batch=20_000, max_runs=5_000_000, rng=seed))
        add("RQMC Sobol (CoV 0.1)", monte_carlo(ls, target_cov=0.1, batch=16_384, design="sobol", rng=seed))
    add("IS (n=1000)", importance_sampling(ls, n=1000, form_result=f, rng=seed))
    add("subset (N=1000)", subset_simulation(ls, n_per_level=1000, rng=seed))
    if not skip_ak and p.pf > 1e-4:
        # learn on 1e5 candidates, then enlarge the population (no new run unless some new candidate
        # is uncertain) until the population CoV is 0.02
        r = active_learning(ls, max_runs=150, rng=seed)
        add(f"AK-MCS ({r.attrs['candidates_stage'][:3]} N={int(r.n_candidates):.0e})", r)
    return rows


def _ot_event(ls):
    """OpenTURNS event ``g <= 0`` for limit state ``ls``, its function, input distribution and run counter."""
    import openturns as ot

    names = ls.inputs.names
    calls = [0]

    def g_sample(x):
        x = np.asarray(x)
        calls[0] += x.shape[0]
        return ls.g({n: x[:, k] for k, n in enumerate(names)})[:, None]

    function = ot.PythonFunction(len(names), 1, func_sample=g_sample)
    dist = ot.JointDistribution([_ot_marginal(ls.inputs[n].distribution) for n in names])
    event = ot.ThresholdEvent(ot.CompositeRandomVector(function, ot.RandomVector(dist)), ot.LessOrEqual(), 0.0)
    return event, function, dist, calls


def _ot_marginal(dist):
    import openturns as ot

    if isinstance(dist, Normal):
        return ot.Normal(dist.mu, dist.sigma)
    if isinstance(dist, LogNormal):
        return ot.LogNormal(dist.mu, dist.sigma)
    if isinstance(dist, Uniform):
        return ot.Uniform(dist.lower, dist.upper)
    if isinstance(dist, Gumbel):
        return ot.Gumbel(dist.scale, dist.loc)  # OpenTURNS: Gumbel(beta = scale, gamma = location)
    if isinstance(dist, Gamma):
        return ot.Gamma(dist.shape, 1.0 / dist.scale)  # OpenTURNS: Gamma(k, lambda = rate)
    raise TypeError(f"no OpenTURNS translation for {dist}")


def openturns_rows(p, seed: int) -> list[tuple]:
    import openturns as ot

    ls = p.limit_state
    if not isinstance(ls, LimitState):  # four-branch: one function, the minimum of the branches
        ls = LimitState(ls.components[0].model, "g")
    names = ls.inputs.names
    event, function, dist, calls = _ot_event(ls)
    rows = []

    def run(name, make):
        ot.RandomGenerator.SetSeed(seed)  # OpenTURNS only has a global generator
        calls[0] = 0
        start = time.perf_counter()
        try:
            pf, cov = make()
        except Exception as err:  # noqa: BLE001 - a peer failing is a result too
            rows.append((name + f" [failed: {type(err).__name__}]", math.nan, math.nan, calls[0], False, 0, math.nan))
            return
        # OpenTURNS has no reliability flag: 1 means "nothing reported"
        rows.append((name, pf, cov, calls[0], True, 1, time.perf_counter() - start))

    cobyla = ot.Cobyla()
    cobyla.setMaximumCallsNumber(10_000)

    def do_form():
        algo = ot.FORM(cobyla, event, dist.getMean())
        algo.run()
        return algo.getResult().getEventProbability(), math.nan

    def do_sorm():
        algo = ot.SORM(cobyla, event, dist.getMean())
        algo.run()
        return algo.getResult().getEventProbabilityTvedt(), math.nan

    def do_mc():
        algo = ot.ProbabilitySimulationAlgorithm(event, ot.MonteCarloExperiment())
        algo.setMaximumCoefficientOfVariation(0.1)
        algo.setMaximumOuterSampling(250)
        algo.setBlockSize(20_000)
        algo.run()
        r = algo.getResult()
        return r.getProbabilityEstimate(), r.getCoefficientOfVariation()

    def do_is():
        algo = ot.FORM(cobyla, event, dist.getMean())
        algo.run()
        u_star = algo.getResult().getStandardSpaceDesignPoint()
        importance = ot.Normal(u_star, ot.Point(len(names), 1.0), ot.CorrelationMatrix(len(names)))
        # the event in standard space: g composed with the inverse Nataf/Rosenblatt transform
        standard = ot.ComposedFunction(function, dist.getInverseIsoProbabilisticTransformation())
        std_event = ot.ThresholdEvent(ot.CompositeRandomVector(standard, ot.RandomVector(ot.Normal(len(names)))),
                                      ot.LessOrEqual(), 0.0)
        sim = ot.ProbabilitySimulationAlgorithm(std_event, ot.ImportanceSamplingExperiment(importance))
        sim.setMaximumOuterSampling(10)
        sim.setBlockSize(100)
        sim.setMaximumCoefficientOfVariation(0.0)
        sim.run()
        r = sim.getResult()
        return r.getProbabilityEstimate(), r.getCoefficientOfVariation()

    def do_subset():
        algo = ot.SubsetSampling(event)
        algo.setMaximumOuterSampling(1000)
        algo.setBlockSize(1)
        algo.setConditionalProbability(0.1)
        algo.run()
        r = algo.getResult()
        return r.getProbabilityEstimate(), r.getCoefficientOfVariation()

    def do_form_with(solver_name):
        def make():
            solver = getattr(ot, solver_name)()
            solver.setMaximumCallsNumber(10_000) if hasattr(solver, "setMaximumCallsNumber") else None
            algo = ot.FORM(solver, event, dist.getMean())
            algo.run()
            return algo.getResult().getEventProbability(), math.nan
        return make

    run("FORM (Cobyla)", do_form)
    run("FORM (AbdoRackwitz)", do_form_with("AbdoRackwitz"))
    run("FORM (SQP)", do_form_with("SQP"))
    run("SORM (Tvedt)", do_sorm)
    if p.pf > 1e-4:
        run("MC (CoV 0.1)", do_mc)
    run("IS (n=1000)", do_is)
    run("subset (N=1000)", do_subset)
    return rows


def ak_seeds(n_seeds: int) -> None:
    """AK-MCS at its defaults (max_runs 150) on four-branch k = 6, 7 over seeds: min/median/max."""
    print(f"\nAK-MCS defaults, {n_seeds} seeds (issue 19 target: within 3 %, <= 150 runs, <= 30 s each)")
    print(f"{'problem':<18} {'|rel.err| min/median/max':>26} {'runs min/median/max':>22} {'wall_s min/median/max':>24} {'within 3 %':>10} {'reliable':>8}")
    for k in (6, 7):
        p = four_branch(k)
        errs, runs, walls, rel = [], [], [], []
        for seed in range(n_seeds):
            r = active_learning(p.limit_state, max_runs=150, rng=seed)
            errs.append(abs(float(r.pf) / p.pf - 1))
            runs.append(int(r.n_runs))
            walls.append(float(r.attrs["wall_time_s"]))
            rel.append(int(r.attrs["reliable"]))
        e, n, w = np.array(errs), np.array(runs), np.array(walls)
        print(f"{p.name:<18} {e.min():8.4f} {np.median(e):8.4f} {e.max():8.4f} {n.min():7d} {int(np.median(n)):7d} {n.max():7d} "
              f"{w.min():8.1f} {np.median(w):7.1f} {w.max():7.1f} {int((e <= 0.03).sum()):>7}/{n_seeds} {sum(rel):>5}/{n_seeds}")


def form_problems() -> list:
    """Smooth limit states for the FORM search comparison (kinked or multi-point ones test the
    checks, not the search): the reference problems above plus the smooth RPrepo problems."""
    smooth = ("RP8", "RP14", "RP22", "RP24", "RP28", "RP38", "RP53", "RP75")
    return [linear(4.75), linear(3.5, 20), parabolic(3.0, 0.5), parabolic(3.0, -0.2), r_minus_s()] + [
        p for p in rprepo_collection() if p.name in smooth]


def _spread(values) -> str:
    v = np.asarray(values)
    return f"{int(v.min())}/{int(np.median(v))}/{int(v.max())}"


def form_seeds(n_seeds: int, have_ot: bool) -> None:
    """FORM model runs over random starting points u0 ~ N(0, I) (the same u0 for every solver).

    uqbridge: the search alone (central differences, ``check=False``) — like with like against
    OpenTURNS' gradient solvers — and its defaults with the checks on (``check=True``; gradients
    "auto", i.e. PyTensor where the model is differentiable, so only the checks' runs differ from
    the first column in kind) and central differences with the checks (what a black-box model pays).
    OpenTURNS 1.27: ``FORM(solver, event, x0)`` with AbdoRackwitz and SQP at their defaults
    (tolerances 1e-5 on the absolute/relative step, residual and constraint, ResourceMap
    OptimizationAlgorithm-Default*), gradients by its default CenteredFiniteDifferenceGradient of
    the Python function (central differences, step 1e-5 in physical units, 2d runs per gradient);
    a run that raises counts as failed and its runs still count. Runs are the rows passed to the
    model. Columns: runs min/median/max, searches converged (uqbridge) or not failed (OpenTURNS),
    and the largest |beta - beta_ref| over the starts that ended (beta_ref: uqbridge's answer from
    the origin; on RP28 (β 5.3331 and 5.3333) and RP53 the gap is another design point, not an error).
    uqbridge verifies its stop with a gradient at the point it returns (2d runs); AbdoRackwitz does
    not (see the module docstring): where the ratio exceeds 1 by about that gradient, that is why.
    """
    import openturns as ot

    ot.Log.Show(ot.Log.NONE)  # its deprecation notice on the physical starting point
    print(f"\nFORM from {n_seeds} random starting points u0 ~ N(0, I): model runs min/median/max, "
          "runs/target = median runs / OpenTURNS' best gradient solver's median")
    print(f"{'problem':<26} {'d':>3} | {'uqbridge search (fd, check=False)':>36} | {'defaults (check=True)':>21} | "
          f"{'fd, check=True':>15} | {'OT AbdoRackwitz':>30} | {'OT SQP':>30} | {'ratio':>5}")
    for p in form_problems():
        ls = p.limit_state
        names = ls.inputs.names
        d = len(names)
        beta_ref = float(form(ls, check=False).beta)
        starts = [np.random.default_rng(seed).standard_normal(d) for seed in range(n_seeds)]
        search, err, conv = [], [], 0
        for u0 in starts:
            r = form(ls, gradient="fd", u0=u0, check=False)
            search.append(int(r.n_runs))
            conv += bool(r.converged)
            err.append(abs(float(r.beta) - beta_ref) if bool(r.converged) else np.inf)
        defaults = [int(form(ls, u0=u0, rng=k).n_runs) for k, u0 in enumerate(starts)]
        checked = [int(form(ls, gradient="fd", u0=u0, rng=k).n_runs) for k, u0 in enumerate(starts)]
        line = (f"{p.name:<26} {d:3d} | {_spread(search):>14} conv {conv:2d}/{n_seeds} err {max(err):7.1e} | "
                f"{_spread(defaults):>21} | {_spread(checked):>15}")
        best = np.inf
        if have_ot:
            for solver_name in ("AbdoRackwitz", "SQP"):
                counts, errs, ok = [], [], 0
                for u0 in starts:
                    event, function, dist, calls = _ot_event(ls)
                    x0 = dist.getInverseIsoProbabilisticTransformation()(ot.Point(u0))
                    try:
                        algo = ot.FORM(getattr(ot, solver_name)(), event, x0)
                        algo.run()
                        errs.append(abs(algo.getResult().getHasoferReliabilityIndex() - beta_ref))
                        ok += 1
                    except Exception:  # noqa: BLE001 - a peer failing is a result too
                        pass
                    counts.append(calls[0])
                best = min(best, float(np.median(counts)))
                line += f" | {_spread(counts):>14} ok {ok:2d}/{n_seeds} err {max(errs, default=np.nan):7.1e}"
            line += f" | {np.median(search) / best:5.2f}"
        print(line, flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--skip-ak", action="store_true", help="skip AK-MCS (the slowest)")
    parser.add_argument("--skip-openturns", action="store_true")
    parser.add_argument("--seeds", type=int, default=10, help="seeds for the AK-MCS and FORM spreads (>= 10)")
    parser.add_argument("--form-only", action="store_true", help="only the FORM comparison over random starts")
    args = parser.parse_args()
    try:
        import openturns  # noqa: F401

        have_ot = not args.skip_openturns
    except ImportError:
        have_ot = False
        print("openturns not installed: uqbridge only")
    if args.form_only:
        form_seeds(args.seeds, have_ot)
        return
    header = f"{'problem':<26} {'library':<10} {'method':<24} {'pf':>11} {'rel.err':>8} {'CoV':>6} {'runs':>9} {'conv':>4} {'rel':>3} {'wall_s':>6}"
    print(header)
    print("-" * len(header))
    for p in problems():
        for library, fn in (("uqbridge", lambda p=p: ours(p, args.seed, args.skip_ak)),
                            ("openturns", lambda p=p: openturns_rows(p, args.seed) if have_ot else [])):
            rows = fn()
            for name, pf, cov, runs, conv, rel, wall in rows:
                err = (pf - p.pf) / p.pf if np.isfinite(pf) else math.nan
                print(f"{p.name:<26} {library:<10} {name:<24} {pf:11.4e} {err:+8.3f} {cov:6.3f} {runs:9d} "
                      f"{'y' if conv else 'n':>4} {int(rel):>3} {wall:6.1f}")
        print(f"{p.name:<26} {'exact':<10} {p.source[:24]:<24} {p.pf:11.4e}")
        print()
    form_seeds(args.seeds, have_ot)
    if not args.skip_ak:
        ak_seeds(args.seeds)


if __name__ == "__main__":
    main()
