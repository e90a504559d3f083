"""Declarative studies: a TOML file (model, input overrides, analyses, budgets, seed, output folder).

A study file is data, never executed: every key is checked, unknown keys are rejected with the
valid choices. Its model is a registered name (``[model] name = ...``: no code of the study's author
runs) or, for a user's own model or chain, ``[model] path = "my_chain.py:build"`` (relative to the
study file): that Python file is imported and run, like ``python my_chain.py``. ``run_study`` runs the analyses in order and writes netCDF data, a summary and an
HTML report to ``<output>/<name>/``. An optional ``[execution]`` table (``backend``, ``workers``,
``address``, ``timeout``, ``batch_size``) says where the model runs: it is passed to every
analysis that evaluates through a backend.
"""

from __future__ import annotations

import copy
import json
import os
import time
import tomllib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import xarray as xr

from . import checks
from .distributions import distribution_from_dict
from .model import ForwardModel
from .registry import get_model, model_from_file

if TYPE_CHECKING:
    from ._types import SeedLike
    from .execution.batch import Backend
    from .pce import PolynomialChaos
    from .reliability import LimitState

__all__ = ["ANALYSES", "Analysis", "Produced", "Study", "analysis_keys", "draw_seed", "check_execution", "load_study", "run_study"]

_STUDY_KEYS = {"name", "title", "description", "seed", "output"}
_MODEL_KEYS = {"name", "path", "options", "inputs"}
_TOP_KEYS = {"study", "model", "analyses", "execution"}
MAX_WORKERS_PER_CORE = 4  # local worker processes per core: beyond this a study only thrashes
_EXECUTION_KEYS = {"backend", "workers", "address", "timeout", "batch_size"}


@dataclass(frozen=True)
class Study:
    """A validated study: what to run, not how (see :func:`run_study`)."""

    name: str
    model: ForwardModel
    analyses: tuple[dict[str, Any], ...]
    seed: int | None = None
    title: str = ""
    description: str = ""
    output: str = "results"
    source: str = ""
    model_spec: dict[str, Any] = field(default_factory=dict)
    quick: bool = False
    execution: dict[str, Any] = field(default_factory=dict)

    @property
    def folder(self) -> Path:
        return Path(self.output) / self.name


class StudyError(ValueError):
    """A study file that cannot be run, with the file, the place and the fix in the message."""


def _unknown(where: str, keys: set[str], valid: set[str]) -> None:
    bad = sorted(keys - valid)
    if bad:
        raise StudyError(f"{where}: unknown key(s) {bad}; valid keys: {sorted(valid)}")


def load_study(path: str | os.PathLike[str], *, quick: bool = False) -> Study:
    """Read and validate a study file.

    Parameters
    ----------
    path : path to a ``.toml`` study file
    quick : bool
        Apply each analysis's ``quick = {...}`` overrides (reduced budgets for tests and demos).

    Examples
    --------
    >>> import tempfile, pathlib
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "s.toml"
    >>> _ = p.write_text('[study]\\nname = "demo"\\nseed = 1\\n[model]\\nname = "ishigami"\\n'
    ...                  '[[analyses]]\\nkind = "propagate"\\nn = 64\\n')
    >>> load_study(p).analyses[0]["kind"]
    'propagate'
    """
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"no study file at {str(path)!r}")
    if not path.is_file():
        raise StudyError(f"{str(path)!r} is not a study file (a folder?); give the path of a .toml study file")
    try:
        spec = tomllib.loads(path.read_text())
    except tomllib.TOMLDecodeError as err:
        raise StudyError(f"{path}: not valid TOML ({err})") from None
    except RecursionError:
        raise StudyError(f"{path}: arrays or tables nest too deeply to read; a study file needs a few levels") from None
    except UnicodeDecodeError:
        raise StudyError(f"{path}: not a text (TOML) file") from None
    where = str(path)
    _unknown(where, set(spec), _TOP_KEYS)
    for key in ("study", "model", "analyses"):
        if key not in spec:
            raise StudyError(f"{where}: missing [{key}] section")
    for key, example in (("study", 'name = "demo"'), ("model", 'name = "ishigami"')):
        _table(spec[key], f"{where}: [{key}]", f"write it as a table:\n[{key}]\n{example}")
    study = spec["study"]
    _unknown(f"{where} [study]", set(study), _STUDY_KEYS)
    for key in ("title", "description"):
        if key in study and not isinstance(study[key], str):
            raise StudyError(f"{where} [study]: {key} must be a string, got {study[key]!r}")
    _check_output_folder(study.get("output", "results"), f"{where} [study]")
    if "name" not in study or not str(study["name"]).replace("_", "").replace("-", "").isalnum():
        raise StudyError(f"{where} [study]: 'name' is required and must be alphanumeric/underscore (the results folder)")
    model_spec = spec["model"]
    _unknown(f"{where} [model]", set(model_spec), _MODEL_KEYS)
    given = [k for k in ("name", "path") if k in model_spec]
    if len(given) != 1 or not isinstance(model_spec[given[0]], str):
        raise StudyError(f"{where} [model]: give either 'name' (a registered model, see `uqbridge models`) or "
                         "'path' (\"my_model.py:build\", relative to the study file: that Python file is run)")
    _table(model_spec.get("options", {}), f"{where} [model] options", "write e.g. options = { a = 7.0 }")
    _table(model_spec.get("inputs", {}), f"{where} [model] inputs",
           "write e.g. inputs = { x3 = 0.0 } or [model.inputs] x3 = { type = \"Normal\", mu = 0, sigma = 1 }")
    try:
        if "path" in model_spec:
            model = model_from_file(_path_spec(model_spec["path"], where), base=path.parent, **model_spec.get("options", {}))
        else:
            model = get_model(model_spec["name"], **model_spec.get("options", {}))
    except (KeyError, TypeError, FileNotFoundError) as err:
        raise StudyError(f"{where} [model]: {err.args[0] if err.args else err}") from None
    overrides: dict[str, Any] = {}
    for name, value in model_spec.get("inputs", {}).items():
        if name not in model.inputs:
            raise StudyError(
                f"{where} [model.inputs]: unknown input {name!r}; inputs of {model.name!r}: {list(model.inputs.names)}"
            )
        if isinstance(value, Mapping) and "type" not in value:
            raise StudyError(f"{where} [model.inputs] {name}: a distribution table needs its type, e.g. "
                             f'{name} = {{ type = "Normal", mu = 0, sigma = 1 }}; got keys {sorted(value)}')
        try:
            overrides[name] = distribution_from_dict(dict(value)) if isinstance(value, Mapping) else float(value)
        except (ValueError, TypeError) as err:
            raise StudyError(f"{where} [model.inputs] {name}: {err}") from None
        if isinstance(value, Mapping):
            try:  # e.g. LogNormal mu = 1000 overflows here, not deep inside the first analysis
                moments: Any = (overrides[name].mean, overrides[name].std)
                usable = all(np.isfinite(moments))
            except (ValueError, OverflowError, ZeroDivisionError) as err:
                moments, usable = f"not computable ({type(err).__name__}: {err})", False
            if not usable:
                hint = ("; for a LogNormal, mu and sigma are those of log(x): mu = log(median)"
                        if value.get("type") == "LogNormal" else "")
                raise StudyError(f"{where} [model.inputs] {name}: {dict(value)} is not a usable distribution: its "
                                 f"mean and standard deviation are {moments}{hint}")
    if overrides:
        model = model.with_inputs(**overrides)
    analyses = []
    if not isinstance(spec["analyses"], list) or not spec["analyses"]:
        raise StudyError(f"{where}: [[analyses]] must list at least one analysis")
    for k, analysis in enumerate(spec["analyses"]):
        _table(analysis, f"{where} analyses[{k}]", 'write each as a table: [[analyses]] kind = "propagate"')
        analyses.append(_check_analysis(dict(analysis), f"{where} analyses[{k}]", quick))
    seed = study.get("seed")
    if seed is not None and (isinstance(seed, bool) or not isinstance(seed, int) or seed < 0):
        raise StudyError(f"{where} [study]: seed must be an integer >= 0, got {seed!r}")
    execution = check_execution(spec.get("execution", {}), f"{where} [execution]")
    return Study(
        name=str(study["name"]),
        model=model,
        analyses=tuple(analyses),
        seed=seed,
        title=study.get("title", ""),
        description=study.get("description", ""),
        output=study.get("output", "results"),
        source=str(path),
        model_spec=model_spec,
        quick=bool(quick),
        execution=execution,
    )


def _path_spec(spec: str, where: str) -> str:
    if ":" not in spec or not spec.rpartition(":")[0].endswith(".py"):
        raise StudyError(f"{where} [model]: path must be 'file.py:object' (a ForwardModel, a chain or a function "
                         f"returning one, relative to the study file), got {spec!r}")
    return spec


def check_execution(table: Any, where: str = "[execution]") -> dict[str, Any]:
    """Validate an ``[execution]`` table: where and in what batches the study's model runs.

    ``backend`` is one of ``inprocess`` (default), ``processes`` or ``dask``; ``workers`` the
    process or LocalCluster worker count; ``address`` a Dask scheduler (implies ``dask``);
    ``timeout`` seconds a batch may run; ``batch_size`` points per batch.

    Examples
    --------
    >>> check_execution({"backend": "processes", "workers": 2})
    {'backend': 'processes', 'workers': 2}
    >>> check_execution({"backend": "threads"})
    Traceback (most recent call last):
    ...
    uqbridge.study.StudyError: [execution]: backend must be one of ['inprocess', 'processes', 'dask'], got 'threads'
    """
    from .execution.backends import BACKENDS

    _table(table, where, 'write it as a table:\n[execution]\nbackend = "processes"\nworkers = 2')
    _unknown(where, set(table), _EXECUTION_KEYS)
    table = dict(table)
    if "backend" in table and table["backend"] not in BACKENDS:
        raise StudyError(f"{where}: backend must be one of {list(BACKENDS)}, got {table['backend']!r}")
    for key in ("workers", "batch_size"):
        value = table.get(key)
        if value is not None and (isinstance(value, bool) or not isinstance(value, int) or value < 1):
            raise StudyError(f"{where}: {key} must be a positive integer, got {value!r}")
    workers, cores = table.get("workers"), os.cpu_count() or 1
    if workers is not None and not table.get("address") and workers > MAX_WORKERS_PER_CORE * cores:
        raise StudyError(f"{where}: workers = {workers} would start {workers} processes on this machine's {cores} "
                         f"core(s); give at most {MAX_WORKERS_PER_CORE * cores} (usually {cores})")
    timeout = table.get("timeout")
    if timeout is not None and (isinstance(timeout, bool) or not isinstance(timeout, (int, float)) or not timeout > 0):
        raise StudyError(f"{where}: timeout must be a positive number of seconds, got {timeout!r}")
    address = table.get("address")
    if address is not None and (not isinstance(address, str) or not address.strip()):
        raise StudyError(f"{where}: address must be a Dask scheduler address such as 'tcp://host:8786', got {address!r}")
    try:
        make_study_backend(table)  # lazy: checks the combination, starts nothing
    except (ValueError, TypeError) as err:
        raise StudyError(f"{where}: {err}") from None
    return table


def make_study_backend(execution: Mapping[str, Any]) -> Any:
    """The backend an ``[execution]`` table describes (nothing starts before its first use)."""
    from .execution.backends import make_backend

    kind = "dask" if execution.get("address") else execution.get("backend", "inprocess")
    return make_backend(kind, n_workers=execution.get("workers"), address=execution.get("address"),
                        timeout=execution.get("timeout"))


def _table(value: Any, where: str, fix: str) -> None:
    if not isinstance(value, Mapping):
        raise StudyError(f"{where} must be a table, got {value!r} ({type(value).__name__}); {fix}")


def _check_output_folder(output: Any, where: str) -> None:
    """``output`` is a results folder inside the project: relative, without ``..``."""
    if not isinstance(output, str) or not output.strip():
        raise StudyError(f"{where}: output must be a non-empty folder name, got {output!r}")
    path = Path(output)
    if path.is_absolute() or ".." in path.parts:
        raise StudyError(
            f"{where}: output {output!r} points outside the current folder; a study writes only below it "
            "(e.g. output = \"results\"); choose another place with `uqbridge run --out FOLDER`"
        )


# options that count something: positive integers, never clamped or truncated silently
_COUNTS = {"n", "batch_size", "n_outer", "n_inner", "n_bootstrap", "n_runs", "max_runs", "n_levels", "degree"}


def _check_values(options: Mapping[str, Any], where: str) -> None:
    for key, value in options.items():
        if key in _COUNTS and (isinstance(value, bool) or not isinstance(value, int) or value < 1):
            raise StudyError(f"{where}: {key} must be a positive integer, got {value!r}")
        if key == "methods":
            if not isinstance(value, list) or not all(isinstance(m, str) for m in value):
                hint = f"; write methods = [{value!r}]" if isinstance(value, str) else ""
                raise StudyError(f"{where}: methods must be a list of method names, got {value!r}{hint}")
            repeated = sorted({m for m in value if value.count(m) > 1})
            if repeated:
                raise StudyError(f"{where}: methods lists {repeated} more than once; give each method once")
        if key == "quantiles" and (
            not isinstance(value, list) or not value
            or not all(not isinstance(q, bool) and isinstance(q, (int, float)) and 0 < q < 1 for q in value)
        ):
            hint = f"; write quantiles = [{value}]" if isinstance(value, (str, float)) else ""
            raise StudyError(f"{where}: quantiles must be a list of numbers in (0, 1), e.g. [0.05, 0.5, 0.95], "
                             f"got {value!r}{hint}")


def _check_analysis(analysis: dict[str, Any], where: str, quick: bool) -> dict[str, Any]:
    kind = analysis.pop("kind", None)
    if kind not in ANALYSES:
        raise StudyError(f"{where}: kind must be one of {sorted(ANALYSES)}, got {kind!r}")
    overrides = analysis.pop("quick", {})
    if not isinstance(overrides, Mapping):
        raise StudyError(f"{where}: 'quick' must be a table of reduced-budget overrides")
    label = analysis.pop("label", kind)
    valid_keys = set(analysis_keys(kind))
    _unknown(f"{where} ({kind})", set(analysis), valid_keys)
    _unknown(f"{where} ({kind}) quick", set(overrides), valid_keys)
    _check_values(analysis, f"{where} ({kind})")
    _check_values(overrides, f"{where} ({kind}) quick")
    if quick:
        analysis.update(overrides)
    return {"kind": kind, "label": label, "options": analysis}


# ---- analyses ------------------------------------------------------------------------------------
@dataclass(frozen=True)
class _Execution:
    """Where the analyses evaluate the model: passed to every analysis function that takes it."""

    backend: Backend | None = None
    batch_size: int | None = None


@dataclass(frozen=True)
class Produced:
    """What one analysis step returns: its result datasets by name and, for a step that replaces
    the model (a surrogate, a posterior), the model the following steps run on; a calibrate step also
    returns its verdict, which every later result carries."""

    results: dict[str, xr.Dataset]
    model: ForwardModel | None = None
    calibration: Mapping[str, Any] | None = None  # a calibrate step's verdict: stamp, inputs, compare


@dataclass(frozen=True)
class Analysis:
    """One analysis kind a study may name: everything the runner, the reports, ``summary.json`` and
    the CLI need to know about it, in one record.

    ``run(model, options, rng, execution) -> Produced``; ``keys`` the options a study may give;
    ``produces`` the result kinds it writes (each has a headline in
    :data:`uqbridge.report.headline.HEADLINES` and a report section in
    :data:`uqbridge.report.study.SECTIONS`); ``cli`` the ``uqbridge`` sub-command that runs the same
    analysis on its own (None if only study files do); ``about`` one line for the docs.
    """

    run: Callable[[ForwardModel, dict[str, Any], Any, _Execution], Produced]
    keys: frozenset[str]
    produces: tuple[str, ...]
    about: str
    cli: str | None = None


def _only_outputs(model: ForwardModel, outputs: Any, where: str) -> ForwardModel:
    """``model`` restricted to ``outputs`` (a step analyses what it names; the model still computes all)."""
    if outputs is None:
        return model
    if isinstance(outputs, str):
        outputs = [outputs]
    if not isinstance(outputs, (list, tuple)) or not outputs or not all(isinstance(o, str) for o in outputs):
        raise StudyError(f"{where}: outputs must be a non-empty list of output names, got {outputs!r}")
    unknown = [o for o in outputs if o not in model.output_names]
    if unknown:
        raise StudyError(f"{where}: unknown output(s) {unknown}; outputs of {model.name!r}: {list(model.output_names)}")
    return ForwardModel(model.name, _SelectOutputs(model.function, tuple(outputs)), model.inputs,
                        tuple(model.output(o) for o in outputs), model.description,
                        differentiable=model.differentiable)


@dataclass(frozen=True)
class _SelectOutputs:
    """Picklable: the wrapped function's outputs ``names`` only."""

    function: Callable[..., Mapping[str, Any]]
    names: tuple[str, ...]

    def __call__(self, *args: Any, **values: Any) -> dict[str, Any]:
        out = self.function(*args, **values)
        return {k: out[k] for k in self.names}


def _propagate(model: ForwardModel, options: dict[str, Any], rng: SeedLike, ex: _Execution) -> Produced:
    from .propagate import propagate

    options = dict(options)
    n = options.pop("n", 1024)
    model = _only_outputs(model, options.pop("outputs", None), "propagate")
    options.setdefault("batch_size", ex.batch_size)
    return Produced({"propagate": propagate(model, n, rng=rng, backend=ex.backend, **options)})


def _decompose(model: ForwardModel, options: dict[str, Any], rng: SeedLike, ex: _Execution) -> Produced:
    from .variance import decompose

    return Produced({"decompose": decompose(model, rng=rng, backend=ex.backend, **options)})


def reliability_methods() -> dict[str, Callable[..., xr.Dataset]]:
    """The reliability methods a study may name: :data:`uqbridge.reliability.registry.METHODS`."""
    from .reliability.registry import METHODS

    return METHODS


# Registered reliability methods all take ``(ls, *, rng=..., backend=...)``; these also take a FORM
# result to reuse (checked against the signatures by tests/test_study.py's contract test).
_REUSES_FORM = frozenset({"sorm", "importance_sampling"})  # take form_result=


def _limit_state(model: ForwardModel, spec: object) -> LimitState:
    from . import reliability

    if not isinstance(spec, Mapping) or "output" not in spec:
        raise StudyError("reliability: limit_state = {output = ..., threshold = ..., failure = 'below'|'above'} is required")
    _unknown("reliability limit_state", set(spec), {"output", "threshold", "failure"})
    return reliability.LimitState(model, spec["output"], threshold=float(spec.get("threshold", 0.0)), failure=spec.get("failure", "below"))


def _reliability(model: ForwardModel, options: dict[str, Any], rng: SeedLike, ex: _Execution) -> Produced:
    options = dict(options)
    ls = _limit_state(model, options.pop("limit_state", None))
    methods = options.pop("methods", ["form", "sorm", "importance_sampling", "subset_simulation", "monte_carlo"])
    per_method = {m: dict(options.pop(m, {})) for m in reliability_methods()}
    target_cov = options.pop("target_cov", None)
    if target_cov is not None:  # the step's target: every sampling method that takes one stops at it
        from .reliability.registry import STOP_AT_TARGET

        for m, kwargs in per_method.items():
            if m in STOP_AT_TARGET:
                kwargs.setdefault("target_cov", target_cov)
    if options:
        raise StudyError(f"reliability: unknown option(s) {sorted(options)}")
    out: dict[str, xr.Dataset] = {}
    rngs = checks.generator(rng, "reliability: rng").spawn(len(methods))
    form_result = None
    for method, r in zip(methods, rngs):
        if method not in reliability_methods():
            raise StudyError(f"reliability: unknown method {method!r}; valid methods: {sorted(reliability_methods())}")
        kwargs = per_method[method]
        kwargs.setdefault("rng", r)
        if method in _REUSES_FORM and form_result is not None:
            kwargs.setdefault("form_result", form_result)
        kwargs.setdefault("backend", ex.backend)  # every registered method takes one
        result = reliability_methods()[method](ls, **kwargs)
        if method == "form":
            form_result = result
        out[f"reliability_{method}"] = result
    return Produced(out)


def _pf_epistemic(model: ForwardModel, options: dict[str, Any], rng: SeedLike, ex: _Execution) -> Produced:
    from . import reliability

    options = dict(options)
    ls = _limit_state(model, options.pop("limit_state", None))
    method_options = dict(options.pop("method_options", {}))
    return Produced({"pf_epistemic": reliability.pf_epistemic(ls, rng=rng, backend=ex.backend, method_options=method_options, **options)})


def _sensitivity(model: ForwardModel, options: dict[str, Any], rng: SeedLike, ex: _Execution) -> Produced:
    from .sensitivity import compare

    options = dict(options)
    model = _only_outputs(model, options.pop("outputs", None), "sensitivity")
    ds = compare(model, rng=rng, backend=ex.backend, **options)
    if model.name.endswith("_pce"):
        ds.attrs["surrogate"] = model.description
    return Produced({"sensitivity": ds})


def _surrogate(model: ForwardModel, options: dict[str, Any], rng: SeedLike, ex: _Execution) -> Produced:
    """Fit a PCE; the following analyses of the study run on its ``.model``."""
    pce = _fit_pce(model, options, rng, ex)
    validation = pce.validation.copy()
    validation.attrs.update(
        description=f"{pce.model.description}; later analyses use it in place of the model",
        n_runs=pce.n_runs,
    )
    return Produced({"surrogate": validation, "pce_sobol": pce.sobol_indices()}, model=pce.model)


def _fit_pce(model: ForwardModel, options: dict[str, Any], rng: SeedLike, ex: _Execution) -> PolynomialChaos:
    from .pce import fit_pce, split_method_keys

    method, rest = split_method_keys(options)  # the study's flat keys -> the method's option record
    rest.setdefault("batch_size", ex.batch_size)
    return fit_pce(model, method=method, rng=rng, backend=ex.backend, **rest)


def _pce(model: ForwardModel, options: dict[str, Any], rng: SeedLike, ex: _Execution) -> Produced:
    pce = _fit_pce(model, options, rng, ex)
    return Produced({"pce_sobol": pce.sobol_indices(), "pce_validation": pce.validation})


def _stage_surrogate(model: ForwardModel, options: dict[str, Any], rng: SeedLike, ex: _Execution) -> Produced:
    """Replace one stage of a chain by a PCE fitted on what feeds it; report its held-out error and, with
    ``macro = {output, threshold, failure, quantiles, n}``, the macro estimate with the surrogate-error term.
    ``replace_model = true`` makes the following analyses run on the surrogate chain."""
    from .chains.stage_surrogate import macro_estimate, surrogate_stage

    options = dict(options)
    macro = dict(options.pop("macro", {}))
    replace_model = bool(options.pop("replace_model", False))
    if "stage" not in options:
        raise StudyError("stage_surrogate: 'stage' (model name, scale label or index of the stage) is required")
    fit_rng, macro_rng = checks.generator(rng, "stage_surrogate: rng").spawn(2)
    # the expansion's degree options may be given flat (degree = 3) or as a table (pce_options = {...})
    pce_options = {**dict(options.pop("pce_options", {})), **{key: options.pop(key) for key in _STAGE_PCE_KEYS & set(options)}}
    # surrogate_stage refuses a model that is not a chain with a TypeError naming it
    chain_model = surrogate_stage(model, options.pop("stage"), rng=fit_rng, backend=ex.backend,  # type: ignore[arg-type]
                                  pce_options=pce_options, **options)
    bulky = ["holdout_reference", "holdout_surrogate", "candidate_surrogate", "candidate_sd", "candidate_weight"]
    out = {"stage_surrogate": chain_model.surrogate_reports[-1].drop_vars(bulky, errors="ignore")}
    if macro:
        _unknown("stage_surrogate macro", set(macro), {"output", "threshold", "failure", "quantiles", "n", "confidence"})
        out["macro_estimate"] = macro_estimate(chain_model, rng=macro_rng, backend=ex.backend, **macro)
    return Produced(out, model=chain_model if replace_model else None)


def _scale_shares(model: ForwardModel, options: dict[str, Any], rng: SeedLike, ex: _Execution) -> Produced:
    from .chains.shares import scale_shares

    return Produced({"scale_shares": scale_shares(model, rng=rng, backend=ex.backend, **options)})


def _pf_by_scale(model: ForwardModel, options: dict[str, Any], rng: SeedLike, ex: _Execution) -> Produced:
    from .chains.shares import pf_by_scale

    options = dict(options)
    ls = _limit_state(model, options.pop("limit_state", None))
    method_options = dict(options.pop("method_options", {}))
    return Produced({"pf_by_scale": pf_by_scale(ls, rng=rng, method_options=method_options, backend=ex.backend, **options)})


def _value_of_information(model: ForwardModel, options: dict[str, Any], rng: SeedLike, ex: _Execution) -> Produced:
    """Rank measurements / simulations per scale by the macro uncertainty they are expected to remove
    (:func:`uqbridge.chains.voi.value_of_information`); on a calibrated study the posterior is the prior."""
    from dataclasses import fields

    from .chains.voi import Experiment, value_of_information

    options = dict(options)
    specs = options.pop("experiments", None)
    if not isinstance(specs, list) or not specs or not all(isinstance(s, Mapping) for s in specs):
        raise StudyError("value_of_information: experiments must be a non-empty list of tables, e.g. "
                         'experiments = [{ name = "E +-1 %", cost = 1, measure = "E", noise_cv = 0.01, replicates = 5 }]')
    for k, spec in enumerate(specs):
        _unknown(f"value_of_information experiments[{k}]", set(spec), {f.name for f in fields(Experiment)})
    if "output" not in options:
        raise StudyError("value_of_information: output (the macro output whose uncertainty is to be reduced) is required")
    return Produced({"value_of_information": value_of_information(
        model, [Experiment(**spec) for spec in specs], rng=rng, **options)})


_STAGE_PCE_KEYS = frozenset({"degree", "max_degree", "q_norm"})  # stage_surrogate shorthands for pce_options
_PCE_KEYS = frozenset({"method", "n_runs", "design", "degree", "q_norm", "outputs", "max_degree", "target_loo",
                       "max_runs", "batch", "n_holdout", "level", "rule", "sparse", "batch_size"})


def _calibrate(model: ForwardModel, options: dict[str, Any], rng: SeedLike, ex: _Execution) -> Produced:
    """Calibrate the epistemic inputs upstream of observed outputs; later analyses run on the posterior
    model and carry the gates' verdict (see :func:`uqbridge.calibration.stage.calibrate_step`)."""
    from .calibration.stage import calibrate_step

    options = dict(options)
    base = options.pop("_base", None)
    try:
        step = calibrate_step(model, options, rng=rng, base=base)
    except (KeyError, ValueError, FileNotFoundError) as err:
        raise StudyError(str(err.args[0]) if err.args else repr(err)) from err
    return Produced(step.results, model=step.model, calibration=step.verdict)


# the calibrate step's options (uqbridge.calibration.stage.STEP_KEYS, repeated here so that reading a
# study file does not import PyMC; tests/test_study.py checks the two agree)
_CALIBRATE_KEYS = frozenset({
    "data", "observe", "noise", "discrepancy", "path", "draws", "tune", "chains", "target_accept", "mass_matrix",
    "thresholds", "adequacy", "posterior", "correlation", "compare", "validate", "source",
})



ANALYSES: dict[str, Analysis] = {
    "calibrate": Analysis(
        _calibrate, _CALIBRATE_KEYS, ("calibration", "calibration_fit", "validation"),
        "calibration of the epistemic inputs upstream of observed outputs (any stage of a chain); the posterior "
        "replaces the prior for every later analysis"),
    "propagate": Analysis(
        _propagate, frozenset({"n", "design", "quantiles", "confidence", "batch_size", "outputs", "target_cov",
                               "n_replicates"}),
        ("propagate",), "sampling propagation: statistics and quantiles of every output", cli="propagate"),
    "decompose": Analysis(
        _decompose, frozenset({"method", "groups", "n", "n_outer", "n_inner", "design", "confidence", "n_bootstrap",
                               "outputs", "max_failed"}),
        ("decompose",), "law-of-total-variance split: epistemic share, per group or scale"),
    "reliability": Analysis(
        _reliability, frozenset({"limit_state", "methods", "target_cov"}), ("reliability",),
        "probability of failure by the named reliability methods (one table per method's options)"),
    "pf_epistemic": Analysis(
        _pf_epistemic, frozenset({"limit_state", "method", "n_outer", "design", "credible", "confidence", "method_options"}),
        ("pf_epistemic",), "Pf under epistemic uncertainty: the distribution of Pf(E) and its credible interval"),
    "sensitivity": Analysis(
        _sensitivity, frozenset({"methods", "n", "groups", "confidence", "max_width", "outputs"}), ("sensitivity",),
        "global sensitivity indices by several estimators, compared", cli="sensitivity"),
    "pce": Analysis(_pce, _PCE_KEYS, ("pce_sobol", "pce_validation"), "polynomial chaos fit and its Sobol' indices"),
    "surrogate": Analysis(
        _surrogate, _PCE_KEYS, ("surrogate", "pce_sobol"),
        "polynomial chaos fit that replaces the model for the following analyses"),
    "stage_surrogate": Analysis(
        _stage_surrogate, frozenset({"stage", "macro", "replace_model", "n_train", "n_test", "design", "method", "focus",
                                     "enrich", "kind", "pce_options"}) | _STAGE_PCE_KEYS,
        ("stage_surrogate", "macro_estimate"), "surrogate of one chain stage, its held-out error and the macro estimate"),
    "scale_shares": Analysis(
        _scale_shares, frozenset({"method", "outputs", "n", "n_outer", "n_inner", "n_bootstrap", "confidence", "design",
                                  "max_degree"}),
        ("scale_shares",), "share of each output's variance explained by each scale of a chain"),
    "value_of_information": Analysis(
        _value_of_information, frozenset({"experiments", "output", "quantity", "threshold", "n_prior", "n_inner",
                                          "n_data", "n_bootstrap"}),
        ("value_of_information",), "which measurement or simulation, at which scale, removes the most macro "
        "uncertainty per unit cost (preposterior analysis)"),
    "pf_by_scale": Analysis(
        _pf_by_scale, frozenset({"limit_state", "method", "n_outer", "confidence", "n_bootstrap", "method_options"}),
        ("pf_by_scale",), "Pf conditional on each scale's epistemic inputs: which scale's knowledge moves Pf"),
}
"""Analysis kind -> :class:`Analysis`: the only list of what a study can run."""


def analysis_keys(kind: str) -> frozenset[str]:
    """The options a study may give to analysis ``kind`` (reliability: also its methods' names).

    Examples
    --------
    >>> sorted(analysis_keys("propagate"))
    ['batch_size', 'confidence', 'design', 'n', 'n_replicates', 'outputs', 'quantiles', 'target_cov']
    """
    keys = ANALYSES[kind].keys
    return keys | frozenset(reliability_methods()) if kind == "reliability" else keys


def run_study(
    study: Study, *, progress: Callable[[str], None] | None = print, backend: Backend | None = None
) -> dict[str, xr.Dataset]:
    """Run every analysis of ``study``; write ``<output>/<name>/*.nc``, ``summary.json``, ``report.html``.

    Each analysis gets its own random stream spawned from the study seed, so adding an analysis
    does not change the numbers of the others. The model runs on ``backend`` if given (the caller
    closes it), else on the backend of the study's ``[execution]`` table (closed at the end); the
    numbers do not depend on the backend.

    Returns
    -------
    dict
        Result Datasets by name (``<kind>`` or ``<kind>_<method>``).
    """
    from .results import save

    say = progress or (lambda message: None)
    folder = study.folder
    _clear_previous_run(folder)
    folder.mkdir(parents=True, exist_ok=True)
    written: list[str] = []
    _write_summary(folder, {"study": study.name, "source": study.source, "complete": False, "files": written})
    # a run without a seed draws one and stores it, so that it can be replayed (summary.json, every .nc)
    seed = study.seed if study.seed is not None else draw_seed()
    if study.seed is None:
        say(f"seed {seed} (drawn; give seed = {seed} in [study] to replay this run)")
    streams = np.random.default_rng(seed).spawn(len(study.analyses))
    results: dict[str, xr.Dataset] = {}
    timings: dict[str, float] = {}
    start = time.perf_counter()
    model = study.model
    calibrated: dict[str, Any] | None = None  # set by a calibrate step: verdict, inputs, prior model
    owned = backend is None
    if owned:
        backend = make_study_backend(study.execution)
    ex = _Execution(backend, study.execution.get("batch_size"))
    # command models made without workdir= put their per-sample folders under the study's output
    from .external.command import WORKDIR_ENV

    previous_workdir = os.environ.get(WORKDIR_ENV)
    os.environ[WORKDIR_ENV] = os.fspath((folder / "work").resolve())
    try:
        for k, (analysis, stream) in enumerate(zip(study.analyses, streams)):
            record = ANALYSES[analysis["kind"]]
            say(f"[{k + 1}/{len(study.analyses)}] {analysis['label']} ...")
            t0 = time.perf_counter()
            options = analysis["options"]
            if analysis["kind"] == "calibrate":  # its data paths are relative to the study file
                options = {**options, "_base": str(Path(study.source).parent) if study.source else None}
            before = None
            if calibrated is not None and calibrated["compare"]:  # before/after: same random numbers
                before = record.run(calibrated["prior"], options, copy.deepcopy(stream), ex)
            produced = record.run(model, options, stream, ex)
            if produced.calibration is not None:  # later analyses run on the posterior and carry the gates' verdict
                calibrated = {**produced.calibration, "prior": model}
            model = produced.model or model  # a surrogate or a posterior replaces the model from here on
            timings[analysis["label"]] = time.perf_counter() - t0
            outputs = dict(produced.results)
            if produced.calibration is None and calibrated is not None:
                for ds in outputs.values():
                    ds.attrs.update(calibration=calibrated["stamp"], calibrated_inputs=calibrated["inputs"])
                for name, ds in (before.results if before is not None else {}).items():
                    ds.attrs.update(prior_run=1, calibration=calibrated["stamp"], calibrated_inputs=calibrated["inputs"])
                    outputs[f"{name}_prior"] = ds
            for name, ds in outputs.items():
                key = name if name not in results else f"{name}_{k}"
                ds.attrs["study"] = study.name
                ds.attrs["study_seed"] = seed
                ds.attrs["analysis"] = analysis["kind"]
                ds.attrs["result"] = _result_kind(name.removesuffix("_prior"), record)
                ds.attrs.setdefault("label", analysis["label"])
                results[key] = ds
                save(ds, folder / f"{key}.nc")
                written.append(f"{key}.nc")
            # known at once, so that a later run can clear them even if this one stops half-way
            _write_summary(folder, {"study": study.name, "source": study.source, "complete": False, "files": written})
            say(f"      done in {timings[analysis['label']]:.1f} s")
    finally:
        if previous_workdir is None:
            os.environ.pop(WORKDIR_ENV, None)
        else:
            os.environ[WORKDIR_ENV] = previous_workdir
        if owned:
            getattr(backend, "close", lambda: None)()
    from .report.headline import headline, plain_summary

    block = headline(results)
    summary = {
        "summary": plain_summary(block),  # first: what a reader of summary.json needs before any number
        "study": study.name,
        "source": study.source,
        "seed": seed,
        "seed_drawn": study.seed is None,
        "quick": study.quick,
        "execution": {**study.execution, "backend": type(backend).__name__},
        "model": study.model.name,
        "wall_time_s": time.perf_counter() - start,
        "analyses": timings,
        "model_runs": {name: int(ds.attrs.get("n_runs", 0)) for name, ds in results.items()},
        "complete": True,
        "files": sorted(f"{name}.nc" for name in results),
        "results": block,
    }
    _write_summary(folder, summary)
    from .report.study import study_report

    study_report(study, results, folder / "report.html", summary)
    say(f"report: {folder / 'report.html'}")
    return results


def draw_seed() -> int:
    """A fresh integer seed (from the operating system's entropy), for runs that were given none.

    Examples
    --------
    >>> 0 <= draw_seed() < 2**32
    True
    """
    return int(np.random.SeedSequence().entropy % 2**32)  # type: ignore[operator]


def _result_kind(name: str, record: Analysis) -> str:
    """Which of ``record.produces`` the result ``name`` is (reliability_form -> reliability)."""
    for kind in sorted(record.produces, key=len, reverse=True):
        if name == kind or name.startswith(kind + "_"):
            return kind
    return name


def _write_summary(folder: Path, summary: Mapping[str, Any]) -> None:
    temporary = folder / ".summary.json.tmp"
    temporary.write_text(json.dumps(summary, indent=2))
    os.replace(temporary, folder / "summary.json")  # never half a summary, even if killed


def _clear_previous_run(folder: Path) -> None:
    """Remove what an earlier run wrote to ``folder`` (listed in its summary.json), so results of
    two configurations never mix; refuse when the folder holds data no run recorded."""
    if not folder.is_dir():
        return
    summary = folder / "summary.json"
    known: set[str] = set()
    if summary.exists():
        try:
            files = json.loads(summary.read_text()).get("files", [])
        except (ValueError, OSError, AttributeError) as err:
            raise StudyError(
                f"results folder {os.fspath(folder)!r}: its summary.json cannot be read ({err}), so the files of "
                "the earlier run are unknown; remove the folder or choose another one (`uqbridge run --out FOLDER`)"
            ) from None
        # plain file names only: a summary.json must not make the run delete anything outside the folder
        known = {f for f in files if isinstance(f, str) and f == Path(f).name and f.endswith(".nc")}
    stray = sorted(p.name for p in folder.glob("*.nc") if p.name not in known)
    if stray:
        raise StudyError(
            f"results folder {os.fspath(folder)!r} holds {stray}, which no earlier run of a study recorded "
            "(no summary.json lists them); the new results would mix with them: move them away or choose "
            "another folder (`uqbridge run --out FOLDER`)"
        )
    for name in sorted(known) + ["report.html", "summary.json"]:
        (folder / name).unlink(missing_ok=True)
