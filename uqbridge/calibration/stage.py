"""Calibrate one stage of a chain (any stage's outputs) and hand the posterior to everything downstream.

``observed_model`` cuts a chain after the last stage whose outputs are observed (later stages and their
inputs play no part in the likelihood); ``posterior_model`` puts the posterior of the calibrated inputs
back into the full model, jointly (a Gaussian copula fitted to the draws, or the draws themselves);
``calibration_table`` and ``predictive_table`` are the before/after datasets of a calibrate step.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace
from typing import Any

import numpy as np
import xarray as xr
from scipy import stats

from ..distributions import Normal
from ..inputs import Input, InputSet
from ..model import ForwardModel, Output

__all__ = ["POSTERIOR_FORMS", "calibration_table", "observed_model", "posterior_model", "predictive_table"]

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
        raise KeyError(f"observe: model {model.name!r} has no output(s) {missing}; its outputs: {list(model.output_names)}")
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


def _normal_scores(x: np.ndarray) -> np.ndarray:
    return stats.norm.ppf((stats.rankdata(x) - 0.5) / x.size)


def _nearest_correlation(c: np.ndarray, floor: float = 1e-6) -> np.ndarray:
    """Clip the eigenvalues of a (sample) correlation matrix to ``floor`` and rescale to unit diagonal."""
    w, v = np.linalg.eigh(c)
    fixed = (v * np.maximum(w, floor)) @ v.T
    d = np.sqrt(np.diag(fixed))
    return fixed / np.outer(d, d)


def posterior_model(model: ForwardModel, draws: Mapping[str, np.ndarray], *, form: str = "gaussian") -> ForwardModel:
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
    if len(names) > 1:
        z = np.array([_normal_scores(values[n]) for n in names])
        c = _nearest_correlation(np.corrcoef(z))
        for a in range(len(names)):
            for b in range(a + 1, len(names)):
                rho = float(np.clip(c[a, b], -0.999, 0.999))
                if abs(rho) > 1e-3:
                    corr[(names[a], names[b])] = rho
    return replace(model, inputs=InputSet(tuple(new), correlation=corr, joint=model.inputs.joint))


def _interval(x: np.ndarray, level: float) -> tuple[float, float]:
    lo, hi = np.quantile(x, [(1 - level) / 2, (1 + level) / 2])
    return float(lo), float(hi)


def calibration_table(
    prior: ForwardModel, draws: Mapping[str, np.ndarray], *, rng: Any = None, n_prior: int = 4000, level: float = 0.9
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
