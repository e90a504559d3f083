"""Per-stage surrogates: replace one expensive stage of a chain by a polynomial chaos expansion fitted where
the stage lives (on what its upstream stages feed it), checked on held-out runs, its error kept as a term.

:func:`surrogate_stage` returns a new :class:`~uqbridge.chains.graph.ChainModel` (a ForwardModel) with the stage
replaced and a report Dataset in ``surrogate_reports``; :func:`macro_estimate` gives a macro mean, exceedance
probability or quantile from the surrogate chain plus the surrogate-error term measured on the held-out
runs (a two-fidelity control-variate estimate: unbiased for the true chain).
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

import numpy as np
import xarray as xr
from scipy import special

from .. import checks
from ..designs import unit_design
from ..distributions import Constant, LogNormal, Normal
from ..execution.batch import OK, evaluate
from ..inputs import Input
from ..model import ForwardModel, Output
from ..results import provenance, seed_attr
from .graph import ChainModel, Stage, chain

if TYPE_CHECKING:
    from .._types import SeedLike
    from ..execution.batch import Backend

__all__ = ["macro_estimate", "surrogate_stage"]


def _refuse_moved_fixed(stage: str, fixed: Any, values: Mapping[str, Any]) -> None:
    """A stage surrogate is valid only at the values its fixed inputs had when it was fitted."""
    for name, value in fixed:
        v = np.asarray(values[name], dtype=float)
        if not np.allclose(v, value, rtol=1e-9, atol=0.0):
            raise ValueError(
                f"surrogate of stage {stage!r} was fitted with {name} = {value:g} fixed; refit it "
                f"(surrogate_stage) for other values (got {float(np.ravel(v)[0]):g})"
            )


@dataclass(frozen=True, eq=False)
class _Surrogate:
    """Evaluate the expansion on the varying stage inputs; refuse a fixed input moved off its training value."""

    pce: Any
    varying: tuple[str, ...]
    fixed: tuple[tuple[str, float], ...]
    stage: str
    centre: tuple[tuple[str, str, float, float, bool], ...]  # (output, fitted name, mean, std, log)
    errors: tuple[float, ...] = ()  # per output: cross-validated relative error of the form kept

    def __call__(self, xp: Any = None, **values: Any) -> dict[str, Any]:
        if xp is None:
            _refuse_moved_fixed(self.stage, self.fixed, values)
        ns = np if xp is None else xp
        z = self.pce._evaluate(xp=ns, **{n: values[n] for n in self.varying})
        return {o: ns.exp(mean + std * z[src]) if log else mean + std * z[src] for o, src, mean, std, log in self.centre}

    def sd(self, **values: Any) -> dict[str, np.ndarray]:
        """Error scale per output: the cross-validated RMSE, the same everywhere (relative for a log fit)."""
        mean_values = self(**values)
        out = {}
        for (o, _, _, std, log), err in zip(self.centre, self.errors):
            scale = np.abs(mean_values[o]) if log else np.ones(np.shape(mean_values[o]))
            out[o] = scale * std * (np.sqrt(max(err, 0.0)) if np.isfinite(err) else 1.0)  # no CV error: the spread
        return out


@dataclass(frozen=True, eq=False)
class _GPSurrogate:
    """Gaussian-process stage surrogate (scikit-learn) on the varying stage inputs; same refusal of moved
    fixed inputs as the expansion."""

    gps: tuple[tuple[str, Any, float, float], ...]  # (output, fitted GaussianProcessRegressor, mean, std)
    varying: tuple[str, ...]
    fixed: tuple[tuple[str, float], ...]
    stage: str
    centre: np.ndarray
    spread: np.ndarray

    def _x(self, values: Mapping[str, Any]) -> tuple[np.ndarray, tuple[int, ...]]:
        _refuse_moved_fixed(self.stage, self.fixed, values)
        cols = np.broadcast_arrays(*[np.asarray(values[n], float) for n in self.varying])
        return (np.column_stack([c.ravel() for c in cols]) - self.centre) / self.spread, cols[0].shape

    def __call__(self, xp: Any = None, **values: Any) -> dict[str, Any]:
        x, shape = self._x(values)
        return {o: (mean + std * gp.predict(x)).reshape(shape) for o, gp, mean, std in self.gps}

    def sd(self, **values: Any) -> dict[str, np.ndarray]:
        """Predictive standard deviation per output (the GP's own error model, nugget included)."""
        x, shape = self._x(values)
        return {o: (std * gp.predict(x, return_std=True)[1]).reshape(shape) for o, gp, _, std in self.gps}


def _fit_gp(x: np.ndarray, y: np.ndarray, rng: np.random.Generator, restarts: int = 2) -> Any:
    """GP on standardised data: an anisotropic Matérn-5/2 kernel (length scale per input), a small nugget
    and a quadratic trend (a Bayesian quadratic regression, ``(DotProduct)²``), so that away from the
    training runs the prediction follows the trend and its sd grows with the trend's uncertainty rather
    than reverting, over-confident, to the mean (universal kriging; the tails of a chain's feed are
    where a macro limit state usually is)."""
    from sklearn.gaussian_process import GaussianProcessRegressor
    from sklearn.gaussian_process.kernels import ConstantKernel, DotProduct, Matern, WhiteKernel

    kernel = (ConstantKernel(1.0, (1e-3, 1e3)) * Matern(np.ones(x.shape[1]), (1e-2, 1e3), nu=2.5)
              + WhiteKernel(1e-8, (1e-12, 1e-1)) + ConstantKernel(1.0, (1e-3, 1e3)) * DotProduct(1.0, (1e-2, 1e2)) ** 2)
    gp = GaussianProcessRegressor(kernel, normalize_y=True, n_restarts_optimizer=restarts,
                                  random_state=int(rng.integers(2**31 - 1)))
    return gp.fit(x, y)


def _gp_cv_error(x: np.ndarray, y: np.ndarray, rng: np.random.Generator, folds: int = 5) -> float:
    """Relative K-fold error of the GP (mean squared error / variance), comparable to the PCE's cv_error."""
    order = rng.permutation(len(y))
    err = np.empty(len(y))
    for part in np.array_split(order, folds):
        keep = np.setdiff1d(order, part)
        err[part] = y[part] - _fit_gp(x[keep], y[keep], rng, restarts=0).predict(x[part])
    return float(np.mean(err**2) / max(np.var(y), 1e-300))


@dataclass(frozen=True, eq=False)
class _Feed:
    """The upstream part of a chain as a function: chain inputs -> the values that feed stage ``k``."""

    graph: Any
    k: int
    sources: tuple[tuple[str, str], ...]  # (stage input, chain name)

    def __call__(self, **values: Any) -> dict[str, Any]:
        known = self.graph.run(values, stop=self.k)
        return {f"feed_{own}": known[name] for own, name in self.sources}


def _feed_model(model: ChainModel, k: int) -> ForwardModel:
    sources = model.stage_inputs(k)
    stage = model.stages[k].model
    outs = [Output(f"feed_{own}", stage.inputs[own].units) for own, _ in sources]
    return ForwardModel(f"{model.name}_feed_{stage.name}", _Feed(model.function, k, sources), model.inputs, outs)


def _germ_law(x: np.ndarray) -> Any:
    """Law that defines the expansion's coordinate for a fed input: log-normal for positive inputs spread
    over more than a factor 3, normal otherwise (moments matched to the fed samples)."""
    if np.all(x > 0) and x.max() > 3 * x.min():
        lx = np.log(x)
        return LogNormal(float(lx.mean()), float(lx.std(ddof=1)))
    return Normal(float(x.mean()), float(x.std(ddof=1)))


def _stage_law(model: ChainModel, k: int, own: str, x: np.ndarray) -> Any:
    """Law of the expansion's coordinate for stage input ``own``: the declared law of a chain input the
    stage reads directly (what is known is kept: a Uniform stays a Uniform, its germ exact), a law
    fitted to the fed samples only for a wired input (or an input drawn from joint samples)."""
    source = dict(model.stage_inputs(k)).get(own, own)
    if source in model.inputs.names and not any(source in blk.names for blk in (model.inputs.joint or ())):
        law = model.inputs[source].distribution
        try:
            law.chaospy()
        except Exception:  # noqa: BLE001 - no chaospy equivalent (e.g. Empirical): fit a germ instead
            return _germ_law(x)
        return law
    return _germ_law(x)


def _downstream(model: ChainModel, known: Mapping[str, np.ndarray], k: int) -> dict[str, np.ndarray]:
    """Run stages k, k+1, ... given every value known before stage k (NumPy)."""
    graph = model._graph
    values = dict(known)
    out: dict[str, np.ndarray] = {}
    for j in range(k, len(model.stages)):
        args = {own: values[name] for own, name in graph.arguments[j]}
        res = model.stages[j].model(**args)
        for own, name in graph.results[j]:
            values[name] = out[name] = res[own]
    return out


@dataclass(frozen=True, eq=False)
class _Fit:
    """A fitted stage surrogate: the ForwardModel that replaces the stage and what the report states."""

    surrogate: ForwardModel
    pce: Any
    fit_inputs: list[Input]
    centre: tuple[tuple[str, str, float, float, bool], ...]
    chosen: str
    pce_cv: float
    gp_cv: float


@dataclass(frozen=True, eq=False)
class _Refit:
    """Fit (and refit, as enrichment adds runs) the surrogate of stage ``k`` of ``model``."""

    model: ChainModel
    k: int
    varying: tuple[str, ...]
    fixed: tuple[tuple[str, float], ...]
    method: str
    kind: str
    pce_options: dict[str, Any]

    def __call__(self, x: Mapping[str, np.ndarray], y: Mapping[str, np.ndarray], rng: np.random.Generator) -> _Fit:
        st = self.model.stages[self.k]
        pce, fit_inputs, centre = _fit_stage_pce(self.model, self.k, x, y, self.varying, self.fixed, self.method, rng,
                                                 self.pce_options)
        error = pce.validation["cv_error"].fillna(pce.validation["corrected_loo_error"])
        errors = tuple(float(error.sel(output=src)) for _, src, *_ in centre)
        surrogate = ForwardModel(
            f"{st.name}_pce", _Surrogate(pce, self.varying, self.fixed, st.name, centre, errors), st.model.inputs,
            st.model.outputs,
            description=f"polynomial chaos surrogate of {st.name} fitted on the values its upstream stages feed it",
            differentiable=bool(pce.germ_map.xp_writable),
        )
        pce_cv, gp_cv, chosen = max(errors), float("nan"), "pce"
        if self.kind in ("gp", "auto"):
            gp_surrogate, gp_cv = _fit_stage_gp(st, x, y, self.varying, self.fixed, self.kind, rng)
            if self.kind == "gp" or gp_cv < pce_cv:
                chosen, surrogate = "gp", gp_surrogate
        return _Fit(surrogate, pce, fit_inputs, centre, chosen, pce_cv, gp_cv)


def surrogate_stage(
    model: ChainModel,
    stage: int | str,
    *,
    n_train: int = 200,
    n_test: int = 100,
    design: str = "sobol",
    method: str = "sparse",
    focus: Mapping[str, Any] | None = None,
    enrich: Mapping[str, Any] | None = None,
    kind: str = "pce",
    rng: SeedLike = None,
    backend: Backend | None = None,
    pce_options: Mapping[str, Any] | None = None,
) -> ChainModel:
    """Replace one stage by a polynomial chaos expansion (or a GP) fitted on what the upstream stages feed it.

    The chain's inputs are sampled (``n_train`` points, ``design``), the stages *before* ``stage``
    are run, and the stage's true model is run on the values that reach it — so the surrogate lives
    on the joint distribution the chain actually feeds the stage, not on the stage's own priors. With
    ``enrich``, more true-stage runs are then added, in batches, where the surrogate could still
    misclassify the macro quantity (sequential enrichment, below). A fresh set of ``n_test`` chain
    inputs is run through the true chain from that stage on and through the surrogate chain: the
    held-out errors at the stage and at every downstream output are the report, and the paired macro
    values are kept so that any macro estimate can carry the surrogate error (:func:`macro_estimate`).
    Enrichment runs are training runs, never held-out runs.

    Parameters
    ----------
    model : ChainModel
    stage : int or str
        Index, model name or scale label of the stage to replace.
    n_train, n_test : int
        True-stage runs for the first fit and for the held-out check.
    design : {"sobol", "lhs", "mc", "halton"}
        Training design over the chain inputs.
    method : str
        :func:`uqbridge.pce.fit_pce` method.
    kind : {"pce", "gp", "auto"}
        Surrogate family: polynomial chaos (default), a Gaussian process (scikit-learn
        ``GaussianProcessRegressor``, anisotropic RBF + nugget; not differentiable), or ``"auto"``: both
        are fitted and the one with the lower cross-validated error on the training runs (worst over
        the stage's outputs; K-fold for both) is kept — the held-out runs stay untouched for the report.
    focus : ``{"output": name, "threshold": value}``, optional
        Spend the held-out runs where the surrogate could misclassify a limit state: the held-out
        inputs are resampled from ``20 n_test`` chain-input candidates with probability ∝
        ``α + (1 − α)·1[|y_sur − threshold| ≤ h]`` (``α = 0.2``, a defensive mixture, so every region
        keeps weight; ``h`` = 5 × the surrogate's spread × the root of its worst LOO error) and carry
        importance weights ``holdout_weight``; every held-out statistic is weighted and stays unbiased
        for the chain-input law — the band only lowers the variance of the error term near the threshold.
    enrich : mapping, optional
        Sequential enrichment where the macro quantity is decided, e.g. ``{"output": "margin",
        "threshold": 0.0, "quantile": 0.95, "n_add": 25, "batches": 4}``. Keys: ``output`` (a chain
        output from this stage on; required), ``threshold`` and/or ``quantile`` (one value or a list:
        limit states, and quantile levels whose current surrogate value is the limit state),
        ``n_add`` (true-stage runs per batch, default 20), ``batches`` (at most, default 5),
        ``candidates`` (surrogate-chain runs that find the points, default 20 000), ``tolerance``
        (stop when the predicted SE of every error term is below ``tolerance`` × the plain Monte
        Carlo SE at the same true-stage cost, default 0.3). Each batch: the surrogate chain is run on
        the candidates with the stage's error model (the GP's predictive sd; the PCE's
        cross-validated RMSE) carried through the downstream stages to ``output``; the probability
        that the candidate lies on the other side of a limit state, ``Φ(−|y − t| / sd_y)`` (the
        U-function of AK-MCS, Echard et al. 2011, on the macro limit state), weighs a k-means
        clustering of the candidates in the stage's input space; the most probable misclassification
        of each of ``n_add`` clusters is run on the true stage, and the surrogate refitted. The
        held-out runs are then importance-resampled ∝ ``α + (1 − α)·(mean over limit states of
        Φ(−U)/E[Φ(−U)])`` (``α = 0.2``) from fresh candidates, so they land where a disagreement can
        occur; their weights keep every held-out statistic unbiased. Replaces ``focus``.
    pce_options : mapping, optional
        Passed to :func:`uqbridge.pce.fit_pce` (``degree``, ``max_degree``, ``q_norm``, ...).

    Returns
    -------
    ChainModel
        Same inputs, outputs and stages, with the stage's model replaced by ``<name>_pce`` or
        ``<name>_gp`` (same declared inputs/outputs); ``surrogate_reports`` gains a Dataset with, per
        output from the stage on, ``holdout_rmse``, ``holdout_relative_rmse`` (÷ std of the true
        values), ``holdout_bias`` and its ``holdout_bias_se``, ``holdout_max_abs_error``, and the paired
        ``holdout_reference`` / ``holdout_surrogate`` values (dim ``holdout``). With ``enrich``, also
        the error model on the held-out candidates (``candidate_surrogate``, ``candidate_sd``,
        ``candidate_weight``, dim ``candidate``) that sets the floor of :func:`macro_estimate`'s
        error-term SE, the attrs ``enrich_runs``, ``enrich_history`` and ``sd_scale`` (the factor by
        which the held-out errors say the error model's sd must grow, ≥ 1).

    Notes
    -----
    The expansion's coordinates are the stage inputs that vary over the fed samples, each mapped by
    a normal (or, for positive inputs spread over a factor > 3, log-normal) law matched to the fed
    samples; the fed inputs may be dependent — least squares on samples from their joint law is
    still the best approximation in that law's L². Outputs are standardised before the fit; a positive
    output spread over more than a factor 3 is also fitted in log and the form with the lower
    cross-validated error is kept. Stage inputs that are constant over the fed samples stay fixed:
    the surrogate refuses other values.

    Examples
    --------
    >>> import uqbridge as uq
    >>> cell = uq.ForwardModel("cell", lambda a: {"k": np.exp(a)}, [uq.Input("a", uq.Normal(0, 0.2))], [uq.Output("k")])
    >>> part = uq.ForwardModel("part", lambda k, b: {"y": k**2 + b},
    ...     [uq.Input("k", uq.Uniform(0, 9)), uq.Input("b", uq.Normal(0, 0.1))], [uq.Output("y")])
    >>> g = surrogate_stage(uq.chain(cell, part), "part", n_train=60, n_test=40, rng=0)
    >>> g.stages[1].name, bool(g.surrogate_reports[0]["holdout_relative_rmse"].sel(output="y") < 1e-6)
    ('part_pce', True)
    """
    _check_arguments(model, kind, n_train, n_test)
    start = time.perf_counter()
    k = model.stage_index(stage)
    st = model.stages[k]
    spec = None if enrich is None else _enrich_spec(enrich, model, k, focus)
    seed = seed_attr(rng)
    rng = checks.generator(rng, "surrogate_stage: rng")
    train_rng, test_rng, fit_rng = rng.spawn(3)
    feed = _feed_model(model, k)

    _, x_train, failed_up = _fed(model, k, feed, int(n_train), design, train_rng, backend)
    true_train = evaluate(st.model, x_train, backend=backend)
    ok = true_train.status == OK
    varying, fixed = _varying_and_fixed(st, x_train, ok)
    x_ok = {n: x_train[n][ok] for n in st.model.inputs.names}
    y_ok = {o: true_train.outputs[o][ok] for o in st.model.output_names}
    refit = _Refit(model, k, varying, fixed, method, kind, dict(pce_options or {}))
    fit = refit(x_ok, y_ok, fit_rng)
    enriched: dict[str, Any] = {}
    if spec is not None:
        enrich_rng, holdout_rng = rng.spawn(2)
        fit, x_ok, enriched = _enrich(refit, fit, spec, x_ok, y_ok, int(n_test), enrich_rng, backend)
    result = _with_stage(model, k, fit.surrogate)

    # held-out check: fresh chain inputs (i.i.d., or importance-resampled near a threshold), true chain
    # from stage k on vs surrogate chain
    error_model = None
    if spec is not None:
        values, weight, failed_test, error_model = _enriched_holdout(
            model, result, k, spec, int(n_test), enriched["sd_scale"], holdout_rng)
    elif focus is None:
        values, _, failed_test = _fed(model, k, feed, int(n_test), "mc", test_rng, backend)
        weight = np.ones(len(next(iter(values.values()))))
    else:
        values, weight, failed_test = _focused(model, result, k, focus, int(n_test), fit.pce, test_rng)
    report = _holdout_report(model, result, k, values, weight, None if error_model is None else error_model["holdout_sd"])
    if spec is not None and error_model is not None:
        report = _with_error_model(report, spec, error_model)
    n_true = int(len(ok) + enriched.get("runs", 0) + n_test)
    _label(report, model, fit, st, seed, method, focus, spec, enriched, dict(
        n_train=int(len(x_ok[st.model.inputs.names[0]])), n_test=report.sizes["holdout"], true_stage_runs=n_true,
        failed_train=int((~ok).sum()) + failed_up + enriched.get("failed", 0), failed_test=failed_test,
        varying_inputs=list(varying), fixed_inputs=dict(fixed), wall_time_s=time.perf_counter() - start))
    return replace(result, surrogate_reports=model.surrogate_reports + (report,),
                   description=f"{model.description} [stage {st.name} by {fit.chosen.upper()}, held-out checked]")


def _label(report: xr.Dataset, model: ChainModel, fit: _Fit, st: Stage, seed: Any, method: str,
           focus: Any, spec: _EnrichSpec | None, enriched: Mapping[str, Any], counts: Mapping[str, Any]) -> None:
    """Provenance of the surrogate stage's report (in place)."""
    pce = fit.pce
    cv = pce.validation.get("cv_error")
    design = ("i.i.d. Monte Carlo" if focus is None and spec is None else
              f"importance-resampled near {dict(focus)}" if spec is None else
              f"importance-resampled where the enriched surrogate may misclassify {spec.describe()}")
    extra: dict[str, Any] = {}
    if spec is not None:
        extra = dict(enrich=spec.describe(), enrich_runs=int(enriched.get("runs", 0)),
                     enrich_history=list(enriched.get("history", [])))
    report.attrs.update(provenance(
        model, "surrogate_stage", seed=seed, stage=st.name, scale=st.scale, **counts, pce_method=method,
        holdout_design=design,
        pce_degree=[int(v) for v in pce.validation["selected_degree"].values],
        fitted_in_log=[o for o, _, _, _, log in fit.centre if log],
        pce_cv_error=[float(v) for v in (cv.values if cv is not None else [])],
        germ_laws={i.name: str(i.distribution) for i in fit.fit_inputs}, surrogate_kind=fit.chosen,
        pce_cv_worst=fit.pce_cv, gp_cv_worst=fit.gp_cv, **extra,
    ))


def _check_arguments(model: Any, kind: Any, n_train: Any, n_test: Any) -> None:
    """Refuse a model that is not a chain, an unknown surrogate family and too few runs, before any run."""
    if not isinstance(model, ChainModel):
        raise TypeError(f"surrogate_stage needs a chain (uqbridge.chain), got {type(model).__name__}")
    if kind not in ("pce", "gp", "auto"):
        raise ValueError(f"surrogate_stage: kind={kind!r} is not a surrogate family; use 'pce', 'gp' or 'auto'")
    for name, value in (("n_train", n_train), ("n_test", n_test)):
        if not (isinstance(value, (int, np.integer)) and value >= 10):
            raise ValueError(f"surrogate_stage: {name} must be an integer >= 10, got {value!r}")


def _fed(
    model: ChainModel, k: int, feed: ForwardModel, n: int, design: str, rng: np.random.Generator, backend: Backend | None,
) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray], int]:
    """Chain inputs of a design of ``n`` points, the values the upstream stages feed stage ``k`` from them
    (both without the failed upstream runs), and the number of failed upstream runs."""
    values = model.inputs.from_unit(unit_design(n, model.inputs.dimension, design, rng=rng))
    res = evaluate(feed, values, backend=backend)
    ok = res.status == OK
    values = {key: v[ok] for key, v in values.items()}
    x = {own: res.outputs[f"feed_{own}"][ok] for own, _ in model.stage_inputs(k)}
    return values, x, int((~ok).sum())


def _varying_and_fixed(
    st: Stage, x_train: Mapping[str, np.ndarray], ok: np.ndarray,
) -> tuple[tuple[str, ...], tuple[tuple[str, float], ...]]:
    """Stage inputs that vary over the fed training runs, and the constant ones with their value."""
    varying = tuple(n for n in st.model.inputs.names if np.ptp(x_train[n][ok]) > 0)
    fixed = tuple((n, float(x_train[n][ok][0])) for n in st.model.inputs.names if n not in varying)
    if not varying:
        raise ValueError(f"surrogate_stage: nothing that feeds stage {st.name!r} varies; it needs no surrogate")
    return varying, fixed


def _fit_stage_pce(
    model: ChainModel, k: int, x: Mapping[str, np.ndarray], y_true: Mapping[str, np.ndarray],
    varying: tuple[str, ...], fixed: tuple[tuple[str, float], ...], method: str, fit_rng: np.random.Generator,
    pce_options: Mapping[str, Any],
) -> tuple[Any, list[Input], tuple[tuple[str, str, float, float, bool], ...]]:
    """The expansion fitted on the successful training runs ``x`` -> ``y_true``, its inputs, and per output
    the fitted form kept (name, mean, std, log) — see the Notes of :func:`surrogate_stage`."""
    from ..pce import fit_pce, split_method_keys

    st = model.stages[k]
    fit_inputs = [Input(n, _stage_law(model, k, n, x[n]), units=st.model.inputs[n].units) for n in varying]
    fit_inputs += [Input(n, Constant(v), units=st.model.inputs[n].units) for n, v in fixed]
    # standardised outputs: the expansion's regression and selection then see O(1) numbers whatever the
    # units (a permeability of 1e-13 m^2 included); a positive output spread over more than a factor 3 is
    # also fitted in log (a product of powers of the inputs becomes a sum) and the form with the lower
    # cross-validated relative error is kept
    fitted: dict[str, tuple[str, np.ndarray, bool]] = {}
    for o in st.model.output_names:
        y = y_true[o]
        fitted[o] = (o, y, False)
        if np.all(y > 0) and y.max() > 3 * y.min():
            fitted[f"{o}__log"] = (o, np.log(y), True)
    stats = {name: (float(y.mean()), float(y.std(ddof=1)) or 1.0) for name, (_, y, _) in fitted.items()}
    train = xr.Dataset(
        {**{n: ("sample", x[n]) for n in varying},
         **{name: ("sample", (y - stats[name][0]) / stats[name][1]) for name, (_, y, _) in fitted.items()}}
    )
    fit_model = ForwardModel(st.name, st.model.function, fit_inputs, [Output(name) for name in fitted])
    record, rest = split_method_keys(dict(pce_options), method)
    pce = fit_pce(fit_model, samples=train, method=record, rng=fit_rng, **rest)
    error = pce.validation["cv_error"].fillna(pce.validation["corrected_loo_error"])
    rows = []
    for o in st.model.output_names:
        src = f"{o}__log" if f"{o}__log" in fitted and float(error.sel(output=f"{o}__log")) < float(error.sel(output=o)) else o
        rows.append((o, src, *stats[src], fitted[src][2]))
    return pce, fit_inputs, tuple(rows)


def _fit_stage_gp(
    st: Stage, x: Mapping[str, np.ndarray], y_true: Mapping[str, np.ndarray], varying: tuple[str, ...],
    fixed: tuple[tuple[str, float], ...], kind: str, fit_rng: np.random.Generator,
) -> tuple[ForwardModel, float]:
    """The Gaussian-process surrogate of the stage, and its worst K-fold error (NaN unless ``kind="auto"``)."""
    xg = np.column_stack([x[n] for n in varying])
    centre_x, spread_x = xg.mean(axis=0), np.where(xg.std(axis=0) > 0, xg.std(axis=0), 1.0)
    xs = (xg - centre_x) / spread_x
    gp_rng = np.random.default_rng(fit_rng.integers(2**63 - 1))
    gps = []
    cvs = []
    for o in st.model.output_names:
        y = y_true[o]
        mean, sd = float(y.mean()), float(y.std(ddof=1)) or 1.0
        ys = (y - mean) / sd
        if kind == "auto":
            cvs.append(_gp_cv_error(xs, ys, gp_rng))
        gps.append((o, _fit_gp(xs, ys, gp_rng), mean, sd))
    surrogate = ForwardModel(
        f"{st.name}_gp", _GPSurrogate(tuple(gps), varying, fixed, st.name, centre_x, spread_x),
        st.model.inputs, st.model.outputs,
        description=f"Gaussian-process surrogate of {st.name} fitted on the values its upstream stages feed it",
    )
    return surrogate, max(cvs) if cvs else float("nan")


def _with_stage(model: ChainModel, k: int, surrogate: ForwardModel) -> ChainModel:
    """The chain with stage ``k``'s model replaced by ``surrogate`` (same wiring, inputs and reports)."""
    st = model.stages[k]
    new_stage = Stage(surrogate, scale=st.scale, wires=st.wires, rename=st.rename, adapter=st.adapter)
    stages = list(model.stages)
    stages[k] = new_stage
    rebuilt = chain(*stages, name=model.name, description=model.description)
    return replace(rebuilt, inputs=model.inputs, surrogate_reports=model.surrogate_reports)


def _holdout_report(
    model: ChainModel, result: ChainModel, k: int, values: Mapping[str, np.ndarray], weight: np.ndarray,
    error_sd: np.ndarray | None = None,
) -> xr.Dataset:
    """Held-out errors of the surrogate chain against the true chain from stage ``k`` on (weighted by
    ``weight``); ``error_sd``, the error model's sd of each run, is kept as ``holdout_error_sd``."""
    st = model.stages[k]
    known = model.upstream_values(values, k)
    with np.errstate(all="ignore"):
        reference = _downstream(model, known, k)
        approx = _downstream(result, known, k)
    names = [o for o in model.output_names if o in reference]
    ref = np.column_stack([reference[o] for o in names])
    sur = np.column_stack([approx[o] for o in names])
    good = np.all(np.isfinite(ref) & np.isfinite(sur), axis=1)
    w = weight[good][:, None]
    diff = (sur - ref)[good]
    m = int(good.sum())
    wmean = lambda a: np.mean(w * a, axis=0)  # importance-weighted mean over the held-out runs
    ref_sd = np.sqrt(np.maximum(wmean(ref[good] ** 2) - wmean(ref[good]) ** 2, 0.0)) * np.sqrt(m / max(m - 1, 1))
    report = xr.Dataset(
        {
            "holdout_rmse": ("output", np.sqrt(wmean(diff**2))),
            "holdout_relative_rmse": ("output", np.sqrt(wmean(diff**2)) / np.where(ref_sd > 0, ref_sd, 1.0)),
            "holdout_bias": ("output", wmean(diff)),
            "holdout_bias_se": ("output", np.std(w * diff, axis=0, ddof=1) / np.sqrt(m)),
            "holdout_max_abs_error": ("output", np.abs(diff).max(axis=0)),
            "holdout_reference": (("holdout", "output"), ref[good]),
            "holdout_surrogate": (("holdout", "output"), sur[good]),
            "holdout_weight": ("holdout", weight[good], {"long_name": "importance weight p/q of each held-out run"}),
        },
        coords={"output": names, "holdout": np.arange(m), "stage_output": list(st.model.output_names)},
    )
    report["stage_output_is"] = ("output", np.array([o in dict(model.stage_outputs(k)).values() for o in names]))
    if error_sd is not None:
        report["holdout_error_sd"] = ("holdout", np.asarray(error_sd, float)[good])
    for o in names:
        report.attrs[f"units_{o}"] = model.output(o).units
    return report


def _focused(model, surrogate_chain, k, focus, n_test, pce, rng):
    """Held-out chain inputs resampled towards the surrogate's threshold band, with weights p/q."""
    if not isinstance(focus, Mapping) or not {"output", "threshold"} <= set(focus):
        raise ValueError(f"focus must be {{'output': name, 'threshold': value}}, got {focus!r}")
    output, threshold = str(focus["output"]), float(focus["threshold"])
    surrogate_chain.output(output)
    alpha = 0.2
    cand_rng, pick_rng = rng.spawn(2)
    n_cand = 20 * n_test
    cand = model.inputs.from_unit(unit_design(n_cand, model.inputs.dimension, "mc", rng=cand_rng))
    with np.errstate(all="ignore"):
        y = _downstream(surrogate_chain, model.upstream_values(cand, k), k)[output]
    finite = np.isfinite(y)
    loo = np.asarray(pce.validation["corrected_loo_error"].values, dtype=float)
    worst = float(np.sqrt(np.nanmax(np.clip(loo, 0, 1)))) if loo.size else 0.1
    half = 5.0 * float(np.std(y[finite])) * max(worst, 0.01)
    w = alpha + (1 - alpha) * (np.abs(y - threshold) <= half)
    w[~finite] = alpha
    pick = pick_rng.choice(n_cand, size=n_test, replace=True, p=w / w.sum())
    weight = w.mean() / w[pick]
    return {key: v[pick] for key, v in cand.items()}, weight, int((~finite).sum())


# ---------------------------------------------------------------------------------------------------
# sequential enrichment where the macro quantity is decided

_ENRICH_KEYS = frozenset({"output", "threshold", "quantile", "n_add", "batches", "candidates", "tolerance"})
_ALPHA = 0.2  # defensive share of the held-out proposal: every region keeps weight


@dataclass(frozen=True)
class _EnrichSpec:
    output: str
    thresholds: tuple[float, ...]
    quantiles: tuple[float, ...]
    n_add: int
    batches: int
    candidates: int
    tolerance: float

    def describe(self) -> dict[str, Any]:
        return {"output": self.output, "threshold": list(self.thresholds), "quantile": list(self.quantiles),
                "n_add": self.n_add, "batches": self.batches, "candidates": self.candidates,
                "tolerance": self.tolerance}

    def limits(self, y: np.ndarray) -> list[tuple[float, float]]:
        """``(limit state, probability beyond it)`` per target, quantiles read off the surrogate runs ``y``."""
        finite = y[np.isfinite(y)]
        out = [(t, float(np.mean(finite >= t))) for t in self.thresholds]
        return out + [(float(np.quantile(finite, q)), q) for q in self.quantiles]


def _enrich_spec(enrich: Any, model: ChainModel, k: int, focus: Any) -> _EnrichSpec:
    """Validate ``enrich`` before any run; name the bad key and the fix."""
    if focus is not None:
        raise ValueError("surrogate_stage: give focus= or enrich=, not both (enrichment places the held-out runs itself)")
    if not isinstance(enrich, Mapping) or "output" not in enrich:
        raise ValueError(f"enrich must be a mapping with at least 'output' and a 'threshold' or 'quantile', got {enrich!r}")
    unknown = set(enrich) - _ENRICH_KEYS
    if unknown:
        raise ValueError(f"enrich: unknown keys {sorted(unknown)}; allowed: {sorted(_ENRICH_KEYS)}")
    after = {name for j in range(k, len(model.stages)) for _, name in model.stage_outputs(j)}
    if enrich["output"] not in after:
        raise ValueError(f"enrich: output {enrich['output']!r} is not computed from stage {k} on; choose one of {sorted(after)}")
    as_tuple = lambda v: tuple(float(x) for x in np.atleast_1d(v)) if v is not None else ()  # noqa: E731
    thresholds, quantiles = as_tuple(enrich.get("threshold")), as_tuple(enrich.get("quantile"))
    if not thresholds and not quantiles:
        raise ValueError("enrich: give a 'threshold' (limit state of the output) or a 'quantile' level (e.g. 0.95)")
    if any(not 0 < q < 1 for q in quantiles):
        raise ValueError(f"enrich: quantile levels must lie in (0, 1), got {quantiles}")
    spec = _EnrichSpec(str(enrich["output"]), thresholds, quantiles, int(enrich.get("n_add", 20)),
                       int(enrich.get("batches", 5)), int(enrich.get("candidates", 20_000)),
                       float(enrich.get("tolerance", 0.3)))
    if spec.n_add < 1 or spec.batches < 0 or spec.candidates < 100 or spec.tolerance <= 0:
        raise ValueError(f"enrich: need n_add >= 1, batches >= 0, candidates >= 100, tolerance > 0; got {spec.describe()}")
    return spec


def _macro_spread(chain_sur: ChainModel, k: int, known: Mapping[str, np.ndarray], output: str) -> tuple[np.ndarray, np.ndarray]:
    """Surrogate-chain value of ``output`` and its error sd: the stage surrogate's error model (one sd per
    stage output) carried through the downstream stages by one-sided differences, added in quadrature."""
    graph = chain_sur._graph
    args = {own: known[name] for own, name in graph.arguments[k]}
    func: Any = chain_sur.stages[k].model.function  # _Surrogate or _GPSurrogate: both have .sd
    with np.errstate(all="ignore"):
        mean, sd = func(**args), func.sd(**args)
        base = dict(known)
        base.update({name: np.asarray(mean[own], float) for own, name in graph.results[k]})
        y0 = {**base, **_downstream(chain_sur, base, k + 1)}[output]
        var = np.zeros(np.shape(y0))
        for own, name in graph.results[k]:
            shifted = {**base, name: base[name] + sd[own]}
            var += ({**shifted, **_downstream(chain_sur, shifted, k + 1)}[output] - y0) ** 2
    return np.asarray(y0, float), np.sqrt(var)


def _misclassification(y: np.ndarray, sd: np.ndarray, limit: float) -> np.ndarray:
    """Probability that the true value lies on the other side of ``limit``: Φ(−U), U = |y − limit| / sd."""
    with np.errstate(all="ignore"):
        u = np.abs(y - limit) / np.maximum(sd, 1e-300)
    p = special.ndtr(-u)
    return np.where(np.isfinite(p), p, 0.0)


def _proposal(pm: Sequence[np.ndarray]) -> np.ndarray:
    """Held-out proposal density / chain-input density per candidate: α + (1 − α)·mean_t(Φ(−U_t)/E[Φ(−U_t)])."""
    parts = [p / p.mean() for p in pm if p.mean() > 0]
    share = np.mean(parts, axis=0) if parts else np.ones_like(pm[0])
    return _ALPHA + (1 - _ALPHA) * share


def _predicted_ratio(spec: _EnrichSpec, y: np.ndarray, sd: np.ndarray, n_test: int, runs: int) -> list[float]:
    """Per target: predicted SE of the error term (held-out runs drawn from :func:`_proposal`) over the
    plain Monte Carlo SE of the same quantity at the same true-stage cost."""
    limits = spec.limits(y)
    pm = [_misclassification(y, sd, t) for t, _ in limits]
    r = _proposal(pm)
    out = []
    for (_, p), m in zip(limits, pm):
        var = float(np.mean(m / r)) / n_test + float(np.mean(m)) / y.size
        out.append(float(np.sqrt(var / max(p * (1 - p) / runs, 1e-300))))
    return out


def _pick_batch(x: np.ndarray, score: np.ndarray, n_add: int, rng: np.random.Generator) -> np.ndarray:
    """``n_add`` candidates spread over where misclassification is likely: k-means (weighted by ``score``)
    of the most likely candidates in the stage's standardised input space; per cluster its most likely one."""
    from sklearn.cluster import KMeans

    top = np.argsort(score)[::-1][: max(20 * n_add, n_add)]
    top = top[score[top] > 0]
    if top.size <= n_add:
        return top
    xs = (x[top] - x[top].mean(axis=0)) / np.where(x[top].std(axis=0) > 0, x[top].std(axis=0), 1.0)
    labels = KMeans(n_add, n_init=3, random_state=int(rng.integers(2**31 - 1))).fit(xs, sample_weight=score[top]).labels_
    return np.array([top[labels == c][np.argmax(score[top][labels == c])] for c in np.unique(labels)])


def _enrich(
    refit: _Refit, fit: _Fit, spec: _EnrichSpec, x_ok: dict[str, np.ndarray], y_ok: dict[str, np.ndarray], n_test: int,
    rng: np.random.Generator, backend: Backend | None,
) -> tuple[_Fit, dict[str, np.ndarray], dict[str, Any]]:
    """Add true-stage runs in batches where the surrogate chain may misclassify the macro limit states,
    refitting after each batch, until the predicted error-term SE is small (see ``enrich`` in
    :func:`surrogate_stage`). Returns the last fit, the training inputs and a summary."""
    model, k = refit.model, refit.k
    st = model.stages[k]
    cand_rng, pick_rng, fit_rng = rng.spawn(3)
    cand = model.inputs.from_unit(unit_design(spec.candidates, model.inputs.dimension, "mc", rng=cand_rng))
    with np.errstate(all="ignore"):
        known = model.upstream_values(cand, k)
    stage_x = {own: np.asarray(known[name], float) for own, name in model.stage_inputs(k)}
    x_var = np.column_stack([stage_x[n] for n in refit.varying])
    usable = np.all(np.isfinite(x_var), axis=1)
    history: list[dict[str, Any]] = []
    runs = failed = 0
    scale = 1.0  # the error model's sd scale measured on the last batch (before the refit that uses it)
    for batch in range(spec.batches + 1):
        y, sd = _macro_spread(_with_stage(model, k, fit.surrogate), k, known, spec.output)
        sd = scale * sd
        n_runs = len(y_ok[st.model.output_names[0]]) + n_test
        ratio = _predicted_ratio(spec, y, sd, n_test, n_runs)
        history.append({"batch": batch, "true_stage_runs": n_runs, "sd_scale": round(scale, 3),
                        "predicted_se_ratio": [round(v, 4) for v in ratio], "surrogate": fit.chosen})
        # stop only on an error model already checked against true runs it was not fitted on
        if batch == spec.batches or (batch > 0 and max(ratio) <= spec.tolerance):
            break
        score = sum(_misclassification(y, sd, t) / max(p * (1 - p), 1e-12) for t, p in spec.limits(y))
        pick = _pick_batch(x_var, np.where(usable, score, 0.0), spec.n_add, pick_rng)
        if pick.size == 0:
            break
        usable[pick] = False
        x_new = {n: v[pick] for n, v in stage_x.items()}
        new = evaluate(st.model, x_new, backend=backend)
        ok = new.status == OK
        scale = _sd_scale(fit.surrogate.function, {n: v[ok] for n, v in x_new.items()},
                          {o: new.outputs[o][ok] for o in y_ok})
        runs, failed = runs + pick.size, failed + int((~ok).sum())
        x_ok = {n: np.concatenate([x_ok[n], x_new[n][ok]]) for n in x_ok}
        y_ok = {o: np.concatenate([y_ok[o], new.outputs[o][ok]]) for o in y_ok}
        fit = refit(x_ok, y_ok, fit_rng.spawn(1)[0])
    return fit, x_ok, {"runs": runs, "failed": failed, "history": history, "sd_scale": scale}


def _sd_scale(func: Any, x: Mapping[str, np.ndarray], y: Mapping[str, np.ndarray]) -> float:
    """How much the error model's sd must grow to explain true runs it was not fitted on: the upper 95 %
    bound of the RMS standardised error, max(1, √(Σ z² / χ²₀.₀₅(m))), worst over the stage outputs."""
    from scipy import stats

    if not len(next(iter(y.values()))):
        return 1.0
    with np.errstate(all="ignore"):
        mean, sd = func(**x), func.sd(**x)
    worst = 1.0
    for o in y:
        z2 = ((y[o] - mean[o]) / np.maximum(sd[o], 1e-300)) ** 2
        z2 = z2[np.isfinite(z2)]
        if z2.size:
            worst = max(worst, float(z2.sum() / stats.chi2.ppf(0.05, z2.size)))
    return float(np.sqrt(worst))


def _enriched_holdout(
    model: ChainModel, chain_sur: ChainModel, k: int, spec: _EnrichSpec, n_test: int, scale: float,
    rng: np.random.Generator,
) -> tuple[dict[str, np.ndarray], np.ndarray, int, dict[str, np.ndarray]]:
    """Held-out chain inputs importance-resampled from fresh candidates towards where the enriched surrogate
    may misclassify (:func:`_proposal`, with the error model's sd × ``scale``, the last batch's check),
    their weights p/q, the failures, and the candidates' error model (sd unscaled)."""
    cand_rng, pick_rng = rng.spawn(2)
    n_cand = max(spec.candidates, 20 * n_test)
    cand = model.inputs.from_unit(unit_design(n_cand, model.inputs.dimension, "mc", rng=cand_rng))
    with np.errstate(all="ignore"):
        known = model.upstream_values(cand, k)
    y, sd = _macro_spread(chain_sur, k, known, spec.output)
    finite = np.isfinite(y) & np.isfinite(sd)
    pm = [_misclassification(np.where(finite, y, np.inf), scale * sd, t) for t, _ in spec.limits(y[finite])]
    r = np.where(finite, _proposal(pm), _ALPHA)
    pick = pick_rng.choice(n_cand, size=n_test, replace=True, p=r / r.sum())
    weight = r.mean() / r
    model_arrays = {"y": y[finite], "sd": sd[finite], "weight": weight[finite], "holdout_sd": sd[pick]}
    return {key: v[pick] for key, v in cand.items()}, weight[pick], int((~finite).sum()), model_arrays


def _with_error_model(report: xr.Dataset, spec: _EnrichSpec, arrays: Mapping[str, np.ndarray]) -> xr.Dataset:
    """Add the enriched surrogate's error model to the held-out report, with its scale checked on the
    held-out runs: ``sd_scale`` = max(1, √(Σ z² / χ²₀.₀₅(m))), z = held-out error / predicted sd — the
    upper 95 % bound of the RMS standardised error, so that an over-confident error model is widened."""
    from scipy import stats

    o = spec.output
    err = (report["holdout_reference"].sel(output=o) - report["holdout_surrogate"].sel(output=o)).values
    sd = report["holdout_error_sd"].values
    with np.errstate(all="ignore"):
        z2 = (err / np.maximum(sd, 1e-300)) ** 2
    z2 = z2[np.isfinite(z2)]
    scale = float(np.sqrt(max(1.0, z2.sum() / stats.chi2.ppf(0.05, z2.size)))) if z2.size else float("inf")
    report = report.assign(
        candidate_surrogate=("candidate", arrays["y"]), candidate_sd=("candidate", arrays["sd"]),
        candidate_weight=("candidate", arrays["weight"], {"long_name": "held-out importance weight p/q at the candidate"}),
    )
    report.attrs.update(enrich_output=o, sd_scale=scale)
    return report


def _misclassification_se(diff: np.ndarray, weight: np.ndarray | None = None, floor_rate: float | None = None) -> float:
    """SE of the (importance-weighted) mean of indicator differences (−1/0/1) over the held-out runs.

    So that no disagreement on the held-out runs never claims a zero error, a floor is added in
    quadrature: with ``floor_rate`` (the misclassification rate the surrogate's *measured* held-out
    error implies, see :func:`_implied_rate`) the SE of a ±1 indicator mean with that rate,
    ``√(rate / n)``; without it one pseudo-disagreement of the smallest weight seen (a rate ≈ 1/n).
    """
    weight = np.ones_like(diff) if weight is None else np.asarray(weight, float)
    n = diff.size
    mean = float(np.mean(weight * diff))
    if floor_rate is not None:
        emp = float(np.std(weight * diff, ddof=1) / np.sqrt(n)) if n > 1 else 0.0
        return float(np.hypot(emp, np.sqrt(floor_rate / n)))
    terms = np.append(weight * diff, weight.min())
    return float(np.sqrt(np.sum((terms - mean) ** 2) / (n * max(n - 1, 1))))


def _modelled_se(diff: np.ndarray, weight: np.ndarray, model: tuple[np.ndarray, np.ndarray, np.ndarray], limit: float) -> float:
    """SE of the weighted mean of indicator differences with the enriched surrogate's error model as floor:
    the empirical SE and, in quadrature, the SE that the error model (sd × ``sd_scale``) predicts for these
    held-out weights, ``√(E[w Φ(−U)] / m + E[Φ(−U)] / n_candidates)`` (the second term: the candidates
    the held-out runs were resampled from are themselves a sample)."""
    y, sd, w = model
    n = diff.size
    emp = float(np.std(weight * diff, ddof=1) / np.sqrt(n)) if n > 1 else 0.0
    pm = _misclassification(y, sd, limit)
    return float(np.hypot(emp, np.sqrt(np.mean(w * pm) / n + np.mean(pm) / y.size)))


def _error_model(report: xr.Dataset, output: str) -> tuple[np.ndarray, np.ndarray, np.ndarray] | None:
    """The enriched surrogate's error model on the held-out candidates for ``output`` (sd widened by the
    held-out ``sd_scale``), or None when the report has none for that output."""
    if "candidate_surrogate" not in report or report.attrs.get("enrich_output") != output:
        return None
    scale = float(report.attrs.get("sd_scale", 1.0))
    return (report["candidate_surrogate"].values, scale * report["candidate_sd"].values,
            report["candidate_weight"].values)


def _implied_rate(y: np.ndarray, threshold: float, error: float) -> float:
    """Misclassification rate a measured held-out error allows: the fraction of surrogate runs within
    ``error`` (the largest absolute held-out error) of ``threshold`` — every run that close could lie
    on the other side (conservative: a normal error of the held-out RMSE proved optimistic on a chain
    whose error grows near the limit state). One pseudo-count, (count + 1) / (n + 1), so that a surrogate
    run sample with none that close never claims an exactly zero error."""
    close = int(np.count_nonzero(np.abs(y - threshold) <= error)) if np.isfinite(error) and error > 0 else 0
    return (close + 1) / (y.size + 1)


def macro_estimate(
    model: ChainModel,
    output: str,
    *,
    n: int = 100_000,
    threshold: float | None = None,
    failure: str = "above",
    quantiles: Sequence[float] = (),
    confidence: float = 0.95,
    rng: SeedLike = None,
    backend: Backend | None = None,
) -> xr.Dataset:
    """Macro mean, exceedance probability and quantiles from a surrogate chain, with the surrogate error as a term.

    ``n`` Monte Carlo runs of the (cheap) surrogate chain give the surrogate estimate; the paired
    held-out runs of the last :func:`surrogate_stage` give the surrogate-error term
    ``δ = mean(true − surrogate)`` of the same quantity (for Pf the indicator difference; for a
    quantile level α the CDF difference at the surrogate quantile, mapped back through the
    surrogate's quantile function). The corrected estimate is surrogate + δ, with standard error
    ``√(se_mc² + se_δ²)`` — both terms reported. So that no disagreement among the held-out runs never
    claims a zero error, ``se_δ`` has a floor added in quadrature: for a surrogate fitted with
    ``enrich=`` (and ``output`` its enrichment output) the SE its error model predicts for these
    held-out runs (sd × the held-out ``sd_scale``; see ``_modelled_se``), otherwise the
    misclassification rate that the largest held-out error implies near the threshold.

    Returns
    -------
    xarray.Dataset
        ``mean``, ``mean_surrogate``, ``mean_surrogate_error`` (+ ``_se``); with ``threshold``: ``pf``,
        ``pf_se``, ``pf_low``/``pf_high``, ``pf_surrogate`` (+ ``_se``), ``pf_surrogate_error``
        (+ ``_se``); with ``quantiles``: along ``quantile`` the same terms ``quantile_value``,
        ``quantile_low``/``_high``, ``quantile_surrogate``, ``quantile_cdf_error`` (+ ``_se``).

    Examples
    --------
    >>> import uqbridge as uq
    >>> cell = uq.ForwardModel("cell", lambda a: {"k": np.exp(a)}, [uq.Input("a", uq.Normal(0, 0.3))], [uq.Output("k")])
    >>> part = uq.ForwardModel("part", lambda k, b: {"y": k + b},
    ...     [uq.Input("k", uq.Uniform(0, 9)), uq.Input("b", uq.Normal(0, 0.1))], [uq.Output("y")])
    >>> g = surrogate_stage(uq.chain(cell, part), "cell", n_train=40, n_test=40, rng=0)
    >>> r = macro_estimate(g, "y", n=20000, threshold=1.5, rng=1)
    >>> bool(abs(float(r.pf) - 0.0889) < 4 * float(r.pf_se))    # P(e^a + b > 1.5), quadrature 0.0889
    True
    """
    if not isinstance(model, ChainModel) or not model.surrogate_reports:
        raise ValueError("macro_estimate needs a chain returned by surrogate_stage (it carries the held-out runs)")
    report = model.surrogate_reports[-1]
    if output not in report.output.values:
        raise KeyError(f"output {output!r} is upstream of the surrogate stage or unknown; downstream outputs: {list(report.output.values)}")
    if failure not in ("above", "below"):
        raise ValueError(f"failure must be 'above' or 'below', got {failure!r}")
    seed = seed_attr(rng)
    rng = checks.generator(rng, "macro_estimate: rng")
    values = model.inputs.from_unit(unit_design(int(n), model.inputs.dimension, "mc", rng=rng))
    res = evaluate(model, values, backend=backend)
    y = res.outputs[output][(res.status == OK)]
    ref = report["holdout_reference"].sel(output=output).values
    sur = report["holdout_surrogate"].sel(output=output).values
    wt = report["holdout_weight"].values if "holdout_weight" in report else np.ones_like(ref)
    # the surrogate's measured error (largest over the held-out runs) sets the floor of
    # the error term's SE, not the number of held-out runs
    rmse = float(np.max(np.abs(ref - sur))) if ref.size else 0.0  # largest held-out error (see _implied_rate)
    z = float(special.ndtri(0.5 + confidence / 2))
    data: dict[str, Any] = {}
    d = wt * (ref - sur)
    data["mean_surrogate"] = ((), float(y.mean()))
    data["mean_surrogate_se"] = ((), float(y.std(ddof=1) / np.sqrt(y.size)))
    data["mean_surrogate_error"] = ((), float(d.mean()))
    data["mean_surrogate_error_se"] = ((), float(d.std(ddof=1) / np.sqrt(d.size)))
    data["mean"] = ((), float(y.mean() + d.mean()))
    data["mean_se"] = ((), float(np.hypot(data["mean_surrogate_se"][1], data["mean_surrogate_error_se"][1])))
    if threshold is not None:
        fails = (lambda v: v >= threshold) if failure == "above" else (lambda v: v <= threshold)
        p_s = float(fails(y).mean())
        se_s = float(np.sqrt(max(p_s * (1 - p_s), 1.0 / y.size) / y.size))
        di = fails(ref).astype(float) - fails(sur).astype(float)
        em = _error_model(report, output)
        delta = float(np.mean(wt * di))
        se_d = (_misclassification_se(di, wt, _implied_rate(y, float(threshold), rmse)) if em is None
                else _modelled_se(di, wt, em, float(threshold)))
        pf, se = p_s + delta, float(np.hypot(se_s, se_d))
        data.update(
            pf=((), pf, {"long_name": "surrogate Pf + surrogate-error term (control-variate estimate)"}),
            pf_se=((), se), pf_low=((), max(pf - z * se, 0.0)), pf_high=((), min(pf + z * se, 1.0)),
            pf_surrogate=((), p_s), pf_surrogate_se=((), se_s),
            pf_surrogate_error=((), delta, {"long_name": "mean over held-out runs of 1[true fails] - 1[surrogate fails]"}),
            pf_surrogate_error_se=((), se_d), misclassified=((), int(np.count_nonzero(di))),
        )
    q = np.asarray(quantiles, dtype=float)
    if q.size:
        ys = np.sort(y)
        qs = np.quantile(ys, q)
        dF = np.array([float(np.mean(wt * ((ref <= t).astype(float) - (sur <= t).astype(float)))) for t in qs])
        em = _error_model(report, output)
        se_dF = np.array([
            _misclassification_se((ref <= t).astype(float) - (sur <= t).astype(float), wt, _implied_rate(y, float(t), rmse))
            if em is None else _modelled_se((ref <= t).astype(float) - (sur <= t).astype(float), wt, em, float(t))
            for t in qs])
        se_F = np.sqrt(q * (1 - q) / ys.size + se_dF**2)
        # true CDF at the surrogate quantile is q + dF, so the true α-quantile sits at surrogate level α − dF
        level = np.clip(q - dF, 0, 1)
        data.update(
            quantile_value=("quantile", np.quantile(ys, level)),
            quantile_low=("quantile", np.quantile(ys, np.clip(level - z * se_F, 0, 1))),
            quantile_high=("quantile", np.quantile(ys, np.clip(level + z * se_F, 0, 1))),
            quantile_surrogate=("quantile", qs),
            quantile_cdf_error=("quantile", dF), quantile_cdf_error_se=("quantile", se_dF),
        )
    ds = xr.Dataset(data, coords={"quantile": q} if q.size else {})
    ds.attrs = provenance(
        model, "macro_estimate", seed=seed, output=output, units=model.output(output).units, n_surrogate=int(y.size),
        n_holdout=int(ref.size), true_stage_runs=int(report.attrs.get("true_stage_runs", 0)),
        surrogate_stage=str(report.attrs.get("stage", "")), threshold=threshold if threshold is not None else "none",
        failure=failure, confidence=confidence,
    )
    return ds
