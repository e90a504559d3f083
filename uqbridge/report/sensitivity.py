"""The sensitivity report: one call runs the estimators and writes a self-contained HTML file plus netCDF.

It opens with the key results (top indices with intervals, the epistemic share by the law of total
variance, runs and warnings); then per output: first/total bars with CIs, the estimator comparison,
Morris μ*–σ, convergence of Sobol' indices; then the inputs in their own units and the provenance.
"""

from __future__ import annotations

import importlib.util
import os
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
import xarray as xr

from .. import checks
from ..model import ForwardModel
from ..plots import sensitivity as plots
from ..registry import get_model
from ..results import save
from ..sensitivity import compare
from ..sensitivity.registry import ESTIMATORS
from ..variance import decompose
from .html import HtmlReport
from .tables import format_interval, inputs_table

if TYPE_CHECKING:
    from .._types import SeedLike
    from ..execution.batch import Backend

__all__ = ["DEFAULT_METHODS", "build_report", "comparison_table", "key_results", "sensitivity_report"]

DEFAULT_METHODS = tuple(ESTIMATORS)  # the registry is the only list

_MEASURES = {
    "first": "first-order index",
    "total": "total index",
    "mu_star": "Morris μ* (per unit CDF)",
    "delta": "Borgonovo δ",
    "pawn": "PAWN (median KS)",
    "shapley": "Shapley effect",
}


def _cell(sel: xr.Dataset, name: str, inp: str) -> str:
    value = float(sel[name].sel(input=inp))
    if not np.isfinite(value):
        return "–"
    text = f"{value:.3g}"
    if f"{name}_low" in sel and np.isfinite(float(sel[f"{name}_low"].sel(input=inp))):
        low, high = float(sel[f"{name}_low"].sel(input=inp)), float(sel[f"{name}_high"].sel(input=inp))
        if high > low:
            text += f" [{low:.3g}, {high:.3g}]"
    return text


def comparison_table(ds: xr.Dataset, output: str) -> pd.DataFrame:
    """Rows (estimator, measure), columns inputs, cells ``value [low, high]`` from :func:`compare`.

    Examples
    --------
    >>> from uqbridge.sensitivity import compare
    >>> from uqbridge_models.benchmark_functions import ishigami
    >>> t = comparison_table(compare(ishigami(), ["sobol", "rbd_fast"], n=512, rng=0), "y")
    >>> t.index.tolist()[:3]
    [('sobol', 'first-order index'), ('sobol', 'total index'), ('rbd_fast', 'first-order index')]
    """
    sel = ds.sel(output=output)
    rows, keys = [], []
    for method in sel["estimator"].values:
        s = sel.sel({"estimator": method})
        for name, label in _MEASURES.items():
            if name in s and np.isfinite(s[name].values).any():
                keys.append((str(method), label))
                rows.append([_cell(s, name, str(i)) for i in s["input"].values])
    index = pd.MultiIndex.from_tuples(keys, names=["estimator", "measure"])
    return pd.DataFrame(rows, index=index, columns=[str(i) for i in sel["input"].values])


def _available(methods: Sequence[str] | None) -> list[str]:
    """The estimators to run: all registered ones whose extra is installed (``None``), or exactly those
    asked for (a missing extra is then an ImportError naming its ``pip install`` line)."""
    from .._optional import require

    if methods is None:
        return [m for m in DEFAULT_METHODS if m != "pce" or importlib.util.find_spec("chaospy") is not None]
    methods = list(methods)
    if "pce" in methods:
        require("the pce estimator", "pce", "chaospy", "sklearn")
    return methods


def sensitivity_report(
    model: ForwardModel | str,
    *,
    n: int = 2048,
    methods: Sequence[str] | None = None,
    groups: str | Mapping[str, Sequence[str]] | None = None,
    split: bool = True,
    rng: SeedLike = None,
    report: str | os.PathLike[str] | None = None,
    data: str | os.PathLike[str] | None = None,
    title: str | None = None,
    backend: Backend | None = None,
) -> xr.Dataset:
    """Run the sensitivity methods on ``model`` and write the HTML report and the netCDF data.

    Parameters
    ----------
    model : ForwardModel or str
        A model, or the name of a registered one.
    n : int
        Model runs per estimator, an upper limit (what it buys per estimator: see
        :func:`uqbridge.sensitivity.compare`; the runs made are in ``attrs["n_runs_<estimator>"]``).
    methods : sequence of str, optional
        Estimators to run and compare (default: every registered one whose extra is installed); Sobol' gives the bars and convergence, Morris the μ*–σ plot.
    groups : "kind", None or mapping
        Grouped Sobol'/PCE indices (default none: they share the Sobol' budget).
    split : bool
        Add the aleatory/epistemic split of each output by the law of total variance
        (:func:`uqbridge.decompose`, pick-freeze on the same budget ``n``): variables
        ``epistemic_share`` with ``_low``/``_high`` over ``output``. Skipped if the model has no
        epistemic or no aleatory input.
    rng : seed or Generator
        Same seed, same report numbers.
    report, data : path, optional
        Where to write the HTML file and the netCDF results (nothing written if ``None``).
    title : str, optional
    backend : execution backend, optional

    Returns
    -------
    xarray.Dataset
        The :func:`compare` dataset that the report shows (also written to ``data``).

    Examples
    --------
    >>> import tempfile, pathlib
    >>> from uqbridge_models.benchmark_functions import ishigami
    >>> out = pathlib.Path(tempfile.mkdtemp())
    >>> ds = sensitivity_report(ishigami(), n=200, methods=["morris"], rng=0,
    ...                         report=out / "r.html", data=out / "r.nc")
    >>> sorted(p.name for p in out.iterdir()), ds["estimator"].values.tolist()
    (['r.html', 'r.nc'], ['morris'])
    """
    if isinstance(model, str):
        model = get_model(model)
    if not isinstance(model, ForwardModel):
        raise TypeError(f"model must be a ForwardModel or a registered model name, got {type(model).__name__}")
    methods = _available(methods)
    compare_rng, split_rng = checks.generator(rng, "sensitivity_report: rng").spawn(2)
    ds = compare(model, methods, n=n, groups=groups, rng=compare_rng, backend=backend)
    ds.attrs["seed"] = ds.attrs.get("seed") if rng is None else str(rng)
    if split and model.inputs.epistemic and model.inputs.aleatory:
        ds = _with_split(model, ds, n, split_rng, backend)
    if data is not None:
        save(ds, data)
    if report is not None:
        build_report(model, ds, title=title).write(report)
    return ds


def _with_split(model: ForwardModel, ds: xr.Dataset, n: int, rng: SeedLike, backend: Backend | None) -> xr.Dataset:
    """The law-of-total-variance epistemic share (pick-freeze: n (2 + 2) runs ≤ the budget n)."""
    n_rows = max(64, n // 4)
    out = ds.copy()
    try:
        split = decompose(model, method="pick_freeze", n=n_rows, rng=rng, backend=backend)
    except ValueError as err:  # e.g. an aleatory and an epistemic input correlated with each other
        out.attrs["split_skipped"] = str(err)
        return out
    for name in ("epistemic_share", "epistemic_share_low", "epistemic_share_high"):
        if name in split:
            out[name] = split[name].reindex(output=ds["output"].values)
    out.attrs["n_runs_split"] = int(split.attrs.get("n_runs", 4 * n_rows))
    out.attrs["n_runs"] = int(out.attrs.get("n_runs", 0)) + out.attrs["n_runs_split"]
    out.attrs["split_estimator"] = "law of total variance, pick-freeze (Janon et al. 2014), bootstrap interval"
    return out


def _interval(sel: xr.Dataset, name: str, max_width: float | None = None) -> str:
    bounded = f"{name}_low" in sel and np.isfinite(float(sel[f"{name}_low"]))
    low, high = (float(sel[f"{name}_low"]), float(sel[f"{name}_high"])) if bounded else (None, None)
    text = format_interval(float(sel[name]), low, high, ".3f")
    if max_width is not None:
        text += _unchecked(float(sel[name]), low, high, max_width)
    return text


def _unchecked(value: float, low: float | None, high: float | None, max_width: float) -> str:
    """' (not conclusive: ...)' for an index whose interval fails the width or range check, else ''.

    Examples
    --------
    >>> _unchecked(0.56, 0.289, 0.833, 0.3)
    ' (not conclusive: interval wider than 0.3)'
    >>> _unchecked(-0.12, -0.13, -0.11, 0.3)
    ' (not conclusive: outside [0, 1])'
    """
    problems = []
    if low is not None and high is not None and high - low > max_width:
        problems.append(f"interval wider than {max_width:g}")
    if not -0.05 <= value <= 1.05:  # a small overshoot is estimator noise around 0 or 1
        problems.append("outside [0, 1]")
    return f" (not conclusive: {', '.join(problems)})" if problems else ""


def key_results(ds: xr.Dataset, *, top: int = 3) -> pd.DataFrame:
    """Headline numbers of a sensitivity result: per output the top inputs by total index (with
    intervals, from Sobol' if run) and the epistemic share by the law of total variance.

    Examples
    --------
    >>> from uqbridge.sensitivity import compare
    >>> from uqbridge_models.benchmark_functions import ishigami
    >>> key_results(compare(ishigami(), ["sobol"], n=2048, rng=0)).index.tolist()
    [('y', 'top inputs (total index, sobol)')]
    """
    rows: dict[tuple[str, str], str] = {}
    max_width = float(ds.attrs.get("max_width", 0.3))
    estimators = [str(m) for m in ds["estimator"].values] if "estimator" in ds.dims else []
    for output in [str(o) for o in ds["output"].values]:
        sel = ds.sel(output=output)
        for measure in ("total", "first", "shapley", "mu_star"):
            usable = [m for m in estimators if measure in sel and np.isfinite(sel[measure].sel(estimator=m).values).any()]
            if usable:
                chosen = "sobol" if "sobol" in usable else usable[0]
                s = sel.sel(estimator=chosen)
                order = np.argsort(-np.nan_to_num(s[measure].values, nan=-np.inf))[:top]
                names = [str(s["input"].values[k]) for k in order]
                label = {"total": "total index", "first": "first-order index", "shapley": "Shapley effect",
                         "mu_star": "Morris mu*"}[measure]
                check = max_width if measure != "mu_star" else None  # Morris mu* is not a share of variance
                rows[(output, f"top inputs ({label}, {chosen})")] = "; ".join(
                    f"{name} {_interval(s.sel(input=name), measure, check)}" for name in names)
                break
        if "epistemic_share" in sel:
            rows[(output, "epistemic share (law of total variance)")] = _interval(sel, "epistemic_share")
    frame = pd.DataFrame({"value": list(rows.values())}, index=pd.MultiIndex.from_tuples(list(rows)) if rows else None)
    return frame


def build_report(model: ForwardModel, ds: xr.Dataset, *, title: str | None = None) -> HtmlReport:
    """The :class:`HtmlReport` of a :func:`compare` dataset (used by :func:`sensitivity_report`)."""
    methods = [str(m) for m in ds["estimator"].values]
    r = HtmlReport(title or f"Sensitivity report — {model.name}")
    runs = ", ".join(f"{m}: {ds.attrs.get(f'n_runs_{m}', '?')}" for m in methods)
    if "n_runs_split" in ds.attrs:
        runs += f", variance split: {ds.attrs['n_runs_split']}"
    from .headline import grouped_warnings

    notes = [w for w in str(ds.attrs.get("warnings", "")).split("\n") if w]
    r.key_results(key_results(ds), caption=f"Intervals at {ds.attrs.get('confidence', 0.95):.0%}. Model runs: {runs}.",
                  warnings=grouped_warnings({"sensitivity": {"analysis": "sensitivity", "warnings": notes}}))
    base = f" Sobol' base size N = {ds.attrs['n_base_sobol']}." if "n_base_sobol" in ds.attrs else ""
    r.paragraph(f"{model.description or model.name}. Estimators: {', '.join(methods)}. Model runs per estimator: {runs}.{base} "
                f"Seed: {ds.attrs.get('seed', 'none')}.")
    if "split_skipped" in ds.attrs:
        r.paragraph(f"No aleatory/epistemic split: {ds.attrs['split_skipped']}", note=True)
    if not model.inputs.is_independent:
        r.paragraph(
            "The inputs are dependent (Gaussian copula or joint samples). Sobol', FAST, RBD-FAST, delta, PAWN, "
            "Morris and PCE indices are those of the independent uniform germs of the Nataf/joint-sample map, in "
            "the declared input order — not the classical indices of the correlated inputs. Shapley effects "
            "are the indices that account for the dependence.",
            note=True,
        )
    r.heading("Inputs")
    r.table(inputs_table(model.inputs), caption="Inputs in their own units", index=True)
    r.table(pd.DataFrame([{"output": o.name, "units": o.units, "description": o.description} for o in model.outputs])
            .set_index("output"))
    add_sections(r, ds)
    r.heading("Provenance")
    r.provenance(ds.attrs)
    return r


def add_sections(r: HtmlReport, ds: xr.Dataset) -> HtmlReport:
    """Append per-output sections (bars, comparison table, Morris, convergence, split) of a :func:`compare` result."""
    methods = [str(m) for m in ds["estimator"].values]
    for output in [str(o) for o in ds["output"].values]:
        r.heading(f"Output {output}")
        sel = ds.sel(output=output)
        if "first" not in sel or not np.isfinite(sel["first"].values).any():
            r.paragraph("No method estimated first-order indices for this output.", note=True)
        bars = "sobol" if "sobol" in methods else next(
            (m for m in methods if "first" in sel and np.isfinite(sel["first"].sel({"estimator": m}).values).any()), None)
        if bars is not None:
            r.heading("First-order and total indices", 3)
            r.figure(plots.indices_bar(ds, output, estimator=bars),
                     caption=f"{bars}: first-order and total indices with their {ds.attrs.get('confidence', 0.95):.0%} "
                             "bootstrap intervals.", alt=f"indices bar chart for {output}")
        r.heading("Estimator comparison", 3)
        r.table(comparison_table(ds, output))
        if "first" in ds and sum(np.isfinite(sel["first"].sel({"estimator": m}).values).any() for m in methods) > 1:
            r.figure(plots.method_comparison(ds, output), caption="First-order index by estimator.",
                     alt=f"method comparison for {output}")
        if "morris" in methods:
            r.heading("Morris screening", 3)
            r.figure(plots.morris_scatter(ds, output),
                     caption="Morris μ* against σ on the probability scale (elementary effects per unit change of "
                             "the input's CDF value, grid over its central 98 %).", alt=f"Morris mu-star sigma plot for {output}")
        if "sobol" in methods:
            r.heading("Convergence with sample size", 3)
            r.figure(plots.convergence(ds, output),
                     caption="Sobol' indices on the nested designs of N/8 … N base points (no extra runs).",
                     alt=f"convergence of Sobol indices for {output}")
        if "epistemic_share" in sel:
            r.heading("Aleatory / epistemic split (law of total variance)", 3)
            r.paragraph(f"Epistemic share of the variance of {output} (reducible by knowledge): "
                        f"{_interval(sel, 'epistemic_share')}; {ds.attrs.get('split_estimator', '')}.")
        if "group_first" in ds:
            grouped = [m for m in methods if np.isfinite(sel["group_first"].sel({"estimator": m}).values).any()]
            if grouped:
                r.heading("Grouped indices", 3)
                r.figure(plots.group_split(ds, output, estimator=grouped[0]),
                         caption=f"Grouped indices ({grouped[0]}): the share of the output variance due to each group "
                                 "alone (closed) and with its interactions (total).",
                         alt=f"grouped indices for {output}")
                members: np.ndarray | list[str] = ds["group_members"].values if "group_members" in ds.coords else []
                r.paragraph("Groups: " + "; ".join(f"{g}: {m}" for g, m in zip(ds["group"].values, members)))
    return r
