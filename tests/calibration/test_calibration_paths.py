"""The same physics on NumPy arrays, PyTensor tensors and the black-box Op; gate and CLI on fixed draws."""

from __future__ import annotations

import arviz as az
import numpy as np
import pytensor.tensor as pt
import pytest
from calibration_cases import SIGMA, conjugate_posterior, linear_data, linear_model

from uqbridge.calibration import ModelOp, Sampling, Thresholds, calibrate, diagnose, failures
from uqbridge.calibration.__main__ import main


def _km():
    km = pytest.importorskip("uqbridge_models.kocks_mecking")
    return km.kocks_mecking()


def test_kocks_mecking_numpy_and_pytensor_agree():
    """One function, two namespaces: the tensor graph NUTS differentiates gives the NumPy numbers."""
    m = _km()
    rng = np.random.default_rng(0)
    values = m.inputs.from_unit(rng.random((50, m.inputs.dimension)))
    values["gamma"] = rng.uniform(0.0, 1.0, 50)
    ref = m(**values)
    got = m.evaluate_tensor(pt, **{k: pt.as_tensor(v) for k, v in values.items()})
    for o in m.output_names:
        np.testing.assert_allclose(got[o].eval(), ref[o], rtol=1e-12)


def test_op_matches_tensor_graph():
    """The black-box Op evaluates the NumPy model to the numbers of the tensor graph."""
    m = _km()
    gamma = np.linspace(0.0, 0.8, 7)
    params = {"tau0": 1.1, "alpha": 0.3, "k1": 1.6e8, "k2": 7.0, "rho0": 2e11}
    op = ModelOp(m, {"gamma": gamma}, list(params), ["tau", "h"])
    matrix = op(*[pt.as_tensor(np.full(7, v)) for v in params.values()]).eval()
    ref = m(gamma=gamma, **params)
    np.testing.assert_allclose(matrix, np.stack([ref["tau"], ref["h"]]), rtol=1e-14)
    with pytest.raises(NotImplementedError, match="black box without gradients"):
        v = pt.dvector("v")
        pt.grad(op(v, v, v, v, v).sum(), v)


def test_surrogate_path_on_linear_model():
    """A degree-1 PCE is exact for y = a + b x: the surrogate posterior is the conjugate one.

    Reference: Bishop (2006) eqs. 3.49–3.51; tolerance 4 MCSE.
    """
    data = linear_data()
    res = calibrate(linear_model(differentiable=False), data, noise=SIGMA, path="surrogate",
                    sampling=Sampling(draws=1000, tune=500, chains=2), rng=5)
    assert res.passed, res.warnings
    assert float(res.surrogate["relative_rmse"].max()) < 1e-8
    assert res.idata.posterior.attrs["n_runs"] == res.surrogate.attrs["n_runs_fit"] + res.surrogate.attrs["n_runs"]
    mean, _ = conjugate_posterior(data["x"].to_numpy(), data["y"].to_numpy())
    post = res.idata.posterior
    for k, name in enumerate(("a", "b")):
        assert abs(float(post[name].mean()) - mean[k]) < 4 * float(az.mcse(post[[name]], method="mean")[name])


def test_gate_on_disagreeing_chains_and_cli(tmp_path, capsys):
    """Chains centred 1 sd apart must fail R-hat (Vehtari et al. 2021); the CLI exits 1 only if --strict."""
    rng = np.random.default_rng(1)
    draws = rng.normal(size=(4, 500)) + np.array([[0.0], [0.0], [1.0], [1.0]])
    idata = az.from_dict(posterior={"a": draws}, sample_stats={"diverging": np.zeros((4, 500), bool)})
    d = diagnose(idata, thresholds=Thresholds())
    assert float(d["rhat"].sel(parameter="a")) > 1.1 and not bool(d["passed"].all())
    assert failures(d)[0].startswith("R-hat above 1.01 for {'a'")
    with pytest.raises(KeyError, match=r"\['b'\] not in the posterior"):
        diagnose(idata, var_names=["b"])

    from uqbridge.calibration.result import _finish

    res = _finish(idata, d, [], model=linear_model(), epistemic=("a",), hierarchical=(), surrogate=None, attrs={})
    path = tmp_path / "bad.nc"
    res.save(path)
    assert main(["check", str(path)]) == 0
    assert main(["check", str(path), "--strict"]) == 1
    assert "FAILED" in capsys.readouterr().out
    assert main(["check", str(tmp_path / "missing.nc")]) == 2


def test_cli_strict_fails_on_the_adequacy_gate(tmp_path, capsys):
    """Converged chains but a systematic misfit: the adequacy gate fails, and so does check --strict."""
    from uqbridge.calibration import identifiability, residual_checks
    from uqbridge.calibration.result import _finish
    from uqbridge.distributions import Normal

    rng = np.random.default_rng(2)
    a = rng.normal(0.3, 0.05, size=(4, 500))
    x = np.linspace(0, 1, 30)
    idata = az.from_dict(
        posterior={"a": a}, sample_stats={"diverging": np.zeros((4, 500), bool)},
        posterior_predictive={"y": rng.normal(0, 0.75, size=(4, 500, 30))}, observed_data={"y": np.sin(6 * x)},
        log_likelihood={"y": -0.5 * ((a[..., None] - 0.3) / 0.05) ** 2 + 0 * x},
        constant_data={"x": x}, dims={"y": ["row"], "x": ["row"]}, coords={"row": np.arange(30)},
    )
    d = diagnose(idata, var_names=["a"])
    res = _finish(idata, d, [], model=linear_model(), epistemic=("a",), hierarchical=(), surrogate=None, attrs={},
                  residuals=residual_checks(idata), identifiability=identifiability(idata, {"a": Normal(0, 1)}))
    assert res.converged and not res.adequate and not res.passed
    path = tmp_path / "misfit.nc"
    res.save(path)
    assert main(["check", str(path), "--strict"]) == 1
    out = capsys.readouterr().out
    assert "convergence gate: passed; adequacy gate: FAILED" in out and "lag-1 autocorrelation" in out


@pytest.mark.parametrize("likelihood", ["normal", "student_t"])
def test_log_likelihood_matches_scipy(likelihood):
    """The observed-data log density of the built model equals scipy.stats' at a fixed (a, b)."""
    from scipy import stats

    from uqbridge.calibration import build_model
    from uqbridge.calibration.build import STUDENT_T_NU

    data = linear_data()
    data.loc[3, "y"] = np.nan  # not measured: must not enter the likelihood
    pmm = build_model(linear_model(), data, noise=SIGMA, likelihood=likelihood)
    logp = pmm.compile_logp(vars=pmm.observed_RVs, jacobian=False)({"a": 0.5, "b": 1.1})
    x, y = data["x"].to_numpy(), data["y"].to_numpy()
    ok = np.isfinite(y)
    mu = 0.5 + 1.1 * x[ok]
    dist = stats.norm(mu, SIGMA) if likelihood == "normal" else stats.t(STUDENT_T_NU, mu, SIGMA)
    # rel 1e-8: PyTensor's and SciPy's log-gamma of the Student-t constant differ at the 1e-10 level
    assert float(logp) == pytest.approx(float(dist.logpdf(y[ok]).sum()), rel=1e-8)


def test_predictive_check_coverage_and_p_values():
    """Replicates and data from the same N(0, 1): coverage ~ Binomial(n, 0.94)/n (4 sd), p-values inside (0, 1).

    Shifted data (mean 3): the p-value of the mean is 0 (Gelman et al., BDA3 §6.3).
    """
    from uqbridge.calibration import predictive_check

    rng = np.random.default_rng(5)
    n = 400
    rep = rng.normal(size=(2, 1000, n))
    good = az.from_dict(posterior_predictive={"y": rep}, observed_data={"y": rng.normal(size=n)})
    check = predictive_check(good).sel(output="y")
    assert abs(float(check["coverage"]) - 0.94) < 4 * np.sqrt(0.94 * 0.06 / n)
    assert 0.001 < float(check["p_mean"]) < 0.999 and 0.001 < float(check["p_std"]) < 0.999
    bad = az.from_dict(posterior_predictive={"y": rep}, observed_data={"y": rng.normal(size=n) + 3.0})
    assert float(predictive_check(bad)["p_mean"].sel(output="y")) == 0.0
    with pytest.raises(ValueError, match=r"prob must lie in \(0, 1\), got 1.5"):
        predictive_check(good, prob=1.5)
