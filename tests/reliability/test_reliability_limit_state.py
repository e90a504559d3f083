"""Limit states and systems: the sign convention of g, min/max systems and the error messages."""

import numpy as np
import pytest

from uqbridge import ForwardModel, Input, Normal, Output
from uqbridge.reliability import LimitState, ParallelSystem, SeriesSystem, form, monte_carlo


def _model():
    return ForwardModel(
        "two", lambda a, b: {"y": a + b, "z": a - b},
        [Input("a", Normal(0, 1)), Input("b", Normal(0, 1))], [Output("y", "MPa"), Output("z", "MPa")],
    )


def test_g_sign_convention():
    """g = output - threshold for failure 'below', threshold - output for 'above'; g <= 0 is failure."""
    m = _model()
    x = {"a": np.array([1.0, 3.0]), "b": np.array([0.0, 0.0])}
    np.testing.assert_allclose(LimitState(m, "y", threshold=2.0).g(x), [-1.0, 1.0])
    np.testing.assert_allclose(LimitState(m, "y", threshold=2.0, failure="above").g(x), [1.0, -1.0])
    assert LimitState(m, "y", threshold=2.0).units == "MPa"


def test_systems_are_min_and_max_and_nest():
    m = _model()
    ly, lz = LimitState(m, "y"), LimitState(m, "z")
    x = {"a": np.array([1.0, -1.0]), "b": np.array([2.0, 0.5])}
    y, z = x["a"] + x["b"], x["a"] - x["b"]
    np.testing.assert_allclose(SeriesSystem([ly, lz]).g(x), np.minimum(y, z))
    np.testing.assert_allclose(ParallelSystem([ly, lz]).g(x), np.maximum(y, z))
    nested = SeriesSystem([ParallelSystem([ly, lz]), LimitState(m, "y", threshold=-5.0)])
    np.testing.assert_allclose(nested.g(x), np.minimum(np.maximum(y, z), y + 5.0))
    assert SeriesSystem([ly, lz]).is_system and not ly.is_system


def test_parallel_system_pf_is_orthant_probability():
    """P[a + b <= 0 and a - b <= 0] = P[two independent N(0, 2) both <= 0] = 1/4 (exact)."""
    m = _model()
    r = monte_carlo(ParallelSystem([LimitState(m, "y"), LimitState(m, "z")]), target_cov=0.02, rng=3)
    assert abs(float(r.pf) - 0.25) <= 4 * float(r.pf_se)


def test_error_messages():
    m = _model()
    with pytest.raises(KeyError, match="has no output 'w'; outputs: \\['y', 'z'\\]"):
        LimitState(m, "w")
    with pytest.raises(ValueError, match="failure must be one of \\('below', 'above'\\), got 'under'"):
        LimitState(m, "y", failure="under")
    with pytest.raises(TypeError, match="threshold must be a number, got 'x'"):
        LimitState(m, "y", threshold="x")
    with pytest.raises(ValueError, match="non-empty sequence"):
        SeriesSystem([])
    with pytest.raises(TypeError, match="components must be LimitState"):
        SeriesSystem([LimitState(m, "y"), 3])
    other = ForwardModel("o", lambda c: {"y": c}, [Input("c", Normal(0, 1))], [Output("y")])
    with pytest.raises(ValueError, match="same inputs"):
        SeriesSystem([LimitState(m, "y"), LimitState(other, "y")])
    with pytest.raises(TypeError, match="expected a LimitState, SeriesSystem or ParallelSystem, got ForwardModel"):
        form(m)


def test_nonfinite_limit_state_is_reported():
    # log(a) is NaN for a < 0: about half of the runs fail; they are counted and named, never taken as safe
    m = ForwardModel("bad", lambda a: {"y": np.log(a)}, [Input("a", Normal(0, 1))], [Output("y")])
    r = monte_carlo(LimitState(m, "y"), max_runs=100, batch=100, rng=0)
    assert r.attrs["reliable"] == 0 and 0 < r.attrs["n_failed"] < 100
    assert "is not finite" in r.attrs["reason"] and "model runs failed" in r.attrs["reason"]
    always_nan = ForwardModel("nan", lambda a: {"y": a * np.nan}, [Input("a", Normal(0, 1))], [Output("y")])
    with pytest.raises(ValueError, match="every one of the 100 model runs failed"):
        monte_carlo(LimitState(always_nan, "y"), max_runs=100, batch=100, rng=0)
