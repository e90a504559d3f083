"""Progress bars live in the execution layer (issue #20): one place decides (progress_enabled),
every analysis built on evaluate() shows a bar on a terminal and stays quiet otherwise."""

import io

import numpy as np
import pytest

import uqbridge as uq
from uqbridge.execution import batch as execution
from uqbridge.execution.batch import evaluate, progress_enabled, set_progress


class _Terminal(io.StringIO):
    def isatty(self):
        return True


@pytest.fixture
def no_delay(monkeypatch):
    monkeypatch.setattr(execution, "_BAR_DELAY_S", 0.0)


def test_progress_enabled_decides_in_one_place(monkeypatch):
    monkeypatch.delenv("CI", raising=False)
    monkeypatch.setattr("sys.stderr", _Terminal())
    assert progress_enabled() is True  # a person at a terminal
    monkeypatch.setenv("CI", "true")
    assert progress_enabled() is False  # CI logs
    assert progress_enabled(True) is True  # an explicit argument wins
    monkeypatch.delenv("CI")
    monkeypatch.setattr("sys.stderr", io.StringIO())
    assert progress_enabled() is False  # redirected output
    previous = set_progress(True)
    try:
        assert progress_enabled() is True and progress_enabled(False) is False
    finally:
        set_progress(previous)
    assert progress_enabled() is False
    with pytest.raises(TypeError, match="set_progress expects True, False or None"):
        set_progress("yes")


def test_propagate_shows_a_bar_only_when_asked_and_numbers_do_not_change(no_delay, capsys):
    model = uq.get_model("ishigami")
    quiet = uq.propagate(model, 2048, rng=1)
    assert capsys.readouterr().err == ""  # pytest's captured stderr is not a terminal
    shown = uq.propagate(model, 2048, rng=1, progress=True)
    err = capsys.readouterr().err
    assert "ishigami" in err and "/2048" in err
    # the bar cuts the in-process evaluation into batches: per-sample results are unchanged
    np.testing.assert_array_equal(quiet["y"].values, shown["y"].values)


def test_session_switch_reaches_analyses_without_a_progress_argument(no_delay, capsys):
    previous = set_progress(True)
    try:
        uq.propagate(uq.get_model("ishigami"), 2048, rng=1)
    finally:
        set_progress(previous)
    assert "/2048" in capsys.readouterr().err


class _MapOnly:
    n_workers = 2

    def __init__(self):
        self.calls = 0

    def map(self, func, batches):
        self.calls += 1
        return [func(b) for b in batches]


def test_bar_over_a_map_only_backend(no_delay, capsys):
    model = uq.get_model("ishigami")
    x = {name: np.linspace(-1, 1, 40) for name in model.inputs.names}
    backend = _MapOnly()
    result = evaluate(model, x, backend=backend, batch_size=10, progress=True)
    assert backend.calls == 2  # worker-sized groups of batches
    np.testing.assert_array_equal(result.outputs["y"], evaluate(model, x).outputs["y"])
    assert "/40" in capsys.readouterr().err


def test_short_evaluations_stay_quiet_even_on_a_terminal(capsys):
    # the default delay hides bars of evaluations shorter than a second (e.g. FORM steps)
    model = uq.get_model("ishigami")
    x = {name: np.zeros(64) for name in model.inputs.names}
    evaluate(model, x, batch_size=8, progress=True)
    assert capsys.readouterr().err == ""
