"""Study files take ``target_cov`` on the propagate and reliability steps (issue #30, item 7)."""

from __future__ import annotations

import dataclasses

from uqbridge.study import analysis_keys, load_study, run_study

STUDY = """
[study]
name = "target"
seed = 5
[model]
name = "ishigami"
[[analyses]]
kind = "propagate"
n = 65536
design = "mc"
target_cov = 0.05
[[analyses]]
kind = "reliability"
limit_state = { output = "y", threshold = 10.0, failure = "above" }
methods = ["monte_carlo", "subset_simulation"]
target_cov = 0.2
monte_carlo = { batch = 2000 }
subset_simulation = { n_per_level = 500 }
"""


def test_target_cov_reaches_propagate_and_every_sampling_method(tmp_path):
    assert "target_cov" in analysis_keys("propagate") and "target_cov" in analysis_keys("reliability")
    path = tmp_path / "study.toml"
    path.write_text(STUDY)
    results = run_study(dataclasses.replace(load_study(path), output=str(tmp_path)), progress=None)
    prop = results["propagate"]
    assert prop.attrs["target_cov"] == 0.05 and prop.attrs["target_met"]
    # Ishigami: std 3.72, mean 3.5 -> about (3.72 / (0.05 * 3.5))^2 = 452 i.i.d. samples: rounds 256, 512
    assert prop.sizes["sample"] == 512
    for method in ("monte_carlo", "subset_simulation"):
        r = results[f"reliability_{method}"]
        assert r.attrs["target_cov"] == 0.2 and r.attrs["target_met"] and float(r.cov) <= 0.2, method
