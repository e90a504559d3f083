"""Figures of propagation and variance-decomposition results: output histograms, variance splits."""

from __future__ import annotations

import numpy as np
import xarray as xr
from matplotlib.figure import Figure

__all__ = ["output_histograms", "variance_split"]


def output_histograms(ds: xr.Dataset) -> Figure:
    """Histogram of each output of a :func:`uqbridge.propagate` result, mean and quantiles marked.

    Examples
    --------
    >>> import uqbridge as uq
    >>> fig = output_histograms(uq.propagate(uq.get_model("ishigami"), 256, rng=0))
    >>> len(fig.axes)
    1
    """
    outputs = [str(o) for o in ds["output"].values]
    fig = Figure(figsize=(4.2 * min(len(outputs), 3), 3.2 * ((len(outputs) + 2) // 3)), layout="constrained")
    ok = ds["status"].values == 0
    for k, name in enumerate(outputs):
        ax = fig.add_subplot((len(outputs) + 2) // 3, min(len(outputs), 3), k + 1)
        y = ds[name].values[ok]
        ax.hist(y, bins=min(60, max(10, y.size // 40)), density=True, color="#4C72B0", alpha=0.8)
        row = ds.sel(output=name)
        ax.axvline(float(row["mean"]), color="k", lw=1.5, label="mean")
        for q in row["quantiles"].values:
            ax.axvline(float(q), color="#C44E52", lw=1, ls="--")
        units = ds[name].attrs.get("units", "")
        ax.set_xlabel(f"{name} [{units}]" if units else name)
        ax.set_ylabel("density")
    fig.axes[0].legend(fontsize=8)
    return fig


def variance_split(ds: xr.Dataset) -> Figure:
    """Stacked bars of each output's epistemic and aleatory variance shares with their intervals.

    Takes a :func:`uqbridge.decompose` result; without the aleatory/epistemic split it shows the
    closed ("explained") share of every group.

    Examples
    --------
    >>> import uqbridge as uq
    >>> fig = variance_split(uq.decompose(uq.get_model("ishigami"), n=256, rng=0))
    >>> len(fig.axes)
    1
    """
    outputs = [str(o) for o in ds["output"].values]
    fig = Figure(figsize=(max(4.0, 1.2 * len(outputs) + 2), 3.2), layout="constrained")
    ax = fig.add_subplot()
    x = np.arange(len(outputs))
    if "epistemic_share" in ds:
        epi = ds["epistemic_share"].values
        err = np.abs(np.stack([epi - ds["epistemic_share_low"].values, ds["epistemic_share_high"].values - epi]))
        ax.bar(x, epi, color="#C44E52", label="epistemic Var(E[Y|E])")
        ax.bar(x, 1 - epi, bottom=epi, color="#4C72B0", label="aleatory E[Var(Y|E)]")
        if np.all(np.isfinite(err)):
            ax.errorbar(x, epi, yerr=err, fmt="none", ecolor="k", capsize=4)
    else:
        groups = [str(g) for g in ds["group"].values]
        width = 0.8 / len(groups)
        for j, g in enumerate(groups):
            ax.bar(x + j * width, ds["explained_share"].sel(group=g).values, width, label=f"{g} (closed)")
    ax.set_xticks(x, outputs)
    ax.set_ylim(0, 1.05)
    ax.set_ylabel("share of variance")
    ax.legend(fontsize=8, loc="upper right")
    return fig
