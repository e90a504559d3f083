"""A catalogue of bad inputs and hostile conditions (issue #18 defects 10 and 14): the command line
answers each with one line naming the problem and exit status 2, never a traceback; ``--debug``
shows the traceback. Modelled on xarray's ``tests/test_error_messages.py``."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

from uqbridge.cli import main

STUDY = """\
[study]
name = "demo"
seed = 3

[model]
name = "ishigami"
options = { a = 7.0, b = 0.1 }

[[analyses]]
kind = "propagate"
n = 64
"""

RELIABILITY = """
[[analyses]]
kind = "reliability"
limit_state = { output = "y", threshold = 5.0, failure = "above" }
methods = ["form"]
"""


def _study(tmp_path, old=None, new=None, extra=""):
    text = STUDY if old is None else STUDY.replace(old, new, 1)
    path = tmp_path / "study.toml"
    path.write_text(text + extra)
    return str(path)


def _one_line_error(capsys, argv, *needles):
    """Run the CLI; it must fail with status 2 and one stderr line holding every needle."""
    usage = False
    try:
        status = main(argv)
    except SystemExit as exit_:  # argparse's own errors: the usage, then one error line
        status, usage = exit_.code, True
    err = capsys.readouterr().err
    assert status == 2, err
    assert "Traceback" not in err
    lines = [line for line in err.splitlines() if line.strip()]
    # warnings raised on the way are one line each too ("uqbridge CMD: warning ..."), before the error
    warned = [line for line in lines[:-1] if line.startswith(f"uqbridge {argv[0]}: warning")]
    assert lines and (usage or len(lines) == 1 + len(warned)), err
    assert lines[-1].startswith("uqbridge "), err
    for needle in needles:
        assert needle in lines[-1], lines[-1]
    return lines[-1]


@pytest.fixture
def existing_store(tmp_path):
    store = tmp_path / "store"
    assert main(["campaign", "ishigami", "-n", "20", "--store", str(store), "--seed", "1", "--batch-size", "10"]) == 0
    return store


@pytest.fixture
def no_computation(monkeypatch):
    """Fail loudly if the command computes before it checks its output paths."""

    def refuse(*args, **kwargs):
        raise AssertionError("computed before checking the output path")

    monkeypatch.setattr(sys.modules["uqbridge.propagate"], "propagate", refuse)


# ---- command-line arguments ----------------------------------------------------------------------
def test_bad_arguments(capsys, tmp_path, no_computation):
    cases = [
        (["propagate", "ishigami", "--out", ""], ["--out '' is empty"]),
        (["propagate", "ishigami", "--out", str(tmp_path)], ["is a directory"]),
        (["propagate", "ishigami", "--out", str(tmp_path / "no" / "such" / "x.nc")], ["does not exist"]),
        (["propagate", "ishigami", "--set", "x1=1", "--set", "x1=2"], ["['x1'] more than once"]),
        (["propagate", "ishigami", "-n", "0"], ["-n", "positive integer"]),
        (["propagate", "ishigami", "--set", "x9=1"], ["unknown input 'x9'"]),
        (["campaign", "ishigami", "-n", "10", "--store", str(tmp_path / "s"), "--batch-size", "-3"],
         ["--batch-size", "positive integer"]),
        (["campaign", "ishigami", "-n", "10", "--store", str(tmp_path / "s"), "--timeout", "0"],
         ["--timeout", "positive number of seconds"]),
        (["campaign", "ishigami", "-n", "10", "--store", str(tmp_path / "s"), "--timeout", "5"],
         ["timeout=5.0 needs a backend that can interrupt a batch"]),
        (["sensitivity", "ishigami", "--out", str(tmp_path)], ["--out", "is a directory"]),
        (["sensitivity", "ishigami", "--methods", "sobol,,morris"], ["has an empty entry"]),
    ]
    for argv, needles in cases:
        _one_line_error(capsys, argv, *needles)
    assert not (tmp_path / "s").exists()


@pytest.mark.skipif(os.geteuid() == 0, reason="root may write anywhere")
def test_unwritable_output_is_refused_before_computing(capsys, tmp_path, no_computation):
    locked = tmp_path / "ro"
    locked.mkdir()
    locked.chmod(0o500)
    try:
        _one_line_error(capsys, ["propagate", "ishigami", "--out", str(locked / "x.nc")], "not writable")
    finally:
        locked.chmod(0o700)


# ---- campaign stores -------------------------------------------------------------------------------
def test_store_conditions(capsys, tmp_path, existing_store):
    fcntl = pytest.importorskip("fcntl")
    file_store = tmp_path / "file"
    file_store.write_text("x")
    cases = [
        (["campaign", "ishigami", "-n", "20", "--store", str(existing_store)], ["already holds a campaign", "uqbridge resume"]),
        (["campaign", "ishigami", "-n", "20", "--store", str(file_store)], ["is a file, not a directory"]),
        (["resume", str(file_store)], ["is a file, not a campaign folder"]),
        (["resume", str(tmp_path / "nothing")], ["no campaign at"]),
        (["campaign", "borehole", "-n", "16", "--store", str(tmp_path / "abort"), "--set", "rw=-1", "--policy", "abort"],
         ["aborted", "is not finite", "resume"]),
    ]
    for argv, needles in cases:
        _one_line_error(capsys, argv, *needles)
    with open(existing_store / ".lock", "a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)  # a live driver
        _one_line_error(capsys, ["resume", str(existing_store)], "is locked: it is in use by another process")
        fcntl.flock(handle, fcntl.LOCK_UN)
    # a corrupt batch is quarantined and re-run: the resume succeeds
    (existing_store / "batches" / "000001.nc").write_bytes(b"garbage")
    assert main(["resume", str(existing_store)]) == 0
    out, err = capsys.readouterr()
    assert "20 samples, 20 ok" in out
    assert "uqbridge resume: warning (RuntimeWarning): " in err and "quarantine" in err


def test_unreachable_scheduler_leaves_no_store_behind(capsys, tmp_path):
    dask = pytest.importorskip("dask")
    store = tmp_path / "s"
    with dask.config.set({"distributed.comm.timeouts.connect": "1s"}):
        _one_line_error(capsys, ["campaign", "ishigami", "-n", "10", "--store", str(store),
                                 "--address", "tcp://127.0.0.1:1"], "cannot reach the Dask scheduler")
    assert not store.exists()


def test_huge_n_is_one_line(capsys):
    _one_line_error(capsys, ["propagate", "ishigami", "-n", str(10**13)], "not enough memory")


# ---- study files --------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("old", "new", "extra", "needles"),
    [
        ("options = { a = 7.0, b = 0.1 }", "inputs = 5", "", ["inputs must be a table, got 5"]),
        ("options = { a = 7.0, b = 0.1 }", 'options = { a = "7" }', "", ["option 'a' must be a number", "'7'"]),
        ("seed = 3", "seed = true", "", ["seed must be an integer", "True"]),
        ("n = 64", "n = 64\nbatch_size = -3", "", ["batch_size must be a positive integer, got -3"]),
        ("n = 64", "n = 6.5", "", ["n must be a positive integer, got 6.5"]),
        ('name = "demo"', 'name = "demo"\noutput = "/etc"', "", ["points outside the current folder"]),
        ('name = "demo"', 'name = "demo"\noutput = "../elsewhere"', "", ["points outside the current folder"]),
        (None, None, RELIABILITY.replace('["form"]', '"form"'), ["methods must be a list", "methods = ['form']"]),
        (None, None, RELIABILITY.replace('["form"]', '["form", "form"]'), ["['form'] more than once"]),
        (None, None, "\n[[analyses]]\n", ["kind must be one of"]),
    ],
)
def test_bad_study_files(capsys, tmp_path, old, new, extra, needles):
    _one_line_error(capsys, ["run", _study(tmp_path, old, new, extra)], *needles)


def test_model_given_as_a_string(capsys, tmp_path):
    path = tmp_path / "study.toml"
    path.write_text('model = "ishigami"\n' + STUDY.replace('[model]\nname = "ishigami"\noptions = { a = 7.0, b = 0.1 }\n', ""))
    _one_line_error(capsys, ["run", str(path)], "[model] must be a table", "got 'ishigami'", 'name = "ishigami"')


def test_run_on_a_folder_or_missing_file(capsys, tmp_path):
    _one_line_error(capsys, ["run", str(tmp_path)], "is not a study file")
    _one_line_error(capsys, ["run", str(tmp_path / "none.toml")], "no study file at")


# ---- results that used to be lost or half-written --------------------------------------------------------
def test_morris_only_sensitivity_prints_its_table_and_exits_0(capsys, tmp_path):
    data = tmp_path / "m.nc"
    assert main(["sensitivity", "ishigami", "-n", "128", "--seed", "1", "--methods", "morris", "--out", str(data)]) == 0
    out = capsys.readouterr().out
    assert "Morris μ*" in out and f"wrote {data}" in out and data.exists()


def test_debug_shows_the_traceback():
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(Path(__file__).parents[1]), os.environ.get("PYTHONPATH", "")])}
    argv = [sys.executable, "-m", "uqbridge.cli", "propagate", "ishigami", "--set", "x1=1", "--set", "x1=2"]
    debug = subprocess.run(argv + ["--debug"], capture_output=True, text=True, env=env, timeout=120, check=False)
    assert debug.returncode != 0 and "Traceback" in debug.stderr and "more than once" in debug.stderr


def test_a_full_disk_is_named_as_such(monkeypatch, tmp_path):
    import shutil
    from collections import namedtuple

    from uqbridge.cli import error_line

    usage = namedtuple("usage", "total used free")
    err = PermissionError(13, "Permission denied", str(tmp_path / "batch.nc"))
    assert error_line(err) == f"Permission denied: {str(tmp_path / 'batch.nc')!r}"
    monkeypatch.setattr(shutil, "disk_usage", lambda path: usage(100, 100, 0))
    assert error_line(err).startswith("no space left on the device holding")
    # a missing path on a device with no free space (e.g. /proc) is a missing path, not a full disk
    missing = FileNotFoundError(2, "No such file or directory", str(tmp_path / "nowhere" / "x"))
    assert error_line(missing).startswith("No such file or directory")


def test_a_run_where_every_sample_failed_exits_2(capsys, tmp_path):
    line = _one_line_error(capsys, ["propagate", "borehole", "-n", "16", "--set", "rw=-1"],
                           "failed on every one of its 16 samples", "is not finite")
    assert "check the model's options and inputs" in line


def test_negative_seed_on_the_command_line(capsys):
    with pytest.raises(SystemExit) as exit_:
        main(["propagate", "ishigami", "-n", "10", "--seed", "-1"])
    assert exit_.value.code == 2
    assert "--seed: expected a non-negative integer seed, got '-1'" in capsys.readouterr().err


@pytest.mark.parametrize("bad", ["abc", True, -1, 1.5])
def test_rng_that_numpy_cannot_take_is_named(bad):
    """Every random function takes ``rng`` (SciPy SPEC 7); anything else is refused by name."""
    from uqbridge import decompose, propagate
    from uqbridge.registry import get_model
    from uqbridge.reliability import monte_carlo
    from uqbridge.reliability.problems import linear

    model = get_model("ishigami")
    for where, call in [
        ("propagate", lambda: propagate(model, 10, rng=bad)),
        ("decompose", lambda: decompose(model, n=16, rng=bad)),
        ("monte_carlo", lambda: monte_carlo(linear(2.0).limit_state, rng=bad)),
    ]:
        with pytest.raises(TypeError, match=rf"^{where}: rng must be None, a non-negative int seed"):
            call()
