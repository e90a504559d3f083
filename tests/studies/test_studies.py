"""Each study in its reduced-budget mode, its numbers checked against the references of the method issues.

- Reliability study: every simulation method's interval covers the cohesive-zone (Dugdale) quadrature
  reference Pf (``benchmarks/fracture_cohesive_reference.py``, stored in
  ``tests/models/data/fracture_cohesive_reference.json``) and importance sampling lies within 10 % of it
  (4 standard errors at the quick budget, which is below 10 %); FORM/SORM, asymptotic approximations of a
  curved limit state (the Newman–Raju factor has a kink where the surface point takes over), within
  20 % of it (measured: FORM +10 %, SORM −12 %); σ_c ≤ σ_max on every propagated sample; the report
  states the crack-shape and load-duration assumptions; the variance split's epistemic share lies in [0, 1].
- Sensitivity study: every cell-problem sample lies inside the Hashin–Shtrikman bounds (Hashin &
  Shtrikman 1962, insulating solid: 0 <= D_rel <= ε/(2 − ε) in 2-D); the PCE index of porosity
  lies in the Sobol' interval of the cell problem.
- Calibration study (slow): truth inside the 94 % intervals and the epistemic variance of the
  predicted flow stress reduced by the data.
"""

import json
from pathlib import Path

import numpy as np
import pytest

from uqbridge.study import load_study, run_study

STUDIES = Path(__file__).resolve().parents[2] / "studies"


@pytest.fixture(scope="module")
def reliability(tmp_path_factory):
    from dataclasses import replace

    study = load_study(STUDIES / "reliability_cracked_plate.toml", quick=True)
    study = replace(study, output=str(tmp_path_factory.mktemp("results")))
    return study, run_study(study, progress=None)


def test_reliability_study_matches_cohesive_quadrature_reference(reliability):
    study, results = reliability
    stored = json.loads((Path(__file__).resolve().parents[1] / "models" / "data" / "fracture_cohesive_reference.json").read_text())
    assert stored["study"]["options"] == study.model_spec["options"]
    ref = stored["study"]["pf"]
    for method in ("importance_sampling", "subset_simulation", "monte_carlo"):
        ds = results[f"reliability_{method}"]
        assert float(ds["pf_low"]) <= ref <= float(ds["pf_high"]), (method, float(ds["pf"]), ref)
    is_ = results["reliability_importance_sampling"]
    assert abs(float(is_["pf"]) / ref - 1) < min(0.10, 4 * float(is_["pf_se"]) / ref), float(is_["pf"])
    for method in ("form", "sorm"):
        assert abs(float(results[f"reliability_{method}"]["pf"]) / ref - 1) < 0.20, method
    prop = results["propagate"]
    assert np.all(prop["sigma_c"].values <= prop["sigma_max"].values)
    split = results["decompose"]
    assert np.all((split["epistemic_share"].values >= -0.05) & (split["epistemic_share"].values <= 1.05))
    folder = study.folder
    summary = json.loads((folder / "summary.json").read_text())
    assert summary["model_runs"]["reliability_monte_carlo"] > 0 and summary["wall_time_s"] > 0
    html = (folder / "report.html").read_text()
    assert "Probability of failure" in html and html.count("data:image/png;base64") >= 2
    for assumption in ("Crack shape assumption: semi-elliptical", "Newman-Raju", "Load-duration assumption",
                       "3 s", "Dugdale"):
        assert assumption in html, assumption


def test_sensitivity_study_inside_hashin_shtrikman_bounds(tmp_path):
    from dataclasses import replace

    from models.porous_diffusion import hashin_shtrikman_bounds

    study = load_study(STUDIES / "sensitivity_porous_diffusion.toml", quick=True)
    results = run_study(replace(study, output=str(tmp_path)), progress=None)
    ds = results["propagate"]
    ok = ds["status"].values == 0
    eps = ds["porosity_realised"].values[ok]
    lower, upper = hashin_shtrikman_bounds(eps)
    d_rel = ds["D_rel"].values[ok]
    assert np.all((d_rel >= lower - 1e-12) & (d_rel <= upper + 1e-12))
    # cross-check of two estimators: the PCE's first-order index of porosity (from coefficients)
    # inside the pick-freeze Sobol' interval of the cell problem itself
    sobol = results["sensitivity"].sel(output="D_rel").sel({"estimator": "sobol", "input": "porosity"})
    pce = float(results["pce_sobol"]["first"].sel(output="D_rel", input="porosity"))
    assert float(sobol["first_low"]) <= pce <= float(sobol["first_high"])
    assert (tmp_path / study.name / "report.html").exists()


@pytest.mark.slow
def test_calibration_study_recovers_truth_and_reduces_epistemic_variance(tmp_path):
    import importlib.util

    spec = importlib.util.spec_from_file_location("calibration_hardening", STUDIES / "calibration_hardening.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    out = module.main(quick=True, out=str(tmp_path / "cal"))
    assert out["recovery"]["covered"].all()
    bought = out["bought"]
    assert bought.loc["after (posterior)", "epistemic_term_high"] < bought.loc["before (prior)", "epistemic_term_low"]


def test_summary_results_block_matches_the_key_results_box(tmp_path):
    """summary.json carries the headline numbers (and the quick flag); the report opens with the same."""
    import json
    from dataclasses import replace

    path = tmp_path / "s.toml"
    path.write_text(
        '[study]\nname = "mini"\nseed = 3\n[model]\nname = "ishigami"\n'
        '[[analyses]]\nkind = "propagate"\nn = 256\n'
        '[[analyses]]\nkind = "decompose"\nn = 256\n'
        '[[analyses]]\nkind = "reliability"\nlimit_state = { output = "y", threshold = 12.0, failure = "above" }\n'
        'methods = ["monte_carlo"]\nmonte_carlo = { target_cov = 0.3, max_runs = 20000, batch = 10000 }\n'
    )
    study = load_study(path, quick=True)
    results = run_study(replace(study, output=str(tmp_path / "out")), progress=None)
    summary = json.loads((tmp_path / "out" / "mini" / "summary.json").read_text())
    assert summary["quick"] is True
    mc = summary["results"]["reliability_monte_carlo"]
    assert mc["pf"] == pytest.approx(float(results["reliability_monte_carlo"]["pf"]))
    assert summary["model_runs"]["reliability_monte_carlo"] == mc["n_runs"] > 0
    share = summary["results"]["decompose"]["outputs"]["y"]["epistemic_share"]
    html = (tmp_path / "out" / "mini" / "report.html").read_text()
    assert html.index("Key results") < html.index("Model: ishigami")
    assert f"{share:.2f}" in html and "Pf (monte_carlo)" in html
    assert "Uniform(lower" not in html  # inputs in their own units, not as parameters
