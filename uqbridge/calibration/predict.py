"""Predictions of a calibrated model at new conditions, split into parameter, discrepancy and noise parts,
and their held-out validation (coverage, interval score, CRPS).

:func:`predict` draws the posterior predictive at any conditions; :func:`validate` scores it against
observations the calibration did not see; :func:`holdout` calibrates on one subset and validates on another.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
import xarray as xr

from .. import checks
from ..model import ForwardModel
from .build import STUDENT_T_NU, noise_name
from .data import _to_frame
from .discrepancy import gp_delta

if TYPE_CHECKING:
    from .._types import SeedLike
    from .result import CalibrationResult

__all__ = ["holdout", "predict", "scores", "validate"]

COMPONENTS = ("model", "discrepancy", "noise")


def _pooled(result: CalibrationResult) -> dict[str, np.ndarray]:
    return result.posterior_samples()


def _condition_values(result: CalibrationResult, frame: pd.DataFrame, conditions: dict[str, str]) -> dict[str, np.ndarray]:
    model = result.model
    constant = result.idata.constant_data
    needed = [str(v) for v in constant.data_vars if v != "specimen"]
    values = {}
    columns = {conditions.get(c, c): c for c in frame.columns}
    for name in needed:
        if name not in columns:
            raise KeyError(
                f"data: no column for condition {name!r} of the calibration (model {getattr(model, 'name', None)!r}); "
                f"columns: {list(frame.columns)}; map renamed columns with conditions={{column: input}}"
            )
        v = frame[columns[name]].to_numpy(dtype=float)
        if not np.all(np.isfinite(v)):
            raise ValueError(f"condition column {columns[name]!r} has missing or infinite values")
        values[name] = v
    return values


def predict(
    result: CalibrationResult,
    data: Any,
    *,
    conditions: dict[str, str] | None = None,
    specimen: str | None = "specimen",
    n_draws: int | None = None,
    rng: SeedLike = None,
) -> xr.Dataset:
    """Posterior predictive of every calibrated output at the conditions of ``data``.

    For each posterior draw: the model at the draw's parameters (``model`` part: parameter
    uncertainty), plus the calibrated discrepancy at these conditions (``discrepancy`` part: zero
    without one; for a GP it widens away from the calibration data), plus measurement noise. Rows of
    a specimen seen in the calibration use its posterior latent values; a new specimen draws them
    from the declared population distribution (one value per specimen and draw).

    Parameters
    ----------
    result : CalibrationResult
        With its model (pass it to :func:`load_calibration` after reading from disk).
    data : pandas.DataFrame or xarray.Dataset
        One row per prediction: the calibration's condition columns, optionally a specimen column;
        other columns (e.g. observed outputs) are ignored.
    conditions : dict, optional
        ``{data column: model input}`` for renamed condition columns.
    specimen : str or None
        Specimen column name.
    n_draws : int, optional
        Posterior draws used (default all).
    rng : seed or Generator

    Returns
    -------
    xarray.Dataset
        Per output ``o``: ``o`` (dims ``draw``, ``row``): predictive draws; ``o_parts`` (dims
        ``component``, ``draw``, ``row``) with components ``model``, ``discrepancy``, ``noise``
        (summing to ``o``); ``o_variance`` (dims ``component``, ``row``): the variance of each part
        and ``total`` (parts may covary, so they need not add up exactly).

    Examples
    --------
    >>> import pandas as pd
    >>> from uqbridge import ForwardModel, Input, Normal, Output
    >>> from uqbridge.calibration import Sampling, Thresholds, calibrate
    >>> line = ForwardModel("line", lambda x, a, xp=np: {"y": a * x},
    ...                     [Input("x", Normal(0, 1)), Input("a", Normal(0, 10), "epistemic")],
    ...                     [Output("y")], differentiable=True)
    >>> res = calibrate(line, pd.DataFrame({"x": [1.0, 2.0, 3.0], "y": [2.1, 3.9, 6.0]}),
    ...                 noise=("known", 0.1), sampling=Sampling(draws=200, tune=200, chains=2),
    ...                 thresholds=Thresholds(ess=50), rng=1)
    >>> p = predict(res, pd.DataFrame({"x": [10.0]}), rng=2)
    >>> round(float(p["y"].mean()), 0), p["y_parts"].dims
    (20.0, ('component', 'draw', 'row'))
    """
    if result.model is None:
        raise ValueError("result carries no model (loaded from disk?); pass the model to load_calibration")
    model: ForwardModel = result.model
    rng = checks.generator(rng, "predict: rng")
    frame = _to_frame(data)
    if len(frame) == 0:
        raise ValueError("data has no rows to predict")
    cond = _condition_values(result, frame, dict(conditions or {}))
    n = len(frame)
    post = _pooled(result)
    total = next(iter(post.values())).shape[0]
    if n_draws is None:
        pick = np.arange(total)
    else:
        if isinstance(n_draws, bool) or not isinstance(n_draws, (int, np.integer)) or n_draws < 1:
            raise ValueError(f"n_draws must be a positive integer, got {n_draws!r}")
        pick = rng.choice(total, size=min(int(n_draws), total), replace=False)
    post = {k: v[pick] for k, v in post.items()}
    s = pick.size

    values: dict[str, np.ndarray] = {k: np.tile(v, s) for k, v in cond.items()}
    for name in result.epistemic:
        values[name] = np.repeat(post[name], n)
    trained = [str(x) for x in result.idata.posterior["specimen"].values] if result.hierarchical else []
    labels = frame[specimen].astype(str).to_numpy() if specimen is not None and specimen in frame else np.full(n, "all")
    for name in result.hierarchical:
        latent = np.empty((s, n))
        for label in np.unique(labels):
            rows = labels == label
            if label in trained:
                latent[:, rows] = post[name][:, trained.index(label)][:, None]
            else:
                dist = model.inputs[name].distribution
                latent[:, rows] = dist.ppf(rng.random(s))[:, None]
        values[name] = latent.ravel()
    outputs = [str(o) for o in result.idata.observed_data.data_vars]
    with np.errstate(all="ignore"):
        out = model(**values)
    attrs = result.idata.posterior.attrs
    noise_spec = _json(attrs.get("noise", "{}"))
    likelihood = attrs.get("likelihood", "normal")
    data_vars: dict[str, Any] = {}
    for o in outputs:
        f = out[o].reshape(s, n)
        meta = result.discrepancy.get(o)
        delta = np.zeros((s, n))
        if meta is not None and meta["kind"] == "gp":
            delta = gp_delta(post, meta, cond)
        elif meta is not None:
            delta = f * post[meta["names"]["kappa"]][:, None] * rng.standard_normal((s, n))
        kind, scale = noise_spec.get(o, ["known", 0.0])
        sigma = np.full(s, float(scale)) if kind == "known" else post[noise_name(o)]
        e = rng.standard_t(STUDENT_T_NU, (s, n)) if likelihood == "student_t" else rng.standard_normal((s, n))
        noise = sigma[:, None] * e
        parts = np.stack([f, delta, noise])
        y = parts.sum(axis=0)
        var = np.concatenate([parts.var(axis=1), y.var(axis=0)[None]])
        data_vars[o] = (("draw", "row"), y, {"units": model.output(o).units})
        data_vars[f"{o}_parts"] = (("component", "draw", "row"), parts)
        data_vars[f"{o}_variance"] = (("component_total", "row"), var)
    return xr.Dataset(
        data_vars,
        coords={"draw": np.arange(s), "row": frame.index.to_numpy(), "component": list(COMPONENTS),
                "component_total": [*COMPONENTS, "total"], "specimen": ("row", labels)},
        attrs={"model": model.name, "n_draws": int(s), "discrepancy": str(sorted(result.discrepancy))},
    )


def _json(value: Any) -> dict[str, Any]:
    import json

    return json.loads(value) if isinstance(value, str) else dict(value)


def scores(draws: np.ndarray, observed: np.ndarray, levels: Sequence[float] | np.ndarray = (0.5, 0.9)) -> dict[str, np.ndarray]:
    """Coverage, interval score and CRPS of predictive draws ``(s, n)`` against observations ``(n,)``.

    Interval score of the central ``level`` interval ``[l, u]`` with ``a = 1 - level`` (Gneiting &
    Raftery 2007, JASA 102:359, eq. 43): ``(u - l) + (2/a)(l - y)[y < l] + (2/a)(y - u)[y > u]``.
    CRPS from the draws: ``E|X - y| - E|X - X'|/2`` (ibid., eq. 21), the pairwise term from the sorted
    draws in O(s log s). Lower is better for both; both are in output units.

    Returns
    -------
    dict
        ``inside`` ``(level, n)`` bool, ``interval_score`` ``(level, n)``, ``crps`` ``(n,)``.

    Examples
    --------
    >>> x = np.random.default_rng(0).normal(size=(20000, 1))
    >>> crps = float(scores(x, np.array([0.0]))["crps"][0])
    >>> bool(abs(crps - (np.sqrt(2) - 1) / np.sqrt(np.pi)) < 0.01)  # N(0, 1) at its mean (ibid., eq. 5)
    True
    """
    draws = np.asarray(draws, float)
    y = np.asarray(observed, float)
    levels = np.asarray(levels, float)
    if draws.ndim != 2 or draws.shape[1] != y.size:
        raise ValueError(f"draws must have shape (s, {y.size}) to match observed, got {draws.shape}")
    lo = np.quantile(draws, (1 - levels) / 2, axis=0)
    hi = np.quantile(draws, (1 + levels) / 2, axis=0)
    a = (1 - levels)[:, None]
    inside = (y >= lo) & (y <= hi)
    interval = (hi - lo) + 2 / a * (lo - y) * (y < lo) + 2 / a * (y - hi) * (y > hi)
    s = draws.shape[0]
    xs = np.sort(draws, axis=0)
    weights = (2 * np.arange(1, s + 1) - s - 1)[:, None]
    pair = 2 * np.sum(weights * xs, axis=0) / s**2
    crps = np.mean(np.abs(draws - y), axis=0) - 0.5 * pair
    return {"inside": inside, "interval_score": interval, "crps": crps}


def validate(
    result: CalibrationResult,
    data: Any,
    *,
    levels: Sequence[float] = (0.5, 0.9),
    conditions: dict[str, str] | None = None,
    specimen: str | None = "specimen",
    n_draws: int | None = None,
    rng: SeedLike = None,
) -> xr.Dataset:
    """Score the calibrated model's predictions of observations it was not calibrated on.

    Parameters
    ----------
    result : CalibrationResult
    data : pandas.DataFrame or xarray.Dataset
        Held-out rows: conditions, observed outputs (NaN where not measured), optional specimen.
    levels : sequence of float
        Central predictive interval levels.
    conditions, specimen, n_draws, rng
        See :func:`predict`.

    Returns
    -------
    xarray.Dataset
        Per ``output``: ``coverage`` and ``interval_score`` (mean, dim ``level``), ``crps`` (mean),
        ``n_obs``; per held-out point (dim ``obs``): ``observed``, ``predicted_mean``, ``inside``
        (dims ``level``, ``obs``), ``crps_point``; attrs: the calibration's ``passed`` and provenance.

    Examples
    --------
    >>> import pandas as pd
    >>> from uqbridge import ForwardModel, Input, Normal, Output
    >>> from uqbridge.calibration import Sampling, Thresholds, calibrate
    >>> inputs = [Input("x", Normal(0, 1)), Input("a", Normal(0, 10), "epistemic")]
    >>> scale = ForwardModel("scale", lambda x, a, xp=np: {"y": a * x}, inputs, [Output("y")],
    ...                      differentiable=True)
    >>> train = pd.DataFrame({"x": [1.0, 2.0, 3.0], "y": [2.1, 3.9, 6.0]})
    >>> res = calibrate(scale, train, noise=0.1, sampling=Sampling(draws=200, tune=200, chains=2),
    ...                 thresholds=Thresholds(ess=50), rng=1)
    >>> v = validate(res, pd.DataFrame({"x": [4.0, 5.0], "y": [8.0, 10.1]}), rng=0)
    >>> v["coverage"].sel(output="y", level=0.9).item()
    1.0
    """
    frame = _to_frame(data)
    outputs = [str(o) for o in result.idata.observed_data.data_vars]
    present = [o for o in outputs if o in frame.columns]
    if not present:
        raise KeyError(f"data: no column of a calibrated output {outputs}; columns: {list(frame.columns)}")
    pred = predict(result, frame, conditions=conditions, specimen=specimen, n_draws=n_draws, rng=rng)
    levels = tuple(float(v) for v in levels)
    cov, isc, crps, nobs = [], [], [], []
    obs_out, obs_y, obs_mean, obs_inside, obs_crps, obs_row = [], [], [], [], [], []
    for o in present:
        y = frame[o].to_numpy(dtype=float)
        ok = np.isfinite(y)
        draws = pred[o].values[:, ok]
        sc = scores(draws, y[ok], levels)
        cov.append(sc["inside"].mean(axis=1))
        isc.append(sc["interval_score"].mean(axis=1))
        crps.append(float(sc["crps"].mean()))
        nobs.append(int(ok.sum()))
        obs_out += [o] * int(ok.sum())
        obs_y.append(y[ok])
        obs_mean.append(draws.mean(axis=0))
        obs_inside.append(sc["inside"])
        obs_crps.append(sc["crps"])
        obs_row.append(frame.index.to_numpy()[ok])
    attrs = {"calibration_passed": int(result.passed), "model": result.model.name if result.model else "",
             "n_draws": int(pred.attrs["n_draws"]), "discrepancy": str(sorted(result.discrepancy))}
    return xr.Dataset(
        {
            "coverage": (("output", "level"), np.array(cov), {"long_name": "fraction of held-out points inside the interval"}),
            "interval_score": (("output", "level"), np.array(isc), {"long_name": "mean interval score (Gneiting & Raftery 2007)"}),
            "crps": ("output", np.array(crps), {"long_name": "mean continuous ranked probability score"}),
            "n_obs": ("output", np.array(nobs, dtype=np.int64)),
            "observed": ("obs", np.concatenate(obs_y)),
            "predicted_mean": ("obs", np.concatenate(obs_mean)),
            "inside": (("level", "obs"), np.concatenate(obs_inside, axis=1)),
            "crps_point": ("obs", np.concatenate(obs_crps)),
        },
        coords={"output": present, "level": list(levels), "obs_output": ("obs", obs_out),
                "obs_row": ("obs", np.concatenate(obs_row))},
        attrs=attrs,
    )


def holdout(
    calibration: Callable[[pd.DataFrame], CalibrationResult],
    data: Any,
    test: Any,
    *,
    levels: Sequence[float] = (0.5, 0.9),
    conditions: Mapping[str, str] | None = None,
    specimen: str | None = "specimen",
    n_draws: int | None = None,
    rng: SeedLike = None,
) -> xr.Dataset:
    """Calibrate on the rows not selected by ``test`` and validate on the selected ones.

    Parameters
    ----------
    calibration : callable ``training rows -> CalibrationResult``
        How to calibrate, e.g. ``lambda rows: calibrate(model, rows, noise=0.1, rng=1)`` or
        ``functools.partial(calibrate, model, noise=0.1, rng=1)``: every option of
        :func:`~uqbridge.calibration.calibrate` stays where it is written (as ``estimator`` in
        scikit-learn's ``cross_validate``).
    data : pandas.DataFrame
    test : boolean array, or callable ``frame -> boolean array``
        The held-out rows, e.g. ``lambda d: d["specimen"] == "Cu[111]"`` (an orientation),
        ``lambda d: d["gamma"] > 0.4`` (a condition range).
    levels, conditions, specimen, n_draws, rng
        See :func:`validate` (``rng`` seeds the prediction of the held-out rows).

    Returns
    -------
    xarray.Dataset
        :func:`validate`'s Dataset; attrs also carry ``n_train`` and the calibration's warnings.

    Examples
    --------
    >>> import pandas as pd
    >>> from uqbridge import ForwardModel, Input, Normal, Output
    >>> from uqbridge.calibration import Sampling, Thresholds, calibrate
    >>> inputs = [Input("x", Normal(0, 1)), Input("a", Normal(0, 10), "epistemic")]
    >>> scale = ForwardModel("scale", lambda x, a, xp=np: {"y": a * x}, inputs, [Output("y")],
    ...                      differentiable=True)
    >>> rows = pd.DataFrame({"x": [1.0, 2.0, 3.0, 4.0, 5.0], "y": [2.1, 3.9, 6.0, 8.0, 10.1]})
    >>> fit = lambda train: calibrate(scale, train, noise=0.1, rng=1, thresholds=Thresholds(ess=50),
    ...                               sampling=Sampling(draws=200, tune=200, chains=2))
    >>> v = holdout(fit, rows, lambda d: d["x"] > 3.5, rng=0)
    >>> v.attrs["n_train"], int(v["n_obs"].sel(output="y"))
    (3, 2)
    """
    if isinstance(calibration, ForwardModel) or not callable(calibration):
        raise TypeError(
            f"holdout: calibration must be a function of the training rows returning a CalibrationResult, e.g. "
            f"lambda rows: calibrate(model, rows, ...); got {type(calibration).__name__}"
        )
    frame = _to_frame(data)
    mask = test(frame) if callable(test) else test
    mask = np.asarray(mask, dtype=bool)
    if mask.shape != (len(frame),):
        raise ValueError(f"test must select rows of data: a boolean array of length {len(frame)}, got shape {mask.shape}")
    if mask.all() or not mask.any():
        raise ValueError(f"test selects {int(mask.sum())} of {len(frame)} rows; it must leave rows on both sides")
    result = calibration(frame[~mask])
    out = validate(result, frame[mask], levels=levels, n_draws=n_draws, rng=rng,
                   conditions=None if conditions is None else dict(conditions), specimen=specimen)
    out.attrs.update({"n_train": int((~mask).sum()), "calibration_warnings": "\n".join(result.warnings)})
    return out
