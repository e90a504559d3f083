"""PCE-based Sobol' indices and the comparison of several sensitivity methods on one run budget.

:func:`compare` runs each method with its own random stream and stacks the results over ``method``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import xarray as xr

from ..model import ForwardModel
from ..results import provenance, seed_attr
from ._common import check_confidence, check_int, check_model, indices_dataset, players
from .salib import _largest_power_of_two, _resolve_groups, delta, fast, morris, pawn, rbd_fast, sobol_indices
from .shapley import shapley_effects

__all__ = ["METHODS", "pce_indices", "compare"]

METHODS = ("sobol", "morris", "fast", "rbd_fast", "delta", "pawn", "shapley", "pce")


def pce_indices(
    model: ForwardModel,
    *,
    n_runs: int | None = None,
    method: str = "lars",
    groups: str | Mapping[str, Sequence[str]] | None = "kind",
    rng: Any = None,
    backend: Any = None,
) -> xr.Dataset:
    """First and total Sobol' indices read from a polynomial chaos expansion's coefficients.

    Fits :func:`uqbridge.pce.fit_pce` (sparse ``method`` on ``n_runs`` runs, degree by corrected
    leave-one-out) and reads the indices exactly from the coefficients (Sudret 2008). There is no
    sampling interval: the accuracy is that of the surrogate, whose corrected LOO error is kept as
    ``loo_error`` over ``output``. Grouped indices (``group_first`` = closed index,
    ``group_total``) as in :func:`sobol_indices`.

    Examples
    --------
    >>> from uqbridge import ForwardModel, Input, Normal, Output
    >>> m = ForwardModel("lin", lambda a, b: {"y": a + 2 * b},
    ...                  [Input("a", Normal(0, 1)), Input("b", Normal(0, 1), "epistemic")], [Output("y")])
    >>> ds = pce_indices(m, n_runs=20, rng=0)
    >>> [round(float(v), 6) for v in ds["first"].sel(output="y")]
    [0.2, 0.8]
    """
    from ..pce import fit_pce  # the PCE package is optional for the SALib methods

    model = check_model(model)
    group_map = _resolve_groups(model, groups)
    chaos = fit_pce(model, method=method, n_runs=n_runs, rng=rng, backend=backend)
    sob = chaos.sobol_indices()
    dims = list(model.inputs.dimension_names)
    first = sob["first"].sel(input=dims).transpose("output", "input").values
    total = sob["total"].sel(input=dims).transpose("output", "input").values
    loo = chaos.validation["corrected_loo_error"] if "corrected_loo_error" in chaos.validation else None
    extra: dict[str, xr.DataArray] = {}
    if loo is not None:
        extra["loo_error"] = xr.DataArray(np.asarray(loo.values, float).reshape(-1), dims="output")
    ds = indices_dataset(
        model, "pce", {"first": first, "total": total}, rng=rng, extra_vars=extra,
        design=f"pce-{method}", n_runs=int(chaos.n_runs), n_failed=int(chaos.n_failed),
        estimator="Sobol' indices from PCE coefficients (Sudret 2008)",
    )
    if group_map:
        g = chaos.grouped_indices(group_map)
        grouped = xr.Dataset(
            {
                "group_first": g["closed"].transpose("output", "group"),
                "group_total": g["total"].transpose("output", "group"),
            }
        ).assign_coords(group_members=("group", [" ".join(group_map[k]) for k in group_map]))
        grouped.attrs = {}
        ds = ds.merge(grouped, combine_attrs="override")
    return ds


def _budgets(model: ForwardModel, n: int, group_count: int) -> dict[str, dict[str, int]]:
    d = model.inputs.dimension
    extra = group_count + 2 if group_count > 1 else 0
    return {
        "sobol": {"n": _largest_power_of_two(n / (d + 2 + extra))},
        "morris": {"n_trajectories": max(2, n // (d + 1))},
        "fast": {"n": max(65, n // d)},
        "rbd_fast": {"n": max(100, n)},
        "delta": {"n": max(100, n)},
        "pawn": {"n": max(100, n)},
        "shapley": {"n_var": max(100, n // 2), "n_perm": max(2, (n // 2) // (3 * max(d - 1, 1)))},
        "pce": {"n_runs": max(40, min(n, 40 * d))},
    }


def _stack(results: dict[str, xr.Dataset]) -> xr.Dataset:
    """Concatenate over ``method``; a variable a method does not estimate is NaN for it."""
    template: dict[str, xr.DataArray] = {}
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
    stacked = xr.concat(filled, dim="method", join="outer", coords="minimal", compat="override", data_vars="all")
    # plain unicode labels (pandas may infer its string dtype, which netCDF writers reject)
    return stacked.assign_coords(method=np.array(list(results), dtype=str))


def compare(
    model: ForwardModel,
    methods: Sequence[str] = ("sobol", "morris", "fast", "rbd_fast", "delta", "pawn", "shapley"),
    *,
    n: int = 2048,
    groups: str | Mapping[str, Sequence[str]] | None = "kind",
    rng: Any = None,
    confidence: float = 0.95,
    backend: Any = None,
) -> xr.Dataset:
    """Run several methods on (about) the same number of model runs and stack them over ``method``.

    Parameters
    ----------
    model : ForwardModel
    methods : sequence of {"sobol", "morris", "fast", "rbd_fast", "delta", "pawn", "shapley", "pce"}
    n : int
        Run budget per method: Sobol' takes the largest power-of-two base size that fits
        (grouped design included), Morris ``n / (d + 1)`` trajectories, eFAST ``n / d`` points per
        curve, RBD-FAST/delta/PAWN ``n`` runs, Shapley half for the variance and half for
        permutations, PCE ``min(n, 40 d)`` runs. Actual counts are in ``n_runs_<method>``.
    groups : passed to the methods that support grouped indices (Sobol', PCE).
    rng : seed or Generator
        Split with ``spawn`` so that each method has its own stream.
    confidence : float
        Level of every interval (PAWN and PCE have none).

    Returns
    -------
    xarray.Dataset
        Every variable of every method over ``method`` (NaN where a method does not estimate it):
        ``first``/``total`` with bounds, ``mu_star``, ``sigma``, ``delta``, ``pawn``, ``shapley``,
        the grouped and convergence variables of Sobol'.

    Examples
    --------
    >>> from models.test_functions import ishigami
    >>> ds = compare(ishigami(), ["sobol", "rbd_fast"], n=1024, rng=0)
    >>> dict(ds["first"].sizes), ds["method"].values.tolist()
    ({'method': 2, 'output': 1, 'input': 3}, ['sobol', 'rbd_fast'])
    """
    model = check_model(model)
    if isinstance(methods, str):
        methods = [methods]
    methods = list(dict.fromkeys(methods))
    unknown = [m for m in methods if m not in METHODS]
    if unknown or not methods:
        raise ValueError(f"methods: unknown {unknown or methods!r}; valid methods: {list(METHODS)}")
    n = check_int("n", n, 100)
    confidence = check_confidence(confidence)
    group_map = _resolve_groups(model, groups)
    budget = _budgets(model, n, len(group_map or {}))
    streams = np.random.default_rng(rng).spawn(len(methods))
    runners = {
        "sobol": lambda r: sobol_indices(
            model, groups=groups, rng=r, confidence=confidence, backend=backend, **budget["sobol"]
        ),
        "morris": lambda r: morris(model, rng=r, confidence=confidence, backend=backend, **budget["morris"]),
        "fast": lambda r: fast(model, rng=r, confidence=confidence, backend=backend, **budget["fast"]),
        "rbd_fast": lambda r: rbd_fast(
            model, rng=r, confidence=confidence, backend=backend, **budget["rbd_fast"]
        ),
        "delta": lambda r: delta(model, rng=r, confidence=confidence, backend=backend, **budget["delta"]),
        "pawn": lambda r: pawn(model, rng=r, backend=backend, **budget["pawn"]),
        "shapley": lambda r: shapley_effects(
            model, rng=r, confidence=confidence, backend=backend, **budget["shapley"]
        ),
        "pce": lambda r: pce_indices(model, groups=groups, rng=r, backend=backend, **budget["pce"]),
    }
    results = {m: runners[m](s) for m, s in zip(methods, streams)}
    stacked = _stack(results)
    labels, _ = players(model)
    stacked = stacked.reindex(input=labels)
    stacked.attrs = provenance(
        model, "compare", seed=seed_attr(rng), methods=methods, n_budget=n,
        **{f"n_runs_{m}": int(ds.attrs.get("n_runs", 0)) for m, ds in results.items()},
        **{f"design_{m}": str(ds.attrs.get("design", "")) for m, ds in results.items()},
        confidence=confidence,
        dependent_inputs=str(results[methods[0]].attrs.get("dependent_inputs", "")),
    )
    return stacked
