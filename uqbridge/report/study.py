"""The HTML report of a study: key results first, then each analysis's numbers and figures, inputs, provenance."""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd
import xarray as xr

from .headline import headline, key_results_table
from .html import HtmlReport
from .tables import failures_table, inputs_table

__all__ = ["reliability_table", "study_report"]


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
        if not name.startswith("reliability_"):
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
    """Write the self-contained HTML report of a study run (see :func:`uqbridge.study.run_study`)."""
    from ..plots.propagation import output_histograms, variance_split

    report = HtmlReport(study.title or f"Study {study.name}")
    block = (summary or {}).get("results") or headline(results)
    notes = ["Reduced budgets (--quick): figures are for checking the pipeline, not for decisions."] if (summary or {}).get("quick") else []
    notes += [w for h in block.values() for w in h.get("warnings", [])]
    report.key_results(key_results_table(block), caption="Headline numbers (intervals at each method's stated level)",
                       notes=notes)
    if study.description:
        report.paragraph(study.description)
    report.heading(f"Model: {study.model.name}")
    report.paragraph(study.model.description)
    report.table(inputs_table(study.model.inputs), caption="Inputs in their own units")
    report.table(
        pd.DataFrame([{"output": o.name, "units": o.units, "description": o.description} for o in study.model.outputs]).set_index("output"),
        caption="Outputs",
    )
    rel = reliability_table(results)
    if not rel.empty:
        report.heading("Probability of failure")
        report.table(rel, caption="Pf by method (interval at each method's stated level)", digits=4)
        form = results.get("reliability_form")
        if form is not None and "importance" in form:
            report.table(form["importance"].to_dataframe(name="alpha^2"), caption="FORM importance factors α²")
        _reliability_figures(report, results)
    for name, ds in results.items():
        if name.startswith("reliability_"):
            continue
        if name.startswith("propagate"):
            report.heading("Propagation")
            report.table(ds[["mean", "mean_se", "std", "std_se"]].to_dataframe(), caption="Output statistics (standard errors)")
            quantiles = ds["quantiles"].to_pandas().rename(columns=lambda q: f"q{float(q):g}")
            report.table(quantiles, caption="Output quantiles")
            report.figure(output_histograms(ds), caption="Output distributions (mean solid, quantiles dashed)")
            failed = failures_table(ds)
            if len(failed):
                report.paragraph(f"{int(ds.attrs.get('n_failed', len(failed)))} samples failed; they are kept with "
                                 "their messages and excluded from the statistics.", note=True)
                report.table(failed, caption="Failed samples (first 20)")
        elif name.startswith("decompose"):
            report.heading("Law-of-total-variance split")
            cols = [v for v in ("variance", "epistemic_term", "aleatory_term", "epistemic_share",
                                "epistemic_share_low", "epistemic_share_high") if v in ds]
            report.table(ds[cols].to_dataframe(), caption=f"Variance split ({ds.attrs.get('method', '')})")
            report.figure(variance_split(ds), caption="Share of variance reducible by knowledge (epistemic) vs irreducible (aleatory)")
        elif name.startswith("pf_epistemic"):
            report.heading("Pf under epistemic uncertainty")
            scalars = {k: float(v) for k, v in ds.data_vars.items() if v.ndim == 0 and k != "converged"}
            report.table(pd.DataFrame([scalars]), caption="Predictive Pf and credible interval", digits=4, index=False)
            _pf_distribution(report, ds)
        elif name.startswith("sensitivity"):
            from .sensitivity import add_sections

            report.heading("Global sensitivity")
            if study_model_note := ds.attrs.get("surrogate"):
                report.paragraph(f"Indices computed on {study_model_note}.", note=True)
            add_sections(report, ds)
        elif name.startswith("surrogate"):
            report.heading("Polynomial-chaos surrogate")
            report.paragraph(ds.attrs.get("description", ""))
            validation = ds[[v for v in ds.data_vars if ds[v].ndim <= 1 and "output" in ds[v].dims]]
            if validation.data_vars:
                report.table(validation.to_dataframe(), caption="Validation of the surrogate against the model")
        elif name.startswith("pce_sobol"):
            report.heading("PCE-based Sobol' indices")
            report.table(ds[["first", "total"]].to_dataframe(), caption="From the expansion's coefficients")
        else:
            report.heading(name)
            report.table(ds[[v for v in ds.data_vars if ds[v].ndim <= 1]].to_dataframe() if ds.data_vars else pd.DataFrame())
    report.heading("Provenance")
    attrs = dict(summary or {})
    first = next(iter(results.values()), None)
    if first is not None:
        attrs.update({k: v for k, v in first.attrs.items() if k.endswith("_version")})
    report.provenance(attrs)
    return report.write(path)


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
