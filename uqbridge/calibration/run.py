"""``calibrate``: measured macro data + a declared forward model → posterior of the micro parameters.

Chooses the sampling path (NUTS on the differentiable model, SMC on a black box, NUTS on a polynomial
chaos surrogate), samples with per-chain seeds, adds posterior predictive draws and gates on diagnostics.
"""

from __future__ import annotations

import time
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import pymc as pm
import xarray as xr
from pytensor.graph.traversal import ancestors

from .. import checks
from .._deprecation import NOT_GIVEN
from ..model import ForwardModel
from ..results import provenance, seed_attr
from .adequacy import Adequacy, identifiability, residual_checks
from .blackbox import ModelOp
from .build import LIKELIHOODS, build_model, discrepancy_meta, noise_name, parse_noise
from .data import Observations, observations
from .diagnostics import Thresholds, diagnose, predictive_check
from .result import CalibrationResult, _finish
from .sampling import SAMPLERS, Sampling, sampling_from_keywords
from .surrogate import SURROGATE_TOLERANCE, prior_model, surrogate_check

if TYPE_CHECKING:
    from .._types import SeedLike

__all__ = ["PATHS", "SAMPLERS", "Sampling", "calibrate"]

PATHS = ("auto", "nuts", "smc", "surrogate")


def _constant_data(obs: Observations) -> xr.Dataset:
    data = {k: ("row", v) for k, v in obs.conditions.items()}
    data["specimen"] = ("row", np.asarray(obs.specimens, dtype=str)[obs.specimen])
    return xr.Dataset(data, coords={"row": np.arange(obs.n)})


def _sample_nutpie(pmm: pm.Model, s: Sampling, *, seed: int) -> Any:
    """nutpie's NUTS (optional extra) with the record's options; the trace holds the model's variables only."""
    try:
        import nutpie
    except ImportError:  # pragma: no cover - optional dependency
        raise ImportError("sampler='nutpie' needs the nutpie package: pip install 'uqbridge[nutpie]'") from None
    compiled = nutpie.compile_pymc_model(pmm)
    idata = nutpie.sample(
        compiled, draws=s.draws, tune=s.tune, chains=s.chains, cores=s.cores, seed=seed, progress_bar=False,
        target_accept=s.target_accept, low_rank_modified_mass_matrix=s.mass_matrix == "dense", save_warmup=False,
    )
    # nutpie also stores the unconstrained values (``x_log__``); PyMC's trace holds only the model's variables
    transformed = [v for v in idata.posterior.data_vars if str(v).endswith("__")]
    idata.posterior = idata.posterior.drop_vars(transformed)
    return idata


def _sample_nuts(pmm: pm.Model, s: Sampling, *, seed: int) -> Any:
    """PyMC's NUTS with the step built once by ``init_nuts``: the same draws as ``pm.sample(init=...)``.

    ``pm.sample`` without a step first asks, variable by variable, whether the log density has a gradient
    (one symbolic ``grad`` per free variable, seconds on a surrogate chain's graph) before it builds the
    very NUTS step that needs all of them; here the step is built directly. The per-chain seeds and the
    jittered starting points are those ``pm.sample`` derives from ``seed``.
    """
    from pymc.util import get_random_generator

    chain_seeds = [int(g.integers(2**30)) for g in get_random_generator(seed).spawn(s.chains)]
    init = "jitter+adapt_full" if s.mass_matrix == "dense" else "jitter+adapt_diag"
    starts, step = pm.init_nuts(init=init, chains=s.chains, model=pmm, random_seed=chain_seeds, progressbar=False,
                                tune=s.tune, target_accept=s.target_accept)
    return pm.sample(
        draws=s.draws, tune=s.tune, chains=s.chains, cores=s.cores, step=step, initvals=starts, random_seed=seed,
        model=pmm, progressbar=False, compute_convergence_checks=False,
    )


def _nuisance_priors(noises: Mapping[str, Any], meta: Mapping[str, Any]) -> dict[str, Any]:
    """Priors of the free variables that are not model inputs (noise scales, discrepancy terms), as SciPy."""
    from scipy import stats

    out: dict[str, Any] = {}
    for o, spec in noises.items():
        if spec.kind == "unknown":
            out[noise_name(o)] = stats.halfnorm(scale=spec.scale)
    for m in meta.values():
        names = m["names"]
        if m["kind"] == "relative":
            out[names["kappa"]] = stats.halfnorm(scale=m["scale"])
        else:
            out[names["eta"]] = stats.halfnorm(scale=m["amplitude"])
            out[names["ell"]] = stats.lognorm(s=m["lengthscale"][1], scale=m["lengthscale"][0])
            out[names["beta"]] = stats.norm()
    return out


def _checked_path(model: ForwardModel, *, path: str, likelihood: str, thresholds: Any, adequacy: Any) -> str:
    """Refuse bad options (the sampler's are checked by :class:`Sampling`) and resolve ``path="auto"``."""
    if path not in PATHS:
        raise ValueError(f"path must be one of {PATHS}, got {path!r}")
    if likelihood not in LIKELIHOODS:
        raise ValueError(f"likelihood must be one of {LIKELIHOODS}, got {likelihood!r}")
    if not isinstance(thresholds, Thresholds):
        raise TypeError(f"thresholds must be a Thresholds, got {type(thresholds).__name__}")
    if not isinstance(adequacy, Adequacy):
        raise TypeError(f"adequacy must be an Adequacy, got {type(adequacy).__name__}")
    if path == "auto":
        path = "nuts" if model.differentiable else "smc"
    if path == "nuts" and not model.differentiable:
        raise ValueError(
            f"path='nuts' needs gradients but model {model.name!r} is not differentiable; "
            "use path='smc' (black box) or path='surrogate' (polynomial chaos + NUTS)"
        )
    return path


def _sample(pmm: pm.Model, obs: Observations, *, method: str, s: Sampling, sample_seed: int, ppc_seed: int) -> Any:
    """Sample the posterior, then add the pointwise log-likelihood and the posterior predictive (InferenceData)."""
    with pmm, warnings.catch_warnings():
        # PyMC's own convergence warnings are replaced by the gate in calibrate
        warnings.filterwarnings("ignore", message=".*(divergen|r_hat|effective sample size).*")
        # the user asked for mass_matrix="dense"; PyMC's note that full adaptation is experimental adds nothing
        warnings.filterwarnings("ignore", message="QuadPotentialFullAdapt is an experimental feature")
        if method == "nuts" and s.sampler == "nutpie":
            idata = _sample_nutpie(pmm, s, seed=sample_seed)
        elif method == "nuts":
            idata = _sample_nuts(pmm, s, seed=sample_seed)
        else:
            idata = pm.sample_smc(
                draws=s.draws, chains=s.chains, cores=s.cores, random_seed=sample_seed, progressbar=False,
                compute_convergence_checks=False,
            )
        pm.compute_log_likelihood(idata, var_names=list(obs.outputs), extend_inferencedata=True, progressbar=False)
        pm.sample_posterior_predictive(
            idata, var_names=list(obs.outputs), random_seed=ppc_seed, extend_inferencedata=True,
            progressbar=False,
        )
    return idata


@dataclass(frozen=True)
class _Runs:
    """True-model run counts and checks of one calibration: surrogate check, failed calls, extra gate reasons."""

    check: xr.Dataset | None
    extra: list[str]
    n_runs: int | str
    n_failed: int | str
    failed_note: str


def _model_runs(
    model: ForwardModel, graph_model: ForwardModel, pce: Any, pmm: pm.Model, idata: Any, obs: Observations,
    names: list[str], noises: Mapping[str, Any], *, cores: int, check_rng: np.random.Generator,
) -> _Runs:
    """Count the true-model runs; check a surrogate against the true model, or report a black box's failed calls."""
    extra: list[str] = []
    check = None
    n_runs: int | str = "n/a (compiled tensor graph)"
    n_failed: int | str = 0 if cores == 1 or graph_model.differentiable else "n/a (sampled in worker processes)"
    failed_note = ""
    if pce is not None:
        samples = {
            n: np.asarray(idata.posterior[n].stack(_s=("chain", "draw")).transpose("_s", ...).values)
            for n in names
        }
        check = surrogate_check(model, graph_model, obs, samples, noises, rng=check_rng)
        check.attrs["n_runs_fit"] = int(pce.n_runs)
        n_runs = int(pce.n_runs) + int(check.attrs["n_runs"])
        bad = check["relative_rmse"].values > SURROGATE_TOLERANCE
        if bad.any():
            extra.append(
                f"surrogate RMS error exceeds {SURROGATE_TOLERANCE} noise scales for outputs "
                f"{list(check['output'].values[bad])} (relative rmse "
                f"{np.round(check['relative_rmse'].values[bad], 3).tolist()}): raise surrogate_runs or use path='smc'"
            )
    elif not graph_model.differentiable:
        ops = [v.owner.op for v in ancestors(pmm.observed_RVs) if v.owner and isinstance(v.owner.op, ModelOp)]
        # with cores > 1 the Op runs in worker processes and its counter stays here at zero
        n_runs = ops[0].n_runs if ops and cores == 1 else "n/a (sampled in worker processes)"
        n_failed = ops[0].n_failed_calls if ops and cores == 1 else n_failed
        if ops and ops[0].n_failed_calls:
            failed_note = (
                f"the model failed at {ops[0].n_failed_calls} of {ops[0].n_calls} parameter points the sampler "
                f"tried (first: {ops[0].first_failure}); those points were given zero likelihood, which "
                "restricts the posterior to where the model runs: fix the model there or narrow the priors"
            )
            # stacklevel 3: the warning points at the caller of calibrate, as calibrate's own warning does
            warnings.warn(f"calibration of model {model.name!r}: {failed_note}", RuntimeWarning, stacklevel=3)
    return _Runs(check, extra, n_runs, n_failed, failed_note)


def calibrate(
    model: ForwardModel,
    data: Any,
    *,
    outputs: Sequence[str] | None = None,
    conditions: Mapping[str, str] | None = None,
    specimen: str | None = "specimen",
    noise: Any = "unknown",
    likelihood: str = "normal",
    discrepancy: Any = None,
    path: str = "auto",
    sampling: Sampling | None = None,
    surrogate_runs: int | None = None,
    thresholds: Thresholds = Thresholds(),
    adequacy: Adequacy = Adequacy(),
    rng: SeedLike = None,
    sampler: Any = NOT_GIVEN,
    mass_matrix: Any = NOT_GIVEN,
    draws: Any = NOT_GIVEN,
    tune: Any = NOT_GIVEN,
    chains: Any = NOT_GIVEN,
    cores: Any = NOT_GIVEN,
    target_accept: Any = NOT_GIVEN,
) -> CalibrationResult:
    """Bayesian calibration of a forward model's uncertain inputs on observed outputs.

    Parameters
    ----------
    model : ForwardModel
        Priors are the declared distributions of its epistemic inputs (no second copy).
    data : pandas.DataFrame or xarray.Dataset
        One row per observation: observed outputs (NaN where not measured), controlled conditions
        (model inputs), optionally a specimen column. See :func:`observations`.
    outputs, conditions, specimen
        Which outputs to fit, ``{data column: model input}`` for renamed conditions, and the name of
        the specimen column. Aleatory inputs not in the data get one latent per specimen with the
        declared distribution as population model.
    noise : ('known', sigma), 'unknown', ('unknown', prior_scale), number, or dict per output
        See :func:`build_model`.
    likelihood : {"normal", "student_t"}
    discrepancy : None, 'gp', 'relative', GPDiscrepancy, RelativeDiscrepancy, or dict per output
        Model discrepancy calibrated with the parameters (Kennedy & O'Hagan 2001): ``'gp'`` adds a
        Gaussian process over the conditions (Hilbert-space approximation), ``'relative'`` a
        multiplicative per-point error. It is part of the posterior predictive, of :func:`predict`
        and of the pushforward. See :mod:`uqbridge.calibration.discrepancy`.
    path : {"auto", "nuts", "smc", "surrogate"}
        ``nuts``: NUTS on the model's PyTensor expression (differentiable models). ``smc``:
        sequential Monte Carlo, the model wrapped as a black-box Op if it is not differentiable.
        ``surrogate``: fit a polynomial chaos over the prior (:func:`uqbridge.pce.fit_pce`), NUTS on
        it, then check it against the true model at posterior draws. ``auto``: ``nuts`` if the model
        is differentiable, else ``smc``.
    sampling : Sampling, optional
        Sampler options (:class:`~uqbridge.calibration.Sampling`: draws, tune, chains, cores,
        target_accept, mass_matrix, sampler); default ``Sampling()``. ``mass_matrix="dense"`` whitens
        correlated posteriors (ridges such as alpha–k1 in Kocks–Mecking).
    surrogate_runs : int, optional
        True-model runs for the surrogate fit (default: chosen by ``fit_pce``).
    thresholds : Thresholds
        Convergence gate (R-hat, ESS, divergences).
    adequacy : Adequacy
        Adequacy gate: predictive coverage, residual checks, parameters not informed by the data
        (:func:`~uqbridge.calibration.residual_checks`, :func:`~uqbridge.calibration.identifiability`).
    rng : int, numpy Generator or None
        Seeds every chain, the posterior predictive and the surrogate fit; same seed, same numbers.
    sampler, mass_matrix, draws, tune, chains, cores, target_accept
        Deprecated spellings of the :class:`Sampling` fields (each warns with a ``DeprecationWarning``).

    Returns
    -------
    CalibrationResult
        ``passed`` is True only when both the convergence and the adequacy gate pass; otherwise the
        reasons are in ``warnings`` and a ``RuntimeWarning`` is issued. The InferenceData holds the
        pointwise ``log_likelihood`` (for ``az.loo`` / ``az.compare``).

    Examples
    --------
    >>> import pandas as pd
    >>> from uqbridge import ForwardModel, Input, Normal, Output
    >>> line = ForwardModel("line", lambda x, a, xp=np: {"y": a * x},
    ...                     [Input("x", Normal(0, 1)), Input("a", Normal(0, 10), "epistemic")],
    ...                     [Output("y")], differentiable=True)
    >>> data = pd.DataFrame({"x": [1.0, 2.0, 3.0], "y": [2.1, 3.9, 6.0]})
    >>> res = calibrate(line, data, noise=("known", 0.1), sampling=Sampling(draws=300, tune=300, chains=2),
    ...                 thresholds=Thresholds(ess=100), rng=1)
    >>> res.passed, round(float(res.idata.posterior["a"].mean()), 1)
    (True, 2.0)
    """
    s = sampling_from_keywords(sampling, {
        "sampler": sampler, "mass_matrix": mass_matrix, "draws": draws, "tune": tune, "chains": chains, "cores": cores,
        "target_accept": target_accept,
    }, "calibrate")
    path = _checked_path(model, path=path, likelihood=likelihood, thresholds=thresholds, adequacy=adequacy)
    seed = rng
    rng = checks.generator(rng, "calibrate: rng")
    # PyMC spawns independent per-chain streams from one integer seed (SeedSequence)
    sample_seed, ppc_seed = (int(s) for s in rng.integers(2**31 - 1, size=2))
    check_rng, pce_rng = rng.spawn(2)

    obs = observations(model, data, outputs=outputs, conditions=conditions, specimen=specimen)
    noises = parse_noise(noise, obs.outputs)
    meta = discrepancy_meta(obs, discrepancy)
    start = time.perf_counter()
    graph_model, pce = model, None
    if path == "surrogate":
        from ..pce import fit_pce

        pce = fit_pce(prior_model(model, obs), n_runs=surrogate_runs, rng=pce_rng)
        graph_model = pce.model
    pmm = build_model(
        graph_model, obs, noise=noises, likelihood=likelihood, discrepancy=discrepancy,
        blackbox=not graph_model.differentiable,
    )
    method = "smc" if path == "smc" else "nuts"
    engine = s.sampler if method == "nuts" else "pymc"
    idata = _sample(pmm, obs, method=method, s=s, sample_seed=sample_seed, ppc_seed=ppc_seed)
    wall = time.perf_counter() - start
    idata.add_groups({"constant_data": _constant_data(obs)})

    names = [*obs.epistemic, *obs.hierarchical] + [noise_name(o) for o, s in noises.items() if s.kind == "unknown"]
    diagnostics = diagnose(idata, var_names=names, thresholds=thresholds)
    residuals = residual_checks(idata, adequacy)
    priors = {n: model.inputs[n].distribution for n in [*obs.epistemic, *obs.hierarchical]}
    table = identifiability(idata, priors, nuisance=_nuisance_priors(noises, meta), gated=list(obs.epistemic),
                            adequacy=adequacy)
    runs = _model_runs(model, graph_model, pce, pmm, idata, obs, names, noises, cores=s.cores, check_rng=check_rng)
    attrs = provenance(
        model, "calibrate", path=path, sampler=method, engine=engine, mass_matrix=s.mass_matrix,
        likelihood=likelihood, draws=s.draws, tune=s.tune if method == "nuts" else 0, chains=s.chains, seed=seed_attr(seed), wall_time_s=wall,
        noise={o: [s.kind, s.scale] for o, s in noises.items()}, n_runs=runs.n_runs,
        n_failed=runs.n_failed, failed_note=runs.failed_note,
    )
    result = _finish(
        idata, diagnostics, runs.extra, model=model, epistemic=obs.epistemic, hierarchical=obs.hierarchical,
        surrogate=runs.check, attrs=attrs, predictive=predictive_check(idata), residuals=residuals,
        identifiability=table, discrepancy=meta,
    )
    if not result.passed:
        warnings.warn(
            f"calibration of model {model.name!r} failed its checks; do not use the posterior as is:\n  - "
            + "\n  - ".join(result.warnings),
            RuntimeWarning,
            stacklevel=2,
        )
    return result
