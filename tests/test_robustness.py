"""Hostile models and hostile stores (issue #18): no silent wrong answers, failures recorded per point.

Each test names the defect of issue #18 it guards against.
"""

import sys

import numpy as np
import pytest

from uqbridge.distributions import Normal, Uniform
from uqbridge.execution.batch import ERROR, OK, evaluate
from uqbridge.inputs import Input
from uqbridge.model import ForwardModel, ModelContractError, Output
from uqbridge.propagate import propagate


def _model(function, name="m"):
    return ForwardModel(name, function, [Input("a", Uniform(1, 2)), Input("b", Normal(0, 1))], [Output("y")])


# ---- defect 3: wrong-length outputs are failures, never broadcast ------------------------------------
def test_wrong_length_output_fails_its_points_instead_of_being_repaired():
    m = _model(lambda a, b: {"y": a[:-1] + b[:-1]})
    with pytest.warns(RuntimeWarning, match="failed on 64 of 64"):
        ds = propagate(m, 64, rng=0)
    assert (ds["status"].values == ERROR).all()
    assert np.isnan(ds["y"].values).all()
    assert "output 'y' has shape (63,), expected (64,)" in str(ds["message"].values[0])
    # on a batch of two a length-1 answer must not be spread over both points
    r = evaluate(m, {"a": np.array([1.1, 1.9]), "b": np.array([0.0, 1.0])}, batch_size=2)
    assert r.status.tolist() == [ERROR, ERROR]


def test_a_scalar_output_is_accepted_for_one_point_only():
    # issue 31: a 0-d answer for n > 1 points is usually a reduction (float(np.sum(a))), never broadcast
    m = _model(lambda a, b: {"y": 3.0})
    assert m(a=np.array([1.0]), b=np.zeros(1))["y"].tolist() == [3.0]
    with pytest.raises(ModelContractError, match=r"has shape \(\), expected \(2,\)"):
        m(a=np.array([1.0, 1.5]), b=np.zeros(2))
    with pytest.raises(ModelContractError, match=r"has shape \(1,\), expected \(2,\)"):
        _model(lambda a, b: {"y": np.array([3.0])})(a=np.array([1.0, 1.5]), b=np.zeros(2))


def test_complex_output_is_refused_not_truncated():
    m = _model(lambda a, b: {"y": a + 1j * b})
    with pytest.raises(ModelContractError, match="output 'y' is complex"):
        m(a=np.array([1.0]), b=np.array([1.0]))
    r = evaluate(m, {"a": np.array([1.0, 1.2]), "b": np.array([1.0, 2.0])})
    assert r.status.tolist() == [ERROR, ERROR]


# ---- defect 5: a model modifying its inputs in place ---------------------------------------------------
def test_a_model_modifying_its_input_fails_loudly_and_leaves_the_record_intact():
    def scale(a, b):
        a *= 100
        return {"y": a + b}

    m = _model(scale)
    a = np.array([1.0, 1.5, 1.8])
    with pytest.raises(ModelContractError, match=r"modified input\(s\) \['a'\] in place"):
        m(a=a, b=np.zeros(3))
    np.testing.assert_array_equal(a, [1.0, 1.5, 1.8])
    assert a.flags.writeable  # the caller's array is untouched, flags included
    with pytest.warns(RuntimeWarning):
        ds = propagate(m, 32, rng=1)
    clean = propagate(_model(lambda a, b: {"y": a + b}), 32, rng=1)
    np.testing.assert_array_equal(ds["a"].values, clean["a"].values)
    assert (ds["status"].values == ERROR).all()


# ---- defect 13: sys.exit() in a model, a model with no inputs -----------------------------------------
def test_a_model_calling_sys_exit_fails_its_points_and_the_run_goes_on():
    def quitter(a, b):
        if np.any(a > 1.5):
            sys.exit(3)
        return {"y": a + b}

    with pytest.warns(RuntimeWarning, match="failed on"):
        ds = propagate(_model(quitter), 64, rng=2)
    bad = ds["a"].values > 1.5
    assert (ds["status"].values[bad] == ERROR).all() and (ds["status"].values[~bad] == OK).all()
    assert "called sys.exit(3)" in str(ds["message"].values[bad][0])


def test_a_model_without_inputs_gets_a_clear_error():
    m = ForwardModel("const", lambda: {"y": 1.0}, [], [Output("y")])
    with pytest.raises(ValueError, match="declares no inputs"):
        evaluate(m, {})


def test_batch_size_must_be_a_positive_integer():
    m = _model(lambda a, b: {"y": a + b})
    for bad in (-3, 0, 2.5, True):
        with pytest.raises(ValueError, match=f"batch_size must be a positive integer or None, got {bad!r}"):
            evaluate(m, {"a": np.ones(4), "b": np.ones(4)}, batch_size=bad)
