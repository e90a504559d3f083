"""Sobol' indices read from a polynomial chaos expansion's coefficients (no sampling interval)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

import numpy as np
import xarray as xr

from ..model import ForwardModel
from ._common import check_model, indices_dataset
from .salib import _resolve_groups

if TYPE_CHECKING:
    from .._types import SeedLike
    from ..execution.batch import Backend

__all__ = ["pce_indices"]


def pce_indices(
    model: ForwardModel,
    *,
    n_runs: int | None = None,
    method: str = "lars",
    groups: str | Mapping[str, Sequence[str]] | None = "kind",
    rng: SeedLike = None,
    backend: Backend | None = None,
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
