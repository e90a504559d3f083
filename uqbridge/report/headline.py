"""Headline results of a study: the numbers a reader looks for first, as JSON-able data and as a table.

The same data fill ``summary.json``'s ``results`` block and the key-results box that opens the study
report, so the two never disagree. Each result kind has one function here (:data:`HEADLINES`); the
plain-language summary that opens the report (:func:`plain_summary`) and the grouped warnings under the
key results (:func:`grouped_warnings`) are read from the same block.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import Any

import numpy as np
import pandas as pd
import xarray as xr

from .tables import format_interval

__all__ = ["HEADLINES", "analysis_kind", "grouped_warnings", "headline", "key_results_table", "plain_summary"]

PRIOR = "_prior"


def _num(ds: xr.Dataset, name: str) -> float | None:
    if name not in ds or ds[name].size != 1 or not np.issubdtype(ds[name].dtype, np.number):
        return None
    value = float(ds[name].values)
    return value if np.isfinite(value) else None


def _float(value: Any) -> float | None:
    try:
        out = float(value)
    except (TypeError, ValueError):
        return None
    return out if np.isfinite(out) else None


def analysis_kind(name: str, ds: xr.Dataset) -> str:
    """The result kind of ``ds``: its ``result`` attribute (set by the study runner), else the longest
    kind in :data:`HEADLINES` that the result name starts with, else its ``analysis`` attribute.

    Examples
    --------
    >>> analysis_kind("reliability_form_prior", xr.Dataset())
    'reliability'
    """
    kind = ds.attrs.get("result")
    if kind:
        return str(kind)
    stem = name.removesuffix(PRIOR)
    for known in sorted(HEADLINES, key=len, reverse=True):
        if stem == known or stem.startswith(known + "_"):
            return known
    return str(ds.attrs.get("analysis") or name)


def _reliability(name: str, ds: xr.Dataset) -> dict[str, Any]:
    return {
        "method": str(ds.attrs.get("method", name.removesuffix(PRIOR).removeprefix("reliability_"))),
        "limit_state": str(ds.attrs.get("limit_state", "")),
        "pf": _num(ds, "pf"), "pf_low": _num(ds, "pf_low"), "pf_high": _num(ds, "pf_high"),
        "confidence": _float(ds.attrs.get("confidence")),
        "beta": _num(ds, "beta"), "cov": _num(ds, "cov"),
        "reliable": bool(int(ds.attrs.get("reliable", 1))),
        "reason": str(ds.attrs.get("reason", ds.attrs.get("warning", "")) or ""),
        "n_runs": int(ds.attrs.get("n_runs", _num(ds, "n_runs") or 0)),
        "n_failed": int(ds.attrs.get("n_failed", 0)),
    }


def _pf_epistemic(name: str, ds: xr.Dataset) -> dict[str, Any]:
    return {
        "limit_state": str(ds.attrs.get("limit_state", "")),
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


def _share_checks(ds: xr.Dataset) -> list[str]:
    """The width/range checks of the closed and total shares shown in the key results (by scale or group)."""
    from ..variance import share_warnings

    view = ds.rename({v: str(v).replace("closed_share", "explained_share") for v in ds.data_vars
                      if str(v).startswith("closed_share")})
    if "scale" in view.dims:
        view = view.rename({"scale": "group"})
    if "quantity" in view.dims:
        view = view.rename({"quantity": "output"})
    if "explained_share" not in view or "group" not in view.dims or "output" not in view.dims:
        return []
    return share_warnings(view)


def _decompose(name: str, ds: xr.Dataset) -> dict[str, Any]:
    shares = _per_output(ds, ("variance", "epistemic_share", "epistemic_share_low", "epistemic_share_high"))
    result: dict[str, Any] = {"method": ds.attrs.get("method"), "outputs": shares, "n_runs": int(ds.attrs.get("n_runs", 0)),
                              "warnings": _share_checks(ds)}
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


def _pce_sobol(name: str, ds: xr.Dataset) -> dict[str, Any]:
    top: dict[str, str] = {}
    if "total" in ds and "input" in ds.dims:
        for o in [str(v) for v in ds["output"].values] if "output" in ds.dims else [None]:
            total = ds["total"] if o is None else ds["total"].sel(output=o)
            order = np.argsort(-np.nan_to_num(total.values, nan=-np.inf))[:3]
            top[str(o)] = "; ".join(f"{ds['input'].values[k]} {float(total.values[k]):.3f}" for k in order)
    return {"top_total": top}


def _stage_surrogate(name: str, ds: xr.Dataset) -> dict[str, Any]:
    errors = ds["holdout_relative_rmse"].to_series() if "holdout_relative_rmse" in ds else pd.Series(dtype=float)
    worst = errors.dropna()
    return {
        "stage": str(ds.attrs.get("stage", "")), "scale": str(ds.attrs.get("scale", "")),
        "holdout_relative_rmse": {str(k): float(v) for k, v in worst.items()},
        "worst_output": str(worst.idxmax()) if len(worst) else None,
        "worst_relative_rmse": float(worst.max()) if len(worst) else None,
        "true_stage_runs": int(ds.attrs.get("true_stage_runs", 0)),
    }


def _macro_estimate(name: str, ds: xr.Dataset) -> dict[str, Any]:
    return {
        "output": str(ds.attrs.get("output", "")), "threshold": _float(ds.attrs.get("threshold")),
        "failure": str(ds.attrs.get("failure", "")), "stage": str(ds.attrs.get("surrogate_stage", "")),
        "pf": _num(ds, "pf"), "pf_low": _num(ds, "pf_low"), "pf_high": _num(ds, "pf_high"),
        "pf_surrogate_error": _num(ds, "pf_surrogate_error"), "pf_surrogate_error_se": _num(ds, "pf_surrogate_error_se"),
        "mean": _num(ds, "mean"), "mean_se": _num(ds, "mean_se"),
        "confidence": _float(ds.attrs.get("confidence")),
    }


def _by_scale(ds: xr.Dataset, sel: Mapping[str, Any]) -> dict[str, list[float | None]]:
    out: dict[str, list[float | None]] = {}
    for s in [str(v) for v in ds["scale"].values]:
        part = ds.sel({**sel, "scale": s})
        out[s] = [_num(part, v) for v in ("closed_share", "closed_share_low", "closed_share_high")]
    return out


def _scale_shares(name: str, ds: xr.Dataset) -> dict[str, Any]:
    outputs = [str(v) for v in ds["output"].values] if "output" in ds.dims else []
    return {"method": str(ds.attrs.get("method", "")),
            "shares": {o: _by_scale(ds, {"output": o}) for o in outputs} if "scale" in ds.dims else {},
            "n_runs": int(ds.attrs.get("n_runs", 0)), "warnings": _share_checks(ds)}


def _pf_by_scale(name: str, ds: xr.Dataset) -> dict[str, Any]:
    quantities = [str(v) for v in ds["quantity"].values] if "quantity" in ds.dims else []
    quantity = "pf" if "pf" in quantities else (quantities[0] if quantities else None)
    shares = _by_scale(ds, {"quantity": quantity} if quantity else {}) if "scale" in ds.dims else {}
    pf = ds["pf"].values.ravel()[0] if "pf" in ds else np.nan
    return {"method": str(ds.attrs.get("method", "")), "quantity": quantity, "shares": shares,
            "pf": _float(pf), "n_runs": int(ds.attrs.get("n_runs", 0)), "warnings": _share_checks(ds)}


def _calibration(name: str, ds: xr.Dataset) -> dict[str, Any]:
    params = [str(v) for v in ds["parameter"].values] if "parameter" in ds.dims else []
    posterior = {p: [_num(ds.sel(parameter=p), v) for v in ("posterior_mean", "posterior_low", "posterior_high",
                                                           "prior_mean", "prior_sd", "posterior_sd")] for p in params}
    return {
        "gates": str(ds.attrs.get("gates", "")), "stage": str(ds.attrs.get("stage", "")),
        "observed": str(ds.attrs.get("observed", "")), "data_source": str(ds.attrs.get("data_source", "")),
        "n_observations": int(ds.attrs.get("n_observations", 0) or 0), "posterior": posterior,
    }


def _coverage_check(name: str, ds: xr.Dataset) -> dict[str, Any]:
    return {
        "quantity": str(ds.attrs.get("quantity", "")), "reference": str(ds.attrs.get("reference", "")),
        "reference_kind": str(ds.attrs.get("reference_kind", "")),
        "coverage": _float(ds.attrs.get("coverage")), "nominal": _float(ds.attrs.get("nominal", 0.9)),
        "passed": None if "passed" not in ds.attrs else bool(int(ds.attrs["passed"])),
        "summary": str(ds.attrs.get("summary", "")),
        "n_points": int(ds.sizes.get("point", 0)),
    }


def _value_of_information(name: str, ds: xr.Dataset) -> dict[str, Any]:
    options = [str(v) for v in ds["option"].values] if "option" in ds.dims else []
    return {
        "quantity": str(ds.attrs.get("quantity", "")), "baseline": _float(ds.attrs.get("baseline")),
        "best": str(ds.attrs.get("best", "")),
        "options": {o: {v: _num(ds.sel(option=o), v) for v in ("cost", "expected_reduction", "expected_reduction_se",
                                                                 "reduction_per_cost", "expected_after") if v in ds}
                    for o in options},
    }


HEADLINES: dict[str, Callable[[str, xr.Dataset], dict[str, Any]]] = {
    "reliability": _reliability,
    "pf_epistemic": _pf_epistemic,
    "decompose": _decompose,
    "propagate": _propagate,
    "sensitivity": _sensitivity,
    "surrogate": _surrogate,
    "pce_validation": _surrogate,
    "pce_sobol": _pce_sobol,
    "stage_surrogate": _stage_surrogate,
    "macro_estimate": _macro_estimate,
    "scale_shares": _scale_shares,
    "pf_by_scale": _pf_by_scale,
    "calibration": _calibration,
    "calibration_fit": _coverage_check,
    "validation": _coverage_check,
    "value_of_information": _value_of_information,
}
"""Result kind -> function ``(name, ds) -> dict`` of its headline numbers (JSON-able)."""


def headline(results: Mapping[str, xr.Dataset]) -> dict[str, Any]:
    """JSON-able headline numbers of every result, keyed by result name.

    Every entry also carries what a reader must see with the numbers: ``calibration`` (``"passed"``
    or ``"failed <gate>: <reason>"`` for results computed after a calibration step),
    ``headline_note`` and ``prior_run`` (a result recomputed on the prior model, stored as
    ``<name>_prior``).

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
            entry = {"analysis": kind, **HEADLINES[kind](name, ds)}
            for key in ("calibration", "headline_note", "label"):
                if ds.attrs.get(key):
                    entry[key] = str(ds.attrs[key])
            if name.endswith(PRIOR) or int(ds.attrs.get("prior_run", 0) or 0):
                entry["prior_run"] = True
            out[name] = entry
    return out


def _share_triple(v: list[float | None]) -> tuple[float | None, float | None, float | None]:
    """``[share, low, high]`` with missing bounds as None."""
    share, low, high = (list(v) + [None, None])[:3]
    return share, low, high


def _share_text(name: str, v: list[float | None], max_width: float = 0.3) -> str:
    """``name share [low, high]``, marked when the interval fails the width or range check.

    Examples
    --------
    >>> _share_text("pores", [0.55, 0.08, 0.84]), _share_text("part", [0.2, 0.15, 0.25])
    ('pores 0.55 [0.08, 0.84] (not conclusive)', 'part 0.20 [0.15, 0.25]')
    """
    share, low, high = _share_triple(v)
    text = f"{name} " + format_interval(share, low, high, ".2f")
    wide = low is not None and high is not None and high - low > max_width
    outside = share is not None and not -0.05 <= share <= 1.05
    return text + (" (not conclusive)" if wide or outside else "")


def _failed_calibration(h: Mapping[str, Any]) -> str:
    """The sentence every headline computed with a failed calibration carries ('' if none)."""
    status = str(h.get("calibration", ""))
    if not status.startswith("failed"):
        return ""
    gate, _, reason = status.removeprefix("failed").strip().partition(":")
    return f"computed with a calibration that failed its {gate.strip() or 'diagnostics'} gate: {reason.strip() or 'see the calibration section'}"


# reading order of the key results: what a study is for comes first (a reliability study: Pf)
_ORDER = ("reliability", "pf_epistemic", "macro_estimate", "validation", "calibration", "calibration_fit",
          "pf_by_scale", "scale_shares", "decompose", "value_of_information", "sensitivity", "stage_surrogate",
          "surrogate", "pce_validation", "pce_sobol", "propagate")

# simulation methods first: their intervals are statistical; FORM/SORM are approximations
_PF_PREFERENCE = ("monte_carlo", "importance_sampling", "subset_simulation", "active_learning", "recommended",
                  "sorm", "form")


def _rank(item: tuple[str, Mapping[str, Any]]) -> tuple[int, int]:
    name, h = item
    kind = h.get("analysis", "")
    first = _ORDER.index(kind) if kind in _ORDER else len(_ORDER)
    second = 0
    if kind == "reliability":
        method = str(h.get("method", ""))
        pref = _PF_PREFERENCE.index(method) if method in _PF_PREFERENCE else len(_PF_PREFERENCE)
        second = pref + (0 if h.get("reliable", True) else 100)  # a flagged Pf after the checked ones
    return first, second


def ordered(block: Mapping[str, Any]) -> list[tuple[str, Mapping[str, Any]]]:
    """The block's entries in reading order (results computed on the prior model left out)."""
    return sorted(((n, h) for n, h in block.items() if not h.get("prior_run")), key=_rank)


def _rows(name: str, h: Mapping[str, Any], focus: set[str]) -> dict[str, tuple[str, str]]:
    """Key-results rows ``{label: (value, note)}`` of one headline entry."""
    rows: dict[str, tuple[str, str]] = {}
    kind = h.get("analysis")
    if kind == "reliability":
        text = format_interval(h["pf"], h["pf_low"], h["pf_high"])
        if h.get("beta") is not None:
            text += f", β = {h['beta']:.3g}"
        note = f"{h['n_runs']} runs" + ("" if h["reliable"] else "; did not pass its checks (see warnings below)")
        rows[f"Pf ({h['method']})"] = (text, note)
    elif kind == "pf_epistemic":
        rows["Pf under epistemic uncertainty"] = (
            format_interval(h["pf"], h["pf_credible_low"], h["pf_credible_high"]),
            f"predictive Pf [{float(h.get('credible') or 0.9):.0%} credible interval of Pf(E)]")
    elif kind == "macro_estimate":
        if h.get("pf") is not None:
            err = h.get("pf_surrogate_error")
            rows[f"Pf ({h['output']} {h['failure']} {h.get('threshold') or 0:g}, surrogate chain)"] = (
                format_interval(h["pf"], h.get("pf_low"), h.get("pf_high")),
                f"stage {h['stage']} replaced by its surrogate" + (f"; surrogate-error term {err:.2g}" if err is not None else ""))
        elif h.get("mean") is not None:
            rows[f"mean {h['output']} (surrogate chain)"] = (format_interval(h["mean"]), f"± {h.get('mean_se') or 0:.2g}")
    elif kind in ("validation", "calibration_fit"):
        what = "validation" if kind == "validation" else "calibration fit"
        coverage = h.get("coverage")
        text = "–" if coverage is None else f"{coverage:.0%} of {h['n_points']} points inside the 90 % band"
        verdict = "" if h.get("passed") is None else ("passed" if h["passed"] else "FAILED")
        ref = f"{h.get('reference_kind') or 'reference'}: {h.get('reference')}" if h.get("reference") else ""
        rows[f"{what} ({h.get('quantity') or 'held-out data'})" if kind == "validation" else what] = (
            text, "; ".join(x for x in (verdict, ref) if x))
    elif kind == "calibration":
        params = "; ".join(f"{p} " + format_interval(*_share_triple(v[:3])) for p, v in h["posterior"].items())
        rows[f"calibrated {h.get('stage') or 'parameters'} (posterior mean [90 %])"] = (
            params or "–", f"gates: {h.get('gates') or '?'}; {h.get('n_observations')} observations of {h.get('observed')}")
    elif kind == "pf_by_scale":
        quantity = "Pf" if h.get("quantity") == "pf" else str(h.get("quantity"))
        text = "; ".join(_share_text(s, v) for s, v in h["shares"].items())
        rows[f"Var({quantity}) over the epistemic inputs explained by each scale's alone"] = (text, h.get("method", ""))
    elif kind == "scale_shares":
        for output, shares in h["shares"].items():
            if not focus or output in focus:
                text = "; ".join(_share_text(s, v) for s, v in shares.items())
                rows[f"Var({output}) explained by each scale alone"] = (text, h.get("method", ""))
    elif kind == "decompose":
        for output, shares in (h.get("groups") or {}).items():
            if focus and output not in focus:
                continue
            text = "; ".join(_share_text(g, v) for g, v in shares.items())
            by = "scale × kind" if any("/" in g for g in shares) else "group"
            rows[f"Var({output}) explained by each {by} alone"] = (
                text, f"law of total variance ({h.get('method')}); the rest is interactions between groups")
        for output, v in h["outputs"].items():
            if v.get("epistemic_share") is not None and (not focus or output in focus):
                rows[f"epistemic share of Var({output})"] = (
                    format_interval(v["epistemic_share"], v.get("epistemic_share_low"), v.get("epistemic_share_high"), ".2f"),
                    "law of total variance: reducible by better knowledge")
    elif kind == "value_of_information":
        best = h["options"].get(h.get("best"), {})
        value = format_interval(best.get("expected_reduction"))
        rows[f"measure next ({h.get('quantity')})"] = (
            f"{h.get('best')}: expected reduction {value}", f"best reduction per cost; baseline {h.get('baseline')}")
    elif kind == "sensitivity":
        for what, text in h["top"].items():
            if not focus or what.split(" | ")[0] in focus:
                rows[what] = (text, "")
    elif kind == "stage_surrogate" and h.get("worst_relative_rmse") is not None:
        rows[f"surrogate of stage {h['stage']} ({h['scale']})"] = (
            f"held-out relative RMSE ≤ {h['worst_relative_rmse']:.2g}",
            f"worst output {h['worst_output']}; {h['true_stage_runs']} runs of the true stage")
    elif kind == "propagate" and h.get("n_failed"):
        rows["failed samples (propagation)"] = (str(h["n_failed"]), "kept with their messages; excluded from statistics")
    failed = _failed_calibration(h)
    if failed:
        rows = {k: (v, f"{failed}; {note}" if note else failed) for k, (v, note) in rows.items()}
    return rows


def _focus(block: Mapping[str, Any]) -> set[str]:
    """The outputs the study is about (limit states, the variance split): a chain has many intermediates."""
    focus = {str(h.get("limit_state", "")).split(" ")[0] for h in block.values()
             if h.get("analysis") in ("reliability", "pf_epistemic")}
    focus |= {str(h.get("output", "")) for h in block.values() if h.get("analysis") == "macro_estimate"}
    focus |= {o for h in block.values() if h.get("analysis") == "decompose" for o in h.get("outputs", {})}
    focus.discard("")
    return focus


def key_results_table(block: Mapping[str, Any]) -> pd.DataFrame:
    """The key-results box of a study report, from :func:`headline`'s block, in reading order.

    A result recomputed on the prior model (``<name>_prior``) is shown beside its calibrated value in a
    column "before calibration".

    Examples
    --------
    >>> block = {"reliability_form": {"analysis": "reliability", "method": "form", "pf": 1e-4, "pf_low": None,
    ...          "pf_high": None, "beta": 3.72, "reliable": True, "reason": "", "n_runs": 35}}
    >>> key_results_table(block).loc["Pf (form)", "value"]
    '0.0001, β = 3.72'
    """
    focus = _focus(block)
    rows: dict[str, tuple[str, str]] = {}
    before: dict[str, str] = {}
    for name, h in ordered(block):
        own = _rows(name, h, focus)
        rows.update(own)
        prior = block.get(name + PRIOR)
        if prior is not None:
            for label, (value, _) in _rows(name + PRIOR, prior, focus).items():
                if label in own:
                    before[label] = value
    frame = pd.DataFrame.from_dict(rows, orient="index", columns=["value", "note"])
    if before:
        frame.insert(1, "before calibration", [before.get(label, "–") for label in frame.index])
    frame.index.name = "result"
    return frame


def _warning_lines(block: Mapping[str, Any]) -> list[tuple[str, str]]:
    """Every warning of the block as (where, text)."""
    found: list[tuple[str, str]] = []
    for name, h in block.items():
        if h.get("prior_run"):
            continue
        if h.get("analysis") == "reliability" and not h.get("reliable", True):
            found.append((f"Pf ({h.get('method')})", h.get("reason") or "did not pass its checks"))
        for w in h.get("warnings", []):
            found.append((name, str(w)))
    return found


def _warning_kind(text: str) -> str:
    """What a warning says with its place, names and numbers taken out (so repeats group together)."""
    body = text.split(": ", 1)[1] if ": " in text and text.index(": ") < 60 else text
    body = re.sub(r"[-+]?\d[\d.eE+-]*", "#", body)
    return re.sub(r"\b(index|of|for)\s+\S+", r"\1 _", body)


def grouped_warnings(block: Mapping[str, Any]) -> list[str]:
    """One line per kind of warning, with its count and its first occurrence.

    Examples
    --------
    >>> w = ["sobol, y, x1: first index 0.3 has a wide interval [0.1, 0.5] (width > 0.3; increase n)",
    ...      "sobol, y, x2: first index 0.2 has a wide interval [0.0, 0.4] (width > 0.3; increase n)"]
    >>> grouped_warnings({"sensitivity": {"analysis": "sensitivity", "warnings": w}})
    ['2 × first index has a wide interval (e.g. sensitivity: sobol, y, x1: first index 0.3 has a wide interval [0.1, 0.5] (width > 0.3; increase n))']
    """
    groups: dict[tuple[str, str], list[str]] = {}
    for where, text in _warning_lines(block):
        kind = _warning_kind(text)
        groups.setdefault((where.split("_")[0], kind), []).append(f"{where}: {text}")
    lines = []
    for (_, kind), items in groups.items():
        if len(items) == 1:
            lines.append(items[0])
        else:
            short = re.sub(r"\s*\[[^\]]*\]|\s*\([^)]*\)|\s[#_](?=\s|$)", "", kind).strip().rstrip(":,;") or kind
            lines.append(f"{len(items)} × {short} (e.g. {items[0]})")
    return lines


def _pf_sentence(block: Mapping[str, Any]) -> str | None:
    entries = [(n, h) for n, h in ordered(block) if h.get("analysis") == "reliability" and h.get("pf") is not None]
    if not entries:
        macro = [h for _, h in ordered(block) if h.get("analysis") == "macro_estimate" and h.get("pf") is not None]
        if not macro:
            return None
        h = macro[0]
        return (f"The probability that {h['output']} falls {h['failure']} {h.get('threshold') or 0:g} is "
                f"{format_interval(h['pf'], h.get('pf_low'), h.get('pf_high'))} (Monte Carlo on the chain with stage "
                f"{h['stage']} replaced by its surrogate, surrogate error included).")
    name, h = entries[0]
    level = f"{h['confidence']:.0%} interval " if h.get("confidence") and h.get("pf_low") is not None else ""
    interval = f" [{level}{h['pf_low']:.3g}, {h['pf_high']:.3g}]" if h.get("pf_low") is not None and h.get("pf_high") is not None else ""
    ls = h.get("limit_state") or "the limit state"
    others = [f"{o['method']} {o['pf']:.3g}" for _, o in entries[1:]]
    also = f"; {', '.join(others)} by the other method{'s' if len(others) > 1 else ''}" if others else ""
    return (f"The probability of failure ({ls}) is Pf = {h['pf']:.3g}{interval} by "
            f"{h['method'].replace('_', ' ')} ({h['n_runs']} model runs{also}).")


def _first_sentence(block: Mapping[str, Any]) -> str:
    pf = _pf_sentence(block)
    if pf:
        return pf
    for _, h in ordered(block):
        kind = h.get("analysis")
        if kind == "pf_epistemic" and h.get("pf") is not None:
            return (f"The predictive probability of failure is {format_interval(h['pf'], h['pf_credible_low'], h['pf_credible_high'])} "
                    f"(credible interval of Pf over the epistemic inputs).")
        if kind == "sensitivity" and h.get("top"):
            what, text = next(iter(h["top"].items()))
            output, label = what.split(" | ")
            return f"The inputs that matter most for {output} are, by {label}: {text}."
        if kind == "decompose":
            for output, v in h["outputs"].items():
                if v.get("epistemic_share") is not None:
                    return (f"The share of Var({output}) that better knowledge could remove (epistemic) is "
                            f"{format_interval(v['epistemic_share'], v.get('epistemic_share_low'), v.get('epistemic_share_high'), '.2f')}.")
        if kind == "propagate":
            outputs = h.get("outputs", {})
            if outputs:
                o, v = next(iter(outputs.items()))
                return (f"The mean of {o} is {format_interval(v.get('mean'))} ± {v.get('mean_se') or 0:.2g} (standard error) "
                        f"from {h['n_runs']} model runs.")
    return "This study computed the results listed below."


def _inconclusive(v: list[float | None], max_width: float = 0.3) -> str:
    """', interval [a, b]: not conclusive at this budget' for a share whose interval is wider than max_width."""
    _, low, high = _share_triple(v)
    if low is None or high is None or high - low <= max_width:
        return ""
    return f", interval [{low:.2f}, {high:.2f}]: not conclusive at this budget"


def _dominant_scale(block: Mapping[str, Any]) -> str | None:
    focus = _focus(block)
    candidates: list[tuple[float, str]] = []
    for _, h in ordered(block):
        kind = h.get("analysis")
        if kind == "pf_by_scale" and h.get("shares"):
            s, v = max(h["shares"].items(), key=lambda kv: kv[1][0] or 0.0)
            if v[0] is not None:
                candidates.append((2.0, f"Of the epistemic inputs, those of the {s} scale move Pf most "
                                        f"({v[0]:.0%} of its variance alone{_inconclusive(v)})."))
        for output, shares in ({**h.get("shares", {})} if kind == "scale_shares" else
                               (h.get("groups") or {}) if kind == "decompose" else {}).items():
            if focus and output not in focus or not shares:
                continue
            g, v = max(shares.items(), key=lambda kv: kv[1][0] or 0.0)
            if v[0] is not None and "/" not in g:
                candidates.append((1.0 if output in focus else 0.0,
                                   f"The {g} scale dominates Var({output}): it explains {v[0]:.0%} of it alone"
                                   f"{_inconclusive(v)}."))
    return max(candidates, key=lambda c: c[0])[1] if candidates else None


def plain_summary(block: Mapping[str, Any]) -> str:
    """3–5 plain sentences: the headline number with its interval and method, whether the checks and
    the validation passed, which scale dominates, what to measure next, and every ``headline_note``.

    Examples
    --------
    >>> block = {"reliability_monte_carlo": {"analysis": "reliability", "method": "monte_carlo", "pf": 1e-3,
    ...          "pf_low": 8e-4, "pf_high": 1.2e-3, "confidence": 0.95, "beta": 3.09, "reliable": True,
    ...          "reason": "", "n_runs": 10**5, "limit_state": "margin below 0"}}
    >>> print(plain_summary(block))  # doctest: +NORMALIZE_WHITESPACE
    The probability of failure (margin below 0) is Pf = 0.001 [95% interval 0.0008, 0.0012] by monte carlo
    (100000 model runs). Every headline result passed its checks. No validation against held-out data was run.
    """
    sentences = [_first_sentence(block)]
    entries = ordered(block)
    failed = next((_failed_calibration(h) for _, h in entries if _failed_calibration(h)), "")
    if failed:
        sentences.append(f"These results were {failed}.")
    flagged = sorted({h.get("method", n) for n, h in entries if h.get("analysis") == "reliability" and not h.get("reliable", True)})
    n_warn = len(_warning_lines(block)) - len(flagged)
    calibrations = [h for _, h in entries if h.get("analysis") == "calibration"]
    gate_text = []
    for h in calibrations:
        gates = h.get("gates", "")
        gate_text.append("The calibration passed its gates." if gates == "passed" else
                         f"The calibration did NOT pass its gates ({gates.removeprefix('failed ')}); the results after it "
                         "were computed with it all the same.")
    if flagged:
        gate_text.append(f"Not every estimate passed its checks: {', '.join(str(f) for f in flagged)} "
                         "(reasons under the key results).")
    elif n_warn:
        gate_text.append(f"The headline estimates passed their checks; {n_warn} warning{'s' if n_warn > 1 else ''} "
                         f"on other numbers {'are' if n_warn > 1 else 'is'} listed under the key results.")
    else:
        gate_text.append("Every headline result passed its checks.")
    sentences += gate_text
    validations = [h for _, h in entries if h.get("analysis") == "validation"]
    if validations:
        for h in validations:
            verdict = "passed" if h.get("passed") else "FAILED"
            cov = f": {h['coverage']:.0%} of {h['n_points']} points inside the band (nominal {h.get('nominal') or 0.9:.0%})" \
                if h.get("coverage") is not None else ""
            sentences.append(f"Validation against {h.get('reference') or 'held-out data'} "
                             f"({h.get('reference_kind') or 'reference'}) {verdict}{cov}.")
    else:
        sentences.append("No validation against held-out data was run.")
    dominant = _dominant_scale(block)
    if dominant:
        sentences.append(dominant)
    for _, h in entries:
        if h.get("analysis") == "value_of_information" and h.get("best"):
            sentences.append(f"To reduce {h.get('quantity')} most per unit cost, measure next: {h['best']}.")
    notes = [str(h["headline_note"]) for _, h in entries if h.get("headline_note")]
    sentences += [n if n.endswith(".") else n + "." for n in dict.fromkeys(notes)]
    return " ".join(sentences)
