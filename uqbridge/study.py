"""Declarative studies: a TOML file (model, input overrides, analyses, budgets, seed, output folder).

A study file is data, never executed: every key is checked, unknown keys are rejected with the
valid choices. ``run_study`` runs the analyses in order and writes netCDF data, a summary and an
HTML report to ``<output>/<name>/``.
"""

from __future__ import annotations

import inspect
import json
import os
import time
import tomllib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import xarray as xr

from .distributions import distribution_from_dict
from .model import ForwardModel
from .registry import get_model

__all__ = ["Study", "load_study", "run_study", "ANALYSES"]

_STUDY_KEYS = {"name", "title", "description", "seed", "output"}
_MODEL_KEYS = {"name", "options", "inputs"}
_TOP_KEYS = {"study", "model", "analyses"}


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
            overrides[name] = distribution_from_dict(value) if isinstance(value, Mapping) else float(value)
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
    )


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
            "(e.g. output = \"results\"); choose another place with `uqbridge run --output FOLDER`"
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


def _propagate(model: ForwardModel, options: dict[str, Any], rng: Any) -> dict[str, xr.Dataset]:
    from .propagate import propagate

    options = dict(options)
    n = options.pop("n", 1024)
    return {"propagate": propagate(model, n, seed=rng, **options)}


def _propagate_keys() -> set[str]:
    from .propagate import propagate

    return _keyword_options(propagate, "seed", "backend") | {"n"}


def _decompose(model, options, rng):
    from .variance import decompose

    return {"decompose": decompose(model, rng=rng, **options)}


def _decompose_keys():
    from .variance import decompose

    return _keyword_options(decompose, "rng", "backend", "pce", "epistemic_samples")


_RELIABILITY_METHODS = {
    "form": "form",
    "sorm": "sorm",
    "monte_carlo": "monte_carlo",
    "importance_sampling": "importance_sampling",
    "subset_simulation": "subset_simulation",
    "active_learning": "active_learning",
}


def _limit_state(model, spec):
    from . import reliability

    if not isinstance(spec, Mapping) or "output" not in spec:
        raise StudyError("reliability: limit_state = {output = ..., threshold = ..., failure = 'below'|'above'} is required")
    _unknown("reliability limit_state", set(spec), {"output", "threshold", "failure"})
    return reliability.LimitState(model, spec["output"], threshold=float(spec.get("threshold", 0.0)), failure=spec.get("failure", "below"))


def _reliability(model, options, rng):
    from . import reliability

    options = dict(options)
    ls = _limit_state(model, options.pop("limit_state", None))
    methods = options.pop("methods", ["form", "sorm", "importance_sampling", "subset_simulation", "monte_carlo"])
    per_method = {m: dict(options.pop(m, {})) for m in _RELIABILITY_METHODS}
    if options:
        raise StudyError(f"reliability: unknown option(s) {sorted(options)}")
    out: dict[str, xr.Dataset] = {}
    rngs = np.random.default_rng(rng).spawn(len(methods))
    form_result = None
    for method, r in zip(methods, rngs):
        if method not in _RELIABILITY_METHODS:
            raise StudyError(f"reliability: unknown method {method!r}; valid methods: {sorted(_RELIABILITY_METHODS)}")
        func = getattr(reliability, _RELIABILITY_METHODS[method])
        kwargs = per_method[method]
        params = inspect.signature(func).parameters
        if "rng" in params:
            kwargs.setdefault("rng", r)
        if "form_result" in params and form_result is not None:
            kwargs.setdefault("form_result", form_result)
        result = func(ls, **kwargs)
        if method == "form":
            form_result = result
        out[f"reliability_{method}"] = result
    return out


def _reliability_keys():
    return {"limit_state", "methods", *_RELIABILITY_METHODS}


def _pf_epistemic(model, options, rng):
    from . import reliability

    options = dict(options)
    ls = _limit_state(model, options.pop("limit_state", None))
    method_options = dict(options.pop("method_options", {}))
    return {"pf_epistemic": reliability.pf_epistemic(ls, rng=rng, **options, **method_options)}


def _pf_epistemic_keys():
    from . import reliability

    return _keyword_options(reliability.pf_epistemic, "rng", "samples") | {"limit_state", "method_options"}


def _sensitivity(model, options, rng):
    from .sensitivity import compare

    ds = compare(model, rng=rng, **options)
    if model.name.endswith("_pce"):
        ds.attrs["surrogate"] = model.description
    return {"sensitivity": ds}


def _sensitivity_keys():
    from .sensitivity import compare

    return _keyword_options(compare, "rng", "backend") | {"methods"}


def _surrogate(model, options, rng):
    """Fit a PCE; the following analyses of the study run on its ``.model`` (see ``run_study``)."""
    from .pce import fit_pce

    pce = fit_pce(model, rng=rng, **options)
    validation = pce.validation.copy()
    validation.attrs.update(
        description=f"{pce.model.description}; later analyses use it in place of the model",
        n_runs=pce.n_runs,
    )
    return {"surrogate": validation, "pce_sobol": pce.sobol_indices(), "_model": pce.model}


def _surrogate_keys():
    return _pce_keys()


def _pce(model, options, rng):
    from .pce import fit_pce

    pce = fit_pce(model, rng=rng, **options)
    return {"pce_sobol": pce.sobol_indices(), "pce_validation": pce.validation}


def _pce_keys():
    from .pce import fit_pce

    return _keyword_options(fit_pce, "rng", "samples", "backend")


def _stage_surrogate(model, options, rng):
    """Replace one stage of a chain by a PCE fitted on what feeds it; report its held-out error and, with
    ``macro = {output, threshold, failure, quantiles, n}``, the macro estimate with the surrogate-error term.
    ``replace_model = true`` makes the following analyses run on the surrogate chain."""
    from .stage_surrogate import macro_estimate, surrogate_stage

    options = dict(options)
    macro = dict(options.pop("macro", {}))
    replace_model = bool(options.pop("replace_model", False))
    if "stage" not in options:
        raise StudyError("stage_surrogate: 'stage' (model name, scale label or index of the stage) is required")
    fit_rng, macro_rng = np.random.default_rng(rng).spawn(2)
    chain_model = surrogate_stage(model, options.pop("stage"), rng=fit_rng, **options)
    out = {"stage_surrogate": chain_model.surrogate_reports[-1].drop_vars(["holdout_reference", "holdout_surrogate"])}
    if macro:
        _unknown("stage_surrogate macro", set(macro), {"output", "threshold", "failure", "quantiles", "n", "confidence"})
        out["macro_estimate"] = macro_estimate(chain_model, rng=macro_rng, **macro)
    if replace_model:
        out["_model"] = chain_model
    return out


def _stage_surrogate_keys():
    from .stage_surrogate import surrogate_stage

    return _keyword_options(surrogate_stage, "rng", "backend") | {"stage", "macro", "replace_model", "degree", "max_degree", "q_norm"}


def _scale_shares(model, options, rng):
    from .scales import scale_shares

    return {"scale_shares": scale_shares(model, rng=rng, **options)}


def _scale_shares_keys():
    return {"method", "outputs", "n", "n_outer", "n_inner", "n_bootstrap", "confidence", "design", "max_degree"}


def _pf_by_scale(model, options, rng):
    from .scales import pf_by_scale

    options = dict(options)
    ls = _limit_state(model, options.pop("limit_state", None))
    method_options = dict(options.pop("method_options", {}))
    return {"pf_by_scale": pf_by_scale(ls, rng=rng, **options, **method_options)}


def _pf_by_scale_keys():
    return {"limit_state", "method", "n_outer", "confidence", "n_bootstrap", "method_options"}


ANALYSES: dict[str, tuple[Callable[..., dict[str, xr.Dataset]], Callable[[], set[str]]]] = {
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


def run_study(study: Study, *, progress: Callable[[str], None] | None = print) -> dict[str, xr.Dataset]:
    """Run every analysis of ``study``; write ``<output>/<name>/*.nc``, ``summary.json``, ``report.html``.

    Each analysis gets its own random stream spawned from the study seed, so adding an analysis
    does not change the numbers of the others.

    Returns
    -------
    dict
        Result Datasets by name (``<kind>`` or ``<kind>_<method>``).
    """
    from .results import save

    say = progress or (lambda message: None)
    folder = study.folder
    folder.mkdir(parents=True, exist_ok=True)
    streams = np.random.default_rng(study.seed).spawn(len(study.analyses))
    results: dict[str, xr.Dataset] = {}
    timings: dict[str, float] = {}
    start = time.perf_counter()
    model = study.model
    for k, (analysis, stream) in enumerate(zip(study.analyses, streams)):
        run, _ = ANALYSES[analysis["kind"]]
        say(f"[{k + 1}/{len(study.analyses)}] {analysis['label']} ...")
        t0 = time.perf_counter()
        produced = run(model, analysis["options"], stream)
        model = produced.pop("_model", model)  # a surrogate replaces the model from here on
        timings[analysis["label"]] = time.perf_counter() - t0
        for name, ds in produced.items():
            key = name if name not in results else f"{name}_{k}"
            ds.attrs["study"] = study.name
            ds.attrs["analysis"] = analysis["kind"]
            results[key] = ds
            save(ds, folder / f"{key}.nc")
        say(f"      done in {timings[analysis['label']]:.1f} s")
    from .report.headline import headline

    summary = {
        "study": study.name,
        "source": study.source,
        "seed": study.seed,
        "quick": study.quick,
        "model": study.model.name,
        "wall_time_s": time.perf_counter() - start,
        "analyses": timings,
        "model_runs": {name: int(ds.attrs.get("n_runs", 0)) for name, ds in results.items()},
        "files": sorted(f"{name}.nc" for name in results),
        "results": headline(results),
    }
    (folder / "summary.json").write_text(json.dumps(summary, indent=2))
    from .report.study import study_report

    study_report(study, results, folder / "report.html", summary)
    say(f"report: {folder / 'report.html'}")
    return results
