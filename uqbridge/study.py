"""Declarative studies: a TOML file (model, input overrides, analyses, budgets, seed, output folder).

A study file is data, never executed: every key is checked, unknown keys are rejected with the
valid choices. ``run_study`` runs the analyses in order and writes netCDF data, a summary and an
HTML report to ``<output>/<name>/``. An optional ``[execution]`` table (``backend``, ``workers``,
``address``, ``timeout``, ``batch_size``) says where the model runs: it is passed to every
analysis that evaluates through a backend.
"""

from __future__ import annotations

import copy
import inspect
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
from .registry import get_model

if TYPE_CHECKING:
    from .pce import PolynomialChaos
    from .reliability import LimitState

__all__ = ["ANALYSES", "Study", "check_execution", "load_study", "run_study"]

_STUDY_KEYS = {"name", "title", "description", "seed", "output"}
_MODEL_KEYS = {"name", "options", "inputs"}
_TOP_KEYS = {"study", "model", "analyses", "execution"}
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
    if "name" not in model_spec or not isinstance(model_spec["name"], str):
        raise StudyError(f"{where} [model]: 'name' (a registered model, see `uqbridge models`) is required")
    _table(model_spec.get("options", {}), f"{where} [model] options", "write e.g. options = { a = 7.0 }")
    _table(model_spec.get("inputs", {}), f"{where} [model] inputs",
           "write e.g. inputs = { x3 = 0.0 } or [model.inputs] x3 = { kind = \"Normal\", mu = 0, sigma = 1 }")
    try:
        model = get_model(model_spec["name"], **model_spec.get("options", {}))
    except (KeyError, TypeError) as err:
        raise StudyError(f"{where} [model]: {err.args[0] if err.args else err}") from None
    overrides = {}
    for name, value in model_spec.get("inputs", {}).items():
        if name not in model.inputs:
            raise StudyError(
                f"{where} [model.inputs]: unknown input {name!r}; inputs of {model.name!r}: {list(model.inputs.names)}"
            )
        try:
            overrides[name] = distribution_from_dict(dict(value)) if isinstance(value, Mapping) else float(value)
        except (ValueError, TypeError) as err:
            raise StudyError(f"{where} [model.inputs] {name}: {err}") from None
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


def _check_analysis(analysis: dict[str, Any], where: str, quick: bool) -> dict[str, Any]:
    kind = analysis.pop("kind", None)
    if kind not in ANALYSES:
        raise StudyError(f"{where}: kind must be one of {sorted(ANALYSES)}, got {kind!r}")
    overrides = analysis.pop("quick", {})
    if not isinstance(overrides, Mapping):
        raise StudyError(f"{where}: 'quick' must be a table of reduced-budget overrides")
    label = analysis.pop("label", kind)
    _, valid = ANALYSES[kind]
    valid_keys = valid()
    _unknown(f"{where} ({kind})", set(analysis), valid_keys)
    _unknown(f"{where} ({kind}) quick", set(overrides), valid_keys)
    _check_values(analysis, f"{where} ({kind})")
    _check_values(overrides, f"{where} ({kind}) quick")
    if quick:
        analysis.update(overrides)
    return {"kind": kind, "label": label, "options": analysis}


# ---- analyses ------------------------------------------------------------------------------------
def _keyword_options(func: Callable[..., Any], *exclude: str) -> set[str]:
    params = inspect.signature(func).parameters
    return {n for n, p in params.items() if p.kind is inspect.Parameter.KEYWORD_ONLY and n not in exclude}


@dataclass(frozen=True)
class _Execution:
    """Where the analyses evaluate the model: passed to every analysis function that takes it."""

    backend: Any = None
    batch_size: int | None = None


def _propagate(model: ForwardModel, options: dict[str, Any], rng: Any, ex: _Execution) -> dict[str, xr.Dataset]:
    from .propagate import propagate

    options = dict(options)
    n = options.pop("n", 1024)
    options.setdefault("batch_size", ex.batch_size)
    return {"propagate": propagate(model, n, rng=rng, backend=ex.backend, **options)}


def _propagate_keys() -> set[str]:
    from .propagate import propagate

    return _keyword_options(propagate, "rng", "seed", "backend", "progress") | {"n"}


def _decompose(model: ForwardModel, options: dict[str, Any], rng: Any, ex: _Execution) -> dict[str, xr.Dataset]:
    from .variance import decompose

    return {"decompose": decompose(model, rng=rng, backend=ex.backend, **options)}


def _decompose_keys() -> set[str]:
    from .variance import decompose

    return _keyword_options(decompose, "rng", "backend", "pce", "epistemic_samples")




def reliability_methods() -> dict[str, Callable[..., xr.Dataset]]:
    """The reliability methods a study may name: :data:`uqbridge.reliability.registry.METHODS`."""
    from .reliability.registry import METHODS

    return METHODS


def _limit_state(model: ForwardModel, spec: object) -> LimitState:
    from . import reliability

    if not isinstance(spec, Mapping) or "output" not in spec:
        raise StudyError("reliability: limit_state = {output = ..., threshold = ..., failure = 'below'|'above'} is required")
    _unknown("reliability limit_state", set(spec), {"output", "threshold", "failure"})
    return reliability.LimitState(model, spec["output"], threshold=float(spec.get("threshold", 0.0)), failure=spec.get("failure", "below"))


def _reliability(model: ForwardModel, options: dict[str, Any], rng: Any, ex: _Execution) -> dict[str, xr.Dataset]:
    options = dict(options)
    ls = _limit_state(model, options.pop("limit_state", None))
    methods = options.pop("methods", ["form", "sorm", "importance_sampling", "subset_simulation", "monte_carlo"])
    per_method = {m: dict(options.pop(m, {})) for m in reliability_methods()}
    if options:
        raise StudyError(f"reliability: unknown option(s) {sorted(options)}")
    out: dict[str, xr.Dataset] = {}
    rngs = checks.generator(rng, "reliability: rng").spawn(len(methods))
    form_result = None
    for method, r in zip(methods, rngs):
        if method not in reliability_methods():
            raise StudyError(f"reliability: unknown method {method!r}; valid methods: {sorted(reliability_methods())}")
        func = reliability_methods()[method]
        kwargs = per_method[method]
        params = inspect.signature(func).parameters
        if "rng" in params:
            kwargs.setdefault("rng", r)
        if "form_result" in params and form_result is not None:
            kwargs.setdefault("form_result", form_result)
        kwargs.setdefault("backend", ex.backend)  # every registered method takes one
        result = func(ls, **kwargs)
        if method == "form":
            form_result = result
        out[f"reliability_{method}"] = result
    return out


def _reliability_keys() -> set[str]:
    return {"limit_state", "methods", *reliability_methods()}


def _pf_epistemic(model: ForwardModel, options: dict[str, Any], rng: Any, ex: _Execution) -> dict[str, xr.Dataset]:
    from . import reliability

    options = dict(options)
    ls = _limit_state(model, options.pop("limit_state", None))
    method_options = dict(options.pop("method_options", {}))
    return {"pf_epistemic": reliability.pf_epistemic(ls, rng=rng, backend=ex.backend, **options, **method_options)}


def _pf_epistemic_keys() -> set[str]:
    from . import reliability

    return _keyword_options(reliability.pf_epistemic, "rng", "samples", "backend") | {"limit_state", "method_options"}


def _sensitivity(model: ForwardModel, options: dict[str, Any], rng: Any, ex: _Execution) -> dict[str, xr.Dataset]:
    from .sensitivity import compare

    ds = compare(model, rng=rng, backend=ex.backend, **options)
    if model.name.endswith("_pce"):
        ds.attrs["surrogate"] = model.description
    return {"sensitivity": ds}


def _sensitivity_keys() -> set[str]:
    from .sensitivity import compare

    return _keyword_options(compare, "rng", "backend") | {"methods"}


def _surrogate(model: ForwardModel, options: dict[str, Any], rng: Any, ex: _Execution) -> dict[str, xr.Dataset | ForwardModel]:
    """Fit a PCE; the following analyses of the study run on its ``.model`` (see ``run_study``)."""
    pce = _fit_pce(model, options, rng, ex)
    validation = pce.validation.copy()
    validation.attrs.update(
        description=f"{pce.model.description}; later analyses use it in place of the model",
        n_runs=pce.n_runs,
    )
    return {"surrogate": validation, "pce_sobol": pce.sobol_indices(), "_model": pce.model}


def _surrogate_keys() -> set[str]:
    return _pce_keys()


def _fit_pce(model: ForwardModel, options: dict[str, Any], rng: Any, ex: _Execution) -> PolynomialChaos:
    from .pce import fit_pce

    options = dict(options)
    options.setdefault("batch_size", ex.batch_size)
    return fit_pce(model, rng=rng, backend=ex.backend, **options)


def _pce(model: ForwardModel, options: dict[str, Any], rng: Any, ex: _Execution) -> dict[str, xr.Dataset]:
    pce = _fit_pce(model, options, rng, ex)
    return {"pce_sobol": pce.sobol_indices(), "pce_validation": pce.validation}


def _pce_keys() -> set[str]:
    from .pce import fit_pce

    return _keyword_options(fit_pce, "rng", "samples", "backend")


def _stage_surrogate(model: ForwardModel, options: dict[str, Any], rng: Any, ex: _Execution) -> dict[str, xr.Dataset | ForwardModel]:
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
    # surrogate_stage refuses a model that is not a chain with a TypeError naming it
    chain_model = surrogate_stage(model, options.pop("stage"), rng=fit_rng, backend=ex.backend, **options)  # type: ignore[arg-type]
    out = {"stage_surrogate": chain_model.surrogate_reports[-1].drop_vars(["holdout_reference", "holdout_surrogate"])}
    if macro:
        _unknown("stage_surrogate macro", set(macro), {"output", "threshold", "failure", "quantiles", "n", "confidence"})
        out["macro_estimate"] = macro_estimate(chain_model, rng=macro_rng, backend=ex.backend, **macro)
    if replace_model:
        out["_model"] = chain_model
    return out


def _stage_surrogate_keys() -> set[str]:
    from .chains.stage_surrogate import surrogate_stage

    return _keyword_options(surrogate_stage, "rng", "backend") | {"stage", "macro", "replace_model", "degree", "max_degree", "q_norm"}


def _scale_shares(model: ForwardModel, options: dict[str, Any], rng: Any, ex: _Execution) -> dict[str, xr.Dataset]:  # no backend argument (yet)
    from .chains.shares import scale_shares

    return {"scale_shares": scale_shares(model, rng=rng, **options)}


def _scale_shares_keys() -> set[str]:
    return {"method", "outputs", "n", "n_outer", "n_inner", "n_bootstrap", "confidence", "design", "max_degree"}


def _pf_by_scale(model: ForwardModel, options: dict[str, Any], rng: Any, ex: _Execution) -> dict[str, xr.Dataset]:  # no backend argument (yet)
    from .chains.shares import pf_by_scale

    options = dict(options)
    ls = _limit_state(model, options.pop("limit_state", None))
    method_options = dict(options.pop("method_options", {}))
    return {"pf_by_scale": pf_by_scale(ls, rng=rng, **options, **method_options)}


def _pf_by_scale_keys() -> set[str]:
    return {"limit_state", "method", "n_outer", "confidence", "n_bootstrap", "method_options"}


def _calibrate(model: ForwardModel, options: dict[str, Any], rng: Any, ex: _Execution) -> dict[str, Any]:
    """Calibrate the epistemic inputs upstream of observed outputs; later analyses run on the posterior
    model and carry the gates' verdict (see :func:`uqbridge.calibration.stage.calibrate_step`)."""
    from .calibration.stage import calibrate_step

    options = dict(options)
    base = options.pop("_base", None)
    try:
        return calibrate_step(model, options, rng=rng, base=base)
    except (KeyError, ValueError, FileNotFoundError) as err:
        raise StudyError(str(err.args[0]) if err.args else repr(err)) from err


def _calibrate_keys() -> set[str]:
    from .calibration.stage import STEP_KEYS

    return set(STEP_KEYS)


ANALYSES: dict[str, tuple[Callable[..., dict[str, Any]], Callable[[], set[str]]]] = {
    "calibrate": (_calibrate, _calibrate_keys),
    "propagate": (_propagate, _propagate_keys),
    "decompose": (_decompose, _decompose_keys),
    "reliability": (_reliability, _reliability_keys),
    "pf_epistemic": (_pf_epistemic, _pf_epistemic_keys),
    "sensitivity": (_sensitivity, _sensitivity_keys),
    "pce": (_pce, _pce_keys),
    "surrogate": (_surrogate, _surrogate_keys),
    "stage_surrogate": (_stage_surrogate, _stage_surrogate_keys),
    "scale_shares": (_scale_shares, _scale_shares_keys),
    "pf_by_scale": (_pf_by_scale, _pf_by_scale_keys),
}


def run_study(
    study: Study, *, progress: Callable[[str], None] | None = print, backend: Any = None
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
    streams = np.random.default_rng(study.seed).spawn(len(study.analyses))
    results: dict[str, xr.Dataset] = {}
    timings: dict[str, float] = {}
    start = time.perf_counter()
    model = study.model
    calibrated: dict[str, Any] | None = None  # set by a calibrate step: verdict, inputs, prior model
    owned = backend is None
    if owned:
        backend = make_study_backend(study.execution)
    ex = _Execution(backend, study.execution.get("batch_size"))
    try:
        for k, (analysis, stream) in enumerate(zip(study.analyses, streams)):
            run, _ = ANALYSES[analysis["kind"]]
            say(f"[{k + 1}/{len(study.analyses)}] {analysis['label']} ...")
            t0 = time.perf_counter()
            options = analysis["options"]
            if analysis["kind"] == "calibrate":  # its data paths are relative to the study file
                options = {**options, "_base": str(Path(study.source).parent) if study.source else None}
            if calibrated is not None and calibrated["compare"]:  # before/after: same random numbers
                before = run(calibrated["prior"], options, copy.deepcopy(stream), ex)
                before.pop("_model", None)
            else:
                before = {}
            produced = run(model, options, stream, ex)
            step = produced.pop("_calibration", None)
            if step is not None:  # later analyses run on the posterior and carry the gates' verdict
                calibrated = {**step, "prior": model}
            model = produced.pop("_model", model)  # a surrogate or a posterior replaces the model from here on
            timings[analysis["label"]] = time.perf_counter() - t0
            if step is None and calibrated is not None:
                for ds in produced.values():
                    ds.attrs.update(calibration=calibrated["stamp"], calibrated_inputs=calibrated["inputs"])
                for name, ds in before.items():
                    ds.attrs.update(prior_run=1, calibration=calibrated["stamp"], calibrated_inputs=calibrated["inputs"])
                    produced[f"{name}_prior"] = ds
            for name, ds in produced.items():
                key = name if name not in results else f"{name}_{k}"
                ds.attrs["study"] = study.name
                # a calibrate step's own datasets name themselves (calibrate / validation)
                keep = analysis["kind"] == "calibrate" and "analysis" in ds.attrs
                ds.attrs["analysis"] = ds.attrs["analysis"] if keep else analysis["kind"]
                results[key] = ds
                save(ds, folder / f"{key}.nc")
                written.append(f"{key}.nc")
            # known at once, so that a later run can clear them even if this one stops half-way
            _write_summary(folder, {"study": study.name, "source": study.source, "complete": False, "files": written})
            say(f"      done in {timings[analysis['label']]:.1f} s")
    finally:
        if owned:
            getattr(backend, "close", lambda: None)()
    from .report.headline import headline

    summary = {
        "study": study.name,
        "source": study.source,
        "seed": study.seed,
        "quick": study.quick,
        "execution": {**study.execution, "backend": type(backend).__name__},
        "model": study.model.name,
        "wall_time_s": time.perf_counter() - start,
        "analyses": timings,
        "model_runs": {name: int(ds.attrs.get("n_runs", 0)) for name, ds in results.items()},
        "complete": True,
        "files": sorted(f"{name}.nc" for name in results),
        "results": headline(results),
    }
    _write_summary(folder, summary)
    from .report.study import study_report

    study_report(study, results, folder / "report.html", summary)
    say(f"report: {folder / 'report.html'}")
    return results


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
