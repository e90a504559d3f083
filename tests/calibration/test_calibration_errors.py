"""Input validation of calibration: every bad argument gets an error naming it and the valid choices."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import xarray as xr
from calibration_cases import linear_data, linear_model

from uqbridge import ForwardModel, Input, LogNormal, Normal, Output
from uqbridge.calibration import (
    Adequacy,
    GPDiscrepancy,
    Noise,
    RelativeDiscrepancy,
    Sampling,
    Thresholds,
    build_model,
    calibrate,
    holdout,
    observations,
)
from uqbridge.calibration.build import parse_noise


def _specimen_model():
    return ForwardModel(
        "spec",
        lambda t, k, c, d, xp=np: {"y": c * k * t + d, "z": k + 0 * t},
        [
            Input("t", Normal(0, 1), "aleatory"),
            Input("k", LogNormal(0.0, 0.3), "epistemic"),
            Input("c", LogNormal(0.0, 0.2), "aleatory"),
            Input("d", Normal(0.0, 1.0), "aleatory"),
        ],
        [Output("y"), Output("z")],
        differentiable=True,
    )


def test_roles_of_inputs():
    """Columns named like inputs are conditions; other aleatory inputs become per-specimen latents."""
    data = pd.DataFrame({"specimen": ["B", "A", "B"], "time": [1.0, 2.0, 3.0], "d": 0.0,
                         "y": [1.0, np.nan, 2.0]})
    obs = observations(_specimen_model(), data, conditions={"time": "t"})
    assert obs.epistemic == ("k",) and obs.hierarchical == ("c",)
    assert set(obs.conditions) == {"t", "d"}
    assert obs.specimens == ("A", "B") and obs.specimen.tolist() == [1, 0, 1]
    assert obs.rows("y").tolist() == [0, 2]
    # an xarray Dataset along one dimension is the same table
    same = observations(_specimen_model(), xr.Dataset.from_dataframe(data), conditions={"time": "t"})
    assert same.specimen.tolist() == obs.specimen.tolist()


def test_hierarchical_model_structure():
    data = pd.DataFrame({"specimen": ["B", "A", "B"], "t": [1.0, 2.0, 3.0], "d": 0.0, "y": [1.0, 1.5, 2.0],
                         "z": [1.0, np.nan, np.nan]})
    pmm = build_model(_specimen_model(), data, noise={"y": 0.1, "z": "unknown"}, likelihood="student_t")
    assert sorted(v.name for v in pmm.free_RVs) == ["c__0", "c__1", "k", "sigma_z"]
    assert pmm["c"].eval().shape == (2,)
    assert pmm.coords["obs_z"] == (0,)


@pytest.mark.parametrize(
    "kwargs, error, match",
    [
        ({"conditions": {"temp": "x"}}, KeyError, r"no column 'temp'; columns: \['x', 'y'\]"),
        ({"conditions": {"x": "T"}}, KeyError, r"unknown input 'T'.*\['x', 'a', 'b'\]"),
        ({"outputs": ["w"]}, KeyError, r"no output 'w'; outputs: \['y'\]"),
    ],
)
def test_observation_errors(kwargs, error, match):
    with pytest.raises(error, match=match):
        observations(linear_model(), linear_data(), **kwargs)


def test_unknown_column_and_missing_outputs():
    data = linear_data().assign(operator="me")
    with pytest.raises(KeyError, match=r"column\(s\) \['operator'\] are neither outputs, conditions"):
        observations(linear_model(), data)
    with pytest.raises(ValueError, match=r"no column named like an output.*outputs: \['y'\]"):
        observations(linear_model(), linear_data().drop(columns="y"))
    with pytest.raises(ValueError, match="condition column 'x'.*missing"):
        observations(linear_model(), linear_data().assign(x=np.nan))
    with pytest.raises(TypeError, match="DataFrame or an xarray Dataset, got dict"):
        observations(linear_model(), {"x": [1.0], "y": [1.0]})
    with pytest.raises(ValueError, match="nothing to calibrate"):
        observations(linear_model(), linear_data().assign(a=1.0, b=1.0))


def test_dependent_priors_are_refused():
    m = linear_model()
    joint = m.with_joint_samples({"a": np.arange(5.0), "b": np.arange(5.0)})
    with pytest.raises(ValueError, match="input 'a' is drawn from joint samples"):
        observations(joint, linear_data())
    corr = ForwardModel("c", m.function, type(m.inputs)(m.inputs.inputs, correlation={("a", "b"): 0.5}),
                        m.outputs, differentiable=True)
    with pytest.raises(ValueError, match="correlated through the copula"):
        observations(corr, linear_data())


@pytest.mark.parametrize(
    "noise, error, match",
    [
        ("guess", ValueError, r"expected \('known', sigma\), 'unknown'"),
        (("known", -1.0), ValueError, "positive finite number, got -1.0"),
        ({"w": 0.1}, KeyError, r"\['w'\] are not calibrated outputs; outputs: \['y'\]"),
        ({}, KeyError, r"no noise model for output\(s\) \['y'\]"),
    ],
)
def test_noise_errors(noise, error, match):
    with pytest.raises(error, match=match):
        parse_noise(noise, {"y": np.array([1.0, 2.0])})


def test_noise_forms():
    y = {"y": np.array([1.0, 3.0])}
    assert parse_noise(0.2, y) == {"y": Noise("known", 0.2)}
    assert parse_noise("unknown", y) == {"y": Noise("unknown", 1.0)}  # default scale: sd of the data
    assert parse_noise(("unknown", 5.0), y) == {"y": Noise("unknown", 5.0)}


@pytest.mark.parametrize(
    "kwargs, error, match",
    [
        ({"path": "mcmc"}, ValueError, r"path must be one of \('auto', 'nuts', 'smc', 'surrogate'\), got 'mcmc'"),
        ({"likelihood": "cauchy"}, ValueError, r"likelihood must be one of \('normal', 'student_t'\)"),
        ({"thresholds": {"rhat": 1.1}}, TypeError, "thresholds must be a Thresholds"),
        ({"adequacy": {"levels": (0.9,)}}, TypeError, "adequacy must be an Adequacy"),
        ({"discrepancy": "spline"}, ValueError, "discrepancy for output 'y': expected None, 'gp', 'relative'"),
        ({"discrepancy": {"z": "gp"}}, KeyError, r"discrepancy: \['z'\] are not calibrated outputs"),
        ({"discrepancy": GPDiscrepancy(conditions=("t",))}, KeyError,
         r"GPDiscrepancy.conditions: 't' is not a condition of the data; conditions: \['x'\]"),
    ],
)
def test_calibrate_argument_errors(kwargs, error, match):
    with pytest.raises(error, match=match):
        calibrate(linear_model(), linear_data(), **kwargs)


SAMPLING_ERRORS = [
    ({"draws": 0}, "draws must be an integer >= 1, got 0"),
    ({"tune": -1}, "tune must be an integer >= 0, got -1"),
    ({"target_accept": 1.5}, r"target_accept must lie in \(0, 1\)"),
    ({"sampler": "stan"}, r"sampler must be one of \('pymc', 'nutpie'\), got 'stan'"),
    ({"mass_matrix": "full"}, r"mass_matrix must be one of \('diag', 'dense'\), got 'full'"),
]


@pytest.mark.parametrize("kwargs, match", SAMPLING_ERRORS)
def test_sampling_record_errors(kwargs, match):
    """The record refuses a bad option where it is made; the deprecated keyword spelling warns, then refuses alike."""
    with pytest.raises(ValueError, match=f"Sampling: {match}"):
        Sampling(**kwargs)
    with pytest.warns(DeprecationWarning, match=r"use sampling=Sampling\("), pytest.raises(ValueError, match=match):
        calibrate(linear_model(), linear_data(), **kwargs)


def test_sampling_keywords_deprecated_but_equal():
    """Old keywords build the same record as sampling=Sampling(...) (the run itself then depends only on the record)."""
    from uqbridge._deprecation import NOT_GIVEN
    from uqbridge.calibration.sampling import sampling_from_keywords

    with pytest.warns(DeprecationWarning, match=r"calibrate\(draws=\.\.\., chains=\.\.\.\) is deprecated"):
        old = sampling_from_keywords(None, {"draws": 300, "chains": 2, "tune": NOT_GIVEN}, "calibrate")
    assert old == Sampling(draws=300, chains=2)
    base = Sampling(tune=50, mass_matrix="dense")
    with pytest.warns(DeprecationWarning):
        assert sampling_from_keywords(base, {"draws": 300}, "calibrate") == Sampling(draws=300, tune=50, mass_matrix="dense")
    assert sampling_from_keywords(base, {"draws": NOT_GIVEN}, "calibrate") is base
    with pytest.raises(TypeError, match="sampling must be a Sampling record, got dict"):
        calibrate(linear_model(), linear_data(), sampling={"draws": 10})


def test_nuts_needs_gradients():
    with pytest.raises(ValueError, match="not differentiable; use path='smc'.*or path='surrogate'"):
        calibrate(linear_model(differentiable=False), linear_data(), path="nuts")


def test_threshold_errors():
    with pytest.raises(ValueError, match="rhat must be >= 1, got 0.9"):
        Thresholds(rhat=0.9)
    with pytest.raises(ValueError, match="divergences must be a non-negative integer"):
        Thresholds(divergences=-1)


def test_discrepancy_and_adequacy_option_errors():
    with pytest.raises(ValueError, match="GPDiscrepancy: m must be an integer >= 2, got 1"):
        GPDiscrepancy(m=1)
    with pytest.raises(ValueError, match=r"GPDiscrepancy: c must be >= 1.2 \(Riutort-Mayol et al. 2023\), got 1.0"):
        GPDiscrepancy(c=1.0)
    with pytest.raises(ValueError, match="GPDiscrepancy: amplitude must be a positive number or None"):
        GPDiscrepancy(amplitude=-1.0)
    with pytest.raises(ValueError, match="RelativeDiscrepancy: scale must be a positive number, got 0"):
        RelativeDiscrepancy(scale=0)
    with pytest.raises(ValueError, match=r"Adequacy: levels must be probabilities in \(0, 1\), got \(1.5,\)"):
        Adequacy(levels=(1.5,))
    with pytest.raises(ValueError, match=r"Adequacy: min_data_share must lie in \[0, 1\), got 1.0"):
        Adequacy(min_data_share=1.0)
    constant = linear_data().assign(x=1.0)
    with pytest.raises(ValueError, match="no condition varies in the data.*use RelativeDiscrepancy"):
        build_model(linear_model(), constant, noise=0.4, discrepancy="gp")
    never = lambda rows: pytest.fail("holdout calibrated although its split is refused")  # noqa: E731
    with pytest.raises(ValueError, match="test selects 0 of 12 rows"):
        holdout(never, linear_data(), np.zeros(12, bool))
    with pytest.raises(ValueError, match="test must select rows of data: a boolean array of length 12"):
        holdout(never, linear_data(), np.zeros(3, bool))
    with pytest.raises(TypeError, match="calibration must be a function of the training rows"):
        holdout(linear_model(), linear_data(), np.zeros(12, bool))


def test_discrepancy_variables_in_the_model():
    """A GP discrepancy adds amplitude, length scale, non-centred coefficients and delta at the rows;
    the relative one a single spread."""
    pmm = build_model(linear_model(), linear_data(), noise=0.4, discrepancy=GPDiscrepancy(m=6))
    names = {v.name for v in pmm.free_RVs}
    assert {"delta_eta_y", "delta_ell_y", "delta_beta_y"} <= names
    assert pmm["delta_beta_y"].eval().shape == (6,) and pmm["delta_y"].eval().shape == (12,)
    pmm = build_model(linear_model(), linear_data(), noise=0.4, discrepancy="relative")
    assert "delta_kappa_y" in {v.name for v in pmm.free_RVs}
