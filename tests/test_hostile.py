"""Hostile inputs, third pass (issue 31): every case of the catalogue with its expected clean outcome.

Network and process cases live in tests/external/test_serve_safety.py (serve) and
tests/external/test_hostile_external.py (UM-Bridge replies and deadlines, command deadlines, output
cap, path names). Here: silent wrong answers (0-d outputs, in-place edits of wired inputs, resume with
another function), memory budgets, calibration conditions and study files.
"""

import numpy as np
import pandas as pd
import pytest

import uqbridge as uq
from uqbridge import checks
from uqbridge.calibration.data import observations
from uqbridge.cli import main
from uqbridge.execution.batch import ERROR, OK, evaluate
from uqbridge.execution.campaign import resume_campaign, run_campaign
from uqbridge.study import StudyError, load_study

X = [uq.Input("x", uq.Uniform(0, 1))]


# ---- outputs are what they claim -------------------------------------------------------------------
def test_a_0d_output_fails_every_point_instead_of_being_broadcast():
    total = uq.ForwardModel("total", lambda x: {"y": float(np.sum(x))}, X, [uq.Output("y")])
    r = evaluate(total, {"x": np.linspace(0, 1, 8)})
    assert (r.status == ERROR).all()
    assert "output 'y' has shape (), expected (8,)" in r.message[0]
    one = evaluate(total, {"x": np.array([0.25])})  # one point: a scalar answer is unambiguous
    assert one.status.tolist() == [OK] and one.outputs["y"].tolist() == [0.25]


def test_a_0d_output_of_a_middle_stage_fails_the_chain_points():
    micro = uq.ForwardModel("micro", lambda x: {"b": float(np.mean(x))}, X, [uq.Output("b")])
    macro = uq.ForwardModel("macro", lambda b: {"y": 2 * b}, [uq.Input("b", uq.Normal(0, 1))], [uq.Output("y")])
    r = evaluate(uq.chain(micro, macro), {"x": np.linspace(0, 1, 6)})
    assert (r.status == ERROR).all() and "output 'b' has shape ()" in r.message[0]


def _doubles_in_place(b):
    b *= 2  # edits the wired input: would rewrite the recorded intermediate b
    return {"y": b + 0.0}


def test_a_stage_that_edits_its_wired_input_in_place_fails_and_the_intermediate_stays_true():
    micro = uq.ForwardModel("micro", lambda x: {"b": x + 1.0}, X, [uq.Output("b")])
    macro = uq.ForwardModel("macro", _doubles_in_place, [uq.Input("b", uq.Normal(0, 1))], [uq.Output("y")])
    r = evaluate(uq.chain(micro, macro), {"x": np.array([0.0, 0.5])})
    assert (r.status == ERROR).all()
    assert "stage 'macro' modified one of its inputs ['b'] in place" in r.message[0]
    honest = uq.ForwardModel("macro", lambda b: {"y": b * 2}, [uq.Input("b", uq.Normal(0, 1))], [uq.Output("y")])
    out = uq.chain(micro, honest)(x=np.array([0.0, 0.5]))
    np.testing.assert_array_equal(out["b"], [1.0, 1.5])  # x + 1, untouched by the later stage
    np.testing.assert_array_equal(out["y"], [2.0, 3.0])


# ---- resume refuses another function ------------------------------------------------------------------
def cube_model(power=3):
    def function(x):
        return {"y": x**power}

    return uq.ForwardModel("cube", function, X, [uq.Output("y")])


@pytest.mark.filterwarnings("ignore:output 'y'.*order statistic:RuntimeWarning")  # 40 points: no 90 % interval
def test_resume_refuses_a_model_whose_function_differs_unless_forced(tmp_path):
    store = tmp_path / "c"
    run_campaign(cube_model(), 40, store=store, rng=0, batch_size=10, progress=False)
    (store / "batches" / "000003.nc").unlink()  # something left to run
    other = cube_model(power=2)  # same name, inputs and outputs; another closure value
    with pytest.raises(ValueError, match=r"function differs.*force=True.*--force"):
        resume_campaign(store, model=other)
    square = uq.ForwardModel("cube", lambda x: {"y": x * x}, X, [uq.Output("y")])  # another code object
    with pytest.raises(ValueError, match="function differs"):
        resume_campaign(store, model=square)
    ds = resume_campaign(store, model=cube_model())  # the same function, rebuilt: accepted
    np.testing.assert_allclose(ds["y"].values, ds["x"].values ** 3)
    (store / "batches" / "000003.nc").unlink()
    forced = resume_campaign(store, model=other, force=True)  # explicit: the caller takes the mix
    assert forced.attrs["n_samples"] == 40


# ---- memory up front -----------------------------------------------------------------------------------
def test_propagate_with_a_huge_n_is_refused_before_allocating(monkeypatch, capsys):
    monkeypatch.setattr(checks, "available_memory", lambda: 16 * 2**30)
    assert main(["propagate", "ishigami", "-n", "1000000000"]) == 2
    err = capsys.readouterr().err
    # 1e9 points x (3 inputs + 1 output) x 8 bytes x 4 copies = 119.2 GiB (memory_estimate)
    assert "n = 1,000,000,000 points x 4 values need about 119.2 GiB" in err
    assert "only 16.0 GiB are available" in err and "uqbridge campaign ishigami" in err


def test_memory_estimate_is_the_stated_product():
    assert checks.memory_estimate(10**6, 5) == 10**6 * 5 * 8 * 4
    with pytest.raises(MemoryError, match="smaller n"):
        checks.refuse_beyond_memory(10**12, 10, "test", "use a smaller n")


# ---- calibration conditions -----------------------------------------------------------------------------
def test_a_missing_condition_column_is_refused_by_name():
    model = uq.ForwardModel(
        "creep", lambda T, k: {"rate": k * T},
        [uq.Input("T", 300.0, "condition"), uq.Input("k", uq.Normal(1.4, 0.2), "epistemic")], [uq.Output("rate")],
    )
    with pytest.raises(KeyError, match=r"condition input\(s\) \['T'\] of model 'creep' have no column"):
        observations(model, pd.DataFrame({"rate": [390.0, 420.0]}))
    obs = observations(model, pd.DataFrame({"temperature": [300.0, 320.0], "rate": [390.0, 420.0]}),
                       conditions={"temperature": "T"})
    assert obs.conditions["T"].tolist() == [300.0, 320.0]


# ---- study files --------------------------------------------------------------------------------------
BASE = '[study]\nname = "h"\nseed = 1\n[model]\nname = "ishigami"\n'
PROPAGATE = '[[analyses]]\nkind = "propagate"\nn = 32\n'


def study(tmp_path, text):
    path = tmp_path / "s.toml"
    path.write_text(text)
    return path


@pytest.mark.parametrize(("text", "message"), [
    (BASE + PROPAGATE + 'quantiles = "0.5"\n', r"quantiles must be a list of numbers in \(0, 1\).*write quantiles = \[0.5\]"),
    (BASE + PROPAGATE + "quantiles = [0.5, 2]\n", r"quantiles must be a list of numbers in \(0, 1\)"),
    (BASE + '[model.inputs]\nx1 = { type = "LogNormal", mu = 1000, sigma = 1 }\n' + PROPAGATE,
     r"\[model.inputs\] x1: .*LogNormal.* is not a usable distribution.*mu = log\(median\)"),
    (BASE + '[model.inputs]\nx1 = { kind = "Normal", mu = 0, sigma = 1 }\n' + PROPAGATE,
     r"x1: a distribution table needs its type, e.g. x1 = \{ type = \"Normal\".*got keys \['kind', 'mu', 'sigma'\]"),
    (BASE + "deep = " + "[" * 100_000 + "]" * 100_000 + "\n" + PROPAGATE, "nest too deeply"),
    (BASE + PROPAGATE + '[execution]\nbackend = "processes"\nworkers = 100000\n',
     r"\[execution\]: workers = 100000 would start 100000 processes"),
], ids=["quantiles-string", "quantiles-range", "lognormal-overflow", "kind-for-type", "deep-toml", "workers"])
def test_cryptic_study_values_are_refused_with_the_key_and_the_fix(tmp_path, text, message):
    with pytest.raises(StudyError, match=message):
        load_study(study(tmp_path, text))


def test_the_model_inputs_hint_names_the_type_key(tmp_path):
    with pytest.raises(StudyError, match=r'x3 = \{ type = "Normal"'):
        load_study(study(tmp_path, BASE + "inputs = 3\n" + PROPAGATE))


def test_a_study_where_every_sample_fails_exits_2(tmp_path, capsys):
    # borehole with rw = 0: log(r / rw) is infinite for every sample (Harper & Gupta 1983 form)
    path = study(tmp_path, BASE.replace("ishigami", "borehole") + "[model.inputs]\nrw = 0.0\n" + PROPAGATE)
    assert main(["run", str(path), "--out", str(tmp_path / "out")]) == 2
    assert "failed on every one of its 32 samples" in capsys.readouterr().err


def test_a_study_naming_a_scheduler_says_so_before_it_runs(tmp_path, capsys, monkeypatch):
    import uqbridge.study

    def refuse(*args, **kwargs):
        raise RuntimeError("stopped before running")

    monkeypatch.setattr(uqbridge.study, "run_study", refuse)
    path = study(tmp_path, BASE + PROPAGATE + '[execution]\naddress = "tcp://127.0.0.1:1"\n')
    assert main(["run", str(path), "--out", str(tmp_path / "out")]) == 2
    err = capsys.readouterr().err
    assert "connects to the Dask scheduler at 'tcp://127.0.0.1:1'" in err and "unpickles" in err
    assert err.index("Dask scheduler") < err.index("stopped before running")


def test_the_function_fingerprint_ignores_state_that_changes_as_the_model_runs():
    from uqbridge.execution.campaign import function_fingerprint

    def cached(scale):
        memo = {}  # a cache fills as the model runs: it must not make the same model look different

        def function(x):
            memo[len(memo)] = x.copy()
            return {"y": scale * x}

        return function

    f = cached(2.0)
    before = function_fingerprint(f)
    f(np.ones(3))
    assert function_fingerprint(f) == before
    assert function_fingerprint(cached(3.0)) != before  # a parameter is part of what it computes
