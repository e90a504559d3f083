"""The surrogate path: a polynomial chaos fitted over the prior stands in for an expensive model under NUTS.

:func:`prior_model` widens the data's conditions to their observed range for the fit;
:func:`surrogate_check` compares surrogate and true model at posterior draws.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import xarray as xr

from ..distributions import Uniform
from ..model import ForwardModel
from .build import Noise, noise_name
from .data import Observations

__all__ = ["SURROGATE_TOLERANCE", "prior_model", "surrogate_check"]

#: Largest accepted RMS surrogate error in units of the noise scale. An error e adds about e²/2 (in
#: units of σ²) to the effective noise variance, i.e. 0.5 % at e = 0.1: negligible against the data.
SURROGATE_TOLERANCE = 0.1


def prior_model(model: ForwardModel, obs: Observations) -> ForwardModel:
    """``model`` with every condition given by the data spread uniformly over its observed range.

    The surrogate must be accurate where the likelihood evaluates it: at the observed conditions,
    for parameter values under the prior (the declared distributions of the calibrated inputs).

    Examples
    --------
    >>> import pandas as pd
    >>> from uqbridge import ForwardModel, Input, Normal, Output
    >>> from uqbridge.calibration import observations
    >>> m = ForwardModel("line", lambda x, a: {"y": a * x},
    ...                  [Input("x", Normal(0, 1)), Input("a", Normal(1, 1), "epistemic")], [Output("y")])
    >>> obs = observations(m, pd.DataFrame({"x": [1.0, 3.0], "y": [1.0, 3.0]}))
    >>> prior_model(m, obs).inputs["x"].distribution
    Uniform(lower=1.0, upper=3.0)
    """
    changes: dict[str, float | Uniform] = {}
    for name, values in obs.conditions.items():
        lo, hi = float(values.min()), float(values.max())
        changes[name] = Uniform(lo, hi) if hi > lo else lo
    return model.with_inputs(**changes)


def surrogate_check(
    model: ForwardModel,
    surrogate: ForwardModel,
    obs: Observations,
    posterior: Mapping[str, np.ndarray],
    noises: Mapping[str, Noise],
    *,
    n_draws: int = 100,
    rng: np.random.Generator,
) -> xr.Dataset:
    """RMS and largest error of the surrogate against the true model at posterior draws and observed rows.

    Parameters
    ----------
    model, surrogate : ForwardModel
        True model and its surrogate (same inputs and outputs).
    obs : Observations
    posterior : mapping
        Pooled posterior draws: scalars ``(m,)`` for epistemic inputs and noise scales,
        ``(m, n_specimens)`` for hierarchical inputs.
    noises : mapping of output to Noise
        Errors are reported relative to the known noise scale, or the posterior mean of an unknown one.
    n_draws : int
        Posterior draws checked (each costs one true-model run per observation row).
    rng : numpy.random.Generator

    Returns
    -------
    xarray.Dataset
        ``rmse``, ``max_abs_error``, ``noise_scale`` and ``relative_rmse`` (= rmse / noise scale) along
        ``output``; attribute ``n_runs`` = true-model runs spent on the check.
    """
    m = next(iter(posterior.values())).shape[0]
    pick = rng.choice(m, size=min(n_draws, m), replace=False)
    k, n = pick.size, obs.n
    values: dict[str, np.ndarray] = {c: np.tile(v, k) for c, v in obs.conditions.items()}
    for name in obs.epistemic:
        values[name] = np.repeat(posterior[name][pick], n)
    for name in obs.hierarchical:
        values[name] = posterior[name][pick][:, obs.specimen].ravel()
    truth = model(**values)
    approx = surrogate(**values)
    rows = {o: np.concatenate([obs.rows(o) + j * n for j in range(k)]) for o in obs.outputs}
    outputs = list(obs.outputs)
    rmse, worst, scale = [], [], []
    for o in outputs:
        err = approx[o][rows[o]] - truth[o][rows[o]]
        rmse.append(float(np.sqrt(np.mean(err**2))))
        worst.append(float(np.max(np.abs(err))))
        spec = noises[o]
        scale.append(spec.scale if spec.kind == "known" else float(np.mean(posterior[noise_name(o)])))
    rmse_a, scale_a = np.array(rmse), np.array(scale)
    return xr.Dataset(
        {
            "rmse": ("output", rmse_a),
            "max_abs_error": ("output", np.array(worst)),
            "noise_scale": ("output", scale_a),
            "relative_rmse": ("output", rmse_a / scale_a),
        },
        coords={"output": outputs},
        attrs={"n_runs": int(k * n), "n_draws_checked": int(k), "tolerance": SURROGATE_TOLERANCE},
    )
