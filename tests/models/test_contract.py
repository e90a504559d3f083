"""The common contract every registered model must satisfy (in the spirit of scikit-learn's
``parametrize_with_checks``): declarations match what the function returns, vectorised shapes,
finite outputs on the declared support, determinism, and NumPy/PyTensor agreement where promised."""

import numpy as np
import pytest

import uqbridge as uq
from uqbridge.designs import sample_inputs

MODELS = uq.list_models()
N = 4


@pytest.fixture(scope="module", params=MODELS)
def model(request):
    return uq.get_model(request.param)


def _draw(model, seed=0):
    return sample_inputs(model.inputs, N, "lhs", rng=seed)


def test_declarations_match_returned_outputs(model):
    raw = model.function(**model.complete(_draw(model)))
    assert set(raw) >= set(model.output_names)


def test_vectorised_and_finite_on_declared_support(model):
    out = model(**_draw(model))
    for name in model.output_names:
        assert out[name].shape == (N,), name
        assert np.all(np.isfinite(out[name])), f"{model.name}.{name} not finite: {out[name]}"


def test_vectorised_equals_one_by_one(model):
    x = _draw(model)
    together = model(**x)
    for j in range(N):
        alone = model(**{k: v[j : j + 1] for k, v in x.items()})
        for name in model.output_names:
            np.testing.assert_allclose(alone[name][0], together[name][j], rtol=1e-8, atol=1e-12)


def test_same_seed_same_numbers(model):
    a, b = model(**_draw(model, 3)), model(**_draw(model, 3))
    for name in model.output_names:
        np.testing.assert_array_equal(a[name], b[name])


def test_inputs_declared_with_kind_and_units(model):
    text = model.describe()
    for i in model.inputs:
        assert i.name in text
        assert i.kind in ("aleatory", "epistemic", "condition")
        if i.kind == "condition":  # a controlled setting holds one value, shown as a condition
            assert i.distribution.is_constant


def test_numpy_and_pytensor_agree(model):
    if not model.differentiable:
        pytest.skip(f"{model.name} is not declared differentiable")
    import pytensor
    import pytensor.tensor as pt

    x = model.complete(_draw(model))
    symbols = {k: pt.dvector(k) for k in x}
    graph = model.evaluate_tensor(pt, **symbols)
    # FAST_COMPILE: the same graph, evaluated without C compilation (minutes for some models)
    f = pytensor.function(list(symbols.values()), [graph[o] for o in model.output_names],
                          on_unused_input="ignore", mode="FAST_COMPILE")
    got = f(*x.values())
    want = model(**x)
    for name, value in zip(model.output_names, got):
        np.testing.assert_allclose(np.broadcast_to(value, (N,)), want[name], rtol=1e-10)
