"""The dataset contracts other analyses write (calibration, calibration_fit, validation, the `_prior`
before/after results, attrs `calibration` and `headline_note`, value_of_information) each get a
headline, a key-results row and a report section; the plain-language summary says what they mean.

The datasets are built here exactly as the contracts in the layout note describe them, so that the
report side is checked before the producers land.
"""

import json
from types import SimpleNamespace

import numpy as np
import xarray as xr

import uqbridge as uq
from uqbridge.report.headline import grouped_warnings, headline, key_results_table, plain_summary
from uqbridge.report.study import study_report


def _pf(pf, *, calibration="passed", **attrs):
    return xr.Dataset({"pf": pf, "pf_low": pf * 0.8, "pf_high": pf * 1.2, "beta": 3.0, "cov": 0.1},
                      attrs={"result": "reliability", "method": "monte_carlo", "n_runs": 10_000, "reliable": 1,
                             "reason": "", "confidence": 0.95, "limit_state": "margin below 0",
                             "calibration": calibration, "calibrated_inputs": "E0,eta2", **attrs})


def _calibration(gates="passed"):
    p = ["E0", "eta2"]
    return xr.Dataset(
        {"prior_mean": ("parameter", [1.0, 2.0]), "prior_sd": ("parameter", [0.5, 0.5]),
         "posterior_mean": ("parameter", [1.1, 1.8]), "posterior_sd": ("parameter", [0.1, 0.1]),
         "posterior_low": ("parameter", [0.95, 1.65]), "posterior_high": ("parameter", [1.25, 1.95])},
        coords={"parameter": p},
        attrs={"analysis": "calibrate", "result": "calibration", "gates": gates,
               "convergence_passed": 1, "adequacy_passed": int(gates == "passed"), "observed": "C11,C12",
               "stage": "atomistic", "data_source": "Overton & Gaffney (1955)", "n_observations": 6})


def _points(kind, passed=1):
    covered = np.array([1, 1, 1, 0])
    ds = xr.Dataset({"observed": ("point", [1.0, 2.0, 3.0, 4.0]), "predicted_median": ("point", [1.1, 2.1, 2.9, 5.0]),
                     "predicted_low": ("point", [0.9, 1.8, 2.6, 4.5]), "predicted_high": ("point", [1.3, 2.4, 3.2, 5.5]),
                     "covered": ("point", covered)},
                    attrs={"result": kind, "coverage": 0.75})
    if kind == "validation":
        ds.attrs.update(analysis="validation", quantity="E of polycrystalline Cu", reference="Ledbetter (1984)",
                        reference_kind="measured", nominal=0.9, passed=passed,
                        summary="3 of 4 held-out moduli inside the 90 % band.")
    return ds


def _voi():
    return xr.Dataset({"cost": ("option", [1.0, 5.0]), "expected_reduction": ("option", [0.2, 0.5]),
                       "expected_reduction_se": ("option", [0.02, 0.05]), "reduction_per_cost": ("option", [0.2, 0.1]),
                       "expected_after": ("option", [0.8, 0.5])},
                      coords={"option": ["measure C44", "tensile tests"]},
                      attrs={"analysis": "value_of_information", "result": "value_of_information",
                             "quantity": "Var(margin)", "baseline": 1.0, "best": "measure C44"})


def _results(gates="passed"):
    calibration = "passed" if gates == "passed" else gates
    prior = _pf(3e-3, prior_run=1)
    del prior.attrs["calibration"]
    return {"calibration": _calibration(gates), "calibration_fit": _points("calibration_fit"),
            "validation": _points("validation"), "reliability_monte_carlo": _pf(1e-3, calibration=calibration,
                                                                              headline_note="E is biased high by EMT's C44"),
            "reliability_monte_carlo_prior": prior, "value_of_information": _voi()}


def test_contracts_have_headlines_rows_and_a_summary():
    block = headline(_results())
    assert {"calibration", "calibration_fit", "validation", "value_of_information"} <= set(block)
    assert block["reliability_monte_carlo_prior"]["prior_run"]
    table = key_results_table(block)
    assert table.index[0] == "Pf (monte_carlo)", "a reliability study: Pf first"
    # before/after side by side: the prior's Pf in its own column on the same row
    assert table.loc["Pf (monte_carlo)", "before calibration"].startswith("0.003")
    assert table.loc["Pf (monte_carlo)", "value"].startswith("0.001")
    assert "validation (E of polycrystalline Cu)" in table.index
    assert "measure next (Var(margin))" in table.index
    text = plain_summary(block)
    sentences = [s for s in text.split(". ") if s]
    assert 3 <= len(sentences) <= 7
    assert text.startswith("The probability of failure (margin below 0) is Pf = 0.001 [95% interval 0.0008, 0.0012]")
    assert "The calibration passed its gates." in text
    assert "Validation against Ledbetter (1984) (measured) passed" in text
    assert "measure next: measure C44" in text and "E is biased high by EMT's C44." in text


def test_a_failed_calibration_is_said_in_every_headline_it_touches():
    block = headline(_results(gates="failed adequacy: posterior predictive p = 0.001 for C12"))
    table = key_results_table(block)
    expected = "computed with a calibration that failed its adequacy gate: posterior predictive p = 0.001 for C12"
    assert expected in table.loc["Pf (monte_carlo)", "note"]
    text = plain_summary(block)
    assert expected in text and "did NOT pass its gates" in text


def test_contract_sections_render_in_the_study_report(tmp_path):
    results = _results(gates="failed convergence: R-hat 1.2 for eta2")
    block = headline(results)
    summary = {"summary": plain_summary(block), "results": block}
    study = SimpleNamespace(name="contracts", title="Contracts", description="", model=uq.get_model("ishigami"))
    path = study_report(study, results, tmp_path / "report.html", summary)
    html = path.read_text()
    assert html.index('<section class="summary"') < html.index('<section class="key-results"')
    for heading in ("Calibration of atomistic", "Fit to the calibration data", "Validation on held-out data",
                    "What to measure next", "Probability of failure"):
        assert heading in html, heading
    assert "Pf (prior)" in html, "the prior model's Pf beside the calibrated one"
    assert "computed with a calibration that failed its convergence gate: R-hat 1.2 for eta2" in html.replace(
        "Computed with", "computed with")
    json.dumps(block)  # summary.json-able


def test_warnings_are_grouped_one_line_per_kind():
    w = [f"sobol, y, x{k}: total index 0.{k} has a wide interval [0.0, 0.9] (width > 0.3; increase n)" for k in range(5)]
    w += ["shapley, y, x1: shapley index -0.121 is outside [0, 1] (noise; increase n)"]
    lines = grouped_warnings({"sensitivity": {"analysis": "sensitivity", "warnings": w},
                              "reliability_form": {"analysis": "reliability", "method": "form", "reliable": False,
                                                   "reason": "curvature factor 0.7"}})
    assert len(lines) == 3
    assert lines[0].startswith("5 × total index has a wide interval")
    assert any("outside [0, 1]" in line for line in lines) and any("curvature factor 0.7" in line for line in lines)
