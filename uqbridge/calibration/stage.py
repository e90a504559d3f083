"""Calibrate one stage of a chain (any stage's outputs) and hand the posterior to everything downstream.

``observed_model`` cuts a chain after the last stage whose outputs are observed (later stages and their
inputs play no part in the likelihood); ``posterior_model`` puts the posterior of the calibrated inputs
back into the full model, jointly (a Gaussian copula fitted to the draws, or the draws themselves);
``calibration_table`` and ``predictive_table`` are the before/after datasets of a calibrate step.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

import numpy as np
import xarray as xr
from scipy import stats

from ..distributions import Normal
from ..inputs import Input, InputSet
from ..model import ForwardModel, Output

if TYPE_CHECKING:
    from .._types import SeedLike

__all__ = ["POSTERIOR_FORMS", "STEP_KEYS", "StepResult", "calibrate_step", "calibration_table", "cross_scale_correlation", "whitened", "observed_model", "posterior_model", "predictive_table"]

#: How the posterior replaces the prior: ``gaussian`` (normal marginals with the posterior mean and sd,
#: Gaussian copula with the normal-score correlations of the draws: smooth, so FORM/SORM work on it) or
#: ``samples`` (the draws themselves, resampled row by row: exact, but no density, so FORM refuses it).
POSTERIOR_FORMS = ("gaussian", "samples")


class _Upstream:
    """Picklable function: the chain's stages up to ``stop`` (exclusive), returning ``outputs``."""

    def __init__(self, graph: Any, stop: int, outputs: Sequence[str]) -> None:
        self.graph, self.stop, self.outputs = graph, stop, tuple(outputs)

    def __call__(self, xp: Any = None, **values: Any) -> dict[str, Any]:
        known = self.graph.run(values, xp=xp, stop=self.stop)
        return {o: known[o] for o in self.outputs}


def observed_model(model: ForwardModel, outputs: Sequence[str]) -> ForwardModel:
    """The part of ``model`` that produces ``outputs``: for a chain, its stages up to the last one observed.

    Inputs read only by later stages are dropped (they do not enter the likelihood and would otherwise
    become per-specimen latents); the inputs kept have the full model's declarations (study overrides
    included). A plain ForwardModel, or a chain observed at its last stage, is returned unchanged.

    Examples
    --------
    >>> import uqbridge as uq
    >>> a = uq.ForwardModel("micro", lambda t, xp=None: {"y1": t}, [uq.Input("t", uq.Normal(0, 1), "epistemic")],
    ...                     [uq.Output("y1")], differentiable=True)
    >>> b = uq.ForwardModel("macro", lambda y1, x, xp=None: {"y2": y1 + x},
    ...                     [uq.Input("y1", uq.Normal(0, 1)), uq.Input("x", uq.Normal(0, 1))], [uq.Output("y2")],
    ...                     differentiable=True)
    >>> sub = observed_model(uq.chain(a, b), ["y1"])
    >>> sub.inputs.names, sub.output_names
    (('t',), ('y1',))
    """
    from ..chains.graph import ChainModel

    missing = [o for o in outputs if o not in model.output_names]
    if missing:
        raise KeyError(f"calibrate observe: model {model.name!r} has no output(s) {missing}; its outputs: {list(model.output_names)}")
    if not isinstance(model, ChainModel):
        return model
    where = {name: k for k, res in enumerate(model._graph.results) for _, name in res}
    last = max(where[o] for o in outputs)
    if last == len(model.stages) - 1:
        return model
    stages = model.stages[: last + 1]
    read = {name for args in model._graph.arguments[: last + 1] for _, name in args}
    inputs = [i for i in model.inputs if i.name in read]
    names = {i.name for i in inputs}
    corr = {k: v for k, v in (model.inputs.correlation or {}).items() if k[0] in names and k[1] in names}
    produced = [name for res in model._graph.results[: last + 1] for _, name in res]
    declared = {o.name: o for o in model.outputs}
    return ForwardModel(
        f"{model.name}[:{stages[-1].name}]",
        _Upstream(model._graph, last + 1, produced),
        InputSet(tuple(inputs), correlation=corr),
        tuple(declared.get(n, Output(n)) for n in produced),
        description=f"stages {[s.name for s in stages]} of {model.name} (what the observed outputs depend on)",
        differentiable=all(s.model.differentiable for s in stages),
    )


class _Whitened:
    """Picklable function of standard-normal scores ``z``: ``x = mu + sigma z`` (Normal) or ``exp(mu + sigma z)``
    (LogNormal) for each whitened input, then the model."""

    def __init__(self, model: ForwardModel, maps: Mapping[str, tuple[str, float, float]]) -> None:
        self.model, self.maps = model, dict(maps)

    def physical(self, values: Mapping[str, Any], xp: Any = np) -> dict[str, Any]:
        out = dict(values)
        for name, (law, mu, sigma) in self.maps.items():
            z = out.pop(f"z_{name}")
            out[name] = mu + sigma * z if law == "normal" else xp.exp(mu + sigma * z)
        return out

    def __call__(self, xp: Any = None, **values: Any) -> dict[str, Any]:
        x = self.physical(values, np if xp is None else xp)
        return dict(self.model.function(**x, xp=xp) if xp is not None else self.model.function(**x))


def whitened(model: ForwardModel) -> tuple[ForwardModel, _Whitened]:
    """The same model with each Normal/LogNormal epistemic input ``a`` replaced by its score ``z_a ~ N(0, 1)``.

    Same posterior, but NUTS sees unit-scale priors: inputs whose priors differ by orders of magnitude in
    spread (EMT's s0 at 0.5 % and a model error at 10 %) no longer force a tiny step size.

    Examples
    --------
    >>> import uqbridge as uq
    >>> m = uq.ForwardModel("id", lambda a, xp=None: {"y": a}, [uq.Input("a", uq.LogNormal(0.0, 0.1), "epistemic")],
    ...                     [uq.Output("y")], differentiable=True)
    >>> w, f = whitened(m)
    >>> w.inputs.names, round(float(w(z_a=1.0)["y"][0]), 4)
    (('z_a',), 1.1052)
    """
    from ..distributions import LogNormal

    maps: dict[str, tuple[str, float, float]] = {}
    inputs = []
    for i in model.inputs:
        d = i.distribution
        if i.kind == "epistemic" and isinstance(d, (Normal, LogNormal)) and type(d) in (Normal, LogNormal):
            maps[i.name] = ("normal" if isinstance(d, Normal) else "lognormal", float(d.mu), float(d.sigma))
            inputs.append(Input(f"z_{i.name}", Normal(0.0, 1.0), "epistemic", "-", f"prior normal score of {i.name}"))
        else:
            inputs.append(i)
    function = _Whitened(model, maps)
    return ForwardModel(f"{model.name}_whitened", function, inputs, model.outputs, description=model.description,
                        differentiable=model.differentiable), function


def _normal_scores(x: np.ndarray) -> np.ndarray:
    return stats.norm.ppf((stats.rankdata(x) - 0.5) / x.size)


def _nearest_correlation(c: np.ndarray, floor: float = 1e-6) -> np.ndarray:
    """Clip the eigenvalues of a (sample) correlation matrix to ``floor`` and rescale to unit diagonal."""
    w, v = np.linalg.eigh(c)
    fixed = (v * np.maximum(w, floor)) @ v.T
    d = np.sqrt(np.diag(fixed))
    return fixed / np.outer(d, d)


def posterior_model(
    model: ForwardModel, draws: Mapping[str, np.ndarray], *, form: str = "gaussian", correlation: str = "all"
) -> ForwardModel:
    """``model`` with the inputs in ``draws`` replaced, jointly, by their posterior.

    Parameters
    ----------
    model : ForwardModel
        The full model (e.g. the whole chain), whose epistemic inputs were calibrated on part of it.
    draws : mapping of input name to ``(n_draws,)`` posterior draws
    form : {"gaussian", "samples"}
        See :data:`POSTERIOR_FORMS`. ``gaussian`` keeps the correlations of the draws through a Gaussian
        copula (rank correlations of the draws' normal scores, made positive definite); exact for a
        Gaussian posterior (e.g. a linear-Gaussian stage), an approximation otherwise.
    correlation : {"all", "within_scale"}
        ``within_scale`` (gaussian form, chains only) keeps the posterior correlations between inputs of
        the same scale and drops those across scales, so that per-scale variance shares stay defined
        (they need independent groups); the largest dropped ``|rho|`` is in ``attrs`` of
        :func:`calibration_table` (``dropped_correlation``) via :func:`cross_scale_correlation`.

    Examples
    --------
    >>> import uqbridge as uq
    >>> m = uq.ForwardModel("sum", lambda a, b: {"y": a + b},
    ...                     [uq.Input("a", uq.Normal(0, 1), "epistemic"), uq.Input("b", uq.Normal(0, 1), "epistemic")],
    ...                     [uq.Output("y")])
    >>> a = np.random.default_rng(0).normal(2.0, 0.1, 4000)
    >>> post = posterior_model(m, {"a": a, "b": -a + np.random.default_rng(1).normal(0, 0.01, 4000)})
    >>> round(post.inputs["a"].distribution.mu, 1), round(post.inputs.correlation[("a", "b")], 2)
    (2.0, -0.99)
    """
    if form not in POSTERIOR_FORMS:
        raise ValueError(f"form must be one of {POSTERIOR_FORMS}, got {form!r}")
    names = list(draws)
    missing = [n for n in names if n not in model.inputs.names]
    if missing:
        raise KeyError(f"draws: model {model.name!r} has no input(s) {missing}; inputs: {list(model.inputs.names)}")
    values = {n: np.asarray(draws[n], dtype=float).ravel() for n in names}
    if form == "samples":
        return model.with_joint_samples(values)
    new = []
    for i in model.inputs:
        if i.name in values:
            x = values[i.name]
            sd = float(x.std(ddof=1))
            if not sd > 0:
                raise ValueError(f"draws[{i.name!r}]: the posterior draws do not vary; cannot fit a distribution")
            i = Input(i.name, Normal(float(x.mean()), sd), i.kind, i.units, f"{i.description} [posterior]")
        new.append(i)
    corr = {k: v for k, v in (model.inputs.correlation or {}).items() if k[0] not in values and k[1] not in values}
    if correlation not in ("all", "within_scale"):
        raise ValueError(f"correlation must be 'all' or 'within_scale', got {correlation!r}")
    scale = getattr(model, "input_scale", None) if correlation == "within_scale" else None
    if correlation == "within_scale" and scale is None:
        raise ValueError(f"correlation='within_scale' needs a chain (inputs with scales); {model.name!r} is not one")
    blocks = [[n for n in names if scale[n] == sc] for sc in dict.fromkeys(scale[n] for n in names)] if scale else [names]
    for block in blocks:
        if len(block) < 2:
            continue
        z = np.array([_normal_scores(values[n]) for n in block])
        c = _nearest_correlation(np.corrcoef(z))
        for a in range(len(block)):
            for b in range(a + 1, len(block)):
                rho = float(np.clip(c[a, b], -0.999, 0.999))
                if abs(rho) > 1e-3:
                    corr[(block[a], block[b])] = rho
    return replace(model, inputs=InputSet(tuple(new), correlation=corr, joint=model.inputs.joint))


def cross_scale_correlation(model: ForwardModel, draws: Mapping[str, np.ndarray]) -> tuple[float, str]:
    """Largest ``|rho|`` (normal-score correlation of the draws) between calibrated inputs of different scales.

    Examples
    --------
    >>> import uqbridge as uq
    >>> g = uq.chain(uq.ForwardModel("m1", lambda a: {"u": a}, [uq.Input("a", uq.Normal(0, 1), "epistemic")], [uq.Output("u")]),
    ...              uq.ForwardModel("m2", lambda u, b: {"y": u + b}, [uq.Input("u", uq.Normal(0, 1)),
    ...                              uq.Input("b", uq.Normal(0, 1), "epistemic")], [uq.Output("y")]))
    >>> x = np.random.default_rng(0).normal(size=2000)
    >>> rho, pair = cross_scale_correlation(g, {"a": x, "b": -x})
    >>> round(rho, 2), pair
    (1.0, 'a-b')
    """
    scale = getattr(model, "input_scale", None)
    names = list(draws)
    if scale is None or len(names) < 2:
        return 0.0, ""
    z = np.array([_normal_scores(np.asarray(draws[n], dtype=float).ravel()) for n in names])
    c = np.corrcoef(z)
    best, pair = 0.0, ""
    for a in range(len(names)):
        for b in range(a + 1, len(names)):
            if scale[names[a]] != scale[names[b]] and abs(c[a, b]) > best:
                best, pair = float(abs(c[a, b])), f"{names[a]}-{names[b]}"
    return best, pair


def _interval(x: np.ndarray, level: float) -> tuple[float, float]:
    lo, hi = np.quantile(x, [(1 - level) / 2, (1 + level) / 2])
    return float(lo), float(hi)


def calibration_table(
    prior: ForwardModel, draws: Mapping[str, np.ndarray], *, rng: SeedLike = None, n_prior: int = 4000, level: float = 0.9
) -> xr.Dataset:
    """Prior and posterior of each calibrated input side by side (dim ``parameter``).

    Prior moments and interval from ``n_prior`` draws of the declared distribution (exact moments would
    need each family's formulas; 4000 draws put them within ~2 % of the sd).

    Examples
    --------
    >>> import uqbridge as uq
    >>> m = uq.ForwardModel("id", lambda a: {"y": a}, [uq.Input("a", uq.Normal(0, 1), "epistemic")], [uq.Output("y")])
    >>> t = calibration_table(m, {"a": np.random.default_rng(0).normal(1.0, 0.1, 2000)}, rng=0)
    >>> round(float(t["posterior_mean"].sel(parameter="a")), 2), list(t.data_vars)[:2]
    (1.0, ['prior_mean', 'prior_sd'])
    """
    gen = np.random.default_rng(rng)
    names = list(draws)
    cols: dict[str, list[float]] = {k: [] for k in ("prior_mean", "prior_sd", "prior_low", "prior_high",
                                                    "posterior_mean", "posterior_sd", "posterior_low", "posterior_high")}
    for n in names:
        p = np.asarray(prior.inputs[n].distribution.ppf(gen.random(n_prior)), dtype=float)
        q = np.asarray(draws[n], dtype=float).ravel()
        for tag, x in (("prior", p), ("posterior", q)):
            cols[f"{tag}_mean"].append(float(x.mean()))
            cols[f"{tag}_sd"].append(float(x.std(ddof=1)))
            lo, hi = _interval(x, level)
            cols[f"{tag}_low"].append(lo)
            cols[f"{tag}_high"].append(hi)
    ds = xr.Dataset({k: ("parameter", np.array(v)) for k, v in cols.items()}, coords={"parameter": names})
    for n in names:
        ds.attrs[f"units_{n}"] = prior.inputs[n].units or "-"
    ds.attrs["interval"] = level
    return ds


def predictive_table(
    observed: np.ndarray, predicted: np.ndarray, labels: Sequence[str], *, level: float = 0.9
) -> xr.Dataset:
    """Observed values against the predictive band of each (dim ``point``): median, interval, covered.

    Parameters
    ----------
    observed : ``(n_point,)`` measured values
    predicted : ``(n_draws, n_point)`` predictive draws at the same points
    labels : point labels

    Examples
    --------
    >>> pred = np.random.default_rng(0).normal([1.0, 5.0], 0.1, size=(4000, 2))
    >>> t = predictive_table(np.array([1.05, 6.0]), pred, ["a", "b"])
    >>> t["covered"].values.tolist(), float(t.attrs["coverage"])
    ([True, False], 0.5)
    """
    observed = np.asarray(observed, dtype=float)
    predicted = np.asarray(predicted, dtype=float)
    if predicted.ndim != 2 or predicted.shape[1] != observed.size:
        raise ValueError(f"predicted: expected shape (n_draws, {observed.size}), got {predicted.shape}")
    good = np.isfinite(predicted).all(axis=1)
    predicted = predicted[good]
    lo, med, hi = np.quantile(predicted, [(1 - level) / 2, 0.5, (1 + level) / 2], axis=0)
    covered = (observed >= lo) & (observed <= hi)
    return xr.Dataset(
        {"observed": ("point", observed), "predicted_median": ("point", med), "predicted_low": ("point", lo),
         "predicted_high": ("point", hi), "covered": ("point", covered)},
        coords={"point": list(labels)},
        attrs={"coverage": float(covered.mean()), "nominal": level, "n_draws": int(predicted.shape[0])},
    )


# ---- the study step -------------------------------------------------------------------------------
@dataclass(frozen=True)
class StepResult:
    """What a calibrate step returns: its datasets, the model whose calibrated inputs follow the posterior,
    and the verdict every later result of the study carries (``stamp``, ``inputs``, ``compare``)."""

    results: dict[str, xr.Dataset]
    model: ForwardModel
    verdict: dict[str, Any]


#: Keys of a ``kind = "calibrate"`` analysis in a study file (see :func:`calibrate_step`).
STEP_KEYS = frozenset({
    "data", "observe", "noise", "discrepancy", "path", "draws", "tune", "chains", "target_accept", "mass_matrix",
    "thresholds", "adequacy", "posterior", "correlation", "compare", "validate", "source",
})
#: The study keys that fill the :class:`~uqbridge.calibration.Sampling` record (same names as its fields).
_SAMPLING_KEYS = ("draws", "tune", "chains", "target_accept", "mass_matrix")
_VALIDATE_KEYS = frozenset({"data", "output", "column", "n", "quantity", "reference", "reference_kind", "level"})


def _read_table(data: Any, base: str | None, where: str) -> tuple[Any, str]:
    """A CSV path (relative to the study file) or an inline ``{column: value(s)}`` table → DataFrame, source."""
    import os

    import pandas as pd

    if isinstance(data, Mapping):
        frame = pd.DataFrame({k: np.atleast_1d(np.asarray(v, dtype=float)) for k, v in data.items()})
        return frame, "inline table in the study file"
    if not isinstance(data, str):
        raise ValueError(f"{where}: data must be a CSV path (relative to the study file) or an inline table "
                         f"{{column = value}}, got {data!r}")
    path = data if os.path.isabs(data) or base is None else os.path.join(base, data)
    if not os.path.isfile(path):
        raise FileNotFoundError(f"{where}: no data file at {path!r} (data paths are relative to the study file)")
    with open(path, encoding="utf-8") as fh:
        header = [line[1:].strip() for line in fh if line.startswith("#")]
    source = next((h.split(":", 1)[1].strip() for h in header if h.lower().startswith("source")), os.path.basename(path))
    return pd.read_csv(path, comment="#", skipinitialspace=True), source


def _noise_spec(noise: Any, frame: Any, observe: Mapping[str, str], where: str) -> Any:
    if noise == "data":
        out = {}
        for column, output in observe.items():
            sd_column = f"{column}_sd"
            if sd_column not in frame:
                raise KeyError(f"{where}: noise = 'data' needs a column {sd_column!r} (the stated uncertainty, 1 sd); "
                               f"columns: {list(frame.columns)}")
            sd = np.asarray(frame[sd_column], dtype=float)
            if sd.size != 1 and not np.allclose(sd, sd[0]):
                raise ValueError(f"{where}: {sd_column} differs between rows; give one sd per output (or noise = {{...}})")
            out[output] = ("known", float(sd[0]))
        return out
    if isinstance(noise, Mapping):
        return {observe.get(k, k): ("known", float(v)) if isinstance(v, (int, float)) else v for k, v in noise.items()}
    return noise


def _stamp(result: Any) -> str:
    from .adequacy import adequacy_failures
    from .diagnostics import failures

    if result.passed:
        return "passed"
    if not result.converged:
        reasons = failures(result.diagnostics) + [w for w in result.warnings if w.startswith("surrogate")]
        return f"failed convergence: {'; '.join(reasons) or 'see the calibration warnings'}"
    reasons = adequacy_failures(result.residuals, result.identifiability) if result.residuals is not None else []
    return f"failed adequacy: {'; '.join(reasons) or '; '.join(result.warnings)}"


def _validation(model: ForwardModel, spec: Mapping[str, Any], base: str | None, rng: SeedLike) -> xr.Dataset:
    """Held-out check of ``model`` (prior or posterior) on data that no calibration used."""
    bad = sorted(set(spec) - _VALIDATE_KEYS)
    if bad:
        raise ValueError(f"calibrate validate: unknown key(s) {bad}; valid keys: {sorted(_VALIDATE_KEYS)}")
    if "data" not in spec or "output" not in spec:
        raise KeyError("calibrate validate: 'data' (CSV or inline table) and 'output' (model output) are required")
    frame, source = _read_table(spec["data"], base, "calibrate validate")
    column = spec.get("column", "value")
    if column not in frame:
        raise KeyError(f"calibrate validate: data has no column {column!r}; columns: {list(frame.columns)}")
    output, level, n = spec["output"], float(spec.get("level", 0.9)), int(spec.get("n", 2000))
    sub = observed_model(model, [output])
    x = sub.inputs.from_unit(np.random.default_rng(rng).random((n, len(sub.inputs.dimension_names))))
    pred = np.asarray(sub(**x)[output], dtype=float)
    observed = np.asarray(frame[column], dtype=float)
    labels = [str(v) for v in frame["label"]] if "label" in frame else [f"{column}[{k}]" for k in range(observed.size)]
    table = predictive_table(observed, np.repeat(pred[:, None], observed.size, axis=1), labels, level=level)
    tolerance = np.asarray(frame["tolerance"], dtype=float) if "tolerance" in frame else np.full(observed.size, np.inf)
    error = table["predicted_median"].values - observed
    table["relative_error"] = ("point", error / observed)
    table["tolerance"] = ("point", tolerance)
    within = np.abs(error) <= tolerance
    passed = bool(table["covered"].values.all() and within.all())
    kind = spec.get("reference_kind", str(frame["kind"].iloc[0]) if "kind" in frame else "measured")
    table.attrs.update(
        analysis="validation", quantity=spec.get("quantity", output), output=output,
        reference=spec.get("reference", source), reference_kind=kind, passed=int(passed), n_runs=n,
        summary=(
            f"{spec.get('quantity', output)}: predicted median {float(np.median(pred)):.4g} "
            f"({level:.0%} band {float(table['predicted_low'][0]):.4g}-{float(table['predicted_high'][0]):.4g}) "
            f"against {kind} {', '.join(f'{v:.4g}' for v in observed)} (tolerance {', '.join(f'{t:.3g}' for t in tolerance)}, "
            f"stated in the data file before comparing): {'passed' if passed else 'FAILED'}"
        ),
    )
    return table


def calibrate_step(
    model: ForwardModel, options: Mapping[str, Any], *, rng: SeedLike = None, base: str | None = None
) -> StepResult:
    """One ``calibrate`` step of a study: fit the epistemic inputs upstream of the observed outputs, return
    the before/after datasets and the model whose calibrated inputs follow the posterior.

    Options (keys of the study's ``[[analyses]]`` table):

    - ``data``: CSV path (relative to the study file; ``#`` header lines name the source) or an inline
      table ``{column = value}``; one row per observation.
    - ``observe``: ``{data column = model output}`` or a list of outputs named like the columns. Any
      output of a chain (every intermediate is one) can be observed; the chain is cut after the last
      observed stage (:func:`observed_model`).
    - ``noise``: ``"data"`` (known sd from the ``<column>_sd`` columns: the data's stated
      uncertainty), a number or ``{output = sd}`` (known), or ``"unknown"`` (see
      :func:`uqbridge.calibration.build_model`).
    - ``discrepancy``: ``"none"`` (default: the model's own explicit model-error inputs, if any, are
      calibrated with the rest) or ``"relative"`` (a multiplicative discrepancy per output,
      :class:`~uqbridge.calibration.RelativeDiscrepancy`; needs ``posterior = "samples"``).
    - ``path``, ``draws``, ``tune``, ``chains``, ``target_accept``, ``mass_matrix``: sampler (see
      :func:`uqbridge.calibration.calibrate`; ``auto`` = NUTS through a differentiable observed part, else SMC).
    - ``thresholds`` (``rhat``, ``ess``, ``divergences``) and ``adequacy`` (``levels``, ``z``,
      ``min_data_share``, ``min_contraction``): the two gates.
    - ``posterior``: ``"gaussian"`` or ``"samples"`` (:data:`POSTERIOR_FORMS`); ``correlation``:
      ``"all"`` (default) or ``"within_scale"`` (see :func:`posterior_model`; the largest dropped
      correlation is reported).
    - ``compare``: also run every later analysis on the prior model (results suffixed ``_prior``).
    - ``validate``: ``{data, output, column = "value", n, quantity, reference, reference_kind}``: a
      held-out check of the posterior (and, with ``compare``, of the prior) on data not used here.
    - ``source``: citation of the data (default: the ``# source:`` header line of the CSV).

    Returns
    -------
    StepResult
        ``results``: the ``calibration``, ``calibration_fit`` [, ``validation``, ``validation_prior``] datasets;
        ``model``: the posterior model; ``verdict``: ``stamp``, ``inputs``, ``compare`` for the study runner.
    """
    from .adequacy import Adequacy
    from .diagnostics import Thresholds
    from .run import calibrate
    from .sampling import Sampling

    opts = dict(options)
    bad = sorted(set(opts) - STEP_KEYS)
    if bad:
        raise ValueError(f"calibrate: unknown key(s) {bad}; valid keys: {sorted(STEP_KEYS)}")
    for key in ("data", "observe"):
        if key not in opts:
            raise KeyError(f"calibrate: {key!r} is required (data = CSV path or inline table; observe = {{column = output}})")
    frame, source = _read_table(opts["data"], base, "calibrate")
    observe = opts["observe"]
    observe = dict(observe) if isinstance(observe, Mapping) else {o: o for o in observe}
    missing = [c for c in observe if c not in frame]
    if missing:
        raise KeyError(f"calibrate: data has no column(s) {missing}; columns: {list(frame.columns)}")
    outputs = list(observe.values())
    discrepancy = opts.get("discrepancy", "none")
    if discrepancy not in ("none", "relative"):
        raise ValueError(f"calibrate: discrepancy must be 'none' (explicit model-error inputs) or 'relative', got {discrepancy!r}")
    form = opts.get("posterior", "gaussian")
    if form not in POSTERIOR_FORMS:
        raise ValueError(f"calibrate: posterior must be one of {POSTERIOR_FORMS}, got {form!r}")
    if discrepancy == "relative" and form != "samples":
        raise ValueError("calibrate: discrepancy = 'relative' is carried by posterior draws; set posterior = 'samples'")
    sub = observed_model(model, outputs)
    noise = _noise_spec(opts.get("noise", "data"), frame, observe, "calibrate")
    # NUTS on prior normal scores (same posterior); a relative discrepancy is pushed forward by name, unwhitened
    white, to_physical = whitened(sub) if discrepancy == "none" else (sub, _Whitened(sub, {}))
    data = frame[list(observe)].rename(columns=observe).astype(float)
    fit_rng, prior_rng, val_rng = np.random.default_rng(rng).spawn(3)
    result = calibrate(
        white, data, outputs=outputs, specimen=None, noise=noise,
        discrepancy=None if discrepancy == "none" else discrepancy, path=opts.get("path", "auto"),
        sampling=Sampling(**{k: opts[k] for k in _SAMPLING_KEYS if k in opts}),
        thresholds=Thresholds(**dict(opts.get("thresholds", {}))), adequacy=Adequacy(**dict(opts.get("adequacy", {}))),
        rng=fit_rng,
    )
    samples = result.posterior_samples()
    draws = to_physical.physical({n: samples[n] for n in result.epistemic})
    corr_mode = opts.get("correlation", "all")
    if form == "samples":
        after = result.pushforward(model) if discrepancy == "relative" else model.with_joint_samples(draws)
    else:
        after = posterior_model(model, draws, form=form, correlation=corr_mode)
    dropped, dropped_pair = cross_scale_correlation(model, draws) if corr_mode == "within_scale" else (0.0, "")
    stamp = _stamp(result)
    table = calibration_table(model, draws, rng=prior_rng)
    if result.identifiability is not None:
        ident = result.identifiability.assign_coords(
            parameter=[str(p)[2:] if str(p)[2:] in to_physical.maps else str(p) for p in result.identifiability["parameter"].values]
        ).reindex(parameter=table["parameter"].values)
        table["data_share"] = ("parameter", ident["data_share"].values)
        table["contraction"] = ("parameter", ident["contraction"].values)
        # reported with the default limits even when the study turned the gate off for these parameters
        limits = Adequacy()
        informed = (ident["data_share"].values >= limits.min_data_share) & (ident["contraction"].values >= limits.min_contraction)
        table["informed"] = ("parameter", informed)
    n_runs = result.idata.posterior.attrs.get("n_runs", 0)
    table.attrs.update(
        analysis="calibrate", gates=stamp, convergence_passed=int(result.converged),
        adequacy_passed=int(result.adequate), observed=",".join(outputs), stage=sub.name,
        data_source=str(opts.get("source", source)), n_observations=int(data.notna().to_numpy().sum()),
        posterior_form=form, discrepancy=discrepancy, sampler=str(result.idata.posterior.attrs.get("sampler", "")),
        n_runs=n_runs if isinstance(n_runs, (int, np.integer)) else 0, warnings=" | ".join(result.warnings),
        correlation=corr_mode, dropped_correlation=dropped, dropped_correlation_pair=dropped_pair,
    )
    if "informed" in table and not table["informed"].values.all():
        loose = [str(p) for p, ok in zip(table["parameter"].values, table["informed"].values) if not ok]
        table.attrs["headline_note"] = (
            f"Not identified by the data (posterior set by the priors, on ridges with other inputs): {', '.join(loose)}; "
            "only their joint effect on the observed outputs is calibrated."
        )
    if dropped > 0.1:
        note = (f"Posterior correlations across scales were dropped so that per-scale shares are defined (largest "
                f"|rho| = {dropped:.2f}, {dropped_pair}).")
        table.attrs["headline_note"] = f"{table.attrs.get('headline_note', '')} {note}".strip()
    pp = result.idata.posterior_predictive
    points, observed, predicted = [], [], []
    for o in outputs:
        values = np.asarray(pp[o].stack(_s=("chain", "draw")).transpose("_s", ...).values, dtype=float).reshape(-1, data.shape[0])
        for row in range(data.shape[0]):
            if np.isfinite(data[o].iloc[row]):
                points.append(o if data.shape[0] == 1 else f"{o}[{row}]")
                observed.append(float(data[o].iloc[row]))
                predicted.append(values[:, row])
    fit = predictive_table(np.array(observed), np.array(predicted).T, points)
    fit.attrs["description"] = "posterior predictive of the observed outputs (model + noise) against the data"
    out: dict[str, Any] = {"calibration": table, "calibration_fit": fit}
    compare = bool(opts.get("compare", False))
    if "validate" in opts:
        val = _validation(after, dict(opts["validate"]), base, val_rng)
        val.attrs.update(calibration=stamp, calibrated_inputs=",".join(draws))
        if not val.attrs["passed"]:  # a failed held-out check is shown where users look
            val.attrs["headline_note"] = f"Held-out validation failed: {val.attrs['summary']}."
        out["validation"] = val
        if compare:
            prior_val = _validation(model, dict(opts["validate"]), base, val_rng)
            prior_val.attrs["prior_run"] = 1
            out["validation_prior"] = prior_val
    return StepResult(out, after, {"stamp": stamp, "inputs": ",".join(draws), "compare": compare})
