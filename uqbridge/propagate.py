"""Sampling propagation: draw a design, evaluate the model, and summarise outputs with their errors."""

from __future__ import annotations

import math
import time
import warnings
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
import xarray as xr
from scipy import stats
from scipy.stats import qmc

from . import checks
from ._deprecation import NOT_GIVEN, rng_or_seed
from .designs import open_unit, sample_inputs, unit_design
from .execution.batch import OK, Backend, BatchResult, evaluate
from .model import ForwardModel
from .results import provenance, samples_dataset, seed_attr

if TYPE_CHECKING:
    from ._types import SeedLike

__all__ = ["RESERVED_NAMES", "propagate", "quantile_interval", "summarize"]

RESERVED_NAMES = frozenset(
    {"sample", "output", "quantile", "status", "message", "mean", "mean_se", "std", "std_se",
     "quantiles", "quantiles_low", "quantiles_high", "n_ok", "replicate"}
)


def propagate(
    model: ForwardModel,
    n: int,
    *,
    design: str = "sobol",
    rng: SeedLike = None,
    quantiles: Sequence[float] = (0.05, 0.5, 0.95),
    confidence: float = 0.95,
    backend: Backend | None = None,
    batch_size: int | None = None,
    progress: bool | None = None,
    target_cov: float | None = None,
    n_replicates: int = 16,
    seed: Any = NOT_GIVEN,
) -> xr.Dataset:
    """Propagate the model's input distributions to its outputs by sampling.

    Parameters
    ----------
    model : ForwardModel
    n : int
        Number of samples; with ``target_cov``, the most that may be drawn.
    design : {"sobol", "lhs", "mc", "halton"}
        Design in the unit hypercube, mapped through the copula and the marginals.
    rng : int, numpy Generator, SeedSequence or None
        Anything :func:`numpy.random.default_rng` accepts; the same ``rng`` gives the same numbers
        on every backend.
    quantiles : sequence of float
        Output quantiles to report, each with a distribution-free order-statistic interval.
    confidence : float
        Level of the quantile intervals.
    backend, batch_size
        Where and in what batches to evaluate (see :mod:`uqbridge.execution`).
    progress : bool or None
        Progress bar over batches; None: :func:`uqbridge.execution.progress_enabled` decides
        (on a terminal outside CI).
    target_cov : float, optional
        Sample sequentially until the mean of every output is known to this relative standard error,
        ``mean_se <= target_cov * |mean|`` (the coefficient of variation of the mean estimator; the
        stopping rule is in Notes). None (default): exactly ``n`` samples.
    n_replicates : int
        With ``target_cov`` and a design other than "mc": the number of independent randomisations
        (scrambled Sobol'/Halton sequences, Latin hypercubes) whose spread gives ``mean_se`` (at least 2).
        16 by default: stopping on an error estimated from few replicates stops too early too often
        (over 200 seeds of the Ishigami mean, |error| < 2 SE in 89-90 % of the stops with 8 replicates,
        92-93 % with 16; ``benchmarks/target_cov.py``).
    seed
        Deprecated spelling of ``rng`` (a ``DeprecationWarning``; removed in the next release).

    Returns
    -------
    xarray.Dataset
        Inputs and outputs along ``sample``; ``status``/``message`` per sample (failed samples are
        kept and flagged, never dropped); summary variables along ``output`` (and ``quantile``):
        ``mean``, ``mean_se``, ``std``, ``std_se``, ``quantiles``, ``quantiles_low``,
        ``quantiles_high``, ``n_ok``; provenance in ``attrs``.

    Notes
    -----
    Standard errors are the i.i.d. ones (``s/√n`` for the mean, the delta method for the standard
    deviation); for QMC designs they are conservative.

    Stopping at a target (``target_cov``): samples are drawn in rounds, the first of at most 256 points
    (a power of two per replicate), each further round doubling the total (the last one filling up to
    ``n``). After each round, stop when every output has ``mean_se <= target_cov * |mean|``, or when
    ``n`` samples are drawn (``attrs["target_met"]`` false and a ``RuntimeWarning``). With "mc", ``mean_se = s/√n``; with the
    other designs the samples form ``n_replicates`` independent randomised designs (own streams spawned
    from ``rng``) and ``mean`` and ``mean_se`` are the mean and standard error of the replicate means,
    an honest error for QMC (Owen 2013, *Monte Carlo theory, methods and examples*, §17). An output with
    mean 0 has no relative error and never meets the target. ``attrs["stopping_rule"]`` states the rule;
    ``replicate`` labels each sample. The same ``rng`` gives the same samples and the same stop.

    Examples
    --------
    >>> from uqbridge.model import ForwardModel, Output
    >>> from uqbridge.inputs import Input
    >>> from uqbridge.distributions import Normal
    >>> m = ForwardModel("lin", lambda x: {"y": 2 * x + 1}, [Input("x", Normal(0, 1))], [Output("y")])
    >>> ds = propagate(m, 4096, rng=0)
    >>> round(float(ds["mean"].sel(output="y")), 2), round(float(ds["std"].sel(output="y")), 2)
    (1.0, 2.0)

    Until the mean is known to 2 % (relative standard error), within at most 65 536 samples: i.i.d.
    sampling needs about (2/0.02)² = 10⁴ points, randomised Sobol' far fewer:

    >>> for design in ("mc", "sobol"):
    ...     ds = propagate(m, 65536, design=design, target_cov=0.02, rng=0)
    ...     print(design, ds.attrs["n_samples"], bool(ds.attrs["target_met"]), float(ds["mean_se"][0]) <= 0.02)
    mc 16384 True True
    sobol 512 True True
    """
    clash = sorted(RESERVED_NAMES & set(model.inputs.names + model.output_names))
    if clash:
        raise ValueError(f"model {model.name!r} uses reserved name(s) {clash}; rename them")
    rng = rng_or_seed(rng, seed, "propagate")
    seed_value = rng
    rng = checks.generator(rng, "propagate: rng")
    start = time.perf_counter()
    record: dict[str, Any] = {}
    target = math.nan
    if target_cov is None:
        values = sample_inputs(model.inputs, n, design, rng=rng)
        result = evaluate(model, values, backend=backend, batch_size=batch_size, progress=progress)
    else:
        target = _positive_float(target_cov, "target_cov")
        if isinstance(n_replicates, bool) or not isinstance(n_replicates, (int, np.integer)) or n_replicates < 2:
            raise ValueError(f"propagate: n_replicates must be an integer >= 2, got {n_replicates!r}")
        if design not in ("mc", "lhs", "sobol", "halton"):
            sample_inputs(model.inputs, 1, design, rng=0)  # the designs' own error names the valid ones
        values, result, replicate, record = _sequential(model, n, design, rng, target, int(n_replicates),
                                                        backend, batch_size, progress)
    wall = time.perf_counter() - start
    drawn = len(result.status)
    ds = samples_dataset(model, values, result)
    n_failed = int(np.count_nonzero(result.status != OK))
    if n_failed:
        warnings.warn(
            f"model {model.name!r} failed on {n_failed} of {drawn} samples; they are kept with status "
            "and message, and excluded from the statistics",
            RuntimeWarning,
            stacklevel=2,
        )
    ds = ds.merge(summarize(ds, model.output_names, quantiles=quantiles, confidence=confidence))
    if record:
        record = _apply_target(ds, model, result, replicate, record, target, n, design)
    ds.attrs = provenance(
        model, "propagate", design=design, seed=seed_attr(seed_value), n_samples=drawn, n_runs=drawn,
        n_failed=n_failed, wall_time_s=wall, backend=type(backend).__name__ if backend else "InProcess", **record,
    )
    return ds


def _positive_float(value: Any, name: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float, np.floating)) or not 0 < value < math.inf:
        raise ValueError(f"propagate: {name} must be a positive number (e.g. 0.01 for 1 %), got {value!r}")
    return float(value)


def _apply_target(ds: xr.Dataset, model: ForwardModel, result: BatchResult, replicate: np.ndarray,
                  record: dict[str, Any], target_cov: float, n: int, design: str) -> dict[str, Any]:
    """Replicate-based means and errors into ``ds``; the attrs that state the stopping rule."""
    reps = record["n_replicates"]
    if reps:
        ds["replicate"] = ("sample", replicate.astype(np.int16), {"long_name": "independent randomisation"})
        ok = result.status == OK
        for name in model.output_names:
            mean, se = _mean_and_se(result.outputs[name], ok, replicate, reps)
            ds["mean"].loc[{"output": name}] = mean
            ds["mean_se"].loc[{"output": name}] = se
    how = (f"the spread of the means of {reps} independent {design} randomisations" if reps
           else "s/sqrt(n) of i.i.d. samples")
    record["stopping_rule"] = (
        f"sequential: rounds doubling the number of samples, stop when every output has mean_se <= "
        f"{target_cov} * |mean| (mean_se from {how}), or when n={n} samples are drawn")
    record["target_cov"] = target_cov
    record["max_samples"] = n
    if not record["target_met"]:
        warnings.warn(
            f"propagate: target_cov={target_cov} not reached with {len(result.status)} samples (relative SE of "
            f"the worst output's mean {record['history_worst_cov'][-1]:.3g}); raise n (the budget, {n}) or relax "
            "target_cov", RuntimeWarning, stacklevel=3)
    return record


def _sequential(
    model: ForwardModel, n: int, design: str, generator: np.random.Generator, target_cov: float, n_replicates: int,
    backend: Backend | None, batch_size: int | None, progress: bool | None,
) -> tuple[dict[str, np.ndarray], BatchResult, np.ndarray, dict[str, Any]]:
    """Rounds of samples, doubling the total each round, until every output's mean has
    ``mean_se <= target_cov * |mean|`` or the next round would pass ``n`` samples.

    "mc": i.i.d. points, ``mean_se = s/√n``. Other designs: ``n_replicates`` independent randomisations
    (their own streams spawned from ``rng``; Sobol'/Halton sequences extended, Latin hypercubes drawn
    afresh each round), ``mean_se`` the spread of the replicate means over √R (Owen 2013, §17).
    Returns the inputs, the results, the replicate of each sample and the stopping record.
    """
    d = model.inputs.dimension
    replicated = design != "mc"
    reps = n_replicates if replicated else 1
    streams = generator.spawn(reps)
    engines: list[Any] = []
    if design in ("sobol", "halton"):
        kind = qmc.Sobol if design == "sobol" else qmc.Halton
        engines = [kind(d, scramble=True, rng=s) for s in streams]
    # first round: 2^k points per replicate (Sobol' balance), at most 256 in all and within the budget
    per = 2 ** int(np.floor(np.log2(max(min(256, n) // reps, 1))))
    drawn = 0
    inputs: list[dict[str, np.ndarray]] = []
    parts: list[BatchResult] = []
    labels: list[np.ndarray] = []
    history: list[tuple[int, float]] = []
    met = False
    while True:
        units = []
        for r in range(reps):
            if engines:
                with warnings.catch_warnings():
                    warnings.filterwarnings("ignore", message=".*balance properties.*")
                    u = open_unit(engines[r].random(per)) if d else np.empty((per, 0))
            else:
                u = unit_design(per, d, design, rng=streams[r])
            units.append(u)
            labels.append(np.full(per, r))
        inputs.append(model.inputs.from_unit(np.concatenate(units)))
        parts.append(evaluate(model, inputs[-1], backend=backend, batch_size=batch_size, progress=progress))
        drawn += per * reps
        result = BatchResult.concat(parts)
        replicate = np.concatenate(labels)
        worst = max(_relative_se(result, replicate, name, reps) for name in model.output_names)
        history.append((drawn, worst))
        met = worst <= target_cov
        per = min(drawn, n - drawn) // reps  # double the total; the last round fills the budget up
        if met or per < 1:
            break
    values = {name: np.concatenate([part[name] for part in inputs]) for name in inputs[0]}
    record = {"target_met": met, "rounds": len(history), "history_n": [h[0] for h in history],
              "history_worst_cov": [h[1] for h in history], "n_replicates": reps if replicated else 0}
    return values, result, replicate, record


def _relative_se(result: BatchResult, replicate: np.ndarray, name: str, reps: int) -> float:
    """``mean_se / |mean|`` of output ``name`` (inf when it cannot be estimated)."""
    mean, se = _mean_and_se(result.outputs[name], result.status == OK, replicate, reps)
    return float(se / abs(mean)) if np.isfinite(se) and mean != 0 else math.inf


def _mean_and_se(y: np.ndarray, ok: np.ndarray, replicate: np.ndarray, reps: int) -> tuple[float, float]:
    """Mean and its standard error: i.i.d. (one replicate) or from the spread of replicate means."""
    if reps == 1:
        v = y[ok]
        return (float(v.mean()), float(v.std(ddof=1) / math.sqrt(v.size))) if v.size > 1 else (math.nan, math.inf)
    means = np.array([y[ok & (replicate == r)].mean() if np.any(ok & (replicate == r)) else np.nan for r in range(reps)])
    if not np.all(np.isfinite(means)):
        return math.nan, math.inf
    return float(means.mean()), float(means.std(ddof=1) / math.sqrt(reps))


def quantile_interval(y_sorted: np.ndarray, q: np.ndarray, confidence: float) -> tuple[np.ndarray, np.ndarray]:
    """Distribution-free interval ``[Y_(r), Y_(s)]`` for the ``q``-quantiles from sorted samples.

    With ``B ~ Binomial(m, q)`` the number of samples below the quantile, ``P(Y_(r) <= xi_q <= Y_(s))
    = P(r <= B < s) >= confidence`` (equal tails, conservative). Where no order statistic is far
    enough out (``r = 0`` or ``s = m + 1``: too few samples for this ``q`` and level) that side is
    unbounded (``-inf`` / ``+inf``) rather than a sample that would break the stated coverage.

    Examples
    --------
    >>> lo, hi = quantile_interval(np.arange(1.0, 21.0), np.array([0.05, 0.5]), 0.95)
    >>> lo.tolist(), hi.tolist()
    ([-inf, 6.0], [4.0, 15.0])
    """
    m = y_sorted.shape[-1]
    r, s = _order_ranks(m, q, confidence)
    lo = np.where(r >= 1, y_sorted[..., np.clip(r - 1, 0, m - 1)], -np.inf)
    hi = np.where(s <= m, y_sorted[..., np.clip(s - 1, 0, m - 1)], np.inf)
    return lo, hi


def _order_ranks(m: int, q: np.ndarray, confidence: float) -> tuple[np.ndarray, np.ndarray]:
    """1-based ranks ``r, s`` with ``P(B < r) <= alpha/2`` and ``P(B >= s) <= alpha/2``, ``B ~ Bin(m, q)``;
    ``r = 0`` / ``s = m + 1`` where no order statistic qualifies."""
    alpha = 1 - confidence
    r = stats.binom.ppf(alpha / 2, m, q).astype(int)
    s = stats.binom.ppf(1 - alpha / 2, m, q).astype(int) + 1
    return r, s


def _warn_unbounded(name: str, m: int, q: np.ndarray, lo: np.ndarray, hi: np.ndarray, confidence: float) -> None:
    open_ = [float(v) for v, a, b in zip(q, lo, hi) if not (np.isfinite(a) and np.isfinite(b))]
    if open_:
        # a two-sided bound on the q-quantile needs (1 - q)^m <= alpha/2 and q^m <= alpha/2
        alpha = 1 - confidence
        worst = min(min(v, 1 - v) for v in open_)
        need = int(np.ceil(np.log(alpha / 2) / np.log(1 - worst)))
        warnings.warn(
            f"output {name!r}: with {m} successful samples no order statistic bounds quantile(s) {open_} "
            f"at {confidence:.0%} confidence; that side of the interval is unbounded (±inf). "
            f"About {need} samples are needed",
            RuntimeWarning,
            stacklevel=4,
        )


def summarize(
    ds: xr.Dataset,
    outputs: Sequence[str],
    *,
    quantiles: Sequence[float] = (0.05, 0.5, 0.95),
    confidence: float = 0.95,
) -> xr.Dataset:
    """Mean, standard deviation and quantiles of ``outputs`` over successful samples, with errors.

    Examples
    --------
    >>> ds = xr.Dataset({"y": ("sample", np.arange(100.0)), "status": ("sample", np.zeros(100))})
    >>> float(summarize(ds, ["y"])["mean"].sel(output="y"))
    49.5
    """
    for level in quantiles:
        if not 0 < level < 1:
            raise ValueError(f"quantiles must lie in (0, 1), got {level!r}")
    if not 0 < confidence < 1:
        raise ValueError(f"confidence must lie in (0, 1), got {confidence!r}")
    ok = (ds["status"].values == OK) if "status" in ds else np.ones(ds.sizes["sample"], bool)
    q = np.asarray(quantiles, dtype=float)
    rows: dict[str, list[Any]] = {k: [] for k in ("mean", "mean_se", "std", "std_se", "q", "lo", "hi", "n")}
    for name in outputs:
        y = ds[name].values[ok]  # a copy: partitioned in place below
        m = y.size
        mean = y.mean() if m else np.nan
        std = y.std(ddof=1) if m > 1 else np.nan
        dev2 = (y - mean) ** 2 if m else np.nan  # squared twice: ``** 4`` goes through pow(), ~50x slower
        m4 = np.mean(dev2 * dev2) if m else np.nan
        rows["mean"].append(mean)
        rows["mean_se"].append(std / np.sqrt(m) if m > 1 else np.nan)
        rows["std"].append(std)
        rows["std_se"].append(np.sqrt(max(m4 - std**4, 0.0) / m) / (2 * std) if m > 1 and std > 0 else np.nan)
        if m:
            # distribution-free interval from order statistics (see quantile_interval)
            r, t = _order_ranks(m, q, confidence)
            inside = np.clip(np.concatenate([r - 1, t - 1]), 0, m - 1)
            rows["q"].append(_partition_quantiles(y, q, inside))
            lo = np.where(r >= 1, y[np.clip(r - 1, 0, m - 1)], -np.inf)
            hi = np.where(t <= m, y[np.clip(t - 1, 0, m - 1)], np.inf)
            rows["lo"].append(lo)
            rows["hi"].append(hi)
            _warn_unbounded(name, m, q, lo, hi, confidence)
        else:
            rows["q"].append(np.full(q.size, np.nan))
            rows["lo"].append(np.full(q.size, np.nan))
            rows["hi"].append(np.full(q.size, np.nan))
        rows["n"].append(m)
    out = list(outputs)
    return xr.Dataset(
        {
            "mean": ("output", np.array(rows["mean"], float)),
            "mean_se": ("output", np.array(rows["mean_se"], float)),
            "std": ("output", np.array(rows["std"], float)),
            "std_se": ("output", np.array(rows["std_se"], float)),
            "quantiles": (("output", "quantile"), np.array(rows["q"], float).reshape(len(out), q.size)),
            "quantiles_low": (("output", "quantile"), np.array(rows["lo"], float).reshape(len(out), q.size)),
            "quantiles_high": (("output", "quantile"), np.array(rows["hi"], float).reshape(len(out), q.size)),
            "n_ok": ("output", np.array(rows["n"], np.int64)),
        },
        coords={"output": out, "quantile": q},
        attrs={"confidence": confidence},
    )


def _partition_quantiles(y: np.ndarray, q: np.ndarray, ranks: np.ndarray) -> np.ndarray:
    """``np.quantile(y, q)`` (its default linear method), placing the order statistics ``ranks`` too.

    Partitions ``y`` in place at the few ranks needed — O(n), where a full sort is O(n log n) and
    dominated ``propagate`` at 10^6 samples — so ``y[k]`` is the k-th smallest for every k used.
    """
    position = q * (y.size - 1)
    below = np.floor(position).astype(np.int64)
    above = np.minimum(below + 1, y.size - 1)
    y.partition(np.unique(np.concatenate([below, above, ranks])))
    a, b, t = y[below], y[above], position - below
    # NumPy's _lerp, so the result equals np.quantile bit for bit
    return np.where(t >= 0.5, b - (b - a) * (1 - t), a + (b - a) * t)
