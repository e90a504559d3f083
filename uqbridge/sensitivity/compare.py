"""Several sensitivity methods on one run budget, stacked over ``estimator``, with plausibility warnings.

:func:`compare` runs each registered estimator (:data:`uqbridge.sensitivity.ESTIMATORS`) with its own
random stream; :func:`index_warnings` flags intervals too wide to read and estimates that a variance
share cannot take (outside [0, 1], a closed index above its total).
"""

from __future__ import annotations

import warnings
from collections.abc import Hashable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
import xarray as xr

from .. import checks
from ..index_checks import SensitivityWarning, index_warnings
from ..model import ForwardModel
from ..results import provenance, seed_attr
from ._common import check_confidence, check_int, check_model, players
from .registry import ESTIMATORS
from .salib import _largest_power_of_two, _resolve_groups

if TYPE_CHECKING:
    from .._types import SeedLike
    from ..execution.batch import Backend

__all__ = ["METHODS", "SensitivityWarning", "compare", "index_warnings"]

METHODS = tuple(ESTIMATORS)
DIM = "estimator"  # not "method": xarray's .sel(method=...) is the inexact-match option


def _budgets(model: ForwardModel, n: int, group_count: int) -> dict[str, dict[str, int]]:
    d = model.inputs.dimension
    budget = {name: e.budget(n, d) for name, e in ESTIMATORS.items()}
    if group_count > 1:  # the grouped design shares the Sobol' budget: N (d + 2) + N (g + 2) <= n
        budget["sobol"] = {"n": max(8, _largest_power_of_two(n / (d + group_count + 4)))}
    return budget


def _stack(results: dict[str, xr.Dataset]) -> xr.Dataset:
    """Concatenate over ``estimator``; a variable an estimator does not give is NaN for it."""
    template: dict[Hashable, xr.DataArray] = {}
    for ds in results.values():
        for name, var in ds.data_vars.items():
            template.setdefault(name, var)
    filled = []
    for ds in results.values():
        ds = ds.copy()
        for name, var in template.items():
            if name not in ds:
                ds[name] = xr.full_like(var, np.nan, dtype=float)
        ds.attrs = {}
        filled.append(ds)
    stacked = xr.concat(filled, dim=DIM, join="outer", coords="minimal", compat="override", data_vars="all")
    # plain unicode labels (pandas may infer its string dtype, which netCDF writers reject)
    return stacked.assign_coords({DIM: np.array(list(results), dtype=str)})


def compare(
    model: ForwardModel,
    methods: Sequence[str] = ("sobol", "morris", "fast", "rbd_fast", "delta", "pawn", "shapley"),
    *,
    n: int = 2048,
    groups: str | Mapping[str, Sequence[str]] | None = None,
    rng: SeedLike = None,
    confidence: float = 0.95,
    max_width: float = 0.3,
    backend: Backend | None = None,
) -> xr.Dataset:
    """Run several estimators on (at most) the same number of model runs and stack them over ``estimator``.

    Parameters
    ----------
    model : ForwardModel
    methods : sequence of names in :data:`~uqbridge.sensitivity.ESTIMATORS`
        ``sobol``, ``morris``, ``fast``, ``rbd_fast``, ``delta``, ``pawn``, ``shapley``, ``pce``.
    n : int
        Model runs per estimator, an upper limit: Sobol' takes the base size N = the largest power
        of two with N (d + 2) <= n; Morris n / (d + 1) trajectories; eFAST n / d points per curve;
        RBD-FAST, delta, PAWN n runs; Shapley n/2 for the variance and n/2 for permutations; PCE
        min(n, 40 d) runs (:func:`~uqbridge.sensitivity.estimator_help` lists them). The runs
        actually made are in the attributes ``n_runs_<estimator>``, Sobol's base size in
        ``n_base_sobol``.
    groups : "kind", None or mapping
        Grouped Sobol'/PCE indices. ``None`` (default) skips them: a grouped Saltelli design shares
        the Sobol' budget (N (d + g + 4) <= n) and starves both; for the aleatory/epistemic split
        use :func:`uqbridge.decompose` (law of total variance), which the reports do.
    rng : seed or Generator
        Split with ``spawn`` so that each estimator has its own stream.
    confidence : float
        Level of every interval (PAWN and PCE have none).
    max_width : float
        Intervals wider than this are flagged by :func:`index_warnings`.

    Returns
    -------
    xarray.Dataset
        Every variable of every estimator over ``estimator`` (NaN where an estimator does not give
        it): ``first``/``total`` with bounds, ``mu_star``, ``sigma``, ``delta``, ``pawn``,
        ``shapley``, grouped and convergence variables of Sobol'. ``attrs["warnings"]`` lists what
        :func:`index_warnings` found (also issued as :class:`SensitivityWarning`).

    Examples
    --------
    >>> from uqbridge_models.benchmark_functions import ishigami
    >>> ds = compare(ishigami(), ["sobol", "rbd_fast"], n=1024, rng=0)
    >>> dict(ds["first"].sizes), ds["estimator"].values.tolist(), ds.attrs["n_base_sobol"]
    ({'estimator': 2, 'output': 1, 'input': 3}, ['sobol', 'rbd_fast'], 128)
    """
    model = check_model(model)
    if isinstance(methods, str):
        methods = [methods]
    methods = list(dict.fromkeys(methods))
    unknown = [m for m in methods if m not in ESTIMATORS]
    if unknown or not methods:
        raise ValueError(f"methods: unknown {unknown or methods!r}; valid methods: {list(ESTIMATORS)}")
    n = check_int("n", n, 100)
    confidence = check_confidence(confidence)
    group_map = _resolve_groups(model, groups)
    budget = _budgets(model, n, len(group_map or {}))
    streams = checks.generator(rng, "compare: rng").spawn(len(methods))
    results = {}
    for m, stream in zip(methods, streams):
        e = ESTIMATORS[m]
        options: dict[str, Any] = dict(budget[m], rng=stream, backend=backend)
        if e.uses_confidence:
            options["confidence"] = confidence
        if e.grouped:
            options["groups"] = groups
        results[m] = e.function(model, **options)
    stacked = _stack(results)
    labels, _ = players(model)
    stacked = stacked.reindex(input=labels)
    found = index_warnings(stacked, max_width=max_width)
    for text in found:
        warnings.warn(text, SensitivityWarning, stacklevel=2)
    stacked.attrs = provenance(
        model, "compare", seed=seed_attr(rng), methods=methods, n_budget=n,
        n_runs=int(sum(int(ds.attrs.get("n_runs", 0)) for ds in results.values())),
        **{f"n_runs_{m}": int(ds.attrs.get("n_runs", 0)) for m, ds in results.items()},
        **{f"design_{m}": str(ds.attrs.get("design", "")) for m, ds in results.items()},
        **({"n_base_sobol": int(results["sobol"].attrs["n_base"])} if "sobol" in results else {}),
        confidence=confidence,
        warnings="\n".join(found),
        dependent_inputs=str(results[methods[0]].attrs.get("dependent_inputs", "")),
    )
    return stacked


