"""Input sets: design mapping through marginals and the Gaussian copula, joint samples, clear errors."""

import numpy as np
import pytest
from scipy import stats

import uqbridge as uq
from uqbridge.inputs import Input, InputSet


def _pair(rho=0.0):
    corr = {("a", "b"): rho} if rho else None
    return InputSet([Input("a", uq.Normal(1.0, 2.0)), Input("b", uq.LogNormal(0.0, 0.5), "epistemic")], correlation=corr)


def test_marginals_of_mapped_design():
    """Kolmogorov–Smirnov: mapped MC samples follow the declared marginals (alpha = 1e-3)."""
    x = uq.sample_inputs(_pair(), 4000, "mc", rng=1)
    assert stats.kstest(x["a"], stats.norm(1.0, 2.0).cdf).pvalue > 1e-3
    assert stats.kstest(x["b"], stats.lognorm(0.5).cdf).pvalue > 1e-3


def test_gaussian_copula_correlation():
    """The normal-score correlation of the samples equals the declared copula correlation.

    Standard error of a sample correlation: (1 - rho^2)/sqrt(n); tolerance 4 se.
    """
    rho, n = 0.6, 20000
    x = uq.sample_inputs(_pair(rho), n, "mc", rng=2)
    za = (x["a"] - 1.0) / 2.0
    zb = np.log(x["b"]) / 0.5
    r = np.corrcoef(za, zb)[0, 1]
    assert abs(r - rho) < 4 * (1 - rho**2) / np.sqrt(n)


def test_standard_normal_round_trip():
    s = _pair(0.5)
    z = np.random.default_rng(3).normal(size=(50, 2))
    np.testing.assert_allclose(s.to_standard_normal(s.from_standard_normal(z)), z, rtol=1e-8, atol=1e-8)


def test_upper_tail_accuracy():
    """At z = 8 the survival-function path keeps the quantile exact (Φ(8) rounds to 1 in float64)."""
    s = InputSet([Input("a", uq.Normal(0.0, 1.0))])
    assert s.from_standard_normal(np.array([[8.0]]))["a"][0] == pytest.approx(8.0, rel=1e-12)


def test_joint_samples_keep_correlation():
    rng = np.random.default_rng(4)
    post = rng.multivariate_normal([0, 0], [[1, 0.9], [0.9, 1]], size=3000)
    s = _pair().with_joint_samples({"a": post[:, 0], "b": post[:, 1]})
    x = uq.sample_inputs(s, 4000, "lhs", rng=5)
    assert np.corrcoef(x["a"], x["b"])[0, 1] > 0.85
    # every drawn pair is a row of the posterior
    rows = {tuple(r) for r in post}
    assert all((a, b) in rows for a, b in zip(x["a"][:50], x["b"][:50]))


def test_json_round_trip():
    s = _pair(0.3).replace(a=2.0)
    again = InputSet.from_json(s.to_json())
    assert again.to_json() == s.to_json()


def test_constants_are_not_design_dimensions():
    s = _pair().replace(a=5.0)
    assert s.dimension_names == ("b",)
    assert np.all(uq.sample_inputs(s, 8, "lhs", rng=0)["a"] == 5.0)


def test_error_messages():
    with pytest.raises(ValueError, match="correlation matrix is not positive definite"):
        InputSet(
            [Input(n, uq.Normal(0, 1)) for n in "abc"],
            correlation={("a", "b"): 0.9, ("b", "c"): 0.9, ("a", "c"): -0.9},
        )
    with pytest.raises(KeyError, match=r"correlation names unknown input 'z'"):
        InputSet([Input("a", uq.Normal(0, 1))], correlation={("a", "z"): 0.1})
    with pytest.raises(ValueError, match=r"must lie in \(-1, 1\)"):
        _pair(1.5)
    with pytest.raises(KeyError, match=r"unknown input 'c'; valid inputs: \['a', 'b'\]"):
        _pair().replace(c=1.0)
    with pytest.raises(ValueError, match="kind must be one of"):
        Input("a", uq.Normal(0, 1), "epistemological")
    with pytest.raises(ValueError, match="duplicate input names"):
        InputSet([Input("a", uq.Normal(0, 1)), Input("a", uq.Normal(0, 1))])
    with pytest.raises(TypeError, match="distribution must be a uqbridge Distribution"):
        Input("a", 3.0)
    with pytest.raises(ValueError, match="design has 3 columns but the inputs have 2"):
        _pair().from_unit(np.full((2, 3), 0.5))


def test_condition_kind_is_a_controlled_setting_with_one_value():
    """A condition (strain, temperature) is not uncertain: it holds one value, is shown and stored as a
    condition, stays out of the uncertain inputs, and is set by with_inputs."""
    from uqbridge import Constant, ForwardModel, Normal, Output

    T = Input("T", 300.0, "condition", "K", "temperature")
    assert T.distribution == Constant(300.0) and T.kind == "condition"
    with pytest.raises(ValueError, match="is a condition .* give it a value"):
        Input("T", Normal(300, 5), "condition")
    s = InputSet([Input("a", Normal(0, 1), "epistemic"), T])
    assert s.conditions == ("T",) and s.uncertain == ("a",) and s.epistemic == ("a",)
    assert [r["kind"] for r in s.table()] == ["epistemic", "condition"]
    assert Input.from_dict(T.to_dict()) == T  # stored as a condition, read back as one
    m = ForwardModel("arrhenius", lambda a, T: {"k": a * np.exp(-1000.0 / T)}, s, [Output("k")])
    assert "condition" in m.describe()
    assert m.with_inputs(T=350.0).inputs["T"].kind == "condition"
    with pytest.raises(ValueError, match="is a condition"):
        m.with_inputs(T=Normal(350, 1))
