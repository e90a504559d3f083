"""Figures of reliability results: the limit state in 2D standard-normal space, convergence of Pf
with model runs, and the distribution of Pf under epistemic uncertainty."""

from __future__ import annotations

from typing import Any

import numpy as np
import xarray as xr
from matplotlib.axes import Axes
from matplotlib.figure import Figure, SubFigure
from scipy import special

__all__ = ["plot_limit_state_2d", "plot_pf_convergence", "plot_pf_distribution"]


def _axes(ax: Axes | None, size: tuple[float, float] = (4.5, 4.0)) -> tuple[Figure | SubFigure, Axes]:
    if ax is not None:
        return ax.figure, ax
    fig = Figure(figsize=size, layout="constrained")
    return fig, fig.add_subplot()


def plot_limit_state_2d(ls: Any, result: xr.Dataset | None = None, ax: Axes | None = None,
                        *, extent: float = 6.0, resolution: int = 201) -> Figure | SubFigure:
    """Contour ``g = 0`` of a two-input limit state in standard-normal space, failure domain shaded.

    With a ``result`` the design point(s) (FORM/SORM/importance sampling centres) or the
    training points of active learning are drawn, with the circle of radius β.

    Examples
    --------
    >>> from uqbridge.reliability.problems import four_branch
    >>> fig = plot_limit_state_2d(four_branch(6).limit_state)
    >>> len(fig.axes)
    1
    """
    names = ls.inputs.dimension_names
    if len(names) != 2:
        raise ValueError(f"plot_limit_state_2d: needs a limit state of 2 uncertain inputs, got {len(names)}: {list(names)}")
    fig, ax = _axes(ax)
    grid = np.linspace(-extent, extent, resolution)
    u1, u2 = np.meshgrid(grid, grid)
    u = np.column_stack([u1.ravel(), u2.ravel()])
    with np.errstate(all="ignore"):
        g = ls.g(ls.inputs.from_standard_normal(u)).reshape(u1.shape)
    ax.contourf(u1, u2, g, levels=[-np.inf, 0.0], colors=["#C44E52"], alpha=0.25)
    ax.contour(u1, u2, g, levels=[0.0], colors="#C44E52", linewidths=1.5)
    for r in (1, 2, 3):
        ax.add_patch(_circle(r, color="0.8", ls=":"))
    if result is not None:
        if "design_points_u" in result and result.design_points_u.size:
            pts = np.atleast_2d(result.design_points_u.values)
            ax.plot(pts[:, 0], pts[:, 1], "o", mfc="none", color="k", label="design points")
        if "design_point_u" in result:
            p = result.design_point_u.values
            ax.plot([0, p[0]], [0, p[1]], "k-", lw=1)
            ax.plot(*p, "k*", ms=10, label=f"design point, β = {float(result.beta):.3f}")
            ax.add_patch(_circle(abs(float(result.beta)), color="k", ls="--"))
        if "train_u" in result:
            t = result.train_u.values
            ax.plot(t[:, 0], t[:, 1], ".", color="#4C72B0", label=f"training points ({t.shape[0]})")
        ax.legend(fontsize=8, loc="lower left")
    ax.set_xlim(-extent, extent)
    ax.set_ylim(-extent, extent)
    ax.set_aspect("equal")
    ax.set_xlabel(f"u[{names[0]}]")
    ax.set_ylabel(f"u[{names[1]}]")
    ax.set_title(ls.name, fontsize=9)
    return fig


def _circle(radius: float, **kwargs: Any) -> Any:
    from matplotlib.patches import Circle

    return Circle((0.0, 0.0), radius, fill=False, lw=0.8, **kwargs)


def plot_pf_convergence(result: xr.Dataset, ax: Axes | None = None, *, reference: float | None = None) -> Figure | SubFigure:
    """Pf estimate against the number of model runs, with a ±2 standard-error band.

    Works with every result carrying ``history_runs`` and ``history_pf`` (sampling methods, subset
    simulation, active learning) or ``history_beta`` (FORM: Φ(−β) of each iteration).

    Examples
    --------
    >>> from uqbridge.reliability import monte_carlo
    >>> from uqbridge.reliability.problems import linear
    >>> fig = plot_pf_convergence(monte_carlo(linear(2.0).limit_state, batch=2000, rng=0), reference=0.02275)
    >>> len(fig.axes)
    1
    """
    if "history_runs" not in result:
        raise KeyError("plot_pf_convergence: the result has no 'history_runs' (give the Dataset of a reliability method)")
    fig, ax = _axes(ax, (5.0, 3.5))
    runs = result.history_runs.values
    pf = result.history_pf.values if "history_pf" in result else special.ndtr(-result.history_beta.values)
    ax.plot(runs, pf, "o-", ms=3, color="#4C72B0", label=result.attrs.get("method", "estimate"))
    if "history_se" in result:
        se = result.history_se.values
        ax.fill_between(runs, np.maximum(pf - 2 * se, 0), pf + 2 * se, color="#4C72B0", alpha=0.2, label="±2 s.e.")
    if reference is not None:
        ax.axhline(reference, color="k", ls="--", lw=1, label="reference")
    if np.all(pf > 0):
        ax.set_yscale("log")
    ax.set_xlabel("model runs")
    ax.set_ylabel("Pf")
    ax.legend(fontsize=8)
    return fig


def plot_pf_distribution(result: xr.Dataset, ax: Axes | None = None) -> Figure | SubFigure:
    """Histogram of log10 Pf(E) of a :func:`~uqbridge.reliability.pf_epistemic` result, with the
    predictive Pf, the median and the credible interval marked.

    Examples
    --------
    >>> import xarray as xr
    >>> ds = xr.Dataset({"pf_conditional": ("epistemic_sample", [1e-4, 2e-4, 5e-4]), "pf": 2.7e-4,
    ...                  "pf_median": 2e-4, "pf_credible_low": 1e-4, "pf_credible_high": 5e-4})
    >>> len(plot_pf_distribution(ds).axes)
    1
    """
    if "pf_conditional" not in result:
        raise KeyError("plot_pf_distribution: needs the result of pf_epistemic (variable 'pf_conditional')")
    fig, ax = _axes(ax, (5.0, 3.5))
    pf = result.pf_conditional.values
    logs = np.log10(np.maximum(pf, np.finfo(float).tiny))
    ax.hist(logs, bins=min(40, max(5, pf.size // 5)), color="#4C72B0", alpha=0.8)
    ax.axvline(np.log10(float(result.pf)), color="k", lw=1.5, label=f"predictive Pf = {float(result.pf):.3g}")
    ax.axvline(np.log10(float(result.pf_median)), color="k", ls=":", lw=1, label="median")
    low, high = float(result.pf_credible_low), float(result.pf_credible_high)
    ax.axvspan(np.log10(max(low, 1e-300)), np.log10(max(high, 1e-300)), color="#C44E52", alpha=0.15,
               label=f"credible interval ({result.pf_credible_high.attrs.get('credible', '')})")
    ax.set_xlabel("log10 Pf(E)")
    ax.set_ylabel("count")
    ax.legend(fontsize=8)
    return fig
