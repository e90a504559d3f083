"""The model graph: stages, wires (renames, implicit by name), adapters, units at wires, the scale ladder,
PyTensor path, and the by-scale grouping of ``decompose`` against the closed form of a linear chain."""

import cloudpickle
import numpy as np
import pytest
from chain_cases import linear_chain, linear_shares

import uqbridge as uq
from uqbridge.chains.graph import ChainModel, scale_groups


def _m(name, fn, inputs, outputs, **kw):
    return uq.ForwardModel(name, fn, inputs, outputs, **kw)


def test_chain_keeps_stages_scales_and_intermediates():
    g = linear_chain()
    assert isinstance(g, uq.ForwardModel) and isinstance(g, ChainModel)
    assert [s.scale for s in g.stages] == ["micro", "meso", "macro"]
    assert g.inputs.names == ("a", "b", "c", "d")
    assert g.input_scale == {"a": "micro", "b": "micro", "c": "meso", "d": "macro"}
    assert g.output_stage == {"x": "micro", "z": "meso", "y": "macro"}
    out = g(a=1.0, b=2.0, c=0.5, d=1.0)
    # y = 2a + 2b + c + 3d
    assert out["x"][0] == 3.0 and out["z"][0] == 6.5 and out["y"][0] == 9.5
    assert [(w.source, w.target) for w in g.wires] == [("x", "x_in"), ("z", "z")]


def test_plain_model_has_one_scale():
    m = uq.get_model("ishigami")
    assert m.stages == ()
    assert set(m.input_scale.values()) == {"ishigami"} and set(m.output_stage.values()) == {"ishigami"}
    assert scale_groups(m) == {"ishigami": list(m.inputs.uncertain)}


def test_wired_input_keeps_its_standalone_prior():
    g = linear_chain()
    meso = g.stages[1].model
    assert "x_in" in meso.inputs.names and "x_in" not in g.inputs.names
    assert meso(x_in=1.0, c=0.0)["z"][0] == 2.0  # the stage still runs alone


def test_wires_must_name_upstream_outputs_and_units_are_checked():
    a = _m("a", lambda p: {"E": p}, [uq.Input("p", uq.Normal(1, 0.1))], [uq.Output("E", "GPa")])
    b = _m("b", lambda E2: {"y": E2}, [uq.Input("E2", uq.Normal(1, 0.1), units="Pa")], [uq.Output("y")])
    with pytest.raises(KeyError, match="no earlier stage produces"):
        uq.chain(a, uq.Stage(b, wires={"E2": "E_missing"}))
    with pytest.raises(ValueError, match=r"1 GPa = 1e\+09 Pa.*adapter"):
        uq.chain(a, uq.Stage(b, wires={"E2": "E"}))
    to_pa = uq.adapter("to_pa", lambda E, xp=None: {"E_pa": E * 1e9}, inputs={"E": "GPa"}, outputs={"E_pa": "Pa"}, scale="a")
    g = uq.chain(a, to_pa, uq.Stage(b, wires={"E2": "E_pa"}))
    assert g(p=2.0)["y"][0] == 2e9
    assert "(adapter)" in g.describe()
    # same unit, another spelling: accepted (pint)
    c = _m("c", lambda K: {"t": K}, [uq.Input("K", uq.Normal(1, 0.1), units="m^2")], [uq.Output("t")])
    k = _m("k", lambda r: {"K": r}, [uq.Input("r", uq.Normal(1, 0.1))], [uq.Output("K", "m2")])
    uq.chain(k, c)
    d = _m("d", lambda K: {"t": K}, [uq.Input("K", uq.Normal(1, 0.1), units="s")], [uq.Output("t")])
    with pytest.raises(ValueError, match="not the same quantity"):
        uq.chain(k, d)


def test_adapter_inputs_must_be_wired_and_have_no_prior():
    to_pa = uq.adapter("to_pa", lambda E, xp=None: {"E_pa": E * 1e9}, inputs={"E": "GPa"}, outputs={"E_pa": "Pa"})
    other = _m("o", lambda q: {"Q": q}, [uq.Input("q", uq.Normal(1, 0.1))], [uq.Output("Q", "GPa")])
    with pytest.raises(ValueError, match="adapter 'to_pa' input 'E' is not fed"):
        uq.chain(other, to_pa)
    with pytest.raises(KeyError, match="missing value"):
        to_pa.model()  # alone, its input must be given
    assert to_pa.model(E=1.0)["E_pa"][0] == 1e9


def test_rename_resolves_output_clashes_and_duplicate_outputs_are_refused():
    s1 = _m("s1", lambda a: {"E": a}, [uq.Input("a", uq.Normal(1, 0.1))], [uq.Output("E")])
    s2 = _m("s2", lambda E_in, b: {"E": E_in + b},
            [uq.Input("E_in", uq.Normal(1, 0.1)), uq.Input("b", uq.Normal(0, 1))], [uq.Output("E")])
    with pytest.raises(ValueError, match="rename one"):
        uq.chain(s1, uq.Stage(s2, wires={"E_in": "E"}))
    g = uq.chain(s1, uq.Stage(s2, rename={"E": "E_part", "b": "b_part"}, wires={"E_in": "E"}))
    assert "E_part" in g.output_names and "b_part" in g.inputs.names
    assert g(a=1.0, b_part=2.0)["E_part"][0] == 3.0


def test_order_and_type_errors():
    s1 = _m("s1", lambda a: {"b": a}, [uq.Input("a", uq.Normal(1, 0.1))], [uq.Output("b")])
    with pytest.raises(ValueError, match="at least two"):
        uq.chain(s1)
    with pytest.raises(TypeError, match="Stage or a ForwardModel"):
        uq.chain(s1, "model")
    with pytest.raises(KeyError, match="wires names input 'zz'"):
        uq.Stage(s1, wires={"zz": "b"})
    late = _m("late", lambda b0: {"a": b0}, [uq.Input("b0", uq.Normal(1, 0.1))], [uq.Output("a")])
    with pytest.raises(ValueError, match="order the stages"):
        uq.chain(s1, late)


def test_nested_chain_flattens_and_keeps_overrides():
    g = linear_chain().with_inputs(d=0.0)
    s4 = _m("plant", lambda y, xp=None: {"w": y * 2}, [uq.Input("y", uq.Normal(0, 1), units="m")], [uq.Output("w", "m")], differentiable=True)
    big = uq.chain(g, uq.Stage(s4, scale="plant"))
    assert [s.scale for s in big.stages] == ["micro", "meso", "macro", "plant"]
    assert big.inputs["d"].distribution.is_constant


def test_describe_shows_the_ladder():
    text = linear_chain().describe()
    assert "scale ladder" in text
    assert "<- x [m] from micro -> x_in [m]" in text
    for line in ("a  micro  epistemic", "c  meso   epistemic", "d  macro  aleatory"):
        assert line in text


def test_chain_pickles_and_runs_on_pytensor():
    g = linear_chain()
    g2 = cloudpickle.loads(cloudpickle.dumps(g.with_inputs(a=uq.Normal(0, 1))))
    assert g2(a=1.0, b=0.0, c=0.0, d=0.0)["y"][0] == 2.0
    import pytensor.tensor as pt

    a = pt.dscalar("a")
    out = g.evaluate_tensor(pt, a=a, b=1.0, c=0.0, d=0.0)
    grad = pt.grad(out["y"], a)
    assert float(grad.eval({a: 0.3})) == 2.0
    assert g.differentiable


def test_decompose_by_scale_matches_closed_form():
    """Linear chain y = 2a + 2b + c + 3d: scale shares known exactly (chain_cases docstring). Pick-freeze
    (n = 2048, seed 3) within 4 standard errors (SE from the bootstrap interval width / 3.92); the
    interval coverage itself is tested in test_scales.py. PCE: exact for a linear model."""
    truth = linear_shares()
    g = linear_chain()
    ds = uq.decompose(g, groups="scale", n=2048, rng=3, n_bootstrap=200, outputs=["y"])
    assert list(ds.group.values) == ["micro", "meso", "macro"]
    for s in ("micro", "meso", "macro"):
        est = float(ds["explained_share"].sel(output="y", group=s))
        lo, hi = (float(ds[f"explained_share_{b}"].sel(output="y", group=s)) for b in ("low", "high"))
        assert abs(est - truth[s]) < 4 * (hi - lo) / 3.92, (s, est, lo, hi, truth[s])
    ds = uq.decompose(g, groups="scale_kind", method="pce", n=64, rng=3, outputs=["y"])
    assert set(ds.group.values) == {"micro/epistemic", "micro/aleatory", "meso/epistemic", "macro/aleatory"}
    for s in ds.group.values:
        assert float(ds["explained_share"].sel(output="y", group=s)) == pytest.approx(truth[str(s)], abs=1e-8)


def test_bad_grouping_name():
    with pytest.raises(ValueError, match="valid: \\['scale', 'scale_kind'\\]"):
        uq.decompose(linear_chain(), groups="scales", n=64)


def test_propagate_runs_on_a_chain():
    ds = uq.propagate(linear_chain(), 256, rng=0)
    assert {"x", "z", "y"} <= set(ds.data_vars)
    np.testing.assert_allclose(ds["y"].values, 2 * ds["x"].values + ds["c"].values + 3 * ds["d"].values)
