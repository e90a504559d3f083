"""The HTML report of a study: key results first, then each analysis's numbers and figures, inputs, provenance."""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from typing import Any

import numpy as np
import pandas as pd
import xarray as xr

from .headline import PRIOR, analysis_kind, grouped_warnings, headline, key_results_table, plain_summary
from .html import HtmlReport
from .tables import failures_table, inputs_table

__all__ = ["SECTIONS", "reliability_table", "study_report"]


def reliability_table(results: Mapping[str, xr.Dataset]) -> pd.DataFrame:
    """One row per reliability method: Pf, interval, β, CoV, model runs and warnings.

    Examples
    --------
    >>> ds = xr.Dataset({"pf": 1e-3, "pf_low": 8e-4, "pf_high": 1.2e-3, "beta": 3.09, "cov": 0.1, "n_runs": 100})
    >>> reliability_table({"reliability_monte_carlo": ds}).index[0]
    'monte_carlo'
    """
    rows = {}
    for name, ds in results.items():
        if not name.startswith("reliability_") or name.endswith(PRIOR):
            continue
        method = name.removeprefix("reliability_")
        get = lambda v, ds=ds: float(ds[v]) if v in ds and ds[v].size == 1 else np.nan  # noqa: E731
        rows[method] = {
            "Pf": get("pf"),
            "Pf low": get("pf_low"),
            "Pf high": get("pf_high"),
            "beta": get("beta"),
            "CoV": get("cov"),
            "model runs": int(get("n_runs")) if np.isfinite(get("n_runs")) else -1,
            "note": str(ds.attrs.get("warning", "") or ""),
        }
    return pd.DataFrame.from_dict(rows, orient="index")


def study_report(study: Any, results: Mapping[str, xr.Dataset], path: str | os.PathLike[str],
                 summary: Mapping[str, Any] | None = None) -> os.PathLike[str]:
    """Write the self-contained HTML report of a study run (see :func:`uqbridge.study.run_study`).

    It opens with the plain-language summary (:func:`~uqbridge.report.headline.plain_summary`), then the
    key results in reading order with the warnings grouped under them, then one section per result
    (:data:`SECTIONS`), the model's inputs and outputs, and the provenance.
    """
    report = HtmlReport(study.title or f"Study {study.name}")
    block = (summary or {}).get("results") or headline(results)
    report.summary(str((summary or {}).get("summary") or plain_summary(block)))
    quick = ["Reduced budgets (--quick): figures are for checking the pipeline, not for decisions."] if (summary or {}).get("quick") else []
    report.key_results(key_results_table(block), caption="Headline numbers (intervals at each method's stated level)",
                       warnings=quick + grouped_warnings(block))
    if study.description:
        report.paragraph(study.description)
    report.heading(f"Model: {study.model.name}")
    report.paragraph(study.model.description)
    report.table(inputs_table(study.model.inputs), caption="Inputs in their own units")
    report.table(
        pd.DataFrame([{"output": o.name, "units": o.units, "description": o.description} for o in study.model.outputs]).set_index("output"),
        caption="Outputs",
    )
    done: set[str] = set()
    for name, ds in results.items():
        kind = analysis_kind(name, ds)
        if kind in done or name.endswith(PRIOR):
            continue
        section = SECTIONS.get(kind, _generic)
        if kind in _WHOLE_KIND:
            done.add(kind)
        section(report, name, ds, results)
    report.heading("Provenance")
    attrs = dict(summary or {})
    attrs.pop("results", None)
    first = next(iter(results.values()), None)
    if first is not None:
        attrs.update({k: v for k, v in first.attrs.items() if k.endswith("_version")})
    report.provenance(attrs)
    return report.write(path)


Results = Mapping[str, xr.Dataset]

# kinds whose section covers every result of the kind at once (one table of all reliability methods)
_WHOLE_KIND = {"reliability"}


def _prior_of(name: str, results: Results) -> xr.Dataset | None:
    return results.get(name + PRIOR)


def _calibration_note(report: HtmlReport, ds: xr.Dataset) -> None:
    status = str(ds.attrs.get("calibration", ""))
    if status.startswith("failed"):
        gate, _, reason = status.removeprefix("failed").strip().partition(":")
        report.paragraph(f"Computed with a calibration that failed its {gate.strip()} gate: {reason.strip()}.", note=True)
    elif status:
        report.paragraph(f"Computed after a calibration step ({status}; calibrated inputs: "
                         f"{ds.attrs.get('calibrated_inputs', '?')}).")
    if ds.attrs.get("headline_note"):
        report.paragraph(str(ds.attrs["headline_note"]), note=True)


def _side_by_side(frame: pd.DataFrame, prior: pd.DataFrame | None) -> pd.DataFrame:
    """``frame`` with the same table computed on the prior model beside it (columns "… (prior)")."""
    if prior is None or prior.empty:
        return frame
    return frame.join(prior.add_suffix(" (prior)"), how="left")


def _reliability_section(report: HtmlReport, name: str, ds: xr.Dataset, results: Results) -> None:
    rel = reliability_table(results)
    report.heading("Probability of failure")
    _calibration_note(report, ds)
    prior = reliability_table({n.removesuffix(PRIOR): d for n, d in results.items() if n.endswith(PRIOR)})
    report.table(_side_by_side(rel, prior[["Pf", "Pf low", "Pf high"]] if not prior.empty else None),
                 caption="Pf by method (interval at each method's stated level)"
                 + ("; '(prior)' columns: the same method on the model before calibration" if not prior.empty else ""),
                 digits=4)
    form = results.get("reliability_form")
    if form is not None and "importance" in form:
        report.table(form["importance"].to_dataframe(name="alpha^2"), caption="FORM importance factors α²")
    _reliability_figures(report, results)


def _propagate_section(report: HtmlReport, name: str, ds: xr.Dataset, results: Results) -> None:
    from ..plots.propagation import output_histograms

    report.heading("Propagation")
    _calibration_note(report, ds)
    stats = ds[["mean", "mean_se", "std", "std_se"]].to_dataframe()
    prior = _prior_of(name, results)
    report.table(_side_by_side(stats, None if prior is None else prior[["mean", "std"]].to_dataframe()),
                 caption="Output statistics (standard errors)")
    quantiles = ds["quantiles"].to_pandas().rename(columns=lambda q: f"q{float(q):g}")
    report.table(quantiles, caption="Output quantiles")
    report.figure(output_histograms(ds), caption="Output distributions (mean solid, quantiles dashed)")
    failed = failures_table(ds)
    if len(failed):
        report.paragraph(f"{int(ds.attrs.get('n_failed', len(failed)))} samples failed; they are kept with "
                         "their messages and excluded from the statistics.", note=True)
        report.table(failed, caption="Failed samples (first 20)")


def _decompose_section(report: HtmlReport, name: str, ds: xr.Dataset, results: Results) -> None:
    from ..plots.propagation import variance_split

    report.heading("Law-of-total-variance split")
    _calibration_note(report, ds)
    cols = [v for v in ("variance", "epistemic_term", "aleatory_term", "epistemic_share",
                        "epistemic_share_low", "epistemic_share_high") if v in ds]
    report.table(ds[cols].to_dataframe(), caption=f"Variance split ({ds.attrs.get('method', '')})")
    if "group" in ds.dims and "explained_share" in ds:
        shares = [v for v in ("explained_share", "explained_share_low", "explained_share_high", "total_share") if v in ds]
        report.table(ds[shares].to_dataframe(), caption="Share of each output's variance explained by each group alone "
                                                        "(closed index) and with its interactions (total)")
    report.figure(variance_split(ds), caption="Share of variance reducible by knowledge (epistemic) vs irreducible (aleatory)")


def _pf_epistemic_section(report: HtmlReport, name: str, ds: xr.Dataset, results: Results) -> None:
    report.heading("Pf under epistemic uncertainty")
    _calibration_note(report, ds)
    scalars = {k: float(v) for k, v in ds.data_vars.items() if v.ndim == 0 and k != "converged"}
    report.table(pd.DataFrame([scalars]), caption="Predictive Pf and credible interval", digits=4, index=False)
    _pf_distribution(report, ds)


def _sensitivity_section(report: HtmlReport, name: str, ds: xr.Dataset, results: Results) -> None:
    from .sensitivity import add_sections

    report.heading("Global sensitivity")
    _calibration_note(report, ds)
    if study_model_note := ds.attrs.get("surrogate"):
        report.paragraph(f"Indices computed on {study_model_note}.", note=True)
    add_sections(report, ds)


def _surrogate_section(report: HtmlReport, name: str, ds: xr.Dataset, results: Results) -> None:
    report.heading("Polynomial-chaos surrogate")
    report.paragraph(ds.attrs.get("description", ""))
    validation = ds[[v for v in ds.data_vars if ds[v].ndim <= 1 and "output" in ds[v].dims]]
    if validation.data_vars:
        report.table(validation.to_dataframe(), caption="Validation of the surrogate against the model")


def _pce_sobol_section(report: HtmlReport, name: str, ds: xr.Dataset, results: Results) -> None:
    report.heading("PCE-based Sobol' indices")
    report.table(ds[[v for v in ("first", "total") if v in ds]].to_dataframe(), caption="From the expansion's coefficients")


def _stage_surrogate_section(report: HtmlReport, name: str, ds: xr.Dataset, results: Results) -> None:
    report.heading(f"Surrogate of stage {ds.attrs.get('stage', '?')} ({ds.attrs.get('scale', '')} scale)")
    report.paragraph(
        f"The stage was replaced by a polynomial chaos expansion fitted on {ds.attrs.get('n_train', '?')} runs of the true "
        f"stage at the inputs its upstream stages feed it, and checked on {ds.attrs.get('n_test', '?')} held-out runs "
        f"({ds.attrs.get('holdout_design', 'random design')}). The table gives the error that the surrogate adds to "
        "each downstream output on the held-out points.")
    cols = [v for v in ("holdout_rmse", "holdout_relative_rmse", "holdout_bias", "holdout_bias_se", "holdout_max_abs_error")
            if v in ds]
    if cols:
        report.table(ds[cols].to_dataframe(), caption="Held-out error of the surrogate chain, per output")


def _macro_estimate_section(report: HtmlReport, name: str, ds: xr.Dataset, results: Results) -> None:
    report.heading(f"Macro estimate of {ds.attrs.get('output', '')} on the surrogate chain")
    scalars = {k: float(v) for k, v in ds.data_vars.items() if v.ndim == 0 and np.issubdtype(v.dtype, np.number)}
    report.table(pd.DataFrame([scalars]).T.rename(columns={0: "value"}),
                 caption=f"Estimate on {ds.attrs.get('n_surrogate', '?')} surrogate runs; the *_surrogate_error terms are "
                         "the bias the surrogate adds, estimated on the held-out runs of the true stage", digits=4)
    if "quantile" in ds.dims:
        report.table(ds[[v for v in ds.data_vars if ds[v].dims == ("quantile",)]].to_dataframe(), caption="Quantiles")


def _shares_table(ds: xr.Dataset, sel: Mapping[str, Any]) -> pd.DataFrame:
    cols = [v for v in ("closed_share", "closed_share_low", "closed_share_high", "total_share", "total_share_low",
                        "total_share_high", "epistemic_share") if v in ds]
    return ds[cols].sel(sel).to_dataframe()[cols] if sel else ds[cols].to_dataframe()[cols]


def _scale_shares_section(report: HtmlReport, name: str, ds: xr.Dataset, results: Results) -> None:
    report.heading("Variance by scale")
    _calibration_note(report, ds)
    report.paragraph("Closed share: the part of the output's variance explained by one scale's inputs alone; total "
                     "share: with its interactions with the other scales. Epistemic share: what better knowledge at "
                     "that scale could remove.")
    report.table(_shares_table(ds, {}), caption=f"Shares by scale ({ds.attrs.get('method', '')})")


def _pf_by_scale_section(report: HtmlReport, name: str, ds: xr.Dataset, results: Results) -> None:
    report.heading("Pf by scale")
    _calibration_note(report, ds)
    report.paragraph("How much of the spread of Pf over the epistemic inputs each scale's epistemic inputs explain: "
                     "measuring the scale with the largest share narrows Pf most.")
    report.table(_shares_table(ds, {}), caption=f"Shares of the variance of Pf and β by scale ({ds.attrs.get('method', '')})")


def _calibration_section(report: HtmlReport, name: str, ds: xr.Dataset, results: Results) -> None:
    report.heading(f"Calibration of {ds.attrs.get('stage', 'the model')}")
    gates = str(ds.attrs.get("gates", ""))
    report.paragraph(
        f"Calibrated on {ds.attrs.get('n_observations', '?')} observations of {ds.attrs.get('observed', '?')} "
        f"(source: {ds.attrs.get('data_source', 'not given')}). Gates: {gates or 'not recorded'} "
        f"(convergence {'passed' if int(ds.attrs.get('convergence_passed', 0)) else 'failed'}, "
        f"adequacy {'passed' if int(ds.attrs.get('adequacy_passed', 0)) else 'failed'}).",
        note=not gates.startswith("passed"))
    cols = [v for v in ("prior_mean", "prior_sd", "posterior_mean", "posterior_sd", "posterior_low", "posterior_high") if v in ds]
    report.table(ds[cols].to_dataframe()[cols], caption="Prior and posterior of each parameter (90 % posterior interval)")


def _coverage_section(report: HtmlReport, name: str, ds: xr.Dataset, results: Results) -> None:
    kind = analysis_kind(name, ds)
    title = "Validation on held-out data" if kind == "validation" else "Fit to the calibration data"
    report.heading(title)
    if kind == "validation":
        passed = ds.attrs.get("passed")
        verdict = "" if passed is None else ("PASSED" if int(passed) else "FAILED")
        report.paragraph(
            f"{verdict}: {ds.attrs.get('summary', '')} Reference: {ds.attrs.get('reference', '?')} "
            f"({ds.attrs.get('reference_kind', 'kind not given')}); quantity {ds.attrs.get('quantity', '?')}.",
            note=verdict != "PASSED")
    coverage = ds.attrs.get("coverage")
    cols = [v for v in ("observed", "predicted_median", "predicted_low", "predicted_high", "covered") if v in ds]
    report.table(ds[cols].to_dataframe()[cols],
                 caption=f"Observed vs predicted (90 % band); coverage {float(coverage):.0%}" if coverage is not None
                 else "Observed vs predicted (90 % band)")


def _value_of_information_section(report: HtmlReport, name: str, ds: xr.Dataset, results: Results) -> None:
    report.heading("What to measure next")
    report.paragraph(f"Expected reduction of {ds.attrs.get('quantity', '?')} (now {ds.attrs.get('baseline', '?')}) "
                     f"by each measurement option; best per unit cost: {ds.attrs.get('best', '?')}.")
    cols = [v for v in ("cost", "expected_reduction", "expected_reduction_se", "reduction_per_cost", "expected_after") if v in ds]
    frame = ds[cols].to_dataframe()[cols]
    if "reduction_per_cost" in frame:
        frame = frame.sort_values("reduction_per_cost", ascending=False)
    report.table(frame, caption="Measurement options, best value first")


def _generic(report: HtmlReport, name: str, ds: xr.Dataset, results: Results) -> None:
    report.heading(name)
    _calibration_note(report, ds)
    report.table(ds[[v for v in ds.data_vars if ds[v].ndim <= 1]].to_dataframe() if ds.data_vars else pd.DataFrame())


SECTIONS: dict[str, Callable[[HtmlReport, str, xr.Dataset, Results], None]] = {
    "reliability": _reliability_section,
    "propagate": _propagate_section,
    "decompose": _decompose_section,
    "pf_epistemic": _pf_epistemic_section,
    "sensitivity": _sensitivity_section,
    "surrogate": _surrogate_section,
    "pce_validation": _surrogate_section,
    "pce_sobol": _pce_sobol_section,
    "stage_surrogate": _stage_surrogate_section,
    "macro_estimate": _macro_estimate_section,
    "scale_shares": _scale_shares_section,
    "pf_by_scale": _pf_by_scale_section,
    "calibration": _calibration_section,
    "calibration_fit": _coverage_section,
    "validation": _coverage_section,
    "value_of_information": _value_of_information_section,
}
"""Result kind -> function ``(report, name, dataset, all results)`` adding its section to the report."""


def _reliability_figures(report: HtmlReport, results: Mapping[str, xr.Dataset]) -> None:
    """Convergence of Pf for the simulation methods that record a history."""
    from ..plots.reliability import plot_pf_convergence

    for name, ds in results.items():
        if name.startswith("reliability_") and "history_pf" in ds:
            try:
                fig = plot_pf_convergence(ds)
            except (KeyError, ValueError):  # a method without a usable history: no figure
                continue
            report.figure(fig, caption=f"Convergence of Pf ({name.removeprefix('reliability_')}), with its interval")


def _pf_distribution(report: HtmlReport, ds: xr.Dataset) -> None:
    from ..plots.reliability import plot_pf_distribution

    report.figure(plot_pf_distribution(ds), caption="Distribution of the conditional Pf(E) over the epistemic inputs")
    if "importance" in ds:
        report.table(ds[["importance", "importance_share"]].to_dataframe(),
                     caption="Which epistemic input drives Pf: Spearman rank correlation with log Pf(E)")
