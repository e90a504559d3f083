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


PARALLEL = """
[study]
name = "par"
seed = 5
[model]
name = "ishigami"
[execution]
backend = "processes"
workers = 2
batch_size = 64
[[analyses]]
kind = "propagate"
n = 256
[[analyses]]
kind = "decompose"
n = 128
[[analyses]]
kind = "sensitivity"
n = 320
methods = ["sobol"]
[[analyses]]
kind = "reliability"
limit_state = { output = "y", threshold = 10.0, failure = "above" }
methods = ["form", "monte_carlo"]
monte_carlo = { target_cov = 0.2, batch = 2000 }
"""


def test_study_runs_on_the_process_pool_with_the_in_process_numbers(tmp_path):
    import numpy as np

    from uqbridge.execution.batch import InProcess

    parallel = dataclasses.replace(load_study(_write(tmp_path, PARALLEL)), output=str(tmp_path / "a"))
    assert parallel.execution == {"backend": "processes", "workers": 2, "batch_size": 64}
    on_pool = run_study(parallel, progress=None)
    here = run_study(dataclasses.replace(parallel, output=str(tmp_path / "b")), progress=None, backend=InProcess())
    summary = json.loads((tmp_path / "a" / "par" / "summary.json").read_text())
    assert summary["execution"]["backend"] == "ProcessPool"
    assert on_pool["propagate"].attrs["backend"] == "ProcessPool"
    # the reliability methods run on the study's backend too
    assert on_pool["reliability_monte_carlo"].attrs["backend"] == "ProcessPool"
    assert on_pool.keys() == here.keys()
    for name in on_pool:
        for var in on_pool[name].data_vars:
            a, b = on_pool[name][var].values, here[name][var].values
            if a.dtype.kind == "f":
                np.testing.assert_array_equal(a, b, err_msg=f"{name}.{var}")


@pytest.mark.parametrize(
    "table, message",
    [
        ('backend = "threads"', r"\[execution\]: backend must be one of \['inprocess', 'processes', 'dask'\], got 'threads'"),
        ("workers = 0", r"\[execution\]: workers must be a positive integer, got 0"),
        ("timeout = -1", r"\[execution\]: timeout must be a positive number of seconds"),
        ("cores = 2", r"\[execution\]: unknown key\(s\) \['cores'\]; valid keys: \['address', 'backend', 'batch_size'"),
        ('backend = "inprocess"\ntimeout = 5', r"\[execution\]: timeout=5 needs a backend that can interrupt a batch"),
        ('backend = "processes"\naddress = "tcp://h:1"\nworkers = 2', r"\[execution\]: n_workers=2 applies only to a LocalCluster"),
    ],
)
def test_bad_execution_tables_are_rejected_with_the_fix(tmp_path, table, message):
    text = GOOD.replace("[[analyses]]", f"[execution]\n{table}\n[[analyses]]", 1)
    with pytest.raises(StudyError, match=message):
        load_study(_write(tmp_path, text))


def test_rerun_with_another_configuration_clears_the_earlier_files(tmp_path):
    first = dataclasses.replace(load_study(_write(tmp_path, GOOD), quick=True), output=str(tmp_path))
    run_study(first, progress=None)
    folder = tmp_path / "demo"
    assert (folder / "decompose.nc").exists()
    (folder / "notes.txt").write_text("mine")
    only_propagate = GOOD[: GOOD.index("[[analyses]]\nkind = \"decompose\"")]
    second = dataclasses.replace(load_study(_write(tmp_path, only_propagate), quick=True), output=str(tmp_path))
    run_study(second, progress=None)
    summary = json.loads((folder / "summary.json").read_text())
    assert summary["files"] == ["propagate.nc"] and summary["complete"] is True
    assert sorted(p.name for p in folder.glob("*.nc")) == ["propagate.nc"]  # decompose.nc of run 1 is gone
    assert (folder / "notes.txt").read_text() == "mine"  # what no run wrote is left alone


def test_unrecorded_data_in_the_results_folder_is_refused(tmp_path):
    study = dataclasses.replace(load_study(_write(tmp_path, GOOD), quick=True), output=str(tmp_path))
    (tmp_path / "demo").mkdir()
    (tmp_path / "demo" / "propagate.nc").write_bytes(b"from somewhere else")
    with pytest.raises(StudyError, match=r"holds \['propagate.nc'\], which no earlier run of a study recorded.*--out"):
        run_study(study, progress=None)
    assert (tmp_path / "demo" / "propagate.nc").read_bytes() == b"from somewhere else"


def test_a_run_stopped_half_way_is_cleared_by_the_next(tmp_path, monkeypatch):
    from uqbridge import study as study_module

    study = dataclasses.replace(load_study(_write(tmp_path, GOOD), quick=True), output=str(tmp_path))

    def broken(*args):
        raise RuntimeError("solver diverged")

    monkeypatch.setitem(study_module.ANALYSES, "decompose",
                        dataclasses.replace(study_module.ANALYSES["decompose"], run=broken))
    with pytest.raises(RuntimeError, match="solver diverged"):
        run_study(study, progress=None)
    summary = json.loads((tmp_path / "demo" / "summary.json").read_text())
    assert summary == {"study": "demo", "source": study.source, "complete": False, "files": ["propagate.nc"]}
    monkeypatch.undo()
    run_study(study, progress=None)  # knows propagate.nc from the stopped run: no refusal, no mixing
    assert json.loads((tmp_path / "demo" / "summary.json").read_text())["complete"] is True


def test_a_summary_cannot_make_the_run_delete_outside_its_folder(tmp_path):
    study = dataclasses.replace(load_study(_write(tmp_path, GOOD), quick=True), output=str(tmp_path))
    (tmp_path / "demo").mkdir()
    victim = tmp_path / "precious.nc"
    victim.write_text("keep")
    (tmp_path / "demo" / "summary.json").write_text(json.dumps({"files": ["../precious.nc", str(victim)]}))
    run_study(study, progress=None)
    assert victim.read_text() == "keep"


def test_every_analysis_kind_has_a_headline_and_a_report_section_for_what_it_writes():
    """Issue #32's contract: ANALYSES is the only list; each result kind it writes is rendered."""
    from uqbridge.report.headline import HEADLINES
    from uqbridge.report.study import SECTIONS
    from uqbridge.study import ANALYSES, Analysis

    for kind, record in ANALYSES.items():
        assert isinstance(record, Analysis) and record.about and record.produces, kind
        for result in record.produces:
            assert result in HEADLINES, f"{kind} writes {result!r}, which has no headline"
            assert result in SECTIONS, f"{kind} writes {result!r}, which has no report section"


def test_explicit_option_lists_match_the_functions_they_call():
    """The study's key lists are typed out (no signature inspection at run time); this test keeps them
    honest against the functions' signatures."""
    import inspect

    from uqbridge import reliability
    from uqbridge.chains.stage_surrogate import surrogate_stage
    from uqbridge.pce import fit_pce
    from uqbridge.pce.options import FLAT_KEYS
    from uqbridge.propagate import propagate
    from uqbridge.reliability.registry import METHODS
    from uqbridge.sensitivity import compare
    from uqbridge.study import _REUSES_FORM, ANALYSES
    from uqbridge.variance import decompose

    def params(f):
        return set(inspect.signature(f).parameters)

    own = {"propagate": {"outputs"}, "sensitivity": {"outputs"}, "pf_epistemic": {"limit_state", "method_options"},
           "stage_surrogate": {"stage", "macro", "replace_model", "degree", "max_degree", "q_norm"},
           # the study's flat PCE keys become fit_pce's option record (uqbridge.pce.split_method_keys)
           "pce": set(FLAT_KEYS), "surrogate": set(FLAT_KEYS)}
    for kind, func in (("propagate", propagate), ("decompose", decompose), ("sensitivity", compare),
                       ("pce", fit_pce), ("surrogate", fit_pce), ("pf_epistemic", reliability.pf_epistemic),
                       ("stage_surrogate", surrogate_stage)):
        extra = ANALYSES[kind].keys - params(func) - own.get(kind, set())
        assert not extra, f"{kind}: options {sorted(extra)} are not parameters of {func.__name__}"
    for name, method in METHODS.items():
        p = params(method)
        assert "backend" in p, f"reliability method {name!r} must take backend="
        assert "rng" in p, name
        assert ("form_result" in p) == (name in _REUSES_FORM), name


def test_a_step_analyses_only_the_outputs_it_names(tmp_path):
    text = GOOD.replace('kind = "decompose"\nn = 512', 'kind = "sensitivity"\nmethods = ["morris"]\nn = 200\noutputs = ["y"]')
    study = dataclasses.replace(load_study(_write(tmp_path, text), quick=True), output=str(tmp_path))
    results = run_study(study, progress=None)
    assert results["sensitivity"]["output"].values.tolist() == ["y"]
    bad = GOOD.replace("n = 2048", 'n = 2048\noutputs = ["z"]')
    with pytest.raises(StudyError, match=r"unknown output\(s\) \['z'\]; outputs of 'ishigami': \['y'\]"):
        run_study(dataclasses.replace(load_study(_write(tmp_path, bad)), output=str(tmp_path / "b")), progress=None)


def test_a_study_without_seed_draws_and_stores_an_integer_seed(tmp_path):
    text = GOOD.replace("seed = 3\n", "").replace('[[analyses]]\nkind = "decompose"\nn = 512\n', "")
    study = dataclasses.replace(load_study(_write(tmp_path, text), quick=True), output=str(tmp_path))
    assert [a["kind"] for a in study.analyses] == ["propagate"]
    first = run_study(study, progress=None)
    summary = json.loads((tmp_path / "demo" / "summary.json").read_text())
    assert list(summary)[0] == "summary" and isinstance(summary["seed"], int) and summary["seed_drawn"]
    replay = run_study(dataclasses.replace(study, seed=summary["seed"], output=str(tmp_path / "r")), progress=None)
    assert first["propagate"]["y"].values.tolist() == replay["propagate"]["y"].values.tolist()


def test_calibrate_step_keys_are_the_calibration_modules():
    """study.py repeats the calibrate step's option names so that reading a study file does not import
    PyMC; they must be the ones uqbridge.calibration.stage accepts."""
    pytest.importorskip("pymc")
    from uqbridge.calibration.stage import STEP_KEYS
    from uqbridge.study import ANALYSES

    assert ANALYSES["calibrate"].keys == STEP_KEYS
