"""Forward models: declarations, composition across scales, per-sample failure isolation."""

import numpy as np
import pytest

import uqbridge as uq
from uqbridge.execution.batch import ERROR, NONFINITE, OK, evaluate


def _linear():
    return uq.ForwardModel(
        "linear",
        lambda a, b: {"y": a + 2 * b},
        [uq.Input("a", uq.Normal(0, 1)), uq.Input("b", uq.Uniform(0, 1), "epistemic", "m")],
        [uq.Output("y", "m")],
    )


def test_chain_wires_outputs_to_inputs_and_keeps_intermediates():
    micro = uq.ForwardModel("micro", lambda e: {"k": 2 * e}, [uq.Input("e", uq.Normal(1, 0.1), units="eV")],
                            [uq.Output("k", "N/m")])
    macro = uq.ForwardModel("macro", lambda k, f: {"u": f / k},
                            [uq.Input("k", uq.Normal(1, 0.1), units="N/m"), uq.Input("f", uq.Normal(1, 0.1), units="N")],
                            [uq.Output("u", "m")])
    both = uq.chain(micro, macro)
    assert both.inputs.names == ("e", "f")
    out = both(e=np.array([1.0, 2.0]), f=np.array([4.0, 4.0]))
    np.testing.assert_allclose(out["k"], [2.0, 4.0])
    np.testing.assert_allclose(out["u"], [2.0, 1.0])
    ds = uq.propagate(both, 64, rng=0)
    assert {"k", "u"} <= set(ds.data_vars)


def test_chain_rejects_unit_mismatch():
    micro = uq.ForwardModel("micro", lambda e: {"k": e}, [uq.Input("e", uq.Normal(1, 0.1))], [uq.Output("k", "N/m")])
    macro = uq.ForwardModel("macro", lambda k: {"u": k}, [uq.Input("k", uq.Normal(1, 0.1), units="kN/m")], [uq.Output("u")])
    with pytest.raises(ValueError, match="'k' is produced in 'N/m' but model 'macro' expects 'kN/m'"):
        uq.chain(micro, macro)


def test_unknown_and_missing_input_names():
    m = _linear()
    with pytest.raises(KeyError, match=r"model 'linear' has no input\(s\) \['c'\]; valid inputs: \['a', 'b'\]"):
        m(a=1.0, b=1.0, c=2.0)
    with pytest.raises(KeyError, match="missing value for uncertain input 'b'"):
        m(a=1.0)
    assert m.with_inputs(b=3.0)(a=1.0)["y"][0] == 7.0


def test_model_returning_wrong_outputs_is_reported():
    bad = uq.ForwardModel("bad", lambda a: {"z": a}, [uq.Input("a", uq.Normal(0, 1))], [uq.Output("y")])
    with pytest.raises(ValueError, match=r"did not return declared output\(s\) \['y'\]; it returned \['z'\]"):
        bad(a=1.0)


def test_failures_are_isolated_per_sample():
    """NaN for some samples and exceptions for others: each flagged with its message, the rest kept."""

    def function(x):
        if np.any(x > 0.9):
            raise RuntimeError("solver diverged")
        return {"y": np.where(x < 0.1, np.nan, x**2)}

    m = uq.ForwardModel("flaky", function, [uq.Input("x", uq.Uniform(0, 1))], [uq.Output("y")])
    x = np.linspace(0.0, 1.0, 101)
    r = evaluate(m, {"x": x})
    assert np.all(r.status[x > 0.9] == ERROR)
    assert all("RuntimeError: solver diverged" == msg for msg in r.message[x > 0.9])
    assert np.all(r.status[x < 0.1] == NONFINITE)
    good = (x >= 0.1) & (x <= 0.9)
    assert np.all(r.status[good] == OK)
    np.testing.assert_allclose(r.outputs["y"][good], x[good] ** 2)
    with pytest.warns(RuntimeWarning, match=r"failed on \d+ of 200 samples"):
        ds = uq.propagate(m, 200, design="mc", rng=1)
    ok = ds["status"].values == OK
    assert int(ds["n_ok"].sel(output="y")) == ok.sum()
    assert float(ds["mean"].sel(output="y")) == pytest.approx(ds["y"].values[ok].mean())


def test_pointwise_wrapper():
    f = uq.pointwise(lambda x, k: {"y": float(x) * float(k)})
    m = uq.ForwardModel("pw", f, [uq.Input("x", uq.Normal(0, 1)), uq.Input("k", uq.Constant(3.0))], [uq.Output("y")])
    np.testing.assert_allclose(m(x=np.array([1.0, 2.0]))["y"], [3.0, 6.0])
