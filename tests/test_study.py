"""Study files are data: validated key by key, unknown keys rejected with the valid choices."""

import dataclasses
import json

import pytest

from uqbridge.study import StudyError, load_study, run_study

GOOD = """
[study]
name = "demo"
seed = 3
[model]
name = "ishigami"
options = { a = 7.0, b = 0.1 }
[model.inputs]
x3 = 0.0
[[analyses]]
kind = "propagate"
n = 2048
quick = { n = 64 }
[[analyses]]
kind = "decompose"
n = 512
"""


def _write(tmp_path, text):
    p = tmp_path / "study.toml"
    p.write_text(text)
    return p


def test_good_study_runs_and_writes_results(tmp_path):
    # a study file may only name a folder below the current one; the caller may put it anywhere
    study = dataclasses.replace(load_study(_write(tmp_path, GOOD), quick=True), output=str(tmp_path))
    assert study.model.inputs["x3"].distribution.is_constant
    assert study.analyses[0]["options"]["n"] == 64
    results = run_study(study, progress=None)
    assert results["propagate"].sizes["sample"] == 64
    summary = json.loads((tmp_path / "demo" / "summary.json").read_text())
    assert summary["model_runs"]["propagate"] == 64
    assert (tmp_path / "demo" / "decompose.nc").exists()


@pytest.mark.parametrize(
    "edit, message",
    [
        (("seed = 3", "seed = 3\nsede = 4"), r"\[study\]: unknown key\(s\) \['sede'\]; valid keys:"),
        (('kind = "propagate"', 'kind = "propogate"'), r"kind must be one of \["),
        (("n = 2048", "n = 2048\nsamples = 5"), r"analyses\[0\] \(propagate\): unknown key\(s\) \['samples'\]; valid keys: \["),
        (("x3 = 0.0", "x4 = 0.0"), r"unknown input 'x4'; inputs of 'ishigami': \['x1', 'x2', 'x3'\]"),
        (("x3 = 0.0", 'x3 = { type = "Uniform", lower = 2.0, upper = 1.0 }'), "x3: Uniform: lower must be < upper"),
        (('name = "ishigami"', 'name = "ishigamy"'), r"unknown model 'ishigamy'; registered models:"),
        (("options = { a = 7.0, b = 0.1 }", "options = { c = 1 }"), r"bad options \['c'\]"),
        (("[[analyses]]", "[[analysis]]"), r"unknown key\(s\) \['analysis'\]"),
    ],
)
def test_bad_study_files_are_rejected_with_the_fix(tmp_path, edit, message):
    old, new = edit
    with pytest.raises(StudyError, match=message):
        load_study(_write(tmp_path, GOOD.replace(old, new, 1)))


def test_study_file_is_never_executed(tmp_path):
    """A TOML string that looks like code stays a string; a bad type for a key fails cleanly."""
    with pytest.raises(StudyError, match="seed must be an integer"):
        load_study(_write(tmp_path, GOOD.replace("seed = 3", 'seed = "__import__(\'os\').system(\'false\')"')))
