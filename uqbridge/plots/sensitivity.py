"""Figures of sensitivity results: index bars with CIs, Morris μ*–σ, convergence, grouped split, methods.

Each function takes a Dataset from :mod:`uqbridge.sensitivity` (one method, or :func:`compare`'s
stack over ``estimator``) and returns a ``matplotlib.figure.Figure`` (no pyplot state).
"""

from __future__ import annotations

import numpy as np
import xarray as xr
from matplotlib.figure import Figure

__all__ = ["convergence", "group_split", "indices_bar", "method_comparison", "morris_scatter"]


def _pick(ds: xr.Dataset, output: str | None, estimator: str | None, variable: str) -> xr.Dataset:
    """One output (and one estimator) of ``ds``, checking the names."""
    if "output" not in ds.dims:
        raise ValueError("expected a sensitivity Dataset with an 'output' dimension")
    outputs = [str(o) for o in ds["output"].values]
    output = outputs[0] if output is None else output
    if output not in outputs:
        raise KeyError(f"unknown output {output!r}; outputs: {outputs}")
    sel = ds.sel(output=output)
    if "estimator" in sel.dims:
        methods = [str(m) for m in sel["estimator"].values]
        if estimator is None:
            with_data = [m for m in methods if variable in sel and np.isfinite(sel[variable].sel({"estimator": m})).any()]
            if not with_data:
                raise ValueError(f"no estimator in this dataset gives {variable!r}; estimators: {methods}")
            estimator = with_data[0]
        if estimator not in methods:
            raise KeyError(f"unknown estimator {estimator!r}; estimators: {methods}")
        sel = sel.sel({"estimator": estimator})
    if variable not in sel:
        raise KeyError(f"dataset has no variable {variable!r}; variables: {sorted(map(str, sel.data_vars))}")
    return sel


def _errors(sel: xr.Dataset, name: str) -> np.ndarray | None:
    if f"{name}_low" not in sel or f"{name}_high" not in sel:
        return None
    value = sel[name].values
    low, high = sel[f"{name}_low"].values, sel[f"{name}_high"].values
    if not np.isfinite(low).any():
        return None
    return np.nan_to_num(np.stack([value - low, high - value]), nan=0.0).clip(min=0)


def _title(sel: xr.Dataset, what: str) -> str:
    units = str(sel["output_units"].values) if "output_units" in sel.coords else ""
    out = str(sel["output"].values)
    return f"{what} — {out}" + (f" [{units}]" if units else "")


def indices_bar(ds: xr.Dataset, output: str | None = None, *, estimator: str | None = None) -> Figure:
    """Bars of first and total indices per input, with their confidence intervals.

    Examples
    --------
    >>> from uqbridge.sensitivity import sobol_indices
    >>> from uqbridge_models.benchmark_functions import ishigami
    >>> fig = indices_bar(sobol_indices(ishigami(), 64, rng=0, groups=None))
    >>> len(fig.axes[0].patches)
    6
    """
    sel = _pick(ds, output, estimator, "first")
    inputs = [str(i) for i in sel["input"].values]
    x = np.arange(len(inputs))
    fig = Figure(figsize=(max(4.5, 0.7 * len(inputs) + 2), 3.4), layout="constrained")
    ax = fig.add_subplot()
    has_total = "total" in sel and np.isfinite(sel["total"].values).any()
    width = 0.38 if has_total else 0.6
    ax.bar(x - (width / 2 if has_total else 0), sel["first"].values, width, yerr=_errors(sel, "first"),
           capsize=3, label="first order", color="#4C72B0")
    if has_total:
        ax.bar(x + width / 2, sel["total"].values, width, yerr=_errors(sel, "total"), capsize=3,
               label="total", color="#DD8452")
    ax.set_xticks(x, inputs, rotation=30 if len(inputs) > 6 else 0)
    ax.axhline(0, color="0.4", lw=0.8)
    ax.set_ylabel("Sobol' index")
    name = str(sel["estimator"].values) if "estimator" in sel.coords else ds.attrs.get("estimator", "")
    ax.set_title(_title(sel, f"{name} indices"), fontsize=10)
    ax.legend(fontsize=8)
    return fig


def morris_scatter(ds: xr.Dataset, output: str | None = None) -> Figure:
    """Morris μ* (with its CI) against σ; inputs far from the origin matter, above the diagonal
    interact or act non-linearly.

    Examples
    --------
    >>> from uqbridge.sensitivity import morris
    >>> from uqbridge_models.benchmark_functions import ishigami
    >>> fig = morris_scatter(morris(ishigami(), 10, rng=0))
    >>> len(fig.axes[0].texts)
    3
    """
    sel = _pick(ds, output, "morris" if "estimator" in ds.dims else None, "mu_star")
    mu, sigma = sel["mu_star"].values, sel["sigma"].values
    fig = Figure(figsize=(4.8, 3.8), layout="constrained")
    ax = fig.add_subplot()
    err = _errors(sel, "mu_star")
    ax.errorbar(mu, sigma, xerr=err, fmt="o", color="#4C72B0", capsize=3)
    for name, a, b in zip(sel["input"].values, mu, sigma):
        ax.annotate(str(name), (a, b), textcoords="offset points", xytext=(4, 4), fontsize=8)
    top = float(np.nanmax(np.r_[mu, sigma, 1e-12])) * 1.1
    ax.plot([0, top], [0, top], ls="--", color="0.6", lw=0.8, label="σ = μ*")
    ax.set_xlim(left=0)
    ax.set_ylim(bottom=0)
    ax.set_xlabel("μ* (mean |elementary effect|)")
    ax.set_ylabel("σ (std of elementary effects)")
    ax.set_title(_title(sel, "Morris screening"), fontsize=10)
    ax.legend(fontsize=8)
    return fig


def convergence(ds: xr.Dataset, output: str | None = None) -> Figure:
    """First and total Sobol' indices against the base sample size, with CI bands.

    Examples
    --------
    >>> from uqbridge.sensitivity import sobol_indices
    >>> from uqbridge_models.benchmark_functions import ishigami
    >>> fig = convergence(sobol_indices(ishigami(), 128, rng=0, groups=None))
    >>> len(fig.axes)
    2
    """
    sel = _pick(ds, output, "sobol" if "estimator" in ds.dims else None, "first_by_n")
    n = sel["n_base"].values
    fig = Figure(figsize=(8, 3.2), layout="constrained")
    axes = fig.subplots(1, 2, sharey=True)
    for ax, name, label in zip(axes, ("first_by_n", "total_by_n"), ("first order", "total")):
        for k, inp in enumerate(sel["input"].values):
            v = sel[name].sel(input=inp).values
            if not np.any(v):
                continue  # constant inputs stay at 0
            colour = f"C{k % 10}"
            ax.plot(n, v, "o-", color=colour, label=str(inp), ms=3)
            ax.fill_between(n, sel[f"{name}_low"].sel(input=inp).values, sel[f"{name}_high"].sel(input=inp).values,
                            color=colour, alpha=0.15)
        ax.set_xscale("log", base=2)
        ax.set_xlabel("base sample size N")
        ax.set_title(label, fontsize=10)
    axes[0].set_ylabel("Sobol' index")
    axes[1].legend(fontsize=7, ncol=2)
    fig.suptitle(_title(sel, "Convergence of Sobol' indices"), fontsize=10)
    return fig


def group_split(ds: xr.Dataset, output: str | None = None, *, estimator: str | None = None) -> Figure:
    """Grouped first (closed) and total indices, e.g. the aleatory vs epistemic split.

    Examples
    --------
    >>> from uqbridge.sensitivity import sobol_indices
    >>> from uqbridge_models.benchmark_functions import ishigami
    >>> fig = group_split(sobol_indices(ishigami(), 64, rng=0))
    >>> [t.get_text() for t in fig.axes[0].get_xticklabels()]
    ['aleatory', 'epistemic']
    """
    sel = _pick(ds, output, estimator, "group_first")
    groups = [str(g) for g in sel["group"].values]
    x = np.arange(len(groups))
    fig = Figure(figsize=(4.5, 3.2), layout="constrained")
    ax = fig.add_subplot()
    ax.bar(x - 0.2, sel["group_first"].values, 0.38, yerr=_errors(sel, "group_first"), capsize=3,
           label="first (closed)", color="#55A868")
    ax.bar(x + 0.2, sel["group_total"].values, 0.38, yerr=_errors(sel, "group_total"), capsize=3,
           label="total", color="#C44E52")
    ax.set_xticks(x, groups)
    ax.set_ylim(0, 1.05)
    ax.set_ylabel("share of output variance")
    ax.set_title(_title(sel, "Grouped indices"), fontsize=10)
    ax.legend(fontsize=8)
    return fig


def method_comparison(ds: xr.Dataset, output: str | None = None, variable: str = "first") -> Figure:
    """Grouped bars of one index (default ``first``) per input across the methods of :func:`compare`.

    Examples
    --------
    >>> from uqbridge.sensitivity import compare
    >>> from uqbridge_models.benchmark_functions import ishigami
    >>> fig = method_comparison(compare(ishigami(), ["sobol", "rbd_fast"], n=512, rng=0))
    >>> fig.axes[0].get_legend_handles_labels()[1]
    ['sobol', 'rbd_fast']
    """
    if "estimator" not in ds.dims:
        raise ValueError("method_comparison needs the output of compare() (an 'estimator' dimension)")
    if variable not in ds:
        raise KeyError(f"dataset has no variable {variable!r}; variables: {sorted(map(str, ds.data_vars))}")
    outputs = [str(o) for o in ds["output"].values]
    output = outputs[0] if output is None else output
    if output not in outputs:
        raise KeyError(f"unknown output {output!r}; outputs: {outputs}")
    sel = ds.sel(output=output)
    methods = [str(m) for m in sel["estimator"].values if np.isfinite(sel[variable].sel({"estimator": m}).values).any()]
    inputs = [str(i) for i in sel["input"].values]
    x = np.arange(len(inputs))
    width = 0.8 / max(len(methods), 1)
    fig = Figure(figsize=(max(5.0, 0.9 * len(inputs) + 2), 3.4), layout="constrained")
    ax = fig.add_subplot()
    for k, m in enumerate(methods):
        s = sel.sel({"estimator": m})
        ax.bar(x - 0.4 + width * (k + 0.5), s[variable].values, width, yerr=_errors(s, variable), capsize=2,
               label=m, color=f"C{k % 10}")
    ax.set_xticks(x, inputs)
    ax.axhline(0, color="0.4", lw=0.8)
    ax.set_ylabel(variable)
    ax.set_title(_title(sel, f"{variable} index by method"), fontsize=10)
    ax.legend(fontsize=7, ncol=min(len(methods), 4))
    return fig
