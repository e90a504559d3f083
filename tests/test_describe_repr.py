"""Issue #30: ``describe`` shows every input in its own units, and a model's repr is one short line."""

import math

import numpy as np
import pytest

import uqbridge as uq
from uqbridge.cli import main
from uqbridge.distributions import Beta, Gamma, Gumbel, LogNormal, Normal, TruncatedNormal, Uniform, Weibull

Z95 = 1.6448536269514722  # standard normal 95 % quantile (Abramowitz & Stegun, table 26.5)


def _range(text: str) -> tuple[float, float, float]:
    """(median, 5 %, 95 %) parsed from ``...: median M units, 90 % [L, H]``."""
    head, _, tail = text.partition(": median ")
    median = float(tail.split()[0].rstrip(","))
    low, high = (float(v) for v in tail.split("[")[1].rstrip("]").split(","))
    return median, low, high


def test_lognormal_is_shown_by_its_median_and_90_percent_range_in_its_units():
    """Analytic: median exp(mu), 90 % range exp(mu -/+ z_0.95 sigma)."""
    d = LogNormal(8.85367, 0.246221)
    text = d.natural("MPa")
    assert text.startswith("LogNormal(mu=8.85367, sigma=0.246221): median ")  # the parameters stay
    assert " MPa, 90 % [" in text
    median, low, high = _range(text)
    for shown, exact in [(median, math.exp(8.85367)), (low, math.exp(8.85367 - Z95 * 0.246221)),
                         (high, math.exp(8.85367 + Z95 * 0.246221))]:
        assert shown == pytest.approx(exact, rel=5e-4)  # four significant digits


@pytest.mark.parametrize("dist", [Gamma(2.0, 3.0), Weibull(5.0, 2.0), Gumbel(0.0, 1.0), Beta(2.0, 5.0, 1.0, 3.0),
                                  TruncatedNormal(0.0, 1.0, 0.0, math.inf)])
def test_shape_parametrised_laws_get_scipy_quantiles(dist):
    """The shown quantiles are SciPy's ppf at 0.5, 0.05 and 0.95 (an independent implementation)."""
    shown = _range(dist.natural("kg"))
    exact = dist.scipy().ppf([0.5, 0.05, 0.95])
    np.testing.assert_allclose(shown, exact, rtol=5e-4)


@pytest.mark.parametrize("dist", [Normal(100, 10), Uniform(0, 0.05), uq.Constant(3.0), uq.Triangular(0, 1, 2)])
def test_laws_whose_parameters_are_in_the_units_are_shown_as_they_are(dist):
    assert dist.natural("MPa") == str(dist)


def test_describe_command_shows_lognormal_inputs_in_natural_units(capsys):
    """fracture's sigma_max: LogNormal with median 7000 MPa, CoV 0.25 (models/fracture.py)."""
    assert main(["describe", "fracture"]) == 0
    line = next(row for row in capsys.readouterr().out.splitlines() if row.strip().startswith("sigma_max"))
    assert "LogNormal(mu=8.85367, sigma=0.246221): median 7000 MPa, 90 % [4669, 10495]" in line  # 7000 exp(-/+ 1.64485 x 0.246221)


def test_repr_is_one_short_line_and_str_is_the_table():
    model = uq.get_model("ishigami")
    assert repr(model) == "<ForwardModel 'ishigami': 3 inputs -> 1 output>"
    assert str(model) == model.describe() and "inputs:" in str(model)
    chain = uq.get_model("resin_infusion")
    assert repr(chain) == (f"<ChainModel 'resin_infusion': {len(chain.stages)} stages, {len(chain.inputs.names)} "
                           f"inputs -> {len(chain.outputs)} outputs>")
    long = uq.ForwardModel("x" * 300, lambda a: {"b": a}, [uq.Input("a", Normal(0, 1))], [uq.Output("b")])
    assert len(repr(long)) < 120 and "\n" not in repr(long)
    assert len(repr(long.with_inputs(a=1.0))) < 120


def test_str_and_natural_never_raise_on_edge_declarations():
    """A model without inputs still prints its table; a law beyond floating point keeps its parameters."""
    bare = uq.ForwardModel("bare", lambda: {"y": 1.0}, [], [uq.Output("y")])
    assert repr(bare) == "<ForwardModel 'bare': 0 inputs -> 1 output>"
    assert "outputs:" in str(bare)
    assert LogNormal(1000.0, 1.0).natural("m") == "LogNormal(mu=1000, sigma=1)"  # exp(1000) overflows
