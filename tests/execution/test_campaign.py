"""Campaign store: the result equals ``propagate`` with the same seed, resume runs only missing
batches and reproduces the uninterrupted result, and the failure policies (drop / retry / abort)
record, retry or stop on failing points with counts in the summary.

References: ``uqbridge.propagate`` on the same design (itself tested against analytic moments), the
analytic Ishigami mean and variance (Ishigami & Homma 1990; Sobol' & Levitan 1999), and closed-form
model values for the points that succeed.
"""

import json
import threading

import numpy as np
import pytest
import xarray as xr

from uqbridge.distributions import Uniform
from uqbridge.execution.batch import ERROR, NONFINITE, OK
from uqbridge.execution.batch import progress_enabled as _progress_enabled
from uqbridge.execution.campaign import CampaignAborted, campaign_status, format_summary, resume_campaign, run_campaign
from uqbridge.inputs import Input
from uqbridge.model import ForwardModel, Output
from uqbridge.propagate import propagate
from uqbridge_models.benchmark_functions import ishigami, ishigami_reference

SAMPLE_VARS = ["x", "y", "status", "message"]


def _data(ds):
    out = ds.copy()
    out.attrs = {}
    return out


def bad_band_model(calls=None):
    """``y = x² + 1``; raises for 0.30 < x < 0.35 (5 % of U(0, 1)) and gives NaN for x > 0.99 (1 %)."""

    def function(x):
        if calls is not None:
            calls.append(np.array(x))
        if np.any((x > 0.30) & (x < 0.35)):
            raise ArithmeticError("cell problem did not converge")
        return {"y": np.where(x > 0.99, np.nan, x**2 + 1)}

    return ForwardModel("band", function, [Input("x", Uniform(0, 1))], [Output("y")])


def test_campaign_equals_propagate_and_analytic_ishigami_moments(tmp_path):
    m = ishigami()
    ds = run_campaign(m, 1024, store=tmp_path / "c", rng=5, batch_size=100)
    ref = propagate(m, 1024, rng=5, batch_size=100)
    xr.testing.assert_identical(_data(ds).drop_vars("attempts"), _data(ref))
    truth = ishigami_reference()
    se_mean = np.sqrt(truth["variance"] / 1024)  # i.i.d. error, conservative for scrambled Sobol
    assert abs(float(ds["mean"].sel(output="y")) - truth["mean"]) < 4 * se_mean
    se_std = float(ds["std_se"].sel(output="y"))
    assert abs(float(ds["std"].sel(output="y")) - np.sqrt(truth["variance"])) < 4 * se_std
    manifest = json.loads((tmp_path / "c" / "manifest.json").read_text())
    assert manifest["registry"] == "ishigami" and manifest["n_batches"] == 11
    assert ds.attrs["n_runs"] == 1024 and ds.attrs["method"] == "campaign"


def test_model_raising_on_5_percent_of_points_is_reported_and_the_rest_kept(tmp_path):
    m = bad_band_model()
    with pytest.warns(RuntimeWarning, match=r"failed on \d+ of 1000 samples"):
        ds = run_campaign(m, 1000, store=tmp_path / "c", rng=2, batch_size=50, policy="drop")
    x = ds["x"].values
    band = (x > 0.30) & (x < 0.35)
    high = x > 0.99
    status = ds["status"].values
    # exactly the raising points are errors, with the model's message kept per point
    np.testing.assert_array_equal(status == ERROR, band)
    np.testing.assert_array_equal(status == NONFINITE, high)
    assert abs(band.mean() - 0.05) < 4 * np.sqrt(0.05 * 0.95 / 1000)
    assert set(ds["message"].values[band]) == {"ArithmeticError: cell problem did not converge"}
    assert set(ds["message"].values[high]) == {"output 'y' is not finite"}
    ok = status == OK
    np.testing.assert_allclose(ds["y"].values[ok], x[ok] ** 2 + 1, rtol=0, atol=0)
    assert float(ds["mean"].sel(output="y")) == pytest.approx(np.mean(x[ok] ** 2 + 1), rel=1e-13)
    assert int(ds["n_ok"].sel(output="y")) == ok.sum()
    assert ds.attrs["n_error"] == band.sum() and ds.attrs["n_nonfinite"] == high.sum()
    assert ds.attrs["n_failed"] == band.sum() + high.sum() and ds.attrs["n_ok_samples"] == ok.sum()
    text = format_summary(ds)
    assert f"{ok.sum()} ok, {high.sum()} nonfinite, {band.sum()} error" in text
    assert "ArithmeticError: cell problem did not converge" in text


def test_resume_runs_only_missing_batches_and_reproduces_the_result(tmp_path):
    calls = []
    m = bad_band_model(calls)
    with pytest.warns(RuntimeWarning):
        full = run_campaign(m, 400, store=tmp_path / "c", rng=9, batch_size=40, design="lhs")
    for b in (0, 4, 9):
        (tmp_path / "c" / "batches" / f"{b:06d}.nc").unlink()
    # a half-written file left by a killed writer is never read
    (tmp_path / "c" / "batches" / ".000004.nc.999.tmp").write_bytes(b"garbage")
    assert campaign_status(tmp_path / "c")["missing"] == [0, 4, 9]
    calls.clear()
    with pytest.warns(RuntimeWarning):
        again = resume_campaign(tmp_path / "c", model=m)
    xr.testing.assert_identical(_data(full), _data(again))
    x = full["x"].values
    missing_points = np.concatenate([x[0:40], x[160:200], x[360:400]])
    # only the 3 missing batches ran (each started once as a whole batch, then bisected if needed)
    np.testing.assert_array_equal(np.unique(np.concatenate(calls)), np.unique(missing_points))
    assert [len(c) for c in calls].count(40) == 3
    assert not list((tmp_path / "c" / "batches").glob("*.tmp"))
    assert campaign_status(tmp_path / "c")["complete"]


def test_resume_without_model_uses_the_pickled_one(tmp_path):
    m = bad_band_model()
    with pytest.warns(RuntimeWarning):
        full = run_campaign(m, 100, store=tmp_path / "c", rng=1, batch_size=30)
    (tmp_path / "c" / "batches" / "000002.nc").unlink()
    assert json.loads((tmp_path / "c" / "manifest.json").read_text())["rebuild"] == "pickle"
    with pytest.raises(ValueError, match=r"loading a pickle runs code.*trust=True"):
        resume_campaign(tmp_path / "c")  # never unpickled without the caller's opt-in (#18 defect 1)
    with pytest.warns(RuntimeWarning):
        again = resume_campaign(tmp_path / "c", trust=True)
    xr.testing.assert_identical(_data(full), _data(again))


def flaky_model(first_calls):
    """A solver that returns NaN the first time it sees a point with x < 0.2 (then converges)."""

    def function(x):
        fresh = np.array([(x_ < 0.2) and (x_ not in first_calls) for x_ in x], bool)
        first_calls.update(x[fresh].tolist())
        return {"y": np.where(fresh, np.nan, 3 * x)}

    return ForwardModel("flaky", function, [Input("x", Uniform(0, 1))], [Output("y")])


def test_retry_policy_recovers_flaky_points_and_counts_them(tmp_path):
    ds = run_campaign(flaky_model(set()), 200, store=tmp_path / "r", rng=4, batch_size=25, policy="retry", max_retries=2)
    x = ds["x"].values
    assert np.all(ds["status"].values == OK)
    np.testing.assert_array_equal(ds["y"].values, 3 * x)
    np.testing.assert_array_equal(ds["attempts"].values, np.where(x < 0.2, 2, 1))
    assert ds.attrs["n_retried"] == ds.attrs["n_recovered"] == np.sum(x < 0.2)
    assert ds.attrs["n_runs"] == 200 + np.sum(x < 0.2)
    with pytest.warns(RuntimeWarning, match="failed on"):
        dropped = run_campaign(flaky_model(set()), 200, store=tmp_path / "d", rng=4, batch_size=25, policy="drop")
    np.testing.assert_array_equal(dropped["status"].values == NONFINITE, x < 0.2)


def test_retry_gives_up_after_max_retries(tmp_path):
    with pytest.warns(RuntimeWarning, match="failed on"):
        ds = run_campaign(bad_band_model(), 200, store=tmp_path / "r", rng=4, batch_size=25, policy="retry", max_retries=3)
    failed = ds["status"].values != OK
    assert failed.any()
    np.testing.assert_array_equal(ds["attempts"].values, np.where(failed, 4, 1))
    assert ds.attrs["n_recovered"] == 0 and ds.attrs["n_retried"] == failed.sum()


def test_abort_commits_the_failing_batch_then_raises_and_resume_can_continue(tmp_path):
    store = tmp_path / "a"
    with pytest.raises(CampaignAborted, match=r"aborted: model 'band' failed on \d+ point\(s\) of batch (\d+) \(first: sample \d+: ArithmeticError: cell problem did not converge"):
        run_campaign(bad_band_model(), 300, store=store, rng=3, batch_size=30, policy="abort")
    status = campaign_status(store)
    assert 0 < status["committed"] < 10 and status["missing"] == list(range(status["committed"], 10))
    with pytest.warns(RuntimeWarning):
        resumed = resume_campaign(store, model=bad_band_model(), policy="drop")
    with pytest.warns(RuntimeWarning):
        straight = run_campaign(bad_band_model(), 300, store=tmp_path / "b", rng=3, batch_size=30, policy="drop")
    resumed.attrs, straight.attrs = {}, {}
    xr.testing.assert_identical(resumed, straight)


def test_progress_bar_on_terminal_only_unless_forced(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("CI", "true")
    assert _progress_enabled(None) is False
    assert _progress_enabled(True) is True
    monkeypatch.delenv("CI")
    assert _progress_enabled(False) is False
    run_campaign(ishigami(), 64, store=tmp_path / "p", rng=0, batch_size=16, progress=True)
    err = capsys.readouterr().err
    assert "ishigami" in err and "64/64" in err
    run_campaign(ishigami(), 64, store=tmp_path / "q", rng=0, batch_size=16)
    assert capsys.readouterr().err == ""  # pytest's captured stderr is not a terminal


def test_argument_and_store_errors(tmp_path):
    m = ishigami()
    with pytest.raises(ValueError, match=r"unknown failure policy 'skip'; valid policies: \['drop', 'retry', 'abort'\]"):
        run_campaign(m, 10, store=tmp_path / "e", policy="skip")
    with pytest.raises(ValueError, match=r"batch_size must be an integer >= 1, got 0"):
        run_campaign(m, 10, store=tmp_path / "e", batch_size=0)
    with pytest.raises(ValueError, match=r"max_retries must be an integer >= 0, got -1"):
        run_campaign(m, 10, store=tmp_path / "e", max_retries=-1)
    with pytest.raises(ValueError, match=r"n must be an integer >= 1, got 2.5"):
        run_campaign(m, 2.5, store=tmp_path / "e")
    with pytest.raises(ValueError, match=r"unknown design 'grid'; valid designs"):
        run_campaign(m, 10, store=tmp_path / "e", design="grid")
    with pytest.raises(TypeError, match=r"model must be a ForwardModel, got str"):
        run_campaign("ishigami", 10, store=tmp_path / "e")
    run_campaign(m, 10, store=tmp_path / "c", rng=0, batch_size=5)
    with pytest.raises(FileExistsError, match=r"already holds a campaign; continue it with resume_campaign"):
        run_campaign(m, 10, store=tmp_path / "c")
    (tmp_path / "other").mkdir()
    (tmp_path / "other" / "notes.txt").write_text("mine")
    with pytest.raises(FileExistsError, match=r"is not empty \(holds \['notes.txt'\]\)"):
        run_campaign(m, 10, store=tmp_path / "other")
    with pytest.raises(FileNotFoundError, match=r"no campaign at .* \(no manifest.json\)"):
        resume_campaign(tmp_path / "other")
    with pytest.raises(ValueError, match=r"not the campaign's model: name 'band' != 'ishigami'"):
        resume_campaign(tmp_path / "c", model=bad_band_model())
    with pytest.raises(ValueError, match=r"not the campaign's model: the input declarations differ"):
        resume_campaign(tmp_path / "c", model=m.with_inputs(x3=0.0))
    with pytest.raises(ValueError, match=r"unknown failure policy 'ignore'"):
        resume_campaign(tmp_path / "c", policy="ignore")


def test_unpicklable_unregistered_model_must_be_passed_again(tmp_path):
    lock = threading.Lock()

    def function(x):
        with lock:
            return {"y": 2 * x}

    m = ForwardModel("locked", function, [Input("x", Uniform(0, 1))], [Output("y")])
    first = run_campaign(m, 20, store=tmp_path / "c", rng=0, batch_size=10)
    assert json.loads((tmp_path / "c" / "manifest.json").read_text())["rebuild"] == "caller"
    with pytest.raises(ValueError, match=r"needs its model 'locked' to resume: it is not registered and was not pickled"):
        resume_campaign(tmp_path / "c")
    again = resume_campaign(tmp_path / "c", model=m)
    xr.testing.assert_identical(_data(first), _data(again))


def test_a_running_store_is_locked_against_a_second_driver(tmp_path):
    fcntl = pytest.importorskip("fcntl")
    run_campaign(ishigami(), 20, store=tmp_path / "c", rng=0, batch_size=10)
    with open(tmp_path / "c" / ".lock", "a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)  # what a live driver holds
        with pytest.raises(RuntimeError, match=r"is locked: it is in use by another process"):
            resume_campaign(tmp_path / "c")
        fcntl.flock(handle, fcntl.LOCK_UN)
    assert resume_campaign(tmp_path / "c").attrs["n_samples"] == 20
