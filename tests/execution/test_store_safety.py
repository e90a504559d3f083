"""Campaign stores under attack or damage (issue #18 defects 1, 2, 11): no code runs from a store
without opt-in, two drivers never corrupt one store, damaged batch files are re-run, never trusted."""

import json
import os
import pickle
import threading
import time

import numpy as np
import pytest
import xarray as xr

from uqbridge.cli import main
from uqbridge.distributions import Uniform
from uqbridge.execution.campaign import (
    StoreInUse,
    UntrustedStore,
    campaign_status,
    resume_campaign,
    run_campaign,
)
from uqbridge.inputs import Input
from uqbridge.model import ForwardModel, Output
from uqbridge.registry import get_model


class _Payload:
    """A crafted pickle: unpickling it runs a shell command that creates ``marker``."""

    def __init__(self, marker):
        self.marker = str(marker)

    def __reduce__(self):
        return (os.system, (f"touch {self.marker}",))


def cube(delay=0.0):
    def function(x):
        time.sleep(delay)
        return {"y": x**3}

    return ForwardModel("cube", function, [Input("x", Uniform(0, 1))], [Output("y")])


def _data(ds):
    out = ds.copy()
    out.attrs = {}
    return out


# ---- defect 1: code execution from a store -------------------------------------------------------
def test_a_crafted_model_pickle_is_never_loaded_without_opt_in(tmp_path, capsys):
    store, marker = tmp_path / "c", tmp_path / "pwned"
    run_campaign(cube(), 40, store=store, rng=0, batch_size=10)
    assert json.loads((store / "manifest.json").read_text())["rebuild"] == "pickle"
    (store / "model.pkl").write_bytes(pickle.dumps(_Payload(marker)))
    (store / "batches" / "000001.nc").unlink()  # something left to run
    with pytest.raises(UntrustedStore, match=r"loading a pickle runs code.*trust=True.*--trust-store"):
        resume_campaign(store)
    assert main(["resume", str(store)]) == 2
    err = capsys.readouterr().err
    assert "--trust-store" in err and err.count("\n") == 1
    assert not marker.exists(), "the store's pickle was executed without opt-in"
    # the honest way on: pass the model again
    assert resume_campaign(store, model=cube()).attrs["n_samples"] == 40
    assert not marker.exists()


def test_registered_models_with_overrides_resume_from_data_not_pickles(tmp_path, capsys):
    store, marker = tmp_path / "c", tmp_path / "pwned"
    # --set overrides used to force model.pkl; now the registry name and the inputs are stored as data
    assert main(["campaign", "ishigami", "-n", "60", "--store", str(store), "--seed", "1", "--batch-size", "20",
                 "--set", "x3=0.5"]) == 0
    manifest = json.loads((store / "manifest.json").read_text())
    assert manifest["rebuild"] == "registry" and manifest["registry"] == "ishigami"
    assert not (store / "model.pkl").exists()
    (store / "model.pkl").write_bytes(pickle.dumps(_Payload(marker)))  # planted: must be ignored
    (store / "batches" / "000002.nc").unlink()
    capsys.readouterr()
    assert main(["resume", str(store)]) == 0
    assert "60 samples, 60 ok" in capsys.readouterr().out and not marker.exists()
    ds = resume_campaign(store)
    np.testing.assert_array_equal(ds["x3"].values, 0.5)


def test_a_registered_model_named_unlike_its_key_is_rebuilt_from_the_registry(tmp_path):
    model = get_model("stokes_permeability")  # model.name differs from the registry key
    assert model.name != "stokes_permeability"
    from uqbridge.execution.campaign import _registry_recipe

    assert _registry_recipe(model) == ("stokes_permeability", {})
    assert _registry_recipe(get_model("ishigami", a=5.0).with_inputs(x3=0.0)) == ("ishigami", {"a": 5.0})
    assert _registry_recipe(cube()) is None


# ---- defect 2: two drivers on one empty store ----------------------------------------------------------
@pytest.mark.parametrize("trial", range(2))
def test_two_drivers_racing_on_an_empty_store_one_wins_one_is_refused(tmp_path, trial):
    store = tmp_path / "race"
    start = threading.Barrier(2)
    outcome = {}

    def driver(seed, n):
        start.wait()
        try:
            outcome[seed] = run_campaign(cube(0.02), n, store=store, rng=seed, batch_size=10, progress=False)
        except Exception as err:  # recorded for the assertions
            outcome[seed] = err

    threads = [threading.Thread(target=driver, args=(seed, n)) for seed, n in ((1, 200), (2, 300))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    wins = {s: r for s, r in outcome.items() if isinstance(r, xr.Dataset)}
    losses = {s: r for s, r in outcome.items() if not isinstance(r, xr.Dataset)}
    assert len(wins) == 1 and len(losses) == 1, outcome
    [loss] = losses.values()
    assert isinstance(loss, (StoreInUse, FileExistsError)), repr(loss)
    assert "is locked: it is in use by another process" in str(loss) or "already holds a campaign" in str(loss)
    [won] = wins.values()
    # the store is the winner's, whole and consistent: it resumes to the same numbers
    again = resume_campaign(store, model=cube(0.02))  # the same function: closure values are checked too
    xr.testing.assert_identical(_data(again).drop_vars("attempts"), _data(won).drop_vars("attempts"))
    np.testing.assert_allclose(again["y"].values, again["x"].values ** 3)


# ---- defect 11: damaged, truncated, stray batch files; a lost manifest; a stale lock --------------------
@pytest.fixture
def finished(tmp_path):
    store = tmp_path / "c"
    ds = run_campaign(cube(), 50, store=store, rng=3, batch_size=10)
    return store, ds


def test_a_flipped_bit_in_a_batch_is_detected_and_the_batch_re_run(finished):
    store, reference = finished
    path = store / "batches" / "000002.nc"
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0x01
    path.write_bytes(bytes(data))
    assert campaign_status(store)["missing"] == [2] and campaign_status(store)["damaged"] == ["000002.nc"]
    with pytest.warns(RuntimeWarning, match="did not match"):
        again = resume_campaign(store, model=cube())
    xr.testing.assert_identical(_data(again), _data(reference))
    assert any((store / "quarantine").iterdir())


def test_a_truncated_batch_is_re_run_instead_of_breaking_every_resume(finished):
    store, reference = finished
    path = store / "batches" / "000004.nc"
    path.write_bytes(path.read_bytes()[:100])
    with pytest.warns(RuntimeWarning, match="moved to quarantine"):
        again = resume_campaign(store, model=cube())
    xr.testing.assert_identical(_data(again), _data(reference))
    assert campaign_status(store)["complete"] and campaign_status(store)["damaged"] == []


def test_stray_batch_files_do_not_count_as_work_done(tmp_path):
    store = tmp_path / "c"
    run_campaign(cube(), 30, store=store, rng=4, batch_size=10)
    good = store / "batches" / "000001.nc"
    (store / "batches" / "000001.nc").replace(store / "batches" / "1.nc")  # a stray name
    (store / "batches" / "000099.nc").write_bytes(good.with_name("000000.nc").read_bytes())  # outside the design
    status = campaign_status(store)
    assert status["missing"] == [1] and not status["complete"]
    assert sorted(status["damaged"]) == ["000099.nc", "1.nc"]
    with pytest.warns(RuntimeWarning, match="do not belong to the design"):
        ds = resume_campaign(store, model=cube())
    np.testing.assert_array_equal(ds["sample"].values, np.arange(30))


def test_a_deleted_manifest_is_restored_from_the_design_file(finished):
    store, reference = finished
    (store / "manifest.json").unlink()
    assert campaign_status(store)["complete"]  # read from the copy, nothing written
    assert not (store / "manifest.json").exists()
    with pytest.warns(RuntimeWarning, match="restored it from design.nc"):
        again = resume_campaign(store, model=cube())
    assert (store / "manifest.json").exists()
    xr.testing.assert_identical(_data(again), _data(reference))


def test_a_damaged_design_file_stops_the_campaign_with_a_clear_error(finished):
    store, _ = finished
    path = store / "design.nc"
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0x01
    path.write_bytes(bytes(data))
    with pytest.raises(ValueError, match=r"design.nc is damaged .* start a new campaign"):
        resume_campaign(store, model=cube())


def test_a_stale_lock_left_by_a_killed_driver_does_not_block(finished):
    store, reference = finished
    (store / ".lock").write_text("12345")  # the file stays; the OS released the killed holder's lock
    (store / "batches" / "000000.nc").unlink()
    xr.testing.assert_identical(_data(resume_campaign(store, model=cube())), _data(reference))


def test_a_store_path_that_is_a_file_is_refused(tmp_path):
    path = tmp_path / "file"
    path.write_text("x")
    with pytest.raises(FileExistsError, match="is a file, not a directory"):
        run_campaign(cube(), 10, store=path, rng=0)
    with pytest.raises(FileNotFoundError, match="is a file, not a campaign folder"):
        resume_campaign(path)
