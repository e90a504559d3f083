"""Figures of calibration results: posterior predictive bands over the data, and prior vs posterior.

Each function takes a :class:`uqbridge.calibration.CalibrationResult` and returns a
``matplotlib.figure.Figure`` (no pyplot state).
"""

from __future__ import annotations

import numpy as np
from matplotlib.figure import Figure

from .. import checks

__all__ = ["posterior_predictive", "prior_posterior"]


def posterior_predictive(result, output: str | None = None, *, x: str | None = None, prob: float = 0.94) -> Figure:
    """Observed values of ``output`` against condition ``x``, with the posterior predictive median and band.

    Parameters
    ----------
    result : CalibrationResult
    output : str, optional
        Observed output (default the first).
    x : str, optional
        Condition on the horizontal axis (default the first condition; the row number if none).
    prob : float
        Central probability of the predictive band.

    Examples
    --------
    >>> import arviz as az, xarray as xr
    >>> from uqbridge.calibration import CalibrationResult, diagnose
    >>> rng = np.random.default_rng(0)
    >>> idata = az.from_dict(posterior={"a": rng.normal(size=(2, 50))},
    ...     posterior_predictive={"y": rng.normal(size=(2, 50, 3))}, observed_data={"y": np.zeros(3)},
    ...     dims={"y": ["obs_y"]}, coords={"obs_y": [0, 1, 2]})
    >>> idata.add_groups({"constant_data": xr.Dataset({"x": ("row", [0.0, 1.0, 2.0]),
    ...                   "specimen": ("row", ["all"] * 3)})})
    >>> res = CalibrationResult(idata, diagnose(idata), True, (), ("a",), ())
    >>> len(posterior_predictive(res).axes)
    1
    """
    if not 0 < prob < 1:
        raise ValueError(f"prob must lie in (0, 1), got {prob!r}")
    observed = result.idata.observed_data
    outputs = [str(v) for v in observed.data_vars]
    output = outputs[0] if output is None else output
    if output not in outputs:
        raise KeyError(f"output {output!r} was not calibrated; observed outputs: {outputs}")
    const = result.idata.constant_data
    conditions = [str(v) for v in const.data_vars if v != "specimen"]
    if x is not None and x not in conditions:
        raise KeyError(f"x: {x!r} is not a condition of the data; conditions: {conditions}")
    x = x if x is not None else (conditions[0] if conditions else None)
    rows = observed[output][f"obs_{output}"].values
    xs = const[x].values[rows] if x else rows.astype(float)
    specimen = const["specimen"].values[rows]
    draws = result.idata.posterior_predictive[output].stack(_s=("chain", "draw")).transpose("_s", ...).values
    lo, med, hi = np.quantile(draws, [(1 - prob) / 2, 0.5, (1 + prob) / 2], axis=0)
    fig = Figure(figsize=(6, 4))
    ax = fig.add_subplot()
    for k, s in enumerate(np.unique(specimen)):
        sel = np.flatnonzero(specimen == s)
        sel = sel[np.argsort(xs[sel])]
        colour = f"C{k % 10}"
        ax.fill_between(xs[sel], lo[sel], hi[sel], color=colour, alpha=0.25, lw=0)
        ax.plot(xs[sel], med[sel], color=colour, lw=1)
        ax.plot(xs[sel], observed[output].values[sel], "o", color=colour, ms=3,
                label=None if s == "all" else str(s))
    ax.set_xlabel(x or "observation")
    ax.set_ylabel(output)
    ax.set_title(f"posterior predictive ({prob:.0%} band) and data")
    if len(np.unique(specimen)) > 1:
        ax.legend(title="specimen", fontsize="small")
    return fig


def prior_posterior(result, model=None, *, n_prior: int = 4000, rng=None) -> Figure:
    """Histograms of prior and posterior draws of each calibrated epistemic input.

    Parameters
    ----------
    result : CalibrationResult
    model : ForwardModel, optional
        For the priors (default ``result.model``).
    n_prior : int
        Prior draws per input.
    rng : seed or Generator
    """
    model = result.model if model is None else model
    if model is None:
        raise ValueError("model: the result carries no model; pass the calibrated model")
    rng = checks.generator(rng, "prior_posterior: rng")
    post = result.posterior_samples()
    names = list(result.epistemic)
    fig = Figure(figsize=(3 * len(names), 2.8))
    for k, name in enumerate(names):
        ax = fig.add_subplot(1, len(names), k + 1)
        prior = model.inputs[name].distribution.ppf(rng.random(n_prior))
        ax.hist(prior, bins=40, density=True, alpha=0.4, label="prior")
        ax.hist(post[name], bins=40, density=True, alpha=0.7, label="posterior")
        units = model.inputs[name].units
        ax.set_xlabel(f"{name} [{units}]" if units and units != "-" else name)
        ax.set_yticks([])
    fig.axes[0].legend(fontsize="small")
    fig.tight_layout()
    return fig
