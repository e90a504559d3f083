"""Headline results of a study: the numbers a reader looks for first, as JSON-able data and as a table.

The same data fill ``summary.json``'s ``results`` block and the key-results box that opens the study
report, so the two never disagree. Each analysis kind has one function here (:data:`HEADLINES`).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import numpy as np
import pandas as pd
import xarray as xr

from .tables import format_interval

__all__ = ["HEADLINES", "analysis_kind", "headline", "key_results_table"]


def _num(ds: xr.Dataset, name: str) -> float | None:
    if name not in ds or ds[name].size != 1 or not np.issubdtype(ds[name].dtype, np.number):
        return None
    value = float(ds[name].values)
    return value if np.isfinite(value) else None


def analysis_kind(name: str, ds: xr.Dataset) -> str:
    """The analysis kind that made ``ds`` (its ``analysis`` attribute, else the result name's stem)."""
    kind = ds.attrs.get("analysis")
    if kind:
        return str(kind)
    for known in sorted(HEADLINES, key=len, reverse=True):
        if name.startswith(known):
            return known
    return name


def _reliability(name: str, ds: xr.Dataset) -> dict[str, Any]:
    return {
        "method": str(ds.attrs.get("method", name.removeprefix("reliability_"))),
        "limit_state": str(ds.attrs.get("limit_state", "")),
        "pf": _num(ds, "pf"), "pf_low": _num(ds, "pf_low"), "pf_high": _num(ds, "pf_high"),
        "beta": _num(ds, "beta"), "cov": _num(ds, "cov"),
        "reliable": bool(ds.attrs.get("reliable", 1)),
        "reason": str(ds.attrs.get("reason", ds.attrs.get("warning", "")) or ""),
        "n_runs": int(ds.attrs.get("n_runs", _num(ds, "n_runs") or 0)),
        "n_failed": int(ds.attrs.get("n_failed", 0)),
    }


def _pf_epistemic(name: str, ds: xr.Dataset) -> dict[str, Any]:
    return {
        "pf": _num(ds, "pf"), "pf_credible_low": _num(ds, "pf_credible_low"),
        "pf_credible_high": _num(ds, "pf_credible_high"),
        "credible": ds.attrs.get("credible"), "n_runs": int(ds.attrs.get("n_runs", 0)),
        "n_failed": int(ds.attrs.get("n_failed", 0)),
    }


def _per_output(ds: xr.Dataset, names: tuple[str, ...]) -> dict[str, dict[str, float | None]]:
    out: dict[str, dict[str, float | None]] = {}
    for o in [str(v) for v in ds["output"].values] if "output" in ds.dims else []:
        sel = ds.sel(output=o)
        out[o] = {n: _num(sel, n) for n in names if n in sel}
    return out


def _decompose(name: str, ds: xr.Dataset) -> dict[str, Any]:
    shares = _per_output(ds, ("variance", "epistemic_share", "epistemic_share_low", "epistemic_share_high"))
    result: dict[str, Any] = {"method": ds.attrs.get("method"), "outputs": shares, "n_runs": int(ds.attrs.get("n_runs", 0))}
    if "group" in ds.dims and "explained_share" in ds:
        bounds = "explained_share_low" in ds and "explained_share_high" in ds
        result["groups"] = {
            str(o): {
                str(g): [float(ds[v].sel(output=o, group=g)) for v in
                         (("explained_share", "explained_share_low", "explained_share_high") if bounds else ("explained_share",))]
                for g in ds["group"].values
            }
            for o in ds["output"].values
        }
    return result


def _propagate(name: str, ds: xr.Dataset) -> dict[str, Any]:
    return {"outputs": _per_output(ds, ("mean", "mean_se", "std", "std_se")),
            "n_failed": int(ds.attrs.get("n_failed", 0)), "n_runs": int(ds.attrs.get("n_runs", 0))}


def _sensitivity(name: str, ds: xr.Dataset) -> dict[str, Any]:
    from .sensitivity import key_results

    table = key_results(ds)
    return {"top": {f"{o} | {what}": str(v) for (o, what), v in table["value"].items()} if len(table) else {},
            "warnings": [w for w in str(ds.attrs.get("warnings", "")).split("\n") if w],
            "n_runs": int(ds.attrs.get("n_runs", 0))}


def _surrogate(name: str, ds: xr.Dataset) -> dict[str, Any]:
    scalars = {str(v): _per_output(ds, (str(v),)) for v in ds.data_vars
               if ds[v].dims == ("output",) and np.issubdtype(ds[v].dtype, np.number)}
    return {"validation": {v: {o: d[v] for o, d in per.items()} for v, per in scalars.items()},
            "n_runs": int(ds.attrs.get("n_runs", 0))}


HEADLINES: dict[str, Callable[[str, xr.Dataset], dict[str, Any]]] = {
    "reliability": _reliability,
    "pf_epistemic": _pf_epistemic,
    "decompose": _decompose,
    "propagate": _propagate,
    "sensitivity": _sensitivity,
    "surrogate": _surrogate,
    "pce": _surrogate,
}


def headline(results: Mapping[str, xr.Dataset]) -> dict[str, Any]:
    """JSON-able headline numbers of every result, keyed by result name.

    Examples
    --------
    >>> ds = xr.Dataset({"pf": 1.6e-4, "pf_low": 1.2e-4, "pf_high": 2.0e-4, "beta": 3.6},
    ...                 attrs={"method": "monte_carlo", "n_runs": 10**6, "analysis": "reliability"})
    >>> h = headline({"reliability_monte_carlo": ds})["reliability_monte_carlo"]
    >>> h["pf"], h["reliable"], h["n_runs"]
    (0.00016, True, 1000000)
    """
    out: dict[str, Any] = {}
    for name, ds in results.items():
        kind = analysis_kind(name, ds)
        if kind in HEADLINES:
            out[name] = {"analysis": kind, **HEADLINES[kind](name, ds)}
    return out


def _share_triple(v: list[float | None]) -> tuple[float | None, float | None, float | None]:
    """``[share, low, high]`` with missing bounds as None."""
    share, low, high = (v + [None, None])[:3]
    return share, low, high


def key_results_table(block: Mapping[str, Any]) -> pd.DataFrame:
    """The key-results box of a study report, from :func:`headline`'s block.

    Examples
    --------
    >>> block = {"reliability_form": {"analysis": "reliability", "method": "form", "pf": 1e-4, "pf_low": None,
    ...          "pf_high": None, "beta": 3.72, "reliable": True, "reason": "", "n_runs": 35}}
    >>> key_results_table(block).loc["Pf (form)", "value"]
    '0.0001, β = 3.72'
    """
    rows: dict[str, tuple[str, str]] = {}
    # the outputs the study is about (limit states, the variance split): a chain has many intermediates
    focus = {str(h.get("limit_state", "")).split(" ")[0] for h in block.values() if h.get("analysis") == "reliability"}
    focus |= {o for h in block.values() if h.get("analysis") == "decompose" for o in h.get("outputs", {})}
    focus.discard("")
    for h in block.values():
        kind = h.get("analysis")
        if kind == "reliability":
            text = format_interval(h["pf"], h["pf_low"], h["pf_high"])
            if h.get("beta") is not None:
                text += f", β = {h['beta']:.3g}"
            note = f"{h['n_runs']} runs" + ("" if h["reliable"] else f"; NOT RELIABLE: {h['reason']}")
            rows[f"Pf ({h['method']})"] = (text, note)
        elif kind == "pf_epistemic":
            rows["Pf under epistemic uncertainty"] = (
                format_interval(h["pf"], h["pf_credible_low"], h["pf_credible_high"]),
                f"predictive Pf [{float(h.get('credible') or 0.9):.0%} credible interval of Pf(E)]")
        elif kind == "decompose":
            for output, shares in (h.get("groups") or {}).items():
                text = "; ".join(f"{g} " + format_interval(*_share_triple(v), ".2f") for g, v in shares.items())
                by = "scale × kind" if any("/" in g for g in shares) else "group"
                rows[f"Var({output}) explained by each {by} alone"] = (
                    text, f"law of total variance ({h.get('method')}); the rest is interactions between groups")
            for output, v in h["outputs"].items():
                if v.get("epistemic_share") is not None:
                    rows[f"epistemic share of Var({output})"] = (
                        format_interval(v["epistemic_share"], v.get("epistemic_share_low"), v.get("epistemic_share_high"), ".2f"),
                        "law of total variance: reducible by better knowledge")
        elif kind == "sensitivity":
            for what, text in h["top"].items():
                if not focus or what.split(" | ")[0] in focus:
                    rows[what] = (text, "")
        elif kind == "propagate" and h.get("n_failed"):
            rows["failed samples (propagation)"] = (str(h["n_failed"]), "kept with their messages; excluded from statistics")
    frame = pd.DataFrame.from_dict(rows, orient="index", columns=["value", "note"])
    frame.index.name = "result"
    return frame
